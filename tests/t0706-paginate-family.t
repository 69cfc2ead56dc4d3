#!/bin/sh
# paginate's auto mode against a generated family of listings
# (tests/bin/family-server.py): for every seed, where the next-page signal
# sits, its name, absolute or relative URLs, tokens, page numbers, totals,
# continuation flags in either sense and page-size parameters are drawn at
# random.  Every seed must end in exactly the dataset, or in a non-zero
# exit: never 0 with fewer records, never a record twice.  Auto mode must
# also succeed on most seeds, so failing safe cannot pass by itself.
. "$APIPE_TOP/tests/lib.sh"

SEEDS=${APIPE_FAMILY_SEEDS:-200}
python3 "$APIPE_TOP/tests/bin/family-server.py" --port-file fam.port &
mock_pids="$mock_pids $!"
F="http://127.0.0.1:$(wait_port fam.port)"

good=0
seed=1
while [ $seed -le $SEEDS ]; do
	curl -sf "$F/f/$seed/meta" > meta || { ok 1 "seed $seed: the family server answers"; break; }
	start=$(jq -r .start meta)
	n=$(jq -r .n meta)
	rc=0
	paginate -q --max-pages 5000 "$F$start" > out 2> err || rc=$?
	if [ "$rc" -eq 0 ]; then
		records < out | jq -r .id > got
		seq 1 "$n" > want
		if sort -n got | cmp -s - want && [ "$(wc -l < got)" -eq "$n" ]; then
			good=$((good + 1))
			ok 0 "seed $seed: exactly the $n records"
		else
			ok 1 "seed $seed: exit 0 but not exactly the $n records"
			diag "$(jq -c .shape meta)" "got $(wc -l < got) records, $(sort -n got | uniq -d | wc -l) twice"
		fi
	else
		is "$rc" 65 "seed $seed: not followed, and says so with 65 rather than exit 0"
		[ "$rc" -eq 65 ] || diag "$(jq -c .shape meta)"
	fi
	seed=$((seed + 1))
done
ok $(( good * 10 >= SEEDS * 9 ? 0 : 1 )) "auto mode follows at least 90% of the seeds ($good of $SEEDS)"
done_testing
