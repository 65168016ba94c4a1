/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs_versions.c - the mount's versions/ folder, beside the snapshots: every
 * path any snapshot holds, and in the folder of a path that is a file (or a
 * symlink, a device...) in some snapshots, one entry per such snapshot, named
 * by its time, which is that snapshot's node itself:
 *
 *   versions/thesis.tex/2026-11-20T02:00:01Z   the file as backed up then
 *
 * It is made here from the snapshot view's own lookups (snapview.h); the
 * folders of versions/ get ids of their own (FS_VERSIONS_BASE + k, k an
 * index in a table of the paths looked up so far), the copies keep the
 * snapshot's ids, so reading them is reading the snapshot. The functions
 * fs_node_*() are what fs.c asks: the view, plus versions/.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_impl.h"
#include "sealbox/error.h"
#include "sealbox/path.h"
#include "sealbox/tar.h"

int fs_versions_init(struct fs_versions *v)
{
	memset(v, 0, sizeof(*v));
	if (pthread_mutex_init(&v->lock, NULL))
		return SB_ERR_NOMEM;
	return 0;
}

void fs_versions_release(struct fs_versions *v)
{
	for (size_t i = 0; i < v->npaths; i++)
		free(v->paths[i]);
	free(v->paths);
	free(v->slots);
	free(v->snaps);
	pthread_mutex_destroy(&v->lock);
}

static bool is_versions(uint64_t id) { return id >= FS_VERSIONS_BASE; }

/* ---- the snapshots ---- */

static int add_snap(void *ctx, const char *name, size_t len, const struct sb_node *n, uint64_t next)
{
	struct fs_versions *v = ctx;

	(void)next;
	if (len != sizeof(v->snaps[0].iso) - 1 || n->type != SB_TAR_DIR)
		return 0; /* "latest" */
	memcpy(v->snaps[v->nsnaps].iso, name, len);
	v->snaps[v->nsnaps].iso[len] = '\0';
	v->snaps[v->nsnaps].root = n->id;
	v->snaps[v->nsnaps].mtime = n->mtime;
	v->nsnaps++;
	return 0;
}

/* The snapshots' names and top folders, oldest first (listed once). */
static int load_snaps(struct sb_fs *fs)
{
	struct fs_versions *v = &fs->versions;
	int rc = 0;

	pthread_mutex_lock(&v->lock);
	if (!v->snaps) {
		v->snaps = calloc(sb_snapview_count(fs->view) + 1, sizeof(*v->snaps));
		if (!v->snaps)
			rc = SB_ERR_NOMEM;
		else if ((rc = sb_snapview_readdir(fs->view, SB_SNAPVIEW_TOP_ID, 0, add_snap, v))) {
			free(v->snaps);
			v->snaps = NULL;
			v->nsnaps = 0;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return rc;
}

/* ---- the table of folders ---- */

/* The path of folder id (a copy; caller frees), or NULL. */
static char *path_of(struct fs_versions *v, uint64_t id)
{
	char *p = NULL;

	pthread_mutex_lock(&v->lock);
	if (id - FS_VERSIONS_BASE < v->npaths)
		p = strdup(v->paths[id - FS_VERSIONS_BASE]);
	pthread_mutex_unlock(&v->lock);
	return p;
}

static uint64_t hash_path(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (len--)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

/* Slot of path in the hash table: its index + 1, or the empty slot for it. */
static size_t slot_of(const struct fs_versions *v, const char *path, size_t len)
{
	size_t mask = v->nslots - 1, i = (size_t)hash_path(path, len) & mask;
	const char *q;

	while (v->slots[i]) {
		q = v->paths[v->slots[i] - 1];
		if (strlen(q) == len && !memcmp(q, path, len))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

/* Room for one more path: the array and the table (kept at most half full). */
static int grow(struct fs_versions *v)
{
	size_t i, *ns, n;

	if (v->npaths == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		char **np = realloc(v->paths, cap * sizeof(*np));

		if (!np)
			return SB_ERR_NOMEM;
		v->paths = np;
		v->cap = cap;
	}
	if (2 * (v->npaths + 1) <= v->nslots)
		return 0;
	n = v->nslots ? 2 * v->nslots : 128;
	if (!(ns = calloc(n, sizeof(*ns))))
		return SB_ERR_NOMEM;
	free(v->slots);
	v->slots = ns;
	v->nslots = n;
	for (i = 0; i < v->npaths; i++)
		v->slots[slot_of(v, v->paths[i], strlen(v->paths[i]))] = i + 1;
	return 0;
}

/* The id of the folder of path (len bytes), added when new; 0: no memory. */
static uint64_t id_of(struct fs_versions *v, const char *path, size_t len)
{
	uint64_t id = 0;
	size_t s;

	pthread_mutex_lock(&v->lock);
	if (!grow(v)) {
		s = slot_of(v, path, len);
		if (!v->slots[s] && (v->paths[v->npaths] = strndup(path, len)))
			v->slots[s] = ++v->npaths;
		if (v->slots[s])
			id = FS_VERSIONS_BASE + v->slots[s] - 1;
	}
	pthread_mutex_unlock(&v->lock);
	return id;
}

static void folder_attrs(struct sb_fs *fs, uint64_t id, struct sb_node *n)
{
	struct fs_versions *v = &fs->versions;

	memset(n, 0, sizeof(*n) - sizeof(n->link));
	n->link[0] = '\0';
	n->id = id;
	n->type = SB_TAR_DIR;
	n->mode = 0555;
	n->uid = getuid();
	n->gid = getgid();
	n->nlink = 1; /* its subfolders are not counted: 1 tells find(1) so */
	n->size = 4096;
	n->mtime = v->nsnaps ? v->snaps[v->nsnaps - 1].mtime : 0;
}

/* ---- paths in the snapshots ---- */

/* path (relative, "" the top) in snapshot k, into *n. SB_ERR_NOTFOUND when
 * it is not there (or a component is not a folder). */
static int resolve(struct sb_fs *fs, size_t k, const char *path, struct sb_node *n)
{
	const char *p = path, *slash;
	size_t len;
	int rc;

	if ((rc = sb_snapview_getattr(fs->view, fs->versions.snaps[k].root, n)))
		return rc;
	while (*p) {
		if (n->type != SB_TAR_DIR)
			return SB_ERR_NOTFOUND;
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if ((rc = sb_snapview_lookup(fs->view, n->id, p, len, n)))
			return rc;
		p += len + (slash ? 1 : 0);
	}
	return 0;
}

/* ---- listing a folder of versions/ ---- */

struct names {
	char **v;
	size_t n, cap;
	int rc;
};

static int add_name(void *ctx, const char *name, size_t len, const struct sb_node *node,
		    uint64_t next)
{
	struct names *l = ctx;

	(void)node;
	(void)next;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv) {
			l->rc = SB_ERR_NOMEM;
			return 1;
		}
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strndup(name, len))) {
		l->rc = SB_ERR_NOMEM;
		return 1;
	}
	l->n++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in folder path of any snapshot, sorted, each once. */
static int union_of(struct sb_fs *fs, const char *path, struct names *l)
{
	struct sb_node n;
	size_t k, i, o;
	int rc = 0;

	for (k = 0; k < fs->versions.nsnaps && !rc; k++) {
		if (resolve(fs, k, path, &n) || n.type != SB_TAR_DIR)
			continue;
		rc = sb_snapview_readdir(fs->view, n.id, 0, add_name, l);
		if (!rc)
			rc = l->rc;
	}
	if (rc || !l->n)
		return rc;
	qsort(l->v, l->n, sizeof(*l->v), cmp_name);
	for (i = 1, o = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[o - 1]))
			l->v[o++] = l->v[i];
		else
			free(l->v[i]);
	}
	l->n = o;
	return 0;
}

/*
 * Folder id of versions/: first the copies (a snapshot's time, for each
 * snapshot where its path is not a folder), then the names below it.
 * Positions: copies 0..nsnaps-1 by snapshot, names nsnaps + i.
 */
static int versions_readdir(struct sb_fs *fs, uint64_t id, uint64_t pos, sb_snapview_dir_cb cb,
			    void *ctx)
{
	struct fs_versions *v = &fs->versions;
	struct names l = {0};
	struct sb_node n;
	char *path = path_of(v, id), *cp;
	uint64_t cid;
	size_t k, i;
	int rc = 0;

	if (!path)
		return SB_ERR_NOTFOUND;
	for (k = pos; k < v->nsnaps; k++) {
		if (resolve(fs, k, path, &n) || n.type == SB_TAR_DIR)
			continue;
		if (cb(ctx, v->snaps[k].iso, strlen(v->snaps[k].iso), &n, k + 1))
			goto out;
	}
	if ((rc = union_of(fs, path, &l)))
		goto out;
	for (i = pos > v->nsnaps ? pos - v->nsnaps : 0; i < l.n; i++) {
		if (!(cp = sb_path_join(path, l.v[i], strlen(l.v[i])))) {
			rc = SB_ERR_NOMEM;
			break;
		}
		cid = id_of(v, cp, strlen(cp));
		free(cp);
		if (!cid) {
			rc = SB_ERR_NOMEM;
			break;
		}
		folder_attrs(fs, cid, &n);
		if (cb(ctx, l.v[i], strlen(l.v[i]), &n, v->nsnaps + i + 1))
			break;
	}
out:
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	free(path);
	return rc;
}

/* name in folder id of versions/: a copy (a snapshot's time), else a path. */
static int versions_lookup(struct sb_fs *fs, uint64_t id, const char *name, size_t len,
			   struct sb_node *out)
{
	struct fs_versions *v = &fs->versions;
	char *path = path_of(v, id), *cp = NULL;
	struct sb_node n;
	uint64_t cid;
	size_t k;
	int rc = SB_ERR_NOTFOUND;

	if (!path)
		return SB_ERR_NOTFOUND;
	for (k = 0; k < v->nsnaps; k++) {
		if (strlen(v->snaps[k].iso) != len || memcmp(v->snaps[k].iso, name, len))
			continue;
		if (!resolve(fs, k, path, &n) && n.type != SB_TAR_DIR) {
			*out = n;
			rc = 0;
		}
		goto out;
	}
	if (memchr(name, '/', len) || !(cp = sb_path_join(path, name, len))) {
		rc = cp ? SB_ERR_NOTFOUND : SB_ERR_NOMEM;
		goto out;
	}
	for (k = 0; k < v->nsnaps && rc; k++)
		if (!resolve(fs, k, cp, &n))
			rc = 0;
	if (!rc) {
		if (!(cid = id_of(v, cp, strlen(cp))))
			rc = SB_ERR_NOMEM;
		else
			folder_attrs(fs, cid, out);
	}
out:
	free(cp);
	free(path);
	return rc;
}

/* ---- what fs.c asks ---- */

int fs_node_getattr(struct sb_fs *fs, uint64_t id, struct sb_node *out)
{
	int rc;

	if (!is_versions(id)) {
		rc = sb_snapview_getattr(fs->view, id, out);
		if (!rc && id == SB_SNAPVIEW_TOP_ID)
			out->nlink++; /* versions/ */
		return rc;
	}
	if ((rc = load_snaps(fs)))
		return rc;
	if (id - FS_VERSIONS_BASE >= fs->versions.npaths)
		return SB_ERR_NOTFOUND;
	folder_attrs(fs, id, out);
	return 0;
}

int fs_node_lookup(struct sb_fs *fs, uint64_t parent, const char *name, size_t len,
		   struct sb_node *out)
{
	int rc;

	if (parent == SB_SNAPVIEW_TOP_ID && len == strlen(FS_VERSIONS_NAME) &&
	    !memcmp(name, FS_VERSIONS_NAME, len)) {
		if ((rc = load_snaps(fs)))
			return rc;
		folder_attrs(fs, id_of(&fs->versions, "", 0), out);
		return out->id ? 0 : SB_ERR_NOMEM;
	}
	if (!is_versions(parent))
		return sb_snapview_lookup(fs->view, parent, name, len, out);
	if ((rc = load_snaps(fs)))
		return rc;
	return versions_lookup(fs, parent, name, len, out);
}

/* The top folder's listing: the view's, then versions/. */
struct top_fill {
	sb_snapview_dir_cb cb;
	void *ctx;
	int stopped;
};

static int top_cb(void *ctx, const char *name, size_t len, const struct sb_node *n, uint64_t next)
{
	struct top_fill *t = ctx;

	return t->stopped = t->cb(t->ctx, name, len, n, next);
}

int fs_node_readdir(struct sb_fs *fs, uint64_t dir, uint64_t pos, sb_snapview_dir_cb cb, void *ctx)
{
	struct top_fill t = {cb, ctx, 0};
	uint64_t end = sb_snapview_count(fs->view) + 2; /* after "latest" */
	struct sb_node n;
	int rc;

	if (is_versions(dir))
		return (rc = load_snaps(fs)) ? rc : versions_readdir(fs, dir, pos, cb, ctx);
	if (dir != SB_SNAPVIEW_TOP_ID)
		return sb_snapview_readdir(fs->view, dir, pos, cb, ctx);
	if ((rc = sb_snapview_readdir(fs->view, dir, pos, top_cb, &t)) || t.stopped || pos >= end)
		return rc;
	if ((rc = fs_node_lookup(fs, dir, FS_VERSIONS_NAME, strlen(FS_VERSIONS_NAME), &n)))
		return rc;
	cb(ctx, FS_VERSIONS_NAME, strlen(FS_VERSIONS_NAME), &n, end);
	return 0;
}
