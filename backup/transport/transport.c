/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport.c - URL dispatch and the operations shared by every target kind.
 * The kinds themselves live in transport_<kind>.c behind struct sb_transport_ops.
 */
#include <stdlib.h>
#include <string.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "transport_impl.h"

int sb_transport_open(const char *url, const struct sb_transport_opts *o, struct sb_transport **out)
{
	static const struct sb_transport_opts defaults;

	if (!o)
		o = &defaults;
	*out = NULL;
	if (!url || !*url) {
		sb_error("no target given (--target URL)");
		return SB_ERR_PARAM;
	}
	if (strncmp(url, "file://", 7) == 0)
		return sb_transport_file_open(url + 7, o, out);
	if (strncmp(url, "sftp://", 7) == 0)
		return sb_transport_sftp_open(url, o, out);
	if (strncmp(url, "s3://", 5) == 0)
		return sb_transport_s3_open(url, o, out);
	if (strstr(url, "://")) {
		sb_error("target %s: unsupported URL scheme (use file://, sftp:// or s3://)", url);
		return SB_ERR_PARAM;
	}
	return sb_transport_file_open(url, o, out);
}

void sb_transport_close(struct sb_transport *t)
{
	if (t)
		t->ops->close(t);
}

const char *sb_transport_describe(const struct sb_transport *t) { return t->desc; }

const char *sb_transport_local_path(const struct sb_transport *t)
{
	return t->ops->local_path ? t->ops->local_path(t) : NULL;
}

int sb_transport_list(struct sb_transport *t, struct sb_dirent_list *out)
{
	return t->ops->list(t, out);
}

int sb_transport_get_open(struct sb_transport *t, const char *name, struct sb_transport_get **g)
{
	return t->ops->get_open(t, name, g);
}

ssize_t sb_transport_get_read(void *g, void *buf, size_t n)
{
	struct sb_transport_get *get = g;

	return get->t->ops->get_read(get, buf, n);
}

void sb_transport_get_close(struct sb_transport_get *g)
{
	if (g)
		g->t->ops->get_close(g);
}

int sb_transport_get_all(struct sb_transport *t, const char *name, struct sb_buf *out)
{
	struct sb_transport_get *g;
	char buf[65536];
	ssize_t n;
	int rc;

	rc = sb_transport_get_open(t, name, &g);
	if (rc)
		return rc;
	while ((n = sb_transport_get_read(g, buf, sizeof(buf))) > 0) {
		rc = sb_buf_add(out, buf, (size_t)n);
		if (rc)
			break;
	}
	if (n < 0)
		rc = (int)n;
	sb_transport_get_close(g);
	return rc;
}

static int put_write(void *p, const void *buf, size_t n)
{
	struct sb_transport_put *put = p;

	return put->t->ops->put_write(put, buf, n);
}

int sb_transport_put(struct sb_transport *t, const char *name, sb_put_fill_fn fill, void *ctx)
{
	struct sb_transport_put *p;
	bool lost;
	int rc, attempt;

	for (attempt = 1;; attempt++) {
		if ((rc = t->ops->put_open(t, name, &p)))
			return rc; /* the kind reconnects (with backoff) before giving up */
		rc = fill(ctx, (struct sb_writer){put_write, p});
		if (!rc)
			rc = t->ops->put_commit(p);
		lost = rc && p->lost;
		t->ops->put_release(p, rc != 0);
		if (!lost)
			return rc;
		if (attempt > SB_PUT_RETRIES) {
			sb_error("target %s: upload of %s failed: the connection dropped %d times "
				 "during it",
				 t->desc, name, attempt);
			return rc;
		}
		sb_warn("target %s: starting the upload of %s again (retry %d of %d)", t->desc,
			name, attempt, SB_PUT_RETRIES);
	}
}

struct mem_src {
	const void *data;
	size_t len;
};

static int mem_fill(void *ctx, struct sb_writer out)
{
	const struct mem_src *m = ctx;

	return out.write(out.ctx, m->data, m->len);
}

int sb_transport_put_mem(struct sb_transport *t, const char *name, const void *data, size_t len)
{
	struct mem_src m = {data, len};

	return sb_transport_put(t, name, mem_fill, &m);
}

int sb_transport_delete(struct sb_transport *t, const char *name)
{
	return t->ops->delete_file(t, name);
}
