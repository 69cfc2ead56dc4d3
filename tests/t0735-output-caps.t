#!/bin/sh
# Every program's output is valid JSON Lines under every --max-line value,
# or the program fails with a clear error: no line is ever cut short, no
# output file (stdout, --stats, dead letters, checkpoints, state, the
# archive's manifest and segments) holds a broken line, and a run that
# exits 0 under a cap wrote exactly what it writes without one.
#
# Each program runs once per value from 1 to a little past the longest line
# it reads or writes; tests/bin/jsonl-verdict.py (Python's own JSON parser,
# not the project's) then judges every run.
. "$APIPE_TOP/tests/lib.sh"

start_mock m --records 7
M=$BASE
fetch-page "$M/items?limit=3" "$M/items?offset=3&limit=3" > env.jsonl
records < env.jsonl > recs.jsonl
printf '%s\n' '{"a":1}' 'not json' '{"b":[1,2,3],"c":"\u00e9t\u00e9"}' > mixed.jsonl
printf '\377\376\n' >> mixed.jsonl
cat > schema.json <<'EOF'
{"type":"object","required":["id"],"properties":{"id":{"type":"integer","maximum":4},"amount":{"type":"number"},"name":{"type":"string","maxLength":20}}}
EOF
schema infer < recs.jsonl > base.json

# sweep NAME TOP CMD…: run CMD, with its word CAP replaced by --max-line n,
# for n in 1..TOP in runs/NAME.n/ (the working directory; stdout in out,
# stderr in err, status in rc), and with CAP dropped in runs/NAME.full/.
# CMD's files named by relative paths land there; stdin is $STDIN.
sweep() {
	_name=$1 _top=$2
	shift 2
	_one "$_name.full" "" "$@"
	for _n in $(caps "runs/$_name.full" "$_top"); do
		_one "$_name.$_n" "$_n" "$@"
	done
}
# caps DIR TOP: the values worth a run: 1 to 16, every line length (in bytes,
# newline included) the uncapped run in DIR read or wrote and two either side
# of it, and every 29th value, up to TOP.
caps() {
	{
		seq 1 16
		seq 17 29 "$2"
		find "$1" -type f ! -name '*.gz' ! -name '*.sqlite' ! -name rc ! -name err |
			xargs cat ${STDIN:+"$STDIN"} | awk '{ n = length($0) + 1; for (i = n - 2; i <= n + 2; i++) print i }'
	} | awk -v top="$2" '$1 >= 1 && $1 <= top' | sort -nu
}
_one() {
	_d="runs/$1" _cap=$2
	shift 2
	for _a in "$@"; do
		shift
		if [ "$_a" != CAP ]; then
			set -- "$@" "$_a"
		elif [ -n "$_cap" ]; then
			set -- "$@" --max-line "$_cap"
		fi
	done
	mkdir -p "$_d"
	(cd "$_d" && { "$@" > out 2> err < "${STDIN:-/dev/null}"; echo $? > rc; })
}

# The longest line any of these reads or writes is under 1,200 bytes (an
# envelope of three records); each sweep goes a little past its own longest.
STDIN=$TESTDIR/env.jsonl sweep records 1100 records CAP --stats st --dead-letter dl
STDIN=$TESTDIR/mixed.jsonl sweep records-bad 120 records CAP --stats st --dead-letter dl
STDIN=$TESTDIR/recs.jsonl sweep dedupe 400 dedupe CAP --key /id --stats st
STDIN=$TESTDIR/recs.jsonl sweep dedupe-latest 400 dedupe CAP --key /owner/login --latest --order-field /updated_at --stats st
STDIN=$TESTDIR/recs.jsonl sweep validate 600 validate CAP --schema "$TESTDIR/schema.json" --dead-letter dl --stats st
STDIN=$TESTDIR/recs.jsonl sweep watermark 400 watermark track CAP --state wm --name x --order-field /updated_at \
	--commit-on-eof --stats st
STDIN=$TESTDIR/recs.jsonl sweep schema-infer 400 schema infer CAP --stats st
STDIN=$TESTDIR/recs.jsonl sweep schema-diff 400 schema diff CAP --stats st --report rep --tee --fail-on none "$TESTDIR/base.json"
STDIN=$TESTDIR/env.jsonl sweep store-raw 1100 store-raw CAP --stats st arc
STDIN=$TESTDIR/recs.jsonl sweep upsert 400 upsert CAP --db db.sqlite --table t --key /id --stats st
sweep fetch-page 1300 fetch-page CAP --stats st "$M/items?limit=3" "$M/items/2"
sweep paginate 1300 paginate CAP --stats st --checkpoint cp "$M/items?limit=3"
sweep paginate-state 1300 paginate CAP --stats st --state s "$M/items?limit=3"
stop_mocks

# the archive's segments are gzip: judge what they hold
for d in runs/store-raw.*; do
	for s in "$d"/arc/seg-*.jsonl.gz; do
		[ -f "$s" ] && gzip -dc "$s" > "${s%.gz}.plain"
	done
done
# upsert's table, as JSON Lines, to compare with the uncapped run
for d in runs/upsert.*; do
	[ -f "$d/db.sqlite" ] && sqlite3 "$d/db.sqlite" "SELECT key, doc FROM t ORDER BY key" > "$d/table" 2>/dev/null
done

python3 "$APIPE_TOP/tests/bin/jsonl-verdict.py" runs > verdicts
for name in records records-bad dedupe dedupe-latest validate watermark schema-infer schema-diff \
	store-raw upsert fetch-page paginate paginate-state; do
	is "$(grep -c "^bad $name\\." verdicts)" 0 "$name: every output line is valid JSON, each run exits 0 with the uncapped output or fails saying why"
	grep "^bad $name\\." verdicts | head -3 | while read -r l; do diag "$l"; done
	# both outcomes happen: the cap bites, and the sweep reaches values that fit
	ok "$([ "$(grep -c "^ok $name\\.[0-9]" verdicts)" -gt 0 ] && [ "$(grep -c "^fail $name\\." verdicts)" -gt 0 ]; echo $?)" \
		"$name: some caps fail the run, larger ones let it through whole"
done
# A failing run must name the limit: every failure's message says which
for name in records dedupe validate watermark store-raw fetch-page paginate; do
	is "$(grep "^fail $name\\." verdicts | grep -vc 'max-line\|max-body')" 0 \
		"$name: every failure under a cap names --max-line or --max-body"
done
done_testing
