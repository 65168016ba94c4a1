/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sftp_xfer.c - bench driver: upload or download files through the sealbox
 * transport (exactly the code path backups and restores use).
 *   sftp_xfer put URL KNOWN_HOSTS KEY THREADS FILE...   upload each FILE (basename)
 *   sftp_xfer get URL KNOWN_HOSTS KEY DIR NAME...       download each NAME into DIR
 * Prints the bytes moved and the seconds taken on stdout. $SESSIONS: the
 * transport's SSH sessions (default 1); $GET_THREADS: parallel downloads;
 * $S3_PART_MIB: an s3 target's part size (default: the transport's).
 */
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "sealbox/transport.h"

static struct sb_transport *t;
static char **files;
static int nfiles, next;
static unsigned long long total;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static int put_fill(void *ctx, struct sb_writer out)
{
	static __thread char buf[1 << 16];
	int fd = *(int *)ctx, rc = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while (!rc && (n = read(fd, buf, sizeof(buf))) > 0) {
		rc = out.write(out.ctx, buf, (size_t)n);
		pthread_mutex_lock(&mu);
		total += (unsigned long long)n;
		pthread_mutex_unlock(&mu);
	}
	return rc;
}

static int put_one(const char *path)
{
	char *copy = strdup(path);
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0 || !copy)
		return -1;
	rc = sb_transport_put(t, basename(copy), put_fill, &fd);
	close(fd);
	free(copy);
	return rc;
}

/* Move the next file until none is left or one failed. */
static int (*xfer_one)(const char *name);

static void *worker(void *arg)
{
	int i, *rc = arg;

	for (;;) {
		pthread_mutex_lock(&mu);
		i = next < nfiles ? next++ : -1;
		pthread_mutex_unlock(&mu);
		if (i < 0 || *rc)
			return NULL;
		*rc = xfer_one(files[i]);
	}
}

static int get_one(const char *dir, const char *name)
{
	static __thread char buf[1 << 16];
	struct sb_transport_get *g;
	char path[4096];
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	rc = sb_transport_get_open(t, name, &g);
	while (!rc && (n = sb_transport_get_read(g, buf, sizeof(buf))) > 0) {
		pthread_mutex_lock(&mu);
		total += (unsigned long long)n;
		pthread_mutex_unlock(&mu);
		if (write(fd, buf, (size_t)n) != n)
			rc = -1;
	}
	if (!rc && n < 0)
		rc = (int)n;
	if (!rc)
		sb_transport_get_close(g);
	close(fd);
	return rc;
}

static const char *get_dir;

static int get_into_dir(const char *name) { return get_one(get_dir, name); }

int main(int argc, char **argv)
{
	struct sb_transport_opts o = {0};
	pthread_t th[16];
	int rcs[16] = {0}, i, nth, rc = 0;
	double t0;

	if (argc < 6)
		return 2;
	o.known_hosts = argv[3];
	o.sessions = getenv("SESSIONS") ? (unsigned)atoi(getenv("SESSIONS")) : 1;
	o.ssh_key = argv[4];
	o.s3_part_mib = getenv("S3_PART_MIB") ? (unsigned)atoi(getenv("S3_PART_MIB")) : 0;
	if (sb_transport_open(argv[2], &o, &t))
		return 1;
	t0 = now();
	if (!strcmp(argv[1], "put")) {
		nth = atoi(argv[5]);
		nth = nth < 1 ? 1 : nth > 16 ? 16 : nth;
		files = argv + 6;
		nfiles = argc - 6;
		xfer_one = put_one;
		for (i = 0; i < nth; i++)
			pthread_create(&th[i], NULL, worker, &rcs[i]);
		for (i = 0; i < nth; i++) {
			pthread_join(th[i], NULL);
			rc |= rcs[i];
		}
	} else {
		nth = getenv("GET_THREADS") ? atoi(getenv("GET_THREADS")) : 1;
		nth = nth < 1 ? 1 : nth > 16 ? 16 : nth;
		get_dir = argv[5];
		files = argv + 6;
		nfiles = argc - 6;
		xfer_one = get_into_dir;
		for (i = 0; i < nth; i++)
			pthread_create(&th[i], NULL, worker, &rcs[i]);
		for (i = 0; i < nth; i++) {
			pthread_join(th[i], NULL);
			rc |= rcs[i];
		}
	}
	printf("%llu %.3f\n", total, now() - t0);
	sb_transport_close(t);
	return rc ? 1 : 0;
}
