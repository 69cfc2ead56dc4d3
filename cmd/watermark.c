/*
 * watermark: incremental-sync state (get, track, commit, set, list).
 */
#include <dirent.h>
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

static const char usage_text[] =
	"usage: watermark get --state dir | --db path --name name [--lookback duration]\n"
	"                 [--format raw | rfc3339 | epoch | epoch-ms] [--default value]\n"
	"       watermark track --state dir --name name --order-field pointer [--type type]\n"
	"                 [--commit-on-eof] [--skip-invalid]\n"
	"       watermark commit --state dir --name name\n"
	"       watermark set --state dir --name name [--type type] value\n"
	"       watermark list --state dir\n"
	"       common options: [-hqv] [--stats file] [--max-line size] [--max-depth n]\n";

enum {
	OPT_STATE = CLI_OPT_FIRST_TOOL, OPT_OLD_FIELD, OPT_NAME, OPT_FIELD, OPT_TYPE, OPT_COMMIT_ON_EOF,
	OPT_SKIP_INVALID, OPT_LOOKBACK, OPT_FORMAT, OPT_DEFAULT, OPT_DB
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "state", required_argument, NULL, OPT_STATE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "order-field", required_argument, NULL, OPT_FIELD },
	{ "field", required_argument, NULL, OPT_OLD_FIELD },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "commit-on-eof", no_argument, NULL, OPT_COMMIT_ON_EOF },
	{ "skip-invalid", no_argument, NULL, OPT_SKIP_INVALID },
	{ "lookback", required_argument, NULL, OPT_LOOKBACK },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "default", required_argument, NULL, OPT_DEFAULT },
	{ "db", required_argument, NULL, OPT_DB },
	{ NULL, 0, NULL, 0 }
};

struct wm_opts {
	struct cli_common common;
	const char *cmd, *state, *name, *field, *format, *deflt, *db;
	int type;		/* enum ordkind, ORD_AUTO when not given */
	int commit_on_eof, skip_invalid, have_lookback;
	struct instant lookback;
	char *path;		/* DIR/NAME.json */
};

/* What NAME.json holds; values are JSON text (NULL when absent). */
struct wm_state {
	int exists;
	enum ordkind kind;
	struct strbuf field, current, pending;
	struct strbuf file;
};

static void state_init(struct wm_state *s)
{
	memset(s, 0, sizeof(*s));
	strbuf_init(&s->field, 0);
	strbuf_init(&s->current, 0);
	strbuf_init(&s->pending, 0);
	strbuf_init(&s->file, 0);
}

static void state_release(struct wm_state *s)
{
	strbuf_release(&s->field);
	strbuf_release(&s->current);
	strbuf_release(&s->pending);
	strbuf_release(&s->file);
}

__attribute__((noreturn)) static void damaged(const char *path, const char *why)
{
	die(EX_DATAERR, "%s: damaged state file (%s); it was left as it is: repair it or "
	    "set a value with 'watermark set'", path, why);
}

static void state_load(const struct wm_opts *o, struct wm_state *s)
{
	static const char *const vals[] = { "current", "pending" };
	struct json_doc d;
	struct aperr e;
	uint32_t t;
	int r, k;

	r = statefile_read(o->path, &s->file, 1 << 20, &e);
	if (r < 0)
		die_err(&e);
	if (r == 1)
		return;
	s->exists = 1;
	json_doc_init(&d, 16);
	if (json_parse(&d, s->file.buf, s->file.len, NULL) != 0 || json_type(&d, 0) != JSON_OBJECT)
		damaged(o->path, "not a JSON object");
	t = json_get(&d, 0, "type", 4);
	if (!t || json_type(&d, t) != JSON_STRING)
		damaged(o->path, "no type");
	{
		struct strbuf ty = STRBUF_INIT;

		json_str_decode(&d, t, &ty);
		r = ordkind_parse(ty.buf ? ty.buf : "");
		strbuf_release(&ty);
		if (r <= ORD_AUTO)
			damaged(o->path, "unknown type");
		s->kind = (enum ordkind)r;
	}
	t = json_get(&d, 0, "field", 5);
	if (t && json_type(&d, t) == JSON_STRING)
		json_str_decode(&d, t, &s->field);
	for (k = 0; k < 2; k++) {
		struct strbuf *dst = k ? &s->pending : &s->current;
		struct ordval v;

		t = json_get(&d, 0, vals[k], strlen(vals[k]));
		if (!t || json_type(&d, t) == JSON_NULL)
			continue;
		ordval_init(&v);
		if (ordval_set(&v, &d, t, s->kind, &e) < 0) {
			char why[1100];

			snprintf(why, sizeof(why), "%s: %s", vals[k], e.msg);
			damaged(o->path, why);
		}
		strbuf_add(dst, v.raw.buf, v.raw.len);
		ordval_release(&v);
	}
	json_doc_release(&d);
}

static void state_save(const struct wm_opts *o, const struct wm_state *s)
{
	struct strbuf j = STRBUF_INIT;
	struct jsonw w;
	struct instant now;
	struct aperr e;
	char ts[64];

	instant_now(&now);
	now.asec -= now.asec % 1000000000000000ULL;
	instant_format(&now, ts, sizeof(ts));
	jw_init(&w, &j);
	jw_object(&w);
	jw_key(&w, "name");
	jw_text(&w, o->name, strlen(o->name));
	jw_member_str(&w, "type", ordkind_name(s->kind));
	jw_key(&w, "field");
	if (s->field.len)
		jw_text(&w, s->field.buf, s->field.len);
	else
		jw_null(&w);
	jw_key(&w, "current");
	if (s->current.len)
		jw_raw(&w, s->current.buf, s->current.len);
	else
		jw_null(&w);
	jw_key(&w, "pending");
	if (s->pending.len)
		jw_raw(&w, s->pending.buf, s->pending.len);
	else
		jw_null(&w);
	jw_member_str(&w, "updated_at", ts);
	jw_end_object(&w);
	if (jw_finish_line(&w) < 0)
		die(EX_OSERR, "%s: %s", o->path, jw_error(&w));
	if (statefile_mkdirs(o->state, &e) < 0 ||
	    statefile_write(o->path, j.buf, j.len, 0, &e) < 0)
		die_err(&e);
	strbuf_release(&j);
}

/* The greater of two JSON values of kind k (either may be empty). */
static const struct strbuf *max_of(enum ordkind k, const struct strbuf *a,
				   const struct strbuf *b)
{
	struct ordval x, y;
	struct aperr e;
	int c;

	if (!a->len || !b->len)
		return a->len ? a : b;
	ordval_init(&x);
	ordval_init(&y);
	if (ordval_set_text(&x, a->buf, a->len, k, &e) < 0 ||
	    ordval_set_text(&y, b->buf, b->len, k, &e) < 0)
		die_err(&e);
	c = ordval_cmp(&x, &y);
	ordval_release(&x);
	ordval_release(&y);
	return c >= 0 ? a : b;
}

static void set_text(struct strbuf *dst, const struct strbuf *src)
{
	struct strbuf tmp = STRBUF_INIT;

	if (dst == src)
		return;
	strbuf_add(&tmp, src->buf ? src->buf : "", src->len);
	strbuf_release(dst);
	*dst = tmp;
}

static int lock_name(const struct wm_opts *o)
{
	struct aperr e;
	struct strbuf what = STRBUF_INIT;
	int fd;

	strbuf_addf(&what, "watermark %s", o->name);
	if (statefile_mkdirs(o->state, &e) < 0)
		die_err(&e);
	fd = statefile_lock(o->path, what.buf, &e);
	if (fd < 0)
		die_err(&e);
	strbuf_release(&what);
	return fd;
}

static void print_value(const struct wm_opts *o, const struct wm_state *s,
			const struct strbuf *val)
{
	const char *fmt = o->format;
	struct ordval v;
	struct aperr e;
	char buf[64];

	ordval_init(&v);
	if (ordval_set_text(&v, val->buf, val->len, s->kind, &e) < 0)
		die_err(&e);
	if (!fmt)
		fmt = o->have_lookback ? (s->kind == ORD_TIMESTAMP ? "rfc3339" :
					  s->kind == ORD_EPOCH ? "epoch" : "epoch-ms") : "raw";
	if (s->kind != ORD_TIMESTAMP && s->kind != ORD_EPOCH && s->kind != ORD_EPOCH_MS) {
		if (o->have_lookback || strcmp(fmt, "raw"))
			die(EX_USAGE, "watermark %s is a %s: --lookback and --format need a "
			    "timestamp or epoch watermark", o->name, ordkind_name(s->kind));
	}
	if (o->have_lookback)
		instant_sub(&v.t, &o->lookback);
	if (!strcmp(fmt, "raw")) {
		if (v.kind == ORD_STRING || v.kind == ORD_TIMESTAMP)
			fwrite(v.str.buf, 1, v.str.len, stdout);
		else
			fwrite(v.raw.buf, 1, v.raw.len, stdout);
		putchar('\n');
	} else if (!strcmp(fmt, "rfc3339")) {
		instant_format(&v.t, buf, sizeof(buf));
		puts(buf);
	} else if (!strcmp(fmt, "epoch") || !strcmp(fmt, "epoch-ms")) {
		printf("%lld\n", (long long)instant_epoch(&v.t, fmt[5] == '-'));
	} else {
		die(EX_USAGE, "--format: '%s' is not raw, rfc3339, epoch or epoch-ms", fmt);
	}
	ordval_release(&v);
}

static int do_get(struct wm_opts *o)
{
	struct wm_state s;

	state_init(&s);
	state_load(o, &s);
	if (!s.current.len) {
		if (!o->deflt)
			die(EX_NOINPUT, "no watermark '%s' in %s yet (give --default for a first run)",
			    o->name, o->state);
		puts(o->deflt);
	} else {
		print_value(o, &s, &s.current);
	}
	state_release(&s);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "stdout: write error");
	return 0;
}

/* get --db: the watermark upsert committed with its rows (table apipe_state). */
static int do_get_db(struct wm_opts *o)
{
	struct wm_state s;
	struct ordval v;
	struct aperr e;
	struct db *db = db_open(o->db, &e);
	int r;

	if (!db)
		die_err(&e);
	state_init(&s);
	r = db_state_get(db, o->name, &s.current, &e);
	if (r < 0)
		die_err(&e);
	db_close(db);
	if (r == 0) {
		if (!o->deflt)
			die(EX_NOINPUT, "no watermark '%s' in %s yet (give --default for a first run)",
			    o->name, o->db);
		puts(o->deflt);
	} else {
		ordval_init(&v);
		if (ordval_set_text(&v, s.current.buf, s.current.len, ORD_AUTO, &e) < 0)
			die_err(&e);
		s.kind = v.kind;
		ordval_release(&v);
		print_value(o, &s, &s.current);
	}
	state_release(&s);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "stdout: write error");
	return 0;
}

static int do_commit(struct wm_opts *o)
{
	struct wm_state s;
	int fd = lock_name(o);

	state_init(&s);
	state_load(o, &s);
	if (!s.pending.len) {
		if (o->common.verbose)
			warnmsg("%s: nothing staged to commit", o->name);
	} else {
		set_text(&s.current, max_of(s.kind, &s.current, &s.pending));
		strbuf_reset(&s.pending);
		state_save(o, &s);
		if (o->common.verbose)
			warnmsg("%s: committed %s", o->name, s.current.buf);
	}
	statefile_unlock(fd);
	state_release(&s);
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

	state_init(&s);
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
	set_text(&s.current, &v.raw);
	strbuf_reset(&s.pending);
	state_save(o, &s);
	ordval_release(&v);
	strbuf_release(&json);
	statefile_unlock(fd);
	state_release(&s);
	return 0;
}

static int do_list(struct wm_opts *o)
{
	struct dirent **ents;
	int n, i;

	n = scandir(o->state, &ents, NULL, alphasort);
	if (n < 0)
		die(EX_NOINPUT, "%s: cannot read state directory", o->state);
	for (i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);
		struct strbuf file = STRBUF_INIT, path = STRBUF_INIT;
		struct json_doc d;
		struct aperr e;

		if (len > 5 && !strcmp(ents[i]->d_name + len - 5, ".json") &&
		    ents[i]->d_name[0] != '.') {
			strbuf_addf(&path, "%s/%s", o->state, ents[i]->d_name);
			if (statefile_read(path.buf, &file, 1 << 20, &e) < 0)
				die_err(&e);
			json_doc_init(&d, 16);
			if (json_parse(&d, file.buf, file.len, NULL) != 0)
				damaged(path.buf, "not JSON");
			strbuf_reset(&path);
			json_minify(&d, 0, &path);
			puts(path.buf);
			json_doc_release(&d);
		}
		strbuf_release(&file);
		strbuf_release(&path);
		free(ents[i]);
	}
	free(ents);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "stdout: write error");
	return 0;
}

struct track_run {
	struct wm_opts *o;
	struct json_ptr field;
	enum ordkind kind;
	struct ordval max, cur;
	int have_max;
	uint64_t lines, invalid;
};

static void track_line(struct track_run *t, struct json_doc *d, struct json_error *je,
		       const char *line, size_t n, uint64_t lineno)
{
	struct aperr e;
	uint32_t v;
	const char *why = NULL;

	if (tool_parse_line(d, je, line, n, lineno, &e) < 0)
		why = e.msg;
	else if ((v = json_ptr_eval(&t->field, d, 0)) == JSON_ABSENT) {
		why = "field is missing";
	} else if (ordval_set(&t->cur, d, v, t->kind, &e) < 0) {
		why = e.msg;
	} else if (t->have_max && t->cur.kind != t->max.kind) {
		snprintf(e.msg, sizeof(e.msg), "a %s, but earlier records had a %s",
			 ordkind_name(t->cur.kind), ordkind_name(t->max.kind));
		why = e.msg;
	}
	if (why) {
		if (!t->o->skip_invalid)
			die(EX_DATAERR, "line %llu: %s: %s (use --skip-invalid to pass such records)",
			    (unsigned long long)lineno, t->field.text, why);
		t->invalid++;
		if (t->o->common.verbose)
			warnmsg("line %llu: %s: %s (skipped)", (unsigned long long)lineno,
				t->field.text, why);
		return;
	}
	if (!t->have_max || ordval_cmp(&t->cur, &t->max) > 0) {
		struct ordval tmp = t->max;

		t->max = t->cur;
		t->cur = tmp;
		t->have_max = 1;
		t->kind = t->max.kind;
	}
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
	if (json_ptr_parse(&t.field, o->field, &e) < 0)
		usage_error("--order-field: %s", e.msg);
	/* at its end of input the stage after it has not landed the records yet */
	if (o->commit_on_eof && tool_stdout_is_pipe())
		die(EX_USAGE, "track --commit-on-eof into a pipe would commit before the "
		    "next stage lands the records; run 'watermark commit' after the pipeline "
		    "succeeded, or let upsert keep it (--watermark-name)");
	fd = lock_name(o);
	state_init(&s);
	state_load(o, &s);
	t.kind = o->type ? (enum ordkind)o->type : s.exists ? s.kind : ORD_AUTO;
	if (o->type && s.exists && s.kind != (enum ordkind)o->type)
		die(EX_CONFIG, "watermark %s holds a %s; --type %s does not match", o->name,
		    ordkind_name(s.kind), ordkind_name((enum ordkind)o->type));
	ordval_init(&t.max);
	ordval_init(&t.cur);
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
	s.kind = t.have_max ? t.max.kind : s.exists ? s.kind : t.kind;
	if (s.kind == ORD_AUTO)
		s.kind = ORD_TIMESTAMP;
	strbuf_reset(&s.field);
	strbuf_addstr(&s.field, o->field);
	strbuf_reset(&s.pending);
	if (t.have_max)
		strbuf_add(&s.pending, t.max.raw.buf, t.max.raw.len);
	if (o->commit_on_eof && t.have_max) {
		set_text(&s.current, max_of(s.kind, &s.current, &s.pending));
		strbuf_reset(&s.pending);
	}
	if (t.have_max || s.exists)
		state_save(o, &s);
	statefile_unlock(fd);
	if (o->common.verbose)
		warnmsg("%s: %llu records, %s %s", o->name, (unsigned long long)t.lines,
			o->commit_on_eof ? "committed" : "staged",
			t.have_max ? t.max.raw.buf : "nothing");
	if (o->common.stats) {
		struct tool_stats st;

		tool_stats_begin(&st, "watermark");
		jw_member_u64(&st.w, "lines", t.lines);
		jw_member_u64(&st.w, "invalid", t.invalid);
		jw_member_u64(&st.w, "bytes_in", in.bytes);
		jw_key(&st.w, "max");
		if (t.have_max)
			jw_raw(&st.w, t.max.raw.buf, t.max.raw.len);
		else
			jw_null(&st.w);
		jw_key(&st.w, "committed");
		jw_bool(&st.w, o->commit_on_eof && t.have_max);
		tool_stats_end(&st, o->common.stats);
	}
	ordval_release(&t.max);
	ordval_release(&t.cur);
	json_ptr_release(&t.field);
	json_error_release(&je);
	json_doc_release(&d);
	lreader_release(&in);
	state_release(&s);
	return 0;
}

static int valid_name(const char *s)
{
	size_t i;

	if (!*s || *s == '.' || *s == '-' || strlen(s) > 200)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int dispatch(struct wm_opts *o, int argc, char **argv);

static const struct cli_help help[] = {
	{ "State", "--state dir", "where watermarks are kept" },
	{ "State", "--db path", "read a watermark upsert kept" },
	{ "State", "--name name", "the watermark's name" },
	{ "track", "--order-field pointer", "the field whose greatest value is tracked" },
	{ "track", "--type type", "rfc3339, epoch, epoch-ms, integer, decimal or string" },
	{ "track", "--commit-on-eof", "commit at the end of input (not into a pipe)" },
	{ "track", "--skip-invalid", "pass records whose field is unusable" },
	{ "get", "--lookback duration", "subtract this from the value" },
	{ "get", "--format raw|rfc3339|epoch|epoch-ms", "how to print it" },
	{ "get", "--default value", "what to print when there is none" },
	{ NULL, NULL, NULL }
};

int cmd_watermark(int argc, char **argv)
{
	struct wm_opts o;
	struct aperr e;
	int c, r;

	tool_set_help(help, NULL);
	memset(&o, 0, sizeof(o));
	cli_common_init(&o.common);
	if (argc >= 2 && argv[1][0] != '-') {
		o.cmd = argv[1];
		argv++;
		argc--;
	}
	while ((c = tool_getopt(argc, argv, "hqv", longopts)) != -1) {
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
		case OPT_LOOKBACK:
			if (duration_parse(optarg, &o.lookback, &e) < 0)
				usage_error("--lookback: %s", e.msg);
			o.have_lookback = 1;
			break;
		case OPT_FORMAT: o.format = optarg; break;
		case OPT_DEFAULT: o.deflt = optarg; break;
		case OPT_DB: o.db = optarg; break;
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
	if (!valid_name(o.name))
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
