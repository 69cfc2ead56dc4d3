/*
 * s3: objects in S3-compatible storage (AWS S3, MinIO, R2, Ceph, GCS's
 * XML API), the few calls the archive and tabulate need.
 *
 * Every request is signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4), with the payload's SHA-256 in x-amz-content-sha256,
 * and goes through lib/http's client, so it is retried under the HTTP
 * layer's policy (connection errors, 429, 5xx, with backoff).  The
 * credentials, region and endpoint come from the AWS standard environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION
 * or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL), each
 * overridden by an option (struct s3_opts; the secrets as env: or file:
 * references).  A custom endpoint is addressed path-style
 * (ENDPOINT/BUCKET/KEY); AWS itself virtual-host style.
 *
 * Errors name the object (s3://BUCKET/KEY), the status and the store's
 * error code and message in one line; the credentials are held in the
 * run's struct secrets, so no message or log line carries them.
 *
 * Ownership: struct s3 owns its client and copies of the credentials
 * (wiped by s3_close); the caller's strings are borrowed only during a
 * call.  Thread-safety: one thread uses a struct s3 at a time.
 */
#ifndef APIPE_S3_H
#define APIPE_S3_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "err.h"
#include "secret.h"
#include "strbuf.h"

/* What the options said; NULL: the environment's (or the default). */
struct s3_opts {
	const char *key_id, *secret, *token;	/* env:NAME or file:PATH */
	const char *region, *endpoint;
};

/*
 * The options that name them (--aws-access-key-id, --aws-secret-access-key,
 * --aws-session-token, --aws-region, --s3-endpoint), declared once for
 * every program that reads or writes s3:// URLs; s3_cli_opt() takes one
 * (1), or says it is not one of them (0).
 */
enum {
	S3_OPT_KEY_ID = CLI_OPT_FIRST_TOOL + 300, S3_OPT_SECRET, S3_OPT_TOKEN, S3_OPT_REGION,
	S3_OPT_ENDPOINT
};
extern const struct cli_opt s3_cli_options[];
int s3_cli_opt(struct s3_opts *o, int opt, const char *arg);

struct http_client;

struct s3 {
	struct http_client *http;
	struct secrets *secrets;		/* the run's, borrowed */
	char *userpwd;				/* "key id:secret" */
	char *token;				/* NULL: none */
	char *region, *endpoint;		/* endpoint NULL: AWS, virtual-host style */
	char sigv4[96];
	int verbose;
};

/* Is url an s3:// URL? */
int s3_is_url(const char *url);
/*
 * Split s3://BUCKET/KEY into newly allocated *bucket and *key (key may be
 * empty; the caller frees both).  -1 (EX_USAGE) when it is not one.
 */
int s3_url_parse(const char *url, char **bucket, char **key, struct aperr *e);

/*
 * Open a store: the credentials resolved (remembered in secrets), a
 * client made.  Missing credentials: EX_CONFIG.  0 or -1 (e).
 */
int s3_open(struct s3 *s, const struct s3_opts *o, struct secrets *secrets, struct aperr *e);
void s3_close(struct s3 *s);

/* Store data[0..n) as bucket/key.  0 or -1 (e). */
int s3_put(struct s3 *s, const char *bucket, const char *key, const void *data, size_t n,
	   const char *content_type, struct aperr *e);
/* The object bucket/key into out (reset first).  No such key: EX_NOINPUT.  0 or -1 (e). */
int s3_get(struct s3 *s, const char *bucket, const char *key, struct strbuf *out,
	   struct aperr *e);
/*
 * Every key under prefix, in key order, to each(ctx, key, size): 0 goes
 * on, nonzero stops and is returned.  No such bucket: EX_NOINPUT.
 */
int s3_list(struct s3 *s, const char *bucket, const char *prefix,
	    int (*each)(void *ctx, const char *key, uint64_t size), void *ctx, struct aperr *e);

/*
 * A multipart upload: s3_mpu_start() gives its id (*id, caller frees);
 * each part (1, 2, ...; all but the last at least 5 MiB) is sent with
 * s3_mpu_part(), which notes its ETag in parts; s3_mpu_complete() makes
 * the object, s3_mpu_abort() drops the parts (no object is made).
 */
int s3_mpu_start(struct s3 *s, const char *bucket, const char *key, const char *content_type,
		 char **id, struct aperr *e);
int s3_mpu_part(struct s3 *s, const char *bucket, const char *key, const char *id,
		unsigned part, const void *data, size_t n, struct strbuf *parts, struct aperr *e);
int s3_mpu_complete(struct s3 *s, const char *bucket, const char *key, const char *id,
		    const struct strbuf *parts, struct aperr *e);
void s3_mpu_abort(struct s3 *s, const char *bucket, const char *key, const char *id);

/*
 * Upload the file open at fd (from its start, size bytes) as bucket/key:
 * one PUT when it is small, else a multipart upload completed only when
 * every part is stored, and aborted otherwise, so a failure leaves no
 * object.  0 or -1 (e).
 */
int s3_put_file(struct s3 *s, const char *bucket, const char *key, int fd, uint64_t size,
		const char *content_type, struct aperr *e);

#endif
