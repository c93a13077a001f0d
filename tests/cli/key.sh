# Downstream keys: add/list/show/reveal/rm/enable/disable/rotate.
. "$SRCDIR/tests/lib/libtest.sh"
test_init key

ok "add" key add laptop
KEY1=$(cat "$OUT")
expect_match "key printed alone on stdout" "$KEY1" '^sk-[A-Za-z0-9]{48}$'
expect_match "store-it-now note on stderr" "$(cat "$ERR")" "reveal 1"
ok "add with limits" --json key add ci --models 'gpt-4o*,claude-*,re:^deepseek' \
    --expires 2099-12-31 --max-cost 12.5 --max-requests 1000
KEY2=$(jget "$OUT" key)
expect_match "json add has key" "$KEY2" '^sk-'
expect "models" "$(jget "$OUT" models.2)" "re:^deepseek"
expect "expires" "$(jget "$OUT" expires)" "2099-12-31"
expect "max cost" "$(jget "$OUT" max_cost_usd)" 12.5
expect "max requests" "$(jget "$OUT" max_requests)" 1000
expect "default models" "$("$METAPI" --json key show 1 | jget - models.0)" "*"

ok "list" key list
expect_nomatch "list never shows a key" "$(cat "$OUT")" "$KEY1|$KEY2"
expect_match "list shows the mask" "$(cat "$OUT")" "sk-…${KEY1#${KEY1%????}}"
ok "show" --json key show 2
expect_nomatch "show never shows the key" "$(cat "$OUT")" "$KEY2"
expect "show has no key field" "$(jget "$OUT" key || echo absent)" absent
ok "reveal" key reveal 1
expect "reveal gives the key back" "$(cat "$OUT")" "$KEY1"
ok "rotate" key rotate 1
NEW=$(cat "$OUT")
expect_match "rotated key" "$NEW" '^sk-'
expect_nomatch "rotation changes it" "$NEW" "$KEY1"
ok "reveal after rotate" key reveal 1
expect "reveal shows the new key" "$(cat "$OUT")" "$NEW"
ok "disable" --json key disable 1
expect "disabled" "$(jget "$OUT" enabled)" false
ok "enable" --json key enable 1
expect "enabled" "$(jget "$OUT" enabled)" true

before=$(count_items key list)
refuse "duplicate name" 1 "already exists" key add ci
refuse "bad date" 1 "not a date" key add x --expires 2030-02-30
refuse "bad date format" 1 "not a date" key add x --expires tomorrow
refuse "bad regex" 1 "bad regular expression" key add x --models 're:('
refuse "empty pattern" 1 "empty pattern" key add x --models 'a,,b'
refuse "bad number" 2 "not a number" key add x --max-cost lots
refuse "bad integer" 2 "not a whole number" key add x --max-requests 1.5
refuse "negative requests" 1 "must not be negative" key add x --max-requests -1
refuse "missing name" 2 "missing NAME" key add
refuse "unknown key" 1 "no key 42" key show 42
refuse "unknown key reveal" 1 "no key 42" key reveal 42
refuse "unknown key rotate" 1 "no key 42" key rotate 42
refuse "id not a number" 2 "not a whole number" key show abc
refuse "unknown key rm" 1 "no key 42" key rm 42
refuse "unknown key enable" 1 "no key 42" key enable 42
refuse "unknown key disable" 1 "no key 42" key disable 42
refuse "rotate without an id" 2 "missing ID" key rotate
refuse "reveal without an id" 2 "missing ID" key reveal
refuse "list takes no argument" 2 "unexpected argument" key list extra
expect "nothing stored by the failures" "$(count_items key list)" "$before"
ok "reveal after the failures" key reveal 1
expect "key 1 unchanged by them" "$(cat "$OUT")" "$NEW"

ok "rm" key rm 2
refuse "removed" 1 "no key 2" key show 2
expect "one left" "$(count_items key list)" 1

test_done
