/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify.h - checking a target against its seals (seal.h) with the public
 * signing key only: `sealbox verify`, and the cheap per-set check restore
 * and mount make before they use a set.
 *
 * sb_verify() checks, in order: every seal's signature and text; that the
 * seals carry one backup id; the hash chain (each seal names the SHA-256 of
 * the seal before it, across chains, by set time); that the newest seal this
 * machine wrote (archive dir catalog) is still there; every remote file's
 * size against its seal, then (unless quick) its SHA-256, streaming each
 * file once in bounded memory. Each problem is reported once through
 * o->report, naming the remote file. Sets without a seal are either
 * duplicity's (noted; with o->decrypt their manifests are decrypted and the
 * volumes' SHA-1 checked) or, for a set with a sealbox index while an older
 * seal exists, a problem: its seal was removed.
 * A full set's seal that follows a seal no longer on the target is a note
 * when prune with this archive dir removed that seal's chain (pruned.h), or
 * when the archive dir is not the backup's; else a chain problem.
 *
 * With o->sample, only a random share of the data files (volumes and
 * signature files, sample.h) is read; manifests, indexes and seals always
 * are, and every file's size is still checked against its seal. Each data
 * file read is named in a note, and st says how many of how many.
 */
#ifndef SEALBOX_VERIFY_H
#define SEALBOX_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "sealbox/chain.h"
#include "sealbox/crypto.h"
#include "sealbox/gate.h"
#include "sealbox/sample.h"
#include "sealbox/transport.h"

enum sb_verify_class {
	SB_VERIFY_NOTE = 0,   /* information, not a problem */
	SB_VERIFY_MODIFIED,   /* bytes differ from the seal; a seal altered */
	SB_VERIFY_TRUNCATED,  /* size differs from the seal */
	SB_VERIFY_MISSING,    /* a sealed file, or a set's seal, is not on the target */
	SB_VERIFY_UNEXPECTED, /* a file that no seal lists */
	SB_VERIFY_CHAIN,      /* broken link in the hash chain; another backup's seal */
	SB_VERIFY_FOREIGN,    /* a seal signed by another key */
	SB_VERIFY_ROLLBACK,   /* the newest seal this machine wrote is gone */
	SB_VERIFY_NCLASSES
};

/* Short name of a class ("modified", ...). */
const char *sb_verify_class_name(enum sb_verify_class c);

/* file: the remote file at fault (NULL for the target as a whole). */
typedef void (*sb_verify_report_fn)(void *ctx, enum sb_verify_class c, const char *file,
				    const char *msg);
/* While hashing: bytes done of total, the file being read. */
typedef void (*sb_verify_progress_fn)(void *ctx, uint64_t done, uint64_t total, const char *file);

struct sb_verify_opts {
	struct sb_gate *gate; /* the target (gate.h): listing, chain rules, manifests */
	struct sb_transport *target;
	struct sb_crypto *crypto; /* holds the public signing key */
	const char *sign_fpr;
	const char *archive_dir;	/* the catalog remembering our newest seal;
					   NULL or none there: no rollback check */
	bool quick;			/* sizes and seals only: no file is read */
	struct sb_crypto *decrypt;	/* NULL, or holds the secret encryption key:
					   unsealed sets' manifests and volume SHA-1 */
	const struct sb_sample *sample; /* NULL: read every file */
	uint64_t sample_seed;		/* the shuffle's seed (sb_sample_seed()) */
	sb_verify_report_fn report;
	sb_verify_progress_fn progress; /* may be NULL */
	void *ctx;
};

struct sb_verify_stats {
	uint64_t seals, sets, unsealed_sets;
	uint64_t files, bytes; /* checked; bytes read and hashed */
	uint64_t count[SB_VERIFY_NCLASSES];
	bool rollback_checked;
	bool sampled;			   /* o->sample was given */
	uint64_t sample_files, data_files; /* data files read, of all the data files */
	uint64_t sample_bytes, data_bytes; /* their sizes */
};

/* 0 when the check ran (problems are counted in st), else an operational
 * error (target unreachable, key missing), logged. */
int sb_verify(const struct sb_verify_opts *o, struct sb_verify_stats *st);

#endif
