/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_snapshots.c - `sealbox snapshots`: the chains and sets on a target,
 * like duplicity collection-status. The listing passes the gate (gate.h);
 * with --sign-key every chain is also proven (seals, with the public key
 * alone) and marked so.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/chain.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "json.h"

static const char snapshots_usage[] =
	"usage: sealbox snapshots --target URL [--sign-key FPR] [--json] [-v | -q]\n"
	"                         [--ssh-key FILE] [--known-hosts FILE] [--accept-new-host-key]\n"
	"                         [--limit-upload RATE] [--limit-download RATE]\n"
	"                         [--allow-unsigned] [--allow-unsealed] [--expect-seal HASH]\n"
	"\n"
	"Lists the backup chains and sets on the target; with --sign-key, each chain is\n"
	"also checked (seals, signatures, links: the public key alone).\n"
	"  --target URL   file:///abs/path, a plain path,\n"
	"                 sftp://user@host[:port]/abs/path or s3://BUCKET/PREFIX\n"
	"  --ssh-key FILE sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                 default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE     sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --s3-endpoint URL      s3: the store (default $AWS_ENDPOINT_URL, else AWS)\n"
	"                         also --s3-addressing, --s3-retries, --s3-part-size,\n"
	"                         --s3-timeout (sealbox(1))\n"
	"  --limit-upload RATE, --limit-download RATE\n"
	"                         all uploads (downloads) together at most RATE bytes/s\n"
	"                         (500K, 2M, 1.5MiB/s; K, M, G: 1024-based; 0: no limit)\n"
	"  --accept-new-host-key  sftp: add an unknown host key (never a changed one)\n"
	"  --sign-key FPR check every chain against this signing key's seals\n"
	"  --allow-unsigned, --allow-unsealed, --expect-seal HASH: as for restore\n"
	"  --json         one JSON document on stdout (see sealbox(1))\n"
	"  -v, --verbose  more messages;  -q, --quiet  no warnings (the list is printed)\n"
	"Options may come from the config file, sealbox.conf(5).\n";

enum { O_SIGN = 256, O_JSON };

const struct option snapshots_opts[] = {
	TARGET_OPTIONS,
	GATE_OPTIONS,
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

static void print_json(struct json *j, const char *target, const struct sb_collection *cp,
		       const int *proof)
{
	size_t i, k;

	json_str(j, "target", target);
	json_arr(j, "chains");
	for (i = 0; i < cp->nchains; i++) {
		json_obj(j, NULL);
		json_arr(j, "sets");
		for (k = 0; k < cp->chains[i].nsets; k++) {
			const struct sb_set *s = &cp->chains[i].sets[k];

			json_obj(j, NULL);
			json_str(j, "type", s->full ? "full" : "incremental");
			json_time(j, "time", s->t1);
			json_u64(j, "volumes", s->nvols);
			json_u64(j, "bytes", s->bytes);
			json_bool(j, "encrypted", s->encrypted);
			json_end(j);
		}
		json_end(j);
		if (proof)
			json_bool(j, "checked", !proof[i]);
		else
			json_null(j, "checked");
		json_end(j);
	}
	json_end(j);
	json_u64(j, "incomplete_sets", cp->nincomplete);
	json_u64(j, "orphaned_sets", cp->norphans);
}

int cmd_snapshots(int argc, char **argv)
{
	struct sb_transport_opts to = {0};
	struct sb_transport *t = NULL;
	struct sb_crypto *crypto = NULL;
	struct sb_gate *g = NULL;
	struct gate_args ga = {0};
	const struct sb_collection *cp;
	const char *target = NULL, *sign = NULL;
	char a[21], b[21], sign_fpr[41];
	int *proof = NULL; /* per chain: 0 proven, else its error; NULL: not checked */
	size_t i, j;
	int c, rc, bad = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", snapshots_opts, NULL)) != -1) {
		if (target_option(c, optarg, &target, &to) || gate_option(c, optarg, &ga))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD:
			if ((rc = limit_option("snapshots", c, optarg)))
				return rc;
			break;
		case O_SIGN: sign = optarg; break;
		case O_JSON: break; /* main.c: json.h */
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
	if (sign &&
	    ((rc = open_user_crypto(&crypto)) || (rc = sb_crypto_key_fpr(crypto, sign, sign_fpr))))
		goto out;
	rc = sb_transport_open(target, &to, &t);
	if (!rc)
		rc = open_gate(t, crypto, sign ? sign_fpr : NULL, &ga, &g);
	if (rc)
		goto out;
	cp = sb_gate_collection(g);
	if (sign) {
		if (!(proof = calloc(cp->nchains ? cp->nchains : 1, sizeof(*proof)))) {
			rc = SB_ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < cp->nchains; i++)
			if ((proof[i] = sb_gate_prove(g, &cp->chains[i], cp->chains[i].nsets)) &&
			    !bad)
				bad = proof[i];
	}
	if (cli_json()) {
		print_json(cli_json(), sb_transport_describe(t), cp, proof);
		goto out;
	}
	printf("Target: %s\n", sb_transport_describe(t));
	printf("Backup chains: %zu\n", cp->nchains);
	for (i = 0; i < cp->nchains; i++) {
		const struct sb_chain *ch = &cp->chains[i];

		sb_time_format_iso(sb_chain_start(ch), a);
		sb_time_format_iso(sb_chain_end(ch), b);
		printf("\nChain %zu: %s .. %s, %zu set(s)%s%s\n", i + 1, a, b, ch->nsets,
		       i + 1 == cp->nchains ? " (current)" : "",
		       !proof	  ? ""
		       : proof[i] ? ", NOT PROVEN (see the error above)"
				  : ", checked");
		printf("  %-12s %-20s  %5s  %12s\n", "Type", "Time", "Vols", "Bytes");
		for (j = 0; j < ch->nsets; j++)
			print_set_text(&ch->sets[j]);
	}
	if (cp->nincomplete)
		printf("\nIncomplete sets (interrupted backups, ignored): %zu\n", cp->nincomplete);
	if (cp->norphans)
		printf("\nOrphaned incremental sets (no chain to attach to): %zu\n", cp->norphans);
	if (!cp->nchains)
		printf("No backups.\n");
out:
	free(proof);
	sb_gate_close(g);
	sb_transport_close(t);
	sb_crypto_close(crypto);
	return exit_status(rc ? rc : bad);
}
