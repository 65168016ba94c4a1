/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common.c - what the commands share (see cmds.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealbox/archive.h"
#include "sealbox/catalog.h"
#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/hash.h"
#include "sealbox/log.h"
#include "sealbox/proven.h"
#include "sealbox/seal.h"
#include "sealbox/throttle.h"
#include "cmds.h"
#include "json.h"

int usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[1024], line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: %s (see 'sealbox %s --help')", cmd, msg, cmd);
	fprintf(stderr, "sealbox: error: %s\n", line);
	cli_json_error(line);
	return EXIT_USAGE;
}

/* A number 0..max for an s3 option; UINT_MAX (which the transport refuses,
 * naming the option) when arg is none. */
static unsigned s3_number(const char *arg, unsigned max)
{
	unsigned long v;
	char *e;

	errno = 0;
	v = strtoul(arg, &e, 10);
	if (!*arg || *e || errno || v > max || arg[0] == '-')
		return UINT_MAX;
	return (unsigned)v;
}

bool target_option(int c, const char *arg, const char **url, struct sb_transport_opts *to)
{
	switch (c) {
	case OPT_S3_ENDPOINT: to->s3_endpoint = arg; return true;
	case OPT_S3_ADDRESSING:
		to->s3_addressing = !strcmp(arg, "path")      ? SB_S3_PATH
				    : !strcmp(arg, "virtual") ? SB_S3_VIRTUAL
				    : !strcmp(arg, "auto")    ? SB_S3_AUTO
							      : SB_S3_BAD;
		return true;
	case OPT_S3_RETRIES:
		to->s3_retries = s3_number(arg, 100);
		to->s3_retries_set = true;
		return true;
	case OPT_S3_PART_SIZE: to->s3_part_mib = s3_number(arg, 5120); return true;
	case OPT_S3_TIMEOUT: to->s3_timeout = s3_number(arg, 3600); return true;
	case OPT_TARGET: *url = arg; return true;
	case OPT_SSH_KEY: to->ssh_key = arg; return true;
	case OPT_KNOWN_HOSTS: to->known_hosts = arg; return true;
	case OPT_ACCEPT_HOST_KEY: to->accept_new_host_key = true; return true;
	}
	return false;
}

int limit_option(const char *cmd, int c, const char *arg)
{
	const char *name = c == OPT_LIMIT_UPLOAD ? "limit-upload" : "limit-download";
	uint64_t rate;

	if (sb_throttle_parse_rate(arg, &rate))
		return usage_error(cmd, "bad --%s '%s' (" LIMIT_RATE_HELP ")", name, arg);
	if (sb_throttle_set_limit(c == OPT_LIMIT_UPLOAD ? SB_THROTTLE_UP : SB_THROTTLE_DOWN, rate))
		return EXIT_INTERNAL;
	return 0;
}

int bad_option(const char *cmd, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (optopt && (optind <= 1 || strncmp(arg, "--", 2)))
		return usage_error(cmd, "unknown option or missing value: -%c", optopt);
	return usage_error(cmd, "unknown option or missing value: %s", arg);
}

static void on_signal(int sig)
{
	static const char msg[] = "sealbox: interrupted\n";

	sb_crypto_emergency_cleanup();
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	cli_json_interrupted();
	signal(sig, SIG_DFL);
	_exit(EXIT_INTERRUPTED);
}

void install_signal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int open_user_crypto(struct sb_crypto **out)
{
	struct sb_crypto_opts o = {0};

	return sb_crypto_open(&o, out);
}

bool secret_key_unplugged(const char *file, const char *without_it)
{
	if (!file || access(file, F_OK) == 0 || errno != ENOENT)
		return false;
	sb_info("secret key file %s is not there: %s", file, without_it);
	return true;
}

int open_decrypt_crypto(const char *secret_key_file, const char *sign_fpr, const char *enc_fpr,
			struct sb_crypto **out)
{
	const char *pub[3] = {sign_fpr, enc_fpr, NULL};
	struct sb_crypto_opts o = {.secret_key_file = secret_key_file, .import_pub = pub};

	if (!secret_key_file)
		return open_user_crypto(out);
	if (!sign_fpr) {
		pub[0] = enc_fpr;
		pub[1] = NULL;
	}
	if (access(secret_key_file, R_OK) < 0) {
		sb_error("secret key file %s: %s", secret_key_file, strerror(errno));
		return SB_ERR_NOSECRET;
	}
	sb_crypto_reap_stale();
	return sb_crypto_open(&o, out);
}

bool parse_uint(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	if (!s || !*s || *s == '-')
		return false;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

bool gate_option(int c, const char *arg, struct gate_args *ga)
{
	switch (c) {
	case OPT_ALLOW_UNSIGNED: ga->allow_unsigned = true; return true;
	case OPT_ALLOW_UNSEALED: ga->allow_unsealed = true; return true;
	case OPT_EXPECT_SEAL: ga->expect_seal = arg; return true;
	}
	return false;
}

/* The newest seal this machine wrote to the target, from its archive dir. */
static bool last_seal(const char *dir, char name[256], unsigned char sha[32])
{
	struct sb_catalog *cat = NULL;
	char path[4200];
	struct stat st;
	bool ok;

	snprintf(path, sizeof(path), "%s/sealbox.db", dir);
	if (stat(path, &st) < 0 || sb_catalog_open(dir, &cat))
		return false;
	ok = sb_catalog_last_seal(cat, name, sha) == 1;
	sb_catalog_close(cat);
	return ok;
}

int open_gate(struct sb_transport *t, struct sb_crypto *c, const char *sign_fpr,
	      const struct gate_args *ga, struct sb_gate **out)
{
	struct sb_gate_opts go = {.target = t,
				  .crypto = c,
				  .sign_fpr = sign_fpr,
				  .allow_unsigned = ga && ga->allow_unsigned,
				  .allow_unsealed = ga && ga->allow_unsealed,
				  .expect_seal = ga ? ga->expect_seal : NULL};
	char dir[4096], name[256], proven[4200];
	unsigned char sha[32];
	struct stat st;

	dir[0] = '\0';
	if (ga && ga->archive_dir)
		snprintf(dir, sizeof(dir), "%s", ga->archive_dir);
	else if (sb_archive_default_dir(sb_transport_describe(t), dir, sizeof(dir)))
		dir[0] = '\0';
	if (ga && ga->own_rollback) {
		/* the caller checks the record itself and reports it by class */
	} else if (dir[0] && last_seal(dir, name, sha)) {
		go.last_seal = name;
		go.last_sha = sha;
	} else if (!go.expect_seal) {
		sb_notice("rollback cannot be checked: this machine holds no record of the newest "
			  "seal on %s (archive dir %s); give --expect-seal HASH, the SealSHA256 "
			  "that backup printed",
			  sb_transport_describe(t), dir[0] ? dir : "");
	}
	/* the record lives in an archive dir that exists, or that this command makes */
	if (dir[0] && (stat(dir, &st) == 0 || (ga && ga->make_record)) &&
	    sb_proven_dir(dir, proven, sizeof(proven)) && sb_mkdirs_quiet(proven, 0700) == 0)
		go.proven_dir = proven;
	return sb_gate_open(&go, out);
}

int mount_index_dir(char *out, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		snprintf(out, size, "%s/sealbox/mount-index", xdg);
	else if (home && *home)
		snprintf(out, size, "%s/.cache/sealbox/mount-index", home);
	else {
		sb_error("cannot find a place for the mount index: set HOME or --index-dir");
		return SB_ERR_PARAM;
	}
	return 0;
}
