/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_delta.c - signatures, deltas and patches (backup/delta.c): the block
 * length rule, byte-identity with rdiff, round trips at several feed sizes,
 * interoperability with rdiff both ways, corrupt input, and throughput.
 *
 * rdiff 2.3 defaults to the RabinKarp rollsum (magic rs\x01F); duplicity's
 * signatures need "-R rollsum" to get rs\x016.
 *
 * SB_DELTA_BENCH_MB=<n> sets the size of the throughput test (default 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/buf.h"
#include "sealbox/delta.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

static char tmpdir[] = "/tmp/sb-test-delta-XXXXXX";
static int n_errors; /* sb_error() lines since the last reset */

static const size_t feed_sizes[] = {1, 7, 4096, 65536};
#define N_FEEDS (sizeof(feed_sizes) / sizeof(feed_sizes[0]))

/* ---- helpers ---- */

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	if (level == SB_LOG_ERR)
		n_errors++;
	if (getenv("SB_TEST_VERBOSE"))
		fprintf(stderr, "log: %s\n", msg);
}

static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

static unsigned char *rand_buf(size_t n, uint64_t seed)
{
	unsigned char *p = malloc(n ? n : 1);

	assert_non_null(p);
	fill_random(p, n, seed);
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void read_file(const char *path, struct sb_buf *b)
{
	unsigned char tmp[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	sb_buf_reset(b);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		assert_int_equal(sb_buf_add(b, tmp, n), 0);
	fclose(f);
}

static int have_rdiff(void) { return system("rdiff --version >/dev/null 2>&1") == 0; }

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A basis file descriptor holding p[0, n). */
static int basis_fd(const void *p, size_t n)
{
	int fd = memfd_create("basis", 0);

	assert_true(fd >= 0);
	if (n)
		assert_int_equal(write(fd, p, n), (ssize_t)n);
	return fd;
}

static void sig_mem(const void *p, size_t n, uint32_t bl, size_t feed, struct sb_buf *out)
{
	struct sb_writer w = {sb_buf_write, out};
	struct sb_sig_gen *g;
	size_t off, take;

	sb_buf_reset(out);
	assert_int_equal(sb_sig_gen_new(bl, &g), 0);
	for (off = 0; off < n; off += take) {
		take = n - off < feed ? n - off : feed;
		assert_int_equal(sb_sig_gen_update(g, (const char *)p + off, take, &w), 0);
	}
	assert_int_equal(sb_sig_gen_finish(g, &w), 0);
	sb_sig_gen_free(g);
}

static int load_sig(const void *p, size_t n, struct sb_sig **s)
{
	struct sb_cursor c;
	struct sb_reader r = {sb_cursor_read, &c};

	sb_cursor_init(&c, p, n);
	return sb_sig_load(r, s);
}

static void delta_mem(struct sb_sig *s, const void *p, size_t n, size_t feed, struct sb_buf *out)
{
	struct sb_writer w = {sb_buf_write, out};
	struct sb_delta_gen *d;
	size_t off, take;

	sb_buf_reset(out);
	assert_int_equal(sb_delta_gen_new(s, &d), 0);
	for (off = 0; off < n; off += take) {
		take = n - off < feed ? n - off : feed;
		assert_int_equal(sb_delta_gen_update(d, (const char *)p + off, take, &w), 0);
	}
	assert_int_equal(sb_delta_gen_finish(d, &w), 0);
	sb_delta_gen_free(d);
}

static int patch_mem(const void *basis, size_t bn, const void *delta, size_t dn, struct sb_buf *out,
		     uint64_t *size)
{
	struct sb_cursor c;
	struct sb_reader r = {sb_cursor_read, &c};
	struct sb_writer w = {sb_buf_write, out};
	int fd = basis_fd(basis, bn), rc;

	sb_buf_reset(out);
	sb_cursor_init(&c, delta, dn);
	rc = sb_patch(fd, r, w, size);
	close(fd);
	return rc;
}

static int size_mem(const void *delta, size_t dn, uint64_t *size)
{
	struct sb_cursor c;
	struct sb_reader r = {sb_cursor_read, &c};

	sb_cursor_init(&c, delta, dn);
	return sb_delta_size(r, size);
}

/* A reader handing out at most `step` bytes per call. */
struct slow_reader {
	struct sb_cursor c;
	size_t step;
};

static ssize_t slow_read(void *ctx, void *buf, size_t len)
{
	struct slow_reader *s = ctx;

	return sb_cursor_read(&s->c, buf, len < s->step ? len : s->step);
}

/* ---- block length ---- */

static void test_delta__block_len(void **state)
{
	assert_int_equal(sb_sig_block_len(0), 512);
	assert_int_equal(sb_sig_block_len(1023999), 512);
	assert_int_equal(sb_sig_block_len(1024000), 512);
	assert_int_equal(sb_sig_block_len(2047999), 512);
	assert_int_equal(sb_sig_block_len(2048000), 1024);
	assert_int_equal(sb_sig_block_len(2621440), 1024);
	assert_int_equal(sb_sig_block_len(3071999), 1024);
	assert_int_equal(sb_sig_block_len(3072000), 1536);
	assert_int_equal(sb_sig_block_len(4095999), 1536);
	assert_int_equal(sb_sig_block_len(4096000), 2048);
	assert_int_equal(sb_sig_block_len(1ull << 40), 2048);
	assert_int_equal(sb_sig_block_len(UINT64_MAX), 2048);
}

/* ---- signatures ---- */

static void test_delta__sig_matches_rdiff(void **state)
{
	static const size_t sizes[] = {0, 1, 511, 512, 513, 100000, 2621440};
	struct sb_buf ours = SB_BUF_INIT, theirs = SB_BUF_INIT, other = SB_BUF_INIT;
	char in[512], out[512];
	unsigned char *data;
	uint32_t bl;
	size_t i, f;

	if (!have_rdiff())
		skip();
	tmp_path(in, sizeof(in), "sig.in");
	tmp_path(out, sizeof(out), "sig.rdiff");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		data = rand_buf(sizes[i], i + 1);
		bl = sb_sig_block_len(sizes[i]);
		write_file(in, data, sizes[i]);
		assert_int_equal(run("rdiff -f signature -b %u -S 8 -H md4 -R rollsum '%s' '%s'",
				     (unsigned)bl, in, out),
				 0);
		read_file(out, &theirs);
		sig_mem(data, sizes[i], bl, 65536, &ours);
		assert_int_equal(ours.len, 12 + 12 * ((sizes[i] + bl - 1) / bl));
		assert_int_equal(ours.len, theirs.len);
		assert_memory_equal(ours.data, theirs.data, ours.len);
		/* every feed size gives the same bytes */
		for (f = 0; f < N_FEEDS && sizes[i] <= 100000; f++) {
			sig_mem(data, sizes[i], bl, feed_sizes[f], &other);
			assert_int_equal(other.len, ours.len);
			assert_memory_equal(other.data, ours.data, ours.len);
		}
		free(data);
	}
	sb_buf_release(&ours);
	sb_buf_release(&theirs);
	sb_buf_release(&other);
}

static void test_delta__sig_header(void **state)
{
	static const unsigned char hdr[] = {0x72, 0x73, 0x01, 0x36, 0, 0, 0x02, 0, 0, 0, 0, 8};
	struct sb_buf sig = SB_BUF_INIT;
	struct sb_sig_gen *g;

	sig_mem("", 0, 512, 1, &sig);
	assert_int_equal(sig.len, 12);
	assert_memory_equal(sig.data, hdr, 12);
	assert_int_equal(sb_sig_gen_new(0, &g), SB_ERR_PARAM);
	assert_null(g);
	sb_buf_release(&sig);
}

/* ---- round trips ---- */

struct rt_case {
	const char *name;
	unsigned char *old, *new;
	size_t old_len, new_len;
};

static void make_cases(struct rt_case *c, size_t *n)
{
	size_t k = 0;

	/* identical */
	c[k].name = "identical";
	c[k].old_len = c[k].new_len = 100000;
	c[k].old = rand_buf(100000, 11);
	c[k].new = malloc(100000);
	memcpy(c[k].new, c[k].old, 100000);
	k++;
	/* appended */
	c[k].name = "appended";
	c[k].old_len = 100000;
	c[k].new_len = 105000;
	c[k].old = rand_buf(100000, 12);
	c[k].new = malloc(105000);
	memcpy(c[k].new, c[k].old, 100000);
	fill_random(c[k].new + 100000, 5000, 13);
	k++;
	/* inserted in the middle */
	c[k].name = "inserted";
	c[k].old_len = 100000;
	c[k].new_len = 100777;
	c[k].old = rand_buf(100000, 14);
	c[k].new = malloc(100777);
	memcpy(c[k].new, c[k].old, 50000);
	fill_random(c[k].new + 50000, 777, 15);
	memcpy(c[k].new + 50777, c[k].old + 50000, 50000);
	k++;
	/* totally different */
	c[k].name = "different";
	c[k].old_len = 80000;
	c[k].new_len = 90000;
	c[k].old = rand_buf(80000, 16);
	c[k].new = rand_buf(90000, 17);
	k++;
	/* empty old */
	c[k].name = "empty-old";
	c[k].old_len = 0;
	c[k].new_len = 10000;
	c[k].old = rand_buf(0, 18);
	c[k].new = rand_buf(10000, 19);
	k++;
	/* empty new */
	c[k].name = "empty-new";
	c[k].old_len = 10000;
	c[k].new_len = 0;
	c[k].old = rand_buf(10000, 20);
	c[k].new = rand_buf(0, 21);
	k++;
	/* both empty */
	c[k].name = "both-empty";
	c[k].old_len = c[k].new_len = 0;
	c[k].old = rand_buf(0, 22);
	c[k].new = rand_buf(0, 23);
	k++;
	*n = k;
}

static void free_cases(struct rt_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].old);
		free(c[i].new);
	}
}

static void test_delta__round_trip(void **state)
{
	struct sb_buf sig = SB_BUF_INIT, delta = SB_BUF_INIT, other = SB_BUF_INIT,
		      out = SB_BUF_INIT;
	struct rt_case c[8];
	struct sb_sig *s;
	uint64_t size;
	size_t n, i, f;

	make_cases(c, &n);
	for (i = 0; i < n; i++) {
		sig_mem(c[i].old, c[i].old_len, sb_sig_block_len(c[i].old_len), 4096, &sig);
		assert_int_equal(load_sig(sig.data, sig.len, &s), 0);
		delta_mem(s, c[i].new, c[i].new_len, 65536, &delta);
		for (f = 0; f < N_FEEDS; f++) {
			delta_mem(s, c[i].new, c[i].new_len, feed_sizes[f], &other);
			assert_int_equal(other.len, delta.len);
			assert_memory_equal(other.data, delta.data, delta.len);
		}
		sb_sig_free(s);

		assert_int_equal(
			patch_mem(c[i].old, c[i].old_len, delta.data, delta.len, &out, &size), 0);
		assert_int_equal(size, c[i].new_len);
		assert_int_equal(out.len, c[i].new_len);
		if (c[i].new_len)
			assert_memory_equal(out.data, c[i].new, c[i].new_len);
		assert_int_equal(size_mem(delta.data, delta.len, &size), 0);
		assert_int_equal(size, c[i].new_len);
		if (!strcmp(c[i].name, "identical"))
			assert_true(delta.len <= 16); /* magic, one COPY, END */
		if (!strcmp(c[i].name, "inserted"))
			assert_true(delta.len < 4000);
	}
	free_cases(c, n);
	sb_buf_release(&sig);
	sb_buf_release(&delta);
	sb_buf_release(&other);
	sb_buf_release(&out);
}

/* The patcher and the size walker must not care how the delta is chopped up. */
static void test_delta__slow_readers(void **state)
{
	struct sb_buf sig = SB_BUF_INIT, delta = SB_BUF_INIT, out = SB_BUF_INIT;
	struct rt_case c[8];
	struct slow_reader sr;
	struct sb_reader r = {slow_read, &sr};
	struct sb_writer w = {sb_buf_write, &out};
	struct sb_sig *s;
	uint64_t size;
	size_t n, i, f;
	int fd;

	make_cases(c, &n);
	for (i = 0; i < n; i++) {
		sig_mem(c[i].old, c[i].old_len, 512, 65536, &sig);
		/* the signature reader too */
		sr.step = 5;
		sb_cursor_init(&sr.c, sig.data, sig.len);
		assert_int_equal(sb_sig_load(r, &s), 0);
		delta_mem(s, c[i].new, c[i].new_len, 65536, &delta);
		sb_sig_free(s);
		fd = basis_fd(c[i].old, c[i].old_len);
		for (f = 0; f < N_FEEDS; f++) {
			sr.step = feed_sizes[f];
			sb_cursor_init(&sr.c, delta.data, delta.len);
			sb_buf_reset(&out);
			assert_int_equal(sb_patch(fd, r, w, &size), 0);
			assert_int_equal(size, c[i].new_len);
			assert_int_equal(out.len, c[i].new_len);
			if (c[i].new_len)
				assert_memory_equal(out.data, c[i].new, c[i].new_len);
			sb_cursor_init(&sr.c, delta.data, delta.len);
			assert_int_equal(sb_delta_size(r, &size), 0);
			assert_int_equal(size, c[i].new_len);
		}
		close(fd);
	}
	free_cases(c, n);
	sb_buf_release(&sig);
	sb_buf_release(&delta);
	sb_buf_release(&out);
}

/* ---- rdiff interoperability ---- */

static void test_delta__rdiff_interop(void **state)
{
	struct sb_buf sig = SB_BUF_INIT, delta = SB_BUF_INIT, out = SB_BUF_INIT;
	char oldp[512], newp[512], sigp[512], deltap[512], outp[512];
	struct rt_case c[8];
	struct sb_sig *s;
	uint64_t size;
	size_t n, i;

	if (!have_rdiff())
		skip();
	tmp_path(oldp, sizeof(oldp), "old");
	tmp_path(newp, sizeof(newp), "new");
	tmp_path(sigp, sizeof(sigp), "sig");
	tmp_path(deltap, sizeof(deltap), "delta");
	tmp_path(outp, sizeof(outp), "out");
	make_cases(c, &n);
	for (i = 0; i < n; i++) {
		write_file(oldp, c[i].old, c[i].old_len);
		write_file(newp, c[i].new, c[i].new_len);

		/* our delta, rdiff's patch */
		sig_mem(c[i].old, c[i].old_len, 512, 65536, &sig);
		assert_int_equal(load_sig(sig.data, sig.len, &s), 0);
		delta_mem(s, c[i].new, c[i].new_len, 4096, &delta);
		sb_sig_free(s);
		write_file(deltap, delta.data, delta.len);
		assert_int_equal(run("rdiff -f patch '%s' '%s' '%s'", oldp, deltap, outp), 0);
		read_file(outp, &out);
		assert_int_equal(out.len, c[i].new_len);
		if (c[i].new_len)
			assert_memory_equal(out.data, c[i].new, c[i].new_len);

		/* rdiff's delta (from a BLAKE2 signature), our signature load and patch */
		assert_int_equal(
			run("rdiff -f signature -b 512 -H blake2 -R rollsum '%s' '%s'", oldp, sigp),
			0);
		assert_int_equal(run("rdiff -f delta '%s' '%s' '%s'", sigp, newp, deltap), 0);
		read_file(deltap, &delta);
		assert_int_equal(
			patch_mem(c[i].old, c[i].old_len, delta.data, delta.len, &out, &size), 0);
		assert_int_equal(size, c[i].new_len);
		if (c[i].new_len)
			assert_memory_equal(out.data, c[i].new, c[i].new_len);
		assert_int_equal(size_mem(delta.data, delta.len, &size), 0);
		assert_int_equal(size, c[i].new_len);

		/* a BLAKE2 signature loads and drives our delta */
		read_file(sigp, &sig);
		assert_int_equal(load_sig(sig.data, sig.len, &s), 0);
		delta_mem(s, c[i].new, c[i].new_len, 7, &delta);
		sb_sig_free(s);
		assert_int_equal(
			patch_mem(c[i].old, c[i].old_len, delta.data, delta.len, &out, &size), 0);
		assert_int_equal(size, c[i].new_len);
		if (c[i].new_len)
			assert_memory_equal(out.data, c[i].new, c[i].new_len);
	}
	free_cases(c, n);
	sb_buf_release(&sig);
	sb_buf_release(&delta);
	sb_buf_release(&out);
}

/* ---- corrupt input ---- */

/* Both the patcher and the size walker reject d, each logging exactly once. */
static void expect_corrupt(const void *basis, size_t bn, const void *d, size_t dn)
{
	struct sb_buf out = SB_BUF_INIT;
	uint64_t size = 1;

	n_errors = 0;
	assert_int_equal(patch_mem(basis, bn, d, dn, &out, &size), SB_ERR_CORRUPT);
	assert_int_equal(n_errors, 1);
	assert_int_equal(size, 0);
	n_errors = 0;
	size = 1;
	assert_int_equal(size_mem(d, dn, &size), SB_ERR_CORRUPT);
	assert_int_equal(n_errors, 1);
	assert_int_equal(size, 0);
	sb_buf_release(&out);
}

static void test_delta__truncated(void **state)
{
	struct sb_buf sig = SB_BUF_INIT, delta = SB_BUF_INIT, out = SB_BUF_INIT;
	unsigned char old[3000], new[3100];
	struct sb_sig *s;
	uint64_t size;
	size_t cut;

	/* COPY, LITERAL, COPY: every kind of command */
	fill_random(old, sizeof(old), 31);
	memcpy(new, old, 1500);
	fill_random(new + 1500, 100, 32);
	memcpy(new + 1600, old + 1500, 1500);
	sig_mem(old, sizeof(old), 512, 65536, &sig);
	assert_int_equal(load_sig(sig.data, sig.len, &s), 0);
	delta_mem(s, new, sizeof(new), 65536, &delta);
	sb_sig_free(s);
	assert_true(delta.len > 100);
	assert_int_equal(patch_mem(old, sizeof(old), delta.data, delta.len, &out, &size), 0);
	assert_int_equal(size, sizeof(new));
	for (cut = 0; cut < delta.len; cut++)
		expect_corrupt(old, sizeof(old), delta.data, cut);
	sb_buf_release(&sig);
	sb_buf_release(&delta);
	sb_buf_release(&out);
}

static void test_delta__bad_commands(void **state)
{
	static const unsigned char basis[100] = {1};
	static const unsigned char bad_magic[] = {'r', 's', 0x02, 0x37, 0x01, 'x', 0x00};
	static const unsigned char bad_op[] = {'r', 's', 0x02, 0x36, 0x55, 0x00};
	static const unsigned char bad_op_ff[] = {'r', 's', 0x02, 0x36, 0x01, 'x', 0xff, 0x00};
	static const unsigned char copy_past[] = {'r', 's', 0x02, 0x36, 0x45, 0xf0, 0x10, 0x00};
	static const unsigned char copy_over[] = {'r', 's', 0x02, 0x36, 0x45, 90, 20, 0x00};
	static const unsigned char copy_zero[] = {'r', 's', 0x02, 0x36, 0x45, 0, 0, 0x00};
	static const unsigned char lit_zero[] = {'r', 's', 0x02, 0x36, 0x41, 0, 0x00};
	static const unsigned char trailing[] = {'r', 's', 0x02, 0x36, 0x01, 'x', 0x00, 0x00};
	static const unsigned char no_end[] = {'r', 's', 0x02, 0x36, 0x02, 'x', 'y'};
	static const unsigned char copy_neg[] = {'r', 's', 0x02, 0x36, 0x54, 0x80, 0, 0,
						 0,   0,   0,	 0,    0,    0,	   0, 0,
						 0,   0,   0,	 0,    1,    0x00};

	expect_corrupt(basis, sizeof(basis), bad_magic, sizeof(bad_magic));
	expect_corrupt(basis, sizeof(basis), bad_op, sizeof(bad_op));
	expect_corrupt(basis, sizeof(basis), bad_op_ff, sizeof(bad_op_ff));
	expect_corrupt(basis, sizeof(basis), copy_zero, sizeof(copy_zero));
	expect_corrupt(basis, sizeof(basis), lit_zero, sizeof(lit_zero));
	expect_corrupt(basis, sizeof(basis), trailing, sizeof(trailing));
	expect_corrupt(basis, sizeof(basis), no_end, sizeof(no_end));
	expect_corrupt(basis, sizeof(basis), copy_neg, sizeof(copy_neg));
	expect_corrupt(basis, sizeof(basis), "garbage!", 8);

	/* COPY past the basis: well-formed, so only the patcher can tell */
	{
		struct sb_buf out = SB_BUF_INIT;
		uint64_t size;

		n_errors = 0;
		assert_int_equal(
			patch_mem(basis, sizeof(basis), copy_past, sizeof(copy_past), &out, &size),
			SB_ERR_CORRUPT);
		assert_int_equal(n_errors, 1);
		n_errors = 0;
		assert_int_equal(
			patch_mem(basis, sizeof(basis), copy_over, sizeof(copy_over), &out, &size),
			SB_ERR_CORRUPT);
		assert_int_equal(n_errors, 1);
		assert_int_equal(size_mem(copy_past, sizeof(copy_past), &size), 0);
		assert_int_equal(size, 0x10);
		sb_buf_release(&out);
	}
}

static void test_delta__size_walker(void **state)
{
	/* duplicity-format.md §5 sample: COPY(0, 120000) */
	static const unsigned char chmod_only[] = {'r',	 's',  0x02, 0x36, 0x47, 0x00,
						   0x00, 0x01, 0xd4, 0xc0, 0x00};
	/* every width: LIT via 0x41..0x44, COPY 0x45 and 0x54 */
	static const unsigned char widths[] = {
		'r',  's',  0x02, 0x36, 0x03, 'a',  'b',  'c',	0x41, 0x02, 'd', 'e', 0x42, 0x00,
		0x01, 'f',  0x43, 0x00, 0x00, 0x00, 0x01, 'g',	0x44, 0,    0,	 0,   0,    0,
		0,    0,    0x01, 'h',	0x45, 0x00, 0x05, 0x54, 0,    0,    0,	 0,   0,    0,
		0,    0x02, 0,	  0,	0,    0,    0,	  0,	0,    0x03, 0x00};
	static const unsigned char overflow[] = {
		'r', 's',  0x02, 0x36, 0x54, 0, 0, 0, 0, 0, 0,	  0, 0, 0x40, 0, 0, 0, 0, 0,   0,
		0,   0x54, 0,	 0,    0,    0, 0, 0, 0, 0, 0x40, 0, 0, 0,    0, 0, 0, 0, 0x00};
	struct sb_buf out = SB_BUF_INIT;
	unsigned char basis[8] = "ABCDEFGH";
	uint64_t size;

	assert_int_equal(size_mem(chmod_only, sizeof(chmod_only), &size), 0);
	assert_int_equal(size, 120000);
	assert_int_equal(size_mem(widths, sizeof(widths), &size), 0);
	assert_int_equal(size, 3 + 2 + 1 + 1 + 1 + 5 + 3);
	assert_int_equal(patch_mem(basis, sizeof(basis), widths, sizeof(widths), &out, &size), 0);
	assert_int_equal(size, 16);
	assert_memory_equal(out.data, "abcdefghABCDECDE", 16);
	n_errors = 0;
	assert_int_equal(size_mem(overflow, sizeof(overflow), &size), SB_ERR_CORRUPT);
	assert_int_equal(n_errors, 1);
	sb_buf_release(&out);
}

static void test_delta__bad_signatures(void **state)
{
	static const unsigned char cases[][16] = {
		{0x72, 0x73, 0x01, 0x46, 0, 0, 2, 0, 0, 0, 0, 8}, /* rabin-karp: not duplicity's */
		{0x72, 0x73, 0x02, 0x36, 0, 0, 2, 0, 0, 0, 0, 8}, /* a delta */
		{0x72, 0x73, 0x01, 0x36, 0, 0, 0, 0, 0, 0, 0, 8}, /* block 0 */
		{0x72, 0x73, 0x01, 0x36, 0x7f, 0, 0, 0, 0, 0, 0, 8},	      /* huge block */
		{0x72, 0x73, 0x01, 0x36, 0, 0, 2, 0, 0, 0, 0, 0},	      /* strong 0 */
		{0x72, 0x73, 0x01, 0x36, 0, 0, 2, 0, 0, 0, 0, 17},	      /* MD4 has 16 */
		{0x72, 0x73, 0x01, 0x37, 0, 0, 2, 0, 0, 0, 0, 33},	      /* BLAKE2 has 32 */
		{0x72, 0x73, 0x01, 0x36, 0, 0, 2, 0, 0, 0, 0, 8, 1, 2, 3, 4}, /* partial record */
	};
	static const size_t lens[] = {12, 12, 12, 12, 12, 12, 12, 16};
	struct sb_buf sig = SB_BUF_INIT;
	unsigned char data[2000];
	struct sb_sig *s;
	size_t i, cut;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n_errors = 0;
		s = (struct sb_sig *)1;
		assert_int_equal(load_sig(cases[i], lens[i], &s), SB_ERR_CORRUPT);
		assert_null(s);
		assert_int_equal(n_errors, 1);
	}
	/* a real signature cut anywhere but on a record boundary */
	fill_random(data, sizeof(data), 41);
	sig_mem(data, sizeof(data), 512, 65536, &sig);
	for (cut = 0; cut < sig.len; cut++) {
		n_errors = 0;
		if (cut >= 12 && (cut - 12) % 12 == 0) {
			assert_int_equal(load_sig(sig.data, cut, &s), 0);
			sb_sig_free(s);
			continue;
		}
		assert_int_equal(load_sig(sig.data, cut, &s), SB_ERR_CORRUPT);
		assert_int_equal(n_errors, 1);
	}
	sb_buf_release(&sig);
}

/* A job that failed keeps failing, quietly. */
static int fail_write(void *ctx, const void *buf, size_t len)
{
	sb_error("test: write refused");
	return SB_ERR_NOSPACE;
}

static void test_delta__writer_error(void **state)
{
	struct sb_writer w = {fail_write, NULL};
	unsigned char data[1000];
	struct sb_sig_gen *g;

	fill_random(data, sizeof(data), 51);
	assert_int_equal(sb_sig_gen_new(512, &g), 0);
	n_errors = 0;
	/* under one slice: buffered, nothing written yet */
	assert_int_equal(sb_sig_gen_update(g, data, sizeof(data), &w), 0);
	assert_int_equal(sb_sig_gen_finish(g, &w), SB_ERR_NOSPACE);
	assert_int_equal(sb_sig_gen_finish(g, &w), SB_ERR_NOSPACE);
	assert_int_equal(sb_sig_gen_update(g, data, sizeof(data), &w), SB_ERR_NOSPACE);
	assert_int_equal(n_errors, 1);
	sb_sig_gen_free(g);
}

/* ---- throughput ---- */

struct count_sink {
	uint64_t n;
};

static int count_write(void *ctx, const void *buf, size_t len)
{
	((struct count_sink *)ctx)->n += len;
	return 0;
}

static void test_delta__throughput(void **state)
{
	const char *env = getenv("SB_DELTA_BENCH_MB");
	size_t mb = env ? (size_t)atoi(env) : 2, len = mb << 20, i, j;
	struct sb_buf sig = SB_BUF_INIT, delta = SB_BUF_INIT, out = SB_BUF_INIT;
	struct count_sink sink = {0};
	struct sb_writer w = {count_write, &sink};
	unsigned char *old, *new;
	struct sb_sig_gen *g;
	struct sb_sig *s;
	uint32_t bl = sb_sig_block_len(len);
	double t0, t_sig, t_delta;
	uint64_t size;

	assert_true(mb > 0);
	old = rand_buf(len, 61);
	new = malloc(len);
	assert_non_null(new);
	memcpy(new, old, len);
	/* scatter edits: one changed run of 100 bytes per 256 KiB */
	for (i = 0; i < len; i += 256 * 1024)
		for (j = i + 1000; j < i + 1100 && j < len; j++)
			new[j] ^= 0x5a;

	t0 = now();
	assert_int_equal(sb_sig_gen_new(bl, &g), 0);
	for (i = 0; i < len; i += 65536)
		assert_int_equal(
			sb_sig_gen_update(g, old + i, len - i < 65536 ? len - i : 65536, &w), 0);
	assert_int_equal(sb_sig_gen_finish(g, &w), 0);
	sb_sig_gen_free(g);
	t_sig = now() - t0;
	assert_int_equal(sink.n, 12 + 12 * ((len + bl - 1) / bl));

	sig_mem(old, len, bl, 65536, &sig);
	assert_int_equal(load_sig(sig.data, sig.len, &s), 0);
	t0 = now();
	delta_mem(s, new, len, 65536, &delta);
	t_delta = now() - t0;
	sb_sig_free(s);

	assert_int_equal(patch_mem(old, len, delta.data, delta.len, &out, &size), 0);
	assert_int_equal(size, len);
	assert_memory_equal(out.data, new, len);
	assert_int_equal(size_mem(delta.data, delta.len, &size), 0);
	assert_int_equal(size, len);
	printf("delta throughput on %zu MiB (block %u): signature %.1f MB/s, "
	       "delta %.1f MB/s, delta %zu bytes\n",
	       mb, (unsigned)bl, (double)len / 1e6 / t_sig, (double)len / 1e6 / t_delta, delta.len);
	free(old);
	free(new);
	sb_buf_release(&sig);
	sb_buf_release(&delta);
	sb_buf_release(&out);
}

/* ---- fixture ---- */

static int group_setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	sb_log_set_handler(count_log, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	run("rm -rf '%s'", tmpdir);
	sb_log_set_handler(NULL, NULL);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta__block_len),
		cmocka_unit_test(test_delta__sig_matches_rdiff),
		cmocka_unit_test(test_delta__sig_header),
		cmocka_unit_test(test_delta__round_trip),
		cmocka_unit_test(test_delta__slow_readers),
		cmocka_unit_test(test_delta__rdiff_interop),
		cmocka_unit_test(test_delta__truncated),
		cmocka_unit_test(test_delta__bad_commands),
		cmocka_unit_test(test_delta__size_walker),
		cmocka_unit_test(test_delta__bad_signatures),
		cmocka_unit_test(test_delta__writer_error),
		cmocka_unit_test(test_delta__throughput),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
