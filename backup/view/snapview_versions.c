/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapview_versions.c - lookups in the view's index cache that both the tree
 * (snapview.c) and the file data (snapview_data.c) need: which set a set id
 * is, and which entries, base snapshot first, define a file's bytes.
 */
#include <stdlib.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "snapview_impl.h"

int sv_db_fail(struct sb_snapview *v, const char *what)
{
	sb_error("mount index cache: %s: %s", what, sqlite3_errmsg(v->db));
	return SB_ERR_IO;
}

static const struct sv_snap *snap_by_set(struct sb_snapview *v, int64_t set_id)
{
	size_t i;

	for (i = 0; i < v->nsnaps; i++)
		if (v->snaps[i].set_id == set_id)
			return &v->snaps[i];
	return NULL;
}

const struct sb_set *sv_set_by_id(struct sb_snapview *v, int64_t set_id)
{
	const struct sv_snap *sn = snap_by_set(v, set_id);

	return sn ? sn->set : NULL;
}

int sv_versions(struct sb_snapview *v, int64_t rowid, struct sv_version **out, size_t *n)
{
	struct sv_version *vs = NULL, *nv;
	const struct sv_snap *sn;
	sqlite3_stmt *st = NULL;
	struct sb_buf path = SB_BUF_INIT;
	int64_t set_id = 0;
	size_t k, cnt = 0;
	int rc = 0, found;

	*n = 0;
	if (sqlite3_prepare_v2(v->db, "SELECT set_id, path FROM entries WHERE rowid = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return sv_db_fail(v, "prepare");
	sqlite3_bind_int64(st, 1, rowid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		set_id = sqlite3_column_int64(st, 0);
		rc = sb_buf_set(&path, sqlite3_column_blob(st, 1),
				(size_t)sqlite3_column_bytes(st, 1));
	} else {
		rc = SB_ERR_NOTFOUND;
	}
	sqlite3_finalize(st);
	st = NULL;
	sn = rc ? NULL : snap_by_set(v, set_id);
	if (!rc && !sn)
		rc = SB_ERR_NOTFOUND;
	if (!rc &&
	    sqlite3_prepare_v2(v->db,
			       "SELECT rowid, kind, vol, off, size FROM entries WHERE set_id = ? "
			       "AND path = ?",
			       -1, &st, NULL) != SQLITE_OK)
		rc = sv_db_fail(v, "prepare");
	/* newest first, back to the snapshot the deltas apply to */
	for (k = sn ? sn->seq + 1 : 0; !rc && k-- > 0;) {
		int64_t sid = v->chain_set_ids[v->chain_base[sn->chain] + k];

		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_blob(st, 2, path.data ? (const void *)path.data : "", (int)path.len,
				  SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
		if (found) {
			nv = realloc(vs, (cnt + 1) * sizeof(*vs));
			if (!nv) {
				rc = SB_ERR_NOMEM;
				break;
			}
			vs = nv;
			vs[cnt].rowid = sqlite3_column_int64(st, 0);
			vs[cnt].kind = (char)sqlite3_column_text(st, 1)[0];
			vs[cnt].vol = (unsigned)sqlite3_column_int64(st, 2);
			vs[cnt].offset = (uint64_t)sqlite3_column_int64(st, 3);
			vs[cnt].size = (uint64_t)sqlite3_column_int64(st, 4);
			vs[cnt].set_id = sid;
			cnt++;
		}
		sqlite3_reset(st);
		if (found && vs[cnt - 1].kind != 'd')
			break;
	}
	sqlite3_finalize(st);
	sb_buf_release(&path);
	if (!rc && (!cnt || vs[cnt - 1].kind != 's')) {
		sb_error("no full copy to apply the deltas of a file to");
		rc = SB_ERR_CORRUPT;
	}
	if (rc) {
		free(vs);
		return rc;
	}
	for (k = 0; k < cnt / 2; k++) { /* oldest first */
		struct sv_version t = vs[k];

		vs[k] = vs[cnt - 1 - k];
		vs[cnt - 1 - k] = t;
	}
	*out = vs;
	*n = cnt;
	return 0;
}
