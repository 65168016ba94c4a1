/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * throttle.h - bandwidth limits (--limit-upload, --limit-download): a token
 * bucket shared by every thread and every transfer of the process, so that
 * the sum over parallel uploads (or downloads) holds the rate.
 *
 * Calling sequence: the CLI parses a RATE (sb_throttle_parse_rate) and sets
 * the process's limit for a direction once, before any transfer starts
 * (sb_throttle_set_limit). The transports then ask, for each piece of data
 * they move, how much to move at once (sb_throttle_chunk) and take that many
 * bytes from the direction's bucket (sb_throttle_take): uploads before the
 * bytes are handed to the link, downloads once they came off it. A retried
 * transfer takes its bytes again: they really go over the link twice.
 *
 * The bucket holds at most a short burst (SB_THROTTLE_BURST_S of the rate):
 * enough to make up for the shortest pauses of a transfer (between two
 * requests, or volumes), little enough that short windows hold the rate too
 * (a 10 s window, within 1%). Takers that find it empty sleep (never spin)
 * on the monotonic clock until their bytes are due. Parallel takers take
 * turns rather than share it evenly (the bucket is lent to one while it
 * keeps taking, a second at most while others wait), so that two uploads
 * do not pause together between volumes.
 */
#ifndef SEALBOX_THROTTLE_H
#define SEALBOX_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct sb_throttle;

enum sb_throttle_dir {
	SB_THROTTLE_UP,	  /* bytes sent to the target */
	SB_THROTTLE_DOWN, /* bytes received from it */
};

#define SB_THROTTLE_BURST_S 0.1	     /* the bucket holds this many seconds of the rate */
#define SB_THROTTLE_MIN_BURST 16384  /* ... but at least this many bytes */
#define SB_THROTTLE_RATE_MIN 1024ull /* B/s: the smallest limit */
#define SB_THROTTLE_RATE_MAX (1ull << 40)

/*
 * A bucket of rate bytes per second (> 0) holding at most burst bytes
 * (0: the default, SB_THROTTLE_BURST_S of the rate), full at first.
 * 0 or SB_ERR_PARAM / SB_ERR_NOMEM. Free with sb_throttle_free.
 */
int sb_throttle_new(uint64_t rate, uint64_t burst, struct sb_throttle **out);
/* Frees t (NULL is fine); nobody may be taking from it. */
void sb_throttle_free(struct sb_throttle *t);

/* Take n bytes: returns at once while the bucket has them, else sleeps until
 * they are due. Thread-safe; t NULL (no limit) returns at once. */
void sb_throttle_take(struct sb_throttle *t, size_t n);
/* How many of want bytes to move in one go under t, so that the bytes go
 * out smoothly (about 1/20 s of the rate, at least 4 KiB, at most want);
 * want itself when t is NULL. */
size_t sb_throttle_chunk(const struct sb_throttle *t, size_t want);
/* t's rate in bytes per second; 0 for NULL. */
uint64_t sb_throttle_rate(const struct sb_throttle *t);

/*
 * The process's limit for dir: rate bytes per second, 0 for none. It
 * replaces an earlier one (the config file's, then the command line's), so
 * call it before any transfer starts. 0 or SB_ERR_PARAM / SB_ERR_NOMEM.
 */
int sb_throttle_set_limit(enum sb_throttle_dir dir, uint64_t rate);
/* The process's bucket for dir, NULL when there is no limit (borrowed). */
struct sb_throttle *sb_throttle_limit(enum sb_throttle_dir dir);

/*
 * A RATE in bytes per second: a number, maybe with a fraction, then
 * optionally K, M or G (1024-based; k, m, g too), then optionally "iB" after
 * the letter or "B" after a plain number, then optionally "/s": "500K",
 * "2M", "1.5MiB/s", "300000", "300000B/s". "0" is no limit; any other must
 * be SB_THROTTLE_RATE_MIN to SB_THROTTLE_RATE_MAX. "MB" and "KB" are refused
 * (they mean 1000-based units elsewhere). 0 or SB_ERR_PARAM (not logged:
 * the caller names the option).
 */
int sb_throttle_parse_rate(const char *s, uint64_t *out);

#endif
