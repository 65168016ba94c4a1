/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_manifest.c - libFuzzer target for sb_manifest_parse() over arbitrary
 * bytes. Whatever parses must format, and the formatted text must parse back
 * to a manifest that formats to the same bytes. Also feeds the input, as a
 * C string, to sb_name_parse() and uses its first line as a restore prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/manifest.h"
#include "sealbox/names.h"
#include "fuzz_common.h"

static void check_names(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[512];
	struct sb_name n;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (sb_name_parse(s, &n) == 0 && n.kind != SB_KIND_SEAL && n.kind != SB_KIND_INDEX &&
	    !n.partial)
		(void)sb_name_format(&n, buf, sizeof(buf));
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_manifest m, m2;
	struct sb_buf out = SB_BUF_INIT, out2 = SB_BUF_INIT;
	const uint8_t *nl;
	size_t i, plen;

	sb_log_set_handler(fuzz_quiet, NULL);
	check_names(data, size);
	sb_manifest_init(&m);
	sb_manifest_init(&m2);
	if (sb_manifest_parse(&m, data, size, "fuzz") != 0)
		goto out;
	nl = memchr(data, '\n', size);
	plen = nl ? (size_t)(nl - data) : size;
	for (i = 0; i < m.nvols; i++)
		(void)sb_manifest_vol_may_contain(&m.vols[i], (const char *)data, plen);
	if (sb_manifest_format(&m, &out) != 0)
		goto out; /* e.g. a volume without a usable hash */
	if (sb_manifest_parse(&m2, out.data, out.len, "fuzz-again") != 0 ||
	    sb_manifest_format(&m2, &out2) != 0 || out.len != out2.len ||
	    memcmp(out.data, out2.data, out.len) != 0)
		abort();
out:
	sb_buf_release(&out);
	sb_buf_release(&out2);
	sb_manifest_release(&m);
	sb_manifest_release(&m2);
	return 0;
}
