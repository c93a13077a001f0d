/*
 * Alerts: notify_event() stores an event and sends it to every enabled
 * notification channel. It runs on the main thread and never waits: the
 * requests go out on a worker thread (async_run), one thread per channel
 * so that a dead receiver delays no other, and their outcomes are
 * recorded on the main thread. Identical alerts (same type and title)
 * within notify_cooldown_sec are merged: they are stored as events but
 * not sent, and the next one sent says how many were merged. A delivery
 * that fails is retried 5 s, 30 s and 2 min later from notify_event_tick()
 * (main loop), then given up as a warning event. The cooldown table and
 * the retry queue here belong to the main thread.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "daemon.h"
#include "event.h"
#include "jx.h"
#include "log.h"
#include "notify.h"
#include "xmalloc.h"

#define NOTIFY_RECENT_MAX	256	/* alerts remembered for merging */
#define NOTIFY_RETRY_MAX	64	/* deliveries waiting to be retried */
#define NOTIFY_RECENT_KEEP	86400	/* merged counts wait this long */

/* Seconds before each retry: a delivery is tried 1 + 3 times. */
static const int notify_backoff[] = { 5, 30, 120 };

struct notify_alert {
	char		*type;
	char		*level;
	char		*title;
	char		*message;	/* with the merged note, if any */
	time_t		 time;
};

struct notify_item {
	long long		 id;
	char			*kind;
	char			*target;
	struct notify_msg	 msg;
	int			 built;		/* msg is ready to send */
	char			*error;		/* NULL: delivered */
	int			 tries;		/* including this one */
	pthread_t		 thread;
};

struct notify_job {
	struct notify_alert	 alert;
	struct notify_item	*v;
	size_t			 n;
	int			 test;		/* reply with outcomes, no retry */
};

struct notify_recent {
	char			*key;		/* type "\n" title */
	time_t			 sent;
	int			 merged;	/* suppressed since sent */
	struct notify_recent	*next;
};

struct notify_retry {
	long long		 channel;
	struct notify_alert	 alert;
	int			 tries;		/* made so far */
	time_t			 due;
	struct notify_retry	*next;
};

static struct notify_recent	*notify_recent_head;
static struct notify_retry	*notify_retry_head;

static void
notify_alert_copy(struct notify_alert *to, const struct notify_alert *from)
{
	to->type = xstrdup(from->type);
	to->level = xstrdup(from->level);
	to->title = xstrdup(from->title);
	to->message = xstrdup(from->message);
	to->time = from->time;
}

static void
notify_alert_clear(struct notify_alert *a)
{
	free(a->type);
	free(a->level);
	free(a->title);
	free(a->message);
	memset(a, 0, sizeof *a);
}

static void
notify_job_free(struct notify_job *j)
{
	size_t	i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		free(j->v[i].kind);
		free(j->v[i].target);
		notify_msg_free(&j->v[i].msg);
		free(j->v[i].error);
	}
	free(j->v);
	notify_alert_clear(&j->alert);
	free(j);
}

/* Worker: send one request. */
static void *
notify_event_send(void *arg)
{
	struct notify_item	*it = arg;
	char			*cause = NULL;

	if (notify_deliver(&it->msg, &cause) != 0)
		it->error = cause != NULL ? cause : xstrdup("failed");
	return (NULL);
}

/* Worker thread: every channel at once, each on a thread of its own. */
static void
notify_event_work(void *arg)
{
	struct notify_job	*j = arg;
	size_t			 i;
	int			*started;

	started = xcalloc(j->n, sizeof *started);
	for (i = 0; i < j->n; i++) {
		if (!j->v[i].built)
			continue;
		if (pthread_create(&j->v[i].thread, NULL, notify_event_send,
		    &j->v[i]) == 0)
			started[i] = 1;
		else
			notify_event_send(&j->v[i]);
	}
	for (i = 0; i < j->n; i++)
		if (started[i])
			pthread_join(j->v[i].thread, NULL);
	free(started);
}

/* Queue channel's delivery of alert for another try, if tries allow. */
static int
notify_event_retry(long long channel, const struct notify_alert *alert,
    int tries)
{
	struct notify_retry	*r, **pp;
	size_t			 n = 0;

	if (tries - 1 > (int)nitems(notify_backoff))
		return (0);
	for (pp = &notify_retry_head; *pp != NULL; pp = &(*pp)->next)
		n++;
	if (n >= NOTIFY_RETRY_MAX) {
		log_warnx("notify: channel %lld: retry queue full, dropping "
		    "\"%s\"", channel, alert->title);
		return (0);
	}
	r = xcalloc(1, sizeof *r);
	r->channel = channel;
	notify_alert_copy(&r->alert, alert);
	r->tries = tries;
	r->due = time(NULL) + notify_backoff[tries - 2];
	*pp = r;
	return (1);
}

/* The outcomes of a test, as the reply of `notify test`. */
static json_t *
notify_event_test_reply(struct notify_job *j)
{
	json_t	*items = json_array(), *o;
	size_t	 i;
	int	 failed = 0;

	for (i = 0; i < j->n; i++) {
		o = json_pack("{s:I, s:s, s:s, s:b}", "id",
		    (json_int_t)j->v[i].id, "kind", j->v[i].kind, "target",
		    j->v[i].target, "ok", j->v[i].error == NULL);
		jx_set_str_or_null(o, "error", j->v[i].error);
		json_array_append_new(items, o);
		if (j->v[i].error != NULL)
			failed++;
	}
	return (json_pack("{s:o, s:n, s:i}", "items", items, "next", "failed",
	    failed));
}

/* Main thread: record each channel's outcome; retry or give up. */
static enum ctl_ret
notify_event_done(void *arg, __unused int alive, json_t **reply,
    __unused struct err *e)
{
	struct notify_job	*j = arg;
	struct notify_item	*it;
	struct err		 e2 = { ERR_OK, NULL };
	time_t			 now = time(NULL);
	char			*msg;
	size_t			 i;
	int			 sent = 0, failed = 0;

	for (i = 0; i < j->n; i++) {
		it = &j->v[i];
		notify_record(metapid->db, it->id, now, it->error);
		if (it->error == NULL) {
			sent++;
			if (it->tries > 1)
				log_info("notify: channel %lld (%s): sent "
				    "\"%s\" on try %d", it->id, it->kind,
				    j->alert.title, it->tries);
			continue;
		}
		failed++;
		log_warnx("notify: channel %lld (%s): \"%s\" try %d: %s",
		    it->id, it->kind, j->alert.title, it->tries, it->error);
		if (j->test || notify_event_retry(it->id, &j->alert,
		    it->tries + 1))
			continue;
		xasprintf(&msg, "channel %lld (%s, %s) gave up on \"%s\" after "
		    "%d tries: %s", it->id, it->kind, it->target,
		    j->alert.title, it->tries, it->error);
		if (event_add(metapid->db, "notify", "warning", "notification "
		    "not delivered", msg, "notify_channel", it->id, &e2) < 0) {
			log_warnx("notify: %s", e2.msg);
			err_clear(&e2);
		}
		free(msg);
	}
	if (j->test) {
		xasprintf(&msg, "test notification: %d sent, %d failed", sent,
		    failed);
		if (event_add(metapid->db, "notify", failed > 0 ? "warning" :
		    "info", msg, NULL, NULL, 0, &e2) < 0)
			err_clear(&e2);
		free(msg);
		*reply = notify_event_test_reply(j);
		notify_job_free(j);
		return (CTL_DONE);
	}
	notify_job_free(j);
	/* Nobody waits for a reply; CTL_WAIT also spares a snapshot rebuild. */
	return (CTL_WAIT);
}

/*
 * Load and build the request of every channel in ids, then send them on
 * a worker. tries is the try this is (1 the first). A channel that cannot
 * be loaded or built fails at once, as its outcome.
 */
static struct notify_job *
notify_event_job(const long long *ids, size_t n,
    const struct notify_alert *alert, int tries, int test)
{
	struct notify_job		*j;
	struct notify_item		*it;
	struct notify_chan		 ch;
	struct notify_text		 t;
	const struct notify_entry	*ne;
	struct err			 e = { ERR_OK, NULL };
	const char			*proxy;
	char				*cause;
	size_t				 i;

	j = xcalloc(1, sizeof *j);
	notify_alert_copy(&j->alert, alert);
	j->test = test;
	j->v = xcalloc(n, sizeof *j->v);
	t.type = alert->type;
	t.level = alert->level;
	t.title = alert->title;
	t.message = alert->message;
	t.time = alert->time;
	proxy = settings_str(metapid->settings, "system_proxy_url");
	for (i = 0; i < n; i++) {
		it = &j->v[j->n];
		if (notify_load(metapid->db, ids[i], &ch, &e) != 0) {
			log_warnx("notify: %s", e.msg);
			err_clear(&e);
			continue;
		}
		if (!ch.enabled && !test) {
			notify_chan_free(&ch);
			continue;
		}
		j->n++;
		it->id = ch.id;
		it->kind = xstrdup(ch.kind);
		it->target = xstrdup(ch.target);
		it->tries = tries;
		cause = NULL;
		if (notify_build(ch.kind, ch.config, ch.secret, &t, &it->msg,
		    &cause) != 0)
			it->error = cause;
		else {
			it->built = 1;
			ne = notify_find(ch.kind);
			if ((ne->flags & NOTIFY_PROXY) && proxy != NULL &&
			    *proxy != '\0')
				it->msg.proxy = xstrdup(proxy);
		}
		notify_chan_free(&ch);
	}
	return (j);
}

/* Send job j on a worker; req NULL: nobody waits for it. */
static void
notify_event_start(struct ctl_req *req, struct notify_job *j)
{
	struct ctl_req	daemon_req;

	if (req == NULL) {
		memset(&daemon_req, 0, sizeof daemon_req);
		req = &daemon_req;
	}
	async_run(req, notify_event_work, notify_event_done, j);
}

/* Forget alerts that can merge no more; bound the table. */
static void
notify_event_forget(time_t now, long long cooldown)
{
	struct notify_recent	**pp, *r, **oldest;
	size_t			  n = 0;

	for (pp = &notify_recent_head; (r = *pp) != NULL;) {
		if (now - r->sent >= NOTIFY_RECENT_KEEP ||
		    (r->merged == 0 && now - r->sent >= cooldown)) {
			*pp = r->next;
			free(r->key);
			free(r);
			continue;
		}
		n++;
		pp = &r->next;
	}
	while (n-- > NOTIFY_RECENT_MAX) {
		oldest = &notify_recent_head;
		for (pp = &notify_recent_head; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->sent < (*oldest)->sent)
				oldest = pp;
		r = *oldest;
		*oldest = r->next;
		free(r->key);
		free(r);
	}
}

/*
 * Store an event and alert every enabled channel. Returns how many
 * channels it went to, or -1 when it was merged into a later alert.
 */
int
notify_event(const char *type, const char *level, const char *title,
    const char *message)
{
	struct notify_alert	 a;
	struct notify_recent	*r;
	struct err		 e = { ERR_OK, NULL };
	long long		 cooldown, *ids;
	time_t			 now = time(NULL);
	size_t			 n;
	char			*key;
	int			 merged = 0;

	if (!event_level_ok(level))
		level = "error";
	if (message == NULL)
		message = "";
	if (event_add(metapid->db, type, level, title, message, NULL, 0,
	    &e) < 0) {
		log_warnx("event %s: %s", type, e.msg);
		err_clear(&e);
	}
	if (notify_ids(metapid->db, 1, &ids, &n, &e) != 0) {
		log_warnx("notify: %s", e.msg);
		err_clear(&e);
		return (0);
	}
	if (n == 0) {
		free(ids);
		return (0);
	}
	cooldown = settings_int(metapid->settings, "notify_cooldown_sec");
	notify_event_forget(now, cooldown);
	xasprintf(&key, "%s\n%s", type, title);
	for (r = notify_recent_head; r != NULL; r = r->next)
		if (strcmp(r->key, key) == 0)
			break;
	if (r != NULL && cooldown > 0 && now - r->sent < cooldown) {
		r->merged++;
		log_info("notify: \"%s\" merged (%d within %lld s)", title,
		    r->merged, cooldown);
		free(key);
		free(ids);
		return (-1);
	}
	if (r == NULL) {
		r = xcalloc(1, sizeof *r);
		r->key = key;
		r->next = notify_recent_head;
		notify_recent_head = r;
	} else
		free(key);
	merged = r->merged;
	r->merged = 0;
	r->sent = now;

	a.type = (char *)type;
	a.level = (char *)level;
	a.title = (char *)title;
	a.time = now;
	if (merged > 0)
		xasprintf(&a.message, "%s\n\n(%d similar alert%s merged)",
		    message, merged, merged == 1 ? "" : "s");
	else
		a.message = xstrdup(message);
	notify_event_start(NULL, notify_event_job(ids, n, &a, 1, 0));
	free(a.message);
	free(ids);
	return ((int)n);
}

/*
 * Alerts raised on other threads (a request no channel could serve) wait
 * here for the main loop, which alone may store and send them. A full
 * queue drops the alert: it would be merged with the queued ones anyway.
 */
#define NOTIFY_DEFER_MAX	32
static pthread_mutex_t		notify_defer_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct notify_alert	notify_deferred[NOTIFY_DEFER_MAX];
static size_t			notify_ndeferred;

void
notify_event_defer(const char *type, const char *level, const char *title,
    const char *message)
{
	struct notify_alert	*a;

	pthread_mutex_lock(&notify_defer_mtx);
	if (notify_ndeferred < NOTIFY_DEFER_MAX) {
		a = &notify_deferred[notify_ndeferred++];
		a->type = xstrdup(type);
		a->level = xstrdup(level);
		a->title = xstrdup(title);
		a->message = xstrdup(message != NULL ? message : "");
		a->time = time(NULL);
	}
	pthread_mutex_unlock(&notify_defer_mtx);
}

/* Every turn of the main loop: send deferred alerts, start due retries. */
void
notify_event_tick(void)
{
	struct notify_retry	**pp, *r;
	struct notify_alert	  v[NOTIFY_DEFER_MAX];
	time_t			  now = time(NULL);
	size_t			  i, n;

	pthread_mutex_lock(&notify_defer_mtx);
	n = notify_ndeferred;
	memcpy(v, notify_deferred, n * sizeof *v);
	notify_ndeferred = 0;
	pthread_mutex_unlock(&notify_defer_mtx);
	for (i = 0; i < n; i++) {
		notify_event(v[i].type, v[i].level, v[i].title, v[i].message);
		notify_alert_clear(&v[i]);
	}

	for (pp = &notify_retry_head; (r = *pp) != NULL;) {
		if (r->due > now) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		notify_event_start(NULL, notify_event_job(&r->channel, 1,
		    &r->alert, r->tries, 0));
		notify_alert_clear(&r->alert);
		free(r);
	}
}

/*
 * `notify test`: send a test to channels ids (disabled ones too), past
 * the cooldown, and reply with each outcome once all are known.
 */
enum ctl_ret
notify_event_test(struct ctl_req *req, const long long *ids, size_t n,
    struct err *e)
{
	struct notify_alert	 a;
	struct notify_job	*j;

	a.type = "test";
	a.level = "info";
	a.title = "Test notification";
	a.message = "This is a test notification from metapi. If you can "
	    "read it, this channel works.";
	a.time = time(NULL);
	j = notify_event_job(ids, n, &a, 1, 1);
	if (j->n == 0) {
		notify_job_free(j);
		err_set(e, ERR_NOT_FOUND, "no notification channel to test");
		return (CTL_ERROR);
	}
	notify_event_start(req, j);
	return (CTL_WAIT);
}
