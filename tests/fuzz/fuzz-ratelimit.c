/* libFuzzer target: rate-limit headers (X-RateLimit-*, IETF RateLimit and RateLimit-Policy). */
#include <stddef.h>
#include <stdint.h>

#include "../../lib/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"ratelimit", "ratelimit-policy", "ratelimit-remaining", "ratelimit-reset",
		"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"
	};
	struct rl_info ri;
	size_t i;

	rl_info_init(&ri);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rl_info_header(&ri, names[i], (const char *)data, size, 1.8e9);
	return 0;
}
