/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sample.c - verify --sample's choice: parsing PERCENT and SIZE, the
 * budget (a share rounded up, or bytes), at least one file, 100% = all,
 * the same seed the same choice, different seeds different choices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/error.h"
#include "sealbox/sample.h"

static void test_sample__parse(void **state)
{
	struct sb_sample s;

	(void)state;
	assert_int_equal(sb_sample_parse("10%", &s), 0);
	assert_true(s.percent == 10 && s.bytes == 0);
	assert_int_equal(sb_sample_parse("2.5%", &s), 0);
	assert_true(s.percent == 2.5);
	assert_int_equal(sb_sample_parse("100%", &s), 0);
	assert_int_equal(sb_sample_parse("500M", &s), 0);
	assert_true(s.bytes == 500ULL << 20 && s.percent == 0);
	assert_int_equal(sb_sample_parse("2GiB", &s), 0);
	assert_true(s.bytes == 2ULL << 30);
	assert_int_equal(sb_sample_parse("4096", &s), 0);
	assert_true(s.bytes == 4096);
	assert_int_equal(sb_sample_parse("1k", &s), 0);
	assert_true(s.bytes == 1024);
	assert_int_equal(sb_sample_parse("0%", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("101%", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("-5%", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("%", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("0", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("5X", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("5MB2", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("M", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("", &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse(NULL, &s), SB_ERR_PARAM);
	assert_int_equal(sb_sample_parse("99999999999T", &s), SB_ERR_PARAM);
}

static size_t count(const bool *c, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += c[i];
	return k;
}

static void test_sample__choose(void **state)
{
	uint64_t sizes[20];
	bool c[20], d[20];
	struct sb_sample s = {0};
	size_t i, differ = 0;

	(void)state;
	for (i = 0; i < 20; i++)
		sizes[i] = 1000;
	s.percent = 100;
	assert_int_equal(sb_sample_choose(&s, sizes, 20, 1, c), 20000);
	assert_int_equal(count(c, 20), 20);
	s.percent = 25;
	assert_int_equal(sb_sample_choose(&s, sizes, 20, 1, c), 5000);
	assert_int_equal(count(c, 20), 5);
	s.percent = 21; /* 4200 bytes: 4 files fit, the 5th would pass the budget */
	assert_int_equal(sb_sample_choose(&s, sizes, 20, 1, c), 4200);
	assert_int_equal(count(c, 20), 4);
	s.percent = 0.001; /* rounded up to 1 byte: still one file */
	assert_int_equal(sb_sample_choose(&s, sizes, 20, 1, c), 1);
	assert_int_equal(count(c, 20), 1);
	s.percent = 0;
	s.bytes = 3000;
	assert_int_equal(sb_sample_choose(&s, sizes, 20, 7, c), 3000);
	assert_int_equal(count(c, 20), 3);
	/* same seed, same choice; other seeds choose other files */
	sb_sample_choose(&s, sizes, 20, 7, d);
	assert_memory_equal(c, d, sizeof(c));
	for (uint64_t seed = 8; seed < 40; seed++) {
		sb_sample_choose(&s, sizes, 20, seed, d);
		assert_int_equal(count(d, 20), 3);
		differ += memcmp(c, d, sizeof(c)) != 0;
	}
	assert_true(differ >= 25);
	/* a big file does not crowd out the budget for the small ones */
	sizes[0] = 1000000;
	s.bytes = 5000;
	for (uint64_t seed = 0; seed < 40; seed++) {
		sb_sample_choose(&s, sizes, 20, seed, c);
		assert_true(count(c, 20) == 5 || (c[0] && count(c, 20) == 1));
	}
	/* nothing to choose from */
	assert_int_equal(sb_sample_choose(&s, sizes, 0, 1, c), 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample__parse),
		cmocka_unit_test(test_sample__choose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
