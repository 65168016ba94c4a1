/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c - the config file merged into a command's arguments (see config.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/config.h"
#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/log.h"
#include "sealbox/throttle.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "config.h"

static struct sb_config conf;
static int nfile_args; /* argv[1 .. nfile_args] came from the file */
/* The argument vectors made with the file's options: they live as long as the
 * process (their strings are the command's arguments), held here so that they
 * stay reachable (volatile: the stores must not be optimised away). */
static char **volatile file_argv[4];

/* Names that are no option of any command. */
static const char *const extra_names[] = {"source"};
/* Options that make no sense in a file. */
static const char *const refused_names[] = {"help", "config", "no-config", "version"};

enum vtype { V_ANY, V_MIB, V_COUNT, V_AGE, V_TIME, V_RATE, V_LEVEL };

static const struct {
	const char *name;
	enum vtype type;
} typed[] = {
	{"volsize", V_MIB},	    {"cache-size", V_COUNT},
	{"keep-chains", V_COUNT},   {"full-if-older-than", V_AGE},
	{"keep-daily", V_COUNT},    {"keep-weekly", V_COUNT},
	{"keep-monthly", V_COUNT},  {"keep-yearly", V_COUNT},
	{"keep-within", V_AGE},	    {"older-than", V_AGE},
	{"time", V_TIME},	    {"limit-upload", V_RATE},
	{"limit-download", V_RATE}, {"compress-level", V_LEVEL},
};

const char *cli_config_get(const char *name) { return sb_config_get(&conf, name); }
bool cli_config_from_file(int i) { return i >= 1 && i <= nfile_args; }

static const struct option *find_opt(const struct option *opts, const char *name)
{
	for (; opts && opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

static int item_error(const struct sb_config_item *it, const char *fmt, const char *arg)
{
	fprintf(stderr, "sealbox: error: %s:%u: ", sb_log_str(conf.path, strlen(conf.path)),
		it->line);
	fprintf(stderr, fmt, sb_log_str(it->name, strlen(it->name)), arg);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Is the value right for its name? 0 or EXIT_USAGE (reported). */
static int check_item(const struct sb_config_item *it, const struct option *o)
{
	unsigned long long v;
	uint64_t rate;
	long long age;
	time_t t;
	bool b;
	size_t i;

	for (i = 0; i < sizeof(refused_names) / sizeof(refused_names[0]); i++)
		if (!strcmp(it->name, refused_names[i]))
			return item_error(it, "'%s' is not allowed in a config file%s", "");
	if (o && o->has_arg == no_argument && !sb_config_bool(it->value, &b))
		return item_error(it, "%s takes yes or no, not '%s'", it->value);
	for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		if (strcmp(it->name, typed[i].name))
			continue;
		switch (typed[i].type) {
		case V_MIB:
			if (!parse_uint(it->value, &v) || v == 0 || v > 1048576)
				return item_error(it, "bad %s '%s' (MiB, 1 to 1048576)", it->value);
			break;
		case V_COUNT:
			if (!parse_uint(it->value, &v) || v == 0)
				return item_error(it, "bad %s '%s' (a positive number)", it->value);
			break;
		case V_AGE:
			if (sb_age_parse(it->value, &age))
				return item_error(it, "bad %s '%s' (an age such as 7D, 2W, 1M)",
						  it->value);
			break;
		case V_TIME:
			if (sb_time_parse_user(it->value, time(NULL), &t))
				return item_error(it, "bad %s '%s'", it->value);
			break;
		case V_LEVEL:
			if (!parse_uint(it->value, &v) || v > 9)
				return item_error(it, "bad %s '%s' (0 to 9)", it->value);
			break;
		case V_RATE:
			if (sb_throttle_parse_rate(it->value, &rate))
				return item_error(it, "bad %s '%s' (" LIMIT_RATE_HELP ")",
						  it->value);
			break;
		default: break;
		}
	}
	return 0;
}

/*
 * A value "~" or "~/..." means the home folder, as in a shell ("exclude =
 * ~/.cache"); "~user/..." is refused rather than taken literally.
 */
static int expand_tilde(struct sb_config_item *it)
{
	const char *home = sb_home_dir();
	char *v;
	size_t len;

	if (it->value[0] != '~')
		return 0;
	if (it->value[1] != '\0' && it->value[1] != '/')
		return item_error(it, "%s: '%s' is not expanded: write the whole path", it->value);
	if (!home)
		return item_error(it, "%s: no home folder to expand '%s' with", it->value);
	len = strlen(home) + strlen(it->value);
	if (!(v = malloc(len)))
		return EXIT_INTERNAL;
	snprintf(v, len, "%s%s", home, it->value + 1);
	free(it->value);
	it->value = v;
	return 0;
}

/* Take the config options out of argv; sets *path (NULL: default), *none. */
static int strip_config_args(int *argc, char **argv, const char **path, bool *none)
{
	int i, j = 1;

	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "sealbox: error: --config needs a FILE\n");
				return EXIT_USAGE;
			}
			*path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			*path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--no-config")) {
			*none = true;
		} else {
			argv[j++] = argv[i];
		}
	}
	*argc = j;
	argv[j] = NULL;
	return 0;
}

int cli_config_apply(const struct option *mine, const struct option *const *all, size_t nall,
		     int *argc, char ***argv)
{
	const char *path = NULL;
	char def[4096];
	bool none = false, b;
	const struct option *o;
	char **nargv;
	size_t i, k;
	int rc, n = 0, j;

	if ((rc = strip_config_args(argc, *argv, &path, &none)))
		return rc;
	if (none && path) {
		fprintf(stderr, "sealbox: error: --config and --no-config together\n");
		return EXIT_USAGE;
	}
	if (none)
		return 0;
	if (!path) {
		if (sb_config_default_path(def, sizeof(def)))
			return 0;
		path = def;
	}
	rc = sb_config_load(path, &conf);
	if (rc == SB_ERR_NOTFOUND && path == def)
		return 0;
	if (rc == SB_ERR_NOTFOUND)
		fprintf(stderr, "sealbox: error: config file %s does not exist\n",
			sb_log_str(path, strlen(path)));
	if (rc)
		return rc == SB_ERR_PARAM || rc == SB_ERR_NOTFOUND ? EXIT_USAGE : EXIT_LOCAL;
	for (i = 0; i < conf.n; i++) {
		const struct sb_config_item *it = &conf.items[i];

		for (o = NULL, k = 0; k < nall && !o; k++)
			o = find_opt(all[k], it->name);
		for (k = 0; k < sizeof(extra_names) / sizeof(extra_names[0]); k++)
			if (!strcmp(it->name, extra_names[k]))
				break;
		if (!o && k == sizeof(extra_names) / sizeof(extra_names[0]))
			return item_error(it, "unknown name '%s'%s (see sealbox.conf(5))", "");
		if ((rc = expand_tilde(&conf.items[i])) || (rc = check_item(it, o)))
			return rc;
	}
	if (!mine)
		return 0;
	nargv = calloc((size_t)*argc + 2 * conf.n + 1, sizeof(*nargv));
	if (!nargv)
		return EXIT_INTERNAL;
	nargv[n++] = (*argv)[0];
	for (i = 0; i < conf.n; i++) {
		const struct sb_config_item *it = &conf.items[i];
		size_t len = strlen(it->name) + 3;
		char *flag;

		if (!(o = find_opt(mine, it->name)))
			continue;
		if (o->has_arg == no_argument && (!sb_config_bool(it->value, &b) || !b))
			continue;
		if (!(flag = malloc(len)))
			return EXIT_INTERNAL;
		snprintf(flag, len, "--%s", it->name);
		nargv[n++] = flag;
		if (o->has_arg != no_argument)
			nargv[n++] = it->value;
	}
	nfile_args = n - 1;
	for (j = 1; j < *argc; j++)
		nargv[n++] = (*argv)[j];
	nargv[n] = NULL;
	*argc = n;
	for (j = 0; j < (int)(sizeof(file_argv) / sizeof(file_argv[0])); j++)
		if (!file_argv[j]) {
			file_argv[j] = nargv;
			break;
		}
	*argv = nargv;
	return 0;
}
