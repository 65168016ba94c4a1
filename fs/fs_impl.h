/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs_impl.h - private to the fs/ sources: the mount's state, the inode table, the
 * operations table.
 */
#ifndef SEALBOX_FS_IMPL_H
#define SEALBOX_FS_IMPL_H

#define FUSE_USE_VERSION 314

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <fuse_lowlevel.h>

#include "sealbox/fs.h"

/* One node the kernel holds a reference to (see fs_inode.c). */
struct fs_inode {
	uint64_t id;	       /* snapview node id == fuse_ino_t */
	uint64_t nlookup;      /* lookups not yet forgotten */
	uint64_t parent;       /* folders: the folder it was found in; 0 unknown */
	struct fs_inode *next; /* hash chain */
};

/* The kernel's references, counted as the lookup/forget contract asks. */
struct fs_inodes {
	pthread_mutex_t lock; /* protects everything below */
	struct fs_inode **buckets;
	size_t nbuckets;     /* a power of two */
	size_t count;	     /* nodes with nlookup > 0 */
	uint64_t underflows; /* forgets for unknown ids (a bug somewhere) */
};

struct sb_fs {
	struct sb_snapview *view; /* borrowed */
	struct fuse_session *se;
	char *mountpoint;
	double entry_timeout; /* seconds; the tree never changes */
	double attr_timeout;
	unsigned max_threads;
	unsigned max_idle_threads;
	int clone_fd;
	int debug;
	int mounted;
	int signals; /* fuse signal handlers installed */
	struct fs_inodes inodes;
};

/* fs_inode.c */
int fs_inodes_init(struct fs_inodes *t);
void fs_inodes_release(struct fs_inodes *t);
/* The kernel got one more reference to id (found in folder parent, 0 if
 * not a folder). SB_ERR_NOMEM when the table cannot grow. */
int fs_inode_ref(struct fs_inodes *t, uint64_t id, uint64_t parent);
/* The kernel dropped n references. */
void fs_inode_forget(struct fs_inodes *t, uint64_t id, uint64_t n);
/* The folder a folder was found in, or 0. */
uint64_t fs_inode_parent(struct fs_inodes *t, uint64_t id);
size_t fs_inode_count(struct fs_inodes *t);

/* fs.c */
extern const struct fuse_lowlevel_ops fs_ops;

#endif
