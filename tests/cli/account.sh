# API-key accounts: verified against the site (the fake relay) before
# anything is stored; list/show/enable/disable/rm; bad input of each kind.
. "$SRCDIR/tests/lib/libtest.sh"
test_init account

fake_start openai
OA_URL=$FAKE_URL
KEY=$(curl -s "$OA_URL/__fake/state?pointer=/tokens/1/key")
expect_match "fake relay seeded a key" "$KEY" '^sk-proj-'
ok "site" site add oa "$OA_URL" --platform openai

run_in "$KEY" --json account add oa --api-key - --label main
expect "add with a key from stdin" "$RC" 0
expect "credential kind" "$(jget "$OUT" credential_kind)" api_key
expect "credential masked" "$(jget "$OUT" credential)" "sk-…${KEY#${KEY%????}}"
expect_nomatch "key not in the reply" "$(cat "$OUT")" "$KEY"
expect "label" "$(jget "$OUT" label)" main
expect "site name" "$(jget "$OUT" site)" oa
expect "active" "$(jget "$OUT" status)" active
expect "api-key accounts do not check in" "$(jget "$OUT" checkin_enabled)" false
expect_match "models counted" "$(jget "$OUT" models)" '^[1-9]'
curl -s "$OA_URL/__fake/requests?path=/v1/models" >"$TMP/req.json"
expect "verification called /v1/models" "$(jget "$TMP/req.json" requests.0.method)" GET
expect "with the key as a bearer token" \
    "$(jget "$TMP/req.json" requests.0.headers.authorization)" "Bearer $KEY"

# A rejected key, an unreachable site, a broken site: exit 1, nothing stored.
before=$(count_items account list)
refuse "rejected key" 1 "rejected the API key" account add oa --api-key sk-not-a-real-key
curl -s -X POST "$OA_URL/__fake/fault" -d '{"path":"/v1/models","status":500}' >/dev/null
refuse "site answers 500" 1 "HTTP 500" account add oa --api-key "$KEY"
curl -s -X POST "$OA_URL/__fake/fault" -d '{"path":"/v1/models","kind":"garbage"}' >/dev/null
refuse "site answers garbage" 1 "not JSON" account add oa --api-key "$KEY"
curl -s -X POST "$OA_URL/__fake/fault" -d '{"path":"/v1/models","kind":"waf"}' >/dev/null
refuse "WAF page" 1 "blocked by an Aliyun WAF" account add oa --api-key "$KEY"
curl -s -X POST "$OA_URL/__fake/fault" -d '{"path":"/v1/models","kind":"close"}' >/dev/null
refuse "connection dropped" 1 "cannot reach" account add oa --api-key "$KEY"
curl -s -X POST "$OA_URL/__fake/fault" -d '{"path":"/v1/models","kind":"oversized","bytes":20000000}' >/dev/null
refuse "oversized answer" 1 "larger than" account add oa --api-key "$KEY"
ok "site nobody listens on" site add dead http://127.0.0.1:9 --platform openai
refuse "unreachable site" 1 "cannot reach" account add dead --api-key "$KEY"
refuse "unknown site" 1 "no site" account add nowhere --api-key "$KEY"
refuse "no credential" 2 "exactly one credential" account add oa
refuse "two credentials" 2 "exactly one credential" account add oa --api-key a --cookie b
refuse "password without username" 2 "needs --username" account add oa --password p
refuse "username without password" 2 "needs --password" account add oa --username u
refuse "user id without access token" 2 "--user-id goes with" account add oa --api-key k --user-id 3
refuse "empty key" 1 "empty" account add oa --api-key ''
refuse "no logins on plain endpoints" 1 "take an --api-key only" account add oa --username u --password p
refuse "no cookies on plain endpoints" 1 "take an --api-key only" account add oa --cookie c
refuse "unknown option" 2 "unknown option" account add oa --api-key k --frob
expect "nothing stored by the failures" "$(count_items account list)" "$before"
ok "daemon still fine" status

# Anthropic-compatible endpoints get x-api-key and anthropic-version.
fake_start claude
CL_URL=$FAKE_URL
CKEY=$(curl -s "$CL_URL/__fake/state?pointer=/tokens/1/key")
ok "claude site" site add cl "$CL_URL" --platform claude
ok "claude account" --json account add cl --api-key "$CKEY"
curl -s "$CL_URL/__fake/requests?path=/v1/models" >"$TMP/req.json"
expect "x-api-key header" "$(jget "$TMP/req.json" requests.0.headers.x-api-key)" "$CKEY"
expect_match "anthropic-version header" \
    "$(jget "$TMP/req.json" requests.0.headers.anthropic-version)" '^20'

ok "list" account list
expect_match "list has columns" "$(head -n 1 "$OUT")" "^ID +SITE +LABEL +KIND +CREDENTIAL"
expect_nomatch "list shows no key" "$(cat "$OUT")" "$KEY|$CKEY"
expect "two accounts" "$(count_items account list)" 2
expect "filter by site" "$(count_items account list --site cl)" 1
refuse "filter by unknown site" 1 "no site" account list --site nope
ok "show" --json account show 1
expect "show" "$(jget "$OUT" site)" oa
refuse "unknown account" 1 "no account 99" account show 99
refuse "id not a number" 2 "not a whole number" account show one
# Bad input on the other verbs: nothing changes.
"$METAPI" --json account list >"$TMP/before.json"
refuse "rm an unknown account" 1 "no account 99" account rm 99
refuse "enable an unknown account" 1 "no account 99" account enable 99
refuse "disable an unknown account" 1 "no account 99" account disable 99
refuse "disable without an id" 2 "missing ID" account disable
refuse "rm with a bad id" 2 "not a whole number" account rm 1x
refuse "list takes no argument" 2 "unexpected argument" account list extra
"$METAPI" --json account list >"$TMP/after.json"
expect "the accounts are as they were" "$(cat "$TMP/after.json")" "$(cat "$TMP/before.json")"

ok "disable" --json account disable 1
expect "disabled" "$(jget "$OUT" status)" disabled
ok "enable" --json account enable 1
expect "enabled" "$(jget "$OUT" status)" active
ok "site disable cascades" site disable oa
expect "account disabled with its site" "$("$METAPI" --json account show 1 | jget - status)" disabled
refuse "account of a disabled site stays off" 1 "enable the site first" account enable 1
ok "site enable cascades" site enable oa
expect "account back" "$("$METAPI" --json account show 1 | jget - status)" active

# The site's switch gives back each account's own state: one the user
# disabled stays disabled, one that expired stays expired.
ok "another account" account add oa --api-key "$KEY" --label second
SECOND=$(jget "$("$METAPI" --json account list --site oa >"$TMP/al.json"; echo "$TMP/al.json")" items.1.id)
ok "user disables it" account disable "$SECOND"
db_sql "UPDATE accounts SET status = 'expired' WHERE id = 1"
ok "site off" site disable oa
ok "site on" site enable oa
expect "user-disabled account stays disabled" "$("$METAPI" --json account show "$SECOND" | jget - status)" disabled
expect "expired account stays expired" "$("$METAPI" --json account show 1 | jget - status)" expired
db_sql "UPDATE accounts SET status = 'active' WHERE id = 1"
ok "second enabled" account enable "$SECOND"
ok "site off again" site disable oa
ok "disabled on its own meanwhile" account disable "$SECOND"
ok "site on again" site enable oa
expect "disabling it while the site was off sticks" "$("$METAPI" --json account show "$SECOND" | jget - status)" disabled
expect "the other comes back" "$("$METAPI" --json account show 1 | jget - status)" active
ok "rm second" account rm "$SECOND"

ok "rm" account rm 2
refuse "removed" 1 "no account 2" account show 2
ok "removing a site removes its accounts" site rm oa
expect "no accounts left" "$(count_items account list)" 0

test_done
