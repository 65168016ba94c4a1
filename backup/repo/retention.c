/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * retention.c - a retention policy over chains' times (see retention.h).
 * Pure: no I/O, no chain structures; the caller maps chains to times and
 * removes what is marked. Calendar periods are local time, as a user's
 * "daily" means (localtime_r honours TZ).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sealbox/error.h"
#include "sealbox/retention.h"

void sb_retention_policy_init(struct sb_retention_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->within = -1;
	p->older_than = -1;
}

bool sb_retention_policy_any(const struct sb_retention_policy *p)
{
	return p->keep_chains || p->daily || p->weekly || p->monthly || p->yearly ||
	       p->within >= 0 || p->older_than >= 0;
}

/* The day, ISO week, month and year of c->time, local time. */
static void periods(struct sb_retention_chain *c)
{
	struct tm tm;

	if (!localtime_r(&c->time, &tm)) {
		c->day[0] = c->week[0] = c->month[0] = c->year[0] = '\0';
		return;
	}
	strftime(c->day, sizeof(c->day), "%Y-%m-%d", &tm);
	strftime(c->week, sizeof(c->week), "%G-W%V", &tm);
	strftime(c->month, sizeof(c->month), "%Y-%m", &tm);
	strftime(c->year, sizeof(c->year), "%Y", &tm);
}

struct by_time {
	time_t t;
	size_t i; /* position in the caller's array */
};

/* Newest first; equal times by position, so the order is total. */
static int cmp_newest(const void *a, const void *b)
{
	const struct by_time *x = a, *y = b;

	if (x->t != y->t)
		return x->t > y->t ? -1 : 1;
	return x->i > y->i ? -1 : x->i < y->i;
}

/* One calendar rule: the newest chain of each of the last n periods. */
static void bucket(struct sb_retention_chain *c, const size_t *ord, size_t nc, unsigned n,
		   size_t off, unsigned bit)
{
	const char *last = NULL;

	for (size_t k = 0; k < nc && n; k++) {
		struct sb_retention_chain *x = &c[ord[k]];
		const char *key = (const char *)x + off;

		if (last && !strcmp(key, last)) {
			x->shadow |= bit;
			continue;
		}
		x->why |= bit;
		last = key;
		n--;
	}
	/* past the last slot: chains in the last kept period are still shadowed */
	for (size_t k = 0; k < nc && last; k++) {
		struct sb_retention_chain *x = &c[ord[k]];

		if (!(x->why & bit) && !strcmp((const char *)x + off, last))
			x->shadow |= bit;
	}
}

ssize_t sb_retention_apply(const struct sb_retention_policy *p, struct sb_retention_chain *c,
			   size_t n, time_t now)
{
	struct by_time *bt;
	size_t *ord, k, removed = 0;
	time_t newest;

	if (!n)
		return 0;
	ord = malloc(n * sizeof(*ord));
	bt = malloc(n * sizeof(*bt));
	for (k = 0; k < n; k++) {
		c[k].why = c[k].shadow = 0;
		periods(&c[k]);
		if (bt)
			bt[k] = (struct by_time){c[k].time, k};
	}
	if (!ord || !bt) {
		free(ord);
		free(bt);
		return SB_ERR_NOMEM;
	}
	qsort(bt, n, sizeof(*bt), cmp_newest);
	for (k = 0; k < n; k++)
		ord[k] = bt[k].i;
	free(bt);
	newest = c[ord[0]].time;
	c[ord[0]].why |= SB_KEEP_NEWEST;
	for (k = 0; k < n; k++) {
		struct sb_retention_chain *x = &c[ord[k]];

		if (k < p->keep_chains)
			x->why |= SB_KEEP_LAST;
		if (p->within >= 0 && (long long)x->time >= (long long)newest - p->within)
			x->why |= SB_KEEP_WITHIN;
		if (p->older_than >= 0 && (long long)x->time >= (long long)now - p->older_than)
			x->why |= SB_KEEP_YOUNG;
	}
	bucket(c, ord, n, p->daily, offsetof(struct sb_retention_chain, day), SB_KEEP_DAILY);
	bucket(c, ord, n, p->weekly, offsetof(struct sb_retention_chain, week), SB_KEEP_WEEKLY);
	bucket(c, ord, n, p->monthly, offsetof(struct sb_retention_chain, month), SB_KEEP_MONTHLY);
	bucket(c, ord, n, p->yearly, offsetof(struct sb_retention_chain, year), SB_KEEP_YEARLY);
	for (k = 0; k < n; k++) {
		c[k].keep = c[k].why != 0;
		removed += !c[k].keep;
	}
	free(ord);
	return (ssize_t)removed;
}

/* An age in the largest unit that divides it (duplicity's units). */
static void age_format(long long s, char *out, size_t size)
{
	static const struct {
		long long secs;
		char unit;
	} units[] = {{365LL * 86400, 'Y'}, {30LL * 86400, 'M'}, {7 * 86400, 'W'},
		     {86400, 'D'},	   {3600, 'h'},		{60, 'm'}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s && s % units[i].secs == 0) {
			snprintf(out, size, "%lld%c", s / units[i].secs, units[i].unit);
			return;
		}
	snprintf(out, size, "%llds", s);
}

struct text {
	char *p;
	size_t size, len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (t->len >= t->size)
		return;
	if (t->len) {
		k = snprintf(t->p + t->len, t->size - t->len, "; ");
		t->len += k > 0 ? (size_t)k : 0;
		if (t->len >= t->size)
			return;
	}
	va_start(ap, fmt);
	k = vsnprintf(t->p + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	t->len += k > 0 ? (size_t)k : 0;
}

static const struct {
	unsigned bit;
	const char *name, *period;
	size_t off;
} cal[] = {
	{SB_KEEP_DAILY, "daily", "day", offsetof(struct sb_retention_chain, day)},
	{SB_KEEP_WEEKLY, "weekly", "week", offsetof(struct sb_retention_chain, week)},
	{SB_KEEP_MONTHLY, "monthly", "month", offsetof(struct sb_retention_chain, month)},
	{SB_KEEP_YEARLY, "yearly", "year", offsetof(struct sb_retention_chain, year)},
};

static unsigned cal_n(const struct sb_retention_policy *p, unsigned bit)
{
	return bit == SB_KEEP_DAILY	? p->daily
	       : bit == SB_KEEP_WEEKLY	? p->weekly
	       : bit == SB_KEEP_MONTHLY ? p->monthly
					: p->yearly;
}

const char *sb_retention_reason(const struct sb_retention_policy *p,
				const struct sb_retention_chain *c, char *out, size_t size)
{
	struct text t = {out, size, 0};
	char age[32];
	size_t i;

	if (!size)
		return out;
	out[0] = '\0';
	if (c->why & SB_KEEP_NEWEST)
		add(&t, "the newest chain");
	if (c->why & SB_KEEP_LAST)
		add(&t, "among the %u newest (keep-chains)", p->keep_chains);
	if (c->why & SB_KEEP_WITHIN) {
		age_format(p->within, age, sizeof(age));
		add(&t, "within %s of the newest (keep-within)", age);
	}
	if (c->why & SB_KEEP_YOUNG) {
		age_format(p->older_than, age, sizeof(age));
		add(&t, "not older than %s (older-than)", age);
	}
	for (i = 0; i < sizeof(cal) / sizeof(cal[0]); i++)
		if (c->why & cal[i].bit)
			add(&t, "%s %s", cal[i].name, (const char *)c + cal[i].off);
	if (c->keep)
		return out;
	add(&t, "no rule keeps it");
	if (p->keep_chains)
		add(&t, "not among the %u newest", p->keep_chains);
	if (p->within >= 0) {
		age_format(p->within, age, sizeof(age));
		add(&t, "more than %s before the newest", age);
	}
	if (p->older_than >= 0) {
		age_format(p->older_than, age, sizeof(age));
		add(&t, "older than %s", age);
	}
	for (i = 0; i < sizeof(cal) / sizeof(cal[0]); i++) {
		if (!cal_n(p, cal[i].bit))
			continue;
		if (c->shadow & cal[i].bit)
			add(&t, "%s %s has a newer chain", cal[i].period,
			    (const char *)c + cal[i].off);
		else
			add(&t, "%s %s is past the %u %s kept", cal[i].period,
			    (const char *)c + cal[i].off, cal_n(p, cal[i].bit), cal[i].name);
	}
	return out;
}

int sb_retention_plan(const struct sb_retention_policy *p, const struct sb_collection *c,
		      time_t now, struct sb_retention_chain **out)
{
	struct sb_retention_chain *r = calloc(c->nchains ? c->nchains : 1, sizeof(*r));

	*out = NULL;
	if (!r)
		return SB_ERR_NOMEM;
	for (size_t i = 0; i < c->nchains; i++)
		r[i].time = sb_chain_end(&c->chains[i]);
	if (c->nchains && sb_retention_apply(p, r, c->nchains, now) < 0) {
		free(r);
		return SB_ERR_NOMEM;
	}
	*out = r;
	return 0;
}
