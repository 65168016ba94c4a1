/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * walk.h - the source tree in duplicity's index order: depth-first pre-order,
 * each folder's children sorted by bytes. Excluded paths (select.h) are not
 * returned and excluded folders not entered; sockets are skipped. Folders
 * are opened relative to their parent (openat), so paths of any length work.
 * Memory: the names of one folder per level.
 *
 *   sb_walk_open(); while (sb_walk_next(w, &e) == 1) { ...; sb_walk_open_file(w) }
 *   sb_walk_free();
 *
 * Unreadable folders are reported (sb_warn), counted in sb_walk_errors(),
 * returned themselves, and their contents skipped.
 *
 * A source whose filesystem fails or goes away (sb_walk_lost(): EIO,
 * ENOTCONN, ESTALE, ENODEV... from a dead FUSE or NFS mount or a pulled
 * disk) is not "unreadable": the walk logs one line and returns SB_ERR_IO,
 * so that what it could not see is never taken for deleted. So is a root
 * that is no longer the folder the walk started in when the walk ends (a
 * mount unmounted, even lazily, during the run).
 */
#ifndef SEALBOX_WALK_H
#define SEALBOX_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "sealbox/buf.h"
#include "sealbox/select.h"

struct sb_walk;

struct sb_walk_entry {
	struct sb_buf path;	  /* relative to the root; root = "" */
	struct stat st;		  /* lstat */
	struct sb_buf linktarget; /* symlinks only */
};

int sb_walk_open(const char *root, const struct sb_select *sel, struct sb_walk **out);
/* 1: *e is the next entry (borrowed until the next call); 0: end; < 0 error. */
int sb_walk_next(struct sb_walk *w, const struct sb_walk_entry **e);
/* Open the current entry (a regular file) for reading; -1 with errno. */
int sb_walk_open_file(struct sb_walk *w);
/*
 * When errno e (from reading the current entry, what = "open", "read"...)
 * says the source's filesystem failed or is gone: log one line naming the
 * source, the entry and the error, and return SB_ERR_IO. Else 0.
 */
int sb_walk_lost(const struct sb_walk *w, const char *what, int e);
unsigned sb_walk_errors(const struct sb_walk *w);
/* True when path lies below a folder that could not be read. */
bool sb_walk_unread(const struct sb_walk *w, const char *path, size_t len);
void sb_walk_free(struct sb_walk *w);

/*
 * 1 when dir is the root of a mounted filesystem (a disk, a share, a FUSE
 * mount), 0 when not, < 0 (not logged) when it cannot be told. A source that was
 * a mount root at the last backup and is not one now is most likely an
 * unmounted disk's empty mount point.
 */
int sb_walk_mount_root(const char *dir);

#endif
