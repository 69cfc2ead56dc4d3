/*
 * schemasuite: run JSON-Schema-Test-Suite files through lib/schema.
 *
 *   schemasuite --draft 2020-12|7 --remotes DIR --meta DIR [--format-assert] [-v] FILE...
 *
 * Prints "FILE PASSED TOTAL PICKED DIFFER" per file (a test whose schema
 * does not compile counts as failed), and with -v each failure.  PICKED
 * counts the object instances whose schema names every member it can look
 * at (sch_pick), validated a second time on a pick parse; DIFFER counts
 * those whose verdict or errors differ from the full parse's.  Exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/json.h"
#include "../lib/schema.h"
#include "../lib/statefile.h"

static int verbose, format_assert;

int main(int argc, char **argv)
{
	enum sch_draft draft = SCH_DRAFT_2020_12;
	const char *remotes = NULL, *meta = NULL;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--draft") && i + 1 < argc)
			draft = !strcmp(argv[++i], "7") ? SCH_DRAFT_7 : SCH_DRAFT_2020_12;
		else if (!strcmp(argv[i], "--remotes") && i + 1 < argc)
			remotes = argv[++i];
		else if (!strcmp(argv[i], "--meta") && i + 1 < argc)
			meta = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "--format-assert"))
			format_assert = 1;
	}
	for (; i < argc; i++) {
		struct strbuf text = STRBUF_INIT, src = STRBUF_INIT;
		struct json_doc d, td, pd;
		struct json_error je;
		struct aperr e;
		struct sch_errors fe, pe;
		uint32_t g, t;
		unsigned passed = 0, total = 0, picked = 0, differ = 0;
		const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];

		json_doc_init(&d, 512);
		json_doc_init(&td, 512);
		json_doc_init(&pd, 512);
		json_error_init(&je);
		sch_errors_init(&fe);
		sch_errors_init(&pe);
		if (statefile_read(argv[i], &text, 1 << 26, &e) != 0 ||
		    json_parse(&d, text.buf, text.len, &je) < 0) {
			printf("%s 0 0 unreadable\n", base);
			continue;
		}
		for (g = json_first(&d, 0); g; g = json_next(&d, 0, g)) {
			uint32_t schema = json_get(&d, g, "schema", 6), tests = json_get(&d, g, "tests", 5);
			struct sch s;
			struct json_pick pk;
			int compiled, picks;

			sch_init(&s, draft);
			s.format_assert = format_assert;
			if ((remotes && sch_add_dir(&s, remotes, "http://localhost:1234", &e) < 0) ||
			    (meta && sch_add_dir(&s, meta, "meta:", &e) < 0))
				printf("# %s\n", e.msg);
			strbuf_reset(&src);
			json_minify(&d, schema, &src);
			compiled = sch_compile(&s, "", src.buf, src.len, &e) == 0;
			json_pick_init(&pk);
			picks = compiled && sch_pick(&s, &pk) == 0;
			if (!compiled && verbose)
				printf("# %s: %.*s: schema: %s\n", base, 80, json_src(&d, g + 2), e.msg);
			for (t = json_first(&d, tests); t; t = json_next(&d, tests, t)) {
				uint32_t data = json_get(&d, t, "data", 4), valid = json_get(&d, t, "valid", 5);
				int want = json_type(&d, valid) == JSON_TRUE, got = -1;
				struct strbuf ds = STRBUF_INIT;

				total++;
				if (compiled) {
					json_minify(&d, data, &ds);
					if (json_parse(&td, ds.buf, ds.len, &je) == 0)
						got = sch_validate(&s, &td, 0, &fe, &e);
					if (picks && got >= 0 && json_type(&td, 0) == JSON_OBJECT) {
						int pgot = -1;

						picked++;
						if (json_parse_pick(&pd, ds.buf, ds.len, &pk, &je) == 0)
							pgot = sch_validate(&s, &pd, 0, &pe, &e);
						if (got != pgot || !sch_errors_same(&fe, &pe)) {
							differ++;
							printf("# %s: %.*s: picked %d, whole %d\n", base,
							       (int)json_srclen(&d, json_get(&d, t, "description", 11)),
							       json_src(&d, json_get(&d, t, "description", 11)),
							       pgot, got);
						}
					}
				}
				if (got == want)
					passed++;
				else if (verbose)
					printf("# %s: %.*s: want %d, got %d%s%s\n", base,
					       (int)json_srclen(&d, json_get(&d, t, "description", 11)),
					       json_src(&d, json_get(&d, t, "description", 11)), want, got,
					       got < 0 ? ": " : "", got < 0 ? e.msg : "");
				strbuf_release(&ds);
			}
			sch_release(&s);
		}
		printf("%s %u %u %u %u\n", base, passed, total, picked, differ);
		strbuf_release(&text);
		strbuf_release(&src);
		json_doc_release(&d);
		json_doc_release(&td);
		json_doc_release(&pd);
		json_error_release(&je);
		sch_errors_release(&fe);
		sch_errors_release(&pe);
	}
	return 0;
}
