/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * browse.h - what `sealbox ls`, `find` and `diff` share (browse.c): their
 * options, opening the snapshots of a target as a view (snapview.h) through
 * the gate with the index cache, walking a snapshot's folders, and showing
 * an entry on a terminal or in JSON.
 *
 *   browse_option()... ; browse_open() ; browse_snap_at() ; browse_walk()...
 *   ; browse_close()
 */
#ifndef SEALBOX_CLI_BROWSE_H
#define SEALBOX_CLI_BROWSE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sealbox/path.h"
#include "sealbox/snapview.h"
#include "cmds.h"
#include "json.h"

#define BROWSE_USAGE_COMMON                                                                        \
	"  --target URL       file:///abs/path, a plain path, or\n"                                \
	"                     sftp://user@host[:port]/abs/path\n"                                  \
	"  --sign-key FPR     every file read must be signed by this key (required\n"              \
	"                     unless the chains are unencrypted, and so unsigned)\n"               \
	"  --secret-key FILE  the exported secret encryption key, only needed for a\n"             \
	"                     snapshot whose index is not cached yet (passphrase:\n"               \
	"                     $SEALBOX_SECRET_PASSPHRASE)\n"                                       \
	"  --index-dir DIR    the index cache, shared with mount\n"                                \
	"                     (default $XDG_CACHE_HOME/sealbox/mount-index)\n"                     \
	"  --archive-dir DIR  where backup remembers its newest seal (default: backup's)\n"        \
	"  --allow-unsigned, --allow-unsealed, --expect-seal HASH: as for restore\n"               \
	"  --ssh-key FILE, --known-hosts FILE, --accept-new-host-key: as for backup\n"             \
	"  --limit-download RATE, --limit-upload RATE: as for backup (indexes not cached\n"        \
	"                     yet are downloaded)\n"                                               \
	"  --json             one JSON document on stdout (see sealbox(1))\n"                      \
	"  -v, --verbose      more messages;  -q, --quiet  errors only\n"                          \
	"Options may come from the config file, sealbox.conf(5).\n"

#define BROWSE_SYNOPSIS                                                                            \
	"                  [--sign-key FPR] [--secret-key FILE] [--index-dir DIR]\n"               \
	"                  [--archive-dir DIR] [--ssh-key FILE] [--known-hosts FILE]\n"            \
	"                  [--accept-new-host-key] [--allow-unsigned] [--allow-unsealed]\n"        \
	"                  [--limit-download RATE] [--limit-upload RATE]\n"                        \
	"                  [--expect-seal HASH] [--json] [-v | -q]\n"

enum {
	O_SIGN = 256,
	O_SECRET,
	O_INDEX_DIR,
	O_ARCHIVE,
	O_JSON,
	O_TIME,
};

#define BROWSE_OPTIONS                                                                             \
	TARGET_OPTIONS, GATE_OPTIONS, {"sign-key", required_argument, NULL, O_SIGN},               \
		{"secret-key", required_argument, NULL, O_SECRET},                                 \
		{"index-dir", required_argument, NULL, O_INDEX_DIR},                               \
		{"archive-dir", required_argument, NULL, O_ARCHIVE},                               \
		{"json", no_argument, NULL, O_JSON}, {"verbose", no_argument, NULL, 'v'},          \
		{"quiet", no_argument, NULL, 'q'},                                                 \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

struct snap {
	time_t t;
	uint64_t root;
	char iso[21];
};

/* What a command needs of the target, opened by browse_open(). */
struct browse {
	const char *cmd;
	const char *target, *sign, *secret, *index_dir;
	struct sb_transport_opts to;
	struct gate_args ga;
	bool quiet;
	struct sb_crypto *user, *dec;
	struct sb_transport *t;
	struct sb_gate *g;
	struct sb_snapview *view;
	char sign_fpr[41], index[PATH_MAX], cache[PATH_MAX];
	struct snap *snaps; /* oldest first */
	size_t nsnaps;
};

/* One entry of a folder, kept after the view's lock is released. */
struct ent {
	char *name;
	size_t len;
	uint64_t id;
	char type;
	uint32_t mode;
	uid_t uid;
	gid_t gid;
	int64_t mtime;
	uint64_t size;
	char *link; /* symlinks only */
};

/* The options every browsing command takes; false: not one of them. */

/* Take option c (of BROWSE_OPTIONS) into b; false: not one of them. */
bool browse_option(struct browse *b, int c, const char *arg);
/*
 * Open b->target: list it and prove every chain through the gate with the
 * public keys; open the view on the index cache, reading with the secret key
 * (--secret-key) only the indexes not cached yet. Fills b->snaps. 0 or an
 * sb_err (logged); browse_close() in every case.
 */
int browse_open(struct browse *b);
void browse_close(struct browse *b);
/* The newest snapshot at or before t (NULL: none, logged naming given). */
const struct snap *browse_snap_at(struct browse *b, time_t t, const char *given);

/* The entries of folder dir, sorted by name (browse_ent_cmp); caller frees
 * them with browse_ents_free(). */
int browse_list(struct browse *b, uint64_t dir, struct ent **out, size_t *n);
void browse_ents_free(struct ent *e, size_t n);
int browse_ent_cmp(const void *a, const void *b);
/* fn for every entry of folder dir (path: prefix/name), by name, and with
 * recurse what a folder holds right after it; stops at fn's first error. */
typedef int (*browse_walk_fn)(void *ctx, const char *path, const struct ent *e);
int browse_walk(struct browse *b, uint64_t dir, const char *prefix, bool recurse, browse_walk_fn fn,
		void *ctx);

/* "file", "dir", "symlink", "fifo", "char", "block" */
const char *browse_type_name(char type);
/* "drwxr-xr-x" */
void browse_mode_string(char type, uint32_t mode, char out[11]);
/* A name on stdout: valid UTF-8 passes; controls, DEL, C1, '\\' and bytes
 * that are not UTF-8 become \\xNN (as in messages, log.h), whole. */
void browse_put_name(const char *s, size_t len);
/* The entry as a JSON object, left open for more members (json_end() it). */
void browse_json_ent(struct json *j, const char *path, const struct ent *e);

#endif
