/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto_pass.c - passphrases for gpg: the caller's (sb_crypto_set_passphrase),
 * else the environment variable, else a prompt on the terminal (when
 * allowed). They pass through fixed stack buffers, wiped after use, and are
 * never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gpgme.h>

#include "crypto_impl.h"
#include "sealbox/crypto.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

#define PP_MAX 1024 /* longest passphrase accepted */

static atomic_bool tty_prompt_allowed = true;

void sb_crypto_set_tty_prompt(bool allow) { atomic_store(&tty_prompt_allowed, allow); }

/* Process-wide passphrases given by the caller, by variable; see crypto.h. */
static _Atomic(const char *) pp_given_sign, pp_given_secret;

static _Atomic(const char *) *pp_given_slot(const char *env)
{
	if (!strcmp(env, "SEALBOX_SIGN_PASSPHRASE"))
		return &pp_given_sign;
	if (!strcmp(env, "SEALBOX_SECRET_PASSPHRASE"))
		return &pp_given_secret;
	return NULL;
}

void sb_crypto_set_passphrase(const char *env, const char *pass)
{
	_Atomic(const char *) *slot = pp_given_slot(env);

	if (slot)
		atomic_store(slot, pass);
}

/* The caller's passphrase for env, else the variable itself, else NULL. */
static const char *pp_given(const char *env)
{
	_Atomic(const char *) *slot = pp_given_slot(env);
	const char *p = slot ? atomic_load(slot) : NULL;

	return p ? p : getenv(env);
}

int sb_crypto_read_tty(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	bool restore = false;
	size_t n = 0;
	char ch;
	int fd;

	if (!size || !atomic_load(&tty_prompt_allowed))
		return SB_ERR_PASSPHRASE;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return SB_ERR_PASSPHRASE;
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	dprintf(fd, "%s", prompt);
	for (;;) {
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n' || ch == '\r')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	explicit_bzero(&ch, sizeof(ch));
	return 0;
}

static int tty_read_pass(const char *hint, char *buf, size_t size)
{
	char prompt[200];

	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", hint);
	return sb_crypto_read_tty(prompt, buf, size) ? -1 : 0;
}

gpgme_error_t crypto_pp_cb(void *hook, const char *uid_hint, const char *info, int prev_was_bad,
			   int fd)
{
	struct pp_state *pp = hook;
	const char *hint = uid_hint ? sb_log_str(uid_hint, strlen(uid_hint)) : "the key";
	const char *env = pp_given(pp->env);
	char pass[PP_MAX];
	size_t len;
	int bad;

	(void)info;
	snprintf(pp->hint, sizeof(pp->hint), "%s", hint);
	if (prev_was_bad) {
		pp->err = SB_ERR_PASSPHRASE;
		snprintf(pp->msg, sizeof(pp->msg), "wrong passphrase for %s", hint);
		return gpg_error(GPG_ERR_CANCELED);
	}
	if (env) {
		snprintf(pass, sizeof(pass), "%s", env);
	} else if (tty_read_pass(hint, pass, sizeof(pass))) {
		pp->err = SB_ERR_PASSPHRASE;
		snprintf(pp->msg, sizeof(pp->msg), "no passphrase for %s: set %s", hint, pp->env);
		return gpg_error(GPG_ERR_CANCELED);
	}
	len = strlen(pass);
	bad = gpgme_io_writen(fd, pass, len) || gpgme_io_writen(fd, "\n", 1);
	explicit_bzero(pass, sizeof(pass));
	return bad ? gpgme_error_from_syserror() : 0;
}
