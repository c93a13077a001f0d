/*
 * The store. One connection per thread; only the daemon opens it.
 *
 * A narrow, backend-neutral statement interface: modules prepare SQL with
 * ? placeholders, bind, step and read columns through these calls and
 * never see the engine behind them (SQLite today; the backend is chosen
 * when the database is opened). Statement and connection structures are
 * private to the storage layer (src/db*.c).
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct db;
struct db_stmt;

/* What db_step() returns. */
#define DB_ERROR	(-1)
#define DB_DONE		0
#define DB_ROW		1

/* A column's storage class in the current row. */
enum db_type {
	DB_NULL,
	DB_INTEGER,
	DB_FLOAT,
	DB_TEXT,
	DB_BLOB
};

/* The SQL dialects a migration is written in. */
enum db_dialect {
	DB_SQLITE,
	DB_POSTGRESQL,
	DB_DIALECTS
};

struct db_migration {
	int		 version;	/* schema version after it */
	const char	*name;		/* file name without .sql */
	const char	*sql[DB_DIALECTS];
};

extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

/* Connections. */
struct db	*db_open(const char *, char **);
void		 db_close(struct db *);
const char	*db_name(struct db *);
enum db_dialect	 db_dialect(struct db *);
int		 db_shared(struct db *);
int		 db_exec(struct db *, const char *, char **);
int		 db_checkpoint(struct db *, char **);
void		 db_yielding(struct db *, int);
char		*db_pragma_text(struct db *, const char *, char **);
char		*db_server_version(struct db *, char **);
int		 db_begin(struct db *, char **);
int		 db_commit(struct db *, char **);
void		 db_rollback(struct db *);
int		 db_in_tx(struct db *);
int		 db_readonly(struct db *);
int		 db_error_is_data(struct db *);
const char	*db_errmsg(struct db *);
long long	 db_last_id(struct db *);
int		 db_next_ids(struct db *, const char *, size_t, long long *,
		     struct err *);
long long	 db_changes(struct db *);
int		 db_lock(struct db *, const char *, int, char **);
void		 db_unlock(struct db *, const char *);
int		 db_is_url(const char *);
int		 db_user_version(struct db *, int *, char **);
int		 db_latest_version(void);
int		 db_migrate(struct db *, char **);
json_t		*db_copy(const char *, const char *, struct err *);
int		 db_meta_get(struct db *, const char *, void **, size_t *,
		     char **);
int		 db_meta_set(struct db *, const char *, const void *, size_t,
		     char **);

/* Statements. */
struct db_stmt	*db_prepare(struct db *, const char *, char **);
int		 db_step(struct db_stmt *);
void		 db_reset(struct db_stmt *);
int		 db_finalize(struct db_stmt *);

void		 db_bind_null(struct db_stmt *, int);
void		 db_bind_int64(struct db_stmt *, int, long long);
void		 db_bind_double(struct db_stmt *, int, double);
void		 db_bind_text(struct db_stmt *, int, const char *);
void		 db_bind_blob(struct db_stmt *, int, const void *, size_t);
void		 db_bind_int(struct db_stmt *, int, long long, int);
void		 db_bind_real(struct db_stmt *, int, double, int);

enum db_type	 db_col_type(struct db_stmt *, int);
long long	 db_col_int64(struct db_stmt *, int);
int		 db_col_int(struct db_stmt *, int);
double		 db_col_double(struct db_stmt *, int);
const char	*db_col_text(struct db_stmt *, int);
const void	*db_col_blob(struct db_stmt *, int);
size_t		 db_col_bytes(struct db_stmt *, int);

/* Row helpers: errors become ERR_STORAGE with the engine's message. */
typedef json_t	*(*db_row_cb)(struct db_stmt *);
struct db_stmt	*db_prepare_err(struct db *, const char *, struct err *);
json_t		*db_rows(struct db *, struct db_stmt *, db_row_cb,
		     struct err *);
int		 db_row(struct db *, struct db_stmt *, db_row_cb, json_t **,
		     struct err *);
int		 db_step_done(struct db *, struct db_stmt *, struct err *);
typedef int	(*db_each_cb)(struct db_stmt *, void *);
int		 db_each(struct db *, struct db_stmt *, db_each_cb, void *,
		     struct err *);
struct db_stmt	*db_cached(struct db *, const char *, struct err *);
int		 db_cached_step(struct db *, struct db_stmt *, struct err *);

#endif
