/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.h - private to the writer: what lets an interrupted backup resume
 * from the last volume that reached the target.
 *
 * While a set is written, ARCHIVE/resume/ holds its local streams (the new
 * signatures as gzip members, the index records, the manifest's file list)
 * and a log with one checkpoint per volume. A checkpoint is taken when a
 * volume's plaintext is complete (sb_journal_cut) and written to the log,
 * after the streams are synced, once that volume and every earlier one are
 * on the target (sb_journal_durable). It says where the set's stream stands
 * after the volume: the object the next volume starts in, how many of its
 * data bytes are already stored (and their CRC, to prove a resumed run
 * regenerates the same bytes), the statistics, and the streams' lengths.
 *
 * A later run that finds the same set half-written on the target truncates
 * the streams to a checkpoint, skips every object before its position
 * without reading it, and continues; the volumes before stay where they
 * are. Nothing here is read from the target: the log holds the sizes and
 * hashes this machine computed when it uploaded them.
 */
#ifndef SEALBOX_WRITER_JOURNAL_H
#define SEALBOX_WRITER_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "sealbox/buf.h"
#include "sealbox/catalog.h"
#include "sealbox/manifest.h"
#include "sealbox/packer.h"
#include "sealbox/writer.h"

/* A resumed run found its position's file changed after all: start over. */
#define SB_RESUME_STALE 1000

/* Where a set's stream stands: kept current by the tree walk. */
struct sb_resume_pos {
	bool at_end;	    /* the walk is done */
	struct sb_buf path; /* the object being written */
	uint64_t bytes;	    /* its data bytes in whole chunks already packed */
	long chunks;	    /* those chunks (multivol pieces) */
	uint32_t crc;	    /* CRC-32 of those bytes */
	bool reg;	    /* a regular file: its stat when it was opened */
	uint64_t size, ino;
	int64_t mtime_ns, ctime_ns;
	bool pos_set; /* where its first member went (for the index) */
	unsigned pvol;
	uint64_t poff;
	struct sb_backup_stats stats0; /* the statistics before it */
};

/* The state after one volume. */
struct sb_ckpt {
	struct sb_packer_vol vol; /* start/end point into bufs below */
	struct sb_buf start, end;
	struct sb_resume_pos pos;
	uint64_t sig_off, sig_taroff; /* gzip file offset, plaintext tar offset */
	uint64_t index_off, files_off, stat_off;
	uint64_t nfiles; /* manifest file-list entries */
};

struct sb_journal;

/* Start the journal of a new set (an earlier one is removed). key: the
 * options a resume must match (sb_journal_key). */
int sb_journal_create(const char *archive_dir, const char *set_name, const char *key,
		      struct sb_journal **out);

/*
 * Open the journal of set_name for a resume: NOT_FOUND when there is none,
 * or it belongs to another set or other options (it is then left for
 * sb_journal_create to replace). The checkpoints read are in order, vol 1..n.
 */
int sb_journal_open(const char *archive_dir, const char *set_name, const char *key,
		    struct sb_journal **out, const struct sb_ckpt **ckpts, size_t *n);

/* Cut the streams back to checkpoint k (0: the set's start) and reopen them
 * for writing; the manifest gets the file list up to there. */
int sb_journal_rewind(struct sb_journal *j, size_t k, struct sb_manifest *man);

/* SHA-256 (hex) of what a resume must match: source, excludes, volume size, keys. */
int sb_journal_key(const char *source, const char *const *excludes, size_t nexcludes,
		   uint64_t volsize, const char *enc_fpr, const char *sign_fpr, char out[65]);

/* The streams the walk writes. */
struct sb_writer sb_journal_sig_writer(struct sb_journal *j);
struct sb_tar_writer;
void sb_journal_set_sigtar(struct sb_journal *j, struct sb_tar_writer *tw);
int sb_journal_index_write(void *j, const void *p, size_t n); /* an sb_write_fn */
/* A stat-cache record (catalog.h) as the walk puts it: a resumed run puts
 * those of the skipped files back (sb_journal_stat_replay). */
int sb_journal_stat_write(struct sb_journal *j, const char *path, size_t len,
			  const struct sb_statrec *r);
/* After sb_catalog_stat_begin: the records up to the rewound checkpoint. */
int sb_journal_stat_replay(struct sb_journal *j, struct sb_catalog *cat);
/* The manifest's file list lives in man; the journal copies it at each cut. */
void sb_journal_set_manifest(struct sb_journal *j, const struct sb_manifest *man);
/* Path of the signatures file and of the index (for shipping them). */
const char *sb_journal_sig_path(const struct sb_journal *j);
const char *sb_journal_index_path(const struct sb_journal *j);
/* Flush and close the streams (before they are shipped). */
int sb_journal_close_streams(struct sb_journal *j);

/* Packer hooks (packer.h): ctx is the journal, pos the walk's position. */
void sb_journal_set_pos(struct sb_journal *j, const struct sb_resume_pos *pos);
int sb_journal_cut(void *j, const struct sb_packer_vol *v);
int sb_journal_durable(void *j, const struct sb_packer_vol *v);

/* The set is complete: remove the journal. NULL ok. */
void sb_journal_finish(struct sb_journal *j);
/* Close, keeping what is on disk for a later resume. NULL ok. */
void sb_journal_free(struct sb_journal *j);
/* Remove ARCHIVE/resume/ (no set is in progress). */
void sb_journal_discard(const char *archive_dir);

/* The counters of src into dst (not the times and names). */
void sb_resume_stats_copy(struct sb_backup_stats *dst, const struct sb_backup_stats *src);

/* Is st (an lstat) still the regular file p was inside of: same size,
 * inode, mtime and ctime? */
bool sb_resume_pos_same_file(const struct sb_resume_pos *p, const struct stat *st);

void sb_resume_pos_init(struct sb_resume_pos *p);
void sb_resume_pos_release(struct sb_resume_pos *p);
int sb_resume_pos_copy(struct sb_resume_pos *dst, const struct sb_resume_pos *src);

#endif
