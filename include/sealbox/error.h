/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * error.h - the one error vocabulary of libsealbox.
 *
 * Every core function returns 0 (SB_OK) or one of the negative codes below.
 * The function that detects a failure logs it once, with context (file, key,
 * host), through sb_log(); callers propagate the code without logging again.
 * The CLI maps codes to exit statuses (sb_exit_code()), fs/ maps them to errno.
 */
#ifndef SEALBOX_ERROR_H
#define SEALBOX_ERROR_H

enum sb_err {
	SB_OK = 0,
	SB_ERR_PARAM = -1,	  /* bad parameter or usage */
	SB_ERR_NOMEM = -2,	  /* out of memory */
	SB_ERR_IO = -3,		  /* local read/write failure */
	SB_ERR_NOSPACE = -4,	  /* no space left on the target */
	SB_ERR_CORRUPT = -5,	  /* malformed, truncated or tampered data */
	SB_ERR_BADSIG = -6,	  /* signature missing, bad, or by a foreign key */
	SB_ERR_KEY = -7,	  /* key unknown, expired, revoked or unusable */
	SB_ERR_PASSPHRASE = -8,	  /* wrong or missing passphrase */
	SB_ERR_TRANSPORT = -9,	  /* target unreachable or transfer failed */
	SB_ERR_NOTFOUND = -10,	  /* no such file, set, snapshot or path */
	SB_ERR_EXISTS = -11,	  /* refusing to overwrite */
	SB_ERR_MISMATCH = -12,	  /* target holds another source's chain */
	SB_ERR_INTERRUPTED = -13, /* stopped by a signal */
	SB_ERR_NOSECRET = -14,	  /* secret key needed but not available */
	SB_ERR_INTERNAL = -15,	  /* a bug: impossible state */
	SB_ERR_PARTIAL = -16,	  /* done, but some files could not be read */
	SB_ERR_PERM = -17,	  /* permission denied (local or on the target) */
	SB_ERR_LOCKED = -18,	  /* another sealbox holds the lock */
	SB_ERR_CHAIN = -19,	  /* a set missing, replayed, reordered or foreign */
	SB_ERR_ROLLBACK = -20,	  /* the target is older than what this machine wrote */
	SB_ERR_UNSIGNED = -21,	  /* an unencrypted (unsigned) set where signed ones are due */
	SB_ERR_AUTH = -22,	  /* the target refused the credentials (wrong key, clock) */
	SB_ERR_DISKFULL = -23,	  /* no space left on a local disk (archive dir, TMPDIR, DEST) */
};

/* Short static description of an sb_err code; never NULL. */
const char *sb_strerror(int err);

/* Map an errno value to the closest sb_err code (ENOSPC: SB_ERR_DISKFULL, the
 * local kind; transports map their own). */
int sb_err_from_errno(int e);

#endif
