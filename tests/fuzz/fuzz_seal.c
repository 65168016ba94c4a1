/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_seal.c - libFuzzer target for sb_seal_parse(), the signed text of a
 * seal (what sb_seal_verify() parses once gpg has checked the signature; the
 * fuzzer runs no gpg). Whatever parses must format to a text that parses
 * back to the same seal and formats to the same bytes (the parser also takes
 * file lines in any order and empty lines after "end"), and every file it
 * lists must be found by name.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/seal.h"
#include "fuzz_common.h"

static bool same(const struct sb_seal *a, const struct sb_seal *b)
{
	size_t i;

	if (strcmp(a->backup_id, b->backup_id) || a->full != b->full || a->t0 != b->t0 ||
	    a->t1 != b->t1 || a->has_prev != b->has_prev ||
	    (a->has_prev && memcmp(a->prev, b->prev, 32)) || a->nfiles != b->nfiles)
		return false;
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].name, b->files[i].name) ||
		    a->files[i].size != b->files[i].size ||
		    memcmp(a->files[i].sha256, b->files[i].sha256, 32))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_buf out = SB_BUF_INIT, out2 = SB_BUF_INIT;
	struct sb_seal s, s2;
	size_t i;
	int rc;

	sb_log_set_handler(fuzz_quiet, NULL);
	sb_seal_init(&s);
	sb_seal_init(&s2);
	rc = sb_seal_parse(&s, data, size, "fuzz");
	if (rc != 0 && rc != SB_ERR_CORRUPT && rc != SB_ERR_NOMEM)
		abort();
	if (rc == 0) {
		for (i = 0; i < s.nfiles; i++)
			if (sb_seal_find(&s, s.files[i].name) != &s.files[i])
				abort();
		if (sb_seal_format(&s, &out) != 0 ||
		    sb_seal_parse(&s2, out.data, out.len, "fuzz-again") != 0 || !same(&s, &s2) ||
		    sb_seal_format(&s2, &out2) != 0 || out.len != out2.len ||
		    memcmp(out.data, out2.data, out.len) != 0)
			abort();
	}
	sb_buf_release(&out);
	sb_buf_release(&out2);
	sb_seal_release(&s);
	sb_seal_release(&s2);
	return 0;
}
