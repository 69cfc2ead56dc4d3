#!/bin/sh
# Every block of README.md runs here as printed, one after another in one
# directory (later blocks read what earlier ones wrote), under bash with
# pipefail.  The real APIs the README names are the bundled mock API:
# their hosts become mock servers, and --alias serves the mock's endpoints
# under the README's paths.  A block with no case below fails the test:
# a README block no test runs is a defect.
. "$APIPE_TOP/tests/lib.sh"
bg_pids=
trap 'for p in $bg_pids $mock_pids; do kill "$p" 2>/dev/null; done; pg_stop; rm -rf "$TESTDIR"' EXIT

N=120
ALIASES="--alias /orgs/curl/repos=/link --alias /rate_limit=/items/1 --alias /v1/events=/nested
--alias /v1/orders=/items --alias /v1/files=/google --alias /o/oauth2/auth=/authorize
--alias /token=/oauth/token --alias /v1/accounts/*/orders=/keyset --alias /orders/=/items/
--alias /orders=/cursor"
export GH_TOKEN=gh-token-1 TOKEN=sync-token-2 KEY=api-key-3 SHOP_TOKEN=shop-token-4
export GH_WEBHOOK_SECRET="It's a Secret to Everybody"
export CS=oauth-client-secret-5
start_mock gh --records $N --auth bearer --bearer-token env:GH_TOKEN $ALIASES; GH=$BASE
start_mock none --records $N $ALIASES; MN=$BASE
start_mock bearer --records $N --auth bearer --bearer-token env:TOKEN $ALIASES; MB=$BASE
start_mock key --records $N --auth key-header --key env:KEY --key-header X-Api-Key $ALIASES; MK=$BASE
start_mock shop --records $N --auth bearer --bearer-token env:SHOP_TOKEN $ALIASES; MS=$BASE
start_mock oauth --records $N --auth oauth2 --client-id 1234.apps --client-secret env:CS $ALIASES; MO=$BASE

PGURL=
if pg_start; then
	psql -X -q "postgresql:///postgres?host=$PGDIR&user=postgres" \
		-c "create database warehouse encoding 'UTF8' locale 'C' template template0" > /dev/null
	PGURL="postgresql://postgres@/warehouse?host=$PGDIR"
fi
pgq() { psql -X -q -At "$PGURL" -c "$1"; }

W=$TESTDIR/w
export HOME=$TESTDIR/home
mkdir -p "$W" "$HOME"
ln -s "$APIPE_TOP/examples" "$W/examples"
cp -R "$APIPE_TOP/tests/fixtures/readme/." "$W/"
cp "$APIPE_TOP/examples/items.schema.json" "$W/"
curl -s "$MN/items?limit=1000" | jq -c '.items[]' > dataset.jsonl
is "$(wc -l < dataset.jsonl | tr -d ' ')" "$N" "the dataset every mock serves"

# the blocks: runs of lines indented four spaces, the indent removed
awk '/^    / { if (!inb) { n++; inb = 1 } print substr($0, 5) > ("b." n); next } { inb = 0 }
	END { print n > "count" }' "$APIPE_TOP/README.md"

# runb N EXAMPLE_BASE: block N with the README's hosts made the mocks', run
# in $W; its output in out.N, errors in err.N, status in $rc
runb() {
	sed -e "s#https://api.github.com#$GH#g" -e "s#https://api.example.com#$2#g" \
		-e "s#https://accounts.example.com#$MO#g" -e "s#https://oauth2.example.com#$MO#g" \
		-e "s#postgresql:///warehouse?host=/run/postgresql#$PGURL#g" \
		-e "s#/var/lib/apipe/items#$W/var/items#g" "b.$1" > "cmd.$1"
	rc=0
	(cd "$W" && bash -o pipefail "$TESTDIR/cmd.$1" > "$TESTDIR/out.$1" 2> "$TESTDIR/err.$1") || rc=$?
	[ "$rc" = 0 ] || diag "block $1 exited $rc: $(head -c 600 "err.$1")"
}
count_in() { sqlite3 "$W/$1" "select count(*), count(distinct id) from $2"; }
no_pg() { echo "ok $((tap_n + 1)) # SKIP block $1: PostgreSQL is not installed"; tap_n=$((tap_n + 1)); }

i=1
while [ "$i" -le "$(cat count)" ]; do
	first=$(head -1 "b.$i")
	case $first in
	"apt-get update && apt-get install -y "*)
		# not run (root, the network): the same packages as CI's fresh machine
		sed -n 's/^apt-get update && apt-get install -y \([^&]*\) &&.*/\1/p' "b.$i" | tr ' ' '\n' | grep -v '^$' | sort > readme.pk
		sed -n '/^packages=(/,/)/p' "$APIPE_TOP/.ci/run" | sed 's/packages=(//; s/)//' | tr ' \t' '\n\n' |
			grep -v '^$' | grep -vx git | sort > ci.pk
		is_file readme.pk ci.pk "block $i: the README installs the packages .ci/run installs on a fresh machine"
		like "b.$i" '&& make demo$' "block $i: and runs the demo"
		;;
	"make check")
		ok 0 "block $i: make check is what runs this test" ;;
	"fetch-page --bearer env:GH_TOKEN --body 'https://api.github.com/orgs/curl/repos?per_page=3' | jq '.[].name'")
		runb $i "$MN"
		is "$rc" 0 "block $i: fetch-page as a first look at GitHub"
		is "$(head -3 out.$i)" "$(curl -s -H "Authorization: Bearer $GH_TOKEN" "$GH/link?per_page=3" | jq '.[].name')" \
			"block $i: the three names curl gets"
		like "out.$i" '"content-type": "application/json"' "block $i: and the rate_limit response's headers"
		;;
	"paginate --style auto -v --bearer env:GH_TOKEN 'https://api.github.com/orgs/curl/repos?per_page=100' \\")
		runb $i "$MN"
		is "$rc" 0 "block $i: paginate --style auto, then --style cursor"
		L=$(jq -r .name dataset.jsonl | wc -l)
		is "$(head -"$L" out.$i)" "$(jq -r .name dataset.jsonl)" "block $i: every repository's name, once, in order"
		is "$(tail -n +$((L + 1)) out.$i | records | jq -c .id | paste -sd, -)" "$(jq -c .id dataset.jsonl | paste -sd, -)" \
			"block $i: the cursor listing, every record"
		like "err.$i" 'style' "block $i: -v says how it paginates"
		;;
	"paginate 'https://api.example.com/v1/events?limit=500' | records | schema infer"*)
		runb $i "$MN"
		is "$rc" 0 "block $i: schema infer, then schema diff against it"
		is "$(jq -r '.properties | keys | join(",")' "$W/events.schema.json")" "$(jq -rs '[.[] | keys[]] | unique | join(",")' dataset.jsonl)" \
			"block $i: the baseline names every field"
		;;
	"paginate --profile shop /v1/orders | records | upsert --db shop.db --table orders --key /id")
		mkdir -p "$HOME/.config/apipe"
		printf 'base-url = %s/v1/\nbearer = env:SHOP_TOKEN\nretry 2\n' "$MS" > "$HOME/.config/apipe/shop.conf"
		runb $i "$MS"
		is "$rc:$(count_in shop.db orders)" "0:$N|$N" "block $i: a crawl through a profile lands every record once"
		;;
	"set -euo pipefail    # a failing stage fails the run, and the watermark stays")
		rc=0
		(cd "$W" && API=$MN STATE=$W/st bash "$TESTDIR/b.$i" > "out.$i" 2> "err.$i") || rc=$?
		is "$rc:$(count_in st/items.db items)" "0:$N|$N" "block $i: the sync lands every record once"
		is "$(cd "$W" && watermark get --state st --name items)" "$(jq -r .updated_at dataset.jsonl | sort | tail -1)" \
			"block $i: and commits the watermark"
		;;
	"API=https://api.example.com STATE=/var/lib/apipe/items examples/sync.sh --bearer env:TOKEN --rate 5")
		runb $i "$MB"
		is "$rc:$(count_in var/items/items.db items)" "0:$N|$N" "block $i: examples/sync.sh with a bearer token"
		;;
	"paginate --checkpoint state/orders.ck -o pages.jsonl --style offset --limit 500 -j 8 \\")
		runb $i "$MK"
		is "$rc" 0 "block $i: a checkpointed offset crawl with an API key"
		is "$(records < "$W/pages.jsonl" | jq -c .id | paste -sd, -)" "$(jq -c .id dataset.jsonl | paste -sd, -)" \
			"block $i: pages.jsonl holds every record once"
		;;
	"records < pages.jsonl | upsert --db orders.db --table orders --key /id --only-newer \\")
		runb $i "$MK"
		is "$rc:$(count_in orders.db orders)" "0:$N|$N" "block $i: the rows"
		is "$(cd "$W" && watermark get --db orders.db --name orders)" "$(jq -r .updated_at dataset.jsonl | sort | tail -1)" \
			"block $i: and the watermark kept with them"
		;;
	"store-raw --list \"\$STATE/archive\"")
		rc=0
		sed -e "s#\$STATE#$W/var/items#g" -e "s#\$API#$MB#g" "b.$i" > "cmd.$i"
		(cd "$W" && bash -o pipefail "$TESTDIR/cmd.$i" > "out.$i" 2> "err.$i") || rc=$?
		is "$rc" 0 "block $i: list, replay and the latest pages of the archive examples/sync.sh kept"
		is "$(count_in rebuilt.db items)" "$N|$N" "block $i: the table rebuilt from the archive"
		is "$(wc -l < "$W/latest.jsonl" | tr -d ' ')" "$N" "block $i: the newest pages of $MB/keyset hold every record"
		;;
	"records < pages.jsonl | validate --schema order.schema.json --ref-dir schemas/ \\")
		runb $i "$MK"
		is "$rc:$(wc -l < "$W/orders.jsonl" | tr -d ' ')" "0:$N" "block $i: validate with \$refs found in schemas/: every record valid"
		;;
	"oauth-login --authorize-url https://accounts.example.com/o/oauth2/auth \\")
		printf '%s\n' "$CS" > "$W/client-secret"
		chmod 600 "$W/client-secret"
		sed -n '1,3p' "b.$i" > "b.$i.login"
		sed -n '4,$p' "b.$i" > "b.$i.crawl"
		cp "b.$i.login" "b.login"
		runb login "$MO" &
		lpid=$!
		j=0
		while ! grep -q '^http' "err.login" 2>/dev/null && [ $j -lt 100 ]; do sleep 0.1; j=$((j + 1)); done
		curl -sL "$(grep '^http' err.login | head -1)" > browser.txt	# the browser
		wait "$lpid"
		cp "b.$i.crawl" "b.crawl"
		runb crawl "$MO"
		is "$(wc -l < "$W/files.jsonl" | tr -d ' ')" "$N" "block $i: a sign-in, then a crawl with the stored token"
		is "$(stat -c %a "$HOME/.config/apipe/example.json")" 600 "block $i: the token store is the owner's only"
		;;
	"webhook-recv --listen 0.0.0.0:8080 --scheme github --secret env:GH_WEBHOOK_SECRET --out events/ &")
		if [ -z "$PGURL" ]; then no_pg $i; i=$((i + 1)); continue; fi
		sed -n 1p "b.$i" | sed 's/ &$//; s/0.0.0.0:8080/127.0.0.1:0 --port-file wh.port/' > b.recv
		sed -n 2p "b.$i" > b.land
		runb recv "$MN" &
		bg_pids="$bg_pids $!"
		WPORT=$(wait_port "$W/wh.port")
		body='{"id":4242,"action":"opened"}'
		sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$GH_WEBHOOK_SECRET" | awk '{ print $NF }')
		is "$(curl -s -H "X-Hub-Signature-256: sha256=$sig" -H 'X-GitHub-Delivery: dl-1' --data-binary "$body" \
			"http://127.0.0.1:$WPORT/")" stored "block $i: a signed GitHub delivery is stored"
		runb land "$MN" &
		bg_pids="$bg_pids $!"
		j=0
		while [ "$(pgq 'select count(*) from gh_events' 2>/dev/null)" != 1 ] && [ $j -lt 100 ]; do sleep 0.1; j=$((j + 1)); done
		is "$(pgq "select record->'body'->>'action' from gh_events")" opened "block $i: and lands in PostgreSQL as it arrives"
		pkill -f "webhook-recv --read events/" 2> /dev/null
		pkill -f "webhook-recv --listen 127.0.0.1:0 --port-file wh.port" 2> /dev/null
		;;
	"records < pages.jsonl | upsert --db 'postgresql:///warehouse?host=/run/postgresql' --table orders --key /id \\")
		if [ -z "$PGURL" ]; then no_pg $i; i=$((i + 1)); continue; fi
		runb $i "$MN"
		is "$rc:$(pgq 'select count(*), count(distinct id) from orders')" "0:$N|$N" "block $i: every record in PostgreSQL"
		is "$(pgq "select string_agg(data_type, ',' order by column_name) from information_schema.columns where table_name = 'orders' and column_name in ('id', 'name', 'total', 'updated')")" \
			"bigint,text,double precision,timestamp with time zone" "block $i: typed columns (and an integer key)"
		;;
	"paginate --state orders --resume-from \"\$DB\" \"\$API/orders?limit=500\" \\")
		rc=0
		(cd "$W" && DB=$W/resume.db API=$MN bash -o pipefail "$TESTDIR/b.$i" > "out.$i" 2> "err.$i") || rc=$?
		is "$rc:$(count_in resume.db orders)" "0:$N|$N" "block $i: a crawl with its state in band"
		is "$(sqlite3 "$W/resume.db" "select value from apipe_state where name = 'orders'")" '{"version":1,"complete":true}' \
			"block $i: its state committed with the rows"
		;;
	"DB='postgresql:///warehouse?host=/run/postgresql' TABLE=orders \\")
		if [ -z "$PGURL" ]; then no_pg $i; i=$((i + 1)); continue; fi
		printf '%s\n' acme globex initech umbrella > "$W/accounts.txt"
		pgq 'drop table orders' > /dev/null
		runb $i "$MK"
		is "$rc:$(pgq 'select count(*), count(distinct id) from orders')" "0:$N|$N" "block $i: four shards into one table, every record once"
		unlike "err.$i" "$KEY" "block $i: the API key is never printed"
		;;
	"store-raw --replay \"\$STATE/archive\" | records |")
		rc=0
		(cd "$W" && STATE=$W/var/items bash -o pipefail "$TESTDIR/b.$i" > "out.$i" 2> "err.$i") || rc=$?
		is "$rc:$(head -c 4 "$W/orders.parquet")" "0:PAR1" "block $i: Parquet from the archive, columns from the schema"
		;;
	"jq -c '{url: \"https://api.example.com/orders/\\(.id)\", id}' ids.jsonl \\")
		seq 1 20 | awk '{ printf "{\"id\":%d}\n", $1 }' > "$W/ids.jsonl"
		runb $i "$MK"
		is "$rc:$(jq -r .status "$W/orders.jsonl" | sort | uniq -c | tr -s ' ')" "0: 20 200" "block $i: twenty requests, each 200"
		is "$(jq -c '[.requests, .succeeded]' "$W/fetch.json")" "[20,20]" "block $i: and the stats"
		;;
	"records --records-path /items --dead-letter bad.jsonl < pages.jsonl \\")
		runb $i "$MN"
		is "$rc:$(wc -l < "$W/latest-orders.jsonl" | tr -d ' ')" "0:$N" "block $i: the records at /items, each once"
		;;
	"figure"*)
		like "b.$i" 'reference' "block $i: make bench's output (a table, not a command)" ;;
	"cmd/<tool>.c"*)
		like "b.$i" '^lib/ ' "block $i: the source layout (not a command)" ;;
	*)
		ok 1 "README block $i is run by no test: $first" ;;
	esac
	i=$((i + 1))
done
done_testing
