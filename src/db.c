/*
 * The storage layer's front: opening a database with the backend its name
 * asks for, and every statement call of db.h dispatched through the
 * connection's ops table. The helpers below (rows, each, cached
 * statements, transactions) are written once against that interface. SQL
 * about a particular noun lives in that noun's module, not here.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "db-backend.h"
#include "log.h"
#include "xmalloc.h"

/* URLs of a PostgreSQL server (libpq's); anything else is a SQLite file. */
static const char *const db_pg_schemes[] = {
	"postgres://",
	"postgresql://"
};

#ifdef HAVE_POSTGRESQL
#define DB_PG_OPS	(&db_pg_ops)
#else
#define DB_PG_OPS	NULL
#endif

/* Whether s names a database server rather than a file. */
int
db_is_url(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof db_pg_schemes / sizeof db_pg_schemes[0]; i++)
		if (strncmp(s, db_pg_schemes[i], strlen(db_pg_schemes[i])) == 0)
			return (1);
	return (0);
}

/* A URL with its password, if any, masked: for messages and logs. */
static char *
db_display_name(const char *url)
{
	const char	*at, *colon, *start;
	char		*s;

	if (!db_is_url(url))
		return (xstrdup(url));
	start = strstr(url, "://") + 3;
	at = strchr(start, '@');
	colon = memchr(start, ':', at != NULL ? (size_t)(at - start) : 0);
	if (at == NULL || colon == NULL)
		return (xstrdup(url));
	xasprintf(&s, "%.*s:***%s", (int)(colon - url), url, at);
	return (s);
}

struct db *
db_open(const char *path, char **cause)
{
	struct db	*db;

	db = xcalloc(1, sizeof *db);
	db->ops = db_is_url(path) ? DB_PG_OPS : &db_sqlite_ops;
	db->path = db_display_name(path);
	if (db->ops == NULL) {
		xasprintf(cause, "%s: this metapi was built without PostgreSQL "
		    "(./configure --with-postgresql)", db->path);
		free(db->path);
		free(db);
		return (NULL);
	}
	if (db->ops->open(db, path, cause) != 0) {
		db_close(db);
		return (NULL);
	}
	return (db);
}

void
db_close(struct db *db)
{
	size_t	i;

	if (db == NULL)
		return;
	for (i = 0; i < DB_CACHE; i++)
		if (db->cache[i].st != NULL)
			db->ops->finalize(db->cache[i].st);
	db->ops->close(db);
	free(db->path);
	free(db);
}

/* The file or URL it was opened with. */
const char *
db_name(struct db *db)
{
	return (db->path);
}

enum db_dialect
db_dialect(struct db *db)
{
	return (db->ops->dialect);
}

/*
 * Whether other daemons may share this database (a server, not a file
 * one daemon holds): then jobs take locks and changes are announced.
 */
int
db_shared(struct db *db)
{
	return (db->ops->shared);
}

const char *
db_errmsg(struct db *db)
{
	return (db->ops->errmsg(db));
}

int
db_exec(struct db *db, const char *sql, char **cause)
{
	return (db->ops->exec(db, sql, cause));
}

/*
 * Move what the engine keeps beside the database's pages (SQLite's WAL)
 * into them and empty it, so that old page images, and the removed or
 * replaced secrets in them, are gone from disk. A server keeps its own
 * log: nothing to do there.
 */
int
db_checkpoint(struct db *db, char **cause)
{
	if (db->ops->checkpoint == NULL)
		return (0);
	return (db->ops->checkpoint(db, cause));
}

/*
 * This connection's thread gives the CPU up now and then while the engine
 * works for it (every ops steps; 0: never): for a background thread whose
 * long transactions must not hold back the threads that answer clients.
 * Only where the work is done in this process (SQLite).
 */
void
db_yielding(struct db *db, int ops)
{
	if (db->ops->yielding != NULL)
		db->ops->yielding(db, ops);
}

long long
db_last_id(struct db *db)
{
	return (db->ops->last_id(db));
}

/*
 * Draw n ids for new rows of table (its INTEGER PRIMARY KEY id) before
 * they are inserted, so that rows referring to them can go in the same
 * statements; inside the caller's write transaction.
 */
int
db_next_ids(struct db *db, const char *table, size_t n, long long *ids,
    struct err *e)
{
	return (db->ops->next_ids(db, table, n, ids, e));
}

long long
db_changes(struct db *db)
{
	return (db->ops->changes(db));
}

/* Inside a transaction begun on this connection. */
int
db_in_tx(struct db *db)
{
	return (db->ops->in_tx(db));
}

int
db_readonly(struct db *db)
{
	return (db->ops->readonly(db));
}

/*
 * Whether the last failure was about the data the statement carried
 * (a constraint, a value out of range) rather than the engine's state
 * (busy, I/O): the first cannot succeed on a retry.
 */
int
db_error_is_data(struct db *db)
{
	return (db->ops->error_is_data(db));
}

/*
 * A lock among all the daemons sharing the database, for work that must
 * run once (a scheduled job): 1 taken, 0 another holds it (when wait is
 * 0), -1 error. Held by this connection until db_unlock().
 */
int
db_lock(struct db *db, const char *name, int wait, char **cause)
{
	return (db->ops->lock(db, name, wait, cause));
}

void
db_unlock(struct db *db, const char *name)
{
	db->ops->unlock(db, name);
}

int
db_user_version(struct db *db, int *out, char **cause)
{
	return (db->ops->user_version(db, out, cause));
}

/*
 * The first row's first column of a read-only PRAGMA (quick_check,
 * journal_mode), as owned text; NULL with *cause on error.
 */
char *
db_pragma_text(struct db *db, const char *pragma, char **cause)
{
	struct db_stmt	*st;
	const char	*t;
	char		*sql, *v = NULL;
	int		 rc;

	xasprintf(&sql, "PRAGMA %s", pragma);
	st = db_prepare(db, sql, cause);
	free(sql);
	if (st == NULL)
		return (NULL);
	rc = db_step(st);
	if (rc == DB_ROW)
		v = xstrdup((t = db_col_text(st, 0)) != NULL ? t : "");
	else if (rc == DB_DONE)
		v = xstrdup("");
	else
		xasprintf(cause, "%s", db_errmsg(db));
	db_finalize(st);
	return (v);
}

/* The engine and its version ("SQLite 3.40.1"), owned; NULL on error. */
char *
db_server_version(struct db *db, char **cause)
{
	return (db->ops->version(db, cause));
}

int
db_begin(struct db *db, char **cause)
{
	return (db_exec(db, db->ops->begin_sql, cause));
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
	if (db_in_tx(db))
		db_exec(db, "ROLLBACK", NULL);
}

struct db_stmt *
db_prepare(struct db *db, const char *sql, char **cause)
{
	struct db_stmt	*st;
	char		*err = NULL;

	if ((st = db->ops->prepare(db, sql, &err)) == NULL) {
		log_warnx("db: prepare failed: %s", err);
		if (cause != NULL)
			*cause = err;
		else
			free(err);
	}
	return (st);
}

int
db_step(struct db_stmt *st)
{
	return (st->ops->step(st));
}

/* Ready to run again; the bindings stay. */
void
db_reset(struct db_stmt *st)
{
	st->ops->reset(st);
}

/* 0, or -1 when its last run failed. */
int
db_finalize(struct db_stmt *st)
{
	if (st == NULL)
		return (0);
	return (st->ops->finalize(st));
}

void
db_bind_null(struct db_stmt *st, int i)
{
	st->ops->bind_null(st, i, DB_NULL);
}

void
db_bind_int64(struct db_stmt *st, int i, long long v)
{
	st->ops->bind_int64(st, i, v);
}

void
db_bind_double(struct db_stmt *st, int i, double v)
{
	st->ops->bind_double(st, i, v);
}

/* NULL binds NULL. The text is copied. */
void
db_bind_text(struct db_stmt *st, int i, const char *s)
{
	if (s == NULL)
		st->ops->bind_null(st, i, DB_TEXT);
	else
		st->ops->bind_text(st, i, s);
}

void
db_bind_blob(struct db_stmt *st, int i, const void *p, size_t len)
{
	if (p == NULL)
		st->ops->bind_null(st, i, DB_BLOB);
	else
		st->ops->bind_blob(st, i, p, len);
}

/* Bind v, or NULL when present is 0. */
void
db_bind_int(struct db_stmt *st, int i, long long v, int present)
{
	if (!present)
		st->ops->bind_null(st, i, DB_INTEGER);
	else
		st->ops->bind_int64(st, i, v);
}

void
db_bind_real(struct db_stmt *st, int i, double v, int present)
{
	if (!present)
		st->ops->bind_null(st, i, DB_FLOAT);
	else
		st->ops->bind_double(st, i, v);
}

enum db_type
db_col_type(struct db_stmt *st, int i)
{
	return (st->ops->col_type(st, i));
}

long long
db_col_int64(struct db_stmt *st, int i)
{
	return (st->ops->col_int64(st, i));
}

int
db_col_int(struct db_stmt *st, int i)
{
	return ((int)st->ops->col_int64(st, i));
}

double
db_col_double(struct db_stmt *st, int i)
{
	return (st->ops->col_double(st, i));
}

/* NULL for a NULL column; valid until the next step. */
const char *
db_col_text(struct db_stmt *st, int i)
{
	return (st->ops->col_text(st, i));
}

const void *
db_col_blob(struct db_stmt *st, int i)
{
	return (st->ops->col_blob(st, i));
}

size_t
db_col_bytes(struct db_stmt *st, int i)
{
	return (st->ops->col_bytes(st, i));
}

int
db_meta_get(struct db *db, const char *key, void **out, size_t *len,
    char **cause)
{
	struct db_stmt	*st;
	size_t		 n;
	int		 rc;

	*out = NULL;
	*len = 0;
	st = db_prepare(db, "SELECT value FROM meta WHERE key = ?", cause);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, key);
	rc = db_step(st);
	if (rc == DB_ROW) {
		n = db_col_bytes(st, 0);
		if (n > 0) {
			*out = xmalloc(n);
			memcpy(*out, db_col_blob(st, 0), n);
			*len = n;
		}
		rc = DB_DONE;
	}
	if (rc != DB_DONE) {
		if (cause != NULL)
			*cause = xstrdup(db_errmsg(db));
		db_finalize(st);
		return (-1);
	}
	db_finalize(st);
	return (0);
}

int
db_meta_set(struct db *db, const char *key, const void *value, size_t len,
    char **cause)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "INSERT INTO meta (key, value) VALUES (?, ?) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", cause);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, key);
	db_bind_blob(st, 2, value, len);
	rc = db_step(st);
	if (rc != DB_DONE && cause != NULL)
		*cause = xstrdup(db_errmsg(db));
	db_finalize(st);
	return (rc == DB_DONE ? 0 : -1);
}

/* db_prepare with the failure as a storage error. */
struct db_stmt *
db_prepare_err(struct db *db, const char *sql, struct err *e)
{
	struct db_stmt	*st;
	char		*cause = NULL;

	if ((st = db_prepare(db, sql, &cause)) == NULL) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
	}
	return (st);
}

/*
 * Run a prepared, bound statement (NULL: its preparation failed and e
 * says so) and make an array of its rows with row_json. Finalizes st.
 */
json_t *
db_rows(struct db *db, struct db_stmt *st, db_row_cb row_json,
    struct err *e)
{
	json_t	*items;
	int	 rc;

	if (st == NULL)
		return (NULL);
	items = json_array();
	while ((rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, row_json(st));
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		db_finalize(st);
		json_decref(items);
		return (NULL);
	}
	db_finalize(st);
	return (items);
}

/*
 * Hand each row of a prepared, bound statement (NULL: its preparation
 * failed and e says so) to row() until it returns nonzero, and finalize
 * it. Stopping early is not an error; 0, or -1 with e set.
 */
int
db_each(struct db *db, struct db_stmt *st, db_each_cb row, void *arg,
    struct err *e)
{
	int	rc;

	if (st == NULL)
		return (-1);
	while ((rc = db_step(st)) == DB_ROW) {
		if (row(st, arg) != 0)
			break;
	}
	if (rc == DB_ERROR) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		db_finalize(st);
		return (-1);
	}
	db_finalize(st);
	return (0);
}

/* The statement's one row: 1 found, 0 none, -1 error. Finalizes st. */
int
db_row(struct db *db, struct db_stmt *st, db_row_cb row_json, json_t **out,
    struct err *e)
{
	int	rc;

	*out = NULL;
	if (st == NULL)
		return (-1);
	rc = db_step(st);
	if (rc == DB_ROW)
		*out = row_json(st);
	else if (rc != DB_DONE)
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	db_finalize(st);
	return (rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1);
}

/* Step a statement that returns no rows, and finalize it. */
int
db_step_done(struct db *db, struct db_stmt *st, struct err *e)
{
	int	rc;

	if (st == NULL)
		return (-1);
	rc = db_step(st);
	if (rc != DB_DONE)
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	db_finalize(st);
	return (rc == DB_DONE ? 0 : -1);
}

/*
 * A statement this connection runs again and again (the log writer's
 * inserts), prepared once: sql must be a string literal, whose address
 * is the cache key. Run it with db_cached_step(), never finalize it.
 */
struct db_stmt *
db_cached(struct db *db, const char *sql, struct err *e)
{
	struct db_stmt	*st;
	size_t		 i;

	for (i = 0; i < DB_CACHE; i++) {
		if (db->cache[i].sql == sql) {
			st = db->cache[i].st;
			st->ops->reset(st);
			st->ops->clear(st);
			return (st);
		}
	}
	if ((st = db_prepare_err(db, sql, e)) == NULL)
		return (NULL);
	if (st->ops->keep != NULL)
		st->ops->keep(st);
	for (i = 0; i < DB_CACHE; i++) {
		if (db->cache[i].sql == NULL) {
			db->cache[i].sql = sql;
			db->cache[i].st = st;
			return (st);
		}
	}
	/* The cache is full: a bug (raise DB_CACHE), but it still works. */
	db_finalize(st);
	return (db_prepare_err(db, sql, e));
}

/* Run a cached statement that returns no rows, and reset it. */
int
db_cached_step(struct db *db, struct db_stmt *st, struct err *e)
{
	int	rc;

	if (st == NULL)
		return (-1);
	rc = db_step(st);
	if (rc != DB_DONE)
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	db_reset(st);
	return (rc == DB_DONE ? 0 : -1);
}
