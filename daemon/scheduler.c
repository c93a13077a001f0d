/*
 * The scheduler: job_table[] names every job, the setting that holds its
 * schedule and how to start it. The main loop calls scheduler_tick() each
 * turn (at least once a second); a job that is due and not running starts
 * there, does its network work through account jobs on worker threads,
 * and records its run in job_runs when it finishes. A job never overlaps
 * itself; `metapi job run NAME` starts one now and waits for it. The
 * state here belongs to the main thread.
 *
 * Several daemons may share one PostgreSQL database: each job then runs
 * under an advisory lock named after it (db_lock), held from its start
 * to its end, so that it runs on one daemon at a time; and a scheduled
 * turn that another daemon already took (a run of the job started at or
 * after the turn's time) is skipped, so that each turn runs once. With
 * SQLite the data dir's lock already makes this daemon the only one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "buf.h"
#include "checkin.h"
#include "compat.h"
#include "cron.h"
#include "daemon.h"
#include "err.h"
#include "event.h"
#include "file.h"
#include "jobrun.h"
#include "jx.h"
#include "log.h"
#include "paths.h"
#include "proxylog.h"
#include "setting.h"
#include "xmalloc.h"

struct job_entry;
typedef enum ctl_ret (*job_start_cb)(const struct job_entry *,
	    struct ctl_req *, json_t **, struct err *);

struct job_entry {
	const char	*name;
	const char	*cron;		/* the setting holding its schedule */
	job_start_cb	 start;
	const char	*help;
};

struct job_state {
	time_t		 next;		/* next scheduled start */
	int		 running;
	int		 locked;	/* holds the job's lock */
	long long	 run_id;
	time_t		 started;
};

static enum ctl_ret	job_checkin(const struct job_entry *, struct ctl_req *,
			    json_t **, struct err *);
static enum ctl_ret	job_balance(const struct job_entry *, struct ctl_req *,
			    json_t **, struct err *);
static enum ctl_ret	job_cleanup(const struct job_entry *, struct ctl_req *,
			    json_t **, struct err *);
static enum ctl_ret	job_summary(const struct job_entry *, struct ctl_req *,
			    json_t **, struct err *);
static enum ctl_ret	job_renew(const struct job_entry *, struct ctl_req *,
			    json_t **, struct err *);

static const struct job_entry job_table[] = {
	{ "checkin", "checkin_cron", job_checkin,
	  "check in every account that checks in (checkin_schedule_mode)" },
	{ "balance", "balance_refresh_cron", job_balance,
	  "refresh every account's balance, tokens, models and prices" },
	{ "log-cleanup", "log_cleanup_cron", job_cleanup,
	  "delete request logs and events past their retention days, and "
	  "expired files" },
	{ "daily-summary", "daily_summary_cron", job_summary,
	  "send the day's requests, spend, income, balances and check-ins" },
	{ "renew", "session_renew_cron", job_renew,
	  "log in again the password accounts whose session is getting old" },
};

static struct job_state	job_states[nitems(job_table)];

static size_t
job_index(const struct job_entry *j)
{
	return ((size_t)(j - job_table));
}

/* Whether job i runs every so many hours from its last run. */
static int
job_interval(size_t i)
{
	return (strcmp(job_table[i].name, "checkin") == 0 &&
	    strcmp(settings_str(metapid->settings, "checkin_schedule_mode"),
	    "interval") == 0);
}

/* When job i runs next after `after`. */
static time_t
job_next(size_t i, time_t after)
{
	const struct settings	*set = metapid->settings;
	struct cron		 c;
	time_t			 t, last;

	/*
	 * Interval mode counts from the last run, not from now, so restarts
	 * and setting changes cannot keep pushing the check-in back.
	 */
	if (job_interval(i)) {
		last = jobrun_last_start(metapid->db, job_table[i].name);
		t = last + settings_int(set, "checkin_interval_hours") * 3600;
		return (t > after ? t : after);
	}
	if (cron_parse(settings_str(set, job_table[i].cron), &c, NULL) != 0)
		return (-1);
	t = cron_next(&c, after);
	return (t);
}

/* Settings changed, or the daemon started: compute every next run. */
void
scheduler_reschedule(void)
{
	time_t	now = time(NULL);
	size_t	i;

	for (i = 0; i < nitems(job_table); i++)
		job_states[i].next = job_next(i, now);
}

/* The name of job i's lock among daemons. */
static const char *
job_lock_name(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "metapi job %s", job_table[i].name);
	return (buf);
}

/* Take job i's lock: 1 taken, 0 another daemon runs it, -1 error. */
static int
job_lock(size_t i, char **cause)
{
	char	name[64];
	int	rc;

	rc = db_lock(metapid->db, job_lock_name(i, name, sizeof name), 0,
	    cause);
	job_states[i].locked = rc == 1;
	return (rc);
}

static void
job_unlock(size_t i)
{
	char	name[64];

	if (!job_states[i].locked)
		return;
	db_unlock(metapid->db, job_lock_name(i, name, sizeof name));
	job_states[i].locked = 0;
}

/*
 * Runs left "running" by a daemon that died are over; a run another
 * daemon holds the lock of is not.
 */
void
scheduler_init(void)
{
	char	*cause = NULL;
	size_t	 i;

	for (i = 0; i < nitems(job_table); i++) {
		if (job_lock(i, &cause) == 1)
			jobrun_abandon(metapid->db, job_table[i].name);
		job_unlock(i);
		free(cause);
		cause = NULL;
	}
	scheduler_reschedule();
}

/* A run is over: record it and free the job for its next turn. */
static void
job_done(size_t i, const char *outcome, const char *message)
{
	struct err	 e = { ERR_OK, NULL };
	char		*title;

	if (job_states[i].run_id > 0 && jobrun_finish(metapid->db,
	    job_states[i].run_id, outcome, message, &e) != 0) {
		log_warnx("job %s: %s", job_table[i].name, e.msg);
		err_clear(&e);
	}
	log_info("job %s: %s%s%s", job_table[i].name, outcome,
	    message != NULL ? ": " : "", message != NULL ? message : "");
	metrics_job(job_table[i].name, outcome);
	if (strcmp(outcome, "failed") == 0) {
		xasprintf(&title, "job %s failed", job_table[i].name);
		if (event_add(metapid->db, "job", "warning", title, message,
		    NULL, 0, &e) < 0)
			err_clear(&e);
		free(title);
	}
	job_states[i].running = 0;
	job_states[i].run_id = 0;
	job_unlock(i);
}

/* Account jobs end here: summarise the items, then reply as usual. */
static json_t *
job_finish(struct acctjob *aj, json_t *items, int failed)
{
	size_t	 i = (struct job_state *)aj->finish_arg - job_states;
	char	*msg;

	xasprintf(&msg, "%zu accounts, %d failed", json_array_size(items),
	    failed);
	job_done(i, failed > 0 ? "failed" : "ok", msg);
	/* Every balance is fresh now: the total can be judged. */
	if (strcmp(job_table[i].name, "balance") == 0)
		ctl_account_low_total();
	free(msg);
	return (json_pack("{s:s, s:O, s:n, s:i}", "job", job_table[i].name,
	    "items", items, "next", "failed", failed));
}

static enum ctl_ret
job_checkin(const struct job_entry *j, struct ctl_req *req,
    __unused json_t **reply, struct err *e)
{
	long long	*ids;
	size_t		 n;
	enum ctl_ret	 ret;

	if (account_ids(metapid->db, &ids, &n, e) != 0)
		return (CTL_ERROR);
	ret = ctl_checkin_start(req, ids, n, job_finish,
	    &job_states[job_index(j)], e);
	free(ids);
	return (ret);
}

static enum ctl_ret
job_balance(const struct job_entry *j, struct ctl_req *req,
    __unused json_t **reply, struct err *e)
{
	long long	*ids;
	size_t		 n;
	enum ctl_ret	 ret;

	if (account_ids(metapid->db, &ids, &n, e) != 0)
		return (CTL_ERROR);
	ret = ctl_account_refresh_start(req, ids, n, job_finish,
	    &job_states[job_index(j)], e);
	free(ids);
	return (ret);
}

/* Sub2API's JWTs live 24 hours: renewed after 20. */
#define JOB_SUB2API_RENEW	(20 * 3600)

static enum ctl_ret
job_renew(const struct job_entry *j, struct ctl_req *req, json_t **reply,
    struct err *e)
{
	long long	 days = settings_int(metapid->settings,
			    "session_renew_days"), *ids;
	size_t		 n;
	enum ctl_ret	 ret;

	if (days <= 0) {
		job_done(job_index(j), "ok", "session_renew_days is 0");
		*reply = json_pack("{s:s, s:[], s:n, s:i}", "job", j->name,
		    "items", "next", "failed", 0);
		return (CTL_DONE);
	}
	if (account_renew_ids(metapid->db, days * 86400, JOB_SUB2API_RENEW,
	    &ids, &n, e) != 0)
		return (CTL_ERROR);
	ret = ctl_account_renew_start(req, ids, n, job_finish,
	    &job_states[job_index(j)], e);
	free(ids);
	return (ret);
}

/* Quick and local: runs to the end on the main thread. */
static enum ctl_ret
job_cleanup(const struct job_entry *j, __unused struct ctl_req *req,
    json_t **reply, struct err *e)
{
	long long	days = settings_int(metapid->settings,
			    "log_retention_days");
	long long	edays = settings_int(metapid->settings,
			    "event_retention_days");
	long long	now = (long long)time(NULL);
	int		n = 0, nf = 0, rc = 0;
	char		msg[192], *dir;

	/* Balance snapshots are kept as long as the request logs. */
	if (days > 0 && ((n = proxylog_prune(metapid->db, now - days * 86400,
	    e)) < 0 || account_snapshots_prune(metapid->db, now - days * 86400,
	    e) != 0))
		rc = -1;
	if (rc == 0 && edays > 0 && event_prune(metapid->db,
	    now - edays * 86400, e) < 0)
		rc = -1;
	/* Uploads carry their own expiry (files_retention_days). */
	dir = paths_join(metapid->data_dir, FILE_DIR);
	if (rc == 0 && (nf = file_prune(metapid->db, dir, now, e)) < 0)
		rc = -1;
	free(dir);
	if (rc != 0) {
		job_done(job_index(j), "failed", e->msg);
		return (CTL_ERROR);
	}
	if (days > 0)
		snprintf(msg, sizeof msg, "%d request logs older than %lld days "
		    "deleted", n, days);
	else
		snprintf(msg, sizeof msg, "log_retention_days is 0: logs are "
		    "kept");
	if (nf > 0)
		snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "; %d "
		    "expired files deleted", nf);
	job_done(job_index(j), "ok", msg);
	*reply = json_pack("{s:s, s:s, s:i, s:i}", "job", j->name, "message",
	    msg, "deleted", n, "files_deleted", nf);
	return (CTL_DONE);
}

/*
 * The day in a few lines, as a notification: requests and spend over the
 * last 24 hours, today's income and check-ins, and the balance now.
 * Quick and local, on the main thread.
 */
static enum ctl_ret
job_summary(const struct job_entry *j, __unused struct ctl_req *req,
    json_t **reply, struct err *e)
{
	json_t		*stats = NULL, *bal = NULL, *ci = NULL, *t, *b;
	struct buf	 msg;
	double		 rate;
	char		*text;
	enum ctl_ret	 ret = CTL_ERROR;

	if ((stats = proxylog_stats(metapid->db, 1, e)) == NULL ||
	    (bal = account_balances(metapid->db, e)) == NULL ||
	    (ci = checkin_outcomes_since(metapid->db, account_today_start(),
	    e)) == NULL) {
		job_done(job_index(j), "failed", e->msg);
		goto out;
	}
	t = json_object_get(stats, "totals");
	b = json_object_get(bal, "total");
	buf_init(&msg, 4096);
	buf_printf(&msg, "Requests in 24 h: %lld", (long long)
	    json_integer_value(json_object_get(t, "requests")));
	if (jx_real(t, "success_rate", &rate) == 0)
		buf_printf(&msg, " (%.1f%% ok)", rate);
	buf_printf(&msg, ", tokens %lld, spend USD %.4f.\n", (long long)
	    json_integer_value(json_object_get(t, "tokens")),
	    json_number_value(json_object_get(t, "cost_usd")));
	buf_printf(&msg, "Balance USD %.2f over %zu accounts; income today "
	    "USD %.2f.\n", json_number_value(json_object_get(b,
	    "balance_usd")), json_array_size(json_object_get(bal, "accounts")),
	    json_number_value(json_object_get(b, "today_income_usd")));
	buf_printf(&msg, "Check-ins today: %lld done, %lld already, %lld "
	    "failed.", (long long)json_integer_value(json_object_get(ci,
	    "success")), (long long)json_integer_value(json_object_get(ci,
	    "already")), (long long)json_integer_value(json_object_get(ci,
	    "failed")));
	text = buf_cstr(&msg);
	notify_event("summary", "info", "metapi daily summary", text);
	job_done(job_index(j), "ok", "summary sent");
	*reply = json_pack("{s:s, s:s}", "job", j->name, "message", text);
	buf_free(&msg);
	ret = CTL_DONE;
out:
	json_decref(stats);
	json_decref(bal);
	json_decref(ci);
	return (ret);
}

/*
 * Under job i's lock: whether another daemon sharing the database took
 * the turn due at `turn` already (in interval mode: ran it less than an
 * interval ago).
 */
static int
job_turn_taken(size_t i, time_t turn)
{
	long long	last;

	if (job_interval(i)) {
		last = jobrun_last_start(metapid->db, job_table[i].name);
		return (last > 0 && last + settings_int(metapid->settings,
		    "checkin_interval_hours") * 3600 > time(NULL));
	}
	return (jobrun_started_since(metapid->db, job_table[i].name, turn));
}

/*
 * Start job i for req (a client's, or the daemon's own with client 0).
 * turn is the scheduled time it starts for, 0 for a run on demand.
 */
static enum ctl_ret
job_start(size_t i, time_t turn, struct ctl_req *req, json_t **reply,
    struct err *e)
{
	struct err	 e2 = { ERR_OK, NULL };
	enum ctl_ret	 ret;
	char		*cause = NULL;
	int		 rc;

	if (job_states[i].running) {
		err_set(e, ERR_BUSY, "job %s is already running (since %lld s)",
		    job_table[i].name, (long long)(time(NULL) -
		    job_states[i].started));
		return (CTL_ERROR);
	}
	if ((rc = job_lock(i, &cause)) != 1) {
		if (rc == 0)
			err_set(e, ERR_BUSY, "job %s is running on another "
			    "daemon sharing the database", job_table[i].name);
		else
			err_set(e, ERR_STORAGE, "job %s: %s",
			    job_table[i].name, cause);
		free(cause);
		return (CTL_ERROR);
	}
	if (turn > 0 && db_shared(metapid->db) && job_turn_taken(i, turn)) {
		job_unlock(i);
		err_set(e, ERR_BUSY, "job %s: another daemon sharing the "
		    "database took this turn", job_table[i].name);
		return (CTL_ERROR);
	}
	job_states[i].running = 1;
	job_states[i].started = time(NULL);
	job_states[i].run_id = jobrun_start(metapid->db, job_table[i].name,
	    &e2);
	err_clear(&e2);
	log_info("job %s: started", job_table[i].name);
	ret = job_table[i].start(&job_table[i], req, reply, e);
	if (ret == CTL_ERROR && job_states[i].running)
		job_done(i, "failed", e->msg);
	return (ret);
}

/* Every turn of the main loop: start what is due. */
void
scheduler_tick(void)
{
	struct ctl_req	 req;
	struct err	 e = { ERR_OK, NULL };
	json_t		*reply;
	time_t		 now = time(NULL);
	size_t		 i;

	for (i = 0; i < nitems(job_table); i++) {
		if (job_states[i].next <= 0 || now < job_states[i].next ||
		    job_states[i].running)
			continue;
		memset(&req, 0, sizeof req);
		req.spec = cmd_find("job.run");
		req.args = json_pack("{s:s}", "name", job_table[i].name);
		reply = NULL;
		if (job_start(i, job_states[i].next, &req, &reply, &e) ==
		    CTL_ERROR) {
			/* Another daemon's turn is news, not a warning. */
			if (e.code == ERR_BUSY)
				log_info("%s", e.msg);
			else
				log_warnx("job %s: %s", job_table[i].name,
				    e.msg);
			err_clear(&e);
		}
		/* After the start is recorded: interval mode counts from it. */
		job_states[i].next = job_next(i, now);
		json_decref(reply);
		json_decref(req.args);
	}
}

/* For `metapi status`: each job's next run. */
json_t *
scheduler_next_runs(void)
{
	json_t	*list = json_array();
	size_t	 i;

	for (i = 0; i < nitems(job_table); i++)
		json_array_append_new(list, json_pack("{s:s, s:o}", "name",
		    job_table[i].name, "next_run", jx_time(job_states[i].next)));
	return (list);
}

/* A job's schedule as the user set it. */
static char *
job_schedule(size_t i)
{
	const struct settings	*set = metapid->settings;
	char			*s;

	if (strcmp(job_table[i].name, "checkin") == 0 &&
	    strcmp(settings_str(set, "checkin_schedule_mode"), "interval") == 0)
		xasprintf(&s, "every %lld h", settings_int(set,
		    "checkin_interval_hours"));
	else
		s = xstrdup(settings_str(set, job_table[i].cron));
	return (s);
}

enum ctl_ret
ctl_job_list(__unused struct ctl_req *req, json_t **reply,
    __unused struct err *e)
{
	json_t	*items = json_array(), *o, *last;
	char	*sched;
	size_t	 i;

	for (i = 0; i < nitems(job_table); i++) {
		sched = job_schedule(i);
		last = jobrun_last(metapid->db, job_table[i].name);
		o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:O, s:o}", "id",
		    job_table[i].name, "name", job_table[i].name, "schedule",
		    sched, "help", job_table[i].help, "running",
		    job_states[i].running, "last_run", last, "next_run",
		    jx_time(job_states[i].next));
		json_object_set(o, "last_outcome", json_is_object(last) ?
		    json_object_get(last, "outcome") : json_null());
		json_object_set(o, "last_started", json_is_object(last) ?
		    json_object_get(last, "started_at") : json_null());
		json_array_append_new(items, o);
		json_decref(last);
		free(sched);
	}
	*reply = jx_items(items);
	return (CTL_DONE);
}

enum ctl_ret
ctl_job_run(struct ctl_req *req, json_t **reply, struct err *e)
{
	const char	*name = jx_str(req->args, "name");
	size_t		 i;

	for (i = 0; i < nitems(job_table); i++)
		if (strcmp(job_table[i].name, name) == 0)
			return (job_start(i, 0, req, reply, e));
	err_set(e, ERR_NOT_FOUND, "no job \"%s\" (checkin, balance, "
	    "log-cleanup, daily-summary or renew)", name);
	return (CTL_ERROR);
}
