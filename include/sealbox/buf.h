/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * buf.h - growable byte buffers, bounds-checked cursors over untrusted bytes,
 * and the two stream callback shapes used between modules.
 *
 * struct sb_buf: init (or = SB_BUF_INIT), add, release. data is always
 * NUL-terminated after len (not counted), so text can be used as a C string.
 * struct sb_cursor: every getter fails with SB_ERR_CORRUPT on short input and
 * then leaves the cursor unchanged.
 */
#ifndef SEALBOX_BUF_H
#define SEALBOX_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sb_buf {
	unsigned char *data; /* owned; NULL until the first add */
	size_t len;
	size_t cap;
};

#define SB_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void sb_buf_init(struct sb_buf *b);
int sb_buf_reserve(struct sb_buf *b, size_t extra);
int sb_buf_add(struct sb_buf *b, const void *p, size_t n);
int sb_buf_addstr(struct sb_buf *b, const char *s);
int sb_buf_addch(struct sb_buf *b, int c);
int sb_buf_addf(struct sb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sb_buf_set(struct sb_buf *b, const void *p, size_t n); /* reset + add */
void sb_buf_reset(struct sb_buf *b);			   /* len = 0, keeps memory */
void sb_buf_release(struct sb_buf *b);			   /* frees, back to init state */
/* "" when empty: never NULL */
const char *sb_buf_str(const struct sb_buf *b);
/* Take the data out (caller frees); b is left empty. Never NULL on success. */
unsigned char *sb_buf_detach(struct sb_buf *b, size_t *len);

struct sb_cursor {
	const unsigned char *p;
	size_t left;
};

void sb_cursor_init(struct sb_cursor *c, const void *p, size_t len);
int sb_cursor_be32(struct sb_cursor *c, uint32_t *v);
/* Big-endian unsigned of n bytes (1, 2, 4 or 8). */
int sb_cursor_ben(struct sb_cursor *c, unsigned n, uint64_t *v);
int sb_cursor_bytes(struct sb_cursor *c, size_t n, const unsigned char **out);

/*
 * Stream shapes. A reader returns the number of bytes read (> 0), 0 at end,
 * or a negative sb_err. A writer consumes all len bytes and returns 0 or a
 * negative sb_err. Both log their own failures.
 */
typedef ssize_t (*sb_read_fn)(void *ctx, void *buf, size_t len);
typedef int (*sb_write_fn)(void *ctx, const void *buf, size_t len);

struct sb_reader {
	sb_read_fn read;
	void *ctx;
};

struct sb_writer {
	sb_write_fn write;
	void *ctx;
};

/* Read until len bytes or end; returns bytes read or a negative sb_err. */
ssize_t sb_read_full(struct sb_reader *r, void *buf, size_t len);

/* Readers/writers over a file descriptor (ctx is a pointer to an int fd). */
ssize_t sb_fd_read(void *ctx, void *buf, size_t len);
int sb_fd_write(void *ctx, const void *buf, size_t len);

/* A writer appending to a struct sb_buf (ctx is the sb_buf). */
int sb_buf_write(void *ctx, const void *buf, size_t len);

/* A reader over memory (ctx is a struct sb_cursor). */
ssize_t sb_cursor_read(void *ctx, void *buf, size_t len);

#endif
