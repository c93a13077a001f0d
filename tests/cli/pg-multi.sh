# Two daemons sharing one PostgreSQL database, as behind a load
# balancer: both schedulers find the check-in due at the same moment and
# it runs once, one check-in per account; requests through both land in
# the one request log; a key added through one authenticates on the
# other within seconds, and removing it there reaches the other too;
# jobs run on demand on both at once still check each account in once.
. "$SRCDIR/tests/lib/libtest.sh"
test_init pg-multi
need_pg

PGDB="${TEST_PGDB:-t_pg_multi_$$}_shared"
METAPI_DB=$(pg_createdb "$PG_BASE" "$PGDB") || fail "create database"
export METAPI_DB
# One master key for both: the secrets in the database are sealed with it.
METAPI_MASTER_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export METAPI_MASTER_KEY
sql() {
	pg_sql "$PG_BASE" "$PGDB" "$1"
}
# m2 ARGS...: metapi against the second daemon.
S2="$TMP/run2/metapi.sock"
D2="$TMP/data2"
mkdir -p "$TMP/run2"
chmod 700 "$TMP/run2"
checkins() {
	curl -s "$1/__fake/requests?path=/api/user/checkin" | jget - count
}

fake_start new-api
A=$FAKE_URL
fake_start new-api
B=$FAKE_URL
ok "site a" site add a "$A"
ok "site b" site add b "$B"
ok "account a" account add a --username alice --password pass-123
ok "account b" account add b --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
ok "stop" stop
wait_gone

# Interval mode (every 6 h), the last run 6 h less 3 s ago: the next is
# due 3 s from now on both daemons, which start together. Site a takes
# 2 s to check in, so the run is still going when the later scheduler
# fires.
curl -s -X POST "$A/__fake/fault" \
    -d '{"path":"/api/user/checkin","kind":"slow","delay_ms":2000}' >/dev/null
turn=$(( $(date +%s) + 3 ))
sql "INSERT INTO settings (key, value, updated_at) VALUES
    ('checkin_schedule_mode', 'interval', 0) ON CONFLICT (key)
    DO UPDATE SET value = excluded.value"
sql "INSERT INTO job_runs (job, started_at, ended_at, outcome) VALUES
    ('checkin', $((turn - 6 * 3600)), $((turn - 6 * 3600)), 'ok')"
"$METAPI" daemon --detach >"$TMP/d1.out" 2>&1 &
p1=$!
"$METAPI" -d "$D2" -S "$S2" daemon --detach >"$TMP/d2.out" 2>&1 &
p2=$!
wait $p1
expect "first daemon up" "$?" 0
wait $p2
expect "second daemon up" "$?" 0
wait_up
i=0
while [ "$(sql "SELECT COUNT(*) FROM job_runs WHERE job = 'checkin' AND
    started_at >= $turn AND outcome <> 'running'")" -lt 1 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 1.5
expect "one check-in run in all" "$(sql "SELECT COUNT(*) FROM job_runs
    WHERE job = 'checkin' AND started_at >= $turn")" 1
expect "it checked both accounts in" \
    "$(sql "SELECT COUNT(*) FROM checkin_logs WHERE outcome = 'success'")" 2
expect "one check-in per account upstream" "$(checkins "$A") $(checkins "$B")" "1 1"
L1=$(cat "$METAPI_DATA_DIR/metapi.log")
L2=$(cat "$D2/metapi.log")
expect "one daemon ran it" \
    "$(printf '%s\n%s\n' "$L1" "$L2" | grep -c 'job checkin: started')" 1
# (It may find the job running on the other more than once: until the
# other's run is recorded, its next turn is still now.)
expect_match "the other's scheduler fired too, and let it be" \
    "$(printf '%s\n%s\n' "$L1" "$L2" | grep -c 'job checkin.* another daemon sharing the database')" '^[1-9]$'
expect_match "each log has one of the two" \
    "$(echo "$L1" | grep -c 'job checkin: started\|job checkin.* another daemon') $(echo "$L2" | grep -c 'job checkin: started\|job checkin.* another daemon')" '^[1-9] [1-9]$'
expect "and neither ran it again" \
    "$(printf '%s\n%s\n' "$L1" "$L2" | grep -c 'job checkin: ok')" 1

# On demand, on both at once: the lock lets one run at a time, the
# claims keep it to one check-in per account and day.
"$METAPI" --json job run checkin >"$TMP/j1.json" 2>"$TMP/j1.err" &
j1=$!
"$METAPI" -S "$S2" --json job run checkin >"$TMP/j2.json" 2>"$TMP/j2.err" &
j2=$!
wait $j1
wait $j2
expect "still one check-in per account upstream" \
    "$(checkins "$A") $(checkins "$B")" "1 1"
expect_nomatch "no check-in failed" "$(cat "$TMP/j1.json" "$TMP/j2.json")" \
    '"outcome": "failed"'

# Traffic through both lands in the one request log.
ADDR1=$(listen_addr)
"$METAPI" -S "$S2" --json --no-start status >"$TMP/s2.json"
ADDR2=$(jget "$TMP/s2.json" listen)
expect_match "two endpoints" "$ADDR1 $ADDR2" "^127.0.0.1:[0-9]+ 127.0.0.1:[0-9]+$"
HELLO='"messages":[{"role":"user","content":"hello fake relay"}]'
for addr in "$ADDR1" "$ADDR1" "$ADDR1" "$ADDR2" "$ADDR2"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K" \
	    -H 'Content-Type: application/json' \
	    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" "http://$addr/v1/chat/completions")
	expect "request through $addr" "$code" 200
done
i=0
while [ "$(sql "SELECT COUNT(*) FROM request_logs")" -lt 5 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
expect "five rows in one log" "$(sql "SELECT COUNT(*) FROM request_logs")" 5
ok "logs on the first" --json logs
expect "the first lists all five" "$(jget "$OUT" items.length)" 5
ok "logs on the second" -S "$S2" --json logs
expect "the second lists all five" "$(jget "$OUT" items.length)" 5
expect "the key's use counted from both" \
    "$(sql "SELECT used_requests FROM api_keys WHERE name = 'k'")" 5

# The server restarts (a failover, an upgrade): both daemons connect
# again, serve, log and take changes.
if pg_restart "${TEST_PGCLUSTER:-$METAPI_TEST_PGDIR}"; then pass; else fail "restart the server"; fi
for addr in "$ADDR1" "$ADDR2"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K" \
	    -H 'Content-Type: application/json' \
	    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" "http://$addr/v1/chat/completions")
	expect "request through $addr after the restart" "$code" 200
done
i=0
while [ "$(sql "SELECT COUNT(*) FROM request_logs")" -lt 7 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
expect "both logged after the restart" "$(sql "SELECT COUNT(*) FROM request_logs")" 7
ok "a change after the restart" -S "$S2" route add 'after-restart-*'

# A key added through the first authenticates on the second within
# seconds (each daemon authenticates from its own snapshot in memory).
ok "new key on the first" key add k2
K2=$(cat "$OUT")
models2() {
	curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K2" \
	    "http://$ADDR2/v1/models"
}
t0=$(date +%s%N)
i=0
while [ "$(models2)" != 200 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "key added on the first reached the second in $ms ms"
expect "the second takes the new key" "$(models2)" 200
expect_match "within 3 s" "$ms" '^([0-9]{1,3}|[0-2][0-9]{3})$'
K2ID=$(sql "SELECT id FROM api_keys WHERE name = 'k2'")
ok "remove it through the second" -S "$S2" key rm "$K2ID"
i=0
while [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K2" \
    "http://$ADDR1/v1/models")" != 401 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
expect "the first refuses it" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $K2" "http://$ADDR1/v1/models")" 401

# A setting changed through one is the other's within seconds.
ok "setting on the second" -S "$S2" settings set checkin_interval_hours 7
i=0
while [ "$("$METAPI" --json job list | jget - items.0.schedule)" != "every 7 h" ] &&
    [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
ok "job list on the first" --json job list
expect "the first schedules with it" "$(jget "$OUT" items.0.schedule)" "every 7 h"

ok "stop the second" -S "$S2" stop
[ -z "${TEST_PGDB:-}" ] || { ok "stop" stop; wait_gone; pg_dropdb "$PG_BASE" "$PGDB"; }
test_done
