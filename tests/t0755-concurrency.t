#!/bin/sh
# Many upsert runs at once, in SQLite and in PostgreSQL: 16 first runs on a
# fresh database all succeed (creating the table is serialised), and four
# --only-newer writers on the same keys in different orders leave every
# row at its newest version (the update is guarded in SQL, stored rows are
# locked in key order), in 3 seeded rounds.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

N=1500
backends=sqlite
if pg_start; then
	backends="sqlite postgresql"
else
	echo "ok 1 # SKIP PostgreSQL is not installed (.ci/run installs it)"
fi
newdb() {
	if [ "$B" = postgresql ]; then
		psql -X -q "postgresql:///postgres?host=$PGDIR&user=postgres" -c "CREATE DATABASE $1" > /dev/null
	fi
}
# wait_pids: wait for every process in $pids; $bad counts those that failed
wait_pids() {
	bad=0
	for p in $pids; do wait "$p" || bad=$((bad + 1)); done
}
vfield() {
	if [ "$B" = sqlite ]; then echo "json_extract(record, '\$.v')"; else echo "(record->>'v')::int"; fi
}

for B in $backends; do
	newdb first
	pids=
	for i in $(seq 1 16); do
		echo "{\"id\":$i,\"w\":$i}" | upsert --db "$(url first)" --table t --key /id \
			--watermark-name "shard$i" --order-field /id 2> "first.$i.err" &
		pids="$pids $!"
	done
	wait_pids
	is "$bad" 0 "$B: 16 first runs at once on a fresh database all succeed"
	[ "$bad" = 0 ] || diag "$(cat first.*.err | sort | uniq -c | head -3)"
	is "$(q first 'select count(*) from t')" 16 "$B: and all 16 rows landed"
	is "$(q first 'select count(*) from apipe_state')" 16 "$B: with their 16 watermarks"

	for seed in 1 2 3; do
		db=newer$seed
		newdb "$db"
		# four writers, each with its own version of every id (unique: the low
		# digit is the writer), each in its own shuffled order
		for w in 1 2 3 4; do
			awk -v n=$N -v w=$w -v s=$seed 'BEGIN {
				srand(s * 10 + w)
				for (i = 1; i <= n; i++) { id[i] = i; }
				for (i = n; i > 1; i--) { j = int(rand() * i) + 1; t = id[i]; id[i] = id[j]; id[j] = t }
				for (i = 1; i <= n; i++)
					printf "{\"id\":%d,\"v\":%d,\"by\":%d}\n", id[i], ((id[i] * 31 + w * 17 + s * 7) % 97) * 10 + w, w
			}' > "w$w.jsonl"
		done
		awk -F'[:,}]' '{ v = $4 + 0; if (v > best[$2 + 0]) best[$2 + 0] = v } END { for (i in best) print i "|" best[i] }' \
			w1.jsonl w2.jsonl w3.jsonl w4.jsonl | sort -n > want
		pids=
		for w in 1 2 3 4; do
			upsert --db "$(url "$db")" --table t --key /id --only-newer --order-field /v --batch 100 \
				< "w$w.jsonl" 2> "w$w.err" &
			pids="$pids $!"
		done
		wait_pids
		is "$bad" 0 "$B seed $seed: four concurrent --only-newer writers all succeed"
		[ "$bad" = 0 ] || diag "$(cat w*.err | head -3)"
		q "$db" "select id, $(vfield) from t" | sort -n > got
		is_file got want "$B seed $seed: every row holds its newest version"
	done

	# counts say what the database did; one watermark shared by four writers only grows
	newdb shared
	for w in 1 2 3 4; do
		awk -v w=$w 'BEGIN { for (i = 1; i <= 400; i++) printf "{\"id\":%d,\"v\":%d,\"t\":\"2026-01-01T00:%02d:%02dZ\"}\n", \
			(i * 7 + w) % 400 + 1, i * 10 + w, int((i * 4 + w) / 60) % 60, (i * 4 + w) % 60 }' > "s$w.jsonl"
	done
	pids=
	for w in 1 2 3 4; do
		upsert --db "$(url shared)" --table t --key /id --only-newer --order-field /v --batch 50 --stats "s$w.st" \
			--watermark-name shared --order-field /t < "s$w.jsonl" 2> "s$w.err" &
		pids="$pids $!"
	done
	wait_pids
	is "$bad" 0 "$B: four writers sharing one watermark all succeed"
	want=$(cat s1.jsonl s2.jsonl s3.jsonl s4.jsonl | jq -r .t | sort | tail -1)
	is "$(q shared "select value from apipe_state where name = 'shared'")" "\"$want\"" \
		"$B: the shared watermark is the newest of all (it never moved back)"
	is "$(jq -s 'map(.inserted + .updated + .unchanged + .skipped) | add' s?.st)" 1600 \
		"$B: every record is counted once"
	is "$(jq -s 'map(.inserted) | add' s?.st)" 400 "$B: exactly 400 inserts counted for 400 keys"

	# plain writers (no --only-newer) of the same keys, each batch in its own
	# order: rows are locked in key order, so no batch deadlocks and is replayed
	newdb plain
	pids=
	for w in 1 2 3 4; do
		upsert --db "$(url plain)" --table t --key /id --batch 300 < "w$w.jsonl" 2> "p$w.err" &
		pids="$pids $!"
	done
	wait_pids
	is "$bad:$(cat p?.err | grep -c 'replaying the batch')" "0:0" \
		"$B: four plain writers of the same keys in different orders: all succeed, no batch replayed"
	is "$(q plain 'select count(*) from t')" "$N" "$B: ... one row a key"
done
done_testing
