# Request logs and stats (logs, stats) on an empty database: nothing writes
# request rows until the proxy does, so this checks the shapes, the
# validation and that `logs --follow` subscribes, waits and stops cleanly.
# Rows themselves are checked by the unit suite "proxylog".
. "$SRCDIR/tests/lib/libtest.sh"
test_init logs

ok "empty list" --json logs
expect "no items" "$(jget "$OUT" items.length)" 0
expect "no next page" "$(jget "$OUT" next)" null
ok "empty table" logs
expect_match "table header" "$(cat "$OUT")" '^ID +TIME +MODEL +SERVED +SITE +STATUS'
ok "every filter" --json logs --limit 5 --model 'gpt-*' --status fail \
    --key 1 --before 10
expect "filtered: no items" "$(jget "$OUT" items.length)" 0
ok "status ok" --json logs --status ok
ok "largest page" --json logs --limit 1000

refuse "bad status" 1 "--status must be ok or fail" logs --status maybe
refuse "status failed is not a word" 1 "ok or fail" logs --status failed
refuse "limit too big" 1 "--limit must be from 1 to 1000" logs --limit 1001
refuse "limit zero" 1 "--limit must be from 1 to 1000" logs --limit 0
refuse "negative limit" 1 "--limit must be from 1 to 1000" logs --limit -3
refuse "limit not a number" 2 "not a whole number" logs --limit lots
refuse "key not a number" 2 "not a whole number" logs --key abc
refuse "bad key id" 1 "--key must be a key id" logs --key 0
refuse "empty model" 1 "--model must not be empty" logs --model ''
refuse "unknown option" 2 "" logs --colour

ok "stats" --json stats
expect "default 7 days" "$(jget "$OUT" days)" 7
expect "no requests" "$(jget "$OUT" totals.requests)" 0
expect "nothing failed" "$(jget "$OUT" totals.failed)" 0
expect "no cost" "$(jget "$OUT" totals.cost_usd)" 0.0
expect "no success rate without calls" "$(jget "$OUT" totals.success_rate)" null
expect "no median latency" "$(jget "$OUT" totals.p50_latency_ms)" null
expect "no sites" "$(jget "$OUT" sites.length)" 0
expect "no models" "$(jget "$OUT" models.length)" 0
ok "stats 30 days" --json stats --days 30
expect "30 days" "$(jget "$OUT" days)" 30
ok "stats as text" stats
expect_match "text totals" "$(cat "$OUT")" '^requests 0: ok 0, failed 0'
refuse "zero days" 1 "--days must be from 1 to" stats --days 0
refuse "too many days" 1 "--days must be from 1 to" stats --days 100000
refuse "days not a number" 2 "not a whole number" stats --days week

# --follow: header and recent rows, then waits; Ctrl-C ends it with 0.
"$METAPI" logs --follow >"$TMP/follow" 2>"$TMP/follow.err" &
pid=$!
sleep 1
kill -0 "$pid" 2>/dev/null && pass || fail "follow exited early: $(cat "$TMP/follow.err")"
kill -INT "$pid"
wait "$pid"
expect "follow exits 0 on SIGINT" "$?" 0
expect_match "follow printed the header" "$(cat "$TMP/follow")" '^ID +TIME +MODEL'
expect "follow said nothing on stderr" "$(cat "$TMP/follow.err")" ""
"$METAPI" --json logs --follow --status fail >"$TMP/follow" 2>"$TMP/follow.err" &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
expect "json follow exits 0 on SIGTERM" "$?" 0
expect "json follow: no rows yet" "$(cat "$TMP/follow")" ""
refuse "follow with a bad filter" 1 "--status must be ok or fail" \
    logs --follow --status maybe
ok "daemon fine after followers left" status

# Rows from the proxy: a request for a model no route serves is still one
# failed row. A follower sees each as it is written, once.
ok "key" key add logs-test
K=$(cat "$OUT")
ADDR=$(listen_addr)
"$METAPI" --json logs --follow --model 'nothing-*' >"$TMP/follow" \
    2>"$TMP/follow.err" &
pid=$!
sleep 0.5
for i in 1 2 3; do
	curl -s -o /dev/null -H "Authorization: Bearer $K" \
	    -H 'content-type: application/json' \
	    -d '{"model":"nothing-here","messages":[{"role":"user","content":"hi"}]}' \
	    "http://$ADDR/v1/chat/completions"
done
n=0
while [ "$(wc -l <"$TMP/follow")" -lt 3 ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
kill -INT "$pid"
wait "$pid"
expect "follower exits 0" "$?" 0
expect "follower got the three rows" "$(wc -l <"$TMP/follow" | tr -d ' ')" 3
expect_match "one JSON row per line" "$(head -n 1 "$TMP/follow")" \
    '^\{"id":1,.*"model_requested":"nothing-here".*"status":"failed"'
ok "list" --json logs
expect "three rows" "$(jget "$OUT" items.length)" 3
expect "newest first" "$(jget "$OUT" items.0.id)" 3
expect "with its key" "$(jget "$OUT" items.0.key_id)" 1
ok "page" --json logs --limit 2
expect "page of two" "$(jget "$OUT" items.length)" 2
expect "next cursor" "$(jget "$OUT" next)" 2
ok "next page" --json logs --limit 2 --before 2
expect "last row" "$(jget "$OUT" items.0.id)" 1
expect "no more" "$(jget "$OUT" next)" null
expect "status fail" "$(count_items logs --status fail)" 3
expect "status ok" "$(count_items logs --status ok)" 0
expect "by glob" "$(count_items logs --model 'nothing-*')" 3
expect "by key" "$(count_items logs --key 1)" 3
expect "other key" "$(count_items logs --key 2)" 0
ok "stats counts them" --json stats
expect "three requests" "$(jget "$OUT" totals.requests)" 3
expect "per model" "$(jget "$OUT" models.0.model)" nothing-here
ok "key usage" --json key show 1
expect "refused before any site: not counted against the key" \
    "$(jget "$OUT" used_requests)" 0

# The daemon log has one line per request, named by its row's id.
ok "newest row" --json logs --limit 1
RID=$(jget "$OUT" items.0.id)
expect_match "daemon log line per request" \
    "$(cat "$METAPI_DATA_DIR/metapi.log")" "request $RID: [^ ]+ nothing-here: failed"
expect_nomatch "no key in the log" "$(cat "$METAPI_DATA_DIR/metapi.log")" "$K"

test_done
