/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timefmt.h - the times sealbox reads and writes.
 *
 * Archive names use UTC "YYYYMMDDTHHMMSSZ" (16 chars). Users give --time as
 * an ISO 8601 date or date-time (UTC unless a zone is given), "now", epoch
 * seconds, or an age like "3D", "2W", "1M", "1h30m" (duplicity's units:
 * s m h D W M Y; M = 30 days, Y = 365 days).
 */
#ifndef SEALBOX_TIMEFMT_H
#define SEALBOX_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#define SB_TIME_NAME_LEN 16

/* t as "YYYYMMDDTHHMMSSZ" (UTC) into out[17]. */
void sb_time_format_name(time_t t, char out[SB_TIME_NAME_LEN + 1]);

/* t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out[21]; the mount's folder names. */
void sb_time_format_iso(time_t t, char out[21]);

/*
 * Parse a time from an archive name: the 16-char form, or duplicity's old
 * local-time form "2002-08-17T16:17:01-07:00" (':' possibly replaced by
 * another separator). Returns 0 or SB_ERR_CORRUPT.
 */
int sb_time_parse_name(const char *s, size_t len, time_t *out);

/* Parse a user TIME relative to now. Returns 0 or SB_ERR_PARAM. */
int sb_time_parse_user(const char *s, time_t now, time_t *out);

/* Parse an AGE ("1M", "2W3D", "3600s", plain seconds) into seconds. */
int sb_age_parse(const char *s, long long *seconds);

#endif
