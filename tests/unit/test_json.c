/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_json.c - the CLI's JSON emitter (backup/cli/json.c): strings escaped
 * for any bytes (controls, C1, DEL, U+2028, invalid UTF-8 as U+FFFD with the
 * exact bytes in "<key>_hex"), separators and nesting of the writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* json.c names exit statuses through the CLI's common.c */
const char *exit_status_text(int st);
const char *exit_status_text(int st) { return st ? "error" : "ok"; }

static char out[4096];

/* What fn writes through a writer on a memory stream. */
#define CAPTURE(stmts)                                                                             \
	do {                                                                                       \
		FILE *f = fmemopen(out, sizeof(out), "w");                                         \
		struct json jw, *j = &jw;                                                          \
		assert_non_null(f);                                                                \
		json_init(j, f);                                                                   \
		stmts;                                                                             \
		fclose(f);                                                                         \
	} while (0)

static const char *esc(const char *s, size_t len)
{
	FILE *f = fmemopen(out, sizeof(out), "w");

	assert_non_null(f);
	json_escape(f, s, len);
	fclose(f);
	return out;
}

#define E(lit) esc(lit, sizeof(lit) - 1)

static void test_escape(void **state)
{
	(void)state;
	assert_string_equal(E("plain"), "\"plain\"");
	assert_string_equal(E("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
	assert_string_equal(E("a\nb\tc\rd"), "\"a\\nb\\tc\\rd\"");
	assert_string_equal(E("\x1b[31m\x01\x7f"), "\"\\u001b[31m\\u0001\\u007f\"");
	/* a NUL inside the bytes is kept, escaped */
	assert_string_equal(E("a\0b"), "\"a\\u0000b\"");
	/* valid UTF-8 passes: é, €, U+1F600 */
	assert_string_equal(E("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
			    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* C1 CSI, and the JavaScript line separators */
	assert_string_equal(E("x\xc2\x9by"), "\"x\\u009by\"");
	assert_string_equal(E("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"");
	/* not UTF-8: a Latin-1 byte, a lone continuation byte, an overlong '/',
	   a surrogate, a sequence cut short */
	assert_string_equal(E("caf\xe9"), "\"caf\\ufffd\"");
	assert_string_equal(E("\x80"), "\"\\ufffd\"");
	assert_string_equal(E("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	assert_string_equal(E("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(E("\xe2\x82"), "\"\\ufffd\\ufffd\"");
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(json_utf8_valid("", 0));
	assert_true(json_utf8_valid("\xc3\xa9t\xc3\xa9", 5));
	assert_false(json_utf8_valid("caf\xe9", 4));
	assert_false(json_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
}

static void test_writer(void **state)
{
	(void)state;
	CAPTURE({
		json_obj(j, NULL);
		json_str(j, "s", "v");
		json_null(j, "n");
		json_arr(j, "a");
		json_u64(j, NULL, 18446744073709551615ull);
		json_i64(j, NULL, -3);
		json_bool(j, NULL, true);
		json_obj(j, NULL);
		json_end(j);
		json_end(j);
		json_str(j, "missing", NULL);
		json_time(j, "t", 0);
		json_end(j);
	});
	assert_string_equal(out, "{\"s\":\"v\",\"n\":null,\"a\":[18446744073709551615,-3,true,{}],"
				 "\"missing\":null,\"t\":\"1970-01-01T00:00:00Z\"}");
}

static void test_path(void **state)
{
	(void)state;
	CAPTURE({
		json_obj(j, NULL);
		json_path(j, "ok", "d\xc3\xa9j\xc3\xa0");
		json_path(j, "p", "caf\xe9\n");
		json_end(j);
	});
	assert_string_equal(out, "{\"ok\":\"d\xc3\xa9j\xc3\xa0\",\"p\":\"caf\\ufffd\\n\","
				 "\"p_hex\":\"636166e90a\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
