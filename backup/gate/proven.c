/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proven.c - the record of proven plaintext (see proven.h). An entry file
 * is "sealbox-proven 1 <payload sha256 hex> <payload length>\n" followed by
 * the payload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealbox/error.h"
#include "sealbox/hash.h"
#include "sealbox/proven.h"

#define MAGIC "sealbox-proven 1 "

bool sb_proven_dir(const char *archive_dir, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/proven", archive_dir);

	return n > 0 && (size_t)n < size;
}

/* A fingerprint is hex; anything else is never a file name here. */
static bool good_fpr(const char *fpr)
{
	size_t n = fpr ? strlen(fpr) : 0;

	if (n < 16 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789ABCDEFabcdef", fpr[i]))
			return false;
	return true;
}

static int entry_path(const char *dir, const unsigned char sha[32], const char *fpr,
		      const char *kind, char *out, size_t size)
{
	char hex[65];
	int n;

	if (!dir || !*dir || !good_fpr(fpr))
		return -1;
	sb_hex(sha, 32, hex);
	n = snprintf(out, size, "%s/%s.%s.%s", dir, hex, fpr, kind);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void payload_sha(const void *data, size_t len, char hex[65])
{
	unsigned char d[32];

	sb_hash_buf(SB_HASH_ALG_SHA256, data, len, d);
	sb_hex(d, 32, hex);
}

int sb_proven_get(const char *dir, const unsigned char sha[32], const char *fpr, const char *kind,
		  struct sb_buf *out)
{
	char path[4200], head[128], want[65], got[65];
	unsigned long long len;
	struct stat st;
	size_t start = out->len, hlen;
	int fd, rc = 0;
	ssize_t n;
	char *nl;

	if (entry_path(dir, sha, fpr, kind, path, sizeof(path)))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
		goto bad;
	n = pread(fd, head, sizeof(head) - 1, 0);
	if (n <= 0)
		goto bad;
	head[n] = '\0';
	nl = strchr(head, '\n');
	if (!nl || strncmp(head, MAGIC, strlen(MAGIC)))
		goto bad;
	*nl = '\0';
	if (sscanf(head + strlen(MAGIC), "%64[0-9a-f] %llu", want, &len) != 2 ||
	    strlen(want) != 64 || len > SB_PROVEN_MAX)
		goto bad;
	hlen = (size_t)(nl - head) + 1;
	if ((uint64_t)st.st_size != hlen + len)
		goto bad;
	if ((rc = sb_buf_reserve(out, (size_t)len + 1)))
		goto out;
	for (size_t done = 0; done < len; done += (size_t)n) {
		n = pread(fd, out->data + start + done, (size_t)len - done, (off_t)(hlen + done));
		if (n <= 0)
			goto bad;
	}
	payload_sha(out->data + start, (size_t)len, got);
	if (strcmp(got, want))
		goto bad;
	out->len = start + (size_t)len;
	futimens(fd, NULL); /* used now: the sweep keeps it */
	close(fd);
	return 1;
bad:
	/* damaged on this disk: forget it, the remote file is read instead */
	unlink(path);
	rc = 0;
out:
	close(fd);
	out->len = start;
	return rc;
}

void sb_proven_put(const char *dir, const unsigned char sha[32], const char *fpr, const char *kind,
		   const void *data, size_t len)
{
	char path[4200], tmp[4300], head[128], hex[65];
	int fd, hl, ok;

	if (len > SB_PROVEN_MAX || entry_path(dir, sha, fpr, kind, path, sizeof(path)))
		return;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	snprintf(tmp, sizeof(tmp), "%s/.tmp.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	payload_sha(data, len, hex);
	hl = snprintf(head, sizeof(head), MAGIC "%s %zu\n", hex, len);
	ok = !sb_fd_write(&fd, head, (size_t)hl) && !sb_fd_write(&fd, data, len);
	if (close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

void sb_proven_put_fd(const char *dir, const unsigned char sha[32], const char *fpr,
		      const char *kind, int src)
{
	char path[4200], tmp[4300], head[128], hex[65], buf[65536];
	unsigned char d[32];
	struct sb_hash h;
	uint64_t len = 0;
	ssize_t n = 0;
	int fd, hl, ok;

	if (entry_path(dir, sha, fpr, kind, path, sizeof(path)) ||
	    sb_hash_init(&h, SB_HASH_ALG_SHA256))
		return;
	while ((n = pread(src, buf, sizeof(buf), (off_t)len)) > 0 &&
	       len + (uint64_t)n <= SB_PROVEN_MAX) {
		sb_hash_update(&h, buf, (size_t)n);
		len += (uint64_t)n;
	}
	sb_hash_final(&h, d);
	if (n != 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return;
	snprintf(tmp, sizeof(tmp), "%s/.tmp.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	sb_hex(d, 32, hex);
	hl = snprintf(head, sizeof(head), MAGIC "%s %llu\n", hex, (unsigned long long)len);
	ok = !sb_fd_write(&fd, head, (size_t)hl);
	for (uint64_t at = 0; ok && at < len; at += (uint64_t)n) {
		n = pread(src, buf, sizeof(buf), (off_t)at);
		ok = n > 0 && !sb_fd_write(&fd, buf, (size_t)n);
	}
	if (close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

void sb_proven_sweep(const char *dir, unsigned days)
{
	time_t cut = time(NULL) - (time_t)days * 86400, tmp_cut = time(NULL) - 86400;
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (!d)
		return;
	while ((e = readdir(d))) {
		bool tmp = !strncmp(e->d_name, ".tmp.", 5);

		if (e->d_name[0] == '.' && !tmp)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		/* a killed writer's temporary file, or an entry unused for days */
		if (st.st_mtime < (tmp ? tmp_cut : cut))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}
