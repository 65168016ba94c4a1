/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - diagnostics for libsealbox and its front ends.
 *
 * sb_log() formats one line and hands it to the current handler; the default
 * handler writes "sealbox: <level>: <msg>\n" to stderr. The CLI may install a
 * handler for --log-file/syslog, the mount installs one for syslog when it
 * daemonizes. Messages never contain passphrases or key material.
 */
#ifndef SEALBOX_LOG_H
#define SEALBOX_LOG_H

#include <stddef.h>

enum sb_log_level {
	SB_LOG_ERR = 0,
	SB_LOG_WARN = 1,
	SB_LOG_NOTICE = 2,
	SB_LOG_INFO = 3,
	SB_LOG_DEBUG = 4,
};

typedef void (*sb_log_fn)(enum sb_log_level level, const char *msg, void *ctx);

/* Log one message (no trailing newline needed). Thread-safe. The formatted
 * message passes the sanitizer of sb_log_str() (backslashes left as they
 * are), so a name a server chose cannot drive the terminal or forge lines. */
void sb_log(enum sb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Messages above max are dropped (default SB_LOG_NOTICE). */
void sb_log_set_level(enum sb_log_level max);

/* Replace the handler; NULL restores the default stderr handler. */
void sb_log_set_handler(sb_log_fn fn, void *ctx);

#define sb_error(...) sb_log(SB_LOG_ERR, __VA_ARGS__)
#define sb_warn(...) sb_log(SB_LOG_WARN, __VA_ARGS__)
#define sb_notice(...) sb_log(SB_LOG_NOTICE, __VA_ARGS__)
#define sb_info(...) sb_log(SB_LOG_INFO, __VA_ARGS__)
#ifdef SB_DEBUG
#define sb_debug(...) sb_log(SB_LOG_DEBUG, __VA_ARGS__)
#else
#define sb_debug(...) ((void)0)
#endif

/*
 * Render bytes (a path, a name from the target) for a log line: printable
 * ASCII and valid UTF-8 pass; C0 and C1 controls, DEL, '\\' and invalid
 * UTF-8 become \xNN. Returns a
 * thread-local buffer valid until the 4th next call in the same thread.
 */
const char *sb_log_str(const char *bytes, size_t len);

/* Length of the valid UTF-8 sequence at p (n > 0 bytes there): 1 to 4, or 0
 * when invalid (overlong, surrogate, beyond U+10FFFF, cut short). */
size_t sb_utf8_len(const unsigned char *p, size_t n);

#endif
