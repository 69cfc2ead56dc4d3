#!/bin/sh
# upsert --replace on SQLite and PostgreSQL: the table becomes exactly the
# run's records, loaded beside it and swapped in at the end of a
# successful run, with the in-band state and the watermark; a run that
# fails or is killed leaves the old table whole and readable throughout;
# a second --replace of the table at the same time is refused.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

RS=$(printf '\036')
recs() {	# FIRST LAST TAG: records FIRST..LAST with v = TAG-n
	seq "$1" "$2" | awk -v t="$3" '{ printf "{\"id\":%d,\"v\":\"%s-%d\",\"at\":\"2026-12-%02dT00:00:00Z\"}\n", $1, t, $1, $1 % 28 + 1 }'
}
ids() { q "$1" "select id from ${2:-t} order by id" | tr '\n' ' '; }
# slow FILE: the lines of FILE, one every 10 ms (a crawl still going)
slow() { while read -r l; do printf '%s\n' "$l"; sleep 0.01; done < "$1"; }

backend() {
	D=$(url rep)
	recs 1 3 old > old.jsonl
	run upsert --db "$D" --table t --key /id --column v=/v < old.jsonl
	is "$rc:$(ids rep)" "0:1 2 3 " "$B: a plain run lands 1 2 3"
	recs 2 4 new > new.jsonl
	run upsert --db "$D" --table t --key /id --column v=/v --replace < new.jsonl
	is "$rc:$(ids rep)" "0:2 3 4 " "$B: --replace: the table is exactly the run's records"
	is "$(q rep "select v from t where id = 2")" new-2 "$B: ... with their values"
	recs 5 7 third > third.jsonl
	run upsert --db "$D" --table t --key /id --column v=/v --replace < third.jsonl
	is "$rc:$(ids rep)" "0:5 6 7 " "$B: --replace again: exactly the second run's rows"
	is "$(q rep "select count(*) from t where v like 'third-%'")" 3 "$B: ... all of them new"
	is "$(q rep "select name, pointer from apipe_columns where tbl = 't'")" "v|/v" \
		"$B: the column registry follows the table"
	is "$(q rep "select count(*) from apipe_columns where tbl like '%apipe_replace'")" 0 \
		"$B: ... and keeps nothing of the staging table"

	# a run that fails: the table is as it was
	{ recs 10 12 bad; echo '{"v":"no key"}'; } > bad.jsonl
	run upsert --db "$D" --table t --key /id --column v=/v --replace < bad.jsonl
	is "$rc:$(ids rep)" "65:5 6 7 " "$B: a run that fails (65) leaves the old table whole"

	# killed mid-run: the old table stays whole and readable throughout
	recs 100 400 killed > long.jsonl
	slow long.jsonl | upsert --db "$D" --table t --key /id --column v=/v --replace --batch 10 \
		2> kill.err &
	bg=$!
	i=0
	while [ "$(q rep "select count(*) from t__apipe_replace" 2>/dev/null || echo 0)" -lt 30 ] && [ $i -lt 300 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	is "$(ids rep)" "5 6 7 " "$B: while a replace loads (30 rows staged), the table is the old one"
	kill -9 $bg
	wait $bg 2>/dev/null
	is "$(ids rep)" "5 6 7 " "$B: kill -9 in the middle leaves the old table whole"
	recs 20 21 after > after.jsonl
	run upsert --db "$D" --table t --key /id --column v=/v --replace < after.jsonl
	is "$rc:$(ids rep)" "0:20 21 " "$B: the next --replace clears what the killed one staged"
	is "$(q rep "select count(*) from t__apipe_replace" 2>/dev/null || echo gone)" gone \
		"$B: ... and leaves no staging table"

	# the in-band state and the watermark commit with the swap, not before
	{ recs 30 40 st; printf '%s{"apipe_state":"crawl","value":{"page":2}}\n' "$RS"; } > st.jsonl
	{ slow st.jsonl; sleep 3; } | upsert --db "$D" --table t --key /id --column v=/v --replace \
		--order-field /at --watermark-name wm --batch 2 2> st.err &
	bg=$!
	sleep 1.5
	is "$(q rep "select count(*) from apipe_state where name in ('crawl', 'wm')")" 0 \
		"$B: the state and the watermark wait for the swap (the run still going)"
	kill -9 $bg
	wait $bg 2>/dev/null
	is "$(q rep "select count(*) from apipe_state where name in ('crawl', 'wm')"):$(ids rep)" "0:20 21 " \
		"$B: killed before the swap: neither the state nor the rows moved"
	run upsert --db "$D" --table t --key /id --column v=/v --replace --order-field /at \
		--watermark-name wm < st.jsonl
	is "$rc:$(q rep "select value from apipe_state where name = 'crawl'")" "0:{\"page\":2}" \
		"$B: after the swap the state is there"
	is "$(q rep "select value from apipe_state where name = 'wm'")" '"2026-12-13T00:00:00Z"' \
		"$B: ... and the watermark is the run's greatest"
	is "$(ids rep | wc -w)" 11 "$B: ... with the run's 11 rows"

	# two at once: the second is refused, the first lands
	recs 50 80 first > first.jsonl
	slow first.jsonl | upsert --db "$D" --table t --key /id --column v=/v --replace 2> first.err &
	bg=$!
	sleep 0.3
	recs 90 91 second > second.jsonl
	run upsert --db "$D" --table t --key /id --column v=/v --replace < second.jsonl
	is "$rc" 75 "$B: a second --replace of the table at the same time: exit 75"
	like err "another upsert --replace" "$B: ... saying why"
	wait $bg
	is "$?:$(ids rep | wc -w)" "0:31" "$B: the first lands all its rows"

	# no records: the table is emptied
	run upsert --db "$D" --table t --key /id --column v=/v --replace < /dev/null
	is "$rc:$(q rep "select count(*) from t")" "0:0" "$B: --replace with no records empties the table"
}

both_backends rep
done_testing
