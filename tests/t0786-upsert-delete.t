#!/bin/sh
# upsert --delete-when on SQLite and PostgreSQL: a record flagged deleted
# removes its key's row in the batch's order; with --only-newer the delete
# is kept as a tombstone, so an older copy arriving later (in the same
# batch, a later run, or another writer at the same time) does not bring
# the row back, and a newer one does.  A flag of an unexpected type is bad
# input, named by its pointer.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

ids() { q "$1" "select id from ${2:-t} order by id" | tr '\n' ' '; }

# events.jsonl: 200 keys, versions t = 1..12 of each, every fourth version
# of a key a delete; want: the keys whose newest version is no delete, with it
awk 'BEGIN { srand(786); for (k = 1; k <= 200; k++) for (t = 1; t <= 12; t++) {
	d = (rand() < 0.25) ? ",\"deleted\":true" : ""
	printf "{\"id\":%d,\"t\":%d,\"v\":\"k%d-t%d\"%s}\n", k, t, k, t, d } }' > events.jsonl
jq -s -c 'group_by(.id) | map(max_by(.t)) | map(select(.deleted != true)) | .[]' events.jsonl |
	jq -r '"\(.id)|\(.v)"' | sort -n > want.kv

backend() {
	D=$(url del)
	printf '%s\n' '{"id":1,"v":"a"}' '{"id":2,"v":"b"}' '{"id":3,"v":"c"}' '{"id":4,"v":"d"}' \
		'{"id":5,"v":"e"}' > five.jsonl
	upsert --db "$D" --table t --key /id < five.jsonl
	printf '%s\n' '{"id":2,"deleted":true}' '{"id":3,"v":"c2","deleted":false}' '{"id":4,"deleted":true}' \
		'{"id":77,"deleted":true}' > del.jsonl
	run upsert --db "$D" --table t --key /id --delete-when /deleted --stats st.json < del.jsonl
	is "$rc:$(ids del)" "0:1 3 5 " "$B: deletes remove their keys' rows"
	is "$(jq -c '[.deleted, .updated]' st.json)" "[2,1]" "$B: --stats counts 2 deleted (a key never stored is none)"
	printf '%s\n' '{"id":6,"v":"x"}' '{"id":6,"deleted":true}' '{"id":6,"v":"y"}' \
		'{"id":1,"deleted":true}' '{"id":1,"v":"a2"}' '{"id":5,"v":"e2"}' '{"id":5,"deleted":true}' > seq.jsonl
	run upsert --db "$D" --table t --key /id --delete-when /deleted < seq.jsonl
	is "$rc:$(ids del)" "0:1 3 6 " "$B: in one batch, in input order: inserted, deleted, inserted again"
	is "$(q del "select record from t where id = 6" | jq -cS .)|$(q del "select record from t where id = 1" | jq -cS .)" \
		'{"id":6,"v":"y"}|{"id":1,"v":"a2"}' "$B: ... each key ends as its last record says"

	printf '%s\n' '{"id":3,"status":"deleted"}' '{"id":6,"status":"active"}' > status.jsonl
	run upsert --db "$D" --table t --key /id --delete-when /status=deleted < status.jsonl
	is "$rc:$(ids del)" "0:1 6 " "$B: --delete-when /status=deleted compares the string"
	printf '%s\n' '{"id":6,"deleted_at":null}' '{"id":1,"deleted_at":"2026-12-01T00:00:00Z"}' > at.jsonl
	run upsert --db "$D" --table t --key /id --delete-when /deleted_at < at.jsonl
	is "$rc:$(ids del)" "0:6 " "$B: a deleted_at string deletes, a null does not"

	printf '%s\n' '{"id":6,"deleted":1}' > num.jsonl
	run upsert --db "$D" --table t --key /id --delete-when /deleted < num.jsonl
	is "$rc:$(ids del)" "65:6 " "$B: a number as the flag is bad input (65), nothing deleted"
	like err "line 1: /deleted: a number as a delete flag" "$B: ... naming the line and the pointer"
	run upsert --db "$D" --table t --key /id --delete-when /deleted=1 < num.jsonl
	is "$rc:$(ids del)" "0:" "$B: --delete-when /deleted=1 takes it"
	printf '%s\n' '{"id":8,"v":"h"}' '{"id":9,"deleted":{"at":1}}' '{"id":10,"v":"j"}' > obj.jsonl
	run upsert --db "$D" --table t --key /id --delete-when /deleted --dead-letter dl.$B.jsonl < obj.jsonl
	is "$rc:$(ids del)" "0:8 10 " "$B: with --dead-letter an object as the flag goes there, the rest lands"
	is "$(jq -r '[.line, .errors[0].instance, .errors[0].message] | join(" ")' dl.$B.jsonl)" \
		"2 /deleted an object as a delete flag (true, false, null or a string; a number needs --delete-when POINTER=VALUE)" \
		"$B: ... with its line, pointer and reason"

	# tombstones: an older copy does not bring a deleted row back
	N="--delete-when /deleted --only-newer --order-field /t"
	printf '%s\n' '{"id":20,"t":1,"v":"a"}' '{"id":21,"t":1,"v":"b"}' > v1.jsonl
	upsert --db "$D" --table t --key /id $N < v1.jsonl
	printf '%s\n' '{"id":20,"t":5,"deleted":true}' '{"id":21,"t":5,"deleted":true}' '{"id":21,"t":4,"v":"late"}' > v5.jsonl
	run upsert --db "$D" --table t --key /id $N --stats st.json < v5.jsonl
	is "$rc:$(q del "select count(*) from t where id in (20, 21)")" "0:0" "$B: deleted with --only-newer"
	is "$(jq -c '[.deleted, .skipped]' st.json)" "[2,1]" "$B: ... the older copy in the same batch skipped"
	is "$(q del "select key from apipe_tombstones where tbl = 't' order by key" | tr '\n' ' ')" "[20] [21] " \
		"$B: the deletes are kept as tombstones"
	printf '%s\n' '{"id":20,"t":3,"v":"older"}' '{"id":21,"t":7,"v":"newer"}' > v7.jsonl
	run upsert --db "$D" --table t --key /id $N --stats st.json < v7.jsonl
	is "$rc:$(q del "select record from t where id in (20, 21)" | jq -cS .)" '0:{"id":21,"t":7,"v":"newer"}' \
		"$B: a later run: the older copy stays out, the newer one comes back"
	is "$(jq -c '[.inserted, .skipped]' st.json)" "[1,1]" "$B: ... counted as skipped and inserted"

	# four writers at once, each a shuffled quarter of the events
	for w in 1 2 3 4; do
		awk -v w=$w 'NR % 4 == w - 1' events.jsonl | shuf --random-source=events.jsonl > shard.$w
	done
	for w in 1 2 3 4; do
		upsert --db "$D" --table ev --key /id $N --batch 7 < shard.$w 2> w$w.err &
	done
	wait
	is "$(cat w1.err w2.err w3.err w4.err)" "" "$B: four writers at once, no error"
	q del "select id, record from ev order by id" | while IFS='|' read -r id rec; do
		printf '%s|%s\n' "$id" "$(printf '%s' "$rec" | jq -r .v)"; done > got.kv
	is_file got.kv want.kv "$B: the table is exactly each key's newest version, none that a delete ended"
	# and again in the opposite order into another table: the same result
	for w in 1 2 3 4; do
		tac shard.$w | upsert --db "$D" --table ev2 --key /id $N --batch 5 2>> rev.err &
	done
	wait
	q del "select id, record from ev2 order by id" | while IFS='|' read -r id rec; do
		printf '%s|%s\n' "$id" "$(printf '%s' "$rec" | jq -r .v)"; done > got2.kv
	is_file got2.kv want.kv "$B: ... whatever the order the events come in"
}

both_backends del
done_testing
