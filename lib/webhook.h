/*
 * webhook: verifying the signatures of pushed events.
 *
 *   github       X-Hub-Signature-256: sha256=HEX, HMAC-SHA256(secret, body)
 *   stripe       Stripe-Signature: t=TS,v1=HEX[,v1=HEX…], over "TS.body"
 *   slack        X-Slack-Signature: v0=HEX over "v0:TS:body", with
 *                X-Slack-Request-Timestamp: TS
 *   standard     Standard Webhooks: webhook-id, webhook-timestamp,
 *                webhook-signature: "v1,BASE64 …" over "id.TS.body", the
 *                key being the base64 after "whsec_"
 *   hmac-sha256  a header (X-Signature unless named) holding HEX,
 *                sha256=HEX or BASE64 of HMAC-SHA256(secret, body)
 *
 * MACs are compared in constant time; a timestamp further than tolerance
 * seconds from now (either way) is stale.  Nothing here allocates but the
 * key; nothing keeps or prints the secret.
 *
 * Thread-safety: wh_verify() and the scheme tables keep no state between
 * calls; webhook-recv's connection threads call them at once, each with
 * its own buffers.
 */
#ifndef APIPE_WEBHOOK_H
#define APIPE_WEBHOOK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "fpset.h"
#include "json.h"
#include "jsonl.h"
#include "strbuf.h"

enum wh_scheme { WH_GITHUB, WH_STRIPE, WH_SLACK, WH_STANDARD, WH_HMAC };

/* 0, or -1 (EX_USAGE) for an unknown scheme name. */
int wh_scheme_parse(const char *name, enum wh_scheme *out, struct aperr *e);
const char *wh_scheme_name(enum wh_scheme s);
/* May the scheme's events carry a body that is not JSON (forms, text)? */
int wh_allows_text(enum wh_scheme s);
/* The header that names a delivery (X-GitHub-Delivery, webhook-id), or NULL. */
const char *wh_id_header(enum wh_scheme s);

/* The HMAC key for the scheme's secret (standard: base64 after whsec_).  0 or -1. */
int wh_key(enum wh_scheme s, const char *secret, struct strbuf *key, struct aperr *e);

/* Look a request header up (case-insensitively); NULL when absent. */
typedef const char *(*wh_header_fn)(void *ctx, const char *name);

/*
 * Verify one delivery.  sig_header names the header of the hmac-sha256
 * scheme (NULL: X-Signature).  Returns 0 when the signature is good and
 * fresh, or -1 with why filled ("missing X-Hub-Signature-256", "bad
 * signature", "stale timestamp" …).
 */
int wh_verify(enum wh_scheme s, const struct strbuf *key, const char *sig_header,
	      wh_header_fn header, void *ctx, const char *body, size_t n, double now,
	      double tolerance, char *why, size_t whylen);

/* ---- events and where they are kept (whsink.c) ---- */

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

/* ---- reading the stored events back (whread.c) ---- */

/*
 * A reader of a sink's directory: every events file in name order (the
 * time its receiver started, then its pid), each line once, a line only
 * once it is whole.  Owns its names and offsets (wh_reader_close).
 */
struct wh_read_file {
	char *name;
	off_t off;			/* the bytes of whole lines already read */
};
struct wh_reader {
	char *dir;
	struct wh_read_file *f;
	size_t n;
	struct strbuf acc;		/* scratch: what one file holds past off */
};

/* dir must be a directory: 0, or -1 (EX_NOINPUT). */
int wh_reader_open(struct wh_reader *r, const char *dir, struct aperr *e);
/*
 * The whole lines written since the last poll, file by file, appended to
 * out; *lines how many.  A file that shrank is EX_DATAERR.  0 or -1 (e).
 */
int wh_reader_poll(struct wh_reader *r, struct lwriter *out, uint64_t *lines, struct aperr *e);
void wh_reader_close(struct wh_reader *r);

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
