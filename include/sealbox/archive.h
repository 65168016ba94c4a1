/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * archive.h - the local archive dir: plaintext copies of every manifest and
 * signature file of the target, in duplicity's cache layout
 * (duplicity-format.md §6.5: NAME.manifest, NAME.sigtar.gz), beside the
 * catalog. Incrementals read only this folder, never the target, so they
 * need no secret key. When files are missing, they are fetched from the
 * target and decrypted (that needs the secret key).
 */
#ifndef SEALBOX_ARCHIVE_H
#define SEALBOX_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealbox/buf.h"
#include "sealbox/chain.h"
#include "sealbox/crypto.h"
#include "sealbox/gate.h"
#include "sealbox/names.h"
#include "sealbox/transport.h"

/* Default archive dir for a target: $XDG_CACHE_HOME (or ~/.cache)/sealbox/<hash of
 * the target's canonical description, sb_transport_describe()>. */
int sb_archive_default_dir(const char *url, char *out, size_t size);

/* Local file name of a set's manifest or signatures (kind SB_KIND_MANIFEST/SIG). */
int sb_archive_name(const struct sb_set *s, enum sb_file_kind kind, char *out, size_t size);

/*
 * Make sure dir holds the manifest and signatures of every set of ch (a
 * chain of g's collection). Missing ones are read through the gate (the
 * chain proven first, gate.h) when crypto has the secret key for enc_fpr;
 * otherwise SB_ERR_NOSECRET, not logged.
 */
int sb_archive_sync_chain(const char *dir, struct sb_gate *g, const struct sb_chain *ch,
			  struct sb_crypto *crypto, const char *enc_fpr);

/*
 * Remove the temporary files (SB_TMP_PREFIX) a killed run left in dir.
 * Only under the archive dir's lock: a live run's files have those names too.
 */
void sb_archive_remove_tmp(const char *dir);

/* Read a local manifest into out. */
int sb_archive_read_manifest(const char *dir, const struct sb_set *s, struct sb_buf *out);

/* A reader over a gzip file (the local signatures). */
struct sb_gzreader;
int sb_gzreader_open(const char *path, struct sb_gzreader **out);
/*
 * The same, inflated ahead by a thread of its own (1 MiB of buffers), for a
 * large file read through while other work is done with what it gives.
 */
int sb_gzreader_open_ahead(const char *path, struct sb_gzreader **out);
ssize_t sb_gzreader_read(void *g, void *buf, size_t n); /* an sb_read_fn */
void sb_gzreader_close(struct sb_gzreader *g);

/* A writer to a new gzip file (created 0600, truncated), the local signatures. */
struct sb_gzwriter;
int sb_gzwriter_open(const char *path, struct sb_gzwriter **out);
/* The same, keeping the file's first off bytes (whole gzip members) and appending. */
int sb_gzwriter_open_at(const char *path, uint64_t off, struct sb_gzwriter **out);
int sb_gzwriter_write(void *g, const void *p, size_t n); /* an sb_write_fn */
/* End the current gzip member (later writes start another; readers see one
 * stream) and give the file's length: a point to reopen at. */
int sb_gzwriter_mark(struct sb_gzwriter *g, uint64_t *off);
/* What was written so far reaches the disk. */
int sb_gzwriter_sync(struct sb_gzwriter *g);
/* Flush and close; SB_ERR_IO (logged) when the data did not reach the file. NULL ok. */
int sb_gzwriter_close(struct sb_gzwriter *g);

#endif
