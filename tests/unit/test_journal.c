/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_journal.c - the checkpoints of a set being written
 * (backup/writer/journal.c): what is logged comes back field for field;
 * the resume takes volumes 1..n without a gap whatever order the uploads
 * ended in; a torn or altered line ends the log; a journal of another set
 * or other options is not used; rewinding cuts the streams back and gives
 * the manifest's file list up to the checkpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/archive.h"
#include "sealbox/error.h"
#include "sealbox/tar.h"
#include "journal.h"

#define SET "duplicity-full.20261206T000000Z.manifest.gpg"
#define KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sbjournal.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static uint64_t file_size(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/resume/%s", dir, name);
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : (uint64_t)-1;
}

/* Volume num cut at position path/bytes, then made durable. */
static void cut(struct sb_journal *j, struct sb_resume_pos *pos, unsigned num, const char *path,
		uint64_t bytes)
{
	struct sb_packer_vol v = {.num = num,
				  .start = "a",
				  .start_len = 1,
				  .start_block = -1,
				  .end = path,
				  .end_len = strlen(path),
				  .end_block = (long)num};

	assert_int_equal(sb_buf_set(&pos->path, path, strlen(path)), 0);
	pos->bytes = bytes;
	pos->chunks = (long)(bytes / 65536);
	pos->crc = 0xdeadbeef + num;
	pos->reg = true;
	pos->size = 1u << 30;
	pos->ino = 42;
	pos->mtime_ns = -5; /* before 1970 */
	pos->ctime_ns = 1796540652794127637ll;
	pos->pos_set = true;
	pos->pvol = 1;
	pos->poff = 512;
	pos->stats0.source_files = num * 10;
	pos->stats0.errors = 1;
	assert_int_equal(sb_journal_cut(j, &v), 0);
}

static void durable(struct sb_journal *j, unsigned num)
{
	struct sb_packer_vol v = {.num = num, .stored = 1000 + num};

	memset(v.sha1, (int)num, sizeof(v.sha1));
	memset(v.sha256, (int)num + 1, sizeof(v.sha256));
	assert_int_equal(sb_journal_durable(j, &v), 0);
}

/* A journal with volumes 1..3 cut, 3 and 1 durable (2 is not). */
static void write_three(void)
{
	struct sb_journal *j = NULL;
	struct sb_resume_pos pos;
	struct sb_manifest man;
	struct sb_tar_writer tw;
	unsigned i;

	sb_resume_pos_init(&pos);
	sb_manifest_init(&man);
	assert_int_equal(sb_journal_create(dir, SET, KEY, &j), 0);
	sb_tar_writer_init(&tw, sb_journal_sig_writer(j));
	sb_journal_set_sigtar(j, &tw);
	sb_journal_set_manifest(j, &man);
	sb_journal_set_pos(j, &pos);
	for (i = 1; i <= 3; i++) {
		char p[32];

		snprintf(p, sizeof(p), "dir/file%u", i);
		assert_int_equal(sb_manifest_add_file(&man, "new", p, strlen(p)), 0);
		assert_int_equal(tw.out.write(tw.out.ctx, "signature bytes", 15), 0);
		tw.offset += 15;
		assert_int_equal(sb_journal_index_write(j, "index record\n", 13), 0);
		cut(j, &pos, i, p, i * 65536);
	}
	durable(j, 3);
	durable(j, 1);
	sb_journal_free(j); /* as a kill would leave it */
	sb_resume_pos_release(&pos);
	sb_manifest_release(&man);
}

static void test_gap_free_prefix(void **state)
{
	struct sb_journal *j = NULL;
	const struct sb_ckpt *ck;
	size_t n;

	(void)state;
	write_three();
	assert_int_equal(sb_journal_open(dir, SET, KEY, &j, &ck, &n), 0);
	assert_int_equal(n, 1); /* 3 is logged, 2 is not: only 1 counts */
	assert_int_equal(ck[0].vol.num, 1);
	assert_int_equal(ck[0].vol.stored, 1001);
	assert_int_equal(ck[0].vol.sha1[19], 1);
	assert_int_equal(ck[0].vol.sha256[0], 2);
	assert_int_equal(ck[0].vol.end_block, 1);
	assert_memory_equal(ck[0].vol.end, "dir/file1", 9);
	assert_memory_equal(ck[0].pos.path.data, "dir/file1", 9);
	assert_int_equal(ck[0].pos.bytes, 65536);
	assert_int_equal(ck[0].pos.chunks, 1);
	assert_int_equal(ck[0].pos.crc, 0xdeadbeef + 1);
	assert_int_equal(ck[0].pos.mtime_ns, -5);
	assert_int_equal(ck[0].pos.ctime_ns, 1796540652794127637ll);
	assert_int_equal(ck[0].pos.stats0.source_files, 10);
	assert_int_equal(ck[0].nfiles, 1);
	assert_int_equal(ck[0].sig_taroff, 15);
	sb_journal_free(j);
}

static void test_rewind(void **state)
{
	struct sb_journal *j = NULL;
	const struct sb_ckpt *ck;
	struct sb_manifest man;
	uint64_t sig_off;
	size_t n;

	(void)state;
	write_three();
	assert_int_equal(sb_journal_open(dir, SET, KEY, &j, &ck, &n), 0);
	assert_int_equal(n, 1);
	sig_off = ck[0].sig_off;
	sb_manifest_init(&man);
	assert_int_equal(sb_journal_rewind(j, 1, &man), 0);
	assert_int_equal(man.nfiles, 1);
	assert_memory_equal(man.files[0].path.data, "dir/file1", 9);
	assert_string_equal(man.files[0].kind, "new");
	assert_int_equal(sb_journal_close_streams(j), 0);
	sb_journal_free(j);
	sb_manifest_release(&man);
	/* the signatures up to the checkpoint, as one stream (gzip members) */
	assert_true(file_size("sigtar.gz") >= sig_off);
	{
		struct sb_gzreader *gz = NULL;
		char path[256], buf[64];

		snprintf(path, sizeof(path), "%s/resume/sigtar.gz", dir);
		assert_int_equal(sb_gzreader_open(path, &gz), 0);
		assert_int_equal(sb_gzreader_read(gz, buf, sizeof(buf)), 15);
		assert_memory_equal(buf, "signature bytes", 15);
		sb_gzreader_close(gz);
	}
	assert_int_equal(file_size("index"), 13);
	/* the log now holds volume 1 only, and still parses */
	assert_int_equal(sb_journal_open(dir, SET, KEY, &j, &ck, &n), 0);
	assert_int_equal(n, 1);
	sb_journal_free(j);
}

static void test_torn_and_foreign(void **state)
{
	struct sb_journal *j = NULL;
	const struct sb_ckpt *ck;
	char path[256];
	FILE *f;
	size_t n;

	(void)state;
	write_three();
	/* another set's or other options' journal is not used */
	assert_int_equal(sb_journal_open(dir, "duplicity-full.20261206T000001Z.manifest.gpg", KEY,
					 &j, &ck, &n),
			 SB_ERR_NOTFOUND);
	assert_int_equal(
		sb_journal_open(dir, SET,
				"1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				&j, &ck, &n),
		SB_ERR_NOTFOUND);
	/* one altered byte in the first line (volume 3's): nothing after counts */
	snprintf(path, sizeof(path), "%s/resume/log", dir);
	f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, 5, SEEK_SET), 0);
	fputc('9', f);
	fclose(f);
	assert_int_equal(sb_journal_open(dir, SET, KEY, &j, &ck, &n), 0);
	assert_int_equal(n, 0);
	sb_journal_free(j);
	/* streams shorter than a checkpoint says: that checkpoint goes */
	write_three();
	snprintf(path, sizeof(path), "%s/resume/index", dir);
	assert_int_equal(truncate(path, 5), 0);
	assert_int_equal(sb_journal_open(dir, SET, KEY, &j, &ck, &n), 0);
	assert_int_equal(n, 0);
	sb_journal_free(j);
	sb_journal_discard(dir);
	assert_int_equal(file_size("log"), (uint64_t)-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gap_free_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_and_foreign, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
