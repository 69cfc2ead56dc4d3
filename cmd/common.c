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

int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
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
		usage_error("unknown option '%.*s' (long options are never abbreviated: "
			    "--%s?)", (int)(n + 2), tok, longopts[idx].name);
	return c;
}

/* A growing argument vector. */
struct argvec {
	char **v;
	int n, alloc;
};
/* The expanded arguments live as long as the program (volatile: kept, not optimised away). */
static char **volatile expanded;

static void argvec_add(struct argvec *a, const char *s, size_t n)
{
	char *c = strndup(s, n);

	if (a->n + 2 > a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 32;
		a->v = realloc(a->v, (size_t)a->alloc * sizeof(*a->v));
	}
	if (!a->v || !c)
		die(EX_OSERR, "out of memory");
	a->v[a->n++] = c;
	a->v[a->n] = NULL;
}

/* The option name of a config line, and whether it takes a value (-1: unknown). */
static int config_takes(const char *name, size_t n, const char *shortopts,
			const struct option *longopts)
{
	const struct option *o;
	const char *p;

	if (n == 1) {
		p = memchr(shortopts, name[0], strlen(shortopts));
		return p && name[0] != ':' ? p[1] == ':' : -1;
	}
	for (o = longopts; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, name, n))
			return o->has_arg == required_argument;
	return -1;
}

/* Read one config file into args: its options, and its url lines into urls. */
static void config_read(const char *path, const char *what, struct argvec *args,
			struct argvec *urls, const char *shortopts, const struct option *longopts)
{
	struct strbuf text = STRBUF_INIT, v = STRBUF_INIT;
	const char *p, *line;
	unsigned lineno = 0;

	tool_read_file(path, what, &text);
	for (p = text.buf ? text.buf : ""; *p; p = line) {
		const char *name, *q;
		size_t nl, len = strcspn(p, "\n");
		int takes, dashes = 0;

		line = p + len + (p[len] == '\n');
		lineno++;
		p += strspn(p, " \t");
		if (p >= line || *p == '#' || *p == '\n' || *p == '\r')
			continue;
		while (*p == '-' && dashes < 2) {
			p++;
			dashes++;
		}
		name = p;
		nl = strcspn(p, " \t=:\r\n");
		q = p + nl;
		if (dashes == 1 && nl != 1)
			usage_error("%s:%u: '-%.*s': a short option is one letter", path,
				    lineno, (int)nl, name);
		q += strspn(q, " \t");
		if (*q == '=' || *q == ':')
			q++;
		q += strspn(q, " \t");
		strbuf_reset(&v);
		if (*q == '"') {
			for (q++; *q && *q != '"' && *q != '\n'; q++) {
				if (*q == '\\' && q[1] && q[1] != '\n') {
					q++;
					strbuf_addch(&v, *q == 't' ? '\t' : *q == 'n' ? '\n'
							 : *q == 'r' ? '\r' : *q == 'v' ? '\v' : *q);
				} else {
					strbuf_addch(&v, *q);
				}
			}
			if (*q != '"')
				usage_error("%s:%u: an unterminated quoted value", path, lineno);
		} else {
			strbuf_add(&v, q, strcspn(q, " \t\r\n"));
		}
		if (nl == 3 && !strncmp(name, "url", 3) && dashes != 1) {
			argvec_add(urls, v.buf ? v.buf : "", v.len);
			continue;
		}
		if ((nl == 6 && !strncmp(name, "config", 6)) || (nl == 1 && *name == 'K') ||
		    (nl == 7 && !strncmp(name, "profile", 7)))
			usage_error("%s:%u: a config file does not read another", path, lineno);
		takes = config_takes(name, nl, shortopts, longopts);
		if (takes < 0)
			usage_error("%s:%u: unknown option '%.*s'", path, lineno, (int)nl, name);
		if (takes && !v.len && *q != '"')
			usage_error("%s:%u: %.*s needs a value", path, lineno, (int)nl, name);
		if (!takes && v.len)
			usage_error("%s:%u: %.*s takes no value", path, lineno, (int)nl, name);
		if (nl == 1) {
			char opt[3] = { '-', name[0], '\0' };

			argvec_add(args, opt, 2);
		} else {
			struct strbuf o = STRBUF_INIT;

			strbuf_addstr(&o, "--");
			strbuf_add(&o, name, nl);
			argvec_add(args, o.buf, o.len);
			strbuf_release(&o);
		}
		if (takes)
			argvec_add(args, v.buf ? v.buf : "", v.len);
	}
	strbuf_release(&text);
	strbuf_release(&v);
}

void tool_expand_config(int *argc, char ***argv, const char *shortopts,
			const struct option *longopts)
{
	struct argvec out = { 0 }, urls = { 0 }, rest = { 0 };
	const char *profile = getenv("APIPE_PROFILE");
	char **av = *argv;
	int i, any = profile && *profile, ended = 0;

	for (i = 1; i < *argc && !any; i++)
		any = !strcmp(av[i], "-K") || !strcmp(av[i], "--config") ||
		      !strncmp(av[i], "--config=", 9) || !strcmp(av[i], "--profile") ||
		      !strncmp(av[i], "--profile=", 10) || (!strncmp(av[i], "-K", 2) && av[i][2]);
	if (!any)
		return;
	argvec_add(&out, av[0], strlen(av[0]));
	/* the profile first: --profile NAME on the command line wins over the variable */
	for (i = 1; i < *argc; i++) {
		if (!strcmp(av[i], "--"))
			break;
		if (!strcmp(av[i], "--profile") && i + 1 < *argc)
			profile = av[i + 1];
		else if (!strncmp(av[i], "--profile=", 10))
			profile = av[i] + 10;
	}
	if (profile && *profile) {
		struct strbuf path = STRBUF_INIT;
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

		if (strspn(profile, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_.-") != strlen(profile) || *profile == '.')
			usage_error("--profile '%s': a profile name is letters, digits, "
				    "'_', '-' and '.'", profile);
		if (xdg && *xdg)
			strbuf_addf(&path, "%s/apipe/%s.conf", xdg, profile);
		else
			strbuf_addf(&path, "%s/.config/apipe/%s.conf", home ? home : "", profile);
		config_read(path.buf, "profile", &out, &urls, shortopts, longopts);
		strbuf_release(&path);
	}
	for (i = 1; i < *argc; i++) {
		const char *a = av[i];

		if (ended) {
			argvec_add(&rest, a, strlen(a));
		} else if (!strcmp(a, "--")) {
			ended = 1;
			argvec_add(&rest, a, strlen(a));
		} else if (!strcmp(a, "--profile") || !strcmp(a, "-K") || !strcmp(a, "--config")) {
			if (i + 1 >= *argc)
				usage_error("%s needs a value", a);
			if (strcmp(a, "--profile"))
				config_read(av[i + 1], "config file", &out, &urls, shortopts, longopts);
			i++;
		} else if (!strncmp(a, "--profile=", 10)) {
			continue;
		} else if (!strncmp(a, "--config=", 9) || (!strncmp(a, "-K", 2) && a[2])) {
			config_read(a + (a[1] == 'K' ? 2 : 9), "config file", &out, &urls, shortopts,
				    longopts);
		} else {
			argvec_add(&out, a, strlen(a));
		}
	}
	/* the files' urls after the options, before an explicit -- and what follows it */
	for (i = 0; i < urls.n; i++) {
		argvec_add(&out, urls.v[i], strlen(urls.v[i]));
		free(urls.v[i]);
	}
	for (i = 0; i < rest.n; i++) {
		argvec_add(&out, rest.v[i], strlen(rest.v[i]));
		free(rest.v[i]);
	}
	free(urls.v);
	free(rest.v);
	expanded = out.v;	/* the program's arguments from now on */
	*argc = out.n;
	*argv = out.v;
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

static const struct cli_help *help_tables[4];	/* own, shared, more, common */

void tool_set_help(const struct cli_help *own, const struct cli_help *shared)
{
	help_tables[0] = own;
	help_tables[1] = shared;
	help_tables[2] = NULL;
	help_tables[3] = cli_common_help;
}

void tool_add_help(const struct cli_help *more)
{
	help_tables[2] = more;
}

/* --help: the usage, then every option with its meaning, by group. */
static void print_help(const char *usage)
{
	const char *groups[32];
	size_t ngroups = 0, g, t, i;

	fputs(usage, stdout);
	for (t = 0; t < 4; t++)
		for (i = 0; help_tables[t] && help_tables[t][i].opt; i++) {
			for (g = 0; g < ngroups; g++)
				if (!strcmp(groups[g], help_tables[t][i].group))
					break;
			if (g == ngroups && ngroups < 32)
				groups[ngroups++] = help_tables[t][i].group;
		}
	for (g = 0; g < ngroups; g++) {
		printf("\n%s:\n", groups[g]);
		for (t = 0; t < 4; t++)
			for (i = 0; help_tables[t] && help_tables[t][i].opt; i++) {
				const struct cli_help *h = &help_tables[t][i];
				int w = (int)strlen(h->opt);

				if (strcmp(h->group, groups[g]))
					continue;
				if (w > 30)
					printf("  %s\n  %32s%s\n", h->opt, "", h->meaning);
				else
					printf("  %-32s%s\n", h->opt, h->meaning);
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
	if (!help_tables[3])
		tool_set_help(NULL, NULL);
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
	if (path && statefile_write(path, st->sb.buf, st->sb.len, 0, &e) < 0) {
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
