#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "deadletter.h"
#include "jsonw.h"

int dl_open(struct deadletter *dl, const char *path, struct aperr *e)
{
	int fd;

	memset(dl, 0, sizeof(*dl));
	dl->path = path;
	strbuf_init(&dl->line, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return aperr_errno(e, EX_CANTCREAT, "%s: cannot open dead-letter file", path);
	if (lwriter_init(&dl->w, fd, path, 64 << 10, e) < 0) {
		close(fd);
		return -1;
	}
	dl->open = 1;
	return 0;
}

static const struct jw_body_names input_names = { "record", "input_text", "input_base64" };

/* The line of one dead letter into dl->line; errors written by errors(w, arg). */
static int dl_put(struct deadletter *dl, uint64_t lineno, const char *input, size_t n,
		  int is_json, void (*errors)(struct jsonw *, const void *), const void *arg,
		  struct aperr *e)
{
	struct jsonw w;

	strbuf_reset(&dl->line);
	jw_init(&w, &dl->line);
	jw_object(&w);
	jw_member_u64(&w, "line", lineno);
	if (is_json)
		jw_member_raw(&w, input_names.json, input, n);
	else
		jw_bytes(&w, &input_names, input, n);
	jw_key(&w, "errors");
	errors(&w, arg);
	jw_end_object(&w);
	if (jw_finish(&w) < 0)
		return aperr_set(e, EX_OSERR, "%s: cannot write a dead letter: %s", dl->path,
				 jw_error(&w));
	if (lwriter_line(&dl->w, dl->line.buf, dl->line.len, e))
		return aperr_prefix(e, "dead-letter file");
	dl->count++;
	return 0;
}

struct raw_errors {
	const char *json;
	size_t n;
};

static void put_raw(struct jsonw *w, const void *arg)
{
	const struct raw_errors *r = arg;

	jw_raw(w, r->json, r->n);
}

int dl_write_errors(struct deadletter *dl, uint64_t lineno, const char *input,
		    size_t n, int is_json, const char *errors_json, size_t elen,
		    struct aperr *e)
{
	struct raw_errors r = { errors_json, elen };

	return dl_put(dl, lineno, input, n, is_json, put_raw, &r, e);
}

struct one_error {
	const char *instance, *message;
};

static void put_one(struct jsonw *w, const void *arg)
{
	const struct one_error *o = arg;

	jw_array(w);
	jw_object(w);
	jw_member_str(w, "instance", o->instance);
	jw_member_str(w, "message", o->message);
	jw_end_object(w);
	jw_end_array(w);
}

int dl_write(struct deadletter *dl, uint64_t lineno, const char *input, size_t n,
	     int is_json, const char *instance, const char *message, struct aperr *e)
{
	struct one_error o = { instance, message };

	return dl_put(dl, lineno, input, n, is_json, put_one, &o, e);
}

int dl_close(struct deadletter *dl, struct aperr *e)
{
	int r = 0;

	if (!dl->open)
		return 0;
	if (lwriter_sync(&dl->w, e))
		r = -1;
	if (close(dl->w.fd) < 0 && !r)
		r = aperr_errno(e, EX_IOERR, "%s: close", dl->path);
	lwriter_release(&dl->w);
	strbuf_release(&dl->line);
	dl->open = 0;
	return r;
}
