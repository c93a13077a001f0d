# The two dialects of the migrations (data/migrations/*.sql and
# data/migrations/pg/*.sql) build the same schema: the same tables with
# the same columns, types (INTEGER is BIGINT, REAL is DOUBLE PRECISION,
# BLOB is BYTEA), NOT NULLs, foreign keys and named indexes. A daemon
# makes each database; the comparison is shown to catch a difference.
. "$SRCDIR/tests/lib/libtest.sh"
test_init pg-schema
need_pg

PGDB="${TEST_PGDB:-t_pg_schema_$$}_twin"
URL=$(pg_createdb "$PG_BASE" "$PGDB") || fail "create database"
SQLDB="$TMP/schema.db"

ok "sqlite daemon" daemon --detach --db "$SQLDB"
ok "stop" stop
wait_gone
ok "postgresql daemon" daemon --detach --db "$URL"
ok "schema version" --json status
expect "pg at the latest version" "$(jget "$OUT" schema_version)" \
    "$(sqlite3 "$SQLDB" "PRAGMA user_version")"
ok "stop" stop
wait_gone

# One line per column, foreign key and index, in SQLite's words.
sqlite_schema() {
	sqlite3 -separator ' ' "$SQLDB" "
	    SELECT 'col', m.name, p.name, lower(p.type),
		CASE WHEN p.\"notnull\" OR p.pk THEN 'notnull' ELSE 'null' END
	    FROM sqlite_master m, pragma_table_info(m.name) p
	    WHERE m.type = 'table'
	    UNION ALL
	    SELECT 'fk', m.name, f.\"from\", f.\"table\", f.on_delete
	    FROM sqlite_master m, pragma_foreign_key_list(m.name) f
	    WHERE m.type = 'table'
	    UNION ALL
	    SELECT 'index', tbl_name, name, '', '' FROM sqlite_master
	    WHERE type = 'index' AND sql IS NOT NULL
	    ORDER BY 1, 2, 3"
}

pg_schema() {
	pg_sql "$PG_BASE" "$PGDB" "
	    SELECT 'col', table_name, column_name,
		CASE data_type WHEN 'bigint' THEN 'integer'
		WHEN 'double precision' THEN 'real' WHEN 'bytea' THEN 'blob'
		ELSE data_type END,
		CASE is_nullable WHEN 'NO' THEN 'notnull' ELSE 'null' END
	    FROM information_schema.columns
	    WHERE table_schema = 'public' AND table_name <> 'metapi_schema'
	    UNION ALL
	    SELECT 'fk', t.relname, a.attname, r.relname,
		CASE c.confdeltype WHEN 'c' THEN 'CASCADE'
		WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT'
		WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END
	    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
	    JOIN pg_class r ON r.oid = c.confrelid
	    JOIN pg_attribute a ON a.attrelid = c.conrelid
		AND a.attnum = c.conkey[1]
	    WHERE c.contype = 'f'
	    UNION ALL
	    SELECT 'index', t.relname, i.relname, '', ''
	    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
	    JOIN pg_class t ON t.oid = x.indrelid
	    JOIN pg_namespace n ON n.oid = t.relnamespace
	    WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1
		FROM pg_constraint k WHERE k.conindid = x.indexrelid)
	    ORDER BY 1, 2, 3" | tr '|' ' '
}

sqlite_schema >"$TMP/sqlite.txt" || fail "read the SQLite schema"
pg_schema >"$TMP/pg.txt" || fail "read the PostgreSQL schema"
expect_match "tables read" "$(grep -c '^col ' "$TMP/sqlite.txt")" '^[1-9][0-9][0-9]$'
if diff "$TMP/sqlite.txt" "$TMP/pg.txt" >"$TMP/diff"; then
	pass
else
	fail "the dialects differ (< SQLite, > PostgreSQL): $(cat "$TMP/diff")"
fi
expect_match "foreign keys compared" "$(cat "$TMP/pg.txt")" \
    "fk accounts site_id sites CASCADE"
expect_match "indexes compared" "$(cat "$TMP/pg.txt")" \
    "index model_availability model_availability_key"

# A column only one dialect has is caught.
pg_sql "$PG_BASE" "$PGDB" "ALTER TABLE sites ADD COLUMN stray TEXT"
pg_schema >"$TMP/pg2.txt"
expect_match "a stray column is a difference" \
    "$(diff "$TMP/sqlite.txt" "$TMP/pg2.txt")" "> col sites stray text null"

[ -z "${TEST_PGDB:-}" ] || pg_dropdb "$PG_BASE" "$PGDB"
test_done
