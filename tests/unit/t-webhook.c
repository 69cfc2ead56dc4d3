/* lib/webhook: the published test vectors of each scheme, and tampering. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <stdlib.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "../../lib/jsonw.h"
#include "../../lib/secret.h"
#include "../../lib/statefile.h"
#include "../../lib/webhook.h"
#include "../../lib/whread.h"
#include "../../lib/whsink.h"

/* Headers as "name\0value\0…\0". */
static const char *lookup(void *ctx, const char *name)
{
	const char *p = ctx;

	while (*p) {
		const char *v = p + strlen(p) + 1;

		if (!strcasecmp(p, name))
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

static int verify(enum wh_scheme s, const char *secret, const char *hdrs, const char *body,
		  double now, double tol, char *why)
{
	struct strbuf key = STRBUF_INIT;
	struct aperr e;
	int r;

	if (wh_key(s, secret, &key, &e) < 0)
		return -2;
	r = wh_verify(s, &key, NULL, lookup, (void *)(uintptr_t)hdrs, body, strlen(body), now, tol, why, 128);
	strbuf_release(&key);
	return r;
}

#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
#define SLACK_BODY "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"

static void two_headers(void *ctx, struct jsonw *w)
{
	(void)ctx;
	wh_header_json(w, "Content-Type", "application/json");
	wh_header_json(w, "Authorization", "Bearer s3cret");
}

/* The sink: one copy of each delivery, also across runs; the event line; deadlines. */
static void test_sink(void)
{
	char dir[] = "/tmp/apipe-t-whsink-XXXXXX", cmd[200], buf[8];
	struct wh_sink sk;
	struct wh_deadlines dl;
	struct wh_conn *c;
	struct strbuf line = STRBUF_INIT, id = STRBUF_INIT;
	struct secrets sec;
	struct json_doc d;
	struct aperr e;
	const char *ln = "{\"id\":\"a\"}\n";
	int sv[2];

	if (!mkdtemp(dir))
		return;
	ok(wh_sink_open(&sk, dir, &e) == 0, "sink: opened in a directory");
	ok(wh_sink_put(&sk, "a", 1, ln, strlen(ln), &e) == 0 && wh_sink_put(&sk, "a", 1, ln, strlen(ln), &e) == 1 &&
	   wh_sink_put(&sk, NULL, 0, ln, strlen(ln), &e) == 0 && sk.accepted == 2 && sk.duplicates == 1,
	   "sink: a delivery id is stored once; an event without one always");
	ok(wh_sink_close(&sk, &e) == 0, "sink: closed");
	ok(wh_sink_open(&sk, dir, &e) == 0 && wh_sink_put(&sk, "a", 1, ln, strlen(ln), &e) == 1 &&
	   wh_sink_put(&sk, "b", 1, ln, strlen(ln), &e) == 0, "sink: the ids stored by an earlier run are known");
	wh_sink_close(&sk, &e);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ok(system(cmd) == 0, "sink: its directory is removed");

	json_doc_init(&d, 16);
	json_parse(&d, "{\"event_id\":\"E1\",\"id\":\"I\"}", 26, NULL);
	wh_delivery_id(WH_SLACK, NULL, &d, &id);
	is_str(id.buf, "E1", "delivery id: Slack's event_id");
	wh_delivery_id(WH_GITHUB, "gh-1", &d, &id);
	is_str(id.buf, "gh-1", "delivery id: the scheme's header first");
	secrets_init(&sec);
	secrets_add(&sec, "s3cret");
	ok(wh_event(&line, WH_GITHUB, "gh-1", 4, NULL, two_headers, NULL, NULL, "a=1", 3, &sec, &e) == 0 &&
	   strstr(line.buf, "\"id\":\"gh-1\",\"scheme\":\"github\",\"headers\":{\"content-type\":"
		  "\"application/json\",\"authorization\":\"") && !strstr(line.buf, "s3cret") &&
	   strstr(line.buf, "\"body_text\":\"a=1\"}\n"),
	   "event: names lowercased, the credential masked, a body that is not JSON as text");
	strbuf_reset(&line);
	ok(wh_event(&line, WH_STANDARD, NULL, 0, NULL, two_headers, NULL, &d, NULL, 0, &sec, &e) == 0 &&
	   strstr(line.buf, "\"id\":null") && strstr(line.buf, "\"body\":{\"event_id\":\"E1\""),
	   "event: a JSON body as JSON, no id as null");
	json_doc_release(&d);
	secrets_release(&sec);
	strbuf_release(&line);
	strbuf_release(&id);

	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && wh_deadlines_start(&dl, 0.1, &e) == 0,
	   "deadlines: started");
	c = wh_deadlines_add(&dl, sv[0]);
	usleep(600000);
	ok(c && read(sv[1], buf, sizeof(buf)) == 0 && c->fd == -1,
	   "deadlines: a request past its time has its connection shut down");
	wh_deadlines_remove(&dl, c);
	{
		struct sockaddr_in sa;
		char host[64];

		ok(wh_listen_addr("127.0.0.1:8080", &sa, host, &e) == 0 && !strcmp(host, "127.0.0.1") &&
		   sa.sin_port == htons(8080), "listen: ADDR:PORT");
		ok(wh_listen_addr(":0", &sa, host, &e) == 0 && !*host, "listen: every address, any port");
		ok(wh_listen_addr("localhost:80", &sa, host, &e) < 0 && e.code == EX_USAGE &&
		   strstr(e.msg, "not an IPv4 address"), "listen: a name is refused (64)");
		ok(wh_listen_addr("127.0.0.1:70000", &sa, host, &e) < 0 && e.code == EX_USAGE,
		   "listen: a port past 65535 is refused");
	}
	wh_deadlines_stop(&dl);
	close(sv[0]);
	close(sv[1]);
}

/* The reader: a line longer than a read, then one being written, then its end. */
static void test_reader(void)
{
	char dir[] = "/tmp/apipe-t-whread-XXXXXX", path[300], outp[300];
	struct wh_reader r;
	struct lwriter out;
	struct aperr e;
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	uint64_t bytes = 0;
	FILE *f;
	int fd, i;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/events-20261207T000000000Z-1.jsonl", dir);
	snprintf(outp, sizeof(outp), "%s/out", dir);
	strbuf_addstr(&want, "{\"id\":\"");
	for (i = 0; i < 200000; i++)
		strbuf_addch(&want, (char)('a' + i % 26));
	strbuf_addstr(&want, "\"}\n{\"id\":\"short\"}\n");
	f = fopen(path, "w");
	fwrite(want.buf, 1, want.len, f);
	fputs("{\"id\":\"partial", f);
	fclose(f);
	fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(wh_reader_open(&r, dir, &e) == 0 && lwriter_init(&out, fd, "out", 1 << 16, &e) == 0,
	   "reader: opened");
	ok(wh_reader_poll(&r, &out, &bytes, &e) == 0 && lwriter_flush(&out, &e) == 0, "reader: polled");
	is_int(bytes, want.len, "reader: the whole lines, a 200 KB one across reads, not the partial one");
	f = fopen(path, "a");
	fputs("\"}\n", f);
	fclose(f);
	ok(wh_reader_poll(&r, &out, &bytes, &e) == 0 && lwriter_flush(&out, &e) == 0, "reader: again");
	is_int(bytes, strlen("{\"id\":\"partial\"}\n"), "reader: the line, once it is whole");
	strbuf_addstr(&want, "{\"id\":\"partial\"}\n");
	statefile_read(outp, &got, 1 << 20, &e);
	ok(got.len == want.len && !memcmp(got.buf, want.buf, got.len), "reader: every byte once, in order");
	wh_reader_close(&r);
	lwriter_release(&out);
	close(fd);
	unlink(path);
	unlink(outp);
	rmdir(dir);
	strbuf_release(&got);
	strbuf_release(&want);
}

int main(void)
{
	test_sink();
	test_reader();
	char why[128];
	static const char gh[] = "X-Hub-Signature-256\0" GH_SIG "\0";
	static const char gh_bad[] = "X-Hub-Signature-256\0sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18\0";
	static const char std[] = "webhook-id\0msg_p5jXN8AQM9LWM0D4loKWxJek\0webhook-timestamp\0" "1614265330\0"
				  "webhook-signature\0v1,bm9ldHJ1ZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\0";
	static const char slack[] = "X-Slack-Signature\0v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503\0"
				    "X-Slack-Request-Timestamp\0" "1531420618\0";
	static const char stripe[] = "Stripe-Signature\0t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925,v0=x\0";

	/* GitHub's documented example */
	is_int(verify(WH_GITHUB, "It's a Secret to Everybody", gh, "Hello, World!", 0, 0, why), 0,
	       "GitHub: the documented example verifies");
	is_int(verify(WH_GITHUB, "It's a Secret to Everybody", gh, "Hello, World?", 0, 0, why), -1,
	       "GitHub: a tampered body does not");
	is_str(why, "bad signature", "... as a bad signature");
	is_int(verify(WH_GITHUB, "It's a secret to everybody", gh, "Hello, World!", 0, 0, why), -1,
	       "GitHub: a wrong secret does not");
	is_int(verify(WH_GITHUB, "It's a Secret to Everybody", gh_bad, "Hello, World!", 0, 0, why), -1,
	       "GitHub: a signature one bit off does not");
	is_int(verify(WH_GITHUB, "It's a Secret to Everybody", "\0", "Hello, World!", 0, 0, why), -1,
	       "GitHub: no signature header");
	is_str(why, "missing X-Hub-Signature-256", "... says which header is missing");

	/* The Standard Webhooks specification's example */
	is_int(verify(WH_STANDARD, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", std,
		      "{\"test\": 2432232314}", 1614265330, 300, why), 0,
	       "Standard Webhooks: the spec's example verifies (among several signatures)");
	is_int(verify(WH_STANDARD, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", std,
		      "{\"test\": 2432232314}", 1614265330 + 301, 300, why), -1,
	       "Standard Webhooks: 301 s later it is stale");
	ok(!strncmp(why, "stale timestamp", 15), "... as a stale timestamp");
	is_int(verify(WH_STANDARD, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", std,
		      "{\"test\": 2432232315}", 1614265330, 300, why), -1,
	       "Standard Webhooks: a tampered body does not verify");
	is_int(verify(WH_STANDARD, "whsec_!!", std, "{}", 0, 0, why), -2,
	       "Standard Webhooks: a secret that is not base64 is refused");

	/* Slack's documented example */
	is_int(verify(WH_SLACK, "8f742231b10e8888abcd99yyyzzz85a5", slack, SLACK_BODY, 1531420618, 300,
		      why), 0, "Slack: the documented example verifies");
	is_int(verify(WH_SLACK, "8f742231b10e8888abcd99yyyzzz85a5", slack, SLACK_BODY, 1531420618 + 3600,
		      300, why), -1, "Slack: an hour later it is stale");

	/* Stripe: t and v1 over "t.body" (vector computed with openssl dgst) */
	is_int(verify(WH_STRIPE, "whsec_test", stripe, "{\"id\":\"evt_1\"}", 1700000000, 300, why), 0,
	       "Stripe: t=…,v1=… over \"t.body\" verifies, other schemes ignored");
	is_int(verify(WH_STRIPE, "whsec_test", stripe, "{\"id\":\"evt_2\"}", 1700000000, 300, why), -1,
	       "Stripe: a tampered body does not");
	is_int(verify(WH_STRIPE, "whsec_test", stripe, "{\"id\":\"evt_1\"}", 1700000000 - 400, 300, why),
	       -1, "Stripe: outside the tolerance it is stale");
	return done_testing();
}
