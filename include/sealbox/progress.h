/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * progress.h - progress reports of long work (backup, restore), for a
 * progress line on a terminal.
 *
 * The work calls sb_progress_update() after each object with its running
 * totals; that is a no-op (one load) until a front end installs a handler
 * with sb_progress_start(). The handler runs at most every 0.5 s (see
 * sb_progress_interval()), and once more from sb_progress_stop(), in the
 * thread that does the work.
 *
 * Long work goes through phases (a backup reads its source, then waits for
 * the last volumes to be encrypted and uploaded): sb_progress_phase() names
 * the next one and resets the counters and the clock, so that the rate and
 * the ETA are the phase's own. Where bytes cannot be totalled in advance,
 * sb_progress_units() gives another measure (volumes read of a known count)
 * for the ETA; without either total there is no ETA.
 */
#ifndef SEALBOX_PROGRESS_H
#define SEALBOX_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sb_progress {
	double start, now;		   /* monotonic seconds */
	uint64_t files, bytes;		   /* done so far */
	uint64_t total_files, total_bytes; /* expected, 0: unknown */
	const char *current;		   /* the object just done (not NUL-terminated) */
	size_t current_len;
	const char *phase;	     /* "reading", "uploading"...; NULL: none */
	uint64_t units, total_units; /* e.g. volumes read of total_units; 0: none */
	const char *unit;	     /* "vol" */
	bool final;		     /* the last call, from sb_progress_stop() */
};

typedef void (*sb_progress_fn)(const struct sb_progress *p, void *ctx);

/* Install fn (NULL: none) and reset the counters; totals may be 0 (unknown). */
void sb_progress_start(sb_progress_fn fn, void *ctx, uint64_t total_files, uint64_t total_bytes);
/* Call fn a last time (final = true) if it ran before, then uninstall it. */
void sb_progress_stop(void);
/* Seconds between two calls of the handler (default 0.5). */
void sb_progress_interval(double seconds);
/*
 * How long work that polls for progress (waiting on other threads) should
 * sleep between two updates: the interval, at least 10 ms, at most longest.
 */
double sb_progress_poll(double longest);
/* Begin a phase (static name): counters, totals and the clock restart. */
void sb_progress_phase(const char *phase, uint64_t total_files, uint64_t total_bytes);
/* done of total units (unit: a static name, e.g. "vol"), shown from the next update on. */
void sb_progress_units(uint64_t done, uint64_t total, const char *unit);
/* Running totals after one more object. */
void sb_progress_update(uint64_t files, uint64_t bytes, const char *current, size_t current_len);

/*
 * A ready-made handler: one line on the terminal fd (an int * in ctx),
 * "\r... files, ... , rate, ETA, current file", cleared when final.
 * sb_progress_clear() erases the line (before other output) if shown.
 */
void sb_progress_tty(const struct sb_progress *p, void *ctx);
void sb_progress_clear(void);

#endif
