#!/bin/sh
# watermark: track stages, commit promotes, get prints; atomic, locked, strict.
. "$APIPE_TOP/tests/lib.sh"
W="--state st --name gh"

lines '{"id":1,"u":"2026-01-01T10:00:00+02:00"}' '{"id":2,"u":"2026-01-01T09:00:00Z"}' \
	'{"id":3,"u":"2026-01-01T08:30:00.5Z"}' > in
run watermark get $W
is "$rc" 66 "no watermark yet: exit 66"
run watermark get $W --default 1970-01-01T00:00:00Z
is "$(cat out)" "1970-01-01T00:00:00Z" "--default on a first run"
run watermark track $W --order-field /u < in
is "$rc" 0 "track: exit 0"
is_file out in "track passes records through byte-identical"
is "$(jq -c '[.type,.current,.pending,.field]' st/gh.json)" '["timestamp",null,"2026-01-01T09:00:00Z","/u"]' \
	"the max as an instant (10:00+02:00 < 09:00Z) is staged, not committed"
run watermark get $W
is "$rc" 66 "a staged value is not current"
run watermark commit $W
is "$rc" 0 "commit: exit 0"
run watermark get $W
is "$(cat out)" "2026-01-01T09:00:00Z" "commit promotes the staged value"
run watermark get $W --lookback 10m
is "$(cat out)" "2026-01-01T08:50:00Z" "--lookback subtracts an overlap"
run watermark get $W --format epoch
is "$(cat out)" "1767258000" "--format epoch"
run watermark get $W --format epoch-ms --lookback 1500ms
is "$(cat out)" "1767257998500" "--format epoch-ms with a lookback"
run watermark get $W --format yaml
is "$rc" 64 "a bad --format: exit 64"
run watermark get $W --lookback soon
is "$rc" 64 "a bad --lookback: exit 64"

# a watermark never goes back: commit keeps the max of current and staged
lines '{"u":"2025-06-01T00:00:00Z"}' | watermark track $W --order-field /u > /dev/null
watermark commit $W
is "$(watermark get $W)" "2026-01-01T09:00:00Z" "an older staged value does not move it back"
lines '{"u":"2026-02-01T00:00:00Z"}' | watermark track $W --order-field /u --commit-on-eof > /dev/null
is "$(watermark get $W)" "2026-02-01T00:00:00Z" "--commit-on-eof stages and commits"

# a failed pipeline never advances it
lines '{"u":"2027-01-01T00:00:00Z"}' '{"u":"bad"}' > in
run watermark track $W --order-field /u --commit-on-eof < in
is "$rc" 65 "an unparsable field: exit 65"
like err '^watermark: line 2: /u: "bad" is not an RFC 3339 timestamp' "naming line and pointer"
is "$(watermark get $W)" "2026-02-01T00:00:00Z" "and the watermark did not move"
is "$(jq -r .pending st/gh.json)" "null" "nor was anything staged"
lines '{"u":"2027-01-01T00:00:00Z"}' '{"x":1}' '{"u":"2027-01-02T00:00:00Z"}' > in
run watermark track $W --order-field /u < in
is "$rc" 65 "a missing field: exit 65"
like err 'line 2: /u: field is missing' "says so"
run watermark track $W --order-field /u --skip-invalid --stats s.json < in
is "$rc" 0 "--skip-invalid passes it on"
is "$(wc -l < out | tr -d ' ')" 3 "all three records written"
is "$(jq -c '[.lines,.invalid,.max]' s.json)" '[3,1,"2027-01-02T00:00:00Z"]' "--stats"
# only /u is tokenized, but the rest of each line is checked too
lines '{"u":"2027-01-01T00:00:00Z","a":[1]}' '{"u":"2027-01-09T00:00:00Z","a":[1,]}' > in
run watermark track $W --order-field /u < in
is "$rc" 65 "a fault after the field: exit 65"
like err '^watermark: line 2: /u: invalid JSON at byte 36 \(in /a/1\): expected a value' \
	"naming the line, the byte and the pointer of the fault"
is "$(watermark get $W)" "2026-02-01T00:00:00Z" "and the watermark did not move"
# --lazy: a line is read only as far as the field's member; the rest
# passes on unread, and a fault there is the next stage's to find
printf '%s\n' '{"u":"2027-01-01T00:00:00Z","a":[1,]}' '{"u":"2027-01-09T00:00:00Z"} x' \
	'{"id":1,"u":"2027-01-05T00:00:00Z","s":"\377' > in
run watermark track $W --order-field /u --lazy --stats s.json < in
is "$rc" 0 "--lazy: faults after the field do not stop track"
is_file out in "--lazy: the lines pass on byte for byte"
is "$(jq -c '[.lines,.max]' s.json)" '[3,"2027-01-09T00:00:00Z"]' "--lazy: every field was read"
printf '%s\n' '{"a":[1,],"u":"2027-01-01T00:00:00Z"}' > in
run watermark track $W --order-field /u --lazy < in
is "$rc" 65 "--lazy: a fault before the field still stops it"
like err '^watermark: line 1: /u: invalid JSON at byte 9 \(in /a/1\): expected a value' \
	"named as without --lazy"
printf '%s\n' '{"u":"2027-01-01T00:00:00Z"}' '{"x":[1,]}' > in
run watermark track $W --order-field /u --lazy --skip-invalid --stats s.json < in
is "$(jq -c '[.lines,.invalid]' s.json)" '[2,1]' \
	"--lazy --skip-invalid: a line without the field is read whole, and counted invalid"
run watermark track $W --order-field /u --lazy < in
like err '^watermark: line 2: /u: invalid JSON at byte 9 \(in /x/1\): expected a value' \
	"and its fault is found"
"$APIPE_TESTBIN/genrecords" -S -n 2000 > in	# /ts: timestamps with mixed offsets
run watermark track --state st2 --name a --order-field /ts < in
mv out want
run watermark track --state st2 --name b --order-field /ts --lazy < in
is_file out want "--lazy: on valid input the same output as without it (2,000 records)"
is "$(jq -r .pending st2/b.json)" "$(jq -r .pending st2/a.json)" "and the same value staged"
is "$(watermark get $W)" "2026-02-01T00:00:00Z" "no --lazy run moved the committed watermark"
# a stale staged value from a failed run is replaced by the next clean run
lines '{"u":"2026-03-01T00:00:00Z"}' | watermark track $W --order-field /u > /dev/null
is "$(jq -r .pending st/gh.json)" "2026-03-01T00:00:00Z" "a clean run restages"
: | watermark track $W --order-field /u
is "$(jq -r .pending st/gh.json)" "null" "an empty clean run clears what was staged"

# numbers, strings and epochs
lines '{"n":9}' '{"n":10}' '{"n":9.5}' '{"n":12345678901234567890123}' > in
watermark track --state st --name num --order-field /n --commit-on-eof < in > /dev/null
is "$(watermark get --state st --name num)" "12345678901234567890123" "numbers by exact value"
run watermark get --state st --name num --lookback 1m
is "$rc" 64 "--lookback on a number: exit 64"
lines '{"t":1763900000123}' '{"t":1763900000999}' | watermark track --state st --name ms --order-field /t --type epoch-ms --commit-on-eof > /dev/null
is "$(watermark get --state st --name ms --format rfc3339)" "2025-11-23T12:13:20.999Z" "epoch-ms converts to RFC 3339"
lines '{"s":"b"}' '{"s":"abc"}' | watermark track --state st --name str --order-field /s --commit-on-eof > /dev/null
is "$(watermark get --state st --name str)" "b" "strings bytewise"
lines '{"n":1}' | watermark track --state st --name str --order-field /n > /dev/null 2>err
is "$?" 65 "a number where strings were tracked: exit 65"
run watermark track --state st --name str --order-field /s --type number < /dev/null
is "$rc" 78 "--type that contradicts the stored type: exit 78"

# set and list
run watermark set --state st --name manual 2026-05-05T00:00:00Z
is "$rc" 0 "set: exit 0"
is "$(watermark get --state st --name manual --format epoch)" "1777939200" "set stores a timestamp"
run watermark set --state st --name manual --type number notanumber
is "$rc" 64 "set with a value of the wrong type: exit 64"
run watermark list --state st
is "$(jq -r .name out | tr '\n' ' ')" "gh manual ms num str " "list prints every watermark as JSON lines"

# state files: atomic, strict, locked
is "$(ls st | grep -c tmp)" 0 "no temporary files left behind"
cp st/gh.json gh.bak
echo '{"name":"gh","type":"timestamp","current":' > st/gh.json
run watermark get $W
is "$rc" 65 "a corrupt state file: exit 65"
like err 'damaged state file' "is reported"
run watermark track $W --order-field /u < in
is "$rc" 65 "track refuses to reset it"
is "$(cat st/gh.json)" '{"name":"gh","type":"timestamp","current":' "and leaves it as it was"
cp gh.bak st/gh.json
mkfifo fifo
watermark track $W --order-field /u < fifo > /dev/null 2>&1 &
exec 3> fifo
wait_locked st/gh.json.lock
ok "$?" "the background run holds the lock"
run watermark track $W --order-field /u < /dev/null
is "$rc" 75 "a second concurrent track on one name: exit 75"
like err 'watermark gh is in use by another run' "says so"
run watermark commit $W
is "$rc" 75 "commit waits for no one either"
exec 3>&-
wait
run watermark get --state st --name '../x'
is "$rc" 64 "names cannot leave the state directory"
run watermark frobnicate --state st --name x
is "$rc" 64 "unknown command: exit 64"
run watermark get --name x
is "$rc" 64 "--state is required"
done_testing
