# Disk full and a read-only data dir (issue #10). The data dir is on a
# 4 MiB tmpfs that a filler file fills while requests flow: every request
# is still answered; the request log keeps what its queue holds (4096
# records and the batch in hand) and drops, counts and reports the rest
# rather than hold the request threads; /readyz says 503 "database not
# writable"; commands that write fail with a clear message and change
# nothing, reads work; the daemon does not spin; an alert goes out. Once
# the filler is gone the queued records are stored, /readyz is 200 again
# and the database passes integrity_check. An upload, a backup export and
# a master key onto the full disk fail clearly and leave no partial or
# truncated file. A daemon will not start on a read-only data dir. A
# tmpfs cannot be remounted read-only under a daemon that holds files
# open for writing (the kernel refuses), so the read-only case while
# running is an ext4 image with errors=remount-ro forced read-only as a
# disk error would (trigger_fs_error). Needs root; skipped otherwise.
. "$SRCDIR/tests/lib/libtest.sh"
test_init diskfull

if [ "$(id -u)" -ne 0 ]; then
	echo "diskfull: needs root to mount a small file system; skipped" >&2
	test_done
	exit 0
fi
# The SQLite file on the small disk is the subject; PostgreSQL keeps its
# files elsewhere (its own disk is the server's affair).
if [ -n "${TEST_PGDB:-}" ]; then
	echo "diskfull: the database is on PostgreSQL, whose files are the" \
	    "server's, not on the small disk under test; skipped" >&2
	test_done
	exit 0
fi
MNT="$TMP/mnt"
EXT="$TMP/ext"
mkdir -p "$MNT" "$EXT"
# Stop the daemons while their files can still be found, then unmount,
# then the usual cleanup.
diskfull_cleanup() {
	for s in "$TMP"/run/*.sock "$TMP"/run2/*.sock; do
		[ -S "$s" ] && "$METAPI" -S "$s" --no-start stop >/dev/null 2>&1
	done
	for f in "$MNT"/*/daemon.lock "$EXT"/*/daemon.lock; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null)
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	for m in "$MNT" "$EXT"; do
		mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
	done
	test_cleanup
}
trap diskfull_cleanup EXIT
if ! mount -t tmpfs -o size=4m,mode=0700 metapi-test "$MNT"; then
	echo "diskfull: cannot mount a tmpfs; skipped" >&2
	test_done
	exit 0
fi
export METAPI_DATA_DIR="$MNT/data"
DB="$METAPI_DATA_DIR/metapi.db"
HZ=$(getconf CLK_TCK)

# cpu PID: the process's user and system time so far, in clock ticks.
cpu() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
# metric NAME: its value on /metrics.
metric() {
	curl -s "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
# burst N: N chat requests, 16 at a time; one HTTP code a line in $TMP/codes.
burst() {
	awk -v u="$BASE/v1/chat/completions" -v n="$1" 'BEGIN {
	    for (i = 0; i < n; i++)
		printf "url = \"%s\"\noutput = \"/dev/null\"\n", u }' \
	    >"$TMP/burst.cfg"
	curl -s --no-progress-meter -Z --parallel-max 16 -m 5 \
	    -K "$TMP/burst.cfg" -w '%{http_code}\n' \
	    -H "Authorization: Bearer $K" -H 'Content-Type: application/json' \
	    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}' \
	    >"$TMP/codes"
}
rows() {
	sqlite3 "$DB" "SELECT COUNT(*) FROM request_logs"
}
# now: seconds since the epoch, to the millisecond.
now() {
	date +%s.%N | cut -c1-14
}
# since T: seconds since now's T, to a tenth.
since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}
readyz() {
	curl -s -o "$TMP/ready" -w '%{http_code}' "$BASE/readyz"
}
# wait_ready: until /readyz is 200 and the log queue empty (10 s at most).
wait_ready() {
	i=0
	while [ $i -lt 100 ]; do
		[ "$(readyz)" = 200 ] && [ "$(metric metapi_log_queue_depth)" = 0 ] &&
		    return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

SINK="$TMP/sink"
mkdir -p "$SINK"
"$BUILDDIR/tests/tools/sink" --dir "$SINK" --port-file "$TMP/hp" \
    2>"$TMP/sink.log" &
echo $! >>"$TMP/pids"
fake_start new-api
one_token "$FAKE_URL"
ok "site" site add a "$FAKE_URL"
ok "account" account add a --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
i=0
while [ ! -s "$TMP/hp" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
ok "alerts go to a webhook" notify add webhook \
    "http://127.0.0.1:$(cat "$TMP/hp")/hook"
BASE="http://$(listen_addr)"
PID=$(cat "$METAPI_DATA_DIR/daemon.lock")
printf 'a good passphrase\n' >"$TMP/pass"
ok "a backup while there is room" backup export "$MNT/backup.json" \
    --passphrase-file "$TMP/pass"
cp "$MNT/backup.json" "$TMP/backup.good"
burst 20
wait_ready
before=$(rows)

# --- the disk fills while requests flow ---------------------------------
burst 300 &
bpid=$!
sleep 0.2
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
wait $bpid
expect "no room left" "$(df --output=avail "$MNT" | tail -n 1 | tr -d ' ')" 0
mv "$TMP/codes" "$TMP/codes.300"
t=$(now)
burst 4500
took=$(since "$t")
echo "measured: 4500 requests on the full disk in $took s"
expect "requests while it filled: all 200" \
    "$(grep -c '^200$' "$TMP/codes.300")" 300
expect "4500 requests on a full disk: all 200" \
    "$(grep -c '^200$' "$TMP/codes")" 4500
expect_match "and in seconds, not stalled" "$took" '^1?[0-9]\.'
expect "readyz: 503" "$(readyz)" 503
expect "readyz says why" "$(jget "$TMP/ready" reason)" "database not writable"
expect "healthz still 200" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" 200
expect "the queue is full" "$(metric metapi_log_queue_depth)" 4096
expect "metrics: not writable" "$(metric metapi_database_writable)" 0
DROPPED=$(metric metapi_log_dropped_total)
expect_match "records beyond the queue dropped and counted" "$DROPPED" \
    '^[1-9][0-9]*$'

FULL="database or disk is full"
refuse "site add on a full disk" 1 "$FULL" site add b "$FAKE_URL"
refuse "key add on a full disk" 1 "$FULL" key add k2
refuse "settings set on a full disk" 1 "$FULL" \
    settings set log_retention_days 9
ok "site list still reads" --json site list
expect "one site" "$(jget "$OUT" items.length)" 1
ok "logs still read" --json logs --limit 1
ok "status still answers" status
expect_match "status says the database refuses writes" "$(cat "$OUT")" \
    "NOT WRITABLE since .*: database or disk is full; [0-9]+ request log records waiting"
expect_match "and how many records were dropped" "$(cat "$OUT")" \
    "^$DROPPED request log records dropped"
c0=$(cpu "$PID")
sleep 2
c1=$(cpu "$PID")
expect_match "no spin: CPU ticks over 2 s idle (HZ $HZ)" "$((c1 - c0))" \
    '^1?[0-9]$'
echo "measured: full disk: $DROPPED records dropped," \
    "CPU $((c1 - c0)) ticks at $HZ Hz over 2 s idle"

head -c 100000 /dev/urandom >"$TMP/upload.bin"
CODE=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $K" \
    -F purpose=user_data -F "file=@$TMP/upload.bin" "$BASE/v1/files")
expect "an upload on the full disk: 500" "$CODE" 500
expect "in the OpenAI shape" "$(jget "$TMP/r" error.code)" storage_error
expect "no partial upload left" \
    "$(ls -A "$METAPI_DATA_DIR/files" | wc -l | tr -d ' ')" 0
refuse "backup onto the full disk" 1 \
    "cannot write .*backup.json: No space left on device" \
    backup export "$MNT/backup.json" --passphrase-file "$TMP/pass"
if cmp -s "$MNT/backup.json" "$TMP/backup.good"; then pass; else
	fail "the good backup was replaced"; fi
expect "no temporary left beside it" "$(ls "$MNT" | grep -c 'backup.json.')" 0

# A second daemon whose data dir (so its master key) is on the full disk,
# its database elsewhere: the key cannot be written.
FRESH="-S $TMP/run2/metapi.sock -d $MNT/fresh"
refuse "master key onto the full disk" 1 \
    "cannot write master key .*master.key: No space left on device" \
    $FRESH daemon --detach --db "$TMP/fresh.db"
expect "no empty or partial key left" "$(ls "$MNT/fresh")" "daemon.lock
metapi.log"

# --- room again ---------------------------------------------------------
rm -f "$MNT/filler"
t=$(now)
if wait_ready; then pass; else fail "readyz not 200 within 10 s of room"; fi
total=$((300 + 4500))
after=$(rows)
echo "measured: room again: queue written and readyz 200 in $(since "$t") s;" \
    "$((after - before)) rows stored of $total"
expect "every request has a row or was counted as dropped" \
    "$((after - before + DROPPED))" "$total"
expect_match "the queue kept what it could" "$((after - before))" \
    '^4[0-9]{3}$'
expect "nothing more dropped" "$(metric metapi_log_dropped_total)" "$DROPPED"
run --json status
expect "no request still pending its row (the dropped ones counted out)" \
    "$(jget "$OUT" storage.log_pending)" 0
expect "metrics: writable" "$(metric metapi_database_writable)" 1
expect "integrity_check" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
expect "still one site: nothing half-written" "$(count_items site list)" 1
expect "still one key" "$(count_items key list)" 1
ok "setting unchanged" --json settings get log_retention_days
expect_nomatch "not 9" "$(jget "$OUT" value)" '^9$'
ok "writes work again" site add b "$FAKE_URL"
ok "status" status
expect_nomatch "status no longer warns" "$(cat "$OUT")" "NOT WRITABLE"
ok "a backup again" backup export "$MNT/backup.json" \
    --passphrase-file "$TMP/pass"
ok "the master key now" $FRESH daemon --detach --db "$TMP/fresh.db"
expect "a whole key" "$(wc -c <"$MNT/fresh/master.key" | tr -d ' ')" 65
ok "stop it" $FRESH stop
i=0
while [ "$(grep -l 'database' "$SINK"/*.json 2>/dev/null | wc -l)" -lt 2 ] &&
    [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
expect_match "alert: database not writable" "$(cat "$SINK"/*.json)" \
    "database not writable"
expect_match "alert: writable again, with the count dropped" \
    "$(cat "$SINK"/*.json)" "database writable again.*$DROPPED records were dropped"

# --- a read-only data dir at start ---------------------------------------
ok "stop" stop
wait_gone
if mount -o remount,ro "$MNT"; then pass; else fail "remount read-only"; fi
refuse "no daemon on a read-only data dir" 1 \
    "data dir .*/data is not writable: Read-only file system" daemon --detach
refuse "in the foreground either" 1 \
    "data dir .*/data is not writable: Read-only file system" daemon
refuse "nor started by a command" 3 "Read-only file system" status
mount -o remount,rw "$MNT"

# --- read-only while running: ext4 forced read-only by a disk error ------
if ! command -v mkfs.ext4 >/dev/null 2>&1 ||
    ! truncate -s 16M "$TMP/ext.img" ||
    ! mkfs.ext4 -q -F -m 0 "$TMP/ext.img" 2>/dev/null ||
    ! mount -o loop,errors=remount-ro "$TMP/ext.img" "$EXT" 2>/dev/null; then
	echo "diskfull: no ext4 on a loop device;" \
	    "read-only while running skipped" >&2
	test_done
	exit
fi
DEV=$(basename "$(findmnt -n -o SOURCE "$EXT")")
if [ ! -w "/sys/fs/ext4/$DEV/trigger_fs_error" ]; then
	echo "diskfull: no ext4 trigger_fs_error;" \
	    "read-only while running skipped" >&2
	test_done
	exit
fi
export METAPI_DATA_DIR="$EXT/data"
DB="$METAPI_DATA_DIR/metapi.db"
ok "a daemon on ext4" daemon --detach --log-file "$TMP/ext.log"
ok "site" site add a "$FAKE_URL"
ok "account" account add a --username alice --password pass-123
ok "key" key add k
K=$(cat "$OUT")
BASE="http://$(listen_addr)"
PID=$(cat "$METAPI_DATA_DIR/daemon.lock")
burst 20
wait_ready
sync -f "$DB"
echo "disk error" >"/sys/fs/ext4/$DEV/trigger_fs_error"
expect_match "the file system went read-only" \
    "$(findmnt -n -o OPTIONS "$EXT")" '^ro,|emergency_ro'
burst 200
expect "200 requests on a read-only disk: all 200" \
    "$(grep -c '^200$' "$TMP/codes")" 200
sleep 0.3
expect "readyz: 503" "$(readyz)" 503
expect "readyz says why" "$(jget "$TMP/ready" reason)" "database not writable"
refuse "site add on a read-only disk" 1 "Read-only file system" site add b "$FAKE_URL"
refuse "key add on a read-only disk" 1 "Read-only file system" key add k2
ok "site list still reads" --json site list
expect "one site" "$(jget "$OUT" items.length)" 1
c0=$(cpu "$PID")
sleep 2
c1=$(cpu "$PID")
expect_match "no spin: CPU ticks over 2 s idle (HZ $HZ)" "$((c1 - c0))" \
    '^1?[0-9]$'
t=$(now)
ok "stop" stop
wait_gone
took=$(since "$t")
echo "measured: read-only: CPU $((c1 - c0)) ticks over 2 s idle; stop took $took s"
expect_match "stopped within 5 s (2 s of grace)" "$took" '^[0-4]\.'
expect_match "the log says what was not stored" "$(cat "$TMP/ext.log")" \
    "stopped; [0-9]+ records written, 200 never stored"
umount "$EXT"
mount -o loop "$TMP/ext.img" "$EXT"
expect "integrity_check after the disk error" \
    "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
ok "a daemon again" daemon --detach --log-file "$TMP/ext.log"
BASE="http://$(listen_addr)"
ok "what was synced is there" --json site list
expect "the site" "$(jget "$OUT" items.0.name)" a
expect "the 20 requests before the error" "$(rows)" 20
if wait_ready; then pass; else fail "readyz not 200 after the remount"; fi
ok "writes work" site add b "$FAKE_URL"
ok "stop" stop
wait_gone

test_done
