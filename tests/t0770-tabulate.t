#!/bin/sh
# tabulate: records as Parquet and CSV.  Every Parquet file is read back by
# an independent reader, DuckDB (npm @duckdb/node-api), and compared value
# by value with the JSON it came from (tests/bin/tab-check.py: integers and
# decimals exactly, strings, booleans, nested values as JSON, timestamps to
# the microsecond, nulls); CSV is read back by python's csv module and by
# sqlite3's .import.  A value that does not fit its column stops the run
# (no file appears) or goes to the dead letter; a million records are
# written in memory bounded by the row group.
. "$APIPE_TOP/tests/lib.sh"

dump() {
	APIPE_NPM="$APIPE_NPM" node "$APIPE_TOP/tests/bin/duckdb-dump.js" "$1" > "$2" 2> dump.err
}
check() {
	python3 "$APIPE_TOP/tests/bin/tab-check.py" "$@" > check.out 2>&1
	r=$?
	[ $r -ne 0 ] && diag "$(head -5 check.out)"
	return $r
}

# Records with what tables find hard: integers past int64, decimals of
# several scales (and one in exponent form), negative zero, unicode and
# escapes, absent members and nulls, nested values, timestamps with
# offsets and fractions.
python3 - > in.jsonl <<'PY'
import json
for i in range(1, 501):
    r = {"id": i, "name": "n%d, \"q\" café \\u00e9 %s" % (i, "\u2713" if i % 3 else "\n"),
         "price": ["%d.%02d" % (i, i % 100), "%d.5" % i, "-0.125", "1.5e1"][i % 4],
         "ok": i % 2 == 0, "at": "2026-%02d-%02dT%02d:%02d:%02d%s%s" % (
            i % 12 + 1, i % 28 + 1, i % 24, i % 60, i % 60,
            [".5", ".123456", "", ".000001"][i % 4], ["Z", "+05:30", "-08:00", "Z"][i % 4]),
         "big": str(10 ** 22 + i) if i % 5 == 0 else str(i), "meta": {"x": [i, None, "s"], "y": {"z": i}},
         "status": ["open", "paid", "shipped", "cancelled \u00e9"][i % 4]}
    if i % 7 == 0:
        r["note"] = None
    elif i % 7 == 1:
        r["note"] = "note %d" % i
    if i % 11 == 0:
        del r["name"]
    line = json.dumps(r, ensure_ascii=False)
    line = line.replace('"price": "%s"' % r["price"], '"price": %s' % r["price"]).replace('"big": "%s"' % r["big"], '"big": %s' % r["big"])
    print(line)
PY
is "$(wc -l < in.jsonl | tr -d ' ')" 500 "500 test records"

# --- Parquet, columns inferred, row groups of several sizes, both codecs ------
for codec in none gzip; do
	for rg in 1 7 64 500 10000; do
		run tabulate --format parquet --compression $codec --row-group $rg -o t.parquet < in.jsonl
		is "$rc" 0 "parquet, $codec, row groups of $rg: exit 0"
		dump t.parquet d.jsonl
		is "$?" 0 "DuckDB reads it"
		check in.jsonl d.jsonl
		is "$?" 0 "every value read back equals the record's ($codec, $rg rows a group)"
		want=$(( (500 + rg - 1) / rg ))
		is "$(head -1 d.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["row_groups"])')" \
			"$want" "$want row groups of at most $rg rows"
	done
done
is "$(head -1 d.jsonl | python3 -c 'import json,sys; print(" ".join(c[0] + ":" + c[1] for c in json.load(sys.stdin)["columns"]))')" \
	"id:BIGINT name:VARCHAR price:DECIMAL(38,3) ok:BOOLEAN at:TIMESTAMP WITH TIME ZONE big:DECIMAL(38,0) meta:JSON status:VARCHAR note:VARCHAR" \
	"inferred columns: integer, text, decimal at the widest scale seen, boolean, timestamp, a decimal for integers past int64, JSON"

is "$(head -1 d.jsonl | python3 -c 'import json,sys; e = json.load(sys.stdin)["encodings"]; print(e["status"], "/", e["name"])')" \
	"PLAIN_DICTIONARY, RLE, RLE_DICTIONARY / PLAIN, RLE" \
	"a column of few distinct strings is written with a dictionary, one of many PLAIN"

# --- columns given: nested pointers and types ---------------------------------
run tabulate --format parquet -o c.parquet --column id=/id:integer --column x=/meta/y/z \
	--column /meta/x:json --column price=/price:real --column at=/at:text < in.jsonl
is "$rc" 0 "--column specs: exit 0"
dump c.parquet c.jsonl
is "$(head -1 c.jsonl | python3 -c 'import json,sys; print(" ".join(c[0] + ":" + c[1] for c in json.load(sys.stdin)["columns"]))')" \
	"id:BIGINT x:BIGINT meta_x:JSON price:DECIMAL(38,3) at:VARCHAR" "the columns asked for, in order, typed as asked (untyped inferred)"
python3 -c '
import json, sys
for l in open("in.jsonl"):
    r = json.loads(l)
    print(json.dumps({"id": r["id"], "x": r["meta"]["y"]["z"], "meta_x": r["meta"]["x"], "at": r["at"]}))' > c.want
python3 - > c.got <<'PY'
import json
lines = open("c.jsonl").read().splitlines()[1:]
for l in lines:
    v = json.loads(l)
    print(json.dumps({"id": int(v[0]), "x": int(v[1]), "meta_x": json.loads(v[2]), "at": v[4]}))
PY
is_file c.got c.want "nested members and text timestamps read back exactly"

# --- a JSON Schema gives the columns ------------------------------------------
cp "$APIPE_TOP/tests/fixtures/examples/orders.schema.json" .
cp "$APIPE_TOP/tests/fixtures/examples/orders.jsonl" .
run tabulate --format parquet --schema orders.schema.json -o s.parquet < orders.jsonl
is "$rc" 0 "--schema: exit 0"
dump s.parquet s.jsonl
check orders.jsonl s.jsonl
is "$?" 0 "--schema: every value read back equals the record's"

# --- values that do not fit ---------------------------------------------------
printf '%s\n' '{"id":1,"v":"2026-01-01T00:00:00Z"}' '{"id":"two","v":"2026-01-01T00:00:00Z"}' \
	'{"id":3,"v":"2026-01-01T00:00:00.0000001Z"}' '{"id":4,"v":"2026-01-01T00:00:00.25Z"}' > bad.jsonl
run tabulate --format parquet -o bad.parquet --column id=/id:integer --column v=/v:timestamp < bad.jsonl
is "$rc" 65 "a value that does not fit its column stops the run: exit 65"
like err 'line 2: /id: "two" does not fit column id \(integer\)$' "the message names the line, the pointer and the column"
is "$(ls bad.parquet* 2>/dev/null | wc -l | tr -d ' ')" 0 "and no file appears, not even a temporary one"
run tabulate --format parquet -o bad.parquet --column id=/id:integer --column v=/v:timestamp \
	--dead-letter dl.jsonl < bad.jsonl
is "$rc" 0 "with --dead-letter: exit 0"
is "$(wc -l < dl.jsonl | tr -d ' ')" 2 "two records dead-lettered"
sed -n 2p dl.jsonl > dl2
like dl2 'does not fit column v \(timestamp, to the microsecond\)' "a finer fraction than microseconds does not fit"
dump bad.parquet bad.d
is "$(sed 1d bad.d | tr -d '\n')" '["1","1767225600000000"]["4","1767225600250000"]' "the rows that fit, whole"
# a decimal finer than the scale the first records showed
printf '%s\n' '{"p":1.5}' '{"p":2.25}' '{"p":3.125}' > sc.jsonl
run tabulate --format parquet --infer 2 -o sc.parquet < sc.jsonl
is "$rc" 65 "a decimal finer than the inferred scale is refused, never rounded"
like err 'line 3: /p: 3.125 does not fit column p \(decimal\)$' "and named"
run tabulate --format parquet --infer 3 -o sc.parquet < sc.jsonl
is "$rc" 0 "inferring over all three records widens the scale"
dump sc.parquet sc.d
is "$(sed 1d sc.d | tr -d '\n')" '["1.500"]["2.250"]["3.125"]' "values exact at scale 3"
printf '%s\n' '{"a":1}' '[1,2]' > notobj.jsonl
run tabulate --format csv < notobj.jsonl
is "$rc" 65 "a record that is not an object, with columns from the data: exit 65"

# --- empty input, state lines ---------------------------------------------------
run tabulate --format parquet -o empty.parquet --column id=/id:integer < /dev/null
is "$rc" 0 "no records, columns given: exit 0"
dump empty.parquet empty.d
is "$(head -1 empty.d)" '{"columns":[["id","BIGINT"]],"rows":0,"row_groups":0,"encodings":{}}' "an empty table DuckDB reads"
run tabulate --format parquet -o empty2.parquet < /dev/null
is "$rc" 65 "no records and no columns: exit 65"
printf '\036{"apipe_state":"x","value":1}\n{"id":1}\n' > st.jsonl
run tabulate --format csv --stats stats.json < st.jsonl
is "$(cat out)" "$(printf 'id\r\n1\r')" "state lines are not rows"
like stats.json '"state_lines":1' "and are counted"

# --- CSV (RFC 4180) --------------------------------------------------------------
run tabulate --format csv -o t.csv < in.jsonl
is "$rc" 0 "csv: exit 0"
is "$(head -1 t.csv)" "$(printf 'id,name,price,ok,at,big,meta,status,note\r')" "a header row, CRLF line ends"
check in.jsonl t.csv --csv
is "$?" 0 "python's csv module reads back every value"
sqlite3 t.db ".mode csv" ".import t.csv t" 2> sq.err
is "$(sqlite3 t.db 'select count(*) from t')" 500 "sqlite3 .import reads 500 rows"
is "$(sqlite3 t.db 'select name from t where id = 3')" "$(printf 'n3, "q" café \\u00e9 \n')" \
	"a field with a comma, quotes and a newline survives sqlite3's import"
is "$(sqlite3 t.db 'select big from t where id = 10')" 10000000000000000000010 "numbers as sent"

# --- a million records in memory bounded by the row group --------------------
"$APIPE_TESTBIN/genrecords" -S -n 1000000 > m.jsonl
/usr/bin/time -f %M -o rss tabulate --format parquet --row-group 100000 -o m.parquet < m.jsonl
is "$?" 0 "a million records: exit 0"
mb=$(( $(wc -c < m.jsonl) / 1048576 ))
rss=$(( $(cat rss) / 1024 ))
case $APIPE_BIN in
*/build-san/*)	# a sanitizer's shadow memory and quarantine are not the program's
	echo "ok $((tap_n + 1)) # SKIP max RSS with sanitizers (${rss} MiB) is not the program's"
	tap_n=$((tap_n + 1)) ;;
*)
	ok "$([ "$rss" -lt 160 ]; echo $?)" "max RSS ${rss} MiB for ${mb} MiB of input (row groups of 100000 rows)" ;;
esac
dump m.parquet m.d
is "$(head -1 m.d | python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["rows"], d["row_groups"])')" \
	"1000000 10" "DuckDB reads 1000000 rows in 10 row groups"
check m.jsonl m.d
is "$?" 0 "and every value of every row equals its record's"

# -o names the format when --format does not
printf '%s\n' '{"id":1,"s":"a"}' '{"id":2,"s":"b"}' > two.jsonl
run tabulate -o two.CSV < two.jsonl
is "$rc:$(tr -d '\r' < two.CSV | tr '\n' ' ')" "0:id,s 1,a 2,b " "-o FILE.CSV: CSV"
run tabulate -o two.parquet < two.jsonl
is "$rc:$(head -c 4 two.parquet)" "0:PAR1" "-o FILE.parquet: Parquet"
run tabulate -o two.txt < two.jsonl
is "$rc" 64 "-o FILE.txt without --format: usage"
like err "--format parquet or csv is required" "... saying what to give"
done_testing
