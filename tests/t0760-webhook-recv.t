#!/bin/sh
# webhook-recv: each scheme's published test vector, tampering, wrong
# secrets, stale timestamps, duplicates, limits, restarts, and a load of
# signed requests with curl --parallel: every accepted event exactly once.
. "$APIPE_TOP/tests/lib.sh"

# start_wh NAME ARGS…: run webhook-recv; $URL is where it listens.
wh_pids=
start_wh() {
	_n=$1
	shift
	rm -f "$_n.port"
	webhook-recv --listen 127.0.0.1:0 --port-file "$_n.port" "$@" 2> "$_n.err" > "$_n.out" &
	wh_pid=$!
	wh_pids="$wh_pids $wh_pid"
	_i=0
	while [ ! -s "$_n.port" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
	URL="http://127.0.0.1:$(cat "$_n.port")/hook"
}
stop_wh() {
	kill -TERM "$wh_pid"
	wait_rc=0
	wait "$wh_pid" || wait_rc=$?
}
trap 'for p in $wh_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TESTDIR"' EXIT

# post ARGS…: curl a POST, print the status then the body.
post() {
	curl -s -o resp -w '%{http_code}' "$@"
}
hmac_hex() {	# KEY MESSAGE
	printf '%s' "$2" | openssl dgst -sha256 -hmac "$1" | awk '{ print $NF }'
}

# --- GitHub: the documented example ------------------------------------------------
export GH_SECRET="It's a Secret to Everybody"
start_wh gh --secret env:GH_SECRET --scheme github --out gh.d
SIG="sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
is "$(post -H "X-Hub-Signature-256: $SIG" -H 'X-GitHub-Delivery: d-1' --data-binary 'Hello, World!' "$URL")" 200 \
	"GitHub: the documented example is accepted"
is "$(cat resp)" "stored" "... and acknowledged as stored"
is "$(post -H "X-Hub-Signature-256: $SIG" -H 'X-GitHub-Delivery: d-1' --data-binary 'Hello, World!' "$URL")" 200 \
	"the same delivery again is acknowledged"
is "$(cat resp)" "duplicate delivery; already stored" "... as a duplicate"
is "$(post -H "X-Hub-Signature-256: $SIG" -H 'X-GitHub-Delivery: d-forged' --data-binary 'Hello, World!' "$URL"):$(cat resp)" \
	"200:duplicate delivery; already stored" \
	"the same signed body replayed under a new (unsigned) delivery id: a duplicate, not stored again"
is "$(post -H "X-Hub-Signature-256: $SIG" -H 'X-GitHub-Delivery: d-2' --data-binary 'Hello, World?' "$URL")" 401 \
	"a tampered body: 401"
is "$(cat resp)" "bad signature" "... saying why"
is "$(post -H "X-Hub-Signature-256: sha256=$(hmac_hex "wrong secret" 'Hello, World!')" --data-binary 'Hello, World!' "$URL")" 401 \
	"a wrong secret: 401"
is "$(post --data-binary 'Hello, World!' "$URL")" 401 "no signature: 401"
is "$(cat resp)" "missing X-Hub-Signature-256" "... naming the header"
body='{"action":"opened","number":12345678901234567890.10,"s":"caf\u00e9"}'
latin1=$(printf 'X-Note: caf\351 cr\350me')	# a header value in Latin-1, as RFC 9110's obs-text allows
is "$(post -H "X-Hub-Signature-256: sha256=$(hmac_hex "$GH_SECRET" "$body")" -H 'X-GitHub-Delivery: d-3' \
	-H 'Content-Type: application/json' -H 'Authorization: Bearer tok' -H "$latin1" --data-binary "$body" "$URL")" 200 \
	"a signed JSON event is accepted"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" 405 "GET: 405"
stop_wh
is "$wait_rc" 0 "SIGTERM: webhook-recv exits 0"
cat gh.d/events-*.jsonl > gh.events
is "$(wc -l < gh.events)" 2 "two events were stored (the duplicate and the rejected ones were not)"
is "$(sed -n 1p gh.events | jq -c '[.id, .scheme, .body_text]')" '["d-1","github","Hello, World!"]' \
	"a form body is kept as body_text, with its delivery id"
is "$(sed -n 1p gh.events | jq -r .signed)" "sha256:$(printf 'Hello, World!' | sha256sum | cut -d' ' -f1)" \
	"... and what identifies it by what is signed (the body's SHA-256)"
is "$(sed -n 2p gh.events | sed 's/.*"body"://; s/}$//')" "$body" "a JSON body is kept byte for byte"
is "$(sed -n 2p gh.events | jq -r '.headers.authorization')" "REDACTED" "credential headers are redacted"
is "$(sed -n 2p gh.events | jq -r '.headers["x-note"]')" "café crème" "a header value that is not UTF-8 is read as Latin-1: the line stays JSON"
like gh.d/events-*.jsonl '"received_at":"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"' "each event has received_at, in milliseconds like fetched_at"
is "$(stat -c %a gh.d/events-*.jsonl)" 600 "the events file is private"
is "$(grep -c "$GH_SECRET" gh.d/events-*.jsonl gh.err | awk -F: '{ s += $2 } END { print s }')" 0 \
	"the secret is in no event and no message"

start_wh gh2 --secret env:GH_SECRET --scheme github --out gh.d
is "$(post -H "X-Hub-Signature-256: $SIG" -H 'X-GitHub-Delivery: d-1' --data-binary 'Hello, World!' "$URL"):$(cat resp)" \
	"200:duplicate delivery; already stored" "after a restart, a delivery stored before is still a duplicate"
is "$(post -H "X-Hub-Signature-256: $SIG" -H 'X-GitHub-Delivery: d-forged-2' --data-binary 'Hello, World!' "$URL"):$(cat resp)" \
	"200:duplicate delivery; already stored" "... and so is its body replayed under a new id"
stop_wh

# --- Standard Webhooks: the specification's example ---------------------------------
export STD_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
start_wh std --secret env:STD_SECRET --scheme standard --tolerance 0
is "$(post -H 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek' -H 'webhook-timestamp: 1614265330' \
	-H 'webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' --data-binary '{"test": 2432232314}' "$URL")" 200 \
	"Standard Webhooks: the spec's example is accepted (--tolerance 0: no clock check)"
is "$(post -H 'webhook-id: msg_2' -H 'webhook-timestamp: 1614265330' -H 'webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' \
	--data-binary '{"test": 2432232314}' "$URL")" 401 "another id under the same signature: 401"
is "$(post -H 'webhook-id: m' -H 'webhook-timestamp: 1' -H 'webhook-signature: v1,x' --data-binary 'plain' "$URL")" 401 \
	"a bad signature on a text body: 401 first"
stop_wh
is "$(jq -c '[.id, .body]' std.out)" '["msg_p5jXN8AQM9LWM0D4loKWxJek",{"test":2432232314}]' \
	"without --out, events go to standard output"
start_wh std2 --secret env:STD_SECRET --scheme standard
is "$(post -H 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek' -H 'webhook-timestamp: 1614265330' \
	-H 'webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' --data-binary '{"test": 2432232314}' "$URL")" 401 \
	"Standard Webhooks: the same example years later is stale"
like resp '^stale timestamp' "... and says so"
stop_wh

# --- Slack: the documented example ----------------------------------------------------
export SLACK_SECRET=8f742231b10e8888abcd99yyyzzz85a5
SLACK_BODY='token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
start_wh slack --secret env:SLACK_SECRET --scheme slack --tolerance 0
is "$(post -H 'X-Slack-Request-Timestamp: 1531420618' \
	-H 'X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' \
	--data-binary "$SLACK_BODY" "$URL")" 200 "Slack: the documented example is accepted"
stop_wh
is "$(jq -r .body_text slack.out)" "$SLACK_BODY" "... a slash command form kept as body_text"

# --- Stripe: t and v1, tolerance, JSON only --------------------------------------------
export STRIPE_SECRET=whsec_stripe_test
start_wh stripe --secret env:STRIPE_SECRET --scheme stripe
now=$(date +%s)
evt='{"id":"evt_1","type":"charge.succeeded"}'
is "$(post -H "Stripe-Signature: t=$now,v1=$(hmac_hex "$STRIPE_SECRET" "$now.$evt"),v0=abc" --data-binary "$evt" "$URL")" 200 \
	"Stripe: a fresh signed event is accepted"
old=$((now - 400))
is "$(post -H "Stripe-Signature: t=$old,v1=$(hmac_hex "$STRIPE_SECRET" "$old.$evt")" --data-binary "$evt" "$URL")" 401 \
	"Stripe: 400 s old with a 300 s tolerance: 401"
is "$(post -H "Stripe-Signature: t=$now,v1=$(hmac_hex "$STRIPE_SECRET" "$now.not json")" --data-binary "not json" "$URL")" 400 \
	"Stripe: a body that is not JSON: 400"
is "$(post -H "Stripe-Signature: t=$now,v1=$(hmac_hex "$STRIPE_SECRET" "$now.$evt")" --data-binary "$evt" "$URL")" 200 \
	"Stripe: the same event id again is acknowledged"
stop_wh
is "$(jq -r .id stripe.out | tr '\n' ' ')" "evt_1 " "... and stored once (its id is the event's)"

# --- plain HMAC, limits -----------------------------------------------------------------
export H_SECRET=s3cr3t
start_wh hm --secret env:H_SECRET --scheme hmac-sha256 --header X-Sig --max-body 100 --stats hm.st
b64=$(printf 'abc' | openssl dgst -sha256 -hmac "$H_SECRET" -binary | base64)
is "$(post -H "X-Sig: $b64" -H 'X-Delivery-Id: h1' --data-binary 'abc' "$URL")" 200 "hmac-sha256: a base64 signature"
is "$(post -H "X-Sig: sha256=$(hmac_hex "$H_SECRET" abd)" -H 'X-Delivery-Id: h2' --data-binary 'abd' "$URL")" 200 \
	"hmac-sha256: a sha256=HEX signature"
big=$(head -c 200 /dev/zero | tr '\0' x)
is "$(post -H "X-Sig: $(hmac_hex "$H_SECRET" "$big")" --data-binary "$big" "$URL")" 413 "a body over --max-body: 413"
stop_wh
is "$(jq -c '[.accepted, .duplicates, .rejected["413"]]' hm.st)" '[2,0,1]' "--stats counts what happened"

# --- SIGTERM lets a request in flight finish --------------------------------------------
start_wh slow --secret env:H_SECRET --scheme hmac-sha256 --header X-Sig --out slow.d
slowbody="{\"big\":\"$(head -c 60000 /dev/zero | tr '\0' a)\"}"
curl -s -o /dev/null -w '%{http_code}' --limit-rate 20k -H "X-Sig: $(hmac_hex "$H_SECRET" "$slowbody")" \
	-H 'X-Delivery-Id: slow-1' --data-binary "$slowbody" "$URL" > slowcode &
cpid=$!
sleep 1
kill -TERM "$wh_pid"
sleep 0.3
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" 000 "after SIGTERM no new connection is accepted"
wait "$cpid"
is "$(cat slowcode)" 200 "... but the upload in flight completes and is acknowledged"
wait_rc=0
wait "$wh_pid" || wait_rc=$?
is "$wait_rc:$(cat slow.d/events-*.jsonl | jq -r .id)" "0:slow-1" "... is stored, and the server exits 0"

# --- a load of signed requests ---------------------------------------------------------------
start_wh load --secret env:H_SECRET --scheme hmac-sha256 --header X-Sig --out load.d
python3 - "$URL" "$H_SECRET" > load.cfg <<'PY'
import hashlib, hmac, sys
url, key = sys.argv[1], sys.argv[2].encode()
for i in range(3000):
    body = '{"n":%d,"pad":"%s"}' % (i, "x" * (i % 50))
    sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    print('next\nurl = "%s"\nheader = "X-Sig: %s"\nheader = "X-Delivery-Id: load-%d"\ndata-binary = "%s"\nwrite-out = "%%{http_code}\\n"\nsilent\noutput = "/dev/null"' % (url, sig, i, body.replace('"', '\\"')))
PY
curl -s --parallel --parallel-max 50 -K load.cfg > codes1 2>/dev/null
curl -s --parallel --parallel-max 50 -K load.cfg > codes2 2>/dev/null
stop_wh
is "$(sort codes1 | uniq -c | awk '{ print $2 ":" $1 }')" "200:3000" "3,000 signed requests at 50 at a time: all acknowledged"
is "$(sort codes2 | uniq -c | awk '{ print $2 ":" $1 }')" "200:3000" "... and all of them again"
cat load.d/events-*.jsonl | jq -r .body.n | sort -n > got
seq 0 2999 > want
is_file got want "every accepted event is stored exactly once"

# --- slow and hostile clients --------------------------------------------------------------
# 2,000 clients that trickle their headers hold a socket each, not a thread:
# 100 signed deliveries from another address all get through meanwhile.
start_wh slowloris --secret env:H_SECRET --scheme hmac-sha256 --header X-Sig --out sl.d \
	--max-client-connections 3000
SLPORT=$(cat slowloris.port)
python3 "$APIPE_TOP/tests/bin/slow-clients.py" "$SLPORT" 2000 10 > slow.result &
slow_pid=$!
sleep 2
python3 - "$URL" "$H_SECRET" > valid.cfg <<'PY'
import hashlib, hmac, sys
url, key = sys.argv[1], sys.argv[2].encode()
for i in range(100):
    body = '{"v":%d}' % i
    sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    print('next\nurl = "%s"\nheader = "X-Sig: %s"\nheader = "X-Delivery-Id: v-%d"\ndata-binary = "%s"\nwrite-out = "%%{http_code}\\n"\nsilent\noutput = "/dev/null"' % (url, sig, i, body.replace('"', '\\"')))
PY
curl -s --interface 127.0.0.2 --parallel --parallel-max 10 -K valid.cfg > vcodes 2>/dev/null
wait "$slow_pid"
is "$(awk '{ print $1 }' slow.result)" 2000 "2,000 slow clients were held open"
is "$(sort vcodes | uniq -c | awk '{ print $2 ":" $1 }')" "200:100" "while 100 signed deliveries all got 200"
stop_wh
cat sl.d/events-*.jsonl | jq -r .body.v | sort -n > got
seq 0 99 > want
is_file got want "and all 100 were stored, once"

start_wh deadline --secret env:H_SECRET --scheme hmac-sha256 --header X-Sig --request-timeout 1.5
DLPORT=$(cat deadline.port)
python3 "$APIPE_TOP/tests/bin/slow-clients.py" "$DLPORT" 20 6 0.3 > dl.result
is "$(awk '{ print $2 }' dl.result)" 20 "clients trickling headers past --request-timeout are cut off"
is "$(awk '{ print ($3 < 4) ? "soon" : $3 }' dl.result)" soon "within the deadline and a little, not at their pace"
python3 "$APIPE_TOP/tests/bin/slow-clients.py" "$DLPORT" 100 1 0.3 > per.result
is "$(awk '{ print $1 }' per.result)" 64 "one address holds at most --max-client-connections (64) at once"
is "$(curl -s -X PUT --data-binary 'abc' -o /dev/null -w '%{http_code}' "$URL")" 405 "PUT with a body: 405, not an empty reply"
is "$(curl -s -X PATCH --data-binary 'abc' -o /dev/null -w '%{http_code}' "$URL")" 405 "PATCH with a body: 405"
head -c 3000000 /dev/zero | tr '\0' a > big.bin
is "$(curl -s -H 'X-Sig: x' --data-binary @big.bin -o /dev/null -w '%{http_code}' "$URL")" 413 \
	"a Content-Length over --max-body: 413 before the body is read"
python3 - "$DLPORT" > endless.result <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Sig: x\r\nTransfer-Encoding: chunked\r\n\r\n")
chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
sent, start, state = 0, time.time(), "open"
s.settimeout(1)
while time.time() - start < 8:
    try:
        s.sendall(chunk)
        sent += len(chunk)
    except OSError:
        state = "closed"
        break
print(state, sent // (1 << 20))
PY
is "$(awk '{ print $1 }' endless.result)" closed "an endless chunked body is cut off once past --max-body"
is "$(awk '{ print ($2 < 64) ? "bounded" : $2 " MiB" }' endless.result)" bounded "after little more than the cap, not read on"
stop_wh

# --- usage -------------------------------------------------------------------------------------
run webhook-recv --listen 127.0.0.1:0 --secret literal --scheme github
is "$rc" 64 "a literal secret is refused"
run webhook-recv --listen 127.0.0.1:0 --secret env:H_SECRET --scheme nope
is "$rc" 64 "an unknown scheme is a usage error"
run webhook-recv --listen 127.0.0.1:0 --secret env:H_SECRET --scheme github --header X
is "$rc" 64 "--header goes with hmac-sha256"
run webhook-recv --listen 127.0.0.1:0 --secret env:H_SECRET --scheme github --request-timeout nan
is "$rc" 64 "--request-timeout nan is a usage error"

# --- bodies on their way share one budget (--max-held) ----------------------------------------
# 60 clients each declare a 1 MiB body, send 600 KB of it and stall: past the
# budget they get 503 with Retry-After, the memory stays near the budget, and
# a signed delivery from another address lands once the stalled ones time out
start_wh held --secret env:H_SECRET --scheme hmac-sha256 --header X-Sig --out held.d \
	--max-held 8M --max-client-connections 1000 --request-timeout 4
HPORT=$(cat held.port)
python3 "$APIPE_TOP/tests/bin/stall-bodies.py" "$HPORT" 60 600000 > held.result &
hpid=$!
sleep 1.2
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$wh_pid/status")
body='{"held":1}'
sig=$(hmac_hex "$H_SECRET" "$body")
code=$(curl -s --interface 127.0.0.2 --retry 20 --retry-delay 1 -o held.resp -w '%{http_code}' \
	-H "X-Sig: $sig" -H 'X-Delivery-Id: held-1' --data-binary "$body" "http://127.0.0.1:$HPORT/hook")
wait "$hpid"
is "$([ "$(cat held.result)" -ge 40 ] && echo yes)" yes \
	"past --max-held 8M, the stalled bodies get 503 ($(cat held.result) of 60)"
is "$([ "$rss" -lt 40960 ] && echo yes)" yes "... webhook-recv holds about the budget (${rss} KiB, not 60 MiB)"
is "$code" 200 "a signed delivery from another client still lands (with retries)"
stop_wh
is "$(cat held.d/events-*.jsonl | jq -r .id)" "held-1" "... and is stored"

# the defaults: 240 unsigned bodies of 1 MiB from four addresses, each sent but
# its last byte, stall; webhook-recv stays within 96 MiB and the rest get 503
start_wh dflt --secret env:H_SECRET --scheme hmac-sha256 --header X-Sig --out dflt.d
python3 "$APIPE_TOP/tests/bin/stall-bodies.py" "$(cat dflt.port)" 240 1048575 --per-address 60 \
	--send-timeout 2 --wait 1 --recv-timeout 0.05 --hold 3 > dflt.result &
dpid=$!
i=0
while [ ! -s dflt.result ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$wh_pid/status")
wait "$dpid"
if ldd "$APIPE_BIN/webhook-recv" | grep -q libasan; then	# its allocator keeps freed memory
	echo "ok $((tap_n + 1)) # SKIP under ASan memory is ASan's (peak ${hwm} KiB)"
	tap_n=$((tap_n + 1))
else
	is "$([ "$hwm" -le 98304 ] && echo yes)" yes \
		"240 stalled unsigned 1 MiB bodies: webhook-recv peaks at ${hwm} KiB (at most 96 MiB)"
fi
is "$([ "$(cat dflt.result)" -ge 150 ] && echo yes)" yes "... the bodies past the default budget got 503 ($(cat dflt.result) of 240)"
stop_wh

# --- a secret a sender echoes is masked in the stored event, which stays JSON ----------
export NUM_SECRET=1234567890
start_wh echo --secret env:NUM_SECRET --scheme hmac-sha256 --header X-Sig --out echo.d
body='{"n":1234567890,"s":"x\/1234567890","t":"\u0031234567890"}'
post -H "X-Sig: $(hmac_hex "$NUM_SECRET" "$body")" -H 'X-Delivery-Id: echo-1' --data-binary "$body" "$URL" > /dev/null
bin=$(printf 'bin\377 1234567890')
post -H "X-Sig: $(hmac_hex "$NUM_SECRET" "$bin")" -H 'X-Delivery-Id: echo-2' --data-binary "$bin" "$URL" > /dev/null
stop_wh
is "$(jq -c 'select(.id == "echo-1") | .body' echo.d/events-*.jsonl)" '{"n":"REDACTED","s":"x/REDACTED","t":"REDACTED"}' \
	"the secret echoed as a number, with \\/ and as \\u escapes: masked, the line still JSON"
is "$(jq -r 'select(.id == "echo-2") | .body_base64' echo.d/events-*.jsonl | base64 -d | od -An -c | tr -s ' ')" \
	"$(printf 'bin\377 REDACTED' | od -An -c | tr -s ' ')" "a body that is not UTF-8: masked before it is base64-encoded"
unlike echo.d/events-*.jsonl 1234567890 "the secret appears nowhere in the events file"

# --- reading the events back: --read, --follow into upsert, across receivers ----------
export R_SECRET=read-side-secret
send() {	# ID: a signed event with that id, to $URL
	_b="{\"id\":\"$1\",\"n\":1}"
	post -H "X-Sig: $(hmac_hex "$R_SECRET" "$_b")" -H "X-Delivery-Id: $1" --data-binary "$_b" "$URL" > /dev/null
}
start_wh rd1 --secret env:R_SECRET --scheme hmac-sha256 --header X-Sig --out rd.d
for i in 1 2 3; do send "e$i"; done
{ webhook-recv --read rd.d --follow 2> follow.err & echo $! > follow.pid; wait; } |
	upsert --db rd.db --table ev --key id=/body/id 2> upsert.err &
upid=$!
for i in 4 5; do send "e$i"; done
stop_wh
start_wh rd2 --secret env:R_SECRET --scheme hmac-sha256 --header X-Sig --out rd.d
for i in 6 7 8; do send "e$i"; done
send e2	# a redelivery: stored once
stop_wh
f=$(ls rd.d/events-*.jsonl | tail -1)
printf '{"id":"e9","body":{"id":"e9"' >> "$f"	# a line being written
i=0
while [ "$(sqlite3 rd.db 'select count(*) from ev' 2>/dev/null)" != 8 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(ls rd.d/events-*.jsonl | wc -l | tr -d ' ')" 2 "two receivers, two events files"
is "$(sqlite3 rd.db "select group_concat(id) from (select json_extract(record, '\$.body.id') id from ev order by 1)")" \
	"e1,e2,e3,e4,e5,e6,e7,e8" "--read --follow | upsert: every event of both files, as they were stored, each once"
printf ',"n":1}}\n' >> "$f"	# the line completed
i=0
while [ "$(sqlite3 rd.db 'select count(*) from ev' 2>/dev/null)" != 9 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(sqlite3 rd.db "select count(*) from ev where id = 'e9'")" 1 "a line is read once it is whole"
kill -TERM "$(cat follow.pid)"
urc=0
wait "$upid" || urc=$?
is "$urc:$(cat follow.err upsert.err)" "0:" "--follow ends quietly on SIGTERM, and upsert with it"
webhook-recv --read rd.d --follow | head -1 > first.jsonl
is "$(jq -r .body.id first.jsonl)" e1 "--follow stops when its reader has gone (head -1)"
run webhook-recv --read rd.d
is "$(jq -r .body.id out | tr '\n' ' ')" "e1 e2 e3 e4 e5 e6 e7 e8 e9 " "--read: every stored event in order, then the end"
is "$rc" 0 "... exit 0"
: > shrink.out
webhook-recv --read rd.d --follow >> shrink.out 2> shrink.err &
spid=$!
i=0
while [ "$(wc -l < shrink.out)" -lt 9 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
: > "$f"	# an events file cut short behind the reader's back
src=0
wait "$spid" || src=$?
is "$src" 65 "--follow: an events file that shrank stops the reader (65), nothing read twice or skipped silently"
like shrink.err "shorter than the .* bytes already read: an events file is only ever appended to" "... saying so"
run webhook-recv --read nothing.d
is "$rc" 66 "--read of a missing directory: 66"
run webhook-recv --read rd.d --listen 127.0.0.1:0
is "$rc" 64 "--read with --listen: usage"
done_testing
