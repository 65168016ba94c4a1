/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapview_impl.h - private to snapview*.c: the view's state.
 * snapview.c owns the catalog of entries and nodes (sqlite), snapview_data.c
 * the plaintext cache and file reconstruction; snapview_versions.c holds the
 * lookups both need. snapview.c -> snapview_data.c -> snapview_versions.c.
 */
#ifndef SEALBOX_SNAPVIEW_IMPL_H
#define SEALBOX_SNAPVIEW_IMPL_H

#include <pthread.h>

#include <sqlite3.h>

#include "sealbox/chain.h"
#include "sealbox/snapview.h"

struct sv_snap {
	const struct sb_set *set; /* its last set */
	size_t chain;		  /* index in coll.chains */
	size_t seq;		  /* position of set in its chain */
	int64_t set_id;		  /* sets.id in the database */
	int materialized;
};

struct sv_cache_file {
	char *name; /* in cache_dir */
	uint64_t size;
	uint64_t last_use;
};

struct sb_snapview {
	struct sb_snapview_opts o;
	char *target_id;
	const struct sb_collection *coll; /* the gate's */
	struct sv_snap *snaps;
	size_t nsnaps;
	int64_t *chain_set_ids; /* per chain: set ids by seq, flattened */
	size_t *chain_base;	/* index of chain c's first set in chain_set_ids */
	sqlite3 *db;
	sqlite3_stmt *st_attrs; /* prepared once; protected by db_lock */
	sqlite3_stmt *st_lookup;
	sqlite3_stmt *st_readdir;
	pthread_mutex_t db_lock;    /* protects db, the statements and the snaps'
				       materialized flags */
	pthread_mutex_t build_lock; /* serialises decryption and reconstruction */
	pthread_mutex_t cache_lock; /* protects files[], nfiles, cache_bytes, clock */
	struct sv_cache_file *files;
	size_t nfiles;
	uint64_t cache_bytes;
	uint64_t clock;
	/* volume fetches: protected by cache_lock, cache_cv signals their ends */
	pthread_cond_t cache_cv;
	char inflight[4][64]; /* names of volumes being fetched ("" free) */
	struct sv_failed {
		char name[64];
		int rc;
	} failed[16]; /* volumes that failed verification: not retried */
	size_t nfailed;
	struct sv_prefetch {
		pthread_t th;
		int state; /* 0 idle, 1 running, 2 done (to be joined) */
		int64_t set_id;
		unsigned vol;
		struct sb_snapview *v;
	} prefetch[2]; /* read-ahead of the next volumes of a large file */
};

/* What a node's data is: the entry that defines its version. */
struct sv_version {
	int64_t rowid;
	int64_t set_id;
	char kind;
	unsigned vol;
	uint64_t offset;
	uint64_t size;
};

/* snapview_versions.c */
/* Log a failed sqlite call on the view's database; returns SB_ERR_IO. */
int sv_db_fail(struct sb_snapview *v, const char *what);
/* The chain of versions for a file: base snapshot first, then diffs. */
int sv_versions(struct sb_snapview *v, int64_t rowid, struct sv_version **out, size_t *n);
/* Locate the set of a set id. */
const struct sb_set *sv_set_by_id(struct sb_snapview *v, int64_t set_id);

/* snapview_cached.c */
/* The key of set s's row in the index cache: its manifest's name and, for a
 * sealed set, its seal's SHA-256 (a set the server replaced is a new row). */
void sv_set_key(struct sb_gate *g, const struct sb_set *s, char *key, size_t size);

/* snapview_data.c */
int sv_read(struct sb_snapview *v, int64_t rowid, uint64_t size, void *buf, size_t len,
	    uint64_t off, size_t *got);
void sv_cache_clear(struct sb_snapview *v);
/* Wait for read-ahead threads (before closing). */
void sv_prefetch_join(struct sb_snapview *v);

#endif
