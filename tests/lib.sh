# tests/lib.sh: shared TAP helpers for the tool tests (sourced, POSIX sh).
#
#   . "$APIPE_TOP/tests/lib.sh"
#   run records --records-path /data < in     # stdout in ./out, stderr in ./err, status in $rc
#   is "$rc" 0 "exit status"
#   is_file out expected "records"
#   done_testing
#
# Each test script runs in its own temporary directory, removed on exit.
# The built programs come first on PATH.

: "${APIPE_BIN:?run the tests through make check}"
: "${APIPE_TOP:?run the tests through make check}"
PATH="$APIPE_BIN:$PATH"
export PATH LC_ALL=C
# Tests talk to 127.0.0.1 only: no proxy may stand in between.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY

tap_n=0
tap_failed=0
TESTDIR=$(mktemp -d "${TMPDIR:-/tmp}/apipe-test.XXXXXX")
mock_pids=
trap 'for p in $mock_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT
trap 'exit 1' INT TERM
cd "$TESTDIR" || exit 1

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# run CMD ARGS…: stdout to ./out, stderr to ./err, status to $rc.
run() {
	rc=0
	"$@" >out 2>err || rc=$?
}

is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  $1" "want: $2"
		[ -s err ] && diag "stderr:" "$(head -5 err)"
	fi
}

# is_file GOT WANT DESC: byte-identical files.
is_file() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diff "$2" "$1" | head -20 | sed 's/^/# /'
	fi
}

# like FILE REGEX DESC: a line of FILE matches the extended regex.
like() {
	if grep -Eq -- "$2" "$1"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "no line of $1 matches: $2" "$(head -5 "$1")"
	fi
}

# unlike FILE REGEX DESC: no line of FILE matches the extended regex.
unlike() {
	if grep -Eq -- "$2" "$1"; then
		ok 1 "$3"
		diag "a line of $1 matches: $2" "$(grep -E -- "$2" "$1" | head -3)"
	else
		ok 0 "$3"
	fi
}

# lines LIST…: write the arguments as lines to stdout.
lines() {
	printf '%s\n' "$@"
}

# wait_locked LOCKFILE: wait (at most 30 s) until another process holds
# an flock(2) lock on LOCKFILE; returns non-zero if it never does.  It only
# looks in /proc/locks: probing with flock(1) would take the lock for a
# moment, and a program trying the lock just then would find it busy.
wait_locked() {
	i=0
	while [ "$i" -lt 300 ]; do
		if [ -e "$1" ]; then
			_ino=$(stat -c %i "$1")
			grep -q "FLOCK .*:$_ino " /proc/locks && return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start_mock NAME ARGS…: run tests/mock-api with ARGS, logging requests to
# NAME.log; sets $PORT and $BASE (http://127.0.0.1:PORT).  Stopped on exit.
start_mock() {
	_name=$1
	shift
	rm -f "$_name.port"
	"$APIPE_TESTBIN/mock-api" --port-file "$_name.port" --log "$_name.log" "$@" &
	mock_pids="$mock_pids $!"
	PORT=$(wait_port "$_name.port") || { echo "Bail out! mock-api did not start"; exit 1; }
	BASE="http://127.0.0.1:$PORT"
}

# wait_port FILE: wait (at most 10 s) for a server to write its port to
# FILE, then print it; non-zero when it never does.
wait_port() {
	_i=0
	while [ ! -s "$1" ] && [ "$_i" -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	cat "$1" 2>/dev/null
}

# start_routes NAME HOST ROUTES.json [ARGS…]: run tests/bin/route-server.py on
# HOST (a loopback address) logging to NAME.log; its port goes to NAME.port
# and $RPORT.  Stopped on exit.
start_routes() {
	_name=$1 _host=$2 _routes=$3
	shift 3
	rm -f "$_name.port"
	python3 "$APIPE_TOP/tests/bin/route-server.py" --host "$_host" --port-file "$_name.port" \
		--log "$_name.log" "$@" "$_routes" &
	mock_pids="$mock_pids $!"
	RPORT=$(wait_port "$_name.port") || { echo "Bail out! route-server did not start"; exit 1; }
	: > "$_name.log"
}

# start_s3rver BUCKET: a real S3 API server (s3rver from npm) on 127.0.0.1
# with BUCKET made, its data in ./s3data; its port in $S3PORT.  Stopped on exit.
start_s3rver() {
	[ -x "$APIPE_NPM/.bin/s3rver" ] || { echo "Bail out! s3rver is missing (make npm-peers)"; exit 1; }
	mkdir -p s3data
	node "$APIPE_NPM/.bin/s3rver" -d s3data -a 127.0.0.1 -p 0 --configure-bucket "$1" \
		> s3rver.out 2>&1 &
	mock_pids="$mock_pids $!"
	_i=0
	while ! grep -q 'listening on' s3rver.out && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	S3PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' s3rver.out)
	[ -n "$S3PORT" ] || { echo "Bail out! s3rver did not start"; cat s3rver.out; exit 1; }
}

# stop_mocks: stop every mock started so far.
stop_mocks() {
	for p in $mock_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	mock_pids=
}

# pg_start: a PostgreSQL server from Debian's package in a temporary
# directory, on a unix socket only ($PGDIR); returns non-zero when there is
# none.  pg_stop stops it and removes the directory (add it to a trap).
PGDIR=
pg_start() {
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
	[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || return 1
	PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/apipe-pg.XXXXXX")
	as=
	if [ "$(id -u)" = 0 ]; then	# the server refuses to run as root
		chown postgres "$PGDIR"
		as="runuser -u postgres --"
	fi
	chmod 755 "$PGDIR"
	$as "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres > "$PGDIR/init.log" 2>&1 &&
		$as "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
			-o "-k $PGDIR -c listen_addresses= -c fsync=off" start > /dev/null 2>&1
}
# For the tests that run once per database backend ($B: sqlite, or pg or
# postgresql with pg_start's server): url NAME is a database's --db,
# q NAME SQL a query on it ('|' between fields).
url() {
	if [ "$B" = sqlite ]; then
		echo "$TESTDIR/$1.db"
	else
		echo "postgresql:///$1?host=$PGDIR&user=postgres"
	fi
}
q() {
	if [ "$B" = sqlite ]; then
		sqlite3 "$TESTDIR/$1.db" "$2"
	else
		psql -X -q -At -F'|' "$(url "$1")" -c "$2"
	fi
}
# both_backends DB…: run the caller's backend() on SQLite ($B=sqlite), then
# on a PostgreSQL server of its own ($B=pg) holding the databases DB…;
# without PostgreSQL the test bails out (its packages are the README's).
both_backends() {
	B=sqlite
	backend
	pg_start || { echo "Bail out! PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
	B=pg
	for _db in "$@"; do
		psql -X -q "postgresql:///postgres?host=$PGDIR&user=postgres" -c "create database $_db" > /dev/null
	done
	backend
	pg_stop
}
pg_stop() {
	[ -n "$PGDIR" ] || return 0
	$as "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop > /dev/null 2>&1
	rm -rf "$PGDIR"
	PGDIR=
}

# kill_rounds SLEEPS CMD: for each line "SECONDS [NAME]" of the file SLEEPS,
# run CMD (bash, pipefail) in a session of its own and after SECONDS kill -9
# every process of it, or with NAME only the processes of that name; then
# wait until all of them are gone.  Sets $killed (rounds cut short) and
# $finished (rounds that ended before their kill).  stderr goes to rounds.err.
kill_rounds() {
	killed=0
	finished=0
	while read -r _s _name; do
		rm -f pgid
		setsid bash -c 'echo $$ > pgid; set -o pipefail; eval "$1"' _ "$2" \
			< /dev/null > /dev/null 2>> rounds.err &
		_bg=$!
		while [ ! -s pgid ]; do sleep 0.01; done
		_pg=$(cat pgid)
		sleep "$_s"
		if [ -z "$_name" ] || [ "$_name" = all ]; then
			kill -9 "-$_pg" 2>/dev/null && killed=$((killed + 1)) || finished=$((finished + 1))
		else
			pkill -9 -s "$_pg" -x "$_name" && killed=$((killed + 1)) || finished=$((finished + 1))
		fi
		wait "$_bg" 2>/dev/null
		# the rest of the session, reparented, is gone in a moment
		_i=0
		while kill -0 "-$_pg" 2>/dev/null && [ $_i -lt 250 ]; do sleep 0.02; _i=$((_i + 1)); done
		kill -9 "-$_pg" 2>/dev/null
	done < "$1"
}

# flip_byte FILE OFFSET: invert every bit of one byte, so the file surely changes.
flip_byte() {
	_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((_b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# count FILE REGEX: how many lines of FILE match.
count() {
	grep -Ec -- "$2" "$1" || true
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
