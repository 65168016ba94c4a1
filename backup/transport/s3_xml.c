/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3_xml.c - the S3 replies sealbox reads, parsed from a bounded buffer by
 * element name (see s3_xml.h). Not an XML parser: it finds <Tag>...</Tag>
 * pairs inside a range and decodes their text, which is all these replies
 * need; anything it does not understand inside a text it needs is corrupt.
 */
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "s3_xml.h"

/* A byte range of the reply. */
struct span {
	const char *p, *end;
};

static const char *find(const char *p, const char *end, const char *s, size_t n)
{
	if (n == 0 || end - p < (ptrdiff_t)n)
		return NULL;
	return memmem(p, (size_t)(end - p), s, n);
}

/*
 * The first element named tag inside r: its content in *body, and in *rest
 * what follows its end tag. "<Tag>" and "<Tag attr...>" open it; "<Tag/>"
 * is an empty element. 0, SB_ERR_NOTFOUND, SB_ERR_CORRUPT (no end tag).
 */
static int element(struct span r, const char *tag, struct span *body, struct span *rest)
{
	char open[64], close[64];
	size_t tl = strlen(tag);
	const char *p = r.p, *q, *gt, *e;

	if (tl + 4 > sizeof(open))
		return SB_ERR_CORRUPT;
	open[0] = '<';
	memcpy(open + 1, tag, tl);
	close[0] = '<', close[1] = '/';
	memcpy(close + 2, tag, tl);
	close[tl + 2] = '>';
	for (;;) {
		q = find(p, r.end, open, tl + 1);
		if (!q)
			return SB_ERR_NOTFOUND;
		q += tl + 1;
		if (q < r.end &&
		    (*q == '>' || *q == ' ' || *q == '/' || *q == '\t' || *q == '\n' || *q == '\r'))
			break;
		p = q; /* a longer name with this one as prefix */
	}
	gt = memchr(q, '>', (size_t)(r.end - q));
	if (!gt)
		return SB_ERR_CORRUPT;
	if (gt[-1] == '/') { /* <Tag/> */
		body->p = body->end = gt + 1;
		rest->p = gt + 1, rest->end = r.end;
		return 0;
	}
	e = find(gt + 1, r.end, close, tl + 3);
	if (!e)
		return SB_ERR_CORRUPT;
	body->p = gt + 1, body->end = e;
	rest->p = e + tl + 3, rest->end = r.end;
	return 0;
}

static size_t utf8_put(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* &#N; &#xH; at p (after "&#"), up to ';' before end. 0 or -1. */
static int char_ref(const char *p, const char *semi, unsigned long *cp)
{
	unsigned long v = 0;
	int base = 10, d;

	if (p < semi && *p == 'x')
		base = 16, p++;
	if (p == semi || semi - p > 8)
		return -1;
	for (; p < semi; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -1;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	*cp = v;
	return 0;
}

/* Decode the text of s into a new string. */
static int text(struct span s, char **out)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	size_t n = (size_t)(s.end - s.p), o = 0, i;
	const char *p = s.p, *semi;
	unsigned long cp;
	char *d;

	*out = NULL;
	if (n > S3_XML_TEXT_MAX)
		return SB_ERR_CORRUPT;
	d = malloc(n + 1); /* decoding never grows the text */
	if (!d)
		return SB_ERR_NOMEM;
	while (p < s.end) {
		if (*p == '<' || *p == '\0')
			goto bad;
		if (*p != '&') {
			d[o++] = *p++;
			continue;
		}
		semi = memchr(p, ';', (size_t)(s.end - p));
		if (!semi)
			goto bad;
		if (p + 1 < semi && p[1] == '#') {
			if (char_ref(p + 2, semi, &cp))
				goto bad;
			o += utf8_put(d + o, cp); /* at most 4 bytes for >= 4 of input */
		} else {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
				if ((size_t)(semi - p - 1) == strlen(ents[i].name) &&
				    !memcmp(p + 1, ents[i].name, strlen(ents[i].name)))
					break;
			if (i == sizeof(ents) / sizeof(ents[0]))
				goto bad;
			d[o++] = ents[i].c;
		}
		p = semi + 1;
	}
	d[o] = '\0';
	*out = d;
	return 0;
bad:
	free(d);
	return SB_ERR_CORRUPT;
}

int s3_xml_text(const char *xml, size_t len, const char *tag, char **out)
{
	struct span body, rest;
	int rc;

	*out = NULL;
	rc = element((struct span){xml, xml + len}, tag, &body, &rest);
	return rc ? rc : text(body, out);
}

/* The text of tag inside r, or NULL (rc 0) when absent. */
static int opt_text(struct span r, const char *tag, char **out)
{
	struct span body, rest;
	int rc = element(r, tag, &body, &rest);

	*out = NULL;
	if (rc == SB_ERR_NOTFOUND)
		return 0;
	return rc ? rc : text(body, out);
}

static int is_true(struct span r, const char *tag, bool *v)
{
	char *s;
	int rc = opt_text(r, tag, &s);

	*v = false;
	if (rc || !s)
		return rc;
	if (!strcmp(s, "true"))
		*v = true;
	else if (strcmp(s, "false"))
		rc = SB_ERR_CORRUPT;
	free(s);
	return rc;
}

static int parse_size(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return SB_ERR_CORRUPT;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX >> 1) / 10)
			return SB_ERR_CORRUPT;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (x > (UINT64_MAX >> 1))
		return SB_ERR_CORRUPT;
	*v = x;
	return 0;
}

/* Room for one more element in a growing array of elem-sized items. */
static int grow(void **v, size_t n, size_t *cap, size_t elem)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	nv = realloc(*v, ncap * elem);
	if (!nv)
		return SB_ERR_NOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

void s3_list_page_release(struct s3_list_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].key);
	free(p->v);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}

int s3_xml_list_parse(const char *xml, size_t len, struct s3_list_page *out)
{
	struct span r = {xml, xml + len}, body, rest;
	struct s3_list_page pg = {0};
	size_t cap = 0;
	char *size;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = element(r, "ListBucketResult", &body, &rest)))
		return SB_ERR_CORRUPT;
	r = body;
	if ((rc = is_true(r, "IsTruncated", &pg.truncated)) ||
	    (rc = opt_text(r, "NextContinuationToken", &pg.next_token)))
		goto out;
	if (pg.truncated && (!pg.next_token || !*pg.next_token)) {
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	while ((rc = element(r, "Contents", &body, &rest)) == 0) {
		struct s3_object *o;

		r = rest;
		if ((rc = grow((void **)&pg.v, pg.n, &cap, sizeof(*pg.v))))
			goto out;
		o = &pg.v[pg.n];
		if ((rc = opt_text(body, "Key", &o->key)))
			goto out;
		if (!o->key || (rc = opt_text(body, "Size", &size))) {
			free(o->key);
			rc = rc ? rc : SB_ERR_CORRUPT;
			goto out;
		}
		rc = size ? parse_size(size, &o->size) : SB_ERR_CORRUPT;
		free(size);
		if (rc) {
			free(o->key);
			goto out;
		}
		pg.n++;
	}
	if (rc == SB_ERR_NOTFOUND)
		rc = 0;
out:
	if (rc) {
		s3_list_page_release(&pg);
		return rc == SB_ERR_NOMEM ? rc : SB_ERR_CORRUPT;
	}
	*out = pg;
	return 0;
}

void s3_uploads_page_release(struct s3_uploads_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].upload_id);
	}
	free(p->v);
	free(p->next_key);
	free(p->next_upload_id);
	memset(p, 0, sizeof(*p));
}

int s3_xml_uploads_parse(const char *xml, size_t len, struct s3_uploads_page *out)
{
	struct span r = {xml, xml + len}, body, rest;
	struct s3_uploads_page pg = {0};
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = element(r, "ListMultipartUploadsResult", &body, &rest)))
		return SB_ERR_CORRUPT;
	r = body;
	if ((rc = is_true(r, "IsTruncated", &pg.truncated)) ||
	    (rc = opt_text(r, "NextKeyMarker", &pg.next_key)) ||
	    (rc = opt_text(r, "NextUploadIdMarker", &pg.next_upload_id)))
		goto out;
	if (pg.truncated && (!pg.next_key || !*pg.next_key)) {
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	while ((rc = element(r, "Upload", &body, &rest)) == 0) {
		struct s3_upload *u;

		r = rest;
		if ((rc = grow((void **)&pg.v, pg.n, &cap, sizeof(*pg.v))))
			goto out;
		u = &pg.v[pg.n];
		u->key = u->upload_id = NULL;
		if ((rc = opt_text(body, "Key", &u->key)) ||
		    (rc = opt_text(body, "UploadId", &u->upload_id)) || !u->key || !u->upload_id ||
		    !*u->upload_id) {
			free(u->key);
			free(u->upload_id);
			rc = rc ? rc : SB_ERR_CORRUPT;
			goto out;
		}
		pg.n++;
	}
	if (rc == SB_ERR_NOTFOUND)
		rc = 0;
out:
	if (rc) {
		s3_uploads_page_release(&pg);
		return rc == SB_ERR_NOMEM ? rc : SB_ERR_CORRUPT;
	}
	*out = pg;
	return 0;
}
