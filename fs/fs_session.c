/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs_session.c - the FUSE session of `sealbox mount`: -o options, session,
 * signal handlers, mount, the multithreaded loop, unwinding. The
 * operations are in fs.c. Follows the shape of libfuse's hello_ll main:
 * parse, session, signals, mount, loop, unwind.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

/* The tree never changes during a mount: let the kernel cache for an hour. */
#define FS_TIMEOUT 3600.0
#define FS_MAX_THREADS 16
#define FS_IDLE_THREADS 4

enum { KEY_DISCARD, KEY_KEEP };

/* Ours: parsed here and removed; everything else goes to libfuse. */
static const struct fuse_opt fs_opts[] = {
	{"entry_timeout=%lf", offsetof(struct sb_fs, entry_timeout), 0},
	{"attr_timeout=%lf", offsetof(struct sb_fs, attr_timeout), 0},
	{"max_threads=%u", offsetof(struct sb_fs, max_threads), 0},
	{"max_idle_threads=%u", offsetof(struct sb_fs, max_idle_threads), 0},
	{"clone_fd", offsetof(struct sb_fs, clone_fd), 1},
	/* fstab noise (mount(8) and systemd pass these): not for the kernel */
	FUSE_OPT_KEY("_netdev", KEY_DISCARD),
	FUSE_OPT_KEY("auto", KEY_DISCARD),
	FUSE_OPT_KEY("noauto", KEY_DISCARD),
	FUSE_OPT_KEY("nofail", KEY_DISCARD),
	FUSE_OPT_KEY("user", KEY_DISCARD),
	FUSE_OPT_KEY("nouser", KEY_DISCARD),
	FUSE_OPT_KEY("users", KEY_DISCARD),
	FUSE_OPT_KEY("defaults", KEY_DISCARD),
	/* "rw" would be overridden by our trailing "ro" anyway */
	FUSE_OPT_KEY("rw", KEY_DISCARD),
	FUSE_OPT_END,
};

static int fs_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	return key == KEY_DISCARD ? 0 : 1;
}

static void fuse_log_to_sb(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (!n)
		return;
	sb_log(level <= FUSE_LOG_ERR	   ? SB_LOG_ERR
	       : level == FUSE_LOG_WARNING ? SB_LOG_WARN
	       : level <= FUSE_LOG_INFO	   ? SB_LOG_INFO
					   : SB_LOG_DEBUG,
	       "%s", msg);
}

void sb_fs_route_fuse_log(void) { fuse_set_log_func(fuse_log_to_sb); }

/* argv for libfuse: defaults first, the user's -o next, our "ro" last. */
static int build_args(struct sb_fs *fs, const struct sb_fs_opts *o, struct fuse_args *args)
{
	const char *const *p;
	int rc = 0;

	rc |= fuse_opt_add_arg(args, "sealbox");
	rc |= fuse_opt_add_arg(args, "-o");
	rc |= fuse_opt_add_arg(args, "fsname=sealbox,subtype=sealbox,default_permissions");
	for (p = o->mount_opts; p && *p && !rc; p++) {
		rc |= fuse_opt_add_arg(args, "-o");
		rc |= fuse_opt_add_arg(args, *p);
	}
	rc |= fuse_opt_add_arg(args, "-o");
	rc |= fuse_opt_add_arg(args, "ro");
	if (o->debug)
		rc |= fuse_opt_add_arg(args, "-d");
	if (rc)
		return SB_ERR_NOMEM;
	if (fuse_opt_parse(args, fs, fs_opts, fs_opt_proc) == -1)
		return SB_ERR_PARAM; /* libfuse said why */
	if (fs->entry_timeout < 0 || fs->attr_timeout < 0 || !fs->max_threads) {
		sb_error("mount: timeouts must be >= 0 and max_threads >= 1");
		return SB_ERR_PARAM;
	}
	return 0;
}

int sb_fs_new(const struct sb_fs_opts *o, struct sb_fs **out)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct sb_fs *fs;
	int rc;

	*out = NULL;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return SB_ERR_NOMEM;
	if (fs_versions_init(&fs->versions)) {
		free(fs);
		return SB_ERR_NOMEM;
	}
	fs->view = o->view;
	fs->entry_timeout = FS_TIMEOUT;
	fs->attr_timeout = FS_TIMEOUT;
	fs->max_threads = FS_MAX_THREADS;
	fs->max_idle_threads = FS_IDLE_THREADS;
	fs->debug = o->debug;
	fs->mountpoint = strdup(o->mountpoint);
	if (!fs->mountpoint || fs_inodes_init(&fs->inodes)) {
		rc = SB_ERR_NOMEM;
		goto fail;
	}
	if ((rc = build_args(fs, o, &args)))
		goto fail;
	fs->se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
	if (!fs->se) {
		sb_error("mount: cannot start a FUSE session (bad -o option?)");
		rc = SB_ERR_PARAM;
		goto fail;
	}
	fuse_opt_free_args(&args);
	*out = fs;
	return 0;
fail:
	fuse_opt_free_args(&args);
	sb_fs_free(fs);
	return rc;
}

int sb_fs_mount(struct sb_fs *fs)
{
	/* libfuse installs its handlers only over the default ones */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(fs->se)) {
		sb_error("mount: cannot install signal handlers");
		return SB_ERR_INTERNAL;
	}
	fs->signals = 1;
	if (fuse_session_mount(fs->se, fs->mountpoint)) {
		sb_error("cannot mount on %s", sb_log_str(fs->mountpoint, strlen(fs->mountpoint)));
		return SB_ERR_IO;
	}
	fs->mounted = 1;
	return 0;
}

int sb_fs_run(struct sb_fs *fs)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int rc;

	if (!cfg)
		return SB_ERR_NOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)fs->clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, fs->max_threads);
	fuse_loop_cfg_set_idle_threads(cfg, fs->max_idle_threads);
	rc = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	if (rc < 0) {
		sb_error("mount: the FUSE loop failed: %s", strerror(-rc));
		return SB_ERR_IO;
	}
	if (rc > 0)
		sb_info("mount: %s received, unmounting", strsignal(rc));
	return 0;
}

void sb_fs_free(struct sb_fs *fs)
{
	if (!fs)
		return;
	if (fs->mounted)
		fuse_session_unmount(fs->se);
	if (fs->signals)
		fuse_remove_signal_handlers(fs->se);
	if (fs->se)
		fuse_session_destroy(fs->se);
	if (fs->inodes.buckets && fs->debug)
		sb_info("mount: %zu node(s) still referenced at unmount",
			fs_inode_count(&fs->inodes));
	fs_inodes_release(&fs->inodes);
	fs_versions_release(&fs->versions);
	free(fs->mountpoint);
	free(fs);
}
