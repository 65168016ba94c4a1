/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sample.c - which data files `verify --sample` reads (see sample.h). A
 * seeded shuffle and a byte budget; it reads nothing itself.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sealbox/error.h"
#include "sealbox/sample.h"

int sb_sample_parse(const char *s, struct sb_sample *out)
{
	char *end;
	double d;
	unsigned long long v, mul = 1;

	memset(out, 0, sizeof(*out));
	if (!s || !*s || *s == '-' || *s == '+')
		return SB_ERR_PARAM;
	if (s[strlen(s) - 1] == '%') {
		d = strtod(s, &end);
		if (end != s + strlen(s) - 1 || !(d > 0) || d > 100)
			return SB_ERR_PARAM;
		out->percent = d;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return SB_ERR_PARAM;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k':
	case 'K': mul = 1ULL << 10; break;
	case 'm':
	case 'M': mul = 1ULL << 20; break;
	case 'g':
	case 'G': mul = 1ULL << 30; break;
	case 't':
	case 'T': mul = 1ULL << 40; break;
	case '\0': break;
	default: return SB_ERR_PARAM;
	}
	if (*end)
		end++;
	if (*end && strcmp(end, "iB") && strcmp(end, "B"))
		return SB_ERR_PARAM;
	if (!v || v > UINT64_MAX / mul)
		return SB_ERR_PARAM;
	out->bytes = v * mul;
	return 0;
}

uint64_t sb_sample_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), 0) == (ssize_t)sizeof(s))
		return s;
	return (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
}

/* splitmix64: small, seedable, good enough to pick files. */
static uint64_t next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t sb_sample_choose(const struct sb_sample *sp, const uint64_t *sizes, size_t n,
			  uint64_t seed, bool *chosen)
{
	uint64_t total = 0, budget, taken = 0;
	size_t *ord, i, j, nchosen = 0;

	for (i = 0; i < n; i++) {
		chosen[i] = false;
		total += sizes[i];
	}
	if (sp->percent >= 100) {
		budget = total;
	} else if (sp->percent > 0) { /* rounded up */
		double b = (double)total * sp->percent / 100.0;

		budget = (uint64_t)b;
		budget += (double)budget < b;
	} else
		budget = sp->bytes;
	if (!n)
		return budget;
	ord = malloc(n * sizeof(*ord));
	if (!ord) { /* no memory to shuffle: read everything, never less */
		for (i = 0; i < n; i++)
			chosen[i] = true;
		return budget;
	}
	for (i = 0; i < n; i++)
		ord[i] = i;
	for (i = n - 1; i > 0; i--) { /* Fisher-Yates */
		size_t t;

		j = (size_t)(next(&seed) % (i + 1));
		t = ord[i];
		ord[i] = ord[j];
		ord[j] = t;
	}
	for (i = 0; i < n; i++) {
		size_t k = ord[i];

		if (nchosen && sizes[k] > budget - taken)
			continue;
		chosen[k] = true;
		nchosen++;
		taken += sizes[k];
		if (taken >= budget)
			break;
	}
	free(ord);
	return budget;
}
