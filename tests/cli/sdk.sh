# The official openai and @anthropic-ai/sdk npm packages as real clients:
# models, chat, chat stream with usage, embeddings, messages and their
# stream, and error statuses, all through metapi to the fake relay.
. "$SRCDIR/tests/lib/libtest.sh"
test_init sdk

# The SDKs installed in the source tree (check-asan runs from a copy).
SDK="${METAPI_SDK_DIR:-$SRCDIR/tests/sdk}"
if [ ! -d "$SDK/node_modules/openai" ] || ! command -v node >/dev/null; then
	# CI installs them (.ci/bootstrap test); elsewhere (make distcheck from a
	# tarball) their absence is said, not hidden.
	echo "sdk: SDKs not installed (npm install --prefix tests/sdk)" >&2
	[ "${CI:-}" = true ] && fail "the SDKs are not installed in CI"
	test_done
	exit $?
fi
fake_start new-api
ok "site" site add a "$FAKE_URL"
ok "account" account add a --username alice --password pass-123
ok "key" key add sdk
export KEY="$(cat "$OUT")"
export BASE="http://$(listen_addr)"

for script in openai anthropic; do
	node "$SDK/$script.mjs" >"$TMP/$script.out" 2>&1
	while read -r line; do
		case $line in
		"ok "*) pass ;;
		"not ok "*) fail "$script: ${line#not ok }" ;;
		esac
	done <"$TMP/$script.out"
	grep -q '^ok ' "$TMP/$script.out" || fail "$script: ran no check: $(head -c 300 "$TMP/$script.out")"
done
test_done
