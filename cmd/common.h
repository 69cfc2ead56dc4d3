/*
 * common: what every program's main() shares.  Unlike lib/, this side
 * prints and exits: die() is only called from cmd/.
 */
#ifndef APIPE_CMD_COMMON_H
#define APIPE_CMD_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "../lib/cli.h"
#include "../lib/err.h"
#include "../lib/jsonl.h"
#include "../lib/jsonw.h"
#include "../lib/strbuf.h"

extern const char *progname;

/* Set the program name, ignore SIGPIPE (EPIPE is handled on write). */
void tool_init(const char *name);
/* "name: message" on stderr, then exit(code). */
void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void die_err(const struct aperr *e) __attribute__((noreturn));
/* die_err(), but a usage error (EX_USAGE) is reported as usage_error() reports it. */
void die_opt(const struct aperr *e) __attribute__((noreturn));
/* "name: message" on stderr. */
void warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "name: message" and "name: try 'name --help'" on stderr, and exit 64. */
void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/*
 * The listings of an HTTP program, before any request: no URL while
 * standard input is a terminal is a usage error (not a silent wait), and
 * an argument that is no URL but an existing file (with no --base-url to
 * resolve it against) says to give its request lines on standard input.
 */
void tool_check_urls(char *const *urls, size_t n, int use_stdin, const char *base_url);
/*
 * A database named on the command line (--db, --resume-from): env:NAME or
 * file:PATH is read (so a PostgreSQL URL with its password stays out of
 * ps); a literal PostgreSQL URL or conninfo holding a password is a usage
 * error naming the ways that keep it secret.  Returns the target (owned
 * by the process).
 */
const char *tool_db_target(const char *arg, const char *opt);
struct option;
/*
 * getopt_long, but a long option must be typed whole: getopt_long takes
 * any unambiguous prefix (--page for --page-param), and a typo must never
 * change what a program does.  A prefix is a usage error naming the option
 * it would have been.
 */
int tool_getopt(int argc, char **argv);
/*
 * The program's options, declared once (struct cli_opt, lib/cli.h): its
 * own table and up to two shared ones (NULL: none; the HTTP options), the
 * common options after them.  getopt's table and short option string,
 * --help (grouped, in table order) and --list-options (the completions)
 * are all made from them.  Call before tool_getopt().
 */
void tool_set_options(const struct cli_opt *own, const struct cli_opt *shared,
		      const struct cli_opt *more);
/* An option renamed for one name per concept: exit 64 naming the new spelling. */
void tool_renamed(const char *old, const char *now) __attribute__((noreturn));
/* Print --help and exit 0. */
void tool_help_exit(const char *usage) __attribute__((noreturn));
/*
 * curl's config files for the HTTP programs: -K FILE (--config FILE) and
 * --profile NAME (or APIPE_PROFILE), which reads
 * $XDG_CONFIG_HOME/apipe/NAME.conf (~/.config/apipe/NAME.conf).  One
 * option a line, as curl reads them: "--header X" "header = X"
 * "header: X" "-H X", "# comments", values quoted with "..." and \"
 * \\ \t \n \r escapes; "url = U" is an operand.  The profile's options
 * come first, a -K file's where it stands on the command line, so the
 * command line overrides a profile.  On return *argc and *argv are a new
 * vector (never freed: it lives as long as the program); a bad file dies
 * with 64 naming its line, a missing one with 66.
 */
void tool_expand_config(int *argc, char ***argv);
/*
 * Handle an option the tool did not recognise: common options are taken,
 * '?' (getopt's complaint, already printed) exits 64.
 */
void tool_common_opt(struct cli_common *c, int opt, const char *arg);
/* After the getopt loop: --help prints usage and exits 0, --version likewise. */
void tool_common_done(const struct cli_common *c, const char *usage);
/*
 * The program will hold secrets (tokens, keys, passwords): no core dump
 * and no ptrace by other users' processes (RLIMIT_CORE 0, not dumpable).
 */
void tool_hold_secrets(void);
/*
 * Is standard output a pipe or a socket -- a next stage that has not made
 * durable what it was given when this program ends?
 */
int tool_stdout_is_pipe(void);
struct http_cli;
struct http_req;
/*
 * -w: r's figures in the format h holds, on standard error (standard
 * output carries JSON Lines); nothing without -w.
 */
void tool_write_out(const struct http_cli *h, const struct http_req *r);
/* Seconds since tool_init(). */
double tool_seconds(void);
/*
 * Read the whole file a program needs (a schema, a baseline) into out,
 * at most 64 MiB; dies with 66 "path: no such what" when it is missing.
 */
void tool_read_file(const char *path, const char *what, struct strbuf *out);
struct json_doc;
/*
 * tool_read_file, then parse it into d (initialised by the caller): the
 * text stays in text, which d's tokens point into.  Dies with 65/66/78
 * naming the path.
 */
void tool_read_json(const char *path, const char *what, struct strbuf *text, struct json_doc *d);
/*
 * A --stats file: tool_stats_begin() opens the object (with "tool" first
 * when tool is not NULL), the program adds its members through st->w, and
 * tool_stats_end() adds "seconds", masks st->scrub's values, closes it and writes the file
 * atomically (nothing when path is NULL); it dies with 70 when the object
 * could not be built and 73 when the file could not be written.
 */
struct tool_stats {
	struct strbuf sb;
	struct jsonw w;
	const struct secrets *scrub;	/* values to mask before writing, or NULL */
};
void tool_stats_begin(struct tool_stats *st, const char *tool);
void tool_stats_end(struct tool_stats *st, const char *path);
/*
 * Handle a writer result: 0 returns, LW_EPIPE exits 0 quietly (the reader
 * went away), -1 dies with the message.
 */
void tool_check_write(int r, const struct aperr *e);
struct json_doc;
struct json_error;
struct json_pick;
/*
 * Parse one input line into d, whole, or only the members pk picks (the
 * line is checked whole either way).  Returns 0, or -1 with a message
 * naming the byte and the JSON Pointer in e (the error pointer stays in
 * je); running out of memory ends the run.
 */
int tool_parse_line(struct json_doc *d, struct json_error *je, const struct json_pick *pk,
		    const char *line, size_t n, uint64_t lineno, struct aperr *e);
/*
 * Set up a filter: line reader on stdin and writer on stdout (registered
 * with tool_set_output) bounded by the common options, and a parser (d and
 * je may be NULL: the caller keeps its own).
 */
/*
 * A line that is an in-band state line without its RS byte (a stage such
 * as jq rewrote it): exit 65 naming the line and what to do.
 */
void tool_refuse_lost_state(const char *line, size_t n, uint64_t lineno);
/*
 * A progress line's parts on standard error: "elapsed 1m05s, 153.2 UNIT/s"
 * for count in seconds; ", 40% of TOTAL, ETA 0m12s" for done of total at
 * that rate.
 */
void tool_progress_rate(double seconds, double count, const char *unit);
void tool_progress_eta(double seconds, double count, uint64_t done, uint64_t total);
void tool_filter_init(const struct cli_common *c, struct lreader *in, struct lwriter *out,
		      struct json_doc *d, struct json_error *je);
/* The writer die() flushes before exiting, so accepted output is not lost. */
void tool_set_output(struct lwriter *out);
/* Flush stdout's writer and close it, with tool_check_write semantics. */
void tool_finish(struct lwriter *out);

/* One entry point per program (git's cmd_<name>). */
int cmd_records(int argc, char **argv);
int cmd_dedupe(int argc, char **argv);
int cmd_watermark(int argc, char **argv);
int cmd_fetch_page(int argc, char **argv);
int cmd_paginate(int argc, char **argv);
int cmd_oauth_login(int argc, char **argv);
int cmd_upsert(int argc, char **argv);
int cmd_webhook_recv(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_store_raw(int argc, char **argv);
int cmd_tabulate(int argc, char **argv);
int cmd_singer(int argc, char **argv);

#endif
