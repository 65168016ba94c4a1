/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirent.c - the listing of a target's files (see dirent.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sealbox/dirent.h"

void sb_dirent_list_release(struct sb_dirent_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->sizes);
	memset(l, 0, sizeof(*l));
}

long sb_dirent_find(const struct sb_dirent_list *l, const char *name)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->names[mid], name);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
