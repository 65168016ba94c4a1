/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirent.h - a listing of a target's files: names sorted, each with its
 * size. Every transport fills one (sb_transport_list()), the chain grouping
 * reads it (sb_collection_build()), and the caller releases it.
 */
#ifndef SEALBOX_DIRENT_H
#define SEALBOX_DIRENT_H

#include <stddef.h>
#include <stdint.h>

/* A target holds at most this many files; a listing past it is refused
 * while it is read, so a server cannot grow it without bound. */
#define SB_DIRENT_MAX 400000u

struct sb_dirent_list {
	char **names; /* sorted, each malloc'd */
	uint64_t *sizes;
	size_t n;
};

/* The index of name in l (binary search of the sorted names), or -1. */
long sb_dirent_find(const struct sb_dirent_list *l, const char *name);

/* Free l's names and sizes; l is empty afterwards. */
void sb_dirent_list_release(struct sb_dirent_list *l);

#endif
