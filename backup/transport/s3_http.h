/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3_http.h - private to the s3:// transport: one S3 request over libcurl,
 * signed with AWS Signature V4, retried when the failure is passing.
 *
 * struct s3_http holds what every request of a target shares: the endpoint
 * and credentials (s3_config.h), the retry policy, and a pool of curl easy
 * handles (each keeps its connection alive; a request takes one and gives
 * it back, so requests of different threads run in parallel).
 * s3_perform() runs one struct s3_req: GET, PUT (a body in memory, with its
 * SHA-256 in x-amz-content-sha256, which curl 7.88 signs but does not
 * compute for a streamed body), POST, DELETE. Timeouts, dropped
 * connections, 5xx, 429 and SlowDown are tried again after an exponential
 * backoff with jitter; the final failure is logged once, naming the bucket
 * and key, and mapped to an sb_err (403 wrong key: SB_ERR_AUTH; 403 other:
 * SB_ERR_PERM; 404: SB_ERR_NOTFOUND, or SB_ERR_TRANSPORT for a missing
 * bucket; 413/507/quota: SB_ERR_NOSPACE).
 */
#ifndef SEALBOX_S3_HTTP_H
#define SEALBOX_S3_HTTP_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealbox/buf.h"
#include "s3_config.h"

#define S3_ERR_BODY_MAX (64u << 10) /* bytes of an error reply kept */
#define S3_HANDLES_MAX 8	    /* idle curl handles kept for reuse */

struct s3_http {
	struct s3_config cfg;
	const char *desc;   /* the target, for messages; borrowed */
	char sigv4[96];	    /* CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3" */
	unsigned retries;   /* of one request after its first try */
	unsigned timeout;   /* s without progress before a request fails */
	pthread_mutex_t mu; /* guards idle, nidle */
	CURL *idle[S3_HANDLES_MAX];
	size_t nidle;
};

/* One HTTP exchange, with what came back. */
struct s3_req {
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

/* Set up h for the target url (s3://...) and o: 0, or SB_ERR_PARAM /
 * SB_ERR_AUTH / SB_ERR_INTERNAL (logged). Release with s3_http_release,
 * also after a failure. */
int s3_http_init(struct s3_http *h, const char *url, const struct sb_transport_opts *o);
void s3_http_release(struct s3_http *h);

/*
 * Run r until it succeeds (2xx), fails for good, or the retries are spent.
 * 0, or the sb_err of the last failure (logged unless r->quiet, or the
 * status is r->quiet_status, which gives SB_ERR_NOTFOUND unlogged).
 */
int s3_perform(struct s3_http *h, struct s3_req *r);

/* AWS's URI encoding of s onto b: unreserved bytes stay, others %XX; '/'
 * stays when keep_slash. 0 or SB_ERR_NOMEM. */
int s3_uri_encode(struct sb_buf *b, const char *s, bool keep_slash);

#endif
