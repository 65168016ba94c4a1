/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c - sealbox.conf syntax (see config.h), secret files. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/config.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

#define CONFIG_MAX (1u << 20) /* a config file is small; refuse anything else */

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int add_item(struct sb_config *c, const char *name, size_t nlen, const char *value,
		    size_t vlen, unsigned line)
{
	struct sb_config_item *items, *it;

	items = realloc(c->items, (c->n + 1) * sizeof(*items));
	if (!items)
		return SB_ERR_NOMEM;
	c->items = items;
	it = &items[c->n];
	it->name = strndup(name, nlen);
	it->value = strndup(value, vlen);
	it->line = line;
	if (!it->name || !it->value) {
		free(it->name);
		free(it->value);
		return SB_ERR_NOMEM;
	}
	c->n++;
	return 0;
}

/* One line (without its newline): 0, SB_ERR_PARAM with err set, SB_ERR_NOMEM. */
static int parse_line(struct sb_config *c, const char *p, size_t len, unsigned line, char *err,
		      size_t errsize)
{
	const char *end = p + len, *name, *v;
	size_t nlen, vlen;

	if (memchr(p, '\0', len)) {
		snprintf(err, errsize, "a NUL byte");
		return SB_ERR_PARAM;
	}
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end || *p == '#')
		return 0;
	name = p;
	while (p < end && name_char(*p))
		p++;
	nlen = (size_t)(p - name);
	if (!nlen) {
		snprintf(err, errsize, "expected 'name = value'");
		return SB_ERR_PARAM;
	}
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p != '=') {
		snprintf(err, errsize, "expected 'name = value' ('%s' without '=')",
			 sb_log_str(name, (size_t)(end - name)));
		return SB_ERR_PARAM;
	}
	p++;
	while (p < end && is_blank(*p))
		p++;
	v = p;
	vlen = (size_t)(end - p);
	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
		v++;
		vlen -= 2;
	} else if (vlen && v[0] == '"') {
		snprintf(err, errsize, "unbalanced '\"' in the value of %s",
			 sb_log_str(name, nlen));
		return SB_ERR_PARAM;
	}
	if (!vlen) {
		snprintf(err, errsize, "%s has no value", sb_log_str(name, nlen));
		return SB_ERR_PARAM;
	}
	return add_item(c, name, nlen, v, vlen, line);
}

int sb_config_parse(const char *text, size_t len, struct sb_config *out, unsigned *err_line,
		    char *err, size_t errsize)
{
	const char *p = text, *end = text + len, *nl;
	unsigned line = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	while (p < end && !rc) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		line++;
		rc = parse_line(out, p, (size_t)(nl - p), line, err, errsize);
		p = nl + 1;
	}
	if (rc) {
		*err_line = line;
		sb_config_release(out);
	}
	return rc;
}

int sb_config_load(const char *path, struct sb_config *out)
{
	struct sb_buf b = SB_BUF_INIT;
	char err[256], chunk[4096];
	unsigned line = 0;
	ssize_t n;
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return SB_ERR_NOTFOUND;
		sb_error("config file %s: %s", sb_log_str(path, strlen(path)), strerror(errno));
		return SB_ERR_IO;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > CONFIG_MAX) {
			sb_error("config file %s: %s", sb_log_str(path, strlen(path)),
				 n < 0 ? strerror(errno) : "larger than 1 MiB");
			rc = SB_ERR_IO;
			break;
		}
		if ((rc = sb_buf_add(&b, chunk, (size_t)n)))
			break;
	}
	close(fd);
	if (!rc)
		rc = sb_config_parse((const char *)b.data, b.len, out, &line, err, sizeof(err));
	sb_buf_release(&b);
	if (rc == SB_ERR_PARAM)
		sb_error("%s:%u: %s", sb_log_str(path, strlen(path)), line, err);
	if (!rc && !(out->path = strdup(path))) {
		sb_config_release(out);
		rc = SB_ERR_NOMEM;
	}
	return rc;
}

void sb_config_release(struct sb_config *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->items[i].name);
		free(c->items[i].value);
	}
	free(c->items);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

const char *sb_config_get(const struct sb_config *c, const char *name)
{
	size_t i;

	for (i = c->n; i-- > 0;)
		if (!strcmp(c->items[i].name, name))
			return c->items[i].value;
	return NULL;
}

bool sb_config_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

int sb_config_default_path(char *out, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	int n;

	if (xdg && *xdg == '/') {
		n = snprintf(out, size, "%s/sealbox/sealbox.conf", xdg);
	} else {
		if (!home || !*home) {
			pw = getpwuid(geteuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home)
			return SB_ERR_NOTFOUND;
		n = snprintf(out, size, "%s/.config/sealbox/sealbox.conf", home);
	}
	return n < 0 || (size_t)n >= size ? SB_ERR_PARAM : 0;
}

int sb_config_read_secret(const char *path, char *out, size_t size)
{
	const char *shown = sb_log_str(path, strlen(path));
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		sb_error("passphrase file %s: %s", shown, strerror(errno));
		return errno == ENOENT ? SB_ERR_NOTFOUND : SB_ERR_PERM;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sb_error("passphrase file %s: not a regular file", shown);
		close(fd);
		return SB_ERR_PERM;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		sb_error("passphrase file %s: refused: mode %04o, owner uid %u (must be mode 0600 "
			 "and owned by uid %u)",
			 shown, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
			 (unsigned)geteuid());
		close(fd);
		return SB_ERR_PERM;
	}
	while (len + 1 < size) {
		n = read(fd, out + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sb_error("passphrase file %s: %s", shown, strerror(errno));
			rc = SB_ERR_IO;
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (!rc && len + 1 >= size) {
		sb_error("passphrase file %s: longer than %zu bytes", shown, size - 2);
		rc = SB_ERR_PARAM;
	}
	close(fd);
	if (rc) {
		explicit_bzero(out, size);
		return rc;
	}
	if (len && out[len - 1] == '\n')
		len--;
	if (len && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	return 0;
}
