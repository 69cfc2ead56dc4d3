#!/bin/sh
# fetch-page against tests/mock-api: envelopes, retries, Retry-After,
# auth kinds, secrets, quotas, concurrency.  Exact counts come from the
# mock's request log and from --stats, never from the wall clock.
. "$APIPE_TOP/tests/lib.sh"

# jq programs used below
strip='del(.fetched_at, .elapsed_ms, .attempts, .headers.date)'
F="fetch-page --retry-delay 0.01"

start_mock m --records 60
M=$BASE

# --- envelopes -------------------------------------------------------------
run fetch-page "$M/items/2"
is "$rc" 0 "a 200 exits 0"
is "$(jq -r '[.url, .method, .status, .attempts, .headers["content-type"]] | @tsv' out)" \
	"$M/items/2	GET	200	1	application/json" "envelope: url, method, status, attempts, headers"
like out '"fetched_at":"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z","elapsed_ms":[0-9]+,' "envelope: fetched_at in milliseconds, always three digits, and elapsed_ms"
curl -s "$M/items/2" > want
echo >> want
run fetch-page --body "$M/items/2"
is_file out want "--body writes the body byte for byte"
run fetch-page "$M/items/2"
# the envelope body is the server's bytes: cut it out textually
sed 's/.*"body"://; s/}$//' out > got

is_file got want "envelope body keeps every number and string as sent"

# 12,000 headers under 3,000 names: each name once, in first-come order,
# its values joined in order (a sort, not a scan per name)
run fetch-page "$M/hostile?kind=headers"
is "$rc" 0 "12,000 response headers: exit 0"
is "$(jq -r '[.headers | keys_unsorted[] | select(startswith("x-h"))] | length' out)" 3000 \
	"one member a header name"
is "$(jq -r '[.headers | keys_unsorted[] | select(startswith("x-h"))][0,1,2999]' out | tr '\n' ' ')" \
	"x-h0 x-h1 x-h2999 " "names in the order they first came"
is "$(jq -r '.headers["x-h0"] + "|" + .headers["x-h2999"]' out)" "0, 3000, 6000, 9000|2999, 5999, 8999, 11999" \
	"each name's values joined in the order sent"

run fetch-page "$M/raw?kind=text" "$M/raw?kind=binary"
is "$(jq -r '.body_text' out | head -2 | tr '\n' '|')" 'plain text, café|"quoted"|' "a text body goes to body_text"
is "$(sed -n 2p out | jq -r .body_base64 | base64 -d | od -An -tx1 | tr -d ' \n')" "89504e4700ff01" \
	"a binary body goes to body_base64"

# --- input: arguments, URL lines, request lines; order ----------------------
i=1; : > urls; while [ $i -le 40 ]; do echo "$M/items/$i?latency_ms=$(( (41 - i) % 7 ))" >> urls; i=$((i + 1)); done
run fetch-page -j 8 < urls
is "$rc" 0 "-j 8 over URL lines exits 0"
is "$(jq -r .body.id out | tr '\n' ' ')" "$(seq 1 40 | tr '\n' ' ')" "-j 8 keeps input order"
run fetch-page -j 8 --unordered < urls
is "$(jq -r .body.id out | sort -n | tr '\n' ' ')" "$(seq 1 40 | tr '\n' ' ')" "--unordered writes every response once"

lines "{\"url\":\"$M/echo\",\"method\":\"PUT\",\"headers\":{\"X-Trace\":\"t-1\"},\"query\":{\"q\":\"a b&c\",\"n\":[1,2],\"skip\":null},\"body\":{\"a\":[1,2.50]},\"tag\":\"x\",\"shard\":3}" \
	"{\"url\":\"$M/echo\",\"body\":\"k=v\"}" > reqs
run fetch-page --query fixed=1 < reqs
is "$rc" 0 "request lines exit 0"
is "$(sed -n 1p out | jq -c '[.method, .meta, .body.method, .body.uri, .body.headers["x-trace"], .body.headers["content-type"], .body.body]')" \
	'["PUT",{"tag":"x","shard":3},"PUT","/echo?fixed=1&q=a%20b%26c&n=1&n=2","t-1","application/json","{\"a\":[1,2.50]}"]' \
	"a request line sets method, headers, query and a JSON body; other fields go to meta"
is "$(sed -n 2p out | jq -c '[.method, .body.method, .body.body, has("meta")]')" '["POST","POST","k=v",false]' \
	"a string body is sent as is, with POST"

lines "$M/items/1" '{"url":' "$M/items/2" > bad
run fetch-page < bad
is "$rc" 65 "a bad request line exits 65"
like err '^fetch-page: line 2: ' "the message names the line"
is "$(jq -r .body.id out | tr '\n' ' ')" "1 " "requests before the bad line are still written"
lines '{"method":"GET"}' > bad
run fetch-page < bad
like err 'line 1: /url: missing' "a request line without url names /url"

# --- retries, exactly as the policy says -------------------------------------
: > m.log
run $F "$M/items/3?fail=503&fail_times=2"
is "$rc" 0 "two 503s, then 200: exit 0"
is "$(jq -r '[.status, .attempts] | @tsv' out)" "200	3" "attempts counts every try"
is "$(count m.log 'fail=503&fail_times=2')" 3 "the server saw exactly 3 requests"

for code in 408 425 429 500 502 504; do
	: > m.log
	run $F "$M/items/4?fail=$code&fail_times=1"
	is "$(jq -r .status out)/$(count m.log "fail=$code")" "200/2" "$code is retried once and then succeeds"
done

: > m.log
run $F --retry 2 --stats st "$M/items/5?fail=500&fail_times=100"
is "$rc" 75 "retries exhausted: exit 75"
is "$(count m.log 'fail=500&fail_times=100')" 3 "--retry 2 means exactly 3 requests"
is "$(jq -c '[.status, .attempts, .error.kind]' out)" '[500,3,"retry-budget"]' "the envelope says the budget ran out"
is "$(jq -c '[.requests, .failed, .attempts, .retries, .responses["500"]]' st)" '[1,1,3,2,3]' "--stats counts attempts and retries"

for code in 400 401 403 404 422 501; do
	: > m.log
	run $F "$M/items/6?fail=$code&fail_times=100"
	is "$rc/$(count m.log "fail=$code")" "69/1" "$code is not retried: one request, exit 69"
done
run $F "$M/items/999"
is "$rc" 69 "a 404 exits 69"
like err "^fetch-page: $M/items/999: HTTP 404\$" "and says which URL"
run $F --fail-on 5xx "$M/items/999"
is "$rc" 0 "--fail-on 5xx: a 404 does not fail the run"
is "$(jq -r .status out)" 404 "the 404 envelope is still written"
run $F --fail-on none --retry 0 "$M/items/1?fail=503&fail_times=9"
is "$rc" 0 "--fail-on none: nothing fails the run"
run $F --fail-on 404,502 "$M/items/999"
is "$rc" 69 "--fail-on 404,502: a 404 fails"
run fetch-page --fail-on 4x4 "$M/items/1"
is "$rc" 64 "--fail-on with a bad status is a usage error"

: > m.log
run $F "$M/items/7?fail=drop&fail_times=1" "$M/items/8?fail=truncate&fail_times=1"
is "$rc" 0 "a dropped connection and a truncated body are retried"
is "$(jq -c '[.status, .attempts, .body.id]' out | tr '\n' ' ')" '[200,2,7] [200,2,8] ' "each took two attempts"

# --- Retry-After --------------------------------------------------------------
ra() {
	run fetch-page --retry-delay 0.01 --stats st "$M/items/9?fail=429&fail_times=1&retry_after=$1"
}
ra 1
is "$(jq -c '[.retries, .retry_after_ms, .backoff_ms]' st)" '[1,1000,0]' "Retry-After: 1 waits 1000 ms"
ra 0.25
is "$(jq -r .retry_after_ms st)" 250 "Retry-After: 0.25 waits 250 ms"
for form in date rfc850 asctime; do
	ra "$form:2"
	w=$(jq -r .retry_after_ms st)
	is "$rc/$([ "$w" -gt 900 ] && [ "$w" -le 2000 ] && echo in-range)" "0/in-range" \
		"Retry-After as $form HTTP-date two seconds ahead waits 1-2 s (${w} ms)"
done
ra 0
is "$rc/$(jq -r .retry_after_ms st)" "0/10" "Retry-After: 0 waits the floor, not zero"
ra -5
is "$rc/$(jq -r .retry_after_ms st)" "0/10" "a negative Retry-After waits the floor"
: > m.log
run fetch-page --max-delay 30 "$M/items/9?fail=503&fail_times=1&retry_after=86400"
is "$rc" 75 "Retry-After beyond --max-delay gives up at once: exit 75"
like err 'asked to wait 86400.000 s, more than --max-delay 30.000 s' "and says why"
is "$(count m.log 'retry_after=86400')" 1 "without waiting or retrying"
run fetch-page --retry-max-time 0.5 "$M/items/9?fail=503&fail_times=5&retry_after=1"
is "$rc" 75 "--retry-max-time bounds the retries"
like err 'would pass --retry-max-time' "and says so"

# connection refused before any server answered: a mistake, failed at once;
# with --retry-connrefused, or once a server of the run has answered, retried
start_mock dead
DEAD=$BASE
kill $(echo $mock_pids | awk '{print $NF}'); sleep 0.2
run fetch-page --retry 3 --retry-delay 1 "$DEAD/items/1"
is "$rc" 69 "connection refused on the run's first contact: exit 69 at once"
is "$(jq -c '[.status, .attempts, .error.kind]' out)" '[0,1,"connect"]' "one attempt, the failure kind in the envelope"
like err "not retried.*--retry-connrefused" "the message says what to do"
run fetch-page --retry 1 --retry-delay 0.01 "http://no-such-host.invalid/x"
is "$rc" 69 "an unknown host on the first contact: exit 69 at once"
run fetch-page --retry-connrefused --retry 1 --retry-delay 0.01 "$DEAD/items/1"
is "$rc" 75 "--retry-connrefused: retried, then exit 75"
is "$(jq -c '[.status, .attempts, .error.kind]' out)" '[0,2,"connect"]' "the envelope records the failure kind"
printf '%s\n' "$M/items/1" "$DEAD/items/1" > two
run fetch-page --retry 1 --retry-delay 0.01 < two
is "$rc" 75 "refused after a server of the run answered: retried (a blip), then exit 75"
echo '{}' > items.json
run fetch-page items.json
is "$rc" 64 "a file name given as a URL: a usage error"
like err "a file, not a URL.*fetch-page < items.json" "... saying to give it on standard input"

# --- auth and secrets ------------------------------------------------------------
K1=key-one-9f8e7d K2=key-two-6c5b4a K3=key-three-3a2b1c
PW=pass-word-5566 TOK=bearer-token-778899 CSEC=client-secret-1234
export K1 K2 K3 PW TOK CSEC

# no secret value may appear in any of these files
no_secrets() {
	found=$(grep -l -e "$K1" -e "$K2" -e "$K3" -e "$PW" -e "$TOK" -e "$CSEC" -e 'at_[a-z0-9]\{24\}' -e 'rt_[a-z0-9]\{24\}' "$@" 2>/dev/null)
	is "$found" "" "no secret in $*"
}

start_mock kh --auth key-header --key env:K1
run fetch-page -v --stats st --api-key-header X-Api-Key=env:K1 "$BASE/items/1"
is "$rc/$(jq -r .status out)" "0/200" "API key in a header"
no_secrets out err st
is "$(jq -r '.headers["x-api-key"]' kh.log)" "$K1" "the server got the key in the header"
run fetch-page --retry 0 --api-key-header X-Api-Key=env:K2 "$BASE/items/1"
is "$rc/$(jq -r .status out)" "69/401" "a wrong key: 401, exit 69, no retry"

start_mock kq --auth key-query --key env:K1
run fetch-page -v --stats st --api-key-query api_key=env:K1 "$BASE/items/1?x=1"
is "$rc/$(jq -r .status out)" "0/200" "API key in the query"
is "$(jq -r .query kq.log)" "x=1&api_key=$K1" "the server got the key in the query"
is "$(jq -r '.headers | has("x-api-key")' kq.log)" false "and not in a header"
is "$(jq -r .url out)" "$BASE/items/1?x=1" "the envelope URL has no key"
no_secrets out err st

start_mock be --auth bearer --bearer-token env:TOK
run fetch-page -v --bearer env:TOK "$BASE/items/1"
is "$rc" 0 "bearer token"
is "$(jq -r .headers.authorization be.log)" "Bearer $TOK" "sent as Authorization: Bearer"
no_secrets out err
printf '%s\n' "$TOK" > tokfile
run fetch-page --bearer file:tokfile "$BASE/items/1"
is "$rc" 0 "a secret from file: (trailing newline dropped)"

start_mock ba --auth basic --user "alice:$PW"
run fetch-page -v --basic alice:env:PW "$BASE/items/1"
is "$rc" 0 "basic auth"
no_secrets out err

run fetch-page --bearer "$TOK" "$BASE/items/1"
is "$rc" 64 "a literal secret is refused: exit 64"
like err 'literal secrets are refused \(they show in ps\); use env:NAME or file:PATH' "with a clear message"
no_secrets err
run fetch-page -H "Authorization: Bearer $TOK" "$BASE/items/1"
is "$rc" 64 "-H Authorization is refused"
run fetch-page --bearer env:APIPE_UNSET_VAR "$BASE/items/1"
is "$rc" 78 "an unset variable is a configuration error: exit 78"
like err 'environment variable APIPE_UNSET_VAR is not set' "naming the variable"
run fetch-page --bearer file:nonexistent "$BASE/items/1"
is "$rc" 78 "a missing secret file: exit 78"

run fetch-page "$M/items/1?access_token=tok-in-url-1234&page=2"
is "$(jq -r .url out)" "$M/items/1?access_token=REDACTED&page=2" "token-like query parameters are redacted in the envelope"

# OAuth2 client credentials, a 2 s token TTL, several hundred requests over >2 s
start_mock oa --auth oauth2 --client-id app --client-secret env:CSEC --token-ttl 2
OA=$BASE
i=0; : > many; while [ $i -lt 300 ]; do echo "$OA/items/$((i % 60 + 1))" >> many; i=$((i + 1)); done
run fetch-page -j 4 --rate 100/s --burst 10 --stats st --oauth2-token-url "$OA/oauth/token" \
	--client-id app --client-secret env:CSEC < many
is "$rc" 0 "300 requests across a 2 s token TTL: exit 0"
is "$(jq -r .status out | sort | uniq -c | awk '{print $1 "x" $2}')" "300x200" "every response is a 200"
is "$(count oa.log '"status":401')" 0 "the server answered no request with 401"
tokens=$(count oa.log '"path":"/oauth/token"')
is "$([ "$tokens" -ge 2 ] && echo refreshed)" refreshed "the token was refreshed before expiry ($tokens token requests)"
is "$(jq -r .token_refreshes st)" "$tokens" "--stats counts the token requests"
is "$(jq -r '.body' oa.log | grep -c 'client_secret')" 0 "the client secret travels in Basic auth, not the form"
no_secrets out st

# a token the server drops before the announced expiry: one 401, one refresh, one retry
start_mock ob --auth oauth2 --client-id app --client-secret env:CSEC --token-ttl 1 --expires-in 3600
run fetch-page --stats st --oauth2-token-url "$BASE/oauth/token" \
	--client-id app --client-secret env:CSEC "$BASE/items/1?latency_ms=1200" "$BASE/items/2"
is "$rc/$(jq -c '[.status, .attempts]' out | tr '\n' ' ')" "0/[200,1] [200,2] " "a 401 gets a new token and one more try"
is "$(jq -c '[.reauths, .token_refreshes]' st)" '[1,2]' "--stats: one re-auth, two tokens"
CSEC=wrong-secret-000 run fetch-page --oauth2-token-url "$BASE/oauth/token" --client-id app \
	--client-secret env:CSEC "$BASE/items/1"
is "$rc" 77 "a refused client_credentials grant: exit 77"
like err 'token endpoint refused the client_credentials grant: HTTP 401, invalid_client' "with the server's error"
run fetch-page --oauth2-token-url "$BASE/oauth/token" --client-id app "$BASE/items/1"
is "$rc" 64 "--oauth2-token-url without a secret is a usage error"

# refresh_token grant; the rotated refresh token is used next
RT=refresh-token-0042
export RT
start_mock orf --auth oauth2 --refresh-token env:RT --token-ttl 60
run fetch-page --oauth2-token-url "$BASE/oauth/token" --refresh-token env:RT "$BASE/items/1"
is "$rc" 0 "refresh_token grant"
is "$(jq -r .body orf.log | head -1)" "grant_type=refresh_token&refresh_token=$RT" "the refresh token goes in the form"
RT=revoked-000000 run fetch-page --oauth2-token-url "$BASE/oauth/token" --refresh-token env:RT "$BASE/items/1"
is "$rc" 77 "a revoked refresh token: exit 77"
like err 'refused the refresh_token grant: HTTP 400, invalid_grant' "with the server's error"

# JWT: HS256 checked by the server, RS256 checked with openssl
JS=jwt-shared-secret-31337
export JS
start_mock jw --auth jwt --jwt-secret env:JS
run fetch-page --jwt-alg HS256 --jwt-key env:JS --jwt-claims '{"iss":"apipe","sub":"x"}' "$BASE/items/1" "$BASE/items/2"
is "$rc/$(jq -r .status out | tr '\n' ' ')" "0/200 200 " "HS256 JWT bearer accepted by the server"
run fetch-page --jwt-alg HS256 --jwt-key env:K1 "$BASE/items/1"
is "$rc" 69 "a JWT signed with another key is refused"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl pkey -in rsa.pem -pubout -out rsa.pub 2>/dev/null
: > jw.log
run fetch-page --jwt-alg RS256 --jwt-key file:rsa.pem --jwt-claims '{"iss":"apipe","exp":4102444800}' "$BASE/items/1"
jwt=$(jq -r '.headers.authorization' jw.log | head -1 | sed 's/^Bearer //')
printf '%s' "${jwt%.*}" > signed
printf '%s' "${jwt##*.}" | tr '_-' '/+' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d > sig
is "$(openssl dgst -sha256 -verify rsa.pub -signature sig signed)" "Verified OK" "RS256 JWT verifies with the public key"
is "$(printf '%s' "$jwt" | cut -d. -f2 | tr '_-' '/+' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d | jq -c '[.iss, .exp, (.iat > 1700000000)]')" \
	'["apipe",4102444800,true]' "claims kept, iat filled in, a given exp kept"
no_secrets out err

# a JWT bearer assertion exchanged for an access token (RFC 7523)
start_mock ja --auth oauth2 --jwt-secret env:JS
run fetch-page --stats st --oauth2-token-url "$BASE/oauth/token" --jwt-alg HS256 --jwt-key env:JS \
	--jwt-claims '{"iss":"apipe"}' "$BASE/items/1"
is "$rc/$(jq -r .status out)" "0/200" "JWT bearer grant: the access token works"
is "$(jq -r .body ja.log | head -1 | cut -d'&' -f1)" "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" \
	"the token request uses the jwt-bearer grant"
no_secrets out st

# key rotation by remaining quota: 3 keys, 10 requests each per window
start_mock kr --auth key-header --key env:K1 --key env:K2 --key env:K3 --quota 10 --quota-window 60
i=0; : > thirty; while [ $i -lt 30 ]; do echo "$BASE/items/$((i + 1))" >> thirty; i=$((i + 1)); done
run fetch-page --api-keys env:K1,env:K2,env:K3 --stats st < thirty
is "$rc" 0 "30 requests over 3 keys with a quota of 10 each"
is "$(jq -r .who kr.log | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" "key0=10 key1=10 key2=10 " \
	"rotation spreads the requests by quota"
is "$(count kr.log '"status":429')" 0 "no request hit the limit"
no_secrets out st

# throttling before the quota runs out (reset as a delta)
start_mock qt --quota 4 --quota-window 1 --reset-style delta
i=0; : > ten; while [ $i -lt 10 ]; do echo "$BASE/items/$((i + 1))" >> ten; i=$((i + 1)); done
run fetch-page --stats st < ten
is "$rc" 0 "10 requests against a quota of 4 a second"
is "$(count qt.log '"status":429')" 0 "throttled before the limit: no 429"
is "$(jq -r '.quota_ms > 0' st)" true "--stats records the wait for the window"
# and with the reset as an epoch, through 429 + X-RateLimit-Reset when the client does not know
start_mock qe --quota 2 --quota-window 1
run fetch-page -j 4 --stats st < ten
is "$rc/$(jq -r .status out | sort -u)" "0/200" "epoch resets: every request succeeds"

# --- compression -------------------------------------------------------------
start_mock gz --gzip --records 60
run fetch-page --body "$BASE/items?limit=50"
cp out gz.out
run fetch-page --body "$M/items?limit=50"
is_file gz.out out "a gzip response gives the same body"
is "$(jq -r '.headers["accept-encoding"]' gz.log | grep -c gzip)" 1 "the request asked for gzip"
run fetch-page --no-compressed "$BASE/items/1"
is "$(tail -1 gz.log | jq -r '.headers | has("accept-encoding")')" false "--no-compressed asks for none"

# --- -j 16 equals -j 1 under 20% injected faults -------------------------------
start_mock ch --fault-rate 20 --seed 7 --records 200
i=1; : > all; while [ $i -le 200 ]; do echo "$BASE/items/$i" >> all; i=$((i + 1)); done
run fetch-page -j 1 --retry 10 --retry-delay 0.01 --max-delay 0.05 < all
is "$rc" 0 "-j 1 under 20% faults: exit 0"
jq -c "$strip" out > j1
run fetch-page -j 16 --retry 10 --retry-delay 0.01 --max-delay 0.05 < all
is "$rc" 0 "-j 16 under 20% faults: exit 0"
jq -c "$strip" out > j16
is "$(wc -l < j16)" 200 "200 envelopes"
is_file j16 j1 "-j 16 output equals -j 1 output (timing fields aside)"
faults=$(count ch.log '"fault":"')
is "$([ "$faults" -gt 40 ] && echo yes)" yes "at least 40 faults were injected ($faults)"

# --- usage ---------------------------------------------------------------------
run fetch-page --help
is "$rc" 0 "--help exits 0"
like out '^usage: fetch-page ' "--help prints the usage"
run fetch-page --retry x "$M/items/1"
is "$rc" 64 "a bad --retry is a usage error"
run fetch-page -j 0 "$M/items/1"
is "$rc" 64 "-j 0 is a usage error"
done_testing
