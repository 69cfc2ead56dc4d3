#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "jsonl.h"
#include "num.h"

const struct cli_opt cli_common_options[] = {
	{ "help", 'h', no_argument, 'h', NULL, "General", "this help, and exit" },
	{ "version", 0, no_argument, CLI_OPT_VERSION, NULL, "General", "the version, and exit" },
	{ "quiet", 'q', no_argument, 'q', NULL, "General", "no warnings or progress" },
	{ "verbose", 'v', no_argument, 'v', NULL, "General", "say what is done, on standard error" },
	{ "stats", 0, required_argument, CLI_OPT_STATS, "file", "General", "write the run's figures to file as JSON (-: standard error)" },
	{ "max-line", 0, required_argument, CLI_OPT_MAX_LINE, "size", "General", "longest input or output line (default 64M)" },
	{ "max-depth", 0, required_argument, CLI_OPT_MAX_DEPTH, "n", "General", "deepest JSON nesting accepted (default 512)" },
	CLI_OPT_END
};

void cli_common_init(struct cli_common *c)
{
	memset(c, 0, sizeof(*c));
	c->max_line = LREADER_DEFAULT_MAX_LINE;
	c->max_depth = JSON_DEFAULT_DEPTH;
}

int cli_common_opt(struct cli_common *c, int opt, const char *arg, struct aperr *e)
{
	uint64_t v;

	switch (opt) {
	case 'h': c->help = 1; return 1;
	case CLI_OPT_VERSION: c->version = 1; return 1;
	case 'q': c->quiet = 1; c->verbose = 0; return 1;
	case 'v': c->verbose++; c->quiet = 0; return 1;
	case CLI_OPT_STATS: c->stats = arg; return 1;
	case CLI_OPT_MAX_LINE:
		if (num_parse_size(arg, &v, "--max-line", e) < 0)
			return -1;
		if (v == 0 || v > JSON_MAX_SIZE)
			return aperr_set(e, EX_USAGE, "--max-line: must be between 1 and %zu bytes",
					 JSON_MAX_SIZE);
		c->max_line = (size_t)v;
		return 1;
	case CLI_OPT_MAX_DEPTH:
		if (num_parse_u64(arg, &v, "--max-depth", e) < 0)
			return -1;
		if (v == 0 || v > 100000)
			return aperr_set(e, EX_USAGE, "--max-depth: must be between 1 and 100000");
		c->max_depth = (unsigned)v;
		return 1;
	default:
		return 0;
	}
}

int cli_pointer_to(const char *arg, struct json_ptr *p, const char **name, struct aperr *e)
{
	const char *eq = strchr(arg, '=');
	char *ptr;
	int r;

	if (!eq || eq == arg || !eq[1])
		return aperr_set(e, EX_USAGE, "%s: POINTER=NAME", arg);
	if (!(ptr = strndup(arg, (size_t)(eq - arg))))
		return aperr_set(e, EX_OSERR, "out of memory");
	r = json_ptr_parse(p, ptr, e);
	free(ptr);
	*name = eq + 1;
	return r;
}
