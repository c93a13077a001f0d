# Deleted and replaced secrets (reliability-anchors X7). Secrets are kept
# sealed, but a sealed secret that was removed or replaced must not stay
# behind either: not in the database file's free space, not in the WAL's
# old frames, not in the SHM. Secrets of every kind are planted, each
# one's stored ciphertext is read (sqlite3, read-only), then they are
# replaced and removed through the CLI: a site's header and proxy, a
# password account logged in again and removed, an access-token and an
# API-key account removed, an upstream token deleted, a downstream key
# rotated and another removed, a notification channel removed, the
# system proxy cleared, a site removed with its account. Every sealed
# value that was in the database and is no longer (and the old key's
# hash) is then looked for, byte for byte, in the database, WAL and SHM
# files: once the command has returned, with the daemon running, and
# again after it stopped.
. "$SRCDIR/tests/lib/libtest.sh"
test_init forget

if [ -n "${TEST_PGDB:-}" ]; then
	echo "forget: the database is on PostgreSQL, which keeps dead rows" \
	    "until VACUUM and has no secure_delete; this reads SQLite's" \
	    "files; skipped" >&2
	test_done
	exit 0
fi
DB="$METAPI_DATA_DIR/metapi.db"

# ro SQL: a read-only look at the live database (the daemon holds it).
ro() {
	sqlite3 -readonly "$DB" "$1"
}

# sealed: every sealed value stored now, as hex, one a line: each
# *_sealed column of each table, the sealed settings, the keys' hashes.
sealed() {
	ro "SELECT m.name || ' ' || p.name FROM sqlite_master m,
	    pragma_table_info(m.name) p WHERE m.type = 'table' AND
	    p.name LIKE '%\\_sealed' ESCAPE '\\'" |
	while read -r t col; do
		ro "SELECT hex($col) FROM $t WHERE $col IS NOT NULL AND
		    length($col) > 0"
	done
	ro "SELECT hex(value) FROM settings WHERE value LIKE 'sealed:%'"
	ro "SELECT hex(key_hash) FROM api_keys"
}

# kind NAME SQL: note one secret's sealed value (SQL selects its hex), to
# check that it was indeed replaced or removed.
kind() {
	v=$(ro "$2")
	[ -n "$v" ] || fail "no sealed value for $1"
	echo "$v $1" >>"$TMP/kinds"
}

# gone_patterns: the sealed values in $TMP/before and not in $TMP/after,
# as the od(1) byte patterns to look for: two windows of 16 bytes each
# (from the 9th byte, and the last 16), so that a value whose first bytes
# were overwritten (a freed cell's header) is still found.
gone_patterns() {
	sort -u "$TMP/before" >"$TMP/b"
	sort -u "$TMP/after" >"$TMP/a"
	comm -23 "$TMP/b" "$TMP/a" >"$TMP/gone"
	while read -r h; do
		echo "$h" | cut -c17-48
		echo "$h" | sed 's/.*\(.\{32\}\)$/\1/'
	done <"$TMP/gone" | sed 's/\(..\)/ \1/g' | tr 'A-F' 'a-f' |
	    sort -u >"$TMP/patterns"
}

# count_remnants WHEN [PATTERNS]: how many times the patterns are found
# in the database's files, each file's bytes as one line of " xx" so that
# a match is byte-aligned.
count_remnants() {
	hits=0
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		[ -f "$f" ] || continue
		od -An -v -tx1 "$f" | tr -d '\n' >"$TMP/dump"
		n=$(grep -o -F -f "${2:-$TMP/patterns}" "$TMP/dump" | wc -l)
		[ "$n" -gt 0 ] && echo "forget: $1: $n remnants in" \
		    "${f##*/} ($(wc -c <"$f") bytes)" >&2
		hits=$((hits + n))
	done
	echo "$hits"
}

# remnants WHEN [PATTERNS]: none may be left once the daemon had time to
# checkpoint (it does so in the second after a change); how long it
# took in $WAITED.
remnants() {
	i=0
	while [ "$(count_remnants "$1" "$2" 2>/dev/null)" -gt 0 ] &&
	    [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	WAITED="$((i / 10)).$((i % 10)) s"
	expect "$1: no removed or replaced secret left in the files" \
	    "$(count_remnants "$1" "$2")" 0
}

fake_start new-api
A=$FAKE_URL
# Bob has 60 tokens more, enough rows for several pages: rows removed
# here and there, then the rest, make SQLite merge pages and put some on
# its freelist, which secure_delete=FAST does not clear.
i=10 bulk=
while [ $i -lt 70 ]; do
	bulk="$bulk{\"id\":$i,\"user_id\":2,\"name\":\"bulk-$i\"},"
	i=$((i + 1))
done
curl -s -X POST "$A/__fake/state" -d "{\"patch_users\":[{\"username\":
    \"bob\",\"access_token\":\"access-bob-1\"}],
    \"patch_tokens\":[${bulk%,}]}" >/dev/null
fake_start openai
O=$FAKE_URL
APIKEY=sk-forget-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
curl -s -X POST "$O/__fake/state" \
    -d "{\"patch_tokens\":[{\"id\":1,\"key\":\"$APIKEY\"}]}" >/dev/null
ok "daemon" daemon --detach

# --- the secrets -------------------------------------------------------------
ok "site with a header and a proxy" site add a "$A" --platform new-api \
    --header "X-Secret: header-one" --proxy "http://pu:proxy-one@127.0.0.1:9"
kind "site proxy" "SELECT hex(proxy_sealed) FROM sites WHERE name = 'a'"
sealed >"$TMP/before"
ok "proxy gone, so that the site is reached" site edit a --proxy none
ok "site b" site add b "$A" --platform new-api --header "X-B: header-b"
ok "site o" site add o "$O" --platform openai
run_in "pass-123" account add a --username alice --password - --label pw
expect "password account" "$RC" 0
run_in "access-bob-1" account add a --access-token - --user-id 2 --label at
expect "access-token account" "$RC" 0
run_in "pass-123" account add b --username alice --password - --label onb
expect "account on the site to be removed" "$RC" 0
run_in "$APIKEY" account add o --api-key - --label key
expect "api-key account" "$RC" 0
ok "a token made" token create 1 --name forget-me
ok "key main" key add main
ok "key spare" key add spare
ok "key held" key add held
ok "webhook" notify add webhook "http://127.0.0.1:9/hook/webhook-secret-1"
ok "telegram" notify add telegram "123456789:AAtg-secret-one-1234567890" -100 \
    --api-base http://127.0.0.1:9
ok "system proxy" settings set system_proxy_url \
    "http://sp:system-proxy-1@127.0.0.1:9"
expect "bob's tokens" "$(ro "SELECT count(*) FROM upstream_tokens WHERE
    account_id = 2")" 61
sealed >>"$TMP/before"
kind "site header" "SELECT hex(headers_sealed) FROM sites WHERE name = 'a'"
kind "system proxy" "SELECT hex(value) FROM settings WHERE
    key = 'system_proxy_url'"
kind "session" "SELECT hex(session_sealed) FROM accounts WHERE id = 1"
kind "token made" "SELECT hex(token_sealed) FROM upstream_tokens WHERE
    name = 'forget-me'"
kind "token synced away" "SELECT hex(token_sealed) FROM upstream_tokens
    WHERE name = 'bulk-10'"
kind "rotated key" "SELECT hex(key_sealed) FROM api_keys WHERE id = 1"
kind "rotated key's hash" "SELECT hex(key_hash) FROM api_keys WHERE id = 1"
kind "removed key" "SELECT hex(key_sealed) FROM api_keys WHERE id = 2"
kind "key removed under a reader" "SELECT hex(key_sealed) FROM api_keys
    WHERE id = 3"
kind "webhook" "SELECT hex(secret_sealed) FROM notify_channels WHERE id = 1"
kind "telegram" "SELECT hex(secret_sealed) FROM notify_channels WHERE id = 2"
kind "access token" "SELECT hex(credential_sealed) FROM accounts WHERE
    id = 2"
kind "api key" "SELECT hex(credential_sealed) FROM accounts WHERE id = 4"
kind "password on a removed site" "SELECT hex(credential_sealed) FROM
    accounts WHERE id = 3"
kind "removed site's header" "SELECT hex(headers_sealed) FROM sites WHERE
    name = 'b'"
expect "secrets planted" "$(test "$(wc -l <"$TMP/before")" -ge 70 && echo yes)" yes

# --- replaced and removed --------------------------------------------------
ok "header replaced" site edit a --header "X-Secret: header-two"
ok "system proxy cleared" settings set system_proxy_url ""
ok "log in again: a new session" account login 1
TOK=$("$METAPI" --json token list --account 1 |
    awk '/"id"/ { id = $2 } /"name": "forget-me"/ { print id }' | tr -d ,)
ok "token removed" token rm "$TOK"
# Every other of bob's tokens deleted on the site, then synced away.
i=10
while [ $i -lt 70 ]; do
	curl -s -X DELETE -H "Authorization: Bearer access-bob-1" \
	    -H "New-Api-User: 2" "$A/api/token/$i" >/dev/null
	i=$((i + 2))
done
ok "bob's tokens synced" token sync 2
expect "half of bob's tokens left" "$(ro "SELECT count(*) FROM
    upstream_tokens WHERE account_id = 2")" 31
ok "key rotated" key rotate 1
ok "key removed" key rm 2
ok "webhook removed" notify rm 1
ok "telegram removed" notify rm 2
ok "access-token account removed" account rm 2
ok "api-key account removed" account rm 4
ok "site b removed with its account" site rm b

# A reader in a transaction (a sqlite3 shell here) holds the checkpoint
# back: the removed key stays in the file while it reads, and is gone
# within a second or two once it is done, as the daemon tries again
# each second.
mkfifo "$TMP/reader"
sqlite3 -readonly "$DB" <"$TMP/reader" >"$TMP/reader.out" 2>&1 &
echo $! >>"$TMP/pids"
exec 3>"$TMP/reader"
echo "BEGIN; SELECT count(*) FROM api_keys;" >&3
i=0
while [ ! -s "$TMP/reader.out" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
expect "a reader in a transaction" "$(cat "$TMP/reader.out")" 2
ok "key removed while it reads" key rm 3
grep "key removed under a reader" "$TMP/kinds" | cut -d' ' -f1 |
    cut -c17-48 | sed 's/\(..\)/ \1/g' | tr 'A-F' 'a-f' >"$TMP/held"
sleep 1.5
expect "the key still in the files while the reader holds on" \
    "$(test "$(count_remnants held "$TMP/held" 2>/dev/null)" -gt 0 &&
    echo yes)" yes
echo "COMMIT;" >&3
exec 3>&-
wait $!
remnants "after the reader" "$TMP/held"
echo "forget: the key gone $WAITED after the reader"

sealed >"$TMP/after"
while read -r v name; do
	grep -qx "$v" "$TMP/after" && echo "$name: still stored"
	grep -qx "$v" "$TMP/before" || echo "$name: not among the sealed"
done <"$TMP/kinds" >"$TMP/kinds.bad"
expect "every kind replaced or removed" "$(cat "$TMP/kinds.bad")" ""
gone_patterns
echo "forget: $(wc -l <"$TMP/gone") sealed values gone of" \
    "$(wc -l <"$TMP/b"); $(wc -l <"$TMP/a") stored now"
expect "secrets gone" "$(test "$(wc -l <"$TMP/gone")" -ge 70 && echo yes)" yes

remnants "running"
echo "forget: checkpointed within $WAITED"
ok "stop" stop
wait_gone || fail "daemon did not stop"
remnants "stopped"
# The last connection to close checkpoints and removes the WAL and SHM.
expect "no WAL or SHM after a stop" "$(ls "$DB-wal" "$DB-shm" 2>/dev/null)" ""

test_done
