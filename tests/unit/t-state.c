/* lib/statefile, lib/seenfile, lib/tokenstore, lib/deadletter: their contracts and errors. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "../../lib/deadletter.h"
#include "../../lib/fpset.h"
#include "../../lib/json.h"
#include "../../lib/seenfile.h"
#include "../../lib/statefile.h"
#include "../../lib/strbuf.h"
#include "../../lib/tokenstore.h"
#include "../../lib/wmstate.h"

static char dir[] = "/tmp/apipe-t-state-XXXXXX";

static const char *path_of(const char *name)
{
	static char buf[64][256];
	static int i;

	i = (i + 1) % 64;	/* enough for every name one test keeps */
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? (mode_t)-1 : st.st_mode & 0777;
}

/* Would a child process find the lock on path taken? */
static int lock_busy_elsewhere(const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct aperr e;
		int fd = statefile_lock(path, "test", &e);

		_exit(fd < 0 && e.code == EX_TEMPFAIL ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_statefile(void)
{
	struct strbuf sb = STRBUF_INIT, tmp = STRBUF_INIT;
	struct aperr e;
	const char *p = path_of("state/a/b/wm.json");
	int fd, lk;

	is_int(statefile_read(path_of("none"), &sb, 100, &e), 1, "read: a missing file returns 1");
	is_int(statefile_mkdirs(path_of("state/a/b"), &e), 0, "mkdirs makes every level");
	is_int(statefile_mkdirs(path_of("state/a/b"), &e), 0, "mkdirs again is fine");
	is_int(statefile_write(p, "{\"v\":1}\n", 8, 0, &e), 0, "write");
	is_int(mode_of(p), 0644, "a public state file is 0644");
	is_int(statefile_read(p, &sb, 100, &e), 0, "read it back");
	is_mem(sb.buf, sb.len, "{\"v\":1}\n", "the bytes written");
	is_int(statefile_write(p, "{\"v\":2}\n", 8, 1, &e), 0, "replace it, private");
	is_int(mode_of(p), 0600, "a private state file is 0600");
	statefile_read(p, &sb, 100, &e);
	is_mem(sb.buf, sb.len, "{\"v\":2}\n", "the replacement is read");
	is_int(statefile_read(p, &sb, 4, &e), -1, "a file over the limit is refused");
	is_int(e.code, EX_DATAERR, "as bad data");

	fd = statefile_begin(p, &tmp, 0, &e);
	ok(fd >= 0, "begin a piecewise replacement");
	ok(write(fd, "{\"v\"", 4) == 4 && write(fd, ":3}\n", 4) == 4, "write it in two pieces");
	statefile_read(p, &sb, 100, &e);
	is_mem(sb.buf, sb.len, "{\"v\":2}\n", "before the commit the old content stands");
	is_int(statefile_commit(fd, tmp.buf, p, &e), 0, "commit");
	statefile_read(p, &sb, 100, &e);
	is_mem(sb.buf, sb.len, "{\"v\":3}\n", "after it the new");
	ok(access(tmp.buf, F_OK) < 0, "the temporary name is gone");
	fd = statefile_begin(p, &tmp, 0, &e);
	ok(write(fd, "torn", 4) == 4, "a replacement that fails midway");
	statefile_abort(fd, tmp.buf);
	ok(access(tmp.buf, F_OK) < 0, "abort removes its temporary file");
	statefile_read(p, &sb, 100, &e);
	is_mem(sb.buf, sb.len, "{\"v\":3}\n", "and leaves the file as it was");

	is_int(statefile_write(path_of("no/such/dir/f"), "x", 1, 0, &e), -1,
	       "write into a missing directory fails");
	is_int(e.code, EX_CANTCREAT, "with EX_CANTCREAT");

	lk = statefile_lock(p, "watermark t", &e);
	ok(lk >= 0, "lock");
	ok(lock_busy_elsewhere(p), "another process finds it locked (EX_TEMPFAIL)");
	statefile_write(p, "{}\n", 3, 0, &e);
	ok(lock_busy_elsewhere(p), "a rename of the file does not drop the lock");
	statefile_unlock(lk);
	ok(!lock_busy_elsewhere(p), "unlocked, another process takes it");
	lk = statefile_lock_wait(p, "watermark t", &e);
	ok(lk >= 0, "lock_wait takes a free lock");
	statefile_unlock(lk);
	is_int(statefile_lock(path_of("no/such/dir/f"), "x", &e), -1, "a lock in a missing directory fails");
	is_int(e.code, EX_CANTCREAT, "with EX_CANTCREAT");
	strbuf_release(&sb);
	strbuf_release(&tmp);
}

static void test_seenfile(void)
{
	struct fpset s, t;
	struct aperr e;
	uint8_t key[16], key2[16];
	const char *p = path_of("seen.bin");
	struct hash128 h;
	uint64_t i;
	int fd;

	fpset_init(&s);
	is_int(seenfile_load(p, 42, &s, key, &e), 1, "a missing seen-file is an empty set (1)");
	is_int(s.count, 0, "with no keys");
	for (i = 0; i < 1000; i++) {
		h.lo = i * 0x9e3779b97f4a7c15ULL;
		h.hi = ~i;
		fpset_add(&s, h);
	}
	is_int(seenfile_save(p, 42, &s, key, &e), 0, "save 1000 keys");
	{
		struct stat st;

		stat(p, &st);
		is_int(st.st_size, SEENFILE_HEADER + 1000 * 16, "64-byte header, 16 bytes a key");
	}
	fpset_init(&t);
	is_int(seenfile_load(p, 42, &t, key2, &e), 0, "load it back");
	is_int(t.count, 1000, "every key");
	ok(memcmp(key, key2, 16) == 0, "with the hash key it was made with");
	h.lo = 7 * 0x9e3779b97f4a7c15ULL;
	h.hi = ~(uint64_t)7;
	ok(fpset_has(&t, h), "a saved key is in the loaded set");
	h.hi = 7;
	ok(!fpset_has(&t, h), "an unsaved one is not");
	fpset_release(&t);

	fpset_init(&t);
	is_int(seenfile_load(p, 43, &t, key2, &e), -1, "other --key pointers are refused");
	is_int(e.code, EX_CONFIG, "as configuration");
	fpset_release(&t);

	fd = open(p, O_WRONLY);
	ok(pwrite(fd, "\xff", 1, SEENFILE_HEADER + 5) == 1, "damage one entry");
	close(fd);
	fpset_init(&t);
	is_int(seenfile_load(p, 42, &t, key2, &e), -1, "a damaged entry fails the checksum");
	is_int(e.code, EX_DATAERR, "as bad data");
	ok(strstr(e.msg, "checksum") != NULL, "and says so");
	fpset_release(&t);

	ok(truncate(p, SEENFILE_HEADER + 999 * 16) == 0, "cut the file short");
	fpset_init(&t);
	is_int(seenfile_load(p, 42, &t, key2, &e), -1, "a short file is refused");
	is_int(e.code, EX_DATAERR, "as bad data");
	fpset_release(&t);

	statefile_write(p, "not a seen file, certainly not one at all, no; but long enough....", 66, 0, &e);
	fpset_init(&t);
	is_int(seenfile_load(p, 42, &t, key2, &e), -1, "another file's bytes are refused");
	ok(strstr(e.msg, "not a dedupe seen-file") != NULL, "naming what it is not");
	fpset_release(&t);
	fpset_release(&s);
}

static void test_tokenstore(void)
{
	struct tokenset ts, back;
	struct aperr e;
	struct strbuf sb = STRBUF_INIT;
	const char *p = path_of("tokens.json");

	tokenset_init(&ts);
	tokenset_set(&ts.access_token, "at-1");
	tokenset_set(&ts.refresh_token, "rt-\"1\"");
	tokenset_set(&ts.token_type, "Bearer");
	tokenset_set(&ts.token_url, "http://127.0.0.1:1/token");
	tokenset_set(&ts.client_id, "cid");
	ts.expires_at = 2000000000.5;
	ts.obtained_at = 1999999000;
	is_int(tokenstore_check(p, &e), 0, "an absent path may become a store");
	is_int(tokenstore_write(p, &ts, &e), 0, "write the store");
	is_int(mode_of(p), 0600, "mode 0600");
	tokenset_init(&back);
	is_int(tokenstore_read(p, &back, &e), 0, "read it back");
	is_str(back.access_token, "at-1", "access token");
	is_str(back.refresh_token, "rt-\"1\"", "refresh token, quotes and all");
	is_str(back.client_id, "cid", "client id");
	ok(back.scope == NULL, "no scope, none read");
	ok(back.expires_at > 2000000000.4 && back.expires_at < 2000000000.6, "expires_at");
	statefile_read(p, &sb, 4096, &e);
	ok(strstr(sb.buf, "secret") == NULL, "no client secret member is written");
	tokenset_set(&back.access_token, NULL);
	ok(back.access_token == NULL, "tokenset_set(NULL) clears a field");
	tokenset_release(&back);

	chmod(p, 0640);
	tokenset_init(&back);
	is_int(tokenstore_read(p, &back, &e), -1, "a store its group may read is refused");
	is_int(e.code, EX_CONFIG, "as configuration");
	ok(strstr(e.msg, "group") != NULL, "naming who can read it");
	is_int(tokenstore_check(p, &e), -1, "and may not become a store");
	is_int(tokenstore_write(p, &ts, &e), -1, "nor be written over");
	chmod(p, 0604);
	is_int(tokenstore_read(p, &back, &e), -1, "one others may read is refused");
	ok(strstr(e.msg, "others") != NULL, "naming others");
	tokenset_release(&back);

	is_int(tokenstore_read(path_of("no-store"), &back, &e), -1, "a missing store");
	is_int(e.code, EX_NOINPUT, "is EX_NOINPUT");
	statefile_write(p, "[1,2]", 5, 1, &e);
	is_int(tokenstore_read(p, &back, &e), -1, "a JSON array is not a store");
	is_int(e.code, EX_DATAERR, "EX_DATAERR");
	statefile_write(p, "{\"scope\":\"x\"}", 13, 1, &e);
	is_int(tokenstore_read(p, &back, &e), -1, "a store without a token");
	is_int(e.code, EX_DATAERR, "EX_DATAERR");
	tokenset_release(&back);
	{
		int lk = tokenstore_lock(p, &e);

		ok(lk >= 0, "the store's lock");
		ok(lock_busy_elsewhere(p), "is exclusive");
		statefile_unlock(lk);
	}
	tokenset_release(&ts);
	strbuf_release(&sb);
}

static void test_deadletter(void)
{
	struct deadletter dl;
	struct aperr e;
	struct strbuf sb = STRBUF_INIT;
	const char *p = path_of("dead.jsonl");
	struct json_doc d;
	struct json_error je;
	const char *s;
	size_t n, lines = 0;

	is_int(dl_close(&(struct deadletter){ 0 }, &e), 0, "closing a dead letter never opened is fine");
	is_int(dl_open(&dl, p, &e), 0, "open");
	is_int(dl_write(&dl, 3, "{\"id\":1.50}", 11, 1, "/id", "not \"an\" integer", &e), 0,
	       "a JSON record");
	is_int(dl_write(&dl, 4, "caf\xc3\xa9 {", 7, 0, NULL, "not JSON", &e), 0, "UTF-8 text");
	is_int(dl_write(&dl, 5, "\xff\x00\x01", 3, 0, "", "binary", &e), 0, "bytes");
	{
		static const char errs[] = "[{\"message\":\"a\"},{\"message\":\"b\"}]";

		is_int(dl_write_errors(&dl, 6, "[]", 2, 1, errs, sizeof(errs) - 1, &e), 0,
		       "several errors");
	}
	is_int(dl.count, 4, "four lines counted");
	is_int(dl_close(&dl, &e), 0, "close (flush and fsync)");
	statefile_read(p, &sb, 4096, &e);
	is_mem(sb.buf, sb.len,
	       "{\"line\":3,\"record\":{\"id\":1.50},\"errors\":[{\"instance\":\"/id\",\"message\":\"not \\\"an\\\" integer\"}]}\n"
	       "{\"line\":4,\"input_text\":\"caf\xc3\xa9 {\",\"errors\":[{\"message\":\"not JSON\"}]}\n"
	       "{\"line\":5,\"input_base64\":\"/wAB\",\"errors\":[{\"instance\":\"\",\"message\":\"binary\"}]}\n"
	       "{\"line\":6,\"record\":[],\"errors\":[{\"message\":\"a\"},{\"message\":\"b\"}]}\n",
	       "the record byte for byte, text quoted, bytes in base64");
	json_doc_init(&d, 16);
	json_error_init(&je);
	for (s = sb.buf; (n = strcspn(s, "\n")) > 0; s += n + 1, lines++)
		if (json_parse(&d, s, n, &je) < 0)
			break;
	is_int(lines, 4, "every line is valid JSON");
	json_doc_release(&d);
	json_error_release(&je);

	is_int(dl_open(&dl, p, &e), 0, "open again");
	dl_write(&dl, 9, "1", 1, 1, NULL, "x", &e);
	dl_close(&dl, &e);
	statefile_read(p, &sb, 4096, &e);
	ok(strstr(sb.buf, "{\"line\":3,") == sb.buf && strstr(sb.buf, "{\"line\":9,"),
	   "a second open appends");
	is_int(dl_open(&dl, path_of("no/such/dir/d"), &e), -1, "a dead letter that cannot be created");
	is_int(e.code, EX_CANTCREAT, "is EX_CANTCREAT");
	dl_close(&dl, &e);
	strbuf_release(&sb);
}

/* lib/wmstate: the watermark's file, its commit, get's formats, tracking. */
static void test_wmstate(void)
{
	char path[340], wdir[300];
	struct wm_state s, t;
	struct wm_track tr;
	struct strbuf out = STRBUF_INIT;
	struct json_doc d;
	struct instant hour;
	struct aperr e;
	int fd;

	snprintf(wdir, sizeof(wdir), "%.200s/wm", dir);
	snprintf(path, sizeof(path), "%s/orders.json", wdir);
	ok(wm_valid_name("orders.v2_x-1") && !wm_valid_name(".x") && !wm_valid_name("a/b") &&
	   !wm_valid_name(""), "wm: names fit for a file");
	fd = wm_lock(wdir, path, "orders", &e);
	ok(fd >= 0 && wm_lock(wdir, path, "orders", &e) < 0, "wm: one holder of a name's lock");
	statefile_unlock(fd);
	wm_state_init(&s);
	ok(wm_state_load(path, &s, &e) == 0 && !s.exists, "wm: no state yet");
	s.kind = ORD_TIMESTAMP;
	strbuf_addstr(&s.field, "/updated_at");
	strbuf_addstr(&s.current, "\"2026-01-02T00:00:00Z\"");
	strbuf_addstr(&s.pending, "\"2026-01-01T00:00:00Z\"");
	ok(wm_state_save(wdir, path, "orders", &s, &e) == 0, "wm: saved");
	wm_state_init(&t);
	ok(wm_state_load(path, &t, &e) == 0 && t.exists && t.kind == ORD_TIMESTAMP &&
	   !strcmp(t.field.buf, "/updated_at") && t.pending.len, "wm: read back");
	ok(wm_commit_pending(&t, &e) == 0 && !strcmp(t.current.buf, "\"2026-01-02T00:00:00Z\"") &&
	   !t.pending.len, "wm: a commit keeps the greater value (an older pending one loses)");
	strbuf_addstr(&t.pending, "\"2026-03-01T00:00:00+01:00\"");
	ok(wm_commit_pending(&t, &e) == 0 && !strcmp(t.current.buf, "\"2026-03-01T00:00:00+01:00\""),
	   "wm: a newer pending value becomes current");
	ok(wm_format(t.kind, t.current.buf, t.current.len, "epoch", NULL, &out, &e) == 0 &&
	   !strcmp(out.buf, "1772319600\n"), "wm: get --format epoch");
	strbuf_reset(&out);
	duration_parse("1h", &hour, &e);
	ok(wm_format(t.kind, t.current.buf, t.current.len, NULL, &hour, &out, &e) == 0 &&
	   !strcmp(out.buf, "2026-02-28T22:00:00Z\n"), "wm: get --lookback 1h in RFC 3339, UTC");
	ok(wm_format(ORD_STRING, "\"b\"", 3, "epoch", NULL, &out, &e) < 0 && e.code == EX_USAGE,
	   "wm: a string watermark has no epoch");
	strbuf_reset(&out);
	ok(wm_list(wdir, &out, &e) == 0 && out.len && !strncmp(out.buf, "{\"name\":\"orders\",", 17) &&
	   out.buf[out.len - 1] == '\n', "wm: list, a line a state");

	statefile_write(path, "{\"type\":\"nonsense\"}", 19, 0, &e);
	wm_state_release(&t);
	wm_state_init(&t);
	ok(wm_state_load(path, &t, &e) < 0 && e.code == EX_DATAERR && strstr(e.msg, "unknown type"),
	   "wm: a damaged file is refused (65) and named");
	json_doc_init(&d, 16);
	ok(wm_track_init(&tr, "/t", ORD_AUTO, &e) == 0, "track: a field");
	json_parse(&d, "{\"t\":5}", 7, NULL);
	ok(wm_track_record(&tr, &d, &e) == 0, "track: a number");
	json_parse(&d, "{\"t\":12}", 8, NULL);
	wm_track_record(&tr, &d, &e);
	json_parse(&d, "{\"t\":7}", 7, NULL);
	ok(wm_track_record(&tr, &d, &e) == 0 && !strcmp(tr.max.raw.buf, "12"), "track: the greatest");
	json_parse(&d, "{\"t\":\"2026-01-01T00:00:00Z\"}", 28, NULL);
	ok(wm_track_record(&tr, &d, &e) < 0 && e.code == EX_DATAERR,
	   "track: a value of another kind is refused");
	json_parse(&d, "{}", 2, NULL);
	ok(wm_track_record(&tr, &d, &e) < 0 && strstr(e.msg, "missing"), "track: a missing field");
	wm_track_release(&tr);
	json_doc_release(&d);
	wm_state_release(&s);
	wm_state_release(&t);
	strbuf_release(&out);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_statefile();
	test_seenfile();
	test_tokenstore();
	test_deadletter();
	test_wmstate();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
