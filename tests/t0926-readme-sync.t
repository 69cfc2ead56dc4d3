#!/bin/sh
# The README's incremental sync runs as printed (from the project's top,
# under bash): against the mock API it lands the dataset and commits the
# watermark; with a stage that fails it exits non-zero and the watermark
# stays where it was.
. "$APIPE_TOP/tests/lib.sh"

# the block: from its "set -euo pipefail" to its "watermark commit"
awk '/^    set -euo pipefail/ { on = 1 } on { print substr($0, 5) } on && /^    watermark commit/ { exit }' \
	"$APIPE_TOP/README.md" > sync.sh
like sync.sh '^watermark commit --state "\$STATE" --name items' "the README's sync block is found"

start_mock api --records 250
run sh -c "cd '$APIPE_TOP' && API='$BASE' STATE='$PWD/st' bash '$PWD/sync.sh'"
is "$rc" 0 "the README's sync exits 0"
is "$(sqlite3 st/items.db 'select count(*), count(distinct id) from items')" "250|250" \
	"... every record landed once"
w=$(watermark get --state st --name items)
ok "$([ -n "$w" ]; echo $?)" "... and the watermark is committed ($w)"

# a failing stage: upsert cannot open its database
rm -f st/items.db
mkdir st/items.db
run sh -c "cd '$APIPE_TOP' && API='$BASE' STATE='$PWD/st' bash '$PWD/sync.sh'"
ok "$([ "$rc" -ne 0 ]; echo $?)" "a failing stage fails the README's sync (exit $rc), under pipefail"
is "$(watermark get --state st --name items)" "$w" "... and the watermark stays"
done_testing
