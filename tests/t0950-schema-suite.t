#!/bin/sh
# lib/schema against the official JSON-Schema-Test-Suite (draft 2020-12 and
# draft-07), remote references served from its remotes/ folder and the
# metaschemas from share/metaschemas.
# tests/fixtures/schema-suite-passes.txt holds the pass count of every file
# (today every test of every required file): a count may rise, never fall.
. "$APIPE_TOP/tests/lib.sh"

S="$APIPE_TOP/tests/suites"
T="$S/JSON-Schema-Test-Suite"
[ -d "$T/tests" ] || { echo "Bail out! $T is missing"; exit 1; }
for draft in 2020-12 7; do
	"$APIPE_TESTBIN/schemasuite" --draft "$draft" --remotes "$T/remotes" --meta "$APIPE_TOP/share/metaschemas" \
		"$T/tests/draft$draft"/*.json | sed "s/^/draft$draft /"
	# the optional tests: reported, and ratcheted like the rest; formats asserted
	"$APIPE_TESTBIN/schemasuite" --draft "$draft" --remotes "$T/remotes" --meta "$APIPE_TOP/share/metaschemas" \
		"$T/tests/draft$draft"/optional/*.json | sed "s/^/draft$draft-optional /"
	"$APIPE_TESTBIN/schemasuite" --format-assert --draft "$draft" --remotes "$T/remotes" \
		--meta "$APIPE_TOP/share/metaschemas" "$T/tests/draft$draft"/optional/format/*.json |
		sed "s/^/draft$draft-format /"
done > now.txt
while read -r dr file passed total; do
	got=$(awk -v d="$dr" -v f="$file" '$1 == d && $2 == f { print $3 }' now.txt)
	is "$([ "${got:-0}" -ge "$passed" ] && echo kept)" kept "$dr/$file: $got of $total pass (at least $passed)"
done < "$APIPE_TOP/tests/fixtures/schema-suite-passes.txt"
# the formats --format-assert promises pass completely
for f in date-time date time duration email hostname ipv4 ipv6 uri uri-reference uuid regex json-pointer; do
	for dr in draft2020-12-format draft7-format; do
		got=$(awk -v d="$dr" -v f="$f.json" '$1 == d && $2 == f { print $3 " of " $4 }' now.txt)
		[ -n "$got" ] || continue	# draft-07 has no duration or uuid file
		is "$got" "$(echo "$got" | awk '{ print $3 " of " $3 }')" "$dr $f: every test passes"
	done
done
# a schema that names every member it can look at (sch_pick) gives on a
# pick parse the verdict and the errors of a full parse, suite test by test
is "$(awk '$2 != "#" { d += $6 } END { print d + 0 }' now.txt)" 0 "a pick parse never changes a verdict or an error"
grep ' # .*: picked' now.txt | sed 's/^/# /' || true
is "$(awk '$2 != "#" { p += $5 } END { print (p >= 400) ? "many" : p + 0 }' now.txt)" many \
	"and that was checked on hundreds of object instances"
awk '$1 !~ /-(optional|format)$/ { p += $3; t += $4 } END { printf "# %d of %d required suite tests pass\n", p, t }' now.txt
awk '$1 ~ /-(optional|format)$/ { p += $3; t += $4 } END { printf "# %d of %d optional suite tests pass\n", p, t }' now.txt
awk '$1 ~ /-(optional|format)$/ && $3 != $4 { printf "# %s %s: %d of %d\n", $1, $2, $3, $4 }' now.txt
done_testing
