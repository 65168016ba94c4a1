/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_config.c - sealbox.conf syntax, booleans, the default path, secret files. */
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

#include "sealbox/config.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

static void quiet_log(enum sb_log_level level, const char *msg, void *ctx) {}

static int parse(const char *text, struct sb_config *c, unsigned *line, char *err)
{
	return sb_config_parse(text, strlen(text), c, line, err, 256);
}

static void test_config__lines(void **state)
{
	struct sb_config c;
	unsigned line = 0;
	char err[256];
	const char *text = "# a comment\n"
			   "\n"
			   "   \t\n"
			   "target = sftp://me@host/backups\r\n"
			   "  source=/home/me  \n"
			   "exclude = /home/me/.cache\n"
			   "\t# indented comment\n"
			   "exclude = /home/me/a # b\n"
			   "name = \"  spaced  \"\n"
			   "full = yes"; /* no final newline */

	assert_int_equal(parse(text, &c, &line, err), 0);
	assert_int_equal(c.n, 6);
	assert_string_equal(c.items[0].name, "target");
	assert_string_equal(c.items[0].value, "sftp://me@host/backups");
	assert_int_equal(c.items[0].line, 4);
	assert_string_equal(c.items[1].value, "/home/me");
	assert_int_equal(c.items[1].line, 5);
	assert_string_equal(c.items[3].value, "/home/me/a # b");
	assert_int_equal(c.items[3].line, 8);
	assert_string_equal(c.items[4].value, "  spaced  ");
	assert_string_equal(c.items[5].name, "full");
	assert_int_equal(c.items[5].line, 10);
	assert_string_equal(sb_config_get(&c, "exclude"), "/home/me/a # b");
	assert_null(sb_config_get(&c, "volsize"));
	sb_config_release(&c);

	assert_int_equal(parse("", &c, &line, err), 0);
	assert_int_equal(c.n, 0);
	sb_config_release(&c);
}

static void test_config__errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
		{"target\n", 1},     {"a = 1\nb c = 2\n", 2},	      {"a = 1\n\n= 2\n", 3},
		{"volsize =\n", 1},  {"volsize =   \n", 1},	      {"x = \"open\n", 1},
		{"Target = x\n", 1}, {"a = 1\n\n\n.target = x\n", 4},
	};
	struct sb_config c;
	unsigned line;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		line = 0;
		err[0] = '\0';
		assert_int_equal(parse(bad[i].text, &c, &line, err), SB_ERR_PARAM);
		assert_int_equal(line, bad[i].line);
		assert_true(err[0] != '\0');
		assert_int_equal(c.n, 0);
	}
	/* a NUL byte */
	assert_int_equal(sb_config_parse("a = b\0c\n", 8, &c, &line, err, sizeof(err)),
			 SB_ERR_PARAM);
	assert_int_equal(line, 1);
}

static void test_config__bool(void **state)
{
	bool b = false;

	assert_true(sb_config_bool("yes", &b) && b);
	assert_true(sb_config_bool("TRUE", &b) && b);
	assert_true(sb_config_bool("1", &b) && b);
	assert_true(sb_config_bool("off", &b) && !b);
	assert_true(sb_config_bool("No", &b) && !b);
	assert_false(sb_config_bool("maybe", &b));
	assert_false(sb_config_bool("", &b));
}

static void test_config__default_path(void **state)
{
	char p[4096];

	setenv("XDG_CONFIG_HOME", "/x/conf", 1);
	assert_int_equal(sb_config_default_path(p, sizeof(p)), 0);
	assert_string_equal(p, "/x/conf/sealbox/sealbox.conf");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/me", 1);
	assert_int_equal(sb_config_default_path(p, sizeof(p)), 0);
	assert_string_equal(p, "/home/me/.config/sealbox/sealbox.conf");
	setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as the XDG spec says */
	assert_int_equal(sb_config_default_path(p, sizeof(p)), 0);
	assert_string_equal(p, "/home/me/.config/sealbox/sealbox.conf");
}

static void test_config__load_and_secret(void **state)
{
	char dir[] = "/tmp/sbcfgXXXXXX", path[128], pass[64];
	struct sb_config c;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sealbox.conf", dir);
	assert_int_equal(sb_config_load(path, &c), SB_ERR_NOTFOUND);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("target = /srv/b\nbogus line\n", f);
	fclose(f);
	assert_int_equal(sb_config_load(path, &c), SB_ERR_PARAM);
	f = fopen(path, "w");
	fputs("target = /srv/b\n", f);
	fclose(f);
	assert_int_equal(sb_config_load(path, &c), 0);
	assert_string_equal(c.path, path);
	assert_string_equal(sb_config_get(&c, "target"), "/srv/b");
	sb_config_release(&c);

	snprintf(path, sizeof(path), "%s/pass", dir);
	f = fopen(path, "w");
	fputs("s3cret pass\n", f);
	fclose(f);
	chmod(path, 0644);
	assert_int_equal(sb_config_read_secret(path, pass, sizeof(pass)), SB_ERR_PERM);
	chmod(path, 0600);
	assert_int_equal(sb_config_read_secret(path, pass, sizeof(pass)), 0);
	assert_string_equal(pass, "s3cret pass");
	f = fopen(path, "w");
	fputs("no newline", f);
	fclose(f);
	assert_int_equal(sb_config_read_secret(path, pass, sizeof(pass)), 0);
	assert_string_equal(pass, "no newline");
	f = fopen(path, "w");
	for (int i = 0; i < 100; i++)
		fputc('x', f);
	fclose(f);
	assert_int_equal(sb_config_read_secret(path, pass, sizeof(pass)), SB_ERR_PARAM);
	unlink(path);
	assert_int_equal(sb_config_read_secret(path, pass, sizeof(pass)), SB_ERR_NOTFOUND);
	snprintf(path, sizeof(path), "%s/sealbox.conf", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__lines),
		cmocka_unit_test(test_config__errors),
		cmocka_unit_test(test_config__bool),
		cmocka_unit_test(test_config__default_path),
		cmocka_unit_test(test_config__load_and_secret),
	};

	sb_log_set_handler(quiet_log, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
