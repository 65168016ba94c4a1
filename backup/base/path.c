/* SPDX-License-Identifier: GPL-2.0-or-later */
/* path.c - ordering and normalisation of backup paths (see path.h). */
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/path.h"

int sb_path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i;
	unsigned ca, cb;

	for (i = 0; i < n; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (ca == cb)
			continue;
		/* '/' ends a component: it sorts below every byte of a name. */
		if (ca == '/')
			return -1;
		if (cb == '/')
			return 1;
		return ca < cb ? -1 : 1;
	}
	if (alen == blen)
		return 0;
	return alen < blen ? -1 : 1;
}

bool sb_path_has_prefix(const char *path, size_t len, const char *prefix, size_t plen)
{
	if (plen == 0)
		return true;
	if (len < plen || memcmp(path, prefix, plen) != 0)
		return false;
	return len == plen || path[plen] == '/';
}

int sb_path_normalize(char *p, size_t len)
{
	size_t i = 0, o = 0, start, clen;

	while (i < len) {
		while (i < len && p[i] == '/')
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && p[i] != '/')
			i++;
		clen = i - start;
		if (memchr(p + start, '\0', clen))
			return SB_ERR_CORRUPT;
		if (clen == 1 && p[start] == '.')
			continue;
		if (clen == 2 && p[start] == '.' && p[start + 1] == '.')
			return SB_ERR_CORRUPT;
		if (o)
			p[o++] = '/';
		memmove(p + o, p + start, clen);
		o += clen;
	}
	if (o < len)
		p[o] = '\0';
	return (int)o;
}

char *sb_path_join(const char *prefix, const char *name, size_t len)
{
	size_t pl = strlen(prefix);
	char *p = malloc(pl + len + 2);

	if (!p)
		return NULL;
	memcpy(p, prefix, pl);
	if (pl)
		p[pl++] = '/';
	memcpy(p + pl, name, len);
	p[pl + len] = '\0';
	return p;
}
