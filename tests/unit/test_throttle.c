/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_throttle.c - the bandwidth limiter: the token bucket holds its rate
 * for one taker and for several threads taking at once (their sum holds
 * it), takers take turns (a second each at most), idle time earns no more
 * than a burst, takers sleep rather than spin,
 * chunks are small under a limit; RATE parsing; the process's limits.
 * The timings run on the real monotonic clock, so the bounds allow a loaded
 * machine to be late, never early.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sealbox/error.h"
#include "sealbox/throttle.h"

#define KIB 1024ull
#define MIB (1024ull * 1024)

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Taking total bytes in pieces of size piece at rate (burst b) lasts at
 * least (total - b) / rate, and not much longer. */
static void assert_duration(double took, uint64_t total, uint64_t rate, uint64_t burst)
{
	double want = (double)(total - burst) / (double)rate;

	if (took < want * 0.99 || took > want * 1.25 + 0.05)
		fail_msg("took %.3f s, want %.3f s (%llu bytes at %llu B/s, burst %llu)", took,
			 want, (unsigned long long)total, (unsigned long long)rate,
			 (unsigned long long)burst);
}

static void test_throttle__one_taker_holds_the_rate(void **state)
{
	struct sb_throttle *t;
	uint64_t rate = 4 * MIB, total = 0;
	double t0, c0;
	size_t piece;

	(void)state;
	assert_int_equal(sb_throttle_new(rate, 0, &t), 0);
	assert_int_equal(sb_throttle_rate(t), rate);
	piece = sb_throttle_chunk(t, 1 << 30);
	assert_true(piece < rate / 10); /* small pieces go out smoothly */
	t0 = mono(), c0 = cpu();
	while (total < 3 * MIB) {
		sb_throttle_take(t, piece);
		total += piece;
	}
	assert_duration(mono() - t0, total, rate, (uint64_t)(rate * SB_THROTTLE_BURST_S));
	assert_true(cpu() - c0 < 0.1); /* slept, did not spin */
	sb_throttle_free(t);
}

struct taker {
	struct sb_throttle *t;
	size_t piece;
	uint64_t total;
};

static void *take_all(void *p)
{
	struct taker *k = p;
	uint64_t done;

	for (done = 0; done < k->total; done += k->piece)
		sb_throttle_take(k->t, k->piece);
	return NULL;
}

/* Four threads with pieces of different sizes: their sum holds the rate,
 * and none is starved (each finishes within the total time). */
static void test_throttle__parallel_takers_share_the_rate(void **state)
{
	enum { N = 4 };
	struct taker k[N];
	pthread_t th[N];
	struct sb_throttle *t;
	uint64_t rate = 8 * MIB, total = 0;
	double t0;
	int i;

	(void)state;
	assert_int_equal(sb_throttle_new(rate, 64 * KIB, &t), 0);
	for (i = 0; i < N; i++) {
		k[i] = (struct taker){t, (size_t)(16 * KIB) << i, MIB};
		total += k[i].total;
	}
	t0 = mono();
	for (i = 0; i < N; i++)
		assert_int_equal(pthread_create(&th[i], NULL, take_all, &k[i]), 0);
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	assert_duration(mono() - t0, total, rate, 64 * KIB);
	sb_throttle_free(t);
}

struct turn {
	struct sb_throttle *t;
	double start, delay, done; /* monotonic s */
	uint64_t total;
};

static void *take_late(void *p)
{
	struct turn *k = p;
	struct timespec d = {0, (long)(k->delay * 1e9)};
	uint64_t n;

	nanosleep(&d, NULL);
	for (n = 0; n < k->total; n += 64 * KIB)
		sb_throttle_take(k->t, 64 * KIB);
	k->done = mono() - k->start;
	return NULL;
}

/* Two takers take turns rather than share: the one taking keeps the bucket
 * while it goes on (so that two uploads do not pause together), and the
 * other gets it when it stops, or after a second at most. */
static void test_throttle__takers_take_turns(void **state)
{
	struct turn a, b;
	pthread_t ta, tb;
	struct sb_throttle *t;
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		assert_int_equal(sb_throttle_new(4 * MIB, 64 * KIB, &t), 0);
		a = (struct turn){t, mono(), 0, 0, round ? 8 * MIB : 2 * MIB};
		b = (struct turn){t, a.start, 0.1, 0, 64 * KIB};
		assert_int_equal(pthread_create(&ta, NULL, take_late, &a), 0);
		assert_int_equal(pthread_create(&tb, NULL, take_late, &b), 0);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		/* evenly shared, b's piece would be done at 0.12 s; a goes on
		   (a loaded machine may make it late back, and lose its turn) */
		if (!round && (b.done < 0.2 || a.done > 0.5 * 1.25 + 0.05))
			fail_msg("b done at %.3f s, a (0.5 s at the rate) at %.3f s", b.done,
				 a.done);
		/* not starved: a second at most (sooner when a was late back) */
		if (round && b.done > 0.1 + 1.0 + 0.3)
			fail_msg("b waited until %.3f s for a (2 s at the rate), not 1.1 s",
				 b.done);
		sb_throttle_free(t);
	}
}

/* A pause earns no more than the burst: what follows is held again. */
static void test_throttle__idle_earns_only_a_burst(void **state)
{
	struct sb_throttle *t;
	uint64_t rate = 2 * MIB;
	struct timespec pause = {0, 300000000L};
	double t0;
	int i;

	(void)state;
	assert_int_equal(sb_throttle_new(rate, 32 * KIB, &t), 0);
	sb_throttle_take(t, 32 * KIB); /* the first burst */
	nanosleep(&pause, NULL);       /* worth 600 KiB at the rate */
	t0 = mono();
	for (i = 0; i < 16; i++)
		sb_throttle_take(t, 64 * KIB);
	assert_duration(mono() - t0, 1 * MIB, rate, 32 * KIB);
	sb_throttle_free(t);
}

/* A piece larger than the burst is fine: its taker waits for all of it. */
static void test_throttle__piece_larger_than_burst(void **state)
{
	struct sb_throttle *t;
	double t0;

	(void)state;
	assert_int_equal(sb_throttle_new(4 * MIB, 16 * KIB, &t), 0);
	t0 = mono();
	sb_throttle_take(t, MIB);
	sb_throttle_take(t, 0); /* nothing: no wait */
	assert_duration(mono() - t0, MIB, 4 * MIB, 16 * KIB);
	sb_throttle_free(t);
}

static void test_throttle__chunks(void **state)
{
	struct sb_throttle *t;

	(void)state;
	assert_int_equal(sb_throttle_chunk(NULL, 123456), 123456);
	sb_throttle_take(NULL, 1 << 30); /* no limit: at once */
	assert_int_equal(sb_throttle_rate(NULL), 0);
	assert_int_equal(sb_throttle_new(1024, 0, &t), 0);
	assert_int_equal(sb_throttle_chunk(t, 1 << 20), 4096); /* at least 4 KiB */
	assert_int_equal(sb_throttle_chunk(t, 100), 100);
	sb_throttle_free(t);
	assert_int_equal(sb_throttle_new(20 * MIB, 0, &t), 0);
	assert_int_equal(sb_throttle_chunk(t, 1 << 30), MIB); /* 1/20 s of the rate */
	sb_throttle_free(t);
	assert_int_equal(sb_throttle_new(0, 0, &t), SB_ERR_PARAM);
	assert_null(t);
	sb_throttle_free(NULL);
}

static void test_throttle__parse_rate(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{"0", 0},
		{"0K", 0},
		{"1024", 1024},
		{"300000", 300000},
		{"300000B", 300000},
		{"300000B/s", 300000},
		{"300000/s", 300000},
		{"1K", 1024},
		{"500k", 512000},
		{"2M", 2 * MIB},
		{"2m", 2 * MIB},
		{"2MiB", 2 * MIB},
		{"2MiB/s", 2 * MIB},
		{"2M/s", 2 * MIB},
		{"1.5M", 3 * MIB / 2},
		{"0.5G", 512 * MIB},
		{"1G", 1024 * MIB},
		{"1024G", 1ull << 40},
	};
	static const char *const bad[] = {
		"",	    "K",
		"M/s",	    "-1",
		"+1M",	    " 1M",
		"1M ",	    "1 M",
		"1e6",	    "1.M",
		".5M",	    "1.5.5M",
		"5X",	    "2MB",
		"2KB",	    "2mb",
		"2Mi",	    "2MiBs",
		"2M/",	    "2M/h",
		"2T",	    "1023",
		"100",	    "0.5",
		"1025G",    "99999999999999999999",
		"0x10K",    "1,5M",
		"2MiB/s/s",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 42;
		if (sb_throttle_parse_rate(good[i].s, &v) != 0)
			fail_msg("'%s' refused", good[i].s);
		if (v != good[i].v)
			fail_msg("'%s' = %llu, want %llu", good[i].s, (unsigned long long)v,
				 (unsigned long long)good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (sb_throttle_parse_rate(bad[i], &v) != SB_ERR_PARAM)
			fail_msg("'%s' accepted (%llu)", bad[i], (unsigned long long)v);
		assert_int_equal(v, 42);
	}
}

/* The process's limits: none at first, set, replaced, removed with 0. */
static void test_throttle__process_limits(void **state)
{
	(void)state;
	assert_null(sb_throttle_limit(SB_THROTTLE_UP));
	assert_null(sb_throttle_limit(SB_THROTTLE_DOWN));
	assert_int_equal(sb_throttle_set_limit(SB_THROTTLE_UP, MIB), 0);
	assert_int_equal(sb_throttle_rate(sb_throttle_limit(SB_THROTTLE_UP)), MIB);
	assert_null(sb_throttle_limit(SB_THROTTLE_DOWN));
	assert_int_equal(sb_throttle_set_limit(SB_THROTTLE_UP, 3 * MIB), 0);
	assert_int_equal(sb_throttle_rate(sb_throttle_limit(SB_THROTTLE_UP)), 3 * MIB);
	assert_int_equal(sb_throttle_set_limit(SB_THROTTLE_DOWN, 5 * KIB), 0);
	assert_int_equal(sb_throttle_rate(sb_throttle_limit(SB_THROTTLE_DOWN)), 5 * KIB);
	assert_int_equal(sb_throttle_set_limit(SB_THROTTLE_UP, 100), SB_ERR_PARAM);
	assert_int_equal(sb_throttle_rate(sb_throttle_limit(SB_THROTTLE_UP)), 3 * MIB);
	assert_int_equal(sb_throttle_set_limit(SB_THROTTLE_UP, 0), 0);
	assert_int_equal(sb_throttle_set_limit(SB_THROTTLE_DOWN, 0), 0);
	assert_null(sb_throttle_limit(SB_THROTTLE_UP));
	assert_null(sb_throttle_limit(SB_THROTTLE_DOWN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle__one_taker_holds_the_rate),
		cmocka_unit_test(test_throttle__parallel_takers_share_the_rate),
		cmocka_unit_test(test_throttle__takers_take_turns),
		cmocka_unit_test(test_throttle__idle_earns_only_a_burst),
		cmocka_unit_test(test_throttle__piece_larger_than_burst),
		cmocka_unit_test(test_throttle__chunks),
		cmocka_unit_test(test_throttle__parse_rate),
		cmocka_unit_test(test_throttle__process_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
