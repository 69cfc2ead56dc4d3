/*
 * tabulate: records as a table, a Parquet file or CSV (RFC 4180), with
 * typed columns from --column specs, a JSON Schema, or the first records.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "../lib/deadletter.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/s3.h"
#include "../lib/statefile.h"
#include "../lib/table.h"

static const char usage_text[] =
	"usage: tabulate [-hqv] [--format parquet | csv] [-o file] [--schema file]\n"
	"       [--column name=pointer[:type]]... [--infer n] [--row-group rows]\n"
	"       [--compression none | gzip] [--dead-letter file]\n"
	"       [--key pointer[,pointer...] --child pointer=file...]\n"
	"       [--stats file] [--max-line size] [--max-depth n]\n"
	"       [--aws-access-key-id ref] [--aws-secret-access-key ref]\n"
	"       [--aws-session-token ref] [--aws-region region] [--s3-endpoint url]\n";

enum {
	OPT_FORMAT = CLI_OPT_FIRST_TOOL, OPT_SCHEMA, OPT_COLUMN, OPT_INFER, OPT_ROW_GROUP,
	OPT_COMPRESSION, OPT_DEAD_LETTER, OPT_KEY, OPT_CHILD
};

static const struct cli_opt options[] = {
	{ "format", 0, required_argument, OPT_FORMAT, "parquet|csv", "Table", "what to write" },
	{ "output", 'o', required_argument, 'o', "file", "Table", "write file or s3://bucket/key (atomically: all of it or nothing); default stdout" },
	{ "schema", 0, required_argument, OPT_SCHEMA, "file", "Table", "columns from a JSON Schema's top-level properties" },
	{ "column", 0, required_argument, OPT_COLUMN, "name=pointer[:type]", "Table", "a column: text, integer, real, boolean, json, timestamp" },
	{ "infer", 0, required_argument, OPT_INFER, "n", "Table", "records read before the columns are fixed (default 1000)" },
	{ "row-group", 0, required_argument, OPT_ROW_GROUP, "rows", "Table", "Parquet rows a row group (default 65536)" },
	{ "compression", 0, required_argument, OPT_COMPRESSION, "none|gzip", "Table", "Parquet page compression (default gzip)" },
	{ "dead-letter", 0, required_argument, OPT_DEAD_LETTER, "file", "Table", "records with a value that does not fit go to file" },
	{ "key", 0, required_argument, OPT_KEY, "pointer[,pointer...]", "Child tables", "the record's key, which each child row carries" },
	{ "child", 0, required_argument, OPT_CHILD, "pointer=file", "Child tables", "each element of the array at pointer a row of file" },
	CLI_OPT_END
};

struct tab {
	struct cli_common common;
	int parquet;
	const char *output, *schema, *dl_path;
	uint64_t infer, group_rows;
	enum parquet_codec codec;
	struct tab_col *cols;
	size_t ncols;
	int from_data;		/* no --schema, no --column: the members seen are the columns */
	struct deadletter dl;
	struct lwriter out;
	struct strbuf tmp_path, row;
	struct parquet_writer *pq;
	struct tab_val *vals;	/* one a column */
	uint64_t rows, dead, states;
	/* --child: a table each, whose rows come from the parent's records */
	struct tab *kids;
	size_t nkids;
	struct json_ptr kid_ptr;	/* a child's: the array in the parent's record */
	struct db_column *keys;		/* the parent's --key */
	size_t nkeys;
	struct strbuf synth;		/* a child row's document, made from the parent's record */
	struct json_doc kd;		/* its parse */
	struct tab_infer *kinf;		/* a child's inference */
	uint64_t kinferred;
	struct s3_opts s3o;	/* -o s3://: written to an unnamed file, stored at the end */
	int objects;
	struct secrets sec;
	struct s3 s3;
	char *bucket, *key;
};

/* 1 Parquet, 0 CSV, as the file's name ends; else dflt. */
static int format_of(const char *path, int dflt)
{
	size_t n = strlen(path);

	if (n > 8 && !strcasecmp(path + n - 8, ".parquet"))
		return 1;
	if (n > 4 && !strcasecmp(path + n - 4, ".csv"))
		return 0;
	return dflt;
}

/* --key POINTER[,POINTER...]: the columns each child row names its parent by. */
static void add_keys(struct tab *t, const char *arg)
{
	char *list = strdup(arg), *tok, *save = NULL;
	struct aperr e;

	if (!list)
		die(EX_OSERR, "out of memory");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		t->keys = realloc(t->keys, (t->nkeys + 1) * sizeof(*t->keys));
		if (!t->keys)
			die(EX_OSERR, "out of memory");
		if (db_column_parse(&t->keys[t->nkeys], tok, 2, &e) < 0)
			usage_error("--key %s", e.msg);
		t->nkeys++;
	}
	free(list);
}

/* --child POINTER=FILE: a table of its own, its columns from the rows made (kid_row). */
static void add_kid(struct tab *t, const char *arg)
{
	struct tab *k;
	struct aperr e;

	t->kids = realloc(t->kids, (t->nkids + 1) * sizeof(*t->kids));
	if (!t->kids)
		die(EX_OSERR, "out of memory");
	k = &t->kids[t->nkids];
	memset(k, 0, sizeof(*k));
	k->from_data = 1;
	if (cli_pointer_to(arg, &k->kid_ptr, &k->output, &e) < 0) {
		aperr_prefix(&e, "--child");
		die_opt(&e);
	}
	t->nkids++;
}

static void parse_args(struct tab *t, int argc, char **argv)
{
	struct aperr e;
	size_t i;
	int opt;

	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			if (strcmp(optarg, "parquet") && strcmp(optarg, "csv"))
				usage_error("--format: parquet or csv");
			t->parquet = !strcmp(optarg, "parquet");
			break;
		case 'o': t->output = optarg; break;
		case OPT_SCHEMA: t->schema = optarg; break;
		case OPT_COLUMN:
			t->cols = realloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
			if (!t->cols)
				die(EX_OSERR, "out of memory");
			memset(&t->cols[t->ncols], 0, sizeof(*t->cols));
			if (db_column_parse(&t->cols[t->ncols].c, optarg, 1, &e) < 0)
				usage_error("--column %s", e.msg);
			t->ncols++;
			break;
		case OPT_INFER:
			if (num_parse_u64(optarg, &t->infer, "--infer", &e) < 0)
				usage_error("%s", e.msg);
			break;
		case OPT_ROW_GROUP:
			if (num_parse_u64(optarg, &t->group_rows, "--row-group", &e) < 0 ||
			    !t->group_rows)
				usage_error("--row-group: a number of rows, at least 1");
			break;
		case OPT_COMPRESSION:
			if (strcmp(optarg, "none") && strcmp(optarg, "gzip"))
				usage_error("--compression: none or gzip");
			t->codec = !strcmp(optarg, "gzip") ? PQ_GZIP : PQ_UNCOMPRESSED;
			break;
		case OPT_DEAD_LETTER: t->dl_path = optarg; break;
		case OPT_KEY: add_keys(t, optarg); break;
		case OPT_CHILD: add_kid(t, optarg); break;
		default:
			if (!s3_cli_opt(&t->s3o, opt, optarg))
				tool_common_opt(&t->common, opt, optarg);
		}
	}
	t->objects = s3_is_url(t->output);
	if (t->nkids && !t->nkeys)
		usage_error("--child needs --key: the key each child row carries");
	if (t->nkeys && !t->nkids)
		usage_error("--key goes with --child");
	if (!t->objects && (t->s3o.key_id || t->s3o.secret || t->s3o.token || t->s3o.region ||
			    t->s3o.endpoint))
		usage_error("the --aws- and --s3- options go with -o s3://bucket/key");
	tool_common_done(&t->common, usage_text);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (t->parquet < 0 && t->output)	/* -o orders.parquet says which */
		t->parquet = format_of(t->output, -1);
	if (t->parquet < 0)
		usage_error("--format parquet or csv is required (or -o FILE.parquet, FILE.csv)");
	for (i = 0; i < t->nkids; i++) {	/* a child file's name says its format, else the parent's */
		struct tab *k = &t->kids[i];

		k->parquet = format_of(k->output, t->parquet);
		k->infer = t->infer;
		k->codec = t->codec;
		k->group_rows = t->group_rows;
		k->s3o = t->s3o;
		k->objects = s3_is_url(k->output);
		k->common = t->common;
		if (!strcmp(k->output, t->output ? t->output : ""))
			usage_error("--child %s: the file of the records themselves", k->output);
	}
	if (t->schema && t->ncols)
		usage_error("give --schema or --column, not both");
}

static void load_schema(struct tab *t)
{
	struct strbuf text = STRBUF_INIT;
	struct json_doc d;
	struct aperr e;

	json_doc_init(&d, 0);
	tool_read_json(t->schema, "--schema file", &text, &d);
	if (tab_cols_from_schema(&d, &t->cols, &t->ncols, &e) < 0)
		die(e.code, "--schema %s: %s", t->schema, e.msg);
	json_doc_release(&d);
	strbuf_release(&text);
}

/* The temporary files of -o and the children's while they are written: removed when the run dies. */
#define MAX_PENDING 64
static const char *pending[MAX_PENDING];

static void remove_pending(void)
{
	size_t i;

	for (i = 0; i < MAX_PENDING; i++)
		if (pending[i])
			unlink(pending[i]);
}

static void hold_pending(const char *path)
{
	static int registered;
	size_t i;

	for (i = 0; i < MAX_PENDING && pending[i]; i++)
		;
	if (i == MAX_PENDING)
		die(EX_USAGE, "more than %d output files", MAX_PENDING);
	pending[i] = path;
	if (!registered++)
		atexit(remove_pending);
}

static void drop_pending(const char *path)
{
	size_t i;

	for (i = 0; i < MAX_PENDING; i++)
		if (pending[i] == path)
			pending[i] = NULL;
}

/*
 * Open the output: stdout, or a temporary file beside -o renamed over it
 * at the end (main_output: the program's own, not a child's).
 */
static void open_output(struct tab *t, int main_output)
{
	struct aperr e;
	int fd = 1;

	strbuf_init(&t->tmp_path, 0);
	if (t->objects) {
		/* an unnamed file: nothing of a failed run is left anywhere */
		const char *dir = getenv("TMPDIR");

		tool_hold_secrets();
		secrets_init(&t->sec);
		if (s3_url_parse(t->output, &t->bucket, &t->key, &e) < 0 ||
		    s3_open(&t->s3, &t->s3o, &t->sec, &e) < 0)
			die_err(&e);
		if (!*t->key)
			die(EX_USAGE, "%s: no object key (s3://bucket/key)", t->output);
		strbuf_addf(&t->tmp_path, "%s/tabulate.XXXXXX", dir && *dir ? dir : "/tmp");
		if ((fd = mkstemp(t->tmp_path.buf)) < 0)
			die(EX_CANTCREAT, "%s: %s", t->tmp_path.buf, strerror(errno));
		unlink(t->tmp_path.buf);
	} else if (t->output) {
		fd = statefile_begin(t->output, &t->tmp_path, 0, &e);
		if (fd < 0)
			die_err(&e);
		hold_pending(t->tmp_path.buf);
	}
	if (lwriter_init(&t->out, fd, t->output ? t->output : "stdout", 0, &e) < 0)
		die_err(&e);
	if (!main_output)
		return;
	tool_set_output(&t->out);
}

/*
 * -o s3://: the finished file is stored as the object (a multipart upload
 * when large, completed only once every part is stored, else aborted).
 */
static void store_object(struct tab *t)
{
	struct aperr e;
	struct stat st;

	if (lwriter_flush(&t->out, &e) < 0)
		die_err(&e);
	if (fstat(t->out.fd, &st) < 0)
		die(EX_IOERR, "%s: %s", t->tmp_path.buf, strerror(errno));
	if (s3_put_file(&t->s3, t->bucket, t->key, t->out.fd, (uint64_t)st.st_size,
			t->parquet ? "application/vnd.apache.parquet" : "text/csv", &e) < 0)
		die_err(&e);
	s3_close(&t->s3);
	secrets_release(&t->sec);
	free(t->bucket);
	free(t->key);
	close(t->out.fd);
	if (t->kid_ptr.text == NULL)
		tool_set_output(NULL);
	lwriter_release(&t->out);
}

static void start_table(struct tab *t)
{
	struct parquet_column *pc;
	struct aperr e;
	size_t i;

	if (!t->ncols)
		die(EX_DATAERR, "no columns: the first records have no members (give --column)");
	if (t->parquet) {
		pc = calloc(t->ncols, sizeof(*pc));
		if (!pc)
			die(EX_OSERR, "out of memory");
		for (i = 0; i < t->ncols; i++)
			pc[i] = tab_pq_column(&t->cols[i]);
		t->pq = parquet_new(&t->out, pc, t->ncols, (size_t)t->group_rows, t->codec, &e);
		free(pc);
		if (!t->pq)
			die_err(&e);
		return;
	}
	strbuf_reset(&t->row);
	for (i = 0; i < t->ncols; i++) {
		if (i)
			strbuf_addch(&t->row, ',');
		tab_csv_field(&t->row, t->cols[i].c.name, strlen(t->cols[i].c.name));
	}
	strbuf_add(&t->row, "\r\n", 2);
	if (strbuf_failed(&t->row))
		die(EX_OSERR, "out of memory");
	tool_check_write(lwriter_write(&t->out, t->row.buf, t->row.len, &e), &e);
}

/* A record that cannot be a row: to the dead letter, or the run stops. */
static void reject(struct tab *t, uint64_t lineno, const char *line, size_t n, int is_json,
		   const char *instance, const char *msg)
{
	struct aperr e;

	if (!t->dl_path) {
		if (instance)
			die(EX_DATAERR, "line %llu: %s: %s", (unsigned long long)lineno, instance, msg);
		die(EX_DATAERR, "line %llu: %s", (unsigned long long)lineno, msg);
	}
	t->dead++;
	if (dl_write(&t->dl, lineno, line, n, is_json, instance, msg, &e) < 0)
		die_err(&e);
}

/* Record d's values for t's columns, in t->vals: 0, or -1 with *inst the pointer at fault. */
static int row_values(struct tab *t, const struct json_doc *d, const char **inst, struct aperr *e)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (tab_value(&t->cols[i], d, &t->vals[i], e) < 0) {
			if (e->code != EX_DATAERR)
				die_err(e);
			*inst = t->cols[i].c.ptr.text;
			return -1;
		}
	return 0;
}

/* Write t->vals as a row of t. */
static void row_write(struct tab *t)
{
	struct aperr e;
	size_t i;

	if (t->parquet) {
		for (i = 0; i < t->ncols; i++)
			if (tab_put_parquet(t->pq, i, &t->cols[i], &t->vals[i], &e) < 0)
				die_err(&e);
		if (parquet_end_row(t->pq, &e) < 0)
			die_err(&e);
	} else {
		strbuf_reset(&t->row);
		for (i = 0; i < t->ncols; i++) {
			if (i)
				strbuf_addch(&t->row, ',');
			tab_put_csv(&t->row, &t->cols[i], &t->vals[i]);
		}
		strbuf_add(&t->row, "\r\n", 2);
		if (strbuf_failed(&t->row))
			die(EX_OSERR, "out of memory");
		tool_check_write(lwriter_write(&t->out, t->row.buf, t->row.len, &e), &e);
	}
	t->rows++;
}

/*
 * The document of child k's row for element el (number i) of parent
 * record d: {"parent_KEY":…, "position":i, then the element's members,
 * or "value":element when it is no object}, parsed in k->kd.  0, or -1
 * with *inst the pointer at fault (a missing key).
 */
static int kid_row(struct tab *t, struct tab *k, const struct json_doc *d, uint32_t el, size_t i,
		   const char **inst, struct aperr *e)
{
	size_t j;

	strbuf_reset(&k->synth);
	strbuf_addch(&k->synth, '{');
	for (j = 0; j < t->nkeys; j++) {
		uint32_t kt = json_ptr_eval(&t->keys[j].ptr, d, 0);

		if (kt == JSON_ABSENT || json_type(d, kt) == JSON_NULL) {
			*inst = t->keys[j].ptr.text;
			return aperr_set(e, EX_DATAERR, "the record has no key here (--key)");
		}
		strbuf_addstr(&k->synth, "\"parent_");
		strbuf_addstr(&k->synth, t->keys[j].name);	/* a name of a pointer's tokens */
		strbuf_addstr(&k->synth, "\":");
		strbuf_add(&k->synth, json_src(d, kt), json_srclen(d, kt));
		strbuf_addch(&k->synth, ',');
	}
	strbuf_addf(&k->synth, "\"position\":%zu", i);
	if (json_type(d, el) == JSON_OBJECT) {
		const char *src = json_src(d, el) + 1;
		size_t n = json_srclen(d, el) - 2;

		while (n && strchr(" \t\r\n", *src)) {
			src++;
			n--;
		}
		if (n) {
			strbuf_addch(&k->synth, ',');
			strbuf_add(&k->synth, src, n);
		}
	} else {
		strbuf_addstr(&k->synth, ",\"value\":");
		strbuf_add(&k->synth, json_src(d, el), json_srclen(d, el));
	}
	strbuf_addch(&k->synth, '}');
	if (strbuf_failed(&k->synth))
		die(EX_OSERR, "out of memory");
	if (json_parse(&k->kd, k->synth.buf, k->synth.len, NULL) < 0)
		die(EX_SOFTWARE, "a child row that is no JSON");
	return 0;
}

/* The array of child k in record d: its token, 0 for none (absent or null), -1 (e) for another type. */
static int64_t kid_array(const struct tab *k, const struct json_doc *d, struct aperr *e)
{
	uint32_t a = json_ptr_eval(&k->kid_ptr, d, 0);

	if (a == JSON_ABSENT || json_type(d, a) == JSON_NULL)
		return 0;
	if (json_type(d, a) != JSON_ARRAY)
		return aperr_set(e, EX_DATAERR, "%s %s where --child %s wants an array",
				 json_type(d, a) == JSON_OBJECT ? "an" : "a",
				 json_type_name(json_type(d, a)), k->output);
	return a;
}

/*
 * Record d's children: with write, written; else checked, every value
 * converted, so that a record and its children are whole rows or a dead
 * letter together.  0, or -1 with where (reset first) the pointer at fault.
 */
static int kids(struct tab *t, const struct json_doc *d, int write, struct strbuf *where,
		struct aperr *e)
{
	size_t c;

	for (c = 0; c < t->nkids; c++) {
		struct tab *k = &t->kids[c];
		int64_t a = kid_array(k, d, e);
		const char *inst = NULL;
		uint32_t el;
		size_t i = 0;

		if (a < 0) {
			strbuf_reset(where);
			strbuf_addstr(where, k->kid_ptr.text);
			return -1;
		}
		for (el = a ? json_first(d, (uint32_t)a) : 0; el; el = json_next(d, (uint32_t)a, el), i++) {
			strbuf_reset(where);
			if (kid_row(t, k, d, el, i, &inst, e) < 0) {
				strbuf_addstr(where, inst);	/* the parent's key */
				return -1;
			}
			if (row_values(k, &k->kd, &inst, e) < 0) {
				/* the element's member, or the element */
				strbuf_addf(where, "%s/%zu", k->kid_ptr.text, i);
				if (strncmp(inst, "/parent_", 8) && strcmp(inst, "/position"))
					strbuf_addstr(where, inst);
				return -1;
			}
			if (write)
				row_write(k);
		}
	}
	return 0;
}

/* Child k's inference: the rows of record d's array (the first of them, to --infer). */
static void kids_infer(struct tab *t, const struct json_doc *d)
{
	struct aperr e;
	size_t c;

	for (c = 0; c < t->nkids; c++) {
		struct tab *k = &t->kids[c];
		int64_t a = kid_array(k, d, &e);
		const char *inst;
		uint32_t el;
		size_t i = 0;

		if (a <= 0)
			continue;	/* a bad one is told when its record is written */
		for (el = json_first(d, (uint32_t)a); el && k->kinferred < k->infer;
		     el = json_next(d, (uint32_t)a, el), i++, k->kinferred++)
			if (kid_row(t, k, d, el, i, &inst, &e) == 0 &&
			    tab_infer_add(k->kinf, k->cols, k->ncols, &k->kd, &e) < 0)
				die_err(&e);
	}
}

static void one(struct tab *t, struct json_doc *d, struct json_error *je, const char *line,
		size_t n, uint64_t lineno)
{
	struct strbuf where = STRBUF_INIT;
	const char *inst = NULL;
	struct aperr e;

	if (tool_parse_line(d, je, NULL, line, n, lineno, &e) < 0)
		reject(t, lineno, line, n, 0, je->pointer.len ? je->pointer.buf : NULL, e.msg);
	else if (json_type(d, 0) != JSON_OBJECT && t->from_data)
		reject(t, lineno, line, n, 1, NULL, "not an object: no columns to put it in");
	else if (row_values(t, d, &inst, &e) < 0)
		reject(t, lineno, line, n, 1, inst, e.msg);
	else if (t->nkids && kids(t, d, 0, &where, &e) < 0)
		reject(t, lineno, line, n, 1, where.buf, e.msg);
	else {
		/* every value of the record and its children fits: now they are written */
		row_write(t);
		if (t->nkids && kids(t, d, 1, &where, &e) < 0)
			die_err(&e);
	}
	strbuf_release(&where);
}

/* Child k's columns, fixed by its inference (the links alone when no element came), and its file begun. */
static void start_kid(struct tab *t, struct tab *k)
{
	struct aperr e;
	size_t j;

	if (tab_infer_finish(k->kinf, &k->cols, &k->ncols, 1, &e) < 0)
		die_err(&e);
	if (!k->ncols) {
		struct strbuf spec = STRBUF_INIT;

		for (j = 0; j <= t->nkeys; j++) {
			k->cols = realloc(k->cols, (k->ncols + 1) * sizeof(*k->cols));
			if (!k->cols)
				die(EX_OSERR, "out of memory");
			memset(&k->cols[k->ncols], 0, sizeof(*k->cols));
			strbuf_reset(&spec);
			if (j < t->nkeys)
				strbuf_addf(&spec, "parent_%s=/parent_%s:text", t->keys[j].name,
					    t->keys[j].name);
			else
				strbuf_addstr(&spec, "position=/position:integer");
			if (db_column_parse(&k->cols[k->ncols].c, spec.buf, 1, &e) < 0)
				die_err(&e);
			k->ncols++;
		}
		strbuf_release(&spec);
	}
	if (!(k->vals = calloc(k->ncols, sizeof(*k->vals))))
		die(EX_OSERR, "out of memory");
	for (j = 0; j < k->ncols; j++)
		db_value_init(&k->vals[j].v);
	start_table(k);
}

/* Table t is complete: its file put in place (or its object stored), or standard output flushed. */
static void finish_table(struct tab *t)
{
	struct aperr e;

	if (t->pq && parquet_finish(t->pq, &e) < 0)
		die_err(&e);
	if (t->objects) {
		store_object(t);
	} else if (t->output) {
		if (lwriter_flush(&t->out, &e) < 0 ||
		    statefile_commit(t->out.fd, t->tmp_path.buf, t->output, &e) < 0)
			die_err(&e);
		drop_pending(t->tmp_path.buf);
		if (!t->kid_ptr.text)
			tool_set_output(NULL);
		lwriter_release(&t->out);
	} else {
		tool_finish(&t->out);
	}
}

static void release_table(struct tab *t)
{
	size_t i;

	parquet_free(t->pq);
	for (i = 0; i < t->ncols; i++)
		db_value_release(&t->vals[i].v);
	free(t->vals);
	tab_cols_release(t->cols, t->ncols);
	strbuf_release(&t->row);
	strbuf_release(&t->tmp_path);
}

static void write_stats(struct tab *t)
{
	struct tool_stats st;

	tool_stats_begin(&st, "tabulate");
	jw_member_u64(&st.w, "rows", t->rows);
	if (t->nkids) {
		size_t i;

		jw_key(&st.w, "child_rows");
		jw_object(&st.w);
		for (i = 0; i < t->nkids; i++)
			jw_member_u64(&st.w, t->kids[i].output, t->kids[i].rows);
		jw_end_object(&st.w);
	}
	jw_member_u64(&st.w, "dead_lettered", t->dead);
	jw_member_u64(&st.w, "state_lines", t->states);
	jw_member_u64(&st.w, "columns", t->ncols);
	jw_member_u64(&st.w, "row_groups", t->pq ? parquet_row_groups(t->pq) : 0);
	jw_member_u64(&st.w, "bytes", t->out.bytes);
	tool_stats_end(&st, t->common.stats);
}

int cmd_tabulate(int argc, char **argv)
{
	struct tab t;
	struct lreader in;
	struct json_doc d;
	struct json_error je;
	struct lines h;
	struct tab_infer *inf;
	struct aperr e;
	const char *line;
	size_t n, i;
	int r;

	tool_set_options(options, s3_cli_options, NULL);
	memset(&t, 0, sizeof(t));
	memset(&h, 0, sizeof(h));
	cli_common_init(&t.common);
	t.parquet = -1;
	t.infer = 1000;
	t.codec = PQ_GZIP;
	parse_args(&t, argc, argv);
	if (t.schema)
		load_schema(&t);
	t.from_data = !t.ncols;
	if (t.dl_path && dl_open(&t.dl, t.dl_path, &e) < 0)
		die_err(&e);
	strbuf_init(&t.row, 0);
	if (lreader_init(&in, 0, "stdin", t.common.max_line, &e) < 0)
		die_err(&e);
	json_doc_init(&d, t.common.max_depth);
	json_error_init(&je);
	open_output(&t, 1);
	for (i = 0; i < t.nkids; i++) {
		struct tab *k = &t.kids[i];

		strbuf_init(&k->row, 0);
		strbuf_init(&k->synth, 0);
		json_doc_init(&k->kd, t.common.max_depth);
		if (!(k->kinf = tab_infer_new()))
			die(EX_OSERR, "out of memory");
		open_output(k, 0);
	}
	/* the first records fix what the columns left open: hold them, then write them */
	if (!(inf = tab_infer_new()))
		die(EX_OSERR, "out of memory");
	while (h.n < t.infer && (r = lreader_next(&in, &line, &n, &e)) > 0) {
		if (jsonl_is_state(line, n)) {
			t.states++;
			continue;
		}
		tool_refuse_lost_state(line, n, in.lineno);
		if (lines_hold(&h, line, n, in.lineno, &e) < 0)
			die_err(&e);
		if (json_parse(&d, line, n, NULL) == 0) {
			if (tab_infer_add(inf, t.cols, t.ncols, &d, &e) < 0)
				die_err(&e);
			kids_infer(&t, &d);	/* (the children's rows go to their own documents) */
		}
	}
	if (tab_infer_finish(inf, &t.cols, &t.ncols, t.from_data, &e) < 0)
		die_err(&e);
	tab_infer_free(inf);
	if (!(t.vals = calloc(t.ncols ? t.ncols : 1, sizeof(*t.vals))))
		die(EX_OSERR, "out of memory");
	for (i = 0; i < t.ncols; i++)
		db_value_init(&t.vals[i].v);
	start_table(&t);
	for (i = 0; i < t.nkids; i++)
		start_kid(&t, &t.kids[i]);
	for (i = 0; i < h.n; i++) {
		uint64_t no;
		const char *l = lines_get(&h, i, &n, &no);

		one(&t, &d, &je, l, n, no);
	}
	lines_release(&h);
	while ((r = lreader_next(&in, &line, &n, &e)) > 0) {
		if (jsonl_is_state(line, n))
			t.states++;	/* a file is written whole or not at all: no progress to keep */
		else {
			tool_refuse_lost_state(line, n, in.lineno);
			one(&t, &d, &je, line, n, in.lineno);
		}
	}
	if (r < 0)
		die_err(&e);
	/* every file is whole: the children's are put in place, then the records' */
	for (i = 0; i < t.nkids; i++)
		finish_table(&t.kids[i]);
	finish_table(&t);
	if (dl_close(&t.dl, &e) < 0)
		die_err(&e);
	if (t.common.stats)
		write_stats(&t);
	if (t.common.verbose)
		warnmsg("%llu rows, %llu dead-lettered", (unsigned long long)t.rows,
			(unsigned long long)t.dead);
	for (i = 0; i < t.nkids; i++) {
		struct tab *k = &t.kids[i];

		release_table(k);
		json_ptr_release(&k->kid_ptr);
		json_doc_release(&k->kd);
		strbuf_release(&k->synth);
		tab_infer_free(k->kinf);
	}
	free(t.kids);
	for (i = 0; i < t.nkeys; i++) {
		json_ptr_release(&t.keys[i].ptr);
		free(t.keys[i].name);
	}
	free(t.keys);
	release_table(&t);
	json_doc_release(&d);
	json_error_release(&je);
	lreader_release(&in);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("tabulate");
	return cmd_tabulate(argc, argv);
}
