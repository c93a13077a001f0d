/*
 * The request log: one row per downstream request with its attempts, and
 * the sums other views need. This module alone owns request_logs and
 * request_attempts. (The proxy that writes the rows arrives with the /v1
 * surface; today only the sums are read.)
 */
#include "config.h"

#include "db.h"
#include "proxylog.h"

/* USD spent through account_id (0: all) since a Unix time. */
double
proxylog_spend_since(struct db *db, long long account_id, long long since)
{
	sqlite3_stmt	*st;
	double		 sum = 0;

	st = db_prepare(db, "SELECT COALESCE(SUM(cost_usd), 0) FROM "
	    "request_logs WHERE time >= ? AND (? = 0 OR account_id = ?)", NULL);
	if (st == NULL)
		return (0);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, account_id);
	sqlite3_bind_int64(st, 3, account_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		sum = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return (sum);
}
