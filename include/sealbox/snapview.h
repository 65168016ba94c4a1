/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapview.h - every snapshot of a target as a browsable tree, with file
 * contents reconstructed on demand. The core of `sealbox mount`; knows
 * nothing of FUSE.
 *
 * Snapshots are the sets of every complete chain, oldest first. Listing
 * needs no volume: sealbox chains carry an index per set (remote, encrypted
 * and signed); for duplicity chains the same index is built once from the
 * volumes and kept in the local cache (sqlite under cache_dir), so later
 * opens are as fast. Reading a file decrypts only the volumes holding its
 * bytes and those of its delta bases; reconstructed files are kept in a
 * bounded plaintext cache (cache_dir, 0700), evicted least recently used.
 *
 * Nodes are named by a 64-bit id, stable for the life of the view:
 *   id 1                    the top folder (one entry per snapshot + "latest")
 *   sb_snapview_root(v, k)  the root folder of snapshot k
 * Hard links within a snapshot share one id (and report their link count).
 *
 * All functions are thread-safe. Errors: SB_ERR_NOTFOUND (no such name),
 * SB_ERR_CORRUPT / SB_ERR_BADSIG (data failed verification: logged once,
 * naming the remote file), SB_ERR_IO, SB_ERR_NOMEM.
 */
#ifndef SEALBOX_SNAPVIEW_H
#define SEALBOX_SNAPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sealbox/crypto.h"
#include "sealbox/transport.h"

#define SB_SNAPVIEW_TOP_ID 1

struct sb_snapview;

/* An index is read into memory before it is imported: at most
 * SB_INDEX_MAX bytes (index.h). */

struct sb_snapview_opts {
	struct sb_gate *gate; /* the target, proven (gate.h) */
	struct sb_transport *target;
	struct sb_crypto *crypto; /* holds the secret encryption key */
	const char *sign_fpr;	  /* every file read must be signed by it */
	const char *index_dir;	  /* persistent folder for built indexes (index.db);
				     NULL: cache_dir */
	const char *cache_dir;	  /* 0700 folder for plaintext; the caller removes it */
	uint64_t cache_size;	  /* bytes of plaintext cache (default 1 GiB) */
};

/* What the mount shows of a node (a stat, plus the symlink target). */
struct sb_node {
	uint64_t id;
	char type; /* SB_TAR_REG, SB_TAR_DIR, SB_TAR_SYMLINK, SB_TAR_FIFO, SB_TAR_CHR, SB_TAR_BLK */
	uint32_t mode; /* permission bits (07777) */
	uid_t uid;     /* mapped from uname/gname when those exist here */
	gid_t gid;
	int64_t mtime;
	uint64_t size;	/* exact size in bytes (symlink: target length) */
	uint32_t nlink; /* folders: 2 + subfolders; files: hard-link count */
	uint32_t devmajor, devminor;
	char link[4096]; /* symlink target, NUL-terminated (truncated past 4095) */
};

int sb_snapview_open(const struct sb_snapview_opts *o, struct sb_snapview **out);

/*
 * How many sets of o->gate's collection have no index in the cache yet, so
 * that sb_snapview_open() would fetch and decrypt them (the secret key is
 * needed then). Every chain must be proven first (sb_gate_prove()). Reads
 * the cache only. 0 or SB_ERR_IO (logged).
 */
int sb_snapview_uncached(const struct sb_snapview_opts *o, size_t *missing);
void sb_snapview_close(struct sb_snapview *v);

size_t sb_snapview_count(const struct sb_snapview *v);

/* Attributes of id. The top folder and the "latest" symlink are included. */
int sb_snapview_getattr(struct sb_snapview *v, uint64_t id, struct sb_node *out);
/* Child name of folder parent. */
int sb_snapview_lookup(struct sb_snapview *v, uint64_t parent, const char *name, size_t len,
		       struct sb_node *out);

/*
 * Children of folder dir from position pos (0 = first; "." and ".." are not
 * included). cb returns nonzero to stop (buffer full); it receives the
 * position of the entry after this one.
 */
typedef int (*sb_snapview_dir_cb)(void *ctx, const char *name, size_t len, const struct sb_node *n,
				  uint64_t next_pos);
int sb_snapview_readdir(struct sb_snapview *v, uint64_t dir, uint64_t pos, sb_snapview_dir_cb cb,
			void *ctx);

/* Read file bytes; *got < len only at end of file. */
int sb_snapview_read(struct sb_snapview *v, uint64_t id, void *buf, size_t len, uint64_t off,
		     size_t *got);

#endif
