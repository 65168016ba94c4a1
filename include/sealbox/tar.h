/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tar.h - tar streams as duplicity writes and reads them (duplicity-format.md §3, §4).
 *
 * Writer: PAX (POSIX.1-2001) like Python's tarfile: a "././@PaxHeader" entry
 * (typeflag 'x') carries path/linkpath/uname/gname/uid/gid/mtime/size when a
 * value does not fit ustar or is not ASCII (hdrcharset=BINARY when not UTF-8).
 * Reader: pull-based over an sb_reader; ustar, PAX (x and g), GNU (L, K,
 * base-256 numbers) and old v7 headers; stops at the first zero block or a
 * clean end of stream at a header boundary, ignores whatever follows. Every
 * field is bounds-checked; malformed input gives SB_ERR_CORRUPT.
 */
#ifndef SEALBOX_TAR_H
#define SEALBOX_TAR_H

#include <stdbool.h>
#include <stdint.h>

#include "sealbox/buf.h"

#define SB_TAR_BLOCK 512

enum sb_tar_type {
	SB_TAR_REG = '0',
	SB_TAR_HARDLINK = '1',
	SB_TAR_SYMLINK = '2',
	SB_TAR_CHR = '3',
	SB_TAR_BLK = '4',
	SB_TAR_DIR = '5',
	SB_TAR_FIFO = '6',
};

struct sb_tar_entry {
	struct sb_buf name;	/* member name bytes as stored, e.g. "snapshot/a/b/" */
	struct sb_buf linkname; /* symlink / hard link target */
	char type;		/* enum sb_tar_type ('\0' and '7' read as SB_TAR_REG) */
	uint32_t mode;		/* permission bits incl. suid/sgid/sticky (07777) */
	uint64_t uid, gid;
	char uname[256]; /* "" when unknown */
	char gname[256];
	int64_t mtime; /* seconds */
	uint64_t size; /* data bytes that follow this header */
	uint32_t devmajor, devminor;
	uint64_t offset;      /* reader: stream offset of the first header block of
				 this member (its PAX/GNU headers included) */
	uint64_t data_offset; /* reader: stream offset of the data */
};

void sb_tar_entry_init(struct sb_tar_entry *e);
void sb_tar_entry_release(struct sb_tar_entry *e);
/* Reset to defaults, keeping buffers' memory. */
void sb_tar_entry_clear(struct sb_tar_entry *e);

/* ---- writer ---- */

struct sb_tar_writer {
	struct sb_writer out;
	uint64_t offset; /* bytes written so far */
};

void sb_tar_writer_init(struct sb_tar_writer *w, struct sb_writer out);
/*
 * Header(s) for e (e->size data bytes must follow via sb_tar_write_data).
 * Byte-identical to Python 3.11 TarInfo.tobuf(PAX_FORMAT): a directory name
 * gets a trailing '/' if missing; mode is masked to 07777; devmajor/devminor
 * are written for SB_TAR_CHR/BLK only and must be < 8^7 (else SB_ERR_PARAM).
 */
int sb_tar_write_header(struct sb_tar_writer *w, const struct sb_tar_entry *e);
/* Data bytes of the current member; call sb_tar_write_pad after the last. */
int sb_tar_write_data(struct sb_tar_writer *w, const void *p, size_t len);
/* Zero padding up to the next 512 boundary. */
int sb_tar_write_pad(struct sb_tar_writer *w);
/* End-of-archive: two zero blocks. */
int sb_tar_write_end(struct sb_tar_writer *w);
/* End-of-archive plus zero padding to a multiple of 10240 bytes, as Python's
 * TarFile.close() writes it (sigtars, §3.6). */
int sb_tar_write_end_record(struct sb_tar_writer *w);

/* ---- reader ---- */

struct sb_tar_reader;

struct sb_tar_reader *sb_tar_reader_new(struct sb_reader src);
/*
 * Advance to the next member, skipping unread data of the current one.
 * Returns 1 with *e filled, 0 at end of archive, or a negative sb_err.
 * End: the first all-zero block (nothing after it is pulled from src) or a
 * clean end of src at a header boundary; a short header or data, a bad
 * checksum or an extension header not followed by a member give
 * SB_ERR_CORRUPT (logged once). Errors are sticky; after the end every call
 * returns 0. Names keep their stored bytes (trailing '/' included). Types
 * '1'..'6' never have data (e->size = 0, as in Python); '\0' and '7' read as
 * SB_TAR_REG ('\0' with a trailing '/' as SB_TAR_DIR, v7 style); other
 * unknown typeflags are returned as stored, with their data. A global 'g'
 * header is not part of e->offset of the member after it.
 */
int sb_tar_reader_next(struct sb_tar_reader *r, struct sb_tar_entry *e);
/* Read data of the current member: bytes (> 0), 0 at its end, or < 0. */
ssize_t sb_tar_reader_read(struct sb_tar_reader *r, void *buf, size_t len);
/* Bytes of the tar stream consumed so far (read-ahead excluded: after
 * sb_tar_reader_next returned 0 it equals what was pulled from src). */
uint64_t sb_tar_reader_offset(const struct sb_tar_reader *r);
void sb_tar_reader_free(struct sb_tar_reader *r);

#endif
