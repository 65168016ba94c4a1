/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * restore.c - `sealbox restore` (see reader.h): merges the set streams of a
 * chain up to the requested time (§7.1), rebuilds each object (snapshot, then
 * librsync patches), writes it under a temporary name with its metadata, and
 * renames everything into place only once every volume verified.
 *
 * Nothing below DEST is reached by a path string: each object is created
 * relative to a descriptor of its folder, walked to from DEST's without
 * following symlinks (destdir.h). A failed restore removes what it made
 * (temporary files, the folders it created, DEST if it made it) and puts
 * back the times of the folders it wrote into.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sealbox/chain.h"
#include "sealbox/delta.h"
#include "sealbox/destdir.h"
#include "sealbox/error.h"
#include "sealbox/idname.h"
#include "sealbox/log.h"
#include "sealbox/path.h"
#include "sealbox/progress.h"
#include "sealbox/reader.h"
#include "sealbox/timefmt.h"
#include "sealbox/verify.h"
#include "sealbox/setstream.h"
#include "plan.h"

/* Opens a folder to set its metadata. */
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct pending {
	char *rel; /* final path, relative to the base folder */
	char *tmp; /* temporary name in the same folder; NULL once renamed */
};

struct dirmeta {
	char *rel;		/* relative to the base folder; "" is the base itself */
	bool created;		/* made by this restore: removed if it fails */
	struct timespec was[2]; /* else its atime and mtime, put back if it fails */
	struct sb_tar_entry hdr;
};

/* Messages name a path relative to the base as "%s%s", SHOWN(r, rel). */
#define SHOWN(r, rel) sb_destdir_shown((r)->dd), (rel)

struct restore {
	const struct sb_restore_opts *o;
	struct sb_restore_stats *st;
	const char *prefix;    /* "" or the path restored */
	struct sb_destdir *dd; /* where it all goes */
	struct pending *pend;
	size_t npend, cappend;
	struct dirmeta *dirs;
	size_t ndirs, capdirs;
	unsigned long seq;
	bool root;	       /* can chown */
	uint64_t total_vols;   /* to read, for the progress line's ETA; 0: unknown */
	struct setstream **ss; /* the sets read, nsets of them */
	size_t nsets;
	unsigned char buf[1 << 16];
};

/* Where an object of the archive goes, relative to base. */
static int object_rel(struct restore *r, const struct sb_buf *path, struct sb_buf *out)
{
	size_t plen = strlen(r->prefix);
	const char *root = sb_destdir_root(r->dd);
	int rc = sb_buf_set(out, root, strlen(root));

	if (!rc && path->len > plen) {
		const char *rest = (const char *)path->data + plen + (plen ? 1 : 0);
		size_t rlen = path->len - plen - (plen ? 1 : 0);

		if (*root)
			rc = sb_buf_addch(out, '/');
		if (!rc)
			rc = sb_buf_add(out, rest, rlen);
	}
	if (!rc && !sb_destdir_rel_ok(sb_buf_str(out), out->len)) {
		sb_error("cannot restore %s: not a relative path",
			 sb_log_str((const char *)path->data, path->len));
		rc = SB_ERR_CORRUPT;
	}
	return rc;
}

static int add_pending(struct restore *r, const char *rel, const char *tmp)
{
	if (r->npend == r->cappend) {
		size_t cap = r->cappend ? r->cappend * 2 : 256;
		struct pending *p = realloc(r->pend, cap * sizeof(*p));
		if (!p)
			return SB_ERR_NOMEM;
		r->pend = p;
		r->cappend = cap;
	}
	r->pend[r->npend].rel = strdup(rel);
	r->pend[r->npend].tmp = strdup(tmp);
	if (!r->pend[r->npend].rel || !r->pend[r->npend].tmp) {
		free(r->pend[r->npend].rel);
		free(r->pend[r->npend].tmp);
		return SB_ERR_NOMEM;
	}
	r->npend++;
	return 0;
}

static void owner(struct restore *r, const struct sb_tar_entry *h, uid_t *uid, gid_t *gid)
{
	if (!sb_name_uid(h->uname, uid))
		*uid = (uid_t)h->uid;
	if (!sb_name_gid(h->gname, gid))
		*gid = (gid_t)h->gid;
}

/* Owner, mode and mtime of an open file or folder (rel names it in messages). */
static void meta_fd(struct restore *r, int fd, const char *rel, const struct sb_tar_entry *h)
{
	struct timespec ts[2] = {{h->mtime, 0}, {h->mtime, 0}};
	uid_t uid;
	gid_t gid;

	if (r->root) {
		owner(r, h, &uid, &gid);
		if (fchown(fd, uid, gid) < 0)
			sb_warn("cannot set the owner of %s%s: %s", SHOWN(r, rel), strerror(errno));
	}
	/* after the owner: chown clears the set-id bits */
	if (fchmod(fd, h->mode & 07777) < 0)
		sb_warn("cannot set the mode of %s%s: %s", SHOWN(r, rel), strerror(errno));
	if (futimens(fd, ts) < 0)
		sb_warn("cannot set the time of %s%s: %s", SHOWN(r, rel), strerror(errno));
}

/* The same for name in dirfd, not following it (symlinks, fifos, devices). */
static void meta_at(struct restore *r, int dirfd, const char *name, const char *rel,
		    const struct sb_tar_entry *h)
{
	struct timespec ts[2] = {{h->mtime, 0}, {h->mtime, 0}};
	uid_t uid;
	gid_t gid;

	if (r->root) {
		owner(r, h, &uid, &gid);
		if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			sb_warn("cannot set the owner of %s%s: %s", SHOWN(r, rel), strerror(errno));
	}
	if (h->type != SB_TAR_SYMLINK &&
	    fchmodat(dirfd, name, h->mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		sb_warn("cannot set the mode of %s%s: %s", SHOWN(r, rel), strerror(errno));
	if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		sb_warn("cannot set the time of %s%s: %s", SHOWN(r, rel), strerror(errno));
}

/* A file being restored: a write that fails names it; DEST full is a local error. */
struct dest_out {
	struct restore *r;
	int fd;
	const char *rel;
};

/* Volumes read so far by the sets' streams (a set a path's restore does not read has none). */
static uint64_t volumes_read(struct setstream *const *ss, size_t nsets)
{
	uint64_t vols = 0;

	for (size_t i = 0; ss && i < nsets; i++)
		if (ss[i])
			vols += ss_volumes_read(ss[i]);
	return vols;
}

/* The progress line: bytes written, volumes read of the snapshot's. */
static void progress(struct restore *r, uint64_t bytes, const char *name, size_t len)
{
	sb_progress_units(volumes_read(r->ss, r->nsets), r->total_vols, "vol");
	sb_progress_update(r->st->objects, bytes, name, len);
}

static int dest_write(void *ctx, const void *buf, size_t len)
{
	struct dest_out *d = ctx;
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(d->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sb_error("cannot write %s%s: %s", SHOWN(d->r, d->rel), strerror(errno));
			return errno == ENOSPC || errno == EDQUOT || errno == EIO
				       ? SB_ERR_IO
				       : sb_err_from_errno(errno);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_stream(struct restore *r, int fd, const char *rel, struct sb_reader in,
			uint64_t *len)
{
	struct dest_out d = {r, fd, rel};
	ssize_t n;
	int rc;

	*len = 0;
	while ((n = in.read(in.ctx, r->buf, sizeof(r->buf))) > 0) {
		if ((rc = dest_write(&d, r->buf, (size_t)n)))
			return rc;
		*len += (uint64_t)n;
		progress(r, r->st->bytes + *len, rel, strlen(rel));
	}
	return (int)n;
}

/* A new file tmp in dirfd, never an existing one nor through a symlink. */
static int create_at(struct restore *r, int dirfd, const char *tmp, const char *rel)
{
	int fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return sb_destdir_error(r->dd, "create", rel);
	return fd;
}

/*
 * Rebuild a regular file as tmp in dirfd: snapshot data, then each delta in
 * turn, then its metadata. On failure tmp is removed.
 */
static int rebuild_file(struct restore *r, struct setstream **ss, size_t base, size_t last,
			int dirfd, const char *tmp, const char *rel, const struct sb_tar_entry *h)
{
	char tmp2[NAME_MAX + 1];
	uint64_t len = 0;
	int fd, nfd, rc;
	size_t i;

	if ((fd = create_at(r, dirfd, tmp, rel)) < 0)
		return fd;
	snprintf(tmp2, sizeof(tmp2), "%s.p", tmp);
	rc = write_stream(r, fd, rel, (struct sb_reader){ss_read, ss[base]}, &len);
	for (i = base + 1; !rc && i <= last; i++) {
		/* patch into a new file, then replace */
		if ((nfd = create_at(r, dirfd, tmp2, rel)) < 0) {
			rc = nfd;
			break;
		}
		struct dest_out d = {r, nfd, rel};

		rc = sb_patch(fd, (struct sb_reader){ss_read, ss[i]},
			      (struct sb_writer){dest_write, &d}, &len);
		close(fd);
		fd = nfd;
		if (!rc && renameat(dirfd, tmp2, dirfd, tmp) < 0)
			rc = sb_err_from_errno(errno);
		if (rc)
			unlinkat(dirfd, tmp2, 0);
	}
	if (!rc)
		meta_fd(r, fd, rel, h);
	if (close(fd) < 0 && !rc)
		rc = sb_err_from_errno(errno);
	if (rc)
		unlinkat(dirfd, tmp, 0);
	r->st->bytes += len;
	return rc;
}

/* A folder to give its metadata at the end; existing: its stat if it was there, NULL if made. */
static int add_dir(struct restore *r, const char *rel, const struct stat *existing,
		   const struct sb_tar_entry *h)
{
	struct dirmeta *d;

	if (r->ndirs == r->capdirs) {
		size_t cap = r->capdirs ? r->capdirs * 2 : 64;
		d = realloc(r->dirs, cap * sizeof(*d));
		if (!d)
			return SB_ERR_NOMEM;
		r->dirs = d;
		r->capdirs = cap;
	}
	d = &r->dirs[r->ndirs];
	sb_tar_entry_init(&d->hdr);
	d->hdr.type = SB_TAR_DIR;
	d->hdr.mode = h->mode;
	d->hdr.uid = h->uid;
	d->hdr.gid = h->gid;
	memcpy(d->hdr.uname, h->uname, sizeof(h->uname));
	memcpy(d->hdr.gname, h->gname, sizeof(h->gname));
	d->hdr.mtime = h->mtime;
	d->created = !existing;
	if (existing) {
		d->was[0] = existing->st_atim;
		d->was[1] = existing->st_mtim;
	}
	if (!(d->rel = strdup(rel))) {
		sb_tar_entry_release(&d->hdr);
		return SB_ERR_NOMEM;
	}
	r->ndirs++;
	return 0;
}

/*
 * A folder at rel: made (0700 until finish() gives it its metadata), or an
 * existing real folder (--force, or base itself); a symlink in its place is
 * an error, never followed.
 */
static int make_dir(struct restore *r, const char *rel, const struct sb_tar_entry *h)
{
	const char *name;
	struct stat st;
	bool created;
	int dirfd, rc;

	if (!*rel) /* the base itself */
		return add_dir(r, rel, NULL, h);
	if ((rc = sb_destdir_parent(r->dd, rel, &dirfd, &name)))
		return rc;
	created = mkdirat(dirfd, name, 0700) == 0;
	if (!created && (errno != EEXIST || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0))
		return sb_destdir_error(r->dd, "create folder", rel);
	if (!created && S_ISLNK(st.st_mode)) {
		sb_error("%s%s is a symbolic link where a folder should be (never followed)",
			 SHOWN(r, rel));
		return SB_ERR_EXISTS;
	}
	if (!created && !S_ISDIR(st.st_mode)) {
		sb_error("cannot create folder %s%s: a file is in the way", SHOWN(r, rel));
		return SB_ERR_EXISTS;
	}
	rc = add_dir(r, rel, created ? NULL : &st, h);
	if (rc && created)
		unlinkat(dirfd, name, AT_REMOVEDIR);
	return rc;
}

/* One object: the streams ss[0..n) whose current object has this path, oldest first. */
static int restore_object(struct restore *r, struct setstream **ss, size_t n)
{
	const struct ss_object *o, *newest;
	struct sb_buf relbuf = SB_BUF_INIT;
	char tmp[64];
	const char *rel, *name;
	size_t base = n, i;
	int dirfd, rc = 0;

	for (i = n; i-- > 0;) {
		ss_peek(ss[i], &o);
		if (o->kind != SS_DIFF) {
			base = i;
			break;
		}
	}
	ss_peek(ss[n - 1], &newest);
	if (base == n) {
		sb_warn("cannot restore %s: a delta without a base",
			sb_log_str((const char *)newest->path.data, newest->path.len));
		r->st->errors++;
		return 0;
	}
	ss_peek(ss[base], &o);
	if (o->kind == SS_DELETED)
		return 0;
	if (base + 1 < n && o->hdr.type != SB_TAR_REG) {
		sb_error("cannot restore %s: a delta on a %s",
			 sb_log_str((const char *)o->path.data, o->path.len), "non-regular file");
		return SB_ERR_CORRUPT;
	}
	if ((rc = object_rel(r, &o->path, &relbuf)))
		goto out;
	rel = sb_buf_str(&relbuf);
	if (o->hdr.type == SB_TAR_DIR) {
		rc = make_dir(r, rel, &newest->hdr);
		r->st->objects++;
		goto out;
	}
	if (!*rel) {
		sb_error("cannot restore %s: the snapshot's root is not a folder (give --path)",
			 sb_destdir_shown(r->dd));
		rc = SB_ERR_CORRUPT;
		goto out;
	}
	if ((rc = sb_destdir_parent(r->dd, rel, &dirfd, &name)))
		goto out;
	snprintf(tmp, sizeof(tmp), ".sealbox-restore.%d.%lu", (int)getpid(), r->seq++);
	switch (o->hdr.type) {
	case SB_TAR_REG:
		rc = rebuild_file(r, ss, base, n - 1, dirfd, tmp, rel, &newest->hdr);
		break;
	case SB_TAR_SYMLINK:
		if (symlinkat(sb_buf_str(&o->hdr.linkname), dirfd, tmp) < 0)
			rc = sb_destdir_error(r->dd, "create", rel);
		break;
	case SB_TAR_FIFO:
		if (mkfifoat(dirfd, tmp, 0600) < 0)
			rc = sb_destdir_error(r->dd, "create", rel);
		break;
	case SB_TAR_CHR:
	case SB_TAR_BLK:
		if (mknodat(dirfd, tmp, (o->hdr.type == SB_TAR_CHR ? S_IFCHR : S_IFBLK) | 0600,
			    makedev(o->hdr.devmajor, o->hdr.devminor)) < 0) {
			sb_warn("cannot create device %s%s: %s", SHOWN(r, rel), strerror(errno));
			r->st->errors++;
			goto out;
		}
		break;
	default:
		sb_warn("skipping %s%s: unknown type '%c'", SHOWN(r, rel), o->hdr.type);
		r->st->errors++;
		goto out;
	}
	if (rc) /* nothing left behind: rebuild_file removes its own */
		goto out;
	if (o->hdr.type != SB_TAR_REG)
		meta_at(r, dirfd, tmp, rel, &newest->hdr);
	rc = add_pending(r, rel, tmp);
	if (rc)
		unlinkat(dirfd, tmp, 0);
	r->st->objects++;
	progress(r, r->st->bytes, (const char *)o->path.data, o->path.len);
out:
	sb_buf_release(&relbuf);
	return rc;
}

/*
 * Merge the set streams by path and restore each object under the prefix.
 * ss[i] is NULL for a set the plan needs nothing from; with a plan, only the
 * objects it names are restored from (the others are older than a path's
 * newest snapshot or deletion).
 */
static int merge(struct restore *r, struct setstream **ss, size_t nsets, struct plan *plan,
		 const struct sb_chain *ch)
{
	struct setstream *group[1024], *at[1024];
	const struct ss_object *o, *min;
	const struct plan_path *missed;
	size_t i, n, nat, plen = strlen(r->prefix);
	int rc, got;

	if (nsets > sizeof(group) / sizeof(group[0]))
		return SB_ERR_INTERNAL;
	for (;;) {
		min = NULL;
		for (i = 0; i < nsets; i++) {
			if (!ss[i])
				continue;
			got = ss_peek(ss[i], &o);
			if (got < 0)
				return got;
			if (got &&
			    (!min || sb_path_cmp((const char *)o->path.data, o->path.len,
						 (const char *)min->path.data, min->path.len) < 0))
				min = o;
		}
		if (!min)
			break;
		/* the streams at this path (at), and those of them the plan needs (group) */
		n = nat = 0;
		for (i = 0; i < nsets; i++) {
			if (!ss[i] || ss_peek(ss[i], &o) != 1 || o->path.len != min->path.len ||
			    memcmp(o->path.data, min->path.data, o->path.len))
				continue;
			at[nat++] = ss[i];
			if (!plan || plan_needs(plan, i, (const char *)o->path.data, o->path.len))
				group[n++] = ss[i];
		}
		if (n && sb_path_has_prefix((const char *)min->path.data, min->path.len, r->prefix,
					    plen)) {
			rc = restore_object(r, group, n);
			if (rc)
				return rc;
		}
		/* every stream at this path moves on, needed or not */
		for (i = 0; i < nat; i++)
			if ((rc = ss_next(at[i])))
				return rc;
	}
	for (i = 0; plan && i < nsets; i++)
		if ((missed = plan_missed(plan, i))) {
			sb_error("index %s lists %s, but the volumes of its set do not hold it",
				 ch->sets[i].index, sb_log_str(missed->path, missed->len));
			return SB_ERR_CORRUPT;
		}
	return 0;
}

/* The metadata of a folder, once everything in it is in place. */
static void dir_meta(struct restore *r, const struct dirmeta *d)
{
	const char *name;
	int dirfd, fd;

	if (!*d->rel) {
		meta_fd(r, sb_destdir_fd(r->dd), d->rel, &d->hdr);
		return;
	}
	if (sb_destdir_parent(r->dd, d->rel, &dirfd, &name))
		return;
	fd = openat(dirfd, name, DIR_FLAGS);
	if (fd < 0) {
		sb_warn("cannot set the metadata of %s%s: %s", SHOWN(r, d->rel), strerror(errno));
		return;
	}
	meta_fd(r, fd, d->rel, &d->hdr);
	close(fd);
}

static int finish(struct restore *r)
{
	const char *name;
	int dirfd, rc;
	size_t i;

	for (i = 0; i < r->npend; i++) {
		if ((rc = sb_destdir_parent(r->dd, r->pend[i].rel, &dirfd, &name)))
			return rc;
		if (renameat(dirfd, r->pend[i].tmp, dirfd, name) < 0)
			return sb_destdir_error(r->dd, "move into place", r->pend[i].rel);
		free(r->pend[i].tmp);
		r->pend[i].tmp = NULL;
	}
	/* deepest first: a folder's own mode may forbid writing into it */
	for (i = r->ndirs; i-- > 0;)
		dir_meta(r, &r->dirs[i]);
	return 0;
}

/*
 * A failed restore: remove its temporary files and the folders it made, and
 * put back the times of the folders it wrote into.
 */
static void undo(struct restore *r)
{
	const struct dirmeta *d;
	const char *name;
	size_t i;
	int dirfd;

	sb_destdir_quiet(r->dd);
	for (i = 0; i < r->npend; i++)
		if (r->pend[i].tmp && !sb_destdir_parent(r->dd, r->pend[i].rel, &dirfd, &name))
			unlinkat(dirfd, r->pend[i].tmp, 0);
	for (i = r->ndirs; i-- > 0;) {
		d = &r->dirs[i];
		if (!d->created || !*d->rel || sb_destdir_parent(r->dd, d->rel, &dirfd, &name))
			continue;
		/* not empty: files already renamed into it, or not ours */
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
		    errno != ENOTEMPTY)
			sb_warn("cannot remove folder %s%s: %s", SHOWN(r, d->rel), strerror(errno));
	}
	for (i = r->ndirs; i-- > 0;) {
		d = &r->dirs[i];
		if (!d->created && *d->rel && !sb_destdir_parent(r->dd, d->rel, &dirfd, &name))
			utimensat(dirfd, name, d->was, AT_SYMLINK_NOFOLLOW);
	}
	sb_destdir_undo(r->dd);
}

static void cleanup(struct restore *r)
{
	size_t i;

	for (i = 0; i < r->npend; i++) {
		free(r->pend[i].rel);
		free(r->pend[i].tmp);
	}
	free(r->pend);
	for (i = 0; i < r->ndirs; i++) {
		free(r->dirs[i].rel);
		sb_tar_entry_release(&r->dirs[i].hdr);
	}
	free(r->dirs);
	sb_destdir_free(r->dd);
}

/*
 * An absolute --path names a file inside the backed-up folder: take that
 * folder (the manifest's Localdir, normalised like the path) off its front.
 */
static int inside_source(const struct sb_manifest *m, const char *path, char **rel)
{
	size_t n, plen = strlen(path);
	char *src;
	int k;

	*rel = NULL;
	if (!m->localdir.len) {
		sb_error("/%s: the backup does not record the folder it was made of; give the path "
			 "relative to it",
			 sb_log_str(path, plen));
		return SB_ERR_PARAM;
	}
	if (!(src = strndup((const char *)m->localdir.data, m->localdir.len)))
		return SB_ERR_NOMEM;
	k = sb_path_normalize(src, strlen(src));
	n = k < 0 ? 0 : (size_t)k;
	src[n] = '\0';
	if (k >= 0 &&
	    (!n || (plen >= n && !memcmp(path, src, n) && (path[n] == '/' || path[n] == '\0')))) {
		const char *rest = path + n + (n && path[n] == '/');

		*rel = strdup(rest);
		free(src);
		return *rel ? 0 : SB_ERR_NOMEM;
	}
	sb_error("/%s is not inside /%s, the folder this backup was made of (paths are relative "
		 "to it)",
		 sb_log_str(path, plen), sb_log_str(src, strlen(src)));
	free(src);
	return SB_ERR_NOTFOUND;
}

int sb_restore(const struct sb_restore_opts *o, struct sb_restore_stats *st)
{
	struct restore r = {
		.o = o, .st = st, .prefix = o->path ? o->path : "", .root = geteuid() == 0};
	const struct sb_chain *ch;
	struct sb_manifest *mans = NULL;
	struct setstream **ss = NULL;
	struct plan *plan = NULL;
	const char *item;
	char when[21], *rel = NULL;
	size_t nsets = 0, i;
	int rc;

	memset(st, 0, sizeof(*st));
	/* the whole chain up to the time asked for, proven before anything is read */
	rc = sb_gate_chain(o->gate, o->time, &ch, &nsets);
	if (rc)
		goto out;
	st->set_time = ch->sets[nsets - 1].t1;
	mans = calloc(nsets, sizeof(*mans));
	ss = calloc(nsets, sizeof(*ss));
	if (!mans || !ss) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nsets; i++)
		sb_manifest_init(&mans[i]);
	/* the newest set's manifest first: it names the folder backed up */
	rc = sb_gate_manifest(o->gate, &ch->sets[nsets - 1], &mans[nsets - 1]);
	if (!rc && o->path_absolute)
		rc = inside_source(&mans[nsets - 1], r.prefix, &rel);
	if (rel)
		r.prefix = rel;
	item = strrchr(r.prefix, '/');
	/* one path: the sets' indexes say which sets and volumes hold what it needs */
	if (!rc && *r.prefix &&
	    (rc = plan_build(o->gate, ch, nsets, r.prefix, &plan)) == SB_ERR_NOTFOUND)
		rc = 0;
	/* manifests of the other sets only where they are read */
	for (i = 0; i < nsets && !rc; i++) {
		if (plan && !plan->sets[i].n)
			continue;
		if (i < nsets - 1 && (rc = sb_gate_manifest(o->gate, &ch->sets[i], &mans[i])))
			break;
		if (!plan)
			rc = ss_open(o->gate, &ch->sets[i], &mans[i], r.prefix, &ss[i]);
		else
			rc = ss_open_sel(o->gate, &ch->sets[i], &mans[i], plan_wants_vol,
					 &plan->sets[i], &ss[i]);
	}
	for (i = 0; i < nsets && !*r.prefix; i++)
		r.total_vols += mans[i].nvols; /* a whole snapshot reads every volume */
	r.ss = ss;
	r.nsets = nsets;
	if (!rc)
		rc = sb_destdir_open(o->dest, *r.prefix ? (item ? item + 1 : r.prefix) : NULL,
				     o->force, &r.dd);
	if (!rc)
		rc = merge(&r, ss, nsets, plan, ch);
	st->volumes = volumes_read(ss, nsets);
	if (!rc && !st->objects) {
		sb_error("%s: no such path in the backup of %s", *r.prefix ? r.prefix : ".",
			 (sb_time_format_iso(st->set_time, when), when));
		rc = SB_ERR_NOTFOUND;
	}
	if (!rc)
		rc = finish(&r);
	if (!rc && st->errors)
		rc = SB_ERR_PARTIAL;
out:
	if (rc && rc != SB_ERR_PARTIAL && r.dd)
		undo(&r);
	cleanup(&r);
	for (i = 0; ss && i < nsets; i++)
		ss_free(ss[i]);
	for (i = 0; mans && i < nsets; i++)
		sb_manifest_release(&mans[i]);
	free(ss);
	free(mans);
	free(rel);
	plan_free(plan);
	return rc;
}
