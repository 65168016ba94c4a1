/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_ls.c - `sealbox ls`: a folder of a snapshot (browse.h), from the index cache.
 * PATH is relative to the backed-up folder, or absolute inside the configured source.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/tar.h"
#include "sealbox/timefmt.h"
#include "browse.h"
#include "config.h"

static const char ls_usage[] =
	"usage: sealbox ls --target URL [--time TIME] [-R] [PATH]\n" BROWSE_SYNOPSIS "\n"
	"Lists PATH (default: the top) in the newest snapshot at or before TIME: a\n"
	"folder's entries, or the file itself; one line each: type and mode, size,\n"
	"modification time (UTC), path relative to the backed-up folder. PATH is\n"
	"relative to it too, or absolute inside the config file's source.\n"
	"  --time TIME        as for restore (default: now)\n"
	"  -R, --recursive    also everything below the folders listed\n" BROWSE_USAGE_COMMON;

const struct option ls_opts[] = {
	BROWSE_OPTIONS,
	{"time", required_argument, NULL, O_TIME},
	{"recursive", no_argument, NULL, 'R'},
	{NULL, 0, NULL, 0},
};

static void ls_print(const char *path, const struct ent *e)
{
	char mode[11], when[21];

	if (cli_json()) {
		browse_json_ent(cli_json(), path, e);
		json_end(cli_json());
		return;
	}
	browse_mode_string(e->type, e->mode, mode);
	sb_time_format_iso((time_t)e->mtime, when);
	printf("%s %12llu %s ", mode, (unsigned long long)e->size, when);
	browse_put_name(path, strlen(path));
	if (e->type == SB_TAR_DIR)
		putchar('/');
	if (e->link) {
		fputs(" -> ", stdout);
		browse_put_name(e->link, strlen(e->link));
	}
	putchar('\n');
}

static int ls_one(void *ctx, const char *path, const struct ent *e)
{
	(void)ctx;
	ls_print(path, e);
	return 0;
}

/* Look path (normalized, relative) up in the tree of root; *e filled. */
static int resolve(struct browse *b, uint64_t root, const char *path, struct ent *e)
{
	struct sb_node n;
	const char *p = path, *slash;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = sb_snapview_getattr(b->view, root, &n)))
		return rc;
	while (*p) {
		slash = strchr(p, '/');
		if ((rc = sb_snapview_lookup(b->view, n.id, p,
					     slash ? (size_t)(slash - p) : strlen(p), &n)))
			return rc;
		p = slash ? slash + 1 : p + strlen(p);
	}
	e->id = n.id;
	e->type = n.type;
	e->mode = n.mode;
	e->uid = n.uid;
	e->gid = n.gid;
	e->mtime = n.mtime;
	e->size = n.size;
	if (n.type == SB_TAR_SYMLINK && !(e->link = strdup(n.link)))
		return SB_ERR_NOMEM;
	return 0;
}

/* PATH of a command line, relative to the backed-up folder, normalized. */
/*
 * An absolute PATH inside the configured source ('source = DIR'), relative
 * to it in *rel (borrowed from arg); false when it is not inside.
 */
static bool inside_source(const char *arg, const char **rel)
{
	const char *src = cli_config_get("source");
	char real[PATH_MAX];
	size_t n;

	if (!src || !realpath(src, real))
		return false;
	n = strlen(real);
	if (!strcmp(real, "/"))
		n = 0;
	if (strncmp(arg, real, n) || (arg[n] != '/' && arg[n] != '\0'))
		return false;
	*rel = arg + n;
	return true;
}

/* PATH of the command line, relative to the backed-up folder, normalized. */
static int user_path(const char *cmd, const char *arg, char **out)
{
	const char *rel = arg;
	char *p;
	int n;

	if (arg[0] == '/' && !inside_source(arg, &rel))
		return usage_error(cmd,
				   "'%s': give the path relative to the backed-up folder (or "
				   "absolute inside the config file's source)",
				   arg);
	while (*rel == '/')
		rel++;
	if (!(p = strdup(rel)))
		return EXIT_INTERNAL;
	n = sb_path_normalize(p, strlen(p));
	if (n < 0) {
		free(p);
		return usage_error(cmd, "bad path '%s'", arg);
	}
	p[n] = '\0';
	*out = p;
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	struct browse b = {.cmd = "ls"};
	const struct snap *s;
	const char *given = "now";
	time_t when = time(NULL);
	bool recursive = false;
	char *path = NULL;
	struct ent e = {0};
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqhR", ls_opts, NULL)) != -1) {
		if (browse_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD:
			if ((rc = limit_option("ls", c, optarg)))
				return rc;
			break;
		case O_TIME:
			given = optarg;
			if (sb_time_parse_user(optarg, time(NULL), &when))
				return usage_error("ls", "bad --time '%s'", optarg);
			break;
		case 'R': recursive = true; break;
		case 'h': fputs(ls_usage, stdout); return EXIT_OK;
		default: return bad_option("ls", argv);
		}
	}
	if (!b.target)
		return usage_error("ls", "--target URL is required");
	if (argc - optind > 1)
		return usage_error("ls", "give at most one PATH");
	if ((rc = user_path("ls", optind < argc ? argv[optind] : "", &path)))
		return rc;
	if ((rc = browse_open(&b)))
		goto out;
	if (!(s = browse_snap_at(&b, when, given))) {
		rc = SB_ERR_NOTFOUND;
		goto out;
	}
	if ((rc = resolve(&b, s->root, path, &e))) {
		if (rc == SB_ERR_NOTFOUND)
			sb_error("no '%s' in the snapshot of %s", path, s->iso);
		goto out;
	}
	if (cli_json()) {
		json_str(cli_json(), "snapshot", s->iso);
		json_path(cli_json(), "path", path);
		json_arr(cli_json(), "entries");
	}
	if (e.type == SB_TAR_DIR)
		rc = browse_walk(&b, e.id, path, recursive, ls_one, NULL);
	else
		ls_print(path, &e);
	if (cli_json())
		json_end(cli_json());
out:
	free(e.link);
	free(path);
	browse_close(&b);
	return exit_status(rc);
}
