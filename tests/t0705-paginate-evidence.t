#!/bin/sh
# paginate's auto mode never ends with exit 0 while the page says there is
# more: a listing shaped like json-server's (a bare array, X-Total-Count,
# _start/_limit or _page/_limit) is followed through the position the
# request carries, and a full page with a total beyond it and no way on
# stops with 65 naming what it saw.
. "$APIPE_TOP/tests/lib.sh"

python3 "$APIPE_TOP/tests/bin/listing-server.py" --port-file ls.port 501 &
mock_pids="$mock_pids $!"
i=0
while [ ! -s ls.port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
L="http://127.0.0.1:$(cat ls.port)/items"
seq 1 501 > want

for q in '_start=0&_limit=100' '_page=1&_limit=25' '_start=0&_limit=37'; do
	run paginate -v "$L?$q"
	is "$rc" 0 "?$q: crawled"
	records < out | jq -r .id | sort -n > got
	is_file got want "?$q: exactly the 501 records"
done
like err "auto: style (offset|link)" "-v says which style and why"
run paginate "$L?_limit=50"
is "$rc" 65 "?_limit=50 alone: no way on, and the page says there is more: 65, not one page and 0"
like err '50 records with a total of 501' "naming the total the headers report"
like err 'offset-param' "and the option that would continue"
run paginate "$L?_limit=50&_start=450"
records < out | jq -r .id | sort -n > got
is "$(wc -l < got | tr -d ' ')" 51 "from an offset: the rest of the listing"
done_testing
