/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seal.c - the seal text (see seal.h): format, strict parse, clear-sign, and
 * a verification that tells an altered seal from one signed by another key.
 * It does not decide what a set's files are (the writer) nor compare a
 * target against seals (verify.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/seal.h"
#include "sealbox/timefmt.h"

void sb_seal_init(struct sb_seal *s) { memset(s, 0, sizeof(*s)); }

void sb_seal_release(struct sb_seal *s)
{
	size_t i;

	for (i = 0; i < s->nfiles; i++)
		free(s->files[i].name);
	free(s->files);
	sb_seal_init(s);
}

static bool name_ok(const char *n, size_t len)
{
	size_t i;

	if (!len || len > 255 || n[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int sb_seal_add_file(struct sb_seal *s, const char *name, uint64_t size,
		     const unsigned char sha256[32])
{
	struct sb_seal_file *f;

	if (!name_ok(name, strlen(name)))
		return SB_ERR_PARAM;
	if (s->nfiles == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		f = realloc(s->files, cap * sizeof(*f));
		if (!f)
			return SB_ERR_NOMEM;
		s->files = f;
		s->cap = cap;
	}
	f = &s->files[s->nfiles];
	if (!(f->name = strdup(name)))
		return SB_ERR_NOMEM;
	f->size = size;
	memcpy(f->sha256, sha256, 32);
	s->nfiles++;
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct sb_seal_file *)a)->name,
		      ((const struct sb_seal_file *)b)->name);
}

const struct sb_seal_file *sb_seal_find(const struct sb_seal *s, const char *name)
{
	struct sb_seal_file key = {.name = (char *)name};

	if (!s->nfiles)
		return NULL;
	return bsearch(&key, s->files, s->nfiles, sizeof(key), cmp_file);
}

int sb_seal_format(struct sb_seal *s, struct sb_buf *out)
{
	char t0[SB_TIME_NAME_LEN + 1], t1[SB_TIME_NAME_LEN + 1], hex[65];
	size_t i;
	int rc;

	if (s->nfiles)
		qsort(s->files, s->nfiles, sizeof(*s->files), cmp_file);
	sb_time_format_name(s->t0, t0);
	sb_time_format_name(s->t1, t1);
	rc = sb_buf_addf(out, "%s\nbackup-id %s\nset %s %s %s\n", SB_SEAL_MAGIC, s->backup_id,
			 s->full ? "full" : "inc", t0, t1);
	if (!rc) {
		if (s->has_prev)
			sb_hex(s->prev, 32, hex);
		rc = sb_buf_addf(out, "previous %s\n", s->has_prev ? hex : "none");
	}
	for (i = 0; !rc && i < s->nfiles; i++) {
		sb_hex(s->files[i].sha256, 32, hex);
		rc = sb_buf_addf(out, "file %s %llu %s\n", hex,
				 (unsigned long long)s->files[i].size, s->files[i].name);
	}
	if (!rc)
		rc = sb_buf_addf(out, "end %zu\n", s->nfiles);
	return rc;
}

/* ---- parsing: one line at a time, every field checked ---- */

struct lines {
	const char *p, *end;
	const char *line; /* current line, without '\n' */
	size_t len;
	unsigned no;
};

static bool next_line(struct lines *l)
{
	const char *nl;

	if (l->p >= l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	l->line = l->p;
	l->len = nl ? (size_t)(nl - l->p) : (size_t)(l->end - l->p);
	l->p = nl ? nl + 1 : l->end;
	l->no++;
	return true;
}

/* Does the line start with word + ' '? Then rest, rlen: what follows. */
static bool field(const struct lines *l, const char *word, const char **rest, size_t *rlen)
{
	size_t n = strlen(word);

	if (l->len <= n || memcmp(l->line, word, n) || l->line[n] != ' ')
		return false;
	*rest = l->line + n + 1;
	*rlen = l->len - n - 1;
	return true;
}

static bool hex_decode(const char *s, size_t len, unsigned char *out, size_t n)
{
	size_t i;

	if (len != 2 * n)
		return false;
	for (i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return false;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return true;
}

static bool dec_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 19 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static bool parse_set(struct sb_seal *s, const char *r, size_t n)
{
	size_t k = 0;

	if (n > 5 && !memcmp(r, "full ", 5)) {
		s->full = true;
		k = 5;
	} else if (n > 4 && !memcmp(r, "inc ", 4)) {
		s->full = false;
		k = 4;
	} else {
		return false;
	}
	r += k;
	n -= k;
	if (n != 2 * SB_TIME_NAME_LEN + 1 || r[SB_TIME_NAME_LEN] != ' ' ||
	    sb_time_parse_name(r, SB_TIME_NAME_LEN, &s->t0) ||
	    sb_time_parse_name(r + SB_TIME_NAME_LEN + 1, SB_TIME_NAME_LEN, &s->t1))
		return false;
	return s->full ? s->t0 == s->t1 : s->t0 < s->t1;
}

static bool parse_file(struct sb_seal *s, const char *r, size_t n)
{
	unsigned char sha[32];
	const char *sp;
	char name[256];
	uint64_t size;

	if (n < 66 || !hex_decode(r, 64, sha, 32) || r[64] != ' ')
		return false;
	r += 65;
	n -= 65;
	sp = memchr(r, ' ', n);
	if (!sp || !dec_u64(r, (size_t)(sp - r), &size))
		return false;
	n -= (size_t)(sp - r) + 1;
	r = sp + 1;
	if (!name_ok(r, n))
		return false;
	memcpy(name, r, n);
	name[n] = '\0';
	return sb_seal_add_file(s, name, size, sha) == 0;
}

/* 0, or SB_ERR_CORRUPT with l at the offending line (not logged). */
static int parse(struct sb_seal *s, struct lines *lp)
{
	struct lines l = *lp;
	const char *r;
	size_t n, i;
	uint64_t count;
	int step = 0; /* 0 magic, 1 id, 2 set, 3 previous, 4 files/end, 5 done */

	sb_seal_release(s);
	while (next_line(&l)) {
		if (step == 5) {
			if (l.len) /* only empty lines may follow "end" */
				goto bad;
			continue;
		}
		if (step == 0 && l.len == strlen(SB_SEAL_MAGIC) &&
		    !memcmp(l.line, SB_SEAL_MAGIC, l.len))
			step = 1;
		else if (step == 1 && field(&l, "backup-id", &r, &n) && n == SB_SEAL_ID_LEN &&
			 hex_decode(r, n, (unsigned char[SB_SEAL_ID_LEN / 2]){0},
				    SB_SEAL_ID_LEN / 2)) {
			memcpy(s->backup_id, r, n);
			s->backup_id[n] = '\0';
			step = 2;
		} else if (step == 2 && field(&l, "set", &r, &n) && parse_set(s, r, n))
			step = 3;
		else if (step == 3 && field(&l, "previous", &r, &n)) {
			if (n == 4 && !memcmp(r, "none", 4))
				s->has_prev = false;
			else if (hex_decode(r, n, s->prev, 32))
				s->has_prev = true;
			else
				goto bad;
			step = 4;
		} else if (step == 4 && field(&l, "file", &r, &n)) {
			if (!parse_file(s, r, n))
				goto bad;
		} else if (step == 4 && field(&l, "end", &r, &n) && dec_u64(r, n, &count) &&
			   count == s->nfiles)
			step = 5;
		else
			goto bad;
	}
	if (step != 5)
		goto bad;
	if (s->nfiles) /* qsort(NULL, 0) is undefined */
		qsort(s->files, s->nfiles, sizeof(*s->files), cmp_file);
	for (i = 1; i < s->nfiles; i++)
		if (!strcmp(s->files[i - 1].name, s->files[i].name))
			goto bad;
	return 0;
bad:
	*lp = l;
	sb_seal_release(s);
	return SB_ERR_CORRUPT;
}

int sb_seal_parse(struct sb_seal *s, const void *text, size_t len, const char *what)
{
	struct lines l = {.p = text, .end = (const char *)text + len};
	int rc = parse(s, &l);

	if (rc)
		sb_error("%s is not a valid seal: bad or missing line %u", what, l.no);
	return rc;
}

int sb_seal_sign(struct sb_seal *s, struct sb_crypto *c, const char *sign_fpr, struct sb_buf *out)
{
	struct sb_buf text = SB_BUF_INIT;
	int rc = sb_seal_format(s, &text);

	if (!rc)
		rc = sb_crypto_clearsign(c, sign_fpr, text.data, text.len, out);
	sb_buf_release(&text);
	return rc;
}

/* ---- verification ---- */

int sb_seal_verify(struct sb_crypto *c, const char *signer_fpr, const void *text, size_t len,
		   struct sb_seal *s, enum sb_seal_verdict *verdict, char why[256],
		   struct sb_buf *signed_text)
{
	struct sb_buf plain = SB_BUF_INIT;
	enum sb_sig_verdict v;
	struct lines lines;
	int rc;

	*verdict = SB_SEAL_BAD;
	sb_seal_release(s);
	/* the one signature check of the crypto layer; the text is parsed only after it */
	rc = sb_crypto_check_clearsigned(c, signer_fpr, text, len, &plain, &v, why);
	if (rc || v != SB_SIG_GOOD) {
		*verdict = v == SB_SIG_FOREIGN ? SB_SEAL_FOREIGN : SB_SEAL_BAD;
		goto out;
	}
	lines = (struct lines){.p = plain.data ? (const char *)plain.data : "",
			       .end = (plain.data ? (const char *)plain.data : "") + plain.len};
	if (parse(s, &lines))
		snprintf(why, 256, "is signed but not a valid seal (line %u)", lines.no);
	else
		*verdict = SB_SEAL_GOOD;
	if (*verdict == SB_SEAL_GOOD && signed_text)
		rc = sb_buf_add(signed_text, plain.data, plain.len);
out:
	sb_buf_release(&plain);
	return rc;
}

int sb_seal_new_id(char out[SB_SEAL_ID_LEN + 1])
{
	unsigned char r[SB_SEAL_ID_LEN / 2];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			sb_error("cannot get random bytes for a backup id: %s", strerror(errno));
			return SB_ERR_INTERNAL;
		}
		got += (size_t)n;
	}
	sb_hex(r, sizeof(r), out);
	return 0;
}
