/* libFuzzer target: the Link header parser (RFC 8288) and URL redaction. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/redact.h"
#include "../../lib/http.h"
#include "../../lib/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT, z = STRBUF_INIT;
	struct aperr e;

	link_find((const char *)data, size, "next", &out, &e);
	/* URL redaction works on C strings */
	strbuf_add(&z, data, size);
	if (z.buf && strlen(z.buf) == size) {
		strbuf_reset(&out);
		redact_url(&out, z.buf, "key");
	}
	strbuf_release(&out);
	strbuf_release(&z);
	return 0;
}
