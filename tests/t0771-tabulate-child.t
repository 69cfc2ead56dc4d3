#!/bin/sh
# tabulate --child: each element of a record's array a row of a file of its
# own (Parquet or CSV), carrying the record's --key and its position, its
# members as columns (or "value"); a record and its children are whole rows
# or one dead letter together, and a run that fails leaves no file.
. "$APIPE_TOP/tests/lib.sh"

dump() {
	APIPE_NPM="$APIPE_NPM" node "$APIPE_TOP/tests/bin/duckdb-dump.js" "$1" > "$2" 2> dump.err
}

printf '%s\n' '{"id":1,"name":"a","lines":[{"sku":"x","qty":1},{"sku":"y","qty":2.5}],"tags":["t1"]}' \
	'{"id":2,"name":"b","lines":[],"tags":null}' '{"id":3,"name":"c"}' \
	'{"id":4,"name":"d","lines":[{"sku":"z","qty":3}],"tags":["t2","t3"]}' > in.jsonl

run tabulate -o o.csv --key /id --child /lines=lines.csv --child /tags=tags.csv --stats st.json < in.jsonl
is "$rc" 0 "tabulate --child: two child files"
printf 'parent_id,position,sku,qty\r\n1,0,x,1\r\n1,1,y,2.5\r\n4,0,z,3\r\n' > want.lines
is_file lines.csv want.lines "a row per element: the parent's key, the position, the element's members"
printf 'parent_id,position,value\r\n1,0,t1\r\n4,0,t2\r\n4,1,t3\r\n' > want.tags
is_file tags.csv want.tags "an element that is no object is the value column"
is "$(jq -c '[.rows, .child_rows]' st.json)" '[4,{"lines.csv":3,"tags.csv":3}]' "--stats counts each file's rows"

run tabulate -o o.parquet --key /id --child /lines=lines.parquet < in.jsonl
dump lines.parquet lines.dump
is "$(head -1 lines.dump | jq -c '[.rows, .columns]')" \
	'[3,[["parent_id","BIGINT"],["position","BIGINT"],["sku","VARCHAR"],["qty","DECIMAL(38,1)"]]]' \
	"Parquet children, typed, read by DuckDB"
dump o.parquet o.dump
is "$(sed 1d lines.dump | jq -r '.[0]' | sort -u | tr '\n' ' ')" \
	"$(sed 1d o.dump | jq -r '.[0]' | grep -x '[14]' | tr '\n' ' ')" "... each joins its parent by key"

printf '%s\n' '{"id":5,"lines":[{"qty":1},{"qty":"many"}]}' > bad.jsonl
run sh -c "cat in.jsonl bad.jsonl | tabulate --infer 4 -o o3.csv --key /id --child /lines=l3.csv"
is "$rc:$(ls o3.csv l3.csv 2>/dev/null | wc -l)" "65:0" "an element that does not fit: 65, and no file at all"
like err "line 5: /lines/1/qty: \"many\" does not fit column qty" "... naming the line and the element's pointer"
run sh -c "cat in.jsonl bad.jsonl | tabulate --infer 4 -o o3.csv --key /id --child /lines=l3.csv --dead-letter dl.jsonl"
is "$rc:$(grep -c . o3.csv):$(grep -c . l3.csv)" "0:5:4" "with --dead-letter the record goes there with its children, none of them written"
is "$(jq -r '.line, .errors[0].instance' dl.jsonl | tr '\n' ' ')" "5 /lines/1/qty " "... the whole record, with the pointer"

printf '%s\n' '{"name":"no key","lines":[1]}' '{"id":6,"lines":{"a":1}}' > odd.jsonl
run tabulate --format csv --key /id --child /lines=l4.csv --dead-letter dl4.jsonl < odd.jsonl
is "$(jq -c '[.line, .errors[0].instance, .errors[0].message]' dl4.jsonl | tr '\n' ' ')" \
	'[1,"/id","the record has no key here (--key)"] [2,"/lines","an object where --child l4.csv wants an array"] ' \
	"a record without its key, an object where the array belongs: dead letters"

run tabulate -o o5.csv --child /lines=l5.csv < in.jsonl
is "$rc" 64 "--child without --key is bad usage"
run tabulate -o o5.csv --key /id --child /lines=o5.csv < in.jsonl
is "$rc" 64 "--child into the records' own file is bad usage"
done_testing
