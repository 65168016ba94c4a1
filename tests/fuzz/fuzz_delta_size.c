/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_delta_size.c - libFuzzer target for sb_delta_size() over arbitrary
 * bytes, cross-checked against sb_patch(): whenever librsync accepts a delta
 * against a small basis, the walker must accept it and agree on the size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/delta.h"
#include "sealbox/log.h"
#include "fuzz_common.h"

static int basis = -1;

static int count_write(void *ctx, const void *buf, size_t len)
{
	*(uint64_t *)ctx += len;
	return 0;
}

static void setup(void)
{
	unsigned char block[4096];
	size_t i;

	sb_log_set_handler(fuzz_quiet, NULL);
	for (i = 0; i < sizeof(block); i++)
		block[i] = (unsigned char)(i * 31 + 7);
	basis = memfd_create("basis", 0);
	if (basis < 0 || write(basis, block, sizeof(block)) != (ssize_t)sizeof(block))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_cursor c;
	struct sb_reader r = {sb_cursor_read, &c};
	uint64_t walked = 0, patched = 0, counted = 0;
	struct sb_writer w = {count_write, &counted};
	int rc_walk, rc_patch;

	if (basis < 0)
		setup();
	sb_cursor_init(&c, data, size);
	rc_walk = sb_delta_size(r, &walked);
	if (rc_walk > 0 || (rc_walk && walked))
		abort();

	sb_cursor_init(&c, data, size);
	rc_patch = sb_patch(basis, r, w, &patched);
	if (!rc_patch && (rc_walk || walked != patched || counted != patched))
		abort();
	return 0;
}
