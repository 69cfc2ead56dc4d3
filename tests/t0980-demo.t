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
done_testing
