# settings list/get/set: typed, validated, persistent.
. "$SRCDIR/tests/lib/libtest.sh"
test_init settings

ok "list" --json settings list
n=$(jget "$OUT" items.length)
expect_match "many settings" "$n" '^[0-9]{2,}$'
i=0
while [ $i -lt "$n" ]; do
	for f in key value default type help; do
		jget "$OUT" "items.$i.$f" >/dev/null || fail "setting $i lacks $f"
	done
	i=$((i + 1))
done
pass
ok "human list" settings list
expect_match "human list has help" "$(cat "$OUT")" "proxy_max_channel_attempts +3 +3 +channels tried"

ok "get" --json settings get proxy_max_channel_attempts
expect "typed int" "$(jget "$OUT" value)" 3
expect "range" "$(jget "$OUT" max)" 10
ok "set int" --json settings set proxy_max_channel_attempts 5
expect "set" "$(jget "$OUT" value)" 5
expect "no longer default" "$(jget "$OUT" is_default)" false
ok "set bool" --json settings set sticky_session_enabled off
expect "bool normalised" "$(jget "$OUT" value)" false
ok "set real" --json settings set routing_cost_weight 0.25
expect "real" "$(jget "$OUT" value)" 0.25
ok "set cron" --json settings set checkin_cron '30 7 * * mon-fri'
expect "cron" "$(jget "$OUT" value)" "30 7 * * mon-fri"
ok "set enum" settings set checkin_schedule_mode interval
ok "set url" settings set system_proxy_url socks5://127.0.0.1:1080
ok "clear url" --json settings set system_proxy_url ''
expect "cleared" "$(jget "$OUT" value)" ""

refuse "unknown setting" 1 "unknown setting" settings get nope
refuse "unknown setting set" 1 "unknown setting" settings set nope 1
refuse "int out of range" 1 "too large" settings set proxy_max_channel_attempts 11
refuse "not an int" 1 "invalid" settings set proxy_max_channel_attempts three
refuse "bad bool" 1 "not a boolean" settings set sticky_session_enabled maybe
refuse "bad real" 1 "not a number" settings set routing_cost_weight 2
refuse "bad cron" 1 "cron" settings set checkin_cron '* * *'
refuse "bad enum" 1 "not one of" settings set checkin_schedule_mode hourly
refuse "bad url" 1 "bad URL" settings set system_proxy_url ftp://x
refuse "missing value" 2 "missing VALUE" settings set proxy_max_channel_attempts
refuse "missing key" 2 "missing KEY" settings get
refuse "list takes no argument" 2 "unexpected argument" settings list extra
refuse "unknown setting named in the message" 1 "unknown setting \"nope\"" settings set nope 1
expect "failed sets stored nothing" "$("$METAPI" --json settings get proxy_max_channel_attempts | jget - value)" 5
expect "no row for an unknown setting" "$(db_sql "SELECT count(*) FROM settings WHERE key = 'nope'")" 0

# Values survive a restart.
ok "stop" stop
wait_gone
ok "restart" --json settings get checkin_cron
expect "persisted" "$(jget "$OUT" value)" "30 7 * * mon-fri"

test_done
