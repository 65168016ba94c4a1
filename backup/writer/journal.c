/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.c - the checkpoints of a set being written (see journal.h).
 *
 * ARCHIVE/resume/ holds: head (the set and the options' key), sigtar.gz
 * (the new signatures, one gzip member per volume), index (the index
 * records), files (the manifest's file list: kind byte, 4-byte length,
 * path), stat (the stat cache's records: 4-byte length, path, size,
 * mtime, ctime and inode in this machine's byte order) and log (one line
 * per durable volume, each ending in its own
 * CRC-32 so a torn last line is ignored; in the order the uploads
 * finished, which two workers make differ from the volumes' order).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sealbox/archive.h"
#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/tar.h"
#include "sealbox/testpoint.h"
#include "journal.h"

#define HEAD_MAGIC "sealbox-resume 1"
#define JBUF 65536

/* An append-only file with a write buffer. */
struct jfile {
	int fd;
	char path[4200];
	unsigned char *buf;
	size_t len;
	uint64_t off; /* bytes written, buffered included */
};

struct sb_journal {
	char dir[4200];
	struct sb_gzwriter *sig;
	struct sb_tar_writer *sigtar;
	struct jfile index, files, stat;
	uint64_t stat_keep; /* the stat records a resumed run puts back */
	int log_fd;
	const struct sb_manifest *man;
	uint64_t nfiles_out; /* manifest entries copied to files */
	const struct sb_resume_pos *pos;
	pthread_mutex_t mu;
	struct sb_ckpt **pending; /* cut, not yet durable */
	size_t npending;
	bool *logged;		/* by volume number - 1: this run's lines and the kept ones */
	size_t nlogged, prefix; /* volumes 1..prefix are all logged */
	struct sb_ckpt *loaded; /* read from the log */
	size_t nloaded;
	char sigpath[4300];
};

void sb_resume_stats_copy(struct sb_backup_stats *dst, const struct sb_backup_stats *src)
{
	dst->source_files = src->source_files;
	dst->source_size = src->source_size;
	dst->new_files = src->new_files;
	dst->new_size = src->new_size;
	dst->deleted_files = src->deleted_files;
	dst->changed_files = src->changed_files;
	dst->changed_size = src->changed_size;
	dst->changed_delta_size = src->changed_delta_size;
	dst->delta_entries = src->delta_entries;
	dst->raw_delta_size = src->raw_delta_size;
	dst->errors = src->errors;
	dst->changed_while_read = src->changed_while_read;
}

bool sb_resume_pos_same_file(const struct sb_resume_pos *p, const struct stat *st)
{
	return S_ISREG(st->st_mode) && p->size == (uint64_t)st->st_size && p->ino == st->st_ino &&
	       p->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec &&
	       p->ctime_ns == (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

void sb_resume_pos_init(struct sb_resume_pos *p)
{
	memset(p, 0, sizeof(*p));
	sb_buf_init(&p->path);
}

void sb_resume_pos_release(struct sb_resume_pos *p) { sb_buf_release(&p->path); }

int sb_resume_pos_copy(struct sb_resume_pos *dst, const struct sb_resume_pos *src)
{
	struct sb_buf path = dst->path;

	*dst = *src;
	dst->path = path;
	return sb_buf_set(&dst->path, src->path.data, src->path.len);
}

static void ckpt_init(struct sb_ckpt *c)
{
	memset(c, 0, sizeof(*c));
	sb_buf_init(&c->start);
	sb_buf_init(&c->end);
	sb_resume_pos_init(&c->pos);
}

static void ckpt_release(struct sb_ckpt *c)
{
	sb_buf_release(&c->start);
	sb_buf_release(&c->end);
	sb_resume_pos_release(&c->pos);
}

static void ckpt_fix_vol(struct sb_ckpt *c)
{
	c->vol.start = c->start.data;
	c->vol.start_len = c->start.len;
	c->vol.end = c->end.data;
	c->vol.end_len = c->end.len;
}

/* --- the buffered files --- */

static int jfile_open(struct jfile *f, const char *dir, const char *name, uint64_t keep)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	f->len = 0;
	f->off = keep;
	if (!f->buf && !(f->buf = malloc(JBUF)))
		return SB_ERR_NOMEM;
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0 || ftruncate(f->fd, (off_t)keep) < 0 ||
	    lseek(f->fd, (off_t)keep, SEEK_SET) < 0) {
		int e = errno;

		sb_error("archive dir: cannot open %s: %s", f->path, strerror(e));
		return sb_err_from_errno(e);
	}
	return 0;
}

static int jfile_flush(struct jfile *f)
{
	int fd = f->fd, rc;

	if (!f->len)
		return 0;
	rc = sb_fd_write(&fd, f->buf, f->len); /* names the file on failure */
	f->len = 0;
	return rc;
}

static int jfile_write(struct jfile *f, const void *p, size_t n)
{
	const unsigned char *c = p;
	int rc;

	f->off += n;
	while (n) {
		size_t k = JBUF - f->len;

		if (k > n)
			k = n;
		memcpy(f->buf + f->len, c, k);
		f->len += k;
		c += k;
		n -= k;
		if (f->len == JBUF && (rc = jfile_flush(f)))
			return rc;
	}
	return 0;
}

static int jfile_sync(struct jfile *f)
{
	if (f->fd >= 0 && fdatasync(f->fd) < 0) {
		int e = errno;

		sb_error("archive dir: cannot write %s: %s", f->path, strerror(e));
		return sb_err_from_errno(e);
	}
	return 0;
}

/* flush: false when what is buffered is past the last checkpoint anyway (a
 * resumed run truncates there), so a full disk is not reported twice */
static int jfile_close(struct jfile *f, bool flush)
{
	int rc = f->fd >= 0 && flush ? jfile_flush(f) : 0;

	if (f->fd >= 0 && close(f->fd) < 0 && !rc)
		rc = SB_ERR_IO;
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
	return rc;
}

/* --- the log --- */

static void add_hexpath(struct sb_buf *b, const char *key, const void *p, size_t n)
{
	char hex[513];
	const unsigned char *c = p;

	sb_buf_addf(b, " %s=", key);
	if (!n)
		sb_buf_addch(b, '-');
	while (n) {
		size_t k = n > 256 ? 256 : n;

		sb_hex(c, k, hex);
		sb_buf_addstr(b, hex);
		c += k;
		n -= k;
	}
}

static const struct sb_backup_stats *stats_of(const struct sb_ckpt *c) { return &c->pos.stats0; }

static int format_line(const struct sb_ckpt *c, struct sb_buf *b)
{
	const struct sb_backup_stats *s = stats_of(c);
	const struct sb_resume_pos *p = &c->pos;
	size_t at = b->len; /* the line starts here */
	char h1[41], h2[65];

	sb_hex(c->vol.sha1, 20, h1);
	sb_hex(c->vol.sha256, 32, h2);
	sb_buf_addf(b, "v=%u st=%llu s1=%s s2=%s", c->vol.num, (unsigned long long)c->vol.stored,
		    h1, h2);
	add_hexpath(b, "sp", c->start.data, c->start.len);
	sb_buf_addf(b, " sb=%ld", c->vol.start_block);
	add_hexpath(b, "ep", c->end.data, c->end.len);
	sb_buf_addf(b, " eb=%ld e=%d", c->vol.end_block, p->at_end);
	add_hexpath(b, "p", p->path.data, p->path.len);
	sb_buf_addf(b,
		    " pb=%llu pc=%ld pk=%lu r=%d sz=%llu in=%llu mt=%lld ct=%lld ps=%d pv=%u "
		    "po=%llu so=%llu sto=%llu io=%llu fo=%llu nf=%llu to=%llu",
		    (unsigned long long)p->bytes, p->chunks, (unsigned long)p->crc, p->reg,
		    (unsigned long long)p->size, (unsigned long long)p->ino, (long long)p->mtime_ns,
		    (long long)p->ctime_ns, p->pos_set, p->pvol, (unsigned long long)p->poff,
		    (unsigned long long)c->sig_off, (unsigned long long)c->sig_taroff,
		    (unsigned long long)c->index_off, (unsigned long long)c->files_off,
		    (unsigned long long)c->nfiles, (unsigned long long)c->stat_off);
	sb_buf_addf(b, " S=%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu",
		    (unsigned long long)s->source_files, (unsigned long long)s->source_size,
		    (unsigned long long)s->new_files, (unsigned long long)s->new_size,
		    (unsigned long long)s->deleted_files, (unsigned long long)s->changed_files,
		    (unsigned long long)s->changed_size, (unsigned long long)s->changed_delta_size,
		    (unsigned long long)s->delta_entries, (unsigned long long)s->raw_delta_size,
		    (unsigned long long)s->errors, (unsigned long long)s->changed_while_read);
	if (!b->data)
		return SB_ERR_NOMEM;
	return sb_buf_addf(b, " K=%08lx\n", crc32(0L, b->data + at, (uInt)(b->len - at)));
}

/* The value of key in a line of space-separated key=value tokens. */
static const char *field(const char *line, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	const char *p = line;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1, *e = strchr(v, ' ');

			*len = e ? (size_t)(e - v) : strlen(v);
			return v;
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return NULL;
}

static bool num(const char *line, const char *key, unsigned long long *out)
{
	size_t n;
	const char *v = field(line, key, &n);
	char tmp[32], *end;

	if (!v || !n || n >= sizeof(tmp))
		return false;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtoull(tmp, &end, 10);
	if (tmp[0] == '-') /* blocks and times may be negative */
		*out = (unsigned long long)strtoll(tmp, &end, 10);
	return !errno && *end == '\0';
}

static bool hexfield(const char *line, const char *key, struct sb_buf *out)
{
	size_t n;
	const char *v = field(line, key, &n);

	sb_buf_reset(out);
	if (!v || !n)
		return false;
	if (n == 1 && v[0] == '-')
		return true;
	if (n % 2 || sb_buf_reserve(out, n / 2))
		return false;
	if (sb_unhex(v, n, out->data, n / 2))
		return false;
	out->len = n / 2;
	return true;
}

static bool parse_line(char *line, struct sb_ckpt *c)
{
	struct sb_backup_stats *s = &c->pos.stats0;
	struct sb_resume_pos *p = &c->pos;
	unsigned long long v[24], st[12];
	static const char *const keys[] = {"v",	 "st",	"sb", "eb", "e",  "pb", "pc", "pk",
					   "r",	 "sz",	"in", "mt", "ct", "ps", "pv", "po",
					   "so", "sto", "io", "fo", "nf", "to"};
	char *k = strstr(line, " K="), *sv;
	size_t i, n;

	if (!k || strlen(k) != 11 ||
	    strtoul(k + 3, NULL, 16) != crc32(0L, (const Bytef *)line, (uInt)(k - line)))
		return false;
	*k = '\0';
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!num(line, keys[i], &v[i]))
			return false;
	if (!hexfield(line, "sp", &c->start) || !hexfield(line, "ep", &c->end) ||
	    !hexfield(line, "p", &p->path))
		return false;
	if (!(sv = (char *)field(line, "s1", &n)) || n != 40 || sb_unhex(sv, 40, c->vol.sha1, 20) ||
	    !(sv = (char *)field(line, "s2", &n)) || n != 64 || sb_unhex(sv, 64, c->vol.sha256, 32))
		return false;
	if (!(sv = (char *)field(line, "S", &n)) ||
	    sscanf(sv, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu", &st[0],
		   &st[1], &st[2], &st[3], &st[4], &st[5], &st[6], &st[7], &st[8], &st[9], &st[10],
		   &st[11]) != 12)
		return false;
	c->vol.num = (unsigned)v[0];
	c->vol.stored = v[1];
	c->vol.start_block = (long)(long long)v[2];
	c->vol.end_block = (long)(long long)v[3];
	p->at_end = v[4] != 0;
	p->bytes = v[5];
	p->chunks = (long)v[6];
	p->crc = (uint32_t)v[7];
	p->reg = v[8] != 0;
	p->size = v[9];
	p->ino = v[10];
	p->mtime_ns = (int64_t)v[11];
	p->ctime_ns = (int64_t)v[12];
	p->pos_set = v[13] != 0;
	p->pvol = (unsigned)v[14];
	p->poff = v[15];
	c->sig_off = v[16];
	c->sig_taroff = v[17];
	c->index_off = v[18];
	c->files_off = v[19];
	c->nfiles = v[20];
	c->stat_off = v[21];
	s->source_files = st[0];
	s->source_size = st[1];
	s->new_files = st[2];
	s->new_size = st[3];
	s->deleted_files = st[4];
	s->changed_files = st[5];
	s->changed_size = st[6];
	s->changed_delta_size = st[7];
	s->delta_entries = st[8];
	s->raw_delta_size = st[9];
	s->errors = st[10];
	s->changed_while_read = st[11];
	ckpt_fix_vol(c);
	return true;
}

static int by_vol(const void *a, const void *b)
{
	unsigned x = ((const struct sb_ckpt *)a)->vol.num, y = ((const struct sb_ckpt *)b)->vol.num;

	return x < y ? -1 : x > y;
}

/*
 * Read the log (lines in the order the uploads finished, up to the first
 * torn one) and keep the checkpoints of volumes 1..n without a gap.
 */
static int load_log(struct sb_journal *j)
{
	char path[4300], buf[65536];
	struct sb_buf text = SB_BUF_INIT;
	char *line, *nl;
	size_t cap = 0, i, keep;
	int fd, rc = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/log", j->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : sb_err_from_errno(errno);
	while ((n = sb_fd_read(&fd, buf, sizeof(buf))) > 0)
		if ((rc = sb_buf_add(&text, buf, (size_t)n)))
			break;
	close(fd);
	if (rc || n < 0 || sb_buf_addch(&text, '\0')) {
		sb_buf_release(&text);
		return rc ? rc : SB_ERR_IO;
	}
	line = (char *)text.data;
	while ((nl = strchr(line, '\n'))) {
		struct sb_ckpt *c;

		*nl = '\0';
		if (j->nloaded == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct sb_ckpt *a = realloc(j->loaded, ncap * sizeof(*a));

			if (!a) {
				rc = SB_ERR_NOMEM;
				break;
			}
			j->loaded = a;
			cap = ncap;
		}
		c = &j->loaded[j->nloaded];
		ckpt_init(c);
		if (!parse_line(line, c) || !c->vol.num) {
			ckpt_release(c);
			break;
		}
		j->nloaded++;
		line = nl + 1;
	}
	sb_buf_release(&text);
	if (j->nloaded)
		qsort(j->loaded, j->nloaded, sizeof(*j->loaded), by_vol);
	for (keep = 0; keep < j->nloaded && j->loaded[keep].vol.num == keep + 1; keep++)
		;
	for (i = keep; i < j->nloaded; i++)
		ckpt_release(&j->loaded[i]);
	j->nloaded = keep;
	for (i = 0; i < keep; i++) /* the array moved */
		ckpt_fix_vol(&j->loaded[i]);
	return rc;
}

/* --- setting up --- */

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

void sb_journal_discard(const char *archive_dir)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/resume", archive_dir);
	remove_dir(dir);
}

static struct sb_journal *journal_new(const char *archive_dir)
{
	struct sb_journal *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	snprintf(j->dir, sizeof(j->dir), "%s/resume", archive_dir);
	snprintf(j->sigpath, sizeof(j->sigpath), "%s/sigtar.gz", j->dir);
	j->index.fd = j->files.fd = j->stat.fd = j->log_fd = -1;
	pthread_mutex_init(&j->mu, NULL);
	return j;
}

int sb_journal_key(const char *source, const char *const *excludes, size_t nexcludes,
		   uint64_t volsize, const char *enc_fpr, const char *sign_fpr, char out[65])
{
	struct sb_hash h;
	unsigned char sha[32];
	char vs[32];
	char *abs = realpath(source, NULL);
	size_t i;
	int rc = sb_hash_init(&h, SB_HASH_ALG_SHA256);

	if (rc) {
		free(abs);
		return rc;
	}
	sb_hash_update(&h, abs ? abs : source, strlen(abs ? abs : source) + 1);
	for (i = 0; i < nexcludes; i++)
		sb_hash_update(&h, excludes[i], strlen(excludes[i]) + 1);
	snprintf(vs, sizeof(vs), "|%llu|", (unsigned long long)volsize);
	sb_hash_update(&h, vs, strlen(vs) + 1);
	sb_hash_update(&h, enc_fpr, strlen(enc_fpr) + 1);
	sb_hash_update(&h, sign_fpr, strlen(sign_fpr) + 1);
	sb_hash_final(&h, sha);
	sb_hex(sha, 32, out);
	free(abs);
	return 0;
}

int sb_journal_create(const char *archive_dir, const char *set_name, const char *key,
		      struct sb_journal **out)
{
	struct sb_journal *j = journal_new(archive_dir);
	struct sb_buf head = SB_BUF_INIT;
	char path[4300];
	int rc;

	*out = NULL;
	if (!j)
		return SB_ERR_NOMEM;
	remove_dir(j->dir);
	if (mkdir(j->dir, 0700) < 0 && errno != EEXIST) {
		rc = sb_err_from_errno(errno);
		sb_error("archive dir: cannot create %s: %s", j->dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/head", j->dir);
	if ((rc = sb_buf_addf(&head, "%s\nset %s\nkey %s\n", HEAD_MAGIC, set_name, key)) ||
	    (rc = sb_write_file_atomic(path, head.data, head.len)) ||
	    (rc = sb_journal_rewind(j, 0, NULL)))
		goto fail;
	sb_buf_release(&head);
	*out = j;
	return 0;
fail:
	sb_buf_release(&head);
	sb_journal_free(j);
	return rc;
}

static bool file_holds(const char *dir, const char *name, uint64_t off)
{
	char path[4300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && (uint64_t)st.st_size >= off;
}

static bool streams_hold(const struct sb_journal *j, const struct sb_ckpt *c)
{
	return file_holds(j->dir, "sigtar.gz", c->sig_off) &&
	       file_holds(j->dir, "index", c->index_off) &&
	       file_holds(j->dir, "files", c->files_off) && file_holds(j->dir, "stat", c->stat_off);
}

int sb_journal_open(const char *archive_dir, const char *set_name, const char *key,
		    struct sb_journal **out, const struct sb_ckpt **ckpts, size_t *n)
{
	struct sb_journal *j = journal_new(archive_dir);
	struct sb_buf want = SB_BUF_INIT;
	char path[4300], head[512];
	ssize_t got = -1;
	int fd, rc;

	*out = NULL;
	*ckpts = NULL;
	*n = 0;
	if (!j)
		return SB_ERR_NOMEM;
	snprintf(path, sizeof(path), "%s/head", j->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, head, sizeof(head));
		close(fd);
	}
	rc = sb_buf_addf(&want, "%s\nset %s\nkey %s\n", HEAD_MAGIC, set_name, key);
	if (!rc && (got != (ssize_t)want.len || memcmp(head, want.data, want.len)))
		rc = SB_ERR_NOTFOUND;
	sb_buf_release(&want);
	if (!rc)
		rc = load_log(j);
	if (rc) {
		sb_journal_free(j);
		return rc;
	}
	/* a checkpoint is only as good as the streams it cuts back to */
	while (j->nloaded && !streams_hold(j, &j->loaded[j->nloaded - 1]))
		ckpt_release(&j->loaded[--j->nloaded]);
	*out = j;
	*ckpts = j->loaded;
	*n = j->nloaded;
	return 0;
}

/* Read the manifest's file list back from files, up to off. */
static int load_files(struct sb_journal *j, uint64_t off, uint64_t nfiles, struct sb_manifest *man)
{
	struct sb_buf path = SB_BUF_INIT;
	unsigned char hdr[5];
	uint64_t at = 0, count = 0;
	int fd, rc = 0;

	if (!off)
		return 0;
	fd = open(j->files.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sb_err_from_errno(errno);
	while (!rc && at < off) {
		uint32_t len;
		const char *kind;

		if (sb_fd_read(&fd, hdr, 5) != 5) {
			rc = SB_ERR_CORRUPT;
			break;
		}
		len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 |
		      hdr[4];
		kind = hdr[0] == 'n' ? "new" : hdr[0] == 'c' ? "changed" : "deleted";
		if (len > (1u << 20) || (rc = sb_buf_reserve(&path, len)))
			rc = rc ? rc : SB_ERR_CORRUPT;
		else if (sb_fd_read(&fd, path.data, len) != (ssize_t)len)
			rc = SB_ERR_CORRUPT;
		else
			rc = sb_manifest_add_file(man, kind, (const char *)path.data, len);
		at += 5 + len;
		count++;
	}
	close(fd);
	sb_buf_release(&path);
	if (!rc && (at != off || count != nfiles))
		rc = SB_ERR_CORRUPT;
	if (rc)
		sb_error("archive dir: %s is damaged: cannot resume", j->files.path);
	return rc;
}

/* Volume num is in the log; the tests' "journal:N" point is the moment
 * volumes 1..N all are. */
static int note_logged(struct sb_journal *j, unsigned num, bool quiet)
{
	if (num > j->nlogged) {
		size_t n = num + 64;
		bool *b = realloc(j->logged, n * sizeof(*b));

		if (!b)
			return SB_ERR_NOMEM;
		memset(b + j->nlogged, 0, (n - j->nlogged) * sizeof(*b));
		j->logged = b;
		j->nlogged = n;
	}
	j->logged[num - 1] = true;
	while (j->prefix < j->nlogged && j->logged[j->prefix])
		if (++j->prefix, !quiet)
			sb_testpoint("journal", j->prefix);
	return 0;
}

int sb_journal_rewind(struct sb_journal *j, size_t k, struct sb_manifest *man)
{
	const struct sb_ckpt *c = k ? &j->loaded[k - 1] : NULL;
	struct sb_buf log = SB_BUF_INIT;
	char path[4300];
	size_t i;
	int rc;

	if (k > j->nloaded)
		return SB_ERR_INTERNAL;
	if ((rc = sb_gzwriter_open_at(j->sigpath, c ? c->sig_off : 0, &j->sig)) ||
	    (rc = jfile_open(&j->index, j->dir, "index", c ? c->index_off : 0)) ||
	    (rc = jfile_open(&j->files, j->dir, "files", c ? c->files_off : 0)) ||
	    (rc = jfile_open(&j->stat, j->dir, "stat", c ? c->stat_off : 0)))
		return rc;
	j->stat_keep = c ? c->stat_off : 0;
	if (c && man && (rc = load_files(j, c->files_off, c->nfiles, man)))
		return rc;
	j->nfiles_out = c ? c->nfiles : 0;
	/* the log: the first k checkpoints, then what this run adds */
	snprintf(path, sizeof(path), "%s/log", j->dir);
	for (i = 0; !rc && i < k; i++)
		rc = format_line(&j->loaded[i], &log);
	if (!rc)
		rc = sb_write_file_atomic(path, log.data ? (const void *)log.data : "", log.len);
	sb_buf_release(&log);
	for (i = 0; !rc && i < k; i++)
		rc = note_logged(j, (unsigned)(i + 1), true);
	if (!rc && (j->log_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		rc = sb_err_from_errno(errno);
		sb_error("archive dir: cannot write %s: %s", path, strerror(errno));
	}
	return rc;
}

/* --- the streams --- */

struct sb_writer sb_journal_sig_writer(struct sb_journal *j)
{
	return (struct sb_writer){sb_gzwriter_write, j->sig};
}

void sb_journal_set_sigtar(struct sb_journal *j, struct sb_tar_writer *tw) { j->sigtar = tw; }

int sb_journal_index_write(void *ctx, const void *p, size_t n)
{
	struct sb_journal *j = ctx;

	return jfile_write(&j->index, p, n);
}

void sb_journal_set_manifest(struct sb_journal *j, const struct sb_manifest *man) { j->man = man; }

void sb_journal_set_pos(struct sb_journal *j, const struct sb_resume_pos *pos) { j->pos = pos; }

const char *sb_journal_sig_path(const struct sb_journal *j) { return j->sigpath; }

const char *sb_journal_index_path(const struct sb_journal *j) { return j->index.path; }

int sb_journal_close_streams(struct sb_journal *j)
{
	int rc = sb_gzwriter_close(j->sig), rc2;

	j->sig = NULL;
	rc2 = jfile_close(&j->index, true);
	if (!rc)
		rc = rc2;
	rc2 = jfile_close(&j->files, true);
	if (!rc)
		rc = rc2;
	rc2 = jfile_close(&j->stat, true);
	return rc ? rc : rc2;
}

int sb_journal_stat_write(struct sb_journal *j, const char *path, size_t len,
			  const struct sb_statrec *r)
{
	uint32_t l = (uint32_t)len;
	int rc = jfile_write(&j->stat, &l, sizeof(l));

	if (!rc)
		rc = jfile_write(&j->stat, path, len);
	return rc ? rc : jfile_write(&j->stat, r, sizeof(*r));
}

int sb_journal_stat_replay(struct sb_journal *j, struct sb_catalog *cat)
{
	struct sb_buf path = SB_BUF_INIT;
	struct sb_statrec r;
	uint64_t at = 0;
	uint32_t len;
	int fd, rc = 0;

	if (!j->stat_keep)
		return 0;
	fd = open(j->stat.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sb_err_from_errno(errno);
	while (!rc && at < j->stat_keep) {
		if (sb_fd_read(&fd, &len, sizeof(len)) != sizeof(len) || len > (1u << 20) ||
		    sb_buf_reserve(&path, len) || sb_fd_read(&fd, path.data, len) != (ssize_t)len ||
		    sb_fd_read(&fd, &r, sizeof(r)) != sizeof(r))
			rc = SB_ERR_CORRUPT;
		else
			rc = sb_catalog_stat_put(cat, (const char *)path.data, len, &r);
		at += sizeof(len) + len + sizeof(r);
	}
	close(fd);
	sb_buf_release(&path);
	if (rc == SB_ERR_CORRUPT || (!rc && at != j->stat_keep)) {
		/* only a cache: the files it lacks are compared by duplicity's rule */
		sb_warn("archive dir: %s is damaged: the stat cache of the skipped files is lost",
			j->stat.path);
		rc = 0;
	}
	return rc;
}

/* Append the manifest's new file-list entries to files. */
static int copy_files(struct sb_journal *j)
{
	int rc = 0;

	for (; !rc && j->man && j->nfiles_out < j->man->nfiles; j->nfiles_out++) {
		const struct sb_manifest_file *f = &j->man->files[j->nfiles_out];
		uint32_t len = (uint32_t)f->path.len;
		unsigned char hdr[5] = {(unsigned char)f->kind[0], (unsigned char)(len >> 24),
					(unsigned char)(len >> 16), (unsigned char)(len >> 8),
					(unsigned char)len};

		rc = jfile_write(&j->files, hdr, 5);
		if (!rc)
			rc = jfile_write(&j->files, f->path.data, len);
	}
	return rc;
}

int sb_journal_cut(void *ctx, const struct sb_packer_vol *v)
{
	struct sb_journal *j = ctx;
	struct sb_ckpt *c = malloc(sizeof(*c)), **p;
	int rc;

	if (!c)
		return SB_ERR_NOMEM;
	ckpt_init(c);
	c->vol = *v;
	rc = sb_buf_set(&c->start, v->start, v->start_len);
	if (!rc)
		rc = sb_buf_set(&c->end, v->end, v->end_len);
	if (!rc)
		rc = sb_resume_pos_copy(&c->pos, j->pos);
	if (!rc)
		rc = sb_gzwriter_mark(j->sig, &c->sig_off);
	c->sig_taroff = j->sigtar ? j->sigtar->offset : 0;
	if (!rc)
		rc = jfile_flush(&j->index);
	c->index_off = j->index.off;
	if (!rc)
		rc = copy_files(j);
	if (!rc)
		rc = jfile_flush(&j->files);
	c->files_off = j->files.off;
	c->nfiles = j->nfiles_out;
	if (!rc)
		rc = jfile_flush(&j->stat);
	c->stat_off = j->stat.off;
	ckpt_fix_vol(c);
	pthread_mutex_lock(&j->mu);
	p = rc ? NULL : realloc(j->pending, (j->npending + 1) * sizeof(*p));
	if (p) {
		j->pending = p;
		j->pending[j->npending++] = c;
		c = NULL;
	} else if (!rc) {
		rc = SB_ERR_NOMEM;
	}
	pthread_mutex_unlock(&j->mu);
	if (c) {
		ckpt_release(c);
		free(c);
	}
	return rc;
}

int sb_journal_durable(void *ctx, const struct sb_packer_vol *v)
{
	struct sb_journal *j = ctx;
	struct sb_buf line = SB_BUF_INIT;
	struct sb_ckpt *c = NULL;
	size_t i;
	int rc, fd;

	pthread_mutex_lock(&j->mu);
	for (i = 0; i < j->npending; i++)
		if (j->pending[i]->vol.num == v->num) {
			c = j->pending[i];
			j->pending[i] = j->pending[--j->npending];
			break;
		}
	pthread_mutex_unlock(&j->mu);
	if (!c)
		return SB_ERR_INTERNAL;
	c->vol.stored = v->stored;
	memcpy(c->vol.sha1, v->sha1, sizeof(c->vol.sha1));
	memcpy(c->vol.sha256, v->sha256, sizeof(c->vol.sha256));
	/* the streams up to the checkpoint reach the disk before the line does */
	rc = sb_gzwriter_sync(j->sig);
	if (!rc)
		rc = jfile_sync(&j->index);
	if (!rc)
		rc = jfile_sync(&j->files);
	if (!rc)
		rc = jfile_sync(&j->stat);
	if (!rc)
		rc = format_line(c, &line);
	fd = j->log_fd;
	if (!rc && !(rc = sb_fd_write(&fd, line.data, line.len)) && fdatasync(fd) < 0)
		rc = sb_err_from_errno(errno);
	if (rc && rc != SB_ERR_NOMEM)
		sb_error("archive dir: cannot write %s/log: %s", j->dir, strerror(errno));
	if (!rc)
		rc = note_logged(j, c->vol.num, false);
	sb_buf_release(&line);
	ckpt_release(c);
	free(c);
	return rc;
}

/* --- ending --- */

void sb_journal_free(struct sb_journal *j)
{
	size_t i;

	if (!j)
		return;
	sb_gzwriter_close(j->sig);
	jfile_close(&j->index, false);
	jfile_close(&j->files, false);
	jfile_close(&j->stat, false);
	if (j->log_fd >= 0)
		close(j->log_fd);
	for (i = 0; i < j->npending; i++) {
		ckpt_release(j->pending[i]);
		free(j->pending[i]);
	}
	free(j->pending);
	for (i = 0; i < j->nloaded; i++)
		ckpt_release(&j->loaded[i]);
	free(j->loaded);
	free(j->logged);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

void sb_journal_finish(struct sb_journal *j)
{
	char dir[4200];

	if (!j)
		return;
	snprintf(dir, sizeof(dir), "%s", j->dir);
	sb_journal_free(j);
	remove_dir(dir);
}
