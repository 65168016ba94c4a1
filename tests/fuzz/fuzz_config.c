/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_config.c - libFuzzer target for sb_config_parse(), the sealbox.conf
 * syntax. Checks what config.h promises of a parsed file: names made of
 * [a-z0-9_-] (config.c takes '_' too), lines in file order within the text, every name found again;
 * on a syntax error, a line number within the text and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sealbox/config.h"
#include "sealbox/error.h"
#include "sealbox/log.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_config c = {0};
	unsigned err_line = 0, lines = 1, prev = 0;
	char err[256] = "";
	const char *p;
	size_t i;
	int rc;

	sb_log_set_handler(fuzz_quiet, NULL);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	rc = sb_config_parse((const char *)data, size, &c, &err_line, err, sizeof(err));
	if (rc == SB_ERR_PARAM && (err_line < 1 || err_line > lines || !err[0]))
		abort();
	if (rc && rc != SB_ERR_PARAM && rc != SB_ERR_NOMEM)
		abort();
	for (i = 0; !rc && i < c.n; i++) {
		if (!c.items[i].name[0] || c.items[i].line < prev || c.items[i].line > lines)
			abort();
		for (p = c.items[i].name; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			      *p == '_'))
				abort();
		prev = c.items[i].line;
		if (sb_config_get(&c, c.items[i].name) == NULL)
			abort();
	}
	sb_config_release(&c);
	return 0;
}
