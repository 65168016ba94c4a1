/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_tar.c - libFuzzer target for the tar reader (backup/tar.c).
 *
 * Input: byte 0 picks the source's chunk size and byte 1 the caller's read
 * size (buffer-size sweep), the rest is the tar stream; when byte 0 has bit
 * 0x80 set, every 512-byte block gets a valid checksum first so the fuzzer
 * reaches the field parsers easily. Checks the reader's
 * invariants: block-aligned offsets, data length equal to the member size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/tar.h"
#include "fuzz_common.h"

/* Give every block a correct header checksum (a copy, caller frees). */
static uint8_t *fix_sums(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1), *b;
	unsigned sum;
	size_t off;
	int i;

	if (!c)
		abort();
	memcpy(c, p, len);
	for (off = 0; off + SB_TAR_BLOCK <= len; off += SB_TAR_BLOCK) {
		b = c + off;
		memset(b + 148, ' ', 8);
		for (sum = 0, i = 0; i < SB_TAR_BLOCK; i++)
			sum += b[i];
		for (i = 5; i >= 0; i--, sum >>= 3)
			b[148 + i] = (uint8_t)('0' + (sum & 7));
		b[154] = '\0';
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = NULL;
	static const size_t chunks[] = {1, 3, 512, 4096, 70000, SIZE_MAX};
	static const size_t reads[] = {1, 100, 512, 16384, 100000, 1 << 20};
	static uint8_t buf[1 << 20];
	struct sb_tar_entry e;
	struct sb_tar_reader *r;
	struct fuzz_src s;
	uint64_t got, prev_end = 0;
	size_t rd;
	ssize_t n;
	int rc;

	if (size < 2)
		return 0;
	sb_log_set_handler(fuzz_quiet, NULL);
	s.max = chunks[data[0] % 6];
	rd = reads[data[1] % 6];
	s.p = data + 2;
	s.len = size - 2;
	if (data[0] & 0x80)
		s.p = copy = fix_sums(data + 2, size - 2);
	r = sb_tar_reader_new((struct sb_reader){fuzz_src_read, &s});
	if (!r)
		abort();
	sb_tar_entry_init(&e);
	while ((rc = sb_tar_reader_next(r, &e)) == 1) {
		if (e.offset % SB_TAR_BLOCK || e.data_offset % SB_TAR_BLOCK ||
		    e.data_offset < e.offset + SB_TAR_BLOCK || e.offset < prev_end)
			abort();
		if (e.name.data && e.name.data[e.name.len] != '\0')
			abort();
		got = 0;
		while ((n = sb_tar_reader_read(r, buf, rd)) > 0)
			got += (uint64_t)n;
		if (n == 0 && got != e.size)
			abort();
		if (n < 0)
			break;
		prev_end = e.data_offset + e.size;
		if (sb_tar_reader_offset(r) != prev_end)
			abort();
	}
	if (rc > 1 || (rc < 0 && rc != SB_ERR_CORRUPT))
		abort();
	sb_tar_entry_release(&e);
	sb_tar_reader_free(r);
	free(copy);
	return 0;
}
