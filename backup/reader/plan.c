/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan.c - a restore's reading plan from the sets' indexes (see plan.h).
 * Sets are walked newest first; a path is settled by its newest snapshot or
 * deletion record, so older records of it are never needed.
 */
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/index.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "plan.h"

#define PLAN_MAX_INDEX (64u << 20) /* plaintext of one index (as the mount takes) */

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

/* Set i's records under prefix into p->sets[i]; what they settle into *add. */
static int read_set(struct sb_gate *g, const struct sb_set *s, const char *prefix,
		    const struct settled *done, struct plan_set *ps, struct settled *add)
{
	struct sb_buf text = SB_BUF_INIT;
	struct sb_index_rec r;
	size_t pos = strlen(SB_INDEX_HEADER), plen = strlen(prefix);
	int rc;

	rc = sb_gate_fetch_buf(g, s, s->index, NULL, PLAN_MAX_INDEX, &text);
	if (rc)
		return rc;
	if (text.len < pos || memcmp(text.data, SB_INDEX_HEADER, pos)) {
		sb_error("index %s: not a sealbox index", s->index);
		sb_buf_release(&text);
		return SB_ERR_CORRUPT;
	}
	sb_index_rec_init(&r);
	while ((rc = sb_index_parse_next((const char *)text.data, text.len, &pos, &r)) == 1) {
		const char *path = r.path.data ? (const char *)r.path.data : "";

		if (!sb_path_has_prefix(path, r.path.len, prefix, plen) ||
		    is_settled(done, path, r.path.len))
			continue;
		if ((rc = add_path(&ps->paths, &ps->n, &ps->cap, path, r.path.len)))
			break;
		if (r.kind != 'd' && (rc = add_path(&add->v, &add->n, &add->cap, path, r.path.len)))
			break;
	}
	sb_index_rec_release(&r);
	sb_buf_release(&text);
	if (rc == SB_ERR_CORRUPT)
		sb_error("index %s is corrupt near byte %zu", s->index, pos);
	if (rc < 0)
		return rc;
	if (ps->n > 1)
		qsort(ps->paths, ps->n, sizeof(*ps->paths), cmp_pp);
	return 0;
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
	struct plan *p;
	size_t i;
	int rc = 0;

	*out = NULL;
	for (i = 0; i < nsets; i++)
		if (!ch->sets[i].index)
			return SB_ERR_NOTFOUND;
	if (!(p = calloc(1, sizeof(*p))) || !(p->sets = calloc(nsets, sizeof(*p->sets)))) {
		free(p);
		return SB_ERR_NOMEM;
	}
	p->nsets = nsets;
	for (i = nsets; i-- > 0 && !rc;) {
		rc = read_set(g, &ch->sets[i], prefix, &done, &p->sets[i], &add);
		if (!rc)
			rc = merge_settled(&done, &add);
	}
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
