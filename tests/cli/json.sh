# --json everywhere: every command in the command table (metapi
# --list-words), run with --json, with no argument and with an id that
# does not exist, prints exactly one JSON document on stdout whenever the
# daemon answered, success or refusal (exit 0 or 1), and its messages on
# stderr. Usage errors the client finds itself (exit 2) print nothing on
# stdout. Commands run from a scratch directory, as some take file names.
. "$SRCDIR/tests/lib/libtest.sh"
test_init json

ok "start" status
mkdir -p "$TMP/cwd"
"$METAPI" --list-words | sed 's/ --.*//' >"$TMP/words"
expect_match "the command table is listed" "$(wc -l <"$TMP/words")" '^ *[0-9]{2,}$'
answered=0
bad=
while read -r words; do
	# stop ends the daemon; it is checked last.
	[ "$words" = stop ] && continue
	for arg in "" 999999; do
		(cd "$TMP/cwd" && timeout 30 "$METAPI" --json $words $arg \
		    >"$OUT" 2>"$ERR" </dev/null)
		rc=$?
		case $rc in
		0|1)	answered=$((answered + 1))
			jget "$OUT" length >/dev/null 2>&1 ||
			    bad="$bad [$words $arg: exit $rc, not one JSON document]" ;;
		2)	[ -s "$OUT" ] && ! jget "$OUT" length >/dev/null 2>&1 &&
			    bad="$bad [$words $arg: usage error with text on stdout]" ;;
		*)	bad="$bad [$words $arg: exit $rc]" ;;
		esac
		if [ "$rc" -eq 1 ] && [ ! -s "$ERR" ]; then
			bad="$bad [$words $arg: refused without a message on stderr]"
		fi
	done
done <"$TMP/words"
expect "every command answers in JSON" "$bad" ""
expect_match "most commands reached the daemon" "$answered" '^[0-9]{2,}$'

# A refusal is JSON too: ok false with the error's code and message.
refuse "refused" 1 "no site" --json site show nope
expect "refusal: ok" "$(jget "$OUT" ok)" false
expect "refusal: code" "$(jget "$OUT" error.code)" not_found
expect "refusal: message" "$(jget "$OUT" error.message)" 'no site "nope"'
ok "stop" --json stop
expect "stop in JSON" "$(jget "$OUT" status)" stopping

test_done
