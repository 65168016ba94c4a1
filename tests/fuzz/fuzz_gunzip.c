/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_gunzip.c - libFuzzer target for the gzip reader (backup/base/
 * gunzip.c), which reads duplicity's --no-encryption volumes and sigtars.
 *
 * Input: byte 0 picks the source's chunk size and byte 1 the caller's read
 * size, the rest is the gzip stream (members may be concatenated). Checks
 * that no read returns more than asked or anything but data, 0 or
 * SB_ERR_CORRUPT; reading stops after 64 MiB (a gzip bomb is legal).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/gunzip.h"
#include "sealbox/log.h"
#include "fuzz_common.h"

#define MAX_OUT (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = {1, 7, 512, 65536};
	static const size_t reads[] = {1, 100, 4096, 1 << 20};
	static uint8_t buf[1 << 20];
	struct sb_gunzip *g;
	struct fuzz_src s;
	size_t rd, total = 0;
	ssize_t n;

	if (size < 2)
		return 0;
	sb_log_set_handler(fuzz_quiet, NULL);
	s = (struct fuzz_src){data + 2, size - 2, chunks[data[0] & 3]};
	rd = reads[data[1] & 3];
	if (!(g = sb_gunzip_new((struct sb_reader){fuzz_src_read, &s}, "fuzz")))
		abort();
	while (total < MAX_OUT && (n = sb_gunzip_read(g, buf, rd)) > 0) {
		if ((size_t)n > rd)
			abort();
		total += (size_t)n;
	}
	if (total < MAX_OUT && n < 0 && n != SB_ERR_CORRUPT)
		abort();
	sb_gunzip_free(g);
	return 0;
}
