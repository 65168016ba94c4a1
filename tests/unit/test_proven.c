/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_proven.c - the record of proven plaintext (backup/gate/proven.c): an
 * entry comes back only under its own hash, signer and kind; a damaged or
 * resized entry is not returned and is removed; a name that is not a
 * fingerprint is never a file; the sweep removes old entries and a killed
 * writer's temporary files, and keeps what was used.
 */
#include <setjmp.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/buf.h"
#include "sealbox/hash.h"
#include "sealbox/proven.h"

#define FPR "0123456789ABCDEF0123456789ABCDEF01234567"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sbproven.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void entry_path(const unsigned char sha[32], const char *kind, char *out, size_t size)
{
	char hex[65];

	sb_hex(sha, 32, hex);
	snprintf(out, size, "%s/%s.%s.%s", dir, hex, FPR, kind);
}

static void test_round_trip(void **state)
{
	unsigned char sha[32] = {1, 2, 3}, other[32] = {9};
	struct sb_buf out = SB_BUF_INIT;

	(void)state;
	sb_proven_put(dir, sha, FPR, "plain", "manifest text", 13);
	assert_int_equal(sb_proven_get(dir, sha, FPR, "plain", &out), 1);
	assert_int_equal(out.len, 13);
	assert_memory_equal(out.data, "manifest text", 13);
	sb_buf_reset(&out);
	/* another hash, signer or kind: nothing */
	assert_int_equal(sb_proven_get(dir, other, FPR, "plain", &out), 0);
	assert_int_equal(
		sb_proven_get(dir, sha, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "plain", &out),
		0);
	assert_int_equal(sb_proven_get(dir, sha, FPR, "seal", &out), 0);
	assert_int_equal(out.len, 0);
	/* an empty payload is an entry too */
	sb_proven_put(dir, other, FPR, "seal", "", 0);
	assert_int_equal(sb_proven_get(dir, other, FPR, "seal", &out), 1);
	assert_int_equal(out.len, 0);
	sb_buf_release(&out);
}

static void test_damaged(void **state)
{
	unsigned char sha[32] = {4, 5, 6};
	struct sb_buf out = SB_BUF_INIT;
	char path[256];
	FILE *f;

	(void)state;
	sb_proven_put(dir, sha, FPR, "plain", "0123456789", 10);
	entry_path(sha, "plain", path, sizeof(path));
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, -3, SEEK_END);
	fputc('X', f);
	fclose(f);
	assert_int_equal(sb_proven_get(dir, sha, FPR, "plain", &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(access(path, F_OK), -1); /* removed */

	/* cut short */
	sb_proven_put(dir, sha, FPR, "plain", "0123456789", 10);
	assert_int_equal(truncate(path, 40), 0);
	assert_int_equal(sb_proven_get(dir, sha, FPR, "plain", &out), 0);
	/* grown */
	sb_proven_put(dir, sha, FPR, "plain", "0123456789", 10);
	f = fopen(path, "a");
	fputs("more", f);
	fclose(f);
	assert_int_equal(sb_proven_get(dir, sha, FPR, "plain", &out), 0);
	sb_buf_release(&out);
}

static void test_not_a_fingerprint(void **state)
{
	unsigned char sha[32] = {7};
	struct sb_buf out = SB_BUF_INIT;

	(void)state;
	sb_proven_put(dir, sha, "../../etc", "plain", "x", 1);
	sb_proven_put(dir, sha, NULL, "plain", "x", 1);
	sb_proven_put(dir, sha, "ABCD", "plain", "x", 1);
	assert_int_equal(sb_proven_get(dir, sha, "../../etc", "plain", &out), 0);
	assert_int_equal(sb_proven_get(dir, sha, NULL, "plain", &out), 0);
	assert_int_equal(sb_proven_get(dir, sha, "ABCD", "plain", &out), 0);
	assert_int_equal(sb_proven_get(NULL, sha, FPR, "plain", &out), 0);
	sb_buf_release(&out);
}

static void test_sweep(void **state)
{
	unsigned char old[32] = {10}, used[32] = {11}, fresh[32] = {12};
	struct timespec long_ago[2] = {{time(NULL) - 90 * 86400, 0}, {time(NULL) - 90 * 86400, 0}};
	struct sb_buf out = SB_BUF_INIT;
	char p_old[256], p_used[256], p_fresh[256], p_tmp[256];
	FILE *f;

	(void)state;
	sb_proven_put(dir, old, FPR, "plain", "old", 3);
	sb_proven_put(dir, used, FPR, "plain", "used", 4);
	sb_proven_put(dir, fresh, FPR, "plain", "fresh", 5);
	entry_path(old, "plain", p_old, sizeof(p_old));
	entry_path(used, "plain", p_used, sizeof(p_used));
	entry_path(fresh, "plain", p_fresh, sizeof(p_fresh));
	snprintf(p_tmp, sizeof(p_tmp), "%s/.tmp.killed", dir);
	f = fopen(p_tmp, "w");
	fclose(f);
	assert_int_equal(utimensat(AT_FDCWD, p_old, long_ago, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, p_used, long_ago, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, p_tmp, long_ago, 0), 0);
	/* a hit renews the entry */
	assert_int_equal(sb_proven_get(dir, used, FPR, "plain", &out), 1);
	sb_proven_sweep(dir, 60);
	assert_int_equal(access(p_old, F_OK), -1);
	assert_int_equal(access(p_tmp, F_OK), -1);
	assert_int_equal(access(p_used, F_OK), 0);
	assert_int_equal(access(p_fresh, F_OK), 0);
	sb_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_not_a_fingerprint),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
