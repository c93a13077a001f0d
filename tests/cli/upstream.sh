# What sites do wrong or make hard: 2FA, masked keys, WAF pages, expired
# sessions, cookies, 500s, timeouts, garbage and huge replies. Each gives a
# clear, classified error; the daemon keeps running; nothing stored breaks.
. "$SRCDIR/tests/lib/libtest.sh"
test_init upstream

fake_start new-api
NA=$FAKE_URL
ok "site" site add na "$NA" --platform new-api

# Two-factor logins: bob has a TOTP code.
refuse "2FA without a code" 1 "needs manual login: two-factor code required" \
    account add na --username bob --password pass-123
ok "2FA with the code" --json account add na --username bob --password pass-123 --2fa 123456
BOB=$(jget "$OUT" id)
expect "bob's balance" "$(jget "$OUT" balance_usd)" 2.0

# Turnstile on the login: a person has to log in, and nothing is stored.
before=$(count_items account list)
curl -s -X POST "$NA/__fake/state" -d '{"config":{"turnstile":true}}' >/dev/null
refuse "Turnstile" 1 "^metapi account add: needs manual login: the site requires a Turnstile check" \
    account add na --username alice --password pass-123
curl -s -X POST "$NA/__fake/state" -d '{"config":{"turnstile":false}}' >/dev/null
expect "nothing stored" "$(count_items account list)" "$before"

# A session cookie taken from a browser login.
curl -s -c "$TMP/jar" -H 'Content-Type: application/json' \
    -d '{"username":"alice","password":"pass-123"}' "$NA/api/user/login" >/dev/null
COOKIE=$(awk '$6 == "session" { print "session=" $7 }' "$TMP/jar")
expect_match "got a cookie" "$COOKIE" '^session=.'
ok "cookie account" --json account add na --cookie "$COOKIE" --user-id 1
CK=$(jget "$OUT" id)
expect "cookie account balance" "$(jget "$OUT" balance_usd)" 5.0

# A password account whose session the site forgot logs in again by itself.
ok "alice" --json account add na --username alice --password pass-123
AL=$(jget "$OUT" id)
curl -s -X POST "$NA/__fake/state" -d '{"clear_sessions":true}' >/dev/null
ok "refresh after the site dropped the session" --json account refresh "$AL"
expect "re-login worked" "$(jget "$OUT" items.0.ok)" true
ok "account login" --json account login "$AL"
refuse "login needs a stored password" 1 "no stored password" account login "$CK"
refuse "refresh needs an id or --all" 2 "account id or --all" account refresh
refuse "not both" 2 "account id or --all" account refresh 1 --all

# Masked keys are revealed through the site's reveal endpoint.
curl -s -X POST "$NA/__fake/state" -d '{"config":{"mask_keys":true}}' >/dev/null
ok "sync masked keys" --json token sync "$AL"
ok "token list" --json token list --account "$AL"
expect "revealed, usable" "$(jget "$OUT" items.0.value_status)" ready
expect_match "shown masked" "$(jget "$OUT" items.0.key_mask)" '…'
ok "make the other default" --json token default "$(jget "$OUT" items.1.id)"
expect "default moved" "$(jget "$OUT" default)" true
refuse "unknown token" 1 "no token 999" token default 999
refuse "token create on an unknown account" 1 "no account 999" token create 999

# Faults: every one a clear error, nothing lost, the daemon alive.
before=$("$METAPI" --json account show "$AL" | jget - balance_usd)
fault() {
	curl -s -X POST "$NA/__fake/fault" -d "$1" >/dev/null
}
# refresh_under FIELDS: refresh the account while /api/user/self answers
# with the fault FIELDS (4 times), then clear the faults.
refresh_under() {
	fault "{\"path\":\"/api/user/self\",$1,\"times\":4}"
	run --json account refresh "$AL"
	curl -s -X DELETE "$NA/__fake/faults" >/dev/null
}
refresh_under '"status":500'
expect "site 500 fails the refresh" "$RC" 1
expect_match "reported per account" "$(jget "$OUT" items.0.error)" "HTTP 500"
refresh_under '"kind":"garbage"'
expect "garbage fails" "$RC" 1
expect_match "garbage explained" "$(jget "$OUT" items.0.error)" "not JSON"
refresh_under '"kind":"html"'
expect_match "HTML page explained" "$(jget "$OUT" items.0.error)" "HTML page"
refresh_under '"kind":"cloudflare"'
expect_match "Cloudflare page explained" "$(jget "$OUT" items.0.error)" "Cloudflare"
expect "classified as blocked" "$(jget "$OUT" items.0.error_code)" blocked
refresh_under '"kind":"oversized","bytes":52428800'
expect_match "50 MB reply refused" "$(jget "$OUT" items.0.error)" "larger than"
refresh_under '"kind":"truncated"'
expect_match "truncated JSON explained" "$(jget "$OUT" items.0.error)" "not JSON"
expect "classified upstream" "$(jget "$OUT" items.0.error_code)" upstream
refresh_under '"kind":"reset"'
expect_match "reply cut mid-body explained" "$(jget "$OUT" items.0.error)" "cut short"
refresh_under '"kind":"close"'
expect_match "no reply explained" "$(jget "$OUT" items.0.error)" "cannot reach.*Empty reply"
refresh_under '"kind":"waf"'
expect_match "WAF page on New API explained" "$(jget "$OUT" items.0.error)" "acw_sc__v2"
expect "classified as blocked" "$(jget "$OUT" items.0.error_code)" blocked
# A token list that fails in any way leaves the stored tokens alone.
tokens_before=$("$METAPI" --json token list --account "$AL")
for k in '"status":500' '"kind":"garbage"' '"kind":"truncated"' \
    '"kind":"reset"' '"kind":"oversized","bytes":52428800' '"kind":"html"'; do
	fault "{\"path\":\"/api/token/*\",$k,\"times\":4}"
	run --json token sync "$AL"
	expect "token sync fails ($k)" "$RC $(jget "$OUT" items.0.ok)" "1 false"
	curl -s -X DELETE "$NA/__fake/faults" >/dev/null
done
expect "stored tokens untouched" "$("$METAPI" --json token list --account "$AL")" "$tokens_before"
ok "short timeout" settings set site_timeout_sec 1
refresh_under '"kind":"slow","delay_ms":3000'
expect_match "timeout explained" "$(jget "$OUT" items.0.error)" "[Tt]imeout|timed out"
ok "normal timeout" settings set site_timeout_sec 30
ok "daemon alive after all that" status
expect "balance untouched by the failures" \
    "$("$METAPI" --json account show "$AL" | jget - balance_usd)" "$before"
ok "and the account recovers" --json account refresh "$AL"
expect "recovered" "$(jget "$OUT" items.0.ok)" true
expect "healthy again" "$("$METAPI" --json account show "$AL" | jget - health)" healthy

# Sub2API with Turnstile on its login.
fake_start sub2api
curl -s -X POST "$FAKE_URL/__fake/state" -d '{"config":{"turnstile":true}}' >/dev/null
ok "sub2api site" site add s2 "$FAKE_URL" --platform sub2api
refuse "Sub2API Turnstile" 1 "needs manual login: the site asks for a Turnstile check" \
    account add s2 --username alice@example.com --password pass-123
expect "nothing stored" "$(count_items account list --site s2)" 0

# AnyRouter behind its Aliyun WAF page: solved, then served.
fake_start anyrouter
curl -s -X POST "$FAKE_URL/__fake/state" -d '{"config":{"waf":true}}' >/dev/null
ok "detected behind the WAF" --json site detect "$FAKE_URL"
expect "as AnyRouter" "$(jget "$OUT" platform)" anyrouter
expect "the page solved" "$(jget "$OUT" evidence.0)" "/api/status was behind an Aliyun WAF page (solved)"
ok "anyrouter site, detected" --json site add ar "$FAKE_URL"
expect "stored as AnyRouter" "$(jget "$OUT" platform)" anyrouter
ok "account behind the WAF" --json account add ar --username alice --password pass-123
expect "balance read through the WAF" "$(jget "$OUT" balance_usd)" 5.0
run --json checkin run "$(jget "$OUT" id)"
expect "check-in through the WAF" "$(jget "$OUT" items.0.outcome)" success

test_done
