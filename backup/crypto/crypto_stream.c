/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto_stream.c - the streaming variant of decrypt (see crypto.h): gpgme runs on a worker thread,
 * joined to the caller by a bounded ring buffer, so memory stays bounded and both sides apply
 * backpressure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gpgme.h>

#include "sealbox/crypto.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "crypto_impl.h"

#define RING_SIZE (256 * 1024) /* bytes buffered per streaming op */

/* ---- streaming: a bounded ring between the caller and the worker ---- */

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;  /* broadcast on every state change */
	unsigned char *buf; /* RING_SIZE bytes; fields below protected by mu */
	size_t head, len;
	bool eof;     /* producer finished */
	bool closed;  /* consumer or operation gone: producer fails */
	bool aborted; /* caller gave up: both sides fail */
	bool discard; /* drain: puts are dropped */
	bool done;    /* worker finished; verdict valid */
	int verdict;
};

static int ring_init(struct ring *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(RING_SIZE);
	if (!r->buf)
		return SB_ERR_NOMEM;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	return 0;
}

static void ring_release(struct ring *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r->buf);
}

/* sb_write_fn: blocks while full. */
static int ring_put(void *ctx, const void *p, size_t n)
{
	struct ring *r = ctx;
	const unsigned char *s = p;
	int rc = 0;

	pthread_mutex_lock(&r->mu);
	while (n) {
		size_t tail, k;

		while (r->len == RING_SIZE && !r->closed && !r->aborted && !r->discard)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->aborted) {
			rc = SB_ERR_INTERRUPTED;
			break;
		}
		if (r->discard)
			break;
		if (r->closed) {
			rc = r->done && r->verdict ? r->verdict : SB_ERR_INTERNAL;
			break;
		}
		tail = (r->head + r->len) % RING_SIZE;
		k = RING_SIZE - r->len; /* free space, contiguous up to the end */
		if (k > RING_SIZE - tail)
			k = RING_SIZE - tail;
		if (k > n)
			k = n;
		memcpy(r->buf + tail, s, k);
		r->len += k;
		s += k;
		n -= k;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* sb_read_fn: blocks while empty; 0 at eof, the verdict if the op failed. */
static ssize_t ring_get(void *ctx, void *p, size_t n)
{
	struct ring *r = ctx;
	ssize_t rc;
	size_t k;

	pthread_mutex_lock(&r->mu);
	while (r->len == 0 && !r->eof && !r->aborted)
		pthread_cond_wait(&r->cv, &r->mu);
	if (r->aborted) {
		rc = SB_ERR_INTERRUPTED;
	} else if (r->len == 0) {
		rc = r->done ? r->verdict : 0;
	} else {
		k = RING_SIZE - r->head;
		if (k > r->len)
			k = r->len;
		if (k > n)
			k = n;
		memcpy(p, r->buf + r->head, k);
		r->head = (r->head + k) % RING_SIZE;
		r->len -= k;
		rc = (ssize_t)k;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static void ring_finish(struct ring *r, int verdict)
{
	pthread_mutex_lock(&r->mu);
	r->verdict = verdict;
	r->done = true;
	r->eof = true;
	r->closed = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Wait for a stream's worker; its verdict, after releasing op and ring. */
static int join_worker(pthread_t thread, struct op *op, struct ring *ring)
{
	int rc;

	pthread_join(thread, NULL);
	rc = ring->verdict;
	crypto_op_release(op);
	ring_release(ring);
	return rc;
}

/* join_worker's twin: once the operation is prepared (rc), run fn(arg) on
 * *thread; on any failure op and ring are released (the caller frees its own
 * struct). */
static int start_worker(int rc, pthread_t *thread, void *(*fn)(void *), void *arg, struct op *op,
			struct ring *ring)
{
	if (!rc && (rc = pthread_create(thread, NULL, fn, arg))) {
		sb_error("cannot start a thread for %s: %s", op->what, strerror(rc));
		rc = SB_ERR_NOMEM;
	}
	if (rc) {
		crypto_op_release(op);
		ring_release(ring);
	}
	return rc;
}

struct sb_crypto_dec {
	struct op op;
	struct ring ring; /* worker's plaintext -> caller */
	pthread_t thread;
};

static void *dec_worker(void *arg)
{
	struct sb_crypto_dec *s = arg;

	ring_finish(&s->ring, crypto_dec_run(&s->op));
	return NULL;
}

int sb_crypto_decrypt_start(struct sb_crypto *c, const char *signer_fpr, struct sb_reader in,
			    const char *what, struct sb_crypto_dec **sp)
{
	struct sb_crypto_dec *s;
	int rc;

	*sp = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ERR_NOMEM;
	rc = ring_init(&s->ring);
	if (rc) {
		free(s);
		return rc;
	}
	rc = crypto_dec_prepare(&s->op, c, signer_fpr, what);
	s->op.io.in = in;
	s->op.io.out = (struct sb_writer){ring_put, &s->ring};
	rc = start_worker(rc, &s->thread, dec_worker, s, &s->op, &s->ring);
	if (rc) {
		free(s);
		return rc;
	}
	*sp = s;
	return 0;
}

ssize_t sb_crypto_dec_read(void *sv, void *buf, size_t n)
{
	struct sb_crypto_dec *s = sv;

	return ring_get(&s->ring, buf, n);
}

static int dec_end(struct sb_crypto_dec *s, bool abort)
{
	int rc;

	pthread_mutex_lock(&s->ring.mu);
	if (abort)
		s->ring.aborted = true;
	s->ring.discard = true;
	s->ring.len = 0;
	pthread_cond_broadcast(&s->ring.cv);
	pthread_mutex_unlock(&s->ring.mu);
	if (abort)
		crypto_op_cancel(&s->op);
	rc = join_worker(s->thread, &s->op, &s->ring);
	free(s);
	return rc;
}

int sb_crypto_decrypt_finish(struct sb_crypto_dec *s) { return dec_end(s, false); }

void sb_crypto_decrypt_abort(struct sb_crypto_dec *s)
{
	if (s)
		dec_end(s, true);
}
