# Global search (metapi search): sites, accounts, keys, models, routes and
# request logs by part of a name, without regard to case; % and _ taken
# literally; exact before prefix before substring; a key's secret never
# matched nor shown; logs found by model after a proxied request; the
# --json shape; --kind and --limit; no match is exit 1, as grep has it.
. "$SRCDIR/tests/lib/libtest.sh"
test_init search

fake_start new-api
A=$FAKE_URL
ok "site" site add Alpha-Relay "$A"
ok "account" account add Alpha-Relay --username alice --password pass-123 \
    --label 'Main Account'
ok "key" key add ci-runner
K=$(cat "$OUT")
# Sites no one listens on, for the literal % and _.
ok "site a_b" site add a_b http://127.0.0.1:9 --platform openai
ok "site axb" site add axb http://127.0.0.1:9 --platform openai
ok "site 50%off" site add 50%off http://127.0.0.1:9 --platform openai
ok "site 500off" site add 500off http://127.0.0.1:9 --platform openai
ok "site alpha" site add alpha http://127.0.0.1:9 --platform openai

# Sites: part of a name, any case; the --json shape.
ok "by part of a name" --json search ALPHA-rel
expect "the site and its account" "$(jget "$OUT" items.length)" 2
expect "grouped: the account after" "$(jget "$OUT" items.1.id)" account:1
expect "its id names the kind" "$(jget "$OUT" items.0.id)" site:1
expect "kind" "$(jget "$OUT" items.0.kind)" site
expect "ref" "$(jget "$OUT" items.0.ref)" 1
expect "title" "$(jget "$OUT" items.0.title)" Alpha-Relay
expect "matched on the name" "$(jget "$OUT" items.0.match)" name
expect "as a prefix" "$(jget "$OUT" items.0.rank)" prefix
expect "no cursor" "$(jget "$OUT" next)" null
expect "the query echoed" "$(jget "$OUT" query)" ALPHA-rel
ok "by URL" --json search --kind site "${A#http://}"
expect "URL match" "$(jget "$OUT" items.0.match)" url

# Rank: exact, then prefix, then substring.
ok "ranked" --json search --kind site alpha
expect "exact first" "$(jget "$OUT" items.0.title)" alpha
expect "exact rank" "$(jget "$OUT" items.0.rank)" exact
expect "prefix next" "$(jget "$OUT" items.1.title)" Alpha-Relay
ok "substring last" --json search --kind site lpha
expect "substring" "$(jget "$OUT" items.0.rank)" substring

# % and _ are plain characters.
ok "underscore" --json search --kind site a_b
expect "a_b only" "$(jget "$OUT" items.length)" 1
expect "not axb" "$(jget "$OUT" items.0.title)" a_b
ok "percent" --json search --kind site 50%
expect "50%off only" "$(jget "$OUT" items.length)" 1
expect "not 500off" "$(jget "$OUT" items.0.title)" 50%off
ok "a lone %" --json search --kind site,key %
expect "finds the one name with %" "$(jget "$OUT" items.length)" 1
ok "a lone _" --json search --kind site,key _
expect "finds the one name with _" "$(jget "$OUT" items.0.title)" a_b
refuse "no name has a backslash" 1 'no matches' search --kind site '\\'


# Accounts by label, login name and site; keys by name, never by secret.
ok "account by label" --json search --kind account 'main acc'
expect "account hit" "$(jget "$OUT" items.0.id)" account:1
expect "on the label" "$(jget "$OUT" items.0.match)" label
ok "account by login" --json search --kind account ALICE
expect "on the username" "$(jget "$OUT" items.0.match)" username
ok "account by site" --json search --kind account relay
expect "on the site" "$(jget "$OUT" items.0.match)" site
ok "key by name" --json search CI-RUN
expect "key hit" "$(jget "$OUT" items.0.id)" key:1
expect_nomatch "no secret in the reply" "$(cat "$OUT")" "$K"
TAIL=${K#${K%??????}}
refuse "the secret does not match" 1 "no matches" search --kind key "$K"
refuse "nor its end" 1 "no matches" search --kind key "$TAIL"
run --json search 1
expect_nomatch "a search by id shows no secret" "$(cat "$OUT")" "$TAIL"

# Models and routes from the account's models.
ok "model" --json search --kind model GPT-4O-MINI
expect "model hit" "$(jget "$OUT" items.0.id)" model:gpt-4o-mini
expect "model exact" "$(jget "$OUT" items.0.rank)" exact
ok "route" --json search --kind route 4o-mini
expect "route hit" "$(jget "$OUT" items.0.kind)" route
expect "route title" "$(jget "$OUT" items.0.title)" gpt-4o-mini

# Logs: a proxied request is found by its model, newest first.
ADDR=$(listen_addr)
for m in gpt-4o-mini nothing-here; do
	curl -s -o /dev/null -H "Authorization: Bearer $K" \
	    -H 'content-type: application/json' \
	    -d "{\"model\":\"$m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" \
	    "http://$ADDR/v1/chat/completions"
done
i=0
while [ "$(count_items logs)" != 2 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "log by model" --json search --kind log 4O-MINI
expect "one request" "$(jget "$OUT" items.length)" 1
expect "log hit" "$(jget "$OUT" items.0.id)" log:1
expect "by the model asked for" "$(jget "$OUT" items.0.match)" model_requested
ok "failed log by model" --json search --kind log nothing
expect "the failed one" "$(jget "$OUT" items.0.id)" log:2
ok "log by request id" --json search --kind log 2
expect "request 2 first" "$(jget "$OUT" items.0.id)" log:2
expect "by its id" "$(jget "$OUT" items.0.match)" id
ok "every kind at once" --json search gpt-4o-mini
expect_match "models, routes and logs" "$(cat "$OUT")" '"model:gpt-4o-mini"'
expect_match "routes too" "$(cat "$OUT")" '"kind": *"route"'
expect_match "logs too" "$(cat "$OUT")" '"log:1"'

# --limit cuts each kind and says so; bad input refused.
ok "limit" --json search --limit 1 --kind site a
expect "one site" "$(jget "$OUT" items.length)" 1
expect "more sites" "$(jget "$OUT" more.0)" site
expect_match "said on stderr" "$(cat "$ERR")" 'more matches of kind site'
refuse "limit too big" 1 "--limit must be from 1 to 100" search --limit 101 a
refuse "limit zero" 1 "--limit must be from 1 to 100" search --limit -1 a
refuse "unknown kind" 1 'unknown kind "sitez"' search --kind sitez a
refuse "empty query" 1 "must not be empty" search ''
refuse "no query" 2 "QUERY" search
long=$(printf '%0300d' 0)
refuse "long query" 1 "longer than 256" search "$long"

# Human output: grouped by kind, aligned; no match is exit 1.
ok "table" search alpha
expect_match "header" "$(head -n 1 "$OUT")" '^KIND +ID +NAME +MATCHED +DETAIL'
expect_match "a site row" "$(sed -n 2p "$OUT")" '^site +6 +alpha +name +openai'
refuse "no match: exit 1" 1 'no matches for "zzz-nothing"' search zzz-nothing
expect "no match: nothing on stdout" "$(cat "$OUT")" ""
run --json search zzz-nothing
expect "no match with --json: exit 1" "$RC" 1
expect "no match with --json: empty items" "$(jget "$OUT" items.length)" 0
ok "daemon fine" status
test_done
