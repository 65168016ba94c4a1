/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_s3.c - the parts of the s3:// transport that need no server
 * (backup/transport/s3_xml.c, s3_config.c): ListObjectsV2 and
 * ListMultipartUploads replies as Swift and AWS write them, entities, and
 * hostile replies (unclosed elements, bad sizes, CDATA, control characters,
 * a truncated page without a token, every prefix of a good reply); s3://
 * URLs; endpoints; the AWS INI files (profiles, comments, nested settings);
 * where credentials and region come from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sealbox/error.h"
#include "sealbox/log.h"
#include "s3_config.h"
#include "s3_http.h"
#include "s3_xml.h"

static void quiet(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)level, (void)msg, (void)ctx;
}

static const char swift_list[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bkt</Name>"
	"<Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
	"<IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>cC9i&amp;x</NextContinuationToken>"
	"<Contents><Key>p/a&amp;b&lt;c&gt;&#233;&#x41;</Key><LastModified>2026-12-06T03:24:49.000Z"
	"</LastModified><ETag>\"b1946ac92492d2347c6235b4d2611184\"</ETag><Size>6</Size>"
	"<StorageClass>STANDARD</StorageClass></Contents>"
	"<Contents><Key>p/duplicity-full.20261206T032148Z.vol1.difftar.gpg</Key>"
	"<Size>9223372036854775807</Size></Contents>"
	"<CommonPrefixes><Prefix>p/sub/</Prefix></CommonPrefixes>"
	"</ListBucketResult>";

static void test_list_parse(void **state)
{
	struct s3_list_page pg;

	(void)state;
	assert_int_equal(s3_xml_list_parse(swift_list, strlen(swift_list), &pg), 0);
	assert_int_equal(pg.n, 2);
	assert_true(pg.truncated);
	assert_string_equal(pg.next_token, "cC9i&x");
	assert_string_equal(pg.v[0].key, "p/a&b<c>\xc3\xa9"
					 "A");
	assert_int_equal(pg.v[0].size, 6);
	assert_string_equal(pg.v[1].key, "p/duplicity-full.20261206T032148Z.vol1.difftar.gpg");
	assert_true(pg.v[1].size == 9223372036854775807ull);
	s3_list_page_release(&pg);

	/* an empty, final page */
	const char *empty = "<ListBucketResult><IsTruncated>false</IsTruncated>"
			    "<KeyCount>0</KeyCount></ListBucketResult>";
	assert_int_equal(s3_xml_list_parse(empty, strlen(empty), &pg), 0);
	assert_int_equal(pg.n, 0);
	assert_false(pg.truncated);
	assert_null(pg.next_token);
	s3_list_page_release(&pg);
}

static int parse(const char *xml)
{
	struct s3_list_page pg;
	int rc = s3_xml_list_parse(xml, strlen(xml), &pg);

	if (!rc)
		s3_list_page_release(&pg);
	else
		assert_int_equal(pg.n, 0);
	return rc;
}

#define HEAD "<ListBucketResult><IsTruncated>false</IsTruncated>"
#define TAIL "</ListBucketResult>"

static void test_list_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"<Error><Code>AccessDenied</Code></Error>",
		"<ListBucketResult>",
		HEAD "<Contents><Key>a</Key><Size>1</Size>" TAIL, /* no </Contents> */
		HEAD "<Contents><Key>a</Key></Contents>" TAIL,	  /* no size */
		HEAD "<Contents><Size>1</Size></Contents>" TAIL,  /* no key */
		HEAD "<Contents><Key>a</Key><Size>-1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a</Key><Size>1e3</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a</Key><Size></Size></Contents>" TAIL,
		HEAD "<Contents><Key>a</Key><Size>9223372036854775808</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a</Key><Size>99999999999999999999999</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a&bogus;</Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a&amp</Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a&#0;</Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a&#xD800;</Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a&#x110000;</Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a&#99999999999;</Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key><![CDATA[a]]></Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a<b/></Key><Size>1</Size></Contents>" TAIL,
		HEAD "<Contents><Key>a",				  /* cut short */
		"<ListBucketResult><IsTruncated>true</IsTruncated>" TAIL, /* no token */
		"<ListBucketResult><IsTruncated>true</IsTruncated>"
		"<NextContinuationToken></NextContinuationToken>" TAIL,
		"<ListBucketResult><IsTruncated>maybe</IsTruncated>" TAIL,
	};
	char key[S3_XML_TEXT_MAX + 200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i]);

		if (rc != SB_ERR_CORRUPT)
			fail_msg("accepted or crashed on case %zu: %s (rc %d)", i, bad[i], rc);
	}
	/* a key longer than any the parser copies */
	snprintf(key, sizeof(key), HEAD "<Contents><Key>%0*d</Key><Size>1</Size></Contents>" TAIL,
		 (int)S3_XML_TEXT_MAX + 1, 0);
	assert_int_equal(parse(key), SB_ERR_CORRUPT);
	/* self-closed and attribute forms are fine; a longer tag is not ours */
	assert_int_equal(parse(HEAD "<Contents><Key>a</Key><Size>1</Size><Owner/></Contents>"
				    "<ContentsX><Key>b</Key></ContentsX>" TAIL),
			 0);
}

/* Every prefix of a good reply: parsed or refused, never read past. */
static void test_list_prefixes(void **state)
{
	size_t n = strlen(swift_list), i;
	char *copy;

	(void)state;
	for (i = 0; i < n; i++) {
		struct s3_list_page pg;

		copy = malloc(i ? i : 1); /* exactly i bytes: ASan sees any overread */
		assert_non_null(copy);
		memcpy(copy, swift_list, i);
		if (s3_xml_list_parse(copy, i, &pg) == 0)
			s3_list_page_release(&pg);
		free(copy);
	}
}

static void test_uploads_and_text(void **state)
{
	const char *u = "<?xml version=\"1.0\"?><ListMultipartUploadsResult><Bucket>bkt</Bucket>"
			"<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
			"<NextKeyMarker>p/b</NextKeyMarker><NextUploadIdMarker>id2"
			"</NextUploadIdMarker><IsTruncated>true</IsTruncated>"
			"<Upload><Key>p/a</Key><UploadId>id1</UploadId></Upload>"
			"<Upload><Key>p/b</Key><UploadId>id2</UploadId><Initiated>x</Initiated>"
			"</Upload></ListMultipartUploadsResult>";
	struct s3_uploads_page pg;
	char *s;

	(void)state;
	assert_int_equal(s3_xml_uploads_parse(u, strlen(u), &pg), 0);
	assert_int_equal(pg.n, 2);
	assert_true(pg.truncated);
	assert_string_equal(pg.v[0].key, "p/a");
	assert_string_equal(pg.v[0].upload_id, "id1");
	assert_string_equal(pg.v[1].upload_id, "id2");
	assert_string_equal(pg.next_key, "p/b");
	assert_string_equal(pg.next_upload_id, "id2");
	s3_uploads_page_release(&pg);
	const char *nokey = "<ListMultipartUploadsResult><Upload><UploadId>x</UploadId></Upload>"
			    "</ListMultipartUploadsResult>";
	assert_int_equal(s3_xml_uploads_parse(nokey, strlen(nokey), &pg), SB_ERR_CORRUPT);

	const char *err = "<Error><Code>NoSuchBucket</Code><Message>The specified bucket "
			  "does not exist.</Message></Error>";
	assert_int_equal(s3_xml_text(err, strlen(err), "Code", &s), 0);
	assert_string_equal(s, "NoSuchBucket");
	free(s);
	assert_int_equal(s3_xml_text(err, strlen(err), "Resource", &s), SB_ERR_NOTFOUND);
	assert_null(s);
	assert_int_equal(s3_xml_text(err, 20, "Code", &s), SB_ERR_CORRUPT); /* cut */
}

/* AWS's URI encoding: what SigV4 signs must be what the URL carries. */
static void test_uri_encode(void **state)
{
	struct sb_buf b = SB_BUF_INIT;

	(void)state;
	assert_int_equal(s3_uri_encode(&b, "a b/c~d_e.f-g+h=i&\xc3\xa9", true), 0);
	assert_string_equal(sb_buf_str(&b), "a%20b/c~d_e.f-g%2Bh%3Di%26%C3%A9");
	sb_buf_reset(&b);
	assert_int_equal(s3_uri_encode(&b, "p/q r", false), 0);
	assert_string_equal(sb_buf_str(&b), "p%2Fq%20r");
	sb_buf_reset(&b);
	assert_int_equal(s3_uri_encode(&b, "", false), 0);
	assert_string_equal(sb_buf_str(&b), "");
	sb_buf_release(&b);
}

static void test_url(void **state)
{
	char *b, *p;

	(void)state;
	assert_int_equal(s3_url_parse("s3://bkt/a/b/", &b, &p), 0);
	assert_string_equal(b, "bkt");
	assert_string_equal(p, "a/b/");
	free(b), free(p);
	assert_int_equal(s3_url_parse("s3://bkt", &b, &p), 0);
	assert_string_equal(p, "");
	free(b), free(p);
	assert_int_equal(s3_url_parse("s3://bkt//x", &b, &p), 0); /* leading slashes go */
	assert_string_equal(p, "x/");
	free(b), free(p);
	assert_int_equal(s3_url_parse("s3://", &b, &p), SB_ERR_PARAM);
	assert_int_equal(s3_url_parse("s3:///p", &b, &p), SB_ERR_PARAM);
	assert_int_equal(s3_url_parse("s3://b@d/p", &b, &p), SB_ERR_PARAM);
	assert_int_equal(s3_url_parse("s3://b/a//c", &b, &p), SB_ERR_PARAM);
	assert_int_equal(s3_url_parse("s3://b/a\nc", &b, &p), SB_ERR_PARAM);
	assert_null(b);
}

static void test_endpoint(void **state)
{
	struct s3_config c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(s3_endpoint_parse("http://127.0.0.1:8080/", &c), 0);
	assert_false(c.https);
	assert_string_equal(c.host, "127.0.0.1:8080");
	assert_string_equal(c.base_path, "");
	assert_string_equal(c.endpoint, "http://127.0.0.1:8080");
	s3_config_release(&c);
	assert_int_equal(s3_endpoint_parse("https://[::1]:9000/s3//", &c), 0);
	assert_true(c.https);
	assert_string_equal(c.host, "[::1]:9000");
	assert_string_equal(c.base_path, "/s3");
	s3_config_release(&c);
	static const char *const bad[] = {
		"ftp://h",	  "h:80",	    "http://",	     "http://:80",
		"http://h:0",	  "http://h:65536", "http://h:8x",   "http://u:p@h/",
		"http://h/a?b=c", "http://h#f",	    "https://h/a b", "http://h:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		if (s3_endpoint_parse(bad[i], &c) != SB_ERR_PARAM)
			fail_msg("accepted endpoint %s", bad[i]);
		s3_config_release(&c);
	}
}

static void test_ini(void **state)
{
	const char *t = "# comment\n"
			"[default]\n"
			"aws_access_key_id = AKDEFAULT\n"
			"[profile backup] \n"
			"; another comment\n"
			"region=eu-west-3\n"
			"s3 =\n"
			"    addressing_style = path\n"
			"  region = nested-1\n"
			"aws_secret_access_key =  s e c  \r\n"
			"[broken\n"
			"region = nope\n";
	char out[16];

	(void)state;
	assert_int_equal(s3_ini_get(t, strlen(t), "default", "aws_access_key_id", out, sizeof(out)),
			 1);
	assert_string_equal(out, "AKDEFAULT");
	assert_int_equal(s3_ini_get(t, strlen(t), "profile backup", "region", out, sizeof(out)), 1);
	assert_string_equal(out, "eu-west-3");
	assert_int_equal(s3_ini_get(t, strlen(t), "profile backup", "aws_secret_access_key", out,
				    sizeof(out)),
			 1);
	assert_string_equal(out, "s e c");
	assert_int_equal(
		s3_ini_get(t, strlen(t), "profile backup", "addressing_style", out, sizeof(out)),
		0);
	assert_int_equal(s3_ini_get(t, strlen(t), "default", "region", out, sizeof(out)), 0);
	assert_int_equal(s3_ini_get(t, strlen(t), "broken", "region", out, sizeof(out)), 0);
	assert_int_equal(s3_ini_get(t, strlen(t), "default", "aws_access_key_id", out, 5), -1);
	assert_int_equal(s3_ini_get(t, 30, "default", "aws_access_key_id", out, sizeof(out)), 0);
}

/* Credentials and region: environment first, then the profile's files. */
static void test_config_sources(void **state)
{
	struct sb_transport_opts o = {0};
	struct s3_config c;
	char dir[] = "/tmp/test_s3.XXXXXX", path[300];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/credentials", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n"
	      "[other]\naws_access_key_id = OTHERKEY\n",
	      f);
	fclose(f);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[default]\nregion = eu-central-1\n[profile other]\nregion = Bad Region\n", f);
	fclose(f);
	setenv("AWS_CONFIG_FILE", path, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");

	assert_int_equal(s3_config_load("s3://bkt/p", &o, &c), 0);
	assert_string_equal(c.access_key, "FILEKEY");
	assert_string_equal(c.secret_key, "FILESECRET");
	assert_string_equal(c.region, "eu-central-1");
	assert_string_equal(c.endpoint, "https://s3.eu-central-1.amazonaws.com");
	assert_false(c.path_style); /* AWS: virtual hosts */
	s3_config_release(&c);

	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
	setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
	setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000", 1);
	assert_int_equal(s3_config_load("s3://bkt/p", &o, &c), 0);
	assert_string_equal(c.access_key, "ENVKEY");
	assert_string_equal(c.session_token, "TOKEN");
	assert_string_equal(c.region, "us-west-2");
	assert_string_equal(c.endpoint, "http://127.0.0.1:9000");
	assert_true(c.path_style); /* not AWS: paths */
	s3_config_release(&c);
	o.s3_endpoint = "https://store.example:8443";
	o.s3_addressing = SB_S3_VIRTUAL;
	assert_int_equal(s3_config_load("s3://bkt/p", &o, &c), 0);
	assert_string_equal(c.endpoint, "https://store.example:8443");
	assert_false(c.path_style);
	s3_config_release(&c);

	/* a key without its secret; a profile with a bad region; none at all */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(s3_config_load("s3://bkt/p", &o, &c), SB_ERR_AUTH);
	s3_config_release(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_DEFAULT_REGION");
	setenv("AWS_PROFILE", "other", 1);
	assert_int_equal(s3_config_load("s3://bkt/p", &o, &c), SB_ERR_AUTH); /* no secret */
	s3_config_release(&c);
	setenv("AWS_ACCESS_KEY_ID", "K", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "S", 1);
	assert_int_equal(s3_config_load("s3://bkt/p", &o, &c), SB_ERR_PARAM); /* its region */
	s3_config_release(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_PROFILE", "missing", 1);
	assert_int_equal(s3_config_load("s3://bkt/p", &o, &c), SB_ERR_AUTH);
	s3_config_release(&c);

	unlink(path);
	snprintf(path, sizeof(path), "%s/credentials", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_parse),     cmocka_unit_test(test_list_hostile),
		cmocka_unit_test(test_list_prefixes),  cmocka_unit_test(test_uploads_and_text),
		cmocka_unit_test(test_uri_encode),     cmocka_unit_test(test_url),
		cmocka_unit_test(test_endpoint),       cmocka_unit_test(test_ini),
		cmocka_unit_test(test_config_sources),
	};

	sb_log_set_handler(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
