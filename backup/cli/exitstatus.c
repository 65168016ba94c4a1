/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exitstatus.c - the exit statuses (cmds.h, sealbox(1) EXIT STATUS): the
 * status of an sb_err code, and the words for a status (the JSON
 * document's error when no message was logged).
 */
#include "sealbox/error.h"
#include "cmds.h"

int exit_status(int err)
{
	switch (err) {
	case SB_OK: return EXIT_OK;
	case SB_ERR_PARAM: return EXIT_USAGE;
	case SB_ERR_PARTIAL: return EXIT_PARTIAL;
	case SB_ERR_KEY:
	case SB_ERR_NOSECRET: return EXIT_KEY;
	case SB_ERR_PASSPHRASE: return EXIT_PASSPHRASE;
	case SB_ERR_TRANSPORT:
	case SB_ERR_PERM:
	case SB_ERR_NOSPACE: return EXIT_TARGET;
	case SB_ERR_CORRUPT:
	case SB_ERR_BADSIG:
	case SB_ERR_UNSIGNED: return EXIT_INTEGRITY;
	case SB_ERR_CHAIN: return EXIT_V_CHAIN;
	case SB_ERR_ROLLBACK: return EXIT_V_ROLLBACK;
	case SB_ERR_NOTFOUND: return EXIT_NOTFOUND;
	case SB_ERR_MISMATCH: return EXIT_MISMATCH;
	case SB_ERR_LOCKED: return EXIT_LOCKED;
	case SB_ERR_IO:
	case SB_ERR_DISKFULL:
	case SB_ERR_EXISTS: return EXIT_LOCAL;
	case SB_ERR_INTERRUPTED: return EXIT_INTERRUPTED;
	case SB_ERR_AUTH: return EXIT_AUTH;
	default: return EXIT_INTERNAL;
	}
}

const char *exit_status_text(int st)
{
	static const char *const text[] = {
		[EXIT_OK] = "ok",
		[EXIT_USAGE] = "usage error",
		[EXIT_PARTIAL] =
			"done, but some source files were unreadable or changed while read",
		[EXIT_KEY] = "a key is unknown, expired or unusable, or the secret key is missing",
		[EXIT_PASSPHRASE] = "wrong or missing passphrase",
		[EXIT_TARGET] = "the target is missing, unreachable, read-only or full",
		[EXIT_INTEGRITY] = "tampered or corrupt data, or a bad or foreign signature",
		[EXIT_NOTFOUND] = "no backups, or no such time or path",
		[EXIT_MISMATCH] = "the target holds another source's chain",
		[EXIT_LOCKED] = "another run holds the lock",
		[EXIT_LOCAL] = "local I/O error, a source filesystem gone, or a local disk full",
		[EXIT_INTERRUPTED] = "interrupted",
		[EXIT_INTERNAL] = "internal error",
		[EXIT_V_MODIFIED] = "a file's SHA-256 differs from its seal, or a seal was altered",
		[EXIT_V_TRUNCATED] = "a file's size differs from its seal",
		[EXIT_V_MISSING] = "a sealed file, or a set's seal, is gone",
		[EXIT_V_UNEXPECTED] = "a file that no seal lists",
		[EXIT_V_CHAIN] = "a broken link in the seals' hash chain",
		[EXIT_V_FOREIGN] = "a seal signed by another key",
		[EXIT_V_ROLLBACK] = "the newest seal this machine wrote is gone",
		[EXIT_V_CONTENT] = "the snapshot differs from SOURCE",
	};

	return st >= 0 && st < (int)(sizeof(text) / sizeof(text[0])) && text[st] ? text[st]
										 : "error";
}
