/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify.c - a target against its seals (see verify.h). Reads only remote
 * files and the archive dir's catalog; needs no secret key. It does not
 * decrypt volumes (restore does) nor write anything.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sealbox/catalog.h"
#include "sealbox/error.h"
#include "sealbox/gate.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/manifest.h"
#include "sealbox/names.h"
#include "sealbox/pruned.h"
#include "sealbox/seal.h"
#include "sealbox/verify.h"
#include "sealbox/setstream.h"

static const char *const class_names[SB_VERIFY_NCLASSES] = {
	"note", "modified", "truncated", "missing", "unexpected", "chain", "foreign", "rollback",
};

const char *sb_verify_class_name(enum sb_verify_class c)
{
	return (unsigned)c < SB_VERIFY_NCLASSES ? class_names[c] : "?";
}

struct vseal {
	const char *name; /* borrowed from the listing */
	struct sb_name n;
	unsigned char sha[32]; /* of the seal file */
	enum sb_seal_verdict verdict;
	struct sb_seal s;
	bool ours; /* good, names its set, our backup id */
};

struct sealed {
	const char *name; /* borrowed from a seal */
	const struct sb_seal_file *f;
	const struct vseal *seal;
	bool seen;
};

struct ver {
	const struct sb_verify_opts *o;
	struct sb_verify_stats *st;
	const struct sb_dirent_list *l;	  /* the gate's */
	const struct sb_collection *coll; /* the gate's */
	struct vseal *seals;
	size_t nseals;
	struct sealed *files;
	size_t nfiles;
	char last[256]; /* newest seal this machine wrote, "" if unknown */
	unsigned char last_sha[32];
	char id[SB_SEAL_ID_LEN + 1]; /* the target's backup id */
	bool *skip;		/* by listing index: a data file the sample left out; NULL: none */
	struct sb_catalog *cat; /* the archive dir's, NULL when there is none */
};

static void report(struct ver *v, enum sb_verify_class c, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct ver *v, enum sb_verify_class c, const char *file, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->st->count[c]++;
	if (v->o->report)
		v->o->report(v->o->ctx, c, file, msg);
}

static bool same_set(const struct sb_name *a, const struct sb_name *b)
{
	return a->full == b->full && a->t0 == b->t0 && a->t1 == b->t1;
}

/* The SHA-256 of n bytes (zeros if it cannot be had: then it matches nothing real). */
static void sha256_of(const void *p, size_t n, unsigned char out[32])
{
	if (sb_hash_buf(SB_HASH_ALG_SHA256, p, n, out))
		memset(out, 0, 32);
}

/* The archive dir's memory of our newest seal and backup id (never creates it). */
static int read_catalog(struct ver *v)
{
	const char *dir = v->o->archive_dir;
	struct sb_catalog *cat = NULL;
	char path[4200], *val = NULL;
	struct stat st;
	int rc;

	if (!dir)
		return 0;
	snprintf(path, sizeof(path), "%s/sealbox.db", dir);
	if (stat(path, &st) < 0)
		return 0;
	if ((rc = sb_catalog_open(dir, &cat)))
		return rc;
	if (sb_catalog_get(cat, SB_SEAL_CAT_ID, &val) == 0 && strlen(val) == SB_SEAL_ID_LEN)
		memcpy(v->id, val, SB_SEAL_ID_LEN + 1);
	free(val);
	val = NULL;
	if (sb_catalog_last_seal(cat, v->last, v->last_sha) == 1)
		v->st->rollback_checked = true;
	else
		v->last[0] = '\0';
	free(val);
	v->cat = cat; /* kept for the record of pruned chains */
	return 0;
}

/* Fetch and check every seal file. */
static int load_seals(struct ver *v)
{
	struct sb_buf text = SB_BUF_INIT;
	char why[256];
	size_t i;
	int rc = 0;

	v->seals = calloc(v->l->n ? v->l->n : 1, sizeof(*v->seals));
	if (!v->seals)
		return SB_ERR_NOMEM;
	for (i = 0; i < v->l->n; i++) {
		struct vseal *s = &v->seals[v->nseals];

		if (sb_name_parse(v->l->names[i], &s->n) || s->n.kind != SB_KIND_SEAL)
			continue;
		s->name = v->l->names[i];
		sb_seal_init(&s->s);
		v->nseals++;
		v->st->seals++;
		sb_buf_reset(&text);
		rc = sb_gate_get_small(v->o->gate, s->name, SB_GATE_MAX_SEAL, &text);
		if (rc == SB_ERR_CORRUPT) { /* larger than any seal: never parsed */
			report(v, SB_VERIFY_MODIFIED, s->name, "seal is larger than any seal");
			s->verdict = SB_SEAL_BAD;
			rc = 0;
			continue;
		}
		if (rc)
			break;
		sha256_of(text.data, text.len, s->sha);
		rc = sb_gate_check_seal(v->o->gate, text.data, text.len, s->sha, &s->s, &s->verdict,
					why);
		if (rc)
			break;
		if (s->verdict == SB_SEAL_FOREIGN)
			report(v, SB_VERIFY_FOREIGN, s->name, "seal %s", why);
		else if (s->verdict == SB_SEAL_BAD)
			report(v, SB_VERIFY_MODIFIED, s->name, "seal %s", why);
		else if (s->s.full != s->n.full || s->s.t0 != s->n.t0 || s->s.t1 != s->n.t1)
			report(v, SB_VERIFY_CHAIN, s->name,
			       "seal describes another set than its name says (renamed or moved)");
		else
			s->ours = true;
	}
	sb_buf_release(&text);
	return rc;
}

/* One backup id: the catalog's, else the most common among good seals. */
static void check_ids(struct ver *v)
{
	size_t i, j, best = 0;

	if (!v->id[0]) {
		for (i = 0; i < v->nseals; i++) {
			size_t k = 0;

			if (!v->seals[i].ours)
				continue;
			for (j = 0; j < v->nseals; j++)
				k += v->seals[j].ours &&
				     !strcmp(v->seals[j].s.backup_id, v->seals[i].s.backup_id);
			if (k > best || (k == best && k)) {
				best = k;
				memcpy(v->id, v->seals[i].s.backup_id, sizeof(v->id));
			}
		}
	}
	for (i = 0; i < v->nseals; i++) {
		struct vseal *s = &v->seals[i];

		if (s->ours && strcmp(s->s.backup_id, v->id)) {
			s->ours = false;
			report(v, SB_VERIFY_CHAIN, s->name,
			       "seal belongs to another backup (id %s, this target's is %s): a set "
			       "copied from elsewhere",
			       s->s.backup_id, v->id);
		}
	}
}

static int cmp_seal_time(const void *a, const void *b)
{
	const struct vseal *x = *(const struct vseal *const *)a,
			   *y = *(const struct vseal *const *)b;

	return x->n.t1 < y->n.t1 ? -1 : x->n.t1 > y->n.t1;
}

/* Is one of our seals on the target the one whose SHA-256 is sha? */
static bool seal_with_sha(const struct ver *v, const unsigned char sha[32])
{
	for (size_t i = 0; i < v->nseals; i++)
		if (v->seals[i].ours && !memcmp(v->seals[i].sha, sha, 32))
			return true;
	return false;
}

/*
 * May the seal whose SHA-256 is sha be missing? Yes when prune with this
 * archive dir removed its chain, or when the archive dir is not the
 * backup's (no rollback check either); not when the backup's does not
 * know it: then the sets were removed by someone else.
 */
static bool gap_pruned(const struct ver *v, const unsigned char sha[32])
{
	return !v->st->rollback_checked || sb_pruned_has(v->cat, sha) == 1;
}

/*
 * Each of our seals must name the SHA-256 of the one before it (by set
 * time). A full set's seal may follow one no longer there: prune removes
 * whole chains, older ones or ones in between.
 */
static int check_links(struct ver *v)
{
	const struct vseal **ord = calloc(v->nseals ? v->nseals : 1, sizeof(*ord));
	size_t i, n = 0;

	if (!ord)
		return SB_ERR_NOMEM;
	/* altered seals keep their place (their successors are not blamed) */
	for (i = 0; i < v->nseals; i++)
		if (v->seals[i].ours || v->seals[i].verdict == SB_SEAL_BAD)
			ord[n++] = &v->seals[i];
	qsort(ord, n, sizeof(*ord), cmp_seal_time);
	for (i = 0; i < n; i++) {
		const struct vseal *s = ord[i], *p = i ? ord[i - 1] : NULL;

		if (!s->ours || (p && !p->ours))
			continue;
		if (!p) {
			if (s->s.has_prev && s->s.full)
				report(v, SB_VERIFY_NOTE, s->name,
				       "the oldest seal follows one that is no longer on the target "
				       "(older chains removed)");
			else if (s->s.has_prev)
				report(v, SB_VERIFY_CHAIN, s->name,
				       "the oldest seal is of an incremental set and follows a seal "
				       "that is not on the target (the chain's start was removed)");
		} else if (!s->s.has_prev) {
			report(v, SB_VERIFY_CHAIN, s->name,
			       "seal starts a new hash chain, but %s comes before it", p->name);
		} else if (memcmp(s->s.prev, p->sha, 32) && s->s.full &&
			   !seal_with_sha(v, s->s.prev) && gap_pruned(v, s->s.prev)) {
			/* whole chains removed by prune's retention rules (pruned.h) */
			report(v, SB_VERIFY_NOTE, s->name,
			       "the seal of this chain's full set follows a seal that is no longer "
			       "on the target: the chain(s) between %s and this one were removed%s",
			       p->name,
			       v->st->rollback_checked
				       ? " by prune on this machine"
				       : " (no archive dir of the backup here to tell whether by prune)");
		} else if (memcmp(s->s.prev, p->sha, 32) && s->s.full &&
			   !seal_with_sha(v, s->s.prev)) {
			report(v, SB_VERIFY_CHAIN, s->name,
			       "the seal of this chain's full set follows a seal that is no longer on "
			       "the target, and prune with this archive dir did not remove it: the "
			       "newest sets of the chain before, or whole chains, were removed by "
			       "someone else");
		} else if (memcmp(s->s.prev, p->sha, 32)) {
			report(v, SB_VERIFY_CHAIN, s->name,
			       "broken link: the seal does not follow %s, the seal before it (a set "
			       "was removed, replaced or reordered)",
			       p->name);
		}
	}
	free(ord);
	return 0;
}

static void check_rollback(struct ver *v)
{
	if (!v->last[0])
		return;
	if (sb_dirent_find(v->l, v->last) < 0)
		report(v, SB_VERIFY_ROLLBACK, v->last,
		       "the newest seal this machine wrote is not on the target: the target was "
		       "rolled back, or its newest sets deleted");
}

static int cmp_sealed(const void *a, const void *b)
{
	return strcmp(((const struct sealed *)a)->name, ((const struct sealed *)b)->name);
}

static struct sealed *find_sealed(struct ver *v, const char *name)
{
	struct sealed key = {.name = name};

	return v->nfiles ? bsearch(&key, v->files, v->nfiles, sizeof(key), cmp_sealed) : NULL;
}

static int index_files(struct ver *v)
{
	size_t i, j, n = 0;

	for (i = 0; i < v->nseals; i++)
		if (v->seals[i].ours)
			n += v->seals[i].s.nfiles;
	v->files = calloc(n ? n : 1, sizeof(*v->files));
	if (!v->files)
		return SB_ERR_NOMEM;
	for (i = 0; i < v->nseals; i++) {
		const struct vseal *s = &v->seals[i];

		for (j = 0; s->ours && j < s->s.nfiles; j++) {
			struct sb_name fn;
			const char *name = s->s.files[j].name;

			/* a seal may only speak for the files of its own set */
			if (sb_name_parse(name, &fn) || fn.kind == SB_KIND_SEAL ||
			    !same_set(&fn, &s->n)) {
				report(v, SB_VERIFY_MODIFIED, s->name,
				       "seal lists %s, which is not a file of its set", name);
				continue;
			}
			v->files[v->nfiles++] = (struct sealed){name, &s->s.files[j], s, false};
		}
	}
	if (v->nfiles) /* qsort(NULL, 0) is undefined */
		qsort(v->files, v->nfiles, sizeof(*v->files), cmp_sealed);
	return 0;
}

/* The seal file name of the set of n, if listed; "" otherwise. */
static const struct vseal *seal_of(struct ver *v, const struct sb_name *n)
{
	for (size_t i = 0; i < v->nseals; i++)
		if (same_set(&v->seals[i].n, n))
			return &v->seals[i];
	return NULL;
}

static bool older_seal(const struct ver *v, time_t t)
{
	for (size_t i = 0; i < v->nseals; i++)
		if (v->seals[i].ours && v->seals[i].n.t1 < t)
			return true;
	return false;
}

/* Is the set named by n complete, and does it hold a sealbox index? */
static void set_state(struct ver *v, const struct sb_name *n, bool *manifest, bool *index)
{
	struct sb_name m;

	*manifest = *index = false;
	for (size_t i = 0; i < v->l->n; i++)
		if (!sb_name_parse(v->l->names[i], &m) && same_set(&m, n)) {
			*manifest |= m.kind == SB_KIND_MANIFEST;
			*index |= m.kind == SB_KIND_INDEX;
		}
}

/* A file no good seal lists: why? (once per set for whole unsealed sets) */
static void unsealed_file(struct ver *v, const char *name, struct sb_name *done, size_t *ndone)
{
	const struct vseal *s;
	struct sb_name n;
	bool man, idx;
	char sname[256];
	size_t i;

	if (!strncmp(name, SB_TMP_PREFIX, strlen(SB_TMP_PREFIX))) {
		report(v, SB_VERIFY_NOTE, name,
		       "leftover temporary upload (the next backup removes it)");
		return;
	}
	if (sb_name_parse(name, &n) || n.partial) {
		report(v, SB_VERIFY_UNEXPECTED, name, "file is not part of any backup set");
		return;
	}
	s = seal_of(v, &n);
	if (s && s->ours) {
		report(v, SB_VERIFY_UNEXPECTED, name, "file is not listed in its set's seal %s",
		       s->name);
		return;
	}
	for (i = 0; i < *ndone; i++)
		if (same_set(&done[i], &n))
			return;
	done[(*ndone)++] = n;
	if (s) {
		report(v, SB_VERIFY_NOTE, name, "set not checked: its seal %s failed", s->name);
		return;
	}
	set_state(v, &n, &man, &idx);
	v->st->unsealed_sets++;
	n.kind = SB_KIND_SEAL;
	n.vol = 0;
	if (sb_name_format(&n, sname, sizeof(sname)) < 0)
		sname[0] = '\0';
	if (!man)
		report(v, SB_VERIFY_NOTE, name,
		       "incomplete set without a seal (a backup in progress or interrupted)");
	else if (idx && older_seal(v, n.t1))
		report(v, SB_VERIFY_MISSING, sname,
		       "seal is missing: the set of %s was written by sealbox after sealing began",
		       name);
	else
		report(v, SB_VERIFY_NOTE, name,
		       "set has no seal (written by duplicity or an older sealbox): only its "
		       "listing%s checked",
		       v->o->decrypt ? ", manifest and volume SHA-1" : "");
}

static bool newer_seal(const struct ver *v, time_t t)
{
	for (size_t i = 0; i < v->nseals; i++)
		if (v->seals[i].n.t1 > t)
			return true;
	return false;
}

/* Sizes, missing and unexpected files; *total: bytes to hash. */
static int check_listing(struct ver *v, uint64_t *total)
{
	struct sb_name *done = calloc(v->l->n ? v->l->n : 1, sizeof(*done));
	size_t i, ndone = 0;
	struct sb_name n;

	if (!done)
		return SB_ERR_NOMEM;
	*total = 0;
	for (i = 0; i < v->l->n; i++) {
		const char *name = v->l->names[i];
		struct sealed *f;

		if (!sb_name_parse(name, &n) && n.kind == SB_KIND_SEAL)
			continue;
		f = find_sealed(v, name);
		if (!f) {
			unsealed_file(v, name, done, &ndone);
			continue;
		}
		f->seen = true;
		v->st->files++;
		if (v->l->sizes[i] < f->f->size)
			report(v, SB_VERIFY_TRUNCATED, name,
			       "truncated: %llu bytes, its seal %s says %llu",
			       (unsigned long long)v->l->sizes[i], f->seal->name,
			       (unsigned long long)f->f->size);
		else if (v->l->sizes[i] > f->f->size)
			report(v, SB_VERIFY_TRUNCATED, name,
			       "size changed: %llu bytes, its seal %s says %llu",
			       (unsigned long long)v->l->sizes[i], f->seal->name,
			       (unsigned long long)f->f->size);
		else
			*total += f->f->size;
	}
	for (i = 0; i < v->nfiles; i++) {
		const struct sealed *f = &v->files[i];

		if (f->seen)
			continue;
		sb_name_parse(f->name, &n);
		/* the newest set, being written right now (seal first, manifest last) */
		if (n.kind == SB_KIND_MANIFEST && strcmp(f->seal->name, v->last) &&
		    !newer_seal(v, f->seal->n.t1))
			report(v, SB_VERIFY_NOTE, f->name,
			       "manifest of the newest set not there yet (a backup in progress or "
			       "interrupted)");
		else
			report(v, SB_VERIFY_MISSING, f->name, "file listed in seal %s is missing",
			       f->seal->name);
	}
	free(done);
	return 0;
}

/* Stream one file once through a hash; *got: bytes read. */
struct hash_progress {
	struct ver *v;
	const char *name;
	uint64_t *done, total;
};

static void on_hashed(void *ctx, uint64_t n)
{
	struct hash_progress *hp = ctx;

	*hp->done += n;
	if (hp->v->o->progress)
		hp->v->o->progress(hp->v->o->ctx, *hp->done, hp->total, hp->name);
}

/* Hash a remote file through the gate, at most max bytes (*got = max + 1 past it). */
static int hash_file(struct ver *v, const char *name, enum sb_hash_alg alg, uint64_t max,
		     unsigned char *out, uint64_t *got, uint64_t *done, uint64_t total)
{
	struct hash_progress hp = {v, name, done, total};
	int rc = sb_gate_hash(v->o->gate, name, alg, max, out, got, on_hashed, &hp);

	if (rc == SB_ERR_CORRUPT)
		rc = 0; /* the caller reports the size */
	v->st->bytes += *got > max ? max : *got;
	return rc;
}

/* Did the sample leave out the remote file name? */
static bool skipped(const struct ver *v, const char *name)
{
	long k;

	if (!v->skip || (k = sb_dirent_find(v->l, name)) < 0)
		return false;
	return v->skip[k];
}

/* A data file: what --sample chooses among (sample.h). */
static bool data_file(const char *name)
{
	struct sb_name n;

	return !sb_name_parse(name, &n) && !n.partial &&
	       (n.kind == SB_KIND_VOL || n.kind == SB_KIND_SIG);
}

/* Choose the data files to read; each one chosen gets a note. */
static int choose_sample(struct ver *v)
{
	const struct sb_dirent_list *l = v->l;
	uint64_t *sizes = calloc(l->n ? l->n : 1, sizeof(*sizes));
	size_t *at = calloc(l->n ? l->n : 1, sizeof(*at));
	bool *chosen = calloc(l->n ? l->n : 1, sizeof(*chosen));
	size_t i, n = 0;
	int rc = 0;

	v->skip = calloc(l->n ? l->n : 1, sizeof(*v->skip));
	if (!sizes || !at || !chosen || !v->skip) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < l->n; i++)
		if (data_file(l->names[i])) {
			sizes[n] = l->sizes[i];
			at[n++] = i;
		}
	sb_sample_choose(v->o->sample, sizes, n, v->o->sample_seed, chosen);
	v->st->sampled = true;
	for (i = 0; i < n; i++) {
		v->st->data_files++;
		v->st->data_bytes += sizes[i];
		v->skip[at[i]] = !chosen[i];
		if (!chosen[i])
			continue;
		v->st->sample_files++;
		v->st->sample_bytes += sizes[i];
		report(v, SB_VERIFY_NOTE, l->names[at[i]], "sampled: read and checked");
	}
out:
	free(sizes);
	free(at);
	free(chosen);
	return rc;
}

static int hash_sealed(struct ver *v, uint64_t total)
{
	unsigned char sha[32];
	uint64_t done = 0, got;
	char hex[65], want[65];
	size_t i;
	int rc = 0;

	for (i = 0; i < v->nfiles && !rc; i++) {
		const struct sealed *f = &v->files[i];
		long k = sb_dirent_find(v->l, f->name);

		if (!f->seen || k < 0 || v->l->sizes[k] != f->f->size || (v->skip && v->skip[k]))
			continue;
		rc = hash_file(v, f->name, SB_HASH_ALG_SHA256, f->f->size, sha, &got, &done, total);
		if (rc)
			break;
		if (got != f->f->size) {
			report(v, SB_VERIFY_TRUNCATED, f->name,
			       "%llu bytes read, its seal %s says %llu", (unsigned long long)got,
			       f->seal->name, (unsigned long long)f->f->size);
		} else if (memcmp(sha, f->f->sha256, 32)) {
			sb_hex(sha, 32, hex);
			sb_hex(f->f->sha256, 32, want);
			report(v, SB_VERIFY_MODIFIED, f->name,
			       "modified: SHA-256 %.16s..., its seal %s says %.16s...", hex,
			       f->seal->name, want);
		}
	}
	return rc;
}

/* Unsealed complete sets: volume gaps; with the secret key, manifest + SHA-1. */
static int check_unsealed(struct ver *v, const struct sb_set *s)
{
	struct sb_manifest m;
	unsigned char sha[20];
	uint64_t got, done = 0;
	char name[256];
	size_t i;
	int rc = 0;

	if (s->seal || !s->manifest)
		return 0;
	for (i = 0; i < s->nvols; i++)
		if (!s->vols[i])
			report(v, SB_VERIFY_MISSING, s->manifest,
			       "volume %zu of this set is missing", i + 1);
	if (!v->o->decrypt)
		return 0;
	sb_manifest_init(&m);
	if (sb_gate_manifest(v->o->gate, s, &m)) {
		report(v, SB_VERIFY_MODIFIED, s->manifest,
		       "manifest cannot be decrypted and verified");
		sb_manifest_release(&m);
		return 0;
	}
	for (i = 0; i < m.nvols && !rc; i++) {
		const struct sb_manifest_vol *mv = &m.vols[i];
		const char *vn = mv->num <= s->nvols ? s->vols[mv->num - 1] : NULL;

		if (!vn) {
			snprintf(name, sizeof(name), "volume %u", mv->num);
			report(v, SB_VERIFY_MISSING, s->manifest, "%s of this set is missing",
			       name);
			continue;
		}
		if (v->o->quick || mv->hash_type != SB_HASH_SHA1 || skipped(v, vn))
			continue;
		rc = hash_file(v, vn, SB_HASH_ALG_SHA1, SB_GATE_MAX_VOLUME, sha, &got, &done, 0);
		if (!rc && (got > SB_GATE_MAX_VOLUME || memcmp(sha, mv->hash, 20)))
			report(v, SB_VERIFY_MODIFIED, vn,
			       "modified: SHA-1 differs from manifest %s", s->manifest);
	}
	sb_manifest_release(&m);
	return rc;
}

/*
 * The gate's rules for each chain, as restore and mount apply them: what
 * they refuse that the seal checks above do not see (an unsigned set in a
 * signed chain, an unsealed set after a sealed one, a set missing in
 * between) is reported here; the gate has named the file.
 */
static int prove_chain(struct ver *v, const struct sb_chain *ch)
{
	int rc = sb_gate_prove(v->o->gate, ch, ch->nsets);

	switch (rc) {
	case SB_ERR_UNSIGNED:
		report(v, SB_VERIFY_UNEXPECTED, ch->sets[0].manifest,
		       "the chain holds a set that is neither encrypted nor signed");
		return 0;
	case SB_ERR_CHAIN:
		report(v, SB_VERIFY_CHAIN, ch->sets[0].manifest,
		       "the chain that starts here is broken (see above)");
		return 0;
	case SB_ERR_BADSIG:
	case SB_ERR_CORRUPT: return 0; /* the seal checks report these by class */
	default: return rc;
	}
}

int sb_verify(const struct sb_verify_opts *o, struct sb_verify_stats *st)
{
	struct ver v = {.o = o, .st = st};
	uint64_t total = 0;
	size_t i, j;
	int rc;

	memset(st, 0, sizeof(*st));
	v.l = sb_gate_listing(o->gate);
	v.coll = sb_gate_collection(o->gate);
	rc = read_catalog(&v);
	if (!rc)
		rc = load_seals(&v);
	if (rc)
		goto out;
	for (i = 0; i < v.coll->nchains; i++)
		st->sets += v.coll->chains[i].nsets;
	check_ids(&v);
	if ((rc = check_links(&v)))
		goto out;
	check_rollback(&v);
	if ((rc = index_files(&v)) || (rc = check_listing(&v, &total)))
		goto out;
	if (o->sample && !o->quick && (rc = choose_sample(&v)))
		goto out;
	if (v.skip) /* what the progress line counts */
		for (i = 0, total = 0; i < v.nfiles; i++) {
			long k = sb_dirent_find(v.l, v.files[i].name);

			if (v.files[i].seen && k >= 0 && !v.skip[k] &&
			    v.l->sizes[k] == v.files[i].f->size)
				total += v.files[i].f->size;
		}
	if (!o->quick && (rc = hash_sealed(&v, total)))
		goto out;
	for (i = 0; i < v.coll->nchains && !rc; i++)
		rc = prove_chain(&v, &v.coll->chains[i]);
	for (i = 0; i < v.coll->nchains && !rc; i++)
		for (j = 0; j < v.coll->chains[i].nsets && !rc; j++)
			rc = check_unsealed(&v, &v.coll->chains[i].sets[j]);
out:
	for (i = 0; i < v.nseals; i++)
		sb_seal_release(&v.seals[i].s);
	free(v.seals);
	free(v.files);
	free(v.skip);
	sb_catalog_close(v.cat);
	return rc;
}
