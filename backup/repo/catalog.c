/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog.c - sqlite local state (see catalog.h). All sqlite calls and the
 * translation of sqlite errors live here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "sealbox/catalog.h"
#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/seal.h"

struct sb_catalog {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stat_get; /* on table statcache */
	sqlite3_stmt *stat_put; /* these two inside the run's transaction */
	sqlite3_stmt *stat_del;
	bool in_stat_txn;
};

static int db_fail(struct sb_catalog *c, const char *what)
{
	int code = sqlite3_errcode(c->db), e = sqlite3_system_errno(c->db);

	/* a full disk is often "disk I/O error" (the WAL's shared memory file) */
	if (code == SQLITE_FULL || e == ENOSPC || e == EDQUOT) {
		sb_error("archive dir database %s: %s: %s", c->path, sqlite3_errmsg(c->db),
			 strerror(code == SQLITE_FULL ? ENOSPC : e));
		return SB_ERR_DISKFULL;
	}
	sb_error("archive dir database %s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return SB_ERR_LOCKED;
	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		return SB_ERR_CORRUPT;
	if (code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_CANTOPEN)
		return SB_ERR_PERM;
	return SB_ERR_IO;
}

static int exec(struct sb_catalog *c, const char *sql)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(c, sql);
	return 0;
}

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS statcache(path BLOB PRIMARY KEY, size INTEGER, "
	"mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER) WITHOUT ROWID;";

int sb_catalog_open(const char *dir, struct sb_catalog **out)
{
	struct sb_catalog *c;
	int rc;

	*out = NULL;
	if ((rc = sb_mkdirs(dir, 0700)))
		return rc == SB_ERR_PERM || rc == SB_ERR_NOTFOUND ? SB_ERR_IO : rc;
	c = calloc(1, sizeof(*c));
	if (!c || asprintf(&c->path, "%s/sealbox.db", dir) < 0) {
		free(c);
		return SB_ERR_NOMEM;
	}
	if (sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = db_fail(c, "open");
		goto fail;
	}
	sqlite3_busy_timeout(c->db, 5000);
	rc = exec(c, schema);
	if (rc)
		goto fail;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT size, mtime_ns, ctime_ns, ino FROM statcache WHERE path = ?",
			       -1, &c->stat_get, NULL) != SQLITE_OK) {
		rc = db_fail(c, "prepare");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	sb_catalog_close(c);
	return rc;
}

void sb_catalog_close(struct sb_catalog *c)
{
	if (!c)
		return;
	if (c->in_stat_txn)
		sb_catalog_stat_abort(c);
	sqlite3_finalize(c->stat_get);
	sqlite3_close(c->db);
	free(c->path);
	free(c);
}

int sb_catalog_get(struct sb_catalog *c, const char *key, char **out)
{
	sqlite3_stmt *st;
	int rc, step;

	*out = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(c, "prepare");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*out = strdup((const char *)sqlite3_column_text(st, 0));
		rc = *out ? 0 : SB_ERR_NOMEM;
	} else if (step == SQLITE_DONE) {
		rc = SB_ERR_NOTFOUND;
	} else {
		rc = db_fail(c, "read");
	}
	sqlite3_finalize(st);
	return rc;
}

int sb_catalog_set(struct sb_catalog *c, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc = 0;
	const char *sql = value ? "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)"
				: "DELETE FROM meta WHERE key = ?";

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(c, "prepare");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(c, "write");
	sqlite3_finalize(st);
	return rc;
}

time_t sb_catalog_stat_time(struct sb_catalog *c)
{
	char *v = NULL;
	time_t t = 0;

	if (sb_catalog_get(c, "statcache_time", &v) == 0)
		t = (time_t)strtoll(v, NULL, 10);
	free(v);
	return t;
}

int sb_catalog_stat_get(struct sb_catalog *c, const char *path, size_t len, struct sb_statrec *r)
{
	int step, rc;

	sqlite3_reset(c->stat_get);
	sqlite3_bind_blob(c->stat_get, 1, path, (int)len, SQLITE_STATIC);
	step = sqlite3_step(c->stat_get);
	if (step == SQLITE_ROW) {
		r->size = (uint64_t)sqlite3_column_int64(c->stat_get, 0);
		r->mtime_ns = sqlite3_column_int64(c->stat_get, 1);
		r->ctime_ns = sqlite3_column_int64(c->stat_get, 2);
		r->ino = (uint64_t)sqlite3_column_int64(c->stat_get, 3);
		rc = 1;
	} else {
		rc = step == SQLITE_DONE ? 0 : db_fail(c, "stat cache lookup");
	}
	sqlite3_reset(c->stat_get);
	return rc;
}

int sb_catalog_stat_begin(struct sb_catalog *c, bool fresh)
{
	int rc;

	/* one write transaction for the run: nothing of it is seen by another
	 * process, or after a crash, unless statcache_time is too */
	rc = exec(c, fresh ? "BEGIN IMMEDIATE; DELETE FROM statcache;" : "BEGIN IMMEDIATE;");
	if (rc) {
		sqlite3_exec(c->db, "ROLLBACK;", NULL, NULL, NULL);
		return rc;
	}
	if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO statcache VALUES(?, ?, ?, ?, ?)", -1,
			       &c->stat_put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "DELETE FROM statcache WHERE path = ?", -1, &c->stat_del,
			       NULL) != SQLITE_OK) {
		rc = db_fail(c, "prepare");
		sb_catalog_stat_abort(c);
		return rc;
	}
	c->in_stat_txn = true;
	return 0;
}

int sb_catalog_stat_put(struct sb_catalog *c, const char *path, size_t len,
			const struct sb_statrec *r)
{
	sqlite3_stmt *st = c->stat_put;
	int rc = 0;

	sqlite3_bind_blob(st, 1, path, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->size);
	sqlite3_bind_int64(st, 3, r->mtime_ns);
	sqlite3_bind_int64(st, 4, r->ctime_ns);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)r->ino);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(c, "stat cache write");
	sqlite3_reset(st);
	return rc;
}

int sb_catalog_stat_del(struct sb_catalog *c, const char *path, size_t len)
{
	sqlite3_stmt *st = c->stat_del;
	int rc = 0;

	sqlite3_bind_blob(st, 1, path, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(c, "stat cache write");
	sqlite3_reset(st);
	return rc;
}

static void stat_end(struct sb_catalog *c)
{
	sqlite3_finalize(c->stat_put);
	c->stat_put = NULL;
	sqlite3_finalize(c->stat_del);
	c->stat_del = NULL;
	c->in_stat_txn = false;
}

int sb_catalog_stat_commit(struct sb_catalog *c, time_t t)
{
	char val[32];
	int rc;

	stat_end(c);
	snprintf(val, sizeof(val), "%lld", (long long)t);
	rc = sb_catalog_set(c, "statcache_time", val);
	if (!rc)
		rc = exec(c, "COMMIT;");
	if (rc)
		sqlite3_exec(c->db, "ROLLBACK;", NULL, NULL, NULL);
	return rc;
}

void sb_catalog_stat_abort(struct sb_catalog *c)
{
	stat_end(c);
	/* quietly: after a failure (a full disk) the cause is said */
	sqlite3_exec(c->db, "ROLLBACK;", NULL, NULL, NULL);
}

int sb_catalog_last_seal(struct sb_catalog *c, char name[256], unsigned char sha[32])
{
	char *v = NULL, *sp;
	int rc = sb_catalog_get(c, SB_SEAL_CAT_LAST, &v), ok = 0;

	if (rc)
		return rc == SB_ERR_NOTFOUND ? 0 : rc;
	sp = strchr(v, ' ');
	if (sp && sp > v && (size_t)(sp - v) < 256 && !sb_unhex(sp + 1, strlen(sp + 1), sha, 32)) {
		ok = 1;
		memcpy(name, v, (size_t)(sp - v));
		name[sp - v] = '\0';
	}
	free(v);
	return ok;
}
