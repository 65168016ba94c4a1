/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport_sftp.c - sftp://user@host[:port]/abs/path targets over libssh2.
 *
 * One SSH session per transport, shared by every thread: libssh2 sessions
 * are not thread-safe, so each libssh2 call runs under the transport's mutex.
 * The server's host key is checked against known_hosts as OpenSSH does
 * (plain and hashed entries, "[host]:port" for other ports than 22) before
 * any authentication. Uploads go to SB_TMP_PREFIX + name and are renamed
 * when complete. When the connection drops, listing, opening, reading,
 * renaming and deleting reconnect (RETRIES times, 1 s, 2 s, 4 s apart) and
 * carry on; an upload whose connection dropped fails (its data is gone), and
 * the writer's next run removes the temporary file.
 *
 * Every open file gets its own SFTP channel on the session: libssh2 may
 * return from a pipelined write with an SFTP packet half sent (the channel
 * window was full), so two files must never share one channel's stream.
 *
 * Throughput: libssh2 pipelines SFTP writes over the whole buffer it is
 * given and reads ahead four times the buffer it is asked to fill, so uploads
 * keep PUT_WINDOW bytes in flight and downloads read GET_CHUNK at a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/evp.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/names.h"
#include "transport_impl.h"

#define CONNECT_TIMEOUT_MS 15000
#define SESSION_TIMEOUT_MS 120000 /* a blocked libssh2 call gives up after this */
#define RETRIES 3		  /* reconnects after a drop, 1 s, 2 s, 4 s apart */
#define PUT_WINDOW (4u << 20)	  /* upload bytes handed to libssh2 at once */
#define PUT_BUF (2 * PUT_WINDOW)
#define GET_CHUNK (2u << 20)	  /* one read; libssh2 asks for 4x ahead */
#define WHY_MAX 2048
#define RPATH_MAX (PATH_MAX + 512)

struct conn {
	int sock;
	LIBSSH2_SESSION *ssh;
	LIBSSH2_SFTP *sftp;
	struct conn *next; /* on the dead list */
};

struct sftp_transport {
	struct sb_transport base;
	char *user, *host; /* decoded */
	char *path;	   /* absolute folder on the server, no trailing '/' */
	int port;
	char *hostspec;	   /* "host" or "[host]:port", as in known_hosts */
	char *ssh_key;	   /* NULL: agent, then ~/.ssh defaults */
	char *known_hosts; /* file */
	bool accept_new;
	pthread_mutex_t mu; /* serialises every libssh2 call on the session */
	struct conn *conn;  /* current session, NULL after a drop; protected by mu */
	struct conn *dead;  /* dropped sessions, freed at close; protected by mu */
	unsigned gen;	    /* bumped per new session; protected by mu */
	LIBSSH2_SFTP *failed; /* whose status run_op reports; protected by mu */
};

struct sftp_get {
	struct sb_transport_get base;
	char *name;
	LIBSSH2_SFTP *sftp;	/* this file's own channel */
	LIBSSH2_SFTP_HANDLE *h; /* valid while gen == transport's gen */
	unsigned gen;
	uint64_t off; /* bytes received so far, where a reopen seeks to */
	unsigned char *buf;
	size_t pos, len;
	bool eof;
};

struct sftp_put {
	struct sb_transport_put base;
	char *name, *tmp;
	LIBSSH2_SFTP *sftp; /* this file's own channel */
	LIBSSH2_SFTP_HANDLE *h;
	unsigned gen;
	unsigned char *buf; /* unacknowledged bytes at buf + start, len of them */
	size_t start, len;
	uint64_t total;
	int err; /* sticky failure */
};

static const struct sb_transport_ops sftp_ops;
static void sftp_get_close(struct sb_transport_get *gt);
static pthread_once_t ssh_once = PTHREAD_ONCE_INIT;
static int ssh_init_rc;

static void ssh_init(void) { ssh_init_rc = libssh2_init(0); }

/* ------------------------------------------------------------ URL */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

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
		if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0 ||
		    (hi | lo) == 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

static int parse_url(struct sftp_transport *st, const char *url)
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
			sb_error("target %s: passwords in the URL are not supported (use keys)", url);
			return SB_ERR_PARAM;
		}
		st->user = pct_decode(a, (size_t)(at - a));
		hs = at + 1;
	} else {
		const char *u = getenv("USER");
		struct passwd *pw = getpwuid(getuid());

		st->user = strdup(pw ? pw->pw_name : u ? u : "root");
		hs = a;
	}
	if (*hs == '[') {
		he = memchr(hs, ']', (size_t)(slash - hs));
		if (!he) {
			sb_error("target %s: unterminated [IPv6 address]", url);
			return SB_ERR_PARAM;
		}
		st->host = strndup(hs + 1, (size_t)(he - hs - 1));
		colon = he + 1 < slash && he[1] == ':' ? he + 1 : NULL;
		if (!colon && he + 1 != slash)
			goto bad;
	} else {
		colon = memchr(hs, ':', (size_t)(slash - hs));
		st->host = strndup(hs, (size_t)((colon ? colon : slash) - hs));
	}
	if (colon) {
		port = strtol(colon + 1, &end, 10);
		if (end != slash || colon + 1 == slash || port < 1 || port > 65535)
			goto bad;
	}
	st->port = (int)port;
	plen = strlen(slash);
	while (plen > 1 && slash[plen - 1] == '/')
		plen--;
	st->path = pct_decode(slash, plen);
	if (!st->user || !st->host || !st->path)
		goto bad;
	if (!*st->user || !*st->host)
		goto bad;
	if (st->port == 22)
		st->hostspec = strdup(st->host);
	else if (asprintf(&st->hostspec, "[%s]:%d", st->host, st->port) < 0)
		st->hostspec = NULL;
	return st->hostspec ? 0 : SB_ERR_NOMEM;
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

static int tcp_connect(struct sftp_transport *st, int *out, char *why)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
	char port[8];
	int fd = -1, err = 0, r, one = 1;

	snprintf(port, sizeof(port), "%d", st->port);
	r = getaddrinfo(st->host, port, &hints, &res);
	if (r) {
		snprintf(why, WHY_MAX, "cannot resolve host %s: %s", st->host,
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
			snprintf(why, WHY_MAX, "cannot connect to %s port %d: timed out after %d s",
				 st->host, st->port, CONNECT_TIMEOUT_MS / 1000);
		else
			snprintf(why, WHY_MAX, "cannot connect to %s port %d: %s", st->host, st->port,
				 strerror(err));
		return SB_ERR_TRANSPORT;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	*out = fd;
	return 0;
}

static const char *ssh_errmsg(LIBSSH2_SESSION *ssh)
{
	char *msg = NULL;

	libssh2_session_last_error(ssh, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown SSH error";
}

/* ------------------------------------------------------------ host key */

static const struct {
	int hostkey_type;
	int kh_bit;
	const char *methods; /* host key algorithms, OpenSSH's order */
} key_kinds[] = {
	{LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384"},
	{LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521"},
	{LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "rsa-sha2-512,rsa-sha2-256,ssh-rsa"},
};
#define NKINDS (sizeof(key_kinds) / sizeof(key_kinds[0]))

/* Feed known_hosts into kh line by line: lines libssh2 cannot parse (markers,
 * other key types) are skipped, as OpenSSH skips what it does not match. */
static void kh_load(LIBSSH2_KNOWNHOSTS *kh, const char *file, int only_line)
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
	return libssh2_knownhost_checkp(kh, hostspec, -1, key, len,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | bit,
					NULL);
}

/* Like OpenSSH, prefer the host key algorithms already known for this host. */
static void prefer_known_types(struct conn *c, LIBSSH2_KNOWNHOSTS *kh, const char *hostspec)
{
	char pref[512] = "";
	bool known[NKINDS];
	size_t i, pass;

	for (i = 0; i < NKINDS; i++)
		known[i] = kh_check(kh, hostspec, "\x01", 1, key_kinds[i].kh_bit) ==
			   LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < NKINDS; i++)
			if (known[i] == (pass == 0)) {
				if (*pref)
					strcat(pref, ",");
				strcat(pref, key_kinds[i].methods);
			}
	libssh2_session_method_pref(c->ssh, LIBSSH2_METHOD_HOSTKEY, pref);
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
		snprintf(why, WHY_MAX, "cannot add the host key to %s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SB_ERR_IO;
	}
	return close(fd) < 0 ? SB_ERR_IO : 0;
}

/* Which line of the file holds a key for the host that differs from key. */
static int offending_line(struct conn *c, const char *file, const char *hostspec,
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
		LIBSSH2_KNOWNHOSTS *one = libssh2_knownhost_init(c->ssh);
		int r;

		if (!one)
			return 0;
		kh_load(one, file, n);
		r = kh_check(one, hostspec, key, len, bit);
		libssh2_knownhost_free(one);
		if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
			return n;
	}
	return 0;
}

static int check_host_key(struct sftp_transport *st, struct conn *c, LIBSSH2_KNOWNHOSTS *kh,
			  char *why)
{
	const char *key;
	size_t len, i;
	int type, bit = 0, r;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char fp[64], tname[64], *enc, *line = NULL;

	key = libssh2_session_hostkey(c->ssh, &len, &type);
	if (!key) {
		snprintf(why, WHY_MAX, "%s sent no host key", st->host);
		return SB_ERR_TRANSPORT;
	}
	for (i = 0; i < NKINDS; i++)
		if (key_kinds[i].hostkey_type == type)
			bit = key_kinds[i].kh_bit;
	EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL);
	b64(md, mdlen, fp, true);
	blob_type((const unsigned char *)key, len, tname, sizeof(tname));
	r = bit ? kh_check(kh, st->hostspec, key, len, bit) : LIBSSH2_KNOWNHOST_CHECK_FAILURE;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		int at = offending_line(c, st->known_hosts, st->hostspec, key, len, bit);

		snprintf(why, WHY_MAX,
			 "HOST KEY OF %s HAS CHANGED, refusing to connect: someone may be intercepting "
			 "the connection, or the server's key was replaced. Offered %s key SHA256:%s; "
			 "known_hosts has another in %s%s%.0d. Check the fingerprint with the server's "
			 "administrator, then remove the old entry (ssh-keygen -f %s -R '%s')",
			 st->hostspec, tname, fp, st->known_hosts, at ? ":" : "", at,
			 st->known_hosts, st->hostspec);
		return SB_ERR_TRANSPORT;
	}
	if (r != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		snprintf(why, WHY_MAX, "%s offered a %s host key that cannot be checked", st->host,
			 tname);
		return SB_ERR_TRANSPORT;
	}
	enc = malloc(len * 4 / 3 + 8);
	if (!enc)
		return SB_ERR_NOMEM;
	b64((const unsigned char *)key, len, enc, false);
	r = asprintf(&line, "%s %s %s\n", st->hostspec, tname, enc);
	free(enc);
	if (r < 0)
		return SB_ERR_NOMEM;
	if (!st->accept_new) {
		line[strlen(line) - 1] = '\0';
		snprintf(why, WHY_MAX,
			 "unknown host key for %s: %s SHA256:%s; if that is the server's key, add this "
			 "line to %s (or run once with --accept-new-host-key): %s",
			 st->hostspec, tname, fp, st->known_hosts, line);
		free(line);
		return SB_ERR_TRANSPORT;
	}
	r = append_line(st->known_hosts, line, why);
	free(line);
	if (!r)
		sb_notice("added the %s host key of %s (SHA256:%s) to %s", tname, st->hostspec, fp,
			  st->known_hosts);
	return r;
}

/* ------------------------------------------------------------ auth */

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

static int try_key_file(struct sftp_transport *st, struct conn *c, const char *file, char *tried,
			size_t size)
{
	const char *pass = getenv("SEALBOX_SSH_PASSPHRASE");
	int r;

	r = libssh2_userauth_publickey_fromfile_ex(c->ssh, st->user, (unsigned)strlen(st->user), NULL,
						   file, pass ? pass : "");
	if (!r)
		return 0;
	if (r == LIBSSH2_ERROR_FILE)
		tried_add(tried, size, "%s%s (%s)", file,
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

static int try_agent(struct sftp_transport *st, struct conn *c, char *tried, size_t size)
{
	LIBSSH2_AGENT *ag = libssh2_agent_init(c->ssh);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int r = -1, n = 0;
	char count[32];

	if (!ag)
		return -1;
	if (libssh2_agent_connect(ag) == 0 && libssh2_agent_list_identities(ag) == 0) {
		while (libssh2_agent_get_identity(ag, &id, prev) == 0) {
			n++;
			if ((r = libssh2_agent_userauth(ag, st->user, id)) == 0)
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

static int authenticate(struct sftp_transport *st, struct conn *c, char *why)
{
	static const char *const defaults[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
	char tried[1024] = "", file[PATH_MAX];
	const char *home = getenv("HOME"), *methods;
	size_t i;

	methods = libssh2_userauth_list(c->ssh, st->user, (unsigned)strlen(st->user));
	if (!methods && libssh2_userauth_authenticated(c->ssh))
		return 0;
	if (!methods || !strstr(methods, "publickey")) {
		snprintf(why, WHY_MAX, "%s does not accept public keys for %s (offers: %s)", st->host,
			 st->user, methods ? methods : ssh_errmsg(c->ssh));
		return SB_ERR_TRANSPORT;
	}
	if (st->ssh_key) {
		if (access(st->ssh_key, R_OK) < 0) {
			snprintf(why, WHY_MAX, "--ssh-key %s: %s", st->ssh_key, strerror(errno));
			return SB_ERR_PARAM;
		}
		if (try_key_file(st, c, st->ssh_key, tried, sizeof(tried)) == 0)
			return 0;
	} else {
		if (getenv("SSH_AUTH_SOCK") && try_agent(st, c, tried, sizeof(tried)) == 0)
			return 0;
		if (!home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : "/";
		}
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			snprintf(file, sizeof(file), "%s/.ssh/%s", home, defaults[i]);
			if (access(file, R_OK) == 0 && try_key_file(st, c, file, tried, sizeof(tried)) == 0)
				return 0;
		}
		if (!*tried)
			snprintf(tried, sizeof(tried), "none: no ssh-agent, no ~/.ssh/id_ed25519, "
						       "id_ecdsa or id_rsa; give --ssh-key FILE");
	}
	snprintf(why, WHY_MAX, "authentication as %s on %s failed; keys tried: %s", st->user,
		 st->host, tried);
	return SB_ERR_TRANSPORT;
}

/* ------------------------------------------------------------ session */

static void conn_free(struct conn *c, bool graceful)
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

/* Connect, check the host key, authenticate, start SFTP. On failure, why
 * says what happened; *fatal is set when retrying cannot help. */
static int conn_open(struct sftp_transport *st, struct conn **out, char *why, bool *fatal)
{
	struct conn *c = calloc(1, sizeof(*c));
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	int rc;

	*fatal = false;
	if (!c)
		return SB_ERR_NOMEM;
	c->sock = -1;
	if ((rc = tcp_connect(st, &c->sock, why)))
		goto fail;
	rc = SB_ERR_NOMEM;
	if (!(c->ssh = libssh2_session_init()) || !(kh = libssh2_knownhost_init(c->ssh)))
		goto fail;
	libssh2_session_set_blocking(c->ssh, 1);
	libssh2_session_set_timeout(c->ssh, SESSION_TIMEOUT_MS);
	kh_load(kh, st->known_hosts, 0);
	prefer_known_types(c, kh, st->hostspec);
	rc = SB_ERR_TRANSPORT;
	if (libssh2_session_handshake(c->ssh, c->sock)) {
		snprintf(why, WHY_MAX, "SSH handshake with %s port %d failed: %s", st->host, st->port,
			 ssh_errmsg(c->ssh));
		goto fail;
	}
	*fatal = true; /* from here on, trying again gives the same answer */
	if ((rc = check_host_key(st, c, kh, why)) || (rc = authenticate(st, c, why)))
		goto fail;
	if (!(c->sftp = libssh2_sftp_init(c->ssh))) {
		snprintf(why, WHY_MAX, "cannot start SFTP on %s: %s", st->host, ssh_errmsg(c->ssh));
		rc = SB_ERR_TRANSPORT;
		*fatal = false;
		goto fail;
	}
	libssh2_knownhost_free(kh);
	*out = c;
	return 0;
fail:
	if (kh)
		libssh2_knownhost_free(kh);
	conn_free(c, false);
	return rc;
}

/* The session is gone: keep it aside (open handles point into it). */
static void conn_drop(struct sftp_transport *st)
{
	if (!st->conn)
		return;
	st->conn->next = st->dead;
	st->dead = st->conn;
	st->conn = NULL;
}

static int status_err(struct sftp_transport *st, LIBSSH2_SFTP *sftp, const char *what,
		      const char *name)
{
	unsigned long s = libssh2_sftp_last_error(sftp);
	const char *msg;
	int rc;

	switch (s) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		msg = "no such file or folder", rc = SB_ERR_NOTFOUND;
		break;
	case LIBSSH2_FX_PERMISSION_DENIED:
	case LIBSSH2_FX_WRITE_PROTECT:
		msg = "permission denied on the server", rc = SB_ERR_PERM;
		break;
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		msg = "no space left on the server", rc = SB_ERR_NOSPACE;
		break;
	case LIBSSH2_FX_FAILURE:
		/* OpenSSH's sftp-server reports ENOSPC/EDQUOT as a bare failure */
		if (!strcmp(what, "write") || !strcmp(what, "close") || !strcmp(what, "sync")) {
			msg = "the server could not store the data (disk full or quota exceeded?)";
			rc = SB_ERR_NOSPACE;
		} else {
			msg = "failure reported by the server", rc = SB_ERR_TRANSPORT;
		}
		break;
	default:
		msg = "error reported by the server", rc = SB_ERR_TRANSPORT;
		break;
	}
	sb_error("target %s: %s %s: %s (SFTP status %lu)", st->base.desc, what, name, msg, s);
	return rc;
}

typedef int (*sftp_op)(struct sftp_transport *st, struct conn *c, void *arg);

/*
 * Run op on the session under the lock. A libssh2 failure other than an
 * SFTP status means the connection is lost: reconnect and run op again, up
 * to RETRIES times with backoff. op returns 0 or a libssh2 code.
 */
static int run_op(struct sftp_transport *st, const char *what, const char *name, sftp_op op,
		  void *arg)
{
	char why[WHY_MAX] = "";
	int attempt, rc = 0;
	bool fatal = false;

	pthread_mutex_lock(&st->mu);
	for (attempt = 0;; attempt++) {
		if (!st->conn) {
			rc = conn_open(st, &st->conn, why, &fatal);
			if (!rc)
				st->gen++;
			else if (fatal || rc == SB_ERR_NOMEM)
				break;
		}
		if (st->conn) {
			st->failed = st->conn->sftp;
			rc = op(st, st->conn, arg);
			if (!rc)
				break;
			if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
				rc = status_err(st, st->failed, what, name);
				goto out;
			}
			if (rc == LIBSSH2_ERROR_ALLOC) {
				rc = SB_ERR_NOMEM;
				goto out;
			}
			snprintf(why, sizeof(why), "connection to %s lost: %s", st->host,
				 ssh_errmsg(st->conn->ssh));
			conn_drop(st);
			rc = SB_ERR_TRANSPORT;
		}
		if (attempt == RETRIES)
			break;
		sb_warn("target %s: %s %s: %s; reconnecting in %d s", st->base.desc, what, name, why,
			1 << attempt);
		pthread_mutex_unlock(&st->mu);
		sleep(1u << attempt);
		pthread_mutex_lock(&st->mu);
	}
	if (rc) {
		if (attempt && !fatal)
			sb_error("target %s: %s %s: %s (gave up after %d reconnects)", st->base.desc, what,
				 name, why, attempt);
		else
			sb_error("target %s: %s", st->base.desc, why);
	}
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static void remote_path(const struct sftp_transport *st, const char *name, char *out)
{
	snprintf(out, RPATH_MAX, "%s%s%s", st->path, strcmp(st->path, "/") ? "/" : "", name);
}

static int last_rc(struct conn *c)
{
	int rc = libssh2_session_last_errno(c->ssh);

	return rc ? rc : LIBSSH2_ERROR_SOCKET_DISCONNECT;
}

/* ------------------------------------------------------------ open */

static int stat_dir(struct sftp_transport *st, struct conn *c, const char *p, bool *isdir)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int r = libssh2_sftp_stat_ex(c->sftp, p, (unsigned)strlen(p), LIBSSH2_SFTP_STAT, &a);

	if (!r)
		*isdir = (a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
			 LIBSSH2_SFTP_S_ISDIR(a.permissions);
	return r;
}

struct open_arg {
	bool create;
	bool notdir, missing;
};

static int op_check_root(struct sftp_transport *st, struct conn *c, void *arg)
{
	struct open_arg *oa = arg;
	char p[RPATH_MAX];
	bool isdir = false;
	size_t i;
	int r;

	r = stat_dir(st, c, st->path, &isdir);
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(c->sftp) == LIBSSH2_FX_NO_SUCH_FILE && oa->create) {
		snprintf(p, sizeof(p), "%s", st->path);
		for (i = 1; p[i - 1]; i++) {
			if (p[i] != '/' && p[i] != '\0')
				continue;
			p[i] = '\0';
			libssh2_sftp_mkdir_ex(c->sftp, p, (unsigned)i, 0700);
			p[i] = st->path[i];
		}
		r = stat_dir(st, c, st->path, &isdir);
	}
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(c->sftp) == LIBSSH2_FX_NO_SUCH_FILE) {
		oa->missing = true;
		return 0;
	}
	if (!r && !isdir)
		oa->notdir = true;
	return r;
}

int sb_transport_sftp_open(const char *url, const struct sb_transport_opts *o,
			   struct sb_transport **out)
{
	struct sftp_transport *st;
	struct open_arg oa = {.create = o->create};
	const char *home = getenv("HOME");
	int rc;

	*out = NULL;
	pthread_once(&ssh_once, ssh_init);
	if (ssh_init_rc) {
		sb_error("target %s: cannot initialise libssh2", url);
		return SB_ERR_INTERNAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return SB_ERR_NOMEM;
	pthread_mutex_init(&st->mu, NULL);
	st->base.ops = &sftp_ops;
	st->accept_new = o->accept_new_host_key;
	rc = SB_ERR_NOMEM;
	if (!(st->base.desc = strdup(url)))
		goto fail;
	if ((rc = parse_url(st, url)))
		goto fail;
	if (!home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	rc = SB_ERR_NOMEM;
	if (o->known_hosts ? !(st->known_hosts = strdup(o->known_hosts))
			   : asprintf(&st->known_hosts, "%s/.ssh/known_hosts", home) < 0)
		goto fail;
	if (o->ssh_key && !(st->ssh_key = strdup(o->ssh_key)))
		goto fail;
	/* the first connection is not retried: a wrong URL should fail at once */
	{
		char why[WHY_MAX];
		bool fatal;

		if ((rc = conn_open(st, &st->conn, why, &fatal))) {
			sb_error("target %s: %s", url, why);
			goto fail;
		}
		st->gen = 1;
		sb_info("target %s: connected (%s)", url, libssh2_session_banner_get(st->conn->ssh));
	}
	if ((rc = run_op(st, "open folder", st->path, op_check_root, &oa)))
		goto fail;
	if (oa.missing || oa.notdir) {
		sb_error("target %s: %s on %s", url,
			 oa.missing ? "no such folder" : "not a folder", st->host);
		rc = SB_ERR_TRANSPORT;
		goto fail;
	}
	*out = &st->base;
	return 0;
fail:
	st->base.ops->close(&st->base);
	return rc;
}

static void sftp_close(struct sb_transport *t)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	struct conn *c;

	conn_free(st->conn, true);
	while ((c = st->dead)) {
		st->dead = c->next;
		conn_free(c, false);
	}
	pthread_mutex_destroy(&st->mu);
	free(st->user);
	free(st->host);
	free(st->path);
	free(st->hostspec);
	free(st->ssh_key);
	free(st->known_hosts);
	free(st->base.desc);
	free(st);
}

/* ------------------------------------------------------------ list */

struct ent {
	char *name;
	uint64_t size;
};

static int cmp_ents(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

struct list_arg {
	struct sb_dirent_list l;
	size_t cap;
};

static int list_add(struct list_arg *la, const char *name, uint64_t size)
{
	if (la->l.n == la->cap) {
		size_t ncap = la->cap ? la->cap * 2 : 64;
		char **nn = realloc(la->l.names, ncap * sizeof(*nn));
		uint64_t *ns;

		if (!nn)
			return -1;
		la->l.names = nn;
		if (!(ns = realloc(la->l.sizes, ncap * sizeof(*ns))))
			return -1;
		la->l.sizes = ns;
		la->cap = ncap;
	}
	if (!(la->l.names[la->l.n] = strdup(name)))
		return -1;
	la->l.sizes[la->l.n++] = size;
	return 0;
}

static int op_list(struct sftp_transport *st, struct conn *c, void *arg)
{
	struct list_arg *la = arg;
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char name[1024];
	int n;

	sb_dirent_list_release(&la->l); /* a previous attempt's part */
	la->cap = 0;
	h = libssh2_sftp_open_ex(c->sftp, st->path, (unsigned)strlen(st->path), 0, 0,
				 LIBSSH2_SFTP_OPENDIR);
	if (!h)
		return last_rc(c);
	while ((n = libssh2_sftp_readdir_ex(h, name, sizeof(name), NULL, 0, &a)) > 0) {
		if (!(a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) || !LIBSSH2_SFTP_S_ISREG(a.permissions))
			continue;
		if (list_add(la, name, a.flags & LIBSSH2_SFTP_ATTR_SIZE ? a.filesize : 0)) {
			n = LIBSSH2_ERROR_ALLOC;
			break;
		}
	}
	libssh2_sftp_close_handle(h);
	return n < 0 ? n : 0;
}

static int sftp_list(struct sb_transport *t, struct sb_dirent_list *out)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	struct list_arg la = {0};
	size_t i;
	int rc;

	rc = run_op(st, "list", "folder", op_list, &la);
	if (rc) {
		sb_dirent_list_release(&la.l);
		return rc;
	}
	/* sort names, keeping each size with its name */
	if (la.l.n) {
		struct ent *e = malloc(la.l.n * sizeof(*e));

		if (!e) {
			sb_dirent_list_release(&la.l);
			return SB_ERR_NOMEM;
		}
		for (i = 0; i < la.l.n; i++)
			e[i] = (struct ent){la.l.names[i], la.l.sizes[i]};
		qsort(e, la.l.n, sizeof(*e), cmp_ents);
		for (i = 0; i < la.l.n; i++) {
			la.l.names[i] = e[i].name;
			la.l.sizes[i] = e[i].size;
		}
		free(e);
	}
	*out = la.l;
	return 0;
}

/* ------------------------------------------------------------ get */

static int op_get_open(struct sftp_transport *st, struct conn *c, void *arg)
{
	struct sftp_get *g = arg;
	char p[RPATH_MAX];

	remote_path(st, g->name, p);
	if (!(g->sftp = libssh2_sftp_init(c->ssh)))
		return last_rc(c);
	g->gen = st->gen;
	st->failed = g->sftp;
	g->h = libssh2_sftp_open_ex(g->sftp, p, (unsigned)strlen(p), LIBSSH2_FXF_READ, 0,
				    LIBSSH2_SFTP_OPENFILE);
	if (!g->h)
		return last_rc(c);
	if (g->off)
		libssh2_sftp_seek64(g->h, g->off);
	return 0;
}

static void get_free(struct sftp_get *g)
{
	free(g->buf);
	free(g->name);
	free(g);
}

static int sftp_get_open(struct sb_transport *t, const char *name, struct sb_transport_get **out)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	struct sftp_get *g = calloc(1, sizeof(*g));
	int rc;

	if (!g || !(g->name = strdup(name)) || !(g->buf = malloc(GET_CHUNK))) {
		if (g)
			get_free(g);
		return SB_ERR_NOMEM;
	}
	g->base.t = t;
	rc = run_op(st, "open", name, op_get_open, g);
	if (rc) {
		sftp_get_close(&g->base);
		return rc;
	}
	*out = &g->base;
	return 0;
}

static int op_get_read(struct sftp_transport *st, struct conn *c, void *arg)
{
	struct sftp_get *g = arg;
	ssize_t r;
	int rc;

	if (!g->h || g->gen != st->gen) { /* the session was replaced: reopen, seek */
		if (g->sftp && g->gen == st->gen)
			libssh2_sftp_shutdown(g->sftp);
		g->h = NULL;
		g->sftp = NULL;
		if ((rc = op_get_open(st, c, g)))
			return rc;
	}
	st->failed = g->sftp;
	r = libssh2_sftp_read(g->h, (char *)g->buf, GET_CHUNK);
	if (r < 0)
		return (int)r;
	g->pos = 0;
	g->len = (size_t)r;
	g->off += (uint64_t)r;
	g->eof = r == 0;
	return 0;
}

static ssize_t sftp_get_read(struct sb_transport_get *gt, void *buf, size_t n)
{
	struct sftp_get *g = (struct sftp_get *)gt;
	int rc;

	if (g->pos == g->len) {
		if (g->eof)
			return 0;
		rc = run_op((struct sftp_transport *)gt->t, "read", g->name, op_get_read, g);
		if (rc)
			return rc;
	}
	if (n > g->len - g->pos)
		n = g->len - g->pos;
	memcpy(buf, g->buf + g->pos, n);
	g->pos += n;
	return (ssize_t)n;
}

static void sftp_get_close(struct sb_transport_get *gt)
{
	struct sftp_get *g = (struct sftp_get *)gt;
	struct sftp_transport *st = (struct sftp_transport *)gt->t;

	pthread_mutex_lock(&st->mu);
	if (g->sftp && g->gen == st->gen && st->conn) {
		if (g->h)
			libssh2_sftp_close_handle(g->h);
		libssh2_sftp_shutdown(g->sftp);
	}
	pthread_mutex_unlock(&st->mu);
	get_free(g);
}

/* ------------------------------------------------------------ put */

static int op_put_open(struct sftp_transport *st, struct conn *c, void *arg)
{
	struct sftp_put *p = arg;
	char path[RPATH_MAX];

	remote_path(st, p->tmp, path);
	libssh2_sftp_unlink_ex(c->sftp, path, (unsigned)strlen(path)); /* a leftover */
	if (p->sftp && p->gen == st->gen)
		libssh2_sftp_shutdown(p->sftp); /* a previous attempt's */
	if (!(p->sftp = libssh2_sftp_init(c->ssh)))
		return last_rc(c);
	p->gen = st->gen;
	st->failed = p->sftp;
	p->h = libssh2_sftp_open_ex(p->sftp, path, (unsigned)strlen(path),
				    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0600,
				    LIBSSH2_SFTP_OPENFILE);
	return p->h ? 0 : last_rc(c);
}

static void put_free(struct sftp_put *p)
{
	free(p->buf);
	free(p->tmp);
	free(p->name);
	free(p);
}

static int sftp_put_open(struct sb_transport *t, const char *name, struct sb_transport_put **out)
{
	struct sftp_transport *st = (struct sftp_transport *)t;
	struct sftp_put *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return SB_ERR_NOMEM;
	p->base.t = t;
	if (!(p->name = strdup(name)) || asprintf(&p->tmp, "%s%s", SB_TMP_PREFIX, name) < 0 ||
	    !(p->buf = malloc(PUT_BUF))) {
		put_free(p);
		return SB_ERR_NOMEM;
	}
	rc = run_op(st, "create", p->tmp, op_put_open, p);
	if (rc) {
		pthread_mutex_lock(&st->mu);
		if (p->sftp && p->gen == st->gen && st->conn)
			libssh2_sftp_shutdown(p->sftp);
		pthread_mutex_unlock(&st->mu);
		put_free(p);
		return rc;
	}
	*out = &p->base;
	return 0;
}

/* Hand the buffered bytes to libssh2 until at most keep remain unacknowledged. */
static int put_push(struct sftp_put *p, size_t keep)
{
	struct sftp_transport *st = (struct sftp_transport *)p->base.t;
	ssize_t w = 0;

	while (!p->err && p->len > keep) {
		pthread_mutex_lock(&st->mu);
		if (!st->conn || p->gen != st->gen) {
			sb_error("target %s: upload of %s interrupted: the connection was lost (the "
				 "next backup removes the partial file)",
				 st->base.desc, p->name);
			p->err = SB_ERR_TRANSPORT;
		} else if ((w = libssh2_sftp_write(p->h, (char *)p->buf + p->start, p->len)) < 0) {
			if (w == LIBSSH2_ERROR_SFTP_PROTOCOL) {
				p->err = status_err(st, p->sftp, "write", p->name);
			} else {
				sb_error("target %s: upload of %s interrupted: connection to %s lost: %s "
					 "(the next backup removes the partial file)",
					 st->base.desc, p->name, st->host, ssh_errmsg(st->conn->ssh));
				conn_drop(st);
				p->err = SB_ERR_TRANSPORT;
			}
		}
		pthread_mutex_unlock(&st->mu);
		if (p->err)
			break;
		p->start += (size_t)w;
		p->len -= (size_t)w;
	}
	if (!p->len)
		p->start = 0;
	return p->err;
}

static int sftp_put_write(struct sb_transport_put *pt, const void *buf, size_t n)
{
	struct sftp_put *p = (struct sftp_put *)pt;
	const unsigned char *c = buf;
	size_t k;

	while (n && !p->err) {
		if (p->start + p->len == PUT_BUF) { /* slide the unacknowledged bytes down */
			memmove(p->buf, p->buf + p->start, p->len);
			p->start = 0;
		}
		k = PUT_BUF - p->start - p->len;
		if (k > n)
			k = n;
		memcpy(p->buf + p->start + p->len, c, k);
		p->len += k;
		p->total += k;
		c += k;
		n -= k;
		if (p->len >= PUT_WINDOW && put_push(p, PUT_WINDOW / 2))
			break;
	}
	return p->err;
}

struct rename_arg {
	struct sftp_put *p;
};

static int op_rename(struct sftp_transport *st, struct conn *c, void *arg)
{
	struct sftp_put *p = ((struct rename_arg *)arg)->p;
	char from[RPATH_MAX], to[RPATH_MAX];
	LIBSSH2_SFTP_ATTRIBUTES a;
	int r;

	remote_path(st, p->tmp, from);
	remote_path(st, p->name, to);
	r = libssh2_sftp_rename_ex(c->sftp, from, (unsigned)strlen(from), to, (unsigned)strlen(to),
				   LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
					   LIBSSH2_SFTP_RENAME_NATIVE);
	if (r != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return r;
	if (libssh2_sftp_last_error(c->sftp) == LIBSSH2_FX_NO_SUCH_FILE &&
	    libssh2_sftp_stat_ex(c->sftp, to, (unsigned)strlen(to), LIBSSH2_SFTP_STAT, &a) == 0 &&
	    a.filesize == p->total)
		return 0; /* renamed before the connection dropped */
	/* SFTP v3 rename does not replace: remove the old file, then rename */
	r = libssh2_sftp_unlink_ex(c->sftp, to, (unsigned)strlen(to));
	if (r && r != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return r;
	return libssh2_sftp_rename_ex(c->sftp, from, (unsigned)strlen(from), to,
				      (unsigned)strlen(to), 0);
}

static int sftp_put_commit(struct sb_transport_put *pt)
{
	struct sftp_put *p = (struct sftp_put *)pt;
	struct sftp_transport *st = (struct sftp_transport *)pt->t;
	struct rename_arg ra = {p};
	int rc, r;

	rc = put_push(p, 0);
	pthread_mutex_lock(&st->mu);
	if (!rc && (!st->conn || p->gen != st->gen)) {
		sb_error("target %s: upload of %s interrupted: the connection was lost", st->base.desc,
			 p->name);
		rc = SB_ERR_TRANSPORT;
	}
	if (!rc) {
		/* fsync@openssh.com: the data is on the server's disk before the rename */
		r = libssh2_sftp_fsync(p->h);
		if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
		    libssh2_sftp_last_error(p->sftp) != LIBSSH2_FX_OP_UNSUPPORTED)
			rc = status_err(st, p->sftp, "sync", p->name);
		else if (r && r != LIBSSH2_ERROR_SFTP_PROTOCOL)
			rc = SB_ERR_TRANSPORT;
		r = libssh2_sftp_close_handle(p->h);
		p->h = NULL;
		if (!r) {
			libssh2_sftp_shutdown(p->sftp);
			p->sftp = NULL;
		}
		if (!rc && r == LIBSSH2_ERROR_SFTP_PROTOCOL)
			rc = status_err(st, p->sftp, "close", p->name);
		else if (!rc && r)
			rc = SB_ERR_TRANSPORT;
		if (rc == SB_ERR_TRANSPORT) {
			sb_error("target %s: upload of %s interrupted: connection to %s lost: %s",
				 st->base.desc, p->name, st->host, ssh_errmsg(st->conn->ssh));
			conn_drop(st);
		}
	}
	pthread_mutex_unlock(&st->mu);
	if (!rc)
		rc = run_op(st, "rename", p->name, op_rename, &ra);
	if (rc)
		pt->t->ops->put_abort(pt);
	else
		put_free(p);
	return rc;
}

static void sftp_put_abort(struct sb_transport_put *pt)
{
	struct sftp_put *p = (struct sftp_put *)pt;
	struct sftp_transport *st = (struct sftp_transport *)pt->t;
	char path[RPATH_MAX];

	pthread_mutex_lock(&st->mu);
	if (st->conn) {
		if (p->sftp && p->gen == st->gen) {
			if (p->h)
				libssh2_sftp_close_handle(p->h);
			libssh2_sftp_shutdown(p->sftp);
		}
		remote_path(st, p->tmp, path);
		libssh2_sftp_unlink_ex(st->conn->sftp, path, (unsigned)strlen(path));
	}
	pthread_mutex_unlock(&st->mu);
	put_free(p);
}

/* ------------------------------------------------------------ delete */

static int op_delete(struct sftp_transport *st, struct conn *c, void *arg)
{
	char p[RPATH_MAX];
	int r;

	remote_path(st, arg, p);
	r = libssh2_sftp_unlink_ex(c->sftp, p, (unsigned)strlen(p));
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(c->sftp) == LIBSSH2_FX_NO_SUCH_FILE)
		return 0;
	return r;
}

static int sftp_delete(struct sb_transport *t, const char *name)
{
	return run_op((struct sftp_transport *)t, "delete", name, op_delete, (void *)name);
}

static const struct sb_transport_ops sftp_ops = {
	.close = sftp_close,
	.list = sftp_list,
	.get_open = sftp_get_open,
	.get_read = sftp_get_read,
	.get_close = sftp_get_close,
	.put_open = sftp_put_open,
	.put_write = sftp_put_write,
	.put_commit = sftp_put_commit,
	.put_abort = sftp_put_abort,
	.delete_file = sftp_delete,
};
