#!/bin/sh
# paginate's auto mode never ends with exit 0 while the page says there is
# more: a listing shaped like json-server's (a bare array, X-Total-Count,
# _start/_limit or _page/_limit) is followed through the position the
# request carries, and a full page with a total beyond it and no way on
# stops with 65 naming what it saw.
. "$APIPE_TOP/tests/lib.sh"

python3 "$APIPE_TOP/tests/bin/listing-server.py" --port-file ls.port 501 &
mock_pids="$mock_pids $!"
L="http://127.0.0.1:$(wait_port ls.port)/items"
seq 1 501 > want

for q in '_start=0&_limit=100' '_page=1&_limit=25' '_start=0&_limit=37'; do
	run paginate -v "$L?$q"
	is "$rc" 0 "?$q: crawled"
	records < out | jq -r .id | sort -n > got
	is_file got want "?$q: exactly the 501 records"
done
like err "auto: style (offset|link)" "-v says which style and why"
run paginate -v "$L?_limit=50"
is "$rc" 0 "?_limit=50 alone, with a total of 501: crawled"
records < out | jq -r .id | sort -n > got
is_file got want "... exactly the 501 records, going on in _start"
like err "names only its size '_limit'.*'_start'" "... and -v says it was a guess held to the total"
run paginate "$L?_limit=50&_start=450"
records < out | jq -r .id | sort -n > got
is "$(wc -l < got | tr -d ' ')" 51 "from an offset: the rest of the listing"
done_testing
