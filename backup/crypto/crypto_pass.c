/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto_pass.c - passphrases for gpg: the caller's (sb_crypto_set_passphrase),
 * else the one its variable held when the program started, else a prompt on
 * the terminal (when allowed). The variables are taken out of the
 * environment first thing (sb_crypto_take_env_passphrases), so that no gpg,
 * and no gpg-agent that outlives us, inherits them; their values live in one
 * locked page, wiped at exit. They pass through fixed stack buffers, wiped
 * after use, and are never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* ---- the variables, taken out of the environment ---- */

extern char **environ;

static const char *const pp_env_names[] = {"SEALBOX_SIGN_PASSPHRASE", "SEALBOX_SECRET_PASSPHRASE"};
#define PP_ENV_N (sizeof(pp_env_names) / sizeof(pp_env_names[0]))

static struct {
	char *page;		/* mmap'ed, mlock'ed if allowed, not dumped; NULL: none */
	size_t size;		/* bytes mapped */
	char *value[PP_ENV_N];	/* in page; NULL: the variable was not set */
	bool atexit_registered; /* sb_crypto_wipe_passphrases runs at exit */
} pp_env;

/*
 * The initial environment block of the process ([start, end) in
 * /proc/self/stat, fields 50 and 51): the bytes /proc/PID/environ shows, which
 * unsetenv() leaves in place. false when unknown.
 */
static bool env_block(uintptr_t *start, uintptr_t *end)
{
	char buf[1024], *p, *q;
	unsigned long long v[2] = {0, 0};
	ssize_t n;
	int fd, field;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p)
		return false;
	p++;
	for (field = 3; field <= 51; field++) {
		q = p + strspn(p, " ");
		if (!*q)
			return false;
		if (field >= 50)
			v[field - 50] = strtoull(q, NULL, 10);
		p = q + strcspn(q, " ");
	}
	*start = (uintptr_t)v[0];
	*end = (uintptr_t)v[1];
	return *start && *start < *end;
}

/* Overwrite the values of every "name=..." of environ that lies in the
 * initial block (strings setenv() made belong to libc: left to unsetenv). */
static void env_scrub(const char *name)
{
	size_t nlen = strlen(name);
	uintptr_t start, end, a;
	char **e;

	if (!environ || !env_block(&start, &end))
		return;
	for (e = environ; *e; e++) {
		a = (uintptr_t)*e;
		if (a < start || a >= end || strncmp(*e, name, nlen) || (*e)[nlen] != '=')
			continue;
		explicit_bzero(*e + nlen + 1, strlen(*e + nlen + 1));
	}
}

static int pp_env_index(const char *env)
{
	size_t i;

	for (i = 0; env && i < PP_ENV_N; i++)
		if (!strcmp(env, pp_env_names[i]))
			return (int)i;
	return -1;
}

void sb_crypto_wipe_passphrases(void)
{
	if (pp_env.page) {
		explicit_bzero(pp_env.page, pp_env.size);
		munlock(pp_env.page, pp_env.size);
		munmap(pp_env.page, pp_env.size);
	}
	memset(pp_env.value, 0, sizeof(pp_env.value));
	pp_env.page = NULL;
	pp_env.size = 0;
}

void crypto_pp_wipe_quick(void)
{
	if (pp_env.page)
		explicit_bzero(pp_env.page, pp_env.size);
}

int sb_crypto_take_env_passphrases(void)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	const char *v[PP_ENV_N];
	size_t i, need = 0, off = 0, len;
	int rc = 0;

	sb_crypto_wipe_passphrases();
	if (!pp_env.atexit_registered && atexit(sb_crypto_wipe_passphrases) == 0)
		pp_env.atexit_registered = true;
	for (i = 0; i < PP_ENV_N; i++) {
		v[i] = getenv(pp_env_names[i]);
		need += v[i] ? strlen(v[i]) + 1 : 0;
	}
	if (need) {
		if (pagesize <= 0)
			pagesize = 4096;
		pp_env.size = (need + (size_t)pagesize - 1) / (size_t)pagesize * (size_t)pagesize;
		pp_env.page = mmap(NULL, pp_env.size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pp_env.page == MAP_FAILED) {
			pp_env.page = NULL;
			pp_env.size = 0;
			sb_error("cannot keep the passphrases from the environment: %s",
				 strerror(errno));
			rc = SB_ERR_NOMEM;
		} else {
			(void)mlock(pp_env.page, pp_env.size); /* best effort (RLIMIT_MEMLOCK) */
			(void)madvise(pp_env.page, pp_env.size, MADV_DONTDUMP);
		}
	}
	for (i = 0; i < PP_ENV_N; i++) {
		if (!v[i])
			continue;
		len = strlen(v[i]);
		if (pp_env.page) {
			memcpy(pp_env.page + off, v[i], len + 1);
			pp_env.value[i] = pp_env.page + off;
			off += len + 1;
		}
		env_scrub(pp_env_names[i]);
		unsetenv(pp_env_names[i]);
	}
	return rc;
}

const char *sb_crypto_env_passphrase(const char *env)
{
	int i = pp_env_index(env);

	return i < 0 ? NULL : pp_env.value[i];
}

/* The caller's passphrase for env, else the variable's, else NULL. */
static const char *pp_given(const char *env)
{
	_Atomic(const char *) *slot = pp_given_slot(env);
	const char *p = slot ? atomic_load(slot) : NULL;

	return p ? p : sb_crypto_env_passphrase(env);
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

/* The prompts name the key by its role first, as the mount's does (cmd_mount.c). */
static int tty_read_pass(const char *env, const char *hint, char *buf, size_t size)
{
	const char *role = !env					       ? "the key"
			   : !strcmp(env, "SEALBOX_SECRET_PASSPHRASE") ? "the secret encryption key"
			   : !strcmp(env, "SEALBOX_SIGN_PASSPHRASE")   ? "the signing key"
								       : "the key";
	char prompt[300];

	snprintf(prompt, sizeof(prompt), "Passphrase for %s (%s): ", role, hint);
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
	} else if (tty_read_pass(pp->env, hint, pass, sizeof(pass))) {
		pp->err = SB_ERR_PASSPHRASE;
		snprintf(pp->msg, sizeof(pp->msg), "no passphrase for %s: set %s", hint, pp->env);
		return gpg_error(GPG_ERR_CANCELED);
	}
	len = strlen(pass);
	bad = gpgme_io_writen(fd, pass, len) || gpgme_io_writen(fd, "\n", 1);
	explicit_bzero(pass, sizeof(pass));
	return bad ? gpgme_error_from_syserror() : 0;
}
