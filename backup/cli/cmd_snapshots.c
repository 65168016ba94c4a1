/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_snapshots.c - `sealbox snapshots`: the chains and sets on a target,
 * from the listing alone (no key needed), like duplicity collection-status.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sealbox/chain.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "runlog.h"

static const char snapshots_usage[] =
	"usage: sealbox snapshots --target URL [--sign-key FPR] [--json] [-v | -q]\n"
	"                         [--ssh-key FILE] [--known-hosts FILE] [--accept-new-host-key]\n"
	"\n"
	"Lists the backup chains and sets on the target (no key needed).\n"
	"  --target URL   file:///abs/path, a plain path, or\n"
	"                 sftp://user@host[:port]/abs/path\n"
	"  --ssh-key FILE sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                 default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE     sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --accept-new-host-key  sftp: add an unknown host key (never a changed one)\n"
	"  --sign-key FPR accepted for symmetry with the other commands\n"
	"  --json         machine-readable output\n"
	"  -v, --verbose  more messages;  -q, --quiet  no warnings (the list is printed)\n"
	"Options may come from the config file, sealbox.conf(5).\n";

enum { O_SIGN = 256, O_JSON };

const struct option snapshots_opts[] = {
	TARGET_OPTIONS,
	{"sign-key", required_argument, NULL, O_SIGN},
	{"json", no_argument, NULL, O_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void print_set_text(const struct sb_set *s)
{
	char t[21];

	sb_time_format_iso(s->t1, t);
	printf("  %-12s %s  %5u  %12llu\n", s->full ? "full" : "incremental", t, s->nvols,
	       (unsigned long long)s->bytes);
}

static void print_set_json(const struct sb_set *s, bool last)
{
	char t[21];

	sb_time_format_iso(s->t1, t);
	printf("      {\"type\": \"%s\", \"time\": \"%s\", \"volumes\": %u, \"bytes\": %llu, "
	       "\"encrypted\": %s}%s\n",
	       s->full ? "full" : "incremental", t, s->nvols, (unsigned long long)s->bytes,
	       s->encrypted ? "true" : "false", last ? "" : ",");
}

int cmd_snapshots(int argc, char **argv)
{
	struct sb_transport_opts to = {0};
	struct sb_transport *t = NULL;
	struct sb_dirent_list l = {0};
	struct sb_collection coll = {0};
	const char *target = NULL;
	char a[21], b[21];
	bool json = false;
	size_t i, j;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", snapshots_opts, NULL)) != -1) {
		if (target_option(c, optarg, &target, &to))
			continue;
		switch (c) {
		case O_SIGN: break;
		case O_JSON: json = true; break;
		case 'v': sb_log_set_level(SB_LOG_INFO); break;
		case 'q': sb_log_set_level(SB_LOG_ERR); break;
		case 'h': fputs(snapshots_usage, stdout); return EXIT_OK;
		default: return bad_option("snapshots", argv);
		}
	}
	if (!target)
		return usage_error("snapshots", "--target URL is required");
	if (optind != argc)
		return usage_error("snapshots", "unexpected argument '%s'", argv[optind]);
	rc = sb_transport_open(target, &to, &t);
	if (!rc)
		rc = sb_transport_list(t, &l);
	if (!rc)
		rc = sb_collection_build(&l, &coll);
	if (rc)
		goto out;
	if (json) {
		printf("{\n  \"target\": ");
		json_str(stdout, sb_transport_describe(t));
		printf(",\n  \"chains\": [\n");
		for (i = 0; i < coll.nchains; i++) {
			printf("    {\"sets\": [\n");
			for (j = 0; j < coll.chains[i].nsets; j++)
				print_set_json(&coll.chains[i].sets[j],
					       j + 1 == coll.chains[i].nsets);
			printf("    ]}%s\n", i + 1 == coll.nchains ? "" : ",");
		}
		printf("  ],\n  \"incomplete_sets\": %zu,\n  \"orphaned_sets\": %zu\n}\n",
		       coll.nincomplete, coll.norphans);
		goto out;
	}
	printf("Target: %s\n", sb_transport_describe(t));
	printf("Backup chains: %zu\n", coll.nchains);
	for (i = 0; i < coll.nchains; i++) {
		const struct sb_chain *ch = &coll.chains[i];

		sb_time_format_iso(sb_chain_start(ch), a);
		sb_time_format_iso(sb_chain_end(ch), b);
		printf("\nChain %zu: %s .. %s, %zu set(s)%s\n", i + 1, a, b, ch->nsets,
		       i + 1 == coll.nchains ? " (current)" : "");
		printf("  %-12s %-20s  %5s  %12s\n", "Type", "Time", "Vols", "Bytes");
		for (j = 0; j < ch->nsets; j++)
			print_set_text(&ch->sets[j]);
	}
	if (coll.nincomplete)
		printf("\nIncomplete sets (interrupted backups, ignored): %zu\n", coll.nincomplete);
	if (coll.norphans)
		printf("\nOrphaned incremental sets (no chain to attach to): %zu\n", coll.norphans);
	if (!coll.nchains)
		printf("No backups.\n");
out:
	sb_collection_release(&coll);
	sb_dirent_list_release(&l);
	sb_transport_close(t);
	return exit_status(rc);
}
