#!/bin/sh
# The whole pipeline under chaos: examples/sync.sh against the mock API with
# 30% injected faults (429 with Retry-After as seconds or a date, 5xx,
# dropped connections, truncated bodies), OAuth2 tokens shorter than a run,
# records inserted and others deleted (flagged, with a newer updated_at)
# while the crawl runs, and the pipeline killed (kill -9, every process of
# it) at 20 seeded random moments, each followed by a rerun.  The SQLite
# table must end as exactly the dataset less its deleted records, each
# record's tags as exactly its rows of a child table, the watermark as the
# newest updated_at, the archive must verify, and replaying the archive
# into a new database must give the same tables.
. "$APIPE_TOP/tests/lib.sh"

N=3000
export CHAOS_SECRET=chaos-secret-4f1d
start_mock chaos --records $N --fault-rate 30 --seed 11 --auth oauth2 --client-id cid \
	--client-secret env:CHAOS_SECRET --token-ttl 0.3 --latency-ms 40 \
	--mutate-after 40 --mutate-insert 40 --no-mutate-update --mutate-delete
A="-q --retry 12 --retry-delay 0.01 --max-delay 0.05 --client-id cid --client-secret env:CHAOS_SECRET"
A="$A --oauth2-token-url $BASE/oauth/token"
STATE=$PWD/state
UPSERT_OPTS="--delete-when /deleted --child /tags=item_tags"
export API=$BASE STATE UPSERT_OPTS
sync_cmd="bash $APIPE_TOP/examples/sync.sh $A"

# sleeps: seeded, between 0.05 and 1.25 s (a whole crawl takes about 1.5 s)
awk 'BEGIN { srand(20261123); for (i = 0; i < 20; i++) printf "%.3f\n", 0.05 + rand() * 1.2 }' > sleeps
kill_rounds sleeps "$sync_cmd"
k=$killed
done_runs=$finished
diag "$k runs killed, $done_runs finished before their kill"
is "$([ "$k" -ge 10 ] && echo yes)" yes "most runs were killed mid-flight ($k of 20)"
run sh -c "$sync_cmd"
is "$rc" 0 "the run after the kills completes"
run sh -c "$sync_cmd"
is "$rc" 0 "... and an incremental run after it"

# the dataset, as the API holds it now (paginate retries through the faults)
paginate $A --style keyset --order-field /id --order-param since_id "$BASE/keyset?limit=100" | records > dataset.jsonl
is "$(wc -l < dataset.jsonl)" "$((N + 40))" "the API holds $N records and the 40 inserted during the crawls"
grep -v '"deleted":true' dataset.jsonl > live.jsonl
ndel=$(grep -c '"deleted":true' dataset.jsonl)
is "$([ "$ndel" -gt 100 ] && echo many)" many "the API deleted records during the crawls ($ndel)"
sqlite3 state/items.db 'select record from items order by id' > table.jsonl
is_file table.jsonl live.jsonl "the table holds exactly the dataset less its deleted records, byte for byte"
is "$(sqlite3 state/items.db 'select count(*), count(distinct id) from items')" "$((N + 40 - ndel))|$((N + 40 - ndel))" \
	"... one row per id"
is "$(sqlite3 state/items.db "select count(*) from apipe_tombstones where tbl = 'items'")" "$ndel" \
	"... and a tombstone per deleted record"
# tags: each live record's, as rows (id, position, tag) of the child table
tags() { jq -r '.id as $i | .tags | to_entries[] | "\($i)|\(.key)|\(.value | tojson)"' "$1" | sort; }
tags live.jsonl > want.tags
sqlite3 state/items.db 'select id, position, record from item_tags' | sort > got.tags
is_file got.tags want.tags "the child table holds exactly each live record's tags"
is "$(watermark get --state state --name items)" "$(jq -r .updated_at dataset.jsonl | sort | tail -1)" \
	"the watermark is the dataset's newest updated_at"

run store-raw --replay --verify state/archive
is "$rc" 0 "the archive's manifest and every segment's SHA-256 verify"
is "$(grep -c "$CHAOS_SECRET" out || true)" 0 "the archive holds no client secret"
is "$(grep -Eci '"authorization":"bearer [^r]' out || true)" 0 "... and no bearer token"
DB=$PWD/rebuilt.db bash "$APIPE_TOP/examples/replay.sh" 2>replay.err
is "$?" 0 "replaying the archive into a new database works"
sqlite3 rebuilt.db 'select record from items order by id' > rebuilt.jsonl
is_file rebuilt.jsonl live.jsonl "... and gives the same table, without the API"
sqlite3 rebuilt.db 'select id, position, record from item_tags' | sort > rebuilt.tags
is_file rebuilt.tags want.tags "... and the same child table"

faults=$(grep -c '"fault":"[a-z0-9]' chaos.log || true)
tokens=$(grep -c '"path":"/oauth/token"' chaos.log || true)
is "$([ "$faults" -gt 30 ] && echo many)" many "faults were injected ($faults)"
is "$([ "$tokens" -gt 10 ] && echo many)" many "tokens expired and were fetched again ($tokens)"
ra_s=$(grep -c '"fault":"\(429\|503\)"' chaos.log || true)
ra_d=$(grep -c '"fault":"\(429\|503\) retry-after-date"' chaos.log || true)
is "$([ "$ra_s" -gt 0 ] && [ "$ra_d" -gt 0 ] && echo both)" both \
	"429s and 503s came with Retry-After in seconds ($ra_s) and as an HTTP-date ($ra_d)"
for f in drop truncate 500 502 504; do
	is "$([ "$(grep -c "\"fault\":\"$f\"" chaos.log)" -gt 0 ] && echo yes)" yes "faults of kind $f were injected"
done
grep -v "^==[0-9]*==Unable to get registers from thread" rounds.err | grep -v '^$' > errors || true
diag "messages of the killed runs (recoveries and the like):" "$(sort errors | uniq -c | sort -rn | head -5)"
done_testing
