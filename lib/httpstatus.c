#include <stdlib.h>
#include <string.h>

#include "httpstatus.h"

int http_status_set_parse(struct http_status_set *set, const char *arg, struct aperr *e)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int r = 0;

	if (!copy)
		return aperr_set(e, EX_OSERR, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);

		if (!strcmp(tok, "none")) {
			set->none = 1;
		} else if (n == 3 && tok[0] >= '1' && tok[0] <= '5' && tok[1] == 'x' && tok[2] == 'x') {
			int c = (tok[0] - '0') * 100, i;

			for (i = 0; i < 100; i++)
				set->in[c + i] = 1;
			set->any = 1;
		} else if (n == 3 && tok[0] >= '1' && tok[0] <= '5' && strspn(tok, "0123456789") == 3) {
			set->in[atoi(tok)] = 1;
			set->any = 1;
		} else {
			r = aperr_set(e, EX_USAGE, "--fail-on: '%s' is not a list of statuses or classes: "
				      "404,429,5xx, or none", tok);
		}
	}
	free(copy);
	return r;
}

int http_status_set_fails(const struct http_status_set *set, long status, int failed)
{
	if (set->none)
		return 0;
	if (!set->any)
		return failed;
	if (failed && !status)
		return 1;
	return http_status_slot(status) && set->in[status];
}
