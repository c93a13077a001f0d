# The proxy cases of tests/cases/proxy (format: doc/TESTING.md), each a
# downstream request, the upstream reply the fake relay plays (cut at
# the byte offsets given), the request that must reach the upstream,
# the reply the client must get and the row the log must hold, run by
# tests/tools/proxycase against one daemon and a fake relay per
# platform personality: new-api (the default, "main"), one-api,
# sub2api, openai and claude, each serving models of its own so a case
# picks its upstream by model.
. "$SRCDIR/tests/lib/libtest.sh"
test_init proxycases

# model NAME [OWNER]: one fake relay model entry.
model() {
	printf '{"id":"%s","owned_by":"%s","quota_type":0,"model_ratio":1,"completion_ratio":2,"model_price":0,"cache_ratio":0.5,"enable_groups":["default","vip"],"supported_endpoint_types":["%s"]}' \
	    "$1" "${2:-openai}" "$([ "${2:-openai}" = anthropic ] && echo anthropic || echo openai)"
}
fake_models() {	# fake_models URL MODEL-JSON...
	u=$1
	shift
	m=$(printf '%s,' "$@")
	curl -s -X POST "$u/__fake/state" -d "{\"models\":[${m%,}]}" >/dev/null
}

fake_start new-api
MAIN=$FAKE_URL
one_token "$MAIN"
fake_start one-api
ONEAPI=$FAKE_URL
one_token "$ONEAPI"
fake_models "$ONEAPI" "$(model oneapi-chat)"
fake_start sub2api
SUB=$FAKE_URL
fake_models "$SUB" "$(model sub2api-claude anthropic)"
fake_start openai
OA=$FAKE_URL
fake_models "$OA" "$(model openai-chat)"
fake_start claude
CL=$FAKE_URL
fake_models "$CL" "$(model claude-only anthropic)"

ok "main site" site add main "$MAIN" --platform new-api
ok "one-api site" site add oneapi "$ONEAPI" --platform one-api
ok "sub2api site" site add sub "$SUB" --platform sub2api
ok "openai site" site add oa "$OA" --platform openai
ok "claude site" site add cl "$CL" --platform claude
ok "main account" account add main --username alice --password pass-123
ok "one-api account" account add oneapi --username alice --password pass-123
ok "sub2api account" account add sub --username alice@example.com --password pass-123
ok "openai account" account add oa --api-key "$(curl -s "$OA/__fake/state?pointer=/tokens/1/key")"
ok "claude account" account add cl --api-key "$(curl -s "$CL/__fake/state?pointer=/tokens/1/key")"
ok "key" key add cases
K=$(cat "$OUT")
ok "narrow key" key add narrow --models 'claude-*'
NARROW=$(cat "$OUT")
ok "expired key" key add old --expires 2020-01-01
OLD=$(cat "$OUT")
# A low body limit keeps the giant-body cases small and fast.
ok "body limit" settings set http_max_request_body_bytes 65536
# The error cases cool channels; a recovery probe of one must not land
# in a later case's record of what went upstream (or take its reply).
ok "no recovery probes" settings set channel_probe_sec 0
BASE="http://$(listen_addr)"

for m in gpt-4o-mini oneapi-chat sub2api-claude openai-chat claude-only; do
	ok "route for $m" --json route show "$m"
done

"$BUILDDIR/tests/tools/proxycase" -b "$BASE" -m "$METAPI" \
    -r "main=$MAIN" -r "oneapi=$ONEAPI" -r "sub2api=$SUB" -r "openai=$OA" \
    -r "claude=$CL" -v "K=$K" -v "NARROW=$NARROW" -v "OLD=$OLD" \
    "$SRCDIR"/tests/cases/proxy/*.json >"$TMP/cases.out" 2>&1
cat "$TMP/cases.out" >&2
set -- $(tail -n 1 "$TMP/cases.out")
case "$1 $3" in
*[!0-9\ ]*|" ") fail "proxycase gave no count: $(tail -n 1 "$TMP/cases.out")" ;;
*)	PASS=$((PASS + $1))
	FAIL=$((FAIL + $3))
	expect_match "every case ran" "$(($1 + $3))" "^$(ls "$SRCDIR"/tests/cases/proxy/*.json | wc -l)\$" ;;
esac
test_done
