/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sftp_hostkey.c - the server's host key, checked against known_hosts as
 * OpenSSH checks it (the reading itself is known_hosts.c): plain and hashed
 * entries, "[host]:port" for ports other than 22, host names in any case,
 * @revoked keys, the algorithms already known for the host preferred. An
 * unknown key is refused with its SHA256 fingerprint and the line to add, or
 * added with --accept-new-host-key, but only for a host known_hosts says
 * nothing about; a changed or revoked key is refused before any
 * authentication.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "known_hosts.h"
#include "sftp_session.h"

#define KH_MAX (64u << 20) /* a known_hosts file larger than this is refused */

static const struct {
	const char *kh_type; /* key type in known_hosts */
	const char *methods; /* host key algorithms, OpenSSH's order */
} key_kinds[] = {
	{"ssh-ed25519", "ssh-ed25519"},
	{"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"},
	{"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"},
	{"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"},
	{"ssh-rsa", "rsa-sha2-512,rsa-sha2-256,ssh-rsa"},
};
#define NKINDS (sizeof(key_kinds) / sizeof(key_kinds[0]))

/* The known_hosts file, whole and NUL-terminated; empty when there is none.
 * A file that is there but cannot be read is an error: what it says about the
 * host is unknown, so no key may be trusted or added. */
static int read_known_hosts(const char *file, char **text, size_t *len, char *why)
{
	FILE *f = fopen(file, "re");
	size_t cap = 8192, n = 0, got;
	char *p = malloc(cap), *q;
	int rc = 0;

	*text = NULL;
	*len = 0;
	if (!p) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	if (!f && errno != ENOENT) {
		snprintf(why, SFTP_WHY_MAX, "cannot read %s: %s", file, strerror(errno));
		rc = SB_ERR_IO;
		goto out;
	}
	while (f && (got = fread(p + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n > 1)
			continue;
		if (cap >= KH_MAX) {
			snprintf(why, SFTP_WHY_MAX, "cannot read %s: larger than %u MiB", file,
				 KH_MAX >> 20);
			rc = SB_ERR_IO;
			goto out;
		}
		if (!(q = realloc(p, cap *= 2))) {
			rc = SB_ERR_NOMEM;
			goto out;
		}
		p = q;
	}
	if (f && ferror(f)) {
		snprintf(why, SFTP_WHY_MAX, "cannot read %s: %s", file, strerror(errno));
		rc = SB_ERR_IO;
		goto out;
	}
	p[n] = '\0';
	*text = p;
	*len = n;
	p = NULL;
out:
	if (f)
		fclose(f);
	free(p);
	return rc;
}

/* "host" or "[host]:port" in lower case, as OpenSSH writes it (NULL: no memory). */
static char *lower_hostspec(const char *hostspec)
{
	char *s = strdup(hostspec), *c;

	for (c = s; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return s;
}

/* Is name one of libssh2's algorithms (algs, n of them)? */
static bool supported(const char **algs, int n, const char *name, size_t len)
{
	int i;

	for (i = 0; i < n; i++)
		if (strlen(algs[i]) == len && !strncmp(algs[i], name, len))
			return true;
	return false;
}

/* Like OpenSSH, prefer the host key algorithms already known for this host.
 * Only algorithms this libssh2 supports are listed: libssh2 1.10 strips the
 * others with an overlapping memcpy. */
void sftp_hostkey_prefer(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh)
{
	char pref[512] = "", why[SFTP_WHY_MAX], *text = NULL;
	const char **algs = NULL;
	bool known[NKINDS];
	size_t i, pass, len, tlen;
	const char *m, *end;
	int n;

	if (read_known_hosts(ep->known_hosts, &text, &tlen, why))
		return; /* sftp_hostkey_check() says why */
	for (i = 0; i < NKINDS; i++)
		known[i] = sb_kh_has_type(text, tlen, ep->hostspec, key_kinds[i].kh_type);
	free(text);
	n = libssh2_session_supported_algs(ssh, LIBSSH2_METHOD_HOSTKEY, &algs);
	if (n <= 0)
		return; /* keep libssh2's defaults */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < NKINDS; i++) {
			if (known[i] != (pass == 0))
				continue;
			for (m = key_kinds[i].methods; *m; m = *end ? end + 1 : end) {
				end = strchr(m, ',');
				if (!end)
					end = m + strlen(m);
				len = (size_t)(end - m);
				if (!supported(algs, n, m, len))
					continue;
				if (*pref)
					strcat(pref, ",");
				strncat(pref, m, len);
			}
		}
	libssh2_free(ssh, algs);
	if (*pref)
		libssh2_session_method_pref(ssh, LIBSSH2_METHOD_HOSTKEY, pref);
}

static void b64(const unsigned char *in, size_t n, char *out, bool strip)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);

	while (strip && len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
}

/* The algorithm name at the start of a key blob ("ssh-ed25519"). */
static void blob_type(const unsigned char *key, size_t len, char *out, size_t size)
{
	uint32_t n = len >= 4 ? (uint32_t)key[0] << 24 | key[1] << 16 | key[2] << 8 | key[3] : 0;
	size_t i;

	if (n == 0 || n > len - 4 || n >= size) {
		snprintf(out, size, "unknown");
		return;
	}
	for (i = 0; i < n; i++) /* printable, for a one-line message */
		out[i] = key[4 + i] > ' ' && key[4 + i] < 127 ? (char)key[4 + i] : '?';
	out[n] = '\0';
}

/* Append line to file; a last line without its '\n' (text ends without one)
 * gets it first, so the new entry does not run on from it. */
static int append_line(const char *file, const char *text, size_t tlen, const char *line, char *why)
{
	char dir[PATH_MAX], *s;
	bool nl = tlen && text[tlen - 1] != '\n';
	int fd;

	snprintf(dir, sizeof(dir), "%s", file);
	s = strrchr(dir, '/');
	if (s && s != dir) {
		*s = '\0';
		mkdir(dir, 0700);
	}
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || (nl && write(fd, "\n", 1) != 1) ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0) {
		snprintf(why, SFTP_WHY_MAX, "cannot add the host key to %s: %s", file,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return SB_ERR_IO;
	}
	return close(fd) < 0 ? SB_ERR_IO : 0;
}

/* A key known_hosts says nothing about: refused with the line to add, or added. */
static int new_key(const struct sftp_endpoint *ep, const char *host, const char *key, size_t len,
		   const char *tname, const char *fp, const char *text, size_t tlen, char *why)
{
	char *enc = malloc(len * 4 / 3 + 8), *line = NULL;
	int r;

	if (!enc)
		return SB_ERR_NOMEM;
	b64((const unsigned char *)key, len, enc, false);
	r = asprintf(&line, "%s %s %s\n", host, tname, enc);
	free(enc);
	if (r < 0)
		return SB_ERR_NOMEM;
	if (!ep->accept_new) {
		line[strlen(line) - 1] = '\0';
		snprintf(why, SFTP_WHY_MAX,
			 "unknown host key for %s: %s SHA256:%s; if that is the server's key, add "
			 "this line to %s (or run once with --accept-new-host-key): %s",
			 host, tname, fp, ep->known_hosts, line);
		free(line);
		return SB_ERR_TRANSPORT;
	}
	r = append_line(ep->known_hosts, text, tlen, line, why);
	free(line);
	if (!r)
		sb_notice("added the %s host key of %s (SHA256:%s) to %s", tname, host, fp,
			  ep->known_hosts);
	return r;
}

int sftp_hostkey_check(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, char *why)
{
	const char *key;
	size_t len, tlen = 0;
	int type, r;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char fp[64], tname[64], *text = NULL, *host;
	struct sb_kh_verdict v;

	key = libssh2_session_hostkey(ssh, &len, &type);
	if (!key) {
		snprintf(why, SFTP_WHY_MAX, "%s sent no host key", ep->host);
		return SB_ERR_TRANSPORT;
	}
	EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL);
	b64(md, mdlen, fp, true);
	blob_type((const unsigned char *)key, len, tname, sizeof(tname));
	if (!(host = lower_hostspec(ep->hostspec)))
		return SB_ERR_NOMEM;
	if ((r = read_known_hosts(ep->known_hosts, &text, &tlen, why)) ||
	    (r = sb_kh_check(text, tlen, host, (const unsigned char *)key, len, &v)))
		goto out;
	switch (v.status) {
	case SB_KH_MATCH: break;
	case SB_KH_REVOKED:
		snprintf(why, SFTP_WHY_MAX,
			 "HOST KEY OF %s IS REVOKED, refusing to connect: its %s key SHA256:%s is "
			 "marked @revoked in %s:%d",
			 host, tname, fp, ep->known_hosts, v.line);
		r = SB_ERR_TRANSPORT;
		break;
	case SB_KH_CHANGED:
		snprintf(
			why, SFTP_WHY_MAX,
			"HOST KEY OF %s HAS CHANGED, refusing to connect: someone may be "
			"intercepting the connection, or the server's key was replaced. Offered %s "
			"key SHA256:%s; known_hosts has another (%s) in %s:%d. Check the "
			"fingerprint with the server's administrator, then remove the old entry "
			"(ssh-keygen -f %s -R '%s')",
			host, tname, fp, v.type, ep->known_hosts, v.line, ep->known_hosts, host);
		r = SB_ERR_TRANSPORT;
		break;
	case SB_KH_CERT:
		snprintf(why, SFTP_WHY_MAX,
			 "%s offered a %s host key SHA256:%s, but %s:%d names a @cert-authority "
			 "for it and sealbox does not check host certificates; refusing to connect",
			 host, tname, fp, ep->known_hosts, v.line);
		r = SB_ERR_TRANSPORT;
		break;
	case SB_KH_NEW: r = new_key(ep, host, key, len, tname, fp, text, tlen, why); break;
	}
out:
	free(text);
	free(host);
	return r;
}
