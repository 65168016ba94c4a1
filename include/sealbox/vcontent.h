/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vcontent.h - `sealbox verify --content`: restore the newest snapshot into
 * a temporary folder (under $TMPDIR, removed afterwards) with every volume
 * decrypted and verified, then compare it with the source folder, like
 * `duplicity verify --compare-data`: type, permission bits, owner (as
 * root), mtime, symlink targets and file bytes. Disk use: one snapshot.
 */
#ifndef SEALBOX_VCONTENT_H
#define SEALBOX_VCONTENT_H

#include <stdint.h>

#include "sealbox/crypto.h"
#include "sealbox/gate.h"
#include "sealbox/transport.h"

/* path: relative to the source ("." for its root); what: the difference. */
typedef void (*sb_vcontent_fn)(void *ctx, const char *path, const char *what);

struct sb_vcontent_opts {
	struct sb_gate *gate; /* the target, proven (gate.h) */
	struct sb_transport *target;
	struct sb_crypto *crypto; /* holds the secret encryption key */
	const char *sign_fpr;
	const char *source;
	const char *const *excludes; /* the backups' --exclude globs (select.h): */
	size_t nexcludes;	     /* paths they match are not compared */
	sb_vcontent_fn report;	     /* NULL: differences are only counted */
	void *ctx;
};

/* 0 with *diffs differences reported, or the restore's error (logged). */
int sb_vcontent(const struct sb_vcontent_opts *o, uint64_t *diffs);

#endif
