/*
 * libFuzzer target: what servers send in headers -- Link (RFC 8288),
 * Retry-After and HTTP-dates, rate-limit headers -- and URL redaction.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/http.h"
#include "../../lib/instant.h"
#include "../../lib/link.h"
#include "../../lib/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct strbuf out = STRBUF_INIT, z = STRBUF_INIT;
	struct aperr e;
	struct instant t;
	struct rl_info ri;
	double d;

	link_find(s, size, "next", &out, &e);
	retry_after_parse(s, size, 1.8e9, &d);
	instant_parse_http_date(s, size, &t);
	rl_info_init(&ri);
	rl_info_header(&ri, "ratelimit", s, size, 1.8e9);
	rl_info_header(&ri, "x-ratelimit-reset", s, size, 1.8e9);
	/* URL redaction works on C strings */
	strbuf_add(&z, s, size);
	if (z.buf && strlen(z.buf) == size) {
		strbuf_reset(&out);
		http_redact_url(&out, z.buf, "key");
	}
	strbuf_release(&out);
	strbuf_release(&z);
	return 0;
}
