/*
 * The SQLite store. One connection per thread; only the daemon opens it.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "err.h"

#define DB_CACHE	8

struct db {
	sqlite3		*h;
	char		*path;
	struct {
		const char	*sql;	/* identity: the caller's literal */
		sqlite3_stmt	*st;
	}		 cache[DB_CACHE];	/* hot statements, kept prepared */
};

struct db_migration {
	int		 version;	/* PRAGMA user_version after it */
	const char	*name;		/* file name without .sql */
	const char	*sql;
};

extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

struct db	*db_open(const char *, char **);
void		 db_close(struct db *);
int		 db_exec(struct db *, const char *, char **);
char		*db_pragma_text(struct db *, const char *, char **);
int		 db_begin(struct db *, char **);
int		 db_commit(struct db *, char **);
void		 db_rollback(struct db *);
sqlite3_stmt	*db_prepare(struct db *, const char *, char **);
const char	*db_strerror(struct db *);
char		*db_errmsg(struct db *);
int		 db_user_version(struct db *, int *, char **);
int		 db_latest_version(void);
int		 db_migrate(struct db *, char **);
int		 db_meta_get(struct db *, const char *, void **, size_t *,
		     char **);
int		 db_meta_set(struct db *, const char *, const void *, size_t,
		     char **);

/* Row helpers: errors become ERR_STORAGE with SQLite's message. */
typedef json_t	*(*db_row_cb)(sqlite3_stmt *);
sqlite3_stmt	*db_prepare_err(struct db *, const char *, struct err *);
json_t		*db_rows(struct db *, sqlite3_stmt *, db_row_cb, struct err *);
int		 db_row(struct db *, sqlite3_stmt *, db_row_cb, json_t **,
		     struct err *);
int		 db_step_done(struct db *, sqlite3_stmt *, struct err *);
typedef int	(*db_each_cb)(sqlite3_stmt *, void *);
int		 db_each(struct db *, sqlite3_stmt *, db_each_cb, void *,
		     struct err *);
sqlite3_stmt	*db_cached(struct db *, const char *, struct err *);
int		 db_cached_step(struct db *, sqlite3_stmt *, struct err *);

void		 db_bind_text(sqlite3_stmt *, int, const char *);
void		 db_bind_blob(sqlite3_stmt *, int, const void *, size_t);
void		 db_bind_int(sqlite3_stmt *, int, long long, int);
void		 db_bind_real(sqlite3_stmt *, int, double, int);
const char	*db_col_text(sqlite3_stmt *, int);

#endif
