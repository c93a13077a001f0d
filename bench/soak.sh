#!/usr/bin/env bash
# Memory soak (issue #10): metapi's RSS over many requests and streams.
# Not part of "make check". Needs wrk (bench/run.sh installs it).
#
#   bench/soak.sh            # writes bench/SOAK.md
#
# Environment: SOAK_REQUESTS (100000), SOAK_STREAMS (1000), SOAK_OUT.
#
# The daemon (one site on the fake relay, one account, one key) is warmed
# up for 3 s, then serves SOAK_REQUESTS non-stream requests at 16
# connections in rounds of 4 s, then SOAK_STREAMS streams
# of 54 events, 10 at a time; VmRSS is read after each round. Flat
# means the last rounds are no higher than the first round after the
# warm-up by more than 10% (allocator noise) and do not keep rising.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
REQ=${SOAK_REQUESTS:-100000}
STREAMS=${SOAK_STREAMS:-1000}
OUT=${SOAK_OUT:-$SRC/bench/SOAK.md}

log() { printf '%s soak: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
command -v wrk >/dev/null 2>&1 || die "wrk is not installed (bench/run.sh installs it)"
[ -x "$SRC/metapi" ] && [ -x "$SRC/tests/fakerelay/fakerelay" ] ||
    die "build metapi and tests/fakerelay/fakerelay first"

T=$(mktemp -d "${TMPDIR:-/tmp}/metapi-soak.XXXXXX") || die "mktemp"
unset XDG_DATA_HOME XDG_RUNTIME_DIR METAPI_DB METAPI_MASTER_KEY
export HOME="$T/home" METAPI_DATA_DIR="$T/data" METAPI_SOCKET="$T/run/metapi.sock"
export METAPI_LISTEN=127.0.0.1:0
mkdir -p "$HOME"
METAPI=$SRC/metapi
FAKE_PID= METAPI_PID=
cleanup() {
	trap - EXIT INT TERM
	[ -n "$METAPI_PID" ] && { timeout 10 "$METAPI" --no-start stop >/dev/null 2>&1; kill "$METAPI_PID" 2>/dev/null; }
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$SRC/tests/fakerelay/fakerelay" --port 0 --personality new-api --threads 64 \
    --port-file "$T/fake.port" >/dev/null 2>&1 &
FAKE_PID=$!
for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
curl -sf -X POST "$FAKE_URL/__fake/state" -d '{"patch_users":[{"username":"alice","quota":900000000000000}],
    "patch_tokens":[{"id":2,"unlimited_quota":true,"remain_quota":900000000000000,"model_limits_enabled":false}]}' \
    >/dev/null || die "fake relay state"
"$METAPI" daemon >"$T/metapi.log" 2>&1 &
METAPI_PID=$!
for _ in $(seq 100); do "$METAPI" --no-start status >/dev/null 2>&1 && break; sleep 0.1; done
"$METAPI" site add s "$FAKE_URL" >/dev/null || die "site add"
"$METAPI" account add s --username alice --password pass-123 >/dev/null || die "account add"
KEY=$("$METAPI" key add soak 2>/dev/null) || die "key add"
URL="http://$("$METAPI" --json status | sed -n 's/.*"listen": *"\([^"]*\)".*/\1/p')"
[ "$URL" != "http://" ] || die "no listen address"

rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$METAPI_PID/status"; }
cat >"$T/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"soak"}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
done = function(s) io.write(string.format("RESULT requests=%d errors=%d\n",
    s.requests, s.errors.connect + s.errors.read + s.errors.write + s.errors.status + s.errors.timeout)) end
EOF
cc -O2 -o "$T/sc" "$SRC/bench/streamclient.c" -lcurl || die "streamclient"
SBODY='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"soak"}]}'

R0=$(rss)
log "warming up (RSS $R0 MB)"
wrk -t2 -c16 -d3s -s "$T/post.lua" "$URL/v1/chat/completions" >/dev/null 2>&1
ROWS="| after warm-up | - | $(rss) |"
W=$(rss)
total=0 errs=0 i=0
# Rounds of 4 s until SOAK_REQUESTS have been served (at most 60 rounds).
while [ "$total" -lt "$REQ" ] && [ "$i" -lt 60 ]; do
	i=$((i + 1))
	out=$(wrk -t2 -c16 -d4s --timeout 10s -s "$T/post.lua" \
	    "$URL/v1/chat/completions" 2>/dev/null)
	n=$(echo "$out" | sed -n 's/RESULT requests=\([0-9]*\).*/\1/p')
	e=$(echo "$out" | sed -n 's/.*errors=\([0-9]*\).*/\1/p')
	total=$((total + ${n:-0})) errs=$((errs + ${e:-0}))
	ROWS="$ROWS
| non-stream round $i | $total requests | $(rss) |"
	log "round $i: $total requests, RSS $(rss) MB"
done
S=0
for i in $(seq 10); do
	pids=
	for j in $(seq 10); do
		"$T/sc" "$URL/v1/chat/completions" "$KEY" "$SBODY" $((STREAMS / 100)) >/dev/null 2>&1 &
		pids="$pids $!"
	done
	wait $pids	# not a bare wait: the daemon and the relay are children too
	S=$((S + STREAMS / 10))
	ROWS="$ROWS
| streams round $i | $S streams | $(rss) |"
	log "streams round $i: $S, RSS $(rss) MB"
done
HWM=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$METAPI_PID/status")
LAST=$(rss)
verdict=flat
awk -v w="$W" -v l="$LAST" 'BEGIN { exit !(l > w * 1.10) }' && verdict="grew"
{
	echo "# metapi memory soak"
	echo
	echo "Produced by \`bench/soak.sh\` (SOAK_REQUESTS=$REQ SOAK_STREAMS=$STREAMS); rewritten by each run."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); metapi $(cd "$SRC" && git rev-parse --short HEAD 2>/dev/null)"
	echo "- machine: $(nproc) CPUs; one site on the fake relay, one account, one key; wrk at 16 connections for the non-stream rounds, bench/streamclient 10 at a time for the streams (54 events each)"
	echo "- requests: $total non-stream ($errs errors), $S streams"
	echo
	echo "| phase | done | VmRSS MB |"
	echo "|---|---|---|"
	echo "| right after setup | - | $R0 |"
	echo "$ROWS"
	echo
	echo "VmHWM (peak) $HWM MB. Verdict: **$verdict** (last reading $LAST MB against $W MB after the warm-up; flat means within 10%)."
} >"$OUT"
log "wrote $OUT: $verdict ($W -> $LAST MB)"
