#!/bin/sh
# Long options are matched whole: every proper prefix of every long option
# of every program is a usage error (64) that names the option it is not,
# never silently another option (--page was --page-param, --fail --fail-on).
. "$APIPE_TOP/tests/lib.sh"

for prog in fetch-page paginate records validate schema dedupe store-raw watermark upsert \
	webhook-recv oauth-login; do
	case $prog in
	watermark) pre="get" ;;
	schema) pre="infer" ;;
	*) pre="" ;;
	esac
	# the long options: those --help names, the long forms of the short ones
	{
		"$prog" --help 2>&1 | grep -o -- '--[a-z0-9][a-z0-9.-]*'
		printf -- '--%s\n' help version quiet verbose
		case $prog in
		fetch-page|paginate) printf -- '--%s\n' request header data parallel location insecure ;;
		esac
	} | sort -u > "opts.$prog"
	tried=0
	bad=0
	while read -r opt; do
		name=${opt#--}
		i=2
		while [ "$i" -lt "${#name}" ]; do
			p=$(printf '%s' "$name" | cut -c1-"$i")
			i=$((i + 1))
			grep -qx -- "--$p" "opts.$prog" && continue	# itself an option
			tried=$((tried + 1))
			rc=0
			# shellcheck disable=SC2086
			"$prog" $pre "--$p" x < /dev/null > /dev/null 2> perr || rc=$?
			if [ "$rc" != 64 ]; then
				bad=$((bad + 1))
				[ "$bad" -le 3 ] && diag "$prog $pre --$p: exit $rc: $(head -1 perr)"
			fi
		done
	done < "opts.$prog"
	is "$bad" 0 "$prog: all $tried proper prefixes of its long options are usage errors"
done
run paginate --style page --page 3 http://127.0.0.1:9/x
is "$rc" 64 "paginate --page (for --page-param) is refused"
like err "unknown option '--page'.*--page-param" "naming the option it is not"
run fetch-page --fai http://127.0.0.1:9/x
is "$rc" 64 "fetch-page --fai (for --fail or --fail-on) is refused"
run fetch-page --fail --retry 0 http://127.0.0.1:9/x
is "$rc" 69 "fetch-page --fail is curl's --fail, accepted (the run goes on to fail to connect)"
run paginate --offset 100 http://127.0.0.1:9/x
is "$rc" 64 "paginate --offset (for --offset-param) is refused"
run fetch-page --key /id http://127.0.0.1:9/x
is "$rc" 64 "fetch-page --key /id (a record key, not a TLS key) is a usage error"
like err 'goes with --cert' "saying --key is the TLS client key"
run paginate --cert /nonexistent/c.pem --key /nonexistent/k.pem http://127.0.0.1:9/x
is "$rc" 66 "an unreadable client certificate or key is refused before any request"
run fetch-page --max-time=5 --retry 0 http://127.0.0.1:9/x
is "$rc" 69 "a whole option with = still works (the run goes on to fail to connect)"
# one name for one thing: the old spellings are refused, naming the new one
while IFS='|' read -r cmd new; do
	# shellcheck disable=SC2086
	run $cmd < /dev/null
	is "$rc" 64 "$cmd: refused"
	like err "is now spelled $new" "... naming $new"
done <<'EOF2'
records --path /data|--records-path
watermark track --state st --name n --field /u|--order-field
dedupe --key /id --latest --version-field /u|--order-field
dedupe --key /id --latest --version /u|--order-field POINTER
upsert --db x.db --table t --key /id --watermark-name w --watermark-field /u|--order-field
paginate --style keyset --key-field /id --key-param since http://127.0.0.1:9/x|--order-field
paginate --style keyset --order-field /id --key-param since http://127.0.0.1:9/x|--order-param
EOF2
run upsert --db x.db --table t --key /id --only-newer /u < /dev/null
is "$rc" 64 "upsert --only-newer POINTER: refused"
like err "the field is --order-field now" "... saying where the field goes"
run upsert --db x.db --table t --key /id --only-newer < /dev/null
is "$rc" 64 "upsert --only-newer without --order-field: refused"
done_testing
