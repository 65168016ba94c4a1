/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sample.h - choosing a random share of a target's data files for
 * `verify --sample`, so that a weekly job reads real bytes without
 * downloading everything. Pure but for sb_sample_seed(): the caller lists
 * the candidates (volumes and signature files) with their sizes, and reads
 * what is chosen; manifests, indexes and seals are never sampled out.
 *
 * Calling sequence: sb_sample_parse() the user's PERCENT or SIZE,
 * sb_sample_choose() with a seed from sb_sample_seed().
 */
#ifndef SEALBOX_SAMPLE_H
#define SEALBOX_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What to read: a share of the bytes, or a number of bytes (one is set). */
struct sb_sample {
	double percent; /* 0 < percent <= 100, or 0 */
	uint64_t bytes; /* > 0, or 0 */
};

/*
 * Parse "10%", "2.5%" (of the candidates' bytes) or a SIZE: bytes, or a
 * number with K, M, G or T (KiB, MiB, GiB, TiB; "500M", "2GiB"). Returns 0
 * or SB_ERR_PARAM (nothing logged: the caller names the option).
 */
int sb_sample_parse(const char *s, struct sb_sample *out);

/* A random seed (getrandom; the time if that fails). */
uint64_t sb_sample_seed(void);

/*
 * Choose among n candidates of the given sizes: in an order shuffled by
 * seed, each one that fits in the budget (the share of the total, rounded
 * up, or sp->bytes), and always at least one when n > 0. chosen[i] is set
 * for each candidate chosen. Returns the budget in bytes.
 */
uint64_t sb_sample_choose(const struct sb_sample *sp, const uint64_t *sizes, size_t n,
			  uint64_t seed, bool *chosen);

#endif
