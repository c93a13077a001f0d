# metapi connect: each client's configuration in the format the client
# documents (JSON parsed, TOML tables and keys), --write into a private
# HOME that already holds other settings (they survive, a .bak is kept,
# modes are right), and the refusals: unknown client, no key, several
# keys, a disabled or expired key, --write where there is no file, no
# terminal without --yes, a file that cannot be merged.
. "$SRCDIR/tests/lib/libtest.sh"
test_init connect
unset XDG_CONFIG_HOME CODEX_HOME

refuse "unknown client" 2 'unknown client "vim".*claude-code, codex' connect vim
refuse "no key yet" 1 "metapi key add NAME" connect codex
refuse "missing client" 2 "missing CLIENT" connect

fake_start new-api
ok "site" site add na "$FAKE_URL"
ok "account" account add na --username alice --password pass-123
ok "key" key add laptop --models 'gpt-*,claude-*'
KEY=$(cat "$OUT")
ADDR=$(listen_addr)
ROOT="http://$ADDR"

# claude-code: settings.json's env, and the export form.
ok "claude-code" connect claude-code
expect_match "claude-code names its file" "$(head -n 1 "$OUT")" "$HOME/.claude/settings.json"
expect_match "claude-code export" "$(cat "$OUT")" "^export ANTHROPIC_AUTH_TOKEN='$KEY'$"
ok "claude-code --json" --json connect claude-code
cp "$OUT" "$TMP/cc.json"
expect "json client" "$(jget "$TMP/cc.json" client)" claude-code
expect "json base_url is the root" "$(jget "$TMP/cc.json" base_url)" "$ROOT"
expect "json key_id" "$(jget "$TMP/cc.json" key_id)" 1
expect "json file path" "$(jget "$TMP/cc.json" files.0.path)" "$HOME/.claude/settings.json"
jget "$TMP/cc.json" files.0.content >"$TMP/cc-settings.json"
expect "settings.json env base URL" "$(jget "$TMP/cc-settings.json" env.ANTHROPIC_BASE_URL)" "$ROOT"
expect "settings.json env token" "$(jget "$TMP/cc-settings.json" env.ANTHROPIC_AUTH_TOKEN)" "$KEY"
expect "json env" "$(jget "$TMP/cc.json" env.ANTHROPIC_AUTH_TOKEN)" "$KEY"
expect_match "json text" "$(jget "$TMP/cc.json" text)" "ANTHROPIC_BASE_URL"

# codex: config.toml's provider table; the key stays in the environment.
ok "codex" --json connect codex
cp "$OUT" "$TMP/codex.json"
expect "codex base_url has /v1" "$(jget "$TMP/codex.json" base_url)" "$ROOT/v1"
jget "$TMP/codex.json" files.0.content >"$TMP/config.toml"
expect "codex top-level model_provider" "$(sed -n 1p "$TMP/config.toml")" 'model_provider = "metapi"'
expect "codex table" "$(grep -c '^\[model_providers\.metapi\]$' "$TMP/config.toml")" 1
expect "codex table keys" "$(sed -n '/^\[model_providers\.metapi\]$/,$p' "$TMP/config.toml" | sed '1d;/^$/d' | cut -d' ' -f1 | tr '\n' ' ')" \
    "name base_url env_key wire_api "
expect_match "codex base_url" "$(cat "$TMP/config.toml")" "^base_url = \"$ROOT/v1\"$"
expect_match "codex env_key" "$(cat "$TMP/config.toml")" '^env_key = "METAPI_API_KEY"$'
expect_match "codex wire_api" "$(cat "$TMP/config.toml")" '^wire_api = "responses"$'
expect_nomatch "no key in config.toml" "$(cat "$TMP/config.toml")" "$KEY"
expect "codex env" "$(jget "$TMP/codex.json" env.METAPI_API_KEY)" "$KEY"
ok "codex text" connect codex
expect_match "codex export line" "$(cat "$OUT")" "^export METAPI_API_KEY='$KEY'$"
expect_match "codex lists the key's models" "$(cat "$OUT")" "Models this key can use: .*gpt-4o"
CODEX_HOME="$TMP/ch" run connect codex
expect_match "CODEX_HOME is honoured" "$(head -n 1 "$OUT")" "$TMP/ch/config.toml"

# opencode: opencode.json's provider entry with the key's models.
ok "opencode" --json connect opencode
jget "$OUT" files.0.content >"$TMP/opencode.json"
expect "opencode path" "$(jget "$OUT" files.0.path)" "$HOME/.config/opencode/opencode.json"
expect "opencode schema" "$(jget "$TMP/opencode.json" '$schema')" "https://opencode.ai/config.json"
expect "opencode npm" "$(jget "$TMP/opencode.json" provider.metapi.npm)" "@ai-sdk/openai-compatible"
expect "opencode baseURL" "$(jget "$TMP/opencode.json" provider.metapi.options.baseURL)" "$ROOT/v1"
expect "opencode apiKey" "$(jget "$TMP/opencode.json" provider.metapi.options.apiKey)" "$KEY"
expect "opencode model entry" "$(jget "$TMP/opencode.json" provider.metapi.models.gpt-4o-mini.name)" gpt-4o-mini
expect "opencode: only the key's models" "$(jget "$TMP/opencode.json" provider.metapi.models.deepseek-chat.name || echo absent)" absent
XDG_CONFIG_HOME="$TMP/xdg" run connect opencode
expect_match "XDG_CONFIG_HOME is honoured" "$(head -n 1 "$OUT")" "$TMP/xdg/opencode/opencode.json"

# cherry-studio and openai-sdk: text and env only.
ok "cherry-studio" connect cherry-studio
expect_match "cherry type" "$(cat "$OUT")" "Provider type +OpenAI"
expect_match "cherry host" "$(cat "$OUT")" "API host +$ROOT$"
expect_match "cherry key" "$(cat "$OUT")" "API key +$KEY$"
ok "cherry-studio --json" --json connect cherry-studio
expect "cherry has no file" "$(jget "$OUT" files.length)" 0
ok "openai-sdk" --json connect openai-sdk
expect "sdk base url" "$(jget "$OUT" env.OPENAI_BASE_URL)" "$ROOT/v1"
expect "sdk key" "$(jget "$OUT" env.OPENAI_API_KEY)" "$KEY"
jget "$OUT" text >"$TMP/sdk.txt"
expect_match "python snippet" "$(cat "$TMP/sdk.txt")" "^from openai import OpenAI$"
expect_match "node snippet" "$(cat "$TMP/sdk.txt")" '^import OpenAI from "openai";$'

# --write into files that hold other settings.
mkdir -p "$HOME/.claude" "$HOME/.codex" "$HOME/.config/opencode"
printf '{\n  "model": "opus",\n  "env": {"DEBUG": "1"},\n  "permissions": {"allow": ["Bash(ls)"]}\n}\n' \
    >"$HOME/.claude/settings.json"
chmod 640 "$HOME/.claude/settings.json"
cp "$HOME/.claude/settings.json" "$TMP/settings.orig"
cat >"$HOME/.codex/config.toml" <<'EOF'
# my codex settings
model = "o3"
model_provider = "openai"   # was this

[model_providers.metapi]
name = "old"
base_url = "http://old/v1"

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-server"]
EOF
cp "$HOME/.codex/config.toml" "$TMP/config.orig"
printf '{"theme": "tokyonight", "provider": {"other": {"npm": "x"}}}\n' \
    >"$HOME/.config/opencode/opencode.json"

refuse "--write needs a terminal or --yes" 1 "add --yes" connect codex --write
expect "nothing written without --yes" "$(cmp -s "$TMP/config.orig" "$HOME/.codex/config.toml" && echo same)" same
expect_match "the diff is shown first" "$(cat "$OUT")" '^\+model_provider = "metapi"$'

ok "claude-code --write" connect claude-code --write --yes
expect_match "claude diff" "$(cat "$OUT")" "^\+.*ANTHROPIC_AUTH_TOKEN"
S="$HOME/.claude/settings.json"
expect "claude kept model" "$(jget "$S" model)" opus
expect "claude kept env.DEBUG" "$(jget "$S" env.DEBUG)" 1
expect "claude kept permissions" "$(jget "$S" permissions.allow.0)" "Bash(ls)"
expect "claude token" "$(jget "$S" env.ANTHROPIC_AUTH_TOKEN)" "$KEY"
expect "claude base url" "$(jget "$S" env.ANTHROPIC_BASE_URL)" "$ROOT"
expect "claude .bak is the old file" "$(cmp -s "$TMP/settings.orig" "$S.bak" && echo same)" same
expect "claude mode kept" "$(stat -c %a "$S")" 640
ok "claude-code again" connect claude-code --write --yes
expect_match "nothing to change" "$(cat "$ERR")" "already has this configuration"

ok "codex --write" --json connect codex --write --yes
expect "json written" "$(jget "$OUT" files.0.written)" true
expect "json backup" "$(jget "$OUT" files.0.backup)" "$HOME/.codex/config.toml.bak"
C="$HOME/.codex/config.toml"
expect "codex config" "$(cat "$C")" "# my codex settings
model = \"o3\"
model_provider = \"metapi\"

[model_providers.metapi]
name = \"metapi\"
base_url = \"$ROOT/v1\"
env_key = \"METAPI_API_KEY\"
wire_api = \"responses\"

[mcp_servers.docs]
command = \"npx\"
args = [\"-y\", \"docs-server\"]"
expect "codex .bak" "$(cmp -s "$TMP/config.orig" "$C.bak" && echo same)" same

ok "opencode --write" connect opencode --write --yes
O="$HOME/.config/opencode/opencode.json"
expect "opencode kept theme" "$(jget "$O" theme)" tokyonight
expect "opencode kept other provider" "$(jget "$O" provider.other.npm)" x
expect "opencode apiKey written" "$(jget "$O" provider.metapi.options.apiKey)" "$KEY"
expect "opencode .bak" "$(jget "$O.bak" theme)" tokyonight

# New files: parents made 0700, a file with the key 0600.
H2="$TMP/home2"
mkdir -p "$H2"
HOME="$H2" run connect opencode --write --yes
expect "new file written" "$RC" 0
expect "new file mode" "$(stat -c %a "$H2/.config/opencode/opencode.json")" 600
expect "new dir mode" "$(stat -c %a "$H2/.config/opencode")" 700
expect "no .bak for a new file" "$(ls "$H2/.config/opencode")" opencode.json

# A file that cannot be merged is left alone.
printf '{"env": "oops"}\n' >"$H2/.claude.json.tmp"
mkdir -p "$H2/.claude" && mv "$H2/.claude.json.tmp" "$H2/.claude/settings.json"
HOME="$H2" refuse "env not an object" 1 '"env" is not an object' connect claude-code --write --yes
printf 'this is [not toml\n' >"$TMP/bad.toml"
mkdir -p "$H2/.codex" && cp "$TMP/bad.toml" "$H2/.codex/config.toml"
HOME="$H2" refuse "unreadable TOML" 1 "line 1" connect codex --write --yes
expect "bad TOML untouched" "$(cmp -s "$TMP/bad.toml" "$H2/.codex/config.toml" && echo same)" same

refuse "cherry-studio --write" 2 "no config file" connect cherry-studio --write --yes
refuse "openai-sdk --write" 2 "no config file" connect openai-sdk --write --yes

# Key choice.
ok "second key" key add ci
refuse "several keys" 1 "1 \(laptop\), 2 \(ci\).*--key" connect codex
ok "--key picks" --json connect codex --key 2
expect "picked key" "$(jget "$OUT" key_id)" 2
refuse "unknown key" 1 "no key 9" connect codex --key 9
refuse "key not a number" 2 "not a whole number" connect codex --key x
ok "disable" key disable 2
ok "the only enabled key is used" --json connect openai-sdk
expect "enabled key chosen" "$(jget "$OUT" key_id)" 1
refuse "disabled key refused" 1 "key 2 is disabled" connect codex --key 2
ok "expired key" key add old --expires 2020-01-01
refuse "expired key refused" 1 "key 3 has expired" connect codex --key 3
ok "disable the last usable one" key disable 1
refuse "no usable key" 1 "no key can be used" connect codex

test_done
