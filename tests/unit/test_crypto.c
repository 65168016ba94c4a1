/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_crypto.c - crypto.c against the real gpg: round trips (whole and
 * streaming), interoperability with `gpg --decrypt`, every refusal (foreign,
 * unsigned, tampered, no secret, passphrases, expired keys), ephemeral
 * keyrings, concurrency, clear-signed seals.
 *
 * The group setup makes a template GNUPGHOME with four keys; every test
 * works on its own copy, removed (agent killed first) by its teardown.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/buf.h"
#include "sealbox/crypto.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

#define GPG "gpg --batch --no-tty --quiet --pinentry-mode loopback"
#define PSIGN_PASS "correct horse"
#define OFFLINE_PASS "usb stick"

struct keys {
	char enc[41];	  /* ed25519 primary + cv25519 encryption subkey */
	char sign[41];	  /* ed25519 signing key */
	char foreign[41]; /* another signer, with an encryption subkey */
	char psign[41];	  /* signing key protected by PSIGN_PASS */
};

static char template_home[64];
static struct keys K;

struct fx {
	char home[64];
	struct sb_crypto *c;
};

/* ---- helpers ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[1024];

static void log_capture(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == SB_LOG_ERR) {
		pthread_mutex_lock(&log_lock);
		snprintf(last_error, sizeof(last_error), "%s", msg);
		pthread_mutex_unlock(&log_lock);
	}
	fprintf(stderr, "  [log %d] %s\n", level, msg);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static void gen_key(const char *home, const char *uid, const char *pass, bool enc, const char *when,
		    char fpr[41])
{
	char cmd[1024], faked[64] = "";
	FILE *p;

	if (when)
		snprintf(faked, sizeof(faked), "--faked-system-time %s", when);
	assert_int_equal(
		sh(GPG " --homedir %s %s --passphrase '%s' --quick-gen-key '%s' ed25519 sign %s",
		   home, faked, pass, uid, when ? "1d" : "never"),
		0);
	snprintf(
		cmd, sizeof(cmd),
		"gpg --homedir %s --with-colons --list-keys '=%s' | awk -F: '/^fpr/{print $10; exit}'",
		home, uid);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(fpr, 41, p));
	pclose(p);
	assert_int_equal(strlen(fpr), 40);
	if (enc)
		assert_int_equal(
			sh(GPG
			   " --homedir %s %s --passphrase '%s' --quick-add-key %s cv25519 encr %s",
			   home, faked, pass, fpr, when ? "1d" : "never"),
			0);
}

static void kill_home(const char *home)
{
	sh("gpgconf --homedir %s --kill all >/dev/null 2>&1", home);
	sh("rm -rf %s", home);
}

static void fill_random(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	srand(seed);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(rand() >> 7);
}

static int encrypt_mem(struct sb_crypto *c, const char *signer, unsigned flags, const void *p,
		       size_t n, struct sb_buf *out)
{
	struct sb_cursor cur;

	sb_cursor_init(&cur, p, n);
	return sb_crypto_encrypt(c, K.enc, signer, flags, (struct sb_reader){sb_cursor_read, &cur},
				 (struct sb_writer){sb_buf_write, out}, "vol1");
}

static int decrypt_mem(struct sb_crypto *c, const char *signer, const void *p, size_t n,
		       struct sb_buf *out)
{
	struct sb_cursor cur;

	sb_cursor_init(&cur, p, n);
	return sb_crypto_decrypt(c, signer, (struct sb_reader){sb_cursor_read, &cur},
				 (struct sb_writer){sb_buf_write, out}, "vol1");
}

static const size_t odd_sizes[] = {1, 7, 4093, 65537, 300001, 13};

static int stream_decrypt(struct sb_crypto *c, const char *signer, const void *p, size_t n,
			  struct sb_buf *out)
{
	char *buf = malloc(300001);
	struct sb_crypto_dec *s;
	struct sb_cursor cur;
	ssize_t r;
	size_t i = 0;
	int rc;

	assert_non_null(buf);
	sb_cursor_init(&cur, p, n);
	rc = sb_crypto_decrypt_start(c, signer, (struct sb_reader){sb_cursor_read, &cur},
				     "vol-stream", &s);
	if (rc) {
		free(buf);
		return rc;
	}
	for (;;) {
		r = sb_crypto_dec_read(s, buf, odd_sizes[i++ % 6]);
		if (r <= 0)
			break;
		assert_int_equal(sb_buf_add(out, buf, (size_t)r), 0);
	}
	free(buf);
	rc = sb_crypto_decrypt_finish(s);
	if (r < 0)
		assert_int_equal(rc, (int)r);
	return rc;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static unsigned char *read_file(const char *path, size_t *n)
{
	struct sb_buf b = SB_BUF_INIT;
	char tmp[65536];
	size_t k;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		assert_int_equal(sb_buf_add(&b, tmp, k), 0);
	fclose(f);
	return sb_buf_detach(&b, n);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	(void)state;
	snprintf(template_home, sizeof(template_home), "/tmp/sbct-tpl.XXXXXX");
	if (!mkdtemp(template_home))
		return -1;
	{
		char conf[128];
		FILE *f;

		/* no passphrase caching: the wrong-passphrase tests must see gpg ask */
		snprintf(conf, sizeof(conf), "%s/gpg-agent.conf", template_home);
		f = fopen(conf, "w");
		if (!f)
			return -1;
		fputs("default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n", f);
		fclose(f);
	}
	gen_key(template_home, "enc <e@x>", "", true, NULL, K.enc);
	gen_key(template_home, "sign <s@x>", "", false, NULL, K.sign);
	gen_key(template_home, "foreign <f@x>", "", true, NULL, K.foreign);
	gen_key(template_home, "psign <p@x>", PSIGN_PASS, false, NULL, K.psign);
	sh("gpgconf --homedir %s --kill all >/dev/null 2>&1", template_home);
	sb_log_set_handler(log_capture, NULL);
	sb_crypto_set_tty_prompt(false);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	kill_home(template_home);
	return 0;
}

/* $name as sealbox's main() sees it: set to v (NULL: unset), then taken out
 * of the environment into crypto.c's copy. */
static void pass_env(const char *name, const char *v)
{
	if (v)
		setenv(name, v, 1);
	else
		unsetenv(name);
	assert_int_equal(sb_crypto_take_env_passphrases(), 0);
	assert_null(getenv(name));
	if (v)
		assert_string_equal(sb_crypto_env_passphrase(name), v);
	else
		assert_null(sb_crypto_env_passphrase(name));
}

static int setup(void **state)
{
	struct sb_crypto_opts o = {0};
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->home, sizeof(f->home), "/tmp/sbct.XXXXXX");
	if (!mkdtemp(f->home) ||
	    sh("cp -a %s/. %s/ && rm -f %s/S.*", template_home, f->home, f->home) != 0)
		return -1;
	pass_env("SEALBOX_SIGN_PASSPHRASE", NULL);
	pass_env("SEALBOX_SECRET_PASSPHRASE", NULL);
	o.gnupghome = f->home;
	if (sb_crypto_open(&o, &f->c))
		return -1;
	last_error[0] = '\0';
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sb_crypto_close(f->c);
	kill_home(f->home);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void roundtrip(struct fx *f, size_t n, unsigned flags)
{
	unsigned char *p = malloc(n + 1);
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT, ct2 = SB_BUF_INIT;

	assert_non_null(p);
	fill_random(p, n, (unsigned)n);
	assert_int_equal(encrypt_mem(f->c, K.sign, flags, p, n, &ct), 0);
	assert_true(ct.len > 0);
	assert_int_equal(decrypt_mem(f->c, K.sign, ct.data, ct.len, &pt), 0);
	assert_int_equal(pt.len, n);
	assert_true(n == 0 || memcmp(pt.data, p, n) == 0);

	/* streaming encryption, whole and streaming decryption */
	assert_int_equal(encrypt_mem(f->c, K.sign, flags, p, n, &ct2), 0);
	sb_buf_reset(&pt);
	assert_int_equal(stream_decrypt(f->c, K.sign, ct2.data, ct2.len, &pt), 0);
	assert_int_equal(pt.len, n);
	assert_true(n == 0 || memcmp(pt.data, p, n) == 0);
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(f->c, K.sign, ct2.data, ct2.len, &pt), 0);
	assert_int_equal(pt.len, n);
	sb_buf_reset(&pt);
	assert_int_equal(stream_decrypt(f->c, K.sign, ct.data, ct.len, &pt), 0);
	assert_int_equal(pt.len, n);
	assert_true(n == 0 || memcmp(pt.data, p, n) == 0);

	sb_buf_release(&ct);
	sb_buf_release(&ct2);
	sb_buf_release(&pt);
	free(p);
}

static void test_crypto__roundtrip_empty(void **state) { roundtrip(*state, 0, 0); }
static void test_crypto__roundtrip_one(void **state) { roundtrip(*state, 1, 0); }
static void test_crypto__roundtrip_5mb(void **state) { roundtrip(*state, 5 << 20, 0); }
static void test_crypto__roundtrip_5mb_nocompress(void **state)
{
	roundtrip(*state, 5 << 20, SB_CRYPTO_NO_COMPRESS);
}

static void test_crypto__gpg_cli_decrypts(void **state)
{
	struct fx *f = *state;
	struct sb_buf ct = SB_BUF_INIT;
	unsigned char p[70000], *back;
	char in[128], out[128];
	size_t n;
	unsigned flags;

	fill_random(p, sizeof(p), 3);
	for (flags = 0; flags <= SB_CRYPTO_NO_COMPRESS; flags++) {
		sb_buf_reset(&ct);
		assert_int_equal(encrypt_mem(f->c, K.sign, flags, p, sizeof(p), &ct), 0);
		snprintf(in, sizeof(in), "%s/vol.gpg", f->home);
		snprintf(out, sizeof(out), "%s/vol.out", f->home);
		write_file(in, ct.data, ct.len);
		unlink(out);
		assert_int_equal(
			sh("gpg --homedir %s --batch --no-tty --status-fd 1 --decrypt -o %s %s"
			   " 2>/dev/null | grep -q '^\\[GNUPG:\\] GOODSIG'",
			   f->home, out, in),
			0);
		back = read_file(out, &n);
		assert_int_equal(n, sizeof(p));
		assert_memory_equal(back, p, n);
		free(back);
	}
	sb_buf_release(&ct);
}

static void test_crypto__wrong_signer(void **state)
{
	struct fx *f = *state;
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT;

	assert_int_equal(encrypt_mem(f->c, K.sign, 0, "hello", 5, &ct), 0);
	assert_int_equal(decrypt_mem(f->c, K.foreign, ct.data, ct.len, &pt), SB_ERR_BADSIG);
	assert_non_null(strstr(last_error, "vol1"));
	assert_non_null(strstr(last_error, K.sign + 24)); /* names the signer found */
	sb_buf_reset(&pt);
	assert_int_equal(stream_decrypt(f->c, K.foreign, ct.data, ct.len, &pt), SB_ERR_BADSIG);

	/* signed by a key unknown to the keyring */
	sb_buf_reset(&ct);
	assert_int_equal(encrypt_mem(f->c, K.foreign, 0, "hello", 5, &ct), 0);
	assert_int_equal(
		sh(GPG " --homedir %s --yes --delete-secret-and-public-key %s", f->home, K.foreign),
		0);
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(f->c, K.sign, ct.data, ct.len, &pt), SB_ERR_BADSIG);
	assert_non_null(strstr(last_error, "vol1"));
	sb_buf_release(&ct);
	sb_buf_release(&pt);
}

/* gpg signs with the newest signing subkey: it belongs to the expected key. */
static void test_crypto__subkey_signer(void **state)
{
	struct fx *f = *state;
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT, st = SB_BUF_INIT;

	assert_int_equal(sh(GPG
			    " --homedir %s --passphrase '' --quick-add-key %s ed25519 sign never",
			    f->home, K.sign),
			 0);
	assert_int_equal(encrypt_mem(f->c, K.sign, 0, "sub", 3, &ct), 0);
	assert_int_equal(decrypt_mem(f->c, K.sign, ct.data, ct.len, &pt), 0);
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(f->c, K.sign + 24, ct.data, ct.len, &pt), 0); /* long key id */
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(f->c, K.enc, ct.data, ct.len, &pt), SB_ERR_BADSIG);
	assert_int_equal(sb_crypto_clearsign(f->c, K.sign, "t\n", 2, &st), 0);
	sb_buf_reset(&pt);
	assert_int_equal(sb_crypto_verify_clearsigned(f->c, K.sign, st.data, st.len, &pt, "seal"),
			 0);
	sb_buf_release(&ct);
	sb_buf_release(&pt);
	sb_buf_release(&st);
}

static void test_crypto__unsigned_refused(void **state)
{
	struct fx *f = *state;
	struct sb_buf pt = SB_BUF_INIT;
	unsigned char *ct;
	size_t n;

	assert_int_equal(sh("echo hello | gpg --homedir %s --batch --no-tty --trust-model always "
			    "--encrypt -r %s -o %s/plain.gpg",
			    f->home, K.enc, f->home),
			 0);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/plain.gpg", f->home);
		ct = read_file(path, &n);
	}
	assert_int_equal(decrypt_mem(f->c, K.sign, ct, n, &pt), SB_ERR_BADSIG);
	assert_non_null(strstr(last_error, "not signed"));
	sb_buf_reset(&pt);
	assert_int_equal(stream_decrypt(f->c, K.sign, ct, n, &pt), SB_ERR_BADSIG);
	free(ct);
	sb_buf_release(&pt);
}

static void test_crypto__tampered_never_succeeds(void **state)
{
	struct fx *f = *state;
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT;
	unsigned char p[100000];
	size_t pos[] = {0, 5, 40, 200, 50000, 0 /* len-10 */, 0 /* len-1 */};
	size_t i;
	int rc;

	fill_random(p, sizeof(p), 9);
	assert_int_equal(encrypt_mem(f->c, K.sign, 0, p, sizeof(p), &ct), 0);
	pos[5] = ct.len - 10;
	pos[6] = ct.len - 1;
	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		ct.data[pos[i]] ^= 0x01;
		sb_buf_reset(&pt);
		rc = decrypt_mem(f->c, K.sign, ct.data, ct.len, &pt);
		assert_true(rc < 0);
		sb_buf_reset(&pt);
		rc = stream_decrypt(f->c, K.sign, ct.data, ct.len, &pt);
		assert_true(rc < 0);
		ct.data[pos[i]] ^= 0x01;
	}
	/* truncated */
	sb_buf_reset(&pt);
	assert_true(decrypt_mem(f->c, K.sign, ct.data, ct.len / 2, &pt) < 0);
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(f->c, K.sign, "garbage!", 8, &pt), SB_ERR_CORRUPT);
	sb_buf_release(&ct);
	sb_buf_release(&pt);
}

static void test_crypto__no_secret_key(void **state)
{
	struct fx *f = *state;
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT;
	struct sb_cursor cur;

	sb_cursor_init(&cur, "data", 4);
	assert_int_equal(sb_crypto_encrypt(f->c, K.foreign, K.sign, 0,
					   (struct sb_reader){sb_cursor_read, &cur},
					   (struct sb_writer){sb_buf_write, &ct}, "vol9"),
			 0);
	assert_int_equal(sb_crypto_have_secret(f->c, K.foreign), 0);
	assert_int_equal(sh(GPG " --homedir %s --yes --delete-secret-keys %s", f->home, K.foreign),
			 0);
	assert_int_equal(sb_crypto_have_secret(f->c, K.foreign), SB_ERR_NOSECRET);
	assert_int_equal(sb_crypto_have_secret(f->c, K.enc), 0);
	assert_int_equal(decrypt_mem(f->c, K.sign, ct.data, ct.len, &pt), SB_ERR_NOSECRET);
	assert_non_null(strstr(last_error, "no secret key to decrypt vol1"));
	sb_buf_reset(&pt);
	assert_int_equal(stream_decrypt(f->c, K.sign, ct.data, ct.len, &pt), SB_ERR_NOSECRET);
	sb_buf_release(&ct);
	sb_buf_release(&pt);
}

static void test_crypto__sign_passphrase(void **state)
{
	struct fx *f = *state;
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT;

	assert_int_equal(encrypt_mem(f->c, K.psign, 0, "x", 1, &ct), SB_ERR_PASSPHRASE);
	assert_non_null(strstr(last_error, "SEALBOX_SIGN_PASSPHRASE"));
	pass_env("SEALBOX_SIGN_PASSPHRASE", "wrong");
	sb_buf_reset(&ct);
	assert_int_equal(encrypt_mem(f->c, K.psign, 0, "x", 1, &ct), SB_ERR_PASSPHRASE);
	assert_non_null(strstr(last_error, "wrong passphrase for"));
	sb_buf_reset(&ct);
	assert_int_equal(encrypt_mem(f->c, K.psign, 0, "x", 1, &ct), SB_ERR_PASSPHRASE);
	pass_env("SEALBOX_SIGN_PASSPHRASE", ""); /* a cron line with VAR= */
	sb_buf_reset(&ct);
	assert_int_equal(encrypt_mem(f->c, K.psign, 0, "x", 1, &ct), SB_ERR_PASSPHRASE);
	assert_non_null(strstr(last_error, "passphrase for"));
	pass_env("SEALBOX_SIGN_PASSPHRASE", PSIGN_PASS);
	sb_buf_reset(&ct);
	assert_int_equal(encrypt_mem(f->c, K.psign, 0, "x", 1, &ct), 0);
	assert_int_equal(decrypt_mem(f->c, K.psign, ct.data, ct.len, &pt), 0);
	assert_int_equal(pt.len, 1);
	/* wiped: gone for good, the environment has nothing either */
	sb_crypto_wipe_passphrases();
	assert_null(sb_crypto_env_passphrase("SEALBOX_SIGN_PASSPHRASE"));
	assert_null(getenv("SEALBOX_SIGN_PASSPHRASE"));
	sb_buf_reset(&ct);
	assert_int_equal(encrypt_mem(f->c, K.psign, 0, "x", 1, &ct), SB_ERR_PASSPHRASE);
	sb_buf_release(&ct);
	sb_buf_release(&pt);
}

static void test_crypto__key_checks(void **state)
{
	struct fx *f = *state;
	char fpr[41], old[41];

	assert_int_equal(sb_crypto_check_encrypt_key(f->c, K.enc), 0);
	assert_int_equal(sb_crypto_check_sign_key(f->c, K.sign), 0);
	assert_int_equal(sb_crypto_check_sign_key(f->c, K.psign), 0);
	assert_int_equal(sb_crypto_check_encrypt_key(f->c, K.sign), SB_ERR_KEY);
	assert_non_null(strstr(last_error, "no encryption capability"));
	assert_int_equal(
		sb_crypto_check_encrypt_key(f->c, "0123456789ABCDEF0123456789ABCDEF01234567"),
		SB_ERR_KEY);
	assert_non_null(strstr(last_error, "not found"));

	assert_int_equal(sb_crypto_key_fpr(f->c, K.sign + 24, fpr), 0);
	assert_string_equal(fpr, K.sign);

	/* expired a long time ago */
	gen_key(f->home, "old <o@x>", "", true, "20200101T000000", old);
	assert_int_equal(sb_crypto_check_encrypt_key(f->c, old), SB_ERR_KEY);
	assert_non_null(strstr(last_error, "expired on 2020-01-0"));
	assert_non_null(strstr(last_error, old));
	assert_int_equal(sb_crypto_check_sign_key(f->c, old), SB_ERR_KEY);
	assert_non_null(strstr(last_error, "expired"));

	/* public key only: cannot sign */
	assert_int_equal(sh(GPG " --homedir %s --yes --delete-secret-keys %s", f->home, K.foreign),
			 0);
	assert_int_equal(sb_crypto_check_sign_key(f->c, K.foreign), SB_ERR_NOSECRET);
	assert_int_equal(sb_crypto_check_encrypt_key(f->c, K.foreign), 0);
}

static void test_crypto__expiry_warning(void **state)
{
	struct fx *f = *state;

	/* expiring in 10 days: usable, with a warning (seen in the log) */
	assert_int_equal(
		sh(GPG " --homedir %s --passphrase '' --quick-set-expire %s 10d", f->home, K.sign),
		0);
	assert_int_equal(sb_crypto_check_sign_key(f->c, K.sign), 0);
	/* revoked by setting the expiry into the past is not possible; revoke instead */
	assert_int_equal(sh(GPG " --homedir %s --passphrase '' --quick-set-expire %s seconds=1",
			    f->home, K.sign),
			 0);
	sleep(2);
	assert_int_equal(sb_crypto_check_sign_key(f->c, K.sign), SB_ERR_KEY);
	assert_non_null(strstr(last_error, "expired on"));
}

static void test_crypto__ephemeral_keyring(void **state)
{
	struct fx *f = *state;
	struct sb_crypto_opts o = {0};
	const char *pubs[] = {K.sign, NULL};
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT;
	struct sb_crypto *e = NULL;
	struct sb_cursor cur;
	char off[41], keyfile[128], home[256];
	struct stat st;

	gen_key(f->home, "offline <u@x>", OFFLINE_PASS, true, NULL, off);
	snprintf(keyfile, sizeof(keyfile), "%s/offline.asc", f->home);
	assert_int_equal(sh(GPG
			    " --homedir %s --passphrase '%s' --armor --export-secret-keys %s > %s",
			    f->home, OFFLINE_PASS, off, keyfile),
			 0);
	assert_int_equal(sh(GPG " --homedir %s --yes --delete-secret-keys %s", f->home, off), 0);

	sb_cursor_init(&cur, "secret volume", 13);
	assert_int_equal(sb_crypto_encrypt(f->c, off, K.sign, 0,
					   (struct sb_reader){sb_cursor_read, &cur},
					   (struct sb_writer){sb_buf_write, &ct}, "vol-eph"),
			 0);
	assert_int_equal(decrypt_mem(f->c, K.sign, ct.data, ct.len, &pt), SB_ERR_NOSECRET);

	/* wrong passphrase first, then the right one */
	o.gnupghome = f->home;
	o.secret_key_file = keyfile;
	o.import_pub = pubs;
	pass_env("SEALBOX_SECRET_PASSPHRASE", "nope");
	assert_int_equal(sb_crypto_open(&o, &e), 0);
	snprintf(home, sizeof(home), "%s", sb_crypto_home(e));
	assert_non_null(strstr(home, "sealbox-gnupg."));
	assert_int_equal(stat(home, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(sb_crypto_have_secret(e, off), 0);
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(e, K.sign, ct.data, ct.len, &pt), SB_ERR_PASSPHRASE);
	assert_non_null(strstr(last_error, "wrong passphrase for"));
	sb_crypto_close(e);
	assert_int_not_equal(stat(home, &st), 0);

	pass_env("SEALBOX_SECRET_PASSPHRASE", OFFLINE_PASS);
	assert_int_equal(sb_crypto_open(&o, &e), 0);
	snprintf(home, sizeof(home), "%s", sb_crypto_home(e));
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(e, K.sign, ct.data, ct.len, &pt), 0);
	assert_int_equal(pt.len, 13);
	assert_memory_equal(pt.data, "secret volume", 13);
	/* its agent derives keys cheaply, and the copy it used is protected so */
	assert_int_equal(sh("gpg-connect-agent --homedir %s --no-autostart 'GETINFO s2k_count' "
			    "/bye | grep -qx 'D 65536'",
			    home),
			 0);
	assert_int_equal(sh("grep -l 'openpgp-s2k3-ocb-aes' %s/private-keys-v1.d/*.key | "
			    "xargs grep -l '\"65536\")' | grep -q .",
			    home),
			 0);
	sb_buf_reset(&pt);
	assert_int_equal(stream_decrypt(e, K.sign, ct.data, ct.len, &pt), 0);
	/* the ephemeral keyring does not hold foreign keys: unknown signer */
	sb_buf_reset(&pt);
	assert_int_equal(decrypt_mem(e, K.foreign, ct.data, ct.len, &pt), SB_ERR_KEY);
	sb_crypto_close(e);
	pass_env("SEALBOX_SECRET_PASSPHRASE", NULL);
	assert_int_not_equal(stat(home, &st), 0);
	assert_int_equal(errno, ENOENT);

	/* the user's keyring never got the secret key */
	assert_int_not_equal(
		sh("gpg --homedir %s --batch --list-secret-keys %s >/dev/null 2>&1", f->home, off),
		0);
	assert_int_equal(sb_crypto_have_secret(f->c, off), SB_ERR_NOSECRET);

	/* a missing key file fails cleanly and leaves nothing behind */
	o.secret_key_file = "/nonexistent/key.asc";
	assert_int_equal(sb_crypto_open(&o, &e), SB_ERR_NOTFOUND);
	assert_null(e);
	sb_buf_release(&ct);
	sb_buf_release(&pt);
}

static void test_crypto__emergency_cleanup_and_reap(void **state)
{
	struct fx *f = *state;
	struct sb_crypto_opts o = {0};
	struct sb_crypto *e = NULL;
	char keyfile[128], home[256], stale[256];
	struct stat st;

	snprintf(keyfile, sizeof(keyfile), "%s/enc.asc", f->home);
	assert_int_equal(sh(GPG " --homedir %s --passphrase '' --export-secret-keys %s > %s",
			    f->home, K.enc, keyfile),
			 0);
	o.gnupghome = f->home;
	o.secret_key_file = keyfile;
	assert_int_equal(sb_crypto_open(&o, &e), 0);
	snprintf(home, sizeof(home), "%s", sb_crypto_home(e));
	assert_int_equal(sb_crypto_have_secret(e, K.enc), 0);
	sb_crypto_emergency_cleanup();
	assert_int_not_equal(stat(home, &st), 0);
	sb_crypto_close(e); /* already gone: harmless */

	/* a directory of a dead process (pid 2^22-3 is very unlikely alive) */
	snprintf(stale, sizeof(stale), "/tmp/sealbox-gnupg.4194301.abcdef");
	assert_int_equal(mkdir(stale, 0700), 0);
	sb_crypto_reap_stale();
	assert_int_not_equal(stat(stale, &st), 0);
}

struct job {
	struct sb_crypto *c;
	unsigned seed;
	int rc;
};

static void *enc_job(void *arg)
{
	struct job *j = arg;
	size_t n = 3 << 20;
	unsigned char *p = malloc(n);
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT;

	fill_random(p, n, j->seed);
	j->rc = encrypt_mem(j->c, K.sign, 0, p, n, &ct);
	if (!j->rc)
		j->rc = stream_decrypt(j->c, K.sign, ct.data, ct.len, &pt);
	if (!j->rc && (pt.len != n || memcmp(pt.data, p, n)))
		j->rc = -100;
	sb_buf_release(&ct);
	sb_buf_release(&pt);
	free(p);
	return NULL;
}

static void test_crypto__concurrent_streams(void **state)
{
	struct fx *f = *state;
	struct job jobs[2] = {{f->c, 11, 1}, {f->c, 12, 1}};
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, enc_job, &jobs[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].rc, 0);
	}
}

/* A writer that fails after a while: its code must come back unchanged. */
static int failing_write(void *ctx, const void *p, size_t n)
{
	size_t *left = ctx;

	(void)p;
	if (n > *left)
		return SB_ERR_NOSPACE;
	*left -= n;
	return 0;
}

static ssize_t failing_read(void *ctx, void *p, size_t n)
{
	int *calls = ctx;

	memset(p, 'a', n);
	return ++*calls > 3 ? SB_ERR_TRANSPORT : (ssize_t)n;
}

static void test_crypto__callback_errors_and_abort(void **state)
{
	struct fx *f = *state;
	static unsigned char p[2 << 20];
	struct sb_buf ct = SB_BUF_INIT, pt = SB_BUF_INIT;
	struct sb_crypto_dec *ds;
	struct sb_cursor cur;
	char buf[1000];
	size_t left = 1000;
	int calls = 0;

	fill_random(p, sizeof(p), 5);
	assert_int_equal(sb_crypto_encrypt(f->c, K.enc, K.sign, 0,
					   (struct sb_reader){failing_read, &calls},
					   (struct sb_writer){sb_buf_write, &ct}, "volx"),
			 SB_ERR_TRANSPORT);
	sb_buf_reset(&ct);
	assert_int_equal(encrypt_mem(f->c, K.sign, 0, p, sizeof(p), &ct), 0);
	sb_cursor_init(&cur, ct.data, ct.len);
	assert_int_equal(sb_crypto_decrypt(f->c, K.sign, (struct sb_reader){sb_cursor_read, &cur},
					   (struct sb_writer){failing_write, &left}, "volx"),
			 SB_ERR_NOSPACE);
	/* abort mid-way, with the worker blocked on a full ring */
	sb_cursor_init(&cur, ct.data, ct.len);
	assert_int_equal(sb_crypto_decrypt_start(f->c, K.sign,
						 (struct sb_reader){sb_cursor_read, &cur}, "volx",
						 &ds),
			 0);
	assert_true(sb_crypto_dec_read(ds, buf, sizeof(buf)) > 0);
	usleep(200 * 1000); /* let the worker fill the ring and block */
	sb_crypto_decrypt_abort(ds);

	/* finish after a partial read still verifies the whole */
	sb_cursor_init(&cur, ct.data, ct.len);
	assert_int_equal(sb_crypto_decrypt_start(f->c, K.sign,
						 (struct sb_reader){sb_cursor_read, &cur}, "volx",
						 &ds),
			 0);
	assert_true(sb_crypto_dec_read(ds, buf, sizeof(buf)) > 0);
	assert_int_equal(sb_crypto_decrypt_finish(ds), 0);
	sb_cursor_init(&cur, ct.data, ct.len);
	assert_int_equal(sb_crypto_decrypt_start(f->c, K.foreign,
						 (struct sb_reader){sb_cursor_read, &cur}, "volx",
						 &ds),
			 0);
	assert_int_equal(sb_crypto_decrypt_finish(ds), SB_ERR_BADSIG);
	sb_buf_release(&ct);
	sb_buf_release(&pt);
}

static void test_crypto__clearsign(void **state)
{
	struct fx *f = *state;
	const char text[] = "sealbox seal v1\nvolume 1 sha256 abc\n";
	struct sb_buf sig = SB_BUF_INIT, out = SB_BUF_INIT;
	char *p;

	assert_int_equal(sb_crypto_clearsign(f->c, K.sign, text, strlen(text), &sig), 0);
	assert_non_null(strstr(sb_buf_str(&sig), "-----BEGIN PGP SIGNED MESSAGE-----"));
	assert_int_equal(
		sb_crypto_verify_clearsigned(f->c, K.sign, sig.data, sig.len, &out, "seal1"), 0);
	assert_string_equal(sb_buf_str(&out), text);
	sb_buf_reset(&out);
	assert_int_equal(
		sb_crypto_verify_clearsigned(f->c, K.foreign, sig.data, sig.len, &out, "seal1"),
		SB_ERR_BADSIG);
	assert_non_null(strstr(last_error, "seal1"));
	p = strstr((char *)sig.data, "abc");
	assert_non_null(p);
	p[0] = 'x';
	sb_buf_reset(&out);
	assert_int_equal(
		sb_crypto_verify_clearsigned(f->c, K.sign, sig.data, sig.len, &out, "seal1"),
		SB_ERR_BADSIG);
	p[0] = 'a';
	/* unsigned text riding along with a second block is refused */
	{
		size_t n = sig.len;
		unsigned char *copy = malloc(n);

		assert_non_null(copy);
		memcpy(copy, sig.data, n); /* sig.data may move while it grows */
		assert_int_equal(sb_buf_add(&sig, copy, n), 0);
		free(copy);
	}
	sb_buf_reset(&out);
	assert_int_equal(
		sb_crypto_verify_clearsigned(f->c, K.sign, sig.data, sig.len, &out, "seal1"),
		SB_ERR_BADSIG);
	sb_buf_release(&sig);
	sb_buf_release(&out);
}

#define T(name) cmocka_unit_test_setup_teardown(test_crypto__##name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(roundtrip_empty),
		T(roundtrip_one),
		T(roundtrip_5mb),
		T(roundtrip_5mb_nocompress),
		T(gpg_cli_decrypts),
		T(wrong_signer),
		T(subkey_signer),
		T(unsigned_refused),
		T(tampered_never_succeeds),
		T(no_secret_key),
		T(sign_passphrase),
		T(key_checks),
		T(expiry_warning),
		T(ephemeral_keyring),
		T(emergency_cleanup_and_reap),
		T(concurrent_streams),
		T(callback_errors_and_abort),
		T(clearsign),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
