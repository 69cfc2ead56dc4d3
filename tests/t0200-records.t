#!/bin/sh
# records: auto-detection, --path, --meta, byte fidelity, bad input.
. "$APIPE_TOP/tests/lib.sh"

env='{"url":"https://api.example.com/items?page=1","method":"GET","status":200,"fetched_at":"2026-11-23T12:00:00Z","page":1,"body":'

# auto-detection over the shapes of well-known APIs
while IFS='|' read -r desc body want; do
	printf '%s\n' "$env$body}" > in
	run records < in
	is "$rc" 0 "$desc: exit 0"
	is "$(tr '\n' ' ' < out)" "$want" "$desc"
done <<'EOF2'
GitHub: body is an array|[{"id":1},{"id":2}]|{"id":1} {"id":2} 
Stripe: /data beside has_more|{"object":"list","has_more":true,"data":[{"id":"cus_1"}],"url":"/v1/customers"}|{"id":"cus_1"} 
Slack: the one array member|{"ok":true,"members":[{"id":"U1"},{"id":"U2"}],"response_metadata":{"next_cursor":""}}|{"id":"U1"} {"id":"U2"} 
Google: a named array beside nextPageToken|{"kind":"drive#fileList","nextPageToken":"x","files":[{"id":"f"}]}|{"id":"f"} 
JSON:API: data preferred over included|{"data":[{"id":"1"}],"included":[{"id":"9"}],"links":{"next":null}}|{"id":"1"} 
nested envelope|{"data":{"items":[{"a":1}],"total":1}}|{"a":1} 
GraphQL connection: edges[].node|{"data":{"repo":{"issues":{"edges":[{"node":{"n":1}},{"node":{"n":2}}],"pageInfo":{"hasNextPage":false}}}}}|{"n":1} {"n":2} 
empty page|{"data":[],"has_more":false}|
several empty candidates mean no records|{"users":[],"groups":[]}|
scalars are records too|{"ids":[1,"two",null]}|1 "two" null 
EOF2

# plain documents (not envelopes) work the same
lines '[{"a":1}]' '{"items":[{"b":2}]}' > in
run records < in
is "$(tr '\n' ' ' < out)" '{"a":1} {"b":2} ' "plain JSON documents"

# byte fidelity: numbers and strings exactly as sent, whitespace removed
cat > in <<'EOF2'
{"url":"u","status":200,"body":{"data":[ {"n": 1.0e+400, "big" : 12345678901234567890123, "s":"\u00e9 é \"q\" \ud83d\ude00", "neg":-0.0} , [ 1 , 2 ] ]}}
EOF2
run records < in
printf '%s\n' '{"n":1.0e+400,"big":12345678901234567890123,"s":"\u00e9 é \"q\" \ud83d\ude00","neg":-0.0}' '[1,2]' > want
is_file out want "records keep their bytes, minified only"
run records < "$APIPE_TOP/tests/fixtures/json/envelope.json"
jq -c '.body.data[]' "$APIPE_TOP/tests/fixtures/json/envelope.json" > want.jq
# jq re-renders numbers and escapes; compare structure through jq, bytes directly
is "$(jq -c . out | tr '\n' ' ')" "$(jq -c . want.jq | tr '\n' ' ')" "same records as jq .body.data[]"
like out '"big":12345678901234567890123,' "the big integer keeps every digit"
like out '"f":1.0e\+400,' "1.0e+400 stays 1.0e+400"
like out 'caf\\u00e9' "\\u00e9 stays escaped"

# --records-path
lines "$env"'{"a":{"list":[1,2]},"b":[3]}}' > in
run records --records-path /a/list < in
is "$(tr '\n' ' ' < out)" "1 2 " "--records-path is relative to the body"
run records --records-path /b < in
is "$(tr '\n' ' ' < out)" "3 " "--records-path picks among several arrays"
run records --records-path /a < in
is "$rc" 65 "--records-path to an object: exit 65"
like err '^records: line 1: /body/a: no array at /body/a: found object$' "message names line, pointer and what was found"
run records --records-path /zz < in
is "$rc" 65 "--records-path to nothing: exit 65"
run records --records-path 'a' < in
is "$rc" 64 "a malformed --records-path is a usage error"

# ambiguity is an error that names the candidates
lines '{"users":[{"id":1}],"groups":[{"id":2}]}' > in
run records < in
is "$rc" 65 "ambiguous arrays: exit 65"
like err 'several arrays could hold the records \(/users, /groups\); choose one with --records-path' "the candidates are named"
lines '{"count":3}' > in
run records < in
is "$rc" 65 "no array at all: exit 65"
like err 'no record array found' "and says so"

# --meta splices _apipe into each record without touching its bytes
lines "$env"'{"data":[{"id":1,"x":1.50},{}]}}' > in
run records --meta < in
printf '%s\n' '{"id":1,"x":1.50,"_apipe":{"url":"https://api.example.com/items?page=1","page":1,"fetched_at":"2026-11-23T12:00:00Z","index":0}}' \
	'{"_apipe":{"url":"https://api.example.com/items?page=1","page":1,"fetched_at":"2026-11-23T12:00:00Z","index":1}}' > want
is_file out want "--meta appends url, page, fetched_at and index"
lines '[{"a":1}]' > in
run records --meta < in
is "$(cat out)" '{"a":1,"_apipe":{"line":1,"index":0}}' "--meta on plain documents gives the line"
lines '[1]' > in
run records --meta < in
is "$rc" 65 "--meta with a non-object record: exit 65"
like err 'line 1: /0: --meta needs records that are objects' "naming the record"

# failed exchanges and non-JSON bodies are not pages
lines '{"url":"u","status":503,"body":{"error":"busy"}}' > in
run records < in
is "$rc" 65 "a 503 envelope: exit 65"
like err 'line 1: /status: response status 503 is not a page of records' "says why"
lines '{"url":"u","status":0,"error":{"kind":"timeout","message":"timed out after 30 s"}}' > in
run records < in
like err 'the request failed, no page to read: timed out after 30 s' "a failed exchange says why"
lines '{"url":"u","status":200,"body_text":"<html>"}' > in
run records < in
like err 'the response body is not JSON' "body_text is not a page"

# bad lines: exit 65 naming the line, or dead-lettered with nothing lost
lines '[{"ok":1}]' '{"a":[1,}' 'not json' '[{"ok":2}]' > in
run records < in
is "$rc" 65 "invalid JSON stops the run: exit 65"
like err '^records: line 2: invalid JSON at byte 9 \(in /a/1\): expected a value' "naming line, byte and pointer"
is "$(cat out)" '{"ok":1}' "lines before the bad one were written"
printf '\377\376[1]\n' >> in
run records --dead-letter dl.jsonl < in
is "$rc" 0 "with --dead-letter the run goes on"
is "$(tr '\n' ' ' < out)" '{"ok":1} {"ok":2} ' "every good record written"
is "$(wc -l < dl.jsonl | tr -d ' ')" 3 "three lines dead-lettered"
is "$(jq -r '.line' dl.jsonl | tr '\n' ' ')" "2 3 5 " "with their line numbers"
is "$(jq -r '.input_text // .input_base64' dl.jsonl | tr '\n' '|')" '{"a":[1,}|not json|//5bMV0=|' "and their exact input"
like err '3 lines dead-lettered to dl.jsonl' "a summary on stderr"

# CRLF, empty lines, final line without newline, --max-line, --stats
printf '[1]\r\n\r\n\n[2]' > in
run records --stats st.json < in
is "$(tr '\n' ' ' < out)" "1 2 " "CRLF, empty lines and an unterminated last line"
is "$(jq -c '[.lines,.empty_lines,.pages,.records]' st.json)" "[2,2,2,2]" "--stats counts"
lines '[1]' '[1,2,3,4,5,6,7,8,9,10]' > in
run records --max-line 10 < in
is "$rc" 65 "a line over --max-line: exit 65"
like err 'line 2: longer than the --max-line limit of 10 bytes' "names the line"
run records --max-line 10x < in
is "$rc" 64 "a bad --max-line is a usage error"

# --max-depth
python3 -c 'print("[" * 600 + "]" * 600)' > in
run records < in
is "$rc" 65 "nesting deeper than 512: exit 65"
run records --max-depth 1000 < in
is "$rc" 0 "--max-depth raises the limit"

# a reader that goes away is not an error
seq 1 200000 | sed 's/.*/[{"i":&}]/' > in
run sh -c 'records < in | head -1'
is "$rc" 0 "records | head: exit 0"
is "$(cat err)" "" "and nothing on stderr"

# usage
run records --bogus
is "$rc" 64 "unknown option: exit 64"
run records --help
is "$rc" 0 "--help: exit 0"
like out '^usage: records ' "--help prints the usage"
run records extra
is "$rc" 64 "operands are refused"
run records --version
like out '^records \(apipe\) [0-9]' "--version"
done_testing
