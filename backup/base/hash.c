/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hash.c - SHA-1/SHA-256/MD5 through libcrypto's EVP interface. */
#include <openssl/evp.h>

#include "sealbox/error.h"
#include "sealbox/hash.h"

int sb_hash_init(struct sb_hash *h, enum sb_hash_alg alg)
{
	const EVP_MD *md = alg == SB_HASH_ALG_SHA1     ? EVP_sha1()
			   : alg == SB_HASH_ALG_SHA256 ? EVP_sha256()
						       : EVP_md5();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	h->ctx = ctx;
	h->len = (size_t)EVP_MD_get_size(md);
	if (!ctx || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		h->ctx = NULL;
		return SB_ERR_NOMEM;
	}
	return 0;
}

void sb_hash_update(struct sb_hash *h, const void *p, size_t n)
{
	if (h->ctx && n)
		EVP_DigestUpdate(h->ctx, p, n);
}

void sb_hash_final(struct sb_hash *h, unsigned char *out)
{
	unsigned int len = 0;

	if (h->ctx)
		EVP_DigestFinal_ex(h->ctx, out, &len);
	sb_hash_release(h);
}

void sb_hash_release(struct sb_hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

ssize_t sb_hash_reader_read(void *ctx, void *buf, size_t n)
{
	struct sb_hash_reader *h = ctx;
	ssize_t r = h->src.read(h->src.ctx, buf, n);

	if (r > 0)
		sb_hash_update(&h->hash, buf, (size_t)r);
	return r;
}

int sb_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sb_unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = sb_hexval(s[2 * i]), lo = sb_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void sb_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int sb_hash_buf(enum sb_hash_alg alg, const void *p, size_t n, unsigned char *out)
{
	struct sb_hash h;
	int rc = sb_hash_init(&h, alg);

	if (rc)
		return rc;
	sb_hash_update(&h, p, n);
	sb_hash_final(&h, out);
	return 0;
}
