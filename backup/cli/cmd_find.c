/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_find.c - `sealbox find`: which snapshots hold the paths that match a glob, with
 * their size and modification time there (browse.h).
 */
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/tar.h"
#include "sealbox/timefmt.h"
#include "browse.h"

static const char find_usage[] =
	"usage: sealbox find --target URL PATTERN\n" BROWSE_SYNOPSIS "\n"
	"Finds the paths that match PATTERN in every snapshot, and shows which\n"
	"snapshots hold each, with its size and modification time there. PATTERN is\n"
	"a shell glob (quote it), matched against file names; one holding a '/' is\n"
	"matched against whole paths relative to the backed-up folder ('*' then also\n"
	"matches '/').\n" BROWSE_USAGE_COMMON;

const struct option find_opts[] = {
	BROWSE_OPTIONS,
	{NULL, 0, NULL, 0},
};

struct match {
	char *path;
	size_t snap; /* index in snaps[] */
	struct ent e;
};

struct finder {
	struct browse *b;
	const char *pattern;
	bool whole;  /* the pattern holds a '/': match whole paths */
	size_t snap; /* the snapshot searched */
	struct match *m;
	size_t n, cap;
};

static int find_add(struct finder *f, const char *path, size_t snap, const struct ent *e)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct match *nm = realloc(f->m, cap * sizeof(*nm));

		if (!nm)
			return SB_ERR_NOMEM;
		f->m = nm;
		f->cap = cap;
	}
	if (!(f->m[f->n].path = strdup(path)))
		return SB_ERR_NOMEM;
	f->m[f->n].snap = snap;
	f->m[f->n].e = *e;
	f->m[f->n].e.name = NULL;
	f->m[f->n].e.link = NULL;
	f->n++;
	return 0;
}

static int find_one(void *ctx, const char *path, const struct ent *e)
{
	struct finder *f = ctx;
	const char *name = strrchr(path, '/');

	if (fnmatch(f->pattern, f->whole ? path : name ? name + 1 : path, 0))
		return 0;
	return find_add(f, path, f->snap, e);
}

static int cmp_match(const void *a, const void *b)
{
	const struct match *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : x->snap < y->snap ? -1 : x->snap > y->snap;
}

static void find_print(struct finder *f)
{
	struct json *j = cli_json();
	char mode[11], when[21];
	size_t i;

	if (j)
		json_arr(j, "matches");
	for (i = 0; i < f->n; i++) {
		const struct match *m = &f->m[i];
		bool first = !i || strcmp(m->path, f->m[i - 1].path);
		bool last = i + 1 == f->n || strcmp(m->path, f->m[i + 1].path);

		sb_time_format_iso((time_t)m->e.mtime, when);
		if (j) {
			if (first) {
				json_obj(j, NULL);
				json_path(j, "path", m->path);
				json_arr(j, "snapshots");
			}
			json_obj(j, NULL);
			json_str(j, "snapshot", f->b->snaps[m->snap].iso);
			json_str(j, "type", browse_type_name(m->e.type));
			json_u64(j, "size", m->e.size);
			json_str(j, "mtime", when);
			json_end(j);
			if (last) {
				json_end(j);
				json_end(j);
			}
			continue;
		}
		if (first) {
			browse_put_name(m->path, strlen(m->path));
			puts(m->e.type == SB_TAR_DIR ? "/" : "");
		}
		browse_mode_string(m->e.type, m->e.mode, mode);
		printf("  %s  %s %12llu %s\n", f->b->snaps[m->snap].iso, mode,
		       (unsigned long long)m->e.size, when);
	}
	if (j)
		json_end(j);
}

int cmd_find(int argc, char **argv)
{
	struct browse b = {.cmd = "find"};
	struct finder f = {.b = &b};
	size_t k, paths = 0;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", find_opts, NULL)) != -1) {
		if (browse_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD:
			if ((rc = limit_option("find", c, optarg)))
				return rc;
			break;
		case 'h': fputs(find_usage, stdout); return EXIT_OK;
		default: return bad_option("find", argv);
		}
	}
	if (!b.target)
		return usage_error("find", "--target URL is required");
	if (argc - optind != 1 || !argv[optind][0])
		return usage_error("find", "give one PATTERN");
	f.pattern = argv[optind];
	f.whole = strchr(f.pattern, '/') != NULL;
	if ((rc = browse_open(&b)))
		goto out;
	for (k = 0; k < b.nsnaps && !rc; k++) {
		f.snap = k;
		rc = browse_walk(&b, b.snaps[k].root, "", true, find_one, &f);
	}
	if (rc)
		goto out;
	if (f.n)
		qsort(f.m, f.n, sizeof(*f.m), cmp_match);
	for (k = 0; k < f.n; k++)
		paths += !k || strcmp(f.m[k].path, f.m[k - 1].path);
	if (cli_json()) {
		json_str(cli_json(), "pattern", f.pattern);
		json_u64(cli_json(), "snapshots_searched", b.nsnaps);
	}
	find_print(&f);
	if (!f.n)
		sb_notice("no path matches '%s' in %zu snapshot(s)", f.pattern, b.nsnaps);
	else
		sb_info("%zu path(s) match '%s' in %zu snapshot(s)", paths, f.pattern, b.nsnaps);
out:
	for (k = 0; k < f.n; k++)
		free(f.m[k].path);
	free(f.m);
	browse_close(&b);
	return exit_status(rc);
}
