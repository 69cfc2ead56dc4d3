/*
 * jsoncheck: test helper around lib/json.
 *   jsoncheck FILE…            print "accept NAME" or "reject NAME" per file
 *   jsoncheck --prefixes FILE… every strict prefix of each (object or array)
 *                              document must be rejected; prints one line a file
 * Every document is also read by json_parse_pick() picking /b: as it is,
 * as the skipped member of {"a":DOC,"b":0} and as the picked member of
 * {"a":0,"b":DOC}.  A verdict that differs from json_parse()'s is reported
 * on stderr and fails the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/json.h"
#include "../lib/statefile.h"

/* Does json_parse_pick() (picking /b) give json_parse()'s verdict on doc, bare and wrapped? */
static int pick_agrees(struct json_doc *d, const char *doc, size_t n, int want)
{
	static const char *const wrap[][2] = { { "{\"a\":", ",\"b\":0}" }, { "{\"a\":0,\"b\":", "}" } };
	struct strbuf w = STRBUF_INIT;
	struct json_ptr p;
	struct json_pick pk;
	struct aperr e;
	size_t k;
	int r;

	if (json_ptr_parse(&p, "/b", &e) < 0)
		return 0;
	json_pick_init(&pk);
	json_pick_add(&pk, &p);
	r = (json_parse_pick(d, doc, n, &pk, NULL) == 0) == want;
	for (k = 0; k < 2; k++) {
		strbuf_reset(&w);
		strbuf_addstr(&w, wrap[k][0]);
		strbuf_add(&w, doc, n);
		strbuf_addstr(&w, wrap[k][1]);
		r = r && (json_parse_pick(d, w.buf, w.len, &pk, NULL) == 0) ==
			 (json_parse(d, w.buf, w.len, NULL) == 0);
	}
	strbuf_release(&w);
	json_ptr_release(&p);
	return r;
}

int main(int argc, char **argv)
{
	struct json_doc d;
	struct strbuf file = STRBUF_INIT;
	struct aperr e;
	int i, prefixes = 0, bad = 0;

	json_doc_init(&d, 0);
	for (i = 1; i < argc; i++) {
		const char *name = strrchr(argv[i], '/');

		if (!strcmp(argv[i], "--prefixes")) {
			prefixes = 1;
			continue;
		}
		name = name ? name + 1 : argv[i];
		if (statefile_read(argv[i], &file, (size_t)1 << 30, &e) != 0) {
			fprintf(stderr, "jsoncheck: %s\n", e.msg);
			return 2;
		}
		if (!prefixes) {
			int r = json_parse(&d, file.buf, file.len, NULL);

			if (r == -2)
				return 3;
			printf("%s %s\n", r == 0 ? "accept" : "reject", name);
			if (!pick_agrees(&d, file.buf, file.len, r == 0)) {
				fprintf(stderr, "jsoncheck: %s: json_parse_pick disagrees\n", name);
				bad = 1;
			}
		} else {
			size_t n, len = file.len, accepted = 0;
			int whole;

			while (len && strchr(" \t\r\n", file.buf[len - 1]))
				len--;
			whole = json_parse(&d, file.buf, len, NULL) == 0;
			for (n = 0; n < len; n++)
				if (json_parse(&d, file.buf, n, NULL) == 0)
					accepted++;
			printf("%s %s (%zu prefixes)\n", !whole ? "whole-rejected" :
			       accepted ? "accepted-prefix" : "ok", name, len);
			bad += accepted != 0 || !whole;
		}
	}
	strbuf_release(&file);
	json_doc_release(&d);
	return bad ? 1 : 0;
}
