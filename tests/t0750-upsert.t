#!/bin/sh
# upsert into SQLite: idempotent replays, updates, --only-newer, composite
# keys, typed columns, bad input, and the watermark committed with its rows
# (kill -9 mid-run leaves both consistent).
. "$APIPE_TOP/tests/lib.sh"

# gen N [VERSION] [NAME]: records 1..N with an increasing updated_at
gen() {
	awk -v n="$1" -v v="${2:-1}" -v nm="${3:-a}" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"org\":\"o%d\",\"updated_at\":\"2026-01-%02dT%02d:%02d:00Z\",\"version\":%d,\"name\":\"%s%d\",\"amount\":%d.25,\"active\":%s,\"tags\":[\"t%d\"]}\n",
				i, i % 3, 1 + int(i / 1440), int(i / 60) % 24, i % 60, v, nm, i, i, (i % 2 ? "true" : "false"), i % 5
	}'
}
dump() {
	sqlite3 "$1" "SELECT * FROM ${2:-items} ORDER BY 1, 2"
}
U="upsert --db t.db --table items --key /id"

gen 2000 > v1.jsonl
run $U --column name=/name:text --column amount=/amount:real --column active=/active:boolean \
	--column updated=/updated_at:timestamp --column tags=/tags:json --stats st < v1.jsonl
is "$rc" 0 "2,000 records land in a new table"
is "$(jq -c '[.records, .inserted, .updated, .unchanged, .skipped, .dead_lettered, .batches]' st)" \
	"[2000,2000,0,0,0,0,2]" "--stats: all inserted, in two batches of 1,000"
is "$(sqlite3 t.db 'SELECT count(*), count(DISTINCT id) FROM items')" "2000|2000" "one row per key"
is "$(sqlite3 t.db "SELECT id, name, amount, active, updated, tags, typeof(id) FROM items WHERE id = 7")" \
	'7|a7|7.25|1|2026-01-01T00:07:00Z|["t2"]|integer' "typed columns hold the typed values"
sqlite3 t.db "SELECT record FROM items ORDER BY id" > stored
is_file stored v1.jsonl "the record column holds each record byte for byte"
is "$(sqlite3 t.db 'PRAGMA journal_mode')" wal "the database is in WAL mode"

dump t.db > before
run $U --column name=/name:text --column amount=/amount:real --column active=/active:boolean \
	--column updated=/updated_at:timestamp --column tags=/tags:json --stats st < v1.jsonl
is "$(jq -c '[.inserted, .updated, .unchanged]' st)" "[0,0,2000]" "the same input again: all unchanged"
dump t.db > after
is_file after before "replaying the same input leaves the table identical (ingested_at too)"

gen 2000 2 b | sed -n '1~4p' > v2.jsonl
run $U --column name=/name:text --column amount=/amount:real --column active=/active:boolean \
	--column updated=/updated_at:timestamp --column tags=/tags:json --stats st < v2.jsonl
is "$(jq -c '[.inserted, .updated, .unchanged]' st)" "[0,500,0]" "500 changed records are updates"
is "$(sqlite3 t.db "SELECT substr(name, 1, 1), count(*) FROM items GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
	"a|1500 b|500 " "the updates are applied"

# --- --only-newer -----------------------------------------------------------------
gen 2000 1 old | sed -n '1~4p' > older.jsonl
run $U --only-newer /version --stats st < older.jsonl
is "$(jq -c '[.updated, .skipped]' st)" "[0,500]" "--only-newer: older copies are skipped"
is "$(sqlite3 t.db "SELECT count(*) FROM items WHERE record LIKE '%\"old%'")" 0 "... and change nothing"
gen 2000 3 c | sed -n '1~2p' > newer.jsonl
run $U --only-newer /version --stats st < newer.jsonl
is "$(jq -c '[.updated, .skipped]' st)" "[1000,0]" "--only-newer: newer copies are applied"
run $U --stats st < older.jsonl
is "$(jq -c '[.updated, .skipped]' st)" "[500,0]" "without --only-newer the late copy overwrites"

# --- composite keys ---------------------------------------------------------------
lines '{"org":"x","id":1,"v":1}' '{"org":"y","id":1,"v":1}' '{"org":"x","id":1,"v":2}' > comp.jsonl
run upsert --db t.db --table orgitems --key /org,/id --stats st < comp.jsonl
is "$(jq -c '[.inserted, .updated]' st)" "[2,1]" "composite keys: (x,1) and (y,1) are two rows"
is "$(sqlite3 t.db 'SELECT org, id, record FROM orgitems ORDER BY 1' | tr '\n' ' ')" \
	'x|1|{"org":"x","id":1,"v":2} y|1|{"org":"y","id":1,"v":1} ' "... and the later (x,1) wins"
lines '{"a":{"b":"k1"},"n":1}' > nested.jsonl
run upsert --db t.db --table nested --key account=/a/b < nested.jsonl
is "$(sqlite3 t.db 'SELECT account FROM nested')" k1 "a key column may be named: account=/a/b"

# --- bad input ----------------------------------------------------------------------
lines '{"id":1,"n":5}' '{"id":2,"n":"five"}' '{"n":3}' 'not json' '{"id":5,"n":7}' > bad.jsonl
run upsert --db bad.db --table t --key /id --column n=/n:integer < bad.jsonl
is "$rc" 65 "a value that does not fit its column stops the run (65)"
like err '^upsert: line 2: /n: "five" does not fit column n \(integer\)' "... naming the line and pointer"
is "$(sqlite3 bad.db 'SELECT count(*) FROM t')" 0 "... and commits nothing of the batch"
run upsert --db bad.db --table t --key /id --column n=/n:integer --dead-letter dl.jsonl --stats st < bad.jsonl
is "$rc" 0 "with --dead-letter the run goes on"
is "$(jq -c '[.inserted, .dead_lettered]' st)" "[2,3]" "... two rows land, three go to the dead letter"
is "$(jq -c '[.line, .errors[0].instance]' dl.jsonl | tr '\n' ' ')" '[2,"/n"] [3,"/id"] [4,null] ' \
	"... each with its line and pointer"
is "$(sed -n 3p dl.jsonl | jq -r .input_text)" "not json" "... and a line that is not JSON is kept"

sqlite3 other.db 'CREATE TABLE items (id INTEGER PRIMARY KEY, record TEXT, ingested_at TEXT)'
run upsert --db other.db --table items --key /id --column name=/name < v1.jsonl
is "$rc" 78 "an existing table without a needed column is a configuration error"
like err 'table items exists without a column name' "... naming the column"
run upsert --db t.db --table items --key /id --column record=/x < v1.jsonl
is "$rc" 64 "a column may not be called record"
run upsert --db t.db --table items < v1.jsonl
is "$rc" 64 "--key is required"
run upsert --db t.db --table items --key /id --watermark-name x < v1.jsonl
is "$rc" 64 "--watermark-name needs --watermark-field"
run upsert --db postgresql://localhost/x --table items --key /id < v1.jsonl
is "$rc" 78 "a PostgreSQL URL is refused until that sink exists"

# --- the watermark, in the same transaction --------------------------------------
W="upsert --db w.db --table items --key /id --batch 100 --watermark-name items --watermark-field /updated_at"
gen 2000 > all.jsonl
head -1050 all.jsonl > first
tail -n +1051 all.jsonl > rest
mkfifo feed
$W < feed &
pid=$!
exec 3> feed
cat first >&3
i=0
until [ "$(sqlite3 w.db 'SELECT count(*) FROM items' 2>/dev/null)" = 1000 ] || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.3
kill -9 $pid
wait $pid 2>/dev/null
exec 3>&-
is "$(sqlite3 w.db 'SELECT count(*) FROM items')" 1000 "kill -9 mid-batch: only the ten whole batches are there"
is "$(watermark get --db w.db --name items)" "$(sqlite3 w.db 'SELECT max(json_extract(record, "$.updated_at")) FROM items')" \
	"... and the watermark is the max of exactly those rows"
run $W --stats st < all.jsonl
is "$rc:$(jq -c '[.inserted, .unchanged]' st)" "0:[1000,1000]" "the rerun lands the rest, the landed rows unchanged"
is "$(watermark get --db w.db --name items)" "2026-01-02T09:20:00Z" "the watermark is the dataset's max"
head -10 all.jsonl | $W
is "$(watermark get --db w.db --name items)" "2026-01-02T09:20:00Z" "an older batch never moves the watermark back"
is "$(watermark get --db w.db --name items --lookback 20m)" "2026-01-02T09:00:00Z" "watermark get --db takes --lookback"
run watermark get --db w.db --name other
is "$rc" 66 "a watermark upsert never wrote: exit 66"

done_testing
