/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_known_hosts.c - libFuzzer target for the known_hosts reader
 * (backup/transport/known_hosts.c): a user's file, but often copied or
 * generated from elsewhere. Input: the first line is the host ("name" or
 * "[name]:port"), the rest the file. Checks the verdict against the rest of
 * the module: a matching line is an entry of that type for the host, a new
 * host has no entry of any type, and the line named holds an entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/log.h"
#include "fuzz_common.h"
#include "known_hosts.h"

/* The ed25519 key blob "AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEB...": 32 bytes of 1s. */
static const unsigned char key[] =
	"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20"
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01";

static const char *const types[] = {"ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"};

/* The 1-based line n of text, or NULL. */
static const char *nth_line(const char *text, size_t len, int n, size_t *llen)
{
	const char *p = text, *end = text + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (--n == 0) {
			*llen = (size_t)(nl - p);
			return p;
		}
		p = nl + 1;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size), *text, *line;
	struct sb_kh_verdict v;
	struct sb_kh_line l;
	size_t hlen, tlen, llen, i;
	char *host;

	sb_log_set_handler(fuzz_quiet, NULL);
	if (!nl)
		return 0;
	hlen = (size_t)(nl - (const char *)data);
	if (!(host = malloc(hlen + 1)))
		abort();
	memcpy(host, data, hlen);
	host[hlen] = '\0';
	text = nl + 1;
	tlen = size - hlen - 1;
	if (sb_kh_check(text, tlen, host, key, sizeof(key) - 1, &v) != 0)
		abort();
	if (v.status == SB_KH_MATCH && !sb_kh_has_type(text, tlen, host, "ssh-ed25519"))
		abort();
	for (i = 0; v.status == SB_KH_NEW && i < sizeof(types) / sizeof(types[0]); i++)
		if (sb_kh_has_type(text, tlen, host, types[i]))
			abort();
	if (v.status != SB_KH_NEW) {
		line = nth_line(text, tlen, v.line, &llen);
		if (!line || sb_kh_line_parse(line, llen, &l) != 1 ||
		    !sb_kh_hosts_match(l.hosts, l.hosts_len, host))
			abort();
	}
	free(host);
	return 0;
}
