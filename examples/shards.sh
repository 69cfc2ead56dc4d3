#!/bin/bash
# examples/shards.sh: crawl many shards of one API into one PostgreSQL (or
# SQLite) table, N at a time, each shard resumable and exactly once.
#
#   DB=postgresql:///warehouse?host=/run/postgresql TABLE=orders \
#   URL='https://api.example.com/v1/accounts/{}/orders?limit=500' \
#       examples/shards.sh [-j N] SHARD... [-- paginate options: auth, retries]
#
# Every shard is one pipeline, paginate | records | upsert, under pipefail:
# a stage that fails fails its shard.  Its progress travels in band and is
# committed by upsert with the rows it covers, under the name crawl-SHARD in
# the database's apipe_state, so a shard killed anywhere resumes from what
# landed (--resume-from); its watermark (orders-SHARD) moves only with its
# rows.  The script exits non-zero when any shard failed; a rerun runs every
# shard again: one that was cut off resumes where its rows end, one that
# had completed crawls anew (an incremental sync) and lands nothing twice.
# No joblog decides what to skip: the database's state does.  GNU parallel
# runs the shards when it is installed, else a plain loop.
set -euo pipefail
: "${DB:?DB: the database (postgresql://… or a SQLite path)}"
: "${TABLE:?TABLE: the table}"
: "${URL:?URL: the listing, {} standing for the shard}"
RECORD_KEY=${RECORD_KEY:-/id}	# the records' key (KEY is left to the API key the README passes)
RECORD_TYPE=${RECORD_TYPE:-}	# PostgreSQL: jsonb (default), json or text
VERSION=${VERSION:-/updated_at}
jobs=4
shards=()
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift 2 ;;
	--) shift; break ;;
	*) shards+=("$1"); shift ;;
	esac
done
[ ${#shards[@]} -gt 0 ] || { echo "shards.sh: no shard given" >&2; exit 64; }

# One shard, whole or resumed; its exit status is the first failing stage's.
shard() {
	local s=$1 url
	shift
	url=${URL//\{\}/$s}
	paginate -q --state "crawl-$s" --resume-from "$DB" "$@" "$url" |
		records |
		upsert --db "$DB" --table "$TABLE" --key "$RECORD_KEY" --state "crawl-$s" --only-newer \
			--watermark-name "$TABLE-$s" --order-field "$VERSION" \
			${RECORD_TYPE:+--record-type "$RECORD_TYPE"}
}
export -f shard
export DB TABLE URL RECORD_KEY VERSION RECORD_TYPE

status=0
if command -v parallel > /dev/null 2>&1; then
	parallel --will-cite -j "$jobs" \
		"set -o pipefail; shard {} $(printf '%q ' "$@")" ::: "${shards[@]}" || status=$?
else
	running=0
	pids=()
	for s in "${shards[@]}"; do
		( set -o pipefail; shard "$s" "$@" ) &
		pids+=($!)
		running=$((running + 1))
		if [ "$running" -ge "$jobs" ]; then
			wait -n || status=1
			running=$((running - 1))
		fi
	done
	while [ "$running" -gt 0 ]; do
		wait -n || status=1
		running=$((running - 1))
	done
fi
[ "$status" = 0 ] || echo "shards.sh: some shards failed; run again to resume them" >&2
exit "$status"
