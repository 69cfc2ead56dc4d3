/* libFuzzer target: the JSON Schema compiler, then the schema applied to itself. */
#include <stddef.h>
#include <stdint.h>

#include "../../lib/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch s;
	struct sch_errors es;
	struct json_doc d;
	struct aperr e;
	int draft;

	for (draft = 0; draft < 2; draft++) {
		sch_init(&s, draft ? SCH_DRAFT_7 : SCH_DRAFT_2020_12);
		s.format_assert = 1;
		if (sch_compile(&s, "", (const char *)data, size, &e) == 0) {
			json_doc_init(&d, 64);
			sch_errors_init(&es);
			if (json_parse(&d, (const char *)data, size, NULL) == 0)
				sch_validate(&s, &d, 0, &es, &e);
			sch_errors_release(&es);
			json_doc_release(&d);
		}
		sch_release(&s);
	}
	return 0;
}
