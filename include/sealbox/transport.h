/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport.h - the target: a flat folder of files, local or remote.
 *
 * URLs: "file:///abs/path", a plain path, "sftp://user@host[:port]/path" or
 * "s3://bucket/prefix" (S3 objects have no rename: a PUT appears whole, and a
 * multipart upload left by a killed run is listed under SB_TMP_PREFIX, so
 * deleting that name aborts it).
 * Uploads are atomic: the data goes to SB_TMP_PREFIX + name, which is synced
 * and renamed to name once complete. Readers stream.
 * Every failure is logged once naming the target and the file.
 */
#ifndef SEALBOX_TRANSPORT_H
#define SEALBOX_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "sealbox/buf.h"
#include "sealbox/dirent.h"

struct sb_transport;
struct sb_transport_get;
struct sb_transport_put;

enum sb_s3_addressing {
	SB_S3_AUTO,    /* virtual hosts on AWS, paths elsewhere */
	SB_S3_PATH,    /* https://endpoint/BUCKET/key */
	SB_S3_VIRTUAL, /* https://BUCKET.endpoint/key */
	SB_S3_BAD,     /* an unknown --s3-addressing: the transport refuses it */
};
#define SB_S3_RETRIES 5
#define SB_S3_PART_MIB 64 /* uploads above this go in parts of this size */

struct sb_transport_opts {
	const char *ssh_key;	  /* sftp: private key file, NULL: agent/defaults */
	const char *known_hosts;  /* sftp: NULL: ~/.ssh/known_hosts */
	bool accept_new_host_key; /* sftp: add an unknown host key */
	bool create;		  /* create the target folder if missing */
	unsigned sessions;	  /* sftp: SSH sessions for parallel transfers (0: 1) */
	const char *s3_endpoint;  /* s3: endpoint URL, NULL: $AWS_ENDPOINT_URL, AWS */
	enum sb_s3_addressing s3_addressing;
	unsigned s3_retries;  /* s3: retries of a failed request (if s3_retries_set) */
	bool s3_retries_set;  /* else SB_S3_RETRIES */
	unsigned s3_part_mib; /* s3: multipart part size in MiB (0: SB_S3_PART_MIB) */
	unsigned s3_timeout;  /* s3: seconds without progress before a retry (0: 60) */
};

int sb_transport_open(const char *url, const struct sb_transport_opts *o,
		      struct sb_transport **out);
void sb_transport_close(struct sb_transport *t);
/* Human form of the target for messages ("/srv/b", "sftp://u@h/p"). */
const char *sb_transport_describe(const struct sb_transport *t);
/* The local folder for file:// targets, NULL otherwise. */
const char *sb_transport_local_path(const struct sb_transport *t);

/* List regular files (temporary upload names included), sorted by name. */
int sb_transport_list(struct sb_transport *t, struct sb_dirent_list *out);

int sb_transport_get_open(struct sb_transport *t, const char *name, struct sb_transport_get **g);
ssize_t sb_transport_get_read(void *g, void *buf, size_t n); /* an sb_read_fn */
void sb_transport_get_close(struct sb_transport_get *g);
/* Whole small file into out (manifests, seals). */
int sb_transport_get_all(struct sb_transport *t, const char *name, struct sb_buf *out);

/*
 * Fills an upload: writes the file's whole content to out and returns 0, or
 * the first failure (out's own, passed on). It may be called again, from the
 * start, when the upload is retried, so it resets whatever it computes.
 */
typedef int (*sb_put_fill_fn)(void *ctx, struct sb_writer out);

/* Upload name atomically with fill's bytes. When the connection drops
 * during the transfer, the upload starts again after a reconnect, at most
 * SB_PUT_RETRIES more times; other failures are final. */
#define SB_PUT_RETRIES 3
int sb_transport_put(struct sb_transport *t, const char *name, sb_put_fill_fn fill, void *ctx);
/* Upload bytes already in memory. */
int sb_transport_put_mem(struct sb_transport *t, const char *name, const void *data, size_t len);

int sb_transport_delete(struct sb_transport *t, const char *name);

#endif
