/* SPDX-License-Identifier: GPL-2.0-or-later */
/* progress.c - throttled progress reports and the terminal line (see progress.h). */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/log.h"
#include "sealbox/progress.h"

static double pr_interval = 0.5; /* seconds between two calls of the handler */
static sb_progress_fn pr_fn;
static void *pr_ctx;
static struct sb_progress pr;
static double pr_last;
static bool pr_called;
static int pr_shown_fd = -1; /* the tty line is on this fd */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sb_progress_start(sb_progress_fn fn, void *ctx, uint64_t total_files, uint64_t total_bytes)
{
	memset(&pr, 0, sizeof(pr));
	pr.start = pr_last = mono();
	pr.total_files = total_files;
	pr.total_bytes = total_bytes;
	pr_ctx = ctx;
	pr_called = false;
	pr_fn = fn;
}

void sb_progress_stop(void)
{
	sb_progress_fn fn = pr_fn;

	pr_fn = NULL;
	if (fn && pr_called) {
		pr.now = mono();
		pr.final = true;
		pr.current = NULL;
		pr.current_len = 0;
		fn(&pr, pr_ctx);
	}
}

void sb_progress_interval(double seconds) { pr_interval = seconds >= 0 ? seconds : 0.5; }

double sb_progress_poll(double longest)
{
	if (!pr_fn)
		return longest;
	return pr_interval < 0.01 ? 0.01 : pr_interval < longest ? pr_interval : longest;
}

void sb_progress_phase(const char *phase, uint64_t total_files, uint64_t total_bytes)
{
	if (!pr_fn)
		return;
	pr.phase = phase;
	pr.start = mono();
	pr.files = pr.bytes = pr.units = pr.total_units = 0;
	pr.total_files = total_files;
	pr.total_bytes = total_bytes;
	pr.current = NULL;
	pr.current_len = 0;
}

/* Call the handler if the last call is pr_interval ago. */
static void report(void)
{
	double now = mono();

	if (now - pr_last < pr_interval)
		return;
	pr_last = pr.now = now;
	pr_called = true;
	pr_fn(&pr, pr_ctx);
}

void sb_progress_units(uint64_t done, uint64_t total, const char *unit)
{
	if (!pr_fn)
		return;
	pr.units = done;
	pr.total_units = total;
	pr.unit = unit;
}

void sb_progress_update(uint64_t files, uint64_t bytes, const char *current, size_t current_len)
{
	if (!pr_fn)
		return;
	pr.files = files;
	pr.bytes = bytes;
	pr.current = current;
	pr.current_len = current_len;
	report();
}

/* 1234567 -> "1.2 MiB" */
static void human(uint64_t v, char *out, size_t size)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u)
		snprintf(out, size, "%.1f %s", d, unit[u]);
	else
		snprintf(out, size, "%llu B", (unsigned long long)v);
}

static void duration(double s, char *out, size_t size)
{
	unsigned long t = s < 0 ? 0 : (unsigned long)(s + 0.5);

	if (t >= 3600)
		snprintf(out, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, size, "%lu:%02lu", t / 60, t % 60);
}

void sb_progress_clear(void)
{
	if (pr_shown_fd >= 0) {
		(void)!write(pr_shown_fd, "\r\033[K", 4);
		pr_shown_fd = -1;
	}
}

/* The ETA of p as ", ETA m:ss" (empty: no honest one). */
static void eta(const struct sb_progress *p, double el, char *out, size_t size)
{
	double r = el > 0 ? (double)p->bytes / el : 0, left = -1;

	out[0] = '\0';
	if (p->total_bytes > p->bytes && r > 0)
		left = (double)(p->total_bytes - p->bytes) / r;
	else if (p->total_units > p->units && p->units > 0 && el > 0)
		left = el * (double)(p->total_units - p->units) / (double)p->units;
	if (left < 0 || size < 8)
		return;
	strcpy(out, ", ETA ");
	duration(left, out + 6, size - 6);
}

void sb_progress_tty(const struct sb_progress *p, void *ctx)
{
	int fd = ctx ? *(const int *)ctx : 2;
	char line[512], bytes[32], total[40] = "", rate[32], eta_s[32], files[48] = "";
	char units[64] = "", cur[256] = "";
	double el = p->now - p->start, r = el > 0 ? (double)p->bytes / el : 0;
	struct winsize ws;
	size_t width = 80, n;
	const char *name;
	int len;

	if (p->final) {
		sb_progress_clear();
		return;
	}
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		width = ws.ws_col < sizeof(line) - 1 ? ws.ws_col : sizeof(line) - 1;
	human(p->bytes, bytes, sizeof(bytes));
	human((uint64_t)r, rate, sizeof(rate));
	if (p->total_bytes >= p->bytes && p->total_bytes) {
		strcpy(total, " of ");
		human(p->total_bytes, total + 4, sizeof(total) - 4);
	}
	if (p->files || p->total_files)
		snprintf(files, sizeof(files), "%llu files, ", (unsigned long long)p->files);
	if (p->total_units && p->unit)
		snprintf(units, sizeof(units), ", %s %llu/%llu", p->unit,
			 (unsigned long long)p->units, (unsigned long long)p->total_units);
	eta(p, el, eta_s, sizeof(eta_s));
	len = snprintf(line, sizeof(line), "%s%s%s%s%s, %s/s%s%s", p->phase ? p->phase : "",
		       p->phase ? ": " : "", files, bytes, total, rate, units, eta_s);
	if (len < 0)
		return;
	n = (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1;
	if (p->current && p->current_len && n + 6 < width) {
		name = sb_log_str(p->current, p->current_len);
		snprintf(cur, sizeof(cur), "%s", name);
		/* keep the end of a long path: the file name matters most */
		if (strlen(cur) > width - n - 3) {
			size_t keep = width - n - 6, l = strlen(cur);

			memmove(cur + 3, cur + l - keep, keep + 1);
			memcpy(cur, "...", 3);
		}
		n += (size_t)snprintf(line + n, sizeof(line) - n, "  %s", cur);
	}
	if (n >= width)
		n = width - 1;
	(void)!write(fd, "\r", 1);
	(void)!write(fd, line, n);
	(void)!write(fd, "\033[K", 3);
	pr_shown_fd = fd;
}
