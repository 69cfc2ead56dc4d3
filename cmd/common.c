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

void usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	exit(EX_USAGE);
}

int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		const char *usage)
{
	int idx = -1, c = getopt_long(argc, argv, shortopts, longopts, &idx);
	const char *tok;
	size_t n;

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
		usage_error(usage, "unknown option '%.*s' (long options are never abbreviated: "
			    "--%s?)", (int)(n + 2), tok, longopts[idx].name);
	return c;
}

void tool_common_opt(struct cli_common *c, int opt, const char *arg, const char *usage)
{
	struct aperr e;
	int r = cli_common_opt(c, opt, arg, &e);

	if (r < 0)
		usage_error(usage, "%s", e.msg);
	if (r == 0) {
		fputs(usage, stderr);
		exit(EX_USAGE);
	}
}

void tool_common_done(const struct cli_common *c, const char *usage)
{
	if (c->help) {
		fputs(usage, stdout);
		exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
	}
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

void tool_write_stats(const char *path, const struct strbuf *json)
{
	struct aperr e;
	struct strbuf s = STRBUF_INIT;

	if (strbuf_add(&s, json->buf, json->len) < 0 || strbuf_addch(&s, '\n') < 0)
		die(EX_OSERR, "out of memory");
	if (statefile_write(path, s.buf, s.len, 0, &e) < 0) {
		aperr_prefix(&e, "--stats");
		die(EX_CANTCREAT, "%s", e.msg);
	}
	strbuf_release(&s);
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

int tool_parse_line(struct json_doc *d, struct json_error *je, const char *line,
		    size_t n, uint64_t lineno, struct aperr *e)
{
	int r = json_parse(d, line, n, je);

	if (r == -2)
		die(EX_OSERR, "line %llu: out of memory", (unsigned long long)lineno);
	return r < 0 ? json_error_to_aperr(je, e) : 0;
}

void tool_filter_init(const struct cli_common *c, struct lreader *in, struct lwriter *out,
		      struct json_doc *d, struct json_error *je)
{
	struct aperr e;

	if (lreader_init(in, 0, "stdin", c->max_line, &e) < 0 ||
	    lwriter_init(out, 1, "stdout", 0, &e) < 0)
		die_err(&e);
	tool_set_output(out);
	json_doc_init(d, c->max_depth);
	json_error_init(je);
}
