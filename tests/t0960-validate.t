#!/bin/sh
# validate: valid records byte for byte, invalid ones to the dead letter
# with every reason, the invalid-rate alarm, invalid schemas, --ref-dir.
. "$APIPE_TOP/tests/lib.sh"

F="$APIPE_TOP/tests/fixtures/schemas"
cat > s.json <<'J'
{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"name":{"type":"string","maxLength":4},"n":{"multipleOf":0.1}}}
J
lines '{"id":1, "name":"caf\u00e9"}' '{"id":2,"n":12345678901234567890.3}' '{"id":"3","name":"toolong"}' \
	'{"name":"x"}' '[1' '{"id":4,"n":0.35}' > in.jsonl

run validate --schema s.json --dead-letter dl.jsonl --stats st < in.jsonl
is "$rc" 0 "with --dead-letter the run goes on"
lines '{"id":1, "name":"caf\u00e9"}' '{"id":2,"n":12345678901234567890.3}' > want
is_file out want "valid records pass byte for byte (whitespace and escapes kept; big decimals exact)"
is "$(jq -c '[.line, [.errors[] | [.instance, .schema, .keyword]]]' dl.jsonl | tr '\n' ' ')" \
	'[3,[["/id","/properties/id/type","type"],["/name","/properties/name/maxLength","maxLength"]]] [4,[["","/required","required"]]] [5,[[null,null,null]]] [6,[["/n","/properties/n/multipleOf","multipleOf"]]] ' \
	"each invalid record has every error with instance and schema pointers"
is "$(sed -n 1p dl.jsonl | jq -c .record)" '{"id":"3","name":"toolong"}' "the dead letter keeps the record"
is "$(sed -n 3p dl.jsonl | jq -r .input_text)" '[1' "a line that is not JSON is kept as text"
is "$(jq -c '[.records, .valid, .invalid, .errors.type, .errors.required, .errors.json]' st)" '[6,2,4,1,1,1]' \
	"--stats counts records and errors by keyword"

run validate --schema s.json < in.jsonl
is "$rc" 65 "without --dead-letter the first invalid record stops the run (65)"
like err '^validate: line 3: /id: integer is not allowed|^validate: line 3: /id: string is not allowed here \(schema /properties/id/type\)' \
	"... naming the line, the pointer and the schema location"
is "$(wc -l < out)" 2 "... after passing the valid records before it"

# --- the alarm ------------------------------------------------------------------------
awk 'BEGIN { for (i = 1; i <= 200; i++) printf "{\"id\":%s}\n", (i % 10 == 0 ? "\"bad\"" : i) }' > many.jsonl
run validate --schema s.json --dead-letter dl2.jsonl --max-invalid-rate 5 < many.jsonl
is "$rc" 1 "10% invalid with --max-invalid-rate 5: exit 1"
like err 'ALARM: 10\.00% of 200 records were invalid, more than --max-invalid-rate 5%; most frequent errors: type 20' \
	"... loudly, with the rate and the top error kinds"
is "$(wc -l < out):$(wc -l < dl2.jsonl)" "180:20" "... and every record still went somewhere"
run validate --schema s.json --dead-letter dl3.jsonl --max-invalid-rate 15 < many.jsonl
is "$rc" 0 "10% invalid with --max-invalid-rate 15: exit 0"
head -20 many.jsonl > few.jsonl
run validate --schema s.json --dead-letter dl4.jsonl --max-invalid-rate 1 < few.jsonl
is "$rc" 0 "fewer records than --min-records (100): no alarm"
run validate --schema s.json --dead-letter dl4.jsonl --max-invalid-rate 1 --min-records 10 < few.jsonl
is "$rc" 1 "... and with --min-records 10 the alarm sounds"

# --- schemas --------------------------------------------------------------------------------
echo '{"type":"object","properties":{"a":{"minLength":-1}}}' > bad.json
run validate --schema bad.json < in.jsonl
is "$rc" 78 "an invalid schema: exit 78"
like err 'bad.json: invalid schema at /properties/a/minLength: must be a non-negative integer' "... with the pointer into the schema"
echo '{"$ref":"#/$defs/missing"}' > bad2.json
run validate --schema bad2.json < in.jsonl
is "$rc" 78 "a \$ref to nothing: exit 78"
run validate --schema nope.json < in.jsonl
is "$rc" 66 "a missing schema file: exit 66"

lines '{"id":"o1","status":"paid","updated_at":"2026-11-22T10:15:00Z","amount":10.5}' \
	'{"id":"o2","status":"paid","updated_at":"2026-11-22T10:15:00Z","amount":-1}' > orders.jsonl
run validate --schema "$F/order.schema.json" --ref-dir "$F" --dead-letter odl.jsonl < orders.jsonl
is "$rc:$(wc -l < out)" "0:1" "--ref-dir resolves \$ref by the referenced schema's \$id"
is "$(jq -r '.errors[0].schema' odl.jsonl)" "https://example.com/money.schema.json/minimum" \
	"... and errors inside it name where they are"

echo '{"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"integer"}],"additionalItems":false}' > d7.json
lines '[1]' '[1,2]' > arr.jsonl
run validate --schema d7.json --dead-letter d7dl.jsonl < arr.jsonl
is "$(cat out):$(jq -c .record d7dl.jsonl)" "[1]:[1,2]" "a draft-07 schema is read as draft-07 (\$schema)"

# --- formats ----------------------------------------------------------------------------------
echo '{"properties":{"at":{"format":"date-time"},"ip":{"format":"ipv4"},"u":{"format":"uuid"}}}' > fmt.json
lines '{"at":"2026-02-28T23:59:60Z","ip":"10.0.0.1","u":"2eb8aa08-aa98-11ea-b4aa-73b441d16380"}' \
	'{"at":"2026-02-30T00:00:00Z"}' '{"ip":"10.0.0.01"}' '{"u":"2eb8aa08-aa98-11ea-b4aa-73b441d1638"}' \
	'{"at":"2026-12-31T12:59:60Z"}' > fmt.jsonl
run validate --schema fmt.json < fmt.jsonl
is "$(wc -l < out)" 5 "format is an annotation by default"
run validate --schema fmt.json --format-assert --dead-letter fdl.jsonl < fmt.jsonl
is "$(jq -r .at out)" "2026-02-28T23:59:60Z" "--format-assert: only valid formats pass (a leap second at 23:59:60 UTC is one)"
is "$(jq -r '.errors[0].instance' fdl.jsonl | tr '\n' ' ')" "/at /ip /u /at " \
	"... the others (Feb 30, a leading zero, a short uuid, a leap second at noon) name the failing member"

# --- hostile records ------------------------------------------------------------------------
awk 'BEGIN { for (i = 0; i < 400; i++) printf "["; for (i = 0; i < 400; i++) printf "]"; print "" }' > deep.jsonl
echo '{"items":{"$ref":"#"}}' > rec.json
run validate --schema rec.json < deep.jsonl
is "$rc:$(wc -c < out)" "0:801" "a record nested 400 deep against a recursive schema"
awk 'BEGIN { printf "{\"id\":1,\"name\":\"ab\",\"pad\":\""; for (i = 0; i < 200000; i++) printf "xxxxxxxxxx"; print "\"}" }' > big.jsonl
run validate --schema s.json < big.jsonl
is "$rc:$(wc -c < out)" "0:$(wc -c < big.jsonl)" "a 2 MB record passes through whole"

echo '{"properties":{"lines":{"items":{"properties":{"q":{"minimum":1}}}},"a/b~c":{"type":"string"},"e\u0301":{"type":"string"}}}' > paths.json
lines '{"lines":[{"q":1},{"q":0}],"a/b~c":1,"e\u0301":2}' > paths.jsonl
run validate --schema paths.json --dead-letter pdl.jsonl < paths.jsonl
is "$(jq -c '[.errors[].instance]' pdl.jsonl)" "$(printf '["/lines/1/q","/a~1b~0c","/e\314\201"]')" \
	"error locations: array indexes, escaped names (~1, ~0), names decoded from \\u escapes"

# a keyword given twice: the last counts (as for every lookup, and as JavaScript and Python
# read it), and nothing leaks (the fuzzer's find)
echo '{"patternProperties":{"^a":{"type":"string"}},"patternProperties":{"^b":{"type":"string"}},"minimum":5,"minimum":1}' > dup.json
lines '{"a":1}' '{"b":1}' '3' '7' > dup.jsonl
run validate --schema dup.json --dead-letter ddl.jsonl < dup.jsonl
is "$rc:$(tr '\n' ' ' < out):$(jq -c .line ddl.jsonl | tr '\n' ' ')" '0:{"a":1} 3 7 :2 ' \
	"a repeated keyword: the last one applies"

# a base URI with a '?' before its '//' (the fuzzer's find): resolution stays in bounds
echo '{"$id":"htt?s://apipe/x.json","$defs":{"a":{"$id":"b.json","type":"string"}},"$ref":"b.json"}' > odd.json
lines '"x"' '1' > odd.jsonl
run validate --schema odd.json --dead-letter oddl.jsonl < odd.jsonl
is "$rc:$(cat out):$(jq -c .line oddl.jsonl)" '0:"x":2' "an odd base URI resolves without reading out of bounds"

# a schema naming the few members it looks at: the rest is checked as JSON, not tokenized,
# and every record gets the verdict and the errors a full parse gives
echo '{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"ts":{"type":"string"}}}' > few.json
lines '{"x":[1,{"y":"z"}],"id":1,"ts":"a"}' '{"id":1,"pad":"x","id":"two"}' '{"ts":"a","pad":[1,2]}' \
	'{"id":3,"pad":[1,,2]}' '{"id":4,"pad":"\x"}' '{"id":5,"pad":{"a":1,}}' '{"id":6}' > few.jsonl
printf '{"id":7,"pad":"\377"}\n' >> few.jsonl
run validate --schema few.json --dead-letter fewdl.jsonl < few.jsonl
is "$rc:$(tr '\n' ' ' < out)" '0:{"x":[1,{"y":"z"}],"id":1,"ts":"a"} {"id":6} ' \
	"members the schema does not name: checked, and passed through"
is "$(jq -c '[.line, ([.errors[] | .instance + " " + (.keyword // "json")] | join(","))]' fewdl.jsonl | tr '\n' ' ')" \
	'[2,"/id type"] [3," required"] [4,"/pad/1 json"] [5,"/pad json"] [6,"/pad json"] [8,"/pad json"] ' \
	"a repeated name is validated every time; a fault in an unnamed member is named by its pointer"
run validate --schema few.json < few.jsonl
is "$rc" 65 "without a dead-letter file the first invalid record stops the run"
like err '^validate: line 2: /id: ' "naming the line and the pointer"
printf '{"id":1,"pad":[1,}\n' > bad.jsonl
run validate --schema few.json < bad.jsonl
like err 'line 1: invalid JSON at byte 18 \(in /pad/1\)' "invalid JSON in an unnamed member: the byte and the pointer"

# --- -j: checking threads, output in input order -------------------------------------------
# 3,000 records over many batches: valid, schema-invalid, not JSON, invalid UTF-8, in-band
# state lines, and a 1.5 MB record (a batch of its own); every -j writes the same bytes
awk 'BEGIN {
	for (i = 1; i <= 3000; i++) {
		if (i % 7 == 0) printf "{\"id\":\"s%d\",\"ts\":\"a\"}\n", i
		else if (i % 11 == 0) printf "{\"id\":%d,\"pad\":[1,,2]}\n", i
		else if (i % 13 == 0) printf "\036{\"apipe_state\":\"x\",\"value\":%d}\n", i
		else if (i % 17 == 0) printf "{\"ts\":\"no id %d\"}\n", i
		else if (i == 1500) { printf "{\"id\":1500,\"pad\":\""; for (k = 0; k < 150000; k++) printf "0123456789"; print "\"}" }
		else printf "{\"id\":%d,\"ts\":\"t\",\"n\":[%d,{\"k\":\"v\"}]}\n", i, i
	}
}' > many.jsonl
printf '{"id":3001,"pad":"\377"}\n' >> many.jsonl
run validate --schema few.json --dead-letter mdl1.jsonl --stats mst1.json < many.jsonl
cp out mout1
is "$rc:$(wc -l < mout1):$(wc -l < mdl1.jsonl)" "0:2212:789" "-j 1: the valid records and state lines out, the rest dead-lettered"
for j in 2 3 8; do
	run validate -j $j --schema few.json --dead-letter mdl$j.jsonl --stats mst$j.json < many.jsonl
	is "$rc" 0 "-j $j exits 0"
	is_file out mout1 "-j $j writes the same records and state lines, in order"
	is_file mdl$j.jsonl mdl1.jsonl "-j $j writes the same dead letters, in order"
	is "$(jq -c 'del(.seconds)' mst$j.json)" "$(jq -c 'del(.seconds)' mst1.json)" "-j $j counts the same"
done
# without a dead letter the first invalid record (line 7) stops every -j alike
run validate --schema few.json < many.jsonl
cp out sout1
echo "$rc:$(cat err)" > serr1
is "$(cat serr1)" "65:validate: line 7: /id: string is not allowed here (schema /properties/id/type)" \
	"-j 1 stops at line 7"
for j in 2 4; do
	run validate -j $j --schema few.json < many.jsonl
	is "$rc:$(cat err)" "$(cat serr1)" "-j $j stops at the same line with the same message"
	is_file out sout1 "... having written every valid record before it and none after"
done
# a line over --max-line: what came before is committed, then the run stops, for every -j
run validate --schema few.json --dead-letter ml1.jsonl --max-line 100000 < many.jsonl
cp out mlout1
echo "$rc:$(cat err)" > mlerr1
like mlerr1 '^65:validate: stdin: line 1500: longer than the --max-line limit' "-j 1: a line over --max-line stops the run"
run validate -j 3 --schema few.json --dead-letter ml3.jsonl --max-line 100000 < many.jsonl
is "$rc:$(cat err)" "$(cat mlerr1)" "-j 3: the same line, the same message"
is_file out mlout1 "... after the same records"
is_file ml3.jsonl ml1.jsonl "... and the same dead letters"
for bad in 0 65 x; do
	run validate -j $bad --schema few.json < /dev/null
	is "$rc" 64 "-j $bad is bad usage"
done

# --- the embedded metaschemas ----------------------------------------------------------------
echo '{"$ref":"https://json-schema.org/draft/2020-12/schema"}' > meta.json
lines '{"type":"object","properties":{"a":{"minLength":2}}}' '{"type":"thing"}' '{"minLength":-1}' > schemas.jsonl
run validate --schema meta.json --dead-letter mdl.jsonl < schemas.jsonl
is "$rc:$(wc -l < out):$(jq -c '[.line, [.errors[].instance]]' mdl.jsonl | tr '\n' ' ')" \
	'0:1:[2,["/type"]] [3,["/minLength"]] ' \
	"\$ref to the draft 2020-12 metaschema resolves offline (embedded at build time)"
echo '{"$schema":"http://json-schema.org/draft-07/schema#","$ref":"http://json-schema.org/draft-07/schema#"}' > meta7.json
lines '{"type":"object"}' '{"type":3}' > schemas7.jsonl
run validate --schema meta7.json --dead-letter mdl7.jsonl < schemas7.jsonl
is "$rc:$(wc -l < out):$(jq -c .line mdl7.jsonl)" '0:1:2' "... and so does the draft-07 metaschema"

run validate --help
is "$rc" 0 "--help exits 0"
run validate < in.jsonl
is "$rc" 64 "--schema is required"
done_testing
