#!/bin/sh
# The smaller promises of durability: a state line alone goes through
# store-raw; upsert --dead-letter goes past a malformed state line; deep
# records' schemas are read back; paginate's exit statuses are its
# manual's (74 on a full disk, 65 for a bad request line on standard input).
. "$APIPE_TOP/tests/lib.sh"

printf '\036{"apipe_state":"s","value":{"version":1,"complete":true}}\n' > state.jsonl
run store-raw arch < state.jsonl
is "$rc" 0 "store-raw with nothing but a state line: exit 0"
is_file out state.jsonl "... and the state line is passed on, not dropped"

printf '{"id":1}\n\036{"apipe_state":"s",\n{"id":2}\n' > badstate.jsonl
run upsert --db u.db --table t --key /id --dead-letter dl.jsonl < badstate.jsonl
is "$rc:$(sqlite3 u.db 'select count(*) from t')" "0:2" "upsert --dead-letter goes on past a malformed state line"
is "$(jq -r .line dl.jsonl)" 2 "... which is dead-lettered"
is "$(sqlite3 u.db "select count(*) from apipe_state where name = 's'" 2>/dev/null || echo 0)" 0 \
	"... and no state is committed for it"

# deep records: the schema that describes them nests twice as deep, and is still read
python3 -c 's = "1"
for i in range(511): s = "[" + s + "]"
print("{\"id\":1,\"a\":" + s + "}")' > deep.jsonl
run singer --to --stream s --key /id < deep.jsonl
is "$rc" 0 "singer --to with a record 512 deep: exit 0 (not 70)"
python3 -c 's = "1"
for i in range(300): s = "{\"a\":" + s + "}"
print(s)' > deep2.jsonl
schema infer < deep2.jsonl > base.json
run schema diff base.json < deep2.jsonl
is "$rc" 0 "schema diff reads the baseline schema infer wrote for records 300 deep"

# a symbolic link planted at a lock file's name is refused, not followed
mkdir -p wst
ln -s "$PWD/planted-target" wst/w.json.lock
rc=0
echo '{"t":"2026-01-01T00:00:00Z"}' | watermark track --state wst --name w --order-field /t > /dev/null 2> lockerr || rc=$?
is "$rc:$([ -e planted-target ] && echo created || echo absent)" "73:absent" \
	"a symlink at a lock's name: refused (73), nothing created at its target"
like lockerr "symbolic link" "... saying so"

echo '{"url":"ftp://example.com/x"}' > bad.jsonl
run paginate < bad.jsonl
is "$rc" 65 "a request line that is no http URL: bad data (65), not usage"

start_mock api --records 5000
if mkdir -p disk && mount -t tmpfs -o size=64k tmpfs disk 2>/dev/null; then
	trap 'umount "$TESTDIR/disk" 2>/dev/null; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT
	run paginate -o disk/pages.jsonl --style offset --limit 100 "$BASE/items"
	is "$rc" 74 "paginate -o on a full disk: 74, as its manual says"
	umount disk
else
	ok 0 "# SKIP a tmpfs cannot be mounted here (not root)"
fi
done_testing
