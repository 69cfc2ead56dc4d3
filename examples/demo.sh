#!/bin/bash
# make demo: the whole ingestion flow against the bundled mock API.
#
# A mock API on 127.0.0.1 answers with injected faults (429s with
# Retry-After, 5xx, dropped connections, truncated bodies) and OAuth2 tokens
# that expire every half second.  examples/sync.sh crawls it into SQLite, runs
# again incrementally from the committed watermark after 25 records were
# added upstream, and examples/replay.sh rebuilds the table from the
# archive alone.  Everything happens in a temporary directory, removed at
# the end (Ctrl-C included).
set -euo pipefail
: "${APIPE_BIN:?run through make demo}" "${APIPE_TESTBIN:?run through make demo}"
PATH="$APIPE_BIN:$PATH"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/apipe-demo.XXXXXX")
mock=
cleanup() {
	[ -n "$mock" ] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

# The client secret lives in the environment: never on a command line.
export DEMO_CLIENT_SECRET=demo-secret-$$

start_api() {	# start_api RECORDS: the mock API with that many records
	rm -f port
	"$APIPE_TESTBIN/mock-api" --port-file port --records "$1" --seed 42 --fault-rate 15 \
		--auth oauth2 --client-id demo --client-secret env:DEMO_CLIENT_SECRET --token-ttl 0.5 \
		--latency-ms 20 --log mock.log &
	mock=$!
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
	API="http://127.0.0.1:$(cat port)"
}
stop_api() {
	kill "$mock" && wait "$mock" 2>/dev/null || true
	mock=
}
sync() {
	API=$API STATE=$work/state "$here/sync.sh" -q --retry 10 --retry-delay 0.05 \
		--oauth2-token-url "$API/oauth/token" --client-id demo \
		--client-secret env:DEMO_CLIENT_SECRET
}
stat() {	# stat FILE FIELD
	jq -r ".$2" "state/$1.stats"
}
report() {
	printf '   pages:              %s (%s requests, %s retried: %s)\n' "$(stat paginate pages)" \
		"$(stat paginate attempts)" "$(stat paginate retries)" \
		"$(jq -c '.responses' state/paginate.stats)"
	printf '   OAuth tokens:       %s fetched or refreshed\n' "$(($(stat paginate token_refreshes) + $(stat paginate reauths)))"
	printf '   records:            %s valid, %s invalid (dead letter: state/invalid.jsonl)\n' \
		"$(stat validate valid)" "$(stat validate invalid)"
	printf '   landed:             %s inserted, %s updated, %s unchanged\n' "$(stat upsert inserted)" \
		"$(stat upsert updated)" "$(stat upsert unchanged)"
	printf '   rows in items.db:   %s\n' "$(sqlite3 state/items.db 'select count(*) from items')"
	printf '   watermark:          %s\n' "$(watermark get --state state --name items)"
	store-raw --list state/archive | tail -1 |
		awk '{ printf "   archive:            %s pages, %s as %s of gzip (%s)\n", $3, $4, $5, $6 }'
}

echo "== the pipeline (examples/sync.sh):"
sed -n '/^paginate/,/^	upsert/p' "$here/sync.sh" | sed 's/^/   /'
start_api 5000
echo "== first run: a full crawl of $API (15% of requests fail, tokens live 0.5 s)"
sync
report

stop_api
start_api 5025
echo "== 25 records were added upstream; the second run starts from the watermark"
sync
report

echo "== reprocessing the archive without the API (examples/replay.sh)"
STATE=$work/state DB=$work/rebuilt.db "$here/replay.sh"
printf '   rows in rebuilt.db: %s\n' "$(sqlite3 rebuilt.db 'select count(*) from items')"
if [ "$(sqlite3 state/items.db 'select id, record from items order by id' | sha256sum)" = \
     "$(sqlite3 rebuilt.db 'select id, record from items order by id' | sha256sum)" ]; then
	echo "   the rebuilt table holds the same records, byte for byte"
else
	echo "   the rebuilt table differs!" >&2
	exit 1
fi
printf '== the mock API injected %s faults in all\n' "$(grep -c '"fault":"[a-z0-9]' mock.log || true)"
