/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport_s3.c - s3://BUCKET/PREFIX targets: objects in an S3-compatible
 * store, over libcurl with AWS Signature V4 (CURLOPT_AWS_SIGV4).
 *
 * Names are the keys PREFIX/name; deeper keys are not the target's. There
 * is no rename: an upload collects its bytes in memory, a part at a time,
 * and a single PUT (or CompleteMultipartUpload above the part size) makes
 * the object appear whole. Every request carries the SHA-256 of its body
 * (x-amz-content-sha256, which curl 7.88 signs but does not compute for a
 * streamed body), so the store refuses bytes altered in transit. A multipart
 * upload that fails is aborted; one that a killed run left is listed as
 * SB_TMP_PREFIX name ".upload-" id, and deleting that name aborts it.
 * Downloads are ranged GETs of GET_CHUNK bytes, each one retried alone, the
 * later ones bound to the first one's ETag (If-Match).
 *
 * Requests, their signatures and retries are s3_http.c's; this file says
 * what to ask the store for. Listings are not trusted to be fresh (Swift's
 * lag behind writes): nothing here concludes from a name missing from one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/tmpname.h"
#include "s3_config.h"
#include "s3_http.h"
#include "s3_xml.h"
#include "transport_impl.h"

#define GET_CHUNK (16u << 20)  /* bytes of one ranged GET */
#define PART_MIN_MIB 5	       /* S3's smallest part */
#define PARTS_MAX 10000	       /* S3's most parts */
#define LIST_PAGES_MAX 100000  /* pages of one listing before it is refused */
#define UPLOAD_MARK ".upload-" /* between name and upload id in a tmp name */

struct s3_transport {
	struct sb_transport base;
	struct s3_http http; /* endpoint, credentials, retries, curl handles */
	size_t part_size;    /* bytes of a multipart part; also the single-PUT limit */
};

struct s3_get {
	struct sb_transport_get base;
	char *name;
	struct sb_buf chunk; /* the current range */
	size_t pos;	     /* read so far of chunk */
	uint64_t off;	     /* object offset just past chunk */
	uint64_t total;	     /* object size */
	char etag[256];	     /* of the first reply, "" if none */
};

struct s3_put {
	struct sb_transport_put base;
	char *name;
	struct sb_buf part; /* bytes not sent yet, < part_size */
	char *upload_id;    /* multipart: once the first part is full */
	char **etags;	    /* of parts 1..nparts, owned */
	unsigned nparts;
	bool done; /* the object is complete */
	int err;   /* sticky failure */
};

static const struct sb_transport_ops s3_ops;

/* ------------------------------------------------------------ open, close */

int sb_transport_s3_open(const char *url, const struct sb_transport_opts *o,
			 struct sb_transport **out)
{
	struct s3_transport *st;
	unsigned mib;
	int rc;

	mib = o->s3_part_mib ? o->s3_part_mib : SB_S3_PART_MIB;
	if (mib < PART_MIN_MIB || mib > 5120) {
		sb_error("target %s: --s3-part-size must be 5 to 5120 (MiB)", url);
		return SB_ERR_PARAM;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return SB_ERR_NOMEM;
	st->base.ops = &s3_ops;
	st->part_size = (size_t)mib << 20;
	if ((rc = s3_http_init(&st->http, url, o))) {
		s3_http_release(&st->http);
		free(st);
		return rc;
	}
	if (asprintf(&st->base.desc, "s3://%s/%.*s", st->http.cfg.bucket,
		     (int)(strlen(st->http.cfg.prefix) ? strlen(st->http.cfg.prefix) - 1 : 0),
		     st->http.cfg.prefix) < 0) {
		s3_http_release(&st->http);
		free(st);
		return SB_ERR_NOMEM;
	}
	st->http.desc = st->base.desc;
	*out = &st->base;
	return 0;
}

static void s3_close(struct sb_transport *t)
{
	struct s3_transport *st = (struct s3_transport *)t;

	s3_http_release(&st->http);
	free(st->base.desc);
	free(st);
}

/* ------------------------------------------------------------ list */

static int names_add(struct sb_dirent_list *l, size_t *cap, const char *name, uint64_t size)
{
	if (l->n >= SB_DIRENT_MAX)
		return SB_ERR_CORRUPT;
	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		char **nn = realloc(l->names, ncap * sizeof(*nn));
		uint64_t *ns;

		if (!nn)
			return SB_ERR_NOMEM;
		l->names = nn;
		ns = realloc(l->sizes, ncap * sizeof(*ns));
		if (!ns)
			return SB_ERR_NOMEM;
		l->sizes = ns;
		*cap = ncap;
	}
	if (!(l->names[l->n] = strdup(name)))
		return SB_ERR_NOMEM;
	l->sizes[l->n++] = size;
	return 0;
}

/* The name below the prefix of key, or NULL when key is not one of ours. */
static const char *own_name(const struct s3_transport *st, const char *key)
{
	size_t pl = strlen(st->http.cfg.prefix);
	const char *n;

	if (strncmp(key, st->http.cfg.prefix, pl))
		return NULL;
	n = key + pl;
	if (!*n || strchr(n, '/') || strlen(n) > 255)
		return NULL;
	for (const char *p = n; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return n;
}

static int list_objects(struct s3_transport *st, struct sb_dirent_list *l, size_t *cap)
{
	struct sb_buf q = SB_BUF_INIT, body = SB_BUF_INIT;
	struct s3_list_page pg = {0};
	char *token = NULL;
	const char *name;
	size_t pages, i;
	int rc = 0;

	for (pages = 0; !rc; pages++) {
		if (pages >= LIST_PAGES_MAX) {
			sb_error("target %s: the listing goes on past %u pages: not a target "
				 "sealbox reads",
				 st->base.desc, LIST_PAGES_MAX);
			rc = SB_ERR_CORRUPT;
			break;
		}
		sb_buf_reset(&q);
		if (token) {
			rc = sb_buf_addstr(&q, "continuation-token=");
			if (!rc)
				rc = s3_uri_encode(&q, token, false);
			if (!rc)
				rc = sb_buf_addch(&q, '&');
		}
		if (!rc)
			rc = sb_buf_addstr(&q, "delimiter=%2F&list-type=2&prefix=");
		if (!rc)
			rc = s3_uri_encode(&q, st->http.cfg.prefix, false);
		if (rc)
			break;
		struct s3_req r = {.method = "GET",
				   .what = "list",
				   .query = sb_buf_str(&q),
				   .out = &body,
				   .out_max = S3_XML_REPLY_MAX};
		if ((rc = s3_perform(&st->http, &r)))
			break;
		rc = s3_xml_list_parse((const char *)body.data, body.len, &pg);
		if (rc) {
			sb_error("target %s: list: the store's reply is not a ListObjectsV2 result",
				 st->base.desc);
			break;
		}
		for (i = 0; i < pg.n && !rc; i++)
			if ((name = own_name(st, pg.v[i].key)))
				rc = names_add(l, cap, name, pg.v[i].size);
		if (rc == SB_ERR_CORRUPT)
			sb_error("%s holds more than %u files: not a target sealbox reads",
				 st->base.desc, SB_DIRENT_MAX);
		if (!rc && pg.truncated) {
			if (token && !strcmp(token, pg.next_token)) {
				sb_error("target %s: list: the store repeats a continuation token",
					 st->base.desc);
				rc = SB_ERR_CORRUPT;
			}
			free(token);
			token = pg.next_token;
			pg.next_token = NULL;
		}
		bool more = pg.truncated;
		s3_list_page_release(&pg);
		if (!more)
			break;
	}
	free(token);
	sb_buf_release(&q);
	sb_buf_release(&body);
	return rc;
}

/* Upload ids we can put in a name and back into a query. */
static bool plain_id(const char *id)
{
	if (!*id || strlen(id) > 512)
		return false;
	for (; *id; id++)
		if (!((*id >= 'A' && *id <= 'Z') || (*id >= 'a' && *id <= 'z') ||
		      (*id >= '0' && *id <= '9') || strchr("-._~", *id)))
			return false;
	return true;
}

/* Multipart uploads under the prefix, as SB_TMP_PREFIX name UPLOAD_MARK id.
 * Best effort: a store that does not list them (or forbids it) has none. */
static int list_uploads(struct s3_transport *st, struct sb_dirent_list *l, size_t *cap)
{
	struct sb_buf q = SB_BUF_INIT, body = SB_BUF_INIT, tmp = SB_BUF_INIT;
	struct s3_uploads_page pg = {0};
	char *key_marker = NULL, *id_marker = NULL;
	const char *name;
	size_t pages, i;
	int rc = 0;

	for (pages = 0; !rc && pages < 1000; pages++) {
		sb_buf_reset(&q);
		rc = sb_buf_addstr(&q, "delimiter=%2F&");
		if (!rc && key_marker) {
			rc = sb_buf_addstr(&q, "key-marker=");
			if (!rc)
				rc = s3_uri_encode(&q, key_marker, false);
			if (!rc)
				rc = sb_buf_addch(&q, '&');
		}
		if (!rc)
			rc = sb_buf_addstr(&q, "prefix=");
		if (!rc)
			rc = s3_uri_encode(&q, st->http.cfg.prefix, false);
		if (!rc && id_marker) {
			rc = sb_buf_addstr(&q, "&upload-id-marker=");
			if (!rc)
				rc = s3_uri_encode(&q, id_marker, false);
		}
		if (!rc)
			rc = sb_buf_addstr(&q, "&uploads=");
		if (rc)
			break;
		struct s3_req r = {.method = "GET",
				   .what = "list multipart uploads",
				   .query = sb_buf_str(&q),
				   .out = &body,
				   .out_max = S3_XML_REPLY_MAX,
				   .quiet = true};
		if (s3_perform(&st->http, &r)) {
			sb_debug("target %s: no listing of multipart uploads (HTTP %ld)",
				 st->base.desc, r.status);
			break;
		}
		if (s3_xml_uploads_parse((const char *)body.data, body.len, &pg)) {
			sb_debug("target %s: unreadable listing of multipart uploads",
				 st->base.desc);
			break;
		}
		for (i = 0; i < pg.n && !rc; i++) {
			if (!(name = own_name(st, pg.v[i].key)) || !plain_id(pg.v[i].upload_id))
				continue;
			sb_buf_reset(&tmp);
			rc = sb_buf_addf(&tmp, "%s%s%s%s", SB_TMP_PREFIX, name, UPLOAD_MARK,
					 pg.v[i].upload_id);
			if (!rc)
				rc = names_add(l, cap, sb_buf_str(&tmp), 0);
		}
		bool more = pg.truncated && pg.next_key;
		if (more) {
			free(key_marker), free(id_marker);
			key_marker = pg.next_key, id_marker = pg.next_upload_id;
			pg.next_key = pg.next_upload_id = NULL;
		}
		s3_uploads_page_release(&pg);
		if (!more)
			break;
	}
	free(key_marker), free(id_marker);
	sb_buf_release(&q);
	sb_buf_release(&body);
	sb_buf_release(&tmp);
	return rc;
}

static int cmp_entries(const void *a, const void *b, void *ctx)
{
	char **names = ctx;

	return strcmp(names[*(const size_t *)a], names[*(const size_t *)b]);
}

/* Sort names (and their sizes with them); drop duplicate names. */
static int sort_list(struct sb_dirent_list *l)
{
	size_t *idx, i, k = 0;
	char **nn;
	uint64_t *ns;

	if (l->n < 2)
		return 0;
	idx = malloc(l->n * sizeof(*idx));
	nn = malloc(l->n * sizeof(*nn));
	ns = malloc(l->n * sizeof(*ns));
	if (!idx || !nn || !ns) {
		free(idx), free(nn), free(ns);
		return SB_ERR_NOMEM;
	}
	for (i = 0; i < l->n; i++)
		idx[i] = i;
	qsort_r(idx, l->n, sizeof(*idx), cmp_entries, l->names);
	for (i = 0; i < l->n; i++) {
		if (k && !strcmp(nn[k - 1], l->names[idx[i]])) {
			free(l->names[idx[i]]);
			continue;
		}
		nn[k] = l->names[idx[i]];
		ns[k++] = l->sizes[idx[i]];
	}
	free(idx);
	free(l->names);
	free(l->sizes);
	l->names = nn, l->sizes = ns, l->n = k;
	return 0;
}

static int s3_list(struct sb_transport *t, struct sb_dirent_list *out)
{
	struct s3_transport *st = (struct s3_transport *)t;
	struct sb_dirent_list l = {0};
	size_t cap = 0;
	int rc;

	rc = list_objects(st, &l, &cap);
	if (!rc)
		rc = list_uploads(st, &l, &cap);
	if (!rc)
		rc = sort_list(&l);
	if (rc) {
		sb_dirent_list_release(&l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ------------------------------------------------------------ get */

/* The next range of g's object into g->chunk. */
static int get_chunk(struct s3_transport *st, struct s3_get *g)
{
	uint64_t want = g->off == 0 ? GET_CHUNK : g->total - g->off;
	int rc;

	if (want > GET_CHUNK)
		want = GET_CHUNK;
	struct s3_req r = {.method = "GET",
			   .what = "download of",
			   .name = g->name,
			   .ranged = true,
			   .from = g->off,
			   .to = g->off + want - 1,
			   .if_match = g->etag,
			   .out = &g->chunk,
			   .out_max = GET_CHUNK,
			   .quiet_status = g->off == 0 ? 416 : 0};
	rc = s3_perform(&st->http, &r);
	if (rc == SB_ERR_NOTFOUND && r.status == 416) {
		g->total = 0; /* an empty object has no byte 0 */
		sb_buf_reset(&g->chunk);
		return 0;
	}
	if (rc)
		return rc;
	if (g->off == 0) {
		if (r.status == 206 && r.have_total)
			g->total = r.total;
		else if (r.status == 200)
			g->total = g->chunk.len; /* the store ignored the range */
		else {
			sb_error("target %s: GET %s%s: a partial reply without its total size",
				 st->base.desc, st->http.cfg.prefix, g->name);
			return SB_ERR_TRANSPORT;
		}
		snprintf(g->etag, sizeof(g->etag), "%s", r.etag);
		want = g->total < GET_CHUNK ? g->total : GET_CHUNK;
	} else if (r.status != 206 || (r.have_total && r.total != g->total)) {
		sb_error("target %s: GET %s%s: the object changed during the download",
			 st->base.desc, st->http.cfg.prefix, g->name);
		return SB_ERR_TRANSPORT;
	}
	if (g->chunk.len != want) {
		sb_error("target %s: GET %s%s: %zu bytes came for a range of %llu", st->base.desc,
			 st->http.cfg.prefix, g->name, g->chunk.len, (unsigned long long)want);
		return SB_ERR_TRANSPORT;
	}
	g->off += g->chunk.len;
	g->pos = 0;
	return 0;
}

static int s3_get_open(struct sb_transport *t, const char *name, struct sb_transport_get **out)
{
	struct s3_transport *st = (struct s3_transport *)t;
	struct s3_get *g = calloc(1, sizeof(*g));
	int rc;

	if (!g || !(g->name = strdup(name))) {
		free(g);
		return SB_ERR_NOMEM;
	}
	g->base.t = t;
	sb_buf_init(&g->chunk);
	if ((rc = get_chunk(st, g))) {
		sb_buf_release(&g->chunk);
		free(g->name);
		free(g);
		return rc;
	}
	*out = &g->base;
	return 0;
}

static ssize_t s3_get_read(struct sb_transport_get *gt, void *buf, size_t n)
{
	struct s3_get *g = (struct s3_get *)gt;
	int rc;

	if (g->pos == g->chunk.len) {
		if (g->off >= g->total)
			return 0;
		if ((rc = get_chunk((struct s3_transport *)gt->t, g)))
			return rc;
	}
	if (n > g->chunk.len - g->pos)
		n = g->chunk.len - g->pos;
	memcpy(buf, g->chunk.data + g->pos, n);
	g->pos += n;
	return (ssize_t)n;
}

static void s3_get_close(struct sb_transport_get *gt)
{
	struct s3_get *g = (struct s3_get *)gt;

	sb_buf_release(&g->chunk);
	free(g->name);
	free(g);
}

/* ------------------------------------------------------------ put */

static int s3_put_open(struct sb_transport *t, const char *name, struct sb_transport_put **out)
{
	struct s3_put *p = calloc(1, sizeof(*p));

	if (!p || !(p->name = strdup(name))) {
		free(p);
		return SB_ERR_NOMEM;
	}
	p->base.t = t;
	sb_buf_init(&p->part);
	*out = &p->base;
	return 0;
}

static int mpu_create(struct s3_transport *st, struct s3_put *p)
{
	struct sb_buf body = SB_BUF_INIT;
	struct s3_req r = {.method = "POST",
			   .what = "start of the multipart upload of",
			   .name = p->name,
			   .query = "uploads=",
			   .out = &body,
			   .out_max = S3_ERR_BODY_MAX};
	int rc = s3_perform(&st->http, &r);

	if (!rc && s3_xml_text((const char *)body.data, body.len, "UploadId", &p->upload_id)) {
		sb_error("target %s: POST %s%s?uploads: no UploadId in the store's reply",
			 st->base.desc, st->http.cfg.prefix, p->name);
		rc = SB_ERR_TRANSPORT;
	}
	if (!rc && !plain_id(p->upload_id)) {
		sb_error("target %s: POST %s%s?uploads: an upload id sealbox cannot use",
			 st->base.desc, st->http.cfg.prefix, p->name);
		free(p->upload_id);
		p->upload_id = NULL;
		rc = SB_ERR_TRANSPORT;
	}
	sb_buf_release(&body);
	return rc;
}

/* Send p->part as the next part. */
static int mpu_part(struct s3_transport *st, struct s3_put *p)
{
	char query[700];
	char **e;
	int rc;

	if (p->nparts >= PARTS_MAX) {
		sb_error("target %s: %s is larger than %u parts of %zu MiB: use a larger "
			 "--s3-part-size",
			 st->base.desc, p->name, PARTS_MAX, st->part_size >> 20);
		return SB_ERR_PARAM;
	}
	if (!p->upload_id && (rc = mpu_create(st, p)))
		return rc;
	snprintf(query, sizeof(query), "partNumber=%u&uploadId=%s", p->nparts + 1, p->upload_id);
	struct s3_req r = {.method = "PUT",
			   .what = "upload (a part) of",
			   .name = p->name,
			   .query = query,
			   .body = p->part.data,
			   .body_len = p->part.len};
	if ((rc = s3_perform(&st->http, &r)))
		return rc;
	if (!r.etag[0]) {
		sb_error("target %s: PUT %s%s part %u: no ETag in the store's reply", st->base.desc,
			 st->http.cfg.prefix, p->name, p->nparts + 1);
		return SB_ERR_TRANSPORT;
	}
	e = realloc(p->etags, (p->nparts + 1) * sizeof(*e));
	if (!e)
		return SB_ERR_NOMEM;
	p->etags = e;
	if (!(e[p->nparts] = strdup(r.etag)))
		return SB_ERR_NOMEM;
	p->nparts++;
	sb_buf_reset(&p->part);
	return 0;
}

static int xml_escape(struct sb_buf *b, const char *s)
{
	int rc = 0;

	for (; *s && !rc; s++)
		switch (*s) {
		case '&': rc = sb_buf_addstr(b, "&amp;"); break;
		case '<': rc = sb_buf_addstr(b, "&lt;"); break;
		case '>': rc = sb_buf_addstr(b, "&gt;"); break;
		case '"': rc = sb_buf_addstr(b, "&quot;"); break;
		default: rc = sb_buf_addch(b, *s);
		}
	return rc;
}

static int mpu_complete(struct s3_transport *st, struct s3_put *p)
{
	struct sb_buf x = SB_BUF_INIT, reply = SB_BUF_INIT;
	char query[600], *code = NULL;
	unsigned i;
	int rc;

	rc = sb_buf_addstr(&x, "<CompleteMultipartUpload>");
	for (i = 0; i < p->nparts && !rc; i++) {
		rc = sb_buf_addf(&x, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
		if (!rc)
			rc = xml_escape(&x, p->etags[i]);
		if (!rc)
			rc = sb_buf_addstr(&x, "</ETag></Part>");
	}
	if (!rc)
		rc = sb_buf_addstr(&x, "</CompleteMultipartUpload>");
	snprintf(query, sizeof(query), "uploadId=%s", p->upload_id);
	struct s3_req r = {.method = "POST",
			   .what = "completion of the multipart upload of",
			   .name = p->name,
			   .query = query,
			   .body = x.data,
			   .body_len = x.len,
			   .out = &reply,
			   .out_max = S3_ERR_BODY_MAX};
	if (!rc)
		rc = s3_perform(&st->http, &r);
	/* the store may fail a completion after its 200 (an <Error> body) */
	if (!rc &&
	    s3_xml_text((const char *)reply.data, reply.len, "Error", &code) != SB_ERR_NOTFOUND) {
		free(code);
		code = NULL;
		s3_xml_text((const char *)reply.data, reply.len, "Code", &code);
		sb_error("target %s: completing the upload of s3://%s/%s%s failed: %s",
			 st->base.desc, st->http.cfg.bucket, st->http.cfg.prefix, p->name,
			 code ? sb_log_str(code, strlen(code)) : "an error reply");
		rc = SB_ERR_TRANSPORT;
	}
	free(code);
	sb_buf_release(&x);
	sb_buf_release(&reply);
	return rc;
}

static int s3_put_write(struct sb_transport_put *pt, const void *buf, size_t n)
{
	struct s3_put *p = (struct s3_put *)pt;
	struct s3_transport *st = (struct s3_transport *)pt->t;
	const char *c = buf;
	size_t take;
	int rc;

	if (p->err)
		return p->err;
	while (n) {
		take = st->part_size - p->part.len;
		if (take > n)
			take = n;
		if ((rc = sb_buf_add(&p->part, c, take)))
			return p->err = rc;
		c += take, n -= take;
		/* a full part goes now, unless it may be the whole object */
		if (p->part.len == st->part_size && n && (rc = mpu_part(st, p)))
			return p->err = rc;
		if (p->part.len == st->part_size && !n && p->upload_id && (rc = mpu_part(st, p)))
			return p->err = rc;
	}
	return 0;
}

static int s3_put_commit(struct sb_transport_put *pt)
{
	struct s3_put *p = (struct s3_put *)pt;
	struct s3_transport *st = (struct s3_transport *)pt->t;
	int rc;

	if (p->err)
		return p->err;
	if (!p->upload_id && p->part.len <= st->part_size) {
		struct s3_req r = {.method = "PUT",
				   .what = "upload of",
				   .name = p->name,
				   .body = p->part.data,
				   .body_len = p->part.len};
		rc = s3_perform(&st->http, &r);
	} else {
		rc = p->part.len ? mpu_part(st, p) : 0;
		if (!rc)
			rc = mpu_complete(st, p);
	}
	if (rc)
		return p->err = rc;
	p->done = true;
	return 0;
}

static void mpu_abort(struct s3_transport *st, const char *name, const char *id)
{
	char query[600];

	snprintf(query, sizeof(query), "uploadId=%s", id);
	struct s3_req r = {.method = "DELETE",
			   .what = "abort of the upload of",
			   .name = name,
			   .query = query,
			   .quiet = true};
	if (s3_perform(&st->http, &r) && r.status != 404)
		sb_notice("target %s: could not abort the upload of %s%s (the next backup "
			  "removes it)",
			  st->base.desc, st->http.cfg.prefix, name);
}

static void s3_put_release(struct sb_transport_put *pt, bool discard)
{
	struct s3_put *p = (struct s3_put *)pt;
	unsigned i;

	(void)discard; /* nothing appears before commit: there is nothing else to remove */
	if (p->upload_id && !p->done)
		mpu_abort((struct s3_transport *)pt->t, p->name, p->upload_id);
	for (i = 0; i < p->nparts; i++)
		free(p->etags[i]);
	free(p->etags);
	free(p->upload_id);
	sb_buf_release(&p->part);
	free(p->name);
	free(p);
}

/* ------------------------------------------------------------ delete */

static int s3_delete(struct sb_transport *t, const char *name)
{
	struct s3_transport *st = (struct s3_transport *)t;
	size_t tl = strlen(SB_TMP_PREFIX);
	const char *mark;
	char *key;
	int rc;

	if (!strncmp(name, SB_TMP_PREFIX, tl) && (mark = strstr(name + tl, UPLOAD_MARK)) &&
	    plain_id(mark + strlen(UPLOAD_MARK))) {
		/* a multipart upload a killed run left (s3_list's name for it) */
		char query[700];

		key = strndup(name + tl, (size_t)(mark - name - tl));
		if (!key)
			return SB_ERR_NOMEM;
		snprintf(query, sizeof(query), "uploadId=%s", mark + strlen(UPLOAD_MARK));
		struct s3_req r = {.method = "DELETE",
				   .what = "abort of the upload of",
				   .name = key,
				   .query = query,
				   .quiet_status = 404};
		rc = s3_perform(&st->http, &r);
		free(key);
		if (rc != SB_ERR_NOTFOUND)
			return rc;
		/* no such upload: perhaps an object of that name (copied from a
		 * file:// target), which the code below removes */
	}
	struct s3_req r = {.method = "DELETE", .what = "delete", .name = name, .quiet_status = 404};
	rc = s3_perform(&st->http, &r);
	return rc == SB_ERR_NOTFOUND ? 0 : rc; /* gone already */
}

static const struct sb_transport_ops s3_ops = {
	.close = s3_close,
	.list = s3_list,
	.get_open = s3_get_open,
	.get_read = s3_get_read,
	.get_close = s3_get_close,
	.put_open = s3_put_open,
	.put_write = s3_put_write,
	.put_commit = s3_put_commit,
	.put_release = s3_put_release,
	.delete_file = s3_delete,
};
