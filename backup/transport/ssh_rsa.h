/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ssh_rsa.h - private to the sftp:// transport: RSA user authentication with
 * rsa-sha2-512 / rsa-sha2-256 signatures (RFC 8332) on libssh2 1.10, which
 * itself signs RSA keys with ssh-rsa (SHA-1) only, refused by OpenSSH >= 8.8.
 *
 * The trick: libssh2_userauth_publickey() names the request's algorithm after
 * the first string of the public key blob it is given, and wraps the
 * callback's raw signature as string(algorithm) + string(signature). Given
 * the blob string("rsa-sha2-512") + mpint(e) + mpint(n) and a callback that
 * signs with RSA PKCS#1 v1.5 over SHA-512, the request is exactly RFC 8332's.
 *
 * Calling sequence, key file:
 *	sb_ssh_rsa_load(file, passphrase, &key, why, size)
 *	  -> SB_SSH_RSA_NOT_RSA: let libssh2 load the file itself
 *	sb_ssh_rsa_userauth(ssh, user, key, "rsa-sha2-512")
 *	sb_ssh_rsa_free(key)
 * ssh-agent: sb_ssh_agent_rsa_userauth(ssh, user, blob, len, alg) with the
 * identity's "ssh-rsa" blob; the agent is asked over $SSH_AUTH_SOCK.
 *
 * The session must use libssh2's default allocator (libssh2_session_init()):
 * libssh2 frees the callbacks' signatures with it. Nothing here prints key
 * material or passphrases; decrypted secrets are wiped before they are freed.
 */
#ifndef SEALBOX_SSH_RSA_H
#define SEALBOX_SSH_RSA_H

#include <stddef.h>

#include <libssh2.h>

/* A loaded RSA private key (opaque). */
struct sb_ssh_rsa;

/* sb_ssh_rsa_load(): a private key of another type (ed25519, ecdsa, ...). */
#define SB_SSH_RSA_NOT_RSA 1

/*
 * Load the RSA private key in file: OpenSSH format (unencrypted, or with
 * kdf bcrypt and cipher aes{128,192,256}-{ctr,cbc}, aes{128,256}-gcm@openssh.com
 * or 3des-cbc), or PEM (PKCS#1 or PKCS#8, encrypted or not) through OpenSSL.
 * passphrase may be NULL. Returns 0 and *out (free with sb_ssh_rsa_free()),
 * SB_SSH_RSA_NOT_RSA, or a negative sb_err code described in why (one line,
 * no key material, why_size bytes):
 *   SB_ERR_PASSPHRASE  encrypted and passphrase NULL, or the passphrase is wrong
 *   SB_ERR_KEY         a format, cipher or KDF this loader does not read
 *   SB_ERR_CORRUPT     malformed or inconsistent key data
 *   SB_ERR_IO, SB_ERR_NOMEM
 */
int sb_ssh_rsa_load(const char *file, const char *passphrase, struct sb_ssh_rsa **out, char *why,
		    size_t why_size);

/* Free key (NULL is fine); its secret parts are wiped. */
void sb_ssh_rsa_free(struct sb_ssh_rsa *key);

/* The key's public blob as in a .pub file: string("ssh-rsa"), mpint e, mpint n. */
const unsigned char *sb_ssh_rsa_blob(const struct sb_ssh_rsa *key, size_t *len);

/*
 * Sign data with key for alg "rsa-sha2-512" or "rsa-sha2-256": the raw RSA
 * PKCS#1 v1.5 signature (modulus size), malloc'ed into *sig. Returns 0, or
 * SB_ERR_PARAM (unknown alg), SB_ERR_NOMEM, SB_ERR_INTERNAL (OpenSSL failed).
 */
int sb_ssh_rsa_sign(const struct sb_ssh_rsa *key, const char *alg, const unsigned char *data,
		    size_t len, unsigned char **sig, size_t *sig_len);

/*
 * Authenticate user on ssh with key and alg ("rsa-sha2-512" or
 * "rsa-sha2-256"). Returns libssh2's code: 0 authenticated,
 * LIBSSH2_ERROR_AUTHENTICATION_FAILED the server refused the key or the
 * algorithm (nothing signed), LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED the
 * signature was refused or could not be made, others from the transport.
 */
int sb_ssh_rsa_userauth(LIBSSH2_SESSION *ssh, const char *user, const struct sb_ssh_rsa *key,
			const char *alg);

/*
 * The same for an ssh-agent identity: blob is its "ssh-rsa" public blob
 * (libssh2_agent_get_identity()); the agent at $SSH_AUTH_SOCK signs with
 * SSH_AGENT_RSA_SHA2_512 or _256. Returns libssh2's code as above, and
 * LIBSSH2_ERROR_AGENT_PROTOCOL when the agent would not sign with alg (no
 * agent, refusal, an agent too old for rsa-sha2: its signature's algorithm
 * is checked). LIBSSH2_ERROR_INVAL: blob is not an "ssh-rsa" blob.
 */
int sb_ssh_agent_rsa_userauth(LIBSSH2_SESSION *ssh, const char *user, const unsigned char *blob,
			      size_t blob_len, const char *alg);

#endif
