#!/bin/sh
# schema infer writes a baseline validate accepts; schema diff reports each
# kind of drift exactly once, with its path, count and first line.
. "$APIPE_TOP/tests/lib.sh"

# --- infer -----------------------------------------------------------------------------------
lines '{"id":1,"at":"2026-01-01T00:00:00Z","day":"2026-01-01","u":"0b8e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b","mail":"a@example.com","web":"https://example.com/a","x":1,"o":{"k":"v","n":null},"arr":[{"p":1},{"p":2,"q":true}],"m":"2026-01-01","e\u0301":1}' \
	'{"id":2,"at":"2026-01-02T00:00:00.5+01:00","day":"2026-01-02","u":"0B8E1F2A-3C4D-4E5F-8A9B-0C1D2E3F4A5B","mail":"b@example.org","web":"http://example.org/","x":2.5,"o":{"k":"w"},"arr":[],"m":"not a date","e\u0301":2}' \
	'{"id":3,"at":"2026-01-03T00:00:00Z","day":"2026-01-03","u":"0b8e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5c","mail":"c@example.net","web":"ftp://example.net/x","x":null,"o":{"k":"x","n":1},"arr":[{"p":3}],"m":"2026-01-03","e\u0301":3,"late":"z"}' \
	> in.jsonl
run schema infer < in.jsonl
is "$rc" 0 "schema infer: exit 0"
cp out inferred.json
is "$(jq -ac '.properties | to_entries | map([.key, .value.type, .value.format, .value["x-apipe-present"]])' inferred.json)" \
	'[["id","integer",null,3],["at","string","date-time",3],["day","string","date",3],["u","string","uuid",3],["mail","string","email",3],["web","string","uri",3],["x",["number","null"],null,3],["o","object",null,3],["arr","array",null,3],["m","string",null,3],["e\u0301","integer",null,3],["late","string",null,1]]' \
	"types per field (integer with number is number, null noted), formats only when every value matches, presence counts"
is "$(jq -ac '[.["x-apipe-records"], .required, .properties.o.required, .properties.o.properties.n.type, .properties.arr.items.required, .properties.arr.items.properties.q["x-apipe-present"]]' inferred.json)" \
	'[3,["id","at","day","u","mail","web","x","o","arr","m","e\u0301"],["k"],["integer","null"],["p"],1]' \
	"required is what every record had, nested objects and array items are merged"
is "$(jq -r '.["$schema"]' inferred.json)" "https://json-schema.org/draft/2020-12/schema" "the baseline is a draft 2020-12 schema"
run validate --schema inferred.json --format-assert < in.jsonl
is "$rc:$(wc -l < out)" "0:3" "validate --format-assert accepts every record the baseline came from"
is_file out in.jsonl "... passing them through byte for byte"

run schema infer --sample 2 < in.jsonl
is "$(jq -c '[.["x-apipe-records"], (.properties | keys | length), .properties.m.format]' out)" '[2,11,null]' \
	"--sample 2 reads the first two records only"
run schema infer < /dev/null
is "$rc:$(jq -c . out)" '0:{"$schema":"https://json-schema.org/draft/2020-12/schema","x-apipe-records":0}' \
	"no records: a baseline that allows anything"
lines '{"a":1}' '{"a":' > broken.jsonl
run schema infer < broken.jsonl
is "$rc" 65 "a line that is not JSON: exit 65"
like err '^schema: line 2: ' "... naming the line"
run schema infer --tee < in.jsonl
is "$rc" 64 "--tee is for diff: exit 64"
run schema
is "$rc" 64 "no subcommand: exit 64"
run schema diff < in.jsonl
is "$rc" 64 "diff without a baseline: exit 64"

# --- diff ------------------------------------------------------------------------------------
cat > base.json <<'J'
{"type":"object","required":["id","name","at","kind","owner","gone"],
 "properties":{"id":{"type":"integer"},"name":{"type":"string"},"at":{"type":"string","format":"date-time"},
   "kind":{"type":"string"},"gone":{"type":"boolean"},"opt":{"type":"string"},
   "owner":{"type":"object","required":["login"],"properties":{"login":{"type":"string"}}},
   "tags":{"type":"array","items":{"type":"object","properties":{"t":{"type":"string"}}}},
   "amount":{"type":"number"}}}
J
lines '{"id":1,"name":"a","at":"2026-01-01T00:00:00Z","kind":"k","owner":{"login":"x"},"opt":"o","tags":[{"t":"a"}],"amount":1}' \
	'{"id":2,"name":null,"at":"2026-01-01","kind":"k","owner":{"login":"y","new":1},"tags":[{"t":1}],"amount":2.5}' \
	'{"id":"3","name":"c","at":"2026-01-03","owner":{"login":"z","new":2},"tags":[{"t":"b","u":true}],"amount":3}' \
	'{"id":4,"name":null,"at":"2026-01-04T00:00:00Z","kind":"k","owner":{},"extra":{"deep":{"x":1}}}' \
	> drift.jsonl
run schema diff base.json < drift.jsonl
is "$rc" 1 "breaking drift: exit 1"
cat > want <<'J'
{"change":"type_changed","path":"/id","from":"integer","to":["string","integer"],"count":1,"first_line":3}
{"change":"became_nullable","path":"/name","from":"string","to":["string","null"],"count":2,"first_line":2}
{"change":"format_changed","path":"/at","from":"date-time","to":null,"count":2,"first_line":2}
{"change":"no_longer_required","path":"/kind","from":"required","to":"optional","count":1,"first_line":3}
{"change":"removed","path":"/gone","from":"boolean","to":null,"count":4,"first_line":1}
{"change":"no_longer_required","path":"/owner/login","from":"required","to":"optional","count":1,"first_line":4}
{"change":"added","path":"/owner/new","from":null,"to":"integer","count":2,"first_line":2}
{"change":"type_changed","path":"/tags/*/t","from":"string","to":["string","integer"],"count":1,"first_line":2}
{"change":"added","path":"/tags/*/u","from":null,"to":"boolean","count":1,"first_line":3}
{"change":"added","path":"/extra","from":null,"to":"object","count":1,"first_line":4}
J
is_file out want "every kind of change once, at its path, with its count and first line"
run schema diff --fail-on none base.json < drift.jsonl
is "$rc" 0 "--fail-on none: exit 0 with the same report"
is_file out want "... the same report"

lines '{"id":1,"name":"a","at":"2026-01-01T00:00:00Z","kind":"k","owner":{"login":"x","new":true},"gone":false}' > added.jsonl
run schema diff base.json < added.jsonl
is "$rc:$(cat out)" '0:{"change":"added","path":"/owner/new","from":null,"to":"boolean","count":1,"first_line":1}' \
	"an added field is not breaking: exit 0; optional fields may be absent"
run schema diff --fail-on any base.json < added.jsonl
is "$rc" 1 "--fail-on any: an added field fails the run"
lines '{"id":1,"name":"a","at":"2026-01-01T00:00:00Z","kind":"k","owner":{"login":"x"},"gone":true,"opt":"p","tags":[],"amount":7}' > same.jsonl
run schema diff --fail-on any base.json < same.jsonl
is "$rc:$(wc -c < out)" "0:0" "records that match the baseline: no report, exit 0"

run schema diff --tee --report rep.jsonl base.json < drift.jsonl
is "$rc" 1 "--tee --report: exit 1 on breaking drift"
is_file out drift.jsonl "--tee passes the records through byte for byte"
is_file rep.jsonl want "... and the report goes to --report"
run schema diff --tee base.json < drift.jsonl
is_file out drift.jsonl "--tee without --report: records on stdout"
like err '"change":"removed","path":"/gone"' "... and the report on stderr"

run schema diff nope.json < drift.jsonl
is "$rc" 66 "a missing baseline: exit 66"
echo '{"type":"thing"}' > bad.json
run schema diff bad.json < drift.jsonl
is "$rc" 78 "a baseline with an unknown type: exit 78"
like err 'baseline /type: not a JSON Schema type' "... naming the pointer"
echo '{"type":' > bad2.json
run schema diff bad2.json < drift.jsonl
is "$rc" 78 "a baseline that is not JSON: exit 78"
run schema diff base.json < broken.jsonl
is "$rc" 65 "a record that is not JSON: exit 65"

# --- infer then diff on the mock API's drift switch -----------------------------------------
for d in none added removed retyped; do
	if [ "$d" = none ]; then start_mock "m$d" --records 250; else start_mock "m$d" --records 250 --drift "$d"; fi
	paginate "$BASE/cursor?limit=100" | records > "$d.jsonl"
done
stop_mocks
schema infer < none.jsonl > mock.schema.json
run validate --schema mock.schema.json --format-assert < none.jsonl
is "$rc:$(wc -l < out)" "0:250" "the mock's records validate against the schema inferred from them"
run schema diff --fail-on any mock.schema.json < none.jsonl
is "$rc:$(wc -c < out)" "0:0" "no drift: no report"
for d in added removed retyped; do
	run schema diff mock.schema.json < "$d.jsonl"
	cp out "rep.$d"
done
is "$(cat rep.added)" '{"change":"added","path":"/extra","from":null,"to":"object","count":250,"first_line":1}' \
	"--drift added: one change, /extra added"
is "$(cat rep.removed)" '{"change":"removed","path":"/note","from":["string","null"],"to":null,"count":250,"first_line":1}' \
	"--drift removed: one change, /note removed"
is "$(cat rep.retyped)" '{"change":"type_changed","path":"/amount","from":"number","to":"string","count":250,"first_line":1}' \
	"--drift retyped: one change, /amount retyped"

done_testing
