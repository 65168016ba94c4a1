/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3_config.c - the endpoint, region and credentials of an s3:// target,
 * from the options, the environment and ~/.aws/ (see s3_config.h). It does
 * no network I/O; transport_s3.c uses what it finds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "s3_config.h"

#define AWS_FILE_MAX (1u << 20) /* bytes of ~/.aws/credentials or config read */

static bool bucket_char(int c) { return isalnum(c) || c == '.' || c == '-' || c == '_'; }

int s3_url_parse(const char *url, char **bucket, char **prefix)
{
	const char *b, *slash, *p;
	size_t bl, pl;

	*bucket = *prefix = NULL;
	if (strncmp(url, "s3://", 5) != 0) {
		sb_error("target %s: not an s3:// URL", url);
		return SB_ERR_PARAM;
	}
	b = url + 5;
	slash = strchr(b, '/');
	bl = slash ? (size_t)(slash - b) : strlen(b);
	if (bl == 0) {
		sb_error("target %s: no bucket (use s3://BUCKET/PREFIX)", url);
		return SB_ERR_PARAM;
	}
	if (bl > 255) {
		sb_error("target %s: the bucket name is longer than 255 characters", url);
		return SB_ERR_PARAM;
	}
	for (p = b; p < b + bl; p++)
		if (!bucket_char((unsigned char)*p)) {
			sb_error("target %s: the bucket name may hold only letters, digits, '.', "
				 "'-' and '_'",
				 sb_log_str(url, strlen(url)));
			return SB_ERR_PARAM;
		}
	p = slash ? slash + 1 : b + bl;
	while (*p == '/')
		p++;
	pl = strlen(p);
	while (pl && p[pl - 1] == '/')
		pl--;
	if (pl > 900 || memmem(p, pl, "//", 2)) {
		sb_error("target %s: bad prefix (an empty path component, or too long)",
			 sb_log_str(url, strlen(url)));
		return SB_ERR_PARAM;
	}
	for (size_t i = 0; i < pl; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\') {
			sb_error("target %s: the prefix holds a control character or '\\'",
				 sb_log_str(url, strlen(url)));
			return SB_ERR_PARAM;
		}
	*bucket = strndup(b, bl);
	*prefix = malloc(pl + 2);
	if (!*bucket || !*prefix) {
		free(*bucket);
		free(*prefix);
		*bucket = *prefix = NULL;
		return SB_ERR_NOMEM;
	}
	memcpy(*prefix, p, pl);
	if (pl)
		(*prefix)[pl++] = '/';
	(*prefix)[pl] = '\0';
	return 0;
}

int s3_endpoint_parse(const char *url, struct s3_config *c)
{
	const char *h, *end, *path, *colon, *q;
	unsigned long port;
	char *ep;
	size_t n;

	if (!strncmp(url, "https://", 8)) {
		c->https = true;
		h = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		c->https = false;
		h = url + 7;
	} else {
		sb_error("S3 endpoint %s: not an http:// or https:// URL",
			 sb_log_str(url, strlen(url)));
		return SB_ERR_PARAM;
	}
	path = strchr(h, '/');
	end = path ? path : h + strlen(h);
	if (end == h) {
		sb_error("S3 endpoint %s: no host", sb_log_str(url, strlen(url)));
		return SB_ERR_PARAM;
	}
	for (q = h; q < end; q++)
		if (!isalnum((unsigned char)*q) && !strchr(".-:[]", *q)) {
			sb_error("S3 endpoint %s: bad character '%c' in the host (credentials, "
				 "queries and fragments do not belong there)",
				 sb_log_str(url, strlen(url)),
				 isprint((unsigned char)*q) ? *q : '?');
			return SB_ERR_PARAM;
		}
	colon = memrchr(h, ':', (size_t)(end - h));
	if (colon && (*h != '[' || colon > (const char *)memchr(h, ']', (size_t)(end - h)))) {
		char *e;

		errno = 0;
		port = strtoul(colon + 1, &e, 10);
		if (colon + 1 == end || e != end || port == 0 || port > 65535) {
			sb_error("S3 endpoint %s: bad port", sb_log_str(url, strlen(url)));
			return SB_ERR_PARAM;
		}
		if (colon == h) {
			sb_error("S3 endpoint %s: no host", sb_log_str(url, strlen(url)));
			return SB_ERR_PARAM;
		}
	}
	n = path ? strlen(path) : 0;
	while (n && path[n - 1] == '/')
		n--;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)path[i] <= 0x20 || strchr("?#%\\", path[i])) {
			sb_error("S3 endpoint %s: bad character in the path",
				 sb_log_str(url, strlen(url)));
			return SB_ERR_PARAM;
		}
	c->host = strndup(h, (size_t)(end - h));
	c->base_path = strndup(path ? path : "", n);
	ep = malloc(strlen(url) + 1);
	if (!c->host || !c->base_path || !ep) {
		free(ep);
		return SB_ERR_NOMEM;
	}
	snprintf(ep, strlen(url) + 1, "%s://%s%s", c->https ? "https" : "http", c->host,
		 c->base_path);
	c->endpoint = ep;
	return 0;
}

/* The line [p, eol) without its end of line and surrounding blanks. */
static void trim(const char **p, const char **e)
{
	while (*p < *e && isspace((unsigned char)**p))
		(*p)++;
	while (*e > *p && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

int s3_ini_get(const char *text, size_t len, const char *section, const char *key, char *out,
	       size_t outsz)
{
	const char *p = text, *end = text + len, *eol, *s, *e, *eq, *k, *ke;
	bool in = false;

	for (; p < end; p = eol + (eol < end)) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (p < eol && (*p == ' ' || *p == '\t'))
			continue; /* a nested setting (s3 =\n  addressing_style = ...) */
		s = p, e = eol;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (e[-1] != ']') {
				in = false;
				continue;
			}
			s++, e--;
			trim(&s, &e);
			in = (size_t)(e - s) == strlen(section) &&
			     !memcmp(s, section, (size_t)(e - s));
			continue;
		}
		if (!in || !(eq = memchr(s, '=', (size_t)(e - s))))
			continue;
		k = s, ke = eq;
		trim(&k, &ke);
		if ((size_t)(ke - k) != strlen(key) || memcmp(k, key, (size_t)(ke - k)))
			continue;
		s = eq + 1;
		trim(&s, &e);
		if ((size_t)(e - s) >= outsz)
			return -1;
		memcpy(out, s, (size_t)(e - s));
		out[e - s] = '\0';
		return 1;
	}
	return 0;
}

/* A whole small file into a new NUL-terminated buffer; NULL when absent. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *b;
	size_t n;

	if (!f)
		return NULL;
	b = malloc(AWS_FILE_MAX + 1);
	if (!b) {
		fclose(f);
		return NULL;
	}
	n = fread(b, 1, AWS_FILE_MAX, f);
	fclose(f);
	b[n] = '\0';
	*len = n;
	return b;
}

static void wipe_free(char *b, size_t n)
{
	if (b) {
		explicit_bzero(b, n);
		free(b);
	}
}

/* The AWS file of env var, else ~/.aws/name, read whole (NULL: absent). */
static char *aws_file(const char *env, const char *name, size_t *len, char *path, size_t pathsz)
{
	const char *e = getenv(env), *home = getenv("HOME");

	if (e && *e)
		snprintf(path, pathsz, "%s", e);
	else if (home && *home)
		snprintf(path, pathsz, "%s/.aws/%s", home, name);
	else
		return NULL;
	return slurp(path, len);
}

/* Copy an environment variable into a fixed buffer; false when unset or empty. */
static int env_copy(const char *name, char *out, size_t outsz)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return 0;
	if (strlen(v) >= outsz) {
		sb_error("$%s is too long", name);
		return -1;
	}
	strcpy(out, v);
	return 1;
}

static int check_region(const char *r)
{
	size_t i, n = strlen(r);

	for (i = 0; i < n; i++)
		if (!islower((unsigned char)r[i]) && !isdigit((unsigned char)r[i]) && r[i] != '-')
			break;
	if (n == 0 || i < n || n > 32) {
		sb_error("S3 region '%s': not a region name (such as us-east-1)", sb_log_str(r, n));
		return SB_ERR_PARAM;
	}
	return 0;
}

static int load_profile(struct s3_config *c, char *endpoint, size_t endpoint_sz)
{
	char path[4096], section[300];
	size_t clen = 0, flen = 0;
	char *cred, *conf;
	int r, rc = 0;
	bool have_env_keys = c->access_key[0] != '\0';

	cred = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", &clen, path, sizeof(path));
	if (!have_env_keys && cred &&
	    s3_ini_get(cred, clen, c->profile, "aws_access_key_id", c->access_key,
		       sizeof(c->access_key)) == 1) {
		if (s3_ini_get(cred, clen, c->profile, "aws_secret_access_key", c->secret_key,
			       sizeof(c->secret_key)) != 1 ||
		    s3_ini_get(cred, clen, c->profile, "aws_session_token", c->session_token,
			       sizeof(c->session_token)) < 0) {
			sb_error("%s: profile [%s] has no usable aws_secret_access_key", path,
				 c->profile);
			rc = SB_ERR_AUTH;
		}
		have_env_keys = true;
	}
	wipe_free(cred, clen);
	if (rc)
		return rc;
	conf = aws_file("AWS_CONFIG_FILE", "config", &flen, path, sizeof(path));
	if (!conf)
		return 0;
	if (!strcmp(c->profile, "default"))
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %s", c->profile);
	if (!c->region[0] &&
	    s3_ini_get(conf, flen, section, "region", c->region, sizeof(c->region)) < 0) {
		sb_error("%s: [%s] region is too long", path, section);
		rc = SB_ERR_PARAM;
	}
	if (!rc && !c->ca_bundle[0] &&
	    s3_ini_get(conf, flen, section, "ca_bundle", c->ca_bundle, sizeof(c->ca_bundle)) < 0) {
		sb_error("%s: [%s] ca_bundle is too long", path, section);
		rc = SB_ERR_PARAM;
	}
	if (!rc && !endpoint[0] &&
	    s3_ini_get(conf, flen, section, "endpoint_url", endpoint, endpoint_sz) < 0) {
		sb_error("%s: [%s] endpoint_url is too long", path, section);
		rc = SB_ERR_PARAM;
	}
	if (!rc && !have_env_keys &&
	    s3_ini_get(conf, flen, section, "aws_access_key_id", c->access_key,
		       sizeof(c->access_key)) == 1) {
		r = s3_ini_get(conf, flen, section, "aws_secret_access_key", c->secret_key,
			       sizeof(c->secret_key));
		if (r != 1 || s3_ini_get(conf, flen, section, "aws_session_token", c->session_token,
					 sizeof(c->session_token)) < 0) {
			sb_error("%s: [%s] has no usable aws_secret_access_key", path, section);
			rc = SB_ERR_AUTH;
		}
	}
	wipe_free(conf, flen);
	return rc;
}

int s3_config_load(const char *url, const struct sb_transport_opts *o, struct s3_config *c)
{
	char endpoint[2048] = "";
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = s3_url_parse(url, &c->bucket, &c->prefix)))
		return rc;
	c->profile = getenv("AWS_PROFILE");
	if (!c->profile || !*c->profile)
		c->profile = "default";
	if (o->s3_endpoint && *o->s3_endpoint)
		snprintf(endpoint, sizeof(endpoint), "%s", o->s3_endpoint);
	else if (env_copy("AWS_ENDPOINT_URL_S3", endpoint, sizeof(endpoint)) < 0 ||
		 (!endpoint[0] && env_copy("AWS_ENDPOINT_URL", endpoint, sizeof(endpoint)) < 0))
		return SB_ERR_PARAM;
	if (env_copy("AWS_CA_BUNDLE", c->ca_bundle, sizeof(c->ca_bundle)) < 0)
		return SB_ERR_PARAM;
	if (env_copy("AWS_REGION", c->region, sizeof(c->region)) < 0 ||
	    (!c->region[0] && env_copy("AWS_DEFAULT_REGION", c->region, sizeof(c->region)) < 0))
		return SB_ERR_PARAM;
	rc = env_copy("AWS_ACCESS_KEY_ID", c->access_key, sizeof(c->access_key));
	if (rc == 1) {
		if (env_copy("AWS_SECRET_ACCESS_KEY", c->secret_key, sizeof(c->secret_key)) != 1) {
			sb_error("target %s: $AWS_ACCESS_KEY_ID is set but $AWS_SECRET_ACCESS_KEY "
				 "is not",
				 url);
			return SB_ERR_AUTH;
		}
		if (env_copy("AWS_SESSION_TOKEN", c->session_token, sizeof(c->session_token)) < 0)
			return SB_ERR_AUTH;
	} else if (rc < 0) {
		return SB_ERR_AUTH;
	}
	if ((rc = load_profile(c, endpoint, sizeof(endpoint))))
		return rc;
	if (!c->access_key[0]) {
		sb_error("target %s: no S3 credentials: set $AWS_ACCESS_KEY_ID and "
			 "$AWS_SECRET_ACCESS_KEY, or profile [%s] in ~/.aws/credentials",
			 url, c->profile);
		return SB_ERR_AUTH;
	}
	if (!c->region[0])
		strcpy(c->region, "us-east-1");
	if ((rc = check_region(c->region)))
		return rc;
	if (!endpoint[0])
		snprintf(endpoint, sizeof(endpoint), "https://s3.%s.amazonaws.com", c->region);
	if ((rc = s3_endpoint_parse(endpoint, c)))
		return rc;
	switch (o->s3_addressing) {
	case SB_S3_PATH: c->path_style = true; break;
	case SB_S3_VIRTUAL: c->path_style = false; break;
	default: /* AWS itself: virtual hosts; other stores: most only know paths */
		c->path_style = !strstr(c->host, "amazonaws.com") || strchr(c->bucket, '.');
	}
	return 0;
}

void s3_config_release(struct s3_config *c)
{
	free(c->bucket);
	free(c->prefix);
	free(c->endpoint);
	free(c->host);
	free(c->base_path);
	explicit_bzero(c->access_key, sizeof(c->access_key));
	explicit_bzero(c->secret_key, sizeof(c->secret_key));
	explicit_bzero(c->session_token, sizeof(c->session_token));
	memset(c, 0, sizeof(*c));
}
