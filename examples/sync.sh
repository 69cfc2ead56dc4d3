#!/bin/bash
# examples/sync.sh: one incremental sync of an API listing into SQLite --
# the template of a cron job.
#
#   API=https://api.example.com STATE=/var/lib/apipe/items \
#       examples/sync.sh [paginate options: auth, retries, rate limits]
#
# UPSERT_OPTS adds options to upsert (split at spaces), such as
# "--delete-when /deleted --child /tags=item_tags" for an API that flags
# deleted records and whose records hold arrays worth a table.
#
# Every stage is an apipe filter.  The watermark is committed only when the
# whole pipeline succeeded, so a run that fails or is killed is simply run
# again: it starts from the same watermark, upsert lands each record once
# (the same record again is "unchanged"), and nothing is lost.  Every page
# is archived on the way, so a logic change can be replayed without the API
# (see examples/replay.sh).
set -euo pipefail
: "${API:?API: the base URL of the API}"
: "${STATE:?STATE: the directory for the watermark, the archive and the database}"
here=$(cd "$(dirname "$0")" && pwd)
schema=${SCHEMA:-$here/items.schema.json}
db=${DB:-$STATE/items.db}
mkdir -p "$STATE"
read -r -a more <<< "${UPSERT_OPTS:-}"

# Where the last complete run got to, less a margin for late writers.
since=$(watermark get --state "$STATE" --name items --lookback 5m --default 1970-01-01T00:00:00Z)

# Every page since then (keyset on the id) | archived | one record a line |
# checked against the schema (the rest to a dead letter) | once per id |
# the newest updated_at staged | landed by id, never older over newer.
# Past records and validate every line is checked JSON, so dedupe and
# watermark read each only as far as the members they need (--lazy).
paginate --style keyset --order-field /id --order-param since_id \
	--stats "$STATE/paginate.stats" "$@" "$API/keyset?limit=100&updated_after=$since" |
	store-raw --append "$STATE/archive" |
	records |
	validate --schema "$schema" --dead-letter "$STATE/invalid.jsonl" --stats "$STATE/validate.stats" |
	dedupe --lazy --key /id --latest --order-field /updated_at |
	watermark track --lazy --state "$STATE" --name items --order-field /updated_at |
	upsert --db "$db" --table items --key /id --only-newer --order-field /updated_at \
		--stats "$STATE/upsert.stats" "${more[@]}"

# Only now does the next run start later.
watermark commit --state "$STATE" --name items
