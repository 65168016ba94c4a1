/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_gzreader.c - the archive dir's gzip reader, plain and with its
 * read-ahead thread: the same bytes for every read size (across its
 * buffers' edges, several gzip members), a corrupt or truncated file is
 * SB_ERR_CORRUPT with one error line naming it, and closing before the end
 * (the inflater waiting for room) neither hangs nor leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/archive.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

static char dir[64];
static char path[128];
static unsigned char *data;
static const size_t data_len = 3 * 1024 * 1024 + 12345; /* > the read-ahead's 1 MiB */
static int nerrors;
static char last_error[512];

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == SB_LOG_ERR) {
		nerrors++;
		snprintf(last_error, sizeof(last_error), "%s", msg);
	}
}

/* One more gzip member of p to the file (a new file unless more). */
static int append(bool more, const void *p, size_t len)
{
	struct sb_gzwriter *w = NULL;
	long sz = 0;
	FILE *f;

	if (more) {
		f = fopen(path, "rb");
		if (!f || fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0)
			return -1;
		fclose(f);
	}
	if (sb_gzwriter_open_at(path, (uint64_t)sz, &w))
		return -1;
	if (sb_gzwriter_write(w, p, len)) {
		sb_gzwriter_close(w);
		return -1;
	}
	return sb_gzwriter_close(w);
}

/* data_len bytes that compress a little: words from a fixed generator, then noise */
static int setup(void **state)
{
	uint32_t x = 16;
	size_t i, half;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sbgz.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/sig.tar.gz", dir);
	data = malloc(data_len);
	if (!data)
		return -1;
	for (i = 0; i < data_len; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = i < data_len / 2 ? (unsigned char)('a' + (x >> 16) % 6)
					   : (unsigned char)(x >> 16);
	}
	/* three members, as the journal writes one per volume */
	half = data_len / 2;
	if (append(0, data, 1000) || append(1, data + 1000, half - 1000) ||
	    append(1, data + half, data_len - half))
		return -1;
	sb_log_set_handler(count_log, NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	free(data);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

typedef int (*open_fn)(const char *, struct sb_gzreader **);

/* Read p through g in pieces of step bytes; the whole, compared. */
static void read_all(open_fn op, const char *p, size_t step)
{
	struct sb_gzreader *g = NULL;
	unsigned char *got = malloc(data_len + step);
	size_t have = 0;
	ssize_t n;

	assert_non_null(got);
	assert_int_equal(op(p, &g), 0);
	while ((n = sb_gzreader_read(g, got + have, step)) > 0) {
		assert_true((size_t)n <= step);
		have += (size_t)n;
		assert_true(have <= data_len);
	}
	assert_int_equal(n, 0);
	assert_int_equal(have, data_len);
	assert_memory_equal(got, data, data_len);
	sb_gzreader_close(g);
	free(got);
}

static void test_gzreader__same_bytes(void **state)
{
	static const size_t steps[] = {1, 511, 4096, 65536, 256 * 1024, 256 * 1024 + 1, 5 << 20};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i] > 1 || i == 0) {
			read_all(sb_gzreader_open_ahead, path, steps[i]);
			read_all(sb_gzreader_open, path, steps[i] < 4096 ? 4096 : steps[i]);
		}
	}
}

/* A copy of the file with one byte changed at off, or cut at off. */
static void damaged(char *out, size_t size, long off, bool cut)
{
	FILE *in = fopen(path, "rb"), *o;
	unsigned char *b;
	long sz;

	assert_non_null(in);
	assert_int_equal(fseek(in, 0, SEEK_END), 0);
	sz = ftell(in);
	rewind(in);
	b = malloc((size_t)sz);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)sz, in), (size_t)sz);
	fclose(in);
	if (off < 0)
		off += sz;
	if (!cut)
		b[off] ^= 0x5a;
	snprintf(out, size, "%s/bad.%ld.%d.gz", dir, off, cut);
	o = fopen(out, "wb");
	assert_non_null(o);
	assert_int_equal(fwrite(b, 1, cut ? (size_t)off : (size_t)sz, o),
			 cut ? (size_t)off : (size_t)sz);
	fclose(o);
	free(b);
}

static void test_gzreader__corrupt(void **state)
{
	static const struct {
		long off;
		bool cut;
	} cases[] = {{-20000, false}, {-6, false}, {-20000, true}, {40, true}};
	char bad[256], buf[65536];
	size_t i;
	int ahead;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		damaged(bad, sizeof(bad), cases[i].off, cases[i].cut);
		for (ahead = 0; ahead < 2; ahead++) {
			struct sb_gzreader *g = NULL;
			ssize_t n;

			nerrors = 0;
			assert_int_equal(
				(ahead ? sb_gzreader_open_ahead : sb_gzreader_open)(bad, &g), 0);
			while ((n = sb_gzreader_read(g, buf, sizeof(buf))) > 0)
				;
			assert_int_equal(n, SB_ERR_CORRUPT);
			assert_int_equal(nerrors, 1);
			assert_non_null(strstr(last_error, bad));
			sb_gzreader_close(g);
		}
	}
}

static void test_gzreader__close_early(void **state)
{
	struct sb_gzreader *g = NULL;
	char buf[100];
	int i;

	(void)state;
	/* unread: the inflater has filled its buffers and waits */
	assert_int_equal(sb_gzreader_open_ahead(path, &g), 0);
	usleep(100000);
	sb_gzreader_close(g);
	/* partly read */
	for (i = 0; i < 20; i++) {
		assert_int_equal(sb_gzreader_open_ahead(path, &g), 0);
		assert_int_equal(sb_gzreader_read(g, buf, sizeof(buf)), sizeof(buf));
		assert_memory_equal(buf, data, sizeof(buf));
		sb_gzreader_close(g);
	}
	/* a file that is not there: one line, no reader */
	nerrors = 0;
	snprintf(buf, sizeof(buf), "%s/missing.gz", dir);
	assert_int_equal(sb_gzreader_open_ahead(buf, &g), SB_ERR_IO);
	assert_int_equal(nerrors, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzreader__same_bytes),
		cmocka_unit_test(test_gzreader__corrupt),
		cmocka_unit_test(test_gzreader__close_early),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
