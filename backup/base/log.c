/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c - sb_log(): level filter, replaceable handler, byte-safe rendering. */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sealbox/log.h"
#include "sealbox/progress.h"

static enum sb_log_level log_max = SB_LOG_NOTICE;
static sb_log_fn log_fn;
static void *log_ctx;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};

static void log_default(enum sb_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	sb_progress_clear(); /* a message goes on a line of its own */
	if (level <= SB_LOG_WARN)
		fprintf(stderr, "sealbox: %s: %s\n", level_names[level], msg);
	else
		fprintf(stderr, "sealbox: %s\n", msg);
}

void sb_log_set_level(enum sb_log_level max) { log_max = max; }

void sb_log_set_handler(sb_log_fn fn, void *ctx)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_ctx = ctx;
	pthread_mutex_unlock(&log_lock);
}

size_t sb_utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A C1 control (U+0080..U+009F) encoded in the valid UTF-8 sequence at p? */
static bool c1_control(const unsigned char *p, size_t l)
{
	return l == 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
}

/*
 * The one sanitizer for bytes a server chose (file names, messages): C0 and
 * C1 controls, DEL and invalid UTF-8 become \xNN; with esc_backslash, '\'
 * too, so that the output names the input unambiguously. At most size - 1
 * bytes into out ("..." when cut).
 */
static void sanitize(const unsigned char *p, size_t len, bool esc_backslash, char *out, size_t size)
{
	size_t o = 0, i = 0, l;

	while (i < len && o + 8 < size) {
		l = sb_utf8_len(p + i, len - i);
		if (l == 1 && p[i] >= 0x20 && p[i] != 0x7f && (p[i] != '\\' || !esc_backslash)) {
			out[o++] = (char)p[i++];
		} else if (l > 1 && !c1_control(p + i, l)) {
			memcpy(out + o, p + i, l);
			o += l;
			i += l;
		} else {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i++]);
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Every message passes the sanitizer: no name a server chose can drive the terminal. */
void sb_log(enum sb_log_level level, const char *fmt, ...)
{
	char msg[2048], safe[2048 + 64];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sanitize((const unsigned char *)msg, strlen(msg), false, safe, sizeof(safe));
	pthread_mutex_lock(&log_lock);
	(log_fn ? log_fn : log_default)(level, safe, log_ctx);
	pthread_mutex_unlock(&log_lock);
}

const char *sb_log_str(const char *bytes, size_t len)
{
	static __thread char ring[4][1024];
	static __thread unsigned next;
	char *out = ring[next++ % 4];

	sanitize((const unsigned char *)bytes, len, true, out, sizeof(ring[0]));
	return out;
}
