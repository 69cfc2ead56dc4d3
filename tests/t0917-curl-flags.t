#!/bin/sh
# curl's everyday flags in fetch-page and paginate, with curl's meaning and
# apipe's secret rules: every row of the README's curl table is run here,
# against the mock API's /echo (which answers with the request it got).
# Config files (-K), profiles (--profile, APIPE_PROFILE), --base-url,
# --netrc, -w, and the one-line refusals of flags that cannot apply.
. "$APIPE_TOP/tests/lib.sh"

start_mock m --records 30 --auth basic --user alice:s3cret
export PW=s3cret
echo_of() { jq -c "$1" out; }	# the echoed request, through the envelope's body

# --- the README's table, row by row --------------------------------------------
run fetch-page -s "$BASE/echo"
is "$rc" 0 "-s: quiet, exit 0"
run fetch-page -sS "$BASE/echo"
is "$rc" 0 "-sS: accepted (errors are always shown)"
run fetch-page -o got.jsonl "$BASE/echo?x=1"
is "$(jq -r .body.uri got.jsonl)" "/echo?x=1" "-o FILE: the envelope in FILE"
is "$(wc -c < out | tr -d ' ')" 0 "... and nothing on standard output"
run fetch-page -u alice:env:PW "$BASE/items/1"
is "$(jq -c '[.status, .body.id]' out)" "[200,1]" "-u user:env:NAME: Basic auth"
printf 's3cret\n' > pw.txt
run fetch-page -u alice:file:pw.txt "$BASE/items/2"
is "$(jq -c '[.status, .body.id]' out)" "[200,2]" "-u user:file:PATH: Basic auth"
run fetch-page -u alice:s3cret "$BASE/items/1"
is "$rc" 64 "-u with a literal password is refused"
like err "literal secrets are refused" "... saying why"
run fetch-page -u alice "$BASE/items/1"
is "$rc" 64 "-u without a password is refused: apipe never prompts"
run fetch-page -A 'sync/2.0' "$BASE/echo"
is "$(echo_of .body.headers[\"user-agent\"])" '"sync/2.0"' "-A: the User-Agent"
run fetch-page -e 'https://example.com/from' "$BASE/echo"
is "$(echo_of .body.headers.referer)" '"https://example.com/from"' "-e: the Referer"
run fetch-page -G -d 'a=1' -d 'b=two' "$BASE/echo"
is "$(echo_of '[.body.method, .body.uri]')" '["GET","/echo?a=1&b=two"]' "-G -d: the data in the query string"
run fetch-page --data-binary @pw.txt "$BASE/echo"
is "$(echo_of '[.body.method, .body.body]')" '["POST","s3cret\n"]' "--data-binary @FILE: the file as it is"
run fetch-page --data-raw '@pw.txt' "$BASE/echo"
is "$(echo_of .body.body)" '"@pw.txt"' "--data-raw: @ taken literally"
run fetch-page --data-urlencode 'q=a b&c' --data-urlencode 'plain' "$BASE/echo"
is "$(echo_of .body.body)" '"q=a%20b%26c&plain"' "--data-urlencode: name=content and content, encoded"
run fetch-page --data-urlencode 'f@pw.txt' -G "$BASE/echo"
is "$(echo_of .body.uri)" '"/echo?f=s3cret%0A"' "--data-urlencode name@file with -G"
run fetch-page --json '{"a":1}' "$BASE/echo"
is "$(echo_of '[.body.body, .body.headers["content-type"], .body.headers.accept]')" \
	'["{\"a\":1}","application/json","application/json"]' "--json: the body, its type, and Accept"
run fetch-page --json '{"a":' "$BASE/echo"
is "$rc" 64 "--json checks the JSON"
printf 'machine 127.0.0.1\n  login alice\n  password s3cret\n' > netrc
chmod 600 netrc
run fetch-page --netrc-file netrc "$BASE/items/3"
is "$(jq -c '[.status, .body.id]' out)" "[200,3]" "--netrc-file: Basic auth for the host"
cp netrc .netrc
HOME=$PWD run fetch-page --netrc "$BASE/items/4"
is "$(jq -c '[.status, .body.id]' out)" "[200,4]" "--netrc: ~/.netrc"
run fetch-page --netrc-file netrc "$BASE/echo"
unlike out 'czNjcmV0|s3cret' "the netrc credentials never reach the output"
chmod 644 netrc
run fetch-page --netrc-file netrc "$BASE/items/3"
is "$rc" 78 "a netrc others may read is refused (78)"
printf 'machine other.example\n login bob\n password x1y2z3\n' > netrc2
chmod 600 netrc2
run fetch-page --netrc-file netrc2 "$BASE/items/3"
is "$(jq -r .status out)" 401 "--netrc: no entry for the host, no credentials"
run fetch-page -w '%{http_code} %{method} %{url_effective} %{size_download}\n' "$BASE/echo?w=1"
is "$(cat err)" "200 GET $BASE/echo?w=1 $(jq -r '.body | tojson | length' out)" \
	"-w: curl's variables, on standard error"
run fetch-page -I "$BASE/echo"
is "$(jq -c '[.method, .status]' out)" '["HEAD",200]' "-I: HEAD"
run fetch-page -i "$BASE/echo"
is "$(jq -r '.headers["content-type"]' out)" "application/json" "-i: accepted, the headers are in the envelope"
run fetch-page -f "$BASE/nothing-here"
is "$rc" 69 "-f: an HTTP error fails the run"
run fetch-page -L "$BASE/echo"
is "$rc" 0 "-L: accepted (redirects are followed)"
run fetch-page -k "$BASE/echo"
is "$rc" 0 "-k: accepted"
run fetch-page -X PUT -H 'X-Trace: 7' -d 'x' "$BASE/echo"
is "$(echo_of '[.body.method, .body.headers["x-trace"], .body.body]')" '["PUT","7","x"]' "-X -H -d"

run fetch-page -m 5 "$BASE/echo"
is "$rc" 0 "-m 5: curl's --max-time"
run fetch-page -m x "$BASE/echo"
is "$rc" 64 "-m x: a bad number, named as --max-time"
run fetch-page -4 "$BASE/echo"
is "$rc" 0 "-4: IPv4 only"
run fetch-page -6 "$BASE/echo"
is "$rc" 69 "-6: IPv6 only (the mock listens on 127.0.0.1: no server, at once)"
run fetch-page --http2 "$BASE/echo"
is "$rc" 0 "--http2: accepted (an upgrade the server may ignore)"
is "$(jq -r .http_version out)" 1.1 "the envelope names the version that answered: 1.1"
node "$APIPE_TOP/tests/bin/h2c-server.js" h2.port &
mock_pids="$mock_pids $!"
H2=$(wait_port h2.port)
run fetch-page --http2-prior-knowledge "http://127.0.0.1:$H2/x?a=1"
is "$rc:$(jq -c '[.status, .http_version, .body.path]' out)" '0:[200,"2","/x?a=1"]' \
	"--http2-prior-knowledge against an HTTP/2-only server: http_version 2"
run paginate --http2-prior-knowledge --style none "http://127.0.0.1:$H2/x?a=1"
is "$(jq -r .http_version out)" 2 "paginate too"
run fetch-page --noproxy '*' "$BASE/echo"
is "$rc" 0 "--noproxy '*': accepted"
printf '%s\n' "$BASE/echo?a" "$BASE/echo?b" "$BASE/echo?c" > three
run fetch-page --parallel-max 3 < three
is "$(jq -r .body.uri out | tr '\n' ' ')" "/echo?a /echo?b /echo?c " "--parallel-max 3: curl's spelling of -j 3, output in input order"
echo '{"q":"from a file"}' > q.json
run fetch-page --json @q.json "$BASE/echo"
is "$(echo_of .body.body)" '"{\"q\":\"from a file\"}\n"' "--json @file: the file's JSON"
echo 'not json' > nj.txt
run fetch-page --json @nj.txt "$BASE/echo"
is "$rc" 64 "--json @file that is not JSON: refused"

# --- flags that cannot apply: one line that says why ---------------------------
for f in -O '-F a=b' '-T f' '-b c=1' '-c jar' '-x http://p' '-#' '--output-dir d' \
	'--oauth2-bearer tok' -Z; do
	# shellcheck disable=SC2086
	run fetch-page $f "$BASE/echo"
	is "$rc" 64 "curl's $f is refused"
	is "$(head -1 err | grep -c ': ')" 1 "... with one line saying why"
	like err "try 'fetch-page --help'" "... and where to look"
done
run paginate -I "$BASE/items"
is "$rc" 64 "paginate -I: a HEAD response has no records"

# --- -K config files -------------------------------------------------------------
cat > api.cfg <<'CFG'
# an API's settings, curl's syntax
user-agent = "cfg agent/1"
--header "X-From: config"
-H: "X-Two: 2"
query=a=1
url = "ECHO"
CFG
sed -i "s|ECHO|$BASE/echo|" api.cfg
run fetch-page -K api.cfg
is "$rc" 0 "-K: a config file with a url"
is "$(echo_of '[.body.headers["user-agent"], .body.headers["x-from"], .body.headers["x-two"], .body.uri]')" \
	'["cfg agent/1","config","2","/echo?a=1"]' "... its options, in all of curl's spellings"
run fetch-page -K api.cfg -A 'cli/1'
is "$(echo_of '.body.headers["user-agent"]')" '"cli/1"' "an option after -K overrides the file"
printf 'bogus-option 1\n' > bad.cfg
run fetch-page -K bad.cfg "$BASE/echo"
is "$rc" 64 "an unknown option in a config file is a usage error"
like err "bad.cfg:1: unknown option 'bogus-option'" "... naming the file and line"
printf 'header "X: unterminated\n' > bad2.cfg
run fetch-page -K bad2.cfg "$BASE/echo"
is "$rc" 64 "an unterminated quote is a usage error"
run fetch-page -K nowhere.cfg "$BASE/echo"
is "$rc" 66 "a missing config file: 66"
printf 'bearer = s3cret\n' > lit.cfg
run fetch-page -K lit.cfg "$BASE/echo"
is "$rc" 64 "a config file with a literal secret is refused"

# --- profiles and --base-url ------------------------------------------------------
mkdir -p xdg/apipe
cat > xdg/apipe/mock.conf <<CFG
base-url = $BASE/
basic = alice:env:PW
header = "X-Profile: mock"
retry 2
CFG
XDG_CONFIG_HOME=$PWD/xdg run fetch-page --profile mock items/5
is "$(jq -c '[.status, .body.id, .url]' out)" "[200,5,\"$BASE/items/5\"]" \
	"--profile: base URL and auth from the profile, a relative URL resolved"
XDG_CONFIG_HOME=$PWD/xdg APIPE_PROFILE=mock run paginate --style offset --limit 10 /items
is "$(records < out | wc -l | tr -d ' ')" 30 "APIPE_PROFILE: paginate /items against the profile's base URL"
XDG_CONFIG_HOME=$PWD/xdg run fetch-page --profile mock -H 'X-Cli: cli' /echo
is "$(echo_of '[.body.headers["x-profile"], .body.headers["x-cli"]]')" '["mock","cli"]' \
	"command-line headers add to the profile's"
XDG_CONFIG_HOME=$PWD/xdg run fetch-page --profile nosuch /echo
is "$rc" 66 "a missing profile: 66"
run fetch-page --profile ../etc /echo
is "$rc" 64 "a profile name with a slash is refused"
run fetch-page --base-url "$BASE/v1/" /echo
is "$(jq -r .body.uri out)" "/echo" "--base-url: an absolute path replaces the base's"
run fetch-page --base-url "ftp://x/" /echo
is "$rc" 64 "--base-url must be http or https"

# --- KEY<sep>RECORD for kcat, byte for byte ---------------------------------------
printf '%s\n' '{"url":"u","status":200,"body":[{"id":12345678901234567891,"v":1.10},{"id":"k-2","s":"\u00e9"}]}' > pg.jsonl
records --key /id < pg.jsonl > keyed
printf '12345678901234567891\t{"id":12345678901234567891,"v":1.10}\nk-2\t{"id":"k-2","s":"\\u00e9"}\n' > want.keyed
is_file keyed want.keyed "records --key: the key, a tab, the record, every byte as sent"
printf '%s\n' '{"url":"u","status":200,"body":[{"id":"a:b"}]}' > sep.jsonl
run records --key /id --key-separator : < sep.jsonl
is "$rc" 65 "a key holding the separator is refused"
like err '/body/0/id: the key holds the separator' "... naming the line and pointer"
run records --key /id --key-separator : --dead-letter dl.jsonl < sep.jsonl
is "$(jq -r '.errors[0].instance' dl.jsonl)" "/body/0/id" "... or dead-lettered, nothing lost"

# --- a usage error is one line, then where to look --------------------------------
run fetch-page --no-such-option "$BASE/echo"
is "$rc" 64 "an unknown option: 64"
is "$(wc -l < err | tr -d ' ')" 2 "... two lines: the problem, and try --help"
run fetch-page --help
like out '^  -u, --user user:secret +Basic auth' "--help gives each option a meaning"
done_testing
