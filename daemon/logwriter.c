/*
 * The log writer: one thread with its own database connection that writes
 * the request log. Request threads hand each finished record to
 * logwriter_put(), which queues it in a bounded ring and, while the ring
 * is full, waits: back-pressure, so a slow database slows requests down
 * rather than lose their records. The thread takes up to a batch of
 * records (or what arrived within LOGWRITER_BATCH_MS of the first) and
 * writes them, with the keys' usage counters, in one transaction; a busy
 * or failing database is retried, the batch held. A database that refuses
 * writes (disk full, read-only, I/O errors) would hold every request
 * thread in that wait, and the gateway with it: while it does, the ring
 * still keeps what it can, and a record that finds it full is dropped and
 * counted instead (logwriter_dropped(), /metrics), with an alert.
 * After each commit it records the highest row id and writes a byte on a
 * pipe that the main loop polls (ctl.c), so that ctl-log.c can fan the new
 * rows out to `logs --follow`. This module owns the ring, its lock, the
 * pipe and that connection; it never touches the main thread's database.
 *
 * Between a response and its commit a record lives only in memory, so it
 * is also written to the request journal (src/journal.c): a line when the
 * request starts (logwriter_begin) and one when it ends (logwriter_put),
 * dropped once committed. At start, what a killed daemon left there is
 * stored first: the ended requests as they ended, the unended ones as
 * failed, each only if the database has no row of that id yet, and the
 * keys' usage only for the rows so added.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apikey.h"
#include "buf.h"
#include "compat.h"
#include "daemon.h"
#include "db.h"
#include "journal.h"
#include "log.h"
#include "proxylog.h"
#include "xmalloc.h"

#define LOGWRITER_QUEUE		4096	/* records waiting, at most */
#define LOGWRITER_BATCH		256	/* records per transaction */
#define LOGWRITER_BATCH_MS	100	/* wait for a batch to fill */
#define LOGWRITER_RETRY_MS	50	/* first pause after a failure */
#define LOGWRITER_RETRY_MAX_MS	2000	/* longest pause */
#define LOGWRITER_STOP_MS	2000	/* at shutdown, then give up */
#define LOGWRITER_STOP_PAUSE_MS	200	/* longest pause at shutdown */
#define LOGWRITER_NICE		19	/* the writer's thread priority */
#define LOGWRITER_YIELD_OPS	1000	/* engine steps between yields */
#define LOGWRITER_YIELD_RECS	16	/* records between yields */

enum logwriter_result {
	LOGWRITER_OK,
	LOGWRITER_RETRY,	/* busy, full, I/O: the same batch again */
	LOGWRITER_REFUSED	/* a record the database will never take */
};

struct logwriter_usage {
	long long	key_id;
	long long	requests;
	double		cost_usd;
	long long	last_used_at;
};

static struct logwriter_state {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 more;		/* queued, or stopping */
	pthread_cond_t		 room;		/* a batch was taken */
	pthread_cond_t		 stop_cv;	/* stopping: cut pauses short */
	struct proxylog_rec	**ring;
	size_t			 cap;		/* ring size */
	size_t			 head;
	size_t			 len;
	size_t			 batch;		/* records per transaction */
	int			 running;	/* started, not yet stopped */
	int			 stopping;	/* drain, then exit */
	int			 exited;	/* the thread is gone */
	long long		 last_id;	/* highest committed row */
	unsigned long long	 waits;		/* puts that found it full */
	unsigned long long	 written;
	int			 failing;	/* a batch is being retried */
	int			 lost;		/* gave up a batch at stop */
	char			*why;		/* its last error, or NULL */
	time_t			 failing_since;
	unsigned long long	 dropped;	/* records never stored */
	unsigned long long	 dropped_mark;	/* dropped when failing began */
	int			 drop_logged;	/* said so since then */
	int			 gave_up;	/* stopping: drop the rest */
	struct timespec		 stop_by;	/* stopping: give up then */
	pthread_t		 thread;
	struct db		*db;		/* the thread's connection */
	int			 pipe[2];	/* committed -> main loop */
	struct journal		*journal;	/* or NULL: none */
} logwriter = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.room = PTHREAD_COND_INITIALIZER,
	.stop_cv = PTHREAD_COND_INITIALIZER,
	.cap = LOGWRITER_QUEUE,
	.batch = LOGWRITER_BATCH,
	.pipe = { -1, -1 }
};

/*
 * Records of requests begun and not yet stored (or dropped): atomic, so
 * that counting one in costs a request thread no lock.
 */
static atomic_size_t	logwriter_open;

/* Tests shrink the ring to force back-pressure; before logwriter_start. */
void
logwriter_tune(size_t queue, size_t batch)
{
	logwriter.cap = queue > 0 ? queue : LOGWRITER_QUEUE;
	logwriter.batch = batch > 0 ? batch : LOGWRITER_BATCH;
}

static int
logwriter_is_stopping(void)
{
	int	s;

	pthread_mutex_lock(&logwriter.mtx);
	s = logwriter.stopping;
	pthread_mutex_unlock(&logwriter.mtx);
	return (s);
}

/*
 * What the last failed statement means for the batch: an error about a
 * record itself (a constraint, a value out of range) cannot be helped by
 * retrying the same record.
 */
static enum logwriter_result
logwriter_classify(void)
{
	return (db_error_is_data(logwriter.db) ? LOGWRITER_REFUSED :
	    LOGWRITER_RETRY);
}

/* Sum the batch's use per key: one UPDATE per key, not per record. */
static size_t
logwriter_usage(struct proxylog_rec **v, size_t n, struct logwriter_usage *u)
{
	size_t	i, j, nu = 0;

	for (i = 0; i < n; i++) {
		/* A request refused before any site saw it uses nothing. */
		if (v[i]->key_id == 0 || v[i]->nattempts == 0)
			continue;
		for (j = 0; j < nu; j++)
			if (u[j].key_id == v[i]->key_id)
				break;
		if (j == nu) {
			memset(&u[nu], 0, sizeof u[nu]);
			u[nu++].key_id = v[i]->key_id;
		}
		u[j].requests++;
		u[j].cost_usd += v[i]->cost_usd;
		if (v[i]->time > u[j].last_used_at)
			u[j].last_used_at = v[i]->time;
	}
	return (nu);
}

/* Every LOGWRITER_YIELD_RECS records, the core to whoever waits for it. */
static void
logwriter_pace(size_t i)
{
	if (i % LOGWRITER_YIELD_RECS == LOGWRITER_YIELD_RECS - 1)
		sched_yield();
}

/*
 * One line in the daemon log per request, once its row is stored, named
 * by the row's id so the line and `metapi logs` point at each other.
 */
static void
logwriter_log_line(long long id, const struct proxylog_rec *r)
{
	const char	*path = r->downstream_path != NULL ?
			    r->downstream_path : "-";
	const char	*model = r->model_requested != NULL ?
			    r->model_requested : "-";

	if (strcmp(r->status, "failed") == 0)
		log_warnx("request %lld: %s %s: %s %d after %zu attempt(s), "
		    "%lld ms: %s", id, path, model, r->status, r->http_status,
		    r->nattempts, r->latency_ms, r->error != NULL ? r->error :
		    "-");
	else
		log_info("request %lld: %s %s -> %s on site %lld: %s %d, "
		    "%zu attempt(s), %lld ms, %lld+%lld tokens, $%.6f", id,
		    path, model, r->model != NULL ? r->model : "-", r->site_id,
		    r->status, r->http_status, r->nattempts, r->latency_ms,
		    r->prompt_tokens, r->completion_tokens, r->cost_usd);
}

/* Write n records and their keys' use in one transaction. */
static enum logwriter_result
logwriter_tx(struct proxylog_rec **v, size_t n, char **cause)
{
	struct db		*db = logwriter.db;
	struct err		 e = { ERR_OK, NULL };
	struct logwriter_usage	*u;
	enum logwriter_result	 res = LOGWRITER_OK;
	size_t			 i, nu;
	long long		 last, *ids;
	char			 c = 1;

	if (db_begin(db, cause) != 0)
		return (LOGWRITER_RETRY);
	u = xcalloc(n, sizeof *u);
	ids = xcalloc(n, sizeof *ids);
	if (proxylog_insert_batch(db, v, n, ids, &e) != 0)
		goto fail;
	nu = logwriter_usage(v, n, u);
	for (i = 0; i < nu; i++) {
		if (apikey_add_usage(db, u[i].key_id, u[i].requests,
		    u[i].cost_usd, u[i].last_used_at, &e) != 0)
			goto fail;
	}
	last = proxylog_max_id(db);
	free(u);
	if (db_commit(db, cause) != 0) {
		free(ids);
		return (LOGWRITER_RETRY);
	}
	for (i = 0; i < n; i++) {
		logwriter_log_line(ids[i], v[i]);
		logwriter_pace(i);
	}
	free(ids);
	pthread_mutex_lock(&logwriter.mtx);
	logwriter.last_id = last;
	logwriter.written += n;
	pthread_mutex_unlock(&logwriter.mtx);
	if (write(logwriter.pipe[1], &c, 1) == -1 && errno != EAGAIN)
		log_warn("logwriter: wakeup");
	return (LOGWRITER_OK);
fail:
	res = logwriter_classify();
	*cause = xstrdup(e.msg != NULL ? e.msg : "storage error");
	err_clear(&e);
	db_rollback(db);
	free(u);
	free(ids);
	return (res);
}

/* ts = now on clock c, plus ms. */
static void
logwriter_deadline(clockid_t c, int ms, struct timespec *ts)
{
	clock_gettime(c, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * The batch in hand failed (on, with its error) or was stored (off). Once
 * failing, request threads waiting for room are woken: from then on a
 * record that finds the ring full is dropped instead (logwriter_put()).
 * The first failure and the recovery raise alerts: nothing else tells
 * the operator of a full disk but /readyz and the log, itself likely on
 * that disk.
 */
static void
logwriter_set_failing(int on, const char *cause)
{
	unsigned long long	 dropped;
	time_t			 since;
	int			 was;
	char			*msg;

	pthread_mutex_lock(&logwriter.mtx);
	was = logwriter.failing;
	logwriter.failing = on;
	free(logwriter.why);
	logwriter.why = on ? xstrdup(cause) : NULL;
	if (on && !was) {
		logwriter.failing_since = time(NULL);
		logwriter.dropped_mark = logwriter.dropped;
		pthread_cond_broadcast(&logwriter.room);
	}
	if (!on)
		logwriter.drop_logged = 0;
	since = logwriter.failing_since;
	dropped = logwriter.dropped - logwriter.dropped_mark;
	pthread_mutex_unlock(&logwriter.mtx);
	if (on && !was) {
		xasprintf(&msg, "The request log cannot be written: %s. "
		    "Requests are still served; up to %zu of their records "
		    "wait in memory, later ones are dropped until the "
		    "database takes writes again.", cause, logwriter.cap);
		notify_event_defer("storage", "error", "database not writable",
		    msg);
		free(msg);
	} else if (!on && was) {
		log_info("logwriter: the database takes writes again after "
		    "%lld s; %llu records were dropped meanwhile",
		    (long long)(time(NULL) - since), dropped);
		xasprintf(&msg, "The request log is written again, after %lld "
		    "s; %llu records were dropped meanwhile.",
		    (long long)(time(NULL) - since), dropped);
		notify_event_defer("storage", dropped > 0 ? "warning" : "info",
		    "database writable again", msg);
		free(msg);
	}
}

/* Is the database refusing writes just now? /readyz says so. */
int
logwriter_failing(void)
{
	int	on;

	pthread_mutex_lock(&logwriter.mtx);
	on = logwriter.failing;
	pthread_mutex_unlock(&logwriter.mtx);
	return (on);
}

/* The same with why (owned, or NULL) and since when, for the status. */
int
logwriter_failing_why(char **why, time_t *since)
{
	int	on;

	pthread_mutex_lock(&logwriter.mtx);
	on = logwriter.failing;
	*why = on && logwriter.why != NULL ? xstrdup(logwriter.why) : NULL;
	*since = on ? logwriter.failing_since : 0;
	pthread_mutex_unlock(&logwriter.mtx);
	return (on);
}

/* Records never stored: dropped while failing, or given up at stop. */
unsigned long long
logwriter_dropped(void)
{
	unsigned long long	n;

	pthread_mutex_lock(&logwriter.mtx);
	n = logwriter.dropped;
	pthread_mutex_unlock(&logwriter.mtx);
	return (n);
}

/*
 * Pause ms before the next try. A stop cuts the pause short, so that
 * shutdown is not held by a pause of up to LOGWRITER_RETRY_MAX_MS.
 */
static void
logwriter_pause(int ms)
{
	struct timespec	dl;
	int		stopping;

	logwriter_deadline(CLOCK_REALTIME, ms, &dl);
	pthread_mutex_lock(&logwriter.mtx);
	stopping = logwriter.stopping;
	while (logwriter.stopping == stopping) {
		if (pthread_cond_timedwait(&logwriter.stop_cv, &logwriter.mtx,
		    &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&logwriter.mtx);
}

/*
 * At shutdown a failing database has until stop_by to take the records
 * left; then this batch and every later one are given up without a try
 * (each could cost a busy timeout), counted as dropped. Returns 1 when n
 * records are given up.
 */
static int
logwriter_give_up(size_t n, int failed)
{
	struct timespec	now;
	int		gone;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&logwriter.mtx);
	if (failed && logwriter.stopping && !logwriter.gave_up &&
	    (now.tv_sec > logwriter.stop_by.tv_sec ||
	    (now.tv_sec == logwriter.stop_by.tv_sec &&
	    now.tv_nsec >= logwriter.stop_by.tv_nsec)))
		logwriter.gave_up = 1;
	if ((gone = logwriter.gave_up)) {
		logwriter.dropped += n;
		logwriter.lost = 1;	/* their journal lines must stay */
	}
	pthread_mutex_unlock(&logwriter.mtx);
	return (gone);
}

/*
 * Write a batch until it is stored. A busy, full or failing database is
 * retried with growing pauses, the batch held (and the ring filling up
 * behind it, then dropping: see logwriter_put()). A batch the database
 * refuses outright is written one record at a time so that only the
 * record it refuses is lost, and logged. At shutdown the retries go on
 * for LOGWRITER_STOP_MS, then what is left is given up, and counted.
 */
static void
logwriter_write(struct proxylog_rec **v, size_t n)
{
	enum logwriter_result	 res = LOGWRITER_RETRY;
	char			*cause = NULL;
	size_t			 i;
	int			 tries = 0, ms = LOGWRITER_RETRY_MS, max;

	for (;;) {
		if (logwriter_give_up(n, 0))
			return;
		res = logwriter_tx(v, n, &cause);
		if (res == LOGWRITER_OK)
			break;
		if (res == LOGWRITER_REFUSED && n > 1) {
			log_warnx("logwriter: a batch of %zu was refused (%s); "
			    "writing them one by one", n, cause);
			free(cause);
			for (i = 0; i < n; i++)
				logwriter_write(&v[i], 1);
			return;
		}
		if (res == LOGWRITER_REFUSED) {
			log_warnx("logwriter: not logged: request at %lld for "
			    "%s: %s", v[0]->time, v[0]->model_requested != NULL ?
			    v[0]->model_requested : "-", cause);
			break;
		}
		tries++;
		if (tries == 1 || tries % 30 == 0)
			log_warnx("logwriter: cannot write %zu records (try "
			    "%d): %s; retrying", n, tries, cause);
		logwriter_set_failing(1, cause);
		if (logwriter_give_up(n, 1)) {
			log_error("logwriter: stopping, and the database still "
			    "refuses writes (%s): the records left are not "
			    "stored; the request journal keeps those it could "
			    "write for the next start", cause);
			free(cause);
			return;
		}
		free(cause);
		cause = NULL;
		logwriter_pause(ms);
		max = logwriter_is_stopping() ? LOGWRITER_STOP_PAUSE_MS :
		    LOGWRITER_RETRY_MAX_MS;
		if ((ms *= 2) > max)
			ms = max;
	}
	if (tries > 0) {
		logwriter_set_failing(0, NULL);
		if (res == LOGWRITER_OK)
			log_info("logwriter: wrote %zu records after %d "
			    "retries", n, tries);
	}
	free(cause);
}

/*
 * Wait until a batch is there or LOGWRITER_BATCH_MS have passed. A full
 * ring is as good as a full batch: its producers are waiting on us.
 */
static void
logwriter_gather(void)
{
	struct timespec	dl;

	logwriter_deadline(CLOCK_REALTIME, LOGWRITER_BATCH_MS, &dl);
	while (logwriter.len < logwriter.batch &&
	    logwriter.len < logwriter.cap && !logwriter.stopping) {
		if (pthread_cond_timedwait(&logwriter.more, &logwriter.mtx,
		    &dl) == ETIMEDOUT)
			break;
	}
}

/* A begun record is done with: stored, refused, dropped or given up. */
static void
logwriter_close(struct proxylog_rec *r)
{
	if (r->open)
		atomic_fetch_sub(&logwriter_open, 1);
	r->open = 0;
}

/*
 * A record is stored (or refused, or given up at shutdown: then its
 * lines are all that is left of it and they must stay).
 */
static void
logwriter_release(struct proxylog_rec *r)
{
	if (r->jseq[0] == 0 && r->jseq[1] == 0)
		return;
	if (logwriter.lost)
		return;
	journal_release(logwriter.journal, r->jseq[0]);
	journal_release(logwriter.journal, r->jseq[1]);
}

static void *
logwriter_main(__unused void *arg)
{
	struct proxylog_rec	**batch;
	struct sched_param	  sp;
	size_t			  i, n;
	int			  rc;

	/*
	 * The writer yields to the request threads: a batch costs a few ms of
	 * CPU, and on a core it shares with a request that is a few ms added
	 * to that request. Under SCHED_IDLE a waking request thread should
	 * take the core at once; at nice 19 (what we used before, and fall
	 * back to) the scheduler may let the writer finish its slice first,
	 * and the tail latency at concurrency 1 showed it: p99 1.6-1.9 ms
	 * against 0.7-1.2 ms with SCHED_IDLE, three runs each, same machine,
	 * same minute. Under full load the ring fills, the requests wait, and
	 * the writer gets the CPU back, so it is never starved for long.
	 *
	 * SCHED_IDLE alone is not enough. perf sched showed a woken thread
	 * (a request's, the upstream's) waiting 2.5-4 ms, a whole 250 Hz
	 * tick, for the core this thread ran SQLite on while the other core
	 * idled (Linux 6.18, PREEMPT_NONE); and a daemon in a session of its
	 * own (--detach) is an autogroup of its own, within which alone
	 * SCHED_IDLE ranks it. So the writer also gives its core up itself:
	 * every LOGWRITER_YIELD_OPS steps of SQLite's engine and every
	 * LOGWRITER_YIELD_RECS records it handles. Without logging the p99
	 * at concurrency 1 was 0.4-0.5 ms, with it 0.8-1.3 ms.
	 *
	 * A database server does the writing in its own processes, which
	 * run at their own priority; this thread only waits for its answers,
	 * and at a low priority each of those waits grew by a wait for the
	 * CPU, so that under load the ring filled while the server idled.
	 */
	if (!db_shared(logwriter.db)) {
		db_yielding(logwriter.db, LOGWRITER_YIELD_OPS);
		sp.sched_priority = 0;
		if ((rc = pthread_setschedparam(pthread_self(), SCHED_IDLE,
		    &sp)) != 0) {
			log_debug("logwriter: SCHED_IDLE: %s", strerror(rc));
			if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
			    LOGWRITER_NICE) != 0)
				log_debug("logwriter: setpriority: %s",
				    strerror(errno));
		}
	}
	batch = xcalloc(logwriter.batch, sizeof *batch);
	for (;;) {
		pthread_mutex_lock(&logwriter.mtx);
		while (logwriter.len == 0 && !logwriter.stopping)
			pthread_cond_wait(&logwriter.more, &logwriter.mtx);
		if (logwriter.len == 0) {
			/* Stopping and nothing left: puts now fail. */
			logwriter.exited = 1;
			pthread_cond_broadcast(&logwriter.room);
			pthread_mutex_unlock(&logwriter.mtx);
			break;
		}
		logwriter_gather();
		n = logwriter.len < logwriter.batch ? logwriter.len :
		    logwriter.batch;
		for (i = 0; i < n; i++)
			batch[i] = logwriter.ring[(logwriter.head + i) %
			    logwriter.cap];
		logwriter.head = (logwriter.head + n) % logwriter.cap;
		logwriter.len -= n;
		pthread_cond_broadcast(&logwriter.room);
		pthread_mutex_unlock(&logwriter.mtx);

		logwriter_write(batch, n);
		for (i = 0; i < n; i++) {
			logwriter_close(batch[i]);
			logwriter_release(batch[i]);
			proxylog_rec_free(batch[i]);
			logwriter_pace(i);
		}
	}
	free(batch);
	return (NULL);
}

/* What an earlier run left in the journal, by request id. */
struct logwriter_replay {
	json_t		 *index;	/* rid -> position in v */
	struct {
		json_t	 *start;
		json_t	 *end;
	}		 *v;
	size_t		  n;
	size_t		  damaged;
};

static int
logwriter_replay_line(const char *line, size_t len, void *arg)
{
	struct logwriter_replay	*rp = arg;
	json_t			*o, *rec, *pos;
	const char		*kind, *rid;
	size_t			 i;

	if ((o = json_loadb(line, len, 0, NULL)) == NULL ||
	    (kind = json_string_value(json_object_get(o, "k"))) == NULL ||
	    !json_is_object(rec = json_object_get(o, "r")) ||
	    (rid = json_string_value(json_object_get(rec, "rid"))) == NULL ||
	    (strcmp(kind, "s") != 0 && strcmp(kind, "e") != 0)) {
		rp->damaged++;
		json_decref(o);
		return (0);
	}
	if ((pos = json_object_get(rp->index, rid)) != NULL)
		i = (size_t)json_integer_value(pos);
	else {
		i = rp->n++;
		rp->v = xreallocarray(rp->v, rp->n, sizeof *rp->v);
		rp->v[i].start = rp->v[i].end = NULL;
		json_object_set_new(rp->index, rid, json_integer((json_int_t)i));
	}
	if (*kind == 's') {
		json_decref(rp->v[i].start);
		rp->v[i].start = json_incref(rec);
	} else {
		json_decref(rp->v[i].end);
		rp->v[i].end = json_incref(rec);
	}
	json_decref(o);
	return (0);
}

/*
 * The record a replayed request gets: as it ended, or, when the daemon
 * died before its end, as it started, failed. NULL for a line that does
 * not make a record, or a request the database has already.
 */
static struct proxylog_rec *
logwriter_replay_rec(json_t *start, json_t *end, size_t *unended)
{
	struct proxylog_rec	*r;
	struct err		 e = { ERR_OK, NULL };

	if ((r = proxylog_rec_from_json(end != NULL ? end : start, &e)) ==
	    NULL) {
		log_warnx("journal: %s", e.msg);
		err_clear(&e);
		return (NULL);
	}
	if (proxylog_has_rid(logwriter.db, r->rid)) {
		proxylog_rec_free(r);
		return (NULL);
	}
	if (end == NULL) {
		r->status = "failed";
		r->nattempts = 0;	/* unknown: no usage is counted */
		free(r->error);
		r->error = xstrdup("interrupted: the daemon stopped before "
		    "this request ended");
		(*unended)++;
	}
	return (r);
}

/*
 * Store what the journal holds that the database does not. Only when
 * all of it is stored are the files removed; otherwise they stay, and
 * the next start tries again.
 */
static void
logwriter_replay(const char *dir)
{
	struct logwriter_replay	  rp;
	struct proxylog_rec	**v;
	char			 *cause = NULL;
	size_t			  i, n = 0, k, unended = 0;
	int			  ok = 1;

	memset(&rp, 0, sizeof rp);
	rp.index = json_object();
	if (journal_replay(dir, logwriter_replay_line, &rp, &cause) != 0) {
		log_warnx("journal: %s; kept for the next start", cause);
		free(cause);
		ok = 0;
	}
	v = xcalloc(rp.n + 1, sizeof *v);
	for (i = 0; i < rp.n; i++) {
		if ((v[n] = logwriter_replay_rec(rp.v[i].start, rp.v[i].end,
		    &unended)) != NULL)
			n++;
		json_decref(rp.v[i].start);
		json_decref(rp.v[i].end);
	}
	for (i = 0; i < n && ok; i += k) {
		k = n - i < logwriter.batch ? n - i : logwriter.batch;
		if (logwriter_tx(&v[i], k, &cause) != LOGWRITER_OK) {
			log_warnx("journal: cannot store %zu recovered "
			    "records: %s; kept for the next start", n - i,
			    cause);
			free(cause);
			cause = NULL;
			ok = 0;
		}
	}
	if (n > 0 && ok)
		log_info("journal: recovered %zu request records of a daemon "
		    "that stopped without storing them (%zu had not ended)",
		    n, unended);
	if (rp.damaged > 0)
		log_warnx("journal: %zu damaged lines skipped", rp.damaged);
	if (ok)
		journal_clear(dir, 0);
	for (i = 0; i < n; i++)
		proxylog_rec_free(v[i]);
	free(v);
	free(rp.v);
	json_decref(rp.index);
}

/*
 * Open the writer's own connection to the database (already migrated),
 * store what the journal in dir holds, start a new journal and the
 * writer's thread.
 */
int
logwriter_start(const char *db_path, const char *dir, char **cause)
{
	char	*jcause = NULL;
	int	 rc;

	if (logwriter.running) {
		*cause = xstrdup("the log writer is already running");
		return (-1);
	}
	if ((logwriter.db = db_open(db_path, cause)) == NULL)
		return (-1);
	if (pipe2(logwriter.pipe, O_NONBLOCK|O_CLOEXEC) != 0) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		goto fail;
	}
	logwriter.ring = xcalloc(logwriter.cap, sizeof *logwriter.ring);
	logwriter.head = logwriter.len = 0;
	logwriter.stopping = logwriter.exited = 0;
	logwriter.waits = logwriter.written = 0;
	logwriter.failing = logwriter.gave_up = logwriter.drop_logged = 0;
	logwriter.lost = 0;
	logwriter.dropped = logwriter.dropped_mark = 0;
	logwriter.last_id = proxylog_max_id(logwriter.db);
	if (dir != NULL) {
		logwriter_replay(dir);
		logwriter.last_id = proxylog_max_id(logwriter.db);
		if ((logwriter.journal = journal_open(dir, &jcause)) == NULL) {
			log_warnx("journal: %s; requests are served without "
			    "it", jcause);
			free(jcause);
		}
	}
	if ((rc = pthread_create(&logwriter.thread, NULL, logwriter_main,
	    NULL)) != 0) {
		xasprintf(cause, "cannot start the log writer: %s",
		    strerror(rc));
		goto fail;
	}
	logwriter.running = 1;
	return (0);
fail:
	journal_close(logwriter.journal);
	logwriter.journal = NULL;
	free(logwriter.ring);
	logwriter.ring = NULL;
	if (logwriter.pipe[0] != -1) {
		close(logwriter.pipe[0]);
		close(logwriter.pipe[1]);
		logwriter.pipe[0] = logwriter.pipe[1] = -1;
	}
	db_close(logwriter.db);
	logwriter.db = NULL;
	return (-1);
}

/*
 * Queue one finished request's record; any thread. Takes r. Waits while
 * the ring is full, unless the database refuses writes: then the record
 * is dropped and counted, as waiting would hold this request thread (and
 * soon every one) until the disk is fixed. A record put when no writer
 * runs (before start, after stop) cannot be written either.
 */
/* One journal line: kind "s" (started) or "e" (ended), and the record. */
static unsigned
logwriter_journal(struct proxylog_rec *r, const char *kind)
{
	struct buf	line;
	unsigned	seq;

	if (logwriter.journal == NULL)
		return (0);
	buf_init(&line, SIZE_MAX);
	proxylog_rec_line(&line, kind, r);
	seq = journal_append(logwriter.journal, line.data, line.len);
	buf_free(&line);
	return (seq);
}

/*
 * A request that will be logged has started: it gets its id, and its
 * line in the journal. Request threads, once the record has a key.
 */
void
logwriter_begin(struct proxylog_rec *r)
{
	if (r->rid[0] == '\0')
		journal_rid(r->rid);
	if (r->jseq[0] == 0)
		r->jseq[0] = logwriter_journal(r, "s");
	if (!r->open) {
		r->open = 1;
		atomic_fetch_add(&logwriter_open, 1);
	}
}

/*
 * The request has ended, or is about to send its last bytes: its line
 * with the record as it is now. A later line for the same request
 * replaces it, in the journal and at replay.
 */
void
logwriter_end(struct proxylog_rec *r)
{
	unsigned	old = r->jseq[1];

	if (r->rid[0] == '\0')
		journal_rid(r->rid);
	r->jseq[1] = logwriter_journal(r, "e");
	r->jstatus = r->status;
	journal_release(logwriter.journal, old);
}

void
logwriter_put(struct proxylog_rec *r)
{
	int	first;

	/* Sealed before its last bytes, and it ended as it said: as is. */
	if (r->jseq[1] == 0 || r->jstatus == NULL ||
	    strcmp(r->jstatus, r->status) != 0)
		logwriter_end(r);
	pthread_mutex_lock(&logwriter.mtx);
	if (logwriter.running && logwriter.len == logwriter.cap &&
	    !logwriter.failing)
		logwriter.waits++;
	while (logwriter.running && !logwriter.exited &&
	    logwriter.len == logwriter.cap && !logwriter.failing)
		pthread_cond_wait(&logwriter.room, &logwriter.mtx);
	if (!logwriter.running || logwriter.exited) {
		logwriter_close(r);
		pthread_mutex_unlock(&logwriter.mtx);
		log_warnx("logwriter: not running; request at %lld for %s not "
		    "logged", r->time, r->model_requested != NULL ?
		    r->model_requested : "-");
		logwriter_release(r);
		proxylog_rec_free(r);
		return;
	}
	if (logwriter.len == logwriter.cap) {
		logwriter.dropped++;
		logwriter_close(r);
		first = !logwriter.drop_logged;
		logwriter.drop_logged = 1;
		pthread_mutex_unlock(&logwriter.mtx);
		if (first)
			log_warnx("logwriter: %zu records wait for a database "
			    "that refuses writes; dropping further ones until "
			    "it takes them (metapi_log_dropped_total)",
			    logwriter.cap);
		proxylog_rec_free(r);
		return;
	}
	logwriter.ring[(logwriter.head + logwriter.len) % logwriter.cap] = r;
	logwriter.len++;
	/*
	 * Wake the writer for the first record (it then gathers a batch for
	 * up to LOGWRITER_BATCH_MS) and for a full batch, not for every
	 * record: that made it run once per request, a context switch each,
	 * which showed in the tail latency of requests on a small machine.
	 */
	if (logwriter.len == 1 || logwriter.len >= logwriter.batch ||
	    logwriter.len == logwriter.cap)
		pthread_cond_signal(&logwriter.more);
	pthread_mutex_unlock(&logwriter.mtx);
}

/* Records waiting for the writer now, for /metrics. */
size_t
logwriter_depth(void)
{
	size_t	n;

	pthread_mutex_lock(&logwriter.mtx);
	n = logwriter.len;
	pthread_mutex_unlock(&logwriter.mtx);
	return (n);
}

/*
 * Records of requests begun and not yet stored (or dropped): 0 once every
 * request that has started has its row, which is what `metapi status`
 * shows and the tests wait for. The queue alone is not it: a record is
 * put only after the response's last bytes, and is out of the queue
 * while its batch is written.
 */
size_t
logwriter_pending(void)
{
	return (atomic_load(&logwriter_open));
}

/*
 * Write everything queued (a failing database has LOGWRITER_STOP_MS to
 * take it), then stop the thread and close its connection. Called at
 * shutdown once no request thread can put any more.
 */
void
logwriter_stop(void)
{
	if (!logwriter.running)
		return;
	pthread_mutex_lock(&logwriter.mtx);
	logwriter_deadline(CLOCK_MONOTONIC, LOGWRITER_STOP_MS,
	    &logwriter.stop_by);
	logwriter.stopping = 1;
	pthread_cond_broadcast(&logwriter.more);
	pthread_cond_broadcast(&logwriter.stop_cv);
	pthread_mutex_unlock(&logwriter.mtx);
	pthread_join(logwriter.thread, NULL);
	if (logwriter.dropped > 0)
		log_error("logwriter: stopped; %llu records written, %llu "
		    "never stored", logwriter.written, logwriter.dropped);
	else
		log_debug("logwriter: stopped; %llu records written, %llu puts "
		    "waited", logwriter.written, logwriter.waits);
	pthread_mutex_lock(&logwriter.mtx);
	logwriter.running = 0;
	free(logwriter.why);
	logwriter.why = NULL;
	pthread_mutex_unlock(&logwriter.mtx);
	free(logwriter.ring);
	logwriter.ring = NULL;
	close(logwriter.pipe[0]);
	close(logwriter.pipe[1]);
	logwriter.pipe[0] = logwriter.pipe[1] = -1;
	journal_close(logwriter.journal);
	logwriter.journal = NULL;
	db_close(logwriter.db);
	logwriter.db = NULL;
}

/* The pipe the main loop polls: readable after a commit; -1 if stopped. */
int
logwriter_fd(void)
{
	return (logwriter.pipe[0]);
}

/* Main thread, when logwriter_fd() is readable: the highest row now. */
long long
logwriter_woken(void)
{
	char	buf[256];

	while (read(logwriter.pipe[0], buf, sizeof buf) > 0)
		;
	return (logwriter_last_id());
}

/* The highest committed row id (at start, the table's). */
long long
logwriter_last_id(void)
{
	long long	id;

	pthread_mutex_lock(&logwriter.mtx);
	id = logwriter.last_id;
	pthread_mutex_unlock(&logwriter.mtx);
	return (id);
}

/* How many puts found the ring full and waited. */
unsigned long long
logwriter_waits(void)
{
	unsigned long long	n;

	pthread_mutex_lock(&logwriter.mtx);
	n = logwriter.waits;
	pthread_mutex_unlock(&logwriter.mtx);
	return (n);
}
