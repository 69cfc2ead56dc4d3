#!/bin/sh
# Every man page's EXAMPLES run as tests: in a literal block, a line
# starting with "$ " is a command (a trailing "\e" continues it), and the
# lines after it are its exact standard output.  The commands of one page
# run in order, in one directory holding tests/fixtures/examples/.
. "$APIPE_TOP/tests/lib.sh"

# Pages of the HTTP programs run against the mock API at $BASE.
start_mock api --records 100
export BASE

for page in "$APIPE_TOP"/man/*.[157]; do
	name=$(basename "$page")
	name=${name%.[157]}
	mkdir "$name" && cp -R "$APIPE_TOP"/tests/fixtures/examples/. "$name"/
	awk -v dir="$name" '
		function unesc(s) {
			gsub(/\\e/, "\\", s); gsub(/\\&/, "", s); gsub(/\\-/, "-", s)
			return s
		}
		/^\.Sh / { inex = ($2 == "EXAMPLES") ; next }
		inex && /^\.Bd -literal/ { lit = 1; next }
		inex && /^\.Ed/ { lit = 0; cont = 0; next }
		!lit { next }
		cont { printf "%s\n", unesc($0) >> (dir "/cmd." n); cont = ($0 ~ /\\e$/); next }
		/^\$ / {
			n++
			line = unesc(substr($0, 3))
			printf "%s\n", line > (dir "/cmd." n)
			printf "" > (dir "/want." n)
			cont = ($0 ~ /\\e$/)
			next
		}
		n { printf "%s\n", unesc($0) >> (dir "/want." n) }
		END { print n > (dir "/count") }
	' "$page"
	count=$(cat "$name/count")
	ok "$([ "$count" -gt 0 ]; echo $?)" "$(basename "$page") has examples ($count)"
	i=1
	while [ "$i" -le "$count" ]; do
		rc=0
		(cd "$name" && sh "./cmd.$i" > "out.$i" 2> "err.$i") || rc=$?
		is "$rc" 0 "$(basename "$page") example $i exits 0: $(head -1 "$name/cmd.$i")"
		is_file "$name/out.$i" "$name/want.$i" "$(basename "$page") example $i prints what the page shows"
		i=$((i + 1))
	done
done
done_testing
