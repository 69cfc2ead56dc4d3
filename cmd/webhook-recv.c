/*
 * webhook-recv: receive pushed events, verify their signatures, and write
 * each accepted one durably before acknowledging it.
 */
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common.h"
#include "../lib/clock.h"
#include "../lib/httpstatus.h"
#include "../lib/json.h"
#include "../lib/jsonw.h"
#include "../lib/num.h"
#include "../lib/secret.h"
#include "../lib/statefile.h"
#include "../lib/webhook.h"
#include "../lib/whread.h"
#include "../lib/whsink.h"

static const char usage_text[] =
	"usage: webhook-recv [-hqv] --listen addr:port --secret secret\n"
	"       --scheme github | stripe | slack | standard | hmac-sha256 [--header name]\n"
	"       [--tolerance s] [--out dir] [--max-body size] [--max-held size]\n"
	"       [--port-file file]\n"
	"       [--max-connections n] [--max-client-connections n] [--request-timeout s]\n"
	"       [--stats file] [--max-line size] [--max-depth n]\n"
	"       webhook-recv [-q] --read dir [--follow]\n";

enum {
	OPT_LISTEN = CLI_OPT_FIRST_TOOL, OPT_SECRET, OPT_SCHEME, OPT_HEADER, OPT_TOLERANCE,
	OPT_OUT, OPT_MAX_BODY, OPT_PORT_FILE, OPT_MAX_CONN, OPT_MAX_CLIENT, OPT_REQ_TIMEOUT,
	OPT_MAX_HELD, OPT_READ, OPT_FOLLOW
};

static const struct cli_opt options[] = {
	{ "listen", 0, required_argument, OPT_LISTEN, "addr:port", "Server", "where to listen" },
	{ "port-file", 0, required_argument, OPT_PORT_FILE, "file", "Server", "write the port listened on to file" },
	{ "out", 0, required_argument, OPT_OUT, "dir", "Server", "where events are written (default standard output)" },
	{ "max-body", 0, required_argument, OPT_MAX_BODY, "size", "Server", "largest request body" },
	{ "max-held", 0, required_argument, OPT_MAX_HELD, "size", "Server", "what all bodies on their way may hold (64M)" },
	{ "max-connections", 0, required_argument, OPT_MAX_CONN, "n", "Server", "connections at once" },
	{ "max-client-connections", 0, required_argument, OPT_MAX_CLIENT, "n", "Server", "connections at once from one address" },
	{ "request-timeout", 0, required_argument, OPT_REQ_TIMEOUT, "s", "Server", "the longest a request may take" },
	{ "secret", 0, required_argument, OPT_SECRET, "secret", "Signatures", "the signing secret (env:NAME or file:PATH)" },
	{ "scheme", 0, required_argument, OPT_SCHEME, "scheme", "Signatures", "github, stripe, slack, standard or hmac-sha256" },
	{ "header", 0, required_argument, OPT_HEADER, "name", "Signatures", "the signature header (hmac-sha256)" },
	{ "tolerance", 0, required_argument, OPT_TOLERANCE, "s", "Signatures", "how old a signed timestamp may be" },
	{ "read", 0, required_argument, OPT_READ, "dir", "Reading", "the events stored in dir, in order, to standard output" },
	{ "follow", 0, no_argument, OPT_FOLLOW, NULL, "Reading", "then each event as it is stored, new files included" },
	CLI_OPT_END
};

struct recv {
	struct cli_common common;
	enum wh_scheme scheme;
	const char *listen, *header, *out_dir, *port_file;
	uint64_t tolerance, max_body;
	uint64_t max_conn, max_client;	/* connections at once, and from one address */
	double req_timeout;		/* seconds a request may take, headers and body */
	struct wh_deadlines deadlines;	/* --request-timeout */
	struct secrets secrets;
	struct strbuf key;
	struct wh_sink sink;
	pthread_mutex_t mu;		/* the counts, and held */
	uint64_t rejected[HTTP_STATUS_SLOTS];
	uint64_t max_held;		/* bytes all unfinished bodies may hold (--max-held) */
	uint64_t held;			/* what they hold now (reserved) */
};

/* One request: its body as it arrives, and what it reserved of max_held. */
struct conn {
	struct strbuf body;
	uint64_t reserved;
};

/*
 * Reserve n more bytes of the process's budget for unfinished bodies
 * (none of which is authenticated until it is whole): 1, or 0 when the
 * budget is spent (the request is answered 503 with Retry-After).
 */
static int reserve(struct recv *rv, struct conn *k, uint64_t n)
{
	int ok;

	pthread_mutex_lock(&rv->mu);
	ok = rv->held + n <= rv->max_held;
	if (ok) {
		rv->held += n;
		k->reserved += n;
	}
	pthread_mutex_unlock(&rv->mu);
	return ok;
}

static void unreserve(struct recv *rv, struct conn *k)
{
	pthread_mutex_lock(&rv->mu);
	rv->held -= k->reserved;
	k->reserved = 0;
	pthread_mutex_unlock(&rv->mu);
}

static const char *header_of(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/* Count a refusal (for --stats) and say it with -v. */
static void rejected(struct recv *rv, unsigned status, const char *why)
{
	pthread_mutex_lock(&rv->mu);
	rv->rejected[http_status_slot(status)]++;
	pthread_mutex_unlock(&rv->mu);
	if (rv->common.verbose)
		warnmsg("%u: %s", status, why);
}

static enum MHD_Result respond(struct recv *rv, struct MHD_Connection *c, unsigned status,
			       const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
								  MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	if (status == 405)
		MHD_add_response_header(r, "Allow", "POST");
	if (status == 503)
		MHD_add_response_header(r, "Retry-After", "1");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (status >= 400)
		rejected(rv, status, text);
	return ret;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *k,
				  const char *v)
{
	(void)kind;
	wh_header_json(cls, k, v);
	return MHD_YES;
}

static void headers_json(void *ctx, struct jsonw *w)
{
	MHD_get_connection_values(ctx, MHD_HEADER_KIND, add_header, w);
}

static enum MHD_Result accept_event(struct recv *rv, struct MHD_Connection *c, struct conn *k)
{
	struct json_doc d;
	struct json_error je;
	struct strbuf line = STRBUF_INIT, id = STRBUF_INIT;
	const char *idh = wh_id_header(rv->scheme);
	const char *body = k->body.buf;
	char why[160];
	int is_json, r = 2;
	struct aperr e;

	if (wh_verify(rv->scheme, &rv->key, rv->header, header_of, c, body, k->body.len, real_now(),
		      (double)rv->tolerance, why, sizeof(why)) < 0) {
		size_t l = strlen(why);

		if (l + 1 < sizeof(why))
			memcpy(why + l, "\n", 2);
		return respond(rv, c, 401, why);
	}
	json_doc_init(&d, 512);
	json_error_init(&je);
	is_json = k->body.len && json_parse(&d, body, k->body.len, &je) == 0;
	strbuf_init(&line, (size_t)-1);
	if (is_json || wh_allows_text(rv->scheme)) {	/* else r stays 2: refused */
		char sk[72];
		const char *signed_key = wh_signed_key(rv->scheme, body, k->body.len, sk) == 0 ? sk
											: NULL;

		wh_delivery_id(rv->scheme, idh ? header_of(c, idh) : NULL, is_json ? &d : NULL, &id);
		r = wh_event(&line, rv->scheme, id.buf, id.len, signed_key, headers_json, c,
			     is_json ? &d : NULL, body, k->body.len, &rv->secrets, &e);
		if (r < 0)
			warnmsg("cannot write an event: %s", e.msg);
		else if ((r = wh_sink_put_signed(&rv->sink, id.buf, id.len, signed_key, line.buf,
						 line.len, &e)) < 0)
			warnmsg("cannot store an event: %s; it was not acknowledged", e.msg);
	}
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&line);
	strbuf_release(&id);
	if (r == 2)
		return respond(rv, c, 400, "the body is not JSON\n");
	if (r < 0)
		return respond(rv, c, 503, "the event could not be stored; send it again\n");
	return respond(rv, c, 200, r ? "duplicate delivery; already stored\n" : "stored\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct recv *rv = cls;
	struct conn *k = *con_cls;

	(void)url;
	(void)version;
	if (!k) {
		const char *cl = header_of(c, "content-length");
		uint64_t n = 0;
		struct aperr e;

		/* refuse from the headers alone, before a byte of the body is read */
		if (strcmp(method, "POST"))
			return respond(rv, c, 405, "only POST is accepted\n");
		if (cl && (num_parse_u64(cl, &n, "Content-Length", &e) < 0 || n > rv->max_body))
			return respond(rv, c, 413, "the body is larger than --max-body\n");
		k = calloc(1, sizeof(*k));
		if (!k)
			return MHD_NO;
		strbuf_init(&k->body, (size_t)-1);
		*con_cls = k;
		/* the whole declared body is reserved before a byte of it is read */
		if (cl && !reserve(rv, k, n))
			return respond(rv, c, 503, "busy: too many bodies on their way (--max-held); "
					   "send it again\n");
		return MHD_YES;
	}
	if (*upload_size) {
		if (k->body.len + *upload_size > rv->max_body) {
			/* a chunked body past the cap: no answer can be queued mid-body, so the
			 * connection is closed rather than read on */
			rejected(rv, 413, "a chunked body passed --max-body; connection closed");
			return MHD_NO;
		}
		/* a body without Content-Length reserves as it grows (as the buffer does) */
		if (k->body.len + *upload_size > k->reserved &&
		    !reserve(rv, k, 2 * (k->body.len + *upload_size) - k->reserved)) {
			rejected(rv, 503, "a chunked body passed --max-held; connection closed");
			return MHD_NO;
		}
		strbuf_add(&k->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return accept_event(rv, c, k);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct recv *rv = cls;
	struct conn *k = *con_cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)toe;
	/* the next request on this connection has its own deadline */
	if (ci && ci->socket_context)
		wh_deadlines_touch(&rv->deadlines, ci->socket_context);
	if (k) {
		unreserve(rv, k);
		strbuf_release(&k->body);
		free(k);
		*con_cls = NULL;
	}
}

/* Connections open and close: each is watched for --request-timeout. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct recv *rv = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_context = ci ? wh_deadlines_add(&rv->deadlines, ci->connect_fd) : NULL;
	} else if (*socket_context) {
		wh_deadlines_remove(&rv->deadlines, *socket_context);
		*socket_context = NULL;
	}
}

static struct MHD_Daemon *start(struct recv *rv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	char host[64];
	uint64_t port;
	struct aperr e;

	if (wh_listen_addr(rv->listen, &sa, host, &e) < 0)
		usage_error("%s", e.msg);
	/* room for every connection allowed, plus the files the sink needs */
	if (wh_fd_room(&rv->max_conn) && !rv->common.quiet)
		warnmsg("the open file limit allows %llu connections",
			(unsigned long long)rv->max_conn);
	/*
	 * epoll and a small pool of threads, not a thread per connection: slow
	 * clients cost a socket each, not a thread, and select's FD_SETSIZE
	 * does not cap them.
	 */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC,
			     0, NULL, NULL, on_request, rv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, rv,
			     MHD_OPTION_NOTIFY_CONNECTION, on_connection, rv,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(rv->req_timeout + 1),
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)rv->max_conn,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)rv->max_client,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
			     MHD_OPTION_END);
	if (!d)
		die(EX_UNAVAILABLE, "cannot listen on %s", rv->listen);
	port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	if (rv->port_file) {
		char num[16];

		snprintf(num, sizeof(num), "%llu\n", (unsigned long long)port);
		if (statefile_write(rv->port_file, num, strlen(num), 0, &e) < 0)
			die_err(&e);
	}
	if (!rv->common.quiet)
		warnmsg("listening on %s:%llu for %s events", *host ? host : "0.0.0.0",
			(unsigned long long)port, wh_scheme_name(rv->scheme));
	return d;
}

/* SIGTERM: stop accepting, let what is in flight finish, then go. */
static void serve(struct recv *rv)
{
	struct MHD_Daemon *d;
	struct aperr e;
	sigset_t set;
	int sig, i;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* the server's threads inherit it */
	if (wh_deadlines_start(&rv->deadlines, rv->req_timeout, &e) < 0)
		die_err(&e);
	d = start(rv);
	sigwait(&set, &sig);
	{
		MHD_socket s = MHD_quiesce_daemon(d);

		if (s != MHD_INVALID_SOCKET)
			close(s);
	}
	for (i = 0; i < 300; i++) {
		const union MHD_DaemonInfo *info =
			MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (!info || !info->num_connections)
			break;
		usleep(100000);
	}
	MHD_stop_daemon(d);
	wh_deadlines_stop(&rv->deadlines);
	if (!rv->common.quiet)
		warnmsg("stopped: %llu events stored, %llu duplicates",
			(unsigned long long)rv->sink.accepted, (unsigned long long)rv->sink.duplicates);
}

static void write_stats(struct recv *rv)
{
	struct tool_stats st;

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "accepted", rv->sink.accepted);
	jw_member_u64(&st.w, "duplicates", rv->sink.duplicates);
	jw_key(&st.w, "rejected");
	jw_counts(&st.w, rv->rejected, HTTP_STATUS_SLOTS);
	tool_stats_end(&st, rv->common.stats);
}

static volatile sig_atomic_t reader_stop;

static void on_stop(int sig)
{
	(void)sig;
	reader_stop = 1;
}

/*
 * --read: the events stored in dir to standard output, every file in name
 * order; with follow, then what is written later, new files included,
 * until SIGTERM or SIGINT.
 */
static int read_events(const char *dir, int follow)
{
	struct wh_reader r;
	struct lwriter out;
	struct sigaction sa;
	struct aperr e;
	uint64_t got;

	if (wh_reader_open(&r, dir, &e) < 0 || lwriter_init(&out, 1, "stdout", 1 << 16, &e) < 0)
		die_err(&e);
	tool_set_output(&out);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	do {
		if (wh_reader_poll(&r, &out, &got, &e) < 0)
			die_err(&e);
		tool_check_write(lwriter_flush(&out, &e), &e);
		/*
		 * Idle: wait a tenth of a second (what a consumer waits for an
		 * event), and stop when the reader of a pipe has gone.
		 */
		if (follow && !got && !reader_stop) {
			struct pollfd pfd = { 1, 0, 0 };

			if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLERR | POLLHUP)))
				break;
		}
	} while (follow && !reader_stop);
	wh_reader_close(&r);
	tool_finish(&out);
	return 0;
}

int cmd_webhook_recv(int argc, char **argv)
{
	const char *read_dir = NULL;
	int follow = 0;
	struct recv rv;
	struct aperr e;
	char *secret = NULL;
	int opt, have_scheme = 0;

	tool_set_options(options, NULL, NULL);
	memset(&rv, 0, sizeof(rv));
	cli_common_init(&rv.common);
	secrets_init(&rv.secrets);
	strbuf_init(&rv.key, 0);
	rv.tolerance = 300;
	rv.max_body = 1 << 20;
	rv.max_held = (uint64_t)64 << 20;
	rv.max_conn = 4000;
	rv.max_client = 64;
	rv.req_timeout = 30;
	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case OPT_LISTEN: rv.listen = optarg; break;
		case OPT_SECRET:
			free(secret);
			if (secret_resolve(optarg, "--secret", &rv.secrets, &secret, &e) < 0)
				die_opt(&e);
			break;
		case OPT_SCHEME:
			if (wh_scheme_parse(optarg, &rv.scheme, &e) < 0)
				usage_error("%s", e.msg);
			have_scheme = 1;
			break;
		case OPT_HEADER: rv.header = optarg; break;
		case OPT_TOLERANCE:
			if (num_parse_u64(optarg, &rv.tolerance, "--tolerance", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_OUT: rv.out_dir = optarg; break;
		case OPT_MAX_HELD:
			if (num_parse_size(optarg, &rv.max_held, "--max-held", &e) < 0)
				die_opt(&e);
			break;
		case OPT_MAX_BODY:
			if (num_parse_size(optarg, &rv.max_body, "--max-body", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_MAX_CONN:
			if (num_parse_count(optarg, 1, 1000000, &rv.max_conn, "--max-connections", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_MAX_CLIENT:
			if (num_parse_count(optarg, 1, 1000000, &rv.max_client, "--max-client-connections",
					    &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_REQ_TIMEOUT:
			if (num_parse_real(optarg, 0, 0, 86400, &rv.req_timeout, "--request-timeout",
					   "seconds, more than 0", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_PORT_FILE: rv.port_file = optarg; break;
		case OPT_READ: read_dir = optarg; break;
		case OPT_FOLLOW: follow = 1; break;
		default: tool_common_opt(&rv.common, opt, optarg);
		}
	}
	tool_common_done(&rv.common, usage_text);
	if (follow && !read_dir)
		usage_error("--follow goes with --read");
	if (read_dir) {
		if (rv.listen || secret || have_scheme || rv.out_dir)
			usage_error("--read reads what a receiver stored: no --listen, --secret, "
				    "--scheme or --out");
		if (optind < argc)
			usage_error("unexpected argument '%s'", argv[optind]);
		return read_events(read_dir, follow);
	}
	if (!rv.listen || !secret || !have_scheme)
		usage_error("--listen, --secret and --scheme are required");
	if (rv.header && rv.scheme != WH_HMAC)
		usage_error("--header goes with --scheme hmac-sha256");
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (wh_key(rv.scheme, secret, &rv.key, &e) < 0)
		die_err(&e);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	pthread_mutex_init(&rv.mu, NULL);
	if (wh_sink_open(&rv.sink, rv.out_dir, &e) < 0)
		die_err(&e);
	serve(&rv);
	tool_check_write(wh_sink_close(&rv.sink, &e), &e);
	if (rv.common.stats)
		write_stats(&rv);
	explicit_bzero(rv.key.buf, rv.key.len);
	strbuf_release(&rv.key);
	secrets_release(&rv.secrets);
	pthread_mutex_destroy(&rv.mu);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("webhook-recv");
	tool_hold_secrets();
	return cmd_webhook_recv(argc, argv);
}
