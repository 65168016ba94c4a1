/* SPDX-License-Identifier: GPL-2.0-or-later */
/* select.c - --exclude globs (see select.h). */
#include <stdlib.h>
#include <string.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/select.h"

struct sb_select {
	char *root;
	size_t rootlen;
	char **globs;
	bool *absolute;
	size_t n;
};

/* Match one [...] class at p against c; *end gets the byte after ']'. */
static bool match_class(const char *p, unsigned char c, const char **end)
{
	bool neg = false, hit = false;
	const char *q = p + 1;

	if (*q == '!' || *q == '^') {
		neg = true;
		q++;
	}
	if (*q == ']') { /* a leading ']' is literal */
		hit = c == ']';
		q++;
	}
	while (*q && *q != ']') {
		unsigned char lo = (unsigned char)*q, hi = lo;

		if (q[1] == '-' && q[2] && q[2] != ']') {
			hi = (unsigned char)q[2];
			q += 3;
		} else {
			q++;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (*q != ']') { /* no closing bracket: '[' is literal */
		*end = p + 1;
		return c == '[';
	}
	*end = q + 1;
	return c != '/' && (hit != neg);
}

static bool match(const char *p, const char *s, const char *e)
{
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			while (*p == '*')
				p++;
			for (const char *t = s;; t++) {
				if (match(p, t, e))
					return true;
				if (t == e)
					return false;
			}
		}
		if (*p == '*') {
			p++;
			for (const char *t = s;; t++) {
				if (match(p, t, e))
					return true;
				if (t == e || *t == '/')
					return false;
			}
		}
		if (s == e)
			return false;
		if (*p == '?') {
			if (*s == '/')
				return false;
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			const char *next;

			if (!match_class(p, (unsigned char)*s, &next))
				return false;
			p = next;
			s++;
			continue;
		}
		if (*p == '\\' && p[1])
			p++;
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return s == e;
}

bool sb_glob_match(const char *pattern, const char *str, size_t len)
{
	return match(pattern, str, str + len);
}

int sb_select_new(const char *root, const char *const *excludes, size_t n, struct sb_select **out)
{
	struct sb_select *s = calloc(1, sizeof(*s));
	size_t i, len;

	if (!s)
		return SB_ERR_NOMEM;
	s->root = strdup(root);
	s->globs = calloc(n ? n : 1, sizeof(*s->globs));
	s->absolute = calloc(n ? n : 1, sizeof(*s->absolute));
	if (!s->root || !s->globs || !s->absolute)
		goto nomem;
	s->rootlen = strlen(root);
	while (s->rootlen > 1 && s->root[s->rootlen - 1] == '/')
		s->root[--s->rootlen] = '\0';
	for (i = 0; i < n; i++) {
		if (!(s->globs[i] = strdup(excludes[i])))
			goto nomem;
		len = strlen(s->globs[i]);
		while (len > 1 && s->globs[i][len - 1] == '/')
			s->globs[i][--len] = '\0';
		s->absolute[i] = s->globs[i][0] == '/' || strncmp(s->globs[i], "**", 2) == 0;
		s->n++;
	}
	*out = s;
	return 0;
nomem:
	sb_select_free(s);
	return SB_ERR_NOMEM;
}

void sb_select_free(struct sb_select *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->globs[i]);
	free(s->globs);
	free(s->absolute);
	free(s->root);
	free(s);
}

bool sb_select_excluded(const struct sb_select *s, const char *rel, size_t len)
{
	struct sb_buf abs = SB_BUF_INIT;
	bool hit = false;
	size_t i;

	if (len == 0 || s->n == 0)
		return false;
	for (i = 0; i < s->n && !hit; i++) {
		if (!s->absolute[i]) {
			hit = sb_glob_match(s->globs[i], rel, len);
			continue;
		}
		if (!abs.len) {
			sb_buf_add(&abs, s->root, s->rootlen);
			if (s->rootlen != 1)
				sb_buf_addch(&abs, '/');
			sb_buf_add(&abs, rel, len);
		}
		hit = sb_glob_match(s->globs[i], (const char *)abs.data, abs.len);
	}
	sb_buf_release(&abs);
	return hit;
}
