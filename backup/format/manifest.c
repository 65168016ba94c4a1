/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manifest.c - read and write duplicity manifests (duplicity-format.md §2).
 *
 * Writing reproduces the file duplicity 0.8.22 streams while it backs up
 * (Hostname, Localdir, one block per volume, Filelist last), byte for byte.
 *
 * Reading follows Manifest.from_string()/VolumeInfo.from_string(): keys are
 * case-insensitive, Hostname/Localdir are the first matching line anywhere,
 * volume blocks run from a line starting with "volume<ws>" to the next one,
 * lines inside a block are split on ASCII whitespace, unknown lines are
 * skipped, and when a volume number repeats the later block wins and every
 * higher number is dropped. Where 0.8.22 would raise an exception we return
 * SB_ERR_CORRUPT (bad "Volume N:" line, StartingPath/EndingPath missing or
 * without a value, non-numeric block, Hash without a value, whitespace-only
 * line in a block, bad quoting). Our own additions: volume number 0, paths
 * with empty, "." or ".." components or NUL bytes, and a malformed chosen
 * hash value are corrupt too; gaps among the dropped numbers (a crash in
 * 0.8.22) are tolerated. A block without a usable Hash ("SHA1"/"MD5",
 * case-sensitive as in gpg.get_hash) parses with SB_HASH_NONE: callers must
 * refuse to restore from it. A malformed Filelist (count mismatch, unknown
 * kind) only drops the list, with a warning, as duplicity only logs it.
 * Input with no volume block at all parses as an empty manifest, as in
 * duplicity; callers check nvols.
 */
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/manifest.h"
#include "sealbox/path.h"

struct mf_tok {
	const unsigned char *p;
	size_t len;
};

static bool mf_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Bytes quoted by duplicity's Quote(): regex (\s|[\\"']) on bytes. */
static bool mf_needs_escape(unsigned char c)
{
	return mf_is_ws(c) || c == '\\' || c == '"' || c == '\'';
}

static bool mf_ieq(const unsigned char *p, size_t n, const char *w)
{
	size_t i;

	if (strlen(w) != n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)w[i])
			return false;
	}
	return true;
}

/* Case-insensitive prefix test, bounded by n. */
static bool mf_iprefix(const unsigned char *p, size_t n, const char *w)
{
	size_t wl = strlen(w);

	return n >= wl && mf_ieq(p, wl, w);
}

/* Split on ASCII whitespace; fills up to max tokens, returns the total. */
static size_t mf_split(const unsigned char *p, size_t n, struct mf_tok *t, size_t max)
{
	size_t i = 0, count = 0, start;

	while (i < n) {
		while (i < n && mf_is_ws(p[i]))
			i++;
		if (i >= n)
			break;
		start = i;
		while (i < n && !mf_is_ws(p[i]))
			i++;
		if (count < max) {
			t[count].p = p + start;
			t[count].len = i - start;
		}
		count++;
	}
	return count;
}

static void mf_truncate(struct sb_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

/* duplicity's Unquote(): no mapping of "." (Localdir "." is a real path). */
static int mf_unquote_raw(struct sb_buf *out, const unsigned char *t, size_t len)
{
	size_t i, start = out->len;
	int hi, lo, rc;

	if (len == 0)
		return SB_ERR_CORRUPT;
	if (t[0] != '"')
		return sb_buf_add(out, t, len);
	if (t[len - 1] != '"')
		return SB_ERR_CORRUPT;
	for (i = 1; i + 1 < len;) {
		if (t[i] != '\\') {
			rc = sb_buf_addch(out, t[i++]);
		} else if (i + 3 < len && t[i + 1] == 'x' && (hi = sb_hexval(t[i + 2])) >= 0 &&
			   (lo = sb_hexval(t[i + 3])) >= 0) {
			rc = sb_buf_addch(out, hi * 16 + lo);
			i += 4;
		} else {
			rc = SB_ERR_CORRUPT;
		}
		if (rc) {
			mf_truncate(out, start);
			return rc;
		}
	}
	return 0;
}

int sb_manifest_unquote(struct sb_buf *out, const char *tok, size_t len)
{
	size_t start = out->len;
	int rc = mf_unquote_raw(out, (const unsigned char *)tok, len);

	if (rc == 0 && out->len - start == 1 && out->data[start] == '.')
		mf_truncate(out, start);
	return rc;
}

int sb_manifest_quote(struct sb_buf *out, const char *path, size_t len)
{
	const unsigned char *p = (const unsigned char *)path;
	size_t i, start = out->len;
	bool quote = false;
	int rc = 0;

	if (len == 0)
		return sb_buf_addch(out, '.');
	for (i = 0; i < len && !quote; i++)
		quote = mf_needs_escape(p[i]);
	if (!quote)
		return sb_buf_add(out, p, len);
	rc = sb_buf_addch(out, '"');
	for (i = 0; i < len && rc == 0; i++) {
		if (mf_needs_escape(p[i]))
			rc = sb_buf_addf(out, "\\x%02x", p[i]);
		else
			rc = sb_buf_addch(out, p[i]);
	}
	if (rc == 0)
		rc = sb_buf_addch(out, '"');
	if (rc)
		mf_truncate(out, start);
	return rc;
}

/* sealbox path form: components non-empty, not "." or "..", no NUL. */
static bool mf_valid_path(const unsigned char *p, size_t len)
{
	size_t i = 0, start;

	if (len == 0)
		return true;
	while (i <= len) {
		start = i;
		while (i < len && p[i] != '/') {
			if (p[i] == '\0')
				return false;
			i++;
		}
		if (i == start || (i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return false;
		i++;
	}
	return true;
}

void sb_manifest_init(struct sb_manifest *m)
{
	memset(m, 0, sizeof(*m));
	sb_buf_init(&m->hostname);
	sb_buf_init(&m->localdir);
}

static void mf_vol_release(struct sb_manifest_vol *v)
{
	sb_buf_release(&v->start);
	sb_buf_release(&v->end);
}

static void mf_vol_init(struct sb_manifest_vol *v, unsigned num)
{
	memset(v, 0, sizeof(*v));
	v->num = num;
	sb_buf_init(&v->start);
	sb_buf_init(&v->end);
	v->start_block = -1;
	v->end_block = -1;
}

static void mf_files_release(struct sb_manifest *m)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		sb_buf_release(&m->files[i].path);
	free(m->files);
	m->files = NULL;
	m->nfiles = 0;
	m->files_cap = 0;
}

void sb_manifest_release(struct sb_manifest *m)
{
	size_t i;

	if (!m)
		return;
	sb_buf_release(&m->hostname);
	sb_buf_release(&m->localdir);
	for (i = 0; i < m->nvols; i++)
		mf_vol_release(&m->vols[i]);
	free(m->vols);
	mf_files_release(m);
	sb_manifest_init(m);
}

/* Index of the first volume with num >= wanted (binary search). */
static size_t mf_vol_pos(const struct sb_manifest *m, unsigned num)
{
	size_t lo = 0, hi = m->nvols, mid;

	if (m->nvols && m->vols[m->nvols - 1].num < num)
		return m->nvols; /* the usual case: appending in order */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->vols[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct sb_manifest_vol *sb_manifest_add_vol(struct sb_manifest *m, unsigned num)
{
	size_t pos = mf_vol_pos(m, num);
	struct sb_manifest_vol *v;

	if (num == 0)
		return NULL;
	if (pos < m->nvols && m->vols[pos].num == num) {
		/* A repeated number replaces the earlier block. */
		mf_vol_release(&m->vols[pos]);
		mf_vol_init(&m->vols[pos], num);
		return &m->vols[pos];
	}
	v = realloc(m->vols, (m->nvols + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m->vols = v;
	memmove(&v[pos + 1], &v[pos], (m->nvols - pos) * sizeof(*v));
	m->nvols++;
	mf_vol_init(&v[pos], num);
	return &v[pos];
}

static bool mf_kind_ok(const char *kind)
{
	return kind &&
	       (!strcmp(kind, "new") || !strcmp(kind, "changed") || !strcmp(kind, "deleted"));
}

int sb_manifest_add_file(struct sb_manifest *m, const char *kind, const char *path, size_t len)
{
	struct sb_manifest_file *f;

	if (!mf_kind_ok(kind)) {
		sb_error("manifest: bad file-list kind \"%s\"", kind ? kind : "(null)");
		return SB_ERR_PARAM;
	}
	if (m->nfiles == m->files_cap) {
		size_t cap = m->files_cap ? m->files_cap * 2 : 64;

		f = cap < SIZE_MAX / sizeof(*f) ? realloc(m->files, cap * sizeof(*f)) : NULL;
		if (!f)
			return SB_ERR_NOMEM;
		m->files = f;
		m->files_cap = cap;
	}
	f = &m->files[m->nfiles];
	memset(f, 0, sizeof(*f));
	strcpy(f->kind, kind);
	/* exactly the path's bytes: a full backup's list has one per file */
	if (len == SIZE_MAX || !(f->path.data = malloc(len + 1)))
		return SB_ERR_NOMEM;
	memcpy(f->path.data, path, len);
	f->path.data[len] = '\0';
	f->path.len = len;
	f->path.cap = len + 1;
	m->nfiles++;
	m->has_filelist = true;
	return 0;
}

const struct sb_manifest_vol *sb_manifest_get_vol(const struct sb_manifest *m, unsigned num)
{
	size_t pos = mf_vol_pos(m, num);

	return pos < m->nvols && m->vols[pos].num == num ? &m->vols[pos] : NULL;
}

unsigned sb_manifest_last_vol(const struct sb_manifest *m)
{
	return m->nvols ? m->vols[m->nvols - 1].num : 0;
}

bool sb_manifest_vol_may_contain(const struct sb_manifest_vol *v, const char *prefix, size_t plen)
{
	const char *start = sb_buf_str(&v->start), *end = sb_buf_str(&v->end);
	size_t k = 0, i, slen = v->start.len;

	if (plen == 0)
		return true;
	/* StartingPath[:len(P)]: keep as many components as P has. */
	for (i = 0; i < plen; i++)
		k += prefix[i] == '/';
	for (i = 0; i < slen; i++) {
		if (start[i] == '/' && k-- == 0) {
			slen = i;
			break;
		}
	}
	return sb_path_cmp(start, slen, prefix, plen) <= 0 &&
	       sb_path_cmp(prefix, plen, end, v->end.len) <= 0;
}

/* ------------------------------------------------------------------ */
/* Parsing */

struct mf_parse {
	const unsigned char *s;
	size_t len;
	const char *what;
};

static int mf_corrupt(const struct mf_parse *ps, const char *why, const unsigned char *at, size_t n)
{
	if (n > 80)
		n = 80;
	sb_error("%s: corrupt manifest: %s%s%s%s", ps->what ? ps->what : "manifest", why,
		 at ? " near \"" : "", at ? sb_log_str((const char *)at, n) : "", at ? "\"" : "");
	return SB_ERR_CORRUPT;
}

static const unsigned char *mf_nl(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = memchr(p, '\n', (size_t)(end - p));

	return q ? q : end;
}

/* Is there a "volume<ws>" line at offset o (a line start)? */
static bool mf_vol_start(const struct mf_parse *ps, size_t o)
{
	return ps->len - o > 6 && mf_iprefix(ps->s + o, 6, "volume") && mf_is_ws(ps->s[o + 6]);
}

/* End of a region running to the next "\nvolume<ws>" or to "$". */
static size_t mf_region_end(const struct mf_parse *ps, size_t from)
{
	size_t o;

	for (o = from; o < ps->len; o++) {
		if (ps->s[o] == '\n' && mf_vol_start(ps, o + 1))
			return o;
	}
	/* Python's '$' also matches before a final newline; lazy takes that. */
	if (ps->len > from && ps->s[ps->len - 1] == '\n')
		return ps->len - 1;
	return ps->len;
}

/*
 * re.search("(^|\n)<name>\s(.*?)\n", re.I): the value of the first line
 * "<name><one ws byte><value>\n". Returns false when absent.
 */
static bool mf_find_field(const struct mf_parse *ps, const char *name, struct mf_tok *val)
{
	size_t o = 0, nl = strlen(name);
	const unsigned char *end = ps->s + ps->len, *v, *e;

	while (o < ps->len) {
		if (ps->len - o > nl && mf_iprefix(ps->s + o, ps->len - o, name) &&
		    mf_is_ws(ps->s[o + nl])) {
			v = ps->s + o + nl + 1;
			e = mf_nl(v, end);
			if (e < end) {
				val->p = v;
				val->len = (size_t)(e - v);
				return true;
			}
		}
		e = mf_nl(ps->s + o, end);
		if (e == end)
			break;
		o = (size_t)(e - ps->s) + 1;
	}
	return false;
}

static int mf_hex(const struct mf_tok *t, unsigned char *out, size_t n)
{
	return sb_unhex((const char *)t->p, t->len, out, n) ? SB_ERR_CORRUPT : 0;
}

/* Block number: decimal digits only, fits a long. */
static bool mf_block(const struct mf_tok *t, long *out)
{
	long v = 0;
	size_t i;

	if (t->len == 0 || t->len > 18)
		return false;
	for (i = 0; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
		v = v * 10 + (t->p[i] - '0');
	}
	*out = v;
	return true;
}

/* "^Volume ([0-9]+):" (case-insensitive) on the first line of a block. */
static bool mf_vol_header(const unsigned char *p, size_t n, unsigned *num)
{
	unsigned long long v = 0;
	size_t i = 7;

	if (n < 9 || !mf_iprefix(p, n, "volume ") || p[7] < '0' || p[7] > '9')
		return false;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		v = v * 10 + (unsigned)(p[i] - '0');
		if (v > 0xffffffffULL)
			return false;
	}
	if (i >= n || p[i] != ':' || v == 0)
		return false;
	*num = (unsigned)v;
	return true;
}

/* StartingPath/EndingPath value: quoted index and optional block number. */
static int mf_path_field(const struct mf_parse *ps, const struct mf_tok *t, size_t nt,
			 struct sb_buf *path, long *block)
{
	sb_buf_reset(path);
	if (sb_manifest_unquote(path, (const char *)t[1].p, t[1].len) != 0)
		return mf_corrupt(ps, "bad quoted path", t[1].p, t[1].len);
	if (!mf_valid_path(path->data ? path->data : (const unsigned char *)"", path->len))
		return mf_corrupt(ps, "bad path", t[1].p, t[1].len);
	*block = -1;
	if (nt > 2 && !mf_block(&t[2], block))
		return mf_corrupt(ps, "bad block number", t[2].p, t[2].len);
	return 0;
}

/* VolumeInfo.from_string() on the block [b, e). */
static int mf_parse_block(const struct mf_parse *ps, struct sb_manifest_vol *v,
			  const unsigned char *b, const unsigned char *e)
{
	struct mf_tok t[3], sha1 = {NULL, 0}, md5 = {NULL, 0};
	const unsigned char *line, *le;
	bool have_start = false, have_end = false;
	size_t nt;
	int rc;

	/* The block starts at "volume"; first line checked by the caller. */
	while (e > b && mf_is_ws(e[-1]))
		e--;
	for (line = mf_nl(b, e); line < e; line = le) {
		line++;
		le = mf_nl(line, e);
		if (le == line)
			continue;
		nt = mf_split(line, (size_t)(le - line), t, 3);
		if (nt == 0)
			return mf_corrupt(ps, "blank line in a volume block", NULL, 0);
		if (mf_ieq(t[0].p, t[0].len, "startingpath") ||
		    mf_ieq(t[0].p, t[0].len, "endingpath")) {
			bool is_start = mf_ieq(t[0].p, t[0].len, "startingpath");

			if (nt < 2)
				return mf_corrupt(ps, "path field without a value", line,
						  (size_t)(le - line));
			rc = mf_path_field(ps, t, nt, is_start ? &v->start : &v->end,
					   is_start ? &v->start_block : &v->end_block);
			if (rc)
				return rc;
			*(is_start ? &have_start : &have_end) = true;
		} else if (mf_ieq(t[0].p, t[0].len, "hash")) {
			if (nt < 3)
				return mf_corrupt(ps, "Hash without a value", line,
						  (size_t)(le - line));
			/* Hash names are dictionary keys: case-sensitive. */
			if (t[1].len == 4 && !memcmp(t[1].p, "SHA1", 4))
				sha1 = t[2];
			else if (t[1].len == 3 && !memcmp(t[1].p, "MD5", 3))
				md5 = t[2];
		}
	}
	if (!have_start || !have_end)
		return mf_corrupt(ps, "volume without StartingPath or EndingPath", b,
				  (size_t)(mf_nl(b, e) - b));
	if (sha1.p) {
		v->hash_type = SB_HASH_SHA1;
		rc = mf_hex(&sha1, v->hash, 20);
	} else if (md5.p) {
		v->hash_type = SB_HASH_MD5;
		rc = mf_hex(&md5, v->hash, 16);
	} else {
		rc = 0;
	}
	if (rc)
		return mf_corrupt(ps, "bad hash value", sha1.p ? sha1.p : md5.p,
				  sha1.p ? sha1.len : md5.len);
	return 0;
}

static int mf_parse_vols(const struct mf_parse *ps, struct sb_manifest *m)
{
	struct sb_manifest_vol *v;
	size_t o = 0, e;
	unsigned num, last = 0;
	int rc;

	while (o < ps->len) {
		if ((o == 0 || ps->s[o - 1] == '\n') && mf_vol_start(ps, o)) {
			e = mf_region_end(ps, o + 7);
			if (!mf_vol_header(ps->s + o,
					   (size_t)(mf_nl(ps->s + o, ps->s + e) - ps->s - o), &num))
				return mf_corrupt(
					ps, "bad volume line", ps->s + o,
					(size_t)(mf_nl(ps->s + o, ps->s + e) - ps->s - o));
			v = sb_manifest_add_vol(m, num);
			if (!v)
				return SB_ERR_NOMEM;
			rc = mf_parse_block(ps, v, ps->s + o, ps->s + e);
			if (rc)
				return rc;
			last = num;
			o = e;
			continue;
		}
		o++;
	}
	/* A restarted backup may repeat numbers: drop all above the last one. */
	while (m->nvols && m->vols[m->nvols - 1].num > last)
		mf_vol_release(&m->vols[--m->nvols]);
	return 0;
}

/* The Filelist lines [b, e), count expected; false when malformed. */
static int mf_parse_files(struct sb_manifest *m, const unsigned char *b, const unsigned char *e,
			  unsigned long long count)
{
	struct mf_tok t[2];
	const unsigned char *line, *le;
	struct sb_buf path = SB_BUF_INIT;
	char kind[8];
	int rc = 0;

	for (line = b; count > 0 && line <= e; line = le + 1) {
		le = mf_nl(line, e);
		if (mf_split(line, (size_t)(le - line), t, 2) != 2 || t[0].len >= sizeof(kind)) {
			rc = SB_ERR_CORRUPT;
			goto out;
		}
		memcpy(kind, t[0].p, t[0].len);
		kind[t[0].len] = '\0';
		sb_buf_reset(&path);
		if (!mf_kind_ok(kind) || mf_unquote_raw(&path, t[1].p, t[1].len) != 0 ||
		    path.len == 0 || !mf_valid_path(path.data, path.len)) {
			rc = SB_ERR_CORRUPT;
			goto out;
		}
		rc = sb_manifest_add_file(m, kind, (const char *)path.data, path.len);
		if (rc)
			goto out;
		if (le == e)
			break;
	}
	if (m->nfiles != count)
		rc = SB_ERR_CORRUPT;
out:
	sb_buf_release(&path);
	return rc;
}

/* re.search("(^|\n)filelist\s([0-9]+)\n(.*?)(\nvolume\s|$)", re.I | re.S). */
static int mf_parse_filelist(const struct mf_parse *ps, struct sb_manifest *m)
{
	unsigned long long count;
	size_t o = 0, i, e;
	int rc;

	for (o = 0; o < ps->len; o++) {
		if (!(o == 0 || ps->s[o - 1] == '\n') || ps->len - o < 11 ||
		    !mf_iprefix(ps->s + o, ps->len - o, "filelist") || !mf_is_ws(ps->s[o + 8]))
			continue;
		count = 0;
		for (i = o + 9; i < ps->len && ps->s[i] >= '0' && ps->s[i] <= '9'; i++)
			count = count < ps->len ? count * 10 + (ps->s[i] - '0') : count;
		if (i == o + 9 || i >= ps->len || ps->s[i] != '\n')
			continue;
		m->has_filelist = true;
		if (count == 0)
			return 0;
		e = mf_region_end(ps, i + 1);
		rc = count > ps->len ? SB_ERR_CORRUPT
				     : mf_parse_files(m, ps->s + i + 1, ps->s + e, count);
		if (rc == SB_ERR_NOMEM)
			return rc;
		if (rc) {
			sb_warn("%s: ignoring a malformed Filelist section",
				ps->what ? ps->what : "manifest");
			mf_files_release(m);
			m->has_filelist = false;
		}
		return 0;
	}
	return 0;
}

static int mf_parse_header(const struct mf_parse *ps, const char *name, struct sb_buf *out)
{
	struct mf_tok val;

	if (!mf_find_field(ps, name, &val))
		return 0;
	if (mf_unquote_raw(out, val.p, val.len) != 0)
		return mf_corrupt(ps, name[0] == 'h' ? "bad Hostname" : "bad Localdir", val.p,
				  val.len);
	return 0;
}

int sb_manifest_parse(struct sb_manifest *m, const void *data, size_t len, const char *what)
{
	struct mf_parse ps = {data, len, what};
	struct sb_manifest tmp;
	int rc;

	sb_manifest_init(&tmp);
	if (!data && len) {
		rc = mf_corrupt(&ps, "no data", NULL, 0);
		goto out;
	}
	if (!data)
		ps.s = (const unsigned char *)"";
	rc = mf_parse_header(&ps, "hostname", &tmp.hostname);
	if (!rc)
		rc = mf_parse_header(&ps, "localdir", &tmp.localdir);
	if (!rc)
		rc = mf_parse_vols(&ps, &tmp);
	if (!rc)
		rc = mf_parse_filelist(&ps, &tmp);
	if (rc == SB_ERR_NOMEM)
		sb_error("%s: out of memory parsing the manifest", what ? what : "manifest");
	if (!rc) {
		sb_manifest_release(m);
		*m = tmp;
		return 0;
	}
out:
	sb_manifest_release(&tmp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Formatting */

static int mf_format_path(struct sb_buf *out, const char *key, const struct sb_buf *path,
			  long block)
{
	int rc;

	rc = sb_buf_addf(out, "    %s", key);
	if (!rc)
		rc = sb_manifest_quote(out, (const char *)sb_buf_str(path), path->len);
	/* "%s %s" with bfmt(None) == " ": a missing block leaves two spaces. */
	if (!rc)
		rc = block < 0 ? sb_buf_addstr(out, "  \n") : sb_buf_addf(out, " %ld\n", block);
	return rc;
}

static int mf_format_vol(struct sb_buf *out, const struct sb_manifest_vol *v)
{
	size_t i, n = v->hash_type == SB_HASH_SHA1 ? 20 : 16;
	int rc;

	rc = sb_buf_addf(out, "Volume %u:\n", v->num);
	if (!rc)
		rc = mf_format_path(out, "StartingPath   ", &v->start, v->start_block);
	if (!rc)
		rc = mf_format_path(out, "EndingPath     ", &v->end, v->end_block);
	if (!rc)
		rc = sb_buf_addstr(out, v->hash_type == SB_HASH_SHA1 ? "    Hash SHA1 "
								     : "    Hash MD5 ");
	for (i = 0; i < n && !rc; i++)
		rc = sb_buf_addf(out, "%02x", v->hash[i]);
	if (!rc)
		rc = sb_buf_addch(out, '\n');
	return rc;
}

static bool mf_vol_formattable(const struct sb_manifest_vol *v)
{
	return v->num > 0 && (v->hash_type == SB_HASH_SHA1 || v->hash_type == SB_HASH_MD5) &&
	       mf_valid_path(v->start.data, v->start.len) && mf_valid_path(v->end.data, v->end.len);
}

static bool mf_hostname_ok(const struct sb_buf *h)
{
	size_t i;

	for (i = 0; i < h->len; i++) {
		if (mf_is_ws(h->data[i]) || h->data[i] == '\0')
			return false;
	}
	return h->len == 0 || h->data[0] != '"';
}

int sb_manifest_format(const struct sb_manifest *m, struct sb_buf *out)
{
	size_t i, start = out->len;
	int rc = 0;

	if (!mf_hostname_ok(&m->hostname)) {
		sb_error("manifest: hostname %s cannot be written",
			 sb_log_str(sb_buf_str(&m->hostname), m->hostname.len));
		return SB_ERR_PARAM;
	}
	for (i = 0; i < m->nvols; i++) {
		if (!mf_vol_formattable(&m->vols[i]) ||
		    (i && m->vols[i - 1].num >= m->vols[i].num)) {
			sb_error("manifest: volume %u has no hash or a bad path", m->vols[i].num);
			return SB_ERR_PARAM;
		}
	}
	for (i = 0; i < m->nfiles; i++) {
		const struct sb_manifest_file *f = &m->files[i];

		if (!memchr(f->kind, '\0', sizeof(f->kind)) || !mf_kind_ok(f->kind) ||
		    f->path.len == 0 || !mf_valid_path(f->path.data, f->path.len)) {
			sb_error("manifest: bad file-list entry %zu", i);
			return SB_ERR_PARAM;
		}
	}
	if (m->hostname.len) {
		rc = sb_buf_addstr(out, "Hostname ");
		if (!rc)
			rc = sb_buf_add(out, m->hostname.data, m->hostname.len);
		if (!rc)
			rc = sb_buf_addch(out, '\n');
	}
	if (!rc && m->localdir.len) {
		rc = sb_buf_addstr(out, "Localdir ");
		if (!rc)
			rc = sb_manifest_quote(out, sb_buf_str(&m->localdir), m->localdir.len);
		if (!rc)
			rc = sb_buf_addch(out, '\n');
	}
	for (i = 0; i < m->nvols && !rc; i++)
		rc = mf_format_vol(out, &m->vols[i]);
	if (!rc && (m->has_filelist || m->nfiles))
		rc = sb_buf_addf(out, "Filelist %zu\n", m->nfiles);
	for (i = 0; i < m->nfiles && !rc; i++) {
		rc = sb_buf_addf(out, "    %-7s  ", m->files[i].kind);
		if (!rc)
			rc = sb_manifest_quote(out, sb_buf_str(&m->files[i].path),
					       m->files[i].path.len);
		if (!rc)
			rc = sb_buf_addch(out, '\n');
	}
	if (rc) {
		mf_truncate(out, start);
		sb_error("manifest: out of memory formatting");
	}
	return rc;
}
