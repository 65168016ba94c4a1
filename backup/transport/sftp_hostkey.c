/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sftp_hostkey.c - the server's host key, checked against known_hosts as
 * OpenSSH checks it: plain and hashed entries, "[host]:port" for ports other
 * than 22, the algorithms already known for the host preferred. An unknown
 * key is refused with its SHA256 fingerprint and the line to add (or added,
 * with --accept-new-host-key); a changed key is refused before any
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
#include "sftp_session.h"

static const struct {
	int hostkey_type;
	int kh_bit;
	const char *methods; /* host key algorithms, OpenSSH's order */
} key_kinds[] = {
	{LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521"},
	{LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA,
	 "rsa-sha2-512,rsa-sha2-256,ssh-rsa"},
};
#define NKINDS (sizeof(key_kinds) / sizeof(key_kinds[0]))

/* Feed known_hosts into kh line by line: lines libssh2 cannot parse (markers,
 * other key types) are skipped, as OpenSSH skips what it does not match. */
void sftp_hostkey_load(LIBSSH2_KNOWNHOSTS *kh, const char *file, int only_line)
{
	char line[8192];
	int n = 0;
	FILE *f = fopen(file, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (only_line && n != only_line)
			continue;
		if (line[0] == '@' || line[0] == '#' || line[0] == '\n')
			continue;
		libssh2_knownhost_readline(kh, line, strlen(line), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	fclose(f);
}

static int kh_check(LIBSSH2_KNOWNHOSTS *kh, const char *hostspec, const char *key, size_t len,
		    int bit)
{
	return libssh2_knownhost_checkp(
		kh, hostspec, -1, key, len,
		LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | bit, NULL);
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
void sftp_hostkey_prefer(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh,
			 LIBSSH2_KNOWNHOSTS *kh)
{
	char pref[512] = "";
	const char **algs = NULL;
	bool known[NKINDS];
	size_t i, pass, len;
	const char *m, *end;
	int n;

	n = libssh2_session_supported_algs(ssh, LIBSSH2_METHOD_HOSTKEY, &algs);
	if (n <= 0)
		return; /* keep libssh2's defaults */
	for (i = 0; i < NKINDS; i++)
		known[i] = kh_check(kh, ep->hostspec, "\x01", 1, key_kinds[i].kh_bit) ==
			   LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
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

	if (n == 0 || n > len - 4 || n >= size)
		snprintf(out, size, "unknown");
	else
		snprintf(out, size, "%.*s", (int)n, key + 4);
}

static int append_line(const char *file, const char *line, char *why)
{
	char dir[PATH_MAX], *s;
	int fd;

	snprintf(dir, sizeof(dir), "%s", file);
	s = strrchr(dir, '/');
	if (s && s != dir) {
		*s = '\0';
		mkdir(dir, 0700);
	}
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0) {
		snprintf(why, SFTP_WHY_MAX, "cannot add the host key to %s: %s", file,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return SB_ERR_IO;
	}
	return close(fd) < 0 ? SB_ERR_IO : 0;
}

/* Which line of the file holds a key for the host that differs from key. */
static int offending_line(LIBSSH2_SESSION *ssh, const char *file, const char *hostspec,
			  const char *key, size_t len, int bit)
{
	int n, nlines = 0;
	char line[8192];
	FILE *f = fopen(file, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		nlines++;
	fclose(f);
	for (n = 1; n <= nlines && n < 100000; n++) {
		LIBSSH2_KNOWNHOSTS *one = libssh2_knownhost_init(ssh);
		int r;

		if (!one)
			return 0;
		sftp_hostkey_load(one, file, n);
		r = kh_check(one, hostspec, key, len, bit);
		libssh2_knownhost_free(one);
		if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
			return n;
	}
	return 0;
}

int sftp_hostkey_check(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, LIBSSH2_KNOWNHOSTS *kh,
		       char *why)
{
	const char *key;
	size_t len, i;
	int type, bit = 0, r;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char fp[64], tname[64], *enc, *line = NULL;

	key = libssh2_session_hostkey(ssh, &len, &type);
	if (!key) {
		snprintf(why, SFTP_WHY_MAX, "%s sent no host key", ep->host);
		return SB_ERR_TRANSPORT;
	}
	for (i = 0; i < NKINDS; i++)
		if (key_kinds[i].hostkey_type == type)
			bit = key_kinds[i].kh_bit;
	EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL);
	b64(md, mdlen, fp, true);
	blob_type((const unsigned char *)key, len, tname, sizeof(tname));
	r = bit ? kh_check(kh, ep->hostspec, key, len, bit) : LIBSSH2_KNOWNHOST_CHECK_FAILURE;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		int at = offending_line(ssh, ep->known_hosts, ep->hostspec, key, len, bit);

		snprintf(
			why, SFTP_WHY_MAX,
			"HOST KEY OF %s HAS CHANGED, refusing to connect: someone may be intercepting "
			"the connection, or the server's key was replaced. Offered %s key SHA256:%s; "
			"known_hosts has another in %s%s%.0d. Check the fingerprint with the server's "
			"administrator, then remove the old entry (ssh-keygen -f %s -R '%s')",
			ep->hostspec, tname, fp, ep->known_hosts, at ? ":" : "", at,
			ep->known_hosts, ep->hostspec);
		return SB_ERR_TRANSPORT;
	}
	if (r != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		snprintf(why, SFTP_WHY_MAX, "%s offered a %s host key that cannot be checked",
			 ep->host, tname);
		return SB_ERR_TRANSPORT;
	}
	enc = malloc(len * 4 / 3 + 8);
	if (!enc)
		return SB_ERR_NOMEM;
	b64((const unsigned char *)key, len, enc, false);
	r = asprintf(&line, "%s %s %s\n", ep->hostspec, tname, enc);
	free(enc);
	if (r < 0)
		return SB_ERR_NOMEM;
	if (!ep->accept_new) {
		line[strlen(line) - 1] = '\0';
		snprintf(
			why, SFTP_WHY_MAX,
			"unknown host key for %s: %s SHA256:%s; if that is the server's key, add this "
			"line to %s (or run once with --accept-new-host-key): %s",
			ep->hostspec, tname, fp, ep->known_hosts, line);
		free(line);
		return SB_ERR_TRANSPORT;
	}
	r = append_line(ep->known_hosts, line, why);
	free(line);
	if (!r)
		sb_notice("added the %s host key of %s (SHA256:%s) to %s", tname, ep->hostspec, fp,
			  ep->known_hosts);
	return r;
}
