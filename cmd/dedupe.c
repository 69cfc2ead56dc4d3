/*
 * dedupe: drop records whose key was already seen.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "../lib/deadletter.h"
#include "../lib/dedupe.h"
#include "../lib/fpset.h"
#include "../lib/json.h"
#include "../lib/ordval.h"
#include "../lib/seenfile.h"
#include "../lib/statefile.h"

static const char usage_text[] =
	"usage: dedupe [-hqv] --key pointer [--key pointer ...]\n"
	"              [--latest --order-field pointer] [--seen file [--commit]]\n"
	"              [--missing error | pass | dead-letter:file]\n"
	"              [--lazy] [--stats file] [--max-line size] [--max-depth n]\n";

enum { OPT_KEY = CLI_OPT_FIRST_TOOL, OPT_LATEST, OPT_VERSION, OPT_SEEN, OPT_MISSING, OPT_COMMIT,
       OPT_OLD_VERSION, OPT_LAZY };

static const struct cli_opt options[] = {
	{ "key", 0, required_argument, OPT_KEY, "pointer", "Deduplication", "the record key (repeatable: a composite key)" },
	{ "latest", 0, no_argument, OPT_LATEST, NULL, "Deduplication", "keep the newest version of each key, not the first" },
	{ "order-field", 0, required_argument, OPT_VERSION, "pointer", "Deduplication", "with --latest: the field that orders versions" },
	{ "missing", 0, required_argument, OPT_MISSING, "error|pass|dead-letter:file", "Deduplication", "what a record without its key does" },
	{ "seen", 0, required_argument, OPT_SEEN, "file", "Deduplication", "keys seen by earlier runs" },
	{ "commit", 0, no_argument, OPT_COMMIT, NULL, "Deduplication", "commit what the last run staged in --seen" },
	{ "lazy", 0, no_argument, OPT_LAZY, NULL, "Deduplication", "read each line only as far as its key (a later stage checks it)" },
	{ "version-field", 0, required_argument, OPT_OLD_VERSION, NULL, NULL, NULL },
	CLI_OPT_END
};

enum missing_policy { MISSING_ERROR, MISSING_PASS, MISSING_DEAD_LETTER };

struct dedupe_run {
	struct cli_common common;
	struct json_ptr *keys;
	size_t nkeys;
	int latest;
	struct json_ptr version;
	int have_version;
	const char *seen;
	int commit;			/* --commit: promote the staged seen-set, read nothing */
	struct strbuf staged;		/* "<seen>.staged" */
	struct strbuf state;		/* --latest: the last in-band state line, held */
	enum missing_policy missing;
	const char *dead_letter;
	struct deadletter dl;
	struct lwriter out;
	struct fpset set;
	struct dedupe_latest map;
	uint8_t sipkey[16];
	uint64_t keyspec;
	struct strbuf canon;
	struct strbuf held;		/* the record whose key is being fetched, … */
	struct hash128 held_key;	/* … and its fingerprint */
	int holding;
	struct json_pick pick;		/* the key and version members: the rest is only checked */
	int lazy;			/* --lazy: … or not read */
	struct ordval ver;
	uint64_t lines, written, duplicates, missing_count, seen_loaded;
};

static void parse_missing(struct dedupe_run *r, const char *arg)
{
	if (!strcmp(arg, "error"))
		r->missing = MISSING_ERROR;
	else if (!strcmp(arg, "pass"))
		r->missing = MISSING_PASS;
	else if (!strncmp(arg, "dead-letter:", 12) && arg[12]) {
		r->missing = MISSING_DEAD_LETTER;
		r->dead_letter = arg + 12;
	} else
		usage_error("--missing: '%s' is not error, pass or dead-letter:FILE", arg);
}

/*
 * The record held back while its key's slot is fetched from memory (the
 * next line is parsed meanwhile): pass it on if its key is new.  Every
 * other output (a rejection, a state line, the end) lets it go first, so
 * the order of everything written is the order of the input.
 */
static void release_held(struct dedupe_run *r)
{
	struct aperr e;

	if (!r->holding)
		return;
	r->holding = 0;
	switch (fpset_add(&r->set, r->held_key)) {
	case 1:
		tool_check_write(lwriter_line(&r->out, r->held.buf, r->held.len, &e), &e);
		r->written++;
		break;
	case 0:
		r->duplicates++;
		break;
	default:
		die(EX_OSERR, "out of memory after %llu keys", (unsigned long long)r->set.count);
	}
}

static void hold(struct dedupe_run *r, const char *line, size_t n, struct hash128 h)
{
	fpset_prefetch(&r->set, h);
	release_held(r);
	strbuf_reset(&r->held);
	if (strbuf_add(&r->held, line, n) < 0)
		die(EX_OSERR, "out of memory");
	r->held_key = h;
	r->holding = 1;
}

/* A line that cannot be deduplicated: stop, pass it on, or dead-letter it. */
static void reject(struct dedupe_run *r, uint64_t lineno, const char *line, size_t n,
		   int is_json, const char *instance, const char *msg)
{
	struct aperr e;

	release_held(r);
	r->missing_count++;
	if (is_json && r->missing == MISSING_PASS) {
		tool_check_write(lwriter_line(&r->out, line, n, &e), &e);
		r->written++;
		return;
	}
	if (r->missing != MISSING_DEAD_LETTER) {
		if (is_json && instance)
			die(EX_DATAERR, "line %llu: %s: %s", (unsigned long long)lineno, instance, msg);
		die(EX_DATAERR, "line %llu: %s", (unsigned long long)lineno, msg);
	}
	if (dl_write(&r->dl, lineno, line, n, is_json, instance, msg, &e) < 0)
		die_err(&e);
}

/*
 * Fingerprint the record's key; 0, or -1 after handling a missing key.
 */
static int fingerprint(struct dedupe_run *r, const struct json_doc *d, uint64_t lineno,
		       const char *line, size_t n, struct hash128 *h)
{
	struct aperr e;
	size_t bad;

	if (dedupe_key(r->keys, r->nkeys, d, r->sipkey, &r->canon, h, &bad, &e) == 0)
		return 0;
	if (e.code != EX_DATAERR)
		die(EX_OSERR, "line %llu: out of memory", (unsigned long long)lineno);
	reject(r, lineno, line, n, 1, r->keys[bad].text[0] ? r->keys[bad].text : "", e.msg);
	return -1;
}

static void keep_latest(struct dedupe_run *r, const struct json_doc *d, struct hash128 h,
			const char *line, size_t n, uint64_t lineno)
{
	uint32_t t = json_ptr_eval(&r->version, d, 0);
	struct aperr e;
	int dup;

	if (t == JSON_ABSENT || json_type(d, t) == JSON_NULL) {
		reject(r, lineno, line, n, 1, r->version.text,
		       t == JSON_ABSENT ? "version is missing" : "version is null");
		return;
	}
	if (ordval_set(&r->ver, d, t, ORD_AUTO, &e) < 0 ||
	    dedupe_latest_put(&r->map, h, line, n, &r->ver, &dup, &e) < 0) {
		if (e.code == EX_OSERR)
			die(EX_OSERR, "out of memory at line %llu", (unsigned long long)lineno);
		reject(r, lineno, line, n, 1, r->version.text, e.msg);
		return;
	}
	r->duplicates += (uint64_t)dup;
}

static void flush_latest(struct dedupe_run *r)
{
	struct aperr e;
	size_t i;

	for (i = 0; i < r->map.nent; i++) {
		tool_check_write(lwriter_line(&r->out, r->map.ent[i].rec, r->map.ent[i].len, &e), &e);
		r->written++;
	}
	dedupe_latest_release(&r->map);
}

static void process(struct dedupe_run *r, struct json_doc *d, struct json_error *je,
		    const char *line, size_t n, uint64_t lineno)
{
	struct hash128 h;
	struct aperr e;

	if (tool_parse_line(d, je, &r->pick, line, n, lineno, &e) < 0) {
		reject(r, lineno, line, n, 0, je->pointer.len ? je->pointer.buf : NULL, e.msg);
		return;
	}
	if (fingerprint(r, d, lineno, line, n, &h) < 0)
		return;
	if (r->latest) {
		keep_latest(r, d, h, line, n, lineno);
		return;
	}
	hold(r, line, n, h);
}

static void write_stats(struct dedupe_run *r, const struct lreader *in)
{
	struct tool_stats st;

	tool_stats_begin(&st, "dedupe");
	jw_member_u64(&st.w, "lines", r->lines);
	jw_member_u64(&st.w, "empty_lines", in->empty);
	jw_member_u64(&st.w, "written", r->written);
	jw_member_u64(&st.w, "duplicates", r->duplicates);
	jw_member_u64(&st.w, "missing", r->missing_count);
	jw_member_u64(&st.w, "dead_lettered", r->dl.count);
	jw_member_u64(&st.w, "seen_loaded", r->seen_loaded);
	jw_member_u64(&st.w, "keys", r->latest ? r->map.n : r->set.count);
	jw_member_u64(&st.w, "bytes_in", in->bytes);
	tool_stats_end(&st, r->common.stats);
}

static void parse_args(struct dedupe_run *r, int argc, char **argv)
{
	struct aperr e;
	struct strbuf spec = STRBUF_INIT;
	size_t k;
	int c;

	while ((c = tool_getopt(argc, argv)) != -1) {
		switch (c) {
		case OPT_KEY:
			r->keys = realloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
			if (!r->keys)
				die(EX_OSERR, "out of memory");
			if (json_ptr_parse(&r->keys[r->nkeys], optarg, &e) < 0)
				usage_error("--key: %s", e.msg);
			r->nkeys++;
			break;
		case OPT_LATEST: r->latest = 1; break;
		case OPT_OLD_VERSION: tool_renamed("--version-field", "--order-field");
		case OPT_VERSION:
			if (r->have_version)
				json_ptr_release(&r->version);
			if (json_ptr_parse(&r->version, optarg, &e) < 0)
				usage_error("--order-field: %s", e.msg);
			r->have_version = 1;
			break;
		case OPT_SEEN: r->seen = optarg; break;
		case OPT_COMMIT: r->commit = 1; break;
		case OPT_LAZY: r->lazy = 1; break;
		case OPT_MISSING: parse_missing(r, optarg); break;
		default: tool_common_opt(&r->common, c, optarg);
		}
	}
	tool_common_done(&r->common, usage_text);
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (r->commit && !r->seen)
		usage_error("--commit goes with --seen");
	if (!r->nkeys && !r->commit)
		usage_error("--key is required");
	if (r->latest != r->have_version)
		usage_error("--latest and --order-field go together");
	if (r->latest && r->seen)
		usage_error("--seen keeps the first copy of a key; it cannot be used with --latest");
	for (k = 0; k < r->nkeys; k++) {
		strbuf_addstr(&spec, r->keys[k].text);
		strbuf_addch(&spec, '\0');
	}
	r->keyspec = siphash64((const uint8_t *)"apipe-dedupe-key", spec.buf, spec.len);
	strbuf_release(&spec);
}

/*
 * --seen FILE: lock it and load the keys kept (or, with --commit, promote
 * the staged set and return 1); without it, a fresh hash key.
 */
static int open_seen(struct dedupe_run *r, int *lockfd)
{
	struct aperr e;
	size_t k;

	if (!r->seen) {
		if (hash_random(r->sipkey, sizeof(r->sipkey)) < 0)
			die(EX_OSERR, "cannot get random bytes");
		return 0;
	}
	{
		char *dir = strdup(r->seen), *slash = dir ? strrchr(dir, '/') : NULL;

		if (slash && slash != dir) {
			*slash = '\0';
			if (statefile_mkdirs(dir, &e) < 0)
				die_err(&e);
		}
		free(dir);
	}
	*lockfd = statefile_lock(r->seen, "seen-file", &e);
	if (*lockfd < 0)
		die_err(&e);
	strbuf_addf(&r->staged, "%s.staged", r->seen);
	if (r->commit) {
		/* the pipeline landed what this set was staged for: promote it */
		if (rename(r->staged.buf, r->seen) < 0 && errno != ENOENT)
			die(EX_CANTCREAT, "%s: %s", r->staged.buf, strerror(errno));
		if (statefile_sync_dir(r->seen, &e) < 0)
			die_err(&e);
		statefile_unlock(*lockfd);
		strbuf_release(&r->staged);
		for (k = 0; k < r->nkeys; k++)
			json_ptr_release(&r->keys[k]);
		free(r->keys);
		return 1;
	}
	if (seenfile_load(r->seen, r->keyspec, &r->set, r->sipkey, &e) < 0)
		die_err(&e);
	r->seen_loaded = r->set.count;
	return 0;
}

/* The upstream paused: the record held back and what is buffered go on now. */
static void on_idle(void *ctx)
{
	struct dedupe_run *r = ctx;
	struct aperr e;

	release_held(r);
	(void)lwriter_flush(&r->out, &e);
}

int cmd_dedupe(int argc, char **argv)
{
	struct dedupe_run r;
	struct lreader in;
	struct json_doc d;
	struct json_error je;
	struct aperr e;
	const char *line;
	size_t n, k;
	int rc, lockfd = -1;

	tool_set_options(options, NULL, NULL);
	memset(&r, 0, sizeof(r));
	cli_common_init(&r.common);
	strbuf_init(&r.canon, 0);
	strbuf_init(&r.held, 0);
	strbuf_init(&r.staged, 0);
	strbuf_init(&r.state, 0);
	ordval_init(&r.ver);
	fpset_init(&r.set);
	/* --version is the common option; the field that orders versions is --order-field */
	for (k = 1; k < (size_t)argc; k++) {
		if (!strcmp(argv[k], "--"))
			break;
		if ((!strcmp(argv[k], "--version") && k + 1 < (size_t)argc &&
		     (argv[k + 1][0] == '/' || argv[k + 1][0] == '\0')) ||
		    !strncmp(argv[k], "--version=", 10))
			tool_renamed("--version POINTER", "--order-field POINTER");
	}
	parse_args(&r, argc, argv);
	if (r.dead_letter && dl_open(&r.dl, r.dead_letter, &e) < 0)
		die_err(&e);
	if (open_seen(&r, &lockfd))
		return 0;	/* --commit: done */
	json_pick_init(&r.pick);
	for (k = 0; k < r.nkeys; k++)
		json_pick_add(&r.pick, &r.keys[k]);
	if (r.have_version)
		json_pick_add(&r.pick, &r.version);
	r.pick.lazy = r.lazy;
	tool_filter_init(&r.common, &in, &r.out, &d, &je);
	in.on_idle = on_idle;
	in.idle_ctx = &r;
	while ((rc = lreader_next(&in, &line, &n, &e)) > 0) {
		if (jsonl_is_state(line, n)) {
			/* in-band state: on in order; with --latest after the records it covers */
			if (r.latest) {
				strbuf_reset(&r.state);
				if (strbuf_add(&r.state, line, n) < 0)
					die(EX_OSERR, "out of memory");
			} else {
				release_held(&r);
				tool_check_write(lwriter_line(&r.out, line, n, &e), &e);
			}
			continue;
		}
		r.lines++;
		process(&r, &d, &je, line, n, in.lineno);
	}
	if (rc < 0)
		die_err(&e);
	release_held(&r);
	if (r.latest)
		flush_latest(&r);
	if (r.state.len)
		tool_check_write(lwriter_line(&r.out, r.state.buf, r.state.len, &e), &e);
	tool_finish(&r.out);
	if (dl_close(&r.dl, &e) < 0)
		die_err(&e);
	/*
	 * Staged, not saved: the keys of this run count only once the sink has
	 * landed their records, which `dedupe --seen FILE --commit` says after
	 * the pipeline succeeded; a run killed before that is run again whole.
	 */
	if (r.seen && seenfile_save(r.staged.buf, r.keyspec, &r.set, r.sipkey, &e) < 0)
		die_err(&e);
	statefile_unlock(lockfd);
	if (r.common.stats)
		write_stats(&r, &in);
	if (r.common.verbose)
		warnmsg("%llu lines, %llu written, %llu duplicates dropped",
			(unsigned long long)r.lines, (unsigned long long)r.written,
			(unsigned long long)r.duplicates);
	if (r.dl.count && !r.common.quiet)
		warnmsg("%llu line%s dead-lettered to %s", (unsigned long long)r.dl.count,
			r.dl.count == 1 ? "" : "s", r.dead_letter);
	fpset_release(&r.set);
	for (k = 0; k < r.nkeys; k++)
		json_ptr_release(&r.keys[k]);
	free(r.keys);
	if (r.have_version)
		json_ptr_release(&r.version);
	ordval_release(&r.ver);
	strbuf_release(&r.canon);
	strbuf_release(&r.held);
	strbuf_release(&r.staged);
	strbuf_release(&r.state);
	json_error_release(&je);
	json_doc_release(&d);
	lreader_release(&in);
	return 0;
}

int main(int argc, char **argv)
{
	tool_init("dedupe");
	return cmd_dedupe(argc, argv);
}
