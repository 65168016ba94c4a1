/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto.c - OpenPGP through gpgme and the real gpg: encrypt+sign, decrypt
 * with signer verification, key checks, clear-signed seals and ephemeral
 * keyrings for offline secret keys (made by crypto_keyring.c; passphrases:
 * crypto_pass.c). The streaming variants: crypto_stream.c.
 *
 * It does not parse OpenPGP itself and never holds key material: gpg and its
 * agent do. Passphrases pass through fixed stack buffers, wiped after use.
 * This is the one place where gpgme errors become sb_err codes.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>

#include "sealbox/crypto.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "crypto_impl.h"

/* gpgme's I/O buffer: 4 times its default. gpg reads its input 8 KiB at a
 * time, and gpgme memmoves what a partial write left: a 64 KiB buffer cost
 * 20% more user time than it saved in syscalls */
#define CRYPTO_IO_BUFFER "16384"
#define EXPIRY_WARN_SECS (30 * 86400) /* warn when a key expires this soon */

/* ---- gpgme data over sb_reader/sb_writer ---- */

static ssize_t io_read_cb(void *h, void *buf, size_t size)
{
	struct io *io = h;
	ssize_t n = io->in.read(io->in.ctx, buf, size);

	if (n < 0) {
		io->err = (int)n;
		errno = EIO;
		return -1;
	}
	return n;
}

static ssize_t io_write_cb(void *h, const void *buf, size_t size)
{
	struct io *io = h;
	int rc = io->out.write(io->out.ctx, buf, size);

	if (rc) {
		io->err = rc;
		errno = EIO;
		return -1;
	}
	return (ssize_t)size;
}

static struct gpgme_data_cbs io_in_cbs = {io_read_cb, NULL, NULL, NULL};
static struct gpgme_data_cbs io_out_cbs = {NULL, io_write_cb, NULL, NULL};

/* ---- one operation: a context plus its callback state ---- */

/* Bumped whenever a module may change a keyring behind crypto.c's back
 * (sb_crypto_gpgme_new/_free): keys looked up before are looked up again. */
static atomic_uint keyring_gen;

static int ctx_new(const char *home, gpgme_ctx_t *out)
{
	const char *env = getenv("GNUPGHOME");
	gpgme_error_t e = gpgme_new(out);

	if (!e)
		e = gpgme_set_protocol(*out, GPGME_PROTOCOL_OpenPGP);
	/* runs `gpg --version` (contexts are reused); gpg reads $GNUPGHOME itself */
	if (!e && home && !(env && !strcmp(env, home)))
		e = gpgme_ctx_set_engine_info(*out, GPGME_PROTOCOL_OpenPGP, crypto_engine_file(),
					      home);
	if (!e)
		e = gpgme_set_pinentry_mode(*out, GPGME_PINENTRY_MODE_LOOPBACK);
	if (e) {
		sb_error("gpgme: cannot set up a context: %s", gpgme_strerror(e));
		return SB_ERR_INTERNAL;
	}
	gpgme_set_offline(*out, 1);
	return 0;
}

/*
 * A context on c's keyring (an idle one if any), else on home (c NULL: not
 * kept), with op's passphrase callback.
 */
static int op_init_on(struct op *op, struct sb_crypto *c, const char *home, const char *pp_env,
		      const char *what)
{
	int rc;

	memset(op, 0, sizeof(*op));
	op->what = what ? what : "data";
	op->pp.env = pp_env;
	rc = crypto_ready();
	if (rc)
		return rc;
	if (c) {
		op->owner = c;
		pthread_mutex_lock(&c->lock);
		if (c->nidle)
			op->ctx = c->idle[--c->nidle];
		pthread_mutex_unlock(&c->lock);
		home = c->home;
	}
	if (!op->ctx && (rc = ctx_new(home, &op->ctx)))
		return rc;
	gpgme_set_passphrase_cb(op->ctx, crypto_pp_cb, &op->pp);
	gpgme_set_armor(op->ctx, 0);
	return 0;
}

static int op_init(struct op *op, struct sb_crypto *c, const char *pp_env, const char *what)
{
	return op_init_on(op, c, NULL, pp_env, what);
}

/* Back to its keyring's idle list when clean, else freed. */
static void ctx_done(struct op *op)
{
	struct sb_crypto *c = op->owner;
	gpgme_ctx_t ctx = op->ctx;

	if (c && op->reuse && !op->canceled) {
		gpgme_signers_clear(ctx);
		gpgme_set_armor(ctx, 0);
		gpgme_set_passphrase_cb(ctx, NULL, NULL);
		pthread_mutex_lock(&c->lock);
		if (c->nidle < CRYPTO_CTX_IDLE) {
			c->idle[c->nidle++] = ctx;
			ctx = NULL;
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (ctx)
		gpgme_release(ctx);
}

void crypto_op_cancel(struct op *op)
{
	op->canceled = true;
	gpgme_cancel_async(op->ctx);
}

void crypto_op_release(struct op *op)
{
	if (op->din)
		gpgme_data_release(op->din);
	if (op->dout)
		gpgme_data_release(op->dout);
	if (op->enc_key)
		gpgme_key_unref(op->enc_key);
	if (op->sign_key)
		gpgme_key_unref(op->sign_key);
	if (op->ctx)
		ctx_done(op);
	memset(op, 0, sizeof(*op));
}

static int op_data(struct op *op)
{
	gpgme_error_t e = gpgme_data_new_from_cbs(&op->din, &io_in_cbs, &op->io);

	if (!e)
		e = gpgme_data_new_from_cbs(&op->dout, &io_out_cbs, &op->io);
	/* gpgme moves data through gpg's pipes 4 KiB at a time by default: a
	 * poll and a write (and gpg's read) per 4 KiB of a volume */
	if (!e)
		e = gpgme_data_set_flag(op->din, "io-buffer-size", CRYPTO_IO_BUFFER);
	if (!e)
		e = gpgme_data_set_flag(op->dout, "io-buffer-size", CRYPTO_IO_BUFFER);
	if (e) {
		sb_error("gpgme: %s", gpgme_strerror(e));
		return SB_ERR_NOMEM;
	}
	return 0;
}

/* ---- contexts for modules driving gpgme themselves (keys.c) ---- */

int sb_crypto_gpgme_new(struct sb_crypto *c, const char *pp_env, struct gpgme_context **out)
{
	struct pp_state *pp;
	struct op op;
	int rc;

	*out = NULL;
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return SB_ERR_NOMEM;
	rc = op_init_on(&op, NULL, c ? c->home : NULL, pp_env, NULL);
	if (rc) {
		crypto_op_release(&op);
		free(pp);
		return rc;
	}
	pp->env = pp_env;
	gpgme_set_passphrase_cb(op.ctx, crypto_pp_cb, pp);
	*out = op.ctx;
	atomic_fetch_add(&keyring_gen, 1);
	return 0;
}

void sb_crypto_gpgme_free(struct gpgme_context *ctx)
{
	gpgme_passphrase_cb_t cb;
	void *pp = NULL;

	if (!ctx)
		return;
	gpgme_get_passphrase_cb(ctx, &cb, &pp);
	gpgme_release(ctx);
	atomic_fetch_add(&keyring_gen, 1);
	if (cb == crypto_pp_cb)
		free(pp);
}

int sb_crypto_gpgme_pp_error(struct gpgme_context *ctx)
{
	gpgme_passphrase_cb_t cb;
	struct pp_state *pp;
	void *hook = NULL;

	gpgme_get_passphrase_cb(ctx, &cb, &hook);
	pp = hook;
	if (cb != crypto_pp_cb || !pp || !pp->err)
		return 0;
	sb_error("%s", pp->msg);
	return pp->err;
}

/* All recipients of the failed decryption lacked a secret key. */
static bool op_no_seckey(struct op *op)
{
	gpgme_decrypt_result_t r = gpgme_op_decrypt_result(op->ctx);
	gpgme_recipient_t rc;

	if (!r || !r->recipients)
		return false;
	for (rc = r->recipients; rc; rc = rc->next)
		if (gpgme_err_code(rc->status) != GPG_ERR_NO_SECKEY)
			return false;
	return true;
}

/* Translate a failed gpgme operation into one log line and an sb_err. */
static int op_fail(struct op *op, gpgme_error_t e, bool decrypting)
{
	const char *verb = decrypting ? "decrypt" : "encrypt";

	if (op->io.err)
		return op->io.err;
	if (op->pp.err) {
		sb_error("%s", op->pp.msg);
		return op->pp.err;
	}
	switch (gpgme_err_code(e)) {
	case GPG_ERR_NO_SECKEY:
		sb_error("no secret key to %s %s", decrypting ? "decrypt" : "sign", op->what);
		return SB_ERR_NOSECRET;
	case GPG_ERR_BAD_PASSPHRASE:
		sb_error("wrong passphrase for %s", op->pp.hint[0] ? op->pp.hint : "the key");
		return SB_ERR_PASSPHRASE;
	case GPG_ERR_NO_PASSPHRASE: /* an empty one was given: $VAR= */
		sb_error("empty passphrase for %s (is %s set but empty?)",
			 op->pp.hint[0] ? op->pp.hint : "the key", op->pp.env);
		return SB_ERR_PASSPHRASE;
	case GPG_ERR_CANCELED: /* only our own abort cancels: it stays quiet */
		return SB_ERR_INTERRUPTED;
	case GPG_ERR_UNUSABLE_PUBKEY:
	case GPG_ERR_UNUSABLE_SECKEY:
	case GPG_ERR_INV_USER_ID:
	case GPG_ERR_KEY_EXPIRED:
	case GPG_ERR_CERT_REVOKED:
		sb_error("cannot %s %s: %s", verb, op->what, gpgme_strerror(e));
		return SB_ERR_KEY;
	case GPG_ERR_DECRYPT_FAILED:
		if (decrypting && op_no_seckey(op)) {
			sb_error("no secret key to decrypt %s", op->what);
			return SB_ERR_NOSECRET;
		}
		break;
	default: break;
	}
	sb_error("cannot %s %s: %s", verb, op->what, gpgme_strerror(e));
	return decrypting ? SB_ERR_CORRUPT : SB_ERR_IO;
}

static void fmt_date(long t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 16, "%Y-%m-%d", &tm))
		snprintf(out, 16, "?");
}

/*
 * gpgme_get_key on ctx itself: one gpg process (gpgme's own would make a
 * context, and a `gpg --version` with it). GPG_ERR_EOF: not found.
 */
static gpgme_error_t key_list(gpgme_ctx_t ctx, const char *id, bool secret, gpgme_key_t *out)
{
	gpgme_key_t k = NULL, more;
	gpgme_error_t e;

	*out = NULL;
	if (strlen(id) < 8) /* at least a key id */
		return gpg_error(GPG_ERR_INV_VALUE);
	e = gpgme_op_keylist_start(ctx, id, secret);
	if (!e)
		e = gpgme_op_keylist_next(ctx, &k);
	while (!e) {
		e = gpgme_op_keylist_next(ctx, &more);
		if (e)
			break;
		/* the same key twice (a damaged keyring) is not ambiguous */
		if (!(k->subkeys && k->subkeys->fpr && more->subkeys && more->subkeys->fpr &&
		      !strcmp(k->subkeys->fpr, more->subkeys->fpr)))
			e = gpg_error(GPG_ERR_AMBIGUOUS_NAME);
		gpgme_key_unref(more);
	}
	if (k && gpgme_err_code(e) == GPG_ERR_EOF)
		e = 0;
	gpgme_op_keylist_end(ctx);
	if (e && k)
		gpgme_key_unref(k);
	else
		*out = k;
	return e;
}

/* The key c looked up before as (id, secret), a reference taken; NULL if none. */
static gpgme_key_t key_cached(struct sb_crypto *c, const char *id, bool secret)
{
	unsigned gen = atomic_load(&keyring_gen);
	gpgme_key_t k = NULL;
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CRYPTO_KEY_CACHE && !k; i++) {
		struct key_ent *ke = &c->keys[i];

		/* asked for by this id, or by another whose answer has this fingerprint */
		if (ke->id && ke->gen == gen && ke->secret == secret &&
		    (!strcmp(ke->id, id) || (ke->key->fpr && !strcasecmp(ke->key->fpr, id)))) {
			k = ke->key;
			gpgme_key_ref(k);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return k;
}

static void key_ent_release(struct key_ent *ke)
{
	if (ke->key)
		gpgme_key_unref(ke->key);
	free(ke->id);
	memset(ke, 0, sizeof(*ke));
}

/* Remember k for (id, secret), in a free or stale entry, else the first;
 * k NULL: forget (id, secret). */
static void key_remember(struct sb_crypto *c, const char *id, bool secret, gpgme_key_t k)
{
	unsigned gen = atomic_load(&keyring_gen);
	struct key_ent *ke = NULL;
	char *dup = NULL;
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CRYPTO_KEY_CACHE; i++)
		if (c->keys[i].id && c->keys[i].secret == secret && !strcmp(c->keys[i].id, id))
			key_ent_release(&c->keys[i]);
	if (k && (dup = strdup(id))) {
		for (i = 0; i < CRYPTO_KEY_CACHE && !ke; i++)
			if (!c->keys[i].id || c->keys[i].gen != gen)
				ke = &c->keys[i];
		ke = ke ? ke : &c->keys[0];
		key_ent_release(ke);
		gpgme_key_ref(k);
		*ke = (struct key_ent){dup, secret, gen, k};
	}
	pthread_mutex_unlock(&c->lock);
}

/*
 * A key by id (fingerprint or key id), remembered by op's keyring; fresh:
 * asked of gpg even if remembered (the key checks look at the keyring as it
 * is now; the operations after them use what they found).
 */
static gpgme_error_t key_lookup(struct op *op, const char *id, bool secret, bool fresh,
				gpgme_key_t *out)
{
	gpgme_error_t e;

	if (!id)
		return gpg_error(GPG_ERR_INV_VALUE);
	*out = op->owner && !fresh ? key_cached(op->owner, id, secret) : NULL;
	if (*out)
		return 0;
	e = key_list(op->ctx, id, secret, out);
	if (op->owner)
		key_remember(op->owner, id, secret, e ? NULL : *out);
	return e;
}

/* Look up a key (see key_lookup); logs "<role> key <id>: not found" etc. */
static int get_key(struct op *op, const char *id, bool secret, bool fresh, const char *role,
		   gpgme_key_t *out)
{
	gpgme_error_t e;

	*out = NULL;
	if (!id || !*id) {
		sb_error("%s key: none given", role);
		return SB_ERR_PARAM;
	}
	e = key_lookup(op, id, secret, fresh, out);
	if (!e)
		return 0;
	*out = NULL;
	if (gpgme_err_code(e) == GPG_ERR_EOF) {
		if (secret)
			sb_error("%s key %s: no secret key", role, sb_log_str(id, strlen(id)));
		else
			sb_error("%s key %s: not found", role, sb_log_str(id, strlen(id)));
		return secret ? SB_ERR_NOSECRET : SB_ERR_KEY;
	}
	sb_error("%s key %s: %s", role, sb_log_str(id, strlen(id)), gpgme_strerror(e));
	return SB_ERR_KEY;
}

/* Does fpr (a 40/64-hex fingerprint or 16-hex key id) name key or a subkey? */
static bool key_owns(gpgme_key_t key, const char *fpr)
{
	gpgme_subkey_t sk;
	size_t n, m;

	if (!key || !fpr || (n = strlen(fpr)) < 16)
		return false;
	for (sk = key->subkeys; sk; sk = sk->next) {
		if (!sk->fpr || (m = strlen(sk->fpr)) < n)
			continue;
		if (!strcasecmp(sk->fpr + m - n, fpr))
			return true;
	}
	return false;
}

/*
 * The one signature rule of sealbox: a good signature by op->sign_key (its
 * primary key or a subkey) must be present; with all_must_match, every
 * signature must be such (clear-signed seals: nothing else may ride along).
 */
static enum sb_sig_verdict judge(struct op *op, bool all_must_match, char why[256])
{
	gpgme_verify_result_t vr = gpgme_op_verify_result(op->ctx);
	gpgme_signature_t sig, first_bad = NULL;
	bool good = false;

	for (sig = vr ? vr->signatures : NULL; sig; sig = sig->next) {
		if (gpgme_err_code(sig->status) == GPG_ERR_NO_ERROR &&
		    key_owns(op->sign_key, sig->fpr))
			good = true;
		else if (!first_bad)
			first_bad = sig;
	}
	if (good && !(all_must_match && first_bad))
		return SB_SIG_GOOD;
	if (!first_bad) {
		snprintf(why, 256, "is not signed (expected a signature by %s)", op->sign_key->fpr);
		return SB_SIG_BAD;
	}
	switch (gpgme_err_code(first_bad->status)) {
	case GPG_ERR_NO_ERROR:
	case GPG_ERR_NO_PUBKEY:
		snprintf(why, 256, "is signed by %s, not by the signing key %s",
			 first_bad->fpr ? first_bad->fpr : "an unknown key", op->sign_key->fpr);
		return SB_SIG_FOREIGN;
	case GPG_ERR_BAD_SIGNATURE:
		snprintf(why, 256, "has a bad signature (altered after signing)");
		return SB_SIG_BAD;
	default:
		snprintf(why, 256, "signature by %s: %s (expected %s)",
			 first_bad->fpr ? first_bad->fpr : "?", gpgme_strerror(first_bad->status),
			 op->sign_key->fpr);
		return SB_SIG_BAD;
	}
}

/* 0 when judge() finds the signatures good, else SB_ERR_BADSIG (logged). */
static int check_signature(struct op *op, bool all_must_match)
{
	char why[256];

	if (judge(op, all_must_match, why) == SB_SIG_GOOD)
		return 0;
	sb_error("%s %s", op->what, why);
	return SB_ERR_BADSIG;
}

/* ---- open/close ---- */

static int export_pub(const char *user_home, const char *const *fprs, gpgme_data_t *out)
{
	struct op op;
	gpgme_error_t e;
	int rc, i;

	rc = op_init_on(&op, NULL, user_home, "SEALBOX_SIGN_PASSPHRASE", NULL);
	if (rc)
		goto out;
	rc = SB_ERR_NOMEM;
	if (gpgme_data_new(out))
		goto out;
	for (i = 0; fprs && fprs[i]; i++) {
		off_t before = gpgme_data_seek(*out, 0, SEEK_END);

		/* one gpg process per key: nothing exported is "not found" */
		e = gpgme_op_export(op.ctx, fprs[i], 0, *out);
		if (e) {
			sb_error("cannot export public key %s: %s", fprs[i], gpgme_strerror(e));
			rc = SB_ERR_KEY;
			goto out;
		}
		if (gpgme_data_seek(*out, 0, SEEK_END) == before) {
			sb_error("public key %s: not found", sb_log_str(fprs[i], strlen(fprs[i])));
			rc = SB_ERR_KEY;
			goto out;
		}
	}
	rc = 0;
out:
	crypto_op_release(&op);
	return rc;
}

static int eph_fill(struct sb_crypto *c, const struct sb_crypto_opts *o, const char *user_home)
{
	gpgme_data_t pub = NULL, sec = NULL;
	gpgme_import_result_t ir;
	gpgme_error_t e;
	struct op op;
	int rc;

	rc = export_pub(user_home, o->import_pub, &pub);
	if (rc)
		goto out;
	rc = op_init(&op, c, "SEALBOX_SECRET_PASSPHRASE", NULL);
	if (rc)
		goto out;
	if (o->import_pub && o->import_pub[0]) {
		gpgme_data_seek(pub, 0, SEEK_SET);
		e = gpgme_op_import(op.ctx, pub);
		if (e) {
			sb_error("cannot copy public keys into the temporary keyring: %s",
				 gpgme_strerror(e));
			rc = SB_ERR_KEY;
			goto out_op;
		}
	}
	e = gpgme_data_new_from_file(&sec, o->secret_key_file, 1);
	if (e) {
		sb_error("cannot read secret key file %s: %s",
			 sb_log_str(o->secret_key_file, strlen(o->secret_key_file)),
			 gpgme_strerror(e));
		rc = gpgme_err_code(e) == GPG_ERR_ENOENT ? SB_ERR_NOTFOUND : SB_ERR_IO;
		goto out_op;
	}
	e = gpgme_op_import(op.ctx, sec);
	ir = e ? NULL : gpgme_op_import_result(op.ctx);
	if (op.pp.err) {
		sb_error("%s", op.pp.msg);
		rc = op.pp.err;
	} else if (!ir || ir->secret_imported + ir->secret_unchanged == 0) {
		sb_error("no secret key found in %s%s%s",
			 sb_log_str(o->secret_key_file, strlen(o->secret_key_file)), e ? ": " : "",
			 e ? gpgme_strerror(e) : "");
		rc = SB_ERR_KEY;
	}
	op.reuse = !rc;
out_op:
	crypto_op_release(&op);
out:
	if (sec)
		gpgme_data_release(sec);
	if (pub)
		gpgme_data_release(pub);
	return rc;
}

static int eph_open(struct sb_crypto *c, const struct sb_crypto_opts *o, const char *user_home)
{
	char dir[PATH_MAX];
	int rc;

	rc = crypto_eph_create(dir, sizeof(dir), &c->eph_slot);
	if (rc)
		return rc;
	c->home = strdup(dir);
	if (!c->home)
		return SB_ERR_NOMEM;
	return eph_fill(c, o, user_home);
}

int sb_crypto_open(const struct sb_crypto_opts *o, struct sb_crypto **out)
{
	struct sb_crypto *c;
	const char *home;
	int rc;

	*out = NULL;
	rc = crypto_ready();
	if (rc)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return SB_ERR_NOMEM;
	c->eph_slot = -1;
	pthread_mutex_init(&c->lock, NULL);
	home = o && o->gnupghome ? o->gnupghome : getenv("GNUPGHOME");
	if (home && !*home)
		home = NULL;
	if (o && o->secret_key_file) {
		rc = eph_open(c, o, home);
	} else if (home) {
		c->home = strdup(home);
		rc = c->home ? 0 : SB_ERR_NOMEM;
	}
	if (rc) {
		sb_crypto_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void sb_crypto_close(struct sb_crypto *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->nidle; i++)
		gpgme_release(c->idle[i]);
	for (i = 0; i < CRYPTO_KEY_CACHE; i++)
		key_ent_release(&c->keys[i]);
	pthread_mutex_destroy(&c->lock);
	if (c->eph_slot >= 0)
		crypto_eph_release(c->eph_slot);
	free(c->home);
	free(c);
}

const char *sb_crypto_home(const struct sb_crypto *c) { return c ? c->home : NULL; }

/* ---- key checks ---- */

static bool subkey_ok(gpgme_subkey_t sk, bool enc, bool secret)
{
	if (enc ? !sk->can_encrypt : !sk->can_sign)
		return false;
	if (sk->revoked || sk->expired || sk->disabled || sk->invalid)
		return false;
	return !secret || sk->secret;
}

/*
 * Common rules of the key checks: the key and a capable subkey usable,
 * a warning when it expires within 30 days. role: "encryption"/"signing".
 */
static int check_key(struct sb_crypto *c, const char *id, bool enc, bool secret, bool fresh)
{
	const char *role = enc ? "encryption" : "signing";
	gpgme_subkey_t sk, use = NULL, cand = NULL;
	char date[16];
	struct op op;
	long exp;
	int rc;

	rc = op_init(&op, c, "SEALBOX_SIGN_PASSPHRASE", NULL);
	if (rc)
		goto out;
	op.reuse = true;
	rc = get_key(&op, id, secret, fresh, role, &op.sign_key);
	if (rc)
		goto out;
	id = op.sign_key->fpr ? op.sign_key->fpr : id;
	rc = SB_ERR_KEY;
	if (op.sign_key->revoked) {
		sb_error("%s key %s: revoked", role, id);
		goto out;
	}
	if (op.sign_key->expired) {
		fmt_date(op.sign_key->subkeys->expires, date);
		sb_error("%s key %s: expired on %s", role, id, date);
		goto out;
	}
	if (op.sign_key->disabled || op.sign_key->invalid) {
		sb_error("%s key %s: %s", role, id, op.sign_key->disabled ? "disabled" : "invalid");
		goto out;
	}
	for (sk = op.sign_key->subkeys; sk && !use; sk = sk->next) {
		if (subkey_ok(sk, enc, secret))
			use = sk;
		else if (enc ? sk->can_encrypt : sk->can_sign)
			cand = sk;
	}
	if (!use) {
		if (!cand)
			sb_error("%s key %s: no %s capability", role, id,
				 enc ? "encryption" : "signing");
		else if (cand->expired) {
			fmt_date(cand->expires, date);
			sb_error("%s key %s: %s subkey expired on %s", role, id, role, date);
		} else if (cand->revoked)
			sb_error("%s key %s: %s subkey revoked", role, id, role);
		else if (secret && !cand->secret) {
			sb_error("%s key %s: no secret key for the %s subkey", role, id, role);
			rc = SB_ERR_NOSECRET;
		} else
			sb_error("%s key %s: %s subkey unusable", role, id, role);
		goto out;
	}
	exp = op.sign_key->subkeys->expires;
	if (use->expires && (!exp || use->expires < exp))
		exp = use->expires;
	if (exp && exp - (long)time(NULL) < EXPIRY_WARN_SECS) {
		fmt_date(exp, date);
		sb_warn("%s key %s expires on %s", role, id, date);
	}
	rc = 0;
out:
	crypto_op_release(&op);
	return rc;
}

int sb_crypto_check_encrypt_key(struct sb_crypto *c, const char *fpr)
{
	return check_key(c, fpr, true, false, true);
}

int sb_crypto_check_sign_key(struct sb_crypto *c, const char *fpr)
{
	return check_key(c, fpr, false, true, true);
}

int sb_crypto_recheck_encrypt_key(struct sb_crypto *c, const char *fpr)
{
	return check_key(c, fpr, true, false, false);
}

int sb_crypto_recheck_sign_key(struct sb_crypto *c, const char *fpr)
{
	return check_key(c, fpr, false, true, false);
}

int sb_crypto_have_secret(struct sb_crypto *c, const char *fpr)
{
	gpgme_key_t k = NULL;
	gpgme_subkey_t sk;
	struct op op;
	int rc = SB_ERR_NOSECRET;

	if (op_init(&op, c, "SEALBOX_SECRET_PASSPHRASE", NULL))
		goto out;
	op.reuse = true; /* a key listing leaves the context clean */
	if (key_lookup(&op, fpr, true, true, &k))
		goto out;
	for (sk = k->subkeys; sk; sk = sk->next)
		if (sk->can_encrypt && sk->secret && !sk->revoked && !sk->disabled && !sk->invalid)
			rc = 0;
out:
	if (k)
		gpgme_key_unref(k);
	crypto_op_release(&op);
	return rc;
}

int sb_crypto_sign_keygrips(struct sb_crypto *c, const char *fpr, char (*grips)[41], int max)
{
	gpgme_subkey_t sk;
	gpgme_key_t k = NULL;
	struct op op;
	int n = -1;

	if (op_init(&op, c, "SEALBOX_SIGN_PASSPHRASE", NULL))
		goto out;
	op.reuse = true;
	if (key_lookup(&op, fpr, true, false, &k))
		goto out;
	for (n = 0, sk = k->subkeys; sk && n < max; sk = sk->next)
		if (sk->keygrip && sk->can_sign && strlen(sk->keygrip) == 40)
			memcpy(grips[n++], sk->keygrip, 41);
out:
	if (k)
		gpgme_key_unref(k);
	crypto_op_release(&op);
	return n;
}

/* The primary fingerprint of id, among the secret keys if secret. */
static int key_fpr(struct sb_crypto *c, const char *id, bool secret, const char *role, char out[41])
{
	gpgme_key_t pub = NULL;
	struct op op;
	int rc;

	out[0] = '\0';
	rc = op_init(&op, c, "SEALBOX_SIGN_PASSPHRASE", NULL);
	op.reuse = true;
	/* no secret key: "not found" if there is no public key either */
	if (!rc && secret && id && *id && key_lookup(&op, id, true, false, &op.enc_key) &&
	    gpgme_err_code(key_lookup(&op, id, false, false, &pub)) == GPG_ERR_EOF) {
		sb_error("%s key %s: not found", role, sb_log_str(id, strlen(id)));
		rc = SB_ERR_KEY;
	}
	if (!rc && !op.enc_key)
		rc = get_key(&op, id, secret, false, role, &op.enc_key);
	if (!rc && (!op.enc_key->fpr || strlen(op.enc_key->fpr) != 40)) {
		sb_error("key %s: fingerprint is not 40 hex digits", sb_log_str(id, strlen(id)));
		rc = SB_ERR_KEY;
	}
	if (!rc)
		memcpy(out, op.enc_key->fpr, 41);
	if (pub)
		gpgme_key_unref(pub);
	crypto_op_release(&op);
	return rc;
}

int sb_crypto_key_fpr(struct sb_crypto *c, const char *id, char out[41])
{
	return key_fpr(c, id, false, "OpenPGP", out);
}

int sb_crypto_sign_key_fpr(struct sb_crypto *c, const char *id, char out[41])
{
	return key_fpr(c, id, true, "signing", out);
}

/* ---- whole-stream operations ---- */

/* Context, keys and data objects for an encrypt+sign (sign_fpr NULL: encrypt
 * only); op->io set by caller. */
int crypto_enc_prepare(struct op *op, struct sb_crypto *c, const char *enc_fpr,
		       const char *sign_fpr, const char *what)
{
	gpgme_error_t e;
	int rc;

	rc = op_init(op, c, "SEALBOX_SIGN_PASSPHRASE", what);
	if (!rc)
		rc = get_key(op, enc_fpr, false, false, "encryption", &op->enc_key);
	if (!rc && sign_fpr)
		rc = get_key(op, sign_fpr, true, false, "signing", &op->sign_key);
	if (rc)
		return rc;
	e = sign_fpr ? gpgme_signers_add(op->ctx, op->sign_key) : 0;
	if (e) {
		sb_error("signing key %s: %s", sign_fpr, gpgme_strerror(e));
		return SB_ERR_KEY;
	}
	return op_data(op);
}

int crypto_enc_run(struct op *op, unsigned flags)
{
	gpgme_key_t rcpt[2] = {op->enc_key, NULL};
	gpgme_encrypt_flags_t ef = GPGME_ENCRYPT_ALWAYS_TRUST;
	gpgme_encrypt_result_t er;
	gpgme_sign_result_t sr = NULL;
	bool sign = op->sign_key != NULL;
	gpgme_error_t e;

	if (flags & SB_CRYPTO_NO_COMPRESS)
		ef |= GPGME_ENCRYPT_NO_COMPRESS;
	if (sign)
		e = gpgme_op_encrypt_sign(op->ctx, rcpt, ef, op->din, op->dout);
	else
		e = gpgme_op_encrypt(op->ctx, rcpt, ef, op->din, op->dout);
	if (e)
		return op_fail(op, e, false);
	op->reuse = true;
	er = gpgme_op_encrypt_result(op->ctx);
	if (sign)
		sr = gpgme_op_sign_result(op->ctx);
	if ((er && er->invalid_recipients) ||
	    (sign && (!sr || sr->invalid_signers || !sr->signatures))) {
		sb_error("cannot encrypt %s: gpg did not encrypt%s as asked", op->what,
			 sign ? " and sign" : "");
		return SB_ERR_KEY;
	}
	return op->io.err;
}

int sb_crypto_encrypt(struct sb_crypto *c, const char *enc_fpr, const char *sign_fpr,
		      unsigned flags, struct sb_reader in, struct sb_writer out, const char *what)
{
	struct op op;
	int rc;

	rc = crypto_enc_prepare(&op, c, enc_fpr, (flags & SB_CRYPTO_NO_SIGN) ? NULL : sign_fpr,
				what);
	op.io.in = in;
	op.io.out = out;
	if (!rc)
		rc = crypto_enc_run(&op, flags);
	crypto_op_release(&op);
	return rc;
}

int crypto_dec_prepare(struct op *op, struct sb_crypto *c, const char *signer_fpr, const char *what)
{
	int rc = op_init(op, c, "SEALBOX_SECRET_PASSPHRASE", what);

	if (!rc)
		rc = get_key(op, signer_fpr, false, false, "signing", &op->sign_key);
	if (!rc)
		rc = op_data(op);
	return rc;
}

int crypto_dec_run(struct op *op)
{
	gpgme_error_t e = gpgme_op_decrypt_verify(op->ctx, op->din, op->dout);

	if (e)
		return op_fail(op, e, true);
	op->reuse = true;
	if (op->io.err)
		return op->io.err;
	if (op->sig_optional) {
		gpgme_verify_result_t vr = gpgme_op_verify_result(op->ctx);

		if (!vr || !vr->signatures)
			return 0;
	}
	return check_signature(op, false);
}

static int decrypt(struct sb_crypto *c, const char *signer_fpr, bool proven, struct sb_reader in,
		   struct sb_writer out, const char *what)
{
	struct op op;
	int rc;

	rc = crypto_dec_prepare(&op, c, signer_fpr, what);
	op.sig_optional = proven;
	op.io.in = in;
	op.io.out = out;
	if (!rc)
		rc = crypto_dec_run(&op);
	crypto_op_release(&op);
	return rc;
}

int sb_crypto_decrypt(struct sb_crypto *c, const char *signer_fpr, struct sb_reader in,
		      struct sb_writer out, const char *what)
{
	return decrypt(c, signer_fpr, false, in, out, what);
}

int sb_crypto_decrypt_proven(struct sb_crypto *c, const char *signer_fpr, struct sb_reader in,
			     struct sb_writer out, const char *what)
{
	return decrypt(c, signer_fpr, true, in, out, what);
}

/* ---- clear-signed text ---- */

int sb_crypto_clearsign(struct sb_crypto *c, const char *sign_fpr, const void *in, size_t len,
			struct sb_buf *out)
{
	struct sb_cursor cur;
	gpgme_sign_result_t sr;
	gpgme_error_t e;
	struct op op;
	int rc;

	rc = op_init(&op, c, "SEALBOX_SIGN_PASSPHRASE", "seal");
	if (!rc)
		rc = get_key(&op, sign_fpr, true, false, "signing", &op.sign_key);
	if (rc)
		goto out;
	e = gpgme_signers_add(op.ctx, op.sign_key);
	if (e) {
		sb_error("signing key %s: %s", sign_fpr, gpgme_strerror(e));
		rc = SB_ERR_KEY;
		goto out;
	}
	rc = op_data(&op);
	if (rc)
		goto out;
	sb_cursor_init(&cur, in, len);
	op.io.in = (struct sb_reader){sb_cursor_read, &cur};
	op.io.out = (struct sb_writer){sb_buf_write, out};
	gpgme_set_armor(op.ctx, 1);
	e = gpgme_op_sign(op.ctx, op.din, op.dout, GPGME_SIG_MODE_CLEAR);
	if (e) {
		rc = op_fail(&op, e, false);
		goto out;
	}
	op.reuse = true;
	sr = gpgme_op_sign_result(op.ctx);
	if (!sr || !sr->signatures || sr->invalid_signers) {
		sb_error("cannot sign the seal: gpg made no signature");
		rc = SB_ERR_KEY;
	}
out:
	crypto_op_release(&op);
	return rc;
}

static const char clear_hdr[] = "-----BEGIN PGP SIGNED MESSAGE-----";

int sb_crypto_check_clearsigned(struct sb_crypto *c, const char *signer_fpr, const void *in,
				size_t len, struct sb_buf *out, enum sb_sig_verdict *verdict,
				char why[256])
{
	struct sb_cursor cur;
	gpgme_error_t e;
	struct op op;
	int rc;

	*verdict = SB_SIG_BAD;
	why[0] = '\0';
	/* exactly one signed block: no unsigned text can ride along */
	if (len < sizeof(clear_hdr) - 1 || memcmp(in, clear_hdr, sizeof(clear_hdr) - 1) ||
	    memmem((const char *)in + 1, len - 1, clear_hdr, sizeof(clear_hdr) - 1)) {
		snprintf(why, 256, "is not one clear-signed message");
		return 0;
	}
	rc = crypto_dec_prepare(&op, c, signer_fpr, "seal");
	if (rc)
		goto out;
	sb_cursor_init(&cur, in, len);
	op.io.in = (struct sb_reader){sb_cursor_read, &cur};
	op.io.out = (struct sb_writer){sb_buf_write, out};
	e = gpgme_op_verify(op.ctx, op.din, NULL, op.dout);
	if (e) {
		if (op.io.err)
			rc = op.io.err;
		else
			snprintf(why, 256, "cannot be verified: %s", gpgme_strerror(e));
		goto out;
	}
	op.reuse = true;
	*verdict = judge(&op, true, why);
out:
	crypto_op_release(&op);
	return rc;
}

int sb_crypto_verify_clearsigned(struct sb_crypto *c, const char *signer_fpr, const void *in,
				 size_t len, struct sb_buf *out, const char *what)
{
	enum sb_sig_verdict v;
	char why[256];
	int rc = sb_crypto_check_clearsigned(c, signer_fpr, in, len, out, &v, why);

	if (!rc && v != SB_SIG_GOOD) {
		sb_error("%s %s", what ? what : "seal", why);
		rc = SB_ERR_BADSIG;
	}
	return rc;
}
