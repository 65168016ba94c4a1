/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * packer.h - packs difftar entries into volumes and ships them.
 *
 * The producer adds whole entries (header + at most 64 KiB of data) in index
 * order. Each volume's plaintext tar is spooled to an unlinked temporary file;
 * a finished volume goes to a pool of worker threads that encrypt+sign it
 * (one gpg each, so two volumes are encrypted at once) straight into an
 * atomic upload on the target, hashing the ciphertext (SHA-1 for the
 * manifest, SHA-256 for the seal) on the way. Volumes that do not compress
 * are encrypted without gpg's compression. Memory is bounded; temporary
 * disk is at most (workers + 2) volumes.
 *
 *   sb_packer_new() ; sb_packer_add()... ; sb_packer_finish(manifest) ; sb_packer_free()
 *
 * Hooks let the writer checkpoint a resumable run: cut when a volume's
 * plaintext is complete (before the entry that starts the next one is
 * added), durable once it is on the target.
 */
#ifndef SEALBOX_PACKER_H
#define SEALBOX_PACKER_H

#include <stdint.h>

#include "sealbox/crypto.h"
#include "sealbox/manifest.h"
#include "sealbox/names.h"
#include "sealbox/seal.h"
#include "sealbox/tar.h"
#include "sealbox/transport.h"

/* A volume as the manifest and the seal list it. */
struct sb_packer_vol {
	unsigned num;
	const void *start; /* StartingPath */
	size_t start_len;
	long start_block;
	const void *end; /* EndingPath */
	size_t end_len;
	long end_block;
	uint64_t stored;	  /* ciphertext bytes (durable only) */
	unsigned char sha1[20];	  /* of the ciphertext (durable only) */
	unsigned char sha256[32]; /* of the ciphertext (durable only) */
};

struct sb_packer_hooks {
	/* The producer's thread, volume v's plaintext just completed. */
	int (*cut)(void *ctx, const struct sb_packer_vol *v);
	/* v is on the target: called once per volume, one at a time (not
	 * in order), from any thread. */
	int (*durable)(void *ctx, const struct sb_packer_vol *v);
	void *ctx;
};

struct sb_packer_opts {
	struct sb_crypto *crypto;
	const char *enc_fpr;
	const char *sign_fpr;
	struct sb_transport *target;
	struct sb_name set;	      /* kind/full/t0/t1/encrypted of the set; vol filled in */
	uint64_t volsize;	      /* bytes of plaintext per volume (approximate upper bound) */
	const char *tmpdir;	      /* NULL: $TMPDIR or /tmp */
	unsigned workers;	      /* encryption threads (default 2) */
	struct sb_packer_hooks hooks; /* optional */
};

struct sb_packer;

int sb_packer_new(const struct sb_packer_opts *o, struct sb_packer **out);
/*
 * Add one entry; e->size bytes of data follow in data. path/block name it for
 * the manifest (block: multivol chunk number or -1).
 * *vol and *offset (may be NULL) receive where the entry's first header
 * block starts: volume number and offset in that volume's plaintext.
 */
int sb_packer_add(struct sb_packer *p, const struct sb_tar_entry *e, const char *path, size_t plen,
		  long block, const void *data, unsigned *vol, uint64_t *offset);
/* Before any add: volumes 1..n are already on the target (a resumed run);
 * numbering continues after them. No hook is called for these. */
int sb_packer_resume(struct sb_packer *p, const struct sb_packer_vol *vols, unsigned n);
/* Ship the last volume (an empty one if none yet), wait for every upload,
 * append the Volume blocks to m. */
int sb_packer_finish(struct sb_packer *p, struct sb_manifest *m);
/* Bytes uploaded so far (ciphertext). */
uint64_t sb_packer_uploaded(const struct sb_packer *p);
/* After a successful finish: add every volume (name, stored size, SHA-256 of
 * the ciphertext, hashed while uploading) to seal s. */
int sb_packer_seal_files(const struct sb_packer *p, struct sb_seal *s);
/* Stop workers (aborting in-flight uploads) and free. NULL ok. */
void sb_packer_free(struct sb_packer *p);

#endif
