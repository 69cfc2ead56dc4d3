/*
 * libFuzzer target: the JSON Schema compiler, then the schema applied to
 * itself, on a full parse and, when the schema names the members it looks
 * at (sch_pick), on a pick parse: the two must agree on the verdict and on
 * every error.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../lib/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch s;
	struct sch_errors es, ps;
	struct json_doc d, pd;
	struct json_pick pk;
	struct aperr e;
	int draft;

	for (draft = 0; draft < 2; draft++) {
		sch_init(&s, draft ? SCH_DRAFT_7 : SCH_DRAFT_2020_12);
		s.format_assert = 1;
		if (sch_compile(&s, "", (const char *)data, size, &e) == 0) {
			int full = -1;

			json_doc_init(&d, 64);
			json_doc_init(&pd, 64);
			sch_errors_init(&es);
			sch_errors_init(&ps);
			if (json_parse(&d, (const char *)data, size, NULL) == 0)
				full = sch_validate(&s, &d, 0, &es, &e);
			json_pick_init(&pk);
			if (full >= 0 && sch_pick(&s, &pk) == 0) {
				int picked = -1;

				if (json_parse_pick(&pd, (const char *)data, size, &pk, NULL) == 0)
					picked = sch_validate(&s, &pd, 0, &ps, &e);
				if (picked != full || !sch_errors_same(&es, &ps))
					__builtin_trap();
			}
			sch_errors_release(&es);
			sch_errors_release(&ps);
			json_doc_release(&d);
			json_doc_release(&pd);
		}
		sch_release(&s);
	}
	return 0;
}
