/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_restore.c - `sealbox restore`: options, keyring, then sb_restore(). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/reader.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "json.h"
#include "runlog.h"

static const char restore_usage[] =
	"usage: sealbox restore --target URL [--sign-key FPR] [--secret-key FILE]\n"
	"                       [--ssh-key FILE] [--known-hosts FILE] [--accept-new-host-key]\n"
	"                       [--limit-upload RATE] [--limit-download RATE]\n"
	"                       [--time TIME] [--path REL] [--force] [--archive-dir DIR]\n"
	"                       [--allow-unsigned] [--allow-unsealed] [--expect-seal HASH]\n"
	"                       [--json] [-v | -q] DEST\n"
	"\n"
	"Restores the newest snapshot at or before TIME (default: now) into DEST.\n"
	"  --target URL       file:///abs/path, a plain path,\n"
	"                     sftp://user@host[:port]/abs/path or s3://BUCKET/PREFIX\n"
	"  --ssh-key FILE     sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                     default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --s3-endpoint URL  s3: the store (default $AWS_ENDPOINT_URL, else AWS)\n"
	"                     also --s3-addressing, --s3-retries, --s3-part-size,\n"
	"                     --s3-timeout (sealbox(1))\n"
	"  --limit-upload RATE, --limit-download RATE\n"
	"                     all uploads (downloads) together at most RATE bytes/s\n"
	"                     (500K, 2M, 1.5MiB/s; K, M, G: 1024-based; 0: no limit)\n"
	"  --accept-new-host-key  sftp: add an unknown host key (never a changed one)\n"
	"  --sign-key FPR     every file read must be signed by this key (required\n"
	"                     unless the chain is unencrypted, and so unsigned)\n"
	"  --secret-key FILE  the exported secret encryption key (passphrase:\n"
	"                     $SEALBOX_SECRET_PASSPHRASE); else it must be in the keyring\n"
	"  --time TIME        ISO 8601 date or date-time, local unless a zone is given\n"
	"                     ('2026-11-20' is local midnight; '2026-11-20 08:52' too),\n"
	"                     epoch seconds, 'now', or an age such as 3D, 2W, 1M\n"
	"  --path REL         restore only this path (relative to the backed-up folder,\n"
	"                     or absolute inside it);\n"
	"                     into DEST/NAME when DEST is an existing folder\n"
	"  --force            overwrite existing files in DEST\n"
	"  --archive-dir DIR  where backup remembers its newest seal, to refuse a target\n"
	"                     rolled back (default: backup's)\n"
	"  --expect-seal HASH refuse the target unless a seal with this SHA-256 is on it\n"
	"  --allow-unsigned   read a chain that is neither encrypted nor signed\n"
	"  --allow-unsealed   read duplicity's unsealed sets after sealed ones (signed,\n"
	"                     but a server could replay them)\n"
	"  --json             one JSON document on stdout: exit status, error, what\n"
	"                     was restored (see sealbox(1))\n"
	"  -v, --verbose      more messages;  -q, --quiet  errors only\n"
	"Options may come from the config file, sealbox.conf(5).\n";

enum { O_SIGN = 256, O_SECRET, O_TIME, O_PATH, O_FORCE, O_ARCHIVE, O_JSON };

const struct option restore_opts[] = {
	TARGET_OPTIONS,
	GATE_OPTIONS,
	{"archive-dir", required_argument, NULL, O_ARCHIVE},
	{"sign-key", required_argument, NULL, O_SIGN},
	{"secret-key", required_argument, NULL, O_SECRET},
	{"time", required_argument, NULL, O_TIME},
	{"path", required_argument, NULL, O_PATH},
	{"force", no_argument, NULL, O_FORCE},
	{"json", no_argument, NULL, O_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_restore(int argc, char **argv)
{
	struct sb_restore_opts o = {.time = time(NULL)};
	struct sb_restore_stats st;
	struct sb_transport_opts to = {0};
	struct sb_crypto *crypto = NULL;
	struct gate_args ga = {.make_record = true};
	const char *target = NULL, *sign = NULL, *secret = NULL;
	char sign_fpr[41], *path = NULL, when[21];
	int c, n, rc = 0;
	bool quiet = false;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", restore_opts, NULL)) != -1) {
		if (target_option(c, optarg, &target, &to) || gate_option(c, optarg, &ga))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD: rc = limit_option("restore", c, optarg); break;
		case O_ARCHIVE: ga.archive_dir = optarg; break;
		case O_SIGN: sign = optarg; break;
		case O_SECRET: secret = optarg; break;
		case O_TIME:
			if (sb_time_parse_user(optarg, time(NULL), &o.time))
				rc = usage_error("restore", "bad --time '%s'", optarg);
			break;
		case O_PATH:
			free(path);
			path = strdup(optarg);
			o.path_absolute = optarg[0] == '/';
			n = path ? sb_path_normalize(path, strlen(path)) : -1;
			if (n < 0)
				rc = usage_error("restore", "bad --path '%s'", optarg);
			else
				path[n] = '\0';
			break;
		case O_FORCE: o.force = true; break;
		case O_JSON: break; /* main.c: json.h */
		case 'v': sb_log_set_level(SB_LOG_INFO); break;
		case 'q':
			quiet = true;
			sb_log_set_level(SB_LOG_ERR);
			break;
		case 'h':
			fputs(restore_usage, stdout);
			free(path);
			return EXIT_OK;
		default: rc = bad_option("restore", argv); break;
		}
		if (rc)
			goto out;
	}
	if (!target)
		rc = usage_error("restore", "--target URL is required");
	else if (optind != argc - 1)
		rc = usage_error("restore", "give exactly one DEST");
	if (rc)
		goto out;
	o.dest = argv[optind];
	o.path = path;
	if ((rc = open_decrypt_crypto(secret, sign, NULL, &crypto)))
		goto fail;
	if (sign && (rc = sb_crypto_key_fpr(crypto, sign, sign_fpr)))
		goto fail;
	o.sign_fpr = sign ? sign_fpr : NULL;
	o.crypto = crypto;
	if ((rc = sb_transport_open(target, &to, &o.target)) ||
	    (rc = open_gate(o.target, crypto, o.sign_fpr, &ga, &o.gate)))
		goto fail;
	progress_begin(quiet, "restoring", 0, 0);
	rc = sb_restore(&o, &st);
	progress_end();
	if ((!rc || rc == SB_ERR_PARTIAL) && cli_json()) {
		struct json *j = cli_json();

		json_time(j, "snapshot", st.set_time);
		json_path(j, "path", path);
		json_path(j, "dest", o.dest);
		json_u64(j, "objects", st.objects);
		json_u64(j, "bytes", st.bytes);
		json_u64(j, "volumes", st.volumes);
		json_u64(j, "errors", st.errors);
	} else if ((!rc || rc == SB_ERR_PARTIAL) && !quiet) {
		sb_time_format_iso(st.set_time, when);
		printf("Restored %llu object(s), %llu bytes, from the snapshot of %s (%llu volume(s) "
		       "read).\n",
		       (unsigned long long)st.objects, (unsigned long long)st.bytes, when,
		       (unsigned long long)st.volumes);
	}
fail:
	sb_gate_close(o.gate);
	sb_transport_close(o.target);
	sb_crypto_close(crypto);
	rc = exit_status(rc);
out:
	free(path);
	return rc;
}
