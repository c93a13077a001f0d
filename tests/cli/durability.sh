# Every acknowledged change survives kill -9 of the daemon.
. "$SRCDIR/tests/lib/libtest.sh"
test_init durability

ok "start" status
i=1
while [ $i -le 20 ]; do
	"$METAPI" site add "s$i" "https://s$i.example.com" --platform new-api >/dev/null 2>&1 ||
	    fail "site add s$i"
	"$METAPI" key add "k$i" >/dev/null 2>&1 || fail "key add k$i"
	i=$((i + 1))
done
ok "edit" site edit s3 --weight 7
ok "disable" site disable s4
ok "rm" site rm s5
ok "rotate" key rotate 2
ROT=$(cat "$OUT")
ok "setting" settings set log_retention_days 9
ok "key disable" key disable 3
fake_start openai
OKEY=$(curl -s "$FAKE_URL/__fake/state?pointer=/tokens/1/key")
ok "site for accounts" site add oa "$FAKE_URL" --platform openai
ok "account add" account add oa --api-key "$OKEY" --label first
ok "second account" account add oa --api-key "$OKEY" --label second
ok "account disable" account disable 2
ok "account rm" account rm 1

pid=$(cat "$METAPI_DATA_DIR/daemon.lock")
kill -9 "$pid"
wait_gone

ok "restart after kill -9" --json site list
expect "all sites but the removed one" "$(jget "$OUT" items.length)" 20
ok "edit kept" --json site show s3
expect "weight" "$(jget "$OUT" weight)" 7.0
ok "disable kept" --json site show s4
expect "disabled" "$(jget "$OUT" enabled)" false
refuse "rm kept" 1 "no site" site show s5
expect "keys" "$(count_items key list)" 20
ok "rotation kept" key reveal 2
expect "rotated key" "$(cat "$OUT")" "$ROT"
ok "setting kept" --json settings get log_retention_days
expect "setting" "$(jget "$OUT" value)" 9
ok "key disable kept" --json key show 3
expect "key disabled" "$(jget "$OUT" enabled)" false
ok "accounts kept" --json account list
expect "one account left" "$(jget "$OUT" items.length)" 1
expect "the second" "$(jget "$OUT" items.0.label)" second
expect "still disabled" "$(jget "$OUT" items.0.status)" disabled

test_done
