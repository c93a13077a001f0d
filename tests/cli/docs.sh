# The generated parts of the docs must match what the binary prints from
# its tables: the COMMANDS and SETTINGS parts of doc/metapi.1 and the zsh
# completion (doc/PROTOCOL.md is checked by protocol.sh). Each failure
# names the make target that brings the file back in step.
. "$SRCDIR/tests/lib/libtest.sh"
test_init docs

{ "$METAPI" --man-commands && "$METAPI" --man-settings; } |
    ${AWK:-awk} -f "$SRCDIR/doc/gen-man.awk" "$SRCDIR/doc/metapi-notes.roff" \
    - "$SRCDIR/doc/metapi.1" >"$TMP/metapi.1" 2>"$ERR"
rc=$?
if [ $rc -eq 0 ] && cmp -s "$TMP/metapi.1" "$SRCDIR/doc/metapi.1"; then pass; else
	fail "doc/metapi.1 differs from the command and setting tables: run make man-doc"
	diff "$SRCDIR/doc/metapi.1" "$TMP/metapi.1" | head -n 10 >&2
fi

"$METAPI" --zsh-completion >"$TMP/_metapi"
if cmp -s "$TMP/_metapi" "$SRCDIR/data/completion/_metapi"; then pass; else
	fail "data/completion/_metapi differs from the command table: run make zsh-completion"
	diff "$SRCDIR/data/completion/_metapi" "$TMP/_metapi" | head -n 10 >&2
fi

# Every command and setting is in the man page, each option with it.
"$METAPI" --list-words >"$TMP/words"
man=$(cat "$TMP/metapi.1")
missing=
while read -r line; do
	words=${line%% -*}
	roff=$(printf '%s' "$words" | sed 's/-/\\-/g')
	case $man in
	*"fBmetapi $roff"*) ;;
	*) missing="$missing [$words]" ;;
	esac
done <"$TMP/words"
expect "every command has an entry in the man page" "$missing" ""
missing=
for key in $("$METAPI" --man-settings | sed -n 's/^\\fB\([a-z_0-9]*\)\\fR (.*/\1/p'); do
	case $man in
	*"fB$key\\fR ("*) ;;
	*) missing="$missing $key" ;;
	esac
done
expect "every setting has an entry in the man page" "$missing" ""
n=$("$METAPI" --man-settings | grep -c '^\.\\" @item ')
expect_match "settings listed" "$n" '^[1-9][0-9]*$'

# Roff: every hyphen escaped, no text line taken for a request.
bad=$({ "$METAPI" --man-commands; "$METAPI" --man-settings; } |
    grep -v '^\.' | grep -e '[^\\]-' -e '^-' -e "^'" | head -n 3)
expect "generated roff escapes hyphens and leading quotes" "$bad" ""

# A note for something the tables do not have is refused.
printf '.\\" @help site.nosuchverb\nText.\n' >"$TMP/notes"
{ "$METAPI" --man-commands && "$METAPI" --man-settings; } |
    ${AWK:-awk} -f "$SRCDIR/doc/gen-man.awk" "$TMP/notes" - \
    "$SRCDIR/doc/metapi.1" >/dev/null 2>"$ERR"
rc=$?
expect "orphan note: refused" "$rc" 1
expect_match "orphan note: named" "$(cat "$ERR")" "site.nosuchverb"
: >"$ERR"

# README: the Quick start is exactly two commands, and CI (.ci/run) runs
# exactly the second, the whole test suite.
${AWK:-awk} '/^Quick start$/ { q = 1; getline; next }
    q && /^---/ { exit } q && /^    [^ ]/ { sub(/^    /, ""); print }' \
    "$SRCDIR/README" >"$TMP/quick"
expect "README Quick start has two commands" "$(wc -l <"$TMP/quick" | tr -d ' ')" 2
expect_match "the first builds and starts the daemon" "$(sed -n 1p "$TMP/quick")" \
    '^\.ci/bootstrap && make -j2 && \./metapi status$'
expect ".ci/run runs the README's test command" \
    "$(grep -v -e '^#' -e '^set ' -e '^cd ' -e '^$' "$SRCDIR/.ci/run")" \
    "$(sed -n 2p "$TMP/quick")"

if command -v groff >/dev/null 2>&1; then
	w=$(groff -man -Tutf8 -ww -z "$SRCDIR/doc/metapi.1" 2>&1 | head -n 5)
	expect "groff -ww: no warnings" "$w" ""
fi

test_done
