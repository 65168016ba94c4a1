/* SPDX-License-Identifier: GPL-2.0-or-later */
/* error.c - descriptions of sb_err codes and the errno mapping. */
#include <errno.h>

#include "sealbox/error.h"

const char *sb_strerror(int err)
{
	switch (err) {
	case SB_OK: return "success";
	case SB_ERR_PARAM: return "bad parameter";
	case SB_ERR_NOMEM: return "out of memory";
	case SB_ERR_IO: return "input/output error";
	case SB_ERR_NOSPACE: return "no space left";
	case SB_ERR_CORRUPT: return "corrupt or tampered data";
	case SB_ERR_BADSIG: return "bad or foreign signature";
	case SB_ERR_KEY: return "unusable key";
	case SB_ERR_PASSPHRASE: return "wrong or missing passphrase";
	case SB_ERR_TRANSPORT: return "transfer failed";
	case SB_ERR_NOTFOUND: return "not found";
	case SB_ERR_EXISTS: return "already exists";
	case SB_ERR_MISMATCH: return "target holds another source's backups";
	case SB_ERR_INTERRUPTED: return "interrupted";
	case SB_ERR_NOSECRET: return "secret key not available";
	case SB_ERR_INTERNAL: return "internal error";
	case SB_ERR_PARTIAL: return "some files could not be read";
	case SB_ERR_PERM: return "permission denied";
	case SB_ERR_LOCKED: return "locked by another process";
	case SB_ERR_CHAIN: return "broken chain";
	case SB_ERR_ROLLBACK: return "target rolled back";
	case SB_ERR_UNSIGNED: return "unsigned data";
	case SB_ERR_AUTH: return "credentials refused";
	case SB_ERR_DISKFULL: return "no space left on device";
	}
	return "unknown error";
}

int sb_err_from_errno(int e)
{
	switch (e) {
	case 0: return SB_OK;
	case ENOMEM: return SB_ERR_NOMEM;
	case ENOSPC:
	case EDQUOT:
	case EFBIG: return SB_ERR_DISKFULL;
	case ENOENT:
	case ENOTDIR: return SB_ERR_NOTFOUND;
	case EEXIST: return SB_ERR_EXISTS;
	case EACCES:
	case EPERM:
	case EROFS: return SB_ERR_PERM;
	case EINTR: return SB_ERR_INTERRUPTED;
	case EINVAL: return SB_ERR_PARAM;
	default: return SB_ERR_IO;
	}
}
