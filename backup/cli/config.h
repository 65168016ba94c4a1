/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.h - sealbox.conf(5) for the commands: the file's options are put
 * before the command line's, so getopt_long sees both and the command line
 * wins (single values: the last one counts; lists such as --exclude: the
 * command line's are added to the file's).
 */
#ifndef SEALBOX_CLI_CONFIG_H
#define SEALBOX_CLI_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Take --config FILE, --config=FILE and --no-config out of argv (before
 * "--"); load FILE (which must exist) or the default file (if it exists);
 * check every name against the long options of all commands (all[0..nall))
 * plus "source"; then, when mine is not NULL, replace argc and argv by
 * argv[0], the file's options that mine accepts, argv[1..]. Returns 0 or an
 * exit status (errors name FILE:LINE). The new argv lives until exit.
 */
int cli_config_apply(const struct option *mine, const struct option *const *all, size_t nall,
		     int *argc, char ***argv);

/* The file's value of a name that is no option ("source"), or NULL. */
const char *cli_config_get(const char *name);

/* Did argv[i] (of the argv cli_config_apply made) come from the file? */
bool cli_config_from_file(int i);

#endif
