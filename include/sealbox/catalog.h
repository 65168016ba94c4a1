/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog.h - local state kept in the archive dir, in sqlite (sealbox.db).
 *
 * Holds the stat cache (so an unchanged file is not re-read), small
 * key/value facts (the set in progress, the time the stat cache belongs to)
 * and nothing secret. Plaintext manifests and signatures sit beside it as
 * files in duplicity's cache layout, so either tool can use the folder.
 *
 * The stat cache is updated by each backup in one transaction:
 * sb_catalog_stat_begin() opens it (fresh: emptied first, when the cache did
 * not describe the chain's end), sb_catalog_stat_put() writes the rows of
 * the files the run stored or found unchanged without a row,
 * sb_catalog_stat_del() drops a deleted file's, and sb_catalog_stat_commit(T)
 * records T and commits; sb_catalog_stat_abort() leaves the cache as it was.
 * Rows of files the run did not visit stay: the cache is only asked about a
 * file the chain holds, whose row was written when that content was stored.
 * sb_catalog_stat_get() sees the run's own writes (each path is looked up
 * before it is written).
 */
#ifndef SEALBOX_CATALOG_H
#define SEALBOX_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sb_catalog;

struct sb_statrec {
	uint64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint64_t ino;
};

/* Open (creating) DIR/sealbox.db; DIR is created 0700 if missing. */
int sb_catalog_open(const char *dir, struct sb_catalog **out);
void sb_catalog_close(struct sb_catalog *c);

/* Key/value facts. get: SB_ERR_NOTFOUND when absent; *out malloc'd. */
int sb_catalog_get(struct sb_catalog *c, const char *key, char **out);
int sb_catalog_set(struct sb_catalog *c, const char *key, const char *value); /* NULL deletes */

/*
 * The newest seal this machine wrote to the target (SB_SEAL_CAT_LAST, set by
 * backup): its remote name and the SHA-256 of its bytes. 1 found, 0 none
 * (or unreadable record), < 0 error.
 */
int sb_catalog_last_seal(struct sb_catalog *c, char name[256], unsigned char sha[32]);

/* Time (set end) the current stat cache describes, 0 when none. */
time_t sb_catalog_stat_time(struct sb_catalog *c);
/* 1 found, 0 not found, < 0 error. */
int sb_catalog_stat_get(struct sb_catalog *c, const char *path, size_t len, struct sb_statrec *r);
int sb_catalog_stat_begin(struct sb_catalog *c, bool fresh);
int sb_catalog_stat_put(struct sb_catalog *c, const char *path, size_t len,
			const struct sb_statrec *r);
int sb_catalog_stat_del(struct sb_catalog *c, const char *path, size_t len);
int sb_catalog_stat_commit(struct sb_catalog *c, time_t t);
void sb_catalog_stat_abort(struct sb_catalog *c);

#endif
