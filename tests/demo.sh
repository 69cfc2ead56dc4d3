#!/bin/bash
# make demo: a real pipeline over archived API pages (tests/fixtures/demo).
# The HTTP side (fetch-page, paginate, the mock API) is not built yet; until
# it is, the demo starts from pages as paginate writes them.
set -euo pipefail
: "${APIPE_BIN:?run through make demo}"
PATH="$APIPE_BIN:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/apipe-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
pages="$work/pages.jsonl"
"$APIPE_TESTBIN/genrecords" -n 2500 -p 100 > "$pages"
# two pages arrive twice (a retried crawl), one page is not JSON
sed -n '3p;7p' "$pages" >> "$pages"
echo '{"url":"http://127.0.0.1/items?page=26","status":200,"body":{"data":[{"id":' >> "$pages"

echo "== pipeline: records | dedupe | watermark track"
echo "   records --dead-letter bad.jsonl < pages.jsonl \\"
echo "     | dedupe --key /id --seen state/ids.seen \\"
echo "     | watermark track --state state --name items --field /updated_at > items.jsonl"
since=$(watermark get --state "$work/state" --name items --default 1970-01-01T00:00:00Z)
records --dead-letter "$work/bad.jsonl" --stats "$work/records.json" < "$pages" \
	| dedupe --key /id --seen "$work/state/ids.seen" --stats "$work/dedupe.json" \
	| watermark track --state "$work/state" --name items --field /updated_at > "$work/items.jsonl"
watermark commit --state "$work/state" --name items
printf '   pages read:         %s\n' "$(jq .pages "$work/records.json")"
printf '   records:            %s\n' "$(jq .records "$work/records.json")"
printf '   dead-lettered:      %s (see bad.jsonl: line %s)\n' \
	"$(jq .dead_lettered "$work/records.json")" "$(jq .line "$work/bad.jsonl")"
printf '   duplicates dropped: %s\n' "$(jq .duplicates "$work/dedupe.json")"
printf '   records landed:     %s\n' "$(wc -l < "$work/items.jsonl" | tr -d ' ')"
printf '   watermark was:      %s\n' "$since"
printf '   watermark now:      %s\n' "$(watermark get --state "$work/state" --name items)"

echo "== second run over the same pages: nothing new passes"
records --dead-letter "$work/bad2.jsonl" < "$pages" \
	| dedupe --key /id --seen "$work/state/ids.seen" \
	| watermark track --state "$work/state" --name items --field /updated_at | wc -l \
	| sed 's/^ */   records landed:     /'
echo "== next query would ask for updated_after=$(watermark get --state "$work/state" --name items --lookback 10m)"
