/* lib/archive and lib/db (SQLite): contracts, crash recovery and errors. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../tap.h"
#include "../../lib/archive.h"
#include "../../lib/archpool.h"
#include "../../lib/archreplay.h"
#include "../../lib/archwriter.h"
#include "../../lib/db.h"
#include "../../lib/json.h"
#include "../../lib/statefile.h"
#include "../../lib/upsert.h"

static char dir[] = "/tmp/apipe-t-store-XXXXXX";
static struct json_doc d;
static struct json_error je;

static const char *const lines[] = {
	"{\"url\":\"http://h/a?page=1\",\"status\":200,\"fetched_at\":\"2026-01-01T00:00:00.000Z\",\"body\":[1]}",
	"{\"url\":\"http://h/a?page=2\",\"status\":200,\"fetched_at\":\"2026-01-01T00:00:01.000Z\",\"body\":[]}",
	"{\"url\":\"http://h/b\",\"status\":503,\"fetched_at\":\"2026-01-01T00:00:02.000Z\"}",
};

/* Write the lines as one committed segment named name; 0 or -1. */
static int write_segment(const char *name, size_t from, size_t to, struct aperr *e)
{
	struct archive_meta m;
	struct archive_seg w;
	struct strbuf raw = STRBUF_INIT, gz = STRBUF_INIT;
	size_t i;
	int r;

	archive_meta_init(&m);
	for (i = from; i < to; i++) {
		json_parse(&d, lines[i], strlen(lines[i]), &je);
		archive_meta_add(&m, &d, strlen(lines[i]));
		strbuf_addstr(&raw, lines[i]);
		strbuf_addch(&raw, '\n');
	}
	archive_gz_member(&gz, raw.buf, raw.len, 6);
	r = archive_seg_open(&w, dir, name, e);
	if (r == 0)
		r = archive_seg_write(&w, gz.buf, gz.len, e);
	if (r == 0)
		r = archive_seg_commit(&w, dir, &m, e);
	else
		archive_seg_abort(&w);
	archive_meta_release(&m);
	strbuf_release(&raw);
	strbuf_release(&gz);
	return r;
}

static size_t read_lines(const char *path, struct strbuf *all, int *rc)
{
	struct archive_gzlines g;
	struct aperr e;
	const char *l;
	size_t n, count = 0;

	strbuf_reset(all);
	*rc = archive_gzlines_open(&g, path, 1 << 20, &e);
	if (*rc < 0)
		return 0;
	while ((*rc = archive_gzlines_next(&g, &l, &n, &e)) == 1) {
		strbuf_add(all, l, n);
		strbuf_addch(all, '\n');
		count++;
	}
	archive_gzlines_close(&g);
	return count;
}


/* Submit nseg segments of 3 jobs (the last ending the segment) to a pool in sub; the expected lines in want. */
static int pool_run(const char *sub, unsigned workers, size_t nseg, struct strbuf *want,
		    uint64_t *jobs, struct aperr *e)
{
	struct archive_pool p;
	struct archive_job *j = NULL;
	struct archive_meta m;
	uint64_t next = 0;
	size_t s, k, i;
	int failed;

	if (archive_pool_start(&p, sub, NULL, 6, workers, e) < 0)
		return -1;
	archive_meta_init(&m);
	for (s = 0; s < nseg; s++) {
		for (k = 0; k < 3; k++) {
			j = archive_pool_get(&p, next++);
			if (k == 0) {
				j->seg_start = 1;
				snprintf(j->name, sizeof(j->name), "seg-test-%06zu.jsonl.gz", s + 1);
			}
			for (i = 0; i < 20; i++) {
				char l[64];
				int n = snprintf(l, sizeof(l), "{\"seg\":%zu,\"job\":%zu,\"i\":%zu}\n", s, k, i);

				strbuf_add(&j->in, l, (size_t)n);
				strbuf_add(want, l, (size_t)n);
				json_parse(&d, l, (size_t)n - 1, &je);
				archive_meta_add(&m, &d, (size_t)n - 1);
			}
			if (k < 2) {
				archive_pool_submit(&p, j);
				j = NULL;
			}
		}
		archive_pool_end_segment(&p, &j, &next, &m);
	}
	archive_pool_durable(&p, 1, next - 1);
	*jobs = archive_pool_durable(&p, 0, 0);
	failed = archive_pool_failed(&p, e);
	archive_pool_finish(&p);
	archive_meta_release(&m);
	return failed ? -1 : 0;
}

static void test_pool(void)
{
	struct strbuf sub = STRBUF_INIT, want = STRBUF_INIT, got = STRBUF_INIT, all = STRBUF_INIT;
	struct archive_manifest m;
	struct aperr e;
	uint64_t jobs = 0;
	size_t i, nlines = 0;
	int rc, ordered = 1;

	strbuf_addf(&sub, "%s/pool", dir);
	mkdir(sub.buf, 0700);
	is_int(pool_run(sub.buf, 3, 5, &want, &jobs, &e), 0, "pool: 5 segments of 3 jobs through 3 workers");
	is_int(jobs, 15, "pool: every job is durable once waited for");
	ok(archive_manifest_read(sub.buf, &m, &e) == 0 && m.n == 5, "pool: the manifest lists the 5 segments");
	for (i = 0; i < m.n; i++) {
		strbuf_reset(&got);
		strbuf_addf(&got, "%s/%s", sub.buf, m.e[i].file);
		nlines += read_lines(got.buf, &all, &rc);
		ordered &= m.e[i].lines == 60 && rc == 0;
	}
	is_int(nlines, 5 * 3 * 20, "pool: the segments hold every line");
	ok(ordered, "pool: each segment holds its 60 lines, read back whole");
	/* the segments' lines, in manifest order, are the lines submitted, in order */
	strbuf_reset(&all);
	for (i = 0; i < m.n; i++) {
		struct strbuf one = STRBUF_INIT, path = STRBUF_INIT;

		strbuf_addf(&path, "%s/%s", sub.buf, m.e[i].file);
		read_lines(path.buf, &one, &rc);
		strbuf_add(&all, one.buf, one.len);
		strbuf_release(&one);
		strbuf_release(&path);
	}
	is_mem(all.buf, all.len, want.buf, "pool: jobs compressed in any order are written in order");
	archive_manifest_release(&m);

	strbuf_reset(&sub);
	strbuf_addf(&sub, "%s/absent/pool", dir);
	strbuf_reset(&want);
	ok(pool_run(sub.buf, 2, 2, &want, &jobs, &e) < 0 && e.msg[0], "pool: a directory it cannot write fails the pool, saying why");
	is_int(jobs, 0, "pool: and nothing is durable");
	ok(archive_pool_start(&(struct archive_pool){ 0 }, dir, NULL, 6, 0, &e) < 0 && e.code == EX_USAGE,
	   "pool: zero workers is refused");
	strbuf_release(&sub);
	strbuf_release(&want);
	strbuf_release(&got);
	strbuf_release(&all);
}

static void test_archive(void)
{
	struct archive_manifest m;
	struct aperr e;
	struct strbuf all = STRBUF_INIT, p = STRBUF_INIT, report = STRBUF_INIT;
	char hex[65], name[96];
	int rc;

	archive_segment_name(name, sizeof(name), 7);
	ok(strncmp(name, "seg-", 4) == 0 && strstr(name, "-000007.jsonl.gz") != NULL,
	   "segment names: seg-<time>-<seq>.jsonl.gz");
	is_int(archive_manifest_read(dir, &m, &e), 0, "an archive without a manifest is empty");
	is_int(m.n, 0, "no segments");
	archive_manifest_release(&m);

	is_int(write_segment("seg-20260101T000000Z-000001.jsonl.gz", 0, 3, &e), 0,
	       "write, fsync, rename and list a segment");
	is_int(archive_manifest_read(dir, &m, &e), 0, "the manifest reads back");
	is_int(m.n, 1, "one segment listed");
	is_int(m.max_seq, 1, "its sequence number");
	if (m.n == 1) {
		is_int(m.e[0].lines, 3, "three lines");
		is_int(m.e[0].pages, 3, "three pages");
		ok(m.e[0].have_time, "the time span");
		is_int(m.e[0].nendpoints, 2, "two endpoints (the query dropped)");
		strbuf_addf(&p, "%s/%s", dir, m.e[0].file);
		is_int(archive_sha256_file(p.buf, hex, &e), 0, "hash the file");
		is_str(hex, m.e[0].sha256, "the manifest's sha256 is the file's");
		is_int(read_lines(p.buf, &all, &rc), 3, "every line reads back");
		is_int(rc, 0, "to a clean end");
		ok(all.len == strlen(lines[0]) + strlen(lines[1]) + strlen(lines[2]) + 3 &&
		   !strncmp(all.buf, lines[0], strlen(lines[0])), "byte for byte");
		ok(strstr(m.e[0].line, "\"status\":{\"200\":2,\"503\":1}") ||
		   strstr(m.e[0].line, "\"503\":1"), "status counts in the manifest line");
	}
	archive_manifest_release(&m);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/x.gz", dir);
	{
		struct strbuf gz = STRBUF_INIT;
		int fd = open(p.buf, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		archive_gz_member(&gz, "a\nb\n", 4, 1);
		archive_gz_member(&gz, "c\nd", 3, 1);
		ok(write(fd, gz.buf, gz.len - 4) > 0, "a file of two members, the second's trailer cut");
		close(fd);
		strbuf_release(&gz);
	}
	is_int(read_lines(p.buf, &all, &rc), 3, "the complete lines are read");
	is_mem(all.buf, all.len, "a\nb\nc\n", "and not the unterminated last");
	is_int(rc, -1, "then the truncation is an error, not an end");
	is_int(archive_sha256_file("/nonexistent/x", hex, &e), -1, "hashing a missing file");
	is_int(e.code, EX_NOINPUT, "EX_NOINPUT");

	/* a crash: a torn manifest line, an unlisted complete segment, a leftover .tmp */
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/%s", dir, ARCHIVE_MANIFEST);
	{
		int fd = open(p.buf, O_WRONLY | O_APPEND);

		ok(write(fd, "{\"file\":\"seg-torn", 17) == 17, "tear the manifest's last line");
		close(fd);
	}
	is_int(archive_manifest_read(dir, &m, &e), 0, "a torn last line still reads");
	ok(m.torn && m.n == 1, "reported as torn, the good line kept");
	archive_manifest_release(&m);
	{
		struct strbuf raw = STRBUF_INIT, gz = STRBUF_INIT;
		int fd;

		strbuf_reset(&p);
		strbuf_addf(&p, "%s/seg-20260101T000000Z-000003.jsonl.gz.tmp", dir);
		fd = open(p.buf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		strbuf_addf(&raw, "%s\n%s\n", lines[0], lines[1]);
		archive_gz_member(&gz, raw.buf, raw.len, 6);
		archive_gz_member(&gz, lines[2], 20, 6);
		ok(write(fd, gz.buf, gz.len - 9) > 0, "a leftover segment: two lines and a torn third");
		close(fd);
		strbuf_release(&raw);
		strbuf_release(&gz);
	}
	{
		struct archive_seg w;

		/* complete and renamed, but the crash came before the manifest */
		struct strbuf raw = STRBUF_INIT, gz = STRBUF_INIT;

		strbuf_addf(&raw, "%s\n", lines[2]);
		archive_gz_member(&gz, raw.buf, raw.len, 6);
		archive_seg_open(&w, dir, "seg-20260101T000000Z-000002.jsonl.gz", &e);
		archive_seg_write(&w, gz.buf, gz.len, &e);
		fsync(w.fd);
		close(w.fd);
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/seg-20260101T000000Z-000002.jsonl.gz", dir);
		ok(rename(w.tmp.buf, p.buf) == 0, "an unlisted complete segment");
		strbuf_reset(&w.tmp);
		w.fd = -1;
		archive_seg_abort(&w);
		strbuf_release(&w.path);
		if (w.sha)
			EVP_MD_CTX_free(w.sha);
		strbuf_release(&raw);
		strbuf_release(&gz);
	}
	is_int(archive_recover(dir, 6, &report, &e), 0, "recover");
	ok(strstr(report.buf, "torn") != NULL, "the report names the torn manifest line");
	is_int(archive_manifest_read(dir, &m, &e), 0, "the manifest reads");
	ok(!m.torn, "no longer torn");
	is_int(m.n, 3, "the unlisted segment and the saved leftover are listed");
	{
		size_t i, total = 0;

		for (i = 0; i < m.n; i++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "%s/%s", dir, m.e[i].file);
			total += read_lines(p.buf, &all, &rc);
			ok(rc == 0 && archive_sha256_file(p.buf, hex, &e) == 0 && !strcmp(hex, m.e[i].sha256),
			   "each listed segment is complete and matches its sha256");
		}
		is_int(total, 3 + 1 + 2, "every complete line is kept, the torn one dropped");
	}
	archive_manifest_release(&m);
	strbuf_reset(&report);
	is_int(archive_recover(dir, 6, &report, &e), 0, "recover again");
	is_int(report.len, 0, "has nothing to do");

	strbuf_reset(&p);
	strbuf_addf(&p, "%s/%s", dir, ARCHIVE_MANIFEST);
	{
		int fd = open(p.buf, O_WRONLY | O_TRUNC);

		ok(write(fd, "not json\n{}\n", 12) == 12, "a manifest whose first line is bad");
		close(fd);
	}
	is_int(archive_manifest_read(dir, &m, &e), -1, "is an error");
	is_int(e.code, EX_DATAERR, "EX_DATAERR");
	ok(strstr(e.msg, "line 1") != NULL, "naming the line");
	archive_manifest_release(&m);
	strbuf_release(&all);
	strbuf_release(&p);
	strbuf_release(&report);
}

static int col(struct db_column *c, const char *name, const char *ptr, enum db_type t)
{
	struct aperr e;

	c->name = strdup(name);
	c->type = t;
	return json_ptr_parse(&c->ptr, ptr, &e);
}

/* Does table t of the SQLite file at path have the column name?  (Read with sqlite3 itself.) */
static int has_column(const char *path, const char *name)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int r = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM pragma_table_info('t') WHERE name = ?1", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			r = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return r;
}

static int value_of(struct db_column *c, const char *json, struct db_value *v, struct aperr *e)
{
	json_parse(&d, json, strlen(json), &je);
	return db_value_from_json(c, &d, 0, v, e);
}

/* The writer: lines go on only once archived, in order, state lines in their place. */
static void test_writer(void)
{
	char wdir[] = "/tmp/apipe-t-wrter-XXXXXX", path[300], buf[4096];
	struct archive_writer w;
	struct archive_manifest m;
	struct lwriter out;
	struct strbuf want = STRBUF_INIT;
	struct aperr e;
	const char *state = "\x1e{\"apipe_state\":\"s\",\"value\":1}";
	int fd, r = 0;
	ssize_t got;
	size_t i;

	if (!mkdtemp(wdir))
		return;
	snprintf(path, sizeof(path), "%s/out", wdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	lwriter_init(&out, fd, "out", 0, &e);
	w.segment_size = 1 << 20;
	w.segment_lines = 2;
	w.s3 = NULL;	/* files */
	ok(archive_writer_start(&w, wdir, 6, 2, 0, &e) == 0, "writer: started");
	for (i = 0; i < 3 && !r; i++) {
		json_parse(&d, lines[i], strlen(lines[i]), &je);
		r = archive_writer_add(&w, lines[i], strlen(lines[i]), lines[i], strlen(lines[i]), &d, &e);
		strbuf_addf(&want, "%s\n", lines[i]);
		if (i == 1) {
			r = r ? r : archive_writer_hold(&w, state, strlen(state), &e);
			strbuf_addf(&want, "%s\n", state);
		}
	}
	ok(r == 0 && archive_writer_pass(&w, &out, 0, &e) == 0, "writer: three lines and a state line");
	ok(out.bytes < want.len, "writer: nothing goes on before it is durable");
	ok(archive_writer_pass(&w, &out, 1, &e) == 0 && out.bytes == want.len && w.held.len == 0,
	   "writer: a sync passes everything on");
	ok(archive_writer_finish(&w, &out, &e) == 0, "writer: finished");
	archive_writer_release(&w);
	lwriter_flush(&out, &e);
	lseek(fd, 0, SEEK_SET);
	got = read(fd, buf, sizeof(buf));
	ok(got == (ssize_t)want.len && !memcmp(buf, want.buf, want.len),
	   "writer: downstream gets the lines in order, the state line in its place");
	ok(archive_manifest_read(wdir, &m, &e) == 0 && m.n == 2 && m.e[0].lines == 2 &&
	   m.e[1].lines == 1, "writer: two segments of at most two lines, no state line archived");
	archive_manifest_release(&m);
	{
		struct strbuf report = STRBUF_INIT;
		uint64_t last = 0;
		int lk, lk2;

		ok(archive_claim(wdir, 0, 6, &last, &report, &e) < 0 && e.code == EX_CANTCREAT &&
		   strstr(e.msg, "use --append"), "claim: an archive is not written over (73)");
		lk = archive_claim(wdir, 1, 6, &last, &report, &e);
		ok(lk >= 0 && last == 2 && !report.len, "claim: --append goes on after segment 2");
		lk2 = archive_claim(wdir, 1, 6, &last, &report, &e);
		ok(lk2 < 0 && e.code == EX_TEMPFAIL && strstr(e.msg, "another store-raw"),
		   "claim: one writer at a time (75)");
		statefile_unlock(lk);
		strbuf_release(&report);
	}
	lwriter_release(&out);
	close(fd);
	snprintf(path, sizeof(path), "rm -rf '%s'", wdir);
	ok(system(path) == 0, "writer: its directory is removed");
	strbuf_release(&want);
}

/* Replay: filters, latest, a missing segment stopping or skipped. */
struct emitted {
	struct strbuf out;
	int fails, stop_on_fail;
};

static int emit_line(void *ctx, const char *line, size_t n, struct aperr *e)
{
	struct emitted *em = ctx;

	(void)e;
	strbuf_add(&em->out, line, n);
	strbuf_addch(&em->out, '\n');
	return 0;
}

static int on_fail(void *ctx, const struct aperr *e)
{
	struct emitted *em = ctx;

	(void)e;
	em->fails++;
	return em->stop_on_fail ? -1 : 0;
}

static int replay_into(const char *rdir, struct emitted *em, const char *endpoint, int latest,
		       const char *since, struct aperr *e)
{
	struct archive_replay rp;
	int r;

	archive_replay_init(&rp);
	rp.dir = rdir;
	rp.endpoint = endpoint;
	rp.latest = latest;
	rp.verify = 1;
	if (since) {
		instant_parse(since, strlen(since), 0, &rp.since);
		rp.have_since = 1;
	}
	rp.ctx = em;
	rp.emit = emit_line;
	rp.fail = on_fail;
	strbuf_reset(&em->out);
	em->fails = 0;
	r = archive_replay_open(&rp, e);
	if (r == 0)
		r = archive_replay_run(&rp, e);
	archive_replay_release(&rp);
	return r;
}

static void test_replay(void)
{
	static const char *const newer =
		"{\"url\":\"http://h/a?page=1\",\"status\":200,\"fetched_at\":\"2026-01-02T00:00:00.000Z\",\"body\":[9]}";
	char rdir[] = "/tmp/apipe-t-rplay-XXXXXX", seg[400], was[sizeof(dir)];
	struct emitted em = { STRBUF_INIT, 0, 0 };
	struct strbuf want = STRBUF_INIT;
	struct aperr e;
	size_t i;

	if (!mkdtemp(rdir))
		return;
	memcpy(was, dir, sizeof(dir));
	memcpy(dir, rdir, sizeof(dir));	/* write_segment writes to dir */
	write_segment("seg-20260101T000000Z-000001.jsonl.gz", 0, 3, &e);
	memcpy(dir, was, sizeof(dir));
	{
		struct archive_meta m;
		struct archive_seg w;
		struct strbuf raw = STRBUF_INIT, gz = STRBUF_INIT;

		archive_meta_init(&m);
		json_parse(&d, newer, strlen(newer), &je);
		archive_meta_add(&m, &d, strlen(newer));
		strbuf_addf(&raw, "%s\n", newer);
		archive_gz_member(&gz, raw.buf, raw.len, 6);
		ok(archive_seg_open(&w, rdir, "seg-20260102T000000Z-000002.jsonl.gz", &e) == 0 &&
		   archive_seg_write(&w, gz.buf, gz.len, &e) == 0 && archive_seg_commit(&w, rdir, &m, &e) == 0,
		   "replay: a second segment with a newer copy of page 1");
		archive_meta_release(&m);
		strbuf_release(&raw);
		strbuf_release(&gz);
	}
	for (i = 0; i < 3; i++)
		strbuf_addf(&want, "%s\n", lines[i]);
	strbuf_addf(&want, "%s\n", newer);
	ok(replay_into(rdir, &em, NULL, 0, NULL, &e) == 0 && em.fails == 0 && em.out.len == want.len &&
	   !memcmp(em.out.buf, want.buf, want.len),
	   "replay: every envelope, in order, byte for byte, every segment as its manifest line says");
	strbuf_reset(&want);
	strbuf_addf(&want, "%s\n%s\n%s\n", lines[1], lines[2], newer);
	ok(replay_into(rdir, &em, NULL, 1, NULL, &e) == 0 && em.out.len == want.len &&
	   !memcmp(em.out.buf, want.buf, want.len),
	   "replay --latest: only the newest copy of each URL");
	strbuf_reset(&want);
	strbuf_addf(&want, "%s\n", lines[2]);
	ok(replay_into(rdir, &em, "http://h/b", 0, NULL, &e) == 0 && em.out.len == want.len &&
	   !memcmp(em.out.buf, want.buf, want.len), "replay --endpoint: a URL prefix");
	strbuf_reset(&want);
	strbuf_addf(&want, "%s\n%s\n", lines[2], newer);
	ok(replay_into(rdir, &em, NULL, 0, "2026-01-01T00:00:02Z", &e) == 0 && em.fails == 0 &&
	   em.out.len == want.len &&
	   !memcmp(em.out.buf, want.buf, want.len), "replay --since: the fetched_at window");
	snprintf(seg, sizeof(seg), "%s/seg-20260101T000000Z-000001.jsonl.gz", rdir);
	unlink(seg);
	em.stop_on_fail = 0;
	ok(replay_into(rdir, &em, NULL, 0, NULL, &e) == 0 && em.fails == 1 &&
	   !strncmp(em.out.buf, newer, strlen(newer)),
	   "replay: a missing segment is reported once, and the run may go on");
	em.stop_on_fail = 1;
	ok(replay_into(rdir, &em, NULL, 0, NULL, &e) == -1 && e.code == EX_NOINPUT &&
	   strstr(e.msg, "missing (listed in the manifest)") && !em.out.len,
	   "replay: or stop there (66)");
	ok(replay_into("/nonexistent-apipe", &em, NULL, 0, NULL, &e) == -1 && e.code == EX_NOINPUT,
	   "replay: no such directory (66)");
	strbuf_release(&em.out);
	strbuf_release(&want);
	snprintf(seg, sizeof(seg), "rm -rf '%s'", rdir);
	ok(system(seg) == 0, "replay: its directory is removed");
}

/* lib/upsert on SQLite: decided in input order, one write a key, states with the rows. */
static int add(struct upsert *u, const char *rec, const char **ptr, struct aperr *e)
{
	json_parse(&d, rec, strlen(rec), &je);
	return upsert_add(u, &d, rec, strlen(rec), ptr, e);
}

static void test_upsert(void)
{
	struct db_column cols[1];
	struct json_ptr newer;
	struct upsert u;
	struct strbuf url = STRBUF_INIT, st = STRBUF_INIT;
	struct aperr e;
	const char *ptr;
	int r = 0;

	col(&cols[0], "id", "/id", DB_ANY);
	json_ptr_parse(&newer, "/v", &e);
	strbuf_addf(&url, "sqlite:%s/up.db", dir);
	memset(&u, 0, sizeof(u));
	u.db = db_open(url.buf, &e);
	ok(u.db != NULL, "upsert: open SQLite");
	if (!u.db)
		return;
	db_want_stored(u.db, 1);
	u.cols = cols;
	u.ncols = u.nkeys = 1;
	u.newer = &newer;
	u.max_line = 1 << 20;
	u.max_depth = 64;
	ok(db_prepare(u.db, "t", cols, 1, 1, &e) == 0 && upsert_open(&u, &e) == 0, "upsert: ready");
	r |= add(&u, "{\"id\":1,\"v\":1}", &ptr, &e);
	r |= add(&u, "{\"id\":2,\"v\":1}", &ptr, &e);
	r |= add(&u, "{\"id\":1,\"v\":2}", &ptr, &e);
	ok(r == 0 && upsert_state(&u, "crawl", "{\"page\":3}", 10, &e) == 0 && upsert_dirty(&u),
	   "upsert: three records and a state in the batch");
	ok(upsert_flush(&u, &e) == 0 && u.inserted == 2 && u.updated == 1 && u.batches == 1,
	   "upsert: a key twice in a batch is an insert then an update");
	ok(db_state_get(u.db, "crawl", &st, &e) == 1 && !strcmp(st.buf, "{\"page\":3}"),
	   "upsert: the state committed with the rows");
	r = add(&u, "{\"id\":1,\"v\":1}", &ptr, &e) | add(&u, "{\"id\":2,\"v\":1}", &ptr, &e);
	ok(r == 0 && upsert_flush(&u, &e) == 0 && u.skipped == 1 && u.unchanged == 1,
	   "upsert: an older version is skipped, an equal one unchanged");
	ok(add(&u, "{\"v\":1}", &ptr, &e) == UPSERT_REJECT && ptr && !strcmp(ptr, "/id") &&
	   strstr(e.msg, "no key"), "upsert: a record without its key is rejected, naming /id");
	ok(!upsert_dirty(&u) && upsert_flush(&u, &e) == 0 && u.batches == 2,
	   "upsert: a rejected record leaves nothing to land");
	upsert_release(&u);
	db_close(u.db);
	json_ptr_release(&newer);
	json_ptr_release(&cols[0].ptr);
	free(cols[0].name);
	strbuf_release(&url);
	strbuf_release(&st);
}

static void test_db(void)
{
	struct db_column cols[3];
	struct db_value v;
	struct aperr e;
	struct strbuf url = STRBUF_INIT, st = STRBUF_INIT;
	struct db *db;
	struct db_row rows[3], *wr[3];
	static const char *const recs[] = {
		"{\"id\":1,\"n\":1.5,\"t\":\"2026-01-01T01:00:00+01:00\"}",
		"{\"id\":\"a\",\"n\":2}",
		"{\"id\":3,\"n\":null}",
	};
	size_t i;

	is_int(db_type_parse("timestamp"), DB_TIMESTAMP, "type names");
	is_int(db_type_parse("float"), -1, "an unknown type name is -1");
	is_str(db_type_name(DB_BOOLEAN), "boolean", "and back");

	col(&cols[0], "id", "/id", DB_ANY);
	col(&cols[1], "n", "/n", DB_REAL);
	col(&cols[2], "t", "/t", DB_TIMESTAMP);
	db_value_init(&v);
	is_int(value_of(&cols[0], "{\"id\":12}", &v, &e), 0, "a key integer");
	ok(v.kind == DBV_INT && v.i == 12, "is an integer");
	is_int(value_of(&cols[0], "{\"id\":1.0}", &v, &e), 0, "a key 1.0");
	ok(v.kind == DBV_TEXT && !strcmp(v.s.buf, "1.0"), "is its text, not 1");
	is_int(value_of(&cols[2], "{\"t\":\"2026-01-01T01:00:00+01:00\"}", &v, &e), 0, "a timestamp");
	is_str(v.s.buf, "2026-01-01T00:00:00Z", "is stored as UTC");
	is_int(value_of(&cols[2], "{\"t\":\"noon\"}", &v, &e), -1, "a timestamp that is not one");
	is_int(e.code, EX_DATAERR, "EX_DATAERR");
	ok(strstr(e.msg, "column t") != NULL, "naming the column");
	is_int(value_of(&cols[1], "{}", &v, &e), 0, "an absent value");
	ok(v.null, "is NULL");
	is_int(value_of(&cols[1], "{\"n\":\"1\"}", &v, &e), -1, "a string in a real column");
	is_int(value_of(&cols[1], "{\"n\":1e999999999}", &v, &e), -1, "a real that overflows a double");
	is_int(value_of(&cols[1], "{\"n\":0.1e-999999}", &v, &e), -1, "a real that underflows to 0");
	is_int(value_of(&cols[1], "{\"n\":0.000e5}", &v, &e), 0, "a real zero");
	is_int(value_of(&cols[1], "{\"n\":1e-300}", &v, &e), 0, "a small real that fits");
	db_value_release(&v);

	strbuf_addf(&url, "sqlite:%s/t.db", dir);
	db = db_open(url.buf, &e);
	ok(db != NULL, "open SQLite");
	if (!db)
		return;
	is_int(db_prepare(db, "t", cols, 3, 1, &e), 0, "create the table");
	for (i = 0; i < 3; i++) {
		db_row_init(&rows[i], 3);
		json_parse(&d, recs[i], strlen(recs[i]), &je);
		db_value_from_json(&cols[0], &d, 0, &rows[i].vals[0], &e);
		db_value_from_json(&cols[1], &d, 0, &rows[i].vals[1], &e);
		db_value_from_json(&cols[2], &d, 0, &rows[i].vals[2], &e);
		rows[i].rec = recs[i];
		rows[i].n = strlen(recs[i]);
		wr[i] = &rows[i];
	}
	is_int(db_begin(db, &e), 0, "begin");
	is_int(db_lookup(db, rows, 3, &e), 0, "look up three new keys");
	ok(!rows[0].found && !rows[1].found && !rows[2].found, "none is stored");
	is_int(db_write(db, wr, 2, "2026-12-01T00:00:00.000Z", &e), 0, "write two");
	is_int(db_state_put(db, "wm", "\"2026-01-01T00:00:00Z\"", "2026-12-01T00:00:00.000Z", &e),
	       0, "a watermark in the same transaction");
	is_int(db_commit(db, &e), 0, "commit");
	is_int(db_begin(db, &e), 0, "begin");
	is_int(db_lookup(db, rows, 3, &e), 0, "look up again");
	ok(rows[0].found && rows[0].same, "the first is stored, the same bytes");
	is_mem(rows[1].stored.buf, rows[1].stored.len, recs[1], "the record is kept byte for byte");
	ok(!rows[2].found, "the unwritten one is not");
	db_state_put(db, "wm", "\"2027-01-01T00:00:00Z\"", "2026-12-01T00:00:00.000Z", &e);
	db_rollback(db);
	is_int(db_state_get(db, "wm", &st, &e), 1, "the watermark");
	is_str(st.buf, "\"2026-01-01T00:00:00Z\"", "as committed, the rolled-back one gone");
	is_int(db_state_get(db, "other", &st, &e), 0, "a name never written: 0");
	for (i = 0; i < 3; i++)
		db_row_release(&rows[i], 3);
	db_close(db);

	db = db_open(url.buf, &e);
	{
		struct db_column more[4], nokey[3];

		/* a column the table lacks: added with the first batch, taken back by a rollback */
		memcpy(more, cols, sizeof(cols));
		col(&more[3], "extra", "/n", DB_REAL);
		is_int(db_prepare(db, "t", more, 4, 1, &e), 0, "a table without an asked-for column");
		is_int(has_column(url.buf + 7, "extra"), 0, "is not changed when prepared");
		is_int(db_begin(db, &e), 0, "the first batch adds it");
		db_rollback(db);
		is_int(has_column(url.buf + 7, "extra"), 0, "a rollback takes it back");
		is_int(db_begin(db, &e), 0, "the next batch adds it again");
		is_int(db_commit(db, &e), 0, "and commits");
		is_int(has_column(url.buf + 7, "extra"), 1, "the column is there");
		is_int(db_begin(db, &e) == 0 && db_commit(db, &e) == 0, 1, "later batches go on");
		json_ptr_release(&more[3].ptr);
		free(more[3].name);
		db_close(db);
		/* a key column it lacks is a configuration error */
		db = db_open(url.buf, &e);
		col(&nokey[0], "nokey", "/nokey", DB_ANY);
		memcpy(&nokey[1], &cols[1], 2 * sizeof(cols[0]));
		is_int(db_prepare(db, "t", nokey, 3, 1, &e), -1, "a table without the key column");
		is_int(e.code, EX_CONFIG, "is EX_CONFIG");
		ok(strstr(e.msg, "nokey") != NULL, "naming the column");
		json_ptr_release(&nokey[0].ptr);
		free(nokey[0].name);
	}
	db_close(db);
	strbuf_reset(&url);
	strbuf_addf(&url, "%s/no/such/dir/t.db", dir);
	ok(db_open(url.buf, &e) == NULL, "a database that cannot be created");
	ok(e.code == EX_CANTCREAT || e.code == EX_UNAVAILABLE, "is EX_CANTCREAT or EX_UNAVAILABLE");
	for (i = 0; i < 3; i++) {
		json_ptr_release(&cols[i].ptr);
		free(cols[i].name);
	}
	strbuf_release(&url);
	strbuf_release(&st);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	json_doc_init(&d, 64);
	json_error_init(&je);
	test_archive();
	test_pool();
	test_writer();
	test_replay();
	test_db();
	test_upsert();
	json_doc_release(&d);
	json_error_release(&je);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
