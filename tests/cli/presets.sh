# site add --preset and site presets. A preset's platform is known, so
# adding needs no network: only the stored fields are checked, and no
# provider is ever contacted (the sites get no accounts).
. "$SRCDIR/tests/lib/libtest.sh"
test_init presets

ok "presets" --json site presets
expect_match "several presets" "$(jget "$OUT" items.length)" "^([89]|[1-9][0-9])$"
expect "first is deepseek" "$(jget "$OUT" items.0.id)" deepseek
expect "it has a URL" "$(jget "$OUT" items.0.url)" https://api.deepseek.com
expect "and a platform" "$(jget "$OUT" items.0.platform)" openai
expect "and a credential kind" "$(jget "$OUT" items.0.credential)" api_key
expect "next cursor is null" "$(jget "$OUT" next)" null
ok "presets table" site presets
expect_match "table header" "$(head -n 1 "$OUT")" "^PRESET +ALIASES +PROVIDER +PLATFORM +URL"
expect_match "kimi is an alias" "$(cat "$OUT")" "^moonshot +kimi"

ok "add by preset" --json site add ds --preset deepseek
expect "preset URL" "$(jget "$OUT" url)" https://api.deepseek.com
expect "preset platform" "$(jget "$OUT" platform)" openai
expect "reply names the preset" "$(jget "$OUT" preset)" deepseek
ok "alias, any case" --json site add k --preset KIMI
expect "alias URL" "$(jget "$OUT" url)" https://api.moonshot.cn/v1
ok "anthropic preset" --json site add a --preset anthropic
expect "claude platform" "$(jget "$OUT" platform)" claude

# An explicit URL or --platform wins over the preset's.
ok "URL overrides" --json site add z --preset zhipu http://127.0.0.1:9/api/paas/v4
expect "explicit URL kept" "$(jget "$OUT" url)" http://127.0.0.1:9/api/paas/v4
expect "preset platform kept" "$(jget "$OUT" platform)" openai
ok "platform overrides" --json site add a2 --preset anthropic --platform openai
expect "explicit platform kept" "$(jget "$OUT" platform)" openai
expect "preset URL with it" "$(jget "$OUT" url)" https://api.anthropic.com

# Bad input: nothing stored.
before=$(count_items site list)
refuse "unknown preset" 1 'unknown preset "nope" \(known: deepseek, ' \
    site add x --preset nope
refuse "neither URL nor preset" 2 "give URL or --preset" site add x
refuse "preset's name taken" 1 "already exists" site add ds --preset deepseek
refuse "bad override URL" 1 "must start with http" \
    site add x --preset deepseek ftp://x.example.com
expect "nothing stored" "$(count_items site list)" "$before"

# The daemon checks requests against the same table (cmd_check_args:
# tests/unit/t-misc.c has the request without URL or preset).

test_done
