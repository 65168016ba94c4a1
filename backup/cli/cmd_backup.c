/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_backup.c - `sealbox backup`: options, key checks, then sb_backup(). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/archive.h"
#include "sealbox/error.h"
#include "sealbox/keys.h"
#include "sealbox/log.h"
#include "sealbox/timefmt.h"
#include "sealbox/writer.h"
#include "cmds.h"

static const char backup_usage[] =
	"usage: sealbox backup --target URL --encrypt-key FPR --sign-key FPR\n"
	"                      [--ssh-key FILE] [--known-hosts FILE] [--accept-new-host-key]\n"
	"                      [--full] [--full-if-older-than AGE] [--volsize MIB]\n"
	"                      [--exclude GLOB]... [--archive-dir DIR] [--secret-key FILE]\n"
	"                      [--allow-source-mismatch] [--allow-same-key] [-v | -q] SOURCE\n"
	"\n"
	"Writes a full backup of SOURCE to the target the first time, incrementals after.\n"
	"  --target URL            file:///abs/path, a plain path, or\n"
	"                          sftp://user@host[:port]/abs/path\n"
	"  --ssh-key FILE          sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                          default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE      sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --accept-new-host-key   sftp: add an unknown host key (never a changed one)\n"
	"  --encrypt-key FPR       encrypt to this key (only its public half is needed)\n"
	"  --sign-key FPR          sign with this key (passphrase: $SEALBOX_SIGN_PASSPHRASE)\n"
	"  --full                  start a new chain with a full backup\n"
	"  --full-if-older-than AGE  full backup when the chain started longer ago (e.g. 1M)\n"
	"  --volsize MIB           plaintext volume size in MiB (default 50)\n"
	"  --exclude GLOB          leave out matching paths (repeatable)\n"
	"  --archive-dir DIR       local signatures and state (default ~/.cache/sealbox/...)\n"
	"  --secret-key FILE       secret encryption key, to rebuild a lost archive dir\n"
	"  --allow-source-mismatch continue a chain made from another host or folder\n"
	"  --allow-same-key        accept one key as both encryption and signing key\n"
	"  -v, --verbose           more messages;  -q, --quiet  errors only\n";

enum { O_TARGET = 256, O_SSH_KEY, O_KNOWN_HOSTS, O_ACCEPT_HOST_KEY, O_ENC, O_SIGN, O_FULL, O_FIOT, O_VOLSIZE, O_EXCLUDE, O_ARCHIVE, O_SECRET,
       O_MISMATCH, O_SAME_KEY };

static const struct option backup_opts[] = {
	{"target", required_argument, NULL, O_TARGET},
	{"ssh-key", required_argument, NULL, O_SSH_KEY},
	{"known-hosts", required_argument, NULL, O_KNOWN_HOSTS},
	{"accept-new-host-key", no_argument, NULL, O_ACCEPT_HOST_KEY},
	{"encrypt-key", required_argument, NULL, O_ENC},
	{"sign-key", required_argument, NULL, O_SIGN},
	{"full", no_argument, NULL, O_FULL},
	{"full-if-older-than", required_argument, NULL, O_FIOT},
	{"volsize", required_argument, NULL, O_VOLSIZE},
	{"exclude", required_argument, NULL, O_EXCLUDE},
	{"archive-dir", required_argument, NULL, O_ARCHIVE},
	{"secret-key", required_argument, NULL, O_SECRET},
	{"allow-source-mismatch", no_argument, NULL, O_MISMATCH},
	{"allow-same-key", no_argument, NULL, O_SAME_KEY},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_backup(int argc, char **argv)
{
	struct sb_backup_opts o = {.volsize = 50ull << 20};
	struct sb_transport_opts to = {.create = true};
	struct sb_backup_stats stats;
	struct sb_crypto *user = NULL, *dec = NULL;
	const char **excludes = calloc((size_t)argc + 1, sizeof(*excludes));
	const char *target = NULL, *enc = NULL, *sign = NULL, *secret = NULL;
	char archive[4096] = "", enc_fpr[41], sign_fpr[41];
	unsigned long long v;
	bool quiet = false, allow_same_key = false;
	int c, rc = 0;

	if (!excludes)
		return EXIT_INTERNAL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", backup_opts, NULL)) != -1) {
		switch (c) {
		case O_TARGET: target = optarg; break;
		case O_SSH_KEY: to.ssh_key = optarg; break;
		case O_KNOWN_HOSTS: to.known_hosts = optarg; break;
		case O_ACCEPT_HOST_KEY: to.accept_new_host_key = true; break;
		case O_ENC: enc = optarg; break;
		case O_SIGN: sign = optarg; break;
		case O_FULL: o.force_full = true; break;
		case O_FIOT:
			if (sb_age_parse(optarg, &o.full_if_older_than))
				rc = usage_error("backup", "bad --full-if-older-than '%s'", optarg);
			break;
		case O_VOLSIZE:
			if (!parse_uint(optarg, &v) || v == 0 || v > 1048576)
				rc = usage_error("backup", "bad --volsize '%s' (MiB, 1 to 1048576)", optarg);
			o.volsize = v << 20;
			break;
		case O_EXCLUDE: excludes[o.nexcludes++] = optarg; break;
		case O_ARCHIVE: snprintf(archive, sizeof(archive), "%s", optarg); break;
		case O_SECRET: secret = optarg; break;
		case O_MISMATCH: o.allow_source_mismatch = true; break;
		case O_SAME_KEY: allow_same_key = true; break;
		case 'v': sb_log_set_level(SB_LOG_INFO); break;
		case 'q': quiet = true; sb_log_set_level(SB_LOG_ERR); break;
		case 'h': fputs(backup_usage, stdout); free(excludes); return EXIT_OK;
		default: rc = bad_option("backup", argv); break;
		}
		if (rc)
			goto out;
	}
	if (!target)
		rc = usage_error("backup", "--target URL is required");
	else if (!enc)
		rc = usage_error("backup", "--encrypt-key FPR is required");
	else if (!sign)
		rc = usage_error("backup", "--sign-key FPR is required");
	else if (optind != argc - 1)
		rc = usage_error("backup", "give exactly one SOURCE folder");
	if (rc)
		goto out;
	o.source = argv[optind];
	o.excludes = excludes;
	if ((rc = open_user_crypto(&user)))
		goto fail;
	if ((rc = sb_crypto_key_fpr(user, enc, enc_fpr)) || (rc = sb_crypto_key_fpr(user, sign, sign_fpr)))
		goto fail;
	if (sb_keys_distinct(enc_fpr, sign_fpr, allow_same_key)) {
		rc = SB_ERR_PARAM; /* exit 1, as for keys check */
		goto fail;
	}
	if ((rc = sb_crypto_check_encrypt_key(user, enc_fpr)) ||
	    (rc = sb_crypto_check_sign_key(user, sign_fpr)))
		goto fail;
	if (secret) {
		if ((rc = open_decrypt_crypto(secret, sign_fpr, enc_fpr, &dec)))
			goto fail;
		o.decrypt = dec;
	} else if (sb_crypto_have_secret(user, enc_fpr) == 0) {
		o.decrypt = user;
	}
	if ((rc = sb_transport_open(target, &to, &o.target)))
		goto fail;
	/* keyed by the canonical target, so file:///x and /x share one archive dir */
	if (!archive[0] &&
	    (rc = sb_archive_default_dir(sb_transport_describe(o.target), archive, sizeof(archive))))
		goto fail;
	o.archive_dir = archive;
	o.crypto = user;
	o.enc_fpr = enc_fpr;
	o.sign_fpr = sign_fpr;
	rc = sb_backup(&o, &stats);
	if (!rc || rc == SB_ERR_PARTIAL) {
		if (!quiet)
			sb_backup_stats_print(&stats, stdout);
		if (rc)
			sb_error("backup finished, but %llu file(s) could not be read",
				 (unsigned long long)stats.errors);
	}
fail:
	sb_transport_close(o.target);
	sb_crypto_close(dec);
	sb_crypto_close(user);
	rc = exit_status(rc);
out:
	free(excludes);
	return rc;
}
