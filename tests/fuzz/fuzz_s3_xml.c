/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_s3_xml.c - libFuzzer target for the S3 reply parsers
 * (backup/transport/s3_xml.c): what an s3:// store answers to ListObjectsV2,
 * ListMultipartUploads and the rest is not trusted. Input: the reply. Checks
 * what the transport relies on: a parsed page has keys no longer than
 * S3_XML_TEXT_MAX and free of NUL, sizes below 2^63, and a truncated page
 * always carries its continuation token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/log.h"
#include "fuzz_common.h"
#include "s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	struct s3_uploads_page up;
	struct s3_list_page pg;
	char *s;
	size_t i;

	sb_log_set_handler(fuzz_quiet, NULL);
	if (s3_xml_list_parse(xml, size, &pg) == 0) {
		if (pg.truncated && (!pg.next_token || !*pg.next_token))
			abort();
		for (i = 0; i < pg.n; i++)
			if (strlen(pg.v[i].key) > S3_XML_TEXT_MAX || pg.v[i].size >> 63)
				abort();
		s3_list_page_release(&pg);
	}
	if (s3_xml_uploads_parse(xml, size, &up) == 0) {
		for (i = 0; i < up.n; i++)
			if (!up.v[i].key || !up.v[i].upload_id || !*up.v[i].upload_id)
				abort();
		s3_uploads_page_release(&up);
	}
	if (s3_xml_text(xml, size, "Code", &s) == 0) {
		if (strlen(s) > S3_XML_TEXT_MAX)
			abort();
		free(s);
	}
	return 0;
}
