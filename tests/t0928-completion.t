#!/bin/sh
# Shell completion: generated at build time from each program's
# --list-options, which lists its documented options from its getopt table
# (so completion, --help and the table agree); bash completes options,
# subcommands and file arguments; make install puts the completions where
# bash-completion and zsh look, with the programs and their manuals.
. "$APIPE_TOP/tests/lib.sh"

O=$(dirname "$APIPE_BIN")
BASHC=$O/share/completion/apipe.bash
ZSHC=$O/share/completion/_apipe
programs="fetch-page paginate records validate schema dedupe store-raw watermark upsert webhook-recv oauth-login tabulate singer"

# the options --help documents: "  -o, --output file   meaning" lines
help_opts() {
	"$@" --help | sed -n 's/^  \(-.*\)/\1/p' | awk '{
		line = $0; sub(/   .*/, "", line)
		n = split(line, w, /[ ,]+/)
		for (i = 1; i <= n; i++) if (w[i] ~ /^-/) print w[i]
	}' | sort -u
}
for p in $programs; do
	case $p in
	schema) subs="infer diff" ;;
	watermark) subs="track commit get" ;;
	*) subs=- ;;
	esac
	for s in $subs; do
		if [ "$s" = - ]; then set -- "$p"; else set -- "$p" "$s"; fi
		"$@" --list-options | cut -f1 | sort > list.txt
		help_opts "$@" > help.txt
		is_file list.txt help.txt "$*: --list-options names exactly what --help documents"
		missing=$(cut -f1 list.txt | while read -r o; do grep -q -- "'$o\[" "$ZSHC" || echo "$o"; done)
		is "$missing" "" "$*: the zsh completion offers each"
	done
done
is "$("$APIPE_BIN/upsert" --list-options | awk -F'\t' '$1 == "--db" { print $2 }')" path \
	"--list-options gives an option's argument name"

# bash: what a TAB after the words offers
complete_words() {	# WORD...: the candidates for the last word
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _apipe; printf "%s\n" "${COMPREPLY[@]}"' \
		"$BASHC" "$@" | sort
}
is "$(complete_words upsert --d | tr '\n' ' ')" "--db --dead-letter --delete-when " "bash: upsert --d<TAB>"
is "$(complete_words schema '' | tr '\n' ' ')" "diff infer " "bash: schema <TAB>: its subcommands"
is "$(complete_words watermark track --order | tr '\n' ' ')" "--order-field " "bash: a subcommand's options"
touch state.ck states.txt
is "$(complete_words paginate --checkpoint stat | tr '\n' ' ')" "state.ck states.txt " "bash: a file argument"
is "$(complete_words fetch-page -X '' | sed '/^$/d' | tr '\n' ' ')" "" "bash: no file names for -X's method"
is "$(complete_words fetch-page --http | tr '\n' ' ')" "--http1.1 --http2 --http2-prior-knowledge " "bash: fetch-page --http<TAB>"
like "$BASHC" "^complete -F _apipe $programs\$" "bash: every program is completed"
if command -v zsh > /dev/null; then
	run zsh -n "$ZSHC"
	is "$rc" 0 "zsh: the completion parses"
else
	ok 1 "zsh is not installed (apt-get install zsh): the zsh completion cannot be checked"
fi

# make install: programs, manuals, completions
rc=0
make -s -C "$APIPE_TOP" -o all install O="$O" DESTDIR="$TESTDIR/inst" PREFIX=/usr > install.out 2>&1 || rc=$?
is "$rc" 0 "make install"
for f in bin/upsert share/man/man7/apipe.7 share/bash-completion/completions/upsert \
	share/bash-completion/completions/fetch-page share/zsh/site-functions/_apipe; do
	ok "$([ -s "inst/usr/$f" ]; echo $?)" "make install puts $f in place"
done
done_testing
