/*
 * The playground: chat with a model through the daemon's own HTTP
 * endpoint, as any client would, to see what a route or one channel of
 * it answers. A message goes to POST /v1/chat/completions with "stream":
 * true under a downstream key named "playground" (made on first use, its
 * secret held in secure memory and never drawn), optionally pinned to
 * one channel (X-Metapi-Channel). Compare mode sends the same message to
 * two panes at once, each with its own pin, and streams both side by
 * side.
 *
 * Each request runs in its own thread so the screen never waits on the
 * network: the thread parses the SSE stream and appends the deltas to
 * its turn under the state's lock, then wakes the main loop
 * (tui_wake); drawing reads the turns under the same lock. Threads are
 * stopped by a flag the curl callbacks check (Esc, leaving the view,
 * quitting) and joined by the main thread only. Each pane keeps at most
 * PLAY_MAX_TEXT bytes of conversation: an answer that would pass it is
 * cut and says "(truncated)", and the oldest turns make way for new ones.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NCURSES_WIDECHAR	1
#include <curl/curl.h>
#include <curses.h>
#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "sse.h"
#include "tui.h"
#include "vault.h"
#include "width.h"
#include "xmalloc.h"

#define PLAY_MAX_TEXT	(1024 * 1024)	/* bytes a pane holds */
#define PLAY_KEEP_TEXT	(PLAY_MAX_TEXT / 2) /* room a new turn makes */
#define PLAY_MAX_RAW	(64 * 1024)	/* a reply not streamed */
#define PLAY_CONNECT_SEC 10
#define PLAY_KEY_NAME	"playground"
#define PLAY_PANES	2

/*
 * One exchange: the message and what came back. Fields marked (L) are
 * written by the stream thread and read under play_state.lock; the rest
 * belong to the main thread.
 */
struct play_turn {
	char		*user;		/* the message */
	struct buf	 reason;	/* (L) reasoning, dimmed */
	struct buf	 answer;	/* (L) content */
	char		*error;		/* (L) HTTP status, message */
	char		 model[128];	/* (L) the reply's model */
	long		 ttft_ms;	/* (L) first token, or -1 */
	long		 total_ms;	/* (L) -1 while streaming */
	long		 http;		/* (L) the HTTP status */
	int		 flags;		/* (L) */
#define PLAY_TRUNCATED	0x1	/* the answer filled the pane's room */
#define PLAY_STOPPED	0x2	/* stopped by the user */
	struct timespec	 start;
	long long	 pin;		/* its channel, or 0 */
	char		 who[128];	/* "#id site" that answered */
	int		 want_log;	/* its "logs" event is due */
	char		 meta[256];	/* its status, when drawn */
};

struct play_pane {
	long long	  pin;		/* channel id, 0: router's */
	char		  pin_who[128];	/* its site/account */
	struct play_turn **turns;
	size_t		  nturns;
	size_t		  bytes;	/* (L) text held */
	pthread_t	  thread;
	int		  running;	/* a thread to join */
	int		  busy;		/* (L) still streaming */
	int		  cancel;	/* (L) asked to stop */
};

struct play_state {
	struct tui	*t;
	pthread_mutex_t	 lock;
	struct play_pane pane[PLAY_PANES];
	int		 compare;	/* two panes side by side */
	char		 model[256];
	char		*listen;	/* the daemon's HTTP address */
	char		*secret;	/* the key, in vault memory */
	long long	 key_id;
	size_t		 scroll;	/* lines up from the bottom */
	size_t		 maxscroll;	/* at the last draw */
	int		 by, bx, bh, bw; /* the conversation, last drawn */
	int		 curl_ok;	/* curl_global_init worked */
};

/* What one stream thread owns. */
struct play_job {
	struct play_state	*st;
	struct play_pane	*pane;
	struct play_turn	*turn;
	char			*url;
	char			*body;
	char			*auth;		/* a header; wiped */
	char			 pin[64];	/* a header, or "" */
	CURL			*curl;
	struct sse_parser	 sse;
	struct buf		 raw;		/* a reply not streamed */
	int			 mode;		/* enum play_mode */
	int			 full;		/* the pane is full */
	char			*error;		/* an error event */
};

enum play_mode {
	PLAY_MODE_UNKNOWN,
	PLAY_MODE_STREAM,
	PLAY_MODE_RAW
};

/* A screen line of a pane: len bytes at s, after a mark of indent cells. */
struct play_line {
	const char	*s;
	size_t		 len;
	const char	*mark;
	int		 indent;
	enum scr_color	 color;
};

struct play_lines {
	struct play_line	*v;
	size_t			 n, cap;
};

static void	*play_open(struct tui *);
static void	 play_load(struct tui *, void *);
static void	 play_draw(struct tui *, void *, int, int, int, int);
static int	 play_key(struct tui *, void *, int);
static void	 play_event(struct tui *, void *, const char *, json_t *);
static void	 play_tick(struct tui *, void *);
static void	 play_close(void *);
static void	 play_leave(struct tui *, void *);

static const struct tui_action play_actions[] = {
	{ 'i', "i Enter", N_("message") },
	{ 'm', "m", N_("model") },
	{ 'c', "c C", N_("pin left, right") },
	{ 'v', "v", N_("compare") },
	{ 'n', "n", N_("new") },
	{ 27, "Esc", N_("stop") },
	{ 'G', "g G", N_("top, end") },
	{ 0, NULL, NULL }
};

const struct tui_view view_play = {
	.name = "play",
	.title = N_("Playground"),
	.open = play_open,
	.load = play_load,
	.draw = play_draw,
	.key = play_key,
	.event = play_event,
	.tick = play_tick,
	.close = play_close,
	.actions = play_actions,
	.leave = play_leave
};

static const char *const play_pane_names[PLAY_PANES] = {
	N_("left"), N_("right")
};

static long
play_ms_since(const struct timespec *t0)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((long)((now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000));
}

/* Turns. */

static struct play_turn *
play_turn_new(const char *user, long long pin)
{
	struct play_turn	*tn = xcalloc(1, sizeof *tn);

	tn->user = xstrdup(user);
	buf_init(&tn->reason, PLAY_MAX_TEXT);
	buf_init(&tn->answer, PLAY_MAX_TEXT);
	tn->ttft_ms = tn->total_ms = -1;
	tn->pin = pin;
	return (tn);
}

static void
play_turn_free(struct play_turn *tn)
{
	if (tn == NULL)
		return;
	free(tn->user);
	buf_free(&tn->reason);
	buf_free(&tn->answer);
	free(tn->error);
	free(tn);
}

static size_t
play_turn_bytes(struct play_turn *tn)
{
	return (strlen(tn->user) + tn->reason.len + tn->answer.len +
	    (tn->error != NULL ? strlen(tn->error) : 0));
}

/* A finished turn's copy, for the other pane of a comparison. */
static struct play_turn *
play_turn_dup(struct play_turn *tn)
{
	struct play_turn	*c = play_turn_new(tn->user, tn->pin);

	buf_add(&c->reason, tn->reason.data, tn->reason.len);
	buf_add(&c->answer, tn->answer.data, tn->answer.len);
	if (tn->error != NULL)
		c->error = xstrdup(tn->error);
	memcpy(c->model, tn->model, sizeof c->model);
	c->ttft_ms = tn->ttft_ms;
	c->total_ms = tn->total_ms;
	c->http = tn->http;
	c->flags = tn->flags;
	c->start = tn->start;
	memcpy(c->who, tn->who, sizeof c->who);
	return (c);
}

/* Panes. The callers have joined the pane's thread. */

static void
play_pane_clear(struct play_state *st, struct play_pane *p)
{
	size_t	i;

	for (i = 0; i < p->nturns; i++)
		play_turn_free(p->turns[i]);
	free(p->turns);
	p->turns = NULL;
	p->nturns = 0;
	pthread_mutex_lock(&st->lock);
	p->bytes = 0;
	pthread_mutex_unlock(&st->lock);
}

static void
play_pane_push(struct play_state *st, struct play_pane *p,
    struct play_turn *tn)
{
	p->turns = xreallocarray(p->turns, p->nturns + 1, sizeof *p->turns);
	p->turns[p->nturns++] = tn;
	pthread_mutex_lock(&st->lock);
	p->bytes += play_turn_bytes(tn);
	pthread_mutex_unlock(&st->lock);
}

/*
 * Make room for a new turn of n bytes: the oldest turns go until the
 * pane holds at most PLAY_KEEP_TEXT. They leave the history sent too,
 * as a chat client trims what no longer fits a context.
 */
static void
play_pane_trim(struct play_state *st, struct play_pane *p, size_t n)
{
	size_t	drop = 0, gone = 0;

	while (drop < p->nturns && p->bytes - gone + n > PLAY_KEEP_TEXT)
		gone += play_turn_bytes(p->turns[drop++]);
	if (drop == 0)
		return;
	while (drop > 0) {
		play_turn_free(p->turns[0]);
		memmove(p->turns, p->turns + 1, (p->nturns - 1) *
		    sizeof *p->turns);
		p->nturns--;
		drop--;
	}
	pthread_mutex_lock(&st->lock);
	p->bytes -= gone;
	pthread_mutex_unlock(&st->lock);
}

static int
play_busy(struct play_state *st, struct play_pane *p)
{
	int	busy;

	pthread_mutex_lock(&st->lock);
	busy = p->busy;
	pthread_mutex_unlock(&st->lock);
	return (busy);
}

static int
play_any_busy(struct play_state *st)
{
	int	i, n = 0;

	for (i = 0; i < PLAY_PANES; i++)
		n += play_busy(st, &st->pane[i]);
	return (n);
}

static void
play_cancel(struct play_state *st)
{
	int	i;

	pthread_mutex_lock(&st->lock);
	for (i = 0; i < PLAY_PANES; i++)
		if (st->pane[i].busy)
			st->pane[i].cancel = 1;
	pthread_mutex_unlock(&st->lock);
}

/*
 * Join a pane's thread once it is done (or always, with wait). A reply
 * of 401 means the key went away meanwhile: it is looked up again.
 */
static void
play_reap(struct play_state *st, struct play_pane *p, int wait)
{
	struct play_turn	*tn;

	if (!p->running || (!wait && play_busy(st, p)))
		return;
	pthread_join(p->thread, NULL);
	p->running = 0;
	tn = p->nturns > 0 ? p->turns[p->nturns - 1] : NULL;
	if (tn != NULL && tn->http == 401) {
		vault_secret_free(st->secret);
		st->secret = NULL;
	}
}

/* The stream thread. */

/* Append text to a turn's buffer within the pane's room; under lock. */
static void
play_append(struct play_job *job, struct buf *b, const char *s, size_t n)
{
	struct play_pane	*p = job->pane;
	size_t			 room;

	room = p->bytes < PLAY_MAX_TEXT ? PLAY_MAX_TEXT - p->bytes : 0;
	if (n > room) {
		/* Cut on a character boundary. */
		n = room;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		job->turn->flags |= PLAY_TRUNCATED;
		job->full = 1;
	}
	if (n > 0 && buf_add(b, s, n) == 0)
		p->bytes += n;
}

static void
play_set_error(struct play_job *job, const char *msg)
{
	pthread_mutex_lock(&job->st->lock);
	if (job->turn->error == NULL) {
		job->turn->error = xstrdup(msg);
		job->pane->bytes += strlen(msg);
	}
	pthread_mutex_unlock(&job->st->lock);
}

/* The delta's text under key, when it is a non-empty string. */
static const char *
play_delta(json_t *delta, const char *key)
{
	const char	*s = jx_str(delta, key);

	return (s != NULL && *s != '\0' ? s : NULL);
}

/*
 * One chunk of the stream: its model, and the content and reasoning of
 * choices[0].delta. "[DONE]" and what is not JSON are passed over; an
 * error object (an upstream failing mid-stream) is kept for the pane.
 */
static int
play_on_event(const struct sse_event *ev, void *arg, __unused struct err *e)
{
	struct play_job		*job = arg;
	struct play_turn	*tn = job->turn;
	json_t			*j, *delta, *err;
	const char		*model, *text, *why, *msg;

	if (strcmp(ev->data, "[DONE]") == 0)
		return (0);
	if ((j = json_loadb(ev->data, ev->data_len, 0, NULL)) == NULL)
		return (0);
	err = json_object_get(j, "error");
	if (err != NULL && job->error == NULL) {
		msg = json_is_string(err) ? json_string_value(err) :
		    jx_str(err, "message");
		job->error = xstrdup(msg != NULL ? msg : _("error in stream"));
	}
	delta = json_object_get(json_array_get(json_object_get(j, "choices"),
	    0), "delta");
	model = jx_str(j, "model");
	why = play_delta(delta, "reasoning_content");
	if (why == NULL)
		why = play_delta(delta, "reasoning");
	text = play_delta(delta, "content");

	pthread_mutex_lock(&job->st->lock);
	if (model != NULL && *model != '\0')
		strlcpy(tn->model, model, sizeof tn->model);
	if ((why != NULL || text != NULL) && tn->ttft_ms < 0)
		tn->ttft_ms = play_ms_since(&tn->start);
	if (why != NULL)
		play_append(job, &tn->reason, why, strlen(why));
	if (text != NULL)
		play_append(job, &tn->answer, text, strlen(text));
	pthread_mutex_unlock(&job->st->lock);
	json_decref(j);
	tui_wake(job->st->t);
	return (0);
}

static int
play_cancelled(struct play_job *job)
{
	int	c;

	pthread_mutex_lock(&job->st->lock);
	c = job->pane->cancel;
	pthread_mutex_unlock(&job->st->lock);
	return (c);
}

/*
 * Bytes from the daemon. The first call decides what they are: an event
 * stream (a 200 with text/event-stream) goes to the SSE parser, anything
 * else (an error reply) is kept, bounded, to be read at the end.
 */
static size_t
play_write(char *data, size_t size, size_t n, void *arg)
{
	struct play_job	*job = arg;
	struct err	 e = { ERR_OK, NULL };
	long		 code = 0;
	char		*ct = NULL;

	n *= size;
	if (play_cancelled(job) || job->full)
		return (0);
	if (job->mode == PLAY_MODE_UNKNOWN) {
		curl_easy_getinfo(job->curl, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(job->curl, CURLINFO_CONTENT_TYPE, &ct);
		job->mode = code == 200 && ct != NULL &&
		    strcasestr(ct, "text/event-stream") != NULL ?
		    PLAY_MODE_STREAM : PLAY_MODE_RAW;
	}
	if (job->mode == PLAY_MODE_RAW) {
		/* Past the bound, the rest is not needed to say what failed. */
		buf_add(&job->raw, data, n);
		return (n);
	}
	if (sse_feed(&job->sse, data, n, play_on_event, job, &e) != 0) {
		if (job->error == NULL)
			job->error = xstrdup(e.msg != NULL ? e.msg :
			    _("bad event stream"));
		err_clear(&e);
		return (0);
	}
	return (job->full ? 0 : n);
}

static int
play_progress(void *arg, __unused curl_off_t dlt, __unused curl_off_t dln,
    __unused curl_off_t ult, __unused curl_off_t uln)
{
	return (play_cancelled(arg));
}

/*
 * What went wrong with a reply that was not a stream: "HTTP 503: the
 * daemon's message", or its answer when it replied in one piece.
 */
static void
play_finish_raw(struct play_job *job, long code)
{
	struct play_turn	*tn = job->turn;
	json_t			*j, *e, *m;
	const char		*msg = NULL, *text, *model;
	char			*s, *nl;

	j = job->raw.len > 0 ? json_loadb(job->raw.data, job->raw.len, 0,
	    NULL) : NULL;
	if (code == 200 && j != NULL) {
		m = json_object_get(json_array_get(json_object_get(j,
		    "choices"), 0), "message");
		if ((text = jx_str(m, "content")) != NULL) {
			model = jx_str(j, "model");
			pthread_mutex_lock(&job->st->lock);
			if (model != NULL)
				strlcpy(tn->model, model, sizeof tn->model);
			tn->ttft_ms = play_ms_since(&tn->start);
			play_append(job, &tn->answer, text, strlen(text));
			pthread_mutex_unlock(&job->st->lock);
			json_decref(j);
			return;
		}
	}
	e = json_object_get(j, "error");
	msg = json_is_string(e) ? json_string_value(e) : jx_str(e, "message");
	if (msg == NULL)
		msg = jx_str(j, "message");
	if (msg == NULL && job->raw.len > 0) {
		/* Not JSON: its first line. */
		if ((nl = strchr(job->raw.data, '\n')) != NULL)
			*nl = '\0';
		msg = job->raw.data;
	}
	xasprintf(&s, "HTTP %ld: %s", code, msg != NULL && *msg != '\0' ?
	    msg : _("no answer"));
	play_set_error(job, s);
	free(s);
	json_decref(j);
}

static void
play_job_free(struct play_job *job)
{
	if (job->auth != NULL)
		explicit_bzero(job->auth, strlen(job->auth));
	free(job->auth);
	free(job->url);
	free(job->body);
	free(job->error);
	sse_free(&job->sse);
	buf_free(&job->raw);
	free(job);
}

/* What failed, if anything, once the transfer is over. */
static void
play_outcome(struct play_job *job, CURLcode rc, long code)
{
	struct err	 e = { ERR_OK, NULL };
	char		*s;

	if (job->error != NULL)
		play_set_error(job, job->error);
	else if (rc != CURLE_OK) {
		xasprintf(&s, _("request failed: %s"), curl_easy_strerror(rc));
		play_set_error(job, s);
		free(s);
	} else if (job->mode != PLAY_MODE_STREAM)
		play_finish_raw(job, code);
	else if (sse_finish(&job->sse, &e) != 0) {
		play_set_error(job, e.msg != NULL ? e.msg :
		    _("the stream was cut short"));
		err_clear(&e);
	}
}

static void *
play_thread(void *arg)
{
	struct play_job		*job = arg;
	struct play_turn	*tn = job->turn;
	struct curl_slist	*h = NULL;
	CURLcode		 rc = CURLE_FAILED_INIT;
	long			 code = 0;
	int			 stopped;

	sse_init(&job->sse, 0);
	buf_init(&job->raw, PLAY_MAX_RAW);
	if ((job->curl = curl_easy_init()) == NULL)
		goto done;
	h = curl_slist_append(h, job->auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: text/event-stream");
	if (job->pin[0] != '\0')
		h = curl_slist_append(h, job->pin);
	curl_easy_setopt(job->curl, CURLOPT_URL, job->url);
	curl_easy_setopt(job->curl, CURLOPT_POSTFIELDS, job->body);
	curl_easy_setopt(job->curl, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(job->body));
	curl_easy_setopt(job->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(job->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(job->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(job->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(job->curl, CURLOPT_CONNECTTIMEOUT,
	    (long)PLAY_CONNECT_SEC);
	curl_easy_setopt(job->curl, CURLOPT_USERAGENT,
	    PACKAGE_NAME "-playground/" PACKAGE_VERSION);
	curl_easy_setopt(job->curl, CURLOPT_WRITEFUNCTION, play_write);
	curl_easy_setopt(job->curl, CURLOPT_WRITEDATA, job);
	curl_easy_setopt(job->curl, CURLOPT_XFERINFOFUNCTION, play_progress);
	curl_easy_setopt(job->curl, CURLOPT_XFERINFODATA, job);
	curl_easy_setopt(job->curl, CURLOPT_NOPROGRESS, 0L);
	rc = curl_easy_perform(job->curl);
	curl_easy_getinfo(job->curl, CURLINFO_RESPONSE_CODE, &code);
done:
	/* Stopped or cut at the pane's room: what arrived stands. */
	if (!(stopped = play_cancelled(job)) && !job->full)
		play_outcome(job, rc, code);
	pthread_mutex_lock(&job->st->lock);
	tn->http = code;
	tn->total_ms = play_ms_since(&tn->start);
	if (stopped)
		tn->flags |= PLAY_STOPPED;
	job->pane->busy = 0;
	pthread_mutex_unlock(&job->st->lock);
	tui_wake(job->st->t);

	curl_slist_free_all(h);
	if (job->curl != NULL)
		curl_easy_cleanup(job->curl);
	play_job_free(job);
	return (NULL);
}

/* The daemon: its address and the playground key. */

/* The URL of the chat endpoint; a wildcard listen address is this host. */
static char *
play_url(const char *listen)
{
	const char	*port = strrchr(listen, ':');
	char		*url;
	size_t		 hlen;

	hlen = port != NULL ? (size_t)(port - listen) : strlen(listen);
	if (port == NULL)
		port = "";
	if ((hlen == 7 && strncmp(listen, "0.0.0.0", 7) == 0) || hlen == 0 ||
	    (hlen == 1 && *listen == '*'))
		xasprintf(&url, "http://127.0.0.1%s/v1/chat/completions", port);
	else if (hlen == 4 && strncmp(listen, "[::]", 4) == 0)
		xasprintf(&url, "http://[::1]%s/v1/chat/completions", port);
	else
		xasprintf(&url, "http://%s/v1/chat/completions", listen);
	return (url);
}

static int
play_fetch_listen(struct tui *t, struct play_state *st, char **err)
{
	json_t		*data = NULL;
	const char	*l;

	if (tui_request(t, "daemon.status", NULL, &data, err) != 0)
		return (-1);
	if ((l = jx_str(data, "listen")) == NULL || *l == '\0') {
		*err = xstrdup(_("the daemon does not say where it listens"));
		json_decref(data);
		return (-1);
	}
	free(st->listen);
	st->listen = xstrdup(l);
	json_decref(data);
	return (0);
}

/* Keep a key reply's secret and id. */
static int
play_take_key(struct play_state *st, json_t *data, char **err)
{
	const char	*k = jx_str(data, "key");

	if (k == NULL || *k == '\0' ||
	    (st->secret = vault_secret_dup(k)) == NULL) {
		*err = xstrdup(_("the daemon gave no key"));
		return (-1);
	}
	jx_int(data, "id", &st->key_id);
	return (0);
}

/* The "playground" key: revealed when it exists, else made. */
static int
play_fetch_key(struct tui *t, struct play_state *st, char **err)
{
	json_t		*data = NULL, *it, *got = NULL;
	long long	 id = 0;
	size_t		 i;
	int		 rv;

	if (tui_request(t, "key.list", NULL, &data, err) != 0)
		return (-1);
	json_array_foreach(json_object_get(data, "items"), i, it) {
		if (jx_str(it, "name") != NULL &&
		    strcmp(jx_str(it, "name"), PLAY_KEY_NAME) == 0 &&
		    jx_int(it, "id", &id) == 0)
			break;
		id = 0;
	}
	json_decref(data);
	if (id > 0)
		rv = tui_request(t, "key.reveal", json_pack("{s:I}", "id",
		    (json_int_t)id), &got, err);
	else
		rv = tui_request(t, "key.add", json_pack("{s:s}", "name",
		    PLAY_KEY_NAME), &got, err);
	if (rv == 0)
		rv = play_take_key(st, got, err);
	json_decref(got);
	return (rv);
}

/* The first model of model.list, for a start. */
static void
play_default_model(struct tui *t, struct play_state *st)
{
	json_t		*data = NULL;
	const char	*m;
	char		*err = NULL;

	if (tui_request(t, "model.list", NULL, &data, &err) != 0) {
		free(err);
		return;
	}
	m = jx_str(json_array_get(json_object_get(data, "items"), 0),
	    "model");
	if (m != NULL)
		strlcpy(st->model, m, sizeof st->model);
	json_decref(data);
}

/*
 * The channels of the model's route, [{id, site, account, probability}]:
 * route.show by the model's name, or, for a model a wider pattern
 * routes, the candidates route.explain lists.
 */
static json_t *
play_channels(struct tui *t, struct play_state *st, char **err)
{
	json_t		*data = NULL, *out, *c;
	size_t		 i;
	long long	 id;
	double		 pr = 0;

	if (tui_request(t, "route.show", json_pack("{s:s}", "route",
	    st->model), &data, err) == 0) {
		out = json_incref(json_object_get(data, "items"));
		json_decref(data);
		return (out != NULL ? out : json_array());
	}
	free(*err);
	*err = NULL;
	if (tui_request(t, "route.explain", json_pack("{s:s}", "model",
	    st->model), &data, err) != 0)
		return (NULL);
	out = json_array();
	json_array_foreach(json_object_get(data, "candidates"), i, c) {
		if (jx_int(c, "channel_id", &id) != 0)
			continue;
		jx_real(c, "probability", &pr);
		json_array_append_new(out, json_pack("{s:I, s:s?, s:s?, s:f}",
		    "id", (json_int_t)id, "site", jx_str(c, "site"),
		    "account", jx_str(c, "account"), "probability", pr));
	}
	json_decref(data);
	return (out);
}

static void
play_channel_who(json_t *ch, char *s, size_t size)
{
	const char	*site = jx_str(ch, "site"), *acct = jx_str(ch,
			    "account");

	snprintf(s, size, "%s/%s", site != NULL ? site : "?", acct != NULL ?
	    acct : "?");
}

/* Keys. */

/*
 * A box over the conversation listing choices, drawn before a prompt so
 * they show while the user types; the next draw takes it away.
 */
static void
play_overlay(struct play_state *st, const char *title, json_t *lines)
{
	const char	*s;
	size_t		 i, n = json_array_size(lines);
	int		 h, w = (int)width_utf8(title) + 6, y;

	for (i = 0; i < n; i++) {
		s = json_string_value(json_array_get(lines, i));
		if (s != NULL && (int)width_utf8(s) + 4 > w)
			w = (int)width_utf8(s) + 4;
	}
	if (w > st->bw)
		w = st->bw;
	h = (int)n + 2 < st->bh ? (int)n + 2 : st->bh;
	if (h < 3 || w < 8)
		return;
	scr_box(st->by, st->bx + st->bw - w, h, w, title);
	for (i = 0, y = st->by + 1; i < n && y < st->by + h - 1; i++, y++) {
		if (y == st->by + h - 2 && i + 1 < n) {
			scr_putf(y, st->bx + st->bw - w + 2, w - 4, SCR_DIM,
			    _("... and %zu more"), n - i);
			break;
		}
		scr_put(y, st->bx + st->bw - w + 2, w - 4, SCR_NORMAL,
		    json_string_value(json_array_get(lines, i)));
	}
}

static void
play_pick_model(struct tui *t, struct play_state *st)
{
	json_t		*data = NULL, *names, *it;
	char		*err = NULL, *m = NULL;
	size_t		 i;
	int		 known = 0, p;

	names = json_array();
	if (tui_request(t, "model.list", NULL, &data, &err) == 0) {
		json_array_foreach(json_object_get(data, "items"), i, it)
			if (jx_str(it, "model") != NULL)
				json_array_append_new(names, json_string(
				    jx_str(it, "model")));
		json_decref(data);
	} else
		free(err);
	play_overlay(st, _("Models"), names);
	if (tui_prompt(t, _("Model:"), st->model, &m) != 1) {
		json_decref(names);
		return;
	}
	json_array_foreach(names, i, it)
		known |= strcmp(json_string_value(it), m) == 0;
	if (*m == '\0')
		tui_status(t, "%s", _("no model chosen"));
	else if (strcmp(m, st->model) != 0) {
		strlcpy(st->model, m, sizeof st->model);
		/* Channel ids belong to the old model's route. */
		for (p = 0; p < PLAY_PANES; p++) {
			st->pane[p].pin = 0;
			st->pane[p].pin_who[0] = '\0';
		}
		if (!known && json_array_size(names) > 0)
			tui_status(t, _("%s is not in the model list; "
			    "trying it anyway"), m);
		else
			tui_status(t, _("model: %s"), m);
	}
	free(m);
	json_decref(names);
}

/* Whether s, a pin answer, names channel ch: its id, site/account or site. */
static int
play_channel_is(json_t *ch, const char *s)
{
	const char	*bad = NULL, *site = jx_str(ch, "site");
	char		 who[256];
	long long	 id = 0, want;

	want = strtonum(s, 1, LLONG_MAX, &bad);
	if (bad == NULL)
		return (jx_int(ch, "id", &id) == 0 && id == want);
	play_channel_who(ch, who, sizeof who);
	return (strcasecmp(who, s) == 0 || (site != NULL &&
	    strcasecmp(site, s) == 0));
}

/* The one channel a pin answer names. */
static json_t *
play_find_channel(json_t *chans, const char *model, const char *s,
    char **err)
{
	json_t		*ch, *hit = NULL;
	size_t		 i;
	int		 n = 0;

	json_array_foreach(chans, i, ch) {
		if (play_channel_is(ch, s)) {
			hit = ch;
			n++;
		}
	}
	if (n == 1)
		return (hit);
	if (n > 1)
		xasprintf(err, _("%s names more than one channel; give its "
		    "id"), s);
	else
		xasprintf(err, _("no channel %s in the route of %s"), s,
		    model);
	return (NULL);
}

/* c and C: pin a pane to a channel of the model's route, or unpin it. */
static void
play_pin(struct tui *t, struct play_state *st, int which)
{
	struct play_pane	*p = &st->pane[which];
	json_t			*chans, *lines, *ch, *hit;
	struct buf		 ids;
	char			 who[256], cur[32], *err = NULL, *s = NULL;
	char			*label, *line;
	long long		 id;
	size_t			 i;
	double			 pr;

	if (st->model[0] == '\0') {
		tui_status(t, "%s", _("choose a model first (m)"));
		return;
	}
	if ((chans = play_channels(t, st, &err)) == NULL) {
		tui_status(t, _("channels of %s: %s"), st->model, err);
		free(err);
		return;
	}
	lines = json_array();
	buf_init(&ids, 1024);
	json_array_foreach(chans, i, ch) {
		id = 0;
		pr = 0;
		jx_int(ch, "id", &id);
		jx_real(ch, "probability", &pr);
		play_channel_who(ch, who, sizeof who);
		xasprintf(&line, "%6lld  %-28s %5.1f%%", id, who, pr);
		json_array_append_new(lines, json_string(line));
		free(line);
		buf_printf(&ids, "%s%lld %s", i > 0 ? ", " : "", id, who);
	}
	if (st->compare)
		xasprintf(&label, _("Channel, %s pane [%s] (empty: none):"),
		    _(play_pane_names[which]), ids.len > 0 ? ids.data : "");
	else
		xasprintf(&label, _("Channel [%s] (empty: none):"),
		    ids.len > 0 ? ids.data : "");
	buf_free(&ids);
	play_overlay(st, st->model, lines);
	json_decref(lines);
	snprintf(cur, sizeof cur, "%lld", p->pin);
	if (tui_prompt(t, label, p->pin > 0 ? cur : "", &s) == 1) {
		if (*s == '\0') {
			p->pin = 0;
			p->pin_who[0] = '\0';
			tui_status(t, "%s", _("unpinned: the router chooses"));
		} else if ((hit = play_find_channel(chans, st->model, s,
		    &err)) == NULL) {
			tui_status(t, "%s", err);
			free(err);
		} else {
			jx_int(hit, "id", &p->pin);
			play_channel_who(hit, p->pin_who, sizeof p->pin_who);
			tui_status(t, _("pinned to channel %lld (%s)"), p->pin,
			    p->pin_who);
		}
		free(s);
	}
	free(label);
	json_decref(chans);
}

/* The messages to send: every turn that got an answer, then the new one. */
static char *
play_body(struct play_state *st, struct play_pane *p)
{
	struct play_turn	*tn;
	json_t			*msgs = json_array(), *o, *u, *a;
	char			*s;
	size_t			 i;

	for (i = 0; i < p->nturns; i++) {
		tn = p->turns[i];
		a = NULL;
		pthread_mutex_lock(&st->lock);
		if (tn->answer.len > 0)
			a = json_stringn(tn->answer.data, tn->answer.len);
		pthread_mutex_unlock(&st->lock);
		if (a == NULL && i + 1 < p->nturns)
			continue;	/* it failed: no half exchanges */
		if ((u = json_string(tn->user)) != NULL)
			json_array_append_new(msgs, json_pack("{s:s, s:o}",
			    "role", "user", "content", u));
		if (a != NULL)
			json_array_append_new(msgs, json_pack("{s:s, s:o}",
			    "role", "assistant", "content", a));
	}
	o = json_pack("{s:s, s:b, s:o}", "model", st->model, "stream", 1,
	    "messages", msgs);
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return (s);
}

/* Start a pane's request for the turn just added. */
static void
play_start(struct play_state *st, struct play_pane *p, const char *url)
{
	struct play_turn	*tn = p->turns[p->nturns - 1];
	struct play_job		*job;

	job = xcalloc(1, sizeof *job);
	job->st = st;
	job->pane = p;
	job->turn = tn;
	job->url = xstrdup(url);
	if ((job->body = play_body(st, p)) == NULL) {
		tn->error = xstrdup(_("the message could not be encoded"));
		tn->total_ms = 0;
		play_job_free(job);
		return;
	}
	xasprintf(&job->auth, "Authorization: Bearer %s", st->secret);
	if (p->pin > 0)
		snprintf(job->pin, sizeof job->pin, "X-Metapi-Channel: %lld",
		    p->pin);
	clock_gettime(CLOCK_MONOTONIC, &tn->start);
	pthread_mutex_lock(&st->lock);
	p->busy = 1;
	p->cancel = 0;
	pthread_mutex_unlock(&st->lock);
	if (pthread_create(&p->thread, NULL, play_thread, job) != 0) {
		pthread_mutex_lock(&st->lock);
		p->busy = 0;
		tn->error = xstrdup(_("cannot start a thread"));
		tn->total_ms = 0;
		pthread_mutex_unlock(&st->lock);
		play_job_free(job);
		return;
	}
	p->running = 1;
}

/* i and Enter: ask for a message and send it to the pane or both. */
static void
play_send(struct tui *t, struct play_state *st)
{
	struct play_pane	*p;
	struct play_turn	*tn;
	char			*msg = NULL, *err = NULL, *url;
	int			 i, n = st->compare ? 2 : 1;

	if (st->model[0] == '\0') {
		tui_status(t, "%s", _("choose a model first (m)"));
		return;
	}
	if (play_any_busy(st)) {
		tui_status(t, "%s", _("still answering: Esc stops it"));
		return;
	}
	/*
	 * Before the prompt, so what is typed is not lost to a failure. The
	 * address is asked each time: a daemon started again may listen on
	 * another port.
	 */
	if (play_fetch_listen(t, st, &err) != 0 ||
	    (st->secret == NULL && play_fetch_key(t, st, &err) != 0)) {
		tui_status(t, "%s", err);
		free(err);
		return;
	}
	if (tui_prompt(t, _("Message:"), "", &msg) != 1)
		return;
	if (*msg == '\0') {
		free(msg);
		return;
	}
	url = play_url(st->listen);
	for (i = 0; i < PLAY_PANES; i++) {
		p = &st->pane[i];
		play_reap(st, p, 1);
		/* Only this send's turns wait for their "logs" event. */
		if (p->nturns > 0)
			p->turns[p->nturns - 1]->want_log = 0;
		if (i >= n)
			continue;
		play_pane_trim(st, p, strlen(msg));
		tn = play_turn_new(msg, p->pin);
		tn->want_log = 1;
		if (p->pin > 0)
			snprintf(tn->who, sizeof tn->who, "#%lld %s", p->pin,
			    p->pin_who);
		play_pane_push(st, p, tn);
		play_start(st, p, url);
	}
	free(url);
	free(msg);
	st->scroll = 0;
}

/* v: two panes or one. The right pane starts from the left's history. */
static void
play_toggle(struct tui *t, struct play_state *st)
{
	struct play_pane	*l = &st->pane[0], *r = &st->pane[1];
	size_t			 i;

	if (play_any_busy(st)) {
		tui_status(t, "%s", _("still answering: Esc stops it"));
		return;
	}
	st->compare = !st->compare;
	if (st->compare) {
		play_reap(st, r, 1);
		play_pane_clear(st, r);
		for (i = 0; i < l->nturns; i++)
			play_pane_push(st, r, play_turn_dup(l->turns[i]));
	}
	tui_status(t, "%s", st->compare ? _("compare: c pins the left "
	    "pane, C the right") : _("one pane"));
}

static void
play_new(struct tui *t, struct play_state *st)
{
	int	i;

	play_cancel(st);
	for (i = 0; i < PLAY_PANES; i++) {
		play_reap(st, &st->pane[i], 1);
		play_pane_clear(st, &st->pane[i]);
	}
	st->scroll = 0;
	tui_status(t, "%s", _("new conversation"));
}

static int
play_key(struct tui *t, void *arg, int key)
{
	struct play_state	*st = arg;
	size_t			 page;

	page = st->bh > 2 ? (size_t)st->bh - 2 : 1;
	if (key == 'i' || key == '\r' || key == '\n' ||
	    key == SCR_FKEY(KEY_ENTER))
		play_send(t, st);
	else if (key == 'm')
		play_pick_model(t, st);
	else if (key == 'c')
		play_pin(t, st, 0);
	else if (key == 'C') {
		if (!st->compare)
			play_toggle(t, st);
		if (st->compare)
			play_pin(t, st, 1);
	} else if (key == 'v')
		play_toggle(t, st);
	else if (key == 'n')
		play_new(t, st);
	else if (key == 27) {
		if (!play_any_busy(st))
			return (0);
		play_cancel(st);
		tui_status(t, "%s", _("stopped"));
	} else if (key == 'k' || key == SCR_FKEY(KEY_UP))
		st->scroll++;
	else if (key == 'j' || key == SCR_FKEY(KEY_DOWN))
		st->scroll = st->scroll > 0 ? st->scroll - 1 : 0;
	else if (key == SCR_FKEY(KEY_PPAGE))
		st->scroll += page;
	else if (key == SCR_FKEY(KEY_NPAGE))
		st->scroll = st->scroll > page ? st->scroll - page : 0;
	else if (key == 'g' || key == SCR_FKEY(KEY_HOME))
		st->scroll = st->maxscroll;
	else if (key == 'G' || key == SCR_FKEY(KEY_END))
		st->scroll = 0;
	else
		return (0);
	if (st->scroll > st->maxscroll)
		st->scroll = st->maxscroll;
	tui_dirty(t);
	return (1);
}

/* Drawing. */

static void
play_lines_add(struct play_lines *L, const char *s, size_t len,
    const char *mark, int indent, enum scr_color c)
{
	if (L->n == L->cap) {
		L->cap = L->cap == 0 ? 64 : L->cap * 2;
		L->v = xreallocarray(L->v, L->cap, sizeof *L->v);
	}
	L->v[L->n].s = s;
	L->v[L->n].len = len;
	L->v[L->n].mark = mark;
	L->v[L->n].indent = indent;
	L->v[L->n].color = c;
	L->n++;
}

/* Bytes of the UTF-8 character at p (1 when malformed); *cw its cells. */
static size_t
play_char(const char *p, const char *end, int *cw)
{
	const unsigned char	*u = (const unsigned char *)p;
	char			 one[5];
	size_t			 n, i;

	*cw = 1;	/* a control character is drawn as a space */
	if (u[0] < 0x80)
		return (1);
	n = (u[0] & 0xe0) == 0xc0 ? 2 : (u[0] & 0xf0) == 0xe0 ? 3 :
	    (u[0] & 0xf8) == 0xf0 ? 4 : 1;
	if (n > (size_t)(end - p))
		return (1);
	for (i = 1; i < n; i++)
		if ((u[i] & 0xc0) != 0x80)
			return (1);
	memcpy(one, p, n);
	one[n] = '\0';
	*cw = (int)width_utf8(one);
	return (n);
}

/*
 * Wrap len bytes of text into lines of w cells by display width: at a
 * newline, else after the last space that fits, else anywhere. The
 * first line gets mark, the others the same indent.
 */
static void
play_wrap(struct play_lines *L, const char *s, size_t len, int w,
    const char *mark, int indent, enum scr_color c)
{
	const char	*p = s, *end = s + len, *start, *brk;
	size_t		 n;
	int		 cells, cw;

	w -= indent;
	if (w < 1)
		w = 1;
	while (p < end) {
		start = p;
		brk = NULL;
		cells = 0;
		while (p < end && *p != '\n') {
			n = play_char(p, end, &cw);
			if (cells + cw > w && cells > 0)
				break;
			cells += cw;
			p += n;
			if (p[-1] == ' ')
				brk = p;
		}
		if (p < end && *p != '\n' && brk != NULL)
			p = brk;
		play_lines_add(L, start, p - start, mark, indent, c);
		mark = NULL;
		if (p < end && *p == '\n')
			p++;
	}
}

static void
play_duration(long ms, char *s, size_t size)
{
	if (ms < 1000)
		snprintf(s, size, _("%ld ms"), ms);
	else
		snprintf(s, size, _("%.1f s"), ms / 1000.0);
}

static void
play_meta_add(char *meta, size_t size, const char *label, long ms)
{
	char	d[32];

	strlcat(meta, "  ", size);
	strlcat(meta, label, size);
	if (ms >= 0) {
		play_duration(ms, d, sizeof d);
		strlcat(meta, " ", size);
		strlcat(meta, d, size);
	}
}

/* The turn's status line: who answered, how fast; under lock. */
static void
play_meta(struct play_turn *tn, int busy)
{
	char	*m = tn->meta;
	size_t	 size = sizeof tn->meta;

	strlcpy(m, tn->model, size);
	if (tn->model[0] != '\0')
		strlcat(m, "  ", size);
	if (tn->who[0] != '\0')
		strlcat(m, tn->who, size);
	else if (tn->pin == 0)
		strlcat(m, _("router's choice"), size);
	if (busy && tn->total_ms < 0) {
		play_meta_add(m, size, _("answering..."),
		    play_ms_since(&tn->start));
		return;
	}
	if (tn->ttft_ms >= 0)
		play_meta_add(m, size, _("first token"), tn->ttft_ms);
	if (tn->total_ms >= 0)
		play_meta_add(m, size, _("total"), tn->total_ms);
	if (tn->flags & PLAY_STOPPED)
		play_meta_add(m, size, _("(stopped)"), -1);
}

/* A pane's conversation as screen lines; under lock. */
static void
play_pane_lines(struct play_pane *p, int w, struct play_lines *L)
{
	struct play_turn	*tn;
	size_t			 i;
	const char		*trunc = _("(truncated)");

	for (i = 0; i < p->nturns; i++) {
		tn = p->turns[i];
		if (i > 0)
			play_lines_add(L, "", 0, NULL, 0, SCR_NORMAL);
		play_wrap(L, tn->user, strlen(tn->user), w, "> ", 2,
		    SCR_TITLE);
		play_wrap(L, tn->reason.data, tn->reason.len, w, NULL, 0,
		    SCR_DIM);
		play_wrap(L, tn->answer.data, tn->answer.len, w, NULL, 0,
		    SCR_NORMAL);
		if (tn->flags & PLAY_TRUNCATED)
			play_lines_add(L, trunc, strlen(trunc), NULL, 0,
			    SCR_WARN);
		if (tn->error != NULL)
			play_wrap(L, tn->error, strlen(tn->error), w, NULL, 0,
			    SCR_ERR);
		play_meta(tn, i + 1 == p->nturns && p->busy);
		play_wrap(L, tn->meta, strlen(tn->meta), w, NULL, 0, SCR_DIM);
	}
}

static void
play_put_line(int y, int x, int w, const struct play_line *l)
{
	char	*s;
	size_t	 i;

	if (l->mark != NULL)
		scr_put(y, x, l->indent, l->color, l->mark);
	s = xmalloc(l->len + 1);
	memcpy(s, l->s, l->len);
	s[l->len] = '\0';
	/* A space for each control character, as wrapped. */
	for (i = 0; i < l->len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	scr_put(y, x + l->indent, w - l->indent, l->color, s);
	free(s);
}

/* A pane in h rows from y, the bottom shown unless scrolled up. */
static size_t
play_draw_pane(struct play_state *st, struct play_pane *p, int y, int x,
    int h, int w)
{
	struct play_lines	 L = { NULL, 0, 0 };
	size_t			 bottom, top, i, over;

	pthread_mutex_lock(&st->lock);
	play_pane_lines(p, w, &L);
	over = L.n > (size_t)h ? L.n - (size_t)h : 0;
	bottom = L.n - (st->scroll < over ? st->scroll : over);
	top = bottom > (size_t)h ? bottom - (size_t)h : 0;
	for (i = top; i < bottom; i++)
		play_put_line(y + (int)(i - top), x, w, &L.v[i]);
	pthread_mutex_unlock(&st->lock);
	free(L.v);
	return (over);
}

static void
play_pin_label(struct play_pane *p, char *s, size_t size)
{
	if (p->pin > 0)
		snprintf(s, size, "#%lld %s", p->pin, p->pin_who);
	else
		strlcpy(s, _("router's choice"), size);
}

static void
play_draw_hint(int y, int x, int h, int w)
{
	struct play_lines	 L = { NULL, 0, 0 };
	const char		*s;
	size_t			 i;

	s = _("Nothing said yet. i or Enter: write a message; m: the model; "
	    "c: pin a channel; v: compare two channels side by side.");
	play_wrap(&L, s, strlen(s), w, NULL, 0, SCR_DIM);
	for (i = 0; i < L.n && (int)i < h; i++)
		play_put_line(y + (int)i, x, w, &L.v[i]);
	free(L.v);
}

static void
play_draw(__unused struct tui *t, void *arg, int y, int x, int h, int w)
{
	struct play_state	*st = arg;
	char			 a[160], b[160];
	size_t			 over, o;
	int			 cx, lw, i, empty;

	play_pin_label(&st->pane[0], a, sizeof a);
	play_pin_label(&st->pane[1], b, sizeof b);
	cx = x + scr_putf(y, x, w, SCR_TITLE, "%s ", _("Model:"));
	cx += scr_putf(y, cx, x + w - cx, SCR_NORMAL, "%s   ",
	    st->model[0] != '\0' ? st->model : _("none (m chooses)"));
	if (st->compare)
		cx += scr_putf(y, cx, x + w - cx, SCR_DIM, "%s: %s | %s: %s",
		    _("left"), a, _("right"), b);
	else
		cx += scr_putf(y, cx, x + w - cx, SCR_DIM, "%s: %s",
		    _("channel"), a);
	if (play_any_busy(st))
		scr_putf(y, cx, x + w - cx, SCR_WARN, "   %s",
		    _("answering... (Esc stops)"));

	st->by = y + 1;
	st->bx = x;
	st->bh = h - 1;
	st->bw = w;
	empty = st->pane[0].nturns == 0 && (!st->compare ||
	    st->pane[1].nturns == 0);
	if (empty)
		play_draw_hint(y + 2, x + 2, h - 2, w - 4);
	if (!st->compare) {
		st->maxscroll = play_draw_pane(st, &st->pane[0], y + 1, x,
		    h - 1, w);
		return;
	}
	lw = (w - 1) / 2;
	scr_putf(y + 1, x, lw, SCR_TITLE, "%s: %s", _("left"), a);
	scr_putf(y + 1, x + lw + 1, w - lw - 1, SCR_TITLE, "%s: %s",
	    _("right"), b);
	for (i = 1; i < h; i++)
		scr_put(y + i, x + lw, 1, SCR_DIM, scr_ascii() ? "|" :
		    "\u2502");
	over = play_draw_pane(st, &st->pane[0], y + 2, x, h - 2, lw);
	o = play_draw_pane(st, &st->pane[1], y + 2, x + lw + 1, h - 2,
	    w - lw - 1);
	st->maxscroll = over > o ? over : o;
}

/* The rest of the view's callbacks. */

static void *
play_open(struct tui *t)
{
	struct play_state	*st = xcalloc(1, sizeof *st);

	st->t = t;
	pthread_mutex_init(&st->lock, NULL);
	st->curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	vault_init();
	return (st);
}

static void
play_load(struct tui *t, void *arg)
{
	struct play_state	*st = arg;

	/* A model to start with; the address and key wait for a send. */
	if (st->model[0] == '\0')
		play_default_model(t, st);
}

/*
 * A request by the playground's key finished: the channel that served
 * it is in its log row. That names who answered a turn the router
 * chose for, the oldest of this send's still waiting.
 */
static void
play_event(struct tui *t, void *arg, const char *topic, json_t *data)
{
	struct play_state	*st = arg;
	struct play_turn	*tn, *best = NULL;
	long long		 key = 0, ch = 0;
	const char		*site = jx_str(data, "site");
	int			 i;

	if (strcmp(topic, "logs") != 0 || st->key_id == 0 ||
	    jx_int(data, "key_id", &key) != 0 || key != st->key_id)
		return;
	jx_int(data, "channel_id", &ch);
	for (i = 0; i < PLAY_PANES && (i == 0 || st->compare); i++) {
		if (st->pane[i].nturns == 0)
			continue;
		tn = st->pane[i].turns[st->pane[i].nturns - 1];
		if (tn->want_log && (tn->pin == 0 || tn->pin == ch) &&
		    (best == NULL || tn->start.tv_sec < best->start.tv_sec ||
		    (tn->start.tv_sec == best->start.tv_sec &&
		    tn->start.tv_nsec < best->start.tv_nsec)))
			best = tn;
	}
	if (best == NULL)
		return;
	best->want_log = 0;
	if (best->pin == 0 && ch > 0)
		snprintf(best->who, sizeof best->who, "#%lld %s", ch,
		    site != NULL ? site : "?");
	tui_dirty(t);
}

static void
play_tick(struct tui *t, void *arg)
{
	struct play_state	*st = arg;
	int			 i;

	for (i = 0; i < PLAY_PANES; i++)
		play_reap(st, &st->pane[i], 0);
	/* The running clock of an answer in progress. */
	if (play_any_busy(st))
		tui_dirty(t);
}

/* Another view is shown: what is streaming here stops. */
static void
play_leave(__unused struct tui *t, void *arg)
{
	play_cancel(arg);
}

static void
play_close(void *arg)
{
	struct play_state	*st = arg;
	int			 i;

	play_cancel(st);
	for (i = 0; i < PLAY_PANES; i++) {
		play_reap(st, &st->pane[i], 1);
		play_pane_clear(st, &st->pane[i]);
	}
	vault_secret_free(st->secret);
	free(st->listen);
	if (st->curl_ok)
		curl_global_cleanup();
	pthread_mutex_destroy(&st->lock);
	free(st);
}
