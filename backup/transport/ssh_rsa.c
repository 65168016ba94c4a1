/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ssh_rsa.c - RSA user keys signed with rsa-sha2-512/256 on libssh2 1.10:
 * the private key loader (OpenSSH format with bcrypt_pbkdf, PEM through
 * OpenSSL's decoder) and the signer; logging in with them (and with
 * ssh-agent): ssh_rsa_auth.c. See ssh_rsa.h for why this works. It does not
 * pick keys or algorithms: sftp_auth.c does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "bcrypt_pbkdf.h"
#include "sealbox/error.h"
#include "ssh_rsa.h"
#include "ssh_wire.h"

#define KEY_FILE_MAX (1 << 20)	/* larger files are not key files */
#define BCRYPT_ROUNDS_MAX 65536 /* ssh-keygen's default is 16 */

struct sb_ssh_rsa {
	EVP_PKEY *pkey;
	unsigned char *blob; /* string("ssh-rsa") mpint(e) mpint(n) */
	size_t blob_len;
};

static const struct {
	const char *name; /* SSH name */
	const char *md;	  /* OpenSSL digest */
} sig_algs[] = {
	{"rsa-sha2-512", "SHA512"},
	{"rsa-sha2-256", "SHA256"},
};

static int sig_alg(const char *alg)
{
	size_t i;

	for (i = 0; alg && i < sizeof(sig_algs) / sizeof(sig_algs[0]); i++)
		if (!strcmp(alg, sig_algs[i].name))
			return (int)i;
	return -1;
}

static int fail(char *why, size_t size, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	if (why && size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* ------------------------------------------------------ the key */

void sb_ssh_rsa_free(struct sb_ssh_rsa *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key->blob);
	free(key);
}

const unsigned char *sb_ssh_rsa_blob(const struct sb_ssh_rsa *key, size_t *len)
{
	*len = key->blob_len;
	return key->blob;
}

/* Wrap pkey (taken over) with its public blob. */
static int key_new(EVP_PKEY *pkey, struct sb_ssh_rsa **out, char *why, size_t size)
{
	struct sb_ssh_rsa *key = calloc(1, sizeof(*key));
	BIGNUM *n = NULL, *e = NULL;
	struct ssh_wr w = {0};
	int rc = SB_ERR_NOMEM;

	if (!key)
		goto out;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		rc = fail(why, size, SB_ERR_CORRUPT, "RSA key without modulus or exponent");
		goto out;
	}
	ssh_wr_str(&w, "ssh-rsa", 7);
	ssh_wr_mpint(&w, e);
	ssh_wr_mpint(&w, n);
	if (w.err)
		goto out;
	key->pkey = pkey;
	key->blob = w.p;
	key->blob_len = w.len;
	*out = key;
	key = NULL;
	pkey = NULL;
	w.p = NULL;
	rc = 0;
out:
	if (rc == SB_ERR_NOMEM)
		fail(why, size, rc, "out of memory");
	BN_free(n);
	BN_free(e);
	free(w.p);
	free(key);
	EVP_PKEY_free(pkey);
	return rc;
}

/* ------------------------------------------------------ OpenSSH format */

static const char openssh_begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
static const char openssh_end[] = "-----END OPENSSH PRIVATE KEY-----";
static const char openssh_magic[] = "openssh-key-v1"; /* and its NUL */

static const struct {
	const char *name;
	const EVP_CIPHER *(*evp)(void);
	size_t key_len, iv_len, block, tag_len;
} openssh_ciphers[] = {
	{"aes256-ctr", EVP_aes_256_ctr, 32, 16, 16, 0},
	{"aes192-ctr", EVP_aes_192_ctr, 24, 16, 16, 0},
	{"aes128-ctr", EVP_aes_128_ctr, 16, 16, 16, 0},
	{"aes256-cbc", EVP_aes_256_cbc, 32, 16, 16, 0},
	{"aes192-cbc", EVP_aes_192_cbc, 24, 16, 16, 0},
	{"aes128-cbc", EVP_aes_128_cbc, 16, 16, 16, 0},
	{"aes256-gcm@openssh.com", EVP_aes_256_gcm, 32, 12, 16, 16},
	{"aes128-gcm@openssh.com", EVP_aes_128_gcm, 16, 12, 16, 16},
	{"3des-cbc", EVP_des_ede3_cbc, 24, 8, 8, 0},
};
#define NCIPHERS (sizeof(openssh_ciphers) / sizeof(openssh_ciphers[0]))

/* The base64 body between the armor lines, decoded into *bin. */
static int openssh_unarmor(const char *text, unsigned char **bin, size_t *bin_len)
{
	const char *b = strstr(text, openssh_begin), *e;
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *out = NULL;
	int n = 0, fin = 0, rc = SB_ERR_NOMEM;

	if (!ctx)
		return rc;
	b += sizeof(openssh_begin) - 1;
	if (!(e = strstr(b, openssh_end))) {
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	if (!(out = malloc((size_t)(e - b) / 4 * 3 + 3)))
		goto out;
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)b, (int)(e - b)) < 0 ||
	    EVP_DecodeFinal(ctx, out + n, &fin) != 1) {
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	*bin = out;
	*bin_len = (size_t)(n + fin);
	out = NULL;
	rc = 0;
out:
	if (out) {
		OPENSSL_cleanse(out, (size_t)(e - b) / 4 * 3 + 3);
		free(out);
	}
	EVP_ENCODE_CTX_free(ctx);
	return rc;
}

/* Decrypt enc (enc_len bytes, then the tag for GCM) into plain. */
static int openssh_decrypt(int c, const struct ssh_rd *kdfopts, const char *pass,
			   const unsigned char *enc, size_t enc_len, unsigned char *plain,
			   char *why, size_t size)
{
	unsigned char keyiv[32 + 16];
	size_t kl = openssh_ciphers[c].key_len, il = openssh_ciphers[c].iv_len;
	size_t tl = openssh_ciphers[c].tag_len;
	struct ssh_rd opts = *kdfopts, salt;
	EVP_CIPHER_CTX *ctx = NULL;
	uint32_t rounds;
	int n1 = 0, n2 = 0, rc = SB_ERR_CORRUPT;

	if (!ssh_rd_str(&opts, &salt) || !ssh_rd_u32(&opts, &rounds) || opts.n || !salt.n ||
	    !rounds)
		return fail(why, size, SB_ERR_CORRUPT, "bad bcrypt KDF options");
	if (rounds > BCRYPT_ROUNDS_MAX)
		return fail(why, size, SB_ERR_KEY, "bcrypt KDF with %u rounds: more than %d",
			    rounds, BCRYPT_ROUNDS_MAX);
	if (sb_bcrypt_pbkdf((const uint8_t *)pass, strlen(pass), salt.p, salt.n, keyiv, kl + il,
			    rounds) < 0)
		return fail(why, size, SB_ERR_PASSPHRASE, "wrong passphrase (empty)");
	if (!(ctx = EVP_CIPHER_CTX_new())) {
		rc = fail(why, size, SB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, openssh_ciphers[c].evp(), NULL, NULL, NULL) != 1 ||
	    (tl && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)il, NULL) != 1) ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, keyiv, keyiv + kl) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    (tl && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)tl,
				       (void *)(enc + enc_len)) != 1) ||
	    EVP_DecryptUpdate(ctx, plain, &n1, enc, (int)enc_len) != 1) {
		rc = fail(why, size, SB_ERR_INTERNAL, "cipher %s failed", openssh_ciphers[c].name);
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, plain + n1, &n2) != 1) {
		/* only GCM can fail here: its tag does not match */
		rc = fail(why, size, SB_ERR_PASSPHRASE, "wrong passphrase");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(keyiv, sizeof(keyiv));
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static BIGNUM *bn_secret(const struct ssh_rd *mag)
{
	BIGNUM *b = BN_secure_new();

	if (b && !BN_bin2bn(mag->p, (int)mag->n, b)) {
		BN_clear_free(b);
		b = NULL;
	}
	return b;
}

/*
 * The decrypted private section: check-ints, then one key as string(type)
 * mpint n, e, d, iqmp, p, q, string comment, then padding 1, 2, 3, ...
 * pub_e/pub_n: the unencrypted public key, which it must match.
 */
static int openssh_rsa(struct ssh_rd r, bool encrypted, const struct ssh_rd *pub_e,
		       const struct ssh_rd *pub_n, EVP_PKEY **pkey, char *why, size_t size)
{
	struct ssh_rd type, n, e, d, iqmp, p, q, comment;
	BIGNUM *bn[6] = {NULL}, *dp = NULL, *dq = NULL, *t = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BN_CTX *bctx = NULL;
	uint32_t check1, check2;
	size_t i;
	int rc = SB_ERR_CORRUPT;

	if (!ssh_rd_u32(&r, &check1) || !ssh_rd_u32(&r, &check2))
		return fail(why, size, rc, "private section truncated");
	if (check1 != check2)
		return encrypted ? fail(why, size, SB_ERR_PASSPHRASE, "wrong passphrase")
				 : fail(why, size, rc, "check-ints differ: corrupt key");
	if (!ssh_rd_str(&r, &type) || !ssh_rd_is(&type, "ssh-rsa") || !ssh_rd_mpint(&r, &n) ||
	    !ssh_rd_mpint(&r, &e) || !ssh_rd_mpint(&r, &d) || !ssh_rd_mpint(&r, &iqmp) ||
	    !ssh_rd_mpint(&r, &p) || !ssh_rd_mpint(&r, &q) || !ssh_rd_str(&r, &comment))
		return fail(why, size, rc, "malformed RSA private key");
	for (i = 0; i < r.n; i++)
		if (r.p[i] != (unsigned char)(i + 1))
			return fail(why, size, rc, "bad padding after the private key");
	if (n.n != pub_n->n || memcmp(n.p, pub_n->p, n.n) || e.n != pub_e->n ||
	    memcmp(e.p, pub_e->p, e.n))
		return fail(why, size, rc, "private and public halves differ");

	rc = SB_ERR_NOMEM;
	if (!(bn[0] = bn_secret(&n)) || !(bn[1] = bn_secret(&e)) || !(bn[2] = bn_secret(&d)) ||
	    !(bn[3] = bn_secret(&iqmp)) || !(bn[4] = bn_secret(&p)) || !(bn[5] = bn_secret(&q)) ||
	    !(dp = BN_secure_new()) || !(dq = BN_secure_new()) || !(t = BN_secure_new()) ||
	    !(bctx = BN_CTX_secure_new()))
		goto out;
	BN_set_flags(bn[2], BN_FLG_CONSTTIME);
	/* d mod (p - 1), d mod (q - 1): OpenSSH files do not store them */
	if (BN_is_zero(bn[4]) || BN_is_zero(bn[5]) || !BN_mul(t, bn[4], bn[5], bctx) ||
	    BN_cmp(t, bn[0]) != 0) {
		rc = fail(why, size, SB_ERR_CORRUPT, "RSA factors do not match the modulus");
		goto out;
	}
	if (!BN_sub(t, bn[4], BN_value_one()) || !BN_mod(dp, bn[2], t, bctx) ||
	    !BN_sub(t, bn[5], BN_value_one()) || !BN_mod(dq, bn[2], t, bctx))
		goto out;
	if (!(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn[0]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn[1]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, bn[2]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, bn[4]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, bn[5]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bn[3]) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)))
		goto out;
	if (EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		rc = fail(why, size, SB_ERR_CORRUPT, "OpenSSL refuses the RSA key");
		goto out;
	}
	rc = 0;
out:
	if (rc == SB_ERR_NOMEM)
		fail(why, size, rc, "out of memory");
	for (i = 0; i < 6; i++)
		BN_clear_free(bn[i]);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_clear_free(t);
	BN_CTX_free(bctx);
	OSSL_PARAM_free(params); /* secure BNs went to its secure block, clear-freed */
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return rc;
}

/*
 * PROTOCOL.key: magic, string cipher, string kdf, string kdfoptions,
 * uint32 number of keys, string public key, string private section
 * (encrypted), then the cipher's tag if it has one.
 */
static int openssh_load(const unsigned char *bin, size_t len, const char *pass, EVP_PKEY **pkey,
			char *why, size_t size)
{
	struct ssh_rd r = {bin, len}, cipher, kdf, kdfopts, pub, priv, ptype, pub_e, pub_n;
	unsigned char *plain = NULL;
	size_t block = 8, tag = 0;
	uint32_t nkeys;
	int c = -1, rc;
	size_t i;

	if (len < sizeof(openssh_magic) || memcmp(bin, openssh_magic, sizeof(openssh_magic)))
		return fail(why, size, SB_ERR_CORRUPT, "not an openssh-key-v1 file");
	r.p += sizeof(openssh_magic);
	r.n -= sizeof(openssh_magic);
	if (!ssh_rd_str(&r, &cipher) || !ssh_rd_str(&r, &kdf) || !ssh_rd_str(&r, &kdfopts) ||
	    !ssh_rd_u32(&r, &nkeys) || !ssh_rd_str(&r, &pub) || !ssh_rd_str(&r, &priv))
		return fail(why, size, SB_ERR_CORRUPT, "truncated OpenSSH key file");
	if (nkeys != 1)
		return fail(why, size, SB_ERR_KEY, "%u keys in one file", nkeys);
	if (!ssh_rd_str(&pub, &ptype))
		return fail(why, size, SB_ERR_CORRUPT, "bad public key");
	if (!ssh_rd_is(&ptype, "ssh-rsa"))
		return SB_SSH_RSA_NOT_RSA;
	if (!ssh_rd_mpint(&pub, &pub_e) || !ssh_rd_mpint(&pub, &pub_n) || pub.n)
		return fail(why, size, SB_ERR_CORRUPT, "bad RSA public key");

	if (!ssh_rd_is(&cipher, "none")) {
		for (i = 0; i < NCIPHERS && c < 0; i++)
			if (ssh_rd_is(&cipher, openssh_ciphers[i].name))
				c = (int)i;
		if (c < 0)
			return fail(why, size, SB_ERR_KEY, "cipher %.*s not supported",
				    ssh_rd_name_len(&cipher), cipher.p);
		if (!ssh_rd_is(&kdf, "bcrypt"))
			return fail(why, size, SB_ERR_KEY, "KDF %.*s not supported",
				    ssh_rd_name_len(&kdf), kdf.p);
		if (!pass)
			return fail(why, size, SB_ERR_PASSPHRASE, "encrypted, no passphrase");
		block = openssh_ciphers[c].block;
		tag = openssh_ciphers[c].tag_len;
	} else if (!ssh_rd_is(&kdf, "none")) {
		return fail(why, size, SB_ERR_CORRUPT, "a KDF without a cipher");
	}
	if (priv.n % block || r.n != tag)
		return fail(why, size, SB_ERR_CORRUPT, "private section of a bad length");
	if (c < 0)
		return openssh_rsa(priv, false, &pub_e, &pub_n, pkey, why, size);

	if (!(plain = malloc(priv.n + block)))
		return fail(why, size, SB_ERR_NOMEM, "out of memory");
	rc = openssh_decrypt(c, &kdfopts, pass, priv.p, priv.n, plain, why, size);
	if (!rc)
		rc = openssh_rsa((struct ssh_rd){plain, priv.n}, true, &pub_e, &pub_n, pkey, why,
				 size);
	OPENSSL_cleanse(plain, priv.n + block);
	free(plain);
	return rc;
}

/* ------------------------------------------------------ PEM (OpenSSL) */

struct pem_pass {
	const char *pass;
	bool asked; /* the file is encrypted */
};

static int pem_pass_cb(char *buf, size_t size, size_t *len, const OSSL_PARAM params[], void *arg)
{
	struct pem_pass *pp = arg;
	size_t n;

	pp->asked = true;
	if (!pp->pass || (n = strlen(pp->pass)) > size)
		return 0;
	memcpy(buf, pp->pass, n);
	*len = n;
	return 1;
}

static int pem_load(const char *text, size_t len, const char *pass, EVP_PKEY **pkey, char *why,
		    size_t size)
{
	struct pem_pass pp = {pass, false};
	const unsigned char *data = (const unsigned char *)text;
	OSSL_DECODER_CTX *dctx;
	int rc = 0;

	/* other key types libssh2 reads itself, encrypted or not */
	if (strstr(text, "-----BEGIN EC PRIVATE KEY-----") ||
	    strstr(text, "-----BEGIN DSA PRIVATE KEY-----"))
		return SB_SSH_RSA_NOT_RSA;
	dctx = OSSL_DECODER_CTX_new_for_pkey(pkey, "PEM", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
	if (!dctx)
		return fail(why, size, SB_ERR_NOMEM, "out of memory");
	if (OSSL_DECODER_CTX_set_passphrase_cb(dctx, pem_pass_cb, &pp) != 1 ||
	    OSSL_DECODER_from_data(dctx, &data, &len) != 1 || !*pkey) {
		if (pp.asked)
			rc = fail(why, size, SB_ERR_PASSPHRASE,
				  pass ? "wrong passphrase" : "encrypted, no passphrase");
		else
			rc = fail(why, size, SB_ERR_KEY, "PEM private key OpenSSL cannot read");
	} else if (!EVP_PKEY_is_a(*pkey, "RSA")) {
		rc = SB_SSH_RSA_NOT_RSA;
	}
	if (rc) {
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return rc;
}

/* ------------------------------------------------------ loading */

static int read_key_file(const char *file, char **text, size_t *len, char *why, size_t size)
{
	FILE *f = fopen(file, "re");
	char *buf;
	size_t n;
	int e;

	if (!f)
		return fail(why, size, SB_ERR_IO, "%s", strerror(errno));
	if (!(buf = malloc(KEY_FILE_MAX + 1))) {
		fclose(f);
		return fail(why, size, SB_ERR_NOMEM, "out of memory");
	}
	n = fread(buf, 1, KEY_FILE_MAX + 1, f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e || n > KEY_FILE_MAX || memchr(buf, '\0', n)) {
		OPENSSL_cleanse(buf, n);
		free(buf);
		if (e)
			return fail(why, size, SB_ERR_IO, "%s", strerror(e));
		return fail(why, size, SB_ERR_KEY, "not a text key file");
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int sb_ssh_rsa_load(const char *file, const char *passphrase, struct sb_ssh_rsa **out, char *why,
		    size_t why_size)
{
	EVP_PKEY *pkey = NULL;
	unsigned char *bin = NULL;
	size_t len = 0, bin_len = 0;
	char *text = NULL;
	int rc;

	*out = NULL;
	if (why && why_size)
		*why = '\0';
	if ((rc = read_key_file(file, &text, &len, why, why_size)))
		return rc;
	if (strstr(text, openssh_begin)) {
		if ((rc = openssh_unarmor(text, &bin, &bin_len)))
			rc = fail(why, why_size, rc, "%s",
				  rc == SB_ERR_NOMEM ? "out of memory" : "bad base64 armor");
		else
			rc = openssh_load(bin, bin_len, passphrase, &pkey, why, why_size);
	} else if (strstr(text, "-----BEGIN ")) {
		rc = pem_load(text, len, passphrase, &pkey, why, why_size);
	} else {
		rc = fail(why, why_size, SB_ERR_KEY, "neither OpenSSH nor PEM format");
	}
	if (!rc)
		rc = key_new(pkey, out, why, why_size); /* takes pkey */
	if (bin) {
		OPENSSL_cleanse(bin, bin_len);
		free(bin);
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

/* ------------------------------------------------------ signing */

int sb_ssh_rsa_sign(const struct sb_ssh_rsa *key, const char *alg, const unsigned char *data,
		    size_t len, unsigned char **sig, size_t *sig_len)
{
	int a = sig_alg(alg), rc = SB_ERR_INTERNAL;
	EVP_MD_CTX *ctx;
	unsigned char *s = NULL;
	size_t n = 0;

	*sig = NULL;
	if (a < 0)
		return SB_ERR_PARAM;
	if (!(ctx = EVP_MD_CTX_new()))
		return SB_ERR_NOMEM;
	/* RSA's default padding is PKCS#1 v1.5, as RFC 8332 wants */
	if (EVP_DigestSignInit_ex(ctx, NULL, sig_algs[a].md, NULL, NULL, key->pkey, NULL) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, data, len) != 1)
		goto out;
	if (!(s = malloc(n))) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(ctx, s, &n, data, len) != 1)
		goto out;
	*sig = s;
	*sig_len = n;
	s = NULL;
	rc = 0;
out:
	free(s);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}
