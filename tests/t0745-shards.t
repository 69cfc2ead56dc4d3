#!/bin/sh
# examples/shards.sh: 8 shards of one listing into one table, 4 at a time,
# against a mock API with faults, the whole script killed with kill -9 at
# seeded moments and rerun until it succeeds: one table with every record
# exactly once, every shard's watermark exact, every shard's crawl state
# complete; and a shard whose stage fails fails the script.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

# one PostgreSQL table when the server is installed (.ci/run installs it), else SQLite
if pg_start; then
	DB="postgresql:///postgres?host=$PGDIR&user=postgres"
	q() { psql -X -q -At "$DB" -c "$1"; }
	ORDER=id::bigint
	export RECORD_TYPE=text	# records kept byte for byte, to compare them so
	diag "the shards land in PostgreSQL"
else
	DB="$PWD/t.db"
	q() { sqlite3 "$DB" "$1"; }
	ORDER=id
	diag "PostgreSQL is not installed: the shards land in SQLite"
fi
N=3200
start_mock sh --records $N --fault-rate 20 --seed 9 --latency-ms 40
export DB TABLE=items URL="$BASE/keyset?limit=40&shard={}&shards=8"
P="--style keyset --order-field /id --order-param since_id --retry 12 --retry-delay 0.01 --max-delay 0.05"
SH="bash $APIPE_TOP/examples/shards.sh -j 4 0 1 2 3 4 5 6 7 -- $P"

awk 'BEGIN { srand(745); for (i = 0; i < 8; i++) printf "%.3f\n", 0.1 + rand() * 1.0 }' > sleeps
kill_rounds sleeps "$SH"
k=$killed
diag "$k of 8 runs killed"
is "$([ "$k" -ge 4 ] && echo yes)" yes "most runs were killed mid-flight"
rc=1
for attempt in 1 2 3; do
	rc=0
	$SH > /dev/null 2>> runs.err || rc=$?
	[ "$rc" = 0 ] && break
done
is "$rc" 0 "the script completes after the kills"
paginate -q $P "$BASE/keyset?limit=40" | records > dataset.jsonl
is "$(wc -l < dataset.jsonl | tr -d ' ')" "$N" "the dataset"
q "select record from items order by $ORDER" > table.jsonl
is_file table.jsonl dataset.jsonl "one table holds every record exactly once"
for s in 0 1 2 3 4 5 6 7; do
	want=$(jq -r "select(.id % 8 == $s) | .updated_at" dataset.jsonl | sort | tail -1)
	is "$(q "select value from apipe_state where name = 'items-$s'")" "\"$want\"" \
		"shard $s: its watermark is its newest updated_at"
done
is "$(q "select count(*) from apipe_state where name like 'crawl-%' and value = '{\"version\":1,\"complete\":true}'")" \
	8 "every shard's crawl state is complete"

# the README's line as printed: the API key in KEY, which is not the records' key
KEY=api-key-5f4e3d2c1b
export KEY
rc=0
TABLE=readme URL="$BASE/keyset?limit=40&shard={}&shards=8" \
	bash "$APIPE_TOP/examples/shards.sh" -j 8 0 1 2 3 4 5 6 7 -- --api-key-header X-Api-Key=env:KEY \
	$P > /dev/null 2> readme.err || rc=$?
is "$rc" 0 "the README's sharding line, with the API key in KEY: exit 0"
is "$(q "select count(*) from readme")" "$N" "... every record landed"
unlike readme.err "$KEY" "... and the key is never printed"
unset KEY

# a failing stage fails its shard, and so the script
rc=0
URL="$BASE/nosuch/{}" bash "$APIPE_TOP/examples/shards.sh" -j 2 a b -- --retry 0 > /dev/null 2> fail.err || rc=$?
is "$([ "$rc" -ne 0 ] && echo failed)" failed "a shard whose paginate fails makes the script fail"
like fail.err 'run again to resume' "and it says how to resume"
done_testing
