#!/bin/sh
# store-raw: archive and replay byte for byte, manifest counts, crash
# recovery after kill -9, corruption, a full disk, credentials.
. "$APIPE_TOP/tests/lib.sh"

G="$APIPE_TESTBIN/genrecords"
# envelope LINE URL FETCHED_AT STATUS [EXTRA]: one small envelope
envelope() {
	printf '{"url":"%s","method":"GET","status":%s,"headers":{"content-type":"application/json"%s},"fetched_at":"%s","elapsed_ms":1,"attempts":1,"body":{"data":[{"id":"%s"}]}}\n' \
		"$1" "$3" "${4:-}" "$2" "$1"
}
sumf() { jq -s "map(.$1) | add" "$2"; }

# --- round trip: 100,000 envelopes ------------------------------------------------
"$G" -n 100000 -p 1 > big.jsonl
run store-raw --segment-size 4M --stats st a1 < big.jsonl
is "$rc" 0 "archiving 100,000 envelopes exits 0"
is_file out big.jsonl "stdout is the input, byte for byte"
store-raw --replay a1 > replay.jsonl
is_file replay.jsonl big.jsonl "replay gives back every envelope, byte for byte"
for f in a1/seg-*.jsonl.gz; do zcat "$f"; done > zcat.jsonl
is_file zcat.jsonl big.jsonl "the segments are plain gzip that zcat reads"
nseg=$(ls a1/seg-*.jsonl.gz | wc -l)
is "$(wc -l < a1/manifest.jsonl)" "$nseg" "one manifest line per segment ($nseg)"
is "$([ "$nseg" -gt 5 ] && echo rotated)" rotated "--segment-size rotated the segments"
is "$(sumf lines a1/manifest.jsonl)/$(sumf pages a1/manifest.jsonl)" "100000/100000" "manifest: lines and pages add up"
is "$(sumf uncompressed_bytes a1/manifest.jsonl)" "$(wc -c < big.jsonl)" "manifest: uncompressed bytes add up"
is "$(jq -s 'map(.status["200"]) | add' a1/manifest.jsonl)" 100000 "manifest: status counts"
bad=0
while read -r l; do
	f=$(echo "$l" | jq -r .file)
	[ "$(sha256sum "a1/$f" | cut -d' ' -f1)" = "$(echo "$l" | jq -r .sha256)" ] || bad=1
	[ "$(wc -c < "a1/$f")" = "$(echo "$l" | jq -r .bytes)" ] || bad=1
done < a1/manifest.jsonl
is "$bad" 0 "manifest: sha256 and size of every segment are right"
is "$(head -1 a1/manifest.jsonl | jq -c '[.endpoints, .first_fetched_at <= .last_fetched_at]')" \
	'[["http://127.0.0.1/items"],true]' "manifest: endpoints without query, time range"
is "$(jq -r '[.lines, .segments] | @tsv' st)" "100000	$nseg" "--stats: lines and segments"
ls a1 | grep -c '\.tmp' > tmpcount || true
is "$(cat tmpcount)" 0 "no temporary file left behind"

run store-raw --segment-lines 300 a2 < big.jsonl
is "$(jq -s 'map(.lines) | max' a2/manifest.jsonl)/$(wc -l < a2/manifest.jsonl)" "300/334" \
	"--segment-lines 300: 334 segments of at most 300 lines"

# --- append, locks -------------------------------------------------------------------
head -1000 big.jsonl > first.jsonl
sed -n '1001,1500p' big.jsonl > second.jsonl
store-raw a3 < first.jsonl > /dev/null
run store-raw a3 < second.jsonl
is "$rc" 73 "an existing archive without --append: exit 73"
like err 'already holds an archive; use --append' "with a clear message"
run store-raw --append a3 < second.jsonl
is "$rc" 0 "--append continues it"
store-raw --replay a3 > got
head -1500 big.jsonl > want
is_file got want "replay: both runs, in order"
is "$(jq -r .file a3/manifest.jsonl | sed 's/.*-\([0-9]*\)\.jsonl\.gz/\1/' | tr '\n' ' ')" "000001 000002 " \
	"segment numbers continue"
flock a3/archive.lock sleep 5 &
wait_locked a3/archive.lock
run store-raw --append a3 < second.jsonl
is "$rc" 75 "a second writer is refused: exit 75"
like err 'another store-raw is writing to this archive' "naming the reason"
wait

# --- credentials -------------------------------------------------------------------------
{
	envelope "https://api.example.com/a" 2026-11-23T10:00:00Z 200
	envelope "https://api.example.com/b" 2026-11-23T10:00:01Z 200 ',"authorization":"Bearer live-token-1"'
	envelope "https://api.example.com/c" 2026-11-23T10:00:02Z 200
} > cred.jsonl
run store-raw a4 < cred.jsonl
is "$rc" 65 "an envelope carrying a credential is refused: exit 65"
like err '^store-raw: line 2: /headers/authorization: the envelope still carries a credential' "naming the line and the pointer"
is "$(store-raw --replay a4 | jq -r .url)" "https://api.example.com/a" "what came before is archived"
# the credential right after a full 1 MiB chunk: the segment so far is still listed
awk 'BEGIN { for (i = 0; i < 1024; i++) {
		l = sprintf("{\"url\":\"https://api.example.com/%04d\",\"status\":200,\"pad\":\"", i)
		while (length(l) < 1021) l = l "x"
		print l "\"}" } }' > chunk.jsonl
is "$(wc -c < chunk.jsonl)" 1048576 "1024 lines of exactly 1 KiB"
envelope "https://api.example.com/z" 2026-11-23T10:00:01Z 200 ',"cookie":"sid=live-cookie-1"' >> chunk.jsonl
run store-raw ac < chunk.jsonl
is "$rc" 65 "a credential after a full chunk: exit 65"
is "$(store-raw --replay ac | wc -l)" 1024 "the 1024 lines before it are archived"
run store-raw --redact a5 < cred.jsonl
is "$rc" 0 "--redact archives it"
is_file out cred.jsonl "stdout is still unchanged"
like err 'archived as REDACTED' "with a warning"
is "$(store-raw --replay a5 | grep -c live-token-1)" 0 "the archive does not hold the secret"
is "$(store-raw --replay a5 | sed -n 2p | jq -r .headers.authorization)" REDACTED "the value is masked"
envelope "https://api.example.com/d" 2026-11-23T10:00:00Z 200 ',"set-cookie":"REDACTED"' > masked.jsonl
run store-raw a6 < masked.jsonl
is "$rc" 0 "an already redacted header passes"

# --- replay filters -------------------------------------------------------------------
{
	envelope "https://api.example.com/users?page=1" 2026-11-20T10:00:00Z 200
	envelope "https://api.example.com/orders?page=1" 2026-11-21T10:00:00Z 200
	envelope "https://api.example.com/users?page=1" 2026-11-22T10:00:00+02:00 200
	envelope "https://api.example.com/users?page=2" 2026-11-22T09:00:00Z 503
} > f.jsonl
store-raw --segment-lines 2 a7 < f.jsonl > /dev/null
is "$(store-raw --replay --endpoint https://api.example.com/users a7 | jq -r .fetched_at | tr '\n' ' ')" \
	"2026-11-20T10:00:00Z 2026-11-22T10:00:00+02:00 2026-11-22T09:00:00Z " "--endpoint keeps one endpoint"
is "$(store-raw --replay --since 2026-11-21T00:00:00Z --until 2026-11-22T08:30:00Z a7 | jq -r .fetched_at | tr '\n' ' ')" \
	"2026-11-21T10:00:00Z 2026-11-22T10:00:00+02:00 " "--since/--until compare UTC instants"
is "$(store-raw --replay --latest a7 | jq -r '.url + " " + .fetched_at' | tr '\n' '|')" \
	"https://api.example.com/orders?page=1 2026-11-21T10:00:00Z|https://api.example.com/users?page=1 2026-11-22T10:00:00+02:00|https://api.example.com/users?page=2 2026-11-22T09:00:00Z|" \
	"--latest keeps the newest copy of each page, in archive order"

# --- --list ------------------------------------------------------------------------------
run store-raw --list a7
is "$(sed -n 1p out | awk '{print $1, $2, $3}')" "segment lines pages" "--list prints a header"
is "$(tail -1 out | awk '{print $1, $2, $3}')" "total 4 4" "and a total"
run store-raw --list --json a7
is_file out a7/manifest.jsonl "--list --json prints the manifest lines"

# --- corruption ------------------------------------------------------------------------
cp -R a3 c1
seg=$(ls c1/seg-*.gz | head -1)
flip_byte "$seg" 100
run store-raw --replay c1
is "$rc" 65 "a flipped byte: exit 65"
like err "^store-raw: $seg: corrupt: its SHA-256 does not match the manifest" "naming the file"
run store-raw --replay --keep-going c1
is "$rc" 65 "--keep-going still exits 65"
is_file out second.jsonl "and replays the other segments"
cp -R a3 c2
seg=$(ls c2/seg-*.gz | head -1)
head -c 5000 "$seg" > t && mv t "$seg"
run store-raw --replay c2
is "$rc" 65 "a truncated segment: exit 65"
run store-raw --replay --no-verify c2
is "$rc" 65 "a truncated segment without --verify: exit 65"
like err "$seg: truncated" "the gzip reader notices"
cp -R a3 c3
rm "$(ls c3/seg-*.gz | head -1)"
run store-raw --replay c3
is "$rc" 66 "a missing segment: exit 66"
like err 'missing \(listed in the manifest\)' "naming it"
cp -R a3 c4
head -c $(( $(head -1 c4/manifest.jsonl | wc -c) + 40 )) a3/manifest.jsonl > c4/manifest.jsonl
run store-raw --replay c4
is "$rc" 65 "a manifest torn mid-line: exit 65"
like err 'manifest.jsonl: line 2 is incomplete' "naming the line"
run store-raw --append c4 < /dev/null
is "$rc" 0 "--append repairs it"
like err 'recovered: manifest.jsonl: line 2 was torn' "saying so"
like err 'complete but not listed; listed now \(500 lines\)' "and lists the complete segment again"
store-raw --replay c4 > got
is_file got want "nothing was lost"
run store-raw --replay nonexistent
is "$rc" 66 "no archive: exit 66"

# --- a leftover temporary segment -------------------------------------------------------------
mkdir c5
head -c 30000 "$(ls a1/seg-*.gz | head -1)" > c5/seg-20260101T000000Z-000001.jsonl.gz.tmp
run store-raw --append c5 < /dev/null
is "$rc" 0 "a leftover temporary segment is recovered"
like err 'left over by an interrupted run; its [0-9]+ complete lines are now seg-' "saying how many lines"
n=$(store-raw --replay c5 | wc -l)
store-raw --replay c5 > got
head -n "$n" big.jsonl > want5
is "$([ "$n" -gt 0 ] && cmp -s got want5 && echo prefix)" prefix "its complete lines are a prefix of the input ($n)"
printf 'garbage' > c5/seg-20260101T000000Z-000009.jsonl.gz.tmp
run store-raw --append c5 < /dev/null
like err 'moved to quarantine/' "what cannot be read goes to quarantine"
is "$(ls c5/quarantine)" "seg-20260101T000000Z-000009.jsonl.gz.tmp" "there it is"

# --- kill -9 at random moments -----------------------------------------------------------------
"$G" -n 200000 -p 1 > crash.jsonl
total=$(wc -l < crash.jsonl)
fails=0
i=1
while [ $i -le 20 ]; do
	rm -rf k
	store-raw --segment-size 1M k < crash.jsonl > /dev/null 2>&1 &
	pid=$!
	sleep "0.0$(( (i * 37) % 90 + 5 ))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	if [ -d k ]; then
		# before recovery, replay refuses an archive with an unrecovered segment or a
		# torn manifest line (what was passed on may be in it) rather than replay short
		rrc=0
		store-raw --replay k > got 2> rerr || rrc=$?
		[ "$rrc" -eq 0 ] || { [ "$rrc" -eq 65 ] && grep -Eq 'not yet recovered|incomplete|not in its manifest' rerr; } ||
			{ fails=$((fails + 1)); diag "run $i: replay exit $rrc: $(head -1 rerr)"; }
		n=$(wc -l < got)
		head -n "$n" crash.jsonl | cmp -s - got || { fails=$((fails + 1)); diag "run $i: not a prefix"; }
		store-raw --append k < /dev/null > /dev/null 2>&1 || { fails=$((fails + 1)); diag "run $i: recovery failed"; }
		n=$(store-raw --replay k | wc -l)
		tail -n "+$((n + 1))" crash.jsonl | store-raw --append k > /dev/null 2>&1 ||
			{ fails=$((fails + 1)); diag "run $i: append failed"; }
		store-raw --replay k | cmp -s - crash.jsonl ||
			{ fails=$((fails + 1)); diag "run $i: after the rerun the archive is not the input"; }
	fi
	i=$((i + 1))
done
is "$fails" 0 "20 kills: replay is a prefix or refuses until recovered, a rerun with --append completes it"

# --- a full disk ---------------------------------------------------------------------------------
# small segments fit under the file size limit; the last one, incompressible, does not
cp first.jsonl disk.jsonl
printf '{"url":"https://api.example.com/blob","status":200,"body_text":"%s"}\n' \
	"$(head -c 800000 /dev/urandom | base64 -w0)" >> disk.jsonl
rc=0
# the size limit on the archive only: what is passed on goes through a pipe
{ (trap '' XFSZ; ulimit -f 1000; exec store-raw --segment-size 100K full < disk.jsonl 2> err) ||
	echo $? > rc.file; } | cat > passed.jsonl
[ -s rc.file ] && rc=$(cat rc.file)
is "$rc" 74 "a full disk (file size limit): exit 74"
like err 'the manifest lists only complete segments, and no line passed on is lost' "with a clear message"
run store-raw --replay full
is "$rc" 0 "every listed segment verifies"
n=$(wc -l < out)
is "$([ "$n" -gt 0 ] && head -n "$n" disk.jsonl | cmp -s - out && echo prefix)" prefix \
	"what is listed is a prefix of the input ($n lines)"
store-raw --append full < /dev/null > /dev/null 2> recover.err
store-raw --replay full > after.jsonl
is "$(wc -l < passed.jsonl | tr -d ' '):$(head -n "$(wc -l < passed.jsonl)" after.jsonl | cmp -s - passed.jsonl && echo all)" \
	"$(wc -l < passed.jsonl | tr -d ' '):all" "after --append, every line passed on replays ($(wc -l < passed.jsonl | tr -d ' '))"
is "$(ls full | grep -c tmp)" 0 "no temporary segment is left"

# a real full disk (tmpfs) at several moments: every line passed on is replayed
# after the next --append, none twice
if mkdir -p disk && mount -t tmpfs -o size=600k tmpfs disk 2>/dev/null; then
	trap 'umount "$TESTDIR/disk" 2>/dev/null; for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT
	i=0
	while [ $i -lt 300 ]; do
		printf '{"url":"https://api.example.com/p?i=%d","status":200,"body_text":"%s"}\n' "$i" \
			"$(head -c 3000 /dev/urandom | base64 -w0)"
		i=$((i + 1))
	done > blobs.jsonl
	bad=0
	for size in 60K 110K 170K 260K; do
		rm -rf disk/a
		head -c "$size" /dev/zero > disk/filler 2>/dev/null
		rc=0
		store-raw --segment-size 64K disk/a < blobs.jsonl > passed.jsonl 2> err || rc=$?
		rm -f disk/filler
		store-raw --append disk/a < /dev/null > /dev/null 2>> recover.err || bad=$((bad + 1))
		store-raw --replay disk/a > after.jsonl 2>> recover.err || bad=$((bad + 1))
		# every line passed on is in the archive, once
		sort passed.jsonl > p.sorted
		sort after.jsonl > a.sorted
		[ "$(comm -23 p.sorted a.sorted | wc -l)" -eq 0 ] || { bad=$((bad + 1)); diag "$size: lines passed on and lost"; }
		[ "$(sort after.jsonl | uniq -d | wc -l)" -eq 0 ] || { bad=$((bad + 1)); diag "$size: a line archived twice"; }
		[ "$rc" -eq 0 ] || [ "$rc" -eq 74 ] || { bad=$((bad + 1)); diag "$size: exit $rc"; }
		diag "disk full after $size: exit $rc, $(wc -l < passed.jsonl) passed on, $(wc -l < after.jsonl) replayed"
	done
	is "$bad" 0 "a full tmpfs at four moments: every line passed on is replayed after --append, none twice"
	umount disk
else
	ok 0 "# SKIP a tmpfs cannot be mounted here (not root)"
fi

# --- a manifest that lost data: --replay (which verifies) refuses rather than replay short --------
printf '{"url":"http://h/%d","status":200}\n' 1 2 3 4 > four.jsonl
mk() { rm -rf m4; store-raw --segment-lines 1 m4 < four.jsonl > /dev/null; }
mk; run store-raw --replay m4
is "$rc:$(wc -l < out | tr -d ' ')" "0:4" "a whole archive replays its 4 lines"
mk; rm m4/manifest.jsonl; run store-raw --replay m4
is "$rc" 65 "the manifest deleted, segments on disk: exit 65, not 0 with nothing"
like err "not in its manifest" "... naming a segment it does not list"
run store-raw --no-verify --replay m4
is "$rc" 0 "--no-verify reads what the manifest lists (nothing)"
store-raw --append m4 < /dev/null > /dev/null 2>&1
run store-raw --replay m4
is "$rc:$(sort out | cmp -s - four.jsonl && echo same)" "0:same" "--append lists the segments again: every line replays"
mk; sed -i 2d m4/manifest.jsonl; run store-raw --replay m4
is "$rc" 65 "a manifest line removed: exit 65"
mk; sed -n 2p m4/manifest.jsonl >> m4/manifest.jsonl; run store-raw --replay m4
is "$rc" 65 "a manifest line duplicated: exit 65, not a segment replayed twice"
like err "lists seg-.* twice" "... saying so"
mk; printf '{"file":"seg-x' >> m4/manifest.jsonl; run store-raw --replay m4
is "$rc" 65 "a torn last manifest line: exit 65"
mk; mv "m4/$(ls m4 | grep -m1 'seg-')" "m4/$(ls m4 | grep -m1 'seg-').tmp"; run store-raw --replay m4
is "$rc" 65 "a segment left unrecovered: exit 65"
like err "not yet recovered" "... saying to run --append first"
mk; f=$(ls m4 | grep -m1 'seg-'); head -c 10 "m4/$f" > t.gz; mv t.gz "m4/$f"; run store-raw --replay m4
is "$rc" 65 "a truncated segment: exit 65 (its checksum)"
# a manifest line edited by hand, each member in turn.  Its size, line count
# and uncompressed size are checked on every verifying replay; the members
# that only filters read (times, endpoints, statuses, pages) when a filter
# has the lines parsed anyway (here --since, which selects every line)
printf '{"url":"http://h/a/%d?x=1","status":%d,"fetched_at":"2026-01-01T00:00:1%dZ"}\n' 1 200 1 2 404 2 3 200 3 > three.jsonl
for edit in 's/"lines":3/"lines":4/@/lines@' 's/"bytes":\([0-9]*\)/"bytes":1\1/@/bytes@' \
	's/"uncompressed_bytes":\([0-9]*\)/"uncompressed_bytes":1\1/@/uncompressed_bytes@' \
	's/"pages":3/"pages":2/@/pages@--since' \
	's/"first_fetched_at":"[^"]*"/"first_fetched_at":"2026-01-01T00:00:00Z"/@/first_fetched_at@--since' \
	's/"last_fetched_at":"[^"]*"/"last_fetched_at":"2026-01-01T00:00:14Z"/@/last_fetched_at@--since' \
	's#"http://h/a/2"#"http://h/a/9"#@/endpoints@--since' 's/"404":1/"404":0/@/status@--since'; do
	expr=${edit%%@*} rest=${edit#*@} member=${rest%@*} filter=${rest#*@}
	rm -rf m3; store-raw m3 < three.jsonl > /dev/null
	sed -i "$expr" m3/manifest.jsonl
	run store-raw --replay ${filter:+--since 2000-01-01T00:00:00Z} m3
	is "$rc" 65 "a manifest line with $member edited: exit 65${filter:+ (a filtered replay)}"
	like err "manifest line was edited: $member is " "... naming $member"
done
rm -rf m3; store-raw m3 < three.jsonl > /dev/null
run store-raw --replay m3
is "$rc:$(cmp -s out three.jsonl && echo same)" "0:same" "the unedited archive replays whole"
sed -i 's/"lines":3/"lines":4/' m3/manifest.jsonl
run store-raw --replay --no-verify m3
is "$rc:$(cmp -s out three.jsonl && echo same)" "0:same" "--no-verify does not read the manifest line against the segment"
run store-raw --verify m3
is "$rc" 64 "--verify without --replay: a usage error, not an archive run"

# --- usage -------------------------------------------------------------------------------------------
run store-raw
is "$rc" 64 "no directory: usage error"
run store-raw --latest x
is "$rc" 64 "--latest without --replay: usage error"
run store-raw --help
like out '^usage: store-raw ' "--help prints the usage"
# --- archive first, then pass on ------------------------------------------------
rm -rf first
(echo '{"url":"http://h/1","status":200}'; sleep 1; echo '{"url":"http://h/2","status":200}'; sleep 1
 echo '{"url":"http://h/3","status":200}') | store-raw first | head -1 > head.out
is "$(cat head.out)" '{"url":"http://h/1","status":200}' "store-raw | head -1: the reader gets the first page"
store-raw --replay first > first.replay 2>/dev/null
like first.replay '"url":"http://h/1"' "and the page it got is in the archive (archived before passed on)"
is "$(ls first | grep -c '\.tmp$')" 0 "no segment is left half written"
done_testing
