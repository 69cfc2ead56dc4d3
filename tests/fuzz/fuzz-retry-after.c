/* libFuzzer target: Retry-After (seconds or an HTTP-date) and the three HTTP-date forms. */
#include <stddef.h>
#include <stdint.h>

#include "../../lib/instant.h"
#include "../../lib/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct instant t;
	double d;

	/* a delay is a number (negative only for a date in the past), never NaN */
	if (retry_after_parse((const char *)data, size, 1.8e9, &d) == 0 && d != d)
		__builtin_trap();
	instant_parse_http_date((const char *)data, size, &t);
	return 0;
}
