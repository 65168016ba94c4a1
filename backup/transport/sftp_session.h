/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sftp_session.h - private to the sftp:// transport: one SSH connection.
 *
 * sftp_connect.c parses the URL and opens a connection (TCP, handshake, host
 * key check, authentication, SFTP); sftp_hostkey.c checks the server's key
 * against known_hosts as OpenSSH does; sftp_auth.c authenticates the user.
 * transport_sftp.c runs the file operations over a connection and opens a
 * new one when it drops. Failures are described in `why` (SFTP_WHY_MAX
 * bytes, one line, no key material) for the caller to log once.
 */
#ifndef SEALBOX_SFTP_SESSION_H
#define SEALBOX_SFTP_SESSION_H

#include <stdbool.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#define SFTP_WHY_MAX 2048

/* Where to connect and how to trust it: from the URL and the options. */
struct sftp_endpoint {
	char *user, *host; /* decoded */
	char *path;	   /* absolute folder on the server, no trailing '/' */
	int port;
	char *hostspec;	   /* "host" or "[host]:port", as in known_hosts */
	char *ssh_key;	   /* NULL: agent, then ~/.ssh defaults */
	char *known_hosts; /* file */
	bool accept_new;   /* add an unknown host key to known_hosts */
};

struct sftp_conn {
	int sock;
	LIBSSH2_SESSION *ssh;
	LIBSSH2_SFTP *sftp;
	struct sftp_conn *next; /* on the transport's dead list */
};

/* Fill ep's user, host, port, path and hostspec from "sftp://..."; logs. */
int sftp_parse_url(struct sftp_endpoint *ep, const char *url);
void sftp_endpoint_release(struct sftp_endpoint *ep);

/* Connect, check the host key, authenticate, start SFTP. On failure, why
 * says what happened; *fatal is set when retrying cannot help. */
int sftp_conn_open(const struct sftp_endpoint *ep, struct sftp_conn **out, char *why, bool *fatal);
/* graceful: say goodbye to the server; otherwise just cut the socket. */
void sftp_conn_free(struct sftp_conn *c, bool graceful);

/* libssh2's last error message on ssh, never NULL. */
static inline const char *sftp_errmsg(LIBSSH2_SESSION *ssh)
{
	char *msg = NULL;

	libssh2_session_last_error(ssh, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown SSH error";
}

/* Before the handshake: prefer the host key algorithms known for ep. */
void sftp_hostkey_prefer(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh);
/* After the handshake: the server's key is known (or accepted as new), and
 * not revoked. */
int sftp_hostkey_check(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, char *why);

/* Authenticate ep->user: --ssh-key, else ssh-agent, else ~/.ssh defaults. */
int sftp_authenticate(const struct sftp_endpoint *ep, LIBSSH2_SESSION *ssh, char *why);

#endif
