/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_timefmt.c - name times, user times (every accepted form), ages, rejects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/timefmt.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

static int nerrors;

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	if (level == SB_LOG_ERR)
		nerrors++;
}

static void test_timefmt__format(void **state)
{
	char name[SB_TIME_NAME_LEN + 1], iso[21];

	sb_time_format_name(NOW, name);
	assert_string_equal(name, "20231114T221320Z");
	sb_time_format_iso(NOW, iso);
	assert_string_equal(iso, "2023-11-14T22:13:20Z");
	sb_time_format_name(0, name);
	assert_string_equal(name, "19700101T000000Z");
	sb_time_format_iso(951782400, iso); /* leap day */
	assert_string_equal(iso, "2000-02-29T00:00:00Z");
}

static void test_timefmt__parse_name(void **state)
{
	time_t t;

	assert_int_equal(sb_time_parse_name("20231114T221320Z", 16, &t), 0);
	assert_int_equal((long long)t, NOW);
	assert_int_equal(sb_time_parse_name("20231114t221320z", 16, &t), 0);
	assert_int_equal((long long)t, NOW);
	/* length is explicit: trailing bytes are not looked at */
	assert_int_equal(sb_time_parse_name("20231114T221320Z.vol1", 16, &t), 0);
	assert_int_equal(sb_time_parse_name("2002-08-17T16:17:01-07:00", 25, &t), 0);
	assert_int_equal((long long)t, 1029626221);
	assert_int_equal(sb_time_parse_name("2002-08-17T16.17.01+05.30", 25, &t), 0);
	assert_int_equal((long long)t, 1029581221);
	assert_int_equal(sb_time_parse_name("2002-08-17T16:17:01Z", 20, &t), 0);
	assert_int_equal((long long)t, 1029601021);

	assert_int_equal(sb_time_parse_name("20231114T221320", 15, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("20231114X221320Z", 16, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("20231314T221320Z", 16, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("18991114T221320Z", 16, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("20231114T241320Z", 16, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("2002-08-17T16:17:01-07-00", 25, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("2002-08-17T16:17:01", 19, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("2002-08-17T16:17:01+0700", 24, &t), SB_ERR_CORRUPT);
	assert_int_equal(sb_time_parse_name("", 0, &t), SB_ERR_CORRUPT);
}

struct user_case {
	const char *s;
	long long want;
};

#define NST (3 * 3600 + 1800) /* St. John's standard time is UTC-3:30 */

static void test_timefmt__parse_user(void **state)
{
	static const struct user_case ok[] = {
		{"now", NOW},
		{"0", 0},
		{"1700000000", NOW},
		{"20231114T221320Z", NOW},
		/* no zone: local time, here St. John's (UTC-3:30, no DST in these months) */
		{"2023-11-14", 1699920000 + NST},
		{"2023/11/14", 1699920000 + NST},
		{"2023-1-5", 1672876800 + NST},
		{"2023-11-14T22:13", NOW - 20 + NST},
		{"2023-11-14 22:13", NOW - 20 + NST}, /* as date '+%F %R' prints */
		{"2023-11-14T22:13:20", NOW + NST},
		{"2023-11-14T22:13:20Z", NOW},
		{"2023-11-14T23:13:20+01:00", NOW},
		{"2023-11-14T17:43:20-04:30", NOW},
		{"2023-11-14T22:13Z", NOW - 20},
		{"2024-02-29", 1709164800 + NST},
		{"11/14/2023", 1699920000 + NST},
		{"20231114Z", 1699920000},
		/* ages: now minus */
		{"3D", NOW - 3 * 86400},
		{"2W", NOW - 14 * 86400},
		{"1M", NOW - 30 * 86400},
		{"1Y", NOW - 365 * 86400},
		{"1h30m", NOW - 5400},
		{"10s", NOW - 10},
		{"2W3D4h", NOW - 17 * 86400 - 4 * 3600},
	};
	static const char *const bad[] = {
		"",
		"Now",
		"yesterday",
		"-5",
		"1.5",
		"3d",
		"D",
		"3D ",
		" 3D",
		"1h30",
		"2023-13-01",
		"2023-02-30",
		"2023-11-14T",
		"2023-11-14T25:00",
		"2023-11-14T22:13:2",
		"2023-11-14T22:13:20+1:00",
		"2023-11-14T22:13:20+01",
		"2023-11-14Z",
		"2023/11/14T22:13",
		"2023-11-14T22:13:20ZZ",
		"20231114T221320",
		"99999999999999999999",
		"99999999999999999Y",
		"2023-11-14T22:13:60",
	};
	time_t t;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (sb_time_parse_user(ok[i].s, NOW, &t) != 0)
			fail_msg("rejected \"%s\"", ok[i].s);
		if ((long long)t != ok[i].want)
			fail_msg("\"%s\": got %lld want %lld", ok[i].s, (long long)t, ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nerrors = 0;
		if (sb_time_parse_user(bad[i], NOW, &t) != SB_ERR_PARAM)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(nerrors, 1);
	}
}

static void test_timefmt__age(void **state)
{
	long long s;

	assert_int_equal(sb_age_parse("3600", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(sb_age_parse("1M", &s), 0);
	assert_int_equal(s, 30 * 86400);
	assert_int_equal(sb_age_parse("2W3D", &s), 0);
	assert_int_equal(s, 17 * 86400);
	assert_int_equal(sb_age_parse("90m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(sb_age_parse("1Y1s", &s), 0);
	assert_int_equal(s, 365 * 86400 + 1);
	assert_int_equal(sb_age_parse("0D", &s), 0);
	assert_int_equal(s, 0);
	nerrors = 0;
	assert_int_equal(sb_age_parse("", &s), SB_ERR_PARAM);
	assert_int_equal(sb_age_parse("3x", &s), SB_ERR_PARAM);
	assert_int_equal(sb_age_parse("D3", &s), SB_ERR_PARAM);
	assert_int_equal(sb_age_parse("-3D", &s), SB_ERR_PARAM);
	assert_int_equal(sb_age_parse("3D2", &s), SB_ERR_PARAM);
	assert_int_equal(sb_age_parse("999999999999999999Y", &s), SB_ERR_PARAM);
	assert_int_equal(sb_age_parse(NULL, &s), SB_ERR_PARAM);
	assert_int_equal(nerrors, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timefmt__format),
		cmocka_unit_test(test_timefmt__parse_name),
		cmocka_unit_test(test_timefmt__parse_user),
		cmocka_unit_test(test_timefmt__age),
	};

	setenv("TZ", "America/St_Johns", 1); /* local times are St. John's (NST) */
	sb_log_set_handler(count_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
