#!/bin/sh
# A newcomer's first hour: plain make builds everything, every program
# answers --version, --stats - is standard error, a jq path gets a hint,
# a usage error reads as it was written, and the HTTP programs fail at
# once on what no retry fixes.
. "$APIPE_TOP/tests/lib.sh"

make -C "$APIPE_TOP" -p -n 2>/dev/null | grep -q '^\.DEFAULT_GOAL := all$'
ok $? "make with no target builds all"

for p in $(sed -n 's/^PROGRAMS = //p' "$APIPE_TOP/Makefile"); do
	run "$p" --version
	is "$rc:$(cut -d' ' -f1-2 out)" "0:$p (apipe)" "$p --version"
done

echo '{"data":[{"id":1},{"id":2}]}' > page.json
run records --stats - < page.json
is "$rc" 0 "--stats - exits 0"
is "$(jq -c '[.tool, .records]' err)" '["records",2]' "... and writes the stats to standard error"
ok "$([ ! -e ./- ]; echo $?)" "... not to a file named -"

run dedupe --key .id < page.json
is "$rc" 64 "a jq path as a key: usage error"
like err "a jq path\? a JSON Pointer writes .a.b as /a/b" "... with the JSON Pointer spelling"

run upsert --db t.db --table t --key id < page.json
is "$rc" 64 "upsert --key without its /: usage error"
like err "bad JSON Pointer 'id': must be empty or start with '/'" "... the message reads as written"

run paginate --style cursor --cursor-path /nxt --cursor-param cursor \
	"file://$PWD/page.json"
is "$rc" 64 "paginate of a file:// URL: usage error"

echo '{}' > items.json
run paginate items.json
is "$rc" 64 "paginate items.json: a file is no URL"
like err "standard input: paginate < items.json" "... saying how to give its lines"
# filters pass a record on as soon as their input pauses, not when a buffer
# fills: the producer sends its second page only once the first page's
# record came out of the whole chain (a filter that held it would hang here)
mkfifo back
echo '{"type":"object"}' > any.json
rc=0
timeout 60 sh -c '
	{ echo "{\"data\":[{\"id\":1}]}"; read go < back; echo "{\"data\":[{\"id\":2}]}"; } |
		records | validate -j 2 --schema any.json | dedupe --key /id |
		watermark track --state wm --name w --order-field /id |
		{ read first; echo "$first" > first.out; echo go > back; cat > rest.out; }
' || rc=$?
is "$rc" 0 "records | validate -j 2 | dedupe | watermark track pass each record on while the upstream waits"
is "$(cat first.out 2>/dev/null) $(cat rest.out 2>/dev/null)" '{"id":1} {"id":2}' "... both records, in order"

# rows land while a slow crawl runs (400 ms a page): the first rows are in
# the table while paginate is still fetching, not when the listing ends
start_mock slow400 --records 200 --latency-ms 400
( paginate "$BASE/items?limit=10" | records | upsert --db slow.db --table items --key /id ) 2> slow.err &
pipe=$!
seen=none
i=0
while [ "$i" -lt 600 ]; do
	n=$(sqlite3 slow.db 'SELECT count(*) FROM items' 2>/dev/null || echo 0)
	if [ "${n:-0}" -gt 0 ]; then
		kill -0 "$pipe" 2>/dev/null && seen=running || seen=ended
		break
	fi
	kill -0 "$pipe" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
wait "$pipe"
is "$?:$seen" "0:running" "paginate | records | upsert over a slow listing: rows are in the table while the crawl still runs"
is "$(sqlite3 slow.db 'SELECT count(*), count(DISTINCT id) FROM items')" "200|200" "... and at its end every record, once"

# the progress line on a terminal (script(1) gives the programs one):
# elapsed time, a rate and, with a total, how far and how long still
start_mock slow --records 100 --latency-ms 150
script -qec "paginate -o /dev/null '$BASE/items?limit=10'" /dev/null | tr '\r' '\n' > prog.txt
like prog.txt '^paginate: [0-9]+ pages, [0-9]+ records, 0 retries, elapsed [0-9]+s, [0-9.]+ records/s, [0-9]+% of 100, ETA [0-9]+s' \
	"paginate's progress: elapsed, records a second, the share of the listing's total and an ETA"
like prog.txt '^paginate: 11 pages, 100 records, 0 retries, elapsed [0-9]+s, [0-9.]+ records/s' "... and the last line, the whole run"
script -qec "fetch-page '$BASE/items?limit=10' '$BASE/items?limit=20' '$BASE/items?limit=30' > /dev/null" /dev/null | tr '\r' '\n' > fprog.txt
like fprog.txt '^fetch-page: 3/3 done, 0 retries, elapsed [0-9]+s, [0-9.]+ req/s, 100% of 3' "fetch-page's too"
paginate -o /dev/null "$BASE/items?limit=10" 2> noprog.txt
is "$(wc -c < noprog.txt | tr -d ' ')" 0 "no progress line when standard error is no terminal"
done_testing
