#!/bin/sh
# The C unit tests of lib/ (tests/unit/t-*.c): each binary's TAP is merged
# into one stream and renumbered, and each binary adds one check of its own
# that fails when it exited non-zero, was killed by a signal, printed no
# plan, or printed a number of checks other than its plan.  Output is read
# as bytes (LC_ALL=C), so a check whose text is not UTF-8 is still counted.
: "${APIPE_TESTBIN:?run the tests through make check}"
LC_ALL=C
export LC_ALL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/apipe-unit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
found=0
failed=0
for t in "$APIPE_TESTBIN"/t-*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	found=1
	rc=0
	"$t" > "$tmp/out" 2> "$tmp/err" || rc=$?
	awk -v name="${t##*/}" -v n="$n" -v rc="$rc" -v nfile="$tmp/n" '
	/^1\.\.[0-9]+/ { plan = substr($0, 4) + 0; planned = 1; next }
	/^(not )?ok / {
		n++; k++
		bad = /^not /
		sub(/^(not )?ok [0-9]*( -)?/, "")
		printf "%sok %d - %s:%s\n", bad ? "not " : "", n, name, $0
		next
	}
	/^#/ { print; next }
	{ print "# " $0 }
	END {
		n++
		why = ""
		if (rc > 128) why = "killed by signal " rc - 128
		else if (rc != 0) why = "exited " rc
		else if (!planned) why = "printed no plan"
		else if (plan != k) why = "planned " plan " checks and printed " k
		if (why == "") printf "ok %d - %s: exited 0 after its %d checks\n", n, name, k
		else printf "not ok %d - %s: %s\n", n, name, why
		print n > nfile
	}' "$tmp/out" > "$tmp/tap"
	cat "$tmp/tap"
	grep -q '^not ok' "$tmp/tap" && failed=1
	sed 's/^/# stderr: /' "$tmp/err"
	n=$(cat "$tmp/n")
done
if [ "$found" = 0 ]; then
	echo "Bail out! no unit test binaries in $APIPE_TESTBIN"
	exit 1
fi
echo "1..$n"
exit "$failed"
