/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * faultfs.c - a test helper for tests/e2e: a read-only FUSE view of a folder
 * that fails on cue, to play a source filesystem that goes away mid-backup.
 *
 *   faultfs [--die-on NAME] [--pause-on NAME --go FILE] BACKING MOUNTPOINT
 *
 * --die-on NAME: the first operation on a path whose last component is NAME
 * kills the daemon (_exit), as a crashed FUSE or network filesystem: the
 * kernel then fails that and every later operation (ECONNABORTED, ENOTCONN).
 * --pause-on NAME: the first operation on NAME creates FILE.waiting, then
 * waits until FILE exists (the test unmounts the view meanwhile, e.g. with
 * umount -l). Runs in the
 * foreground, single-threaded; no caching, so every stat reaches it. Not
 * installed; uses libfuse's high-level path API for brevity.
 */
#define FUSE_USE_VERSION 31
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *backing, *die_on, *pause_on, *go_file;

/* The backing path of path; runs the cues first. */
static const char *real(const char *path, char *out)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (die_on && !strcmp(base, die_on))
		_exit(3);
	if (pause_on && !strcmp(base, pause_on)) {
		char w[PATH_MAX];
		FILE *f;

		pause_on = NULL;
		snprintf(w, sizeof(w), "%s.waiting", go_file);
		if ((f = fopen(w, "w")))
			fclose(f);
		while (access(go_file, F_OK) < 0)
			usleep(20000);
	}
	snprintf(out, PATH_MAX, "%s%s", backing, path);
	return out;
}

static int ff_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	char p[PATH_MAX];

	(void)fi;
	return lstat(real(path, p), st) < 0 ? -errno : 0;
}

static int ff_readlink(const char *path, char *buf, size_t size)
{
	char p[PATH_MAX];
	ssize_t n = readlink(real(path, p), buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(real(path, p));

	(void)off;
	(void)fi;
	(void)flags;
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (fill(buf, de->d_name, NULL, 0, 0))
			break;
	closedir(d);
	return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi)
{
	char p[PATH_MAX];
	int fd;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	fd = open(real(path, p), O_RDONLY);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int ff_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n = pread((int)fi->fh, buf, size, off);

	(void)path;
	return n < 0 ? -errno : (int)n;
}

static int ff_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static void *ff_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->use_ino = 1;
	return NULL;
}

static const struct fuse_operations ff_ops = {
	.init = ff_init,
	.getattr = ff_getattr,
	.readlink = ff_readlink,
	.readdir = ff_readdir,
	.open = ff_open,
	.read = ff_read,
	.release = ff_release,
};

int main(int argc, char **argv)
{
	char *fargv[8];
	int i;

	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--die-on"))
			die_on = argv[i + 1];
		else if (!strcmp(argv[i], "--pause-on"))
			pause_on = argv[i + 1];
		else if (!strcmp(argv[i], "--go"))
			go_file = argv[i + 1];
		else
			break;
	}
	if (argc - i != 2 || (pause_on && !go_file)) {
		fprintf(stderr, "usage: faultfs [--die-on NAME] [--pause-on NAME --go FILE] "
				"BACKING MOUNTPOINT\n");
		return 1;
	}
	backing = argv[i];
	fargv[0] = argv[0];
	fargv[1] = "-f";
	fargv[2] = "-s";
	fargv[3] = "-o";
	fargv[4] = "ro,fsname=faultfs";
	fargv[5] = argv[i + 1];
	fargv[6] = NULL;
	return fuse_main(6, fargv, &ff_ops, NULL);
}
