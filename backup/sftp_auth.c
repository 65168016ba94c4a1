/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sftp_auth.c - user authentication with public keys: the --ssh-key file,
 * else every ssh-agent identity, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
 * A failure lists every key tried and why it did not work.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sftp_session.h"

static void tried_add(char *tried, size_t size, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(tried);

	snprintf(tried + n, size - n, fmt, n ? ", " : "", a, b);
}

/* Is file an RSA private key? (its .pub, or a PEM header, says so) */
static bool is_rsa_key(const char *file)
{
	char pub[PATH_MAX], head[64] = "";
	FILE *f;

	snprintf(pub, sizeof(pub), "%s.pub", file);
	if ((f = fopen(pub, "re")) || (f = fopen(file, "re"))) {
		if (!fgets(head, sizeof(head), f))
			head[0] = '\0';
		fclose(f);
	}
	return !strncmp(head, "ssh-rsa ", 8) || strstr(head, "BEGIN RSA PRIVATE KEY");
}

static int try_key_file(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, const char *file,
			char *tried, size_t size)
{
	const char *pass = getenv("SEALBOX_SSH_PASSPHRASE");
	int r;

	r = libssh2_userauth_publickey_fromfile_ex(ssh, ep->user, (unsigned)strlen(ep->user), NULL,
						   file, pass ? pass : "");
	if (!r)
		return 0;
	if (r == LIBSSH2_ERROR_FILE)
		tried_add(
		    tried, size, "%s%s (%s)", file,
		    pass ? "unreadable, wrong $SEALBOX_SSH_PASSPHRASE or unsupported format"
			 : "unreadable, encrypted without $SEALBOX_SSH_PASSPHRASE, or unsupported");
	else if (is_rsa_key(file))
		/* libssh2 1.10 signs with ssh-rsa (SHA-1) only: OpenSSH >= 8.8 refuses that */
		tried_add(tried, size, "%s%s (%s)", file,
			  "refused by the server: this libssh2 signs RSA keys with SHA-1 only, "
			  "which OpenSSH 8.8 and later refuse; use an ed25519 or ecdsa key");
	else
		tried_add(tried, size, "%s%s (%s)", file, "refused by the server");
	return r;
}

static int try_agent(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, char *tried, size_t size)
{
	LIBSSH2_AGENT *ag = libssh2_agent_init(ssh);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int r = -1, n = 0;
	char count[32];

	if (!ag)
		return -1;
	if (libssh2_agent_connect(ag) == 0 && libssh2_agent_list_identities(ag) == 0) {
		while (libssh2_agent_get_identity(ag, &id, prev) == 0) {
			n++;
			if ((r = libssh2_agent_userauth(ag, ep->user, id)) == 0)
				break;
			prev = id;
		}
		libssh2_agent_disconnect(ag);
	}
	libssh2_agent_free(ag);
	if (r) {
		snprintf(count, sizeof(count), "%d key%s", n, n == 1 ? "" : "s");
		tried_add(tried, size, "%sssh-agent (%s%s)", count, " refused");
	}
	return r;
}

int sftp_authenticate(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, char *why)
{
	static const char *const defaults[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
	char tried[1024] = "", file[PATH_MAX];
	const char *home = getenv("HOME"), *methods;
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
		if (!home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : "/";
		}
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
