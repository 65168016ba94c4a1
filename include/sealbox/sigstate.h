/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sigstate.h - the state of the source at the end of a chain, from its
 * signature tars (duplicity-format.md §4): the full-signatures and every
 * new-signatures merged by path, the newest entry winning, deleted paths
 * dropped. Streams are read once, in index order, with bounded memory.
 *
 *   sb_sigstate_new(streams oldest first)
 *   while (sb_sigstate_peek(s, &e) == 1) { ...; sb_sigstate_read_sig(); sb_sigstate_next(s); }
 */
#ifndef SEALBOX_SIGSTATE_H
#define SEALBOX_SIGSTATE_H

#include <stddef.h>

#include "sealbox/buf.h"
#include "sealbox/tar.h"

enum sb_sig_kind {
	SB_SIG_SIGNATURE = 'S', /* regular file with a librsync signature */
	SB_SIG_SNAPSHOT = 's',	/* any other object (metadata only) */
	SB_SIG_DELETED = 'd',
};

struct sb_sigentry {
	struct sb_buf path; /* normalised; root = "" */
	char kind;	    /* enum sb_sig_kind */
	struct sb_tar_entry hdr;
};

struct sb_sigstate;

/* streams are borrowed until sb_sigstate_free; what names them in errors. */
int sb_sigstate_new(struct sb_reader *streams, const char *const *what, size_t n,
		    struct sb_sigstate **out);
/* 1: *e is the current entry (never deleted); 0: end; < 0: error. */
int sb_sigstate_peek(struct sb_sigstate *s, const struct sb_sigentry **e);
/* The signature blob of the current entry (kind 'S') into out (reset first). */
int sb_sigstate_read_sig(struct sb_sigstate *s, struct sb_buf *out);
/* Move past the current entry. */
int sb_sigstate_next(struct sb_sigstate *s);
void sb_sigstate_free(struct sb_sigstate *s);

/* Split a sigtar/difftar member name into kind prefix and normalised path.
 * prefix gets "snapshot", "signature", "deleted", "diff", "multivol_snapshot"
 * or "multivol_diff"; for multivol names *block gets the chunk number
 * (else -1). Returns 0 or SB_ERR_CORRUPT. */
int sb_member_split(const struct sb_buf *name, const char **prefix, struct sb_buf *path,
		    long *block);

#endif
