/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sigstate.c - the merged signature state of a chain: small sigtars
 * written with sb_tar_writer (signature/<p>, snapshot/<p>/, deleted/<p>,
 * the root "snapshot/"), merged oldest first (newest entry wins, deleted
 * paths dropped, sb_path_cmp order, the winner's blob read back); member
 * names split for every prefix (duplicity-format.md §3, §4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/sigstate.h"
#include "sealbox/tar.h"

static int nerrors;

static void count_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)msg;
	(void)ctx;
	if (level == SB_LOG_ERR)
		nerrors++;
}

/* ---- sigtar builder ---- */

struct sigtar {
	struct sb_buf buf;
	struct sb_tar_writer w;
};

static void st_init(struct sigtar *t)
{
	sb_buf_init(&t->buf);
	sb_tar_writer_init(&t->w, (struct sb_writer){sb_buf_write, &t->buf});
}

/* One member; data NULL for none. type SB_TAR_DIR gets its trailing '/'. */
static void st_member(struct sigtar *t, const char *name, char type, const char *data)
{
	struct sb_tar_entry e;
	size_t len = data ? strlen(data) : 0;

	sb_tar_entry_init(&e);
	assert_int_equal(sb_buf_addstr(&e.name, name), 0);
	e.type = type;
	e.mode = type == SB_TAR_DIR ? 0755 : 0644;
	e.mtime = 1700000000;
	e.size = len;
	if (type == SB_TAR_SYMLINK)
		assert_int_equal(sb_buf_addstr(&e.linkname, "target"), 0);
	assert_int_equal(sb_tar_write_header(&t->w, &e), 0);
	if (len)
		assert_int_equal(sb_tar_write_data(&t->w, data, len), 0);
	assert_int_equal(sb_tar_write_pad(&t->w), 0);
	sb_tar_entry_release(&e);
}

static void st_sig(struct sigtar *t, const char *path, const char *blob)
{
	char name[256];

	snprintf(name, sizeof(name), "signature/%s", path);
	st_member(t, name, SB_TAR_REG, blob);
}

static void st_dir(struct sigtar *t, const char *path)
{
	char name[256];

	snprintf(name, sizeof(name), *path ? "snapshot/%s/" : "snapshot/", path);
	st_member(t, name, SB_TAR_DIR, NULL);
}

static void st_del(struct sigtar *t, const char *path)
{
	char name[256];

	snprintf(name, sizeof(name), "deleted/%s", path);
	st_member(t, name, SB_TAR_REG, NULL);
}

static void st_link(struct sigtar *t, const char *path)
{
	char name[256];

	snprintf(name, sizeof(name), "snapshot/%s", path);
	st_member(t, name, SB_TAR_SYMLINK, NULL);
}

static void st_end(struct sigtar *t) { assert_int_equal(sb_tar_write_end_record(&t->w), 0); }

/* ---- merging ---- */

struct merged {
	char kind;
	char path[64];
	char blob[64];
};

/* Merge n sigtars (oldest first), reading blobs when read_blobs. */
static size_t merge(struct sigtar *t, size_t n, struct merged *out, size_t max, bool read_blobs)
{
	struct sb_cursor cur[4];
	struct sb_reader rd[4];
	const char *what[4] = {"s0", "s1", "s2", "s3"};
	struct sb_sigstate *s;
	const struct sb_sigentry *e;
	struct sb_buf blob = SB_BUF_INIT;
	size_t i, k = 0;
	int rc;

	for (i = 0; i < n; i++) {
		sb_cursor_init(&cur[i], t[i].buf.data, t[i].buf.len);
		rd[i].read = sb_cursor_read;
		rd[i].ctx = &cur[i];
	}
	assert_int_equal(sb_sigstate_new(rd, what, n, &s), 0);
	while ((rc = sb_sigstate_peek(s, &e)) == 1) {
		assert_true(k < max);
		assert_true(e->path.len < sizeof(out[k].path));
		assert_int_not_equal(e->kind, SB_SIG_DELETED);
		out[k].kind = e->kind;
		memcpy(out[k].path, e->path.data, e->path.len);
		out[k].path[e->path.len] = '\0';
		out[k].blob[0] = '\0';
		/* a second peek returns the same entry */
		{
			const struct sb_sigentry *again;

			assert_int_equal(sb_sigstate_peek(s, &again), 1);
			assert_ptr_equal(again, e);
		}
		if (read_blobs) {
			assert_int_equal(sb_sigstate_read_sig(s, &blob), 0);
			assert_true(blob.len < sizeof(out[k].blob));
			memcpy(out[k].blob, sb_buf_str(&blob), blob.len + 1);
		}
		k++;
		assert_int_equal(sb_sigstate_next(s), 0);
	}
	assert_int_equal(rc, 0);
	/* past the end stays at the end */
	assert_int_equal(sb_sigstate_peek(s, &e), 0);
	sb_sigstate_free(s);
	sb_buf_release(&blob);
	return k;
}

static void expect(const struct merged *m, char kind, const char *path, const char *blob)
{
	if (m->kind != kind || strcmp(m->path, path) || strcmp(m->blob, blob))
		fail_msg("got %c \"%s\" \"%s\", want %c \"%s\" \"%s\"", m->kind, m->path, m->blob,
			 kind, path, blob);
}

static void build_three(struct sigtar t[3])
{
	/* the full-signatures */
	st_init(&t[0]);
	st_dir(&t[0], "");
	st_sig(&t[0], "a", "A0");
	st_sig(&t[0], "b", "B0");
	st_dir(&t[0], "c");
	st_sig(&t[0], "c/x", "X0");
	st_sig(&t[0], "d", "D0");
	st_dir(&t[0], "ord");
	st_dir(&t[0], "ord/a");
	st_sig(&t[0], "ord/a/b", "OAB");
	st_sig(&t[0], "ord/a-b", "OA-B");
	st_sig(&t[0], "ord/a.b", "OA.B");
	st_end(&t[0]);
	/* first new-signatures: a changed, b deleted, c/y and e new */
	st_init(&t[1]);
	st_dir(&t[1], "");
	st_sig(&t[1], "a", "A1");
	st_del(&t[1], "b");
	st_sig(&t[1], "c/y", "Y1");
	st_link(&t[1], "e");
	st_del(&t[1], "ord/a.b");
	st_end(&t[1]);
	/* second: a deleted, b back, d now a folder, c/x deleted, e changed again */
	st_init(&t[2]);
	st_del(&t[2], "a");
	st_sig(&t[2], "b", "B2");
	st_del(&t[2], "c/x");
	st_dir(&t[2], "d");
	st_sig(&t[2], "e", "E2");
	st_sig(&t[2], "zz\xc3\xa9", "Z2");
	st_end(&t[2]);
}

static void test_sigstate__merge_three(void **state)
{
	struct sigtar t[3];
	struct merged m[32];
	size_t n, i;

	(void)state;
	build_three(t);
	n = merge(t, 3, m, 32, true);
	assert_int_equal(n, 11);
	expect(&m[0], SB_SIG_SNAPSHOT, "", "");
	expect(&m[1], SB_SIG_SIGNATURE, "b", "B2");
	expect(&m[2], SB_SIG_SNAPSHOT, "c", "");
	expect(&m[3], SB_SIG_SIGNATURE, "c/y", "Y1");
	expect(&m[4], SB_SIG_SNAPSHOT, "d", "");
	expect(&m[5], SB_SIG_SIGNATURE, "e", "E2");
	expect(&m[6], SB_SIG_SNAPSHOT, "ord", "");
	expect(&m[7], SB_SIG_SNAPSHOT, "ord/a", "");
	expect(&m[8], SB_SIG_SIGNATURE, "ord/a/b", "OAB");
	expect(&m[9], SB_SIG_SIGNATURE, "ord/a-b", "OA-B");
	expect(&m[10], SB_SIG_SIGNATURE, "zz\xc3\xa9", "Z2");
	for (i = 1; i < n; i++)
		assert_true(sb_path_cmp(m[i - 1].path, strlen(m[i - 1].path), m[i].path,
					strlen(m[i].path)) < 0);

	/* without reading the blobs (next skips them) */
	n = merge(t, 3, m, 32, false);
	assert_int_equal(n, 11);
	expect(&m[5], SB_SIG_SIGNATURE, "e", "");
	for (i = 0; i < 3; i++)
		sb_buf_release(&t[i].buf);
}

static void test_sigstate__two_streams_and_one(void **state)
{
	struct sigtar t[3];
	struct merged m[32];
	size_t n;

	(void)state;
	build_three(t);
	/* the full alone */
	n = merge(t, 1, m, 32, true);
	assert_int_equal(n, 11);
	expect(&m[1], SB_SIG_SIGNATURE, "a", "A0");
	expect(&m[10], SB_SIG_SIGNATURE, "ord/a.b", "OA.B");
	/* full + first incremental */
	n = merge(t, 2, m, 32, true);
	assert_int_equal(n, 11);
	expect(&m[0], SB_SIG_SNAPSHOT, "", "");
	expect(&m[1], SB_SIG_SIGNATURE, "a", "A1");
	expect(&m[2], SB_SIG_SNAPSHOT, "c", "");
	expect(&m[3], SB_SIG_SIGNATURE, "c/x", "X0");
	expect(&m[4], SB_SIG_SIGNATURE, "c/y", "Y1");
	expect(&m[5], SB_SIG_SIGNATURE, "d", "D0");
	expect(&m[6], SB_SIG_SNAPSHOT, "e", "");
	expect(&m[7], SB_SIG_SNAPSHOT, "ord", "");
	expect(&m[9], SB_SIG_SIGNATURE, "ord/a/b", "OAB");
	expect(&m[10], SB_SIG_SIGNATURE, "ord/a-b", "OA-B");
	/* no streams at all */
	assert_int_equal(merge(t, 0, m, 32, true), 0);
	sb_buf_release(&t[0].buf);
	sb_buf_release(&t[1].buf);
	sb_buf_release(&t[2].buf);
}

static void test_sigstate__all_deleted_and_empty(void **state)
{
	struct sigtar t[2];
	struct merged m[8];

	(void)state;
	st_init(&t[0]);
	st_sig(&t[0], "a", "A");
	st_sig(&t[0], "b", "B");
	st_end(&t[0]);
	st_init(&t[1]);
	st_del(&t[1], "a");
	st_del(&t[1], "b");
	st_del(&t[1], "never-existed");
	st_end(&t[1]);
	assert_int_equal(merge(t, 2, m, 8, true), 0);
	sb_buf_release(&t[1].buf);
	/* an empty sigtar (only the end record) */
	st_init(&t[1]);
	st_end(&t[1]);
	assert_int_equal(merge(t, 2, m, 8, true), 2);
	sb_buf_release(&t[0].buf);
	sb_buf_release(&t[1].buf);
}

static void test_sigstate__bad_members(void **state)
{
	static const char *const bad[] = {"diff/a", "multivol_snapshot/a/1", "other/a",
					  "signature/../a", "snapshot/a/../../b"};
	struct sb_cursor cur;
	struct sb_reader rd = {sb_cursor_read, &cur};
	const char *what = "bad";
	struct sb_sigstate *s = NULL;
	const struct sb_sigentry *e;
	struct sigtar t;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st_init(&t);
		st_member(&t, bad[i], SB_TAR_REG, "x");
		st_end(&t);
		sb_cursor_init(&cur, t.buf.data, t.buf.len);
		nerrors = 0;
		assert_int_equal(sb_sigstate_new(&rd, &what, 1, &s), SB_ERR_CORRUPT);
		assert_int_equal(nerrors, 1);
		sb_buf_release(&t.buf);
	}

	/* a bad member later in the stream surfaces from next/peek */
	st_init(&t);
	st_sig(&t, "a", "A");
	st_member(&t, "diff/b", SB_TAR_REG, "x");
	st_end(&t);
	sb_cursor_init(&cur, t.buf.data, t.buf.len);
	assert_int_equal(sb_sigstate_new(&rd, &what, 1, &s), 0);
	assert_int_equal(sb_sigstate_peek(s, &e), 1);
	rc = sb_sigstate_next(s);
	if (rc == 0)
		rc = sb_sigstate_peek(s, &e);
	assert_int_equal(rc, SB_ERR_CORRUPT);
	sb_sigstate_free(s);
	sb_buf_release(&t.buf);

	/* truncated stream */
	st_init(&t);
	st_sig(&t, "a", "AAAA");
	st_sig(&t, "b", "BBBB");
	sb_cursor_init(&cur, t.buf.data, t.buf.len - 700);
	assert_int_equal(sb_sigstate_new(&rd, &what, 1, &s), 0);
	assert_int_equal(sb_sigstate_peek(s, &e), 1);
	rc = sb_sigstate_next(s);
	if (rc == 0)
		rc = sb_sigstate_peek(s, &e);
	assert_true(rc < 0);
	sb_sigstate_free(s);
	sb_buf_release(&t.buf);
}

/* ---- sb_member_split ---- */

static int split(const char *name, const char **prefix, char *path, long *block)
{
	struct sb_buf n = SB_BUF_INIT, p = SB_BUF_INIT;
	int rc;

	assert_int_equal(sb_buf_set(&n, name, strlen(name)), 0);
	*prefix = NULL;
	rc = sb_member_split(&n, prefix, &p, block);
	if (!rc) {
		assert_true(p.len < 128);
		memcpy(path, p.data, p.len);
		path[p.len] = '\0';
		assert_int_equal(strlen(path), p.len);
	}
	sb_buf_release(&n);
	sb_buf_release(&p);
	return rc;
}

static void expect_split(const char *name, const char *prefix, const char *path, long block)
{
	const char *pf;
	char p[128];
	long b = 12345;
	int rc = split(name, &pf, p, &b);

	if (rc)
		fail_msg("split(\"%s\") failed: %d", name, rc);
	if (strcmp(pf, prefix) || strcmp(p, path) || b != block)
		fail_msg("split(\"%s\") = %s \"%s\" %ld, want %s \"%s\" %ld", name, pf, p, b,
			 prefix, path, block);
}

static void expect_split_bad(const char *name)
{
	const char *pf;
	char p[128];
	long b;

	if (split(name, &pf, p, &b) != SB_ERR_CORRUPT)
		fail_msg("split(\"%s\") accepted", name);
}

static void test_sigstate__member_split(void **state)
{
	(void)state;
	expect_split("signature/a/b", "signature", "a/b", -1);
	expect_split("snapshot/a/b/", "snapshot", "a/b", -1);
	expect_split("snapshot/", "snapshot", "", -1);
	expect_split("snapshot", "snapshot", "", -1);
	expect_split("snapshot/./", "snapshot", "", -1); /* the difftar root */
	expect_split("snapshot/.", "snapshot", "", -1);
	expect_split("deleted/x", "deleted", "x", -1);
	expect_split("diff/dir/f.txt", "diff", "dir/f.txt", -1);
	expect_split("diff/./f", "diff", "f", -1);
	expect_split("multivol_snapshot/a/b/3", "multivol_snapshot", "a/b", 3);
	expect_split("multivol_diff/big.bin/17", "multivol_diff", "big.bin", 17);
	expect_split("multivol_snapshot/a/1024", "multivol_snapshot", "a", 1024);
	expect_split("multivol_snapshot/5", "multivol_snapshot", "", 5);
	expect_split("snapshot/\xc3\xbc/\xff", "snapshot", "\xc3\xbc/\xff", -1);
	/* names made of prefix words are paths, not prefixes */
	expect_split("snapshot/snapshot/diff", "snapshot", "snapshot/diff", -1);
	expect_split("deleted/multivol_diff/1", "deleted", "multivol_diff/1", -1);
}

static void test_sigstate__member_split_rejects(void **state)
{
	(void)state;
	expect_split_bad("");
	expect_split_bad("snapshots/a");
	expect_split_bad("signatures");
	expect_split_bad("foo/a");
	expect_split_bad("./snapshot/a");
	expect_split_bad("snapshot/..");
	expect_split_bad("snapshot/../etc/passwd");
	expect_split_bad("signature/a/../../x");
	expect_split_bad("deleted/..");
	expect_split_bad("diff/a/..");
	expect_split_bad("multivol_diff/../1");
	expect_split_bad("multivol_snapshot/a/0");
	expect_split_bad("multivol_snapshot/a/-1");
	expect_split_bad("multivol_snapshot/a/x");
	expect_split_bad("multivol_snapshot/a/5x");
	expect_split_bad("multivol_snapshot/a");
	expect_split_bad("multivol_snapshot/");
	expect_split_bad("multivol_snapshot");
	/* duplicity's "/[0-9]+$": digits only */
	expect_split_bad("multivol_snapshot/a/ 5");
	expect_split_bad("multivol_snapshot/a/+5");
	{
		struct sb_buf n = SB_BUF_INIT, p = SB_BUF_INIT;
		const char *pf;
		long b;

		assert_int_equal(sb_buf_set(&n, "snapshot/a\0b", 12), 0);
		assert_int_equal(sb_member_split(&n, &pf, &p, &b), SB_ERR_CORRUPT);
		sb_buf_release(&n);
		sb_buf_release(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigstate__merge_three),
		cmocka_unit_test(test_sigstate__two_streams_and_one),
		cmocka_unit_test(test_sigstate__all_deleted_and_empty),
		cmocka_unit_test(test_sigstate__bad_members),
		cmocka_unit_test(test_sigstate__member_split),
		cmocka_unit_test(test_sigstate__member_split_rejects),
	};

	sb_log_set_handler(count_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
