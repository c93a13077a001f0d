# Channels per upstream token and group routes (issue #5): an account
# with two tokens in different groups and with different model limits
# gets a channel per (token, model) the token serves; requests go out
# with each channel's token key; the cost signal takes the token's group
# price; a token disabled, deleted here or gone from the site loses its
# channels; channel edits survive rebuilds. Then a group route: one name
# served by several models' channels, forwarded as each channel's own
# model, failing over across members.
. "$SRCDIR/tests/lib/libtest.sh"
test_init tokenroutes

fake_start new-api
A=$FAKE_URL
# Token 1 in the default group serves gpt-4o-mini and gpt-4o; token 2 in
# the vip group (ratio 0.5) serves gpt-4o only.
curl -s -X POST "$A/__fake/state" -d '{"patch_tokens":[
  {"id":1,"group":"default","model_limits_enabled":true,
   "model_limits":"gpt-4o-mini,gpt-4o","unlimited_quota":true},
  {"id":2,"group":"vip","model_limits_enabled":true,
   "model_limits":"gpt-4o","unlimited_quota":true}]}' >/dev/null
K1=$(curl -s "$A/__fake/state?pointer=/tokens/1/key")
K2=$(curl -s "$A/__fake/state?pointer=/tokens/2/key")
expect_match "token keys known" "$K1 $K2" '^[^ ]{16,} [^ ]{16,}$'

ok "site" site add a "$A"
ok "account" account add a --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
BASE="http://$(listen_addr)"
# tok NAME FIELD: a field of the token named NAME in token list's $OUT
tok() {
	n=$(jget "$OUT" items.length)
	i=0
	while [ $i -lt "$n" ]; do
		if [ "$(jget "$OUT" items.$i.name)" = "$1" ]; then
			jget "$OUT" items.$i.$2
			return
		fi
		i=$((i + 1))
	done
}
ok "tokens" --json token list
T1=$(tok default id)
T2=$(tok limited id)

# chan FILE TOKEN: the id of the route show item (or explain candidate,
# with "candidates") whose token is TOKEN.
chan() {
	n=$(jget "$OUT" "$1.length")
	i=0
	while [ $i -lt "$n" ]; do
		if [ "$(jget "$OUT" "$1.$i.token")" = "$2" ]; then
			jget "$OUT" "$1.$i.$3"
			return
		fi
		i=$((i + 1))
	done
}
post() {
	CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
	    -H 'Content-Type: application/json' \
	    -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" \
	    "$BASE/v1/chat/completions")
}
# last: the fake's last chat request, as "MODEL KEY" (without "Bearer "
# and the "sk-" metapi puts before a New API key).
last() {
	curl -s "$A/__fake/requests?path=/v1/chat/completions" >"$TMP/req"
	n=$(jget "$TMP/req" requests.length)
	echo "$(jget "$TMP/req" "requests.$((n - 1)).json.model")" \
	    "$(jget "$TMP/req" "requests.$((n - 1)).headers.authorization" |
	    sed 's/^Bearer //; s/^sk-//')"
}

# Discovery per token: gpt-4o by both tokens, gpt-4o-mini by token 1.
ok "show gpt-4o" --json route show gpt-4o
expect "gpt-4o: a channel per token" "$(jget "$OUT" items.length)" 2
C1=$(chan items default id)
C2=$(chan items limited id)
expect_match "gpt-4o: token default's channel" "$C1" '^[0-9]+$'
expect_match "gpt-4o: token limited's channel" "$C2" '^[0-9]+$'
expect "channel carries its token id" "$(chan items limited token_id)" "$T2"
ok "show gpt-4o-mini" --json route show gpt-4o-mini
expect "gpt-4o-mini: one channel" "$(jget "$OUT" items.length)" 1
expect "gpt-4o-mini: token default's" "$(jget "$OUT" items.0.token)" default
ok "show human" route show gpt-4o
expect_match "route show names the token" "$(cat "$OUT")" 'limited'

# The cost signal takes the token's group price (vip is half).
ok "explain" --json route explain gpt-4o
expect "explain: two candidates" "$(jget "$OUT" candidates.length)" 2
expect "explain: token named" "$(chan candidates limited channel_id)" "$C2"
expect "explain: catalog tier" "$(chan candidates limited factors.cost_tier)" catalog
U1=$(chan candidates default factors.unit_cost)
U2=$(chan candidates limited factors.unit_cost)
expect "vip group costs half" "$(awk -v a="$U1" -v b="$U2" 'BEGIN { printf "%.3f", b / a }')" 0.500
ok "explain human" route explain gpt-4o
expect_match "explain shows tokens" "$(cat "$OUT")" 'TOKEN'

# Each channel sends its own token's key.
ok "only token 2" channel set "$C1" --disable
post gpt-4o
expect "via token 2: served" "$CODE" 200
expect "via token 2: its key" "$(last)" "gpt-4o $K2"
ok "only token 1" channel set "$C2" --disable
ok "token 1 back" channel set "$C1" --enable --weight 7
post gpt-4o
expect "via token 1: served" "$CODE" 200
expect "via token 1: its key" "$(last)" "gpt-4o $K1"
ok "token 2 back" channel set "$C2" --enable

# Edits survive rebuilds: channels are matched by route, account, token
# and model.
ok "rebuild" route rebuild
ok "refresh" account refresh 1
ok "show after rebuild" --json route show gpt-4o
expect "same two channels" "$(jget "$OUT" items.length)" 2
expect "token 1's channel kept its id" "$(chan items default id)" "$C1"
expect "and its weight" "$(chan items default weight)" 7

# A token disabled on the site loses its channels at the next refresh,
# and gets them back when enabled.
curl -s -X POST "$A/__fake/state" -d '{"patch_tokens":[{"id":2,"status":2}]}' >/dev/null
ok "refresh (token 2 disabled)" account refresh 1
ok "show" --json route show gpt-4o
expect "disabled token: its channel gone" "$(jget "$OUT" items.length)" 1
expect "the other stays" "$(jget "$OUT" items.0.token)" default
curl -s -X POST "$A/__fake/state" -d '{"patch_tokens":[{"id":2,"status":1}]}' >/dev/null
ok "refresh (token 2 enabled)" account refresh 1
ok "show" --json route show gpt-4o
expect "enabled again: two channels" "$(jget "$OUT" items.length)" 2

# A token gone from the site: its channels go at the sync.
ok "create a token" --json token create 1 --name extra --group vip
ok "tokens" --json token list
TX=$(tok extra remote_id)
expect_match "the new token" "$TX" '^[0-9]+$'
ok "refresh (new token)" account refresh 1
ok "show" --json route show gpt-4o-mini
expect "the new token serves gpt-4o-mini too" "$(jget "$OUT" items.length)" 2
curl -s -X DELETE -H "Authorization: access-alice" -H "New-Api-User: 1" \
    "$A/api/token/$TX" >/dev/null
ok "refresh (token gone)" account refresh 1
ok "show" --json route show gpt-4o-mini
expect "gone from the site: its channel gone" "$(jget "$OUT" items.length)" 1

# token rm: deleted on the site and here, with its channels at once.
ok "token rm" token rm "$T2"
ok "show" --json route show gpt-4o
expect "removed token: its channel gone" "$(jget "$OUT" items.length)" 1
expect "token 1's remains" "$(jget "$OUT" items.0.token)" default
ok "rebuild" route rebuild
ok "show" --json route show gpt-4o
expect "still one after a rebuild" "$(jget "$OUT" items.length)" 1

# Group routes: one name, its members' channels.
curl -s -X POST "$A/__fake/state" -d '{"patch_tokens":[
  {"id":9,"user_id":1,"name":"claude","group":"default",
   "model_limits_enabled":true,"model_limits":"claude-3-5-sonnet-20241022",
   "unlimited_quota":true}]}' >/dev/null
K9=$(curl -s "$A/__fake/state?pointer=/tokens/9/key")
ok "refresh (claude token)" account refresh 1
ok "group add" --json route add fast --group gpt-4o-mini,claude-3-5-sonnet-20241022 --strategy round_robin
expect "group: kind" "$(jget "$OUT" kind)" group
expect "group: members" "$(jget "$OUT" members.1)" claude-3-5-sonnet-20241022
expect "group: its members' channels" "$(jget "$OUT" items.length)" 2
ok "route list" route list
expect_match "route list shows the members" "$(grep '^[0-9]* *fast' "$OUT")" 'gpt-4o-mini,claude'
ok "group explain" --json route explain fast
expect "explain: members" "$(jget "$OUT" route.members.0)" gpt-4o-mini
expect "explain: two candidates" "$(jget "$OUT" candidates.length)" 2
ok "group explain human" route explain fast
expect_match "explain says group" "$(cat "$OUT")" 'group of gpt-4o-mini,claude'
ok "group show human" route show fast
expect_match "show says group" "$(cat "$OUT")" 'group of'

# A request for the group is forwarded as a member's model, with that
# member's channel's key; both members serve in turn (round robin).
: >"$TMP/seen"
for i in 1 2 3 4; do
	post fast
	expect "group request $i served" "$CODE" 200
	last >>"$TMP/seen"
done
expect_match "gpt-4o-mini with token 1" "$(cat "$TMP/seen")" "gpt-4o-mini ${K1#sk-}"
expect_match "claude with the claude token" "$(cat "$TMP/seen")" "claude-3-5-sonnet-20241022 ${K9#sk-}"

# Failover across members: the claude token fails every time; requests
# for the group are all served by gpt-4o-mini.
curl -s -X POST "$A/__fake/fault" -d "{\"path\":\"/v1/chat/completions\",\"status\":500,\"times\":-1,\"key\":\"$K9\"}" >/dev/null
bad=0
for i in 1 2 3 4 5 6; do
	post fast
	[ "$CODE" = 200 ] || bad=$((bad + 1))
	case $(last) in gpt-4o-mini\ *) ;; *) bad=$((bad + 1)) ;; esac
done
expect "failover to the other member" "$bad" 0
expect_match "the claude channel was tried and failed" "$(curl -s "$A/__fake/requests?path=/v1/chat/completions" |
    grep -o '"status": *500' | wc -l | tr -d ' ')" '^[1-9]'
ok "explain after" --json route explain fast
expect "the failing member cools" "$(chan candidates claude eligible)" false
curl -s -X DELETE "$A/__fake/faults" >/dev/null

# Members follow edits and availability.
ok "group edit" --json route edit fast --group gpt-4o
expect "edit: new members" "$(jget "$OUT" members.0)" gpt-4o
ok "group show" --json route show fast
expect "edit: the new member's channels only" "$(jget "$OUT" items.length)" 1
expect "edit: forwarded model" "$(jget "$OUT" items.0.source_model)" gpt-4o
post fast
expect "edited group served" "$CODE" 200
expect_match "as gpt-4o" "$(last)" '^gpt-4o [^ ]+$'

# Bad input.
refuse "group of a pattern" 1 'pattern' route add g2 --group 'gpt-*'
refuse "group named by a pattern" 1 'pattern' route add 'g*' --group gpt-4o
refuse "empty member" 1 'empty' route add g3 --group 'gpt-4o,,x'
refuse "group of itself" 1 'own name' route add g4 --group g4,gpt-4o
refuse "group name taken" 1 'exists' route add gpt-4o --group gpt-4o-mini
refuse "--group on a plain route" 1 'not a group' route edit gpt-4o --group gpt-4o-mini
ok "group rm" route rm fast
refuse "gone" 1 'no route' route show fast

test_done
