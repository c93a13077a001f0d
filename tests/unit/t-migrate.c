/*
 * Opening and migrating the database (src/db.c, src/db-migrate.c): a fresh
 * file, a second run, a newer schema, files that are not databases, an old
 * database with tables of its own, a migration that fails half-way, and an
 * upgrade from each older schema version with its rows.
 * Every database lives in a private directory under /tmp.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "db.h"
#include "unit.h"
#include "xmalloc.h"

static const char *const t_migrate_tables[] = {
	"meta", "settings", "sites", "accounts", "upstream_tokens",
	"api_keys", "request_logs", "routes", "channels", "events", "job_runs"
};

/* The first column of the first row of sql as an integer; -1 on error. */
static long long
t_migrate_int(struct db *db, const char *sql)
{
	struct db_stmt	*st;
	long long	 v = -1;

	if ((st = db_prepare(db, sql, NULL)) == NULL)
		return (-1);
	if (db_step(st) == DB_ROW)
		v = db_col_int64(st, 0);
	db_finalize(st);
	return (v);
}

static int
t_migrate_has_table(struct db *db, const char *name)
{
	struct db_stmt	*st;
	int		 found = 0;

	st = db_prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' "
	    "AND name = ?", NULL);
	if (st == NULL)
		return (0);
	db_bind_text(st, 1, name);
	found = db_step(st) == DB_ROW;
	db_finalize(st);
	return (found);
}

static int
t_migrate_version(struct db *db)
{
	int	v = -1;

	if (db_user_version(db, &v, NULL) != 0)
		return (-1);
	return (v);
}

static int
t_migrate_write(const char *path, const void *p, size_t len)
{
	int	fd;
	ssize_t	n;

	if ((fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0600)) == -1)
		return (-1);
	n = write(fd, p, len);
	close(fd);
	return (n == (ssize_t)len ? 0 : -1);
}

static void
t_migrate_table(void)
{
	size_t	i;

	CHECK(db_migrations_count > 0);
	CHECK_INT(db_latest_version(),
	    db_migrations[db_migrations_count - 1].version);
	for (i = 0; i < db_migrations_count; i++) {
		unit_case("migration %zu", i);
		CHECK_INT(db_migrations[i].version, (long long)i + 1);
		CHECK(db_migrations[i].name != NULL);
		CHECK(db_migrations[i].sql != NULL);
	}
	unit_case_end();
}

static void
t_migrate_fresh(const char *dir)
{
	struct db	*db;
	char		*path, *cause = NULL;
	long long	 objects;
	size_t		 i;

	xasprintf(&path, "%s/fresh.db", dir);
	db = db_open(path, &cause);
	CHECK_STR(cause, NULL);
	if (!CHECK(db != NULL))
		goto out;
	CHECK_INT(t_migrate_version(db), 0);
	CHECK_INT(t_migrate_int(db, "PRAGMA foreign_keys"), 1);
	CHECK_INT(db_migrate(db, &cause), 0);
	CHECK_STR(cause, NULL);
	CHECK_INT(t_migrate_version(db), db_latest_version());
	for (i = 0; i < nitems(t_migrate_tables); i++) {
		unit_case("table %s", t_migrate_tables[i]);
		CHECK(t_migrate_has_table(db, t_migrate_tables[i]));
	}
	unit_case_end();

	/* A second run changes nothing, not even the rows. */
	CHECK_INT(db_exec(db, "INSERT INTO settings (key, value, updated_at) "
	    "VALUES ('x', 'y', 0)", &cause), 0);
	objects = t_migrate_int(db, "SELECT count(*) FROM sqlite_master");
	CHECK_INT(db_migrate(db, &cause), 0);
	CHECK_STR(cause, NULL);
	CHECK_INT(t_migrate_version(db), db_latest_version());
	CHECK_INT(t_migrate_int(db, "SELECT count(*) FROM sqlite_master"),
	    objects);
	CHECK_INT(t_migrate_int(db, "SELECT count(*) FROM settings"), 1);
	db_close(db);

	/* And again after reopening, with WAL remembered in the file. */
	db = db_open(path, &cause);
	if (CHECK(db != NULL)) {
		CHECK_INT(db_migrate(db, &cause), 0);
		CHECK_INT(t_migrate_int(db, "SELECT count(*) FROM settings"),
		    1);
		CHECK_INT(t_migrate_int(db, "SELECT journal_mode = 'wal' FROM "
		    "pragma_journal_mode"), 1);
	}
	db_close(db);
out:
	free(cause);
	free(path);
}

/* A schema from a newer metapi is refused and left alone. */
static void
t_migrate_newer(const char *dir)
{
	struct db	*db;
	char		*path, *sql, *cause = NULL;

	xasprintf(&path, "%s/newer.db", dir);
	db = db_open(path, &cause);
	if (!CHECK(db != NULL))
		goto out;
	xasprintf(&sql, "PRAGMA user_version = %d", db_latest_version() + 1);
	CHECK_INT(db_exec(db, sql, &cause), 0);
	free(sql);
	CHECK_INT(db_migrate(db, &cause), -1);
	CHECK_SUB(cause, "newer");
	CHECK_INT(t_migrate_version(db), db_latest_version() + 1);
	CHECK_INT(t_migrate_has_table(db, "sites"), 0);
	db_close(db);
out:
	free(cause);
	free(path);
}

/* Files that are not databases: refused with a message, not touched. */
static void
t_migrate_garbage(const char *dir)
{
	static const char	 text[] = "hello, this is not a database\n";
	uint8_t			 junk[4096], back[4096];
	uint32_t		 x = 0x9e3779b9;
	struct db		*db;
	char			*path, *cause;
	size_t			 i;
	int			 fd;
	ssize_t			 n;

	for (i = 0; i < sizeof junk; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = x & 0xff;
	}
	xasprintf(&path, "%s/garbage.db", dir);

	unit_case("random bytes");
	CHECK_INT(t_migrate_write(path, junk, sizeof junk), 0);
	cause = NULL;
	db = db_open(path, &cause);
	CHECK(db == NULL);
	CHECK_SUB(cause, "not a metapi database");
	CHECK_SUB(cause, path);
	db_close(db);
	free(cause);
	n = -1;
	if ((fd = open(path, O_RDONLY)) != -1) {
		n = read(fd, back, sizeof back);
		close(fd);
	}
	CHECK_INT(n, sizeof junk);
	CHECK(memcmp(junk, back, sizeof junk) == 0);

	unit_case("short text file");
	CHECK_INT(t_migrate_write(path, text, sizeof text - 1), 0);
	cause = NULL;
	db = db_open(path, &cause);
	CHECK(db == NULL);
	CHECK_SUB(cause, "not a metapi database");
	db_close(db);
	free(cause);

	unit_case("a directory");
	cause = NULL;
	db = db_open(dir, &cause);
	CHECK(db == NULL);
	CHECK(cause != NULL);
	db_close(db);
	free(cause);

	unit_case("a missing directory");
	free(path);
	xasprintf(&path, "%s/no/such/dir.db", dir);
	cause = NULL;
	db = db_open(path, &cause);
	CHECK(db == NULL);
	CHECK_SUB(cause, "cannot open");
	db_close(db);
	free(cause);

	/* An empty file is simply an empty database. */
	unit_case("empty file");
	free(path);
	xasprintf(&path, "%s/empty.db", dir);
	CHECK_INT(t_migrate_write(path, "", 0), 0);
	cause = NULL;
	db = db_open(path, &cause);
	if (CHECK(db != NULL)) {
		CHECK_INT(db_migrate(db, &cause), 0);
		CHECK_INT(t_migrate_version(db), db_latest_version());
	}
	db_close(db);
	free(cause);
	free(path);
	unit_case_end();
}

/* Make a database at schema version 0 holding sql. */
static int
t_migrate_make_old(const char *path, const char *sql)
{
	struct db	*db;
	char		*cause = NULL;
	int		 rc;

	if ((db = db_open(path, &cause)) == NULL) {
		free(cause);
		return (-1);
	}
	rc = db_exec(db, sql, &cause);
	free(cause);
	db_close(db);
	return (rc);
}

static void
t_migrate_upgrade(const char *dir)
{
	struct db	*db;
	char		*path, *cause = NULL;

	unit_case("version 0 with a table of its own");
	xasprintf(&path, "%s/old.db", dir);
	CHECK_INT(t_migrate_make_old(path, "CREATE TABLE legacy (x TEXT); "
	    "INSERT INTO legacy VALUES ('kept');"), 0);
	db = db_open(path, &cause);
	if (!CHECK(db != NULL))
		goto out;
	CHECK_INT(t_migrate_version(db), 0);
	CHECK_INT(db_migrate(db, &cause), 0);
	CHECK_STR(cause, NULL);
	CHECK_INT(t_migrate_version(db), db_latest_version());
	CHECK(t_migrate_has_table(db, "legacy"));
	CHECK(t_migrate_has_table(db, "sites"));
	CHECK(t_migrate_has_table(db, "api_keys"));
	CHECK_INT(t_migrate_int(db, "SELECT count(*) FROM legacy "
	    "WHERE x = 'kept'"), 1);
	db_close(db);
	free(path);

	/* A migration that fails is rolled back whole. */
	unit_case("version 0 with a clashing table");
	xasprintf(&path, "%s/clash.db", dir);
	CHECK_INT(t_migrate_make_old(path, "CREATE TABLE sites (x TEXT);"), 0);
	db = db_open(path, &cause);
	if (!CHECK(db != NULL))
		goto out;
	CHECK_INT(db_migrate(db, &cause), -1);
	CHECK_SUB(cause, db_migrations[0].name);
	CHECK_INT(t_migrate_version(db), 0);
	CHECK_INT(t_migrate_has_table(db, "meta"), 0);
	CHECK_INT(t_migrate_has_table(db, "accounts"), 0);
	db_close(db);
out:
	unit_case_end();
	free(cause);
	free(path);
}

/*
 * An upgrade from every older schema: a database made by the first k
 * migrations (as the metapi that knew only those left it), holding a site,
 * a key and a setting, is brought to the newest version with its rows,
 * and the later columns get their defaults.
 */
static void
t_migrate_from_each(const char *dir)
{
	struct db	*db;
	char		*path, *sql, *cause;
	size_t		 k, i;
	int		 ok;

	for (k = 1; k < db_migrations_count; k++) {
		unit_case("upgrade from version %d",
		    db_migrations[k - 1].version);
		xasprintf(&path, "%s/v%zu.db", dir, k);
		cause = NULL;
		if (!CHECK((db = db_open(path, &cause)) != NULL))
			goto next;
		ok = 1;
		for (i = 0; i < k && ok; i++)
			ok = db_exec(db, db_migrations[i].sql[DB_SQLITE],
			    &cause) == 0;
		xasprintf(&sql, "PRAGMA user_version = %d; "
		    "INSERT INTO sites (name, url, platform, created_at, "
		    "updated_at) VALUES ('old', 'https://old.example', "
		    "'new-api', 1, 1); "
		    "INSERT INTO api_keys (name, key_hash, key_mask, models, "
		    "created_at, updated_at) VALUES ('k', x'00', 'sk-...', "
		    "'[\"*\"]', 1, 1); "
		    "INSERT INTO settings (key, value, updated_at) VALUES "
		    "('log_retention_days', '9', 1);",
		    db_migrations[k - 1].version);
		if (ok)
			ok = db_exec(db, sql, &cause) == 0;
		free(sql);
		CHECK(ok);
		CHECK_STR(cause, NULL);
		db_close(db);
		if (!ok)
			goto next;

		if (!CHECK((db = db_open(path, &cause)) != NULL))
			goto next;
		CHECK_INT(t_migrate_version(db), db_migrations[k - 1].version);
		CHECK_INT(db_migrate(db, &cause), 0);
		CHECK_STR(cause, NULL);
		CHECK_INT(t_migrate_version(db), db_latest_version());
		CHECK_INT(t_migrate_int(db, "SELECT count(*) FROM sites WHERE "
		    "name = 'old' AND url = 'https://old.example'"), 1);
		CHECK_INT(t_migrate_int(db, "SELECT probe FROM sites WHERE "
		    "name = 'old'"), 1);
		CHECK_INT(t_migrate_int(db, "SELECT count(*) FROM api_keys "
		    "WHERE name = 'k'"), 1);
		CHECK_INT(t_migrate_int(db, "SELECT value FROM settings WHERE "
		    "key = 'log_retention_days'"), 9);
		CHECK_INT(t_migrate_int(db, "SELECT count(*) FROM "
		    "config_revision"), 1);
		db_close(db);
next:
		free(cause);
		free(path);
	}
	unit_case_end();
}

void
t_migrate(void)
{
	char	*dir;

	t_migrate_table();
	if (!CHECK((dir = unit_tmpdir()) != NULL))
		return;
	t_migrate_fresh(dir);
	t_migrate_newer(dir);
	t_migrate_garbage(dir);
	t_migrate_upgrade(dir);
	t_migrate_from_each(dir);
	unit_rmtree(dir);
	free(dir);
}
