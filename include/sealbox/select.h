/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * select.h - which source paths a backup includes (--exclude GLOB).
 *
 * Globs follow duplicity's shell-style rules: '*' and '?' never match '/',
 * '**' matches anything including '/', [...] classes. A glob that starts
 * with '/' or '**' is matched against the absolute path (SOURCE/rel); any
 * other glob against the path relative to SOURCE. A matching directory is
 * excluded with everything below it.
 */
#ifndef SEALBOX_SELECT_H
#define SEALBOX_SELECT_H

#include <stdbool.h>
#include <stddef.h>

struct sb_select;

/* root: the absolute source path (no trailing '/'). */
int sb_select_new(const char *root, const char *const *excludes, size_t n, struct sb_select **out);
void sb_select_free(struct sb_select *s);
/* rel: path relative to the root ("" is the root, never excluded). */
bool sb_select_excluded(const struct sb_select *s, const char *rel, size_t len);

/* The glob matcher itself (NUL-terminated strings). */
bool sb_glob_match(const char *pattern, const char *str, size_t len);

#endif
