/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sftp_auth.c - user authentication with public keys: the --ssh-key file,
 * else every ssh-agent identity, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
 * With libssh2 older than 1.11 (SEALBOX_OWN_RSA), RSA keys sign with
 * rsa-sha2-512 through ssh_rsa.c (such a libssh2 signs them with SHA-1 only,
 * which OpenSSH >= 8.8 refuses); other keys, and every key with a newer
 * libssh2, go through libssh2. A failure lists every key tried and why.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/log.h"
#include "sftp_session.h"
#ifdef SEALBOX_OWN_RSA
#include "ssh_rsa.h"
#endif

static void tried_add(char *tried, size_t size, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(tried);

	snprintf(tried + n, size - n, fmt, n ? ", " : "", a, b);
}

#ifdef SEALBOX_OWN_RSA
/*
 * An RSA key: rsa-sha2-512 (RFC 8332), which libssh2 1.10 cannot sign itself.
 * Only when the server refuses that before any signature (the key is not
 * authorized, or a server older than OpenSSH 7.2 knows no rsa-sha2), libssh2
 * tries the key once more with ssh-rsa (SHA-1). Each refusal counts against
 * the server's MaxAuthTries, so no rsa-sha2-256 in between.
 */
static int try_rsa_key(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, const char *file,
		       const struct sb_ssh_rsa *key, const char *pass, char *tried, size_t size)
{
	char reason[512];
	int r;

	if ((r = sb_ssh_rsa_userauth(ssh, ep->user, key, "rsa-sha2-512")) == 0)
		return 0;
	if (r != LIBSSH2_ERROR_AUTHENTICATION_FAILED) {
		snprintf(reason, sizeof(reason), "RSA key, rsa-sha2-512 failed: %s",
			 sftp_errmsg(ssh));
		tried_add(tried, size, "%s%s (%s)", file, reason);
		return r;
	}
	r = libssh2_userauth_publickey_fromfile_ex(ssh, ep->user, (unsigned)strlen(ep->user), NULL,
						   file, pass ? pass : "");
	if (!r)
		return 0;
	tried_add(tried, size, "%s%s (%s)", file,
		  "RSA key refused by the server, as rsa-sha2-512 and as ssh-rsa");
	return r;
}

/* Try file as an RSA key of our own loader: 1 when it is not one. */
static int try_own_rsa(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, const char *file,
		       const char *pass, char *tried, size_t size)
{
	struct sb_ssh_rsa *key = NULL;
	char why[256], reason[512];
	int r;

	r = sb_ssh_rsa_load(file, pass, &key, why, sizeof(why));
	if (r == 0) {
		r = try_rsa_key(ep, ssh, file, key, pass, tried, size);
		sb_ssh_rsa_free(key);
		return r;
	}
	if (r == SB_SSH_RSA_NOT_RSA)
		return 1;
	if (r == SB_ERR_PASSPHRASE && !pass)
		snprintf(reason, sizeof(reason),
			 "encrypted, and $SEALBOX_SSH_PASSPHRASE is not set");
	else if (r == SB_ERR_PASSPHRASE)
		snprintf(reason, sizeof(reason), "wrong $SEALBOX_SSH_PASSPHRASE");
	else if (r == SB_ERR_KEY)
		snprintf(reason, sizeof(reason), "unsupported key file: %s", why);
	else
		snprintf(reason, sizeof(reason), "unreadable: %s", why);
	tried_add(tried, size, "%s%s (%s)", file, reason);
	return LIBSSH2_ERROR_FILE;
}
#endif

static int try_key_file(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, const char *file,
			char *tried, size_t size)
{
	const char *pass = getenv("SEALBOX_SSH_PASSPHRASE");
	int r;

#ifdef SEALBOX_OWN_RSA
	if ((r = try_own_rsa(ep, ssh, file, pass, tried, size)) != 1)
		return r;
#endif
	/* libssh2 reads and signs the key itself */
	r = libssh2_userauth_publickey_fromfile_ex(ssh, ep->user, (unsigned)strlen(ep->user), NULL,
						   file, pass ? pass : "");
	if (!r)
		return 0;
	if (r == LIBSSH2_ERROR_FILE)
		tried_add(
			tried, size, "%s%s (%s)", file,
			pass ? "unreadable, wrong $SEALBOX_SSH_PASSPHRASE or unsupported format"
			     : "unreadable, encrypted without $SEALBOX_SSH_PASSPHRASE, or unsupported");
	else
		tried_add(tried, size, "%s%s (%s)", file, "refused by the server");
	return r;
}

#ifdef SEALBOX_OWN_RSA
/* Is the agent identity a plain RSA key (not a certificate)? */
static bool is_ssh_rsa(const struct libssh2_agent_publickey *id)
{
	return id->blob_len > 11 && !memcmp(id->blob, "\0\0\0\7ssh-rsa", 11);
}
#endif

/* Every identity of the agent (RSA ones signed with rsa-sha2-512). */
static int try_agent(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, char *tried, size_t size)
{
	LIBSSH2_AGENT *ag = libssh2_agent_init(ssh);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int r = -1, n = 0, nosign = 0;
	char count[32], unsigned_rsa[80] = "";

	if (!ag)
		return -1;
	if (libssh2_agent_connect(ag) == 0 && libssh2_agent_list_identities(ag) == 0) {
		while (libssh2_agent_get_identity(ag, &id, prev) == 0) {
			n++;
#ifdef SEALBOX_OWN_RSA
			if (is_ssh_rsa(id))
				r = sb_ssh_agent_rsa_userauth(ssh, ep->user, id->blob, id->blob_len,
							      "rsa-sha2-512");
			else
#endif
				r = libssh2_agent_userauth(ag, ep->user, id);
			if (r == 0)
				break;
			if (r == LIBSSH2_ERROR_AGENT_PROTOCOL)
				nosign++;
			prev = id;
		}
		libssh2_agent_disconnect(ag);
	}
	libssh2_agent_free(ag);
	if (r) {
		snprintf(count, sizeof(count), "%d key%s refused", n, n == 1 ? "" : "s");
		if (nosign)
			snprintf(unsigned_rsa, sizeof(unsigned_rsa),
				 "; it would not sign %d RSA key%s with rsa-sha2-512", nosign,
				 nosign == 1 ? "" : "s");
		tried_add(tried, size, "%sssh-agent (%s%s)", count, unsigned_rsa);
	}
	return r;
}

int sftp_authenticate(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, char *why)
{
	static const char *const defaults[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
	char tried[1024] = "", file[PATH_MAX];
	const char *home, *methods;
	size_t i;

	methods = libssh2_userauth_list(ssh, ep->user, (unsigned)strlen(ep->user));
	if (!methods && libssh2_userauth_authenticated(ssh))
		return 0;
	if (!methods || !strstr(methods, "publickey")) {
		snprintf(why, SFTP_WHY_MAX, "%s does not accept public keys for %s (offers: %s)",
			 ep->host, ep->user, methods ? methods : sftp_errmsg(ssh));
		return SB_ERR_TRANSPORT;
	}
	if (ep->ssh_key) {
		if (access(ep->ssh_key, R_OK) < 0) {
			snprintf(why, SFTP_WHY_MAX, "--ssh-key %s: %s", ep->ssh_key,
				 strerror(errno));
			return SB_ERR_PARAM;
		}
		if (try_key_file(ep, ssh, ep->ssh_key, tried, sizeof(tried)) == 0)
			return 0;
	} else {
		if (getenv("SSH_AUTH_SOCK") && try_agent(ep, ssh, tried, sizeof(tried)) == 0)
			return 0;
		if (!(home = sb_home_dir()))
			home = "/";
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			snprintf(file, sizeof(file), "%s/.ssh/%s", home, defaults[i]);
			if (access(file, R_OK) == 0 &&
			    try_key_file(ep, ssh, file, tried, sizeof(tried)) == 0)
				return 0;
		}
		if (!*tried)
			snprintf(tried, sizeof(tried),
				 "none: no ssh-agent, no ~/.ssh/id_ed25519, "
				 "id_ecdsa or id_rsa; give --ssh-key FILE");
	}
	snprintf(why, SFTP_WHY_MAX, "authentication as %s on %s failed; keys tried: %s", ep->user,
		 ep->host, tried);
	return SB_ERR_TRANSPORT;
}
