/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_diff.c - `sealbox diff`: the paths added, removed and changed between two snapshots
 * (browse.h): two folders compared entry by entry, by name.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/tar.h"
#include "sealbox/timefmt.h"
#include "browse.h"

static const char diff_usage[] =
	"usage: sealbox diff --target URL TIME1 TIME2\n" BROWSE_SYNOPSIS "\n"
	"Compares the snapshots at or before TIME1 and TIME2 (as for restore --time,\n"
	"or a snapshot's name): one line per path added (+), removed (-) or changed\n"
	"(M: type, size, modification time, mode, owner or symlink target),\n"
	"relative to the backed-up folder, folders with a trailing '/'.\n" BROWSE_USAGE_COMMON;

const struct option diff_opts[] = {
	BROWSE_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* A snapshot of the view: its time and its top folder. */

struct differ {
	struct browse *b;
	char sign; /* of diff_subtree() */
	uint64_t added, removed, changed;
};

static void diff_report(struct differ *d, char change, const char *path, const struct ent *e,
			const char *what)
{
	struct json *j = cli_json();

	if (change == '+')
		d->added++;
	else if (change == '-')
		d->removed++;
	else
		d->changed++;
	if (j) {
		browse_json_ent(j, path, e);
		json_str(j, "change",
			 change == '+'	 ? "added"
			 : change == '-' ? "removed"
					 : "changed");
		if (what) {
			const char *p = what, *comma;

			json_arr(j, "what");
			for (; *p; p = comma ? comma + 1 : p + strlen(p)) {
				comma = strchr(p, ',');
				json_strn(j, NULL, p, comma ? (size_t)(comma - p) : strlen(p));
			}
			json_end(j);
		}
		json_end(j);
		return;
	}
	printf("%c ", change);
	browse_put_name(path, strlen(path));
	puts(e->type == SB_TAR_DIR ? "/" : "");
}

/* Everything below a folder added (d->sign '+') or removed ('-'). */
static int diff_one(void *ctx, const char *path, const struct ent *e)
{
	struct differ *d = ctx;

	diff_report(d, d->sign, path, e, NULL);
	return 0;
}

static int diff_subtree(struct differ *d, char change, uint64_t dir, const char *prefix)
{
	d->sign = change;
	return browse_walk(d->b, dir, prefix, true, diff_one, d);
}

/* Append ",name" (or "name") to out when cond holds. */
static void what_add(char *out, size_t size, bool cond, const char *name)
{
	size_t l = strlen(out);

	if (cond)
		snprintf(out + l, size - l, "%s%s", l ? "," : "", name);
}

/* What differs between two versions of a path ("" when nothing); folders
 * change their size and time with their entries, which are compared. */
static void what_differs(const struct ent *a, const struct ent *b, char *out, size_t size)
{
	bool dir = a->type == SB_TAR_DIR && b->type == SB_TAR_DIR;

	out[0] = '\0';
	what_add(out, size, a->type != b->type, "type");
	if (out[0])
		return;
	what_add(out, size, !dir && a->size != b->size, "size");
	what_add(out, size, !dir && a->mtime != b->mtime, "mtime");
	what_add(out, size, a->mode != b->mode, "mode");
	what_add(out, size, a->uid != b->uid || a->gid != b->gid, "owner");
	what_add(out, size, a->link && b->link && strcmp(a->link, b->link), "link");
}

static int diff_dirs(struct differ *d, uint64_t da, uint64_t db, const char *prefix)
{
	struct ent *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, i = 0, k = 0;
	char *path = NULL, what[64];
	int rc, c;

	if ((rc = browse_list(d->b, da, &a, &na)) || (rc = browse_list(d->b, db, &b, &nb)))
		goto out;
	while (!rc && (i < na || k < nb)) {
		c = i == na ? 1 : k == nb ? -1 : browse_ent_cmp(&a[i], &b[k]);
		free(path);
		if (!(path = c <= 0 ? sb_path_join(prefix, a[i].name, a[i].len)
				    : sb_path_join(prefix, b[k].name, b[k].len))) {
			rc = SB_ERR_NOMEM;
			break;
		}
		if (c < 0) {
			diff_report(d, '-', path, &a[i], NULL);
			if (a[i].type == SB_TAR_DIR)
				rc = diff_subtree(d, '-', a[i].id, path);
			i++;
			continue;
		}
		if (c > 0) {
			diff_report(d, '+', path, &b[k], NULL);
			if (b[k].type == SB_TAR_DIR)
				rc = diff_subtree(d, '+', b[k].id, path);
			k++;
			continue;
		}
		what_differs(&a[i], &b[k], what, sizeof(what));
		if (what[0])
			diff_report(d, 'M', path, &b[k], what);
		if (a[i].type == SB_TAR_DIR && b[k].type == SB_TAR_DIR)
			rc = diff_dirs(d, a[i].id, b[k].id, path);
		else if (a[i].type == SB_TAR_DIR)
			rc = diff_subtree(d, '-', a[i].id, path);
		else if (b[k].type == SB_TAR_DIR)
			rc = diff_subtree(d, '+', b[k].id, path);
		i++;
		k++;
	}
out:
	free(path);
	browse_ents_free(a, na);
	browse_ents_free(b, nb);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	struct browse b = {.cmd = "diff"};
	struct differ d = {.b = &b};
	const struct snap *s1, *s2;
	time_t t1, t2, now = time(NULL);
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", diff_opts, NULL)) != -1) {
		if (browse_option(&b, c, optarg))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD:
			if ((rc = limit_option("diff", c, optarg)))
				return rc;
			break;
		case 'h': fputs(diff_usage, stdout); return EXIT_OK;
		default: return bad_option("diff", argv);
		}
	}
	if (!b.target)
		return usage_error("diff", "--target URL is required");
	if (argc - optind != 2)
		return usage_error("diff", "give two times, TIME1 and TIME2");
	if (sb_time_parse_user(argv[optind], now, &t1))
		return usage_error("diff", "bad TIME1 '%s'", argv[optind]);
	if (sb_time_parse_user(argv[optind + 1], now, &t2))
		return usage_error("diff", "bad TIME2 '%s'", argv[optind + 1]);
	if ((rc = browse_open(&b)))
		goto out;
	if (!(s1 = browse_snap_at(&b, t1, argv[optind])) ||
	    !(s2 = browse_snap_at(&b, t2, argv[optind + 1]))) {
		rc = SB_ERR_NOTFOUND;
		goto out;
	}
	if (cli_json()) {
		json_str(cli_json(), "from", s1->iso);
		json_str(cli_json(), "to", s2->iso);
		json_arr(cli_json(), "changes");
	}
	rc = diff_dirs(&d, s1->root, s2->root, "");
	if (cli_json()) {
		json_end(cli_json());
		json_u64(cli_json(), "added", d.added);
		json_u64(cli_json(), "removed", d.removed);
		json_u64(cli_json(), "changed", d.changed);
	} else if (!rc && !b.quiet) {
		printf("%llu added, %llu removed, %llu changed: %s .. %s\n",
		       (unsigned long long)d.added, (unsigned long long)d.removed,
		       (unsigned long long)d.changed, s1->iso, s2->iso);
	}
out:
	browse_close(&b);
	return exit_status(rc);
}
