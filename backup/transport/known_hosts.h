/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * known_hosts.h - private to the sftp:// transport: OpenSSH's known_hosts
 * file read as OpenSSH reads it, from a buffer, without a network.
 *
 * sb_kh_check() says what the file holds for a host and the key its server
 * offered: nothing at all (the key may be added), that key, other keys, a
 * @revoked line for that key, or only @cert-authority lines (host
 * certificates, which sealbox does not check). sftp_hostkey.c turns the
 * verdict into a decision and a message; the fuzzer and the unit tests call
 * the same functions.
 *
 * Host names compare case-insensitively (OpenSSH lowercases the host first);
 * hashed "|1|salt|hash" entries, "[host]:port" forms and pattern lists with
 * '*', '?' and '!' negation are understood.
 */
#ifndef SEALBOX_KNOWN_HOSTS_H
#define SEALBOX_KNOWN_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

enum sb_kh_marker {
	SB_KH_PLAIN,  /* no marker: a key of the host */
	SB_KH_CA,     /* @cert-authority */
	SB_KH_REVOKE, /* @revoked */
};

/* One line, split in place: pointers into the caller's buffer, not copied. */
struct sb_kh_line {
	enum sb_kh_marker marker;
	const char *hosts; /* pattern list, or "|1|salt|hash" */
	size_t hosts_len;
	const char *type; /* key type name, e.g. "ssh-ed25519" */
	size_t type_len;
	const char *key; /* base64 key blob; key_len 0 when the line has none */
	size_t key_len;
};

/*
 * Split one line (len bytes, no '\n' needed). Returns 1 and fills *out for an
 * entry (hosts and a key type at least), 0 for a blank or comment line, -1
 * for a line OpenSSH would skip as invalid (unknown marker, no key type).
 */
int sb_kh_line_parse(const char *line, size_t len, struct sb_kh_line *out);

/* Does a hosts field (pattern list or hashed) name host? host in any case. */
bool sb_kh_hosts_match(const char *hosts, size_t hosts_len, const char *host);

enum sb_kh_status {
	SB_KH_NEW,     /* no entry of any kind for the host: the key may be added */
	SB_KH_MATCH,   /* a plain entry for the host holds this key */
	SB_KH_CHANGED, /* the host has plain entries, none with this key */
	SB_KH_REVOKED, /* a @revoked line for the host holds this key */
	SB_KH_CERT,    /* only @cert-authority lines name the host */
};

struct sb_kh_verdict {
	enum sb_kh_status status;
	int line;      /* 1-based line the status rests on; 0 for SB_KH_NEW */
	char type[64]; /* the key type written on that line ("" for SB_KH_NEW) */
};

/*
 * Check key (the blob the server sent, keylen bytes) for host ("name" or
 * "[name]:port" as in known_hosts, any case) against the known_hosts text
 * (len bytes). A revoked key is refused even when a plain line holds it too;
 * for SB_KH_CHANGED, line is the first entry of the key's own type, else the
 * host's first entry. Returns 0, or SB_ERR_NOMEM.
 */
int sb_kh_check(const char *text, size_t len, const char *host, const unsigned char *key,
		size_t keylen, struct sb_kh_verdict *v);

/* Does text hold a plain entry of key type type (e.g. "ssh-rsa") for host? */
bool sb_kh_has_type(const char *text, size_t len, const char *host, const char *type);

#endif
