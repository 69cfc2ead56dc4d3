#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "deadletter.h"
#include "json.h"
#include "utf8.h"

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

int dl_write_errors(struct deadletter *dl, uint64_t lineno, const char *input,
		    size_t n, int is_json, const char *errors_json, size_t elen,
		    struct aperr *e)
{
	struct strbuf *l = &dl->line;
	int r;

	strbuf_reset(l);
	r = strbuf_addf(l, "{\"line\":%llu,", (unsigned long long)lineno);
	if (is_json) {
		r |= strbuf_add(l, "\"record\":", 9);
		r |= strbuf_add(l, input, n);
	} else if (utf8_valid(input, n)) {
		r |= strbuf_add(l, "\"input_text\":", 13);
		r |= json_quote(l, input, n);
	} else {
		r |= strbuf_add(l, "\"input_base64\":\"", 16);
		r |= base64_encode(l, input, n);
		r |= strbuf_addch(l, '"');
	}
	r |= strbuf_add(l, ",\"errors\":", 10);
	r |= strbuf_add(l, errors_json, elen);
	r |= strbuf_addch(l, '}');
	if (r)
		return aperr_set(e, EX_OSERR, "out of memory writing %s", dl->path);
	if (lwriter_line(&dl->w, l->buf, l->len, e))
		return aperr_prefix(e, "dead-letter file");
	dl->count++;
	return 0;
}

int dl_write(struct deadletter *dl, uint64_t lineno, const char *input, size_t n,
	     int is_json, const char *instance, const char *message, struct aperr *e)
{
	struct strbuf err = STRBUF_INIT;
	int r = strbuf_addch(&err, '[');

	r |= strbuf_addch(&err, '{');
	if (instance) {
		r |= strbuf_add(&err, "\"instance\":", 11);
		r |= json_quote(&err, instance, strlen(instance));
		r |= strbuf_addch(&err, ',');
	}
	r |= strbuf_add(&err, "\"message\":", 10);
	r |= json_quote(&err, message, strlen(message));
	r |= strbuf_add(&err, "}]", 2);
	if (r) {
		strbuf_release(&err);
		return aperr_set(e, EX_OSERR, "out of memory");
	}
	r = dl_write_errors(dl, lineno, input, n, is_json, err.buf, err.len, e);
	strbuf_release(&err);
	return r;
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
