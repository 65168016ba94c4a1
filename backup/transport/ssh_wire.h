/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ssh_wire.h - private: the SSH wire format (RFC 4251 section 5) for key
 * files, key blobs and ssh-agent messages. Readers are bounded and every get
 * checks the length (the bytes are untrusted); writers grow a buffer and keep
 * err set after a failed allocation, so a sequence of puts is checked once.
 */
#ifndef SEALBOX_SSH_WIRE_H
#define SEALBOX_SSH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

struct ssh_rd {
	const unsigned char *p;
	size_t n;
};

bool ssh_rd_u32(struct ssh_rd *r, uint32_t *v);
bool ssh_rd_str(struct ssh_rd *r, struct ssh_rd *s);
/* s holds exactly text. */
bool ssh_rd_is(const struct ssh_rd *s, const char *text);
/* A name from the file, for a message: printable ASCII only, at most 64 bytes. */
int ssh_rd_name_len(const struct ssh_rd *s);
/* A non-negative mpint, its magnitude without leading zeros in *mag. */
bool ssh_rd_mpint(struct ssh_rd *r, struct ssh_rd *mag);

struct ssh_wr {
	unsigned char *p; /* malloc'ed; the caller frees it */
	size_t len, cap;
	bool err;
};

void ssh_wr_u32(struct ssh_wr *w, uint32_t v);
void ssh_wr_bytes(struct ssh_wr *w, const void *data, size_t n);
void ssh_wr_str(struct ssh_wr *w, const void *data, size_t n);
void ssh_wr_mpint(struct ssh_wr *w, const BIGNUM *b);

#endif
