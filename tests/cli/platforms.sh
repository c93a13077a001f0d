# Every platform end to end against the fake relay playing it: detection,
# accounts with each credential kind, refresh, tokens (create, delete,
# masked keys revealed), check-in twice, and balances that match the fake
# relay's quota exactly.
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

# platform P LOGIN CHECKIN1 CHECKIN2 ACCESS: one platform's whole story.
platform() {
	P=$1 LOGIN=$2 FIRST=$3 SECOND=$4 ACCESS=$5
	fake_start "$P"
	ok "$P: detect" --json site detect "$FAKE_URL"
	expect "$P: detected" "$(jget "$OUT" platform)" "$P"
	ok "$P: site, platform detected" --json site add "$P" "$FAKE_URL"
	expect "$P: stored as detected" "$(jget "$OUT" platform)" "$P"

	before=$(count_items account list)
	refuse "$P: wrong password" 1 "." account add "$P" --username "$LOGIN" --password wrong-pass
	expect "$P: nothing stored" "$(count_items account list)" "$before"

	ok "$P: password account" --json account add "$P" --username "$LOGIN" --password pass-123
	ID=$(jget "$OUT" id)
	expect "$P: balance is the remaining quota" "$(num "$(jget "$OUT" balance_usd)")" \
	    "$(usd "$(fake_get /users/alice/quota)")"
	expect "$P: tokens found" "$(jget "$OUT" tokens)" 2
	expect_match "$P: models found" "$(jget "$OUT" models)" '^[1-9]'

	ok "$P: token list" --json token list --account "$ID"
	expect "$P: two tokens" "$(jget "$OUT" items.length)" 2
	expect "$P: keys usable" "$(jget "$OUT" items.0.value_status)" ready
	ok "$P: token create" --json token create "$ID" --name citoken
	expect "$P: three tokens" "$(jget "$OUT" items.length)" 3
	curl -s "$FAKE_URL/__fake/state" >"$TMP/state.json"
	expect "$P: created on the site" \
	    "$(grep -o '"citoken"' "$TMP/state.json" | wc -l | tr -d ' ')" 1
	NEW=$("$METAPI" --json token list --account "$ID" | \
	    awk '/"id"/ { id = $2 } /"name": "citoken"/ { print id }' | tr -d ,)
	ok "$P: token rm" token rm "$NEW"
	curl -s "$FAKE_URL/__fake/state" >"$TMP/state.json"
	expect "$P: deleted on the site" \
	    "$(grep -o '"citoken"' "$TMP/state.json" | wc -l | tr -d ' ')" 0
	expect "$P: two again" "$(count_items token list --account "$ID")" 2

	run --json checkin run "$ID"
	expect "$P: first check-in" "$(jget "$OUT" items.0.outcome)" "$FIRST"
	run --json checkin run "$ID"
	expect "$P: second check-in" "$(jget "$OUT" items.0.outcome)" "$SECOND"
	ok "$P: balance refresh" --json balance --refresh
	expect "$P: balance after check-in matches the site" \
	    "$(num "$(jget "$OUT" accounts.0.balance_usd)")" \
	    "$(usd "$(fake_get /users/alice/quota)")"

	KEY=$(fake_get /tokens/1/key)
	ok "$P: API-key account" --json account add "$P" --api-key "$KEY"
	expect_match "$P: key lists models" "$(jget "$OUT" models)" '^[1-9]'
	if [ "$ACCESS" = yes ]; then
		ok "$P: access-token account" --json account add "$P" \
		    --access-token access-alice --user-id 1
		expect "$P: same balance" "$(num "$(jget "$OUT" balance_usd)")" \
		    "$(usd "$(fake_get /users/alice/quota)")"
		refuse "$P: bad access token" 1 "." account add "$P" \
		    --access-token not-a-token --user-id 1
	fi
	ok "$P: refresh all" --json account refresh --all
	expect "$P: no failures" "$(jget "$OUT" failed)" 0
	ok "$P: remove the site" site rm "$P"
	kill "$FAKE_PID" 2>/dev/null
}

platform new-api alice success already yes
platform veloera alice success already yes
platform anyrouter alice success already yes
platform one-api alice skipped skipped yes
platform one-hub alice skipped skipped yes
platform done-hub alice skipped skipped yes
platform sub2api alice@example.com skipped skipped no

test_done
