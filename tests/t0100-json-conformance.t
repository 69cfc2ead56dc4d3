#!/bin/sh
# JSONTestSuite: every y_ accepted, every n_ rejected, every i_ answered.
. "$APIPE_TOP/tests/lib.sh"
suite="$APIPE_TOP/../shared/testsuites/JSONTestSuite/test_parsing"
[ -d "$suite" ] || { echo "Bail out! JSONTestSuite not found at $suite"; exit 1; }

"$APIPE_TESTBIN/jsoncheck" "$suite"/*.json > results
is "$?" 0 "the parser answered every file of the suite"
is "$(wc -l < results | tr -d ' ')" "$(ls "$suite"/*.json | wc -l | tr -d ' ')" "one answer per file"
while read -r verdict name; do
	case $name in
	y_*) is "$verdict" accept "$name must be accepted" ;;
	n_*) is "$verdict" reject "$name must be rejected" ;;
	i_*) ok 0 "$name: implementation-defined, $verdict"ed ;;
	esac
done < results

# Every strict prefix of a document is rejected, without a crash.
"$APIPE_TESTBIN/jsoncheck" --prefixes "$APIPE_TOP"/tests/fixtures/json/*.json > prefixes
is "$?" 0 "no prefix of the sample documents is accepted"
while read -r verdict name rest; do
	is "$verdict" ok "prefixes of $name $rest"
done < prefixes
done_testing
