/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_gunzip.c - streaming gzip decoding: round trips of zlib-made gzip
 * data over a sweep of source chunk and read sizes (1 byte at a time
 * included), concatenated members, truncated and corrupt data
 * (SB_ERR_CORRUPT), trailing garbage, source errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/gunzip.h"
#include "sealbox/log.h"

static int nerrors;

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)msg;
	(void)ctx;
	if (level == SB_LOG_ERR)
		nerrors++;
}

/* gzip-compress p into out (appending one member), as zlib's gzip wrapper does. */
static void gz(struct sb_buf *out, const void *p, size_t len, int level)
{
	unsigned char tmp[16384];
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (unsigned)len;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zr = deflate(&z, Z_FINISH);
		assert_true(zr == Z_OK || zr == Z_STREAM_END || zr == Z_BUF_ERROR);
		assert_int_equal(sb_buf_add(out, tmp, sizeof(tmp) - z.avail_out), 0);
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
}

/* A memory source giving at most max bytes a call; fail_at: error after that offset. */
struct src {
	const unsigned char *p;
	size_t len, pos, max, fail_at;
};

static ssize_t src_read(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->pos;

	if (s->pos >= s->fail_at)
		return SB_ERR_IO;
	if (n > len)
		n = len;
	if (n > s->max)
		n = s->max;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

/* Decode all of in; returns the final code (0 at a clean end). */
static int gunzip_all(const void *in, size_t inlen, size_t chunk, size_t step, struct sb_buf *out)
{
	struct src s = {in, inlen, 0, chunk, SIZE_MAX};
	struct sb_gunzip *g = sb_gunzip_new((struct sb_reader){src_read, &s}, "test data");
	unsigned char *buf = malloc(step);
	ssize_t n;

	assert_non_null(g);
	assert_non_null(buf);
	sb_buf_reset(out);
	while ((n = sb_gunzip_read(g, buf, step)) > 0) {
		assert_true((size_t)n <= step);
		assert_int_equal(sb_buf_add(out, buf, (size_t)n), 0);
	}
	if (n == 0) /* the end is sticky */
		assert_int_equal(sb_gunzip_read(g, buf, step), 0);
	sb_gunzip_free(g);
	free(buf);
	return (int)n;
}

static unsigned char *sample(size_t len)
{
	unsigned char *p = malloc(len ? len : 1);
	uint32_t x = 12345;
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		/* half text-like, half noise: both stored and compressed blocks */
		p[i] = (i / 10000) % 2 ? (unsigned char)(x >> 16)
				       : (unsigned char)("abcdefgh\n"[(x >> 16) % 9]);
	}
	return p;
}

static void test_gunzip__round_trip_sweep(void **state)
{
	static const size_t chunks[] = {1, 2, 511, 65536, SIZE_MAX};
	static const size_t steps[] = {1, 3, 4096, 65537, 1 << 20};
	size_t len = 200000, i, j;
	unsigned char *data = sample(len);
	struct sb_buf z = SB_BUF_INIT, out = SB_BUF_INIT;

	(void)state;
	gz(&z, data, len, 6);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			if (chunks[i] == 1 && steps[j] == 1)
				continue; /* below */
			assert_int_equal(gunzip_all(z.data, z.len, chunks[i], steps[j], &out), 0);
			assert_int_equal(out.len, len);
			assert_memory_equal(out.data, data, len);
		}
	/* stored (level 0) and best compression */
	sb_buf_reset(&z);
	gz(&z, data, len, 0);
	assert_int_equal(gunzip_all(z.data, z.len, 7, 1000, &out), 0);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, data, len);
	sb_buf_reset(&z);
	gz(&z, data, len, 9);
	assert_int_equal(gunzip_all(z.data, z.len, SIZE_MAX, 100, &out), 0);
	assert_memory_equal(out.data, data, len);
	free(data);
	sb_buf_release(&z);
	sb_buf_release(&out);
}

static void test_gunzip__one_byte_at_a_time(void **state)
{
	size_t len = 30000;
	unsigned char *data = sample(len);
	struct sb_buf z = SB_BUF_INIT, out = SB_BUF_INIT;

	(void)state;
	gz(&z, data, len, 6);
	assert_int_equal(gunzip_all(z.data, z.len, 1, 1, &out), 0);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, data, len);
	free(data);
	sb_buf_release(&z);
	sb_buf_release(&out);
}

static void test_gunzip__empty_member(void **state)
{
	struct sb_buf z = SB_BUF_INIT, out = SB_BUF_INIT;

	(void)state;
	gz(&z, "", 0, 6);
	assert_int_equal(gunzip_all(z.data, z.len, 1, 1, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(gunzip_all(z.data, z.len, SIZE_MAX, 100, &out), 0);
	assert_int_equal(out.len, 0);
	sb_buf_release(&z);
	sb_buf_release(&out);
}

static void test_gunzip__concatenated(void **state)
{
	static const size_t chunks[] = {1, 5, 100, SIZE_MAX};
	static const size_t steps[] = {1, 2, 17, 70000};
	size_t len = 100000, i, j;
	unsigned char *data = sample(len);
	struct sb_buf z = SB_BUF_INIT, out = SB_BUF_INIT;

	(void)state;
	/* "abc" + "" + data[0:60000] + data[60000:] + "xyz" as five members */
	gz(&z, "abc", 3, 6);
	gz(&z, "", 0, 6);
	gz(&z, data, 60000, 1);
	gz(&z, data + 60000, len - 60000, 9);
	gz(&z, "xyz", 3, 0);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			if (chunks[i] == 1 && steps[j] > 2)
				continue;
			assert_int_equal(gunzip_all(z.data, z.len, chunks[i], steps[j], &out), 0);
			assert_int_equal(out.len, len + 6);
			assert_memory_equal(out.data, "abc", 3);
			assert_memory_equal(out.data + 3, data, len);
			assert_memory_equal(out.data + 3 + len, "xyz", 3);
		}
	free(data);
	sb_buf_release(&z);
	sb_buf_release(&out);
}

static void test_gunzip__truncated(void **state)
{
	size_t len = 50000, cut;
	unsigned char *data = sample(len);
	struct sb_buf z = SB_BUF_INIT, out = SB_BUF_INIT;
	size_t cuts[] = {0, 1, 9, 10, 11, 100, 0, 0, 0, 0, 0};

	(void)state;
	gz(&z, data, len, 6);
	cuts[6] = z.len / 2;
	cuts[7] = z.len - 8; /* the whole deflate stream, no trailer */
	cuts[8] = z.len - 5;
	cuts[9] = z.len - 1;
	cuts[10] = z.len / 3;
	for (cut = 0; cut < sizeof(cuts) / sizeof(cuts[0]); cut++) {
		nerrors = 0;
		assert_int_equal(gunzip_all(z.data, cuts[cut], 4096, 4096, &out), SB_ERR_CORRUPT);
		assert_int_equal(nerrors, 1);
		/* what came out before the error is a prefix of the data */
		assert_true(out.len <= len);
		if (out.len)
			assert_memory_equal(out.data, data, out.len);
		assert_int_equal(gunzip_all(z.data, cuts[cut], 1, 1, &out), SB_ERR_CORRUPT);
	}
	/* a second member cut short */
	gz(&z, "more", 4, 6);
	assert_int_equal(gunzip_all(z.data, z.len - 3, 100, 100, &out), SB_ERR_CORRUPT);
	free(data);
	sb_buf_release(&z);
	sb_buf_release(&out);
}

static void test_gunzip__corrupt(void **state)
{
	size_t len = 20000, i;
	unsigned char *data = sample(len);
	struct sb_buf z = SB_BUF_INIT, bad = SB_BUF_INIT, out = SB_BUF_INIT;

	(void)state;
	gz(&z, data, len, 6);
	/* a flipped bit in the middle (data or CRC error), in the CRC, in the size */
	{
		size_t at[] = {z.len / 2, z.len - 6, z.len - 2, 0, 1};

		for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			sb_buf_set(&bad, z.data, z.len);
			bad.data[at[i]] ^= 0x10;
			nerrors = 0;
			assert_int_equal(gunzip_all(bad.data, bad.len, 4096, 4096, &out),
					 SB_ERR_CORRUPT);
			assert_int_equal(nerrors, 1);
		}
	}
	/* not gzip at all */
	assert_int_equal(gunzip_all("hello, world, this is plain text", 32, 4096, 4096, &out),
			 SB_ERR_CORRUPT);
	/* trailing garbage after a good member */
	sb_buf_set(&bad, z.data, z.len);
	sb_buf_add(&bad, "garbage!", 8);
	assert_int_equal(gunzip_all(bad.data, bad.len, 4096, 4096, &out), SB_ERR_CORRUPT);
	free(data);
	sb_buf_release(&z);
	sb_buf_release(&bad);
	sb_buf_release(&out);
}

static void test_gunzip__source_error(void **state)
{
	size_t len = 100000;
	unsigned char *data = sample(len), buf[4096];
	struct sb_buf z = SB_BUF_INIT;
	struct src s;
	struct sb_gunzip *g;
	ssize_t n;

	(void)state;
	gz(&z, data, len, 6);
	s = (struct src){z.data, z.len, 0, 1000, z.len / 2};
	g = sb_gunzip_new((struct sb_reader){src_read, &s}, NULL);
	assert_non_null(g);
	while ((n = sb_gunzip_read(g, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(n, SB_ERR_IO);
	/* a zero-length read is not the end */
	assert_int_equal(sb_gunzip_read(g, buf, 0), 0);
	sb_gunzip_free(g);
	sb_gunzip_free(NULL);
	free(data);
	sb_buf_release(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gunzip__round_trip_sweep),
		cmocka_unit_test(test_gunzip__one_byte_at_a_time),
		cmocka_unit_test(test_gunzip__empty_member),
		cmocka_unit_test(test_gunzip__concatenated),
		cmocka_unit_test(test_gunzip__truncated),
		cmocka_unit_test(test_gunzip__corrupt),
		cmocka_unit_test(test_gunzip__source_error),
	};

	sb_log_set_handler(count_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
