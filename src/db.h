/*
 * The SQLite store. One connection per thread; only the daemon opens it.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct db {
	sqlite3	*h;
	char	*path;
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
int		 db_begin(struct db *, char **);
int		 db_commit(struct db *, char **);
void		 db_rollback(struct db *);
sqlite3_stmt	*db_prepare(struct db *, const char *, char **);
char		*db_errmsg(struct db *);
int		 db_user_version(struct db *, int *, char **);
int		 db_latest_version(void);
int		 db_migrate(struct db *, char **);
int		 db_meta_get(struct db *, const char *, void **, size_t *,
		     char **);
int		 db_meta_set(struct db *, const char *, const void *, size_t,
		     char **);

void		 db_bind_text(sqlite3_stmt *, int, const char *);
void		 db_bind_blob(sqlite3_stmt *, int, const void *, size_t);
void		 db_bind_int(sqlite3_stmt *, int, long long, int);
void		 db_bind_real(sqlite3_stmt *, int, double, int);
const char	*db_col_text(sqlite3_stmt *, int);

#endif
