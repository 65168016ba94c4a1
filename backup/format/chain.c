/* SPDX-License-Identifier: GPL-2.0-or-later */
/* chain.c - sets and chains from a listing of the target (see chain.h). */
#include <stdlib.h>
#include <string.h>

#include "sealbox/chain.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/names.h"

struct set_list {
	struct sb_set *v;
	size_t n, cap;
};

static void set_release(struct sb_set *s)
{
	unsigned i;

	free(s->manifest);
	free(s->sig);
	free(s->index);
	free(s->seal);
	for (i = 0; i < s->nvols; i++)
		free(s->vols[i]);
	free(s->vols);
	memset(s, 0, sizeof(*s));
}

static struct sb_set *find_set(struct set_list *l, const struct sb_name *n)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].full == n->full && l->v[i].t0 == n->t0 && l->v[i].t1 == n->t1)
			return &l->v[i];
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct sb_set *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].full = n->full;
	l->v[l->n].t0 = n->t0;
	l->v[l->n].t1 = n->t1;
	return &l->v[l->n++];
}

/* Highest volume number taken; larger ones are ignored like other junk names. */
#define MAX_VOL 1000000u

/* Record one name into its set; duplicates keep the first (the build records
 * encrypted names before plain ones, so the encrypted copy wins). */
static int add_name(struct sb_set *s, const struct sb_name *n, const char *name, uint64_t size,
		    size_t *slots)
{
	char **slot = NULL;

	switch (n->kind) {
	case SB_KIND_MANIFEST: slot = &s->manifest; break;
	case SB_KIND_SIG: slot = &s->sig; break;
	case SB_KIND_INDEX: slot = &s->index; break;
	case SB_KIND_SEAL: slot = &s->seal; break;
	case SB_KIND_VOL:
		if (n->vol == 0 || n->vol > MAX_VOL)
			return 0;
		if (n->vol > s->nvols) {
			char **v;

			/* volume slots are bounded by the listing, not by the numbers in it */
			if (n->vol - s->nvols > *slots)
				return SB_ERR_CORRUPT;
			*slots -= n->vol - s->nvols;
			v = realloc(s->vols, n->vol * sizeof(*v));
			if (!v)
				return SB_ERR_NOMEM;
			memset(v + s->nvols, 0, (n->vol - s->nvols) * sizeof(*v));
			s->vols = v;
			s->nvols = n->vol;
		}
		slot = &s->vols[n->vol - 1];
		break;
	}
	if (!slot || *slot)
		return 0;
	if (!(*slot = strdup(name)))
		return SB_ERR_NOMEM;
	if (n->encrypted)
		s->encrypted = true;
	s->bytes += size;
	return 0;
}

static int cmp_set_time(const void *a, const void *b)
{
	const struct sb_set *x = a, *y = b;

	if (x->t1 != y->t1)
		return x->t1 < y->t1 ? -1 : 1;
	if (x->full != y->full)
		return x->full ? -1 : 1;
	return 0;
}

static int push_set(struct sb_set **v, size_t *n, struct sb_set *s)
{
	struct sb_set *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return SB_ERR_NOMEM;
	*v = nv;
	nv[(*n)++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

int sb_collection_build(const struct sb_dirent_list *l, struct sb_collection *c)
{
	struct set_list sets = {0};
	struct sb_name n;
	struct sb_set *s;
	size_t i, j, pass;
	size_t slots = 4 * l->n + 1024; /* volume slots all sets may take */
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < l->n && !rc; i++) {
		const char *name = l->names[i];
		char **t;

		if (strncmp(name, SB_TMP_PREFIX, strlen(SB_TMP_PREFIX)) != 0)
			continue;
		t = realloc(c->tmp, (c->ntmp + 1) * sizeof(*t));
		if (t)
			c->tmp = t;
		if (!t || !(t[c->ntmp] = strdup(name)))
			rc = SB_ERR_NOMEM;
		else
			c->ntmp++;
	}
	/*
	 * Two passes, encrypted names first, so that when a file exists both
	 * plain and encrypted the encrypted one is kept: the listing is sorted,
	 * and "X.manifest" sorts before "X.manifest.gpg".
	 */
	for (pass = 0; pass < 2 && !rc; pass++) {
		for (i = 0; i < l->n && !rc; i++) {
			const char *name = l->names[i];

			if (strncmp(name, SB_TMP_PREFIX, strlen(SB_TMP_PREFIX)) == 0 ||
			    sb_name_parse(name, &n) != 0 || n.partial || n.encrypted != (pass == 0))
				continue;
			/* an unusable volume number must not create a set of its own */
			if (n.kind == SB_KIND_VOL && n.vol > MAX_VOL)
				continue;
			s = find_set(&sets, &n);
			rc = s ? add_name(s, &n, name, l->sizes ? l->sizes[i] : 0, &slots)
			       : SB_ERR_NOMEM;
			if (rc == SB_ERR_CORRUPT)
				sb_error("%s: a volume number far beyond the files listed: not a "
					 "target sealbox reads",
					 sb_log_str(name, strlen(name)));
		}
	}
	if (rc)
		goto out;
	if (sets.n) /* sets.v is NULL for an empty listing; qsort's base must not be */
		qsort(sets.v, sets.n, sizeof(*sets.v), cmp_set_time);
	for (i = 0; i < sets.n && !rc; i++) {
		s = &sets.v[i];
		if (!s->manifest) {
			rc = push_set(&c->incomplete, &c->nincomplete, s);
			continue;
		}
		if (s->full) {
			struct sb_chain *ch = realloc(c->chains, (c->nchains + 1) * sizeof(*ch));
			if (!ch) {
				rc = SB_ERR_NOMEM;
				break;
			}
			c->chains = ch;
			memset(&ch[c->nchains], 0, sizeof(*ch));
			rc = push_set(&ch[c->nchains].sets, &ch[c->nchains].nsets, s);
			c->nchains++;
			continue;
		}
		for (j = 0; j < c->nchains; j++)
			if (sb_chain_end(&c->chains[j]) == s->t0)
				break;
		if (j < c->nchains)
			rc = push_set(&c->chains[j].sets, &c->chains[j].nsets, s);
		else
			rc = push_set(&c->orphans, &c->norphans, s);
	}
out:
	for (i = 0; i < sets.n; i++)
		set_release(&sets.v[i]);
	free(sets.v);
	if (rc)
		sb_collection_release(c);
	return rc;
}

void sb_collection_release(struct sb_collection *c)
{
	size_t i, j;

	for (i = 0; i < c->nchains; i++) {
		for (j = 0; j < c->chains[i].nsets; j++)
			set_release(&c->chains[i].sets[j]);
		free(c->chains[i].sets);
	}
	free(c->chains);
	for (i = 0; i < c->nincomplete; i++)
		set_release(&c->incomplete[i]);
	free(c->incomplete);
	for (i = 0; i < c->norphans; i++)
		set_release(&c->orphans[i]);
	free(c->orphans);
	for (i = 0; i < c->ntmp; i++)
		free(c->tmp[i]);
	free(c->tmp);
	memset(c, 0, sizeof(*c));
}

const struct sb_chain *sb_collection_chain_for_time(const struct sb_collection *c, time_t t)
{
	const struct sb_chain *best = NULL;
	size_t i;

	for (i = 0; i < c->nchains; i++) {
		const struct sb_chain *ch = &c->chains[i];

		if (sb_chain_start(ch) <= t && t <= sb_chain_end(ch))
			return ch;
		if (sb_chain_end(ch) < t)
			best = ch;
	}
	return best;
}

size_t sb_chain_sets_upto(const struct sb_chain *ch, time_t t)
{
	size_t n = 0;

	while (n < ch->nsets && ch->sets[n].t1 <= t)
		n++;
	return n;
}

const struct sb_chain *sb_collection_latest(const struct sb_collection *c)
{
	return c->nchains ? &c->chains[c->nchains - 1] : NULL;
}

size_t sb_set_files(const struct sb_set *s, const char **names, size_t max)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < s->nvols; i++)
		if (s->vols[i] && n < max)
			names[n++] = s->vols[i];
	if (s->sig && n < max)
		names[n++] = s->sig;
	if (s->index && n < max)
		names[n++] = s->index;
	if (s->seal && n < max)
		names[n++] = s->seal;
	if (s->manifest && n < max)
		names[n++] = s->manifest;
	return n;
}
