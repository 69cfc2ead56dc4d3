/*
 * watermark: incremental-sync state (get, track, commit, set, list).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "../lib/instant.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/ordval.h"
#include "../lib/statefile.h"
#include "../lib/db.h"
#include "../lib/wmstate.h"

static const char usage_text[] =
	"usage: watermark get --state dir | --db path --name name [--lookback duration]\n"
	"                 [--format raw | rfc3339 | epoch | epoch-ms] [--default value]\n"
	"       watermark track --state dir --name name --order-field pointer [--type type]\n"
	"                 [--commit-on-eof] [--skip-invalid] [--lazy]\n"
	"       watermark commit --state dir --name name\n"
	"       watermark set --state dir --name name [--type type] value\n"
	"       watermark list --state dir\n"
	"       common options: [-hqv] [--stats file] [--max-line size] [--max-depth n]\n";

enum {
	OPT_STATE = CLI_OPT_FIRST_TOOL, OPT_OLD_FIELD, OPT_NAME, OPT_FIELD, OPT_TYPE, OPT_COMMIT_ON_EOF,
	OPT_SKIP_INVALID, OPT_LOOKBACK, OPT_FORMAT, OPT_DEFAULT, OPT_DB, OPT_LAZY
};

static const struct cli_opt options[] = {
	{ "state", 0, required_argument, OPT_STATE, "dir", "State", "where watermarks are kept" },
	{ "db", 0, required_argument, OPT_DB, "path", "State", "read a watermark upsert kept" },
	{ "name", 0, required_argument, OPT_NAME, "name", "State", "the watermark's name" },
	{ "order-field", 0, required_argument, OPT_FIELD, "pointer", "track", "the field whose greatest value is tracked" },
	{ "type", 0, required_argument, OPT_TYPE, "type", "track", "rfc3339, epoch, epoch-ms, integer, decimal or string" },
	{ "commit-on-eof", 0, no_argument, OPT_COMMIT_ON_EOF, NULL, "track", "commit at the end of input (not into a pipe)" },
	{ "skip-invalid", 0, no_argument, OPT_SKIP_INVALID, NULL, "track", "pass records whose field is unusable" },
	{ "lazy", 0, no_argument, OPT_LAZY, NULL, "track", "read each line only as far as the field (a later stage checks it)" },
	{ "lookback", 0, required_argument, OPT_LOOKBACK, "duration", "get", "subtract this from the value" },
	{ "format", 0, required_argument, OPT_FORMAT, "raw|rfc3339|epoch|epoch-ms", "get", "how to print it" },
	{ "default", 0, required_argument, OPT_DEFAULT, "value", "get", "what to print when there is none" },
	{ "field", 0, required_argument, OPT_OLD_FIELD, NULL, NULL, NULL },
	CLI_OPT_END
};

struct wm_opts {
	struct cli_common common;
	const char *cmd, *state, *name, *field, *format, *deflt, *db;
	int type;		/* enum ordkind, ORD_AUTO when not given */
	int commit_on_eof, skip_invalid, have_lookback;
	int lazy;		/* --lazy: read a line only as far as the field */
	struct instant lookback;
	char *path;		/* DIR/NAME.json */
};

static void state_load(const struct wm_opts *o, struct wm_state *s)
{
	struct aperr e;

	wm_state_init(s);
	if (wm_state_load(o->path, s, &e) < 0)
		die_err(&e);
}

static void state_save(const struct wm_opts *o, const struct wm_state *s)
{
	struct aperr e;

	if (wm_state_save(o->state, o->path, o->name, s, &e) < 0)
		die_err(&e);
}

static int lock_name(const struct wm_opts *o)
{
	struct aperr e;
	int fd = wm_lock(o->state, o->path, o->name, &e);

	if (fd < 0)
		die_err(&e);
	return fd;
}

static void commit_pending(struct wm_state *s)
{
	struct aperr e;

	if (wm_commit_pending(s, &e) < 0)
		die_err(&e);
}

static void print_value(const struct wm_opts *o, const struct wm_state *s,
			const struct strbuf *val)
{
	struct strbuf out = STRBUF_INIT;
	struct aperr e;

	if (wm_format(s->kind, val->buf, val->len, o->format, o->have_lookback ? &o->lookback : NULL,
		      &out, &e) < 0) {
		if (e.code == EX_USAGE && e.msg[0] == 'a')
			die(EX_USAGE, "watermark %s is %s", o->name, e.msg);
		die_err(&e);
	}
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
}

/* get: the current value of s, kept in where, or --default when there is none. */
static int print_current(const struct wm_opts *o, struct wm_state *s, const char *where)
{
	if (!s->current.len) {
		if (!o->deflt)
			die(EX_NOINPUT, "no watermark '%s' in %s yet (give --default for a first run)",
			    o->name, where);
		puts(o->deflt);
	} else {
		print_value(o, s, &s->current);
	}
	wm_state_release(s);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "stdout: write error");
	return 0;
}

static int do_get(struct wm_opts *o)
{
	struct wm_state s;

	state_load(o, &s);
	return print_current(o, &s, o->state);
}

/* get --db: the watermark upsert committed with its rows (table apipe_state). */
static int do_get_db(struct wm_opts *o)
{
	struct wm_state s;
	struct ordval v;
	struct aperr e;
	struct db *db = db_open(o->db, &e);

	if (!db)
		die_err(&e);
	wm_state_init(&s);
	if (db_state_get(db, o->name, &s.current, &e) < 0)
		die_err(&e);
	db_close(db);
	if (s.current.len) {
		ordval_init(&v);
		if (ordval_set_text(&v, s.current.buf, s.current.len, ORD_AUTO, &e) < 0)
			die_err(&e);
		s.kind = v.kind;
		ordval_release(&v);
	}
	return print_current(o, &s, o->db);
}

static int do_commit(struct wm_opts *o)
{
	struct wm_state s;
	int fd = lock_name(o);

	state_load(o, &s);
	if (!s.pending.len) {
		if (o->common.verbose)
			warnmsg("%s: nothing staged to commit", o->name);
	} else {
		commit_pending(&s);
		state_save(o, &s);
		if (o->common.verbose)
			warnmsg("%s: committed %s", o->name, s.current.buf);
	}
	statefile_unlock(fd);
	wm_state_release(&s);
	return 0;
}

static int do_set(struct wm_opts *o, const char *value)
{
	struct strbuf json = STRBUF_INIT;
	struct wm_state s;
	struct ordval v;
	struct aperr e;
	int fd = lock_name(o);
	enum ordkind k;

	state_load(o, &s);
	k = o->type ? (enum ordkind)o->type : s.exists ? s.kind : ORD_AUTO;
	if (k == ORD_NUMBER || k == ORD_EPOCH || k == ORD_EPOCH_MS ||
	    (k == ORD_AUTO && num_valid_text(value)))
		strbuf_addstr(&json, value);
	else
		json_quote(&json, value, strlen(value));
	ordval_init(&v);
	if (ordval_set_text(&v, json.buf, json.len, k, &e) < 0)
		die(EX_USAGE, "%s: %s", value, e.msg);
	s.kind = v.kind;
	strbuf_reset(&s.current);
	strbuf_add(&s.current, v.raw.buf, v.raw.len);
	strbuf_reset(&s.pending);
	state_save(o, &s);
	ordval_release(&v);
	strbuf_release(&json);
	statefile_unlock(fd);
	wm_state_release(&s);
	return 0;
}

static int do_list(struct wm_opts *o)
{
	struct strbuf out = STRBUF_INIT;
	struct aperr e;

	if (wm_list(o->state, &out, &e) < 0)
		die_err(&e);
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0 ||
	    ferror(stdout))
		die(EX_IOERR, "stdout: write error");
	strbuf_release(&out);
	return 0;
}

struct track_run {
	struct wm_opts *o;
	struct wm_track w;
	/* the field's member: the rest is only checked (or, lazy, not read) */
	struct json_pick pick;
	uint64_t lines, invalid;
};

static void track_line(struct track_run *t, struct json_doc *d, struct json_error *je,
		       const char *line, size_t n, uint64_t lineno)
{
	struct aperr e;

	if (tool_parse_line(d, je, &t->pick, line, n, lineno, &e) == 0 && wm_track_record(&t->w, d, &e) == 0)
		return;
	if (!t->o->skip_invalid)
		die(EX_DATAERR, "line %llu: %s: %s (use --skip-invalid to pass such records)",
		    (unsigned long long)lineno, t->w.field.text, e.msg);
	t->invalid++;
	if (t->o->common.verbose)
		warnmsg("line %llu: %s: %s (skipped)", (unsigned long long)lineno, t->w.field.text,
			e.msg);
}

static int do_track(struct wm_opts *o)
{
	struct track_run t;
	struct wm_state s;
	struct lreader in;
	struct lwriter out;
	struct json_doc d;
	struct json_error je;
	struct aperr e;
	const char *line;
	size_t n;
	int rc, fd;

	if (!o->field)
		usage_error("track needs --order-field");
	memset(&t, 0, sizeof(t));
	t.o = o;
	/* at its end of input the stage after it has not landed the records yet */
	if (o->commit_on_eof && tool_stdout_is_pipe())
		die(EX_USAGE, "track --commit-on-eof into a pipe would commit before the "
		    "next stage lands the records; run 'watermark commit' after the pipeline "
		    "succeeded, or let upsert keep it (--watermark-name)");
	fd = lock_name(o);
	state_load(o, &s);
	if (wm_track_init(&t.w, o->field, o->type ? (enum ordkind)o->type : s.exists ? s.kind
									  : ORD_AUTO, &e) < 0)
		usage_error("%s", e.msg);
	if (o->type && s.exists && s.kind != (enum ordkind)o->type)
		die(EX_CONFIG, "watermark %s holds a %s; --type %s does not match", o->name,
		    ordkind_name(s.kind), ordkind_name((enum ordkind)o->type));
	json_pick_init(&t.pick);
	json_pick_add(&t.pick, &t.w.field);
	t.pick.lazy = o->lazy;
	tool_filter_init(&o->common, &in, &out, &d, &je);
	while ((rc = lreader_next(&in, &line, &n, &e)) > 0) {
		if (!jsonl_is_state(line, n)) {	/* in-band state passes untracked */
			t.lines++;
			track_line(&t, &d, &je, line, n, in.lineno);
		}
		tool_check_write(lwriter_line(&out, line, n, &e), &e);
	}
	if (rc < 0)
		die_err(&e);
	tool_finish(&out);
	/* Clean end of input and every record passed on: stage (or commit). */
	s.kind = t.w.have_max ? t.w.max.kind : s.exists ? s.kind : t.w.kind;
	if (s.kind == ORD_AUTO)
		s.kind = ORD_TIMESTAMP;
	strbuf_reset(&s.field);
	strbuf_addstr(&s.field, o->field);
	strbuf_reset(&s.pending);
	if (t.w.have_max)
		strbuf_add(&s.pending, t.w.max.raw.buf, t.w.max.raw.len);
	if (o->commit_on_eof && t.w.have_max)
		commit_pending(&s);
	if (t.w.have_max || s.exists)
		state_save(o, &s);
	statefile_unlock(fd);
	if (o->common.verbose)
		warnmsg("%s: %llu records, %s %s", o->name, (unsigned long long)t.lines,
			o->commit_on_eof ? "committed" : "staged",
			t.w.have_max ? t.w.max.raw.buf : "nothing");
	if (o->common.stats) {
		struct tool_stats st;

		tool_stats_begin(&st, "watermark");
		jw_member_u64(&st.w, "lines", t.lines);
		jw_member_u64(&st.w, "invalid", t.invalid);
		jw_member_u64(&st.w, "bytes_in", in.bytes);
		jw_key(&st.w, "max");
		if (t.w.have_max)
			jw_raw(&st.w, t.w.max.raw.buf, t.w.max.raw.len);
		else
			jw_null(&st.w);
		jw_key(&st.w, "committed");
		jw_bool(&st.w, o->commit_on_eof && t.w.have_max);
		tool_stats_end(&st, o->common.stats);
	}
	wm_track_release(&t.w);
	json_error_release(&je);
	json_doc_release(&d);
	lreader_release(&in);
	wm_state_release(&s);
	return 0;
}

static int dispatch(struct wm_opts *o, int argc, char **argv);

int cmd_watermark(int argc, char **argv)
{
	struct wm_opts o;
	struct aperr e;
	int c, r;

	tool_set_options(options, NULL, NULL);
	memset(&o, 0, sizeof(o));
	cli_common_init(&o.common);
	if (argc >= 2 && argv[1][0] != '-') {
		o.cmd = argv[1];
		argv++;
		argc--;
	}
	while ((c = tool_getopt(argc, argv)) != -1) {
		switch (c) {
		case OPT_STATE: o.state = optarg; break;
		case OPT_NAME: o.name = optarg; break;
		case OPT_FIELD: o.field = optarg; break;
		case OPT_OLD_FIELD: tool_renamed("--field", "--order-field");
		case OPT_TYPE:
			o.type = ordkind_parse(optarg);
			if (o.type <= ORD_AUTO)
				usage_error("--type: '%s' is not timestamp, number, "
					    "string, epoch or epoch-ms", optarg);
			break;
		case OPT_COMMIT_ON_EOF: o.commit_on_eof = 1; break;
		case OPT_SKIP_INVALID: o.skip_invalid = 1; break;
		case OPT_LAZY: o.lazy = 1; break;
		case OPT_LOOKBACK:
			if (duration_parse(optarg, &o.lookback, &e) < 0)
				usage_error("--lookback: %s", e.msg);
			o.have_lookback = 1;
			break;
		case OPT_FORMAT: o.format = optarg; break;
		case OPT_DEFAULT: o.deflt = optarg; break;
		case OPT_DB: o.db = tool_db_target(optarg, "--db"); break;
		default: tool_common_opt(&o.common, c, optarg);
		}
	}
	tool_common_done(&o.common, usage_text);
	if (!o.cmd)
		usage_error("say get, track, commit, set or list");
	if (o.db && strcmp(o.cmd, "get"))
		usage_error("--db goes with get (upsert writes that watermark)");
	if (o.db && o.state)
		usage_error("--state or --db, not both");
	if (!o.state && !o.db)
		usage_error("--state is required");
	if (o.db) {
		if (!o.name)
			usage_error("--name is required");
		return do_get_db(&o);
	}
	if (!strcmp(o.cmd, "list")) {
		if (optind != argc)
			usage_error("unexpected argument '%s'", argv[optind]);
		return do_list(&o);
	}
	if (!o.name)
		usage_error("--name is required");
	if (!wm_valid_name(o.name))
		usage_error("--name '%s': use letters, digits, '.', '_' and '-'", o.name);
	if (asprintf(&o.path, "%s/%s.json", o.state, o.name) < 0)
		die(EX_OSERR, "out of memory");
	r = dispatch(&o, argc, argv);
	free(o.path);
	return r;
}

static int dispatch(struct wm_opts *o, int argc, char **argv)
{
	if (!strcmp(o->cmd, "set")) {
		if (optind + 1 != argc)
			usage_error("set takes one value");
		return do_set(o, argv[optind]);
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!strcmp(o->cmd, "get"))
		return do_get(o);
	if (!strcmp(o->cmd, "track"))
		return do_track(o);
	if (!strcmp(o->cmd, "commit"))
		return do_commit(o);
	usage_error("unknown command '%s'", o->cmd);
}

int main(int argc, char **argv)
{
	tool_init("watermark");
	return cmd_watermark(argc, argv);
}
