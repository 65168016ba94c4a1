/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer.h - `sealbox backup`: one backup set (full or incremental) of a
 * source folder, in duplicity's format.
 *
 * Pipeline: source walk -> change detection against the chain's signatures
 * (from the archive dir) and the stat cache -> snapshot/diff/deleted entries
 * -> packer (volumes, encrypted in parallel, atomic uploads) and the new
 * signature tar -> signatures, then the manifest, last. A run killed at any
 * point leaves only an incomplete set (no manifest) that the next run
 * removes before it starts.
 */
#ifndef SEALBOX_WRITER_H
#define SEALBOX_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "sealbox/crypto.h"
#include "sealbox/gate.h"
#include "sealbox/transport.h"

struct sb_backup_opts {
	const char *source; /* as given: recorded as the manifest's Localdir */
	struct sb_transport *target;
	struct sb_gate *gate;	   /* the target as listed under the lock (gate.h):
				      anything read back from it passes there */
	struct sb_crypto *crypto;  /* user's keyring: encrypts and signs */
	struct sb_crypto *decrypt; /* may decrypt (secret key): fills a missing
				      archive dir; NULL: none at hand */
	const char *enc_fpr;
	const char *sign_fpr;
	const char *archive_dir;
	uint64_t volsize; /* bytes */
	bool force_full;
	long long full_if_older_than; /* seconds, 0: never */
	const char *const *excludes;
	size_t nexcludes;
	bool allow_source_mismatch;
	const char *tmpdir; /* NULL: $TMPDIR or /tmp */
};

struct sb_backup_stats {
	double start, end; /* epoch seconds */
	bool full;
	char set_name[256];  /* the manifest's remote name */
	char seal_name[256]; /* its seal's remote name */
	char seal_sha[65];   /* SHA-256 of the seal's bytes (verify --expect-seal) */
	uint64_t source_files, source_size;
	uint64_t new_files, new_size;
	uint64_t deleted_files;
	uint64_t changed_files, changed_size, changed_delta_size;
	uint64_t delta_entries, raw_delta_size;
	uint64_t dest_change;
	uint64_t errors;
	uint64_t changed_while_read; /* stored as read, read again next run */
};

/*
 * Make one backup set. Returns 0, SB_ERR_PARTIAL when the set is complete
 * but some source files could not be read (counted in stats->errors) or
 * changed while they were read (stats->changed_while_read), or
 * an error (nothing committed, earlier sets untouched).
 */
int sb_backup(const struct sb_backup_opts *o, struct sb_backup_stats *stats);

/* duplicity's "Backup Statistics" block. */
void sb_backup_stats_print(const struct sb_backup_stats *s, FILE *f);

#endif
