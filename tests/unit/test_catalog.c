/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_catalog.c - the archive dir's sqlite state: opening (creating the
 * folder), key/value facts, the stat cache rebuilt beside the live one
 * (begin/put/commit), lookups seeing the old table until the commit, abort
 * keeping it, and the time it describes, across a reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/catalog.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

static void quiet_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

struct fixture {
	char dir[256]; /* mkdtemp folder */
	char sub[300]; /* dir/archive, created by sb_catalog_open */
	struct sb_catalog *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/sb-catalog-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->sub, sizeof(f->sub), "%s/archive/name", f->dir);
	if (sb_catalog_open(f->sub, &f->c)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[400];

	sb_catalog_close(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_catalog__open_creates_private_dir(void **state)
{
	struct fixture *f = *state;
	char db[400];
	struct stat st;

	assert_int_equal(stat(f->sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(db, sizeof(db), "%s/sealbox.db", f->sub);
	assert_int_equal(stat(db, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_catalog__open_fails_on_a_file(void **state)
{
	struct fixture *f = *state;
	struct sb_catalog *c = (struct sb_catalog *)1;
	char p[400];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/plain", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_true(sb_catalog_open(p, &c) < 0);
	assert_null(c);
}

static void test_catalog__meta(void **state)
{
	struct fixture *f = *state;
	char *v = (char *)1;

	assert_int_equal(sb_catalog_get(f->c, "missing", &v), SB_ERR_NOTFOUND);
	assert_null(v);
	assert_int_equal(sb_catalog_set(f->c, "k", "one"), 0);
	assert_int_equal(sb_catalog_get(f->c, "k", &v), 0);
	assert_string_equal(v, "one");
	free(v);
	assert_int_equal(sb_catalog_set(f->c, "k", "two"), 0);
	assert_int_equal(sb_catalog_set(f->c, "other", ""), 0);
	assert_int_equal(sb_catalog_get(f->c, "k", &v), 0);
	assert_string_equal(v, "two");
	free(v);
	assert_int_equal(sb_catalog_get(f->c, "other", &v), 0);
	assert_string_equal(v, "");
	free(v);
	/* NULL deletes; deleting again is fine */
	assert_int_equal(sb_catalog_set(f->c, "k", NULL), 0);
	assert_int_equal(sb_catalog_get(f->c, "k", &v), SB_ERR_NOTFOUND);
	assert_int_equal(sb_catalog_set(f->c, "k", NULL), 0);
	assert_int_equal(sb_catalog_get(f->c, "other", &v), 0);
	free(v);

	/* survives a reopen */
	assert_int_equal(sb_catalog_set(f->c, "persist", "yes 'quoted' \"x\""), 0);
	sb_catalog_close(f->c);
	assert_int_equal(sb_catalog_open(f->sub, &f->c), 0);
	assert_int_equal(sb_catalog_get(f->c, "persist", &v), 0);
	assert_string_equal(v, "yes 'quoted' \"x\"");
	free(v);
}

static struct sb_statrec rec(uint64_t size, int64_t mtime, int64_t ctime, uint64_t ino)
{
	struct sb_statrec r = {size, mtime, ctime, ino};

	return r;
}

static void put(struct sb_catalog *c, const char *path, struct sb_statrec r)
{
	assert_int_equal(sb_catalog_stat_put(c, path, strlen(path), &r), 0);
}

static int get(struct sb_catalog *c, const char *path, struct sb_statrec *r)
{
	return sb_catalog_stat_get(c, path, strlen(path), r);
}

static void test_catalog__stat_cache(void **state)
{
	struct fixture *f = *state;
	struct sb_statrec r;

	assert_int_equal(sb_catalog_stat_time(f->c), 0);
	assert_int_equal(get(f->c, "a", &r), 0);

	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	put(f->c, "a", rec(1, 1000000001, 2000000002, 42));
	put(f->c, "dir/b", rec(UINT64_MAX, -5, INT64_MAX, UINT64_MAX));
	put(f->c, "", rec(0, 0, 0, 2));
	put(f->c, "bin\xff\x80", rec(7, 8, 9, 10));
	/* a path is a blob: bytes after a NUL count */
	assert_int_equal(sb_catalog_stat_put(f->c, "n\0x", 3, &(struct sb_statrec){3, 3, 3, 3}), 0);
	assert_int_equal(sb_catalog_stat_commit(f->c, 1700000000), 0);
	assert_int_equal(sb_catalog_stat_time(f->c), 1700000000);

	assert_int_equal(get(f->c, "a", &r), 1);
	assert_int_equal(r.size, 1);
	assert_int_equal(r.mtime_ns, 1000000001);
	assert_int_equal(r.ctime_ns, 2000000002);
	assert_int_equal(r.ino, 42);
	assert_int_equal(get(f->c, "dir/b", &r), 1);
	assert_true(r.size == UINT64_MAX);
	assert_true(r.mtime_ns == -5);
	assert_true(r.ctime_ns == INT64_MAX);
	assert_true(r.ino == UINT64_MAX);
	assert_int_equal(get(f->c, "", &r), 1);
	assert_int_equal(r.ino, 2);
	assert_int_equal(get(f->c, "bin\xff\x80", &r), 1);
	assert_int_equal(r.size, 7);
	assert_int_equal(sb_catalog_stat_get(f->c, "n\0x", 3, &r), 1);
	assert_int_equal(sb_catalog_stat_get(f->c, "n\0y", 3, &r), 0);
	assert_int_equal(sb_catalog_stat_get(f->c, "n", 1, &r), 0);
	assert_int_equal(get(f->c, "dir", &r), 0);
	assert_int_equal(get(f->c, "A", &r), 0);
}

static void test_catalog__updated_in_one_transaction(void **state)
{
	struct fixture *f = *state;
	struct sb_catalog *other;
	struct sb_statrec r;
	char *v;

	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	put(f->c, "old", rec(1, 1, 1, 1));
	put(f->c, "both", rec(2, 2, 2, 2));
	put(f->c, "kept", rec(4, 4, 4, 4));
	assert_int_equal(sb_catalog_stat_commit(f->c, 100), 0);

	assert_int_equal(sb_catalog_stat_begin(f->c, false), 0);
	put(f->c, "both", rec(20, 20, 20, 20));
	put(f->c, "new", rec(3, 3, 3, 3));
	assert_int_equal(sb_catalog_stat_del(f->c, "old", 3), 0);
	assert_int_equal(sb_catalog_stat_del(f->c, "never", 5), 0);
	/* the run sees its own writes */
	assert_int_equal(get(f->c, "both", &r), 1);
	assert_int_equal(r.size, 20);
	assert_int_equal(get(f->c, "new", &r), 1);
	assert_int_equal(get(f->c, "old", &r), 0);
	assert_int_equal(get(f->c, "kept", &r), 1);
	/* another process (a crash's next run) sees none of it before the commit */
	assert_int_equal(sb_catalog_open(f->sub, &other), 0);
	assert_int_equal(sb_catalog_stat_time(other), 100);
	assert_int_equal(get(other, "both", &r), 1);
	assert_int_equal(r.size, 2);
	assert_int_equal(get(other, "old", &r), 1);
	assert_int_equal(get(other, "new", &r), 0);
	/* meta writes during the run work and are read back */
	assert_int_equal(sb_catalog_set(f->c, "during", "x"), 0);
	assert_int_equal(sb_catalog_get(f->c, "during", &v), 0);
	free(v);
	assert_int_equal(sb_catalog_stat_commit(f->c, 200), 0);

	assert_int_equal(sb_catalog_stat_time(other), 200);
	assert_int_equal(get(other, "both", &r), 1);
	assert_int_equal(r.size, 20);
	sb_catalog_close(other);
	assert_int_equal(sb_catalog_stat_time(f->c), 200);
	assert_int_equal(get(f->c, "old", &r), 0);
	assert_int_equal(get(f->c, "kept", &r), 1);
	assert_int_equal(r.size, 4);
	assert_int_equal(sb_catalog_get(f->c, "during", &v), 0);
	free(v);

	/* and after a reopen */
	sb_catalog_close(f->c);
	assert_int_equal(sb_catalog_open(f->sub, &f->c), 0);
	assert_int_equal(sb_catalog_stat_time(f->c), 200);
	assert_int_equal(get(f->c, "new", &r), 1);
	assert_int_equal(get(f->c, "both", &r), 1);
	assert_int_equal(r.size, 20);
	assert_int_equal(get(f->c, "old", &r), 0);

	/* fresh: the rows of before are gone */
	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	assert_int_equal(get(f->c, "kept", &r), 0);
	put(f->c, "only", rec(5, 5, 5, 5));
	assert_int_equal(sb_catalog_stat_commit(f->c, 300), 0);
	assert_int_equal(get(f->c, "kept", &r), 0);
	assert_int_equal(get(f->c, "both", &r), 0);
	assert_int_equal(get(f->c, "only", &r), 1);
}

static void test_catalog__abort_keeps_old_table(void **state)
{
	struct fixture *f = *state;
	struct sb_statrec r;

	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	put(f->c, "kept", rec(5, 5, 5, 5));
	put(f->c, "same", rec(1, 1, 1, 1));
	assert_int_equal(sb_catalog_stat_commit(f->c, 300), 0);

	/* an update, a deletion and a new row, then an abort */
	assert_int_equal(sb_catalog_stat_begin(f->c, false), 0);
	put(f->c, "dropped", rec(6, 6, 6, 6));
	put(f->c, "same", rec(9, 9, 9, 9));
	assert_int_equal(sb_catalog_stat_del(f->c, "kept", 4), 0);
	sb_catalog_stat_abort(f->c);
	assert_int_equal(sb_catalog_stat_time(f->c), 300);
	assert_int_equal(get(f->c, "kept", &r), 1);
	assert_int_equal(r.size, 5);
	assert_int_equal(get(f->c, "same", &r), 1);
	assert_int_equal(r.size, 1);
	assert_int_equal(get(f->c, "dropped", &r), 0);

	/* a fresh run aborted: the old rows are back */
	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	assert_int_equal(get(f->c, "kept", &r), 0);
	sb_catalog_stat_abort(f->c);
	assert_int_equal(get(f->c, "kept", &r), 1);

	/* closing in the middle of a run aborts it */
	assert_int_equal(sb_catalog_stat_begin(f->c, false), 0);
	put(f->c, "unfinished", rec(8, 8, 8, 8));
	put(f->c, "same", rec(8, 8, 8, 8));
	sb_catalog_close(f->c);
	assert_int_equal(sb_catalog_open(f->sub, &f->c), 0);
	assert_int_equal(sb_catalog_stat_time(f->c), 300);
	assert_int_equal(get(f->c, "unfinished", &r), 0);
	assert_int_equal(get(f->c, "same", &r), 1);
	assert_int_equal(r.size, 1);
}

static void test_catalog__large_run(void **state)
{
	struct fixture *f = *state;
	struct sb_statrec r;
	char p[32];
	unsigned i;

	/* many rows in one transaction, then an abort */
	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	put(f->c, "live", rec(1, 1, 1, 1));
	assert_int_equal(sb_catalog_stat_commit(f->c, 500), 0);
	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	for (i = 0; i < 60000; i++) {
		snprintf(p, sizeof(p), "f%06u", i);
		put(f->c, p, rec(i, i, i, i));
	}
	assert_int_equal(get(f->c, "f000001", &r), 1);
	sb_catalog_stat_abort(f->c);
	assert_int_equal(sb_catalog_stat_time(f->c), 500);
	assert_int_equal(get(f->c, "live", &r), 1);
	assert_int_equal(get(f->c, "f000001", &r), 0);

	assert_int_equal(sb_catalog_stat_begin(f->c, true), 0);
	for (i = 0; i < 60000; i++) {
		snprintf(p, sizeof(p), "f%06u", i);
		put(f->c, p, rec(i, i, i, i));
	}
	assert_int_equal(sb_catalog_stat_commit(f->c, 600), 0);
	assert_int_equal(get(f->c, "live", &r), 0);
	assert_int_equal(get(f->c, "f059999", &r), 1);
	assert_int_equal(r.size, 59999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_catalog__open_creates_private_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_catalog__open_fails_on_a_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_catalog__meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog__stat_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog__updated_in_one_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_catalog__abort_keeps_old_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_catalog__large_run, setup, teardown),
	};

	sb_log_set_handler(quiet_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
