/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_manifest.c - manifests: byte-exact formatting of the samples in
 * duplicity-format.md §2.1 (checked against duplicity 0.8.22's manifest.py),
 * parse round trips, §2.3 quoting, repeated volumes, tolerant and corrupt
 * inputs, garbage that must never crash, §7.3 volume selection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/manifest.h"

#define UNI                                                                                        \
	"\xc3\xbcn\xc3\xaf"                                                                        \
	"c\xc3\xb8"                                                                                \
	"d\xc3\xa9-\xe5\x90\x8d\xe5\x89\x8d.txt"

/* §2.1 full example (its elided Filelist lines left out, count adjusted). */
static const char full_mf[] = "Hostname samplehost\n"
			      "Localdir src\n"
			      "Volume 1:\n"
			      "    StartingPath   .  \n"
			      "    EndingPath     big.bin 16\n"
			      "    Hash SHA1 8c24d000a7f07d7a60ad3f163a43f86e3e22823a\n"
			      "Volume 2:\n"
			      "    StartingPath   big.bin 17\n"
			      "    EndingPath     big.bin 32\n"
			      "    Hash SHA1 909ae17194f185ac988c168c4f358ae85adaf0f1\n"
			      "Volume 3:\n"
			      "    StartingPath   big.bin 33\n"
			      "    EndingPath     " UNI "  \n"
			      "    Hash SHA1 9a22a6078dfa96fe11ade7f4c67ec5c9557a052c\n"
			      "Filelist 8\n"
			      "    new      a.txt\n"
			      "    new      big.bin\n"
			      "    new      \"new\\x0aline.txt\"\n"
			      "    new      \"quote\\x22and\\x27back\\x5cslash.txt\"\n"
			      "    new      sgid\n"
			      "    new      suid\n"
			      "    new      \"with\\x20space.txt\"\n"
			      "    new      " UNI "\n";

/* §2.1 incremental example. */
static const char inc_mf[] = "Hostname samplehost\n"
			     "Localdir src\n"
			     "Volume 1:\n"
			     "    StartingPath   .  \n"
			     "    EndingPath     ord/a-b  \n"
			     "    Hash SHA1 b09c0c4da1a65a8a1ca1ab4ef32b6818786f9a63\n"
			     "Filelist 9\n"
			     "    changed  a.txt\n"
			     "    changed  big.bin\n"
			     "    deleted  dir1/dir2/dir3/deep.txt\n"
			     "    deleted  dir1/dir2/two.txt\n"
			     "    deleted  empty\n"
			     "    changed  exact64k.bin\n"
			     "    changed  hardlink-to-a\n"
			     "    changed  medium.txt\n"
			     "    new      newdir/new.txt\n";

static int nerrors, nwarnings;

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	if (level == SB_LOG_ERR)
		nerrors++;
	else if (level == SB_LOG_WARN)
		nwarnings++;
}

static void set_hash(struct sb_manifest_vol *v, const char *hex)
{
	size_t i;

	v->hash_type = SB_HASH_SHA1;
	for (i = 0; i < 20; i++) {
		unsigned x;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &x), 1);
		v->hash[i] = (unsigned char)x;
	}
}

static void add_vol(struct sb_manifest *m, unsigned num, const char *s, long sb, const char *e,
		    long eb, const char *hex)
{
	struct sb_manifest_vol *v = sb_manifest_add_vol(m, num);

	assert_non_null(v);
	assert_int_equal(sb_buf_set(&v->start, s, strlen(s)), 0);
	assert_int_equal(sb_buf_set(&v->end, e, strlen(e)), 0);
	v->start_block = sb;
	v->end_block = eb;
	set_hash(v, hex);
}

static void add_file(struct sb_manifest *m, const char *kind, const char *path)
{
	assert_int_equal(sb_manifest_add_file(m, kind, path, strlen(path)), 0);
}

static void build_full(struct sb_manifest *m)
{
	sb_manifest_init(m);
	sb_buf_addstr(&m->hostname, "samplehost");
	sb_buf_addstr(&m->localdir, "src");
	add_vol(m, 1, "", -1, "big.bin", 16, "8c24d000a7f07d7a60ad3f163a43f86e3e22823a");
	add_vol(m, 2, "big.bin", 17, "big.bin", 32, "909ae17194f185ac988c168c4f358ae85adaf0f1");
	add_vol(m, 3, "big.bin", 33, UNI, -1, "9a22a6078dfa96fe11ade7f4c67ec5c9557a052c");
	add_file(m, "new", "a.txt");
	add_file(m, "new", "big.bin");
	add_file(m, "new", "new\nline.txt");
	add_file(m, "new", "quote\"and'back\\slash.txt");
	add_file(m, "new", "sgid");
	add_file(m, "new", "suid");
	add_file(m, "new", "with space.txt");
	add_file(m, "new", UNI);
}

static void build_inc(struct sb_manifest *m)
{
	sb_manifest_init(m);
	sb_buf_addstr(&m->hostname, "samplehost");
	sb_buf_addstr(&m->localdir, "src");
	add_vol(m, 1, "", -1, "ord/a-b", -1, "b09c0c4da1a65a8a1ca1ab4ef32b6818786f9a63");
	add_file(m, "changed", "a.txt");
	add_file(m, "changed", "big.bin");
	add_file(m, "deleted", "dir1/dir2/dir3/deep.txt");
	add_file(m, "deleted", "dir1/dir2/two.txt");
	add_file(m, "deleted", "empty");
	add_file(m, "changed", "exact64k.bin");
	add_file(m, "changed", "hardlink-to-a");
	add_file(m, "changed", "medium.txt");
	add_file(m, "new", "newdir/new.txt");
}

static void assert_formats_to(const struct sb_manifest *m, const char *want)
{
	struct sb_buf out = SB_BUF_INIT;

	assert_int_equal(sb_manifest_format(m, &out), 0);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	sb_buf_release(&out);
}

static void test_manifest__format_samples(void **state)
{
	struct sb_manifest m;

	build_full(&m);
	assert_formats_to(&m, full_mf);
	sb_manifest_release(&m);
	build_inc(&m);
	assert_formats_to(&m, inc_mf);
	sb_manifest_release(&m);
}

static void test_manifest__parse_samples(void **state)
{
	const struct sb_manifest_vol *v;
	struct sb_manifest m;

	sb_manifest_init(&m);
	assert_int_equal(sb_manifest_parse(&m, full_mf, strlen(full_mf), "full"), 0);
	assert_string_equal(sb_buf_str(&m.hostname), "samplehost");
	assert_string_equal(sb_buf_str(&m.localdir), "src");
	assert_int_equal(m.nvols, 3);
	assert_int_equal(sb_manifest_last_vol(&m), 3);
	v = sb_manifest_get_vol(&m, 1);
	assert_non_null(v);
	assert_int_equal(v->start.len, 0);
	assert_int_equal(v->start_block, -1);
	assert_string_equal(sb_buf_str(&v->end), "big.bin");
	assert_int_equal(v->end_block, 16);
	assert_int_equal(v->hash_type, SB_HASH_SHA1);
	assert_int_equal(v->hash[0], 0x8c);
	assert_int_equal(v->hash[19], 0x3a);
	v = sb_manifest_get_vol(&m, 3);
	assert_string_equal(sb_buf_str(&v->end), UNI);
	assert_int_equal(v->end_block, -1);
	assert_null(sb_manifest_get_vol(&m, 4));
	assert_true(m.has_filelist);
	assert_int_equal(m.nfiles, 8);
	assert_string_equal(m.files[2].kind, "new");
	assert_string_equal(sb_buf_str(&m.files[2].path), "new\nline.txt");
	assert_string_equal(sb_buf_str(&m.files[3].path), "quote\"and'back\\slash.txt");
	assert_string_equal(sb_buf_str(&m.files[6].path), "with space.txt");
	assert_formats_to(&m, full_mf);

	assert_int_equal(sb_manifest_parse(&m, inc_mf, strlen(inc_mf), "inc"), 0);
	assert_int_equal(m.nvols, 1);
	assert_int_equal(m.nfiles, 9);
	assert_string_equal(m.files[2].kind, "deleted");
	assert_string_equal(sb_buf_str(&m.vols[0].end), "ord/a-b");
	assert_formats_to(&m, inc_mf);
	sb_manifest_release(&m);
}

static void assert_quote(const char *in, size_t len, const char *want)
{
	struct sb_buf q = SB_BUF_INIT, u = SB_BUF_INIT;

	assert_int_equal(sb_manifest_quote(&q, in, len), 0);
	assert_string_equal(sb_buf_str(&q), want);
	assert_int_equal(sb_manifest_unquote(&u, (const char *)q.data, q.len), 0);
	assert_int_equal(u.len, len);
	if (len)
		assert_memory_equal(u.data, in, len);
	sb_buf_release(&q);
	sb_buf_release(&u);
}

static void test_manifest__quoting(void **state)
{
	struct sb_buf b = SB_BUF_INIT;

	assert_quote("", 0, ".");
	assert_quote("a.txt", 5, "a.txt");
	assert_quote("with space.txt", 14, "\"with\\x20space.txt\"");
	assert_quote("new\nline.txt", 12, "\"new\\x0aline.txt\"");
	assert_quote("quote\"and'back\\slash.txt", 24, "\"quote\\x22and\\x27back\\x5cslash.txt\"");
	assert_quote("latin1-\xe9.txt", 12, "latin1-\xe9.txt"); /* invalid UTF-8 stays raw */
	assert_quote("a\tb\vc\fd\re", 9, "\"a\\x09b\\x0bc\\x0cd\\x0de\"");
	assert_quote("\xff\xfe x", 4, "\"\xff\xfe\\x20x\"");
	assert_quote(UNI, strlen(UNI), UNI);

	/* unquote: "." is the root; appends; rejects what Unquote() chokes on */
	assert_int_equal(sb_manifest_unquote(&b, ".", 1), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(sb_manifest_unquote(&b, "\"\\x41B\"", 7), 0);
	assert_int_equal(sb_manifest_unquote(&b, "\"a\"b\"", 5), 0); /* inner quote kept */
	assert_string_equal(sb_buf_str(&b), "ABa\"b");
	assert_int_equal(sb_manifest_unquote(&b, "", 0), SB_ERR_CORRUPT);
	assert_int_equal(sb_manifest_unquote(&b, "\"abc", 4), SB_ERR_CORRUPT);
	assert_int_equal(sb_manifest_unquote(&b, "\"\\y41\"", 6), SB_ERR_CORRUPT);
	assert_int_equal(sb_manifest_unquote(&b, "\"\\x4\"", 5), SB_ERR_CORRUPT);
	assert_int_equal(sb_manifest_unquote(&b, "\"\\\"", 3), SB_ERR_CORRUPT);
	assert_string_equal(sb_buf_str(&b), "ABa\"b"); /* unchanged on failure */
	sb_buf_release(&b);
}

static void test_manifest__repeated_volumes(void **state)
{
	static const char text[] =
		"Volume 1:\n    StartingPath   .  \n    EndingPath     a 1\n    Hash SHA1 "
		"0000000000000000000000000000000000000001\n"
		"Volume 2:\n    StartingPath   a 2\n    EndingPath     b  \n    Hash SHA1 "
		"0000000000000000000000000000000000000002\n"
		"Volume 3:\n    StartingPath   b  \n    EndingPath     c  \n    Hash SHA1 "
		"0000000000000000000000000000000000000003\n"
		"Volume 2:\n    StartingPath   a 2\n    EndingPath     z  \n    Hash SHA1 "
		"0000000000000000000000000000000000000022\n";
	static const char gap[] =
		"Volume 1:\n StartingPath . \n EndingPath a\n Hash MD5 00000000000000000000000000000001\n"
		"Volume 5:\n StartingPath a \n EndingPath b\n Hash MD5 00000000000000000000000000000005\n"
		"Volume 2:\n StartingPath a \n EndingPath c\n Hash MD5 00000000000000000000000000000002\n";
	struct sb_manifest m;

	sb_manifest_init(&m);
	assert_int_equal(sb_manifest_parse(&m, text, strlen(text), "t"), 0);
	assert_int_equal(m.nvols, 2);
	assert_int_equal(sb_manifest_last_vol(&m), 2);
	assert_string_equal(sb_buf_str(&m.vols[1].end), "z");
	assert_int_equal(m.vols[1].hash[19], 0x22);
	assert_false(m.has_filelist);
	/* 0.8.22 raises on the missing volumes 3 and 4; we just drop 5 */
	assert_int_equal(sb_manifest_parse(&m, gap, strlen(gap), "gap"), 0);
	assert_int_equal(m.nvols, 2);
	assert_int_equal(m.vols[1].num, 2);
	assert_int_equal(m.vols[1].hash_type, SB_HASH_MD5);
	assert_string_equal(sb_buf_str(&m.vols[1].end), "c");
	sb_manifest_release(&m);
}

static void test_manifest__tolerant(void **state)
{
	/* Manifest.to_string() order (Filelist first), odd case, MD5, tabs, CRLF */
	static const char text[] = "hOSTNAME h1\n"
				   "Filelist 1\n"
				   "    changed  \"x\\x20y\"\n"
				   "VOLUME 7: trailing words\r\n"
				   "\tstartingpath\tdir/a\t3 extra\r\n"
				   "\n"
				   "  ENDINGPATH \"d\\x20e\"\n"
				   "  Unknown field here\n"
				   "  Hash MD5 0123456789abcdefABCDEF0123456789\n";
	static const char nohash[] =
		"Localdir .\nVolume 1:\n StartingPath .\n EndingPath a\n Hash sha1 "
		"0000000000000000000000000000000000000001\n";
	struct sb_buf out = SB_BUF_INIT;
	struct sb_manifest m;

	sb_manifest_init(&m);
	assert_int_equal(sb_manifest_parse(&m, text, strlen(text), "t"), 0);
	assert_string_equal(sb_buf_str(&m.hostname), "h1");
	assert_int_equal(m.localdir.len, 0);
	assert_int_equal(m.nvols, 1);
	assert_int_equal(m.vols[0].num, 7);
	assert_string_equal(sb_buf_str(&m.vols[0].start), "dir/a");
	assert_int_equal(m.vols[0].start_block, 3);
	assert_string_equal(sb_buf_str(&m.vols[0].end), "d e");
	assert_int_equal(m.vols[0].hash_type, SB_HASH_MD5);
	assert_int_equal(m.vols[0].hash[15], 0x89);
	assert_int_equal(m.nfiles, 1);
	assert_string_equal(m.files[0].kind, "changed");
	assert_string_equal(sb_buf_str(&m.files[0].path), "x y");

	/* hash names are case-sensitive: no usable hash, callers must refuse */
	assert_int_equal(sb_manifest_parse(&m, nohash, strlen(nohash), "nohash"), 0);
	assert_int_equal(m.vols[0].hash_type, SB_HASH_NONE);
	assert_string_equal(sb_buf_str(&m.localdir), "."); /* a real path, not the root */
	nerrors = 0;
	assert_int_equal(sb_manifest_format(&m, &out), SB_ERR_PARAM);
	assert_int_equal(out.len, 0);
	assert_int_equal(nerrors, 1);

	/* nothing at all: an empty manifest, as in duplicity */
	assert_int_equal(sb_manifest_parse(&m, "", 0, "empty"), 0);
	assert_int_equal(m.nvols, 0);
	assert_int_equal(sb_manifest_parse(&m, NULL, 0, "null"), 0);
	assert_int_equal(sb_manifest_format(&m, &out), 0);
	assert_int_equal(out.len, 0);
	sb_buf_release(&out);
	sb_manifest_release(&m);
}

static void test_manifest__bad_filelist_dropped(void **state)
{
	static const char *const texts[] = {
		"Volume 1:\n StartingPath .\n EndingPath a\nFilelist 2\n    new      a\n",
		"Volume 1:\n StartingPath .\n EndingPath a\nFilelist 1\n    added    a\n",
		"Volume 1:\n StartingPath .\n EndingPath a\nFilelist 1\n    new      \"a\n",
		"Volume 1:\n StartingPath .\n EndingPath a\nFilelist 1\n    new\n",
		"Volume 1:\n StartingPath .\n EndingPath a\nFilelist 99999999999999999999999\n",
	};
	struct sb_manifest m;
	size_t i;

	sb_manifest_init(&m);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		nwarnings = 0;
		assert_int_equal(sb_manifest_parse(&m, texts[i], strlen(texts[i]), "fl"), 0);
		assert_int_equal(m.nvols, 1);
		assert_false(m.has_filelist);
		assert_int_equal(m.nfiles, 0);
		assert_int_equal(nwarnings, 1);
	}
	sb_manifest_release(&m);
}

static void test_manifest__corrupt(void **state)
{
	static const char *const texts[] = {
		"Volume x:\n StartingPath .\n EndingPath a\n",
		"Volume\t1:\n StartingPath .\n EndingPath a\n",
		"Volume 0:\n StartingPath .\n EndingPath a\n",
		"Volume 99999999999:\n StartingPath .\n EndingPath a\n",
		"Volume 1:\n StartingPath .\n",
		"Volume 1:\n EndingPath a\n",
		"Volume 1:\n StartingPath\n EndingPath a\n",
		"Volume 1:\n StartingPath . x\n EndingPath a\n",
		"Volume 1:\n StartingPath . -1\n EndingPath a\n",
		"Volume 1:\n StartingPath a//b\n EndingPath a\n",
		"Volume 1:\n StartingPath ../x\n EndingPath a\n",
		"Volume 1:\n StartingPath /x\n EndingPath a\n",
		"Volume 1:\n StartingPath \"a\\x00b\"\n EndingPath a\n",
		"Volume 1:\n StartingPath \"a\n EndingPath a\n",
		"Volume 1:\n StartingPath .\n EndingPath a\n Hash SHA1\n",
		"Volume 1:\n StartingPath .\n EndingPath a\n Hash SHA1 abc\n",
		("Volume 1:\n StartingPath .\n EndingPath a\n Hash SHA1 "
		 "000000000000000000000000000000000000000g\n"),
		"Volume 1:\n StartingPath .\n   \t\n EndingPath a\n",
		"Hostname \"h\nVolume 1:\n StartingPath .\n EndingPath a\n",
		"Volume 1:\n StartingPath .\n EndingPath a\nVolume 2:\n",
	};
	struct sb_manifest m;
	size_t i;

	sb_manifest_init(&m);
	assert_int_equal(sb_manifest_add_file(&m, "new", "keep", 4), 0);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		nerrors = 0;
		if (sb_manifest_parse(&m, texts[i], strlen(texts[i]), "bad") != SB_ERR_CORRUPT)
			fail_msg("accepted case %zu", i);
		assert_int_equal(nerrors, 1);
		assert_int_equal(m.nfiles, 1); /* m untouched on failure */
	}
	sb_manifest_release(&m);
}

/* Must never crash or leak: truncations at every length, random bytes, mutations. */
static void test_manifest__garbage(void **state)
{
	struct sb_manifest m;
	struct sb_buf out = SB_BUF_INIT;
	unsigned char buf[600];
	uint32_t x = 12345;
	size_t i, j, n;
	int rc;

	sb_manifest_init(&m);
	for (n = 0; n <= strlen(full_mf); n++) {
		char *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */

		memcpy(copy, full_mf, n);
		rc = sb_manifest_parse(&m, copy, n, "trunc");
		assert_true(rc == 0 || rc == SB_ERR_CORRUPT);
		free(copy);
	}
	for (i = 0; i < 3000; i++) {
		n = (x = x * 1103515245 + 12345) % sizeof(buf);
		if (i % 2) {
			memcpy(buf, full_mf, n);
			for (j = 0; j < 4; j++) {
				x = x * 1103515245 + 12345;
				buf[(x >> 8) % (n ? n : 1)] = (unsigned char)(x >> 24);
			}
		} else {
			for (j = 0; j < n; j++)
				buf[j] =
					(unsigned char)((x = x * 1103515245 + 12345) >> 16) % 8 == 0
						? "\n Volume 1:\"\\x"[(x >> 20) % 14]
						: (unsigned char)(x >> 24);
		}
		rc = sb_manifest_parse(&m, buf, n, "garbage");
		assert_true(rc == 0 || rc == SB_ERR_CORRUPT);
		if (rc == 0) {
			sb_buf_reset(&out);
			rc = sb_manifest_format(&m, &out);
			assert_true(rc == 0 || rc == SB_ERR_PARAM);
		}
	}
	sb_buf_release(&out);
	sb_manifest_release(&m);
}

static void test_manifest__volume_selection(void **state)
{
	static const struct {
		const char *prefix;
		const char *vols; /* '1'..'3' selected from the full sample */
	} cases[] = {
		{"", "123"},	    {"a.txt", "1"}, {"big.bin", "123"}, {"dir1/one.txt", "3"},
		{"dir1", "3"},	    {UNI, "3"},	    {"\xff", ""},	{"zzz", "3"},
		{"big.bin/x", "3"}, {"b", "1"},
	};
	struct sb_manifest m;
	char got[4];
	size_t i, k;
	unsigned v;

	build_full(&m);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = 0;
		for (v = 1; v <= 3; v++) {
			if (sb_manifest_vol_may_contain(sb_manifest_get_vol(&m, v), cases[i].prefix,
							strlen(cases[i].prefix)))
				got[k++] = (char)('0' + v);
		}
		got[k] = '\0';
		if (strcmp(got, cases[i].vols) != 0)
			fail_msg("prefix \"%s\": got %s want %s", cases[i].prefix, got,
				 cases[i].vols);
	}
	sb_manifest_release(&m);

	/* StartingPath is cut to the prefix's length before comparing */
	sb_manifest_init(&m);
	add_vol(&m, 1, "dir1/dir2/x", -1, "dir1/dir3", -1,
		"0000000000000000000000000000000000000000");
	assert_true(sb_manifest_vol_may_contain(&m.vols[0], "dir1", 4));
	assert_true(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir2", 9));
	assert_false(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir1", 9));
	assert_false(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir2/a", 11));
	assert_false(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir2/a/b", 13));
	assert_true(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir2/y/b", 13));
	assert_true(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir2/x", 11));
	assert_false(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir4", 9));
	assert_false(sb_manifest_vol_may_contain(&m.vols[0], "dir1-x", 6));
	assert_true(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir3", 9));
	assert_false(sb_manifest_vol_may_contain(&m.vols[0], "dir1/dir3/a", 11));
	sb_manifest_release(&m);
}

static void test_manifest__building(void **state)
{
	struct sb_manifest_vol *v;
	struct sb_buf out = SB_BUF_INIT;
	struct sb_manifest m;

	sb_manifest_init(&m);
	assert_null(sb_manifest_add_vol(&m, 0));
	assert_non_null(sb_manifest_add_vol(&m, 3));
	assert_non_null(sb_manifest_add_vol(&m, 1));
	v = sb_manifest_add_vol(&m, 3); /* replaces */
	assert_int_equal(m.nvols, 2);
	assert_int_equal(m.vols[0].num, 1);
	assert_int_equal(v->num, 3);
	assert_int_equal(v->start_block, -1);
	assert_int_equal(sb_manifest_last_vol(&m), 3);
	nerrors = 0;
	assert_int_equal(sb_manifest_add_file(&m, "renamed", "a", 1), SB_ERR_PARAM);
	assert_int_equal(nerrors, 1);
	assert_int_equal(m.nfiles, 0);
	sb_manifest_release(&m);

	/* Localdir is quoted, hostname absent, Filelist 0 written when asked */
	sb_manifest_init(&m);
	sb_buf_addstr(&m.localdir, "/home/me/My Files");
	m.has_filelist = true;
	add_vol(&m, 1, "", -1, "", -1, "00000000000000000000000000000000000000ff");
	assert_formats_to(&m, "Localdir \"/home/me/My\\x20Files\"\n"
			      "Volume 1:\n"
			      "    StartingPath   .  \n"
			      "    EndingPath     .  \n"
			      "    Hash SHA1 00000000000000000000000000000000000000ff\n"
			      "Filelist 0\n");
	assert_int_equal(sb_manifest_parse(&m, "Localdir \"/home/me/My\\x20Files\"\n", 33, "l"), 0);
	assert_string_equal(sb_buf_str(&m.localdir), "/home/me/My Files");
	/* a hostname that could not be read back is refused */
	sb_buf_set(&m.hostname, "my host", 7);
	assert_int_equal(sb_manifest_format(&m, &out), SB_ERR_PARAM);
	sb_buf_release(&out);
	sb_manifest_release(&m);
}

/* A long file list (the array grows, each path allocated exactly) formats
 * and parses back entry by entry. */
static void test_manifest__long_filelist(void **state)
{
	static const char *const kinds[] = {"new", "changed", "deleted"};
	struct sb_buf out = SB_BUF_INIT;
	struct sb_manifest m, back;
	char path[64];
	size_t i;
	int n;

	(void)state;
	sb_manifest_init(&m);
	add_vol(&m, 1, "", -1, "", -1, "00000000000000000000000000000000000000ff");
	for (i = 0; i < 5000; i++) {
		n = snprintf(path, sizeof(path), "d%zu/file %zu.txt", i % 37, i);
		assert_int_equal(sb_manifest_add_file(&m, kinds[i % 3], path, (size_t)n), 0);
		assert_int_equal(m.files[i].path.len, (size_t)n);
		assert_true(m.files_cap >= m.nfiles);
	}
	assert_int_equal(sb_manifest_format(&m, &out), 0);
	sb_manifest_init(&back);
	assert_int_equal(sb_manifest_parse(&back, out.data, out.len, "long"), 0);
	assert_int_equal(back.nfiles, m.nfiles);
	for (i = 0; i < m.nfiles; i++) {
		assert_string_equal(back.files[i].kind, m.files[i].kind);
		assert_int_equal(back.files[i].path.len, m.files[i].path.len);
		assert_memory_equal(sb_buf_str(&back.files[i].path), sb_buf_str(&m.files[i].path),
				    m.files[i].path.len);
	}
	sb_buf_release(&out);
	sb_manifest_release(&back);
	sb_manifest_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest__format_samples),
		cmocka_unit_test(test_manifest__parse_samples),
		cmocka_unit_test(test_manifest__quoting),
		cmocka_unit_test(test_manifest__repeated_volumes),
		cmocka_unit_test(test_manifest__tolerant),
		cmocka_unit_test(test_manifest__bad_filelist_dropped),
		cmocka_unit_test(test_manifest__corrupt),
		cmocka_unit_test(test_manifest__garbage),
		cmocka_unit_test(test_manifest__volume_selection),
		cmocka_unit_test(test_manifest__building),
		cmocka_unit_test(test_manifest__long_filelist),
	};

	sb_log_set_handler(count_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
