/* libFuzzer target: RFC 3339 timestamps: parse, format, parse again to the same instant. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/instant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct instant t, u;
	char buf[64];
	int strict;

	for (strict = 0; strict < 2; strict++) {
		if (instant_parse((const char *)data, size, strict, &t) < 0)
			continue;
		instant_format(&t, buf, sizeof(buf));
		if (instant_parse(buf, strlen(buf), 1, &u) < 0 || u.sec != t.sec || u.asec != t.asec)
			__builtin_trap();
	}
	return 0;
}
