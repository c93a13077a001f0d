/*
 * Copying a whole database into an empty PostgreSQL one (`metapi db
 * migrate --to URL`), all or nothing. The target's schema is made by the
 * same migrations the daemon runs, in the same transaction as the rows,
 * so that a failure anywhere (a row the target refuses, a lost
 * connection) leaves the target as it was. The source is read in one
 * read transaction, a consistent snapshot while the daemon goes on
 * writing. Every table is counted on both sides before the commit, and
 * the target's identity sequences start after the largest id copied.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "db-backend.h"
#include "log.h"
#include "xmalloc.h"

/* One column of the current source row onto parameter i of ins. */
static void
db_copy_bind(struct db_stmt *ins, int i, struct db_stmt *sel, int c)
{
	switch (db_col_type(sel, c)) {
	case DB_INTEGER:
		db_bind_int64(ins, i, db_col_int64(sel, c));
		break;
	case DB_FLOAT:
		db_bind_double(ins, i, db_col_double(sel, c));
		break;
	case DB_TEXT:
		db_bind_text(ins, i, db_col_text(sel, c));
		break;
	case DB_BLOB:
		db_bind_blob(ins, i, db_col_blob(sel, c), db_col_bytes(sel, c));
		break;
	case DB_NULL:
		db_bind_null(ins, i);
		break;
	}
}

/* The number of rows of table in db, or -1 with e set. */
static long long
db_copy_count(struct db *db, const char *table, struct err *e)
{
	struct db_stmt	*st;
	char		*sql;
	long long	 n = -1;

	xasprintf(&sql, "SELECT COUNT(*) FROM %s", table);
	st = db_prepare_err(db, sql, e);
	free(sql);
	if (st == NULL)
		return (-1);
	if (db_step(st) == DB_ROW)
		n = db_col_int64(st, 0);
	else
		err_set(e, ERR_STORAGE, "%s: %s", table, db_errmsg(db));
	db_finalize(st);
	return (n);
}

/* Rows per INSERT: fewer round trips, within the parameter limits. */
#define DB_COPY_BATCH		200
#define DB_COPY_PARAMS		30000

/* "INSERT INTO table (list) VALUES (?, ...), ..." for rows rows. */
static struct db_stmt *
db_copy_insert(struct db *dst, const char *table, const char *list,
    size_t ncols, size_t rows, struct err *e)
{
	struct db_stmt	*st;
	struct buf	 sql;
	size_t		 r, c;

	buf_init(&sql, 1024 * 1024);
	buf_printf(&sql, "INSERT INTO %s (%s) VALUES ", table, list);
	for (r = 0; r < rows; r++) {
		buf_addstr(&sql, r > 0 ? ", (" : "(");
		for (c = 0; c < ncols; c++)
			buf_addstr(&sql, c > 0 ? ", ?" : "?");
		buf_addstr(&sql, ")");
	}
	st = db_prepare_err(dst, buf_cstr(&sql), e);
	buf_free(&sql);
	return (st);
}

/*
 * Copy table's rows, many per INSERT; their number, or -1 with e set.
 * The rows are counted first (the snapshot does not move), so that the
 * last, shorter INSERT is known before the rows are read.
 */
static long long
db_copy_table(struct db *src, struct db *dst, const char *table,
    struct err *e)
{
	struct db_stmt	*sel = NULL, *full = NULL, *tail = NULL, *ins;
	json_t		*cols;
	char		*list = NULL, *sql, *t;
	long long	 n = 0, have, want;
	size_t		 i, ncols, batch, nfull, at;
	int		 rc;

	if ((cols = src->ops->columns(src, table, e)) == NULL)
		return (-1);
	ncols = json_array_size(cols);
	for (i = 0; i < ncols; i++) {
		xasprintf(&t, "%s%s%s", list != NULL ? list : "",
		    i > 0 ? ", " : "", json_string_value(json_array_get(cols,
		    i)));
		free(list);
		list = t;
	}
	json_decref(cols);
	if (ncols == 0) {
		err_set(e, ERR_STORAGE, "%s has no columns", table);
		return (-1);
	}
	/* What the migrations put there (one-row tables) gives way. */
	xasprintf(&sql, "DELETE FROM %s", table);
	rc = db_exec(dst, sql, NULL);
	free(sql);
	if (rc != 0) {
		err_set(e, ERR_STORAGE, "%s: %s", table, db_errmsg(dst));
		goto fail;
	}
	if ((want = db_copy_count(src, table, e)) < 0)
		goto fail;
	batch = DB_COPY_PARAMS / ncols;
	if (batch > DB_COPY_BATCH)
		batch = DB_COPY_BATCH;
	if (batch == 0)
		batch = 1;
	nfull = (size_t)want / batch * batch;
	if (nfull > 0 && (full = db_copy_insert(dst, table, list, ncols, batch,
	    e)) == NULL)
		goto fail;
	if ((size_t)want > nfull && (tail = db_copy_insert(dst, table, list,
	    ncols, (size_t)want - nfull, e)) == NULL)
		goto fail;
	xasprintf(&sql, "SELECT %s FROM %s", list, table);
	sel = db_prepare_err(src, sql, e);
	free(sql);
	if (sel == NULL)
		goto fail;
	while ((rc = db_step(sel)) == DB_ROW) {
		if ((size_t)n >= (size_t)want) {
			err_set(e, ERR_STORAGE, "%s: more rows than counted",
			    table);
			goto fail;
		}
		ins = (size_t)n < nfull ? full : tail;
		at = ((size_t)n < nfull ? (size_t)n % batch :
		    (size_t)n - nfull) * ncols;
		for (i = 0; i < ncols; i++)
			db_copy_bind(ins, (int)(at + i) + 1, sel, (int)i);
		n++;
		/* The statement's last row: send it. */
		if (((size_t)n <= nfull && (size_t)n % batch == 0) ||
		    n == want) {
			if (db_step(ins) != DB_DONE) {
				err_set(e, ERR_STORAGE, "%s, rows up to %lld: "
				    "%s", table, n, db_errmsg(dst));
				goto fail;
			}
			db_reset(ins);
		}
	}
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s: %s", table, db_errmsg(src));
		goto fail;
	}
	/* Counted on both sides: what was read is what is there. */
	if ((have = db_copy_count(dst, table, e)) < 0)
		goto fail;
	if (have != want || n != want) {
		err_set(e, ERR_STORAGE, "%s: %lld rows in the source, %lld "
		    "copied, %lld in the target", table, want, n, have);
		goto fail;
	}
	if (dst->ops->reset_ids != NULL &&
	    dst->ops->reset_ids(dst, table, e) != 0)
		goto fail;
	goto out;
fail:
	n = -1;
out:
	db_finalize(sel);
	db_finalize(full);
	db_finalize(tail);
	free(list);
	return (n);
}

/*
 * Copy the database at from into the empty one at to (a URL). The reply:
 * {"to", "items": [{"table", "rows"}], "tables", "rows"}; NULL with e set
 * when nothing was copied.
 */
json_t *
db_copy(const char *from, const char *to, struct err *e)
{
	struct db	*src = NULL, *dst = NULL;
	json_t		*tables = NULL, *items = NULL, *reply = NULL;
	const char	*lock = NULL;
	char		*cause = NULL;
	long long	 n, total = 0;
	size_t		 i;
	int		 version, locked = 0, in_dst = 0, in_src = 0;

	if (!db_is_url(to)) {
		err_set(e, ERR_INVALID, "--to must be a postgres:// URL");
		return (NULL);
	}
	if ((src = db_open(from, &cause)) == NULL ||
	    (dst = db_open(to, &cause)) == NULL) {
		err_set(e, ERR_STORAGE, "%s", cause);
		goto out;
	}
	if (src->ops->tables == NULL) {
		err_set(e, ERR_INVALID, "the daemon's database is %s, not a "
		    "SQLite file", src->ops->name);
		goto out;
	}
	/* No daemon may migrate the target meanwhile. */
	lock = dst->ops->migrate_lock;
	if (lock != NULL) {
		if ((locked = db_lock(dst, lock, 0, &cause)) != 1) {
			if (locked == 0)
				err_set(e, ERR_BUSY, "a metapi daemon is "
				    "migrating %s", db_name(dst));
			else
				err_set(e, ERR_STORAGE, "%s", cause);
			locked = 0;
			goto out;
		}
	}
	if (db_user_version(dst, &version, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		goto out;
	}
	if (version != 0) {
		err_set(e, ERR_CONFLICT, "%s already holds a metapi database "
		    "(schema version %d); copy into an empty one", db_name(dst),
		    version);
		goto out;
	}
	if (db_exec(src, src->ops->begin_read_sql, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		goto out;
	}
	in_src = 1;
	if (db_begin(dst, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		goto out;
	}
	in_dst = 1;
	if (db_migrate_tx(dst, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		goto out;
	}
	if ((tables = src->ops->tables(src, e)) == NULL)
		goto out;
	items = json_array();
	for (i = 0; i < json_array_size(tables); i++) {
		n = db_copy_table(src, dst, json_string_value(
		    json_array_get(tables, i)), e);
		if (n < 0)
			goto out;
		json_array_append_new(items, json_pack("{s:O, s:I}", "table",
		    json_array_get(tables, i), "rows", (json_int_t)n));
		total += n;
	}
	if (db_commit(dst, &cause) != 0) {
		in_dst = 0;
		err_set(e, ERR_STORAGE, "%s", cause);
		goto out;
	}
	in_dst = 0;
	log_info("database: copied %lld rows in %zu tables into %s", total,
	    json_array_size(items), db_name(dst));
	reply = json_pack("{s:s, s:O, s:I, s:I}", "to", db_name(dst), "items",
	    items, "tables", (json_int_t)json_array_size(items), "rows",
	    (json_int_t)total);
out:
	if (in_dst)
		db_rollback(dst);
	if (in_src)
		db_rollback(src);
	if (locked)
		db_unlock(dst, lock);
	json_decref(tables);
	json_decref(items);
	free(cause);
	db_close(src);
	db_close(dst);
	return (reply);
}
