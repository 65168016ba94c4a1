/* SPDX-License-Identifier: GPL-2.0-or-later */
/* transport_impl.h - private: the operations table each target kind provides. */
#ifndef SEALBOX_TRANSPORT_IMPL_H
#define SEALBOX_TRANSPORT_IMPL_H

#include "sealbox/transport.h"

struct sb_transport_ops {
	void (*close)(struct sb_transport *t);
	const char *(*local_path)(const struct sb_transport *t);
	int (*list)(struct sb_transport *t, struct sb_dirent_list *out);
	int (*get_open)(struct sb_transport *t, const char *name, struct sb_transport_get **g);
	ssize_t (*get_read)(struct sb_transport_get *g, void *buf, size_t n);
	void (*get_close)(struct sb_transport_get *g);
	int (*put_open)(struct sb_transport *t, const char *name, struct sb_transport_put **p);
	int (*put_write)(struct sb_transport_put *p, const void *buf, size_t n);
	int (*put_commit)(struct sb_transport_put *p);		       /* flush, rename; p stays */
	void (*put_release)(struct sb_transport_put *p, bool discard); /* discard: rm tmp */
	int (*delete_file)(struct sb_transport *t, const char *name);
};

/* Every kind embeds these headers first in its own structs. */
struct sb_transport {
	const struct sb_transport_ops *ops;
	char *desc; /* for messages; owned */
};

struct sb_transport_get {
	struct sb_transport *t;
};

struct sb_transport_put {
	struct sb_transport *t;
	bool lost; /* set by the kind: the connection dropped during this upload */
};

int sb_transport_file_open(const char *path, const struct sb_transport_opts *o,
			   struct sb_transport **out);
int sb_transport_sftp_open(const char *url, const struct sb_transport_opts *o,
			   struct sb_transport **out);
int sb_transport_s3_open(const char *url, const struct sb_transport_opts *o,
			 struct sb_transport **out);

#endif
