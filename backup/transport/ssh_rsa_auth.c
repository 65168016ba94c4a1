/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ssh_rsa_auth.c - logging in with an RSA key and an rsa-sha2 signature on
 * libssh2 1.10 (see ssh_rsa.h): with a key file's key (ssh_rsa.c signs), or
 * with an ssh-agent identity (the agent signs, asked over $SSH_AUTH_SOCK).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ssh_rsa.h"
#include "ssh_wire.h"

#define AGENT_REPLY_MAX (1 << 18) /* an RSA signature is well below this */
#define AGENTC_SIGN_REQUEST 13	  /* PROTOCOL.agent / draft-miller-ssh-agent */
#define AGENT_SIGN_RESPONSE 14

static const struct {
	const char *name;    /* SSH name */
	uint32_t agent_flag; /* SSH_AGENT_RSA_SHA2_* */
} algs[] = {
	{"rsa-sha2-512", 4},
	{"rsa-sha2-256", 2},
};

static int alg_index(const char *alg)
{
	size_t i;

	for (i = 0; alg && i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strcmp(alg, algs[i].name))
			return (int)i;
	return -1;
}

struct sign_ctx {
	const struct sb_ssh_rsa *key;	 /* a key file's key, or */
	const unsigned char *agent_blob; /* the agent identity's "ssh-rsa" blob */
	size_t agent_blob_len;
	int alg;     /* index in sig_algs */
	bool failed; /* the callback could not sign */
};

static int agent_sign(struct sign_ctx *c, const unsigned char *data, size_t len,
		      unsigned char **sig, size_t *sig_len);

/* libssh2 wants the raw signature, allocated with its (default) allocator. */
static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(sign_cb)
{
	struct sign_ctx *c = *abstract;
	int rc;

	if (c->key)
		rc = sb_ssh_rsa_sign(c->key, algs[c->alg].name, data, data_len, sig, sig_len);
	else
		rc = agent_sign(c, data, data_len, sig, sig_len);
	c->failed = rc != 0;
	return rc ? -1 : 0;
}

/*
 * The request names alg and carries the key as string(alg) + the blob's
 * mpints: libssh2 1.10 takes the request's algorithm from the blob's first
 * string, and OpenSSH (sshkey_type_from_name) reads rsa-sha2-* as an RSA key.
 */
static int userauth(LIBSSH2_SESSION *ssh, const char *user, const unsigned char *ssh_rsa_blob,
		    size_t blob_len, struct sign_ctx *c)
{
	const char *alg = algs[c->alg].name;
	struct ssh_wr w = {0};
	void *abstract = c;
	int rc;

	if (blob_len < 11 || memcmp(ssh_rsa_blob, "\0\0\0\7ssh-rsa", 11))
		return LIBSSH2_ERROR_INVAL;
	ssh_wr_str(&w, alg, strlen(alg));
	ssh_wr_bytes(&w, ssh_rsa_blob + 11, blob_len - 11);
	if (w.err)
		return LIBSSH2_ERROR_ALLOC;
	rc = libssh2_userauth_publickey(ssh, user, w.p, w.len, sign_cb, &abstract);
	free(w.p);
	return rc;
}

int sb_ssh_rsa_userauth(LIBSSH2_SESSION *ssh, const char *user, const struct sb_ssh_rsa *key,
			const char *alg)
{
	struct sign_ctx c = {.key = key, .alg = alg_index(alg)};

	if (c.alg < 0 || !key)
		return LIBSSH2_ERROR_INVAL;
	size_t len;
	const unsigned char *blob = sb_ssh_rsa_blob(key, &len);

	return userauth(ssh, user, blob, len, &c);
}

int sb_ssh_agent_rsa_userauth(LIBSSH2_SESSION *ssh, const char *user, const unsigned char *blob,
			      size_t blob_len, const char *alg)
{
	struct sign_ctx c = {.agent_blob = blob, .agent_blob_len = blob_len, .alg = alg_index(alg)};
	int rc;

	if (c.alg < 0)
		return LIBSSH2_ERROR_INVAL;
	rc = userauth(ssh, user, blob, blob_len, &c);
	return rc && c.failed ? LIBSSH2_ERROR_AGENT_PROTOCOL : rc;
}

/* ------------------------------------------------------ ssh-agent */

static bool io_all(int fd, unsigned char *buf, size_t n, bool writing)
{
	ssize_t k;

	while (n) {
		k = writing ? send(fd, buf, n, MSG_NOSIGNAL) : recv(fd, buf, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		buf += k;
		n -= (size_t)k;
	}
	return true;
}

static int agent_connect(void)
{
	const char *path = getenv("SSH_AUTH_SOCK");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * SSH2_AGENTC_SIGN_REQUEST: byte 13, string key blob, string data, uint32
 * flags; the answer SSH2_AGENT_SIGN_RESPONSE: byte 14, string signature,
 * where signature = string(algorithm) + string(raw signature).
 */
static int agent_sign(struct sign_ctx *c, const unsigned char *data, size_t len,
		      unsigned char **sig, size_t *sig_len)
{
	struct ssh_wr w = {0};
	struct ssh_rd r, blob, alg, raw;
	unsigned char hdr[4], *reply = NULL;
	uint32_t n;
	int fd = -1, rc = -1;

	ssh_wr_u32(&w, 0); /* the length, filled in below */
	ssh_wr_bytes(&w, (unsigned char[]){AGENTC_SIGN_REQUEST}, 1);
	ssh_wr_str(&w, c->agent_blob, c->agent_blob_len);
	ssh_wr_str(&w, data, len);
	ssh_wr_u32(&w, algs[c->alg].agent_flag);
	if (w.err)
		goto out;
	n = (uint32_t)(w.len - 4);
	w.p[0] = (unsigned char)(n >> 24);
	w.p[1] = (unsigned char)(n >> 16);
	w.p[2] = (unsigned char)(n >> 8);
	w.p[3] = (unsigned char)n;
	if ((fd = agent_connect()) < 0 || !io_all(fd, w.p, w.len, true) ||
	    !io_all(fd, hdr, 4, false))
		goto out;
	r = (struct ssh_rd){hdr, 4};
	if (!ssh_rd_u32(&r, &n) || n < 1 || n > AGENT_REPLY_MAX || !(reply = malloc(n)) ||
	    !io_all(fd, reply, n, false))
		goto out;
	r = (struct ssh_rd){reply + 1, n - 1};
	if (reply[0] != AGENT_SIGN_RESPONSE || !ssh_rd_str(&r, &blob) || !ssh_rd_str(&blob, &alg) ||
	    !ssh_rd_is(&alg, algs[c->alg].name) || !ssh_rd_str(&blob, &raw) || !raw.n)
		goto out; /* refused, or an ssh-rsa (SHA-1) signature from an old agent */
	if (!(*sig = malloc(raw.n)))
		goto out;
	memcpy(*sig, raw.p, raw.n);
	*sig_len = raw.n;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(reply);
	free(w.p);
	return rc;
}
