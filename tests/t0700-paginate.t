#!/bin/sh
# paginate against tests/mock-api: every style crawls a 10,000-record
# dataset exactly; auto-detection of the public APIs' shapes the mock serves;
# termination, loops, hostile headers; checkpoints and exact resume.
. "$APIPE_TOP/tests/lib.sh"

N=10000
seq 1 $N > all
P="paginate --retry-delay 0.01"

# ids FILE: the record ids of a page stream, sorted (repeats kept).
ids() {
	records < "$1" | jq -r .id | sort -n
}
# exact FILE DESC: the pages hold every record of the dataset exactly once.
exact() {
	ids "$1" > got
	is_file got all "$2"
}
# pages FILE: the page numbers, one line.
pages() {
	jq -r .page "$1" | tr '\n' ' '
}

start_mock m --records $N
M=$BASE

# --- each style, page sizes that divide the dataset and ones that do not ----
for n in 100 333; do
	run $P --style cursor --cursor-path /next_cursor --cursor-param cursor "$M/cursor?limit=$n"
	is "$rc" 0 "cursor, $n a page: exit 0"
	exact out "cursor, $n a page: exactly the dataset"
	run $P --style cursor --cursor-path /pagination/next_cursor --cursor-param cursor "$M/nested?limit=$n"
	exact out "nested cursor, $n a page: exactly the dataset"
	run $P --style next-url --next-path /next "$M/next?limit=$n"
	exact out "next-url (relative), $n a page: exactly the dataset"
	run $P --style next-url --next-path /next "$M/next?limit=$n&absolute=1"
	exact out "next-url (absolute), $n a page: exactly the dataset"
	run $P --style link "$M/link?per_page=$n"
	exact out "link, $n a page: exactly the dataset"
	run $P --style offset --limit $n "$M/items"
	exact out "offset, $n a page: exactly the dataset"
	run $P --style page --per-page $n "$M/pages"
	exact out "page, $n a page: exactly the dataset"
	run $P --style keyset --order-field /id --order-param since_id "$M/keyset?limit=$n"
	exact out "keyset, $n a page: exactly the dataset"
done
is "$(jq -r .url out | head -3 | tr '\n' ' ')" \
	"$M/keyset?limit=333 $M/keyset?limit=333&since_id=333 $M/keyset?limit=333&since_id=666 " \
	"keyset: the next request carries the last record's key"

run $P --style offset --limit 100 "$M/items"
is "$(wc -l < out)" 101 "offset: 100 full pages, then the empty page that ends it"
is "$(jq -r .url out | sed -n '1p;2p;101p' | tr '\n' ' ')" \
	"$M/items?limit=100 $M/items?offset=100&limit=100 $M/items?offset=10000&limit=100 " \
	"offset: the offset advances by the records each page held"
run $P --style offset --limit 1500 "$M/items"
exact out "offset: a server that caps limit (1500 asked, 1000 given) loses nothing"
run $P --style page --per-page 333 "$M/pages"
is "$(jq -r '.body.data | length' out | tail -3 | tr '\n' ' ')" "333 10 0 " \
	"page: a short page does not end the crawl, the empty page does"

# --- page numbers and page_key ----------------------------------------------
run $P --style cursor --cursor-path /next_cursor --cursor-param cursor "$M/cursor?limit=1000"
is "$(pages out)" "1 2 3 4 5 6 7 8 9 10 " "every envelope carries its 1-based page number"
jq -r .page_key out > keys1
is "$(grep -Ec '^[0-9a-f]{32}$' keys1)" 10 "page_key is 32 hex digits"
is "$(sort -u keys1 | wc -l)" 10 "page_key differs from page to page"
run $P --style cursor --cursor-path /next_cursor --cursor-param cursor "$M/cursor?limit=1000"
jq -r .page_key out > keys2
is_file keys2 keys1 "page_key is stable from run to run"

# --- auto: the public APIs' shapes the mock serves, and its own -------------
for case in "link?per_page=250 link" "stripe?limit=250 keyset" "slack?limit=250 cursor" \
	"google?pageSize=250 cursor" "jsonapi?page%5Bsize%5D=250 next-url" \
	"items?limit=250 offset" "pages?per_page=250 page" "cursor?limit=250 cursor" \
	"nested?limit=250 cursor" "next?limit=250 next-url"; do
	ep=${case% *}
	style=${case#* }
	run $P -v --stats st "$M/$ep"
	is "$rc" 0 "auto, /$ep: exit 0"
	exact out "auto, /$ep: exactly the dataset"
	like err "^paginate: auto: style $style: " "auto, /$ep: --verbose says it chose $style and why"
	is "$(jq -r .style st)" "$style" "auto, /$ep: --stats names the style"
done
like err 'auto: style next-url: /next holds a URL' "auto says what it saw"
run $P "$M/slack?limit=250"
is "$(jq -r .url out | sed -n 2p)" "$M/slack?limit=250&cursor=bzoyNTA" "Slack: the cursor goes back in 'cursor'"
run $P "$M/google?pageSize=250"
like out '"url":"[^"]*pageToken=bzoyNTA"' "Google: nextPageToken goes back in 'pageToken'"
run $P "$M/stripe?limit=250"
is "$(jq -r .url out | sed -n 2p)" "$M/stripe?limit=250&starting_after=250" \
	"Stripe: has_more with the last id as starting_after"
is "$(jq -r .body.has_more out | tail -1)" false "Stripe: has_more false ends the crawl"
run $P "$M/items/7"
is "$rc:$(wc -l < out)" "0:1" "auto: one object without pagination hints is a single page"
run $P "$M/keyset?limit=100"
is "$rc" 65 "auto: a full page with no way on exits 65"
like err 'cannot tell how this API paginates: a full page of 100 records \(limit=100\) and no Link header' \
	"auto: the message says what it saw"

# --- stats and total ----------------------------------------------------------
run $P --stats st "$M/items?limit=1000"
is "$(jq -c '[.listings, .pages, .records, .empty_pages, .total_reported, .stopped]' st)" \
	'[1,11,10000,1,10000,"end"]' "--stats: listings, pages, records, empty pages, reported total"
run $P --records-path /items --style offset --limit 1000 "$M/items"
exact out "--records-path names the record array"

# --- termination and safety ---------------------------------------------------
run $P "$M/cursor?limit=1000&empty_tail=1"
is "$rc" 0 "an empty page that still carries a cursor is followed"
is "$(jq -r '.body.data | length' out | tr '\n' ' ')" "1000 1000 1000 1000 1000 1000 1000 1000 1000 1000 0 0 " \
	"... and the crawl ends where the cursor does (two empty pages here)"
run $P --max-empty-pages 0 "$M/cursor?limit=1000&empty_tail=1"
is "$rc" 65 "--max-empty-pages 0: an empty page pointing on exits 65"
like err '^paginate: page 11 \(.*\): 1 empty pages in a row still point to a next page' \
	"... naming the page"
run $P "$M/cursor?limit=10&loop_at=30"
is "$rc" 65 "a repeated cursor exits 65"
like err "^paginate: page 4 \(.*\): the next cursor 'bzozMA' was already followed" \
	"... naming the page and the cursor"
is "$(wc -l < out)" 3 "... after writing the pages before it"
run timeout 20 $P "$M/hostile?kind=self"
is "$rc" 65 "a Link header pointing at its own page exits 65"
for k in huge garbage scheme; do
	run timeout 20 $P "$M/hostile?kind=$k"
	is "$rc" 65 "a hostile Link header ($k) exits 65, without a hang"
done
like err "Link header: 'file:///etc/passwd' is not an http or https URL" "a non-HTTP next link is refused"
run timeout 20 $P --style link "$M/hostile?kind=huge"
like err 'Link header: byte [0-9]+ cannot be part of a URI' "an 84 KB hostile Link header is parsed and refused"
run $P "$M/raw?kind=text"
is "$rc" 65 "a page that is not JSON exits 65"
like err '^paginate: page 1 \(.*/raw\?kind=text\): the body is not JSON' "... naming the page"
run $P "$M/slack?limit=10&ok_false=1"
is "$rc" 69 "a 200 whose body says ok:false exits 69"
like err 'the API reported an error with status 200: \{"ok":false,"error":"invalid_auth"\}' \
	"... quoting the body"
run $P "$M/items?limit=100&fail=error-body"
is "$rc" 69 "a 200 with an error object exits 69"
run $P --retry 0 "$M/nope"
is "$rc" 69 "a 404 exits 69"
like err '^paginate: page 1 \(.*/nope\): HTTP 404' "... naming the page and the status"
run $P --style page --per-page 10 "$M/items?limit=10"
is "$rc" 65 "a server that ignores the page parameter is caught (exit 65)"
like err "page 2 .*the same records as page 1: does the API ignore 'page'" "... and the message says so"
run $P --max-pages 7 --stats st "$M/items?limit=100"
is "$rc:$(wc -l < out)" "0:7" "--max-pages 7 writes 7 pages and exits 0"
like err 'stopped after 7 pages \(--max-pages\)' "... and says so"
is "$(jq -r .stopped st)" max-pages "... and --stats reports it"

# --- usage --------------------------------------------------------------------
run paginate --style cursor "$M/cursor"
is "$rc" 64 "--style cursor without --cursor-path is a usage error"
run paginate --style nonsense "$M/cursor"
is "$rc" 64 "an unknown style is a usage error"
run paginate --restart "$M/cursor"
is "$rc" 64 "--restart without --checkpoint is a usage error"
run paginate --help
is "$rc" 0 "--help exits 0"
like out '^usage: paginate ' "--help prints the usage"

# --- request lines on stdin: one listing after another ----------------------
lines "{\"url\":\"$M/cursor\",\"query\":{\"limit\":1000},\"shard\":\"a\"}" "" \
	"$M/items?limit=1000" > listings
run $P < listings
is "$rc" 0 "two listings on stdin: exit 0"
want=$( (seq 1 10 | sed 's/$/:a/'; seq 1 11 | sed 's/$/:-/') | tr '\n' ' ')
is "$(jq -r '[.page, .meta.shard // "-"] | @tsv' out | tr '\t\n' ': ')" "$want" \
	"listings are crawled in turn, pages numbered per listing, meta carried"
ids out > got
cat all all | sort -n > want
is_file got want "... each listing yields its whole dataset"

# --- checkpoints ---------------------------------------------------------------
run $P --checkpoint ck --max-pages 3 -o pages.jsonl "$M/cursor?limit=700"
is "$rc:$(wc -l < pages.jsonl)" "0:3" "--max-pages with a checkpoint: 3 pages written"
is "$(jq -r '[.listing, .page, .records, .pages] | @tsv' ck)" "0	4	2100	3" \
	"the checkpoint names the next page and the counts"
is "$(stat -c %a ck)" 600 "the checkpoint is private (0600)"
run $P --checkpoint ck -o pages.jsonl "$M/cursor?limit=700"
is "$rc" 0 "a second run resumes from the checkpoint"
is "$(pages pages.jsonl)" "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 " \
	"... the file holds pages 1 to 15 once each, in order"
exact pages.jsonl "... and the file holds every record exactly once"
is "$(test -e ck && echo left || echo removed)" removed "the checkpoint is removed after a complete crawl"
run $P --checkpoint ck -o pages.jsonl "$M/cursor?limit=700"
is "$(jq -r .page pages.jsonl | head -1):$(wc -l < pages.jsonl)" "1:15" "without a checkpoint a run starts over"

# a checkpoint across listings read from stdin
lines "$M/cursor?limit=1000" "$M/items?limit=1000" > two
cat all all | sort -n > want2
for stop in 13 10; do
	rm -f ck2
	run $P --checkpoint ck2 --max-pages $stop -o two.jsonl < two
	is "$rc:$(wc -l < two.jsonl)" "0:$stop" "stdin listings: --max-pages $stop stops after $stop pages"
	is "$(jq -r .listing ck2)" 1 "... the checkpoint names the second listing"
	run $P --checkpoint ck2 -o two.jsonl < two
	is "$rc" 0 "... the resumed run skips the finished listing and completes the second"
	ids two.jsonl > got
	is_file got want2 "... every record of both listings exactly once"
	is "$(jq -r .page two.jsonl | paste -sd ' ' -)" "$(seq 1 10 | paste -sd ' ' -) $(seq 1 11 | paste -sd ' ' -)" \
		"... and every page once, in order"
done

run $P --checkpoint ck --max-pages 2 -o p2.jsonl "$M/cursor?limit=700"
run $P --checkpoint ck -o p2.jsonl "$M/items?limit=700"
is "$rc" 78 "a checkpoint of another crawl exits 78"
like err "ck was written for a crawl of $M/cursor\?limit=700, not $M/items\?limit=700; use --restart" \
	"... saying which crawl it belongs to"
run $P --checkpoint ck --restart -o p2.jsonl "$M/items?limit=700"
is "$rc" 0 "--restart ignores the checkpoint"
exact p2.jsonl "... and crawls from the first page"

run $P --checkpoint ck --max-pages 2 -o p3.jsonl "$M/cursor?limit=700"
head -c 10 p3.jsonl > p3.tmp && mv p3.tmp p3.jsonl
run $P --checkpoint ck -o p3.jsonl "$M/cursor?limit=700"
is "$rc" 65 "an output shorter than the checkpoint recorded exits 65"
like err 'p3.jsonl holds 10 bytes, fewer than the [0-9]+ the checkpoint ck recorded' "... saying so"
rm -f ck

run $P --checkpoint ck --max-pages 2 "$M/cursor?limit=700&latency_ms=300" > /dev/null
$P --checkpoint ck "$M/cursor?limit=700&latency_ms=300" > /dev/null 2>&1 &
bg=$!
wait_locked ck.lock
run $P --checkpoint ck "$M/cursor?limit=700&latency_ms=300"
is "$rc" 75 "a checkpoint in use by another run exits 75"
kill "$bg" 2>/dev/null
wait "$bg" 2>/dev/null
rm -f ck ck.lock

# --- mutation during the crawl ---------------------------------------------------
stop_mocks
start_mock mut --records $N --mutate-after 20 --mutate-insert 57
M=$BASE
run $P --stats st "$M/cursor?limit=100"
is "$rc" 0 "a crawl while records are inserted and updated: exit 0"
ids out > got
is "$(sort -n got | uniq -d | wc -l)" 0 "... no record twice"
is "$(comm -23 all got | wc -l)" 0 "... every record that existed for the whole crawl is present"
is "$(wc -l < got)" $((N + 57)) "... and the inserted ones too"
stop_mocks
start_mock mut2 --records $N --mutate-after 20 --mutate-insert 57
run $P --stats st "$BASE/items?limit=100"
is "$(ids out | wc -l)" $((N + 57)) "an offset crawl while records are inserted at the end"
is "$(jq -c '[.total_reported, .total_fetched, .short_listings]' st)" "[$((N + 57)),$((N + 57)),0]" \
	"... --stats holds the total the last page reported, what was fetched, no shortfall"
unlike err 'reported a total' "... and a total met is no warning"
stop_mocks

# --- secrets --------------------------------------------------------------------
start_mock sec --records 500 --auth key-query --key-param api_key --key k-SECRET-1
export PG_KEY=k-SECRET-1
run $P --api-key-query api_key=env:PG_KEY --checkpoint cks --max-pages 2 -o sec.jsonl \
	"$BASE/link?per_page=100"
is "$rc" 0 "a crawl with the API key in the query"
cat sec.jsonl err cks > all-out
is "$(grep -c k-SECRET-1 all-out)" 0 "the key is in no envelope, message or checkpoint"
run $P --api-key-query api_key=env:PG_KEY --checkpoint cks -o sec.jsonl "$BASE/link?per_page=100"
is "$rc" 0 "the resumed crawl authenticates again"
is "$(records < sec.jsonl | wc -l)" 500 "... and completes"
stop_mocks

# --- the stats add up: every request is a page, or a guess given up --------------
stop_mocks
start_mock sum --records 100
for j in 1 4 8; do
	run paginate -j $j --style offset --limit 30 --stats st "$BASE/items"
	is "$(jq '.requests == .pages + .dropped_ahead + .abandoned + .discarded' st)" true \
		"-j $j: requests = pages + dropped_ahead + abandoned + discarded"
done
done_testing
