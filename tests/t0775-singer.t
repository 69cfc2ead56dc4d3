#!/bin/sh
# singer: a recorded tap output (SCHEMA, RECORD, STATE and ACTIVATE_VERSION
# of several streams interleaved) through --from, message by message:
# one stream's records byte for byte, its STATE as apipe's in-band state
# after the records it covers, so upsert stores each state with its rows;
# --to's output checked against the specification's message schemas with
# validate, and a round trip back through --from.
. "$APIPE_TOP/tests/lib.sh"
F="$APIPE_TOP/tests/fixtures/singer"
RS=$(printf '\036')

# --- --from ---------------------------------------------------------------------
run singer --from --stream orders --stats st.json < "$F/tap.jsonl"
is "$rc" 0 "--from: exit 0"
{
	echo '{"id": 1, "total": 10.50, "updated_at": "2026-11-01T10:00:00Z"}'
	echo '{"id":2,"total":12345678901234567890.123,"updated_at":"2026-11-01T11:00:00Z","note":"caf\u00e9 \"q\""}'
	echo "${RS}"'{"apipe_state":"singer.orders","value":{"bookmarks": {"orders": {"updated_at": "2026-11-01T11:00:00Z"}, "customers": {"id": "c1"}}}}'
	echo '{"id": 3, "total": null, "updated_at": "2026-11-01T12:00:00Z"}'
	echo "${RS}"'{"apipe_state":"singer.orders","value":{"bookmarks": {"orders": {"updated_at": "2026-11-01T12:00:00Z"}, "customers": {"id": "c1"}}}}'
} > want
is_file out want "the stream's records byte for byte (a lower-case type too), each STATE after the records before it"
like st.json '"records":3,"states":2,"schemas":1,"other_streams":2,"other_messages":3' \
	"other streams' records, ACTIVATE_VERSION and METRIC are skipped and counted"
run singer --from --stream orders --state-name tap-orders --schema-out orders.schema.json < "$F/tap.jsonl"
like out '^.\{"apipe_state":"tap-orders"' "--state-name names the state"
is "$(cat orders.schema.json)" \
	'{"type":"object","required":["id"],"properties":{"id":{"type":"integer"},"total":{"type":["number","null"]},"updated_at":{"type":"string","format":"date-time"}}}' \
	"--schema-out holds the stream's schema"
run singer --from --stream customers < "$F/tap.jsonl"
is "$(head -1 out)" '{"id": "c1", "name": "Ada"}' "another stream, another selection"

# the states land with the rows they cover: a sink that got the first seven
# messages holds the first STATE; after the rest, the second
bookmark() {
	sqlite3 s.db "select value from apipe_state where name = 'singer.orders'" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["bookmarks"]["orders"]["updated_at"])'
}
head -7 "$F/tap.jsonl" | singer --from --stream orders | upsert --db s.db --table orders --key /id
is "$?" 0 "the first seven messages into upsert"
is "$(sqlite3 s.db 'select count(*) from orders')" 2 "two rows"
is "$(bookmark)" 2026-11-01T11:00:00Z "the first STATE committed with them: a tap resumed from it starts after record 2"
singer --from --stream orders < "$F/tap.jsonl" | upsert --db s.db --table orders --key /id
is "$(sqlite3 s.db 'select count(*) from orders')" 3 "the whole output again: three rows, none twice"
is "$(bookmark)" 2026-11-01T12:00:00Z "the last STATE"

# what breaks the specification stops the run, naming the line
printf '%s\n' '{"type":"RECORD","stream":"orders","record":{"id":1}}' '{"type":"RECORD","stream":"orders"}' > bad1
run singer --from --stream orders < bad1
is "$rc" 65 "a RECORD without a record: exit 65"
like err 'line 2: a RECORD needs a "stream" string and a "record" object' "named"
printf '%s\n' '{"stream":"orders"}' > bad2
run singer --from --stream orders < bad2
is "$rc" 65 "a message without a type: exit 65"
printf '%s\n' '{"type":"RECORD",' > bad3
run singer --from --stream orders < bad3
is "$rc" 65 "a line that is not JSON: exit 65"

# --- --to ------------------------------------------------------------------------
printf '%s\n' '{"id":1,"name":"a","at":"2026-01-01T00:00:00Z"}' '{"id":2,"name":"b \u00e9","at":"2026-01-02T00:00:00Z"}' > recs
printf '\036{"apipe_state":"orders","value":{"cursor":"c2"}}\n' >> recs
printf '%s\n' '{"id":3,"name":null,"at":"2026-01-03T00:00:00Z"}' >> recs
run singer --to --stream orders --key /id < recs
is "$rc" 0 "--to: exit 0"
cp out msgs
is "$(wc -l < msgs | tr -d ' ')" 5 "a SCHEMA, three RECORDs and a STATE"
run validate --schema "$F/messages.schema.json" --dead-letter dl < msgs
is "$rc" 0 "every message is valid against the specification's message schemas"
is "$(wc -l < out | tr -d ' ')" 5 "all five"
python3 - msgs recs > check.out <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
raw = open(sys.argv[1]).read().split("\n")[:-1]  # not splitlines: RS (0x1e) ends a line there
recs = open(sys.argv[2]).read().split("\n")[:-1]
s = msgs[0]
print(s["type"], s["stream"], s["key_properties"], s["schema"]["properties"]["id"]["type"],
      s["schema"]["properties"]["at"].get("format"))
for m, r, line in zip(msgs[1:], recs, raw[1:]):
    if m["type"] == "RECORD":
        # the record's bytes as read: the message ends with them and "}"
        print("RECORD", line.endswith(',"record":' + r + '}'))
    else:
        print("STATE", m["value"] == json.loads(r[1:]))
PY
printf '%s\n' "SCHEMA orders ['id'] integer date-time" "RECORD True" "RECORD True" "STATE True" "RECORD True" > want
is_file check.out want "SCHEMA first (inferred: id an integer, at a date-time; key_properties from --key), records byte for byte, the state in order"
run singer --to --stream orders --schema "$APIPE_TOP/tests/fixtures/examples/orders.schema.json" < recs
like out '^\{"type":"SCHEMA","stream":"orders","schema":\{"\$schema":' "--schema: the file's schema, minified"
is "$(sed 1d out | singer --from --stream orders | grep -v "$RS")" "$(grep -v "$RS" recs)" \
	"--to then --from gives the records back byte for byte"
printf '[1,2]\n' > arr
run singer --to --stream orders < arr
is "$rc" 65 "--to: a record that is not an object: exit 65"
run singer --stream orders < recs
is "$rc" 64 "neither --to nor --from: exit 64"
run singer --to --stream orders --key /a/b < recs
is "$rc" 64 "a key property below the top level: exit 64"
done_testing
