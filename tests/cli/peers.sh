# The control socket serves its own user only (issue #10): another uid
# cannot reach it through the 0700 directory, and one that gets through
# looser permissions is refused by the daemon's SO_PEERCRED check; the
# socket is 0600 at every start, in a directory others cannot write (the
# daemon refuses to start in one they can). Needs root,
# to act as "nobody" with setpriv; skipped otherwise.
. "$SRCDIR/tests/lib/libtest.sh"
test_init peers

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	echo "peers: needs root and setpriv to act as another user; skipped" >&2
	test_done
	exit 0
fi
# nobody CMD...: metapi as uid/gid 65534, talking to this test's socket.
nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env HOME=/nonexistent METAPI_DATA_DIR="$TMP/nobody-data" \
	    "$METAPI" -S "$METAPI_SOCKET" --no-start "$@"
}
ok "daemon" daemon --detach
SOCKDIR=$(dirname "$METAPI_SOCKET")
expect "socket dir 0700" "$(stat -c %a "$SOCKDIR")" 700
expect "socket 0600" "$(stat -c %a "$METAPI_SOCKET")" 600
chmod 0711 "$TMP"
chmod 0733 "$TMP"	# nobody may create its own data dir there
nobody status >"$TMP/n.out" 2>"$TMP/n.err"
expect "another user cannot reach it" "$?" 3
# Looser modes, as a careless admin might set: the daemon itself refuses.
chmod 0711 "$SOCKDIR"
chmod 0666 "$METAPI_SOCKET"
# Exit 3 with a message every time: the daemon may close before the
# client has written its hello, which killed it with SIGPIPE (exit 141)
# in 30 of 40 tries before it sent with MSG_NOSIGNAL.
codes=
for i in 1 2 3 4 5 6 7 8 9 10; do
	nobody status >"$TMP/n.out" 2>"$TMP/n.err"
	RC=$?
	grep -q "closed the connection" "$TMP/n.err" || RC="$RC?"
	[ -s "$TMP/n.out" ] && RC="$RC+out"
	codes="$codes $RC"
done
expect "refused ten times: exit 3, the message, no reply" "$codes" \
    " 3 3 3 3 3 3 3 3 3 3"
sleep 0.2
expect_match "the daemon logged the refusal" \
    "$(cat "$METAPI_DATA_DIR/metapi.log")" "refused a peer of another uid"
ok "still serving its own user" status
ok "stop" stop
wait_gone
ok "start again" daemon --detach
# The socket is made anew, 0600; its directory is the user's and may be
# any of theirs (-S), so it is checked (ours, not writable by others),
# not chmod'ed.
expect "socket 0600 again" "$(stat -c %a "$METAPI_SOCKET")" 600
chmod 0777 "$SOCKDIR"
ok "stop" stop
wait_gone
refuse "a socket directory others can write is refused" 1 "writable by other users" daemon --detach
chmod 0700 "$SOCKDIR"
expect "data dir 0700" "$(stat -c %a "$METAPI_DATA_DIR")" 700
chmod 0700 "$TMP"
test_done
