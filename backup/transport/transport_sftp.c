/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport_sftp.c - sftp://user@host[:port]/abs/path targets over libssh2.
 *
 * One SSH session per transport (sftp_connect.c opens it), shared by every
 * thread: libssh2 sessions are not thread-safe, so each libssh2 call runs
 * under the transport's mutex. Uploads go to SB_TMP_PREFIX + name and are
 * renamed when complete. When the connection drops, listing, opening,
 * reading, renaming and deleting reconnect (RETRIES times, 1 s, 2 s, 4 s
 * apart) and carry on. An upload whose connection dropped is marked lost, and
 * sb_transport_put starts it again from its first byte (the data in flight is
 * gone); an upload that still fails leaves a temporary file that the
 * writer's next run removes.
 *
 * Every open file gets its own SFTP channel on the session: libssh2 may
 * return from a pipelined write with an SFTP packet half sent (the channel
 * window was full), so two files must never share one channel's stream.
 *
 * Throughput: libssh2 pipelines SFTP writes over the whole buffer it is
 * given and reads ahead four times the buffer it is asked to fill, so uploads
 * keep PUT_WINDOW bytes in flight and downloads read GET_CHUNK at a time.
 *
 * Bandwidth limits (throttle.h): an upload hands libssh2 its next bytes a
 * chunk at a time, each taken from the process's bucket first, and never
 * while holding a lane's lock; a download under a limit reads smaller
 * chunks (so that libssh2's read-ahead stays small) and takes each from the
 * bucket as it arrives.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/log.h"
#include "sealbox/throttle.h"
#include "sealbox/tmpname.h"
#include "sftp_session.h"
#include "transport_impl.h"

#define GAVE_UP_HOLD 10.0     /* s after giving up: one connect attempt, no backoff */
#define RETRIES 3	      /* reconnects after a drop, 1 s, 2 s, 4 s apart */
#define PUT_WINDOW (4u << 20) /* upload bytes handed to libssh2 at once */
#define PUT_BUF (2 * PUT_WINDOW)
#define GET_CHUNK (2u << 20) /* one read; libssh2 asks for 4x ahead */
#define RPATH_MAX (PATH_MAX + 512)

/* One SSH session and what guards it. A transport has up to MAX_LANES, so
 * that parallel uploads (and downloads) encrypt on more than one core:
 * libssh2 1.10 encrypts one cipher block per call, so a session is CPU-bound
 * long before the network is. */
struct lane {
	pthread_mutex_t mu;	/* serialises every libssh2 call on the session */
	struct sftp_conn *conn; /* current session, NULL after a drop; protected by mu */
	struct sftp_conn *dead; /* dropped sessions, freed at close; protected by mu */
	unsigned gen;		/* bumped per new session; protected by mu */
	LIBSSH2_SFTP *failed;	/* whose status run_op reports; protected by mu */
	double gave_up;		/* when run_op last gave up reconnecting; protected by mu */
	unsigned files;		/* files open on this lane; protected by the transport's mu */
};

#define MAX_LANES 4

struct sftp_transport {
	struct sb_transport base;
	struct sftp_endpoint ep;
	pthread_mutex_t mu; /* guards the lanes' file counts */
	struct lane lane[MAX_LANES];
	unsigned nlanes;
};

struct sftp_get {
	struct sb_transport_get base;
	char *name;
	LIBSSH2_SFTP *sftp;	/* this file's own channel */
	struct lane *ln;	/* the session it uses */
	LIBSSH2_SFTP_HANDLE *h; /* valid while gen == ln->gen */
	unsigned gen;
	uint64_t off; /* bytes received so far, where a reopen seeks to */
	unsigned char *buf;
	size_t pos, len;
	size_t want; /* bytes the next read asks for (GET_CHUNK, less under a limit) */
	bool eof;
};

struct sftp_put {
	struct sb_transport_put base;
	char *name, *tmp;
	LIBSSH2_SFTP *sftp; /* this file's own channel */
	struct lane *ln;    /* the session it uses */
	LIBSSH2_SFTP_HANDLE *h;
	unsigned gen;
	unsigned char *buf; /* unacknowledged bytes at buf + start, len of them */
	size_t start, len;
	size_t handed; /* of those, the first bytes libssh2 already has (sent) */
	uint64_t total;
	int err; /* sticky failure */
};

static const struct sb_transport_ops sftp_ops;
static void sftp_get_close(struct sb_transport_get *gt);
static void sftp_put_release(struct sb_transport_put *pt, bool discard);
static pthread_once_t ssh_once = PTHREAD_ONCE_INIT;
static int ssh_init_rc;

static void ssh_init(void) { ssh_init_rc = libssh2_init(0); }

/* ------------------------------------------------------------ session */

static void conn_drop(struct lane *ln)
{
	if (!ln->conn)
		return;
	ln->conn->next = ln->dead;
	ln->dead = ln->conn;
	ln->conn = NULL;
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
	default: msg = "error reported by the server", rc = SB_ERR_TRANSPORT; break;
	}
	sb_error("target %s: %s %s: %s (SFTP status %lu)", st->base.desc, what, name, msg, s);
	return rc;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The lane with the fewest open files, for a file being opened. */
static struct lane *lane_take(struct sftp_transport *st)
{
	struct lane *best = &st->lane[0];
	unsigned i;

	pthread_mutex_lock(&st->mu);
	for (i = 1; i < st->nlanes; i++)
		if (st->lane[i].files < best->files)
			best = &st->lane[i];
	best->files++;
	pthread_mutex_unlock(&st->mu);
	return best;
}

static void lane_give(struct sftp_transport *st, struct lane *ln)
{
	pthread_mutex_lock(&st->mu);
	ln->files--;
	pthread_mutex_unlock(&st->mu);
}

typedef int (*sftp_op)(struct sftp_transport *st, struct lane *ln, void *arg);

/*
 * Run op on the session under the lock. A libssh2 failure other than an
 * SFTP status means the connection is lost: reconnect and run op again, up
 * to RETRIES times with backoff. op returns 0 or a libssh2 code.
 */
static int run_op(struct sftp_transport *st, struct lane *ln, const char *what, const char *name,
		  sftp_op op, void *arg)
{
	char why[SFTP_WHY_MAX] = "";
	int attempt, rc = 0, retries = RETRIES;
	bool fatal = false;

	pthread_mutex_lock(&ln->mu);
	/* the server was unreachable a moment ago: do not make every caller (a
	 * mount's readers) wait through the whole backoff again */
	if (ln->gave_up && mono_now() - ln->gave_up < GAVE_UP_HOLD)
		retries = 0;
	for (attempt = 0;; attempt++) {
		if (!ln->conn) {
			rc = sftp_conn_open(&st->ep, &ln->conn, why, &fatal);
			if (!rc)
				ln->gen++;
			else if (fatal || rc == SB_ERR_NOMEM)
				break;
		}
		if (ln->conn) {
			ln->failed = ln->conn->sftp;
			rc = op(st, ln, arg);
			if (!rc) {
				ln->gave_up = 0;
				break;
			}
			if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
				rc = status_err(st, ln->failed, what, name);
				goto out;
			}
			if (rc == LIBSSH2_ERROR_ALLOC) {
				rc = SB_ERR_NOMEM;
				goto out;
			}
			snprintf(why, sizeof(why), "connection to %s lost: %s", st->ep.host,
				 sftp_errmsg(ln->conn->ssh));
			conn_drop(ln);
			rc = SB_ERR_TRANSPORT;
		}
		if (attempt == retries) {
			if (!fatal)
				ln->gave_up = mono_now();
			break;
		}
		sb_warn("target %s: %s %s: %s; reconnecting in %d s", st->base.desc, what, name,
			why, 1 << attempt);
		pthread_mutex_unlock(&ln->mu);
		sleep(1u << attempt);
		pthread_mutex_lock(&ln->mu);
	}
	if (rc) {
		if (attempt && !fatal)
			sb_error("target %s: %s %s: %s (gave up after %d reconnects)",
				 st->base.desc, what, name, why, attempt);
		else
			sb_error("target %s: %s", st->base.desc, why);
	}
out:
	pthread_mutex_unlock(&ln->mu);
	return rc;
}

static void remote_path(const struct sftp_transport *st, const char *name, char *out)
{
	snprintf(out, RPATH_MAX, "%s%s%s", st->ep.path, strcmp(st->ep.path, "/") ? "/" : "", name);
}

static int last_rc(struct sftp_conn *c)
{
	int rc = libssh2_session_last_errno(c->ssh);

	return rc ? rc : LIBSSH2_ERROR_SOCKET_DISCONNECT;
}

/* ------------------------------------------------------------ open */

static int stat_dir(struct sftp_conn *c, const char *p, bool *isdir)
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

static int op_check_root(struct sftp_transport *st, struct lane *ln, void *arg)
{
	struct open_arg *oa = arg;
	char p[RPATH_MAX];
	bool isdir = false;
	size_t i;
	int r;

	r = stat_dir(ln->conn, st->ep.path, &isdir);
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(ln->conn->sftp) == LIBSSH2_FX_NO_SUCH_FILE && oa->create) {
		snprintf(p, sizeof(p), "%s", st->ep.path);
		for (i = 1; p[i - 1]; i++) {
			if (p[i] != '/' && p[i] != '\0')
				continue;
			p[i] = '\0';
			libssh2_sftp_mkdir_ex(ln->conn->sftp, p, (unsigned)i, 0700);
			p[i] = st->ep.path[i];
		}
		r = stat_dir(ln->conn, st->ep.path, &isdir);
	}
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(ln->conn->sftp) == LIBSSH2_FX_NO_SUCH_FILE) {
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
	const char *home;
	unsigned i;
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
	st->nlanes = o->sessions < 1 ? 1 : o->sessions > MAX_LANES ? MAX_LANES : o->sessions;
	for (i = 0; i < st->nlanes; i++)
		pthread_mutex_init(&st->lane[i].mu, NULL);
	st->base.ops = &sftp_ops;
	st->ep.accept_new = o->accept_new_host_key;
	rc = SB_ERR_NOMEM;
	if (!(st->base.desc = strdup(url)))
		goto fail;
	if ((rc = sftp_parse_url(&st->ep, url)))
		goto fail;
	if (!(home = sb_home_dir()))
		home = "/";
	rc = SB_ERR_NOMEM;
	if (o->known_hosts ? !(st->ep.known_hosts = strdup(o->known_hosts))
			   : asprintf(&st->ep.known_hosts, "%s/.ssh/known_hosts", home) < 0)
		goto fail;
	if (o->ssh_key && !(st->ep.ssh_key = strdup(o->ssh_key)))
		goto fail;
	/* the first connection is not retried: a wrong URL should fail at once */
	{
		char why[SFTP_WHY_MAX];
		bool fatal;

		if ((rc = sftp_conn_open(&st->ep, &st->lane[0].conn, why, &fatal))) {
			sb_error("target %s: %s", url, why);
			goto fail;
		}
		st->lane[0].gen = 1;
		sb_info("target %s: connected (%s)", url,
			libssh2_session_banner_get(st->lane[0].conn->ssh));
	}
	if ((rc = run_op(st, &st->lane[0], "open folder", st->ep.path, op_check_root, &oa)))
		goto fail;
	if (oa.missing || oa.notdir) {
		sb_error("target %s: %s on %s", url, oa.missing ? "no such folder" : "not a folder",
			 st->ep.host);
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
	struct sftp_conn *c;
	unsigned i;

	for (i = 0; i < st->nlanes; i++) {
		struct lane *ln = &st->lane[i];

		sftp_conn_free(ln->conn, true);
		while ((c = ln->dead)) {
			ln->dead = c->next;
			sftp_conn_free(c, false);
		}
		pthread_mutex_destroy(&ln->mu);
	}
	pthread_mutex_destroy(&st->mu);
	sftp_endpoint_release(&st->ep);
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
	bool too_many; /* past SB_DIRENT_MAX: stopped reading */
};

static int list_add(struct list_arg *la, const char *name, uint64_t size)
{
	if (la->l.n >= SB_DIRENT_MAX)
		return -2;
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

static int op_list(struct sftp_transport *st, struct lane *ln, void *arg)
{
	struct list_arg *la = arg;
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char name[1024];
	int n;

	sb_dirent_list_release(&la->l); /* a previous attempt's part */
	la->cap = 0;
	la->too_many = false;
	h = libssh2_sftp_open_ex(ln->conn->sftp, st->ep.path, (unsigned)strlen(st->ep.path), 0, 0,
				 LIBSSH2_SFTP_OPENDIR);
	if (!h)
		return last_rc(ln->conn);
	while ((n = libssh2_sftp_readdir_ex(h, name, sizeof(name), NULL, 0, &a)) > 0) {
		if (!(a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
		    !LIBSSH2_SFTP_S_ISREG(a.permissions))
			continue;
		int r = list_add(la, name, a.flags & LIBSSH2_SFTP_ATTR_SIZE ? a.filesize : 0);

		if (r == -2) {
			la->too_many = true;
			n = 0;
			break;
		}
		if (r) {
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

	rc = run_op(st, &st->lane[0], "list", "folder", op_list, &la);
	if (!rc && la.too_many) {
		sb_error("%s holds more than %u files: not a target sealbox reads",
			 sb_transport_describe(t), SB_DIRENT_MAX);
		rc = SB_ERR_CORRUPT;
	}
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

static int op_get_open(struct sftp_transport *st, struct lane *ln, void *arg)
{
	struct sftp_get *g = arg;
	char p[RPATH_MAX];

	remote_path(st, g->name, p);
	if (!(g->sftp = libssh2_sftp_init(ln->conn->ssh)))
		return last_rc(ln->conn);
	g->gen = ln->gen;
	ln->failed = g->sftp;
	g->h = libssh2_sftp_open_ex(g->sftp, p, (unsigned)strlen(p), LIBSSH2_FXF_READ, 0,
				    LIBSSH2_SFTP_OPENFILE);
	if (!g->h)
		return last_rc(ln->conn);
	if (g->off)
		libssh2_sftp_seek64(g->h, g->off);
	return 0;
}

static void get_free(struct sftp_get *g)
{
	if (g->ln)
		lane_give((struct sftp_transport *)g->base.t, g->ln);
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
	g->ln = lane_take(st);
	rc = run_op(st, g->ln, "open", name, op_get_open, g);
	if (rc) {
		sftp_get_close(&g->base);
		return rc;
	}
	*out = &g->base;
	return 0;
}

static int op_get_read(struct sftp_transport *st, struct lane *ln, void *arg)
{
	struct sftp_get *g = arg;
	ssize_t r;
	int rc;

	if (!g->h || g->gen != ln->gen) { /* the session was replaced: reopen, seek */
		if (g->sftp && g->gen == ln->gen)
			libssh2_sftp_shutdown(g->sftp);
		g->h = NULL;
		g->sftp = NULL;
		if ((rc = op_get_open(st, ln, g)))
			return rc;
	}
	ln->failed = g->sftp;
	r = libssh2_sftp_read(g->h, (char *)g->buf, g->want);
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
	struct sb_throttle *th = sb_throttle_limit(SB_THROTTLE_DOWN);
	int rc;

	if (g->pos == g->len) {
		if (g->eof)
			return 0;
		g->want = sb_throttle_chunk(th, GET_CHUNK);
		rc = run_op((struct sftp_transport *)gt->t, g->ln, "read", g->name, op_get_read, g);
		if (rc)
			return rc;
		sb_throttle_take(th, g->len); /* outside the lane's lock */
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
	struct lane *ln = g->ln;

	pthread_mutex_lock(&ln->mu);
	if (g->sftp && g->gen == ln->gen && ln->conn) {
		if (g->h)
			libssh2_sftp_close_handle(g->h);
		libssh2_sftp_shutdown(g->sftp);
	}
	pthread_mutex_unlock(&ln->mu);
	get_free(g);
}

/* ------------------------------------------------------------ put */

static int op_put_open(struct sftp_transport *st, struct lane *ln, void *arg)
{
	struct sftp_put *p = arg;
	char path[RPATH_MAX];

	remote_path(st, p->tmp, path);
	libssh2_sftp_unlink_ex(ln->conn->sftp, path, (unsigned)strlen(path)); /* a leftover */
	if (p->sftp && p->gen == ln->gen)
		libssh2_sftp_shutdown(p->sftp); /* a previous attempt's */
	if (!(p->sftp = libssh2_sftp_init(ln->conn->ssh)))
		return last_rc(ln->conn);
	p->gen = ln->gen;
	ln->failed = p->sftp;
	p->h = libssh2_sftp_open_ex(p->sftp, path, (unsigned)strlen(path),
				    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0600,
				    LIBSSH2_SFTP_OPENFILE);
	return p->h ? 0 : last_rc(ln->conn);
}

static void put_free(struct sftp_put *p)
{
	if (p->ln)
		lane_give((struct sftp_transport *)p->base.t, p->ln);
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
	p->ln = lane_take(st);
	rc = run_op(st, p->ln, "create", p->tmp, op_put_open, p);
	if (rc) {
		sftp_put_release(&p->base, false); /* its channel, if any */
		return rc;
	}
	*out = &p->base;
	return 0;
}

/* The connection dropped under this upload: say so once (a warning: the
 * upload is started again, see sb_transport_put) and fail from now on. */
static int put_lost(struct sftp_put *p, const char *why)
{
	struct sftp_transport *st = (struct sftp_transport *)p->base.t;

	if (!p->base.lost)
		sb_warn("target %s: upload of %s interrupted: connection to %s lost: %s",
			st->base.desc, p->name, st->ep.host, why);
	p->base.lost = true;
	p->err = SB_ERR_TRANSPORT;
	return p->err;
}

/*
 * Hand the buffered bytes to libssh2 until at most keep remain unacknowledged.
 * libssh2 sends every byte it is given at once and skips, on the next call,
 * those it has already sent (handed): under a bandwidth limit, each call
 * gives it one more chunk, taken from the bucket before the lock.
 */
static int put_push(struct sftp_put *p, size_t keep)
{
	struct sftp_transport *st = (struct sftp_transport *)p->base.t;
	struct sb_throttle *th = sb_throttle_limit(SB_THROTTLE_UP);
	struct lane *ln = p->ln;
	size_t give, k;
	ssize_t w = 0;

	while (!p->err && p->len > keep) {
		give = p->len;
		if (th && p->handed < p->len) {
			k = sb_throttle_chunk(th, p->len - p->handed);
			sb_throttle_take(th, k);
			give = p->handed + k;
		} else if (th) {
			give = p->handed; /* all sent: wait for acknowledgements */
		}
		pthread_mutex_lock(&ln->mu);
		if (!ln->conn || p->gen != ln->gen) {
			put_lost(p, "the connection was lost");
		} else if ((w = libssh2_sftp_write(p->h, (char *)p->buf + p->start, give)) < 0) {
			if (w == LIBSSH2_ERROR_SFTP_PROTOCOL) {
				p->err = status_err(st, p->sftp, "write", p->name);
			} else {
				put_lost(p, sftp_errmsg(ln->conn->ssh));
				conn_drop(ln);
			}
		}
		pthread_mutex_unlock(&ln->mu);
		if (p->err)
			break;
		p->start += (size_t)w;
		p->len -= (size_t)w;
		p->handed = give - (size_t)w;
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

static int op_rename(struct sftp_transport *st, struct lane *ln, void *arg)
{
	struct sftp_put *p = ((struct rename_arg *)arg)->p;
	char from[RPATH_MAX], to[RPATH_MAX];
	LIBSSH2_SFTP_ATTRIBUTES a;
	int r;

	remote_path(st, p->tmp, from);
	remote_path(st, p->name, to);
	r = libssh2_sftp_rename_ex(ln->conn->sftp, from, (unsigned)strlen(from), to,
				   (unsigned)strlen(to),
				   LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
					   LIBSSH2_SFTP_RENAME_NATIVE);
	if (r != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return r;
	if (libssh2_sftp_last_error(ln->conn->sftp) == LIBSSH2_FX_NO_SUCH_FILE &&
	    libssh2_sftp_stat_ex(ln->conn->sftp, to, (unsigned)strlen(to), LIBSSH2_SFTP_STAT, &a) ==
		    0 &&
	    a.filesize == p->total)
		return 0; /* renamed before the connection dropped */
	/* SFTP v3 rename does not replace: remove the old file, then rename */
	r = libssh2_sftp_unlink_ex(ln->conn->sftp, to, (unsigned)strlen(to));
	if (r && r != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return r;
	return libssh2_sftp_rename_ex(ln->conn->sftp, from, (unsigned)strlen(from), to,
				      (unsigned)strlen(to), 0);
}

static int sftp_put_commit(struct sb_transport_put *pt)
{
	struct sftp_put *p = (struct sftp_put *)pt;
	struct sftp_transport *st = (struct sftp_transport *)pt->t;
	struct lane *ln = p->ln;
	struct rename_arg ra = {p};
	int rc, r;

	rc = put_push(p, 0);
	pthread_mutex_lock(&ln->mu);
	if (!rc && (!ln->conn || p->gen != ln->gen))
		rc = put_lost(p, "the connection was lost");
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
			rc = put_lost(p, sftp_errmsg(ln->conn->ssh));
			conn_drop(ln);
		}
	}
	pthread_mutex_unlock(&ln->mu);
	if (!rc)
		rc = run_op(st, p->ln, "rename", p->name, op_rename, &ra);
	return rc;
}

static void sftp_put_release(struct sb_transport_put *pt, bool discard)
{
	struct sftp_put *p = (struct sftp_put *)pt;
	struct sftp_transport *st = (struct sftp_transport *)pt->t;
	struct lane *ln = p->ln;
	char path[RPATH_MAX];

	pthread_mutex_lock(&ln->mu);
	if (ln->conn && p->gen == ln->gen && p->sftp) {
		if (p->h)
			libssh2_sftp_close_handle(p->h);
		libssh2_sftp_shutdown(p->sftp);
	}
	if (ln->conn && discard) {
		remote_path(st, p->tmp, path);
		libssh2_sftp_unlink_ex(ln->conn->sftp, path, (unsigned)strlen(path));
	}
	pthread_mutex_unlock(&ln->mu);
	put_free(p);
}

/* ------------------------------------------------------------ delete */

static int op_delete(struct sftp_transport *st, struct lane *ln, void *arg)
{
	char p[RPATH_MAX];
	int r;

	remote_path(st, arg, p);
	r = libssh2_sftp_unlink_ex(ln->conn->sftp, p, (unsigned)strlen(p));
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(ln->conn->sftp) == LIBSSH2_FX_NO_SUCH_FILE)
		return 0;
	return r;
}

static int sftp_delete(struct sb_transport *t, const char *name)
{
	struct sftp_transport *st = (struct sftp_transport *)t;

	return run_op(st, &st->lane[0], "delete", name, op_delete, (void *)name);
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
	.put_release = sftp_put_release,
	.delete_file = sftp_delete,
};
