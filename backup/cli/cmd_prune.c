/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_prune.c - `sealbox prune`: remove old chains, whole, from the target
 * and from the archive dir. Like duplicity's remove-all-but-n-full and
 * remove-older-than, but the newest chain always stays.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/archive.h"
#include "sealbox/chain.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/pruned.h"
#include "sealbox/retention.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "config.h"
#include "json.h"
#include "runlog.h"

static const char prune_usage[] =
	"usage: sealbox prune --target URL [--keep-chains N] [--keep-within AGE]\n"
	"                     [--keep-daily N] [--keep-weekly N] [--keep-monthly N]\n"
	"                     [--keep-yearly N] [--dry-run] [--archive-dir DIR]\n"
	"                     [--ssh-key FILE] [--known-hosts FILE]\n"
	"                     [--accept-new-host-key] [--sign-key FPR] [--allow-unsigned]\n"
	"                     [--limit-upload RATE] [--limit-download RATE]\n"
	"                     [--allow-unsealed] [--expect-seal HASH] [--log-file FILE]\n"
	"                     [--syslog] [--json] [-v | -q]\n"
	"       sealbox prune --target URL --older-than AGE [--dry-run] ...\n"
	"\n"
	"Removes old backup chains (a full set and its incrementals), whole, from the target\n"
	"and their local copies from the archive dir. The newest chain always stays, and a\n"
	"chain is never cut: every snapshot kept can still be restored. No key is needed;\n"
	"with --sign-key (or sign-key in the config file) every chain kept is checked\n"
	"first (seals, signatures, links), and nothing is removed unless they all pass.\n"
	"The keep rules add up: a chain any of them keeps stays, the others go. A chain's\n"
	"time is the end of its newest set; --dry-run shows each chain and why.\n"
	"  --target URL          file:///abs/path, a plain path,\n"
	"                        sftp://user@host[:port]/abs/path or s3://BUCKET/PREFIX\n"
	"  --keep-chains N       keep the newest N chains (N >= 1)\n"
	"  --keep-within AGE     keep the chains at most AGE older than the newest (e.g. 2W)\n"
	"  --keep-daily N        keep the newest chain of each of the last N days that have\n"
	"                        one (local time); --keep-weekly N (ISO weeks),\n"
	"                        --keep-monthly N, --keep-yearly N likewise\n"
	"  --older-than AGE      alone: remove the chains whose newest set is older than\n"
	"                        AGE (e.g. 6M, 1Y; Y=365 days, M=30 days)\n"
	"  --dry-run             list each chain, kept or not and why; remove nothing\n"
	"  --sign-key FPR        check the chains kept against this signing key first\n"
	"  --allow-unsigned, --allow-unsealed, --expect-seal HASH: as for restore\n"
	"  --archive-dir DIR     local signatures and state (default ~/.cache/sealbox/...)\n"
	"  --ssh-key FILE        sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                        default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE    sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --s3-endpoint URL     s3: the store (default $AWS_ENDPOINT_URL, else AWS)\n"
	"                        also --s3-addressing, --s3-retries, --s3-part-size,\n"
	"                        --s3-timeout (sealbox(1))\n"
	"  --limit-upload RATE, --limit-download RATE\n"
	"                        all uploads (downloads) together at most RATE bytes/s\n"
	"                        (500K, 2M, 1.5MiB/s; K, M, G: 1024-based; 0: no limit)\n"
	"  --accept-new-host-key sftp: add an unknown host key (never a changed one)\n"
	"  --log-file FILE       append one line about the run, and one per\n"
	"                        error or warning, to FILE\n"
	"  --syslog              one line about the run, and errors, to syslog\n"
	"  --json                one JSON document on stdout: exit status, error, the\n"
	"                        chains removed (see sealbox(1))\n"
	"  -v, --verbose         name every file removed;  -q, --quiet  errors only\n";

enum {
	O_KEEP = 256,
	O_OLDER,
	O_WITHIN,
	O_DAILY,
	O_WEEKLY,
	O_MONTHLY,
	O_YEARLY,
	O_DRY,
	O_ARCHIVE,
	O_LOG_FILE,
	O_SYSLOG,
	O_SIGN,
	O_JSON,
};

const struct option prune_opts[] = {
	TARGET_OPTIONS,
	GATE_OPTIONS,
	{"sign-key", required_argument, NULL, O_SIGN},
	{"keep-chains", required_argument, NULL, O_KEEP},
	{"older-than", required_argument, NULL, O_OLDER},
	{"keep-within", required_argument, NULL, O_WITHIN},
	{"keep-daily", required_argument, NULL, O_DAILY},
	{"keep-weekly", required_argument, NULL, O_WEEKLY},
	{"keep-monthly", required_argument, NULL, O_MONTHLY},
	{"keep-yearly", required_argument, NULL, O_YEARLY},
	{"dry-run", no_argument, NULL, O_DRY},
	{"archive-dir", required_argument, NULL, O_ARCHIVE},
	{"log-file", required_argument, NULL, O_LOG_FILE},
	{"syslog", no_argument, NULL, O_SYSLOG},
	{"json", no_argument, NULL, O_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct prune {
	struct sb_transport *t;
	const char *archive; /* archive dir */
	bool dry, quiet, verbose;
	unsigned long long files, bytes, sets;
};

/* The size of a remote file from the listing, 0 if not there. */
static uint64_t remote_size(const struct sb_dirent_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return l->sizes[i];
	return 0;
}

static int remove_remote(struct prune *p, const struct sb_dirent_list *l, const char *name)
{
	int rc = 0;

	if (p->dry || p->verbose)
		printf("  %s%s\n", p->dry ? "" : "removing ", name);
	if (!p->dry)
		rc = sb_transport_delete(p->t, name);
	if (!rc) {
		p->files++;
		p->bytes += remote_size(l, name);
	}
	return rc;
}

static void remove_local(struct prune *p, const struct sb_set *s, enum sb_file_kind kind)
{
	char name[256], path[4400];

	if (sb_archive_name(s, kind, name, sizeof(name)))
		return;
	snprintf(path, sizeof(path), "%s/%s", p->archive, name);
	if (access(path, F_OK))
		return;
	if (p->dry || p->verbose)
		printf("  %s%s\n", p->dry ? "" : "removing ", sb_log_str(path, strlen(path)));
	if (!p->dry && unlink(path) && errno != ENOENT)
		sb_warn("cannot remove %s: %s", sb_log_str(path, strlen(path)), strerror(errno));
}

/*
 * One set: the manifest first (after a crash the set is incomplete, never
 * complete with volumes missing), then the rest, then the local copies.
 */
static int remove_set(struct prune *p, const struct sb_dirent_list *l, const struct sb_set *s)
{
	size_t max = (size_t)s->nvols + 4, n, i;
	const char **names = malloc(max * sizeof(*names));
	int rc = 0;

	if (!names)
		return SB_ERR_NOMEM;
	n = sb_set_files(s, names, max);
	if (s->manifest)
		rc = remove_remote(p, l, s->manifest);
	for (i = 0; i < n && !rc; i++)
		if (names[i] != s->manifest)
			rc = remove_remote(p, l, names[i]);
	free(names);
	if (rc)
		return rc;
	remove_local(p, s, SB_KIND_MANIFEST);
	remove_local(p, s, SB_KIND_SIG);
	p->sets++;
	return 0;
}

/* A chain, newest set first: what is left after a crash is still a chain. */
static int remove_chain(struct prune *p, const struct sb_dirent_list *l, const struct sb_chain *ch,
			size_t no, const char *why)
{
	char a[21], b[21];
	size_t j;
	int rc = 0;

	sb_time_format_iso(sb_chain_start(ch), a);
	sb_time_format_iso(sb_chain_end(ch), b);
	if (cli_json()) {
		json_obj(cli_json(), NULL); /* in the "removed" array */
		json_str(cli_json(), "start", a);
		json_str(cli_json(), "end", b);
		json_u64(cli_json(), "sets", ch->nsets);
		json_str(cli_json(), "reason", why);
		json_end(cli_json());
	} else if (!p->quiet || p->dry)
		printf("%s chain %zu: %s .. %s, %zu set(s): %s\n",
		       p->dry ? "Would remove" : "Removing", no, a, b, ch->nsets, why);
	for (j = ch->nsets; j-- > 0 && !rc;)
		rc = remove_set(p, l, &ch->sets[j]);
	return rc;
}

static void print_kept(const struct sb_chain *ch, size_t no, const char *why)
{
	char a[21], b[21];

	sb_time_format_iso(sb_chain_start(ch), a);
	sb_time_format_iso(sb_chain_end(ch), b);
	printf("Keeping chain %zu: %s .. %s, %zu set(s): %s\n", no, a, b, ch->nsets, why);
}

static const char *opt_name(int val)
{
	const struct option *o;

	for (o = prune_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

/* --older-than is duplicity's rule; the keep rules do not mix with it. */
static bool older_alone(const struct sb_retention_policy *pol)
{
	struct sb_retention_policy k = *pol;

	k.older_than = -1;
	return !sb_retention_policy_any(&k);
}

int cmd_prune(int argc, char **argv)
{
	struct sb_transport_opts to = {0};
	struct prune p = {0};
	struct runlog_opts lo = {0};
	struct run_locks locks = {0};
	struct sb_crypto *crypto = NULL;
	struct sb_gate *g = NULL;
	struct gate_args ga = {0};
	const struct sb_dirent_list *l;
	const struct sb_collection *cp;
	const char *sign = NULL;
	char sign_fpr[41];
	const char *target = NULL;
	char archive[4096] = "", summary[256] = "";
	struct sb_retention_policy pol[2]; /* [1]: the config file's rules */
	struct sb_retention_chain *plan = NULL;
	struct sb_catalog *cat = NULL;
	char why[512];
	unsigned long long n;
	bool ff;
	size_t i, ndel = 0;
	int c, rc = 0;

	sb_retention_policy_init(&pol[0]);
	sb_retention_policy_init(&pol[1]);

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", prune_opts, NULL)) != -1) {
		if (target_option(c, optarg, &target, &to) || gate_option(c, optarg, &ga))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD:
			if ((rc = limit_option("prune", c, optarg)))
				return rc;
			break;
		case O_SIGN: sign = optarg; break;
		case O_KEEP:
		case O_DAILY:
		case O_WEEKLY:
		case O_MONTHLY:
		case O_YEARLY:
			ff = cli_config_from_file(optind - 1);
			if (!parse_uint(optarg, &n) || n == 0 || n > 1000000)
				return usage_error("prune", "bad --%s '%s' (1 or more)",
						   opt_name(c), optarg);
			*(c == O_KEEP	   ? &pol[ff].keep_chains
			  : c == O_DAILY   ? &pol[ff].daily
			  : c == O_WEEKLY  ? &pol[ff].weekly
			  : c == O_MONTHLY ? &pol[ff].monthly
					   : &pol[ff].yearly) = (unsigned)n;
			break;
		case O_OLDER:
		case O_WITHIN:
			ff = cli_config_from_file(optind - 1);
			if (sb_age_parse(optarg,
					 c == O_OLDER ? &pol[ff].older_than : &pol[ff].within))
				return usage_error("prune", "bad --%s '%s' (an AGE: 6M, 2W, 1Y)",
						   opt_name(c), optarg);
			break;
		case O_DRY: p.dry = true; break;
		case O_ARCHIVE: snprintf(archive, sizeof(archive), "%s", optarg); break;
		case O_LOG_FILE: lo.log_file = optarg; break;
		case O_SYSLOG: lo.syslog = true; break;
		case O_JSON: break; /* main.c: json.h */
		case 'v':
			p.verbose = true;
			sb_log_set_level(SB_LOG_INFO);
			break;
		case 'q':
			p.quiet = true;
			sb_log_set_level(SB_LOG_ERR);
			break;
		case 'h': fputs(prune_usage, stdout); return EXIT_OK;
		default: return bad_option("prune", argv);
		}
	}
	/* rules on the command line replace the config file's */
	if (!sb_retention_policy_any(&pol[0]))
		pol[0] = pol[1];
	if (!target)
		return usage_error("prune", "--target URL is required");
	if (!sb_retention_policy_any(&pol[0]))
		return usage_error("prune",
				   "give --keep-chains N, --keep-within AGE, "
				   "--keep-daily N (weekly, monthly, yearly) or --older-than AGE");
	if (pol[0].older_than >= 0 && !older_alone(&pol[0]))
		return usage_error("prune", "--older-than AGE goes alone, not with --keep-* rules");
	if (optind != argc)
		return usage_error("prune", "unexpected argument '%s'", argv[optind]);
	if ((rc = runlog_begin("prune", &lo)))
		return rc;
	if ((rc = sb_transport_open(target, &to, &p.t)))
		goto out;
	if (!archive[0] &&
	    (rc = sb_archive_default_dir(sb_transport_describe(p.t), archive, sizeof(archive))))
		goto out;
	p.archive = archive;
	if (!p.dry && (rc = run_locks_take(archive, p.t, &locks)))
		goto out;
	/* listed under the lock: no backup is half-way */
	ga.archive_dir = archive;
	if (sign &&
	    ((rc = open_user_crypto(&crypto)) || (rc = sb_crypto_key_fpr(crypto, sign, sign_fpr))))
		goto out;
	if ((rc = open_gate(p.t, crypto, sign ? sign_fpr : NULL, &ga, &g)))
		goto out;
	l = sb_gate_listing(g);
	cp = sb_gate_collection(g);
	if (!cp->nchains) {
		sb_error("target %s holds no backup chain", sb_transport_describe(p.t));
		rc = SB_ERR_NOTFOUND;
		goto out;
	}
	/* never the newest chain; a chain is removed whole or not at all */
	if ((rc = sb_retention_plan(&pol[0], cp, time(NULL), &plan)))
		goto out;
	for (i = 0; i < cp->nchains; i++)
		ndel += !plan[i].keep;
	/* the chains kept must prove themselves before any other is removed */
	for (i = 0; sign && i < cp->nchains && !rc; i++)
		if (plan[i].keep && (rc = sb_gate_prove(g, &cp->chains[i], cp->chains[i].nsets)))
			sb_error("prune: removing nothing from %s, a chain kept does not check out",
				 sb_transport_describe(p.t));
	/* verify tells chains removed here from a cut by their seals (pruned.h) */
	if (!rc && ndel && !p.dry && (rc = sb_catalog_open(archive, &cat)))
		goto out;
	if (cli_json()) {
		json_str(cli_json(), "target", sb_transport_describe(p.t));
		json_bool(cli_json(), "dry_run", p.dry);
		json_arr(cli_json(), "removed");
	}
	for (i = 0; i < cp->nchains && !rc; i++) {
		sb_retention_reason(&pol[0], &plan[i], why, sizeof(why));
		if (!plan[i].keep && (p.dry || !(rc = sb_pruned_remember(cat, g, &cp->chains[i]))))
			rc = remove_chain(&p, l, &cp->chains[i], i + 1, why);
		else if (!cli_json() && (!p.quiet || p.dry))
			print_kept(&cp->chains[i], i + 1, why);
	}
	if (cli_json()) {
		json_end(cli_json());
		json_u64(cli_json(), "chains_removed", ndel);
		json_u64(cli_json(), "sets_removed", p.sets);
		json_u64(cli_json(), "files_removed", p.files);
		json_u64(cli_json(), "bytes_removed", p.bytes);
		json_u64(cli_json(), "chains_kept", cp->nchains - ndel);
	} else if (!rc && (!p.quiet || p.dry)) {
		if (!ndel)
			printf("Nothing to remove: %zu chain(s) on %s, all kept.\n", cp->nchains,
			       sb_transport_describe(p.t));
		else
			printf("%s %zu chain(s), %llu set(s), %llu file(s), %llu bytes; %zu chain(s) "
			       "kept.\n",
			       p.dry ? "Would remove" : "Removed", ndel, p.sets, p.files, p.bytes,
			       cp->nchains - ndel);
	}
	snprintf(summary, sizeof(summary),
		 "%s%zu chain(s), %llu set(s), %llu file(s), %llu bytes "
		 "removed; %zu kept",
		 p.dry ? "dry run: " : "", ndel, p.sets, p.files, p.bytes, cp->nchains - ndel);
out:
	free(plan);
	sb_catalog_close(cat);
	sb_gate_close(g);
	run_locks_release(&locks);
	sb_transport_close(p.t);
	sb_crypto_close(crypto);
	rc = exit_status(rc);
	runlog_end(rc, summary);
	return rc;
}
