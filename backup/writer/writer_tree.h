/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer_tree.h - private to the writer: the walk of one backup set. Merges
 * the source walk with the chain's signature state, decides per object
 * (unchanged / new / changed / deleted), and emits difftar entries to the
 * packer and signature entries to the new sigtar.
 */
#ifndef SEALBOX_WRITER_TREE_H
#define SEALBOX_WRITER_TREE_H

#include "sealbox/catalog.h"
#include "sealbox/manifest.h"
#include "sealbox/packer.h"
#include "sealbox/sigstate.h"
#include "sealbox/spool.h"
#include "sealbox/tar.h"
#include "sealbox/walk.h"
#include "sealbox/writer.h"
#include "journal.h"

struct tree_ctx {
	const char *source; /* folder to read */
	struct sb_walk *walk;
	struct sb_sigstate *sigs; /* NULL for a full */
	struct sb_catalog *cat;
	bool use_statcache; /* the cache describes the chain's end */
	struct sb_packer *packer;
	struct sb_tar_writer *sigtar; /* the new signature tar */
	struct sb_manifest *manifest; /* Filelist lines are added */
	struct sb_backup_stats *stats;
	const char *tmpdir;
	struct sb_writer index;		    /* the set's index records (index.h) */
	struct sb_resume_pos *pos;	    /* kept current for the checkpoints */
	struct sb_journal *journal;	    /* copies the stat-cache records */
	const struct sb_resume_pos *resume; /* NULL, or where to continue from */
};

/*
 * Run the whole walk. Fatal errors return < 0; unreadable files are counted.
 * With resume, objects before its position are skipped unread, and its
 * object continues after the bytes already packed: SB_RESUME_STALE when
 * that object is no longer what was packed.
 */
int sb_writer_tree(struct tree_ctx *t);

#endif
