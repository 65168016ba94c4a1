/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json.h - the one JSON emitter of the CLI, and the --json run around a
 * command.
 *
 * With --json on a command line, main.c calls cli_json_start() before the
 * command runs: stdout is then /dev/null for the command's text, the first
 * error message (sb_error(), usage_error()) is kept, and the command adds
 * its own fields with the writer of cli_json(). After the command returns,
 * cli_json_finish() prints exactly one document on the real stdout:
 *
 *   {"command": "restore", "exit_status": 0, "error": null, ...fields}
 *
 * "error" is one line when exit_status is not 0, else null. A command that
 * must print earlier (mount, at start-up) calls cli_json_finish() itself;
 * later calls do nothing.
 *
 * Strings: control characters are escaped; a byte that is not part of valid
 * UTF-8 becomes U+FFFD, and json_path() then adds "<key>_hex" with the exact
 * bytes, so that a hostile or foreign-encoded file name is still named.
 */
#ifndef SEALBOX_CLI_JSON_H
#define SEALBOX_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* A writer: containers nest up to JSON_DEPTH. */
#define JSON_DEPTH 16
struct json {
	FILE *f;
	int depth;		 /* open containers */
	bool items[JSON_DEPTH];	 /* the container at this depth holds an item */
	bool is_arr[JSON_DEPTH]; /* ... and is an array */
};

/* A writer on f, at top level. */
void json_init(struct json *j, FILE *f);

/*
 * Values. key is the member's name inside an object, NULL inside an array
 * (or for the top-level value). A NULL string is null.
 */
void json_obj(struct json *j, const char *key);
void json_arr(struct json *j, const char *key);
void json_end(struct json *j); /* closes the innermost container */
void json_str(struct json *j, const char *key, const char *s);
void json_strn(struct json *j, const char *key, const char *s, size_t len);
/* A name from a file system or the target: json_str, and "<key>_hex" when
 * s is not valid UTF-8. Only inside an object. */
void json_path(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_num(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* "2026-12-03T08:52:00Z" */
void json_time(struct json *j, const char *key, time_t t);

/* Write len bytes of s as a JSON string, quotes included (see above). */
void json_escape(FILE *f, const char *s, size_t len);
/* Is s (len bytes) valid UTF-8? */
bool json_utf8_valid(const char *s, size_t len);

/* ---- the --json run ---- */

/* Is --json among argv's options (before a "--")? */
bool cli_json_wanted(int argc, char **argv);
/* Begin a --json run of command cmd (see above). 0, or an exit status. */
int cli_json_start(const char *cmd);
/* A --json run is on. */
bool cli_json_on(void);
/* Rename the command ("keys check"). */
void cli_json_command(const char *cmd);
/* The writer of the document's own fields (inside the top-level object);
 * NULL when no --json run is on. */
struct json *cli_json(void);
/* Keep msg as the run's error, unless one is kept already. */
void cli_json_error(const char *msg);
/* Print the document with exit status st (once); returns st, or
 * EXIT_LOCAL when stdout cannot be written. */
int cli_json_finish(int st);
/* Give up the document unprinted (a forked child printed it). */
void cli_json_abandon(void);
/* From a signal handler that ends the process: print the document of an
 * interrupted run (exit status 11), unless one was printed. */
void cli_json_interrupted(void);
/* The run's first error so far ("" if none). */
const char *cli_json_first_error(void);

/* Reinstall the CLI's message handler (after runlog's). */
void cli_log_handler_reset(void);
/* Every message handler of the CLI calls this with each message. */
void cli_log_note(int level, const char *msg);

#endif
