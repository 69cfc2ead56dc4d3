#!/bin/sh
# Exactly once through the whole pipeline: paginate's progress travels in
# band (a state line after each page), every filter passes it on in order,
# and upsert commits it with the rows before it; a rerun resumes from what
# the sink committed.  Killed with kill -9 (every process) at 20 seeded
# moments and rerun, the table ends as exactly the dataset.  Combinations
# that would let progress run ahead of the sink are refused.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

# the sink: PostgreSQL when it is installed (.ci/run installs it), else SQLite
if pg_start; then
	DB="postgresql:///postgres?host=$PGDIR&user=postgres"
	RT="--record-type text"	# records kept byte for byte, to compare them so
	q() { psql -X -q -At "$DB" -c "$1"; }
	ORDER=id::bigint
	diag "the pipeline lands in PostgreSQL"
else
	DB="$PWD/t.db"
	RT=
	q() { sqlite3 "$DB" "$1"; }
	ORDER=id
	diag "PostgreSQL is not installed: the pipeline lands in SQLite"
fi
N=2000
start_mock eo --records $N --fault-rate 20 --seed 5 --latency-ms 15
echo '{"type":"object","required":["id"]}' > rec.schema.json
PIPE="paginate -q --retry 12 --retry-delay 0.01 --max-delay 0.05 --style keyset --order-field /id \
--order-param since_id --state crawl --resume-from '$DB' '$BASE/keyset?limit=50' |
store-raw -q --append $PWD/arch | records | validate --schema $PWD/rec.schema.json |
dedupe --key /id | upsert --db '$DB' --table t --key /id --batch 37 $RT"

# each round kills at a seeded moment one stage (or the whole pipeline): the
# others see an end of input or a closed pipe, and what upsert commits is
# still only rows with the state that covers them
awk 'BEGIN { srand(740); split("all paginate store-raw records validate dedupe upsert", st, " ")
	for (i = 0; i < 20; i++) printf "%.3f %s\n", 0.05 + rand() * 1.5, st[int(rand() * 7) + 1] }' > sleeps
kill_rounds sleeps "$PIPE"
k=$killed
diag "$k of 20 runs killed mid-flight ($(awk '{ print $2 }' sleeps | sort | uniq -c | tr '\n' ' '))"
is "$([ "$k" -ge 10 ] && echo yes)" yes "most runs were killed mid-flight"
resumed=$(q "select value from apipe_state where name = 'crawl'" 2>/dev/null)
diag "the state the sink kept: $(echo "$resumed" | cut -c1-120)"
run bash -c "set -o pipefail; $PIPE"
is "$rc" 0 "the run after the kills completes"
paginate -q --retry 12 --retry-delay 0.01 --style keyset --order-field /id --order-param since_id \
	"$BASE/keyset?limit=50" | records > dataset.jsonl
is "$(wc -l < dataset.jsonl | tr -d ' ')" "$N" "the dataset"
q "select record from t order by $ORDER" > table.jsonl
is_file table.jsonl dataset.jsonl "the table holds exactly the dataset: nothing lost, nothing twice"
is "$(q "select value from apipe_state where name = 'crawl'")" \
	'{"version":1,"complete":true}' "the kept state says the crawl is complete"
run bash -c "set -o pipefail; $PIPE"
is "$rc" 0 "a run after completion crawls anew"
is "$(q 'select count(*) from t')" "$N" "and lands nothing twice"

# state lines: never a record, passed on in order by every filter
printf '\036{"apipe_state":"s","value":{"n":1}}\n' > st.line
lines '{"url":"u","status":200,"body":[{"id":1},{"id":2}]}' > env.jsonl
cat st.line >> env.jsonl
lines '{"url":"u","status":200,"body":[{"id":3}]}' >> env.jsonl
records < env.jsonl > recs.jsonl
is "$(sed -n 3p recs.jsonl)" "$(cat st.line)" "records passes the state line on after the page's records"
is "$(wc -l < recs.jsonl | tr -d ' ')" 4 "in order"
validate --schema rec.schema.json < recs.jsonl > v.out
is_file v.out recs.jsonl "validate passes it on unchanged"
dedupe --key /id < recs.jsonl > d.out
is_file d.out recs.jsonl "dedupe too"
dedupe --key /id --latest --order-field /id < recs.jsonl > dl.out
is "$(tail -1 dl.out)" "$(cat st.line)" "dedupe --latest after the records it holds"
watermark track --state wm --name w --order-field /id < recs.jsonl > w.out
is_file w.out recs.jsonl "watermark track passes it untracked"
run upsert --db s.db --table t --key /id < recs.jsonl
is "$rc" 0 "upsert takes it"
is "$(sqlite3 s.db "select value from apipe_state where name = 's'")" '{"n":1}' "and keeps its value"
printf '\036{"not":"a state"}\n' | upsert --db s.db --table t --key /id 2> bad.err
is "$?" 65 "a malformed state line is bad input"
printf '\036{"id":9}\n' | validate --schema rec.schema.json > /dev/null 2>&1
is "$(sqlite3 s.db 'select count(*) from t where id = 9')" 0 "a state line is never a record"

# what would let progress run ahead of the sink is refused
run bash -o pipefail -c "paginate --checkpoint c.ck '$BASE/keyset?limit=50' | cat > /dev/null"
is "$rc" 64 "paginate --checkpoint into a pipe is refused"
like err 'use --state' "pointing to --state"
run bash -o pipefail -c "printf '%s\\n' '{\"u\":\"2026-01-01T00:00:00Z\"}' | watermark track --state wm --name x --order-field /u --commit-on-eof | cat"
is "$rc" 64 "watermark track --commit-on-eof into a pipe is refused"
run paginate --resume-from "$DB" "$BASE/keyset"
is "$rc" 64 "--resume-from needs --state"
done_testing
