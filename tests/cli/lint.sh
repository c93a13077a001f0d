# Static analysis (issue #10) over the product's C code (src, daemon,
# tui); any finding fails. `.ci/bootstrap test` installs both tools; without
# one its part is skipped, except under CI=true.
#
# cppcheck: its warning and portability checks, jansson's iteration
# macros known. Deliberate exceptions are inline "cppcheck-suppress"
# comments that say why.
#
# clang-tidy: the bugprone checks, and CERT's on string-to-number
# conversion, with these left out because our idioms trip them, not
# bugs: easily-swappable-parameters (most functions take two strings),
# reserved-identifier (none of ours; it flags system macros),
# narrowing-conversions and implicit-widening (size_t and int meet in
# every length; -Wall catches the real ones), assignment-in-if-condition
# (the house style: if ((p = f()) == NULL)), sizeof-expression (it
# flags sizeof *v for arrays of pointers, which is right), branch-clone
# (error chains that end alike on purpose). The path-sensitive
# clang-analyzer checks are not run here: about 40 times slower (5 CPU-
# minutes); doc/RELIABILITY.md has what a run of them found. Exceptions
# are inline NOLINT comments that say why.
. "$SRCDIR/tests/lib/libtest.sh"
test_init lint

# The same sources whatever the database: the SQLite pass analyses them.
if [ -n "${TEST_PGDB:-}" ]; then
	echo "lint: run in the SQLite pass, not again on PostgreSQL" >&2
	test_done
	exit $?
fi

# need TOOL: is it there? Missing is a failure only under CI.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		fail "$1 is not installed (.ci/bootstrap test installs it)"
	else
		echo "lint: $1 not installed; skipped" >&2
	fi
	return 1
}

if need cppcheck; then
	JANSSON="$(pkg-config --variable=includedir jansson 2>/dev/null || echo /usr/include)/jansson.h"
	cppcheck -q -j2 --enable=warning,portability --inline-suppr --std=c11 \
	    -I "$SRCDIR/src" -I "$BUILDDIR" --include="$JANSSON" \
	    --suppress=missingIncludeSystem --error-exitcode=1 \
	    "$SRCDIR/src" "$SRCDIR/daemon" "$SRCDIR/tui" 2>"$TMP/cppcheck.txt"
	RC=$?
	expect "cppcheck finds nothing" "$RC" 0
	[ "$RC" -eq 0 ] || sed 's/^/    /' "$TMP/cppcheck.txt" | head -40 >&2
fi

if need clang-tidy; then
	CHECKS='-*,bugprone-*,-bugprone-easily-swappable-parameters'
	CHECKS="$CHECKS,-bugprone-reserved-identifier"
	CHECKS="$CHECKS,-bugprone-narrowing-conversions"
	CHECKS="$CHECKS,-bugprone-implicit-widening-of-multiplication-result"
	CHECKS="$CHECKS,-bugprone-assignment-in-if-condition"
	CHECKS="$CHECKS,-bugprone-sizeof-expression,-bugprone-branch-clone"
	CHECKS="$CHECKS,cert-err34-c,cert-str34-c,misc-redundant-expression"
	cat >"$TMP/tidy" <<EOT
#!/bin/sh
exec clang-tidy -quiet --checks='$CHECKS' --warnings-as-errors='*' "\$@" -- \
    -std=gnu11 -DHAVE_CONFIG_H -DLOCALEDIR='"/usr/share/locale"' \
    -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=600 -I'$BUILDDIR' -I'$SRCDIR/src' \
    -I'$SRCDIR/daemon' -I'$SRCDIR/tui' \
    $(pkg-config --cflags libcurl jansson libsodium sqlite3 2>/dev/null) \
    $(pkg-config --cflags libpq 2>/dev/null)
EOT
	chmod +x "$TMP/tidy"
	# The PostgreSQL backend only where libpq's headers are.
	skip=
	pkg-config --exists libpq 2>/dev/null || skip=/db-pg.c
	ls "$SRCDIR"/src/*.c "$SRCDIR"/daemon/*.c "$SRCDIR"/tui/*.c |
	    grep -v "${skip:-^$}" |
	    xargs -P2 -n8 "$TMP/tidy" >"$TMP/tidy.txt" 2>"$TMP/tidy.err"
	RC=$?
	expect "clang-tidy finds nothing" "$RC" 0
	[ "$RC" -eq 0 ] || grep -A3 'warning:\|error:' "$TMP/tidy.txt" |
	    sed 's/^/    /' | head -40 >&2
fi
test_done
