/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_mount.c - `sealbox mount` and `sealbox umount`.
 *
 * mount: options, passphrase, then (unless --foreground) a fork whose parent
 * waits until the child reports the mount ready, so errors are printed and
 * returned as exit statuses before anything detaches. The child opens the
 * keyring (an ephemeral one for --secret-key: named after the process that
 * serves the mount, so other sealbox runs never reap it as stale), the
 * target, a private 0700 plaintext cache folder and the view, mounts, then
 * detaches and serves until unmounted or signalled; at the end it closes the
 * view, removes the keyring and the cache folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/log.h"
#include "sealbox/manifest.h"
#include "sealbox/snapview.h"
#include "sealbox/fs.h"
#include "cmds.h"
#include "json.h"
#include "runlog.h"

#define MAX_MOUNT_OPTS 64
#define CACHE_PREFIX "sealbox-mount."

static const char mount_usage[] =
	"usage: sealbox mount --target URL [--sign-key FPR] [--secret-key FILE]\n"
	"                     [--ssh-key FILE] [--known-hosts FILE] [--accept-new-host-key]\n"
	"                     [--limit-upload RATE] [--limit-download RATE]\n"
	"                     [--foreground] [--cache-size MIB] [--cache-dir DIR]\n"
	"                     [--index-dir DIR] [--archive-dir DIR] [--allow-unsigned]\n"
	"                     [--allow-unsealed]\n"
	"                     [--expect-seal HASH] [-o OPT[,OPT]...] [-d] [--json]\n"
	"                     [-v | -q] MOUNTPOINT\n"
	"       sealbox umount [--lazy] [--json] MOUNTPOINT\n"
	"\n"
	"Shows every snapshot of the target as a read-only folder named by its UTC time\n"
	"(YYYY-MM-DDTHH:MM:SSZ), plus 'latest'; files are decrypted when read.\n"
	"  --target URL       file:///abs/path, a plain path,\n"
	"                     sftp://user@host[:port]/abs/path or s3://BUCKET/PREFIX\n"
	"  --ssh-key FILE     sftp: private key (passphrase: $SEALBOX_SSH_PASSPHRASE);\n"
	"                     default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa\n"
	"  --known-hosts FILE sftp: host keys to check (default ~/.ssh/known_hosts)\n"
	"  --s3-endpoint URL  s3: the store (default $AWS_ENDPOINT_URL, else AWS)\n"
	"                     also --s3-addressing, --s3-retries, --s3-part-size,\n"
	"                     --s3-timeout (sealbox(1))\n"
	"  --limit-upload RATE, --limit-download RATE\n"
	"                     all uploads (downloads) together at most RATE bytes/s\n"
	"                     (500K, 2M, 1.5MiB/s; K, M, G: 1024-based; 0: no limit)\n"
	"  --accept-new-host-key  sftp: add an unknown host key (never a changed one)\n"
	"  --sign-key FPR     every file read must be signed by this key (required\n"
	"                     unless the chains are unencrypted, and so unsigned)\n"
	"  --secret-key FILE  the exported secret encryption key, imported into a\n"
	"                     temporary keyring removed at unmount (passphrase:\n"
	"                     $SEALBOX_SECRET_PASSPHRASE, else asked once); else it\n"
	"                     must be in the keyring\n"
	"  -f, --foreground   stay in the foreground (default: detach once mounted)\n"
	"  --cache-size MIB   plaintext kept for rereads (default 1024)\n"
	"  --cache-dir DIR    where the private plaintext cache folder is made\n"
	"                     (default $XDG_RUNTIME_DIR, else /tmp); removed at unmount\n"
	"  --index-dir DIR    where indexes built for duplicity chains are kept\n"
	"                     (default $XDG_CACHE_HOME/sealbox/mount-index)\n"
	"  --archive-dir DIR  where backup remembers its newest seal, to refuse a target\n"
	"                     rolled back (default: backup's)\n"
	"  --expect-seal HASH refuse the target unless a seal with this SHA-256 is on it\n"
	"  --allow-unsigned   show chains that are neither encrypted nor signed\n"
	"  --allow-unsealed   show duplicity's unsealed sets after sealed ones\n"
	"  -o OPT[,OPT]...    FUSE mount options, e.g. allow_other; also\n"
	"                     entry_timeout=S, attr_timeout=S (default 3600),\n"
	"                     max_threads=N (default 16), max_idle_threads=N, clone_fd\n"
	"  -d, --debug        trace FUSE requests on stderr (implies --foreground)\n"
	"  --json             one JSON document on stdout once mounted, or on failure\n"
	"                     (see sealbox(1))\n"
	"Unmount with 'sealbox umount MOUNTPOINT' or 'fusermount3 -u MOUNTPOINT'.\n";

enum {
	O_SIGN = 256,
	O_SECRET,
	O_CACHE_SIZE,
	O_CACHE_DIR,
	O_INDEX_DIR,
	O_ARCHIVE,
	O_JSON,
};

const struct option mount_opts[] = {
	TARGET_OPTIONS,
	GATE_OPTIONS,
	{"archive-dir", required_argument, NULL, O_ARCHIVE},
	{"sign-key", required_argument, NULL, O_SIGN},
	{"secret-key", required_argument, NULL, O_SECRET},
	{"foreground", no_argument, NULL, 'f'},
	{"cache-size", required_argument, NULL, O_CACHE_SIZE},
	{"cache-dir", required_argument, NULL, O_CACHE_DIR},
	{"index-dir", required_argument, NULL, O_INDEX_DIR},
	{"debug", no_argument, NULL, 'd'},
	{"json", no_argument, NULL, O_JSON},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Everything the command line says. */
struct mount_args {
	const char *target, *sign, *secret;
	struct sb_transport_opts to;
	struct gate_args ga;
	const char *cache_base; /* --cache-dir, or NULL */
	const char *index_dir;	/* --index-dir, or NULL */
	unsigned long long cache_mib;
	const char *fuse_opts[MAX_MOUNT_OPTS + 1];
	size_t nfuse_opts;
	bool foreground, debug, quiet;
	char mountpoint[PATH_MAX];
};

/* The passphrase typed once for the whole mount; wiped at exit. */
static char mount_pass[1024];

/* ---- the plaintext cache folder ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) && errno != ENOENT)
		sb_warn("cannot remove %s: %s", sb_log_str(path, strlen(path)), strerror(errno));
	return 0;
}

static void rm_tree(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT); }

/* The folder cache folders go in: --cache-dir, $XDG_RUNTIME_DIR, /tmp. */
static int cache_base(const struct mount_args *a, char *out, size_t size, bool *shared)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int rc;

	*shared = false;
	if (a->cache_base) {
		if ((rc = sb_mkdirs(a->cache_base, 0700)))
			return rc;
		snprintf(out, size, "%s", a->cache_base);
	} else if (xdg && *xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(out, size, "%s", xdg);
	} else {
		snprintf(out, size, "/tmp");
		*shared = true; /* other users' folders too: put the uid in the name */
	}
	return 0;
}

/* Remove cache folders of mounts that died without cleaning up (plaintext!). */
static void reap_stale_caches(const char *base, bool shared)
{
	char path[PATH_MAX], *end;
	struct dirent *de;
	struct stat st;
	long uid, pid;
	DIR *d = opendir(base);

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *p = de->d_name;

		if (strncmp(p, CACHE_PREFIX, strlen(CACHE_PREFIX)))
			continue;
		p += strlen(CACHE_PREFIX);
		if (shared) {
			uid = strtol(p, &end, 10);
			if (end == p || *end != '.' || uid != (long)getuid())
				continue;
			p = end + 1;
		}
		pid = strtol(p, &end, 10);
		if (end == p || *end || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", base, de->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
			continue;
		sb_info("removing the cache of a dead mount: %s", sb_log_str(path, strlen(path)));
		rm_tree(path);
	}
	closedir(d);
}

static int make_cache_dir(const struct mount_args *a, char *out, size_t size)
{
	char base[PATH_MAX];
	bool shared;
	int rc, n;

	if ((rc = cache_base(a, base, sizeof(base), &shared)))
		return rc;
	reap_stale_caches(base, shared);
	if (shared)
		n = snprintf(out, size, "%s/" CACHE_PREFIX "%ld.%ld", base, (long)getuid(),
			     (long)getpid());
	else
		n = snprintf(out, size, "%s/" CACHE_PREFIX "%ld", base, (long)getpid());
	if (n < 0 || (size_t)n >= size) {
		sb_error("cache folder name too long under %s", sb_log_str(base, strlen(base)));
		out[0] = '\0';
		return SB_ERR_PARAM;
	}
	if (mkdir(out, 0700)) {
		sb_error("cannot create the cache folder %s: %s", sb_log_str(out, strlen(out)),
			 strerror(errno));
		out[0] = '\0';
		return sb_err_from_errno(errno);
	}
	return 0;
}

/* ---- detaching ---- */

/*
 * Fork. The parent waits for one byte on the pipe (the mount is ready) and
 * returns EXIT_OK, or the child's exit status when it ended first; it never
 * continues with the mount. Returns -1 in the child, with *notify the pipe.
 */
static int detach_fork(int *notify)
{
	int p[2], status = -1;
	unsigned char ok;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		sb_error("pipe: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		sb_error("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return EXIT_LOCAL;
	}
	if (pid == 0) {
		close(p[0]);
		*notify = p[1];
		return -1;
	}
	close(p[1]);
	do
		n = read(p[0], &ok, 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 1 || (waitpid(pid, &status, 0) == pid && WIFEXITED(status)))
		cli_json_abandon(); /* the child printed the --json document */
	if (n == 1)
		return EXIT_OK;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) ? WEXITSTATUS(status) : EXIT_INTERNAL;
	sb_error("the mount process died before the mount was ready");
	return EXIT_INTERNAL;
}

static void log_syslog(enum sb_log_level level, const char *msg, void *ctx)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

	syslog(prio[level <= SB_LOG_DEBUG ? level : SB_LOG_DEBUG], "%s", msg);
}

/* The mount is ready: release the waiting parent, leave the terminal. */
static void detach_finish(int notify)
{
	unsigned char ok = 0;
	int fd;

	fflush(stdout);
	fflush(stderr);
	openlog("sealbox", LOG_PID, LOG_DAEMON);
	sb_log_set_handler(log_syslog, NULL);
	sb_crypto_set_tty_prompt(false);
	setsid();
	if (chdir("/"))
		sb_warn("chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(notify, &ok, 1) != 1)
		sb_warn("could not tell the starting process that the mount is ready");
	close(notify);
}

/* ---- options ---- */

static int add_fuse_opt(struct mount_args *a, const char *opt)
{
	if (a->nfuse_opts >= MAX_MOUNT_OPTS)
		return usage_error("mount", "too many -o options");
	a->fuse_opts[a->nfuse_opts++] = opt;
	a->fuse_opts[a->nfuse_opts] = NULL;
	return 0;
}

/*
 * A mount point must be an empty folder that nothing is mounted on: a mount
 * would hide its files without a word, and fusermount's answer to a second
 * mount is a bare "Permission denied".
 */
static int check_mountpoint_free(const char *mp, const struct stat *st)
{
	char parent[PATH_MAX + 4];
	struct stat pst;
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(parent, sizeof(parent), "%s/..", mp);
	if (strcmp(mp, "/") && stat(parent, &pst) == 0 &&
	    (pst.st_dev != st->st_dev || pst.st_ino == st->st_ino)) {
		sb_error("%s is already a mount point: unmount it first ('sealbox umount %s')",
			 sb_log_str(mp, strlen(mp)), sb_log_str(mp, strlen(mp)));
		return EXIT_LOCAL;
	}
	if (!(d = opendir(mp))) {
		sb_error("mount point %s: %s", sb_log_str(mp, strlen(mp)), strerror(errno));
		return EXIT_LOCAL;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	if (n) {
		sb_error("mount point %s is not empty (%zu entr%s): the mount would hide them; "
			 "choose an empty folder",
			 sb_log_str(mp, strlen(mp)), n, n == 1 ? "y" : "ies");
		return EXIT_LOCAL;
	}
	return 0;
}

/* The mount point, absolute (the daemon leaves the working folder). */
static int check_mountpoint(const char *arg, char *out)
{
	struct stat st;

	if (stat(arg, &st)) {
		if (errno == ENOTCONN)
			sb_error("%s is a dead mount: run 'sealbox umount %s' first",
				 sb_log_str(arg, strlen(arg)), sb_log_str(arg, strlen(arg)));
		else
			sb_error("mount point %s: %s", sb_log_str(arg, strlen(arg)),
				 strerror(errno));
		return EXIT_LOCAL;
	}
	if (!S_ISDIR(st.st_mode)) {
		sb_error("mount point %s is not a folder", sb_log_str(arg, strlen(arg)));
		return EXIT_LOCAL;
	}
	if (!realpath(arg, out)) {
		sb_error("mount point %s: %s", sb_log_str(arg, strlen(arg)), strerror(errno));
		return EXIT_LOCAL;
	}
	return check_mountpoint_free(out, &st);
}

static int parse_args(int argc, char **argv, struct mount_args *a)
{
	unsigned long long n;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fdo:vqh", mount_opts, NULL)) != -1) {
		if (target_option(c, optarg, &a->target, &a->to) || gate_option(c, optarg, &a->ga))
			continue;
		switch (c) {
		case OPT_LIMIT_UPLOAD:
		case OPT_LIMIT_DOWNLOAD: rc = limit_option("mount", c, optarg); break;
		case O_ARCHIVE: a->ga.archive_dir = optarg; break;
		case O_SIGN: a->sign = optarg; break;
		case O_SECRET: a->secret = optarg; break;
		case 'f': a->foreground = true; break;
		case O_CACHE_SIZE:
			if (!parse_uint(optarg, &n) || !n || n > (1ull << 30))
				rc = usage_error("mount", "bad --cache-size '%s' (MiB, >= 1)",
						 optarg);
			a->cache_mib = n;
			break;
		case O_CACHE_DIR: a->cache_base = optarg; break;
		case O_INDEX_DIR: a->index_dir = optarg; break;
		case O_JSON: break; /* main.c: json.h */
		case 'o': rc = add_fuse_opt(a, optarg); break;
		case 'd':
			a->debug = a->foreground = true;
			sb_log_set_level(SB_LOG_DEBUG); /* libfuse's trace comes through sb_log */
			break;
		case 'v': sb_log_set_level(SB_LOG_INFO); break;
		case 'q':
			a->quiet = true;
			sb_log_set_level(SB_LOG_ERR);
			break;
		case 'h': fputs(mount_usage, stdout); return -1;
		default: return bad_option("mount", argv);
		}
		if (rc)
			return rc;
	}
	if (!a->target)
		return usage_error("mount", "--target URL is required");
	if (optind != argc - 1)
		return usage_error("mount", "give exactly one MOUNTPOINT");
	/* before any passphrase is asked for: a mount that cannot happen says so first */
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		sb_error("cannot use /dev/fuse: %s (is the fuse module loaded, and may this user "
			 "open it?)",
			 strerror(errno));
		return EXIT_LOCAL;
	}
	return check_mountpoint(argv[optind], a->mountpoint);
}

/* Ask once for the secret key's passphrase when no variable gives it. */
static void ask_passphrase(const struct mount_args *a)
{
	char prompt[PATH_MAX + 96];

	if (sb_crypto_env_passphrase("SEALBOX_SECRET_PASSPHRASE"))
		return;
	snprintf(prompt, sizeof(prompt),
		 "Passphrase for the secret encryption key (%s; empty if none): ",
		 a->secret ? sb_log_str(a->secret, strlen(a->secret)) : "in the keyring");
	if (sb_crypto_read_tty(prompt, mount_pass, sizeof(mount_pass)) == 0)
		sb_crypto_set_passphrase("SEALBOX_SECRET_PASSPHRASE", mount_pass);
}

/* ---- the mount ---- */

/*
 * Decrypt the newest set's manifest once, by gpg even when this machine's
 * record holds it: with indexes cached nothing else is decrypted before the
 * first read, and a
 * wrong or missing passphrase must stop the mount here, not fail each read.
 */
static int probe_decrypt(struct sb_gate *g)
{
	const struct sb_collection *coll = sb_gate_collection(g);
	const struct sb_set *s = NULL;
	struct sb_manifest m;
	int rc;

	for (size_t c = 0; c < coll->nchains; c++) {
		const struct sb_chain *ch = &coll->chains[c];
		const struct sb_set *last = &ch->sets[ch->nsets - 1];

		if (last->encrypted && last->manifest && (!s || last->t1 > s->t1))
			s = last;
	}
	if (!s)
		return 0;
	sb_manifest_init(&m);
	rc = sb_gate_manifest_decrypt(g, s, &m);
	sb_manifest_release(&m);
	if (rc)
		sb_error("cannot decrypt %s: refusing to mount", s->manifest);
	return rc;
}

/* Open everything, mount, detach, serve, unwind. Returns an sb_err. */
static int serve(struct mount_args *a, int notify)
{
	struct sb_snapview_opts vo = {0};
	struct sb_fs_opts fo = {0};
	struct sb_crypto *crypto = NULL;
	struct sb_snapview *view = NULL;
	struct sb_fs *fs = NULL;
	char sign_fpr[41], cache[PATH_MAX] = "", index[PATH_MAX];
	int rc;

	if ((rc = open_decrypt_crypto(a->secret, a->sign, NULL, &crypto)))
		goto out;
	if (a->sign && (rc = sb_crypto_key_fpr(crypto, a->sign, sign_fpr)))
		goto out;
	if ((rc = sb_transport_open(a->target, &a->to, &vo.target)))
		goto out;
	if ((rc = make_cache_dir(a, cache, sizeof(cache))))
		goto out;
	if (a->index_dir)
		snprintf(index, sizeof(index), "%s", a->index_dir);
	else if ((rc = mount_index_dir(index, sizeof(index))))
		goto out;
	vo.crypto = crypto;
	vo.sign_fpr = a->sign ? sign_fpr : NULL;
	a->ga.make_record = true;
	if ((rc = open_gate(vo.target, crypto, vo.sign_fpr, &a->ga, &vo.gate)))
		goto out;
	vo.index_dir = index;
	vo.cache_dir = cache;
	vo.cache_size = (a->cache_mib ? a->cache_mib : 1024) << 20;
	progress_begin(a->quiet, "reading indexes", 0, 0); /* built ones read volumes */
	rc = sb_snapview_open(&vo, &view);
	progress_end();
	if (rc || (rc = probe_decrypt(vo.gate)))
		goto out;
	if (!sb_snapview_count(view))
		sb_warn("%s holds no complete snapshot: the mount will be empty", a->target);

	sb_fs_route_fuse_log();
	fo.view = view;
	fo.mountpoint = a->mountpoint;
	fo.mount_opts = a->fuse_opts;
	fo.debug = a->debug;
	if ((rc = sb_fs_new(&fo, &fs)) || (rc = sb_fs_mount(fs)))
		goto out;
	if (cli_json()) {
		json_str(cli_json(), "target", a->target);
		json_path(cli_json(), "mountpoint", a->mountpoint);
		json_u64(cli_json(), "snapshots", sb_snapview_count(view));
		json_i64(cli_json(), "pid", (int64_t)getpid());
		cli_json_finish(EXIT_OK); /* the start-up result: now, not at unmount */
	} else if (!a->quiet) {
		printf("Mounted %zu snapshot(s) of %s on %s.\n", sb_snapview_count(view), a->target,
		       a->mountpoint);
	}
	fflush(stdout); /* before any fork (gpg) could write the buffer twice */
	if (notify >= 0)
		detach_finish(notify);
	rc = sb_fs_run(fs);
out:
	sb_fs_free(fs);
	/* signals kill again: the unwinding below must still remove the keyring */
	install_signal_handlers();
	sb_snapview_close(view);
	sb_gate_close(vo.gate);
	sb_transport_close(vo.target);
	sb_crypto_close(crypto);
	if (cache[0])
		rm_tree(cache);
	return rc;
}

int cmd_mount(int argc, char **argv)
{
	struct mount_args a = {0};
	int rc, notify = -1;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	ask_passphrase(&a);
	if (!a.foreground) {
		rc = detach_fork(&notify);
		if (rc >= 0)
			goto out; /* the parent */
	}
	rc = exit_status(serve(&a, notify));
	if (notify >= 0)
		close(notify); /* failed before ready: the parent reads our status */
out:
	explicit_bzero(mount_pass, sizeof(mount_pass));
	sb_crypto_set_passphrase("SEALBOX_SECRET_PASSPHRASE", NULL);
	return rc;
}

/* ---- umount ---- */

static const char umount_usage[] =
	"usage: sealbox umount [--lazy] [--json] MOUNTPOINT\n"
	"\n"
	"Unmounts a sealbox mount (fusermount3 -u; umount(2) as root); the mount\n"
	"process then removes its temporary keyring and plaintext cache.\n"
	"  -z, --lazy         detach a busy mount now, finish when it is no longer used\n"
	"  --json             one JSON document on stdout (see sealbox(1))\n";

static const struct option umount_opts[] = {
	{"lazy", no_argument, NULL, 'z'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* "\040"-style escapes of /proc/self/mountinfo, in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Is path (absolute) a sealbox mount? Reads /proc/self/mountinfo. */
static bool is_sealbox_mount(const char *path)
{
	char line[3 * PATH_MAX], mp[PATH_MAX], *sep;
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return true; /* cannot tell: let fusermount3 decide */
	while (!found && fgets(line, sizeof(line), f)) {
		/* id parent maj:min root MOUNTPOINT opts... - TYPE source super */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		unescape(mp);
		sep = strstr(line, " - ");
		found = !strcmp(mp, path) && sep && !strncmp(sep + 3, "fuse.sealbox ", 13);
	}
	fclose(f);
	return found;
}

/* Absolute form of a mount point that may be dead (stat fails with ENOTCONN). */
static int absolute_mountpoint(const char *arg, char *out)
{
	char dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX];

	if (realpath(arg, out))
		return 0;
	snprintf(dir, sizeof(dir), "%s", arg);
	snprintf(base, sizeof(base), "%s", arg);
	if (!realpath(dirname(dir), real))
		return -1;
	if (snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") ? real : "", basename(base)) >=
	    PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int cmd_umount(int argc, char **argv)
{
	char mp[PATH_MAX];
	bool lazy = false;
	int c, status;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "zh", umount_opts, NULL)) != -1) {
		switch (c) {
		case 'z': lazy = true; break;
		case 'j': break; /* main.c: json.h */
		case 'h': fputs(umount_usage, stdout); return EXIT_OK;
		default: return bad_option("umount", argv);
		}
	}
	if (optind != argc - 1)
		return usage_error("umount", "give exactly one MOUNTPOINT");
	if (absolute_mountpoint(argv[optind], mp)) {
		sb_error("%s: %s", sb_log_str(argv[optind], strlen(argv[optind])), strerror(errno));
		return EXIT_NOTFOUND;
	}
	if (!is_sealbox_mount(mp)) {
		sb_error("%s is not a sealbox mount", sb_log_str(mp, strlen(mp)));
		return EXIT_NOTFOUND;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		sb_error("fork: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	if (pid == 0) {
		if (lazy)
			execlp("fusermount3", "fusermount3", "-u", "-z", "--", mp, (char *)NULL);
		else
			execlp("fusermount3", "fusermount3", "-u", "--", mp, (char *)NULL);
		/* no fusermount3: root can do without it */
		if (errno == ENOENT && geteuid() == 0)
			_exit(umount2(mp, lazy ? MNT_DETACH : 0) ? 1 : 0);
		_exit(127);
	}
	status = 0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		sb_error("could not unmount %s%s", sb_log_str(mp, strlen(mp)),
			 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (no fusermount3)"
			 : lazy						 ? ""
									 : " (busy? try --lazy)");
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}
