# backup export / import: a round trip through a wiped data dir gives the
# same state, secrets never leave in plaintext, bad files and wrong
# passphrases change nothing, importing twice changes nothing, and the
# Node metapi and ALL-API-Hub formats import what they should.
. "$SRCDIR/tests/lib/libtest.sh"
test_init backup

CASES="$SRCDIR/tests/cases/backup"
fake_start new-api
A=$FAKE_URL
fake_start openai
O=$FAKE_URL
HSECRET="hdr-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
PP="$TMP/pass"
echo "correct horse battery" >"$PP"
echo "wrong horse battery" >"$TMP/wrong"

ok "site a" site add a "$A" --header "X-Relay: $HSECRET" --weight 2
ok "site o" site add o "$O" --platform openai
# The same relay once more, through a proxy with a password: two sites of
# one file on one URL stay two, and the password stays sealed.
ok "site a2" site add a2 "$A" --platform new-api \
    --proxy "http://pu:pw-backup-0002@127.0.0.1:9"
ok "account alice" account add a --username alice --password pass-123
OKEY=$(curl -s "$O/__fake/state?pointer=/tokens/1/key")
run_in "$OKEY" account add o --api-key - --label direct
expect "account o" "$RC" 0
ok "key" key add laptop --models 'gpt-*' --max-requests 50
K=$(cat "$OUT")
ok "manual route" route add 'gpt-4o*' --alias fast --strategy round_robin
ok "explain" --json route explain gpt-4o-mini
CH=$(jget "$OUT" candidates.0.channel_id)
ok "channel edit" channel set "$CH" --priority 2 --weight 33
ok "notify" notify add webhook "http://127.0.0.1:9/hook/tok-backup-0001"
ok "setting" settings set checkin_cron '30 7 * * *'

# state: the listings that must survive, without volatile fields
state() {
	for what in "site list" "account list" "key list" "route list" \
	    "notify list" "token list"; do
		"$METAPI" --json $what >"$TMP/l.json" || return 1
		n=$(jget "$TMP/l.json" items.length)
		i=0
		while [ "$i" -lt "$n" ]; do
			for f in name url platform weight enabled status label \
			    kind credential username models max_requests key \
			    pattern alias strategy channels manual target \
			    secret token_mask group is_default proxy; do
				v=$(jget "$TMP/l.json" "items.$i.$f" 2>/dev/null) &&
				    printf '%s %s.%s=%s\n' "$what" "$i" "$f" "$v"
			done
			i=$((i + 1))
		done
	done
	"$METAPI" settings get checkin_cron | grep '^value'
	"$METAPI" route show 'gpt-4o*' | grep -c '^[0-9]'
	"$METAPI" --json channel set "$CH" | sed -n 's/.*"weight": *\([0-9]*\).*/w=\1/p'
}
state >"$TMP/before" || fail "state before"
expect_match "state has the manual route" "$(cat "$TMP/before")" "pattern=gpt-4o\\*"
expect_match "state has the channel edit" "$(cat "$TMP/before")" "w=33"

ok "export" --json backup export "$TMP/b.json" --passphrase-file "$PP"
expect "reply names the file" "$(jget "$OUT" file)" "$TMP/b.json"
expect "counts the accounts" "$(jget "$OUT" counts.accounts)" 2
expect "mode 0600" "$(stat -c %a "$TMP/b.json")" 600
for s in pass-123 "$OKEY" "$K" "$HSECRET" tok-backup-0001 pw-backup-0002; do
	if grep -qF -- "$s" "$TMP/b.json"; then fail "$s in the file in clear"; else pass; fi
done
expect "versioned" "$(jget "$TMP/b.json" version)" 1
expect "format named" "$(jget "$TMP/b.json" format)" metapi-backup
expect "argon2id" "$(jget "$TMP/b.json" kdf.alg)" argon2id13

# Refusals on export.
echo short >"$TMP/short"
refuse "short passphrase" 1 "at least 8" backup export "$TMP/x.json" --passphrase-file "$TMP/short"
refuse "no passphrase off a terminal" 2 "passphrase is needed" backup export "$TMP/x.json" </dev/null
refuse "missing passphrase file" 2 "No such file" backup export "$TMP/x.json" --passphrase-file "$TMP/nope"
refuse "unwritable place" 1 "No such file" backup export "$TMP/no/dir/b.json" --passphrase-file "$PP"
expect "nothing written" "$(ls "$TMP" | grep -c '^x.json')" 0

# Importing into the same state changes nothing.
ok "import onto itself" --json backup import "$TMP/b.json" --passphrase-file "$PP"
expect "sites unchanged" "$(jget "$OUT" sections.sites.unchanged)" 3
expect "nothing added" "$(grep -o '"added": *[1-9]' "$OUT" | wc -l)" 0
expect "nothing updated" "$(grep -o '"updated": *[1-9]' "$OUT" | wc -l)" 0

# Wipe: a new data dir with a new master key, then the backup.
ok "stop" stop
wait_gone
mv "$METAPI_DATA_DIR" "$TMP/old-data"
db_new
ok "fresh daemon" daemon --detach
ok "empty" --json site list
expect "no sites" "$(jget "$OUT" items.length)" 0

# Wrong passphrase, truncated and tampered files change nothing.
refuse "wrong passphrase" 1 "wrong passphrase" backup import "$TMP/b.json" --passphrase-file "$TMP/wrong"
head -c 700 "$TMP/b.json" >"$TMP/trunc.json"
refuse "truncated" 1 "not JSON" backup import "$TMP/trunc.json" --passphrase-file "$PP"
sed 's/"credential": "\(.\)/"credential": "A\1/' "$TMP/b.json" >"$TMP/tamper.json"
refuse "tampered secret" 1 "does not open" backup import "$TMP/tamper.json" --passphrase-file "$PP"
sed 's/"platform": "openai"/"platform": "nope"/' "$TMP/b.json" >"$TMP/bad.json"
refuse "bad item" 1 'sites\[1\]: unknown platform "nope"' backup import "$TMP/bad.json" --passphrase-file "$PP"
refuse "missing file" 1 "No such file" backup import "$TMP/none.json"
echo '{"hello": "world"}' >"$TMP/other.json"
refuse "not a backup" 1 "not a metapi" backup import "$TMP/other.json"
sed 's/"version": 1,/"version": 99,/' "$TMP/b.json" >"$TMP/newer.json"
refuse "newer format" 1 "newer metapi" backup import "$TMP/newer.json" --passphrase-file "$PP"
refuse "sealed needs a passphrase" 2 "passphrase is needed" backup import "$TMP/b.json" </dev/null
ok "still empty" --json site list
expect "no sites after refusals" "$(jget "$OUT" items.length)" 0
ok "no keys either" --json key list
expect "no keys after refusals" "$(jget "$OUT" items.length)" 0

ok "dry run" --json backup import "$TMP/b.json" --passphrase-file "$PP" --dry-run
expect "dry run would add" "$(jget "$OUT" sections.sites.added)" 3
expect "dry run flagged" "$(jget "$OUT" dry_run)" true
ok "dry run kept nothing" --json site list
expect "no sites after dry run" "$(jget "$OUT" items.length)" 0
db_dense_ids

ok "import" --json backup import "$TMP/b.json" --passphrase-file "$PP"
expect "sites added" "$(jget "$OUT" sections.sites.added)" 3
expect "accounts added" "$(jget "$OUT" sections.accounts.added)" 2
expect "keys added" "$(jget "$OUT" sections.keys.added)" 1
state >"$TMP/after" || fail "state after"
if diff "$TMP/before" "$TMP/after" >"$TMP/diff"; then pass; else
	fail "state differs after the round trip: $(cat "$TMP/diff")"
fi
ok "key reveal" key reveal 1
expect "the same downstream key" "$(cat "$OUT")" "$K"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K" \
    "http://$(listen_addr)/v1/models")
expect "the old key works" "$CODE" 200
run_in "$(printf 'correct horse battery\n')" --json backup import "$TMP/b.json" --passphrase -
expect "passphrase on stdin" "$RC" 0
expect "second import adds nothing" "$(grep -o '"added": *[1-9]' "$OUT" | wc -l)" 0
expect "second import updates nothing" "$(grep -o '"updated": *[1-9]' "$OUT" | wc -l)" 0
ok "account works after import" account refresh 1
ok "account show" --json account show 1
expect "refreshed with the imported password" "$(jget "$OUT" health)" healthy

# The Node metapi's backup.
ok "node import" --json backup import "$CASES/node-2.1.json"
expect "node format" "$(jget "$OUT" format)" metapi-node
expect "node sites" "$(jget "$OUT" sections.sites.added)" 2
expect "node accounts" "$(jget "$OUT" sections.accounts.added)" 3
expect "node tokens" "$(jget "$OUT" sections.tokens.added)" 2
expect "node keys" "$(jget "$OUT" sections.keys.added)" 2
expect "node webhook" "$(jget "$OUT" sections.notify.added)" 1
expect_match "gemini site reported" "$(cat "$OUT")" 'platform \\"gemini\\" is not supported'
expect_match "oauth account reported" "$(cat "$OUT")" "OAuth accounts are not supported"
expect_match "masked token reported" "$(cat "$OUT")" "token 101 skipped"
expect_match "group route reported" "$(cat "$OUT")" "group routes are not supported"
expect_match "unknown setting reported" "$(cat "$OUT")" "codex_upstream_websocket_enabled"
ok "node site" --json site show "Relay One"
expect_match "node weight" "$(jget "$OUT" weight)" '^2(\.0)?$'
ok "node accounts" --json account list
expect_match "cookie account" "$(cat "$OUT")" '"credential_kind": "cookie"'
expect_match "access token account" "$(cat "$OUT")" '"credential_kind": "access_token"'
ok "node key" --json key show 2
expect "a name taken by another key gets a new one" "$(jget "$OUT" name)" laptop-2
ok "the local key kept its secret" key reveal 1
expect "local key unchanged" "$(cat "$OUT")" "$K"
ok "node settings" settings get log_retention_days
expect_match "retention mapped" "$(cat "$OUT")" "value +14"
ok "node weights" settings get routing_cost_weight
expect_match "weights mapped" "$(cat "$OUT")" "value +0.5"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer sk-node-proxy-token-0001" \
    "http://$(listen_addr)/v1/models")
expect "node proxy token works" "$CODE" 200
ok "node import again" --json backup import "$CASES/node-2.1.json"
expect "node idempotent" "$(grep -o '"added": *[1-9]' "$OUT" | wc -l)" 0

# ALL-API-Hub exports.
ok "aah v1" --json backup import "$CASES/aah-v1.json"
expect "v1 format" "$(jget "$OUT" format)" all-api-hub-v1
expect "v1 one site per origin" "$(jget "$OUT" sections.sites.added)" 2
expect "v1 accounts" "$(jget "$OUT" sections.accounts.added)" 3
expect_match "v1 none auth skipped" "$(cat "$OUT")" "cannot be moved"
ok "v1 site" --json site show "Public Relay"
expect "v1 origin" "$(jget "$OUT" url)" https://public.example
ok "balances" --json balance
expect_match "raw quota converted" "$(cat "$OUT")" '"balance_usd": 5'
ok "aah v2" --json backup import "$CASES/aah-v2.json"
expect "v2 format" "$(jget "$OUT" format)" all-api-hub-v2
expect "v2 accounts and profiles" "$(jget "$OUT" sections.accounts.added)" 3
expect_match "v2 bookmarks reported" "$(cat "$OUT")" "bookmarks not carried over"
ok "aah v2 again" --json backup import "$CASES/aah-v2.json"
expect "v2 idempotent" "$(grep -o '"added": *[1-9]' "$OUT" | wc -l)" 0
refuse "malformed node" 1 "not a metapi" backup import "$CASES/node-malformed.json"
refuse "truncated node" 1 "not JSON" backup import "$CASES/node-truncated.json"

# Nothing secret reached the database in clear.
ok "stop" stop
wait_gone
for f in $(db_files); do
	for s in sk-node-downstream-0001 hdr-node-secret-1 aah-refresh-5 "$HSECRET"; do
		if grep -aqF "$s" "$f"; then fail "$s in $(basename "$f")"; else pass; fi
	done
done

test_done
