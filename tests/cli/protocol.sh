# Hostile bytes on the control socket close that client only; the daemon
# keeps serving. A client of another uid is refused (when run as root). The generated command reference in doc/PROTOCOL.md must
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

# The peer's uid is checked: as root, a daemon run as nobody refuses root,
# who (unlike any other user) can open its 0600 socket.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    id nobody >/dev/null 2>&1; then
	chmod 711 "$TMP"
	mkdir "$TMP/nb"
	chown nobody "$TMP/nb"
	if setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    env -i HOME="$TMP/nb" METAPI_DATA_DIR="$TMP/nb/data" \
	    METAPI_SOCKET="$TMP/nb/run/m.sock" METAPI_LISTEN=127.0.0.1:0 \
	    "$METAPI" daemon --detach 2>"$TMP/nb.err"; then
		cat "$TMP/nb/data/daemon.lock" >>"$TMP/pids"
		refuse "a client of another uid" 3 "closed the connection" \
		    -S "$TMP/nb/run/m.sock" --no-start status
		# The daemon may close before the client has written its
		# hello: that is exit 3 too, never death by SIGPIPE (141,
		# in 30 of 40 tries before the client sent with MSG_NOSIGNAL).
		codes=
		for i in 1 2 3 4 5 6 7 8 9 10; do
			run -S "$TMP/nb/run/m.sock" --no-start status
			grep -q "closed the connection" "$ERR" || RC="$RC?"
			codes="$codes $RC"
		done
		expect "refused ten times, exit 3 and the message each" \
		    "$codes" " 3 3 3 3 3 3 3 3 3 3"
		expect_match "the daemon says why" \
		    "$(cat "$TMP/nb/data/metapi.log")" "refused a peer of another uid"
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		    env -i HOME="$TMP/nb" METAPI_SOCKET="$TMP/nb/run/m.sock" \
		    "$METAPI" stop >/dev/null 2>&1
	else
		echo "protocol: user nobody cannot run $METAPI here; the peer" \
		    "uid check is skipped: $(head -n 1 "$TMP/nb.err")" >&2
	fi
	chmod 700 "$TMP"
else
	echo "protocol: not root; the peer uid check is skipped" >&2
fi

# doc/PROTOCOL.md carries the command reference generated from the table.
"$METAPI" --list-commands >"$TMP/cmds.md"
sed -n '/^<!-- BEGIN GENERATED: metapi --list-commands -->$/,/^<!-- END GENERATED -->$/p' \
    "$SRCDIR/doc/PROTOCOL.md" | sed '1d;$d' >"$TMP/doc.md"
if [ -s "$TMP/doc.md" ] && cmp -s "$TMP/cmds.md" "$TMP/doc.md"; then pass; else
	fail "doc/PROTOCOL.md differs from metapi --list-commands: run make protocol-doc"
	diff "$TMP/doc.md" "$TMP/cmds.md" | head -n 10 >&2
fi

test_done
