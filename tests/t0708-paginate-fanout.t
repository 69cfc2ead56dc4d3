#!/bin/sh
# paginate -j N over many listings (request lines on stdin): N listings at
# once, each listing's pages in order, listings grouped in input order
# (--unordered interleaves), and each page's envelope carries its request
# line's meta so records --meta gives every child record its parent.
# Killed with kill -9 at seeded moments, with --checkpoint and -o, and
# resumed, the output holds every record exactly once, in order; through
# the in-band state into upsert, the table is exactly the dataset.
. "$APIPE_TOP/tests/lib.sh"

python3 "$APIPE_TOP/tests/bin/listing-server.py" --port-file ls.port 10 &
mock_pids="$mock_pids $!"
L="http://127.0.0.1:$(wait_port ls.port)"

# 200 parents, each a listing of 3 pages of 2 children
k=1
while [ $k -le 200 ]; do
	echo "{\"url\":\"$L/parent/$k/children\",\"repo\":$k}"
	k=$((k + 1))
done > parents.jsonl
k=1
while [ $k -le 200 ]; do
	for c in 1 2 3 4 5 6; do echo "$k-$c $k"; done
	k=$((k + 1))
done > want

run paginate -j 8 --stats st < parents.jsonl
is "$rc" 0 "-j 8 over 200 listings: exit 0"
records --meta < out | jq -r '"\(.id) \(._apipe.meta.repo)"' > got
is_file got want "every child once, with its parent from the request line, in input order"
is "$(jq -c '[.listings, .pages, .records]' st)" "[200,600,1200]" "--stats counts every listing"
run paginate -j 1 < parents.jsonl
records < out > seq.jsonl
run paginate -j 8 < parents.jsonl
records < out > par.jsonl
is_file par.jsonl seq.jsonl "the records of -j 8 are those of -j 1, byte for byte and in order"
run paginate -j 8 --unordered < parents.jsonl
is "$rc" 0 "--unordered: exit 0"
records --meta < out | jq -r '"\(.id) \(._apipe.meta.repo)"' | sort > got
sort want > want.sorted
is_file got want.sorted "--unordered: the same records, each with its parent"
run paginate -j 8 --unordered --checkpoint ck -o o.jsonl < parents.jsonl
is "$rc" 64 "--unordered with a checkpoint is refused: no checkpoint can describe it"
run paginate -j 8 --unordered --state s < parents.jsonl
is "$rc" 64 "... and so with --state"

# kill -9 at seeded moments, resume from the checkpoint, until it completes
sed 's|/children"|/children?delay_ms=15"|' parents.jsonl > slow.jsonl
awk 'BEGIN { srand(708); for (i = 0; i < 12; i++) printf "%.3f all\n", 0.1 + rand() * 1.2 }' > sleeps
kill_rounds sleeps "paginate -q -j 8 --checkpoint $PWD/ck -o $PWD/fan.jsonl < $PWD/slow.jsonl"
diag "$killed of 12 runs killed mid-flight"
is "$([ "$killed" -ge 6 ] && echo yes)" yes "most runs were killed mid-flight"
run sh -c "paginate -q -j 8 --checkpoint ck -o fan.jsonl < slow.jsonl"
is "$rc" 0 "the run after the kills completes"
records --meta < fan.jsonl | jq -r '"\(.id) \(._apipe.meta.repo)"' > got
is_file got want "after kill -9 and resume: every child exactly once, in order"

# the same through the in-band state into upsert (the sink keeps the state)
DB="$PWD/fan.db"
PIPE="paginate -q -j 8 --state fan --resume-from '$DB' < '$PWD/slow.jsonl' | records --meta |
upsert --db '$DB' --table t --key /id --batch 5"
awk 'BEGIN { srand(7080); for (i = 0; i < 12; i++) printf "%.3f all\n", 0.1 + rand() * 1.2 }' > sleeps
kill_rounds sleeps "$PIPE"
diag "$killed of 12 pipelines killed mid-flight"
run bash -c "set -o pipefail; $PIPE"
is "$rc" 0 "the pipeline after the kills completes"
sqlite3 "$DB" "select json_extract(record, '\$.id') || ' ' || json_extract(record, '\$._apipe.meta.repo')
	from t order by rowid" | sort > got
is_file got want.sorted "the table holds every child exactly once, with its parent"
is "$(sqlite3 "$DB" "select value from apipe_state where name = 'fan'")" \
	'{"version":1,"complete":true}' "the kept state says the crawl is complete"
done_testing
