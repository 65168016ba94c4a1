/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pruned.c - the seals of the chains prune removed (see pruned.h), one
 * catalog fact holding their SHA-256s in hex, separated by spaces. One
 * entry per chain removed: a few kilobytes after years of weekly chains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/gate.h"
#include "sealbox/hash.h"
#include "sealbox/pruned.h"

#define PRUNED_KEY "pruned-seals"

int sb_pruned_has(struct sb_catalog *cat, const unsigned char sha[32])
{
	char hex[65], *val = NULL;
	int rc = sb_catalog_get(cat, PRUNED_KEY, &val);

	if (rc == SB_ERR_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	sb_hex(sha, 32, hex);
	rc = strstr(val, hex) != NULL;
	free(val);
	return rc;
}

int sb_pruned_add(struct sb_catalog *cat, const unsigned char sha[32])
{
	char hex[65], *val = NULL, *nv;
	int rc = sb_pruned_has(cat, sha);

	if (rc)
		return rc < 0 ? rc : 0;
	rc = sb_catalog_get(cat, PRUNED_KEY, &val);
	if (rc && rc != SB_ERR_NOTFOUND)
		return rc;
	sb_hex(sha, 32, hex);
	nv = malloc((val ? strlen(val) + 1 : 0) + sizeof(hex));
	if (!nv) {
		free(val);
		return SB_ERR_NOMEM;
	}
	sprintf(nv, "%s%s%s", val ? val : "", val ? " " : "", hex);
	rc = sb_catalog_set(cat, PRUNED_KEY, nv);
	free(nv);
	free(val);
	return rc;
}

int sb_pruned_remember(struct sb_catalog *cat, struct sb_gate *g, const struct sb_chain *ch)
{
	const struct sb_set *s = &ch->sets[ch->nsets - 1];
	struct sb_buf text = SB_BUF_INIT;
	unsigned char sha[32];
	int rc;

	if (!s->seal)
		return 0;
	rc = sb_gate_get_small(g, s->seal, SB_GATE_MAX_SEAL, &text);
	if (!rc)
		rc = sb_hash_buf(SB_HASH_ALG_SHA256, text.data, text.len, sha);
	if (!rc)
		rc = sb_pruned_add(cat, sha);
	sb_buf_release(&text);
	return rc;
}
