/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_hostkey.c - known_hosts as OpenSSH reads it (backup/transport/
 * known_hosts.c): line splitting and markers, host patterns (case, '*', '?',
 * '!', "[host]:port", hashed entries), and the verdict for a host and key:
 * any entry of any type blocks --accept-new-host-key, @revoked wins,
 * @cert-authority is not a key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "known_hosts.h"

/* Two ed25519 key blobs (32 bytes of 1s, of 2s) and their base64. */
#define ED_HDR "\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20"
static const unsigned char key_a[] = ED_HDR "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
					    "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
					    "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01";
static const unsigned char key_b[] = ED_HDR "\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02"
					    "\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02"
					    "\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02";
#define KEYLEN (sizeof(key_a) - 1)
#define A64 "AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
#define B64 "AAAAC3NzaC1lZDI1NTE5AAAAIAICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC"
#define RSA64 "AAAAB3NzaC1yc2EAAAADAQABAAAAQQDDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PD"
/* HMAC-SHA1 of "example.org" and "[example.org]:2222", salt 00 01 .. 13 */
#define HASHED "|1|AAECAwQFBgcICQoLDA0ODxAREhM=|bFDVYqbsfLlUB0fPAZemUYx8Gnc="
#define HASHED_PORT "|1|AAECAwQFBgcICQoLDA0ODxAREhM=|FECgIuoZ4Lo/BCx3pa8UOUgvG+o="

static struct sb_kh_verdict check(const char *text, const char *host, const unsigned char *key)
{
	struct sb_kh_verdict v;

	assert_int_equal(sb_kh_check(text, strlen(text), host, key, KEYLEN, &v), 0);
	return v;
}

#define assert_verdict(text, host, key, st, ln)                                                    \
	do {                                                                                       \
		struct sb_kh_verdict v_ = check(text, host, key);                                  \
		assert_int_equal(v_.status, st);                                                   \
		assert_int_equal(v_.line, ln);                                                     \
	} while (0)

static bool match(const char *hosts, const char *host)
{
	return sb_kh_hosts_match(hosts, strlen(hosts), host);
}

static void test_line_parse(void **state)
{
	struct sb_kh_line l;
	const char *s;

	(void)state;
	assert_int_equal(sb_kh_line_parse("", 0, &l), 0);
	assert_int_equal(sb_kh_line_parse("  \t\r", 4, &l), 0);
	assert_int_equal(sb_kh_line_parse(" # comment", 10, &l), 0);
	s = "  host1,host2\tssh-ed25519  " A64 " a comment\r\n";
	assert_int_equal(sb_kh_line_parse(s, strlen(s), &l), 1);
	assert_int_equal(l.marker, SB_KH_PLAIN);
	assert_int_equal(l.hosts_len, 11);
	assert_memory_equal(l.hosts, "host1,host2", 11);
	assert_int_equal(l.type_len, 11);
	assert_memory_equal(l.type, "ssh-ed25519", 11);
	assert_int_equal(l.key_len, strlen(A64));
	s = "@revoked * ssh-ed25519 " A64;
	assert_int_equal(sb_kh_line_parse(s, strlen(s), &l), 1);
	assert_int_equal(l.marker, SB_KH_REVOKE);
	assert_memory_equal(l.hosts, "*", 1);
	s = "@cert-authority\t*.example.org ssh-ed25519 " A64;
	assert_int_equal(sb_kh_line_parse(s, strlen(s), &l), 1);
	assert_int_equal(l.marker, SB_KH_CA);
	/* invalid: unknown or doubled marker, marker glued on, no key type */
	s = "@revoke * ssh-ed25519 " A64;
	assert_int_equal(sb_kh_line_parse(s, strlen(s), &l), -1);
	s = "@revoked @revoked * ssh-ed25519 " A64;
	assert_int_equal(sb_kh_line_parse(s, strlen(s), &l), -1);
	s = "@revoked* ssh-ed25519 " A64;
	assert_int_equal(sb_kh_line_parse(s, strlen(s), &l), -1);
	assert_int_equal(sb_kh_line_parse("example.org", 11, &l), -1);
	assert_int_equal(sb_kh_line_parse("@revoked ", 9, &l), -1);
	assert_int_equal(sb_kh_line_parse("example.org #x", 14, &l), -1);
	/* a type without a key still names the host */
	assert_int_equal(sb_kh_line_parse("example.org ssh-rsa", 19, &l), 1);
	assert_int_equal(l.key_len, 0);
	/* stops at the first '\n' */
	s = "a ssh-rsa\nb ssh-ed25519 x";
	assert_int_equal(sb_kh_line_parse(s, strlen(s), &l), 1);
	assert_int_equal(l.type_len, 7);
	assert_int_equal(l.key_len, 0);
}

static void test_hosts_match(void **state)
{
	(void)state;
	assert_true(match("example.org", "example.org"));
	assert_true(match("Example.ORG", "example.org"));
	assert_true(match("example.org", "EXAMPLE.org"));
	assert_false(match("example.org", "example.org.evil"));
	assert_false(match("example.or", "example.org"));
	assert_true(match("a.net,example.org,b.net", "example.org"));
	assert_true(match("*.ORG", "example.org"));
	assert_true(match("exam?le.org", "example.org"));
	assert_false(match("exam?le.org", "exale.org"));
	assert_true(match("*", "example.org"));
	assert_true(match("e*e*e*e*.org", "eeeeeeeeexample.org"));
	assert_false(match("*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(match("!example.org,*.org", "example.org"));
	assert_false(match("*.org,!Example.org", "example.org"));
	assert_true(match("!other.org,*.org", "example.org"));
	assert_false(match("!example.org", "example.org"));
	assert_false(match("!other.org", "example.org")); /* negation alone matches nothing */
	assert_true(match("[example.org]:2222", "[example.org]:2222"));
	assert_true(match("[EXAMPLE.org]:2222", "[example.org]:2222"));
	assert_false(match("[example.org]:2222", "example.org"));
	assert_false(match("example.org", "[example.org]:2222"));
	assert_false(match("[example.org]:2222", "[example.org]:22222"));
	assert_true(match("[*.org]:2222", "[example.org]:2222"));
	assert_false(match(",", "example.org"));
	/* hashed */
	assert_true(match(HASHED, "example.org"));
	assert_true(match(HASHED, "Example.Org"));
	assert_false(match(HASHED, "example.com"));
	assert_true(match(HASHED_PORT, "[example.org]:2222"));
	assert_false(match(HASHED_PORT, "example.org"));
	assert_false(match("|1|AAECAwQFBgcICQoLDA0ODxAREhM=", "example.org"));
	assert_false(match("|2|AAECAwQFBgcICQoLDA0ODxAREhM=|bFDVYqbsfLlUB0fPAZemUYx8Gnc=",
			   "example.org"));
	assert_false(match("|1|AAECAw==|bFDVYqbsfLlUB0fPAZemUYx8Gnc=", "example.org"));
}

static void test_check_match_and_new(void **state)
{
	(void)state;
	assert_verdict("", "example.org", key_a, SB_KH_NEW, 0);
	assert_verdict("# nothing\n\nother.org ssh-ed25519 " B64 "\n", "example.org", key_a,
		       SB_KH_NEW, 0);
	assert_verdict("other.org ssh-ed25519 " B64 "\nexample.org ssh-ed25519 " A64 "\n",
		       "example.org", key_a, SB_KH_MATCH, 2);
	/* no newline at the end of the file */
	assert_verdict("x ssh-rsa " RSA64 "\nexample.org ssh-ed25519 " A64, "example.org", key_a,
		       SB_KH_MATCH, 2);
	/* case, as OpenSSH: the host is lowercased, patterns compare in any case */
	assert_verdict("Example.ORG ssh-ed25519 " A64 "\n", "example.org", key_a, SB_KH_MATCH, 1);
	assert_verdict("example.org ssh-ed25519 " A64 "\n", "EXAMPLE.ORG", key_a, SB_KH_MATCH, 1);
	assert_verdict(HASHED " ssh-ed25519 " A64 "\n", "Example.org", key_a, SB_KH_MATCH, 1);
	assert_verdict(HASHED_PORT " ssh-ed25519 " A64 "\n", "[example.org]:2222", key_a,
		       SB_KH_MATCH, 1);
	/* another host's key is no entry for this one, even with this key */
	assert_verdict("[example.org]:2222 ssh-ed25519 " B64 "\n", "example.org", key_a, SB_KH_NEW,
		       0);
	assert_verdict("!example.org,*.org ssh-ed25519 " B64 "\n", "example.org", key_a, SB_KH_NEW,
		       0);
	/* lines OpenSSH skips as invalid */
	assert_verdict("@foo example.org ssh-ed25519 " B64 "\n", "example.org", key_a, SB_KH_NEW,
		       0);
	/* a key with a comment matches */
	assert_verdict("example.org ssh-ed25519 " A64 " me@there\n", "example.org", key_a,
		       SB_KH_MATCH, 1);
}

/* --accept-new-host-key must see any entry for the host, of any key type. */
static void test_check_changed(void **state)
{
	struct sb_kh_verdict v;

	(void)state;
	assert_verdict("example.org ssh-ed25519 " B64 "\n", "example.org", key_a, SB_KH_CHANGED, 1);
	assert_verdict("a ssh-rsa x\nexample.org ssh-rsa " RSA64 "\n", "example.org", key_a,
		       SB_KH_CHANGED, 2);
	assert_verdict(HASHED " ecdsa-sha2-nistp256 AAAA\n", "example.org", key_a, SB_KH_CHANGED,
		       1);
	assert_verdict(HASHED_PORT " ssh-rsa " RSA64 "\n", "[Example.org]:2222", key_a,
		       SB_KH_CHANGED, 1);
	assert_verdict("*.org sk-ssh-ed25519@openssh.com AAAA\n", "example.org", key_a,
		       SB_KH_CHANGED, 1);
	assert_verdict("EXAMPLE.org ssh-rsa\n", "example.org", key_a, SB_KH_CHANGED, 1);
	assert_verdict("example.org ssh-ed25519 not-base64!\n", "example.org", key_a, SB_KH_CHANGED,
		       1);
	/* the key's blob under another type name is not that key */
	assert_verdict("example.org ssh-rsa " A64 "\n", "example.org", key_a, SB_KH_CHANGED, 1);
	/* a truncated or longer blob is not that key */
	assert_verdict("example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEB\n",
		       "example.org", key_a, SB_KH_CHANGED, 1);
	assert_verdict("example.org ssh-ed25519 " A64 "AQEB\n", "example.org", key_a, SB_KH_CHANGED,
		       1);
	/* the line named is the first of the offered key's type */
	v = check("example.org ssh-rsa " RSA64 "\nexample.org ssh-ed25519 " B64 "\n", "example.org",
		  key_a);
	assert_int_equal(v.status, SB_KH_CHANGED);
	assert_int_equal(v.line, 2);
	assert_string_equal(v.type, "ssh-ed25519");
	v = check("example.org ssh-rsa " RSA64 "\n", "example.org", key_a);
	assert_int_equal(v.line, 1);
	assert_string_equal(v.type, "ssh-rsa");
}

static void test_check_markers(void **state)
{
	struct sb_kh_verdict v;

	(void)state;
	/* @revoked wins over a plain line holding the same key */
	v = check("example.org ssh-ed25519 " A64 "\n@revoked * ssh-ed25519 " A64 "\n",
		  "example.org", key_a);
	assert_int_equal(v.status, SB_KH_REVOKED);
	assert_int_equal(v.line, 2);
	assert_string_equal(v.type, "ssh-ed25519");
	assert_verdict("@revoked " HASHED " ssh-ed25519 " A64 "\n", "example.org", key_a,
		       SB_KH_REVOKED, 1);
	/* revoking another key, or for another host, says nothing of this one */
	assert_verdict("@revoked * ssh-ed25519 " B64 "\n", "example.org", key_a, SB_KH_NEW, 0);
	assert_verdict("@revoked other.org ssh-ed25519 " A64 "\n", "example.org", key_a, SB_KH_NEW,
		       0);
	assert_verdict("@revoked * ssh-ed25519 " B64 "\nexample.org ssh-ed25519 " A64 "\n",
		       "example.org", key_a, SB_KH_MATCH, 2);
	/* @cert-authority is not the host's key, yet the host is not new */
	assert_verdict("@cert-authority *.org ssh-ed25519 " A64 "\n", "example.org", key_a,
		       SB_KH_CERT, 1);
	assert_verdict("@cert-authority *.org ssh-ed25519 " B64 "\nexample.org ssh-ed25519 " A64
		       "\n",
		       "example.org", key_a, SB_KH_MATCH, 2);
	assert_verdict("@cert-authority *.org ssh-ed25519 " B64 "\nexample.org ssh-ed25519 " B64
		       "\n",
		       "example.org", key_a, SB_KH_CHANGED, 2);
	assert_verdict("@cert-authority *.com ssh-ed25519 " A64 "\n", "example.org", key_a,
		       SB_KH_NEW, 0);
}

static void test_has_type(void **state)
{
	const char *t = "@revoked example.org ssh-rsa " RSA64 "\n@cert-authority example.org "
			"ecdsa-sha2-nistp256 AAAA\n" HASHED " ssh-ed25519 " B64 "\n";

	(void)state;
	assert_true(sb_kh_has_type(t, strlen(t), "EXAMPLE.org", "ssh-ed25519"));
	assert_false(sb_kh_has_type(t, strlen(t), "example.org", "ssh-rsa"));
	assert_false(sb_kh_has_type(t, strlen(t), "example.org", "ecdsa-sha2-nistp256"));
	assert_false(sb_kh_has_type(t, strlen(t), "example.com", "ssh-ed25519"));
	assert_false(sb_kh_has_type(t, strlen(t), "example.org", "ssh-ed2551"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_parse),	    cmocka_unit_test(test_hosts_match),
		cmocka_unit_test(test_check_match_and_new), cmocka_unit_test(test_check_changed),
		cmocka_unit_test(test_check_markers),	    cmocka_unit_test(test_has_type),
	};

	(void)key_b;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
