# The terminal UI driven through tmux: every view renders with data, a
# site added through the form, a bad URL refused inline with nothing
# saved, a proxied request in the live log, the playground streaming an
# answer and comparing two pinned channels, a resize to 80x24, NO_COLOR
# and ASCII mode, zh_CN, a snapshot of the Sites view with volatile
# fields masked, the "/" search jumping to a site, and the daemon going
# away and coming back.
. "$SRCDIR/tests/lib/libtest.sh"
test_init tui

if ! command -v tmux >/dev/null; then
	[ "${CI:-}" = true ] && fail "tmux is not installed in CI"
	echo "tui: tmux not installed, skipped" >&2
	test_done
	exit $?
fi
# A private tmux server: never the user's.
TMUX_SOCK="metapi-test-$$"
unset TMUX
tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; test_cleanup' EXIT

fake_start new-api
A=$FAKE_URL
fake_start new-api
B=$FAKE_URL
# alice keeps only her default token: each usable token serving a model
# is a channel of its own, and the routes view below counts one per
# account.
for u in "$A" "$B"; do one_token "$u"; done
ok "site" site add alpha "$A"
ok "account" account add alpha --username alice --password pass-123
ok "key" key add tui-key
K=$(cat "$OUT")
BASE="http://$(listen_addr)"
curl -s -o /dev/null -H "Authorization: Bearer $K" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"before the tui"}]}' \
    "$BASE/v1/chat/completions"

# screen: the pane's text now. wait_for TEXT: until the pane shows it (8 s).
screen() { tm capture-pane -p -t t; }
wait_for() {
	i=0
	while [ $i -lt 80 ]; do
		screen >"$TMP/screen" 2>/dev/null
		grep -qF -- "$1" "$TMP/screen" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
shows() {	# shows DESC TEXT
	if wait_for "$2"; then pass; else
		fail "$1: the screen does not show '$2':
$(cat "$TMP/screen")"
	fi
}
hides() {	# hides DESC TEXT (after a moment)
	sleep 0.3
	screen >"$TMP/screen"
	if grep -qF -- "$2" "$TMP/screen"; then
		fail "$1: the screen shows '$2'"
	else pass; fi
}
key() { tm send-keys -t t "$@"; }
start_tui() {	# start_tui COLS ROWS [ENV...]
	cols=$1 rows=$2
	shift 2
	# Killing the last session ends the tmux server, and a new-session
	# that meets the server on its way out fails ("server exited
	# unexpectedly"; 3 times in 100 here, more under load): try again.
	tm kill-session -t t 2>/dev/null
	i=0
	until tm new-session -d -s t -x "$cols" -y "$rows" \
	    "env $* '$METAPI' tui; echo TUI-EXITED \$?; sleep 60" 2>/dev/null &&
	    tm has-session -t t 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 20 ] && break
		sleep 0.1
	done
}

start_tui 120 30 TERM=xterm-256color
shows "tab bar" "1 Dashboard"
shows "dashboard: overview" "Balance"
shows "dashboard: balance by site" "Balance by site"
shows "dashboard: the site's bar" "alpha"
shows "dashboard: jobs" "Next check-in"
shows "footer" "help"
key 2
shows "sites view" "alpha"
key 3
shows "accounts view" "password"
key 4
shows "tokens view" "default"
key 5
shows "keys view" "tui-key"
key 7
shows "models view" "gpt-4o-mini"
key 8
shows "logs view: the earlier request" "gpt-4o-mini"
key 9
shows "playground view" "Model:"
key 0
shows "check-ins view" "ACCOUNT"
key :
key 'events' Enter
shows "events view" "TITLE"
key :
key 'jobs' Enter
shows "jobs view" "checkin"
key :
key 'settings' Enter
shows "settings view" "proxy_max_channel_attempts"
key :
key 'notify' Enter
shows "notifications view" "KIND"
# Editing a channel: the add form filled in, the old one replaced; its
# CA, too long for a field, is kept as it was.
printf '%s\n' -----BEGIN\ CERTIFICATE----- MIIBtuiform -----END\ CERTIFICATE----- \
    >"$TMP/ca.pem"
ok "a mail channel" notify add smtp --host 127.0.0.1 --port 2525 --from a@b.c --to d@e.f --ca-file "$TMP/ca.pem"
key r
shows "mail channel listed" "a@b.c -> d@e.f"
key e
shows "edit form prefilled" "2525"
key F2
shows "edited: the new one listed" "2   smtp"
run --json notify list
expect "edited: one channel left" "$(jget "$OUT" items.length)" 1
expect "edited: the settings kept" "$(jget "$OUT" items.0.config.port)" 2525
expect "edited: the CA kept" "$(jget "$OUT" items.0.config.ca)" "$(cat "$TMP/ca.pem")"
key '?'
shows "help screen" "this help"
key Escape

# The live log: a request made now appears without a key pressed.
key 8
shows "logs view" "STATUS"
curl -s -o /dev/null -H "Authorization: Bearer $K" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o","messages":[{"role":"user","content":"live"}]}' \
    "$BASE/v1/chat/completions"
shows "live log: the new request" "gpt-4o "
key Enter
shows "log detail: attempts" "attempts"
key Escape

# A bad URL in the form: an inline error, nothing saved.
key 2
shows "sites again" "alpha"
key a
shows "form" "site add"
key 'beta' Enter 'not a url' Enter Enter Enter Enter Enter Enter
shows "inline error" "bad URL"
key Escape
hides "form closed" "site add:"
run site list
expect_nomatch "bad URL: nothing saved" "$(cat "$OUT")" 'beta'

# The form again, right this time: the site is added and listed.
key a
shows "form again" "site add"
key 'beta' Enter "$B" Enter Enter Enter Enter Enter Enter
shows "added: listed" "2   beta"
run site list
expect_match "form: the site is saved" "$(cat "$OUT")" 'beta'

# Routes: a second account makes two channels; a new weight moves the
# probabilities on screen and is stored.
ok "account on beta" account add beta --username alice --password pass-123
key 6
shows "routes view" "gpt-4o-mini"
key r
key j j j Enter
# The route's channels come from the daemon: wait for them (up to 8 s),
# then for the new weight's probabilities.
i=0
while [ $i -lt 80 ]; do
	screen | grep '%' >"$TMP/before"
	[ "$(grep -c '%' "$TMP/before")" -ge 2 ] && break
	sleep 0.1
	i=$((i + 1))
done
expect_match "two channels with probabilities" "$(grep -c '%' "$TMP/before")" '^[2-9]'
key w
key C-u '30' Enter
i=0
while [ $i -lt 80 ]; do
	sleep 0.1
	screen | grep '%' >"$TMP/after"
	cmp -s "$TMP/before" "$TMP/after" || break
	i=$((i + 1))
done
if cmp -s "$TMP/before" "$TMP/after"; then
	fail "weight edit: the probabilities did not change: $(cat "$TMP/after")"
else
	pass
fi
run --json route show gpt-4o-mini
expect_match "weight edit: stored" "$(cat "$OUT")" '"weight": *30'
key 2

# Filter: "\" (and F4); "/" is the search.
key '\'
key 'beta' Enter
shows "filter keeps beta" "beta"
hides "filter hides alpha" "alpha "
key '\' C-u Enter

# Search: "/" finds the site from any view, in the search view; Enter
# goes to it in the Sites view, selected (its pane shows its URL).
key 8
shows "logs before the search" "STATUS"
key /
shows "search prompt" "Search:"
key 'BET' Enter
shows "search view" "MATCHED"
wait_for "on beta" >/dev/null
expect_match "the site found first" \
    "$(grep -A1 MATCHED "$TMP/screen" | sed -n 2p)" '^site +2 +beta +name'
expect_match "then its account" \
    "$(grep -A2 MATCHED "$TMP/screen" | sed -n 3p)" '^account +2 .*site'
key Enter
shows "jumped to the Sites view" "PLATFORM"
key Enter
shows "its pane" "Details"
screen >"$TMP/screen"
expect_match "the site selected: its pane" "$(cat "$TMP/screen")" \
    'name +beta'
key Escape
key /
shows "the last query offered again" "Search: BET"
key C-u 'zzz-nothing' Enter
shows "no match said" "no matches"
key 2

# A snapshot of the Sites view, volatile fields masked.
key 2
wait_for "beta" >/dev/null
screen | sed -e 's/127\.0\.0\.1:[0-9]*/127.0.0.1:PORT/g' -e 's/ *$//' |
    sed -n '1,4p' >"$TMP/snap"
if diff -u "$SRCDIR/tests/cases/tui/sites-120x30.txt" "$TMP/snap" >"$TMP/snap.diff"; then
	pass
else
	fail "sites snapshot differs:
$(cat "$TMP/snap.diff")"
fi

# The playground: an answer streamed from the daemon's own endpoint under
# a "playground" key, then the two channels of gpt-4o-mini side by side,
# each pinned, both answering the same message.
key :
key 'play' Enter
shows "playground view" "Model:"
key m
key C-u 'gpt-4o-mini' Enter
key i
key 'hello playground' Enter
shows "playground: streamed answer" "echo: hello playground"
shows "playground: answer complete" "total "
run key list
expect_match "playground: its key" "$(cat "$OUT")" 'playground'
run --json route show gpt-4o-mini
CH1=$(jget "$OUT" items.0.id)
CH2=$(jget "$OUT" items.1.id)
key v
key c
key C-u "$CH1" Enter
shows "compare: left pinned" "left: #$CH1 "
key C
key C-u "$CH2" Enter
shows "compare: right pinned" "right: #$CH2 "
key i
key 'both' Enter
i=0
while [ $i -lt 80 ]; do
	n=$(screen | grep -o 'echo: both' | wc -l | tr -d ' ')
	[ "$n" -ge 2 ] && break
	sleep 0.1
	i=$((i + 1))
done
expect "compare: both panes answered" "$n" 2

# Resize to 80x24: the tab bar and the footer stay where they belong.
tm resize-window -t t -x 80 -y 24
key 2
shows "80x24: redrawn" "2 Sites"
shows "80x24: footer redrawn" "details"
screen >"$TMP/screen"
expect "80x24: 24 lines" "$(wc -l <"$TMP/screen" | tr -d ' ')" 24
expect_match "80x24: tab bar first" "$(head -1 "$TMP/screen")" 'Sites'
expect_match "80x24: footer last" "$(tail -1 "$TMP/screen")" 'help'
key q
shows "q quits" "TUI-EXITED 0"

# The daemon goes away and comes back: the TUI says so and reconnects.
start_tui 100 30
shows "started again" "1 Dashboard"
ok "stop" --no-start stop
shows "daemon gone: said" "reconnecting"
ok "daemon back" status
shows "reconnected" "again"
key q

# NO_COLOR and ASCII lines.
start_tui 100 30 NO_COLOR=1 METAPI_TUI_ASCII=1
# Up first: keys sent before the TUI reads its terminal can be lost.
shows "ascii: up" "1 Dashboard"
key '?'
shows "ascii box" "+-"
key Escape q

# zh_CN: the catalogue from the build tree, through LANGUAGE.
if [ -f "$BUILDDIR/po/zh_CN.gmo" ]; then
	mkdir -p "$TMP/locale/zh_CN/LC_MESSAGES"
	cp "$BUILDDIR/po/zh_CN.gmo" "$TMP/locale/zh_CN/LC_MESSAGES/metapi.mo"
	start_tui 100 30 LANG=C.UTF-8 LANGUAGE=zh_CN METAPI_LOCALEDIR="$TMP/locale"
	shows "zh_CN: tab titles" "站点"
	key 2
	shows "zh_CN: data under Chinese titles" "alpha"
	screen >"$TMP/screen"
	expect "zh_CN: 30 lines" "$(wc -l <"$TMP/screen" | tr -d ' ')" 30
	key q
fi
test_done
