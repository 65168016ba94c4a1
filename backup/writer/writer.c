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
#include <pthread.h>
#include <stddef.h>
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
#include "sealbox/testpoint.h"
#include "sealbox/timefmt.h"
#include "sealbox/walk.h"
#include "sealbox/writer.h"
#include "journal.h"
#include "writer_tree.h"

static double now_f(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Remove the temporary files an interrupted upload left on the target. */
static int cleanup_tmp(struct sb_transport *t, const struct sb_collection *c)
{
	size_t i;
	int rc;

	for (i = 0; i < c->ntmp; i++) {
		sb_info("removing leftover temporary file %s", c->tmp[i]);
		rc = sb_transport_delete(t, c->tmp[i]);
		if (rc == SB_ERR_PERM) /* a write-only key: harmless, verify notes it */
			sb_warn("leaving %s on the target", c->tmp[i]);
		else if (rc)
			return rc;
	}
	return 0;
}

/* The incomplete set on the target with n's name, or NULL. */
static const struct sb_set *find_incomplete(const struct sb_collection *c, const struct sb_name *n)
{
	size_t i;

	for (i = 0; i < c->nincomplete; i++) {
		const struct sb_set *s = &c->incomplete[i];

		if (s->full == n->full && s->t0 == n->t0 && s->t1 == n->t1)
			return s;
	}
	return NULL;
}

/* Delete a set's files on the target but volumes 1..keep. */
static int delete_set_files(struct sb_transport *t, const struct sb_set *s, const char *what,
			    unsigned keep)
{
	const char *names[1024];
	struct sb_name n;
	size_t j, k = sb_set_files(s, names, sizeof(names) / sizeof(names[0]));
	int rc;

	for (j = 0; j < k; j++) {
		if (keep && !sb_name_parse(names[j], &n) && n.kind == SB_KIND_VOL && n.vol <= keep)
			continue;
		rc = sb_transport_delete(t, names[j]);
		if (rc == SB_ERR_PERM) { /* a write-only key */
			sb_warn("leaving %s of the set %s on the target", names[j], what);
			return 0;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* The interrupted run's set goes: it was not resumed. */
static int drop_inprogress(struct sb_transport *t, struct sb_catalog *cat,
			   const struct sb_collection *c)
{
	struct sb_name n;
	const struct sb_set *s;
	char *inprog = NULL;
	int rc = 0;

	if (sb_catalog_get(cat, "inprogress", &inprog) != 0)
		return 0;
	if (sb_name_parse(inprog, &n) == 0 && (s = find_incomplete(c, &n))) {
		sb_notice("removing the incomplete set %s of an interrupted backup", inprog);
		rc = delete_set_files(t, s, inprog, 0);
	}
	if (!rc)
		rc = sb_catalog_set(cat, "inprogress", NULL);
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
		/* the full set's signatures (the bulk), inflated on another core */
		if ((rc = (i ? sb_gzreader_open : sb_gzreader_open_ahead)(path, &gz[i])))
			return rc;
		rd[i] = (struct sb_reader){sb_gzreader_read, gz[i]};
		if (!(what[i] = strdup(path)))
			return SB_ERR_NOMEM;
	}
	return sb_sigstate_new(rd, (const char *const *)what, ch->nsets, out);
}

/* A metadata file to encrypt and upload: the local gzip file of the
 * signatures, or the index as the journal holds it. Its stored size and SHA-256 go into the
 * seal. */
struct meta_up {
	const struct sb_backup_opts *o;
	const char *name;
	const char *gzpath; /* read through gunzip, or */
	const char *path;   /* read as it is */
	bool quiet;	    /* not in the thread that reports progress */
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
	if (!m->quiet)
		sb_progress_update(0, m->bytes, m->name, strlen(m->name));
	return m->out.write(m->out.ctx, p, n);
}

/* One attempt (see sb_put_fill_fn): the source is read again from its start. */
static int meta_fill(void *ctx, struct sb_writer out)
{
	struct meta_up *m = ctx;
	struct sb_gzreader *gz = NULL;
	struct sb_reader in;
	int fd = -1, rc;

	if (m->gzpath) {
		if ((rc = sb_gzreader_open_ahead(m->gzpath, &gz)))
			return rc;
		in = (struct sb_reader){sb_gzreader_read, gz};
	} else {
		if ((fd = open(m->path, O_RDONLY | O_CLOEXEC)) < 0) {
			sb_error("archive dir: cannot read %s: %s", m->path, strerror(errno));
			return sb_err_from_errno(errno);
		}
		in = (struct sb_reader){sb_fd_read, &fd};
	}
	m->out = out;
	m->bytes = 0;
	if (!(rc = sb_hash_init(&m->sha256, SB_HASH_ALG_SHA256))) {
		rc = sb_crypto_encrypt(m->o->crypto, m->o->enc_fpr, m->o->sign_fpr,
				       SB_CRYPTO_NO_SIGN, in, (struct sb_writer){meta_tee_write, m},
				       m->name);
		if (rc)
			sb_hash_release(&m->sha256);
		else
			sb_hash_final(&m->sha256, m->sha);
	}
	sb_gzreader_close(gz);
	if (fd >= 0)
		close(fd);
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
	struct sb_seal seal;		  /* its seal, filled as files are uploaded */
	struct sb_journal *j;		  /* its local streams and checkpoints */
	const struct sb_ckpt *ck;	  /* a resumed run: continue after it */
	size_t nck;			  /* volumes 1..nck are on the target */
	struct sb_resume_pos pos;	  /* where the walk stands */
	char key[65];			  /* the options a resume must match */
	char host[256];
	char sigfinal[4200], manfinal[4200];
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

/* Full or incremental, and which chain an incremental continues. */
static int choose_chain(struct run *r)
{
	const struct sb_backup_opts *o = r->o;
	const struct sb_chain *latest = sb_collection_latest(r->coll);
	time_t now = time(NULL);
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
	r->set.full = !r->chain;
	r->set.encrypted = true;
	r->st->full = r->set.full;
	return 0;
}

/* The latest time of any set on the target but skip (NULL: none skipped). */
static time_t newest_time(const struct sb_collection *c, const struct sb_set *skip)
{
	time_t after = 0;
	size_t i;

	for (i = 0; i < c->nchains; i++)
		if (sb_chain_end(&c->chains[i]) > after)
			after = sb_chain_end(&c->chains[i]);
	for (i = 0; i < c->nincomplete; i++)
		if (&c->incomplete[i] != skip && c->incomplete[i].t1 > after)
			after = c->incomplete[i].t1;
	return after;
}

/* A new set's time: later than every set on the target. */
static void pick_time(struct run *r)
{
	time_t now, after = newest_time(r->coll, NULL);

	while ((now = time(NULL)) <= after)
		usleep(200000);
	r->set.t1 = now;
	r->set.t0 = r->chain ? sb_chain_end(r->chain) : now;
}

/* Is the regular file a checkpoint's position is inside of unchanged? */
static bool straddler_same(const struct run *r, const struct sb_resume_pos *p)
{
	struct stat st;
	char path[8192];

	if (!p->bytes)
		return true;
	if (snprintf(path, sizeof(path), "%s/%.*s", r->o->source, (int)p->path.len,
		     (const char *)p->path.data) >= (int)sizeof(path) ||
	    lstat(path, &st) < 0)
		return false;
	return sb_resume_pos_same_file(p, &st);
}

/*
 * The checkpoint to continue from: the last one whose volumes are all on
 * the target at the size this machine stored, and whose position is not
 * inside a file that changed since (else the one before that file began).
 */
static size_t pick_checkpoint(const struct run *r, const struct sb_name *set,
			      const struct sb_ckpt *ck, size_t n)
{
	const struct sb_dirent_list *l = sb_gate_listing(r->o->gate);
	struct sb_name vn = *set;
	char name[256];
	size_t k;
	long at;

	vn.kind = SB_KIND_VOL;
	vn.encrypted = true;
	for (k = 0; k < n; k++) {
		vn.vol = ck[k].vol.num;
		if (sb_name_format(&vn, name, sizeof(name)) < 0 ||
		    (at = sb_dirent_find(l, name)) < 0 ||
		    (l->sizes && l->sizes[at] != ck[k].vol.stored))
			break;
	}
	while (k && !straddler_same(r, &ck[k - 1].pos)) {
		const struct sb_resume_pos *p = &ck[k - 1].pos;
		size_t before = p->pvol ? p->pvol - 1 : 0;

		sb_notice("%s/%s changed since the interrupted run began packing it: resuming "
			  "before it",
			  r->o->source, sb_log_str((const char *)p->path.data, p->path.len));

		k = before < k - 1 ? before : k - 1;
	}
	return k;
}

/*
 * Continue the set an interrupted run left on the target, when this
 * machine's journal of it matches these options and the target still ends
 * where it did. Sets r->j and r->ck; 0 with r->j NULL when there is
 * nothing to resume.
 */
static int try_resume(struct run *r, struct sb_manifest *man)
{
	const struct sb_backup_opts *o = r->o;
	const struct sb_ckpt *ck;
	const struct sb_set *s;
	struct sb_journal *j = NULL;
	struct sb_name n;
	char *inprog = NULL;
	size_t nck, k, i;
	uint64_t stored = 0;
	int rc;

	if (sb_catalog_get(r->cat, "inprogress", &inprog) != 0)
		return 0;
	rc = sb_name_parse(inprog, &n) || !(s = find_incomplete(r->coll, &n)) ||
	     n.full != r->set.full || (r->chain && n.t0 != sb_chain_end(r->chain)) ||
	     newest_time(r->coll, s) >= n.t1;
	if (rc || (rc = sb_journal_open(o->archive_dir, inprog, r->key, &j, &ck, &nck))) {
		free(inprog);
		return rc == SB_ERR_NOMEM ? rc : 0;
	}
	k = pick_checkpoint(r, &n, ck, nck);
	if (!k) {
		sb_journal_free(j);
		free(inprog);
		return 0;
	}
	r->set = n;
	r->set.encrypted = true;
	r->ck = &ck[k - 1];
	r->nck = k;
	for (i = 0; i < k; i++)
		stored += ck[i].vol.stored;
	rc = sb_journal_rewind(j, k, man);
	if (!rc)
		rc = delete_set_files(o->target, s, inprog, (unsigned)k);
	if (rc) {
		sb_journal_free(j);
		free(inprog);
		return rc;
	}
	sb_resume_stats_copy(r->st, &r->ck->pos.stats0);
	r->st->dest_change = stored;
	if (r->ck->pos.at_end)
		sb_notice("resuming the interrupted backup %s: its %zu volumes are on the target",
			  inprog, k);
	else
		sb_notice("resuming the interrupted backup %s after volume %zu (%llu files already "
			  "stored)",
			  inprog, k, (unsigned long long)r->ck->pos.stats0.source_files);
	r->j = j;
	free(inprog);
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
				    .tmpdir = o->tmpdir,
				    .hooks = {sb_journal_cut, sb_journal_durable, r->j}};
	struct tree_ctx tc = {.source = o->source,
			      .cat = r->cat,
			      .manifest = man,
			      .stats = r->st,
			      .tmpdir = o->tmpdir,
			      .index = {sb_journal_index_write, r->j},
			      .pos = &r->pos,
			      .journal = r->j,
			      .resume = r->ck ? &r->ck->pos : NULL};
	struct sb_packer_vol *done = NULL;
	struct sb_tar_writer sigw;
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
	if (!rc && r->nck) { /* a resumed run: the volumes already stored */
		if (!(done = calloc(r->nck, sizeof(*done))))
			rc = SB_ERR_NOMEM;
		for (i = 0; !rc && i < r->nck; i++) /* r->ck is the last of nck */
			done[i] = (r->ck - (r->nck - 1))[i].vol;
		if (!rc)
			rc = sb_packer_resume(tc.packer, done, (unsigned)r->nck);
	}
	if (!rc)
		rc = sb_catalog_stat_begin(r->cat, !tc.use_statcache);
	if (!rc && (rc = sb_journal_stat_replay(r->j, r->cat)))
		sb_catalog_stat_abort(r->cat);
	if (!rc) {
		sb_tar_writer_init(&sigw, sb_journal_sig_writer(r->j));
		if (r->ck)
			sigw.offset = r->ck->sig_taroff;
		sb_journal_set_sigtar(r->j, &sigw);
		sb_journal_set_manifest(r->j, man);
		sb_journal_set_pos(r->j, &r->pos);
		tc.sigtar = &sigw;
		rc = sb_writer_tree(&tc);
		if (!rc && !(r->ck && r->ck->pos.at_end))
			rc = sb_tar_write_end(&sigw);
		if (!rc)
			rc = sb_packer_finish(tc.packer, man);
		if (!rc)
			rc = sb_packer_seal_files(tc.packer, &r->seal);
		r->st->dest_change += sb_packer_uploaded(tc.packer);
		if (rc)
			sb_catalog_stat_abort(r->cat);
	}
	sb_packer_free(tc.packer);
	if (!rc)
		rc = sb_journal_close_streams(r->j);
	free(done);
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

/* The index as written into the record, when it is small enough: streamed
 * from the journal's file, a large index is not copied into memory. */
static void remember_index(const struct run *r, const unsigned char sha[32])
{
	char dir[4200];
	int fd;

	if (!sb_proven_dir(r->o->archive_dir, dir, sizeof(dir)))
		return;
	fd = open(sb_journal_index_path(r->j), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	sb_proven_put_fd(dir, sha, r->o->sign_fpr, "plain", fd);
	close(fd);
}

/*
 * Beside the signatures' upload (the long one, with the progress line):
 * the index's upload, then the manifest encrypted into memory (the seal
 * lists its hash; it is uploaded last, by the caller).
 */
struct meta_side {
	const struct sb_backup_opts *o;
	struct meta_up index;
	const struct sb_buf *text; /* the manifest */
	const char *manname;
	struct sb_buf enc; /* the manifest encrypted */
	int rc;
};

static void *meta_side_run(void *arg)
{
	struct meta_side *s = arg;
	struct sb_cursor cur;

	s->rc = sb_transport_put(s->o->target, s->index.name, meta_fill, &s->index);
	if (s->rc)
		return NULL;
	sb_testpoint("meta-index", 0);
	sb_cursor_init(&cur, s->text->data, s->text->len);
	s->rc = sb_crypto_encrypt(s->o->crypto, s->o->enc_fpr, s->o->sign_fpr, SB_CRYPTO_NO_SIGN,
				  (struct sb_reader){sb_cursor_read, &cur},
				  (struct sb_writer){sb_buf_write, &s->enc}, s->manname);
	return NULL;
}

static int ship_metadata(struct run *r, struct sb_manifest *man)
{
	const struct sb_backup_opts *o = r->o;
	struct sb_buf text = SB_BUF_INIT, seal = SB_BUF_INIT;
	struct meta_side side = {.o = o, .text = &text, .enc = SB_BUF_INIT};
	struct sb_hash h;
	unsigned char sha[32];
	char name[256], sealname[256], hex[65], idxname[256];
	pthread_t tid;
	bool thread = false;
	int rc;

	man->has_filelist = true;
	if ((rc = sb_buf_addf(&man->hostname, "%s", r->host)) ||
	    (rc = sb_buf_addstr(&man->localdir, o->source)) ||
	    (rc = sb_manifest_format(man, &text)) ||
	    (rc = set_name(r, SB_KIND_INDEX, false, idxname, sizeof(idxname))) ||
	    (rc = set_name(r, SB_KIND_MANIFEST, false, name, sizeof(name))))
		goto out;
	/* sealbox's index of the set (duplicity ignores it) and the manifest,
	   on a second core while the signatures are encrypted and uploaded */
	side.index = (struct meta_up){
		.o = o, .name = idxname, .path = sb_journal_index_path(r->j), .quiet = true};
	side.manname = name;
	thread = pthread_create(&tid, NULL, meta_side_run, &side) == 0;
	if (!thread)
		meta_side_run(&side);
	/* signatures: plaintext tar from the local gzip copy */
	{
		struct meta_up m = {.o = o, .gzpath = sb_journal_sig_path(r->j)};
		char signame[256];

		m.name = signame;
		rc = set_name(r, SB_KIND_SIG, false, signame, sizeof(signame));
		if (!rc)
			rc = upload_meta(&m, &r->seal, &r->st->dest_change);
		if (!rc)
			sb_testpoint("meta-sig", 0);
	}
	if (thread)
		pthread_join(tid, NULL);
	if (rc || (rc = side.rc))
		goto out;
	rc = sb_seal_add_file(&r->seal, idxname, side.index.bytes, side.index.sha);
	if (rc)
		goto out;
	r->st->dest_change += side.index.bytes;
	remember_index(r, side.index.sha);
	/* local copies first: a crash now leaves a set the target lacks, which is ignored */
	if ((rc = sb_write_file_atomic(r->manfinal, text.data, text.len)))
		goto out;
	/* a link: the journal keeps its copy until the set is complete */
	unlink(r->sigfinal);
	if (link(sb_journal_sig_path(r->j), r->sigfinal) < 0 &&
	    rename(sb_journal_sig_path(r->j), r->sigfinal) < 0) {
		sb_error("archive dir: cannot create %s: %s", r->sigfinal, strerror(errno));
		rc = sb_err_from_errno(errno);
		goto out;
	}
	if (!(rc = sb_hash_init(&h, SB_HASH_ALG_SHA256))) {
		sb_hash_update(&h, side.enc.data, side.enc.len);
		sb_hash_final(&h, sha);
		rc = sb_seal_add_file(&r->seal, name, side.enc.len, sha);
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
	if (!rc) {
		sb_testpoint("meta-seal", 0);
		rc = sb_transport_put_mem(o->target, name, side.enc.data, side.enc.len);
	}
	if (!rc) {
		sb_testpoint("meta-manifest", 0);
		r->st->dest_change += side.enc.len + seal.len;
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
	sb_buf_release(&side.enc);
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
	sb_resume_pos_init(&r.pos);
	r.coll = sb_gate_collection(o->gate);
	rc = cleanup_tmp(o->target, r.coll);
	if (!rc)
		rc = sb_journal_key(o->source, o->excludes, o->nexcludes, o->volsize, o->enc_fpr,
				    o->sign_fpr, r.key);
	if (!rc)
		rc = choose_chain(&r);
	if (!rc)
		rc = try_resume(&r, &man);
	if (!rc && !r.j) {
		rc = drop_inprogress(o->target, r.cat, r.coll);
		if (!rc)
			pick_time(&r);
	}
	if (rc)
		goto out;
	/* names: local copies of the signatures and manifest */
	if ((rc = set_name(&r, SB_KIND_SIG, true, name, sizeof(name))))
		goto out;
	snprintf(r.sigfinal, sizeof(r.sigfinal), "%s/%s", o->archive_dir, name);
	if ((rc = set_name(&r, SB_KIND_MANIFEST, true, name, sizeof(name))))
		goto out;
	snprintf(r.manfinal, sizeof(r.manfinal), "%s/%s", o->archive_dir, name);
	if ((rc = set_name(&r, SB_KIND_MANIFEST, false, name, sizeof(name))))
		goto out;
	for (int again = 1;; again = 0) {
		if (!r.j &&
		    ((rc = sb_journal_create(o->archive_dir, name, r.key, &r.j)) ||
		     (rc = sb_journal_index_write(r.j, SB_INDEX_HEADER, strlen(SB_INDEX_HEADER))) ||
		     (rc = sb_catalog_set(r.cat, "inprogress", name))))
			goto out;
		if (!r.ck)
			sb_info("writing %s set %s", r.set.full ? "full" : "incremental", name);
		rc = run_tree(&r, &man);
		if (rc != SB_RESUME_STALE || !again)
			break;
		/* the resumed position's file changed after all: the set starts over */
		sb_notice("starting the set %s over", name);
		sb_journal_free(r.j);
		r.j = NULL;
		r.ck = NULL;
		r.nck = 0;
		sb_manifest_release(&man);
		sb_manifest_init(&man);
		sb_seal_release(&r.seal);
		sb_seal_init(&r.seal);
		memset(&r.st->source_files, 0,
		       sizeof(*r.st) - offsetof(struct sb_backup_stats, source_files));
		if ((rc = drop_inprogress(o->target, r.cat, r.coll)))
			goto out;
	}
	if (rc == SB_RESUME_STALE)
		rc = SB_ERR_INTERNAL;
	if (!rc)
		rc = ship_metadata(&r, &man);
	if (!rc)
		rc = sb_catalog_stat_commit(r.cat, r.set.t1);
	if (!rc) {
		sb_testpoint("commit", 0);
		rc = sb_catalog_set(r.cat, "inprogress", NULL);
	}
	if (!rc) {
		sb_journal_finish(r.j);
		r.j = NULL;
	}
	if (!rc && (stats->errors || stats->changed_while_read))
		rc = SB_ERR_PARTIAL;
out:
	stats->end = now_f();
	sb_journal_free(r.j); /* kept on disk: the next run resumes from it */
	sb_resume_pos_release(&r.pos);
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
	fprintf(f, "ChangedWhileRead %llu\n", (unsigned long long)s->changed_while_read);
	if (s->seal_sha[0]) /* what `verify --expect-seal` pins from any machine */
		fprintf(f, "SealSHA256 %s (%s)\n", s->seal_sha, s->seal_name);
	fprintf(f, "-------------------------------------------------\n");
}
