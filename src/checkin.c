/*
 * The check-in log: one row per attempt and account, with the outcome,
 * the reward in USD and the site's message. This module alone owns the
 * checkin_logs table.
 */
#include "config.h"

#include <time.h>

#include <jansson.h>

#include "adapter.h"
#include "checkin.h"
#include "db.h"
#include "err.h"
#include "jx.h"

int
checkin_log_add(struct db *db, long long account_id,
    const struct adapter_checkin *c, struct err *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(db, "INSERT INTO checkin_logs (account_id, time, "
	    "outcome, reward_usd, message) VALUES (?, ?, ?, ?, ?)", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (-1);
	}
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, (long long)time(NULL));
	db_bind_text(st, 3, adapter_checkin_name(c->outcome));
	db_bind_real(st, 4, c->reward_usd, c->has_reward);
	db_bind_text(st, 5, c->message);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (-1);
	}
	return (0);
}

/* Check-in outcomes since a time: {"success": n, "failed": n, ...}. */
json_t *
checkin_outcomes_since(struct db *db, long long since, struct err *e)
{
	sqlite3_stmt	*st;
	json_t		*o;
	int		 rc;

	st = db_prepare(db, "SELECT outcome, COUNT(*) FROM checkin_logs "
	    "WHERE time >= ? GROUP BY outcome", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (NULL);
	}
	sqlite3_bind_int64(st, 1, since);
	o = json_object();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_set_new(o, db_col_text(st, 0),
		    json_integer(sqlite3_column_int64(st, 1)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(o);
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (NULL);
	}
	return (o);
}

/* The newest limit rows, of one account or (account_id 0) all. */
json_t *
checkin_log_list(struct db *db, long long account_id, long long limit,
    struct err *e)
{
	sqlite3_stmt	*st;
	json_t		*items, *o;
	int		 rc;

	st = db_prepare(db, "SELECT c.id, c.account_id, s.name, c.time, "
	    "c.outcome, c.reward_usd, c.message FROM checkin_logs c JOIN "
	    "accounts a ON a.id = c.account_id JOIN sites s ON s.id = "
	    "a.site_id WHERE ? = 0 OR c.account_id = ? ORDER BY c.id DESC "
	    "LIMIT ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (NULL);
	}
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, account_id);
	sqlite3_bind_int64(st, 3, limit > 0 ? limit : 50);
	items = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "id",
		    json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(o, "account_id",
		    json_integer(sqlite3_column_int64(st, 1)));
		jx_set_str(o, "site", db_col_text(st, 2));
		json_object_set_new(o, "time",
		    jx_time(sqlite3_column_int64(st, 3)));
		jx_set_str(o, "outcome", db_col_text(st, 4));
		json_object_set_new(o, "reward_usd", jx_opt_real(
		    sqlite3_column_type(st, 5) != SQLITE_NULL,
		    sqlite3_column_double(st, 5)));
		jx_set_str_or_null(o, "message", db_col_text(st, 6));
		json_array_append_new(items, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		return (NULL);
	}
	return (jx_items(items));
}

/* Today's local date, "YYYY-MM-DD": the day a check-in counts for. */
void
checkin_today(char *out, size_t len)
{
	time_t		now = time(NULL);
	struct tm	tm;

	localtime_r(&now, &tm);
	strftime(out, len, "%Y-%m-%d", &tm);
}

/*
 * Claim the account's check-in for day: 1 when this run may ask the site,
 * 0 when another run already did (or is doing it), -1 on error.
 */
int
checkin_claim(struct db *db, long long account_id, const char *day,
    struct err *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare_err(db, "INSERT INTO checkin_claims (account_id, day, "
	    "claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", e);
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, account_id);
	db_bind_text(st, 2, day);
	sqlite3_bind_int64(st, 3, (long long)time(NULL));
	if (db_step_done(db, st, e) != 0)
		return (-1);
	rc = sqlite3_changes(db->h);
	return (rc > 0 ? 1 : 0);
}

/* A run that did not check in gives the day back for a later try. */
int
checkin_unclaim(struct db *db, long long account_id, const char *day)
{
	sqlite3_stmt	*st;
	struct err	 e = { ERR_OK, NULL };
	int		 rv;

	st = db_prepare_err(db, "DELETE FROM checkin_claims WHERE account_id = "
	    "? AND day = ?", &e);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, account_id);
		db_bind_text(st, 2, day);
	}
	rv = db_step_done(db, st, &e);
	err_clear(&e);
	return (rv);
}
