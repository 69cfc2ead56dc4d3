#!/bin/sh
# JSONTestSuite: every y_ accepted, every n_ rejected, every i_ given the
# verdict recorded in tests/fixtures/json-i-verdicts.txt.
. "$APIPE_TOP/tests/lib.sh"
suite="$APIPE_TOP/tests/suites/JSONTestSuite/test_parsing"
[ -d "$suite" ] || { echo "Bail out! JSONTestSuite not found at $suite"; exit 1; }
expect="$APIPE_TOP/tests/fixtures/json-i-verdicts.txt"

"$APIPE_TESTBIN/jsoncheck" "$suite"/*.json > results
is "$?" 0 "the parser answered every file of the suite"
is "$(wc -l < results | tr -d ' ')" "$(ls "$suite"/*.json | wc -l | tr -d ' ')" "one answer per file"
is "$(grep -c '^[a-z]* i_' results)" "$(grep -c '^[a-z]* i_' "$expect")" \
	"every i_ file has a recorded verdict"
while read -r verdict name; do
	case $name in
	y_*) is "$verdict" accept "$name must be accepted" ;;
	n_*) is "$verdict" reject "$name must be rejected" ;;
	i_*)
		want=$(awk -v f="$name" '$2 == f { print $1 }' "$expect")
		is "$verdict" "${want:-no verdict recorded}" "$name: implementation-defined, recorded as ${want:-nothing}"
		;;
	esac
done < results

# Every strict prefix of a document is rejected, without a crash.
"$APIPE_TESTBIN/jsoncheck" --prefixes "$APIPE_TOP"/tests/fixtures/json/*.json > prefixes
is "$?" 0 "no prefix of the sample documents is accepted"
while read -r verdict name rest; do
	is "$verdict" ok "prefixes of $name $rest"
done < prefixes
done_testing
