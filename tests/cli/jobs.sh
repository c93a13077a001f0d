# The scheduler: jobs listed with their schedules and next runs, run on
# demand, recorded; at most one check-in per account and day, also when
# a manual run races the job and across a restart (the fake relay's
# request log proves it).
. "$SRCDIR/tests/lib/libtest.sh"
test_init jobs

fake_start new-api
A=$FAKE_URL
ok "site" site add a "$A"
ok "account" account add a --username alice --password pass-123
checkins() {
	curl -s "$1/__fake/requests?path=/api/user/checkin" | jget - count
}

ok "job list" --json job list
expect "five jobs" "$(jget "$OUT" items.length)" 5
expect "check-in at 08:00" "$(jget "$OUT" items.0.schedule)" "0 8 * * *"
expect_match "next run known" "$(jget "$OUT" items.0.next_run)" '^20[0-9-]+T08:00:00Z$'
expect "never ran" "$(jget "$OUT" items.0.last_run)" null
ok "status shows next runs" --json status
expect "status jobs" "$(jget "$OUT" jobs.length)" 5

ok "job run checkin" --json job run checkin
expect "checked in" "$(jget "$OUT" items.0.outcome)" success
ok "again" --json job run checkin
expect "already, without asking the site" "$(jget "$OUT" items.0.outcome)" already
ok "manual run too" --json checkin run 1
expect "manual: already" "$(jget "$OUT" items.0.outcome)" already
expect "the site saw one check-in" "$(checkins "$A")" 1
ok "run recorded" --json job list
expect "last outcome" "$(jget "$OUT" items.0.last_run.outcome)" ok

# A manual run racing the job: one check-in reaches the site.
fake_start new-api
B=$FAKE_URL
ok "site b" site add b "$B"
ok "account b" account add b --username alice --password pass-123
"$METAPI" --json checkin run 2 >"$TMP/m.json" 2>&1 &
m=$!
"$METAPI" --json job run checkin >"$TMP/j.json" 2>&1 &
jb=$!
wait $m
wait $jb
expect "race: one check-in upstream" "$(checkins "$B")" 1

# A restart does not forget the day.
ok "stop" stop
wait_gone
ok "after restart" --json checkin run --all
expect "still already" "$(jget "$OUT" items.0.outcome) $(jget "$OUT" items.1.outcome)" "already already"
expect "no new check-in" "$(checkins "$A") $(checkins "$B")" "1 1"

ok "balance job" --json job run balance
expect "balance job ok" "$(jget "$OUT" failed)" 0
ok "cleanup job" --json job run log-cleanup
expect_match "cleanup says what it did" "$(jget "$OUT" message)" "deleted|kept"
refuse "unknown job" 1 "no job" job run frobnicate
ok "interval mode" settings set checkin_schedule_mode interval
ok "job list" --json job list
expect "interval schedule" "$(jget "$OUT" items.0.schedule)" "every 6 h"
# The last run started a few seconds ago: the next is about 6 h later.
next=$(date -d "$(jget "$OUT" items.0.next_run)" +%s)
left=$(( next - $(date +%s) ))
expect_match "interval counts from the last run" "$left" '^2[01][0-9]{3}$'
ok "restart" stop
wait_gone
# As if the last check-in ran 5 hours ago: the next is due in about 1 h.
db_sql "UPDATE job_runs SET started_at = started_at - 18000 WHERE job = 'checkin'"
ok "after restart" --json job list
next=$(date -d "$(jget "$OUT" items.0.next_run)" +%s)
left=$(( next - $(date +%s) ))
expect_match "a restart does not push it back" "$left" '^3[0-9]{3}$'

# The daily summary: a notification event with the day's figures.
ok "summary" --json job run daily-summary
expect_match "summary: requests" "$(jget "$OUT" message)" 'Requests in 24 h: [0-9]+'
expect_match "summary: balance" "$(jget "$OUT" message)" 'Balance USD [0-9.]+ over [0-9]+ accounts'
expect_match "summary: check-ins" "$(jget "$OUT" message)" 'Check-ins today: [0-9]+ done'
ok "summary event" --json events --limit 5
expect "summary: stored as an event" "$(jget "$OUT" items.0.title)" "metapi daily summary"
expect "summary: info" "$(jget "$OUT" items.0.level)" info

# Low balance: told once when a balance falls below low_balance_usd.
ok "threshold above the balance" settings set low_balance_usd 10
ok "refresh" account refresh 1
ok "low balance event" --json events --limit 5
expect "low balance: told" "$(jget "$OUT" items.0.title)" "account 1 on a: balance low"
expect "low balance: a warning" "$(jget "$OUT" items.0.level)" warning
expect_match "low balance: the figures" "$(jget "$OUT" items.0.message)" 'below low_balance_usd 10.00'
ok "refresh again" account refresh 1
ok "events again" --json events --limit 5
expect "still low: not told again" "$(grep -c 'balance low' "$OUT")" 1
ok "alert off" settings set low_balance_usd 0
# Income from balance snapshots (One API reports none of its own), and
# an estimated balance while the site cannot be read.
fake_start one-api
O=$FAKE_URL
ok "one-api site" site add o "$O" --platform one-api
ok "one-api account" --json account add o --username alice --password pass-123
OID=$(jget "$OUT" id)
q=$(curl -s "$O/__fake/state?pointer=/users/alice/quota")
curl -s -X POST "$O/__fake/state" -d "{\"patch_users\":[{\"username\":\"alice\",\"quota\":$((q + 500000))}]}" >/dev/null
ok "refresh after a top-up" account refresh "$OID"
ok "balance" --json balance
n=$(jget "$OUT" accounts.length)
i=0
while [ $i -lt "$n" ] && [ "$(jget "$OUT" accounts.$i.id)" != "$OID" ]; do i=$((i + 1)); done
expect "income: from snapshots" "$(jget "$OUT" accounts.$i.income_source)" snapshots
expect_match "income: the USD 1 top-up" "$(jget "$OUT" accounts.$i.today_income_usd)" '^1(\.0+)?$'
expect "balance: reported" "$(jget "$OUT" accounts.$i.balance_state)" reported
before=$(jget "$OUT" accounts.$i.balance_usd)
curl -s -X POST "$O/__fake/fault" -d '{"path":"/api/user/*","status":500,"times":-1}' >/dev/null
run account refresh "$OID"
expect "refresh fails" "$RC" 1
ok "balance after a failed refresh" --json balance
expect "balance: refresh_failed" "$(jget "$OUT" accounts.$i.balance_state)" refresh_failed
expect "balance: estimated" "$(jget "$OUT" accounts.$i.estimated)" true
expect "estimate: the last known less logged spend (none yet)" "$(jget "$OUT" accounts.$i.balance_usd)" "$before"
curl -s -X DELETE "$O/__fake/faults" >/dev/null
# Sessions renewed ahead of expiry: only the old ones log in again.
logins() {
	curl -s "$A/__fake/requests?path=/api/user/login" | jget - count
}
l0=$(logins)
ok "renew: nothing old" --json job run renew
expect "renew: no account due" "$(jget "$OUT" items.length)" 0
db_sql "UPDATE accounts SET session_updated_at = session_updated_at - 25 * 86400 WHERE id = 1"
ok "renew: one old session" --json job run renew
expect "renew: one account" "$(jget "$OUT" items.length)" 1
expect "renew: logged in" "$(jget "$OUT" items.0.ok)" true
expect "renew: the site saw a login" "$(logins)" $((l0 + 1))
age=$(( $(date +%s) - $(db_sql "SELECT session_updated_at FROM accounts WHERE id = 1") ))
expect_match "renew: the session is new" "$age" '^[0-9]$'
# A site token about to expire: told once.
soon=$(( $(date +%s) + 7200 ))
curl -s -X POST "$A/__fake/state" -d "{\"patch_tokens\":[{\"id\":1,\"expired_time\":$soon}]}" >/dev/null
ok "refresh with an expiring token" account refresh 1
ok "token event" --json events --limit 10
expect_match "token expiring: told" "$(cat "$OUT")" 'token default of account 1 on a expires soon'
ok "refresh again" account refresh 1
ok "events again" --json events --limit 20
expect "token expiring: told once" "$(grep -c 'expires soon' "$OUT")" 1
# The total across accounts below low_balance_total_usd: told once.
ok "total threshold" settings set low_balance_total_usd 1000000
ok "balance job" job run balance
ok "total event" --json events --limit 10
expect_match "total low: told" "$(cat "$OUT")" 'total balance low'
ok "balance job again" job run balance
ok "events again" --json events --limit 30
expect "total low: told once" "$(grep -c '"total balance low"' "$OUT")" 1
ok "total off" settings set low_balance_total_usd 0
# Events for what needs no alert: check-ins done, jobs that failed.
curl -s -X POST "$O/__fake/fault" -d '{"path":"/api/user/*","status":500,"times":-1}' >/dev/null
run job run balance
expect "balance job with a failing account" "$RC" 1
ok "all events" --json events --limit 200
expect_match "event: a check-in done" "$(cat "$OUT")" 'checked in: account 1 on a'
expect_match "event: a job failed" "$(cat "$OUT")" 'job balance failed'
curl -s -X DELETE "$O/__fake/faults" >/dev/null
# A challenge page is the site's trouble: its own alert.
curl -s -X POST "$A/__fake/fault" -d '{"path":"/api/user/*","kind":"cloudflare","times":-1}' >/dev/null
run account refresh 1
expect "refresh behind a challenge fails" "$RC" 1
ok "waf event" --json events --limit 10
expect_match "WAF: told as the site's" "$(cat "$OUT")" 'a answered with a WAF or challenge page \(account 1\)'
curl -s -X DELETE "$A/__fake/faults" >/dev/null
test_done
