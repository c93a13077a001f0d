# /v1/files end to end: upload as the SDKs do (multipart), list, get,
# content byte for byte, delete; each key sees only its own files; the
# size cap leaves nothing on disk; retention through the log-cleanup job;
# and a Chat, Responses or Messages request that names a file reaches
# the fake relay with the file inline, while an unknown id is a 400.
. "$SRCDIR/tests/lib/libtest.sh"
test_init files

fake_start new-api
ok "site" site add a "$FAKE_URL"
ok "account" account add a --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
ok "other key" key add other
K2=$(cat "$OUT")
BASE="http://$(listen_addr)"
FILES="$METAPI_DATA_DIR/files"

# req KEY METHOD PATH [CURL-ARGS...]: $CODE, the body in $TMP/r.
req() {
	k=$1 m=$2 p=$3
	shift 3
	CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -X "$m" \
	    -H "Authorization: Bearer $k" "$@" "$BASE$p")
}
# upload KEY FILE-ARG [PURPOSE]: POST /v1/files as curl -F sends it.
upload() {
	req "$1" POST /v1/files -F "purpose=${3:-user_data}" -F "file=@$2"
}
# on_disk: the names under DATA_DIR/files, sorted, on one line.
on_disk() {
	ls -A "$FILES" 2>/dev/null | sort | tr '\n' ' '
}
last_body() {
	curl -s "$FAKE_URL/__fake/requests?path=$1&limit=1" >"$TMP/fake.json"
}

# Binary bytes with boundary-like lines in them must come back exactly.
head -c 200000 /dev/urandom >"$TMP/bin"
printf '\r\n--\r\n--------------------------abc\r\n' >>"$TMP/bin"
head -c 1000 /dev/urandom >>"$TMP/bin"
upload "$K" "$TMP/bin;filename=data.bin"
expect "upload: 200" "$CODE" 200
ID=$(jget "$TMP/r" id)
expect_match "upload: a file id" "$ID" '^file-[A-Za-z0-9]{24}$'
expect "upload: object" "$(jget "$TMP/r" object)" file
expect "upload: bytes" "$(jget "$TMP/r" bytes)" "$(wc -c <"$TMP/bin")"
expect "upload: filename" "$(jget "$TMP/r" filename)" data.bin
expect "upload: purpose" "$(jget "$TMP/r" purpose)" user_data
expect "upload: status" "$(jget "$TMP/r" status)" processed
expect_match "upload: expires in 7 days" \
    "$(( $(jget "$TMP/r" expires_at) - $(jget "$TMP/r" created_at) ))" '^604800$'
expect "upload: stored under its id only" "$(on_disk)" "$ID "

req "$K" GET /v1/files
expect "list: 200" "$CODE" 200
expect "list: shape" "$(jget "$TMP/r" object) $(jget "$TMP/r" data.length)" "list 1"
expect "list: the file" "$(jget "$TMP/r" data.0.id) $(jget "$TMP/r" data.0.object)" "$ID file"
req "$K" GET "/v1/files/$ID"
expect "get: 200" "$CODE" 200
expect "get: the file" "$(jget "$TMP/r" id) $(jget "$TMP/r" filename)" "$ID data.bin"
CODE=$(curl -s -D "$TMP/h" -o "$TMP/content" -w '%{http_code}' \
    -H "Authorization: Bearer $K" "$BASE/v1/files/$ID/content")
expect "content: 200" "$CODE" 200
if cmp -s "$TMP/bin" "$TMP/content"; then pass; else fail "content: bytes differ"; fi
expect_match "content: its type" "$(tr -d '\r' <"$TMP/h")" '^Content-Type: application/octet-stream$'

# Keys see their own files only; the others do not exist for them.
req "$K2" GET "/v1/files/$ID"
expect "other key: get 404" "$CODE" 404
expect "other key: OpenAI error" "$(jget "$TMP/r" error.code)" file_not_found
req "$K2" GET "/v1/files/$ID/content"
expect "other key: content 404" "$CODE" 404
req "$K2" DELETE "/v1/files/$ID"
expect "other key: delete 404" "$CODE" 404
req "$K2" GET /v1/files
expect "other key: empty list" "$(jget "$TMP/r" data.length)" 0
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' "$BASE/v1/files")
expect "no key: 401" "$CODE" 401
req "$K" GET /v1/files/file-nosuchfile
expect "unknown id: 404" "$CODE" 404
req "$K" PUT /v1/files
expect "PUT: 405" "$CODE" 405

# Bad uploads: refused, nothing left behind.
req "$K" POST /v1/files -F "file=@$TMP/bin"
expect "no purpose: 400" "$CODE" 400
req "$K" POST /v1/files -F purpose=user_data
expect "no file: 400" "$CODE" 400
req "$K" POST /v1/files -H 'Content-Type: application/json' -d '{}'
expect "not multipart: 400" "$CODE" 400
: >"$TMP/empty"
upload "$K" "$TMP/empty"
expect "empty file: 400" "$CODE" 400
ok "small cap" settings set files_max_bytes 1024
head -c 3000 /dev/urandom >"$TMP/big"
upload "$K" "$TMP/big"
expect "over files_max_bytes: 413" "$CODE" 413
expect "413: OpenAI error" "$(jget "$TMP/r" error.code)" file_too_large
head -c 2000000 /dev/urandom >"$TMP/huge"
upload "$K" "$TMP/huge"
expect "declared body over the cap: 413" "$CODE" 413
expect "refused uploads leave nothing" "$(on_disk)" "$ID "
ok "cap back" settings set files_max_bytes 33554432

# A name is only a name: never a path on disk.
printf 'hello from a file\n' >"$TMP/note.txt"
upload "$K" "$TMP/note.txt;filename=../../evil.txt;type=text/plain"
expect "sneaky name: 200" "$CODE" 200
TXT=$(jget "$TMP/r" id)
expect "sneaky name: last component" "$(jget "$TMP/r" filename)" evil.txt
expect "sneaky name: nothing outside" "$(ls "$METAPI_DATA_DIR/.." | grep -c evil)" 0
printf '\211PNG\r\n\032\n' >"$TMP/pic.png"
upload "$K" "$TMP/pic.png"
PNG=$(jget "$TMP/r" id)
req "$K" GET '/v1/files?limit=1&order=asc'
expect "list: limit and order" \
    "$(jget "$TMP/r" data.length) $(jget "$TMP/r" data.0.id) $(jget "$TMP/r" has_more)" "1 $ID true"
req "$K" GET "/v1/files?after=$ID&order=asc&limit=1"
expect "list: after" "$(jget "$TMP/r" data.0.id)" "$TXT"
req "$K" GET /v1/files
expect "list: newest first" "$(jget "$TMP/r" data.0.id) $(jget "$TMP/r" data.2.id)" "$PNG $ID"

# Inlined into the request before it is forwarded.
B64=$(base64 -w0 <"$TMP/note.txt")
post() {
	CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $1" \
	    -H 'Content-Type: application/json' -d "$3" "$BASE$2")
}
post "$K" /v1/chat/completions "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"read\"},{\"type\":\"file\",\"file\":{\"file_id\":\"$TXT\"}},{\"type\":\"file\",\"file\":{\"file_id\":\"$PNG\"}}]}]}"
expect "chat with files: 200" "$CODE" 200
last_body /v1/chat/completions
expect "chat: file_data inline" "$(jget "$TMP/fake.json" requests.0.json.messages.0.content.1.file.file_data)" \
    "data:text/plain;base64,$B64"
expect "chat: filename" "$(jget "$TMP/fake.json" requests.0.json.messages.0.content.1.file.filename)" evil.txt
expect "chat: the image as image_url" \
    "$(jget "$TMP/fake.json" requests.0.json.messages.0.content.2.image_url.url)" \
    "data:image/png;base64,$(base64 -w0 <"$TMP/pic.png")"
post "$K" /v1/responses "{\"model\":\"gpt-4o\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\",\"file_id\":\"$TXT\"}]}]}"
expect "responses with a file: 200" "$CODE" 200
last_body /v1/responses
expect "responses: file_data inline" "$(jget "$TMP/fake.json" requests.0.json.input.0.content.0.file_data)" \
    "data:text/plain;base64,$B64"
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "x-api-key: $K" \
    -H 'anthropic-version: 2023-06-01' \
    -d "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"document\",\"source\":{\"type\":\"file\",\"file_id\":\"$TXT\"}}]}]}" \
    "$BASE/v1/messages")
expect "messages with a document: 200" "$CODE" 200
last_body /v1/messages
expect "messages: a text document inline" \
    "$(jget "$TMP/fake.json" requests.0.json.messages.0.content.0.source.type) $(jget "$TMP/fake.json" requests.0.json.messages.0.content.0.source.data)" \
    "text hello from a file"

before=$(curl -s "$FAKE_URL/__fake/requests?path=/v1/chat/completions" | jget - count)
post "$K" /v1/chat/completions '{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-doesnotexist"}}]}]}'
expect "unknown file: 400" "$CODE" 400
expect "unknown file: OpenAI error" "$(jget "$TMP/r" error.code)" file_not_found
post "$K2" /v1/chat/completions "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":{\"file_id\":\"$TXT\"}}]}]}"
expect "another key's file: 400" "$CODE" 400
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "x-api-key: $K" \
    -d '{"model":"claude-3-5-sonnet-20241022","max_tokens":50,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file-doesnotexist"}}]}]}' \
    "$BASE/v1/messages")
expect "messages, unknown file: 400" "$CODE" 400
expect "messages, unknown file: Anthropic error" "$(jget "$TMP/r" type)" error
expect "nothing forwarded" "$(curl -s "$FAKE_URL/__fake/requests?path=/v1/chat/completions" | jget - count)" "$before"

# Delete: the row and the bytes.
req "$K" DELETE "/v1/files/$ID"
expect "delete: 200" "$CODE" 200
expect "delete: shape" "$(jget "$TMP/r" id) $(jget "$TMP/r" object) $(jget "$TMP/r" deleted)" "$ID file true"
req "$K" GET "/v1/files/$ID"
expect "deleted: 404" "$CODE" 404
expect_nomatch "deleted: bytes gone" "$(on_disk)" "$ID"

# Retention: an expired file is gone at once and deleted by log-cleanup.
db_sql "UPDATE files SET expires_at = 1 WHERE id = '$TXT'"
req "$K" GET "/v1/files/$TXT"
expect "expired: 404" "$CODE" 404
ok "cleanup" --json job run log-cleanup
expect "cleanup: one file" "$(jget "$OUT" files_deleted)" 1
expect "cleanup: bytes gone" "$(on_disk)" "$PNG "
upload "$K2" "$TMP/note.txt"
expect "other key uploads" "$CODE" 200
ok "other key removed" key rm 2
expect "its files went with it" \
    "$(db_sql "SELECT COUNT(*) FROM files")" 1
ok "no retention" settings set files_retention_days 0
upload "$K" "$TMP/note.txt"
expect "kept until deleted" "$(jget "$TMP/r" expires_at)" null
test_done
