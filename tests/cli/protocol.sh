# Hostile bytes on the control socket close that client only; the daemon
# keeps serving. The generated command reference in doc/PROTOCOL.md must
# match the command table.
. "$SRCDIR/tests/lib/libtest.sh"
test_init protocol
RAW="$BUILDDIR/tests/tools/rawsock"

ok "start" site add s1 https://s1.example.com --platform openai

# frame TYPE VERSION PAYLOAD [LEN]: one frame's bytes (LEN defaults to
# the payload's length).
frame() {
	len=${4:-${#3}}
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(( len >> 24 & 255 )) $(( len >> 16 & 255 )) $(( len >> 8 & 255 )) $(( len & 255 )))"
	printf "$(printf '\\%03o\\%03o' $(( $1 >> 8 & 255 )) $(( $1 & 255 )))"
	printf "$(printf '\\%03o\\%03o' $(( $2 >> 8 & 255 )) $(( $2 & 255 )))"
	printf '\000\000\000\001\000\000\000\000'
	printf '%s' "$3"
}

r=$(head -c 4096 /dev/urandom | "$RAW" "$METAPI_SOCKET")
expect_match "random bytes: closed" "$r" "^closed"
r=$(frame 200 1 "" 2000000 | "$RAW" "$METAPI_SOCKET")
expect_match "oversized frame: closed" "$r" "^closed 0"
r=$(frame 200 1 "not json!" | "$RAW" "$METAPI_SOCKET")
expect_match "bad JSON: closed" "$r" "^closed 0"
r=$(frame 200 1 "[]" | "$RAW" "$METAPI_SOCKET")
expect_match "JSON array: closed" "$r" "^closed 0"
r=$(frame 999 1 "{}" | "$RAW" "$METAPI_SOCKET")
expect_match "unknown type: closed" "$r" "^closed 0"
r=$(frame 201 1 "{}" | "$RAW" "$METAPI_SOCKET")
expect_match "reply from a client: closed" "$r" "^closed 0"
r=$(frame 100 7 "{}" | "$RAW" "$METAPI_SOCKET")
expect_match "other version: told, then closed" "$r" "^closed [1-9]"
r=$(frame 200 1 "{}" | "$RAW" "$METAPI_SOCKET")
expect_match "request without cmd: error reply, still open" "$r" "^open [1-9]"
r=$(frame 200 1 '{"cmd":"site.list","args":[1]}' | "$RAW" "$METAPI_SOCKET")
expect_match "args not an object: error reply" "$r" "^open [1-9]"
r=$(frame 200 1 '{"cmd":"site.show","args":{"site":12345678}}' | "$RAW" "$METAPI_SOCKET")
expect_match "wrong arg type: error reply" "$r" "^open [1-9]"
r=$(frame 200 1 '{"cmd":"site.' 40 | "$RAW" "$METAPI_SOCKET")
expect_match "truncated frame: waits" "$r" "^open 0"
r=$(frame 200 1 '{"cmd":"site.list","cmd":"x"}  ' | "$RAW" "$METAPI_SOCKET")
expect_match "duplicate keys: closed" "$r" "^closed 0"

ok "daemon still serves" --json site list
expect "data intact" "$(jget "$OUT" items.0.name)" s1

# Many clients at once, more than the daemon accepts, do not break it.
i=0
while [ $i -lt 80 ]; do
	(sleep 2 | "$RAW" "$METAPI_SOCKET" >/dev/null) &
	i=$((i + 1))
done
sleep 0.5
wait
ok "daemon serves after a client flood" site list

# doc/PROTOCOL.md carries the command reference generated from the table.
"$METAPI" --list-commands >"$TMP/cmds.md"
sed -n '/^<!-- BEGIN GENERATED: metapi --list-commands -->$/,/^<!-- END GENERATED -->$/p' \
    "$SRCDIR/doc/PROTOCOL.md" | sed '1d;$d' >"$TMP/doc.md"
if [ -s "$TMP/doc.md" ] && cmp -s "$TMP/cmds.md" "$TMP/doc.md"; then pass; else
	fail "doc/PROTOCOL.md differs from metapi --list-commands: run make protocol-doc"
	diff "$TMP/doc.md" "$TMP/cmds.md" | head -n 10 >&2
fi

test_done
