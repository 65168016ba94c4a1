/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * restore.c - `sealbox restore` (see reader.h): merges the set streams of a
 * chain up to the requested time (§7.1), rebuilds each object (snapshot, then
 * librsync patches), writes it under a temporary name with its metadata, and
 * renames everything into place only once every volume verified.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sealbox/chain.h"
#include "sealbox/delta.h"
#include "sealbox/error.h"
#include "sealbox/idname.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/progress.h"
#include "sealbox/reader.h"
#include "sealbox/timefmt.h"
#include "sealbox/verify.h"
#include "sealbox/setstream.h"

struct pending {
	char *tmp;   /* temporary path */
	char *final; /* path it is renamed to */
};

struct dirmeta {
	char *path;
	struct sb_tar_entry hdr;
};

struct restore {
	const struct sb_restore_opts *o;
	struct sb_restore_stats *st;
	const char *prefix;    /* "" or the path restored */
	struct sb_buf outroot; /* where prefix lands */
	struct pending *pend;
	size_t npend, cappend;
	struct dirmeta *dirs;
	size_t ndirs, capdirs;
	unsigned long seq;
	bool root; /* can chown */
	unsigned char buf[1 << 16];
};

static int out_path(struct restore *r, const struct sb_buf *path, struct sb_buf *out)
{
	size_t plen = strlen(r->prefix);
	int rc = sb_buf_set(out, r->outroot.data, r->outroot.len);

	if (!rc && path->len > plen) {
		const char *rest = (const char *)path->data + plen + (plen ? 1 : 0);
		size_t rlen = path->len - plen - (plen ? 1 : 0);

		rc = sb_buf_addch(out, '/');
		if (!rc)
			rc = sb_buf_add(out, rest, rlen);
	}
	return rc;
}

/* A temporary name beside final. */
static int tmp_path(struct restore *r, const char *final, struct sb_buf *out)
{
	const char *slash = strrchr(final, '/');
	size_t dlen = slash ? (size_t)(slash - final) + 1 : 0;
	int rc = sb_buf_set(out, final, dlen);

	if (!rc)
		rc = sb_buf_addf(out, ".sealbox-restore.%d.%lu", (int)getpid(), r->seq++);
	return rc;
}

static int add_pending(struct restore *r, const char *tmp, const char *final)
{
	if (r->npend == r->cappend) {
		size_t cap = r->cappend ? r->cappend * 2 : 256;
		struct pending *p = realloc(r->pend, cap * sizeof(*p));
		if (!p)
			return SB_ERR_NOMEM;
		r->pend = p;
		r->cappend = cap;
	}
	r->pend[r->npend].tmp = strdup(tmp);
	r->pend[r->npend].final = strdup(final);
	if (!r->pend[r->npend].tmp || !r->pend[r->npend].final) {
		free(r->pend[r->npend].tmp);
		free(r->pend[r->npend].final);
		return SB_ERR_NOMEM;
	}
	r->npend++;
	return 0;
}

static void owner(struct restore *r, const struct sb_tar_entry *h, uid_t *uid, gid_t *gid)
{
	if (!sb_name_uid(h->uname, uid))
		*uid = (uid_t)h->uid;
	if (!sb_name_gid(h->gname, gid))
		*gid = (gid_t)h->gid;
}

/* Owner, mode and mtime of a path (not following symlinks). */
static void apply_meta(struct restore *r, const char *path, const struct sb_tar_entry *h)
{
	struct timespec ts[2] = {{h->mtime, 0}, {h->mtime, 0}};
	uid_t uid;
	gid_t gid;

	if (r->root) {
		owner(r, h, &uid, &gid);
		if (lchown(path, uid, gid) < 0)
			sb_warn("cannot set the owner of %s: %s", path, strerror(errno));
	}
	if (h->type != SB_TAR_SYMLINK && chmod(path, h->mode & 07777) < 0)
		sb_warn("cannot set the mode of %s: %s", path, strerror(errno));
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
		sb_warn("cannot set the time of %s: %s", path, strerror(errno));
}

static int write_stream(struct restore *r, int fd, struct sb_reader in, uint64_t *len)
{
	ssize_t n;
	int rc;

	*len = 0;
	while ((n = in.read(in.ctx, r->buf, sizeof(r->buf))) > 0) {
		if ((rc = sb_fd_write(&fd, r->buf, (size_t)n)))
			return rc;
		*len += (uint64_t)n;
	}
	return (int)n;
}

/* Rebuild a regular file: snapshot data, then each delta in turn. */
static int rebuild_file(struct restore *r, struct setstream **ss, size_t base, size_t last,
			const char *tmp)
{
	struct sb_buf t2 = SB_BUF_INIT;
	uint64_t len = 0;
	int fd, nfd, rc;
	size_t i;

	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		sb_error("cannot create %s: %s", tmp, strerror(errno));
		return sb_err_from_errno(errno);
	}
	rc = write_stream(r, fd, (struct sb_reader){ss_read, ss[base]}, &len);
	for (i = base + 1; !rc && i <= last; i++) {
		/* patch into a new file, then replace */
		if ((rc = sb_buf_addf(&t2, "%s.p", tmp)))
			break;
		nfd = open((char *)t2.data, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (nfd < 0) {
			sb_error("cannot create %s: %s", (char *)t2.data, strerror(errno));
			rc = sb_err_from_errno(errno);
			break;
		}
		rc = sb_patch(fd, (struct sb_reader){ss_read, ss[i]},
			      (struct sb_writer){sb_fd_write, &nfd}, &len);
		close(fd);
		fd = nfd;
		if (!rc && rename((char *)t2.data, tmp) < 0)
			rc = sb_err_from_errno(errno);
		if (rc)
			unlink((char *)t2.data);
		sb_buf_reset(&t2);
	}
	sb_buf_release(&t2);
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = sb_err_from_errno(errno);
	r->st->bytes += len;
	return rc;
}

static int add_dir(struct restore *r, const char *path, const struct sb_tar_entry *h)
{
	struct dirmeta *d;

	if (r->ndirs == r->capdirs) {
		size_t cap = r->capdirs ? r->capdirs * 2 : 64;
		d = realloc(r->dirs, cap * sizeof(*d));
		if (!d)
			return SB_ERR_NOMEM;
		r->dirs = d;
		r->capdirs = cap;
	}
	d = &r->dirs[r->ndirs];
	sb_tar_entry_init(&d->hdr);
	d->hdr.type = SB_TAR_DIR;
	d->hdr.mode = h->mode;
	d->hdr.uid = h->uid;
	d->hdr.gid = h->gid;
	memcpy(d->hdr.uname, h->uname, sizeof(h->uname));
	memcpy(d->hdr.gname, h->gname, sizeof(h->gname));
	d->hdr.mtime = h->mtime;
	if (!(d->path = strdup(path)))
		return SB_ERR_NOMEM;
	r->ndirs++;
	return 0;
}

static int fail_create(const struct sb_buf *final)
{
	int e = errno;

	sb_error("cannot create %s: %s", (const char *) final->data, strerror(e));
	return sb_err_from_errno(e);
}

/* One object: the streams ss[0..n) whose current object has this path, oldest first. */
static int restore_object(struct restore *r, struct setstream **ss, size_t n)
{
	const struct ss_object *o, *newest;
	struct sb_buf final = SB_BUF_INIT, tmp = SB_BUF_INIT;
	size_t base = n, i;
	int rc = 0;

	for (i = n; i-- > 0;) {
		ss_peek(ss[i], &o);
		if (o->kind != SS_DIFF) {
			base = i;
			break;
		}
	}
	ss_peek(ss[n - 1], &newest);
	if (base == n) {
		sb_warn("cannot restore %s: a delta without a base",
			sb_log_str((const char *)newest->path.data, newest->path.len));
		r->st->errors++;
		return 0;
	}
	ss_peek(ss[base], &o);
	if (o->kind == SS_DELETED)
		return 0;
	if (base + 1 < n && o->hdr.type != SB_TAR_REG) {
		sb_error("cannot restore %s: a delta on a %s",
			 sb_log_str((const char *)o->path.data, o->path.len), "non-regular file");
		return SB_ERR_CORRUPT;
	}
	if ((rc = out_path(r, &o->path, &final)))
		goto out;
	if (o->hdr.type == SB_TAR_DIR) {
		if (mkdir((char *) final.data, 0700) < 0 && errno != EEXIST) {
			sb_error("cannot create folder %s: %s", (char *) final.data,
				 strerror(errno));
			rc = sb_err_from_errno(errno);
			goto out;
		}
		rc = add_dir(r, (char *) final.data, &newest->hdr);
		r->st->objects++;
		goto out;
	}
	if ((rc = tmp_path(r, (char *) final.data, &tmp)))
		goto out;
	switch (o->hdr.type) {
	case SB_TAR_REG: rc = rebuild_file(r, ss, base, n - 1, (char *)tmp.data); break;
	case SB_TAR_SYMLINK:
		if (symlink(sb_buf_str(&o->hdr.linkname), (char *)tmp.data) < 0)
			rc = fail_create(&final);
		break;
	case SB_TAR_FIFO:
		if (mkfifo((char *)tmp.data, 0600) < 0)
			rc = fail_create(&final);
		break;
	case SB_TAR_CHR:
	case SB_TAR_BLK:
		if (mknod((char *)tmp.data, (o->hdr.type == SB_TAR_CHR ? S_IFCHR : S_IFBLK) | 0600,
			  makedev(o->hdr.devmajor, o->hdr.devminor)) < 0) {
			sb_warn("cannot create device %s: %s", (char *) final.data,
				strerror(errno));
			r->st->errors++;
			goto out;
		}
		break;
	default:
		sb_warn("skipping %s: unknown type '%c'", (char *) final.data, o->hdr.type);
		r->st->errors++;
		goto out;
	}
	if (rc) {
		unlink((char *)tmp.data);
		goto out;
	}
	apply_meta(r, (char *)tmp.data, &newest->hdr);
	rc = add_pending(r, (char *)tmp.data, (char *) final.data);
	if (rc)
		unlink((char *)tmp.data);
	r->st->objects++;
	sb_progress_update(r->st->objects, r->st->bytes, (const char *)o->path.data, o->path.len);
out:
	sb_buf_release(&final);
	sb_buf_release(&tmp);
	return rc;
}

/* Merge the set streams by path and restore each object under the prefix. */
static int merge(struct restore *r, struct setstream **ss, size_t nsets)
{
	struct setstream *group[1024];
	const struct ss_object *o, *min;
	size_t i, n, plen = strlen(r->prefix);
	int rc, got;

	for (;;) {
		min = NULL;
		for (i = 0; i < nsets; i++) {
			got = ss_peek(ss[i], &o);
			if (got < 0)
				return got;
			if (got &&
			    (!min || sb_path_cmp((const char *)o->path.data, o->path.len,
						 (const char *)min->path.data, min->path.len) < 0))
				min = o;
		}
		if (!min)
			return 0;
		n = 0;
		for (i = 0; i < nsets; i++)
			if (ss_peek(ss[i], &o) == 1 && o->path.len == min->path.len &&
			    !memcmp(o->path.data, min->path.data, o->path.len))
				group[n++] = ss[i];
		if (sb_path_has_prefix((const char *)min->path.data, min->path.len, r->prefix,
				       plen)) {
			rc = restore_object(r, group, n);
			if (rc)
				return rc;
		}
		for (i = 0; i < n; i++)
			if ((rc = ss_next(group[i])))
				return rc;
	}
}

static int finish(struct restore *r)
{
	size_t i;

	for (i = 0; i < r->npend; i++) {
		if (rename(r->pend[i].tmp, r->pend[i].final) < 0) {
			sb_error("cannot rename %s to %s: %s", r->pend[i].tmp, r->pend[i].final,
				 strerror(errno));
			return sb_err_from_errno(errno);
		}
		free(r->pend[i].tmp);
		r->pend[i].tmp = NULL;
	}
	for (i = r->ndirs; i-- > 0;)
		apply_meta(r, r->dirs[i].path, &r->dirs[i].hdr);
	return 0;
}

static void cleanup(struct restore *r)
{
	size_t i;

	for (i = 0; i < r->npend; i++) {
		if (r->pend[i].tmp)
			unlink(r->pend[i].tmp);
		free(r->pend[i].tmp);
		free(r->pend[i].final);
	}
	free(r->pend);
	for (i = 0; i < r->ndirs; i++) {
		free(r->dirs[i].path);
		sb_tar_entry_release(&r->dirs[i].hdr);
	}
	free(r->dirs);
	sb_buf_release(&r->outroot);
}

/* Where the restored root goes; refuses to overwrite without --force. */
static int prepare_dest(struct restore *r)
{
	const struct sb_restore_opts *o = r->o;
	struct stat st;
	const char *base;
	bool dest_is_dir = stat(o->dest, &st) == 0 && S_ISDIR(st.st_mode);
	int rc;

	if (*r->prefix && dest_is_dir) {
		base = strrchr(r->prefix, '/');
		base = base ? base + 1 : r->prefix;
		rc = sb_buf_addf(&r->outroot, "%s/%s", o->dest, base);
	} else {
		rc = sb_buf_addstr(&r->outroot, o->dest);
	}
	if (rc)
		return rc;
	if (lstat((char *)r->outroot.data, &st) == 0 && !o->force) {
		if (S_ISDIR(st.st_mode)) {
			struct stat dummy;
			char probe[PATH_MAX];
			bool empty = true;
			DIR *d = opendir((char *)r->outroot.data);
			struct dirent *de;

			(void)dummy;
			(void)probe;
			while (d && (de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					empty = false;
			if (d)
				closedir(d);
			if (empty)
				return 0;
		}
		sb_error("%s already exists (give --force to overwrite)", (char *)r->outroot.data);
		return SB_ERR_EXISTS;
	}
	return 0;
}

int sb_restore(const struct sb_restore_opts *o, struct sb_restore_stats *st)
{
	struct restore r = {
		.o = o, .st = st, .prefix = o->path ? o->path : "", .root = geteuid() == 0};
	const struct sb_chain *ch;
	struct sb_manifest *mans = NULL;
	struct setstream **ss = NULL;
	char when[21];
	size_t nsets = 0, i;
	int rc;

	memset(st, 0, sizeof(*st));
	/* the whole chain up to the time asked for, proven before anything is read */
	rc = sb_gate_chain(o->gate, o->time, &ch, &nsets);
	if (rc)
		goto out;
	st->set_time = ch->sets[nsets - 1].t1;
	mans = calloc(nsets, sizeof(*mans));
	ss = calloc(nsets, sizeof(*ss));
	if (!mans || !ss) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nsets; i++)
		sb_manifest_init(&mans[i]);
	for (i = 0; i < nsets && !rc; i++)
		rc = sb_gate_manifest(o->gate, &ch->sets[i], &mans[i]);
	for (i = 0; i < nsets && !rc; i++)
		rc = ss_open(o->gate, &ch->sets[i], &mans[i], r.prefix, &ss[i]);
	if (!rc)
		rc = prepare_dest(&r);
	if (!rc && !*r.prefix && mkdir(o->dest, 0700) < 0 && errno != EEXIST) {
		sb_error("cannot create %s: %s", o->dest, strerror(errno));
		rc = sb_err_from_errno(errno);
	}
	if (!rc)
		rc = merge(&r, ss, nsets);
	for (i = 0; i < nsets && ss && ss[i]; i++)
		st->volumes += ss_volumes_read(ss[i]);
	if (!rc && !st->objects) {
		sb_error("%s: no such path in the backup of %s", *r.prefix ? r.prefix : ".",
			 (sb_time_format_iso(st->set_time, when), when));
		rc = SB_ERR_NOTFOUND;
	}
	if (!rc)
		rc = finish(&r);
	if (!rc && st->errors)
		rc = SB_ERR_PARTIAL;
out:
	cleanup(&r);
	for (i = 0; ss && i < nsets; i++)
		ss_free(ss[i]);
	for (i = 0; mans && i < nsets; i++)
		sb_manifest_release(&mans[i]);
	free(ss);
	free(mans);
	return rc;
}
