# Notification channels against a local receiver (tests/tools/sink): the
# exact request each kind sends, sealed secrets, bad input, the cooldown
# merge, a receiver that is down, and the event log.
#
# WeCom and Feishu shapes are chosen by the URL's host or path, so a sink
# on 127.0.0.1 serving /cgi-bin/webhook/send (WeCom) or
# /open-apis/bot/v2/hook/... (Feishu) gets those shapes. ServerChan and
# Telegram are pointed at the sink with --api-base.
. "$SRCDIR/tests/lib/libtest.sh"
test_init notify

SINK="$TMP/sink"
mkdir -p "$SINK"
sink_start() {
	rm -f "$TMP/hp" "$TMP/sp"
	"$BUILDDIR/tests/tools/sink" --dir "$SINK" ${HP:+--port $HP} \
	    ${SP:+--smtp-port $SP} --port-file "$TMP/hp" \
	    --smtp-port-file "$TMP/sp" \
	    --route '/bark=200:{"code":200,"message":"success"}' \
	    --route '/fail/=200:{"ok":false,"description":"Bad Request: chat not found"}' \
	    --route '/bot=200:{"ok":true,"result":{}}' \
	    2>"$TMP/sink.log" &
	SINK_PID=$!
	echo "$SINK_PID" >>"$TMP/pids"
	i=0
	while { [ ! -s "$TMP/hp" ] || [ ! -s "$TMP/sp" ]; } && [ $i -lt 200 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	HP=$(cat "$TMP/hp")
	SP=$(cat "$TMP/sp")
}
# nreq: how many requests the sink has recorded.
nreq() {
	ls "$SINK" | grep -c '^[0-9]*\.json$'
}
# wait_req N: until the sink has recorded N requests (5 s at most).
wait_req() {
	i=0
	while [ "$(nreq)" -lt "$1" ] && [ $i -lt 250 ]; do
		sleep 0.02
		i=$((i + 1))
	done
}
# req PATTERN: the newest recorded request whose file matches PATTERN.
req() {
	f=$(grep -l -- "$1" "$SINK"/*.json 2>/dev/null | sort -t/ -k1 -V |
	    tail -n 1)
	[ -n "$f" ] && echo "$f" || echo /nonexistent
}
# body FILE: the recorded JSON body, as a file for jget.
body() {
	jget "$1" body >"$TMP/body.json"
	echo "$TMP/body.json"
}

sink_start
H="http://127.0.0.1:$HP"
TG_TOKEN=123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw
SCKEY=SCT98765XYZsecretkey

# --- adding each kind ---------------------------------------------------
ok "add generic webhook" --json notify add webhook "$H/hook/tok-generic-0001"
expect "webhook kind" "$(jget "$OUT" kind)" webhook
expect "webhook shape" "$(jget "$OUT" config.shape)" generic
expect "webhook masked" "$(jget "$OUT" secret_mask)" "$H/…0001"
ok "add wecom webhook" --json notify add webhook \
    "$H/cgi-bin/webhook/send?key=tok-wecom-0002"
expect "wecom shape by path" "$(jget "$OUT" config.shape)" wecom
ok "add feishu webhook" --json notify add webhook \
    "$H/open-apis/bot/v2/hook/tok-feishu-0003"
expect "feishu shape by path" "$(jget "$OUT" config.shape)" feishu
ok "add bark" --json notify add bark "$H/barktok-0004/"
expect "bark target" "$(jget "$OUT" target)" "bark on 127.0.0.1:$HP"
ok "add serverchan" --json notify add serverchan "$SCKEY" --api-base "$H"
expect "serverchan mask" "$(jget "$OUT" secret_mask)" "…tkey"
run_in "$TG_TOKEN" --json notify add telegram - -1001234567 --thread 42 \
    --api-base "$H/"
expect "telegram token from stdin" "$RC" 0
expect "telegram chat" "$(jget "$OUT" config.chat_id)" -1001234567
expect "telegram thread" "$(jget "$OUT" config.thread)" 42
expect "telegram api base without slash" "$(jget "$OUT" config.api_base)" "$H"
run_in "smtp-pass-0007" --json notify add smtp --host 127.0.0.1 --port "$SP" \
    --from alerts@metapi.example --to ops@example.com,dev@example.com \
    --user bob --password - --tls none
expect "smtp added" "$RC" 0
expect "smtp tls" "$(jget "$OUT" config.tls)" none
expect "smtp has no password in config" \
    "$(jget "$OUT" config.password || echo absent)" absent
expect "seven channels" "$(count_items notify list)" 7

ok "list" notify list
expect_nomatch "list shows no secret" "$(cat "$OUT")" \
    "tok-generic|tok-wecom|tok-feishu|barktok|$SCKEY|AAHdqT|smtp-pass"
expect_match "list shows kinds" "$(cat "$OUT")" "wecom webhook on 127.0.0.1"
"$METAPI" --json notify list >"$TMP/list.json"
expect_nomatch "json list shows no secret" "$(cat "$TMP/list.json")" \
    "tok-generic|tok-wecom|tok-feishu|barktok|$SCKEY|AAHdqT|smtp-pass"
if cat $(db_files) | grep -a -q -E \
    "tok-generic|tok-wecom|tok-feishu|barktok|$SCKEY|AAHdqT|smtp-pass"; then
	fail "a secret is in the database in the clear"
else
	pass
fi

# --- the requests each kind sends -----------------------------------------
ok "test all" --json notify test
expect "test all: none failed" "$(jget "$OUT" failed)" 0
expect "test all: seven outcomes" "$(jget "$OUT" items.length)" 7
wait_req 7
expect "sink got seven" "$(nreq)" 7

f=$(req '"/hook/tok-generic-0001"')
expect "generic: POST" "$(jget "$f" method)" POST
expect "generic: json" "$(jget "$f" headers.content-type)" application/json
b=$(body "$f")
expect "generic: title" "$(jget "$b" title)" "Test notification"
expect "generic: level" "$(jget "$b" level)" info
expect "generic: type" "$(jget "$b" type)" test
expect_match "generic: message" "$(jget "$b" message)" "test notification"
expect_match "generic: ISO time" "$(jget "$b" time)" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'

f=$(req '"/cgi-bin/webhook/send"')
expect "wecom: key kept" "$(jget "$f" query)" "key=tok-wecom-0002"
b=$(body "$f")
expect "wecom: msgtype" "$(jget "$b" msgtype)" text
expect_match "wecom: content" "$(jget "$b" text.content)" \
    '^\[metapi\]\[INFO\] Test notification'
expect "wecom: nothing else" "$(jget "$b" length)" 2

f=$(req '"/open-apis/bot/v2/hook/tok-feishu-0003"')
b=$(body "$f")
expect "feishu: msg_type" "$(jget "$b" msg_type)" text
expect_match "feishu: text" "$(jget "$b" content.text)" \
    '^\[metapi\]\[INFO\] Test notification'

f=$(req '"/barktok-0004/')
expect "bark: GET" "$(jget "$f" method)" GET
expect_match "bark: title and body in the path" "$(jget "$f" path)" \
    '^/barktok-0004/Test%20notification/This%20is%20a%20test'
expect "bark: group and level" "$(jget "$f" query)" "group=metapi&level=active"

f=$(req "\"/$SCKEY.send\"")
expect "serverchan: POST" "$(jget "$f" method)" POST
expect "serverchan: form" "$(jget "$f" headers.content-type)" \
    application/x-www-form-urlencoded
expect_match "serverchan: title field" "$(jget "$f" body)" \
    '^title=%5Bmetapi%5D%5BINFO%5D%20Test%20notification&desp=This%20is'
expect_match "serverchan: level in desp" "$(jget "$f" body)" 'Level%3A%20INFO'

f=$(req "\"/bot$TG_TOKEN/sendMessage\"")
expect "telegram: POST" "$(jget "$f" method)" POST
b=$(body "$f")
expect "telegram: chat_id" "$(jget "$b" chat_id)" -1001234567
expect "telegram: thread" "$(jget "$b" message_thread_id)" 42
expect "telegram: no preview" "$(jget "$b" disable_web_page_preview)" true
expect_match "telegram: text" "$(jget "$b" text)" \
    '^\[metapi\]\[INFO\] Test notification'

f=$(req '"proto": "smtp"')
expect_match "smtp: MAIL FROM" "$(jget "$f" mail_from)" '^<alerts@metapi.example>'
expect "smtp: RCPT 1" "$(jget "$f" rcpt.0)" "<ops@example.com>"
expect "smtp: RCPT 2" "$(jget "$f" rcpt.1)" "<dev@example.com>"
expect "smtp: auth" "$(jget "$f" auth_plain)" "|bob|smtp-pass-0007"
jget "$f" data >"$TMP/mail"
expect "smtp: Subject" "$(grep '^Subject:' "$TMP/mail" | tr -d '\r')" \
    "Subject: [metapi][INFO] Test notification"
expect "smtp: To" "$(grep '^To:' "$TMP/mail" | tr -d '\r')" \
    "To: ops@example.com, dev@example.com"
expect_match "smtp: Date" "$(grep '^Date:' "$TMP/mail")" \
    '^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} '
expect_match "smtp: Message-ID" "$(grep '^Message-ID:' "$TMP/mail")" \
    '@metapi.example>'
expect_match "smtp: CRLF" "$(od -c "$TMP/mail" | head -n 3)" '\\r  *\\n'

ok "last_sent_at recorded" --json notify list
expect_match "last sent" "$(jget "$OUT" items.0.last_sent_at)" '^[0-9]{4}-'

# --- bad input: nothing stored -------------------------------------------
before=$(count_items notify list)
refuse "unknown kind" 1 'unknown channel kind "pigeon"' notify add pigeon x
run_in "pw" notify add smtp --host mail.example.com --from a@b.c --to d@e.f \
    --user u --password - --tls none
expect "clear-text password to another host: refused" "$RC" 1
expect_match "clear-text password: says why" "$(cat "$ERR")" 'unencrypted'
refuse "missing kind" 2 "missing KIND" notify add
refuse "missing url" 1 "missing URL" notify add webhook
refuse "bad url" 1 "bad webhook URL: must start with http" \
    notify add webhook ftp://example.com/x
refuse "bad url port" 1 "bad webhook URL: bad port" \
    notify add webhook http://example.com:99999/x
refuse "bark without key" 1 "no key in its path" notify add bark https://api.day.app
refuse "bad sendkey" 1 "bad SENDKEY" notify add serverchan 'a b'
refuse "bad bot token" 1 "bad BOT_TOKEN" notify add telegram nope 123
refuse "missing chat" 1 "missing CHAT_ID" notify add telegram "$TG_TOKEN"
refuse "bad chat" 1 "bad CHAT_ID" notify add telegram "$TG_TOKEN" 12ab
refuse "bad thread" 2 "not a whole number" notify add telegram "$TG_TOKEN" 1 \
    --thread x
refuse "smtp missing to" 1 "missing --to" notify add smtp --host h \
    --from a@b.c
refuse "smtp bad to" 1 "bad --to address" notify add smtp --host h \
    --from a@b.c --to nobody
refuse "smtp bad tls" 1 "--tls must be" notify add smtp --host h \
    --from a@b.c --to d@e.f --tls maybe
refuse "smtp user alone" 1 "go together" notify add smtp --host h \
    --from a@b.c --to d@e.f --user u
refuse "smtp bad port" 1 "--port must be" notify add smtp --host h \
    --from a@b.c --to d@e.f --port 70000
refuse "option of another kind" 1 'does not take "host"' \
    notify add webhook "$H/x/y" --host h
refuse "no secret in errors" 1 "bad port" notify add webhook \
    "http://h:0/secret-in-url"
expect_nomatch "error does not echo the URL" "$(cat "$ERR")" secret-in-url
expect "nothing stored by the failures" "$(count_items notify list)" "$before"

# --- telegram refusing, a receiver that is down ---------------------------
ok "a telegram that refuses" --json notify add telegram "$TG_TOKEN" 5 \
    --api-base "$H/fail"
BADTG=$(jget "$OUT" id)
run --json notify test "$BADTG"
expect "refused test exits 1" "$RC" 1
expect "refused reason" "$(jget "$OUT" items.0.error)" \
    "Telegram refused it: Bad Request: chat not found"
ok "rm it" notify rm "$BADTG"
refuse "gone" 1 "no notification channel $BADTG" notify test "$BADTG"

kill "$SINK_PID"
wait "$SINK_PID" 2>/dev/null
start=$(date +%s)
run --json notify test 1
end=$(date +%s)
expect "down: exit 1" "$RC" 1
expect_match "down: the error names the host" "$(jget "$OUT" items.0.error)" \
    "^127.0.0.1:$HP: Couldn't connect"
expect_match "down: quick" "$((end - start))" '^[0-3]$'
ok "daemon answers meanwhile" status
ok "last_error recorded" --json notify list
expect_match "last error" "$(jget "$OUT" items.0.last_error)" "Couldn't connect"
sink_start
ok "back up" notify test 1
ok "last_error cleared" --json notify list
expect "no last error" "$(jget "$OUT" items.0.last_error)" null

# --- enable/disable; cooldown merge through `notify send` ----------------
for id in 2 3 4 5 6 7; do
	ok "disable $id" notify disable "$id"
done
ok "one enabled" --json notify list
expect "channel 2 off" "$(jget "$OUT" items.1.enabled)" false
refuse "unknown id" 1 "no notification channel 99" notify enable 99

ok "cooldown 2 s" settings set notify_cooldown_sec 2
n0=$(nreq)
ok "first alert" --json notify send "disk full" "on /var" --level error \
    --type test-merge
expect "first went out" "$(jget "$OUT" channels) $(jget "$OUT" merged)" "1 false"
ok "second alert" --json notify send "disk full" "on /var" --level error \
    --type test-merge
expect "second merged" "$(jget "$OUT" merged)" true
ok "third alert" --json notify send "disk full" "on /var" --level error \
    --type test-merge
expect "third merged" "$(jget "$OUT" merged)" true
ok "other title" --json notify send "disk slow" --type test-merge
expect "a different alert is not merged" "$(jget "$OUT" merged)" false
wait_req $((n0 + 2))
sleep 0.3
expect "two sent so far" "$(nreq)" $((n0 + 2))
sleep 2
ok "after the cooldown" --json notify send "disk full" "on /var" --level error \
    --type test-merge
expect "not merged" "$(jget "$OUT" merged)" false
wait_req $((n0 + 3))
b=$(body "$(req 'similar alerts merged')")
expect "level error" "$(jget "$b" level)" error
expect "merged note" "$(jget "$b" message)" "on /var

(2 similar alerts merged)"
refuse "bad level" 1 "--level must be" notify send x --level loud

# --- alerts from a failed check-in and an expired account ----------------
fake_start new-api
ok "site" site add relay "$FAKE_URL"
ok "account" account add relay --username alice --password pass-123
ok "webhook on" notify enable 1
ok "smtp off" notify disable 7
curl -s -X POST "$FAKE_URL/__fake/fault" \
    -d '{"path":"/api/user/checkin","status":500}' >/dev/null
n0=$(nreq)
run checkin run 1
expect "check-in fails" "$RC" 1
wait_req $((n0 + 1))
b=$(body "$(req 'check-in failed: account 1 on relay')")
expect "check-in alert title" "$(jget "$b" title)" \
    "check-in failed: account 1 on relay"
expect "check-in alert type" "$(jget "$b" type) $(jget "$b" level)" \
    "checkin error"
curl -s -X DELETE "$FAKE_URL/__fake/faults" >/dev/null
curl -s -X POST "$FAKE_URL/__fake/fault" \
    -d '{"path":"/api/user/*","status":401,"times":-1}' >/dev/null
n0=$(nreq)
run account refresh 1
expect "refresh fails" "$RC" 1
wait_req $((n0 + 1))
f=$(req 'account 1 on relay is')
expect_match "account alert" "$(jget "$(body "$f")" title)" \
    '^account 1 on relay is (expired|unhealthy)$'
n1=$(nreq)
run account refresh 1
expect "still failing" "$RC" 1
sleep 0.5
expect "still expired: not told again" "$(nreq)" "$n1"
curl -s -X DELETE "$FAKE_URL/__fake/faults" >/dev/null
ok "smtp on again" notify enable 7
ok "webhook off again" notify disable 1

# Non-ASCII subject through SMTP.
ok "smtp back on" notify enable 7
ok "disable webhook" notify disable 1
n0=$(nreq)
ok "unicode alert" notify send "余额不足" "剩余 \$0.5" --level warning
wait_req $((n0 + 1))
jget "$(req '=?UTF-8?B?')" data >"$TMP/mail"
expect "encoded subject" "$(grep '^Subject:' "$TMP/mail" | tr -d '\r')" \
    "Subject: =?UTF-8?B?$(printf '[metapi][WARNING] 余额不足' | base64)?="
expect_match "base64 body" "$(cat "$TMP/mail")" \
    'Content-Transfer-Encoding: base64'
expect_match "the body decodes" "$(sed '1,/^\r$/d' "$TMP/mail" | tr -d '\r' |
    base64 -d 2>&1)" '^剩余 \$0\.5$'

# --- events ----------------------------------------------------------------
ok "events" events --limit 3
expect_match "events table" "$(head -n 1 "$OUT")" '^ID +TIME +TYPE +LEVEL'
ok "events json" --json events --limit 2
expect "two events" "$(jget "$OUT" items.length)" 2
expect "newest first" "$(jget "$OUT" items.0.title)" "余额不足"
expect "level" "$(jget "$OUT" items.0.level)" warning
NEXT=$(jget "$OUT" next)
expect_match "a next page" "$NEXT" '^[0-9]+$'
ok "next page" --json events --limit 50 --before "$NEXT"
expect "the page goes on" "$(jget "$OUT" items.0.id)" $((NEXT - 1))
ok "all events" --json events --limit 50
expect "merged alerts are events too" \
    "$(grep -c '"title": "disk full"' "$OUT")" 4
expect_match "tests are events" "$(cat "$OUT")" "test notification: 7 sent"
refuse "bad limit" 1 "--limit must be" events --limit 0

# --- a delivery that fails is retried (5 s later) -------------------------
kill "$SINK_PID"
wait "$SINK_PID" 2>/dev/null
before=$(nreq)
ok "alert while the receiver is down" notify send "retry me" --type test-retry
sleep 1
sink_start
i=0
while ! grep -q 'retry me' "$SINK"/*.json 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_match "retried and delivered" "$(cat "$SINK"/*.json)" "retry me"

test_done
