#!/bin/sh
# upsert into SQLite and PostgreSQL: idempotent replays, updates,
# --only-newer, composite keys, typed columns, bad input, and the
# watermark committed with its rows (kill -9 mid-run leaves both
# consistent).  PostgreSQL runs from Debian's postgresql package in a
# temporary directory on a unix socket; .ci/run installs it.
. "$APIPE_TOP/tests/lib.sh"

# gen N [VERSION] [NAME]: records 1..N with an increasing updated_at
gen() {
	awk -v n="$1" -v v="${2:-1}" -v nm="${3:-a}" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"org\":\"o%d\",\"updated_at\":\"2026-01-%02dT%02d:%02d:00Z\",\"version\":%d,\"name\":\"%s%d\",\"amount\":%d.25,\"active\":%s,\"tags\":[\"t%d\"]}\n",
				i, i % 3, 1 + int(i / 1440), int(i / 60) % 24, i % 60, v, nm, i, i, (i % 2 ? "true" : "false"), i % 5
	}'
}

# --- the backends: url NAME, q NAME SQL, field NAME (SQL for record's NAME) ---
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

field() {
	if [ "$B" = sqlite ]; then
		echo "json_extract(record, '\$.$1')"
	else
		echo "(record->>'$1')"
	fi
}
newdb() {
	if [ "$B" = pg ]; then
		psql -X -q "$(url postgres)" -c "CREATE DATABASE \"$1\"" > /dev/null
	fi
}

suite() {
	B=$1
	for db in t bad other w; do newdb $db; done
	U="upsert --db $(url t) --table items --key /id"
	C="--column name=/name:text --column amount=/amount:real --column active=/active:boolean --column updated=/updated_at:timestamp --column tags=/tags:json"
	ORDER="ORDER BY CAST(id AS BIGINT)"

	gen 2000 > v1.jsonl
	run $U $C --batch 1000 --stats st < v1.jsonl
	is "$rc" 0 "$B: 2,000 records land in a new table"
	is "$(jq -c '[.records, .inserted, .updated, .unchanged, .skipped, .dead_lettered, .batches]' st)" \
		"[2000,2000,0,0,0,0,2]" "$B: --stats: all inserted, in two batches of 1,000"
	is "$(q t 'SELECT count(*), count(DISTINCT id) FROM items')" "2000|2000" "$B: one row per key"
	if [ "$B" = sqlite ]; then
		is "$(q t "SELECT id, name, amount, active, updated, tags, typeof(id) FROM items WHERE id = 7")" \
			'7|a7|7.25|1|2026-01-01T00:07:00Z|["t2"]|integer' "$B: typed columns hold the typed values"
		q t "SELECT record FROM items $ORDER" > stored
		is_file stored v1.jsonl "$B: the record column holds each record byte for byte"
		is "$(q t 'PRAGMA journal_mode')" wal "$B: the database is in WAL mode"
	else
		is "$(q t "SET TIME ZONE 'UTC'; SELECT id, name, amount, active, updated, tags, pg_typeof(record) FROM items WHERE id = '7'")" \
			'7|a7|7.25|t|2026-01-01 00:07:00+00|["t2"]|jsonb' "$B: typed columns hold the typed values"
		q t "SELECT record FROM items $ORDER" | jq -c -S . > stored
		jq -c -S . v1.jsonl > want
		is_file stored want "$B: the record column holds each record (as jsonb)"
	fi

	q t "SELECT * FROM items $ORDER" > before
	run $U $C --stats st < v1.jsonl
	is "$(jq -c '[.inserted, .updated, .unchanged]' st)" "[0,0,2000]" "$B: the same input again: all unchanged"
	q t "SELECT * FROM items $ORDER" > after
	is_file after before "$B: replaying the same input leaves the table identical (ingested_at too)"

	gen 2000 2 b | sed -n '1~4p' > v2.jsonl
	run $U $C --stats st < v2.jsonl
	is "$(jq -c '[.inserted, .updated, .unchanged]' st)" "[0,500,0]" "$B: 500 changed records are updates"
	is "$(q t "SELECT substr(name, 1, 1), count(*) FROM items GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
		"a|1500 b|500 " "$B: the updates are applied"

	gen 2000 1 old | sed -n '1~4p' > older.jsonl
	run $U --only-newer --order-field /version --stats st < older.jsonl
	is "$(jq -c '[.updated, .skipped]' st)" "[0,500]" "$B: --only-newer: older copies are skipped"
	is "$(q t "SELECT count(*) FROM items WHERE $(field name) LIKE 'old%'")" 0 "$B: ... and change nothing"
	gen 2000 3 c | sed -n '1~2p' > newer.jsonl
	run $U --only-newer --order-field /version --stats st < newer.jsonl
	is "$(jq -c '[.updated, .skipped]' st)" "[1000,0]" "$B: --only-newer: newer copies are applied"
	run $U --stats st < older.jsonl
	is "$(jq -c '[.updated, .skipped]' st)" "[500,0]" "$B: without --only-newer the late copy overwrites"

	lines '{"org":"x","id":1,"v":1}' '{"org":"y","id":1,"v":1}' '{"org":"x","id":1,"v":2}' > comp.jsonl
	run upsert --db "$(url t)" --table orgitems --key /org,/id --stats st < comp.jsonl
	is "$(jq -c '[.inserted, .updated]' st)" "[2,1]" "$B: composite keys: (x,1) and (y,1) are two rows"
	is "$(q t "SELECT org, id, $(field v) FROM orgitems ORDER BY 1" | tr '\n' ' ')" 'x|1|2 y|1|1 ' \
		"$B: ... and the later (x,1) wins"
	lines '{"a":{"b":"k1"},"n":1}' > nested.jsonl
	run upsert --db "$(url t)" --table nested --key account=/a/b < nested.jsonl
	is "$(q t 'SELECT account FROM nested')" k1 "$B: a key column may be named: account=/a/b"

	lines '{"id":1,"n":5}' '{"id":2,"n":"five"}' '{"n":3}' 'not json' '{"id":5,"n":7}' > bad.jsonl
	run upsert --db "$(url bad)" --table t --key /id --column n=/n:integer < bad.jsonl
	is "$rc" 65 "$B: a value that does not fit its column stops the run (65)"
	like err '^upsert: line 2: /n: "five" does not fit column n \(integer\)' "$B: ... naming the line and pointer"
	# (PostgreSQL creates a table whose key --key does not type with its first batch)
	is "$(q bad 'SELECT count(*) FROM t' 2> /dev/null || echo none)" "$([ $B = sqlite ] && echo 0 || echo none)" \
		"$B: ... and commits nothing of the batch"
	rm -f dl.jsonl
	run upsert --db "$(url bad)" --table t --key /id --column n=/n:integer --dead-letter dl.jsonl --stats st < bad.jsonl
	is "$rc" 0 "$B: with --dead-letter the run goes on"
	is "$(jq -c '[.inserted, .dead_lettered]' st)" "[2,3]" "$B: ... two rows land, three go to the dead letter"
	is "$(jq -c '[.line, .errors[0].instance]' dl.jsonl | tr '\n' ' ')" '[2,"/n"] [3,"/id"] [4,null] ' \
		"$B: ... each with its line and pointer"
	is "$(sed -n 3p dl.jsonl | jq -r .input_text)" "not json" "$B: ... and a line that is not JSON is kept"

	q other 'CREATE TABLE items (id INTEGER PRIMARY KEY, record TEXT, ingested_at TEXT)'
	rt=$([ $B = pg ] && echo "--record-type text")
	run upsert --db "$(url other)" --table items --key /uid --column name=/name $rt < v1.jsonl
	is "$rc" 78 "$B: an existing table without the key column is a configuration error"
	like err 'table items exists without a column uid' "$B: ... naming the column"
	is "$(q other "select count(*) from items")" 0 "$B: ... and nothing was changed"
	run upsert --db "$(url other)" --table items --key /id --column name=/name $rt < v1.jsonl
	is "$rc" 0 "$B: a column the table lacks is added (t0780 has the rest)"

	# the watermark, in the same transaction: the input pauses inside the
	# eleventh batch (what is held lands then), then kill -9
	W="upsert --db $(url w) --table items --key /id --batch 100 --watermark-name items --order-field /updated_at"
	gen 2000 > all.jsonl
	head -1050 all.jsonl > first
	rm -f feed
	mkfifo feed
	$W < feed &
	pid=$!
	exec 3> feed
	cat first >&3
	i=0
	until [ "$(q w 'SELECT count(*) FROM items' 2>/dev/null)" = 1050 ] || [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.3
	kill -9 $pid
	wait $pid 2>/dev/null
	exec 3>&-
	is "$(q w 'SELECT count(*) FROM items')" 1050 "$B: a paused input lands what was held: ten batches and the 50 of the eleventh"
	is "$(watermark get --db "$(url w)" --name items)" "$(q w "SELECT max($(field updated_at)) FROM items")" \
		"$B: ... and the watermark is the max of exactly those rows"
	run $W --stats st < all.jsonl
	is "$rc:$(jq -c '[.inserted, .unchanged]' st)" "0:[950,1050]" "$B: the rerun lands the rest, the landed rows unchanged"
	is "$(watermark get --db "$(url w)" --name items)" "2026-01-02T09:20:00Z" "$B: the watermark is the dataset's max"
	head -10 all.jsonl | $W
	is "$(watermark get --db "$(url w)" --name items)" "2026-01-02T09:20:00Z" \
		"$B: an older batch never moves the watermark back"
	is "$(watermark get --db "$(url w)" --name items --lookback 20m)" "2026-01-02T09:00:00Z" \
		"$B: watermark get --db takes --lookback"
	run watermark get --db "$(url w)" --name other
	is "$rc" 66 "$B: a watermark upsert never wrote: exit 66"

	if [ "$B" = pg ]; then
		# the connection is lost inside a batch: reconnect and replay it
		newdb lost
		rm -f feed
		mkfifo feed
		upsert --db "$(url lost)" --table items --key /id --batch 100 --stats lost.st < feed 2> lost.err &
		pid=$!
		exec 3> feed
		head -1050 all.jsonl >&3
		i=0
		until [ "$(q lost 'SELECT count(*) FROM items' 2>/dev/null)" = 1050 ] || [ $i -ge 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep 0.3
		q postgres "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'lost'" > /dev/null
		tail -n +1051 all.jsonl >&3
		exec 3>&-
		rc=0
		wait $pid || rc=$?
		is "$rc" 0 "$B: a connection lost under a run: the run goes on"
		like lost.err 'replaying the batch \(1\)' "$B: ... saying it replays the batch"
		is "$(q lost 'SELECT count(*), count(DISTINCT id) FROM items')" "2000|2000" "$B: ... and every record lands once"
		# 10 batches, the 50 the pause landed, then the rest (more batches when
		# the input pauses again while it is written)
		is "$(jq -c '[.inserted, .batches >= 21]' lost.st)" "[2000,true]" "$B: ... counted once"
	else
		# another writer holds the database for a while: wait for it
		(echo 'BEGIN EXCLUSIVE;'; sleep 1.5; echo 'COMMIT;') | sqlite3 "$(url t)" &
		sleep 0.3
		run $U --stats st < v2.jsonl
		is "$rc:$(jq -c '[.updated]' st)" "0:[500]" "$B: a database locked by another writer is waited for"
		wait
	fi
}

suite sqlite

run upsert --db t.db --table items --key /id --column record=/x < v1.jsonl
is "$rc" 64 "a column may not be called record"
run upsert --db t.db --table items < v1.jsonl
is "$rc" 64 "--key is required"
run upsert --db t.db --table items --key /id --watermark-name x < v1.jsonl
is "$rc" 64 "--watermark-name needs --order-field"
run upsert --db postgresql:///nope?host=/nonexistent --table items --key /id < v1.jsonl
is "$rc" 75 "a PostgreSQL server that cannot be reached, after retries: 75"

if pg_start; then
	suite pg
	# the record column: jsonb (values) by default, json or text (bytes) on request
	P="postgresql:///postgres?host=$PGDIR&user=postgres"
	printf '%s\n' '{"id":1,"z":739.5e-3,"a":{"y":1,"b":2}}' > exact.jsonl
	for rt in json text; do
		run upsert --db "$P" --table "exact_$rt" --key /id --record-type "$rt" < exact.jsonl
		is "$rc" 0 "pg: --record-type $rt"
		is "$(psql -X -At "$P" -c "select record from exact_$rt")" "$(cat exact.jsonl)" \
			"pg: --record-type $rt keeps the record byte for byte"
		run upsert --db "$P" --table "exact_$rt" --key /id --record-type "$rt" < exact.jsonl
		is "$(psql -X -At "$P" -c "select count(*) from exact_$rt")" 1 "pg: $rt: a replay is unchanged"
	done
	run upsert --db "$P" --table exact_jb --key /id < exact.jsonl
	is "$(psql -X -At "$P" -c "select record->>'z' from exact_jb")" 0.7395 "pg: jsonb (the default) keeps the value, not the text"
	run upsert --db "$P" --table exact_json --key /id < exact.jsonl
	is "$rc" 78 "pg: a table kept as json refuses to be written as jsonb"
	like err 'keeps its records as json' "saying which type it keeps"
	printf '%s\n' '{"id":1,"z":1,"v":"2026-01-02T00:00:00Z"}' '{"id":1,"z":2,"v":"2026-01-01T00:00:00Z"}' > tv.jsonl
	run upsert --db "$P" --table exact_tv --key /id --record-type text --only-newer --order-field /v < tv.jsonl
	is "$(psql -X -At "$P" -c "select record::jsonb->>'z' from exact_tv")" 1 "pg: --only-newer with text records"
	pg_stop
else
	echo "ok $((tap_n + 1)) # SKIP PostgreSQL is not installed (apt-get install postgresql)"
	tap_n=$((tap_n + 1))
fi

done_testing
