/*
 * The SQLite backend: each connection is set up the same way, WAL, a
 * busy timeout, foreign keys on. Writers use BEGIN IMMEDIATE so that a
 * transaction never fails half-way on a lock upgrade. A statement is the
 * engine's own plus the small header db.c dispatches on; nothing is
 * allocated per step or per column.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "compat.h"
#include "db-backend.h"
#include "xmalloc.h"

#define DB_BUSY_TIMEOUT_MS	5000
#define DB_CHECKPOINT_WAIT_MS	250

struct db_sqlite_stmt {
	struct db_stmt	 base;
	sqlite3_stmt	*st;
};

#define H(db)	((sqlite3 *)(db)->h)
#define ST(s)	(((struct db_sqlite_stmt *)(s))->st)

static const char	*db_sqlite_errmsg(struct db *);

static int
db_sqlite_exec(struct db *db, const char *sql, char **cause)
{
	char	*msg = NULL;

	if (sqlite3_exec(H(db), sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xstrdup(db_sqlite_errmsg(db));
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

static int
db_sqlite_user_version(struct db *db, int *out, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(H(db), "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xstrdup(sqlite3_errmsg(H(db)));
		return (-1);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else if (cause != NULL)
		*cause = xstrdup(sqlite3_errmsg(H(db)));
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 0 : -1);
}

static int
db_sqlite_set_user_version(struct db *db, int v, char **cause)
{
	char	*sql;
	int	 rc;

	xasprintf(&sql, "PRAGMA user_version = %d", v);
	rc = db_sqlite_exec(db, sql, cause);
	free(sql);
	return (rc);
}

/*
 * Open the database and prove it is one: SQLite opens any file lazily, so
 * a first read turns "not a database" and corruption into a clear error
 * here rather than later.
 */
static int
db_sqlite_open(struct db *db, const char *path, char **cause)
{
	sqlite3	*h = NULL;
	int	 rc, version;
	char	*err = NULL;

	rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	db->h = h;
	if (rc != SQLITE_OK) {
		xasprintf(cause, "cannot open database %s: %s", path,
		    h != NULL ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		return (-1);
	}
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, DB_BUSY_TIMEOUT_MS);
	if (db_sqlite_user_version(db, &version, &err) != 0) {
		xasprintf(cause, "database %s is unreadable or not a metapi "
		    "database: %s", path, err);
		free(err);
		return (-1);
	}
	/*
	 * secure_delete=ON: SQLite zeroes what a delete or an update frees,
	 * within pages and whole pages put on the freelist, so no removed or
	 * replaced secret (sealed, but a sealed secret that was given up
	 * should be gone) stays in the file's free space. FAST zeroes
	 * within pages only, where that costs no I/O, and leaves freed
	 * pages as they were: tests/cli/forget.sh found 12 old sealed
	 * tokens on the freelist with FAST, 67 remnants with OFF, none with
	 * ON. Set here because builds differ (Debian's SQLite defaults to
	 * ON, SQLite's own default is OFF). The cost is the freed pages'
	 * writes: the log retention job's big deletes, measured in
	 * doc/RELIABILITY.md. Old page images in the WAL are the other
	 * half: db_checkpoint().
	 */
	if (db_sqlite_exec(db, "PRAGMA journal_mode=WAL", &err) != 0 ||
	    db_sqlite_exec(db, "PRAGMA foreign_keys=ON", &err) != 0 ||
	    db_sqlite_exec(db, "PRAGMA synchronous=NORMAL", &err) != 0 ||
	    db_sqlite_exec(db, "PRAGMA secure_delete=ON", &err) != 0) {
		xasprintf(cause, "database %s: %s", path, err);
		free(err);
		return (-1);
	}
	return (0);
}

static int
db_sqlite_yield(__unused void *arg)
{
	sched_yield();
	return (0);	/* go on */
}

static void
db_sqlite_yielding(struct db *db, int ops)
{
	sqlite3_progress_handler(H(db), ops, ops > 0 ? db_sqlite_yield : NULL,
	    NULL);
}

/*
 * A truncating checkpoint: every frame of the WAL copied into the
 * database, then the WAL cut to nothing. SQLite reuses its WAL from the
 * start rather than shrink it, so without this old page images (a
 * removed secret's among them) stay in it until overwritten, which may
 * be never; it is also emptied when the last connection closes. It waits
 * for other connections' readers and writer (the log writer), briefly:
 * the caller tries again later rather than hold its thread.
 *
 * The database file may grow by up to the WAL's size before the WAL is
 * cut. On a file system with less room than that the checkpoint would
 * fill it, fail and leave it full (diskfull.sh: once the disk had room
 * again, retries grew the database until another daemon's master key
 * found none), so then it waits for room.
 */
static int
db_sqlite_checkpoint(struct db *db, char **cause)
{
	const char		*file, *wal;
	struct stat		 sb;
	struct statvfs		 vfs;
	unsigned long long	 room;
	int			 rc;

	file = sqlite3_db_filename(H(db), "main");
	if (file != NULL && *file != '\0' &&
	    (wal = sqlite3_filename_wal(file)) != NULL &&
	    stat(wal, &sb) == 0 && statvfs(wal, &vfs) == 0) {
		room = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
		if (room < (unsigned long long)sb.st_size) {
			xasprintf(cause, "%llu bytes free for a WAL of %lld: "
			    "waiting for room", room, (long long)sb.st_size);
			return (-1);
		}
	}
	sqlite3_busy_timeout(H(db), DB_CHECKPOINT_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(H(db), NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(H(db), DB_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		*cause = xstrdup(db_sqlite_errmsg(db));
		return (-1);
	}
	return (0);
}

static void
db_sqlite_close(struct db *db)
{
	if (db->h != NULL)
		sqlite3_close_v2(H(db));
}

/*
 * Why the file system refuses writes beside the database, found by making
 * and removing a file there: an errno, or 0 when that works.
 */
static int
db_sqlite_probe_errno(struct db *db)
{
	char	*tmp;
	int	 fd, saved = 0;

	xasprintf(&tmp, "%s-probe-XXXXXX", db->path);
	if ((fd = mkstemp(tmp)) == -1)
		saved = errno;
	else {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return (saved);
}

/*
 * The last error: SQLite's message, with the system's reason when a file
 * operation failed, since "disk I/O error" alone does not say that the
 * file system went read-only or is full. SQLite's own record of the errno
 * is often 0 by the time the statement fails, so then a probe finds it.
 * Per thread; valid until the next call on that thread.
 */
static const char *
db_sqlite_errmsg(struct db *db)
{
	static __thread char	 buf[256];
	int			 code, sys;

	code = sqlite3_extended_errcode(H(db)) & 0xff;
	if (code != SQLITE_IOERR && code != SQLITE_CANTOPEN)
		return (sqlite3_errmsg(H(db)));
	if ((sys = sqlite3_system_errno(H(db))) == 0 &&
	    (sys = db_sqlite_probe_errno(db)) == 0)
		return (sqlite3_errmsg(H(db)));
	snprintf(buf, sizeof buf, "%s (%s)", sqlite3_errmsg(H(db)),
	    strerror(sys));
	return (buf);
}

static char *
db_sqlite_version(__unused struct db *db, __unused char **cause)
{
	char	*v;

	xasprintf(&v, "SQLite %s", sqlite3_libversion());
	return (v);
}

static long long
db_sqlite_last_id(struct db *db)
{
	return (sqlite3_last_insert_rowid(H(db)));
}

/*
 * The ids SQLite would give: one past the largest, in order. Only this
 * connection writes inside its write transaction (BEGIN IMMEDIATE), so
 * nobody takes them meanwhile.
 */
static int
db_sqlite_next_ids(struct db *db, const char *table, size_t n,
    long long *ids, struct err *e)
{
	sqlite3_stmt	*st;
	char		*sql;
	long long	 max = 0;
	size_t		 i;
	int		 rc;

	xasprintf(&sql, "SELECT COALESCE(MAX(id), 0) FROM %s", table);
	rc = sqlite3_prepare_v2(H(db), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(H(db)));
		return (-1);
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		max = sqlite3_column_int64(st, 0);
	else
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(H(db)));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return (-1);
	for (i = 0; i < n; i++)
		ids[i] = max + 1 + (long long)i;
	return (0);
}

static long long
db_sqlite_changes(struct db *db)
{
	return (sqlite3_changes(H(db)));
}

static int
db_sqlite_in_tx(struct db *db)
{
	return (!sqlite3_get_autocommit(H(db)));
}

static int
db_sqlite_readonly(struct db *db)
{
	return (sqlite3_db_readonly(H(db), "main") == 1);
}

/* Errors about the data itself: retrying the same statement cannot help. */
static const int db_sqlite_data_codes[] = {
	SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_RANGE
};

static int
db_sqlite_error_is_data(struct db *db)
{
	size_t	i;
	int	code = sqlite3_extended_errcode(H(db)) & 0xff;

	for (i = 0; i < sizeof db_sqlite_data_codes /
	    sizeof db_sqlite_data_codes[0]; i++)
		if (code == db_sqlite_data_codes[i])
			return (1);
	return (0);
}

/*
 * One daemon owns a SQLite file (the data dir's flock), so a lock among
 * daemons is always this one's.
 */
static int
db_sqlite_lock(__unused struct db *db, __unused const char *name,
    __unused int wait, __unused char **cause)
{
	return (1);
}

static void
db_sqlite_unlock(__unused struct db *db, __unused const char *name)
{
}

/* The first column of every row of sql with text bound to ?1, as strings. */
static json_t *
db_sqlite_names(struct db *db, const char *sql, const char *arg,
    struct err *e)
{
	sqlite3_stmt	*st;
	json_t		*names;
	int		 rc;

	if (sqlite3_prepare_v2(H(db), sql, -1, &st, NULL) != SQLITE_OK) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(H(db)));
		return (NULL);
	}
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	names = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(names, json_string((const char *)
		    sqlite3_column_text(st, 0)));
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(H(db)));
		json_decref(names);
		names = NULL;
	}
	sqlite3_finalize(st);
	return (names);
}

/* The tables in the order they were made: referenced before referring. */
static json_t *
db_sqlite_tables(struct db *db, struct err *e)
{
	return (db_sqlite_names(db, "SELECT name FROM sqlite_master WHERE "
	    "type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
	    "ORDER BY rowid", NULL, e));
}

static json_t *
db_sqlite_columns(struct db *db, const char *table, struct err *e)
{
	return (db_sqlite_names(db, "SELECT name FROM pragma_table_info(?1) "
	    "ORDER BY cid", table, e));
}

static struct db_stmt *
db_sqlite_prepare(struct db *db, const char *sql, char **cause)
{
	struct db_sqlite_stmt	*s;
	sqlite3_stmt		*st = NULL;

	if (sqlite3_prepare_v2(H(db), sql, -1, &st, NULL) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xstrdup(sqlite3_errmsg(H(db)));
		return (NULL);
	}
	s = xmalloc(sizeof *s);
	s->base.ops = &db_sqlite_ops;
	s->base.db = db;
	s->st = st;
	return (&s->base);
}

static int
db_sqlite_step(struct db_stmt *s)
{
	switch (sqlite3_step(ST(s))) {
	case SQLITE_ROW:
		return (DB_ROW);
	case SQLITE_DONE:
		return (DB_DONE);
	default:
		return (DB_ERROR);
	}
}

static void
db_sqlite_reset(struct db_stmt *s)
{
	sqlite3_reset(ST(s));
}

static void
db_sqlite_clear(struct db_stmt *s)
{
	sqlite3_clear_bindings(ST(s));
}

static int
db_sqlite_finalize(struct db_stmt *s)
{
	int	rc;

	rc = sqlite3_finalize(ST(s));
	free(s);
	return (rc == SQLITE_OK ? 0 : -1);
}

static void
db_sqlite_bind_null(struct db_stmt *s, int i, __unused enum db_type type)
{
	sqlite3_bind_null(ST(s), i);
}

static void
db_sqlite_bind_int64(struct db_stmt *s, int i, long long v)
{
	sqlite3_bind_int64(ST(s), i, v);
}

static void
db_sqlite_bind_double(struct db_stmt *s, int i, double v)
{
	sqlite3_bind_double(ST(s), i, v);
}

static void
db_sqlite_bind_text(struct db_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(ST(s), i, v, -1, SQLITE_TRANSIENT);
}

static void
db_sqlite_bind_blob(struct db_stmt *s, int i, const void *p, size_t len)
{
	sqlite3_bind_blob64(ST(s), i, p, len, SQLITE_TRANSIENT);
}

/* Indexed by SQLite's fundamental type codes. */
static const enum db_type db_sqlite_types[] = {
	[SQLITE_INTEGER] = DB_INTEGER,
	[SQLITE_FLOAT] = DB_FLOAT,
	[SQLITE_TEXT] = DB_TEXT,
	[SQLITE_BLOB] = DB_BLOB,
	[SQLITE_NULL] = DB_NULL
};

static enum db_type
db_sqlite_col_type(struct db_stmt *s, int i)
{
	return (db_sqlite_types[sqlite3_column_type(ST(s), i)]);
}

static long long
db_sqlite_col_int64(struct db_stmt *s, int i)
{
	return (sqlite3_column_int64(ST(s), i));
}

static double
db_sqlite_col_double(struct db_stmt *s, int i)
{
	return (sqlite3_column_double(ST(s), i));
}

static const char *
db_sqlite_col_text(struct db_stmt *s, int i)
{
	return ((const char *)sqlite3_column_text(ST(s), i));
}

static const void *
db_sqlite_col_blob(struct db_stmt *s, int i)
{
	return (sqlite3_column_blob(ST(s), i));
}

static size_t
db_sqlite_col_bytes(struct db_stmt *s, int i)
{
	return ((size_t)sqlite3_column_bytes(ST(s), i));
}

const struct db_ops db_sqlite_ops = {
	.name = "sqlite",
	.dialect = DB_SQLITE,
	.shared = 0,
	.open = db_sqlite_open,
	.close = db_sqlite_close,
	.exec = db_sqlite_exec,
	.checkpoint = db_sqlite_checkpoint,
	.yielding = db_sqlite_yielding,
	.errmsg = db_sqlite_errmsg,
	.version = db_sqlite_version,
	.last_id = db_sqlite_last_id,
	.next_ids = db_sqlite_next_ids,
	.changes = db_sqlite_changes,
	.in_tx = db_sqlite_in_tx,
	.readonly = db_sqlite_readonly,
	.error_is_data = db_sqlite_error_is_data,
	.begin_sql = "BEGIN IMMEDIATE",
	.begin_read_sql = "BEGIN",
	.user_version = db_sqlite_user_version,
	.set_user_version = db_sqlite_set_user_version,
	.lock = db_sqlite_lock,
	.unlock = db_sqlite_unlock,
	.tables = db_sqlite_tables,
	.columns = db_sqlite_columns,
	.prepare = db_sqlite_prepare,
	.step = db_sqlite_step,
	.reset = db_sqlite_reset,
	.clear = db_sqlite_clear,
	.finalize = db_sqlite_finalize,
	.bind_null = db_sqlite_bind_null,
	.bind_int64 = db_sqlite_bind_int64,
	.bind_double = db_sqlite_bind_double,
	.bind_text = db_sqlite_bind_text,
	.bind_blob = db_sqlite_bind_blob,
	.col_type = db_sqlite_col_type,
	.col_int64 = db_sqlite_col_int64,
	.col_double = db_sqlite_col_double,
	.col_text = db_sqlite_col_text,
	.col_blob = db_sqlite_col_blob,
	.col_bytes = db_sqlite_col_bytes
};
