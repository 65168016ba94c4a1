/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_names.c - libFuzzer target for sb_name_parse(), the remote file names
 * a server lists. The input is one name (a NUL ends it early, as in a C
 * string). A name that parses and can be formatted (long names only) must
 * format to a name that parses back to the same fields.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/log.h"
#include "sealbox/names.h"
#include "fuzz_common.h"

static bool same(const struct sb_name *a, const struct sb_name *b)
{
	return a->kind == b->kind && a->full == b->full && a->t0 == b->t0 && a->t1 == b->t1 &&
	       a->vol == b->vol && a->encrypted == b->encrypted && a->gzipped == b->gzipped &&
	       a->partial == b->partial;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[512];
	struct sb_name n, m;

	if (!s)
		abort();
	sb_log_set_handler(fuzz_quiet, NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	if (sb_name_parse(s, &n) == 0 && sb_name_format(&n, buf, sizeof(buf)) == 0 &&
	    (sb_name_parse(buf, &m) != 0 || !same(&n, &m)))
		abort();
	free(s);
	return 0;
}
