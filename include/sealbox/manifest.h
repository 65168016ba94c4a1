/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * manifest.h - duplicity manifests (duplicity-format.md §2).
 *
 * Calling sequence: sb_manifest_init(), then sb_manifest_parse() or fill the
 * fields (sb_manifest_add_vol/add_file) and sb_manifest_format(); always
 * sb_manifest_release(). Paths are bytes in sealbox's form (root = "");
 * formatting writes the root as "." and quotes per §2.3.
 */
#ifndef SEALBOX_MANIFEST_H
#define SEALBOX_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "sealbox/buf.h"

enum sb_hash_type {
	SB_HASH_NONE = 0,
	SB_HASH_SHA1 = 1, /* 20 bytes */
	SB_HASH_MD5 = 2,  /* 16 bytes */
};

struct sb_manifest_vol {
	unsigned num;	     /* volume number, from 1 */
	struct sb_buf start; /* StartingPath (root = "") */
	long start_block;    /* multivol chunk number, -1 when absent */
	struct sb_buf end;   /* EndingPath */
	long end_block;	     /* -1 when absent */
	enum sb_hash_type hash_type;
	unsigned char hash[20]; /* hash of the remote bytes of the volume */
};

struct sb_manifest_file {
	char kind[8]; /* "new", "changed", "deleted" */
	struct sb_buf path;
};

struct sb_manifest {
	struct sb_buf hostname;	      /* empty: absent */
	struct sb_buf localdir;	      /* empty: absent */
	struct sb_manifest_vol *vols; /* sorted by num, unique (later block wins) */
	size_t nvols;
	struct sb_manifest_file *files;
	size_t nfiles;
	size_t files_cap; /* entries allocated */
	bool has_filelist;
};

void sb_manifest_init(struct sb_manifest *m);
void sb_manifest_release(struct sb_manifest *m);

/* Parse manifest bytes (untrusted). Returns 0 or SB_ERR_CORRUPT (logged with what). */
int sb_manifest_parse(struct sb_manifest *m, const void *data, size_t len, const char *what);

/* Append the manifest text to out, in duplicity 0.8.22's exact layout. */
int sb_manifest_format(const struct sb_manifest *m, struct sb_buf *out);

/* Append a volume (copied); returns a pointer to it or NULL on ENOMEM. */
struct sb_manifest_vol *sb_manifest_add_vol(struct sb_manifest *m, unsigned num);
int sb_manifest_add_file(struct sb_manifest *m, const char *kind, const char *path, size_t len);

/* The volume numbered num, or NULL. */
const struct sb_manifest_vol *sb_manifest_get_vol(const struct sb_manifest *m, unsigned num);

/* Highest volume number (0 when none). */
unsigned sb_manifest_last_vol(const struct sb_manifest *m);

/*
 * duplicity's volume selection for restoring `prefix` (§7.3): the volume may
 * hold entries at or below prefix. prefix "" selects every volume.
 */
bool sb_manifest_vol_may_contain(const struct sb_manifest_vol *v, const char *prefix, size_t plen);

/* §2.3 quoting: append path (root "" as ".") quoted if needed. */
int sb_manifest_quote(struct sb_buf *out, const char *path, size_t len);
/* Inverse of sb_manifest_quote on one token; "." gives "". */
int sb_manifest_unquote(struct sb_buf *out, const char *tok, size_t len);

#endif
