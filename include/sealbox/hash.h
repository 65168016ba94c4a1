/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hash.h - SHA-1 (duplicity's manifest hashes) and SHA-256 over OpenSSL's
 * libcrypto, which uses the CPU's SHA instructions.
 *   sb_hash_init(&h, SB_HASH_ALG_SHA1); sb_hash_update()...; sb_hash_final(&h, out);
 */
#ifndef SEALBOX_HASH_H
#define SEALBOX_HASH_H

#include <stddef.h>

#include "sealbox/buf.h"

enum sb_hash_alg {
	SB_HASH_ALG_SHA1,   /* 20 bytes */
	SB_HASH_ALG_SHA256, /* 32 bytes */
	SB_HASH_ALG_MD5,    /* 16 bytes */
};

struct sb_hash {
	void *ctx; /* EVP_MD_CTX */
	size_t len;
};

int sb_hash_init(struct sb_hash *h, enum sb_hash_alg alg);
void sb_hash_update(struct sb_hash *h, const void *p, size_t n);
/* Writes h->len bytes to out and releases the context. */
void sb_hash_final(struct sb_hash *h, unsigned char *out);
void sb_hash_release(struct sb_hash *h);
/* The digest of n bytes at p into out in one call; 0 or SB_ERR_NOMEM. */
int sb_hash_buf(enum sb_hash_alg alg, const void *p, size_t n, unsigned char *out);
/* A reader that hashes every byte it passes on from src (ctx: the struct). */
struct sb_hash_reader {
	struct sb_reader src;
	struct sb_hash hash;
};
ssize_t sb_hash_reader_read(void *ctx, void *buf, size_t n);

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void sb_hex(const unsigned char *p, size_t n, char *out);
/* The value of one hex digit (either case), -1 for any other character. */
int sb_hexval(int c);
/* Exactly 2n hex digits (either case) at s (len bytes) into n bytes at out:
 * 0, or -1 for any other length or character (out partly written). */
int sb_unhex(const char *s, size_t len, unsigned char *out, size_t n);

#endif
