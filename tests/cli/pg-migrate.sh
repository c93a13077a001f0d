# metapi db migrate --to URL: a daemon on SQLite copies its database
# into an empty PostgreSQL one, every table counted on both sides; a
# daemon on the copy has the same sites, accounts, keys (their secrets
# open with the same master key), routes and request logs, and new rows
# get new ids. A copy that fails half-way (a row PostgreSQL refuses)
# leaves the target empty; a target that holds a database is refused.
. "$SRCDIR/tests/lib/libtest.sh"
test_init pg-migrate
need_pg

PGDB="${TEST_PGDB:-t_pg_migrate_$$}_to"
URL=$(pg_createdb "$PG_BASE" "$PGDB") || fail "create database"
SQLDB="$TMP/src.db"
sql() {
	pg_sql "$PG_BASE" "$PGDB" "$1"
}

# A SQLite daemon with something in every part.
fake_start new-api
A=$FAKE_URL
ok "sqlite daemon" daemon --detach --db "$SQLDB"
ok "site" site add a "$A" --header "X-Relay: hdr-secret-1"
ok "account" account add a --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
ok "route" route add 'gpt-4o*' --alias fast
ok "setting" settings set checkin_cron '15 7 * * *'
HELLO='"messages":[{"role":"user","content":"hello fake relay"}]'
BASE="http://$(listen_addr)"
for i in 1 2 3; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K" \
	    -H 'Content-Type: application/json' \
	    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" "$BASE/v1/chat/completions")
	expect "request $i" "$code" 200
done
ok "checkin" checkin run --all
i=0
while [ "$(sqlite3 "$SQLDB" "SELECT COUNT(*) FROM request_logs")" -lt 3 ] &&
    [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done

refuse "not a URL" 2 "postgres:// URL" db migrate --to "$TMP/x.db"
ok "migrate" --json db migrate --to "$URL"
cp "$OUT" "$TMP/migrate.json"
expect "the reply names the target" "$(jget "$OUT" to)" "$URL"
tables=$(sqlite3 "$SQLDB" "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
expect "every table" "$(jget "$OUT" tables)" "$tables"
expect_match "rows copied" "$(jget "$OUT" rows)" '^[1-9][0-9]+$'
refuse "a target that holds a database" 1 "already holds a metapi database" \
    db migrate --to "$URL"

# Every table, counted on each side.
n=0
for t in $(sqlite3 "$SQLDB" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"); do
	a=$(sqlite3 "$SQLDB" "SELECT COUNT(*) FROM $t")
	b=$(sql "SELECT COUNT(*) FROM $t" 2>&1)
	[ "$a" = "$b" ] || fail "$t: $a rows in SQLite, $b in PostgreSQL"
	n=$((n + a))
done
expect "all rows there" "$n" "$(jget "$TMP/migrate.json" rows)"
expect "request logs" "$(sql "SELECT COUNT(*) FROM request_logs")" 3
expect "the log's text" "$(sql "SELECT model FROM request_logs ORDER BY id LIMIT 1")" gpt-4o-mini
expect "sealed bytes unchanged" \
    "$(sql "SELECT encode(credential_sealed, 'hex') FROM accounts")" \
    "$(sqlite3 "$SQLDB" "SELECT lower(hex(credential_sealed)) FROM accounts")"

# The copy serves: a daemon on it, with the same data dir and key.
ok "stop" stop
wait_gone
ok "daemon on the copy" daemon --detach --db "$URL"
ok "status" --json status
expect_match "on postgresql" "$(jget "$OUT" database)" "^postgresql://"
ok "sites" --json site list
expect "the site" "$(jget "$OUT" items.0.name)" a
ok "key reveal" key reveal 1
expect "the key opens" "$(cat "$OUT")" "$K"
ok "route" --json route show 'gpt-4o*'
ok "setting" settings get checkin_cron
expect_match "the setting" "$(cat "$OUT")" "15 7"
ok "logs" --json logs
expect "three logged" "$(jget "$OUT" items.length)" 3
BASE="http://$(listen_addr)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K" \
    -H 'Content-Type: application/json' \
    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" "$BASE/v1/chat/completions")
expect "a request on the copy" "$code" 200
ok "checkin on the copy" --json checkin run --all
expect "the day is remembered" "$(jget "$OUT" items.0.outcome)" already
ok "a new site" --json site add b "$A"
expect "ids go on after the copied ones" "$(jget "$OUT" id)" 2
ok "stop" stop
wait_gone

# A row PostgreSQL refuses (text that is not UTF-8) half-way through:
# nothing stays, not even the schema.
PGDB2="${PGDB}2"
URL2=$(pg_createdb "$PG_BASE" "$PGDB2") || fail "create database 2"
sqlite3 "$SQLDB" "INSERT INTO events (time, type, title) VALUES (1, 'x', CAST(X'C328' AS TEXT))"
ok "sqlite daemon again" daemon --detach --db "$SQLDB"
refuse "a bad row fails the copy" 1 "events" db migrate --to "$URL2"
expect "the target is left empty" "$(pg_sql "$PG_BASE" "$PGDB2" \
    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")" 0
sqlite3 "$SQLDB" "DELETE FROM events WHERE type = 'x'"
ok "without it, the copy is made" db migrate --to "$URL2"
expect_match "a table of tables and rows" "$(head -n 1 "$OUT")" "^TABLE +ROWS$"
expect_match "request logs counted" "$(cat "$OUT")" "request_logs +3"

if [ -n "${TEST_PGDB:-}" ]; then
	ok "stop" stop
	wait_gone
	pg_dropdb "$PG_BASE" "$PGDB"
	pg_dropdb "$PG_BASE" "$PGDB2"
fi
test_done
