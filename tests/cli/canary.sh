# The canary sweep (reliability-anchors X1): a unique random string is
# planted in every kind of secret metapi holds, the daemon runs at debug
# level through the commands and requests that touch them, success and
# failure alike, and then every output and every file is searched for
# every canary. Hits must be zero, except in the few outputs that exist to
# show one secret (listed under "allowed" below).
#
# Counted as a leak: a canary in anything metapi writes or says, other
# than the request that carries the secret to where it belongs (the
# upstream site, the notification receiver), which is the fake relay's or
# the sink's business. A proxied reply body that an upstream wrote is not
# metapi's text; what metapi keeps of it (log rows, events, its own error
# messages) is.
. "$SRCDIR/tests/lib/libtest.sh"
test_init canary

# On PostgreSQL (METAPI_TEST_DB=pg) the database is swept as a pg_dump
# of each daemon's database, where the SQLite pass reads the files raw
# and dumped; the server's own log is swept too.
if [ -n "${TEST_PGDB:-}" ]; then
	PG_DUMP=$(pg_bindir)/pg_dump
	[ -x "$PG_DUMP" ] || PG_DUMP=pg_dump
	# The second daemon's database, dropped at the end.
	TEST_PGDB2=${TEST_PGDB}_2
	canary_cleanup() {
		pg_dropdb "$METAPI_TEST_PG" "$TEST_PGDB2"
		test_cleanup
	}
	trap canary_cleanup EXIT
fi
# db_dump DIR FILE: the database of the daemon of data dir DIR, as SQL.
db_dump() {
	if [ -z "${TEST_PGDB:-}" ]; then
		sqlite3 "$1/metapi.db" .dump >"$2"
	elif [ "$1" = "$TMP/data2" ]; then
		"$PG_DUMP" "$METAPI_TEST_PG/$TEST_PGDB2" >"$2"
	else
		"$PG_DUMP" "$METAPI_TEST_PG/$TEST_PGDB" >"$2"
	fi
}
# db2_sql SQL: run SQL on the second daemon's database (it is stopped).
db2_sql() {
	if [ -z "${TEST_PGDB:-}" ]; then
		sqlite3 "$TMP/data2/metapi.db" "$1 PRAGMA wal_checkpoint(TRUNCATE);"
	else
		pg_sql "$METAPI_TEST_PG" "$TEST_PGDB2" "$1"
	fi
}

SECRETS="$TMP/secrets"		# NAME VALUE per line: everything to sweep for
SWEEP="$TMP/sweep"		# every output that must hold no secret
ALLOW="$TMP/allow"		# outputs that exist to show one secret
mkdir -p "$SWEEP" "$ALLOW"
: >"$SECRETS"
: >"$TMP/cmds"

rnd() {
	od -An -N8 -tx1 /dev/urandom | tr -d ' \n'
}
# canary VAR KIND: a fresh canary in $VAR, recorded for the sweep.
canary() {
	eval "$1=CANARY_$2_$(rnd)"
	eval "printf '%s %s\n' $1 \"\$$1\"" >>"$SECRETS"
}
# secret NAME VALUE: a secret metapi got from elsewhere (a session, a
# minted token), swept for too.
secret() {
	[ ${#2} -ge 12 ] || return 0
	grep -qF " $2" "$SECRETS" || printf '%s %s\n' "$1" "$2" >>"$SECRETS"
}
# c CMD...: run metapi and keep stdout and stderr for the sweep. The
# command line is noted apart: what the user types is not an output.
N=0
keep() {
	N=$((N + 1))
	cp "$OUT" "$1/$N.out"
	cp "$ERR" "$1/$N.err"
	printf '%s %s\n' "$N" "$2" >>"$TMP/cmds"
}
c() {
	run "$@"
	keep "$SWEEP" "$*"
}
c_in() {
	run_in "$@"
	shift
	keep "$SWEEP" "$*"
}
# cj CMD...: the human and the --json form.
cj() {
	c "$@"
	c --json "$@"
}
# allowed CMD...: a command whose job is to print a secret.
allowed() {
	run "$@"
	keep "$ALLOW" "$*"
}

# Passwords (PW on New API, S2PW on Sub2API), upstream keys (TOK1-4 the
# New API tokens of alice, bob and carol, S2TOK on Sub2API, APIKEY on the
# plain OpenAI endpoint), proxies, notification secrets, passphrases, and
# wrong ones typed by mistake (BAD*).
for v in PW BADPW S2PW ACCESS COOKIE APIKEY BADAPIKEY HDR \
    PROXY1 PROXY2 PROXY3 PROXY4 PROXY5 PROXY6 PROXY7 \
    TOK1 TOK2 TOK3 TOK4 S2TOK BADKEY \
    WEBHOOK WEBHOOK2 BARK SCKEY TG TG2 SMTP PHRASE BADPHRASE; do
	canary "$v" "$(echo "$v" | tr 'A-Z' 'a-z')"
done

# --- the fake relays: every credential they accept is a canary -----------
fake_start new-api
A=$FAKE_URL
curl -s -X POST "$A/__fake/state" -d "{
    \"patch_users\":[{\"username\":\"alice\",\"password\":\"$PW\"},
	{\"username\":\"bob\",\"access_token\":\"$ACCESS\"},
	{\"username\":\"carol\",\"quota\":1000000}],
    \"patch_tokens\":[{\"id\":1,\"key\":\"$TOK1\"},{\"id\":2,\"key\":\"$TOK2\"},
	{\"id\":3,\"key\":\"$TOK3\"},{\"id\":4,\"key\":\"$TOK4\"}]}" >/dev/null
expect "alice's password planted" \
    "$(curl -s "$A/__fake/state?pointer=/users/alice/password")" "$PW"
fake_start openai
O=$FAKE_URL
curl -s -X POST "$O/__fake/state" \
    -d "{\"patch_tokens\":[{\"id\":1,\"key\":\"$APIKEY\"}]}" >/dev/null
fake_start sub2api
S=$FAKE_URL
curl -s -X POST "$S/__fake/state" -d "{
    \"patch_users\":[{\"username\":\"alice\",\"password\":\"$S2PW\"}],
    \"patch_tokens\":[{\"id\":1,\"key\":\"$S2TOK\"}]}" >/dev/null
# carol's session cookie, and a canary riding along in the same header.
SESSION=$(curl -s -D - -o /dev/null -X POST "$A/api/user/login" \
    -d '{"username":"carol","password":"pass-123"}' |
    sed -n 's/^Set-Cookie: session=\([^;]*\);.*/\1/p')
secret SESSION "$SESSION"

# --- the notification receiver -------------------------------------------
SINK="$TMP/sink"
mkdir -p "$SINK"
"$BUILDDIR/tests/tools/sink" --dir "$SINK" --port-file "$TMP/hp" \
    --smtp-port-file "$TMP/sp" \
    --route "/fail500/=500:{\"error\":\"bad token $WEBHOOK2\"}" \
    --route "/$BARK/=200:{\"code\":200,\"message\":\"success\"}" \
    --route '/fail/=200:{"ok":false,"description":"Bad Request: chat not found"}' \
    2>"$TMP/sink.log" &
echo $! >>"$TMP/pids"
i=0
while { [ ! -s "$TMP/hp" ] || [ ! -s "$TMP/sp" ]; } && [ $i -lt 200 ]; do
	sleep 0.02
	i=$((i + 1))
done
H="http://127.0.0.1:$(cat "$TMP/hp")"
SP=$(cat "$TMP/sp")

# --- a foreground daemon at debug level, its stderr kept -------------------
"$METAPI" daemon --log-level debug >"$SWEEP/daemon.out" \
    2>"$SWEEP/daemon.err" &
echo $! >>"$TMP/pids"
wait_up || fail "daemon did not come up"
BASE="http://$(listen_addr)"

# --- sites and accounts, one of each credential kind ---------------------
c site add a "$A" --header "X-Canary: $HDR"
expect "site with a header" "$RC" 0
c site add o "$O" --platform openai
c site add s "$S" --platform sub2api
c site add p "$A" --platform new-api
c site add q "$A" --platform new-api --proxy "http://pu:$PROXY1@127.0.0.1:9"
expect "site behind a proxy" "$RC" 0
c site add dead http://127.0.0.1:9 --platform new-api
c_in "$PW" account add a --username alice --password - --label pw
expect "password account" "$RC" 0
c_in "$ACCESS" account add a --access-token - --user-id 2 --label at
expect "access-token account" "$RC" 0
c_in "session=$SESSION; cf_clearance=$COOKIE" account add a --cookie - \
    --user-id 3 --label ck
expect "cookie account" "$RC" 0
c_in "$APIKEY" account add o --api-key - --label key
expect "api-key account" "$RC" 0
c_in "$S2PW" account add s --username alice@example.com --password - \
    --label s2
expect "sub2api account" "$RC" 0
c_in "$PW" account add p --username alice --password - --label proxied
expect "account on the site that gets a proxy" "$RC" 0
c site edit p --proxy "socks5://pu:$PROXY2@127.0.0.1:9"
expect "proxy set afterwards" "$RC" 0

# Error paths: wrong credentials, an unreachable site, a dead proxy.
c_in "$BADPW" account add a --username alice --password -
expect "wrong password refused" "$RC" 1
c_in "$BADAPIKEY" account add o --api-key -
expect "wrong key refused" "$RC" 1
c_in "$PW" account add dead --username alice --password -
expect "unreachable site refused" "$RC" 1
c_in "$PW" account add q --username alice --password -
expect "dead proxy refused" "$RC" 1
c account add a --username alice --password "$BADPW" --label argv
expect "wrong password on the command line refused" "$RC" 1

# --- the account life -----------------------------------------------------
for id in 1 2 3 4 5 6; do
	c account refresh "$id"
done
c account login 1
expect "login again" "$RC" 0
c account login 6
expect "login through a dead proxy fails" "$RC" 1
c token sync
c token create 1 --name canary-made
expect "token created" "$RC" 0
c checkin run
c checkin run 2
curl -s -X POST "$A/__fake/fault" \
    -d '{"path":"/api/user/checkin","status":500,"times":-1}' >/dev/null
curl -s -X POST "$A/__fake/clock" -d '{"advance_days":1}' >/dev/null
c checkin run 1
curl -s -X DELETE "$A/__fake/faults" >/dev/null
cj balance
cj token list
cj model list
cj account list
# Where a secret is named, at most its last four characters show.
expect_match "account list shows the key's mask" "$(cat "$OUT")" \
    "\"…${APIKEY#${APIKEY%????}}\""
c account show 1
c --json account show 3
cj site list
c site show a
expect_match "site show masks the header" "$(cat "$OUT")" \
    "X-Canary: …${HDR#${HDR%????}}"
c --json site show p
c site show q
cj route list
c route explain gpt-4o-mini
c --json route explain gpt-4o-mini

# --- downstream keys: shown by add, rotate, reveal and connect only --------
allowed key add main
DKEY=$(cat "$OUT")
secret DKEY "$DKEY"
allowed --json key add spare
DKEY2=$(jget "$OUT" key)
secret DKEY2 "$DKEY2"
allowed key rotate 2
DKEY3=$(cat "$OUT")
secret DKEY3 "$DKEY3"
expect_match "a rotated key" "$DKEY3" '^sk-'
allowed key reveal 1
expect "reveal shows it" "$(cat "$OUT")" "$DKEY"
allowed connect openai-sdk --key 1
cj key list
expect_match "key list shows the mask" "$(cat "$OUT")" "sk-…${DKEY#${DKEY%????}}"
c key show 1
c --json key show 2

# --- requests through /v1 -------------------------------------------------
# req NAME KEY PATH BODY [CURL-ARGS...]: the reply's headers and body go
# to $RDIR, the sweep unless said otherwise; $CODE is its status.
RDIR=$SWEEP
req() {
	n=$1 k=$2 p=$3 b=$4
	shift 4
	CODE=$(curl -sN -D "$RDIR/http-$n.head" -o "$RDIR/http-$n.body" \
	    -w '%{http_code}' -H "Authorization: Bearer $k" \
	    -H 'Content-Type: application/json' "$@" -d "$b" "$BASE$p")
}
HELLO='"messages":[{"role":"user","content":"hello canary"}]'
CHAT="{\"model\":\"gpt-4o-mini\",$HELLO}"
req chat "$DKEY" /v1/chat/completions "$CHAT"
expect "chat" "$CODE" 200
req stream "$DKEY" /v1/chat/completions \
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
expect "stream" "$CODE" 200
req messages "$DKEY" /v1/messages \
    "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":20,$HELLO}"
expect "messages" "$CODE" 200
req responses "$DKEY3" /v1/responses \
    '{"model":"gpt-4o","input":"hello canary","stream":true}'
expect "responses with the rotated key" "$CODE" 200
CODE=$(curl -s -o "$SWEEP/http-models.body" -w '%{http_code}' \
    -H "Authorization: Bearer $DKEY" "$BASE/v1/models")
expect "models" "$CODE" 200
req badkey "$BADKEY" /v1/chat/completions "$CHAT"
expect "bad key" "$CODE" 401
CODE=$(curl -s -o "$SWEEP/http-badkey2.body" -w '%{http_code}' \
    -H "x-api-key: $BADKEY" -H 'anthropic-version: 2023-06-01' \
    -d "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":5,$HELLO}" \
    "$BASE/v1/messages")
expect "bad x-api-key" "$CODE" 401
req oldkey "$DKEY2" /v1/chat/completions "$CHAT"
expect "the key rotated away" "$CODE" 401
# Upstream failures: one site failing over, every site rejecting the key,
# an error event mid-stream, a stream cut.
for u in "$A" "$O" "$S"; do
	curl -s -X POST "$u/__fake/fault" \
	    -d '{"path":"/v1/chat/completions","status":500,"times":2}' >/dev/null
done
req failover "$DKEY" /v1/chat/completions "$CHAT"
for u in "$A" "$O" "$S"; do
	curl -s -X DELETE "$u/__fake/faults" >/dev/null
	curl -s -X POST "$u/__fake/fault" \
	    -d '{"path":"/v1/*","kind":"invalid_key","times":-1}' >/dev/null
done
req allfail "$DKEY" /v1/chat/completions "$CHAT"
expect_match "every channel failing: an error" "$CODE" '^[45]'
req allfail-stream "$DKEY" /v1/chat/completions \
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
for u in "$A" "$O" "$S"; do
	curl -s -X DELETE "$u/__fake/faults" >/dev/null
	curl -s -X POST "$u/__fake/fault" \
	    -d '{"path":"/v1/chat/completions","kind":"error_event","times":1}' \
	    >/dev/null
done
req errevent "$DKEY" /v1/chat/completions \
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
for u in "$A" "$O" "$S"; do
	curl -s -X DELETE "$u/__fake/faults" >/dev/null
	curl -s -X POST "$u/__fake/fault" \
	    -d '{"path":"/v1/chat/completions","kind":"reset","times":1}' \
	    >/dev/null
done
req reset "$DKEY" /v1/chat/completions \
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
for u in "$A" "$O" "$S"; do
	curl -s -X DELETE "$u/__fake/faults" >/dev/null
done
# An upstream that echoes the key it was sent in its error (LiteLLM's
# echo_key). The client gets the upstream's own error body with that key
# cut out, and what metapi keeps of the failure (log rows, events, its
# log) must not hold the key either. Every key the sites hold
# echoes, and the site behind the dead proxy is set aside, so that the
# last attempt, whose body the client gets, is an echo.
ok "the proxied site aside" site disable p
for k in $(for u in "$A" "$O" "$S"; do curl -s "$u/__fake/state" |
    grep -oE '"key":"[^"]*"' | sed 's/^"key":"//; s/"$//'; done); do
	for u in "$A" "$O" "$S"; do
		curl -s -X POST "$u/__fake/fault" -d "{\"path\":\"/v1/*\",
		    \"key\":\"$k\",\"status\":401,\"times\":-1,\"body\":
		    \"{\\\"error\\\":{\\\"message\\\":\\\"invalid api key sk-$k\\\"}}\"}" \
		    >/dev/null
	done
done
RDIR="$SWEEP/echo"	# swept too: the key must be gone
mkdir -p "$RDIR"
req echokey "$DKEY" /v1/chat/completions "$CHAT"
expect_match "every key rejected: an error" "$CODE" '^[45]'
req echokey-stream "$DKEY" /v1/chat/completions \
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
# metapi cuts the key it sent out of the body the client gets.
for f in "$RDIR"/*.body; do
	expect_match "the upstream's echo relayed, the key cut out" \
	    "$(cat "$f")" 'invalid api key (sk-)?\[redacted\]'
done
for u in "$A" "$O" "$S"; do
	curl -s -X DELETE "$u/__fake/faults" >/dev/null
done
# The same echo inside a stream that has begun: an in-band error event
# (chat's {"error"}, Messages' and Responses' "event: error") with the
# key in its words. The event is relayed with the key cut out, and the
# error metapi logs for the request leaves it out too.
for k in $(for u in "$A" "$O" "$S"; do curl -s "$u/__fake/state" |
    grep -oE '"key":"[^"]*"' | sed 's/^"key":"//; s/"$//'; done); do
	for u in "$A" "$O" "$S"; do
		curl -s -X POST "$u/__fake/fault" -d "{\"path\":\"/v1/*\",
		    \"key\":\"$k\",\"kind\":\"error_event\",\"times\":-1,
		    \"message\":\"invalid api key sk-$k\"}" >/dev/null
	done
done
req echoevent-chat "$DKEY" /v1/chat/completions \
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,$HELLO}"
req echoevent-messages "$DKEY" /v1/messages \
    "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":20,\"stream\":true,$HELLO}"
req echoevent-responses "$DKEY3" /v1/responses \
    '{"model":"gpt-4o","input":"hello canary","stream":true}'
for n in chat messages responses; do
	expect_match "$n: the stream's error event relayed, the key cut out" \
	    "$(cat "$RDIR/http-echoevent-$n.body")" 'invalid api key (sk-)?\[redacted\]'
done
RDIR=$SWEEP
for u in "$A" "$O" "$S"; do
	curl -s -X DELETE "$u/__fake/faults" >/dev/null
done
ok "the proxied site back" site enable p
"$METAPI" --json route explain gpt-4o-mini >"$TMP/route.json" 2>/dev/null
for ch in $(grep -o '"channel_id": *[0-9]*' "$TMP/route.json" |
    grep -o '[0-9]*$'); do
	"$METAPI" channel cooldown-clear "$ch" >/dev/null 2>&1
done
req after "$DKEY" /v1/chat/completions "$CHAT"
expect "served again" "$CODE" 200

# --- notifications, the failing ones too ----------------------------------
c notify add webhook "$H/hook/$WEBHOOK"
expect "webhook" "$RC" 0
c notify add webhook "$H/fail500/$WEBHOOK2"
c notify add bark "$H/$BARK/"
c notify add serverchan "$SCKEY" --api-base "$H"
c_in "123456789:$TG" notify add telegram - -100123 --api-base "$H"
expect "telegram" "$RC" 0
c notify add telegram "987654321:$TG2" 5 --api-base "$H/fail"
c_in "$SMTP" notify add smtp --host 127.0.0.1 --port "$SP" \
    --from a@metapi.example --to ops@example.com --user ops --password - \
    --tls none
expect "smtp" "$RC" 0
c_in "$SMTP" notify add smtp --host 127.0.0.1 --port 9 \
    --from a@metapi.example --to ops@example.com --user ops --password - \
    --tls none
cj notify test
expect "some test sends fail" "$RC" 1
c notify test 2
cj notify list
c notify send "canary alert" "body" --level error
# An account that expires and a check-in that fails alert the channels.
curl -s -X POST "$A/__fake/fault" \
    -d '{"path":"/api/user/*","status":401,"times":-1}' >/dev/null
c account refresh 2
expect "refresh of a rejected account fails" "$RC" 1
curl -s -X DELETE "$A/__fake/faults" >/dev/null
sleep 1

# --- reading it all back ---------------------------------------------------
cj logs --limit 100
cj stats
cj events --limit 200
cj checkin log
cj job list
cj settings list
cj status
for q in CANARY alice "$A" pu 127.0.0.1 gpt error; do
	cj search "$q"
done
c doctor --timeout 2
c --json doctor --timeout 2
# A system-wide proxy with a password: every site without its own goes
# through it (here: nowhere, so they fail).
c settings set system_proxy_url "http://sp:$PROXY3@127.0.0.1:9"
expect "system proxy set" "$RC" 0
cj settings get system_proxy_url
c account refresh 4
expect "refresh through a dead system proxy fails" "$RC" 1
c --json doctor --timeout 2

# --- backups -----------------------------------------------------------------
printf '%s\n' "$PHRASE" >"$TMP/phrase"
printf '%s\n' "$BADPHRASE" >"$TMP/badphrase"
BK="$SWEEP/backup.json"
c backup export "$BK" --passphrase-file "$TMP/phrase"
expect "export" "$RC" 0
c --json backup import "$BK" --passphrase-file "$TMP/phrase" --dry-run
expect "import dry run" "$RC" 0
c backup import "$BK" --passphrase-file "$TMP/badphrase"
expect "wrong passphrase refused" "$RC" 1
c_in "$PHRASE" backup export "$SWEEP/backup2.json" --passphrase -
expect "export with the passphrase on stdin" "$RC" 0

# --- what metapi got from the sites is secret too --------------------------
# Every credential it sent (Authorization, x-api-key, Cookie, login and
# refresh bodies) and every key and access token the sites hold now.
for u in "$A" "$O" "$S"; do
	curl -s "$u/__fake/requests" >"$TMP/fr.json"
	curl -s "$u/__fake/state" >"$TMP/fs.json"
	{
		grep -oE '"(authorization|x-api-key)":"[^"]*"' "$TMP/fr.json" |
		    sed 's/^"[^"]*":"\(Bearer \)\{0,1\}//; s/"$//'
		grep -oE '"cookie":"[^"]*"' "$TMP/fr.json" |
		    sed 's/^"cookie":"//; s/"$//' | tr ';' '\n' |
		    sed 's/^ *[^=]*=//'
		grep -oE '"(refresh_token|password)":"[^"]*"' "$TMP/fr.json" |
		    sed 's/^"[^"]*":"//; s/"$//'
		grep -oE '"(key|access_token)":"[^"]*"' "$TMP/fs.json" |
		    sed 's/^"[^"]*":"//; s/"$//'
	} | sort -u >"$TMP/got"
	while read -r v; do
		case "$v" in pass-123|*"*"*) continue ;; esac
		secret FROMSITE "$v"
	done <"$TMP/got"
done
expect_match "the site saw alice's password" "$(cat "$TMP/got" "$SECRETS")" "$PW"
curl -s "$A/__fake/requests" >"$TMP/fr.json"
expect_match "the header went upstream" "$(cat "$TMP/fr.json")" "$HDR"
expect_match "the cookie went upstream" "$(cat "$TMP/fr.json")" "$COOKIE"
expect_match "the access token went upstream" "$(cat "$TMP/fr.json")" "$ACCESS"
grep -qF "$TOK1" "$TMP/fr.json" || grep -qF "$TOK2" "$TMP/fr.json" ||
    fail "no upstream key was used"

# --- the sink: secrets only where they are addressed ------------------------
# A notification's own secret is in its URL or SMTP login; the bodies
# (what a channel is told) are swept with the rest.
for f in "$SINK"/*.json; do
	b=$(basename "$f" .json)
	jget "$f" body >"$SWEEP/sink-$b.body" 2>/dev/null
	jget "$f" data >"$SWEEP/sink-$b.data" 2>/dev/null
done
for v in "$WEBHOOK" "$BARK" "$SCKEY" "$TG" "$SMTP"; do
	grep -rqF -- "$v" "$SINK" || fail "no notification reached ${v%_*}"
done

# --- the files, live and after a restart at debug level to the log file -----
cp -r "$METAPI_DATA_DIR" "$TMP/live"
c settings set system_proxy_url ""
ok "stop" stop
wait_gone || fail "daemon did not stop"
ok "detached daemon at debug level" daemon --detach --log-level debug
BASE="http://$(listen_addr)"
c account refresh 1
c account refresh 6
req restart "$DKEY" /v1/chat/completions "$CHAT"
expect "served after the restart" "$CODE" 200
req restart-bad "$BADKEY" /v1/chat/completions "$CHAT"
c notify test
c --json doctor --timeout 2
ok "stop" stop
wait_gone || fail "daemon did not stop"
expect_match "the debug log was written" \
    "$(cat "$METAPI_DATA_DIR/metapi.log")" 'debug'
db_dump "$METAPI_DATA_DIR" "$SWEEP/db.dump"
expect_match "the dump has the request log" "$(cat "$SWEEP/db.dump")" \
    '^(INSERT INTO|COPY) (public\.)?request_logs'
expect_match "the dump has the accounts" "$(cat "$SWEEP/db.dump")" \
    '^(INSERT INTO|COPY) (public\.)?accounts'

# --- an older metapi's secrets in clear: sealed on import and at start ----
# A backup from before proxies were sealed has the password in proxy_url
# and system_proxy_url in clear.
sed -e "/\"proxy_url\": \"http:\/\/pu:…@127.0.0.1:9\",/{s|pu:…@|pu:$PROXY4@|;n;d}" \
    -e "s|\"system_proxy_url\": \"sealed:[^\"]*\"|\"system_proxy_url\": \"http://sp:$PROXY5@127.0.0.1:9\"|" \
    "$BK" >"$TMP/legacy.json"
expect_match "legacy backup made" "$(cat "$TMP/legacy.json")" "$PROXY4"
D1=$METAPI_DATA_DIR
export METAPI_DATA_DIR="$TMP/data2" METAPI_SOCKET="$TMP/run2/metapi.sock"
if [ -n "${TEST_PGDB:-}" ]; then
	D1DB=$METAPI_DB
	METAPI_DB=$(pg_createdb "$METAPI_TEST_PG" "$TEST_PGDB2") ||
	    fail "second database"
fi
ok "second daemon" daemon --detach --log-level debug
c backup import "$TMP/legacy.json" --passphrase-file "$TMP/phrase"
expect "a backup with clear proxies imports" "$RC" 0
c --json site show q
expect "its proxy is shown redacted" "$(jget "$OUT" proxy)" "http://pu:…@127.0.0.1:9"
c --json settings get system_proxy_url
expect "so is the system proxy" "$(jget "$OUT" value)" "http://sp:…@127.0.0.1:9"
ok "stop" stop
wait_gone || fail "daemon did not stop"
# A database an older metapi wrote, proxies in clear.
db2_sql "UPDATE sites SET proxy_url = 'http://pu:$PROXY6@127.0.0.1:9',
    proxy_sealed = NULL WHERE name = 'p'; UPDATE settings SET value =
    'http://sp:$PROXY7@127.0.0.1:9' WHERE key = 'system_proxy_url';" \
    >/dev/null
ok "daemon on the old database" daemon --detach --log-level debug
c --json site show p
expect "sealed at start" "$(jget "$OUT" proxy)" "http://pu:…@127.0.0.1:9"
c --json settings get system_proxy_url
expect "the setting too" "$(jget "$OUT" value)" "http://sp:…@127.0.0.1:9"
"$METAPI" --json account list --site p >"$TMP/al.json"
c account refresh "$(jget "$TMP/al.json" items.0.id)"
expect_match "the sealed proxy is used" "$(cat "$OUT")" "cannot reach"
ok "stop" stop
wait_gone || fail "daemon did not stop"
db_dump "$METAPI_DATA_DIR" "$SWEEP/db2.dump"
expect_match "the second dump has the sites" "$(cat "$SWEEP/db2.dump")" \
    '^(INSERT INTO|COPY) (public\.)?sites'
export METAPI_DATA_DIR="$D1" METAPI_SOCKET="$TMP/run/metapi.sock"
[ -n "${TEST_PGDB:-}" ] && METAPI_DB=$D1DB
# What the PostgreSQL server logged (errors, statements) is an output too.
if [ -n "${TEST_PGDB:-}" ] && [ -f "${METAPI_TEST_PGDIR:-}/server.log" ]; then
	cp "$METAPI_TEST_PGDIR/server.log" "$SWEEP/pg-server.log"
fi

# --- the sweep --------------------------------------------------------------
# Each canary is looked for whole and by the two halves of its random
# part, so a mask that shows more than the last four characters counts.
HITS="$TMP/hits"
: >"$HITS"
while read -r name value; do
	set -- -e "$value"
	case "$value" in
	*CANARY_*)
		r=${value##*_}
		set -- "$@" -e "${r%????????}" -e "${r#????????}" ;;
	esac
	grep -r -a -l -F "$@" "$SWEEP" "$METAPI_DATA_DIR" "$TMP/live" \
	    "$TMP/data2" | sed "s|^$TMP/||; s|^|$name |" >>"$HITS"
	# A notification's secret may be in its own address; nothing else may.
	case "$name" in
	WEBHOOK*|BARK|SCKEY|TG*|SMTP) ;;
	*)	grep -r -a -l -F "$@" "$SINK" |
		    sed "s|^$TMP/||; s|^|$name |" >>"$HITS" ;;
	esac
	# The allowed outputs show downstream keys and nothing else.
	case "$name" in
	DKEY*) ;;
	*)	grep -r -a -l -F "$@" "$ALLOW" |
		    sed "s|^$TMP/||; s|^|$name |" >>"$HITS" ;;
	esac
done <"$SECRETS"
# Which command wrote a hit, for the failure message.
while read -r name f; do
	n=${f##*/}
	n=${n%.*}
	cmd=$(sed -n "s/^$n //p" "$TMP/cmds" 2>/dev/null | head -n 1)
	echo "canary $name in $f${cmd:+ (metapi $cmd)}" >&2
done <"$HITS"
NS=$(wc -l <"$SECRETS")
NF=$(find "$SWEEP" "$METAPI_DATA_DIR" "$TMP/live" "$TMP/data2" "$SINK" \
    "$ALLOW" -type f | wc -l)
NB=$(find "$SWEEP" "$METAPI_DATA_DIR" "$TMP/live" "$TMP/data2" "$SINK" \
    "$ALLOW" -type f -exec cat {} + | wc -c)
echo "swept for $NS secrets in $NF files ($NB bytes): $(wc -l <"$HITS") hits"
expect "secrets swept for" "$(test "$NS" -ge 40 && echo many)" many
expect "canary hits" "$(wc -l <"$HITS" | tr -d ' ')" 0
grep -r -a -l -F -- "$DKEY" "$ALLOW" >/dev/null ||
    fail "key add output lacks its key"

test_done
