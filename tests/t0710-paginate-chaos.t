#!/bin/sh
# paginate under chaos: 30% injected faults (429 with Retry-After, 5xx,
# dropped connections, truncated bodies), an OAuth2 token that expires
# every half second, and kill -9 at seeded random points followed by a
# resume, 20 times per style.  The output file must end with every page
# exactly once, in order.
. "$APIPE_TOP/tests/lib.sh"

N=10000
seq 1 $N > all
export CHAOS_SECRET=s3cret-chaos
start_mock chaos --records $N --fault-rate 30 --seed 7 --auth oauth2 --client-id cid \
	--client-secret env:CHAOS_SECRET --token-ttl 0.5 --latency-ms 2
M=$BASE
P="paginate -q --retry 12 --retry-delay 0.01 --max-delay 0.05
	--oauth2-token-url $M/oauth/token --client-id cid --client-secret env:CHAOS_SECRET"

# sleeps: seeded, between 0.05 and 0.35 s
awk 'BEGIN { srand(20261123); for (i = 0; i < 200; i++) printf "%.3f\n", 0.05 + rand() * 0.3 }' > sleeps

# chaos NAME ARGS…: 20 killed runs, then one to the end, all to one file.
chaos() {
	name=$1
	shift
	rm -f ck ck.lock "$name.jsonl"
	k=0
	for s in $(sed -n "$((round0 + 1)),$((round0 + 20))p" sleeps); do
		$P --checkpoint ck -o "$name.jsonl" "$@" 2>>"$name.err" &
		pid=$!
		sleep "$s"
		kill -9 "$pid" 2>/dev/null && k=$((k + 1))
		wait "$pid" 2>/dev/null
	done
	round0=$((round0 + 20))
	rc=0
	$P --checkpoint ck -o "$name.jsonl" --stats "$name.st" "$@" 2>>"$name.err" || rc=$?
	is "$rc" 0 "$name: the run after $k kills completes"
	[ "$rc" = 0 ] || diag "stderr of the runs:" "$(tail -5 "$name.err")"
	records < "$name.jsonl" | jq -r .id | sort -n > got
	is_file got all "$name: every record exactly once after kill -9 and resume"
	np=$(wc -l < "$name.jsonl")
	is "$(jq -r .page "$name.jsonl" | tr '\n' ' ')" "$(seq 1 "$np" | tr '\n' ' ')" \
		"$name: pages 1 to $np, once each, in order"
	is "$(test -e ck && echo left || echo removed)" removed "$name: the checkpoint is gone at the end"
}

round0=0
chaos cursor --style cursor --cursor-path /next_cursor --cursor-param cursor "$M/cursor?limit=100"
chaos nested --cursor-path /pagination/next_cursor --cursor-param cursor --style cursor \
	"$M/nested?limit=100"
chaos next-url --style next-url --next-path /next "$M/next?limit=100"
chaos link --style link "$M/link?per_page=100"
chaos offset --style offset --limit 100 -j 4 "$M/items"
chaos page --style page --per-page 100 -j 4 "$M/pages"
chaos keyset --style keyset --order-field /id --order-param since_id "$M/keyset?limit=100"
chaos auto "$M/slack?limit=100"

# the faults really happened, and the token really expired
# (how many requests there are depends on how far each killed run got, so
# the faults are held to the share of the requests the mock was told to fail)
faults=$(grep -c '"fault":"[a-z0-9]' chaos.log)
requests=$(grep -c . chaos.log)
tokens=$(grep -c '"path":"/oauth/token"' chaos.log)
is "$([ "$faults" -gt 200 ] && [ $((faults * 100 / requests)) -ge 20 ] && echo many)" many \
	"hundreds of faults were injected ($faults of $requests requests)"
is "$([ "$tokens" -gt 20 ] && echo many)" many "tokens were fetched again and again ($tokens)"
# (LeakSanitizer's note that a thread was exiting while it looked is no error of ours)
cat ./*.err | grep -v '^==[0-9]*==Unable to get registers from thread' > all.err || true
is "$(grep -c . all.err || true)" 0 "no run printed an error"
[ -s all.err ] && diag "$(head -5 all.err)"

# To a pipe, the page in flight may be written again; page_key drops it.
rm -f ck ck.lock piped.jsonl
k=0
rcs=
for s in $(sed -n '161,170p' sleeps); do
	$P --checkpoint ck "$M/cursor?limit=100" >> piped.jsonl 2>/dev/null &
	pid=$!
	sleep "$s"
	kill -9 "$pid" 2>/dev/null && k=$((k + 1))
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	rcs="$rcs $rc"
	[ "$rc" = 0 ] && break	# finished before the kill: the crawl is whole
	# killed after the end (the checkpoint removed, the last page written:
	# the exit itself was cut short, as ASan's leak check makes likely):
	# the crawl is whole, and a next run would start a new one
	[ ! -e ck ] && tail -n 1 piped.jsonl | jq -e ".page == $((N / 100))" > /dev/null 2>&1 && break
done
[ -e ck ] && $P --checkpoint ck "$M/cursor?limit=100" >> piped.jsonl
# A killed run may leave a torn last line (SIGKILL can cut a large write),
# and the next run's first line then continues it: keep each line from its
# last '{"url":' on (every envelope starts so), and drop what is not JSON.
sed 's/.*\({"url":\)/\1/' piped.jsonl | jq -c -R 'fromjson? | select(.page_key)' > whole.jsonl
dups=$(jq -r .page_key whole.jsonl | sort | uniq -d | wc -l)
is "$([ "$dups" -le "$k" ] && echo ok)" ok "to a pipe, at most the page in flight is repeated per kill ($dups pages, $k kills)"
[ "$dups" -le "$k" ] || diag "repeated pages and keys:" \
	"$(jq -r '"\(.page_key) \(.page)"' whole.jsonl | sort | uniq -c | awk '$1 > 1' | head -20)" \
	"runs' exit statuses: $rcs"
jq -c -s 'unique_by(.page_key) | sort_by(.page) | .[]' whole.jsonl > dedup.jsonl
records < dedup.jsonl | jq -r .id | sort -n > got
is_file got all "dropping repeated page_keys leaves exactly the dataset"

done_testing
