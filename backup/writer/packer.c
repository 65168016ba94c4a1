/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packer.c - volumes: spool, cut, encrypt in parallel, upload (see packer.h).
 * It does not decide what goes into the set; the writer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/packer.h"
#include "sealbox/progress.h"
#include "sealbox/testpoint.h"

#define SPOOL_BUF (1u << 20)
#define MAX_HEADER 4096 /* generous bound of a member's header blocks */

struct vol {
	unsigned num;
	int fd; /* plaintext spool, -1 once shipped */
	uint64_t size;
	struct sb_buf start, end;
	long start_block, end_block;
	unsigned char sha1[20];
	unsigned char sha256[32]; /* of the ciphertext, for the seal */
	uint64_t stored;	  /* ciphertext bytes */
	int done;		  /* uploaded */
	struct vol *next;	  /* queue link */
};

struct sb_packer {
	struct sb_packer_opts o;
	/* producer side */
	struct vol *cur;
	unsigned char *wbuf;
	size_t wlen;
	struct sb_tar_writer tw;
	/* shared, protected by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vol *qhead, *qtail;
	unsigned busy; /* volumes queued or being encrypted */
	int stop;
	int err;	   /* first worker failure */
	struct vol **vols; /* every volume by number - 1 */
	unsigned nvols;
	uint64_t uploaded;
	uint64_t shipped; /* plaintext given to gpg (atomic), for the progress line */
	pthread_t *threads;
	unsigned nthreads;
};

/* One attempt at a volume's upload: encrypt the spooled plaintext into out,
 * hashing what is stored. Run again from the start when the upload is. */
struct ship {
	struct sb_packer *p;
	struct vol *v;
	unsigned flags; /* sb_crypto_encrypt's */
	const char *name;
	struct sb_writer out;
	struct sb_hash sha1, sha256;
	uint64_t bytes;
	uint64_t plain; /* plaintext read by this attempt */
};

/* The spooled plaintext, counted into the packer's shipped bytes. */
static ssize_t ship_read(void *ctx, void *buf, size_t n)
{
	struct ship *t = ctx;
	ssize_t got = sb_fd_read(&t->v->fd, buf, n);

	if (got > 0) {
		t->plain += (uint64_t)got;
		__atomic_add_fetch(&t->p->shipped, (uint64_t)got, __ATOMIC_RELAXED);
	}
	return got;
}

static int tee_write(void *ctx, const void *p, size_t n)
{
	struct ship *t = ctx;

	sb_hash_update(&t->sha1, p, n);
	sb_hash_update(&t->sha256, p, n);
	t->bytes += n;
	return t->out.write(t->out.ctx, p, n);
}

static int ship_fill(void *ctx, struct sb_writer out)
{
	struct ship *t = ctx;
	struct vol *v = t->v;
	struct sb_reader in = {ship_read, t};
	int rc;

	if (lseek(v->fd, 0, SEEK_SET) < 0)
		return sb_err_from_errno(errno);
	/* an upload tried again reads the volume again */
	__atomic_sub_fetch(&t->p->shipped, t->plain, __ATOMIC_RELAXED);
	t->plain = 0;
	t->out = out;
	t->bytes = 0;
	if ((rc = sb_hash_init(&t->sha1, SB_HASH_ALG_SHA1)))
		return rc;
	if ((rc = sb_hash_init(&t->sha256, SB_HASH_ALG_SHA256))) {
		sb_hash_release(&t->sha1);
		return rc;
	}
	rc = sb_crypto_encrypt(t->p->o.crypto, t->p->o.enc_fpr, t->p->o.sign_fpr, t->flags, in,
			       (struct sb_writer){tee_write, t}, t->name);
	if (rc) {
		sb_hash_release(&t->sha1);
		sb_hash_release(&t->sha256);
		return rc;
	}
	sb_hash_final(&t->sha1, v->sha1);
	sb_hash_final(&t->sha256, v->sha256);
	v->stored = t->bytes;
	return 0;
}

/* Does the volume's data compress? Sample up to 8 blocks spread over it. */
static unsigned compress_flags(int fd, uint64_t size)
{
	static const size_t blk = 65536;
	unsigned char in[65536], out[65536 + 1024];
	uint64_t in_total = 0, out_total = 0, step;
	unsigned i;

	if (size < blk)
		return 0;
	step = size / 8;
	for (i = 0; i < 8; i++) {
		ssize_t n = pread(fd, in, blk, (off_t)(i * step));
		uLongf olen = sizeof(out);

		if (n <= 0)
			break;
		if (compress2(out, &olen, in, (uLong)n, 1) != Z_OK)
			return 0;
		in_total += (uint64_t)n;
		out_total += olen;
	}
	return in_total && out_total * 100 > in_total * 92 ? SB_CRYPTO_NO_COMPRESS : 0;
}

static int ship(struct sb_packer *p, struct vol *v)
{
	struct sb_name n = p->o.set;
	char name[256];
	struct ship t = {.p = p, .v = v, .name = name};
	int rc;

	n.kind = SB_KIND_VOL;
	n.vol = v->num;
	if (sb_name_format(&n, name, sizeof(name)) < 0)
		return SB_ERR_INTERNAL;
	t.flags = compress_flags(v->fd, v->size);
	sb_testpoint("vol-upload", v->num);
	rc = sb_transport_put(p->o.target, name, ship_fill, &t);
	if (rc)
		return rc;
	pthread_mutex_lock(&p->mu);
	p->uploaded += v->stored;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static void vol_info(const struct vol *v, struct sb_packer_vol *out)
{
	*out = (struct sb_packer_vol){.num = v->num,
				      .start = v->start.data,
				      .start_len = v->start.len,
				      .start_block = v->start_block,
				      .end = v->end.data,
				      .end_len = v->end.len,
				      .end_block = v->end_block,
				      .stored = v->stored};
	memcpy(out->sha1, v->sha1, sizeof(out->sha1));
	memcpy(out->sha256, v->sha256, sizeof(out->sha256));
}

/* With mu held: tell the hook that v is on the target. */
static void tell_durable(struct sb_packer *p, struct vol *v)
{
	struct sb_packer_vol pv;
	int rc;

	if (!p->o.hooks.durable || p->err)
		return;
	vol_info(v, &pv);
	if ((rc = p->o.hooks.durable(p->o.hooks.ctx, &pv)))
		p->err = rc;
}

static void *worker(void *arg)
{
	struct sb_packer *p = arg;
	struct vol *v;
	int rc;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->qhead && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->qhead)
			break;
		v = p->qhead;
		p->qhead = v->next;
		if (!p->qhead)
			p->qtail = NULL;
		pthread_mutex_unlock(&p->mu);
		rc = p->err ? SB_ERR_INTERRUPTED : ship(p, v);
		close(v->fd);
		v->fd = -1;
		pthread_mutex_lock(&p->mu);
		if (rc && !p->err)
			p->err = rc;
		v->done = !rc;
		if (!rc)
			tell_durable(p, v);
		p->busy--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int spool_flush(struct sb_packer *p)
{
	int rc;

	if (!p->wlen)
		return 0;
	rc = sb_fd_write(&p->cur->fd, p->wbuf, p->wlen); /* names the folder on failure */
	p->wlen = 0;
	return rc;
}

static int spool_write(void *ctx, const void *data, size_t n)
{
	struct sb_packer *p = ctx;
	const unsigned char *c = data;
	size_t k;
	int rc;

	while (n) {
		if (p->wlen == SPOOL_BUF && (rc = spool_flush(p)))
			return rc;
		k = SPOOL_BUF - p->wlen;
		if (k > n)
			k = n;
		memcpy(p->wbuf + p->wlen, c, k);
		p->wlen += k;
		c += k;
		n -= k;
	}
	return 0;
}

static int start_volume(struct sb_packer *p)
{
	const char *dir = p->o.tmpdir ? p->o.tmpdir : getenv("TMPDIR");
	struct vol *v, **vols;

	if (!dir || !*dir)
		dir = "/tmp";
	v = calloc(1, sizeof(*v));
	vols = realloc(p->vols, (p->nvols + 1) * sizeof(*vols));
	if (!v || !vols) {
		free(v);
		if (vols)
			p->vols = vols;
		return SB_ERR_NOMEM;
	}
	p->vols = vols;
	v->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (v->fd < 0) {
		int e = errno;
		sb_error("cannot create a temporary volume file in %s: %s", dir, strerror(e));
		free(v);
		return sb_err_from_errno(e);
	}
	v->num = p->nvols + 1;
	v->start_block = v->end_block = -1;
	p->vols[p->nvols++] = v;
	p->cur = v;
	sb_tar_writer_init(&p->tw, (struct sb_writer){spool_write, p});
	return 0;
}

/* Close the current volume and queue it; waits while the pool is full. */
static int cut_volume(struct sb_packer *p)
{
	struct vol *v = p->cur;
	int rc;

	rc = sb_tar_write_end(&p->tw);
	if (!rc)
		rc = spool_flush(p);
	if (rc)
		return rc;
	v->size = p->tw.offset;
	p->cur = NULL;
	if (p->o.hooks.cut) {
		struct sb_packer_vol pv;

		vol_info(v, &pv);
		if ((rc = p->o.hooks.cut(p->o.hooks.ctx, &pv)))
			return rc;
	}
	pthread_mutex_lock(&p->mu);
	while (p->busy > p->nthreads && !p->err)
		pthread_cond_wait(&p->cv, &p->mu);
	rc = p->err;
	if (!rc) {
		if (p->qtail)
			p->qtail->next = v;
		else
			p->qhead = v;
		p->qtail = v;
		p->busy++;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int sb_packer_new(const struct sb_packer_opts *o, struct sb_packer **out)
{
	struct sb_packer *p = calloc(1, sizeof(*p));
	unsigned i;

	if (!p)
		return SB_ERR_NOMEM;
	p->o = *o;
	if (!p->o.workers)
		p->o.workers = 2;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->wbuf = malloc(SPOOL_BUF);
	p->threads = calloc(p->o.workers, sizeof(*p->threads));
	if (!p->wbuf || !p->threads) {
		sb_packer_free(p);
		return SB_ERR_NOMEM;
	}
	for (i = 0; i < p->o.workers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
			sb_packer_free(p);
			return SB_ERR_NOMEM;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
}

int sb_packer_resume(struct sb_packer *p, const struct sb_packer_vol *vols, unsigned n)
{
	struct vol **all;
	unsigned i;

	if (p->nvols || p->cur)
		return SB_ERR_INTERNAL;
	if (!n)
		return 0;
	if (!(all = calloc(n, sizeof(*all))))
		return SB_ERR_NOMEM;
	p->vols = all;
	for (i = 0; i < n; i++) {
		struct vol *v = calloc(1, sizeof(*v));

		if (!v)
			return SB_ERR_NOMEM;
		p->vols[p->nvols++] = v;
		v->fd = -1;
		v->num = vols[i].num;
		if (v->num != i + 1 || sb_buf_set(&v->start, vols[i].start, vols[i].start_len) ||
		    sb_buf_set(&v->end, vols[i].end, vols[i].end_len))
			return v->num != i + 1 ? SB_ERR_INTERNAL : SB_ERR_NOMEM;
		v->start_block = vols[i].start_block;
		v->end_block = vols[i].end_block;
		v->stored = vols[i].stored;
		memcpy(v->sha1, vols[i].sha1, sizeof(v->sha1));
		memcpy(v->sha256, vols[i].sha256, sizeof(v->sha256));
		v->done = 1;
	}
	return 0;
}

int sb_packer_add(struct sb_packer *p, const struct sb_tar_entry *e, const char *path, size_t plen,
		  long block, const void *data, unsigned *vol, uint64_t *offset)
{
	int rc;

	if (p->cur && p->cur->start.data &&
	    p->tw.offset + MAX_HEADER + e->size + 2 * SB_TAR_BLOCK > p->o.volsize) {
		rc = cut_volume(p);
		if (rc)
			return rc;
	}
	if (!p->cur && (rc = start_volume(p)))
		return rc;
	if (!p->cur->start.data) {
		if (sb_buf_set(&p->cur->start, path, plen))
			return SB_ERR_NOMEM;
		p->cur->start_block = block;
	}
	if (sb_buf_set(&p->cur->end, path, plen))
		return SB_ERR_NOMEM;
	p->cur->end_block = block;
	if (vol)
		*vol = p->cur->num;
	if (offset)
		*offset = p->tw.offset;
	rc = sb_tar_write_header(&p->tw, e);
	if (!rc && e->size) {
		rc = sb_tar_write_data(&p->tw, data, (size_t)e->size);
		if (!rc)
			rc = sb_tar_write_pad(&p->tw);
	}
	return rc;
}

/*
 * Wait, with mu held, until every volume is uploaded: the progress line's
 * last phase, the plaintext of the volumes not yet encrypted and uploaded.
 */
static void wait_uploads(struct sb_packer *p)
{
	uint64_t total = 0, base = __atomic_load_n(&p->shipped, __ATOMIC_RELAXED);
	long step = (long)(sb_progress_poll(0.25) * 1e9);
	struct timespec ts;
	unsigned i;

	for (i = 0; i < p->nvols; i++)
		total += p->vols[i]->size;
	sb_progress_phase("encrypting and uploading", 0, total > base ? total - base : 0);
	while (p->busy) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += step;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		sb_progress_update(0, __atomic_load_n(&p->shipped, __ATOMIC_RELAXED) - base, NULL,
				   0);
	}
}

int sb_packer_finish(struct sb_packer *p, struct sb_manifest *m)
{
	unsigned i;
	int rc = 0;

	if (!p->cur && !p->nvols)
		rc = start_volume(p);
	if (!rc && p->cur)
		rc = cut_volume(p);
	pthread_mutex_lock(&p->mu);
	wait_uploads(p);
	if (!rc)
		rc = p->err;
	pthread_mutex_unlock(&p->mu);
	for (i = 0; !rc && i < p->nvols; i++) {
		struct vol *v = p->vols[i];
		struct sb_manifest_vol *mv = sb_manifest_add_vol(m, v->num);

		if (!mv || sb_buf_set(&mv->start, v->start.data, v->start.len) ||
		    sb_buf_set(&mv->end, v->end.data, v->end.len)) {
			rc = SB_ERR_NOMEM;
			break;
		}
		mv->start_block = v->start_block;
		mv->end_block = v->end_block;
		mv->hash_type = SB_HASH_SHA1;
		memcpy(mv->hash, v->sha1, 20);
	}
	return rc;
}

uint64_t sb_packer_uploaded(const struct sb_packer *p) { return p->uploaded; }

int sb_packer_seal_files(const struct sb_packer *p, struct sb_seal *s)
{
	struct sb_name n = p->o.set;
	char name[256];
	unsigned i;
	int rc;

	n.kind = SB_KIND_VOL;
	for (i = 0; i < p->nvols; i++) {
		if (!p->vols[i]->done)
			return SB_ERR_INTERNAL;
		n.vol = p->vols[i]->num;
		if (sb_name_format(&n, name, sizeof(name)) < 0)
			return SB_ERR_INTERNAL;
		if ((rc = sb_seal_add_file(s, name, p->vols[i]->stored, p->vols[i]->sha256)))
			return rc;
	}
	return 0;
}

void sb_packer_free(struct sb_packer *p)
{
	unsigned i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	if (!p->err)
		p->err = SB_ERR_INTERRUPTED;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (i = 0; i < p->nvols; i++) {
		struct vol *v = p->vols[i];

		if (v->fd >= 0)
			close(v->fd);
		sb_buf_release(&v->start);
		sb_buf_release(&v->end);
		free(v);
	}
	free(p->vols);
	free(p->threads);
	free(p->wbuf);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
