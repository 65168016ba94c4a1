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
 * Timeouts, dropped connections, 5xx, 429 and SlowDown are retried with
 * exponential backoff and jitter (s3_retries times); 403, 404 and quota
 * errors are final and said in one line naming the bucket and the key.
 * Listings are not trusted to be fresh (Swift's lag behind writes): nothing
 * here concludes from a name missing from a listing.
 *
 * Each request takes a curl easy handle from a small pool and puts it back,
 * so connections are kept alive and transfers of different threads run in
 * parallel. This file knows no credentials beyond handing them to curl.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/tmpname.h"
#include "s3_config.h"
#include "s3_xml.h"
#include "transport_impl.h"

#define GET_CHUNK (16u << 20)	 /* bytes of one ranged GET */
#define ERR_BODY_MAX (64u << 10) /* bytes of an error reply kept */
#define HANDLES_MAX 8		 /* idle curl handles kept for reuse */
#define PART_MIN_MIB 5		 /* S3's smallest part */
#define PARTS_MAX 10000		 /* S3's most parts */
#define LIST_PAGES_MAX 100000	 /* pages of one listing before it is refused */
#define BACKOFF_BASE 0.5	 /* s before the first retry */
#define BACKOFF_CAP 30.0	 /* s between retries at most */
#define UPLOAD_MARK ".upload-"	 /* between name and upload id in a tmp name */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_transport {
	struct sb_transport base;
	struct s3_config cfg;
	char sigv4[96];	    /* CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3" */
	unsigned retries;   /* of one request after its first try */
	unsigned timeout;   /* s without progress before a request fails */
	size_t part_size;   /* bytes of a multipart part; also the single-PUT limit */
	pthread_mutex_t mu; /* guards idle, nidle */
	CURL *idle[HANDLES_MAX];
	size_t nidle;
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

/* One HTTP exchange, with what came back. */
struct req {
	const char *method; /* GET PUT POST DELETE */
	const char *what;   /* for messages ("list", "upload of"); NULL: method */
	const char *name;   /* object name below the prefix; NULL: the bucket */
	const char *query;  /* canonical query string (sorted, encoded), or NULL */
	const void *body;   /* PUT/POST body */
	size_t body_len;
	bool ranged; /* Range: bytes=from-to */
	uint64_t from, to;
	const char *if_match;
	bool quiet;	    /* do not log a final failure: the caller decides */
	long quiet_status;  /* this final status is SB_ERR_NOTFOUND, not logged */
	struct sb_buf *out; /* 2xx body; NULL: discarded */
	size_t out_max;
	/* filled per attempt */
	long status;
	size_t sent;
	bool overflow;
	struct sb_buf err; /* non-2xx body, first ERR_BODY_MAX bytes */
	char etag[256];
	uint64_t total; /* Content-Range's total */
	bool have_total;
	char curl_err[CURL_ERROR_SIZE];
};

static const struct sb_transport_ops s3_ops;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ------------------------------------------------------------ URLs */

/* AWS's URI encoding: unreserved bytes stay, others %XX; '/' stays if keep_slash. */
static int uri_encode(struct sb_buf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int rc = 0;

	for (p = (const unsigned char *)s; *p && !rc; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
		    (keep_slash && *p == '/'))
			rc = sb_buf_addch(b, *p);
		else
			rc = sb_buf_addf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return rc;
}

/* The URL of name (NULL: the bucket) with query appended. */
static int make_url(struct s3_transport *st, const char *name, const char *query, struct sb_buf *u)
{
	const struct s3_config *c = &st->cfg;
	int rc;

	if (c->path_style)
		rc = sb_buf_addf(u, "%s/%s/", c->endpoint, c->bucket);
	else
		rc = sb_buf_addf(u, "%s://%s.%s%s/", c->https ? "https" : "http", c->bucket,
				 c->host, c->base_path);
	if (!rc && name) {
		rc = uri_encode(u, c->prefix, true);
		if (!rc)
			rc = uri_encode(u, name, false);
	}
	if (!rc && query)
		rc = sb_buf_addf(u, "?%s", query);
	return rc;
}

/* ------------------------------------------------------------ handles */

static CURL *handle_take(struct s3_transport *st)
{
	CURL *c = NULL;

	pthread_mutex_lock(&st->mu);
	if (st->nidle)
		c = st->idle[--st->nidle];
	pthread_mutex_unlock(&st->mu);
	if (c)
		curl_easy_reset(c); /* options only: the connection stays alive */
	else
		c = curl_easy_init();
	return c;
}

static void handle_give(struct s3_transport *st, CURL *c)
{
	pthread_mutex_lock(&st->mu);
	if (st->nidle < HANDLES_MAX) {
		st->idle[st->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	if (c)
		curl_easy_cleanup(c);
}

/* ------------------------------------------------------------ one request */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	size_t len = size * n;

	if (r->status == 0)
		return len; /* an interim (100) response */
	if (r->status >= 200 && r->status < 300) {
		if (!r->out)
			return len;
		if (r->out->len + len > r->out_max) {
			r->overflow = true;
			return 0; /* CURLE_WRITE_ERROR */
		}
		return sb_buf_add(r->out, p, len) ? 0 : len;
	}
	if (r->err.len < ERR_BODY_MAX)
		sb_buf_add(&r->err, p,
			   len < ERR_BODY_MAX - r->err.len ? len : ERR_BODY_MAX - r->err.len);
	return len;
}

static bool header_is(const char *p, size_t len, const char *name, const char **val, size_t *vlen)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(p, name, nl) || p[nl] != ':')
		return false;
	p += nl + 1, len -= nl + 1;
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	*val = p, *vlen = len;
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	size_t len = size * n, vlen;
	const char *v, *slash;
	long code;

	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after 100 Continue): forget the last one's headers */
		const char *sp = memchr(p, ' ', len);

		code = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->status = code >= 200 ? code : 0;
		r->etag[0] = '\0';
		r->have_total = false;
		return len;
	}
	if (header_is(p, len, "ETag", &v, &vlen)) {
		if (vlen < sizeof(r->etag)) {
			memcpy(r->etag, v, vlen);
			r->etag[vlen] = '\0';
		}
	} else if (header_is(p, len, "Content-Range", &v, &vlen) && vlen < 100) {
		char tmp[100];
		unsigned long long t;
		char *e;

		memcpy(tmp, v, vlen);
		tmp[vlen] = '\0';
		slash = strchr(tmp, '/');
		if (slash && slash[1] >= '0' && slash[1] <= '9') {
			t = strtoull(slash + 1, &e, 10);
			if (*e == '\0' && t < (1ull << 62)) {
				r->total = t;
				r->have_total = true;
			}
		}
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
	struct req *r = ctx;
	size_t len = size * n;

	if (len > r->body_len - r->sent)
		len = r->body_len - r->sent;
	if (len)
		memcpy(p, (const char *)r->body + r->sent, len);
	r->sent += len;
	return len;
}

static int on_seek(void *ctx, curl_off_t off, int origin)
{
	struct req *r = ctx;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > r->body_len)
		return CURL_SEEKFUNC_FAIL;
	r->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int set_headers(struct s3_transport *st, struct req *r, struct curl_slist **h)
{
	char line[S3_SECRET_MAX + 64], hex[65];
	unsigned char sum[32];
	struct curl_slist *n;

	if (r->body_len) {
		if (sb_hash_buf(SB_HASH_ALG_SHA256, r->body, r->body_len, sum))
			return SB_ERR_INTERNAL;
		sb_hex(sum, 32, hex);
	} else {
		strcpy(hex, EMPTY_SHA256);
	}
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
	if (!(n = curl_slist_append(*h, line)))
		return SB_ERR_NOMEM;
	*h = n;
	if (st->cfg.session_token[0]) {
		snprintf(line, sizeof(line), "x-amz-security-token: %s", st->cfg.session_token);
		n = curl_slist_append(*h, line);
		explicit_bzero(line, sizeof(line));
		if (!n)
			return SB_ERR_NOMEM;
		*h = n;
	}
	if (r->ranged) {
		snprintf(line, sizeof(line), "Range: bytes=%llu-%llu", (unsigned long long)r->from,
			 (unsigned long long)r->to);
		if (!(n = curl_slist_append(*h, line)))
			return SB_ERR_NOMEM;
		*h = n;
	}
	if (r->if_match && *r->if_match) {
		snprintf(line, sizeof(line), "If-Match: %s", r->if_match);
		if (!(n = curl_slist_append(*h, line)))
			return SB_ERR_NOMEM;
		*h = n;
	}
	return 0;
}

static void set_options(struct s3_transport *st, CURL *c, struct req *r, const char *url,
			struct curl_slist *h)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, st->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, st->cfg.access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, st->cfg.secret_key);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	if (st->cfg.ca_bundle[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, st->cfg.ca_bundle);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)st->timeout);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, r);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	}
}

/* Worth another try: the store or the network failing, not refusing. */
static bool transient(const struct req *r, CURLcode cc, const char *code)
{
	if (cc != CURLE_OK)
		return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
		       cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR ||
		       cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE || cc == CURLE_HTTP2 ||
		       cc == CURLE_HTTP2_STREAM || (cc == CURLE_WRITE_ERROR && !r->overflow);
	if (r->status >= 500 || r->status == 429 || r->status == 408)
		return true;
	return code && (!strcmp(code, "SlowDown") || !strcmp(code, "RequestTimeout") ||
			!strcmp(code, "InternalError"));
}

static bool code_is(const char *code, const char *const *list)
{
	for (; code && *list; list++)
		if (!strcmp(code, *list))
			return true;
	return false;
}

/* The final failure of r: one line, and its sb_err code. */
static int fail(struct s3_transport *st, struct req *r, CURLcode cc, const char *code,
		const char *msg)
{
	static const char *const auth[] = {"InvalidAccessKeyId",
					   "SignatureDoesNotMatch",
					   "RequestTimeTooSkewed",
					   "InvalidToken",
					   "ExpiredToken",
					   "TokenRefreshRequired",
					   "AuthorizationHeaderMalformed",
					   "InvalidSecurity",
					   NULL};
	static const char *const full[] = {"QuotaExceeded", "EntityTooLarge", "InsufficientStorage",
					   "ServiceQuotaExceeded", NULL};
	char where[1400], why[700];
	int rc;

	snprintf(where, sizeof(where), "target %s: %s s3://%s/%s%s", st->base.desc,
		 r->what ? r->what : r->method, st->cfg.bucket, st->cfg.prefix,
		 r->name ? r->name : "");
	snprintf(why, sizeof(why), "%s%s%s", code ? code : "", code && msg ? ": " : "",
		 msg ? msg : "");
	if (cc != CURLE_OK) {
		rc = SB_ERR_TRANSPORT;
		if (r->overflow)
			sb_error("%s: the reply is larger than %zu bytes", where, r->out_max),
				rc = SB_ERR_CORRUPT;
		else
			sb_error("%s: %s (endpoint %s)", where,
				 r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc),
				 st->cfg.endpoint);
	} else if (r->status == 403 && code_is(code, auth)) {
		rc = SB_ERR_AUTH;
		if (!strcmp(code, "RequestTimeTooSkewed"))
			sb_error("%s: the store refused the request: this machine's clock is off "
				 "(%s)",
				 where, why);
		else
			sb_error("%s: the store refused the credentials (%s); check the access key "
				 "and secret key (profile or $AWS_*) and the region %s",
				 where, why, st->cfg.region);
	} else if (r->status == 403) {
		rc = SB_ERR_PERM;
		sb_error("%s: access denied (%s)%s", where, why[0] ? why : "HTTP 403",
			 !strcmp(r->method, "DELETE") && !r->query
				 ? "; these credentials may not delete (a write-only key?)"
				 : "");
	} else if (r->status == 404 && code && !strcmp(code, "NoSuchBucket")) {
		rc = SB_ERR_TRANSPORT;
		sb_error("target %s: no such bucket '%s' at %s (create it first)", st->base.desc,
			 st->cfg.bucket, st->cfg.endpoint);
	} else if (r->status == 404) {
		rc = SB_ERR_NOTFOUND;
		sb_error("%s: no such object", where);
	} else if (r->status == 413 || r->status == 507 || code_is(code, full)) {
		rc = SB_ERR_NOSPACE;
		sb_error("%s: the store refused to take the data: quota exceeded or no space "
			 "left (%s)",
			 where, why[0] ? why : "HTTP 413");
	} else {
		rc = SB_ERR_TRANSPORT;
		sb_error("%s: HTTP %ld%s%s", where, r->status, why[0] ? " " : "", why);
	}
	return rc;
}

static double backoff(unsigned attempt)
{
	double d = BACKOFF_BASE;
	unsigned i;

	for (i = 0; i < attempt && d < BACKOFF_CAP; i++)
		d *= 2;
	if (d > BACKOFF_CAP)
		d = BACKOFF_CAP;
	return d * (0.5 + 0.5 * ((double)random() / RAND_MAX)); /* jitter */
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* The error reply's Code and Message, printable, or NULL. */
static void error_text(const struct req *r, char **code, char **msg)
{
	char *c = NULL, *m = NULL;

	*code = *msg = NULL;
	if (!r->err.len)
		return;
	if (s3_xml_text((const char *)r->err.data, r->err.len, "Code", &c) == 0)
		*code = strdup(sb_log_str(c, strlen(c)));
	if (s3_xml_text((const char *)r->err.data, r->err.len, "Message", &m) == 0)
		*msg = strdup(sb_log_str(m, strlen(m)));
	free(c);
	free(m);
}

/*
 * Run r until it succeeds (2xx), fails for good, or the retries are spent.
 * 0, or the sb_err of the last failure (logged unless r->quiet).
 */
static int perform(struct s3_transport *st, struct req *r)
{
	struct sb_buf url = SB_BUF_INIT;
	struct curl_slist *h = NULL;
	char *code = NULL, *msg = NULL;
	unsigned attempt;
	CURLcode cc;
	CURL *c;
	int rc;

	sb_buf_init(&r->err);
	if ((rc = make_url(st, r->name, r->query, &url)) || (rc = set_headers(st, r, &h)))
		goto out;
	for (attempt = 0;; attempt++) {
		if (!(c = handle_take(st))) {
			rc = SB_ERR_NOMEM;
			break;
		}
		r->status = 0, r->sent = 0, r->overflow = false, r->etag[0] = '\0';
		r->have_total = false, r->curl_err[0] = '\0';
		sb_buf_reset(&r->err);
		if (r->out)
			sb_buf_reset(r->out);
		set_options(st, c, r, sb_buf_str(&url), h);
		cc = curl_easy_perform(c);
		if (cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		handle_give(st, c);
		if (cc == CURLE_OK && r->status >= 200 && r->status < 300) {
			rc = 0;
			break;
		}
		free(code), free(msg);
		error_text(r, &code, &msg);
		if (attempt < st->retries && transient(r, cc, code)) {
			double d = backoff(attempt);

			sb_warn("target %s: %s s3://%s/%s%s: %s; retrying in %.1f s (%u of %u)",
				st->base.desc, r->what ? r->what : r->method, st->cfg.bucket,
				st->cfg.prefix, r->name ? r->name : "",
				cc != CURLE_OK
					? (r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc))
				: code ? code
				       : "server error",
				d, attempt + 1, st->retries);
			sleep_s(d);
			continue;
		}
		if (cc == CURLE_OK && r->quiet_status && r->status == r->quiet_status)
			rc = SB_ERR_NOTFOUND;
		else if (r->quiet)
			rc = r->status == 404 ? SB_ERR_NOTFOUND : SB_ERR_TRANSPORT;
		else
			rc = fail(st, r, cc, code, msg);
		break;
	}
out:
	free(code), free(msg);
	curl_slist_free_all(h);
	sb_buf_release(&url);
	sb_buf_release(&r->err);
	return rc;
}

/* ------------------------------------------------------------ open, close */

int sb_transport_s3_open(const char *url, const struct sb_transport_opts *o,
			 struct sb_transport **out)
{
	struct s3_transport *st;
	unsigned mib;
	int rc;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		sb_error("target %s: libcurl: %s", url, curl_easy_strerror(curl_init_rc));
		return SB_ERR_INTERNAL;
	}
	mib = o->s3_part_mib ? o->s3_part_mib : SB_S3_PART_MIB;
	if (mib < PART_MIN_MIB || mib > 5120) {
		sb_error("target %s: --s3-part-size must be 5 to 5120 (MiB)", url);
		return SB_ERR_PARAM;
	}
	if (o->s3_retries_set && o->s3_retries > 100) {
		sb_error("target %s: --s3-retries must be 0 to 100", url);
		return SB_ERR_PARAM;
	}
	if (o->s3_timeout > 3600) {
		sb_error("target %s: --s3-timeout must be 1 to 3600 (seconds)", url);
		return SB_ERR_PARAM;
	}
	if (o->s3_addressing == SB_S3_BAD) {
		sb_error("target %s: --s3-addressing must be path, virtual or auto", url);
		return SB_ERR_PARAM;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return SB_ERR_NOMEM;
	st->base.ops = &s3_ops;
	pthread_mutex_init(&st->mu, NULL);
	if ((rc = s3_config_load(url, o, &st->cfg))) {
		s3_config_release(&st->cfg);
		pthread_mutex_destroy(&st->mu);
		free(st);
		return rc;
	}
	st->retries = o->s3_retries_set ? o->s3_retries : SB_S3_RETRIES;
	st->timeout = o->s3_timeout ? o->s3_timeout : 60;
	st->part_size = (size_t)mib << 20;
	snprintf(st->sigv4, sizeof(st->sigv4), "aws:amz:%s:s3", st->cfg.region);
	if (asprintf(&st->base.desc, "s3://%s/%.*s", st->cfg.bucket,
		     (int)(strlen(st->cfg.prefix) ? strlen(st->cfg.prefix) - 1 : 0),
		     st->cfg.prefix) < 0) {
		st->base.desc = NULL;
		sb_transport_close(&st->base);
		return SB_ERR_NOMEM;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	*out = &st->base;
	return 0;
}

static void s3_close(struct sb_transport *t)
{
	struct s3_transport *st = (struct s3_transport *)t;

	while (st->nidle)
		curl_easy_cleanup(st->idle[--st->nidle]);
	pthread_mutex_destroy(&st->mu);
	s3_config_release(&st->cfg);
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
	size_t pl = strlen(st->cfg.prefix);
	const char *n;

	if (strncmp(key, st->cfg.prefix, pl))
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
				rc = uri_encode(&q, token, false);
			if (!rc)
				rc = sb_buf_addch(&q, '&');
		}
		if (!rc)
			rc = sb_buf_addstr(&q, "delimiter=%2F&list-type=2&prefix=");
		if (!rc)
			rc = uri_encode(&q, st->cfg.prefix, false);
		if (rc)
			break;
		struct req r = {.method = "GET",
				.what = "list",
				.query = sb_buf_str(&q),
				.out = &body,
				.out_max = S3_XML_REPLY_MAX};
		if ((rc = perform(st, &r)))
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
				rc = uri_encode(&q, key_marker, false);
			if (!rc)
				rc = sb_buf_addch(&q, '&');
		}
		if (!rc)
			rc = sb_buf_addstr(&q, "prefix=");
		if (!rc)
			rc = uri_encode(&q, st->cfg.prefix, false);
		if (!rc && id_marker) {
			rc = sb_buf_addstr(&q, "&upload-id-marker=");
			if (!rc)
				rc = uri_encode(&q, id_marker, false);
		}
		if (!rc)
			rc = sb_buf_addstr(&q, "&uploads=");
		if (rc)
			break;
		struct req r = {.method = "GET",
				.what = "list multipart uploads",
				.query = sb_buf_str(&q),
				.out = &body,
				.out_max = S3_XML_REPLY_MAX,
				.quiet = true};
		if (perform(st, &r)) {
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
	struct req r = {.method = "GET",
			.what = "download of",
			.name = g->name,
			.ranged = true,
			.from = g->off,
			.to = g->off + want - 1,
			.if_match = g->etag,
			.out = &g->chunk,
			.out_max = GET_CHUNK,
			.quiet_status = g->off == 0 ? 416 : 0};
	rc = perform(st, &r);
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
				 st->base.desc, st->cfg.prefix, g->name);
			return SB_ERR_TRANSPORT;
		}
		snprintf(g->etag, sizeof(g->etag), "%s", r.etag);
		want = g->total < GET_CHUNK ? g->total : GET_CHUNK;
	} else if (r.status != 206 || (r.have_total && r.total != g->total)) {
		sb_error("target %s: GET %s%s: the object changed during the download",
			 st->base.desc, st->cfg.prefix, g->name);
		return SB_ERR_TRANSPORT;
	}
	if (g->chunk.len != want) {
		sb_error("target %s: GET %s%s: %zu bytes came for a range of %llu", st->base.desc,
			 st->cfg.prefix, g->name, g->chunk.len, (unsigned long long)want);
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
	struct req r = {.method = "POST",
			.what = "start of the multipart upload of",
			.name = p->name,
			.query = "uploads=",
			.out = &body,
			.out_max = ERR_BODY_MAX};
	int rc = perform(st, &r);

	if (!rc && s3_xml_text((const char *)body.data, body.len, "UploadId", &p->upload_id)) {
		sb_error("target %s: POST %s%s?uploads: no UploadId in the store's reply",
			 st->base.desc, st->cfg.prefix, p->name);
		rc = SB_ERR_TRANSPORT;
	}
	if (!rc && !plain_id(p->upload_id)) {
		sb_error("target %s: POST %s%s?uploads: an upload id sealbox cannot use",
			 st->base.desc, st->cfg.prefix, p->name);
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
	struct req r = {.method = "PUT",
			.what = "upload (a part) of",
			.name = p->name,
			.query = query,
			.body = p->part.data,
			.body_len = p->part.len};
	if ((rc = perform(st, &r)))
		return rc;
	if (!r.etag[0]) {
		sb_error("target %s: PUT %s%s part %u: no ETag in the store's reply", st->base.desc,
			 st->cfg.prefix, p->name, p->nparts + 1);
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
	struct req r = {.method = "POST",
			.what = "completion of the multipart upload of",
			.name = p->name,
			.query = query,
			.body = x.data,
			.body_len = x.len,
			.out = &reply,
			.out_max = ERR_BODY_MAX};
	if (!rc)
		rc = perform(st, &r);
	/* the store may fail a completion after its 200 (an <Error> body) */
	if (!rc &&
	    s3_xml_text((const char *)reply.data, reply.len, "Error", &code) != SB_ERR_NOTFOUND) {
		free(code);
		code = NULL;
		s3_xml_text((const char *)reply.data, reply.len, "Code", &code);
		sb_error("target %s: completing the upload of s3://%s/%s%s failed: %s",
			 st->base.desc, st->cfg.bucket, st->cfg.prefix, p->name,
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
		struct req r = {.method = "PUT",
				.what = "upload of",
				.name = p->name,
				.body = p->part.data,
				.body_len = p->part.len};
		rc = perform(st, &r);
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
	struct req r = {.method = "DELETE",
			.what = "abort of the upload of",
			.name = name,
			.query = query,
			.quiet = true};
	if (perform(st, &r) && r.status != 404)
		sb_notice("target %s: could not abort the upload of %s%s (the next backup "
			  "removes it)",
			  st->base.desc, st->cfg.prefix, name);
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
		struct req r = {.method = "DELETE",
				.what = "abort of the upload of",
				.name = key,
				.query = query,
				.quiet_status = 404};
		rc = perform(st, &r);
		free(key);
		if (rc != SB_ERR_NOTFOUND)
			return rc;
		/* no such upload: perhaps an object of that name (copied from a
		 * file:// target), which the code below removes */
	}
	struct req r = {.method = "DELETE", .what = "delete", .name = name, .quiet_status = 404};
	rc = perform(st, &r);
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
