/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan.h - private to the reader: which objects of which sets a restore of
 * one path needs, read from the sets' indexes (index.h) instead of from
 * every set's volumes.
 *
 * A path's state in a snapshot is its newest snapshot or deletion record
 * and the diffs after it; everything older is not read. A set none of
 * whose records are needed is not opened at all, and a set's volumes are
 * chosen by the paths needed from it. Indexes come through the gate (proven,
 * and from this machine's record of proven plaintext once read), so a long
 * chain costs one small lookup per set, not one volume.
 */
#ifndef SEALBOX_READER_PLAN_H
#define SEALBOX_READER_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "sealbox/chain.h"
#include "sealbox/gate.h"
#include "sealbox/manifest.h"

struct plan_path {
	char *path; /* normalised, as the set streams give it */
	size_t len;
};

struct plan_set {
	struct plan_path *paths; /* needed from this set, in stream order */
	size_t n, cap;
	size_t next;			/* the merge's cursor */
	const struct plan_path *missed; /* the first one the stream passed by */
};

struct plan {
	size_t nsets;
	struct plan_set *sets;
};

/*
 * The plan for the first nsets sets of ch (proven) under prefix (not "").
 * SB_ERR_NOTFOUND, not logged, when a set has no index (duplicity's): read
 * every set's stream then, as without a plan.
 */
int plan_build(struct sb_gate *g, const struct sb_chain *ch, size_t nsets, const char *prefix,
	       struct plan **out);
void plan_free(struct plan *p);

/*
 * Whether set i's object at path is needed: the cursor of set i moves on
 * past paths before it (call with the set's objects in stream order).
 */
bool plan_needs(struct plan *p, size_t i, const char *path, size_t len);
/* For ss_open_sel(): whether volume v of a set may hold a path needed from
 * it (ctx: its struct plan_set). */
bool plan_wants_vol(void *ctx, const struct sb_manifest_vol *v);
/* The first path set i's stream never gave (the index and volumes disagree), or NULL. */
const struct plan_path *plan_missed(const struct plan *p, size_t i);

#endif
