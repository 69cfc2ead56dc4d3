/* libFuzzer target: JSON Pointer parsing, evaluation and escaping (RFC 6901). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char doc[] = "{\"a\":[1,{\"b~/c\":[true,null]},\"x\"],\"\":{\"\":0},\"1\":2}";
	static struct json_doc d;
	static int init;
	struct strbuf text = STRBUF_INIT, again = STRBUF_INIT;
	struct json_ptr p;
	struct aperr e;

	if (!init) {
		json_doc_init(&d, 16);
		if (json_parse(&d, doc, sizeof(doc) - 1, NULL) != 0)
			__builtin_trap();
		init = 1;
	}
	strbuf_add(&text, data, size);
	if (text.buf && strlen(text.buf) == size && json_ptr_parse(&p, text.buf, &e) == 0) {
		json_ptr_eval(&p, &d, 0);
		json_ptr_release(&p);
	}
	/* any bytes appended as one token parse back as a pointer */
	json_ptr_append(&again, (const char *)data, size);
	if (again.buf && strlen(again.buf) == again.len) {
		if (json_ptr_parse(&p, again.buf, &e) != 0)
			__builtin_trap();
		json_ptr_release(&p);
	}
	strbuf_release(&text);
	strbuf_release(&again);
	return 0;
}
