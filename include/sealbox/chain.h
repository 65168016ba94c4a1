/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * chain.h - grouping a target's files into sets and chains (duplicity-format.md §1.4).
 *
 * A set is the files of one run; it is complete when its manifest exists.
 * A chain is a full set followed by incrementals, each starting where the
 * previous one ended. Built from a listing, read-only afterwards.
 */
#ifndef SEALBOX_CHAIN_H
#define SEALBOX_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sealbox/dirent.h"

struct sb_set {
	bool full;
	time_t t0, t1;	/* full: t0 == t1 */
	char *manifest; /* remote names (owned), NULL when absent */
	char *sig;
	char *index;
	char *seal;
	char **vols;	/* vols[i]: volume i + 1, NULL for a gap */
	unsigned nvols; /* highest volume number seen */
	bool encrypted; /* its files end in .gpg */
	uint64_t bytes; /* sum of the remote sizes */
};

struct sb_chain {
	struct sb_set *sets; /* sets[0] is the full set; by time */
	size_t nsets;
};

struct sb_collection {
	struct sb_chain *chains; /* by time */
	size_t nchains;
	struct sb_set *incomplete; /* sets without a manifest */
	size_t nincomplete;
	struct sb_set *orphans; /* complete incrementals that fit no chain */
	size_t norphans;
	char **tmp; /* leftover temporary uploads */
	size_t ntmp;
};

/* Group a listing; names that are not archive files are ignored. */
int sb_collection_build(const struct sb_dirent_list *l, struct sb_collection *c);
void sb_collection_release(struct sb_collection *c);

static inline time_t sb_chain_start(const struct sb_chain *ch) { return ch->sets[0].t1; }
static inline time_t sb_chain_end(const struct sb_chain *ch) { return ch->sets[ch->nsets - 1].t1; }

/*
 * duplicity's choice of chain for time t (§7.1): the chain with
 * start <= t <= end, else the latest ending before t, else NULL when t is
 * before every chain. NULL when there are none.
 */
const struct sb_chain *sb_collection_chain_for_time(const struct sb_collection *c, time_t t);

/* Number of sets of ch with time <= t (0: t is before the chain). */
size_t sb_chain_sets_upto(const struct sb_chain *ch, time_t t);

/* The newest chain, or NULL. */
const struct sb_chain *sb_collection_latest(const struct sb_collection *c);

/* Every remote file name of a set (volumes, manifest, sig, index, seal). */
size_t sb_set_files(const struct sb_set *s, const char **names, size_t max);

#endif
