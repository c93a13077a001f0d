# metapi doctor: the local checks without a daemon (and none started),
# then a healthy setup, and each problem it must name with its fix: a
# data dir others can read, a master key others can read, a site on a
# closed port, a site whose clock is an hour off, an account the site
# rejects. Only loopback addresses are contacted.
. "$SRCDIR/tests/lib/libtest.sh"
test_init doctor

# status_of CHECK [TEXT]: the status of the first item of the last
# --json doctor run ($OUT) with that check whose detail holds TEXT.
status_of() {
	n=$(jget "$OUT" items.length) || return 1
	i=0
	while [ "$i" -lt "$n" ]; do
		if [ "$(jget "$OUT" items.$i.check)" = "$1" ] &&
		    jget "$OUT" items.$i.detail | grep -qF -- "${2:-}"; then
			jget "$OUT" items.$i.status
			return 0
		fi
		i=$((i + 1))
	done
	echo none
}

# No daemon: the local checks run, the socket fails, none is started.
run --json doctor
expect "no daemon: exit 1" "$RC" 1
expect "no daemon: socket fails" "$(status_of daemon.socket)" fail
expect "no daemon: data dir missing" "$(status_of data.dir)" fail
expect "no daemon: disk checked" "$(status_of data.disk)" ok
expect "no daemon: none started" "$([ -S "$METAPI_SOCKET" ] && echo yes)" ""
run doctor
expect_match "no daemon: says how to start one" "$(cat "$OUT")" \
    "fix: start it: metapi daemon --detach"
refuse "bad --timeout" 2 "--timeout must be" doctor --timeout 0

# A healthy setup: a fake relay with an account.
fake_start new-api
ok "start" site add relay "$FAKE_URL"
ok "account" account add relay --username alice --password pass-123
ok "healthy: exit 0" doctor
expect_match "aligned header" "$(head -n 1 "$OUT")" \
    "^STATUS +CHECK +DETAIL$"
expect_match "summary line" "$(tail -n 1 "$OUT")" "^[0-9]+ ok, 0 warnings, 0 failures$"
ok "healthy --json" --json doctor
# A SQLite file is checked for damage and WAL, a server for an answer.
if [ -n "${TEST_PGDB:-}" ]; then dbchecks=db.server; else dbchecks="db.integrity db.wal"; fi
for c in data.dir data.master_key data.disk daemon.socket daemon.version \
    $dbchecks db.schema db.writable http.listen clock; do
	expect "healthy: $c" "$(status_of $c)" ok
done
expect "healthy: site" "$(status_of site.reachable relay:)" ok
expect "healthy: account" "$(status_of account.credential "account 1 on relay")" ok
expect "healthy: no failures" "$(jget "$OUT" summary.fail)" 0

# --json shape: items with check, status, detail and fix.
expect_match "json: status words" "$(jget "$OUT" items.0.status)" "^(ok|warn|fail)$"
expect "json: detail" "$(jget "$OUT" items.0.detail >/dev/null && echo y)" y
expect "json: fix is null when fine" "$(jget "$OUT" items.0.fix)" null
expect "json: next" "$(jget "$OUT" next)" null

# A data dir others can read: a warning with the chmod, still exit 0.
chmod 0755 "$METAPI_DATA_DIR"
ok "open data dir: warn only" doctor
expect_match "open data dir: warn" "$(cat "$OUT")" \
    "^warn +data.dir +$METAPI_DATA_DIR has mode 0755"
expect_match "open data dir: fix" "$(cat "$OUT")" \
    "fix: chmod 700 $METAPI_DATA_DIR$"
chmod 0700 "$METAPI_DATA_DIR"

# A master key others can read fails: the daemon would refuse it.
chmod 0644 "$METAPI_DATA_DIR/master.key"
run doctor
expect "readable key: exit 1" "$RC" 1
expect_match "readable key: fix" "$(cat "$OUT")" \
    "fix: chmod 600 $METAPI_DATA_DIR/master.key"
chmod 0600 "$METAPI_DATA_DIR/master.key"

# A site on a closed loopback port fails, with what to do.
ok "dead site" site add dead http://127.0.0.1:9 --platform openai
run --json doctor --timeout 3
expect "dead site: exit 1" "$RC" 1
expect "dead site: fails" "$(status_of site.reachable dead:)" fail
expect "live site still ok" "$(status_of site.reachable relay:)" ok
run doctor --timeout 3
expect_match "dead site: fix" "$(cat "$OUT")" "fix: .*metapi site disable dead"
ok "disable dead" site disable dead
ok "disabled sites are not probed" doctor

# The site's clock an hour ahead: a warning about ours.
curl -s -X POST "$FAKE_URL/__fake/clock" -d '{"advance":3600}' >/dev/null
ok "skew: warn only" --json doctor
expect "skew: warn" "$(status_of clock)" warn
run doctor
expect_match "skew: says behind" "$(cat "$OUT")" \
    "^warn +clock +the local clock is 3[56][0-9][0-9] s behind"
curl -s -X POST "$FAKE_URL/__fake/clock" -d '{"real":true}' >/dev/null
ok "clock back" --json doctor
expect "clock ok again" "$(status_of clock)" ok

# The site rejects the account: doctor shows it with the stored reason.
curl -s -X POST "$FAKE_URL/__fake/fault" \
    -d '{"path":"/api/user/*","status":401,"times":-1}' >/dev/null
run account refresh 1
expect "refresh fails" "$RC" 1
run --json doctor
s=$(status_of account.credential "account 1 on relay")
expect_match "rejected account shows" "$s" "^(warn|fail)$"
run doctor
expect_match "rejected account: state and fix" "$(cat "$OUT")" \
    "account 1 on relay \(alice\): (unhealthy|expired)"
expect_match "rejected account: login fix" "$(cat "$OUT")" \
    "fix: log in again: metapi account login 1"
curl -s -X DELETE "$FAKE_URL/__fake/faults" >/dev/null

test_done
