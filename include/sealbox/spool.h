/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spool.h - a byte buffer that stays in memory up to a limit, then moves to
 * an unlinked temporary file, so streams whose length must be known before
 * they are written (a tar member's size) cost bounded memory.
 *
 * Write with sb_spool_write (an sb_write_fn), then sb_spool_rewind and read
 * back with sb_spool_read (an sb_read_fn); sb_spool_reset to reuse.
 */
#ifndef SEALBOX_SPOOL_H
#define SEALBOX_SPOOL_H

#include <stdint.h>
#include <sys/types.h>

struct sb_spool;

/* tmpdir NULL: $TMPDIR or /tmp. */
struct sb_spool *sb_spool_new(size_t mem_limit, const char *tmpdir);
void sb_spool_free(struct sb_spool *s);
int sb_spool_write(void *spool, const void *p, size_t n);
uint64_t sb_spool_size(const struct sb_spool *s);
int sb_spool_rewind(struct sb_spool *s);
ssize_t sb_spool_read(void *spool, void *buf, size_t n);
int sb_spool_reset(struct sb_spool *s);
/* Contiguous view when still in memory (NULL once spilled to disk). */
const unsigned char *sb_spool_mem(const struct sb_spool *s);

#endif
