#!/bin/sh
# upsert follows the data, on SQLite and PostgreSQL: typed keys (an
# integer key is an integer column), --columns-from a JSON Schema, a column
# asked for between two runs added and filled from the stored records, a
# stored value that does not fit refusing the new column (nothing
# rewritten), a column of another type never changed, and two first runs
# (or two runs adding the same column) at once both landing everything.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

# coltype DB TABLE COLUMN: the column's declared type, lower case
coltype() {
	if [ "$B" = sqlite ]; then
		q "$1" "select lower(type) from pragma_table_info('$2') where name = '$3'"
	else
		q "$1" "select data_type from information_schema.columns where table_name = '$2' and column_name = '$3'"
	fi
}

printf '%s\n' '{"id":1,"name":"a","price":1.50,"tags":["x"],"qty":1}' \
	'{"id":2,"name":"b","price":null,"tags":[],"qty":2}' \
	'{"id":3,"name":"c","price":12345.25,"qty":"many"}' > run1.jsonl
printf '%s\n' '{"id":4,"name":"d","price":0.5,"tags":["y","z"],"qty":4}' \
	'{"id":5,"name":"e","qty":5}' > run2.jsonl
cat > cols.schema.json <<'EOF'
{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":["string","null"]},
 "at":{"type":"string","format":"date-time"},"ok":{"type":"boolean"},"meta":{"type":"object"},
 "score":{"type":"number"},"record":{"type":"string"}}}
EOF
printf '%s\n' '{"id":1,"name":"n","at":"2026-01-01T00:00:00+02:00","ok":true,"meta":{"a":1},"score":2.5,"record":"r"}' > typed.jsonl

backend() {
	D=$(url evo)
	run upsert --db "$D" --table t --key id=/id:integer --column name=/name < run1.jsonl
	is "$rc" 0 "$B: first run, an integer key"
	is "$(coltype evo t id)" "$([ $B = sqlite ] && echo integer || echo bigint)" "$B: the key is an integer column"
	run upsert --db "$D" --table t --key id=/id:integer --column name=/name \
		--column price=/price:real --column tags=/tags:json < run2.jsonl
	is "$rc" 0 "$B: a second run asks for two more columns"
	is "$(q evo 'select count(*) from t')" 5 "$B: five rows"
	is "$(q evo "select id, coalesce(cast(price as text), '-') from t order by id" | tr '\n' ' ')" \
		"1|1.5 2|- 3|12345.25 4|0.5 5|- " "$B: price filled from the stored records, and for the new rows"
	is "$(q evo "select id, coalesce(cast(tags as text), '-') from t where id in (1, 2, 5) order by id" | tr -d ' ' | tr '\n' ' ')" \
		'1|["x"] 2|[] 5|- ' "$B: tags too, as JSON"
	run upsert --db "$D" --table t --key id=/id:integer --column name=/name --column note=/note:text < /dev/null
	is "$rc:$(coltype evo t note)" "0:" "$B: no records, no batch: a column no batch needed is not added"
	echo '{"id":6,"name":"f","qty":6}' > run3.jsonl
	run upsert --db "$D" --table t --key id=/id:integer --column name=/name --column qty=/qty:integer < run3.jsonl
	is "$rc" 65 "$B: a stored value that does not fit the new column: exit 65"
	like err 'adding column qty to t: the stored record .*"many".*nothing was changed' "$B: the message names the record"
	is "$(coltype evo t qty)" "" "$B: and the column was not added"
	is "$(q evo "select count(*), max(id) from t")" "5|5" "$B: nor the batch that needed it (record 6)"
	run upsert --db "$D" --table t --key id=/id:integer --column name=/name:integer < /dev/null
	is "$rc" 65 "$B: a column of another type: exit 65"
	like err "column name of t is .*, not .*: apipe does not change a column's type" "$B: said so"
	is "$(q evo 'select count(*) from t where name is not null')" 5 "$B: nothing rewritten"

	D=$(url typed)
	run upsert --db "$D" --table t --key /id --columns-from cols.schema.json < typed.jsonl
	is "$rc" 0 "$B: --columns-from a schema"
	if [ $B = sqlite ]; then
		want="text|text|integer|text|real"
	else
		want="timestamp with time zone|text|boolean|jsonb|double precision"
	fi
	is "$(for c in at name ok meta score; do coltype typed t $c; done | tr '\n' '|' | sed 's/|$//')" \
		"$want" "$B: typed columns from the properties (a date-time, a string, a boolean, an object, a number)"
	is "$(coltype typed t record)" "$([ $B = sqlite ] && echo text || echo jsonb)" \
		"$B: a property named record stays the record"
	is "$(q typed "select count(*) from t where ok is not null and score = 2.5")" 1 "$B: values landed typed"

	# two first runs at once, each bringing a column the other does not know yet
	D=$(url race)
	seq 1 400 | awk '{ printf "{\"id\":%d,\"a\":%d}\n", $1, $1 }' > ra.jsonl
	seq 401 800 | awk '{ printf "{\"id\":%d,\"a\":%d,\"b\":\"v%d\"}\n", $1, $1, $1 }' > rb.jsonl
	upsert --db "$D" --table r --key id=/id:integer --column a=/a:integer --batch 50 < ra.jsonl 2> ra.err &
	p1=$!
	upsert --db "$D" --table r --key id=/id:integer --column a=/a:integer --column b=/b:text --batch 50 < rb.jsonl 2> rb.err &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	is "$r1 $r2" "0 0" "$B: two first runs at once both exit 0"
	is "$(q race 'select count(*), count(distinct id), sum(a) from r')" "800|800|320400" "$B: every row once"
	is "$(q race "select count(*) from r where id > 400 and b = 'v' || id")" 400 "$B: the second run's column holds its values"

	# a typed column is the table's: a writer that does not name it fills it as the others do
	D=$(url reg)
	printf '%s\n' '{"id":1,"s":"a","n":"x","at":"2026-01-01T01:00:00+01:00"}' > reg1.jsonl
	printf '%s\n' '{"id":2,"s":"b","n":"y","at":"2026-01-02T00:00:00Z"}' '{"id":3,"n":"z","q":"many"}' > reg2.jsonl
	run upsert --db "$D" --table t --key id=/id:integer --column st=/s:text --column at=/at:timestamp < reg1.jsonl
	is "$rc" 0 "$B: a writer names two typed columns"
	run upsert -v --db "$D" --table t --key id=/id:integer < reg2.jsonl
	is "$rc" 0 "$B: a writer that names none"
	like err "column st of t: filled from /s as the table's other writers do" "$B: -v says it fills the table's columns"
	is "$(q reg "select id, coalesce(st, '-'), coalesce(cast(at as text), '-') from t order by id" | sed 's/ 00:00:00+00$/T00:00:00Z/' | tr '\n' ' ')" \
		"1|a|2026-01-01T00:00:00Z 2|b|2026-01-02T00:00:00Z 3|-|- " "$B: its rows have them filled, typed"
	run upsert --db "$D" --table t --key id=/id:integer --column st=/n:text < /dev/null
	is "$rc" 78 "$B: a writer filling the column from another pointer: exit 78"
	like err "column st of t is filled from /s by the table's other writers, not /n" "$B: said so"
	run upsert --db "$D" --table t --key id=/id:integer --column q=/q:integer < reg2.jsonl
	is "$rc" 65 "$B: a column that cannot be added (a stored value does not fit): exit 65"
	echo '{"id":4,"s":"d"}' > reg3.jsonl
	run upsert --db "$D" --table t --key id=/id:integer < reg3.jsonl
	is "$rc" 0 "$B: the failed column is not the table's: the next writer is not bound to it"
	is "$(q reg "select id, st from t where id = 4")" "4|d" "$B: and fills the columns the table has"
}

# PostgreSQL: a new table's untyped key is typed from the first batch's values
pg_keys() {
	D=$(url keys)
	printf '%s\n' '{"id":3,"v":1}' '{"id":9007199254740993,"v":2}' > ik.jsonl
	run upsert -v --db "$D" --table ints --key /id < ik.jsonl
	is "$rc:$(coltype keys ints id)" "0:bigint" "pg: every key of the first batch an integer: bigint"
	like err "key id of the new table ints: bigint, as every key of the first batch is an integer" "pg: -v says so"
	is "$(q keys 'select id from ints order by id' | tr '\n' ' ')" "3 9007199254740993 " "pg: the keys exactly"
	echo '{"id":"x7","v":3}' > sk.jsonl
	run upsert --db "$D" --table ints --key /id < sk.jsonl
	is "$rc" 65 "pg: a later key that is not an integer: bad input (65)"
	printf '%s\n' '{"id":1,"v":1}' '{"id":"b","v":2}' > mk.jsonl
	run upsert -v --db "$D" --table mixed --key /id < mk.jsonl
	is "$rc:$(coltype keys mixed id)" "0:text" "pg: a first batch with a key that is not an integer: text"
	run upsert --db "$D" --table typed --key id=/id:text < ik.jsonl
	is "$rc:$(coltype keys typed id)" "0:text" "pg: a key typed by --key keeps its type"
	printf '\036{"apipe_state":"s","value":1}\n' > so.jsonl
	run upsert --db "$D" --table later --key /id < so.jsonl
	is "$rc:$(coltype keys later id)" "0:" "pg: a batch without rows creates no table"
	run upsert --db "$D" --table later --key /id < ik.jsonl
	is "$rc:$(coltype keys later id)" "0:bigint" "pg: the first batch with rows does"
	is "$(q keys "select value from apipe_state where name = 's'")" 1 "pg: and the state of the first came with it"
}

B=sqlite
backend
if pg_start; then
	B=pg
	for db in evo typed race reg keys; do
		psql -X -q "postgresql:///postgres?host=$PGDIR&user=postgres" -c "create database $db" > /dev/null
	done
	backend
	pg_keys
	pg_stop
else
	echo "ok $((tap_n + 1)) # SKIP PostgreSQL is not installed (apt-get install postgresql)"
	tap_n=$((tap_n + 1))
fi
done_testing
