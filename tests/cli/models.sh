# GET /v1/models with downstream keys: every way to send a key, both
# response shapes, the key's model patterns, and every key error in the
# client's own error shape. Changes show at once (snapshot rebuilds).
. "$SRCDIR/tests/lib/libtest.sh"
test_init models

fake_start new-api
ok "site" site add na "$FAKE_URL"
ok "account" account add na --username alice --password pass-123
ADDR=$(listen_addr)
URL="http://$ADDR/v1/models"
ok "key" key add all
ALL=$(cat "$OUT")
ok "limited key" key add mini --models 'gpt-4o-mini,re:^claude-'
MINI=$(cat "$OUT")

# get NAME CURL-ARGS...: fetch into $TMP/NAME.json, the status in $CODE.
get() {
	n=$1
	shift
	CODE=$(curl -s -o "$TMP/$n.json" -w '%{http_code}' "$@")
}

get all -H "Authorization: Bearer $ALL" "$URL"
expect "bearer works" "$CODE" 200
expect "OpenAI list shape" "$(jget "$TMP/all.json" object)" list
expect "every discovered model" "$(jget "$TMP/all.json" data.length)" 5
expect "model object" "$(jget "$TMP/all.json" data.0.object)" model
get mini -H "Authorization: Bearer $MINI" "$URL"
expect "patterns filter" "$(jget "$TMP/mini.json" data.length)" 2
expect "glob and regex" "$(jget "$TMP/mini.json" data.0.id) $(jget "$TMP/mini.json" data.1.id)" \
    "claude-3-5-sonnet-20241022 gpt-4o-mini"
get xk -H "x-api-key: $MINI" -H 'anthropic-version: 2023-06-01' "$URL"
expect "x-api-key works" "$CODE" 200
expect "Anthropic shape" "$(jget "$TMP/xk.json" data.0.type)" model
expect "Anthropic paging fields" "$(jget "$TMP/xk.json" has_more)" false
expect "first_id" "$(jget "$TMP/xk.json" first_id)" claude-3-5-sonnet-20241022
get goog -H "x-goog-api-key: $ALL" "$URL"
expect "x-goog-api-key works" "$CODE" 200
get q "$URL?key=$ALL"
expect "?key= works" "$CODE" 200

get none "$URL"
expect "no key: 401" "$CODE" 401
expect "OpenAI error shape" "$(jget "$TMP/none.json" error.code)" missing_api_key
get bad -H 'Authorization: Bearer sk-wrong' "$URL"
expect "wrong key: 401" "$CODE" 401
expect "invalid_api_key" "$(jget "$TMP/bad.json" error.code)" invalid_api_key
get badc -H 'x-api-key: sk-wrong' "$URL"
expect "Anthropic error shape" "$(jget "$TMP/badc.json" type)" error
expect "authentication_error" "$(jget "$TMP/badc.json" error.type)" authentication_error
ok "disable" key disable 2
get dis -H "Authorization: Bearer $MINI" "$URL"
expect "disabled: 403" "$CODE" 403
ok "enable" key enable 2
get en -H "Authorization: Bearer $MINI" "$URL"
expect "enabled again: 200" "$CODE" 200
ok "expired key" key add old --expires 2020-01-01
OLD=$(cat "$OUT")
get old -H "Authorization: Bearer $OLD" "$URL"
expect "expired: 403" "$CODE" 403
expect "says expired" "$(jget "$TMP/old.json" error.code)" api_key_expired
ok "no requests left" key add spent --max-requests 0
SPENT=$(cat "$OUT")
get spent -H "Authorization: Bearer $SPENT" "$URL"
expect "quota used up: 429" "$CODE" 429
ok "rotate" key rotate 1
NEW=$(cat "$OUT")
get rot -H "Authorization: Bearer $ALL" "$URL"
expect "old secret refused after rotation" "$CODE" 401
get rot2 -H "Authorization: Bearer $NEW" "$URL"
expect "new secret works" "$CODE" 200
ok "rm" key rm 1
get gone -H "Authorization: Bearer $NEW" "$URL"
expect "removed key refused" "$CODE" 401

ok "site disable" site disable na
get off -H "Authorization: Bearer $MINI" "$URL"
expect "disabled site serves nothing" "$(jget "$TMP/off.json" data.length)" 0
ok "site enable" site enable na
get on -H "Authorization: Bearer $MINI" "$URL"
expect "back" "$(jget "$TMP/on.json" data.length)" 2

# The marketplace (metapi model list): makers, prices, and how each
# model served in the last 7 days.
curl -s -o /dev/null -H "Authorization: Bearer $MINI" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' \
    "http://$ADDR/v1/chat/completions"
log_settle
ok "logs" --json logs --limit 1
expect "market: the request went through" "$(jget "$OUT" items.0.status)" ok
ok "market" --json model list
jget "$OUT" items >"$TMP/market.json"
n=$(jget "$TMP/market.json" length)
i=0
while [ $i -lt "$n" ]; do
	case $(jget "$TMP/market.json" $i.model) in
	gpt-4o-mini) MINI_AT=$i ;;
	claude-3-5-sonnet-20241022) CLAUDE_AT=$i ;;
	esac
	i=$((i + 1))
done
expect "market: OpenAI's" "$(jget "$TMP/market.json" $MINI_AT.brand)" OpenAI
expect "market: Anthropic's" "$(jget "$TMP/market.json" $CLAUDE_AT.brand)" Anthropic
expect_match "market: success rate of a served model" "$(jget "$TMP/market.json" $MINI_AT.success_rate)" "^100(\\.0)?$"
expect_match "market: its latency" "$(jget "$TMP/market.json" $MINI_AT.avg_latency_ms)" '^[0-9]+$'
expect "market: none for an unused one" "$(jget "$TMP/market.json" $CLAUDE_AT.success_rate)" null
ok "market as text" model list
expect_match "market text: brand column" "$(cat "$OUT")" 'BRAND'

# A guesser: auth_fail_limit invalid keys a minute from one address, then
# every request from it is refused with 429 and Retry-After, the right key
# included, until the minute is over (or the limit is lifted). The guesses
# come from 127.0.0.2, an address no other check here used.
ok "a key to try" key add guard
GOOD=$(cat "$OUT")
ok "limit 3" settings set auth_fail_limit 3
for i in 1 2 3; do
	get guess --interface 127.0.0.2 -H "Authorization: Bearer sk-guess-$i" "$URL"
	expect "guess $i: 401" "$CODE" 401
done
get guess --interface 127.0.0.2 -H "Authorization: Bearer sk-guess-4" "$URL"
expect "fourth guess: 429" "$CODE" 429
expect "says why" "$(jget "$TMP/guess.json" error.code)" too_many_bad_keys
HDRS=$(curl -s -D - -o /dev/null --interface 127.0.0.2 -H "Authorization: Bearer $GOOD" "$URL")
expect_match "the right key waits too" "$HDRS" '^HTTP/1.1 429'
expect_match "with Retry-After" "$HDRS" 'Retry-After: [1-6]?[0-9]'
get other --interface 127.0.0.3 -H "Authorization: Bearer $GOOD" "$URL"
expect "another address is not held back" "$CODE" 200
ok "lift it" settings set auth_fail_limit 0
get guess --interface 127.0.0.2 -H "Authorization: Bearer $GOOD" "$URL"
expect "lifted" "$CODE" 200
test_done
