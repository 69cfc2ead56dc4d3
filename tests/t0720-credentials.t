#!/bin/sh
# Credentials never leave their origin: a next link or a redirect to another
# origin gets none (paginate stops unless --trust-origin names it), https
# never falls back to http with them, identity uses the real request, a
# secret a server echoes is masked, and programs holding secrets dump no core.
. "$APIPE_TOP/tests/lib.sh"

TOK='tok-3f9a"c1-secret'
KEY=key-77aa19c0
PASS=pass-5520bb
export TOK KEY PASS

cat > a.json <<'EOF'
{"/first": {"body": "{\"data\":[{\"id\":1}],\"next\":\"http://127.0.0.2:{port:b.port}/end\"}"},
 "/link": {"headers": {"Link": "<http://127.0.0.2:{port:b.port}/end>; rel=\"next\""},
           "body": "[{\"id\":1}]"},
 "/redir": {"status": 302, "headers": {"Location": "http://127.0.0.2:{port:b.port}/end"}},
 "/redir-same": {"status": 302, "headers": {"Location": "/end"}},
 "/end": {"body": "{\"data\":[{\"id\":9}],\"next\":null}"},
 "/echo": {"body": "{\"data\":[],\"query\":\"{query}\",\"auth\":\"{jheader:authorization}\",\"next\":\"http://127.0.0.1:{port:a.port}/end?{query}\"}"},
 "/items": {"body": "{\"data\":[{\"id\":1}],\"next\":\"http://127.0.0.1:{port:a.port}/end\"}"}}
EOF
cat > b.json <<'EOF'
{"/end": {"body": "{\"data\":[{\"id\":2}],\"next\":null}"}}
EOF
start_routes a 127.0.0.1 a.json
AP=$RPORT
A="http://127.0.0.1:$AP"
start_routes b 127.0.0.2 b.json
BP=$RPORT
B="http://127.0.0.2:$BP"

# --- paginate: a next page on another origin ---------------------------------
for auth in "--bearer env:TOK" "--api-key-header X-Api-Key=env:KEY" \
	"--api-key-query api_key=env:KEY" "--basic user:env:PASS"; do
	: > b.log
	# shellcheck disable=SC2086
	run paginate --retry 0 $auth "$A/first"
	is "$rc" 65 "paginate $auth: a next link to another origin stops the crawl (65)"
	like err "next page is at http://127\.0\.0\.2:$BP.* another origin than http://127\.0\.0\.1:$AP" \
		"paginate $auth: the message names both origins"
	like err "--trust-origin http://127\.0\.0\.2:$BP" "paginate $auth: and the option that follows it"
	is "$(wc -l < b.log | tr -d ' ')" 0 "paginate $auth: the other origin received no request"
done
: > b.log
run paginate --retry 0 --api-key-query api_key=env:KEY "$A/link"
is "$rc" 65 "a Link header to another origin stops it too"
is "$(wc -l < b.log | tr -d ' ')" 0 "and nothing reached the other origin"
: > b.log
echo "{\"url\":\"$A/first\",\"headers\":{\"Authorization\":\"Bearer from-a-line\"}}" > line.json
run paginate --retry 0 < line.json
is "$rc" 65 "a credential header of a request line counts as a credential"
is "$(wc -l < b.log | tr -d ' ')" 0 "and does not reach the other origin"

# the credential headers of APIs that do not use the ten best-known names
for h in X-Goog-Api-Key Ocp-Apim-Subscription-Key X-Shopify-Access-Token Api-Token; do
	: > b.log
	echo "{\"url\":\"$A/first\",\"headers\":{\"$h\":\"from-a-line\"}}" > line.json
	run paginate --retry 0 < line.json
	is "$rc" 65 "a request line's $h counts as a credential: the other origin stops the crawl"
	is "$(wc -l < b.log | tr -d ' ')" 0 "... and $h does not reach it"
	run fetch-page -H "$h: literal-value" "$A/first"
	is "$rc" 64 "-H '$h: …' as a literal is refused"
done
run fetch-page -H 'Authorization : Bearer x' "$A/first"
is "$rc" 64 "-H 'Authorization : x' (a space before the colon) is refused too"
for h in Idempotency-Key X-Session-Id X-Hub-Signature X-Auth-User; do
	run fetch-page -H "$h: literal" "$A/first"
	is "$rc" 64 "-H '$h: …': a name that says key, session, signature or auth takes no literal"
done
run fetch-page -H 'X-Team: red' "$A/first"
is "$rc" 0 "-H 'X-Team: red' takes a literal"
# every header the user adds is bound to its origin, but those known to carry no secret
: > b.log
echo "{\"url\":\"$A/first\",\"headers\":{\"X-Team\":\"red\"}}" > line.json
run paginate --retry 0 < line.json
is "$rc" 65 "a request line's X-Team header binds the crawl to its origin"
is "$(wc -l < b.log | tr -d ' ')" 0 "... nothing reaches the other origin"
run paginate --retry 0 --trust-origin "$B" < line.json
is "$rc" 0 "... unless --trust-origin names it"
: > b.log
echo "{\"url\":\"$A/first\",\"headers\":{\"Accept-Language\":\"fr\"}}" > line.json
run paginate --retry 0 < line.json
is "$rc" 0 "Accept-Language is known to carry no secret: the crawl follows the link"

run paginate --retry 0 "$A/first"
is "$rc" 0 "without credentials the crawl follows the link"
is "$(grep -c '"id":' out)" 2 "both pages"
: > b.log
run paginate --retry 0 --bearer env:TOK --trust-origin "$B" "$A/first"
is "$rc" 0 "--trust-origin names the other origin: the crawl follows it"
like b.log '"authorization": "Bearer tok-3f9a' "and the trusted origin gets the credentials"
run paginate --trust-origin "$B/some/path" "$A/first"
is "$rc" 64 "--trust-origin with a path is a usage error"
run paginate --trust-origin "ftp://x" "$A/first"
is "$rc" 64 "--trust-origin of another scheme is a usage error"

# --- https never falls back to http with credentials ---------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 > /dev/null 2>&1
cat > plain.json <<'EOF'
{"/end": {"body": "{\"data\":[{\"id\":3}],\"next\":null}"}}
EOF
start_routes plain 127.0.0.1 plain.json
PP=$RPORT
cat > tls.json <<'EOF'
{"/first": {"body": "{\"data\":[{\"id\":1}],\"next\":\"http://127.0.0.1:{port:plain.port}/end\"}"},
 "/down": {"status": 302, "headers": {"Location": "http://127.0.0.1:{port:plain.port}/end"}},
 "/end": {"body": "{\"data\":[{\"id\":4}],\"next\":null}"}}
EOF
start_routes tls 127.0.0.1 tls.json --tls cert.pem key.pem
T="https://127.0.0.1:$RPORT"
run fetch-page --cacert cert.pem "$T/end"
is "$rc" 0 "the TLS test server answers"
run paginate --retry 0 --cacert cert.pem --bearer env:TOK "$T/first"
is "$rc" 65 "an https listing whose next link is plain http stops"
like err "plain http after https://127\.0\.0\.1:$RPORT" "saying the credentials need TLS"
run paginate --retry 0 --cacert cert.pem --bearer env:TOK --trust-origin "http://127.0.0.1:$PP" "$T/first"
is "$rc" 65 "even when the http origin is trusted"
is "$(wc -l < plain.log | tr -d ' ')" 0 "the plain http server received nothing"
run fetch-page -L --retry 0 --cacert cert.pem --bearer env:TOK "$T/down"
is "$rc" 0 "fetch-page -L follows an https to http redirect"
is "$(grep -c authorization plain.log)" 0 "without the credentials"

# --- TLS failures say why, and a refusal is not retried -------------------------
run fetch-page --retry 2 --retry-delay 0.01 "$T/end"
is "$rc" 69 "an unknown CA is a refusal (69)"
like err 'SSL peer certificate.*: .*(self[- ]signed|unable to get local issuer|verify)' \
	"the message carries libcurl's detailed reason"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca > /dev/null 2>&1
# TLS 1.2: the refusal ends the handshake (in 1.3 it races the request's first write)
start_routes mtls 127.0.0.1 tls.json --tls cert.pem key.pem --client-ca ca.pem --tls12
run fetch-page --retry 3 --retry-delay 0.5 --cacert cert.pem "https://127.0.0.1:$RPORT/end"
is "$rc" 69 "a server that requires a client certificate refuses at once (69, not 75)"
like err 'alert' "naming the TLS alert"
is "$(count mtls.log '^')" 0 "no request got through"

# --- fetch-page -L: credentials per hop ----------------------------------------
: > b.log
run fetch-page -L --api-key-header X-Api-Key=env:KEY "$A/redir"
is "$rc" 0 "a redirect to another host is followed"
is "$(grep -c '"path": "/end"' b.log)" 1 "the other host was asked"
is "$(grep -ci 'x-api-key' b.log)" 0 "without the custom credential header"
like out "\"url\":\"$A/redir\",\"final_url\":\"$B/end\"" "the envelope has the requested and the final URL"
like out '"status":200' "and the final status"
like out '"attempts":1' "a redirect is not another attempt"
: > a.log
run fetch-page -L --bearer env:TOK "$A/redir-same"
is "$rc" 0 "a redirect within the origin"
like a.log '"path": "/end".*"authorization": "Bearer tok' "keeps the credentials"
: > b.log
echo "{\"url\":\"$A/redir\",\"headers\":{\"Cookie\":\"session=c00c1e5\"}}" > line.json
run fetch-page -L --bearer env:TOK < line.json
is "$rc" 0 "a request line with a cookie, redirected"
is "$(grep -c '"path": "/end"' b.log)" 1 "reaches the other host"
is "$(grep -ci '"authorization"\|"cookie"' b.log)" 0 "without Authorization or the Cookie"
: > b.log
run fetch-page -L --bearer env:TOK --trust-origin "$B" "$A/redir"
like b.log '"authorization": "Bearer tok' "a trusted origin gets them"
run fetch-page --bearer env:TOK "$A/redir"
is "$rc" 0 "without -L a redirect is the answer"
like out '"status":302' "with its status"

# --- identity uses the real request --------------------------------------------
run paginate --checkpoint c.ck --max-pages 1 "$A/items?code=US"
is "$rc" 0 "a crawl of ?code=US stopped after one page"
run paginate --checkpoint c.ck --max-pages 1 "$A/items?code=FR"
is "$rc" 78 "its checkpoint does not resume a crawl of ?code=FR"
like err 'not .*code=FR' "naming the crawl asked for"
run paginate --max-pages 1 "$A/items?code=US"
us=$(sed -n 's/.*"page_key":"\([0-9a-f]*\)".*/\1/p' out)
run paginate --max-pages 1 "$A/items?code=FR"
fr=$(sed -n 's/.*"page_key":"\([0-9a-f]*\)".*/\1/p' out)
is "$([ -n "$us" ] && [ "$us" != "$fr" ] && echo distinct)" distinct "?code=US and ?code=FR have distinct page keys"
like out 'code=FR' "and ?code= is not masked in the envelope"
touch c.ck.tmp.AbC123 c.ck.tmp.zz9XyW
run paginate --checkpoint c.ck --restart --max-pages 1 "$A/items?code=US"
is "$(ls c.ck.tmp.* 2>/dev/null | wc -l | tr -d ' ')" 0 "leftover checkpoint temporary files are removed"

# --- secrets a server echoes ----------------------------------------------------
run fetch-page --api-key-query api_key=env:KEY "$A/echo"
is "$rc" 0 "an endpoint that echoes the query"
is "$(grep -c "$KEY" out)" 0 "the key it echoes does not reach stdout"
like out '"query":"api_key=REDACTED"' "it is masked in the body"
run fetch-page --bearer env:TOK "$A/echo"
is "$(grep -c 'tok-3f9a' out)" 0 "a token echoed JSON-escaped is masked as well"
like out '"auth":"Bearer REDACTED"' "where it stood"
jq -e . out > /dev/null 2>&1
is "$?" 0 "the envelope stays valid JSON"
run paginate --api-key-query api_key=env:KEY --max-pages 2 "$A/echo"
is "$(grep -c "$KEY" out)" 0 "nor from a paginated crawl"
run fetch-page --body --api-key-query api_key=env:KEY "$A/echo"
is "$(grep -c "$KEY" out)" 0 "nor with --body"

# --- store-raw: one redactor, any member order, no limit -------------------------
printf '%s\n' '{"url":"http://h/a","request":{"headers":{"Authorization":"Bearer req-first-secret"}},"headers":{"x-api-key":"hdr-secret-1"},"status":200,"body":{}}' > env1.jsonl
printf '{"url":"http://h/b?api_key=url-secret-2","headers":{%s"cookie":"cookie-secret-3"},"status":200}\n' \
	"$(i=0; while [ $i -lt 20 ]; do printf '"cookie":"ck-%s-secret",' $i; i=$((i + 1)); done)" >> env1.jsonl
run store-raw arch < env1.jsonl
is "$rc" 65 "store-raw refuses an envelope that carries a credential"
like err 'line 1: /request/headers/Authorization' "naming the line and the pointer, request before headers"
run store-raw --redact arch < env1.jsonl
is "$rc" 0 "store-raw --redact archives it"
store-raw --replay arch > replayed 2> /dev/null
is "$(wc -l < replayed | tr -d ' ')" 2 "both envelopes archived"
is "$(grep -c 'secret' replayed)" 0 "with no credential left, whatever the order and however many"
is "$(grep -o REDACTED replayed | wc -l | tr -d ' ')" 24 "every one of the 24 masked"
is "$(jq -c . replayed 2>/dev/null | wc -l | tr -d ' ')" 2 "as valid JSON"

# --- --max-body: refused, not kept ----------------------------------------------
python3 -c "import json; print(json.dumps({'/big': {'body': json.dumps({'data': 'x' * 5000})}}))" > big.json
start_routes big 127.0.0.1 big.json
run fetch-page --retry 0 --max-body 1000 "http://127.0.0.1:$RPORT/big"
is "$rc" 65 "a response over --max-body is bad data (65)"
like out '"kind":"too-large"' "its envelope says too-large"
like err 'Content-Length' "refused from its Content-Length, before the body"
is "$(grep -c xxxxxxxx out)" 0 "and carries none of the body"

# --- every cap: valid JSON or a clear failure ------------------------------------
bad=0
for m in $(seq 40 13 700); do
	rc=0
	fetch-page --max-line "$m" "$A/end" > capped 2> caperr || rc=$?
	if [ "$rc" = 0 ]; then
		jq -e . capped > /dev/null 2>&1 || { bad=$((bad + 1)); diag "--max-line $m: invalid JSON, exit 0"; }
	elif ! grep -q 'exceeds' caperr || [ -s capped ]; then
		bad=$((bad + 1))
		diag "--max-line $m: exit $rc: $(cat caperr)"
	fi
done
is "$bad" 0 "fetch-page under every --max-line: valid JSON or an error naming the cap"
bad=0
for m in $(seq 40 29 700); do
	rc=0
	paginate --max-line "$m" "$A/items" > capped 2> caperr || rc=$?
	if [ "$rc" = 0 ]; then
		jq -e . capped > /dev/null 2>&1 || { bad=$((bad + 1)); diag "paginate --max-line $m: invalid JSON, exit 0"; }
	elif ! grep -q 'exceeds' caperr; then
		bad=$((bad + 1))
		diag "paginate --max-line $m: exit $rc: $(cat caperr)"
	fi
done
is "$bad" 0 "paginate under every --max-line: valid JSON or an error naming the cap"
run fetch-page --max-line 100 "$A/end"
is "$rc" 65 "an envelope over --max-line exits 65"

# --- no core dumps while holding secrets ---------------------------------------
for prog in fetch-page paginate; do
	sleep 3 | "$prog" --bearer env:TOK > /dev/null 2>&1 &
	pid=$!
	sleep 0.3
	is "$(awk '/Max core file size/ { print $5 " " $6 }' "/proc/$pid/limits")" "0 0" \
		"$prog holding a token has core dumps off"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
# --- a held secret echoed in other spellings never reaches the output ---------------------
SPELL='tok/en+secret-778899'
export SPELL
python3 - > spell.json <<'PY'
import json
t = "tok/en+secret-778899"
routes = {
    "/slash": {"status": 200, "body": '{"a":"tok\\/en+secret-778899"}'},
    "/uesc": {"status": 200, "body": '{"a":"\\u0074ok/en\\u002bsecret-778899"}'},
    "/pct": {"status": 200, "body": '{"u":"https://x/?t=tok%2fen%2bsecret-778899&n=1"}'},
    "/bytes": {"status": 200, "body": '{"u":"t=%74%6f%6b%2F%65%6E%2B%73ecret-778899"}'},
    "/num": {"status": 200, "body": '{"id":778899,"n":"x"}'},
}
print(json.dumps(routes))
PY
start_routes spell 127.0.0.1 spell.json
for r in slash uesc pct bytes; do
	run fetch-page --bearer env:SPELL "http://127.0.0.1:$RPORT/$r"
	is "$rc" 0 "/$r: fetched"
	jq -r '.body | .. | strings' out > strs
	python3 -c 'import sys, urllib.parse; d = sys.stdin.read(); sys.exit(1 if "tok/en+secret" in d or "tok/en+secret" in urllib.parse.unquote(d) else 0)' < strs
	ok $? "/$r: the secret echoed in another spelling is masked"
done
is "$(jq -c .body out)" '{"u":"t=REDACTED"}' "... every byte percent-encoded: masked whole"
run fetch-page --bearer env:SPELL "http://127.0.0.1:$RPORT/num"
is "$(jq -c .body out)" '{"id":778899,"n":"x"}' "a number that is only part of the secret stays, and the JSON stays valid"
# --- a database password never on the command line -------------------------------------------
for cmd in "upsert --table t --key /id --db" "watermark get --name w --db" "paginate --state s --resume-from"; do
	# shellcheck disable=SC2086
	run $cmd 'postgresql://app:pw-in-argv@127.0.0.1/db' < /dev/null
	is "$rc" 64 "$cmd with a password in the URL: refused (it shows in ps)"
	like err "PGPASSWORD.*env:NAME" "... naming the ways that keep it secret"
done
DBURL=$PWD/envdb.db
export DBURL
echo '{"id":1}' | upsert --db env:DBURL --table t --key /id
is "$(sqlite3 envdb.db 'select count(*) from t')" 1 "--db env:NAME reads the target from the environment"
# --- a secret too short to mask is refused -------------------------------------------------
SHORT=abc
export SHORT
run fetch-page --bearer env:SHORT "$A/first"
is "$rc" 78 "a 3-byte secret: refused (78)"
like err "shorter than 4 bytes" "... saying why"
done_testing
