/*
 * S3-compatible object storage through lib/http, signed by libcurl (s3.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "hash.h"
#include "http.h"
#include "s3.h"
#include "url.h"

#define S3_PART_SIZE ((size_t)8 << 20)		/* multipart: bytes per part */
#define S3_MAX_OBJECT ((size_t)1 << 30)		/* largest object read into memory */

const struct cli_opt s3_cli_options[] = {
	{ "aws-access-key-id", 0, required_argument, S3_OPT_KEY_ID, "ref", "Object storage", "the S3 access key id (env:NAME or file:PATH; default $AWS_ACCESS_KEY_ID)" },
	{ "aws-secret-access-key", 0, required_argument, S3_OPT_SECRET, "ref", "Object storage", "its secret (env:NAME or file:PATH; default $AWS_SECRET_ACCESS_KEY)" },
	{ "aws-session-token", 0, required_argument, S3_OPT_TOKEN, "ref", "Object storage", "a session token (env:NAME or file:PATH; default $AWS_SESSION_TOKEN)" },
	{ "aws-region", 0, required_argument, S3_OPT_REGION, "region", "Object storage", "the region (default $AWS_REGION, else us-east-1)" },
	{ "s3-endpoint", 0, required_argument, S3_OPT_ENDPOINT, "url", "Object storage", "an S3-compatible store (path-style; default $AWS_ENDPOINT_URL_S3)" },
	CLI_OPT_END
};

int s3_cli_opt(struct s3_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case S3_OPT_KEY_ID: o->key_id = arg; return 1;
	case S3_OPT_SECRET: o->secret = arg; return 1;
	case S3_OPT_TOKEN: o->token = arg; return 1;
	case S3_OPT_REGION: o->region = arg; return 1;
	case S3_OPT_ENDPOINT: o->endpoint = arg; return 1;
	default: return 0;
	}
}

int s3_is_url(const char *url)
{
	return url && !strncmp(url, "s3://", 5);
}

int s3_url_parse(const char *url, char **bucket, char **key, struct aperr *e)
{
	const char *b, *slash;

	*bucket = *key = NULL;
	if (!s3_is_url(url))
		return aperr_set(e, EX_USAGE, "%s: not an s3://BUCKET/KEY URL", url);
	b = url + 5;
	slash = strchr(b, '/');
	if (slash == b || !*b)
		return aperr_set(e, EX_USAGE, "%s: no bucket named (s3://BUCKET/KEY)", url);
	*bucket = slash ? strndup(b, (size_t)(slash - b)) : strdup(b);
	*key = strdup(slash ? slash + 1 : "");
	if (!*bucket || !*key) {
		free(*bucket);
		free(*key);
		*bucket = *key = NULL;
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	return 0;
}

/* The first of the environment variables named that is set and not empty. */
static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);

	if ((!v || !*v) && b)
		v = getenv(b);
	return v && *v ? v : NULL;
}

/* A credential from option ref (env:/file:) or else environment variable var. */
static int credential(const char *ref, const char *opt, const char *var, struct secrets *sec,
		      char **out, struct aperr *e)
{
	const char *v;

	*out = NULL;
	if (ref)
		return secret_resolve(ref, opt, sec, out, e);
	if (!(v = env_first(var, NULL)))
		return 0;
	if (!(*out = strdup(v)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (sec)
		secrets_add(sec, v);
	return 0;
}

int s3_open(struct s3 *s, const struct s3_opts *o, struct secrets *secrets, struct aperr *e)
{
	struct http_policy pol;
	char *id = NULL, *secret = NULL;
	const char *region = o->region ? o->region : env_first("AWS_REGION", "AWS_DEFAULT_REGION");
	const char *ep = o->endpoint ? o->endpoint : env_first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
	size_t n;

	memset(s, 0, sizeof(*s));
	s->secrets = secrets;
	if (credential(o->key_id, "--aws-access-key-id", "AWS_ACCESS_KEY_ID", secrets, &id, e) < 0 ||
	    credential(o->secret, "--aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", secrets,
		       &secret, e) < 0 ||
	    credential(o->token, "--aws-session-token", "AWS_SESSION_TOKEN", secrets, &s->token,
		       e) < 0)
		goto fail;
	if (!id || !secret) {
		aperr_set(e, EX_CONFIG, "no S3 credentials: set AWS_ACCESS_KEY_ID and "
			  "AWS_SECRET_ACCESS_KEY, or give --aws-access-key-id and "
			  "--aws-secret-access-key (env:NAME or file:PATH)");
		goto fail;
	}
	if (strchr(id, ':')) {
		aperr_set(e, EX_CONFIG, "the S3 access key id holds a ':'");
		goto fail;
	}
	if (ep && strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) {
		aperr_set(e, EX_USAGE, "%s: the S3 endpoint is not an http:// or https:// URL", ep);
		goto fail;
	}
	s->region = strdup(region ? region : "us-east-1");
	s->endpoint = ep ? strdup(ep) : NULL;
	n = strlen(id) + strlen(secret) + 2;
	s->userpwd = malloc(n);
	if (!s->region || (ep && !s->endpoint) || !s->userpwd) {
		aperr_set(e, EX_OSERR, "out of memory");
		goto fail;
	}
	snprintf(s->userpwd, n, "%s:%s", id, secret);
	if (s->endpoint && (n = strlen(s->endpoint)) > 0 && s->endpoint[n - 1] == '/')
		s->endpoint[n - 1] = '\0';
	if (strpbrk(s->region, ":/ ") || strlen(s->region) > 40) {
		aperr_set(e, EX_USAGE, "%s: not a region name", s->region);
		goto fail;
	}
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
	http_policy_init(&pol);
	pol.compressed = 0;		/* objects byte for byte */
	pol.max_body = S3_MAX_OBJECT;
	pol.retry_delay = 0.2;
	pol.max_delay = 10;
	if (!(s->http = http_client_new(&pol, NULL, secrets, e)))
		goto fail;
	OPENSSL_cleanse(secret, strlen(secret));
	free(id);
	free(secret);
	return 0;
fail:
	if (secret)
		OPENSSL_cleanse(secret, strlen(secret));
	free(id);
	free(secret);
	s3_close(s);
	return -1;
}

void s3_close(struct s3 *s)
{
	http_client_free(s->http);
	s->http = NULL;
	if (s->userpwd)
		OPENSSL_cleanse(s->userpwd, strlen(s->userpwd));
	if (s->token)
		OPENSSL_cleanse(s->token, strlen(s->token));
	free(s->userpwd);
	free(s->token);
	free(s->region);
	free(s->endpoint);
	s->userpwd = s->token = s->region = s->endpoint = NULL;
}

/* Append key percent-encoded, its '/' kept. */
static void add_key(struct strbuf *u, const char *key)
{
	while (*key) {
		size_t n = strcspn(key, "/");

		url_encode(u, key, n);
		key += n;
		if (*key == '/') {
			strbuf_addch(u, '/');
			key++;
		}
	}
}

/* The URL of bucket/key (key may be empty), with query (already encoded, sorted) or NULL. */
static void object_url(const struct s3 *s, const char *bucket, const char *key, const char *query,
		       struct strbuf *u)
{
	if (s->endpoint)
		strbuf_addf(u, "%s/%s/", s->endpoint, bucket);
	else
		strbuf_addf(u, "https://%s.s3.%s.amazonaws.com/", bucket, s->region);
	add_key(u, key);
	if (query)
		strbuf_addf(u, "?%s", query);
}

/*
 * The text of the first <tag>…</tag> in xml[from..n) into out (reset
 * first, entities decoded); *at moves past it.  1, or 0 when there is none.
 */
static int xml_text(const char *xml, size_t n, size_t *at, const char *tag, struct strbuf *out)
{
	char open[64], close[64];
	const char *p, *q, *end = xml + n;
	size_t ol, cl;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	ol = strlen(open);
	cl = strlen(close);
	strbuf_reset(out);
	if (!(p = memmem(xml + *at, n - *at, open, ol)))
		return 0;
	p += ol;
	if (!(q = memmem(p, (size_t)(end - p), close, cl)))
		return 0;
	*at = (size_t)(q - xml) + cl;
	while (p < q) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
			{ "&apos;", '\'' }, { "&#34;", '"' }, { "&#39;", '\'' },
		};
		size_t i, k = 0;

		for (i = 0; *p == '&' && i < sizeof(ents) / sizeof(ents[0]); i++) {
			k = strlen(ents[i].ent);
			if ((size_t)(q - p) >= k && !memcmp(p, ents[i].ent, k))
				break;
		}
		if (*p == '&' && i < sizeof(ents) / sizeof(ents[0])) {
			strbuf_addch(out, ents[i].c);
			p += k;
		} else {
			strbuf_addch(out, *p++);
		}
	}
	return 1;
}

/* The store's error in r as one line in e: its status, code and message. */
static int store_error(const struct s3 *s, const struct http_req *r, const char *what,
		       struct aperr *e)
{
	struct strbuf code = STRBUF_INIT, msg = STRBUF_INIT, line = STRBUF_INIT;
	size_t at = 0;
	int ex;

	if (r->outcome == HTTP_FAILED) {
		ex = r->exit_code ? r->exit_code : EX_UNAVAILABLE;
		strbuf_addf(&line, "%s: %s", what, r->error);
	} else {
		xml_text(r->resp_body.buf, r->resp_body.len, &at, "Code", &code);
		at = 0;
		xml_text(r->resp_body.buf, r->resp_body.len, &at, "Message", &msg);
		strbuf_addf(&line, "%s: %ld %s%s%s", what, r->status,
			    code.len ? code.buf : "", code.len && msg.len ? ": " : "",
			    msg.len ? msg.buf : "");
		if (!strcmp(code.buf, "RequestTimeTooSkewed"))
			strbuf_addstr(&line, " (this machine's clock differs from the store's: "
				      "set it right)");
		else if (!strcmp(code.buf, "InvalidAccessKeyId") ||
			 !strcmp(code.buf, "SignatureDoesNotMatch"))
			strbuf_addstr(&line, " (check the S3 credentials)");
		ex = r->status == 404 ? EX_NOINPUT :
		     r->status == 401 || r->status == 403 ? EX_NOPERM :
		     r->status >= 500 || r->status == 429 ? EX_UNAVAILABLE : EX_PROTOCOL;
	}
	for (at = 0; at < line.len; at++)
		if (line.buf[at] == '\n' || line.buf[at] == '\r')
			line.buf[at] = ' ';
	secrets_scrub(s->secrets, &line);
	aperr_set(e, ex, "%s", line.buf);
	strbuf_release(&code);
	strbuf_release(&msg);
	strbuf_release(&line);
	return -1;
}

/*
 * One request: method on bucket/key?query with body (NULL: none), its
 * response in r (the caller initialised and releases it).  0 on a 2xx,
 * else -1 with the store's error.
 */
static int request(struct s3 *s, const char *method, const char *bucket, const char *key,
		   const char *query, const void *body, size_t n, const char *content_type,
		   struct http_req *r, struct aperr *e)
{
	struct strbuf url = STRBUF_INIT, h = STRBUF_INIT, what = STRBUF_INIT;
	char hex[65];
	int rc = 0;

	object_url(s, bucket, key, query, &url);
	strbuf_addf(&what, "%s s3://%s/%s", method, bucket, key);
	r->method = strdup(method);
	r->url = strbuf_detach(&url, NULL);
	hash_sha256_hex(body ? body : "", body ? n : 0, hex);
	strbuf_addf(&h, "x-amz-content-sha256: %s", hex);
	r->headers = curl_slist_append(r->headers, h.buf);
	if (s->token) {
		strbuf_reset(&h);
		strbuf_addf(&h, "x-amz-security-token: %s", s->token);
		r->headers = curl_slist_append(r->headers, h.buf);
		OPENSSL_cleanse(h.buf, h.len);
	}
	r->headers = curl_slist_append(r->headers, "Accept: */*");
	if (body) {
		strbuf_reset(&h);
		strbuf_addf(&h, "Content-Type: %s", content_type ? content_type : "application/octet-stream");
		r->headers = curl_slist_append(r->headers, h.buf);
		r->has_body = 1;
		strbuf_add(&r->body, body, n);
	}
	r->aws_sigv4 = s->sigv4;
	r->aws_userpwd = s->userpwd;
	if (!r->method || !r->url || !r->headers || strbuf_failed(&r->body) || strbuf_failed(&h)) {
		rc = aperr_set(e, EX_OSERR, "out of memory");
	} else if (http_perform_one(s->http, r, e) < 0) {
		rc = aperr_prefix(e, "%s", what.buf);
	} else if (r->outcome != HTTP_OK || r->status < 200 || r->status > 299) {
		rc = store_error(s, r, what.buf, e);
	} else if (r->resp_body.len >= 7 && !strcmp(method, "POST") &&
		   memmem(r->resp_body.buf, r->resp_body.len, "<Error>", 7)) {
		rc = store_error(s, r, what.buf, e);	/* a 200 that carries an error */
		e->code = EX_UNAVAILABLE;
	}
	strbuf_release(&h);
	strbuf_release(&what);
	return rc;
}

static void req_done(struct s3 *s, struct http_req *r)
{
	http_client_release_req(s->http, r);
}

int s3_put(struct s3 *s, const char *bucket, const char *key, const void *data, size_t n,
	   const char *content_type, struct aperr *e)
{
	struct http_req r;
	int rc;

	http_req_init(&r);
	rc = request(s, "PUT", bucket, key, NULL, data ? data : "", n, content_type, &r, e);
	req_done(s, &r);
	return rc;
}

int s3_get(struct s3 *s, const char *bucket, const char *key, struct strbuf *out,
	   struct aperr *e)
{
	struct http_req r;
	int rc;

	strbuf_reset(out);
	http_req_init(&r);
	rc = request(s, "GET", bucket, key, NULL, NULL, 0, NULL, &r, e);
	if (!rc && strbuf_add(out, r.resp_body.buf, r.resp_body.len) < 0)
		rc = aperr_set(e, EX_OSERR, "s3://%s/%s: out of memory", bucket, key);
	req_done(s, &r);
	return rc;
}

int s3_list(struct s3 *s, const char *bucket, const char *prefix,
	    int (*each)(void *ctx, const char *key, uint64_t size), void *ctx, struct aperr *e)
{
	struct strbuf token = STRBUF_INIT, q = STRBUF_INIT, block = STRBUF_INIT;
	struct strbuf key = STRBUF_INIT, size = STRBUF_INIT, trunc = STRBUF_INIT;
	int rc = 0, more = 1;

	while (!rc && more) {
		struct http_req r;
		size_t at = 0;

		/* the query's names in code-point order, as the signature wants them */
		strbuf_reset(&q);
		if (token.len) {
			strbuf_addstr(&q, "continuation-token=");
			url_encode(&q, token.buf, token.len);
			strbuf_addch(&q, '&');
		}
		strbuf_addstr(&q, "list-type=2&prefix=");
		url_encode(&q, prefix, strlen(prefix));
		http_req_init(&r);
		rc = request(s, "GET", bucket, "", q.buf, NULL, 0, NULL, &r, e);
		if (rc && e->code == EX_NOINPUT)
			aperr_prefix(e, "no such bucket, or it cannot be listed");
		while (!rc && xml_text(r.resp_body.buf, r.resp_body.len, &at, "Contents", &block)) {
			size_t b = 0, c = 0;

			if (!xml_text(block.buf, block.len, &b, "Key", &key) ||
			    !xml_text(block.buf, block.len, &c, "Size", &size)) {
				rc = aperr_set(e, EX_PROTOCOL, "s3://%s/%s: a listing entry without its "
					       "key or size", bucket, prefix);
				break;
			}
			rc = each(ctx, key.buf, strtoull(size.buf, NULL, 10));
		}
		at = 0;
		more = !rc && xml_text(r.resp_body.buf, r.resp_body.len, &at, "IsTruncated", &trunc) &&
		       !strcmp(trunc.buf, "true");
		at = 0;
		if (more && !xml_text(r.resp_body.buf, r.resp_body.len, &at,
				      "NextContinuationToken", &token))
			rc = aperr_set(e, EX_PROTOCOL, "s3://%s/%s: a truncated listing without a "
				       "continuation token", bucket, prefix);
		req_done(s, &r);
	}
	strbuf_release(&token);
	strbuf_release(&q);
	strbuf_release(&block);
	strbuf_release(&key);
	strbuf_release(&size);
	strbuf_release(&trunc);
	return rc;
}

int s3_mpu_start(struct s3 *s, const char *bucket, const char *key, const char *content_type,
		 char **id, struct aperr *e)
{
	struct strbuf up = STRBUF_INIT;
	struct http_req r;
	size_t at = 0;
	int rc;

	*id = NULL;
	http_req_init(&r);
	rc = request(s, "POST", bucket, key, "uploads=", "", 0, content_type, &r, e);
	if (!rc && (!xml_text(r.resp_body.buf, r.resp_body.len, &at, "UploadId", &up) || !up.len))
		rc = aperr_set(e, EX_PROTOCOL, "s3://%s/%s: the store gave no upload id", bucket, key);
	if (!rc)
		*id = strbuf_detach(&up, NULL);
	strbuf_release(&up);
	req_done(s, &r);
	return rc;
}

/* "partNumber=N&uploadId=ID" */
static void part_query(struct strbuf *q, unsigned part, const char *id)
{
	if (part)
		strbuf_addf(q, "partNumber=%u&", part);
	strbuf_addstr(q, "uploadId=");
	url_encode(q, id, strlen(id));
}

int s3_mpu_part(struct s3 *s, const char *bucket, const char *key, const char *id,
		unsigned part, const void *data, size_t n, struct strbuf *parts, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT;
	struct http_req r;
	const char *etag;
	size_t el = 0;
	int rc;

	part_query(&q, part, id);
	http_req_init(&r);
	rc = request(s, "PUT", bucket, key, q.buf, data, n, NULL, &r, e);
	if (!rc && !(etag = http_req_header(&r, "etag", &el)))
		rc = aperr_set(e, EX_PROTOCOL, "s3://%s/%s: part %u stored without an ETag", bucket,
			       key, part);
	if (!rc) {
		strbuf_addf(parts, "<Part><PartNumber>%u</PartNumber><ETag>", part);
		strbuf_add(parts, etag, el);
		strbuf_addstr(parts, "</ETag></Part>");
		if (strbuf_failed(parts))
			rc = aperr_set(e, EX_OSERR, "out of memory");
	}
	strbuf_release(&q);
	req_done(s, &r);
	return rc;
}

int s3_mpu_complete(struct s3 *s, const char *bucket, const char *key, const char *id,
		    const struct strbuf *parts, struct aperr *e)
{
	struct strbuf q = STRBUF_INIT, body = STRBUF_INIT;
	struct http_req r;
	int rc;

	part_query(&q, 0, id);
	strbuf_addf(&body, "<CompleteMultipartUpload>%s</CompleteMultipartUpload>", parts->buf);
	http_req_init(&r);
	rc = strbuf_failed(&body) ? aperr_set(e, EX_OSERR, "out of memory") :
	     request(s, "POST", bucket, key, q.buf, body.buf, body.len, "application/xml", &r, e);
	req_done(s, &r);
	strbuf_release(&q);
	strbuf_release(&body);
	return rc;
}

void s3_mpu_abort(struct s3 *s, const char *bucket, const char *key, const char *id)
{
	struct strbuf q = STRBUF_INIT;
	struct http_req r;
	struct aperr e;

	part_query(&q, 0, id);
	http_req_init(&r);
	request(s, "DELETE", bucket, key, q.buf, NULL, 0, NULL, &r, &e);
	req_done(s, &r);
	strbuf_release(&q);
}

/* Read n bytes at the file's current offset into buf.  0 or -1 (e). */
static int read_full(int fd, char *buf, size_t n, struct aperr *e)
{
	while (n) {
		ssize_t got = read(fd, buf, n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return aperr_errno(e, EX_IOERR, "reading the file to upload");
		buf += got;
		n -= (size_t)got;
	}
	return 0;
}

int s3_put_file(struct s3 *s, const char *bucket, const char *key, int fd, uint64_t size,
		const char *content_type, struct aperr *e)
{
	struct strbuf parts = STRBUF_INIT;
	char *buf, *id = NULL;
	unsigned part = 0;
	uint64_t done = 0;
	int rc = 0;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return aperr_errno(e, EX_IOERR, "the file to upload");
	if (!(buf = malloc(size < S3_PART_SIZE ? (size_t)size + 1 : S3_PART_SIZE)))
		return aperr_set(e, EX_OSERR, "out of memory");
	if (size <= S3_PART_SIZE) {
		rc = read_full(fd, buf, (size_t)size, e);
		if (!rc)
			rc = s3_put(s, bucket, key, buf, (size_t)size, content_type, e);
		free(buf);
		return rc;
	}
	rc = s3_mpu_start(s, bucket, key, content_type, &id, e);
	while (!rc && done < size) {
		size_t n = size - done < S3_PART_SIZE ? (size_t)(size - done) : S3_PART_SIZE;

		rc = read_full(fd, buf, n, e);
		if (!rc)
			rc = s3_mpu_part(s, bucket, key, id, ++part, buf, n, &parts, e);
		done += n;
	}
	if (!rc)
		rc = s3_mpu_complete(s, bucket, key, id, &parts, e);
	if (rc && id)
		s3_mpu_abort(s, bucket, key, id);
	free(id);
	free(buf);
	strbuf_release(&parts);
	return rc;
}
