/* SPDX-License-Identifier: GPL-2.0-or-later */
/* index.c - the per-set index records (see index.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/index.h"
#include "sealbox/log.h"
#include "sealbox/manifest.h"

void sb_index_rec_init(struct sb_index_rec *r)
{
	memset(r, 0, sizeof(*r));
	sb_buf_init(&r->path);
	sb_buf_init(&r->link);
}

void sb_index_rec_release(struct sb_index_rec *r)
{
	sb_buf_release(&r->path);
	sb_buf_release(&r->link);
}

/* A user or group name: "-" when there is none, so a name that is "-" is quoted. */
static int name_out(struct sb_buf *out, const char *name)
{
	if (!name[0])
		return sb_buf_addch(out, '-');
	if (!strcmp(name, "-"))
		return sb_buf_add(out, "\"\\x2d\"", 6);
	return sb_manifest_quote(out, name, strlen(name));
}

int sb_index_format(const struct sb_index_rec *r, struct sb_buf *out)
{
	int rc = sb_buf_addf(out,
			     "%c %c %o %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRIu64 " %u %" PRIu64
			     " %u %u %" PRIx64 " ",
			     r->kind, r->type ? r->type : '0', r->mode, r->uid, r->gid, r->mtime,
			     r->size, r->vol, r->offset, r->devmajor, r->devminor, r->linkgroup);

	if (!rc)
		rc = name_out(out, r->uname);
	if (!rc)
		rc = sb_buf_addch(out, ' ');
	if (!rc)
		rc = name_out(out, r->gname);
	if (!rc)
		rc = sb_buf_addch(out, ' ');
	if (!rc)
		rc = sb_manifest_quote(out, (const char *)r->path.data, r->path.len);
	if (!rc && r->type == '2') {
		rc = sb_buf_addch(out, ' ');
		if (!rc)
			rc = sb_manifest_quote(out, (const char *)r->link.data, r->link.len);
	}
	return rc ? rc : sb_buf_addch(out, '\n');
}

/* Split a line into at most max space-separated tokens. */
static size_t tokens(const char *p, size_t len, const char **tok, size_t *tlen, size_t max)
{
	size_t n = 0, i = 0, s;

	while (i < len && n < max) {
		while (i < len && p[i] == ' ')
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && p[i] != ' ')
			i++;
		tok[n] = p + s;
		tlen[n++] = i - s;
	}
	while (i < len && p[i] == ' ')
		i++;
	return i == len ? n : max + 1;
}

static int num(const char *t, size_t len, int base, uint64_t *v)
{
	char tmp[32], *end;

	if (!len || len >= sizeof(tmp) || t[0] == '-' || t[0] == '+')
		return SB_ERR_CORRUPT;
	memcpy(tmp, t, len);
	tmp[len] = '\0';
	*v = strtoull(tmp, &end, base);
	return *end ? SB_ERR_CORRUPT : 0;
}

static int name_tok(const char *t, size_t len, char *out, size_t size)
{
	struct sb_buf b = SB_BUF_INIT;
	int rc = 0;

	if (len == 1 && t[0] == '-') {
		out[0] = '\0';
		return 0;
	}
	if (sb_manifest_unquote(&b, t, len) || b.len >= size || memchr(sb_buf_str(&b), '\0', b.len))
		rc = SB_ERR_CORRUPT;
	else
		memcpy(out, sb_buf_str(&b), b.len + 1); /* "" leaves b.data NULL */
	sb_buf_release(&b);
	return rc;
}

int sb_index_parse_next(const char *text, size_t len, size_t *pos, struct sb_index_rec *r)
{
	const char *line, *nl, *tok[17];
	size_t tl[17], llen, n;
	uint64_t v[8];
	int i;

	if (*pos >= len)
		return 0;
	line = text + *pos;
	nl = memchr(line, '\n', len - *pos);
	if (!nl)
		return SB_ERR_CORRUPT;
	llen = (size_t)(nl - line);
	*pos += llen + 1;
	n = tokens(line, llen, tok, tl, 16);
	if (n < 15 || n > 16 || tl[0] != 1 || tl[1] != 1 || !strchr("sdx", tok[0][0]))
		return SB_ERR_CORRUPT;
	r->kind = tok[0][0];
	r->type = tok[1][0];
	if (num(tok[2], tl[2], 8, &v[0]) || v[0] > 07777)
		return SB_ERR_CORRUPT;
	r->mode = (uint32_t)v[0];
	/* uid gid mtime size vol offset devmajor devminor, then the link group in hex */
	for (i = 0; i < 8; i++)
		if (num(tok[3 + i], tl[3 + i], 10, &v[i]))
			return SB_ERR_CORRUPT;
	if (num(tok[11], tl[11], 16, &r->linkgroup) || v[4] > UINT32_MAX || v[6] > UINT32_MAX ||
	    v[7] > UINT32_MAX || v[2] > INT64_MAX)
		return SB_ERR_CORRUPT;
	r->uid = v[0];
	r->gid = v[1];
	r->mtime = (int64_t)v[2];
	r->size = v[3];
	r->vol = (unsigned)v[4];
	r->offset = v[5];
	r->devmajor = (uint32_t)v[6];
	r->devminor = (uint32_t)v[7];
	if (name_tok(tok[12], tl[12], r->uname, sizeof(r->uname)) ||
	    name_tok(tok[13], tl[13], r->gname, sizeof(r->gname)))
		return SB_ERR_CORRUPT;
	sb_buf_reset(&r->path);
	sb_buf_reset(&r->link);
	if (sb_manifest_unquote(&r->path, tok[14], tl[14]))
		return SB_ERR_CORRUPT;
	if (n == 16 && sb_manifest_unquote(&r->link, tok[15], tl[15]))
		return SB_ERR_CORRUPT;
	if ((r->type == '2') != (n == 16))
		return SB_ERR_CORRUPT;
	return 1;
}

int sb_index_walk(const void *text, size_t len, const char *what,
		  int (*cb)(void *ctx, const struct sb_index_rec *r), void *ctx)
{
	struct sb_index_rec r;
	size_t pos = strlen(SB_INDEX_HEADER);
	int rc;

	if (len < pos || memcmp(text, SB_INDEX_HEADER, pos)) {
		sb_error("index %s: not a sealbox index", what);
		return SB_ERR_CORRUPT;
	}
	sb_index_rec_init(&r);
	while ((rc = sb_index_parse_next(text, len, &pos, &r)) == 1)
		if ((rc = cb(ctx, &r)))
			break;
	sb_index_rec_release(&r);
	if (rc == SB_ERR_CORRUPT)
		sb_error("index %s is corrupt near byte %zu", what, pos);
	return rc;
}
