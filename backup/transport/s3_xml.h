/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3_xml.h - private to the s3:// transport: the few XML replies of the S3
 * API sealbox reads (ListObjectsV2, ListMultipartUploads,
 * CreateMultipartUpload, CompleteMultipartUpload, errors), from a buffer.
 *
 * The server is not trusted: the parser reads only the elements it needs,
 * by name, inside bounds; it copies no text longer than S3_XML_TEXT_MAX,
 * decodes the five predefined entities and numeric character references,
 * refuses control characters, CDATA and anything else, and never reads past
 * len. The transport bounds the size of a reply before it gets here
 * (S3_XML_REPLY_MAX). Any deviation is SB_ERR_CORRUPT, never a crash.
 */
#ifndef SEALBOX_S3_XML_H
#define SEALBOX_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_XML_REPLY_MAX (16u << 20) /* bytes of one reply the transport keeps */
#define S3_XML_TEXT_MAX 4096u	     /* bytes of one element's decoded text */

/*
 * The decoded text of the first <tag>...</tag> in xml[0..len), as a new
 * NUL-terminated string in *out (caller frees). 0, SB_ERR_NOTFOUND when there
 * is no such element, SB_ERR_CORRUPT for a malformed one, SB_ERR_NOMEM.
 */
int s3_xml_text(const char *xml, size_t len, const char *tag, char **out);

struct s3_object {
	char *key;     /* decoded, owned */
	uint64_t size; /* bytes */
};

/* One page of ListObjectsV2. */
struct s3_list_page {
	struct s3_object *v; /* n of them, owned */
	size_t n;
	bool truncated;	  /* IsTruncated: more pages follow */
	char *next_token; /* NextContinuationToken when truncated, owned */
};

/*
 * Parse a ListObjectsV2 reply into *out (zeroed first). A truncated page
 * without a continuation token, a <Contents> without a key or with a size
 * that is not a decimal number below 2^63 are SB_ERR_CORRUPT.
 * CommonPrefixes are skipped. On failure *out is empty.
 */
int s3_xml_list_parse(const char *xml, size_t len, struct s3_list_page *out);
void s3_list_page_release(struct s3_list_page *p);

struct s3_upload {
	char *key, *upload_id; /* decoded, owned */
};

/* One page of ListMultipartUploads. */
struct s3_uploads_page {
	struct s3_upload *v; /* n of them, owned */
	size_t n;
	bool truncated;
	char *next_key, *next_upload_id; /* NextKeyMarker, NextUploadIdMarker */
};

/* Parse a ListMultipartUploads reply into *out (zeroed first). */
int s3_xml_uploads_parse(const char *xml, size_t len, struct s3_uploads_page *out);
void s3_uploads_page_release(struct s3_uploads_page *p);

#endif
