/*
 * Job runs: one row per run of a scheduled job, with its start, end,
 * outcome and message. This module alone owns the job_runs table.
 */
#include "config.h"

#include <time.h>

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "jobrun.h"
#include "jx.h"

long long
jobrun_start(struct db *db, const char *job, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "INSERT INTO job_runs (job, started_at) "
	    "VALUES (?, ?)", e);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, job);
	db_bind_int64(st, 2, (long long)time(NULL));
	if (db_step_done(db, st, e) != 0)
		return (-1);
	return (db_last_id(db));
}

/* outcome: "ok", "failed" or "skipped". */
int
jobrun_finish(struct db *db, long long id, const char *outcome,
    const char *message, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "UPDATE job_runs SET ended_at = ?, outcome = "
	    "?, message = ? WHERE id = ?", e);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, (long long)time(NULL));
	db_bind_text(st, 2, outcome);
	db_bind_text(st, 3, message);
	db_bind_int64(st, 4, id);
	return (db_step_done(db, st, e));
}

static json_t *
jobrun_row_json(struct db_stmt *st)
{
	json_t	*o = json_object();

	json_object_set_new(o, "run_id", json_integer(db_col_int64(st,
	    0)));
	json_object_set_new(o, "started_at", jx_time(db_col_int64(st,
	    1)));
	json_object_set_new(o, "ended_at", jx_time(db_col_int64(st,
	    2)));
	jx_set_str(o, "outcome", db_col_text(st, 3));
	jx_set_str_or_null(o, "message", db_col_text(st, 4));
	return (o);
}

/* The job's latest run, or JSON null. */
json_t *
jobrun_last(struct db *db, const char *job)
{
	struct db_stmt	*st;
	struct err	 e = { ERR_OK, NULL };
	json_t		*o;

	st = db_prepare_err(db, "SELECT id, started_at, ended_at, outcome, "
	    "message FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1", &e);
	if (st != NULL)
		db_bind_text(st, 1, job);
	if (db_row(db, st, jobrun_row_json, &o, &e) != 1) {
		err_clear(&e);
		return (json_null());
	}
	return (o);
}

/* Runs of job a previous daemon left "running" when it died. */
int
jobrun_abandon(struct db *db, const char *job)
{
	struct db_stmt	*st;
	struct err	 e = { ERR_OK, NULL };
	int		 rv;

	st = db_prepare_err(db, "UPDATE job_runs SET outcome = 'failed', "
	    "message = 'the daemon stopped during the run' WHERE job = ? AND "
	    "outcome = 'running'", &e);
	if (st != NULL)
		db_bind_text(st, 1, job);
	rv = db_step_done(db, st, &e);
	err_clear(&e);
	return (rv);
}

/*
 * Whether a run of job started at or after t (Unix seconds): another
 * daemon sharing the database took the turn due at t.
 */
int
jobrun_started_since(struct db *db, const char *job, long long t)
{
	struct db_stmt	*st;
	struct err	 e = { ERR_OK, NULL };
	int		 found = 0;

	st = db_prepare_err(db, "SELECT 1 FROM job_runs WHERE job = ? AND "
	    "started_at >= ? LIMIT 1", &e);
	if (st == NULL) {
		err_clear(&e);
		return (0);
	}
	db_bind_text(st, 1, job);
	db_bind_int64(st, 2, t);
	found = db_step(st) == DB_ROW;
	db_finalize(st);
	return (found);
}

/* When the job last started (Unix seconds), 0 if never. */
long long
jobrun_last_start(struct db *db, const char *job)
{
	struct db_stmt	*st;
	struct err	 e = { ERR_OK, NULL };
	long long	 t = 0;

	st = db_prepare_err(db, "SELECT MAX(started_at) FROM job_runs WHERE "
	    "job = ?", &e);
	if (st == NULL) {
		err_clear(&e);
		return (0);
	}
	db_bind_text(st, 1, job);
	if (db_step(st) == DB_ROW)
		t = db_col_int64(st, 0);
	db_finalize(st);
	return (t);
}
