/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_index.c - libFuzzer target for sb_index_parse_next(), the records of
 * a set's index (the text after the "sealbox-index 1" header, from the
 * server once decrypted). Every record that parses must format to a line
 * that parses back to the same record and formats to the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/index.h"
#include "sealbox/log.h"
#include "fuzz_common.h"

static bool same_buf(const struct sb_buf *a, const struct sb_buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

/* A NUL typeflag is tar's old name for '0' (a file) and is written as '0'. */
static char type(char t) { return t ? t : '0'; }

static bool same(const struct sb_index_rec *a, const struct sb_index_rec *b)
{
	return a->kind == b->kind && type(a->type) == type(b->type) && a->mode == b->mode &&
	       a->uid == b->uid && a->gid == b->gid && a->mtime == b->mtime && a->size == b->size &&
	       a->vol == b->vol && a->offset == b->offset && a->devmajor == b->devmajor &&
	       a->devminor == b->devminor && a->linkgroup == b->linkgroup &&
	       !strcmp(a->uname, b->uname) && !strcmp(a->gname, b->gname) &&
	       same_buf(&a->path, &b->path) && same_buf(&a->link, &b->link);
}

/* r formats, and its line parses back to r and formats to the same bytes. */
static void round_trip(const struct sb_index_rec *r)
{
	struct sb_buf out = SB_BUF_INIT, out2 = SB_BUF_INIT;
	struct sb_index_rec r2;
	size_t pos = 0;

	sb_index_rec_init(&r2);
	if (sb_index_format(r, &out) != 0)
		abort();
	if (sb_index_parse_next((const char *)out.data, out.len, &pos, &r2) != 1 ||
	    pos != out.len || !same(r, &r2) || sb_index_format(&r2, &out2) != 0 ||
	    !same_buf(&out, &out2))
		abort();
	sb_index_rec_release(&r2);
	sb_buf_release(&out);
	sb_buf_release(&out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_index_rec r;
	size_t pos = 0, last = 0;
	int rc;

	sb_log_set_handler(fuzz_quiet, NULL);
	sb_index_rec_init(&r);
	while ((rc = sb_index_parse_next((const char *)data, size, &pos, &r)) == 1) {
		if (pos <= last || pos > size)
			abort();
		last = pos;
		round_trip(&r);
	}
	if (rc != 0 && rc != SB_ERR_CORRUPT)
		abort();
	sb_index_rec_release(&r);
	return 0;
}
