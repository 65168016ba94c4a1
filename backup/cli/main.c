/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c - `sealbox <command>`: the command table and global setup. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/log.h"
#include "cmds.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"backup", cmd_backup, "write a full or incremental backup of a folder"},
	{"restore", cmd_restore, "restore a snapshot, or one path of it"},
	{"keys", cmd_keys, "create the encryption and signing keys; check them"},
	{"snapshots", cmd_snapshots, "list the chains and sets on a target"},
	{"mount", cmd_mount, "show every snapshot as a read-only folder (FUSE)"},
	{"umount", cmd_umount, "unmount a sealbox mount"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sealbox <command> [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'sealbox <command> --help' describes a command; see sealbox(1).\n");
}

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
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
		rc = commands[i].fn(argc - 1, argv + 1);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			sb_error("cannot write to standard output");
			if (!rc)
				rc = EXIT_LOCAL;
		}
		return rc;
	}
	fprintf(stderr, "sealbox: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
