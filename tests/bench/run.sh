#!/bin/sh
# make bench: each tool against a reference run on the same data in the same
# invocation (cat | cat, jq, ajv, gzip, zcat, sqlite3, curl, psql).  Every
# figure is the median of RUNS runs (default 5) after a warm-up, printed with
# its min and max; a ratio against a reference is taken pair by pair (the
# reference, then the tool, RUNS times) and its median printed.  Two data
# sets: genrecords' records (about 360 B each) and small ones (about 205 B).
# BENCH_RECORDS (default 1000000) and BENCH_SMALL (default 1200000) set their
# sizes, BENCH_SUBSET (default 200000) the records jq and ajv get.
set -eu
: "${APIPE_BIN:?run through make bench}"
PATH="$APIPE_BIN:$PATH"
n=${BENCH_RECORDS:-1000000}
ns=${BENCH_SMALL:-1200000}
nsub=${BENCH_SUBSET:-200000}
runs=${RUNS:-5}
[ "$runs" -ge 5 ] || { echo "bench: RUNS must be 5 or more" >&2; exit 64; }
work=$(mktemp -d "${TMPDIR:-/tmp}/apipe-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

"$APIPE_TESTBIN/genrecords" -n "$n" > "$work/records.jsonl"
"$APIPE_TESTBIN/genrecords" -S -n "$ns" > "$work/small.jsonl"
"$APIPE_TESTBIN/genrecords" -S -n "$ns" -p 100 > "$work/smallpages.jsonl"
"$APIPE_TESTBIN/genrecords" -n "$n" -p 100 > "$work/pages.jsonl"
"$APIPE_TESTBIN/genrecords" -x -n "$n" > "$work/orders.jsonl"
head -n "$nsub" "$work/records.jsonl" > "$work/sub.jsonl"
head -n "$nsub" "$work/orders.jsonl" > "$work/suborders.jsonl"
head -n $((nsub / 100)) "$work/pages.jsonl" > "$work/subpages.jsonl"
cp "$APIPE_TOP/tests/bench/orders.schema.json" "$work/"
size() { awk -v b="$(wc -c < "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
mb=$(size "$work/records.jsonl")
mbs=$(size "$work/small.jsonl")
mbsmp=$(size "$work/smallpages.jsonl")
mbo=$(size "$work/orders.jsonl")
mbp=$(size "$work/pages.jsonl")
mbsub=$(size "$work/sub.jsonl")
mbso=$(size "$work/suborders.jsonl")
mbsp=$(size "$work/subpages.jsonl")

# once COMMAND: seconds and max RSS (KiB) of sh -c COMMAND, as "secs rss"
once() {
	/usr/bin/time -f '%e %M' -o "$work/time" sh -c "$1" > /dev/null
	cat "$work/time"
}

# stats FILE: med, lo and hi become the median, min and max of the numbers
# in FILE, one a line
stats() {
	set -- $(sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }')
	med=$1 lo=$2 hi=$3
}

# timed COMMAND: "secs rss" of one run, into ts and tr
timed() {
	set -- $(once "$1")
	ts=$1 tr=$2
}

# pair NAME MB REF REFCMD COMMAND: COMMAND against REFCMD on the same MB of
# input, pair by pair.  Adds "NAME MB s-med s-min s-max REF ratio-med min max rss-KiB"
# (tab-separated) to pairs, where a ratio is the reference's time over the tool's: above 1
# the tool is faster.
pair() {
	once "$4" > /dev/null
	once "$5" > /dev/null
	: > "$work/t"
	: > "$work/r"
	rss=0
	rrss=0
	k=0
	while [ $k -lt "$runs" ]; do
		timed "$4"
		rs=$ts
		[ "$tr" -gt "$rrss" ] && rrss=$tr
		timed "$5"
		echo "$ts" >> "$work/t"
		awk -v a="$rs" -v b="$ts" 'BEGIN { if (b < 0.01) b = 0.01; print a / b }' >> "$work/r"
		[ "$tr" -gt "$rss" ] && rss=$tr
		k=$((k + 1))
	done
	stats "$work/t"
	tm=$med tmin=$lo tmax=$hi
	stats "$work/r"
	rm=$med rmin=$lo rmax=$hi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$tm" "$tmin" "$tmax" "$3" "$rm" \
		"$rmin" "$rmax" "$rss" >> "$work/pairs"
	awk -v n="$1" -v mb="$2" -v s="$tm" -v lo="$tmin" -v hi="$tmax" -v ref="$3" -v r="$rm" \
		-v rl="$rmin" -v rh="$rmax" 'BEGIN { if (s < 0.01) s = 0.01
		printf "%-36s %7.0f MB/s (%.2f s, %.2f-%.2f)  %5.2fx %s (%.2f-%.2f)\n",
			n, mb / s, s, lo, hi, r, ref, rl, rh }'
}

# measure NAME MB COMMAND: median seconds of RUNS runs after a warm-up; adds
# "NAME MB secs rss" to results
measure() {
	once "$3" > /dev/null
	: > "$work/t"
	rss=0
	k=0
	while [ $k -lt "$runs" ]; do
		timed "$3"
		echo "$ts" >> "$work/t"
		[ "$tr" -gt "$rss" ] && rss=$tr
		k=$((k + 1))
	done
	stats "$work/t"
	tm=$med tmin=$lo tmax=$hi
	awk -v n="$1" -v mb="$2" -v s="$tm" -v lo="$tmin" -v hi="$tmax" -v r="$rss" \
		'BEGIN { if (s < 0.01) s = 0.01; printf "%-36s %7.0f MB/s (%.2f s, %.2f-%.2f) %8.1f MiB\n", n, mb / s, s, lo, hi, r / 1024 }'
	printf "%s %s %s %s\n" "$1" "$2" "$tm" "$rss" >> "$work/results"	# not echo: dash reads \c in "\copy"
}

: > "$work/report"
: > "$work/pairs"
: > "$work/results"
echo "apipe bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, median of $runs runs each"
echo "  records: $n ($mb MB, $mbp MB as pages), small: $ns ($mbs MB, $mbsmp MB as pages)," \
	"jq and ajv: the first $nsub"
cd "$work"
echo
echo "Filters against cat | cat, pair by pair (ratio above 1: the tool is faster)"
pair "records (pages)" "$mbp" "cat | cat" "cat pages.jsonl | cat" "cat pages.jsonl | records"
pair "dedupe --key /id" "$mb" "cat | cat" "cat records.jsonl | cat" "cat records.jsonl | dedupe --key /id"
pair "watermark track" "$mb" "cat | cat" "cat records.jsonl | cat" \
	"rm -rf st; cat records.jsonl | watermark track --state st --name b --order-field /updated_at"
pair "records (small, pages)" "$mbsmp" "cat | cat" "cat smallpages.jsonl | cat" \
	"cat smallpages.jsonl | records"
pair "dedupe --key /id (small)" "$mbs" "cat | cat" "cat small.jsonl | cat" "cat small.jsonl | dedupe --key /id"
pair "watermark track (small)" "$mbs" "cat | cat" "cat small.jsonl | cat" \
	"rm -rf st; cat small.jsonl | watermark track --state st --name b --order-field /ts"
# --lazy: each line read only as far as the key or field (no goal: shown)
pair "dedupe --lazy --key /id (small)" "$mbs" "cat | cat" "cat small.jsonl | cat" \
	"cat small.jsonl | dedupe --lazy --key /id"
pair "watermark track --lazy (small)" "$mbs" "cat | cat" "cat small.jsonl | cat" \
	"rm -rf st; cat small.jsonl | watermark track --lazy --state st --name b --order-field /ts"
pair "validate (15 properties, formats)" "$mbo" "cat | cat" "cat orders.jsonl | cat" \
	"cat orders.jsonl | validate --schema orders.schema.json --format-assert"
pair "validate -j 2 (15 properties)" "$mbo" "cat | cat" "cat orders.jsonl | cat" \
	"cat orders.jsonl | validate -j 2 --schema orders.schema.json --format-assert"
# a schema naming 2 of the 15 members: the other 13 are checked, not tokenized (no goal: shown)
echo '{"type":"object","required":["id","updated_at"],"properties":{"id":{"type":"integer","minimum":1},"updated_at":{"type":"string","format":"date-time"}}}' > "$work/few.schema.json"
pair "validate (2 of 15 members named)" "$mbo" "cat | cat" "cat orders.jsonl | cat" \
	"cat orders.jsonl | validate --schema few.schema.json --format-assert"
echo
echo "Against jq 1.6 and ajv 8 on the first $nsub records (ratio above 1: the tool is faster)"
if command -v jq > /dev/null; then
	pair "records (jq)" "$mbsp" "jq -c '.body.data[]'" "jq -c '.body.data[]' < subpages.jsonl" \
		"records < subpages.jsonl"
	pair "dedupe --key /id (jq)" "$mbsub" "jq unique_by(.id)" \
		"jq -c -n '[inputs] | unique_by(.id) | .[]' < sub.jsonl" "dedupe --key /id < sub.jsonl"
	pair "watermark track (jq)" "$mbsub" "jq -c ." "jq -c . < sub.jsonl" \
		"rm -rf st; watermark track --state st --name b --order-field /updated_at < sub.jsonl"
fi
ajvdir=${APIPE_NPM:-}
if [ -n "$ajvdir" ] && [ -d "$ajvdir/ajv" ] && command -v node > /dev/null; then
	pair "validate (ajv 8)" "$mbso" "ajv 8" \
		"NODE_PATH='$ajvdir' node '$APIPE_TOP/tests/bench/ajv-lines.js' orders.schema.json < suborders.jsonl" \
		"validate --schema orders.schema.json --format-assert < suborders.jsonl"
fi
echo
echo "Archives and tables"
pair "store-raw (pages)" "$mbp" "gzip -6" "gzip -6 < pages.jsonl > pages.gz" \
	"rm -rf arch; store-raw arch < pages.jsonl"
pair "store-raw --replay (pages)" "$mbp" "zcat" "zcat pages.gz" "store-raw --replay arch"
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
	pair "upsert (SQLite)" "$mb" "sqlite3 shell import" "rm -f ref.db*; sqlite3 ref.db < import.sql" \
		"rm -f up.db*; upsert --db up.db --table items --key /id < records.jsonl"
	# the sink modes against a plain upsert of the same records (orders, two
	# line items each) into a new table
	pair "upsert --replace (SQLite)" "$mbo" "plain upsert" \
		"rm -f p.db*; upsert --db p.db --table o --key /id < orders.jsonl" \
		"upsert --db r.db --table o --key /id --replace < orders.jsonl"
	pair "upsert --child (SQLite)" "$mbo" "plain upsert" \
		"rm -f p.db*; upsert --db p.db --table o --key /id < orders.jsonl" \
		"rm -f c.db*; upsert --db c.db --table o --key /id --child /lines=o_lines < orders.jsonl"
	rm -f p.db* r.db* c.db*
fi
# tabulate against DuckDB's own JSON-to-Parquet COPY (npm @duckdb/node-api),
# same records, same codec; both memories are reported
if [ -d "$APIPE_NPM/@duckdb/node-api" ] && command -v node > /dev/null; then
	pair "tabulate (Parquet, gzip)" "$mb" "DuckDB COPY (gzip)" \
		"node '$APIPE_TOP/tests/bench/duckdb-copy.js' records.jsonl ref.parquet gzip" \
		"tabulate --format parquet --compression gzip -o t.parquet < records.jsonl"
	echo "tabulate (Parquet, gzip)	$rrss" > "$work/refrss"
	rm -f ref.parquet t.parquet
fi

# store-raw through s3:// against the aws CLI copying the same bytes (the
# gzip of the pages) to and from the same server: s3rver from npm on
# loopback, credentials its defaults
if [ -x "$APIPE_NPM/.bin/s3rver" ] && [ -x /usr/bin/aws ]; then
	mkdir -p s3data
	node "$APIPE_NPM/.bin/s3rver" -d s3data -a 127.0.0.1 -p 0 --configure-bucket bench \
		> s3rver.out 2>&1 &
	s3pid=$!
	i=0
	while ! grep -q 'listening on' s3rver.out && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	s3e="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' s3rver.out)"
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
		AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$s3e" AWS_CONFIG_FILE=/dev/null \
		AWS_SHARED_CREDENTIALS_FILE=/dev/null
	pair "store-raw to s3:// (pages)" "$mbp" "gzip -6 | aws s3 cp" \
		"gzip -6 < pages.jsonl | /usr/bin/aws --endpoint-url $s3e s3 cp --quiet - s3://bench/ref.gz" \
		"store-raw s3://bench/raw-\$(date +%s%N) < pages.jsonl"
	store-raw s3://bench/replay < pages.jsonl > /dev/null
	pair "store-raw --replay from s3://" "$mbp" "aws s3 cp | zcat" \
		"/usr/bin/aws --endpoint-url $s3e s3 cp --quiet s3://bench/ref.gz - | zcat" \
		"store-raw --replay s3://bench/replay"
	kill $s3pid 2>/dev/null
	rm -rf s3data
fi

# dedupe's memory: bytes a distinct key at 10M keys, from the max RSS of a
# run over 10M keys less that of a run over one key
nk=${BENCH_KEYS:-10000000}
awk -v n="$nk" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d}\n", i }' > keys.jsonl
head -n 1 keys.jsonl > onekey.jsonl
measure "dedupe ($nk distinct keys)" "$(size keys.jsonl)" "dedupe --key /id < keys.jsonl"
measure "dedupe (1 key)" "0" "dedupe --key /id < onekey.jsonl"
rm -f keys.jsonl

awk -F'\t' '
	function row(what, fig, ref, ratio, target, ok, rss) {
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", what, fig, ref, ratio, target, ok ? "holds" : "MISSES", rss
	}
	function info(n) {	# shown, with no goal
		if (!(n in med))
			return
		printf "%s\t%s\t%s\t%s\t-\t-\t%s\n", n, sprintf("%.0f MB/s", mb[n] / (t[n] < 0.01 ? 0.01 : t[n])),
		    ref[n], sprintf("%.2fx [%.2f-%.2f]", med_r[n], rlo[n], rhi[n]), sprintf("%.1f MiB", rss[n] / 1024)
	}
	function pr(n, target, want,    ok) {
		if (!(n in med))
			return
		ok = med_r[n] >= want
		row(n, sprintf("%.0f MB/s", mb[n] / (t[n] < 0.01 ? 0.01 : t[n])), ref[n],
		    sprintf("%.2fx [%.2f-%.2f]", med_r[n], rlo[n], rhi[n]), target, ok,
		    sprintf("%.1f MiB", rss[n] / 1024))
	}
	{ med[$1] = 1; mb[$1] = $2; t[$1] = $3; ref[$1] = $6; med_r[$1] = $7; rlo[$1] = $8
	  rhi[$1] = $9; rss[$1] = $10 }
	END {
		# goals: a ratio above want (the tool t times faster, or 1/t as fast)
		pr("records (pages)", ">= 0.8x", 0.8)
		pr("dedupe --key /id", ">= 0.8x", 0.8)
		pr("watermark track", ">= 0.8x", 0.8)
		pr("records (small, pages)", ">= 0.8x", 0.8)
		pr("dedupe --key /id (small)", ">= 0.8x", 0.8)
		pr("watermark track (small)", ">= 0.8x", 0.8)
		info("dedupe --lazy --key /id (small)")
		info("watermark track --lazy (small)")
		pr("validate (15 properties, formats)", ">= 0.5x", 0.5)
		info("validate -j 2 (15 properties)")
		info("validate (2 of 15 members named)")
		pr("validate (ajv 8)", ">= 2x", 2)
		pr("records (jq)", ">= 25x", 25)
		pr("dedupe --key /id (jq)", ">= 25x", 25)
		pr("watermark track (jq)", ">= 25x", 25)
		pr("store-raw (pages)", ">= 1.0x", 1)
		pr("store-raw --replay (pages)", ">= 0.9x", 0.9)
		info("store-raw to s3:// (pages)")
		info("store-raw --replay from s3://")
		pr("upsert (SQLite)", ">= 1.0x", 1)
		info("upsert --replace (SQLite)")
		info("upsert --child (SQLite)")
		pr("tabulate (Parquet, gzip)", ">= 1.0x", 1)
	}' "$work/pairs" >> "$work/report"
[ -s "$work/refrss" ] && awk -F'\t' '{ printf "DuckDB COPY (gzip), max RSS\t-\t-\t-\t-\t-\t%.1f MiB\n", $2 / 1024 }' \
	"$work/refrss" >> "$work/report"
awk -v nk="$nk" '
	{ k = NF; name = $1; for (i = 2; i <= k - 3; i++) name = name " " $i; kib[name] = $k }
	END {
		big = "dedupe (" nk " distinct keys)"
		b = (kib[big] - kib["dedupe (1 key)"]) * 1024 / nk
		printf "dedupe bytes a key\t%.1f B\t%d distinct keys\t-\t<= 24 B\t%s\t%.1f MiB\n", b, nk, (b <= 24 ? "holds" : "MISSES"), kib[big] / 1024
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

# one_rate KIND ARG: one run's requests per second.  KIND "wrk": wrk -t1
# -c16 for two seconds against the URL ARG; else KIND is the number of
# requests the command ARG makes, and the rate is that over its time.
one_rate() {
	if [ "$1" = wrk ]; then
		wrk -t1 -c16 -d2s "$2" 2>/dev/null | awk '/^Requests\/sec:/ { print $2 }'
		return
	fi
	t0=$(date +%s.%N)
	sh -c "$2" > /dev/null 2>&1
	t1=$(date +%s.%N)
	awk -v n="$1" -v s="$t0" -v e="$t1" 'BEGIN { d = e - s; if (d < 0.001) d = 0.001; print n / d }'
}

# rpair NAME REFNAME REFKIND REFARG KIND ARG: NAME's rate against REFNAME's,
# pair by pair (the reference, then the tool, RUNS times after a warm-up of
# each): medians with min and max, and the median of the ratios.  Adds
# "NAME|REFNAME|rate|ratio|ratio-min|ratio-max" to rates.
rpair() {
	one_rate "$3" "$4" > /dev/null
	one_rate "$5" "$6" > /dev/null
	: > "$work/q"
	: > "$work/qr"
	: > "$work/qq"
	k=0
	while [ $k -lt "$runs" ]; do
		rr=$(one_rate "$3" "$4")
		tt=$(one_rate "$5" "$6")
		echo "$rr" >> "$work/qr"
		echo "$tt" >> "$work/q"
		awk -v a="$tt" -v b="$rr" 'BEGIN { print (b > 0 ? a / b : 0) }' >> "$work/qq"
		k=$((k + 1))
	done
	stats "$work/qr"
	rm_=$med rlo=$lo rhi=$hi
	stats "$work/q"
	qm=$med qmin=$lo qmax=$hi
	stats "$work/qq"
	printf '%-32s %8.0f req/s (%.0f-%.0f)  %.2fx %s, %.0f req/s (%.0f-%.0f); ratio %.2f-%.2f\n' \
		"$1" "$qm" "$qmin" "$qmax" "$med" "$2" "$rm_" "$rlo" "$rhi" "$lo" "$hi"
	echo "$1|$2|$qm|$med|$lo|$hi" >> "$work/rates"
}

echo
echo "HTTP: $nreq requests to the mock API on 127.0.0.1 (median of $runs, pair by pair)"
: > "$work/rates"
rpair "fetch-page -j 16" "curl --parallel --parallel-max 16" \
	"$nreq" "curl -s --parallel --parallel-max 16 -K curl.cfg" "$nreq" "fetch-page -j 16 < urls"
rpair "fetch-page -j 1" "curl (sequential, keep-alive)" \
	"$nreq" "curl -s -K curl.cfg" "$nreq" "fetch-page -j 1 < urls"

# nginx serving 200 small JSON files, and wrk (1 thread, 16 connections) as
# the ceiling of what a client can ask of it (Debian's nginx and wrk)
if command -v nginx > /dev/null && command -v wrk > /dev/null && command -v python3 > /dev/null; then
	chmod 755 "$work"
	mkdir -p www
	i=1
	while [ $i -le 200 ]; do
		printf '{"id":%d,"name":"item %d","price":%d.99,"ok":true,"tags":["a","b"]}\n' $i $i $i > www/$i.json
		i=$((i + 1))
	done
	chmod -R a+rX www
	nport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat > nginx.conf <<NGX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 1000000;
	server { listen 127.0.0.1:$nport; root $work/www; }
}
NGX
	nginx -c "$work/nginx.conf" -p "$work" &
	ngx=$!
	trap 'kill $mock $mock2 $ngx 2>/dev/null; rm -rf "$work"' EXIT INT TERM
	i=0
	while ! curl -sf "http://127.0.0.1:$nport/1.json" > /dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	nng=${BENCH_NGINX_REQUESTS:-20000}
	awk -v n="$nng" -v b="http://127.0.0.1:$nport" 'BEGIN { for (i = 0; i < n; i++) printf "%s/%d.json\n", b, i % 200 + 1 }' > nurls
	sed 's/.*/url = "&"/' nurls > ncurl.cfg
	echo
	echo "HTTP: nginx serving 200 small JSON files (median of $runs, pair by pair)"
	rpair "fetch-page -j 16 (nginx)" "wrk -t1 -c16 (nginx)" \
		wrk "http://127.0.0.1:$nport/1.json" "$nng" "fetch-page -j 16 < nurls"
	rpair "fetch-page -j 16 (nginx)" "curl --parallel-max 16 (nginx)" \
		"$nng" "curl -s --parallel --parallel-max 16 -K ncurl.cfg" "$nng" "fetch-page -j 16 < nurls"
	kill $ngx 2>/dev/null
fi
awk -F'|' '{ k = $1 "|" $2; rate[k] = $3; p[k] = $4; lo[k] = $5; hi[k] = $6 }
	function row(what, ref, want,    k) {
		k = what "|" ref
		if (!(k in p))
			return
		printf "%s\t%.0f req/s\t%s\t%.2fx [%.2f-%.2f]\t>= %.1fx\t%s\t-\n", what, rate[k], ref, p[k], lo[k], hi[k], want, ((p[k] >= want) ? "holds" : "MISSES")
	}
	END {
		row("fetch-page -j 16", "curl --parallel --parallel-max 16", 1.0)
		row("fetch-page -j 1", "curl (sequential, keep-alive)", 1.0)
		row("fetch-page -j 16 (nginx)", "wrk -t1 -c16 (nginx)", 0.7)
		row("fetch-page -j 16 (nginx)", "curl --parallel-max 16 (nginx)", 1.2)
	}' "$work/rates" >> "$work/report"

# --- paginate: 200 pages at 10 ms of server latency -----------------------------
# The floor is pages x latency; a sequential crawl should add little to it,
# and fetching ahead should divide it.
"$APIPE_TESTBIN/mock-api" --port-file port2 --records 2000 &
mock2=$!
i=0
while [ ! -s port2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
base2="http://127.0.0.1:$(cat port2)"

# tmeasure NAME COMMAND: seconds of sh -c COMMAND, the median of RUNS runs
tmeasure() {
	: > "$work/q"
	k=0
	while [ $k -lt "$runs" ]; do
		t0=$(date +%s.%N)
		sh -c "$2" > /dev/null 2>&1
		t1=$(date +%s.%N)
		awk -v s="$t0" -v e="$t1" 'BEGIN { print e - s }' >> "$work/q"
		k=$((k + 1))
	done
	stats "$work/q"
	qm=$med qmin=$lo qmax=$hi
	printf '%-44s %10.3f s (%.3f-%.3f)\n' "$1" "$qm" "$qmin" "$qmax"
	echo "$1|$qm" >> "$work/times"
}

echo
echo "paginate: 200 pages of 10 records, 10 ms server latency each (median of $runs)"
: > "$work/times"
tmeasure "paginate cursor (floor 2.000 s)" "paginate '$base2/cursor?limit=10&latency_ms=10'"
# the same 200 requests from one curl (keep-alive): what the server's latency really costs
awk -v b="$base2" 'BEGIN { for (i = 0; i < 200; i++) printf "url = \"%s/cursor?limit=10&latency_ms=10\"\n", b }' > cursor.cfg
tmeasure "curl, the same 200 requests in a row" "curl -s -K cursor.cfg"
tmeasure "paginate offset -j 1" "paginate --style offset --limit 10 -j 1 '$base2/items?latency_ms=10'"
tmeasure "paginate offset -j 8" "paginate --style offset --limit 10 -j 8 '$base2/items?latency_ms=10'"
awk -F'|' '{ t[$1] = $2 }
	END {
		c = t["paginate cursor (floor 2.000 s)"] / 2.0
		j = t["paginate offset -j 1"] / t["paginate offset -j 8"]
		printf "paginate (cursor)\t%.3f s\t200 pages x 10 ms\t%.3fx\t<= 1.05x\t%s\t-\n", t["paginate cursor (floor 2.000 s)"], c, ((c <= 1.05) ? "holds" : "MISSES")
		k = t["paginate cursor (floor 2.000 s)"] / t["curl, the same 200 requests in a row"]
		printf "paginate (cursor)\t%.3f s\tcurl, 200 requests in a row\t%.3fx\t-\t-\t-\n", t["paginate cursor (floor 2.000 s)"], k
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
echo "paginate fan-out: 200 listings x 3 pages, 20 ms server latency each (median of $runs)"
: > "$work/fan"
for j in 1 8; do
	: > "$work/q"
	k=0
	while [ $k -lt "$runs" ]; do
		t0=$(date +%s.%N)
		paginate -q -j $j < parents.jsonl > fan.out
		t1=$(date +%s.%N)
		awk -v s="$t0" -v e="$t1" 'BEGIN { print e - s }' >> "$work/q"
		[ "$(wc -l < fan.out)" -eq 600 ] || { echo "bench: paginate -j $j wrote $(wc -l < fan.out) of 600 pages" >&2; exit 1; }
		k=$((k + 1))
	done
	stats "$work/q"
	qm=$med qmin=$lo qmax=$hi
	printf '%-44s %10.3f s (%.3f-%.3f)\n' "paginate -j $j (200 listings)" "$qm" "$qmin" "$qmax"
	echo "$j|$qm" >> "$work/fan"
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
	pgmb=$(size pg.jsonl)
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
	# every run starts from empty tables, the reference and the tool alike
	cat > pgref.sql <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS ref;
CREATE UNLOGGED TABLE IF NOT EXISTS staging (line text);
TRUNCATE staging;
\\copy staging (line) from '$work/pg.jsonl' with (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TABLE IF NOT EXISTS ref (id text PRIMARY KEY, record jsonb NOT NULL, ingested_at timestamptz NOT NULL);
INSERT INTO ref SELECT line::jsonb->>'id', line::jsonb, now() FROM staging
  ON CONFLICT (id) DO UPDATE SET record = excluded.record, ingested_at = excluded.ingested_at;
SQL
	measure "psql \\copy + INSERT ON CONFLICT" "$pgmb" "psql -X -q '$PG' -f pgref.sql"
	drop="psql -X -q '$PG' -c 'SET client_min_messages = warning; DROP TABLE IF EXISTS items, w1, w2, w4'"
	measure "upsert (PostgreSQL)" "$pgmb" "$drop && upsert --db '$PG' --table items --key /id < pg.jsonl"
	for w in 1 2 4; do
		split -n "l/$w" -d pg.jsonl "part$w."
		measure "upsert (PostgreSQL, $w writers)" "$pgmb" \
			"$drop && for f in part$w.*; do upsert --db '$PG' --table w$w --key /id < \$f & done; wait"
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
echo "apipe bench report: $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m)," \
	"$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(jq --version 2>/dev/null)," \
	"medians of $runs runs; a ratio [min-max] is taken pair by pair"
awk -F'\t' '
	BEGIN { printf "%-34s %-14s %-32s %-20s %9s %-7s %s\n", "figure", "measured", "reference", "ratio", "target", "", "max RSS" }
	{ printf "%-34s %-14s %-32s %-20s %9s %-7s %s\n", $1, $2, $3, $4, $5, $6, $7 }' "$work/report"
