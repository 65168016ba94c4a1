/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pruned.c - the archive dir's record of the seals of chains prune
 * removed: absent at first, each added one found, others not, an entry
 * added twice kept once, the record kept across reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/catalog.h"
#include "sealbox/pruned.h"

static void test_pruned__record(void **state)
{
	char dir[] = "/tmp/sb-pruned.XXXXXX", cmd[64];
	unsigned char a[32], b[32], c[32];
	struct sb_catalog *cat = NULL;
	char *val = NULL;

	(void)state;
	memset(a, 0xaa, 32);
	memset(b, 0xbb, 32);
	memset(c, 0xaa, 32);
	c[31] = 0; /* differs from a in the last byte only */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sb_catalog_open(dir, &cat), 0);
	assert_int_equal(sb_pruned_has(cat, a), 0);
	assert_int_equal(sb_pruned_add(cat, a), 0);
	assert_int_equal(sb_pruned_has(cat, a), 1);
	assert_int_equal(sb_pruned_has(cat, b), 0);
	assert_int_equal(sb_pruned_has(cat, c), 0);
	assert_int_equal(sb_pruned_add(cat, b), 0);
	assert_int_equal(sb_pruned_add(cat, a), 0); /* once only */
	sb_catalog_close(cat);
	assert_int_equal(sb_catalog_open(dir, &cat), 0);
	assert_int_equal(sb_pruned_has(cat, a), 1);
	assert_int_equal(sb_pruned_has(cat, b), 1);
	assert_int_equal(sb_pruned_has(cat, c), 0);
	assert_int_equal(sb_catalog_get(cat, "pruned-seals", &val), 0);
	assert_int_equal(strlen(val), 64 + 1 + 64);
	free(val);
	sb_catalog_close(cat);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pruned__record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
