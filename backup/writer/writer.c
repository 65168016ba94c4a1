/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer.c - `sealbox backup` (see writer.h): decides full or incremental,
 * cleans up after an interrupted run, runs the tree walk into the packer and
 * the new signature tar, then ships the signatures, the index, the seal and,
 * last, the manifest, and only then commits the local state (and remembers
 * the seal, for rollback detection).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sealbox/archive.h"
#include "sealbox/catalog.h"
#include "sealbox/chain.h"
#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/hash.h"
#include "sealbox/index.h"
#include "sealbox/log.h"
#include "sealbox/progress.h"
#include "sealbox/manifest.h"
#include "sealbox/proven.h"
#include "sealbox/names.h"
#include "sealbox/packer.h"
#include "sealbox/seal.h"
#include "sealbox/select.h"
#include "sealbox/sigstate.h"
#include "sealbox/spool.h"
#include "sealbox/timefmt.h"
#include "sealbox/walk.h"
#include "sealbox/writer.h"
#include "writer_tree.h"

static double now_f(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Remove what an interrupted run of ours left on the target. */
static int cleanup_target(struct sb_transport *t, struct sb_catalog *cat,
			  const struct sb_collection *c)
{
	struct sb_name n;
	char *inprog = NULL;
	const char *names[1024];
	size_t i, j, k;
	int rc;

	for (i = 0; i < c->ntmp; i++) {
		sb_info("removing leftover temporary file %s", c->tmp[i]);
		rc = sb_transport_delete(t, c->tmp[i]);
		if (rc == SB_ERR_PERM) /* a write-only key: harmless, verify notes it */
			sb_warn("leaving %s on the target", c->tmp[i]);
		else if (rc)
			return rc;
	}
	if (sb_catalog_get(cat, "inprogress", &inprog) != 0)
		return 0;
	if (sb_name_parse(inprog, &n) == 0) {
		for (i = 0; i < c->nincomplete; i++) {
			const struct sb_set *s = &c->incomplete[i];

			if (s->full != n.full || s->t0 != n.t0 || s->t1 != n.t1)
				continue;
			sb_notice("removing the incomplete set %s of an interrupted backup",
				  inprog);
			k = sb_set_files(s, names, sizeof(names) / sizeof(names[0]));
			for (j = 0; j < k; j++) {
				rc = sb_transport_delete(t, names[j]);
				if (rc == SB_ERR_PERM) { /* a write-only key */
					sb_warn("leaving the incomplete set %s on the target",
						inprog);
					break;
				}
				if (rc)
					goto out;
			}
		}
	}
	rc = sb_catalog_set(cat, "inprogress", NULL);
out:
	free(inprog);
	return rc;
}

/* Refuse to continue a chain made from another host or folder (like duplicity). */
static int check_source(const struct sb_backup_opts *o, const struct sb_set *last, const char *host)
{
	struct sb_manifest m;
	struct sb_buf raw = SB_BUF_INIT;
	char *a = NULL, *b = NULL;
	bool same_dir;
	int rc;

	rc = sb_archive_read_manifest(o->archive_dir, last, &raw);
	if (rc)
		return rc;
	sb_manifest_init(&m);
	rc = sb_manifest_parse(&m, raw.data, raw.len, "local manifest");
	sb_buf_release(&raw);
	if (rc)
		return rc;
	same_dir = !m.localdir.len || !strcmp(sb_buf_str(&m.localdir), o->source) ||
		   ((a = realpath(sb_buf_str(&m.localdir), NULL)) &&
		    (b = realpath(o->source, NULL)) && !strcmp(a, b));
	if (!o->allow_source_mismatch &&
	    ((m.hostname.len && strcmp(sb_buf_str(&m.hostname), host)) || !same_dir)) {
		sb_error(
			"target %s holds backups of %s:%s, not of %s:%s (give --allow-source-mismatch "
			"to continue that chain anyway, or use another target)",
			sb_transport_describe(o->target), sb_buf_str(&m.hostname),
			sb_buf_str(&m.localdir), host, o->source);
		rc = SB_ERR_MISMATCH;
	}
	free(a);
	free(b);
	sb_manifest_release(&m);
	return rc;
}

/* Open the signature state of the chain from the archive dir. */
static int open_sigstate(const char *dir, const struct sb_chain *ch, struct sb_gzreader **gz,
			 struct sb_reader *rd, char **what, struct sb_sigstate **out)
{
	char name[256], path[4096];
	size_t i;
	int rc;

	for (i = 0; i < ch->nsets; i++) {
		if (sb_archive_name(&ch->sets[i], SB_KIND_SIG, name, sizeof(name)))
			return SB_ERR_INTERNAL;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if ((rc = sb_gzreader_open(path, &gz[i])))
			return rc;
		rd[i] = (struct sb_reader){sb_gzreader_read, gz[i]};
		if (!(what[i] = strdup(path)))
			return SB_ERR_NOMEM;
	}
	return sb_sigstate_new(rd, (const char *const *)what, ch->nsets, out);
}

/* A metadata file to encrypt and upload: the local gzip file of the
 * signatures, or the spooled index. Its stored size and SHA-256 go into the
 * seal. */
struct meta_up {
	const struct sb_backup_opts *o;
	const char *name;
	const char *gzpath;	/* read through gunzip, or */
	struct sb_spool *spool; /* read as it is */
	struct sb_writer out;
	struct sb_hash sha256;
	uint64_t bytes;
	unsigned char sha[32];
};

static int meta_tee_write(void *ctx, const void *p, size_t n)
{
	struct meta_up *m = ctx;

	sb_hash_update(&m->sha256, p, n);
	m->bytes += n;
	sb_progress_update(0, m->bytes, m->name, strlen(m->name));
	return m->out.write(m->out.ctx, p, n);
}

/* One attempt (see sb_put_fill_fn): the source is read again from its start. */
static int meta_fill(void *ctx, struct sb_writer out)
{
	struct meta_up *m = ctx;
	struct sb_gzreader *gz = NULL;
	struct sb_reader in;
	int rc;

	if (m->gzpath) {
		if ((rc = sb_gzreader_open(m->gzpath, &gz)))
			return rc;
		in = (struct sb_reader){sb_gzreader_read, gz};
	} else {
		if ((rc = sb_spool_rewind(m->spool)))
			return rc;
		in = (struct sb_reader){sb_spool_read, m->spool};
	}
	m->out = out;
	m->bytes = 0;
	if (!(rc = sb_hash_init(&m->sha256, SB_HASH_ALG_SHA256))) {
		rc = sb_crypto_encrypt(m->o->crypto, m->o->enc_fpr, m->o->sign_fpr, 0, in,
				       (struct sb_writer){meta_tee_write, m}, m->name);
		if (rc)
			sb_hash_release(&m->sha256);
		else
			sb_hash_final(&m->sha256, m->sha);
	}
	sb_gzreader_close(gz);
	return rc;
}

static int upload_meta(struct meta_up *m, struct sb_seal *seal, uint64_t *bytes)
{
	int rc;

	sb_progress_phase("encrypting and uploading metadata", 0, 0); /* size unknown: no ETA */
	rc = sb_transport_put(m->o->target, m->name, meta_fill, m);

	if (!rc)
		rc = sb_seal_add_file(seal, m->name, m->bytes, m->sha);
	if (!rc)
		*bytes += m->bytes; /* size of what we stored, for the statistics */
	return rc;
}

struct run {
	const struct sb_backup_opts *o;
	struct sb_backup_stats *st;
	struct sb_catalog *cat;
	const struct sb_collection *coll; /* the gate's */
	const struct sb_chain *chain;	  /* continued chain, NULL for a full */
	struct sb_name set;		  /* the new set (kind filled per file) */
	struct sb_spool *index;		  /* its index records */
	struct sb_seal seal;		  /* its seal, filled as files are uploaded */
	char host[256];
	char sigtmp[4200], sigfinal[4200], mantmp[4200], manfinal[4200];
};

static int set_name(const struct run *r, enum sb_file_kind kind, bool local, char *out, size_t size)
{
	struct sb_name n = r->set;

	n.kind = kind;
	n.vol = 0;
	n.encrypted = !local;
	n.gzipped = local && kind == SB_KIND_SIG;
	return sb_name_format(&n, out, size) < 0 ? SB_ERR_INTERNAL : 0;
}

static int decide(struct run *r)
{
	const struct sb_backup_opts *o = r->o;
	const struct sb_chain *latest = sb_collection_latest(r->coll);
	time_t now = time(NULL), after;
	int rc;

	r->chain = NULL;
	if (latest && !o->force_full &&
	    !(o->full_if_older_than && now - sb_chain_start(latest) > o->full_if_older_than)) {
		rc = sb_archive_sync_chain(o->archive_dir, o->gate, latest, o->decrypt, o->enc_fpr);
		if (rc == SB_ERR_NOSECRET) {
			sb_warn("the archive dir %s lacks the signatures of the chain on %s, and the "
				"secret encryption key is not at hand to fetch them (--secret-key "
				"FILE): "
				"starting a new full chain",
				o->archive_dir, sb_transport_describe(o->target));
		} else if (rc) {
			return rc;
		} else {
			rc = check_source(o, &latest->sets[latest->nsets - 1], r->host);
			if (rc)
				return rc;
			r->chain = latest;
		}
	}
	/* A new set's time must be later than every set on the target. */
	after = 0;
	for (size_t i = 0; i < r->coll->nchains; i++)
		if (sb_chain_end(&r->coll->chains[i]) > after)
			after = sb_chain_end(&r->coll->chains[i]);
	for (size_t i = 0; i < r->coll->nincomplete; i++)
		if (r->coll->incomplete[i].t1 > after)
			after = r->coll->incomplete[i].t1;
	while ((now = time(NULL)) <= after)
		usleep(200000);
	r->set.full = !r->chain;
	r->set.t1 = now;
	r->set.t0 = r->chain ? sb_chain_end(r->chain) : now;
	r->set.encrypted = true;
	r->st->full = r->set.full;
	return 0;
}

static int run_tree(struct run *r, struct sb_manifest *man)
{
	const struct sb_backup_opts *o = r->o;
	struct sb_gzreader *gz[1024] = {0};
	struct sb_reader rd[1024];
	char *what[1024] = {0};
	struct sb_packer_opts po = {.crypto = o->crypto,
				    .enc_fpr = o->enc_fpr,
				    .sign_fpr = o->sign_fpr,
				    .target = o->target,
				    .set = r->set,
				    .volsize = o->volsize,
				    .tmpdir = o->tmpdir};
	struct tree_ctx tc = {.source = o->source,
			      .cat = r->cat,
			      .manifest = man,
			      .stats = r->st,
			      .tmpdir = o->tmpdir,
			      .index = r->index};
	struct sb_tar_writer sigw;
	struct sb_gzwriter *sink = NULL;
	struct sb_select *sel = NULL;
	char *abs = NULL;
	size_t i;
	int rc;

	if (r->chain && r->chain->nsets > 1024) {
		sb_error("chain on %s has more than 1024 sets: start a new full chain (--full)",
			 sb_transport_describe(o->target));
		return SB_ERR_PARAM;
	}
	abs = realpath(o->source, NULL);
	if (!abs) {
		sb_error("source %s: %s", o->source, strerror(errno));
		return sb_err_from_errno(errno);
	}
	rc = sb_select_new(abs, o->excludes, o->nexcludes, &sel);
	if (!rc)
		rc = sb_walk_open(abs, sel, &tc.walk);
	if (!rc && r->chain)
		rc = open_sigstate(o->archive_dir, r->chain, gz, rd, what, &tc.sigs);
	tc.use_statcache = r->chain && sb_catalog_stat_time(r->cat) == sb_chain_end(r->chain);
	if (!rc)
		rc = sb_packer_new(&po, &tc.packer);
	if (!rc)
		rc = sb_gzwriter_open(r->sigtmp, &sink);
	if (!rc)
		rc = sb_catalog_stat_begin(r->cat);
	if (!rc) {
		sb_tar_writer_init(&sigw, (struct sb_writer){sb_gzwriter_write, sink});
		tc.sigtar = &sigw;
		rc = sb_writer_tree(&tc);
		if (!rc)
			rc = sb_tar_write_end(&sigw);
		if (!rc)
			rc = sb_packer_finish(tc.packer, man);
		if (!rc)
			rc = sb_packer_seal_files(tc.packer, &r->seal);
		r->st->dest_change += sb_packer_uploaded(tc.packer);
		if (rc)
			sb_catalog_stat_abort(r->cat);
	}
	if (sb_gzwriter_close(sink) && !rc)
		rc = SB_ERR_IO;
	sb_packer_free(tc.packer);
	sb_sigstate_free(tc.sigs);
	for (i = 0; i < 1024; i++) {
		sb_gzreader_close(gz[i]);
		free(what[i]);
	}
	sb_walk_free(tc.walk);
	sb_select_free(sel);
	free(abs);
	return rc;
}

/*
 * Link the new seal into the target's hash chain: previous = the newest
 * seal on the target (across chains), or the one this machine wrote last
 * if the target lost it (a rollback stays visible to verify). The backup id
 * comes from the catalog; a new archive dir adopts the target's.
 */
static int link_seal(struct run *r)
{
	const struct sb_backup_opts *o = r->o;
	const struct sb_dirent_list *l = sb_gate_listing(o->gate); /* taken under the lock */
	struct sb_buf text = SB_BUF_INIT;
	struct sb_seal prev;
	struct sb_name n;
	struct sb_hash h;
	enum sb_seal_verdict verdict;
	const char *newest = NULL;
	char *id = NULL, last[256], why[256];
	unsigned char last_sha[32];
	time_t nt = 0;
	size_t i;
	int rc, known;

	sb_seal_init(&prev);
	r->seal.full = r->set.full;
	r->seal.t0 = r->set.t0;
	r->seal.t1 = r->set.t1;
	for (i = 0; i < l->n; i++)
		if (!sb_name_parse(l->names[i], &n) && n.kind == SB_KIND_SEAL && n.t1 < r->set.t1 &&
		    (!newest || n.t1 > nt)) {
			newest = l->names[i];
			nt = n.t1;
		}
	if (newest) {
		if ((rc = sb_gate_get_small(o->gate, newest, SB_GATE_MAX_SEAL, &text)) ||
		    (rc = sb_hash_init(&h, SB_HASH_ALG_SHA256)))
			goto out;
		sb_hash_update(&h, text.data, text.len);
		sb_hash_final(&h, r->seal.prev);
		r->seal.has_prev = true;
	}
	known = sb_catalog_last_seal(r->cat, last, last_sha);
	if (known < 0) {
		rc = known;
		goto out;
	}
	if (known && (!newest || strcmp(newest, last))) {
		bool present = false;

		for (i = 0; i < l->n; i++)
			present |= !strcmp(l->names[i], last);
		if (!present && sb_name_parse(last, &n) == 0 && (!newest || n.t1 > nt)) {
			sb_warn("the target %s lacks %s, the newest seal this machine wrote: it was "
				"rolled back or pruned; the new seal links to it, so 'sealbox verify' "
				"keeps showing the gap",
				sb_transport_describe(o->target), last);
			memcpy(r->seal.prev, last_sha, 32);
			r->seal.has_prev = true;
		}
	}
	rc = sb_catalog_get(r->cat, SB_SEAL_CAT_ID, &id);
	if (!rc && strlen(id) == SB_SEAL_ID_LEN) {
		memcpy(r->seal.backup_id, id, SB_SEAL_ID_LEN + 1);
	} else if (rc && rc != SB_ERR_NOTFOUND) {
		goto out;
	} else {
		r->seal.backup_id[0] = '\0';
		if (newest &&
		    (rc = sb_seal_verify(o->crypto, o->sign_fpr, text.data, text.len, &prev,
					 &verdict, why, NULL)) == 0 &&
		    verdict == SB_SEAL_GOOD)
			memcpy(r->seal.backup_id, prev.backup_id, SB_SEAL_ID_LEN + 1);
		else if (newest && !rc)
			sb_warn("seal %s %s: starting a new backup id", newest, why);
		if (!r->seal.backup_id[0] && (rc = sb_seal_new_id(r->seal.backup_id)))
			goto out;
		rc = sb_catalog_set(r->cat, SB_SEAL_CAT_ID, r->seal.backup_id);
	}
out:
	free(id);
	sb_seal_release(&prev);
	sb_buf_release(&text);
	return rc;
}

/*
 * Keep the plaintext of what this run stored in this machine's record of
 * proven plaintext (proven.h): a restore or mount here then needs no gpg
 * for it. kind "plain": data decrypts from the stored bytes hashing to sha;
 * "seal": data is the signed text of the seal whose bytes hash to sha.
 */
static void remember(const struct run *r, const unsigned char sha[32], const char *kind,
		     const void *data, size_t len)
{
	char dir[4200];

	if (sb_proven_dir(r->o->archive_dir, dir, sizeof(dir)))
		sb_proven_put(dir, sha, r->o->sign_fpr, kind, data, len);
}

/* Entries of the record no run used for a while (pruned sets') go. */
static void sweep_record(const struct run *r)
{
	char dir[4200];

	if (sb_proven_dir(r->o->archive_dir, dir, sizeof(dir)))
		sb_proven_sweep(dir, SB_PROVEN_KEEP_DAYS);
}

/* The index as written (the spool) into the record, when it is small enough. */
static void remember_index(const struct run *r, const unsigned char sha[32])
{
	struct sb_buf text = SB_BUF_INIT;
	char buf[65536];
	ssize_t n = 0;

	if (sb_spool_rewind(r->index))
		return;
	while ((n = sb_spool_read(r->index, buf, sizeof(buf))) > 0)
		if (text.len + (size_t)n > SB_PROVEN_MAX || sb_buf_add(&text, buf, (size_t)n)) {
			n = -1;
			break;
		}
	if (n == 0)
		remember(r, sha, "plain", text.data, text.len);
	sb_buf_release(&text);
}

static int ship_metadata(struct run *r, struct sb_manifest *man)
{
	const struct sb_backup_opts *o = r->o;
	struct sb_buf text = SB_BUF_INIT, enc = SB_BUF_INIT, seal = SB_BUF_INIT;
	struct sb_cursor cur;
	struct sb_hash h;
	unsigned char sha[32];
	char name[256], sealname[256], hex[65];
	int rc;

	/* signatures: plaintext tar from the local gzip copy */
	rc = set_name(r, SB_KIND_SIG, false, name, sizeof(name));
	if (!rc) {
		struct meta_up m = {.o = o, .name = name, .gzpath = r->sigtmp};

		rc = upload_meta(&m, &r->seal, &r->st->dest_change);
	}
	if (rc)
		goto out;
	/* sealbox's index of the set (duplicity ignores it) */
	rc = set_name(r, SB_KIND_INDEX, false, name, sizeof(name));
	if (!rc) {
		struct meta_up m = {.o = o, .name = name, .spool = r->index};

		rc = upload_meta(&m, &r->seal, &r->st->dest_change);
		if (!rc)
			remember_index(r, m.sha);
	}
	if (rc)
		goto out;
	/* local copies first: a crash now leaves a set the target lacks, which is ignored */
	man->has_filelist = true;
	if ((rc = sb_buf_addf(&man->hostname, "%s", r->host)) ||
	    (rc = sb_buf_addstr(&man->localdir, o->source)) ||
	    (rc = sb_manifest_format(man, &text)))
		goto out;
	if ((rc = sb_write_file_atomic(r->manfinal, text.data, text.len)))
		goto out;
	if (rename(r->sigtmp, r->sigfinal) < 0) {
		sb_error("archive dir: cannot rename %s: %s", r->sigtmp, strerror(errno));
		rc = sb_err_from_errno(errno);
		goto out;
	}
	/* the manifest, encrypted into memory (it is small): the seal lists its hash */
	rc = set_name(r, SB_KIND_MANIFEST, false, name, sizeof(name));
	sb_cursor_init(&cur, text.data, text.len);
	if (!rc)
		rc = sb_crypto_encrypt(o->crypto, o->enc_fpr, o->sign_fpr, 0,
				       (struct sb_reader){sb_cursor_read, &cur},
				       (struct sb_writer){sb_buf_write, &enc}, name);
	if (!rc && !(rc = sb_hash_init(&h, SB_HASH_ALG_SHA256))) {
		sb_hash_update(&h, enc.data, enc.len);
		sb_hash_final(&h, sha);
		rc = sb_seal_add_file(&r->seal, name, enc.len, sha);
		if (!rc)
			remember(r, sha, "plain", text.data, text.len);
	}
	/* the seal, then the manifest last: until it is there, the set does not exist */
	if (!rc)
		rc = link_seal(r);
	if (!rc)
		rc = sb_seal_sign(&r->seal, o->crypto, o->sign_fpr, &seal);
	if (!rc)
		rc = set_name(r, SB_KIND_SEAL, false, sealname, sizeof(sealname));
	if (!rc)
		rc = sb_transport_put_mem(o->target, sealname, seal.data, seal.len);
	if (!rc)
		rc = sb_transport_put_mem(o->target, name, enc.data, enc.len);
	if (!rc) {
		r->st->dest_change += enc.len + seal.len;
		snprintf(r->st->set_name, sizeof(r->st->set_name), "%s", name);
		/* remember it: a target that later lacks it was rolled back */
		if (!(rc = sb_hash_init(&h, SB_HASH_ALG_SHA256))) {
			sb_hash_update(&h, seal.data, seal.len);
			sb_hash_final(&h, sha);
			sb_buf_reset(&text);
			if (!sb_seal_format(&r->seal, &text))
				remember(r, sha, "seal", text.data, text.len);
			sb_hex(sha, 32, hex);
			snprintf(r->st->seal_name, sizeof(r->st->seal_name), "%s", sealname);
			memcpy(r->st->seal_sha, hex, sizeof(r->st->seal_sha));
			sb_buf_reset(&text);
			rc = sb_buf_addf(&text, "%s %s", sealname, hex);
		}
		if (!rc)
			rc = sb_catalog_set(r->cat, SB_SEAL_CAT_LAST, sb_buf_str(&text));
		if (!rc)
			sweep_record(r);
	}
out:
	sb_buf_release(&seal);
	sb_buf_release(&enc);
	sb_buf_release(&text);
	return rc;
}

int sb_backup(const struct sb_backup_opts *o, struct sb_backup_stats *stats)
{
	struct run r = {.o = o, .st = stats};
	struct sb_manifest man;
	struct stat st;
	const char *why = NULL;
	char name[256];
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	stats->start = now_f();
	sb_manifest_init(&man);
	sb_seal_init(&r.seal);
	if (gethostname(r.host, sizeof(r.host) - 1) < 0)
		strcpy(r.host, "localhost");
	/* before the chain's source is compared: a typo is not another source */
	if (stat(o->source, &st) < 0) {
		why = errno == ENOENT ? "no such folder" : strerror(errno);
		rc = errno == ENOENT ? SB_ERR_NOTFOUND : sb_err_from_errno(errno);
	} else if (!S_ISDIR(st.st_mode)) {
		why = "not a folder";
		rc = SB_ERR_PARAM;
	}
	if (rc) {
		sb_error("source %s: %s", o->source, why);
		goto out;
	}
	rc = sb_catalog_open(o->archive_dir, &r.cat);
	if (rc)
		goto out;
	sb_archive_remove_tmp(o->archive_dir); /* a killed run's; the caller holds the lock */
	r.coll = sb_gate_collection(o->gate);
	rc = cleanup_target(o->target, r.cat, r.coll);
	if (!rc)
		rc = decide(&r);
	if (rc)
		goto out;
	/* names: local temporary and final copies of the signatures and manifest */
	if ((rc = set_name(&r, SB_KIND_SIG, true, name, sizeof(name))))
		goto out;
	snprintf(r.sigfinal, sizeof(r.sigfinal), "%s/%s", o->archive_dir, name);
	snprintf(r.sigtmp, sizeof(r.sigtmp), "%s/%s%s", o->archive_dir, SB_TMP_PREFIX, name);
	if ((rc = set_name(&r, SB_KIND_MANIFEST, true, name, sizeof(name))))
		goto out;
	snprintf(r.manfinal, sizeof(r.manfinal), "%s/%s", o->archive_dir, name);
	if ((rc = set_name(&r, SB_KIND_MANIFEST, false, name, sizeof(name))) ||
	    (rc = sb_catalog_set(r.cat, "inprogress", name)))
		goto out;
	sb_info("writing %s set %s", r.set.full ? "full" : "incremental", name);
	r.index = sb_spool_new(16u << 20, o->tmpdir);
	if (!r.index || (rc = sb_spool_write(r.index, SB_INDEX_HEADER, strlen(SB_INDEX_HEADER)))) {
		rc = rc ? rc : SB_ERR_NOMEM;
		goto out;
	}
	rc = run_tree(&r, &man);
	if (!rc)
		rc = ship_metadata(&r, &man);
	if (!rc)
		rc = sb_catalog_stat_commit(r.cat, r.set.t1);
	if (!rc)
		rc = sb_catalog_set(r.cat, "inprogress", NULL);
	if (!rc && stats->errors)
		rc = SB_ERR_PARTIAL;
out:
	if (rc && rc != SB_ERR_PARTIAL && r.sigtmp[0])
		unlink(r.sigtmp);
	stats->end = now_f();
	sb_spool_free(r.index);
	sb_seal_release(&r.seal);
	sb_manifest_release(&man);
	sb_catalog_close(r.cat);
	return rc;
}

static void human(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = {"KB", "MB", "GB", "TB", "PB"};
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, size, "%llu bytes", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, "%.2f %s", v, units[u]);
}

void sb_backup_stats_print(const struct sb_backup_stats *s, FILE *f)
{
	char a[64], b[64];
	time_t ts = (time_t)s->start, te = (time_t)s->end;
	struct tm tm;

	fprintf(f, "--------------[ Backup Statistics ]--------------\n");
	strftime(a, sizeof(a), "%a %b %e %H:%M:%S %Y", localtime_r(&ts, &tm));
	fprintf(f, "StartTime %.2f (%s)\n", s->start, a);
	strftime(b, sizeof(b), "%a %b %e %H:%M:%S %Y", localtime_r(&te, &tm));
	fprintf(f, "EndTime %.2f (%s)\n", s->end, b);
	fprintf(f, "ElapsedTime %.2f (%.2f seconds)\n", s->end - s->start, s->end - s->start);
#define LINE(label, v)                                                                             \
	do {                                                                                       \
		human(v, a, sizeof(a));                                                            \
		fprintf(f, label " %llu (%s)\n", (unsigned long long)(v), a);                      \
	} while (0)
	fprintf(f, "SourceFiles %llu\n", (unsigned long long)s->source_files);
	LINE("SourceFileSize", s->source_size);
	fprintf(f, "NewFiles %llu\n", (unsigned long long)s->new_files);
	LINE("NewFileSize", s->new_size);
	fprintf(f, "DeletedFiles %llu\n", (unsigned long long)s->deleted_files);
	fprintf(f, "ChangedFiles %llu\n", (unsigned long long)s->changed_files);
	LINE("ChangedFileSize", s->changed_size);
	LINE("ChangedDeltaSize", s->changed_delta_size);
	fprintf(f, "DeltaEntries %llu\n", (unsigned long long)s->delta_entries);
	LINE("RawDeltaSize", s->raw_delta_size);
	LINE("TotalDestinationSizeChange", s->dest_change);
#undef LINE
	fprintf(f, "Errors %llu\n", (unsigned long long)s->errors);
	if (s->seal_sha[0]) /* what `verify --expect-seal` pins from any machine */
		fprintf(f, "SealSHA256 %s (%s)\n", s->seal_sha, s->seal_name);
	fprintf(f, "-------------------------------------------------\n");
}
