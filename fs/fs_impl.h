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
#include "sealbox/snapview.h"

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

/* The versions/ folder (fs_versions.c). */
#define FS_VERSIONS_NAME "versions"
#define FS_VERSIONS_BASE (1ull << 62) /* its folders' ids: above every view id */
struct fs_versions {
	pthread_mutex_t lock; /* protects paths, npaths, cap, slots and the loading of snaps */
	char **paths;	      /* folder FS_VERSIONS_BASE + k: its path ("" versions/) */
	size_t npaths, cap;
	size_t *slots; /* hash table of paths: index + 1, 0 empty */
	size_t nslots; /* a power of two, at least twice npaths */
	struct fs_versions_snap {
		char iso[21];  /* its folder's name */
		uint64_t root; /* its top folder */
		int64_t mtime;
	} * snaps; /* oldest first; loaded once, then read-only */
	size_t nsnaps;
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
	struct fs_versions versions;
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

/* fs_versions.c */
int fs_versions_init(struct fs_versions *v);
void fs_versions_release(struct fs_versions *v);
/* The nodes the operations serve: the view's (snapview.h, same contracts),
 * and versions/ in the top folder. */
int fs_node_getattr(struct sb_fs *fs, uint64_t id, struct sb_node *out);
int fs_node_lookup(struct sb_fs *fs, uint64_t parent, const char *name, size_t len,
		   struct sb_node *out);
int fs_node_readdir(struct sb_fs *fs, uint64_t dir, uint64_t pos, sb_snapview_dir_cb cb, void *ctx);

/* fs.c */
extern const struct fuse_lowlevel_ops fs_ops;

#endif
