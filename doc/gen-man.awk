# Redo the generated parts of doc/metapi.1 (`make man-doc`):
#   metapi --man-commands; metapi --man-settings } |
#   awk -f gen-man.awk doc/metapi-notes.roff - doc/metapi.1 > new
# The first file holds the hand-written notes, each after a line
# `.\" @help KEY`; the second is the roff printed from the tables (its
# markers are described in src/doc.c); the third is the man page, whose
# lines between `.\" BEGIN GENERATED: metapi --man-SECTION` and
# `.\" END GENERATED` are replaced. A note replaces the help printed for
# its command, setting or noun; an option the note already describes is
# not printed again. A note whose key is in no table is an error, so a
# renamed command cannot leave its text behind.

FNR == 1 { file++ }

file == 1 && /^\.\\" @help / { key = $3; notes[key] = ""; next }
file == 1 {
	if (key != "")
		notes[key] = notes[key] $0 "\n"
	next
}

# Does the note describe option flag ("\-\-all", not "\-\-all\-x")?
function mentions(note, flag,    i, c) {
	while ((i = index(note, flag)) > 0) {
		c = substr(note, i + length(flag), 1)
		if (c !~ /[a-zA-Z0-9\\_]/)
			return 1
		note = substr(note, i + length(flag))
	}
	return 0
}

function emit(s) { out[section] = out[section] s "\n" }

file == 2 && /^\.\\" @section / { section = $3; skip = 0; next }
file == 2 && /^\.\\" @help / {
	note = ""
	skip = 0
	if ($3 in notes) {
		note = notes[$3]
		used[$3] = 1
		out[section] = out[section] note
		skip = 1
	}
	next
}
file == 2 && /^\.\\" @item / { skip = 0; rs = 0; next }
file == 2 && /^\.\\" @opt / {
	skip = note != "" && mentions(note, $3)
	if (!skip && !rs) {
		emit(".RS")
		rs = 1
	}
	next
}
file == 2 && /^\.\\" @end/ {
	if (rs)
		emit(".RE")
	rs = skip = 0
	next
}
file == 2 { if (!skip) emit($0); next }

/^\.\\" BEGIN GENERATED: metapi --man-/ {
	print
	s = $0
	sub(/.*--man-/, "", s)
	sub(/[^a-z].*/, "", s)
	if (!(s in out)) {
		print "gen-man.awk: nothing generated for " s > "/dev/stderr"
		bad = 1
	}
	printf "%s", out[s]
	done[s] = 1
	inside = 1
	next
}
/^\.\\" END GENERATED/ { inside = 0 }
!inside { print }

END {
	for (k in notes)
		if (!(k in used)) {
			print "gen-man.awk: a note for \"" k "\", which is " \
			    "no command, noun or setting" > "/dev/stderr"
			bad = 1
		}
	for (s in out)
		if (!(s in done)) {
			print "gen-man.awk: no place in the man page for " s \
			    > "/dev/stderr"
			bad = 1
		}
	exit bad
}
