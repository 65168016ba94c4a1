/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_names.c - archive file names: parse like duplicity 0.8.22's
 * file_naming.parse() (expected values were produced with it), format long
 * names, round trips, rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/names.h"

#define T_FULL 1700000000
#define T_INC1 1700003600

struct name_case {
	const char *name;
	enum sb_file_kind kind;
	bool full;
	long long t0, t1;
	unsigned vol;
	bool enc, gz, part;
};

static const struct name_case accepted[] = {
	{"duplicity-full.20231114T221320Z.vol1.difftar.gpg", SB_KIND_VOL, 1, T_FULL, T_FULL, 1, 1,
	 0, 0},
	{"duplicity-full.20231114T221320Z.vol12.difftar.gz", SB_KIND_VOL, 1, T_FULL, T_FULL, 12, 0,
	 1, 0},
	{"duplicity-full.20231114T221320Z.vol3.difftar", SB_KIND_VOL, 1, T_FULL, T_FULL, 3, 0, 0,
	 0},
	{"duplicity-full.20231114T221320Z.manifest.gpg", SB_KIND_MANIFEST, 1, T_FULL, T_FULL, 0, 1,
	 0, 0},
	{"duplicity-full.20231114T221320Z.manifest", SB_KIND_MANIFEST, 1, T_FULL, T_FULL, 0, 0, 0,
	 0},
	{"duplicity-full.20231114T221320Z.manifest.part", SB_KIND_MANIFEST, 1, T_FULL, T_FULL, 0, 0,
	 0, 1},
	{"duplicity-full-signatures.20231114T221320Z.sigtar.gpg", SB_KIND_SIG, 1, T_FULL, T_FULL, 0,
	 1, 0, 0},
	{"duplicity-full-signatures.20231114T221320Z.sigtar.part", SB_KIND_SIG, 1, T_FULL, T_FULL,
	 0, 0, 0, 1},
	{"duplicity-inc.20231114T221320Z.to.20231114T231320Z.manifest.gpg", SB_KIND_MANIFEST, 0,
	 T_FULL, T_INC1, 0, 1, 0, 0},
	{"duplicity-inc.20231114T221320Z.to.20231114T231320Z.vol1.difftar.gpg", SB_KIND_VOL, 0,
	 T_FULL, T_INC1, 1, 1, 0, 0},
	{"duplicity-inc.20231114T221320Z.to.20231114T231320Z.manifest.part", SB_KIND_MANIFEST, 0,
	 T_FULL, T_INC1, 0, 0, 0, 1},
	{"duplicity-new-signatures.20231114T221320Z.to.20231114T231320Z.sigtar.gz", SB_KIND_SIG, 0,
	 T_FULL, T_INC1, 0, 0, 1, 0},
	/* duplicity's patterns end at "$" or any '.', and '$' allows a final "\n" */
	{"duplicity-full.20231114T221320Z.vol1.difftar.gpg.bak", SB_KIND_VOL, 1, T_FULL, T_FULL, 1,
	 0, 0, 0},
	{"duplicity-full.20231114T221320Z.vol1.difftar\n", SB_KIND_VOL, 1, T_FULL, T_FULL, 1, 0, 0,
	 0},
	{"duplicity-full.20231114t221320z.vol1.difftar", SB_KIND_VOL, 1, T_FULL, T_FULL, 1, 0, 0,
	 0},
	{"duplicity-full.20231114T221320Z.manifest.partx", SB_KIND_MANIFEST, 1, T_FULL, T_FULL, 0,
	 0, 0, 0},
	{"duplicity-full.20231114T221320Z.manifest.gz", SB_KIND_MANIFEST, 1, T_FULL, T_FULL, 0, 0,
	 1, 0},
	{"duplicity-full.20231114T221320Z.vol1.difftar.part", SB_KIND_VOL, 1, T_FULL, T_FULL, 1, 0,
	 0, 1},
	/* inc volumes have no partial group: ".part" is just a trailing '.' */
	{"duplicity-inc.20231114T221320Z.to.20231114T231320Z.vol1.difftar.part", SB_KIND_VOL, 0,
	 T_FULL, T_INC1, 1, 0, 0, 0},
	/* duplicity's loose field checks, normalised like calendar.timegm */
	{"duplicity-full.20230231T000000Z.manifest", SB_KIND_MANIFEST, 1, 1677801600, 1677801600, 0,
	 0, 0, 0},
	{"duplicity-full.20231114T221361Z.manifest", SB_KIND_MANIFEST, 1, 1700000041, 1700000041, 0,
	 0, 0, 0},
	/* old-time names (local time + offset; -03:30 computed as 0.8.22 does) */
	{"duplicity-full.2002-08-17T16:17:01-07:00.vol1.difftar.gpg", SB_KIND_VOL, 1, 1029626221,
	 1029626221, 1, 1, 0, 0},
	{"duplicity-full.2002-08-17T16:17:01-03:30.manifest", SB_KIND_MANIFEST, 1, 1029610021,
	 1029610021, 0, 0, 0, 0},
	{"duplicity-full.2002-08-17T16:17:01+05:30.manifest", SB_KIND_MANIFEST, 1, 1029581221,
	 1029581221, 0, 0, 0, 0},
	{"duplicity-full.2002-08-17T16:17:01Z.manifest", SB_KIND_MANIFEST, 1, 1029601021,
	 1029601021, 0, 0, 0, 0},
	{"duplicity-full.2002-08-17T16_17_01-07_00.manifest", SB_KIND_MANIFEST, 1, 1029626221,
	 1029626221, 0, 0, 0, 0},
	{"duplicity-inc.2002-08-17T16:17:01-07:00.to.2002-08-18T16:17:01-07:00.manifest.gpg",
	 SB_KIND_MANIFEST, 0, 1029626221, 1029712621, 0, 1, 0, 0},
	/* short names: base 36, .g/.z/.p */
	{"df.abc123.1.dt.g", SB_KIND_VOL, 1, 623698779, 623698779, 1, 1, 0, 0},
	{"df.abc123.z.dt.z", SB_KIND_VOL, 1, 623698779, 623698779, 35, 0, 1, 0},
	{"df.abc123.m", SB_KIND_MANIFEST, 1, 623698779, 623698779, 0, 0, 0, 0},
	{"df.abc123.m.p", SB_KIND_MANIFEST, 1, 623698779, 623698779, 0, 0, 0, 1},
	{"di.abc.abd.2.dt.g", SB_KIND_VOL, 0, 13368, 13369, 2, 1, 0, 0},
	{"di.abc.abd.m.p.g", SB_KIND_MANIFEST, 0, 13368, 13369, 0, 1, 0, 1},
	{"dfs.abc.st.p.z", SB_KIND_SIG, 1, 13368, 13368, 0, 0, 1, 1},
	{"dns.abc.abd.st.g", SB_KIND_SIG, 0, 13368, 13369, 0, 1, 0, 0},
	/* sealbox's own kinds */
	{"sealbox-full.20231114T221320Z.index.gpg", SB_KIND_INDEX, 1, T_FULL, T_FULL, 0, 1, 0, 0},
	{"sealbox-inc.20231114T221320Z.to.20231114T231320Z.index.gpg", SB_KIND_INDEX, 0, T_FULL,
	 T_INC1, 0, 1, 0, 0},
	{"sealbox-full.20231114T221320Z.index.gz", SB_KIND_INDEX, 1, T_FULL, T_FULL, 0, 0, 1, 0},
	{"sealbox-full.20231114T221320Z.index", SB_KIND_INDEX, 1, T_FULL, T_FULL, 0, 0, 0, 0},
	{"sealbox-full.20231114T221320Z.seal.asc", SB_KIND_SEAL, 1, T_FULL, T_FULL, 0, 0, 0, 0},
	{"sealbox-inc.20231114T221320Z.to.20231114T231320Z.seal.asc", SB_KIND_SEAL, 0, T_FULL,
	 T_INC1, 0, 0, 0, 0},
};

static const char *const rejected[] = {
	"README.txt",
	"",
	"duplicity-full.notatime.vol1.difftar.gz",
	"duplicity-full.20231114T221320Z.vol1.difftarx",
	"duplicity-full.19700101T000000Z.vol1.difftar", /* time 0 is "no time" */
	"duplicity-full.20231114T221320Z.vol0.difftar", /* assertion in 0.8.22 */
	"duplicity-full.20231114T221320Z.vol.difftar",
	"duplicity-full.20231114T221320Z.manifestx",
	"duplicity-full.20231314T221320Z.manifest",
	"duplicity-full.1700000000.manifest", /* epoch in a name: not written by anyone */
	"duplicity-full.3D.manifest",
	"duplicity-inc.20231114T221320Z.vol1.difftar",
	"duplicity-full-signatures.20231114T221320Z.sigtarx",
	"duplicity-new-signatures.20231114T221320Z.sigtar",
	"duplicity-full.20231114T221320Z.vol1.difftar\n\n",
	"xduplicity-full.20231114T221320Z.vol1.difftar",
	"df.0.1.dt",
	"df.ABC.1.dt",
	"df.abc.0.dt",
	".sealbox-tmp.duplicity-full.20231114T221320Z.vol1.difftar.gpg",
	".sealbox-tmp.sealbox-full.20231114T221320Z.index.gpg",
	"sealbox-full.20231114T221320Z.index.gpg.bak",
	"sealbox-full.20231114T221320Z.seal",
	"sealbox-full.20231114T221320Z.seal.asc.part",
	"sealbox-full.20231114t221320z.index.gpg",
	"sealbox-full.20230231T000000Z.index.gpg",
	"sealbox-inc.20231114T221320Z.20231114T231320Z.index.gpg",
	"sealbox-full.2002-08-17T16:17:01Z.index.gpg",
};

static void test_names__accepted(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		const struct name_case *c = &accepted[i];
		struct sb_name n;
		int rc = sb_name_parse(c->name, &n);

		if (rc != 0)
			fail_msg("not accepted: %s", sb_log_str(c->name, strlen(c->name)));
		assert_int_equal(n.kind, c->kind);
		assert_int_equal(n.full, c->full);
		assert_int_equal((long long)n.t0, c->t0);
		assert_int_equal((long long)n.t1, c->t1);
		assert_int_equal(n.vol, c->vol);
		assert_int_equal(n.encrypted, c->enc);
		assert_int_equal(n.gzipped, c->gz);
		assert_int_equal(n.partial, c->part);
	}
}

static void test_names__rejected(void **state)
{
	struct sb_name n;
	size_t i;

	for (i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		if (sb_name_parse(rejected[i], &n) != SB_ERR_NOTFOUND)
			fail_msg("accepted: %s", sb_log_str(rejected[i], strlen(rejected[i])));
	}
}

/* Every canonical long name formats back to itself. */
static void test_names__round_trip(void **state)
{
	static const char *const canon[] = {
		"duplicity-full.20231114T221320Z.vol1.difftar.gpg",
		"duplicity-full.20231114T221320Z.vol12.difftar.gz",
		"duplicity-full.20231114T221320Z.vol3.difftar",
		"duplicity-full.20231114T221320Z.manifest.gpg",
		"duplicity-full.20231114T221320Z.manifest",
		"duplicity-full.20231114T221320Z.manifest.part",
		"duplicity-full-signatures.20231114T221320Z.sigtar.gpg",
		"duplicity-full-signatures.20231114T221320Z.sigtar.part",
		"duplicity-full-signatures.20231114T221320Z.sigtar.gz",
		"duplicity-inc.20231114T221320Z.to.20231114T231320Z.manifest.gpg",
		"duplicity-inc.20231114T221320Z.to.20231114T231320Z.manifest.part",
		"duplicity-inc.20231114T221320Z.to.20231114T231320Z.vol1.difftar.gpg",
		"duplicity-inc.20231114T231320Z.to.20231115T001320Z.vol4294967295.difftar",
		"duplicity-new-signatures.20231114T221320Z.to.20231114T231320Z.sigtar.gz",
		"duplicity-new-signatures.20231114T221320Z.to.20231114T231320Z.sigtar.part.gpg",
		"sealbox-full.20231114T221320Z.index.gpg",
		"sealbox-inc.20231114T221320Z.to.20231114T231320Z.index.gpg",
		"sealbox-full.20231114T221320Z.seal.asc",
		"sealbox-inc.20231114T221320Z.to.20231114T231320Z.seal.asc",
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		struct sb_name n;

		assert_int_equal(sb_name_parse(canon[i], &n), 0);
		assert_int_equal(sb_name_format(&n, buf, sizeof(buf)), (int)strlen(canon[i]));
		assert_string_equal(buf, canon[i]);
	}
}

/* Legacy forms parse, and format as the long name for the same file. */
static void test_names__legacy_formats_long(void **state)
{
	struct sb_name n;
	char buf[128];

	assert_int_equal(sb_name_parse("di.abc.abd.2.dt.g", &n), 0);
	assert_int_equal(sb_name_format(&n, buf, sizeof(buf)), 67);
	assert_string_equal(buf,
			    "duplicity-inc.19700101T034248Z.to.19700101T034249Z.vol2.difftar.gpg");
	assert_int_equal(sb_name_parse("duplicity-full.2002-08-17T16:17:01-07:00.manifest.gpg", &n),
			 0);
	assert_true(sb_name_format(&n, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "duplicity-full.20020817T231701Z.manifest.gpg");
}

static void test_names__format_rules(void **state)
{
	struct sb_name n = {SB_KIND_MANIFEST, true, T_FULL, T_FULL, 0, false, true, false};
	char buf[128];
	size_t len;

	/* manifests are never gzipped; encryption wins over gzip */
	assert_true(sb_name_format(&n, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "duplicity-full.20231114T221320Z.manifest");
	n.kind = SB_KIND_VOL;
	n.vol = 2;
	n.encrypted = true;
	assert_true(sb_name_format(&n, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "duplicity-full.20231114T221320Z.vol2.difftar.gpg");
	/* too small: exactly one byte short */
	len = strlen(buf);
	assert_int_equal(sb_name_format(&n, buf, len), SB_ERR_PARAM);
	assert_int_equal(sb_name_format(&n, buf, len + 1), (int)len);
	/* inconsistent requests */
	n.vol = 0;
	assert_int_equal(sb_name_format(&n, buf, sizeof(buf)), SB_ERR_PARAM);
	n.vol = 1;
	n.t1 = T_INC1;
	assert_int_equal(sb_name_format(&n, buf, sizeof(buf)), SB_ERR_PARAM);
	n.kind = SB_KIND_MANIFEST;
	n.t1 = T_FULL;
	assert_int_equal(sb_name_format(&n, buf, sizeof(buf)), SB_ERR_PARAM);
	n.vol = 0;
	n.kind = SB_KIND_SEAL;
	n.partial = true;
	assert_int_equal(sb_name_format(&n, buf, sizeof(buf)), SB_ERR_PARAM);
	n.partial = false;
	assert_true(sb_name_format(&n, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "sealbox-full.20231114T221320Z.seal.asc");
	n.kind = (enum sb_file_kind)9;
	assert_int_equal(sb_name_format(&n, buf, sizeof(buf)), SB_ERR_PARAM);
}

static void quiet(enum sb_log_level level, const char *msg, void *ctx) {}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names__accepted),
		cmocka_unit_test(test_names__rejected),
		cmocka_unit_test(test_names__round_trip),
		cmocka_unit_test(test_names__legacy_formats_long),
		cmocka_unit_test(test_names__format_rules),
	};

	sb_log_set_handler(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
