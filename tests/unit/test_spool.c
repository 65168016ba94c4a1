/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_spool.c - the memory-then-temp-file buffer: stays in memory up to its
 * limit, spills to an unlinked file in its tmpdir beyond it, reads back the
 * same bytes with any read size, rewinds, resets for reuse; a full disk
 * is named (the folder of a spill file) and is the local no-space code.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/spool.h"

static int nerrors;

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)msg;
	(void)ctx;
	if (level == SB_LOG_ERR)
		nerrors++;
}

static char tmpdir[256];

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sb-spool-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir); /* fails unless the spill files were unlinked */
}

static size_t dir_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 16);
	}
}

/* Read everything back with reads of at most step bytes. */
static void read_back(struct sb_spool *s, const unsigned char *want, size_t len, size_t step)
{
	unsigned char *got = malloc(len + 1);
	size_t pos = 0;
	ssize_t n;

	assert_non_null(got);
	assert_int_equal(sb_spool_rewind(s), 0);
	while ((n = sb_spool_read(s, got + pos, step < len + 1 - pos ? step : len + 1 - pos)) > 0) {
		assert_true((size_t)n <= step);
		pos += (size_t)n;
		assert_true(pos <= len);
	}
	assert_int_equal(n, 0);
	assert_int_equal(pos, len);
	if (len)
		assert_memory_equal(got, want, len);
	/* at the end: still 0 */
	assert_int_equal(sb_spool_read(s, got, 1), 0);
	free(got);
}

static void test_spool__memory(void **state)
{
	struct sb_spool *s = sb_spool_new(100, tmpdir);
	unsigned char data[100];

	(void)state;
	assert_non_null(s);
	fill(data, sizeof(data), 1);
	assert_int_equal(sb_spool_size(s), 0);
	assert_non_null(sb_spool_mem(s)); /* "" when empty */
	read_back(s, data, 0, 10);

	assert_int_equal(sb_spool_write(s, data, 60), 0);
	assert_int_equal(sb_spool_write(s, data + 60, 0), 0);
	assert_int_equal(sb_spool_write(s, data + 60, 40), 0); /* exactly the limit */
	assert_int_equal(sb_spool_size(s), 100);
	assert_non_null(sb_spool_mem(s));
	assert_memory_equal(sb_spool_mem(s), data, 100);
	read_back(s, data, 100, 1);
	read_back(s, data, 100, 7);
	read_back(s, data, 100, 1000);
	assert_int_equal(dir_entries(), 0);
	sb_spool_free(s);
}

static void test_spool__spill(void **state)
{
	struct sb_spool *s = sb_spool_new(100, tmpdir);
	unsigned char data[1000];

	(void)state;
	assert_non_null(s);
	fill(data, sizeof(data), 2);
	assert_int_equal(sb_spool_write(s, data, 100), 0);
	assert_non_null(sb_spool_mem(s));
	assert_int_equal(sb_spool_write(s, data + 100, 1), 0); /* one over: spills */
	assert_null(sb_spool_mem(s));
	assert_int_equal(sb_spool_write(s, data + 101, 899), 0);
	assert_int_equal(sb_spool_size(s), 1000);
	assert_int_equal(dir_entries(), 0); /* the file has no name */
	read_back(s, data, 1000, 1);
	read_back(s, data, 1000, 333);
	read_back(s, data, 1000, 4096);
	sb_spool_free(s);
}

static void test_spool__big_write_spills_at_once(void **state)
{
	struct sb_spool *s = sb_spool_new(64 * 1024, tmpdir);
	size_t len = 3 * 1024 * 1024 + 17, pos, step;
	unsigned char *data = malloc(len);

	(void)state;
	assert_non_null(s);
	assert_non_null(data);
	fill(data, len, 3);
	/* first write already beyond the limit */
	assert_int_equal(sb_spool_write(s, data, 70000), 0);
	assert_null(sb_spool_mem(s));
	for (pos = 70000, step = 1; pos < len; pos += step, step = step * 3 + 1) {
		if (step > len - pos)
			step = len - pos;
		assert_int_equal(sb_spool_write(s, data + pos, step), 0);
	}
	assert_int_equal(sb_spool_size(s), len);
	read_back(s, data, len, 65536);
	read_back(s, data, len, 100003);
	sb_spool_free(s);
	free(data);
}

static void test_spool__zero_limit(void **state)
{
	struct sb_spool *s = sb_spool_new(0, tmpdir);
	unsigned char data[10];

	(void)state;
	assert_non_null(s);
	fill(data, sizeof(data), 4);
	assert_int_equal(sb_spool_write(s, data, 0), 0);
	assert_non_null(sb_spool_mem(s));
	assert_int_equal(sb_spool_write(s, data, 10), 0);
	assert_null(sb_spool_mem(s));
	read_back(s, data, 10, 3);
	sb_spool_free(s);
}

static void test_spool__reset_and_reuse(void **state)
{
	struct sb_spool *s = sb_spool_new(50, tmpdir);
	unsigned char a[200], b[30], c[120];

	(void)state;
	assert_non_null(s);
	fill(a, sizeof(a), 5);
	fill(b, sizeof(b), 6);
	fill(c, sizeof(c), 7);
	assert_int_equal(sb_spool_write(s, a, sizeof(a)), 0);
	assert_null(sb_spool_mem(s));
	read_back(s, a, sizeof(a), 64);

	/* back to memory after a reset */
	assert_int_equal(sb_spool_reset(s), 0);
	assert_int_equal(sb_spool_size(s), 0);
	assert_non_null(sb_spool_mem(s));
	read_back(s, a, 0, 64);
	assert_int_equal(sb_spool_write(s, b, sizeof(b)), 0);
	assert_non_null(sb_spool_mem(s));
	assert_memory_equal(sb_spool_mem(s), b, sizeof(b));
	read_back(s, b, sizeof(b), 4);

	/* and spills again, with only the new bytes */
	assert_int_equal(sb_spool_reset(s), 0);
	assert_int_equal(sb_spool_write(s, c, 40), 0);
	assert_int_equal(sb_spool_write(s, c + 40, 80), 0);
	assert_null(sb_spool_mem(s));
	assert_int_equal(sb_spool_size(s), sizeof(c));
	read_back(s, c, sizeof(c), 50);

	/* a reset in the middle of reading */
	{
		unsigned char tmp[10];

		assert_int_equal(sb_spool_rewind(s), 0);
		assert_int_equal(sb_spool_read(s, tmp, sizeof(tmp)), 10);
	}
	assert_int_equal(sb_spool_reset(s), 0);
	assert_int_equal(sb_spool_write(s, b, sizeof(b)), 0);
	read_back(s, b, sizeof(b), 7);
	sb_spool_free(s);
	assert_int_equal(dir_entries(), 0);
}

/* Once spilled, small writes are gathered (64 KiB at a time): many small and
 * a few large writes, read back whole, in between and after a reset. */
static void test_spool__small_writes_after_spill(void **state)
{
	static unsigned char data[300000];
	struct sb_spool *s = sb_spool_new(1000, tmpdir);
	size_t pos = 0, n, k = 0;

	(void)state;
	assert_non_null(s);
	fill(data, sizeof(data), 8);
	while (pos < sizeof(data)) {
		n = (k++ % 50 == 49) ? 70000 : 1 + k % 300; /* now and then one over 64 KiB */
		if (n > sizeof(data) - pos)
			n = sizeof(data) - pos;
		assert_int_equal(sb_spool_write(s, data + pos, n), 0);
		pos += n;
		if (pos > 150000 && pos - n <= 150000) /* a read in the middle sees it all */
			read_back(s, data, pos, 4096);
	}
	assert_null(sb_spool_mem(s));
	assert_int_equal(sb_spool_size(s), sizeof(data));
	read_back(s, data, sizeof(data), 65536);
	read_back(s, data, sizeof(data), 1000);
	assert_int_equal(sb_spool_reset(s), 0);
	assert_int_equal(sb_spool_write(s, data, 2000), 0);
	assert_int_equal(sb_spool_write(s, data + 2000, 10), 0);
	read_back(s, data, 2010, 333);
	sb_spool_free(s);
	assert_int_equal(dir_entries(), 0);
}

static void test_spool__bad_tmpdir(void **state)
{
	char bad[300];
	struct sb_spool *s;
	unsigned char data[20];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/missing", tmpdir);
	s = sb_spool_new(10, bad);
	assert_non_null(s);
	fill(data, sizeof(data), 8);
	assert_int_equal(sb_spool_write(s, data, 10), 0); /* fits in memory */
	nerrors = 0;
	assert_true(sb_spool_write(s, data + 10, 10) < 0);
	assert_int_equal(nerrors, 1);
	/* nothing was lost or half-written */
	assert_int_equal(sb_spool_size(s), 10);
	assert_non_null(sb_spool_mem(s));
	read_back(s, data, 10, 3);
	sb_spool_free(s);
	/* NULL free is fine */
	sb_spool_free(NULL);
}

static char last_error[8192];

static void keep_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == SB_LOG_ERR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
}

/* A full disk is the local kind of no-space (exit 10, not the target's 5),
 * and the line names the file, or for a spill file the folder. */
static void test_spool__full_disk_names_the_folder(void **state)
{
	char want[512], c;
	ssize_t n;
	int fd, rc;

	(void)state;
	assert_int_equal(sb_err_from_errno(ENOSPC), SB_ERR_DISKFULL);
	sb_log_set_handler(keep_log, NULL);
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		rc = sb_fd_write(&fd, "x", 1);
		close(fd);
		assert_int_equal(rc, SB_ERR_DISKFULL);
		assert_string_equal(last_error, "cannot write /dev/full: No space left on device");
	}
	fd = open(tmpdir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	n = sb_fd_read(&fd, &c, 1); /* write-only: EBADF */
	close(fd);
	assert_true(n < 0);
	snprintf(want, sizeof(want), "cannot read a temporary file in %s: %s", tmpdir,
		 strerror(EBADF));
	assert_string_equal(last_error, want);
	sb_log_set_handler(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool__memory),
		cmocka_unit_test(test_spool__spill),
		cmocka_unit_test(test_spool__big_write_spills_at_once),
		cmocka_unit_test(test_spool__zero_limit),
		cmocka_unit_test(test_spool__reset_and_reuse),
		cmocka_unit_test(test_spool__small_writes_after_spill),
		cmocka_unit_test(test_spool__bad_tmpdir),
		cmocka_unit_test(test_spool__full_disk_names_the_folder),
	};

	sb_log_set_handler(count_log, NULL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
