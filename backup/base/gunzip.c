/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gunzip.c - streaming gzip decoding with zlib (see gunzip.h). */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "sealbox/error.h"
#include "sealbox/gunzip.h"
#include "sealbox/log.h"

struct sb_gunzip {
	z_stream z;
	struct sb_reader src;
	char *what;
	unsigned char in[65536];
	int src_eof;
	int done;
};

struct sb_gunzip *sb_gunzip_new(struct sb_reader src, const char *what)
{
	struct sb_gunzip *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->src = src;
	g->what = strdup(what ? what : "gzip data");
	if (!g->what || inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
		free(g->what);
		free(g);
		return NULL;
	}
	return g;
}

static ssize_t refill(struct sb_gunzip *g)
{
	ssize_t r = g->src.read(g->src.ctx, g->in, sizeof(g->in));

	if (r < 0)
		return r;
	if (r == 0)
		g->src_eof = 1;
	g->z.next_in = g->in;
	g->z.avail_in = (unsigned)r;
	return r;
}

ssize_t sb_gunzip_read(void *ctx, void *buf, size_t n)
{
	struct sb_gunzip *g = ctx;
	ssize_t r;
	int zr;

	if (g->done || !n)
		return 0;
	g->z.next_out = buf;
	g->z.avail_out = n > (1u << 30) ? (1u << 30) : (unsigned)n;
	while (g->z.next_out == (unsigned char *)buf) {
		if (!g->z.avail_in && !g->src_eof && (r = refill(g)) < 0)
			return r;
		zr = inflate(&g->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* another gzip member may follow; the end of input ends the stream */
			if (!g->z.avail_in && !g->src_eof && (r = refill(g)) < 0)
				return r;
			if (!g->z.avail_in && g->src_eof) {
				g->done = 1;
				break;
			}
			inflateReset(&g->z);
			continue;
		}
		if (zr == Z_BUF_ERROR && g->src_eof && !g->z.avail_in) {
			sb_error("%s: truncated gzip data", g->what);
			return SB_ERR_CORRUPT;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			sb_error("%s: corrupt gzip data", g->what);
			return SB_ERR_CORRUPT;
		}
	}
	return (ssize_t)((unsigned char *)g->z.next_out - (unsigned char *)buf);
}

void sb_gunzip_free(struct sb_gunzip *g)
{
	if (!g)
		return;
	inflateEnd(&g->z);
	free(g->what);
	free(g);
}
