#!/bin/sh
#
# Self-test of the fake relay: start it on 127.0.0.1, port 0, once per
# personality, and drive the management, relay and control APIs with curl.
# Usage: selftest.sh [path/to/fakerelay]   (or FAKERELAY=path)
# Prints "N passed, N failed" last; exits 1 if anything failed.
#
set -u

BIN=${1:-${FAKERELAY:-$(dirname "$0")/fakerelay}}
if [ ! -x "$BIN" ]; then
	echo "selftest: no fakerelay binary at $BIN" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fakerelay-selftest.XXXXXX") || exit 1
PID=""
PASS=0
FAIL=0
PERSONA=-
B=""

cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() {
	PASS=$((PASS + 1))
}

bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL [$PERSONA] $1"
	if [ -s "$TMP/body" ]; then
		printf '  status %s body: ' "$(cat "$TMP/status" 2>/dev/null)"
		head -c 300 "$TMP/body"
		echo
	fi
}

# check DESCRIPTION COMMAND...: count a pass if COMMAND succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok; else bad "$desc"; fi
}

# req METHOD PATH [curl options...]: body in $TMP/body, status in
# $TMP/status, headers in $TMP/hdr.
req() {
	m=$1
	p=$2
	shift 2
	curl -s -m 20 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' \
	    -X "$m" "$B$p" "$@" > "$TMP/status" 2>/dev/null
	return 0
}

status_is() {
	[ "$(cat "$TMP/status")" = "$1" ]
}

has() {
	grep -F -q -- "$1" "$TMP/body"
}

lacks() {
	! grep -F -q -- "$1" "$TMP/body"
}

hdr_has() {
	grep -F -i -q -- "$1" "$TMP/hdr"
}

hdr_lacks() {
	! grep -F -i -q -- "$1" "$TMP/hdr"
}

# val POINTER: one value of the fake's state as text.
val() {
	curl -s -m 10 "$B/__fake/state?pointer=$1"
}

ctl() {
	curl -s -m 10 -o /dev/null -X "$1" "$B/__fake/$2" \
	    -H 'Content-Type: application/json' ${3:+-d "$3"}
}

field() {
	sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$TMP/body" | head -n 1
}

start() {
	PERSONA=$1
	rm -f "$TMP/port"
	"$BIN" --port 0 --personality "$1" --port-file "$TMP/port" \
	    > "$TMP/stdout" 2> "$TMP/stderr" &
	PID=$!
	i=0
	while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -s "$TMP/port" ]; then
		bad "fakerelay did not start"
		return 1
	fi
	B="http://127.0.0.1:$(cat "$TMP/port")"
	check "stdout carries the port" \
	    test "$(head -n 1 "$TMP/stdout")" = "$(cat "$TMP/port")"
	return 0
}

stop() {
	ctl POST shutdown
	i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$PID" 2>/dev/null; then
		bad "shutdown did not stop the process"
		kill "$PID" 2>/dev/null
	else
		ok
	fi
	wait "$PID" 2>/dev/null
	PID=""
	rm -f "$TMP/cookies"
}

# Relay: chat non-stream and stream bill 11 quota each for
# "hello fake relay" on gpt-4o-mini (3 prompt + 4 completion words,
# ratio 1, completion ratio 2, group ratio 1).
relay_chat() {
	key=$1
	before=$(val /users/alice/quota)
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -H 'Content-Type: application/json' \
	    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello fake relay"}]}'
	check "chat status 200" status_is 200
	check "chat echoes the last user message" has '"content":"echo: hello fake relay"'
	check "chat usage" has '"prompt_tokens":3,"completion_tokens":4,"total_tokens":7'
	after=$(val /users/alice/quota)
	check "chat billed 11 quota" test "$((before - after))" -eq 11
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -d '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello fake relay"}]}'
	check "stream content type" hdr_has 'Content-Type: text/event-stream'
	check "stream delta" has '"delta":{"content":"relay"}'
	check "stream usage chunk" has '"choices":[],"usage":{"prompt_tokens":3'
	check "stream ends with [DONE]" has 'data: [DONE]'
	after2=$(val /users/alice/quota)
	check "stream billed 11 quota" test "$((after - after2))" -eq 11
}

relay_common() {
	key=$1
	req GET /v1/models -H "Authorization: Bearer $key"
	if [ "$PERSONA" = sub2api ]; then
		check "models list (anthropic group)" has '"type":"model"'
	else
		check "models list" has '"id":"gpt-4o-mini"'
	fi
	req POST /v1/chat/completions -d '{"model":"gpt-4o-mini","messages":[]}'
	check "no key is 401" status_is 401
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -d '{"model":"no-such-model","messages":[]}'
	check "unknown model refused" test "$(cat "$TMP/status")" -ge 400

	# Fault injection: one 500, then normal again.
	ctl POST fault '{"path":"/v1/chat/completions","status":500,"times":1}'
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}'
	check "fault gives 500" status_is 500
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}'
	check "fault used up after one time" status_is 200
	ctl POST fault '{"path":"/v1/chat/completions","kind":"rate_limit","retry_after":7}'
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -d '{"model":"gpt-4o-mini","messages":[]}'
	check "rate_limit fault is 429" status_is 429
	check "rate_limit fault sets Retry-After" hdr_has 'Retry-After: 7'
	ctl POST fault '{"path":"/v1/chat/completions","kind":"reset"}'
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"a b c d e"}]}'
	check "reset fault cuts the stream" lacks '[DONE]'
	req POST /v1/chat/completions -H "Authorization: Bearer $key" \
	    -H 'X-Mock-Fail: garbage' -d '{"model":"gpt-4o-mini","messages":[]}'
	check "X-Mock-Fail garbage" has '<<garbage>>'

	# Request log.
	req GET '/__fake/requests?path=/v1/chat/completions&limit=100'
	check "request log has the chat body" has 'hello fake relay'
	check "request log has the key header" has "$key"
	check "request log has the billed quota" has '"billed":11'
}

# One-API family: $2 is the user header ("" for none).
family() {
	start "$1" || return
	uh=${2:-X-No-User-Header}
	req GET /api/status
	check "status quota_per_unit" has '"quota_per_unit":500000'
	req POST /api/user/login -d '{"username":"alice","password":"wrong"}'
	check "bad password" has '用户名或密码错误'
	req POST /api/user/login -c "$TMP/cookies" \
	    -d '{"username":"alice","password":"pass-123"}'
	check "login" has '"success":true'
	check "login sets the session cookie" hdr_has 'Set-Cookie: session='
	req GET /api/user/self -b "$TMP/cookies" -H "$uh: 1"
	check "self via cookie" has '"quota":2500000'
	req GET /api/user/self -H "Authorization: Bearer access-alice" \
	    -H "$uh: 1"
	check "self via access token" has '"username":"alice"'
	req GET /api/user/self
	check "self without auth is 401" status_is 401
	if [ -n "$2" ]; then
		req GET /api/user/self -b "$TMP/cookies"
		check "missing $2 is 401" has "未提供 $2"
		req GET /api/user/self -b "$TMP/cookies" -H "$2: 2"
		check "wrong $2 is 401" has '与登录用户不匹配'
	fi

	# Tokens: p is 0-based where the list is a plain array.
	case $1 in
	veloera|one-api) first=0 ;;
	*) first=1 ;;
	esac
	req GET "/api/token/?p=$first&size=10" -b "$TMP/cookies" -H "$uh: 1"
	check "token list" has "$(val /tokens/1/key)"
	case $1 in
	new-api|anyrouter) check "paged token list" has '"items":[' ;;
	one-hub|done-hub) check "hub token list" has '"total_count":' ;;
	*) check "array token list" has '"data":[{' ;;
	esac
	if [ "$1" = new-api ] || [ "$1" = anyrouter ]; then
		ctl POST state '{"config":{"mask_keys":true}}'
		req GET /api/token/1 -b "$TMP/cookies" -H "$uh: 1"
		check "masked key" has '**********'
		req POST /api/token/1/key -b "$TMP/cookies" -H "$uh: 1"
		check "reveal key" has "\"key\":\"$(val /tokens/1/key)\""
	fi
	req POST /api/token/ -b "$TMP/cookies" -H "$uh: 1" \
	    -d '{"name":"selftest","unlimited_quota":true,"expired_time":-1}'
	check "token create" has '"success":true'
	id=$(val /tokens/selftest/id)
	check "token created in state" test -n "$id"
	req GET /api/token/search?keyword=selftest -b "$TMP/cookies" -H "$uh: 1"
	check "token search" has '"name":"selftest"'
	req DELETE "/api/token/$id" -b "$TMP/cookies" -H "$uh: 1"
	check "token delete" has '"success":true'
	req DELETE /api/token/9999 -b "$TMP/cookies" -H "$uh: 1"
	check "delete unknown token" has 'record not found'

	# Check-in, twice, then again tomorrow.
	case $1 in
	new-api) cpath=/api/user/checkin; done_msg='今日已签到' ;;
	veloera) cpath=/api/user/check_in; done_msg='你今天已经签到过了' ;;
	anyrouter) cpath=/api/user/sign_in; done_msg='今日已签到' ;;
	*) cpath="" ;;
	esac
	if [ -n "$cpath" ]; then
		q0=$(val /users/alice/quota)
		req POST "$cpath" -b "$TMP/cookies" -H "$uh: 1" \
		    -H 'X-Requested-With: XMLHttpRequest' -d '{}'
		check "check-in" has '签到成功'
		check "check-in reward" \
		    test "$(($(val /users/alice/quota) - q0))" -eq 250000
		req POST "$cpath" -b "$TMP/cookies" -H "$uh: 1" -d '{}'
		check "check-in again is refused" has "$done_msg"
		ctl POST clock '{"advance_days":1}'
		req POST "$cpath" -b "$TMP/cookies" -H "$uh: 1" -d '{}'
		check "check-in the next day" has '签到成功'
	else
		req POST /api/user/checkin -b "$TMP/cookies"
		check "no check-in: 404 Invalid URL" has 'Invalid URL (POST /api/user/checkin)'
	fi

	# 2FA (New API, AnyRouter): bob has code 123456.
	if [ "$1" = new-api ] || [ "$1" = anyrouter ]; then
		req POST /api/user/login -c "$TMP/bob" \
		    -d '{"username":"bob","password":"pass-123"}'
		check "2FA required" has '"require_2fa":true'
		req POST /api/user/login/2fa -b "$TMP/bob" -d '{"code":"000000"}'
		check "2FA wrong code" has '"success":false'
		req POST /api/user/login/2fa -b "$TMP/bob" -d '{"code":"123456"}'
		check "2FA right code" has '"username":"bob"'
		req GET /api/user/self -b "$TMP/bob" -H "$uh: 2"
		check "2FA session works" has '"username":"bob"'
	fi

	key="sk-$(val /tokens/1/key)"
	relay_chat "$key"
	relay_common "$key"
	case $1 in
	one-api) mpath="" ;;
	one-hub|done-hub) mpath=/claude/v1/messages ;;
	*) mpath=/v1/messages ;;
	esac
	if [ -n "$mpath" ]; then
		req POST "$mpath" -H "x-api-key: $key" \
		    -d '{"model":"claude-3-5-sonnet-20241022","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
		check "messages stream" has 'event: message_stop'
	fi

	if [ "$1" = anyrouter ]; then
		ctl POST state '{"config":{"waf":true}}'
		req GET /api/status
		check "WAF page" has "var arg1='"
		req GET /api/status -b "acw_sc__v2=$(val /runtime/waf_cookie)"
		check "WAF passed with the solved cookie" has '"success":true'
	fi
	stop
}

sub2api() {
	start sub2api || return
	req GET /api/status
	check "no /api/status" has '404 page not found'
	req POST /api/v1/auth/login -d '{"email":"alice@example.com","password":"nope"}'
	check "bad password is 401" status_is 401
	req POST /api/v1/auth/login -d '{"email":"alice@example.com","password":"pass-123"}'
	check "login" has '"code":0'
	jwt=$(field access_token)
	rt=$(field refresh_token)
	req GET /api/v1/auth/me
	check "me without JWT" has '"code":"UNAUTHORIZED"'
	req GET /api/v1/auth/me -H "Authorization: Bearer $jwt"
	check "me balance in USD" has '"balance":5'
	req GET /api/v1/keys -H "Authorization: Bearer $jwt"
	check "key list" has "$(val /tokens/1/key)"
	req POST /api/v1/keys -H "Authorization: Bearer $jwt" \
	    -d '{"name":"selftest","group_id":1}'
	check "key create returns the key" has '"key":"sk-'
	id=$(val /tokens/selftest/id)
	req DELETE "/api/v1/keys/$id" -H "Authorization: Bearer $jwt"
	check "key delete" has 'API key deleted successfully'
	req POST /api/v1/auth/refresh -d "{\"refresh_token\":\"$rt\"}"
	check "refresh" has '"access_token":"'
	jwt2=$(field access_token)
	req GET /api/v1/auth/me -H "Authorization: Bearer $jwt2"
	check "refreshed JWT works" has '"email":"alice@example.com"'
	req POST /api/v1/auth/refresh -d "{\"refresh_token\":\"$rt\"}"
	check "old refresh token is dead" status_is 401
	ctl POST clock '{"advance_days":2}'
	req GET /api/v1/auth/me -H "Authorization: Bearer $jwt2"
	check "JWT expires" has 'TOKEN_EXPIRED'
	req POST /api/user/checkin
	check "no check-in" status_is 404

	key=$(val /tokens/1/key)
	relay_chat "$key"
	relay_common "$key"
	req POST /v1/messages -H "x-api-key: $key" \
	    -d '{"model":"claude-3-5-sonnet-20241022","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}'
	check "messages" has '"text":"echo: hi"'
	stop
}

plain() {
	start "$1" || return
	key=$(val /tokens/1/key)
	if [ "$1" = openai ]; then
		relay_chat "$key"
		relay_common "$key"
		req POST /v1/responses -H "Authorization: Bearer $key" \
		    -d '{"model":"gpt-4o","input":"hi","stream":true}'
		check "responses stream" has 'event: response.completed'
		check "responses stream has no [DONE]" lacks '[DONE]'
	else
		req GET /v1/models -H "x-api-key: $key"
		check "anthropic model list" has '"type":"model"'
		before=$(val /users/alice/quota)
		req POST /v1/messages -H "x-api-key: $key" \
		    -H 'anthropic-version: 2023-06-01' \
		    -d '{"model":"claude-3-5-sonnet-20241022","max_tokens":50,"messages":[{"role":"user","content":"hello fake relay"}]}'
		check "messages" has '"text":"echo: hello fake relay"'
		after=$(val /users/alice/quota)
		# (3 + 4 x 5) x 1.5 = 34.5 -> 35
		check "messages billed" test "$((before - after))" -eq 35
		req POST /v1/messages -H "x-api-key: $key" -H 'X-Mock-Fail: anthropic_overloaded' \
		    -d '{"model":"claude-3-5-sonnet-20241022","max_tokens":5,"messages":[]}'
		check "overloaded is 529" status_is 529
		req POST /v1/messages -H "x-api-key: $key" \
		    -H 'X-Mock-Fail: error_event' \
		    -d '{"model":"claude-3-5-sonnet-20241022","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"a b c d"}]}'
		check "in-band stream error" has 'event: error'
		req GET /__fake/requests?path=/v1/messages
		check "request log has anthropic-version" has '"anthropic-version":"2023-06-01"'
	fi
	stop
}

# The faults the tests rely on, each on a management and a relay path:
# what the client sees (curl's exit code, timing, sizes) and the record.
# curlx PATH [curl options...]: like req, curl's exit code in $TMP/rc.
curlx() {
	p=$1
	shift
	curl -s -m 20 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code} %{size_download} %{time_starttransfer}' \
	    "$B$p" "$@" > "$TMP/status" 2>/dev/null
	echo $? > "$TMP/rc"
	sed -i 's/ .*//' "$TMP/status"
	return 0
}
rc_is() {
	[ "$(cat "$TMP/rc")" = "$1" ]
}
faults() {
	start new-api || return
	key="sk-$(val /tokens/1/key)"
	chat='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a b c d e f g h"}]}'

	ctl POST fault '{"path":"/api/user/self","status":503,"body":"{\"oops\":1}","content_type":"application/json"}'
	curlx /api/user/self -H 'Authorization: Bearer access-alice' -H 'New-Api-User: 1'
	check "status fault: the code" status_is 503
	check "status fault: the body given" has '{"oops":1}'
	curlx /api/user/self -H 'Authorization: Bearer access-alice' -H 'New-Api-User: 1'
	check "status fault: once" status_is 200

	ctl POST fault '{"path":"/v1/chat/completions","kind":"slow","delay_ms":1200}'
	t0=$(date +%s%N)
	curlx /v1/chat/completions -H "Authorization: Bearer $key" -d "$chat"
	t1=$(date +%s%N)
	check "slow first byte: answered" status_is 200
	check "slow first byte: after the delay" test $(((t1 - t0) / 1000000)) -ge 1150

	ctl POST fault '{"path":"/api/user/self","kind":"reset"}'
	curlx /api/user/self -H 'Authorization: Bearer access-alice' -H 'New-Api-User: 1'
	check "reset mid-body: curl sees a partial transfer" rc_is 18
	len=$(sed -n 's/^[Cc]ontent-[Ll]ength: *\([0-9]*\).*/\1/p' "$TMP/hdr")
	check "reset mid-body: half of Content-Length came" \
	    test "$(wc -c < "$TMP/body")" -lt "${len:-0}" -a "$(wc -c < "$TMP/body")" -gt 0

	ctl POST fault '{"path":"/v1/chat/completions","kind":"truncated"}'
	curlx /v1/chat/completions -H "Authorization: Bearer $key" -d "$chat"
	len=$(sed -n 's/^[Cc]ontent-[Ll]ength: *\([0-9]*\).*/\1/p' "$TMP/hdr")
	check "truncated: a whole transfer" rc_is 0
	check "truncated: Content-Length matches" test "$(wc -c < "$TMP/body")" -eq "${len:-x}"
	check "truncated: not JSON any more" lacks '"usage"'
	check "truncated: begins as the JSON did" has '{"id":"chatcmpl'

	ctl POST fault '{"path":"/api/token/*","kind":"garbage"}'
	curlx '/api/token/?p=1&size=10' -H 'Authorization: Bearer access-alice' -H 'New-Api-User: 1'
	check "garbage: 200" status_is 200
	check "garbage: JSON content type" hdr_has 'Content-Type: application/json'
	check "garbage: not JSON" has '<<garbage>>'

	ctl POST fault '{"path":"/api/user/self","kind":"oversized","bytes":3000000}'
	curlx /api/user/self -H 'Authorization: Bearer access-alice' -H 'New-Api-User: 1'
	check "oversized: exactly the bytes asked" test "$(wc -c < "$TMP/body")" -eq 3000000
	check "oversized: a JSON envelope" has '{"success":true'

	ctl POST fault '{"path":"/v1/models","kind":"close"}'
	curlx /v1/models -H "Authorization: Bearer $key"
	check "close: no reply at all" rc_is 52

	ctl POST fault '{"path":"/v1/models","kind":"cloudflare"}'
	curlx /v1/models -H "Authorization: Bearer $key"
	check "cloudflare: 403" status_is 403
	check "cloudflare: cf-mitigated" hdr_has 'cf-mitigated: challenge'
	ctl POST fault '{"path":"/v1/models","kind":"waf"}'
	curlx /v1/models -H "Authorization: Bearer $key"
	check "waf: the Aliyun page" has "var arg1='"

	ctl POST fault '{"path":"/api/status","status":302,"location":"/api/notice","body":""}'
	curlx /api/status
	check "redirect fault: 302" status_is 302
	check "redirect fault: Location" hdr_has 'Location: /api/notice'

	# A reply given whole by the test, sent in pieces: the bytes exact
	# (a 2-byte character cut in two), the pieces apart in time.
	ctl POST fault '{"path":"/v1/chat/completions","kind":"reply","status":201,"headers":{"Content-Type":"text/event-stream","X-Piece":"yes"},"body":"data: {\"t\":\"\u00e9\"}\n\n","cuts":[3,15],"delay_ms":300}'
	curl -s -m 20 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code} %{time_starttransfer} %{time_total}' \
	    "$B/v1/chat/completions" -d "$chat" >"$TMP/status" 2>/dev/null
	set -- $(cat "$TMP/status")
	check "reply: the status given" test "$1" = 201
	check "reply: the headers given" hdr_has 'X-Piece: yes'
	check "reply: a stream has no Content-Length" hdr_lacks 'Content-Length'
	printf 'data: {"t":"\303\251"}\n\n' >"$TMP/want"
	check "reply: the bytes given" cmp -s "$TMP/body" "$TMP/want"
	check "reply: two pauses between the pieces" \
	    awk -v a="$2" -v b="$3" 'BEGIN { exit !(b - a >= 0.55) }'
	ctl POST fault '{"path":"/v1/models","kind":"reply","body_b64":"AP8K"}'
	curlx /v1/models
	check "reply: body_b64 bytes" test "$(od -An -tx1 "$TMP/body" | tr -d ' ')" = 00ff0a
	check "reply: with a Content-Length" hdr_has 'Content-Length: 3'
	check "reply: default status 200" status_is 200
	req POST /__fake/fault -d '{"kind":"reply","body":"abc","cuts":[2,1]}'
	check "reply: cuts out of order refused" has 'cuts must ascend'

	# A rule for one key only, for ever, then removed.
	ctl POST fault "{\"path\":\"/v1/models\",\"key\":\"$(val /tokens/3/key)\",\"status\":500,\"times\":-1}"
	curlx /v1/models -H "Authorization: Bearer $key"
	check "key-scoped fault spares other keys" status_is 200
	curlx /v1/models -H "Authorization: Bearer sk-$(val /tokens/3/key)"
	check "key-scoped fault hits its key" status_is 500
	curlx /v1/models -H "Authorization: Bearer sk-$(val /tokens/3/key)"
	check "times -1 keeps it" status_is 500
	ctl DELETE faults
	curlx /v1/models -H "Authorization: Bearer sk-$(val /tokens/3/key)"
	check "DELETE /__fake/faults clears it" status_is 200

	# The record of what was asked, faulted requests included.
	req GET '/__fake/requests?path=/api/user/self'
	check "faulted requests are recorded" has '"status":503'
	check "with their headers" has '"new-api-user":"1"'
	stop
}

faults
family new-api New-Api-User
family anyrouter New-Api-User
family veloera Veloera-User
family one-api ""
family one-hub ""
family done-hub ""
sub2api
plain openai
plain claude

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
