/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * throttle.c - the token bucket behind --limit-upload and --limit-download
 * (see throttle.h), the process's one bucket per direction, and RATE
 * parsing. It knows bytes, time and threads only: the transports decide
 * where the bytes are counted.
 *
 * Parallel transfers that shared the rate evenly would finish their volumes
 * together and then pause together (each encrypting its next volume), the
 * link idle meanwhile. So the bucket is lent to one taker at a time: the
 * one that took last keeps it while it comes back for more within HOLD_S
 * of its bytes being due, and the others wait (on a condition variable) until
 * it pauses, or for MAX_WAIT_S at most, after which they take it over. Two
 * uploads then take turns, one sending while the other encrypts, and none
 * stalls for long (a server drops a request that sends nothing for a while).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sealbox/error.h"
#include "sealbox/throttle.h"

#define CHUNK_S 0.05   /* sb_throttle_chunk: this many seconds of the rate */
#define CHUNK_MIN 4096 /* ... but at least this many bytes */
#define HOLD_S 0.05    /* a taker keeps the bucket if back this soon */
#define MAX_WAIT_S 1.0 /* the others wait for it this long at most */

struct sb_throttle {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on the monotonic clock; waits are timed */
	double rate;	   /* bytes per second; constant */
	double burst;	   /* bytes the bucket holds at most; constant */
	double tokens;	   /* bytes available now; below 0: owed by sleeping takers;
			      protected by mu */
	double last;	   /* monotonic seconds when tokens was last brought up to
			      date; protected by mu */
	pthread_t holder;  /* the taker the bucket is lent to; protected by mu */
	bool held;	   /* holder is valid; protected by mu */
	double held_until; /* monotonic s when the loan lapses; protected by mu */
};

/* The process's buckets, set before transfers start (throttle.h). */
static struct sb_throttle *limits[2];

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until the monotonic clock reads at (seconds), through signals. */
static struct timespec mono_ts(double at)
{
	struct timespec ts;

	ts.tv_sec = (time_t)at;
	ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_sec++, ts.tv_nsec -= 1000000000L;
	return ts;
}

/* Sleep until the monotonic clock reads at (seconds), through signals. */
static void sleep_until(double at)
{
	struct timespec ts = mono_ts(at);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int sb_throttle_new(uint64_t rate, uint64_t burst, struct sb_throttle **out)
{
	struct sb_throttle *t;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (!rate)
		return SB_ERR_PARAM;
	if (!(t = calloc(1, sizeof(*t))))
		return SB_ERR_NOMEM;
	if (pthread_condattr_init(&ca)) {
		free(t);
		return SB_ERR_NOMEM;
	}
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc) {
		free(t);
		return SB_ERR_NOMEM;
	}
	if (pthread_mutex_init(&t->mu, NULL)) {
		pthread_cond_destroy(&t->cv);
		free(t);
		return SB_ERR_NOMEM;
	}
	t->rate = (double)rate;
	t->burst = burst ? (double)burst : t->rate * SB_THROTTLE_BURST_S;
	if (!burst && t->burst < SB_THROTTLE_MIN_BURST)
		t->burst = SB_THROTTLE_MIN_BURST;
	t->tokens = t->burst;
	t->last = mono_now();
	*out = t;
	return 0;
}

void sb_throttle_free(struct sb_throttle *t)
{
	if (!t)
		return;
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Wait, with mu held, until the bucket is not lent to another taker, or for
 * MAX_WAIT_S; then it is lent to this one. */
static void borrow(struct sb_throttle *t)
{
	pthread_t self = pthread_self();
	double now = mono_now(), give_up = now + MAX_WAIT_S;
	struct timespec ts;

	while (t->held && !pthread_equal(t->holder, self) && now < t->held_until && now < give_up) {
		ts = mono_ts(t->held_until < give_up ? t->held_until : give_up);
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
		now = mono_now();
	}
	t->holder = self;
	t->held = true;
}

void sb_throttle_take(struct sb_throttle *t, size_t n)
{
	double now, wait;

	if (!t || !n)
		return;
	pthread_mutex_lock(&t->mu);
	borrow(t);
	now = mono_now();
	t->tokens += (now - t->last) * t->rate;
	if (t->tokens > t->burst)
		t->tokens = t->burst; /* idle time earns no more than a burst */
	t->last = now;
	t->tokens -= (double)n;
	/* below 0, the bucket is owed: these bytes are due when it is paid back,
	   after those of every taker before us */
	wait = t->tokens < 0 ? -t->tokens / t->rate : 0;
	t->held_until = now + wait + HOLD_S;
	pthread_mutex_unlock(&t->mu);
	if (wait > 0)
		sleep_until(now + wait);
}

size_t sb_throttle_chunk(const struct sb_throttle *t, size_t want)
{
	double c;

	if (!t)
		return want;
	c = t->rate * CHUNK_S;
	if (c < CHUNK_MIN)
		c = CHUNK_MIN;
	return (double)want < c ? want : (size_t)c;
}

uint64_t sb_throttle_rate(const struct sb_throttle *t) { return t ? (uint64_t)t->rate : 0; }

int sb_throttle_set_limit(enum sb_throttle_dir dir, uint64_t rate)
{
	struct sb_throttle *t = NULL;
	int rc;

	if ((unsigned)dir > SB_THROTTLE_DOWN ||
	    (rate && (rate < SB_THROTTLE_RATE_MIN || rate > SB_THROTTLE_RATE_MAX)))
		return SB_ERR_PARAM;
	if (rate && (rc = sb_throttle_new(rate, 0, &t)))
		return rc;
	sb_throttle_free(limits[dir]);
	limits[dir] = t;
	return 0;
}

struct sb_throttle *sb_throttle_limit(enum sb_throttle_dir dir)
{
	return (unsigned)dir > SB_THROTTLE_DOWN ? NULL : limits[dir];
}

/* ------------------------------------------------------------ RATE */

int sb_throttle_parse_rate(const char *s, uint64_t *out)
{
	unsigned long long whole = 0, frac = 0, scale = 1, unit = 1;
	const char *p = s;
	double v;

	if (*p < '0' || *p > '9')
		return SB_ERR_PARAM;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (SB_THROTTLE_RATE_MAX >> 3))
			return SB_ERR_PARAM; /* far too large: stop before it overflows */
		whole = whole * 10 + (unsigned long long)(*p - '0');
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return SB_ERR_PARAM;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale < 1000000000ull) /* further digits do not matter */
				frac = frac * 10 + (unsigned long long)(*p - '0'), scale *= 10;
	}
	switch (*p) {
	case 'K':
	case 'k': unit = 1ull << 10; break;
	case 'M':
	case 'm': unit = 1ull << 20; break;
	case 'G':
	case 'g': unit = 1ull << 30; break;
	}
	if (unit > 1) {
		p++;
		if (p[0] == 'i' && p[1] == 'B')
			p += 2;
	} else if (*p == 'B') {
		p++;
	}
	if (p[0] == '/' && p[1] == 's')
		p += 2;
	if (*p)
		return SB_ERR_PARAM; /* "2MB" lands here, on the 'B' */
	v = ((double)whole + (double)frac / (double)scale) * (double)unit;
	if (v != 0 && (v < (double)SB_THROTTLE_RATE_MIN || v > (double)SB_THROTTLE_RATE_MAX))
		return SB_ERR_PARAM;
	*out = (uint64_t)(v + 0.5);
	return 0;
}
