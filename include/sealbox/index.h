/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * index.h - sealbox's per-set index: one record per object of the set's
 * difftar (snapshot, diff or deleted), with its metadata, its exact file
 * size at that time and where its data starts (volume, offset of its first
 * member header in that volume's plaintext). The writer emits it beside the
 * volumes (remote file sealbox-*.index.gpg, encrypted and signed, ignored by
 * duplicity); for duplicity chains the mount builds the same records from the
 * volumes once.
 *
 * Text format, one record per line after the header "sealbox-index 1":
 *   KIND TYPE MODE UID GID MTIME SIZE VOL OFFSET DEVMAJ DEVMIN LINKGROUP UNAME GNAME PATH [LINK]
 * KIND s|d|x; TYPE the tar typeflag; MODE octal; LINKGROUP hex (0: none);
 * UNAME/GNAME "-" when empty; PATH/LINK quoted like manifest paths
 * (root "."). Parsing is strict: untrusted input gives SB_ERR_CORRUPT.
 */
#ifndef SEALBOX_INDEX_H
#define SEALBOX_INDEX_H

#include <stdint.h>

#include "sealbox/buf.h"

#define SB_INDEX_HEADER "sealbox-index 1\n"
/* Plaintext of one index that readers take (the mount, a restore's plan). */
#define SB_INDEX_MAX (64u << 20)

struct sb_index_rec {
	char kind; /* 's' snapshot, 'd' diff, 'x' deleted */
	char type; /* tar typeflag */
	uint32_t mode;
	uint64_t uid, gid;
	int64_t mtime;
	uint64_t size; /* file size at this time */
	unsigned vol;  /* 0 for deleted */
	uint64_t offset;
	uint32_t devmajor, devminor;
	uint64_t linkgroup;
	char uname[256], gname[256];
	struct sb_buf path; /* root = "" */
	struct sb_buf link;
};

void sb_index_rec_init(struct sb_index_rec *r);
void sb_index_rec_release(struct sb_index_rec *r);

/* Append one record line to out. */
int sb_index_format(const struct sb_index_rec *r, struct sb_buf *out);

/* Parse the line at *pos in text (after the header); advances *pos.
 * Returns 1 with *r filled, 0 at the end, SB_ERR_CORRUPT. */
int sb_index_parse_next(const char *text, size_t len, size_t *pos, struct sb_index_rec *r);

/*
 * A whole index text (header first): each record in order to cb, which
 * returns nonzero to stop (that value is returned). SB_ERR_CORRUPT, logged
 * naming `what` (the remote file), for a missing header or a bad record.
 */
int sb_index_walk(const void *text, size_t len, const char *what,
		  int (*cb)(void *ctx, const struct sb_index_rec *r), void *ctx);

#endif
