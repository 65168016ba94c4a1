/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport.h - the target: a flat folder of files, local or remote.
 *
 * URLs: "file:///abs/path", a plain path, or "sftp://user@host[:port]/path".
 * Uploads are atomic: put_open writes SB_TMP_PREFIX + name, put_commit
 * renames it to name (after an fsync for local targets). Readers stream.
 * Every failure is logged once naming the target and the file.
 */
#ifndef SEALBOX_TRANSPORT_H
#define SEALBOX_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "sealbox/buf.h"

struct sb_transport;
struct sb_transport_get;
struct sb_transport_put;

struct sb_transport_opts {
	const char *ssh_key;	  /* sftp: private key file, NULL: agent/defaults */
	const char *known_hosts;  /* sftp: NULL: ~/.ssh/known_hosts */
	bool accept_new_host_key; /* sftp: add an unknown host key */
	bool create;		  /* create the target folder if missing */
};

struct sb_dirent_list {
	char **names; /* sorted, each malloc'd */
	uint64_t *sizes;
	size_t n;
};

int sb_transport_open(const char *url, const struct sb_transport_opts *o, struct sb_transport **out);
void sb_transport_close(struct sb_transport *t);
/* Human form of the target for messages ("/srv/b", "sftp://u@h/p"). */
const char *sb_transport_describe(const struct sb_transport *t);
/* The local folder for file:// targets, NULL otherwise. */
const char *sb_transport_local_path(const struct sb_transport *t);

/* List regular files (temporary upload names included), sorted by name. */
int sb_transport_list(struct sb_transport *t, struct sb_dirent_list *out);
void sb_dirent_list_release(struct sb_dirent_list *l);

int sb_transport_get_open(struct sb_transport *t, const char *name, struct sb_transport_get **g);
ssize_t sb_transport_get_read(void *g, void *buf, size_t n); /* an sb_read_fn */
void sb_transport_get_close(struct sb_transport_get *g);
/* Whole small file into out (manifests, seals). */
int sb_transport_get_all(struct sb_transport *t, const char *name, struct sb_buf *out);

int sb_transport_put_open(struct sb_transport *t, const char *name, struct sb_transport_put **p);
int sb_transport_put_write(void *p, const void *buf, size_t n); /* an sb_write_fn */
/* Flush, then rename the temporary name to the final one; frees p. */
int sb_transport_put_commit(struct sb_transport_put *p);
/* Remove the temporary file; frees p. NULL ok. */
void sb_transport_put_abort(struct sb_transport_put *p);

int sb_transport_delete(struct sb_transport *t, const char *name);

#endif
