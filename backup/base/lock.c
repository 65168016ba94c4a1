/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lock.c - flock(2) lock files naming their holder (see lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/lock.h"
#include "sealbox/log.h"

struct sb_lock {
	int fd;
	char path[];
};

/* The pid written in the file by its holder, 0 when unreadable. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int sb_lock_take(const char *dir, const char *name, const char *what, bool quiet_fail,
		 struct sb_lock **out)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	struct sb_lock *l = malloc(sizeof(*l) + len);
	struct stat a, b;
	char pid[32];
	int tries, n, e;

	*out = NULL;
	if (!l)
		return SB_ERR_NOMEM;
	snprintf(l->path, len, "%s/%s", dir, name);
	for (tries = 0; tries < 10; tries++) {
		l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (l->fd < 0) {
			e = errno;
			if (!quiet_fail)
				sb_error("cannot create lock file %s: %s",
					 sb_log_str(l->path, strlen(l->path)), strerror(e));
			free(l);
			return e == EACCES || e == EPERM || e == EROFS ? SB_ERR_PERM : SB_ERR_IO;
		}
		if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
			e = errno;
			if (e == EWOULDBLOCK) {
				long p = holder_pid(l->fd);

				if (p > 0)
					sb_error(
						"%s is in use by another sealbox (pid %ld; lock file %s)",
						what, p, sb_log_str(l->path, strlen(l->path)));
				else
					sb_error("%s is in use by another sealbox (lock file %s)",
						 what, sb_log_str(l->path, strlen(l->path)));
				close(l->fd);
				free(l);
				return SB_ERR_LOCKED;
			}
			if (!quiet_fail)
				sb_error("cannot lock %s: %s", sb_log_str(l->path, strlen(l->path)),
					 strerror(e));
			close(l->fd);
			free(l);
			return SB_ERR_IO;
		}
		/* the holder we waited for may have removed the file meanwhile */
		if (fstat(l->fd, &a) == 0 && stat(l->path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			break;
		close(l->fd);
		l->fd = -1;
	}
	if (l->fd < 0) {
		sb_error("cannot lock %s: the lock file keeps changing",
			 sb_log_str(l->path, strlen(l->path)));
		free(l);
		return SB_ERR_LOCKED;
	}
	/* a stale file (its holder was killed) is simply taken over */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(l->fd, 0) < 0 || pwrite(l->fd, pid, (size_t)n, 0) != n)
		sb_warn("cannot write the pid into %s: %s", sb_log_str(l->path, strlen(l->path)),
			strerror(errno));
	*out = l;
	return 0;
}

void sb_lock_release(struct sb_lock *l)
{
	if (!l)
		return;
	unlink(l->path);
	close(l->fd);
	free(l);
}
