#!/bin/sh
# make bench: throughput of the filters against cat | cat and jq, measured in
# one invocation on the same generated data.  Prints MB/s, ratios and max RSS.
# BENCH_RECORDS (default 1000000, about 350 MB) sets the size.
set -eu
: "${APIPE_BIN:?run through make bench}"
PATH="$APIPE_BIN:$PATH"
n=${BENCH_RECORDS:-1000000}
work=$(mktemp -d "${TMPDIR:-/tmp}/apipe-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

"$APIPE_TESTBIN/genrecords" -n "$n" > "$work/records.jsonl"
"$APIPE_TESTBIN/genrecords" -n "$n" -p 100 > "$work/pages.jsonl"
"$APIPE_TESTBIN/genrecords" -x -n "$n" > "$work/orders.jsonl"
cp "$APIPE_TOP/tests/bench/orders.schema.json" "$work/"
mb=$(($(wc -c < "$work/records.jsonl") / 1000000))
mbo=$(($(wc -c < "$work/orders.jsonl") / 1000000))
mbp=$(($(wc -c < "$work/pages.jsonl") / 1000000))

# measure NAME INPUT_MB COMMAND: seconds and max RSS of sh -c COMMAND
measure() {
	/usr/bin/time -f '%e %M' -o "$work/time" sh -c "$3" > /dev/null
	read -r secs rss < "$work/time"
	awk -v n="$1" -v mb="$2" -v s="$secs" -v r="$rss" \
		'BEGIN { if (s < 0.01) s = 0.01; printf "%-34s %8.1f MB/s %8.2f s %8.1f MiB\n", n, mb / s, s, r / 1024 }'
	printf "%s %s %s %s\n" "$1" "$2" "$secs" "$rss" >> "$work/results"	# not echo: dash reads \c in "\copy"
}

: > "$work/report"
echo "apipe bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $n records ($mb MB as records, $mbp MB as pages)"
echo "$(printf '%-34s %13s %10s %12s' what throughput time max-rss)"
cd "$work"
measure "cat | cat (records)" "$mb" "cat records.jsonl | cat"
measure "cat | cat (pages)" "$mbp" "cat pages.jsonl | cat"
measure "records" "$mbp" "cat pages.jsonl | records"
measure "dedupe --key /id" "$mb" "cat records.jsonl | dedupe --key /id"
measure "watermark track" "$mb" "cat records.jsonl | watermark track --state st --name b --order-field /updated_at"
measure "cat | cat (orders)" "$mbo" "cat orders.jsonl | cat"
measure "validate (15 properties, formats)" "$mbo" "cat orders.jsonl | validate --schema orders.schema.json --format-assert"
if command -v ajv > /dev/null; then
	# ajv-cli reads one JSON document: the records as an array, against an array schema
	{ printf '['; sed '1!s/^/,/' orders.jsonl; printf ']'; } > orders.json
	jq '{"$schema": ."$schema", type: "array", items: del(."$schema", ."$id")}' orders.schema.json > orders-array.schema.json
	measure "ajv-cli validate (same records)" "$mbo" "ajv validate --spec=draft2020 -c ajv-formats -s orders-array.schema.json -d orders.json"
fi
if command -v jq > /dev/null; then
	measure "jq -c '.body.data[]'" "$mbp" "cat pages.jsonl | jq -c '.body.data[]'"
	measure "jq -c 'unique_by(.id)' (dedupe)" "$mb" "cat records.jsonl | jq -c -n '[inputs] | unique_by(.id) | .[]'"
	measure "jq -c . (watermark)" "$mb" "cat records.jsonl | jq -c ."
fi
measure "gzip -6 (pages)" "$mbp" "gzip -6 < pages.jsonl > pages.gz"
measure "store-raw (pages)" "$mbp" "store-raw arch < pages.jsonl"
measure "zcat (pages)" "$mbp" "zcat pages.gz"
measure "store-raw --replay (pages)" "$mbp" "store-raw --replay arch"
if command -v sqlite3 > /dev/null; then
	cat > import.sql <<'SQL'
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE raw(line TEXT);
.mode ascii
.separator "\037" "\n"
.import records.jsonl raw
CREATE TABLE items(id PRIMARY KEY, record TEXT NOT NULL, ingested_at TEXT NOT NULL);
INSERT INTO items SELECT json_extract(line, '$.id'), line, strftime('%Y-%m-%dT%H:%M:%fZ') FROM raw WHERE true
  ON CONFLICT (id) DO UPDATE SET record = excluded.record, ingested_at = excluded.ingested_at;
SQL
	measure "sqlite3 .import + INSERT" "$mb" "sqlite3 ref.db < import.sql"
	measure "upsert (SQLite)" "$mb" "upsert --db up.db --table items --key /id < records.jsonl"
	measure "upsert again (all unchanged)" "$mb" "upsert --db up.db --table items --key /id < records.jsonl"
fi
awk '
	{ name = $0; sub(/ [0-9.]+ [0-9.]+ [0-9]+$/, "", name); s[name] = $(NF - 1); m[name] = $(NF - 2); r[name] = $(NF) }
	function row(what, fig, ref, ratio, target, ok, rss) {
		printf "%s\t%s\t%s\t%.2fx\t%s\t%s\t%s\n", what, fig, ref, ratio, target, ok ? "holds" : "MISSES", rss
	}
	function mbs(n) { return sprintf("%.0f MB/s", m[n] / s[n]) }
	function mib(n) { return sprintf("%.1f MiB", r[n] / 1024) }
	END {
		rate["cat-r"] = m["cat | cat (records)"] / s["cat | cat (records)"]
		rate["cat-p"] = m["cat | cat (pages)"] / s["cat | cat (pages)"]
		split("records|dedupe --key /id|watermark track", tools, "|")
		split("pages|records|records", base, "|")
		split("jq -c '\''.body.data[]'\''|jq -c '\''unique_by(.id)'\'' (dedupe)|jq -c . (watermark)", jqs, "|")
		for (i = 1; i <= 3; i++) {
			t = tools[i]
			c = (m[t] / s[t]) / (base[i] == "pages" ? rate["cat-p"] : rate["cat-r"])
			row(t, mbs(t), "cat | cat", c, ">= 0.5x", c >= 0.5, mib(t))
			if (jqs[i] in s) {
				j = (m[t] / s[t]) / (m[jqs[i]] / s[jqs[i]])
				row(t, mbs(t), jqs[i], j, ">= 10x", j >= 10, mib(t))
			}
		}
		v = "validate (15 properties, formats)"
		c = (m[v] / s[v]) / (m["cat | cat (orders)"] / s["cat | cat (orders)"])
		row("validate --format-assert", mbs(v), "cat | cat", c, ">= 0.3x", c >= 0.3, mib(v))
		if ("ajv-cli validate (same records)" in s)
			row("validate --format-assert", mbs(v), "ajv-cli", s["ajv-cli validate (same records)"] / s[v], "-", 1, mib(v))
		a = s["gzip -6 (pages)"] / s["store-raw (pages)"]
		row("store-raw", mbs("store-raw (pages)"), "gzip -6", a, ">= 1.0x", a >= 1, mib("store-raw (pages)"))
		z = s["zcat (pages)"] / s["store-raw --replay (pages)"]
		row("store-raw --replay", mbs("store-raw --replay (pages)"), "zcat", z, ">= 0.9x", z >= 0.9, mib("store-raw --replay (pages)"))
		if ("upsert (SQLite)" in s) {
			u = s["sqlite3 .import + INSERT"] / s["upsert (SQLite)"]
			row("upsert (SQLite)", mbs("upsert (SQLite)"), "sqlite3 shell import", u, ">= 1.0x", u >= 1, mib("upsert (SQLite)"))
		}
	}' "$work/results" >> "$work/report"

# --- HTTP: fetch-page against curl, over loopback, the same URLs --------------
# BENCH_REQUESTS (default 2000) small JSON responses from tests/mock-api.
nreq=${BENCH_REQUESTS:-2000}
"$APIPE_TESTBIN/mock-api" --port-file port --records 100 &
mock=$!
mock2=
trap 'kill $mock $mock2 2>/dev/null; rm -rf "$work"' EXIT INT TERM
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
base="http://127.0.0.1:$(cat port)"
awk -v n="$nreq" -v b="$base" 'BEGIN { for (i = 0; i < n; i++) printf "%s/items/%d\n", b, i % 100 + 1 }' > urls
sed 's/.*/url = "&"/' urls > curl.cfg

# rmeasure NAME COMMAND: requests per second of sh -c COMMAND (best of 3)
rmeasure() {
	best=0
	for k in 1 2 3; do
		t0=$(date +%s.%N)
		sh -c "$2" > /dev/null 2>&1
		t1=$(date +%s.%N)
		best=$(awk -v n="$nreq" -v s="$t0" -v e="$t1" -v b="$best" \
			'BEGIN { d = e - s; if (d < 0.001) d = 0.001; r = n / d; print (r > b ? r : b) }')
	done
	printf '%-44s %10.0f req/s\n' "$1" "$best"
	echo "$1|$best" >> "$work/rates"
}

echo
echo "HTTP: $nreq requests to the mock API on 127.0.0.1 (best of 3)"
: > rates
rmeasure "curl --parallel --parallel-max 16" "curl -s --parallel --parallel-max 16 -K curl.cfg"
rmeasure "fetch-page -j 16" "fetch-page -j 16 < urls"
rmeasure "curl (sequential, keep-alive)" "curl -s -K curl.cfg"
rmeasure "fetch-page -j 1" "fetch-page -j 1 < urls"
awk -F'|' '{ r[$1] = $2 }
	END {
		p = r["fetch-page -j 16"] / r["curl --parallel --parallel-max 16"]
		q = r["fetch-page -j 1"] / r["curl (sequential, keep-alive)"]
		printf "fetch-page -j 16\t%.0f req/s\tcurl --parallel-max 16\t%.2fx\t>= 1.0x\t%s\t-\n", r["fetch-page -j 16"], p, ((p >= 1) ? "holds" : "MISSES")
		printf "fetch-page -j 1\t%.0f req/s\tcurl (sequential)\t%.2fx\t>= 1.0x\t%s\t-\n", r["fetch-page -j 1"], q, ((q >= 1) ? "holds" : "MISSES")
	}' rates >> "$work/report"

# --- paginate: 200 pages at 10 ms of server latency -----------------------------
# The floor is pages x latency; a sequential crawl should add little to it,
# and fetching ahead should divide it.
"$APIPE_TESTBIN/mock-api" --port-file port2 --records 2000 &
mock2=$!
i=0
while [ ! -s port2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
base2="http://127.0.0.1:$(cat port2)"

# tmeasure NAME COMMAND: seconds of sh -c COMMAND (best of 3)
tmeasure() {
	best=
	for k in 1 2 3; do
		t0=$(date +%s.%N)
		sh -c "$2" > /dev/null 2>&1
		t1=$(date +%s.%N)
		best=$(awk -v s="$t0" -v e="$t1" -v b="$best" \
			'BEGIN { d = e - s; print ((b == "" || d < b) ? d : b) }')
	done
	printf '%-44s %10.3f s\n' "$1" "$best"
	echo "$1|$best" >> "$work/times"
}

echo
echo "paginate: 200 pages of 10 records, 10 ms server latency each (best of 3)"
: > "$work/times"
tmeasure "paginate cursor (floor 2.000 s)" "paginate '$base2/cursor?limit=10&latency_ms=10'"
tmeasure "paginate offset -j 1" "paginate --style offset --limit 10 -j 1 '$base2/items?latency_ms=10'"
tmeasure "paginate offset -j 8" "paginate --style offset --limit 10 -j 8 '$base2/items?latency_ms=10'"
awk -F'|' '{ t[$1] = $2 }
	END {
		c = t["paginate cursor (floor 2.000 s)"] / 2.0
		j = t["paginate offset -j 1"] / t["paginate offset -j 8"]
		printf "paginate (cursor)\t%.3f s\t200 pages x 10 ms\t%.3fx\t<= 1.05x\t%s\t-\n", t["paginate cursor (floor 2.000 s)"], c, ((c <= 1.05) ? "holds" : "MISSES")
		printf "paginate offset -j 8\t%.3f s\tpaginate offset -j 1\t%.2fx\t>= 6x\t%s\t-\n", t["paginate offset -j 8"], j, ((j >= 6) ? "holds" : "MISSES")
	}' "$work/times" >> "$work/report"

# --- paginate fan-out: 200 listings x 3 pages, 20 ms of server latency each --------------
"$APIPE_TESTBIN/mock-api" --port-file port3 --records 30 --latency-ms 20 &
mock3=$!
trap 'kill $mock $mock2 $mock3 2>/dev/null; rm -rf "$work"' EXIT INT TERM
i=0
while [ ! -s port3 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
base3="http://127.0.0.1:$(cat port3)"
awk -v b="$base3" 'BEGIN { for (k = 1; k <= 200; k++) printf "{\"url\":\"%s/link?per_page=10&parent=%d\",\"parent\":%d}\n", b, k, k }' > parents.jsonl
echo
echo "paginate fan-out: 200 listings x 3 pages, 20 ms server latency each (best of 3)"
: > "$work/fan"
for j in 1 8; do
	best=
	for k in 1 2 3; do
		t0=$(date +%s.%N)
		paginate -q -j $j < parents.jsonl > fan.out
		t1=$(date +%s.%N)
		best=$(awk -v s="$t0" -v e="$t1" -v b="$best" 'BEGIN { d = e - s; print ((b == "" || d < b) ? d : b) }')
	done
	[ "$(wc -l < fan.out)" -eq 600 ] || { echo "bench: paginate -j $j wrote $(wc -l < fan.out) of 600 pages" >&2; exit 1; }
	printf '%-44s %10.3f s\n' "paginate -j $j (200 listings)" "$best"
	echo "$j|$best" >> "$work/fan"
done
kill $mock3 2>/dev/null
awk -F'|' '{ t[$1] = $2 }
	END {
		r = t[1] / t[8]
		printf "paginate -j 8 (200 listings)\t%.3f s\tpaginate -j 1\t%.2fx\t>= 6x\t%s\t-\n", t[8], r, ((r >= 6) ? "holds" : "MISSES")
	}' "$work/fan" >> "$work/report"

# --- webhook-recv: signed events accepted per second ----------------------------------
if command -v python3 > /dev/null; then
	nev=${BENCH_EVENTS:-5000}
	export BENCH_WH_SECRET=bench-secret
	webhook-recv -q --listen 127.0.0.1:0 --port-file whport --secret env:BENCH_WH_SECRET \
		--scheme hmac-sha256 --out events &
	wh=$!
	i=0
	while [ ! -s whport ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	python3 - "http://127.0.0.1:$(cat whport)/" "$BENCH_WH_SECRET" "$nev" > wh.cfg <<'PY'
import hashlib, hmac, sys
url, key, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
for i in range(n):
    body = '{"n":%d,"event":"bench","pad":"%s"}' % (i, "x" * 200)
    sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    print('next\nurl = "%s"\nheader = "X-Signature: %s"\nheader = "X-Delivery-Id: b-%d"\ndata-binary = "%s"\noutput = "/dev/null"' % (url, sig, i, body.replace('"', '\\"')))
PY
	t0=$(date +%s.%N)
	curl -s --parallel --parallel-max 32 -K wh.cfg 2> /dev/null
	t1=$(date +%s.%N)
	kill -TERM $wh
	wait $wh || true
	stored=$(cat events/events-*.jsonl | wc -l)
	awk -v n="$nev" -v s="$t0" -v e="$t1" -v st="$stored" 'BEGIN {
		printf "webhook-recv (%d stored, fsynced)\t%.0f events/s\tcurl --parallel-max 32 sending\t-\tall stored\t%s\t-\n", st, n / (e - s), (st == n ? "holds" : "MISSES") }' >> "$work/report"
fi

# --- upsert into PostgreSQL against \copy + INSERT ... ON CONFLICT ------------------------
# BENCH_PG_RECORDS (default 200000) records, the same cluster, the same run;
# then 1, 2 and 4 concurrent upsert runs on disjoint keys.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
if [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && command -v psql > /dev/null; then
	npg=${BENCH_PG_RECORDS:-200000}
	head -n "$npg" records.jsonl > pg.jsonl
	pgmb=$(($(wc -c < pg.jsonl) / 1000000))
	pgdir=$(mktemp -d "${TMPDIR:-/tmp}/apipe-benchpg.XXXXXX")
	as=
	if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; as="runuser -u postgres --"; fi
	chmod 755 "$pgdir"
	chmod 755 "$work"
	chmod 644 pg.jsonl
	$as "$PGBIN/initdb" -D "$pgdir/data" -A trust -U postgres > /dev/null 2>&1
	$as "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -o "-k $pgdir -c listen_addresses=" start > /dev/null 2>&1
	PG="postgresql:///postgres?host=$pgdir&user=postgres"
	trap 'kill $mock $mock2 2>/dev/null; $as "$PGBIN/pg_ctl" -D "$pgdir/data" -m immediate stop > /dev/null 2>&1; rm -rf "$work" "$pgdir"' EXIT INT TERM
	cat > pgref.sql <<SQL
CREATE UNLOGGED TABLE IF NOT EXISTS staging (line text);
TRUNCATE staging;
\\copy staging (line) from '$work/pg.jsonl' with (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TABLE IF NOT EXISTS ref (id text PRIMARY KEY, record jsonb NOT NULL, ingested_at timestamptz NOT NULL);
INSERT INTO ref SELECT line::jsonb->>'id', line::jsonb, now() FROM staging
  ON CONFLICT (id) DO UPDATE SET record = excluded.record, ingested_at = excluded.ingested_at;
SQL
	measure "psql \\copy + INSERT ON CONFLICT" "$pgmb" "psql -X -q '$PG' -f pgref.sql"
	measure "upsert (PostgreSQL)" "$pgmb" "upsert --db '$PG' --table items --key /id < pg.jsonl"
	for w in 1 2 4; do
		split -n "l/$w" -d pg.jsonl "part$w."
		measure "upsert (PostgreSQL, $w writers)" "$pgmb" \
			"for f in part$w.*; do upsert --db '$PG' --table w$w --key /id < \$f & done; wait"
	done
	awk -v mb="$pgmb" '
		{ name = $0; sub(/ [0-9.]+ [0-9.]+ [0-9]+$/, "", name); s[name] = $(NF - 1); r[name] = $(NF) }
		END {
			ref = "psql \\copy + INSERT ON CONFLICT"
			u = "upsert (PostgreSQL)"
			if (!(u in s)) exit
			printf "upsert (PostgreSQL)\t%.0f MB/s\t%s\t%.2fx\t>= 1.0x\t%s\t%.1f MiB\n", mb / s[u], "\\copy + INSERT ON CONFLICT", s[ref] / s[u], (s[ref] / s[u] >= 1 ? "holds" : "MISSES"), r[u] / 1024
			for (w = 2; w <= 4; w *= 2) {
				n = "upsert (PostgreSQL, " w " writers)"
				printf "%s\t%.0f MB/s\t1 writer\t%.2fx\t-\t-\t-\n", n, mb / s[n], s["upsert (PostgreSQL, 1 writers)"] / s[n]
			}
		}' "$work/results" >> "$work/report"
fi

# --- the report -------------------------------------------------------------------------
echo
echo "apipe bench report: $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), $n records"
awk -F'\t' '
	BEGIN { printf "%-34s %-14s %-32s %8s %9s %-7s %s\n", "figure", "measured", "reference", "ratio", "target", "", "max RSS" }
	{ printf "%-34s %-14s %-32s %8s %9s %-7s %s\n", $1, $2, $3, $4, $5, $6, $7 }' "$work/report"
