#!/bin/bash
# examples/replay.sh: rebuild the table from the archive alone, without the
# API -- after a change to the schema, the key or the columns.
#
#   STATE=/var/lib/apipe/items DB=/tmp/rebuilt.db examples/replay.sh
#
# UPSERT_OPTS adds options to upsert, as for examples/sync.sh.
set -euo pipefail
: "${STATE:?STATE: the directory sync.sh wrote}"
: "${DB:?DB: the database to build}"
here=$(cd "$(dirname "$0")" && pwd)
schema=${SCHEMA:-$here/items.schema.json}
read -r -a more <<< "${UPSERT_OPTS:-}"

store-raw --replay "$STATE/archive" |
	records |
	validate --schema "$schema" --dead-letter "$DB.invalid.jsonl" |
	dedupe --key /id --latest --order-field /updated_at |
	upsert --db "$DB" --table items --key /id --only-newer --order-field /updated_at "${more[@]}"
