#!/bin/sh
# style-check.sh: the rules of STYLE.md a script can check, over lib/ and
# cmd/.  Prints each breach as FILE:LINE: rule and exits 1 when there is
# one.  Run by make lint.
set -u
cd "$(dirname "$0")/.." || exit 2
status=0

# Layout: tabs indent, no trailing blanks, lines within 110 columns (tabs
# at 8) but for the rows of an option table (one option, one line).
awk '
function width(s,   i, c, w) {
	w = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\t") w += 8 - w % 8; else w++
	}
	return w
}
/[ \t]$/ { print FILENAME ":" FNR ": trailing blank"; bad = 1 }
/^        / { print FILENAME ":" FNR ": indented with spaces, not tabs"; bad = 1 }
!/^\t\{ ("|NULL, )/ && width($0) > 110 { print FILENAME ":" FNR ": wider than 110 columns"; bad = 1 }
END { exit bad }
' lib/*.c lib/*.h cmd/*.c cmd/*.h || status=1

# Size: no library file over 1,200 lines.
for f in lib/*.c; do
	n=$(wc -l < "$f")
	[ "$n" -le 1200 ] || { echo "$f: $n lines, over 1,200: split it by job"; status=1; }
done

# Ownership: every header opens with a comment on its module, and every
# function it declares after a blank line has a comment above it (the
# _init and _release of a struct say what they do by their names).
for h in lib/*.h cmd/*.h; do
	head -1 "$h" | grep -q '^/\*' || { echo "$h:1: no comment on what the module is"; status=1; }
done
awk '
FNR == 1 { prev = "" }
{
	proto = $0 ~ /^[a-z][a-z0-9_ *]*[ *][a-z_][a-z0-9_]*\(/ && $0 !~ /^(static|typedef)/ && $0 !~ /\{$/
	if (proto && prev ~ /^[ \t]*$/ && $0 !~ /_(init|release)\(/) {
		print FILENAME ":" FNR ": a declaration without a comment above it"
		bad = 1
	}
	prev = $0
}
END { exit bad }
' lib/*.h || status=1

# Errors: the library reports through struct aperr and never prints or
# exits; only cmd/ does.
if grep -nE '(^|[^a-z_.>])(printf|puts|fputs|fprintf|exit|_exit|abort|err|errx|warnx|perror)\(|[^"a-z_](stderr|stdout)[^"a-z_]' \
	lib/*.c; then
	echo "lib/: the library prints or exits (lines above): return -1 with struct aperr"
	status=1
fi

# Engines: each database engine in its own file.
for f in lib/*.c lib/*.h cmd/*.c; do
	if grep -q 'sqlite3\.h' "$f" && grep -q 'libpq-fe\.h' "$f"; then
		echo "$f: includes both sqlite3.h and libpq-fe.h: one engine a file (lib/dbint.h)"
		status=1
	fi
done

# The project cites only itself.
if grep -nE 'DESIGN\.md|API-SHAPES\.md' lib/*.[ch] cmd/*.[ch] man/* README.md tests/*.t tests/*.sh 2>/dev/null; then
	echo "cites a document outside the project (lines above): cite apipe(7)"
	status=1
fi
exit $status
