/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer_tree.c - one backup set's walk (see writer_tree.h): what changed and
 * the entries that say so. Knows nothing of volumes, gpg or the target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <zlib.h>

#include "sealbox/delta.h"
#include "sealbox/error.h"
#include "sealbox/idname.h"
#include "sealbox/index.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/progress.h"
#include "sealbox/spool.h"
#include "writer_tree.h"

#define CHUNK 65536	     /* duplicity's multivol piece */
#define READ_SIZE (1u << 20) /* file read size */

struct tree {
	struct tree_ctx *c;
	struct sb_tar_entry hdr; /* metadata of the current object */
	struct sb_tar_entry mem; /* a member being written (name, size) */
	struct sb_buf oldsig;	 /* previous signature blob */
	struct sb_spool *newsig; /* new signature blob */
	unsigned char *rbuf;	 /* READ_SIZE */
	unsigned char *cbuf;	 /* CHUNK */
	/* where the current object's first member went, for the index */
	unsigned pos_vol;
	uint64_t pos_off;
	bool pos_set;
	uint64_t linkgroup; /* of the current object, 0: not hard-linked */
	struct sb_index_rec rec;
	struct sb_buf line;
	/* a resumed run's first object: its first resume->bytes are skipped */
	const struct sb_resume_pos *cont;
	uint64_t skip;
	bool cont_done;
};

/* Splits a data stream into duplicity's snapshot/diff or multivol entries. */
struct chunker {
	struct tree *t;
	const char *kind; /* "snapshot" or "diff" */
	const struct sb_buf *path;
	size_t len; /* bytes in t->cbuf */
	long n;	    /* multivol chunks emitted */
	uint64_t total;
};

static int member_name(struct sb_buf *b, const char *prefix, const struct sb_buf *path, bool dir,
		       bool root_dot)
{
	int rc = sb_buf_set(b, prefix, strlen(prefix));

	if (!rc && path->len) {
		rc = sb_buf_addch(b, '/');
		if (!rc)
			rc = sb_buf_add(b, path->data, path->len);
	} else if (!rc && root_dot) {
		rc = sb_buf_addstr(b, "/.");
	}
	if (!rc && dir)
		rc = sb_buf_addch(b, '/');
	return rc;
}

/* Tar metadata of a source object, as duplicity records it (§3.4). */
static int fill_hdr(struct sb_tar_entry *h, const struct sb_walk_entry *e)
{
	const struct stat *st = &e->st;

	sb_tar_entry_clear(h);
	h->mode = st->st_mode & 07777;
	h->uid = st->st_uid;
	h->gid = st->st_gid;
	snprintf(h->uname, sizeof(h->uname), "%s", sb_uid_name(st->st_uid));
	snprintf(h->gname, sizeof(h->gname), "%s", sb_gid_name(st->st_gid));
	h->mtime = st->st_mtime > 0 ? st->st_mtime : 0;
	h->size = 0;
	if (S_ISREG(st->st_mode)) {
		h->type = SB_TAR_REG;
	} else if (S_ISDIR(st->st_mode)) {
		h->type = SB_TAR_DIR;
	} else if (S_ISLNK(st->st_mode)) {
		h->type = SB_TAR_SYMLINK;
		h->mode = 0777;
		return sb_buf_set(&h->linkname, e->linktarget.data, e->linktarget.len);
	} else if (S_ISFIFO(st->st_mode)) {
		h->type = SB_TAR_FIFO;
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		h->type = S_ISCHR(st->st_mode) ? SB_TAR_CHR : SB_TAR_BLK;
		h->devmajor = major(st->st_rdev);
		h->devminor = minor(st->st_rdev);
	} else {
		return SB_ERR_PARAM;
	}
	return 0;
}

/* duplicity's "equal" test (§4.3) between the source and the signature state. */
static bool meta_equal(const struct sb_tar_entry *now, const struct sb_tar_entry *old)
{
	char otype = old->type == '\0' || old->type == '7' ? SB_TAR_REG : old->type;

	if (now->type != otype)
		return false;
	if (now->type == SB_TAR_SYMLINK)
		return now->linkname.len == old->linkname.len &&
		       !memcmp(now->linkname.data, old->linkname.data, now->linkname.len);
	if (now->mode != (old->mode & 07777))
		return false;
	if (now->type == SB_TAR_CHR || now->type == SB_TAR_BLK)
		return now->devmajor == old->devmajor && now->devminor == old->devminor;
	if (now->uid != old->uid || now->gid != old->gid)
		return false;
	return now->mtime == old->mtime || (now->mtime <= 0 && old->mtime <= 0);
}

static int add_entry(struct tree *t, const struct sb_buf *path, long block, const void *data)
{
	unsigned vol;
	uint64_t off;
	int rc;

	rc = sb_packer_add(t->c->packer, &t->mem, (const char *)path->data, path->len, block, data,
			   &vol, &off);
	if (!rc && !t->pos_set) {
		t->pos_vol = vol;
		t->pos_off = off;
		t->pos_set = true;
	}
	return rc;
}

/* One index record for the object just written (kind 's', 'd' or 'x'). */
static int index_add(struct tree *t, char kind, const struct sb_buf *path, uint64_t size)
{
	struct sb_index_rec *r = &t->rec;
	int rc;

	r->kind = kind;
	r->type = kind == 'x' ? SB_TAR_REG : t->hdr.type;
	r->mode = kind == 'x' ? 0 : t->hdr.mode;
	r->uid = kind == 'x' ? 0 : t->hdr.uid;
	r->gid = kind == 'x' ? 0 : t->hdr.gid;
	r->mtime = kind == 'x' ? 0 : t->hdr.mtime;
	r->size = size;
	r->vol = t->pos_vol;
	r->offset = t->pos_off;
	r->devmajor = kind == 'x' ? 0 : t->hdr.devmajor;
	r->devminor = kind == 'x' ? 0 : t->hdr.devminor;
	r->linkgroup = kind == 'x' ? 0 : t->linkgroup;
	memcpy(r->uname, kind == 'x' ? "" : t->hdr.uname, kind == 'x' ? 1 : sizeof(r->uname));
	memcpy(r->gname, kind == 'x' ? "" : t->hdr.gname, kind == 'x' ? 1 : sizeof(r->gname));
	if ((rc = sb_buf_set(&r->path, path->data, path->len)) ||
	    (rc = sb_buf_set(&r->link, t->hdr.linkname.data, t->hdr.linkname.len)))
		return rc;
	sb_buf_reset(&t->line);
	rc = sb_index_format(r, &t->line);
	return rc ? rc : t->c->index.write(t->c->index.ctx, t->line.data, t->line.len);
}

/* Hard-link group of a file: the same for every name of one inode. */
static uint64_t link_group(const struct stat *st)
{
	uint64_t g;

	if (!S_ISREG(st->st_mode) || st->st_nlink < 2)
		return 0;
	g = ((uint64_t)st->st_dev * 0x9E3779B97F4A7C15ull) ^ (uint64_t)st->st_ino;
	return g ? g : 1;
}

/* The member being written gets the current object's metadata, as type. */
static int mem_meta(struct tree *t, char type)
{
	struct sb_tar_entry *m = &t->mem;

	m->type = type;
	m->mode = t->hdr.mode;
	m->uid = t->hdr.uid;
	m->gid = t->hdr.gid;
	memcpy(m->uname, t->hdr.uname, sizeof(m->uname));
	memcpy(m->gname, t->hdr.gname, sizeof(m->gname));
	m->mtime = t->hdr.mtime;
	m->devmajor = type == SB_TAR_REG ? 0 : t->hdr.devmajor;
	m->devminor = type == SB_TAR_REG ? 0 : t->hdr.devminor;
	return type == SB_TAR_SYMLINK
		       ? sb_buf_set(&m->linkname, t->hdr.linkname.data, t->hdr.linkname.len)
		       : 0;
}

static int chunk_emit(struct chunker *k, bool final)
{
	struct tree *t = k->t;
	char prefix[32];
	int rc;

	sb_tar_entry_clear(&t->mem);
	if (final && k->n == 0) {
		rc = member_name(&t->mem.name, k->kind, k->path, false, false);
		k->n = -1;
	} else {
		k->n++;
		snprintf(prefix, sizeof(prefix), "multivol_%s", k->kind);
		rc = member_name(&t->mem.name, prefix, k->path, false, false);
		if (!rc)
			rc = sb_buf_addf(&t->mem.name, "/%ld", k->n);
	}
	if (rc)
		return rc;
	if ((rc = mem_meta(t, SB_TAR_REG)))
		return rc;
	t->mem.size = k->len;
	rc = add_entry(t, k->path, k->n > 0 ? k->n : -1, t->cbuf);
	if (!rc && k->n > 0) { /* a checkpoint before the next piece starts here */
		struct sb_resume_pos *pos = t->c->pos;

		pos->bytes += k->len;
		pos->chunks = k->n;
		pos->crc = (uint32_t)crc32(pos->crc, t->cbuf, (uInt)k->len);
		pos->pos_set = t->pos_set;
		pos->pvol = t->pos_vol;
		pos->poff = t->pos_off;
	}
	k->total += k->len;
	k->len = 0;
	return rc;
}

/* A resumed object's bytes already in the stored volumes: proven the same, not packed. */
static int chunk_skip(struct chunker *k, const unsigned char **c, size_t *n)
{
	struct tree *t = k->t;
	struct sb_resume_pos *pos = t->c->pos;
	size_t m = *n < t->skip ? *n : (size_t)t->skip;

	pos->crc = (uint32_t)crc32(pos->crc, *c, (uInt)m);
	pos->bytes += m;
	t->skip -= m;
	*c += m;
	*n -= m;
	if (t->skip)
		return 0;
	if (pos->crc != t->cont->crc) {
		sb_notice("%s/%s changed since the interrupted run packed its first %llu bytes",
			  t->c->source, sb_log_str((const char *)k->path->data, k->path->len),
			  (unsigned long long)t->cont->bytes);
		return SB_RESUME_STALE;
	}
	k->n = t->cont->chunks;
	k->total = t->cont->bytes;
	pos->chunks = t->cont->chunks;
	t->pos_set = t->cont->pos_set;
	t->pos_vol = t->cont->pvol;
	t->pos_off = t->cont->poff;
	pos->pos_set = t->pos_set;
	pos->pvol = t->pos_vol;
	pos->poff = t->pos_off;
	t->cont_done = true;
	return 0;
}

static int chunk_write(void *ctx, const void *p, size_t n)
{
	struct chunker *k = ctx;
	const unsigned char *c = p;
	size_t m;
	int rc;

	if (k->t->skip && (rc = chunk_skip(k, &c, &n)))
		return rc;
	while (n) {
		m = CHUNK - k->len;
		if (m > n)
			m = n;
		memcpy(k->t->cbuf + k->len, c, m);
		k->len += m;
		c += m;
		n -= m;
		if (k->len == CHUNK && (rc = chunk_emit(k, false)))
			return rc;
	}
	return 0;
}

/* The signature-tar entry for the current object (data: the new signature). */
static int sig_entry(struct tree *t, const char *prefix, const struct sb_buf *path)
{
	struct sb_tar_entry *m = &t->mem;
	unsigned char buf[65536];
	ssize_t n;
	int rc;

	sb_tar_entry_clear(m);
	if (!strcmp(prefix, "deleted")) {
		m->type = SB_TAR_REG;
		rc = member_name(&m->name, prefix, path, false, false);
		return rc ? rc : sb_tar_write_header(t->c->sigtar, m);
	}
	rc = member_name(&m->name, prefix, path, t->hdr.type == SB_TAR_DIR, false);
	if (rc)
		return rc;
	if ((rc = mem_meta(t, t->hdr.type)))
		return rc;
	m->size = !strcmp(prefix, "signature") ? sb_spool_size(t->newsig) : 0;
	rc = sb_tar_write_header(t->c->sigtar, m);
	if (rc || !m->size)
		return rc;
	if ((rc = sb_spool_rewind(t->newsig)))
		return rc;
	while ((n = sb_spool_read(t->newsig, buf, sizeof(buf))) > 0)
		if ((rc = sb_tar_write_data(t->c->sigtar, buf, (size_t)n)))
			return rc;
	return n < 0 ? (int)n : sb_tar_write_pad(t->c->sigtar);
}

/* A non-regular object, or a regular file as a full snapshot (fd >= 0). */
static int emit_snapshot(struct tree *t, const struct sb_buf *path, int fd, uint64_t size)
{
	struct sb_writer sigout = {sb_spool_write, t->newsig};
	struct chunker k = {.t = t, .kind = "snapshot", .path = path};
	struct sb_sig_gen *g = NULL;
	ssize_t n;
	int rc;

	if (t->hdr.type != SB_TAR_REG) {
		struct sb_tar_entry *m = &t->mem;

		sb_tar_entry_clear(m);
		rc = member_name(&m->name, "snapshot", path, t->hdr.type == SB_TAR_DIR, true);
		if (rc)
			return rc;
		if ((rc = mem_meta(t, t->hdr.type)))
			return rc;
		rc = add_entry(t, path, -1, NULL);
		if (!rc)
			rc = index_add(t, 's', path, 0);
		return rc ? rc : sig_entry(t, "snapshot", path);
	}
	sb_spool_reset(t->newsig);
	rc = sb_sig_gen_new(sb_sig_block_len(size), &g);
	while (!rc && (n = sb_fd_read(&fd, t->rbuf, READ_SIZE)) != 0) {
		if (n < 0) {
			rc = (int)n;
			break;
		}
		rc = sb_sig_gen_update(g, t->rbuf, (size_t)n, &sigout);
		if (!rc)
			rc = chunk_write(&k, t->rbuf, (size_t)n);
	}
	if (!rc)
		rc = sb_sig_gen_finish(g, &sigout);
	if (!rc)
		rc = chunk_emit(&k, true);
	sb_sig_gen_free(g);
	if (!rc)
		rc = index_add(t, 's', path, k.total);
	if (!rc)
		rc = sig_entry(t, "signature", path);
	t->c->stats->raw_delta_size += k.total;
	return rc;
}

/* A changed regular file: librsync delta against its previous signature. */
static int emit_diff(struct tree *t, const struct sb_buf *path, int fd, uint64_t size)
{
	struct sb_writer sigout = {sb_spool_write, t->newsig};
	struct chunker k = {.t = t, .kind = "diff", .path = path};
	struct sb_writer dout = {chunk_write, &k};
	struct sb_cursor cur;
	struct sb_sig *sig = NULL;
	struct sb_sig_gen *g = NULL;
	struct sb_delta_gen *d = NULL;
	uint64_t newsize = 0;
	ssize_t n;
	int rc;

	sb_cursor_init(&cur, t->oldsig.data, t->oldsig.len);
	rc = sb_sig_load((struct sb_reader){sb_cursor_read, &cur}, &sig);
	if (rc) {
		sb_error("previous signature of %s is corrupt",
			 sb_log_str((const char *)path->data, path->len));
		return rc;
	}
	sb_spool_reset(t->newsig);
	rc = sb_sig_gen_new(sb_sig_block_len(size), &g);
	if (!rc)
		rc = sb_delta_gen_new(sig, &d);
	while (!rc && (n = sb_fd_read(&fd, t->rbuf, READ_SIZE)) != 0) {
		if (n < 0) {
			rc = (int)n;
			break;
		}
		newsize += (uint64_t)n;
		rc = sb_sig_gen_update(g, t->rbuf, (size_t)n, &sigout);
		if (!rc)
			rc = sb_delta_gen_update(d, t->rbuf, (size_t)n, &dout);
	}
	if (!rc)
		rc = sb_sig_gen_finish(g, &sigout);
	if (!rc)
		rc = sb_delta_gen_finish(d, &dout);
	if (!rc)
		rc = chunk_emit(&k, true);
	sb_delta_gen_free(d);
	sb_sig_gen_free(g);
	sb_sig_free(sig);
	if (!rc)
		rc = index_add(t, 'd', path, newsize);
	if (!rc)
		rc = sig_entry(t, "signature", path);
	t->c->stats->changed_delta_size += k.total;
	t->c->stats->raw_delta_size += k.total;
	return rc;
}

/* The checkpoints' position: a new object starts (st NULL: a deletion). */
static int pos_start(struct tree *t, const struct sb_buf *path, const struct stat *st)
{
	struct sb_resume_pos *p = t->c->pos;

	p->bytes = 0;
	p->chunks = 0;
	p->crc = 0;
	p->pos_set = false;
	p->reg = st && S_ISREG(st->st_mode);
	p->size = p->reg ? (uint64_t)st->st_size : 0;
	p->ino = p->reg ? st->st_ino : 0;
	p->mtime_ns = p->reg ? (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec : 0;
	p->ctime_ns = p->reg ? (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec : 0;
	sb_resume_stats_copy(&p->stats0, t->c->stats);
	if (t->cont) /* the resumed object: skip what the stored volumes hold */
		t->skip = t->cont->bytes;
	return sb_buf_set(&p->path, path->data, path->len);
}

static int emit_deleted(struct tree *t, const struct sb_buf *path)
{
	struct sb_tar_entry *m = &t->mem;
	int rc;

	if ((rc = pos_start(t, path, NULL)))
		return rc;
	sb_tar_entry_clear(m);
	m->type = SB_TAR_REG;
	t->pos_set = false;
	rc = member_name(&m->name, "deleted", path, false, false);
	if (!rc)
		rc = add_entry(t, path, -1, NULL);
	if (!rc)
		rc = index_add(t, 'x', path, 0);
	if (!rc)
		rc = sig_entry(t, "deleted", path);
	if (!rc)
		rc = sb_catalog_stat_del(t->c->cat, (const char *)path->data, path->len);
	t->c->stats->deleted_files++;
	t->c->stats->delta_entries++;
	return rc;
}

/* torn: changed while read, a record that never matches (read it again). */
static int statrec_put(struct tree *t, const struct sb_walk_entry *e, bool torn)
{
	struct sb_statrec r = {
		.size = (uint64_t)e->st.st_size,
		.mtime_ns = (int64_t)e->st.st_mtim.tv_sec * 1000000000 + e->st.st_mtim.tv_nsec,
		.ctime_ns = (int64_t)e->st.st_ctim.tv_sec * 1000000000 + e->st.st_ctim.tv_nsec,
		.ino = e->st.st_ino,
	};
	int rc;

	if (torn)
		r.mtime_ns = INT64_MIN;
	rc = sb_catalog_stat_put(t->c->cat, (const char *)e->path.data, e->path.len, &r);
	return rc ? rc
		  : sb_journal_stat_write(t->c->journal, (const char *)e->path.data, e->path.len,
					  &r);
}

/*
 * Unchanged per the stat cache: same size, mtime, ctime and inode (*hit: its
 * row says so, and stays). Without a usable row, duplicity's rule (the
 * metadata the caller compared) decides.
 */
static int stat_unchanged(struct tree *t, const struct sb_walk_entry *e, bool *same, bool *hit)
{
	struct sb_statrec r;
	int rc;

	*same = true;
	*hit = false;
	if (!t->c->use_statcache)
		return 0;
	rc = sb_catalog_stat_get(t->c->cat, (const char *)e->path.data, e->path.len, &r);
	if (rc <= 0)
		return rc;
	*same = r.size == (uint64_t)e->st.st_size && r.ino == e->st.st_ino &&
		r.mtime_ns == (int64_t)e->st.st_mtim.tv_sec * 1000000000 + e->st.st_mtim.tv_nsec &&
		r.ctime_ns == (int64_t)e->st.st_ctim.tv_sec * 1000000000 + e->st.st_ctim.tv_nsec;
	*hit = *same;
	return 0;
}

/*
 * A file that changed while it was read (since the walk's stat: size, mtime,
 * ctime; or read to another length): named in one line, counted. What was
 * read is what is stored, its signature made from the same bytes.
 */
static bool changed_while_read(struct tree *t, const struct sb_walk_entry *e, int fd)
{
	const struct stat *a = &e->st;
	uint64_t got = t->rec.size; /* bytes read, as the index records them */
	struct stat b;
	char how[96];

	if (fstat(fd, &b) < 0)
		b = *a;
	if (got != (uint64_t)a->st_size)
		snprintf(how, sizeof(how), "read %llu bytes of %llu", (unsigned long long)got,
			 (unsigned long long)a->st_size);
	else if (b.st_size != a->st_size)
		snprintf(how, sizeof(how), "size %llu, now %llu", (unsigned long long)a->st_size,
			 (unsigned long long)b.st_size);
	else if (b.st_mtim.tv_sec != a->st_mtim.tv_sec || b.st_mtim.tv_nsec != a->st_mtim.tv_nsec ||
		 b.st_ctim.tv_sec != a->st_ctim.tv_sec || b.st_ctim.tv_nsec != a->st_ctim.tv_nsec)
		snprintf(how, sizeof(how), "modified");
	else
		return false;
	sb_error("%s/%s changed while being read (%s): stored as read; the next backup reads it "
		 "again",
		 t->c->source, sb_log_str((const char *)e->path.data, e->path.len), how);
	t->c->stats->changed_while_read++;
	return true;
}

/*
 * One source object; old is its entry in the signature state or NULL.
 * *keep_old is set when the object could not be read and the old state
 * must stand.
 */
static int do_object(struct tree *t, const struct sb_walk_entry *e, const struct sb_sigentry *old)
{
	struct sb_backup_stats *st = t->c->stats;
	const char *kind = old ? "changed" : "new";
	bool same, hit, torn = false, is_reg = S_ISREG(e->st.st_mode);
	int fd = -1, rc;

	rc = fill_hdr(&t->hdr, e);
	if (rc)
		return rc;
	if ((rc = pos_start(t, &e->path, &e->st)))
		return rc;
	t->pos_set = false;
	t->linkgroup = link_group(&e->st);
	st->source_files++;
	st->source_size += (uint64_t)e->st.st_size;
	sb_progress_update(st->source_files, st->source_size, (const char *)e->path.data,
			   e->path.len);
	if (old && meta_equal(&t->hdr, &old->hdr)) {
		if (!is_reg)
			return 0;
		if ((rc = stat_unchanged(t, e, &same, &hit)))
			return rc;
		if (same)
			return hit ? 0 : statrec_put(t, e, false);
	}
	if (is_reg) {
		fd = sb_walk_open_file(t->c->walk);
		if (fd < 0 && (rc = sb_walk_lost(t->c->walk, "open", errno)))
			return rc;
		if (fd < 0) {
			sb_error("cannot read %s/%s: %s (%s)", t->c->source,
				 sb_log_str((const char *)e->path.data, e->path.len),
				 strerror(errno),
				 old ? "keeping its previous version" : "not backed up");
			st->errors++;
			return 0;
		}
		if (e->st.st_size > READ_SIZE) /* one read: no advice needed */
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	if (is_reg && old && old->kind == SB_SIG_SIGNATURE) {
		rc = sb_sigstate_read_sig(t->c->sigs, &t->oldsig);
		if (!rc)
			rc = emit_diff(t, &e->path, fd, (uint64_t)e->st.st_size);
	} else {
		rc = emit_snapshot(t, &e->path, fd, (uint64_t)e->st.st_size);
	}
	if (!rc && fd >= 0)
		torn = changed_while_read(t, e, fd);
	if (fd >= 0)
		close(fd);
	if (rc) {
		if (is_reg)
			sb_notice("backup stopped at %s/%s", t->c->source, /* the cause: above */
				  sb_log_str((const char *)e->path.data, e->path.len));
		return rc;
	}
	st->delta_entries++;
	if (old) {
		st->changed_files++;
		st->changed_size += (uint64_t)e->st.st_size;
	} else {
		st->new_files++;
		st->new_size += (uint64_t)e->st.st_size;
	}
	if (is_reg) {
		rc = sb_manifest_add_file(t->c->manifest, kind, (const char *)e->path.data,
					  e->path.len);
		if (!rc)
			rc = statrec_put(t, e, torn);
	}
	return rc;
}

/*
 * A resumed run: pass every object before the position unread (the stored
 * volumes hold them), then check that the object the position is inside of
 * is still the file that was being packed.
 */
static int fast_forward(struct tree *t, const struct sb_walk_entry **e, int *have_src,
			const struct sb_sigentry **old, int *have_old)
{
	struct tree_ctx *c = t->c;
	const struct sb_resume_pos *r = c->resume;
	const char *x = (const char *)r->path.data;
	int rc = 0;

	while (*have_src > 0 &&
	       sb_path_cmp((const char *)(*e)->path.data, (*e)->path.len, x, r->path.len) < 0)
		if ((*have_src = sb_walk_next(c->walk, e)) < 0)
			return *have_src;
	while (*have_old > 0 &&
	       sb_path_cmp((const char *)(*old)->path.data, (*old)->path.len, x, r->path.len) < 0) {
		if ((rc = sb_sigstate_next(c->sigs)))
			return rc;
		if ((*have_old = sb_sigstate_peek(c->sigs, old)) < 0)
			return *have_old;
	}
	if (!r->bytes)
		return 0;
	if (*have_src <= 0 || (*e)->path.len != r->path.len ||
	    memcmp((*e)->path.data, x, r->path.len) || !sb_resume_pos_same_file(r, &(*e)->st)) {
		sb_notice("%s/%s changed since the interrupted run began packing it", c->source,
			  sb_log_str(x, r->path.len));
		return SB_RESUME_STALE;
	}
	t->cont = r;
	return 0;
}

int sb_writer_tree(struct tree_ctx *c)
{
	struct tree t = {.c = c};
	const struct sb_walk_entry *e = NULL;
	const struct sb_sigentry *old = NULL;
	int have_src, have_old = 0, cmp, rc = 0;

	sb_tar_entry_init(&t.hdr);
	sb_tar_entry_init(&t.mem);
	sb_index_rec_init(&t.rec);
	t.newsig = sb_spool_new(16u << 20, c->tmpdir);
	t.rbuf = malloc(READ_SIZE);
	t.cbuf = malloc(CHUNK);
	if (!t.newsig || !t.rbuf || !t.cbuf) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	if (c->resume && c->resume->at_end)
		goto done; /* every object is in the stored volumes */
	have_src = sb_walk_next(c->walk, &e);
	if (c->sigs)
		have_old = sb_sigstate_peek(c->sigs, &old);
	rc = have_src < 0 ? have_src : have_old < 0 ? have_old : 0;
	if (!rc && c->resume)
		rc = fast_forward(&t, &e, &have_src, &old, &have_old);
	while (!rc && (have_src || have_old)) {
		if (have_src && have_old)
			cmp = sb_path_cmp((const char *)e->path.data, e->path.len,
					  (const char *)old->path.data, old->path.len);
		else
			cmp = have_src ? -1 : 1;
		if (cmp < 0) {
			rc = do_object(&t, e, NULL);
		} else if (cmp > 0) {
			if (sb_walk_unread(c->walk, (const char *)old->path.data, old->path.len))
				; /* below an unreadable folder: its old state stands */
			else
				rc = emit_deleted(&t, &old->path);
		} else {
			rc = do_object(&t, e, old);
		}
		if (rc)
			break;
		if (t.cont && !t.cont_done) { /* not continued after all */
			rc = SB_RESUME_STALE;
			break;
		}
		t.cont = NULL;
		if (cmp <= 0 && (have_src = sb_walk_next(c->walk, &e)) < 0)
			rc = have_src;
		if (cmp >= 0 && !rc) {
			rc = sb_sigstate_next(c->sigs);
			if (!rc && (have_old = sb_sigstate_peek(c->sigs, &old)) < 0)
				rc = have_old;
		}
	}
	c->stats->errors += sb_walk_errors(c->walk);
done:
	if (!rc) {
		c->pos->at_end = true;
		c->pos->bytes = 0;
		c->pos->chunks = 0;
		sb_resume_stats_copy(&c->pos->stats0, c->stats);
		sb_buf_reset(&c->pos->path);
	}
out:
	sb_tar_entry_release(&t.hdr);
	sb_tar_entry_release(&t.mem);
	sb_buf_release(&t.oldsig);
	sb_index_rec_release(&t.rec);
	sb_buf_release(&t.line);
	sb_spool_free(t.newsig);
	free(t.rbuf);
	free(t.cbuf);
	return rc;
}
