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
