#!/bin/sh
# paginate against imitations of public APIs' documented pagination
# (tests/fixtures/api-corpus.json, played by tests/bin/corpus-server.py),
# each started from its documented first request with no option but the
# body a POST API needs.  Every case ends with exactly its records or with
# a non-zero exit, never exit 0 with part of them; at least 90% end
# exactly under --style auto; the same holds with -j 4 over all the
# listings at once and with --require-total.
. "$APIPE_TOP/tests/lib.sh"

python3 "$APIPE_TOP/tests/bin/corpus-server.py" --port-file corpus.port \
	"$APIPE_TOP/tests/fixtures/api-corpus.json" &
mock_pids="$mock_pids $!"
C="http://127.0.0.1:$(wait_port corpus.port)"
curl -sf "$C/_cases" > cases.json || { echo "Bail out! the corpus server does not answer"; exit 1; }
jq -c '.[]' cases.json > cases.jsonl
total=$(wc -l < cases.jsonl | tr -d ' ')
ok $(( total >= 70 ? 0 : 1 )) "the corpus holds $total cases"

# crawl NAME [paginate options]: the case's records to ./got, status to $rc
crawl() {
	_c=$(grep -F "\"name\":\"$1\"" cases.jsonl)
	shift
	_start=$(printf '%s\n' "$_c" | jq -r .start)
	rc=0
	if [ "$(printf '%s\n' "$_c" | jq -r .method)" = POST ]; then
		paginate -q --max-pages 500 "$@" --json "$(printf '%s\n' "$_c" | jq -c .body)" \
			"$C$_start" > out 2> err || rc=$?
	else
		paginate -q --max-pages 500 "$@" "$C$_start" > out 2> err || rc=$?
	fi
	records < out 2>/dev/null | jq -r .id > got
}

# exact NAME: ./got holds exactly the case's ids, each once
exact() {
	curl -sf "$C/_ids/$1" | sort > want
	sort got | cmp -s - want && [ "$(wc -l < got)" -eq "$(wc -l < want)" ]
}

good=0
: > crawled
for name in $(jq -r .name cases.jsonl); do
	crawl "$name"
	if [ "$rc" -eq 0 ]; then
		if exact "$name"; then
			good=$((good + 1))
			echo "$name" >> crawled
			ok 0 "$name: exactly its $(wc -l < want) records"
		else
			ok 1 "$name: exit 0 with $(wc -l < got) records, not exactly its $(wc -l < want)"
		fi
	else
		is "$rc" 65 "$name: not crawled, and says so with 65 rather than exit 0"
		like err "page [0-9]+ \(" "... naming the page it stopped at"
	fi
done
ok $(( good * 10 >= total * 9 ? 0 : 1 )) "auto crawls at least 90% exactly ($good of $total)"

# the shapes no documented first request can be crawled from stop with 65
for name in strava-activities heroku-apps; do
	crawl "$name"
	is "$rc" 65 "$name (no position anywhere in the page): 65, not one page and exit 0"
done
like err "'offset', 'page'" "... the message names the parameters page 2 was tried under"

# --require-total: exit 0 only with the whole listing
for name in $(jq -r 'select(.total) | .name' cases.jsonl); do
	crawl "$name" --require-total
	if [ "$rc" -eq 0 ]; then
		exact "$name"
		ok $? "$name --require-total: exit 0 with exactly its records"
	else
		ok $(( rc == 0 ? 1 : 0 )) "$name --require-total: exit $rc, not 0 short"
	fi
done

# -j 4 over every listing that crawls alone, as request lines: exit 0 and
# each listing's records exactly, in input order
: > lines
: > wantall
while read -r name; do
	grep -F "\"name\":\"$name\"" cases.jsonl |
		jq -c --arg c "$C" '{url: ($c + .start), method: .method, name: .name} +
			(if .method == "POST" then {body: .body} else {} end)' >> lines
	curl -sf "$C/_ids/$name" >> wantall
done < crawled
run paginate -q -j 4 --max-pages 5000 < lines
is "$rc" 0 "-j 4 over the $good listings: exit 0"
records < out | jq -r .id > got
is_file got wantall "... every listing's records exactly, in input order"

# with the listings that cannot be crawled among them, -j 4 does not exit 0
cat lines > lines2
jq -c --arg c "$C" 'select(.name == "strava-activities") | {url: ($c + .start)}' cases.jsonl >> lines2
run paginate -q -j 4 --max-pages 5000 < lines2
is "$rc" 65 "-j 4 with an uncrawlable listing among them: 65"

# a second Link field line is read (RFC 9110 5.3): Okta sends self and next apart
crawl okta-users --style link
is "$rc" 0 "--style link with the next link on a second Link line: exit 0"
exact okta-users
ok $? "... and every record"

# Sentry keeps rel="next" on the last page with results="false"
crawl sentry-events -v
is "$rc" 0 "Sentry's last page (results=\"false\"): the end"
exact sentry-events
ok $? "... with every record and no request past it"

# a page-2 guess that the API refutes moves on to the next name APIs use
crawl notion-users -v
like err "page 2 under 'cursor' was page 1 again: trying cursor 'start_cursor'" \
	"-v says page 2 refuted 'cursor' and 'start_cursor' was tried"
exact notion-users
ok $? "... and the listing is crawled exactly"

# explicit styles: a path that is not in page 1 is a mistake, not the end
crawl square-customers --style cursor --cursor-path /next_cursor --cursor-param cursor
is "$rc" 65 "--cursor-path not in the page: 65"
like err "/next_cursor is not in the page .*holds: cursor customers\)" "... naming the members that are there"
crawl notion-users --style next-url --next-path /next_url
is "$rc" 65 "--next-path not in the page: 65"

# a total that may be the page's own count is never taken for the listing's
crawl twitter-timeline --require-total
is "$rc" 1 "X's meta.result_count (the page's count) is no total: --require-total exits 1"
crawl elasticsearch-from-size -v
like err "from" "Elasticsearch: _shards.total is passed over, hits.total.value read, 'from' tried"
exact elasticsearch-from-size
ok $? "... and the listing is crawled exactly"
done_testing
