/*
 * records: explode each page's record array into one record a line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "../lib/deadletter.h"
#include "../lib/json.h"
#include "../lib/records.h"

static const char usage_text[] =
	"usage: records [-hqv] [--records-path pointer] [--meta] [--dead-letter file]\n"
	"               [--key pointer [--key-separator sep]]\n"
	"               [--stats file] [--max-line size] [--max-depth n]\n";

enum { OPT_PATH = CLI_OPT_FIRST_TOOL, OPT_META, OPT_DEAD_LETTER, OPT_KEY, OPT_KEY_SEP, OPT_OLD_PATH };

static const struct cli_opt options[] = {
	{ "records-path", 0, required_argument, OPT_PATH, "pointer", "Records", "where a page's records are" },
	{ "meta", 0, no_argument, OPT_META, NULL, "Records", "add _apipe: url, page, fetched_at, meta, index" },
	{ "dead-letter", 0, required_argument, OPT_DEAD_LETTER, "file", "Records", "bad lines go to file instead of stopping the run" },
	{ "key", 0, required_argument, OPT_KEY, "pointer", "Keyed output", "write KEY<sep>RECORD lines (for kcat -K), byte for byte" },
	{ "key-separator", 0, required_argument, OPT_KEY_SEP, "sep", "Keyed output", "the separator (default a tab)" },
	{ "path", 0, required_argument, OPT_OLD_PATH, NULL, NULL, NULL },
	CLI_OPT_END
};

struct records_run {
	struct cli_common common;
	struct json_ptr path, key;
	int have_path, meta, have_key;
	const char *sep;		/* --key-separator */
	struct strbuf keys;		/* the page's keys, each followed by the separator */
	size_t *keyend;			/* where each record's ends in keys */
	size_t nkeyend;
	const char *dead_letter;
	struct deadletter dl;
	struct lwriter out;
	struct strbuf metabuf;
	uint64_t lines, records, pages;
};

/* Reject one input line: dead-letter it, or stop the run naming the line. */
static void reject(struct records_run *r, uint64_t lineno, const char *line, size_t n,
		   int is_json, const char *instance, const char *msg)
{
	struct aperr e;

	if (!r->dead_letter) {
		if (is_json && instance && *instance)
			die(EX_DATAERR, "line %llu: %s: %s", (unsigned long long)lineno,
			    instance, msg);
		die(EX_DATAERR, "line %llu: %s", (unsigned long long)lineno, msg);
	}
	if (dl_write(&r->dl, lineno, line, n, is_json, instance, msg, &e) < 0)
		die_err(&e);
	if (r->common.verbose)
		warnmsg("line %llu: %s (dead-lettered)", (unsigned long long)lineno, msg);
}

/* The "_apipe" member spliced into each record by --meta (without index). */
static void build_meta(struct records_run *r, const struct json_doc *d,
		       const struct records_page *pg, uint64_t lineno)
{
	static const char *const keys[] = { "url", "page", "fetched_at", "meta" };
	struct strbuf *m = &r->metabuf;
	size_t k;

	strbuf_reset(m);
	strbuf_addstr(m, ",\"_apipe\":{");
	if (pg->envelope) {
		for (k = 0; k < 4; k++) {
			uint32_t v = json_get(d, 0, keys[k], strlen(keys[k]));

			if (!v)
				continue;
			strbuf_addf(m, "\"%s\":", keys[k]);
			json_minify(d, v, m);
			strbuf_addch(m, ',');
		}
	} else {
		strbuf_addf(m, "\"line\":%llu,", (unsigned long long)lineno);
	}
	strbuf_addstr(m, "\"index\":");
}

static void emit(struct records_run *r, const struct json_doc *d, uint32_t rec,
		 size_t index)
{
	struct aperr e;
	size_t n = json_srclen(d, rec);
	char *o;

	if (r->have_key) {
		size_t from = index ? r->keyend[index - 1] : 0;

		tool_check_write(lwriter_write(&r->out, r->keys.buf + from, r->keyend[index] - from,
					       &e), &e);
	}
	if (!r->meta) {
		tool_check_write(lwriter_reserve(&r->out, n + 1, &e), &e);
		o = r->out.buf + r->out.len;
		n = json_minify_to(d, rec, o);
		o[n] = '\n';
		r->out.len += n + 1;
		return;
	}
	tool_check_write(lwriter_reserve(&r->out, n + r->metabuf.len + 32, &e), &e);
	o = r->out.buf + r->out.len;
	n = json_minify_to(d, rec, o) - 1;	/* drop the closing '}' */
	if (json_first(d, rec)) {
		memcpy(o + n, r->metabuf.buf, r->metabuf.len);
		n += r->metabuf.len;
	} else {
		memcpy(o + n, r->metabuf.buf + 1, r->metabuf.len - 1);
		n += r->metabuf.len - 1;
	}
	n += (size_t)snprintf(o + n, 32, "%zu}}\n", index);
	r->out.len += n;
}

/*
 * --key: every record's key, byte for byte (a string's text, a number as
 * written), each followed by the separator, into r->keys.  A record
 * without a usable key rejects the page: 0, or -1 when it was rejected.
 */
static int page_keys(struct records_run *r, const struct json_doc *d,
		     const struct records_page *pg, const char *line, size_t n, uint64_t lineno)
{
	struct strbuf v = STRBUF_INIT;
	size_t index = 0, cnt = json_count(d, pg->array);
	uint32_t i;
	const char *why = NULL;

	strbuf_reset(&r->keys);
	if (cnt > r->nkeyend) {
		free(r->keyend);
		r->nkeyend = cnt * 2;
		r->keyend = malloc(r->nkeyend * sizeof(*r->keyend));
		if (!r->keyend)
			die(EX_OSERR, "out of memory");
	}
	for (i = json_first(d, pg->array); i && !why; i = json_next(d, pg->array, i), index++) {
		uint32_t rec = pg->edges ? json_get(d, i, "node", 4) : i;
		uint32_t k = json_ptr_eval(&r->key, d, rec);

		strbuf_reset(&v);
		if (k == JSON_ABSENT)
			why = "the record has no key there";
		else if (json_type(d, k) == JSON_NUMBER)
			strbuf_add(&v, json_src(d, k), json_srclen(d, k));
		else if (json_type(d, k) != JSON_STRING)
			why = "the key is not a string or a number";
		else if (json_str_decode(d, k, &v) < 0 || !v.len)
			why = "the key is an empty string";
		if (!why && (memchr(v.buf, '\n', v.len) || memchr(v.buf, '\0', v.len) ||
			     strstr(v.buf, r->sep)))
			why = "the key holds the separator, a newline or a NUL byte";
		if (!why) {
			strbuf_add(&r->keys, v.buf, v.len);
			strbuf_addstr(&r->keys, r->sep);
			r->keyend[index] = r->keys.len;
		}
	}
	strbuf_release(&v);
	if (why) {
		struct strbuf p = STRBUF_INIT;

		strbuf_addstr(&p, pg->where.buf);
		json_ptr_append_index(&p, index - 1);
		strbuf_addstr(&p, r->key.text);
		reject(r, lineno, line, n, 1, p.buf, why);
		strbuf_release(&p);
		return -1;
	}
	if (strbuf_failed(&r->keys))
		die(EX_OSERR, "out of memory");
	return 0;
}

static void process(struct records_run *r, struct json_doc *d, struct json_error *je,
		    struct records_page *pg, const char *line, size_t n, uint64_t lineno)
{
	struct aperr e;
	uint32_t i;
	size_t index = 0;

	if (tool_parse_line(d, je, NULL, line, n, lineno, &e) < 0) {
		reject(r, lineno, line, n, 0, je->pointer.len ? je->pointer.buf : NULL, e.msg);
		return;
	}
	if (records_find(d, r->have_path ? &r->path : NULL, pg, &e) < 0) {
		reject(r, lineno, line, n, 1, pg->where.len ? pg->where.buf : NULL, e.msg);
		return;
	}
	if (r->meta) {
		for (i = pg->array != JSON_ABSENT ? json_first(d, pg->array) : 0; i;
		     i = json_next(d, pg->array, i)) {
			uint32_t rec = pg->edges ? json_get(d, i, "node", 4) : i;

			if (json_type(d, rec) != JSON_OBJECT) {
				struct strbuf p = STRBUF_INIT;

				strbuf_addstr(&p, pg->where.buf);
				json_ptr_append_index(&p, index);
				reject(r, lineno, line, n, 1, p.buf,
				       "--meta needs records that are objects");
				strbuf_release(&p);
				return;
			}
			index++;
		}
		build_meta(r, d, pg, lineno);
		index = 0;
	}
	if (r->have_key && pg->array != JSON_ABSENT && page_keys(r, d, pg, line, n, lineno) < 0)
		return;
	r->pages++;
	if (pg->array == JSON_ABSENT)
		return;
	for (i = json_first(d, pg->array); i; i = json_next(d, pg->array, i)) {
		emit(r, d, pg->edges ? json_get(d, i, "node", 4) : i, index++);
		r->records++;
	}
}

static void write_stats(struct records_run *r, const struct lreader *in)
{
	struct tool_stats st;

	tool_stats_begin(&st, "records");
	jw_member_u64(&st.w, "lines", r->lines);
	jw_member_u64(&st.w, "empty_lines", in->empty);
	jw_member_u64(&st.w, "pages", r->pages);
	jw_member_u64(&st.w, "records", r->records);
	jw_member_u64(&st.w, "dead_lettered", r->dl.count);
	jw_member_u64(&st.w, "bytes_in", in->bytes);
	jw_member_u64(&st.w, "bytes_out", r->out.bytes);
	tool_stats_end(&st, r->common.stats);
}

int cmd_records(int argc, char **argv)
{
	struct records_run r;
	struct lreader in;
	struct json_doc d;
	struct json_error je;
	struct records_page pg;
	struct aperr e;
	const char *line;
	size_t n;
	int c, rc;

	tool_set_options(options, NULL, NULL);
	memset(&r, 0, sizeof(r));
	cli_common_init(&r.common);
	strbuf_init(&r.metabuf, 0);
	while ((c = tool_getopt(argc, argv)) != -1) {
		switch (c) {
		case OPT_PATH:
			if (r.have_path)
				json_ptr_release(&r.path);
			if (json_ptr_parse(&r.path, optarg, &e) < 0)
				usage_error("--records-path: %s", e.msg);
			r.have_path = 1;
			break;
		case OPT_OLD_PATH: tool_renamed("--path", "--records-path");
		case OPT_META: r.meta = 1; break;
		case OPT_KEY:
			if (r.have_key)
				usage_error("--key: one key pointer");
			if (json_ptr_parse(&r.key, optarg, &e) < 0)
				usage_error("--key: %s", e.msg);
			r.have_key = 1;
			break;
		case OPT_KEY_SEP:
			if (!*optarg || strchr(optarg, '\n'))
				usage_error("--key-separator: one or more bytes, no newline");
			r.sep = optarg;
			break;
		case OPT_DEAD_LETTER: r.dead_letter = optarg; break;
		default: tool_common_opt(&r.common, c, optarg);
		}
	}
	tool_common_done(&r.common, usage_text);
	if (r.sep && !r.have_key)
		usage_error("--key-separator goes with --key");
	if (!r.sep)
		r.sep = "\t";
	strbuf_init(&r.keys, 0);
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (r.dead_letter && dl_open(&r.dl, r.dead_letter, &e) < 0)
		die_err(&e);
	tool_filter_init(&r.common, &in, &r.out, &d, &je);
	records_page_init(&pg);
	while ((rc = lreader_next(&in, &line, &n, &e)) > 0) {
		if (jsonl_is_state(line, n)) {	/* in-band state: on, in order */
			tool_check_write(lwriter_line(&r.out, line, n, &e), &e);
			continue;
		}
		r.lines++;
		process(&r, &d, &je, &pg, line, n, in.lineno);
	}
	if (rc < 0)
		die_err(&e);
	tool_finish(&r.out);
	if (dl_close(&r.dl, &e) < 0)
		die_err(&e);
	if (r.common.stats)
		write_stats(&r, &in);
	if (r.dl.count && !r.common.quiet)
		warnmsg("%llu line%s dead-lettered to %s", (unsigned long long)r.dl.count,
			r.dl.count == 1 ? "" : "s", r.dead_letter);
	records_page_release(&pg);
	json_error_release(&je);
	json_doc_release(&d);
	lreader_release(&in);
	strbuf_release(&r.metabuf);
	if (r.have_path)
		json_ptr_release(&r.path);
	if (r.have_key)
		json_ptr_release(&r.key);
	strbuf_release(&r.keys);
	free(r.keyend);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("records");
	return cmd_records(argc, argv);
}
