# Static analysis (issue #10): cppcheck over the product's C code (src,
# daemon, tui) with its warning and portability checks, jansson's
# iteration macros known; any finding fails. Deliberate exceptions are
# inline "cppcheck-suppress" comments that say why. .ci/bootstrap
# installs cppcheck; without it this is skipped, except under CI=true.
. "$SRCDIR/tests/lib/libtest.sh"
test_init lint

if ! command -v cppcheck >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		fail "cppcheck is not installed (.ci/bootstrap installs it)"
	else
		echo "lint: cppcheck not installed; skipped" >&2
	fi
	test_done
	exit $?
fi
JANSSON="$(pkg-config --variable=includedir jansson 2>/dev/null || echo /usr/include)/jansson.h"
cppcheck -q -j2 --enable=warning,portability --inline-suppr --std=c11 \
    -I "$SRCDIR/src" -I "$BUILDDIR" --include="$JANSSON" \
    --suppress=missingIncludeSystem --error-exitcode=1 \
    "$SRCDIR/src" "$SRCDIR/daemon" "$SRCDIR/tui" 2>"$TMP/cppcheck.txt"
RC=$?
expect "cppcheck finds nothing" "$RC" 0
[ "$RC" -eq 0 ] || sed 's/^/    /' "$TMP/cppcheck.txt" | head -40 >&2
test_done
