/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * runlog.h - what a cron-run command needs around its work: messages that
 * do not garble the progress line, --log-file and --syslog (one line per
 * run, plus errors to syslog), the progress line itself, and the locks.
 */
#ifndef SEALBOX_CLI_RUNLOG_H
#define SEALBOX_CLI_RUNLOG_H

#include <stdbool.h>

#include "sealbox/lock.h"
#include "sealbox/transport.h"

struct runlog_opts {
	const char *log_file; /* --log-file FILE, or NULL */
	bool syslog;	      /* --syslog */
};

/*
 * Install the message handler (stderr as before; errors also to syslog)
 * and open the log file. 0 or an exit status (the log file cannot be
 * opened: EXIT_LOCAL, reported).
 */
int runlog_begin(const char *cmd, const struct runlog_opts *o);
/*
 * One line for the run: "TIME COMMAND: exit N (name)[: first error][; summary]"
 * to the log file and syslog; then the default handler is back.
 */
void runlog_end(int exit_status, const char *summary);

/* The progress line on stderr, when it is a terminal and not quiet; phase
 * names the first phase of the work (progress.h), totals 0 when unknown. */
void progress_begin(bool quiet, const char *phase, unsigned long long total_files,
		    unsigned long long total_bytes);
void progress_end(void);

/*
 * The run's locks: archive_dir/sealbox.lock (the folder is made 0700 if
 * missing) and, for a local target, TARGET/.sealbox.lock (best effort: a
 * read-only target is left to fail on its own). 0 or an sb_err.
 */
struct run_locks {
	struct sb_lock *archive, *target;
};
int run_locks_take(const char *archive_dir, struct sb_transport *t, struct run_locks *l);
void run_locks_release(struct run_locks *l);

#endif
