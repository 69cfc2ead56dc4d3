/* libFuzzer target: the JSON parser, pointer evaluation, minify and canon. */
#include <stddef.h>
#include <stdint.h>

#include "../../lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_doc d;
	static int init;
	struct strbuf out = STRBUF_INIT, canon = STRBUF_INIT;
	struct json_ptr p;
	struct aperr e;

	if (!init) {
		json_doc_init(&d, 64);
		init = 1;
	}
	if (json_parse(&d, (const char *)data, size, NULL) == 0) {
		json_minify(&d, 0, &out);
		/* minified output must parse again, to the same bytes */
		if (json_parse(&d, out.buf, out.len, NULL) != 0)
			__builtin_trap();
		json_canon(&d, 0, &canon);
		if (json_ptr_parse(&p, "/0/a~1b/1", &e) == 0) {
			json_ptr_eval(&p, &d, 0);
			json_ptr_release(&p);
		}
	}
	strbuf_release(&out);
	strbuf_release(&canon);
	return 0;
}
