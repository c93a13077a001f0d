# Mail notifications over TLS: STARTTLS and implicit TLS (smtps) to the
# test sink with a throwaway CA made here, trusted per channel through
# --ca-file. Without that CA the certificate is refused; --tls starttls to
# a server that offers no STARTTLS fails without ever sending the
# password; a --ca-file that is not certificates is refused at add time;
# the CA survives a restart.
. "$SRCDIR/tests/lib/libtest.sh"
test_init smtp-tls

SINK_BIN="$BUILDDIR/tests/tools/sink"
if ! "$SINK_BIN" --has-tls 2>/dev/null || ! command -v openssl >/dev/null; then
	# CI has both (.ci/bootstrap test); elsewhere their absence is said.
	echo "smtp-tls: skipped: the sink was built without OpenSSL" \
	    "(libssl-dev) or there is no openssl command" >&2
	[ "${CI:-}" = true ] && fail "no TLS for the sink in CI"
	test_done
	exit $?
fi

# --- a throwaway CA and a certificate for 127.0.0.1 ----------------------
C="$TMP/certs"
mkdir -p "$C"
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$C/$1.key" -out "$C/$1.pem" -days 2 \
	    -subj "/CN=metapi test $1" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>>"$TMP/openssl.log"
}
mkca ca
mkca otherca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$C/srv.key" -out "$C/srv.csr" -subj "/CN=127.0.0.1" \
    2>>"$TMP/openssl.log"
printf '%s\n' 'subjectAltName=IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
    'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' \
    >"$C/srv.ext"
openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
    -CAcreateserial -out "$C/srv.pem" -days 2 -extfile "$C/srv.ext" \
    2>>"$TMP/openssl.log"
if [ -s "$C/srv.pem" ] && [ -s "$C/otherca.pem" ]; then pass; else
	fail "openssl made no certificates: $(tail -n 3 "$TMP/openssl.log")"
fi

# --- two sinks: one with STARTTLS and an smtps port, one plain ------------
SINK="$TMP/sink"
PLAIN="$TMP/plain"
mkdir -p "$SINK" "$PLAIN"
# wait_file F...: until each file is there (4 s at most).
wait_file() {
	for f in "$@"; do
		i=0
		while [ ! -s "$f" ] && [ $i -lt 200 ]; do
			sleep 0.02
			i=$((i + 1))
		done
	done
}
"$SINK_BIN" --dir "$SINK" --port-file "$TMP/hp" --smtp-port-file "$TMP/sp" \
    --smtps-port-file "$TMP/ssp" --tls-cert "$C/srv.pem" \
    --tls-key "$C/srv.key" 2>"$TMP/sink.log" &
echo $! >>"$TMP/pids"
"$SINK_BIN" --dir "$PLAIN" --port-file "$TMP/php" \
    --smtp-port-file "$TMP/psp" 2>"$TMP/plain.log" &
echo $! >>"$TMP/pids"
wait_file "$TMP/sp" "$TMP/ssp" "$TMP/psp"
SP=$(cat "$TMP/sp")
SSP=$(cat "$TMP/ssp")
PSP=$(cat "$TMP/psp")

# nreq DIR: how many requests that sink has recorded.
nreq() {
	ls "$1" | grep -c '^[0-9]*\.json$'
}
# wait_req DIR N: until that sink has recorded N (5 s at most).
wait_req() {
	i=0
	while [ "$(nreq "$1")" -lt "$2" ] && [ $i -lt 250 ]; do
		sleep 0.02
		i=$((i + 1))
	done
}
# check_mail DESC FILE USER PASS: a test mail that came over TLS.
check_mail() {
	expect "$1: over TLS" "$(jget "$2" tls)" true
	expect "$1: AUTH" "$(jget "$2" auth_plain)" "|$3|$4"
	expect_match "$1: MAIL FROM" "$(jget "$2" mail_from)" "^<alerts@metapi.example>"
	expect "$1: RCPT" "$(jget "$2" rcpt.0)" "<ops@example.com>"
	expect "$1: whole" "$(jget "$2" incomplete 2>/dev/null || echo no)" no
	jget "$2" data >"$TMP/mail"
	expect "$1: Subject" "$(grep '^Subject:' "$TMP/mail" | tr -d '\r')" \
	    "Subject: [metapi][INFO] Test notification"
	expect "$1: From" "$(grep '^From:' "$TMP/mail" | tr -d '\r')" \
	    "From: alerts@metapi.example"
	expect_match "$1: body" "$(cat "$TMP/mail")" "This is a test"
}
MAIL="--from alerts@metapi.example --to ops@example.com"

# --- STARTTLS and implicit TLS, trusting the CA per channel ---------------
run_in "tls-pass-0001" --json notify add smtp --host 127.0.0.1 --port "$SP" \
    $MAIL --user alice --password - --tls starttls --ca-file "$C/ca.pem"
expect "starttls added" "$RC" 0
STARTTLS_ID=$(jget "$OUT" id)
expect "the CA is in the config" "$(jget "$OUT" config.ca)" "$(cat "$C/ca.pem")"
expect_match "the summary says so" "$(jget "$OUT" target)" \
    "via 127.0.0.1:$SP \\(starttls, custom CA\\)"
run_in "tls-pass-0002" --json notify add smtp --host 127.0.0.1 --port "$SSP" \
    $MAIL --user carol --password - --tls implicit --ca-file "$C/ca.pem"
expect "implicit added" "$RC" 0
IMPLICIT_ID=$(jget "$OUT" id)

ok "starttls delivers" --json notify test "$STARTTLS_ID"
expect "starttls: ok" "$(jget "$OUT" items.0.ok)" true
wait_req "$SINK" 1
check_mail starttls "$SINK/1.json" alice tls-pass-0001
# The sink forgets the EHLO at STARTTLS: one on record came over TLS.
expect_match "starttls: EHLO again over TLS" "$(jget "$SINK/1.json" helo)" .
ok "implicit delivers" --json notify test "$IMPLICIT_ID"
expect "implicit: ok" "$(jget "$OUT" items.0.ok)" true
wait_req "$SINK" 2
check_mail implicit "$SINK/2.json" carol tls-pass-0002
ok "list" notify list
expect_match "list mentions the custom CA" "$(cat "$OUT")" "custom CA"

# --- the certificate is checked -------------------------------------------
# untrusted DESC ID: the test fails on the certificate and the sink
# recorded nothing.
untrusted() {
	n0=$(nreq "$SINK")
	run --json notify test "$2"
	expect "$1: exit 1" "$RC" 1
	UERR=$(jget "$OUT" items.0.error)
	expect_match "$1: certificate error" "$UERR" \
	    "^127\\.0\\.0\\.1:[0-9]+: .*certificate problem"
	run --json notify list
	jget "$OUT" items >"$TMP/items.json"
	i=0
	while [ "$(jget "$TMP/items.json" $i.id)" != "$2" ]; do
		i=$((i + 1))
	done
	expect_match "$1: last_error" "$(jget "$TMP/items.json" $i.last_error)" \
	    "certificate"
	sleep 0.2
	expect "$1: nothing recorded" "$(nreq "$SINK")" "$n0"
}
run_in "tls-pass-0003" --json notify add smtp --host 127.0.0.1 --port "$SP" \
    $MAIL --user dave --password - --tls starttls
untrusted "starttls without the CA" "$(jget "$OUT" id)"
expect_match "without the CA: a hint" "$UERR" "private CA needs --ca-file"
run_in "tls-pass-0004" --json notify add smtp --host 127.0.0.1 --port "$SSP" \
    $MAIL --user erin --password - --tls implicit
untrusted "implicit without the CA" "$(jget "$OUT" id)"
run_in "tls-pass-0005" --json notify add smtp --host 127.0.0.1 --port "$SSP" \
    $MAIL --user frank --password - --tls implicit --ca-file "$C/otherca.pem"
untrusted "implicit with another CA" "$(jget "$OUT" id)"
expect_nomatch "another CA: no hint" "$UERR" "needs --ca-file"
if grep -a -q "tls-pass-000[345]" "$SINK"/*.json; then
	fail "a password reached the sink over an untrusted connection"
else
	pass
fi

# --- no STARTTLS offered: fail, never fall back to plain text -------------
run_in "tls-pass-0006" --json notify add smtp --host 127.0.0.1 --port "$PSP" \
    $MAIL --user grace --password - --tls starttls --ca-file "$C/ca.pem"
NOTLS_ID=$(jget "$OUT" id)
run --json notify test "$NOTLS_ID"
expect "no STARTTLS: exit 1" "$RC" 1
expect_match "no STARTTLS: said" "$(jget "$OUT" items.0.error)" \
    "^127\\.0\\.0\\.1:$PSP: .*STARTTLS"
sleep 0.2
expect "no STARTTLS: no AUTH, no mail" "$(nreq "$PLAIN")" 0
# The plain sink would have recorded an AUTH had one been sent: a
# password-less-TLS mail to it (allowed on loopback) shows it does.
run_in "plain-pass-0007" --json notify add smtp --host 127.0.0.1 \
    --port "$PSP" $MAIL --user heidi --password - --tls none
ok "plain delivers" notify test "$(jget "$OUT" id)"
wait_req "$PLAIN" 1
expect "plain: recorded as not TLS" "$(jget "$PLAIN/1.json" tls)" false
expect "plain: AUTH seen" "$(jget "$PLAIN/1.json" auth_plain)" \
    "|heidi|plain-pass-0007"
if grep -a -q "tls-pass-0006" "$PLAIN"/*.json; then
	fail "the STARTTLS channel's password went out in clear"
else
	pass
fi

# --- a --ca-file that is not CA certificates is refused -------------------
nchan=$(count_items notify list)
printf 'hello\n' >"$C/text.pem"
refuse "not PEM" 1 "not a PEM certificate" notify add smtp \
    --host 127.0.0.1 $MAIL --ca-file "$C/text.pem"
refuse "a private key" 1 "private key" notify add smtp --host 127.0.0.1 \
    $MAIL --ca-file "$C/srv.key"
sed 's/^M/!/' "$C/ca.pem" >"$C/bad64.pem"
refuse "not base64" 1 "not base64 DER" notify add smtp --host 127.0.0.1 \
    $MAIL --ca-file "$C/bad64.pem"
head -n 3 "$C/ca.pem" >"$C/cut.pem"
refuse "cut short" 1 "without its END line" notify add smtp \
    --host 127.0.0.1 $MAIL --ca-file "$C/cut.pem"
refuse "with --tls none" 1 "needs --tls starttls or implicit" notify add \
    smtp --host 127.0.0.1 $MAIL --tls none --ca-file "$C/ca.pem"
refuse "no such file" 2 "--ca-file .*nope.pem: No such file" notify add \
    smtp --host 127.0.0.1 $MAIL --ca-file "$C/nope.pem"
refuse "a directory" 2 "--ca-file .*: Is a directory" notify add \
    smtp --host 127.0.0.1 $MAIL --ca-file "$C"
head -c 70000 /dev/zero | tr '\0' 'A' >"$C/big.pem"
refuse "too big" 2 "larger than 64 KiB" notify add smtp --host 127.0.0.1 \
    $MAIL --ca-file "$C/big.pem"
expect "nothing added" "$(count_items notify list)" "$nchan"
# A bundle of two, with text around them as bundles have, is fine.
{ echo "# our CAs"; cat "$C/otherca.pem"; echo "subject=CN = metapi test ca"
  cat "$C/ca.pem"; } >"$C/bundle.pem"
run_in "tls-pass-0008" --json notify add smtp --host 127.0.0.1 --port "$SP" \
    $MAIL --user ivan --password - --ca-file "$C/bundle.pem"
expect "bundle added (starttls by default)" "$(jget "$OUT" config.tls)" starttls
ok "bundle delivers" notify test "$(jget "$OUT" id)"
wait_req "$SINK" 3
check_mail bundle "$SINK/3.json" ivan tls-pass-0008

# --- the CA is kept across a restart ---------------------------------------
ok "stop" stop
wait_gone || fail "daemon did not stop"
ok "after restart: delivers" --json notify test "$STARTTLS_ID"
wait_req "$SINK" 4
check_mail "after restart" "$SINK/4.json" alice tls-pass-0001
run --json notify list
jget "$OUT" items.0 >"$TMP/first.json"
expect "after restart: the CA kept" "$(jget "$TMP/first.json" config.ca)" \
    "$(cat "$C/ca.pem")"

# --- nothing secret in the database in the clear --------------------------
ok "stop again" stop
wait_gone
if cat $(db_files) | grep -a -q "tls-pass-\|plain-pass-"; then
	fail "an SMTP password is in the database in the clear"
else
	pass
fi

test_done
