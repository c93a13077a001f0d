#!/usr/bin/env bash
# metapi benchmark: metapi vs nginx proxy_pass vs going direct, against the
# fake relay, all on 127.0.0.1 in one run. Not part of "make check".
#
#   bench/run.sh            # writes bench/RESULTS.md
#
# Environment (all optional):
#   BENCH_DURATION=10       seconds per wrk measurement
#   BENCH_WARMUP=2          seconds of unrecorded wrk warm-up per target
#   BENCH_STREAM_N=100      streamed requests per target
#   BENCH_BIG_MB=10         size of the big streamed reply (MB of text)
#   BENCH_OUT=bench/RESULTS.md
#   BENCH_KEEP=1            keep the temp dir (logs) after the run
#   BENCH_PIN=1             pin with taskset (needs 2 or more CPUs): the
#                           proxy under test, nginx or metapi, on the last
#                           CPU, the load generator and the fake relay on
#                           the others. Off by default: on the 2-CPU VM
#                           this was tried on, pinning made every figure
#                           noisier (the direct-vs-direct noise floor of
#                           stream gaps went from ~0.1 ms to 0.1-1.5 ms)
#   BENCH_PG=0              leave out "metapi_pg", a metapi daemon storing in
#                           PostgreSQL (a private cluster, tests/lib/pg.sh);
#                           measured when metapi was built --with-postgresql
#                           and the server programs are installed
#   BENCH_DIAG_NODELAY=1    also measure a second metapi daemon run with
#                           bench/nodelay-shim.c preloaded (TCP_NODELAY on
#                           accepted sockets); a diagnostic row only, never
#                           used for the targets
#
# Everything runs in a private temp dir: its own metapi data dir, control
# socket and HTTP port, its own nginx prefix, config, pid file and logs. Every
# process started here is stopped on exit, failure included.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
STREAM_N=${BENCH_STREAM_N:-100}
BIG_MB=${BENCH_BIG_MB:-10}
DIAG=${BENCH_DIAG_NODELAY:-}
TARGETS="direct nginx metapi"
PG=
if [ "${BENCH_PG:-1}" != 0 ] &&
    grep -q '^#define HAVE_POSTGRESQL 1' "$SRC/config.h" 2>/dev/null; then
	. "$SRC/tests/lib/pg.sh"
	pg_bindir >/dev/null && PG=1
fi
[ -n "$PG" ] && TARGETS="$TARGETS metapi_pg"
[ -n "$DIAG" ] && TARGETS="$TARGETS metapi_nd"
OUT=${BENCH_OUT:-$SRC/bench/RESULTS.md}
CMDLINE="bench/run.sh${*:+ $*}"
PIN_PROXY=
PIN_LOAD=
NGINX_WORKERS=auto
if [ "${BENCH_PIN:-0}" = 1 ] && command -v taskset >/dev/null 2>&1 &&
    [ "$(nproc)" -ge 2 ]; then
	PIN_PROXY="taskset -c $(($(nproc) - 1))"
	PIN_LOAD="taskset -c 0-$(($(nproc) - 2))"
	NGINX_WORKERS=1
fi
for v in BENCH_DURATION BENCH_WARMUP BENCH_STREAM_N BENCH_BIG_MB BENCH_PIN BENCH_PG BENCH_DIAG_NODELAY; do
	eval "x=\${$v:-}"
	[ -n "$x" ] && CMDLINE="$v=$x $CMDLINE"
done

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- 1. what we need ---------------------------------------------------------
need_install=
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_install="$need_install nginx"
command -v wrk >/dev/null 2>&1 || need_install="$need_install wrk"
if [ -n "$need_install" ]; then
	log "installing:$need_install"
	# Keep the package from starting a system nginx on port 80.
	made_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt-get update -qq >/dev/null 2>&1
	pkgs=
	case $need_install in *nginx*) pkgs="nginx-light" ;; esac
	case $need_install in *wrk*) pkgs="$pkgs wrk" ;; esac
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 ||
	    { case $need_install in *nginx*)
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null 2>&1 ;; esac; }
	[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx is not installed"
command -v wrk >/dev/null 2>&1 || die "wrk is not installed"
command -v curl >/dev/null 2>&1 || die "curl is not installed"

cd "$SRC" || die "no source dir"
if [ ! -x ./metapi ] || [ ! -x tests/fakerelay/fakerelay ]; then
	log "building metapi"
	[ -f Makefile ] || { [ -x configure ] || autoreconf -fi; ./configure; } >/dev/null ||
	    die "configure failed"
	make -j2 >/dev/null || die "make failed"
	[ -x tests/fakerelay/fakerelay ] || make tests/fakerelay/fakerelay >/dev/null ||
	    die "cannot build the fake relay"
fi
METAPI=$SRC/metapi
FAKE=$SRC/tests/fakerelay/fakerelay

# --- 2. private temp dir, cleanup --------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/metapi-bench.XXXXXX") || die "mktemp"
unset XDG_DATA_HOME XDG_RUNTIME_DIR METAPI_DB METAPI_MASTER_KEY
export HOME="$T/home"
export METAPI_DATA_DIR="$T/data"
export METAPI_SOCKET="$T/run/metapi.sock"
mkdir -p "$HOME" "$T/nginx/logs" "$T/nginx/tmp"
# Run private copies: a rebuild in the work tree during the run must not
# change what is measured.
bin_info="binary $(date -u -r "$METAPI" +%Y-%m-%dT%H:%M:%SZ), sha256 $(sha256sum "$METAPI" | cut -c1-12)"
git_info="$(cd "$SRC" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$SRC" && git diff --quiet HEAD -- src daemon 2>/dev/null || echo ', src/daemon modified in the work tree')"
cp "$METAPI" "$T/metapi" && cp "$FAKE" "$T/fakerelay" || die "cannot copy the binaries"
METAPI=$T/metapi
FAKE=$T/fakerelay
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
FAKE_PID= NGINX_PID= METAPI_PID= METAPI2_PID= METAPI3_PID= SAMPLER_PID= DET_PID=

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	if [ -n "$METAPI_PID" ]; then
		timeout 10 "$METAPI" --no-start stop >/dev/null 2>&1
		kill "$METAPI_PID" 2>/dev/null
	fi
	if [ -n "$METAPI2_PID" ]; then
		METAPI_DATA_DIR="$T/data2" METAPI_SOCKET="$T/run2/metapi.sock" \
		    timeout 10 "$METAPI" --no-start stop >/dev/null 2>&1
		kill "$METAPI2_PID" 2>/dev/null
	fi
	if [ -n "$METAPI3_PID" ]; then
		METAPI_DATA_DIR="$T/data3" METAPI_SOCKET="$T/run3/metapi.sock" \
		    timeout 10 "$METAPI" --no-start stop >/dev/null 2>&1
		kill "$METAPI3_PID" 2>/dev/null
	fi
	[ -n "$PG" ] && [ -d "$T/pg" ] && pg_stop "$T/pg"
	if [ -n "$NGINX_PID" ]; then
		kill -TERM "$NGINX_PID" 2>/dev/null
	fi
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	sleep 0.5
	for p in $METAPI_PID $METAPI2_PID $METAPI3_PID $DET_PID $NGINX_PID $FAKE_PID; do
		kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$rc" -ne 0 ]; then
		log "failed (exit $rc); logs:"
		for f in "$T"/fake.log "$T"/metapi.log "$T"/metapi2.log "$T"/metapi3.log "$T"/nginx/logs/error.log; do
			[ -s "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }
		done
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port on 127.0.0.1 (nginx needs a fixed one).
free_port() {
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] &&
		    ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# --- helper tool ---------------------------------------------------------------
log "building bench/streamclient"
cc -O2 -Wall -o "$T/streamclient" "$SRC/bench/streamclient.c" -lcurl ||
    die "cannot build bench/streamclient.c (needs libcurl headers)"
SC=$T/streamclient

# --- the fake relay ----------------------------------------------------------
log "starting the fake relay"
$PIN_LOAD "$FAKE" --port 0 --personality new-api --threads 256 --keep-alive --port-file "$T/fake.port" \
    >/dev/null 2>"$T/fake.log" &
FAKE_PID=$!
for _ in $(seq 200); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
[ -s "$T/fake.port" ] || die "the fake relay did not start"
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
fake_post() { curl -sf -X POST "$FAKE_URL$1" -H 'Content-Type: application/json' \
    --data-binary "$2" >/dev/null || die "fake relay: POST $1 failed"; }
# Enough quota for every run; the "limited" token unlimited too, in case
# metapi routes to it.
fake_post /__fake/state '{"patch_users":[{"username":"alice","quota":900000000000000}],
    "patch_tokens":[{"id":2,"unlimited_quota":true,"remain_quota":900000000000000,"model_limits_enabled":false}]}'
FAKE_KEY=$(curl -sf "$FAKE_URL/__fake/state?pointer=/tokens/1/key") || die "no fake key"

# --- nginx ---------------------------------------------------------------------
NGINX_PORT=$(free_port) || die "no free port"
NG=$T/nginx
cat >"$NG/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $NGINX_WORKERS;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    keepalive_requests 1000000;
    upstream fakerelay {
        server 127.0.0.1:$(cat "$T/fake.port");
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://fakerelay;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
EOF
log "starting nginx on 127.0.0.1:$NGINX_PORT"
"$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log" -t >/dev/null 2>"$T/nginx-t.log" ||
    { cat "$T/nginx-t.log" >&2; die "bad nginx config"; }
$PIN_PROXY "$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log" >/dev/null 2>&1 &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do curl -s -o /dev/null "$NGINX_URL/__fake/health" && break; sleep 0.05; done

# --- metapi ----------------------------------------------------------------------
export METAPI_LISTEN=127.0.0.1:0
log "starting metapi"
$PIN_PROXY "$METAPI" daemon >"$T/metapi.log" 2>&1 &
METAPI_PID=$!
for _ in $(seq 200); do "$METAPI" --no-start status >/dev/null 2>&1 && break; sleep 0.05; done
"$METAPI" --json --no-start status >"$T/status.json" 2>/dev/null || die "metapi did not start"
LISTEN=$(sed -n 's/^ *"listen": *"\([^"]*\)".*/\1/p' "$T/status.json")
METAPI_VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$T/status.json")
[ -n "$LISTEN" ] || die "no listen address in metapi status"
METAPI_URL="http://$LISTEN"
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$METAPI_PID/status" 2>/dev/null; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$METAPI_PID/status" 2>/dev/null; }
sleep 1
RSS_START=$(rss_kb)
# setup CMD KEYFILE: through CMD (metapi for one daemon), the fake relay
# as a site, alice's account on it and a key, written to KEYFILE.
setup() {
	$1 site add fr "$FAKE_URL" --platform new-api >>"$T/setup.log" 2>&1 &&
	    $1 account add fr --username alice --password pass-123 \
	    >>"$T/setup.log" 2>&1 &&
	    $1 key add bench >"$2" 2>>"$T/setup.log" ||
	    die "$1: setup failed: $(tail -n 3 "$T/setup.log")"
}
m() { timeout 60 "$METAPI" --no-start "$@"; }
setup m "$T/key"
MKEY=$(head -n 1 "$T/key")
sleep 2
RSS_IDLE=$(rss_kb)
# The same resident pages split: PSS (shared pages divided among the
# processes mapping them), anonymous (the daemon's own), file-backed
# (library code, much of it touched once at start-up).
rollup() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$2/smaps_rollup" 2>/dev/null; }
PSS_IDLE=$(rollup Pss "$METAPI_PID")
ANON_IDLE=$(awk '/^RssAnon:/ {print $2}' "/proc/$METAPI_PID/status")
FILE_IDLE=$(awk '/^RssFile:/ {print $2}' "/proc/$METAPI_PID/status")
# nginx's, master and workers, for scale.
NGINX_RSS=0
for p in $NGINX_PID $(pgrep -P "$NGINX_PID" 2>/dev/null); do
	NGINX_RSS=$((NGINX_RSS + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
done
log "metapi $METAPI_VERSION on $METAPI_URL, pid $METAPI_PID, idle RSS ${RSS_IDLE} kB"

# A daemon as the CLI starts it (`metapi status` with none running:
# --detach, a fork after start-up), set up the same way: the library
# pages only start-up touched stay with the parent that exited.
D4="$T/data4" S4="$T/run4/metapi.sock"
m4() { METAPI_DATA_DIR="$D4" METAPI_SOCKET="$S4" timeout 60 "$METAPI" "$@"; }
if m4 --json status >"$T/status4.json" 2>>"$T/setup.log"; then
	DET_PID=$(sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p' "$T/status4.json")
	m4n() { m4 --no-start "$@"; }
	setup m4n "$T/key4"
	sleep 2
	RSS_DET=$(awk '/^VmRSS:/ {print $2}' "/proc/$DET_PID/status" 2>/dev/null)
	PSS_DET=$(rollup Pss "$DET_PID")
	m4 --no-start stop >/dev/null 2>&1
fi

# --- optional: a second daemon with TCP_NODELAY forced (diagnostic) ---------------
if [ -n "$DIAG" ]; then
	cc -shared -fPIC -O2 -o "$T/nodelay.so" "$SRC/bench/nodelay-shim.c" -ldl ||
	    die "cannot build bench/nodelay-shim.c"
	log "starting the diagnostic metapi (TCP_NODELAY preloaded)"
	METAPI_DATA_DIR="$T/data2" METAPI_SOCKET="$T/run2/metapi.sock" \
	    LD_PRELOAD="$T/nodelay.so" $PIN_PROXY "$METAPI" daemon >"$T/metapi2.log" 2>&1 &
	METAPI2_PID=$!
	m2() { METAPI_DATA_DIR="$T/data2" METAPI_SOCKET="$T/run2/metapi.sock" \
	    timeout 60 "$METAPI" --no-start "$@"; }
	for _ in $(seq 200); do m2 status >/dev/null 2>&1 && break; sleep 0.05; done
	m2 --json status >"$T/status2.json" 2>/dev/null || die "metapi (diagnostic) did not start"
	METAPI2_URL="http://$(sed -n 's/^ *"listen": *"\([^"]*\)".*/\1/p' "$T/status2.json")"
	setup m2 "$T/key2"
	MKEY2=$(head -n 1 "$T/key2")
fi

# --- a metapi daemon storing in PostgreSQL ------------------------------------------
if [ -n "$PG" ]; then
	log "starting a PostgreSQL cluster and metapi on it"
	mkdir -p "$T/pg"
	[ "$(id -u)" -eq 0 ] && chmod 711 "$T"
	pg_start "$T/pg" || die "PostgreSQL did not start"
	PG_URL=$(pg_createdb "$PG_BASE" bench) || die "createdb failed"
	METAPI_DATA_DIR="$T/data3" METAPI_SOCKET="$T/run3/metapi.sock" \
	    $PIN_PROXY "$METAPI" daemon --db "$PG_URL" >"$T/metapi3.log" 2>&1 &
	METAPI3_PID=$!
	m3() { METAPI_DATA_DIR="$T/data3" METAPI_SOCKET="$T/run3/metapi.sock" \
	    timeout 60 "$METAPI" --no-start "$@"; }
	for _ in $(seq 200); do m3 status >/dev/null 2>&1 && break; sleep 0.05; done
	m3 --json status >"$T/status3.json" 2>/dev/null || die "metapi (PostgreSQL) did not start"
	METAPI3_URL="http://$(sed -n 's/^ *"listen": *"\([^"]*\)".*/\1/p' "$T/status3.json")"
	setup m3 "$T/key3"
	MKEY3=$(head -n 1 "$T/key3")
	PG_VERSION=$(m3 doctor 2>/dev/null | sed -n 's/.*db\.server *\(PostgreSQL [^ ]*\).*/\1/p')
fi

# --- sanity: each target answers correctly --------------------------------------
BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello bench"}],"max_tokens":32}'
url_of() { case $1 in direct*) echo "$FAKE_URL" ;; nginx) echo "$NGINX_URL" ;;
    metapi) echo "$METAPI_URL" ;; metapi_nd) echo "$METAPI2_URL" ;;
    metapi_pg) echo "$METAPI3_URL" ;; esac; }
key_of() { case $1 in metapi) echo "$MKEY" ;; metapi_nd) echo "$MKEY2" ;;
    metapi_pg) echo "$MKEY3" ;; *) echo "$FAKE_KEY" ;; esac; }
for t in $TARGETS; do
	url=$(url_of $t) key=$(key_of $t)
	code=$(curl -s -o "$T/sanity.$t" -w '%{http_code}' -H "Authorization: Bearer $key" \
	    -H 'Content-Type: application/json' -d "$BODY" "$url/v1/chat/completions")
	[ "$code" = 200 ] && grep -q '"content":"echo: hello bench"' "$T/sanity.$t" ||
	    die "$t: sanity request failed: HTTP $code $(head -c 300 "$T/sanity.$t")"
done

# --- 3a. non-stream: wrk ------------------------------------------------------------
mklua() { # FILE KEY
	cat >"$1" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    s.requests, s.duration, s.requests / (s.duration / 1e6),
    lat:percentile(50), lat:percentile(99), lat.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
EOF
}
for t in $TARGETS; do mklua "$T/$t.lua" "$(key_of $t)"; done

# field FILE NAME: a key=value from a result line.
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1; }

for t in $TARGETS; do
	log "warm-up $t (${WARMUP}s, c=16)"
	$PIN_LOAD wrk -t2 -c16 -d"${WARMUP}s" --timeout 10s -s "$T/$t.lua" "$(url_of $t)/v1/chat/completions" >/dev/null 2>&1
done
for c in 1 16 64; do
	th=2
	[ "$c" -eq 1 ] && th=1
	for t in $TARGETS; do
		log "non-stream $t c=$c (${DURATION}s)"
		if [ "$t" = metapi ] && [ "$c" -eq 64 ]; then
			( while :; do awk '/^VmRSS:/ {print $2}' "/proc/$METAPI_PID/status"; sleep 0.1; done ) \
			    >"$T/rss.c64" 2>/dev/null &
			SAMPLER_PID=$!
		fi
		$PIN_LOAD wrk -t"$th" -c"$c" -d"${DURATION}s" --timeout 10s -s "$T/$t.lua" \
		    "$(url_of $t)/v1/chat/completions" >"$T/wrk.$t.$c.out" 2>&1
		grep '^RESULT ' "$T/wrk.$t.$c.out" >"$T/wrk.$t.$c" ||
		    die "wrk $t c=$c: $(tail -n 3 "$T/wrk.$t.$c.out")"
		if [ -n "$SAMPLER_PID" ]; then
			kill "$SAMPLER_PID" 2>/dev/null
			wait "$SAMPLER_PID" 2>/dev/null
			SAMPLER_PID=
		fi
	done
done
RSS_C64_PEAK=$(sort -n "$T/rss.c64" | tail -n 1)
HWM_AFTER_C64=$(hwm_kb)
RSS_AFTER_C64=$(rss_kb)
kill -0 "$METAPI_PID" 2>/dev/null || die "metapi died during the non-stream runs"

# --- 3b. streams: 50 words, 5 ms between frames -------------------------------------
WORDS=$(for i in $(seq 50); do printf 'w%d ' "$i"; done)
fake_post /__fake/state "{\"config\":{\"reply\":\"${WORDS% }\"}}"
fake_post /__fake/fault '{"path":"/v1/chat/completions","kind":"slow_stream","delay_ms":5,"times":-1,"stamp":true}'
SBODY='{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello bench"}]}'
# direct2: the direct run again at the end, to show the noise floor.
for t in $TARGETS direct2; do
	log "stream $t: $STREAM_N requests"
	$PIN_LOAD "$SC" "$(url_of $t)/v1/chat/completions" "$(key_of $t)" "$SBODY" 3 >/dev/null 2>&1
	$PIN_LOAD "$SC" "$(url_of $t)/v1/chat/completions" "$(key_of $t)" "$SBODY" "$STREAM_N" \
	    "$T/gaps.$t" >"$T/stream.$t" 2>"$T/stream.$t.err"
	[ -s "$T/stream.$t" ] || die "streamclient $t: $(tail -n 3 "$T/stream.$t.err")"
done
curl -sf -X DELETE "$FAKE_URL/__fake/faults" >/dev/null

# --- 3c. one big streamed reply: RSS growth --------------------------------------------
log "big stream: ${BIG_MB} MB reply"
fake_post /__fake/state '{"config":{"max_body":67108864}}'
# Words of 1023 letters and a space: one SSE frame per word.
awk -v mb="$BIG_MB" 'BEGIN {
	w = sprintf("%1023s", ""); gsub(/ /, "x", w);
	n = int(mb * 1048576 / 1024);
	printf "{\"config\":{\"reply\":\"";
	for (i = 0; i < n; i++) printf "%s%s", w, (i < n - 1 ? " " : "");
	printf "\"}}";
}' >"$T/big.json"
curl -sf -X POST "$FAKE_URL/__fake/state" --data-binary @"$T/big.json" >/dev/null ||
    die "cannot set the big reply"
rm -f "$T/big.json"
sleep 1
RSS_BIG_BEFORE=$(rss_kb)
HWM_BIG_BEFORE=$(hwm_kb)
( while :; do awk '/^VmRSS:/ {print $2}' "/proc/$METAPI_PID/status"; sleep 0.05; done ) \
    >"$T/rss.big" 2>/dev/null &
SAMPLER_PID=$!
$PIN_LOAD "$SC" "$METAPI_URL/v1/chat/completions" "$MKEY" "$SBODY" 1 >"$T/big.metapi" 2>"$T/big.metapi.err"
kill "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
RSS_BIG_AFTER=$(rss_kb)
RSS_BIG_PEAK=$(sort -n "$T/rss.big" | tail -n 1)
sleep 2
RSS_BIG_LATER=$(rss_kb)
$PIN_LOAD "$SC" "$FAKE_URL/v1/chat/completions" "$FAKE_KEY" "$SBODY" 1 >"$T/big.direct" 2>"$T/big.direct.err"
$PIN_LOAD "$SC" "$NGINX_URL/v1/chat/completions" "$FAKE_KEY" "$SBODY" 1 >"$T/big.nginx" 2>"$T/big.nginx.err"
fake_post /__fake/state '{"config":{"reply":"","max_body":1048576}}'
kill -0 "$METAPI_PID" 2>/dev/null || die "metapi died during the stream runs"
RSS_END=$(rss_kb)
timeout 30 "$METAPI" --no-start stats >"$T/stats.txt" 2>&1
# Back-pressure from each daemon's request log writer over the whole run.
waits_of() { curl -s "$1/metrics" | sed -n 's/^metapi_log_queue_waits_total //p'; }
WAITS_SQLITE=$(waits_of "$METAPI_URL")
[ -n "$PG" ] && WAITS_PG=$(waits_of "$METAPI3_URL")
timeout 30 "$METAPI" --no-start logs --status fail --limit 5 >"$T/fails.txt" 2>&1

# --- 4. RESULTS.md --------------------------------------------------------------------
log "writing $OUT"
us2ms() { awk -v x="$1" 'BEGIN { printf "%.3f", x / 1000 }'; }
sub_() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a - b }'; }
abs_() { awk -v a="$1" 'BEGIN { printf "%.0f", a < 0 ? -a : a }'; }
kb2mb() { awk -v x="$1" 'BEGIN { printf "%.1f", x / 1024 }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**not met**"; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2f", a / b }'; }
label() { case $1 in direct2) echo "direct (again, last)" ;;
    metapi_nd) echo "metapi + TCP_NODELAY shim (diagnostic)" ;;
    metapi_pg) echo "metapi on PostgreSQL" ;; *) echo "$1" ;; esac; }

nginx_ver=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
wrk_ver=$(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}')
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

{
echo "# metapi benchmark results"
echo
echo "Produced by \`$CMDLINE\` (from the source root); the whole file is rewritten by each run."
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr); load average (1/5/15 min) $LOAD_START at the start, $LOAD_END at the end (anything else running on the machine shares the cores with the run)"
echo "- versions: metapi $METAPI_VERSION (git $git_info; $bin_info), nginx $nginx_ver, $wrk_ver, $(curl --version | head -n 1 | awk '{print $1, $2}')"
if [ -n "$PIN_PROXY" ]; then
	echo "- pinning: the proxy under test (nginx or metapi) on the last CPU (\`$PIN_PROXY\`), the load generator and the fake relay on the others (\`$PIN_LOAD\`), so each proxy's added latency is its own work, not the load generator's competition for its core; BENCH_PIN=1 asked for it."
else
	echo "- pinning: none (BENCH_PIN=1 pins the proxy under test to its own CPU)."
fi
echo "- setup: everything on 127.0.0.1 on the same machine, sharing its $(nproc) cores: the fake relay (tests/fakerelay, new-api personality, 256 threads), nginx (worker_processes $NGINX_WORKERS, upstream keepalive 64, proxy_http_version 1.1, proxy_set_header Connection \"\", proxy_buffering off) and the metapi daemon (default settings, one site, one account, one key) both in front of it, and the load generator. The fake relay runs with --keep-alive: a whole (non-stream) reply leaves its connection open, so wrk's direct runs, nginx (its upstream keepalive pool) and metapi (each worker's libcurl connection pool) reuse upstream connections as they would a real site's; a stream's reply closes its connection. wrk and streamclient keep their connection to each target alive."
echo "- non-stream: wrk, POST /v1/chat/completions \`$BODY\`, ${DURATION}s per cell after a ${WARMUP}s warm-up (c=16) per target; 1 wrk thread at c=1, 2 otherwise. Latency is wrk's (request written to response read: the direct runs' connect is not in it). Added = proxy minus direct at the same percentile."
echo "- streams: bench/streamclient.c (libcurl, one keep-alive connection, sequential requests), $STREAM_N requests per target after 3 unrecorded ones; fake relay reply of 50 words with a slow_stream fault (5 ms before every SSE frame), so 54 events per stream (role, 50 words, finish, usage, [DONE]); the body asks for include_usage, so the upstream sends the same frames to every target. TTFB = request start to the first complete SSE event. Delivery = the moment an event is complete at the client minus the moment the fake relay wrote it (each JSON event carries the relay's CLOCK_MONOTONIC as \"x_sent_us\", the fault's \"stamp\"), pooled over all stamped events; added per-chunk delay = proxy delivery p99 minus direct delivery p99. Gap = time between consecutive events of one stream, pooled; it carries the relay's pacing jitter (a 5 ms sleep that overshoots), which is why the target is read from delivery, not gaps (before 2026-11-28 it was gaps, and the noise floor was above the limit). The direct run is repeated at the end (\"direct (again, last)\"): the difference between the two direct runs is the noise floor of these figures."
[ -n "$PG" ] && echo "- metapi on PostgreSQL: a second metapi daemon (own data dir, socket and port, same binary and settings) with --db on a private ${PG_VERSION:-PostgreSQL} cluster on this machine (tests/lib/pg.sh: Unix socket, fsync off, as in the tests), set up the same way; its request log goes to PostgreSQL through the same asynchronous log writer. It runs idle while the others are measured. BENCH_PG=0 leaves it out."
[ -n "$DIAG" ] && echo "- diagnostic row: a second metapi daemon (own data dir, socket and port, same binary and settings) started with LD_PRELOAD=bench/nodelay-shim.c, which sets TCP_NODELAY on every accepted socket. It is not metapi as shipped and is never used for the targets."
echo
echo "## Non-stream chat completions"
echo
echo "| target | c | req/s | p50 ms | p99 ms | max ms | added p50 ms | added p99 ms | errors (connect/read/write/status/timeout) |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in 1 16 64; do
	dp50=$(field "$T/wrk.direct.$c" p50_us) dp99=$(field "$T/wrk.direct.$c" p99_us)
	for t in $TARGETS; do
		f=$T/wrk.$t.$c
		p50=$(field "$f" p50_us) p99=$(field "$f" p99_us)
		if [ $t = direct ]; then a50=- a99=-; else
			a50=$(us2ms "$(sub_ "$p50" "$dp50")") a99=$(us2ms "$(sub_ "$p99" "$dp99")"); fi
		echo "| $(label $t) | $c | $(field "$f" rps) | $(us2ms "$p50") | $(us2ms "$p99") | $(us2ms "$(field "$f" max_us)") | $a50 | $a99 | $(field "$f" err_connect)/$(field "$f" err_read)/$(field "$f" err_write)/$(field "$f" err_status)/$(field "$f" err_timeout) |"
	done
done
echo
echo "## Streams (54 events, 5 ms apart)"
echo
echo "| target | ok/bad | events | TTFB p50 ms | TTFB p99 ms | added TTFB p50 ms | added TTFB p99 ms | delivery p50 µs | delivery p99 µs | delivery max µs | added delivery p50 µs | added delivery p99 µs | gap p50 µs | gap p99 µs | added gap p99 µs | last event p50 ms |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
dt50=$(field "$T/stream.direct" ttfb_p50_us) dt99=$(field "$T/stream.direct" ttfb_p99_us)
dg99=$(field "$T/stream.direct" gap_p99_us)
dl50=$(field "$T/stream.direct" lat_p50_us) dl99=$(field "$T/stream.direct" lat_p99_us)
for t in $TARGETS direct2; do
	f=$T/stream.$t
	if [ $t = direct ]; then at50=- at99=- al50=- al99=- ag99=-; else
		at50=$(us2ms "$(sub_ "$(field "$f" ttfb_p50_us)" "$dt50")")
		at99=$(us2ms "$(sub_ "$(field "$f" ttfb_p99_us)" "$dt99")")
		al50=$(sub_ "$(field "$f" lat_p50_us)" "$dl50")
		al99=$(sub_ "$(field "$f" lat_p99_us)" "$dl99")
		ag99=$(sub_ "$(field "$f" gap_p99_us)" "$dg99"); fi
	ev="$(field "$f" events_min)-$(field "$f" events_max)"
	echo "| $(label $t) | $(field "$f" ok)/$(field "$f" bad) | $ev | $(us2ms "$(field "$f" ttfb_p50_us)") | $(us2ms "$(field "$f" ttfb_p99_us)") | $at50 | $at99 | $(field "$f" lat_p50_us) | $(field "$f" lat_p99_us) | $(field "$f" lat_max_us) | $al50 | $al99 | $(field "$f" gap_p50_us) | $(field "$f" gap_p99_us) | $ag99 | $(us2ms "$(field "$f" total_p50_us)") |"
done
noise_ttfb=$(abs_ "$(sub_ "$(field "$T/stream.direct2" ttfb_p50_us)" "$dt50")")
noise_lat=$(abs_ "$(sub_ "$(field "$T/stream.direct2" lat_p99_us)" "$dl99")")
noise_gap=$(abs_ "$(sub_ "$(field "$T/stream.direct2" gap_p99_us)" "$dg99")")
echo
echo "Noise floor (direct vs direct again): TTFB p50 $noise_ttfb µs, delivery p99 $noise_lat µs, gap p99 $noise_gap µs."
echo
echo "## Big stream (${BIG_MB} MB reply, no delay) and metapi memory"
echo
echo "| target | ok/bad | events | bytes | time ms |"
echo "|---|---|---|---|---|"
for t in direct nginx metapi; do
	f=$T/big.$t
	echo "| $t | $(field "$f" ok)/$(field "$f" bad) | $(field "$f" events_max) | $(field "$f" bytes) | $(us2ms "$(field "$f" total_p50_us)") |"
done
echo
echo "| metapi RSS (VmRSS from /proc/PID/status) | MB |"
echo "|---|---|"
echo "| right after start (no site yet) | $(kb2mb "$RSS_START") |"
echo "| idle, after site, account and key were added | $(kb2mb "$RSS_IDLE") |"
echo "| the same: anonymous / file-backed (libraries) / PSS | $(kb2mb "$ANON_IDLE") / $(kb2mb "$FILE_IDLE") / $(kb2mb "$PSS_IDLE") |"
echo "| a daemon started by the CLI (detached), set up the same way: RSS / PSS | $(kb2mb "${RSS_DET:-0}") / $(kb2mb "${PSS_DET:-0}") |"
echo "| nginx idle, master and workers together (for scale) | $(kb2mb "$NGINX_RSS") |"
echo "| peak sampled every 100 ms under non-stream c=64 | $(kb2mb "$RSS_C64_PEAK") |"
echo "| after the c=64 run | $(kb2mb "$RSS_AFTER_C64") |"
echo "| VmHWM after the c=64 run | $(kb2mb "$HWM_AFTER_C64") |"
echo "| before the ${BIG_MB} MB stream | $(kb2mb "$RSS_BIG_BEFORE") |"
echo "| peak sampled every 50 ms during it | $(kb2mb "$RSS_BIG_PEAK") |"
echo "| right after it | $(kb2mb "$RSS_BIG_AFTER") |"
echo "| 2 s later | $(kb2mb "$RSS_BIG_LATER") |"
echo "| growth over the stream (after - before) | $(kb2mb "$(sub_ "$RSS_BIG_AFTER" "$RSS_BIG_BEFORE")") |"
echo "| at the end of the run | $(kb2mb "$RSS_END") |"
echo
echo "## Targets"
echo
n_a99=$(sub_ "$(field "$T/wrk.nginx.1" p99_us)" "$(field "$T/wrk.direct.1" p99_us)")
m_a99=$(sub_ "$(field "$T/wrk.metapi.1" p99_us)" "$(field "$T/wrk.direct.1" p99_us)")
n_rps=$(field "$T/wrk.nginx.64" rps) m_rps=$(field "$T/wrk.metapi.64" rps)
m_ttfb=$(sub_ "$(field "$T/stream.metapi" ttfb_p50_us)" "$dt50")
m_ttfb99=$(sub_ "$(field "$T/stream.metapi" ttfb_p99_us)" "$dt99")
m_lat=$(sub_ "$(field "$T/stream.metapi" lat_p99_us)" "$dl99")
note1=
awk "BEGIN { exit !($n_a99 <= 0) }" && note1=" (nginx's added p99 is not positive: its p99 is below direct's, whose requests each pay a new connection; the target then asks metapi's added p99 to be ≤ $(us2ms "$((2 * n_a99))") ms)"
note4=
awk "BEGIN { exit !($noise_lat >= 100) }" && note4=" (the noise floor, $noise_lat µs, is above the 100 µs limit: this run cannot resolve the target)"
echo "| target | measured | ratio | verdict |"
echo "|---|---|---|---|"
echo "| metapi added p99 at c=1 ≤ 2× nginx's added p99 | metapi $(us2ms "$m_a99") ms, nginx $(us2ms "$n_a99") ms$note1 | $(ratio "$m_a99" "$n_a99")× | $(verdict "$m_a99 <= 2 * $n_a99") |"
echo "| metapi req/s at c=64 ≥ 50% of nginx's | metapi $m_rps, nginx $n_rps | $(ratio "$m_rps" "$n_rps") | $(verdict "$m_rps >= 0.5 * $n_rps") |"
echo "| metapi added TTFB (p50) < 1 ms | $(us2ms "$m_ttfb") ms (p99: $(us2ms "$m_ttfb99") ms) | $(ratio "$m_ttfb" 1000)× the limit | $(verdict "$m_ttfb < 1000") |"
echo "| metapi added per-chunk delay p99 < 100 µs (delivery p99 over direct's) | $m_lat µs$note4 | $(ratio "$m_lat" 100)× the limit | $(verdict "$m_lat < 100") |"
echo "| metapi idle RSS < 15 MB | $(kb2mb "$RSS_IDLE") MB | $(ratio "$RSS_IDLE" 15360)× the limit | $(verdict "$RSS_IDLE < 15360") |"
if [ -n "$PG" ]; then
	pg_a50=$(sub_ "$(field "$T/wrk.metapi_pg.1" p50_us)" "$(field "$T/wrk.metapi.1" p50_us)")
	pg_rps=$(field "$T/wrk.metapi_pg.16" rps) sq_rps=$(field "$T/wrk.metapi.16" rps)
	pg_ttfb=$(sub_ "$(field "$T/stream.metapi_pg" ttfb_p50_us)" "$(field "$T/stream.metapi" ttfb_p50_us)")
	echo "| metapi on PostgreSQL: p50 at c=1 within 0.1 ms of metapi on SQLite (logging stays off the request path) | $(us2ms "$pg_a50") ms more | - | $(verdict "$pg_a50 <= 100") |"
	echo "| metapi on PostgreSQL: req/s at c=16 ≥ 90% of metapi on SQLite | $pg_rps, SQLite $sq_rps | $(ratio "$pg_rps" "$sq_rps") | $(verdict "$pg_rps >= 0.9 * $sq_rps") |"
	tol=$noise_ttfb
	[ "$tol" -lt 100 ] && tol=100
	echo "| metapi on PostgreSQL: stream TTFB p50 within $(us2ms "$tol") ms of metapi on SQLite (0.1 ms, or the noise floor when larger) | $(us2ms "$pg_ttfb") ms more | - | $(verdict "$pg_ttfb <= $tol") |"
	echo "| metapi on PostgreSQL: its request log keeps up as SQLite's does (requests that waited for a full log queue, whole run) | $WAITS_PG waits, SQLite $WAITS_SQLITE | - | $(verdict "${WAITS_PG:-1} <= ${WAITS_SQLITE:-0}") |"
	pg_rows=$(psql -XAt "$PG_URL" -c "SELECT COUNT(*) FROM request_logs" 2>/dev/null)
	echo
	echo "Request log rows metapi on PostgreSQL wrote during the run (warm-up, sanity and streams included): ${pg_rows:-?}."
fi
echo
echo "## Raw"
echo
echo '```'
for f in "$T"/wrk.*.[0-9]*; do case $f in *.out) continue ;; esac; echo "$(basename "$f"): $(cat "$f")"; done
for t in $TARGETS direct2; do echo "stream.$t: $(cat "$T/stream.$t")"; done
for t in direct nginx metapi; do echo "big.$t: $(cat "$T/big.$t")"; done
for f in "$T"/stream.*.err "$T"/big.*.err; do [ -s "$f" ] && { echo "$(basename "$f"):"; head -n 5 "$f"; }; done
echo "metapi stats:"
cat "$T/stats.txt"
echo "metapi failed requests (newest 5):"
cat "$T/fails.txt"
echo '```'
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
log "done: $OUT"
cat "$OUT"
