# The daemon's life: auto-start, status, single instance, stale socket,
# signals, health endpoints, bad options and bad databases.
. "$SRCDIR/tests/lib/libtest.sh"
test_init daemon

refuse "no daemon with --no-start" 3 "no daemon answers" --no-start status
refuse "stop never starts a daemon" 3 "no daemon answers" stop
expect "nothing was started" "$(test -e "$METAPI_DATA_DIR" && echo made)" ""
mkdir -p "$TMP/shared"
chmod 777 "$TMP/shared"
refuse "socket in a world-writable dir" 3 "writable by other users" \
    -S "$TMP/shared/m.sock" status
expect "that dir was not chmod'ed" "$(stat -c %a "$TMP/shared")" 777
ok "status auto-starts a daemon" status
expect_match "says it started one" "$(cat "$ERR")" "started a daemon"
expect_match "status shows the endpoint" "$(cat "$OUT")" "endpoint: +http://127\.0\.0\.1:[0-9]+/v1"
# Next steps name the program as it was typed (a path here: ./metapi in
# the README's Quick start), so that they can be pasted.
expect "next steps name the program as typed" \
    "$(grep -c "^  $METAPI site add NAME URL  " "$OUT")" 1
expect "data dir created 0700" "$(stat -c %a "$METAPI_DATA_DIR")" 700
expect "socket is 0600" "$(stat -c %a "$METAPI_SOCKET")" 600
expect "socket dir is 0700" "$(stat -c %a "$TMP/run")" 700
expect "master key is 0600" "$(stat -c %a "$METAPI_DATA_DIR/master.key")" 600
ok "second status reuses the daemon" status
expect "no second start" "$(cat "$ERR")" ""

run --json status
jget "$OUT" pid >"$TMP/pid1"
expect "json status has the data dir" "$(jget "$OUT" data_dir)" "$METAPI_DATA_DIR"
expect "json status has counts" "$(jget "$OUT" counts.sites)" 0
ADDR=$(jget "$OUT" listen)
# It started itself again with GnuTLS's load-time setup off (0.7 MB).
if [ -r "/proc/$(cat "$TMP/pid1")/environ" ]; then
	expect "daemon runs with GNUTLS_NO_IMPLICIT_INIT" \
	    "$(tr '\0' '\n' <"/proc/$(cat "$TMP/pid1")/environ" | grep -c '^GNUTLS_NO_IMPLICIT_INIT=1$')" 1
	expect "and is still called metapi" "$(cat "/proc/$(cat "$TMP/pid1")/comm")" metapi
fi

# Health endpoints, and no file serving or anything else.
expect "healthz" "$(curl -s "http://$ADDR/healthz")" '{"status":"ok"}'
expect "readyz" "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/readyz")" 200
expect "unknown path is 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/etc/passwd")" 404
expect "no directory listing" "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/")" 404
printf 'X-Big: %s\n' "$(head -c 200000 /dev/zero | tr '\0' a)" >"$TMP/bighdr"
code=$(curl -s -o /dev/null -w '%{http_code}' -H @"$TMP/bighdr" "http://$ADDR/healthz")
expect_match "oversized headers refused" "$code" "^(4[0-9][0-9]|000)$"
expect "daemon alive after that" "$(curl -s "http://$ADDR/healthz")" '{"status":"ok"}'
ok "lower the body limit" settings set http_max_request_body_bytes 2048
head -c 5000 /dev/zero >"$TMP/body"
expect "oversized body refused with 413" \
    "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$TMP/body" "http://$ADDR/healthz")" 413
expect "small body accepted" \
    "$(curl -s -o /dev/null -w '%{http_code}' -d x=1 "http://$ADDR/healthz")" 200

# Without METAPI_DATA_DIR and METAPI_SOCKET: the XDG directories (in
# this test's temp dir), each made private.
# On PostgreSQL it gets a database of its own: the test's holds secrets
# sealed with the test daemon's master key, which this one has not.
(
	unset METAPI_DATA_DIR METAPI_SOCKET
	export XDG_DATA_HOME="$TMP/xdata" XDG_RUNTIME_DIR="$TMP/xrun"
	[ -n "${TEST_PGDB:-}" ] &&
	    METAPI_DB=$(pg_createdb "$METAPI_TEST_PG" "${TEST_PGDB}_xdg") &&
	    export METAPI_DB
	run --json status
	echo "$RC" >"$TMP/xdg.rc"
	jget "$OUT" data_dir >"$TMP/xdg.data"
	jget "$OUT" socket >"$TMP/xdg.sock"
	"$METAPI" stop >/dev/null 2>&1
)
[ -n "${TEST_PGDB:-}" ] && pg_dropdb "$METAPI_TEST_PG" "${TEST_PGDB}_xdg"
expect "XDG: status" "$(cat "$TMP/xdg.rc")" 0
expect "XDG_DATA_HOME/metapi" "$(cat "$TMP/xdg.data")" "$TMP/xdata/metapi"
expect "XDG_RUNTIME_DIR/metapi/metapi.sock" "$(cat "$TMP/xdg.sock")" "$TMP/xrun/metapi/metapi.sock"
expect "XDG: data dir 0700" "$(stat -c %a "$TMP/xdata/metapi")" 700
expect "XDG: socket dir 0700" "$(stat -c %a "$TMP/xrun/metapi")" 700
expect "XDG: database there" "$(test -f "$TMP/xdata/metapi/metapi.db" -o -n "${TEST_PGDB:-}" && echo yes)" yes

# One daemon per data dir and per socket.
refuse "second daemon, same data dir" 1 "already running on data dir" \
    -S "$TMP/run2/other.sock" daemon
refuse "second daemon, same socket" 1 "already (running|answers)" \
    -d "$TMP/data2" daemon
refuse "detached second daemon refused too" 1 "already running" daemon --detach

# The daemon processes on this test's socket, counted in /proc.
daemons() {
	n=0
	for f in $(grep -lzx "METAPI_SOCKET=$METAPI_SOCKET" /proc/[0-9]*/environ 2>/dev/null); do
		d=${f%/environ}
		case $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) in
		"$METAPI daemon"*) n=$((n + 1)) ;;
		esac
	done
	echo $n
}
expect "one daemon process" "$(daemons)" 1

# Two clients racing to start a daemon end up with one.
ok "stop" stop
expect_match "stop waits for the exit" "$(cat "$ERR")" "stopped"
wait_gone || fail "daemon did not stop"
expect "socket removed at stop" "$(ls "$TMP/run" | grep -c 'metapi.sock$')" 0
expect "no daemon process left" "$(daemons)" 0
for i in 1 2 3 4; do
	"$METAPI" status >"$TMP/r$i" 2>&1 &
	echo $! >"$TMP/racer$i"
done
for i in 1 2 3 4; do
	wait "$(cat "$TMP/racer$i")"
	expect "racing client $i" "$?" 0
done
expect "exactly one started a daemon" "$(cat "$TMP"/r[1-4] | grep -c 'started a daemon')" 1
expect "one daemon process after the race" "$(daemons)" 1

# A crashed daemon leaves a stale socket that the next start cleans up.
pid=$(cat "$METAPI_DATA_DIR/daemon.lock")
kill -9 "$pid"
sleep 0.2
expect "stale socket file left" "$(test -S "$METAPI_SOCKET" && echo yes)" yes
ok "restart over a stale socket" status
expect_match "restarted" "$(cat "$ERR")" "started a daemon"

# SIGHUP reloads settings changed behind the daemon's back: the body
# limit set above (2048) is raised in the database; the daemon keeps the
# old one until SIGHUP, then applies the new one.
pid=$(cat "$METAPI_DATA_DIR/daemon.lock")
ADDR=$(listen_addr)
db_sql "UPDATE settings SET value = '8192' WHERE key = 'http_max_request_body_bytes'"
ok "get before SIGHUP" --json settings get http_max_request_body_bytes
expect "old value until SIGHUP" "$(jget "$OUT" value)" 2048
expect "old limit until SIGHUP" \
    "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$TMP/body" "http://$ADDR/healthz")" 413
kill -HUP "$pid"
i=0
while [ $i -lt 100 ] && ! grep -q "settings reloaded" "$METAPI_DATA_DIR/metapi.log"; do
	sleep 0.05
	i=$((i + 1))
done
ok "alive after SIGHUP" --no-start status
expect_match "reload logged" "$(cat "$METAPI_DATA_DIR/metapi.log")" "settings reloaded"
expect "same daemon" "$(cat "$METAPI_DATA_DIR/daemon.lock")" "$pid"
ok "get after SIGHUP" --json settings get http_max_request_body_bytes
expect "new value after SIGHUP" "$(jget "$OUT" value)" 8192
expect "new limit applied" \
    "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$TMP/body" "http://$ADDR/healthz")" 200

# SIGTERM drains: a request in flight (an upstream that takes 1.5 s) is
# answered whole; meanwhile /readyz says draining and new requests get a
# 503; then the daemon exits.
fake_start openai
OKEY=$(curl -s "$FAKE_URL/__fake/state?pointer=/tokens/1/key")
ok "site" site add oa "$FAKE_URL" --platform openai
ok "account" account add oa --api-key "$OKEY"
ok "key" key add drain
K=$(cat "$OUT")
curl -s -X POST "$FAKE_URL/__fake/fault" \
    -d '{"path":"/v1/chat/completions","kind":"slow","delay_ms":1500}' >/dev/null
curl -s -o "$TMP/drain.body" -w '%{http_code}' "http://$ADDR/v1/chat/completions" \
    -H "Authorization: Bearer $K" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"drain me"}]}' \
    >"$TMP/drain.code" &
c=$!
i=0
while [ $i -lt 100 ] && [ "$(curl -s "$FAKE_URL/__fake/requests?path=/v1/chat/completions" >"$TMP/fr.json"; jget "$TMP/fr.json" requests.length)" != 1 ]; do
	sleep 0.02
	i=$((i + 1))
done
kill -TERM "$pid"
sleep 0.3
expect "readyz while draining" "$(curl -s "http://$ADDR/readyz")" '{"status":"draining"}'
expect "new request while draining" \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/v1/models" -H "Authorization: Bearer $K")" 503
wait $c
expect "request in flight answered" "$(cat "$TMP/drain.code")" 200
expect_match "with the whole reply" "$(cat "$TMP/drain.body")" '"content":"echo: drain me"'

wait_gone || fail "SIGTERM did not stop the daemon"
expect_match "stop logged" "$(tail -n 2 "$METAPI_DATA_DIR/metapi.log")" "stopped"

# Foreground daemon with options; bad options are usage errors.
refuse "bad --listen" 1 "bad --listen" daemon --listen 4000
refuse "bad --log-level" 1 "unknown log level" daemon --log-level loud
refuse "bad --log-format" 1 "unknown log format" daemon --log-format xml
if grep -q '^#define HAVE_POSTGRESQL 1' "$BUILDDIR/config.h"; then
	refuse "postgres unreachable" 1 "cannot connect to postgresql://u:\*\*\*@127.0.0.1:1/x" \
	    daemon --db postgresql://u:hunter2@127.0.0.1:1/x
	expect_nomatch "password not shown" "$(cat "$ERR")" hunter2
else
	refuse "postgres not built in" 1 "without PostgreSQL" daemon --db postgres://x/y
fi
refuse "unknown daemon option" 2 "usage" daemon --frobnicate
refuse "unknown command" 2 "unknown command" frobnicate
refuse "unknown subcommand" 2 "unknown site command" site frob
refuse "unknown global option" 2 "unknown option" --frob status
refuse "status takes no argument" 2 "unexpected argument" status extra
refuse "stop takes no argument" 2 "unexpected argument" stop extra
ok "version" --version
expect_match "version text" "$(cat "$OUT")" "^metapi [0-9]+\.[0-9]+"
ok "help" --help
expect_match "help lists commands" "$(cat "$OUT")" "site add"
ok "command help" site add --help
expect_match "command help has usage" "$(cat "$OUT")" "usage: metapi site add NAME \\(URL \\| --preset PRESET\\)"

"$METAPI" daemon --log-file "$TMP/fg.log" &
fg=$!
echo $fg >>"$TMP/pids"
wait_up
ok "foreground daemon answers" --no-start status
kill -INT $fg
wait $fg
expect "foreground daemon exits 0 on SIGINT" "$?" 0

# A database this metapi cannot use: clear error, exit code, file untouched.
if [ -n "${TEST_PGDB:-}" ]; then
	v=$(db_sql "SELECT version FROM metapi_schema")
	db_sql "UPDATE metapi_schema SET version = 999"
	refuse "database from a newer metapi" 1 "newer metapi" daemon
	expect "version left alone" "$(db_sql "SELECT version FROM metapi_schema")" 999
	db_sql "UPDATE metapi_schema SET version = $v"
else
	cp "$METAPI_DATA_DIR/metapi.db" "$TMP/good.db"
	head -c 8192 /dev/urandom >"$METAPI_DATA_DIR/metapi.db"
	rm -f "$METAPI_DATA_DIR/metapi.db-wal" "$METAPI_DATA_DIR/metapi.db-shm"
	sum=$(cksum <"$METAPI_DATA_DIR/metapi.db")
	refuse "corrupt database" 1 "unreadable or not a metapi database" daemon
	expect "corrupt file not rewritten" "$(cksum <"$METAPI_DATA_DIR/metapi.db")" "$sum"
	refuse "client reports a failed start" 3 "could not start" status

	cp "$TMP/good.db" "$METAPI_DATA_DIR/metapi.db"
	sqlite3 "$METAPI_DATA_DIR/metapi.db" "PRAGMA user_version = 999"

	refuse "database from a newer metapi" 1 "newer metapi" daemon
	cp "$TMP/good.db" "$METAPI_DATA_DIR/metapi.db"
fi

# The master key: missing or wrong is refused, never silently replaced.
mv "$METAPI_DATA_DIR/master.key" "$TMP/master.key"
refuse "missing master key" 1 "master key .* is missing" daemon
expect "no new key was made" "$(test -e "$METAPI_DATA_DIR/master.key" && echo made)" ""
export METAPI_MASTER_KEY=0000000000000000000000000000000000000000000000000000000000000000
refuse "wrong master key" 1 "does not open this database" daemon
export METAPI_MASTER_KEY=nonsense
refuse "malformed METAPI_MASTER_KEY" 1 "64 hex digits" daemon
export METAPI_MASTER_KEY=$(cat "$TMP/master.key")
ok "key from the environment works" status
ok "stop" stop
wait_gone
unset METAPI_MASTER_KEY
cp "$TMP/master.key" "$METAPI_DATA_DIR/master.key"
chmod 644 "$METAPI_DATA_DIR/master.key"
refuse "world-readable master key" 1 "readable by other users" daemon
chmod 600 "$METAPI_DATA_DIR/master.key"
ok "and back to normal" status

test_done
