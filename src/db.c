/*
 * Opening the SQLite database and running statements and transactions on
 * it. Each connection is set up the same way: WAL, a busy timeout, foreign
 * keys on. Writers use BEGIN IMMEDIATE so that a transaction never fails
 * half-way on a lock upgrade. SQL about a particular noun lives in that
 * noun's module, not here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "compat.h"
#include "db.h"
#include "log.h"
#include "xmalloc.h"

#define DB_BUSY_TIMEOUT_MS	5000

/*
 * Why the file system refuses writes beside the database, found by making
 * and removing a file there: an errno, or 0 when that works.
 */
static int
db_probe_errno(struct db *db)
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
 * The last error on db: SQLite's message, with the system's reason when
 * a file operation failed, since "disk I/O error" alone does not say that
 * the file system went read-only. SQLite's own record of the errno is
 * often 0 by the time the statement fails, so then a probe finds it. Per
 * thread; valid until the next call on that thread.
 */
const char *
db_strerror(struct db *db)
{
	static __thread char	 buf[256];
	int			 code, sys;

	code = sqlite3_extended_errcode(db->h) & 0xff;
	if (code != SQLITE_IOERR && code != SQLITE_CANTOPEN)
		return (sqlite3_errmsg(db->h));
	if ((sys = sqlite3_system_errno(db->h)) == 0 &&
	    (sys = db_probe_errno(db)) == 0)
		return (sqlite3_errmsg(db->h));
	snprintf(buf, sizeof buf, "%s (%s)", sqlite3_errmsg(db->h),
	    strerror(sys));
	return (buf);
}

char *
db_errmsg(struct db *db)
{
	return (xstrdup(db_strerror(db)));
}

/*
 * Open the database and prove it is one: SQLite opens any file lazily, so
 * a first read turns "not a database" and corruption into a clear error
 * here rather than later.
 */
struct db *
db_open(const char *path, char **cause)
{
	struct db	*db;
	int		 rc, version;
	char		*err = NULL;

	db = xcalloc(1, sizeof *db);
	db->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "cannot open database %s: %s", path,
		    db->h != NULL ? db_strerror(db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	if (db_user_version(db, &version, &err) != 0) {
		xasprintf(cause, "database %s is unreadable or not a metapi "
		    "database: %s", path, err);
		free(err);
		goto fail;
	}
	if (db_exec(db, "PRAGMA journal_mode=WAL", &err) != 0 ||
	    db_exec(db, "PRAGMA foreign_keys=ON", &err) != 0 ||
	    db_exec(db, "PRAGMA synchronous=NORMAL", &err) != 0) {
		xasprintf(cause, "database %s: %s", path, err);
		free(err);
		goto fail;
	}
	return (db);
fail:
	db_close(db);
	return (NULL);
}

void
db_close(struct db *db)
{
	size_t	i;

	if (db == NULL)
		return;
	for (i = 0; i < DB_CACHE; i++)
		if (db->cache[i].st != NULL)
			sqlite3_finalize(db->cache[i].st);
	if (db->h != NULL)
		sqlite3_close_v2(db->h);
	free(db->path);
	free(db);
}

int
db_exec(struct db *db, const char *sql, char **cause)
{
	char	*msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xstrdup(db_strerror(db));
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

/*
 * The first row's first column of a read-only PRAGMA (quick_check,
 * journal_mode), as owned text; NULL with *cause on error.
 */
char *
db_pragma_text(struct db *db, const char *pragma, char **cause)
{
	sqlite3_stmt	*st;
	char		*sql, *v = NULL;
	int		 rc;

	xasprintf(&sql, "PRAGMA %s", pragma);
	rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s", db_strerror(db));
		return (NULL);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = xstrdup(sqlite3_column_text(st, 0) != NULL ?
		    (const char *)sqlite3_column_text(st, 0) : "");
	else if (rc == SQLITE_DONE)
		v = xstrdup("");
	else
		xasprintf(cause, "%s", db_strerror(db));
	sqlite3_finalize(st);
	return (v);
}

int
db_begin(struct db *db, char **cause)
{
	return (db_exec(db, "BEGIN IMMEDIATE", cause));
}

int
db_commit(struct db *db, char **cause)
{
	if (db_exec(db, "COMMIT", cause) != 0) {
		db_rollback(db);
		return (-1);
	}
	return (0);
}

void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql, char **cause)
{
	sqlite3_stmt	*st = NULL;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		if (cause != NULL)
			xasprintf(cause, "%s", db_strerror(db));
		log_warnx("db: prepare failed: %s", db_strerror(db));
		return (NULL);
	}
	return (st);
}

int
db_user_version(struct db *db, int *out, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prepare(db, "PRAGMA user_version", cause)) == NULL)
		return (-1);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (cause != NULL)
			*cause = xstrdup(db_strerror(db));
		sqlite3_finalize(st);
		return (-1);
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (0);
}

int
db_meta_get(struct db *db, const char *key, void **out, size_t *len,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc, n;

	*out = NULL;
	*len = 0;
	st = db_prepare(db, "SELECT value FROM meta WHERE key = ?", cause);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 0);
		if (n > 0) {
			*out = xmalloc(n);
			memcpy(*out, sqlite3_column_blob(st, 0), n);
			*len = n;
		}
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE) {
		if (cause != NULL)
			*cause = xstrdup(db_strerror(db));
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);
	return (0);
}

int
db_meta_set(struct db *db, const char *key, const void *value, size_t len,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(db, "INSERT INTO meta (key, value) VALUES (?, ?) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", cause);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, key);
	db_bind_blob(st, 2, value, len);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && cause != NULL)
		*cause = xstrdup(db_strerror(db));
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

void
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

void
db_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (p == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_blob(st, i, p, len, SQLITE_TRANSIENT);
}

/* Bind v, or NULL when present is 0. */
void
db_bind_int(sqlite3_stmt *st, int i, long long v, int present)
{
	if (!present)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

void
db_bind_real(sqlite3_stmt *st, int i, double v, int present)
{
	if (!present)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

const char *
db_col_text(sqlite3_stmt *st, int i)
{
	return ((const char *)sqlite3_column_text(st, i));
}

/* db_prepare with the failure as a storage error. */
sqlite3_stmt *
db_prepare_err(struct db *db, const char *sql, struct err *e)
{
	sqlite3_stmt	*st;

	if ((st = db_prepare(db, sql, NULL)) == NULL)
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
	return (st);
}

/*
 * Run a prepared, bound statement (NULL: its preparation failed and e
 * says so) and make an array of its rows with row_json. Finalizes st.
 */
json_t *
db_rows(struct db *db, sqlite3_stmt *st, db_row_cb row_json, struct err *e)
{
	json_t	*items;
	int	 rc;

	if (st == NULL)
		return (NULL);
	items = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(items, row_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		json_decref(items);
		return (NULL);
	}
	return (items);
}

/*
 * Hand each row of a prepared, bound statement (NULL: its preparation
 * failed and e says so) to row() until it returns nonzero, and finalize
 * it. Stopping early is not an error; 0, or -1 with e set.
 */
int
db_each(struct db *db, sqlite3_stmt *st, db_each_cb row, void *arg,
    struct err *e)
{
	int	rc;

	if (st == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, arg) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (-1);
	}
	return (0);
}

/* The statement's one row: 1 found, 0 none, -1 error. Finalizes st. */
int
db_row(struct db *db, sqlite3_stmt *st, db_row_cb row_json, json_t **out,
    struct err *e)
{
	int	rc;

	*out = NULL;
	if (st == NULL)
		return (-1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_json(st);
	else if (rc != SQLITE_DONE)
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1);
}

/* Step a statement that returns no rows, and finalize it. */
int
db_step_done(struct db *db, sqlite3_stmt *st, struct err *e)
{
	int	rc;

	if (st == NULL)
		return (-1);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (-1);
	}
	return (0);
}

/*
 * A statement this connection runs again and again (the log writer's
 * inserts), prepared once: sql must be a string literal, whose address
 * is the cache key. Run it with db_cached_step(), never finalize it.
 */
sqlite3_stmt *
db_cached(struct db *db, const char *sql, struct err *e)
{
	sqlite3_stmt	*st;
	size_t		 i;

	for (i = 0; i < DB_CACHE; i++) {
		if (db->cache[i].sql == sql) {
			sqlite3_reset(db->cache[i].st);
			sqlite3_clear_bindings(db->cache[i].st);
			return (db->cache[i].st);
		}
	}
	if ((st = db_prepare_err(db, sql, e)) == NULL)
		return (NULL);
	for (i = 0; i < DB_CACHE; i++) {
		if (db->cache[i].sql == NULL) {
			db->cache[i].sql = sql;
			db->cache[i].st = st;
			return (st);
		}
	}
	/* The cache is full: a bug (raise DB_CACHE), but it still works. */
	sqlite3_finalize(st);
	return (db_prepare_err(db, sql, e));
}

/* Run a cached statement that returns no rows, and reset it. */
int
db_cached_step(struct db *db, sqlite3_stmt *st, struct err *e)
{
	int	rc;

	if (st == NULL)
		return (-1);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (-1);
	}
	return (0);
}
