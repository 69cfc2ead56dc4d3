#!/bin/sh
# oauth-login against tests/mock-api: a simulated browser follows the
# printed URL (the mock's /authorize redirects straight to the callback);
# state, PKCE, expired codes, revoked grants; the token store shared by
# concurrent paginate runs through rotations of the refresh token.
. "$APIPE_TOP/tests/lib.sh"

export CLIENT_SECRET=cs-very-secret
start_mock m --records 3000 --auth oauth2 --client-id cid --client-secret env:CLIENT_SECRET \
	--token-ttl 0.5
M=$BASE
L="oauth-login --no-browser --authorize-url $M/authorize --oauth2-token-url $M/oauth/token --client-id cid"

# start_login STORE ARGS…: run oauth-login in the background; $url is the
# URL it printed, $login its pid, its stderr in login.err.
start_login() {
	_store=$1
	shift
	rm -f login.err
	$L --oauth2-store "$_store" "$@" 2> login.err &
	login=$!
	_i=0
	until grep -q '^http' login.err 2>/dev/null || [ $_i -ge 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	url=$(grep '^http' login.err)
	redirect=$(sed -n 's/.*waiting for the redirect to //p' login.err)
}
finish_login() {
	rc=0
	wait "$login" || rc=$?
}

# --- a sign-in ----------------------------------------------------------------
start_login store.json --client-secret env:CLIENT_SECRET --scope read --scope write
like login.err '^http://127\.0\.0\.1:[0-9]+/authorize\?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A[0-9]+%2Fcallback&scope=read%20write&state=[A-Za-z0-9_-]{32}&code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256$' \
	"the authorization URL has response_type, client, redirect, scope, state and an S256 challenge"
page=$(curl -sL "$url")
finish_login
is "$rc" 0 "the simulated browser completes the sign-in"
is "$page" "Received. The terminal finishes the sign-in and says whether it worked; you can close this window." \
	"the browser gets a short page that claims nothing the code exchange may still undo"
is "$(stat -c %a store.json)" 600 "the store has mode 0600"
is "$(grep -c "$CLIENT_SECRET" store.json)" 0 "the store holds no client secret"
is "$(jq -r '[.token_url, .client_id, .scope, (.access_token | length > 0), (.refresh_token | length > 0), (.expires_at > .obtained_at)] | @tsv' store.json)" \
	"$M/oauth/token	cid	read write	true	true	true" "the store holds the token set, its URL, client and scope"
like m.log '"path":"/oauth/token".*grant_type=authorization_code&code=code_[0-9a-f]+&redirect_uri=http%3A%2F%2F127.0.0.1%3A[0-9]+%2Fcallback&code_verifier=[A-Za-z0-9_-]{43}' \
	"the code is exchanged with the redirect URI and the PKCE verifier"
curl -s "$redirect?code=again&state=x" > /dev/null 2>&1
is "$?" 7 "the listener is gone after the sign-in"

run oauth-login --show --oauth2-store store.json
is "$rc" 0 "--show exits 0"
is "$(jq -r '[.client_id, .scope, .refresh_token, (.expires_in <= 1)] | @tsv' out)" "cid	read write	true	true" \
	"--show prints client, scopes, expiry"
at=$(jq -r .access_token store.json)
rt=$(jq -r .refresh_token store.json)
is "$(cat out err | grep -c -e "$at" -e "$rt")" 0 "--show never prints a token"

# --- refusals -------------------------------------------------------------------
start_login s-state.json
code=$(curl -s -o /dev/null -w '%{http_code}' "$redirect?code=forged&state=not-the-state")
finish_login
is "$code:$rc" "400:77" "a redirect with the wrong state: 400 to the browser, exit 77"
like login.err "state does not match this sign-in" "... and says so"
is "$(test -e s-state.json && echo yes || echo no)" no "... and stores nothing"

start_login s-pkce.json
curl -sL "$(echo "$url" | sed 's/code_challenge=[^&]*/code_challenge=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/')" > /dev/null
finish_login
is "$rc" 77 "a code_verifier that does not match the challenge: exit 77"
like login.err 'token endpoint refused the authorization_code grant: HTTP 400, invalid_grant' \
	"... the token endpoint's refusal is reported"

start_login s-denied.json
state=$(echo "$url" | sed 's/.*state=\([^&]*\).*/\1/')
curl -s "$redirect?error=access_denied&state=$state" > /dev/null
finish_login
is "$rc" 77 "the user declined (error=access_denied): exit 77"
like login.err 'the provider refused: access_denied' "... naming the provider's error"

rm -f login.err
run $L --oauth2-store s-timeout.json --timeout 1
is "$rc" 75 "no redirect within --timeout: exit 75"
like err 'no redirect came back within 1 seconds \(--timeout\); nothing was stored' "... with a clear message"

touch loose.json
chmod 644 loose.json
run $L --oauth2-store loose.json --timeout 1
is "$rc" 78 "an existing store others may read is refused (78)"
like err 'loose.json: the token store is readable by others \(mode 644\)' "... before anything else happens"
echo '{"access_token":"x"}' > loose.json
run paginate --oauth2-store loose.json "$M/items?limit=10"
is "$rc" 78 "fetch-page and paginate refuse a readable store too"

stop_mocks
start_mock exp --records 10 --client-id cid --code-ttl 0
L="oauth-login --no-browser --authorize-url $BASE/authorize --oauth2-token-url $BASE/oauth/token --client-id cid"
start_login s-exp.json
curl -sL "$url" > /dev/null
finish_login
is "$rc" 77 "an expired code: exit 77"
like login.err 'refused the authorization_code grant: HTTP 400, invalid_grant' "... reported as refused"
stop_mocks

# --- the store in use -----------------------------------------------------------
start_mock m2 --records 3000 --auth oauth2 --client-id cid --client-secret env:CLIENT_SECRET \
	--token-ttl 0.5
M=$BASE
L="oauth-login --no-browser --authorize-url $M/authorize --oauth2-token-url $M/oauth/token --client-id cid"
start_login shared.json --client-secret env:CLIENT_SECRET
curl -sL "$url" > /dev/null
finish_login
is "$rc" 0 "a sign-in for the shared store"
P="paginate --oauth2-store shared.json --client-secret env:CLIENT_SECRET --retry-delay 0.01"
$P --stats st1 "$M/cursor?limit=100&latency_ms=60" > p1.jsonl 2> p1.err &
a=$!
$P --stats st2 "$M/items?limit=100&latency_ms=60" > p2.jsonl 2> p2.err &
b=$!
rca=0; wait $a || rca=$?
rcb=0; wait $b || rcb=$?
is "$rca:$rcb" "0:0" "two paginate runs sharing one store both complete"
is "$(records < p1.jsonl | jq -r .id | sort -n | uniq | wc -l):$(records < p2.jsonl | wc -l)" "3000:3000" \
	"... each with the whole dataset"
refreshes=$(grep -c 'grant_type=refresh_token' m2.log)
is "$([ "$refreshes" -ge 4 ] && echo several)" several "the refresh token was rotated several times ($refreshes)"
is "$(jq -s 'map(.responses["401"] // 0) | add' st1 st2)" 0 "no 401 reached either run"
is "$(grep -c '"status":400' m2.log)" 0 "no refresh used a rotated-away refresh token"
run oauth-login --refresh --client-secret env:CLIENT_SECRET --oauth2-store shared.json
is "$rc" 0 "the store ends with the newest refresh token (it still refreshes)"
cat p1.jsonl p2.jsonl p1.err p2.err st1 st2 > everything
is "$(grep -cE '(at|rt)_[a-z0-9]{24}' everything)" 0 "no token value in envelopes, messages or stats"
run fetch-page --oauth2-store shared.json --client-secret env:CLIENT_SECRET "$M/items/3"
is "$rc:$(jq -r .body.id out)" "0:3" "fetch-page uses the store too"

cp shared.json stale.json
chmod 600 stale.json
run oauth-login --refresh --client-secret env:CLIENT_SECRET --oauth2-store shared.json
is "$rc" 0 "--refresh rotates the refresh token"
sleep 0.6
run oauth-login --refresh --client-secret env:CLIENT_SECRET --oauth2-store stale.json
is "$rc" 77 "a refresh with a rotated-away (revoked) refresh token: exit 77"
like err 'stale.json: the refresh was refused \(the grant was revoked or expired\).*run oauth-login again' \
	"... telling the user to sign in again"
run paginate --oauth2-store stale.json --client-secret env:CLIENT_SECRET "$M/items?limit=10"
is "$rc" 77 "paginate with a revoked grant: exit 77"
like err 'run oauth-login again' "... with the same advice"
stop_mocks

# --- the token endpoint is reached with fetch-page's transport options -------------
cat > routes.json <<'EOF2'
{"/oauth/token": {"status": 503, "body": "{\"error\":\"temporarily_unavailable\"}"}}
EOF2
start_routes tok 127.0.0.1 routes.json
jq --arg u "http://127.0.0.1:$RPORT/oauth/token" '.token_url = $u' shared.json > busy.json
chmod 600 busy.json
run oauth-login --refresh --client-secret env:CLIENT_SECRET --oauth2-store busy.json --retry 2 --retry-delay 0.01
is "$rc:$(grep -c '"method": *"POST"' tok.log)" "69:3" "--retry 2: a token endpoint that answers 503 is asked three times, then 69"
: > tok.log
run oauth-login --refresh --client-secret env:CLIENT_SECRET --oauth2-store busy.json --retry 0
is "$rc:$(grep -c '"method": *"POST"' tok.log)" "69:1" "--retry 0: once"

# --- usage ----------------------------------------------------------------------
run oauth-login --show
is "$rc" 64 "--oauth2-store is required"
run oauth-login --show --store x.json
is "$rc" 64 "--store is a former spelling: refused"
like err 'now spelled --oauth2-store' "... naming the new one"
run oauth-login --token-url "$M/oauth/token" --oauth2-store x.json
is "$rc" 64 "--token-url is a former spelling: refused"
like err 'now spelled --oauth2-token-url' "... naming the new one"
run oauth-login --oauth2-store x.json
is "$rc" 64 "a sign-in needs the URLs and the client"
run oauth-login --help
is "$rc:$(head -c 18 out)" "0:usage: oauth-login" "--help prints the usage"

done_testing
