/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keys.h - the offline-key workflow: make the two keys sealbox needs, and
 * check a configuration of keys.
 *
 * The encryption key's secret half lives only in a passphrase-protected file
 * on removable media; the signing key stays on the machine. One key in both
 * roles hands whoever takes the machine the backups, so it is refused.
 *
 * Calling sequence of `sealbox keys create`:
 *   sb_keys_parse_expire(), sb_keys_algo_valid(), sb_keys_uid()   pure helpers
 *   sb_keys_create(c, &opts, &made)   signing key, encryption key, its secret
 *                                     half exported to FILE and proven to
 *                                     decrypt, then deleted from the keyring
 * and of `sealbox keys check`:
 *   sb_keys_distinct()                one key in both roles?
 *   sb_crypto_check_encrypt_key()     usable (crypto.h), then sb_keys_expires()
 *   sb_crypto_have_secret()           must say "no": the secret is offline
 *   sb_crypto_check_sign_key(), sb_keys_test_sign()   signs with the passphrase
 *   sb_keys_test_file()               FILE holds the secret, its passphrase opens it
 *
 * All gpgme work goes through crypto.h. Passphrases are borrowed, never
 * copied into logs; temporary keyrings are removed on every path.
 */
#ifndef SEALBOX_KEYS_H
#define SEALBOX_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "sealbox/crypto.h"

#define SB_KEYS_EXPIRY_WARN (30L * 86400) /* seconds: "expires soon" */

/*
 * Parse an expiry: "never" (0), or a duplicity-style age of at least one day
 * ("2Y", "6M", "30D", "1Y6M"; M = 30 days, Y = 365 days). Lowercase y, w, d
 * are accepted as in gpg ("2y"); a lowercase m is refused (minutes in
 * duplicity, months in gpg). 0 or SB_ERR_PARAM; not logged.
 */
int sb_keys_parse_expire(const char *s, long long *seconds);

/* True for the --algo values: "ed25519" (default), "rsa3072", "rsa4096". */
bool sb_keys_algo_valid(const char *algo);

/*
 * The user id for a key of role ("encryption"/"signing") from name
 * ("Name <email>", "Name" or "<email>"): "Name (sealbox role) <email>".
 * 0, SB_ERR_PARAM (control characters, unbalanced <>, empty) or
 * SB_ERR_NOMEM (out too small); not logged.
 */
int sb_keys_uid(const char *name, const char *role, char *out, size_t size);

struct sb_keys_create_opts {
	const char *name;	 /* "Name <email>" for both user ids; required */
	const char *algo;	 /* "ed25519" or NULL (ed25519 + cv25519), "rsa3072", "rsa4096" */
	long long expire;	 /* seconds from now, 0 = never */
	const char *secret_out;	 /* FILE: created O_EXCL, mode 0600 */
	const char *secret_pass; /* protects the encryption key and FILE; non-empty, borrowed */
	const char *sign_pass;	 /* the signing key's; "" = none (cron); borrowed */
};

struct sb_keys_made {
	char enc_fpr[41];     /* the encryption key (primary fingerprint) */
	char sign_fpr[41];    /* the signing key */
	bool enc_secret_left; /* failure after creation: its secret is still in the keyring */
};

/*
 * Create the signing key and the encryption key in c's keyring, export the
 * encryption key's secret half (armored, protected by secret_pass) to
 * opts->secret_out, prove that FILE decrypts a message signed by the new
 * signing key (in a temporary keyring), then delete the secret half from c's
 * keyring, keeping the public half (re-imported, ultimately trusted as gpg
 * made it) and check it is gone.
 *
 * made is filled as far as creation got, also on failure. Returns 0,
 * SB_ERR_EXISTS (FILE exists; nothing created), SB_ERR_PARAM, SB_ERR_KEY
 * (gpg refused), SB_ERR_PASSPHRASE, SB_ERR_IO; FILE is removed on failure
 * unless the secret half was already deleted from the keyring.
 */
int sb_keys_create(struct sb_crypto *c, const struct sb_keys_create_opts *opts,
		   struct sb_keys_made *made);

/*
 * When the key fpr stops working for its role (enc: encrypting, else
 * signing): the earlier of the primary key's and the usable subkey's expiry,
 * 0 = never, into *when. 0 or SB_ERR_KEY (logged).
 */
int sb_keys_expires(struct sb_crypto *c, const char *fpr, bool enc, long *when);

/*
 * Refuse one key as both encryption and signing key (primary fingerprints)
 * unless allow_same; logs the reason. 0 or SB_ERR_KEY.
 */
int sb_keys_distinct(const char *enc_fpr, const char *sign_fpr, bool allow_same);

/*
 * Make a tiny signature with sign_fpr, with the passphrase as for backups:
 * gpg-agent's cached passphrase of the key is forgotten first, so a wrong
 * $SEALBOX_SIGN_PASSPHRASE fails here even when the right one was cached.
 */
int sb_keys_test_sign(struct sb_crypto *c, const char *sign_fpr);
/*
 * Only the first half of sb_keys_test_sign: gpg-agent forgets the cached
 * passphrase of sign_fpr, so that the next signature (a backup's first)
 * needs the one sealbox gives. No signature: each costs gpg-agent a
 * derivation of the key from its passphrase. Best effort.
 */
void sb_keys_forget_passphrase(struct sb_crypto *c, const char *sign_fpr);

/*
 * Check the secret key file: in a temporary keyring it must hold the secret
 * for enc_fpr, and decrypt (passphrase $SEALBOX_SECRET_PASSPHRASE or the
 * terminal) a message encrypted to enc_fpr and signed by sign_fpr in c.
 * 0, SB_ERR_NOTFOUND, SB_ERR_IO, SB_ERR_KEY (no matching secret),
 * SB_ERR_PASSPHRASE, or what decryption said; logged.
 */
int sb_keys_test_file(struct sb_crypto *c, const char *file, const char *enc_fpr,
		      const char *sign_fpr);

#endif
