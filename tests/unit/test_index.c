/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_index.c - the per-set index records (backup/format/index.c): a
 * record formats and parses back; malformed lines are refused, among them
 * what the fuzzer found (an empty quoted user name crashed the parser).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/index.h"

static int parse(const char *text, struct sb_index_rec *r)
{
	size_t pos = 0;

	return sb_index_parse_next(text, strlen(text), &pos, r);
}

static void test_round_trip(void **state)
{
	struct sb_index_rec r, r2;
	struct sb_buf out = SB_BUF_INIT;

	(void)state;
	sb_index_rec_init(&r);
	sb_index_rec_init(&r2);
	assert_int_equal(parse("s 2 777 1000 1000 1700000000 0 1 1536 0 0 1f me - "
			       "\"a\\x20b\" c\n",
			       &r),
			 1);
	assert_int_equal(r.kind, 's');
	assert_int_equal(r.type, '2');
	assert_int_equal(r.mode, 0777);
	assert_int_equal(r.offset, 1536);
	assert_int_equal(r.linkgroup, 0x1f);
	assert_string_equal(r.uname, "me");
	assert_string_equal(r.gname, "");
	assert_string_equal(sb_buf_str(&r.path), "a b");
	assert_string_equal(sb_buf_str(&r.link), "c");
	assert_int_equal(sb_index_format(&r, &out), 0);
	assert_int_equal(parse(sb_buf_str(&out), &r2), 1);
	assert_string_equal(sb_buf_str(&r2.path), "a b");
	assert_int_equal(r2.linkgroup, 0x1f);
	sb_buf_release(&out);
	sb_index_rec_release(&r);
	sb_index_rec_release(&r2);
}

/* A group (or user) named "-" is not the "-" of no name (found by fuzz_index). */
static void test_dash_name(void **state)
{
	struct sb_index_rec r, r2;
	struct sb_buf out = SB_BUF_INIT;

	(void)state;
	sb_index_rec_init(&r);
	sb_index_rec_init(&r2);
	assert_int_equal(parse("s 0 644 0 0 0 1 1 0 0 0 0 - \"-\" f\n", &r), 1);
	assert_string_equal(r.uname, "");
	assert_string_equal(r.gname, "-");
	assert_int_equal(sb_index_format(&r, &out), 0);
	assert_int_equal(parse(sb_buf_str(&out), &r2), 1);
	assert_string_equal(r2.uname, "");
	assert_string_equal(r2.gname, "-");
	sb_buf_release(&out);
	sb_index_rec_release(&r);
	sb_index_rec_release(&r2);
}

static void test_rejects(void **state)
{
	struct sb_index_rec r;

	(void)state;
	sb_index_rec_init(&r);
	/* an empty quoted user or group name is empty, not a crash */
	assert_int_equal(parse("x 0 0 0 0 0 0 0 0 0 0 0 \"\" - c.txt\n", &r), 1);
	assert_string_equal(r.uname, "");
	assert_int_equal(parse("x 0 0 0 0 0 0 0 0 0 0 0 - \"\" c.txt\n", &r), 1);
	assert_string_equal(r.gname, "");
	assert_int_equal(parse("x 0 0 0 0 0 0 0 0 0 0 0 - - c.txt", &r), SB_ERR_CORRUPT);
	assert_int_equal(parse("q 0 0 0 0 0 0 0 0 0 0 0 - - c.txt\n", &r), SB_ERR_CORRUPT);
	assert_int_equal(parse("s 0 10000 0 0 0 0 0 0 0 0 0 - - c.txt\n", &r), SB_ERR_CORRUPT);
	assert_int_equal(parse("s 0 0 -1 0 0 0 0 0 0 0 0 - - c.txt\n", &r), SB_ERR_CORRUPT);
	assert_int_equal(parse("s 2 0 0 0 0 0 0 0 0 0 0 - - c.txt\n", &r), SB_ERR_CORRUPT);
	assert_int_equal(parse("s 0 0 0 0 0 0 0 0 0 0 0 \"a\\x00\" - c.txt\n", &r), SB_ERR_CORRUPT);
	sb_index_rec_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_dash_name),
		cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
