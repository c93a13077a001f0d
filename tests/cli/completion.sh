# The completions list every command: the bash completion (which reads
# `metapi --list-words`) is driven in bash for every command's words and
# options, and the zsh completion (printed from the same table) is checked
# to name them all.
. "$SRCDIR/tests/lib/libtest.sh"
test_init completion

"$METAPI" --list-words >"$TMP/words"
expect_match "the table lists commands" "$(wc -l <"$TMP/words")" '[1-9]'

if command -v bash >/dev/null 2>&1; then
	# For each line "site add --platform ...": "metapi " offers "site",
	# "metapi site " offers "add", "metapi site add --" every option.
	bash -c '
		METAPI=$3
		. "$1"
		# comp WORD...: what completing after "metapi WORD..." offers.
		comp() {
			COMP_WORDS=("$METAPI" "$@")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMPREPLY=()
			_metapi 2>/dev/null
			printf " %s " "${COMPREPLY[@]}"
		}
		# has WHAT OFFERED DESC
		has() {
			case $2 in
			*" $1 "*) ;;
			*) echo "$3 does not offer $1:$2" ;;
			esac
		}
		top=$(comp "")
		has daemon "$top" "metapi"
		has tui "$top" "metapi"
		while read -r -a t; do
			k=0
			while ((k < ${#t[@]})) && [[ ${t[k]} != -* ]]; do
				((k++))
			done
			for ((n = 0; n < k; n++)); do
				has "${t[n]}" "$(comp "${t[@]:0:n}" "")" \
				    "metapi ${t[*]:0:n}"
			done
			opts=$(comp "${t[@]:0:k}" --)
			for ((n = k; n < ${#t[@]}; n++)); do
				has "${t[n]}" "$opts" "metapi ${t[*]:0:k} --"
			done
			has --help "$opts" "metapi ${t[*]:0:k} --"
		done <"$2"
		has openai "$(comp site add x y --platform "")" \
		    "metapi site add --platform"
		has --data-dir "$(comp --)" "metapi --"
		has add "$(comp -d /tmp site "")" "metapi -d /tmp site"
	' bash "$SRCDIR/data/completion/metapi" "$TMP/words" \
	    "$METAPI" >"$TMP/bash.out" 2>&1
	expect "bash completion offers every command and option" \
	    "$(head -n 5 "$TMP/bash.out")" ""
fi

# zsh: one function per command, with its words and every option.
Z="$SRCDIR/data/completion/_metapi"
missing=
while read -r line; do
	words=${line%% -*}
	[ "$words" = "$line" ] && opts= || opts=${line#"$words" }
	fn="_metapi_cmd_$(printf '%s' "$words" | tr -c 'a-zA-Z0-9\n' _)"
	grep -q "^$fn()\$" "$Z" || missing="$missing [$fn]"
	grep -q "^	'$words' '" "$Z" || missing="$missing [$words]"
	for o in $opts; do
		# The option inside that command's function.
		sed -n "/^$fn()\$/,/^}/p" "$Z" | grep -q -e "'\\*\\{0,1\\}$o[=[]" ||
		    missing="$missing [$words $o]"
	done
done <"$TMP/words"
expect "zsh completion covers every command and option" "$missing" ""
if command -v zsh >/dev/null 2>&1; then
	if zsh -n "$Z" 2>"$ERR"; then pass; else fail "zsh -n $Z"; fi
fi

test_done
