/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keys.c - create the encryption and signing keys of the offline-key
 * workflow and check a key configuration (see keys.h).
 *
 * It drives gpgme only through contexts made by crypto.c
 * (sb_crypto_gpgme_new), so passphrases reach gpg through crypto.c's one
 * callback. It never reads key material: the secret export goes from gpg
 * straight into FILE's descriptor.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/keys.h"
#include "sealbox/log.h"
#include "sealbox/timefmt.h"

#define ENV_SIGN "SEALBOX_SIGN_PASSPHRASE"
#define ENV_SECRET "SEALBOX_SECRET_PASSPHRASE"

struct algo {
	const char *name;    /* --algo value */
	const char *primary; /* gpg algo of primary keys */
	const char *encsub;  /* gpg algo of the encryption subkey */
};

static const struct algo algos[] = {
	{"ed25519", "ed25519", "cv25519"},
	{"rsa3072", "rsa3072", "rsa3072"},
	{"rsa4096", "rsa4096", "rsa4096"},
};

static const struct algo *algo_find(const char *name)
{
	size_t i;

	if (!name)
		return &algos[0];
	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		if (!strcmp(name, algos[i].name))
			return &algos[i];
	return NULL;
}

bool sb_keys_algo_valid(const char *algo) { return algo && algo_find(algo); }

/* ---- pure helpers ---- */

int sb_keys_parse_expire(const char *s, long long *seconds)
{
	long long total = 0, num;
	const char *p = s;

	*seconds = 0;
	if (!s || !*s)
		return SB_ERR_PARAM;
	if (!strcmp(s, "never"))
		return 0;
	while (*p) {
		long long unit;

		if (!isdigit((unsigned char)*p))
			return SB_ERR_PARAM;
		for (num = 0; isdigit((unsigned char)*p); p++) {
			num = num * 10 + (*p - '0');
			if (num > 100000)
				return SB_ERR_PARAM;
		}
		switch (*p++) {
		case 'Y':
		case 'y': unit = 365L * 86400; break;
		case 'M': unit = 30L * 86400; break; /* 'm': minutes or months? refused */
		case 'W':
		case 'w': unit = 7L * 86400; break;
		case 'D':
		case 'd': unit = 86400; break;
		default: return SB_ERR_PARAM;
		}
		total += num * unit;
		if (total > 100LL * 365 * 86400)
			return SB_ERR_PARAM;
	}
	if (total < 86400)
		return SB_ERR_PARAM;
	*seconds = total;
	return 0;
}

int sb_keys_uid(const char *name, const char *role, char *out, size_t size)
{
	const char *lt, *gt;
	size_t nlen;
	int n;

	if (!name || !role)
		return SB_ERR_PARAM;
	for (lt = name; *lt; lt++)
		if ((unsigned char)*lt < 0x20 || *lt == 0x7f)
			return SB_ERR_PARAM;
	while (*name == ' ')
		name++;
	lt = strchr(name, '<');
	gt = strchr(name, '>');
	if ((lt == NULL) != (gt == NULL))
		return SB_ERR_PARAM;
	if (lt && (gt < lt || gt[1] != '\0' || gt == lt + 1 || strchr(lt + 1, '<') ||
		   strchr(gt + 1, '>')))
		return SB_ERR_PARAM;
	nlen = lt ? (size_t)(lt - name) : strlen(name);
	while (nlen && name[nlen - 1] == ' ')
		nlen--;
	if (!nlen && !lt)
		return SB_ERR_PARAM;
	if (lt)
		n = snprintf(out, size, "%.*s%s(sealbox %s) %s", (int)nlen, name, nlen ? " " : "",
			     role, lt);
	else
		n = snprintf(out, size, "%.*s (sealbox %s)", (int)nlen, name, role);
	return n < 0 || (size_t)n >= size ? SB_ERR_NOMEM : 0;
}

/* ---- checks ---- */

int sb_keys_distinct(const char *enc_fpr, const char *sign_fpr, bool allow_same)
{
	if (!enc_fpr || !sign_fpr || strcasecmp(enc_fpr, sign_fpr))
		return 0;
	if (allow_same) {
		sb_warn("key %s is both the encryption and the signing key (--allow-same-key): "
			"whoever takes this machine gets the signing key's secret, and so the backups",
			enc_fpr);
		return 0;
	}
	sb_error("key %s is both the encryption and the signing key: whoever takes this machine "
		 "gets the signing key's secret, and so the backups; make two keys with 'sealbox "
		 "keys create' (or pass --allow-same-key)",
		 enc_fpr);
	return SB_ERR_KEY;
}

/* Look a key up in ctx; logs "<role> key <fpr>: ..." on failure. */
static int key_get(gpgme_ctx_t ctx, const char *fpr, bool secret, const char *role,
		   gpgme_key_t *out)
{
	gpgme_error_t e = gpgme_get_key(ctx, fpr, out, secret);

	if (!e)
		return 0;
	*out = NULL;
	sb_error("%s key %s: %s", role, sb_log_str(fpr, strlen(fpr)),
		 gpgme_err_code(e) == GPG_ERR_EOF ? (secret ? "no secret key" : "not found")
						  : gpgme_strerror(e));
	return gpgme_err_code(e) == GPG_ERR_EOF && secret ? SB_ERR_NOSECRET : SB_ERR_KEY;
}

int sb_keys_expires(struct sb_crypto *c, const char *fpr, bool enc, long *when)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_subkey_t sk, best = NULL;
	int rc;

	*when = 0;
	rc = sb_crypto_gpgme_new(c, ENV_SIGN, &ctx);
	if (!rc)
		rc = key_get(ctx, fpr, false, enc ? "encryption" : "signing", &key);
	if (rc)
		goto out;
	/* the subkey gpg would use: usable, capable, the latest expiry */
	for (sk = key->subkeys; sk; sk = sk->next) {
		if (!(enc ? sk->can_encrypt : sk->can_sign) || sk->revoked || sk->expired ||
		    sk->disabled || sk->invalid)
			continue;
		if (!best || (best->expires && (!sk->expires || sk->expires > best->expires)))
			best = sk;
	}
	*when = key->subkeys->expires;
	if (best && best->expires && (!*when || best->expires < *when))
		*when = best->expires;
out:
	if (key)
		gpgme_key_unref(key);
	sb_crypto_gpgme_free(ctx);
	return rc;
}

/* The agent socket of c's keyring, from gpgconf (which honours $GNUPGHOME). */
static int agent_socket(struct sb_crypto *c, char *out, size_t size)
{
	const char *home = sb_crypto_home(c), *sock;

	if (!home || !*home) {
		sock = gpgme_get_dirinfo("agent-socket");
		return sock && snprintf(out, size, "%s", sock) < (int)size ? 0 : -1;
	}
	/* gpgconf's answer for another home: its socket name, beside that home's */
	sock = getenv("GNUPGHOME");
	if (sock && !strcmp(sock, home) && (sock = gpgme_get_dirinfo("agent-socket")))
		return snprintf(out, size, "%s", sock) < (int)size ? 0 : -1;
	return snprintf(out, size, "%s/S.gpg-agent", home) < (int)size ? 0 : -1;
}

/*
 * Make gpg-agent forget the cached passphrase of fpr's secret (sub)keys, so
 * that the next operation needs the passphrase sealbox gives (the one cron
 * will give), not one typed earlier. Best effort: no agent, nothing cached.
 */
static void forget_cached(struct sb_crypto *c, const char *fpr)
{
	gpgme_ctx_t agent = NULL;
	gpgme_error_t e, op_err = 0;
	char sock[4096], cmd[128], grips[8][41];
	int i, n;

	/* the key as the check before listed it: no gpg started for it */
	n = sb_crypto_sign_keygrips(c, fpr, grips, 8);
	if (n <= 0)
		return;
	if (agent_socket(c, sock, sizeof(sock)) || access(sock, F_OK))
		return; /* no agent running: nothing is cached */
	e = gpgme_new(&agent);
	if (!e)
		e = gpgme_set_protocol(agent, GPGME_PROTOCOL_ASSUAN);
	if (!e)
		e = gpgme_ctx_set_engine_info(agent, GPGME_PROTOCOL_ASSUAN, sock, NULL);
	for (i = 0; !e && i < n; i++) {
		snprintf(cmd, sizeof(cmd), "CLEAR_PASSPHRASE --mode=normal %.40s", grips[i]);
		e = gpgme_op_assuan_transact_ext(agent, cmd, NULL, NULL, NULL, NULL, NULL, NULL,
						 &op_err);
		if (!e && op_err)
			sb_debug("gpg-agent: %s: %s", cmd, gpgme_strerror(op_err));
	}
	if (e)
		sb_debug("gpg-agent at %s: %s", sock, gpgme_strerror(e));
	if (agent)
		gpgme_release(agent);
}

void sb_keys_forget_passphrase(struct sb_crypto *c, const char *sign_fpr)
{
	forget_cached(c, sign_fpr);
}

int sb_keys_test_sign(struct sb_crypto *c, const char *sign_fpr)
{
	static const char text[] = "sealbox keys check: test signature\n";
	struct sb_buf out;
	int rc;

	forget_cached(c, sign_fpr);
	sb_buf_init(&out);
	rc = sb_crypto_clearsign(c, sign_fpr, text, sizeof(text) - 1, &out);
	sb_buf_release(&out);
	return rc;
}

int sb_keys_test_file(struct sb_crypto *c, const char *file, const char *enc_fpr,
		      const char *sign_fpr)
{
	static const char text[] = "sealbox: the offline secret key opens this\n";
	const char *pub[3] = {sign_fpr, enc_fpr, NULL};
	struct sb_crypto_opts o = {
		.gnupghome = sb_crypto_home(c), .secret_key_file = file, .import_pub = pub};
	struct sb_buf sealed, plain;
	struct sb_cursor cur;
	struct sb_crypto *eph = NULL;
	int rc;

	sb_buf_init(&sealed);
	sb_buf_init(&plain);
	if (access(file, R_OK) < 0) {
		sb_error("secret key file %s: %s", sb_log_str(file, strlen(file)), strerror(errno));
		return errno == ENOENT ? SB_ERR_NOTFOUND : SB_ERR_IO;
	}
	sb_crypto_reap_stale();
	rc = sb_crypto_open(&o, &eph);
	if (rc)
		goto out;
	if (sb_crypto_have_secret(eph, enc_fpr)) {
		sb_error("secret key file %s does not hold the secret of encryption key %s",
			 sb_log_str(file, strlen(file)), enc_fpr);
		rc = SB_ERR_KEY;
		goto out;
	}
	sb_cursor_init(&cur, text, sizeof(text) - 1);
	rc = sb_crypto_encrypt(c, enc_fpr, sign_fpr, 0, (struct sb_reader){sb_cursor_read, &cur},
			       (struct sb_writer){sb_buf_write, &sealed}, "the test message");
	if (rc)
		goto out;
	sb_cursor_init(&cur, sealed.data, sealed.len);
	rc = sb_crypto_decrypt(eph, sign_fpr, (struct sb_reader){sb_cursor_read, &cur},
			       (struct sb_writer){sb_buf_write, &plain}, "the test message");
	if (!rc && (plain.len != sizeof(text) - 1 || memcmp(plain.data, text, plain.len))) {
		sb_error("secret key file %s: the test message decrypted to other bytes",
			 sb_log_str(file, strlen(file)));
		rc = SB_ERR_INTERNAL;
	}
out:
	sb_crypto_close(eph);
	sb_buf_release(&sealed);
	sb_buf_release(&plain);
	return rc;
}

/* ---- creation ---- */

/* Log a failed gpgme operation on ctx; the passphrase callback's verdict first. */
static int gpg_fail(gpgme_ctx_t ctx, gpgme_error_t e, const char *what)
{
	int rc = sb_crypto_gpgme_pp_error(ctx);

	if (rc)
		return rc;
	sb_error("cannot %s: %s", what, gpgme_strerror(e));
	switch (gpgme_err_code(e)) {
	case GPG_ERR_BAD_PASSPHRASE:
	case GPG_ERR_NO_PASSPHRASE: return SB_ERR_PASSPHRASE;
	case GPG_ERR_CANCELED: return SB_ERR_INTERRUPTED;
	default: return SB_ERR_KEY;
	}
}

/* Create a primary key; its fingerprint into fpr[41]. */
static int create_primary(struct sb_crypto *c, const char *env, const char *uid, const char *algo,
			  long long expire, unsigned flags, char fpr[41])
{
	gpgme_genkey_result_t r;
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t e;
	int rc;

	rc = sb_crypto_gpgme_new(c, env, &ctx);
	if (rc)
		return rc;
	flags |= GPGME_CREATE_FORCE | (expire ? 0 : GPGME_CREATE_NOEXPIRE);
	e = gpgme_op_createkey(ctx, uid, algo, 0, (unsigned long)expire, NULL, flags);
	r = e ? NULL : gpgme_op_genkey_result(ctx);
	if (e)
		rc = gpg_fail(ctx, e, "create a key");
	else if (!r || !r->fpr || strlen(r->fpr) != 40) {
		sb_error("gpg created a key but did not name it (a 40-hex fingerprint)");
		rc = SB_ERR_KEY;
	} else {
		memcpy(fpr, r->fpr, 41);
	}
	sb_crypto_gpgme_free(ctx);
	return rc;
}

static int add_enc_subkey(struct sb_crypto *c, const char *fpr, const char *algo, long long expire)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	unsigned flags = GPGME_CREATE_ENCR | (expire ? 0 : GPGME_CREATE_NOEXPIRE);
	int rc;

	rc = sb_crypto_gpgme_new(c, ENV_SECRET, &ctx);
	if (!rc)
		rc = key_get(ctx, fpr, true, "encryption", &key);
	if (!rc && (e = gpgme_op_createsubkey(ctx, key, algo, 0, (unsigned long)expire, flags)))
		rc = gpg_fail(ctx, e, "add the encryption subkey");
	if (key)
		gpgme_key_unref(key);
	sb_crypto_gpgme_free(ctx);
	return rc;
}

/* Export fpr's secret half, armored, into fd (gpg writes it; we never see it). */
static int export_secret(struct sb_crypto *c, const char *fpr, int fd, const char *file)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t keys[2] = {NULL, NULL};
	gpgme_data_t d = NULL;
	gpgme_error_t e;
	struct stat st;
	int rc;

	rc = sb_crypto_gpgme_new(c, ENV_SECRET, &ctx);
	if (!rc)
		rc = key_get(ctx, fpr, true, "encryption", &keys[0]);
	if (rc)
		goto out;
	if (gpgme_data_new_from_fd(&d, fd)) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	gpgme_set_armor(ctx, 1);
	e = gpgme_op_export_keys(ctx, keys, GPGME_EXPORT_MODE_SECRET, d);
	if (e) {
		rc = gpg_fail(ctx, e, "export the encryption key's secret half");
		goto out;
	}
	if (fsync(fd) < 0 || fstat(fd, &st) < 0) {
		sb_error("%s: %s", sb_log_str(file, strlen(file)), strerror(errno));
		rc = sb_err_from_errno(errno);
	} else if (st.st_size < 64) {
		sb_error("gpg exported no secret key into %s", sb_log_str(file, strlen(file)));
		rc = SB_ERR_KEY;
	}
out:
	if (d)
		gpgme_data_release(d);
	if (keys[0])
		gpgme_key_unref(keys[0]);
	sb_crypto_gpgme_free(ctx);
	return rc;
}

/* gpg --edit-key FPR trust 5 y quit, through gpgme_op_interact. */
struct trust_state {
	int prompts; /* keyedit.prompt seen so far */
};

static gpgme_error_t trust_cb(void *opaque, const char *keyword, const char *args, int fd)
{
	struct trust_state *t = opaque;
	const char *reply;

	if (fd < 0 || !args || (strcmp(keyword, "GET_LINE") && strcmp(keyword, "GET_BOOL")))
		return 0;
	if (!strcmp(args, "keyedit.prompt"))
		reply = t->prompts++ == 0 ? "trust" : "quit";
	else if (!strcmp(args, "edit_ownertrust.value"))
		reply = "5";
	else if (!strcmp(args, "edit_ownertrust.set_ultimate.okay") ||
		 !strcmp(args, "keyedit.save.okay"))
		reply = "y";
	else
		return gpg_error(GPG_ERR_GENERAL);
	if (t->prompts > 3)
		return gpg_error(GPG_ERR_GENERAL);
	if (gpgme_io_writen(fd, reply, strlen(reply)) || gpgme_io_writen(fd, "\n", 1))
		return gpgme_error_from_syserror();
	return 0;
}

/*
 * gpgme deletes a secret key only together with its public key
 * (GPGME_DELETE_ALLOW_SECRET = --delete-secret-and-public-key): keep the
 * public half aside, delete, re-import it and give back the ultimate
 * ownertrust gpg gave the key at creation (duplicity needs a trusted key).
 */
static int delete_secret(struct sb_crypto *c, const char *fpr)
{
	struct trust_state ts = {0};
	gpgme_import_result_t ir;
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t keys[2] = {NULL, NULL}, k = NULL;
	gpgme_data_t pub = NULL, out = NULL;
	gpgme_error_t e;
	int rc;

	rc = sb_crypto_gpgme_new(c, ENV_SECRET, &ctx);
	if (!rc)
		rc = key_get(ctx, fpr, false, "encryption", &keys[0]);
	if (rc)
		goto out;
	if (gpgme_data_new(&pub) || gpgme_data_new(&out)) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	e = gpgme_op_export_keys(ctx, keys, 0, pub);
	if (e || gpgme_data_seek(pub, 0, SEEK_END) <= 0) {
		rc = e ? gpg_fail(ctx, e, "export the encryption key's public half") : SB_ERR_KEY;
		if (!e)
			sb_error("gpg exported no public key for %s", fpr);
		goto out;
	}
	e = gpgme_op_delete_ext(ctx, keys[0], GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
	if (e) {
		rc = gpg_fail(ctx, e, "delete the encryption key's secret half from the keyring");
		goto out;
	}
	gpgme_data_seek(pub, 0, SEEK_SET);
	e = gpgme_op_import(ctx, pub);
	ir = e ? NULL : gpgme_op_import_result(ctx);
	if (!ir || ir->imported + ir->unchanged < 1) {
		sb_error(
			"cannot put the public half of encryption key %s back into the keyring%s%s "
			"(import the secret key file's public half by hand)",
			fpr, e ? ": " : "", e ? gpgme_strerror(e) : "");
		rc = SB_ERR_KEY;
		goto out;
	}
	gpgme_key_unref(keys[0]);
	keys[0] = NULL;
	if (key_get(ctx, fpr, false, "encryption", &keys[0]) == 0 &&
	    (e = gpgme_op_interact(ctx, keys[0], 0, trust_cb, &ts, out)))
		sb_warn("encryption key %s: cannot restore its ultimate ownertrust: %s (duplicity "
			"needs it: gpg --edit-key %s trust)",
			fpr, gpgme_strerror(e), fpr);
	/* the point of it all: no secret left */
	if (gpgme_get_key(ctx, fpr, &k, 1) == 0 || sb_crypto_have_secret(c, fpr) == 0) {
		sb_error("the secret half of encryption key %s is still in the keyring", fpr);
		rc = SB_ERR_KEY;
	}
out:
	if (k)
		gpgme_key_unref(k);
	if (keys[0])
		gpgme_key_unref(keys[0]);
	if (pub)
		gpgme_data_release(pub);
	if (out)
		gpgme_data_release(out);
	sb_crypto_gpgme_free(ctx);
	return rc;
}

static int create_keys(struct sb_crypto *c, const struct sb_keys_create_opts *o,
		       const struct algo *a, struct sb_keys_made *m)
{
	char uid[512];
	int rc;

	if (sb_keys_uid(o->name, "signing", uid, sizeof(uid))) {
		sb_error("bad name \"%s\" (expected \"Name <email>\")",
			 sb_log_str(o->name, strlen(o->name)));
		return SB_ERR_PARAM;
	}
	rc = create_primary(c, ENV_SIGN, uid, a->primary, o->expire,
			    GPGME_CREATE_SIGN | GPGME_CREATE_CERT |
				    (o->sign_pass[0] ? 0 : GPGME_CREATE_NOPASSWD),
			    m->sign_fpr);
	if (rc)
		return rc;
	sb_keys_uid(o->name, "encryption", uid, sizeof(uid));
	/* certify-only primary: the encryption key can never pass for a signer */
	rc = create_primary(c, ENV_SECRET, uid, a->primary, o->expire, GPGME_CREATE_CERT,
			    m->enc_fpr);
	if (rc)
		return rc;
	m->enc_secret_left = true;
	return add_enc_subkey(c, m->enc_fpr, a->encsub, o->expire);
}

int sb_keys_create(struct sb_crypto *c, const struct sb_keys_create_opts *o, struct sb_keys_made *m)
{
	const struct algo *a = algo_find(o->algo);
	const char *file = o->secret_out;
	bool keep_file = false;
	int fd, rc;

	memset(m, 0, sizeof(*m));
	if (!a || !file || !o->name || !o->secret_pass || !o->secret_pass[0] || !o->sign_pass) {
		sb_error("keys create: %s", !a ? "unknown algorithm" : "missing parameter");
		return SB_ERR_PARAM;
	}
	/* FILE first: refusing to overwrite must happen before any key exists */
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		sb_error("secret key file %s: %s%s", sb_log_str(file, strlen(file)),
			 strerror(errno), errno == EEXIST ? " (refusing to overwrite it)" : "");
		return errno == EEXIST ? SB_ERR_EXISTS : sb_err_from_errno(errno);
	}
	sb_crypto_set_passphrase(ENV_SECRET, o->secret_pass);
	sb_crypto_set_passphrase(ENV_SIGN, o->sign_pass);
	rc = create_keys(c, o, a, m);
	if (!rc)
		rc = export_secret(c, m->enc_fpr, fd, file);
	if (close(fd) < 0 && !rc) {
		sb_error("%s: %s", sb_log_str(file, strlen(file)), strerror(errno));
		rc = SB_ERR_IO;
	}
	/* never delete the only copy of the secret before FILE proved to open */
	if (!rc)
		rc = sb_keys_test_file(c, file, m->enc_fpr, m->sign_fpr);
	if (!rc) {
		keep_file = true;
		rc = delete_secret(c, m->enc_fpr);
		if (!rc || sb_crypto_have_secret(c, m->enc_fpr))
			m->enc_secret_left = false;
	}
	if (rc && !keep_file)
		unlink(file);
	sb_crypto_set_passphrase(ENV_SECRET, NULL);
	sb_crypto_set_passphrase(ENV_SIGN, NULL);
	return rc;
}
