# The HTTP client of management calls (src/upstream.c) against the fake
# relay: a site's own headers sent; its proxy used, http and socks5 (with
# a login) and https, and the system proxy for sites without one; TLS
# certificates verified; redirects followed at most 5 times and without
# the credentials to another host; a connect timeout apart from the
# total one.
. "$SRCDIR/tests/lib/libtest.sh"
test_init httpclient

# reqs URL PATH [FIELD]: the fake relay's record of requests for PATH.
reqs() {
	curl -s "$1/__fake/requests?path=$2" >"$TMP/req.json"
	jget "$TMP/req.json" "${3:-count}"
}
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do
		sleep 0.02
		i=$((i + 1))
	done
}

fake_start new-api
NA=$FAKE_URL
NAHOST=${NA#http://}

# --- the site's own headers, on every call ------------------------------
ok "site with headers" site add na "$NA" --platform new-api \
    --header 'X-Team: blue' --header 'X-Trace: t-1'
ok "account" --json account add na --username alice --password pass-123
AL=$(jget "$OUT" id)
expect "login got the header" "$(reqs "$NA" /api/user/login requests.0.headers.x-team)" blue
expect "user info got both" \
    "$(reqs "$NA" /api/user/self requests.0.headers.x-team) $(jget "$TMP/req.json" requests.0.headers.x-trace)" \
    "blue t-1"
expect_match "and metapi's user agent" "$(jget "$TMP/req.json" requests.0.headers.user-agent)" '^metapi/'

# --- proxies --------------------------------------------------------------
PLOG="$TMP/proxy.log"
"$BUILDDIR/tests/tools/miniproxy" --port-file "$TMP/px.port" --log "$PLOG" &
echo $! >>"$TMP/pids"
wait_file "$TMP/px.port"
PX=$(cat "$TMP/px.port")
: >"$PLOG"
ok "http proxy" site edit na --proxy "http://127.0.0.1:$PX"
ok "refresh through it" --json account refresh "$AL"
expect "refreshed" "$(jget "$OUT" items.0.ok)" true
expect_match "the proxy relayed the call" "$(cat "$PLOG")" "^http GET http://$NAHOST/api/user/self"
: >"$PLOG"
ok "socks5 proxy with a login" site edit na --proxy "socks5://pu:pp-secret@127.0.0.1:$PX"
ok "refresh through it" --json account refresh "$AL"
expect "refreshed" "$(jget "$OUT" items.0.ok)" true
expect_match "socks5 with the proxy's user" "$(head -n 1 "$PLOG")" "^socks5 $NAHOST user=pu$"
: >"$PLOG"
ok "socks5h proxy" site edit na --proxy "socks5h://127.0.0.1:$PX"
ok "check-in through it" --json checkin run "$AL"
expect_match "socks5 again" "$(cat "$PLOG")" "^socks5 $NAHOST$"
: >"$PLOG"
n0=$(reqs "$NA" /api/user/self)
ok "an https proxy (TLS to the proxy)" site edit na --proxy "https://127.0.0.1:$PX"
run --json account refresh "$AL"
expect "a plain proxy cannot speak TLS: fails" "$RC" 1
expect "but metapi opened with TLS to it" "$(cat "$PLOG")" "tls hello"
ok "a proxy that is down" site edit na --proxy "http://127.0.0.1:9"
run --json account refresh "$AL"
expect_match "no way around it" "$RC $(jget "$OUT" items.0.error)" '^1 cannot reach'
expect "the site was never asked directly" "$(reqs "$NA" /api/user/self)" "$n0"
: >"$PLOG"
ok "no proxy of its own" site edit na --proxy none
ok "the system proxy" settings set system_proxy_url "http://127.0.0.1:$PX"
ok "refresh" --json account refresh "$AL"
expect_match "through the system proxy" "$(cat "$PLOG")" "^http GET http://$NAHOST/api/user/self"
ok "direct again" settings set system_proxy_url ""
: >"$PLOG"
ok "refresh" --json account refresh "$AL"
expect "no proxy now" "$(wc -l <"$PLOG" | tr -d ' ')" 0

# --- redirects ------------------------------------------------------------
curl -s -X DELETE "$NA/__fake/requests" >/dev/null
curl -s -X POST "$NA/__fake/fault" -d '{"path":"/api/user/self","status":302,"location":"/api/user/self","body":"","times":-1}' >/dev/null
run --json account refresh "$AL"
expect "a redirect loop fails" "$RC" 1
expect_match "said" "$(jget "$OUT" items.0.error)" 'redirects too often'
expect "one request and five redirects followed" "$(reqs "$NA" /api/user/self)" 6
curl -s -X DELETE "$NA/__fake/faults" >/dev/null
# To another host (here another port): the session and token stay home.
fake_start new-api
NB=$FAKE_URL
ok "access-token account" --json account add na --access-token access-alice --user-id 1
AT=$(jget "$OUT" id)
for acct in "$AL" "$AT"; do
	curl -s -X DELETE "$NB/__fake/requests" >/dev/null
	curl -s -X POST "$NA/__fake/fault" -d "{\"path\":\"/api/user/self\",\"status\":302,\"location\":\"$NB/api/user/self\",\"body\":\"\",\"times\":1}" >/dev/null
	run --json account refresh "$acct"
	expect "account $acct: followed to the other host" "$(reqs "$NB" /api/user/self)" 1
	expect "account $acct: without the cookie" "$(jget "$TMP/req.json" requests.0.headers.cookie)" ""
	expect "account $acct: without the token" "$(jget "$TMP/req.json" requests.0.headers.authorization)" ""
done
expect "the token refused there" "$RC $(jget "$OUT" items.0.error_code)" "1 unauthorized"
curl -s -X DELETE "$NA/__fake/faults" >/dev/null
ok "all well again" --json account refresh "$AL"
expect "refreshed" "$(jget "$OUT" items.0.ok)" true

# --- a connect timeout apart from the total one ----------------------------
"$BUILDDIR/tests/tools/miniproxy" --blackhole --port-file "$TMP/bh.port" &
echo $! >>"$TMP/pids"
wait_file "$TMP/bh.port"
ok "a site that never accepts" site add bh "http://127.0.0.1:$(cat "$TMP/bh.port")" --platform openai
ok "connect timeout 1 s" settings set proxy_connect_timeout_sec 1
ok "total 30 s" settings set site_timeout_sec 30
t0=$(date +%s)
refuse "connecting times out" 1 "did not answer in time: Failed to connect.* after 1[0-9]{3} ms" account add bh --api-key sk-abc
t1=$(date +%s)
expect_match "after about a second, not 30" "$((t1 - t0))" '^[0-3]$'
ok "connect timeout back" settings set proxy_connect_timeout_sec 15

# --- TLS: a certificate nobody vouches for is refused -----------------------
SINK_BIN="$BUILDDIR/tests/tools/sink"
if "$SINK_BIN" --has-tls 2>/dev/null && command -v openssl >/dev/null; then
	C="$TMP/certs"
	mkdir -p "$C" "$TMP/sink"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$C/srv.key" -out "$C/srv.pem" -days 2 \
	    -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 \
	    2>>"$TMP/openssl.log"
	"$SINK_BIN" --dir "$TMP/sink" --port-file "$TMP/hp" --smtps-port-file \
	    "$TMP/ssp" --tls-cert "$C/srv.pem" --tls-key "$C/srv.key" \
	    >/dev/null 2>&1 &
	echo $! >>"$TMP/pids"
	wait_file "$TMP/ssp"
	TLS="https://127.0.0.1:$(cat "$TMP/ssp")"
	# The control: with the certificate trusted the handshake succeeds
	# (curl 60 is "certificate problem").
	curl -s --max-time 5 --cacert "$C/srv.pem" "$TLS/" >/dev/null 2>&1
	expect_nomatch "the server speaks TLS with that certificate" "$?" '^(60|35|7)$'
	ok "https site" site add tls "$TLS" --platform openai
	refuse "its certificate is not trusted" 1 "cannot trust $TLS/v1/models" \
	    account add tls --api-key sk-abc
	refuse "detection checks it too" 1 "certificate|SSL" site detect "$TLS"
	expect "nothing stored" "$(count_items account list --site tls)" 0
else
	echo "httpclient: TLS part skipped: the sink was built without" \
	    "OpenSSL (libssl-dev) or there is no openssl command" >&2
	[ "${CI:-}" = true ] && fail "no TLS for the sink in CI"
fi

ok "daemon up after all that" status
test_done
