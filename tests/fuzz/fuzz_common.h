/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_common.h - what every libFuzzer target shares: a log handler that
 * drops messages, and a reader over the input that hands out at most max
 * bytes a call (short reads, as a transport or pipe gives them).
 */
#ifndef SEALBOX_FUZZ_COMMON_H
#define SEALBOX_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "sealbox/log.h"

static inline void fuzz_quiet(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

struct fuzz_src {
	const uint8_t *p;
	size_t len, max;
};

/* An sb_read_fn: ctx is the struct fuzz_src. */
static inline ssize_t fuzz_src_read(void *ctx, void *buf, size_t len)
{
	struct fuzz_src *s = ctx;
	size_t n = len < s->len ? len : s->len;

	if (n > s->max)
		n = s->max;
	memcpy(buf, s->p, n);
	s->p += n;
	s->len -= n;
	return (ssize_t)n;
}

#endif
