/*
 * libFuzzer target: the redactor (lib/redact).  For any JSON object line,
 * redact_envelope must give valid JSON in which nothing is left to redact
 * (a second pass masks nothing), with the line unchanged when it masked
 * nothing, and no credential header value left in clear.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/json.h"
#include "../../lib/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc d;
	struct json_error je;
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT, where = STRBUF_INIT;
	long n, m;

	json_doc_init(&d, 64);
	json_error_init(&je);
	if (json_parse(&d, (const char *)data, size, &je) == 0) {
		n = redact_envelope(&d, (const char *)data, size, &out, &where);
		if (n < 0)
			abort();
		if (n == 0 && (out.len != size || (size && memcmp(out.buf, data, size))))
			abort();	/* nothing masked: the line as it was */
		if (n > 0 && !where.len)
			abort();	/* a mask names where */
		if (json_parse(&d, out.buf ? out.buf : "", out.len, &je) != 0)
			abort();	/* the result is JSON */
		m = redact_envelope(&d, out.buf ? out.buf : "", out.len, &again, NULL);
		if (m != 0)
			abort();	/* and nothing is left to mask */
	}
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&out);
	strbuf_release(&again);
	strbuf_release(&where);
	return 0;
}
