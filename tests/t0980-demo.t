#!/bin/sh
# make demo runs: the sync, the incremental run and the replay agree.
. "$APIPE_TOP/tests/lib.sh"

run bash "$APIPE_TOP/examples/demo.sh"
is "$rc" 0 "the demo exits 0"
like out '^   rows in items.db:   5000$' "the first run lands every record"
like out '^   landed:             25 inserted, 0 updated, 5 unchanged$' \
	"the second run starts from the watermark (5 records of look-back) and lands the 25 new ones"
like out '^   rows in items.db:   5025$' "... 5025 rows in all"
like out '^   the rebuilt table holds the same records, byte for byte$' "the replay rebuilds the same table"
like out '^   pages:              51 \([0-9]+ requests' "51 pages"
is "$(cat out err | grep -c "demo-secret" || true)" 0 "the client secret appears nowhere in the output"

# Ctrl-C in the middle: the mock API stops and the work directory goes.
# (A background job starts with SIGINT ignored; python3 gives it back.)
mkdir tmp
TMPDIR=$PWD/tmp python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp("bash", ["bash", sys.argv[1]])' \
	"$APIPE_TOP/examples/demo.sh" > int.out 2>&1 &
demo=$!
i=0
while ! grep -q '^== first run' int.out && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT "$demo"
rc=0
wait "$demo" || rc=$?
is "$rc" 130 "Ctrl-C stops the demo (exit 130)"
sleep 0.2
is "$(ls tmp | wc -l | tr -d ' ')" 0 "... its work directory is removed"
is "$(for p in $(pgrep -f mock-api); do readlink "/proc/$p/cwd"; done | grep -c "^$PWD/tmp/" || true)" 0 \
	"... and its mock API is gone"
done_testing
