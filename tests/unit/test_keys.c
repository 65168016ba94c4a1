/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_keys.c - the pure helpers of keys.c: --expire parsing, --algo values,
 * user ids, the one-key-in-both-roles refusal. Key creation and the checks
 * run against the real gpg in tests/e2e/70-keys.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/error.h"
#include "sealbox/keys.h"
#include "sealbox/log.h"

#define DAY 86400LL

static char last_log[1024];
static int last_level = -1;

static void log_capture(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	last_level = (int)level;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void expire_ok(const char *s, long long want)
{
	long long v = -1;

	if (sb_keys_parse_expire(s, &v) != 0)
		fail_msg("\"%s\" refused", s);
	assert_int_equal(v, want);
}

static void expire_bad(const char *s)
{
	long long v = -1;

	if (sb_keys_parse_expire(s, &v) != SB_ERR_PARAM)
		fail_msg("\"%s\" accepted (%lld)", s ? s : "(null)", v);
	assert_int_equal(v, 0);
}

static void test_keys__expire_units(void **state)
{
	(void)state;
	expire_ok("never", 0);
	expire_ok("2Y", 2 * 365 * DAY);
	expire_ok("2y", 2 * 365 * DAY);
	expire_ok("6M", 6 * 30 * DAY);
	expire_ok("30D", 30 * DAY);
	expire_ok("30d", 30 * DAY);
	expire_ok("10D", 10 * DAY);
	expire_ok("1D", DAY);
	expire_ok("2W", 14 * DAY);
	expire_ok("2w", 14 * DAY);
	expire_ok("1Y6M", (365 + 180) * DAY);
	expire_ok("1Y2W3D", (365 + 14 + 3) * DAY);
	expire_ok("100Y", 100 * 365 * DAY);
}

static void test_keys__expire_refusals(void **state)
{
	(void)state;
	expire_bad(NULL);
	expire_bad("");
	expire_bad("0");     /* never is spelled out */
	expire_bad("86400"); /* plain seconds: not an expiry */
	expire_bad("6m");    /* minutes in duplicity, months in gpg */
	expire_bad("12h");
	expire_bad("90s");
	expire_bad("0D"); /* less than a day */
	expire_bad("Y");
	expire_bad("2");
	expire_bad("2Y ");
	expire_bad(" 2Y");
	expire_bad("-2Y");
	expire_bad("2YY");
	expire_bad("101Y"); /* beyond 100 years */
	expire_bad("99999999999999999999D");
	expire_bad("Never");
	expire_bad("2025-01-01");
}

static void test_keys__algo(void **state)
{
	(void)state;
	assert_true(sb_keys_algo_valid("ed25519"));
	assert_true(sb_keys_algo_valid("rsa3072"));
	assert_true(sb_keys_algo_valid("rsa4096"));
	assert_false(sb_keys_algo_valid("rsa2048"));
	assert_false(sb_keys_algo_valid("cv25519"));
	assert_false(sb_keys_algo_valid("ED25519"));
	assert_false(sb_keys_algo_valid(""));
	assert_false(sb_keys_algo_valid(NULL));
}

static void uid_ok(const char *name, const char *role, const char *want)
{
	char out[256];

	if (sb_keys_uid(name, role, out, sizeof(out)) != 0)
		fail_msg("\"%s\" refused", name);
	assert_string_equal(out, want);
}

static void uid_bad(const char *name)
{
	char out[256];

	if (sb_keys_uid(name, "signing", out, sizeof(out)) != SB_ERR_PARAM)
		fail_msg("\"%s\" accepted", name ? name : "(null)");
}

static void test_keys__uid(void **state)
{
	char small[16];

	(void)state;
	uid_ok("Ann Example <ann@example.org>", "encryption",
	       "Ann Example (sealbox encryption) <ann@example.org>");
	uid_ok("Ann Example <ann@example.org>", "signing",
	       "Ann Example (sealbox signing) <ann@example.org>");
	uid_ok("Ann Example", "signing", "Ann Example (sealbox signing)");
	uid_ok("<ann@example.org>", "signing", "(sealbox signing) <ann@example.org>");
	uid_ok("  Ann   <a@b>", "signing", "Ann (sealbox signing) <a@b>");
	uid_ok("sealbox <root@host>", "encryption", "sealbox (sealbox encryption) <root@host>");
	uid_ok("Zoë Ünïcode <z@example.org>", "signing",
	       "Zoë Ünïcode (sealbox signing) <z@example.org>");
	uid_bad(NULL);
	uid_bad("");
	uid_bad("   ");
	uid_bad("<>");
	uid_bad("Ann <ann@example.org");
	uid_bad("Ann ann@example.org>");
	uid_bad("Ann <a@b> trailing");
	uid_bad("Ann <a<b>");
	uid_bad("Ann >a@b<");
	uid_bad("Ann\n<a@b>");
	uid_bad("Ann\t<a@b>");
	uid_bad("Ann \x7f <a@b>");
	assert_int_equal(
		sb_keys_uid("Ann Example <ann@example.org>", "signing", small, sizeof(small)),
		SB_ERR_NOMEM);
}

static void test_keys__distinct(void **state)
{
	const char *a = "0123456789ABCDEF0123456789ABCDEF01234567";
	const char *b = "89ABCDEF0123456789ABCDEF0123456789ABCDEF";

	(void)state;
	last_level = -1;
	assert_int_equal(sb_keys_distinct(a, b, false), 0);
	assert_int_equal(last_level, -1);
	assert_int_equal(sb_keys_distinct(a, NULL, false), 0);
	assert_int_equal(sb_keys_distinct(a, a, false), SB_ERR_KEY);
	assert_int_equal(last_level, SB_LOG_ERR);
	assert_non_null(strstr(last_log,
			       "whoever takes this machine gets the signing key's secret, "
			       "and so the backups"));
	assert_non_null(strstr(last_log, a));
	/* fingerprints compare case-insensitively */
	assert_int_equal(sb_keys_distinct(a, "0123456789abcdef0123456789abcdef01234567", false),
			 SB_ERR_KEY);
	last_level = -1;
	assert_int_equal(sb_keys_distinct(a, a, true), 0);
	assert_int_equal(last_level, SB_LOG_WARN);
	assert_non_null(strstr(last_log, "whoever takes this machine"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys__expire_units),
		cmocka_unit_test(test_keys__expire_refusals),
		cmocka_unit_test(test_keys__algo),
		cmocka_unit_test(test_keys__uid),
		cmocka_unit_test(test_keys__distinct),
	};

	sb_log_set_handler(log_capture, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
