/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmds.h - the sealbox commands and what they share: exit statuses, opening
 * the target and the keyrings, signal handling. Only the CLI calls exit().
 */
#ifndef SEALBOX_CLI_CMDS_H
#define SEALBOX_CLI_CMDS_H

#include <getopt.h>
#include <stdbool.h>

#include "sealbox/crypto.h"
#include "sealbox/gate.h"
#include "sealbox/transport.h"

/* Exit statuses, documented in sealbox(1). */
enum exit_status {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_PARTIAL = 2, /* done, but some source files were unreadable */
	EXIT_KEY = 3,	  /* key unknown, expired, unusable; secret key missing */
	EXIT_PASSPHRASE = 4,
	EXIT_TARGET = 5,    /* target missing, unreachable, read-only, full */
	EXIT_INTEGRITY = 6, /* tampered or corrupt data, bad or foreign signature */
	EXIT_NOTFOUND = 7,  /* no backups, no such time or path */
	EXIT_MISMATCH = 8,  /* target holds another source's chain */
	EXIT_LOCKED = 9,
	EXIT_LOCAL = 10, /* local I/O: destination, archive dir */
	EXIT_INTERRUPTED = 11,
	EXIT_INTERNAL = 12,
	/* sealbox verify: one per class of problem (worst first: foreign,
	   modified, chain, rollback, missing, truncated, unexpected) */
	EXIT_V_MODIFIED = 13,	/* a file's SHA-256 differs from its seal; a seal altered */
	EXIT_V_TRUNCATED = 14,	/* a file's size differs from its seal */
	EXIT_V_MISSING = 15,	/* a sealed file, or a set's seal, is gone */
	EXIT_V_UNEXPECTED = 16, /* a file no seal lists */
	EXIT_V_CHAIN = 17,	/* broken link in the seals' hash chain; another backup's set */
	EXIT_V_FOREIGN = 18,	/* a seal signed by another key */
	EXIT_V_ROLLBACK = 19,	/* the newest seal this machine wrote is gone */
	EXIT_V_CONTENT = 20,	/* --content: the snapshot differs from SOURCE */
	EXIT_AUTH = 21,		/* the target refused the credentials (s3: key, clock) */
};

int cmd_backup(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_find(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_snapshots(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Each command's long options, for the config file (config.h). */
extern const struct option backup_opts[], mount_opts[], prune_opts[], restore_opts[],
	snapshots_opts[], verify_opts[], ls_opts[], find_opts[], diff_opts[];

/* Read the config file's options for a subcommand with options mine (main.c). */
struct option;
int config_apply_for(const struct option *mine, int *argc, char ***argv);

/* sb_err -> exit status */
int exit_status(int err);
/* What an exit status means, in a few words (sealbox(1) EXIT STATUS). */
const char *exit_status_text(int st);
/* Print "sealbox: error: <msg>" for usage problems and return EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The options of every command that reaches a target (getopt_long values). */
enum {
	OPT_TARGET = 1000,
	OPT_SSH_KEY,
	OPT_KNOWN_HOSTS,
	OPT_ACCEPT_HOST_KEY,
	OPT_S3_ENDPOINT = 1020,
	OPT_S3_ADDRESSING,
	OPT_S3_RETRIES,
	OPT_S3_PART_SIZE,
	OPT_S3_TIMEOUT,
	OPT_LIMIT_UPLOAD = 1030,
	OPT_LIMIT_DOWNLOAD
};
#define TARGET_OPTIONS                                                                             \
	{"target", required_argument, NULL, OPT_TARGET},                                           \
		{"ssh-key", required_argument, NULL, OPT_SSH_KEY},                                 \
		{"known-hosts", required_argument, NULL, OPT_KNOWN_HOSTS},                         \
		{"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},                         \
		{"s3-addressing", required_argument, NULL, OPT_S3_ADDRESSING},                     \
		{"s3-retries", required_argument, NULL, OPT_S3_RETRIES},                           \
		{"s3-part-size", required_argument, NULL, OPT_S3_PART_SIZE},                       \
		{"s3-timeout", required_argument, NULL, OPT_S3_TIMEOUT},                           \
		{"limit-upload", required_argument, NULL, OPT_LIMIT_UPLOAD},                       \
		{"limit-download", required_argument, NULL, OPT_LIMIT_DOWNLOAD},                   \
	{                                                                                          \
		"accept-new-host-key", no_argument, NULL, OPT_ACCEPT_HOST_KEY                      \
	}

/* Take option c if it is one of TARGET_OPTIONS; false otherwise, and for
 * --limit-upload and --limit-download, which go to limit_option. */
bool target_option(int c, const char *arg, const char **url, struct sb_transport_opts *to);
/* --limit-upload / --limit-download RATE (OPT_LIMIT_*): set the process's
 * bandwidth limit (throttle.h). 0, or EXIT_USAGE after one line naming the
 * option and the value. */
int limit_option(const char *cmd, int c, const char *arg);
#define LIMIT_RATE_HELP                                                                            \
	"bytes per second, such as 500K, 2M or 1.5MiB/s (K, M, G: 1024-based), at least 1K, or 0 " \
	"for no limit"

/* The options of every command that reads what is on a target (gate.h). */
enum { OPT_ALLOW_UNSIGNED = 1010, OPT_ALLOW_UNSEALED, OPT_EXPECT_SEAL };
#define GATE_OPTIONS                                                                               \
	{"allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED},                                 \
		{"allow-unsealed", no_argument, NULL, OPT_ALLOW_UNSEALED},                         \
	{                                                                                          \
		"expect-seal", required_argument, NULL, OPT_EXPECT_SEAL                            \
	}
struct gate_args {
	bool allow_unsigned, allow_unsealed;
	const char *expect_seal;
	const char *archive_dir; /* NULL: the target's default one */
	bool own_rollback;	 /* the caller reports rollback itself (verify) */
	bool make_record;	 /* make the archive dir for its record of proven
				    plaintext (restore, mount); else only use one */
};
bool gate_option(int c, const char *arg, struct gate_args *ga);
/* Open the gate on t: rollback is checked against the archive dir's record
 * of the newest seal this machine wrote, when there is one (else a note
 * says it cannot be), and against --expect-seal. c: checks signatures and
 * decrypts (may be NULL for an unencrypted chain). */
int open_gate(struct sb_transport *t, struct sb_crypto *c, const char *sign_fpr,
	      const struct gate_args *ga, struct sb_gate **out);

/* getopt_long returned '?' or ':': one clear line, EXIT_USAGE. */
int bad_option(const char *cmd, char **argv);

/* Install SIGINT/SIGTERM/SIGHUP handlers that remove ephemeral keyrings. */
void install_signal_handlers(void);

/* Open the user's keyring ($GNUPGHOME). */
int open_user_crypto(struct sb_crypto **out);
/* Is the secret key file (of --secret-key or the config) not there, so that a
 * command that can do without it goes on? Says so once (info), with what
 * the command then leaves out. */
bool secret_key_unplugged(const char *file, const char *without_it);
/* A keyring that can decrypt: the ephemeral one for secret_key_file (with
 * the public halves of sign_fpr and enc_fpr copied in), else the user's. */
int open_decrypt_crypto(const char *secret_key_file, const char *sign_fpr, const char *enc_fpr,
			struct sb_crypto **out);

/* The mount's index cache folder ($XDG_CACHE_HOME/sealbox/mount-index),
 * shared by ls, find and diff. 0 or SB_ERR_PARAM (logged). */
int mount_index_dir(char *out, size_t size);

/* "--volsize" etc.: a positive integer; false when bad. */
bool parse_uint(const char *s, unsigned long long *out);

#endif
