/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_seal.c - the seal text: format/parse round trips, the exact layout,
 * and rejection of everything else (truncations, extra or reordered lines,
 * bad hex, bad sizes, foreign names, duplicates, count mismatch).
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
#include "sealbox/seal.h"

#define T_FULL 1700000000
#define T_INC1 1700003600

static const char good_text[] =
	"sealbox-seal 1\n"
	"backup-id 0123456789abcdef0123456789abcdef\n"
	"set inc 20231114T221320Z 20231114T231320Z\n"
	"previous 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
	"file 1111111111111111111111111111111111111111111111111111111111111111 536 "
	"duplicity-inc.20231114T221320Z.to.20231114T231320Z.manifest.gpg\n"
	"file 2222222222222222222222222222222222222222222222222222222222222222 73042 "
	"duplicity-inc.20231114T221320Z.to.20231114T231320Z.vol1.difftar.gpg\n"
	"end 2\n";

static void quiet(enum sb_log_level l, const char *m, void *c) { (void)l, (void)m, (void)c; }

static void fill(struct sb_seal *s)
{
	unsigned char h1[32], h2[32];

	memset(h1, 0x11, 32);
	memset(h2, 0x22, 32);
	sb_seal_init(s);
	strcpy(s->backup_id, "0123456789abcdef0123456789abcdef");
	s->full = false;
	s->t0 = T_FULL;
	s->t1 = T_INC1;
	s->has_prev = true;
	for (int i = 0; i < 32; i++)
		s->prev[i] = (unsigned char)(i % 16 * 0x11);
	/* added out of order: format sorts */
	assert_int_equal(sb_seal_add_file(s,
					  "duplicity-inc.20231114T221320Z.to.20231114T231320Z"
					  ".vol1.difftar.gpg",
					  73042, h2),
			 0);
	assert_int_equal(sb_seal_add_file(s,
					  "duplicity-inc.20231114T221320Z.to.20231114T231320Z"
					  ".manifest.gpg",
					  536, h1),
			 0);
}

static void test_seal__format_exact(void **state)
{
	struct sb_seal s;
	struct sb_buf b = SB_BUF_INIT;

	(void)state;
	fill(&s);
	assert_int_equal(sb_seal_format(&s, &b), 0);
	assert_string_equal(sb_buf_str(&b), good_text);
	sb_buf_release(&b);
	sb_seal_release(&s);
}

static void test_seal__round_trip(void **state)
{
	struct sb_seal s, p;
	struct sb_buf b = SB_BUF_INIT, b2 = SB_BUF_INIT;
	const struct sb_seal_file *f;

	(void)state;
	fill(&s);
	sb_seal_init(&p);
	assert_int_equal(sb_seal_format(&s, &b), 0);
	assert_int_equal(sb_seal_parse(&p, b.data, b.len, "t"), 0);
	assert_string_equal(p.backup_id, s.backup_id);
	assert_false(p.full);
	assert_int_equal(p.t0, T_FULL);
	assert_int_equal(p.t1, T_INC1);
	assert_true(p.has_prev);
	assert_memory_equal(p.prev, s.prev, 32);
	assert_int_equal(p.nfiles, 2);
	f = sb_seal_find(&p, "duplicity-inc.20231114T221320Z.to.20231114T231320Z.vol1.difftar.gpg");
	assert_non_null(f);
	assert_int_equal(f->size, 73042);
	assert_int_equal(f->sha256[0], 0x22);
	assert_null(sb_seal_find(
		&p, "duplicity-inc.20231114T221320Z.to.20231114T231320Z.vol2.difftar.gpg"));
	assert_int_equal(sb_seal_format(&p, &b2), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	/* a full set with no predecessor and no files, without the final newline */
	sb_seal_release(&p);
	sb_seal_release(&s); /* leaves s initialised */
	strcpy(s.backup_id, "ffffffffffffffffffffffffffffffff");
	s.full = true;
	s.t0 = s.t1 = T_FULL;
	sb_buf_reset(&b);
	assert_int_equal(sb_seal_format(&s, &b), 0);
	assert_non_null(strstr(sb_buf_str(&b), "previous none\nend 0\n"));
	assert_int_equal(sb_seal_parse(&p, b.data, b.len - 1, "t"), 0);
	assert_true(p.full);
	assert_false(p.has_prev);
	sb_seal_release(&p);
	sb_buf_release(&b);
	sb_buf_release(&b2);
}

/* Replace the first occurrence of from by to in good_text, then parse. */
static int parse_edited(const char *from, const char *to)
{
	char buf[2048];
	const char *at = strstr(good_text, from);
	struct sb_seal s;
	int rc;

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good_text), good_text, to,
		 at + strlen(from));
	sb_seal_init(&s);
	rc = sb_seal_parse(&s, buf, strlen(buf), "t");
	sb_seal_release(&s);
	return rc;
}

static void test_seal__rejects(void **state)
{
	static const char *const edits[][2] = {
		{"sealbox-seal 1", "sealbox-seal 2"},
		{"sealbox-seal 1\n", ""},
		{"backup-id 0123", "backup-id 0X23"},
		{"backup-id 0123456789abcdef0123456789abcdef", "backup-id 0123"},
		{"set inc", "set full"}, /* full with t0 != t1 */
		{"set inc", "set diff"},
		{"20231114T231320Z\n", "20231114T221320Z\n"}, /* inc with t0 == t1 */
		{"previous 00", "previous 0"},
		{"previous 00", "previous AA"},
		{"previous 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		 "previous"},
		{"536 ", "0536 "},
		{"536 ", "-536 "},
		{"536 ", "536  "},
		{"536 ", "99999999999999999999 "},
		{" 536 duplicity-inc", " 536 ../duplicity-inc"},
		{" 536 duplicity-inc", " 536 .duplicity-inc"},
		{"manifest.gpg\n", "manifest.gpg extra\n"},
		{"end 2", "end 3"},
		{"end 2", "end"},
		{"end 2\n", ""},
		{"end 2\n", "end 2\ntrailing\n"},
		{"file 2222", "fil 2222"},
		{"file 1111", "file 111"},
		{"\nfile 1111", "\nbogus line\nfile 1111"},
		{"\nfile 1111", "\r\nfile 1111"},
		/* a duplicate name */
		{"vol1.difftar.gpg", "manifest.gpg"},
		/* previous before set */
		{"set inc 20231114T221320Z 20231114T231320Z\nprevious "
		 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
		 "previous 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		 "set inc 20231114T221320Z 20231114T231320Z\n"},
	};
	struct sb_seal s;
	size_t i;

	(void)state;
	sb_log_set_handler(quiet, NULL);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		if (parse_edited(edits[i][0], edits[i][1]) != SB_ERR_CORRUPT)
			fail_msg("edit %zu ('%s' -> '%s') was accepted", i, edits[i][0],
				 edits[i][1]);
	}
	sb_seal_init(&s);
	assert_int_equal(sb_seal_parse(&s, "", 0, "t"), SB_ERR_CORRUPT);
	assert_int_equal(sb_seal_parse(&s, "\0\0\0", 3, "t"), SB_ERR_CORRUPT);
	/* every truncation of a good text is rejected (except dropping its last '\n') */
	for (i = 0; i + 1 < sizeof(good_text) - 1; i++)
		if (sb_seal_parse(&s, good_text, i, "t") != SB_ERR_CORRUPT)
			fail_msg("truncation to %zu bytes was accepted", i);
	assert_int_equal(sb_seal_parse(&s, good_text, sizeof(good_text) - 1, "t"), 0);
	sb_seal_release(&s);
	sb_log_set_handler(NULL, NULL);
}

static void test_seal__names(void **state)
{
	struct sb_seal s;
	unsigned char h[32] = {0};
	char id[SB_SEAL_ID_LEN + 1], id2[SB_SEAL_ID_LEN + 1];

	(void)state;
	sb_seal_init(&s);
	assert_int_equal(sb_seal_add_file(&s, "a b", 1, h), SB_ERR_PARAM);
	assert_int_equal(sb_seal_add_file(&s, "a/b", 1, h), SB_ERR_PARAM);
	assert_int_equal(sb_seal_add_file(&s, "", 1, h), SB_ERR_PARAM);
	assert_int_equal(sb_seal_add_file(&s, "x\ny", 1, h), SB_ERR_PARAM);
	assert_int_equal(s.nfiles, 0);
	assert_int_equal(sb_seal_new_id(id), 0);
	assert_int_equal(sb_seal_new_id(id2), 0);
	assert_int_equal(strlen(id), SB_SEAL_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), SB_SEAL_ID_LEN);
	assert_string_not_equal(id, id2);
	sb_seal_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal__format_exact),
		cmocka_unit_test(test_seal__round_trip),
		cmocka_unit_test(test_seal__rejects),
		cmocka_unit_test(test_seal__names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
