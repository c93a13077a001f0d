# Format conversion end to end: a Claude client through an OpenAI-chat-only
# site, an OpenAI client through a Claude-only site, Responses through
# chat, upstream errors in the client's format, a stream cut mid-way, the
# format fallback on a site without an endpoint and its memory, local
# count_tokens, and the official SDKs as clients (tests/sdk/convert.mjs).
. "$SRCDIR/tests/lib/libtest.sh"
test_init convert

model() {	# model NAME [OWNER]: a fake relay model entry
	printf '{"id":"%s","owned_by":"%s","quota_type":0,"model_ratio":1,"completion_ratio":1,"model_price":0,"cache_ratio":0.5,"enable_groups":["default","vip"],"supported_endpoint_types":["openai"]}' "$1" "${2:-openai}"
}
fake_start one-api
CHAT=$FAKE_URL
curl -s -X POST "$CHAT/__fake/state" -d "{\"models\":[$(model gpt-4o-mini),$(model claude-via-chat)]}" >/dev/null
fake_start claude
CL=$FAKE_URL
curl -s -X POST "$CL/__fake/state" -d "{\"models\":[$(model claude-3-5-sonnet-20241022 anthropic)]}" >/dev/null
CKEY=$(curl -s "$CL/__fake/state?pointer=/tokens/1/key")
fake_start openai
OA=$FAKE_URL
curl -s -X POST "$OA/__fake/state" -d "{\"models\":[$(model gpt-4o)]}" >/dev/null
OKEY=$(curl -s "$OA/__fake/state?pointer=/tokens/1/key")

ok "chat-only site" site add chat "$CHAT" --platform one-api
ok "claude site" site add cl "$CL" --platform claude
ok "openai site" site add oa "$OA" --platform openai
ok "chat account" account add chat --username alice --password pass-123
ok "claude account" account add cl --api-key "$CKEY"
ok "openai account" account add oa --api-key "$OKEY"
ok "key" key add conv
K=$(cat "$OUT")
BASE="http://$(listen_addr)"

# req PATH BODY [HEADER]: POST as the key; $CODE, body in $TMP/r, head in $TMP/h.
req() {
	CODE=$(curl -s -D "$TMP/h" -o "$TMP/r" -w '%{http_code}' \
	    -H "Authorization: Bearer $K" -H 'Content-Type: application/json' \
	    -H 'anthropic-version: 2023-06-01' ${3:+-H "$3"} -d "$2" "$BASE$1")
}
last_sent() {	# last_sent URL PATH: the body the fake relay last got there
	curl -s "$1/__fake/requests?path=$2" >"$TMP/sent.json"
	n=$(jget "$TMP/sent.json" count)
	jget "$TMP/sent.json" "requests.$((n - 1)).body" >"$TMP/sent"
}

# Claude Messages through the chat-only site.
req /v1/messages '{"model":"claude-via-chat","max_tokens":50,"system":"be brief","messages":[{"role":"user","content":"hello conversion"}]}'
expect "messages via chat: 200" "$CODE" 200
expect "messages via chat: a message" "$(jget "$TMP/r" type)" message
expect "messages via chat: text" "$(jget "$TMP/r" content.0.text)" "echo: hello conversion"
expect "messages via chat: stop_reason" "$(jget "$TMP/r" stop_reason)" end_turn
expect_match "messages via chat: a message id" "$(jget "$TMP/r" id)" '^msg_'
last_sent "$CHAT" /v1/chat/completions
expect "sent as chat: system first" "$(jget "$TMP/sent" messages.0.role)" system
expect "sent as chat: max_tokens" "$(jget "$TMP/sent" max_tokens)" 50
log_settle
ok "log of the converted request" --json logs --limit 1
expect "log: tokens counted" "$(jget "$OUT" items.0.prompt_tokens)" 4
expect "log: usage from upstream" "$(jget "$OUT" items.0.usage_source)" upstream
expect_match "log: the chat endpoint" "$(jget "$OUT" items.0.attempts.0.upstream_path)" 'chat/completions'

# The stream, event by event.
req /v1/messages '{"model":"claude-via-chat","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hello stream"}]}'
expect "messages stream via chat: 200" "$CODE" 200
expect_match "messages stream: event stream" "$(grep -i '^content-type' "$TMP/h")" 'text/event-stream'
EVENTS=$(grep '^event:' "$TMP/r" | sed 's/event: //' | tr -d '\r' | tr '\n' ' ')
expect_match "messages stream: message_start first" "$EVENTS" '^message_start '
expect_match "messages stream: block order" "$EVENTS" 'content_block_start (content_block_delta )+content_block_stop message_delta message_stop $'
expect "messages stream: text" "$(grep '^data:.*text_delta' "$TMP/r" | sed 's/.*"text":"\([^"]*\)".*/\1/' | tr -d '\n')" "echo: hello stream"

# An upstream error comes back in the client's format.
curl -s -X POST "$CHAT/__fake/fault" -d '{"path":"/v1/chat/completions","status":400,"times":1,"body":"{\"error\":{\"message\":\"bad thing\",\"type\":\"invalid_request_error\"}}"}' >/dev/null
req /v1/messages '{"model":"claude-via-chat","max_tokens":50,"messages":[{"role":"user","content":"x"}]}'
expect "error via chat: status kept" "$CODE" 400
expect "error via chat: Claude shape" "$(jget "$TMP/r" type)" error
expect "error via chat: type" "$(jget "$TMP/r" error.type)" invalid_request_error
expect "error via chat: the upstream's words" "$(jget "$TMP/r" error.message)" "bad thing"

# A client's bad request is refused before any upstream sees it.
req /v1/messages '{"model":"claude-via-chat","max_tokens":0,"messages":[{"role":"user","content":"x"}]}'
expect "bad max_tokens: 400" "$CODE" 400
expect_match "bad max_tokens: says why" "$(jget "$TMP/r" error.message)" 'max_tokens'

# A converted stream cut half-way ends with an error event, not a stop.
curl -s -X POST "$CHAT/__fake/fault" -d '{"path":"/v1/chat/completions","kind":"reset","times":1}' >/dev/null
req /v1/messages '{"model":"claude-via-chat","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"one two three four five six seven eight nine ten"}]}'
expect_match "cut stream: an error event" "$(grep '^event:' "$TMP/r" | tr -d '\r' | tail -1)" 'event: error'
expect_nomatch "cut stream: no message_stop" "$(cat "$TMP/r")" 'message_stop'

# OpenAI chat through the Claude-only site.
req /v1/chat/completions '{"model":"claude-3-5-sonnet-20241022","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello claude"}]}'
expect "chat via messages: 200" "$CODE" 200
expect "chat via messages: text" "$(jget "$TMP/r" choices.0.message.content)" "echo: hello claude"
expect "chat via messages: finish" "$(jget "$TMP/r" choices.0.finish_reason)" stop
last_sent "$CL" /v1/messages
expect "sent as messages: system" "$(jget "$TMP/sent" system)" "be brief"
expect "sent as messages: default max_tokens" "$(jget "$TMP/sent" max_tokens)" 4096
curl -s "$CL/__fake/requests?path=/v1/messages" >"$TMP/sent.json"
expect "sent with x-api-key" "$(jget "$TMP/sent.json" requests.0.headers.x-api-key)" "$CKEY"

# Responses through chat, and the conversation kept for the next turn.
req /v1/responses '{"model":"gpt-4o-mini","input":"hello responses"}'
expect "responses via chat: 200" "$CODE" 200
expect "responses via chat: object" "$(jget "$TMP/r" object)" response
expect "responses via chat: text" "$(jget "$TMP/r" output.0.content.0.text)" "echo: hello responses"
RID=$(jget "$TMP/r" id)
req /v1/responses "{\"model\":\"gpt-4o-mini\",\"previous_response_id\":\"$RID\",\"input\":\"next\"}"
expect "second turn: 200" "$CODE" 200
last_sent "$CHAT" /v1/chat/completions
expect "second turn: history sent" "$(jget "$TMP/sent" messages.length)" 3
expect "second turn: first turn's reply" "$(jget "$TMP/sent" messages.1.content)" "echo: hello responses"
req /v1/responses '{"model":"gpt-4o-mini","previous_response_id":"resp_unknown","input":"next"}'
expect "unknown previous response: 400" "$CODE" 400
expect_match "unknown previous response: says so" "$(jget "$TMP/r" error.message)" 'resp_unknown'

# A site without the endpoint: the next format on the same channel, then
# remembered. The openai site loses /v1/responses for a while.
curl -s -X POST "$OA/__fake/fault" -d '{"path":"/v1/responses","status":404,"times":100,"body":"{\"error\":{\"message\":\"Invalid URL (POST /v1/responses)\"}}"}' >/dev/null
req /v1/responses '{"model":"gpt-4o","input":"fallback please"}'
expect "fallback: 200" "$CODE" 200
expect "fallback: text" "$(jget "$TMP/r" output.0.content.0.text)" "echo: fallback please"
log_settle
ok "fallback log" --json logs --limit 1
expect "fallback: two attempts" "$(jget "$OUT" items.0.attempts.length)" 2
expect_match "fallback: responses first" "$(jget "$OUT" items.0.attempts.0.upstream_path)" 'responses'
expect_match "fallback: then chat" "$(jget "$OUT" items.0.attempts.1.upstream_path)" 'chat/completions'
req /v1/responses '{"model":"gpt-4o","input":"again"}'
expect "remembered: 200" "$CODE" 200
log_settle
ok "remembered log" --json logs --limit 1
expect "remembered: one attempt" "$(jget "$OUT" items.0.attempts.length)" 1
expect_match "remembered: chat directly" "$(jget "$OUT" items.0.attempts.0.upstream_path)" 'chat/completions'
curl -s -X DELETE "$OA/__fake/faults" >/dev/null

# count_tokens with no site that counts: a local estimate, said so.
req /v1/messages/count_tokens '{"model":"claude-via-chat","messages":[{"role":"user","content":"one two three four five six seven eight"}]}'
expect "count_tokens estimate: 200" "$CODE" 200
expect_match "count_tokens estimate: a count" "$(jget "$TMP/r" input_tokens)" '^[1-9][0-9]*$'
expect_match "count_tokens estimate: marked" "$(grep -i '^x-metapi-estimated' "$TMP/h")" 'true'
req /v1/messages/count_tokens '{"model":"claude-3-5-sonnet-20241022","messages":[{"role":"user","content":"one two three"}]}'
expect "count_tokens forwarded: 200" "$CODE" 200
expect "count_tokens forwarded: the site's count" "$(jget "$TMP/r" input_tokens)" 3
expect "count_tokens forwarded: not marked" "$(grep -ci '^x-metapi-estimated' "$TMP/h")" 0

# The official SDKs.
SDK="${METAPI_SDK_DIR:-$SRCDIR/tests/sdk}"	# check-asan runs from a copy
if [ -d "$SDK/node_modules/openai" ] && command -v node >/dev/null; then
	BASE=$BASE KEY=$K CHAT_FAKE=$CHAT node "$SDK/convert.mjs" >"$TMP/convert.out" 2>&1
	while read -r line; do
		case $line in
		"ok "*) pass ;;
		"not ok "*) fail "sdk: ${line#not ok }" ;;
		esac
	done <"$TMP/convert.out"
	grep -q '^ok ' "$TMP/convert.out" || fail "sdk: ran no check: $(head -c 300 "$TMP/convert.out")"
elif [ "${CI:-}" = true ]; then
	fail "the SDKs are not installed in CI"
else
	echo "convert: SDKs not installed, SDK checks skipped" >&2
fi
test_done
