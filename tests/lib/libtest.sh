# Shell test library: a private daemon per test file and checks that count.
# Every test runs in its own temp dir with its own data dir, socket and an
# ephemeral port; nothing here may touch the user's real directories.
#
# Use: . "$SRCDIR/tests/lib/libtest.sh"; test_init NAME; checks...; test_done

: "${BUILDDIR:?BUILDDIR must be set}"
: "${SRCDIR:?SRCDIR must be set}"
METAPI="$BUILDDIR/metapi"
PASS=0
FAIL=0

test_init() {
	TEST_NAME=$1
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/metapi-test.XXXXXX")
	# Private everything: never the user's data dir, socket or port.
	unset XDG_DATA_HOME XDG_RUNTIME_DIR METAPI_DB METAPI_MASTER_KEY
	export HOME="$TMP/home"
	export METAPI_DATA_DIR="$TMP/data"
	export METAPI_SOCKET="$TMP/run/metapi.sock"
	export METAPI_LISTEN=127.0.0.1:0
	export COLUMNS=200
	mkdir -p "$HOME"
	# METAPI_TEST_DB=pg (tests/run.sh): a database of this test's own.
	if [ -n "${METAPI_TEST_PG:-}" ]; then
		. "$SRCDIR/tests/lib/pg.sh"
		TEST_PGDB="t_$(echo "$TEST_NAME" | tr -c 'a-zA-Z0-9\n' _)_$$"
		METAPI_DB=$(pg_createdb "$METAPI_TEST_PG" "$TEST_PGDB") ||
		    { echo "cannot create database $TEST_PGDB" >&2; exit 1; }
		export METAPI_DB
	fi
	OUT="$TMP/out"
	ERR="$TMP/err"
	trap test_cleanup EXIT
	trap 'exit 1' INT TERM
}

# Stop every daemon this test started, then remove its files.
test_cleanup() {
	for s in "$TMP"/run/*.sock "$TMP"/run2/*.sock; do
		[ -S "$s" ] && "$METAPI" -S "$s" --no-start stop >/dev/null 2>&1
	done
	for p in $(cat "$TMP"/pids 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	for f in "$TMP"/data*/daemon.lock; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null)
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	[ -n "${TEST_PGDB:-}" ] && pg_dropdb "$METAPI_TEST_PG" "$TEST_PGDB"
	[ -n "${TEST_PGCLUSTER:-}" ] && pg_stop "$TEST_PGCLUSTER"
	rm -rf "$TMP"
}

pass() {
	PASS=$((PASS + 1))
}

fail() {
	FAIL=$((FAIL + 1))
	echo "FAIL [$TEST_NAME] $*" >&2
	if [ -s "$ERR" ]; then
		sed 's/^/    stderr: /' "$ERR" | head -n 5 >&2
	fi
}

# run CMD...: run metapi with args, capture stdout, stderr and exit code.
run() {
	timeout 60 "$METAPI" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# run_in INPUT CMD...: the same with INPUT on stdin.
run_in() {
	input=$1
	shift
	printf "%s\n" "$input" | timeout 60 "$METAPI" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# ok DESC CMD...: the command must exit 0.
ok() {
	desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 0 ]; then pass; else fail "$desc: exit $RC, wanted 0 ($*)"; fi
}

# refuse DESC CODE PATTERN CMD...: exit CODE and PATTERN on stderr.
refuse() {
	desc=$1 code=$2 pattern=$3
	shift 3
	run "$@"
	if [ "$RC" -ne "$code" ]; then
		fail "$desc: exit $RC, wanted $code ($*)"
	elif ! grep -qiE -- "$pattern" "$ERR"; then
		fail "$desc: stderr lacks /$pattern/ ($*)"
	else
		pass
	fi
}

# expect DESC ACTUAL WANTED: string equality.
expect() {
	if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', wanted '$3'"; fi
}

# expect_match DESC TEXT REGEX
expect_match() {
	if printf '%s\n' "$2" | grep -qE -- "$3"; then pass; else
		fail "$1: '$2' does not match /$3/"; fi
}

# expect_nomatch DESC TEXT REGEX
expect_nomatch() {
	if printf '%s\n' "$2" | grep -qE -- "$3"; then
		fail "$1: '$2' matches /$3/"; else pass; fi
}

# jq-free JSON field access for --json output: jget FILE PATH (a.b.0.c).
jget() {
	"$BUILDDIR/tests/tools/jget" "$@"
}

# The HTTP address of the running daemon.
listen_addr() {
	"$METAPI" --json --no-start status 2>/dev/null >"$TMP/status.json" &&
	    jget "$TMP/status.json" listen
}

# Count of items in a list command's --json output.
count_items() {
	"$METAPI" --json --no-start "$@" >"$TMP/count.json" 2>/dev/null &&
	    jget "$TMP/count.json" items.length
}

# Wait until the daemon of the current data dir has exited (its lock free).
wait_gone() {
	i=0
	while [ $i -lt 600 ]; do
		flock -n "$METAPI_DATA_DIR/daemon.lock" true 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# Wait until a daemon answers on the current socket.
wait_up() {
	i=0
	while [ $i -lt 200 ]; do
		"$METAPI" --no-start status >/dev/null 2>&1 && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# Start the fake relay with a personality (and any more options, such as
# --keep-alive); sets FAKE_URL and FAKE_PID.
fake_start() {
	pf="$TMP/fake.$1.port"
	rm -f "$pf"
	fp=$1
	shift
	"$BUILDDIR/tests/fakerelay/fakerelay" --port 0 --personality "$fp" \
	    --port-file "$pf" "$@" >/dev/null 2>"$TMP/fake.$fp.log" &
	FAKE_PID=$!
	echo "$FAKE_PID" >>"$TMP/pids"
	i=0
	while [ ! -s "$pf" ] && [ $i -lt 200 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	FAKE_URL="http://127.0.0.1:$(cat "$pf")"
}

# one_token URL: on the fake relay at URL, alice keeps only her default
# token. Each usable token that serves a model is a channel of its own
# (per-token discovery); tests that count one channel per account say so.
one_token() {
	curl -s -X POST "$1/__fake/state" \
	    -d '{"patch_tokens":[{"id":2,"status":2}]}' >/dev/null
}

# db_sql SQL: run SQL (portable to both engines) on this test's database,
# the SQLite file in the data dir or, under METAPI_TEST_DB=pg, its own
# PostgreSQL database; rows come out with | between columns.
db_sql() {
	if [ -n "${TEST_PGDB:-}" ]; then
		pg_sql "$METAPI_TEST_PG" "$TEST_PGDB" "$1"
	else
		sqlite3 "$METAPI_DATA_DIR/metapi.db" "$1"
	fi
}

# log_settle: wait (up to 30 s) until every request the daemon has begun
# has its row in the request log (status: storage.log_pending is 0). The
# writer commits in batches from a thread at idle priority, so on a busy
# machine a row can take seconds: a fixed sleep before reading it failed
# now and then.
log_settle() {
	_i=0
	while [ $_i -lt 300 ]; do
		"$METAPI" --json --no-start status >"$TMP/settle.json" 2>/dev/null &&
		    [ "$(jget "$TMP/settle.json" storage.log_pending)" = 0 ] &&
		    return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# db_files: the files that hold this test's database on disk, for checks
# that no secret reached them in the clear (the daemon is stopped).
db_files() {
	if [ -n "${TEST_PGDB:-}" ]; then
		pg_sql "$METAPI_TEST_PG" "$TEST_PGDB" CHECKPOINT
		oid=$(pg_sql "$METAPI_TEST_PG" "$TEST_PGDB" \
		    "SELECT oid FROM pg_database WHERE datname = current_database()")
		ls -d "$METAPI_TEST_PGDIR/data/base/$oid"/* "$METAPI_TEST_PGDIR"/data/pg_wal/0*
	else
		ls -d "$METAPI_DATA_DIR"/metapi.db*
	fi
}

# db_new: under METAPI_TEST_DB=pg, an empty database in place of this
# test's (the daemon is stopped); with SQLite the data dir holds it, and
# a test that moves the data dir away has a new one already.
db_new() {
	[ -n "${TEST_PGDB:-}" ] || return 0
	pg_dropdb "$METAPI_TEST_PG" "$TEST_PGDB"
	pg_createdb "$METAPI_TEST_PG" "$TEST_PGDB" >/dev/null
}

# db_dense_ids: PostgreSQL hands out ids from sequences, and a rolled-back
# insert (a dry run) uses one up; SQLite reuses it. Tests that name rows
# by number after a rollback start every sequence again after the
# largest id, as SQLite would (no-op with SQLite).
db_dense_ids() {
	[ -n "${TEST_PGDB:-}" ] || return 0
	pg_sql "$METAPI_TEST_PG" "$TEST_PGDB" "DO \$\$ DECLARE t text; BEGIN
	    FOR t IN SELECT table_name FROM information_schema.columns
	    WHERE column_name = 'id' AND is_identity = 'YES' LOOP
	    EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''),
	    (SELECT COALESCE(MAX(id), 0) + 1 FROM %I), false)', t, t);
	    END LOOP; END \$\$" >/dev/null
}

# need_pg: a PostgreSQL server for this test's own databases, its URL in
# PG_BASE: the suite's (METAPI_TEST_DB=pg) or a private cluster started
# here and stopped at the end. Without PostgreSQL in this build or on
# this machine the test says it was skipped, and ends (in CI, fails).
need_pg() {
	why=
	if ! grep -q '^#define HAVE_POSTGRESQL 1' "$BUILDDIR/config.h"; then
		why="built without PostgreSQL (./configure --with-postgresql)"
	else
		. "$SRCDIR/tests/lib/pg.sh"
		[ -n "${METAPI_TEST_PG:-}" ] || pg_bindir >/dev/null ||
		    why="no PostgreSQL server programs (initdb, pg_ctl)"
	fi
	if [ -n "$why" ]; then
		echo "$TEST_NAME: skipped: $why" >&2
		[ "${CI:-}" = true ] && fail "no PostgreSQL in CI: $why"
		test_done
		exit $?
	fi
	if [ -n "${METAPI_TEST_PG:-}" ]; then
		PG_BASE=$METAPI_TEST_PG
		return 0
	fi
	TEST_PGCLUSTER=$(mktemp -d "${TMPDIR:-/tmp}/metapi-pg.XXXXXX")
	pg_start "$TEST_PGCLUSTER" || {
		fail "cannot start a PostgreSQL cluster"
		test_done
		exit 1
	}
}

test_done() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
