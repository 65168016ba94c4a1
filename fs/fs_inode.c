/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs_inode.c - the lookup/forget accounting of the mount.
 *
 * Snapview ids are stable for the life of the view, so a node needs no
 * state to be served; this table only honours the lowlevel contract (every
 * entry reply is one reference, FORGET drops n) so that the parent of a
 * folder is known while the kernel can still ask for "..", and a miscounted
 * forget shows up in the debug log instead of going unnoticed. Nothing here
 * calls the core.
 */
#include <stdlib.h>

#include "fs_impl.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

#define INITIAL_BUCKETS 1024

static size_t slot(const struct fs_inodes *t, uint64_t id)
{
	/* ids are dense small numbers: mix them so neighbours spread out */
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (t->nbuckets - 1);
}

int fs_inodes_init(struct fs_inodes *t)
{
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return SB_ERR_NOMEM;
	t->nbuckets = INITIAL_BUCKETS;
	t->count = 0;
	t->underflows = 0;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void fs_inodes_release(struct fs_inodes *t)
{
	struct fs_inode *e, *next;
	size_t i;

	if (!t->buckets)
		return;
	if (t->underflows)
		sb_warn("mount: %llu forget(s) for unknown nodes",
			(unsigned long long)t->underflows);
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	pthread_mutex_destroy(&t->lock);
}

/* Double the buckets; keeps the old table when memory is short. */
static void grow(struct fs_inodes *t)
{
	struct fs_inode **old = t->buckets, *e, *next;
	size_t i, n = t->nbuckets;

	t->buckets = calloc(n * 2, sizeof(*t->buckets));
	if (!t->buckets) {
		t->buckets = old;
		return;
	}
	t->nbuckets = n * 2;
	for (i = 0; i < n; i++) {
		for (e = old[i]; e; e = next) {
			next = e->next;
			e->next = t->buckets[slot(t, e->id)];
			t->buckets[slot(t, e->id)] = e;
		}
	}
	free(old);
}

static struct fs_inode *find(struct fs_inodes *t, uint64_t id, struct fs_inode ***link)
{
	struct fs_inode **p = &t->buckets[slot(t, id)];

	for (; *p; p = &(*p)->next)
		if ((*p)->id == id)
			break;
	if (link)
		*link = p;
	return *p;
}

int fs_inode_ref(struct fs_inodes *t, uint64_t id, uint64_t parent)
{
	struct fs_inode *e;
	int rc = 0;

	if (id == FUSE_ROOT_ID)
		return 0; /* never forgotten */
	pthread_mutex_lock(&t->lock);
	e = find(t, id, NULL);
	if (!e) {
		if (t->count >= t->nbuckets)
			grow(t);
		e = calloc(1, sizeof(*e));
		if (!e) {
			rc = SB_ERR_NOMEM;
			goto out;
		}
		e->id = id;
		e->next = t->buckets[slot(t, id)];
		t->buckets[slot(t, id)] = e;
		t->count++;
	}
	e->nlookup++;
	if (parent)
		e->parent = parent;
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void fs_inode_forget(struct fs_inodes *t, uint64_t id, uint64_t n)
{
	struct fs_inode *e, **link;

	if (id == FUSE_ROOT_ID)
		return;
	pthread_mutex_lock(&t->lock);
	e = find(t, id, &link);
	if (!e || e->nlookup < n) {
		t->underflows++;
		if (e)
			e->nlookup = 0;
	} else {
		e->nlookup -= n;
	}
	if (e && !e->nlookup) {
		*link = e->next;
		free(e);
		t->count--;
	}
	pthread_mutex_unlock(&t->lock);
}

uint64_t fs_inode_parent(struct fs_inodes *t, uint64_t id)
{
	struct fs_inode *e;
	uint64_t p;

	pthread_mutex_lock(&t->lock);
	e = find(t, id, NULL);
	p = e ? e->parent : 0;
	pthread_mutex_unlock(&t->lock);
	return p;
}

size_t fs_inode_count(struct fs_inodes *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
