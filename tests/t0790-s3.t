#!/bin/sh
# Object storage: store-raw archives to s3://BUCKET/PREFIX and replays from
# it, tabulate writes Parquet and CSV objects, against a real S3 API server
# (s3rver from npm) behind a proxy that checks every request's SigV4
# signature with botocore (tests/bin/s3-sigv4-proxy.py) and refuses a
# mismatch.  Debian's aws CLI reads back what was written; DuckDB reads the
# Parquet object.  Kill -9 during an append and during a multipart upload
# lose nothing passed on and leave no partial object.
. "$APIPE_TOP/tests/lib.sh"

PY=/usr/bin/python3	# Debian's, with python3-botocore
AWSCLI=/usr/bin/aws
for t in "$PY" "$AWSCLI"; do
	[ -x "$t" ] || { echo "Bail out! $t is missing (README's packages, make npm-peers)"; exit 1; }
done

start_s3rver lake
UP=$S3PORT

# proxy NAME ARGS…: a verifying proxy logging to NAME.log; its port in $PX
proxy() {
	_n=$1
	shift
	: > "$_n.log"
	"$PY" "$APIPE_TOP/tests/bin/s3-sigv4-proxy.py" "$UP" "$_n.log" "$@" > "$_n.port" 2> "$_n.err" &
	mock_pids="$mock_pids $!"
	PX=$(wait_port "$_n.port" | head -1) || { echo "Bail out! the proxy did not start"; exit 1; }
}
proxy main S3RVER:s3cr3t-lake-key
E="http://127.0.0.1:$PX"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=s3cr3t-lake-key AWS_REGION=us-east-1 \
	AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$E"
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_PROFILE
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws() { "$AWSCLI" --endpoint-url "$E" "$@"; }

# envelopes: 200 pages of two endpoints
envelopes() {	# FIRST COUNT
	seq "$1" $(($1 + $2 - 1)) | awk '{ printf "{\"url\":\"http://127.0.0.1/%s?page=%d\",\"status\":200,\"fetched_at\":\"2026-12-07T10:%02d:%02dZ\",\"body\":{\"items\":[{\"id\":%d,\"text\":\"record %d\"}]}}\n", ($1 % 2 ? "orders" : "users"), $1, ($1 / 60) % 60, $1 % 60, $1, $1 }'
}
envelopes 1 200 > pages.jsonl

run store-raw --segment-lines 50 s3://lake/raw/api < pages.jsonl
is "$rc" 0 "store-raw to s3:// exits 0"
is_file out pages.jsonl "every line is passed on unchanged"
run store-raw --replay s3://lake/raw/api
is_file out pages.jsonl "the replay from s3:// is byte for byte"
store-raw --list --json s3://lake/raw/api > list.json
is "$(jq -s 'length' list.json) $(jq -s 'map(.lines) | add' list.json)" "4 200" \
	"the manifest lists 4 segments of 200 lines"
is "$(store-raw --list s3://lake/raw/api | tail -1 | awk '{ print $1, $2 }')" "total 200" "--list shows the total"

# the aws CLI lists and downloads them; zcat reads the segments
aws s3 ls --recursive s3://lake/raw/api/ > ls.out 2> ls.err
is "$(grep -c ' raw/api/seg-.*\.jsonl\.gz$' ls.out) $(grep -c ' raw/api/manifest/seg-.*\.json$' ls.out)" "4 4" \
	"aws s3 ls: 4 segments and their 4 manifest objects"
aws s3 cp --recursive --quiet s3://lake/raw/api/ dl/ --exclude 'manifest/*' 2> cp.err
for f in $(jq -r .file list.json); do zcat "dl/$f"; done > zcat.out
is_file zcat.out pages.jsonl "aws s3 cp and zcat read the segments, in manifest order"
is "$(for f in $(jq -r .file list.json); do sha256sum "dl/$f" | cut -c1-64; done | tr '\n' ' ')" \
	"$(jq -r .sha256 list.json | tr '\n' ' ')" "each segment's SHA-256 is the manifest's"

# appending; an archive already there needs --append
envelopes 201 100 > more.jsonl
run store-raw s3://lake/raw/api < more.jsonl
is "$rc $(wc -c < out)" "73 0" "an archive already there: exit 73 without --append, nothing passed on"
like err "already holds an archive; use --append" "... saying to use --append"
run store-raw --append s3://lake/raw/api < more.jsonl
is "$rc" 0 "--append continues it"
cat pages.jsonl more.jsonl > all.jsonl
store-raw --replay s3://lake/raw/api > replay.out
is_file replay.out all.jsonl "the replay holds both runs in order"
is "$(store-raw --replay --endpoint http://127.0.0.1/orders s3://lake/raw/api | grep -c .)" 150 \
	"--endpoint selects from an s3:// archive"

# every request so far was signed, and the signature verified
is "$(grep -c . main.log) $(grep -vc '"outcome": "verified"' main.log)" "$(grep -c . main.log) 0" \
	"every request's SigV4 signature was verified by botocore ($(grep -c . main.log) requests)"
is "$(grep -c '"method": "PUT"' main.log)" 10 "one PUT per segment and one per manifest line"

# a segment stored but not listed (a run killed between the two PUTs)
seg=$(jq -r .file list.json | head -1)
orphan=seg-29991231T235959Z-0000beef-000900.jsonl.gz	# sorts last
aws s3 cp --quiet "dl/$seg" "s3://lake/raw/api/$orphan"
run store-raw --replay s3://lake/raw/api
is "$rc $(wc -c < out)" "65 0" "an unlisted segment stops the replay before any line (65)"
like err "$orphan is in the archive but not in its manifest.*--append" "... naming it and the repair"
run store-raw --append s3://lake/raw/api < /dev/null
is "$rc" 0 "store-raw --append < /dev/null lists it"
like err "recovered: $orphan was stored but not listed" "... and says so"
store-raw --replay s3://lake/raw/api > replay.out
{ cat all.jsonl; head -50 pages.jsonl; } > want
is_file replay.out want "then the replay holds it too"

# a listed segment changed in the store is found by its checksum
echo '{"url":"http://127.0.0.1/forged","status":200}' | gzip > forged.gz
aws s3 cp --quiet forged.gz "s3://lake/raw/api/$seg"
run store-raw --replay s3://lake/raw/api
is "$rc" 65 "a segment whose bytes changed: exit 65"
like err "s3://lake/raw/api/$seg: corrupt: its SHA-256 does not match" "... naming the object"
run store-raw --replay --keep-going s3://lake/raw/api
is "$rc $(grep -c . out)" "65 $(( $(grep -c . want) - 50 ))" "--keep-going skips it and replays the rest"

# an object named as a segment that is none
echo 'not gzip' > junk
aws s3 cp --quiet junk s3://lake/raw/bad/seg-20261207T000000Z-00000000-000001.jsonl.gz
run store-raw --append s3://lake/raw/bad < pages.jsonl
is "$rc $(wc -c < out)" "65 0" "an object that is no segment: exit 65, nothing passed on"
like err "seg-20261207T000000Z-00000000-000001.jsonl.gz: not an archive segment" "... naming it"

# wrong credentials, an unknown bucket, a clock skew: clear errors, nothing passed on
run env AWS_SECRET_ACCESS_KEY=not-the-secret store-raw s3://lake/raw/wrong < pages.jsonl
is "$rc $(wc -c < out)" "77 0" "a wrong secret: exit 77, nothing passed on"
like err "403 SignatureDoesNotMatch.*check the S3 credentials" "... the store's error in one line"
is "$(grep -c . err)" 1 "... one line"
unlike err "not-the-secret" "... without the secret"
run env AWS_ACCESS_KEY_ID=AKIDUNKNOWN store-raw s3://lake/raw/wrong < pages.jsonl
is "$rc $(wc -c < out)" "77 0" "an unknown key id: exit 77, nothing passed on"
like err "InvalidAccessKeyId" "... InvalidAccessKeyId"
run store-raw s3://no-such-bucket/raw < pages.jsonl
is "$rc $(wc -c < out)" "66 0" "an unknown bucket: exit 66, nothing passed on"
like err "404 NoSuchBucket" "... NoSuchBucket"
proxy skew S3RVER:s3cr3t-lake-key --clock-offset 3600
run store-raw --s3-endpoint "http://127.0.0.1:$PX" s3://lake/raw/skew < pages.jsonl
is "$rc $(wc -c < out)" "77 0" "a clock an hour off: exit 77, nothing passed on"
like err "RequestTimeTooSkewed.*clock" "... saying it is the clock"
run env -u AWS_ACCESS_KEY_ID store-raw s3://lake/raw/none < pages.jsonl
is "$rc" 78 "no credentials at all: exit 78"
like err "no S3 credentials: set AWS_ACCESS_KEY_ID" "... saying where they come from"
run store-raw --aws-secret-access-key s3cr3t-lake-key s3://lake/raw/lit < pages.jsonl
is "$rc" 64 "a secret given literally on the command line is refused"

# credentials as options: env:/file: references
echo s3cr3t-lake-key > secret.txt
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY MY_ID=S3RVER store-raw \
	--aws-access-key-id env:MY_ID --aws-secret-access-key file:secret.txt s3://lake/raw/opts < pages.jsonl
is "$rc" 0 "--aws-access-key-id env: and --aws-secret-access-key file: work"
is_file out pages.jsonl "... passing everything on"

# the store answers 503 SlowDown: retried under the HTTP policy
proxy slow S3RVER:s3cr3t-lake-key --fail-first 3
run store-raw --s3-endpoint "http://127.0.0.1:$PX" s3://lake/raw/retry < pages.jsonl
is "$rc" 0 "three 503 SlowDown answers are retried"
is "$(grep -c SlowDown slow.log)" 3 "... three were refused"
is "$(store-raw --s3-endpoint "http://127.0.0.1:$PX" --replay s3://lake/raw/retry | cmp - pages.jsonl && echo same)" \
	same "... and the archive is whole"

# kill -9 during appends: every line passed on is in the archive
: > passed
awk 'BEGIN { srand(7); for (i = 0; i < 12; i++) printf "%.2f\n", 0.3 + rand() * 0.9 }' > sleeps
round=0
while read -r s; do
	round=$((round + 1))
	envelopes $((round * 1000)) 400 > in.$round
	# a slow producer: the input pauses, so segments are stored as it goes
	( while read -r l; do echo "$l"; sleep 0.005; done < in.$round ) |
		store-raw --append s3://lake/kill 2>> kill.err >> passed &
	bg=$!
	sleep "$s"
	kill -9 "$bg" 2>/dev/null
	wait "$bg" 2>/dev/null
done < sleeps
run store-raw --append s3://lake/kill < /dev/null
is "$rc" 0 "after 12 kill -9, --append < /dev/null lists what was stored"
store-raw --replay s3://lake/kill | sort > archived
sort passed > passed.sorted
is "$(comm -23 passed.sorted archived | grep -c . || true)" 0 \
	"no line passed on is missing from the archive ($(grep -c . passed) passed on)"
is "$(sort archived | uniq -d | grep -c . || true)" 0 "no line is archived twice"
is "$([ "$(grep -c . passed)" -gt 0 ] && echo some)" some "lines were passed on before the kills"

# tabulate: Parquet and CSV objects
tab_in() { seq 1 "$1" | awk '{ printf "{\"id\":%d,\"name\":\"name %d with some text to fill the row\",\"amount\":%d.25}\n", $1, $1, $1 }'; }
tab_in 1000 > rows.jsonl
run tabulate -o s3://lake/tables/rows.parquet < rows.jsonl
is "$rc" 0 "tabulate -o s3://…/rows.parquet"
tabulate -o local.parquet < rows.jsonl
aws s3 cp --quiet s3://lake/tables/rows.parquet got.parquet
is_file got.parquet local.parquet "the object is the file tabulate writes locally"
APIPE_NPM="$APIPE_NPM" node "$APIPE_TOP/tests/bin/duckdb-dump.js" got.parquet > duck.out 2> duck.err
is "$(head -1 duck.out | jq -c '[.rows, .columns]') $(sed -n 2p duck.out) $(tail -1 duck.out)" \
	'[1000,[["id","BIGINT"],["name","VARCHAR"],["amount","DECIMAL(38,2)"]]] ["1","name 1 with some text to fill the row","1.25"] ["1000","name 1000 with some text to fill the row","1000.25"]' \
	"DuckDB reads the Parquet object: 1000 rows, their columns and values"
[ -s duck.err ] && diag "$(head -3 duck.err)"
tab_in 300000 > big.jsonl
: > main.log
run tabulate -o s3://lake/tables/big.csv < big.jsonl
is "$rc" 0 "a large CSV goes up as a multipart upload"
is "$(grep -c 'partNumber=' main.log) $(grep -c '"query": "uploads="' main.log)" \
	"$(grep -c 'partNumber=' main.log) 1" "... one upload, $(grep -c 'partNumber=' main.log) parts"
is "$([ "$(grep -c 'partNumber=' main.log)" -ge 2 ] && echo several)" several "... of several parts"
tabulate -o local.csv < big.jsonl
aws s3 cp --quiet s3://lake/tables/big.csv got.csv
is_file got.csv local.csv "the CSV object is whole"
is "$(grep -vc '"outcome": "verified"' main.log)" 0 "every request of the upload was verified"

# a part refused: the upload is aborted, no object
proxy deny S3RVER:s3cr3t-lake-key --deny-part 2
run tabulate --s3-endpoint "http://127.0.0.1:$PX" -o s3://lake/tables/denied.csv < big.jsonl
is "$rc" 77 "a part refused: exit 77"
is "$(grep -c '"method": "DELETE".*uploadId=' deny.log)" 1 "... the upload is aborted"
is "$(aws s3 ls s3://lake/tables/denied.csv | grep -c . || true)" 0 "... and no object is there"
# bad input: nothing is stored
run tabulate -o s3://lake/tables/bad.csv --column id=/id:int < /dev/null
printf '{"id":1}\nnot json\n' | tabulate -o s3://lake/tables/bad.csv > /dev/null 2>&1
is "$(aws s3 ls s3://lake/tables/bad.csv | grep -c . || true)" 0 "a run that fails stores no object"

# kill -9 during a multipart upload: no object
proxy slowparts S3RVER:s3cr3t-lake-key --slow-parts 0.5
tabulate --s3-endpoint "http://127.0.0.1:$PX" -o s3://lake/tables/killed.csv < big.jsonl 2> /dev/null &
tp=$!
i=0
while ! grep -q partNumber slowparts.log && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $tp
wait $tp 2>/dev/null
is "$(grep -c '"query": "uploads="' slowparts.log)" 1 "the killed tabulate had begun a multipart upload"
is "$(aws s3 ls s3://lake/tables/killed.csv | grep -c . || true)" 0 "kill -9 during it leaves no object"

# a session token goes with every request, signed, and is never printed
: > main.log
run env AWS_SESSION_TOKEN=tok3n-of-the-session store-raw -v s3://lake/raw/token < pages.jsonl
is "$rc" 0 "with AWS_SESSION_TOKEN set"
is "$(grep -c '"token_signed": true' main.log) $(grep -c . main.log)" "$(grep -c . main.log) $(grep -c . main.log)" \
	"... every request carries it, under the signature"
unlike err "tok3n-of-the-session" "... and -v does not print it"

# -v says what it does, and no secret
run store-raw -v --append s3://lake/raw/api < more.jsonl
unlike err "s3cr3t-lake-key" "-v prints no secret"

done_testing
