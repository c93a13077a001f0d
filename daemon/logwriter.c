/*
 * The log writer: one thread with its own database connection that writes
 * the request log. Request threads hand each finished record to
 * logwriter_put(), which queues it in a bounded ring and, while the ring
 * is full, waits: back-pressure, never a dropped record. The thread takes
 * up to a batch of records (or what arrived within LOGWRITER_BATCH_MS of
 * the first) and writes them, with the keys' usage counters, in one
 * transaction; a busy or failing database is retried, the batch held.
 * After each commit it records the highest row id and writes a byte on a
 * pipe that the main loop polls (ctl.c), so that ctl-log.c can fan the new
 * rows out to `logs --follow`. This module owns the ring, its lock, the
 * pipe and that connection; it never touches the main thread's database.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apikey.h"
#include "compat.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "proxylog.h"
#include "xmalloc.h"

#define LOGWRITER_QUEUE		4096	/* records waiting, at most */
#define LOGWRITER_BATCH		256	/* records per transaction */
#define LOGWRITER_BATCH_MS	100	/* wait for a batch to fill */
#define LOGWRITER_RETRY_MS	50	/* first pause after a failure */
#define LOGWRITER_RETRY_MAX_MS	2000	/* longest pause */
#define LOGWRITER_STOP_TRIES	20	/* at shutdown, then give up */
#define LOGWRITER_NICE		19	/* the writer's thread priority */

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
	pthread_t		 thread;
	struct db		*db;		/* the thread's connection */
	int			 pipe[2];	/* committed -> main loop */
} logwriter = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.room = PTHREAD_COND_INITIALIZER,
	.cap = LOGWRITER_QUEUE,
	.batch = LOGWRITER_BATCH,
	.pipe = { -1, -1 }
};

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

/* Write n records and their keys' use in one transaction. */
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
	for (i = 0; i < n; i++)
		logwriter_log_line(ids[i], v[i]);
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

static void
logwriter_set_failing(int on)
{
	pthread_mutex_lock(&logwriter.mtx);
	logwriter.failing = on;
	pthread_mutex_unlock(&logwriter.mtx);
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

/*
 * Write a batch until it is stored. A busy, full or failing database is
 * retried with growing pauses, the batch held (and the ring filling up
 * behind it, so requests slow down rather than lose their records). A
 * batch the database refuses outright is written one record at a time so
 * that only the record it refuses is lost, and logged. At shutdown the
 * retries stop after LOGWRITER_STOP_TRIES, saying how many records were
 * lost.
 */
static void
logwriter_write(struct proxylog_rec **v, size_t n)
{
	enum logwriter_result	 res;
	struct timespec		 ts;
	char			*cause = NULL;
	size_t			 i;
	int			 tries = 0, ms = LOGWRITER_RETRY_MS;

	for (;;) {
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
		logwriter_set_failing(1);
		if (tries == 1 || tries % 30 == 0)
			log_warnx("logwriter: cannot write %zu records (try "
			    "%d): %s; retrying", n, tries, cause);
		if (tries >= LOGWRITER_STOP_TRIES && logwriter_is_stopping()) {
			log_error("logwriter: stopping; %zu records lost: %s",
			    n, cause);
			break;
		}
		free(cause);
		cause = NULL;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		if ((ms *= 2) > LOGWRITER_RETRY_MAX_MS)
			ms = LOGWRITER_RETRY_MAX_MS;
	}
	if (tries > 0)
		logwriter_set_failing(0);
	if (tries > 0 && res == LOGWRITER_OK)
		log_info("logwriter: wrote %zu records after %d retries", n,
		    tries);
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

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += LOGWRITER_BATCH_MS * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (logwriter.len < logwriter.batch &&
	    logwriter.len < logwriter.cap && !logwriter.stopping) {
		if (pthread_cond_timedwait(&logwriter.more, &logwriter.mtx,
		    &dl) == ETIMEDOUT)
			break;
	}
}

static void *
logwriter_main(void *arg)
{
	struct proxylog_rec	**batch;
	size_t			  i, n;

	(void)arg;
	/*
	 * The writer yields to the request threads: a batch costs a few ms of
	 * CPU, and on a core it shares with a request that is a few ms added
	 * to that request. At nice 19 a waking request thread preempts it at
	 * once; under full load the ring fills, the requests wait, and the
	 * writer gets the CPU back, so it is never starved for long.
	 *
	 * A database server does the writing in its own processes, which
	 * run at their own priority; this thread only waits for its answers,
	 * and at nice 19 each of those waits grew by a wait for the CPU, so
	 * that under load the ring filled while the server idled.
	 */
	if (!db_shared(logwriter.db) && setpriority(PRIO_PROCESS,
	    (id_t)syscall(SYS_gettid), LOGWRITER_NICE) != 0)
		log_debug("logwriter: setpriority: %s", strerror(errno));
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
		for (i = 0; i < n; i++)
			proxylog_rec_free(batch[i]);
	}
	free(batch);
	return (NULL);
}

/*
 * Open the writer's own connection to the database (already migrated)
 * and start its thread.
 */
int
logwriter_start(const char *db_path, char **cause)
{
	int	rc;

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
	logwriter.last_id = proxylog_max_id(logwriter.db);
	if ((rc = pthread_create(&logwriter.thread, NULL, logwriter_main,
	    NULL)) != 0) {
		xasprintf(cause, "cannot start the log writer: %s",
		    strerror(rc));
		goto fail;
	}
	logwriter.running = 1;
	return (0);
fail:
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
 * the ring is full. Only a record put when no writer runs (before start,
 * after stop) cannot be written: it is logged and freed.
 */
void
logwriter_put(struct proxylog_rec *r)
{
	pthread_mutex_lock(&logwriter.mtx);
	if (logwriter.running && logwriter.len == logwriter.cap)
		logwriter.waits++;
	while (logwriter.running && !logwriter.exited &&
	    logwriter.len == logwriter.cap)
		pthread_cond_wait(&logwriter.room, &logwriter.mtx);
	if (!logwriter.running || logwriter.exited) {
		pthread_mutex_unlock(&logwriter.mtx);
		log_warnx("logwriter: not running; request at %lld for %s not "
		    "logged", r->time, r->model_requested != NULL ?
		    r->model_requested : "-");
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
 * Write everything queued, then stop the thread and close its connection.
 * Called at shutdown once no request thread can put any more.
 */
void
logwriter_stop(void)
{
	if (!logwriter.running)
		return;
	pthread_mutex_lock(&logwriter.mtx);
	logwriter.stopping = 1;
	pthread_cond_broadcast(&logwriter.more);
	pthread_mutex_unlock(&logwriter.mtx);
	pthread_join(logwriter.thread, NULL);
	log_debug("logwriter: stopped; %llu records written, %llu puts "
	    "waited", logwriter.written, logwriter.waits);
	pthread_mutex_lock(&logwriter.mtx);
	logwriter.running = 0;
	pthread_mutex_unlock(&logwriter.mtx);
	free(logwriter.ring);
	logwriter.ring = NULL;
	close(logwriter.pipe[0]);
	close(logwriter.pipe[1]);
	logwriter.pipe[0] = logwriter.pipe[1] = -1;
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
