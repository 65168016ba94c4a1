/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reader.h - reading sets back: the sets of a chain as one merged stream of
 * objects (duplicity-format.md §7), and `sealbox restore` on top of it.
 *
 * Every manifest is decrypted and its signer checked before use; every
 * volume is hashed while it streams and checked against its manifest, and
 * its signature is checked when gpg reaches the end. Restored objects are
 * written under temporary names and renamed into place only after every
 * volume they came from verified; on any failure they are removed.
 */
#ifndef SEALBOX_READER_H
#define SEALBOX_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sealbox/crypto.h"
#include "sealbox/gate.h"
#include "sealbox/transport.h"

struct sb_restore_opts {
	struct sb_gate *gate; /* the target, proven (gate.h) */
	struct sb_transport *target;
	struct sb_crypto *crypto; /* holds the secret encryption key */
	const char *sign_fpr;	  /* every file must be signed by this key; NULL
				     only for unencrypted (unsigned) chains */
	time_t time;		  /* restore the newest set at or before it */
	const char *path;	  /* "" or NULL: everything; else one path (normalised) */
	bool path_absolute;	  /* path was given absolute: the backed-up folder (the
				     manifest's Localdir) is taken off its front */
	const char *dest;
	bool force; /* overwrite existing files */
	const char *tmpdir;
};

struct sb_restore_stats {
	time_t set_time;  /* time of the snapshot restored */
	uint64_t objects; /* restored */
	uint64_t bytes;	  /* file bytes written */
	uint64_t volumes; /* volumes read */
	uint64_t errors;  /* objects that could not be restored */
};

int sb_restore(const struct sb_restore_opts *o, struct sb_restore_stats *st);

#endif
