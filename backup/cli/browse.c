/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * browse.c - the snapshots of a target as a view for ls, find and diff (see
 * browse.h). The target is listed and every chain proven through the gate
 * with the public keys; the indexes come from the mount's index cache when
 * they are there, so a cached target needs no secret key and no volume or
 * index is fetched. Only a set whose index is not cached yet is fetched and
 * decrypted (--secret-key, or the keyring), and then cached. No file's
 * bytes are ever read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/tar.h"
#include "sealbox/timefmt.h"
#include "browse.h"
#include "runlog.h"

bool browse_option(struct browse *b, int c, const char *arg)
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

int browse_open(struct browse *b)
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
		sb_info("%zu snapshot(s) of %s have no index in %s yet: reading them from the "
			"target",
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

void browse_close(struct browse *b)
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
const struct snap *browse_snap_at(struct browse *b, time_t t, const char *given)
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

void browse_ents_free(struct ent *e, size_t n)
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

int browse_ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* The entries of folder dir, sorted by name; caller frees with browse_ents_free. */
int browse_list(struct browse *b, uint64_t dir, struct ent **out, size_t *n)
{
	struct ents l = {0};
	int rc = sb_snapview_readdir(b->view, dir, 0, add_ent, &l);

	if (!rc)
		rc = l.rc;
	if (rc) {
		browse_ents_free(l.e, l.n);
		return rc;
	}
	if (l.n)
		qsort(l.e, l.n, sizeof(*l.e), browse_ent_cmp);
	*out = l.e;
	*n = l.n;
	return 0;
}

/* fn for every entry of folder dir (path: prefix/name), by name, and with
 * recurse what a folder holds right after it; stops at fn's first error. */
int browse_walk(struct browse *b, uint64_t dir, const char *prefix, bool recurse, browse_walk_fn fn,
		void *ctx)
{
	struct ent *e = NULL;
	size_t n = 0, i;
	char *path;
	int rc;

	if ((rc = browse_list(b, dir, &e, &n)))
		return rc;
	for (i = 0; i < n && !rc; i++) {
		if (!(path = sb_path_join(prefix, e[i].name, e[i].len))) {
			rc = SB_ERR_NOMEM;
			break;
		}
		rc = fn(ctx, path, &e[i]);
		if (!rc && recurse && e[i].type == SB_TAR_DIR)
			rc = browse_walk(b, e[i].id, path, true, fn, ctx);
		free(path);
	}
	browse_ents_free(e, n);
	return rc;
}

/* ---- output ---- */

const char *browse_type_name(char type)
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
void browse_mode_string(char type, uint32_t mode, char out[11])
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
void browse_put_name(const char *s, size_t len)
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
void browse_json_ent(struct json *j, const char *path, const struct ent *e)
{
	json_obj(j, NULL);
	json_path(j, "path", path);
	json_str(j, "type", browse_type_name(e->type));
	json_u64(j, "mode", e->mode);
	json_u64(j, "size", e->size);
	json_time(j, "mtime", (time_t)e->mtime);
	if (e->link)
		json_path(j, "link", e->link);
}
