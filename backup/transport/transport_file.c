/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport_file.c - targets that are local folders (file:// and plain paths).
 * Uploads go to a temporary name, are fsync'ed, renamed, and the folder is
 * fsync'ed, so a crash leaves either the old state or the complete file.
 * Reads and writes take their bytes from the process's bandwidth limits
 * (throttle.h), as a remote target's would.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/log.h"
#include "sealbox/throttle.h"
#include "sealbox/tmpname.h"
#include "transport_impl.h"

struct file_transport {
	struct sb_transport base;
	char *root; /* absolute folder path */
	int dirfd;
};

struct file_get {
	struct sb_transport_get base;
	int fd;
	char *name;
};

struct file_put {
	struct sb_transport_put base;
	int fd;
	char *name;
	char *tmp;
};

static const struct sb_transport_ops file_ops;

static int file_fail(struct file_transport *ft, const char *op, const char *name, int e)
{
	sb_error("target %s: %s %s: %s", ft->root, op, name, strerror(e));
	if (e == ENOENT)
		return SB_ERR_NOTFOUND;
	if (e == ENOSPC || e == EDQUOT)
		return SB_ERR_NOSPACE;
	if (e == EACCES || e == EPERM || e == EROFS)
		return SB_ERR_PERM;
	return SB_ERR_TRANSPORT;
}

int sb_transport_file_open(const char *path, const struct sb_transport_opts *o,
			   struct sb_transport **out)
{
	struct file_transport *ft;
	struct stat st;
	char *abs = NULL;

	if (!*path) {
		sb_error("target: empty path");
		return SB_ERR_PARAM;
	}
	if (o->create && stat(path, &st) < 0 && errno == ENOENT) {
		int rc = sb_mkdirs(path, 0700);

		if (rc)
			return rc == SB_ERR_PERM ? SB_ERR_PERM : SB_ERR_TRANSPORT;
	}
	abs = realpath(path, NULL);
	if (!abs || stat(abs, &st) < 0) {
		sb_error("target %s: %s", path, strerror(errno));
		free(abs);
		return errno == EACCES ? SB_ERR_PERM : SB_ERR_TRANSPORT;
	}
	if (!S_ISDIR(st.st_mode)) {
		sb_error("target %s: not a folder", path);
		free(abs);
		return SB_ERR_TRANSPORT;
	}
	ft = calloc(1, sizeof(*ft));
	if (!ft) {
		free(abs);
		return SB_ERR_NOMEM;
	}
	ft->base.ops = &file_ops;
	ft->base.desc = abs;
	ft->root = abs;
	ft->dirfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ft->dirfd < 0) {
		int rc = file_fail(ft, "open", "folder", errno);
		free(abs);
		free(ft);
		return rc == SB_ERR_NOTFOUND ? SB_ERR_TRANSPORT : rc;
	}
	*out = &ft->base;
	return 0;
}

static void file_close(struct sb_transport *t)
{
	struct file_transport *ft = (struct file_transport *)t;

	close(ft->dirfd);
	free(ft->root);
	free(ft);
}

static const char *file_local_path(const struct sb_transport *t)
{
	return ((const struct file_transport *)t)->root;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int file_list(struct sb_transport *t, struct sb_dirent_list *out)
{
	struct file_transport *ft = (struct file_transport *)t;
	struct sb_dirent_list l = {0};
	size_t cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	fd = openat(ft->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return file_fail(ft, "list", "folder", errno);
	}
	while ((errno = 0, de = readdir(d))) {
		if (fstatat(ft->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (l.n >= SB_DIRENT_MAX) {
			sb_error("%s holds more than %u files: not a target sealbox reads",
				 sb_transport_describe(t), SB_DIRENT_MAX);
			rc = SB_ERR_CORRUPT;
			break;
		}
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nn = realloc(l.names, ncap * sizeof(*nn));
			if (!nn) {
				rc = SB_ERR_NOMEM;
				break;
			}
			l.names = nn;
			cap = ncap;
		}
		if (!(l.names[l.n] = strdup(de->d_name))) {
			rc = SB_ERR_NOMEM;
			break;
		}
		l.n++;
	}
	if (!rc && errno)
		rc = file_fail(ft, "list", "folder", errno);
	closedir(d);
	if (!rc && l.n) {
		qsort(l.names, l.n, sizeof(*l.names), cmp_names);
		l.sizes = calloc(l.n, sizeof(*l.sizes));
		if (!l.sizes)
			rc = SB_ERR_NOMEM;
		for (i = 0; !rc && i < l.n; i++)
			if (fstatat(ft->dirfd, l.names[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
				l.sizes[i] = (uint64_t)st.st_size;
	}
	if (rc) {
		sb_dirent_list_release(&l);
		return rc;
	}
	*out = l;
	return 0;
}

static int file_get_open(struct sb_transport *t, const char *name, struct sb_transport_get **g)
{
	struct file_transport *ft = (struct file_transport *)t;
	struct file_get *fg;
	int fd;

	fd = openat(ft->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return file_fail(ft, "open", name, errno);
	fg = calloc(1, sizeof(*fg));
	if (!fg || !(fg->name = strdup(name))) {
		free(fg);
		close(fd);
		return SB_ERR_NOMEM;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	fg->base.t = t;
	fg->fd = fd;
	*g = &fg->base;
	return 0;
}

static ssize_t file_get_read(struct sb_transport_get *g, void *buf, size_t n)
{
	struct file_get *fg = (struct file_get *)g;
	struct sb_throttle *th = sb_throttle_limit(SB_THROTTLE_DOWN);
	ssize_t r;

	n = sb_throttle_chunk(th, n);
	do
		r = read(fg->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return file_fail((struct file_transport *)g->t, "read", fg->name, errno);
	sb_throttle_take(th, (size_t)r);
	return r;
}

static void file_get_close(struct sb_transport_get *g)
{
	struct file_get *fg = (struct file_get *)g;

	close(fg->fd);
	free(fg->name);
	free(fg);
}

static int file_put_open(struct sb_transport *t, const char *name, struct sb_transport_put **p)
{
	struct file_transport *ft = (struct file_transport *)t;
	struct file_put *fp = calloc(1, sizeof(*fp));
	int rc;

	if (!fp)
		return SB_ERR_NOMEM;
	fp->base.t = t;
	fp->name = strdup(name);
	if (!fp->name || asprintf(&fp->tmp, "%s%s", SB_TMP_PREFIX, name) < 0) {
		free(fp->name);
		free(fp);
		return SB_ERR_NOMEM;
	}
	unlinkat(ft->dirfd, fp->tmp, 0); /* a leftover from a killed run */
	fp->fd = openat(ft->dirfd, fp->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fp->fd < 0) {
		rc = file_fail(ft, "create", fp->tmp, errno);
		free(fp->tmp);
		free(fp->name);
		free(fp);
		return rc;
	}
	*p = &fp->base;
	return 0;
}

static int file_put_write(struct sb_transport_put *p, const void *buf, size_t n)
{
	struct file_put *fp = (struct file_put *)p;
	struct sb_throttle *th = sb_throttle_limit(SB_THROTTLE_UP);
	const char *c = buf;
	size_t k = 0;
	ssize_t w;

	while (n) {
		if (!k) /* the next piece's bytes, before they go */
			sb_throttle_take(th, k = sb_throttle_chunk(th, n));
		w = write(fp->fd, c, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return file_fail((struct file_transport *)p->t, "write", fp->name, errno);
		c += w;
		n -= (size_t)w;
		k -= (size_t)w;
	}
	return 0;
}

static int file_put_commit(struct sb_transport_put *p)
{
	struct file_put *fp = (struct file_put *)p;
	struct file_transport *ft = (struct file_transport *)p->t;
	int rc = 0;

	if (fsync(fp->fd) < 0)
		rc = file_fail(ft, "sync", fp->name, errno);
	if (close(fp->fd) < 0 && !rc)
		rc = file_fail(ft, "close", fp->name, errno);
	fp->fd = -1;
	if (!rc && renameat(ft->dirfd, fp->tmp, ft->dirfd, fp->name) < 0)
		rc = file_fail(ft, "rename", fp->name, errno);
	if (!rc && fsync(ft->dirfd) < 0 && errno != EINVAL)
		rc = file_fail(ft, "sync", "folder", errno);
	return rc;
}

static void file_put_release(struct sb_transport_put *p, bool discard)
{
	struct file_put *fp = (struct file_put *)p;

	if (fp->fd >= 0)
		close(fp->fd);
	if (discard)
		unlinkat(((struct file_transport *)p->t)->dirfd, fp->tmp, 0);
	free(fp->tmp);
	free(fp->name);
	free(fp);
}

static int file_delete(struct sb_transport *t, const char *name)
{
	struct file_transport *ft = (struct file_transport *)t;

	if (unlinkat(ft->dirfd, name, 0) < 0 && errno != ENOENT)
		return file_fail(ft, "delete", name, errno);
	return 0;
}

static const struct sb_transport_ops file_ops = {
	.close = file_close,
	.local_path = file_local_path,
	.list = file_list,
	.get_open = file_get_open,
	.get_read = file_get_read,
	.get_close = file_get_close,
	.put_open = file_put_open,
	.put_write = file_put_write,
	.put_commit = file_put_commit,
	.put_release = file_put_release,
	.delete_file = file_delete,
};
