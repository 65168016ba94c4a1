/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * names.h - names of the files on a target (duplicity-format.md §1).
 *
 * Parses and formats duplicity's long names (and reads the legacy short and
 * old-time forms), plus sealbox's own kinds, which duplicity ignores:
 *   sealbox-full.<T>.index.gpg        sealbox-inc.<T0>.to.<T1>.index.gpg
 *   sealbox-full.<T>.seal.asc         sealbox-inc.<T0>.to.<T1>.seal.asc
 * Temporary upload names are ".sealbox-tmp." + final name (never listed).
 */
#ifndef SEALBOX_NAMES_H
#define SEALBOX_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sealbox/tmpname.h"

enum sb_file_kind {
	SB_KIND_VOL = 1,      /* data volume (difftar) */
	SB_KIND_MANIFEST = 2, /* manifest */
	SB_KIND_SIG = 3,      /* full-signatures / new-signatures sigtar */
	SB_KIND_INDEX = 4,    /* sealbox index */
	SB_KIND_SEAL = 5,     /* sealbox seal */
};

struct sb_name {
	enum sb_file_kind kind;
	bool full;	/* full set (t0 == t1) or incremental */
	time_t t0;	/* full: its time; inc: end time of the previous set */
	time_t t1;	/* full: == t0; inc: its own time */
	unsigned vol;	/* volume number from 1; 0 for other kinds */
	bool encrypted; /* ends in .gpg (or .g) */
	bool gzipped;	/* ends in gz (or .z) */
	bool partial;	/* .part / .p marker (local archive dir only) */
};

/*
 * Classify a remote or archive-dir file name. Returns 0 and fills *out, or
 * SB_ERR_NOTFOUND for a name that is not part of any archive (to be ignored).
 */
int sb_name_parse(const char *name, struct sb_name *out);

/*
 * Format the long name for n into buf (NUL-terminated). Returns the length or
 * SB_ERR_PARAM when it does not fit. Suffix: ".gpg" when encrypted, else
 * ".gz" when gzipped (never for manifests); seals always end in ".asc".
 */
int sb_name_format(const struct sb_name *n, char *buf, size_t size);

#endif
