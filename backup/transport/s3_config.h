/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3_config.h - private to the s3:// transport: where an s3://BUCKET/PREFIX
 * target lives and which credentials reach it, found the AWS way.
 *
 *   endpoint     --s3-endpoint, else $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL,
 *                the profile's endpoint_url, else https://s3.REGION.amazonaws.com
 *   region       $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region,
 *                else us-east-1
 *   credentials  $AWS_ACCESS_KEY_ID + $AWS_SECRET_ACCESS_KEY (+
 *                $AWS_SESSION_TOKEN), else the profile ($AWS_PROFILE, else
 *                "default") in $AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials),
 *                then in $AWS_CONFIG_FILE (~/.aws/config)
 *   CA bundle    $AWS_CA_BUNDLE, the profile's ca_bundle, else the system's
 *
 * Credentials sit in fixed buffers that s3_config_release wipes; nothing
 * here logs them.
 */
#ifndef SEALBOX_S3_CONFIG_H
#define SEALBOX_S3_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sealbox/transport.h"

#define S3_SECRET_MAX 4096 /* bytes of a key or session token, NUL included */

struct s3_config {
	char *bucket;	 /* owned */
	char *prefix;	 /* "" or "a/b/" (with the trailing slash), owned */
	char *endpoint;	 /* "http[s]://host[:port][/path]", no trailing '/', owned */
	char *host;	 /* host[:port] of the endpoint, owned */
	char *base_path; /* the endpoint's path ("" or "/path"), owned */
	bool https;
	bool path_style; /* https://host/BUCKET/key, else https://BUCKET.host/key */
	char region[64];
	char access_key[S3_SECRET_MAX];
	char secret_key[S3_SECRET_MAX];
	char session_token[S3_SECRET_MAX]; /* "" when none */
	char ca_bundle[4096];		   /* PEM file of CAs to trust; "": the system's */
	const char *profile;		   /* for messages; borrowed from the environment */
};

/*
 * Split "s3://BUCKET[/PREFIX]" into bucket and prefix ("" or ending in '/').
 * Returns 0 or SB_ERR_PARAM (logged: no bucket, a bad character, "//").
 */
int s3_url_parse(const char *url, char **bucket, char **prefix);

/* Fill c's endpoint fields from "http[s]://host[:port][/path]".
 * 0 or SB_ERR_PARAM (logged, naming what is wrong). */
int s3_endpoint_parse(const char *url, struct s3_config *c);

/*
 * The value of key in [section] of an AWS-style INI text (text[0..len)).
 * Lines "key = value"; '#' and ';' start comments; indented lines (nested
 * settings) are skipped. Returns 1 and copies the value into out (NUL
 * terminated), 0 when absent, -1 when the value does not fit in outsz.
 */
int s3_ini_get(const char *text, size_t len, const char *section, const char *key, char *out,
	       size_t outsz);

/* Everything, for url and the options. 0, or SB_ERR_PARAM / SB_ERR_AUTH
 * (logged). Release with s3_config_release even on failure. */
int s3_config_load(const char *url, const struct sb_transport_opts *o, struct s3_config *c);
void s3_config_release(struct s3_config *c);

#endif
