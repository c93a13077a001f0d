# Clients that misbehave (issue #10): a slowloris crowd larger than the
# worker pool, trickling header lines, is cut off after
# http_client_timeout_sec and the server answers others meanwhile;
# pipelined garbage and a body that is not UTF-8 get clean errors; the
# daemon stays up.
. "$SRCDIR/tests/lib/libtest.sh"
test_init clients

SLOW="$BUILDDIR/tests/tools/slowhttp"
ok "short client timeout" settings set http_client_timeout_sec 2
ok "fewer workers" settings set http_threads 8
ok "stop" stop
wait_gone
ok "restart" daemon --detach
ADDR=$(listen_addr)
PORT=${ADDR##*:}

# 20 slowloris connections for 8 workers, each trickling a header line a
# second: the head timeout is for the whole head, so trickling does not
# keep them; a health check made meanwhile is answered within seconds.
"$SLOW" "$PORT" 20 7 trickle >"$TMP/slow.out" &
SPID=$!
sleep 1
T0=$(date +%s)
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$ADDR/healthz")
T1=$(date +%s)
expect "answered while slowloris held every worker" "$CODE" 200
expect_match "within two rounds of the client timeout and a little" "$((T1 - T0))" '^[0-5]$'
wait $SPID
expect_match "the server closed the slow connections" "$(tail -n 1 "$TMP/slow.out")" 'opened 20 closed (1[0-9]|20)$'

# Pipelined garbage after a good request: the good one is answered, the
# connection closed, nothing else harmed.
"$SLOW" "$PORT" 4 2 garbage >"$TMP/garbage.out"
expect_match "garbage connections closed" "$(tail -n 1 "$TMP/garbage.out")" 'opened 4 closed 4$'
ok "daemon up after garbage" status

# A body that is not UTF-8, and one that is not JSON: 400 in the
# OpenAI error shape, nothing forwarded, daemon up.
ok "key" key add c
K=$(cat "$OUT")
printf '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\377\376"}]}' >"$TMP/bad-utf8"
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
    -H 'Content-Type: application/json' --data-binary @"$TMP/bad-utf8" \
    "http://$ADDR/v1/chat/completions")
expect "invalid UTF-8: 400" "$CODE" 400
expect_match "invalid UTF-8: an error object" "$(jget "$TMP/r" error.message)" '.'
ok "daemon up at the end" status
test_done
