/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan.c - a restore's reading plan from the sets' indexes (see plan.h).
 * Sets are walked newest first; a path is settled by its newest snapshot or
 * deletion record, so older records of it are never needed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/index.h"
#include "sealbox/path.h"
#include "plan.h"

static int cmp_pp(const void *a, const void *b)
{
	const struct plan_path *x = a, *y = b;

	return sb_path_cmp(x->path, x->len, y->path, y->len);
}

static int add_path(struct plan_path **v, size_t *n, size_t *cap, const void *path, size_t len)
{
	char *copy;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct plan_path *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return SB_ERR_NOMEM;
		*v = nv;
		*cap = nc;
	}
	if (!(copy = malloc(len + 1)))
		return SB_ERR_NOMEM;
	memcpy(copy, path, len);
	copy[len] = '\0';
	(*v)[(*n)++] = (struct plan_path){copy, len};
	return 0;
}

static void free_paths(struct plan_path *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* Paths settled by newer sets, sorted. */
struct settled {
	struct plan_path *v;
	size_t n, cap;
};

static bool is_settled(const struct settled *s, const void *path, size_t len)
{
	struct plan_path key = {(char *)path, len};

	return s->n && bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_pp);
}

struct reading {
	const char *prefix;
	size_t plen;
	const struct settled *done;
	struct plan_set *ps;
	struct settled *add;
};

static int take_rec(void *ctx, const struct sb_index_rec *r)
{
	struct reading *rd = ctx;
	const char *path = r->path.data ? (const char *)r->path.data : "";
	int rc;

	if (!sb_path_has_prefix(path, r->path.len, rd->prefix, rd->plen) ||
	    is_settled(rd->done, path, r->path.len))
		return 0;
	if ((rc = add_path(&rd->ps->paths, &rd->ps->n, &rd->ps->cap, path, r->path.len)))
		return rc;
	if (r->kind != 'd')
		return add_path(&rd->add->v, &rd->add->n, &rd->add->cap, path, r->path.len);
	return 0;
}

/* Set s's records (its index, text) under prefix into ps; what they settle into *add. */
static int read_set(const struct sb_set *s, const struct sb_buf *text, const char *prefix,
		    const struct settled *done, struct plan_set *ps, struct settled *add)
{
	struct reading rd = {prefix, strlen(prefix), done, ps, add};
	int rc = sb_index_walk(text->data, text->len, s->index, take_rec, &rd);

	if (rc < 0)
		return rc;
	if (ps->n > 1)
		qsort(ps->paths, ps->n, sizeof(*ps->paths), cmp_pp);
	return 0;
}

/*
 * Indexes fetched newest first by FETCHERS threads, at most AHEAD beyond
 * the one being read: on a machine whose record does not hold them yet,
 * two gpg decrypt at once.
 */
#define FETCHERS 2
#define AHEAD 4

struct fetch {
	struct sb_gate *g;
	const struct sb_chain *ch;
	size_t nsets;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sb_buf *texts; /* [k]: the index of set nsets - 1 - k */
	int *rcs;
	bool *ready;
	size_t claimed, consumed;
	bool stop;
};

static void *fetch_main(void *arg)
{
	struct fetch *f = arg;
	size_t k;
	int rc;

	for (;;) {
		pthread_mutex_lock(&f->mu);
		while (!f->stop && f->claimed < f->nsets && f->claimed >= f->consumed + AHEAD)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop || f->claimed >= f->nsets) {
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		k = f->claimed++;
		pthread_mutex_unlock(&f->mu);
		rc = sb_gate_fetch_buf(f->g, &f->ch->sets[f->nsets - 1 - k],
				       f->ch->sets[f->nsets - 1 - k].index, NULL, SB_INDEX_MAX,
				       &f->texts[k]);
		pthread_mutex_lock(&f->mu);
		f->rcs[k] = rc;
		f->ready[k] = true;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
}

/* Wait for text k; 0 or the fetch's error. */
static int fetch_wait(struct fetch *f, size_t k)
{
	int rc;

	pthread_mutex_lock(&f->mu);
	while (!f->ready[k])
		pthread_cond_wait(&f->cv, &f->mu);
	rc = f->rcs[k];
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static void fetch_done_with(struct fetch *f, size_t k, bool stop)
{
	sb_buf_release(&f->texts[k]);
	pthread_mutex_lock(&f->mu);
	f->consumed = k + 1;
	f->stop |= stop;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* done += add (both sorted; add's strings move into done). */
static int merge_settled(struct settled *done, struct settled *add)
{
	struct plan_path *v;
	size_t i = 0, j = 0, k = 0;

	if (!add->n)
		return 0;
	qsort(add->v, add->n, sizeof(*add->v), cmp_pp);
	if (!(v = malloc((done->n + add->n) * sizeof(*v))))
		return SB_ERR_NOMEM;
	while (i < done->n || j < add->n)
		if (j == add->n || (i < done->n && cmp_pp(&done->v[i], &add->v[j]) <= 0))
			v[k++] = done->v[i++];
		else
			v[k++] = add->v[j++];
	free(done->v);
	done->v = v;
	done->n = done->cap = k;
	free(add->v);
	*add = (struct settled){0};
	return 0;
}

int plan_build(struct sb_gate *g, const struct sb_chain *ch, size_t nsets, const char *prefix,
	       struct plan **out)
{
	struct settled done = {0}, add = {0};
	struct fetch f = {.g = g, .ch = ch, .nsets = nsets};
	pthread_t th[FETCHERS];
	size_t i, k, nth = 0;
	struct plan *p;
	int rc = 0;

	*out = NULL;
	for (i = 0; i < nsets; i++)
		if (!ch->sets[i].index)
			return SB_ERR_NOTFOUND;
	p = calloc(1, sizeof(*p));
	f.texts = calloc(nsets, sizeof(*f.texts));
	f.rcs = calloc(nsets, sizeof(*f.rcs));
	f.ready = calloc(nsets, sizeof(*f.ready));
	if (!p || !f.texts || !f.rcs || !f.ready || !(p->sets = calloc(nsets, sizeof(*p->sets)))) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	p->nsets = nsets;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	while (nth < FETCHERS && nth < nsets && !pthread_create(&th[nth], NULL, fetch_main, &f))
		nth++;
	if (!nth)
		rc = SB_ERR_NOMEM;
	/* newest set first: a path is settled by its newest snapshot or deletion */
	for (k = 0; k < nsets && !rc; k++) {
		i = nsets - 1 - k;
		rc = fetch_wait(&f, k);
		if (!rc)
			rc = read_set(&ch->sets[i], &f.texts[k], prefix, &done, &p->sets[i], &add);
		if (!rc)
			rc = merge_settled(&done, &add);
		fetch_done_with(&f, k, rc != 0);
	}
	if (rc) {
		pthread_mutex_lock(&f.mu);
		f.stop = true;
		pthread_cond_broadcast(&f.cv);
		pthread_mutex_unlock(&f.mu);
	}
	while (nth)
		pthread_join(th[--nth], NULL);
	for (k = 0; k < nsets; k++)
		sb_buf_release(&f.texts[k]);
	pthread_mutex_destroy(&f.mu);
	pthread_cond_destroy(&f.cv);
out:
	free(f.texts);
	free(f.rcs);
	free(f.ready);
	free_paths(add.v, add.n);
	free_paths(done.v, done.n);
	if (rc) {
		plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsets; i++)
		free_paths(p->sets[i].paths, p->sets[i].n);
	free(p->sets);
	free(p);
}

bool plan_wants_vol(void *ctx, const struct sb_manifest_vol *v)
{
	const struct plan_set *ps = ctx;

	for (size_t k = 0; k < ps->n; k++)
		if (sb_manifest_vol_may_contain(v, ps->paths[k].path, ps->paths[k].len))
			return true;
	return false;
}

bool plan_needs(struct plan *p, size_t i, const char *path, size_t len)
{
	struct plan_set *ps = &p->sets[i];
	int c = -1;

	while (ps->next < ps->n && (c = sb_path_cmp(ps->paths[ps->next].path,
						    ps->paths[ps->next].len, path, len)) < 0) {
		if (!ps->missed)
			ps->missed = &ps->paths[ps->next]; /* passed by: the stream lacks it */
		ps->next++;
	}
	if (ps->next < ps->n && c == 0) {
		ps->next++;
		return true;
	}
	return false;
}

const struct plan_path *plan_missed(const struct plan *p, size_t i)
{
	const struct plan_set *ps = &p->sets[i];

	if (ps->missed)
		return ps->missed;
	return ps->next < ps->n ? &ps->paths[ps->next] : NULL;
}
