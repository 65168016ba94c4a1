/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapview_data.c - file contents for the view: verified plaintext of whole
 * volumes (a volume is one gpg stream: no seeking, and its signature is at
 * its end, so it is decrypted and checked completely before any byte of it
 * is served), then each file version rebuilt from there (snapshot data,
 * then librsync patches) into the plaintext cache, evicted least recently
 * used beyond cache_size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealbox/delta.h"
#include "sealbox/error.h"
#include "sealbox/gunzip.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/sigstate.h"
#include "sealbox/tar.h"
#include "sealbox/setstream.h"
#include "snapview_impl.h"

/* ---- the cache's bookkeeping ---- */

static struct sv_cache_file *cache_find(struct sb_snapview *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nfiles; i++)
		if (!strcmp(v->files[i].name, name))
			return &v->files[i];
	return NULL;
}

static void cache_path(struct sb_snapview *v, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", v->o.cache_dir, name);
}

/* Open a cached file if present (bumps its use); cache_lock held. -1: not cached. */
static int cache_open_locked(struct sb_snapview *v, const char *name)
{
	struct sv_cache_file *f = cache_find(v, name);
	char path[4096];

	if (!f)
		return -1;
	f->last_use = ++v->clock;
	cache_path(v, name, path, sizeof(path));
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int cache_open(struct sb_snapview *v, const char *name)
{
	int fd;

	pthread_mutex_lock(&v->cache_lock);
	fd = cache_open_locked(v, name);
	pthread_mutex_unlock(&v->cache_lock);
	return fd;
}

/* Register a new cached file and evict the least recently used beyond the bound. */
static void cache_add(struct sb_snapview *v, const char *name, uint64_t size)
{
	struct sv_cache_file *nf;
	char path[4096];
	size_t i, lru;

	pthread_mutex_lock(&v->cache_lock);
	nf = realloc(v->files, (v->nfiles + 1) * sizeof(*nf));
	if (nf) {
		v->files = nf;
		nf[v->nfiles].name = strdup(name);
		nf[v->nfiles].size = size;
		nf[v->nfiles].last_use = ++v->clock;
		if (nf[v->nfiles].name) {
			v->nfiles++;
			v->cache_bytes += size;
		}
	}
	while (v->cache_bytes > v->o.cache_size && v->nfiles > 1) {
		lru = 0;
		for (i = 1; i < v->nfiles - 1; i++)
			if (v->files[i].last_use < v->files[lru].last_use)
				lru = i;
		cache_path(v, v->files[lru].name, path, sizeof(path));
		unlink(path); /* readers holding it open keep their bytes */
		v->cache_bytes -= v->files[lru].size;
		free(v->files[lru].name);
		v->files[lru] = v->files[--v->nfiles];
	}
	pthread_mutex_unlock(&v->cache_lock);
}

void sv_cache_clear(struct sb_snapview *v)
{
	char path[4096];
	size_t i;

	for (i = 0; i < v->nfiles; i++) {
		cache_path(v, v->files[i].name, path, sizeof(path));
		unlink(path);
		free(v->files[i].name);
	}
	free(v->files);
	v->files = NULL;
	v->nfiles = 0;
	v->cache_bytes = 0;
}

/* ---- verified volume plaintext ---- */

static int copy_to_fd(struct sb_reader in, int fd)
{
	char buf[65536];
	ssize_t n;
	int rc;

	while ((n = in.read(in.ctx, buf, sizeof(buf))) > 0)
		if ((rc = sb_fd_write(&fd, buf, (size_t)n)))
			return rc;
	return (int)n;
}

static int fetch_volume(struct sb_snapview *v, const struct sb_set *s, unsigned vol, int fd)
{
	const char *name = sb_gate_volume_name(s, vol);
	struct sb_manifest m;
	int rc;

	if (!name)
		return SB_ERR_NOTFOUND;
	sb_manifest_init(&m);
	rc = sb_gate_manifest(v->o.gate, s, &m);
	if (!rc)
		rc = sb_gate_fetch(v->o.gate, s, name, &m, SB_GATE_MAX_VOLUME,
				   (struct sb_writer){sb_fd_write, &fd});
	sb_manifest_release(&m);
	return rc;
}

/* Index of name in v->inflight, or -1; cache_lock held. */
static int inflight_find(struct sb_snapview *v, const char *name)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(v->inflight[i], name))
			return i;
	return -1;
}

/*
 * Wait until name is neither being fetched by another thread nor known bad,
 * then claim it. Returns an fd when it is cached, -1 with *slot claimed (or
 * -1 when no slot was free), or -2 with *rc when it failed before.
 */
static int claim_volume(struct sb_snapview *v, const char *name, int *slot, int *rc)
{
	size_t i;
	int fd;

	pthread_mutex_lock(&v->cache_lock);
	for (;;) {
		if ((fd = cache_open_locked(v, name)) >= 0)
			break;
		for (i = 0; i < v->nfailed; i++)
			if (!strcmp(v->failed[i].name, name)) {
				*rc = v->failed[i].rc;
				fd = -2;
				goto out;
			}
		if (inflight_find(v, name) < 0)
			break;
		pthread_cond_wait(&v->cache_cv, &v->cache_lock);
	}
	if (fd < 0 && (*slot = inflight_find(v, "")) >= 0)
		snprintf(v->inflight[*slot], sizeof(v->inflight[0]), "%s", name);
out:
	pthread_mutex_unlock(&v->cache_lock);
	return fd;
}

static void release_volume(struct sb_snapview *v, const char *name, int slot, int rc)
{
	pthread_mutex_lock(&v->cache_lock);
	if (slot >= 0)
		v->inflight[slot][0] = '\0';
	if ((rc == SB_ERR_CORRUPT || rc == SB_ERR_BADSIG) && v->nfailed < 16) {
		snprintf(v->failed[v->nfailed].name, sizeof(v->failed[0].name), "%s", name);
		v->failed[v->nfailed++].rc = rc;
	}
	pthread_cond_broadcast(&v->cache_cv);
	pthread_mutex_unlock(&v->cache_lock);
}

/* An fd on the verified plaintext of a volume, fetching it if needed. A
 * volume that failed verification is not fetched (nor reported) again. */
static int volume_fd(struct sb_snapview *v, int64_t set_id, unsigned vol, int *out)
{
	const struct sb_set *s = sv_set_by_id(v, set_id);
	char name[64], path[4096], tmp[4200];
	struct stat st;
	int fd, rc = 0, slot = -1;

	snprintf(name, sizeof(name), "v%lld_%u", (long long)set_id, vol);
	fd = claim_volume(v, name, &slot, &rc);
	if (fd >= 0 || fd == -2) {
		*out = fd;
		return fd >= 0 ? 0 : rc;
	}
	if (!s) {
		release_volume(v, name, slot, 0);
		return SB_ERR_NOTFOUND;
	}
	cache_path(v, name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.part%d", path, slot);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = sb_err_from_errno(errno);
		sb_error("plaintext cache %s: %s", tmp, strerror(errno));
		release_volume(v, name, slot, rc);
		return rc;
	}
	rc = fetch_volume(v, s, vol, fd);
	if (!rc && (fstat(fd, &st) < 0 || rename(tmp, path) < 0))
		rc = sb_err_from_errno(errno);
	if (rc) {
		close(fd);
		unlink(tmp);
	} else {
		cache_add(v, name, (uint64_t)st.st_size);
		*out = fd;
	}
	release_volume(v, name, slot, rc);
	return rc;
}

static void *prefetch_main(void *arg)
{
	struct sv_prefetch *p = arg;
	struct sb_snapview *v = p->v;
	int fd = -1;

	if (volume_fd(v, p->set_id, p->vol, &fd) == 0)
		close(fd);
	pthread_mutex_lock(&v->cache_lock);
	p->state = 2;
	pthread_mutex_unlock(&v->cache_lock);
	return NULL;
}

/* Start fetching a volume a read will need next, if a read-ahead slot is free. */
static void prefetch(struct sb_snapview *v, int64_t set_id, unsigned vol)
{
	const struct sb_set *s = sv_set_by_id(v, set_id);
	char name[64];
	int i, slot = -1;

	if (!s || vol > s->nvols)
		return;
	snprintf(name, sizeof(name), "v%lld_%u", (long long)set_id, vol);
	pthread_mutex_lock(&v->cache_lock);
	if (cache_find(v, name) || inflight_find(v, name) >= 0) {
		pthread_mutex_unlock(&v->cache_lock);
		return;
	}
	for (i = 0; i < 2 && slot < 0; i++) {
		if (v->prefetch[i].state == 2) {
			pthread_join(v->prefetch[i].th, NULL);
			v->prefetch[i].state = 0;
		}
		if (v->prefetch[i].state == 0)
			slot = i;
	}
	if (slot >= 0) {
		struct sv_prefetch *p = &v->prefetch[slot];

		p->v = v;
		p->set_id = set_id;
		p->vol = vol;
		p->state = pthread_create(&p->th, NULL, prefetch_main, p) == 0 ? 1 : 0;
	}
	pthread_mutex_unlock(&v->cache_lock);
}

void sv_prefetch_join(struct sb_snapview *v)
{
	int i;

	for (i = 0; i < 2; i++)
		if (v->prefetch[i].state)
			pthread_join(v->prefetch[i].th, NULL);
}

/* ---- one object's data, across chunks and volumes ---- */

struct objreader {
	struct sb_snapview *v;
	int64_t set_id;
	unsigned vol;
	int fd;
	struct sb_tar_reader *tar;
	struct sb_tar_entry e;
	struct sb_buf path, epath;
	const char *prefix;
	bool multivol;
	int done;
	int err;
	uint64_t left; /* object bytes not yet read (snapshots; 0: unknown) */
};

static int or_open_volume(struct objreader *r, unsigned vol, uint64_t off)
{
	int rc;

	sb_tar_reader_free(r->tar);
	r->tar = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if ((rc = volume_fd(r->v, r->set_id, vol, &r->fd)))
		return rc;
	if (lseek(r->fd, (off_t)off, SEEK_SET) < 0)
		return sb_err_from_errno(errno);
	if (r->left) { /* a large file: fetch the volumes it continues into meanwhile */
		struct stat st;

		if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size > off &&
		    r->left > (uint64_t)st.st_size - off) {
			prefetch(r->v, r->set_id, vol + 1);
			if (r->left > 2 * ((uint64_t)st.st_size - off))
				prefetch(r->v, r->set_id, vol + 2);
		}
	}
	r->vol = vol;
	r->tar = sb_tar_reader_new((struct sb_reader){sb_fd_read, &r->fd});
	return r->tar ? 0 : SB_ERR_NOMEM;
}

static int or_next(struct objreader *r, int *got)
{
	long block;
	int rc = sb_tar_reader_next(r->tar, &r->e);

	*got = 0;
	if (rc < 0)
		return rc;
	if (rc == 0)
		return 0;
	if (sb_member_split(&r->e.name, &r->prefix, &r->epath, &block))
		return SB_ERR_CORRUPT;
	*got = 1;
	return 0;
}

static int or_start(struct objreader *r, const struct sv_version *ver)
{
	int rc, got;

	r->set_id = ver->set_id;
	r->left = ver->kind == 's' ? ver->size : 0;
	if ((rc = or_open_volume(r, ver->vol, ver->offset)) || (rc = or_next(r, &got)))
		return rc;
	if (!got || (!strcmp(r->prefix, "deleted"))) {
		sb_error("volume %u of a set: no data at the indexed offset", ver->vol);
		return SB_ERR_CORRUPT;
	}
	r->multivol = !strncmp(r->prefix, "multivol_", 9);
	return sb_buf_set(&r->path, r->epath.data, r->epath.len);
}

static ssize_t or_read(void *ctx, void *buf, size_t n)
{
	struct objreader *r = ctx;
	ssize_t got;
	int rc, more;

	for (;;) {
		if (r->done)
			return 0;
		got = sb_tar_reader_read(r->tar, buf, n);
		if (got > 0 && r->left)
			r->left = r->left > (uint64_t)got ? r->left - (uint64_t)got : 1;
		if (got != 0)
			return got;
		if (!r->multivol) {
			r->done = 1;
			return 0;
		}
		if ((rc = or_next(r, &more)))
			return rc;
		/* the run may go on at the start of the set's next volume */
		if (!more && r->vol < sv_set_by_id(r->v, r->set_id)->nvols) {
			if ((rc = or_open_volume(r, r->vol + 1, 0)) || (rc = or_next(r, &more)))
				return rc;
		}
		if (!more || strncmp(r->prefix, "multivol_", 9) || r->epath.len != r->path.len ||
		    memcmp(r->epath.data, r->path.data, r->path.len)) {
			r->done = 1;
			return 0;
		}
	}
}

static void or_release(struct objreader *r)
{
	sb_tar_reader_free(r->tar);
	if (r->fd >= 0)
		close(r->fd);
	sb_tar_entry_release(&r->e);
	sb_buf_release(&r->path);
	sb_buf_release(&r->epath);
}

/* ---- rebuilding a file version ---- */

static int build(struct sb_snapview *v, int64_t rowid, uint64_t size, const char *name)
{
	struct sv_version *vs = NULL;
	char path[4096], a[4200], b[4200];
	uint64_t len = 0;
	size_t n = 0, i;
	int fd = -1, nfd, rc;

	pthread_mutex_lock(&v->db_lock);
	rc = sv_versions(v, rowid, &vs, &n);
	pthread_mutex_unlock(&v->db_lock);
	if (rc)
		return rc;
	cache_path(v, name, path, sizeof(path));
	snprintf(a, sizeof(a), "%s.a", path);
	snprintf(b, sizeof(b), "%s.b", path);
	for (i = 0; i < n && !rc; i++) {
		struct objreader r = {.v = v, .fd = -1};

		sb_tar_entry_init(&r.e);
		nfd = open(i % 2 ? b : a, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (nfd < 0) {
			rc = sb_err_from_errno(errno);
			sb_error("plaintext cache: %s", strerror(errno));
			or_release(&r);
			break;
		}
		rc = or_start(&r, &vs[i]);
		if (!rc && i == 0)
			rc = copy_to_fd((struct sb_reader){or_read, &r}, nfd);
		else if (!rc)
			rc = sb_patch(fd, (struct sb_reader){or_read, &r},
				      (struct sb_writer){sb_fd_write, &nfd}, &len);
		or_release(&r);
		if (fd >= 0)
			close(fd);
		fd = nfd;
	}
	if (!rc) {
		struct stat st;

		if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
			sb_error("a rebuilt file has %lld bytes, its index says %llu",
				 (long long)st.st_size, (unsigned long long)size);
			rc = SB_ERR_CORRUPT;
		} else if (rename(n % 2 ? a : b, path) < 0) {
			rc = sb_err_from_errno(errno);
		}
	}
	if (fd >= 0)
		close(fd);
	unlink(a);
	unlink(b);
	free(vs);
	if (!rc)
		cache_add(v, name, size);
	return rc;
}

int sv_read(struct sb_snapview *v, int64_t rowid, uint64_t size, void *buf, size_t len,
	    uint64_t off, size_t *got)
{
	char name[64];
	ssize_t n = 0;
	int fd, rc;

	snprintf(name, sizeof(name), "f%lld", (long long)rowid);
	fd = cache_open(v, name);
	if (fd < 0) {
		pthread_mutex_lock(&v->build_lock);
		fd = cache_open(v, name);
		if (fd < 0) {
			rc = build(v, rowid, size, name);
			if (!rc)
				fd = cache_open(v, name);
			if (!rc && fd < 0)
				rc = SB_ERR_IO;
			if (rc) {
				pthread_mutex_unlock(&v->build_lock);
				return rc;
			}
		}
		pthread_mutex_unlock(&v->build_lock);
	}
	*got = 0;
	while (*got < len) {
		n = pread(fd, (char *)buf + *got, len - *got, (off_t)(off + *got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*got += (size_t)n;
	}
	rc = n < 0 ? sb_err_from_errno(errno) : 0;
	close(fd);
	return rc;
}
