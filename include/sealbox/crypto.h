/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto.h - every OpenPGP operation of sealbox, through gpgme and the real gpg.
 *
 * Calling sequence:
 *   sb_crypto_open(&opts, &c)            bind to a keyring (or an ephemeral one)
 *   sb_crypto_check_*()                  fail early with a clear message
 *   sb_crypto_encrypt()/_decrypt()       one whole stream, in the caller's thread
 *   sb_crypto_decrypt_start()/... finish streaming decryption: gpgme runs in
 *                                        a worker thread, the caller reads
 *   sb_crypto_close(c)                   removes an ephemeral keyring
 *
 * Costs: each operation is one gpg process; keys are looked up once per
 * struct sb_crypto (the sb_crypto_check_* and sb_crypto_have_secret ask gpg
 * again) and forgotten when a module changed a keyring through
 * sb_crypto_gpgme_new.
 *
 * Keys are named by fingerprint (or long key id). Encryption is to the
 * encryption key only; every encrypted file is signed in the same pass by the
 * signing key. Decryption succeeds only when the data decrypts, its MDC is
 * good, and it carries a good signature by the expected signing key (primary
 * key or any of its subkeys); anything else is SB_ERR_BADSIG or
 * SB_ERR_CORRUPT, logged with `what` (the remote file name).
 *
 * Passphrases: the signing key's from $SEALBOX_SIGN_PASSPHRASE, the secret
 * encryption key's from $SEALBOX_SECRET_PASSPHRASE, else a prompt on the
 * controlling terminal, else SB_ERR_PASSPHRASE. The program takes both
 * variables out of its environment before anything else
 * (sb_crypto_take_env_passphrases), so that gpg and the gpg-agents it starts,
 * which may outlive the program, never see them. gpg runs with
 * pinentry-mode loopback. Passphrases are wiped after use and never logged.
 */
#ifndef SEALBOX_CRYPTO_H
#define SEALBOX_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "sealbox/buf.h"

struct sb_crypto;

struct sb_crypto_opts {
	const char *gnupghome;	       /* NULL: $GNUPGHOME, else gpg's default */
	const char *secret_key_file;   /* non-NULL: use an ephemeral keyring (0700
					  temp dir) holding this secret key plus the
					  public keys listed in import_pub; its agent
					  re-protects the key there with the lowest
					  s2k count and caches the passphrase, so the
					  file's own derivation is paid once */
	const char *const *import_pub; /* NULL-terminated fingerprints copied from
					  gnupghome into the ephemeral keyring */
};

int sb_crypto_open(const struct sb_crypto_opts *o, struct sb_crypto **out);
/* Stops the ephemeral keyring's gpg-agent and removes the keyring. NULL ok.
 * Keyrings still open at exit() are removed then too. */
void sb_crypto_close(struct sb_crypto *c);
/* The GNUPGHOME in use (ephemeral or not); NULL for gpg's default. */
const char *sb_crypto_home(const struct sb_crypto *c);

/*
 * Allow (default) or forbid the passphrase prompt on /dev/tty, process-wide.
 * Forbidden, a missing passphrase variable is SB_ERR_PASSPHRASE at once
 * (cron, tests, daemonized mount).
 */
void sb_crypto_set_tty_prompt(bool allow);

/*
 * Move $SEALBOX_SIGN_PASSPHRASE and $SEALBOX_SECRET_PASSPHRASE out of the
 * environment: their values into one page of memory (mlock'ed when the limit
 * allows, left out of core dumps), the variables unset, and their bytes in
 * the initial environment block (what /proc/PID/environ shows) overwritten.
 * Call first thing in main(), before any thread or child; every later call
 * replaces the copies with what the environment holds then (tests). Wiped by
 * sb_crypto_wipe_passphrases(), which also runs at exit. 0, or SB_ERR_NOMEM
 * (logged; the variables are removed all the same).
 */
int sb_crypto_take_env_passphrases(void);
/* The value env ("SEALBOX_SIGN_PASSPHRASE" or "SEALBOX_SECRET_PASSPHRASE")
 * had when taken; NULL if it was not set. Borrowed until the next take or wipe. */
const char *sb_crypto_env_passphrase(const char *env);
/* Wipe and forget the copies taken from the environment. */
void sb_crypto_wipe_passphrases(void);

/*
 * Use pass instead of the variable env ("SEALBOX_SIGN_PASSPHRASE" or
 * "SEALBOX_SECRET_PASSPHRASE"), process-wide, for passphrases the user typed
 * once and several operations need. pass is borrowed until the next call for
 * env; NULL returns to the variable. The caller wipes it.
 */
void sb_crypto_set_passphrase(const char *env, const char *pass);

/*
 * Read one line from the controlling terminal without echo, after prompt,
 * into buf (NUL-terminated, truncated to size-1). 0, or SB_ERR_PASSPHRASE
 * (not logged) when there is no terminal or prompts are forbidden.
 */
int sb_crypto_read_tty(const char *prompt, char *buf, size_t size);

/*
 * For modules that drive gpgme themselves (keys.c): a gpgme_ctx_t on c's
 * keyring (c NULL: $GNUPGHOME) set up like crypto.c's own: OpenPGP,
 * loopback pinentry, offline, binary, and the passphrase callback above
 * reading pp_env. Free with sb_crypto_gpgme_free() (NULL ok).
 * sb_crypto_gpgme_pp_error(): after a failed operation, when the callback
 * refused (missing/wrong passphrase), logs why and returns SB_ERR_PASSPHRASE;
 * else 0.
 */
struct gpgme_context;
int sb_crypto_gpgme_new(struct sb_crypto *c, const char *pp_env, struct gpgme_context **out);
void sb_crypto_gpgme_free(struct gpgme_context *ctx);
int sb_crypto_gpgme_pp_error(struct gpgme_context *ctx);

/*
 * Stop the agents of the ephemeral keyrings still registered in this process
 * and remove the keyrings; wipe the passphrases taken from the environment.
 * Only async-signal-safe calls (fork/execve/waitpid): for SIGINT/SIGTERM
 * handlers.
 */
void sb_crypto_emergency_cleanup(void);
/* Remove ephemeral keyrings left by dead sealbox processes of this user. */
void sb_crypto_reap_stale(void);

/*
 * gpg compresses at level (0-9) instead of at its own (gpg.conf's or zlib's
 * 6), through launcher, an absolute path to sealbox-gpg (gpgme cannot pass
 * gpg an option). Call before any other sb_crypto function, while the
 * process has one thread: it sets two environment variables for the
 * launcher. SB_ERR_PARAM for a bad argument; SB_ERR_INTERNAL when the
 * launcher does not run (warned: gpg is used as it is).
 */
int sb_crypto_set_compress_level(int level, const char *launcher);

/*
 * Key checks; each logs one line naming the key and the reason (not found,
 * expired on DATE, revoked, no encryption/signing capability, no secret).
 */
int sb_crypto_check_encrypt_key(struct sb_crypto *c, const char *fpr);
int sb_crypto_check_sign_key(struct sb_crypto *c, const char *fpr);
/*
 * The same checks on the key c looked up last by that fingerprint (with
 * sb_crypto_key_fpr() or sb_crypto_sign_key_fpr(), just before): no new
 * key listing.
 */
int sb_crypto_recheck_encrypt_key(struct sb_crypto *c, const char *fpr);
int sb_crypto_recheck_sign_key(struct sb_crypto *c, const char *fpr);
/* 0 when the secret key for decrypting to fpr is in the keyring, else SB_ERR_NOSECRET (not logged).
 */
int sb_crypto_have_secret(struct sb_crypto *c, const char *fpr);
/*
 * The keygrips (40 hex) of the signing-capable subkeys of secret key fpr,
 * at most max, from what c looked up before if it did; the count, -1 if
 * the key cannot be listed (not logged).
 */
int sb_crypto_sign_keygrips(struct sb_crypto *c, const char *fpr, char (*grips)[41], int max);
/*
 * The keygrips (40 hex) of the signing-capable subkeys of secret key fpr,
 * at most max, from what c looked up before if it did; the count, -1 if
 * the key cannot be listed (not logged).
 */
int sb_crypto_sign_keygrips(struct sb_crypto *c, const char *fpr, char (*grips)[41], int max);
/* Full 40-hex primary fingerprint of key id/fpr into out[41]. */
int sb_crypto_key_fpr(struct sb_crypto *c, const char *id, char out[41]);
/*
 * The same, among the secret keys ("signing key ID: no secret key", or
 * "not found" when there is no public key either): the listing the
 * signatures after use.
 */
int sb_crypto_sign_key_fpr(struct sb_crypto *c, const char *id, char out[41]);

enum sb_crypto_flags {
	SB_CRYPTO_NO_COMPRESS = 1 << 0, /* data that does not compress */
	SB_CRYPTO_NO_SIGN = 1 << 1,	/* encrypt only: a signed seal lists the result's hash */
};

/* Encrypt to enc_fpr and sign by sign_fpr (not with SB_CRYPTO_NO_SIGN: each
 * signature by a passphrase-protected key costs gpg-agent a derivation of
 * the key from the passphrase), reading in to its end. */
int sb_crypto_encrypt(struct sb_crypto *c, const char *enc_fpr, const char *sign_fpr,
		      unsigned flags, struct sb_reader in, struct sb_writer out, const char *what);

/* Decrypt and verify: plaintext to out; see the file comment for the rules. */
int sb_crypto_decrypt(struct sb_crypto *c, const char *signer_fpr, struct sb_reader in,
		      struct sb_writer out, const char *what);

/*
 * The same for a file whose ciphertext was proven before (its size and
 * SHA-256 as a seal signed by signer_fpr lists them): no signature is
 * required, but one that is there must be good and by signer_fpr.
 */
int sb_crypto_decrypt_proven(struct sb_crypto *c, const char *signer_fpr, struct sb_reader in,
			     struct sb_writer out, const char *what);

/* ---- streaming: gpgme runs in a worker thread ---- */

struct sb_crypto_dec;
/* in is called from the worker thread until finish/abort returns. */
int sb_crypto_decrypt_start(struct sb_crypto *c, const char *signer_fpr, struct sb_reader in,
			    const char *what, struct sb_crypto_dec **s);
/* An sb_read_fn: ctx is the struct sb_crypto_dec. */
ssize_t sb_crypto_dec_read(void *s, void *buf, size_t n);
/* Drain the rest of the plaintext, wait for gpg, return the verdict (0 only
 * for good decryption + good signature by the expected key), free s. */
int sb_crypto_decrypt_finish(struct sb_crypto_dec *s);
void sb_crypto_decrypt_abort(struct sb_crypto_dec *s);

/* Clear-signed text (for seals): sign in by sign_fpr, armored to out. */
int sb_crypto_clearsign(struct sb_crypto *c, const char *sign_fpr, const void *in, size_t len,
			struct sb_buf *out);
/* How a signature check came out; why[256] says it in words ("is signed by X, ..."). */
enum sb_sig_verdict {
	SB_SIG_GOOD,	/* good, and by the expected key only */
	SB_SIG_FOREIGN, /* a good (or unverifiable) signature by another key */
	SB_SIG_BAD,	/* missing, bad, expired, or not one clear-signed message */
};
/*
 * Verify clear-signed text by signer_fpr: the signed text to out, the
 * verdict to *verdict and why (nothing logged). Non-zero only for an error
 * of the check itself (the signing key unknown, no memory).
 */
int sb_crypto_check_clearsigned(struct sb_crypto *c, const char *signer_fpr, const void *in,
				size_t len, struct sb_buf *out, enum sb_sig_verdict *verdict,
				char why[256]);
/* The same, logged: 0 only for SB_SIG_GOOD, else SB_ERR_BADSIG. */
int sb_crypto_verify_clearsigned(struct sb_crypto *c, const char *signer_fpr, const void *in,
				 size_t len, struct sb_buf *out, const char *what);

#endif
