# Routes and channels end to end: the route table built from discovered
# models, route explain's probabilities, channel edits, failover with
# cooldowns across three fake sites, usage-limit cooling of a credential's
# channels, manual glob routes with an alias and a model map, and bad input.
. "$SRCDIR/tests/lib/libtest.sh"
test_init routes

fake_start new-api
A=$FAKE_URL
one_token "$A"
fake_start new-api
B=$FAKE_URL
one_token "$B"
ok "site a" site add a "$A"
ok "site b" site add b "$B"
ok "account a" account add a --username alice --password pass-123
ok "account b" account add b --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
BASE="http://$(listen_addr)"
HELLO='"messages":[{"role":"user","content":"hello routes"}]'

# post MODEL: one chat request as the key; $CODE, body in $TMP/r.
post() {
	CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
	    -H 'Content-Type: application/json' \
	    -d "{\"model\":\"$1\",$HELLO}" "$BASE/v1/chat/completions")
}
hits() {
	curl -s "$1/__fake/requests?path=/v1/chat/completions" | jget - count
}
# sum of the candidates' probabilities in $OUT, rounded
prob_sum() {
	n=$(jget "$OUT" candidates.length)
	i=0 t=0
	while [ $i -lt "$n" ]; do
		t="$t + $(jget "$OUT" candidates.$i.probability)"
		i=$((i + 1))
	done
	echo "$t" | awk '{ s = 0; n = split($0, a, "+"); for (i = 1; i <= n; i++) s += a[i]; printf "%.0f\n", s }'
}
# chan SITE: the channel id of that site in route explain's $OUT
chan() {
	n=$(jget "$OUT" candidates.length)
	i=0
	while [ $i -lt "$n" ]; do
		if [ "$(jget "$OUT" candidates.$i.site)" = "$1" ]; then
			jget "$OUT" candidates.$i.channel_id
			return
		fi
		i=$((i + 1))
	done
}
# field SITE KEY: a candidate's field in route explain's $OUT
field() {
	n=$(jget "$OUT" candidates.length)
	i=0
	while [ $i -lt "$n" ]; do
		if [ "$(jget "$OUT" candidates.$i.site)" = "$1" ]; then
			jget "$OUT" candidates.$i.$2
			return
		fi
		i=$((i + 1))
	done
}

# The route table follows discovery.
ok "route list" --json route list
expect_match "routes from discovered models" "$(jget "$OUT" items.length)" '^[1-9][0-9]*$'
ok "route show by pattern" --json route show gpt-4o-mini
expect "two channels, one per account" "$(jget "$OUT" items.length)" 2
expect "exact route" "$(jget "$OUT" pattern)" gpt-4o-mini
ok "status counts routes" --json status
expect_match "routes counted" "$(jget "$OUT" counts.routes)" '^[1-9][0-9]*$'
ok "status human" status
expect_match "status line" "$(cat "$OUT")" 'routes [1-9]'

# Two equal channels on two sites: 50/50.
ok "explain" --json route explain gpt-4o-mini
expect "explain: model" "$(jget "$OUT" model)" gpt-4o-mini
expect "explain: route pattern" "$(jget "$OUT" route.pattern)" gpt-4o-mini
expect "explain: strategy" "$(jget "$OUT" strategy)" weighted
expect "explain: two candidates" "$(jget "$OUT" candidates.length)" 2
expect "explain: probabilities sum to 100" "$(prob_sum)" 100
expect_match "explain: ~50% each" "$(jget "$OUT" candidates.0.probability)" '^(4[5-9]|5[0-5])(\.[0-9]+)?$'
expect_match "explain: a selected channel" "$(jget "$OUT" selected.channel_id)" '^[0-9]+$'
expect "explain: the account by name" "$(jget "$OUT" candidates.0.account)" alice
expect "explain: the account's balance is a factor" \
    "$(jget "$OUT" candidates.0.factors.balance)" 5.0
CA=$(chan a)
CB=$(chan b)
ok "explain human" route explain gpt-4o-mini
expect_match "explain human: candidates table" "$(cat "$OUT")" 'PROB'

# A disabled channel takes no traffic.
ok "disable a's channel" channel set "$CA" --disable
ok "explain after disable" --json route explain gpt-4o-mini
expect "disabled: not eligible" "$(field a eligible)" false
expect "disabled: the other has 100%" "$(field b probability | cut -d. -f1)" 100
before=$(hits "$A")
fails=0
i=0
while [ $i -lt 6 ]; do
	post gpt-4o-mini
	[ "$CODE" = 200 ] || fails=$((fails + 1))
	i=$((i + 1))
done
expect "disabled: requests served" "$fails" 0
expect "disabled: site a got none" "$(hits "$A")" "$before"
ok "route show reflects it" --json route show gpt-4o-mini
ok "enable again" channel set "$CA" --enable --weight 10 --priority 0
ok "rebuild keeps edits" route rebuild
ok "explain after rebuild" --json route explain gpt-4o-mini
expect "edits survive a rebuild" "$(field a eligible)" true

# Three sites, one failing every time: no client errors; it ends cooled.
# 120 requests: c, new and priced from the catalog, has about a fifth of
# each draw until it is tried, so going untried is about 1e-12 (1e-6 at 60).
fake_start new-api
C=$FAKE_URL
one_token "$C"
ok "site c" site add c "$C"
ok "account c" account add c --username alice --password pass-123
ok "explain three" --json route explain gpt-4o-mini
expect "three candidates" "$(jget "$OUT" candidates.length)" 3
curl -s -X POST "$C/__fake/fault" -d '{"path":"/v1/chat/completions","status":500,"times":-1}' >/dev/null
fails=0
i=0
while [ $i -lt 120 ]; do
	post gpt-4o-mini
	[ "$CODE" = 200 ] || fails=$((fails + 1))
	i=$((i + 1))
done
expect "failing site: zero client errors in 120" "$fails" 0
expect_match "failing site was tried" "$(hits "$C")" '^[1-9]'
ok "explain after failures" --json route explain gpt-4o-mini
expect "failing site: not eligible" "$(field c eligible)" false
expect_match "failing site: cooling" "$(field c reason)" 'cool'
expect_match "failing site: cooldown remaining" "$(field c factors.cooldown_remaining_sec)" '^[1-9][0-9]*$'
expect "the others share everything" "$(prob_sum)" 100
# A restart remembers the cooldown (saved at shutdown, loaded at start).
ok "stop" stop
wait_gone
ok "explain after a restart" --json route explain gpt-4o-mini
expect "still cooling after a restart" "$(field c eligible)" false
BASE="http://$(listen_addr)"	# a new daemon, a new ephemeral port
CC=$(chan c)
curl -s -X DELETE "$C/__fake/faults" >/dev/null
ok "cooldown-clear" channel cooldown-clear "$CC"
ok "explain after clear" --json route explain gpt-4o-mini
expect "cleared: eligible again" "$(field c eligible)" true

# A usage-limit 429 cools every channel of that credential.
ok "only b" channel set "$CA" --disable
ok "only b (c)" channel set "$CC" --disable
curl -s -X POST "$B/__fake/fault" -d '{"path":"/v1/chat/completions","status":429,"times":1,"body":"{\"error\":{\"message\":\"usage_limit_reached: try again later\",\"type\":\"rate_limit\"}}"}' >/dev/null
post gpt-4o-mini
expect "usage limit: the 429 passed on (no other channel)" "$CODE" 429
ok "explain b" --json route explain gpt-4o-mini
expect "usage limit: channel cooled" "$(field b eligible)" false
expect_match "usage limit: cooling" "$(field b reason)" 'cool'
ok "explain b other model" --json route explain gpt-4o
expect "usage limit: the credential's other channels cool too" "$(field b eligible)" false
expect "other accounts untouched" "$(field a eligible)" true
curl -s -X DELETE "$B/__fake/faults" >/dev/null
# Until the provider's reset when it says (Retry-After), not 5 minutes.
ok "clear b for the reset" channel cooldown-clear "$CB"
curl -s -X POST "$B/__fake/fault" -d '{"path":"/v1/chat/completions","status":429,"times":1,"retry_after":3600,"body":"{\"error\":{\"message\":\"usage_limit_reached\",\"type\":\"rate_limit\"}}"}' >/dev/null
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
    -H 'Content-Type: application/json' -H "X-Metapi-Channel: $CB" \
    -d "{\"model\":\"gpt-4o-mini\",$HELLO}" "$BASE/v1/chat/completions")
expect "b refused with a reset time" "$CODE" 429
ok "explain after a reset time" --json route explain gpt-4o-mini
i=0
while [ $i -lt 3 ] && [ "$(jget "$OUT" candidates.$i.channel_id)" != "$CB" ]; do i=$((i + 1)); done
expect_match "cooling until the provider's reset" "$(jget "$OUT" candidates.$i.factors.cooldown_remaining_sec)" '^3[56][0-9][0-9]$'
curl -s -X DELETE "$B/__fake/faults" >/dev/null
ok "enable a" channel set "$CA" --enable
ok "enable c" channel set "$CC" --enable
ok "clear b" channel cooldown-clear "$CB"

# A manual glob route with an alias, and a model map.
ok "route add glob" --json route add 'gpt-4o*' --alias fast --strategy round_robin
expect "manual route" "$(jget "$OUT" manual)" true
expect "alias" "$(jget "$OUT" alias)" fast
expect_match "glob route has channels" "$(jget "$OUT" items.length)" '^[1-9][0-9]*$'
post fast
expect "alias served" "$CODE" 200
expect_match "alias: a gpt-4o model served" "$(jget "$TMP/r" model)" '^gpt-4o'
ok "explain alias" --json route explain fast
expect "alias matches the glob route" "$(jget "$OUT" route.pattern)" 'gpt-4o*'
expect "round robin" "$(jget "$OUT" strategy)" round_robin
ok "map" route edit 'gpt-4o*' --map fast=gpt-4o
post fast
expect "mapped: 200" "$CODE" 200
expect "mapped: the mapped model forwarded" "$(jget "$TMP/r" model)" gpt-4o
ok "exact still wins" --json route explain gpt-4o
expect "exact route before the glob" "$(jget "$OUT" route.pattern)" gpt-4o
ok "route rm" route rm 'gpt-4o*'
refuse "removed route" 1 'no route' route show 'gpt-4o*'
post fast
expect "alias gone: 404" "$CODE" 404

# X-Metapi-Channel pins one channel: only it is tried.
pin() {
	CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
	    -H 'Content-Type: application/json' -H "X-Metapi-Channel: $2" \
	    -d "{\"model\":\"$1\",$HELLO}" "$BASE/v1/chat/completions")
}
ok "explain for pins" --json route explain gpt-4o-mini
PB=$(chan b)
before=$(hits "$B")
pin gpt-4o-mini "$PB"
expect "pinned: 200" "$CODE" 200
pin gpt-4o-mini "$PB"
expect "pinned: every request to b" "$(hits "$B")" $((before + 2))
pin gpt-4o-mini 999999
expect "pinned to a channel not in the route: 503" "$CODE" 503
expect_match "pinned elsewhere: says so" "$(jget "$TMP/r" error.message)" 'channel 999999'
pin gpt-4o-mini abc
expect "pin not a number: 400" "$CODE" 400

# The log rows name the route and channel.
log_settle
ok "logs" --json logs --status ok --model gpt-4o-mini --limit 1
expect_match "log: route id" "$(jget "$OUT" items.0.route_id)" '^[1-9][0-9]*$'
expect_match "log: channel id" "$(jget "$OUT" items.0.channel_id)" '^[1-9][0-9]*$'
expect_match "log: attempt's channel id" "$(jget "$OUT" items.0.attempts.0.channel_id)" '^[1-9][0-9]*$'

# Bad input.
refuse "unknown route" 1 'no route' route show nope
refuse "unknown route rm" 1 'no route' route rm 424242
refuse "explain unknown model" 1 'no route' route explain no-such-model
refuse "bad strategy" 1 'strategy' route add 'x-*' --strategy fastest
refuse "bad strategy on edit" 1 'strategy' route edit gpt-4o-mini --strategy fastest
refuse "bad map" 1 'FROM=TO' route edit gpt-4o-mini --map nomap
refuse "bad map, empty target" 1 'FROM=TO' route edit gpt-4o-mini --map a=
refuse "duplicate route" 1 'exists' route add gpt-4o-mini
refuse "bad regex" 1 '.' route add 're:('
refuse "unknown channel" 1 'no channel' channel set 999999 --weight 5
refuse "unknown channel clear" 1 'no channel' channel cooldown-clear 999999
refuse "enable and disable" 1 'together' channel set "$CA" --enable --disable
refuse "route add without pattern" 2 '.' route add
refuse "channel set with a word" 2 '.' channel set abc

refuse "a discovered route cannot be removed" 1 "would come back" route rm gpt-4o-mini
test_done
