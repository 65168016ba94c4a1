/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs.h - the FUSE side of `sealbox mount`: a read-only libfuse3 lowlevel
 * filesystem over a struct sb_snapview. Used by backup/cli/cmd_mount.c only.
 *
 * Calling sequence (the CLI opens the view first, so errors come early):
 *   sb_fs_new(&opts, &fs)   parse the -o options, create the FUSE session
 *   sb_fs_mount(fs)         install SIGINT/SIGTERM/SIGHUP handlers, mount
 *   sb_fs_run(fs)           serve requests (several threads) until unmounted
 *                           or a signal arrives
 *   sb_fs_free(fs)          unmount if still mounted, restore signal
 *                           handlers, free; NULL ok
 * The view is borrowed: close it after sb_fs_free(). Nothing here exits the
 * process; errors are logged once and returned as sb_err codes.
 */
#ifndef SEALBOX_FS_H
#define SEALBOX_FS_H

#include <stdbool.h>

#include "sealbox/snapview.h"

struct sb_fs;

struct sb_fs_opts {
	struct sb_snapview *view;      /* borrowed until sb_fs_free() */
	const char *mountpoint;	       /* an existing folder */
	const char *const *mount_opts; /* NULL-terminated -o arguments as given
					  ("allow_other,max_threads=8"), or NULL */
	bool debug;		       /* libfuse's request trace on stderr */
};

/*
 * Parse the options (ours: entry_timeout=, attr_timeout=, max_threads=,
 * max_idle_threads=, clone_fd; fstab noise is dropped; the rest goes to
 * libfuse and the kernel) and create the session. SB_ERR_PARAM for a bad
 * option (logged).
 */
int sb_fs_new(const struct sb_fs_opts *o, struct sb_fs **out);
int sb_fs_mount(struct sb_fs *fs);
/* 0 when unmounted or stopped by a signal, else SB_ERR_IO (logged). */
int sb_fs_run(struct sb_fs *fs);
void sb_fs_free(struct sb_fs *fs);

/* Route libfuse's own messages through sb_log() (process-wide). */
void sb_fs_route_fuse_log(void);

#endif
