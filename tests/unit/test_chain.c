/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_chain.c - sets and chains from synthetic target listings (names made
 * with sb_name_format): chains in order, several chains, incomplete sets,
 * orphan incrementals, temporary uploads, junk names, the chain and sets
 * chosen for a time (duplicity-format.md §1.4, §7.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/chain.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/names.h"
#include "sealbox/transport.h"

#define T1 ((time_t)1700000000)
#define T2 ((time_t)1700086400)
#define T3 ((time_t)1700172800)
#define T4 ((time_t)1700259200)
#define T5 ((time_t)1700345600)
#define T6 ((time_t)1700432000)

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

/* ---- listing builder ---- */

struct entry {
	char *name;
	uint64_t size;
};

struct listing {
	struct entry e[128];
	size_t n;
};

static void add_raw(struct listing *l, const char *name, uint64_t size)
{
	assert_true(l->n < sizeof(l->e) / sizeof(l->e[0]));
	l->e[l->n].name = strdup(name);
	assert_non_null(l->e[l->n].name);
	l->e[l->n++].size = size;
}

/* Format one name into buf. */
static const char *fmt(char *buf, size_t size, enum sb_file_kind kind, time_t t0, time_t t1,
		       unsigned vol, bool enc)
{
	struct sb_name n;

	memset(&n, 0, sizeof(n));
	n.kind = kind;
	n.full = t0 == t1;
	n.t0 = t0;
	n.t1 = t1;
	n.vol = vol;
	n.encrypted = enc;
	n.gzipped = !enc;
	assert_true(sb_name_format(&n, buf, size) > 0);
	return buf;
}

static void add(struct listing *l, enum sb_file_kind kind, time_t t0, time_t t1, unsigned vol,
		bool enc, uint64_t size)
{
	char buf[256];

	add_raw(l, fmt(buf, sizeof(buf), kind, t0, t1, vol, enc), size);
}

/* A complete encrypted set: nvols volumes, manifest, signatures (sizes 1000 per volume,
 * 10 for the manifest, 100 for the signatures). */
static void add_set(struct listing *l, time_t t0, time_t t1, unsigned nvols)
{
	unsigned v;

	for (v = 1; v <= nvols; v++)
		add(l, SB_KIND_VOL, t0, t1, v, true, 1000);
	add(l, SB_KIND_MANIFEST, t0, t1, 0, true, 10);
	add(l, SB_KIND_SIG, t0, t1, 0, true, 100);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The sorted sb_dirent_list a transport would return (caller releases). */
static void to_dirents(struct listing *l, struct sb_dirent_list *d)
{
	size_t i;

	qsort(l->e, l->n, sizeof(l->e[0]), cmp_entry);
	d->n = l->n;
	d->names = calloc(l->n ? l->n : 1, sizeof(*d->names));
	d->sizes = calloc(l->n ? l->n : 1, sizeof(*d->sizes));
	assert_non_null(d->names);
	assert_non_null(d->sizes);
	for (i = 0; i < l->n; i++) {
		d->names[i] = l->e[i].name;
		d->sizes[i] = l->e[i].size;
	}
	l->n = 0;
}

static void build(struct listing *l, struct sb_collection *c)
{
	struct sb_dirent_list d;

	to_dirents(l, &d);
	assert_int_equal(sb_collection_build(&d, c), 0);
	sb_dirent_list_release(&d);
}

static void assert_set(const struct sb_set *s, bool full, time_t t0, time_t t1, unsigned nvols)
{
	assert_int_equal(s->full, full);
	assert_int_equal(s->t0, t0);
	assert_int_equal(s->t1, t1);
	assert_int_equal(s->nvols, nvols);
}

/* ---- tests ---- */

static void test_chain__one_chain_in_order(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;
	char buf[256];
	unsigned v;

	(void)state;
	/* added out of order; the listing is sorted by name anyway */
	add_set(&l, T2, T3, 1);
	add_set(&l, T1, T1, 3);
	add_set(&l, T3, T4, 2);
	add(&l, SB_KIND_INDEX, T1, T1, 0, true, 5);
	add(&l, SB_KIND_SEAL, T1, T1, 0, false, 1);
	add_set(&l, T1, T2, 1);
	build(&l, &c);

	assert_int_equal(c.nchains, 1);
	assert_int_equal(c.nincomplete, 0);
	assert_int_equal(c.norphans, 0);
	assert_int_equal(c.ntmp, 0);
	assert_int_equal(c.chains[0].nsets, 4);
	assert_set(&c.chains[0].sets[0], true, T1, T1, 3);
	assert_set(&c.chains[0].sets[1], false, T1, T2, 1);
	assert_set(&c.chains[0].sets[2], false, T2, T3, 1);
	assert_set(&c.chains[0].sets[3], false, T3, T4, 2);
	assert_int_equal(sb_chain_start(&c.chains[0]), T1);
	assert_int_equal(sb_chain_end(&c.chains[0]), T4);
	assert_ptr_equal(sb_collection_latest(&c), &c.chains[0]);

	/* the full set's files */
	{
		const struct sb_set *s = &c.chains[0].sets[0];

		for (v = 1; v <= 3; v++) {
			assert_non_null(s->vols[v - 1]);
			assert_string_equal(s->vols[v - 1],
					    fmt(buf, sizeof(buf), SB_KIND_VOL, T1, T1, v, true));
		}
		assert_string_equal(s->manifest,
				    fmt(buf, sizeof(buf), SB_KIND_MANIFEST, T1, T1, 0, true));
		assert_string_equal(s->sig, fmt(buf, sizeof(buf), SB_KIND_SIG, T1, T1, 0, true));
		assert_string_equal(s->index,
				    fmt(buf, sizeof(buf), SB_KIND_INDEX, T1, T1, 0, true));
		assert_string_equal(s->seal, fmt(buf, sizeof(buf), SB_KIND_SEAL, T1, T1, 0, false));
		assert_true(s->encrypted);
		assert_int_equal(s->bytes, 3 * 1000 + 10 + 100 + 5 + 1);
		assert_null(c.chains[0].sets[1].index);
		assert_null(c.chains[0].sets[1].seal);
	}
	sb_collection_release(&c);
	assert_int_equal(c.nchains, 0);
}

static void test_chain__two_chains(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;

	(void)state;
	add_set(&l, T4, T4, 1);
	add_set(&l, T1, T1, 1);
	add_set(&l, T4, T5, 1);
	add_set(&l, T1, T2, 1);
	build(&l, &c);

	assert_int_equal(c.nchains, 2);
	assert_int_equal(c.nincomplete + c.norphans + c.ntmp, 0);
	assert_int_equal(c.chains[0].nsets, 2);
	assert_int_equal(c.chains[1].nsets, 2);
	assert_set(&c.chains[0].sets[0], true, T1, T1, 1);
	assert_set(&c.chains[0].sets[1], false, T1, T2, 1);
	assert_set(&c.chains[1].sets[0], true, T4, T4, 1);
	assert_set(&c.chains[1].sets[1], false, T4, T5, 1);
	assert_ptr_equal(sb_collection_latest(&c), &c.chains[1]);
	sb_collection_release(&c);
}

static void test_chain__incomplete_sets(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;

	(void)state;
	add_set(&l, T1, T1, 1);
	/* an interrupted incremental: volumes 1 and 3 uploaded, no manifest */
	add(&l, SB_KIND_VOL, T1, T2, 1, true, 1000);
	add(&l, SB_KIND_VOL, T1, T2, 3, true, 1000);
	/* an interrupted full: only its signatures */
	add(&l, SB_KIND_SIG, T5, T5, 0, true, 100);
	build(&l, &c);

	assert_int_equal(c.nchains, 1);
	assert_int_equal(c.chains[0].nsets, 1);
	assert_int_equal(c.norphans, 0);
	assert_int_equal(c.nincomplete, 2);
	assert_set(&c.incomplete[0], false, T1, T2, 3);
	assert_non_null(c.incomplete[0].vols[0]);
	assert_null(c.incomplete[0].vols[1]); /* a gap */
	assert_non_null(c.incomplete[0].vols[2]);
	assert_null(c.incomplete[0].manifest);
	assert_int_equal(c.incomplete[0].bytes, 2000);
	assert_set(&c.incomplete[1], true, T5, T5, 0);
	assert_non_null(c.incomplete[1].sig);
	sb_collection_release(&c);
}

static void test_chain__orphans(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;

	(void)state;
	add_set(&l, T1, T1, 1);
	add_set(&l, T1, T2, 1);
	/* starts at T3, but nothing ends there */
	add_set(&l, T3, T4, 1);
	/* its full set is incomplete: the incremental fits no chain */
	add(&l, SB_KIND_VOL, T5, T5, 1, true, 1000);
	add_set(&l, T5, T6, 1);
	build(&l, &c);

	assert_int_equal(c.nchains, 1);
	assert_int_equal(c.chains[0].nsets, 2);
	assert_int_equal(c.nincomplete, 1);
	assert_set(&c.incomplete[0], true, T5, T5, 1);
	assert_int_equal(c.norphans, 2);
	assert_set(&c.orphans[0], false, T3, T4, 1);
	assert_set(&c.orphans[1], false, T5, T6, 1);
	sb_collection_release(&c);
}

static void test_chain__tmp_and_junk(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;
	char buf[256], tmp[300];

	(void)state;
	add_set(&l, T1, T1, 1);
	snprintf(tmp, sizeof(tmp), "%s%s", SB_TMP_PREFIX,
		 fmt(buf, sizeof(buf), SB_KIND_VOL, T1, T2, 1, true));
	add_raw(&l, tmp, 77);
	snprintf(tmp, sizeof(tmp), "%s%s", SB_TMP_PREFIX,
		 fmt(buf, sizeof(buf), SB_KIND_MANIFEST, T1, T2, 0, true));
	add_raw(&l, tmp, 7);
	/* junk: never a set of its own */
	add_raw(&l, "README", 1);
	add_raw(&l, ".DS_Store", 1);
	add_raw(&l, "duplicity-full.garbage.manifest", 1);
	add_raw(&l, "duplicity-full.20231114T221320Z.vol0.difftar.gpg", 1);
	add_raw(&l, "duplicity-full.20231116T000000Z.vol99999999.difftar.gpg", 1);
	add_raw(&l, "sealbox.db", 1);
	add_raw(&l, "lockfile.lock", 1);
	/* a partial local-cache name is not a remote file */
	add_raw(&l, "duplicity-full.20231117T000000Z.manifest.part", 1);
	build(&l, &c);

	assert_int_equal(c.nchains, 1);
	assert_int_equal(c.chains[0].nsets, 1);
	assert_int_equal(c.norphans, 0);
	assert_int_equal(c.nincomplete, 0);
	assert_int_equal(c.ntmp, 2);
	assert_memory_equal(c.tmp[0], SB_TMP_PREFIX, strlen(SB_TMP_PREFIX));
	assert_memory_equal(c.tmp[1], SB_TMP_PREFIX, strlen(SB_TMP_PREFIX));
	assert_int_equal(c.chains[0].sets[0].bytes, 1110);
	sb_collection_release(&c);

	/* an empty listing */
	build(&l, &c);
	assert_int_equal(c.nchains + c.nincomplete + c.norphans + c.ntmp, 0);
	assert_null(sb_collection_latest(&c));
	assert_null(sb_collection_chain_for_time(&c, T1));
	sb_collection_release(&c);
}

static void test_chain__duplicates_encrypted_wins(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;
	char buf[256];

	(void)state;
	/* the same set uploaded once plain (--no-encryption) and once encrypted */
	add(&l, SB_KIND_VOL, T1, T1, 1, false, 1000);
	add(&l, SB_KIND_VOL, T1, T1, 1, true, 1000);
	add(&l, SB_KIND_MANIFEST, T1, T1, 0, false, 10);
	add(&l, SB_KIND_MANIFEST, T1, T1, 0, true, 10);
	build(&l, &c);

	assert_int_equal(c.nchains, 1);
	assert_true(c.chains[0].sets[0].encrypted);
	assert_string_equal(c.chains[0].sets[0].vols[0],
			    fmt(buf, sizeof(buf), SB_KIND_VOL, T1, T1, 1, true));
	assert_string_equal(c.chains[0].sets[0].manifest,
			    fmt(buf, sizeof(buf), SB_KIND_MANIFEST, T1, T1, 0, true));
	sb_collection_release(&c);
}

static void test_chain__chain_for_time(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;
	const struct sb_chain *a, *b;

	(void)state;
	add_set(&l, T1, T1, 1);
	add_set(&l, T1, T2, 1);
	add_set(&l, T4, T4, 1);
	add_set(&l, T4, T5, 1);
	build(&l, &c);
	assert_int_equal(c.nchains, 2);
	a = &c.chains[0];
	b = &c.chains[1];

	assert_null(sb_collection_chain_for_time(&c, 0));
	assert_null(sb_collection_chain_for_time(&c, T1 - 1));
	assert_ptr_equal(sb_collection_chain_for_time(&c, T1), a);
	assert_ptr_equal(sb_collection_chain_for_time(&c, T1 + 1), a);
	assert_ptr_equal(sb_collection_chain_for_time(&c, T2), a);
	/* between the chains: the older one */
	assert_ptr_equal(sb_collection_chain_for_time(&c, T2 + 1), a);
	assert_ptr_equal(sb_collection_chain_for_time(&c, T3), a);
	assert_ptr_equal(sb_collection_chain_for_time(&c, T4 - 1), a);
	assert_ptr_equal(sb_collection_chain_for_time(&c, T4), b);
	assert_ptr_equal(sb_collection_chain_for_time(&c, T5), b);
	assert_ptr_equal(sb_collection_chain_for_time(&c, T6), b);

	assert_int_equal(sb_chain_sets_upto(a, T1 - 1), 0);
	assert_int_equal(sb_chain_sets_upto(a, T1), 1);
	assert_int_equal(sb_chain_sets_upto(a, T2 - 1), 1);
	assert_int_equal(sb_chain_sets_upto(a, T2), 2);
	assert_int_equal(sb_chain_sets_upto(a, T6), 2);
	assert_int_equal(sb_chain_sets_upto(b, T3), 0);
	assert_int_equal(sb_chain_sets_upto(b, T4), 1);
	assert_int_equal(sb_chain_sets_upto(b, T5), 2);
	sb_collection_release(&c);
}

/* A server naming huge volume numbers cannot make the grouping allocate by them:
 * volume slots are bounded by the listing (4 per name + 1024). */
static void test_chain__volume_slots_bounded(void **state)
{
	struct listing l = {.n = 0};
	struct sb_dirent_list d;
	struct sb_collection c;

	(void)state;
	add_set(&l, T1, T1, 1);
	add(&l, SB_KIND_VOL, T1, T1, 900000, true, 1000); /* 900,000 slots for 4 names */
	to_dirents(&l, &d);
	assert_int_equal(sb_collection_build(&d, &c), SB_ERR_CORRUPT);
	sb_collection_release(&c);
	sb_dirent_list_release(&d);
}

static void test_chain__set_files(void **state)
{
	struct listing l = {.n = 0};
	struct sb_collection c;
	const char *names[16];
	const struct sb_set *s;
	char buf[256];

	(void)state;
	add(&l, SB_KIND_VOL, T1, T1, 1, true, 1);
	add(&l, SB_KIND_VOL, T1, T1, 3, true, 1); /* volume 2 missing */
	add(&l, SB_KIND_MANIFEST, T1, T1, 0, true, 1);
	add(&l, SB_KIND_SIG, T1, T1, 0, true, 1);
	add(&l, SB_KIND_INDEX, T1, T1, 0, true, 1);
	add(&l, SB_KIND_SEAL, T1, T1, 0, false, 1);
	build(&l, &c);
	assert_int_equal(c.nchains, 1);
	s = &c.chains[0].sets[0];

	assert_int_equal(sb_set_files(s, names, 16), 6);
	assert_string_equal(names[0], fmt(buf, sizeof(buf), SB_KIND_VOL, T1, T1, 1, true));
	assert_string_equal(names[1], fmt(buf, sizeof(buf), SB_KIND_VOL, T1, T1, 3, true));
	assert_string_equal(names[2], fmt(buf, sizeof(buf), SB_KIND_SIG, T1, T1, 0, true));
	assert_string_equal(names[3], fmt(buf, sizeof(buf), SB_KIND_INDEX, T1, T1, 0, true));
	assert_string_equal(names[4], fmt(buf, sizeof(buf), SB_KIND_SEAL, T1, T1, 0, false));
	assert_string_equal(names[5], fmt(buf, sizeof(buf), SB_KIND_MANIFEST, T1, T1, 0, true));
	/* max is honoured */
	names[2] = NULL;
	assert_int_equal(sb_set_files(s, names, 2), 2);
	assert_null(names[2]);
	assert_int_equal(sb_set_files(s, names, 0), 0);
	sb_collection_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain__one_chain_in_order),
		cmocka_unit_test(test_chain__two_chains),
		cmocka_unit_test(test_chain__incomplete_sets),
		cmocka_unit_test(test_chain__orphans),
		cmocka_unit_test(test_chain__tmp_and_junk),
		cmocka_unit_test(test_chain__duplicates_encrypted_wins),
		cmocka_unit_test(test_chain__chain_for_time),
		cmocka_unit_test(test_chain__volume_slots_bounded),
		cmocka_unit_test(test_chain__set_files),
	};

	sb_log_set_handler(count_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
