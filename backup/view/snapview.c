/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapview.c - snapshots as trees (see snapview.h): imports every set's
 * index into sqlite (the remote, signed index of sealbox sets, or one built
 * from the verified volumes of duplicity sets, once), materialises a
 * snapshot's tree into the nodes table the first time it is visited, and
 * answers getattr/lookup/readdir from there. File data: snapview_data.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/delta.h"
#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/fsutil.h"
#include "sealbox/idname.h"
#include "sealbox/index.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/progress.h"
#include "sealbox/tar.h"
#include "sealbox/timefmt.h"
#include "sealbox/verify.h"
#include "sealbox/setstream.h"
#include "snapview_impl.h"

#define LATEST_ID 2

/* Columns every node query returns, in this order, from column 0. */
#define NODE_COLUMNS                                                                               \
	"n.id, n.nlink, n.alias, e.type, e.mode, e.uid, e.gid, e.uname, e.gname, e.mtime, "        \
	"e.size, e.dmaj, e.dmin, e.link, e.rowid, n.name FROM nodes n JOIN entries e ON "          \
	"e.rowid = n.eref "

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS sets(id INTEGER PRIMARY KEY, target TEXT NOT NULL, "
	"  name TEXT NOT NULL, complete INTEGER NOT NULL DEFAULT 0, materialized INTEGER NOT NULL "
	"  DEFAULT 0, UNIQUE(target, name));"
	"CREATE TABLE IF NOT EXISTS entries(set_id INTEGER NOT NULL, path BLOB NOT NULL, "
	"  kind TEXT NOT NULL, type INTEGER NOT NULL, mode INTEGER, uid INTEGER, gid INTEGER, "
	"  uname TEXT, gname TEXT, mtime INTEGER, size INTEGER, vol INTEGER, off INTEGER, "
	"  dmaj INTEGER, dmin INTEGER, lgroup INTEGER, link BLOB);"
	"CREATE INDEX IF NOT EXISTS entries_path ON entries(set_id, path);"
	"CREATE TABLE IF NOT EXISTS nodes(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, "
	"  name BLOB NOT NULL, eref INTEGER NOT NULL, nlink INTEGER NOT NULL, alias INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS nodes_parent ON nodes(parent, name);";

static int db_exec(struct sb_snapview *v, const char *sql)
{
	return sqlite3_exec(v->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sv_db_fail(v, sql);
}

/*
 * End the transaction that filled one set's rows: on success set the set's
 * flag column (complete, materialized) and commit, else roll back.
 */
static int end_set_txn(struct sb_snapview *v, int rc, const char *flag, int64_t set_id)
{
	char sql[128];

	if (!rc) {
		snprintf(sql, sizeof(sql), "UPDATE sets SET %s = 1 WHERE id = %lld", flag,
			 (long long)set_id);
		rc = db_exec(v, sql);
	}
	if (!rc)
		return db_exec(v, "COMMIT");
	db_exec(v, "ROLLBACK");
	return rc;
}

/* ---- importing indexes ---- */

struct importer {
	struct sb_snapview *v;
	sqlite3_stmt *ins;
	int64_t set_id;
};

static int insert_rec(struct importer *im, const struct sb_index_rec *r)
{
	sqlite3_stmt *st = im->ins;
	char kind[2] = {r->kind, 0};
	int rc = 0;

	sqlite3_bind_int64(st, 1, im->set_id);
	sqlite3_bind_blob(st, 2, r->path.data ? (const void *)r->path.data : "", (int)r->path.len,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind, 1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, r->type);
	sqlite3_bind_int64(st, 5, r->mode);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->uid);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)r->gid);
	sqlite3_bind_text(st, 8, r->uname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->gname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, r->mtime);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)r->size);
	sqlite3_bind_int64(st, 12, r->vol);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)r->offset);
	sqlite3_bind_int64(st, 14, r->devmajor);
	sqlite3_bind_int64(st, 15, r->devminor);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)r->linkgroup);
	sqlite3_bind_blob(st, 17, r->link.data ? (const void *)r->link.data : "", (int)r->link.len,
			  SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sv_db_fail(im->v, "insert");
	sqlite3_reset(st);
	return rc;
}

static int insert_cb(void *ctx, const struct sb_index_rec *r) { return insert_rec(ctx, r); }

/* The remote index of a sealbox set: decrypted, signer checked, parsed. */
static int import_remote(struct importer *im, const struct sb_set *s)
{
	struct sb_buf text = SB_BUF_INIT;
	int rc;

	rc = sb_gate_fetch_buf(im->v->o.gate, s, s->index, NULL, SB_INDEX_MAX, &text);
	if (!rc)
		rc = sb_index_walk(text.data, text.len, s->index, insert_cb, im);
	sb_buf_release(&text);
	return rc;
}

static ssize_t count_read(void *ctx, void *buf, size_t n) { return ss_read(ctx, buf, n); }

/* The same records, built from a set's volumes (duplicity sets). */
static int import_build(struct importer *im, const struct sb_set *s)
{
	struct sb_snapview *v = im->v;
	struct sb_manifest m;
	struct setstream *ss = NULL;
	const struct ss_object *o;
	struct sb_index_rec r;
	char buf[65536];
	uint64_t nrec = 0, bytes = 0; /* for the progress line */
	ssize_t n;
	int rc, got;

	sb_notice("building the index of %s from its volumes (once)", s->manifest);
	sb_manifest_init(&m);
	sb_index_rec_init(&r);
	rc = sb_gate_manifest(v->o.gate, s, &m);
	if (!rc)
		rc = ss_open(v->o.gate, s, &m, "", &ss);
	while (!rc && (got = ss_peek(ss, &o)) == 1) {
		r.kind = o->kind == SS_DELETED ? 'x' : o->kind == SS_DIFF ? 'd' : 's';
		r.type = o->hdr.type;
		r.mode = o->hdr.mode;
		r.uid = o->hdr.uid;
		r.gid = o->hdr.gid;
		r.mtime = o->hdr.mtime;
		r.vol = o->vol;
		r.offset = o->offset;
		r.devmajor = o->hdr.devmajor;
		r.devminor = o->hdr.devminor;
		r.linkgroup = 0;
		snprintf(r.uname, sizeof(r.uname), "%s", o->hdr.uname);
		snprintf(r.gname, sizeof(r.gname), "%s", o->hdr.gname);
		r.size = 0;
		if ((rc = sb_buf_set(&r.path, o->path.data, o->path.len)) ||
		    (rc = sb_buf_set(&r.link, o->hdr.linkname.data, o->hdr.linkname.len)))
			break;
		if (r.kind == 'd') {
			rc = sb_delta_size((struct sb_reader){count_read, ss}, &r.size);
		} else if (r.kind == 's' && r.type == SB_TAR_REG) {
			while ((n = ss_read(ss, buf, sizeof(buf))) > 0)
				r.size += (uint64_t)n;
			rc = n < 0 ? (int)n : 0;
		}
		if (!rc)
			rc = insert_rec(im, &r);
		if (!rc)
			sb_progress_update(++nrec, bytes += r.size, (const char *)r.path.data,
					   r.path.len);
		if (!rc)
			rc = ss_next(ss);
	}
	if (!rc && got < 0)
		rc = got;
	ss_free(ss);
	sb_index_rec_release(&r);
	sb_manifest_release(&m);
	return rc;
}

/*
 * A set's row in the index cache is keyed by its manifest's name and, for a
 * sealed set, its seal's SHA-256: a set the server replaced is a new row,
 * never served from what was imported of the old one.
 */
static int set_row(struct sb_snapview *v, const struct sb_set *s, int64_t *id, int *complete)
{
	char key[512];
	sqlite3_stmt *st;
	int rc = 0;

	sv_set_key(v->o.gate, s, key, sizeof(key));
	if (sqlite3_prepare_v2(v->db, "INSERT OR IGNORE INTO sets(target, name) VALUES(?, ?)", -1,
			       &st, NULL) != SQLITE_OK)
		return sv_db_fail(v, "prepare");
	sqlite3_bind_text(st, 1, v->target_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sv_db_fail(v, "insert set");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(
		    v->db,
		    "SELECT id, complete, materialized FROM sets WHERE target = ? AND name = ?", -1,
		    &st, NULL) != SQLITE_OK)
		return sv_db_fail(v, "prepare");
	sqlite3_bind_text(st, 1, v->target_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		complete[0] = sqlite3_column_int(st, 1);
		complete[1] = sqlite3_column_int(st, 2);
	} else {
		rc = sv_db_fail(v, "read set");
	}
	sqlite3_finalize(st);
	return rc;
}

static int import_set(struct sb_snapview *v, struct sv_snap *sn)
{
	struct importer im = {.v = v, .set_id = sn->set_id};
	char sql[128];
	int rc;

	rc = db_exec(v, "BEGIN");
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql), "DELETE FROM entries WHERE set_id = %lld",
		 (long long)sn->set_id);
	rc = db_exec(v, sql);
	if (!rc &&
	    sqlite3_prepare_v2(v->db,
			       "INSERT INTO entries(set_id, path, kind, type, mode, uid, gid, "
			       "uname, gname, mtime, size, vol, off, dmaj, dmin, lgroup, link) "
			       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &im.ins, NULL) != SQLITE_OK)
		rc = sv_db_fail(v, "prepare");
	if (!rc)
		rc = sn->set->index ? import_remote(&im, sn->set) : import_build(&im, sn->set);
	sqlite3_finalize(im.ins);
	return end_set_txn(v, rc, "complete", sn->set_id);
}

/* ---- materialising a snapshot's tree ---- */

struct mrow {
	int64_t rowid;
	char *path;
	size_t len;
	size_t seq;
	char kind;
	int type;
	uint64_t lgroup;
	int64_t id, parent, alias;
	uint32_t nlink;
};

static int cmp_mrow(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;
	int c = sb_path_cmp(x->path, x->len, y->path, y->len);

	if (c)
		return c;
	return x->seq > y->seq ? -1 : x->seq < y->seq ? 1 : 0;
}

static int cmp_group(const void *a, const void *b)
{
	const struct mrow *const *x = a, *const *y = b;

	if ((*x)->lgroup != (*y)->lgroup)
		return (*x)->lgroup < (*y)->lgroup ? -1 : 1;
	return (*x)->id < (*y)->id ? -1 : 1;
}

static int load_rows(struct sb_snapview *v, const struct sv_snap *sn, struct mrow **out, size_t *n)
{
	const int64_t *ids = v->chain_set_ids + v->chain_base[sn->chain];
	struct mrow *rows = NULL, *nr;
	size_t cap = 0, k;
	sqlite3_stmt *st;
	int rc = 0;

	*n = 0;
	if (sqlite3_prepare_v2(
		    v->db, "SELECT rowid, path, kind, type, lgroup FROM entries WHERE set_id = ?",
		    -1, &st, NULL) != SQLITE_OK)
		return sv_db_fail(v, "prepare");
	for (k = 0; k <= sn->seq && !rc; k++) {
		sqlite3_bind_int64(st, 1, ids[k]);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const void *p = sqlite3_column_blob(st, 1);
			size_t len = (size_t)sqlite3_column_bytes(st, 1);

			if (*n == cap) {
				cap = cap ? cap * 2 : 1024;
				nr = realloc(rows, cap * sizeof(*rows));
				if (!nr) {
					rc = SB_ERR_NOMEM;
					break;
				}
				rows = nr;
			}
			memset(&rows[*n], 0, sizeof(rows[0]));
			rows[*n].rowid = sqlite3_column_int64(st, 0);
			rows[*n].path = malloc(len + 1);
			if (!rows[*n].path) {
				rc = SB_ERR_NOMEM;
				break;
			}
			if (len)
				memcpy(rows[*n].path, p, len);
			rows[*n].path[len] = '\0';
			rows[*n].len = len;
			rows[*n].seq = k;
			rows[*n].kind = (char)sqlite3_column_text(st, 2)[0];
			rows[*n].type = sqlite3_column_int(st, 3);
			rows[*n].lgroup = (uint64_t)sqlite3_column_int64(st, 4);
			(*n)++;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	*out = rows;
	return rc;
}

static int materialize(struct sb_snapview *v, struct sv_snap *sn)
{
	struct mrow *rows = NULL, **stack = NULL, **groups = NULL;
	size_t n = 0, m = 0, depth = 0, i, j, ng = 0;
	int64_t base = sn->set_id << 32;
	sqlite3_stmt *st = NULL;
	char sql[160];
	int rc;

	if (sn->materialized)
		return 0;
	rc = load_rows(v, sn, &rows, &n);
	if (rc)
		goto out;
	if (n) /* qsort(NULL, 0) is undefined */
		qsort(rows, n, sizeof(*rows), cmp_mrow);
	stack = calloc(n + 1, sizeof(*stack));
	groups = calloc(n + 1, sizeof(*groups));
	if (!stack || !groups) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	/* keep the newest entry per path, drop deleted ones and orphans */
	for (i = 0; i < n; i++) {
		struct mrow *r = &rows[i];

		if (i && !sb_path_cmp(r->path, r->len, rows[i - 1].path, rows[i - 1].len))
			continue;
		if (r->kind == 'x')
			continue;
		if (r->len == 0) {
			if (m) /* a second root cannot happen */
				continue;
			r->id = base;
			r->parent = 0;
			depth = 0;
			stack[depth++] = r;
		} else {
			while (depth && !sb_path_has_prefix(r->path, r->len, stack[depth - 1]->path,
							    stack[depth - 1]->len))
				depth--;
			if (!depth || stack[depth - 1]->type != SB_TAR_DIR ||
			    !sb_path_has_prefix(r->path, r->len, stack[depth - 1]->path,
						stack[depth - 1]->len) ||
			    memchr(r->path + stack[depth - 1]->len +
					   (stack[depth - 1]->len ? 1 : 0),
				   '/',
				   r->len - stack[depth - 1]->len -
					   (stack[depth - 1]->len ? 1 : 0)))
				continue; /* no parent folder in this snapshot */
			r->id = base + (int64_t)m;
			r->parent = stack[depth - 1]->id;
			if (r->type == SB_TAR_DIR) {
				stack[depth - 1]->nlink++;
				stack[depth++] = r;
			}
		}
		r->nlink += r->type == SB_TAR_DIR ? 2 : 1;
		r->alias = r->id;
		if (r->lgroup && r->type == SB_TAR_REG)
			groups[ng++] = r;
		m++;
	}
	if (!m) {
		sb_error("snapshot of %s has no root folder", sn->set->manifest);
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	/* hard links: one id per group, the group's size as link count */
	qsort(groups, ng, sizeof(*groups), cmp_group);
	for (i = 0; i < ng; i = j) {
		for (j = i; j < ng && groups[j]->lgroup == groups[i]->lgroup; j++)
			groups[j]->alias = groups[i]->id;
		for (size_t k = i; k < j; k++)
			groups[k]->nlink = (uint32_t)(j - i);
	}
	rc = db_exec(v, "BEGIN");
	if (rc)
		goto out;
	snprintf(sql, sizeof(sql), "DELETE FROM nodes WHERE id >= %lld AND id < %lld",
		 (long long)base, (long long)(base + (1ll << 32)));
	rc = db_exec(v, sql);
	if (!rc && sqlite3_prepare_v2(v->db,
				      "INSERT INTO nodes(id, parent, name, eref, nlink, alias) "
				      "VALUES(?,?,?,?,?,?)",
				      -1, &st, NULL) != SQLITE_OK)
		rc = sv_db_fail(v, "prepare");
	for (i = 0; i < n && !rc; i++) {
		struct mrow *r = &rows[i];
		const char *name;

		if (!r->id)
			continue;
		name = r->len ? strrchr(r->path, '/') : NULL;
		name = name ? name + 1 : r->path;
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int64(st, 2, r->parent);
		sqlite3_bind_blob(st, 3, name, (int)(r->len - (size_t)(name - r->path)),
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, r->rowid);
		sqlite3_bind_int64(st, 5, r->nlink);
		sqlite3_bind_int64(st, 6, r->alias);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sv_db_fail(v, "insert node");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	rc = end_set_txn(v, rc, "materialized", sn->set_id);
	if (!rc)
		sn->materialized = 1;
out:
	for (i = 0; i < n; i++)
		free(rows[i].path);
	free(rows);
	free(stack);
	free(groups);
	return rc;
}

/* ---- open / close ---- */

int sb_snapview_open(const struct sb_snapview_opts *o, struct sb_snapview **out)
{
	struct sb_snapview *v = calloc(1, sizeof(*v));
	const char *dir = o->index_dir ? o->index_dir : o->cache_dir;
	char path[4096];
	size_t c, k, total = 0;
	int rc;

	if (!v)
		return SB_ERR_NOMEM;
	v->o = *o;
	if (!v->o.cache_size)
		v->o.cache_size = 1ull << 30;
	pthread_mutex_init(&v->db_lock, NULL);
	pthread_mutex_init(&v->build_lock, NULL);
	pthread_mutex_init(&v->cache_lock, NULL);
	pthread_cond_init(&v->cache_cv, NULL);
	v->target_id = strdup(sb_transport_describe(o->target));
	if (!v->target_id) {
		rc = SB_ERR_NOMEM;
		goto fail;
	}
	v->coll = sb_gate_collection(o->gate);
	rc = sb_mkdirs(dir, 0700);
	if (rc)
		goto fail;
	snprintf(path, sizeof(path), "%s/index.db", dir);
	if (sqlite3_open(path, &v->db) != SQLITE_OK) {
		rc = sv_db_fail(v, "open");
		goto fail;
	}
	sqlite3_busy_timeout(v->db, 10000);
	if ((rc = db_exec(v, schema)))
		goto fail;
	if (sqlite3_prepare_v2(v->db, "SELECT " NODE_COLUMNS "WHERE n.id = ?", -1, &v->st_attrs,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(v->db, "SELECT " NODE_COLUMNS "WHERE n.parent = ? AND n.name = ?",
			       -1, &v->st_lookup, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    v->db, "SELECT " NODE_COLUMNS "WHERE n.parent = ? AND n.id > ? ORDER BY n.id",
		    -1, &v->st_readdir, NULL) != SQLITE_OK) {
		rc = sv_db_fail(v, "prepare");
		goto fail;
	}
	for (c = 0; c < v->coll->nchains; c++)
		total += v->coll->chains[c].nsets;
	v->snaps = calloc(total ? total : 1, sizeof(*v->snaps));
	v->chain_set_ids = calloc(total ? total : 1, sizeof(*v->chain_set_ids));
	v->chain_base = calloc(v->coll->nchains ? v->coll->nchains : 1, sizeof(*v->chain_base));
	if (!v->snaps || !v->chain_set_ids || !v->chain_base) {
		rc = SB_ERR_NOMEM;
		goto fail;
	}
	for (c = 0; c < v->coll->nchains; c++) {
		/* every chain whole and proven, or nothing is mounted */
		if ((rc = sb_gate_prove(o->gate, &v->coll->chains[c], v->coll->chains[c].nsets))) {
			sb_error("refusing to mount %s", sb_transport_describe(o->target));
			goto fail;
		}
	}
	for (c = 0; c < v->coll->nchains; c++) {
		v->chain_base[c] = v->nsnaps;
		for (k = 0; k < v->coll->chains[c].nsets; k++) {
			struct sv_snap *sn = &v->snaps[v->nsnaps];
			int flags[2] = {0, 0};

			sn->set = &v->coll->chains[c].sets[k];
			sn->chain = c;
			sn->seq = k;
			if ((rc = set_row(v, sn->set, &sn->set_id, flags)))
				goto fail;
			if (!flags[0] && (rc = import_set(v, sn))) {
				sb_error("cannot read the index of %s: refusing to mount",
					 sn->set->manifest);
				goto fail;
			}
			sn->materialized = flags[0] && flags[1];
			v->chain_set_ids[v->nsnaps++] = sn->set_id;
		}
	}
	*out = v;
	return 0;
fail:
	sb_snapview_close(v);
	return rc;
}

void sb_snapview_close(struct sb_snapview *v)
{
	if (!v)
		return;
	sv_prefetch_join(v);
	sv_cache_clear(v);
	sqlite3_finalize(v->st_attrs);
	sqlite3_finalize(v->st_lookup);
	sqlite3_finalize(v->st_readdir);
	sqlite3_close(v->db);
	free(v->snaps);
	free(v->chain_set_ids);
	free(v->chain_base);
	free(v->target_id);
	pthread_mutex_destroy(&v->db_lock);
	pthread_mutex_destroy(&v->build_lock);
	pthread_mutex_destroy(&v->cache_lock);
	pthread_cond_destroy(&v->cache_cv);
	free(v);
}

size_t sb_snapview_count(const struct sb_snapview *v) { return v->nsnaps; }

/* Snapshots are listed by time; snaps[] is by chain, so sort on the fly. */
static size_t by_time(const struct sb_snapview *v, size_t k)
{
	size_t i, j, rank;

	for (i = 0; i < v->nsnaps; i++) {
		rank = 0;
		for (j = 0; j < v->nsnaps; j++)
			if (v->snaps[j].set->t1 < v->snaps[i].set->t1 ||
			    (v->snaps[j].set->t1 == v->snaps[i].set->t1 && j < i))
				rank++;
		if (rank == k)
			return i;
	}
	return 0;
}

/* Time of snapshot k (0 <= k < count); its folder name is the ISO form. */
static time_t snap_time(const struct sb_snapview *v, size_t k)
{
	return v->snaps[by_time(v, k)].set->t1;
}

/* Node id of snapshot k's top folder. */
static uint64_t snap_root(const struct sb_snapview *v, size_t k)
{
	return (uint64_t)v->snaps[by_time(v, k)].set_id << 32;
}

/* ---- attributes ---- */

static void top_attrs(struct sb_snapview *v, struct sb_node *n)
{
	memset(n, 0, sizeof(*n));
	n->id = SB_SNAPVIEW_TOP_ID;
	n->type = SB_TAR_DIR;
	n->mode = 0555;
	n->uid = getuid();
	n->gid = getgid();
	n->nlink = 2 + (uint32_t)v->nsnaps;
	n->size = 4096;
	n->mtime = v->nsnaps ? snap_time(v, v->nsnaps - 1) : 0;
}

static void latest_attrs(struct sb_snapview *v, struct sb_node *n)
{
	memset(n, 0, sizeof(*n));
	n->id = LATEST_ID;
	n->type = SB_TAR_SYMLINK;
	n->mode = 0777;
	n->uid = getuid();
	n->gid = getgid();
	n->nlink = 1;
	n->mtime = snap_time(v, v->nsnaps - 1);
	sb_time_format_iso((time_t)n->mtime, n->link);
	n->size = strlen(n->link);
}

/* Materialise the snapshot an id belongs to. Called with db_lock held. */
static int ensure_snapshot(struct sb_snapview *v, uint64_t id)
{
	size_t i;

	for (i = 0; i < v->nsnaps; i++)
		if ((uint64_t)v->snaps[i].set_id == id >> 32)
			return v->snaps[i].materialized ? 0 : materialize(v, &v->snaps[i]);
	return SB_ERR_NOTFOUND;
}

/* A node's attributes from a row of NODE_COLUMNS. */
static void fill_node(sqlite3_stmt *st, struct sb_node *n, int64_t *rowid)
{
	const char *un = (const char *)sqlite3_column_text(st, 7);
	const char *gn = (const char *)sqlite3_column_text(st, 8);
	const void *link = sqlite3_column_blob(st, 13);
	size_t llen = (size_t)sqlite3_column_bytes(st, 13);
	uid_t uid;
	gid_t gid;

	memset(n, 0, sizeof(*n) - sizeof(n->link));
	n->link[0] = '\0';
	n->id = (uint64_t)sqlite3_column_int64(st, 2);
	n->nlink = (uint32_t)sqlite3_column_int64(st, 1);
	n->type = (char)sqlite3_column_int(st, 3);
	n->mode = (uint32_t)sqlite3_column_int64(st, 4) & 07777;
	n->uid = sb_name_uid(un ? un : "", &uid) ? uid : (uid_t)sqlite3_column_int64(st, 5);
	n->gid = sb_name_gid(gn ? gn : "", &gid) ? gid : (gid_t)sqlite3_column_int64(st, 6);
	n->mtime = sqlite3_column_int64(st, 9);
	n->size = (uint64_t)sqlite3_column_int64(st, 10);
	n->devmajor = (uint32_t)sqlite3_column_int64(st, 11);
	n->devminor = (uint32_t)sqlite3_column_int64(st, 12);
	if (n->type == SB_TAR_SYMLINK) {
		if (llen >= sizeof(n->link))
			llen = sizeof(n->link) - 1;
		memcpy(n->link, link ? link : "", llen);
		n->link[llen] = '\0';
		n->size = llen;
	} else if (n->type == SB_TAR_DIR) {
		n->size = 4096;
	} else if (n->type != SB_TAR_REG) {
		n->size = 0;
	}
	if (rowid)
		*rowid = sqlite3_column_int64(st, 14);
}

static int node_attrs(struct sb_snapview *v, uint64_t id, struct sb_node *n, int64_t *rowid)
{
	sqlite3_stmt *st = v->st_attrs;
	int rc = 0, step;

	if ((rc = ensure_snapshot(v, id)))
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		fill_node(st, n, rowid);
	else
		rc = step == SQLITE_DONE ? SB_ERR_NOTFOUND : sv_db_fail(v, "read node");
	sqlite3_reset(st);
	return rc;
}

int sb_snapview_getattr(struct sb_snapview *v, uint64_t id, struct sb_node *out)
{
	int rc = 0;

	pthread_mutex_lock(&v->db_lock);
	if (id == SB_SNAPVIEW_TOP_ID)
		top_attrs(v, out);
	else if (id == LATEST_ID && v->nsnaps)
		latest_attrs(v, out);
	else
		rc = node_attrs(v, id, out, NULL);
	pthread_mutex_unlock(&v->db_lock);
	return rc;
}

int sb_snapview_lookup(struct sb_snapview *v, uint64_t parent, const char *name, size_t len,
		       struct sb_node *out)
{
	sqlite3_stmt *st;
	char iso[21];
	size_t k;
	int rc = SB_ERR_NOTFOUND;

	pthread_mutex_lock(&v->db_lock);
	if (parent == SB_SNAPVIEW_TOP_ID) {
		if (len == 6 && !memcmp(name, "latest", 6) && v->nsnaps) {
			latest_attrs(v, out);
			rc = 0;
		}
		for (k = 0; rc && k < v->nsnaps; k++) {
			sb_time_format_iso(snap_time(v, k), iso);
			if (len == strlen(iso) && !memcmp(name, iso, len))
				rc = node_attrs(v, snap_root(v, k), out, NULL);
		}
		goto out;
	}
	if ((rc = ensure_snapshot(v, parent)))
		goto out;
	st = v->st_lookup;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)parent);
	sqlite3_bind_blob(st, 2, name, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		fill_node(st, out, NULL);
	else
		rc = SB_ERR_NOTFOUND;
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&v->db_lock);
	return rc;
}

int sb_snapview_readdir(struct sb_snapview *v, uint64_t dir, uint64_t pos, sb_snapview_dir_cb cb,
			void *ctx)
{
	struct sb_node n;
	sqlite3_stmt *st = NULL;
	char iso[21];
	int rc = 0;

	pthread_mutex_lock(&v->db_lock);
	if (dir == SB_SNAPVIEW_TOP_ID) {
		for (; pos < v->nsnaps; pos++) {
			sb_time_format_iso(snap_time(v, pos), iso);
			if ((rc = node_attrs(v, snap_root(v, pos), &n, NULL)))
				goto out;
			if (cb(ctx, iso, strlen(iso), &n, pos + 1))
				goto out;
		}
		if (pos == v->nsnaps && v->nsnaps) {
			latest_attrs(v, &n);
			cb(ctx, "latest", 6, &n, pos + 1);
		}
		goto out;
	}
	if ((rc = ensure_snapshot(v, dir)))
		goto out;
	st = v->st_readdir;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)dir);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)pos);
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);
		const char *name = sqlite3_column_blob(st, 15);
		size_t len = (size_t)sqlite3_column_bytes(st, 15);

		fill_node(st, &n, NULL);
		if (cb(ctx, name ? name : "", len, &n, id))
			break;
	}
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&v->db_lock);
	return rc;
}

int sb_snapview_read(struct sb_snapview *v, uint64_t id, void *buf, size_t len, uint64_t off,
		     size_t *got)
{
	struct sb_node n;
	int64_t rowid = 0;
	int rc;

	*got = 0;
	pthread_mutex_lock(&v->db_lock);
	rc = id <= LATEST_ID ? SB_ERR_PARAM : node_attrs(v, id, &n, &rowid);
	pthread_mutex_unlock(&v->db_lock);
	if (rc)
		return rc;
	if (n.type != SB_TAR_REG)
		return SB_ERR_PARAM;
	if (off >= n.size || !len)
		return 0;
	if (len > n.size - off)
		len = (size_t)(n.size - off);
	return sv_read(v, rowid, n.size, buf, len, off, got);
}
