/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gpg_launcher.c - sealbox-gpg: gpg with the compression level sealbox
 * chose. gpgme can run any program as its gpg, but cannot pass gpg an
 * option; `sealbox backup` makes gpgme run this one, which runs the real
 * gpg ($SEALBOX_GPG, an absolute path) with `--compress-level
 * $SEALBOX_GPG_COMPRESS_LEVEL` before gpgme's own arguments. Descriptors,
 * environment and exit status are gpg's: nothing else is changed.
 *
 * Run any other way (either variable missing or malformed) it refuses,
 * exit status 2, rather than guess which gpg was meant.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *gpg = getenv("SEALBOX_GPG");
	const char *level = getenv("SEALBOX_GPG_COMPRESS_LEVEL");
	char **args;
	int i;

	if (!gpg || gpg[0] != '/' || !level || level[0] < '0' || level[0] > '9' || level[1]) {
		fputs("sealbox-gpg: runs gpg for sealbox backup (SEALBOX_GPG and "
		      "SEALBOX_GPG_COMPRESS_LEVEL), not by hand\n",
		      stderr);
		return 2;
	}
	args = calloc((size_t)argc + 3, sizeof(*args));
	if (!args) {
		fputs("sealbox-gpg: out of memory\n", stderr);
		return 2;
	}
	args[0] = (char *)"gpg"; /* as gpg names itself, whatever gpgme called it */
	args[1] = (char *)"--compress-level";
	args[2] = (char *)level;
	for (i = 1; i < argc; i++)
		args[i + 2] = argv[i];
	execv(gpg, args);
	fprintf(stderr, "sealbox-gpg: cannot run %s: %s\n", gpg, strerror(errno));
	return 2;
}
