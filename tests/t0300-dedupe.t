#!/bin/sh
# dedupe: first wins, composite keys, --latest, --seen, --missing.
. "$APIPE_TOP/tests/lib.sh"

lines '{"id":1,"v":"a"}' '{"id":2,"v":"b"}' '{"id":1.0,"v":"c"}' '{"id":"1","v":"d"}' \
	'{"id":10e-1,"v":"e"}' '{"id":"\u0031","v":"f"}' '{"id":3}' '{"id":2}' > in
run dedupe --key /id < in
lines '{"id":1,"v":"a"}' '{"id":2,"v":"b"}' '{"id":"1","v":"d"}' '{"id":3}' > want
is "$rc" 0 "exit 0"
is_file out want "first copy of each key wins; 1, 1.0 and 10e-1 are one key; \"1\" and \"\\u0031\" another"

# records pass byte-identical, whitespace and all
printf '%s\n' '{ "id" : 7 ,  "x":1.50 }' '{"id":7}' > in
run dedupe --key /id < in
is "$(cat out)" '{ "id" : 7 ,  "x":1.50 }' "a kept record is written byte for byte"

# composite keys
lines '{"a":1,"b":"x"}' '{"a":1,"b":"y"}' '{"a":1,"b":"x","c":1}' '{"a":"1x","b":""}' '{"a":"1","b":"x"}' > in
run dedupe --key /a --key /b < in
is "$(wc -l < out | tr -d ' ')" 4 "composite keys: only the exact (a,b) repeat is dropped"
like out '"a":"1","b":"x"' "no ambiguity between (1,\"x\") and (\"1\",\"x\")"

# nested and escaped pointers, object keys
lines '{"k":{"a/b":{"id":[1,2]}}}' '{"k":{"a/b":{"id":[1.0,2]}}}' '{"k":{"a/b":{"id":[2,1]}}}' > in
run dedupe --key '/k/a~1b/id' < in
is "$(wc -l < out | tr -d ' ')" 2 "array keys compare by value, in order"

# missing keys
lines '{"id":1}' '{"x":1}' '{"id":null}' '{"id":1}' > in
run dedupe --key /id < in
is "$rc" 65 "a missing key stops the run: exit 65"
like err '^dedupe: line 2: /id: key is missing$' "naming line and pointer"
is "$(cat out)" '{"id":1}' "records before it were written"
run dedupe --key /id --missing pass < in
is "$(tr '\n' ' ' < out)" '{"id":1} {"x":1} {"id":null} ' "--missing pass writes keyless records through"
run dedupe --key /id --missing dead-letter:dl.jsonl < in
is "$rc" 0 "--missing dead-letter: exit 0"
is "$(tr '\n' ' ' < out)" '{"id":1} ' "only keyed records written"
is "$(jq -c '[.line,.errors[0].instance,.errors[0].message]' dl.jsonl | tr '\n' ' ')" \
	'[2,"/id","key is missing"] [3,"/id","key is null"] ' "dead letters name line, pointer and reason"
lines '{"id":1}' 'oops' > in
run dedupe --key /id < in
is "$rc" 65 "a line that is not JSON: exit 65"
like err 'line 2: invalid JSON at byte 1' "naming the line"

# only /id is tokenized, but every line is checked whole, and a record
# held while its key is looked up keeps its place among the other output
st=$(printf '\036{"apipe_state":"s","value":1}')
printf '%s\n' '{"id":1,"z":[{"a":"\u00e9"}]}' "$st" '{"id":2}' '{"id":1}' '{"x":0}' '{"id":3}' > in
run dedupe --key /id --missing pass < in
printf '%s\n' '{"id":1,"z":[{"a":"\u00e9"}]}' "$st" '{"id":2}' '{"x":0}' '{"id":3}' > want
is_file out want "state lines and passed keyless records stay in input order"
printf '%s\n' '{"id":1}' '{"id":2,"z":{"a":[1,,2]}}' '{"id":3}' > in
run dedupe --key /id < in
is "$rc" 65 "a fault after the key member stops the run"
like err '^dedupe: line 2: invalid JSON at byte 21 \(in /z/a/1\): expected a value' \
	"named by line, byte and pointer, as a full parse names it"
is "$(cat out)" '{"id":1}' "the record before it was written"
printf '{"id":1,"s":"\377"}\n{"id":1,"s":"ok"}\n' > in
run dedupe --key /id --missing dead-letter:dl.jsonl < in
is "$(cat out)" '{"id":1,"s":"ok"}' "a record with invalid UTF-8 after its key goes to the dead letters"

# --lazy: each line is read only as far as its key; what follows passes
# on unread, byte for byte, and a fault there is the next stage's to find
printf '%s\n' '{"id":1,"z":{"a":[1,,2]}}' '{"id":2,"s":"\377"} trailing' '{"id":1,"x":0}' \
	'{"id":3' > in
run dedupe --lazy --key /id < in
is "$rc" 0 "--lazy: faults after the key do not stop the run"
printf '%s\n' '{"id":1,"z":{"a":[1,,2]}}' '{"id":2,"s":"\377"} trailing' '{"id":3' > want
is_file out want "--lazy: the lines pass on byte for byte, the duplicate dropped"
printf '%s\n' '{"z":[1,,2],"id":1}' '{"id":2}' > in
run dedupe --lazy --key /id < in
is "$rc" 65 "--lazy: a fault before the key still stops the run"
like err '^dedupe: line 1: invalid JSON at byte 9 \(in /z/1\): expected a value' \
	"named as without --lazy"
printf '%s\n' '{"x":1,"y":[}' '{"id":2}' > in
run dedupe --lazy --key /id --missing pass < in
is "$rc" 65 "--lazy: a line without its key is read whole, and checked"
like err '^dedupe: line 1: invalid JSON at byte 13 \(in /y/0\): expected a value' "and named"
printf '%s\n' '{"id":1,"v":2,"t":"x"' '{"id":1,"v":3,"t":"y"' '{"t":"z","id":2,"v":1}' > in
run dedupe --lazy --key /id --latest --order-field /v < in
printf '%s\n' '{"id":1,"v":3,"t":"y"' '{"t":"z","id":2,"v":1}' > want
is_file out want "--lazy --latest: the key and the order field are read, then it stops"
# 3,000 records, the first 1,300 ids twice
{ "$APIPE_TESTBIN/genrecords" -S -n 1700; "$APIPE_TESTBIN/genrecords" -S -n 1300 -s 2; } > in
run dedupe --key /id < in
is "$(wc -l < out | tr -d ' ')" 1700 "(the first copy of each of 1,700 ids)"
mv out want
run dedupe --lazy --key /id < in
is_file out want "--lazy: on valid input the same output as without it (3,000 records)"
run dedupe --key /id --missing bogus < in
is "$rc" 64 "a bad --missing is a usage error"
run dedupe < in
is "$rc" 64 "--key is required"

# --latest --order-field: greatest version per key, first-seen order
lines '{"id":"a","u":"2026-01-01T10:00:00+02:00","n":1}' \
	'{"id":"b","u":"2026-01-01T00:00:00Z","n":2}' \
	'{"id":"a","u":"2026-01-01T09:00:00Z","n":3}' \
	'{"id":"b","u":"2025-12-31T23:59:59Z","n":4}' \
	'{"id":"a","u":"2026-01-01T08:59:59.999Z","n":5}' > in
run dedupe --key /id --latest --order-field /u < in
lines '{"id":"a","u":"2026-01-01T09:00:00Z","n":3}' '{"id":"b","u":"2026-01-01T00:00:00Z","n":2}' > want
is_file out want "--latest compares timestamps as instants and keeps first-seen order"
lines '{"id":1,"v":9}' '{"id":1,"v":10}' '{"id":1,"v":9.5}' > in
run dedupe --key /id --latest --order-field /v < in
is "$(cat out)" '{"id":1,"v":10}' "numbers by value (10 > 9.5 > 9)"
lines '{"id":1,"v":"b"}' '{"id":1,"v":"ab"}' > in
run dedupe --key /id --latest --order-field /v < in
is "$(cat out)" '{"id":1,"v":"b"}' "strings bytewise"
lines '{"id":1,"v":1}' '{"id":1,"v":"x"}' > in
run dedupe --key /id --latest --order-field /v < in
is "$rc" 65 "mixed version types: exit 65"
like err 'line 2: /v: version is a string here but a number in an earlier record' "says so"
run dedupe --key /id --latest < in
is "$rc" 64 "--latest without --version is a usage error"
run dedupe --key /id --latest --order-field /v --seen s < in
is "$rc" 64 "--latest with --seen is a usage error"

# --seen: keys remembered across runs, staged at clean end of input and
# kept only once --commit says the pipeline landed them
lines '{"id":1}' '{"id":2}' > in1
lines '{"id":2}' '{"id":3}' '{"id":1}' '{"id":4}' > in2
run dedupe --key /id --seen seen.bin < in1
is "$(tr '\n' ' ' < out)" '{"id":1} {"id":2} ' "first run writes everything"
ok "$([ ! -e seen.bin ] && [ -s seen.bin.staged ]; echo $?)" "its keys are staged, not yet kept"
run dedupe --key /id --seen seen.bin < in1
is "$(tr '\n' ' ' < out)" '{"id":1} {"id":2} ' "a rerun before --commit (the sink did not land them) passes them again"
run dedupe --seen seen.bin --commit
is "$rc" 0 "--commit promotes the staged keys"
ok "$([ -s seen.bin ] && [ ! -e seen.bin.staged ]; echo $?)" "into the seen-file"
is "$(wc -c < seen.bin | tr -d ' ')" $((64 + 2 * 16)) "seen-file: 64-byte header and 16 bytes a key"
is "$(head -c 8 seen.bin)" "APIPESEN" "seen-file magic"
run dedupe --key /id --seen seen.bin --stats st.json < in2
dedupe --seen seen.bin --commit
is "$(tr '\n' ' ' < out)" '{"id":3} {"id":4} ' "second run drops keys seen before"
is "$(jq -c '[.seen_loaded,.written,.duplicates,.keys]' st.json)" "[2,2,2,4]" "--stats counts"
run dedupe --key /x --seen seen.bin < in2
is "$rc" 78 "another --key with the same seen-file: exit 78"
like err 'built with other --key pointers' "says why"
lines '{"id":5}' 'bad' > in3
run dedupe --key /id --seen seen.bin < in3
is "$rc" 65 "a failed run exits 65"
is "$(wc -c < seen.bin | tr -d ' ')" $((64 + 4 * 16)) "and does not save its keys"
run dedupe --key /id --seen seen.bin --commit
is "$(wc -c < seen.bin | tr -d ' ')" $((64 + 4 * 16)) "nor stage them for a --commit"
cp seen.bin seen.bak
flip_byte seen.bin 70
run dedupe --key /id --seen seen.bin < in1
is "$rc" 65 "a damaged seen-file: exit 65"
like err 'damaged seen-file \(checksum mismatch\)' "is reported, not reset"
head -c 80 seen.bak > seen.bin
run dedupe --key /id --seen seen.bin < in1
is "$rc" 65 "a truncated seen-file: exit 65"
echo "not a seen file" > seen.bin
run dedupe --key /id --seen seen.bin < in1
like err 'not a dedupe seen-file' "a foreign file is refused"
cp seen.bak seen.bin
# a concurrent run holds the lock
mkfifo fifo
dedupe --key /id --seen seen.bin < fifo > /dev/null 2>&1 &
exec 3> fifo
wait_locked seen.bin.lock
ok "$?" "the background run holds the lock"
run dedupe --key /id --seen seen.bin < in1
is "$rc" 75 "a second run on the same seen-file: exit 75"
like err 'in use by another run' "says the seen-file is in use"
exec 3>&-
wait

run dedupe --key /id --seen new/dir/s.bin < in1
dedupe --seen new/dir/s.bin --commit
is "$rc" 0 "--seen creates the seen-file's directory"
ok "$([ -s new/dir/s.bin ]; echo $?)" "and saves the file there"

# many keys: exact counts, saved and reloaded
seq 1 200000 | sed 's/.*/{"id":&}/' > big
seq 150001 250000 | sed 's/.*/{"id":&}/' > big2
run dedupe --key /id --seen many.bin < big
dedupe --seen many.bin --commit
is "$(wc -l < out | tr -d ' ')" 200000 "200000 distinct keys written"
run dedupe --key /id --seen many.bin < big2
is "$(wc -l < out | tr -d ' ')" 50000 "after reload only the 50000 new keys pass"
is "$(head -1 out)" '{"id":200001}' "starting with the first new one"
run sh -c 'cat big big | dedupe --key /id | wc -l'
is "$(tr -d ' ' < out)" 200000 "each key exactly once from a doubled stream"
done_testing
