# site add/list/show/edit/rm/enable/disable, and bad input for each.
. "$SRCDIR/tests/lib/libtest.sh"
test_init site

ok "add a site" site add relay1 https://relay.example.com/ --platform new-api
expect_match "add prints the site" "$(cat "$OUT")" "name +relay1"
ok "add with every option" --json site add "中转站" https://cn.example.com \
    --platform one-hub --proxy socks5://127.0.0.1:1080 --weight 2.5 \
    --header 'X-Team: blue' --header 'Authorization: Bearer sekrit-header-value'
expect "json add has the id" "$(jget "$OUT" id)" 2
expect "trailing slash dropped" "$("$METAPI" --json site show 1 | jget - url)" "https://relay.example.com"
expect "weight kept" "$(jget "$OUT" weight)" 2.5
expect "proxy kept" "$(jget "$OUT" proxy)" "socks5://127.0.0.1:1080"
expect "header names shown" "$(jget "$OUT" headers.0)" "X-Team: …(4 chars)"
expect_nomatch "header value masked" "$(cat "$OUT")" "sekrit-header-value"

ok "list" site list
expect_match "list has a header row" "$(head -n 1 "$OUT")" "^ID +NAME +PLATFORM +URL"
# Columns by display width: 中转站 is 3 characters, 9 bytes and 6 columns
# wide, as wide as relay1, so NAME is 6 columns in every row. Counted in
# characters or bytes, the padding would differ between the rows.
expect_match "header aligned" "$(head -n 1 "$OUT")" "^ID  NAME    PLATFORM  URL"
expect_match "ASCII name aligned" "$(sed -n 2p "$OUT")" "^1   relay1  new-api   https://relay"
expect_match "CJK name aligned" "$(sed -n 3p "$OUT")" "^2   中转站  one-hub   https://cn"
ok "list --json" --json site list
expect "two items" "$(jget "$OUT" items.length)" 2
expect "next cursor is null" "$(jget "$OUT" next)" null
ok "--json after the command" site list --json
expect "same json" "$(jget "$OUT" items.1.name)" "中转站"

ok "show by name" --json site show relay1
expect "show by name gives id 1" "$(jget "$OUT" id)" 1
ok "show by id" --json site show 2
expect "show by id" "$(jget "$OUT" name)" "中转站"

ok "edit" --json site edit relay1 --name r1 --weight 3 --proxy http://127.0.0.1:8080
expect "renamed" "$(jget "$OUT" name)" r1
expect "weight edited" "$(jget "$OUT" weight)" 3.0
ok "--json as an option's value is a value" --json site edit r1 --proxy none --name --json
expect "named --json" "$(jget "$OUT" name)" "--json"
ok "rename back by id" site edit 1 --name r1
ok "edit proxy none" --json site edit r1 --proxy none
expect "proxy cleared" "$(jget "$OUT" proxy)" null
ok "edit headers" --json site edit r1 --header 'X-A: 1234567890abcdef'
expect "header replaced" "$(jget "$OUT" headers.length)" 1
ok "clear headers" --json site edit r1 --header none
expect "headers cleared" "$(jget "$OUT" headers.length)" 0

ok "disable" --json site disable r1
expect "disabled" "$(jget "$OUT" enabled)" false
ok "enable" --json site enable r1
expect "enabled" "$(jget "$OUT" enabled)" true

# Bad input: the right exit code, a clear message, nothing stored.
before=$(count_items site list)
refuse "unknown site" 1 "no site \"nope\"" site show nope
refuse "unknown site id" 1 "no site \"99\"" site rm 99
refuse "duplicate name" 1 "already exists" site add r1 https://x.example.com --platform openai
refuse "bad URL scheme" 1 "must start with http" site add x ftp://x.example.com --platform openai
refuse "URL without host" 1 "no host" site add x https:// --platform openai
refuse "URL with a space" 1 "white space" site add x "https://a b" --platform openai
refuse "bad port" 1 "bad port" site add x https://x.example.com:99999 --platform openai
refuse "unknown platform" 1 "unknown platform" site add x https://x.example.com --platform foo
refuse "detection needs a site that answers" 1 "cannot reach" site add x http://127.0.0.1:9
refuse "bad proxy" 1 "proxy: bad URL" site add x https://x.example.com --platform openai --proxy gopher://p
refuse "bad header" 1 "bad header" site add x https://x.example.com --platform openai --header 'no colon'
refuse "numeric name" 1 "all digits" site add 123 https://x.example.com --platform openai
refuse "bad number" 2 "not a number" site add x https://x.example.com --platform openai --weight heavy
refuse "negative weight" 1 "weight must be" site add x https://x.example.com --platform openai --weight -1
refuse "missing URL" 2 "give URL or --preset" site add x
refuse "missing name" 2 "missing NAME" site add
refuse "unknown option" 2 "unknown option --nope" site add x https://x.example.com --nope
refuse "option without value" 2 "needs a value" site add x https://x.example.com --platform
refuse "extra argument" 2 "unexpected argument" site show r1 extra
refuse "edit with nothing" 2 "nothing to change" site edit r1
refuse "edit to a taken name" 1 "already exists" site edit r1 --name "中转站"
refuse "edit bad url" 1 "bad URL" site edit r1 --url nope
refuse "enable an unknown site" 1 "no site \"nope\"" site enable nope
refuse "disable an unknown site" 1 "no site \"nope\"" site disable nope
refuse "edit an unknown site" 1 "no site \"nope\"" site edit nope --weight 2
refuse "missing SITE" 2 "missing SITE" site enable
refuse "list takes no argument" 2 "unexpected argument" site list extra
expect "nothing stored by the failures" "$(count_items site list)" "$before"
expect "failed edits left r1 alone" "$("$METAPI" --json site show 1 | jget - url)" "https://relay.example.com"

ok "rm" --json site rm r1
expect "rm returns the removed site" "$(jget "$OUT" removed)" true
refuse "gone" 1 "no site" site show r1
expect "one site left" "$(count_items site list)" 1

test_done
