#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "statefile.h"
#include "strbuf.h"

/* A growing argument vector, NULL-ended. */
struct argvec {
	char **v;
	int n, alloc;
	int failed;
};

static void argvec_add(struct argvec *a, const char *s, size_t n)
{
	char *c = strndup(s, n);

	if (a->n + 2 > a->alloc) {
		int na = a->alloc ? a->alloc * 2 : 32;
		char **v = realloc(a->v, (size_t)na * sizeof(*v));

		if (v) {
			a->v = v;
			a->alloc = na;
		}
	}
	if (!c || a->n + 2 > a->alloc) {
		free(c);
		a->failed = 1;
		return;
	}
	a->v[a->n++] = c;
	a->v[a->n] = NULL;
}

static void argvec_release(struct argvec *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
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

/* A config line's value from q (quoted or bare) into v; -1 when a quote is not closed. */
static int config_value(const char *q, struct strbuf *v)
{
	strbuf_reset(v);
	if (*q != '"') {
		strbuf_add(v, q, strcspn(q, " \t\r\n"));
		return 0;
	}
	for (q++; *q && *q != '"' && *q != '\n'; q++) {
		if (*q == '\\' && q[1] && q[1] != '\n') {
			q++;
			strbuf_addch(v, *q == 't' ? '\t' : *q == 'n' ? '\n' : *q == 'r' ? '\r'
					 : *q == 'v' ? '\v' : *q);
		} else {
			strbuf_addch(v, *q);
		}
	}
	return *q == '"' ? 0 : -1;
}

struct config {
	const char *shortopts;
	const struct option *longopts;
	struct argvec *args, *urls;
};

/* One line of a config file (p, up to its newline), number lineno of path. */
static int config_line(const struct config *cf, const char *path, unsigned lineno,
		       const char *p, struct strbuf *v, struct aperr *e)
{
	const char *name, *q;
	size_t nl;
	int takes, dashes = 0;

	while (*p == '-' && dashes < 2) {
		p++;
		dashes++;
	}
	name = p;
	nl = strcspn(p, " \t=:\r\n");
	q = p + nl;
	if (dashes == 1 && nl != 1)
		return aperr_set(e, EX_USAGE, "%s:%u: '-%.*s': a short option is one letter", path,
				 lineno, (int)nl, name);
	q += strspn(q, " \t");
	if (*q == '=' || *q == ':')
		q++;
	q += strspn(q, " \t");
	if (config_value(q, v) < 0)
		return aperr_set(e, EX_USAGE, "%s:%u: an unterminated quoted value", path, lineno);
	if (nl == 3 && !strncmp(name, "url", 3) && dashes != 1) {
		argvec_add(cf->urls, v->buf, v->len);
		return 0;
	}
	if ((nl == 6 && !strncmp(name, "config", 6)) || (nl == 1 && *name == 'K') ||
	    (nl == 7 && !strncmp(name, "profile", 7)))
		return aperr_set(e, EX_USAGE, "%s:%u: a config file does not read another", path,
				 lineno);
	takes = config_takes(name, nl, cf->shortopts, cf->longopts);
	if (takes < 0)
		return aperr_set(e, EX_USAGE, "%s:%u: unknown option '%.*s'", path, lineno, (int)nl,
				 name);
	if (takes && !v->len && *q != '"')
		return aperr_set(e, EX_USAGE, "%s:%u: %.*s needs a value", path, lineno, (int)nl,
				 name);
	if (!takes && v->len)
		return aperr_set(e, EX_USAGE, "%s:%u: %.*s takes no value", path, lineno, (int)nl,
				 name);
	if (nl == 1) {
		char opt[3] = { '-', name[0], '\0' };

		argvec_add(cf->args, opt, 2);
	} else {
		struct strbuf o = STRBUF_INIT;

		strbuf_addstr(&o, "--");
		strbuf_add(&o, name, nl);
		argvec_add(cf->args, o.len ? o.buf : "--", o.len);
		strbuf_release(&o);
	}
	if (takes)
		argvec_add(cf->args, v->buf, v->len);
	return 0;
}

/* Read one config file: its options into cf->args, its url lines into cf->urls. */
static int config_read(const struct config *cf, const char *path, const char *what,
		       struct aperr *e)
{
	struct strbuf text = STRBUF_INIT, v = STRBUF_INIT;
	const char *p, *line;
	unsigned lineno = 0;
	int r = statefile_read(path, &text, 1 << 26, e);

	if (r == 1)
		r = aperr_set(e, EX_NOINPUT, "%s: no such %s", path, what);
	for (p = text.buf; r == 0 && *p; p = line) {
		size_t len = strcspn(p, "\n");

		line = p + len + (p[len] == '\n');
		lineno++;
		p += strspn(p, " \t");
		if (p >= line || *p == '#' || *p == '\n' || *p == '\r')
			continue;
		r = config_line(cf, path, lineno, p, &v, e);
	}
	strbuf_release(&text);
	strbuf_release(&v);
	return r;
}

/* Does argv name a config file or a profile? */
static int any_config(int argc, char **av, const char *profile)
{
	int i, any = profile && *profile;

	for (i = 1; i < argc && !any; i++)
		any = !strcmp(av[i], "-K") || !strcmp(av[i], "--config") ||
		      !strncmp(av[i], "--config=", 9) || !strcmp(av[i], "--profile") ||
		      !strncmp(av[i], "--profile=", 10) || (!strncmp(av[i], "-K", 2) && av[i][2]);
	return any;
}

/* The profile's file, read first: --profile NAME on the command line wins over the variable. */
static int read_profile(const struct config *cf, int argc, char **av, const char *profile,
			struct aperr *e)
{
	struct strbuf path = STRBUF_INIT;
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int i, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(av[i], "--"))
			break;
		if (!strcmp(av[i], "--profile") && i + 1 < argc)
			profile = av[i + 1];
		else if (!strncmp(av[i], "--profile=", 10))
			profile = av[i] + 10;
	}
	if (!profile || !*profile)
		return 0;
	if (strspn(profile, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-") != strlen(profile) || *profile == '.')
		return aperr_set(e, EX_USAGE, "--profile '%s': a profile name is letters, digits, "
				 "'_', '-' and '.'", profile);
	if (xdg && *xdg)
		strbuf_addf(&path, "%s/apipe/%s.conf", xdg, profile);
	else
		strbuf_addf(&path, "%s/.config/apipe/%s.conf", home ? home : "", profile);
	r = config_read(cf, path.buf, "profile", e);
	strbuf_release(&path);
	return r;
}

/* The command line's arguments, with each -K/--config file read where it stands. */
static int expand_args(const struct config *cf, int argc, char **av, struct argvec *rest,
		       struct aperr *e)
{
	int i, ended = 0;

	for (i = 1; i < argc; i++) {
		const char *a = av[i];

		if (ended) {
			argvec_add(rest, a, strlen(a));
		} else if (!strcmp(a, "--")) {
			ended = 1;
			argvec_add(rest, a, strlen(a));
		} else if (!strcmp(a, "--profile") || !strcmp(a, "-K") || !strcmp(a, "--config")) {
			if (i + 1 >= argc)
				return aperr_set(e, EX_USAGE, "%s needs a value", a);
			if (strcmp(a, "--profile") && config_read(cf, av[i + 1], "config file", e) < 0)
				return -1;
			i++;
		} else if (!strncmp(a, "--profile=", 10)) {
			continue;
		} else if (!strncmp(a, "--config=", 9) || (!strncmp(a, "-K", 2) && a[2])) {
			if (config_read(cf, a + (a[1] == 'K' ? 2 : 9), "config file", e) < 0)
				return -1;
		} else {
			argvec_add(cf->args, a, strlen(a));
		}
	}
	return 0;
}

int cli_config_expand(int argc, char **argv, const char *shortopts,
		      const struct option *longopts, int *outc, char ***out, struct aperr *e)
{
	struct argvec args = { 0 }, urls = { 0 }, rest = { 0 };
	struct config cf = { shortopts, longopts, &args, &urls };
	const char *profile = getenv("APIPE_PROFILE");
	int i, r;

	if (!any_config(argc, argv, profile))
		return 0;
	argvec_add(&args, argv[0], strlen(argv[0]));
	r = read_profile(&cf, argc, argv, profile, e);
	if (r == 0)
		r = expand_args(&cf, argc, argv, &rest, e);
	/* the files' urls after the options, before an explicit -- and what follows it */
	for (i = 0; r == 0 && i < urls.n; i++)
		argvec_add(&args, urls.v[i], strlen(urls.v[i]));
	for (i = 0; r == 0 && i < rest.n; i++)
		argvec_add(&args, rest.v[i], strlen(rest.v[i]));
	if (r == 0 && (args.failed || urls.failed || rest.failed))
		r = aperr_set(e, EX_OSERR, "out of memory");
	argvec_release(&urls);
	argvec_release(&rest);
	if (r < 0) {
		argvec_release(&args);
		return -1;
	}
	*outc = args.n;
	*out = args.v;	/* the program's arguments from now on */
	return 0;
}
