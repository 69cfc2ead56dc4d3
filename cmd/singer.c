/*
 * singer: apipe's records and state to Singer messages for a target
 * (--to), or one stream of a Singer tap's output to records and state
 * (--from).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "../lib/json.h"
#include "../lib/jsonw.h"
#include "../lib/num.h"
#include "../lib/shape.h"
#include "../lib/singer.h"
#include "../lib/statefile.h"

static const char usage_text[] =
	"usage: singer [-hqv] --to --stream name [--key pointer]... [--schema file]\n"
	"              [--infer n] [--stats file] [--max-line size] [--max-depth n]\n"
	"       singer [-hqv] --from --stream name [--state-name name] [--schema-out file]\n"
	"              [--stats file] [--max-line size] [--max-depth n]\n";

enum {
	OPT_TO = CLI_OPT_FIRST_TOOL, OPT_FROM, OPT_STREAM, OPT_KEY, OPT_SCHEMA, OPT_INFER,
	OPT_STATE_NAME, OPT_SCHEMA_OUT
};

static const struct cli_opt options[] = {
	{ "to", 0, no_argument, OPT_TO, NULL, "Singer", "records and state in, Singer messages out (for a target)" },
	{ "from", 0, no_argument, OPT_FROM, NULL, "Singer", "a tap's messages in, one stream's records and state out" },
	{ "stream", 0, required_argument, OPT_STREAM, "name", "Singer", "the stream" },
	{ "key", 0, required_argument, OPT_KEY, "pointer", "Singer", "--to: a key property (a top-level member; repeatable)" },
	{ "schema", 0, required_argument, OPT_SCHEMA, "file", "Singer", "--to: the SCHEMA message's schema (default: inferred)" },
	{ "infer", 0, required_argument, OPT_INFER, "n", "Singer", "--to: records the schema is inferred from (default 100)" },
	{ "state-name", 0, required_argument, OPT_STATE_NAME, "name", "Singer", "--from: the in-band state's name (default singer.STREAM)" },
	{ "schema-out", 0, required_argument, OPT_SCHEMA_OUT, "file", "Singer", "--from: write the stream's last schema to file" },
	CLI_OPT_END
};

struct sg {
	struct cli_common common;
	int to, from;
	const char *stream, *schema, *state_name, *schema_out;
	uint64_t infer;
	struct strbuf keys;	/* a JSON array of the key properties */
	struct strbuf sname;	/* the stream as a JSON string */
	struct strbuf line;
	struct lreader in;
	struct lwriter out;
	struct json_doc d;
	struct json_error je;
	uint64_t records, states, schemas, skipped, other;
};

static void add_key(struct sg *s, const char *arg)
{
	struct json_ptr p;
	struct aperr e;

	if (json_ptr_parse(&p, arg, &e) < 0)
		usage_error("--key %s", e.msg);
	if (p.nseg != 1)
		usage_error("--key %s: a Singer key property is a top-level member (/name)", arg);
	strbuf_addch(&s->keys, s->keys.len ? ',' : '[');
	json_quote(&s->keys, p.seg[0].s, p.seg[0].n);
	json_ptr_release(&p);
}

static void parse_args(struct sg *s, int argc, char **argv)
{
	struct aperr e;
	int opt;

	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case OPT_TO: s->to = 1; break;
		case OPT_FROM: s->from = 1; break;
		case OPT_STREAM: s->stream = optarg; break;
		case OPT_KEY: add_key(s, optarg); break;
		case OPT_SCHEMA: s->schema = optarg; break;
		case OPT_INFER:
			if (num_parse_u64(optarg, &s->infer, "--infer", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_STATE_NAME: s->state_name = optarg; break;
		case OPT_SCHEMA_OUT: s->schema_out = optarg; break;
		default: tool_common_opt(&s->common, opt, optarg);
		}
	}
	tool_common_done(&s->common, usage_text);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (s->to == s->from)
		usage_error("give --to or --from");
	if (!s->stream || !*s->stream)
		usage_error("--stream is required");
	if (s->from && (s->keys.len || s->schema))
		usage_error("--key and --schema are for --to");
	if (s->to && (s->state_name || s->schema_out))
		usage_error("--state-name and --schema-out are for --from");
	strbuf_addch(&s->keys, s->keys.len ? ']' : '[');
	if (s->keys.len == 1)
		strbuf_addch(&s->keys, ']');
	json_quote(&s->sname, s->stream, strlen(s->stream));
}

static void put(struct sg *s)
{
	struct aperr e;

	if (strbuf_failed(&s->line))
		die(EX_OSERR, "out of memory");
	tool_check_write(lwriter_line(&s->out, s->line.buf, s->line.len, &e), &e);
}

/* --- --to -------------------------------------------------------------------- */

static void emit_schema(struct sg *s, const char *schema, size_t n)
{
	strbuf_reset(&s->line);
	singer_schema(&s->line, s->sname.buf, s->sname.len, schema, n, s->keys.buf, s->keys.len);
	put(s);
	s->schemas++;
}

/* The schema file, minified. */
static void schema_from_file(struct sg *s, struct strbuf *min)
{
	struct strbuf text = STRBUF_INIT;

	tool_read_json(s->schema, "--schema file", &text, &s->d);
	if (json_type(&s->d, 0) != JSON_OBJECT)
		die(EX_CONFIG, "--schema %s: a schema object is needed", s->schema);
	json_minify(&s->d, 0, min);
	strbuf_release(&text);
}

static void one_record(struct sg *s, const char *line, size_t n, uint64_t lineno)
{
	struct aperr e;

	if (tool_parse_line(&s->d, &s->je, NULL, line, n, lineno, &e) < 0)
		die(EX_DATAERR, "line %llu: %s", (unsigned long long)lineno, e.msg);
	if (json_type(&s->d, 0) != JSON_OBJECT)
		die(EX_DATAERR, "line %llu: a Singer record is a JSON object, not %s",
		    (unsigned long long)lineno, json_type_name(json_type(&s->d, 0)));
	strbuf_reset(&s->line);
	singer_record(&s->line, s->sname.buf, s->sname.len, json_src(&s->d, 0), json_srclen(&s->d, 0));
	put(s);
	s->records++;
}

static void one_state(struct sg *s, const char *line, size_t n, uint64_t lineno)
{
	struct aperr e;

	/* the whole {"apipe_state":NAME,"value":…} object is the STATE's value */
	if (tool_parse_line(&s->d, &s->je, NULL, line + 1, n - 1, lineno, &e) < 0)
		die(EX_DATAERR, "line %llu: a state line that is not JSON: %s",
		    (unsigned long long)lineno, e.msg);
	strbuf_reset(&s->line);
	singer_state(&s->line, json_src(&s->d, 0), json_srclen(&s->d, 0));
	put(s);
	s->states++;
}

static void do_to(struct sg *s)
{
	struct lines h;
	struct shape *sh = NULL;
	struct strbuf schema = STRBUF_INIT, pretty = STRBUF_INIT;
	struct aperr e;
	const char *line;
	size_t n, i, records = 0;
	int r;

	memset(&h, 0, sizeof(h));
	if (s->schema) {
		schema_from_file(s, &schema);
	} else {
		/* the SCHEMA comes first: hold the first records while it is inferred */
		if (!(sh = shape_new()))
			die(EX_OSERR, "out of memory");
		while (records < s->infer && (r = lreader_next(&s->in, &line, &n, &e)) > 0) {
			if (lines_hold(&h, line, n, s->in.lineno, &e) < 0)
				die_err(&e);
			if (jsonl_is_state(line, n))
				continue;
			records++;
			if (json_parse(&s->d, line, n, NULL) == 0 &&
			    shape_observe(sh, &s->d, 0, s->in.lineno, &e) < 0)
				die_err(&e);
		}
		struct json_doc sd;

		shape_schema_json(&pretty, sh, records);
		shape_free(sh);
		/* a schema nests about twice as deep as the records it describes */
		json_doc_init(&sd, 4 * s->common.max_depth);
		if (json_parse(&sd, pretty.buf, pretty.len, NULL) < 0)
			die(EX_SOFTWARE, "the inferred schema is not JSON");
		json_minify(&sd, 0, &schema);
		json_doc_release(&sd);
		strbuf_release(&pretty);
	}
	if (strbuf_failed(&schema))
		die(EX_OSERR, "out of memory");
	emit_schema(s, schema.buf, schema.len);
	for (i = 0; i < h.n; i++) {
		uint64_t no;
		const char *l = lines_get(&h, i, &n, &no);

		if (jsonl_is_state(l, n))
			one_state(s, l, n, no);
		else
			one_record(s, l, n, no);
	}
	lines_release(&h);
	strbuf_release(&schema);
	while ((r = lreader_next(&s->in, &line, &n, &e)) > 0) {
		if (jsonl_is_state(line, n))
			one_state(s, line, n, s->in.lineno);
		else
			one_record(s, line, n, s->in.lineno);
	}
	if (r < 0)
		die_err(&e);
}

/* --- --from ------------------------------------------------------------------ */

static void write_schema_out(struct sg *s, const struct singer_msg *m)
{
	struct strbuf text = STRBUF_INIT, tmp = STRBUF_INIT;
	struct aperr e;
	int fd;

	json_minify(&s->d, m->schema, &text);
	strbuf_addch(&text, '\n');
	if (strbuf_failed(&text))
		die(EX_OSERR, "out of memory");
	fd = statefile_begin(s->schema_out, &tmp, 0, &e);
	if (fd < 0)
		die_err(&e);
	if (write(fd, text.buf, text.len) != (ssize_t)text.len) {
		statefile_abort(fd, tmp.buf);
		die(EX_IOERR, "%s: write failed", s->schema_out);
	}
	if (statefile_commit(fd, tmp.buf, s->schema_out, &e) < 0)
		die_err(&e);
	strbuf_release(&tmp);
	strbuf_release(&text);
}

static void do_from(struct sg *s)
{
	struct strbuf name = STRBUF_INIT;
	struct singer_msg m;
	struct aperr e;
	const char *line;
	size_t n;
	int r;

	if (s->state_name)
		strbuf_addstr(&name, s->state_name);
	else
		strbuf_addf(&name, "singer.%s", s->stream);
	while ((r = lreader_next(&s->in, &line, &n, &e)) > 0) {
		if (tool_parse_line(&s->d, &s->je, NULL, line, n, s->in.lineno, &e) < 0 ||
		    singer_read(&s->d, &m, &e) < 0)
			die(EX_DATAERR, "line %llu: %s", (unsigned long long)s->in.lineno, e.msg);
		switch (m.type) {
		case SINGER_RECORD:
			if (!json_str_eq(&s->d, m.stream, s->stream, strlen(s->stream))) {
				s->skipped++;
				break;
			}
			/* the record as the tap wrote it, byte for byte */
			tool_check_write(lwriter_line(&s->out, json_src(&s->d, m.record),
						      json_srclen(&s->d, m.record), &e), &e);
			s->records++;
			break;
		case SINGER_STATE:
			/* after the records it covers, as apipe's in-band state */
			strbuf_reset(&s->line);
			if (jw_state_line(&s->line, name.buf, name.len, json_src(&s->d, m.value),
					  json_srclen(&s->d, m.value), &e) < 0)
				die_err(&e);
			put(s);
			s->states++;
			break;
		case SINGER_SCHEMA:
			if (json_str_eq(&s->d, m.stream, s->stream, strlen(s->stream))) {
				s->schemas++;
				if (s->schema_out)
					write_schema_out(s, &m);
			}
			break;
		default:
			s->other++;	/* ACTIVATE_VERSION, and types the specification leaves open */
			break;
		}
	}
	if (r < 0)
		die_err(&e);
	strbuf_release(&name);
}

static void write_stats(struct sg *s)
{
	struct tool_stats st;

	tool_stats_begin(&st, "singer");
	jw_member_u64(&st.w, "records", s->records);
	jw_member_u64(&st.w, "states", s->states);
	jw_member_u64(&st.w, "schemas", s->schemas);
	jw_member_u64(&st.w, "other_streams", s->skipped);
	jw_member_u64(&st.w, "other_messages", s->other);
	tool_stats_end(&st, s->common.stats);
}

int cmd_singer(int argc, char **argv)
{
	struct sg s;

	tool_set_options(options, NULL, NULL);
	memset(&s, 0, sizeof(s));
	cli_common_init(&s.common);
	s.infer = 100;
	strbuf_init(&s.keys, 0);
	strbuf_init(&s.sname, 0);
	strbuf_init(&s.line, 0);
	parse_args(&s, argc, argv);
	tool_filter_init(&s.common, &s.in, &s.out, &s.d, &s.je);
	if (s.to)
		do_to(&s);
	else
		do_from(&s);
	tool_finish(&s.out);
	if (s.common.stats)
		write_stats(&s);
	strbuf_release(&s.keys);
	strbuf_release(&s.sname);
	strbuf_release(&s.line);
	json_doc_release(&s.d);
	json_error_release(&s.je);
	lreader_release(&s.in);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("singer");
	return cmd_singer(argc, argv);
}
