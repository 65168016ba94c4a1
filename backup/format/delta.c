/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * delta.c - librsync signatures, deltas and patches over sb_reader/sb_writer
 * streams, with duplicity's parameters (duplicity-format.md §4.4, §5).
 *
 * Every job goes through librsync's rs_job_iter() with fixed buffers of
 * DELTA_BUF bytes; input handed to *_update() is fed in slices of exactly
 * DELTA_BUF (bar the last), so librsync's internal scoop stays bounded too. The only memory
 * proportional to the data is a loaded signature. sb_delta_size() does not
 * use librsync: it walks the command stream itself.
 *
 * Not here: choosing which files get deltas, tar framing, multivol splitting.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librsync.h>

#include "sealbox/buf.h"
#include "sealbox/delta.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

#define DELTA_BUF (64 * 1024)	      /* I/O slice for every job */
#define SIG_STRONG_LEN 8	      /* duplicity 0.8.22's truncated MD4 */
#define SIG_HEADER_LEN 12	      /* magic, block_len, strong_len */
#define SIG_LOAD_MAX_BLOCK (1u << 24) /* librsync scoops a block at a time */
#define DELTA_MAGIC 0x72730236u	      /* rs\x026 */
#define DELTA_MAX_CMD 17	      /* opcode + 8-byte offset + 8-byte length */

/*
 * A generating job (signature or delta). librsync flushes pending literals
 * whenever its input runs dry, so input is always handed over in whole
 * DELTA_BUF slices: the output then does not depend on how callers chop it.
 */
struct gen_job {
	rs_job_t *job;
	int state;   /* 0 running, 1 finished, < 0 failed (sb_err) */
	size_t ilen; /* bytes waiting in in[] */
	unsigned char in[DELTA_BUF];
	unsigned char out[DELTA_BUF];
};

struct sb_sig_gen {
	struct gen_job g;
};

struct sb_sig {
	rs_signature_t *rs; /* owned, hash table built */
};

struct sb_delta_gen {
	struct gen_job g;
};

/* ---- librsync boundary ---- */

static void delta_rs_trace(rs_loglevel level, char const *msg)
{
	size_t n = strlen(msg);

	/* librsync's own view; our caller logs the failure once, at ERR. */
	while (n && msg[n - 1] == '\n')
		n--;
	sb_log(SB_LOG_DEBUG, "%.*s", (int)n, msg);
}

static void delta_rs_init_once(void)
{
	rs_trace_to(delta_rs_trace);
	rs_trace_set_level(RS_LOG_WARNING);
}

static void delta_rs_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, delta_rs_init_once);
}

/* The one translation of rs_result into sb_err; logs the failure. */
static int delta_rs_err(rs_result r, const char *what)
{
	int err;

	switch (r) {
	case RS_DONE: return 0;
	case RS_MEM_ERROR: err = SB_ERR_NOMEM; break;
	case RS_IO_ERROR: err = SB_ERR_IO; break;
	case RS_INPUT_ENDED:
	case RS_BAD_MAGIC:
	case RS_CORRUPT: err = SB_ERR_CORRUPT; break;
	case RS_SYNTAX_ERROR:
	case RS_PARAM_ERROR: err = SB_ERR_PARAM; break;
	default: /* RS_BLOCKED, RS_RUNNING, RS_INTERNAL_ERROR, RS_UNIMPLEMENTED */
		err = SB_ERR_INTERNAL;
		break;
	}
	sb_error("%s: librsync: %s", what, rs_strerror(r));
	return err;
}

/*
 * Run job over the input in b until it wants more input (0), is done (1) or
 * fails (< 0, logged). Output goes to out as produced; *written (optional)
 * counts it. cb_err (optional) is where a callback left an error it logged.
 */
static int delta_job_run(rs_job_t *job, rs_buffers_t *b, unsigned char *obuf, struct sb_writer *out,
			 uint64_t *written, const int *cb_err, const char *what)
{
	rs_result r;
	size_t made, in0;
	int rc;

	for (;;) {
		in0 = b->avail_in;
		b->next_out = (char *)obuf;
		b->avail_out = DELTA_BUF;
		r = rs_job_iter(job, b);
		if (r != RS_DONE && r != RS_BLOCKED)
			return cb_err && *cb_err ? *cb_err : delta_rs_err(r, what);
		made = DELTA_BUF - b->avail_out;
		if (made && (rc = out->write(out->ctx, obuf, made)) < 0)
			return rc;
		if (written)
			*written += made;
		if (r == RS_DONE)
			return 1;
		if (made == DELTA_BUF)
			continue; /* output was full: there may be more */
		if (!b->avail_in && !b->eof_in)
			return 0;
		if (!made && b->avail_in == in0) {
			sb_error("%s: librsync made no progress", what);
			return SB_ERR_INTERNAL;
		}
	}
}

/* Run one slice (the last one when eof) through a generating job. */
static int gen_slice(struct gen_job *g, const void *p, size_t n, int eof, struct sb_writer *out,
		     const char *what)
{
	rs_buffers_t b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.next_in = (char *)p;
	b.avail_in = n;
	b.eof_in = eof;
	rc = delta_job_run(g->job, &b, g->out, out, NULL, NULL, what);
	if (rc > 0 && !eof) {
		sb_error("%s: librsync finished before its input", what);
		rc = SB_ERR_INTERNAL;
	}
	if (rc < 0) {
		g->state = rc;
		return rc;
	}
	if (eof)
		g->state = 1;
	return 0;
}

static int gen_update(struct gen_job *g, const void *p, size_t n, struct sb_writer *out,
		      const char *what)
{
	const unsigned char *in = p;
	size_t take;
	int rc;

	if (g->state)
		return g->state < 0 ? g->state : SB_ERR_PARAM;
	while (n) {
		if (!g->ilen && n >= DELTA_BUF) {
			/* a whole slice of the caller's memory: no copy */
			take = DELTA_BUF;
			rc = gen_slice(g, in, take, 0, out, what);
		} else {
			take = DELTA_BUF - g->ilen < n ? DELTA_BUF - g->ilen : n;
			memcpy(g->in + g->ilen, in, take);
			g->ilen += take;
			rc = 0;
			if (g->ilen == DELTA_BUF) {
				g->ilen = 0;
				rc = gen_slice(g, g->in, DELTA_BUF, 0, out, what);
			}
		}
		if (rc)
			return rc;
		in += take;
		n -= take;
	}
	return 0;
}

static int gen_finish(struct gen_job *g, struct sb_writer *out, const char *what)
{
	size_t n = g->ilen;

	if (g->state)
		return g->state < 0 ? g->state : SB_ERR_PARAM;
	g->ilen = 0;
	return gen_slice(g, g->in, n, 1, out, what);
}

/* ---- block length ---- */

uint32_t sb_sig_block_len(uint64_t size)
{
	uint64_t bl;

	/*
	 * diffdir.get_block_size(): int(size / (2000 * 512)) * 512, capped at
	 * --max-blocksize. Python divides in floating point, which only
	 * differs from integer division far above the cap.
	 */
	if (size < 1024000)
		return 512;
	bl = size / 1024000 * 512;
	return bl > SB_SIG_MAX_BLOCK ? SB_SIG_MAX_BLOCK : (uint32_t)bl;
}

/* ---- signature generation ---- */

int sb_sig_gen_new(uint32_t block_len, struct sb_sig_gen **out)
{
	struct sb_sig_gen *g;

	*out = NULL;
	if (!block_len || block_len > SIG_LOAD_MAX_BLOCK) {
		sb_error("signature: bad block length %" PRIu32, block_len);
		return SB_ERR_PARAM;
	}
	delta_rs_init();
	g = calloc(1, sizeof(*g));
	if (!g) {
		sb_error("signature: out of memory");
		return SB_ERR_NOMEM;
	}
	g->g.job = rs_sig_begin(block_len, SIG_STRONG_LEN, RS_MD4_SIG_MAGIC);
	if (!g->g.job) {
		free(g);
		sb_error("signature: cannot start librsync job");
		return SB_ERR_NOMEM;
	}
	*out = g;
	return 0;
}

int sb_sig_gen_update(struct sb_sig_gen *g, const void *p, size_t n, struct sb_writer *out)
{
	return gen_update(&g->g, p, n, out, "signature");
}

int sb_sig_gen_finish(struct sb_sig_gen *g, struct sb_writer *out)
{
	return gen_finish(&g->g, out, "signature");
}

void sb_sig_gen_free(struct sb_sig_gen *g)
{
	if (!g)
		return;
	rs_job_free(g->g.job);
	free(g);
}

/* ---- signature loading ---- */

/* Check the 12-byte header ourselves: librsync is lax about some fields. */
static int sig_check_header(const unsigned char *hdr, size_t n, uint32_t *strong_len)
{
	struct sb_cursor c;
	uint32_t magic, block_len, max_strong;

	sb_cursor_init(&c, hdr, n);
	if (sb_cursor_be32(&c, &magic) || sb_cursor_be32(&c, &block_len) ||
	    sb_cursor_be32(&c, strong_len)) {
		sb_error("signature: truncated header (%zu bytes)", n);
		return SB_ERR_CORRUPT;
	}
	/* Only the types duplicity writes (and librsync's BLAKE2 default). */
	if (magic == RS_MD4_SIG_MAGIC) {
		max_strong = 16;
	} else if (magic == RS_BLAKE2_SIG_MAGIC) {
		max_strong = 32;
	} else {
		sb_error("signature: bad magic 0x%08" PRIx32, magic);
		return SB_ERR_CORRUPT;
	}
	if (!block_len || block_len > SIG_LOAD_MAX_BLOCK) {
		sb_error("signature: implausible block length %" PRIu32, block_len);
		return SB_ERR_CORRUPT;
	}
	if (!*strong_len || *strong_len > max_strong) {
		sb_error("signature: implausible strong sum length %" PRIu32, *strong_len);
		return SB_ERR_CORRUPT;
	}
	return 0;
}

/* A writer for jobs that must not produce output (loadsig). */
static int delta_no_output(void *ctx, const void *buf, size_t len)
{
	sb_error("signature: unexpected librsync output (%zu bytes)", len);
	return SB_ERR_INTERNAL;
}

/*
 * Run a loadsig job over the n header bytes already in ibuf and the rest of
 * src; *total counts every byte read.
 */
static int sig_load_stream(rs_job_t *job, struct sb_reader *src, unsigned char *ibuf, size_t n,
			   uint64_t *total)
{
	struct sb_writer none = {delta_no_output, NULL};
	unsigned char *obuf = malloc(DELTA_BUF);
	rs_buffers_t b;
	ssize_t got;
	int rc;

	if (!obuf) {
		sb_error("signature: out of memory");
		return SB_ERR_NOMEM;
	}
	memset(&b, 0, sizeof(b));
	b.next_in = (char *)ibuf;
	b.avail_in = n;
	*total = n;
	while (!(rc = delta_job_run(job, &b, obuf, &none, NULL, NULL, "signature"))) {
		got = src->read(src->ctx, ibuf, DELTA_BUF);
		if (got < 0) {
			rc = (int)got;
			break;
		}
		b.next_in = (char *)ibuf;
		b.avail_in = (size_t)got;
		b.eof_in = got == 0;
		*total += (uint64_t)got;
	}
	free(obuf);
	return rc < 0 ? rc : 0;
}

int sb_sig_load(struct sb_reader src, struct sb_sig **out)
{
	rs_signature_t *rs = NULL;
	rs_job_t *job = NULL;
	unsigned char *ibuf = NULL;
	struct sb_sig *s = NULL;
	uint64_t total;
	uint32_t strong_len;
	ssize_t n;
	int rc;

	*out = NULL;
	delta_rs_init();
	ibuf = malloc(DELTA_BUF);
	s = calloc(1, sizeof(*s));
	if (!ibuf || !s) {
		sb_error("signature: out of memory");
		rc = SB_ERR_NOMEM;
		goto out;
	}
	n = sb_read_full(&src, ibuf, SIG_HEADER_LEN);
	rc = n < 0 ? (int)n : sig_check_header(ibuf, (size_t)n, &strong_len);
	if (rc)
		goto out;
	job = rs_loadsig_begin(&rs);
	rc = sig_load_stream(job, &src, ibuf, (size_t)n, &total);
	if (rc)
		goto out;
	/* librsync silently drops a partial last record. */
	if ((total - SIG_HEADER_LEN) % (4 + strong_len)) {
		sb_error("signature: truncated block record (%" PRIu64 " bytes)", total);
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	rc = delta_rs_err(rs_build_hash_table(rs), "signature");
	if (rc)
		goto out;
	s->rs = rs;
	rs = NULL;
	*out = s;
	s = NULL;
out:
	if (job)
		rs_job_free(job);
	if (rs)
		rs_free_sumset(rs);
	free(s);
	free(ibuf);
	return rc;
}

void sb_sig_free(struct sb_sig *s)
{
	if (!s)
		return;
	rs_free_sumset(s->rs);
	free(s);
}

/* ---- delta generation ---- */

int sb_delta_gen_new(struct sb_sig *sig, struct sb_delta_gen **out)
{
	struct sb_delta_gen *d;

	*out = NULL;
	delta_rs_init();
	d = calloc(1, sizeof(*d));
	if (!d) {
		sb_error("delta: out of memory");
		return SB_ERR_NOMEM;
	}
	d->g.job = rs_delta_begin(sig->rs);
	if (!d->g.job) {
		free(d);
		sb_error("delta: cannot start librsync job");
		return SB_ERR_NOMEM;
	}
	*out = d;
	return 0;
}

int sb_delta_gen_update(struct sb_delta_gen *d, const void *p, size_t n, struct sb_writer *out)
{
	return gen_update(&d->g, p, n, out, "delta");
}

int sb_delta_gen_finish(struct sb_delta_gen *d, struct sb_writer *out)
{
	return gen_finish(&d->g, out, "delta");
}

void sb_delta_gen_free(struct sb_delta_gen *d)
{
	if (!d)
		return;
	rs_job_free(d->g.job);
	free(d);
}

/* ---- patch ---- */

struct patch_basis {
	int fd;
	int err; /* sb_err already logged by the callback, or 0 */
};

/* librsync copy callback: pread into its buffer; EOF there is corruption. */
static rs_result patch_copy(void *arg, rs_long_t pos, size_t *len, void **buf)
{
	struct patch_basis *pb = arg;
	size_t got = 0;
	ssize_t n;

	if (pos < 0 || (uintmax_t)pos > (uintmax_t)INT64_MAX - *len) {
		sb_error("patch: COPY offset %jd out of range", (intmax_t)pos);
		pb->err = SB_ERR_CORRUPT;
		return RS_CORRUPT;
	}
	while (got < *len) {
		n = pread(pb->fd, (char *)*buf + got, *len - got, (off_t)(pos + (rs_long_t)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sb_error("patch: reading basis at %jd: %s", (intmax_t)pos, strerror(errno));
			pb->err = sb_err_from_errno(errno);
			return RS_IO_ERROR;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (!got) {
		sb_error("patch: COPY at offset %jd is beyond the end of the basis", (intmax_t)pos);
		pb->err = SB_ERR_CORRUPT;
		return RS_CORRUPT;
	}
	*len = got;
	return RS_DONE;
}

/* After END: the delta must be exhausted (b holds what is left of ibuf). */
static int patch_check_tail(struct sb_reader *delta, rs_buffers_t *b, unsigned char *ibuf, int eof)
{
	ssize_t n = 0;

	if (!b->avail_in && !eof)
		n = delta->read(delta->ctx, ibuf, DELTA_BUF);
	if (n < 0)
		return (int)n;
	if (b->avail_in || n > 0) {
		sb_error("patch: data after the END command");
		return SB_ERR_CORRUPT;
	}
	return 0;
}

int sb_patch(int basis_fd, struct sb_reader delta, struct sb_writer out, uint64_t *out_size)
{
	struct patch_basis pb = {basis_fd, 0};
	unsigned char *ibuf = NULL, *obuf = NULL;
	uint64_t written = 0;
	rs_job_t *job = NULL;
	rs_buffers_t b;
	ssize_t n;
	int rc, eof = 0;

	if (out_size)
		*out_size = 0;
	delta_rs_init();
	ibuf = malloc(DELTA_BUF);
	obuf = malloc(DELTA_BUF);
	job = rs_patch_begin(patch_copy, &pb);
	if (!ibuf || !obuf || !job) {
		sb_error("patch: out of memory");
		rc = SB_ERR_NOMEM;
		goto out;
	}
	memset(&b, 0, sizeof(b));
	for (;;) {
		if (!b.avail_in && !eof) {
			n = delta.read(delta.ctx, ibuf, DELTA_BUF);
			if (n < 0) {
				rc = (int)n;
				goto out;
			}
			eof = n == 0;
			b.next_in = (char *)ibuf;
			b.avail_in = (size_t)n;
			b.eof_in = eof;
		}
		rc = delta_job_run(job, &b, obuf, &out, &written, &pb.err, "patch");
		if (rc < 0)
			goto out;
		if (rc > 0)
			break;
	}
	rc = patch_check_tail(&delta, &b, ibuf, eof);
	if (rc)
		goto out;
	if (out_size)
		*out_size = written;
out:
	if (job)
		rs_job_free(job);
	free(obuf);
	free(ibuf);
	return rc;
}

/* ---- size of a delta's output, without librsync ---- */

struct dscan {
	struct sb_reader *r;
	unsigned char buf[DELTA_BUF];
	size_t off, len; /* unread bytes are buf[off, len) */
	int eof;
};

/* Make at least want (<= DELTA_MAX_CMD) bytes available; 0 or sb_err. */
static int dscan_fill(struct dscan *d, size_t want)
{
	ssize_t n;

	while (d->len - d->off < want && !d->eof) {
		if (d->off) {
			memmove(d->buf, d->buf + d->off, d->len - d->off);
			d->len -= d->off;
			d->off = 0;
		}
		n = d->r->read(d->r->ctx, d->buf + d->len, sizeof(d->buf) - d->len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			d->eof = 1;
		d->len += (size_t)n;
	}
	return 0;
}

/* Read an n-byte big-endian field through the cursor. */
static int dscan_get(struct dscan *d, unsigned n, uint64_t *v)
{
	struct sb_cursor c;
	int rc = dscan_fill(d, n);

	if (rc)
		return rc;
	sb_cursor_init(&c, d->buf + d->off, d->len - d->off);
	if (sb_cursor_ben(&c, n, v)) {
		sb_error("delta: truncated command stream");
		return SB_ERR_CORRUPT;
	}
	d->off += n;
	return 0;
}

/* Skip a literal's payload without keeping it. */
static int dscan_skip(struct dscan *d, uint64_t n)
{
	size_t have;
	int rc;

	while (n) {
		rc = dscan_fill(d, 1);
		if (rc)
			return rc;
		have = d->len - d->off;
		if (!have) {
			sb_error("delta: truncated literal (%" PRIu64 " bytes missing)", n);
			return SB_ERR_CORRUPT;
		}
		if (have > n)
			have = (size_t)n;
		d->off += have;
		n -= have;
	}
	return 0;
}

/* Decode one command at the cursor: *len is what it adds to the output. */
static int dscan_command(struct dscan *d, uint64_t *len, int *end)
{
	uint64_t op, off;
	unsigned k;
	int rc;

	*end = 0;
	*len = 0;
	rc = dscan_get(d, 1, &op);
	if (rc)
		return rc;
	if (op == 0x00) {
		*end = 1;
		return 0;
	}
	if (op <= 0x40) {
		*len = op;
		return dscan_skip(d, op);
	}
	if (op <= 0x44) {
		rc = dscan_get(d, 1u << (op - 0x41), len);
		if (rc)
			return rc;
		if (!*len || *len > INT64_MAX) {
			sb_error("delta: bad LITERAL length %" PRIu64, *len);
			return SB_ERR_CORRUPT;
		}
		return dscan_skip(d, *len);
	}
	if (op <= 0x54) {
		k = (unsigned)(op - 0x45);
		rc = dscan_get(d, 1u << (k / 4), &off);
		if (!rc)
			rc = dscan_get(d, 1u << (k % 4), len);
		if (rc)
			return rc;
		if (!*len || off > INT64_MAX || *len > INT64_MAX - off) {
			sb_error("delta: bad COPY(%" PRIu64 ", %" PRIu64 ")", off, *len);
			return SB_ERR_CORRUPT;
		}
		return 0;
	}
	sb_error("delta: unknown command 0x%02" PRIx64, op);
	return SB_ERR_CORRUPT;
}

int sb_delta_size(struct sb_reader delta, uint64_t *size)
{
	struct dscan *d;
	uint64_t magic, len, total = 0;
	int rc, end = 0;

	*size = 0;
	d = calloc(1, sizeof(*d));
	if (!d) {
		sb_error("delta: out of memory");
		return SB_ERR_NOMEM;
	}
	d->r = &delta;
	rc = dscan_get(d, 4, &magic);
	if (rc)
		goto out;
	if (magic != DELTA_MAGIC) {
		sb_error("delta: bad magic 0x%08" PRIx64, magic);
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	while (!end) {
		rc = dscan_command(d, &len, &end);
		if (rc)
			goto out;
		if (len > INT64_MAX - total) {
			sb_error("delta: output size overflows");
			rc = SB_ERR_CORRUPT;
			goto out;
		}
		total += len;
	}
	rc = dscan_fill(d, 1);
	if (rc)
		goto out;
	if (d->len > d->off) {
		sb_error("delta: data after the END command");
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	*size = total;
out:
	free(d);
	return rc;
}
