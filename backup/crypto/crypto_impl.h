/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto_impl.h - private to crypto*.c: one gpgme
 * operation (a context plus its callback state) and the whole-stream steps
 * the streaming variants run on their worker thread.
 */
#ifndef SEALBOX_CRYPTO_IMPL_H
#define SEALBOX_CRYPTO_IMPL_H

#include <pthread.h>
#include <stdbool.h>

#include <gpgme.h>

#include "sealbox/buf.h"
#include "sealbox/crypto.h"

#define CRYPTO_CTX_IDLE 4  /* gpgme contexts kept for reuse per keyring */
#define CRYPTO_KEY_CACHE 8 /* keys remembered per keyring */

/* A key looked up once (a gpg process each time otherwise). */
struct key_ent {
	char *id;	 /* as asked for, owned; NULL: free entry */
	bool secret;	 /* looked up among the secret keys */
	unsigned gen;	 /* crypto_keyring_gen when looked up */
	gpgme_key_t key; /* one reference owned */
};

struct sb_crypto {
	char *home;	      /* GNUPGHOME in use, owned; NULL = gpg's default */
	int eph_slot;	      /* index in eph_slots, -1 if not ephemeral */
	pthread_mutex_t lock; /* protects idle, nidle and keys */
	/* contexts of finished operations: a new one on a keyring other than
	 * the default costs a `gpg --version` */
	gpgme_ctx_t idle[CRYPTO_CTX_IDLE];
	int nidle;
	struct key_ent keys[CRYPTO_KEY_CACHE];
};

struct pp_state {
	const char *env; /* variable holding the passphrase */
	int err;	 /* sb_err decided in the callback, 0 if none */
	char msg[256];	 /* the log line for err (no secrets) */
	char hint[160];	 /* the key gpg last asked for */
};

struct io {
	struct sb_reader in;
	struct sb_writer out;
	int err; /* sb_err returned by in/out (they logged it), 0 if none */
};

struct op {
	gpgme_ctx_t ctx;
	struct sb_crypto *owner; /* ctx goes back to owner's idle list; NULL: freed */
	bool reuse;		 /* ctx finished its operation cleanly */
	bool canceled;		 /* gpgme_cancel_async was called on ctx */
	bool sig_optional;	 /* decrypt: bytes a signed seal proved; no signature needed */
	struct pp_state pp;
	struct io io;
	const char *what;     /* remote file name for messages */
	gpgme_key_t enc_key;  /* recipient (encrypt) */
	gpgme_key_t sign_key; /* signer (encrypt, clearsign) or expected signer */
	gpgme_data_t din, dout;
};

/* crypto_keyring.c: gpgme initialised and usable (logs once if not). */
int crypto_ready(void);
/* The program gpgme runs as gpg (sb_crypto_set_compress_level()), NULL: gpg. */
const char *crypto_engine_file(void);
/* A new registered 0700 keyring folder into dir, its gpg-agent started in a
 * clean environment; its slot for release. */
int crypto_eph_create(char *dir, size_t size, int *slot);
/* Stop its agent, remove it, free the slot. */
void crypto_eph_release(int slot);

/* crypto_pass.c: overwrite the passphrases taken from the environment
 * (async-signal-safe: no unmapping). */
void crypto_pp_wipe_quick(void);
/* crypto_pass.c: gpgme's passphrase callback; hook is the op's pp_state. */
gpgme_error_t crypto_pp_cb(void *hook, const char *uid_hint, const char *info, int prev_was_bad,
			   int fd);

void crypto_op_release(struct op *op);
/* Cancel op's running operation from another thread (its context is not reused). */
void crypto_op_cancel(struct op *op);
/* Set up op for encrypt+sign / for decrypt+verify (keys looked up, contexts made). */
int crypto_enc_prepare(struct op *op, struct sb_crypto *c, const char *enc_fpr,
		       const char *sign_fpr, const char *what);
int crypto_dec_prepare(struct op *op, struct sb_crypto *c, const char *signer_fpr,
		       const char *what);
/* Run the prepared operation from op->io.in to op->io.out; the verdict. */
int crypto_enc_run(struct op *op, unsigned flags);
int crypto_dec_run(struct op *op);

#endif
