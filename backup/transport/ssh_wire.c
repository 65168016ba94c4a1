/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ssh_wire.c - the SSH wire format (RFC 4251 section 5), see ssh_wire.h. */
#include <stdlib.h>
#include <string.h>

#include "ssh_wire.h"

bool ssh_rd_u32(struct ssh_rd *r, uint32_t *v)
{
	if (r->n < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return true;
}

bool ssh_rd_str(struct ssh_rd *r, struct ssh_rd *s)
{
	uint32_t len;

	if (!ssh_rd_u32(r, &len) || len > r->n)
		return false;
	s->p = r->p;
	s->n = len;
	r->p += len;
	r->n -= len;
	return true;
}

bool ssh_rd_is(const struct ssh_rd *s, const char *text)
{
	return s->n == strlen(text) && !memcmp(s->p, text, s->n);
}

/* A name from the file, for a message: printable ASCII only, at most 64 bytes. */
int ssh_rd_name_len(const struct ssh_rd *s)
{
	size_t i;

	for (i = 0; i < s->n && i < 64; i++)
		if (s->p[i] < 0x20 || s->p[i] > 0x7e)
			break;
	return (int)i;
}

/* A non-negative mpint, its magnitude without leading zeros in *mag. */
bool ssh_rd_mpint(struct ssh_rd *r, struct ssh_rd *mag)
{
	if (!ssh_rd_str(r, mag) || (mag->n && (mag->p[0] & 0x80)))
		return false;
	while (mag->n && !mag->p[0]) {
		mag->p++;
		mag->n--;
	}
	return true;
}

/* Room for n more bytes at p + len (not yet counted), NULL after a failure. */
static unsigned char *ssh_wr_room(struct ssh_wr *w, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (w->err)
		return NULL;
	if (w->cap - w->len < n) {
		cap = w->cap * 2 + n + 64;
		if (!(np = realloc(w->p, cap))) {
			w->err = true;
			return NULL;
		}
		w->p = np;
		w->cap = cap;
	}
	return w->p + w->len;
}

void ssh_wr_u32(struct ssh_wr *w, uint32_t v)
{
	unsigned char *d = ssh_wr_room(w, 4);

	if (!d)
		return;
	d[0] = (unsigned char)(v >> 24);
	d[1] = (unsigned char)(v >> 16);
	d[2] = (unsigned char)(v >> 8);
	d[3] = (unsigned char)v;
	w->len += 4;
}

void ssh_wr_bytes(struct ssh_wr *w, const void *data, size_t n)
{
	unsigned char *d = ssh_wr_room(w, n);

	if (!d)
		return;
	memcpy(d, data, n);
	w->len += n;
}

void ssh_wr_str(struct ssh_wr *w, const void *data, size_t n)
{
	ssh_wr_u32(w, (uint32_t)n);
	ssh_wr_bytes(w, data, n);
}

void ssh_wr_mpint(struct ssh_wr *w, const BIGNUM *b)
{
	int n = BN_num_bytes(b);
	unsigned char *d = ssh_wr_room(w, 5 + (size_t)n);

	if (!d)
		return;
	BN_bn2bin(b, d + 5);
	if (n && (d[5] & 0x80)) { /* keep it positive: a leading zero byte */
		d[4] = 0;
		n++;
	} else {
		memmove(d + 4, d + 5, (size_t)n);
	}
	ssh_wr_u32(w, (uint32_t)n);
	w->len += (size_t)n;
}
