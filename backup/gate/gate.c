/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gate.c - the one gate for trust (see gate.h): listing and chain rules,
 * seals, and proven fetches. Nothing else in the tree opens a remote file
 * for its contents.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/gate.h"
#include "sealbox/gunzip.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/names.h"
#include "sealbox/proven.h"
#include "sealbox/seal.h"
#include "sealbox/timefmt.h"

struct proven {
	const struct sb_set *set;
	bool sealed;
	struct sb_seal seal;
	unsigned char seal_sha[32];
};

struct sb_gate {
	struct sb_gate_opts o;
	struct sb_dirent_list l;
	struct sb_collection coll;
	bool rollback_checked;
	char *proven_dir; /* owned copy of o.proven_dir */
	pthread_mutex_t mu;
	struct proven *pv;
	size_t npv, cap;
};

const struct sb_dirent_list *sb_gate_listing(const struct sb_gate *g) { return &g->l; }
const struct sb_collection *sb_gate_collection(const struct sb_gate *g) { return &g->coll; }
bool sb_gate_rollback_checked(const struct sb_gate *g) { return g->rollback_checked; }

static const struct proven *find_proven(const struct sb_gate *g, const struct sb_set *s)
{
	for (size_t i = 0; i < g->npv; i++)
		if (g->pv[i].set == s)
			return &g->pv[i];
	return NULL;
}

/* The SHA-256 of n bytes (zeros if it cannot be had: then it matches nothing real). */
static void sha256_of(const void *p, size_t n, unsigned char out[32])
{
	if (sb_hash_buf(SB_HASH_ALG_SHA256, p, n, out))
		memset(out, 0, 32);
}

int sb_gate_get_small(struct sb_gate *g, const char *name, size_t max, struct sb_buf *out)
{
	struct sb_transport_get *get;
	char buf[65536];
	ssize_t n;
	int rc;

	if ((rc = sb_transport_get_open(g->o.target, name, &get)))
		return rc;
	while ((n = sb_transport_get_read(get, buf, sizeof(buf))) > 0) {
		if (out->len + (size_t)n > max) {
			sb_error("%s is larger than %zu bytes: not a file sealbox wrote", name,
				 max);
			rc = SB_ERR_CORRUPT;
			break;
		}
		if ((rc = sb_buf_add(out, buf, (size_t)n)))
			break;
	}
	if (n < 0 && !rc)
		rc = (int)n;
	sb_transport_get_close(get);
	return rc;
}

int sb_gate_check_seal(struct sb_gate *g, const void *text, size_t len, const unsigned char sha[32],
		       struct sb_seal *s, enum sb_seal_verdict *verdict, char why[256])
{
	struct sb_buf signed_text = SB_BUF_INIT;
	const char *dir = g->o.proven_dir;
	int rc;

	if (dir && sb_proven_get(dir, sha, g->o.sign_fpr, "seal", &signed_text) == 1) {
		sb_seal_release(s);
		if (!sb_seal_parse(s, signed_text.data, signed_text.len, "a seal checked before")) {
			*verdict = SB_SEAL_GOOD;
			sb_buf_release(&signed_text);
			return 0;
		}
		sb_buf_reset(&signed_text);
	}
	rc = sb_seal_verify(g->o.crypto, g->o.sign_fpr, text, len, s, verdict, why,
			    dir ? &signed_text : NULL);
	if (!rc && *verdict == SB_SEAL_GOOD && dir)
		sb_proven_put(dir, sha, g->o.sign_fpr, "seal", signed_text.data, signed_text.len);
	sb_buf_release(&signed_text);
	return rc;
}

int sb_gate_hash(struct sb_gate *g, const char *name, enum sb_hash_alg alg, uint64_t max,
		 unsigned char *out, uint64_t *got, void (*progress)(void *ctx, uint64_t n),
		 void *ctx)
{
	enum { BUF = 1u << 20 };
	struct sb_transport_get *get;
	unsigned char *buf = malloc(BUF);
	struct sb_hash h;
	ssize_t n = 0;
	int rc;

	*got = 0;
	if (!buf)
		return SB_ERR_NOMEM;
	if ((rc = sb_transport_get_open(g->o.target, name, &get))) {
		free(buf);
		return rc;
	}
	if ((rc = sb_hash_init(&h, alg))) {
		sb_transport_get_close(get);
		free(buf);
		return rc;
	}
	while ((n = sb_transport_get_read(get, buf, BUF)) > 0) {
		if ((uint64_t)n > max - *got) { /* more than it may have: stop reading */
			*got = max + 1;
			rc = SB_ERR_CORRUPT;
			break;
		}
		sb_hash_update(&h, buf, (size_t)n);
		*got += (uint64_t)n;
		if (progress)
			progress(ctx, (uint64_t)n);
	}
	sb_transport_get_close(get);
	free(buf);
	if (!rc && n < 0)
		rc = (int)n;
	if (rc) {
		sb_hash_release(&h);
		return rc;
	}
	sb_hash_final(&h, out);
	return 0;
}

/* ---- the listing: bounds, dates, rollback ---- */

static int check_dates(struct sb_gate *g)
{
	time_t limit = time(NULL) + SB_GATE_FUTURE_SKEW;
	struct sb_name n;
	char when[32];

	for (size_t i = 0; i < g->l.n; i++) {
		if (sb_name_parse(g->l.names[i], &n) || n.t1 <= limit)
			continue;
		sb_time_format_iso(n.t1, when);
		sb_error("%s on %s is dated %s, in the future: refusing a target that a clock "
			 "or the server set ahead",
			 sb_log_str(g->l.names[i], strlen(g->l.names[i])),
			 sb_transport_describe(g->o.target), when);
		return SB_ERR_CORRUPT;
	}
	return 0;
}

/* Some seal on the target must hash to want; names it in *which. */
static int find_seal_by_sha(struct sb_gate *g, const unsigned char want[32], const char **which)
{
	struct sb_buf text = SB_BUF_INIT;
	unsigned char sha[32];
	struct sb_name n;
	int rc = 0;

	*which = NULL;
	for (size_t i = g->l.n; i-- > 0 && !*which;) { /* newest names sort last */
		if (sb_name_parse(g->l.names[i], &n) || n.kind != SB_KIND_SEAL)
			continue;
		sb_buf_reset(&text);
		if ((rc = sb_gate_get_small(g, g->l.names[i], SB_GATE_MAX_SEAL, &text)))
			break;
		sha256_of(text.data, text.len, sha);
		if (!memcmp(sha, want, 32))
			*which = g->l.names[i];
	}
	sb_buf_release(&text);
	return rc;
}

/* Is name the seal of a complete set of a chain (not a seal left alone)? */
static bool seal_in_chain(const struct sb_gate *g, const char *name)
{
	for (size_t c = 0; c < g->coll.nchains; c++)
		for (size_t i = 0; i < g->coll.chains[c].nsets; i++)
			if (g->coll.chains[c].sets[i].seal &&
			    !strcmp(g->coll.chains[c].sets[i].seal, name))
				return true;
	return false;
}

/*
 * A seal newer than last (time t) that proves itself: signed by the signing
 * key, its own times (signed) newer too, and its set complete. Without a key
 * to check, the name alone has to do.
 */
static bool newer_seal(struct sb_gate *g, time_t t)
{
	struct sb_buf text = SB_BUF_INIT;
	enum sb_seal_verdict verdict;
	struct sb_seal seal;
	struct sb_name n;
	unsigned char sha[32];
	char why[256];
	bool ok = false;

	sb_seal_init(&seal);
	for (size_t i = g->l.n; i-- > 0 && !ok;) {
		if (sb_name_parse(g->l.names[i], &n) || n.kind != SB_KIND_SEAL || n.t1 <= t ||
		    !seal_in_chain(g, g->l.names[i]))
			continue;
		if (!g->o.crypto || !g->o.sign_fpr) {
			ok = true;
			break;
		}
		sb_buf_reset(&text);
		if (sb_gate_get_small(g, g->l.names[i], SB_GATE_MAX_SEAL, &text))
			continue;
		sha256_of(text.data, text.len, sha);
		if (!sb_gate_check_seal(g, text.data, text.len, sha, &seal, &verdict, why) &&
		    verdict == SB_SEAL_GOOD && seal.t1 > t)
			ok = true;
	}
	sb_seal_release(&seal);
	sb_buf_release(&text);
	return ok;
}

static int check_rollback(struct sb_gate *g)
{
	const char *which;
	unsigned char want[32];
	struct sb_name last;
	int rc;

	if (g->o.expect_seal) {
		if (sb_unhex(g->o.expect_seal, strlen(g->o.expect_seal), want, 32)) {
			sb_error("--expect-seal %s: not a SHA-256 (64 hex digits)",
				 sb_log_str(g->o.expect_seal, strlen(g->o.expect_seal)));
			return SB_ERR_PARAM;
		}
		if ((rc = find_seal_by_sha(g, want, &which)))
			return rc;
		if (!which) {
			sb_error("no seal on %s has the SHA-256 %s given with --expect-seal: the "
				 "target was rolled back, or its seals replaced",
				 sb_transport_describe(g->o.target), g->o.expect_seal);
			return SB_ERR_ROLLBACK;
		}
		if (!seal_in_chain(g, which)) {
			sb_error(
				"seal %s (--expect-seal) is on %s, but the rest of its set is not: "
				"the target was rolled back",
				which, sb_transport_describe(g->o.target));
			return SB_ERR_ROLLBACK;
		}
		g->rollback_checked = true;
	}
	if (!g->o.last_seal || !g->o.last_sha || sb_name_parse(g->o.last_seal, &last))
		return 0;
	g->rollback_checked = true;
	if (sb_dirent_find(&g->l, g->o.last_seal) >= 0) {
		struct sb_buf text = SB_BUF_INIT;
		unsigned char sha[32];

		rc = sb_gate_get_small(g, g->o.last_seal, SB_GATE_MAX_SEAL, &text);
		sha256_of(text.data, text.len, sha);
		sb_buf_release(&text);
		if (!rc && memcmp(sha, g->o.last_sha, 32)) {
			sb_error("seal %s on %s is not the one this machine wrote: replaced",
				 g->o.last_seal, sb_transport_describe(g->o.target));
			rc = SB_ERR_CHAIN;
		}
		if (!rc && !seal_in_chain(g, g->o.last_seal) && !newer_seal(g, last.t1)) {
			sb_error(
				"%s, the newest seal this machine wrote, is on %s, but the rest of "
				"its set is not: the target was rolled back",
				g->o.last_seal, sb_transport_describe(g->o.target));
			rc = SB_ERR_ROLLBACK;
		}
		return rc;
	}
	/* gone: fine only when a newer seal, signed, of a complete set, follows it */
	if (newer_seal(g, last.t1))
		return 0;
	sb_error("%s, the newest seal this machine wrote, is not on %s: the target was rolled "
		 "back or its newest sets deleted",
		 g->o.last_seal, sb_transport_describe(g->o.target));
	return SB_ERR_ROLLBACK;
}

int sb_gate_open(const struct sb_gate_opts *o, struct sb_gate **out)
{
	struct sb_gate *g = calloc(1, sizeof(*g));
	int rc;

	*out = NULL;
	if (!g)
		return SB_ERR_NOMEM;
	g->o = *o;
	/* the caller's strings: copied where the gate keeps them past sb_gate_open() */
	if (o->proven_dir && !(g->o.proven_dir = g->proven_dir = strdup(o->proven_dir))) {
		free(g);
		return SB_ERR_NOMEM;
	}
	pthread_mutex_init(&g->mu, NULL);
	rc = sb_transport_list(o->target, &g->l);
	if (!rc && g->l.n > SB_GATE_MAX_NAMES) {
		sb_error("%s holds %zu files, more than the %u a target of sealbox may hold",
			 sb_transport_describe(o->target), g->l.n, SB_GATE_MAX_NAMES);
		rc = SB_ERR_CORRUPT;
	}
	if (!rc)
		rc = check_dates(g);
	if (!rc)
		rc = sb_collection_build(&g->l, &g->coll);
	if (!rc)
		rc = check_rollback(g);
	g->o.last_seal = g->o.expect_seal = NULL; /* only the checks above use them */
	g->o.last_sha = NULL;
	if (rc) {
		sb_gate_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

void sb_gate_close(struct sb_gate *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->npv; i++)
		sb_seal_release(&g->pv[i].seal);
	free(g->pv);
	free(g->proven_dir);
	sb_collection_release(&g->coll);
	sb_dirent_list_release(&g->l);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

/* ---- the chain rules ---- */

static const char *set_name(const struct sb_set *s)
{
	return s->manifest ? s->manifest : s->seal ? s->seal : s->index ? s->index : "(a set)";
}

static bool chain_signed(const struct sb_chain *ch)
{
	for (size_t i = 0; i < ch->nsets; i++)
		if (ch->sets[i].encrypted || ch->sets[i].seal)
			return true;
	return false;
}

/*
 * An incremental of the target that follows a set that is not there, and
 * that a snapshot of time t would need (t: the time asked for; a whole
 * chain is asked for when nsets is all of it).
 */
static int check_whole(struct sb_gate *g, const struct sb_chain *ch, size_t nsets, time_t t)
{
	time_t start = sb_chain_start(ch);
	const struct sb_collection *c = &g->coll;
	char when[32];

	for (size_t i = 0; i < c->norphans; i++) {
		const struct sb_set *o = &c->orphans[i];

		if (o->t0 < start)
			continue; /* a leftover of an older chain */
		if (t != (time_t)-1 && o->t1 > t)
			continue; /* after the snapshot asked for */
		sb_time_format_iso(o->t0, when);
		sb_error("%s follows a set of %s that is missing on %s: the chain is broken there "
			 "(a set was removed or replaced)",
			 set_name(o), when, sb_transport_describe(g->o.target));
		return SB_ERR_CHAIN;
	}
	for (size_t i = 1; i < nsets; i++)
		if (ch->sets[i].t0 != ch->sets[i - 1].t1 || ch->sets[i].full)
			return SB_ERR_INTERNAL;
	return 0;
}

static int prove_seal(struct sb_gate *g, const struct sb_set *s, struct proven *p)
{
	struct sb_buf text = SB_BUF_INIT;
	enum sb_seal_verdict verdict;
	const char *names[4096];
	char why[256];
	size_t i, k;
	int rc;

	rc = sb_gate_get_small(g, s->seal, SB_GATE_MAX_SEAL, &text);
	if (!rc) {
		sha256_of(text.data, text.len, p->seal_sha);
		rc = sb_gate_check_seal(g, text.data, text.len, p->seal_sha, &p->seal, &verdict,
					why);
	}
	sb_buf_release(&text);
	if (rc)
		return rc;
	if (verdict != SB_SEAL_GOOD) {
		sb_error("seal %s %s", s->seal, why);
		return SB_ERR_BADSIG;
	}
	if (p->seal.full != s->full || p->seal.t0 != s->t0 || p->seal.t1 != s->t1) {
		sb_error("seal %s describes another set than its name says: a set copied or "
			 "renamed (replayed)",
			 s->seal);
		return SB_ERR_CHAIN;
	}
	for (i = 0; i < p->seal.nfiles; i++) {
		const struct sb_seal_file *f = &p->seal.files[i];
		long at = sb_dirent_find(&g->l, f->name);

		if (at < 0) {
			sb_error("%s, listed in seal %s, is missing on the target", f->name,
				 s->seal);
			return SB_ERR_CORRUPT;
		}
		if (g->l.sizes && g->l.sizes[at] != f->size) {
			sb_error("%s has %llu bytes, its seal %s says %llu", f->name,
				 (unsigned long long)g->l.sizes[at], s->seal,
				 (unsigned long long)f->size);
			return SB_ERR_CORRUPT;
		}
	}
	k = sb_set_files(s, names, sizeof(names) / sizeof(names[0]));
	for (i = 0; i < k; i++)
		if (strcmp(names[i], s->seal) && !sb_seal_find(&p->seal, names[i])) {
			sb_error("%s is not listed in its set's seal %s: added by the server",
				 names[i], s->seal);
			return SB_ERR_CORRUPT;
		}
	if (!s->manifest || !sb_seal_find(&p->seal, s->manifest)) {
		sb_error("seal %s lists no manifest", s->seal);
		return SB_ERR_CORRUPT;
	}
	p->sealed = true;
	return 0;
}

/* Prove set i of ch; prev_sealed: the newest sealed set before it (NULL: none). */
static int prove_set(struct sb_gate *g, const struct sb_chain *ch, size_t i,
		     const struct proven *prev_sealed, const char *backup_id, struct proven *p)
{
	const struct sb_set *s = &ch->sets[i];
	int rc;

	memset(p, 0, sizeof(*p));
	sb_seal_init(&p->seal);
	p->set = s;
	if (chain_signed(ch) && !s->encrypted) {
		sb_error("%s is not encrypted, so not signed, in a chain that is: refusing a set "
			 "the server may have made",
			 set_name(s));
		return SB_ERR_UNSIGNED;
	}
	if (!s->seal) {
		/* unsealed sets are duplicity's; sealbox seals every set it writes */
		if (!prev_sealed && !s->index)
			return 0;
		if (g->o.allow_unsealed && s->encrypted) {
			sb_warn("%s has no seal (--allow-unsealed): it is signed, but a server could "
				"have replayed or renamed it",
				set_name(s));
			return 0;
		}
		if (s->index)
			sb_error("%s has an index but no seal: sealbox wrote it and its seal was "
				 "removed",
				 set_name(s));
		else
			sb_error(
				"%s has no seal, but the set before it, %s, is sealed: its seal "
				"was removed, or duplicity wrote it (give --allow-unsealed to read "
				"such a set)",
				set_name(s), set_name(prev_sealed->set));
		return SB_ERR_CHAIN;
	}
	if (!g->o.sign_fpr || !g->o.crypto) {
		sb_error("the chain on %s is signed: give --sign-key FPR, the key every file must "
			 "be signed by",
			 sb_transport_describe(g->o.target));
		return SB_ERR_PARAM;
	}
	if ((rc = prove_seal(g, s, p)))
		return rc;
	if (backup_id && strcmp(p->seal.backup_id, backup_id)) {
		sb_error("seal %s belongs to another backup (id %s, the chain's is %s): a set "
			 "copied from elsewhere",
			 s->seal, p->seal.backup_id, backup_id);
		return SB_ERR_CHAIN;
	}
	if (prev_sealed) {
		if (!p->seal.has_prev || memcmp(p->seal.prev, prev_sealed->seal_sha, 32)) {
			sb_error("seal %s does not follow %s, the sealed set before it: a set was "
				 "removed, replaced or reordered",
				 s->seal, prev_sealed->set->seal);
			return SB_ERR_CHAIN;
		}
	}
	return 0;
}

static int prove(struct sb_gate *g, const struct sb_chain *ch, size_t nsets, time_t t);

int sb_gate_prove(struct sb_gate *g, const struct sb_chain *ch, size_t nsets)
{
	return prove(g, ch, nsets, nsets < ch->nsets ? ch->sets[nsets - 1].t1 : (time_t)-1);
}

static int prove(struct sb_gate *g, const struct sb_chain *ch, size_t nsets, time_t t)
{
	char id[SB_SEAL_ID_LEN + 1] = "";
	struct proven p;
	ssize_t prev = -1; /* index in g->pv of the newest sealed set before */
	int rc = 0;

	if (!nsets || nsets > ch->nsets)
		return SB_ERR_INTERNAL;
	if ((rc = check_whole(g, ch, nsets, t)))
		return rc;
	if (!chain_signed(ch)) {
		if (!g->o.allow_unsigned) {
			sb_error("the chain on %s starting %s is neither encrypted nor signed: "
				 "anyone with access to the server could have written it; give "
				 "--allow-unsigned to read it anyway",
				 sb_transport_describe(g->o.target), set_name(&ch->sets[0]));
			return SB_ERR_UNSIGNED;
		}
		sb_warn("the chain on %s is neither encrypted nor signed (--allow-unsigned): only "
			"the manifests' hashes protect it",
			sb_transport_describe(g->o.target));
	} else if (!g->o.sign_fpr) {
		sb_error("the chain on %s is encrypted and signed: give --sign-key FPR, the key "
			 "every file must be signed by",
			 sb_transport_describe(g->o.target));
		return SB_ERR_PARAM;
	}
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < nsets && !rc; i++) {
		const struct proven *done = find_proven(g, &ch->sets[i]);

		ssize_t at;

		if (done) {
			at = done - g->pv;
		} else {
			if (g->npv == g->cap) {
				size_t cap = g->cap ? g->cap * 2 : 64;
				struct proven *np = realloc(g->pv, cap * sizeof(*np));

				if (!np) {
					rc = SB_ERR_NOMEM;
					break;
				}
				g->pv = np;
				g->cap = cap;
			}
			rc = prove_set(g, ch, i, prev >= 0 ? &g->pv[prev] : NULL, id[0] ? id : NULL,
				       &p);
			if (rc) {
				sb_seal_release(&p.seal);
				break;
			}
			g->pv[g->npv] = p;
			at = (ssize_t)g->npv++;
		}
		if (g->pv[at].sealed) {
			prev = at;
			if (!id[0])
				memcpy(id, g->pv[at].seal.backup_id, sizeof(id));
		}
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

int sb_gate_chain(struct sb_gate *g, time_t t, const struct sb_chain **chp, size_t *nsets)
{
	const struct sb_chain *ch = sb_collection_chain_for_time(&g->coll, t);
	size_t n = ch ? sb_chain_sets_upto(ch, t) : 0;
	char when[32];
	int rc;

	*chp = NULL;
	*nsets = 0;
	if (!n) {
		sb_time_format_iso(t, when);
		sb_error("target %s has no backup at or before %s",
			 sb_transport_describe(g->o.target), when);
		return SB_ERR_NOTFOUND;
	}
	if ((rc = prove(g, ch, n, t)))
		return rc;
	*chp = ch;
	*nsets = n;
	return 0;
}

bool sb_gate_seal_sha(const struct sb_gate *g, const struct sb_set *s, unsigned char out[32])
{
	const struct proven *p;
	bool ok;

	pthread_mutex_lock((pthread_mutex_t *)&g->mu);
	p = find_proven(g, s);
	ok = p && p->sealed;
	if (ok)
		memcpy(out, p->seal_sha, 32);
	pthread_mutex_unlock((pthread_mutex_t *)&g->mu);
	return ok;
}

/* ---- proven fetches ---- */

const char *sb_gate_volume_name(const struct sb_set *s, unsigned num)
{
	const char *name = num >= 1 && num <= s->nvols ? s->vols[num - 1] : NULL;

	if (!name)
		sb_error("volume %u of set %s is missing on the target", num, set_name(s));
	return name;
}

/* The expectations for one file, copied out under the lock. */
struct expect {
	bool sealed, encrypted, gzipped;
	int kind; /* SB_KIND_* */
	uint64_t size;
	unsigned char sha256[32];
	bool has_sha1;
	unsigned char sha1[20];
};

static int expectations(struct sb_gate *g, const struct sb_set *s, const char *name,
			const struct sb_manifest *m, struct expect *e)
{
	const struct proven *p;
	struct sb_name n;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	if (sb_name_parse(name, &n)) {
		sb_error("%s is not a file of set %s", name, set_name(s));
		return SB_ERR_INTERNAL;
	}
	e->kind = n.kind;
	e->encrypted = n.encrypted;
	e->gzipped = n.gzipped && !n.encrypted;
	if (n.kind == SB_KIND_VOL && m) {
		const struct sb_manifest_vol *mv = sb_manifest_get_vol(m, n.vol);

		if (mv && mv->hash_type == SB_HASH_SHA1) {
			e->has_sha1 = true;
			memcpy(e->sha1, mv->hash, 20);
		}
	}
	pthread_mutex_lock(&g->mu);
	p = find_proven(g, s);
	if (!p) {
		sb_error("set %s was not proven before use", set_name(s));
		rc = SB_ERR_INTERNAL;
	} else if (p->sealed) {
		const struct sb_seal_file *f = sb_seal_find(&p->seal, name);

		if (!f) {
			sb_error("%s is not listed in its set's seal %s", name, s->seal);
			rc = SB_ERR_CORRUPT;
		} else {
			e->sealed = true;
			e->size = f->size;
			memcpy(e->sha256, f->sha256, 32);
		}
	}
	pthread_mutex_unlock(&g->mu);
	if (rc)
		return rc;
	if (n.kind == SB_KIND_VOL && !e->sealed && !e->has_sha1) {
		sb_error("volume %s: its manifest gives no SHA1 to check it against", name);
		return SB_ERR_CORRUPT;
	}
	if (e->encrypted && !g->o.sign_fpr && !g->o.allow_unsigned) {
		sb_error("%s is encrypted and signed: give --sign-key FPR", name);
		return SB_ERR_PARAM;
	}
	if (!e->encrypted && !g->o.allow_unsigned) {
		sb_error("%s is not encrypted, so not signed: refusing it", name);
		return SB_ERR_UNSIGNED;
	}
	return 0;
}

static int tmpfile_in(const struct sb_gate *g, const char *name, int *fd)
{
	const char *dir = g->o.tmpdir;

	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0) {
		sb_error("cannot create a temporary file in %s for %s: %s", dir, name,
			 strerror(errno));
		return sb_err_from_errno(errno);
	}
	return 0;
}

/* The ciphertext into an unlinked file, checked against e before anyone reads it. */
static int spool(struct sb_gate *g, const char *name, const struct expect *e, int *out,
		 unsigned char got256[32])
{
	struct sb_transport_get *get = NULL;
	struct sb_hash h256, h1;
	unsigned char d256[32], d1[20];
	char buf[65536], hex[65], want[65];
	uint64_t total = 0, max = e->sealed ? e->size : SB_GATE_MAX_VOLUME;
	/* a sealed file's SHA-256 is proven by its seal; the manifest's SHA-1
	   is what proves an unsealed (duplicity) volume */
	bool sha1 = e->has_sha1 && !e->sealed;
	ssize_t n = 0;
	int fd, rc;

	*out = -1;
	if ((rc = tmpfile_in(g, name, &fd)))
		return rc;
	sb_hash_init(&h256, SB_HASH_ALG_SHA256);
	sb_hash_init(&h1, SB_HASH_ALG_SHA1);
	rc = sb_transport_get_open(g->o.target, name, &get);
	while (!rc && (n = sb_transport_get_read(get, buf, sizeof(buf))) > 0) {
		total += (uint64_t)n;
		if (total > max) {
			sb_error("%s has more bytes than %s", name,
				 e->sealed ? "its seal says" : "any volume may have");
			rc = SB_ERR_CORRUPT;
			break;
		}
		sb_hash_update(&h256, buf, (size_t)n);
		if (sha1)
			sb_hash_update(&h1, buf, (size_t)n);
		rc = sb_fd_write(&fd, buf, (size_t)n);
	}
	if (!rc && n < 0)
		rc = (int)n;
	sb_transport_get_close(get);
	sb_hash_final(&h256, d256);
	sb_hash_final(&h1, d1);
	memcpy(got256, d256, 32);
	if (!rc && e->sealed && (total != e->size || memcmp(d256, e->sha256, 32))) {
		sb_hex(d256, 32, hex);
		sb_hex(e->sha256, 32, want);
		sb_error("%s does not match its seal: %llu bytes, SHA-256 %s; the seal says %llu "
			 "bytes, %s",
			 name, (unsigned long long)total, hex, (unsigned long long)e->size, want);
		rc = SB_ERR_CORRUPT;
	}
	if (!rc && sha1 && memcmp(d1, e->sha1, 20)) {
		sb_hex(d1, 20, hex);
		sb_hex(e->sha1, 20, want);
		sb_error("volume %s does not match its manifest: SHA1 %s, expected %s", name, hex,
			 want);
		rc = SB_ERR_CORRUPT;
	}
	if (!rc && lseek(fd, 0, SEEK_SET) < 0)
		rc = sb_err_from_errno(errno);
	if (rc) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

struct bounded {
	struct sb_writer w;
	uint64_t left;
	const char *name;
	bool over;
};

static int bounded_write(void *ctx, const void *p, size_t n)
{
	struct bounded *b = ctx;

	if (n > b->left) {
		b->over = true;
		return SB_ERR_CORRUPT;
	}
	b->left -= n;
	return b->w.write(b->w.ctx, p, n);
}

/*
 * Manifests and indexes are kept in this machine's record of proven
 * plaintext (proven.h), keyed by the hash of their bytes as stored.
 */
static bool keep_proven(const struct sb_gate *g, const struct expect *e)
{
	return g->o.proven_dir && g->o.sign_fpr && e->encrypted &&
	       (e->kind == SB_KIND_MANIFEST || e->kind == SB_KIND_INDEX);
}

/* 1: the plaintext of the file whose stored bytes hash to sha was in the
 * record, and went to b; 0: it was not; < 0: error. */
static int from_proven(struct sb_gate *g, const unsigned char sha[32], struct bounded *b)
{
	struct sb_buf plain = SB_BUF_INIT;
	int rc = sb_proven_get(g->o.proven_dir, sha, g->o.sign_fpr, "plain", &plain);

	if (rc == 1) {
		rc = bounded_write(b, plain.data, plain.len);
		rc = rc ? rc : 1;
	}
	sb_buf_release(&plain);
	return rc;
}

/*
 * The proven plaintext of name into out. use_record: take it from this
 * machine's record when it is there; into: out appends to this buffer,
 * whose new bytes then go into the record (NULL: out is something else,
 * nothing is recorded).
 */
static int fetch(struct sb_gate *g, const struct sb_set *s, const char *name,
		 const struct sb_manifest *m, uint64_t max, struct sb_writer out, bool use_record,
		 struct sb_buf *into)
{
	struct bounded b = {.w = out, .left = max, .name = name};
	struct sb_writer bw = {bounded_write, &b};
	size_t start = into ? into->len : 0;
	unsigned char got256[32];
	struct expect e;
	bool keep;
	int fd, rc;

	if ((rc = expectations(g, s, name, m, &e)))
		return rc;
	keep = keep_proven(g, &e);
	if (keep && use_record && e.sealed && (rc = from_proven(g, e.sha256, &b)) != 0)
		goto done;
	if ((rc = spool(g, name, &e, &fd, got256)))
		return rc;
	if (keep && use_record && !e.sealed && (rc = from_proven(g, got256, &b)) != 0) {
		close(fd);
		goto done;
	}
	if (e.encrypted) {
		struct sb_reader in = {sb_fd_read, &fd};

		/* a sealed set's manifest, signatures and index are proven by
		   their seal alone: sealbox writes them unsigned (DESIGN.md,
		   "Signatures"); volumes stay signed for duplicity --sign-key */
		if (e.sealed && e.kind != SB_KIND_VOL)
			rc = sb_crypto_decrypt_proven(g->o.crypto, g->o.sign_fpr, in, bw, name);
		else
			rc = sb_crypto_decrypt(g->o.crypto, g->o.sign_fpr, in, bw, name);
		if (!rc && keep && into)
			sb_proven_put(g->o.proven_dir, got256, g->o.sign_fpr, "plain",
				      into->data + start, into->len - start);
	} else {
		struct sb_gunzip *gz = NULL;
		struct sb_reader in = {sb_fd_read, &fd};
		char buf[65536];
		ssize_t n;

		if (e.gzipped) {
			if (!(gz = sb_gunzip_new(in, name))) {
				close(fd);
				return SB_ERR_NOMEM;
			}
			in = (struct sb_reader){sb_gunzip_read, gz};
		}
		while ((n = in.read(in.ctx, buf, sizeof(buf))) > 0)
			if ((rc = bounded_write(&b, buf, (size_t)n)))
				break;
		if (n < 0 && !rc)
			rc = (int)n;
		sb_gunzip_free(gz);
	}
	close(fd);
done:
	if (rc == 1)
		rc = 0;
	if (b.over) {
		sb_error("%s expands to more than %llu bytes: refusing it", name,
			 (unsigned long long)max);
		rc = SB_ERR_CORRUPT;
	}
	return rc;
}

int sb_gate_fetch(struct sb_gate *g, const struct sb_set *s, const char *name,
		  const struct sb_manifest *m, uint64_t max, struct sb_writer out)
{
	return fetch(g, s, name, m, max, out, true, NULL);
}

int sb_gate_fetch_buf(struct sb_gate *g, const struct sb_set *s, const char *name,
		      const struct sb_manifest *m, uint64_t max, struct sb_buf *out)
{
	return fetch(g, s, name, m, max, (struct sb_writer){sb_buf_write, out}, true, out);
}

int sb_gate_fetch_fd(struct sb_gate *g, const struct sb_set *s, const char *name,
		     const struct sb_manifest *m, uint64_t max, int *fd)
{
	int rc;

	if ((rc = tmpfile_in(g, name, fd)))
		return rc;
	rc = sb_gate_fetch(g, s, name, m, max, (struct sb_writer){sb_fd_write, fd});
	if (!rc && lseek(*fd, 0, SEEK_SET) < 0)
		rc = sb_err_from_errno(errno);
	if (rc) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

static int manifest(struct sb_gate *g, const struct sb_set *s, struct sb_manifest *m,
		    bool use_record)
{
	struct sb_buf text = SB_BUF_INIT;
	int rc;

	if (!s->manifest) {
		sb_error("set %s has no manifest", set_name(s));
		return SB_ERR_NOTFOUND;
	}
	rc = fetch(g, s, s->manifest, NULL, SB_GATE_MAX_MANIFEST,
		   (struct sb_writer){sb_buf_write, &text}, use_record, &text);
	if (!rc)
		rc = sb_manifest_parse(m, text.data, text.len, s->manifest);
	sb_buf_release(&text);
	return rc;
}

int sb_gate_manifest(struct sb_gate *g, const struct sb_set *s, struct sb_manifest *m)
{
	return manifest(g, s, m, true);
}

int sb_gate_manifest_decrypt(struct sb_gate *g, const struct sb_set *s, struct sb_manifest *m)
{
	return manifest(g, s, m, false);
}
