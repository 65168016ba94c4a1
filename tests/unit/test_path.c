/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_path.c - backup paths: duplicity's index order (component-wise, '/'
 * below every byte, unsigned bytes), prefixes, normalisation of member and
 * command-line paths.
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
#include "sealbox/path.h"

static int cmp(const char *a, const char *b)
{
	int c = sb_path_cmp(a, strlen(a), b, strlen(b));

	return c < 0 ? -1 : c > 0;
}

/* Each element sorts strictly before the next, and the order is antisymmetric. */
static void assert_sorted(const char *const *v, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int want = i < j ? -1 : i > j;

			if (cmp(v[i], v[j]) != want)
				fail_msg("cmp(\"%s\", \"%s\") = %d, want %d", v[i], v[j],
					 cmp(v[i], v[j]), want);
		}
}

static void test_path__cmp_duplicity_order(void **state)
{
	/* duplicity sorts index tuples: ('ord','a','b') < ('ord','a-b') < ('ord','a.b') */
	static const char *const v[] = {"ord/a/b", "ord/a-b", "ord/a.b"};
	static const char *const w[] = {"", "a", "a/b", "a/b/c", "a/c", "a-b", "a.b", "a0", "b"};

	(void)state;
	assert_sorted(v, sizeof(v) / sizeof(v[0]));
	assert_sorted(w, sizeof(w) / sizeof(w[0]));
}

static void test_path__cmp_prefixes(void **state)
{
	(void)state;
	/* the root sorts first; a parent sorts before its children */
	assert_int_equal(cmp("", "a"), -1);
	assert_int_equal(cmp("a", ""), 1);
	assert_int_equal(cmp("dir", "dir/x"), -1);
	assert_int_equal(cmp("dir/x", "dir"), 1);
	/* a longer name after its prefix name, but its children before it */
	assert_int_equal(cmp("ab", "a"), 1);
	assert_int_equal(cmp("a/zzz", "ab"), -1);
	/* memcmp would put "a!" (0x21) first; components put ("a","zzz") < ("a!",) */
	assert_int_equal(cmp("a/zzz", "a!"), -1);
	assert_int_equal(cmp("a\x01", "a/b"), 1);
}

static void test_path__cmp_high_bytes(void **state)
{
	static const char *const v[] = {"a",	 "a/\xff",    "a\x01", "a~", "a\x7f",
					"a\x80", "a\xc3\xa9", "a\xff", "b"};

	(void)state;
	assert_sorted(v, sizeof(v) / sizeof(v[0]));
	assert_int_equal(cmp("\xe5\x90\x8d", "z"), 1);
	assert_int_equal(cmp("z", "\x80"), -1);
}

static void test_path__cmp_equal(void **state)
{
	(void)state;
	assert_int_equal(cmp("", ""), 0);
	assert_int_equal(cmp("a/b/c", "a/b/c"), 0);
	assert_int_equal(cmp("\xff/\x80", "\xff/\x80"), 0);
	/* lengths are honoured, not NUL terminators */
	assert_int_equal(sb_path_cmp("abc", 2, "abd", 2), 0);
	assert_true(sb_path_cmp("a\0b", 3, "a\0c", 3) < 0);
	assert_true(sb_path_cmp("a", 1, "a\0", 2) < 0);
}

static void test_path__has_prefix(void **state)
{
	(void)state;
	assert_true(sb_path_has_prefix("a/b", 3, "", 0));
	assert_true(sb_path_has_prefix("", 0, "", 0));
	assert_true(sb_path_has_prefix("a/b", 3, "a", 1));
	assert_true(sb_path_has_prefix("a/b", 3, "a/b", 3));
	assert_true(sb_path_has_prefix("a/b/c", 5, "a/b", 3));
	assert_false(sb_path_has_prefix("ab", 2, "a", 1));
	assert_false(sb_path_has_prefix("a-b/c", 5, "a", 1));
	assert_false(sb_path_has_prefix("a", 1, "a/b", 3));
	assert_false(sb_path_has_prefix("", 0, "a", 1));
	assert_false(sb_path_has_prefix("b/a", 3, "a", 1));
	/* lengths, not terminators */
	assert_true(sb_path_has_prefix("a/bc", 3, "a/b", 3));
	assert_false(sb_path_has_prefix("a/bc", 4, "a/b", 3));
}

/* Normalise in into a copy; returns the code and puts the result in out. */
static int norm(const char *in, size_t len, char *out)
{
	int n;

	memcpy(out, in, len);
	out[len] = 'X'; /* must not be relied on */
	n = sb_path_normalize(out, len);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

static void expect_norm(const char *in, const char *want)
{
	char out[256];
	int n = norm(in, strlen(in), out);

	if (n < 0)
		fail_msg("normalize(\"%s\") failed: %d", in, n);
	if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n))
		fail_msg("normalize(\"%s\") = \"%.*s\", want \"%s\"", in, n, out, want);
}

static void test_path__normalize(void **state)
{
	(void)state;
	expect_norm("a/b/c", "a/b/c");
	expect_norm("./a/b", "a/b");
	expect_norm("/a/b", "a/b");
	expect_norm("///a", "a");
	expect_norm("./././a", "a");
	expect_norm("a/b/", "a/b");
	expect_norm("a/b//", "a/b");
	expect_norm("a/./b/.", "a/b");
	expect_norm("a//b", "a/b");
	expect_norm(".", "");
	expect_norm("./", "");
	expect_norm("/", "");
	expect_norm("", "");
	expect_norm("..a/b..", "..a/b..");
	expect_norm(".a/...", ".a/...");
	expect_norm("\xff/\x80", "\xff/\x80");
}

static void test_path__normalize_rejects(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(norm("..", 2, out), SB_ERR_CORRUPT);
	assert_int_equal(norm("../a", 4, out), SB_ERR_CORRUPT);
	assert_int_equal(norm("a/..", 4, out), SB_ERR_CORRUPT);
	assert_int_equal(norm("a/../b", 6, out), SB_ERR_CORRUPT);
	assert_int_equal(norm("./../a", 6, out), SB_ERR_CORRUPT);
	assert_int_equal(norm("a/\0b", 4, out), SB_ERR_CORRUPT);
	assert_int_equal(norm("\0", 1, out), SB_ERR_CORRUPT);
	assert_int_equal(norm("a/b\0", 4, out), SB_ERR_CORRUPT);
}

static void test_path__normalize_in_place_terminates(void **state)
{
	char p[] = "./a/b/";
	int n;

	(void)state;
	n = sb_path_normalize(p, strlen(p));
	assert_int_equal(n, 3);
	assert_string_equal(p, "a/b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path__cmp_duplicity_order),
		cmocka_unit_test(test_path__cmp_prefixes),
		cmocka_unit_test(test_path__cmp_high_bytes),
		cmocka_unit_test(test_path__cmp_equal),
		cmocka_unit_test(test_path__has_prefix),
		cmocka_unit_test(test_path__normalize),
		cmocka_unit_test(test_path__normalize_rejects),
		cmocka_unit_test(test_path__normalize_in_place_terminates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
