/*
 * The request log: one row per downstream request with its attempts, and
 * the queries and sums other views need. This module alone owns
 * request_logs and request_attempts. Rows are written by the log writer
 * (daemon/logwriter.c), never by request threads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "proxylog.h"
#include "xmalloc.h"

struct proxylog_rec *
proxylog_rec_new(void)
{
	struct proxylog_rec	*r;

	r = xcalloc(1, sizeof *r);
	r->status = "failed";
	r->usage_source = "none";
	r->ttfb_ms = -1;
	return (r);
}

void
proxylog_rec_free(struct proxylog_rec *r)
{
	size_t	i;

	if (r == NULL)
		return;
	free(r->model_requested);
	free(r->model);
	free(r->downstream_path);
	free(r->client);
	free(r->error);
	for (i = 0; i < r->nattempts; i++) {
		free(r->attempts[i].upstream_path);
		free(r->attempts[i].error);
	}
	free(r);
}

/* Insert one record and its attempts (the caller holds the transaction). */
int
proxylog_insert(struct db *db, const struct proxylog_rec *r, struct err *e)
{
	const struct proxylog_attempt	*a;
	sqlite3_stmt			*st;
	long long			 id;
	size_t				 i;
	int				 rc;

	st = db_prepare(db, "INSERT INTO request_logs (time, key_id, "
	    "model_requested, model, route_id, channel_id, site_id, account_id, "
	    "downstream_path, client, status, http_status, stream, "
	    "attempt_count, ttfb_ms, latency_ms, prompt_tokens, "
	    "completion_tokens, cache_read_tokens, cache_write_tokens, cost_usd, "
	    "usage_source, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", NULL);
	if (st == NULL)
		goto storage;
	sqlite3_bind_int64(st, 1, r->time);
	db_bind_int(st, 2, r->key_id, r->key_id != 0);
	db_bind_text(st, 3, r->model_requested);
	db_bind_text(st, 4, r->model);
	db_bind_int(st, 5, r->route_id, r->route_id != 0);
	db_bind_int(st, 6, r->channel_id, r->channel_id != 0);
	db_bind_int(st, 7, r->site_id, r->site_id != 0);
	db_bind_int(st, 8, r->account_id, r->account_id != 0);
	db_bind_text(st, 9, r->downstream_path);
	db_bind_text(st, 10, r->client);
	db_bind_text(st, 11, r->status);
	db_bind_int(st, 12, r->http_status, r->http_status != 0);
	sqlite3_bind_int(st, 13, r->stream);
	sqlite3_bind_int64(st, 14, (long long)r->nattempts);
	db_bind_int(st, 15, r->ttfb_ms, r->ttfb_ms >= 0);
	sqlite3_bind_int64(st, 16, r->latency_ms);
	sqlite3_bind_int64(st, 17, r->prompt_tokens);
	sqlite3_bind_int64(st, 18, r->completion_tokens);
	sqlite3_bind_int64(st, 19, r->cache_read_tokens);
	sqlite3_bind_int64(st, 20, r->cache_write_tokens);
	sqlite3_bind_double(st, 21, r->cost_usd);
	db_bind_text(st, 22, r->usage_source);
	db_bind_text(st, 23, r->error);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto storage;
	id = sqlite3_last_insert_rowid(db->h);
	for (i = 0; i < r->nattempts; i++) {
		a = &r->attempts[i];
		st = db_prepare(db, "INSERT INTO request_attempts (log_id, n, "
		    "channel_id, site_id, account_id, upstream_path, "
		    "http_status, error, retryable, latency_ms, started_at) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", NULL);
		if (st == NULL)
			goto storage;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (long long)i + 1);
		db_bind_int(st, 3, a->channel_id, a->channel_id != 0);
		db_bind_int(st, 4, a->site_id, a->site_id != 0);
		db_bind_int(st, 5, a->account_id, a->account_id != 0);
		db_bind_text(st, 6, a->upstream_path);
		db_bind_int(st, 7, a->http_status, a->http_status != 0);
		db_bind_text(st, 8, a->error);
		sqlite3_bind_int(st, 9, a->retryable);
		sqlite3_bind_int64(st, 10, a->latency_ms);
		sqlite3_bind_int64(st, 11, a->started_at);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			goto storage;
	}
	return (0);
storage:
	err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
	return (-1);
}

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
