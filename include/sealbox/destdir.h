/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * destdir.h - the folder a restore writes into, reached only through
 * descriptors. Every name below DEST is opened one at a time from DEST's
 * descriptor with O_NOFOLLOW | O_DIRECTORY, so a symlink inside DEST (there
 * before, or made during the restore) is never followed; DEST itself is the
 * user's path and may be a symlink to a folder.
 *
 * Calling sequence: sb_destdir_open(); sb_destdir_parent() for each object,
 * then create it relative to the descriptor returned; if the restore fails,
 * sb_destdir_quiet(), remove what was made, sb_destdir_undo(); at last
 * sb_destdir_free().
 */
#ifndef SEALBOX_DESTDIR_H
#define SEALBOX_DESTDIR_H

#include <stdbool.h>
#include <stddef.h>

struct sb_destdir;

/*
 * Opens dest for a restore. item NULL: the whole snapshot goes into dest,
 * made if missing (0700). Else the one item restored (its name is item)
 * goes into dest/item when dest is a folder, else it becomes dest. Without
 * force an existing target other than an empty folder is refused
 * (SB_ERR_EXISTS). Returns 0 with *out (caller frees with
 * sb_destdir_free), or a negative code, logged.
 */
int sb_destdir_open(const char *dest, const char *item, bool force, struct sb_destdir **out);

/* Where the restored root lands, relative to the base folder: "" or one name. Borrowed. */
const char *sb_destdir_root(const struct sb_destdir *d);

/* The base folder (dest, or its parent for an item that becomes dest), borrowed. */
int sb_destdir_fd(const struct sb_destdir *d);

/*
 * The base folder's path for messages: "" or ending in '/', so that
 * "%s%s" with a relative path names it. Borrowed.
 */
const char *sb_destdir_shown(const struct sb_destdir *d);

/*
 * Whether rel is a path relative to the base that stays below it: "" or
 * names joined by single '/', none of them "." or "..".
 */
bool sb_destdir_rel_ok(const char *rel, size_t len);

/*
 * The folder holding rel (relative to the base, sb_destdir_rel_ok), walked
 * to from the base without following any symlink: *dirfd is borrowed until
 * the next call, *name points into rel at its last name. A symlink or a
 * file in the way is SB_ERR_EXISTS; each failure is logged (naming the
 * path) unless sb_destdir_quiet() was called.
 */
int sb_destdir_parent(struct sb_destdir *d, const char *rel, int *dirfd, const char **name);

/* Logs "cannot WHAT <base>REL: <errno's text>"; returns errno's code. */
int sb_destdir_error(const struct sb_destdir *d, const char *what, const char *rel);

/* The restore failed: from now on sb_destdir_parent() logs nothing. */
void sb_destdir_quiet(struct sb_destdir *d);

/*
 * The restore failed and removed what it made below the base: put back the
 * base folder's times, and remove dest if sb_destdir_open() made it.
 */
void sb_destdir_undo(struct sb_destdir *d);

/* Closes and frees; accepts NULL. */
void sb_destdir_free(struct sb_destdir *d);

#endif
