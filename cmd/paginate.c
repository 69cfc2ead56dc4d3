/*
 * paginate: every page of a listing, to its natural end, resumable.
 *
 * The options, the listings (arguments or request lines) and the client;
 * lib/crawler runs the crawl (see crawler.h for the order of writes that
 * makes a killed run resume at the first page it had not written) and
 * lib/crawl follows each listing's pages.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "../lib/crawler.h"
#include "../lib/hash.h"
#include "../lib/httpcli.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/paginate.h"
#include "../lib/statefile.h"

static const char usage_text[] =
	"usage: paginate [-hqv] [--style style] [--records-path pointer]\n"
	"       [--cursor-path pointer --cursor-param name] [--next-path pointer]\n"
	"       [--limit n] [--offset-param name] [--limit-param name]\n"
	"       [--page-param name] [--start-page n] [--per-page n] [--per-page-param name]\n"
	"       [--order-field pointer --order-param name] [--has-more-path pointer]\n"
	"       [--last-page-path pointer] [--total-path pointer] [--require-total]\n"
	"       [--graphql file [--variables json]] [--unordered]\n"
	"       [--max-pages n] [--max-empty-pages n] [--checkpoint file [--restart]]\n"
	"       [--state name [--resume-from db [--restart]]] [-o file]\n"
	HTTP_CLI_USAGE
	"       [--stats file] [--max-line size] [--max-depth n] [url ...]\n";

enum {
	OPT_STYLE = CLI_OPT_FIRST_TOOL, OPT_RECORDS_PATH, OPT_CURSOR_PATH, OPT_CURSOR_PARAM,
	OPT_NEXT_PATH, OPT_LIMIT, OPT_OFFSET_PARAM, OPT_LIMIT_PARAM, OPT_PAGE_PARAM,
	OPT_START_PAGE, OPT_PER_PAGE, OPT_PER_PAGE_PARAM, OPT_KEY_FIELD, OPT_KEY_PARAM,
	OPT_MORE_PATH, OPT_DONE_PATH, OPT_TOTAL_PATH, OPT_MAX_PAGES, OPT_MAX_EMPTY,
	OPT_CHECKPOINT, OPT_RESTART, OPT_STATE, OPT_RESUME_FROM, OPT_REQUIRE_TOTAL, OPT_GRAPHQL,
	OPT_VARIABLES, OPT_UNORDERED, OPT_OLD_KEY_FIELD, OPT_OLD_KEY_PARAM
};

static const struct cli_opt options[] = {
	{ "output", 'o', required_argument, 'o', "file", "Output", "write the envelopes to file" },
	{ "style", 0, required_argument, OPT_STYLE, "style", "Pagination", "auto (default), cursor, next-url, link, offset, page, keyset" },
	{ "records-path", 0, required_argument, OPT_RECORDS_PATH, "pointer", "Pagination", "where a page's records are" },
	{ "cursor-path", 0, required_argument, OPT_CURSOR_PATH, "pointer", "Pagination", "cursor: where the next cursor is" },
	{ "cursor-param", 0, required_argument, OPT_CURSOR_PARAM, "name", "Pagination", "cursor: the parameter it goes back in (or body:/pointer)" },
	{ "next-path", 0, required_argument, OPT_NEXT_PATH, "pointer", "Pagination", "next-url: where the next URL is" },
	{ "limit", 0, required_argument, OPT_LIMIT, "n", "Pagination", "offset: the page size asked for" },
	{ "offset-param", 0, required_argument, OPT_OFFSET_PARAM, "name", "Pagination", "offset: its parameter (default offset)" },
	{ "limit-param", 0, required_argument, OPT_LIMIT_PARAM, "name", "Pagination", "offset: the size's parameter (default limit)" },
	{ "page-param", 0, required_argument, OPT_PAGE_PARAM, "name", "Pagination", "page: its parameter (default page)" },
	{ "start-page", 0, required_argument, OPT_START_PAGE, "n", "Pagination", "page: the first page number (default 1)" },
	{ "per-page", 0, required_argument, OPT_PER_PAGE, "n", "Pagination", "page: the page size asked for" },
	{ "per-page-param", 0, required_argument, OPT_PER_PAGE_PARAM, "name", "Pagination", "page: the size's parameter (default per_page)" },
	{ "order-field", 0, required_argument, OPT_KEY_FIELD, "pointer", "Pagination", "keyset: the field the listing is ordered by" },
	{ "order-param", 0, required_argument, OPT_KEY_PARAM, "name", "Pagination", "keyset: the parameter the last value goes back in" },
	{ "has-more-path", 0, required_argument, OPT_MORE_PATH, "pointer", "Pagination", "a boolean: more pages follow" },
	{ "last-page-path", 0, required_argument, OPT_DONE_PATH, "pointer", "Pagination", "a boolean: this is the last page" },
	{ "total-path", 0, required_argument, OPT_TOTAL_PATH, "pointer", "Pagination", "where the body reports the listing's total" },
	{ "graphql", 0, required_argument, OPT_GRAPHQL, "file", "Pagination", "post this GraphQL query with its variables" },
	{ "variables", 0, required_argument, OPT_VARIABLES, "json", "Pagination", "the GraphQL variables (default {})" },
	{ "max-pages", 0, required_argument, OPT_MAX_PAGES, "n", "Pagination", "stop after n pages (a checkpoint goes on)" },
	{ "max-empty-pages", 0, required_argument, OPT_MAX_EMPTY, "n", "Pagination", "empty pages in a row that still point on (default 3)" },
	{ "require-total", 0, no_argument, OPT_REQUIRE_TOTAL, NULL, "Completeness", "exit 1 when a listing fetched fewer than its total" },
	{ "unordered", 0, no_argument, OPT_UNORDERED, NULL, "Completeness", "with -j and several listings: pages as they come" },
	{ "checkpoint", 0, required_argument, OPT_CHECKPOINT, "file", "Resume", "where the crawl stands, after each page written" },
	{ "state", 0, required_argument, OPT_STATE, "name", "Resume", "write in-band state lines for the sink to keep" },
	{ "resume-from", 0, required_argument, OPT_RESUME_FROM, "db", "Resume", "resume from the state the sink kept" },
	{ "restart", 0, no_argument, OPT_RESTART, NULL, "Resume", "ignore the checkpoint or kept state" },
	{ "key-field", 0, required_argument, OPT_OLD_KEY_FIELD, NULL, NULL, NULL },
	{ "key-param", 0, required_argument, OPT_OLD_KEY_PARAM, NULL, NULL, NULL },
	CLI_OPT_END
};

struct pag_run {
	struct cli_common common;
	struct http_cli hc;
	struct http_client *client;
	struct pag_spec user;
	struct crawler cr;
	const char *resume_from;	/* the sink that keeps the in-band state */
	int restart, lockfd;
	struct lreader in;
	int use_stdin;
	char **urls;
	int nurls;
	struct json_doc rd;
	struct json_error je;
	const char *graphql, *variables;
	int tty;
	double last_progress;
};

static void on_log(void *ctx, const char *line)
{
	(void)ctx;
	warnmsg("%s", line);
}

/* The listing at index: from the arguments, or the next request line on stdin. */
static int next_listing(void *ctx, uint64_t index, struct http_req *tmpl, struct strbuf *meta,
			struct aperr *e)
{
	struct pag_run *p = ctx;
	const char *line;
	size_t n;
	int r;

	if (!p->use_stdin) {
		if (index >= (uint64_t)p->nurls)
			return 0;
		return http_cli_request(&p->hc, tmpl, p->urls[index], e) < 0 ? -1 : 1;
	}
	do {
		r = lreader_next(&p->in, &line, &n, e);
		if (r <= 0)
			return r;
	} while (strspn(line, " \t") == n);	/* blank lines are no listings */
	return http_cli_request_line(&p->hc, &p->rd, &p->je, line, n, p->in.lineno, tmpl, meta,
				     e) < 0 ? -1 : 1;
}

static void written(void *ctx, const struct http_req *r)
{
	tool_write_out(&((struct pag_run *)ctx)->hc, r);
}

static void progress(void *ctx, const struct crawler *cr)
{
	struct pag_run *p = ctx;
	double now = tool_seconds();

	if (!p->tty || p->common.quiet || (cr && now - p->last_progress < 0.25))
		return;
	p->last_progress = now;
	fprintf(stderr, "\r%s: %llu pages, %llu records, %llu retries, ", progname,
		(unsigned long long)p->cr.pages, (unsigned long long)p->cr.records,
		(unsigned long long)http_client_stats(p->client)->retries);
	tool_progress_rate(now, (double)p->cr.records, "records");
	if (cr) {
		uint64_t total, done;

		if (crawler_under_way(cr, &total, &done) && total >= done)
			tool_progress_eta(now, (double)p->cr.records, done, total);
	}
	fputs("\033[K", stderr);	/* the rest of a longer line before */
	if (!cr)
		fputc('\n', stderr);
}

/* The run's stats; err: the error that stopped it, NULL when it ended. */
static void write_stats(struct pag_run *p, const struct aperr *err)
{
	struct tool_stats st;

	tool_stats_begin(&st, NULL);
	crawler_stats_json(&p->cr, &st.w);
	if (err) {
		jw_member_str(&st.w, "error", err->msg);
		jw_member_u64(&st.w, "exit", (uint64_t)err->code);
	}
	/* requests = pages + dropped_ahead + abandoned + discarded (+ failed) */
	jw_member_u64(&st.w, "requests", http_client_stats(p->client)->requests);
	jw_member_u64(&st.w, "dropped_ahead", p->cr.dropped_ahead);
	http_stats_json(p->client, &st.w);
	jw_key(&st.w, "pages_per_second");
	jw_fixed(&st.w, tool_seconds() > 0 ? (double)p->cr.pages / tool_seconds() : 0.0, 1);
	st.scrub = &p->hc.secrets;
	tool_stats_end(&st, p->common.stats);
}

static void spec_opt(struct pag_run *p, int opt, const char *arg)
{
	struct pag_spec *s = &p->user;
	struct aperr e;
	char **field = NULL;
	uint64_t *num = NULL;

	switch (opt) {
	case OPT_STYLE:
		if (pag_style_parse(arg, &s->style, &e) < 0)
			usage_error("--style: '%s' is not one of auto, cursor, next-url, "
				    "link, offset, page, keyset, none", arg);
		return;
	case OPT_RECORDS_PATH: field = &s->records_path; break;
	case OPT_CURSOR_PATH: field = &s->cursor_path; break;
	case OPT_CURSOR_PARAM: field = &s->cursor_param; break;
	case OPT_NEXT_PATH: field = &s->next_path; break;
	case OPT_OFFSET_PARAM: field = &s->offset_param; break;
	case OPT_LIMIT_PARAM: field = &s->limit_param; break;
	case OPT_PAGE_PARAM: field = &s->page_param; break;
	case OPT_PER_PAGE_PARAM: field = &s->per_page_param; break;
	case OPT_KEY_FIELD: field = &s->key_field; break;
	case OPT_KEY_PARAM: field = &s->key_param; break;
	case OPT_MORE_PATH: field = &s->more_path; break;
	case OPT_DONE_PATH: field = &s->done_path; break;
	case OPT_TOTAL_PATH: field = &s->total_path; break;
	case OPT_LIMIT: num = &s->limit; break;
	case OPT_PER_PAGE: num = &s->per_page; break;
	case OPT_START_PAGE: num = &s->start_page; s->start_page_set = 1; break;
	case OPT_MAX_PAGES: num = &p->cr.max_pages; break;
	case OPT_MAX_EMPTY: num = &p->cr.cfg.max_empty; break;
	default: break;
	}
	if (field && (!*arg || pag_spec_set(field, arg) < 0))
		usage_error("an empty value for a name or pointer option");
	if (num && num_parse_u64(arg, num, "option", &e) < 0)
		usage_error("%s", e.msg);
}

/* --graphql FILE [--variables JSON]: the body every request of the listing posts. */
static void graphql_body(struct pag_run *p)
{
	struct strbuf q = STRBUF_INIT, b = STRBUF_INIT;
	struct aperr e;

	if (p->hc.has_data)
		usage_error("--graphql makes the body: no -d or --data-json with it");
	tool_read_file(p->graphql, "--graphql", &q);
	if (pag_graphql_body(q.buf, q.len, p->variables, &b, &e) < 0) {
		if (e.code == EX_USAGE)
			usage_error("%s", e.msg);
		die(e.code, "--graphql %s: %s", p->graphql, e.msg);
	}
	if (http_cli_opt(&p->hc, HTTP_OPT_DATA_JSON, b.buf, &e) < 0)
		die_err(&e);
	strbuf_release(&q);
	strbuf_release(&b);
}

/* The options into p (dies with 64 on a usage error); *argc, *argv as -K expanded them. */
static void parse_args(struct pag_run *p, int *argc, char ***argv)
{
	struct aperr e;
	int opt, r;

	tool_expand_config(argc, argv);
	while ((opt = tool_getopt(*argc, *argv)) != -1) {
		switch (opt) {
		case 'o': p->cr.outpath = optarg; break;
		case OPT_CHECKPOINT: p->cr.checkpoint = optarg; break;
		case OPT_STATE: p->cr.state_name = optarg; break;
		case OPT_RESUME_FROM: p->resume_from = tool_db_target(optarg, "--resume-from"); break;
		case OPT_RESTART: p->restart = 1; break;
		case OPT_REQUIRE_TOTAL: p->cr.require_total = 1; break;
		case OPT_GRAPHQL: p->graphql = optarg; break;
		case OPT_VARIABLES: p->variables = optarg; break;
		case OPT_UNORDERED: p->cr.unordered = 1; break;
		case OPT_OLD_KEY_FIELD: tool_renamed("--key-field", "--order-field");
		case OPT_OLD_KEY_PARAM: tool_renamed("--key-param", "--order-param");
		default:
			if (opt >= OPT_STYLE && opt <= OPT_MAX_EMPTY) {
				spec_opt(p, opt, optarg);
				break;
			}
			r = http_cli_opt(&p->hc, opt, optarg, &e);
			if (r < 0)
				die_opt(&e);
			if (!r)
				tool_common_opt(&p->common, opt, optarg);
		}
	}
	tool_common_done(&p->common, usage_text);
	if (p->graphql)
		graphql_body(p);
	else if (p->variables)
		usage_error("--variables goes with --graphql");
	if (http_cli_finish(&p->hc, &e) < 0)
		die_opt(&e);
	if (pag_spec_compile(&p->user, &e) < 0)
		usage_error("%s", e.msg);
	if (p->hc.quiet)
		p->common.quiet = 1;
	if (p->hc.head)
		usage_error("-I: a HEAD response has no records to paginate; use "
			    "fetch-page -I");
	if (p->restart && !p->cr.checkpoint && !p->resume_from)
		usage_error("--restart goes with --checkpoint or --resume-from");
	if (p->resume_from && !p->cr.state_name)
		usage_error("--resume-from goes with --state (the name the sink keeps)");
	if (p->cr.checkpoint && p->cr.state_name)
		usage_error("--checkpoint and --state: one or the other");
	if (p->resume_from && p->cr.outpath)
		usage_error("--resume-from reads what the sink kept; with -o use --checkpoint");
	/* a checkpoint written as pages go into a pipe runs ahead of the sink */
	if (p->cr.checkpoint && !p->cr.outpath && tool_stdout_is_pipe())
		die(EX_USAGE, "--checkpoint to a pipe would be written before the sink has "
		    "the pages; use --state NAME and resume with --resume-from DB (the sink "
		    "keeps the state with its rows), or -o FILE");
	if (p->cr.unordered && (p->cr.checkpoint || p->cr.state_name))
		usage_error("--unordered interleaves listings, which no checkpoint or "
			    "state can describe; leave it out to resume");
}

/* The listings to crawl, the checkpoint or state to resume from, the output and the client. */
static void open_all(struct pag_run *p, int argc, char **argv)
{
	struct crawler *cr = &p->cr;
	struct aperr e;

	cr->ck_label = cr->checkpoint ? cr->checkpoint : "the state in --resume-from";
	p->urls = argv + optind;
	p->nurls = argc - optind;
	p->use_stdin = p->nurls == 0;
	tool_check_urls(p->urls, (size_t)p->nurls, p->use_stdin, p->hc.base_url);
	cr->input_lines = p->use_stdin;
	/* several listings and -j N: N listings at once, each a page at a time */
	cr->nactive = (p->use_stdin || p->nurls > 1) && p->hc.pol.concurrency > 1 &&
		      !cr->max_pages ? p->hc.pol.concurrency : 1;
	if (p->use_stdin && lreader_init(&p->in, 0, "stdin", p->common.max_line, &e) < 0)
		die_err(&e);
	if (cr->checkpoint) {
		struct strbuf what = STRBUF_INIT;

		strbuf_addf(&what, "checkpoint %s", cr->checkpoint);
		if (statefile_mkparent(cr->checkpoint, &e) < 0)
			die_err(&e);
		p->lockfd = statefile_lock(cr->checkpoint, what.buf, &e);
		strbuf_release(&what);
		if (p->lockfd < 0)
			die_err(&e);
		/* a run killed inside a checkpoint write left its temporary file */
		if (statefile_clean(cr->checkpoint, &e) < 0)
			die_err(&e);
	}
	json_doc_init(&p->rd, p->common.max_depth);
	json_error_init(&p->je);
	cr->max_line = p->common.max_line;
	cr->max_depth = p->common.max_depth;
	if (!p->restart && crawler_resume(cr, p->resume_from, &e) < 0)
		die_err(&e);
	if (crawler_open_output(cr, &e) < 0)
		die_err(&e);
	tool_set_output(&cr->out);
	if (hash_random(cr->cfg.key, sizeof(cr->cfg.key)) < 0)
		die(EX_OSERR, "no random bytes for the loop check");
	p->hc.pol.max_body = p->hc.pol.max_body < p->common.max_line ? p->hc.pol.max_body
								 : p->common.max_line;
	p->tty = isatty(2);
	if (!(p->client = http_client_new(&p->hc.pol, &p->hc.auth, &p->hc.secrets, &e)))
		die_err(&e);
	crawler_use_client(cr, p->client);
	if (p->common.verbose) {
		http_client_set_log(p->client, on_log, NULL);
		cr->cfg.io.log = on_log;
		p->tty = 0;
	}
}

static void hooks(struct pag_run *p)
{
	struct crawler *cr = &p->cr;

	cr->user = &p->user;
	cr->auth = &p->hc.auth;
	cr->cfg.secrets = &p->hc.secrets;
	cr->cfg.key_param = p->hc.auth.kind == AUTH_KEY_QUERY ? p->hc.auth.key_name : NULL;
	cr->cfg.concurrency = p->hc.pol.concurrency;
	cr->hooks.ctx = p;
	cr->hooks.next = next_listing;
	cr->hooks.written = written;
	cr->hooks.progress = progress;
	cr->hooks.warn = p->common.quiet ? NULL : on_log;
}

int cmd_paginate(int argc, char **argv)
{
	struct pag_run p;
	struct aperr e;
	int r;

	tool_set_options(options, http_cli_options, http_cli_transport_options);
	memset(&p, 0, sizeof(p));
	cli_common_init(&p.common);
	http_cli_init(&p.hc);
	pag_spec_init(&p.user);
	crawler_init(&p.cr);
	p.lockfd = -1;
	parse_args(&p, &argc, &argv);
	hooks(&p);
	open_all(&p, argc, argv);
	r = crawler_run(&p.cr, &e);
	if (r == LW_EPIPE || (r < 0 && p.cr.out.failed))
		tool_check_write(r, &e);
	if (r < 0) {
		if (p.common.stats)	/* what was done before the run stopped, and why */
			write_stats(&p, &e);
		die_err(&e);
	}
	progress(&p, NULL);
	if (p.common.stats)
		write_stats(&p, NULL);
	if (p.cr.require_total && p.cr.short_listings)
		die(1, "--require-total: %llu listing%s fetched fewer records than the API "
		    "reported, or reported no total", (unsigned long long)p.cr.short_listings,
		    p.cr.short_listings == 1 ? "" : "s");
	tool_finish(&p.cr.out);
	http_client_free(p.client);
	statefile_unlock(p.lockfd);
	crawler_release(&p.cr);
	pag_spec_release(&p.user);
	json_doc_release(&p.rd);
	json_error_release(&p.je);
	if (p.use_stdin)
		lreader_release(&p.in);
	http_cli_release(&p.hc);
	http_global_cleanup();
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("paginate");
	tool_hold_secrets();
	return cmd_paginate(argc, argv);
}
