/*
 * Schema migrations: bring a database to the newest version this binary
 * knows, one numbered migration per transaction, recorded as the
 * database's schema version (PRAGMA user_version in SQLite). A database
 * from a newer metapi is refused, never touched.
 */
#include "config.h"

#include <stdlib.h>

#include "db-backend.h"
#include "log.h"
#include "xmalloc.h"

int
db_latest_version(void)
{
	return (db_migrations_count == 0 ? 0 :
	    db_migrations[db_migrations_count - 1].version);
}

static int	db_migrate_locked(struct db *, char **);

int
db_migrate(struct db *db, char **cause)
{
	const char	*lock = db->ops->migrate_lock;
	int		 rc;

	/* Daemons starting together on one server: one migrates. */
	if (lock != NULL && db_lock(db, lock, 1, cause) != 1)
		return (-1);
	rc = db_migrate_locked(db, cause);
	if (lock != NULL)
		db_unlock(db, lock);
	return (rc);
}

/*
 * Apply the migrations newer than the database's version: each in a
 * transaction of its own, or, when own_tx is 0, in the caller's.
 */
static int
db_migrate_apply(struct db *db, int own_tx, char **cause)
{
	const struct db_migration	*m = NULL;
	int				 have, latest = db_latest_version();
	size_t				 i;
	char				*err = NULL;

	if (db_user_version(db, &have, cause) != 0)
		return (-1);
	if (have > latest) {
		xasprintf(cause, "database %s has schema version %d, written "
		    "by a newer metapi; this one knows up to %d. Upgrade "
		    "metapi or use another data dir", db->path, have, latest);
		return (-1);
	}
	for (i = 0; i < db_migrations_count; i++) {
		m = &db_migrations[i];
		if (m->version <= have)
			continue;
		if (own_tx && db_begin(db, &err) != 0)
			goto fail;
		if (db_exec(db, m->sql[db->ops->dialect], &err) != 0 ||
		    db->ops->set_user_version(db, m->version, &err) != 0) {
			if (own_tx)
				db_rollback(db);
			goto fail;
		}
		if (own_tx && db_commit(db, &err) != 0)
			goto fail;
		log_info("database: applied migration %s", m->name);
	}
	return (0);
fail:
	xasprintf(cause, "database %s: migration %s failed: %s", db->path,
	    m->name, err != NULL ? err : "unknown error");
	free(err);
	return (-1);
}

static int
db_migrate_locked(struct db *db, char **cause)
{
	return (db_migrate_apply(db, 1, cause));
}

/* Every migration inside the caller's transaction (db_copy()). */
int
db_migrate_tx(struct db *db, char **cause)
{
	return (db_migrate_apply(db, 0, cause));
}
