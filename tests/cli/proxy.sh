# The /v1 relay surfaces end to end: two fake New API sites behind
# metapi, non-stream and stream in each format, usage and cost, failover
# before the first byte, in-band errors after it, and every client error
# with its status, in the client's error shape, with nothing forwarded.
. "$SRCDIR/tests/lib/libtest.sh"
test_init proxy

fake_start new-api
A=$FAKE_URL
fake_start new-api
B=$FAKE_URL
ok "site a" site add a "$A"
ok "site b" site add b "$B"
ok "account a" account add a --username alice --password pass-123
ok "account b" account add b --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
ok "narrow key" key add narrow --models 'claude-*'
NK=$(cat "$OUT")
BASE="http://$(listen_addr)"

# post PATH BODY [CURL-ARGS...]: POST as the key; $CODE, body in $TMP/r.
post() {
	p=$1 b=$2
	shift 2
	CODE=$(curl -sN -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
	    -H 'Content-Type: application/json' "$@" -d "$b" "$BASE$p")
}
fake_count() {
	n=0
	for u in "$A" "$B"; do
		c=$(curl -s "$u/__fake/requests?path=$1" | jget - count)
		n=$((n + c))
	done
	echo "$n"
}
HELLO='"messages":[{"role":"user","content":"hello fake relay"}]'

post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}"
expect "chat: 200" "$CODE" 200
expect "chat: the upstream's answer" "$(jget "$TMP/r" choices.0.message.content)" "echo: hello fake relay"
expect "chat: usage passed on" "$(jget "$TMP/r" usage.prompt_tokens)" 3

post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
expect "stream: 200" "$CODE" 200
expect "stream: every event relayed" "$(grep -c '^data: ' "$TMP/r")" 7
expect "stream: ends with [DONE]" "$(grep '^data: ' "$TMP/r" | tail -n 1)" "data: [DONE]"
expect_nomatch "stream: the usage chunk the client did not ask for is hidden" \
    "$(cat "$TMP/r")" '"usage"'
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"stream_options\":{\"include_usage\":true},$HELLO}"
expect_match "stream: usage when asked" "$(cat "$TMP/r")" '"usage":\{"prompt_tokens":3'
post /chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}"
expect "alias without /v1" "$CODE" 200

CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "x-api-key: $K" \
    -H 'anthropic-version: 2023-06-01' -d "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":50,$HELLO}" \
    "$BASE/v1/messages")
expect "messages: 200" "$CODE" 200
expect "messages: Anthropic reply" "$(jget "$TMP/r" content.0.text)" "echo: hello fake relay"
CODE=$(curl -sN -o "$TMP/r" -w '%{http_code}' -H "x-api-key: $K" \
    -d "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":50,\"stream\":true,$HELLO}" \
    "$BASE/v1/messages")
expect "messages stream: 200" "$CODE" 200
expect "messages stream: events in order" \
    "$(grep '^event: ' "$TMP/r" | head -n 1) $(grep '^event: ' "$TMP/r" | tail -n 1)" \
    "event: message_start event: message_stop"
post /v1/responses '{"model":"gpt-4o","input":"hello fake relay","stream":true}'
expect "responses stream: 200" "$CODE" 200
expect_match "responses: completed event" "$(cat "$TMP/r")" "response.completed"
post /v1/embeddings '{"model":"text-embedding-3-small","input":"hello"}'
expect "embeddings: 200" "$CODE" 200
expect "embeddings: a vector" "$(jget "$TMP/r" object)" list

# Client errors: the right status and shape, nothing forwarded.
before=$(fake_count /v1/chat/completions)
post /v1/chat/completions '{not json'
expect "bad JSON: 400" "$CODE" 400
expect "bad JSON: OpenAI error" "$(jget "$TMP/r" error.code)" invalid_json
# jansson's message quotes the bad token, cut inside a UTF-8 character:
# the error reply must still be JSON (it was a NULL the daemon died on).
printf '{"model\\\303\265' >"$TMP/badesc"
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
    --data-binary @"$TMP/badesc" "$BASE/v1/chat/completions")
expect "bad escape before a UTF-8 character: 400" "$CODE" 400
expect "bad escape: OpenAI error" "$(jget "$TMP/r" error.code)" invalid_json
expect_match "bad escape: the message says where" "$(jget "$TMP/r" error.message)" \
    "invalid escape"
post /v1/chat/completions '{"model":"claude-3-5-haiku","model":"gpt-4o-mini"}'
expect "a key twice: 400" "$CODE" 400
expect_match "a key twice: said so" "$(jget "$TMP/r" error.message)" "duplicate"
post /v1/chat/completions '[1,2]'
expect "JSON array: 400" "$CODE" 400
post /v1/chat/completions '{"messages":[]}'
expect "no model: 400" "$CODE" 400
post /v1/chat/completions '{"model":"no-such-model"}'
expect "unknown model: 404" "$CODE" 404
expect "model_not_found" "$(jget "$TMP/r" error.code)" model_not_found
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $NK" \
    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" "$BASE/v1/chat/completions")
expect "model outside the key's patterns: 403" "$CODE" 403
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -d "{\"model\":\"gpt-4o-mini\"}" \
    "$BASE/v1/chat/completions")
expect "no key: 401" "$CODE" 401
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -X GET -H "Authorization: Bearer $K" \
    "$BASE/v1/chat/completions")
expect "GET: 405" "$CODE" 405
ok "small body limit" settings set http_max_request_body_bytes 1024
head -c 3000 /dev/zero | tr '\0' a >"$TMP/big"
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
    -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big" "$BASE/v1/chat/completions")
expect "chunked body over the limit: 413" "$CODE" 413
ok "body limit back" settings set http_max_request_body_bytes 33554432
expect "nothing was forwarded" "$(fake_count /v1/chat/completions)" "$before"

# Failover before the first byte: site a fails, every request still works.
# Round robin for this part: under the weighted draw, site a going
# untried in all 12 requests is unlikely, not impossible (it happened).
ok "round robin for the failover checks" route edit gpt-4o-mini --strategy round_robin
# Every channel of both sites can serve before the fault; when one
# cannot, its reason is in the failure.
ok "explain before the failover" --json route explain gpt-4o-mini
why=
i=0
while [ $i -lt "$(jget "$OUT" candidates.length)" ]; do
	[ "$(jget "$OUT" candidates.$i.eligible)" = true ] ||
	    why="$why $(jget "$OUT" candidates.$i.site): $(jget "$OUT" candidates.$i.reason);"
	i=$((i + 1))
done
expect "four channels, all eligible" "$(jget "$OUT" candidates.length)$why" 4
curl -s -X POST "$A/__fake/fault" -d '{"path":"/v1/chat/completions","status":500,"times":-1}' >/dev/null
fails=0
i=0
while [ $i -lt 12 ]; do
	post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}"
	[ "$CODE" = 200 ] || fails=$((fails + 1))
	i=$((i + 1))
done
expect "failover: no client errors" "$fails" 0
expect_match "failover: site a was tried" \
    "$(curl -s "$A/__fake/requests?path=/v1/chat/completions" | jget - count)" '^[1-9]'
curl -s -X DELETE "$A/__fake/faults" >/dev/null
ok "weighted again" route edit gpt-4o-mini --strategy weighted

# A client error from the upstream is passed on, not retried elsewhere.
curl -s -X POST "$A/__fake/fault" -d '{"path":"/v1/chat/completions","status":400,"times":-1,"body":"{\"error\":{\"message\":\"bad tool schema\",\"type\":\"invalid_request_error\"}}"}' >/dev/null
curl -s -X POST "$B/__fake/fault" -d '{"path":"/v1/chat/completions","status":400,"times":-1,"body":"{\"error\":{\"message\":\"bad tool schema\",\"type\":\"invalid_request_error\"}}"}' >/dev/null
before=$(fake_count /v1/chat/completions)
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}"
expect "upstream 400 passed on" "$CODE" 400
expect "with its message" "$(jget "$TMP/r" error.message)" "bad tool schema"
expect "not retried" "$(fake_count /v1/chat/completions)" "$((before + 1))"
curl -s -X DELETE "$A/__fake/faults" >/dev/null
curl -s -X DELETE "$B/__fake/faults" >/dev/null

# After the first byte a failure is an in-band error event, not a retry.
for u in "$A" "$B"; do
	curl -s -X POST "$u/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"reset","times":1}' >/dev/null
done
before=$(fake_count /v1/chat/completions)
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
expect "cut stream: the head was 200" "$CODE" 200
expect_match "cut stream: ends with an error event" "$(grep '^data: ' "$TMP/r" | tail -n 1)" '"error"'
expect_nomatch "cut stream: no invented [DONE]" "$(cat "$TMP/r")" 'DONE'
expect "cut stream: not retried" "$(fake_count /v1/chat/completions)" "$((before + 1))"
for u in "$A" "$B"; do curl -s -X DELETE "$u/__fake/faults" >/dev/null; done

# The log: one row per request, with usage, cost and attempts.
log_settle
ok "logs" --json logs --limit 200
expect_match "every request logged" "$(jget "$OUT" items.length)" '^[1-9][0-9]$'
ok "ok rows" --json logs --status ok --model gpt-4o-mini --limit 1
row="$TMP/row.json"
cp "$OUT" "$row"
expect "usage from the upstream" "$(jget "$row" items.0.usage_source)" upstream
expect "tokens logged" "$(jget "$row" items.0.prompt_tokens)/$(jget "$row" items.0.completion_tokens)" 3/4
expect_match "cost from the site's default-group price: 3 x \$2/M + 4 x \$4/M" \
    "$(jget "$row" items.0.cost_usd)" '^2\.(2|19+[0-9]*)e-0?5$'
expect_match "first byte timed" "$(jget "$row" items.0.ttfb_ms)" '^[0-9]+$'
ok "failed rows" --json logs --status fail --limit 200
expect_match "failures logged too" "$(jget "$OUT" items.length)" '^[1-9]'
ok "cut stream logged" --json logs --limit 1
expect "cut stream is a failed row" "$(jget "$OUT" items.0.status)" failed
expect_match "with the reason" "$(jget "$OUT" items.0.error)" "ended before"
ok "key counters" --json key show 1
expect_match "requests counted" "$(jget "$OUT" used_requests)" '^[1-9][0-9]*$'

# A client that hangs up mid-stream: the upstream transfer stops and the
# row says client_closed.
curl -s -X POST "$A/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"slow_stream","delay_ms":400,"times":-1}' >/dev/null
curl -s -X POST "$B/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"slow_stream","delay_ms":400,"times":-1}' >/dev/null
curl -sN --max-time 1 -H "Authorization: Bearer $K" \
    -d "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}" \
    "$BASE/v1/chat/completions" >/dev/null 2>&1
log_settle
ok "client_closed logged" --json logs --limit 1
expect "client_closed" "$(jget "$OUT" items.0.status)" client_closed
for u in "$A" "$B"; do curl -s -X DELETE "$u/__fake/faults" >/dev/null; done

# A client that hangs up while the upstream has not answered yet: noticed
# within a second or two, the upstream transfer dropped, not waited out.
for u in "$A" "$B"; do
	curl -s -X POST "$u/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"slow","delay_ms":6000,"times":-1}' >/dev/null
done
ok "rows before" --json logs --limit 1
BEFORE=$(jget "$OUT" items.0.id)
curl -s --max-time 1 -H "Authorization: Bearer $K" \
    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" \
    "$BASE/v1/chat/completions" >/dev/null 2>&1
log_settle
ok "early hang-up logged" --json logs --limit 1
expect "early hang-up: its row is there" "$(jget "$OUT" items.0.id)" $((BEFORE + 1))
expect "early hang-up: not a stream" "$(jget "$OUT" items.0.stream)" false
expect "early hang-up: client_closed" "$(jget "$OUT" items.0.status)" client_closed
expect_match "early hang-up: upstream dropped well before its 6 s" \
    "$(jget "$OUT" items.0.latency_ms)" '^([0-9]{1,3}|[1-3][0-9]{3})$'
for u in "$A" "$B"; do curl -s -X DELETE "$u/__fake/faults" >/dev/null; done

# An upstream's own error event ends the stream as it is, and fails the row.
for u in "$A" "$B"; do
	curl -s -X POST "$u/__fake/fault" -d '{"path":"/v1/messages","kind":"error_event","times":1}' >/dev/null
done
CODE=$(curl -sN -o "$TMP/r" -w '%{http_code}' -H "x-api-key: $K" \
    -d "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":50,\"stream\":true,$HELLO}" \
    "$BASE/v1/messages")
expect "error event: one error event, the upstream's" "$(grep -c '^event: error' "$TMP/r")" 1
log_settle
ok "error event logged" --json logs --limit 1
expect "as failed" "$(jget "$OUT" items.0.status)" failed
expect_match "with the upstream's words" "$(jget "$OUT" items.0.error)" "upstream error event"
for u in "$A" "$B"; do curl -s -X DELETE "$u/__fake/faults" >/dev/null; done

# Sticky sessions: one conversation stays on the site that served it,
# and moves when that site fails.
hits() {
	curl -s "$1/__fake/requests?path=/v1/chat/completions" | jget - count
}
# clear_cooldowns: the fault sections above left both sites cooling.
clear_cooldowns() {
	"$METAPI" --json route show gpt-4o-mini >"$TMP/route.json"
	for c in $(grep -o '"id": [0-9]*' "$TMP/route.json" | awk '{print $2}'); do
		"$METAPI" channel cooldown-clear "$c" >/dev/null 2>&1
	done
}
clear_cooldowns
a0=$(hits "$A")
b0=$(hits "$B")
i=0
while [ $i -lt 10 ]; do
	post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}" -H 'x-session-id: conv-1'
	i=$((i + 1))
done
da=$(( $(hits "$A") - a0 ))
db=$(( $(hits "$B") - b0 ))
expect "sticky: ten requests, one site" "$(echo "$da $db" | tr ' ' '\n' | sort -n | tr '\n' ' ')" "0 10 "
if [ "$da" -eq 10 ]; then bound=$A other=$B; else bound=$B other=$A; fi
curl -s -X POST "$bound/__fake/fault" -d '{"path":"/v1/chat/completions","status":500,"times":-1}' >/dev/null
o0=$(hits "$other")
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}" -H 'x-session-id: conv-1'
expect "sticky: the bound site fails, the request still works" "$CODE" 200
curl -s -X DELETE "$bound/__fake/faults" >/dev/null
clear_cooldowns
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}" -H 'x-session-id: conv-1'
expect "sticky: rebound to the site that answered" "$(( $(hits "$other") - o0 ))" 2

# A key's request limit holds on the request path as requests are logged.
ok "limited key" key add three --max-requests 3
L=$(cat "$OUT")
codes=
i=0
while [ $i -lt 5 ]; do
	c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $L" \
	    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" "$BASE/v1/chat/completions")
	codes="$codes $c"
	sleep 1.2
	i=$((i + 1))
done
expect "three requests, then 429" "$codes" " 200 200 200 429 429"

ok "daemon alive" status
# A whole reply cut short reaches the client as nothing at all: the other
# channel answers it in full, and with none left the client gets a 502 in
# its own shape, never a short 200.
for u in "$A" "$B"; do curl -s -X DELETE "$u/__fake/faults" >/dev/null; done
ok "channels for the cut test" --json route explain gpt-4o-mini
for c in $(jget "$OUT" candidates.0.channel_id) $(jget "$OUT" candidates.1.channel_id); do
	ok "clear $c" channel cooldown-clear "$c"
done
curl -s -X POST "$A/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"reset","times":-1}' >/dev/null
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}"
expect "one site cuts: 200" "$CODE" 200
expect_match "one site cuts: the whole reply" "$(jget "$TMP/r" choices.0.message.content)" '^echo: '
curl -s -X POST "$B/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"reset","times":-1}' >/dev/null
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",$HELLO}"
expect "both cut: 502, not a short 200" "$CODE" 502
expect "both cut: OpenAI's error shape" "$(jget "$TMP/r" error.type)" upstream_error
# No channel could serve it: an alert, stored as an event.
i=0
while [ $i -lt 30 ]; do
	"$METAPI" --json events --limit 10 >"$OUT" 2>/dev/null
	grep -q 'no channel could serve gpt-4o-mini' "$OUT" && break
	sleep 0.1
	i=$((i + 1))
done
expect_match "out of channels: an alert" "$(cat "$OUT")" 'no channel could serve gpt-4o-mini'
for u in "$A" "$B"; do curl -s -X DELETE "$u/__fake/faults" >/dev/null; done
# /metrics: Prometheus text, no key needed, counting what happened.
CODE=$(curl -s -o "$TMP/metrics" -w '%{http_code}' "$BASE/metrics")
expect "metrics: 200" "$CODE" 200
expect_match "metrics: ok requests counted" "$(grep '^metapi_requests_total{model="gpt-4o-mini",status="ok",code="200"}' "$TMP/metrics")" ' [1-9][0-9]*$'
expect_match "metrics: failures counted" "$(grep '^metapi_requests_total{.*status="failed"' "$TMP/metrics" | head -1)" ' [1-9][0-9]*$'
expect_match "metrics: attempts by site" "$(cat "$TMP/metrics")" 'metapi_upstream_attempts_total\{site="[^"]+",outcome="failed"\}'
expect_match "metrics: latency histogram" "$(cat "$TMP/metrics")" 'metapi_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]'
expect_match "metrics: tokens" "$(grep '^metapi_tokens_total{kind="prompt"}' "$TMP/metrics")" ' [1-9]'
expect_match "metrics: gauges" "$(cat "$TMP/metrics")" 'metapi_channels_cooling [0-9]+'
expect "metrics: every sample line well formed" "$(grep -v '^#' "$TMP/metrics" | grep -cvE '^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$')" 0
test_done
