/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_log.c - the one sanitizer for names a server chose: C0 and C1
 * controls, DEL and invalid UTF-8 escaped in sb_log_str() and in every
 * logged message; valid UTF-8 passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/log.h"

#define S(lit) sb_log_str(lit, sizeof(lit) - 1)

static char last[4096];

static void capture(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	snprintf(last, sizeof(last), "%s", msg);
}

static void test_str(void **state)
{
	(void)state;
	assert_string_equal(S("a\x1b[31mb"), "a\\x1b[31mb");
	/* C1 CSI (U+009B) in UTF-8, and a lone 0x9b byte */
	assert_string_equal(S("x\xc2\x9by"), "x\\xc2\\x9by");
	assert_string_equal(S("x\x9by"), "x\\x9by");
	assert_string_equal(S("a\\b\x7f"), "a\\x5cb\\x7f");
	assert_string_equal(S("line\nforged"), "line\\x0aforged");
	/* valid UTF-8 (é, €, U+1F600) passes */
	assert_string_equal(S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* overlong and surrogate encodings do not */
	assert_string_equal(S("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(S("\xed\xa0\x80"), "\\xed\\xa0\\x80");
}

static void test_log_sanitizes(void **state)
{
	(void)state;
	sb_log_set_handler(capture, NULL);
	sb_error("%s is bad", "duplicity-full.\x1b]0;owned\x07.manifest\r\nsealbox: OK");
	assert_string_equal(last, "duplicity-full.\\x1b]0;owned\\x07.manifest\\x0d\\x0asealbox: OK "
				  "is bad");
	/* what sb_log_str escaped stays readable (backslashes kept) */
	sb_error("%s", S("a\tb"));
	assert_string_equal(last, "a\\x09b");
	sb_log_set_handler(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_log_sanitizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
