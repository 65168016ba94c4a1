/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport_sftp.c - sftp:// targets over libssh2.
 * Not implemented yet (tracked in its own issue): refuses clearly.
 */
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "transport_impl.h"

int sb_transport_sftp_open(const char *url, const struct sb_transport_opts *o,
			   struct sb_transport **out)
{
	(void)o;
	*out = NULL;
	sb_error("target %s: sftp:// targets are not supported by this build yet", url);
	return SB_ERR_PARAM;
}
