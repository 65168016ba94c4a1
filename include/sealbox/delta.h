/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * delta.h - librsync signatures, deltas and patches, streaming, with
 * duplicity's parameters (duplicity-format.md §4.4, §5).
 *
 * Signatures are written with MD4 strong sums of 8 bytes (magic rs\x016), as
 * duplicity 0.8.22 does; loading accepts MD4 and BLAKE2 signatures.
 * Every job is fed with *_update() and ended with *_finish(); output goes to
 * an sb_writer as it is produced. Jobs are not thread-safe; distinct jobs are.
 */
#ifndef SEALBOX_DELTA_H
#define SEALBOX_DELTA_H

#include <stdint.h>

#include "sealbox/buf.h"

#define SB_SIG_MAX_BLOCK 2048

/* duplicity's signature block length for a file of size bytes. */
uint32_t sb_sig_block_len(uint64_t size);

/* ---- signature of a new file ---- */
struct sb_sig_gen;
int sb_sig_gen_new(uint32_t block_len, struct sb_sig_gen **out);
int sb_sig_gen_update(struct sb_sig_gen *g, const void *p, size_t n, struct sb_writer *out);
int sb_sig_gen_finish(struct sb_sig_gen *g, struct sb_writer *out);
void sb_sig_gen_free(struct sb_sig_gen *g);

/* ---- a loaded signature (with its hash table built) ---- */
struct sb_sig;
/* Load a signature blob from src (untrusted: SB_ERR_CORRUPT when malformed). */
int sb_sig_load(struct sb_reader src, struct sb_sig **out);
void sb_sig_free(struct sb_sig *s);

/* ---- delta of a new file against a loaded signature ---- */
struct sb_delta_gen;
/* sig is borrowed until sb_delta_gen_free. */
int sb_delta_gen_new(struct sb_sig *sig, struct sb_delta_gen **out);
int sb_delta_gen_update(struct sb_delta_gen *d, const void *p, size_t n, struct sb_writer *out);
int sb_delta_gen_finish(struct sb_delta_gen *d, struct sb_writer *out);
void sb_delta_gen_free(struct sb_delta_gen *d);

/*
 * Apply a delta read from `delta` to the basis file open at basis_fd (read
 * with pread, any offset), writing the new file to out. *out_size (may be
 * NULL) receives the length written. SB_ERR_CORRUPT for a malformed delta or
 * a COPY beyond the basis.
 */
int sb_patch(int basis_fd, struct sb_reader delta, struct sb_writer out, uint64_t *out_size);

/*
 * Length of the file a delta produces, without the basis: the sum of all
 * LITERAL and COPY lengths (duplicity-format.md §5). Reads the whole delta.
 */
int sb_delta_size(struct sb_reader delta, uint64_t *size);

#endif
