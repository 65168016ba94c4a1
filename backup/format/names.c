/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * names.c - classify and build the names of archive files (see names.h and
 * duplicity-format.md §1).
 *
 * Reading follows duplicity 0.8.22's file_naming.parse(): the same patterns,
 * tried in the same order (short names before long ones, full before inc
 * before signatures), with the same regex semantics: a pattern is anchored
 * at the start, time fields match lazily, and a match ends at the end of
 * the name (Python's '$', which also matches before one final "\n") or at
 * any '.', so "duplicity-full.T.vol1.difftar.gpg.bak" is still volume 1.
 * Suffix flags look only at the end of the name, as duplicity does.
 *
 * Deliberate differences: a time field must be the 16-char form or the old
 * "YYYY-MM-DDTHH:MM:SS+HH:MM" form (duplicity would also take epoch numbers,
 * ages and plain dates there, which no writer produces and whose meaning
 * depends on the reader's clock); --file-prefix names are not recognised;
 * volume number 0 (an assertion failure in duplicity) is ignored.
 * Writing produces long names only. Nothing here logs: an unknown name is
 * normal and is simply ignored by callers.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "sealbox/names.h"
#include "sealbox/timefmt.h"

/* Largest time accepted from a short name: 9999-12-31T23:59:59Z. */
#define NAME_MAX_TIME 253402300799LL

/* One pattern match: byte ranges of the fields inside the name. */
struct name_match {
	size_t t0, t0len;   /* (start) time */
	size_t t1, t1len;   /* end time, inc kinds only */
	size_t num, numlen; /* volume number, volume kinds only */
	bool partial;
};

/* Python's '$' without MULTILINE: end of string or before a final "\n". */
static bool at_end(const char *s, size_t len, size_t p)
{
	return p == len || (p + 1 == len && s[p] == '\n');
}

/* "($|\.)": the pattern may stop here. */
static bool tail_ok(const char *s, size_t len, size_t p)
{
	return at_end(s, len, p) || (p < len && s[p] == '.');
}

static bool lit(const char *s, size_t len, size_t p, const char *w)
{
	size_t n = strlen(w);

	return p <= len && len - p >= n && memcmp(s + p, w, n) == 0;
}

/* "(\.part)?($|\.)" at p; part is ".part" or ".p", NULL for no group. */
static bool part_tail(const char *s, size_t len, size_t p, const char *part, bool *partial)
{
	if (part && lit(s, len, p, part) && tail_ok(s, len, p + strlen(part))) {
		*partial = true;
		return true;
	}
	*partial = false;
	return tail_ok(s, len, p);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_b36(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }

/*
 * Long tail at p, right after a time field:
 *   ".vol<digits>.difftar" + tail | ".manifest" | ".sigtar" (+ part + tail).
 * kw is "difftar", "manifest" or "sigtar"; part NULL when the pattern has no
 * partial group (inc volumes).
 */
static bool long_tail(const char *s, size_t len, size_t p, const char *kw, const char *part,
		      struct name_match *m)
{
	if (strcmp(kw, "difftar") == 0) {
		if (!lit(s, len, p, ".vol"))
			return false;
		p += 4;
		m->num = p;
		while (p < len && is_digit(s[p]))
			p++;
		m->numlen = p - m->num;
		if (m->numlen == 0)
			return false;
	}
	if (!lit(s, len, p, ".") || !lit(s, len, p + 1, kw))
		return false;
	return part_tail(s, len, p + 1 + strlen(kw), part, &m->partial);
}

/*
 * "^<head>\.(?P<time>.*?)<tail>" for full kinds, or
 * "^<head>\.(?P<t0>.*?)\.to\.(?P<t1>.*?)<tail>" for inc kinds: lazy groups
 * (no "\n" inside), leftmost shortest first, exactly as the regex engine.
 */
static bool long_match(const char *s, size_t len, const char *head, bool inc, const char *kw,
		       const char *part, struct name_match *m)
{
	size_t hl = strlen(head), e1, e2;

	if (!lit(s, len, 0, head) || !lit(s, len, hl, "."))
		return false;
	m->t0 = hl + 1;
	for (e1 = m->t0; e1 <= len; e1++) {
		if (!inc) {
			if (long_tail(s, len, e1, kw, part, m)) {
				m->t0len = e1 - m->t0;
				return true;
			}
		} else if (lit(s, len, e1, ".to.")) {
			m->t1 = e1 + 4;
			for (e2 = m->t1; e2 <= len; e2++) {
				if (long_tail(s, len, e2, kw, part, m)) {
					m->t0len = e1 - m->t0;
					m->t1len = e2 - m->t1;
					return true;
				}
				if (e2 == len || s[e2] == '\n')
					break;
			}
		}
		if (e1 == len || s[e1] == '\n')
			break;
	}
	return false;
}

/* One [0-9a-z]+ token at *p, preceded by '.'. */
static bool short_tok(const char *s, size_t len, size_t *p, size_t *start, size_t *tlen)
{
	if (!lit(s, len, *p, "."))
		return false;
	*start = ++(*p);
	while (*p < len && is_b36(s[*p]))
		(*p)++;
	*tlen = *p - *start;
	return *tlen > 0;
}

/*
 * Short patterns: "^<head>" then ntimes time tokens, then a volume token
 * when vol, then "." kw, then the optional ".p" (when part) and the tail.
 */
static bool short_match(const char *s, size_t len, const char *head, int ntimes, bool vol,
			const char *kw, const char *part, struct name_match *m)
{
	size_t p = strlen(head);

	if (!lit(s, len, 0, head) || !short_tok(s, len, &p, &m->t0, &m->t0len))
		return false;
	if (ntimes == 2 && !short_tok(s, len, &p, &m->t1, &m->t1len))
		return false;
	if (vol && !short_tok(s, len, &p, &m->num, &m->numlen))
		return false;
	if (!lit(s, len, p, ".") || !lit(s, len, p + 1, kw))
		return false;
	return part_tail(s, len, p + 1 + strlen(kw), part, &m->partial);
}

static bool from_base36(const char *s, size_t n, unsigned long long max, unsigned long long *v)
{
	unsigned long long x = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned d = is_digit(s[i]) ? (unsigned)(s[i] - '0') : (unsigned)(s[i] - 'a' + 10);

		if (x > (max - d) / 36)
			return false;
		x = x * 36 + d;
	}
	*v = x;
	return true;
}

/* duplicity's str2time(): a failed parse and time 0 both mean "no match". */
static bool field_time(const char *s, size_t start, size_t n, bool is_short, time_t *t)
{
	unsigned long long v;

	if (is_short) {
		if (!from_base36(s + start, n, NAME_MAX_TIME, &v))
			return false;
		*t = (time_t)v;
	} else if (sb_time_parse_name(s + start, n, t) != 0) {
		return false;
	}
	return *t != 0;
}

static bool field_vol(const char *s, const struct name_match *m, bool is_short, unsigned *vol)
{
	unsigned long long v = 0;
	size_t i;

	if (is_short) {
		if (!from_base36(s + m->num, m->numlen, UINT_MAX, &v))
			return false;
	} else {
		for (i = 0; i < m->numlen; i++) {
			v = v * 10 + (unsigned)(s[m->num + i] - '0');
			if (v > UINT_MAX)
				return false;
		}
	}
	*vol = (unsigned)v;
	return v != 0;
}

/*
 * check_full()/check_inc() of file_naming.py: the volume pattern, then the
 * manifest pattern, short forms first; the first that matches decides.
 */
static int check_set(const char *s, size_t len, bool inc, struct sb_name *out)
{
	const char *sh = inc ? "di" : "df", *lh = inc ? "duplicity-inc" : "duplicity-full";
	int ntimes = inc ? 2 : 1;
	struct name_match mv, mm;
	bool v, man, is_short = true;

	memset(&mv, 0, sizeof(mv));
	memset(&mm, 0, sizeof(mm));
	v = short_match(s, len, sh, ntimes, true, "dt", inc ? NULL : ".p", &mv);
	man = short_match(s, len, sh, ntimes, false, "m", ".p", &mm);
	if (!v && !man) {
		is_short = false;
		v = long_match(s, len, lh, inc, "difftar", inc ? NULL : ".part", &mv);
		man = long_match(s, len, lh, inc, "manifest", ".part", &mm);
	}
	if (!v && !man)
		return SB_ERR_NOTFOUND;
	if (v)
		mm = mv;
	if (!field_time(s, mm.t0, mm.t0len, is_short, &out->t0))
		return SB_ERR_NOTFOUND;
	if (inc && !field_time(s, mm.t1, mm.t1len, is_short, &out->t1))
		return SB_ERR_NOTFOUND;
	if (!inc)
		out->t1 = out->t0;
	out->full = !inc;
	out->partial = mm.partial;
	if (v) {
		out->kind = SB_KIND_VOL;
		return field_vol(s, &mm, is_short, &out->vol) ? 0 : SB_ERR_NOTFOUND;
	}
	out->kind = SB_KIND_MANIFEST;
	return 0;
}

/* check_sig(): full-signatures, and only if that pattern misses, new-signatures. */
static int check_sig(const char *s, size_t len, struct sb_name *out)
{
	struct name_match m;
	bool is_short = true, inc = false;

	memset(&m, 0, sizeof(m));
	if (!short_match(s, len, "dfs", 1, false, "st", ".p", &m)) {
		is_short = false;
		if (!long_match(s, len, "duplicity-full-signatures", false, "sigtar", ".part",
				&m)) {
			inc = true;
			is_short = true;
			if (!short_match(s, len, "dns", 2, false, "st", ".p", &m)) {
				is_short = false;
				if (!long_match(s, len, "duplicity-new-signatures", true, "sigtar",
						".part", &m))
					return SB_ERR_NOTFOUND;
			}
		}
	}
	if (!field_time(s, m.t0, m.t0len, is_short, &out->t0))
		return SB_ERR_NOTFOUND;
	if (inc && !field_time(s, m.t1, m.t1len, is_short, &out->t1))
		return SB_ERR_NOTFOUND;
	if (!inc)
		out->t1 = out->t0;
	out->kind = SB_KIND_SIG;
	out->full = !inc;
	out->partial = m.partial;
	return 0;
}

static bool ends_with(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && memcmp(s + len - n, w, n) == 0;
}

/* Strict 16-char time at s[p..]; only canonical times round-trip. */
static bool own_time(const char *s, size_t len, size_t p, time_t *t)
{
	char back[SB_TIME_NAME_LEN + 1];

	if (len - p < SB_TIME_NAME_LEN || sb_time_parse_name(s + p, SB_TIME_NAME_LEN, t) != 0)
		return false;
	sb_time_format_name(*t, back);
	return memcmp(back, s + p, SB_TIME_NAME_LEN) == 0;
}

/* sealbox-{full.T|inc.T0.to.T1}.{index[.gpg|.gz]|seal.asc}, nothing else. */
static int check_own(const char *s, size_t len, struct sb_name *out)
{
	size_t p;
	const char *rest;

	if (lit(s, len, 0, "sealbox-full.")) {
		p = 13;
		out->full = true;
		if (!own_time(s, len, p, &out->t0))
			return SB_ERR_NOTFOUND;
		out->t1 = out->t0;
		p += SB_TIME_NAME_LEN;
	} else if (lit(s, len, 0, "sealbox-inc.")) {
		p = 12;
		out->full = false;
		if (!own_time(s, len, p, &out->t0) || !lit(s, len, p + SB_TIME_NAME_LEN, ".to.") ||
		    !own_time(s, len, p + SB_TIME_NAME_LEN + 4, &out->t1))
			return SB_ERR_NOTFOUND;
		p += 2 * SB_TIME_NAME_LEN + 4;
	} else {
		return SB_ERR_NOTFOUND;
	}
	rest = s + p;
	len -= p;
	if ((len == 6 && memcmp(rest, ".index", 6) == 0) ||
	    (len == 10 && memcmp(rest, ".index.gpg", 10) == 0) ||
	    (len == 9 && memcmp(rest, ".index.gz", 9) == 0)) {
		out->kind = SB_KIND_INDEX;
		out->encrypted = len == 10;
		out->gzipped = len == 9;
		return 0;
	}
	if (len == 9 && memcmp(rest, ".seal.asc", 9) == 0) {
		out->kind = SB_KIND_SEAL;
		return 0;
	}
	return SB_ERR_NOTFOUND;
}

int sb_name_parse(const char *name, struct sb_name *out)
{
	size_t len;
	int rc;

	if (!name || !out)
		return SB_ERR_NOTFOUND;
	len = strlen(name);
	memset(out, 0, sizeof(*out));
	if (lit(name, len, 0, SB_TMP_PREFIX))
		return SB_ERR_NOTFOUND;
	if (lit(name, len, 0, "sealbox-")) {
		rc = check_own(name, len, out);
		goto out;
	}
	rc = check_set(name, len, false, out);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		rc = check_set(name, len, true, out);
	}
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		rc = check_sig(name, len, out);
	}
	if (rc == 0) {
		/* set_encryption_or_compression(): the last bytes only. */
		out->gzipped = ends_with(name, len, ".z") || ends_with(name, len, "gz");
		out->encrypted = ends_with(name, len, ".g") || ends_with(name, len, ".gpg");
	}
out:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

static const char *name_suffix(const struct sb_name *n)
{
	if (n->kind == SB_KIND_SEAL)
		return ".asc";
	if (n->encrypted)
		return ".gpg";
	if (n->gzipped && n->kind != SB_KIND_MANIFEST)
		return ".gz";
	return "";
}

int sb_name_format(const struct sb_name *n, char *buf, size_t size)
{
	char t0[SB_TIME_NAME_LEN + 1], t1[SB_TIME_NAME_LEN + 1], times[2 * SB_TIME_NAME_LEN + 8];
	const char *head, *part;
	char kind[32];
	int len;

	if (!n || !buf || (n->kind == SB_KIND_VOL) != (n->vol != 0) ||
	    (n->full && n->t0 != n->t1) ||
	    (n->partial && (n->kind == SB_KIND_INDEX || n->kind == SB_KIND_SEAL)))
		goto bad;
	sb_time_format_name(n->t0, t0);
	sb_time_format_name(n->t1, t1);
	if (n->full)
		snprintf(times, sizeof(times), "%s", t0);
	else
		snprintf(times, sizeof(times), "%s.to.%s", t0, t1);
	switch (n->kind) {
	case SB_KIND_VOL:
		head = n->full ? "duplicity-full" : "duplicity-inc";
		snprintf(kind, sizeof(kind), "vol%u.difftar", n->vol);
		break;
	case SB_KIND_MANIFEST:
		head = n->full ? "duplicity-full" : "duplicity-inc";
		snprintf(kind, sizeof(kind), "manifest");
		break;
	case SB_KIND_SIG:
		head = n->full ? "duplicity-full-signatures" : "duplicity-new-signatures";
		snprintf(kind, sizeof(kind), "sigtar");
		break;
	case SB_KIND_INDEX:
		head = n->full ? "sealbox-full" : "sealbox-inc";
		snprintf(kind, sizeof(kind), "index");
		break;
	case SB_KIND_SEAL:
		head = n->full ? "sealbox-full" : "sealbox-inc";
		snprintf(kind, sizeof(kind), "seal");
		break;
	default: goto bad;
	}
	part = n->partial ? ".part" : "";
	len = snprintf(buf, size, "%s.%s.%s%s%s", head, times, kind, part, name_suffix(n));
	if (len < 0 || (size_t)len >= size)
		goto bad;
	return len;
bad:
	sb_error("cannot format an archive name (kind %d, vol %u, buffer %zu)",
		 n ? (int)n->kind : -1, n ? n->vol : 0, size);
	return SB_ERR_PARAM;
}
