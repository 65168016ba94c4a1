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
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "config.h"
#include "runlog.h"

static const char prune_usage[] =
	"usage: sealbox prune --target URL (--keep-chains N | --older-than AGE) [--dry-run]\n"
	"                     [--archive-dir DIR] [--ssh-key FILE] [--known-hosts FILE]\n"
	"                     [--accept-new-host-key] [--sign-key FPR] [--allow-unsigned]\n"
	"                     [--allow-unsealed] [--expect-seal HASH] [--log-file FILE]\n"
	"                     [--syslog] [-v | -q]\n"
	"\n"
	"Removes old backup chains (a full set and its incrementals), whole, from the target\n"
	"and their local copies from the archive dir. The newest chain always stays, and a\n"
	"chain is never cut: every snapshot kept can still be restored. No key is needed;\n"
	"with --sign-key (or sign-key in the config file) every chain kept is checked\n"
	"first (seals, signatures, links), and nothing is removed unless they all pass.\n"
	"  --target URL          file:///abs/path, a plain path,\n"
	"                        sftp://user@host[:port]/abs/path or s3://BUCKET/PREFIX\n"
	"  --keep-chains N       keep the newest N chains (N >= 1), remove the older ones\n"
	"  --older-than AGE      remove the chains whose newest set is older than AGE\n"
	"                        (e.g. 6M, 1Y; Y=365 days, M=30 days)\n"
	"  --dry-run             list what would be removed; remove nothing\n"
	"  --sign-key FPR        check the chains kept against this signing key first\n"
	"  --allow-unsigned, --allow-unsealed, --expect-seal HASH: as for restore\n"
	"  --archive-dir DIR     local signatures and state (default ~/.cache/sealbox/...)\n"
	"  --ssh-key FILE        sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                        default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE    sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --s3-endpoint URL     s3: the store (default $AWS_ENDPOINT_URL, else AWS)\n"
	"                        also --s3-addressing, --s3-retries, --s3-part-size,\n"
	"                        --s3-timeout (sealbox(1))\n"
	"  --accept-new-host-key sftp: add an unknown host key (never a changed one)\n"
	"  --log-file FILE       append one line about the run, and one per\n"
	"                        error or warning, to FILE\n"
	"  --syslog              one line about the run, and errors, to syslog\n"
	"  -v, --verbose         name every file removed;  -q, --quiet  errors only\n";

enum {
	O_KEEP = 256,
	O_OLDER,
	O_DRY,
	O_ARCHIVE,
	O_LOG_FILE,
	O_SYSLOG,
	O_SIGN,
};

const struct option prune_opts[] = {
	TARGET_OPTIONS,
	GATE_OPTIONS,
	{"sign-key", required_argument, NULL, O_SIGN},
	{"keep-chains", required_argument, NULL, O_KEEP},
	{"older-than", required_argument, NULL, O_OLDER},
	{"dry-run", no_argument, NULL, O_DRY},
	{"archive-dir", required_argument, NULL, O_ARCHIVE},
	{"log-file", required_argument, NULL, O_LOG_FILE},
	{"syslog", no_argument, NULL, O_SYSLOG},
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
			size_t no)
{
	char a[21], b[21];
	size_t j;
	int rc = 0;

	sb_time_format_iso(sb_chain_start(ch), a);
	sb_time_format_iso(sb_chain_end(ch), b);
	if (!p->quiet || p->dry)
		printf("%s chain %zu: %s .. %s, %zu set(s)\n", p->dry ? "Would remove" : "Removing",
		       no, a, b, ch->nsets);
	for (j = ch->nsets; j-- > 0 && !rc;)
		rc = remove_set(p, l, &ch->sets[j]);
	return rc;
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
	unsigned long long keep = 0;
	long long older = -1;
	bool keep_file = false, older_file = false; /* from the config file */
	size_t i, ndel = 0;
	bool *del = NULL;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", prune_opts, NULL)) != -1) {
		if (target_option(c, optarg, &target, &to) || gate_option(c, optarg, &ga))
			continue;
		switch (c) {
		case O_SIGN: sign = optarg; break;
		case O_KEEP:
			if (!parse_uint(optarg, &keep) || keep == 0)
				return usage_error("prune", "bad --keep-chains '%s' (1 or more)",
						   optarg);
			keep_file = cli_config_from_file(optind - 1);
			break;
		case O_OLDER:
			if (sb_age_parse(optarg, &older))
				return usage_error("prune", "bad --older-than '%s'", optarg);
			older_file = cli_config_from_file(optind - 1);
			break;
		case O_DRY: p.dry = true; break;
		case O_ARCHIVE: snprintf(archive, sizeof(archive), "%s", optarg); break;
		case O_LOG_FILE: lo.log_file = optarg; break;
		case O_SYSLOG: lo.syslog = true; break;
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
	/* one rule from the command line replaces the config file's other one */
	if (keep && older >= 0 && keep_file != older_file) {
		if (keep_file)
			keep = 0;
		else
			older = -1;
	}
	if (!target)
		return usage_error("prune", "--target URL is required");
	if (!keep && older < 0)
		return usage_error("prune", "give --keep-chains N or --older-than AGE");
	if (keep && older >= 0)
		return usage_error("prune", "give --keep-chains N or --older-than AGE, not both");
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
	if (!(del = calloc(cp->nchains, sizeof(*del)))) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	/* never the newest chain; a chain is removed whole or not at all */
	for (i = 0; i + 1 < cp->nchains; i++) {
		if (keep)
			del[i] = i + keep < cp->nchains;
		else
			del[i] = (long long)sb_chain_end(&cp->chains[i]) <
				 (long long)time(NULL) - older;
		ndel += del[i];
	}
	/* the chains kept must prove themselves before any other is removed */
	for (i = 0; sign && i < cp->nchains && !rc; i++)
		if (!del[i] && (rc = sb_gate_prove(g, &cp->chains[i], cp->chains[i].nsets)))
			sb_error("prune: removing nothing from %s, a chain kept does not check out",
				 sb_transport_describe(p.t));
	for (i = 0; i < cp->nchains && !rc; i++)
		if (del[i])
			rc = remove_chain(&p, l, &cp->chains[i], i + 1);
	if (!rc && (!p.quiet || p.dry)) {
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
	free(del);
	sb_gate_close(g);
	run_locks_release(&locks);
	sb_transport_close(p.t);
	sb_crypto_close(crypto);
	rc = exit_status(rc);
	runlog_end(rc, summary);
	return rc;
}
