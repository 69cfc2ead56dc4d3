#!/bin/sh
# The test harness checks itself: a unit binary that fails, crashes, stops
# short of its plan or lies with its exit status makes t0000 fail under
# prove; so does a shell test (tests/lib.sh) with a failing check or one
# that dies before its plan.  And every tool test ends with done_testing.
. "$APIPE_TOP/tests/lib.sh"

# fake unit binaries, one directory each, run through t0000-unit.t
fake() {
	mkdir -p "fake-$1"
	{ echo '#!/bin/sh'; cat; } > "fake-$1/t-$1"
	chmod +x "fake-$1/t-$1"
}
fake pass <<'EOF2'
echo 'ok 1 - first'
printf 'ok 2 - a check whose text is not UTF-8: \377\376\n'
echo '1..2'
EOF2
fake fail <<'EOF2'
echo 'ok 1 - first'
echo 'not ok 2 - second'
echo '1..2'
exit 1
EOF2
fake crash <<'EOF2'
echo 'ok 1 - first'
kill -SEGV $$
EOF2
fake short <<'EOF2'
echo '1..3'
echo 'ok 1 - only one of three'
EOF2
fake status <<'EOF2'
echo 'ok 1 - every check passes'
echo '1..1'
exit 3
EOF2
fake noplan <<'EOF2'
echo 'ok 1 - no plan follows'
EOF2

unit() {
	rc=0
	APIPE_TESTBIN="$PWD/fake-$1" prove -v "$APIPE_TOP/tests/t0000-unit.t" > "prove-$1" 2>&1 || rc=$?
}
unit pass
is "$rc" 0 "prove passes a unit binary whose every check passes"
like prove-pass 'Tests=3' "its two checks (one not UTF-8) and its exit check are counted"
for k in fail crash short status noplan; do
	unit "$k"
	is "$rc" 1 "prove fails t0000 over a unit binary that does '$k'"
done
like prove-crash 'killed by signal 11' "a crash is named as a signal"
like prove-short 'planned 3 checks and printed 1' "a short run is named"
like prove-status 'exited 3' "a lying exit status is named"

# two fakes in one directory: a failure in the first is not hidden by the second
mkdir fake-both
cp fake-fail/t-fail fake-pass/t-pass fake-both/
rc=0
APIPE_TESTBIN="$PWD/fake-both" prove "$APIPE_TOP/tests/t0000-unit.t" > prove-both 2>&1 || rc=$?
is "$rc" 1 "a failing binary fails t0000 even when a later one passes"

# tests/lib.sh: a failing check, and a script killed before its plan
cat > failing.t <<EOF2
#!/bin/sh
. "$APIPE_TOP/tests/lib.sh"
ok 0 "passes"
is 1 2 "fails"
done_testing
EOF2
cat > dying.t <<EOF2
#!/bin/sh
. "$APIPE_TOP/tests/lib.sh"
ok 0 "passes"
kill -KILL \$\$
done_testing
EOF2
cat > passing.t <<EOF2
#!/bin/sh
. "$APIPE_TOP/tests/lib.sh"
run sh -c 'exit 0'
is "\$rc" 0 "a program that exits 0"
done_testing
EOF2
for f in failing dying passing; do
	rc=0
	prove "$f.t" > "prove-$f" 2>&1 || rc=$?
	eval "rc_$f=\$rc"
done
is "$rc_failing" 1 "prove fails a shell test with a failing check"
is "$rc_dying" 1 "prove fails a shell test killed before its plan"
is "$rc_passing" 0 "prove passes a shell test whose checks pass"

# the build: a change of flags rebuilds; nothing reads outside the tree
b="$PWD/b"
obj="$b/lib/strbuf.o"
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES DEVELOPER SANITIZE CFLAGS LDFLAGS O	# not those of the make running the tests
mk() { make -s -C "$APIPE_TOP" O="$b" "$obj" "$@" > /dev/null 2>&1; }
mk CFLAGS=-O0
t1=$(stat -c %y "$obj" 2>/dev/null)
sleep 0.02
mk CFLAGS=-O0
is "$(stat -c %y "$obj" 2>/dev/null)" "$t1" "the same flags build nothing again"
mk CFLAGS=-O1
t2=$(stat -c %y "$obj" 2>/dev/null)
is "$([ -n "$t2" ] && [ "$t2" != "$t1" ] && echo rebuilt)" rebuilt "other CFLAGS rebuild the object"
mk CFLAGS=-O1 DEVELOPER=1
is "$([ "$(stat -c %y "$obj")" != "$t2" ] && echo rebuilt)" rebuilt "DEVELOPER=1 rebuilds it too"
like "$b/FLAGS" '-Werror' "the flags recorded are the ones used"
rc=0
make -s -C "$APIPE_TOP" O="$b" PKG_CONFIG=false "$obj" > nopc 2>&1 || rc=$?
is "$([ "$rc" -ne 0 ] && echo failed)" failed "without pkg-config's answers the build stops"
like nopc 'pkg-config' "saying pkg-config found nothing"
# the folder beside the project that a clone does not have, named in pieces
# so that this guard does not name it itself
outside="\.\./$(printf 'sha%s' red)"
is "$(cd "$APIPE_TOP" && grep -rlE "$outside/(testsuites|API|DESIGN)" Makefile .ci tests/*.t tests/lib.sh tools examples \
	2>/dev/null | tr '\n' ' ')" "" "no build, test or CI file reads the folder beside the project"

# every shell test of the suite prints its plan through done_testing
for t in "$APIPE_TOP"/tests/t*.t; do
	case ${t##*/} in t0000-unit.t) continue ;; esac
	is "$(grep -v '^[[:space:]]*$' "$t" | tail -n 1)" done_testing "${t##*/} ends with done_testing"
done
done_testing
