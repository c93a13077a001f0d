# Every platform end to end against the fake relay playing it: detection,
# accounts with each credential kind the platform has (each verified, a
# rejected one storing nothing), refresh, tokens (sync, create, delete,
# default, masked keys revealed), check-in twice, balances that match the
# fake relay's quota exactly, and a credential the site stopped taking.
. "$SRCDIR/tests/lib/libtest.sh"
test_init platforms

QPU=500000
# usd QUOTA: quota units as USD, the way jget prints numbers.
usd() {
	awk -v q="$1" -v u="$QPU" 'BEGIN { printf "%.6f\n", q / u }'
}
num() {
	awk -v n="$1" 'BEGIN { printf "%.6f\n", n }'
}
fake_get() {
	curl -s "$FAKE_URL/__fake/state?pointer=$1"
}
fake_post() {
	curl -s -X POST "$FAKE_URL/__fake/$1" -d "$2" >/dev/null
}
# requests PATH: how many requests for PATH the fake relay received.
requests() {
	curl -s "$FAKE_URL/__fake/requests?path=$1" >"$TMP/req.json"
	jget "$TMP/req.json" count
}
# The id of the token named $2 in account $1's token list.
token_id() {
	"$METAPI" --json token list --account "$1" | \
	    awk -v n="\"name\": \"$2\"" '/"id"/ { id = $2 } index($0, n) { print id }' | tr -d ,
}
# market MODEL FIELD: one figure of `model list` for MODEL.
market() {
	"$METAPI" --json model list >"$TMP/market.json"
	n=$(jget "$TMP/market.json" items.length)
	i=0
	while [ "$i" -lt "$n" ]; do
		if [ "$(jget "$TMP/market.json" items.$i.model)" = "$1" ]; then
			jget "$TMP/market.json" "items.$i.$2"
			return
		fi
		i=$((i + 1))
	done
	echo absent
}
# A session cookie from logging in to the fake relay as alice in a browser.
browser_cookie() {
	rm -f "$TMP/jar"
	curl -s -c "$TMP/jar" -H 'Content-Type: application/json' \
	    -d '{"username":"alice","password":"pass-123"}' \
	    "$FAKE_URL/api/user/login" >/dev/null
	awk '$6 == "session" { print "session=" $7 }' "$TMP/jar"
}

# platform P LOGIN CHECKIN1 CHECKIN2 ACCESS COOKIE MASK: one platform's
# whole story. ACCESS, COOKIE: yes when the platform takes an access
# token (with the user id) or a session cookie; MASK: yes when its token
# list may mask keys that a reveal endpoint then gives.
platform() {
	P=$1 LOGIN=$2 FIRST=$3 SECOND=$4 ACCESS=$5 COOKIE=$6 MASK=$7
	fake_start "$P"
	fake_post state '{"patch_users":[{"id":1,"request_count":42}]}'
	ok "$P: detect" --json site detect "$FAKE_URL"
	expect "$P: detected" "$(jget "$OUT" platform)" "$P"
	expect_match "$P: with evidence" "$(jget "$OUT" evidence.0)" '.'
	ok "$P: site, platform detected" --json site add "$P" "$FAKE_URL" --platform auto
	expect "$P: stored as detected" "$(jget "$OUT" platform)" "$P"

	before=$(count_items account list)
	refuse "$P: wrong password" 1 "用户名或密码错误|invalid email or password" account add "$P" --username "$LOGIN" --password wrong-pass
	refuse "$P: unknown key" 1 "rejected the API key" account add "$P" --api-key sk-not-a-real-key-000000000000000000000000000000000000
	expect "$P: nothing stored" "$(count_items account list)" "$before"

	ok "$P: password account" --json account add "$P" --username "$LOGIN" --password pass-123
	ID=$(jget "$OUT" id)
	expect "$P: kind" "$(jget "$OUT" credential_kind)" password
	expect "$P: balance is the remaining quota" "$(num "$(jget "$OUT" balance_usd)")" \
	    "$(usd "$(fake_get /users/alice/quota)")"
	expect "$P: tokens found" "$(jget "$OUT" tokens)" 2
	expect_match "$P: models found" "$(jget "$OUT" models)" '^[1-9]'
	if [ "$P" = sub2api ]; then
		expect "$P: no group or request count reported" \
		    "$(jget "$OUT" group) $(jget "$OUT" request_count)" "null null"
	else
		expect "$P: the user's group and request count" \
		    "$(jget "$OUT" group) $(jget "$OUT" request_count)" \
		    "$(fake_get /users/alice/group) $(fake_get /users/alice/request_count)"
	fi
	# Prices from the fake's catalogue (section 8): gpt-4o-mini has
	# model_ratio 1 and completion_ratio 2, dall-e-3 costs 0.04 a call,
	# and the cheapest group alice may use (vip) has ratio 0.5.
	case $P in
	one-api)
		expect "$P: no price catalogue" "$(market gpt-4o-mini input_per_m)" null ;;
	sub2api)
		expect "$P: no price catalogue" "$(market claude-3-5-sonnet-20241022 input_per_m)" null ;;
	*)
		expect "$P: input price" "$(num "$(market gpt-4o-mini input_per_m)")" "$(num 1)"
		expect "$P: output price" "$(num "$(market gpt-4o-mini output_per_m)")" "$(num 2)"
		expect "$P: per call" "$(num "$(market dall-e-3 per_call)")" "$(num 0.02)" ;;
	esac
	ok "$P: log in again" --json account login "$ID"
	expect "$P: login worked" "$(jget "$OUT" ok)" true

	ok "$P: token list" --json token list --account "$ID"
	expect "$P: two tokens" "$(jget "$OUT" items.length)" 2
	expect "$P: keys usable" "$(jget "$OUT" items.0.value_status)" ready
	ok "$P: token create" --json token create "$ID" --name citoken
	expect "$P: three tokens" "$(jget "$OUT" items.length)" 3
	curl -s "$FAKE_URL/__fake/state" >"$TMP/state.json"
	expect "$P: created on the site" \
	    "$(grep -o '"citoken"' "$TMP/state.json" | wc -l | tr -d ' ')" 1
	NEW=$(token_id "$ID" citoken)
	ok "$P: the new token made default" --json token default "$NEW"
	expect "$P: default" "$(jget "$OUT" default)" true
	expect "$P: only one default" "$("$METAPI" --json token list --account "$ID" | grep -c '"default": true')" 1
	ok "$P: token rm" token rm "$NEW"
	curl -s "$FAKE_URL/__fake/state" >"$TMP/state.json"
	expect "$P: deleted on the site" \
	    "$(grep -o '"citoken"' "$TMP/state.json" | wc -l | tr -d ' ')" 0
	expect "$P: two again" "$(count_items token list --account "$ID")" 2

	if [ "$MASK" = yes ]; then
		fake_post state '{"config":{"mask_keys":true}}'
		curl -s "$FAKE_URL/api/token/?p=1&size=10" -H "Authorization: access-alice" \
		    -H "New-Api-User: 1" >"$TMP/masked.json"
		expect_match "$P: the site masks keys" "$(cat "$TMP/masked.json")" '\*\*\*\*\*\*\*\*\*\*'
		r0=$(requests '/api/token/*')
		ok "$P: token sync of masked keys" --json token sync "$ID"
		ok "$P: token list after" --json token list --account "$ID"
		expect "$P: revealed, usable" "$(jget "$OUT" items.0.value_status) $(jget "$OUT" items.1.value_status)" "ready ready"
		expect_match "$P: shown masked" "$(jget "$OUT" items.0.key_mask)" '…'
		curl -s "$FAKE_URL/__fake/requests?path=/api/token/*&method=POST&since=0" >"$TMP/req.json"
		expect_match "$P: reveal endpoint asked" "$(cat "$TMP/req.json")" '"/api/token/[12]/key"'
		fake_post state '{"config":{"mask_keys":false}}'
	else
		ok "$P: token sync" --json token sync "$ID"
		ok "$P: token list after" --json token list --account "$ID"
		expect "$P: still usable" "$(jget "$OUT" items.0.value_status)" ready
	fi

	q0=$(fake_get /users/alice/quota)
	run --json checkin run "$ID"
	expect "$P: first check-in" "$(jget "$OUT" items.0.outcome)" "$FIRST"
	q1=$(fake_get /users/alice/quota)
	reward=$(jget "$OUT" items.0.reward_usd)
	if [ "$FIRST" != success ]; then
		expect "$P: nothing credited" "$q1" "$q0"
	elif [ "$reward" = null ]; then
		# AnyRouter's sign_in says no amount; the site credited one.
		expect_match "$P: credited" "$((q1 - q0))" '^[1-9]'
	else
		expect "$P: reward in USD is what the site credited" \
		    "$(num "$reward")" "$(usd $((q1 - q0)))"
	fi
	run --json checkin run "$ID"
	expect "$P: second check-in" "$(jget "$OUT" items.0.outcome)" "$SECOND"
	ok "$P: balance refresh" --json balance --refresh
	expect "$P: balance after check-in matches the site" \
	    "$(num "$(jget "$OUT" accounts.0.balance_usd)")" \
	    "$(usd "$(fake_get /users/alice/quota)")"

	KEY=$(fake_get /tokens/1/key)
	ok "$P: API-key account" --json account add "$P" --api-key "$KEY"
	expect "$P: kind api_key" "$(jget "$OUT" credential_kind)" api_key
	expect_match "$P: key lists models" "$(jget "$OUT" models)" '^[1-9]'
	if [ "$ACCESS" = yes ]; then
		before=$(count_items account list)
		refuse "$P: bad access token" 1 "access token 无效|HTTP 401" account add "$P" \
		    --access-token not-a-token --user-id 1
		expect "$P: nothing stored" "$(count_items account list)" "$before"
		ok "$P: access-token account" --json account add "$P" \
		    --access-token access-alice --user-id 1
		AT=$(jget "$OUT" id)
		expect "$P: kind access_token" "$(jget "$OUT" credential_kind)" access_token
		expect "$P: same balance" "$(num "$(jget "$OUT" balance_usd)")" \
		    "$(usd "$(fake_get /users/alice/quota)")"
	fi
	if [ "$COOKIE" = yes ]; then
		before=$(count_items account list)
		refuse "$P: bad cookie" 1 "未登录|HTTP 401" account add "$P" \
		    --cookie session=not-a-session --user-id 1
		expect "$P: nothing stored" "$(count_items account list)" "$before"
		CK=$(browser_cookie)
		expect_match "$P: browser got a cookie" "$CK" '^session=.'
		ok "$P: cookie account" --json account add "$P" --cookie "$CK" --user-id 1
		expect "$P: kind cookie" "$(jget "$OUT" credential_kind)" cookie
		expect "$P: cookie balance" "$(num "$(jget "$OUT" balance_usd)")" \
		    "$(usd "$(fake_get /users/alice/quota)")"
		expect "$P: cookie tokens" "$(jget "$OUT" tokens)" 2
	fi
	ok "$P: refresh all" --json account refresh --all
	expect "$P: no failures" "$(jget "$OUT" failed)" 0

	# The site stops taking the access token (rotated elsewhere): a
	# clear, classified error; the stored balance stays; the daemon runs.
	if [ "$ACCESS" = yes ]; then
		bal=$("$METAPI" --json account show "$AT" | jget - balance_usd)
		fake_post state '{"patch_users":[{"id":1,"access_token":"rotated-elsewhere"}]}'
		run --json account refresh "$AT"
		expect "$P: expired token fails" "$RC" 1
		expect "$P: classified" "$(jget "$OUT" items.0.error_code)" unauthorized
		expect "$P: marked expired" "$("$METAPI" --json account show "$AT" | jget - status)" expired
		expect "$P: balance kept" "$("$METAPI" --json account show "$AT" | jget - balance_usd)" "$bal"
		ok "$P: daemon up" status
	fi
	ok "$P: remove the site" site rm "$P"
	kill "$FAKE_PID" 2>/dev/null
}

platform new-api alice success already yes yes yes
platform veloera alice success already yes yes no
platform anyrouter alice success already yes yes yes
platform one-api alice skipped skipped yes yes no
platform one-hub alice skipped skipped yes yes no
platform done-hub alice skipped skipped yes yes no
platform sub2api alice@example.com skipped skipped no no no

# Sub2API: a JWT pasted by hand; the password account's JWT renewed with
# its refresh token once the fake clock passes the JWT's lifetime.
fake_start sub2api
ok "sub2api: site" site add s2 "$FAKE_URL"
ok "sub2api: password account" --json account add s2 --username alice@example.com --password pass-123
S2=$(jget "$OUT" id)
curl -s -H 'Content-Type: application/json' \
    -d '{"email":"alice@example.com","password":"pass-123"}' \
    "$FAKE_URL/api/v1/auth/login" >"$TMP/jwt.json"
JWT=$(jget "$TMP/jwt.json" data.access_token)
refuse "sub2api: a forged JWT" 1 "INVALID_TOKEN" account add s2 --access-token "${JWT%?????}AAAAA"
ok "sub2api: JWT account" --json account add s2 --access-token "$JWT"
S2J=$(jget "$OUT" id)
expect "sub2api: kind access_token" "$(jget "$OUT" credential_kind)" access_token
expect "sub2api: JWT balance" "$(num "$(jget "$OUT" balance_usd)")" \
    "$(usd "$(fake_get /users/alice/quota)")"
refuse "sub2api: no cookies" 1 "cookie" account add s2 --cookie session=abc
fake_post clock '{"advance":90000}'
r0=$(requests /api/v1/auth/refresh)
ok "sub2api: refresh past the JWT's life" --json account refresh "$S2"
expect "sub2api: renewed" "$(jget "$OUT" items.0.ok)" true
expect "sub2api: with the refresh token" "$(requests /api/v1/auth/refresh)" $((r0 + 1))
ok "sub2api: again" --json account refresh "$S2"
expect "sub2api: the new JWT was kept" "$(requests /api/v1/auth/refresh)" $((r0 + 1))
run --json account refresh "$S2J"
expect "sub2api: a pasted JWT expires" "$RC" 1
expect "sub2api: classified" "$(jget "$OUT" items.0.error_code)" unauthorized
ok "sub2api: log the password account in" account login "$S2"
ok "sub2api: daemon up" status
kill "$FAKE_PID" 2>/dev/null

# Plain OpenAI- and Anthropic-compatible endpoints: detected, API keys
# only, models listed; no balance, tokens or check-in to speak of.
for P in openai claude; do
	fake_start "$P"
	ok "$P: site, platform detected" --json site add "$P" "$FAKE_URL"
	expect "$P: stored as detected" "$(jget "$OUT" platform)" "$P"
	before=$(count_items account list)
	refuse "$P: unknown key" 1 "rejected the API key" account add "$P" --api-key sk-not-a-real-key
	refuse "$P: no logins" 1 "take an --api-key only" account add "$P" --username alice --password pass-123
	expect "$P: nothing stored" "$(count_items account list)" "$before"
	KEY=$(fake_get /tokens/1/key)
	ok "$P: API-key account" --json account add "$P" --api-key "$KEY"
	ID=$(jget "$OUT" id)
	expect "$P: models" "$(jget "$OUT" models)" "$(curl -s "$FAKE_URL/v1/models" \
	    -H "Authorization: Bearer $KEY" -H "x-api-key: $KEY" \
	    -H 'anthropic-version: 2023-06-01' | grep -o '"id"' | wc -l | tr -d ' ')"
	ok "$P: refresh" --json account refresh "$ID"
	expect "$P: refreshed" "$(jget "$OUT" items.0.ok)" true
	run --json checkin run "$ID"
	expect "$P: no check-in" "$RC $(jget "$OUT" items.0.outcome)" "0 skipped"
	expect "$P: no tokens" "$(count_items token list --account "$ID")" 0
	ok "$P: model list" --json model list
	expect_match "$P: its models listed" "$(cat "$OUT")" "\"$P\""
	ok "$P: remove the site" site rm "$P"
	kill "$FAKE_PID" 2>/dev/null
done

test_done
