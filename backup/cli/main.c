/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c - `sealbox <command>`: the command table and global setup. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/crypto.h"
#include "sealbox/log.h"
#include "cmds.h"
#include "config.h"
#include "json.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const struct option *opts; /* read from the config file too; NULL: not */
	const char *summary;
};

static const struct command commands[] = {
	{"backup", cmd_backup, backup_opts, "write a full or incremental backup of a folder"},
	{"restore", cmd_restore, restore_opts, "restore a snapshot, or one path of it"},
	{"keys", cmd_keys, NULL, "create the encryption and signing keys; check them"},
	{"snapshots", cmd_snapshots, snapshots_opts, "list the chains and sets on a target"},
	{"prune", cmd_prune, prune_opts, "remove old chains from a target"},
	{"mount", cmd_mount, mount_opts, "show every snapshot as a read-only folder (FUSE)"},
	{"umount", cmd_umount, NULL, "unmount a sealbox mount"},
	{"verify", cmd_verify, verify_opts,
	 "check the target against its seals (public keys only)"},
	{"ls", cmd_ls, ls_opts, "list a folder of a snapshot (no mount, no download when cached)"},
	{"find", cmd_find, find_opts, "which snapshots hold the paths matching a pattern"},
	{"diff", cmd_diff, diff_opts, "paths added, removed and changed between two snapshots"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/*
 * The config file's options go before the command line's (see config.h);
 * every command's long options are valid names in it.
 */
static int apply_config(const struct command *cmd, int *argc, char ***argv)
{
	const struct option *all[NCOMMANDS];
	size_t i, n = 0;

	for (i = 0; i < NCOMMANDS; i++)
		if (commands[i].opts)
			all[n++] = commands[i].opts;
	return cli_config_apply(cmd->opts, all, n, argc, argv);
}

int config_apply_for(const struct option *mine, int *argc, char ***argv)
{
	const struct command cmd = {.opts = mine};

	return apply_config(&cmd, argc, argv);
}

/* "sealbox --config FILE backup ...": move the global options after the command. */
static void global_options_last(int argc, char **argv)
{
	int skip = 0;
	char *a;

	while (1 + skip < argc) {
		if (!strcmp(argv[1 + skip], "--no-config") ||
		    !strncmp(argv[1 + skip], "--config=", 9))
			skip++;
		else if (!strcmp(argv[1 + skip], "--config") && 2 + skip < argc)
			skip += 2;
		else
			break;
	}
	if (!skip || 1 + skip >= argc)
		return;
	/* rotate argv[1 .. skip] behind the command at argv[1 + skip] */
	a = argv[1 + skip];
	memmove(argv + 2, argv + 1, (size_t)skip * sizeof(*argv));
	argv[1] = a;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sealbox [--config FILE | --no-config] <command> [options]\n\n"
		   "commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'sealbox <command> --help' describes a command; see sealbox(1).\n"
		   "Options may come from ~/.config/sealbox/sealbox.conf; see sealbox.conf(5).\n");
}

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	/* before any child: gpg-agents started on our behalf outlive us */
	if (sb_crypto_take_env_passphrases())
		return EXIT_INTERNAL;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	global_options_last(argc, argv);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("sealbox %s\n", SEALBOX_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		install_signal_handlers();
		opterr = 0; /* bad_option() reports them */
		argc--;
		argv++;
		/* --json: one document on stdout whatever happens (json.h) */
		if (cli_json_wanted(argc, argv) && (rc = cli_json_start(commands[i].name)))
			return rc;
		if (!commands[i].opts || !(rc = apply_config(&commands[i], &argc, &argv))) {
			/* 'json = yes' in the config file */
			if (!cli_json_on() && cli_json_wanted(argc, argv) &&
			    (rc = cli_json_start(commands[i].name)))
				return rc;
			rc = commands[i].fn(argc, argv);
		}
		if (fflush(stdout) != 0 || ferror(stdout)) {
			sb_error("cannot write to standard output");
			if (!rc)
				rc = EXIT_LOCAL;
		}
		return cli_json_finish(rc);
	}
	fprintf(stderr, "sealbox: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
