/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fsutil.h - small local-filesystem helpers shared by the core. */
#ifndef SEALBOX_FSUTIL_H
#define SEALBOX_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with mode for the folders it creates. Logs and returns an sb_err. */
int sb_mkdirs(const char *dir, mode_t mode);
/* The same, logging nothing (for an optional folder: a cache). */
int sb_mkdirs_quiet(const char *dir, mode_t mode);

/* The user's home folder: $HOME when set, else the passwd entry's; NULL if
 * neither. Borrowed (the environment's or getpwuid()'s storage). */
const char *sb_home_dir(void);

/* Write a whole file atomically (temp name, fsync, rename), mode 0600. */
int sb_write_file_atomic(const char *path, const void *data, size_t len);

#endif
