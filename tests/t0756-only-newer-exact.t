#!/bin/sh
# upsert --only-newer orders versions exactly in both databases, on the
# path where two writers race to insert the same new keys: versions 1 ns
# apart, a leap second against the second before it and the midnight
# after it, the same instant under other offsets, year 0000.  Every key
# ends on its newest version.
. "$APIPE_TOP/tests/lib.sh"
trap 'pg_stop; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

# pairs: older newer
cat > pairs <<'P'
2026-01-01T00:00:00.000000001Z 2026-01-01T00:00:00.000000002Z
2016-12-31T23:59:59.999999999Z 2016-12-31T23:59:60Z
2016-12-31T23:59:60.5Z 2017-01-01T00:00:00Z
2026-01-01T01:00:00.5+01:00 2026-01-01T00:00:00.6Z
2025-12-31T19:00:00.000000007-05:00 2026-01-01T00:00:00.000000008Z
0000-01-01T00:00:00Z 0000-01-01T00:00:00.000000001Z
9999-12-31T23:59:59.999999998Z 9999-12-31T23:59:59.999999999Z
P
N=2100
awk -v n=$N 'NR == FNR { o[NR - 1] = $1; w[NR - 1] = $2; k = NR; next } END {
	for (i = 1; i <= n; i++) {
		j = i % k
		printf "{\"id\":%d,\"updated_at\":\"%s\",\"v\":\"old\"}\n", i, o[j] > "old.jsonl"
		printf "{\"id\":%d,\"updated_at\":\"%s\",\"v\":\"new\"}\n", i, w[j] > "new.jsonl"
	}
}' pairs /dev/null

backends=sqlite
pg_start && backends="sqlite pg"
# newdb NAME: a database of that name for the backend at hand
newdb() {
	[ "$B" = sqlite ] || psql -X -q "$(url postgres)" -c "CREATE DATABASE \"$1\"" > /dev/null
}
for B in $backends; do
	bad=0
	for round in 1 2 3; do
		newdb "r$round"
		db=$(url "r$round")
		upsert --db "$db" --table t --key /id --only-newer --order-field /updated_at < old.jsonl &
		a=$!
		upsert --db "$db" --table t --key /id --only-newer --order-field /updated_at < new.jsonl &
		b=$!
		wait $a; ra=$?
		wait $b; rb=$?
		[ "$ra$rb" = 00 ] || { bad=$((bad + 1)); diag "$B round $round: writers exited $ra $rb"; }
		n=$(q "r$round" "select count(*) from t where CAST(record AS text) like '%\"v\":\"new\"%' or CAST(record AS text) like '%\"v\": \"new\"%'")
		[ "$n" = "$N" ] || { bad=$((bad + 1)); diag "$B round $round: $n of $N keys on their newest version"; }
	done
	is "$bad" 0 "$B: two racing writers, versions 1 ns apart, leap seconds, offsets, year 0000: every key ends on its newest"
	# and in turn: the newest first, then the older, which changes nothing
	newdb seq
	db=$(url seq)
	upsert --db "$db" --table t --key /id --only-newer --order-field /updated_at < new.jsonl
	upsert --db "$db" --table t --key /id --only-newer --order-field /updated_at < old.jsonl
	is "$(q seq "select count(*) from t where CAST(record AS text) like '%\"new\"%'")" "$N" \
		"$B: an older version after the newest changes nothing"
done
if [ "$backends" = "sqlite pg" ]; then
	B=pg
	long=$(printf 'c%.0s' $(seq 70))
	echo '{"id":1,"x":1}' > one.jsonl
	run upsert --db "$(url postgres)" --table t2 --key /id --column "$long=/x" < one.jsonl
	is "$rc" 64 "PostgreSQL: a column name over 63 bytes is refused, not cut"
	like err "cuts names past 63" "... saying why"
fi
done_testing
