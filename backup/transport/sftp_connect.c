/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sftp_connect.c - the URL of an sftp:// target, and one connection to it:
 * TCP (with a timeout), SSH handshake, host key check before anything else
 * is sent, user authentication, then the SFTP subsystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sftp_session.h"

#define CONNECT_TIMEOUT_MS 15000
#define SESSION_TIMEOUT_MS 120000 /* a blocked libssh2 call gives up after this */

/* ------------------------------------------------------------ URL */

/* strndup with %XX decoding; NULL on bad escapes or NUL bytes. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;
	int hi, lo;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= n || (hi = sb_hexval(s[i + 1])) < 0 ||
		    (lo = sb_hexval(s[i + 2])) < 0 || (hi | lo) == 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

int sftp_parse_url(struct sftp_endpoint *ep, const char *url)
{
	const char *a = url + strlen("sftp://"), *at, *slash, *hs, *he, *colon;
	size_t plen;
	long port = 22;
	char *end;

	slash = strchr(a, '/');
	if (!slash) {
		sb_error("target %s: no folder in the URL (sftp://user@host[:port]/abs/path)", url);
		return SB_ERR_PARAM;
	}
	at = memchr(a, '@', (size_t)(slash - a));
	if (at) {
		if (memchr(a, ':', (size_t)(at - a))) {
			sb_error("target %s: passwords in the URL are not supported (use keys)",
				 url);
			return SB_ERR_PARAM;
		}
		ep->user = pct_decode(a, (size_t)(at - a));
		hs = at + 1;
	} else {
		const char *u = getenv("USER");
		struct passwd *pw = getpwuid(getuid());

		ep->user = strdup(pw ? pw->pw_name : u ? u : "root");
		hs = a;
	}
	if (*hs == '[') {
		he = memchr(hs, ']', (size_t)(slash - hs));
		if (!he) {
			sb_error("target %s: unterminated [IPv6 address]", url);
			return SB_ERR_PARAM;
		}
		ep->host = strndup(hs + 1, (size_t)(he - hs - 1));
		colon = he + 1 < slash && he[1] == ':' ? he + 1 : NULL;
		if (!colon && he + 1 != slash)
			goto bad;
	} else {
		colon = memchr(hs, ':', (size_t)(slash - hs));
		ep->host = strndup(hs, (size_t)((colon ? colon : slash) - hs));
	}
	if (colon) {
		port = strtol(colon + 1, &end, 10);
		if (end != slash || colon + 1 == slash || port < 1 || port > 65535)
			goto bad;
	}
	ep->port = (int)port;
	plen = strlen(slash);
	while (plen > 1 && slash[plen - 1] == '/')
		plen--;
	ep->path = pct_decode(slash, plen);
	if (!ep->user || !ep->host || !ep->path)
		goto bad;
	if (!*ep->user || !*ep->host)
		goto bad;
	if (ep->port == 22)
		ep->hostspec = strdup(ep->host);
	else if (asprintf(&ep->hostspec, "[%s]:%d", ep->host, ep->port) < 0)
		ep->hostspec = NULL;
	return ep->hostspec ? 0 : SB_ERR_NOMEM;
bad:
	sb_error("target %s: bad URL (expected sftp://user@host[:port]/abs/path)", url);
	return SB_ERR_PARAM;
}

/* -------------------------------------------------------- TCP connect */

static int wait_connected(int fd, int *err)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(*err);
	int r;

	do
		r = poll(&p, 1, CONNECT_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		*err = ETIMEDOUT;
		return -1;
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) < 0) {
		*err = errno;
		return -1;
	}
	return *err ? -1 : 0;
}

static int tcp_connect(const struct sftp_endpoint *ep, int *out, char *why)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
	char port[8];
	int fd = -1, err = 0, r, one = 1;

	snprintf(port, sizeof(port), "%d", ep->port);
	r = getaddrinfo(ep->host, port, &hints, &res);
	if (r) {
		snprintf(why, SFTP_WHY_MAX, "cannot resolve host %s: %s", ep->host,
			 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return SB_ERR_TRANSPORT;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_connected(fd, &err) == 0))
			break;
		if (errno != EINPROGRESS)
			err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (err == ETIMEDOUT)
			snprintf(why, SFTP_WHY_MAX,
				 "cannot connect to %s port %d: timed out after %d s", ep->host,
				 ep->port, CONNECT_TIMEOUT_MS / 1000);
		else
			snprintf(why, SFTP_WHY_MAX, "cannot connect to %s port %d: %s", ep->host,
				 ep->port, strerror(err));
		return SB_ERR_TRANSPORT;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	*out = fd;
	return 0;
}

void sftp_conn_free(struct sftp_conn *c, bool graceful)
{
	if (!c)
		return;
	if (!graceful && c->sock >= 0)
		shutdown(c->sock, SHUT_RDWR); /* make libssh2's goodbyes fail at once */
	if (c->sftp)
		libssh2_sftp_shutdown(c->sftp);
	if (c->ssh) {
		if (graceful)
			libssh2_session_disconnect(c->ssh, "sealbox done");
		libssh2_session_free(c->ssh);
	}
	if (c->sock >= 0)
		close(c->sock);
	free(c);
}

int sftp_conn_open(const struct sftp_endpoint *ep, struct sftp_conn **out, char *why, bool *fatal)
{
	struct sftp_conn *c = calloc(1, sizeof(*c));
	int rc;

	*fatal = false;
	if (!c)
		return SB_ERR_NOMEM;
	c->sock = -1;
	if ((rc = tcp_connect(ep, &c->sock, why)))
		goto fail;
	rc = SB_ERR_NOMEM;
	if (!(c->ssh = libssh2_session_init()))
		goto fail;
	libssh2_session_set_blocking(c->ssh, 1);
	libssh2_session_set_timeout(c->ssh, SESSION_TIMEOUT_MS);
	sftp_hostkey_prefer(ep, c->ssh);
	rc = SB_ERR_TRANSPORT;
	if (libssh2_session_handshake(c->ssh, c->sock)) {
		snprintf(why, SFTP_WHY_MAX, "SSH handshake with %s port %d failed: %s", ep->host,
			 ep->port, sftp_errmsg(c->ssh));
		goto fail;
	}
	*fatal = true; /* from here on, trying again gives the same answer */
	if ((rc = sftp_hostkey_check(ep, c->ssh, why)) || (rc = sftp_authenticate(ep, c->ssh, why)))
		goto fail;
	if (!(c->sftp = libssh2_sftp_init(c->ssh))) {
		snprintf(why, SFTP_WHY_MAX, "cannot start SFTP on %s: %s", ep->host,
			 sftp_errmsg(c->ssh));
		rc = SB_ERR_TRANSPORT;
		*fatal = false;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	sftp_conn_free(c, false);
	return rc;
}

void sftp_endpoint_release(struct sftp_endpoint *ep)
{
	free(ep->user);
	free(ep->host);
	free(ep->path);
	free(ep->hostspec);
	free(ep->ssh_key);
	free(ep->known_hosts);
	memset(ep, 0, sizeof(*ep));
}
