#!/bin/sh
# Inputs at the limits never make a program crash or lie: deep keys, lone
# surrogates, huge exponents, member order, reals that do not fit, NaN
# options, deep data under recursive schemas, exact multipleOf, and one
# rule for instants.
. "$APIPE_TOP/tests/lib.sh"

# --- dedupe keys: by value, exactly, at any depth ------------------------------
python3 -c "print('{\"c\":' + '['*99990 + ']'*99990 + '}')" > deep.jsonl
python3 -c "print('{\"c\":' + '['*99990 + ']'*99990 + '}')" >> deep.jsonl
run dedupe --max-depth 100000 --key /c < deep.jsonl
is "$rc" 0 "dedupe --max-depth 100000 on a 99,990-deep key does not crash"
is "$(wc -l < out | tr -d ' ')" 1 "and the two equal deep keys are one"

lines '{"id":"\ud800"}' '{"id":"\udc00"}' '{"id":"\ufffd"}' '{"id":"\ud800"}' '{"id":"\uD800"}' > sur.jsonl
run dedupe --key /id < sur.jsonl
is "$rc" 0 "dedupe on lone surrogates"
is "$(wc -l < out | tr -d ' ')" 3 "\\ud800, \\udc00 and U+FFFD are three keys; \\ud800 twice (any case) is one"

lines '{"k":1e9223372036854775807}' '{"k":1e9223372036854775808}' '{"k":10e9223372036854775806}' \
	'{"k":1e-9223372036854775809}' '{"k":100e-9223372036854775811}' \
	'{"k":-1e99999999999999999999999999999}' '{"k":-1e99999999999999999999999999998}' \
	'{"k":-0.1e99999999999999999999999999999}' > exp.jsonl
run dedupe --key /k < exp.jsonl
is "$(sed -n 's/{"k":\(.*\)}/\1/p' out | tr '\n' ' ')" \
	"1e9223372036854775807 1e9223372036854775808 1e-9223372036854775809 -1e99999999999999999999999999999 -1e99999999999999999999999999998 " \
	"exponents of any length compare exactly (10e…806 = 1e…807, 100e-…811 = 1e-…809, -0.1e…999 = -1e…998)"
lines '{"v":1e9223372036854775808}' '{"v":1e9223372036854775807}' '{"v":2e9223372036854775807}' > vexp.jsonl
run watermark track --state st --name big --order-field /v --commit-on-eof < vexp.jsonl
is "$(watermark get --state st --name big)" "1e9223372036854775808" "watermark orders huge exponents exactly"

lines '{"k":{"a":1,"b":2},"n":1}' '{"k":{"b":2,"a":1},"n":2}' '{"k":{"b":2.0,"a":1e0},"n":3}' \
	'{"k":{"a":1,"b":3},"n":4}' > order.jsonl
run dedupe --key /k < order.jsonl
is "$(sed 's/.*"n":\([0-9]\).*/\1/' out | tr '\n' ' ')" "1 4 " "object keys compare by value, whatever the member order"
lines '{"k":{"b":2,"a":1},"v":5}' '{"k":{"a":1,"b":2},"v":7}' > order2.jsonl
run dedupe --key /k --latest --order-field /v < order2.jsonl
is "$(cat out)" '{"k":{"a":1,"b":2},"v":7}' "also with --latest"
run dedupe --key /k --seen seen.bin < order.jsonl
dedupe --seen seen.bin --commit
run dedupe --key /k --seen seen.bin < order2.jsonl
is "$(wc -l < out | tr -d ' ')" 0 "and with --seen across runs"

# --- upsert: nothing merged, nothing rounded --------------------------------------
run upsert --db t.db --table t --key /id < sur.jsonl
is "$rc" 65 "upsert refuses a lone surrogate as a key (it would merge with U+FFFD)"
like err 'line 1: /id: .*lone surrogate' "naming the line and the pointer"
run upsert --db t2.db --table t --key /id --dead-letter dl.jsonl < sur.jsonl
is "$rc" 0 "with a dead letter the run goes on"
is "$(sqlite3 t2.db 'select count(*) from t')" 1 "one row: U+FFFD"
is "$(wc -l < dl.jsonl | tr -d ' ')" 4 "the four lone surrogates in the dead letter"
lines '{"id":1,"r":1e999999999}' '{"id":2,"r":0.1e-999999}' '{"id":3,"r":-1e400}' \
	'{"id":4,"r":0.000e9}' '{"id":5,"r":2.5}' > reals.jsonl
run upsert --db r.db --table t --key /id --column r=/r:real --dead-letter rdl.jsonl < reals.jsonl
is "$rc" 0 "reals"
is "$(sqlite3 r.db 'select id from t order by id' | tr '\n' ' ')" "4 5 " "only the reals a double holds land"
is "$(grep -c 'does not fit column r' rdl.jsonl)" 3 "overflow and underflow are dead letters, not Inf or 0"

# --- validate ---------------------------------------------------------------------
echo '{"type":"object"}' > obj.json
echo '{}' > one.jsonl
for bad in nan NaN inf -1 101 '' 5x; do
	run validate --schema obj.json --max-invalid-rate "$bad" < one.jsonl
	is "$rc" 64 "--max-invalid-rate '$bad' is a usage error"
done
echo '{"type":"object","properties":{"c":{"$ref":"#"}}}' > rec.json
python3 -c "print('{\"c\":'*1500 + '{}' + '}'*1500)" > deepdata.jsonl
run validate --max-depth 2000 --schema rec.json < deepdata.jsonl
is "$rc" 65 "deep data under a valid recursive schema is bad data (65)"
like err 'data nests too deep' "and says the data is deep"
echo '{"$ref":"#"}' > loop.json
run validate --schema loop.json < one.jsonl
is "$rc" 78 "a schema that recurses in place is a configuration error (78)"
like err 'recurses without end' "and says so"
echo '{"multipleOf":0.99999999999999999999999}' > m1.json
echo 1 > one-num.jsonl
run validate --schema m1.json < one-num.jsonl
is "$rc" 65 "1 is not a multiple of 0.99999999999999999999999"
echo '{"multipleOf":12345678901234567891}' > m2.json
echo 1e-400 > tiny.jsonl
run validate --schema m2.json < tiny.jsonl
is "$rc" 65 "1e-400 is not a multiple of 12345678901234567891"
echo 123456789012345678910 > ten.jsonl
run validate --schema m2.json < ten.jsonl
is "$rc" 0 "123456789012345678910 (exactly 10x) is"
echo '{"multipleOf":3}' > m3.json
lines 3e99999999999999999999 1e400 > huge.jsonl
run validate --schema m3.json --dead-letter mdl.jsonl < huge.jsonl
is "$(cat out)" 3e99999999999999999999 "3e99999999999999999999 is a multiple of 3, 1e400 is not"

# --- instants: one rule -----------------------------------------------------------
lines '{"id":1,"u":"2016-12-31T23:59:60.5Z"}' '{"id":1,"u":"2017-01-01T00:00:00.2Z"}' \
	'{"id":1,"u":"2016-12-31T23:59:59.9Z"}' > leap.jsonl
run dedupe --key /id --latest --order-field /u < leap.jsonl
is "$(cat out)" '{"id":1,"u":"2017-01-01T00:00:00.2Z"}' "a leap second orders before the next day"
run watermark track --state st --name leap --order-field /u --commit-on-eof < leap.jsonl
is "$(watermark get --state st --name leap)" "2017-01-01T00:00:00.2Z" "watermark agrees"
lines '{"id":1,"u":"2016-12-31T23:59:59.9Z"}' '{"id":1,"u":"2016-12-31T18:59:60.1-05:00"}' > leap2.jsonl
run dedupe --key /id --latest --order-field /u < leap2.jsonl
is "$(cat out)" '{"id":1,"u":"2016-12-31T18:59:60.1-05:00"}' "the leap second in another offset orders after 23:59:59.9Z"
lines '{"id":1,"u":"2026-01-01T10:00:00"}' > local.jsonl
run dedupe --key /id --latest --order-field /u < local.jsonl
is "$rc" 65 "dedupe --latest refuses a time without an offset"
like err 'line 1: /u: .*offset' "saying an offset is required"
run watermark track --state st --name local --order-field /u < local.jsonl
is "$rc" 65 "so does watermark track"
lines '{"u":"2015-06-30T12:00:60Z"}' > badleap.jsonl
run watermark track --state st --name badleap --order-field /u < badleap.jsonl
is "$rc" 65 "second 60 outside 23:59:60 UTC is refused"
run upsert --db ts.db --table t --key /u --column at=/u:timestamp < badleap.jsonl
is "$rc" 65 "by upsert's timestamp columns too"
done_testing
