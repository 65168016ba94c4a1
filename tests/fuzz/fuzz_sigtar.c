/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_sigtar.c - libFuzzer target for the signature tars of a chain as the
 * writer and the reader consume them: sb_sigstate over the tar reader, and
 * every signature blob through sb_sig_load() (librsync's loader).
 *
 * Input: byte 0 says how to read: bits 0-1 the chunk size of the sources,
 * bit 7 gives every 512-byte block a valid header checksum first (so the
 * fuzzer reaches the member names easily). The rest is one sigtar, or
 * several (a full-signatures, then new-signatures) separated by "#SIGTAR#".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/buf.h"
#include "sealbox/delta.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/sigstate.h"
#include "sealbox/tar.h"
#include "fuzz_common.h"

#define SEP "#SIGTAR#"
#define MAX_STREAMS 4
#define MAX_SIG (1 << 20) /* larger blobs are not handed to librsync here */

/* Give every block a correct header checksum, in place. */
static void fix_sums(uint8_t *c, size_t len)
{
	unsigned sum;
	size_t off;
	uint8_t *b;
	int i;

	for (off = 0; off + SB_TAR_BLOCK <= len; off += SB_TAR_BLOCK) {
		b = c + off;
		memset(b + 148, ' ', 8);
		for (sum = 0, i = 0; i < SB_TAR_BLOCK; i++)
			sum += b[i];
		for (i = 5; i >= 0; i--, sum >>= 3)
			b[148 + i] = (uint8_t)('0' + (sum & 7));
		b[154] = '\0';
	}
}

static void load_sig(const struct sb_buf *blob)
{
	struct sb_cursor cur;
	struct sb_sig *sig = NULL;

	if (blob->len > MAX_SIG)
		return;
	sb_cursor_init(&cur, blob->data, blob->len);
	if (sb_sig_load((struct sb_reader){sb_cursor_read, &cur}, &sig) == 0)
		sb_sig_free(sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = {1, 512, 4096, SIZE_MAX};
	static const char *const what[MAX_STREAMS] = {"full", "new1", "new2", "new3"};
	struct sb_reader rd[MAX_STREAMS];
	struct fuzz_src srcs[MAX_STREAMS];
	struct sb_buf blob = SB_BUF_INIT;
	const struct sb_sigentry *e;
	struct sb_sigstate *st = NULL;
	uint8_t *copy, *p, *end, *sep;
	size_t n = 0;
	int rc;

	if (size < 1)
		return 0;
	sb_log_set_handler(fuzz_quiet, NULL);
	if (!(copy = malloc(size)))
		abort();
	memcpy(copy, data + 1, size - 1);
	p = copy;
	end = copy + size - 1;
	while (n < MAX_STREAMS) {
		sep = n + 1 < MAX_STREAMS ? memmem(p, (size_t)(end - p), SEP, strlen(SEP)) : NULL;
		srcs[n] = (struct fuzz_src){p, sep ? (size_t)(sep - p) : (size_t)(end - p),
					    chunks[data[0] & 3]};
		if (data[0] & 0x80)
			fix_sums(p, srcs[n].len);
		rd[n] = (struct sb_reader){fuzz_src_read, &srcs[n]};
		n++;
		if (!sep)
			break;
		p = sep + strlen(SEP);
	}
	rc = sb_sigstate_new(rd, what, n, &st);
	while (!rc && (rc = sb_sigstate_peek(st, &e)) == 1) {
		if (e->kind == SB_SIG_DELETED)
			abort();
		if (e->path.len && ((const char *)e->path.data)[e->path.len] != '\0')
			abort();
		if (e->kind == SB_SIG_SIGNATURE && (rc = sb_sigstate_read_sig(st, &blob)) == 0)
			load_sig(&blob);
		if (!rc)
			rc = sb_sigstate_next(st);
	}
	if (rc > 1 || (rc < 0 && rc != SB_ERR_CORRUPT))
		abort();
	sb_sigstate_free(st);
	sb_buf_release(&blob);
	free(copy);
	return 0;
}
