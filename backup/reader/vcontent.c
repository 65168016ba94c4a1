/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vcontent.c - the newest snapshot against the source folder (see
 * vcontent.h): sb_restore() into a temporary folder, then a walk of both
 * trees in name order. It does not check seals (verify.c does).
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/reader.h"
#include "sealbox/select.h"
#include "sealbox/vcontent.h"

struct cmp {
	const struct sb_vcontent_opts *o;
	struct sb_select *sel; /* the backups' excludes, on the source side */
	uint64_t diffs;
	bool root;
	char a[65536], b[65536]; /* read buffers */
};

static void diff(struct cmp *c, const char *rel, const char *what)
{
	c->diffs++;
	if (c->o->report)
		c->o->report(c->o->ctx, *rel ? rel : ".", what);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sorted entry names of dir (without . and ..); NULL-terminated, caller frees. */
static char **names_of(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n + 1 >= cap) {
			cap = cap ? cap * 2 : 32;
			if (!(nv = realloc(v, cap * sizeof(*v))))
				break;
			v = nv;
		}
		v[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	if (v)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static bool same_bytes(struct cmp *c, const char *pa, const char *pb)
{
	int fa = open(pa, O_RDONLY | O_CLOEXEC), fb = open(pb, O_RDONLY | O_CLOEXEC);
	bool same = fa >= 0 && fb >= 0;
	ssize_t na, nb;

	while (same) {
		na = read(fa, c->a, sizeof(c->a));
		nb = na > 0 ? read(fb, c->b, (size_t)na) : read(fb, c->b, 1);
		if (na < 0 || nb != (na > 0 ? na : 0) || (na > 0 && memcmp(c->a, c->b, (size_t)na)))
			same = false;
		if (na <= 0)
			break;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

static void cmp_tree(struct cmp *c, const char *src, const char *got, const char *rel);

static void cmp_node(struct cmp *c, const char *src, const char *got, const char *rel)
{
	struct stat s, g;
	char msg[256], la[4096], lb[4096];
	ssize_t n1, n2;

	if (lstat(src, &s) < 0 || lstat(got, &g) < 0) {
		diff(c, rel, "cannot be read");
		return;
	}
	if ((s.st_mode & S_IFMT) != (g.st_mode & S_IFMT)) {
		diff(c, rel, "type differs");
		return;
	}
	if (!S_ISLNK(s.st_mode) && (s.st_mode & 07777) != (g.st_mode & 07777)) {
		snprintf(msg, sizeof(msg), "mode %04o, backup %04o", (unsigned)(s.st_mode & 07777),
			 (unsigned)(g.st_mode & 07777));
		diff(c, rel, msg);
	}
	if (c->root && (s.st_uid != g.st_uid || s.st_gid != g.st_gid))
		diff(c, rel, "owner differs");
	if (!S_ISDIR(s.st_mode) && s.st_mtime != g.st_mtime) {
		snprintf(msg, sizeof(msg), "mtime %lld, backup %lld", (long long)s.st_mtime,
			 (long long)g.st_mtime);
		diff(c, rel, msg);
	}
	if (S_ISREG(s.st_mode)) {
		if (s.st_size != g.st_size) {
			snprintf(msg, sizeof(msg), "size %lld, backup %lld", (long long)s.st_size,
				 (long long)g.st_size);
			diff(c, rel, msg);
		} else if (!same_bytes(c, src, got)) {
			diff(c, rel, "contents differ");
		}
	} else if (S_ISLNK(s.st_mode)) {
		n1 = readlink(src, la, sizeof(la));
		n2 = readlink(got, lb, sizeof(lb));
		if (n1 != n2 || n1 < 0 || memcmp(la, lb, (size_t)n1))
			diff(c, rel, "symlink target differs");
	} else if (S_ISDIR(s.st_mode)) {
		cmp_tree(c, src, got, rel);
	} else if ((S_ISCHR(s.st_mode) || S_ISBLK(s.st_mode)) && s.st_rdev != g.st_rdev) {
		diff(c, rel, "device number differs");
	}
}

static void cmp_tree(struct cmp *c, const char *src, const char *got, const char *rel)
{
	size_t na, nb, i = 0, j = 0;
	char **a = names_of(src, &na), **b = names_of(got, &nb);
	char *ps, *pg, *pr;

	while (i < na || j < nb) {
		int k = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
		const char *name = k <= 0 ? a[i] : b[j];

		if (asprintf(&pr, "%s%s%s", rel, *rel ? "/" : "", name) < 0)
			break;
		if (c->sel && sb_select_excluded(c->sel, pr, strlen(pr))) {
			/* not backed up on purpose: neither side counts */
		} else if (k < 0) {
			diff(c, pr, "in the source, not in the backup");
		} else if (k > 0) {
			diff(c, pr, "in the backup, not in the source");
		} else if (asprintf(&ps, "%s/%s", src, name) >= 0) {
			if (asprintf(&pg, "%s/%s", got, name) >= 0) {
				cmp_node(c, ps, pg, pr);
				free(pg);
			}
			free(ps);
		}
		free(pr);
		if (k <= 0)
			free(a[i++]);
		if (k >= 0)
			free(b[j++]);
	}
	free(a);
	free(b);
}

/*
 * Remove name below the folder parent, everything in it first; folders are
 * made 0700 before they are opened, so a mode-0000 folder of the snapshot
 * goes too (nftw would report it unreadable and leave it).
 */
static void remove_at(int parent, const char *name, const char *top)
{
	struct dirent *de;
	struct stat st;
	bool dir;
	DIR *d;
	int fd;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	dir = S_ISDIR(st.st_mode);
	if (dir) {
		(void)!fchmodat(parent, name, 0700,
				0); /* else the opendir below fails, said once */
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d && fd >= 0)
			close(fd);
		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				remove_at(dirfd(d), de->d_name, top);
		if (d)
			closedir(d);
	}
	if (unlinkat(parent, name, dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
		sb_warn("cannot remove %s from %s: %s", sb_log_str(name, strlen(name)), top,
			strerror(errno));
}

/* The source's excludes, as the backup applied them. */
static int make_select(const struct sb_vcontent_opts *o, struct sb_select **out)
{
	char *abs;
	int rc;

	*out = NULL;
	if (!o->nexcludes)
		return 0;
	if (!(abs = realpath(o->source, NULL))) {
		sb_error("source %s: %s", o->source, strerror(errno));
		return sb_err_from_errno(errno);
	}
	rc = sb_select_new(abs, o->excludes, o->nexcludes, out);
	free(abs);
	return rc;
}

int sb_vcontent(const struct sb_vcontent_opts *o, uint64_t *diffs)
{
	struct cmp *c = calloc(1, sizeof(*c));
	struct sb_restore_opts ro = {.gate = o->gate,
				     .target = o->target,
				     .crypto = o->crypto,
				     .sign_fpr = o->sign_fpr,
				     .time = time(NULL)};
	struct sb_restore_stats rs;
	const char *tmp = getenv("TMPDIR");
	char dir[4096], dest[4200];
	int rc;

	*diffs = 0;
	if (!c)
		return SB_ERR_NOMEM;
	snprintf(dir, sizeof(dir), "%s/sealbox-verify.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		sb_error("cannot create a temporary folder in %s: %s", tmp ? tmp : "/tmp",
			 strerror(errno));
		free(c);
		return sb_err_from_errno(errno);
	}
	snprintf(dest, sizeof(dest), "%s/snapshot", dir);
	ro.dest = dest;
	ro.tmpdir = dir;
	rc = make_select(o, &c->sel);
	if (!rc)
		rc = sb_restore(&ro, &rs);
	if (!rc) {
		c->o = o;
		c->root = geteuid() == 0;
		cmp_node(c, o->source, dest, "");
		*diffs = c->diffs;
	}
	remove_at(AT_FDCWD, dir, dir);
	sb_select_free(c->sel);
	free(c);
	return rc;
}
