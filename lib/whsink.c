#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "instant.h"
#include "envelope.h"
#include "jsonw.h"
#include "num.h"
#include "redact.h"
#include "secret.h"
#include "statefile.h"
#include "whsink.h"

void wh_delivery_id(enum wh_scheme s, const char *header, const struct json_doc *d,
		    struct strbuf *id)
{
	uint32_t t;

	strbuf_reset(id);
	if (header && *header) {
		strbuf_addstr(id, header);
		return;
	}
	if (!d || json_type(d, 0) != JSON_OBJECT)
		return;
	t = json_get(d, 0, s == WH_SLACK ? "event_id" : "id", s == WH_SLACK ? 8 : 2);
	if (t && json_type(d, t) == JSON_STRING)
		json_str_decode(d, t, id);
}

void wh_header_json(struct jsonw *w, const char *name, const char *value)
{
	struct strbuf low = STRBUF_INIT;
	size_t i;

	for (i = 0; name[i]; i++)
		strbuf_addch(&low, (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]));
	if (strbuf_failed(&low))
		jw_fail(w, "out of memory");
	jw_key_text(w, low.buf, low.len);
	if (redact_header_name(low.buf, low.len))
		jw_str(w, SECRET_MASK);
	else
		jw_text(w, value, strlen(value));
	strbuf_release(&low);
}

int wh_signed_key(enum wh_scheme s, const char *body, size_t n, char out[72])
{
	if (s != WH_GITHUB && s != WH_HMAC)
		return -1;
	memcpy(out, "sha256:", 7);
	hash_sha256_hex(body ? body : "", n, out + 7);
	return 0;
}

int wh_event(struct strbuf *out, enum wh_scheme s, const char *id, size_t idn,
	     const char *signed_key, void (*headers)(void *ctx, struct jsonw *w), void *ctx,
	     const struct json_doc *d, const char *body, size_t n, const struct secrets *secrets,
	     struct aperr *e)
{
	struct instant now;
	struct jsonw w;
	char when[64];

	instant_now(&now);
	instant_format_ms(&now, when, sizeof(when));
	jw_init(&w, out);
	jw_object(&w);
	jw_member_str(&w, "received_at", when);
	jw_key(&w, "id");
	if (idn)
		jw_text(&w, id, idn);
	else
		jw_null(&w);
	if (signed_key)
		jw_member_str(&w, "signed", signed_key);
	jw_member_str(&w, "scheme", wh_scheme_name(s));
	jw_key(&w, "headers");
	jw_object(&w);
	headers(ctx, &w);
	jw_end_object(&w);
	if (d) {
		jw_key(&w, "body");
		jw_value(&w, d, 0);
	} else {
		envelope_bytes(&w, body ? body : "", n, secrets, NULL);
	}
	jw_end_object(&w);
	if (jw_finish_line(&w) < 0)
		return aperr_set(e, EX_DATAERR, "%s", jw_error(&w));
	/* a secret a sender echoed, in any spelling; the line stays JSON */
	secrets_scrub_json(secrets, out);
	return 0;
}

/* The id of each event in the events file at path, into the seen set. */
static void seen_in(struct wh_sink *s, const char *path, struct json_doc *d, struct json_error *je,
		    struct strbuf *id)
{
	struct lreader in;
	struct aperr e;
	const char *line;
	size_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || lreader_init(&in, fd, path, 1u << 30, &e) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (lreader_next(&in, &line, &n, &e) > 0) {
		static const char *const names[] = { "id", "signed" };
		size_t k;

		if (json_parse(d, line, n, je) < 0)
			continue;
		/* the delivery id, and the signed key: either makes a later one a duplicate */
		for (k = 0; k < 2; k++) {
			uint32_t t = json_get(d, 0, names[k], strlen(names[k]));
			struct hash128 h;

			if (!t || json_type(d, t) != JSON_STRING)
				continue;
			strbuf_reset(id);
			json_str_decode(d, t, id);
			siphash128(s->key, id->buf, id->len, &h);
			fpset_add(&s->seen, h);
		}
	}
	lreader_release(&in);
	close(fd);
}

/* Remember the ids of the events already in dir, so a redelivery is not stored twice. */
static void load_seen(struct wh_sink *s, const char *dirname)
{
	DIR *dir = opendir(dirname);
	struct dirent *de;
	struct json_doc d;
	struct json_error je;
	struct strbuf path = STRBUF_INIT, id = STRBUF_INIT;

	if (!dir)
		return;
	json_doc_init(&d, 512);
	json_error_init(&je);
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "events-", 7) || !strstr(de->d_name, ".jsonl"))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dirname, de->d_name);
		seen_in(s, path.buf, &d, &je, &id);
	}
	closedir(dir);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&path);
	strbuf_release(&id);
}

int wh_sink_open(struct wh_sink *s, const char *dir, struct aperr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct instant now;
	char when[64], *p, *q;
	int fd;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	fpset_init(&s->seen);
	if (hash_random(s->key, sizeof(s->key)) < 0)
		return aperr_set(e, EX_OSERR, "no random bytes");
	if (!dir)
		return lwriter_init(&s->out, 1, "stdout", 1 << 16, e);
	if (statefile_mkdirs(dir, e) < 0)
		return -1;
	load_seen(s, dir);
	instant_now(&now);
	instant_format_ms(&now, when, sizeof(when));
	for (p = q = when; *p; p++)	/* 20261123T120000Z: no ':' or '-' in names */
		if (*p != ':' && *p != '-' && *p != '.')
			*q++ = *p;
	*q = '\0';
	strbuf_addf(&path, "%s/events-%s-%ld.jsonl", dir, when, (long)getpid());
	if (strbuf_failed(&path))
		return aperr_set(e, EX_OSERR, "out of memory");
	fd = open(path.buf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		aperr_errno(e, EX_CANTCREAT, "%s", path.buf);
		strbuf_release(&path);
		return -1;
	}
	s->path = strbuf_detach(&path, NULL);
	if (statefile_sync_dir(s->path, e) < 0)
		return -1;
	return lwriter_init(&s->out, fd, s->path, 1 << 16, e);
}

int wh_sink_put(struct wh_sink *s, const char *id, size_t idn, const char *line, size_t n,
		struct aperr *e)
{
	return wh_sink_put_signed(s, id, idn, NULL, line, n, e);
}

int wh_sink_put_signed(struct wh_sink *s, const char *id, size_t idn, const char *signed_key,
		       const char *line, size_t n, struct aperr *e)
{
	struct hash128 h, hs;
	int r = 0;

	e->msg[0] = '\0';
	siphash128(s->key, id ? id : "", idn, &h);
	siphash128(s->key, signed_key ? signed_key : "", signed_key ? strlen(signed_key) : 0, &hs);
	pthread_mutex_lock(&s->mu);
	if ((idn && fpset_has(&s->seen, h)) || (signed_key && fpset_has(&s->seen, hs))) {
		r = 1;
		s->duplicates++;
	} else if (lwriter_write(&s->out, line, n, e) != 0 ||
		   (s->path ? lwriter_sync(&s->out, e) : lwriter_flush(&s->out, e)) != 0) {
		r = -1;	/* durably written before the 200, or not acknowledged */
		if (s->out.failed == LW_EPIPE || !e->msg[0])
			aperr_set(e, EX_IOERR, "%s was closed", s->path ? s->path : "standard output");
	} else {
		if (idn)
			fpset_add(&s->seen, h);
		if (signed_key)
			fpset_add(&s->seen, hs);
		s->accepted++;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

int wh_sink_close(struct wh_sink *s, struct aperr *e)
{
	int r = s->path ? lwriter_sync(&s->out, e) : lwriter_flush(&s->out, e);

	if (s->path) {
		close(s->out.fd);
		free(s->path);
		s->path = NULL;
	}
	lwriter_release(&s->out);
	fpset_release(&s->seen);
	pthread_mutex_destroy(&s->mu);
	return r;
}

static double monotonic(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *sweep(void *arg)
{
	struct wh_deadlines *dl = arg;

	for (;;) {
		struct wh_conn *c;
		double now;
		int stop;

		usleep(200000);
		now = monotonic();
		pthread_mutex_lock(&dl->mu);
		stop = dl->stopping;
		for (c = dl->head; c && !stop; c = c->next)
			if (now - c->since > dl->timeout && c->fd >= 0) {
				shutdown(c->fd, SHUT_RDWR);
				c->fd = -1;	/* once */
			}
		pthread_mutex_unlock(&dl->mu);
		if (stop)
			return NULL;
	}
}

int wh_deadlines_start(struct wh_deadlines *dl, double timeout, struct aperr *e)
{
	memset(dl, 0, sizeof(*dl));
	dl->timeout = timeout;
	pthread_mutex_init(&dl->mu, NULL);
	if (pthread_create(&dl->thread, NULL, sweep, dl) != 0)
		return aperr_set(e, EX_OSERR, "cannot start the request deadline thread");
	return 0;
}

struct wh_conn *wh_deadlines_add(struct wh_deadlines *dl, int fd)
{
	struct wh_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	pthread_mutex_lock(&dl->mu);
	c->since = monotonic();
	c->next = dl->head;
	if (dl->head)
		dl->head->prev = c;
	dl->head = c;
	pthread_mutex_unlock(&dl->mu);
	return c;
}

void wh_deadlines_touch(struct wh_deadlines *dl, struct wh_conn *c)
{
	pthread_mutex_lock(&dl->mu);
	c->since = monotonic();
	pthread_mutex_unlock(&dl->mu);
}

void wh_deadlines_remove(struct wh_deadlines *dl, struct wh_conn *c)
{
	pthread_mutex_lock(&dl->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		dl->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&dl->mu);
	free(c);
}

void wh_deadlines_stop(struct wh_deadlines *dl)
{
	pthread_mutex_lock(&dl->mu);
	dl->stopping = 1;
	pthread_mutex_unlock(&dl->mu);
	pthread_join(dl->thread, NULL);
	pthread_mutex_destroy(&dl->mu);
}

int wh_listen_addr(const char *arg, struct sockaddr_in *sa, char host[64], struct aperr *e)
{
	const char *colon = strrchr(arg, ':');
	uint64_t port;

	if (!colon || (size_t)(colon - arg) >= 64 ||
	    num_parse_u64(colon + 1, &port, "--listen", e) < 0 || port > 65535)
		return aperr_set(e, EX_USAGE, "--listen: expected ADDR:PORT, as 127.0.0.1:8080");
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa->sin_addr) != 1)
		return aperr_set(e, EX_USAGE, "--listen: '%s' is not an IPv4 address", host);
	return 0;
}

int wh_fd_room(uint64_t *max_conn)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < *max_conn + 64) {
		rl.rlim_cur = *max_conn + 64 < rl.rlim_max ? *max_conn + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < *max_conn + 64) {
		*max_conn = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
		return 1;
	}
	return 0;
}
