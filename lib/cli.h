/*
 * cli: the options every tool shares, parsed in one place.
 *
 * A tool lists cli_common_options after its own (tool_set_options: it is
 * always there), then hands every option it does not know itself to
 * cli_common_opt().  Nothing here prints; the tool prints help and version.
 */
#ifndef APIPE_CLI_H
#define APIPE_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "err.h"

#define APIPE_VERSION "0.1.0"

enum {
	CLI_OPT_VERSION = 0x1000,
	CLI_OPT_STATS,
	CLI_OPT_MAX_LINE,
	CLI_OPT_MAX_DEPTH,
	CLI_OPT_FIRST_TOOL	/* tools number their own long-only options from here */
};

struct cli_common {
	int help, version;
	int quiet, verbose;
	const char *stats;	/* --stats FILE, or NULL */
	size_t max_line;	/* --max-line, default 64 MiB */
	unsigned max_depth;	/* --max-depth, default 512 */
};

/*
 * An option, declared once: getopt's table, the short option string,
 * --help and the shell completions (--list-options) are all made from the
 * tables of these a program hands to tool_set_options().  name is the long
 * name (NULL: a short option alone), letter the short one (0: none), id
 * what the option parser returns for the long form (the letter for the
 * short form), arg the argument's name as --help shows it, group and help
 * where --help lists it and what it says (NULL: not listed -- a refused
 * spelling or an old name).  A table ends with CLI_OPT_END.
 */
struct cli_opt {
	const char *name;
	int letter;
	int has_arg;
	int id;
	const char *arg, *group, *help;
};
#define CLI_OPT_END { NULL, 0, 0, 0, NULL, NULL, NULL }
extern const struct cli_opt cli_common_options[];	/* -h, --version, -q, -v, --stats… */

void cli_common_init(struct cli_common *c);
/*
 * Handle option c (with its argument).  Returns 1 when it was a common
 * option, 0 when it is not one (the tool reports it), -1 on a bad value
 * (EX_USAGE in e).
 */
int cli_common_opt(struct cli_common *c, int opt, const char *arg, struct aperr *e);
/*
 * POINTER=NAME (upsert's and tabulate's --child): the pointer parsed into
 * *p (the caller releases it), *name pointing into arg after the first
 * '='.  0, or -1 (EX_USAGE in e).
 */
struct json_ptr;
int cli_pointer_to(const char *arg, struct json_ptr *p, const char **name, struct aperr *e);

/*
 * Config files and profiles (cliconfig.c), as curl's -K: each line is an
 * option, "name value", "name = value" or "name: value", a value may be
 * "quoted" with \t \n \r \v and \\ escapes, # starts a comment; url lines
 * become arguments after the options.  -K FILE / --config FILE /
 * --config=FILE read a file where they stand; --profile NAME (or
 * $APIPE_PROFILE) reads $XDG_CONFIG_HOME/apipe/NAME.conf (else
 * ~/.config/apipe/NAME.conf) before everything else.
 *
 * cli_config_expand() sets *out to argv with these expanded, a NULL-ended
 * vector the program keeps to its end (argc in *outc), or leaves them
 * untouched (0) when argv names no config; -1 (EX_USAGE naming the file
 * and line, or EX_NOINPUT for a missing file) on error.
 */
int cli_config_expand(int argc, char **argv, const char *shortopts,
		      const struct option *longopts, int *outc, char ***out, struct aperr *e);

#endif
