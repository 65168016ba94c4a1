/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * destdir.c - the folder a restore writes into, reached only through
 * descriptors (see destdir.h): opening or making DEST, the walk below it
 * with O_NOFOLLOW, and putting DEST back when a restore fails. It creates
 * no object below DEST; restore.c does, relative to the descriptors given.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/destdir.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

/* A folder to walk through or create in: never a symlink, no read permission needed. */
#define WALK_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct sb_destdir {
	int base;		/* folder everything is created in: dest or its parent */
	struct timespec was[2]; /* its atime and mtime, put back by undo */
	struct sb_buf shown;	/* its path for messages: "" or ends in '/' */
	struct sb_buf root;	/* where the restored root lands: "" or one name */
	int parent;		/* dest's parent if dest was made here, else -1 */
	char *name;		/* dest's name in parent */
	int dirfd;		/* the folder last walked to (WALK_FLAGS), or -1 */
	struct sb_buf dirrel;	/* its path relative to base */
	bool quiet;		/* failures of the walk are not logged */
};

static int fail_errno(const char *what, const char *shown, const char *rel)
{
	int e = errno;

	sb_error("cannot %s %s%s: %s", what, shown, rel, strerror(e));
	return sb_err_from_errno(e);
}

int sb_destdir_error(const struct sb_destdir *d, const char *what, const char *rel)
{
	return fail_errno(what, sb_buf_str(&d->shown), rel);
}

/*
 * The path layer (sb_member_split, sb_path_normalize) already refuses
 * anything else in an archive; checked again as nothing below may resolve a
 * name that climbs out.
 */
bool sb_destdir_rel_ok(const char *rel, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		n = 0;
		while (i + n < len && rel[i + n] != '/')
			n++;
		if (n == 0 || (n == 1 && rel[i] == '.') ||
		    (n == 2 && rel[i] == '.' && rel[i + 1] == '.') || memchr(rel + i, '\0', n))
			return false;
		i += n + 1;
		if (i == len) /* a trailing '/' */
			return false;
	}
	return true;
}

/* Why name (in dirfd, the end of rel[0..len)) could not be opened as a folder. */
static int walk_error(struct sb_destdir *d, int dirfd, const char *name, const char *rel,
		      size_t len)
{
	const char *shown = sb_buf_str(&d->shown);
	int e = errno;
	struct stat st;

	if (d->quiet)
		return sb_err_from_errno(e);
	if ((e == ENOTDIR || e == ELOOP) && !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (S_ISLNK(st.st_mode)) {
			sb_error("%s%.*s is a symbolic link where a folder should be (never "
				 "followed)",
				 shown, (int)len, rel);
			return SB_ERR_EXISTS;
		}
		if (!S_ISDIR(st.st_mode)) {
			sb_error("%s%.*s is not a folder", shown, (int)len, rel);
			return SB_ERR_EXISTS;
		}
	}
	sb_error("cannot open folder %s%.*s: %s", shown, (int)len, rel, strerror(e));
	return sb_err_from_errno(e);
}

/* Opens the folder rel[0..len) below base, one name at a time, following no symlink. */
static int open_dir(struct sb_destdir *d, const char *rel, size_t len, int *out)
{
	char name[NAME_MAX + 1];
	int fd = d->base, nfd, rc;
	size_t i = 0, n;

	while (i < len) {
		n = 0;
		while (i + n < len && rel[i + n] != '/')
			n++;
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			rc = walk_error(d, fd, "", rel, i + n);
			goto fail;
		}
		memcpy(name, rel + i, n);
		name[n] = '\0';
		nfd = openat(fd, name, WALK_FLAGS);
		if (nfd < 0) {
			rc = walk_error(d, fd, name, rel, i + n);
			goto fail;
		}
		if (fd != d->base)
			close(fd);
		fd = nfd;
		i += n + 1;
	}
	if (fd == d->base && (fd = fcntl(d->base, F_DUPFD_CLOEXEC, 0)) < 0)
		return sb_err_from_errno(errno);
	*out = fd;
	return 0;
fail:
	if (fd != d->base)
		close(fd);
	return rc;
}

/* Siblings come in a row (archives are sorted), so the last folder is kept. */
int sb_destdir_parent(struct sb_destdir *d, const char *rel, int *dirfd, const char **name)
{
	const char *slash = strrchr(rel, '/');
	size_t dlen = slash ? (size_t)(slash - rel) : 0;
	int fd, rc;

	*name = slash ? slash + 1 : rel;
	if (d->dirfd >= 0 && d->dirrel.len == dlen && !memcmp(sb_buf_str(&d->dirrel), rel, dlen)) {
		*dirfd = d->dirfd;
		return 0;
	}
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = -1;
	if ((rc = open_dir(d, rel, dlen, &fd)))
		return rc;
	if (sb_buf_set(&d->dirrel, rel, dlen)) {
		close(fd);
		return SB_ERR_NOMEM;
	}
	d->dirfd = fd;
	*dirfd = fd;
	return 0;
}

/* "a/b/" -> "a/", "b"; "b" -> "", "b"; "/b" -> "/", "b". */
static int split_dest(const char *dest, struct sb_buf *parent, struct sb_buf *name)
{
	size_t len = strlen(dest), start;

	while (len > 1 && dest[len - 1] == '/')
		len--;
	start = len;
	while (start > 0 && dest[start - 1] != '/')
		start--;
	if (start == len || !sb_destdir_rel_ok(dest + start, len - start)) {
		sb_error("cannot restore to %s: name a file or folder", dest);
		return SB_ERR_PARAM;
	}
	if (sb_buf_set(parent, dest, start) || sb_buf_set(name, dest + start, len - start))
		return SB_ERR_NOMEM;
	return 0;
}

/* Whether name in dirfd is an empty real folder. */
static bool empty_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	bool empty = dir != NULL;

	if (fd >= 0 && !dir)
		close(fd);
	while (dir && (de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	if (dir)
		closedir(dir);
	return empty;
}

/* Messages name what is below dest as "dest/...". */
static int show_dest(struct sb_destdir *d, const char *dest)
{
	int rc = sb_buf_addstr(&d->shown, dest);

	if (!rc && dest[strlen(dest) - 1] != '/')
		rc = sb_buf_addch(&d->shown, '/');
	return rc;
}

/* The whole snapshot: into dest itself, made if missing. */
static int open_all(struct sb_destdir *d, const char *dest, bool force)
{
	struct sb_buf parent = SB_BUF_INIT, name = SB_BUF_INIT;
	struct stat st;
	bool exists;
	int e, rc;

	d->base = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->base >= 0) {
		if (!force && !empty_dir(d->base, ".")) {
			sb_error("%s already exists (give --force to overwrite)", dest);
			return SB_ERR_EXISTS;
		}
		return show_dest(d, dest);
	}
	e = errno;
	exists = !lstat(dest, &st);
	if (exists && !force) {
		sb_error("%s already exists (give --force to overwrite)", dest);
		return SB_ERR_EXISTS;
	}
	if (e != ENOENT || exists) {
		sb_error("cannot restore into %s: %s", dest,
			 e == ENOENT ? "a symbolic link to nothing" : strerror(e));
		return e == ENOENT ? SB_ERR_EXISTS : sb_err_from_errno(e);
	}
	if ((rc = split_dest(dest, &parent, &name)))
		goto out;
	d->parent = open(parent.len ? sb_buf_str(&parent) : ".", WALK_FLAGS & ~O_NOFOLLOW);
	if (d->parent < 0 || mkdirat(d->parent, sb_buf_str(&name), 0700) < 0) {
		rc = fail_errno("create", dest, "");
		if (d->parent >= 0)
			close(d->parent);
		d->parent = -1;
		goto out;
	}
	d->name = (char *)sb_buf_detach(&name, NULL);
	d->base = openat(d->parent, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	rc = d->base < 0 ? fail_errno("open folder", dest, "") : show_dest(d, dest);
out:
	sb_buf_release(&parent);
	sb_buf_release(&name);
	return rc;
}

/* One item: into dest/item when dest is a folder, else it becomes dest. */
static int open_one(struct sb_destdir *d, const char *dest, const char *item, bool force)
{
	const char *root;
	struct stat st;
	int rc;

	d->base = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->base >= 0) {
		rc = sb_buf_addstr(&d->root, item);
		if (!rc)
			rc = show_dest(d, dest);
	} else if (errno == ENOENT || errno == ENOTDIR) {
		rc = split_dest(dest, &d->shown, &d->root);
		if (!rc) {
			root = d->shown.len ? sb_buf_str(&d->shown) : ".";
			d->base = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (d->base < 0)
				rc = fail_errno("open folder", root, "");
		}
	} else {
		rc = fail_errno("restore into", dest, "");
	}
	if (rc)
		return rc;
	root = sb_buf_str(&d->root);
	if (!force && !fstatat(d->base, root, &st, AT_SYMLINK_NOFOLLOW) &&
	    !(S_ISDIR(st.st_mode) && empty_dir(d->base, root))) {
		sb_error("%s%s already exists (give --force to overwrite)", sb_buf_str(&d->shown),
			 root);
		return SB_ERR_EXISTS;
	}
	return 0;
}

int sb_destdir_open(const char *dest, const char *item, bool force, struct sb_destdir **out)
{
	struct sb_destdir *d = calloc(1, sizeof(*d));
	struct stat st;
	int rc;

	*out = NULL;
	if (!d)
		return SB_ERR_NOMEM;
	d->base = d->parent = d->dirfd = -1;
	d->was[0].tv_nsec = d->was[1].tv_nsec = UTIME_OMIT; /* until known */
	rc = item && *item ? open_one(d, dest, item, force) : open_all(d, dest, force);
	if (!rc && fstat(d->base, &st) < 0)
		rc = fail_errno("read", dest, "");
	if (rc) {
		sb_destdir_undo(d);
		sb_destdir_free(d);
		return rc;
	}
	d->was[0] = st.st_atim;
	d->was[1] = st.st_mtim;
	*out = d;
	return 0;
}

const char *sb_destdir_root(const struct sb_destdir *d) { return sb_buf_str(&d->root); }

int sb_destdir_fd(const struct sb_destdir *d) { return d->base; }

const char *sb_destdir_shown(const struct sb_destdir *d) { return sb_buf_str(&d->shown); }

void sb_destdir_quiet(struct sb_destdir *d) { d->quiet = true; }

void sb_destdir_undo(struct sb_destdir *d)
{
	if (d->base >= 0)
		futimens(d->base, d->was);
	if (d->parent >= 0 && unlinkat(d->parent, d->name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    errno != ENOTEMPTY)
		sb_warn("cannot remove folder %s: %s", sb_buf_str(&d->shown), strerror(errno));
}

void sb_destdir_free(struct sb_destdir *d)
{
	if (!d)
		return;
	if (d->dirfd >= 0)
		close(d->dirfd);
	if (d->base >= 0)
		close(d->base);
	if (d->parent >= 0)
		close(d->parent);
	free(d->name);
	sb_buf_release(&d->shown);
	sb_buf_release(&d->root);
	sb_buf_release(&d->dirrel);
	free(d);
}
