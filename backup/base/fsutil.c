/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fsutil.c - mkdir -p, atomic whole-file writes, the home folder (see fsutil.h). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealbox/buf.h"
#include "sealbox/error.h"
#include "sealbox/fsutil.h"
#include "sealbox/log.h"

static int mkdirs(const char *dir, mode_t mode, bool quiet)
{
	char *tmp = strdup(dir);
	size_t i, len = strlen(dir);
	int rc = 0;

	if (!tmp)
		return SB_ERR_NOMEM;
	for (i = 1; i <= len && !rc; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
			if (!quiet)
				sb_error("cannot create folder %s: %s", tmp, strerror(errno));
			rc = sb_err_from_errno(errno);
		}
		tmp[i] = i < len ? '/' : '\0';
	}
	free(tmp);
	return rc;
}

int sb_mkdirs(const char *dir, mode_t mode) { return mkdirs(dir, mode, false); }

int sb_mkdirs_quiet(const char *dir, mode_t mode) { return mkdirs(dir, mode, true); }

int sb_write_file_atomic(const char *path, const void *data, size_t len)
{
	struct sb_buf tmp = SB_BUF_INIT;
	int fd, rc;

	if ((rc = sb_buf_addf(&tmp, "%s.tmp%d", path, (int)getpid())))
		return rc;
	fd = open((char *)tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = sb_err_from_errno(errno);
		sb_error("cannot create %s: %s", (char *)tmp.data, strerror(errno));
		sb_buf_release(&tmp);
		return rc;
	}
	rc = sb_fd_write(&fd, data, len);
	if (!rc && fsync(fd) < 0)
		rc = sb_err_from_errno(errno);
	if (close(fd) < 0 && !rc)
		rc = sb_err_from_errno(errno);
	if (!rc && rename((char *)tmp.data, path) < 0)
		rc = sb_err_from_errno(errno);
	if (rc) {
		sb_error("cannot write %s: %s", path, sb_strerror(rc));
		unlink((char *)tmp.data);
	}
	sb_buf_release(&tmp);
	return rc;
}

const char *sb_home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home)
		return home;
	pw = getpwuid(getuid());
	return pw ? pw->pw_dir : NULL;
}
