/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * setstream.c - one set's objects from its volumes (see setstream.h). Each
 * volume comes from the gate (gate.h) as proven plaintext in an unlinked
 * file: hashed against its seal and manifest, decrypted, signer checked,
 * bounded, before the tar reader sees a byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/gate.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/sigstate.h"
#include "sealbox/setstream.h"

#define PREFETCH 2 /* volumes read ahead per set */

struct setstream {
	struct sb_gate *g;
	const struct sb_set *set;
	const struct sb_manifest *m;
	unsigned *vols; /* selected volume numbers */
	size_t nvols, next_vol;
	unsigned read_vols;
	/* the open volume: its proven plaintext in an unlinked file */
	unsigned cur_vol;
	int fd;
	struct sb_tar_reader *tar;
	/* the current tar member */
	struct sb_tar_entry e;
	const char *prefix;
	struct sb_buf epath;
	long block;
	int has_entry; /* e holds an unconsumed member */
	int eof;
	/* the current object */
	struct ss_object obj;
	int has_obj;
	int obj_done; /* its data is consumed to the end */
	int advanced; /* ...and the next member is already in e */
	/* read-ahead: the next selected volumes are fetched and proven while this
	   one is parsed */
	struct prefetch {
		pthread_t th;
		bool running;
		unsigned vol;
		int fd; /* plaintext, -1 when none */
		int rc;
		struct setstream *s;
	} pf[PREFETCH]; /* the next PREFETCH selected volumes, two gpg at once */
};

static int fetch_volume(struct setstream *s, unsigned num, int *fd)
{
	const char *name = sb_gate_volume_name(s->set, num);

	*fd = -1;
	if (!name)
		return SB_ERR_NOTFOUND;
	return sb_gate_fetch_fd(s->g, s->set, name, s->m, SB_GATE_MAX_VOLUME, fd);
}

static void close_volume(struct setstream *s, bool done)
{
	sb_tar_reader_free(s->tar);
	s->tar = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->cur_vol = 0;
	if (done)
		s->read_vols++;
}

/* The read-ahead thread: fetch and prove volume p->vol into p->fd. */
static void *prefetch_main(void *arg)
{
	struct prefetch *p = arg;

	p->rc = fetch_volume(p->s, p->vol, &p->fd);
	return NULL;
}

/* The read-ahead slot for volume num, or NULL. */
static struct prefetch *prefetch_find(struct setstream *s, unsigned num)
{
	int i;

	for (i = 0; i < PREFETCH; i++)
		if (s->pf[i].running && s->pf[i].vol == num)
			return &s->pf[i];
	return NULL;
}

/* Keep the next PREFETCH selected volumes being read ahead. */
static void prefetch_next(struct setstream *s)
{
	size_t k;
	int i;

	for (k = s->next_vol; k < s->nvols && k < s->next_vol + PREFETCH; k++) {
		unsigned num = s->vols[k];

		if (num > s->set->nvols || !s->set->vols[num - 1] || prefetch_find(s, num))
			continue; /* a missing volume is reported when it is needed */
		for (i = 0; i < PREFETCH && s->pf[i].running; i++)
			;
		if (i == PREFETCH)
			return;
		s->pf[i].s = s;
		s->pf[i].vol = num;
		s->pf[i].fd = -1;
		s->pf[i].rc = 0;
		s->pf[i].running =
			pthread_create(&s->pf[i].th, NULL, prefetch_main, &s->pf[i]) == 0;
	}
}

static void prefetch_join(struct prefetch *p)
{
	if (!p->running)
		return;
	pthread_join(p->th, NULL);
	p->running = false;
}

static int open_volume(struct setstream *s, unsigned num)
{
	struct prefetch *p = prefetch_find(s, num);
	int rc;

	if (p) {
		prefetch_join(p);
		rc = p->rc;
		s->fd = p->fd;
		p->fd = -1;
	} else {
		rc = fetch_volume(s, num, &s->fd);
	}
	if (rc)
		return rc;
	s->cur_vol = num;
	s->tar = sb_tar_reader_new((struct sb_reader){sb_fd_read, &s->fd});
	if (!s->tar) {
		close_volume(s, false);
		return SB_ERR_NOMEM;
	}
	prefetch_next(s);
	return 0;
}

/* Next tar member across volumes into s->e. 1, 0 at the end of the set, < 0. */
static int next_entry(struct setstream *s)
{
	int rc;

	s->has_entry = 0;
	for (;;) {
		if (s->eof)
			return 0;
		if (!s->tar) {
			if (s->next_vol == s->nvols) {
				s->eof = 1;
				return 0;
			}
			rc = open_volume(s, s->vols[s->next_vol++]);
			if (rc)
				return rc;
		}
		rc = sb_tar_reader_next(s->tar, &s->e);
		if (rc < 0) {
			sb_error("volume %s is corrupt", s->set->vols[s->cur_vol - 1]);
			close_volume(s, false);
			return rc;
		}
		if (rc == 0) {
			close_volume(s, true);
			continue;
		}
		rc = sb_member_split(&s->e.name, &s->prefix, &s->epath, &s->block);
		if (rc) {
			sb_error("volume %s: unexpected member %s", s->set->vols[s->cur_vol - 1],
				 sb_log_str((const char *)s->e.name.data, s->e.name.len));
			return rc;
		}
		if (!strcmp(s->prefix, "signature")) {
			sb_error("volume %s: unexpected member %s", s->set->vols[s->cur_vol - 1],
				 sb_log_str((const char *)s->e.name.data, s->e.name.len));
			return SB_ERR_CORRUPT;
		}
		s->has_entry = 1;
		return 1;
	}
}

static bool same_run(struct setstream *s)
{
	return s->has_entry && !strncmp(s->prefix, "multivol_", 9) &&
	       ((s->obj.kind == SS_DIFF) == !strcmp(s->prefix, "multivol_diff")) &&
	       s->epath.len == s->obj.path.len &&
	       !memcmp(s->epath.data, s->obj.path.data, s->epath.len);
}

int ss_peek(struct setstream *s, const struct ss_object **o)
{
	int rc;

	if (!s->has_obj) {
		if (!s->has_entry) {
			rc = next_entry(s);
			if (rc <= 0)
				return rc;
		}
		/* a chunk run that started in a volume we skipped: not ours to read */
		while (s->block > 1) {
			rc = next_entry(s);
			if (rc <= 0)
				return rc;
		}
		s->obj.multivol = !strncmp(s->prefix, "multivol_", 9);
		s->obj.vol = s->cur_vol;
		s->obj.offset = s->e.offset;
		s->obj.kind = strstr(s->prefix, "diff")	      ? SS_DIFF
			      : !strcmp(s->prefix, "deleted") ? SS_DELETED
							      : SS_SNAPSHOT;
		if (sb_buf_set(&s->obj.path, s->epath.data, s->epath.len))
			return SB_ERR_NOMEM;
		sb_tar_entry_clear(&s->obj.hdr);
		sb_buf_set(&s->obj.hdr.name, s->e.name.data, s->e.name.len);
		sb_buf_set(&s->obj.hdr.linkname, s->e.linkname.data, s->e.linkname.len);
		s->obj.hdr.type = s->e.type == '\0' || s->e.type == '7' ? SB_TAR_REG : s->e.type;
		s->obj.hdr.mode = s->e.mode;
		s->obj.hdr.uid = s->e.uid;
		s->obj.hdr.gid = s->e.gid;
		memcpy(s->obj.hdr.uname, s->e.uname, sizeof(s->e.uname));
		memcpy(s->obj.hdr.gname, s->e.gname, sizeof(s->e.gname));
		s->obj.hdr.mtime = s->e.mtime;
		s->obj.hdr.size = s->e.size;
		s->obj.hdr.devmajor = s->e.devmajor;
		s->obj.hdr.devminor = s->e.devminor;
		s->has_obj = 1;
		s->obj_done = 0;
		s->advanced = 0;
	}
	*o = &s->obj;
	return 1;
}

ssize_t ss_read(void *ctx, void *buf, size_t n)
{
	struct setstream *s = ctx;
	ssize_t r;
	int rc;

	for (;;) {
		if (!s->has_obj || s->obj_done || !s->has_entry)
			return 0;
		r = sb_tar_reader_read(s->tar, buf, n);
		if (r != 0)
			return r;
		if (!s->obj.multivol) {
			s->obj_done = 1;
			return 0;
		}
		/* end of this chunk: continue with the next one of the run */
		rc = next_entry(s);
		if (rc < 0)
			return rc;
		if (rc == 0 || !same_run(s)) {
			s->obj_done = 1;
			s->advanced = 1;
			return 0;
		}
	}
}

int ss_next(struct setstream *s)
{
	int rc;

	if (!s->has_obj)
		return 0;
	s->has_obj = 0;
	if (s->advanced) /* already positioned on the next member (or at the end) */
		return 0;
	for (;;) {
		rc = next_entry(s);
		if (rc <= 0)
			return rc;
		if (!s->obj.multivol || !same_run(s))
			return 0;
	}
}

struct by_prefix {
	const char *prefix;
	size_t len;
};

static bool vol_has_prefix(void *ctx, const struct sb_manifest_vol *v)
{
	const struct by_prefix *b = ctx;

	return !b->len || sb_manifest_vol_may_contain(v, b->prefix, b->len);
}

int ss_open(struct sb_gate *g, const struct sb_set *set, const struct sb_manifest *m,
	    const char *prefix, struct setstream **out)
{
	struct by_prefix b = {prefix ? prefix : "", prefix ? strlen(prefix) : 0};

	return ss_open_sel(g, set, m, vol_has_prefix, &b, out);
}

int ss_open_sel(struct sb_gate *g, const struct sb_set *set, const struct sb_manifest *m,
		bool (*want)(void *ctx, const struct sb_manifest_vol *v), void *ctx,
		struct setstream **out)
{
	struct setstream *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s || !(s->vols = calloc(m->nvols ? m->nvols : 1, sizeof(*s->vols)))) {
		free(s);
		return SB_ERR_NOMEM;
	}
	s->g = g;
	s->set = set;
	s->m = m;
	s->fd = -1;
	s->pf[0].fd = s->pf[1].fd = -1;
	sb_tar_entry_init(&s->e);
	sb_tar_entry_init(&s->obj.hdr);
	for (i = 0; i < m->nvols; i++)
		if (want(ctx, &m->vols[i]))
			s->vols[s->nvols++] = m->vols[i].num;
	*out = s;
	return 0;
}

unsigned ss_volumes_read(const struct setstream *s) { return s->read_vols; }

void ss_free(struct setstream *s)
{
	if (!s)
		return;
	for (int i = 0; i < PREFETCH; i++) {
		prefetch_join(&s->pf[i]);
		if (s->pf[i].fd >= 0)
			close(s->pf[i].fd);
	}
	close_volume(s, false);
	sb_tar_entry_release(&s->e);
	sb_tar_entry_release(&s->obj.hdr);
	sb_buf_release(&s->epath);
	sb_buf_release(&s->obj.path);
	free(s->vols);
	free(s);
}
