/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * known_hosts.c - OpenSSH's known_hosts read as OpenSSH's hostfile.c reads
 * it: markers, hashed and plain host fields, pattern lists, and the verdict
 * for one host and key. Works on a buffer: no file, no network, no libssh2.
 * Does not parse key blobs beyond their type name (keys compare as bytes)
 * and does not check host certificates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sealbox/error.h"
#include "known_hosts.h"

#define HASH_MAGIC "|1|"
#define SHA1_LEN 20

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* ASCII only: host names are compared as OpenSSH compares them. */
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

static const char *word_end(const char *p, const char *end)
{
	while (p < end && !is_space(*p))
		p++;
	return p;
}

static bool word_is(const char *p, size_t len, const char *s)
{
	return strlen(s) == len && !memcmp(p, s, len);
}

int sb_kh_line_parse(const char *line, size_t len, struct sb_kh_line *out)
{
	const char *end = memchr(line, '\n', len), *p, *w;

	memset(out, 0, sizeof(*out));
	if (!end)
		end = line + len;
	p = skip_space(line, end);
	if (p == end || *p == '#')
		return 0;
	if (*p == '@') {
		w = word_end(p, end);
		if (word_is(p, (size_t)(w - p), "@cert-authority"))
			out->marker = SB_KH_CA;
		else if (word_is(p, (size_t)(w - p), "@revoked"))
			out->marker = SB_KH_REVOKE;
		else
			return -1;
		p = skip_space(w, end);
		if (p < end && *p == '@')
			return -1; /* two markers */
	}
	w = word_end(p, end);
	out->hosts = p;
	out->hosts_len = (size_t)(w - p);
	p = skip_space(w, end);
	if (!out->hosts_len || p == end || *p == '#')
		return -1;
	w = word_end(p, end);
	out->type = p;
	out->type_len = (size_t)(w - p);
	p = skip_space(w, end);
	w = word_end(p, end);
	out->key = p;
	out->key_len = (size_t)(w - p);
	return 1;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 (padding optional) into out, at most max bytes: the length,
 * or -1 if s is not base64 or decodes to more than max bytes. */
static long b64_decode(const char *s, size_t len, unsigned char *out, size_t max)
{
	uint32_t acc = 0;
	size_t i, n = 0, bits = 0;
	int v;

	if (len && s[len - 1] == '=')
		len--;
	if (len && s[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		if ((v = b64_value(s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return bits >= 6 ? -1 : (long)n;
}

/* "|1|base64(salt)|base64(HMAC-SHA1(salt, lowercased host))" */
static bool hashed_match(const char *hosts, size_t len, const char *host)
{
	unsigned char salt[SHA1_LEN], want[SHA1_LEN], got[EVP_MAX_MD_SIZE];
	unsigned int gotlen = 0;
	const char *p = hosts + strlen(HASH_MAGIC), *end = hosts + len, *bar;
	size_t i, hlen = strlen(host);
	char *lc;
	bool ok;

	if (len < strlen(HASH_MAGIC) || memcmp(hosts, HASH_MAGIC, strlen(HASH_MAGIC)))
		return false;
	bar = memchr(p, '|', (size_t)(end - p));
	if (!bar || b64_decode(p, (size_t)(bar - p), salt, sizeof(salt)) != SHA1_LEN ||
	    b64_decode(bar + 1, (size_t)(end - bar - 1), want, sizeof(want)) != SHA1_LEN)
		return false;
	if (!(lc = malloc(hlen + 1)))
		return true; /* cannot tell: say it names the host, nothing is added */
	for (i = 0; i < hlen; i++)
		lc[i] = lower(host[i]);
	ok = HMAC(EVP_sha1(), salt, SHA1_LEN, (unsigned char *)lc, hlen, got, &gotlen) &&
	     gotlen == SHA1_LEN && !memcmp(got, want, SHA1_LEN);
	free(lc);
	return ok;
}

/* OpenSSH's match_pattern() with '*' and '?', case-insensitive, iterative
 * (backtracking to the last '*' only, so no pattern takes exponential time). */
static bool glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, star_s = 0;

	while (si < slen) {
		if (pi < plen && p[pi] == '*') {
			star = pi++;
			star_s = si;
		} else if (pi < plen && (p[pi] == '?' || lower(p[pi]) == lower(s[si]))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

bool sb_kh_hosts_match(const char *hosts, size_t hosts_len, const char *host)
{
	const char *p = hosts, *end = hosts + hosts_len, *comma;
	size_t hlen = strlen(host);
	bool positive = false, negated;

	if (hosts_len && hosts[0] == '|')
		return hashed_match(hosts, hosts_len, host);
	while (p <= end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		negated = p < comma && *p == '!';
		if (glob_match(p + negated, (size_t)(comma - p) - negated, host, hlen)) {
			if (negated)
				return false; /* "!host" excludes it whatever else matches */
			positive = true;
		}
		p = comma + 1;
	}
	return positive;
}

/* The type name a key blob starts with, or "" if it has none. */
static size_t blob_type(const unsigned char *key, size_t len, const char **name)
{
	uint32_t n;

	*name = "";
	if (len < 4)
		return 0;
	n = (uint32_t)key[0] << 24 | key[1] << 16 | key[2] << 8 | key[3];
	*name = (const char *)key + 4;
	return n <= len - 4 ? n : 0;
}

/* Does the line hold exactly this key (type name and blob)? buf: keylen+3 bytes. */
static bool same_key(const struct sb_kh_line *l, const unsigned char *key, size_t keylen,
		     unsigned char *buf)
{
	const char *tname;
	size_t tlen = blob_type(key, keylen, &tname);

	return tlen && l->type_len == tlen && !memcmp(l->type, tname, tlen) &&
	       b64_decode(l->key, l->key_len, buf, keylen + 3) == (long)keylen &&
	       !memcmp(buf, key, keylen);
}

/* Next line of text from *pos: its start and length (no '\n'); false at end. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *llen)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*llen = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *llen + 1;
	return true;
}

static void set_verdict(struct sb_kh_verdict *v, enum sb_kh_status st, int n,
			const struct sb_kh_line *l)
{
	size_t tlen = l->type_len < sizeof(v->type) ? l->type_len : sizeof(v->type) - 1;

	v->status = st;
	v->line = n;
	memcpy(v->type, l->type, tlen);
	v->type[tlen] = '\0';
}

int sb_kh_check(const char *text, size_t len, const char *host, const unsigned char *key,
		size_t keylen, struct sb_kh_verdict *v)
{
	struct sb_kh_line l, first = {0}, same = {0}, match = {0}, ca = {0};
	int n = 0, first_n = 0, same_n = 0, match_n = 0, ca_n = 0;
	unsigned char *buf = malloc(keylen + 3);
	const char *line, *tname;
	size_t pos = 0, llen, tlen = blob_type(key, keylen, &tname);

	memset(v, 0, sizeof(*v));
	if (!buf)
		return SB_ERR_NOMEM;
	while (next_line(text, len, &pos, &line, &llen)) {
		n++;
		if (sb_kh_line_parse(line, llen, &l) != 1 ||
		    !sb_kh_hosts_match(l.hosts, l.hosts_len, host))
			continue;
		if (l.marker == SB_KH_REVOKE) {
			if (same_key(&l, key, keylen, buf)) {
				set_verdict(v, SB_KH_REVOKED, n, &l);
				goto out;
			}
		} else if (l.marker == SB_KH_CA) {
			if (!ca_n)
				ca = l, ca_n = n;
		} else if (same_key(&l, key, keylen, buf)) {
			if (!match_n)
				match = l, match_n = n;
		} else {
			if (!first_n)
				first = l, first_n = n;
			if (!same_n && tlen && l.type_len == tlen && !memcmp(l.type, tname, tlen))
				same = l, same_n = n;
		}
	}
	if (match_n)
		set_verdict(v, SB_KH_MATCH, match_n, &match);
	else if (same_n)
		set_verdict(v, SB_KH_CHANGED, same_n, &same);
	else if (first_n)
		set_verdict(v, SB_KH_CHANGED, first_n, &first);
	else if (ca_n)
		set_verdict(v, SB_KH_CERT, ca_n, &ca);
out:
	free(buf);
	return 0;
}

bool sb_kh_has_type(const char *text, size_t len, const char *host, const char *type)
{
	struct sb_kh_line l;
	const char *line;
	size_t pos = 0, llen;

	while (next_line(text, len, &pos, &line, &llen))
		if (sb_kh_line_parse(line, llen, &l) == 1 && l.marker == SB_KH_PLAIN &&
		    word_is(l.type, l.type_len, type) &&
		    sb_kh_hosts_match(l.hosts, l.hosts_len, host))
			return true;
	return false;
}
