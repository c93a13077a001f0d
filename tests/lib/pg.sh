# A private PostgreSQL cluster for tests: initdb in a temp dir, a Unix
# socket in that dir and a loopback port, trust authentication for the
# cluster's one role. Under root the cluster runs as the postgres user
# (initdb refuses root); the tests connect as that role.
#
# Use: . tests/lib/pg.sh; pg_start DIR && URL=$(pg_createdb NAME); ...;
# pg_stop DIR. pg_start sets PG_BASE, the URL of the server without a
# database name; tests/run.sh exports it as METAPI_TEST_PG.

# The directory of initdb and pg_ctl: PATH, else Debian's versioned dir.
pg_bindir() {
	if command -v initdb >/dev/null 2>&1 &&
	    command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v pg_ctl)"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -r); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	return 1
}

# pg_as CMD...: run as the cluster's owner.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR: make and start a cluster in DIR (created, emptied first).
pg_start() {
	dir=$1
	bin=$(pg_bindir) || { echo "pg_start: no initdb/pg_ctl" >&2; return 1; }
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	if [ "$(id -u)" -eq 0 ]; then PG_USER=postgres; else PG_USER=$(id -un); fi
	pg_as "$bin/initdb" -D "$dir/data" -U "$PG_USER" -A trust -E UTF8 \
	    --no-sync --no-instructions >"$dir/initdb.log" 2>&1 || {
		echo "pg_start: initdb failed:" >&2
		tail -n 5 "$dir/initdb.log" >&2
		return 1
	}
	# A free loopback port: try a few at random.
	for try in 1 2 3 4 5 6 7 8; do
		PG_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		if pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		    -t 30 -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		    start >/dev/null 2>&1; then
			PG_HOST=$dir
			PG_BASE="postgresql://$PG_USER@127.0.0.1:$PG_PORT"
			echo "$PG_BASE" >"$dir/url"
			return 0
		fi
	done
	echo "pg_start: the server did not start:" >&2
	tail -n 5 "$dir/server.log" >&2
	return 1
}

# pg_restart DIR: stop the server (closing every connection) and start it
# again with the same options.
pg_restart() {
	bin=$(pg_bindir) || return 1
	pg_as "$bin/pg_ctl" -D "$1/data" -m fast -w -t 30 restart >/dev/null 2>&1
}

pg_stop() {
	bin=$(pg_bindir) || return 0
	[ -d "$1/data" ] || return 0
	pg_as "$bin/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$1"
}

# pg_sql BASE DB SQL: run SQL in database DB of the server at BASE.
pg_sql() {
	PGOPTIONS="-c client_min_messages=warning" \
	    psql -X -q -At -v ON_ERROR_STOP=1 "$1/$2" -c "$3"
}

# pg_createdb BASE NAME: a fresh, empty database; prints its URL.
pg_createdb() {
	pg_sql "$1" postgres "DROP DATABASE IF EXISTS \"$2\"" >/dev/null &&
	    pg_sql "$1" postgres "CREATE DATABASE \"$2\"" >/dev/null &&
	    echo "$1/$2"
}

pg_dropdb() {
	pg_sql "$1" postgres "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" \
	    >/dev/null 2>&1
}
