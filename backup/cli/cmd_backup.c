/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_backup.c - `sealbox backup`: options, key checks, then sb_backup(). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/archive.h"
#include "sealbox/catalog.h"
#include "sealbox/config.h"
#include "sealbox/error.h"
#include "sealbox/keys.h"
#include "sealbox/log.h"
#include "sealbox/timefmt.h"
#include "sealbox/walk.h"
#include "sealbox/writer.h"
#include "cmds.h"
#include "config.h"
#include "json.h"
#include "runlog.h"

static const char backup_usage[] =
	"usage: sealbox backup --target URL --encrypt-key FPR --sign-key FPR\n"
	"                      [--ssh-key FILE] [--known-hosts FILE] [--accept-new-host-key]\n"
	"                      [--limit-upload RATE] [--limit-download RATE]\n"
	"                      [--full] [--full-if-older-than AGE] [--volsize MIB]\n"
	"                      [--compress-level N]\n"
	"                      [--exclude GLOB]... [--archive-dir DIR] [--secret-key FILE]\n"
	"                      [--allow-source-mismatch] [--allow-same-key]\n"
	"                      [--sign-passphrase-file FILE] [--log-file FILE] [--syslog]\n"
	"                      [--allow-unsealed] [--expect-seal HASH] [--json] [-v | -q]\n"
	"                      [SOURCE]\n"
	"\n"
	"Writes a full backup of SOURCE to the target the first time, incrementals after.\n"
	"Options and SOURCE ('source = DIR') may come from the config file, sealbox.conf(5).\n"
	"  --target URL            file:///abs/path, a plain path,\n"
	"                          sftp://user@host[:port]/abs/path or s3://BUCKET/PREFIX\n"
	"  --ssh-key FILE          sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                          default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE      sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --s3-endpoint URL       s3: the store (default $AWS_ENDPOINT_URL, else AWS)\n"
	"                          also --s3-addressing, --s3-retries, --s3-part-size,\n"
	"                          --s3-timeout (sealbox(1))\n"
	"  --limit-upload RATE, --limit-download RATE\n"
	"                          all uploads (downloads) together at most RATE bytes/s\n"
	"                          (500K, 2M, 1.5MiB/s; K, M, G: 1024-based; 0: no limit)\n"
	"  --accept-new-host-key   sftp: add an unknown host key (never a changed one)\n"
	"  --encrypt-key FPR       encrypt to this key (only its public half is needed)\n"
	"  --sign-key FPR          sign with this key (passphrase: $SEALBOX_SIGN_PASSPHRASE)\n"
	"  --full                  start a new chain with a full backup\n"
	"  --full-if-older-than AGE  full backup when the chain started longer ago (e.g. 1M)\n"
	"  --volsize MIB           plaintext volume size in MiB (default 50)\n"
	"  --compress-level N      gpg's zlib level, 0 (none) to 9 (default 3; wins over\n"
	"                          gpg.conf's; data that does not compress is not compressed)\n"
	"  --exclude GLOB          leave out matching paths (repeatable)\n"
	"  --archive-dir DIR       local signatures and state (default ~/.cache/sealbox/...)\n"
	"  --secret-key FILE       secret encryption key, to rebuild a lost archive dir\n"
	"  --allow-source-mismatch continue a chain made from another host or folder\n"
	"  --allow-same-key        accept one key as both encryption and signing key\n"
	"  --sign-passphrase-file FILE  the signing key's passphrase (mode 0600), instead\n"
	"                          of $SEALBOX_SIGN_PASSPHRASE (which wins when set)\n"
	"  --log-file FILE         append one line about the run, and one per\n"
	"                          error or warning, to FILE\n"
	"  --syslog                one line about the run, and errors, to syslog\n"
	"  --allow-unsealed        continue a chain holding duplicity's (unsealed) sets after\n"
	"                          sealed ones, when the archive dir must be rebuilt\n"
	"  --expect-seal HASH      refuse a target without this seal (see verify)\n"
	"  --json                  one JSON document on stdout: the exit status, the error\n"
	"                          and the statistics (with the new seal's SHA-256)\n"
	"  -v, --verbose           more messages;  -q, --quiet  errors only\n"
	"Exit status: 0 done, 2 done but some files unreadable or changed while read,\n"
	"9 another run holds the lock, 10 the source's filesystem failed or went away,\n"
	"or a local disk (archive dir, TMPDIR) is full; see sealbox(1) for the others.\n";

enum {
	O_ENC = 256,
	O_SIGN,
	O_FULL,
	O_FIOT,
	O_VOLSIZE,
	O_LEVEL,
	O_EXCLUDE,
	O_ARCHIVE,
	O_SECRET,
	O_MISMATCH,
	O_SAME_KEY,
	O_SIGN_PASS_FILE,
	O_LOG_FILE,
	O_SYSLOG,
	O_JSON
};

const struct option backup_opts[] = {
	TARGET_OPTIONS,
	GATE_OPTIONS,
	{"encrypt-key", required_argument, NULL, O_ENC},
	{"sign-key", required_argument, NULL, O_SIGN},
	{"full", no_argument, NULL, O_FULL},
	{"full-if-older-than", required_argument, NULL, O_FIOT},
	{"volsize", required_argument, NULL, O_VOLSIZE},
	{"compress-level", required_argument, NULL, O_LEVEL},
	{"exclude", required_argument, NULL, O_EXCLUDE},
	{"archive-dir", required_argument, NULL, O_ARCHIVE},
	{"secret-key", required_argument, NULL, O_SECRET},
	{"allow-source-mismatch", no_argument, NULL, O_MISMATCH},
	{"allow-same-key", no_argument, NULL, O_SAME_KEY},
	{"sign-passphrase-file", required_argument, NULL, O_SIGN_PASS_FILE},
	{"log-file", required_argument, NULL, O_LOG_FILE},
	{"syslog", no_argument, NULL, O_SYSLOG},
	{"json", no_argument, NULL, O_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The statistics as the --json document's fields (json.h). */
static void print_json(struct json *j, const struct sb_backup_stats *s)
{
	json_str(j, "set", s->set_name);
	json_str(j, "seal", s->seal_name);
	json_str(j, "seal_sha256", s->seal_sha);
	json_str(j, "type", s->full ? "full" : "incremental");
	json_num(j, "start_time", s->start);
	json_num(j, "end_time", s->end);
	json_num(j, "elapsed_time", s->end - s->start);
	json_u64(j, "source_files", s->source_files);
	json_u64(j, "source_file_size", s->source_size);
	json_u64(j, "new_files", s->new_files);
	json_u64(j, "new_file_size", s->new_size);
	json_u64(j, "deleted_files", s->deleted_files);
	json_u64(j, "changed_files", s->changed_files);
	json_u64(j, "changed_file_size", s->changed_size);
	json_u64(j, "changed_delta_size", s->changed_delta_size);
	json_u64(j, "delta_entries", s->delta_entries);
	json_u64(j, "raw_delta_size", s->raw_delta_size);
	json_u64(j, "total_destination_size_change", s->dest_change);
	json_u64(j, "errors", s->errors);
	json_u64(j, "changed_while_read", s->changed_while_read);
}

/* The previous run's totals (for the progress line's ETA), or save this run's. */
#define LAST_FILES "cli.last_source_files"
#define LAST_SIZE "cli.last_source_size"
static void last_totals(const char *dir, unsigned long long *files, unsigned long long *size,
			const struct sb_backup_stats *save)
{
	struct sb_catalog *cat;
	char *v = NULL, buf[32];

	if (sb_catalog_open(dir, &cat))
		return;
	if (save) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)save->source_files);
		sb_catalog_set(cat, LAST_FILES, buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)save->source_size);
		sb_catalog_set(cat, LAST_SIZE, buf);
	} else {
		if (!sb_catalog_get(cat, LAST_FILES, &v))
			*files = strtoull(v, NULL, 10);
		free(v);
		v = NULL;
		if (!sb_catalog_get(cat, LAST_SIZE, &v))
			*size = strtoull(v, NULL, 10);
		free(v);
	}
	sb_catalog_close(cat);
}

/*
 * A source that was the root of a mounted filesystem at the last backup and
 * is not one now is an unmounted disk's or share's empty mount point: an
 * incremental of it would record every file as deleted. save: remember what
 * the source is now, after a backup.
 */
#define SOURCE_MOUNT "cli.source_mount_root"
static int source_mount_check(const char *dir, const char *source, bool full, bool save)
{
	struct sb_catalog *cat;
	char *v = NULL;
	int now, rc = 0;

	/* a source that is not there: the backup says so */
	if ((now = sb_walk_mount_root(source)) < 0)
		return 0;
	if ((rc = sb_catalog_open(dir, &cat))) /* logged: a full disk, say */
		return save ? 0 : rc;
	if (save) {
		sb_catalog_set(cat, SOURCE_MOUNT, now ? "1" : "0");
	} else if (!full && !sb_catalog_get(cat, SOURCE_MOUNT, &v) && !strcmp(v, "1") && !now) {
		sb_error("source %s was a mounted filesystem at the last backup and is not one now "
			 "(is the disk or share mounted?): backup stopped, no new snapshot; --full "
			 "starts a new chain from what is there now",
			 source);
		rc = SB_ERR_IO;
	}
	free(v);
	sb_catalog_close(cat);
	return rc;
}

/*
 * gpg compresses at level, through sealbox-gpg: beside this binary (the
 * build tree), else where it is installed. Without it, gpg's own level, said
 * once at -v.
 */
static void gpg_level(int level)
{
	static const char *const rel[] = {"sealbox-gpg", SEALBOX_LIBEXEC_FROM_BIN "/sealbox-gpg"};
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	size_t i;

	if (n <= 0)
		return;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return;
	*slash = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char real[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", self, rel[i]);
		if (access(path, X_OK) == 0 && realpath(path, real)) {
			sb_crypto_set_compress_level(level, real);
			return;
		}
	}
	sb_info("no sealbox-gpg beside %s: gpg compresses at its own level", self);
}

int cmd_backup(int argc, char **argv)
{
	struct sb_backup_opts o = {.volsize = 50ull << 20};
	struct sb_transport_opts to = {.create = true, .sessions = 2}; /* one per packer worker */
	struct sb_backup_stats stats;
	struct sb_crypto *user = NULL, *dec = NULL;
	struct gate_args ga = {0};
	const char **excludes = calloc((size_t)argc + 1, sizeof(*excludes));
	const char *target = NULL, *enc = NULL, *sign = NULL, *secret = NULL, *pass_file = NULL;
	char archive[4096] = "", enc_fpr[41], sign_fpr[41], pass[1024], summary[512] = "";
	struct runlog_opts lo = {0};
	struct run_locks locks = {0};
	unsigned long long v, last_files = 0, last_size = 0;
	bool quiet = false, allow_same_key = false, have_pass = false;
	int c, rc = 0, level = 3;

	if (!excludes)
		return EXIT_INTERNAL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", backup_opts, NULL)) != -1) {
		if (target_option(c, optarg, &target, &to) || gate_option(c, optarg, &ga))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD: rc = limit_option("backup", c, optarg); break;
		case O_ENC: enc = optarg; break;
		case O_SIGN: sign = optarg; break;
		case O_FULL: o.force_full = true; break;
		case O_FIOT:
			if (sb_age_parse(optarg, &o.full_if_older_than))
				rc = usage_error("backup", "bad --full-if-older-than '%s'", optarg);
			break;
		case O_VOLSIZE:
			if (!parse_uint(optarg, &v) || v == 0 || v > 1048576)
				rc = usage_error("backup", "bad --volsize '%s' (MiB, 1 to 1048576)",
						 optarg);
			o.volsize = v << 20;
			break;
		case O_LEVEL:
			if (!parse_uint(optarg, &v) || v > 9)
				rc = usage_error("backup", "bad --compress-level '%s' (0 to 9)",
						 optarg);
			level = (int)v;
			break;
		case O_EXCLUDE: excludes[o.nexcludes++] = optarg; break;
		case O_ARCHIVE: snprintf(archive, sizeof(archive), "%s", optarg); break;
		case O_SECRET: secret = optarg; break;
		case O_MISMATCH: o.allow_source_mismatch = true; break;
		case O_SAME_KEY: allow_same_key = true; break;
		case O_SIGN_PASS_FILE: pass_file = optarg; break;
		case O_LOG_FILE: lo.log_file = optarg; break;
		case O_SYSLOG: lo.syslog = true; break;
		case O_JSON: break; /* main.c: json.h */
		case 'v': sb_log_set_level(SB_LOG_INFO); break;
		case 'q':
			quiet = true;
			sb_log_set_level(SB_LOG_ERR);
			break;
		case 'h':
			fputs(backup_usage, stdout);
			free(excludes);
			return EXIT_OK;
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
	else if (optind == argc && cli_config_get("source"))
		o.source = cli_config_get("source");
	else if (optind != argc - 1)
		rc = usage_error("backup", "give exactly one SOURCE folder (or 'source = DIR' in "
					   "the config file)");
	if (rc || (rc = runlog_begin("backup", &lo)))
		goto out;
	if (!o.source)
		o.source = argv[optind];
	o.excludes = excludes;
	if (pass_file && !sb_crypto_env_passphrase("SEALBOX_SIGN_PASSPHRASE")) {
		if (sb_config_read_secret(pass_file, pass, sizeof(pass))) {
			rc = SB_ERR_PASSPHRASE;
			goto fail;
		}
		have_pass = true;
		sb_crypto_set_passphrase("SEALBOX_SIGN_PASSPHRASE", pass);
	}
	gpg_level(level);
	if ((rc = open_user_crypto(&user)))
		goto fail;
	/* one key listing each, remembered for the checks, signatures and encryptions */
	if ((rc = sb_crypto_key_fpr(user, enc, enc_fpr)) ||
	    (rc = sb_crypto_sign_key_fpr(user, sign, sign_fpr)))
		goto fail;
	if (sb_keys_distinct(enc_fpr, sign_fpr, allow_same_key)) {
		rc = SB_ERR_PARAM; /* exit 1, as for keys check */
		goto fail;
	}
	if ((rc = sb_crypto_recheck_encrypt_key(user, enc_fpr)) ||
	    (rc = sb_crypto_recheck_sign_key(user, sign_fpr)))
		goto fail;
	/* the first signature (the first volume's) needs the passphrase cron
	   gives, not one gpg-agent cached; no test signature: each costs a
	   derivation of the key in gpg-agent, as much as a volume's */
	sb_keys_forget_passphrase(user, sign_fpr);
	/* the USB key unplugged: only a lost archive dir needs it */
	if (secret_key_unplugged(secret, "not needed unless the archive dir must be rebuilt")) {
		secret = NULL;
	} else if (secret) {
		if ((rc = open_decrypt_crypto(secret, sign_fpr, enc_fpr, &dec)))
			goto fail;
		o.decrypt = dec;
	} else if (sb_crypto_have_secret(user, enc_fpr) == 0) {
		o.decrypt = user;
	}
	if ((rc = sb_transport_open(target, &to, &o.target)))
		goto fail;
	/* keyed by the canonical target, so file:///x and /x share one archive dir */
	if (!archive[0] && (rc = sb_archive_default_dir(sb_transport_describe(o.target), archive,
							sizeof(archive))))
		goto fail;
	o.archive_dir = archive;
	o.crypto = user;
	o.enc_fpr = enc_fpr;
	o.sign_fpr = sign_fpr;
	if ((rc = run_locks_take(archive, o.target, &locks)))
		goto fail;
	/* listed under the lock; the backup reports a lost seal itself (it links to it) */
	ga.archive_dir = archive;
	ga.own_rollback = true;
	if ((rc = open_gate(o.target, o.decrypt ? o.decrypt : user, sign_fpr, &ga, &o.gate)))
		goto fail;
	if (!quiet && isatty(STDERR_FILENO))
		last_totals(archive, &last_files, &last_size, NULL);
	/* volumes are spooled there: named in a full disk's message */
	o.tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if ((rc = source_mount_check(archive, o.source, o.force_full, false)))
		goto fail;
	progress_begin(quiet, "reading", last_files, last_size);
	rc = sb_backup(&o, &stats);
	progress_end();
	if (!rc || rc == SB_ERR_PARTIAL) {
		last_totals(archive, NULL, NULL, &stats);
		source_mount_check(archive, o.source, false, true);
		if (cli_json())
			print_json(cli_json(), &stats);
		else if (!quiet)
			sb_backup_stats_print(&stats, stdout);
		if (rc && stats.errors)
			sb_error("backup finished, but %llu file(s) could not be read",
				 (unsigned long long)stats.errors);
		if (rc && stats.changed_while_read)
			sb_error("backup finished, but %llu file(s) changed while being read, "
				 "each named above",
				 (unsigned long long)stats.changed_while_read);
		snprintf(
			summary, sizeof(summary),
			"%s set %s: %llu files (%llu bytes), %llu new, %llu changed, %llu deleted, "
			"%llu bytes written, %llu errors, %llu changed while read, %.1f s",
			stats.full ? "full" : "incremental", stats.set_name,
			(unsigned long long)stats.source_files,
			(unsigned long long)stats.source_size, (unsigned long long)stats.new_files,
			(unsigned long long)stats.changed_files,
			(unsigned long long)stats.deleted_files,
			(unsigned long long)stats.dest_change, (unsigned long long)stats.errors,
			(unsigned long long)stats.changed_while_read, stats.end - stats.start);
	}
fail:
	sb_gate_close(o.gate);
	run_locks_release(&locks);
	sb_transport_close(o.target);
	sb_crypto_close(dec);
	sb_crypto_close(user);
	if (have_pass) {
		sb_crypto_set_passphrase("SEALBOX_SIGN_PASSPHRASE", NULL);
		explicit_bzero(pass, sizeof(pass));
	}
	rc = exit_status(rc);
	runlog_end(rc, summary);
out:
	free(excludes);
	return rc;
}
