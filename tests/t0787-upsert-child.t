#!/bin/sh
# upsert --child on SQLite and PostgreSQL: each element of a record's
# array lands in a table of its own under the parent's key and its
# position, replaced with its parent in the parent's transaction: a new
# version brings exactly its elements, an emptied array leaves none, a
# deleted parent takes its children along, and an older version skipped
# by --only-newer leaves them alone.  Killed runs and four writers at once
# leave every parent with exactly the children its record holds.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

# consistent DB PARENT CHILD POINTER: the children the parents' records hold
# (key, position, element), and those the child table holds, are the same
consistent() {
	q "$1" "select record from $2" | jq -c --arg p "$4" \
		'. as $r | (getpath($p | ltrimstr("/") | split("/")) // []) | to_entries[] |
		 [($r.id | tostring), .key, (.value | tojson)]' | jq -c '[.[0], .[1], (.[2] | fromjson | tojson)]' |
		sort > want.children
	q "$1" "select id, position, record from $3" | while IFS='|' read -r id pos rec; do
		printf '["%s",%s,%s]\n' "$id" "$pos" "$(printf '%s' "$rec" | jq -c .)"; done |
		jq -c '[.[0], .[1], (.[2] | tojson)]' | sort > got.children
	cmp -s want.children got.children
}

backend() {
	D=$(url ch)
	printf '%s\n' '{"id":1,"items":[{"sku":"a","q":1},{"sku":"b","q":2.50}],"tags":["x"]}' \
		'{"id":2,"items":[],"tags":["y","z"]}' '{"id":3}' '{"id":4,"items":null}' \
		'{"id":5,"items":[7,"s",true,null,[1]]}' > p1.jsonl
	run upsert --db "$D" --table o --key /id --child /items=o_items --child /tags=o_tags < p1.jsonl
	is "$rc" 0 "$B: parents with arrays land"
	is "$(q ch "select id, position from o_items order by id, position" | tr '\n' ' ')" \
		"1|0 1|1 5|0 5|1 5|2 5|3 5|4 " "$B: a row per element, under the parent's key and position"
	if [ "$B" = sqlite ]; then
		is "$(q ch "select record from o_items where id = 1 order by position" | tr '\n' ' ')" \
			'{"sku":"a","q":1} {"sku":"b","q":2.50} ' "sqlite: each element is the child's record, byte for byte"
	else
		is "$(q ch "select record from o_items where id = 1 order by position" | tr '\n' ' ')" \
			'{"q": 1, "sku": "a"} {"q": 2.50, "sku": "b"} ' "pg: each element is the child's record (jsonb)"
	fi
	is "$(q ch "select count(*) from o_tags")" 3 "$B: a second --child lands in its own table"
	is "$(q ch "select count(*) from o join o_items using (id)")" 7 "$B: children join their parents by key"
	if [ "$B" = pg ]; then
		is "$(q ch "select data_type from information_schema.columns where table_name = 'o_items' and column_name = 'id'")" \
			bigint "pg: the child's key is typed as the parent's"
	fi
	ok "$(consistent ch o o_items /items; echo $?)" "$B: every parent has exactly the children its record holds"

	printf '%s\n' '{"id":1,"items":[{"sku":"c"}],"tags":["x"]}' '{"id":5,"items":[]}' \
		'{"id":2,"items":[{"sku":"d"},{"sku":"e"}]}' > p2.jsonl
	run upsert --db "$D" --table o --key /id --child /items=o_items < p2.jsonl
	is "$(q ch "select id, position from o_items order by id, position" | tr '\n' ' ')" \
		"1|0 2|0 2|1 " "$B: a new version replaces the children; an emptied array leaves none"
	ok "$(consistent ch o o_items /items; echo $?)" "$B: ... consistent"

	echo '{"id":2,"deleted":true}' > d.jsonl
	run upsert --db "$D" --table o --key /id --child /items=o_items --delete-when /deleted < d.jsonl
	is "$rc:$(q ch "select count(*) from o_items where id = 2")" "0:0" "$B: a deleted parent takes its children along"

	printf '%s\n' '{"id":6,"items":[1]}' '{"id":7,"items":{"a":1}}' '{"id":8,"items":[2]}' > bad.jsonl
	run upsert --db "$D" --table o --key /id --child /items=o_items < bad.jsonl
	is "$rc:$(q ch "select count(*) from o where id >= 6")" "65:0" "$B: an object where an array belongs: 65, nothing of the batch"
	like err "line 2: /items: an object where --child o_items wants an array" "$B: ... naming the line and pointer"
	run upsert --db "$D" --table o --key /id --child /items=o_items --dead-letter dl.$B < bad.jsonl
	is "$rc:$(q ch "select id from o_items where id >= 6 order by id" | tr '\n' ' ')" "0:6 8 " \
		"$B: with --dead-letter it goes there and the rest lands"

	N="--only-newer --order-field /t"
	printf '%s\n' '{"id":10,"t":5,"items":["new"]}' > v5.jsonl
	printf '%s\n' '{"id":10,"t":3,"items":["old","older"]}' > v3.jsonl
	upsert --db "$D" --table o --key /id --child /items=o_items $N < v5.jsonl
	run upsert --db "$D" --table o --key /id --child /items=o_items $N < v3.jsonl
	is "$rc:$(q ch "select record from o_items where id = 10")" '0:"new"' \
		"$B: an older version skipped by --only-newer leaves the children alone"

	# killed runs: what committed is consistent
	awk 'BEGIN { srand(787); for (i = 0; i < 600; i++) { k = int(rand() * 60) + 100
		printf "{\"id\":%d,\"v\":%d,\"items\":[", k, i; n = int(rand() * 4)
		for (j = 0; j < n; j++) printf "%s{\"n\":%d}", j ? "," : "", i * 10 + j
		printf "]}\n" } }' > many.jsonl
	for s in 0.3 0.6 0.9; do
		( while read -r l; do printf '%s\n' "$l"; sleep 0.002; done < many.jsonl ) |
			upsert --db "$D" --table k --key /id --child /items=k_items --batch 5 2> /dev/null &
		bg=$!
		sleep $s
		kill -9 $bg 2> /dev/null
		wait $bg 2> /dev/null
		# the server ends a killed client's transaction on its own time: wait for
		# its session to go, so the two reads below see one state
		i=0
		while [ "$B" = pg ] && [ $i -lt 200 ] && [ "$(q ch "select count(*) from pg_stat_activity \
			where datname = 'ch' and pid <> pg_backend_pid()")" != 0 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		ok "$(consistent ch k k_items /items; echo $?)" "$B: killed after ${s}s: every parent with exactly its children"
	done

	# four writers at once
	for w in 1 2 3 4; do
		awk -v w=$w 'NR % 4 == w - 1' many.jsonl |
			upsert --db "$D" --table f --key /id --child /items=f_items --batch 3 2> w$w.err &
	done
	wait
	is "$(cat w1.err w2.err w3.err w4.err)" "" "$B: four writers at once, no error"
	consistent ch f f_items /items
	r=$?
	ok $r "$B: ... every parent with exactly its children"
	[ $r = 0 ] || diag "$(diff want.children got.children | head -5)"
}

both_backends ch
done_testing
