/*
 * libFuzzer target: the JSON Schema compiler, then the schema applied to
 * itself, on a full parse and, when the schema names the members it looks
 * at (sch_pick), on a pick parse: the two must agree on the verdict and on
 * every error.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_errors(const struct sch_errors *x, const struct sch_errors *y)
{
	size_t i;

	if (x->n != y->n || x->total != y->total)
		return 0;
	for (i = 0; i < x->n; i++)
		if (strcmp(x->e[i].keyword, y->e[i].keyword) || strcmp(x->e[i].message, y->e[i].message) ||
		    x->e[i].instance.len != y->e[i].instance.len ||
		    (x->e[i].instance.len &&
		     memcmp(x->e[i].instance.buf, y->e[i].instance.buf, x->e[i].instance.len)))
			return 0;
	return 1;
}

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
				if (picked != full || !same_errors(&es, &ps))
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
