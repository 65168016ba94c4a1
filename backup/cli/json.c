/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json.c - the CLI's JSON writer and the --json run (see json.h). It writes
 * JSON only; it does not parse any.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/log.h"
#include "sealbox/progress.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "json.h"

/* ---- the writer ---- */

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

bool json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < len) {
		if (!(l = sb_utf8_len(p + i, len - i)))
			return false;
		i += l;
	}
	return true;
}

void json_escape(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	fputc('"', f);
	while (i < len) {
		unsigned char c = p[i];

		l = sb_utf8_len(p + i, len - i);
		if (l == 1) {
			switch (c) {
			case '"': fputs("\\\"", f); break;
			case '\\': fputs("\\\\", f); break;
			case '\n': fputs("\\n", f); break;
			case '\t': fputs("\\t", f); break;
			case '\r': fputs("\\r", f); break;
			default:
				if (c < 0x20 || c == 0x7f)
					fprintf(f, "\\u%04x", c);
				else
					fputc(c, f);
			}
		} else if (l == 2 && c == 0xc2 && p[i + 1] <= 0x9f) {
			fprintf(f, "\\u%04x", p[i + 1]); /* a C1 control */
		} else if (l == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
			   (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			fprintf(f, "\\u20%02x", p[i + 2] - 0x80); /* U+2028, U+2029 */
		} else if (l > 1) {
			fwrite(p + i, 1, l, f);
		} else {
			fputs("\\ufffd", f); /* not UTF-8: json_path() adds the bytes */
			l = 1;
		}
		i += l;
	}
	fputc('"', f);
}

/* The separator and the member's name before a value. */
static void json_key(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->items[j->depth - 1])
			fputc(',', j->f);
		j->items[j->depth - 1] = true;
	}
	if (key && j->depth > 0 && !j->is_arr[j->depth - 1]) {
		json_escape(j->f, key, strlen(key));
		fputc(':', j->f);
	}
}

static void json_open(struct json *j, const char *key, bool arr)
{
	json_key(j, key);
	fputc(arr ? '[' : '{', j->f);
	if (j->depth < JSON_DEPTH) {
		j->items[j->depth] = false;
		j->is_arr[j->depth] = arr;
	}
	j->depth++;
}

void json_obj(struct json *j, const char *key) { json_open(j, key, false); }

void json_arr(struct json *j, const char *key) { json_open(j, key, true); }

void json_end(struct json *j)
{
	if (j->depth <= 0)
		return;
	j->depth--;
	fputc(j->depth < JSON_DEPTH && j->is_arr[j->depth] ? ']' : '}', j->f);
}

void json_strn(struct json *j, const char *key, const char *s, size_t len)
{
	json_key(j, key);
	if (s)
		json_escape(j->f, s, len);
	else
		fputs("null", j->f);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_strn(j, key, s, s ? strlen(s) : 0);
}

void json_path(struct json *j, const char *key, const char *s)
{
	size_t len = s ? strlen(s) : 0, i;
	char hexkey[128];

	json_strn(j, key, s, len);
	if (!s || json_utf8_valid(s, len))
		return;
	snprintf(hexkey, sizeof(hexkey), "%s_hex", key ? key : "");
	json_key(j, hexkey);
	fputc('"', j->f);
	for (i = 0; i < len; i++)
		fprintf(j->f, "%02x", (unsigned char)s[i]);
	fputc('"', j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void json_num(struct json *j, const char *key, double v)
{
	json_key(j, key);
	fprintf(j->f, "%.3f", v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

void json_time(struct json *j, const char *key, time_t t)
{
	char iso[21];

	sb_time_format_iso(t, iso);
	json_str(j, key, iso);
}

/* ---- the --json run ---- */

static struct {
	bool on, done;
	const char *cmd;
	FILE *out;  /* the real stdout */
	char *body; /* the command's fields, from open_memstream */
	size_t body_len;
	FILE *body_f;
	struct json w; /* on body_f, inside the top-level object */
	char error[1024];
	/* the document of an interrupted run, ready for a signal handler */
	volatile int sig_fd; /* the real stdout's descriptor, -1: none */
	char sig_doc[256];
	size_t sig_len;
} run = {.sig_fd = -1};

/* The document a signal handler prints (exit 11, interrupted). */
static void prepare_interrupted(void)
{
	FILE *f = fmemopen(run.sig_doc, sizeof(run.sig_doc), "w");
	struct json j;
	long n;

	run.sig_len = 0;
	if (!f)
		return;
	json_init(&j, f);
	json_obj(&j, NULL);
	json_str(&j, "command", run.cmd);
	json_i64(&j, "exit_status", EXIT_INTERRUPTED);
	json_str(&j, "error", "interrupted");
	json_end(&j);
	fputc('\n', f);
	fflush(f);
	n = ftell(f);
	if (!ferror(f) && n > 0 && (size_t)n < sizeof(run.sig_doc))
		run.sig_len = (size_t)n;
	fclose(f);
}

void cli_json_interrupted(void)
{
	int fd = run.sig_fd;

	if (fd >= 0 && run.sig_len) {
		run.sig_fd = -1;
		(void)!write(fd, run.sig_doc, run.sig_len);
	}
}

bool cli_json_wanted(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			return true;
	return false;
}

void cli_log_note(int level, const char *msg)
{
	if (run.on && level == SB_LOG_ERR)
		cli_json_error(msg);
}

static void json_log(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	sb_progress_clear();
	cli_log_note(level, msg);
	if (level <= SB_LOG_WARN)
		fprintf(stderr, "sealbox: %s: %s\n", level == SB_LOG_ERR ? "error" : "warning",
			msg);
	else
		fprintf(stderr, "sealbox: %s\n", msg);
}

void cli_log_handler_reset(void) { sb_log_set_handler(run.on ? json_log : NULL, NULL); }

int cli_json_start(const char *cmd)
{
	int fd;

	fflush(stdout);
	if ((fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) < 0 || !(run.out = fdopen(fd, "w"))) {
		fprintf(stderr, "sealbox: error: cannot use standard output: %s\n",
			strerror(errno));
		return EXIT_LOCAL;
	}
	/* the command's text goes nowhere: stdout holds the one document */
	if (!freopen("/dev/null", "w", stdout) ||
	    !(run.body_f = open_memstream(&run.body, &run.body_len))) {
		fprintf(stderr, "sealbox: error: --json: %s\n", strerror(errno));
		return EXIT_LOCAL;
	}
	json_init(&run.w, run.body_f);
	run.w.depth = 1; /* inside the top-level object */
	run.cmd = cmd;
	run.on = true;
	run.done = false;
	run.error[0] = '\0';
	prepare_interrupted();
	run.sig_fd = fd;
	cli_log_handler_reset();
	return 0;
}

bool cli_json_on(void) { return run.on && !run.done; }

void cli_json_command(const char *cmd)
{
	run.cmd = cmd;
	if (run.on)
		prepare_interrupted();
}

struct json *cli_json(void) { return cli_json_on() ? &run.w : NULL; }

void cli_json_error(const char *msg)
{
	if (!run.error[0]) {
		snprintf(run.error, sizeof(run.error), "%s", msg);
		/* one line */
		for (char *p = run.error; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
}

const char *cli_json_first_error(void) { return run.error; }

static void json_release(void)
{
	run.sig_fd = -1;
	if (run.body_f)
		fclose(run.body_f);
	run.body_f = NULL;
	free(run.body);
	run.body = NULL;
	if (run.out)
		fclose(run.out);
	run.out = NULL;
	run.done = true;
}

void cli_json_abandon(void)
{
	if (run.on && !run.done)
		json_release();
}

int cli_json_finish(int st)
{
	struct json top;
	int bad;

	if (!run.on || run.done)
		return st;
	while (run.w.depth > 1)
		json_end(&run.w); /* a command that failed half-way */
	fflush(run.body_f);
	json_init(&top, run.out);
	json_obj(&top, NULL);
	json_str(&top, "command", run.cmd);
	json_i64(&top, "exit_status", st);
	if (st)
		json_str(&top, "error", run.error[0] ? run.error : exit_status_text(st));
	else
		json_null(&top, "error");
	if (run.body_len) {
		fputc(',', run.out);
		fwrite(run.body, 1, run.body_len, run.out);
	}
	json_end(&top);
	fputc('\n', run.out);
	bad = fflush(run.out) != 0 || ferror(run.out);
	json_release();
	return bad && !st ? EXIT_LOCAL : st;
}
