/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * setstream.h - the reader's stream (restore, verify, and the snapshot view
 * above them): the objects of one backup set, read from its volumes in order (only the volumes a
 * path may be in), each proven by the gate before it is parsed. An object is one
 * snapshot/diff/deleted entry, or a run of multivol chunks read as one stream of data.
 */
#ifndef SEALBOX_SETSTREAM_H
#define SEALBOX_SETSTREAM_H

#include <stdbool.h>

#include "sealbox/buf.h"
#include "sealbox/chain.h"
#include "sealbox/gate.h"
#include "sealbox/manifest.h"
#include "sealbox/tar.h"
#include "sealbox/transport.h"

enum ss_kind { SS_SNAPSHOT, SS_DIFF, SS_DELETED };

struct setstream;

struct ss_object {
	enum ss_kind kind;
	struct sb_buf path;	 /* normalised */
	struct sb_tar_entry hdr; /* metadata (of the first chunk) */
	bool multivol;
	unsigned vol;	 /* where its first member header starts: volume */
	uint64_t offset; /* ... and offset in that volume's plaintext */
};

/* Set s (proven by g, gate.h): only volumes that may hold prefix are read
 * ("" for all). m (its manifest, from sb_gate_manifest()) is borrowed. */
int ss_open(struct sb_gate *g, const struct sb_set *s, const struct sb_manifest *m,
	    const char *prefix, struct setstream **out);
/* The same, reading only the volumes want(ctx, volume) chooses. */
int ss_open_sel(struct sb_gate *g, const struct sb_set *s, const struct sb_manifest *m,
		bool (*want)(void *ctx, const struct sb_manifest_vol *v), void *ctx,
		struct setstream **out);
/* 1: *o is the current object; 0: the set is exhausted (all verified); < 0 error. */
int ss_peek(struct setstream *s, const struct ss_object **o);
/* Data of the current object (across chunks and volumes): > 0, 0 at its end, < 0. */
ssize_t ss_read(void *s, void *buf, size_t n);
/* Skip the rest of the current object. */
int ss_next(struct setstream *s);
unsigned ss_volumes_read(const struct setstream *s);
void ss_free(struct setstream *s);

#endif
