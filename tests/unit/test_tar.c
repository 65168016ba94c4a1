/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_tar.c - tar writer byte-compared with Python's tarfile (fixtures from
 * tests/data/tar/make_fixtures.py), reader against Python's view of the
 * fixtures (manifest.txt), round trips, truncation, garbage, buffer sweeps.
 */
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
#include "sealbox/log.h"
#include "sealbox/tar.h"

/* ---- helpers ---- */

static int log_count;

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
	log_count++;
}

static int setup(void **state)
{
	(void)state;
	sb_log_set_handler(count_log, NULL);
	log_count = 0;
	return 0;
}

static void load(const char *name, struct sb_buf *out)
{
	const char *dir = getenv("SB_TEST_DATA");
	char path[4096];
	char tmp[65536];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tar/%s", dir ? dir : "tests/data", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	sb_buf_reset(out);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		assert_int_equal(sb_buf_add(out, tmp, n), 0);
	fclose(f);
}

/* A memory source returning at most max bytes a call, counting pulls. */
struct src {
	const unsigned char *p;
	size_t len, pos, max;
};

static ssize_t src_read(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->pos;

	if (n > len)
		n = len;
	if (n > s->max)
		n = s->max;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static struct sb_tar_reader *reader_over(struct src *s, const void *p, size_t len, size_t max)
{
	struct sb_tar_reader *r;

	s->p = p;
	s->len = len;
	s->pos = 0;
	s->max = max ? max : SIZE_MAX;
	r = sb_tar_reader_new((struct sb_reader){src_read, s});
	assert_non_null(r);
	return r;
}

static void set_name(struct sb_buf *b, const char *s)
{
	assert_int_equal(sb_buf_set(b, s, strlen(s)), 0);
}

static void add_rep(struct sb_buf *b, int c, size_t n)
{
	while (n--)
		assert_int_equal(sb_buf_addch(b, c), 0);
}

static void defaults(struct sb_tar_entry *e)
{
	sb_tar_entry_clear(e);
	e->mode = 0644;
	e->uid = e->gid = 1000;
	strcpy(e->uname, "user");
	strcpy(e->gname, "group");
	e->mtime = 1700000000;
}

/* The cases of make_fixtures.py PAX_CASES, in the same order. */
static const char *const pax_cases[] = {
	"short", "long", "utf8", "latin1",  "mixed",   "symlink", "hardlink", "dir",	"root",
	"fifo",	 "chr",	 "blk",	 "newline", "name100", "name101", "ids",      "future", "deleted",
};
#define NCASES (sizeof(pax_cases) / sizeof(pax_cases[0]))

static void make_case(size_t i, struct sb_tar_entry *e, struct sb_buf *data)
{
	const char *c = pax_cases[i];

	defaults(e);
	sb_buf_reset(data);
	if (!strcmp(c, "short")) {
		set_name(&e->name, "snapshot/a.txt");
		sb_buf_addstr(data, "hello\n");
	} else if (!strcmp(c, "long")) {
		set_name(&e->name, "snapshot/");
		add_rep(&e->name, 'd', 150);
		add_rep(&e->name, '/', 1);
		add_rep(&e->name, 'f', 140);
		sb_buf_addstr(data, "x");
	} else if (!strcmp(c, "utf8")) {
		set_name(&e->name, "snapshot/\xc3\xbcn\xc3\xaf"
				   "c\xc3\xb8"
				   "d\xc3\xa9-\xe5\x90\x8d\xe5\x89\x8d.txt");
		sb_buf_addstr(data, "u");
	} else if (!strcmp(c, "latin1")) {
		set_name(&e->name, "snapshot/latin1-\xe9.txt");
		sb_buf_addstr(data, "l");
	} else if (!strcmp(c, "mixed")) {
		set_name(&e->name, "snapshot/\xe2\x82"
				   "x\xed\xa0\x80\xf0\x9f\x98\x80\xc3\xa9\xff.txt");
		add_rep(&e->name, 'm', 100);
		strcpy(e->uname, "\xe9user");
	} else if (!strcmp(c, "symlink")) {
		set_name(&e->name, "snapshot/link");
		e->type = SB_TAR_SYMLINK;
		e->mode = 0777;
		set_name(&e->linkname, "../");
		add_rep(&e->linkname, 't', 200);
	} else if (!strcmp(c, "hardlink")) {
		set_name(&e->name, "snapshot/hard");
		e->type = SB_TAR_HARDLINK;
		set_name(&e->linkname, "snapshot/a.txt");
	} else if (!strcmp(c, "dir")) {
		set_name(&e->name, "snapshot/dir"); /* the writer adds the '/' */
		e->type = SB_TAR_DIR;
		e->mode = 02755;
	} else if (!strcmp(c, "root")) {
		set_name(&e->name, "snapshot/./");
		e->type = SB_TAR_DIR;
		e->mode = 0755;
		e->uid = e->gid = 0;
		strcpy(e->uname, "root");
		strcpy(e->gname, "root");
	} else if (!strcmp(c, "fifo")) {
		set_name(&e->name, "snapshot/fifo");
		e->type = SB_TAR_FIFO;
		e->mode = 0600;
	} else if (!strcmp(c, "chr")) {
		set_name(&e->name, "snapshot/null");
		e->type = SB_TAR_CHR;
		e->mode = 0666;
		e->devmajor = 1;
		e->devminor = 3;
	} else if (!strcmp(c, "blk")) {
		set_name(&e->name, "snapshot/sda");
		e->type = SB_TAR_BLK;
		e->mode = 0660;
		e->devmajor = 8;
		e->devminor = 1048575;
	} else if (!strcmp(c, "newline")) {
		set_name(&e->name, "snapshot/new\nline.txt");
		sb_buf_addstr(data, "n");
	} else if (!strcmp(c, "name100") || !strcmp(c, "name101")) {
		set_name(&e->name, "snapshot/");
		add_rep(&e->name, 'c', c[6] == '0' ? 91 : 92);
	} else if (!strcmp(c, "ids")) {
		set_name(&e->name, "snapshot/ids");
		e->uid = 3000000;
		e->gid = 2097151;
		memset(e->uname, 'u', 40);
		strcpy(e->gname, "gr\xc3\xbcppe");
		e->mtime = -5;
		e->mode = 04755;
	} else if (!strcmp(c, "future")) {
		set_name(&e->name, "snapshot/future");
		e->mtime = (1ll << 33) + 5;
		e->uname[0] = e->gname[0] = '\0';
	} else if (!strcmp(c, "deleted")) {
		set_name(&e->name, "deleted/gone");
		e->mode = 0;
		e->uid = e->gid = 0;
		e->uname[0] = e->gname[0] = '\0';
		e->mtime = 0;
	} else {
		fail_msg("unknown case %s", c);
	}
	e->size = data->len;
}

static void write_member(struct sb_tar_writer *w, const struct sb_tar_entry *e,
			 const struct sb_buf *data)
{
	assert_int_equal(sb_tar_write_header(w, e), 0);
	assert_int_equal(sb_tar_write_data(w, data->data, data->len), 0);
	assert_int_equal(sb_tar_write_pad(w), 0);
}

static void assert_same_bytes(const struct sb_buf *got, const struct sb_buf *want, const char *what)
{
	size_t i;

	for (i = 0; i < got->len && i < want->len; i++)
		if (got->data[i] != want->data[i])
			fail_msg("%s: byte %zu differs: got 0x%02x want 0x%02x", what, i,
				 got->data[i], want->data[i]);
	if (got->len != want->len)
		fail_msg("%s: length %zu, want %zu", what, got->len, want->len);
}

/* ---- writer vs Python ---- */

static void test_write_matches_python(void **state)
{
	struct sb_buf out = SB_BUF_INIT, want = SB_BUF_INIT, data = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_writer w;
	char fn[64];
	size_t i;

	(void)state;
	sb_tar_entry_init(&e);
	for (i = 0; i < NCASES; i++) {
		make_case(i, &e, &data);
		sb_buf_reset(&out);
		sb_tar_writer_init(&w, (struct sb_writer){sb_buf_write, &out});
		write_member(&w, &e, &data);
		assert_int_equal(w.offset, out.len);
		snprintf(fn, sizeof(fn), "pax_%s.tar", pax_cases[i]);
		load(fn, &want);
		assert_same_bytes(&out, &want, fn);
	}
	sb_tar_entry_release(&e);
	sb_buf_release(&out);
	sb_buf_release(&want);
	sb_buf_release(&data);
}

static void test_write_archive_matches_python(void **state)
{
	struct sb_buf out = SB_BUF_INIT, want = SB_BUF_INIT, data = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_writer w;
	size_t i;

	(void)state;
	sb_tar_entry_init(&e);
	sb_tar_writer_init(&w, (struct sb_writer){sb_buf_write, &out});
	for (i = 0; i < NCASES; i++) {
		make_case(i, &e, &data);
		write_member(&w, &e, &data);
	}
	assert_int_equal(sb_tar_write_end_record(&w), 0);
	assert_int_equal(w.offset % 10240, 0);
	load("pax_all.tar", &want);
	assert_same_bytes(&out, &want, "pax_all.tar");
	sb_tar_entry_release(&e);
	sb_buf_release(&out);
	sb_buf_release(&want);
	sb_buf_release(&data);
}

static void test_write_bigsize_header(void **state)
{
	struct sb_buf out = SB_BUF_INIT, want = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_writer w;

	(void)state;
	sb_tar_entry_init(&e);
	defaults(&e);
	set_name(&e.name, "snapshot/huge");
	e.size = 9000000000ull;
	sb_tar_writer_init(&w, (struct sb_writer){sb_buf_write, &out});
	assert_int_equal(sb_tar_write_header(&w, &e), 0);
	load("pax_bigsize.hdr", &want);
	assert_same_bytes(&out, &want, "pax_bigsize.hdr");
	sb_tar_entry_release(&e);
	sb_buf_release(&out);
	sb_buf_release(&want);
}

static void test_write_end_and_pad(void **state)
{
	struct sb_buf out = SB_BUF_INIT;
	struct sb_tar_writer w;
	size_t i;

	(void)state;
	sb_tar_writer_init(&w, (struct sb_writer){sb_buf_write, &out});
	assert_int_equal(sb_tar_write_pad(&w), 0);
	assert_int_equal(w.offset, 0);
	assert_int_equal(sb_tar_write_data(&w, "abc", 3), 0);
	assert_int_equal(sb_tar_write_pad(&w), 0);
	assert_int_equal(w.offset, 512);
	assert_int_equal(sb_tar_write_end(&w), 0);
	assert_int_equal(w.offset, 1536);
	assert_int_equal(out.len, 1536);
	for (i = 3; i < out.len; i++)
		assert_int_equal(out.data[i], 0);
	assert_int_equal(sb_tar_write_end_record(&w), 0);
	assert_int_equal(w.offset, 10240);
	sb_buf_release(&out);
}

static void test_write_bad_device(void **state)
{
	struct sb_buf out = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_writer w;

	(void)state;
	sb_tar_entry_init(&e);
	set_name(&e.name, "dev");
	e.type = SB_TAR_CHR;
	e.devmajor = 1u << 21;
	sb_tar_writer_init(&w, (struct sb_writer){sb_buf_write, &out});
	assert_int_equal(sb_tar_write_header(&w, &e), SB_ERR_PARAM);
	assert_int_equal(log_count, 1);
	sb_tar_entry_release(&e);
	sb_buf_release(&out);
}

/* ---- reader vs Python's view (manifest.txt) ---- */

static void hex_or_dash(const char *hex, struct sb_buf *out)
{
	unsigned v;

	sb_buf_reset(out);
	if (!strcmp(hex, "-"))
		return;
	for (; hex[0] && hex[1]; hex += 2) {
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		sb_buf_addch(out, (int)v);
	}
}

static void check_manifest_line(const struct sb_tar_entry *e, char *line)
{
	char file[64], type[4], nh[2048], lh[2048], uh[1024], gh[1024];
	unsigned long long off, doff, mode, uid, gid, size, dmaj, dmin;
	long long mtime;
	struct sb_buf want = SB_BUF_INIT;
	size_t nlen = e->name.len;

	assert_int_equal(
		sscanf(line,
		       "%63s %llu %llu %3s %llu %llu %llu %lld %llu %llu %llu %2047s %2047s %1023s %1023s",
		       file, &off, &doff, type, &mode, &uid, &gid, &mtime, &size, &dmaj, &dmin, nh,
		       lh, uh, gh),
		15);
	assert_int_equal(e->offset, off);
	assert_int_equal(e->data_offset, doff);
	assert_int_equal(e->type, type[0]);
	assert_int_equal(e->mode, mode);
	assert_int_equal(e->uid, uid);
	assert_int_equal(e->gid, gid);
	assert_int_equal(e->mtime, mtime);
	assert_int_equal(e->size, size);
	assert_int_equal(e->devmajor, dmaj);
	assert_int_equal(e->devminor, dmin);
	/* Python strips trailing slashes of directory names (pax and ustar). */
	while (nlen && e->name.data[nlen - 1] == '/' && e->type == SB_TAR_DIR)
		nlen--;
	hex_or_dash(nh, &want);
	assert_int_equal(nlen, want.len);
	assert_memory_equal(e->name.data, want.data, nlen);
	hex_or_dash(lh, &want);
	assert_int_equal(e->linkname.len, want.len);
	assert_memory_equal(e->linkname.data, want.data, want.len);
	hex_or_dash(uh, &want);
	assert_string_equal(e->uname, sb_buf_str(&want));
	hex_or_dash(gh, &want);
	assert_string_equal(e->gname, sb_buf_str(&want));
	sb_buf_release(&want);
}

/* Read every member of fn; read data of every other member only (the rest
 * is skipped by next()). Compares with the manifest lines of fn. */
static void read_fixture(const char *fn, char **lines, size_t nlines)
{
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_reader *r;
	struct src s;
	char buf[100];
	size_t i = 0, k, pfx = strlen(fn);
	uint64_t total;
	ssize_t n;
	int rc;

	load(fn, &tar);
	sb_tar_entry_init(&e);
	r = reader_over(&s, tar.data, tar.len, 0);
	while ((rc = sb_tar_reader_next(r, &e)) == 1) {
		while (i < nlines && !(strncmp(lines[i], fn, pfx) == 0 && lines[i][pfx] == ' '))
			i++;
		if (i == nlines)
			fail_msg("%s: more members than Python sees", fn);
		check_manifest_line(&e, lines[i++]);
		if (i % 2) {
			total = 0;
			while ((n = sb_tar_reader_read(r, buf, sizeof(buf))) > 0)
				total += (uint64_t)n;
			assert_int_equal(n, 0);
			assert_int_equal(total, e.size);
		}
	}
	assert_int_equal(rc, 0);
	for (k = i; k < nlines; k++)
		if (strncmp(lines[k], fn, pfx) == 0 && lines[k][pfx] == ' ')
			fail_msg("%s: fewer members than Python sees", fn);
	assert_int_equal(log_count, 0);
	sb_tar_reader_free(r);
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

static void test_read_matches_python(void **state)
{
	struct sb_buf man = SB_BUF_INIT;
	char *lines[256], *p, *nl, prev[64] = "";
	size_t n = 0, i, checked = 0;

	(void)state;
	load("manifest.txt", &man);
	for (p = (char *)man.data; *p && n < 256; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		lines[n++] = p;
	}
	for (i = 0; i < n; i++) {
		char fn[64];

		assert_int_equal(sscanf(lines[i], "%63s", fn), 1);
		if (!strcmp(fn, prev))
			continue;
		strcpy(prev, fn);
		read_fixture(fn, lines, n);
		checked++;
	}
	assert_true(checked >= 24);
	sb_buf_release(&man);
}

static void test_read_big_size_headers(void **state)
{
	static const char *const files[] = {"pax_bigsize.hdr", "gnu_bigsize.hdr"};
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_reader *r;
	struct src s;
	char buf[16];
	size_t i;

	(void)state;
	sb_tar_entry_init(&e);
	for (i = 0; i < 2; i++) {
		load(files[i], &tar);
		r = reader_over(&s, tar.data, tar.len, 0);
		assert_int_equal(sb_tar_reader_next(r, &e), 1);
		assert_int_equal(e.size, 9000000000ull);
		assert_int_equal(e.data_offset, tar.len);
		log_count = 0;
		assert_int_equal(sb_tar_reader_read(r, buf, sizeof(buf)), SB_ERR_CORRUPT);
		assert_int_equal(sb_tar_reader_next(r, &e), SB_ERR_CORRUPT); /* sticky */
		assert_int_equal(log_count, 1);
		sb_tar_reader_free(r);
	}
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

/* ---- round trip ---- */

#define NRT 12

static void make_rt(int i, struct sb_tar_entry *e, struct sb_buf *data)
{
	size_t k;

	defaults(e);
	sb_buf_reset(data);
	sb_buf_addf(&e->name, "rt/%d", i);
	switch (i) {
	case 0: /* data larger than the reader's buffer */
		for (k = 0; k < 200000; k++)
			sb_buf_addch(data, (int)(k * 7 + k / 251));
		break;
	case 1:
		e->type = SB_TAR_DIR;
		e->mode = 01777;
		sb_buf_addch(&e->name, '/');
		break;
	case 2:
		e->type = SB_TAR_SYMLINK;
		e->mode = 0777;
		add_rep(&e->linkname, 'L', 300);
		break;
	case 3:
		e->type = SB_TAR_HARDLINK;
		set_name(&e->linkname, "rt/0");
		break;
	case 4:
		e->type = SB_TAR_CHR;
		e->devmajor = 2097151;
		e->devminor = 0;
		break;
	case 5:
		e->type = SB_TAR_BLK;
		e->devmajor = 259;
		e->devminor = 65536;
		break;
	case 6:
		e->type = SB_TAR_FIFO;
		e->mode = 06000;
		break;
	case 7:
		e->uid = 1ull << 40;
		e->gid = 4294967294u;
		e->mtime = -123456789;
		memset(e->uname, 'x', 255);
		strcpy(e->gname, "\xff\xfe");
		sb_buf_addstr(data, "ids");
		break;
	case 8:
		e->mtime = 1ll << 40;
		sb_buf_set(&e->name, "\xe9\n\x01/", 4);
		add_rep(&e->name, 'z', 5000);
		break;
	case 9: /* exactly one block of data */ add_rep(data, 'b', 512); break;
	case 10: sb_buf_addstr(data, ""); break;
	default:
		e->mode = 07777;
		add_rep(data, 'q', 513);
		break;
	}
	e->size = data->len;
}

static void build_rt(struct sb_buf *out, bool end)
{
	struct sb_tar_entry e;
	struct sb_buf data = SB_BUF_INIT;
	struct sb_tar_writer w;
	int i;

	sb_tar_entry_init(&e);
	sb_tar_writer_init(&w, (struct sb_writer){sb_buf_write, out});
	for (i = 0; i < NRT; i++) {
		make_rt(i, &e, &data);
		write_member(&w, &e, &data);
	}
	if (end)
		assert_int_equal(sb_tar_write_end(&w), 0);
	assert_int_equal(w.offset, out->len);
	sb_tar_entry_release(&e);
	sb_buf_release(&data);
}

/* Read the round-trip archive with src chunks of max bytes, caller reads of
 * rd bytes, and compare with what was written. */
static void check_rt(const struct sb_buf *tar, size_t max, size_t rd)
{
	struct sb_tar_entry e, want;
	struct sb_buf data = SB_BUF_INIT, got = SB_BUF_INIT;
	struct sb_tar_reader *r;
	unsigned char *buf = malloc(rd);
	struct src s;
	ssize_t n;
	int i;

	assert_non_null(buf);
	sb_tar_entry_init(&e);
	sb_tar_entry_init(&want);
	r = reader_over(&s, tar->data, tar->len, max);
	for (i = 0; i < NRT; i++) {
		make_rt(i, &want, &data);
		assert_int_equal(sb_tar_reader_next(r, &e), 1);
		assert_int_equal(e.name.len, want.name.len);
		assert_memory_equal(e.name.data, want.name.data, e.name.len);
		assert_int_equal(e.linkname.len, want.linkname.len);
		if (e.linkname.len)
			assert_memory_equal(e.linkname.data, want.linkname.data, e.linkname.len);
		assert_int_equal(e.type, want.type);
		assert_int_equal(e.mode, want.mode);
		assert_int_equal(e.uid, want.uid);
		assert_int_equal(e.gid, want.gid);
		assert_int_equal(e.mtime, want.mtime);
		assert_int_equal(e.size, want.size);
		assert_string_equal(e.uname, want.uname);
		assert_string_equal(e.gname, want.gname);
		assert_int_equal(e.devmajor, want.devmajor);
		assert_int_equal(e.devminor, want.devminor);
		assert_int_equal(e.data_offset % 512, 0);
		sb_buf_reset(&got);
		while ((n = sb_tar_reader_read(r, buf, rd)) > 0)
			sb_buf_add(&got, buf, (size_t)n);
		assert_int_equal(n, 0);
		assert_int_equal(got.len, data.len);
		if (got.len)
			assert_memory_equal(got.data, data.data, got.len);
		assert_int_equal(sb_tar_reader_offset(r), e.data_offset + e.size);
	}
	assert_int_equal(sb_tar_reader_next(r, &e), 0);
	assert_int_equal(sb_tar_reader_next(r, &e), 0);
	assert_int_equal(sb_tar_reader_offset(r), s.pos);
	sb_tar_reader_free(r);
	sb_tar_entry_release(&e);
	sb_tar_entry_release(&want);
	sb_buf_release(&data);
	sb_buf_release(&got);
	free(buf);
}

static void test_round_trip(void **state)
{
	struct sb_buf tar = SB_BUF_INIT;

	(void)state;
	build_rt(&tar, true);
	check_rt(&tar, 0, 65536);
	assert_int_equal(log_count, 0);
	sb_buf_release(&tar);
}

static void test_buffer_sweep(void **state)
{
	static const size_t maxes[] = {1, 2, 3, 511, 512, 513, 4096, 65535, 65536, 65537, 1 << 20};
	static const size_t rds[] = {1, 7, 512, 16384, 70000, 1 << 20};
	struct sb_buf tar = SB_BUF_INIT;
	size_t i, j;

	(void)state;
	build_rt(&tar, false);
	for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++)
		for (j = 0; j < sizeof(rds) / sizeof(rds[0]); j++)
			if (!(maxes[i] < 4 && rds[j] < 4)) /* 1x1 below */
				check_rt(&tar, maxes[i], rds[j]);
	check_rt(&tar, 1, 1);
	assert_int_equal(log_count, 0);
	sb_buf_release(&tar);
}

/* ---- end detection, truncation, garbage ---- */

static void test_missing_end_marker(void **state)
{
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_reader *r;
	struct src s;

	(void)state;
	sb_tar_entry_init(&e);
	load("pax_short.tar", &tar);
	r = reader_over(&s, tar.data, tar.len, 0);
	assert_int_equal(sb_tar_reader_next(r, &e), 1);
	assert_int_equal(sb_tar_reader_next(r, &e), 0);
	assert_int_equal(sb_tar_reader_offset(r), 1024);
	sb_tar_reader_free(r);
	/* an empty stream is an empty archive */
	r = reader_over(&s, tar.data, 0, 0);
	assert_int_equal(sb_tar_reader_next(r, &e), 0);
	sb_tar_reader_free(r);
	assert_int_equal(log_count, 0);
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

static void test_zero_block_then_garbage(void **state)
{
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_reader *r;
	struct src s;
	size_t max;

	(void)state;
	sb_tar_entry_init(&e);
	load("pax_long.tar", &tar); /* pax header + header + 1 data block */
	add_rep(&tar, 0, 512);
	add_rep(&tar, 0xab, 5000);
	for (max = 1; max <= 1 << 20; max *= 7) {
		r = reader_over(&s, tar.data, tar.len, max);
		assert_int_equal(sb_tar_reader_next(r, &e), 1);
		assert_int_equal(e.offset, 0);
		assert_int_equal(e.data_offset, 1536);
		/* data left unread: next() skips it */
		assert_int_equal(sb_tar_reader_next(r, &e), 0);
		assert_int_equal(sb_tar_reader_next(r, &e), 0);
		assert_int_equal(sb_tar_reader_offset(r), 2560);
		assert_int_equal(s.pos, 2560); /* nothing after the zero block was pulled */
		sb_tar_reader_free(r);
	}
	assert_int_equal(log_count, 0);
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

/* Every prefix of pax_all.tar: a clean end exactly at member boundaries
 * (and once the first zero block is complete), SB_ERR_CORRUPT otherwise,
 * with exactly one log line. */
static void test_truncated_everywhere(void **state)
{
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_reader *r;
	struct src s;
	uint64_t bounds[64], last_end = 0;
	size_t nb = 0, len, i, nmembers = 0;
	char buf[4096];
	ssize_t n;
	int rc;
	bool clean;

	(void)state;
	sb_tar_entry_init(&e);
	load("pax_all.tar", &tar);
	r = reader_over(&s, tar.data, tar.len, 0);
	while ((rc = sb_tar_reader_next(r, &e)) == 1) {
		bounds[nb++] = e.offset;
		last_end = e.data_offset + (e.size + 511) / 512 * 512;
	}
	assert_int_equal(rc, 0);
	bounds[nb++] = last_end;
	sb_tar_reader_free(r);

	for (len = 0; len <= tar.len; len++) {
		clean = len >= last_end + 512;
		for (i = 0; i < nb; i++)
			clean = clean || bounds[i] == len;
		log_count = 0;
		nmembers = 0;
		r = reader_over(&s, tar.data, len, len % 3 ? 0 : 100);
		while ((rc = sb_tar_reader_next(r, &e)) == 1) {
			nmembers++;
			while ((n = sb_tar_reader_read(r, buf, len % 2 ? sizeof(buf) : 3)) > 0)
				;
			if (n < 0) {
				rc = (int)n;
				break;
			}
		}
		if (clean) {
			if (rc != 0)
				fail_msg("prefix %zu: rc %d, want clean end", len, rc);
		} else if (rc != SB_ERR_CORRUPT) {
			fail_msg("prefix %zu: rc %d, want corrupt", len, rc);
		}
		assert_int_equal(log_count, clean ? 0 : 1);
		assert_true(nmembers <= NCASES);
		sb_tar_reader_free(r);
	}
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

/* ---- malformed headers ---- */

static void put_oct(unsigned char *b, size_t off, size_t width, unsigned long long v)
{
	snprintf((char *)b + off, width, "%0*llo", (int)width - 1, v);
}

static void set_sum(unsigned char *b, bool sign)
{
	long sum = 0;
	int i;

	memset(b + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += sign ? (signed char)b[i] : b[i];
	snprintf((char *)b + 148, 7, "%06lo", (unsigned long)sum & 0777777ul); /* 6 octal digits */
}

/* Append a header block of the given type and size (valid checksum). */
static unsigned char *add_hdr(struct sb_buf *t, const char *name, char type, uint64_t size)
{
	unsigned char *b;

	add_rep(t, 0, 512);
	b = t->data + t->len - 512;
	strncpy((char *)b, name, 100);
	put_oct(b, 100, 8, 0644);
	put_oct(b, 108, 8, 0);
	put_oct(b, 116, 8, 0);
	put_oct(b, 124, 12, size);
	put_oct(b, 136, 12, 0);
	b[156] = (unsigned char)type;
	memcpy(b + 257,
	       "ustar\0"
	       "00",
	       8);
	set_sum(b, false);
	return b;
}

static void add_payload(struct sb_buf *t, const void *p, size_t n)
{
	sb_buf_add(t, p, n);
	add_rep(t, 0, -n % 512);
}

/* An archive: one extension header of type t with payload p, then "file". */
static void ext_archive(struct sb_buf *tar, char t, const char *p, size_t n)
{
	sb_buf_reset(tar);
	add_hdr(tar, "././@PaxHeader", t, n);
	add_payload(tar, p, n);
	add_hdr(tar, "file", '0', 0);
}

static int read_one(const struct sb_buf *tar, struct sb_tar_entry *e)
{
	struct sb_tar_reader *r;
	struct src s;
	int rc;

	log_count = 0;
	r = reader_over(&s, tar->data, tar->len, 0);
	rc = sb_tar_reader_next(r, e);
	sb_tar_reader_free(r);
	assert_int_equal(log_count, rc < 0 ? 1 : 0);
	return rc;
}

static void test_bad_checksum(void **state)
{
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	unsigned char *b;

	(void)state;
	sb_tar_entry_init(&e);
	load("pax_short.tar", &tar);
	tar.data[0] ^= 1;
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	/* signed and unsigned sums over high-bit bytes are both accepted */
	sb_buf_reset(&tar);
	b = add_hdr(&tar, "hi", '0', 0);
	memset(b + 500, 0xff, 12);
	set_sum(b, true);
	assert_int_equal(read_one(&tar, &e), 1);
	set_sum(b, false);
	assert_int_equal(read_one(&tar, &e), 1);
	b[148 + 5] ^= 1;
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

static void test_pax_records(void **state)
{
	static const struct {
		const char *rec;
		int rc;
	} cases[] = {
		{"9 path=x\n", 1},
		{"99 path=x\n", SB_ERR_CORRUPT},
		{"3 path=x\n", SB_ERR_CORRUPT},
		{"0 path=x\n", SB_ERR_CORRUPT},
		{"9 pathxx\n", SB_ERR_CORRUPT},
		{"9 path=xy", SB_ERR_CORRUPT},
		{"9path=xy\n", SB_ERR_CORRUPT},
		{"5 =x\n", SB_ERR_CORRUPT},
		{"12 size=abc\n", SB_ERR_CORRUPT},
		{"32 size=99999999999999999999999\n", SB_ERR_CORRUPT},
		{"11 size=-1\n", SB_ERR_CORRUPT},
		{"9 uid=12\n", 1},
		{"7 uid=\n", SB_ERR_CORRUPT},
		{"11 mtime=-\n", SB_ERR_CORRUPT},
		{"13 mtime=1e5\n", SB_ERR_CORRUPT},
		{"14 mtime=1.x5\n", SB_ERR_CORRUPT},
		{"9 path=x\n\0\0\0", 1},
		{"9 path=x\nxyz", 1}, /* stops at a byte that cannot start a record */
		{"9 path=x\n12", SB_ERR_CORRUPT},
		{"14 comment=hi\n", 1},
		{"17 comment=a=b\nc\n", 1},
		{"10 a=\xff\xfe\x00z\n", 1},
	};
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	size_t i;

	(void)state;
	sb_tar_entry_init(&e);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].rec);

		if (i == 16)
			n += 3;
		if (i == sizeof(cases) / sizeof(cases[0]) - 1)
			n = 10;
		ext_archive(&tar, 'x', cases[i].rec, n);
		if (read_one(&tar, &e) != cases[i].rc)
			fail_msg("pax case %zu (%s): want %d", i, cases[i].rec, cases[i].rc);
	}
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

static void test_pax_values(void **state)
{
	static const struct {
		const char *rec;
		int64_t mtime;
	} mt[] = {{"13 mtime=1.5\n", 1},
		  {"14 mtime=-1.5\n", -1},
		  {"12 mtime=.5\n", 0},
		  {"11 mtime=5\n", 5},
		  {"12 mtime=5.\n", 5},
		  {"13 mtime=-.5\n", 0},
		  {"30 mtime=-9223372036854775807\n", -INT64_MAX}};
	struct sb_buf tar = SB_BUF_INIT, p = SB_BUF_INIT;
	struct sb_tar_entry e;
	size_t i;

	(void)state;
	sb_tar_entry_init(&e);
	for (i = 0; i < sizeof(mt) / sizeof(mt[0]); i++) {
		ext_archive(&tar, 'x', mt[i].rec, strlen(mt[i].rec));
		assert_int_equal(read_one(&tar, &e), 1);
		assert_int_equal(e.mtime, mt[i].mtime);
	}
	/* later records win inside one header; x beats g; the first x wins */
	sb_buf_reset(&tar);
	add_hdr(&tar, "g", 'g', 25);
	add_payload(&tar, "12 uname=g1\n13 gname=gg1\n", 25);
	add_hdr(&tar, "x", 'x', 24);
	add_payload(&tar, "12 uname=x1\n12 uname=x2\n", 24);
	add_hdr(&tar, "x", 'x', 24);
	add_payload(&tar, "12 uname=x3\n12 path=abc\n", 24);
	add_hdr(&tar, "file", '0', 0);
	add_hdr(&tar, "file2", '0', 0);
	{
		struct sb_tar_reader *r;
		struct src s;

		r = reader_over(&s, tar.data, tar.len, 0);
		assert_int_equal(sb_tar_reader_next(r, &e), 1);
		assert_string_equal(e.uname, "x2");
		assert_string_equal(e.gname, "gg1");
		assert_string_equal(sb_buf_str(&e.name), "abc");
		assert_int_equal(e.offset, 1024); /* the g header is not part of it */
		assert_int_equal(sb_tar_reader_next(r, &e), 1);
		assert_string_equal(e.uname, "g1");
		assert_string_equal(sb_buf_str(&e.name), "file2");
		assert_int_equal(sb_tar_reader_next(r, &e), 0);
		sb_tar_reader_free(r);
	}
	/* uname of 256 bytes does not fit */
	sb_buf_reset(&p);
	sb_buf_addstr(&p, "267 uname=");
	add_rep(&p, 'u', 256);
	sb_buf_addch(&p, '\n');
	ext_archive(&tar, 'x', (const char *)p.data, p.len);
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	/* pax size replaces the header's size */
	ext_archive(&tar, 'x', "12 size=600\n", 12);
	add_rep(&tar, 'd', 1024);
	assert_int_equal(read_one(&tar, &e), 1);
	assert_int_equal(e.size, 600);
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
	sb_buf_release(&p);
}

static void test_extension_limits(void **state)
{
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;

	(void)state;
	sb_tar_entry_init(&e);
	/* oversized GNU long name */
	sb_buf_reset(&tar);
	add_hdr(&tar, "././@LongLink", 'L', 2u << 20);
	add_rep(&tar, 'n', 2u << 20);
	add_hdr(&tar, "file", '0', 0);
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	/* GNU long name and link, NUL-terminated inside the payload */
	sb_buf_reset(&tar);
	add_hdr(&tar, "././@LongLink", 'L', 6);
	add_payload(&tar, "long\0x", 6);
	add_hdr(&tar, "././@LongLink", 'K', 4);
	add_payload(&tar, "tgt\0", 4);
	add_hdr(&tar, "short", '2', 0);
	assert_int_equal(read_one(&tar, &e), 1);
	assert_string_equal(sb_buf_str(&e.name), "long");
	assert_string_equal(sb_buf_str(&e.linkname), "tgt");
	assert_int_equal(e.type, SB_TAR_SYMLINK);
	/* extension header, then the end */
	sb_buf_reset(&tar);
	add_hdr(&tar, "x", 'x', 9);
	add_payload(&tar, "9 path=x\n", 9);
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	add_rep(&tar, 0, 1024);
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

static void test_bad_numbers(void **state)
{
	struct sb_buf tar = SB_BUF_INIT;
	struct sb_tar_entry e;
	unsigned char *b;

	(void)state;
	sb_tar_entry_init(&e);
	/* base-256 size that does not fit an int64 */
	sb_buf_reset(&tar);
	b = add_hdr(&tar, "f", '0', 0);
	memset(b + 124, 0xff, 12);
	b[124] = 0x80;
	set_sum(b, false);
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	/* negative size */
	memset(b + 124, 0xff, 12);
	set_sum(b, false);
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	/* negative base-256 mtime is fine; -1 */
	put_oct(b, 124, 12, 0);
	memset(b + 136, 0xff, 12);
	set_sum(b, false);
	assert_int_equal(read_one(&tar, &e), 1);
	assert_int_equal(e.mtime, -1);
	/* non-octal digit */
	memcpy(b + 100, "0000899", 8);
	set_sum(b, false);
	assert_int_equal(read_one(&tar, &e), SB_ERR_CORRUPT);
	/* space padded octal, mode with type bits: masked */
	memcpy(b + 100, " 100644", 8);
	set_sum(b, false);
	assert_int_equal(read_one(&tar, &e), 1);
	assert_int_equal(e.mode, 0644);
	/* device number of a dir is not data; size of a dir is ignored */
	b[156] = '5';
	put_oct(b, 124, 12, 4096);
	set_sum(b, false);
	assert_int_equal(read_one(&tar, &e), 1);
	assert_int_equal(e.size, 0);
	sb_tar_entry_release(&e);
	sb_buf_release(&tar);
}

/* ---- speed ---- */

struct gen {
	unsigned char hdr[1024];
	size_t hlen;
	uint64_t pos, total;
};

static ssize_t gen_read(void *ctx, void *buf, size_t len)
{
	struct gen *g = ctx;
	size_t n;

	if (g->pos >= g->total)
		return 0;
	n = len;
	if (n > g->total - g->pos)
		n = (size_t)(g->total - g->pos);
	if (g->pos < g->hlen) {
		if (n > g->hlen - g->pos)
			n = g->hlen - (size_t)g->pos;
		memcpy(buf, g->hdr + g->pos, n);
	} else {
		memset(buf, 'z', n);
	}
	g->pos += n;
	return (ssize_t)n;
}

static double rate(size_t rd)
{
	static const uint64_t size = 512ull << 20;
	struct sb_buf out = SB_BUF_INIT;
	struct sb_tar_entry e;
	struct sb_tar_writer w;
	struct sb_tar_reader *r;
	struct gen g = {{0}, 0, 0, 0};
	struct timespec t0, t1;
	unsigned char *buf = malloc(rd);
	uint64_t total = 0;
	ssize_t n;

	sb_tar_entry_init(&e);
	defaults(&e);
	set_name(&e.name, "big");
	e.size = size;
	sb_tar_writer_init(&w, (struct sb_writer){sb_buf_write, &out});
	assert_int_equal(sb_tar_write_header(&w, &e), 0);
	memcpy(g.hdr, out.data, out.len);
	g.hlen = out.len;
	g.total = out.len + size;
	r = sb_tar_reader_new((struct sb_reader){gen_read, &g});
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sb_tar_reader_next(r, &e), 1);
	while ((n = sb_tar_reader_read(r, buf, rd)) > 0)
		total += (uint64_t)n;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(n, 0);
	assert_int_equal(total, size);
	sb_tar_reader_free(r);
	sb_tar_entry_release(&e);
	sb_buf_release(&out);
	free(buf);
	return (double)size / (1 << 20) /
	       ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static void test_large_member_speed(void **state)
{
	double direct, small;

	(void)state;
	direct = rate(1 << 20);
	small = rate(4096);
	print_message("large member: %.0f MB/s (1 MiB reads), %.0f MB/s (4 KiB reads)\n", direct,
		      small);
	/* generous: catches a per-byte or quadratic path, not a slow machine */
	assert_true(direct > 50);
	assert_true(small > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_write_matches_python, setup),
		cmocka_unit_test_setup(test_write_archive_matches_python, setup),
		cmocka_unit_test_setup(test_write_bigsize_header, setup),
		cmocka_unit_test_setup(test_write_end_and_pad, setup),
		cmocka_unit_test_setup(test_write_bad_device, setup),
		cmocka_unit_test_setup(test_read_matches_python, setup),
		cmocka_unit_test_setup(test_read_big_size_headers, setup),
		cmocka_unit_test_setup(test_round_trip, setup),
		cmocka_unit_test_setup(test_buffer_sweep, setup),
		cmocka_unit_test_setup(test_missing_end_marker, setup),
		cmocka_unit_test_setup(test_zero_block_then_garbage, setup),
		cmocka_unit_test_setup(test_truncated_everywhere, setup),
		cmocka_unit_test_setup(test_bad_checksum, setup),
		cmocka_unit_test_setup(test_pax_records, setup),
		cmocka_unit_test_setup(test_pax_values, setup),
		cmocka_unit_test_setup(test_extension_limits, setup),
		cmocka_unit_test_setup(test_bad_numbers, setup),
		cmocka_unit_test_setup(test_large_member_speed, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
