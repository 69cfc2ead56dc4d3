#!/bin/sh
# valgrind over a representative run of every program: no invalid access,
# no use of uninitialised memory, no definite or indirect leak.
. "$APIPE_TOP/tests/lib.sh"

case $APIPE_BIN in
*/build-san/*)
	echo "ok 1 # SKIP the programs are built with sanitizers, which valgrind cannot run"
	echo "1..1"
	exit 0 ;;
esac
command -v valgrind > /dev/null || { echo "Bail out! valgrind is not installed"; exit 1; }

# vg NAME CMD…: run CMD under valgrind, stdin from ./in
vg() {
	_name=$1
	shift
	rc=0
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--log-file="vg.$_name" "$@" < in > "out.$_name" 2>"err.$_name" || rc=$?
	is "$rc:$(cat "vg.$_name")" "0:" "valgrind is clean on $_name"
	[ "$rc" = 0 ] || diag "$(head -20 "vg.$_name")" "$(head -3 "err.$_name")"
}

"$APIPE_TESTBIN/genrecords" -n 300 -p 50 > pages.jsonl
"$APIPE_TESTBIN/genrecords" -x -n 300 > recs.jsonl
cp "$APIPE_TOP/tests/bench/orders.schema.json" .
cp pages.jsonl in
vg records records --stats st.records
cp recs.jsonl in
vg dedupe dedupe --key /id --seen seen
vg dedupe-latest dedupe --key /id --latest --order-field /updated_at
vg watermark watermark track --state wm --name n --order-field /updated_at
vg dedupe-lazy dedupe --lazy --key /id --latest --order-field /updated_at
is "$(cksum < out.dedupe-lazy)" "$(cksum < out.dedupe-latest)" "... and --lazy wrote the same"
vg watermark-lazy watermark track --lazy --state wm --name l --order-field /updated_at
vg validate validate --schema orders.schema.json --format-assert --dead-letter dl.jsonl
vg validate-j3 validate -j 3 --schema orders.schema.json --format-assert --dead-letter dlj.jsonl
is "$(cat out.validate-j3 dlj.jsonl | cksum)" "$(cat out.validate dl.jsonl | cksum)" "... and -j 3 wrote the same"
vg schema-infer schema infer
schema infer < recs.jsonl > base.json
vg schema-diff schema diff --fail-on none base.json
vg upsert upsert --db up.db --table t --key /id --only-newer --order-field /updated_at --column s=/status:text
vg upsert-child upsert --db up2.db --table t --key /id --child /lines=t_lines --child /tags=t_tags \
	--delete-when /active=false --only-newer --order-field /updated_at
vg upsert-child-again upsert --db up2.db --table t --key /id --child /lines=t_lines \
	--delete-when /active=false --only-newer --order-field /updated_at
vg upsert-replace upsert --db up3.db --table t --key /id --column s=/status --replace
vg tabulate-parquet tabulate --format parquet --row-group 64 -o t.parquet
vg tabulate-csv tabulate --format csv --column id=/id:integer --column s=/status --dead-letter tdl.jsonl
vg singer-to singer --to --stream o --key /id
cp out.singer-to in
vg singer-from singer --from --stream o
cp pages.jsonl in
vg store-raw store-raw arch
: > in
vg store-raw-replay store-raw --replay arch

# store-raw and tabulate to and from object storage (s3rver from npm)
start_s3rver vg
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3="http://127.0.0.1:$S3PORT"
cp pages.jsonl in
vg store-raw-s3 store-raw --segment-lines 2 s3://vg/arch
: > in
vg store-raw-s3-replay store-raw --replay s3://vg/arch
is "$(cksum < out.store-raw-s3-replay)" "$(cksum < pages.jsonl)" "... and the replay from s3:// is whole"
cp recs.jsonl in
vg tabulate-s3 tabulate --format csv -o s3://vg/t.csv

start_mock vg --records 300 --fault-rate 20 --seed 3
: > in
vg fetch-page fetch-page --retry 8 --retry-delay 0.01 "$BASE/items/1" "$BASE/items/2"
vg paginate paginate --retry 8 --retry-delay 0.01 "$BASE/cursor?limit=100"
is "$(records < out.paginate | wc -l)" 300 "... and paginate under valgrind fetched every record"

# webhook-recv: one signed delivery, then SIGTERM
export VG_SECRET=vg-secret
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--log-file=vg.webhook-recv webhook-recv --listen 127.0.0.1:0 --port-file whport \
	--secret env:VG_SECRET --scheme hmac-sha256 --out events 2>err.webhook-recv &
wh=$!
i=0
while [ ! -s whport ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
body='{"event":"ping","n":1}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$VG_SECRET" -hex | sed 's/.*= //')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Signature: $sig" -H "X-Delivery-Id: vg-1" \
	--data-binary "$body" "http://127.0.0.1:$(cat whport)/")
kill -TERM "$wh"
rc=0
wait "$wh" || rc=$?
is "$code:$rc:$(cat vg.webhook-recv)" "200:0:" "valgrind is clean on webhook-recv (one delivery, then SIGTERM)"
done_testing
