/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * path.h - backup paths ("indexes" in duplicity's words).
 *
 * A path is a byte string of components joined by '/', relative to the backup
 * root; the root itself is the empty string. Components are never empty,
 * ".", ".." and never contain '/' or NUL. Paths are bytes, not text: no
 * encoding is assumed anywhere.
 */
#ifndef SEALBOX_PATH_H
#define SEALBOX_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Order of duplicity's index tuples: component by component, bytes compared
 * as unsigned. Equals memcmp with '/' sorting below every other byte.
 * Returns <0, 0, >0.
 */
int sb_path_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* True when path equals prefix or lies below it (prefix "" is the root). */
bool sb_path_has_prefix(const char *path, size_t len, const char *prefix, size_t plen);

/*
 * Normalise a path taken from an archive member or the command line: drop
 * leading "./" and "/", trailing '/', "." components and empty ones ("a//b"
 * becomes "a/b"), map "." to "". Returns the new length, or SB_ERR_CORRUPT
 * when a component is ".." or contains NUL. Works in place; NUL-terminates
 * the result when it got shorter.
 */
int sb_path_normalize(char *p, size_t len);

/* prefix + "/" + name (len bytes), or name alone when prefix is "" (the
 * top): a new string, NULL when out of memory. */
char *sb_path_join(const char *prefix, const char *name, size_t len);

#endif
