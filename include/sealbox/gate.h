/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gate.h - the one gate between a target and everything that reads it.
 *
 * The server is hostile: it may add, remove, replay, reorder, truncate or
 * rewrite any file. Every command that reads a target (restore, mount,
 * verify, snapshots, prune, and backup when it continues a chain) opens a
 * gate and takes from it only proven things:
 *
 *   sb_gate_open()    lists the target (capped), groups it into chains, and
 *                     refuses names dated in the future and a rollback below
 *                     the newest seal this machine wrote (or the one pinned);
 *   sb_gate_chain()   proves the sets a snapshot is made of: the chain must be
 *                     whole (no set missing, replayed, reordered or foreign),
 *                     a signed chain signed throughout (every set encrypted,
 *                     every set from the first sealed one on sealed by the
 *                     signing key, each seal naming its set as its file names
 *                     do, one backup id, each seal linking to the one before);
 *   sb_gate_fetch_*() the bytes of one remote file of a proven set: the
 *                     ciphertext is spooled and its size and hash checked
 *                     against the set's seal (volumes also against the signed
 *                     manifest's SHA-1) before gpg sees a byte; then it is
 *                     decrypted, the signer checked, and its plaintext
 *                     bounded. Only then is it handed to a parser.
 *
 * Sets written by duplicity carry no seal: a chain may start with them (a
 * duplicity chain that sealbox continued), but once a set is sealed every
 * later one must be, unless the caller allows it (--allow-unsealed: a
 * duplicity incremental appended to sealbox's chain). Unsealed sets have
 * their manifest, signatures and index proven only by gpg's signature check while they decrypt, so
 * their plaintext is bounded (SB_GATE_MAX_*) and used only after the
 * signature checked out; their volumes are checked against the manifest's
 * SHA-1 first. Unencrypted (unsigned) chains are read only when the caller
 * says so (--allow-unsigned), and never when any set of the chain is signed.
 *
 * Errors are logged once, naming the remote file; codes: SB_ERR_CHAIN (a set
 * missing, replayed, reordered or foreign), SB_ERR_ROLLBACK, SB_ERR_UNSIGNED,
 * SB_ERR_BADSIG, SB_ERR_CORRUPT (size, hash, bounds, a date in the future).
 * Fetches are thread-safe once the chain is proven.
 */
#ifndef SEALBOX_GATE_H
#define SEALBOX_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sealbox/buf.h"
#include "sealbox/chain.h"
#include "sealbox/crypto.h"
#include "sealbox/dirent.h"
#include "sealbox/hash.h"
#include "sealbox/manifest.h"
#include "sealbox/seal.h"
#include "sealbox/transport.h"

/* Bounds on what the server's bytes may amount to (memory stays < 100 MB). */
#define SB_GATE_MAX_NAMES SB_DIRENT_MAX		/* files in a listing (dirent.h) */
#define SB_GATE_MAX_SEAL (8u << 20)		/* bytes of one seal file */
#define SB_GATE_MAX_MANIFEST (16u << 20)	/* plaintext of one manifest */
#define SB_GATE_MAX_META ((uint64_t)4 << 30)	/* plaintext of a signature tar or index */
#define SB_GATE_MAX_VOLUME ((uint64_t)16 << 30) /* plaintext of one volume */
#define SB_GATE_FUTURE_SKEW 600			/* seconds a set may be ahead of our clock */

struct sb_gate_opts {
	struct sb_transport *target;
	struct sb_crypto *crypto; /* signature checks and decryption */
	const char *sign_fpr;	  /* the key every file must be signed by */
	bool allow_unsigned;	  /* read unencrypted (unsigned) chains */
	bool allow_unsealed;	  /* accept signed but unsealed sets (duplicity's)
				     after sealed ones in a chain */
	/* rollback: the newest seal this machine wrote (archive dir), or NULL */
	const char *last_seal;
	const unsigned char *last_sha; /* its SHA-256 (32 bytes) */
	const char *expect_seal;       /* --expect-seal: 64 hex digits, or NULL */
	const char *tmpdir;	       /* spool folder (default: $TMPDIR, /tmp) */
	/* this machine's record of proven plaintext (proven.h), or NULL */
	const char *proven_dir;
};

struct sb_gate;

/* List and group the target; the checks that need no decryption. */
int sb_gate_open(const struct sb_gate_opts *o, struct sb_gate **out);
void sb_gate_close(struct sb_gate *g);

const struct sb_dirent_list *sb_gate_listing(const struct sb_gate *g);
const struct sb_collection *sb_gate_collection(const struct sb_gate *g);
/* Whether rollback was checked (archive dir record or --expect-seal). */
bool sb_gate_rollback_checked(const struct sb_gate *g);

/*
 * The chain a snapshot of time t is read from, proven up to t: *ch and the
 * number of its sets used (*nsets >= 1). SB_ERR_NOTFOUND (logged) when the
 * target has no snapshot at or before t.
 */
int sb_gate_chain(struct sb_gate *g, time_t t, const struct sb_chain **ch, size_t *nsets);

/* Prove the first nsets sets of ch (sb_gate_chain() calls it). */
int sb_gate_prove(struct sb_gate *g, const struct sb_chain *ch, size_t nsets);

/* The SHA-256 of set s's seal as stored (false: s has none / not proven). */
bool sb_gate_seal_sha(const struct sb_gate *g, const struct sb_set *s, unsigned char out[32]);

/*
 * Proven plaintext of remote file `name` of the proven set s, at most max
 * bytes. m: the set's manifest, for a volume (its SHA-1 is checked too;
 * required for volumes of unsealed sets). Gzip of unencrypted files is
 * undone. Into out / a buffer / an unlinked temporary file at offset 0.
 */
int sb_gate_fetch(struct sb_gate *g, const struct sb_set *s, const char *name,
		  const struct sb_manifest *m, uint64_t max, struct sb_writer out);
int sb_gate_fetch_buf(struct sb_gate *g, const struct sb_set *s, const char *name,
		      const struct sb_manifest *m, uint64_t max, struct sb_buf *out);
int sb_gate_fetch_fd(struct sb_gate *g, const struct sb_set *s, const char *name,
		     const struct sb_manifest *m, uint64_t max, int *fd);

/*
 * The raw bytes of a small remote file (a seal), at most max (more is
 * SB_ERR_CORRUPT, logged): only to hash, or for sb_seal_verify(), which
 * checks the signature before it parses.
 */
int sb_gate_get_small(struct sb_gate *g, const char *name, size_t max, struct sb_buf *out);

/*
 * Hash remote file `name` as stored (verify): at most max bytes are read
 * (*got says how many; more is SB_ERR_CORRUPT, not logged, *got = max + 1).
 * progress(ctx, n) after each n bytes, may be NULL. Nothing is parsed.
 */
int sb_gate_hash(struct sb_gate *g, const char *name, enum sb_hash_alg alg, uint64_t max,
		 unsigned char *out, uint64_t *got, void (*progress)(void *ctx, uint64_t n),
		 void *ctx);

/*
 * Check a seal file's text (len bytes, as stored; sha: their SHA-256) against
 * the signing key and parse it into s, as sb_seal_verify() does; a seal whose bytes this machine
 * checked before (proven.h) is parsed from its record without gpg.
 */
int sb_gate_check_seal(struct sb_gate *g, const void *text, size_t len, const unsigned char sha[32],
		       struct sb_seal *s, enum sb_seal_verdict *verdict, char why[256]);

/* The proven, parsed manifest of s. */
int sb_gate_manifest(struct sb_gate *g, const struct sb_set *s, struct sb_manifest *m);
/* The same, decrypted by gpg even when this machine's record holds it: a
 * check that the secret key and its passphrase work (mount, before it mounts). */
int sb_gate_manifest_decrypt(struct sb_gate *g, const struct sb_set *s, struct sb_manifest *m);

/* Volume num of s as its manifest and the listing have it (NULL: missing, logged). */
const char *sb_gate_volume_name(const struct sb_set *s, unsigned num);

#endif
