/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seal.h - seals: one clear-signed text per backup set listing every remote
 * file of the set with its size and the SHA-256 of its bytes as stored, and
 * the SHA-256 of the previous seal on the target, so that the seals of all
 * chains form one hash chain. Anyone with the *public* signing key can check
 * a target against them (verify.h).
 *
 * Remote name: sealbox-full.<T>.seal.asc / sealbox-inc.<T0>.to.<T1>.seal.asc
 * (names.h). The file is an OpenPGP clear-signed message (armored, not
 * encrypted) whose signed text is, line by line ('\n' ends each line, fields
 * separated by one space, no other whitespace):
 *
 *   sealbox-seal 1                         magic and format version
 *   backup-id <32 hex>                     random, one per archive dir+target
 *   set full <T0> <T1>                     or "set inc <T0> <T1>"; T = YYYYMMDDTHHMMSSZ
 *   previous <64 hex>                      SHA-256 of the previous seal file's
 *                                          bytes as stored, or "previous none"
 *   file <64 hex> <size> <name>            one per remote file of the set (not
 *                                          the seal itself), sorted by name
 *   end <number of file lines>
 *
 * Hex is lowercase; size is decimal bytes; names are remote file names of
 * the same set (letters, digits, '.', '_', '-'). Parsers reject anything
 * else: unknown lines, versions or kinds, duplicates, a missing "end".
 *
 *   sb_seal_init(&s); fill s (sb_seal_add_file()...); sb_seal_sign() -> upload
 *   sb_seal_verify(text) -> s (parsed, signer checked); sb_seal_release(&s)
 */
#ifndef SEALBOX_SEAL_H
#define SEALBOX_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sealbox/buf.h"
#include "sealbox/crypto.h"

#define SB_SEAL_MAGIC "sealbox-seal 1"
#define SB_SEAL_ID_LEN 32 /* hex digits of a backup id */

/* Catalog keys (catalog.h) in the archive dir: the backup id, and
 * "<seal name> <SHA-256 hex>" of the newest seal this machine wrote. */
#define SB_SEAL_CAT_ID "seal-backup-id"
#define SB_SEAL_CAT_LAST "seal-last"

struct sb_seal_file {
	char *name;		  /* remote name (owned) */
	uint64_t size;		  /* bytes as stored */
	unsigned char sha256[32]; /* of those bytes */
};

struct sb_seal {
	char backup_id[SB_SEAL_ID_LEN + 1];
	bool full;
	time_t t0, t1;		    /* as in the set's names */
	bool has_prev;		    /* false: first seal of the target */
	unsigned char prev[32];	    /* SHA-256 of the previous seal file */
	struct sb_seal_file *files; /* sorted by name once formatted or parsed */
	size_t nfiles, cap;
};

void sb_seal_init(struct sb_seal *s);
/* Free the file list; s is left initialised. */
void sb_seal_release(struct sb_seal *s);

/* Append a file (name copied). SB_ERR_PARAM for a name a seal cannot hold. */
int sb_seal_add_file(struct sb_seal *s, const char *name, uint64_t size,
		     const unsigned char sha256[32]);
/* The entry for name, or NULL (s must be sorted: parsed or formatted). */
const struct sb_seal_file *sb_seal_find(const struct sb_seal *s, const char *name);

/* The signed text of s into out (appended); sorts s->files. */
int sb_seal_format(struct sb_seal *s, struct sb_buf *out);
/* Parse a signed text; SB_ERR_CORRUPT (logged, naming what) on any deviation. */
int sb_seal_parse(struct sb_seal *s, const void *text, size_t len, const char *what);

/* Format s and clear-sign it by sign_fpr: the seal file's bytes into out. */
int sb_seal_sign(struct sb_seal *s, struct sb_crypto *c, const char *sign_fpr, struct sb_buf *out);

enum sb_seal_verdict {
	SB_SEAL_GOOD = 0,    /* signed by the expected key, well formed */
	SB_SEAL_BAD = 1,     /* altered: bad signature, not clear-signed, malformed */
	SB_SEAL_FOREIGN = 2, /* validly signed, but by another (or an unknown) key */
};

/*
 * Check the seal file text (len bytes) against signer_fpr (primary key or a
 * subkey) and parse it into s. Returns 0 with *verdict set (for BAD and
 * FOREIGN the reason is in why[256], nothing is logged), or an operational
 * error (key not in the keyring: SB_ERR_KEY; out of memory), logged.
 * signed_text (may be NULL): a good seal's signed text is appended to it,
 * to parse again later with sb_seal_parse() (proven.h keeps it).
 */
int sb_seal_verify(struct sb_crypto *c, const char *signer_fpr, const void *text, size_t len,
		   struct sb_seal *s, enum sb_seal_verdict *verdict, char why[256],
		   struct sb_buf *signed_text);

/* A fresh random backup id (32 lowercase hex digits) into out[33]. */
int sb_seal_new_id(char out[SB_SEAL_ID_LEN + 1]);

#endif
