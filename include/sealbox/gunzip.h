/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gunzip.h - a streaming gzip decoder over an sb_reader (volumes and
 * signatures written by duplicity --no-encryption). Concatenated members
 * are read as one stream; corrupt data gives SB_ERR_CORRUPT.
 */
#ifndef SEALBOX_GUNZIP_H
#define SEALBOX_GUNZIP_H

#include "sealbox/buf.h"

struct sb_gunzip;

/* src is borrowed; what names the data in errors. */
struct sb_gunzip *sb_gunzip_new(struct sb_reader src, const char *what);
ssize_t sb_gunzip_read(void *g, void *buf, size_t n); /* an sb_read_fn */
void sb_gunzip_free(struct sb_gunzip *g);

#endif
