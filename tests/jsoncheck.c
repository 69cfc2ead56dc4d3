/*
 * jsoncheck: test helper around lib/json.
 *   jsoncheck FILE…            print "accept NAME" or "reject NAME" per file
 *   jsoncheck --prefixes FILE… every strict prefix of each (object or array)
 *                              document must be rejected; prints one line a file
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/json.h"
#include "../lib/statefile.h"

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
			int r = json_parse(&d, file.buf ? file.buf : "", file.len, NULL);

			if (r == -2)
				return 3;
			printf("%s %s\n", r == 0 ? "accept" : "reject", name);
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
