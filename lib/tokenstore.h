/*
 * tokenstore: an OAuth2 token set kept in a file for the programs that
 * use it (oauth-login writes it, fetch-page and paginate refresh it).
 *
 *   {"access_token","refresh_token","token_type","scope","expires_at",
 *    "obtained_at","token_url","client_id"}
 *
 * expires_at and obtained_at are Unix times in seconds.  The client secret
 * is never stored.  The file is written atomically with mode 0600; an
 * existing file that its group or others may read is refused (a store
 * somebody else can read is a leaked token).  Writers that refresh hold
 * an exclusive flock(2) on "<path>.lock" from reading the newest refresh
 * token to writing its successor, so processes sharing a store never use
 * a refresh token another already rotated away.
 *
 * Ownership: struct tokenset owns its strings; tokenset_release() wipes
 * and frees them.
 */
#ifndef APIPE_TOKENSTORE_H
#define APIPE_TOKENSTORE_H

#include "err.h"

struct tokenset {
	char *access_token, *refresh_token, *token_type, *scope, *token_url, *client_id;
	double expires_at;	/* Unix time; 0: not said */
	double obtained_at;
};

void tokenset_init(struct tokenset *ts);
void tokenset_release(struct tokenset *ts);
/* Replace *field by a copy of v (NULL clears, wiping the old value).  0 or -1. */
int tokenset_set(char **field, const char *v);

/*
 * Read the store.  Returns 0, or -1: EX_NOINPUT (no such file),
 * EX_CONFIG (readable by group or others), EX_DATAERR (not a token store).
 */
int tokenstore_read(const char *path, struct tokenset *ts, struct aperr *e);
/* Write the store atomically, mode 0600.  0 or -1 (EX_CONFIG, EX_CANTCREAT). */
int tokenstore_write(const char *path, const struct tokenset *ts, struct aperr *e);
/* May path become a store: absent, or an existing file only its owner reads? */
int tokenstore_check(const char *path, struct aperr *e);
/*
 * Wait for the store's exclusive lock; returns the descriptor to give to
 * statefile_unlock(), or -1 (EX_CANTCREAT).
 */
int tokenstore_lock(const char *path, struct aperr *e);

/*
 * What the store at path holds, as oauth-login --show reports it, a line
 * appended to out: the store, token_url, client_id, scope, expires_at
 * (RFC 3339) and expires_in (seconds from now, a real clock time), and
 * whether a refresh token is there -- never a token itself.  0 or -1.
 */
int tokenstore_report(const char *path, const struct tokenset *ts, double now,
		      struct strbuf *out, struct aperr *e);

#endif
