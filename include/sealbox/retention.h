/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * retention.h - which backup chains a retention policy keeps: a pure
 * function from the chains' times and a policy to keep or remove, with the
 * reason for each. No I/O; `sealbox prune` lists the chains, calls
 * sb_retention_apply() and removes what it marks.
 *
 * A chain is the only unit this format can remove (its incrementals need
 * its full set), so the policy decides per chain, and a chain's time is the
 * end time of its newest set: a chain that spans several days counts for
 * the day of its last backup. Rules are unions, as in restic and borg:
 *   newest            the newest chain is always kept
 *   keep_chains N     the N newest chains
 *   within AGE        chains whose time is at most AGE before the newest's
 *   daily N, weekly N, monthly N, yearly N
 *                     the newest chain of each of the last N days (weeks:
 *                     ISO 8601, Monday first; months; years) that have one,
 *                     in local time (TZ)
 *   older_than AGE    chains whose time is at most AGE before now (the
 *                     older ones go); `prune --older-than`
 * A chain no rule keeps is removed.
 *
 * Calling sequence: fill an array of struct sb_retention_chain with .time
 * (any order), set a policy, sb_retention_apply(), then read .keep and
 * format the reason with sb_retention_reason().
 */
#ifndef SEALBOX_RETENTION_H
#define SEALBOX_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "sealbox/chain.h"

/* The rules of a policy; 0 (or -1 for the ages) leaves a rule out. */
struct sb_retention_policy {
	unsigned keep_chains;			 /* the N newest */
	unsigned daily, weekly, monthly, yearly; /* periods that have a chain */
	long long within;			 /* seconds before the newest; -1: none */
	long long older_than;			 /* seconds before now; -1: none */
};

/* What keeps a chain (bits of sb_retention_chain.why). */
enum sb_retention_why {
	SB_KEEP_NEWEST = 1 << 0,
	SB_KEEP_LAST = 1 << 1,
	SB_KEEP_WITHIN = 1 << 2,
	SB_KEEP_DAILY = 1 << 3,
	SB_KEEP_WEEKLY = 1 << 4,
	SB_KEEP_MONTHLY = 1 << 5,
	SB_KEEP_YEARLY = 1 << 6,
	SB_KEEP_YOUNG = 1 << 7, /* newer than older_than */
};

#define SB_RETENTION_PERIOD_LEN 12 /* "2026-12-05", "2026-W49", "2026-12", "2026" */

struct sb_retention_chain {
	time_t time;	 /* in: the end time of the chain's newest set */
	bool keep;	 /* out */
	unsigned why;	 /* out: enum sb_retention_why bits, 0 when removed */
	unsigned shadow; /* out: calendar rules (why bits) whose period a newer chain holds */
	/* out: the period each calendar rule saw the chain in (day, week, month, year) */
	char day[SB_RETENTION_PERIOD_LEN], week[SB_RETENTION_PERIOD_LEN];
	char month[SB_RETENTION_PERIOD_LEN], year[SB_RETENTION_PERIOD_LEN];
};

/* Fill p with no rule at all (the ages -1). */
void sb_retention_policy_init(struct sb_retention_policy *p);

/* Does p hold any rule? */
bool sb_retention_policy_any(const struct sb_retention_policy *p);

/*
 * Decide for each of the n chains (n >= 1, any order) whether p keeps it,
 * now being the current time. The newest chain is always kept. Returns the
 * number of chains removed, or SB_ERR_NOMEM (then nothing is decided).
 */
ssize_t sb_retention_apply(const struct sb_retention_policy *p, struct sb_retention_chain *c,
			   size_t n, time_t now);

/*
 * Why c is kept or removed, in words ("newest; daily 2026-12-05; weekly
 * 2026-W49", "no rule keeps it: ...") into out[size]; returns out.
 */
const char *sb_retention_reason(const struct sb_retention_policy *p,
				const struct sb_retention_chain *c, char *out, size_t size);

/*
 * The policy over the chains of a collection: *out (caller frees) gets one
 * entry per chain, in the collection's order, each chain's time being
 * sb_chain_end(). Returns 0 or SB_ERR_NOMEM.
 */
int sb_retention_plan(const struct sb_retention_policy *p, const struct sb_collection *c,
		      time_t now, struct sb_retention_chain **out);

#endif
