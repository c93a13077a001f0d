# A unique secret planted through `account add --api-key` (and a site
# header) must appear nowhere: not in the database file, its WAL, the log
# at debug level, or any reply; only `key reveal`-style commands show the
# keys they exist to show.
. "$SRCDIR/tests/lib/libtest.sh"
test_init secrets

SECRET="sk-planted$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
HSECRET="hdr$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
fake_start openai
curl -s -X POST "$FAKE_URL/__fake/state" \
    -d "{\"patch_tokens\":[{\"id\":9,\"user_id\":1,\"key\":\"$SECRET\",\"name\":\"planted\"}]}" >/dev/null
expect "fake relay holds the planted key" \
    "$(curl -s "$FAKE_URL/__fake/state?pointer=/tokens/9/key")" "$SECRET"

ok "daemon at debug level" daemon --detach --log-level debug
ok "site with a secret header" site add s "$FAKE_URL" --platform openai \
    --header "X-Secret: $HSECRET"
run_in "$SECRET" account add s --api-key - --label planted
expect "account added" "$RC" 0
REPLIES="$TMP/replies"
for cmd in "site list" "site show s" "account list" "account show 1" \
    "status" "settings list"; do
	"$METAPI" $cmd >>"$REPLIES" 2>&1
	"$METAPI" --json $cmd >>"$REPLIES" 2>&1
done
cat "$OUT" "$ERR" >>"$REPLIES"
expect_nomatch "no reply shows the key" "$(cat "$REPLIES")" "$SECRET"
expect_nomatch "no reply shows the header" "$(cat "$REPLIES")" "$HSECRET"
expect_match "replies show the mask" "$(cat "$REPLIES")" "sk-…${SECRET#${SECRET%????}}"

# A failed add must not leak the key into the error either.
curl -s -X POST "$FAKE_URL/__fake/fault" -d '{"path":"/v1/models","status":401}' >/dev/null
run account add s --api-key "$SECRET"
expect "rejected" "$RC" 1
expect_nomatch "error does not echo the key" "$(cat "$ERR")" "$SECRET"

ok "stop" stop
wait_gone
for f in $(db_files); do
	if grep -aqF "$SECRET" "$f"; then fail "key in $(basename "$f") in clear"; else pass; fi
	if grep -aqF "$HSECRET" "$f"; then fail "header in $(basename "$f") in clear"; else pass; fi
done
expect_match "debug log was written" "$(cat "$METAPI_DATA_DIR/metapi.log")" "debug"
expect_nomatch "key not in the log" "$(cat "$METAPI_DATA_DIR/metapi.log")" "$SECRET"
expect_nomatch "header not in the log" "$(cat "$METAPI_DATA_DIR/metapi.log")" "$HSECRET"

# Downstream keys: shown by add and reveal, stored only as hash + sealed.
ok "key add" key add laptop
DKEY=$(cat "$OUT")
ok "key list" key list
expect_nomatch "key list hides it" "$(cat "$OUT")" "$DKEY"
ok "stop" stop
wait_gone
for f in $(db_files); do
	if grep -aqF "$DKEY" "$f"; then fail "downstream key in $(basename "$f")"; else pass; fi
done
ok "reveal" key reveal 1
expect "reveal shows it" "$(cat "$OUT")" "$DKEY"

test_done
