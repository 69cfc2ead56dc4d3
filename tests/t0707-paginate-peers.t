#!/bin/sh
# paginate against real peers and listings whose position travels in a
# JSON request body: json-server 0.17.4 and json-graphql-server 3.3.2
# (npm, installed by make check), a Notion-style cursor in the body, an
# Elasticsearch-style search (from/size, and search_after from each hit's
# sort), a Relay connection over GraphQL, GraphQL errors in a 200, and
# --require-total against a listing that serves fewer records than it
# reports.  Every crawl must give exactly every record once.
. "$APIPE_TOP/tests/lib.sh"

seq 1 501 > want
python3 -c "import json; print(json.dumps({'items': [{'id': i, 'name': 'n%d' % i} for i in range(1, 502)]}))" > db.json
for peer in json-server json-graphql-server; do
	node "$APIPE_TOP/tests/bin/npm-peer.js" $peer db.json $peer.port 2> $peer.err &
	mock_pids="$mock_pids $!"
done
python3 "$APIPE_TOP/tests/bin/listing-server.py" --port-file ls.port 501 &
mock_pids="$mock_pids $!"
for f in json-server.port json-graphql-server.port ls.port; do
	wait_port $f > /dev/null
	is "$([ -s $f ] && echo yes)" yes "$f: the server listens"
done
J="http://127.0.0.1:$(cat json-server.port)"
G="http://127.0.0.1:$(cat json-graphql-server.port)"
L="http://127.0.0.1:$(cat ls.port)"

# exactly LABEL: out holds every record of want once
exactly() {
	records < out | jq -r .id > got
	sort -n got > got.sorted
	is_file got.sorted want "$1: exactly the 501 records"
	is "$(sort -n got | uniq -d | wc -l)" 0 "$1: none twice"
}

# --- json-server ---------------------------------------------------------
for q in '_limit=50' '_start=0&_limit=100' '_page=1&_limit=25'; do
	run paginate -v "$J/items?$q"
	is "$rc" 0 "json-server ?$q: exit 0"
	exactly "json-server ?$q"
done

# --- json-graphql-server: page/perPage variables, _allItemsMeta.count ------
cat > all.graphql <<'Q'
query ($page: Int, $perPage: Int) {
  allItems(page: $page, perPage: $perPage) { id name }
  _allItemsMeta(page: $page, perPage: $perPage) { count }
}
Q
run paginate -v --graphql all.graphql --variables '{"page":0,"perPage":100}' "$G/"
is "$rc" 0 "json-graphql-server: exit 0"
like err "auto: style page: the request carries 'body:/variables/page'" \
	"... the page number goes in the GraphQL variables"
exactly "json-graphql-server"
run paginate --graphql all.graphql --variables '{"page":0,"perPage":100}' \
	--style page --page-param body:/variables/page --start-page 0 "$G/"
exactly "json-graphql-server with the style named"

# --- a Relay connection (pageInfo { hasNextPage endCursor }) ------------
cat > relay.graphql <<'Q'
query ($first: Int, $after: String) {
  viewer { items(first: $first, after: $after) {
    totalCount edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }
}
Q
run paginate -v --stats st --graphql relay.graphql --variables '{"first":60}' "$L/graphql"
is "$rc" 0 "Relay over GraphQL: exit 0"
like err "a Relay connection: .*hasNextPage.*endCursor.*'body:/variables/after'" \
	"... -v names the connection and the variable the cursor goes in"
exactly "Relay over GraphQL"
is "$(jq -c '[.pages, .total_reported, .total_fetched]' st)" "[9,501,501]" \
	"... --stats: 9 pages, the total reported and fetched"
run paginate --graphql relay.graphql --variables '{"first":60,"fail":true}' "$L/graphql"
is "$rc" 69 "GraphQL errors in a 200 are an error, not a page"
like err 'boom' "... and the message names them"
run sh -c "paginate --graphql relay.graphql --variables '{\"fail\":true}' '$L/graphql' -o env.jsonl 2>/dev/null;
	fetch-page -X POST --data-json '{\"query\":\"q\",\"variables\":{\"fail\":true}}' '$L/graphql' | records"
is "$rc" 65 "records refuses a GraphQL response with errors too (65)"
like err 'GraphQL response reports 1 error: boom' "... naming them"
run paginate --variables '{}' "$L/graphql"
is "$rc" 64 "--variables without --graphql is a usage error"

# --- positions in a JSON request body -------------------------------------
run paginate -X POST --data-json '{"page_size":50}' --style cursor --cursor-path /next_cursor \
	--cursor-param body:/start_cursor "$L/notion"
is "$rc" 0 "a cursor in the body (Notion-style start_cursor): exit 0"
exactly "body cursor"
run paginate -v --data-json '{"size":40,"from":0}' "$L/search"
is "$rc" 0 "from/size in a search body: exit 0"
like err "the request carries 'body:/from'" "... found by auto in the body"
records < out | jq -r ._id | sort -n > got
is_file got want "body offset: exactly the 501 hits"
run paginate --data-json '{"size":40}' --style keyset --order-field /sort \
	--order-param body:/search_after --records-path /hits/hits "$L/search"
is "$rc" 0 "search_after from each hit's sort (an array) into the body: exit 0"
records < out | jq -r ._id | sort -n > got
is_file got want "search_after: exactly the 501 records"
run paginate --style cursor --cursor-path /next_cursor --cursor-param 'body:x' "$L/notion"
is "$rc" 64 "body: with a malformed pointer is a usage error"

# --- completeness against the reported total ------------------------------
run paginate --stats st "$L/short"
is "$rc" 0 "a listing that reports 3 more than it serves: exit 0 without --require-total"
like err 'reported a total of 504 records; the crawl fetched 501' "... with a warning"
is "$(jq -c '[.total_reported, .total_fetched, .short_listings]' st)" "[504,501,1]" \
	"... and --stats says so"
run paginate --require-total "$L/short"
is "$rc" 1 "--require-total: a shortfall fails (1)"
like err 'require-total: 1 listing fetched fewer' "... naming it"
is "$(records < out | wc -l)" 501 "... after writing what it fetched"
run paginate --require-total "$L/nototal"
is "$rc" 1 "--require-total with no total reported fails"
run paginate --require-total "$J/items?_page=1&_limit=100"
is "$rc" 0 "--require-total with the total met: 0"
done_testing
