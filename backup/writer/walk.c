/* SPDX-License-Identifier: GPL-2.0-or-later */
/* walk.c - the source tree in index order (see walk.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/walk.h"

struct frame {
	int fd;	      /* the folder */
	char **names; /* sorted children */
	size_t n, i;
	size_t pathlen; /* length of the folder's path in w->cur.path */
};

struct sb_walk {
	char *root;
	const struct sb_select *sel;
	struct frame *stack;
	size_t depth, cap;
	struct sb_walk_entry cur;
	const char *cur_name; /* name of cur within the top frame; NULL for the root */
	int root_fd;
	int enter; /* cur is a folder to enter on the next call */
	unsigned errors;
	int started;
	int ended;	       /* the end was returned (check_root done) */
	struct sb_buf *unread; /* folders that could not be read */
	size_t nunread;
	dev_t root_dev; /* the root as the walk opened it (see check_root) */
	ino_t root_ino;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void frame_release(struct frame *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	if (f->fd >= 0)
		close(f->fd);
}

int sb_walk_open(const char *root, const struct sb_select *sel, struct sb_walk **out)
{
	struct sb_walk *w = calloc(1, sizeof(*w));

	if (!w)
		return SB_ERR_NOMEM;
	w->root = strdup(root);
	w->sel = sel;
	w->root_fd = -1;
	if (!w->root) {
		free(w);
		return SB_ERR_NOMEM;
	}
	*out = w;
	return 0;
}

void sb_walk_free(struct sb_walk *w)
{
	if (!w)
		return;
	while (w->depth)
		frame_release(&w->stack[--w->depth]);
	free(w->stack);
	while (w->nunread)
		sb_buf_release(&w->unread[--w->nunread]);
	free(w->unread);
	sb_buf_release(&w->cur.path);
	sb_buf_release(&w->cur.linktarget);
	free(w->root);
	free(w);
}

unsigned sb_walk_errors(const struct sb_walk *w) { return w->errors; }

/* The filesystem itself failed or is gone, not one file (see walk.h). */
static bool errno_lost(int e)
{
	switch (e) {
	case EIO:
	case ENOTCONN:
	case ESTALE:
	case ENODEV:
	case ENXIO:
	case ENOMEDIUM:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ECONNABORTED:
	case ECONNREFUSED:
	case ECONNRESET:
	case ESHUTDOWN:
	case ETIMEDOUT: return true;
	default: return false;
	}
}

int sb_walk_lost(const struct sb_walk *w, const char *what, int e)
{
	if (!errno_lost(e))
		return 0;
	sb_error("source %s: cannot %s %s: %s (its filesystem failed or went away: backup "
		 "stopped, no new snapshot)",
		 w->root, what,
		 w->cur.path.len ? sb_log_str((const char *)w->cur.path.data, w->cur.path.len)
				 : ".",
		 strerror(e));
	return SB_ERR_IO;
}

/* At the end: the root is still the folder the walk read (not unmounted). */
static int check_root(struct sb_walk *w)
{
	struct stat st;

	if (lstat(w->root, &st) < 0) {
		int e = errno;

		sb_error(
			"source %s: %s (at the end of the backup: backup stopped, no new snapshot)",
			w->root, strerror(e));
		return errno_lost(e) ? SB_ERR_IO : sb_err_from_errno(e);
	}
	if (st.st_dev != w->root_dev || st.st_ino != w->root_ino) {
		sb_error("source %s is no longer the folder the backup read (its filesystem was "
			 "unmounted or replaced during the run): backup stopped, no new snapshot",
			 w->root);
		return SB_ERR_IO;
	}
	return 0;
}

bool sb_walk_unread(const struct sb_walk *w, const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < w->nunread; i++)
		if (sb_path_has_prefix(path, len, (const char *)w->unread[i].data,
				       w->unread[i].len))
			return true;
	return false;
}

static void remember_unread(struct sb_walk *w)
{
	struct sb_buf *u = realloc(w->unread, (w->nunread + 1) * sizeof(*u));

	if (!u)
		return;
	w->unread = u;
	sb_buf_init(&u[w->nunread]);
	if (sb_buf_set(&u[w->nunread], w->cur.path.data, w->cur.path.len) == 0)
		w->nunread++;
}

static int push_dir(struct sb_walk *w, int fd)
{
	struct frame f = {.fd = fd, .pathlen = w->cur.path.len};
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int dupfd;

	dupfd = dup(fd);
	if (dupfd < 0 || !(d = fdopendir(dupfd))) {
		if (dupfd >= 0)
			close(dupfd);
		return -1;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (f.n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nn = realloc(f.names, ncap * sizeof(*nn));
			if (!nn)
				goto nomem;
			f.names = nn;
			cap = ncap;
		}
		if (!(f.names[f.n] = strdup(de->d_name)))
			goto nomem;
		f.n++;
	}
	if (errno) {
		int e = errno;
		closedir(d);
		f.fd = -1;
		frame_release(&f);
		errno = e;
		return -1;
	}
	closedir(d);
	if (f.n) /* f.names is NULL for an empty folder; qsort's base must not be */
		qsort(f.names, f.n, sizeof(*f.names), cmp_names);
	if (w->depth == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		struct frame *ns = realloc(w->stack, ncap * sizeof(*ns));
		if (!ns)
			goto nomem_closed;
		w->stack = ns;
		w->cap = ncap;
	}
	w->stack[w->depth++] = f;
	return 0;
nomem:
	closedir(d);
nomem_closed:
	f.fd = -1;
	frame_release(&f);
	errno = ENOMEM;
	return -1;
}

static int read_link(struct sb_walk *w, int dirfd, const char *name)
{
	size_t size = (size_t)w->cur.st.st_size + 1;
	ssize_t n;

	if (size < 64)
		size = 64;
	for (;;) {
		sb_buf_reset(&w->cur.linktarget);
		if (sb_buf_reserve(&w->cur.linktarget, size))
			return SB_ERR_NOMEM;
		n = readlinkat(dirfd, name, (char *)w->cur.linktarget.data, size);
		if (n < 0)
			return -1;
		if ((size_t)n < size) {
			w->cur.linktarget.len = (size_t)n;
			w->cur.linktarget.data[n] = '\0';
			return 0;
		}
		size *= 2;
	}
}

/* Enter the folder returned last, if it should be. */
static int enter_pending(struct sb_walk *w)
{
	struct stat st;
	int fd, rc;

	if (!w->enter)
		return 0;
	w->enter = 0;
	if (w->depth == 0)
		fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		fd = openat(w->stack[w->depth - 1].fd, w->cur_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && w->depth == 0) {
		if (fstat(fd, &st) < 0) {
			int e = errno;

			close(fd);
			if ((rc = sb_walk_lost(w, "read folder", e)))
				return rc;
			sb_error("source %s: %s", w->root, strerror(e));
			return sb_err_from_errno(e);
		}
		w->root_dev = st.st_dev;
		w->root_ino = st.st_ino;
	}
	if (fd < 0 || push_dir(w, fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if ((rc = sb_walk_lost(w, "read folder", e)))
			return rc;
		sb_error("cannot read folder %s/%s: %s (skipped)", w->root,
			 sb_log_str((const char *)w->cur.path.data, w->cur.path.len), strerror(e));
		w->errors++;
		remember_unread(w);
	}
	return 0;
}

int sb_walk_next(struct sb_walk *w, const struct sb_walk_entry **e)
{
	struct frame *f;
	const char *name;
	int rc;

	if (!w->started) {
		w->started = 1;
		if (lstat(w->root, &w->cur.st) < 0) {
			sb_error("source %s: %s", w->root, strerror(errno));
			return sb_err_from_errno(errno);
		}
		if (!S_ISDIR(w->cur.st.st_mode)) {
			sb_error("source %s: not a folder", w->root);
			return SB_ERR_PARAM;
		}
		sb_buf_reset(&w->cur.path);
		w->cur_name = NULL;
		w->enter = 1;
		*e = &w->cur;
		return 1;
	}
	if ((rc = enter_pending(w)))
		return rc;
	for (;;) {
		if (w->depth == 0)
			return w->ended++ ? 0 : check_root(w);
		f = &w->stack[w->depth - 1];
		if (f->i == f->n) {
			frame_release(f);
			w->depth--;
			continue;
		}
		name = f->names[f->i++];
		w->cur.path.len = f->pathlen;
		if (f->pathlen && sb_buf_addch(&w->cur.path, '/'))
			return SB_ERR_NOMEM;
		if (sb_buf_addstr(&w->cur.path, name))
			return SB_ERR_NOMEM;
		if (w->sel &&
		    sb_select_excluded(w->sel, (const char *)w->cur.path.data, w->cur.path.len))
			continue;
		if (fstatat(f->fd, name, &w->cur.st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* vanished since readdir */
				continue;
			if ((rc = sb_walk_lost(w, "stat", errno)))
				return rc;
			sb_error("cannot stat %s/%s: %s (skipped)", w->root,
				 sb_log_str((const char *)w->cur.path.data, w->cur.path.len),
				 strerror(errno));
			w->errors++;
			continue;
		}
		if (S_ISSOCK(w->cur.st.st_mode))
			continue;
		sb_buf_reset(&w->cur.linktarget);
		if (S_ISLNK(w->cur.st.st_mode) && read_link(w, f->fd, name) < 0) {
			if ((rc = sb_walk_lost(w, "read symlink", errno)))
				return rc;
			sb_error("cannot read symlink %s/%s: %s (skipped)", w->root,
				 sb_log_str((const char *)w->cur.path.data, w->cur.path.len),
				 strerror(errno));
			w->errors++;
			continue;
		}
		w->cur_name = name;
		w->enter = S_ISDIR(w->cur.st.st_mode);
		*e = &w->cur;
		return 1;
	}
}

int sb_walk_mount_root(const char *dir)
{
	struct statx sx, up;
	char parent[PATH_MAX + 4];
	int e;

	if (statx(AT_FDCWD, dir, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0)
		goto fail;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	/* kernels before 5.8: another device than the parent's */
	snprintf(parent, sizeof(parent), "%s/..", dir);
	if (statx(AT_FDCWD, parent, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &up) < 0)
		goto fail;
	return sx.stx_dev_major != up.stx_dev_major || sx.stx_dev_minor != up.stx_dev_minor ||
	       sx.stx_ino == up.stx_ino;
fail:
	e = errno;
	return errno_lost(e) ? SB_ERR_IO : sb_err_from_errno(e);
}

int sb_walk_open_file(struct sb_walk *w)
{
	int fd, dirfd = w->stack[w->depth - 1].fd;

	if (!w->cur_name) {
		errno = EISDIR;
		return -1;
	}
	fd = openat(dirfd, w->cur_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, w->cur_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}
