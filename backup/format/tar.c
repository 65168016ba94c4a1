/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tar.c - tar writer (PAX, byte-compatible with Python 3.11 tarfile as used
 * by duplicity 0.8.22) and a pull-based reader for ustar, PAX, GNU and v7
 * archives (duplicity-format.md §3.3, §3.6, §4).
 *
 * Not here: entry naming (snapshot/, multivol_...), volume padding after the
 * end marker, compression or encryption; sparse files are read as plain data.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/tar.h"

#define TAR_RECORD (20 * SB_TAR_BLOCK) /* Python's RECORDSIZE */
#define RBUF_SIZE (64 * 1024)	       /* reader buffer */
#define DIRECT_MIN (16 * 1024)	       /* data reads this large bypass the buffer */
#define EXT_MAX (1024 * 1024)	       /* cap on one PAX / GNU long-name payload */

/* ustar header layout: offset and length of each field */
#define H_NAME 0, 100
#define H_MODE 100, 8
#define H_UID 108, 8
#define H_GID 116, 8
#define H_SIZE 124, 12
#define H_MTIME 136, 12
#define H_CHKSUM 148, 8
#define H_TYPE 156
#define H_LINK 157, 100
#define H_MAGIC 257
#define H_UNAME 265, 32
#define H_GNAME 297, 32
#define H_DEVMAJ 329, 8
#define H_DEVMIN 337, 8
#define H_PREFIX 345, 155

static const unsigned char zero_block[SB_TAR_BLOCK];

void sb_tar_entry_init(struct sb_tar_entry *e)
{
	memset(e, 0, sizeof(*e));
	sb_buf_init(&e->name);
	sb_buf_init(&e->linkname);
	e->type = SB_TAR_REG;
}

void sb_tar_entry_release(struct sb_tar_entry *e)
{
	sb_buf_release(&e->name);
	sb_buf_release(&e->linkname);
	sb_tar_entry_init(e);
}

void sb_tar_entry_clear(struct sb_tar_entry *e)
{
	struct sb_buf name = e->name, link = e->linkname;

	sb_tar_entry_init(e);
	e->name = name;
	e->linkname = link;
	sb_buf_reset(&e->name);
	sb_buf_reset(&e->linkname);
}

/* ------------------------------------------------------------------ */
/* writer                                                              */

void sb_tar_writer_init(struct sb_tar_writer *w, struct sb_writer out)
{
	w->out = out;
	w->offset = 0;
}

static int tw_out(struct sb_tar_writer *w, const void *p, size_t n)
{
	int rc;

	if (!n)
		return 0;
	rc = w->out.write(w->out.ctx, p, n);
	if (rc)
		return rc;
	w->offset += n;
	return 0;
}

static int tw_zeros(struct sb_tar_writer *w, size_t n)
{
	size_t k;
	int rc;

	while (n) {
		k = n < sizeof(zero_block) ? n : sizeof(zero_block);
		rc = tw_out(w, zero_block, k);
		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p (strict: no overlongs, surrogates
 * or code points above U+10FFFF), or 0 when there is none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static bool is_utf8(const unsigned char *p, size_t n)
{
	size_t k;

	while (n) {
		k = utf8_seq(p, n);
		if (!k)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

static bool is_ascii(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++ & 0x80)
			return false;
	return true;
}

/*
 * Fill a ustar string field like Python's stn(s, len, "ascii", "replace")
 * with s decoded as UTF-8/surrogateescape: every non-ASCII character (a valid
 * UTF-8 sequence or one undecodable byte) becomes one '?'; cut at the field.
 */
static void put_str(unsigned char *hdr, size_t off, size_t width, const unsigned char *s, size_t n)
{
	size_t o = 0, k;

	while (n && o < width) {
		k = *s < 0x80 ? 1 : utf8_seq(s, n);
		hdr[off + o++] = *s < 0x80 ? *s : '?';
		k = k ? k : 1;
		s += k;
		n -= k;
	}
}

/* Octal, zero padded to width - 1 digits, NUL terminated (v < 8^(width-1)). */
static void put_octal(unsigned char *hdr, size_t off, size_t width, uint64_t v)
{
	size_t i = width - 1;

	hdr[off + i] = '\0';
	while (i--) {
		hdr[off + i] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
}

static void sum_block(const unsigned char *b, long *usum, long *ssum)
{
	long u = 0, s = 0;
	int i;

	for (i = 0; i < SB_TAR_BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];

		u += c;
		s += (signed char)c;
	}
	*usum = u;
	*ssum = s;
}

struct hdr_vals {
	const unsigned char *name, *link, *uname, *gname;
	size_t name_len, link_len, uname_len, gname_len;
	uint32_t mode;
	uint64_t uid, gid, size;
	int64_t mtime; /* already range-checked: 0 <= mtime < 8^11 */
	char type;
	bool dev;
	uint32_t devmajor, devminor;
};

static void build_block(unsigned char *b, const struct hdr_vals *v)
{
	long usum, ssum;

	memset(b, 0, SB_TAR_BLOCK);
	put_str(b, H_NAME, v->name, v->name_len);
	put_octal(b, H_MODE, v->mode & 07777);
	put_octal(b, H_UID, v->uid);
	put_octal(b, H_GID, v->gid);
	put_octal(b, H_SIZE, v->size);
	put_octal(b, H_MTIME, (uint64_t)v->mtime);
	b[H_TYPE] = (unsigned char)v->type;
	put_str(b, H_LINK, v->link, v->link_len);
	memcpy(b + H_MAGIC,
	       "ustar\0"
	       "00",
	       8);
	put_str(b, H_UNAME, v->uname, v->uname_len);
	put_str(b, H_GNAME, v->gname, v->gname_len);
	if (v->dev) {
		put_octal(b, H_DEVMAJ, v->devmajor);
		put_octal(b, H_DEVMIN, v->devminor);
	}
	sum_block(b, &usum, &ssum);
	put_octal(b, 148, 7, (uint64_t)usum); /* 6 digits + NUL, then the ' ' */
	b[155] = ' ';
}

/* Append one "LEN key=value\n" record; LEN counts the whole record. */
static int pax_record(struct sb_buf *rec, const char *key, const void *val, size_t vlen)
{
	size_t l = strlen(key) + vlen + 3, n, p = 0;
	char digits[32];
	int rc;

	for (;;) {
		n = l + (size_t)snprintf(digits, sizeof(digits), "%zu", p);
		if (n == p)
			break;
		p = n;
	}
	rc = sb_buf_addf(rec, "%zu %s=", p, key);
	if (!rc)
		rc = sb_buf_add(rec, val, vlen);
	if (!rc)
		rc = sb_buf_addch(rec, '\n');
	return rc;
}

static int pax_number(struct sb_buf *rec, const char *key, long long v, bool neg)
{
	char s[32];
	int n = neg ? snprintf(s, sizeof(s), "%lld", v)
		    : snprintf(s, sizeof(s), "%llu", (unsigned long long)v);

	return pax_record(rec, key, s, (size_t)n);
}

/* The PAX records Python would write for v (in Python's order), and the
 * overflowing numbers zeroed in v for the ustar header that follows. */
static int pax_records(struct sb_buf *rec, struct hdr_vals *v)
{
	static const uint64_t max8 = 1ull << 21, max12 = 1ull << 33;
	bool path = !is_ascii(v->name, v->name_len) || v->name_len > 100;
	bool link = !is_ascii(v->link, v->link_len) || v->link_len > 100;
	bool uname = !is_ascii(v->uname, v->uname_len) || v->uname_len > 32;
	bool gname = !is_ascii(v->gname, v->gname_len) || v->gname_len > 32;
	int rc = 0;

	if ((path && !is_utf8(v->name, v->name_len)) || (link && !is_utf8(v->link, v->link_len)) ||
	    (uname && !is_utf8(v->uname, v->uname_len)) ||
	    (gname && !is_utf8(v->gname, v->gname_len)))
		rc = sb_buf_addstr(rec, "21 hdrcharset=BINARY\n");
	if (!rc && path)
		rc = pax_record(rec, "path", v->name, v->name_len);
	if (!rc && link)
		rc = pax_record(rec, "linkpath", v->link, v->link_len);
	if (!rc && uname)
		rc = pax_record(rec, "uname", v->uname, v->uname_len);
	if (!rc && gname)
		rc = pax_record(rec, "gname", v->gname, v->gname_len);
	if (!rc && v->uid >= max8) {
		rc = pax_number(rec, "uid", (long long)v->uid, false);
		v->uid = 0;
	}
	if (!rc && v->gid >= max8) {
		rc = pax_number(rec, "gid", (long long)v->gid, false);
		v->gid = 0;
	}
	if (!rc && v->size >= max12) {
		rc = pax_number(rec, "size", (long long)v->size, false);
		v->size = 0;
	}
	if (!rc && (v->mtime < 0 || (uint64_t)v->mtime >= max12)) {
		rc = pax_number(rec, "mtime", v->mtime, true);
		v->mtime = 0;
	}
	return rc;
}

int sb_tar_write_header(struct sb_tar_writer *w, const struct sb_tar_entry *e)
{
	struct sb_buf name = SB_BUF_INIT, rec = SB_BUF_INIT;
	struct hdr_vals v = {0}, x = {0};
	unsigned char blk[SB_TAR_BLOCK];
	int rc;

	/* Python's get_info(): a directory name always ends in '/'. */
	rc = sb_buf_add(&name, e->name.data ? e->name.data : (const unsigned char *)"",
			e->name.len);
	if (!rc && e->type == SB_TAR_DIR && (!name.len || name.data[name.len - 1] != '/'))
		rc = sb_buf_addch(&name, '/');
	if (rc)
		goto nomem;
	v.name = name.data;
	v.name_len = name.len;
	v.link = e->linkname.data;
	v.link_len = e->linkname.len;
	v.uname = (const unsigned char *)e->uname;
	v.uname_len = strnlen(e->uname, sizeof(e->uname));
	v.gname = (const unsigned char *)e->gname;
	v.gname_len = strnlen(e->gname, sizeof(e->gname));
	v.mode = e->mode;
	v.uid = e->uid;
	v.gid = e->gid;
	v.size = e->size;
	v.mtime = e->mtime;
	v.type = e->type ? e->type : SB_TAR_REG;
	v.dev = e->type == SB_TAR_CHR || e->type == SB_TAR_BLK;
	v.devmajor = e->devmajor;
	v.devminor = e->devminor;
	if (v.dev && (v.devmajor >= 1u << 21 || v.devminor >= 1u << 21)) {
		sb_error("tar: %s: device number %u,%u does not fit a ustar header",
			 sb_log_str((const char *)v.name, v.name_len), v.devmajor, v.devminor);
		rc = SB_ERR_PARAM;
		goto out;
	}
	if (pax_records(&rec, &v))
		goto nomem;
	if (rec.len) {
		x.name = (const unsigned char *)"././@PaxHeader";
		x.name_len = strlen((const char *)x.name);
		x.size = rec.len;
		x.type = 'x';
		build_block(blk, &x);
		rc = tw_out(w, blk, sizeof(blk));
		if (!rc)
			rc = tw_out(w, rec.data, rec.len);
		if (!rc)
			rc = sb_tar_write_pad(w);
		if (rc)
			goto out;
	}
	build_block(blk, &v);
	rc = tw_out(w, blk, sizeof(blk));
	goto out;
nomem:
	sb_error("tar: out of memory writing a header");
	rc = SB_ERR_NOMEM;
out:
	sb_buf_release(&rec);
	sb_buf_release(&name);
	return rc;
}

int sb_tar_write_data(struct sb_tar_writer *w, const void *p, size_t len)
{
	return tw_out(w, p, len);
}

int sb_tar_write_pad(struct sb_tar_writer *w)
{
	return tw_zeros(w, (size_t)(-w->offset % SB_TAR_BLOCK));
}

int sb_tar_write_end(struct sb_tar_writer *w) { return tw_zeros(w, 2 * SB_TAR_BLOCK); }

int sb_tar_write_end_record(struct sb_tar_writer *w)
{
	int rc = sb_tar_write_end(w);

	if (!rc)
		rc = tw_zeros(w, (size_t)((TAR_RECORD - w->offset % TAR_RECORD) % TAR_RECORD));
	return rc;
}

/* ------------------------------------------------------------------ */
/* reader                                                              */

/* Values from PAX records (or GNU long names); have = F_* bits set. */
enum {
	F_PATH = 1,
	F_LINK = 2,
	F_SIZE = 4,
	F_UID = 8,
	F_GID = 16,
	F_MTIME = 32,
	F_UNAME = 64,
	F_GNAME = 128
};

struct pax {
	unsigned have;
	struct sb_buf path, link;
	uint64_t size, uid, gid;
	int64_t mtime;
	char uname[256], gname[256];
};

enum { ST_HEADER, ST_DATA, ST_END };

struct sb_tar_reader {
	struct sb_reader src;
	unsigned char *buf; /* RBUF_SIZE bytes; unread part is [bpos, blen) */
	size_t bpos, blen;
	uint64_t src_pos; /* bytes pulled from src */
	uint64_t horizon; /* never pull from src beyond this stream offset */
	bool src_eof;
	int state;
	int err;	    /* sticky error, already logged */
	uint64_t data_left; /* unread data of the current member */
	uint64_t pad_left;  /* zero padding after it */
	struct pax global;  /* from 'g' headers, for every later member */
	struct pax local;   /* extensions of the member being read */
	struct pax tmp;	    /* one 'x' header being parsed */
	struct sb_buf ext;  /* payload of one extension header */
};

static void pax_reset(struct pax *p)
{
	p->have = 0;
	sb_buf_reset(&p->path);
	sb_buf_reset(&p->link);
}

static void pax_release(struct pax *p)
{
	sb_buf_release(&p->path);
	sb_buf_release(&p->link);
}

static uint64_t tr_pos(const struct sb_tar_reader *r) { return r->src_pos - (r->blen - r->bpos); }

uint64_t sb_tar_reader_offset(const struct sb_tar_reader *r) { return tr_pos(r); }

static int tr_corrupt(struct sb_tar_reader *r, uint64_t at, const char *what)
{
	sb_error("tar: corrupt archive at offset %llu: %s", (unsigned long long)at, what);
	r->err = SB_ERR_CORRUPT;
	return r->err;
}

static int tr_nomem(struct sb_tar_reader *r)
{
	sb_error("tar: out of memory");
	r->err = SB_ERR_NOMEM;
	return r->err;
}

struct sb_tar_reader *sb_tar_reader_new(struct sb_reader src)
{
	struct sb_tar_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->buf = malloc(RBUF_SIZE);
	if (!r || !r->buf) {
		sb_error("tar: out of memory");
		free(r);
		return NULL;
	}
	r->src = src;
	return r;
}

void sb_tar_reader_free(struct sb_tar_reader *r)
{
	if (!r)
		return;
	pax_release(&r->global);
	pax_release(&r->local);
	pax_release(&r->tmp);
	sb_buf_release(&r->ext);
	free(r->buf);
	free(r);
}

/* Pull from src into the buffer, never beyond r->horizon. Returns the bytes
 * added (0 at end of src or at the horizon) or a negative sb_err. */
static ssize_t tr_fill(struct sb_tar_reader *r)
{
	size_t room;
	ssize_t n;

	if (r->bpos == r->blen)
		r->bpos = r->blen = 0;
	else if (r->bpos && r->blen == RBUF_SIZE) {
		memmove(r->buf, r->buf + r->bpos, r->blen - r->bpos);
		r->blen -= r->bpos;
		r->bpos = 0;
	}
	room = RBUF_SIZE - r->blen;
	if (r->horizon <= r->src_pos)
		room = 0;
	else if (r->horizon - r->src_pos < room)
		room = (size_t)(r->horizon - r->src_pos);
	if (!room || r->src_eof)
		return 0;
	n = r->src.read(r->src.ctx, r->buf + r->blen, room);
	if (n < 0) {
		r->err = (int)n;
		return n;
	}
	if (n == 0)
		r->src_eof = true;
	if ((size_t)n > room)
		return tr_corrupt(r, r->src_pos, "source returned more than asked");
	r->blen += (size_t)n;
	r->src_pos += (uint64_t)n;
	return n;
}

/* Consume exactly n bytes (copied to dst unless NULL). Short input: corrupt. */
static int tr_pull(struct sb_tar_reader *r, void *dst, uint64_t n)
{
	unsigned char *d = dst;
	size_t k;
	ssize_t got;

	if (r->horizon < tr_pos(r) + n)
		r->horizon = tr_pos(r) + n;
	while (n) {
		if (r->bpos == r->blen) {
			got = tr_fill(r);
			if (got < 0)
				return (int)got;
			if (got == 0)
				return tr_corrupt(r, tr_pos(r), "truncated");
		}
		k = r->blen - r->bpos;
		if (k > n)
			k = (size_t)n;
		if (d) {
			memcpy(d, r->buf + r->bpos, k);
			d += k;
		}
		r->bpos += k;
		n -= k;
	}
	return 0;
}

/* Read one header block: 1 = got it, 0 = clean end of src, < 0 = error. */
static int tr_block(struct sb_tar_reader *r, unsigned char *blk)
{
	ssize_t got;

	if (r->horizon < tr_pos(r) + SB_TAR_BLOCK)
		r->horizon = tr_pos(r) + SB_TAR_BLOCK;
	while (r->blen - r->bpos < SB_TAR_BLOCK) {
		got = tr_fill(r);
		if (got < 0)
			return (int)got;
		if (got == 0)
			break;
	}
	if (r->bpos == r->blen)
		return 0;
	return tr_pull(r, blk, SB_TAR_BLOCK) ? r->err : 1;
}

/* Numeric header field: octal text (NUL/space padded) or GNU base-256
 * (0x80 positive, 0xff negative). Fails unless the value fits an int64. */
static int hdr_num(const unsigned char *b, size_t off, size_t len, int64_t *out)
{
	const unsigned char *f = b + off, *end;
	uint64_t acc;
	size_t i;

	if (f[0] == 0x80 || f[0] == 0xff) {
		acc = f[0] == 0xff ? UINT64_MAX : 0;
		for (i = 1; i < len; i++) {
			if ((acc >> 55) != (f[0] == 0xff ? 0x1ffu : 0))
				return SB_ERR_CORRUPT;
			acc = (acc << 8) | f[i];
		}
		*out = (int64_t)acc;
		return 0;
	}
	end = memchr(f, '\0', len);
	end = end ? end : f + len;
	while (f < end && strchr(" \t\n\r\v\f", *f))
		f++;
	while (end > f && strchr(" \t\n\r\v\f", end[-1]))
		end--;
	for (acc = 0; f < end; f++) {
		if (*f < '0' || *f > '7')
			return SB_ERR_CORRUPT;
		acc = acc * 8 + (unsigned)(*f - '0'); /* <= 12 digits: no overflow */
	}
	*out = (int64_t)acc;
	return 0;
}

static int hdr_unum(const unsigned char *b, size_t off, size_t len, uint64_t max, uint64_t *out)
{
	int64_t v;

	if (hdr_num(b, off, len, &v) || v < 0 || (uint64_t)v > max)
		return SB_ERR_CORRUPT;
	*out = (uint64_t)v;
	return 0;
}

/* A NUL-terminated (or field-filling) string field. */
static size_t hdr_strlen(const unsigned char *b, size_t off, size_t len)
{
	const unsigned char *nul = memchr(b + off, '\0', len);

	return nul ? (size_t)(nul - (b + off)) : len;
}

static bool checksum_ok(const unsigned char *b)
{
	long usum, ssum;
	int64_t v;

	if (hdr_num(b, H_CHKSUM, &v))
		return false;
	sum_block(b, &usum, &ssum);
	return v == usum || v == ssum;
}

/* Decimal digits only (pax size/uid/gid), fitting max. */
static int parse_udec(const unsigned char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!n)
		return SB_ERR_CORRUPT;
	while (n--) {
		if (*s < '0' || *s > '9' || v > (max - (unsigned)(*s - '0')) / 10)
			return SB_ERR_CORRUPT;
		v = v * 10 + (unsigned)(*s++ - '0');
	}
	*out = v;
	return 0;
}

/* PAX mtime: [-]digits[.digits] (one side of the dot may be empty), the
 * fraction truncated toward zero as duplicity does. */
static int parse_mtime(const unsigned char *s, size_t n, int64_t *out)
{
	const unsigned char *dot = memchr(s, '.', n);
	size_t ilen = dot ? (size_t)(dot - s) : n, flen = dot ? n - ilen - 1 : 0, i;
	bool neg = n && s[0] == '-';
	uint64_t v = 0;

	for (i = 0; i < flen; i++)
		if (dot[1 + i] < '0' || dot[1 + i] > '9')
			return SB_ERR_CORRUPT;
	if (ilen - neg == 0 && flen == 0)
		return SB_ERR_CORRUPT;
	if (ilen - neg && parse_udec(s + neg, ilen - neg, INT64_MAX, &v))
		return SB_ERR_CORRUPT;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int pax_str(char *dst, size_t cap, const unsigned char *v, size_t n)
{
	if (n >= cap || memchr(v, '\0', n))
		return SB_ERR_CORRUPT;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* Apply one record to p (later records win). Unknown keys are ignored. */
static int pax_apply(struct pax *p, const unsigned char *k, size_t klen, const unsigned char *v,
		     size_t vlen)
{
#define KEY(s) (klen == sizeof(s) - 1 && !memcmp(k, s, klen))
	int rc = 0;

	if (KEY("path")) {
		rc = sb_buf_set(&p->path, v, vlen) ? SB_ERR_NOMEM : 0;
		p->have |= F_PATH;
	} else if (KEY("linkpath")) {
		rc = sb_buf_set(&p->link, v, vlen) ? SB_ERR_NOMEM : 0;
		p->have |= F_LINK;
	} else if (KEY("size")) {
		rc = parse_udec(v, vlen, INT64_MAX, &p->size);
		p->have |= F_SIZE;
	} else if (KEY("uid")) {
		rc = parse_udec(v, vlen, UINT64_MAX, &p->uid);
		p->have |= F_UID;
	} else if (KEY("gid")) {
		rc = parse_udec(v, vlen, UINT64_MAX, &p->gid);
		p->have |= F_GID;
	} else if (KEY("mtime")) {
		rc = parse_mtime(v, vlen, &p->mtime);
		p->have |= F_MTIME;
	} else if (KEY("uname")) {
		rc = pax_str(p->uname, sizeof(p->uname), v, vlen);
		p->have |= F_UNAME;
	} else if (KEY("gname")) {
		rc = pax_str(p->gname, sizeof(p->gname), v, vlen);
		p->have |= F_GNAME;
	}
	/* hdrcharset only says how to decode names; we keep the raw bytes. */
	return rc;
#undef KEY
}

/* Parse "LEN key=value\n" records. Parsing stops quietly at a byte that
 * cannot start a record (NUL padding), as Python's tarfile does. */
static int pax_parse(struct sb_tar_reader *r, struct pax *p, uint64_t at)
{
	const unsigned char *b = r->ext.data, *eq, *rec;
	size_t n = r->ext.len, pos = 0, len, i;
	int rc;

	while (pos < n && b[pos] >= '0' && b[pos] <= '9') {
		rec = b + pos;
		for (len = 0, i = 0; i < n - pos && rec[i] >= '0' && rec[i] <= '9'; i++) {
			len = len * 10 + (size_t)(rec[i] - '0');
			if (len > n - pos)
				return tr_corrupt(r, at, "pax record longer than its header");
		}
		if (i == n - pos || rec[i] != ' ' || len < i + 4 || rec[len - 1] != '\n')
			return tr_corrupt(r, at, "malformed pax record");
		eq = memchr(rec + i + 1, '=', len - i - 2);
		if (!eq || eq == rec + i + 1)
			return tr_corrupt(r, at, "malformed pax record");
		rc = pax_apply(p, rec + i + 1, (size_t)(eq - (rec + i + 1)), eq + 1,
			       (size_t)(rec + len - 1 - (eq + 1)));
		if (rc == SB_ERR_NOMEM)
			return tr_nomem(r);
		if (rc)
			return tr_corrupt(r, at, "bad value in pax record");
		pos += len;
	}
	return 0;
}

/* Fields of src not yet in dst are copied (the first extension wins). */
static int pax_merge(struct pax *dst, const struct pax *src)
{
	unsigned add = src->have & ~dst->have;

	if ((add & F_PATH) && sb_buf_set(&dst->path, src->path.data, src->path.len))
		return SB_ERR_NOMEM;
	if ((add & F_LINK) && sb_buf_set(&dst->link, src->link.data, src->link.len))
		return SB_ERR_NOMEM;
	if (add & F_SIZE)
		dst->size = src->size;
	if (add & F_UID)
		dst->uid = src->uid;
	if (add & F_GID)
		dst->gid = src->gid;
	if (add & F_MTIME)
		dst->mtime = src->mtime;
	if (add & F_UNAME)
		memcpy(dst->uname, src->uname, sizeof(dst->uname));
	if (add & F_GNAME)
		memcpy(dst->gname, src->gname, sizeof(dst->gname));
	dst->have |= add;
	return 0;
}

/* Read the payload (and padding) of an extension header into r->ext. */
static int tr_ext_payload(struct sb_tar_reader *r, const unsigned char *h, uint64_t at)
{
	uint64_t size;

	if (hdr_unum(h, H_SIZE, EXT_MAX, &size))
		return tr_corrupt(r, at, "bad or oversized extension header size");
	sb_buf_reset(&r->ext);
	if (sb_buf_reserve(&r->ext, (size_t)size))
		return tr_nomem(r);
	if (tr_pull(r, r->ext.data, size) || tr_pull(r, NULL, -size % SB_TAR_BLOCK))
		return r->err;
	r->ext.len = (size_t)size;
	r->ext.data[size] = '\0';
	return 0;
}

/* Handle one extension header (x, X, g, L, K). */
static int tr_extension(struct sb_tar_reader *r, const unsigned char *h, uint64_t at)
{
	char t = (char)h[H_TYPE];
	struct sb_buf *dst;
	size_t len;
	int rc = tr_ext_payload(r, h, at);

	if (rc)
		return rc;
	if (t == 'g')
		return pax_parse(r, &r->global, at);
	if (t == 'x' || t == 'X') {
		pax_reset(&r->tmp);
		rc = pax_parse(r, &r->tmp, at);
		if (!rc && pax_merge(&r->local, &r->tmp))
			rc = tr_nomem(r);
		return rc;
	}
	/* GNU 'L' / 'K': a NUL-terminated name */
	len = strnlen((const char *)r->ext.data, r->ext.len);
	dst = t == 'L' ? &r->local.path : &r->local.link;
	if (r->local.have & (t == 'L' ? F_PATH : F_LINK))
		return 0;
	if (sb_buf_set(dst, r->ext.data, len))
		return tr_nomem(r);
	r->local.have |= t == 'L' ? F_PATH : F_LINK;
	return 0;
}

/* Fill e from a ustar/GNU/v7 header block, then apply extensions. */
static int tr_member(struct sb_tar_reader *r, const unsigned char *h, uint64_t at,
		     struct sb_tar_entry *e)
{
	bool posix = !memcmp(h + H_MAGIC, "ustar\0", 6);
	bool gnu = !memcmp(h + H_MAGIC, "ustar  \0", 8);
	const struct pax *g = &r->global, *l = &r->local;
	size_t nlen = hdr_strlen(h, H_NAME), plen = posix ? hdr_strlen(h, H_PREFIX) : 0;
	uint64_t mode, dmaj = 0, dmin = 0;
	int rc = 0;

	e->type = (char)h[H_TYPE];
	if (hdr_unum(h, H_MODE, UINT64_MAX, &mode) || hdr_unum(h, H_UID, UINT64_MAX, &e->uid) ||
	    hdr_unum(h, H_GID, UINT64_MAX, &e->gid) || hdr_unum(h, H_SIZE, INT64_MAX, &e->size) ||
	    hdr_num(h, H_MTIME, &e->mtime))
		return tr_corrupt(r, at, "bad numeric field in header");
	e->mode = (uint32_t)(mode & 07777);
	if (posix || gnu) {
		if (hdr_unum(h, H_DEVMAJ, UINT32_MAX, &dmaj) ||
		    hdr_unum(h, H_DEVMIN, UINT32_MAX, &dmin))
			return tr_corrupt(r, at, "bad device number in header");
		memcpy(e->uname, h + 265, hdr_strlen(h, H_UNAME));
		memcpy(e->gname, h + 297, hdr_strlen(h, H_GNAME));
	}
	e->devmajor = (uint32_t)dmaj;
	e->devminor = (uint32_t)dmin;
	if (plen && (sb_buf_add(&e->name, h + 345, plen) || sb_buf_addch(&e->name, '/')))
		return tr_nomem(r);
	if (sb_buf_add(&e->name, h, nlen) ||
	    sb_buf_set(&e->linkname, h + 157, hdr_strlen(h, H_LINK)))
		return tr_nomem(r);

		/* PAX and GNU extensions of this member first, then global ones. */
#define PICK(flag) ((l->have & (flag)) ? l : (g->have & (flag)) ? g : NULL)
	if (PICK(F_PATH))
		rc = sb_buf_set(&e->name, PICK(F_PATH)->path.data, PICK(F_PATH)->path.len);
	if (!rc && PICK(F_LINK))
		rc = sb_buf_set(&e->linkname, PICK(F_LINK)->link.data, PICK(F_LINK)->link.len);
	if (rc)
		return tr_nomem(r);
	if (PICK(F_SIZE))
		e->size = PICK(F_SIZE)->size;
	if (PICK(F_UID))
		e->uid = PICK(F_UID)->uid;
	if (PICK(F_GID))
		e->gid = PICK(F_GID)->gid;
	if (PICK(F_MTIME))
		e->mtime = PICK(F_MTIME)->mtime;
	if (PICK(F_UNAME))
		memcpy(e->uname, PICK(F_UNAME)->uname, sizeof(e->uname));
	if (PICK(F_GNAME))
		memcpy(e->gname, PICK(F_GNAME)->gname, sizeof(e->gname));
#undef PICK

	/* Old v7 tars mark a directory by a trailing '/' on a '\0' member. */
	if (e->type == '\0' && e->name.len && e->name.data[e->name.len - 1] == '/')
		e->type = SB_TAR_DIR;
	if (e->type == '\0' || e->type == '7')
		e->type = SB_TAR_REG;
	/* Like Python: link/device/dir/fifo members have no data blocks. */
	if (e->type >= SB_TAR_HARDLINK && e->type <= SB_TAR_FIFO)
		e->size = 0;
	return 0;
}

int sb_tar_reader_next(struct sb_tar_reader *r, struct sb_tar_entry *e)
{
	unsigned char h[SB_TAR_BLOCK];
	uint64_t at;
	bool ext = false, first = true;
	int rc;

	if (r->err)
		return r->err;
	if (r->state == ST_END)
		return 0;
	sb_tar_entry_clear(e);
	if (r->state == ST_DATA && tr_pull(r, NULL, r->data_left + r->pad_left))
		return r->err;
	r->state = ST_HEADER;
	r->data_left = r->pad_left = 0;
	pax_reset(&r->local);
	for (;;) {
		at = tr_pos(r);
		rc = tr_block(r, h);
		if (rc < 0)
			return rc;
		if (rc == 0 || !memcmp(h, zero_block, SB_TAR_BLOCK)) {
			if (ext)
				return tr_corrupt(r, at,
						  "end of archive after an extension header");
			r->state = ST_END;
			return 0;
		}
		if (!checksum_ok(h))
			return tr_corrupt(r, at, "bad header checksum");
		if (first && h[H_TYPE] != 'g') {
			e->offset = at;
			first = false;
		}
		if (!strchr("xXgLK", h[H_TYPE]) || !h[H_TYPE])
			break;
		ext = true;
		rc = tr_extension(r, h, at);
		if (rc)
			return rc;
	}
	rc = tr_member(r, h, at, e);
	if (rc)
		return rc;
	e->data_offset = tr_pos(r);
	if (e->size > UINT64_MAX - e->data_offset - 2 * SB_TAR_BLOCK)
		return tr_corrupt(r, at, "member size out of range");
	r->data_left = e->size;
	r->pad_left = -e->size % SB_TAR_BLOCK;
	/* Read ahead no further than the next header. */
	r->horizon = e->data_offset + e->size + r->pad_left + SB_TAR_BLOCK;
	r->state = ST_DATA;
	return 1;
}

ssize_t sb_tar_reader_read(struct sb_tar_reader *r, void *buf, size_t len)
{
	size_t n, k;
	ssize_t got;

	if (r->err)
		return r->err;
	if (r->state != ST_DATA || !r->data_left || !len)
		return 0;
	n = len;
	if (n > r->data_left)
		n = (size_t)r->data_left;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (r->bpos == r->blen && n >= DIRECT_MIN) {
		/* Large read, empty buffer: straight into the caller's memory. */
		got = r->src.read(r->src.ctx, buf, n);
		if (got < 0) {
			r->err = (int)got;
			return got;
		}
		if (got == 0 || (size_t)got > n)
			return tr_corrupt(r, tr_pos(r), got ? "source overrun" : "truncated");
		r->src_pos += (uint64_t)got;
		r->data_left -= (uint64_t)got;
		return got;
	}
	if (r->bpos == r->blen) {
		got = tr_fill(r);
		if (got < 0)
			return got;
		if (got == 0)
			return tr_corrupt(r, tr_pos(r), "truncated");
	}
	k = r->blen - r->bpos;
	if (k > n)
		k = n;
	memcpy(buf, r->buf + r->bpos, k);
	r->bpos += k;
	r->data_left -= k;
	return (ssize_t)k;
}
