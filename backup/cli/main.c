/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c - placeholder until the command table lands. */
#include <stdio.h>
int main(void)
{
	fputs("sealbox: not built yet\n", stderr);
	return 1;
}
