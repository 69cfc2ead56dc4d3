/*
 * store-raw: pass envelopes through unchanged while archiving them as gzip
 * segments plus a manifest; --replay reads an archive back, --list shows it.
 *
 * Archiving: the main thread reads, writes each line to stdout, checks it
 * and gathers it into 1 MiB chunks; worker threads compress the chunks as
 * independent gzip members (so both cores work, and zcat still reads the
 * segment as one stream); a writer thread appends them in order to the
 * segment's temporary file and, at the segment's end, makes it durable and
 * lists it.  The chunk ring is bounded, so a slow disk slows the pipeline
 * down instead of growing memory.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/redact.h"
#include "../lib/secret.h"
#include "common.h"
#include "../lib/archive.h"
#include "../lib/archreplay.h"
#include "../lib/archs3.h"
#include "../lib/archwriter.h"
#include "../lib/hash.h"
#include "../lib/json.h"
#include "../lib/num.h"
#include "../lib/statefile.h"

static const char usage_text[] =
	"usage: store-raw [-hqv] [--append] [--redact] [--segment-size size]\n"
	"                 [--segment-lines n] [--level 1-9] [--threads n] [--stats file]\n"
	"                 [--max-line size] [--max-depth n] [s3-options] dir | s3://bucket/prefix\n"
	"       store-raw --replay [-qv] [--endpoint prefix] [--since time] [--until time]\n"
	"                 [--latest] [--verify | --no-verify] [--keep-going] [s3-options]\n"
	"                 dir | s3://bucket/prefix\n"
	"       store-raw --list [--json] [s3-options] dir | s3://bucket/prefix\n"
	"s3-options: [--aws-access-key-id ref] [--aws-secret-access-key ref]\n"
	"            [--aws-session-token ref] [--aws-region region] [--s3-endpoint url]\n";

enum {
	OPT_APPEND = CLI_OPT_FIRST_TOOL, OPT_REDACT, OPT_SEGMENT_SIZE, OPT_SEGMENT_LINES,
	OPT_LEVEL, OPT_THREADS, OPT_REPLAY, OPT_LIST, OPT_JSON, OPT_ENDPOINT, OPT_SINCE,
	OPT_UNTIL, OPT_LATEST, OPT_VERIFY, OPT_NO_VERIFY, OPT_KEEP_GOING
};

static const struct cli_opt options[] = {
	{ "append", 0, no_argument, OPT_APPEND, NULL, "Archive", "add to an existing archive" },
	{ "redact", 0, no_argument, OPT_REDACT, NULL, "Archive", "mask credentials in what is archived" },
	{ "segment-size", 0, required_argument, OPT_SEGMENT_SIZE, "size", "Archive", "start a new segment at this size" },
	{ "segment-lines", 0, required_argument, OPT_SEGMENT_LINES, "n", "Archive", "start a new segment after n lines" },
	{ "level", 0, required_argument, OPT_LEVEL, "1-9", "Archive", "gzip level" },
	{ "threads", 0, required_argument, OPT_THREADS, "n", "Archive", "compression threads" },
	{ "replay", 0, no_argument, OPT_REPLAY, NULL, "Replay", "write the archived lines back, in order" },
	{ "endpoint", 0, required_argument, OPT_ENDPOINT, "prefix", "Replay", "only URLs that start with prefix" },
	{ "since", 0, required_argument, OPT_SINCE, "time", "Replay", "only lines fetched at or after time" },
	{ "until", 0, required_argument, OPT_UNTIL, "time", "Replay", "only lines fetched before time" },
	{ "latest", 0, no_argument, OPT_LATEST, NULL, "Replay", "only the latest response of each page" },
	{ "verify", 0, no_argument, OPT_VERIFY, NULL, "Replay", "check each segment's checksum (the default)" },
	{ "no-verify", 0, no_argument, OPT_NO_VERIFY, NULL, "Replay", "do not" },
	{ "keep-going", 0, no_argument, OPT_KEEP_GOING, NULL, "Replay", "skip a damaged segment instead of stopping" },
	{ "list", 0, no_argument, OPT_LIST, NULL, "List", "list the segments" },
	{ "json", 0, no_argument, OPT_JSON, NULL, "List", "as JSON Lines" },
	CLI_OPT_END
};

struct store_run {
	struct cli_common common;
	const char *dir;
	int append, redact, replay, list, json, keep_going;
	int verify_named;		/* --verify or --no-verify given: they go with --replay */
	uint64_t segment_size, segment_lines;
	int level;
	unsigned threads;
	struct archive_replay rp;	/* --replay's filters */
	struct s3_opts s3o;		/* an archive in object storage: */
	int objects;			/* dir is an s3:// URL */
	struct secrets secrets;
	struct s3 s3;
	struct archive_s3 as3;
};

/* --- archiving -------------------------------------------------------------------- */

/* Claim the archive directory for this run: its lock's descriptor; *seq the last segment. */
static int open_archive(struct store_run *s, uint64_t *seq)
{
	struct strbuf report = STRBUF_INIT;
	struct aperr e;
	char *l, *save = NULL;
	int lockfd = -1;

	/* object storage has no lock: a second writer's segments are listed beside ours */
	if (s->objects) {
		if (archive_s3_claim(&s->as3, s->append, seq, &report, &e) < 0)
			die_err(&e);
	} else if ((lockfd = archive_claim(s->dir, s->append, s->level, seq, &report, &e)) < 0) {
		die_err(&e);
	}
	for (l = report.len ? strtok_r(report.buf, "\n", &save) : NULL; l && !s->common.quiet;
	     l = strtok_r(NULL, "\n", &save))
		warnmsg("%s: recovered: %s", s->dir, l);
	strbuf_release(&report);
	return lockfd;
}

static void archive_stats(const struct store_run *s, uint64_t lines, uint64_t bytes,
			  const struct archive_pool *p, uint64_t redacted)
{
	struct tool_stats st;

	tool_stats_begin(&st, NULL);
	jw_member_u64(&st.w, "lines", lines);
	jw_member_u64(&st.w, "bytes", bytes);
	jw_member_u64(&st.w, "segments", p->segments);
	jw_member_u64(&st.w, "compressed_bytes", p->compressed);
	jw_member_u64(&st.w, "redacted", redacted);
	tool_stats_end(&st, s->common.stats);
}

/* Stop archiving: what the archive holds durably is passed on, then the run dies with e. */
static void wind_down(struct archive_writer *w, struct lwriter *out, const struct aperr *e)
	__attribute__((noreturn));
static void wind_down(struct archive_writer *w, struct lwriter *out, const struct aperr *e)
{
	struct aperr fe;

	archive_writer_finish(w, out, &fe);
	tool_finish(out);
	die_err(e);
}

/*
 * The text of envelope line (parsed in d) to archive: the line itself, or
 * with --redact red's copy with the credentials it carries masked.  Without
 * --redact such an envelope stops the run (*stop, with the reason in e).
 */
static const char *archived_text(struct store_run *s, struct json_doc *d, struct json_error *je,
				 const char *line, size_t *n, uint64_t lineno, struct strbuf *red,
				 uint64_t *redacted, struct aperr *e)
{
	struct strbuf where = STRBUF_INIT;
	long nr;

	strbuf_reset(red);
	nr = redact_envelope(d, line, *n, red, &where);
	if (nr < 0)
		die(EX_OSERR, "out of memory");
	if (nr && !s->redact) {
		aperr_set(e, EX_DATAERR, "line %llu: %s: the envelope still carries a credential; "
			  "store-raw does not archive secrets (redact them upstream, or pass --redact)",
			  (unsigned long long)lineno, where.buf);
		strbuf_release(&where);
		return NULL;
	}
	if (nr) {
		if (!(*redacted)++ && !s->common.quiet)
			warnmsg("line %llu: %s: a credential in an envelope; archived as %s",
				(unsigned long long)lineno, where.buf, SECRET_MASK);
		json_parse(d, red->buf, red->len, je);
		*n = red->len;
		line = red->buf;
	}
	strbuf_release(&where);
	return line;
}

static void archive(struct store_run *s)
{
	struct lreader in;
	struct lwriter out;
	struct json_doc d;
	struct json_error je;
	struct archive_writer w;
	struct aperr e;
	struct strbuf red = STRBUF_INIT;
	const char *line;
	size_t n;
	uint64_t seq, redacted = 0, lines = 0;
	int lockfd, r;

	tool_filter_init(&s->common, &in, &out, &d, &je);
	in.on_idle = NULL;	/* a line goes on once archived: the writer's own idle rule */
	lockfd = open_archive(s, &seq);
	w.segment_size = s->segment_size;
	w.segment_lines = s->segment_lines;
	w.s3 = s->objects ? &s->as3 : NULL;
	if (archive_writer_start(&w, s->dir, s->level, s->threads, seq, &e) < 0)
		die_err(&e);
	while ((r = lreader_next(&in, &line, &n, &e)) == 1) {
		if (jsonl_is_state(line, n)) {
			/* in-band state: not archived, passed on after the pages before it */
			r = archive_writer_hold(&w, line, n, &e);
		} else {
			int parsed = json_parse(&d, line, n, &je) == 0;
			const char *arch = line;
			size_t an = n;

			lines++;
			if (parsed && !(arch = archived_text(s, &d, &je, line, &an, in.lineno, &red,
							     &redacted, &e)))
				wind_down(&w, &out, &e);	/* what came before goes on */
			r = archive_writer_add(&w, line, n, arch, an, parsed ? &d : NULL, &e);
		}
		if (r == 0)
			r = archive_writer_pass(&w, &out, w.held.len > ARCHIVE_HELD_MAX ||
							   lreader_idle(&in), &e);
		if (r < 0 && out.failed)
			tool_check_write(r, &e);
		if (r < 0)
			die_err(&e);
		if (w.gone || archive_pool_failed(&w.pool, &e))
			break;
	}
	if (r < 0)
		wind_down(&w, &out, &e);
	r = archive_writer_finish(&w, &out, &e);
	if (r < 0 && out.failed)
		tool_check_write(r, &e);
	if (r < 0) {
		tool_finish(&out);
		die(EX_IOERR, "%s: %s; the manifest lists only complete segments, and no line "
		    "passed on is lost: run again with --append to list what was kept",
		    s->dir, e.msg);
	}
	if (s->common.stats)
		archive_stats(s, lines, in.bytes, &w.pool, redacted);
	tool_finish(&out);
	archive_writer_release(&w);
	if (lockfd >= 0)
		statefile_unlock(lockfd);
	lreader_release(&in);
	json_doc_release(&d);
	json_error_release(&je);
	strbuf_release(&red);
}

/* --- replay ------------------------------------------------------------------------ */

struct replay {
	struct lwriter out;
	int keep_going, exit_code;
};

static int replay_emit(void *ctx, const char *line, size_t n, struct aperr *e)
{
	return lwriter_line(&((struct replay *)ctx)->out, line, n, e);
}

/* A segment that cannot be read: the run stops, or with --keep-going says so and goes on. */
static int replay_fail(void *ctx, const struct aperr *e)
{
	struct replay *rp = ctx;

	if (!rp->keep_going)
		return -1;
	warnmsg("%s (skipped: --keep-going)", e->msg);
	if (!rp->exit_code)
		rp->exit_code = e->code;
	return 0;
}

static int replay(struct store_run *s)
{
	struct archive_replay *ar = &s->rp;
	struct replay rp;
	struct aperr e;
	int r;

	memset(&rp, 0, sizeof(rp));
	rp.keep_going = s->keep_going;
	ar->dir = s->dir;
	ar->s3 = s->objects ? &s->as3 : NULL;
	ar->max_line = s->common.max_line;
	ar->max_depth = s->common.max_depth;
	ar->ctx = &rp;
	ar->emit = replay_emit;
	ar->fail = replay_fail;
	if (archive_replay_open(ar, &e) < 0)
		die_err(&e);
	if (ar->m.torn) {
		aperr_set(&e, EX_DATAERR, "%s/%s: line %llu is incomplete (a crash while listing?); "
			  "store-raw --append %s repairs it", s->dir, ARCHIVE_MANIFEST,
			  (unsigned long long)ar->m.torn_lineno, s->dir);
		if (replay_fail(&rp, &e) < 0)
			die_err(&e);
	}
	if (lwriter_init(&rp.out, 1, "stdout", 0, &e) < 0)
		die_err(&e);
	tool_set_output(&rp.out);
	r = archive_replay_run(ar, &e);
	if (r == -1 && !rp.out.failed) {
		tool_finish(&rp.out);
		die_err(&e);
	}
	tool_check_write(r, &e);
	if (s->common.stats) {
		struct tool_stats ts;

		tool_stats_begin(&ts, NULL);
		jw_member_u64(&ts.w, "segments", ar->m.n);
		jw_member_u64(&ts.w, "lines", ar->lines);
		jw_member_u64(&ts.w, "emitted", ar->emitted);
		tool_stats_end(&ts, s->common.stats);
	}
	tool_finish(&rp.out);
	archive_replay_release(ar);
	return rp.exit_code;
}

/* --- list --------------------------------------------------------------------------- */

static int list(struct store_run *s)
{
	struct archive_manifest m;
	struct aperr e;
	struct lwriter out;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if ((s->objects ? archive_s3_manifest(&s->as3, &m, NULL, &e) :
	     archive_manifest_read(s->dir, &m, &e)) < 0)
		die_err(&e);
	if (lwriter_init(&out, 1, "stdout", 0, &e) < 0)
		die_err(&e);
	tool_set_output(&out);
	for (i = 0; i < m.n && s->json; i++)
		strbuf_addf(&sb, "%s\n", m.e[i].line);
	if (!s->json)
		archive_list_text(&m, &sb);
	if (strbuf_failed(&sb))
		die(EX_OSERR, "out of memory");
	tool_check_write(lwriter_write(&out, sb.buf, sb.len, &e), &e);
	tool_finish(&out);
	strbuf_release(&sb);
	archive_manifest_release(&m);
	return 0;
}

/* --- main ----------------------------------------------------------------------------- */

/* The archive is in object storage: the store opened, its credentials held as secrets. */
static void open_objects(struct store_run *s)
{
	struct aperr e;

	tool_hold_secrets();
	secrets_init(&s->secrets);
	if (s3_open(&s->s3, &s->s3o, &s->secrets, &e) < 0 ||
	    archive_s3_init(&s->as3, &s->s3, s->dir, &e) < 0)
		die_err(&e);
	s->objects = 1;
}

static void time_opt(const char *arg, const char *opt, struct instant *t)
{
	if (instant_parse(arg, strlen(arg), 0, t) < 0)
		usage_error("%s: '%s' is not an RFC 3339 time", opt, arg);
}

int cmd_store_raw(int argc, char **argv)
{
	struct store_run s;
	struct aperr e;
	uint64_t v;
	int opt, r = 0;
	long nproc;

	tool_set_options(options, s3_cli_options, NULL);
	memset(&s, 0, sizeof(s));
	cli_common_init(&s.common);
	s.segment_size = (uint64_t)64 << 20;
	s.level = 6;
	archive_replay_init(&s.rp);
	s.rp.verify = 1;
	nproc = sysconf(_SC_NPROCESSORS_ONLN);
	s.threads = nproc < 1 ? 1 : nproc > 4 ? 4 : (unsigned)nproc;
	while ((opt = tool_getopt(argc, argv)) != -1) {
		switch (opt) {
		case OPT_APPEND: s.append = 1; break;
		case OPT_REDACT: s.redact = 1; break;
		case OPT_SEGMENT_SIZE:
			if (num_parse_size(optarg, &s.segment_size, "--segment-size", &e) < 0 ||
			    !s.segment_size)
				usage_error("--segment-size: a size such as 64M");
			break;
		case OPT_SEGMENT_LINES:
			if (num_parse_u64(optarg, &s.segment_lines, "--segment-lines", &e) < 0 ||
			    !s.segment_lines)
				usage_error("--segment-lines: a positive number");
			break;
		case OPT_LEVEL:
			if (num_parse_u64(optarg, &v, "--level", &e) < 0 || v < 1 || v > 9)
				usage_error("--level: 1 to 9");
			s.level = (int)v;
			break;
		case OPT_THREADS:
			if (num_parse_u64(optarg, &v, "--threads", &e) < 0 || v < 1 ||
			    v > ARCHIVE_POOL_MAX_WORKERS)
				usage_error("--threads: 1 to %d", ARCHIVE_POOL_MAX_WORKERS);
			s.threads = (unsigned)v;
			break;
		case OPT_REPLAY: s.replay = 1; break;
		case OPT_LIST: s.list = 1; break;
		case OPT_JSON: s.json = 1; break;
		case OPT_ENDPOINT: s.rp.endpoint = optarg; break;
		case OPT_SINCE: time_opt(optarg, "--since", &s.rp.since); s.rp.have_since = 1; break;
		case OPT_UNTIL: time_opt(optarg, "--until", &s.rp.until); s.rp.have_until = 1; break;
		case OPT_LATEST: s.rp.latest = 1; break;
		case OPT_VERIFY: s.rp.verify = 1; s.verify_named = 1; break;
		case OPT_NO_VERIFY: s.rp.verify = 0; s.verify_named = 1; break;
		case OPT_KEEP_GOING: s.keep_going = 1; break;
		default:
			if (!s3_cli_opt(&s.s3o, opt, optarg))
				tool_common_opt(&s.common, opt, optarg);
		}
	}
	tool_common_done(&s.common, usage_text);
	if (argc - optind != 1)
		usage_error("one archive directory (or s3:// URL) is needed");
	s.dir = argv[optind];
	if (s3_is_url(s.dir))
		open_objects(&s);
	else if (s.s3o.key_id || s.s3o.secret || s.s3o.token || s.s3o.region || s.s3o.endpoint)
		usage_error("the --aws- and --s3- options go with an s3:// archive");
	if (s.replay + s.list > 1)
		usage_error("--replay and --list do not go together");
	if (!s.replay && (s.rp.endpoint || s.rp.have_since || s.rp.have_until || s.rp.latest ||
			  s.keep_going || s.verify_named))
		usage_error("--endpoint, --since, --until, --latest, --verify, --no-verify and "
			    "--keep-going go with --replay");
	if (s.replay)
		r = replay(&s);
	else if (s.list)
		r = list(&s);
	else
		archive(&s);
	if (s.objects) {
		archive_s3_release(&s.as3);
		s3_close(&s.s3);
		secrets_release(&s.secrets);
	}
	return r;
}

int main(int argc, char **argv)
{
	tool_init("store-raw");
	return cmd_store_raw(argc, argv);
}
