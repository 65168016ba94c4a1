/* SPDX-License-Identifier: GPL-2.0-or-later */
/* buf.c - growable buffers, bounds-checked cursors, fd/buffer stream adapters. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

void sb_buf_init(struct sb_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int sb_buf_reserve(struct sb_buf *b, size_t extra)
{
	size_t need, cap;
	unsigned char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return SB_ERR_NOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return SB_ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int sb_buf_add(struct sb_buf *b, const void *p, size_t n)
{
	int rc = sb_buf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int sb_buf_addstr(struct sb_buf *b, const char *s) { return sb_buf_add(b, s, strlen(s)); }

int sb_buf_addch(struct sb_buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	return sb_buf_add(b, &ch, 1);
}

int sb_buf_addf(struct sb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SB_ERR_PARAM;
	rc = sb_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int sb_buf_set(struct sb_buf *b, const void *p, size_t n)
{
	sb_buf_reset(b);
	return sb_buf_add(b, p, n);
}

void sb_buf_reset(struct sb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sb_buf_release(struct sb_buf *b)
{
	free(b->data);
	sb_buf_init(b);
}

const char *sb_buf_str(const struct sb_buf *b) { return b->data ? (const char *)b->data : ""; }

unsigned char *sb_buf_detach(struct sb_buf *b, size_t *len)
{
	unsigned char *p;

	if (!b->data && sb_buf_reserve(b, 0))
		return NULL;
	p = b->data;
	if (len)
		*len = b->len;
	sb_buf_init(b);
	return p;
}

void sb_cursor_init(struct sb_cursor *c, const void *p, size_t len)
{
	c->p = p;
	c->left = len;
}

int sb_cursor_bytes(struct sb_cursor *c, size_t n, const unsigned char **out)
{
	if (n > c->left)
		return SB_ERR_CORRUPT;
	if (out)
		*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

int sb_cursor_ben(struct sb_cursor *c, unsigned n, uint64_t *v)
{
	const unsigned char *p;
	uint64_t x = 0;
	unsigned i;

	if (n == 0 || n > 8 || sb_cursor_bytes(c, n, &p))
		return SB_ERR_CORRUPT;
	for (i = 0; i < n; i++)
		x = (x << 8) | p[i];
	*v = x;
	return 0;
}

int sb_cursor_be32(struct sb_cursor *c, uint32_t *v)
{
	uint64_t x;
	int rc = sb_cursor_ben(c, 4, &x);

	if (!rc)
		*v = (uint32_t)x;
	return rc;
}

ssize_t sb_cursor_read(void *ctx, void *buf, size_t len)
{
	struct sb_cursor *c = ctx;
	size_t n = len < c->left ? len : c->left;

	memcpy(buf, c->p, n);
	c->p += n;
	c->left -= n;
	return (ssize_t)n;
}

ssize_t sb_read_full(struct sb_reader *r, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = r->read(r->ctx, (char *)buf + got, len - got);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * What the message of a failed read or write names: the file fd has open
 * (from /proc), or for an unnamed temporary file (O_TMPFILE, or one already
 * unlinked) the folder it is in, which is what a full disk is about.
 */
static const char *fd_name(int fd, char *out, size_t size)
{
	static const char del[] = " (deleted)";
	char link[64], path[4096];
	ssize_t n;
	size_t dl = sizeof(del) - 1;
	char *slash;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0) {
		snprintf(out, size, "file descriptor %d", fd);
		return out;
	}
	path[n] = '\0';
	if ((size_t)n > dl && !strcmp(path + n - dl, del) && (slash = strrchr(path, '/'))) {
		*slash = '\0';
		snprintf(out, size, "a temporary file in %s", path[0] ? path : "/");
	} else {
		snprintf(out, size, "%s", path);
	}
	return out;
}

ssize_t sb_fd_read(void *ctx, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		char name[4200];

		sb_error("cannot read %s: %s", fd_name(fd, name, sizeof(name)), strerror(e));
		return sb_err_from_errno(e);
	}
	return n;
}

int sb_fd_write(void *ctx, const void *buf, size_t len)
{
	int fd = *(int *)ctx;
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			char name[4200];

			sb_error("cannot write %s: %s", fd_name(fd, name, sizeof(name)),
				 strerror(e));
			return sb_err_from_errno(e);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sb_buf_write(void *ctx, const void *buf, size_t len) { return sb_buf_add(ctx, buf, len); }
