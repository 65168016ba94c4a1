/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spool.c - memory-then-temp-file byte buffer (see spool.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/spool.h"

#define WB_SIZE 65536 /* bytes gathered before a write(2), once spilled */

struct sb_spool {
	struct sb_buf mem;
	size_t mem_limit;
	char *tmpdir;
	int fd;		   /* -1 while in memory */
	unsigned char *wb; /* once spilled: writes not yet in the file */
	size_t wlen;
	uint64_t size; /* bytes written */
	uint64_t pos;  /* read position */
};

struct sb_spool *sb_spool_new(size_t mem_limit, const char *tmpdir)
{
	struct sb_spool *s = calloc(1, sizeof(*s));
	const char *dir = tmpdir ? tmpdir : getenv("TMPDIR");

	if (!s)
		return NULL;
	s->mem_limit = mem_limit;
	s->fd = -1;
	s->tmpdir = strdup(dir && *dir ? dir : "/tmp");
	if (!s->tmpdir) {
		free(s);
		return NULL;
	}
	return s;
}

void sb_spool_free(struct sb_spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	sb_buf_release(&s->mem);
	free(s->wb);
	free(s->tmpdir);
	free(s);
}

static int spill(struct sb_spool *s)
{
	s->fd = open(s->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		sb_error("cannot create a temporary file in %s: %s", s->tmpdir, strerror(errno));
		return sb_err_from_errno(errno);
	}
	if (s->mem.len) {
		int rc = sb_fd_write(&s->fd, s->mem.data, s->mem.len);
		if (rc)
			return rc;
	}
	sb_buf_release(&s->mem);
	return 0;
}

static int flush(struct sb_spool *s)
{
	int rc = s->wlen ? sb_fd_write(&s->fd, s->wb, s->wlen) : 0;

	s->wlen = 0;
	return rc;
}

/* Once spilled, small writes (an index record each) gather in wb: one
 * write(2) per WB_SIZE bytes, not one per record. */
static int file_write(struct sb_spool *s, const void *p, size_t n)
{
	int rc;

	if (!s->wb && !(s->wb = malloc(WB_SIZE)))
		return SB_ERR_NOMEM;
	if (s->wlen + n > WB_SIZE && (rc = flush(s)))
		return rc;
	if (n >= WB_SIZE)
		return sb_fd_write(&s->fd, p, n);
	memcpy(s->wb + s->wlen, p, n);
	s->wlen += n;
	return 0;
}

int sb_spool_write(void *spool, const void *p, size_t n)
{
	struct sb_spool *s = spool;
	int rc;

	if (s->fd < 0 && s->mem.len + n > s->mem_limit) {
		rc = spill(s);
		if (rc)
			return rc;
	}
	rc = s->fd < 0 ? sb_buf_add(&s->mem, p, n) : file_write(s, p, n);
	if (!rc)
		s->size += n;
	return rc;
}

uint64_t sb_spool_size(const struct sb_spool *s) { return s->size; }

int sb_spool_rewind(struct sb_spool *s)
{
	int rc = s->fd >= 0 ? flush(s) : 0;

	if (rc)
		return rc;
	s->pos = 0;
	if (s->fd >= 0 && lseek(s->fd, 0, SEEK_SET) < 0)
		return sb_err_from_errno(errno);
	return 0;
}

ssize_t sb_spool_read(void *spool, void *buf, size_t n)
{
	struct sb_spool *s = spool;
	uint64_t left = s->size - s->pos;
	ssize_t got;

	if (n > left)
		n = (size_t)left;
	if (!n)
		return 0;
	if (s->fd < 0) {
		memcpy(buf, s->mem.data + s->pos, n);
		got = (ssize_t)n;
	} else {
		if (s->wlen && (got = flush(s)) != 0)
			return got;
		got = sb_fd_read(&s->fd, buf, n);
		if (got < 0)
			return got;
	}
	s->pos += (uint64_t)got;
	return got;
}

int sb_spool_reset(struct sb_spool *s)
{
	s->size = 0;
	s->pos = 0;
	sb_buf_reset(&s->mem);
	s->wlen = 0;
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	return 0;
}

const unsigned char *sb_spool_mem(const struct sb_spool *s)
{
	if (s->fd >= 0)
		return NULL;
	return s->mem.data ? s->mem.data : (const unsigned char *)"";
}
