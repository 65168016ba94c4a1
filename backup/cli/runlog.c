/* SPDX-License-Identifier: GPL-2.0-or-later */
/* runlog.c - log file, syslog, progress line and locks of a run (see runlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/log.h"
#include "sealbox/progress.h"
#include "sealbox/timefmt.h"
#include "cmds.h"
#include "json.h"
#include "runlog.h"

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};

static struct {
	const char *cmd;
	int fd; /* the log file, -1 */
	bool syslog;
	char first_error[512];
} rl = {.fd = -1};

static void run_handler(enum sb_log_level level, const char *msg, void *ctx)
{
	sb_progress_clear();
	cli_log_note((int)level, msg);
	if (level <= SB_LOG_WARN)
		fprintf(stderr, "sealbox: %s: %s\n", level_names[level], msg);
	else
		fprintf(stderr, "sealbox: %s\n", msg);
	if (level <= SB_LOG_WARN && rl.fd >= 0) {
		/* each problem on a line of its own (an unreadable file, say), then the
		   run's summary line (runlog_end) */
		char line[2300], when[21];
		int n;

		sb_time_format_iso(time(NULL), when);
		n = snprintf(line, sizeof(line), "%s %s[%ld]: %s: %s\n", when, rl.cmd,
			     (long)getpid(), level_names[level], msg);
		if (n > 0 && (size_t)n < sizeof(line) && write(rl.fd, line, (size_t)n) != n) {
			/* reported at the summary line's write */
		}
	}
	if (level == SB_LOG_ERR) {
		if (!rl.first_error[0])
			snprintf(rl.first_error, sizeof(rl.first_error), "%s", msg);
		if (rl.syslog)
			syslog(LOG_ERR, "%s: error: %s", rl.cmd, msg);
	}
}

int runlog_begin(const char *cmd, const struct runlog_opts *o)
{
	rl.cmd = cmd;
	rl.syslog = o->syslog;
	rl.first_error[0] = '\0';
	if (o->log_file) {
		rl.fd = open(o->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
			     0600);
		if (rl.fd < 0) {
			sb_error("cannot open log file %s: %s",
				 sb_log_str(o->log_file, strlen(o->log_file)), strerror(errno));
			return EXIT_LOCAL;
		}
	}
	if (rl.syslog)
		openlog("sealbox", LOG_PID, LOG_USER);
	sb_log_set_handler(run_handler, NULL);
	return 0;
}

static const char *exit_name(int st)
{
	static const char *const names[] = {
		"ok",	     "usage",	  "partial",   "key",	      "passphrase", "target",
		"integrity", "not found", "mismatch",  "locked",      "local",	    "interrupted",
		"internal",  "modified",  "truncated", "missing",     "unexpected", "chain",
		"foreign",   "rollback",  "content",   "credentials",
	};

	return st >= 0 && st < (int)(sizeof(names) / sizeof(names[0])) ? names[st] : "?";
}

void runlog_end(int st, const char *summary)
{
	char line[2048], when[21];
	int n;

	sb_time_format_iso(time(NULL), when);
	n = snprintf(line, sizeof(line), "%s %s[%ld]: exit %d (%s)%s%s%s%s\n", when, rl.cmd,
		     (long)getpid(), st, exit_name(st), rl.first_error[0] ? ": " : "",
		     rl.first_error, summary && *summary ? "; " : "", summary ? summary : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (rl.fd >= 0) {
		if (write(rl.fd, line, (size_t)n) != n)
			fprintf(stderr, "sealbox: warning: cannot write the log file: %s\n",
				strerror(errno));
		close(rl.fd);
		rl.fd = -1;
	}
	if (rl.syslog) {
		line[n - 1] = '\0';
		/* syslog stamps the time and pid itself */
		syslog(st ? LOG_ERR : LOG_INFO, "%s", line + strlen(when) + 1);
		closelog();
	}
	cli_log_handler_reset();
}

/* ---- progress ---- */

static int progress_fd = STDERR_FILENO;

void progress_begin(bool quiet, const char *phase, unsigned long long total_files,
		    unsigned long long total_bytes)
{
	const char *iv = getenv("SEALBOX_PROGRESS_INTERVAL");

	if (quiet || !isatty(STDERR_FILENO))
		return;
	if (iv && *iv)
		sb_progress_interval(strtod(iv, NULL));
	sb_progress_start(sb_progress_tty, &progress_fd, total_files, total_bytes);
	sb_progress_phase(phase, total_files, total_bytes);
}

void progress_end(void) { sb_progress_stop(); }

/* ---- locks ---- */

int run_locks_take(const char *archive_dir, struct sb_transport *t, struct run_locks *l)
{
	const char *local = sb_transport_local_path(t);
	char what[4200];
	int rc;

	l->archive = l->target = NULL;
	if ((rc = sb_mkdirs(archive_dir, 0700)))
		return rc;
	snprintf(what, sizeof(what), "archive dir %s", archive_dir);
	if ((rc = sb_lock_take(archive_dir, "sealbox.lock", what, false, &l->archive)))
		return rc;
	if (local) {
		snprintf(what, sizeof(what), "target %s", local);
		rc = sb_lock_take(local, ".sealbox.lock", what, true, &l->target);
		if (rc == SB_ERR_LOCKED) {
			run_locks_release(l);
			return rc;
		}
		/* cannot write there: the run will say so itself */
		rc = 0;
	}
	return rc;
}

void run_locks_release(struct run_locks *l)
{
	sb_lock_release(l->target);
	sb_lock_release(l->archive);
	l->archive = l->target = NULL;
}
