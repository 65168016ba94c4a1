/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport_dirents.c - the listing of a target's files (struct
 * sb_dirent_list), which every target kind fills and the caller releases.
 */
#include <stdlib.h>
#include <string.h>

#include "sealbox/transport.h"

void sb_dirent_list_release(struct sb_dirent_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->sizes);
	memset(l, 0, sizeof(*l));
}
