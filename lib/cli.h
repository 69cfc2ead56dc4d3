/*
 * cli: the options every tool shares, parsed in one place.
 *
 * A tool puts CLI_COMMON_LONGOPTS in its getopt_long table and "hqv" in its
 * short option string, then hands every option it does not know itself to
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

#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "stats", required_argument, NULL, CLI_OPT_STATS }, \
	{ "max-line", required_argument, NULL, CLI_OPT_MAX_LINE }, \
	{ "max-depth", required_argument, NULL, CLI_OPT_MAX_DEPTH }

struct cli_common {
	int help, version;
	int quiet, verbose;
	const char *stats;	/* --stats FILE, or NULL */
	size_t max_line;	/* --max-line, default 64 MiB */
	unsigned max_depth;	/* --max-depth, default 512 */
};

/*
 * One line of a program's --help: the group it is listed under, the
 * option as typed, and what it does.  Tables end with a NULL opt.
 */
struct cli_help {
	const char *group, *opt, *meaning;
};
extern const struct cli_help cli_common_help[];

void cli_common_init(struct cli_common *c);
/*
 * Handle option c (with its argument).  Returns 1 when it was a common
 * option, 0 when it is not one (the tool reports it), -1 on a bad value
 * (EX_USAGE in e).
 */
int cli_common_opt(struct cli_common *c, int opt, const char *arg, struct aperr *e);

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
