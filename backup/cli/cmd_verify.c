/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_verify.c - `sealbox verify`: options, keyring, sb_verify() with one
 * line per problem on stdout, a progress line on a terminal, the summary,
 * and one exit status per class of problem (cmds.h). --content also
 * restores the newest snapshot and compares it with SOURCE.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/archive.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/progress.h"
#include "sealbox/verify.h"
#include "sealbox/vcontent.h"
#include "cmds.h"
#include "config.h"
#include "json.h"
#include "runlog.h"

static const char verify_usage[] =
	"usage: sealbox verify --target URL --sign-key FPR [--quick | --sample PERCENT|SIZE]\n"
	"                      [--archive-dir DIR] [--secret-key FILE] [--ssh-key FILE]\n"
	"                      [--known-hosts FILE] [--accept-new-host-key] [--expect-seal HASH]\n"
	"                      [--limit-upload RATE] [--limit-download RATE]\n"
	"                      [--allow-unsigned] [--allow-unsealed] [--json] [-v | -q]\n"
	"       sealbox verify --content --target URL --sign-key FPR --secret-key FILE\n"
	"                      [--quick] [--archive-dir DIR] [--exclude GLOB]... [SOURCE]\n"
	"\n"
	"Checks the target against its seals with the public signing key only: every\n"
	"seal's signature, the hash chain of the seals, each remote file's size and\n"
	"SHA-256, and that the newest seal this machine wrote is still there.\n"
	"  --target URL       file:///abs/path, a plain path,\n"
	"                     sftp://user@host[:port]/abs/path or s3://BUCKET/PREFIX\n"
	"  --sign-key FPR     the key every seal must be signed by\n"
	"  --quick            check sizes and seals only, read no volume\n"
	"  --sample PERCENT|SIZE\n"
	"                     read a random share of the volumes and signature files\n"
	"                     (10%, or a size: 500M, 2G), each one named in a note; all\n"
	"                     manifests, indexes and seals are read, all sizes checked\n"
	"  --archive-dir DIR  where backup remembers its newest seal (default: backup's)\n"
	"  --secret-key FILE  also decrypt unsealed (duplicity) sets' manifests and check\n"
	"                     their volumes' SHA-1 (passphrase: $SEALBOX_SECRET_PASSPHRASE)\n"
	"  --content          also restore the newest snapshot into $TMPDIR and compare it\n"
	"                     with SOURCE (default: the config file's source) by type,\n"
	"                     mode, owner (as root), mtime, symlink target and bytes\n"
	"  --exclude GLOB     with --content: a path backup excludes, not compared (as\n"
	"                     for backup; the config file's exclude lines apply too)\n"
	"  --expect-seal HASH the SHA-256 of a seal that must be on the target (what\n"
	"                     backup printed): a rollback check from any machine\n"
	"  --allow-unsigned   also accept chains that are neither encrypted nor signed\n"
	"  --allow-unsealed   accept duplicity's unsealed sets after sealed ones\n"
	"  --ssh-key FILE, --known-hosts FILE, --accept-new-host-key: as for backup\n"
	"  --s3-endpoint URL, --s3-addressing, --s3-retries, --s3-part-size, --s3-timeout:\n"
	"                        as for backup\n"
	"  --limit-upload RATE, --limit-download RATE: as for backup\n"
	"  --json             one JSON document on stdout: exit status, error, counts\n"
	"                     and each problem (see sealbox(1))\n";

enum { O_SIGN = 256, O_SECRET, O_QUICK, O_ARCHIVE, O_CONTENT, O_EXCLUDE, O_JSON, O_SAMPLE };

const struct option verify_opts[] = {
	TARGET_OPTIONS,
	GATE_OPTIONS,
	{"sign-key", required_argument, NULL, O_SIGN},
	{"secret-key", required_argument, NULL, O_SECRET},
	{"quick", no_argument, NULL, O_QUICK},
	{"sample", required_argument, NULL, O_SAMPLE},
	{"archive-dir", required_argument, NULL, O_ARCHIVE},
	{"content", no_argument, NULL, O_CONTENT},
	{"exclude", required_argument, NULL, O_EXCLUDE},
	{"json", no_argument, NULL, O_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct out {
	uint64_t total; /* of the progress line's phase */
	bool quiet;	/* -q: problems only, no notes */
};

static void on_problem(void *ctx, enum sb_verify_class c, const char *file, const char *msg)
{
	struct out *u = ctx;

	if (cli_json()) {
		json_obj(cli_json(), NULL); /* in the "problems" array */
		json_str(cli_json(), "class", sb_verify_class_name(c));
		json_path(cli_json(), "file", file);
		json_str(cli_json(), "message", msg);
		json_end(cli_json());
		return;
	}
	if (u->quiet && c == SB_VERIFY_NOTE)
		return; /* -q: nothing on success, so cron mails nothing */
	sb_progress_clear();
	/* names and messages may hold what the server chose: one sanitizer */
	printf("%s: %s: %s\n", sb_verify_class_name(c), file ? sb_log_str(file, strlen(file)) : "-",
	       sb_log_str(msg, strlen(msg)));
	fflush(stdout);
}

/* The progress line (progress.h): bytes hashed of the total to read. */
static void on_progress(void *ctx, uint64_t done, uint64_t total, const char *file)
{
	struct out *u = ctx;

	if (total != u->total) {
		u->total = total;
		sb_progress_phase("verifying", 0, total);
	}
	sb_progress_update(0, done, file, strlen(file));
}

static void on_diff(void *ctx, const char *path, const char *what)
{
	(void)ctx;
	if (cli_json()) {
		json_obj(cli_json(), NULL); /* in the "differences" array */
		json_path(cli_json(), "path", path);
		json_str(cli_json(), "what", what);
		json_end(cli_json());
		return;
	}
	printf("content: %s: %s\n", sb_log_str(path, strlen(path)), what);
}

/* The exit status of the worst class found (order documented in sealbox(1)). */
static int verdict(const struct sb_verify_stats *st)
{
	static const struct {
		enum sb_verify_class c;
		int status;
	} order[] = {
		{SB_VERIFY_FOREIGN, EXIT_V_FOREIGN},	   {SB_VERIFY_MODIFIED, EXIT_V_MODIFIED},
		{SB_VERIFY_CHAIN, EXIT_V_CHAIN},	   {SB_VERIFY_ROLLBACK, EXIT_V_ROLLBACK},
		{SB_VERIFY_MISSING, EXIT_V_MISSING},	   {SB_VERIFY_TRUNCATED, EXIT_V_TRUNCATED},
		{SB_VERIFY_UNEXPECTED, EXIT_V_UNEXPECTED},
	};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (st->count[order[i].c])
			return order[i].status;
	return EXIT_OK;
}

static void summary_json(struct json *j, const struct sb_verify_stats *st, const char *target)
{
	int c;

	json_str(j, "target", target);
	json_u64(j, "seals", st->seals);
	json_u64(j, "sets", st->sets);
	json_u64(j, "unsealed_sets", st->unsealed_sets);
	json_u64(j, "files", st->files);
	json_u64(j, "bytes_read", st->bytes);
	json_bool(j, "rollback_checked", st->rollback_checked);
	if (st->sampled) {
		json_obj(j, "sample");
		json_u64(j, "files_read", st->sample_files);
		json_u64(j, "files", st->data_files);
		json_u64(j, "bytes_read", st->sample_bytes);
		json_u64(j, "bytes", st->data_bytes);
		json_end(j);
	}
	json_obj(j, "counts");
	for (c = SB_VERIFY_MODIFIED; c < SB_VERIFY_NCLASSES; c++)
		json_u64(j, sb_verify_class_name((enum sb_verify_class)c), st->count[c]);
	json_end(j);
}

static void summary(const struct sb_verify_stats *st, const char *target)
{
	uint64_t problems = 0;
	int c;

	for (c = SB_VERIFY_MODIFIED; c < SB_VERIFY_NCLASSES; c++)
		problems += st->count[c];
	printf("verify: %s: %llu seal(s), %llu set(s) (%llu unsealed), %llu file(s) checked, "
	       "%.1f MiB read%s",
	       target, (unsigned long long)st->seals, (unsigned long long)st->sets,
	       (unsigned long long)st->unsealed_sets, (unsigned long long)st->files,
	       st->bytes / 1048576.0, st->rollback_checked ? "" : ", no rollback check");
	if (st->sampled)
		printf(", sampled %llu of %llu data file(s) (%.1f of %.1f MiB)",
		       (unsigned long long)st->sample_files, (unsigned long long)st->data_files,
		       st->sample_bytes / 1048576.0, st->data_bytes / 1048576.0);
	printf(": ");
	if (!problems) {
		printf("OK\n");
		return;
	}
	printf("%llu problem(s):", (unsigned long long)problems);
	for (c = SB_VERIFY_MODIFIED; c < SB_VERIFY_NCLASSES; c++)
		if (st->count[c])
			printf(" %llu %s", (unsigned long long)st->count[c],
			       sb_verify_class_name((enum sb_verify_class)c));
	printf("\n");
}

int cmd_verify(int argc, char **argv)
{
	struct sb_verify_opts o = {0};
	struct sb_sample sample = {0};
	struct sb_verify_stats st;
	struct sb_transport_opts to = {0};
	struct sb_crypto *crypto = NULL, *dec = NULL;
	struct out u = {0};
	struct gate_args ga = {0};
	const char *target = NULL, *sign = NULL, *secret = NULL, *source = NULL;
	char archive[4096] = "", sign_fpr[41];
	bool quick = false, content = false, quiet = false;
	const char **excludes = calloc((size_t)argc + 1, sizeof(*excludes));
	size_t nexcludes = 0;
	int c, rc = 0, status;

	if (!excludes)
		return EXIT_INTERNAL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", verify_opts, NULL)) != -1) {
		if (target_option(c, optarg, &target, &to) || gate_option(c, optarg, &ga))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD: rc = limit_option("verify", c, optarg); break;
		case O_SIGN: sign = optarg; break;
		case O_SECRET: secret = optarg; break;
		case O_QUICK: quick = true; break;
		case O_SAMPLE:
			if (sb_sample_parse(optarg, &sample))
				rc = usage_error("verify",
						 "bad --sample '%s' (a share like 10%% or a size "
						 "like 500M)",
						 optarg);
			o.sample = &sample;
			break;
		case O_ARCHIVE: snprintf(archive, sizeof(archive), "%s", optarg); break;
		case O_CONTENT: content = true; break;
		case O_EXCLUDE: excludes[nexcludes++] = optarg; break;
		case O_JSON: break; /* main.c: json.h */
		case 'v': sb_log_set_level(SB_LOG_INFO); break;
		case 'q':
			quiet = true;
			sb_log_set_level(SB_LOG_ERR);
			break;
		case 'h':
			fputs(verify_usage, stdout);
			rc = -1;
			break;
		default: rc = bad_option("verify", argv); break;
		}
		if (rc)
			goto out;
	}
	if (!target)
		rc = usage_error("verify", "--target URL is required");
	else if (!sign)
		rc = usage_error("verify",
				 "--sign-key FPR is required (seals are checked against it)");
	else if (quick && o.sample)
		rc = usage_error("verify", "--quick reads no volume: give --quick or --sample");
	else if (content && !secret)
		rc = usage_error("verify",
				 "--content needs --secret-key FILE (it decrypts everything)");
	else if (content && optind == argc && cli_config_get("source"))
		source = cli_config_get("source");
	else if (content && optind == argc - 1)
		source = argv[optind];
	else if (content)
		rc = usage_error("verify", "--content needs one SOURCE folder to compare with");
	else if (optind != argc)
		rc = usage_error("verify", "unexpected argument '%s' (SOURCE goes with --content)",
				 argv[optind]);
	if (rc)
		goto out;
	if ((rc = open_user_crypto(&crypto)) || (rc = sb_crypto_key_fpr(crypto, sign, sign_fpr)))
		goto fail;
	/* unplugged: sealed sets verify with the public key alone */
	if (!content && secret_key_unplugged(secret, "unsealed sets' manifests not decrypted"))
		secret = NULL;
	if (secret && (rc = open_decrypt_crypto(secret, sign_fpr, NULL, &dec)))
		goto fail;
	if ((rc = sb_transport_open(target, &to, &o.target)))
		goto fail;
	if (!archive[0] && (rc = sb_archive_default_dir(sb_transport_describe(o.target), archive,
							sizeof(archive))))
		goto fail;
	ga.archive_dir = archive;
	ga.own_rollback = true;
	if ((rc = open_gate(o.target, dec ? dec : crypto, sign_fpr, &ga, &o.gate)))
		goto fail;
	o.crypto = crypto;
	o.sign_fpr = sign_fpr;
	o.archive_dir = archive;
	o.quick = quick;
	o.sample_seed = sb_sample_seed();
	o.decrypt = dec;
	o.report = on_problem;
	o.progress = on_progress;
	o.ctx = &u;
	u.quiet = quiet;
	if (cli_json())
		json_arr(cli_json(), "problems");
	progress_begin(quiet, "verifying", 0, 0);
	rc = sb_verify(&o, &st);
	progress_end();
	if (rc)
		goto fail;
	if (cli_json()) {
		json_end(cli_json());
		summary_json(cli_json(), &st, sb_transport_describe(o.target));
	} else if (!quiet) {
		summary(&st, sb_transport_describe(o.target));
	}
	status = verdict(&st);
	if (status)
		sb_error("verify: %s does not match its seals (exit %d; problems listed on stdout)",
			 sb_transport_describe(o.target), status);
	if (content) {
		struct sb_vcontent_opts co = {.gate = o.gate,
					      .target = o.target,
					      .crypto = dec,
					      .sign_fpr = sign_fpr,
					      .source = source,
					      .excludes = excludes,
					      .nexcludes = nexcludes,
					      .report = on_diff};
		uint64_t diffs = 0;

		if (cli_json())
			json_arr(cli_json(), "differences");
		progress_begin(quiet, "restoring to compare", 0, 0);
		rc = sb_vcontent(&co, &diffs);
		progress_end();
		if (rc)
			goto fail;
		if (cli_json()) {
			json_end(cli_json());
			json_u64(cli_json(), "content_differences", diffs);
		}
		printf("content: the newest snapshot and %s: %llu difference(s)\n", source,
		       (unsigned long long)diffs);
		if (diffs && !status) {
			status = EXIT_V_CONTENT;
			sb_error("verify: the newest snapshot on %s differs from %s",
				 sb_transport_describe(o.target), source);
		}
	}
	sb_gate_close(o.gate);
	sb_transport_close(o.target);
	sb_crypto_close(dec);
	sb_crypto_close(crypto);
	free(excludes);
	return status;
fail:
	sb_gate_close(o.gate);
	sb_transport_close(o.target);
	sb_crypto_close(dec);
	sb_crypto_close(crypto);
	rc = exit_status(rc);
out:
	free(excludes);
	return rc < 0 ? EXIT_OK : rc;
}
