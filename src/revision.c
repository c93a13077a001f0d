/*
 * The configuration's revision: one number in config_revision that every
 * change made through a daemon moves. Several daemons sharing one
 * database poll it; when another daemon moved it, a daemon reloads its
 * settings and rebuilds its routing snapshot, so that a change made
 * through any of them reaches all within a poll. This module alone owns
 * the config_revision table.
 */
#include "config.h"

#include <time.h>

#include "db.h"
#include "err.h"
#include "revision.h"

/* Move the revision on; the new one, or -1. */
long long
revision_bump(struct db *db, struct err *e)
{
	struct db_stmt	*st;
	long long	 rev = -1;

	st = db_prepare_err(db, "UPDATE config_revision SET revision = "
	    "revision + 1, changed_at = ? WHERE id = 1 RETURNING revision", e);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, (long long)time(NULL));
	if (db_step(st) == DB_ROW)
		rev = db_col_int64(st, 0);
	else
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	db_finalize(st);
	return (rev);
}

/* The revision now, or -1. */
long long
revision_get(struct db *db, struct err *e)
{
	struct db_stmt	*st;
	long long	 rev = -1;

	st = db_prepare_err(db, "SELECT revision FROM config_revision WHERE "
	    "id = 1", e);
	if (st == NULL)
		return (-1);
	if (db_step(st) == DB_ROW)
		rev = db_col_int64(st, 0);
	else
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	db_finalize(st);
	return (rev);
}
