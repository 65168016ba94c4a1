/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pruned.h - the archive dir's memory of the chains prune removed.
 *
 * The seals of all chains form one hash chain (seal.h). When prune removes
 * a chain between two it keeps, the next chain's first seal names a seal no
 * longer on the target, which is also what a cut looks like (the last sets
 * of the chain before removed by someone else). prune records here, before
 * removing a chain, the SHA-256 of the seal of the chain's newest set, so
 * that verify on this machine can tell the two apart.
 *
 * Calling sequence: sb_catalog_open(), sb_pruned_remember() per chain
 * before removing it (prune) or sb_pruned_has() (verify),
 * sb_catalog_close().
 */
#ifndef SEALBOX_PRUNED_H
#define SEALBOX_PRUNED_H

#include "sealbox/catalog.h"
#include "sealbox/chain.h"
#include "sealbox/gate.h"

/* Remember sha (the SHA-256 of a removed seal file's bytes). 0 or an error. */
int sb_pruned_add(struct sb_catalog *cat, const unsigned char sha[32]);

/* 1 when sha was recorded by sb_pruned_add(), 0 when not, < 0 on error. */
int sb_pruned_has(struct sb_catalog *cat, const unsigned char sha[32]);

/*
 * Read the seal of ch's newest set through the gate and remember its
 * SHA-256; a chain whose newest set has no seal (duplicity's) is skipped.
 * 0 or an error (logged): then the chain must not be removed.
 */
int sb_pruned_remember(struct sb_catalog *cat, struct sb_gate *g, const struct sb_chain *ch);

#endif
