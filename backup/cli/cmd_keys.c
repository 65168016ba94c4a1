/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_keys.c - `sealbox keys create|check`: the offline-key workflow.
 * Subcommands dispatch like git's builtin/bundle.c; the work is in keys.c.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/config.h"
#include "sealbox/error.h"
#include "sealbox/keys.h"
#include "sealbox/log.h"
#include "cmds.h"
#include "json.h"

#define PASS_MAX 1024
#define PASS_TRIES 3

static const char keys_usage[] =
	"usage: sealbox keys create --secret-out FILE [--name \"Name <email>\"] [--expire AGE]\n"
	"                           [--algo ed25519|rsa3072|rsa4096] [--json]\n"
	"   or: sealbox keys check [--encrypt-key FPR] [--sign-key FPR] [--secret-key FILE]\n"
	"                          [--sign-passphrase-file FILE] [--allow-same-key] [--json]\n"
	"\n"
	"'sealbox keys <subcommand> --help' describes each; see sealbox-keys(1).\n";

static const char create_usage[] =
	"usage: sealbox keys create --secret-out FILE [--name \"Name <email>\"] [--expire AGE]\n"
	"                           [--algo ed25519|rsa3072|rsa4096] [--json]\n"
	"\n"
	"Creates the two keys sealbox needs in the keyring ($GNUPGHOME): an encryption key\n"
	"whose secret half goes to FILE only, and a signing key that stays here. FILE is\n"
	"proven to decrypt before the secret half is deleted from the keyring. Prints both\n"
	"fingerprints and the configuration lines to use.\n"
	"  --secret-out FILE  new file (mode 0600, never overwritten) for the encryption\n"
	"                     key's secret half; keep it offline, e.g. on a USB drive\n"
	"  --name NAME        user id of both keys (default: sealbox <user@host>)\n"
	"  --expire AGE       2Y (default), 6M, 30D, 1Y6M (Y=365 days, M=30 days) or never\n"
	"  --algo ALGO        ed25519 (default: ed25519 + cv25519), rsa3072 or rsa4096\n"
	"\n"
	"Passphrases: FILE's from $SEALBOX_SECRET_PASSPHRASE, else asked twice on the\n"
	"terminal (not empty); the signing key's from $SEALBOX_SIGN_PASSPHRASE (may be\n"
	"empty, for cron), else asked twice. The two must differ.\n"
	"Exit status: 0 done, 1 usage, 3 gpg refused, 4 passphrase missing or not\n"
	"repeated alike, 10 FILE exists or cannot be written.\n";

static const char check_usage[] =
	"usage: sealbox keys check [--encrypt-key FPR] [--sign-key FPR] [--secret-key FILE]\n"
	"                          [--sign-passphrase-file FILE] [--allow-same-key] [--json]\n"
	"\n"
	"Checks a key configuration, each check on one line:\n"
	"  - the encryption key's public half is usable and not expiring within 30 days;\n"
	"  - its secret half is NOT in the keyring (an intruder could read every backup);\n"
	"  - the signing key signs with $SEALBOX_SIGN_PASSPHRASE, else the passphrase in\n"
	"    --sign-passphrase-file FILE, as a backup would (a test signature; a\n"
	"    passphrase gpg-agent cached is forgotten first, so it does not count);\n"
	"  - with --secret-key FILE (needs both keys): FILE holds the encryption key's\n"
	"    secret and $SEALBOX_SECRET_PASSPHRASE opens it (a test decryption, in a\n"
	"    temporary keyring).\n"
	"  --allow-same-key   accept one key as both encryption and signing key\n"
	"  --sign-passphrase-file FILE  the signing key's passphrase (mode 0600), as for\n"
	"                     backup\n"
	"The keys and the files may come from the config file, sealbox.conf(5).\n"
	"\n"
	"Exit status: the first failed check decides.\n"
	"  0  all checks passed\n"
	"  1  usage; the same key in both roles without --allow-same-key\n"
	"  3  a key is missing, expired, revoked or unusable, or expires within 30\n"
	"     days; the encryption key's secret half is in the keyring; FILE does not\n"
	"     hold the encryption key's secret\n"
	"  4  a passphrase is missing or wrong (signing key, or FILE)\n"
	"  6  the test message did not decrypt and verify\n"
	"  7  FILE does not exist\n"
	"  10 FILE cannot be read\n";

/* ---- passphrases ---- */

/*
 * The passphrase in env, else asked twice on the terminal. Empty allowed or
 * not. 0, or SB_ERR_PASSPHRASE (logged). out is wiped by the caller.
 */
static int get_new_pass(const char *env, const char *what, bool allow_empty, char out[PASS_MAX])
{
	char again[PASS_MAX], prompt[160];
	const char *v = sb_crypto_env_passphrase(env);
	int tries, rc = SB_ERR_PASSPHRASE;

	if (v) {
		if (strlen(v) >= PASS_MAX || (!allow_empty && !*v)) {
			sb_error("$%s: %s", env,
				 *v ? "too long" : "empty: the file must be protected");
			return SB_ERR_PASSPHRASE;
		}
		snprintf(out, PASS_MAX, "%s", v);
		return 0;
	}
	for (tries = 0; tries < PASS_TRIES; tries++) {
		snprintf(prompt, sizeof(prompt), "New passphrase for %s%s: ", what,
			 allow_empty ? " (empty: none)" : "");
		if (sb_crypto_read_tty(prompt, out, PASS_MAX)) {
			sb_error("no passphrase for %s: set %s or run on a terminal", what, env);
			break;
		}
		if (!allow_empty && !out[0]) {
			fprintf(stderr, "sealbox: the passphrase must not be empty\n");
			continue;
		}
		snprintf(prompt, sizeof(prompt), "Repeat the passphrase for %s: ", what);
		if (sb_crypto_read_tty(prompt, again, sizeof(again)))
			break;
		if (!strcmp(out, again)) {
			rc = 0;
			break;
		}
		fprintf(stderr, "sealbox: the passphrases differ, again\n");
	}
	if (rc && tries == PASS_TRIES)
		sb_error("no passphrase for %s: not repeated alike", what);
	explicit_bzero(again, sizeof(again));
	if (rc)
		explicit_bzero(out, PASS_MAX);
	return rc;
}

static void default_name(char *out, size_t size)
{
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(out, size, "sealbox <%s@%s>", pw && pw->pw_name ? pw->pw_name : "backup", host);
}

/* ---- create ---- */

enum { C_OUT = 256, C_NAME, C_EXPIRE, C_ALGO, C_JSON };

static const struct option create_opts[] = {
	{"secret-out", required_argument, NULL, C_OUT},
	{"name", required_argument, NULL, C_NAME},
	{"expire", required_argument, NULL, C_EXPIRE},
	{"algo", required_argument, NULL, C_ALGO},
	{"json", no_argument, NULL, C_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void print_made(const struct sb_keys_made *m, const char *file)
{
	if (cli_json()) {
		json_str(cli_json(), "encrypt_key", m->enc_fpr);
		json_str(cli_json(), "sign_key", m->sign_fpr);
		json_path(cli_json(), "secret_key_file", file);
		return;
	}
	printf("Encryption key: %s\n"
	       "  its secret half is only in %s: keep that file offline, and its passphrase\n"
	       "  somewhere else; restore needs both (--secret-key FILE).\n"
	       "Signing key:    %s\n"
	       "  stays in this keyring; backups read its passphrase from\n"
	       "  $SEALBOX_SIGN_PASSPHRASE.\n"
	       "\n"
	       "Configuration lines:\n"
	       "encrypt-key = %s\n"
	       "sign-key = %s\n"
	       "\n"
	       "or: sealbox backup --encrypt-key %s --sign-key %s ...\n",
	       m->enc_fpr, sb_log_str(file, strlen(file)), m->sign_fpr, m->enc_fpr, m->sign_fpr,
	       m->enc_fpr, m->sign_fpr);
}

static int keys_create(int argc, char **argv)
{
	struct sb_keys_create_opts o = {.expire = 2LL * 365 * 86400};
	struct sb_keys_made m;
	struct sb_crypto *c = NULL;
	char name[512], uid[600], secret[PASS_MAX] = "", sign[PASS_MAX] = "";
	int opt, rc = 0;

	default_name(name, sizeof(name));
	o.name = name;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", create_opts, NULL)) != -1) {
		switch (opt) {
		case C_OUT: o.secret_out = optarg; break;
		case C_NAME: o.name = optarg; break;
		case C_EXPIRE:
			if (sb_keys_parse_expire(optarg, &o.expire))
				return usage_error(
					"keys create",
					"bad --expire '%s' (e.g. 2Y, 6M, 30D, never; at least 1D)",
					optarg);
			break;
		case C_ALGO:
			if (!sb_keys_algo_valid(optarg))
				return usage_error("keys create",
						   "bad --algo '%s' (ed25519, rsa3072 or rsa4096)",
						   optarg);
			o.algo = optarg;
			break;
		case C_JSON: break; /* main.c: json.h */
		case 'h': fputs(create_usage, stdout); return EXIT_OK;
		default: return bad_option("keys create", argv);
		}
	}
	if (optind != argc)
		return usage_error("keys create", "unexpected argument '%s'", argv[optind]);
	if (!o.secret_out)
		return usage_error("keys create", "--secret-out FILE is required");
	if (sb_keys_uid(o.name, "signing", uid, sizeof(uid)))
		return usage_error("keys create", "bad --name '%s' (expected \"Name <email>\")",
				   o.name);
	if (access(o.secret_out, F_OK) == 0) {
		sb_error("secret key file %s exists: refusing to overwrite it",
			 sb_log_str(o.secret_out, strlen(o.secret_out)));
		return EXIT_LOCAL;
	}
	if ((rc = get_new_pass("SEALBOX_SECRET_PASSPHRASE", "the secret key file", false,
			       secret)) ||
	    (rc = get_new_pass("SEALBOX_SIGN_PASSPHRASE", "the signing key", true, sign)))
		goto out;
	if (!strcmp(secret, sign)) {
		sb_error("the secret key file's passphrase must differ from the signing key's: "
			 "the signing passphrase is kept on this machine");
		rc = SB_ERR_PASSPHRASE;
		goto out;
	}
	o.secret_pass = secret;
	o.sign_pass = sign;
	if ((rc = open_user_crypto(&c)))
		goto out;
	fprintf(stderr, "sealbox: creating the signing and the encryption key (%s)...\n",
		o.algo ? o.algo : "ed25519");
	rc = sb_keys_create(c, &o, &m);
	if (!rc)
		print_made(&m, o.secret_out);
	else if (m.enc_fpr[0] && m.enc_secret_left)
		sb_error(
			"encryption key %s was created but its secret half is still in the keyring: "
			"export it (gpg --export-secret-keys) and delete it (gpg "
			"--delete-secret-keys), or delete both new keys and try again",
			m.enc_fpr);
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(sign, sizeof(sign));
	sb_crypto_close(c);
	return exit_status(rc);
}

/* ---- check ---- */

enum { K_ENC = 256, K_SIGN, K_SECRET, K_SAME, K_PASS_FILE, K_JSON };

static const struct option check_opts[] = {
	{"encrypt-key", required_argument, NULL, K_ENC},
	{"sign-key", required_argument, NULL, K_SIGN},
	{"secret-key", required_argument, NULL, K_SECRET},
	{"allow-same-key", no_argument, NULL, K_SAME},
	{"sign-passphrase-file", required_argument, NULL, K_PASS_FILE},
	{"json", no_argument, NULL, K_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* One check's verdict: "ok" line on stdout, the first failure kept. */
static void verdict(int *first, int rc, const char *fmt, const char *arg)
{
	if (cli_json()) {
		char what[512];

		snprintf(what, sizeof(what), fmt, arg);
		json_obj(cli_json(), NULL); /* in the "checks" array */
		json_bool(cli_json(), "ok", !rc);
		json_str(cli_json(), "check", what);
		json_end(cli_json());
	}
	if (!rc) {
		printf("ok    ");
		printf(fmt, arg);
		putchar('\n');
	} else {
		printf("FAIL  ");
		printf(fmt, arg);
		putchar('\n');
		if (!*first)
			*first = rc;
	}
}

static void check_enc(struct sb_crypto *c, const char *fpr, int *first)
{
	char date[32];
	long when;
	int rc;

	rc = sb_crypto_check_encrypt_key(c, fpr);
	if (!rc && !(rc = sb_keys_expires(c, fpr, true, &when)) && when &&
	    when - (long)time(NULL) < SB_KEYS_EXPIRY_WARN) {
		strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&(time_t){when}));
		sb_error(
			"encryption key %s expires on %s: backups stop then; extend it with its "
			"secret half (gpg --quick-set-expire in a keyring holding FILE) and import "
			"the public half here",
			fpr, date);
		rc = SB_ERR_KEY;
	}
	verdict(first, rc, "encryption key %s: usable, not expiring within 30 days", fpr);
	rc = 0;
	if (sb_crypto_have_secret(c, fpr) == 0) {
		sb_error(
			"the SECRET half of encryption key %s is in this keyring: an intruder on "
			"this machine could read every backup. Keep it only in the secret key file "
			"(gpg --armor --export-secret-keys %s > FILE on removable media), then "
			"delete it here: gpg --delete-secret-keys %s",
			fpr, fpr, fpr);
		rc = SB_ERR_KEY;
	}
	verdict(first, rc, "encryption key %s: its secret half is not in this keyring", fpr);
}

static void check_sign(struct sb_crypto *c, const char *fpr, int *first)
{
	int rc = sb_crypto_check_sign_key(c, fpr);
	long when;
	char date[32];

	if (!rc && !(rc = sb_keys_expires(c, fpr, false, &when)) && when &&
	    when - (long)time(NULL) < SB_KEYS_EXPIRY_WARN) {
		strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&(time_t){when}));
		sb_error("signing key %s expires on %s: backups stop then; extend it (gpg "
			 "--quick-set-expire %s 2y '*' and gpg --quick-set-expire %s 2y)",
			 fpr, date, fpr, fpr);
		rc = SB_ERR_KEY;
	}
	if (!rc)
		rc = sb_keys_test_sign(c, fpr);
	verdict(first, rc, "signing key %s: signs with the configured passphrase", fpr);
}

static int keys_check(int argc, char **argv)
{
	const char *enc = NULL, *sign = NULL, *secret = NULL, *pass_file = NULL;
	char enc_fpr[41], sign_fpr[41], pass[PASS_MAX];
	bool have_pass = false;
	struct sb_crypto *c = NULL;
	bool allow_same = false;
	int opt, rc = 0, first = 0;

	/* encrypt-key, sign-key, secret-key may come from the config file */
	if ((rc = config_apply_for(check_opts, &argc, &argv)))
		return rc;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", check_opts, NULL)) != -1) {
		switch (opt) {
		case K_ENC: enc = optarg; break;
		case K_SIGN: sign = optarg; break;
		case K_SECRET: secret = optarg; break;
		case K_SAME: allow_same = true; break;
		case K_PASS_FILE: pass_file = optarg; break;
		case K_JSON: break; /* main.c: json.h */
		case 'h': fputs(check_usage, stdout); return EXIT_OK;
		default: return bad_option("keys check", argv);
		}
	}
	if (optind != argc)
		return usage_error("keys check", "unexpected argument '%s'", argv[optind]);
	if (!enc && !sign)
		return usage_error("keys check", "give --encrypt-key FPR, --sign-key FPR or both");
	if (secret && !(enc && sign))
		return usage_error("keys check",
				   "--secret-key FILE needs --encrypt-key and --sign-key");
	if (pass_file && !sb_crypto_env_passphrase("SEALBOX_SIGN_PASSPHRASE")) {
		if (sb_config_read_secret(pass_file, pass, sizeof(pass))) {
			rc = SB_ERR_PASSPHRASE;
			goto out;
		}
		have_pass = true;
		sb_crypto_set_passphrase("SEALBOX_SIGN_PASSPHRASE", pass);
	}
	if ((rc = open_user_crypto(&c)))
		goto out;
	if ((enc && (rc = sb_crypto_key_fpr(c, enc, enc_fpr))) ||
	    (sign && (rc = sb_crypto_key_fpr(c, sign, sign_fpr))))
		goto out;
	if (enc && sign && sb_keys_distinct(enc_fpr, sign_fpr, allow_same)) {
		rc = SB_ERR_PARAM;
		goto out;
	}
	if (cli_json())
		json_arr(cli_json(), "checks");
	if (enc)
		check_enc(c, enc_fpr, &first);
	if (sign)
		check_sign(c, sign_fpr, &first);
	if (secret) {
		rc = sb_keys_test_file(c, secret, enc_fpr, sign_fpr);
		verdict(&first, rc,
			"secret key file %s: holds the encryption key's secret, and the "
			"passphrase opens it",
			sb_log_str(secret, strlen(secret)));
	}
	rc = first;
out:
	sb_crypto_close(c);
	if (have_pass) {
		sb_crypto_set_passphrase("SEALBOX_SIGN_PASSPHRASE", NULL);
		explicit_bzero(pass, sizeof(pass));
	}
	return exit_status(rc);
}

/* ---- dispatch ---- */

/* "keys --config F check": the subcommand goes first, global options after it. */
static void subcommand_first(int argc, char **argv)
{
	int i = 1;
	char *sub;

	while (i < argc && (!strcmp(argv[i], "--no-config") || !strncmp(argv[i], "--config=", 9) ||
			    (!strcmp(argv[i], "--config") && ++i < argc)))
		i++;
	if (i == 1 || i >= argc)
		return;
	sub = argv[i];
	memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof(*argv));
	argv[1] = sub;
}

int cmd_keys(int argc, char **argv)
{
	subcommand_first(argc, argv);
	if (argc < 2) {
		fputs(keys_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(keys_usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "create") || !strcmp(argv[1], "check"))
		cli_json_command(!strcmp(argv[1], "create") ? "keys create" : "keys check");
	if (!strcmp(argv[1], "create"))
		return keys_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return keys_check(argc - 1, argv + 1);
	fprintf(stderr, "sealbox keys: error: unknown subcommand '%s'\n\n%s", argv[1], keys_usage);
	return EXIT_USAGE;
}
