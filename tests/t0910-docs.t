#!/bin/sh
# The manuals: every program has one, mandoc finds nothing to warn about,
# each program's usage names exactly the options of its SYNOPSIS, --help
# gives every one of them a meaning, and the manual describes every option
# --help lists.
. "$APIPE_TOP/tests/lib.sh"

# options: option words, one a line, to a sorted set (-hqv is -h, -q and -v)
options() {
	awk '/^--/ { print; next } { s = $0; sub(/^-/, "", s); for (i = 1; i <= length(s); i++) print "-" substr(s, i, 1) }' |
		sort -u
}
# man_opts PAGE: the options a page's SYNOPSIS names
man_opts() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$1" | grep -o 'Fl [^ ]*' |
		sed 's/^Fl \\-/--/; s/^Fl /-/; s/\\-/-/g; s/\\&//g' | options
}
# page_opts PAGE: the options a page names anywhere
page_opts() {
	grep -o 'Fl [^ ]*' "$1" | sed 's/^Fl \\-/--/; s/^Fl /-/; s/\\-/-/g; s/\\&//g' | options
}
# usage_opts PROGRAM: the options its usage (the first paragraph of --help) names
usage_opts() {
	"$1" --help 2>&1 | sed '/^$/q' | grep -oE '(^|[ [|])--?[a-zA-Z0-9#][a-zA-Z0-9.-]*' |
		sed 's/^[ [|]//' | options
}
# help_opts PROGRAM: every option its --help lists with a meaning
help_opts() {
	"$1" --help 2>&1 | sed '1,/^$/d' | grep -E '^  -' | grep -oE '(^  |, )--?[a-zA-Z0-9#][a-zA-Z0-9.-]*' |
		sed 's/^  //; s/^, //' | options
}

programs=$(sed -n 's/^PROGRAMS = //p' "$APIPE_TOP/Makefile")
for p in $programs; do
	page="$APIPE_TOP/man/$p.1"
	is "$([ -f "$page" ] && echo yes)" yes "$p has a manual"
	mandoc -T lint -W warning "$page" > lint 2>&1 || true
	is "$(cat lint)" "" "mandoc -T lint finds no warning in $p.1"
	run "$p" --help
	is "$rc" 0 "$p --help exits 0"
	man_opts "$page" > man.opts
	usage_opts "$p" > usage.opts
	is "$(wc -l < man.opts | tr -d ' ')" "$(wc -l < usage.opts | tr -d ' ')" "$p: as many options in its usage as in the SYNOPSIS"
	is_file usage.opts man.opts "$p: its usage names the options of its SYNOPSIS"
	help_opts "$p" > help.opts
	page_opts "$page" > page.opts
	is "$(comm -23 usage.opts help.opts | tr '\n' ' ')" "" "$p --help gives a meaning to every option of its usage"
	# the option table (--list-options: an option's short and long forms on
	# lines in a row, with one meaning): every option in the usage, in
	# either form (--help and --version, the common ones, aside)
	"$p" --list-options | awk -F'\t' '
		$1 ~ /^--/ && prev ~ /^-[^-]/ && $3 == pm { print prev " " $1; prev = ""; next }
		{ if (prev != "") print prev; prev = $1; pm = $3 }
		END { if (prev != "") print prev }' | grep -vx -- '-h --help' | grep -vx -- '--version' > table.opts
	missing=$(while read -r a b; do
		grep -qx -- "$a" usage.opts || { [ -n "$b" ] && grep -qx -- "$b" usage.opts; } || echo "$a${b:+ $b}"
	done < table.opts | tr '\n' ',')
	is "$missing" "" "$p: its usage names every option of its table"
	is "$(comm -23 help.opts page.opts | tr '\n' ' ')" "" "$p.1 describes every option --help lists"
	is "$(grep -c '^\.Sh EXIT STATUS' "$page")" 1 "$p.1 has EXIT STATUS"
done
for page in "$APIPE_TOP"/man/apipe.7 "$APIPE_TOP"/man/apipe-config.5; do
	mandoc -T lint -W warning "$page" > lint 2>&1 || true
	is "$(cat lint)" "" "mandoc -T lint finds no warning in $(basename "$page")"
done
# apipe(7) names every program
for p in $programs; do
	sed 's/\\-/-/g' "$APIPE_TOP/man/apipe.7" | grep -qxF ".It Xr $p 1"
	ok $? "apipe.7 introduces $p"
done
done_testing
