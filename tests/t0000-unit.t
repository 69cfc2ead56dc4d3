#!/bin/sh
# The C unit tests of lib/ (each prints its own TAP; merged here).
: "${APIPE_TESTBIN:?run the tests through make check}"
n=0
failed=0
for t in "$APIPE_TESTBIN"/t-*; do
	out=$("$t") || failed=1
	echo "$out" | grep -v '^1\.\.' | while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*) echo "$line" | sed "s/^\(not \)*ok [0-9]*/\1ok X $(basename "$t"):/" ;;
		*) echo "$line" ;;
		esac
	done
done | awk '/^(not )?ok X/ { n++; sub(/ok X/, "ok " n) } { print } END { print "1.." n }'
exit $failed
