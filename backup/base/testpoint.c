/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testpoint.c - SIGKILL at a named point, for the crash tests (testpoint.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealbox/testpoint.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char want[64];
static unsigned long want_n;
static unsigned long passes;

static void load(void)
{
	const char *v = getenv("SEALBOX_TESTPOINT");
	const char *colon = v ? strrchr(v, ':') : NULL;

	if (!colon || (size_t)(colon - v) >= sizeof(want))
		return;
	memcpy(want, v, (size_t)(colon - v));
	want_n = strtoul(colon + 1, NULL, 10);
}

void sb_testpoint(const char *name, unsigned long n)
{
	pthread_once(&once, load);
	if (!want[0] || strcmp(name, want))
		return;
	if (n ? n != want_n : __atomic_add_fetch(&passes, 1, __ATOMIC_RELAXED) != want_n)
		return;
	kill(getpid(), SIGKILL);
	pause();
}
