/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proven.h - this machine's record of proven plaintext: what a remote
 * manifest or index decrypted to, and a seal's signed text, once the gate
 * (gate.h) proved the bytes and gpg checked their signer. A later read of
 * the same bytes takes the plaintext from here instead of from gpg.
 *
 * An entry is keyed by the SHA-256 of the remote file's bytes as stored and
 * the fingerprint of the key that signed them: the gate looks an entry up
 * only under a hash it has proven (the one a verified seal gives for the
 * file, or the one of the bytes it just downloaded) and the signing key the
 * command was given, so a server can neither reach an entry nor change what
 * one means. The folder is the archive dir's "proven/" (0700, this user's
 * like the rest of the archive dir); each entry carries the SHA-256 of its
 * own payload, and an entry that does not match it is ignored and removed.
 * Nothing secret is kept: manifests and indexes name files, which the
 * machine that made the backup holds anyway.
 *
 * Files: DIR/<sha256 hex>.<signer fpr>.<kind>, written under a temporary
 * name and renamed, so concurrent readers see whole entries or none.
 */
#ifndef SEALBOX_PROVEN_H
#define SEALBOX_PROVEN_H

#include <stdbool.h>
#include <stddef.h>

#include "sealbox/buf.h"

#define SB_PROVEN_MAX (64u << 20) /* bytes of one entry's payload */

/* The record's folder in archive_dir into out; false when it does not fit. */
bool sb_proven_dir(const char *archive_dir, char *out, size_t size);

/* kind: "seal" (the signed text) or "plain" (a decrypted manifest or index). */

/* 1: out holds the payload (appended); 0: no (valid) entry; < 0: no memory. */
int sb_proven_get(const char *dir, const unsigned char sha[32], const char *fpr, const char *kind,
		  struct sb_buf *out);
/* Record an entry; failures are ignored (the cache is an optimisation). */
void sb_proven_put(const char *dir, const unsigned char sha[32], const char *fpr, const char *kind,
		   const void *data, size_t len);

/* The same for the whole of the file fd (read twice with pread: hashed,
 * then copied), so that a large index needs no copy in memory. */
void sb_proven_put_fd(const char *dir, const unsigned char sha[32], const char *fpr,
		      const char *kind, int fd);

/*
 * Remove entries not used for `days` days (every hit renews an entry's
 * time) and temporary files a killed run left; backup calls it after each
 * run, so entries of pruned sets do not pile up.
 */
void sb_proven_sweep(const char *dir, unsigned days);
#define SB_PROVEN_KEEP_DAYS 60

#endif
