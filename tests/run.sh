#!/bin/sh
# The whole test suite: the C unit tests, the fuzz corpus replays, then every
# tests/cli/*.sh against private daemons. Prints one line "N passed, N
# failed" over all of them and exits non-zero when anything failed.
# Usage: tests/run.sh BUILDDIR SRCDIR [TEST...]
BUILDDIR=${1:?builddir}
SRCDIR=${2:?srcdir}
shift 2
export BUILDDIR SRCDIR
LOGDIR="$BUILDDIR/tests/logs"
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/sanitizer.*
# Under --enable-asan, sanitizer reports of every process (detached daemons
# included, whose stderr is gone) land in files that fail the run below.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$LOGDIR/sanitizer"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$LOGDIR/sanitizer"
total_pass=0
total_fail=0

# METAPI_TEST_DB=pg: every test's daemon stores in a database of its own
# on one private PostgreSQL cluster, started here (tests/lib/pg.sh).
if [ "${METAPI_TEST_DB:-}" = pg ] && [ -z "${METAPI_TEST_PG:-}" ]; then
	. "$SRCDIR/tests/lib/pg.sh"
	PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/metapi-pg.XXXXXX")
	pg_start "$PGDIR" || exit 1
	export METAPI_TEST_PG="$PG_BASE" METAPI_TEST_PGDIR="$PGDIR"
	trap 'pg_stop "$PGDIR"' EXIT
	trap 'exit 1' INT TERM
	echo "PostgreSQL cluster $PG_BASE in $PGDIR"
fi

# count LOG: add the "N passed, N failed" line of a log to the totals.
count() {
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "  (no result line: counted as 1 failure)"
		total_fail=$((total_fail + 1))
		return
	fi
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed}
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

if [ $# -eq 0 ]; then
	set -- unit fakerelay fuzz $(ls "$SRCDIR"/tests/cli/*.sh | sort)
	# The PostgreSQL pass (the suite's second run) leaves out what does
	# not touch the database or touches it only as the tests it does run
	# do: the first pass ran them on the same build.
	if [ -n "${METAPI_TEST_PG:-}" ]; then
		kept=
		for t in "$@"; do
			case $(basename "$t" .sh) in
			unit|fakerelay|fuzz|lint|docs|completion|tui|faults|smtp-tls)
				echo "$(basename "$t" .sh): not in the PostgreSQL pass (no storage of its own)" ;;
			*)	kept="$kept $t" ;;
			esac
		done
		set -- $kept
	fi
fi
for t in "$@"; do
	name=$(basename "$t" .sh)
	log="$LOGDIR/$name.log"
	start=$(date +%s)
	if [ "$t" = unit ]; then
		"$BUILDDIR/tests/unit/runner" >"$log" 2>&1
	elif [ "$t" = fakerelay ]; then
		sh "$SRCDIR/tests/fakerelay/selftest.sh" \
		    "$BUILDDIR/tests/fakerelay/fakerelay" >"$log" 2>&1
	elif [ "$t" = fuzz ]; then
		# Each fuzz harness over its seed corpus: a pass if it exits 0.
		fp=0 ff=0
		: >"$log"
		for h in sse xform proto cron backup request adapter; do
			if "$BUILDDIR/tests/fuzz/replay-$h" -v \
			    "$SRCDIR/tests/fuzz/corpus/$h" >>"$log" 2>&1; then
				fp=$((fp + 1))
			else
				echo "FAIL replay-$h (exit $?)" >>"$log"
				ff=$((ff + 1))
			fi
		done
		echo "$fp passed, $ff failed" >>"$log"
		[ "$ff" -eq 0 ]
	else
		sh "$t" >"$log" 2>&1
	fi
	rc=$?
	printf '%-14s %s (%ss)\n' "$name" "$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)" $(( $(date +%s) - start ))
	[ $rc -ne 0 ] && grep -E '^(FAIL|    stderr)|: expected ' "$log" | head -n 20 | sed 's/^/  /'
	count "$log"
done
for f in "$LOGDIR"/sanitizer.*; do
	[ -f "$f" ] || continue
	echo "sanitizer report $f:"
	head -n 30 "$f" | sed 's/^/  /'
	total_fail=$((total_fail + 1))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
