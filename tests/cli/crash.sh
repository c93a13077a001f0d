# kill -9 of the daemon while 500 requests are in flight, then a restart
# (issue #10): the database opens cleanly, every request whose client got
# a complete response has exactly one row (found by its X-Request-Id),
# no request has two, and the key's usage counts each stored row once.
. "$SRCDIR/tests/lib/libtest.sh"
test_init crash

# Two sites serve the model: one slow to answer, one slow mid-stream, so
# that at the kill requests wait for a first byte, stream, and queue.
fake_start new-api
A=$FAKE_URL
one_token "$A"
fake_start new-api
B=$FAKE_URL
one_token "$B"
ok "site a" site add a "$A"
ok "account a" account add a --username alice --password pass-123
ok "site b" site add b "$B"
ok "account b" account add b --username alice --password pass-123
ok "key" key add crash
K=$(cat "$OUT")
BASE="http://$(listen_addr)"
curl -s -X POST "$A/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"slow","delay_ms":150,"times":-1}' >/dev/null
curl -s -X POST "$B/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"slow_stream","delay_ms":40,"times":-1}' >/dev/null

# 500 transfers in one curl, all at once: half whole replies, half
# streams. Each line: curl's exit code, the HTTP status, the transfer's
# number; each transfer's response head in h/N (read afterwards: curl's
# own %header{} came back empty for two of 500 transfers in one run).
i=1
mkdir "$TMP/h"
: >"$TMP/curl.conf"
while [ $i -le 500 ]; do
	if [ $((i % 2)) -eq 0 ]; then s=true; else s=false; fi
	cat >>"$TMP/curl.conf" <<EOF
next
url = "$BASE/v1/chat/completions"
header = "Authorization: Bearer $K"
header = "Content-Type: application/json"
data = "{\"model\":\"gpt-4o-mini\",\"stream\":$s,\"messages\":[{\"role\":\"user\",\"content\":\"crash $i\"}]}"
output = "/dev/null"
dump-header = "$TMP/h/$i"
write-out = "%{exitcode} %{http_code} $i\n"
EOF
	i=$((i + 1))
done
: >"$TMP/done"
curl -s -Z --parallel-max 500 -K "$TMP/curl.conf" >"$TMP/done" 2>/dev/null &
CURL=$!

# Kill once a good part has been answered and the rest is in flight:
# counted by the response heads curl has written (its -w lines are
# buffered until it exits).
pid=$(cat "$METAPI_DATA_DIR/daemon.lock")
i=0
while [ "$(find "$TMP/h" -type f -size +0 | wc -l)" -lt 220 ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -9 "$pid"
wait "$CURL"
wait_gone || fail "the daemon did not go"

complete=$(grep -c '^0 200 ' "$TMP/done")
cut=$(grep -vc '^0 200 ' "$TMP/done")
expect "every transfer reported" "$(wc -l <"$TMP/done" | tr -d ' ')" 500
[ "$complete" -ge 150 ] && pass "$complete complete before the kill" ||
    fail "only $complete complete before the kill"
[ "$cut" -gt 0 ] && pass "$cut cut by the kill" ||
    fail "the kill cut nothing: it came too late to prove anything"
ls "$METAPI_DATA_DIR"/requests-*.journal >/dev/null 2>&1 &&
    pass "the journal outlived the kill" ||
    fail "no journal file after the kill"

# The restart replays the journal before it serves anything.
ok "restart" status
if [ -z "${TEST_PGDB:-}" ]; then
	expect "integrity" "$(db_sql 'PRAGMA integrity_check')" ok
fi
db_sql "SELECT rid FROM request_logs WHERE rid IS NOT NULL" | sort >"$TMP/rows"
expect "no request has two rows" "$(uniq -d "$TMP/rows" | wc -l | tr -d ' ')" 0
# rid N: the request id in transfer N's head, or "none".
rid() {
	r=$(tr -d '\r' <"$TMP/h/$1" | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: *//p' | tail -n 1)
	echo "${r:-none}"
}
for n in $(grep '^0 200 ' "$TMP/done" | cut -d' ' -f3); do
	rid "$n"
done | sort >"$TMP/complete"
expect "every complete response names its request" \
    "$(grep -c '^none$' "$TMP/complete")" 0
expect "every complete response has its row" \
    "$(comm -23 "$TMP/complete" "$TMP/rows" | wc -l | tr -d ' ')" 0
rows=$(wc -l <"$TMP/rows" | tr -d ' ')
[ "$rows" -le 500 ] && pass "$rows rows for 500 requests" ||
    fail "$rows rows for 500 requests"
# Stored as they ended, usage and all: sealed in the journal before
# their last bytes went.
db_sql "SELECT rid FROM request_logs WHERE status = 'ok' AND completion_tokens > 0 AND cost_usd > 0 AND rid IS NOT NULL" | sort >"$TMP/okrows"
expect "every complete response's row says ok, with its usage and cost" \
    "$(comm -23 "$TMP/complete" "$TMP/okrows" | wc -l | tr -d ' ')" 0
used=$(db_sql "SELECT used_requests FROM api_keys WHERE name = 'crash'")
counted=$(db_sql "SELECT COUNT(*) FROM request_logs WHERE key_id = (SELECT id FROM api_keys WHERE name = 'crash') AND attempt_count > 0")
expect "key usage counts each stored row once" "$used" "$counted"
grep -q 'journal: recovered' "$METAPI_DATA_DIR/metapi.log" &&
    pass "the restart recovered rows from the journal" ||
    fail "nothing recovered from the journal"
ls "$METAPI_DATA_DIR"/requests-*.journal 2>/dev/null | wc -l >"$TMP/nj"
expect "the old journal is gone after the replay" "$(cat "$TMP/nj")" 1

one=$(head -n 1 "$TMP/complete")
ok "logs" --json logs --limit 1000
expect_match "logs show the request id the client got" "$(cat "$OUT")" "\"request_id\": *\"$one\""

# A second restart adds nothing: the replay is not repeated.
ok "stop" stop
wait_gone
ok "start again" status
expect "no new rows" "$(db_sql 'SELECT COUNT(*) FROM request_logs WHERE rid IS NOT NULL')" "$rows"
expect "usage unchanged" "$(db_sql "SELECT used_requests FROM api_keys WHERE name = 'crash'")" "$used"

test_done
