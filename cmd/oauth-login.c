/*
 * oauth-login: a person's consent, once, in a browser (OAuth2 authorization
 * code with PKCE), kept in a 0600 token store that fetch-page and paginate
 * refresh from then on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common.h"
#include "../lib/auth.h"
#include "../lib/http.h"
#include "../lib/httpcli.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/clock.h"
#include "../lib/ratelimit.h"
#include "../lib/secret.h"
#include "../lib/pkce.h"
#include "../lib/tokenstore.h"

static const char usage_text[] =
	"usage: oauth-login [-hqv] --authorize-url url --oauth2-token-url url\n"
	"       --client-id id [--client-secret secret] [--scope scope]...\n"
	"       [--redirect-port n] [--no-browser] [--timeout s]\n"
	"       [-k] [--http1.1] [--cert file] [--key file] [--cacert file]\n"
	"       [--retry n] [--retry-delay s] [--retry-max-time s] [--max-delay s]\n"
	"       [--retry-connrefused]\n"
	"       [--connect-timeout s] [--max-time s] --oauth2-store file\n"
	"       [--stats file] [--max-line size] [--max-depth n]\n"
	"       oauth-login --refresh [--client-secret secret] --oauth2-store file\n"
	"       oauth-login --show --oauth2-store file\n";

enum {
	OPT_AUTHORIZE = CLI_OPT_FIRST_TOOL, OPT_TOKEN_URL, OPT_CLIENT_ID, OPT_CLIENT_SECRET,
	OPT_SCOPE, OPT_PORT, OPT_NO_BROWSER, OPT_TIMEOUT, OPT_STORE, OPT_REFRESH, OPT_SHOW,
	OPT_OLD_TOKEN_URL, OPT_OLD_STORE
};

static const struct cli_opt options[] = {
	{ "authorize-url", 0, required_argument, OPT_AUTHORIZE, "url", "Login", "the authorization endpoint" },
	{ "oauth2-token-url", 0, required_argument, OPT_TOKEN_URL, "url", "Login", "the token endpoint" },
	{ "client-id", 0, required_argument, OPT_CLIENT_ID, "id", "Login", "the client id" },
	{ "client-secret", 0, required_argument, OPT_CLIENT_SECRET, "secret", "Login", "the client secret (env:NAME or file:PATH)" },
	{ "scope", 0, required_argument, OPT_SCOPE, "scope", "Login", "a scope to ask for (repeatable)" },
	{ "redirect-port", 0, required_argument, OPT_PORT, "n", "Login", "the loopback port of the redirect" },
	{ "no-browser", 0, no_argument, OPT_NO_BROWSER, NULL, "Login", "print the URL instead of opening a browser" },
	{ "timeout", 0, required_argument, OPT_TIMEOUT, "s", "Login", "how long to wait for the redirect" },
	{ "oauth2-store", 0, required_argument, OPT_STORE, "file", "Login", "where the tokens are kept (mode 600)" },
	{ "refresh", 0, no_argument, OPT_REFRESH, NULL, "Other", "refresh the stored token" },
	{ "show", 0, no_argument, OPT_SHOW, NULL, "Other", "show what the store holds (secrets masked)" },
	{ "token-url", 0, required_argument, OPT_OLD_TOKEN_URL, NULL, NULL, NULL },
	{ "store", 0, required_argument, OPT_OLD_STORE, NULL, NULL, NULL },
	CLI_OPT_END
};

/* What the browser's redirect brought. */
struct login {
	struct cli_common common;
	const char *authorize_url, *token_url, *client_id, *store;
	char *client_secret;
	struct strbuf scope;
	uint64_t port;
	int no_browser, refresh, show;
	uint64_t timeout;
	struct secrets secrets;
	struct http_cli hc;		/* the transport options (TLS, retries, timeouts) */
	/* the redirect */
	struct pkce pkce;
	pthread_mutex_t mu;
	int wake[2];
	enum pkce_outcome outcome;
	char *code, *error;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
								  MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Per-connection marks: seen once, and "this one carried the outcome". */
static char seen_mark, outcome_mark;

/* After the browser has its page: wake the main thread, which stops the listener. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct login *l = cls;

	(void)c;
	(void)toe;
	if (*con_cls == &outcome_mark && write(l->wake[1], "x", 1) < 0)
		warnmsg("cannot wake the main thread: %s", strerror(errno));
	*con_cls = NULL;
}

/* The redirect from the provider: GET /callback?code=…&state=… */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct login *l = cls;
	const char *code, *state, *error;
	enum pkce_outcome o;
	const char *page;
	unsigned status;

	(void)version;
	(void)upload;
	(void)upload_size;
	if (!*con_cls) {
		*con_cls = &seen_mark;
		return MHD_YES;
	}
	if (strcmp(method, "GET") || strcmp(url, "/callback"))
		return reply(c, 404, "Not found.\n");
	code = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "code");
	state = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
	error = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "error");
	o = pkce_callback(&l->pkce, code, state, error, &status, &page);
	pthread_mutex_lock(&l->mu);
	if (l->outcome == PKCE_WAITING) {
		l->outcome = o;
		if (code && o == PKCE_GOT_CODE)
			l->code = strdup(code);
		if (error)
			l->error = strndup(error, 200);
		*con_cls = &outcome_mark;
	} else {
		status = 409;
		page = "This sign-in is already finished.\n";
	}
	pthread_mutex_unlock(&l->mu);
	return reply(c, status, page);
}

static void open_browser(const char *url)
{
	static char prog[] = "xdg-open";
	char *arg = strdup(url), *argv[] = { prog, arg, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (arg && posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) == 0)
		warnmsg("opened the URL with xdg-open");
	posix_spawn_file_actions_destroy(&fa);
	free(arg);
}

static struct http_client *client_new(struct login *l, struct auth *a)
{
	struct http_client *c;
	struct aperr e;

	auth_init(a, &l->secrets);
	a->kind = AUTH_OAUTH2;
	if ((l->token_url && !(a->token_url = strdup(l->token_url))) ||
	    (l->client_id && !(a->client_id = strdup(l->client_id))) ||
	    (l->client_secret && !(a->client_secret = strdup(l->client_secret))) ||
	    (l->scope.len && !(a->scope = strdup(l->scope.buf))))
		die(EX_OSERR, "out of memory");
	c = http_client_new(&l->hc.pol, a, &l->secrets, &e);
	if (!c)
		die_err(&e);
	return c;
}

static void write_store(struct login *l, struct auth *a)
{
	struct tokenset ts;
	struct aperr e;

	tokenset_init(&ts);
	if (auth_tokenset(a, &ts) < 0)
		die(EX_OSERR, "out of memory");
	if (tokenstore_write(l->store, &ts, &e) < 0)
		die_err(&e);
	tokenset_release(&ts);
}

static void login(struct login *l)
{
	struct MHD_Daemon *d;
	struct sockaddr_in sa;
	struct strbuf redirect = STRBUF_INIT, url = STRBUF_INIT;
	struct http_client *client;
	struct auth_transport tr;
	struct auth a;
	struct aperr e;
	struct pollfd p;
	double deadline;
	int r;

	if (tokenstore_check(l->store, &e) < 0)
		die_err(&e);
	if (pkce_init(&l->pkce, &e) < 0)
		die_err(&e);
	if (pipe(l->wake) < 0)
		die(EX_OSERR, "pipe: %s", strerror(errno));
	pthread_mutex_init(&l->mu, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)l->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, l,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!d)
		die(EX_CANTCREAT, "cannot listen on 127.0.0.1:%llu for the redirect",
		    (unsigned long long)l->port);
	strbuf_addf(&redirect, "http://127.0.0.1:%u/callback",
		    (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
	if (pkce_authorize_url(&l->pkce, l->authorize_url, l->client_id, redirect.buf,
			       l->scope.buf, &url) < 0)
		die(EX_OSERR, "out of memory");
	fprintf(stderr, "%s: open this URL in a browser to sign in:\n%s\n", progname, url.buf);
	if (!l->common.quiet)
		warnmsg("waiting for the redirect to %s", redirect.buf);
	fflush(stderr);
	if (!l->no_browser && (getenv("DISPLAY") || getenv("WAYLAND_DISPLAY")))
		open_browser(url.buf);
	deadline = mono_now() + (double)l->timeout;
	p.fd = l->wake[0];
	p.events = POLLIN;
	do {
		double left = deadline - mono_now();

		r = left > 0 ? poll(&p, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1) : 0;
	} while (r < 0 && errno == EINTR);
	MHD_stop_daemon(d);
	if (r == 0)
		die(EX_TEMPFAIL, "no redirect came back within %llu seconds (--timeout); nothing "
		    "was stored", (unsigned long long)l->timeout);
	switch (l->outcome) {
	case PKCE_BAD_STATE:
		die(EX_NOPERM, "the redirect's state does not match this sign-in (a forged or "
		    "stale redirect); nothing was stored");
	case PKCE_REFUSED:
		die(EX_NOPERM, "the provider refused: %s; nothing was stored",
		    l->error ? l->error : "?");
	case PKCE_NO_CODE:
		die(EX_NOPERM, "the redirect carried no code; nothing was stored");
	default:
		break;
	}
	client = client_new(l, &a);
	http_client_transport(client, &tr);
	if (auth_exchange_code(&a, &tr, l->code, l->pkce.verifier, redirect.buf, &e) < 0) {
		secrets_scrub_str(&l->secrets, e.msg);
		die_err(&e);
	}
	write_store(l, &a);
	if (!l->common.quiet)
		warnmsg("signed in; the tokens are in %s", l->store);
	explicit_bzero(l->code, strlen(l->code));
	free(l->code);
	free(l->error);
	http_client_free(client);
	auth_release(&a);
	strbuf_release(&redirect);
	strbuf_release(&url);
	close(l->wake[0]);
	close(l->wake[1]);
	pthread_mutex_destroy(&l->mu);
}

static void refresh(struct login *l)
{
	struct http_client *client;
	struct auth_transport tr;
	struct auth a;
	struct aperr e;

	client = client_new(l, &a);
	http_client_transport(client, &tr);
	if (auth_load_store(&a, l->store, &e) < 0 || auth_refresh_now(&a, &tr, &e) < 0) {
		secrets_scrub_str(&l->secrets, e.msg);
		die_err(&e);
	}
	if (l->common.verbose)
		warnmsg("refreshed; the new tokens are in %s", l->store);
	http_client_free(client);
	auth_release(&a);
}

static void show(struct login *l)
{
	struct tokenset ts;
	struct aperr e;
	struct strbuf o = STRBUF_INIT;

	tokenset_init(&ts);
	if (tokenstore_read(l->store, &ts, &e) < 0 ||
	    tokenstore_report(l->store, &ts, real_now(), &o, &e) < 0)
		die_err(&e);
	fwrite(o.buf, 1, o.len, stdout);
	if (fflush(stdout) != 0)
		die(EX_IOERR, "stdout: %s", strerror(errno));
	strbuf_release(&o);
	tokenset_release(&ts);
}

int cmd_oauth_login(int argc, char **argv)
{
	struct login l;
	struct aperr e;
	int opt, r;

	tool_set_options(options, http_cli_transport_options, NULL);
	memset(&l, 0, sizeof(l));
	cli_common_init(&l.common);
	secrets_init(&l.secrets);
	strbuf_init(&l.scope, 0);
	http_cli_init(&l.hc);
	l.timeout = 300;
	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case OPT_AUTHORIZE: l.authorize_url = optarg; break;
		case OPT_TOKEN_URL: l.token_url = optarg; break;
		case OPT_CLIENT_ID: l.client_id = optarg; break;
		case OPT_CLIENT_SECRET:
			free(l.client_secret);
			if (secret_resolve(optarg, "--client-secret", &l.secrets, &l.client_secret,
					   &e) < 0)
				die_opt(&e);
			break;
		case OPT_SCOPE:
			strbuf_addf(&l.scope, "%s%s", l.scope.len ? " " : "", optarg);
			break;
		case OPT_PORT:
			if (num_parse_u64(optarg, &l.port, "--redirect-port", &e) < 0 || l.port > 65535)
				usage_error("--redirect-port: not a port number");
			break;
		case OPT_NO_BROWSER: l.no_browser = 1; break;
		case OPT_TIMEOUT:
			if (num_parse_u64(optarg, &l.timeout, "--timeout", &e) < 0 || !l.timeout)
				usage_error("--timeout: a whole number of seconds above 0");
			break;
		case OPT_STORE: l.store = optarg; break;
		case OPT_REFRESH: l.refresh = 1; break;
		case OPT_SHOW: l.show = 1; break;
		case OPT_OLD_TOKEN_URL: tool_renamed("--token-url", "--oauth2-token-url");
		case OPT_OLD_STORE: tool_renamed("--store", "--oauth2-store");
		default:
			r = http_cli_opt(&l.hc, opt, optarg, &e);
			if (r < 0)
				die_opt(&e);
			if (r == 0)
				tool_common_opt(&l.common, opt, optarg);
		}
	}
	tool_common_done(&l.common, usage_text);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!l.store)
		usage_error("--oauth2-store is required");
	if (l.refresh + l.show > 1)
		usage_error("--refresh and --show go alone");
	if (!l.refresh && !l.show && (!l.authorize_url || !l.token_url || !l.client_id))
		usage_error("a sign-in needs --authorize-url, --oauth2-token-url and --client-id");
	if (l.show)
		show(&l);
	else if (l.refresh)
		refresh(&l);
	else
		login(&l);
	if (l.client_secret) {
		explicit_bzero(l.client_secret, strlen(l.client_secret));
		free(l.client_secret);
	}
	secrets_release(&l.secrets);
	http_cli_release(&l.hc);
	strbuf_release(&l.scope);
	http_global_cleanup();
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("oauth-login");
	tool_hold_secrets();
	return cmd_oauth_login(argc, argv);
}
