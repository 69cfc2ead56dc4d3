/*
 * fetch-page: one HTTP exchange per request, written as one envelope a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/redact.h"
#include "common.h"
#include "../lib/envelope.h"
#include "../lib/httpcli.h"
#include "../lib/json.h"
#include "../lib/utf8.h"

static const char usage_text[] =
	"usage: fetch-page [-hqv] [-o file] [--body] [--unordered] [--fail-on statuses]\n"
	HTTP_CLI_USAGE
	"       [--stats file] [--max-line size] [--max-depth n] [url ...]\n";

enum { OPT_BODY = CLI_OPT_FIRST_TOOL, OPT_UNORDERED, OPT_FAIL_ON };

static const struct cli_opt options[] = {
	{ "output", 'o', required_argument, 'o', "file", "Output", "write the envelopes to file" },
	{ "body", 0, no_argument, OPT_BODY, NULL, "Output", "write each response's body alone (JSON, or a JSON string)" },
	{ "unordered", 0, no_argument, OPT_UNORDERED, NULL, "Output", "write responses as they complete" },
	{ "fail-on", 0, required_argument, OPT_FAIL_ON, "statuses", "Output", "which statuses fail the run: 404,5xx, or none" },
	CLI_OPT_END
};

/* What one request carries besides the HTTP part. */
struct job {
	struct http_req req;
	struct strbuf meta;
	uint64_t lineno;
};

struct fetch_run {
	struct cli_common common;
	struct http_cli hc;
	struct http_client *client;
	int body_only, unordered;
	struct http_status_set fail_on;	/* --fail-on */
	struct lwriter out;
	struct lreader in;
	int use_stdin, input_done;
	char **urls;
	int nurls, next_url;
	struct aperr input_err;
	int input_failed;
	uint64_t submitted, written;
	struct job **ring;		/* finished jobs waiting for their turn */
	size_t window;
	struct json_doc d, rd;
	struct json_error je;
	struct strbuf env;
	uint64_t ok, failed, final_status[HTTP_STATUS_SLOTS];
	int exit_code;
	double last_progress;
	int tty;
};

static void on_log(void *ctx, const char *line)
{
	(void)ctx;
	warnmsg("%s", line);
}

/* The next request from the arguments or stdin: 1, 0 when there is none now. */
static int next_request(struct fetch_run *f, int may_block, struct job **out)
{
	struct job *j;
	struct aperr e;
	const char *line = NULL;
	size_t n = 0;
	int r;

	*out = NULL;
	if (f->input_done)
		return 0;
	if (!f->use_stdin) {
		if (f->next_url >= f->nurls) {
			f->input_done = 1;
			return 0;
		}
	} else if (!may_block && !lreader_ready(&f->in)) {
		struct pollfd p = { f->in.fd, POLLIN, 0 };

		if (poll(&p, 1, 0) <= 0)
			return 0;
	}
	if (f->use_stdin) {
		r = lreader_next(&f->in, &line, &n, &e);
		if (r <= 0) {
			f->input_done = 1;
			if (r < 0) {
				f->input_err = e;
				f->input_failed = 1;
			}
			return 0;
		}
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		die(EX_OSERR, "out of memory");
	http_req_init(&j->req);
	strbuf_init(&j->meta, STRBUF_DEFAULT_CAP);
	j->req.udata = j;
	j->req.seq = f->submitted;
	if (f->use_stdin) {
		j->lineno = f->in.lineno;
		r = http_cli_request_line(&f->hc, &f->rd, &f->je, line, n, j->lineno,
					  &j->req, &j->meta, &e);
	} else {
		r = http_cli_request(&f->hc, &j->req, f->urls[f->next_url++], &e);
	}
	if (r < 0) {
		/* Stop reading; what is in flight is still written. */
		f->input_done = 1;
		f->input_err = e;
		f->input_failed = 1;
		http_req_release(&j->req);
		strbuf_release(&j->meta);
		free(j);
		return 0;
	}
	*out = j;
	return 1;
}

static int request_fails(const struct fetch_run *f, const struct http_req *r)
{
	return http_status_set_fails(&f->fail_on, r->status,
				     r->outcome == HTTP_FAILED || r->exit_code != 0);
}

/* r's URL fit for a message: credentials masked (the result lives until the next call). */
static const char *shown_url(struct fetch_run *f, const struct http_req *r)
{
	static struct strbuf u = STRBUF_INIT;

	strbuf_release(&u);
	redact_url(&u, r->url, f->hc.auth.key_name);
	secrets_scrub(&f->hc.secrets, &u);
	return u.buf;
}

static void write_job(struct fetch_run *f, struct job *j)
{
	struct http_req *r = &j->req;
	struct envelope_opts eo;
	struct aperr e;

	if (request_fails(f, r)) {
		f->failed++;
		if (!f->exit_code)
			f->exit_code = r->exit_code ? r->exit_code : EX_UNAVAILABLE;
		if (!f->common.quiet) {
			if (r->error[0])
				warnmsg("%s: %s", shown_url(f, r), r->error);
			else
				warnmsg("%s: HTTP %ld", shown_url(f, r), r->status);
		}
	} else {
		f->ok++;
	}
	if (http_status_slot(r->status))
		f->final_status[r->status]++;
	tool_write_out(&f->hc, r);
	strbuf_reset(&f->env);
	if (f->body_only) {
		int b = envelope_body_only(&f->env, r, &f->d, &f->hc.secrets);

		if (b == 1) {
			f->failed++;
			if (!f->exit_code)
				f->exit_code = EX_DATAERR;
			warnmsg("%s: --body: the body is neither JSON nor UTF-8 text (%zu bytes); "
				"the envelope (without --body) holds it as body_base64",
				shown_url(f, r), r->resp_body.len);
		} else if (b < 0) {
			die(EX_DATAERR, "%s: the body exceeds --max-line %zu bytes", shown_url(f, r),
			    f->common.max_line);
		} else if (f->env.len) {
			tool_check_write(lwriter_line(&f->out, f->env.buf, f->env.len, &e), &e);
		}
	} else {
		memset(&eo, 0, sizeof(eo));
		eo.meta = j->meta.len ? j->meta.buf : NULL;
		eo.meta_len = j->meta.len;
		eo.secrets = &f->hc.secrets;
		if (f->hc.auth.kind == AUTH_KEY_QUERY)
			eo.redact_param = f->hc.auth.key_name;
		if (f->hc.auth.kind == AUTH_KEY_HEADER)
			eo.redact_header = f->hc.auth.key_name;
		if (envelope_build(&f->env, r, &eo, &f->d) < 0)
			die(EX_DATAERR, "%s: the envelope exceeds --max-line %zu bytes", shown_url(f, r),
			    f->common.max_line);
		tool_check_write(lwriter_line(&f->out, f->env.buf, f->env.len, &e), &e);
	}
	http_client_release_req(f->client, &j->req);
	strbuf_release(&j->meta);
	free(j);
	f->written++;
}

static void progress(struct fetch_run *f, int final)
{
	double now = tool_seconds();

	if (!f->tty || f->common.quiet)
		return;
	if (!final && now - f->last_progress < 0.25)
		return;
	f->last_progress = now;
	if (f->use_stdin)
		fprintf(stderr, "\r%s: %llu done", progname, (unsigned long long)f->written);
	else
		fprintf(stderr, "\r%s: %llu/%d done", progname, (unsigned long long)f->written,
			f->nurls);
	fprintf(stderr, ", %llu retries, ",
		(unsigned long long)http_client_stats(f->client)->retries);
	tool_progress_rate(now, (double)f->written, "req");
	if (!f->use_stdin && f->nurls > 0)
		tool_progress_eta(now, (double)f->written, f->written, (uint64_t)f->nurls);
	fputs("\033[K", stderr);
	if (final)
		fputc('\n', stderr);
}

static void run(struct fetch_run *f)
{
	struct aperr e;

	for (;;) {
		struct http_req *r;
		int failed;

		/* Keep the pipe full, within the reorder window. */
		while (!f->input_done && f->submitted - f->written < f->window) {
			struct job *j;

			if (!next_request(f, http_pending(f->client) == 0 &&
						     f->submitted == f->written, &j))
				break;
			if (http_submit(f->client, &j->req, &e) < 0)
				die_err(&e);
			f->submitted++;
		}
		if (!http_pending(f->client) && f->input_done)
			break;
		r = http_next(f->client,
			      f->use_stdin && !f->input_done && f->submitted - f->written < f->window
				      ? f->in.fd : -1,
			      &failed, &e);
		if (failed)
			die_err(&e);
		if (!r)
			continue;
		if (f->unordered) {
			write_job(f, r->udata);
		} else {
			f->ring[r->seq % f->window] = r->udata;
			while (f->ring[f->written % f->window]) {
				struct job *j = f->ring[f->written % f->window];

				f->ring[f->written % f->window] = NULL;
				write_job(f, j);
			}
		}
		progress(f, 0);
	}
}

static void write_stats(struct fetch_run *f)
{
	struct tool_stats st;
	double secs = tool_seconds();

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "requests", f->written);
	jw_member_u64(&st.w, "succeeded", f->ok);
	jw_member_u64(&st.w, "failed", f->failed);
	jw_key(&st.w, "status");
	jw_counts(&st.w, f->final_status, HTTP_STATUS_SLOTS);
	http_stats_json(f->client, &st.w);
	jw_key(&st.w, "requests_per_second");
	jw_fixed(&st.w, secs > 0 ? (double)f->written / secs : 0.0, 1);
	st.scrub = &f->hc.secrets;
	tool_stats_end(&st, f->common.stats);
}

int cmd_fetch_page(int argc, char **argv)
{
	struct fetch_run f;
	struct aperr e;
	const char *outpath = NULL;
	int opt, r, fd = 1;

	tool_set_options(options, http_cli_options, http_cli_transport_options);
	memset(&f, 0, sizeof(f));
	cli_common_init(&f.common);
	http_cli_init(&f.hc);
	tool_expand_config(&argc, &argv);
	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case 'o': outpath = optarg; break;
		case OPT_BODY: f.body_only = 1; break;
		case OPT_UNORDERED: f.unordered = 1; break;
		case OPT_FAIL_ON:
			if (http_status_set_parse(&f.fail_on, optarg, &e) < 0)
				usage_error("%s", e.msg);
			break;
		default:
			r = http_cli_opt(&f.hc, opt, optarg, &e);
			if (r < 0)
				die_opt(&e);
			if (!r)
				tool_common_opt(&f.common, opt, optarg);
		}
	}
	tool_common_done(&f.common, usage_text);
	if (http_cli_finish(&f.hc, &e) < 0)
		die_opt(&e);
	if (f.hc.quiet)
		f.common.quiet = 1;
	if (outpath && (fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		die(EX_CANTCREAT, "%s: %s", outpath, strerror(errno));
	f.urls = argv + optind;
	f.nurls = argc - optind;
	f.use_stdin = f.nurls == 0;
	tool_check_urls(f.urls, (size_t)f.nurls, f.use_stdin, f.hc.base_url);
	if (f.use_stdin && lreader_init(&f.in, 0, "stdin", f.common.max_line, &e) < 0)
		die_err(&e);
	if (lwriter_init(&f.out, fd, outpath ? outpath : "stdout", 1 << 16, &e) < 0)
		die_err(&e);
	tool_set_output(&f.out);
	json_doc_init(&f.d, f.common.max_depth);
	json_doc_init(&f.rd, f.common.max_depth);
	json_error_init(&f.je);
	strbuf_init(&f.env, f.common.max_line);
	f.hc.pol.max_body = f.hc.pol.max_body < f.common.max_line ? f.hc.pol.max_body
								 : f.common.max_line;
	f.window = (size_t)f.hc.pol.concurrency * 4;
	f.ring = calloc(f.window, sizeof(*f.ring));
	if (!f.ring)
		die(EX_OSERR, "out of memory");
	f.tty = isatty(2);
	if (!(f.client = http_client_new(&f.hc.pol, &f.hc.auth, &f.hc.secrets, &e)))
		die_err(&e);
	if (f.common.verbose) {
		http_client_set_log(f.client, on_log, NULL);
		f.tty = 0;
	}
	run(&f);
	progress(&f, 1);
	if (f.common.stats)
		write_stats(&f);
	tool_finish(&f.out);
	if (f.input_failed) {
		secrets_scrub_str(&f.hc.secrets, f.input_err.msg);
		die_err(&f.input_err);
	}
	http_client_free(f.client);
	free(f.ring);
	json_doc_release(&f.d);
	json_doc_release(&f.rd);
	json_error_release(&f.je);
	strbuf_release(&f.env);
	if (f.use_stdin)
		lreader_release(&f.in);
	http_cli_release(&f.hc);
	http_global_cleanup();
	return f.exit_code;
}

int main(int argc, char **argv)
{
	tool_init("fetch-page");
	tool_hold_secrets();
	return cmd_fetch_page(argc, argv);
}
