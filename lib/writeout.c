/*
 * writeout: curl's -w format for a finished request (lib/httpcli.h).
 */
#include <stdio.h>
#include <string.h>

#include "httpcli.h"
#include "secret.h"

void http_cli_write_out(const struct http_cli *h, const struct http_req *r, struct strbuf *out)
{
	const char *f = h->write_out ? h->write_out : "";
	size_t before = out->len, n;
	const char *v;

	while (*f) {
		if (*f == '\\' && f[1]) {
			strbuf_addch(out, f[1] == 'n' ? '\n' : f[1] == 't' ? '\t' : f[1] == 'r' ? '\r'
										 : f[1]);
			f += 2;
		} else if (f[0] == '%' && f[1] == '%') {
			strbuf_addch(out, '%');
			f += 2;
		} else if (f[0] == '%' && f[1] == '{' && strchr(f, '}')) {
			const char *name = f + 2;
			size_t nl = (size_t)(strchr(f, '}') - name);

#define IS(s) (nl == sizeof(s) - 1 && !strncmp(name, s, nl))
			if (IS("http_code") || IS("response_code"))
				strbuf_addf(out, "%03ld", r->status);
			else if (IS("url_effective"))
				strbuf_addstr(out, r->final_url ? r->final_url : r->url);
			else if (IS("url"))
				strbuf_addstr(out, r->url);
			else if (IS("method"))
				strbuf_addstr(out, r->method ? r->method : r->has_body ? "POST" : "GET");
			else if (IS("size_download"))
				strbuf_addf(out, "%zu", r->resp_body.len);
			else if (IS("time_total"))
				strbuf_addf(out, "%.6f", r->elapsed_ms / 1000);
			else if (IS("num_redirects"))
				strbuf_addf(out, "%u", r->redirects);
			else if (IS("num_retries"))
				strbuf_addf(out, "%u", r->attempts ? r->attempts - 1 : 0);
			else if (IS("content_type")) {
				v = http_req_header(r, "content-type", &n);
				if (v)
					strbuf_add(out, v, n);
			}
			else if (IS("exitcode"))
				strbuf_addf(out, "%d", r->exit_code);
			else if (IS("errormsg"))
				strbuf_addstr(out, r->error);
			else
				strbuf_add(out, f, nl + 3);	/* unknown: as written, as curl does */
#undef IS
			f = name + nl + 1;
		} else {
			strbuf_addch(out, *f++);
		}
	}
	if (out->len > before) {
		struct strbuf t = STRBUF_INIT;

		strbuf_add(&t, out->buf + before, out->len - before);
		secrets_scrub(&h->secrets, &t);
		strbuf_setlen(out, before);
		strbuf_add(out, t.buf, t.len);
		strbuf_release(&t);
	}
}
