/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ssh_rsa.c - Blowfish and bcrypt_pbkdf against published vectors, and
 * the RSA key loader of the sftp:// transport against keys ssh-keygen makes
 * at test time (OpenSSH format plain and under every cipher it offers, PEM
 * PKCS#1 and PKCS#8, plain and encrypted): the public blob matches the .pub
 * file, a wrong passphrase is a wrong passphrase, other key types are "not
 * RSA", and signatures verify with OpenSSL. Authentication against a real
 * sshd, and through ssh-agent, runs in tests/e2e/64-sftp.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bcrypt_pbkdf.h"
#include "ssh_rsa.h"
#include "sealbox/error.h"

#define PASS "test only pass"

static char dir[64];

static void hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* ------------------------------------------------------ Blowfish, KDF */

static void test_ssh_rsa__blowfish_vectors(void **state)
{
	static const struct {
		uint8_t key[8];
		uint32_t l, r, want_l, want_r;
	} v[] = {
		{{0}, 0, 0, 0x4EF99745, 0x6198DD78},
		{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		 0xFFFFFFFF,
		 0xFFFFFFFF,
		 0x51866FD5,
		 0xB85ECB8A},
		{{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10},
		 0x01234567,
		 0x89ABCDEF,
		 0x0ACEAB0F,
		 0xC6A0A28D},
		{{0x30}, 0x10000000, 0x00000001, 0x7D856F9A, 0x613063F2},
	};
	struct sb_blowfish bf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t l = v[i].l, r = v[i].r;

		sb_blowfish_init(&bf, v[i].key, 8);
		sb_blowfish_encrypt(&bf, &l, &r);
		assert_int_equal(l, v[i].want_l);
		assert_int_equal(r, v[i].want_r);
	}
}

/* OpenBSD's regress vectors for bcrypt_pbkdf (NUL bytes count in lengths). */
static void test_ssh_rsa__bcrypt_pbkdf_vectors(void **state)
{
	static const struct {
		const char *pass, *salt;
		size_t pass_len, salt_len, out_len;
		unsigned rounds;
		const char *want;
	} v[] = {
		{"password", "salt", 8, 4, 32, 4,
		 "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"},
		{"password", "", 8, 1, 16, 4, "c12b566235eee04c212598970a579a67"},
		{"", "salt", 1, 4, 16, 4, "6051be18c2f4f82cbf0efee5471b4bb9"},
		{"password", "salt", 9, 5, 32, 4,
		 "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050"},
		{"pass\0word", "sa\0lt", 8, 4, 16, 4, "c2bffd9db38f6569efef4372f4de83c0"},
		{"pass\0word", "sa\0lt", 9, 5, 16, 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f"},
		{"password", "salt", 8, 4, 64, 8,
		 "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec7"
		 "6227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d"},
		{"password", "salt", 8, 4, 16, 42, "833cf0dcf56db65608e8f0dc0ce882bd"},
	};
	uint8_t out[64];
	char got[129];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(sb_bcrypt_pbkdf((const uint8_t *)v[i].pass, v[i].pass_len,
						 (const uint8_t *)v[i].salt, v[i].salt_len, out,
						 v[i].out_len, v[i].rounds),
				 0);
		hex(out, v[i].out_len, got);
		assert_string_equal(got, v[i].want);
	}
	assert_int_equal(sb_bcrypt_pbkdf((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, out,
					 sizeof(out), 0),
			 -1);
}

/* ------------------------------------------------------ key files */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static const char *const ciphers[] = {
	"aes256-ctr",
	"aes128-ctr",
	"aes256-cbc",
	"aes256-gcm@openssh.com",
	"aes128-gcm@openssh.com",
	"3des-cbc",
};
#define NCIPHERS (sizeof(ciphers) / sizeof(ciphers[0]))

/* One RSA key in every format, from one ssh-keygen key (test-only keys). */
static int make_keys(void **state)
{
	size_t i;
	int rc = 0;

	(void)state;
	if (sh("command -v ssh-keygen >/dev/null") != 0)
		return 0; /* the tests skip */
	snprintf(dir, sizeof(dir), "/tmp/test_ssh_rsa.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	rc |= sh("cd %s && ssh-keygen -q -t rsa -b 2048 -N '' -C test-only -f rsa", dir);
	rc |= sh("cd %s && ssh-keygen -q -t ed25519 -N '' -C test-only -f ed25519", dir);
	rc |= sh("cd %s && ssh-keygen -q -t ed25519 -N '" PASS "' -C test-only -f ed25519_enc",
		 dir);
	rc |= sh("cd %s && ssh-keygen -q -t ecdsa -m PEM -N '' -C test-only -f ecdsa_pem", dir);
	rc |= sh("cd %s && ssh-keygen -q -t ecdsa -m PKCS8 -N '' -C test-only -f ecdsa_p8", dir);
	for (i = 0; i < NCIPHERS; i++)
		rc |= sh("cd %s && cp rsa 'rsa_%s' && ssh-keygen -q -p -P '' -N '" PASS
			 "' -Z '%s' -f 'rsa_%s' >/dev/null",
			 dir, ciphers[i], ciphers[i], ciphers[i]);
	rc |= sh("cd %s && cp rsa rsa_chacha && ssh-keygen -q -p -P '' -N '" PASS
		 "' -Z chacha20-poly1305@openssh.com -f rsa_chacha >/dev/null",
		 dir);
	rc |= sh("cd %s && cp rsa rsa_pem && ssh-keygen -q -p -P '' -N '' -m PEM -f rsa_pem "
		 ">/dev/null && cp rsa rsa_pem_enc && ssh-keygen -q -p -P '' -N '" PASS
		 "' -m PEM -f rsa_pem_enc >/dev/null",
		 dir);
	rc |= sh("cd %s && cp rsa rsa_p8 && ssh-keygen -q -p -P '' -N '' -m PKCS8 -f rsa_p8 "
		 ">/dev/null && cp rsa rsa_p8_enc && ssh-keygen -q -p -P '' -N '" PASS
		 "' -m PKCS8 -f rsa_p8_enc >/dev/null",
		 dir);
	/* the public key as SubjectPublicKeyInfo, for OpenSSL to verify with */
	rc |= sh("cd %s && ssh-keygen -e -m PKCS8 -f rsa.pub >rsa.spki.pem && "
		 "printf 'not a key\\n' >garbage",
		 dir);
	return rc ? -1 : 0;
}

static int remove_keys(void **state)
{
	(void)state;
	if (*dir)
		sh("rm -rf '%s'", dir);
	return 0;
}

static void need_keys(void)
{
	if (!*dir)
		skip();
}

static void path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static int load(const char *name, const char *pass, struct sb_ssh_rsa **key, char *why, size_t size)
{
	char p[128];

	path(p, sizeof(p), name);
	return sb_ssh_rsa_load(p, pass, key, why, size);
}

/* The blob of rsa.pub, base64-decoded. */
static size_t pub_blob(unsigned char *out, size_t size)
{
	char p[128], line[4096], *b64, *end;
	FILE *f;
	int n;

	path(p, sizeof(p), "rsa.pub");
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(b64 = strchr(line, ' '));
	b64++;
	assert_non_null(end = strchr(b64, ' '));
	*end = '\0';
	assert_true(strlen(b64) / 4 * 3 <= size);
	n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)strlen(b64));
	assert_true(n > 0);
	while (end > b64 && end[-1] == '=') { /* DecodeBlock counts the padding */
		end--;
		n--;
	}
	return (size_t)n;
}

/* name loads with pass, and its public blob is the one in rsa.pub. */
static void load_ok(const char *name, const char *pass)
{
	unsigned char want[1024];
	const unsigned char *blob;
	struct sb_ssh_rsa *key = NULL;
	size_t want_len = pub_blob(want, sizeof(want)), len;
	char why[256];
	int rc = load(name, pass, &key, why, sizeof(why));

	if (rc != 0)
		fail_msg("%s: %d (%s)", name, rc, why);
	blob = sb_ssh_rsa_blob(key, &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(blob, want, len);
	sb_ssh_rsa_free(key);
}

static void load_fails(const char *name, const char *pass, int want, const char *want_why)
{
	struct sb_ssh_rsa *key = (struct sb_ssh_rsa *)1;
	char why[256] = "";
	int rc = load(name, pass, &key, why, sizeof(why));

	if (rc != want)
		fail_msg("%s: got %d (%s), want %d", name, rc, why, want);
	assert_null(key);
	if (want_why && !strstr(why, want_why))
		fail_msg("%s: \"%s\" does not say \"%s\"", name, why, want_why);
	if (strstr(why, PASS))
		fail_msg("%s: the passphrase is in the message", name);
}

static void test_ssh_rsa__openssh_plain(void **state)
{
	(void)state;
	need_keys();
	load_ok("rsa", NULL);
	load_ok("rsa", "ignored for an unencrypted key");
}

static void test_ssh_rsa__openssh_encrypted(void **state)
{
	char name[64];
	size_t i;

	(void)state;
	need_keys();
	for (i = 0; i < NCIPHERS; i++) {
		snprintf(name, sizeof(name), "rsa_%s", ciphers[i]);
		load_ok(name, PASS);
		load_fails(name, "not the " PASS, SB_ERR_PASSPHRASE, "wrong passphrase");
		load_fails(name, NULL, SB_ERR_PASSPHRASE, "no passphrase");
	}
	load_fails("rsa_chacha", PASS, SB_ERR_KEY, "chacha20-poly1305@openssh.com not supported");
}

static void test_ssh_rsa__pem(void **state)
{
	(void)state;
	need_keys();
	load_ok("rsa_pem", NULL);
	load_ok("rsa_pem_enc", PASS);
	load_fails("rsa_pem_enc", "not the " PASS, SB_ERR_PASSPHRASE, "wrong passphrase");
	load_fails("rsa_pem_enc", NULL, SB_ERR_PASSPHRASE, "no passphrase");
	load_ok("rsa_p8", NULL);
	load_ok("rsa_p8_enc", PASS);
	load_fails("rsa_p8_enc", "not the " PASS, SB_ERR_PASSPHRASE, "wrong passphrase");
	load_fails("rsa_p8_enc", NULL, SB_ERR_PASSPHRASE, "no passphrase");
}

static void test_ssh_rsa__not_rsa(void **state)
{
	(void)state;
	need_keys();
	load_fails("ed25519", NULL, SB_SSH_RSA_NOT_RSA, NULL);
	load_fails("ed25519_enc", NULL, SB_SSH_RSA_NOT_RSA, NULL); /* no passphrase needed */
	load_fails("ecdsa_pem", NULL, SB_SSH_RSA_NOT_RSA, NULL);
	load_fails("ecdsa_p8", NULL, SB_SSH_RSA_NOT_RSA, NULL);
}

/* Rewrite an OpenSSH key file with byte `at` of its binary form XORed. */
static void tamper(const char *from, const char *to, long at)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	char p[128], text[8192], b64[8192];
	unsigned char bin[6144];
	size_t n = 0, i;
	int len;
	FILE *f;

	path(p, sizeof(p), from);
	assert_non_null(f = fopen(p, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (i = strlen(begin), n = 0; text[i] && text[i] != '-'; i++)
		if (text[i] != '\n')
			b64[n++] = text[i];
	len = EVP_DecodeBlock(bin, (unsigned char *)b64, (int)n);
	assert_true(len > 100);
	for (i = n; i > 0 && b64[i - 1] == '='; i--)
		len--; /* DecodeBlock counts the padding */
	bin[at < 0 ? len + at : at] ^= 0x01;
	EVP_EncodeBlock((unsigned char *)b64, bin, len);
	path(p, sizeof(p), to);
	assert_non_null(f = fopen(p, "w"));
	fprintf(f, "%s%s\n-----END OPENSSH PRIVATE KEY-----\n", begin, b64);
	fclose(f);
}

static void test_ssh_rsa__broken_files(void **state)
{
	(void)state;
	need_keys();
	load_fails("no-such-file", NULL, SB_ERR_IO, "No such file");
	load_fails("garbage", NULL, SB_ERR_KEY, "neither OpenSSH nor PEM");
	load_fails("rsa.pub", NULL, SB_ERR_KEY, NULL);
	/* a bit of q flipped: the check-ints still match, the factors do not */
	tamper("rsa", "rsa_bad_q", -40);
	load_fails("rsa_bad_q", NULL, SB_ERR_CORRUPT, "factors");
	/* the magic */
	tamper("rsa", "rsa_bad_magic", 0);
	load_fails("rsa_bad_magic", NULL, SB_ERR_CORRUPT, "openssh-key-v1");
	/* a GCM tag flipped reads as a wrong passphrase, never as a key */
	tamper("rsa_aes256-gcm@openssh.com", "rsa_bad_tag", -1);
	load_fails("rsa_bad_tag", PASS, SB_ERR_PASSPHRASE, "wrong passphrase");
}

static void verify(const unsigned char *data, size_t len, const char *md, const unsigned char *sig,
		   size_t sig_len, int want)
{
	EVP_PKEY *pub;
	EVP_MD_CTX *ctx;
	char p[128];
	FILE *f;

	path(p, sizeof(p), "rsa.spki.pem");
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(pub = PEM_read_PUBKEY(f, NULL, NULL, NULL));
	fclose(f);
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pub, NULL), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sig_len, data, len), want);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
}

static void test_ssh_rsa__signatures_verify(void **state)
{
	static const unsigned char data[] = "session id and userauth request";
	struct sb_ssh_rsa *key;
	unsigned char *sig;
	size_t sig_len;
	char why[256];

	(void)state;
	need_keys();
	assert_int_equal(load("rsa_aes256-ctr", PASS, &key, why, sizeof(why)), 0);
	assert_int_equal(sb_ssh_rsa_sign(key, "rsa-sha2-512", data, sizeof(data), &sig, &sig_len),
			 0);
	assert_int_equal(sig_len, 256); /* the modulus size, leading zeros kept */
	verify(data, sizeof(data), "SHA512", sig, sig_len, 1);
	verify(data, sizeof(data), "SHA256", sig, sig_len, 0);
	free(sig);
	assert_int_equal(sb_ssh_rsa_sign(key, "rsa-sha2-256", data, sizeof(data), &sig, &sig_len),
			 0);
	verify(data, sizeof(data), "SHA256", sig, sig_len, 1);
	verify(data, sizeof(data) - 1, "SHA256", sig, sig_len, 0);
	free(sig);
	assert_int_equal(sb_ssh_rsa_sign(key, "ssh-rsa", data, sizeof(data), &sig, &sig_len),
			 SB_ERR_PARAM);
	assert_null(sig);
	sb_ssh_rsa_free(key);

	/* a PEM-loaded key signs the same way */
	assert_int_equal(load("rsa_p8_enc", PASS, &key, why, sizeof(why)), 0);
	assert_int_equal(sb_ssh_rsa_sign(key, "rsa-sha2-512", data, sizeof(data), &sig, &sig_len),
			 0);
	verify(data, sizeof(data), "SHA512", sig, sig_len, 1);
	free(sig);
	sb_ssh_rsa_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_rsa__blowfish_vectors),
		cmocka_unit_test(test_ssh_rsa__bcrypt_pbkdf_vectors),
		cmocka_unit_test(test_ssh_rsa__openssh_plain),
		cmocka_unit_test(test_ssh_rsa__openssh_encrypted),
		cmocka_unit_test(test_ssh_rsa__pem),
		cmocka_unit_test(test_ssh_rsa__not_rsa),
		cmocka_unit_test(test_ssh_rsa__broken_files),
		cmocka_unit_test(test_ssh_rsa__signatures_verify),
	};

	return cmocka_run_group_tests(tests, make_keys, remove_keys);
}
