/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.h - the configuration file, sealbox.conf(5): `name = value` lines.
 *
 * Syntax only: blank lines and lines whose first non-blank character is '#'
 * are ignored; every other line is NAME = VALUE, NAME made of [a-z0-9-],
 * blanks around both trimmed, a VALUE in double quotes has them removed
 * (to keep leading or trailing blanks; there are no escapes). A '#' after
 * the start of a line is part of the value. Names may repeat (lists).
 * Which names exist and what their values mean is the CLI's business.
 */
#ifndef SEALBOX_CONFIG_H
#define SEALBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct sb_config_item {
	char *name;
	char *value;
	unsigned line; /* 1-based */
};

struct sb_config {
	char *path;		      /* as given, for messages; NULL for parsed text */
	struct sb_config_item *items; /* in file order */
	size_t n;
};

/*
 * Parse text. On a syntax error returns SB_ERR_PARAM with *err_line and err
 * (a message without the file name) set, nothing logged; the caller names
 * the file. SB_ERR_NOMEM otherwise.
 */
int sb_config_parse(const char *text, size_t len, struct sb_config *out, unsigned *err_line,
		    char *err, size_t errsize);

/*
 * Read and parse the file at path. SB_ERR_NOTFOUND (not logged) when it does
 * not exist; other failures are logged as "PATH:LINE: message" or
 * "PATH: message" and return SB_ERR_PARAM (syntax) or SB_ERR_IO.
 */
int sb_config_load(const char *path, struct sb_config *out);

void sb_config_release(struct sb_config *c);

/* The last value of name, or NULL. */
const char *sb_config_get(const struct sb_config *c, const char *name);

/* yes/no, true/false, on/off, 1/0 (any case). false when not a boolean. */
bool sb_config_bool(const char *value, bool *out);

/* $XDG_CONFIG_HOME/sealbox/sealbox.conf, else ~/.config/sealbox/sealbox.conf. */
int sb_config_default_path(char *out, size_t size);

/*
 * Read a secret (a passphrase) from path: refused (SB_ERR_PERM, logged
 * without the content) unless a regular file owned by the effective user
 * with no permission bits for group or others; one trailing newline (and
 * carriage return) stripped. out is NUL-terminated; the caller wipes it.
 */
int sb_config_read_secret(const char *path, char *out, size_t size);

#endif
