/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapview_cached.c - what the view's index cache (index.db) already holds
 * of a target: the key of a set's row, and how many sets of a proven
 * collection would have to be fetched and decrypted before a view opens.
 * Reads the cache only; snapview.c fills it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sealbox/error.h"
#include "sealbox/gate.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "snapview_impl.h"

void sv_set_key(struct sb_gate *g, const struct sb_set *s, char *key, size_t size)
{
	unsigned char sha[32];
	char hex[65];

	if (sb_gate_seal_sha(g, s, sha)) {
		sb_hex(sha, 32, hex);
		snprintf(key, size, "%s %s", s->manifest, hex);
	} else {
		snprintf(key, size, "%s", s->manifest);
	}
}

int sb_snapview_uncached(const struct sb_snapview_opts *o, size_t *missing)
{
	const struct sb_collection *coll = sb_gate_collection(o->gate);
	const char *dir = o->index_dir ? o->index_dir : o->cache_dir;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	char path[4200], key[512];
	struct stat sb;
	size_t c, k, n = 0;
	int rc = 0;

	for (c = 0; c < coll->nchains; c++)
		n += coll->chains[c].nsets;
	*missing = n;
	snprintf(path, sizeof(path), "%s/index.db", dir);
	if (stat(path, &sb) < 0)
		return 0; /* nothing cached yet */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT complete FROM sets WHERE target = ? AND name = ? AND "
			       "complete = 1",
			       -1, &st, NULL) != SQLITE_OK) {
		sb_error("index cache %s: %s", sb_log_str(path, strlen(path)),
			 db ? sqlite3_errmsg(db) : "cannot open");
		rc = SB_ERR_IO;
		goto out;
	}
	for (c = 0; c < coll->nchains; c++) {
		for (k = 0; k < coll->chains[c].nsets; k++) {
			sv_set_key(o->gate, &coll->chains[c].sets[k], key, sizeof(key));
			sqlite3_bind_text(st, 1, sb_transport_describe(o->target), -1,
					  SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				n--;
			sqlite3_reset(st);
		}
	}
	*missing = n;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
