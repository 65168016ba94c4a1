/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_browse.c - `sealbox ls`, `sealbox find` and `sealbox diff`: what the
 * snapshots hold, from the view the mount serves (snapview.h), without
 * mounting. The target is listed and every chain proven through the gate
 * with the public keys; the indexes come from the mount's index cache when
 * they are there, so a cached target needs no secret key and no volume or
 * index is fetched. Only a set whose index is not cached yet is fetched and
 * decrypted (--secret-key, or the keyring), and then cached. No file's
 * bytes are ever read.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/snapview.h"
#include "sealbox/tar.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "json.h"
#include "runlog.h"

#define BROWSE_USAGE_COMMON                                                                        \
	"  --target URL       file:///abs/path, a plain path, or\n"                                \
	"                     sftp://user@host[:port]/abs/path\n"                                  \
	"  --sign-key FPR     every file read must be signed by this key (required\n"              \
	"                     unless the chains are unencrypted, and so unsigned)\n"               \
	"  --secret-key FILE  the exported secret encryption key, only needed for a\n"             \
	"                     snapshot whose index is not cached yet (passphrase:\n"               \
	"                     $SEALBOX_SECRET_PASSPHRASE)\n"                                       \
	"  --index-dir DIR    the index cache, shared with mount\n"                                \
	"                     (default $XDG_CACHE_HOME/sealbox/mount-index)\n"                     \
	"  --archive-dir DIR  where backup remembers its newest seal (default: backup's)\n"        \
	"  --allow-unsigned, --allow-unsealed, --expect-seal HASH: as for restore\n"               \
	"  --ssh-key FILE, --known-hosts FILE, --accept-new-host-key: as for backup\n"             \
	"  --json             one JSON document on stdout (see sealbox(1))\n"                      \
	"  -v, --verbose      more messages;  -q, --quiet  errors only\n"                          \
	"Options may come from the config file, sealbox.conf(5).\n"

#define BROWSE_SYNOPSIS                                                                            \
	"                  [--sign-key FPR] [--secret-key FILE] [--index-dir DIR]\n"               \
	"                  [--archive-dir DIR] [--ssh-key FILE] [--known-hosts FILE]\n"            \
	"                  [--accept-new-host-key] [--allow-unsigned] [--allow-unsealed]\n"        \
	"                  [--expect-seal HASH] [--json] [-v | -q]\n"

static const char ls_usage[] =
	"usage: sealbox ls --target URL [--time TIME] [-R] [PATH]\n" BROWSE_SYNOPSIS "\n"
	"Lists PATH (default: the top) in the newest snapshot at or before TIME: a\n"
	"folder's entries, or the file itself; one line each: type and mode, size,\n"
	"modification time (UTC), path relative to the backed-up folder.\n"
	"  --time TIME        as for restore (default: now)\n"
	"  -R, --recursive    also everything below the folders listed\n" BROWSE_USAGE_COMMON;

static const char find_usage[] =
	"usage: sealbox find --target URL PATTERN\n" BROWSE_SYNOPSIS "\n"
	"Finds the paths that match PATTERN in every snapshot, and shows which\n"
	"snapshots hold each, with its size and modification time there. PATTERN is\n"
	"a shell glob (quote it), matched against file names; one holding a '/' is\n"
	"matched against whole paths relative to the backed-up folder ('*' then also\n"
	"matches '/').\n" BROWSE_USAGE_COMMON;

static const char diff_usage[] =
	"usage: sealbox diff --target URL TIME1 TIME2\n" BROWSE_SYNOPSIS "\n"
	"Compares the snapshots at or before TIME1 and TIME2 (as for restore --time,\n"
	"or a snapshot's name): one line per path added (+), removed (-) or changed\n"
	"(M: type, size, modification time, mode, owner or symlink target),\n"
	"relative to the backed-up folder, folders with a trailing '/'.\n" BROWSE_USAGE_COMMON;

enum {
	O_SIGN = 256,
	O_SECRET,
	O_INDEX_DIR,
	O_ARCHIVE,
	O_JSON,
	O_TIME,
};

#define BROWSE_OPTIONS                                                                             \
	TARGET_OPTIONS, GATE_OPTIONS, {"sign-key", required_argument, NULL, O_SIGN},               \
		{"secret-key", required_argument, NULL, O_SECRET},                                 \
		{"index-dir", required_argument, NULL, O_INDEX_DIR},                               \
		{"archive-dir", required_argument, NULL, O_ARCHIVE},                               \
		{"json", no_argument, NULL, O_JSON}, {"verbose", no_argument, NULL, 'v'},          \
		{"quiet", no_argument, NULL, 'q'},                                                 \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

const struct option ls_opts[] = {
	BROWSE_OPTIONS,
	{"time", required_argument, NULL, O_TIME},
	{"recursive", no_argument, NULL, 'R'},
	{NULL, 0, NULL, 0},
};

const struct option find_opts[] = {
	BROWSE_OPTIONS,
	{NULL, 0, NULL, 0},
};

const struct option diff_opts[] = {
	BROWSE_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* A snapshot of the view: its time and its top folder. */
struct snap {
	time_t t;
	uint64_t root;
	char iso[21];
};

/* What a command needs of the target, opened by browse_open(). */
struct browse {
	const char *cmd;
	const char *target, *sign, *secret, *index_dir;
	struct sb_transport_opts to;
	struct gate_args ga;
	bool quiet;
	struct sb_crypto *user, *dec;
	struct sb_transport *t;
	struct sb_gate *g;
	struct sb_snapview *view;
	char sign_fpr[41], index[PATH_MAX], cache[PATH_MAX];
	struct snap *snaps; /* oldest first */
	size_t nsnaps;
};

/* One entry of a folder, kept after the view's lock is released. */
struct ent {
	char *name;
	size_t len;
	uint64_t id;
	char type;
	uint32_t mode;
	uid_t uid;
	gid_t gid;
	int64_t mtime;
	uint64_t size;
	char *link; /* symlinks only */
};

/* The options every browsing command takes; false: not one of them. */
static bool browse_option(struct browse *b, int c, const char *arg)
{
	if (target_option(c, arg, &b->target, &b->to) || gate_option(c, arg, &b->ga))
		return true;
	switch (c) {
	case O_SIGN: b->sign = arg; return true;
	case O_SECRET: b->secret = arg; return true;
	case O_INDEX_DIR: b->index_dir = arg; return true;
	case O_ARCHIVE: b->ga.archive_dir = arg; return true;
	case O_JSON: return true; /* main.c: json.h */
	case 'v': sb_log_set_level(SB_LOG_INFO); return true;
	case 'q':
		b->quiet = true;
		sb_log_set_level(SB_LOG_ERR);
		return true;
	}
	return false;
}

/* ---- opening the view ---- */

static int add_snap(void *ctx, const char *name, size_t len, const struct sb_node *n, uint64_t next)
{
	struct browse *b = ctx;
	char iso[21];

	(void)next;
	if (len != 20 || n->type != SB_TAR_DIR)
		return 0; /* "latest" */
	memcpy(iso, name, 20);
	iso[20] = '\0';
	if (sb_time_parse_user(iso, 0, &b->snaps[b->nsnaps].t))
		return 0;
	memcpy(b->snaps[b->nsnaps].iso, iso, sizeof(iso));
	b->snaps[b->nsnaps++].root = n->id;
	return 0;
}

/* Prove every chain with the public keys; how many indexes are not cached. */
static int prove_all(struct browse *b, struct sb_snapview_opts *vo, size_t *missing)
{
	const struct sb_collection *coll = sb_gate_collection(b->g);
	size_t c;
	int rc;

	for (c = 0; c < coll->nchains; c++)
		if ((rc = sb_gate_prove(b->g, &coll->chains[c], coll->chains[c].nsets)))
			return rc;
	vo->gate = b->g;
	return sb_snapview_uncached(vo, missing);
}

static int browse_open(struct browse *b)
{
	struct sb_snapview_opts vo = {0};
	const char *tmp = getenv("TMPDIR");
	size_t missing = 0;
	int rc;

	if ((rc = open_user_crypto(&b->user)))
		return rc;
	if (b->sign && (rc = sb_crypto_key_fpr(b->user, b->sign, b->sign_fpr)))
		return rc;
	if ((rc = sb_transport_open(b->target, &b->to, &b->t)) ||
	    (rc = open_gate(b->t, b->user, b->sign ? b->sign_fpr : NULL, &b->ga, &b->g)))
		return rc;
	if (b->index_dir)
		snprintf(b->index, sizeof(b->index), "%s", b->index_dir);
	else if ((rc = mount_index_dir(b->index, sizeof(b->index))))
		return rc;
	vo.target = b->t;
	vo.crypto = b->user;
	vo.sign_fpr = b->sign ? b->sign_fpr : NULL;
	vo.index_dir = b->index;
	if ((rc = prove_all(b, &vo, &missing)))
		return rc;
	if (missing) {
		sb_info("%zu snapshot(s) of %s have no index in %s yet: fetching and decrypting "
			"them",
			missing, sb_transport_describe(b->t), b->index);
		if (b->secret && !secret_key_unplugged(b->secret, "trying the keyring")) {
			/* the gate decrypts with the keyring it was opened with */
			if ((rc = open_decrypt_crypto(b->secret, vo.sign_fpr, NULL, &b->dec)))
				return rc;
			sb_gate_close(b->g);
			b->g = NULL;
			if ((rc = open_gate(b->t, b->dec, vo.sign_fpr, &b->ga, &b->g)))
				return rc;
			vo.crypto = b->dec;
			vo.gate = b->g;
		}
	}
	/* no file's bytes are read: the plaintext cache stays empty */
	snprintf(b->cache, sizeof(b->cache), "%s/sealbox-browse.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b->cache)) {
		sb_error("cannot make a folder in %s: %s", tmp && *tmp ? tmp : "/tmp",
			 strerror(errno));
		b->cache[0] = '\0';
		return SB_ERR_IO;
	}
	vo.cache_dir = b->cache;
	vo.cache_size = 1u << 20;
	progress_begin(b->quiet, "reading indexes", 0, 0);
	rc = sb_snapview_open(&vo, &b->view);
	progress_end();
	if (rc) {
		if (missing && !b->dec)
			sb_error("%zu snapshot(s) of %s are not in the index cache %s: give "
				 "--secret-key FILE to read their indexes once",
				 missing, sb_transport_describe(b->t), b->index);
		return rc;
	}
	b->snaps = calloc(sb_snapview_count(b->view) + 1, sizeof(*b->snaps));
	if (!b->snaps)
		return SB_ERR_NOMEM;
	return sb_snapview_readdir(b->view, SB_SNAPVIEW_TOP_ID, 0, add_snap, b);
}

static void browse_close(struct browse *b)
{
	free(b->snaps);
	sb_snapview_close(b->view);
	sb_gate_close(b->g);
	sb_transport_close(b->t);
	sb_crypto_close(b->dec);
	sb_crypto_close(b->user);
	if (b->cache[0] && rmdir(b->cache) && errno != ENOENT)
		sb_warn("cannot remove %s: %s", b->cache, strerror(errno));
}

/* The newest snapshot at or before t (NULL: none, logged). */
static const struct snap *snap_at(struct browse *b, time_t t, const char *given)
{
	const struct snap *best = NULL;
	size_t k;

	for (k = 0; k < b->nsnaps; k++)
		if (b->snaps[k].t <= t)
			best = &b->snaps[k];
	if (!best)
		sb_error("%s holds no snapshot at or before %s", sb_transport_describe(b->t),
			 given);
	return best;
}

/* ---- folders ---- */

static void ents_free(struct ent *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].link);
	}
	free(e);
}

struct ents {
	struct ent *e;
	size_t n, cap;
	int rc;
};

static int add_ent(void *ctx, const char *name, size_t len, const struct sb_node *n, uint64_t next)
{
	struct ents *l = ctx;
	struct ent *e;

	(void)next;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct ent *ne = realloc(l->e, cap * sizeof(*ne));

		if (!ne)
			goto nomem;
		l->e = ne;
		l->cap = cap;
	}
	e = &l->e[l->n];
	memset(e, 0, sizeof(*e));
	if (!(e->name = malloc(len + 1)))
		goto nomem;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->len = len;
	e->id = n->id;
	e->type = n->type;
	e->mode = n->mode;
	e->uid = n->uid;
	e->gid = n->gid;
	e->mtime = n->mtime;
	e->size = n->size;
	l->n++;
	if (n->type == SB_TAR_SYMLINK && !(e->link = strdup(n->link)))
		goto nomem;
	return 0;
nomem:
	l->rc = SB_ERR_NOMEM;
	return 1;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* The entries of folder dir, sorted by name; caller frees with ents_free. */
static int list_dir(struct browse *b, uint64_t dir, struct ent **out, size_t *n)
{
	struct ents l = {0};
	int rc = sb_snapview_readdir(b->view, dir, 0, add_ent, &l);

	if (!rc)
		rc = l.rc;
	if (rc) {
		ents_free(l.e, l.n);
		return rc;
	}
	if (l.n)
		qsort(l.e, l.n, sizeof(*l.e), cmp_ent);
	*out = l.e;
	*n = l.n;
	return 0;
}

/* prefix + "/" + name (or name alone at the top), in a new string. */
static char *join(const char *prefix, const char *name, size_t len)
{
	size_t pl = strlen(prefix);
	char *p = malloc(pl + len + 2);

	if (!p)
		return NULL;
	memcpy(p, prefix, pl);
	if (pl)
		p[pl++] = '/';
	memcpy(p + pl, name, len);
	p[pl + len] = '\0';
	return p;
}

/* fn for every entry of folder dir (path: prefix/name), by name, and with
 * recurse what a folder holds right after it; stops at fn's first error. */
typedef int (*walk_fn)(void *ctx, const char *path, const struct ent *e);
static int walk(struct browse *b, uint64_t dir, const char *prefix, bool recurse, walk_fn fn,
		void *ctx)
{
	struct ent *e = NULL;
	size_t n = 0, i;
	char *path;
	int rc;

	if ((rc = list_dir(b, dir, &e, &n)))
		return rc;
	for (i = 0; i < n && !rc; i++) {
		if (!(path = join(prefix, e[i].name, e[i].len))) {
			rc = SB_ERR_NOMEM;
			break;
		}
		rc = fn(ctx, path, &e[i]);
		if (!rc && recurse && e[i].type == SB_TAR_DIR)
			rc = walk(b, e[i].id, path, true, fn, ctx);
		free(path);
	}
	ents_free(e, n);
	return rc;
}

/* ---- output ---- */

static const char *type_name(char type)
{
	switch (type) {
	case SB_TAR_DIR: return "dir";
	case SB_TAR_SYMLINK: return "symlink";
	case SB_TAR_FIFO: return "fifo";
	case SB_TAR_CHR: return "char";
	case SB_TAR_BLK: return "block";
	default: return "file";
	}
}

/* "drwxr-xr-x" */
static void mode_string(char type, uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	out[0] = type == SB_TAR_DIR	  ? 'd'
		 : type == SB_TAR_SYMLINK ? 'l'
		 : type == SB_TAR_FIFO	  ? 'p'
		 : type == SB_TAR_CHR	  ? 'c'
		 : type == SB_TAR_BLK	  ? 'b'
					  : '-';
	for (i = 0; i < 9; i++)
		out[1 + i] = mode & (0400u >> i) ? rwx[i] : '-';
	if (mode & 04000)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (mode & 02000)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (mode & 01000)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}

/*
 * A name on the terminal: valid UTF-8 passes; controls, DEL, C1, '\\' and
 * bytes that are not UTF-8 become \xNN (as in the messages, log.h), whole.
 */
static void put_name(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < len) {
		l = sb_utf8_len(p + i, len - i);
		if (l == 1 && p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\') {
			putchar(p[i]);
		} else if (l > 1 && !(l == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f)) {
			fwrite(p + i, 1, l, stdout);
			i += l;
			continue;
		} else {
			printf("\\x%02x", p[i]);
		}
		i++;
	}
}

/* One entry as a JSON object (inside an array). */
static void json_ent(struct json *j, const char *path, const struct ent *e)
{
	json_obj(j, NULL);
	json_path(j, "path", path);
	json_str(j, "type", type_name(e->type));
	json_u64(j, "mode", e->mode);
	json_u64(j, "size", e->size);
	json_time(j, "mtime", (time_t)e->mtime);
	if (e->link)
		json_path(j, "link", e->link);
}

/* ---- ls ---- */

static void ls_print(const char *path, const struct ent *e)
{
	char mode[11], when[21];

	if (cli_json()) {
		json_ent(cli_json(), path, e);
		json_end(cli_json());
		return;
	}
	mode_string(e->type, e->mode, mode);
	sb_time_format_iso((time_t)e->mtime, when);
	printf("%s %12llu %s ", mode, (unsigned long long)e->size, when);
	put_name(path, strlen(path));
	if (e->type == SB_TAR_DIR)
		putchar('/');
	if (e->link) {
		fputs(" -> ", stdout);
		put_name(e->link, strlen(e->link));
	}
	putchar('\n');
}

static int ls_one(void *ctx, const char *path, const struct ent *e)
{
	(void)ctx;
	ls_print(path, e);
	return 0;
}

/* Look path (normalized, relative) up in the tree of root; *e filled. */
static int resolve(struct browse *b, uint64_t root, const char *path, struct ent *e)
{
	struct sb_node n;
	const char *p = path, *slash;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = sb_snapview_getattr(b->view, root, &n)))
		return rc;
	while (*p) {
		slash = strchr(p, '/');
		if ((rc = sb_snapview_lookup(b->view, n.id, p,
					     slash ? (size_t)(slash - p) : strlen(p), &n)))
			return rc;
		p = slash ? slash + 1 : p + strlen(p);
	}
	e->id = n.id;
	e->type = n.type;
	e->mode = n.mode;
	e->uid = n.uid;
	e->gid = n.gid;
	e->mtime = n.mtime;
	e->size = n.size;
	if (n.type == SB_TAR_SYMLINK && !(e->link = strdup(n.link)))
		return SB_ERR_NOMEM;
	return 0;
}

/* PATH of a command line, relative to the backed-up folder, normalized. */
static int user_path(const char *cmd, const char *arg, char **out)
{
	char *p;
	int n;

	if (arg[0] == '/')
		return usage_error(cmd, "'%s': give the path relative to the backed-up folder",
				   arg);
	if (!(p = strdup(arg)))
		return EXIT_INTERNAL;
	n = sb_path_normalize(p, strlen(p));
	if (n < 0) {
		free(p);
		return usage_error(cmd, "bad path '%s'", arg);
	}
	p[n] = '\0';
	*out = p;
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	struct browse b = {.cmd = "ls"};
	const struct snap *s;
	const char *given = "now";
	time_t when = time(NULL);
	bool recursive = false;
	char *path = NULL;
	struct ent e = {0};
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqhR", ls_opts, NULL)) != -1) {
		if (browse_option(&b, c, optarg))
			continue;
		switch (c) {
		case O_TIME:
			given = optarg;
			if (sb_time_parse_user(optarg, time(NULL), &when))
				return usage_error("ls", "bad --time '%s'", optarg);
			break;
		case 'R': recursive = true; break;
		case 'h': fputs(ls_usage, stdout); return EXIT_OK;
		default: return bad_option("ls", argv);
		}
	}
	if (!b.target)
		return usage_error("ls", "--target URL is required");
	if (argc - optind > 1)
		return usage_error("ls", "give at most one PATH");
	if ((rc = user_path("ls", optind < argc ? argv[optind] : "", &path)))
		return rc;
	if ((rc = browse_open(&b)))
		goto out;
	if (!(s = snap_at(&b, when, given))) {
		rc = SB_ERR_NOTFOUND;
		goto out;
	}
	if ((rc = resolve(&b, s->root, path, &e))) {
		if (rc == SB_ERR_NOTFOUND)
			sb_error("no '%s' in the snapshot of %s", path, s->iso);
		goto out;
	}
	if (cli_json()) {
		json_str(cli_json(), "snapshot", s->iso);
		json_path(cli_json(), "path", path);
		json_arr(cli_json(), "entries");
	}
	if (e.type == SB_TAR_DIR)
		rc = walk(&b, e.id, path, recursive, ls_one, NULL);
	else
		ls_print(path, &e);
	if (cli_json())
		json_end(cli_json());
out:
	free(e.link);
	free(path);
	browse_close(&b);
	return exit_status(rc);
}

/* ---- find ---- */

struct match {
	char *path;
	size_t snap; /* index in snaps[] */
	struct ent e;
};

struct finder {
	struct browse *b;
	const char *pattern;
	bool whole;  /* the pattern holds a '/': match whole paths */
	size_t snap; /* the snapshot searched */
	struct match *m;
	size_t n, cap;
};

static int find_add(struct finder *f, const char *path, size_t snap, const struct ent *e)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct match *nm = realloc(f->m, cap * sizeof(*nm));

		if (!nm)
			return SB_ERR_NOMEM;
		f->m = nm;
		f->cap = cap;
	}
	if (!(f->m[f->n].path = strdup(path)))
		return SB_ERR_NOMEM;
	f->m[f->n].snap = snap;
	f->m[f->n].e = *e;
	f->m[f->n].e.name = NULL;
	f->m[f->n].e.link = NULL;
	f->n++;
	return 0;
}

static int find_one(void *ctx, const char *path, const struct ent *e)
{
	struct finder *f = ctx;
	const char *name = strrchr(path, '/');

	if (fnmatch(f->pattern, f->whole ? path : name ? name + 1 : path, 0))
		return 0;
	return find_add(f, path, f->snap, e);
}

static int cmp_match(const void *a, const void *b)
{
	const struct match *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : x->snap < y->snap ? -1 : x->snap > y->snap;
}

static void find_print(struct finder *f)
{
	struct json *j = cli_json();
	char mode[11], when[21];
	size_t i;

	if (j)
		json_arr(j, "matches");
	for (i = 0; i < f->n; i++) {
		const struct match *m = &f->m[i];
		bool first = !i || strcmp(m->path, f->m[i - 1].path);
		bool last = i + 1 == f->n || strcmp(m->path, f->m[i + 1].path);

		sb_time_format_iso((time_t)m->e.mtime, when);
		if (j) {
			if (first) {
				json_obj(j, NULL);
				json_path(j, "path", m->path);
				json_arr(j, "snapshots");
			}
			json_obj(j, NULL);
			json_str(j, "snapshot", f->b->snaps[m->snap].iso);
			json_str(j, "type", type_name(m->e.type));
			json_u64(j, "size", m->e.size);
			json_str(j, "mtime", when);
			json_end(j);
			if (last) {
				json_end(j);
				json_end(j);
			}
			continue;
		}
		if (first) {
			put_name(m->path, strlen(m->path));
			puts(m->e.type == SB_TAR_DIR ? "/" : "");
		}
		mode_string(m->e.type, m->e.mode, mode);
		printf("  %s  %s %12llu %s\n", f->b->snaps[m->snap].iso, mode,
		       (unsigned long long)m->e.size, when);
	}
	if (j)
		json_end(j);
}

int cmd_find(int argc, char **argv)
{
	struct browse b = {.cmd = "find"};
	struct finder f = {.b = &b};
	size_t k, paths = 0;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", find_opts, NULL)) != -1) {
		if (browse_option(&b, c, optarg))
			continue;
		switch (c) {
		case 'h': fputs(find_usage, stdout); return EXIT_OK;
		default: return bad_option("find", argv);
		}
	}
	if (!b.target)
		return usage_error("find", "--target URL is required");
	if (argc - optind != 1 || !argv[optind][0])
		return usage_error("find", "give one PATTERN");
	f.pattern = argv[optind];
	f.whole = strchr(f.pattern, '/') != NULL;
	if ((rc = browse_open(&b)))
		goto out;
	for (k = 0; k < b.nsnaps && !rc; k++) {
		f.snap = k;
		rc = walk(&b, b.snaps[k].root, "", true, find_one, &f);
	}
	if (rc)
		goto out;
	if (f.n)
		qsort(f.m, f.n, sizeof(*f.m), cmp_match);
	for (k = 0; k < f.n; k++)
		paths += !k || strcmp(f.m[k].path, f.m[k - 1].path);
	if (cli_json()) {
		json_str(cli_json(), "pattern", f.pattern);
		json_u64(cli_json(), "snapshots_searched", b.nsnaps);
	}
	find_print(&f);
	if (!f.n)
		sb_notice("no path matches '%s' in %zu snapshot(s)", f.pattern, b.nsnaps);
	else
		sb_info("%zu path(s) match '%s' in %zu snapshot(s)", paths, f.pattern, b.nsnaps);
out:
	for (k = 0; k < f.n; k++)
		free(f.m[k].path);
	free(f.m);
	browse_close(&b);
	return exit_status(rc);
}

/* ---- diff ---- */

struct differ {
	struct browse *b;
	char sign; /* of diff_subtree() */
	uint64_t added, removed, changed;
};

static void diff_report(struct differ *d, char change, const char *path, const struct ent *e,
			const char *what)
{
	struct json *j = cli_json();

	if (change == '+')
		d->added++;
	else if (change == '-')
		d->removed++;
	else
		d->changed++;
	if (j) {
		json_ent(j, path, e);
		json_str(j, "change",
			 change == '+'	 ? "added"
			 : change == '-' ? "removed"
					 : "changed");
		if (what) {
			const char *p = what, *comma;

			json_arr(j, "what");
			for (; *p; p = comma ? comma + 1 : p + strlen(p)) {
				comma = strchr(p, ',');
				json_strn(j, NULL, p, comma ? (size_t)(comma - p) : strlen(p));
			}
			json_end(j);
		}
		json_end(j);
		return;
	}
	printf("%c ", change);
	put_name(path, strlen(path));
	puts(e->type == SB_TAR_DIR ? "/" : "");
}

/* Everything below a folder added (d->sign '+') or removed ('-'). */
static int diff_one(void *ctx, const char *path, const struct ent *e)
{
	struct differ *d = ctx;

	diff_report(d, d->sign, path, e, NULL);
	return 0;
}

static int diff_subtree(struct differ *d, char change, uint64_t dir, const char *prefix)
{
	d->sign = change;
	return walk(d->b, dir, prefix, true, diff_one, d);
}

/* Append ",name" (or "name") to out when cond holds. */
static void what_add(char *out, size_t size, bool cond, const char *name)
{
	size_t l = strlen(out);

	if (cond)
		snprintf(out + l, size - l, "%s%s", l ? "," : "", name);
}

/* What differs between two versions of a path ("" when nothing); folders
 * change their size and time with their entries, which are compared. */
static void what_differs(const struct ent *a, const struct ent *b, char *out, size_t size)
{
	bool dir = a->type == SB_TAR_DIR && b->type == SB_TAR_DIR;

	out[0] = '\0';
	what_add(out, size, a->type != b->type, "type");
	if (out[0])
		return;
	what_add(out, size, !dir && a->size != b->size, "size");
	what_add(out, size, !dir && a->mtime != b->mtime, "mtime");
	what_add(out, size, a->mode != b->mode, "mode");
	what_add(out, size, a->uid != b->uid || a->gid != b->gid, "owner");
	what_add(out, size, a->link && b->link && strcmp(a->link, b->link), "link");
}

static int diff_dirs(struct differ *d, uint64_t da, uint64_t db, const char *prefix)
{
	struct ent *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, i = 0, k = 0;
	char *path = NULL, what[64];
	int rc, c;

	if ((rc = list_dir(d->b, da, &a, &na)) || (rc = list_dir(d->b, db, &b, &nb)))
		goto out;
	while (!rc && (i < na || k < nb)) {
		c = i == na ? 1 : k == nb ? -1 : cmp_ent(&a[i], &b[k]);
		free(path);
		if (!(path = c <= 0 ? join(prefix, a[i].name, a[i].len)
				    : join(prefix, b[k].name, b[k].len))) {
			rc = SB_ERR_NOMEM;
			break;
		}
		if (c < 0) {
			diff_report(d, '-', path, &a[i], NULL);
			if (a[i].type == SB_TAR_DIR)
				rc = diff_subtree(d, '-', a[i].id, path);
			i++;
			continue;
		}
		if (c > 0) {
			diff_report(d, '+', path, &b[k], NULL);
			if (b[k].type == SB_TAR_DIR)
				rc = diff_subtree(d, '+', b[k].id, path);
			k++;
			continue;
		}
		what_differs(&a[i], &b[k], what, sizeof(what));
		if (what[0])
			diff_report(d, 'M', path, &b[k], what);
		if (a[i].type == SB_TAR_DIR && b[k].type == SB_TAR_DIR)
			rc = diff_dirs(d, a[i].id, b[k].id, path);
		else if (a[i].type == SB_TAR_DIR)
			rc = diff_subtree(d, '-', a[i].id, path);
		else if (b[k].type == SB_TAR_DIR)
			rc = diff_subtree(d, '+', b[k].id, path);
		i++;
		k++;
	}
out:
	free(path);
	ents_free(a, na);
	ents_free(b, nb);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	struct browse b = {.cmd = "diff"};
	struct differ d = {.b = &b};
	const struct snap *s1, *s2;
	time_t t1, t2, now = time(NULL);
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", diff_opts, NULL)) != -1) {
		if (browse_option(&b, c, optarg))
			continue;
		switch (c) {
		case 'h': fputs(diff_usage, stdout); return EXIT_OK;
		default: return bad_option("diff", argv);
		}
	}
	if (!b.target)
		return usage_error("diff", "--target URL is required");
	if (argc - optind != 2)
		return usage_error("diff", "give two times, TIME1 and TIME2");
	if (sb_time_parse_user(argv[optind], now, &t1))
		return usage_error("diff", "bad TIME1 '%s'", argv[optind]);
	if (sb_time_parse_user(argv[optind + 1], now, &t2))
		return usage_error("diff", "bad TIME2 '%s'", argv[optind + 1]);
	if ((rc = browse_open(&b)))
		goto out;
	if (!(s1 = snap_at(&b, t1, argv[optind])) || !(s2 = snap_at(&b, t2, argv[optind + 1]))) {
		rc = SB_ERR_NOTFOUND;
		goto out;
	}
	if (cli_json()) {
		json_str(cli_json(), "from", s1->iso);
		json_str(cli_json(), "to", s2->iso);
		json_arr(cli_json(), "changes");
	}
	rc = diff_dirs(&d, s1->root, s2->root, "");
	if (cli_json()) {
		json_end(cli_json());
		json_u64(cli_json(), "added", d.added);
		json_u64(cli_json(), "removed", d.removed);
		json_u64(cli_json(), "changed", d.changed);
	} else if (!rc && !b.quiet) {
		printf("%llu added, %llu removed, %llu changed: %s .. %s\n",
		       (unsigned long long)d.added, (unsigned long long)d.removed,
		       (unsigned long long)d.changed, s1->iso, s2->iso);
	}
out:
	browse_close(&b);
	return exit_status(rc);
}
