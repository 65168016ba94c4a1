/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_select.c - --exclude globs: the matcher ('*' and '?' stop at '/',
 * '**' crosses it, classes, escapes, a literal '['), absolute against
 * relative globs, and excluded folders pruned with their contents by the
 * walker (select.h, walk.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/select.h"
#include "sealbox/walk.h"

static bool gm(const char *pattern, const char *str)
{
	return sb_glob_match(pattern, str, strlen(str));
}

static void test_select__star_and_question(void **state)
{
	(void)state;
	assert_true(gm("*", ""));
	assert_true(gm("*", "abc"));
	assert_false(gm("*", "a/b"));
	assert_true(gm("*.log", "x.log"));
	assert_true(gm("*.log", ".log"));
	assert_false(gm("*.log", "d/x.log"));
	assert_false(gm("*.log", "x.log/y"));
	assert_true(gm("a*b*c", "aXXbYYc"));
	assert_true(gm("a*b*c", "abc"));
	assert_false(gm("a*b*c", "ab/c"));
	assert_true(gm("d/*/f", "d/x/f"));
	assert_false(gm("d/*/f", "d/x/y/f"));
	assert_true(gm("?", "a"));
	assert_false(gm("?", ""));
	assert_false(gm("?", "ab"));
	assert_false(gm("?", "/"));
	assert_false(gm("a?b", "a/b"));
	assert_true(gm("a?b", "a.b"));
	assert_true(gm("???", "\xc3\xa9x")); /* bytes, not characters */
	assert_true(gm("", ""));
	assert_false(gm("", "a"));
	assert_false(gm("abc", "ab"));
	assert_false(gm("ab", "abc"));
}

static void test_select__double_star(void **state)
{
	(void)state;
	assert_true(gm("**", ""));
	assert_true(gm("**", "a/b/c"));
	assert_true(gm("**/x", "/a/b/x"));
	assert_true(gm("**/x", "/x"));
	assert_false(gm("**/x", "/a/xy"));
	assert_true(gm("/src/**", "/src/a/b"));
	assert_true(gm("/src/**.o", "/src/a/b.o"));
	assert_false(gm("/src/**.o", "/src/a/b.oo"));
	assert_true(gm("a/**/b", "a/x/y/b"));
	assert_true(gm("a/**/b", "a/x/b"));
	assert_true(gm("***", "a/b")); /* a run of stars is one '**' */
	/* a single star next to '**' stays single */
	assert_true(gm("**/*.c", "/a/b/c.c"));
	assert_false(gm("**/*.c", "/a/b/c.h"));
}

static void test_select__classes(void **state)
{
	(void)state;
	assert_true(gm("[a-c]", "a"));
	assert_true(gm("[a-c]", "b"));
	assert_true(gm("[a-c]", "c"));
	assert_false(gm("[a-c]", "d"));
	assert_false(gm("[a-c]", ""));
	assert_true(gm("[abc]x", "bx"));
	assert_true(gm("[!x]", "y"));
	assert_false(gm("[!x]", "x"));
	assert_true(gm("[^x]", "y"));
	assert_false(gm("[^x]", "x"));
	assert_false(gm("[!x]", "/")); /* a class never matches '/' */
	assert_false(gm("a[!x]b", "a/b"));
	assert_false(gm("a[/]b", "a/b"));
	assert_true(gm("[]]", "]"));
	assert_true(gm("[!]]", "a"));
	assert_false(gm("[!]]", "]"));
	assert_true(gm("[a-]", "-"));
	assert_true(gm("[a-]", "a"));
	assert_false(gm("[a-]", "b"));
	assert_true(gm("[0-9][0-9]", "42"));
	assert_true(gm("[\x80-\xff]", "\xe5"));
	assert_false(gm("[\x80-\xff]", "a"));
	assert_true(gm("*.[ch]", "x.c"));
	assert_false(gm("*.[ch]", "x.o"));
}

static void test_select__escapes_and_literal_bracket(void **state)
{
	(void)state;
	assert_true(gm("\\*", "*"));
	assert_false(gm("\\*", "a"));
	assert_true(gm("a\\?b", "a?b"));
	assert_false(gm("a\\?b", "axb"));
	assert_true(gm("\\[x]", "[x]"));
	assert_false(gm("\\[x]", "x"));
	assert_true(gm("\\\\", "\\"));
	/* '[' without a closing ']' is literal */
	assert_true(gm("[", "["));
	assert_true(gm("a[b", "a[b"));
	assert_false(gm("a[b", "ab"));
	assert_true(gm("[*", "[xyz"));
	assert_true(gm("x[!", "x[!"));
}

static bool excl(const struct sb_select *s, const char *rel)
{
	return sb_select_excluded(s, rel, strlen(rel));
}

static void test_select__absolute_and_relative(void **state)
{
	static const char *const ex[] = {"/src/cache", "*.tmp",	     "**/node_modules",
					 "build/",     "docs/*.pdf", "/other/x"};
	struct sb_select *s;

	(void)state;
	assert_int_equal(sb_select_new("/src/", ex, sizeof(ex) / sizeof(ex[0]), &s), 0);
	assert_false(excl(s, ""));
	/* absolute, against SOURCE/rel */
	assert_true(excl(s, "cache"));
	assert_false(excl(s, "cache2"));
	assert_false(excl(s, "x/cache"));
	assert_false(excl(s, "x"));
	/* an absolute glob outside SOURCE matches nothing */
	assert_false(excl(s, "other/x"));
	/* relative, against rel, anchored at SOURCE */
	assert_true(excl(s, "a.tmp"));
	assert_false(excl(s, "d/a.tmp"));
	assert_true(excl(s, "build"));
	assert_false(excl(s, "sub/build"));
	assert_true(excl(s, "docs/a.pdf"));
	assert_false(excl(s, "docs/x/a.pdf"));
	/* '**' is absolute and finds the name at any depth */
	assert_true(excl(s, "node_modules"));
	assert_true(excl(s, "a/b/node_modules"));
	assert_false(excl(s, "a/b/node_modules2"));
	/* lengths, not terminators */
	assert_true(sb_select_excluded(s, "a.tmpXX", 5));
	sb_select_free(s);
}

static void test_select__root_slash_and_empty(void **state)
{
	static const char *const ex[] = {"/etc/shadow", "/**/*.bak"};
	struct sb_select *s;

	(void)state;
	assert_int_equal(sb_select_new("/", ex, 2, &s), 0);
	assert_true(excl(s, "etc/shadow"));
	assert_false(excl(s, "etc/passwd"));
	assert_true(excl(s, "a/b.bak"));
	assert_false(excl(s, ""));
	sb_select_free(s);

	assert_int_equal(sb_select_new("/src", NULL, 0, &s), 0);
	assert_false(excl(s, "anything"));
	sb_select_free(s);

	/* a glob matching the root itself never excludes the root */
	{
		static const char *const r[] = {"/src", "**"};

		assert_int_equal(sb_select_new("/src", r, 1, &s), 0);
		assert_false(excl(s, ""));
		assert_false(excl(s, "a"));
		sb_select_free(s);
		assert_int_equal(sb_select_new("/src", r + 1, 1, &s), 0);
		assert_false(excl(s, ""));
		assert_true(excl(s, "a"));
		sb_select_free(s);
	}
}

/* ---- folders: excluded with everything below them (walker prunes) ---- */

static char tmpdir[256];

static void mk(const char *rel, bool dir)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	if (dir) {
		assert_int_equal(mkdir(p, 0700), 0);
	} else {
		FILE *f = fopen(p, "w");

		assert_non_null(f);
		fputs("x", f);
		fclose(f);
	}
}

static void walk_all(const struct sb_select *sel, struct sb_buf *out)
{
	const struct sb_walk_entry *e;
	struct sb_walk *w;
	int rc;

	sb_buf_reset(out);
	assert_int_equal(sb_walk_open(tmpdir, sel, &w), 0);
	while ((rc = sb_walk_next(w, &e)) == 1) {
		sb_buf_add(out, e->path.data, e->path.len);
		sb_buf_addch(out, ';');
	}
	assert_int_equal(rc, 0);
	sb_walk_free(w);
}

static void rm_tree(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
}

static void test_select__folder_excluded_with_contents(void **state)
{
	char abs_glob[512];
	const char *ex[3];
	struct sb_select *s;
	struct sb_buf out = SB_BUF_INIT;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sb-select-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	mk("a", true);
	mk("a/keep.txt", false);
	mk("a/cache", true);
	mk("a/cache/x", false);
	mk("a/cache/deep", true);
	mk("a/cache/deep/y", false);
	mk("b", true);
	mk("b/z.tmp", false);
	mk("b/z.txt", false);
	mk("b/empty", true);
	mk("tmpdir.tmp", true);
	mk("tmpdir.tmp/inner.txt", false);

	walk_all(NULL, &out);
	assert_string_equal(sb_buf_str(&out), ";a;a/cache;a/cache/deep;a/cache/deep/y;a/cache/x;"
					      "a/keep.txt;b;b/empty;b/z.tmp;b/z.txt;tmpdir.tmp;"
					      "tmpdir.tmp/inner.txt;");

	snprintf(abs_glob, sizeof(abs_glob), "%s/a/cache", tmpdir);
	ex[0] = abs_glob;
	ex[1] = "*.tmp"; /* relative: the top-level folder only */
	ex[2] = "**/z.tmp";
	assert_int_equal(sb_select_new(tmpdir, ex, 3, &s), 0);
	walk_all(s, &out);
	assert_string_equal(sb_buf_str(&out), ";a;a/keep.txt;b;b/empty;b/z.txt;");
	sb_select_free(s);

	sb_buf_release(&out);
	rm_tree();
}

/* The root replaced during the walk (as an unmount does): an error at the
 * end, not a clean end; mount roots are told from plain folders. */
static void test_select__walk_root_replaced(void **state)
{
	const struct sb_walk_entry *e;
	struct sb_walk *w;
	char moved[300], cmd[400];
	int rc, n = 0;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sb-walk-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	mk("a", false);
	mk("b", false);
	assert_int_equal(sb_walk_mount_root("/"), 1);
	assert_int_equal(sb_walk_mount_root(tmpdir), 0);
	assert_true(sb_walk_mount_root("/no/such/folder") < 0);

	assert_int_equal(sb_walk_open(tmpdir, NULL, &w), 0);
	while ((rc = sb_walk_next(w, &e)) == 1)
		if (++n == 2) { /* the root, then "a" */
			snprintf(moved, sizeof(moved), "%s.old", tmpdir);
			assert_int_equal(rename(tmpdir, moved), 0);
			assert_int_equal(mkdir(tmpdir, 0700), 0);
		}
	assert_int_equal(n, 3); /* "b" still read through the open folder */
	assert_int_equal(rc, SB_ERR_IO);
	assert_int_equal(sb_walk_next(w, &e), 0);
	sb_walk_free(w);
	rm_tree();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", moved);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select__star_and_question),
		cmocka_unit_test(test_select__double_star),
		cmocka_unit_test(test_select__classes),
		cmocka_unit_test(test_select__escapes_and_literal_bracket),
		cmocka_unit_test(test_select__absolute_and_relative),
		cmocka_unit_test(test_select__root_slash_and_empty),
		cmocka_unit_test(test_select__folder_excluded_with_contents),
		cmocka_unit_test(test_select__walk_root_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
