/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3_http.c - one S3 request over libcurl with AWS Signature V4
 * (CURLOPT_AWS_SIGV4), its retries, and its one line when it fails for good
 * (see s3_http.h). Knows requests, not files: transport_s3.c says what to
 * ask for.
 *
 * Bandwidth limits (throttle.h) are held in the data callbacks, against the
 * process's buckets: curl's own CURLOPT_MAX_SEND_SPEED_LARGE holds one handle,
 * not the sum over the requests that run in parallel. A body is read out to
 * curl a chunk at a time, each taken from the bucket first; a reply's bytes
 * are taken as curl delivers them (a sleeping callback stops curl reading
 * the socket, so TCP slows the sender), in small deliveries under a limit,
 * and the socket's receive buffer is kept to RCVBUF_S of the limit (else
 * each reply's first megabytes arrive at once, ahead of it).
 * A retried request takes its bytes again.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/throttle.h"
#include "s3_http.h"
#include "s3_xml.h"

#define BACKOFF_BASE 0.5 /* s before the first retry */
#define BACKOFF_CAP 30.0 /* s between retries at most */
#define RCVBUF_S 0.1	 /* s of a download limit in a socket's receive buffer */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ------------------------------------------------------------ URLs */

/* AWS's URI encoding: unreserved bytes stay, others %XX; '/' stays if keep_slash. */
int s3_uri_encode(struct sb_buf *b, const char *s, bool keep_slash)
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
static int make_url(struct s3_http *st, const char *name, const char *query, struct sb_buf *u)
{
	const struct s3_config *c = &st->cfg;
	int rc;

	if (c->path_style)
		rc = sb_buf_addf(u, "%s/%s/", c->endpoint, c->bucket);
	else
		rc = sb_buf_addf(u, "%s://%s.%s%s/", c->https ? "https" : "http", c->bucket,
				 c->host, c->base_path);
	if (!rc && name) {
		rc = s3_uri_encode(u, c->prefix, true);
		if (!rc)
			rc = s3_uri_encode(u, name, false);
	}
	if (!rc && query)
		rc = sb_buf_addf(u, "?%s", query);
	return rc;
}

/* ------------------------------------------------------------ handles */

static CURL *handle_take(struct s3_http *st)
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

static void handle_give(struct s3_http *st, CURL *c)
{
	pthread_mutex_lock(&st->mu);
	if (st->nidle < S3_HANDLES_MAX) {
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
	struct s3_req *r = ctx;
	size_t len = size * n;

	sb_throttle_take(sb_throttle_limit(SB_THROTTLE_DOWN), len);
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
	if (r->err.len < S3_ERR_BODY_MAX)
		sb_buf_add(&r->err, p,
			   len < S3_ERR_BODY_MAX - r->err.len ? len : S3_ERR_BODY_MAX - r->err.len);
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
	struct s3_req *r = ctx;
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
	struct s3_req *r = ctx;
	struct sb_throttle *th = sb_throttle_limit(SB_THROTTLE_UP);
	size_t len = sb_throttle_chunk(th, size * n);

	if (len > r->body_len - r->sent)
		len = r->body_len - r->sent;
	sb_throttle_take(th, len); /* before curl sends them */
	if (len)
		memcpy(p, (const char *)r->body + r->sent, len);
	r->sent += len;
	return len;
}

static int on_seek(void *ctx, curl_off_t off, int origin)
{
	struct s3_req *r = ctx;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > r->body_len)
		return CURL_SEEKFUNC_FAIL;
	r->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* Under a download limit: a receive buffer of RCVBUF_S of it, which still
 * lets the limit through a link of that round-trip time. */
static int on_socket(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	double want = (double)sb_throttle_rate(sb_throttle_limit(SB_THROTTLE_DOWN)) * RCVBUF_S;
	int size = want < 65536 ? 65536 : want > (64 << 20) ? (64 << 20) : (int)want;

	(void)ctx;
	if (purpose == CURLSOCKTYPE_IPCXN && want > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return CURL_SOCKOPT_OK;
}

static int set_headers(struct s3_http *st, struct s3_req *r, struct curl_slist **h)
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

static void set_options(struct s3_http *st, CURL *c, struct s3_req *r, const char *url,
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
	/* under a download limit, curl delivers what it reads in small pieces */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE,
			 (long)sb_throttle_chunk(sb_throttle_limit(SB_THROTTLE_DOWN), 512 * 1024));
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_socket);
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
static bool transient(const struct s3_req *r, CURLcode cc, const char *code)
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
static int fail(struct s3_http *st, struct s3_req *r, CURLcode cc, const char *code,
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

	snprintf(where, sizeof(where), "target %s: %s s3://%s/%s%s", st->desc,
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
	} else if ((r->status == 403 || r->status == 400) && code_is(code, auth)) {
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
		sb_error("target %s: no such bucket '%s' at %s (create it first)", st->desc,
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
static void error_text(const struct s3_req *r, char **code, char **msg)
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
int s3_perform(struct s3_http *st, struct s3_req *r)
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
				st->desc, r->what ? r->what : r->method, st->cfg.bucket,
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

/* ------------------------------------------------------------ set up */

int s3_http_init(struct s3_http *h, const char *url, const struct sb_transport_opts *o)
{
	int rc;

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	h->desc = url;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		sb_error("target %s: libcurl: %s", url, curl_easy_strerror(curl_init_rc));
		return SB_ERR_INTERNAL;
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
	if ((rc = s3_config_load(url, o, &h->cfg)))
		return rc;
	h->retries = o->s3_retries_set ? o->s3_retries : SB_S3_RETRIES;
	h->timeout = o->s3_timeout ? o->s3_timeout : 60;
	snprintf(h->sigv4, sizeof(h->sigv4), "aws:amz:%s:s3", h->cfg.region);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return 0;
}

void s3_http_release(struct s3_http *h)
{
	while (h->nidle)
		curl_easy_cleanup(h->idle[--h->nidle]);
	pthread_mutex_destroy(&h->mu);
	s3_config_release(&h->cfg);
}
