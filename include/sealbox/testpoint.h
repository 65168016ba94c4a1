/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testpoint.h - named points where the tests kill a run, to prove that
 * sealbox survives being killed there (tests/README.md). With
 * SEALBOX_TESTPOINT=NAME:N in the environment, the Nth time (or, for a
 * numbered point, the time n == N) the run passes NAME, it sends itself
 * SIGKILL, as a power cut would. Without the variable this costs one
 * branch.
 */
#ifndef SEALBOX_TESTPOINT_H
#define SEALBOX_TESTPOINT_H

/* n: the point's own number (a volume), or 0 to count passes. */
void sb_testpoint(const char *name, unsigned long n);

#endif
