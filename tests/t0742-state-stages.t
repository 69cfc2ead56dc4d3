#!/bin/sh
# A stage that is not an apipe program inside a --state pipeline: the
# documented jq form (raw lines, state lines passed on as they are) lands
# exactly the records it keeps and commits the state; a jq stage that
# drops state lines, rewrites them, or strips their RS byte fails before
# anything lands when upsert is told the state's name (--state), and a
# state line without its RS is refused by upsert and tabulate anywhere.
. "$APIPE_TOP/tests/lib.sh"
trap 'for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

start_mock api --records 100
paginate -q --state s "$BASE/cursor?limit=30" | records > stream.jsonl
is "$(grep -c "$(printf '^\036')" stream.jsonl)" 5 "the stream carries a state line after each of 4 pages and at the end"
JQ='if startswith("\u001e") then . else fromjson | select(.id % 2 == 0) | tojson end'

run sh -c "jq -R -r '$JQ' < stream.jsonl | upsert --db jq.db --table t --key /id --state s"
is "$rc" 0 "the documented jq form: exit 0"
is "$(sqlite3 jq.db 'select group_concat(id) from (select id from t order by id)')" \
	"$(seq 2 2 100 | paste -sd,)" "exactly the records it keeps, each once"
is "$(sqlite3 jq.db "select value from apipe_state where name = 's'")" '{"version":1,"complete":true}' \
	"and the state, committed with them"

run sh -c "jq -c 'select(.name)' < stream.jsonl | upsert --db drop.db --table t --key /id --state s"
is "$rc" 65 "jq's select drops the state lines: exit 65"
like err "line 100: 100 records and no state line s before them: a stage between paginate --state s and upsert drops state lines" \
	"said so, naming the state"
is "$(sqlite3 drop.db 'select count(*) from t')" 0 "nothing landed"

run sh -c "jq -c . < stream.jsonl | upsert --db strip.db --table t --key /id --state s --dead-letter dl.jsonl"
is "$rc" 65 "jq strips the RS byte: exit 65, even with --dead-letter"
like err "line 31: an in-band state line without its RS byte: a stage before this one rewrote it" "said so, with the line"
is "$(sqlite3 strip.db 'select count(*) from t')" 0 "nothing landed"

run sh -c "jq -c '{id}' < stream.jsonl | upsert --db rew.db --table t --key /id --state s"
is "$rc" 65 "jq rewrites the state line into a record: exit 65"
like err "line 31: /id: the record has no key here; no state line s has come yet, so nothing landed" \
	"the message says why it may be so"
is "$(sqlite3 rew.db 'select count(*) from t')" 0 "nothing landed"

seq 1 70 | awk '{ printf "{\"id\":%d}\n", $1 }' > nostate.jsonl
run upsert --db cap.db --table t --key /id --batch 1 --state s < nostate.jsonl
is "$rc" 65 "64 batches held and still no state line: exit 65"
like err "line 64: 64 records and no state line s" "at the 64th record"
run upsert --db plain.db --table t --key /id --batch 1 < nostate.jsonl
is "$rc:$(sqlite3 plain.db 'select count(*) from t')" "0:70" "without --state records land as they come"

run sh -c "jq -c . < stream.jsonl | tabulate --format csv -o t.csv"
is "$rc" 65 "tabulate refuses a state line without its RS too"
like err "line 31: an in-band state line without its RS byte" "naming the line"
run upsert --db x.db --table t --key /id --state '' < /dev/null
is "$rc" 64 "--state with no name: usage"
done_testing
