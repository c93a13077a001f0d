# The installed binary is built hardened (configure's default): PIE, full
# RELRO (read-only relocations, bound at start), a stack protector and
# fortified libc calls (not under ASan, which checks the same).
. "$SRCDIR/tests/lib/libtest.sh"
test_init hardening

BIN="$BUILDDIR/metapi"
if ! command -v readelf >/dev/null 2>&1; then
	echo "hardening: readelf missing; skipped" >&2
	test_done
	exit 0
fi
if ! grep -q '^HARDEN_LDFLAGS=.*relro' "$BUILDDIR/config.log" 2>/dev/null; then
	echo "hardening: configured --disable-hardening; skipped" >&2
	test_done
	exit 0
fi
expect_match "position independent" "$(readelf -h "$BIN")" "Type: +DYN"
expect_match "PIE flag" "$(readelf -d "$BIN")" "FLAGS_1.*PIE"
expect_match "bound at start (full RELRO)" "$(readelf -d "$BIN")" "BIND_NOW"
expect_match "RELRO segment" "$(readelf -lW "$BIN")" "GNU_RELRO"
expect_match "stack protector" "$(readelf --dyn-syms -W "$BIN")" "__stack_chk_fail"
if readelf --dyn-syms -W "$BIN" | grep -q "__asan_"; then
	echo "hardening: ASan build; the fortify check is skipped" >&2
else
	expect_match "fortified libc calls" "$(readelf --dyn-syms -W "$BIN")" "__[a-z]*_chk"
fi
test_done
