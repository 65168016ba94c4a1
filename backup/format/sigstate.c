/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sigstate.c - merged signature state of a chain (see sigstate.h). */
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/sigstate.h"

struct stream {
	struct sb_tar_reader *tar;
	const char *what;
	struct sb_sigentry cur;
	int has; /* cur holds an entry */
};

struct sb_sigstate {
	struct stream *s;
	size_t n;
	struct stream *chosen; /* valid between peek and next */
};

static const char *const prefixes[] = {"multivol_snapshot", "multivol_diff", "snapshot",
				       "signature",	    "deleted",	     "diff"};

int sb_member_split(const struct sb_buf *name, const char **prefix, struct sb_buf *path,
		    long *block)
{
	const char *n = (const char *)name->data;
	size_t i, plen, len = name->len;
	int nl;

	*block = -1;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		plen = strlen(prefixes[i]);
		if (len >= plen && !memcmp(n, prefixes[i], plen) && (len == plen || n[plen] == '/'))
			break;
	}
	if (i == sizeof(prefixes) / sizeof(prefixes[0]))
		return SB_ERR_CORRUPT;
	*prefix = prefixes[i];
	if (sb_buf_set(path, len > plen ? n + plen + 1 : "", len > plen ? len - plen - 1 : 0))
		return SB_ERR_NOMEM;
	nl = sb_path_normalize((char *)path->data, path->len);
	if (nl < 0)
		return SB_ERR_CORRUPT;
	path->len = (size_t)nl;
	if (!strncmp(*prefix, "multivol_", 9)) {
		/* "<path>/<n>": the last component is the chunk number */
		char *slash = memrchr(path->data, '/', path->len), *end;
		const char *num = slash ? slash + 1 : (const char *)path->data;

		/* digits only, like duplicity's "/[0-9]+$" (strtol alone would also
		 * take leading blanks and a sign) */
		if (*num < '0' || *num > '9')
			return SB_ERR_CORRUPT;
		*block = strtol(num, &end, 10);
		if (end != (char *)path->data + path->len || *block < 1)
			return SB_ERR_CORRUPT;
		path->len = slash ? (size_t)(slash - (char *)path->data) : 0;
		path->data[path->len] = '\0';
	}
	return 0;
}

static int stream_advance(struct stream *st)
{
	const char *prefix;
	long block;
	int rc;

	st->has = 0;
	rc = sb_tar_reader_next(st->tar, &st->cur.hdr);
	if (rc <= 0) {
		if (rc < 0)
			sb_error("signature file %s: cannot read", st->what);
		return rc;
	}
	if (sb_member_split(&st->cur.hdr.name, &prefix, &st->cur.path, &block) ||
	    !strncmp(prefix, "multivol", 8) || !strcmp(prefix, "diff")) {
		sb_error("signature file %s: unexpected member %s", st->what,
			 sb_log_str((const char *)st->cur.hdr.name.data, st->cur.hdr.name.len));
		return SB_ERR_CORRUPT;
	}
	if (!strcmp(prefix, "signature"))
		st->cur.kind = SB_SIG_SIGNATURE;
	else if (!strcmp(prefix, "deleted"))
		st->cur.kind = SB_SIG_DELETED;
	else
		st->cur.kind = SB_SIG_SNAPSHOT;
	st->has = 1;
	return 1;
}

int sb_sigstate_new(struct sb_reader *streams, const char *const *what, size_t n,
		    struct sb_sigstate **out)
{
	struct sb_sigstate *s = calloc(1, sizeof(*s));
	size_t i;
	int rc;

	if (!s || !(s->s = calloc(n ? n : 1, sizeof(*s->s)))) {
		free(s);
		return SB_ERR_NOMEM;
	}
	s->n = n;
	for (i = 0; i < n; i++) {
		sb_tar_entry_init(&s->s[i].cur.hdr);
		s->s[i].what = what[i];
		s->s[i].tar = sb_tar_reader_new(streams[i]);
		if (!s->s[i].tar) {
			sb_sigstate_free(s);
			return SB_ERR_NOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		rc = stream_advance(&s->s[i]);
		if (rc < 0) {
			sb_sigstate_free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

int sb_sigstate_peek(struct sb_sigstate *s, const struct sb_sigentry **e)
{
	struct stream *best;
	size_t i;
	int c, rc;

	for (;;) {
		if (s->chosen) {
			*e = &s->chosen->cur;
			return 1;
		}
		best = NULL;
		for (i = 0; i < s->n; i++) {
			if (!s->s[i].has)
				continue;
			c = best ? sb_path_cmp((const char *)s->s[i].cur.path.data,
					       s->s[i].cur.path.len,
					       (const char *)best->cur.path.data,
					       best->cur.path.len)
				 : -1;
			if (c <= 0) /* equal paths: the later (newer) stream wins */
				best = &s->s[i];
		}
		if (!best)
			return 0;
		s->chosen = best;
		if (best->cur.kind != SB_SIG_DELETED)
			continue;
		rc = sb_sigstate_next(s);
		if (rc < 0)
			return rc;
	}
}

int sb_sigstate_read_sig(struct sb_sigstate *s, struct sb_buf *out)
{
	char buf[65536];
	ssize_t n;
	int rc;

	sb_buf_reset(out);
	if (!s->chosen)
		return SB_ERR_INTERNAL;
	while ((n = sb_tar_reader_read(s->chosen->tar, buf, sizeof(buf))) > 0)
		if ((rc = sb_buf_add(out, buf, (size_t)n)))
			return rc;
	if (n < 0)
		sb_error("signature file %s: cannot read", s->chosen->what);
	return n < 0 ? (int)n : 0;
}

int sb_sigstate_next(struct sb_sigstate *s)
{
	struct stream *ch = s->chosen;
	struct sb_buf path = SB_BUF_INIT;
	size_t i;
	int rc = 0;

	if (!ch)
		return 0;
	s->chosen = NULL;
	if (sb_buf_set(&path, ch->cur.path.data, ch->cur.path.len))
		return SB_ERR_NOMEM;
	for (i = 0; i < s->n && rc >= 0; i++)
		if (s->s[i].has &&
		    !sb_path_cmp((const char *)s->s[i].cur.path.data, s->s[i].cur.path.len,
				 (const char *)path.data, path.len))
			rc = stream_advance(&s->s[i]);
	sb_buf_release(&path);
	return rc < 0 ? rc : 0;
}

void sb_sigstate_free(struct sb_sigstate *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		sb_tar_reader_free(s->s[i].tar);
		sb_tar_entry_release(&s->s[i].cur.hdr);
		sb_buf_release(&s->s[i].cur.path);
	}
	free(s->s);
	free(s);
}
