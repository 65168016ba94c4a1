/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bcrypt_pbkdf.c - Blowfish, its expensive "eksblowfish" key schedule, and
 * OpenBSD's bcrypt_pbkdf built on them: the KDF of passphrase-protected
 * OpenSSH private keys. Written from the algorithms' descriptions (Schneier's
 * Blowfish, Provos and Mazieres' bcrypt, the bcrypt_pbkdf construction); the
 * initial subkeys are generated from pi (blowfish_pi.c). Not constant-time
 * against cache attacks (table lookups), like every Blowfish; fine for
 * unlocking a local key file.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bcrypt_pbkdf.h"

#define HASH_WORDS 8		    /* bcrypt_hash output: 8 32-bit words */
#define HASH_BYTES (4 * HASH_WORDS) /* 32 */
#define SHA512_BYTES 64

static uint32_t bf_f(const struct sb_blowfish *bf, uint32_t x)
{
	return ((bf->s[0][x >> 24] + bf->s[1][(x >> 16) & 0xff]) ^ bf->s[2][(x >> 8) & 0xff]) +
	       bf->s[3][x & 0xff];
}

void sb_blowfish_encrypt(const struct sb_blowfish *bf, uint32_t *l, uint32_t *r)
{
	uint32_t xl = *l, xr = *r, t;
	int i;

	for (i = 0; i < 16; i++) {
		xl ^= bf->p[i];
		xr ^= bf_f(bf, xl);
		t = xl;
		xl = xr;
		xr = t;
	}
	/* undo the last swap, then whiten with the two last subkeys */
	*l = xr ^ bf->p[17];
	*r = xl ^ bf->p[16];
}

/* The next 4 bytes of data, big-endian, wrapping around at its end. */
static uint32_t stream_word(const uint8_t *data, size_t len, size_t *pos)
{
	uint32_t w = 0;
	int i;

	for (i = 0; i < 4; i++) {
		w = (w << 8) | data[*pos];
		if (++*pos == len)
			*pos = 0;
	}
	return w;
}

static void bf_start(struct sb_blowfish *bf)
{
	memcpy(bf->p, sb_blowfish_pi_p, sizeof(bf->p));
	memcpy(bf->s, sb_blowfish_pi_s, sizeof(bf->s));
}

/*
 * Mix key into the subkeys, then replace every subkey by encrypting a chained
 * block; with a salt, the block is XORed with the salt's next 64 bits first
 * (eksblowfish). Without salt this is Blowfish's own key schedule.
 */
static void bf_expand(struct sb_blowfish *bf, const uint8_t *salt, size_t salt_len,
		      const uint8_t *key, size_t key_len)
{
	uint32_t l = 0, r = 0;
	size_t kpos = 0, spos = 0;
	int i, j;

	for (i = 0; i < 18; i++)
		bf->p[i] ^= stream_word(key, key_len, &kpos);
	for (i = 0; i < 18; i += 2) {
		if (salt) {
			l ^= stream_word(salt, salt_len, &spos);
			r ^= stream_word(salt, salt_len, &spos);
		}
		sb_blowfish_encrypt(bf, &l, &r);
		bf->p[i] = l;
		bf->p[i + 1] = r;
	}
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 256; j += 2) {
			if (salt) {
				l ^= stream_word(salt, salt_len, &spos);
				r ^= stream_word(salt, salt_len, &spos);
			}
			sb_blowfish_encrypt(bf, &l, &r);
			bf->s[i][j] = l;
			bf->s[i][j + 1] = r;
		}
	}
}

void sb_blowfish_init(struct sb_blowfish *bf, const uint8_t *key, size_t key_len)
{
	bf_start(bf);
	bf_expand(bf, NULL, 0, key, key_len);
}

/*
 * bcrypt's core with bcrypt_pbkdf's parameters: an eksblowfish schedule of
 * cost 64 keyed by the two SHA-512 hashes, then 64 encryptions of a fixed
 * 32-byte text. The words come out little-endian, as the construction says.
 */
static void bcrypt_hash(const uint8_t sha2pass[SHA512_BYTES], const uint8_t sha2salt[SHA512_BYTES],
			uint8_t out[HASH_BYTES])
{
	static const char text[HASH_BYTES + 1] = "OxychromaticBlowfishSwatDynamite";
	struct sb_blowfish bf;
	uint32_t c[HASH_WORDS];
	size_t pos = 0;
	int i, j;

	bf_start(&bf);
	bf_expand(&bf, sha2salt, SHA512_BYTES, sha2pass, SHA512_BYTES);
	for (i = 0; i < 64; i++) {
		bf_expand(&bf, NULL, 0, sha2salt, SHA512_BYTES);
		bf_expand(&bf, NULL, 0, sha2pass, SHA512_BYTES);
	}
	for (i = 0; i < HASH_WORDS; i++)
		c[i] = stream_word((const uint8_t *)text, HASH_BYTES, &pos);
	for (i = 0; i < 64; i++)
		for (j = 0; j < HASH_WORDS; j += 2)
			sb_blowfish_encrypt(&bf, &c[j], &c[j + 1]);
	for (i = 0; i < HASH_WORDS; i++) {
		out[4 * i] = (uint8_t)c[i];
		out[4 * i + 1] = (uint8_t)(c[i] >> 8);
		out[4 * i + 2] = (uint8_t)(c[i] >> 16);
		out[4 * i + 3] = (uint8_t)(c[i] >> 24);
	}
	OPENSSL_cleanse(&bf, sizeof(bf));
	OPENSSL_cleanse(c, sizeof(c));
}

static int sha512(const uint8_t *data, size_t len, uint8_t out[SHA512_BYTES])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha512(), NULL) == 1 ? 0 : -1;
}

/*
 * Like PBKDF2, one block per counter value, each the XOR of `rounds` chained
 * bcrypt_hash outputs. Unlike PBKDF2, the blocks are interleaved: byte i of
 * block `count` goes to out[i * stride + count - 1], so that every output
 * byte depends on the full work of all rounds.
 */
int sb_bcrypt_pbkdf(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		    uint8_t *out, size_t out_len, unsigned rounds)
{
	uint8_t sha2pass[SHA512_BYTES], sha2salt[SHA512_BYTES];
	uint8_t tmp[HASH_BYTES], acc[HASH_BYTES], *countsalt;
	size_t stride, amt, left = out_len, i, dest;
	uint32_t count;
	unsigned r;
	int rc = -1;

	if (rounds < 1 || pass_len == 0 || salt_len == 0 || salt_len > (1u << 20) || out_len == 0 ||
	    out_len > HASH_BYTES * HASH_BYTES)
		return -1;
	if (!(countsalt = malloc(salt_len + 4)))
		return -1;
	memcpy(countsalt, salt, salt_len);
	stride = (out_len + HASH_BYTES - 1) / HASH_BYTES;
	amt = (out_len + stride - 1) / stride;
	if (sha512(pass, pass_len, sha2pass) < 0)
		goto out;
	for (count = 1; left > 0; count++) {
		countsalt[salt_len] = (uint8_t)(count >> 24);
		countsalt[salt_len + 1] = (uint8_t)(count >> 16);
		countsalt[salt_len + 2] = (uint8_t)(count >> 8);
		countsalt[salt_len + 3] = (uint8_t)count;
		if (sha512(countsalt, salt_len + 4, sha2salt) < 0)
			goto out;
		bcrypt_hash(sha2pass, sha2salt, tmp);
		memcpy(acc, tmp, sizeof(acc));
		for (r = 1; r < rounds; r++) {
			if (sha512(tmp, sizeof(tmp), sha2salt) < 0)
				goto out;
			bcrypt_hash(sha2pass, sha2salt, tmp);
			for (i = 0; i < sizeof(acc); i++)
				acc[i] ^= tmp[i];
		}
		if (amt > left)
			amt = left;
		for (i = 0; i < amt; i++) {
			dest = i * stride + (count - 1);
			if (dest >= out_len)
				break;
			out[dest] = acc[i];
		}
		left -= i;
	}
	rc = 0;
out:
	OPENSSL_cleanse(sha2pass, sizeof(sha2pass));
	OPENSSL_cleanse(sha2salt, sizeof(sha2salt));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	OPENSSL_cleanse(acc, sizeof(acc));
	OPENSSL_cleanse(countsalt, salt_len + 4);
	free(countsalt);
	return rc;
}
