/*
 * libFuzzer target: the redactor (lib/redact).  For any JSON object line,
 * redact_envelope must give valid JSON in which nothing is left to redact
 * (a second pass masks nothing), with the line unchanged when it masked
 * nothing, and no credential header value left in clear.  And the masking
 * of held secrets by meaning (lib/secret): on any JSON, secrets_scrub_json
 * keeps it JSON and leaves nothing a second pass would mask (and from an
 * offset masks the same, leaving what precedes it), in any
 * spelling (JSON escapes, percent-encoding, '+'); on any bytes,
 * secrets_scrub leaves nothing a second pass would change.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/json.h"
#include "../../lib/redact.h"
#include "../../lib/secret.h"

/* held values with characters that every spelling changes */
static void scrub_checks(const uint8_t *data, size_t size, int is_json)
{
	struct secrets s;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct json_doc d;
	struct json_error je;

	secrets_init(&s);
	secrets_add(&s, "s3/cr+t");
	secrets_add(&s, "k\u00e9y 42");
	secrets_add(&s, "123456");
	strbuf_add(&a, data, size);
	if (is_json) {
		secrets_scrub_json(&s, &a);
		json_doc_init(&d, 64);
		json_error_init(&je);
		if (json_parse(&d, a.buf, a.len, &je) != 0)
			abort();	/* masking keeps JSON JSON */
		json_doc_release(&d);
		json_error_release(&je);
		strbuf_add(&b, a.buf, a.len);
		if (secrets_scrub_json(&s, &b) != 0)
			abort();	/* nothing is left in any spelling */
		/* from an offset (the envelope's body): the same masking, the prefix kept */
		strbuf_reset(&b);
		strbuf_addstr(&b, "{\"u\":\"s3/cr+t\",\"body\":");
		strbuf_add(&b, data, size);
		secrets_scrub_json_from(&s, &b, 14);
		if (b.len != 22 + a.len || memcmp(b.buf, "{\"u\":\"s3/cr+t\",\"body\":", 22) ||
		    memcmp(b.buf + 22, a.buf, a.len))
			abort();
	} else {
		secrets_scrub(&s, &a);
		strbuf_add(&b, a.buf, a.len);
		secrets_scrub(&s, &b);
		if (a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len)))
			abort();	/* nothing is left to mask */
	}
	secrets_release(&s);
	strbuf_release(&a);
	strbuf_release(&b);
}

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
		if (json_parse(&d, out.buf, out.len, &je) != 0)
			abort();	/* the result is JSON */
		m = redact_envelope(&d, out.buf, out.len, &again, NULL);
		if (m != 0)
			abort();	/* and nothing is left to mask */
		scrub_checks(data, size, 1);
	} else {
		scrub_checks(data, size, 0);
	}
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&out);
	strbuf_release(&again);
	strbuf_release(&where);
	return 0;
}
