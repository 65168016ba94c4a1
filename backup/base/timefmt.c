/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timefmt.c - archive-name times and user-given times (see timefmt.h).
 *
 * All arithmetic is UTC (timegm/gmtime_r); the process time zone is never
 * consulted. Unlike duplicity's dup_time.genstrtotime, a date or date-time
 * without a zone means UTC, not local time. Does not parse free text dates.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/timefmt.h"

/* Broken-down UTC time, as parsed; converted with timegm(). */
struct tf_tm {
	int year, mon, day, hour, min, sec;
};

static void put_digits(char *out, long v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

static bool to_utc_tm(time_t t, struct tm *tm)
{
	if (!gmtime_r(&t, tm))
		return false;
	/* Names are fixed width: clamp what cannot be written in 4 digits. */
	return tm->tm_year + 1900 >= 0 && tm->tm_year + 1900 <= 9999;
}

void sb_time_format_name(time_t t, char out[SB_TIME_NAME_LEN + 1])
{
	struct tm tm;

	if (!to_utc_tm(t, &tm)) {
		memcpy(out, "00000000T000000Z", SB_TIME_NAME_LEN + 1);
		return;
	}
	put_digits(out, tm.tm_year + 1900, 4);
	put_digits(out + 4, tm.tm_mon + 1, 2);
	put_digits(out + 6, tm.tm_mday, 2);
	out[8] = 'T';
	put_digits(out + 9, tm.tm_hour, 2);
	put_digits(out + 11, tm.tm_min, 2);
	put_digits(out + 13, tm.tm_sec, 2);
	out[15] = 'Z';
	out[16] = '\0';
}

void sb_time_format_iso(time_t t, char out[21])
{
	struct tm tm;

	if (!to_utc_tm(t, &tm)) {
		memcpy(out, "0000-00-00T00:00:00Z", 21);
		return;
	}
	memcpy(out, "0000-00-00T00:00:00Z", 21);
	put_digits(out, tm.tm_year + 1900, 4);
	put_digits(out + 5, tm.tm_mon + 1, 2);
	put_digits(out + 8, tm.tm_mday, 2);
	put_digits(out + 11, tm.tm_hour, 2);
	put_digits(out + 14, tm.tm_min, 2);
	put_digits(out + 17, tm.tm_sec, 2);
}

/* n decimal digits at s[0..n); false if any is not a digit. */
static bool get_num(const char *s, size_t n, int *v)
{
	int x = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Strict calendar check for user input. */
static bool tm_valid(const struct tf_tm *t)
{
	return t->year >= 1 && t->mon >= 1 && t->mon <= 12 && t->day >= 1 &&
	       t->day <= month_days(t->year, t->mon) && t->hour >= 0 && t->hour <= 23 &&
	       t->min >= 0 && t->min <= 59 && t->sec >= 0 && t->sec <= 59;
}

/*
 * duplicity's (dup_time.stringtotime) looser check for names: any day 1..31
 * and seconds up to 61, normalised by timegm like calendar.timegm does.
 */
static bool tm_valid_dup(const struct tf_tm *t)
{
	return t->year > 1900 && t->year < 2100 && t->mon >= 1 && t->mon <= 12 && t->day >= 1 &&
	       t->day <= 31 && t->hour >= 0 && t->hour <= 23 && t->min >= 0 && t->min <= 59 &&
	       t->sec >= 0 && t->sec <= 61;
}

static time_t tm_to_time(const struct tf_tm *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->mon - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	return timegm(&tm);
}

/* "YYYYMMDDTHHMMSSZ", T and Z in either case (duplicity upper-cases). */
static bool parse_compact(const char *s, size_t len, struct tf_tm *t)
{
	if (len != SB_TIME_NAME_LEN || toupper((unsigned char)s[8]) != 'T' ||
	    toupper((unsigned char)s[15]) != 'Z')
		return false;
	return get_num(s, 4, &t->year) && get_num(s + 4, 2, &t->mon) &&
	       get_num(s + 6, 2, &t->day) && get_num(s + 9, 2, &t->hour) &&
	       get_num(s + 11, 2, &t->min) && get_num(s + 13, 2, &t->sec);
}

/*
 * Old names: "YYYY-MM-DDTHH<s>MM<s>SS" + "Z" or "[+-]HH<s>MM", <s> being
 * duplicity's --time-separator (':' by default; any non-digit here).
 * Returns the offset to add to the wall time, computed like duplicity's
 * tzdtoseconds() (which gets "-03:30" one hour wrong; we must agree with it).
 */
static bool parse_old(const char *s, size_t len, struct tf_tm *t, long *add)
{
	char sep;
	int hh, mm;

	if (len < 20 || s[4] != '-' || s[7] != '-' || toupper((unsigned char)s[10]) != 'T')
		return false;
	sep = s[13];
	if (isdigit((unsigned char)sep) || toupper((unsigned char)sep) == 'T' || s[16] != sep)
		return false;
	if (!get_num(s, 4, &t->year) || !get_num(s + 5, 2, &t->mon) ||
	    !get_num(s + 8, 2, &t->day) || !get_num(s + 11, 2, &t->hour) ||
	    !get_num(s + 14, 2, &t->min) || !get_num(s + 17, 2, &t->sec))
		return false;
	if (len == 20 && toupper((unsigned char)s[19]) == 'Z') {
		*add = 0;
		return true;
	}
	if (len != 25 || (s[19] != '+' && s[19] != '-') || s[22] != sep ||
	    !get_num(s + 20, 2, &hh) || !get_num(s + 23, 2, &mm))
		return false;
	if (s[19] == '-')
		hh = -hh;
	*add = -60L * (60L * hh + mm);
	return true;
}

int sb_time_parse_name(const char *s, size_t len, time_t *out)
{
	struct tf_tm t;
	long add = 0;

	if (len == SB_TIME_NAME_LEN) {
		if (!parse_compact(s, len, &t))
			return SB_ERR_CORRUPT;
	} else if (!parse_old(s, len, &t, &add)) {
		return SB_ERR_CORRUPT;
	}
	if (!tm_valid_dup(&t))
		return SB_ERR_CORRUPT;
	*out = tm_to_time(&t) + add;
	return 0;
}

/* Unsigned decimal of 1..18 digits filling all of s[0..len). */
static bool parse_decimal(const char *s, size_t len, long long *v)
{
	long long x = 0;
	size_t i;

	if (len == 0 || len > 18)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

static long long unit_seconds(char u)
{
	switch (u) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'D': return 86400;
	case 'W': return 7 * 86400LL;
	case 'M': return 30 * 86400LL;
	case 'Y': return 365 * 86400LL;
	default: return 0;
	}
}

/* duplicity's interval syntax: one or more <digits><unit>. */
static bool parse_interval(const char *s, size_t len, long long *seconds)
{
	long long total = 0, num, mul;
	size_t i = 0, start;

	if (len == 0)
		return false;
	while (i < len) {
		start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i == len || !parse_decimal(s + start, i - start, &num))
			return false;
		mul = unit_seconds(s[i++]);
		if (mul == 0 || num > (LLONG_MAX - total) / mul)
			return false;
		total += num * mul;
	}
	*seconds = total;
	return true;
}

int sb_age_parse(const char *s, long long *seconds)
{
	size_t len = s ? strlen(s) : 0;

	if (s && (parse_decimal(s, len, seconds) || parse_interval(s, len, seconds)))
		return 0;
	sb_error("bad age \"%s\" (expected e.g. 3600, 90m, 2W3D, 1Y)",
		 s ? sb_log_str(s, len) : "(null)");
	return SB_ERR_PARAM;
}

/* The local time of t's fields (mktime, DST as it was then). */
static time_t tm_to_local(const struct tf_tm *t)
{
	struct tm tm = {.tm_year = t->year - 1900,
			.tm_mon = t->mon - 1,
			.tm_mday = t->day,
			.tm_hour = t->hour,
			.tm_min = t->min,
			.tm_sec = t->sec,
			.tm_isdst = -1};

	return mktime(&tm);
}

/* "+HH:MM" / "-HH:MM" / "Z" / "" at s; seconds east of UTC in *off; *local
 * when no zone is given (the time is this machine's local time). */
static bool parse_zone(const char *s, size_t len, long *off, bool *local)
{
	int hh, mm;

	*off = 0;
	*local = len == 0;
	if (len == 0 || (len == 1 && s[0] == 'Z'))
		return true;
	if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !get_num(s + 1, 2, &hh) ||
	    !get_num(s + 4, 2, &mm) || hh > 23 || mm > 59)
		return false;
	*off = (hh * 3600L + mm * 60L) * (s[0] == '-' ? -1 : 1);
	return true;
}

/* Up to max digits, at least one; advances *i. */
static bool take_num(const char *s, size_t len, size_t *i, size_t min, size_t max, int *v)
{
	size_t start = *i;

	while (*i < len && *i - start < max && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	if (*i - start < min || (*i < len && s[*i] >= '0' && s[*i] <= '9'))
		return false;
	return get_num(s + start, *i - start, v);
}

/*
 * ISO 8601 subset: YYYY-MM-DD | YYYY/MM/DD (month/day may be one digit when
 * no time follows, as duplicity allows), optionally followed by
 * THH:MM[:SS] (or a space for the T, as `date '+%F %R'` prints) and a zone
 * (Z, +HH:MM, -HH:MM). Without a zone the time is local, as duplicity reads
 * it: a bare date is local midnight.
 */
static bool parse_iso(const char *s, size_t len, time_t *out)
{
	struct tf_tm t = {0, 0, 0, 0, 0, 0};
	size_t i = 0;
	char dsep;
	long off = 0;
	bool local = true;

	if (!take_num(s, len, &i, 4, 4, &t.year) || i >= len || (s[i] != '-' && s[i] != '/'))
		return false;
	dsep = s[i++];
	if (!take_num(s, len, &i, 1, 2, &t.mon) || i >= len || s[i++] != dsep ||
	    !take_num(s, len, &i, 1, 2, &t.day))
		return false;
	if (i < len) {
		/* A time part needs the canonical two-digit date. */
		if (i != 10 || dsep != '-' || (s[i] != 'T' && s[i] != ' '))
			return false;
		i++;
		if (!take_num(s, len, &i, 2, 2, &t.hour) || i >= len || s[i++] != ':' ||
		    !take_num(s, len, &i, 2, 2, &t.min))
			return false;
		if (i < len && s[i] == ':') {
			i++;
			if (!take_num(s, len, &i, 2, 2, &t.sec))
				return false;
		}
		if (!parse_zone(s + i, len - i, &off, &local))
			return false;
	}
	if (!tm_valid(&t))
		return false;
	*out = local ? tm_to_local(&t) : tm_to_time(&t) - off;
	return true;
}

/* duplicity's other date forms: MM/DD/YYYY (or with '-') and YYYYMMDDZ. */
static bool parse_other_date(const char *s, size_t len, time_t *out)
{
	struct tf_tm t = {0, 0, 0, 0, 0, 0};
	size_t i = 0;
	char dsep;
	bool local = true;

	if (len == 9 && s[8] == 'Z') {
		local = false;
		if (!get_num(s, 4, &t.year) || !get_num(s + 4, 2, &t.mon) ||
		    !get_num(s + 6, 2, &t.day))
			return false;
	} else {
		if (!take_num(s, len, &i, 1, 2, &t.mon) || i >= len || (s[i] != '-' && s[i] != '/'))
			return false;
		dsep = s[i++];
		if (!take_num(s, len, &i, 1, 2, &t.day) || i >= len || s[i++] != dsep ||
		    !take_num(s, len, &i, 4, 4, &t.year) || i != len)
			return false;
	}
	if (!tm_valid(&t))
		return false;
	*out = local ? tm_to_local(&t) : tm_to_time(&t);
	return true;
}

int sb_time_parse_user(const char *s, time_t now, time_t *out)
{
	size_t len = s ? strlen(s) : 0;
	struct tf_tm t;
	long long v;

	if (!s)
		goto bad;
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (parse_decimal(s, len, &v)) {
		*out = (time_t)v;
		return 0;
	}
	if (parse_compact(s, len, &t) && tm_valid(&t)) {
		*out = tm_to_time(&t);
		return 0;
	}
	if (parse_iso(s, len, out) || parse_other_date(s, len, out))
		return 0;
	if (parse_interval(s, len, &v) && (long long)now >= LLONG_MIN + v) {
		*out = now - (time_t)v;
		return 0;
	}
bad:
	sb_error("bad time \"%s\" (expected now, epoch seconds, YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM] "
		 "(local time unless a zone is given),"
		 " YYYYMMDDTHHMMSSZ or an age like 3D or 1h30m)",
		 s ? sb_log_str(s, len) : "(null)");
	return SB_ERR_PARAM;
}
