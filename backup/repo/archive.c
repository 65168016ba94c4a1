/* SPDX-License-Identifier: GPL-2.0-or-later */
/* archive.c - the local archive dir (see archive.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sealbox/archive.h"
#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/gunzip.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"

int sb_archive_default_dir(const char *url, char *out, size_t size)
{
	const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	unsigned char digest[32];
	char hex[65];
	struct sb_hash h;
	int n;

	if (sb_hash_init(&h, SB_HASH_ALG_SHA256))
		return SB_ERR_NOMEM;
	sb_hash_update(&h, url, strlen(url));
	sb_hash_final(&h, digest);
	sb_hex(digest, 16, hex);
	if (base && *base)
		n = snprintf(out, size, "%s/sealbox/%s", base, hex);
	else if (home && *home)
		n = snprintf(out, size, "%s/.cache/sealbox/%s", home, hex);
	else {
		sb_error("cannot find a place for the archive dir: set HOME or --archive-dir");
		return SB_ERR_PARAM;
	}
	return n < 0 || (size_t)n >= size ? SB_ERR_PARAM : 0;
}

int sb_archive_name(const struct sb_set *s, enum sb_file_kind kind, char *out, size_t size)
{
	struct sb_name n = {.kind = kind,
			    .full = s->full,
			    .t0 = s->t0,
			    .t1 = s->t1,
			    .gzipped = kind == SB_KIND_SIG};

	return sb_name_format(&n, out, size) < 0 ? SB_ERR_PARAM : 0;
}

/* One remote file of set s, proven by the gate, into a local one. */
static int fetch(const char *dir, struct sb_gate *g, const struct sb_set *s, const char *remote,
		 const char *local, bool gzip)
{
	struct sb_gzwriter *gz = NULL;
	struct sb_writer out;
	char path[4096], tmp[4200];
	int fd = -1, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, local);
	snprintf(tmp, sizeof(tmp), "%s/%s%s", dir, SB_TMP_PREFIX, local);
	if (gzip) {
		if ((rc = sb_gzwriter_open(tmp, &gz)))
			return rc;
		out = (struct sb_writer){sb_gzwriter_write, gz};
	} else {
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			sb_error("cannot create %s: %s", tmp, strerror(errno));
			return sb_err_from_errno(errno);
		}
		out = (struct sb_writer){sb_fd_write, &fd};
	}
	/* renamed into place only once the signature checked out */
	rc = sb_gate_fetch(g, s, remote, NULL, gzip ? SB_GATE_MAX_META : SB_GATE_MAX_MANIFEST, out);
	if (sb_gzwriter_close(gz) && !rc)
		rc = SB_ERR_IO;
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = SB_ERR_IO;
	if (!rc && rename(tmp, path) < 0)
		rc = sb_err_from_errno(errno);
	if (rc)
		unlink(tmp);
	return rc;
}

int sb_archive_sync_chain(const char *dir, struct sb_gate *g, const struct sb_chain *ch,
			  struct sb_crypto *crypto, const char *enc_fpr)
{
	char name[256], path[4096];
	bool checked = false;
	size_t i;
	int k, rc;

	rc = sb_mkdirs(dir, 0700);
	if (rc)
		return rc;
	for (i = 0; i < ch->nsets; i++) {
		const struct sb_set *s = &ch->sets[i];

		for (k = 0; k < 2; k++) {
			enum sb_file_kind kind = k ? SB_KIND_SIG : SB_KIND_MANIFEST;
			const char *remote = k ? s->sig : s->manifest;

			if (sb_archive_name(s, kind, name, sizeof(name)))
				return SB_ERR_INTERNAL;
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if (access(path, R_OK) == 0)
				continue;
			if (!remote) {
				sb_error("set %s has no signature file on the target", name);
				return SB_ERR_CORRUPT;
			}
			if (!checked) {
				/* Without the secret key, say so without gpg's noise. */
				if (!crypto || (enc_fpr && sb_crypto_have_secret(crypto, enc_fpr)))
					return SB_ERR_NOSECRET;
				/* what is read from the target is the whole chain, proven */
				if ((rc = sb_gate_prove(g, ch, ch->nsets)))
					return rc;
				checked = true;
			}
			sb_info("fetching %s into the archive dir", remote);
			rc = fetch(dir, g, s, remote, name, k == 1);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int sb_archive_read_manifest(const char *dir, const struct sb_set *s, struct sb_buf *out)
{
	char name[256], path[4096], buf[65536];
	ssize_t n;
	int fd, rc = 0;

	if (sb_archive_name(s, SB_KIND_MANIFEST, name, sizeof(name)))
		return SB_ERR_INTERNAL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sb_error("archive dir: cannot open %s: %s", path, strerror(errno));
		return sb_err_from_errno(errno);
	}
	while ((n = sb_fd_read(&fd, buf, sizeof(buf))) > 0)
		if ((rc = sb_buf_add(out, buf, (size_t)n)))
			break;
	if (n < 0)
		rc = (int)n;
	close(fd);
	return rc;
}

/* Read-ahead: NBUF buffers of BUFSZ inflated by a second thread. */
#define GZ_NBUF 4
#define GZ_BUFSZ (256 * 1024)

struct sb_gzreader {
	int fd;
	struct sb_gunzip *gz; /* over fd: says a corrupt or cut file, naming path */
	char *path;
	/* read-ahead (sb_gzreader_open_ahead), else unused */
	bool ahead;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf[GZ_NBUF];
	size_t len[GZ_NBUF];
	unsigned head, count; /* the oldest full buffer, how many are full */
	size_t pos;	      /* read of the oldest */
	bool eof, stop;
	int err; /* the inflater's failure (said by sb_gunzip_read), for the reader */
};

int sb_gzreader_open(const char *path, struct sb_gzreader **out)
{
	struct sb_gzreader *g = calloc(1, sizeof(*g));
	int e;

	if (!g || !(g->path = strdup(path))) {
		free(g);
		return SB_ERR_NOMEM;
	}
	g->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->fd < 0) {
		e = errno;
		sb_error("cannot open %s: %s", path, strerror(e));
		free(g->path);
		free(g);
		return SB_ERR_IO;
	}
	g->gz = sb_gunzip_new((struct sb_reader){sb_fd_read, &g->fd}, path);
	if (!g->gz) {
		close(g->fd);
		free(g->path);
		free(g);
		return SB_ERR_NOMEM;
	}
	*out = g;
	return 0;
}

static void *gz_inflater(void *arg)
{
	struct sb_gzreader *g = arg;
	unsigned slot;
	ssize_t n;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (g->count == GZ_NBUF && !g->stop)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->stop)
			break;
		slot = (g->head + g->count) % GZ_NBUF;
		pthread_mutex_unlock(&g->mu);
		/* the slot is not the reader's until it is counted */
		n = sb_gunzip_read(g->gz, g->buf[slot], GZ_BUFSZ);
		pthread_mutex_lock(&g->mu);
		if (n > 0) {
			g->len[slot] = (size_t)n;
			g->count++;
		} else {
			g->err = (int)n;
			g->eof = true;
		}
		pthread_cond_broadcast(&g->cv);
		if (n <= 0)
			break;
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int sb_gzreader_open_ahead(const char *path, struct sb_gzreader **out)
{
	struct sb_gzreader *g;
	int rc = sb_gzreader_open(path, out), i;

	if (rc)
		return rc;
	g = *out;
	for (i = 0; i < GZ_NBUF; i++)
		if (!(g->buf[i] = malloc(GZ_BUFSZ)))
			return 0; /* no read-ahead: the plain reader */
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (pthread_create(&g->th, NULL, gz_inflater, g)) {
		pthread_mutex_destroy(&g->mu);
		pthread_cond_destroy(&g->cv);
		return 0;
	}
	g->ahead = true;
	return 0;
}

static ssize_t gz_read_ahead(struct sb_gzreader *g, void *buf, size_t n)
{
	size_t m;

	pthread_mutex_lock(&g->mu);
	while (!g->count && !g->eof)
		pthread_cond_wait(&g->cv, &g->mu);
	if (!g->count) {
		pthread_mutex_unlock(&g->mu);
		return g->err; /* 0 at the end */
	}
	pthread_mutex_unlock(&g->mu);
	/* the oldest full buffer is the reader's until it is given back */
	m = g->len[g->head] - g->pos;
	if (m > n)
		m = n;
	memcpy(buf, g->buf[g->head] + g->pos, m);
	g->pos += m;
	if (g->pos == g->len[g->head]) {
		pthread_mutex_lock(&g->mu);
		g->head = (g->head + 1) % GZ_NBUF;
		g->count--;
		g->pos = 0;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
	return (ssize_t)m;
}

ssize_t sb_gzreader_read(void *ctx, void *buf, size_t n)
{
	struct sb_gzreader *g = ctx;

	return g->ahead ? gz_read_ahead(g, buf, n) : sb_gunzip_read(g->gz, buf, n);
}

void sb_gzreader_close(struct sb_gzreader *g)
{
	int i;

	if (!g)
		return;
	if (g->ahead) {
		pthread_mutex_lock(&g->mu);
		g->stop = true;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->th, NULL);
		pthread_mutex_destroy(&g->mu);
		pthread_cond_destroy(&g->cv);
	}
	for (i = 0; i < GZ_NBUF; i++)
		free(g->buf[i]);
	sb_gunzip_free(g->gz);
	close(g->fd);
	free(g->path);
	free(g);
}

struct sb_gzwriter {
	gzFile gz;
	int fd; /* gz's, for marks and syncs */
	char *path;
	bool failed; /* a write failed (and said so) */
};

int sb_gzwriter_open_at(const char *path, uint64_t off, struct sb_gzwriter **out)
{
	struct sb_gzwriter *g = calloc(1, sizeof(*g));
	int fd, e = 0;

	*out = NULL;
	if (!g || !(g->path = strdup(path))) {
		free(g);
		return SB_ERR_NOMEM;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)off) < 0 || lseek(fd, 0, SEEK_END) < 0)
		e = errno;
	if (e || !(g->gz = gzdopen(fd, "ab1"))) {
		int rc = e ? sb_err_from_errno(e) : SB_ERR_NOMEM;

		sb_error("cannot %s %s: %s", off ? "reopen" : "create", path,
			 e ? strerror(e) : "out of memory");
		if (fd >= 0)
			close(fd);
		free(g->path);
		free(g);
		return rc;
	}
	g->fd = fd;
	*out = g;
	return 0;
}

/* A zlib failure: the errno of the write that failed (ENOSPC), else I/O. */
static int gz_fail(struct sb_gzwriter *g, int e)
{
	int zerr = Z_OK;

	gzerror(g->gz, &zerr);
	if (zerr != Z_ERRNO || !e)
		e = EIO;
	g->failed = true;
	sb_error("cannot write %s: %s", g->path, strerror(e));
	return sb_err_from_errno(e);
}

int sb_gzwriter_open(const char *path, struct sb_gzwriter **out)
{
	return sb_gzwriter_open_at(path, 0, out);
}

int sb_gzwriter_mark(struct sb_gzwriter *g, uint64_t *off)
{
	off_t pos;

	if (g->failed)
		return SB_ERR_IO; /* said at the write */
	errno = 0;
	if (gzflush(g->gz, Z_FINISH) != Z_OK)
		return gz_fail(g, errno);
	if ((pos = lseek(g->fd, 0, SEEK_CUR)) < 0) {
		sb_error("cannot write %s", g->path);
		return SB_ERR_IO;
	}
	*off = (uint64_t)pos;
	return 0;
}

int sb_gzwriter_sync(struct sb_gzwriter *g)
{
	if (fdatasync(g->fd) < 0) {
		int e = errno;

		sb_error("cannot write %s: %s", g->path, strerror(e));
		return sb_err_from_errno(e);
	}
	return 0;
}

int sb_gzwriter_write(void *ctx, const void *p, size_t n)
{
	struct sb_gzwriter *g = ctx;

	errno = 0;
	if (n && gzwrite(g->gz, p, (unsigned)n) != (int)n)
		return gz_fail(g, errno);
	return 0;
}

int sb_gzwriter_close(struct sb_gzwriter *g)
{
	int rc = 0;

	if (!g)
		return 0;
	/* on the disk before it counts: a full disk may only say so at fsync */
	errno = 0;
	if (g->failed)
		rc = SB_ERR_IO; /* said at the write */
	else if (gzflush(g->gz, Z_FINISH) != Z_OK)
		rc = gz_fail(g, errno);
	else if (fsync(g->fd) < 0) {
		int e = errno;

		sb_error("cannot write %s: %s", g->path, strerror(e));
		rc = sb_err_from_errno(e);
	}
	if (gzclose(g->gz) != Z_OK && !rc) {
		sb_error("cannot write %s", g->path);
		rc = SB_ERR_IO;
	}
	free(g->path);
	free(g);
	return rc;
}

void sb_archive_remove_tmp(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, SB_TMP_PREFIX, strlen(SB_TMP_PREFIX)))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			sb_info("removed %s/%s, left by an interrupted run", dir,
				sb_log_str(de->d_name, strlen(de->d_name)));
		else if (errno != ENOENT)
			sb_warn("cannot remove %s/%s: %s", dir,
				sb_log_str(de->d_name, strlen(de->d_name)), strerror(errno));
	}
	closedir(d);
}
