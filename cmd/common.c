#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "../lib/httpcli.h"
#include "../lib/json.h"
#include "../lib/statefile.h"

const char *progname = "apipe";
static struct timespec started;
static struct lwriter *tool_out;

void tool_set_output(struct lwriter *out)
{
	tool_out = out;
}

/* What was already accepted reaches the reader even when the run stops. */
static void flush_output(void)
{
	struct aperr e;

	if (tool_out && !tool_out->failed)
		lwriter_flush(tool_out, &e);
	tool_out = NULL;
}

void tool_init(const char *name)
{
	progname = name;
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &started);
}

void tool_hold_secrets(void)
{
	struct rlimit none = { 0, 0 };

	/* a core dump of a process holding a token would hold the token */
	if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(EX_OSERR, "cannot turn core dumps off: %s", strerror(errno));
}

int tool_stdout_is_pipe(void)
{
	struct stat st;

	return fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

void tool_write_out(const struct http_cli *h, const struct http_req *r)
{
	struct strbuf w = STRBUF_INIT;

	if (!h->write_out)
		return;
	http_cli_write_out(h, r, &w);
	if (w.len)
		fwrite(w.buf, 1, w.len, stderr);
	strbuf_release(&w);
}

double tool_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - started.tv_sec) +
	       (double)(now.tv_nsec - started.tv_nsec) / 1e9;
}

void warnmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	flush_output();
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void die_err(const struct aperr *e)
{
	die(e->code ? e->code : EX_SOFTWARE, "%s", e->msg);
}

void die_opt(const struct aperr *e)
{
	if (e->code == EX_USAGE)
		usage_error("%s", e->msg);
	die_err(e);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s: try '%s --help'\n", progname, progname);
	exit(EX_USAGE);
}

void tool_check_urls(char *const *urls, size_t n, int use_stdin, const char *base_url)
{
	size_t i;

	if (use_stdin && isatty(0))
		usage_error("no URL, and standard input is a terminal: give a URL, or request "
			    "lines on standard input");
	for (i = 0; i < n && !base_url; i++)
		if (!strstr(urls[i], "://") && access(urls[i], F_OK) == 0)
			usage_error("%s: a file, not a URL; to send the request lines it holds, give "
				    "it on standard input: %s < %s", urls[i], progname, urls[i]);
}

/* Does a PostgreSQL URL or conninfo carry a password? */
static int pg_password(const char *t)
{
	const char *at, *colon, *rest;

	if (strstr(t, "password="))
		return 1;
	if (strncmp(t, "postgresql://", 13) && strncmp(t, "postgres://", 11))
		return 0;
	rest = strstr(t, "://") + 3;
	at = strchr(rest, '@');
	colon = strchr(rest, ':');
	return at && colon && colon < at && !memchr(rest, '/', (size_t)(at - rest));
}

/* Resolved database targets live as long as the program (kept reachable, as expanded is). */
static char *volatile db_targets[4];

const char *tool_db_target(const char *arg, const char *opt)
{
	struct aperr e;
	char *v;
	size_t i;

	if (secret_is_ref(arg)) {
		if (secret_resolve(arg, opt, NULL, &v, &e) < 0)
			die_err(&e);
		for (i = 0; i < sizeof(db_targets) / sizeof(*db_targets) && db_targets[i]; i++)
			;
		if (i < sizeof(db_targets) / sizeof(*db_targets))
			db_targets[i] = v;
		return v;
	}
	if (pg_password(arg))
		usage_error("%s: a password on the command line shows in ps; give it in PGPASSWORD "
			    "or ~/.pgpass, or the whole URL as env:NAME or file:PATH", opt);
	return arg;
}

/* The program's option tables: its own, one or two shared, then the common one. */
static const struct cli_opt *opt_tables[4];
static struct option *longopts;	/* getopt's table, made from them */
static char shortopts[128];

static void make_getopt_tables(void)
{
	size_t t, i, n = 0, k = 0;

	if (longopts)
		return;
	if (!opt_tables[3])
		tool_set_options(NULL, NULL, NULL);
	for (t = 0; t < 4; t++)
		for (i = 0; opt_tables[t] && opt_tables[t][i].id; i++)
			n++;
	if (!(longopts = calloc(n + 1, sizeof(*longopts))))
		die(EX_OSERR, "out of memory");
	n = 0;
	for (t = 0; t < 4; t++)
		for (i = 0; opt_tables[t] && opt_tables[t][i].id; i++) {
			const struct cli_opt *o = &opt_tables[t][i];

			if (o->name) {
				longopts[n].name = o->name;
				longopts[n].has_arg = o->has_arg;
				longopts[n].val = o->id;
				n++;
			}
			if (o->letter && k + 3 < sizeof(shortopts)) {
				shortopts[k++] = (char)o->letter;
				if (o->has_arg == required_argument)
					shortopts[k++] = ':';
			}
		}
	shortopts[k] = '\0';
}

/* "-o, --output file" as --help shows an option, into buf. */
static const char *shown(const struct cli_opt *o, char *buf, size_t n)
{
	snprintf(buf, n, "%s%c%s%s%s%s%s", o->letter ? "-" : "", o->letter ? o->letter : ' ',
		 o->letter && o->name ? ", " : "", o->name ? "--" : "", o->name ? o->name : "",
		 o->arg ? " " : "", o->arg ? o->arg : "");
	return buf + (o->letter ? 0 : 1);
}

/*
 * --list-options (for the shell completions): every option --help lists,
 * one a line: the option, its argument's name ("" for none) and its
 * meaning, tab-separated; an option with both forms gives two lines.
 */
static void list_options(void) __attribute__((noreturn));
static void list_options(void)
{
	size_t t, i;

	for (t = 0; t < 4; t++)
		for (i = 0; opt_tables[t] && opt_tables[t][i].id; i++) {
			const struct cli_opt *o = &opt_tables[t][i];
			const char *arg = o->arg ? o->arg : "";

			if (!o->help)
				continue;
			if (o->letter)
				printf("-%c\t%s\t%s\n", o->letter, arg, o->help);
			if (o->name)
				printf("--%s\t%s\t%s\n", o->name, arg, o->help);
		}
	exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
}

int tool_getopt(int argc, char **argv)
{
	int idx = -1, c;
	const char *tok;
	size_t n;

	make_getopt_tables();
	if (optind <= 1 && argc >= 2 && !strcmp(argv[argc - 1], "--list-options"))
		list_options();
	c = getopt_long(argc, argv, shortopts, longopts, &idx);

	if (c == -1 || c == '?' || idx < 0 || optind < 1)
		return c;
	/* the word typed: the option's own, not its separate argument */
	tok = argv[optind - 1];
	if (optarg && optarg == tok && optind >= 2)
		tok = argv[optind - 2];
	if (strncmp(tok, "--", 2))
		return c;
	n = strcspn(tok + 2, "=");
	if (n != strlen(longopts[idx].name) || strncmp(tok + 2, longopts[idx].name, n))
		usage_error("unknown option '%.*s' (long options are never abbreviated: "
			    "--%s?)", (int)(n + 2), tok, longopts[idx].name);
	return c;
}

/* The expanded arguments live as long as the program (volatile: kept, not optimised away). */
static char **volatile expanded;

void tool_expand_config(int *argc, char ***argv)
{
	struct aperr e;

	make_getopt_tables();
	if (cli_config_expand(*argc, *argv, shortopts, longopts, argc, argv, &e) < 0)
		die_opt(&e);
	expanded = *argv;
}

void tool_common_opt(struct cli_common *c, int opt, const char *arg)
{
	struct aperr e;
	int r = cli_common_opt(c, opt, arg, &e);

	if (r < 0)
		usage_error("%s", e.msg);
	if (r == 0) {
		fprintf(stderr, "%s: try '%s --help'\n", progname, progname);
		exit(EX_USAGE);
	}
}

void tool_set_options(const struct cli_opt *own, const struct cli_opt *shared,
		      const struct cli_opt *more)
{
	opt_tables[0] = own;
	opt_tables[1] = shared;
	opt_tables[2] = more;
	opt_tables[3] = cli_common_options;
}

/* --help: the usage, then every listed option with its meaning, by group. */
static void print_help(const char *usage)
{
	const char *groups[32];
	char buf[160];
	size_t ngroups = 0, g, t, i;

	fputs(usage, stdout);
	for (t = 0; t < 4; t++)
		for (i = 0; opt_tables[t] && opt_tables[t][i].id; i++) {
			const struct cli_opt *o = &opt_tables[t][i];

			if (!o->help)
				continue;
			for (g = 0; g < ngroups; g++)
				if (!strcmp(groups[g], o->group))
					break;
			if (g == ngroups && ngroups < 32)
				groups[ngroups++] = o->group;
		}
	for (g = 0; g < ngroups; g++) {
		printf("\n%s:\n", groups[g]);
		for (t = 0; t < 4; t++)
			for (i = 0; opt_tables[t] && opt_tables[t][i].id; i++) {
				const struct cli_opt *o = &opt_tables[t][i];
				const char *opt;
				int w;

				if (!o->help || strcmp(o->group, groups[g]))
					continue;
				opt = shown(o, buf, sizeof(buf));
				w = (int)strlen(opt);
				if (w > 30)
					printf("  %s\n  %32s%s\n", opt, "", o->help);
				else
					printf("  %-32s%s\n", opt, o->help);
			}
	}
	printf("\nSee %s(1).\n", progname);
}

void tool_renamed(const char *old, const char *now)
{
	usage_error("%s is now spelled %s (one name for one thing across apipe)", old, now);
}

void tool_help_exit(const char *usage)
{
	if (!opt_tables[3])
		tool_set_options(NULL, NULL, NULL);
	print_help(usage);
	exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
}

void tool_common_done(const struct cli_common *c, const char *usage)
{
	if (c->help)
		tool_help_exit(usage);
	if (c->version) {
		printf("%s (apipe) %s\n", progname, APIPE_VERSION);
		exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
	}
}

void tool_read_file(const char *path, const char *what, struct strbuf *out)
{
	struct aperr e;
	int r = statefile_read(path, out, 1 << 26, &e);

	if (r == 1)
		die(EX_NOINPUT, "%s: no such %s", path, what);
	if (r < 0)
		die_err(&e);
}

void tool_read_json(const char *path, const char *what, struct strbuf *text, struct json_doc *d)
{
	struct json_error je;
	struct aperr e;

	tool_read_file(path, what, text);
	json_error_init(&je);
	if (json_parse(d, text->buf, text->len, &je) < 0) {
		json_error_to_aperr(&je, &e);
		die(EX_CONFIG, "%s: %s", path, e.msg);
	}
	json_error_release(&je);
}

void tool_stats_begin(struct tool_stats *st, const char *tool)
{
	strbuf_init(&st->sb, 0);
	st->scrub = NULL;
	jw_init(&st->w, &st->sb);
	jw_object(&st->w);
	if (tool)
		jw_member_str(&st->w, "tool", tool);
}

void tool_stats_end(struct tool_stats *st, const char *path)
{
	struct aperr e;

	jw_key(&st->w, "seconds");
	jw_fixed(&st->w, tool_seconds(), 3);
	jw_end_object(&st->w);
	if (jw_finish_line(&st->w) < 0)
		die(EX_OSERR, "--stats: %s", jw_error(&st->w));
	if (st->scrub)
		secrets_scrub(st->scrub, &st->sb);
	if (path && !strcmp(path, "-")) {	/* standard error, as curl's -w does */
		if (fwrite(st->sb.buf, 1, st->sb.len, stderr) != st->sb.len || fflush(stderr))
			die(EX_IOERR, "--stats: standard error: %s", strerror(errno));
	} else if (path && statefile_write(path, st->sb.buf, st->sb.len, 0, &e) < 0) {
		aperr_prefix(&e, "--stats");
		die(EX_CANTCREAT, "%s", e.msg);
	}
	strbuf_release(&st->sb);
}

void tool_check_write(int r, const struct aperr *e)
{
	if (r == 0)
		return;
	tool_out = NULL;
	if (r == LW_EPIPE)
		exit(0);
	die(EX_IOERR, "%s", e->msg);
}

void tool_finish(struct lwriter *out)
{
	struct aperr e;

	tool_check_write(lwriter_flush(out, &e), &e);
	tool_out = NULL;
	if (close(out->fd) < 0)
		die(EX_IOERR, "%s: close failed", out->name);
	lwriter_release(out);
}

int tool_parse_line(struct json_doc *d, struct json_error *je, const struct json_pick *pk,
		    const char *line, size_t n, uint64_t lineno, struct aperr *e)
{
	int r = json_parse_pick(d, line, n, pk, je);

	if (r == -2)
		die(EX_OSERR, "line %llu: out of memory", (unsigned long long)lineno);
	return r < 0 ? json_error_to_aperr(je, e) : 0;
}

/* A duration as 42s, 3m05s or 2h03m. */
static void put_duration(double s)
{
	unsigned long t = s > 0 && s < 1e9 ? (unsigned long)(s + 0.5) : 0;

	if (t < 60)
		fprintf(stderr, "%lus", t);
	else if (t < 3600)
		fprintf(stderr, "%lum%02lus", t / 60, t % 60);
	else
		fprintf(stderr, "%luh%02lum", t / 3600, t / 60 % 60);
}

void tool_progress_rate(double seconds, double count, const char *unit)
{
	fputs("elapsed ", stderr);
	put_duration(seconds);
	fprintf(stderr, ", %.1f %s/s", seconds > 0 ? count / seconds : 0.0, unit);
}

void tool_progress_eta(double seconds, double count, uint64_t done, uint64_t total)
{
	double rate = seconds > 0 ? count / seconds : 0;

	fprintf(stderr, ", %.0f%% of %llu", total ? 100.0 * (double)done / (double)total : 100.0,
		(unsigned long long)total);
	if (rate > 0) {
		fputs(", ETA ", stderr);
		put_duration((double)(total - done) / rate);
	}
}

void tool_refuse_lost_state(const char *line, size_t n, uint64_t lineno)
{
	static const char head[] = "{\"apipe_state\":";

	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (n >= sizeof(head) - 1 && !memcmp(line, head, sizeof(head) - 1))
		die(EX_DATAERR, "line %llu: an in-band state line without its RS byte: a stage "
		    "before this one rewrote it (jq does); pass lines that begin with RS on "
		    "unchanged (see IN-BAND STATE in apipe(7))", (unsigned long long)lineno);
}

/* The upstream paused: what the filter holds goes on now (an error shows at the next write). */
static void flush_on_idle(void *ctx)
{
	struct aperr e;

	(void)lwriter_flush(ctx, &e);
}

void tool_filter_init(const struct cli_common *c, struct lreader *in, struct lwriter *out,
		      struct json_doc *d, struct json_error *je)
{
	struct aperr e;

	if (lreader_init(in, 0, "stdin", c->max_line, &e) < 0 ||
	    lwriter_init(out, 1, "stdout", 0, &e) < 0)
		die_err(&e);
	in->on_idle = flush_on_idle;
	in->idle_ctx = out;
	tool_set_output(out);
	if (d)
		json_doc_init(d, c->max_depth);
	if (je)
		json_error_init(je);
}
