/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lock.h - one writer at a time per archive dir (and per local target).
 *
 * The lock is an flock(2) on DIR/NAME, a file holding the holder's pid. A
 * second sealbox refuses at once (SB_ERR_LOCKED, logged with the holder's
 * pid); a file left by a killed run holds no flock and is taken over. The
 * file is removed on release (a run that finds the file it locked gone or
 * replaced tries again, so removal never lets two runs in).
 */
#ifndef SEALBOX_LOCK_H
#define SEALBOX_LOCK_H

#include <stdbool.h>

struct sb_lock;

/*
 * Lock dir/name (dir must exist). what names the locked thing in messages
 * ("archive dir /x"). SB_ERR_LOCKED when held by another process; when the
 * file cannot be created: SB_ERR_PERM or SB_ERR_IO, logged unless quiet_fail
 * (for best-effort locks, e.g. on a read-only target).
 */
int sb_lock_take(const char *dir, const char *name, const char *what, bool quiet_fail,
		 struct sb_lock **out);

/* Remove the file and release the lock. NULL ok. */
void sb_lock_release(struct sb_lock *l);

#endif
