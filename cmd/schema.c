/*
 * schema: infer a JSON Schema baseline from records, or report how records
 * drifted from one.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/shape.h"
#include "../lib/statefile.h"

static const char usage_text[] =
	"usage: schema infer [-hqv] [--sample n] [--stats file] [--max-line size]\n"
	"       [--max-depth n]\n"
	"       schema diff [-hqv] [--report file] [--tee] [--fail-on breaking | any | none]\n"
	"       [--stats file] [--max-line size] [--max-depth n] baseline\n";

enum { OPT_SAMPLE = CLI_OPT_FIRST_TOOL, OPT_REPORT, OPT_TEE, OPT_FAIL_ON };

static const struct cli_opt options[] = {
	{ "sample", 0, required_argument, OPT_SAMPLE, "n", "schema infer", "infer from the first n records" },
	{ "report", 0, required_argument, OPT_REPORT, "file", "schema diff", "write the differences to file" },
	{ "tee", 0, no_argument, OPT_TEE, NULL, "schema diff", "pass the records on" },
	{ "fail-on", 0, required_argument, OPT_FAIL_ON, "breaking|any|none", "schema diff", "which differences fail the run" },
	CLI_OPT_END
};

/* The change kinds; "breaking" ones fail the run by default. */
enum change {
	CH_ADDED, CH_REMOVED, CH_TYPE_CHANGED, CH_BECAME_NULLABLE, CH_NO_LONGER_REQUIRED,
	CH_FORMAT_CHANGED
};
static const char *const change_names[] = {
	"added", "removed", "type_changed", "became_nullable", "no_longer_required",
	"format_changed"
};
#define BREAKING ((1u << CH_REMOVED) | (1u << CH_TYPE_CHANGED))

struct run {
	struct cli_common common;
	int diff, tee;
	uint64_t sample;	/* 0: every record */
	const char *report_path;
	unsigned fail_mask;
	struct shape *sh;
	struct lreader in;
	struct lwriter out;
	struct json_doc d;
	struct json_error je;
	uint64_t records;
	/* diff's report */
	struct strbuf report;
	uint64_t changes;
	unsigned found;		/* change kinds found, as bits */
};

static void read_records(struct run *r)
{
	const char *line;
	size_t n;
	struct aperr e;
	int rc = 0;

	while ((!r->sample || r->records < r->sample) &&
	       (rc = lreader_next(&r->in, &line, &n, &e)) > 0) {
		if (jsonl_is_state(line, n)) {	/* in-band state: not a record */
			if (r->tee)
				tool_check_write(lwriter_line(&r->out, line, n, &e), &e);
			continue;
		}
		if (tool_parse_line(&r->d, &r->je, NULL, line, n, r->in.lineno, &e) < 0)
			die(EX_DATAERR, "line %llu: %s", (unsigned long long)r->in.lineno, e.msg);
		r->records++;
		if (shape_observe(r->sh, &r->d, 0, r->in.lineno, &e) < 0)
			die(e.code, "line %llu: %s", (unsigned long long)r->in.lineno, e.msg);
		if (r->tee)
			tool_check_write(lwriter_line(&r->out, line, n, &e), &e);
	}
	if ((!r->sample || r->records < r->sample) && rc < 0)
		die_err(&e);
}

static void load_baseline(struct run *r, const char *path)
{
	struct strbuf text = STRBUF_INIT;
	struct json_doc d;
	struct aperr e;

	/* a schema nests about twice as deep as the records it describes */
	json_doc_init(&d, 4 * r->common.max_depth);
	tool_read_json(path, "baseline", &text, &d);
	if (!(r->sh = shape_load_baseline(&d, 0, &e)))
		die(e.code, "%s: %s", path, e.msg);
	json_doc_release(&d);
	strbuf_release(&text);
}

/* One report line. */
static void change(struct run *r, enum change c, const struct strbuf *path, const char *from,
		   const char *to, uint64_t count, uint64_t first_line)
{
	struct strbuf *o = &r->report;
	struct jsonw w;

	jw_init(&w, o);
	jw_object(&w);
	jw_member_str(&w, "change", change_names[c]);
	jw_key(&w, "path");
	jw_text(&w, path->buf, path->len);
	jw_member_raw(&w, "from", from, strlen(from));
	jw_member_raw(&w, "to", to, strlen(to));
	jw_member_u64(&w, "count", count);
	jw_member_u64(&w, "first_line", first_line);
	jw_end_object(&w);
	if (jw_finish_line(&w) < 0)
		die(EX_OSERR, "the report: %s", jw_error(&w));
	r->changes++;
	r->found |= 1u << c;
}

static const char *types_text(struct strbuf *sb, unsigned types)
{
	strbuf_reset(sb);
	shape_types_json(sb, types);
	return sb->buf;
}

static const char *format_text(struct strbuf *sb, unsigned fmt)
{
	strbuf_reset(sb);
	if (fmt)
		strbuf_addf(sb, "\"%s\"", shape_format_name(fmt));
	else
		strbuf_addstr(sb, "null");
	return sb->buf;
}

/*
 * The changes at sh and under it.  parent_objects: how often its parent
 * was an object (0 for the root and items).
 */
static void compare(struct run *r, const struct shape *sh, struct strbuf *path,
		    uint64_t parent_objects)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t at = path->len, i;
	int open_props;

	if (!sh->baseline) {
		if (sh->count)
			change(r, CH_ADDED, path, "null", types_text(&a, sh->types), sh->count,
			       sh->first_line);
		goto out;
	}
	if (sh->name && parent_objects && !sh->count) {
		/* an optional member may be absent: only a required one is removed */
		if (!sh->required)
			goto out;
		change(r, CH_REMOVED, path, types_text(&a, sh->btypes), "null", sh->missing,
		       sh->first_missing);
		goto out;
	}
	if (sh->required && sh->missing)
		change(r, CH_NO_LONGER_REQUIRED, path, "\"required\"", "\"optional\"", sh->missing,
		       sh->first_missing);
	if (sh->bad_type)
		change(r, CH_TYPE_CHANGED, path, types_text(&a, sh->btypes),
		       types_text(&b, sh->types & ~SH_NULL), sh->bad_type, sh->first_bad_type);
	if (sh->nulls)
		change(r, CH_BECAME_NULLABLE, path, types_text(&a, sh->btypes),
		       types_text(&b, sh->btypes | SH_NULL), sh->nulls, sh->first_null);
	if (sh->bad_format)
		change(r, CH_FORMAT_CHANGED, path, format_text(&a, sh->bformat),
		       format_text(&b, shape_format_pick(sh->formats)), sh->bad_format,
		       sh->first_bad_format);
	/* members of a value that was not an object before are its type change, not additions */
	open_props = !sh->btypes || (sh->btypes & SH_OBJECT);
	for (i = 0; i < sh->nprops; i++) {
		if (!sh->props[i]->baseline && !open_props)
			continue;
		json_ptr_append(path, sh->props[i]->name, sh->props[i]->namelen);
		compare(r, sh->props[i], path, sh->nobj);
		strbuf_setlen(path, at);
	}
	if (sh->items && (sh->items->baseline || !sh->btypes || (sh->btypes & SH_ARRAY))) {
		strbuf_addstr(path, "/*");
		compare(r, sh->items, path, 0);
		strbuf_setlen(path, at);
	}
out:
	strbuf_release(&a);
	strbuf_release(&b);
}

static void write_report(struct run *r)
{
	struct strbuf path = STRBUF_INIT;
	struct aperr e;

	compare(r, r->sh, &path, 0);
	strbuf_release(&path);
	if (r->report_path) {
		if (statefile_write(r->report_path, r->report.buf,
				    r->report.len, 0, &e) < 0) {
			aperr_prefix(&e, "--report");
			die(EX_CANTCREAT, "%s", e.msg);
		}
	} else if (r->tee) {
		fputs(r->report.buf, stderr);
	} else {
		tool_check_write(lwriter_write(&r->out, r->report.buf,
					       r->report.len, &e), &e);
	}
}

static void parse_args(struct run *r, int argc, char **argv)
{
	const char *diff_only = NULL;
	struct aperr e;
	int opt;

	if (argc < 2 || (strcmp(argv[1], "infer") && strcmp(argv[1], "diff"))) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
			tool_help_exit(usage_text);
		if (argc >= 2 && !strcmp(argv[1], "--version")) {
			struct cli_common c;

			memset(&c, 0, sizeof(c));
			c.version = 1;
			tool_common_done(&c, usage_text);
		}
		usage_error("infer or diff?");
	}
	r->diff = !strcmp(argv[1], "diff");
	argc--;
	argv++;
	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case OPT_SAMPLE:
			if (r->diff)
				usage_error("--sample is for schema infer");
			if (num_parse_u64(optarg, &r->sample, "--sample", &e) < 0 || !r->sample)
				usage_error("--sample: a count of records, 1 or more");
			break;
		case OPT_REPORT: r->report_path = optarg; diff_only = "--report"; break;
		case OPT_TEE: r->tee = 1; diff_only = "--tee"; break;
		case OPT_FAIL_ON:
			diff_only = "--fail-on";
			if (!strcmp(optarg, "breaking"))
				r->fail_mask = BREAKING;
			else if (!strcmp(optarg, "any"))
				r->fail_mask = ~0u;
			else if (!strcmp(optarg, "none"))
				r->fail_mask = 0;
			else
				usage_error("--fail-on: breaking, any or none");
			break;
		default: tool_common_opt(&r->common, opt, optarg);
		}
	}
	tool_common_done(&r->common, usage_text);
	if (!r->diff && diff_only)
		usage_error("%s is for schema diff", diff_only);
	if (r->diff && optind + 1 != argc)
		usage_error(optind < argc ? "one baseline, please" :
			    "schema diff needs the baseline schema");
	if (!r->diff && optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (r->diff)
		load_baseline(r, argv[optind]);
}

static void write_stats(struct run *r)
{
	struct tool_stats st;

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "records", r->records);
	if (r->diff)
		jw_member_u64(&st.w, "changes", r->changes);
	tool_stats_end(&st, r->common.stats);
}

int cmd_schema(int argc, char **argv)
{
	struct run r;
	int failed = 0;

	tool_set_options(options, NULL, NULL);
	memset(&r, 0, sizeof(r));
	cli_common_init(&r.common);
	r.fail_mask = BREAKING;
	parse_args(&r, argc, argv);
	tool_filter_init(&r.common, &r.in, &r.out, &r.d, &r.je);
	if (!r.diff && !(r.sh = shape_new()))
		die(EX_OSERR, "out of memory");
	strbuf_init(&r.report, (size_t)-1);
	read_records(&r);
	if (r.diff) {
		write_report(&r);
		failed = !!(r.found & r.fail_mask);
		if (r.common.verbose || (failed && !r.common.quiet))
			warnmsg("%llu records, %llu changes from the baseline%s",
				(unsigned long long)r.records, (unsigned long long)r.changes,
				failed ? ", failing as --fail-on asks" : "");
	} else {
		struct aperr e;

		shape_schema_json(&r.report, r.sh, r.records);
		tool_check_write(lwriter_write(&r.out, r.report.buf, r.report.len, &e), &e);
		if (r.common.verbose)
			warnmsg("%llu records, %zu top-level fields", (unsigned long long)r.records,
				r.sh->nprops);
	}
	tool_finish(&r.out);
	if (r.common.stats)
		write_stats(&r);
	shape_free(r.sh);
	strbuf_release(&r.report);
	json_doc_release(&r.d);
	json_error_release(&r.je);
	lreader_release(&r.in);
	return failed;
}

int main(int argc, char **argv)
{
	tool_init("schema");
	return cmd_schema(argc, argv);
}
