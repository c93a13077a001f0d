/*
 * Inside the storage layer: what a backend provides. db.c dispatches
 * every call of db.h through the connection's ops table, chosen once by
 * db_open(); nothing outside src/db*.c includes this file.
 */
#ifndef DB_BACKEND_H
#define DB_BACKEND_H

#include "db.h"

#define DB_CACHE	16

struct db_ops {
	const char	*name;
	enum db_dialect	 dialect;
	int		 shared;	/* several daemons may use one */
	int		 (*open)(struct db *, const char *, char **);
	void		 (*close)(struct db *);
	int		 (*exec)(struct db *, const char *, char **);
	int		 (*checkpoint)(struct db *, char **);	/* or NULL */
	void		 (*yielding)(struct db *, int);	/* or NULL */
	const char	*(*errmsg)(struct db *);
	char		*(*version)(struct db *, char **);
	long long	 (*last_id)(struct db *);
	int		 (*next_ids)(struct db *, const char *, size_t,
			     long long *, struct err *);
	long long	 (*changes)(struct db *);
	int		 (*in_tx)(struct db *);
	int		 (*readonly)(struct db *);
	int		 (*error_is_data)(struct db *);
	const char	*begin_sql;	/* a write transaction */
	const char	*begin_read_sql;	/* a consistent snapshot */
	int		 (*user_version)(struct db *, int *, char **);
	int		 (*set_user_version)(struct db *, int, char **);
	int		 (*lock)(struct db *, const char *, int, char **);
	void		 (*unlock)(struct db *, const char *);
	const char	*migrate_lock;	/* held while migrating, or NULL */
	/* Copying (db-copy.c): the source's tables and columns, in order. */
	json_t		*(*tables)(struct db *, struct err *);
	json_t		*(*columns)(struct db *, const char *, struct err *);
	int		 (*reset_ids)(struct db *, const char *, struct err *);

	struct db_stmt	*(*prepare)(struct db *, const char *, char **);
	int		 (*step)(struct db_stmt *);
	void		 (*reset)(struct db_stmt *);
	void		 (*clear)(struct db_stmt *);
	int		 (*finalize)(struct db_stmt *);
	void		 (*keep)(struct db_stmt *);	/* or NULL */
	void		 (*bind_null)(struct db_stmt *, int, enum db_type);
	void		 (*bind_int64)(struct db_stmt *, int, long long);
	void		 (*bind_double)(struct db_stmt *, int, double);
	void		 (*bind_text)(struct db_stmt *, int, const char *);
	void		 (*bind_blob)(struct db_stmt *, int, const void *,
			     size_t);
	enum db_type	 (*col_type)(struct db_stmt *, int);
	long long	 (*col_int64)(struct db_stmt *, int);
	double		 (*col_double)(struct db_stmt *, int);
	const char	*(*col_text)(struct db_stmt *, int);
	const void	*(*col_blob)(struct db_stmt *, int);
	size_t		 (*col_bytes)(struct db_stmt *, int);
};

struct db {
	const struct db_ops	*ops;
	void			*h;		/* the backend's connection */
	char			*path;		/* file or URL, for messages */
	struct {
		const char	*sql;	/* identity: the caller's literal */
		struct db_stmt	*st;
	}			 cache[DB_CACHE];	/* kept prepared */
};

/* Each backend's statement starts with this. */
struct db_stmt {
	const struct db_ops	*ops;
	struct db		*db;
};

int		 db_migrate_tx(struct db *, char **);

extern const struct db_ops db_sqlite_ops;
#ifdef HAVE_POSTGRESQL
extern const struct db_ops db_pg_ops;
#endif

#endif
