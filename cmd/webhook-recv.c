/*
 * webhook-recv: receive pushed events, verify their signatures, and write
 * each accepted one durably before acknowledging it.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../lib/redact.h"
#include "common.h"
#include "../lib/fpset.h"
#include "../lib/hash.h"
#include "../lib/httpstatus.h"
#include "../lib/instant.h"
#include "../lib/json.h"
#include "../lib/jsonw.h"
#include "../lib/num.h"
#include "../lib/ratelimit.h"
#include "../lib/secret.h"
#include "../lib/statefile.h"
#include "../lib/webhook.h"

static const char usage_text[] =
	"usage: webhook-recv [-hqv] --listen addr:port --secret secret\n"
	"       --scheme github | stripe | slack | standard | hmac-sha256 [--header name]\n"
	"       [--tolerance s] [--out dir] [--max-body size] [--port-file file]\n"
	"       [--max-connections n] [--max-client-connections n] [--request-timeout s]\n"
	"       [--stats file]\n";

enum {
	OPT_LISTEN = CLI_OPT_FIRST_TOOL, OPT_SECRET, OPT_SCHEME, OPT_HEADER, OPT_TOLERANCE,
	OPT_OUT, OPT_MAX_BODY, OPT_PORT_FILE, OPT_MAX_CONN, OPT_MAX_CLIENT, OPT_REQ_TIMEOUT
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "secret", required_argument, NULL, OPT_SECRET },
	{ "scheme", required_argument, NULL, OPT_SCHEME },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "tolerance", required_argument, NULL, OPT_TOLERANCE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
	{ "max-client-connections", required_argument, NULL, OPT_MAX_CLIENT },
	{ "request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};

struct recv {
	struct cli_common common;
	enum wh_scheme scheme;
	const char *listen, *header, *out_dir, *port_file;
	uint64_t tolerance, max_body;
	uint64_t max_conn, max_client;	/* connections at once, and from one address */
	double req_timeout;		/* seconds a request may take, headers and body */
	/* open connections and when their current request began, under mu */
	struct watch {
		int fd;
		double since;
		struct watch *prev, *next;
	} *watching;
	pthread_t sweeper;
	int stopping;
	struct secrets secrets;
	struct strbuf key;
	/* the sink, under mu */
	pthread_mutex_t mu;
	struct lwriter out;		/* the events file, or stdout */
	struct fpset seen;
	uint8_t seen_key[16];
	uint64_t accepted, duplicates, rejected[HTTP_STATUS_SLOTS];
};

/* One request: its body as it arrives. */
struct conn {
	struct strbuf body;
};

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
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (status >= 400)
		rejected(rv, status, text);
	return ret;
}

static enum MHD_Result add_header_json(void *cls, enum MHD_ValueKind kind, const char *k,
				       const char *v)
{
	struct jsonw *w = cls;
	struct strbuf low = STRBUF_INIT;
	size_t i;

	(void)kind;
	for (i = 0; k[i]; i++)
		strbuf_addch(&low, (char)(k[i] >= 'A' && k[i] <= 'Z' ? k[i] + 32 : k[i]));
	if (strbuf_failed(&low))
		jw_fail(w, "out of memory");
	jw_key_text(w, low.buf ? low.buf : "", low.len);
	if (redact_header_name(low.buf ? low.buf : "", low.len))
		jw_str(w, SECRET_MASK);
	else
		jw_text(w, v, strlen(v));
	strbuf_release(&low);
	return MHD_YES;
}

/* The delivery's id: its scheme's header, else the JSON body's id or event_id. */
static void delivery_id(struct recv *rv, struct MHD_Connection *c, struct json_doc *d,
			int is_json, struct strbuf *id)
{
	const char *h = wh_id_header(rv->scheme);
	const char *v = h ? header_of(c, h) : NULL;
	uint32_t t;

	strbuf_reset(id);
	if (v && *v) {
		strbuf_addstr(id, v);
		return;
	}
	if (!is_json || json_type(d, 0) != JSON_OBJECT)
		return;
	t = json_get(d, 0, rv->scheme == WH_SLACK ? "event_id" : "id",
		     rv->scheme == WH_SLACK ? 8 : 2);
	if (t && json_type(d, t) == JSON_STRING)
		json_str_decode(d, t, id);
}

static enum MHD_Result accept_event(struct recv *rv, struct MHD_Connection *c, struct conn *k)
{
	struct json_doc d;
	struct json_error je;
	struct strbuf line = STRBUF_INIT, id = STRBUF_INIT;
	struct jsonw w;
	struct instant now;
	char when[64], why[160];
	int is_json, dup = 0, failed = 0;
	struct aperr we = { 0, "" };
	struct hash128 h;

	if (wh_verify(rv->scheme, &rv->key, rv->header, header_of, c, k->body.buf ? k->body.buf : "",
		      k->body.len, real_now(), (double)rv->tolerance, why, sizeof(why)) < 0) {
		size_t l = strlen(why);

		if (l + 1 < sizeof(why))
			memcpy(why + l, "\n", 2);
		return respond(rv, c, 401, why);
	}
	json_doc_init(&d, 512);
	json_error_init(&je);
	is_json = k->body.len && json_parse(&d, k->body.buf, k->body.len, &je) == 0;
	if (!is_json && !wh_allows_text(rv->scheme)) {
		json_doc_release(&d);
		json_error_release(&je);
		return respond(rv, c, 400, "the body is not JSON\n");
	}
	instant_now(&now);
	instant_format_ms(&now, when, sizeof(when));
	delivery_id(rv, c, &d, is_json, &id);
	strbuf_init(&line, (size_t)-1);
	jw_init(&w, &line);
	jw_object(&w);
	jw_member_str(&w, "received_at", when);
	jw_key(&w, "id");
	if (id.len)
		jw_text(&w, id.buf, id.len);
	else
		jw_null(&w);
	jw_member_str(&w, "scheme", wh_scheme_name(rv->scheme));
	jw_key(&w, "headers");
	jw_object(&w);
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_json, &w);
	jw_end_object(&w);
	if (is_json) {
		jw_key(&w, "body");
		jw_value(&w, &d, 0);
	} else {
		jw_bytes(&w, &jw_body_names, k->body.buf, k->body.len);
	}
	jw_end_object(&w);
	if (jw_finish_line(&w) < 0) {
		warnmsg("cannot write an event: %s", jw_error(&w));
		json_doc_release(&d);
		json_error_release(&je);
		strbuf_release(&line);
		strbuf_release(&id);
		return respond(rv, c, 503, "the event could not be stored; send it again\n");
	}
	secrets_scrub(&rv->secrets, &line);
	siphash128(rv->seen_key, id.buf ? id.buf : "", id.len, &h);
	pthread_mutex_lock(&rv->mu);
	if (id.len && fpset_has(&rv->seen, h)) {
		dup = 1;
		rv->duplicates++;
	} else if (lwriter_write(&rv->out, line.buf, line.len, &we) != 0 ||
		   (rv->out_dir ? lwriter_sync(&rv->out, &we) : lwriter_flush(&rv->out, &we)) != 0) {
		failed = 1;	/* durably written before the 200, or not acknowledged */
	} else {
		if (id.len)
			fpset_add(&rv->seen, h);
		rv->accepted++;
	}
	pthread_mutex_unlock(&rv->mu);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&line);
	strbuf_release(&id);
	if (failed) {
		warnmsg("cannot store an event: %s; it was not acknowledged",
			we.msg[0] ? we.msg : "standard output was closed");
		return respond(rv, c, 503, "the event could not be stored; send it again\n");
	}
	return respond(rv, c, 200, dup ? "duplicate delivery; already stored\n" : "stored\n");
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
		uint64_t n;
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
		return MHD_YES;
	}
	if (*upload_size) {
		if (k->body.len + *upload_size > rv->max_body) {
			/* a chunked body past the cap: no answer can be queued mid-body, so the
			 * connection is closed rather than read on */
			rejected(rv, 413, "a chunked body passed --max-body; connection closed");
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
	if (ci && ci->socket_context) {
		pthread_mutex_lock(&rv->mu);
		((struct watch *)ci->socket_context)->since = tool_seconds();
		pthread_mutex_unlock(&rv->mu);
	}
	if (k) {
		strbuf_release(&k->body);
		free(k);
		*con_cls = NULL;
	}
}

/* Remember the ids of the events already in dir, so a redelivery is not stored twice. */
static void load_seen(struct recv *rv)
{
	DIR *dir = opendir(rv->out_dir);
	struct dirent *de;
	struct json_doc d;
	struct json_error je;
	struct strbuf path = STRBUF_INIT, id = STRBUF_INIT;

	if (!dir)
		return;
	json_doc_init(&d, 512);
	json_error_init(&je);
	while ((de = readdir(dir))) {
		struct lreader in;
		struct aperr e;
		const char *line;
		size_t n;
		int fd;

		if (strncmp(de->d_name, "events-", 7) || !strstr(de->d_name, ".jsonl"))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", rv->out_dir, de->d_name);
		fd = open(path.buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || lreader_init(&in, fd, path.buf, 1u << 30, &e) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (lreader_next(&in, &line, &n, &e) > 0) {
			uint32_t t;
			struct hash128 h;

			if (json_parse(&d, line, n, &je) < 0 || !(t = json_get(&d, 0, "id", 2)) ||
			    json_type(&d, t) != JSON_STRING)
				continue;
			strbuf_reset(&id);
			json_str_decode(&d, t, &id);
			siphash128(rv->seen_key, id.buf ? id.buf : "", id.len, &h);
			fpset_add(&rv->seen, h);
		}
		lreader_release(&in);
		close(fd);
	}
	closedir(dir);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&path);
	strbuf_release(&id);
}

static void open_sink(struct recv *rv)
{
	struct strbuf path = STRBUF_INIT;
	struct instant now;
	struct aperr e;
	char when[64], *p, *q;
	int fd;

	if (!rv->out_dir) {
		if (lwriter_init(&rv->out, 1, "stdout", 1 << 16, &e) < 0)
			die_err(&e);
		return;
	}
	if (statefile_mkdirs(rv->out_dir, &e) < 0)
		die_err(&e);
	load_seen(rv);
	instant_now(&now);
	instant_format_ms(&now, when, sizeof(when));
	for (p = q = when; *p; p++)	/* 20261123T120000Z: no ':' or '-' in names */
		if (*p != ':' && *p != '-' && *p != '.')
			*q++ = *p;
	*q = '\0';
	strbuf_addf(&path, "%s/events-%s-%ld.jsonl", rv->out_dir, when, (long)getpid());
	fd = open(path.buf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		die(EX_CANTCREAT, "%s: %s", path.buf, strerror(errno));
	if (statefile_sync_dir(path.buf, &e) < 0 ||
	    lwriter_init(&rv->out, fd, strbuf_detach(&path, NULL), 1 << 16, &e) < 0)
		die_err(&e);
}

/* Connections open and close: keep each in the list the sweeper reads. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct recv *rv = cls;
	struct watch *w = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (!ci || !(w = calloc(1, sizeof(*w))))
			return;
		w->fd = ci->connect_fd;
		pthread_mutex_lock(&rv->mu);
		w->since = tool_seconds();
		w->next = rv->watching;
		if (rv->watching)
			rv->watching->prev = w;
		rv->watching = w;
		pthread_mutex_unlock(&rv->mu);
		*socket_context = w;
	} else if (w) {
		pthread_mutex_lock(&rv->mu);
		if (w->prev)
			w->prev->next = w->next;
		else
			rv->watching = w->next;
		if (w->next)
			w->next->prev = w->prev;
		pthread_mutex_unlock(&rv->mu);
		free(w);
		*socket_context = NULL;
	}
}

/*
 * The deadline MHD's inactivity timeout does not give: a client that
 * trickles its headers or body a byte at a time keeps a connection for as
 * long as it likes.  Every connection whose request is older than
 * --request-timeout is shut down (MHD then sees it end and frees it).
 */
static void *sweeper_main(void *arg)
{
	struct recv *rv = arg;

	for (;;) {
		struct watch *w;
		double now;
		int stop;

		usleep(200000);
		now = tool_seconds();
		pthread_mutex_lock(&rv->mu);
		stop = rv->stopping;
		for (w = rv->watching; w && !stop; w = w->next)
			if (now - w->since > rv->req_timeout && w->fd >= 0) {
				shutdown(w->fd, SHUT_RDWR);
				w->fd = -1;	/* once */
			}
		pthread_mutex_unlock(&rv->mu);
		if (stop)
			return NULL;
	}
}

/* Room for every connection allowed, plus the files the sink needs. */
static void raise_fd_limit(struct recv *rv)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rv->max_conn + 64) {
		rl.rlim_cur = rv->max_conn + 64 < rl.rlim_max ? rv->max_conn + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rv->max_conn + 64) {
		rv->max_conn = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
		if (!rv->common.quiet)
			warnmsg("the open file limit allows %llu connections",
				(unsigned long long)rv->max_conn);
	}
}

static struct MHD_Daemon *start(struct recv *rv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const char *colon = strrchr(rv->listen, ':');
	char host[64];
	uint64_t port;
	struct aperr e;

	if (!colon || (size_t)(colon - rv->listen) >= sizeof(host) ||
	    num_parse_u64(colon + 1, &port, "--listen", &e) < 0 || port > 65535)
		usage_error("--listen: expected ADDR:PORT, as 127.0.0.1:8080");
	memcpy(host, rv->listen, (size_t)(colon - rv->listen));
	host[colon - rv->listen] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa.sin_addr) != 1)
		usage_error("--listen: '%s' is not an IPv4 address", host);
	raise_fd_limit(rv);
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
	sigset_t set;
	int sig, i;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* the server's threads inherit it */
	d = start(rv);
	if (pthread_create(&rv->sweeper, NULL, sweeper_main, rv) != 0)
		die(EX_OSERR, "cannot start the request deadline thread");
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
	pthread_mutex_lock(&rv->mu);
	rv->stopping = 1;
	pthread_mutex_unlock(&rv->mu);
	pthread_join(rv->sweeper, NULL);
	if (!rv->common.quiet)
		warnmsg("stopped: %llu events stored, %llu duplicates", (unsigned long long)rv->accepted,
			(unsigned long long)rv->duplicates);
}

static void write_stats(struct recv *rv)
{
	struct tool_stats st;

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "accepted", rv->accepted);
	jw_member_u64(&st.w, "duplicates", rv->duplicates);
	jw_key(&st.w, "rejected");
	jw_counts(&st.w, rv->rejected, HTTP_STATUS_SLOTS);
	tool_stats_end(&st, rv->common.stats);
}

static const struct cli_help help[] = {
	{ "Server", "--listen addr:port", "where to listen" },
	{ "Server", "--port-file file", "write the port listened on to file" },
	{ "Server", "--out dir", "where events are written (default standard output)" },
	{ "Server", "--max-body size", "largest request body" },
	{ "Server", "--max-connections n", "connections at once" },
	{ "Server", "--max-client-connections n", "connections at once from one address" },
	{ "Server", "--request-timeout s", "the longest a request may take" },
	{ "Signatures", "--secret secret", "the signing secret (env:NAME or file:PATH)" },
	{ "Signatures", "--scheme scheme", "github, stripe, slack, standard or hmac-sha256" },
	{ "Signatures", "--header name", "the signature header (hmac-sha256)" },
	{ "Signatures", "--tolerance s", "how old a signed timestamp may be" },
	{ NULL, NULL, NULL }
};

int cmd_webhook_recv(int argc, char **argv)
{
	struct recv rv;
	struct aperr e;
	char *secret = NULL;
	int opt, have_scheme = 0;

	tool_set_help(help, NULL);
	memset(&rv, 0, sizeof(rv));
	cli_common_init(&rv.common);
	secrets_init(&rv.secrets);
	strbuf_init(&rv.key, 0);
	rv.tolerance = 300;
	rv.max_body = 1 << 20;
	rv.max_conn = 4000;
	rv.max_client = 64;
	rv.req_timeout = 30;
	while ((opt = tool_getopt(argc, argv, "hqv", longopts)) != -1) {
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
		case OPT_MAX_BODY:
			if (num_parse_size(optarg, &rv.max_body, "--max-body", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_MAX_CONN:
		case OPT_MAX_CLIENT: {
			uint64_t *v = opt == OPT_MAX_CONN ? &rv.max_conn : &rv.max_client;

			if (num_parse_u64(optarg, v, opt == OPT_MAX_CONN ? "--max-connections" :
					  "--max-client-connections", &e) < 0 || !*v || *v > 1000000)
				usage_error("%s: a count from 1 to 1000000",
					    opt == OPT_MAX_CONN ? "--max-connections" :
					    "--max-client-connections");
			break;
		}
		case OPT_REQ_TIMEOUT: {
			char *end;

			rv.req_timeout = strtod(optarg, &end);
			if (*end || end == optarg || !(rv.req_timeout > 0 && rv.req_timeout <= 86400))
				usage_error("--request-timeout: seconds, more than 0");
			break;
		}
		case OPT_PORT_FILE: rv.port_file = optarg; break;
		default: tool_common_opt(&rv.common, opt, optarg);
		}
	}
	tool_common_done(&rv.common, usage_text);
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
	fpset_init(&rv.seen);
	if (hash_random(rv.seen_key, sizeof(rv.seen_key)) < 0)
		die(EX_OSERR, "no random bytes");
	open_sink(&rv);
	serve(&rv);
	tool_check_write(rv.out_dir ? lwriter_sync(&rv.out, &e) : lwriter_flush(&rv.out, &e), &e);
	if (rv.out_dir) {
		close(rv.out.fd);
		free((void *)(uintptr_t)rv.out.name);	/* allocated here, kept as const */
	}
	lwriter_release(&rv.out);
	if (rv.common.stats)
		write_stats(&rv);
	explicit_bzero(rv.key.buf, rv.key.len);
	strbuf_release(&rv.key);
	fpset_release(&rv.seen);
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
