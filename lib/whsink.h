/*
 * whsink: webhook-recv's events and where they are kept (the sink), the
 * deadlines of requests that trickle in, and the server's setup.
 */
#ifndef APIPE_WHSINK_H
#define APIPE_WHSINK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fpset.h"
#include "jsonl.h"
#include "jsonw.h"
#include "secret.h"
#include "strbuf.h"
#include "webhook.h"

struct jsonw;
struct secrets;

/*
 * An event's delivery id: header (the scheme's id header's value, or
 * NULL) when set, else the JSON body's id (Slack: event_id); empty when
 * neither.  d: the parsed body, or NULL.
 */
void wh_delivery_id(enum wh_scheme s, const char *header, const struct json_doc *d,
		    struct strbuf *id);
/* One request header as a member of the headers object: its name lowercased, a credential masked. */
void wh_header_json(struct jsonw *w, const char *name, const char *value);

/*
 * The event line (with its newline) appended to out:
 * {"received_at","id","signed"?,"scheme","headers":{…},"body"…}.  headers()
 * writes the members of the headers object (wh_header_json for each); d is
 * the parsed body, or NULL when it is not JSON (then it goes as text or
 * base64); signed (NULL: none) is wh_signed_key()'s.  Secrets are
 * scrubbed.  0 or -1 (e: the cap, or not UTF-8).
 */
int wh_event(struct strbuf *out, enum wh_scheme s, const char *id, size_t idn,
	     const char *signed_key, void (*headers)(void *ctx, struct jsonw *w), void *ctx,
	     const struct json_doc *d, const char *body, size_t n, const struct secrets *secrets,
	     struct aperr *e);
/*
 * What identifies a delivery by what is signed, for the schemes whose
 * delivery id the signature does not cover (github, hmac-sha256: only the
 * body is signed): "sha256:" and the body's SHA-256 in hex, into out (66
 * bytes with its NUL).  0, or -1 when the scheme signs its id or timestamp
 * too (a replay under a new id needs a new signature there).
 */
int wh_signed_key(enum wh_scheme s, const char *body, size_t n, char out[72]);

/*
 * The sink: events appended to DIR/events-TIME-PID.jsonl, each synced
 * before it is acknowledged, or to stdout (flushed); a delivery id is
 * stored once, also across runs in DIR (the ids of the events files there
 * are read at open).  Thread-safety: wh_sink_put() may be called from any
 * thread (the sink has its own mutex); open and close from one.
 */
struct wh_sink {
	pthread_mutex_t mu;
	struct lwriter out;
	char *path;			/* the events file; NULL: stdout */
	struct fpset seen;
	uint8_t key[16];
	uint64_t accepted, duplicates;
};

/* Open the sink in dir (created), or stdout when dir is NULL.  0 or -1 (e). */
int wh_sink_open(struct wh_sink *s, const char *dir, struct aperr *e);
/*
 * Store line (n bytes, a whole line) for delivery id (idn 0: none, never a
 * duplicate): 0 stored and durable, 1 a duplicate (not stored again), -1
 * (e) not stored.
 */
int wh_sink_put(struct wh_sink *s, const char *id, size_t idn, const char *line, size_t n,
		struct aperr *e);
/*
 * The same, a duplicate when the delivery id or the signed key (NULL:
 * none) was seen: a body replayed under a new, unsigned id is recognised.
 */
int wh_sink_put_signed(struct wh_sink *s, const char *id, size_t idn, const char *signed_key,
		       const char *line, size_t n, struct aperr *e);
/* Make everything durable and close.  0, or the writer's error. */
int wh_sink_close(struct wh_sink *s, struct aperr *e);

/* ---- request deadlines (whsink.c) ---- */

/*
 * The deadline a server's inactivity timeout does not give: a client that
 * trickles its headers or body a byte at a time keeps a connection for as
 * long as it likes.  A thread looks at the open connections five times a
 * second and shuts down (SHUT_RDWR) each whose current request began more
 * than timeout seconds ago; the server then sees it end.
 * Thread-safety: add, touch and remove may be called from any thread.
 */
struct wh_conn {
	int fd;
	double since;			/* when its current request began */
	struct wh_conn *prev, *next;
};

struct wh_deadlines {
	pthread_mutex_t mu;
	struct wh_conn *head;
	double timeout;
	int stopping;
	pthread_t thread;
};

/* Start watching with timeout seconds a request.  0 or -1 (e). */
int wh_deadlines_start(struct wh_deadlines *dl, double timeout, struct aperr *e);
/* A connection opened on fd: watched until wh_deadlines_remove(); NULL when out of memory. */
struct wh_conn *wh_deadlines_add(struct wh_deadlines *dl, int fd);
/* Its next request begins now. */
void wh_deadlines_touch(struct wh_deadlines *dl, struct wh_conn *c);
/* It closed: no longer watched, and freed. */
void wh_deadlines_remove(struct wh_deadlines *dl, struct wh_conn *c);
/* Stop the thread (the connections left are the caller's to close). */
void wh_deadlines_stop(struct wh_deadlines *dl);

/* ---- the server's setup (whsink.c) ---- */

struct sockaddr_in;

/*
 * --listen ADDR:PORT (IPv4; an empty ADDR is every address) into sa, with
 * ADDR as text in host (64 bytes).  0 or -1 (EX_USAGE).
 */
int wh_listen_addr(const char *arg, struct sockaddr_in *sa, char host[64], struct aperr *e);
/*
 * Raise the open file limit to room for max_conn connections plus the
 * sink's files; when the hard limit is lower, lower *max_conn to fit and
 * return 1 (0: room enough).
 */
int wh_fd_room(uint64_t *max_conn);

#endif
