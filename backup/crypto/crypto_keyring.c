/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto_keyring.c - gpgme's one-time set-up, and the ephemeral keyrings
 * that hold an offline secret key while a command runs: made 0700 below
 * $XDG_RUNTIME_DIR/sealbox (else /tmp), their gpg-agent started at once in
 * a clean environment (gpg would start it with ours), registered so that
 * exit() and a signal handler can stop their agent and remove them
 * (sb_crypto_emergency_cleanup only forks and execs prebuilt argument
 * vectors), and reaped by the next run when their process died.
 *
 * The agent re-protects the imported key on its first use with a low
 * derivation count (EPH_S2K_COUNT) and keeps the passphrase for as long as
 * it lives: the key file's own (costly) derivation is paid once per
 * process, not once per gpg operation. That copy is as safe as the folder:
 * 0700, this process's life, removed at exit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gpgme.h>

#include "crypto_impl.h"
#include "sealbox/crypto.h"
#include "sealbox/error.h"
#include "sealbox/log.h"

#define EPH_MAX 16 /* ephemeral keyrings per process */
#define EPH_PREFIX "sealbox-gnupg."
/* gpg-agent.conf of an ephemeral keyring: the key's copy there is
 * re-protected with gpg-agent's lowest derivation count (65536 bytes hashed,
 * microseconds) on first use, and the passphrase is kept while the agent
 * lives (this process's life: it is stopped at exit). */
#define EPH_S2K_COUNT "65536"
#define EPH_AGENT_CONF                                                                             \
	"s2k-count " EPH_S2K_COUNT "\n"                                                            \
	"default-cache-ttl 31536000\n"                                                             \
	"max-cache-ttl 31536000\n"                                                                 \
	"allow-loopback-pinentry\n"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static gpgme_error_t init_err;
static char agent_path[PATH_MAX];
static char connect_path[PATH_MAX];
static char rm_path[16];

/* Argument vectors prebuilt at registration so a signal handler only forks. */
struct eph_slot {
	volatile sig_atomic_t used;
	pid_t owner; /* the process that made it (a fork's child does not remove it) */
	char dir[PATH_MAX];
	char *kill_argv[7];
	char *rm_argv[5];
};

static struct eph_slot eph_slots[EPH_MAX];
static pthread_mutex_t eph_lock = PTHREAD_MUTEX_INITIALIZER; /* protects slot allocation */
static char arg_homedir[] = "--homedir", arg_no_autostart[] = "--no-autostart";
static char arg_killagent[] = "KILLAGENT", arg_bye[] = "/bye";
static char arg_daemon[] = "--daemon", arg_std_socket[] = "--use-standard-socket";
static char arg_rf[] = "-rf", arg_dashes[] = "--";
/* The whole environment of what we run here: gpg-agent, gpg-connect-agent, rm. */
static char env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static char *const clean_env[] = {env_path, NULL};

/* sb_crypto_set_compress_level(): gpgme's gpg is the launcher at this path */
static char engine_file[PATH_MAX];

const char *crypto_engine_file(void) { return engine_file[0] ? engine_file : NULL; }

int sb_crypto_set_compress_level(int level, const char *launcher)
{
	gpgme_engine_info_t info = NULL;
	const char *real = NULL;
	char lv[2] = {(char)('0' + level), '\0'};
	gpgme_error_t e;

	if (level < 0 || level > 9 || !launcher || launcher[0] != '/' ||
	    strlen(launcher) >= sizeof(engine_file))
		return SB_ERR_PARAM;
	gpgme_check_version(NULL);
	if (!gpgme_get_engine_info(&info))
		for (; info && !real; info = info->next)
			if (info->protocol == GPGME_PROTOCOL_OpenPGP && info->file_name &&
			    info->file_name[0] == '/')
				real = info->file_name;
	if (!real)
		return SB_ERR_INTERNAL;
	/* before any thread runs: the caller's start; read by the launcher */
	if (setenv("SEALBOX_GPG", real, 1) || setenv("SEALBOX_GPG_COMPRESS_LEVEL", lv, 1))
		return SB_ERR_NOMEM;
	e = gpgme_set_engine_info(GPGME_PROTOCOL_OpenPGP, launcher, NULL);
	if (!e)
		e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP); /* runs it */
	if (e) {
		sb_warn("cannot run %s (%s): gpg compresses at its own level", launcher,
			gpgme_strerror(e));
		gpgme_set_engine_info(GPGME_PROTOCOL_OpenPGP, real, NULL);
		return SB_ERR_INTERNAL;
	}
	snprintf(engine_file, sizeof(engine_file), "%s", launcher);
	return 0;
}

static void crypto_init(void)
{
	const char *p;

	gpgme_check_version(NULL);
	init_err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	p = gpgme_get_dirinfo("agent-name");
	snprintf(agent_path, sizeof(agent_path), "%s", p ? p : "/usr/bin/gpg-agent");
	p = gpgme_get_dirinfo("bindir");
	snprintf(connect_path, sizeof(connect_path), "%s/gpg-connect-agent", p ? p : "/usr/bin");
	snprintf(rm_path, sizeof(rm_path), "%s",
		 access("/bin/rm", X_OK) == 0 ? "/bin/rm" : "/usr/bin/rm");
}

int crypto_ready(void)
{
	pthread_once(&init_once, crypto_init);
	if (init_err) {
		sb_error("gpg (OpenPGP engine) not usable: %s", gpgme_strerror(init_err));
		return SB_ERR_INTERNAL;
	}
	return 0;
}

/*
 * fork + execve in clean_env + waitpid, output to /dev/null, no other
 * descriptor inherited (an agent would keep them); async-signal-safe. The
 * exit status, or -1.
 */
static int run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int fd, status;

	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (close_range(3, ~0U, 0))
			for (fd = 3; fd < 1024; fd++)
				close(fd);
		execve(argv[0], argv, clean_env);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int eph_register(const char *dir)
{
	struct eph_slot *s;
	int i;

	pthread_mutex_lock(&eph_lock);
	for (i = 0; i < EPH_MAX && eph_slots[i].used; i++)
		;
	if (i == EPH_MAX) {
		pthread_mutex_unlock(&eph_lock);
		sb_error("too many temporary keyrings open");
		return SB_ERR_INTERNAL;
	}
	s = &eph_slots[i];
	s->owner = getpid();
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->kill_argv[0] = connect_path;
	s->kill_argv[1] = arg_homedir;
	s->kill_argv[2] = s->dir;
	s->kill_argv[3] = arg_no_autostart;
	s->kill_argv[4] = arg_killagent;
	s->kill_argv[5] = arg_bye;
	s->kill_argv[6] = NULL;
	s->rm_argv[0] = rm_path;
	s->rm_argv[1] = arg_rf;
	s->rm_argv[2] = arg_dashes;
	s->rm_argv[3] = s->dir;
	s->rm_argv[4] = NULL;
	s->used = 1;
	pthread_mutex_unlock(&eph_lock);
	return i;
}

/* Stop the agent of a keyring and remove it; usable for unregistered dirs. */
static void keyring_destroy(const char *dir)
{
	char d[PATH_MAX];
	/* the agent only: nothing here starts a scdaemon or dirmngr */
	char *kill_argv[] = {connect_path,  arg_homedir, d,   arg_no_autostart,
			     arg_killagent, arg_bye,	 NULL};
	char *rm_argv[] = {rm_path, arg_rf, arg_dashes, d, NULL};
	int tries;

	snprintf(d, sizeof(d), "%s", dir);
	run_quiet(kill_argv);
	/* the dying agent may still be removing its sockets: retry briefly */
	for (tries = 0; tries < 5; tries++) {
		run_quiet(rm_argv);
		if (access(d, F_OK) != 0)
			return;
		usleep(100 * 1000);
	}
	sb_warn("could not remove temporary keyring %s", sb_log_str(d, strlen(d)));
}

static void eph_release(int slot)
{
	struct eph_slot *s = &eph_slots[slot];

	keyring_destroy(s->dir);
	pthread_mutex_lock(&eph_lock);
	s->used = 0;
	pthread_mutex_unlock(&eph_lock);
}

void sb_crypto_emergency_cleanup(void)
{
	pid_t self = getpid();
	int i;

	for (i = 0; i < EPH_MAX; i++) {
		if (!eph_slots[i].used || eph_slots[i].owner != self)
			continue;
		run_quiet(eph_slots[i].kill_argv);
		run_quiet(eph_slots[i].rm_argv);
		eph_slots[i].used = 0;
	}
	crypto_pp_wipe_quick();
}

/* At exit(): the keyrings an error path or an exit() left open. */
static void eph_atexit(void)
{
	pid_t self = getpid();
	int i;

	for (i = 0; i < EPH_MAX; i++)
		if (eph_slots[i].used && eph_slots[i].owner == self)
			eph_release(i);
}

static void reap_in(const char *base)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(base);
	char *end;
	long pid;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, EPH_PREFIX, strlen(EPH_PREFIX)))
			continue;
		pid = strtol(de->d_name + strlen(EPH_PREFIX), &end, 10);
		if (pid <= 0 || *end != '.' || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
			continue;
		sb_info("removing stale temporary keyring %s", sb_log_str(path, strlen(path)));
		keyring_destroy(path);
	}
	closedir(d);
}

static int eph_base(char *out, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (xdg && *xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(out, size, "%s/sealbox", xdg);
		if (mkdir(out, 0700) == 0 || errno == EEXIST)
			if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid())
				return 0;
	}
	snprintf(out, size, "/tmp");
	return 0;
}

void sb_crypto_reap_stale(void)
{
	char base[PATH_MAX];

	if (crypto_ready())
		return;
	eph_base(base, sizeof(base));
	reap_in(base);
	if (strcmp(base, "/tmp"))
		reap_in("/tmp");
}

/* Its gpg-agent.conf (see EPH_AGENT_CONF), before the agent starts. */
static int eph_write_conf(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(EPH_AGENT_CONF);
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/gpg-agent.conf", dir);
	errno = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, EPH_AGENT_CONF, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (fd >= 0 && close(fd) && !err)
		err = errno;
	if (err)
		sb_error("cannot write %s: %s", sb_log_str(path, strlen(path)), strerror(err));
	return err ? sb_err_from_errno(err) : 0;
}

/*
 * Start dir's agent now, with nothing of our environment: one process
 * (`gpgconf --launch` takes four); it listens before its parent exits.
 */
static void eph_launch_agent(const char *dir)
{
	char d[PATH_MAX];
	char *argv[] = {agent_path, arg_homedir, d, arg_std_socket, arg_daemon, NULL};
	int st;

	snprintf(d, sizeof(d), "%s", dir);
	st = run_quiet(argv);
	if (st != 0) /* gpg will start it, with our environment less the passphrases */
		sb_debug("%s --daemon for %s: exit %d", agent_path, sb_log_str(d, strlen(d)), st);
}

int crypto_eph_create(char *dir, size_t size, int *slot)
{
	static bool atexit_registered; /* protected by eph_lock */
	char base[PATH_MAX - 64];
	int rc;

	eph_base(base, sizeof(base));
	snprintf(dir, size, "%s/" EPH_PREFIX "%ld.XXXXXX", base, (long)getpid());
	if (!mkdtemp(dir)) {
		sb_error("cannot create a temporary keyring in %s: %s", base, strerror(errno));
		return sb_err_from_errno(errno);
	}
	rc = eph_register(dir);
	if (rc < 0) {
		rmdir(dir);
		return rc;
	}
	*slot = rc;
	pthread_mutex_lock(&eph_lock);
	if (!atexit_registered && atexit(eph_atexit) == 0)
		atexit_registered = true;
	pthread_mutex_unlock(&eph_lock);
	rc = eph_write_conf(dir);
	if (rc) {
		eph_release(*slot);
		return rc;
	}
	eph_launch_agent(dir);
	return 0;
}

void crypto_eph_release(int slot) { eph_release(slot); }
