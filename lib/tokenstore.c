#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "instant.h"
#include "json.h"
#include "statefile.h"
#include "jsonw.h"
#include "tokenstore.h"

void tokenset_init(struct tokenset *ts)
{
	memset(ts, 0, sizeof(*ts));
}

int tokenset_set(char **field, const char *v)
{
	char *c = v ? strdup(v) : NULL;

	if (v && !c)
		return -1;
	if (*field) {
		explicit_bzero(*field, strlen(*field));
		free(*field);
	}
	*field = c;
	return 0;
}

void tokenset_release(struct tokenset *ts)
{
	tokenset_set(&ts->access_token, NULL);
	tokenset_set(&ts->refresh_token, NULL);
	tokenset_set(&ts->token_type, NULL);
	tokenset_set(&ts->scope, NULL);
	tokenset_set(&ts->token_url, NULL);
	tokenset_set(&ts->client_id, NULL);
	memset(ts, 0, sizeof(*ts));
}

/* A store others may read has leaked; refuse it.  0, or -1 (EX_CONFIG). */
static int private_enough(const char *path, int missing_ok, struct aperr *e)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return aperr_errno(e, errno == ENOENT ? EX_NOINPUT : EX_CONFIG, "%s", path);
	}
	if (st.st_mode & 077)
		return aperr_set(e, EX_CONFIG, "%s: the token store is readable by %s (mode %03o); "
				 "chmod 600 it or remove it", path,
				 st.st_mode & 007 ? "others" : "its group", (unsigned)(st.st_mode & 0777));
	return 0;
}

int tokenstore_read(const char *path, struct tokenset *ts, struct aperr *e)
{
	static const char *const names[] = { "access_token", "refresh_token", "token_type",
					     "scope", "token_url", "client_id" };
	char **fields[] = { &ts->access_token, &ts->refresh_token, &ts->token_type, &ts->scope,
			    &ts->token_url, &ts->client_id };
	struct strbuf buf = STRBUF_INIT, v = STRBUF_INIT;
	struct json_doc d;
	struct json_error je;
	int rc = -1, r;
	uint32_t t;
	size_t i;

	if (private_enough(path, 0, e) < 0)
		return -1;
	r = statefile_read(path, &buf, 1 << 20, e);
	if (r != 0) {
		if (r == 1)
			aperr_set(e, EX_NOINPUT, "%s: no token store; run oauth-login first", path);
		strbuf_release(&buf);
		return -1;
	}
	json_doc_init(&d, 8);
	json_error_init(&je);
	tokenset_release(ts);
	if (json_parse(&d, buf.buf, buf.len, &je) < 0 || json_type(&d, 0) != JSON_OBJECT) {
		aperr_set(e, EX_DATAERR, "%s: not a token store (a JSON object)", path);
		goto out;
	}
	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		t = json_get(&d, 0, names[i], strlen(names[i]));
		strbuf_reset(&v);
		if (t && json_type(&d, t) == JSON_STRING && json_str_decode(&d, t, &v) == 0 && v.len &&
		    tokenset_set(fields[i], v.buf) < 0) {
			aperr_set(e, EX_OSERR, "out of memory");
			goto out;
		}
	}
	t = json_get(&d, 0, "expires_at", 10);
	if (t && json_type(&d, t) == JSON_NUMBER)
		ts->expires_at = strtod(json_src(&d, t), NULL);
	t = json_get(&d, 0, "obtained_at", 11);
	if (t && json_type(&d, t) == JSON_NUMBER)
		ts->obtained_at = strtod(json_src(&d, t), NULL);
	if (!ts->access_token && !ts->refresh_token) {
		aperr_set(e, EX_DATAERR, "%s: the token store holds no token", path);
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(buf.buf, buf.len);
	explicit_bzero(v.buf, v.len);
	strbuf_release(&buf);
	strbuf_release(&v);
	json_doc_release(&d);
	json_error_release(&je);
	return rc;
}

int tokenstore_write(const char *path, const struct tokenset *ts, struct aperr *e)
{
	struct strbuf o = STRBUF_INIT;
	struct jsonw w;
	int rc;

	if (private_enough(path, 1, e) < 0)
		return -1;
	jw_init(&w, &o);
	jw_object(&w);
	jw_key(&w, "expires_at");
	jw_fixed(&w, ts->expires_at, 3);
	jw_key(&w, "obtained_at");
	jw_fixed(&w, ts->obtained_at, 3);
	jw_member_str(&w, "access_token", ts->access_token);
	jw_member_str(&w, "refresh_token", ts->refresh_token);
	jw_member_str(&w, "token_type", ts->token_type);
	jw_member_str(&w, "scope", ts->scope);
	jw_member_str(&w, "token_url", ts->token_url);
	jw_member_str(&w, "client_id", ts->client_id);
	jw_end_object(&w);
	if (jw_finish_line(&w) < 0) {
		explicit_bzero(o.buf, o.len);
		strbuf_release(&o);
		return aperr_set(e, EX_OSERR, "%s: cannot write the tokens: %s", path,
				 jw_error(&w));
	}
	rc = o.buf ? statefile_write(path, o.buf, o.len, 1, e)
		   : aperr_set(e, EX_OSERR, "out of memory");
	explicit_bzero(o.buf, o.len);
	strbuf_release(&o);
	return rc;
}

int tokenstore_check(const char *path, struct aperr *e)
{
	return private_enough(path, 1, e);
}

int tokenstore_lock(const char *path, struct aperr *e)
{
	return statefile_lock_wait(path, "token store", e);
}

int tokenstore_report(const char *path, const struct tokenset *ts, double now,
		      struct strbuf *out, struct aperr *e)
{
	struct jsonw w;
	char when[64] = "";

	jw_init(&w, out);
	jw_object(&w);
	jw_key(&w, "store");
	jw_text(&w, path, strlen(path));
	jw_member_str(&w, "token_url", ts->token_url);
	jw_member_str(&w, "client_id", ts->client_id);
	jw_key(&w, "scope");
	jw_str(&w, ts->scope);
	jw_key(&w, "expires_at");
	if (ts->expires_at > 0) {
		struct instant t = { (int64_t)ts->expires_at, 0, 0 };

		instant_format(&t, when, sizeof(when));
		jw_str(&w, when);
		jw_key(&w, "expires_in");
		jw_fixed(&w, ts->expires_at - now, 0);
	} else {
		jw_null(&w);
		jw_key(&w, "expires_in");
		jw_null(&w);
	}
	jw_key(&w, "refresh_token");
	jw_bool(&w, ts->refresh_token != NULL);
	jw_end_object(&w);
	if (jw_finish_line(&w) < 0)
		return aperr_set(e, EX_OSERR, "%s: %s", path, jw_error(&w));
	return 0;
}
