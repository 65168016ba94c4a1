/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs.c - the FUSE operations of `sealbox mount` (libfuse3 lowlevel API).
 *
 * fuse_ino_t is the snapview node id (FUSE_ROOT_ID == SB_SNAPVIEW_TOP_ID).
 * Each operation validates, calls the core, and maps its sb_err to an
 * errno. The tree never changes during a mount, so entries and attributes
 * get long timeouts, folder listings and file pages stay in the kernel's
 * caches, and every modifying operation fails with EROFS. Sessions,
 * options and signals live in fs_session.c; reference counting in
 * fs_inode.c; the versions/ folder beside the snapshots in fs_versions.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "fs_impl.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/tar.h"

#define FS_BLOCK 4096
#define FS_NAME_MAX 1024 /* longest name we copy to add a NUL */

static struct sb_fs *fs_of(fuse_req_t req) { return fuse_req_userdata(req); }

/* The one sb_err -> errno translation of the mount. */
static int fs_errno(int err)
{
	switch (err) {
	case SB_OK: return 0;
	case SB_ERR_NOTFOUND: return ENOENT;
	case SB_ERR_NOMEM: return ENOMEM;
	case SB_ERR_PARAM: return EINVAL;
	case SB_ERR_PERM:
	case SB_ERR_AUTH: return EACCES;
	case SB_ERR_NOSPACE:
	case SB_ERR_DISKFULL: return ENOSPC;
	case SB_ERR_INTERRUPTED: return EINTR;
	case SB_ERR_KEY:
	case SB_ERR_NOSECRET:
	case SB_ERR_PASSPHRASE: return EACCES;
	default: return EIO; /* corrupt, bad signature, transport, local I/O */
	}
}

static mode_t fs_type_bits(char type)
{
	switch (type) {
	case SB_TAR_DIR: return S_IFDIR;
	case SB_TAR_SYMLINK: return S_IFLNK;
	case SB_TAR_FIFO: return S_IFIFO;
	case SB_TAR_CHR: return S_IFCHR;
	case SB_TAR_BLK: return S_IFBLK;
	default: return S_IFREG;
	}
}

static void fs_stat(const struct sb_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->id;
	st->st_mode = fs_type_bits(n->type) | (n->mode & 07777);
	st->st_nlink = n->nlink ? n->nlink : 1;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)n->size;
	st->st_blksize = FS_BLOCK;
	st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
	if (n->type == SB_TAR_CHR || n->type == SB_TAR_BLK)
		st->st_rdev = makedev(n->devmajor, n->devminor);
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = (time_t)n->mtime;
}

static void fs_entry(const struct sb_fs *fs, const struct sb_node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = n->id;
	e->generation = 1;
	e->entry_timeout = fs->entry_timeout;
	e->attr_timeout = fs->attr_timeout;
	fs_stat(n, &e->attr);
}

/* ---- names and attributes ---- */

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct sb_fs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct sb_node n;
	int rc;

	rc = fs_node_lookup(fs, parent, name, strlen(name), &n);
	if (rc == SB_ERR_NOTFOUND) {
		/* ino 0: a negative entry the kernel may cache as long */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->entry_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc) {
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	fs_entry(fs, &n, &e);
	if (fs_inode_ref(&fs->inodes, n.id, n.type == SB_TAR_DIR ? parent : 0)) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* a reply the kernel never saw (interrupted) is no reference */
	if (fuse_reply_entry(req, &e))
		fs_inode_forget(&fs->inodes, n.id, 1);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_inode_forget(&fs_of(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct sb_fs *fs = fs_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		fs_inode_forget(&fs->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sb_fs *fs = fs_of(req);
	struct sb_node n;
	struct stat st;
	int rc;

	rc = fs_node_getattr(fs, ino, &n);
	if (rc) {
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	fs_stat(&n, &st);
	fuse_reply_attr(req, &st, fs->attr_timeout);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct sb_node n;
	int rc;

	rc = fs_node_getattr(fs_of(req), ino, &n);
	if (rc)
		fuse_reply_err(req, fs_errno(rc));
	else if (n.type != SB_TAR_SYMLINK)
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_readlink(req, n.link);
}

/* ---- folders ---- */

/* An open folder: where its listing ended, once known (0: not yet). */
struct fs_dirh {
	uint64_t end; /* cookie after the last entry, + 1 */
};

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dirh *h = calloc(1, sizeof(*h));

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	/* listings never change: let the kernel keep them */
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi))
		free(h);
}

/* One READDIR(PLUS) reply being filled. */
struct dirfill {
	fuse_req_t req;
	struct sb_fs *fs;
	fuse_ino_t dir;
	char *buf;
	size_t size, used;
	int plus;
	int full;   /* an entry did not fit: the listing goes on */
	off_t last; /* cookie of the last entry added */
};

/* Add one entry whose cookie is off; nonzero when it did not fit. */
static int dir_add(struct dirfill *d, const char *name, const struct sb_node *n, off_t off)
{
	struct fuse_entry_param e;
	size_t need;

	if (!d->plus) {
		memset(&e.attr, 0, sizeof(e.attr));
		e.attr.st_ino = n->id;
		e.attr.st_mode = fs_type_bits(n->type);
		need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, name, &e.attr,
					 off);
		if (need > d->size - d->used)
			return d->full = 1;
		d->used += need;
		d->last = off;
		return 0;
	}
	fs_entry(d->fs, n, &e);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		e.ino = 0; /* no lookup reference for these */
	else if (fs_inode_ref(&d->fs->inodes, n->id, n->type == SB_TAR_DIR ? d->dir : 0))
		return 1;
	need = fuse_add_direntry_plus(d->req, d->buf + d->used, d->size - d->used, name, &e, off);
	if (need > d->size - d->used) {
		if (e.ino)
			fs_inode_forget(&d->fs->inodes, n->id, 1);
		return d->full = 1;
	}
	d->used += need;
	d->last = off;
	return 0;
}

/* Positions: 0 ".", 1 "..", 2 + p the core's position p. */
static int dir_cb(void *ctx, const char *name, size_t len, const struct sb_node *n,
		  uint64_t next_pos)
{
	char tmp[FS_NAME_MAX + 1];

	if (len > FS_NAME_MAX) {
		sb_warn("mount: skipping a name of %zu bytes", len);
		return 0;
	}
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	return dir_add(ctx, tmp, n, (off_t)(next_pos + 2));
}

static void dir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus,
		     struct fuse_file_info *fi)
{
	struct sb_fs *fs = fs_of(req);
	struct dirfill d = {.req = req, .fs = fs, .dir = ino, .size = size, .plus = plus};
	struct fs_dirh *h = (struct fs_dirh *)(uintptr_t)fi->fh;
	struct sb_node self, up;
	uint64_t parent;
	int rc = 0;

	/* the kernel asks once more past the end: answer without the core */
	if (h && h->end && (uint64_t)off + 1 == h->end) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	d.last = off;
	d.buf = malloc(size);
	if (!d.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 2 && (rc = fs_node_getattr(fs, ino, &self)))
		goto out;
	if (off < 1 && dir_add(&d, ".", &self, 1))
		goto out;
	if (off < 2) {
		parent = ino == FUSE_ROOT_ID ? FUSE_ROOT_ID : fs_inode_parent(&fs->inodes, ino);
		if (!parent || fs_node_getattr(fs, parent, &up))
			up = self; /* unknown: the kernel fills in ".." itself anyway */
		if (dir_add(&d, "..", &up, 2))
			goto out;
	}
	rc = fs_node_readdir(fs, ino, off < 2 ? 0 : (uint64_t)off - 2, dir_cb, &d);
	if (!rc && !d.full && h)
		h->end = (uint64_t)d.last + 1;
out:
	if (rc && !d.used)
		fuse_reply_err(req, fs_errno(rc));
	else
		fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	dir_read(req, ino, size, off, 0, fi);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	dir_read(req, ino, size, off, 1, fi);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	free((struct fs_dirh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* ---- files ---- */

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->keep_cache = 1; /* contents never change during the mount */
	fuse_reply_open(req, fi);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t got = 0;
	char *buf;
	int rc;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = sb_snapview_read(fs_of(req)->view, ino, buf, size, (uint64_t)off, &got);
	if (rc == SB_ERR_NOTFOUND)
		fuse_reply_err(req, EIO); /* a volume gone from the target, not the file */
	else if (rc)
		fuse_reply_err(req, fs_errno(rc));
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct sb_fs *fs = fs_of(req);
	struct statvfs st;

	memset(&st, 0, sizeof(st));
	st.f_bsize = FS_BLOCK;
	st.f_frsize = FS_BLOCK;
	/* nothing is free on a read-only view; sizes of the backups are not
	   known without reading them, so report the nodes the kernel holds */
	st.f_files = fs_inode_count(&fs->inodes) + 1 + sb_snapview_count(fs->view);
	st.f_namemax = 255;
	st.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
	fuse_reply_statfs(req, &st);
}

/* ---- the modifying operations: all EROFS ---- */

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, EROFS);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	fuse_reply_err(req, EROFS);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	fuse_reply_err(req, EROFS);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	fuse_reply_err(req, EROFS);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	fuse_reply_err(req, EROFS);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

/* ---- session start ---- */

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* mtimes never change: no need to drop cached pages on getattr */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/* nothing is written: no writeback cache, no locks to forward */
	conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.releasedir = fs_releasedir,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
	.statfs = fs_statfs,
	.setattr = fs_setattr,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.write = fs_write,
	.create = fs_create,
	.setxattr = fs_setxattr,
	.removexattr = fs_removexattr,
	.fallocate = fs_fallocate,
};
