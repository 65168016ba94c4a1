/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bcrypt_pbkdf.h - private to the sftp:// transport: the key derivation that
 * protects OpenSSH private key files ("kdfname bcrypt"), and the Blowfish
 * cipher it is built on.
 *
 * Calling sequence: sb_bcrypt_pbkdf(passphrase, salt, rounds) -> key bytes
 * (for a key file: the cipher's key followed by its IV). Blowfish is exposed
 * only so that tests can check it against the cipher's published vectors.
 */
#ifndef SEALBOX_BCRYPT_PBKDF_H
#define SEALBOX_BCRYPT_PBKDF_H

#include <stddef.h>
#include <stdint.h>

/* Blowfish's subkeys: 18 round keys and four 8x32 S-boxes. */
struct sb_blowfish {
	uint32_t p[18];
	uint32_t s[4][256];
};

/* The initial subkeys, pi's hexadecimal digits (blowfish_pi.c, generated). */
extern const uint32_t sb_blowfish_pi_p[18];
extern const uint32_t sb_blowfish_pi_s[4][256];

/* The standard Blowfish key schedule; key is 1..72 bytes. */
void sb_blowfish_init(struct sb_blowfish *bf, const uint8_t *key, size_t key_len);

/* Encrypt one 64-bit block, held as its big-endian halves *l and *r. */
void sb_blowfish_encrypt(const struct sb_blowfish *bf, uint32_t *l, uint32_t *r);

/*
 * OpenBSD's bcrypt_pbkdf: fill out[0..out_len) from pass and salt with rounds
 * iterations. out_len is 1..1024, salt_len 1..(1 << 20), rounds >= 1.
 * Returns 0, or -1 for parameters out of range.
 */
int sb_bcrypt_pbkdf(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		    uint8_t *out, size_t out_len, unsigned rounds);

#endif
