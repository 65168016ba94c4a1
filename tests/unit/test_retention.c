/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_retention.c - the retention policy: the newest chain always kept,
 * each rule alone, unions, calendar edges (ISO weeks across a new year,
 * month ends, local days), a chain's time being its newest set's end,
 * input order, and the reasons given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sealbox/chain.h"
#include "sealbox/retention.h"

/* y-m-d h:m UTC as time_t. */
static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};

	return timegm(&tm);
}

static void set_times(struct sb_retention_chain *c, const time_t *t, size_t n)
{
	memset(c, 0, n * sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c[i].time = t[i];
}

/* "KRK..": K kept, R removed, per chain in input order. */
static void assert_kept(const struct sb_retention_chain *c, size_t n, const char *want)
{
	char got[64];

	for (size_t i = 0; i < n; i++)
		got[i] = c[i].keep ? 'K' : 'R';
	got[n] = '\0';
	assert_string_equal(got, want);
}

static void test_retention__newest_always(void **state)
{
	struct sb_retention_policy p;
	struct sb_retention_chain c[3];
	time_t t[3] = {utc(2020, 1, 1, 0, 0), utc(2020, 2, 1, 0, 0), utc(2020, 3, 1, 0, 0)};
	char why[256];

	(void)state;
	sb_retention_policy_init(&p);
	assert_false(sb_retention_policy_any(&p));
	p.older_than = 86400; /* every chain is years old */
	set_times(c, t, 3);
	assert_int_equal(sb_retention_apply(&p, c, 3, utc(2026, 12, 6, 0, 0)), 2);
	assert_kept(c, 3, "RRK");
	assert_int_equal(c[2].why, SB_KEEP_NEWEST);
	assert_string_equal(sb_retention_reason(&p, &c[2], why, sizeof(why)), "the newest chain");
	sb_retention_reason(&p, &c[0], why, sizeof(why));
	assert_string_equal(why, "no rule keeps it; older than 1D");
	/* no rule at all: only the newest */
	sb_retention_policy_init(&p);
	assert_int_equal(sb_retention_apply(&p, c, 3, 0), 2);
	assert_kept(c, 3, "RRK");
	/* one chain: kept */
	assert_int_equal(sb_retention_apply(&p, c, 1, 0), 0);
	assert_true(c[0].keep);
	assert_int_equal(sb_retention_apply(&p, c, 0, 0), 0);
}

static void test_retention__daily(void **state)
{
	struct sb_retention_policy p;
	struct sb_retention_chain c[5];
	/* not in order: the policy sorts */
	time_t t[5] = {utc(2026, 12, 3, 8, 0), utc(2026, 12, 1, 10, 0), utc(2026, 12, 1, 20, 0),
		       utc(2026, 12, 2, 9, 0), utc(2026, 11, 30, 23, 59)};
	char why[256];

	(void)state;
	sb_retention_policy_init(&p);
	p.daily = 3;
	set_times(c, t, 5);
	assert_int_equal(sb_retention_apply(&p, c, 5, t[0]), 2);
	/* Dec 3, Dec 2, Dec 1 20:00 (the newest of its day); Dec 1 10:00 and Nov 30 go */
	assert_kept(c, 5, "KRKKR");
	assert_string_equal(c[2].day, "2026-12-01");
	assert_int_equal(c[0].why, SB_KEEP_NEWEST | SB_KEEP_DAILY);
	sb_retention_reason(&p, &c[0], why, sizeof(why));
	assert_string_equal(why, "the newest chain; daily 2026-12-03");
	sb_retention_reason(&p, &c[1], why, sizeof(why));
	assert_string_equal(why, "no rule keeps it; day 2026-12-01 has a newer chain");
	sb_retention_reason(&p, &c[4], why, sizeof(why));
	assert_string_equal(why, "no rule keeps it; day 2026-11-30 is past the 3 daily kept");
	/* days that have no chain do not count: 4 slots reach back to Nov 30 */
	p.daily = 4;
	assert_int_equal(sb_retention_apply(&p, c, 5, t[0]), 1);
	assert_kept(c, 5, "KRKKK");
}

static void test_retention__weeks_across_new_year(void **state)
{
	struct sb_retention_policy p;
	struct sb_retention_chain c[4];
	/* Thu 2026-12-31 and Fri 2027-01-01 are both in ISO week 2026-W53;
	 * Mon 2027-01-04 starts 2027-W01; Sun 2026-12-27 is 2026-W52 */
	time_t t[4] = {utc(2026, 12, 27, 12, 0), utc(2026, 12, 31, 12, 0), utc(2027, 1, 1, 12, 0),
		       utc(2027, 1, 4, 12, 0)};
	char why[256];

	(void)state;
	sb_retention_policy_init(&p);
	p.weekly = 2;
	set_times(c, t, 4);
	sb_retention_apply(&p, c, 4, t[3]);
	assert_string_equal(c[1].week, "2026-W53");
	assert_string_equal(c[2].week, "2026-W53");
	assert_string_equal(c[3].week, "2027-W01");
	assert_kept(c, 4, "RRKK");
	sb_retention_reason(&p, &c[1], why, sizeof(why));
	assert_string_equal(why, "no rule keeps it; week 2026-W53 has a newer chain");
	/* yearly: the newest of 2026 is Dec 31, whatever its week */
	sb_retention_policy_init(&p);
	p.yearly = 2;
	sb_retention_apply(&p, c, 4, t[3]);
	assert_kept(c, 4, "RKRK");
	assert_int_equal(c[1].why, SB_KEEP_YEARLY);
	/* weekly and yearly together: the union */
	p.weekly = 2;
	sb_retention_apply(&p, c, 4, t[3]);
	assert_kept(c, 4, "RKKK");
	sb_retention_reason(&p, &c[1], why, sizeof(why));
	assert_string_equal(why, "yearly 2026");
}

static void test_retention__months(void **state)
{
	struct sb_retention_policy p;
	struct sb_retention_chain c[5];
	time_t t[5] = {utc(2026, 1, 31, 23, 0), utc(2026, 2, 1, 0, 0), utc(2026, 2, 28, 23, 59),
		       utc(2026, 3, 1, 0, 0), utc(2026, 3, 15, 0, 0)};

	(void)state;
	sb_retention_policy_init(&p);
	p.monthly = 2;
	set_times(c, t, 5);
	assert_int_equal(sb_retention_apply(&p, c, 5, t[4]), 3);
	assert_kept(c, 5, "RRKRK");
	p.monthly = 12; /* more slots than months: one per month */
	assert_int_equal(sb_retention_apply(&p, c, 5, t[4]), 2);
	assert_kept(c, 5, "KRKRK");
}

static void test_retention__within_and_last(void **state)
{
	struct sb_retention_policy p;
	struct sb_retention_chain c[4];
	time_t n = utc(2026, 12, 6, 4, 0);
	time_t t[4] = {n - 7201, n - 7200, n - 3600, n};
	char why[256];

	(void)state;
	sb_retention_policy_init(&p);
	p.within = 7200; /* relative to the newest, not to now; the bound is kept */
	set_times(c, t, 4);
	assert_int_equal(sb_retention_apply(&p, c, 4, n + 365 * 86400), 1);
	assert_kept(c, 4, "RKKK");
	sb_retention_reason(&p, &c[1], why, sizeof(why));
	assert_string_equal(why, "within 2h of the newest (keep-within)");
	sb_retention_reason(&p, &c[0], why, sizeof(why));
	assert_string_equal(why, "no rule keeps it; more than 2h before the newest");
	sb_retention_policy_init(&p);
	p.keep_chains = 2;
	assert_int_equal(sb_retention_apply(&p, c, 4, n), 2);
	assert_kept(c, 4, "RRKK");
	assert_int_equal(c[3].why, SB_KEEP_NEWEST | SB_KEEP_LAST);
	p.keep_chains = 10;
	assert_int_equal(sb_retention_apply(&p, c, 4, n), 0);
	/* older_than is relative to now */
	sb_retention_policy_init(&p);
	p.older_than = 3600;
	assert_int_equal(sb_retention_apply(&p, c, 4, n + 1), 3);
	assert_kept(c, 4, "RRRK");
	assert_int_equal(sb_retention_apply(&p, c, 4, n), 2);
	assert_kept(c, 4, "RRKK");
	sb_retention_reason(&p, &c[2], why, sizeof(why));
	assert_string_equal(why, "not older than 1h (older-than)");
}

/* A chain's time is the end of its newest set: a chain spanning days counts
 * for its last day, so its incrementals are never cut off from it. */
static void test_retention__chain_spanning_days(void **state)
{
	struct sb_set a[3] = {
		{.full = true, .t0 = utc(2026, 12, 1, 1, 0), .t1 = utc(2026, 12, 1, 1, 0)},
		{.t0 = utc(2026, 12, 1, 1, 0), .t1 = utc(2026, 12, 2, 1, 0)},
		{.t0 = utc(2026, 12, 2, 1, 0), .t1 = utc(2026, 12, 3, 1, 0)}};
	struct sb_set b[1] = {
		{.full = true, .t0 = utc(2026, 12, 2, 12, 0), .t1 = utc(2026, 12, 2, 12, 0)}};
	struct sb_set d[1] = {
		{.full = true, .t0 = utc(2026, 12, 3, 12, 0), .t1 = utc(2026, 12, 3, 12, 0)}};
	struct sb_chain ch[3] = {{a, 3}, {b, 1}, {d, 1}};
	struct sb_retention_policy p;
	struct sb_retention_chain c[3];

	(void)state;
	memset(c, 0, sizeof(c));
	for (size_t i = 0; i < 3; i++)
		c[i].time = sb_chain_end(&ch[i]);
	sb_retention_policy_init(&p);
	p.daily = 2;
	/* chain a ends on Dec 3, before chain d the same day: a goes, b (Dec 2) stays */
	sb_retention_apply(&p, c, 3, c[2].time);
	assert_string_equal(c[0].day, "2026-12-03");
	assert_kept(c, 3, "RKK");
	/* keep-within 1D of the newest reaches a's end, though a started 2 days before */
	sb_retention_policy_init(&p);
	p.within = 86400;
	sb_retention_apply(&p, c, 3, c[2].time);
	assert_kept(c, 3, "KKK");
}

/* Days are the local days of TZ. */
static void test_retention__local_days(void **state)
{
	struct sb_retention_policy p;
	struct sb_retention_chain c[2];
	/* 10:30Z = 23:30 NZDT Dec 5; 11:30Z = 00:30 NZDT Dec 6 */
	time_t t[2] = {utc(2026, 12, 5, 10, 30), utc(2026, 12, 5, 11, 30)};

	(void)state;
	sb_retention_policy_init(&p);
	p.daily = 2;
	set_times(c, t, 2);
	setenv("TZ", "Pacific/Auckland", 1);
	tzset();
	sb_retention_apply(&p, c, 2, t[1]);
	assert_string_equal(c[0].day, "2026-12-05");
	assert_string_equal(c[1].day, "2026-12-06");
	assert_kept(c, 2, "KK");
	setenv("TZ", "UTC", 1);
	tzset();
	sb_retention_apply(&p, c, 2, t[1]);
	assert_kept(c, 2, "RK");
}

/* Equal times: one of them is the newest, the other shares its day. */
static void test_retention__equal_times(void **state)
{
	struct sb_retention_policy p;
	struct sb_retention_chain c[3];
	time_t t[3] = {utc(2026, 6, 1, 0, 0), utc(2026, 6, 1, 0, 0), utc(2026, 5, 1, 0, 0)};
	char why[64];

	(void)state;
	sb_retention_policy_init(&p);
	p.daily = 5;
	set_times(c, t, 3);
	assert_int_equal(sb_retention_apply(&p, c, 3, t[0]), 1);
	assert_int_equal((c[0].why & SB_KEEP_NEWEST) + (c[1].why & SB_KEEP_NEWEST), SB_KEEP_NEWEST);
	assert_true(c[2].keep);
	/* a short buffer is cut, never overrun */
	sb_retention_reason(&p, c[0].keep ? &c[1] : &c[0], why, 20);
	assert_int_equal(strlen(why), 19);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retention__newest_always),
		cmocka_unit_test(test_retention__daily),
		cmocka_unit_test(test_retention__weeks_across_new_year),
		cmocka_unit_test(test_retention__months),
		cmocka_unit_test(test_retention__within_and_last),
		cmocka_unit_test(test_retention__chain_spanning_days),
		cmocka_unit_test(test_retention__local_days),
		cmocka_unit_test(test_retention__equal_times),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
