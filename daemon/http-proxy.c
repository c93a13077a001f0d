/*
 * The proxy flow for the /v1 relay surfaces: read and check the request,
 * authenticate the key, pick the channels serving the model in this
 * format, and forward to them in turn until one answers. A success is
 * relayed to the client as it arrives: stream events one by one the
 * moment each is complete, other bodies chunk by chunk. Failover happens
 * only before the first byte reached the client; after that a failure
 * ends the stream with an in-band error event. Every request becomes one
 * log record for the log writer; this thread never writes SQLite.
 *
 * A channel whose site does not speak the client's format gets the
 * request converted (xform.h): the formats to try on a channel come from
 * relay_upstream_formats(), the one that worked last is tried first, and
 * a protocol error ("no such endpoint") moves on to the next format on
 * the same channel. A converted stream goes event by event through the
 * upstream format's parser and the client format's writer; a converted
 * whole reply is held (up to the max response setting) and rewritten.
 * proxy_candidates() is the seam where the routing engine plugs in: the
 * matched route's channels become router candidates with their runtime
 * state (routestate.c), and each attempt's outcome goes back there.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "compat.h"
#include "daemon.h"
#include "journal.h"
#include "log.h"
#include "proxylog.h"
#include "relay.h"
#include "request.h"
#include "router.h"
#include "routestate.h"
#include "snapshot.h"
#include "sse.h"
#include "upstream.h"
#include "usage.h"
#include "vault.h"
#include "xform.h"
#include "xmalloc.h"

#define PROXY_MAX_HEADERS	64
#define PROXY_ERRBODY_MAX	(64 * 1024)
#define PROXY_COPY_MAX		(2 * 1024 * 1024)
#define PROXY_JOIN_MAX		(64 * 1024)	/* a whole body sent with its head */
#define PROXY_FORMAT_TTL_MS	(6 * 3600 * 1000LL)	/* format memory */
#define PROXY_CLIENT_CHECK_MS	250	/* hang-up checks while quiet */

/* A surface and its usage format (which surfaces stream: request.c). */
struct proxy_surface {
	enum relay_format	 fmt;
	enum usage_format	 ufmt;
};

/* Indexed by relay_format. */
static const struct proxy_surface proxy_surfaces[RELAY_FORMAT_COUNT] = {
	[RELAY_CHAT] = { RELAY_CHAT, USAGE_OPENAI_CHAT },
	[RELAY_COMPLETIONS] = { RELAY_COMPLETIONS, USAGE_OPENAI_COMPLETIONS },
	[RELAY_EMBEDDINGS] = { RELAY_EMBEDDINGS, USAGE_OPENAI_EMBEDDINGS },
	[RELAY_IMAGES] = { RELAY_IMAGES, USAGE_OPENAI_CHAT },
	[RELAY_RESPONSES] = { RELAY_RESPONSES, USAGE_OPENAI_RESPONSES },
	[RELAY_MESSAGES] = { RELAY_MESSAGES, USAGE_ANTHROPIC },
	[RELAY_COUNT_TOKENS] = { RELAY_COUNT_TOKENS, USAGE_ANTHROPIC },
};

/*
 * Client headers passed to the upstream (metapi-node.md 1.6): a short
 * allowlist, plus prefixes per format. Credentials, hop-by-hop headers
 * and metapi's own are never passed.
 */
static const char *const proxy_pass_headers[] = {
	"accept-language", "conversation-id", "conversation_id", "openai-beta",
	"originator", "session-id", "session_id", "user-agent",
	"x-codex-beta-features", "x-codex-turn-metadata", "x-codex-turn-state",
};
static const char *const proxy_pass_prefixes_messages[] = {
	"anthropic-", "x-claude-", "x-stainless-",
};
static const char *const proxy_pass_prefixes_responses[] = {
	"openai-", "x-openai-", "x-stainless-", "chatgpt-",
};

/* One downstream request. */
struct proxy_req {
	struct mg_connection		*conn;
	const struct proxy_surface	*surf;
	struct snapshot			*snap;
	const struct snap_key		*key;
	char				*raw;		/* body as received, files in */
	size_t				 rawlen;
	struct request			 in;		/* the body, read */
	char				*send;		/* body sent upstream */
	const struct snap_route		*route;
	enum snap_match			 how;
	const char			*fwd;		/* model sent upstream */
	char				 sticky[192];	/* session key, or "" */
	struct proxylog_rec		*log;
	char				 rid[JOURNAL_RID_LEN];	/* X-Request-Id */
	struct buf			 wire;		/* a head or chunk framed */
	struct timespec			 t0;
	json_t				*hub;		/* as Chat, when converted */
	json_t				*history;	/* Responses: earlier turns */
	int				 force_convert;	/* history must be sent */
	const char			*prev_unknown;	/* a previous id not here */
	long long			 pin;		/* X-Metapi-Channel, or 0 */
	int				 cfd;		/* client socket; -1 not
							 * looked up, -2 not found */
	struct timespec			 tcheck;	/* last looked at it */
};

/* A converted attempt's state, only allocated when converting. */
struct proxy_conv {
	struct xf_parser		 p;		/* the upstream's format */
	struct xf_writer		 w;		/* the client's format */
	struct buf			 out;		/* written, not yet sent */
	struct xf_final			 fin;		/* a whole reply */
};

/* One attempt at one channel. */
struct proxy_attempt {
	struct proxy_req		*rq;
	const struct snap_channel	*ch;
	CURL				*curl;
	long				 status;
	int				 got_first;
	int				 committed;	/* head sent to client */
	int				 client_gone;
	int				 sse;		/* relaying events */
	int				 ended;		/* saw the last event */
	int				 upstream_error; /* it was an error event */
	struct timespec			 tstart;	/* the attempt began */
	struct timespec			 tfirst;
	struct timespec			 tlast;
	struct buf			 errbody;	/* a failure's body */
	struct buf			 copy;		/* a body for usage */
	struct sse_parser		 parser;
	struct usage			 usage;
	char				*error;
	enum relay_format		 up;		/* the upstream's format */
	char				*send;		/* converted body */
	struct proxy_conv		*conv;		/* NULL: same format */
	int				 whole;		/* sent unchunked */
	int				 accounted;	/* proxy_account() done */
	json_t				*json;		/* a whole reply, parsed */
	int				 spilled;	/* too big to hold */
	char				 retry_after[64]; /* a failure's */
	const char			*key;		/* the channel's, while
							 * the transfer runs */
};

static void	proxy_seal(struct proxy_req *, struct proxy_attempt *);
static void	proxy_status_error(struct proxy_attempt *);
static int	proxy_error_shaped(enum relay_format, const json_t *);

#define PROXY_REDACTED	"[redacted]"

/*
 * Cut every copy of secret out of b, in place. Some upstreams repeat the
 * key they were sent in their error ("invalid api key sk-..."), and that
 * body goes to the client: the channel's key must not go with it. A key
 * kept with its "sk-" prefix is also looked for without it.
 */
static void
proxy_redact(struct buf *b, const char *secret)
{
	const char	*forms[2];
	size_t		 i, n, len, rl = strlen(PROXY_REDACTED);
	char		*p;

	if (b->len == 0 || secret == NULL)
		return;
	forms[0] = secret;
	forms[1] = strncmp(secret, "sk-", 3) == 0 ? secret + 3 : NULL;
	for (i = 0; i < nitems(forms); i++) {
		/* Short strings could be anything: a key is not that short. */
		if (forms[i] == NULL || (len = strlen(forms[i])) < 12)
			continue;
		n = 0;
		while ((p = memmem(b->data + n, b->len - n, forms[i], len)) !=
		    NULL) {
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
			memcpy(p, PROXY_REDACTED, rl);	/* within b: no NUL */
			memmove(p + rl, p + len, b->data + b->len - (p + len));
			b->len -= len - rl;
			n = (size_t)(p - b->data) + rl;
		}
		b->data[b->len] = '\0';
	}
}

/* The same for a string of ours (an error text that will be logged). */
static void
proxy_redact_str(char **s, const char *secret)
{
	struct buf	b;

	if (*s == NULL || secret == NULL)
		return;
	buf_init(&b, SIZE_MAX);
	buf_addstr(&b, *s);
	proxy_redact(&b, secret);
	free(*s);
	*s = xstrdup(buf_cstr(&b));
	buf_free(&b);
}

static long long
proxy_ms(const struct timespec *a, const struct timespec *b)
{
	return ((b->tv_sec - a->tv_sec) * 1000LL +
	    (b->tv_nsec - a->tv_nsec) / 1000000LL);
}

/* Read the whole body, at most max bytes: -1 (413 sent) when larger. */
static int
proxy_read_body(struct proxy_req *rq, long long max)
{
	struct buf	b;
	char		tmp[16384];
	int		n;

	buf_init(&b, (size_t)max);
	while ((n = mg_read(rq->conn, tmp, sizeof tmp)) > 0) {
		if (buf_add(&b, tmp, n) != 0) {
			buf_free(&b);
			http_error(rq->conn, 413, "invalid_request_error",
			    "request_too_large", "request body larger than %lld "
			    "bytes", max);
			return (-1);
		}
	}
	rq->rawlen = b.len;
	rq->raw = b.len > 0 ? b.data : xstrdup("");
	return (0);
}

/* A Chat stream asks for its usage chunk (request_ask_usage()). */
static void
proxy_prepare_body(struct proxy_req *rq)
{
	if (request_ask_usage(&rq->in))
		rq->send = json_dumps(rq->in.body, JSON_COMPACT);
}

/* Routing state of one request: the route's candidates and channels. */
struct proxy_route {
	struct router_candidate		*cands;
	const struct snap_channel	**chs;
	size_t				 n;
	struct router_request		 req;
};

/*
 * The client's conversation, for sticky sessions: an explicit session
 * header (x-session-id, Codex's session_id / conversation_id), else
 * Claude Code's metadata.user_id, which names its session. The key is
 * "downstream key|model|session".
 */
static const char *const proxy_session_headers[] = {
	"x-session-id", "session_id", "session-id", "conversation_id",
	"conversation-id",
};

static void
proxy_session_key(struct proxy_req *rq)
{
	const char	*sid = NULL;
	size_t		 i;

	rq->sticky[0] = '\0';
	if (!rq->snap->limits.sticky)
		return;
	for (i = 0; i < nitems(proxy_session_headers) && sid == NULL; i++)
		sid = mg_get_header(rq->conn, proxy_session_headers[i]);
	if (sid == NULL)
		sid = request_session(&rq->in);
	if (sid != NULL && *sid != '\0')
		snprintf(rq->sticky, sizeof rq->sticky, "%lld|%s|%s",
		    rq->key->id, rq->in.model, sid);
}

/*
 * The channel this session is bound to, when it can still serve: it is
 * tried first, ahead of the router's draw. -1: no such channel.
 */
static long
proxy_sticky_pick(struct proxy_req *rq, struct proxy_route *pr)
{
	long long	ch;
	size_t		i;

	if (rq->sticky[0] == '\0' ||
	    (ch = routestate_sticky_get(rq->sticky, pr->req.now)) == 0)
		return (-1);
	for (i = 0; i < pr->n; i++) {
		if (pr->cands[i].channel_id != ch)
			continue;
		if (pr->cands[i].tried || !pr->cands[i].enabled ||
		    pr->cands[i].model_mismatch ||
		    pr->cands[i].st.cooldown_until > pr->req.now)
			break;
		return ((long)i);
	}
	routestate_sticky_drop(rq->sticky);
	return (-1);
}

/* The matched route's channels as router candidates. */
static void
proxy_route_init(struct proxy_req *rq, struct proxy_route *pr)
{
	const struct snap_route	*r = rq->route;
	size_t			 n = r->nchans > 0 ? r->nchans : 1;

	pr->cands = xcalloc(n, sizeof *pr->cands);
	pr->chs = xcalloc(n, sizeof *pr->chs);
	memset(&pr->req, 0, sizeof pr->req);
	pr->req.strategy = r->strategy;
	pr->req.now = routestate_now();
	pr->n = routestate_candidates(rq->snap, r, rq->how, rq->in.model,
	    (int)rq->surf->fmt, pr->req.now, pr->cands, pr->chs);
}

static void
proxy_route_free(struct proxy_route *pr)
{
	free(pr->cands);
	free(pr->chs);
}

/*
 * When every channel of the route is cooling or behind an open breaker, a
 * request that has tried nothing yet still gets one attempt: the pick as
 * if no channel were cooling. A certain 503 helps no one; an upstream
 * that recovered answers, and one that did not is only tried once more.
 */
static long
proxy_pick_cooling(struct proxy_req *rq, struct proxy_route *pr)
{
	struct router_candidate	*c;
	struct router_plan	*plan;
	size_t			 i;
	long			 k;

	for (i = 0; i < pr->n; i++)
		if (pr->cands[i].tried)
			return (-1);
	c = xcalloc(pr->n > 0 ? pr->n : 1, sizeof *c);
	memcpy(c, pr->cands, pr->n * sizeof *c);
	for (i = 0; i < pr->n; i++) {
		c[i].st.cooldown_until = 0;
		c[i].st.last_fail_at = 0;
		c[i].site_health.breaker_until = 0;
		c[i].model_health.breaker_until = 0;
	}
	plan = router_plan_new(c, pr->n, &rq->snap->rset, &pr->req);
	k = router_pick(plan, randombytes_uniform(1000000) / 1000000.0);
	router_plan_free(plan);
	free(c);
	return (k);
}

/*
 * A pinned channel (X-Metapi-Channel: the playground, a user testing one
 * channel): that one only, once, if the route has it and it is enabled,
 * cooling or not. No failover: the point is to see what it does.
 */
static const struct snap_channel *
proxy_pinned(struct proxy_req *rq, struct proxy_route *pr)
{
	size_t	i;

	for (i = 0; i < pr->n; i++) {
		if (pr->cands[i].channel_id != rq->pin)
			continue;
		if (pr->cands[i].tried || !pr->cands[i].enabled ||
		    pr->cands[i].model_mismatch)
			return (NULL);
		pr->cands[i].tried = 1;
		routestate_selected(pr->cands[i].channel_id, pr->req.now);
		return (pr->chs[i]);
	}
	return (NULL);
}

/*
 * The next channel to try: the router's pick among the candidates not
 * tried yet in this request (only those speaking the client's format are
 * eligible), or NULL when none is left.
 */
static const struct snap_channel *
proxy_candidates(struct proxy_req *rq, struct proxy_route *pr)
{
	struct router_plan	*plan;
	long			 i;

	if (rq->pin > 0)
		return (proxy_pinned(rq, pr));

	if ((i = proxy_sticky_pick(rq, pr)) >= 0) {
		pr->cands[i].tried = 1;
		routestate_selected(pr->cands[i].channel_id, pr->req.now);
		return (pr->chs[i]);
	}
	plan = router_plan_new(pr->cands, pr->n, &rq->snap->rset, &pr->req);
	i = router_pick(plan, randombytes_uniform(1000000) / 1000000.0);
	router_plan_free(plan);
	if (i < 0)
		i = proxy_pick_cooling(rq, pr);
	if (i < 0)
		return (NULL);
	pr->cands[i].tried = 1;
	routestate_selected(pr->cands[i].channel_id, pr->req.now);
	return (pr->chs[i]);
}

/* Put the forwarded model into the body sent upstream when it differs. */
static void
proxy_set_model(struct proxy_req *rq, const struct snap_channel *ch)
{
	rq->fwd = snapshot_forward_model(rq->route, rq->how, rq->in.model, ch);
	if (!request_set_model(&rq->in, rq->fwd))
		return;
	free(rq->send);
	rq->send = json_dumps(rq->in.body, JSON_COMPACT);
}

/* Tell the runtime state how an attempt went. */
static void
proxy_report(struct proxy_req *rq, struct proxy_attempt *at, int ok,
    long long latency, double cost)
{
	char		*text;
	long long	 now = routestate_now();

	text = at->errbody.len > 0 ? xstrndup(at->errbody.data,
	    at->errbody.len) : xstrdup(at->error != NULL ? at->error : "");
	routestate_report(rq->snap, at->ch, at->ch->source_model,
	    rq->route->strategy, ok, (int)at->status, text, ok ? 0 :
	    router_reset_at(at->retry_after, text, now), latency, cost, now);
	free(text);
}

static int
proxy_header_passes(const char *name, enum relay_format fmt)
{
	size_t	i;

	for (i = 0; i < nitems(proxy_pass_headers); i++)
		if (strcasecmp(name, proxy_pass_headers[i]) == 0)
			return (1);
	if (fmt == RELAY_MESSAGES || fmt == RELAY_COUNT_TOKENS) {
		for (i = 0; i < nitems(proxy_pass_prefixes_messages); i++)
			if (strncasecmp(name, proxy_pass_prefixes_messages[i],
			    strlen(proxy_pass_prefixes_messages[i])) == 0)
				return (1);
	}
	if (fmt == RELAY_RESPONSES) {
		for (i = 0; i < nitems(proxy_pass_prefixes_responses); i++)
			if (strncasecmp(name, proxy_pass_prefixes_responses[i],
			    strlen(proxy_pass_prefixes_responses[i])) == 0)
				return (1);
	}
	return (0);
}

/* Send the response head for a success: chunked, never buffered. */
static int
proxy_send_head(struct proxy_attempt *at)
{
	struct mg_connection	*conn = at->rq->conn;
	char			*ct = NULL;

	if (at->conv != NULL)
		ct = "text/event-stream";	/* only streams are converted so */
	else
		curl_easy_getinfo(at->curl, CURLINFO_CONTENT_TYPE, &ct);
	http_head_start(&at->rq->wire, conn, (int)at->status);
	http_head_add(&at->rq->wire, "Content-Type", ct != NULL ? ct :
	    "application/json");
	http_head_add(&at->rq->wire, "Cache-Control", "no-cache");
	http_head_add(&at->rq->wire, "X-Accel-Buffering", "no");
	http_head_add(&at->rq->wire, "Transfer-Encoding", "chunked");
	http_head_add(&at->rq->wire, "X-Request-Id", at->rq->rid);
	http_head_end(&at->rq->wire, conn);
	if (http_write(conn, &at->rq->wire) != 0)
		return (-1);
	at->committed = 1;
	return (0);
}

static int
proxy_client_write(struct proxy_attempt *at, const void *p, size_t len)
{
	if (len == 0 || at->client_gone)
		return (at->client_gone ? -1 : 0);
	if (http_chunk(at->rq->conn, &at->rq->wire, p, len) != 0) {
		at->client_gone = 1;
		return (-1);
	}
	return (0);
}

/* Is this chat chunk only the usage the client did not ask for? */
static int
proxy_usage_only(const json_t *chunk)
{
	json_t	*choices = json_object_get(chunk, "choices");

	return (json_object_get(chunk, "usage") != NULL &&
	    json_is_array(choices) && json_array_size(choices) == 0);
}

/*
 * Events that end a stream in each format. A stream that stops without
 * one was cut, even when the connection closed cleanly.
 */
static const char *const proxy_last_events[] = {
	"message_stop", "response.completed", "response.failed",
	"response.incomplete", "error",
};

static int
proxy_is_last(const struct sse_event *ev)
{
	size_t	i;

	if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0)
		return (1);
	for (i = 0; ev->event != NULL && i < nitems(proxy_last_events); i++)
		if (strcmp(ev->event, proxy_last_events[i]) == 0)
			return (1);
	return (0);
}

/* Anthropic's "event: error" or Responses' response.failed. */
static int
proxy_error_named(const struct sse_event *ev)
{
	return (ev->event != NULL && (strcmp(ev->event, "error") == 0 ||
	    strcmp(ev->event, "response.failed") == 0));
}

/*
 * An error event in any format: a named one (proxy_error_named()), or a
 * chat chunk that is {"error": ...}. *msg gets the upstream's words.
 */
static int
proxy_error_event(const struct sse_event *ev, const json_t *j, char **msg)
{
	const json_t	*err = NULL;
	const char	*text;

	if (ev->event != NULL && strcmp(ev->event, "response.failed") == 0)
		err = json_object_get(json_object_get(j, "response"), "error");
	else if ((ev->event != NULL && strcmp(ev->event, "error") == 0) ||
	    (ev->event == NULL && json_object_get(j, "error") != NULL &&
	    json_object_get(j, "choices") == NULL))
		err = json_object_get(j, "error");
	else
		return (0);
	text = json_string_value(json_object_get(err, "message"));
	free(*msg);
	xasprintf(msg, "upstream error event: %s", text != NULL ? text :
	    ev->event != NULL ? ev->event : "error");
	return (1);
}

/* One complete upstream event: read its usage, relay its bytes. */
static int
proxy_event(const struct sse_event *ev, void *arg, struct err *e)
{
	struct proxy_attempt	*at = arg;
	struct buf		 red = { NULL, 0, 0, 0 };
	json_t			*j = NULL;
	int			 skip = 0, rc = 0;

	if (proxy_is_last(ev))
		at->ended = 1;
	/* Only events that may hold usage or an error are worth a parse. */
	if (ev->data_len > 0 && ev->data[0] == '{' &&
	    (proxy_error_named(ev) || usage_text_may_have(ev->data,
	    ev->data_len) || memmem(ev->data, ev->data_len, "\"error\"",
	    7) != NULL))
		j = json_loadb(ev->data, ev->data_len, 0, NULL);
	/*
	 * The upstream ended the stream with an error of its own, which may
	 * say the key it was sent: neither the client nor the log gets it.
	 */
	if (proxy_error_event(ev, j, &at->error)) {
		at->ended = 1;
		at->upstream_error = 1;
		proxy_redact_str(&at->error, at->key);
		buf_init(&red, SIZE_MAX);
		buf_add(&red, ev->raw, ev->raw_len);
		proxy_redact(&red, at->key);
	}
	if (j != NULL) {
		usage_from_event(&at->usage, at->rq->surf->ufmt, j);
		skip = at->rq->in.strip_usage && proxy_usage_only(j);
		json_decref(j);
	}
	if (!skip && (red.data != NULL ? proxy_client_write(at, red.data,
	    red.len) : proxy_client_write(at, ev->raw, ev->raw_len)) != 0)
		rc = -1;
	buf_free(&red);
	if (rc != 0)
		err_set(e, ERR_BUSY, "client went away");
	return (rc);
}

/* Send what the converting writer wrote. */
static int
proxy_conv_flush(struct proxy_attempt *at)
{
	struct buf	*out = &at->conv->out;
	int		 rc;

	rc = proxy_client_write(at, out->data, out->len);
	buf_reset(out);
	return (rc);
}

/* One normalized step of a converted reply. */
static int
proxy_conv_delta(const struct xf_delta *d, void *arg)
{
	struct proxy_attempt	*at = arg;
	struct proxy_conv	*cv = at->conv;

	switch (d->kind) {
	case XF_D_USAGE:
		xf_usage_merge(&at->usage, d->usage);
		break;
	case XF_D_ERROR:
		free(at->error);
		xasprintf(&at->error, "upstream error event: %.*s",
		    (int)d->len, d->text);
		proxy_redact_str(&at->error, at->key);
		at->upstream_error = 1;
		at->ended = 1;
		break;
	case XF_D_DONE:
		at->ended = 1;
		break;
	default:
		break;
	}
	if (!at->rq->in.stream) {
		xf_final_add(&cv->fin, d);	/* a whole reply is wanted */
		return (0);
	}
	return (xf_write_delta(&cv->w, d, &cv->out));
}

/* One complete upstream event of a converted stream. */
static int
proxy_conv_event(const struct sse_event *ev, void *arg, struct err *e)
{
	struct proxy_attempt	*at = arg;
	json_t			*j = NULL;

	if (ev->data_len > 0 && ev->data[0] == '{')
		j = json_loadb(ev->data, ev->data_len, 0, NULL);
	xf_parse_event(&at->conv->p, ev->event, j, ev->data, ev->data_len,
	    proxy_conv_delta, at);
	json_decref(j);
	if (at->upstream_error)	/* its words, in the client's format */
		proxy_redact(&at->conv->out, at->key);
	if (at->rq->in.stream && proxy_conv_flush(at) != 0) {
		err_set(e, ERR_BUSY, "client went away");
		return (-1);
	}
	return (0);
}

/*
 * Bytes of a converted success. Events are converted as they come; a
 * whole reply is held until it is complete, up to the response limit.
 */
static size_t
proxy_conv_write(struct proxy_attempt *at, char *p, size_t len)
{
	struct err	e = { ERR_OK, NULL };

	if (!at->sse) {
		if (buf_add(&at->copy, p, len) != 0) {
			xasprintf(&at->error, "the upstream reply is larger "
			    "than %zu bytes, the limit for converting it",
			    at->copy.max);
			return (0);
		}
		return (len);
	}
	if (at->rq->in.stream && !at->committed) {
		if (proxy_send_head(at) != 0) {
			at->client_gone = 1;
			return (0);
		}
		at->rq->log->ttfb_ms = proxy_ms(&at->rq->t0, &at->tfirst);
	}
	if (sse_feed(&at->parser, p, len, proxy_conv_event, at, &e) != 0) {
		if (!at->client_gone)
			xasprintf(&at->error, "bad event stream: %s", e.msg);
		err_clear(&e);
		return (0);
	}
	return (len);
}

/*
 * A whole (not event stream) reply is held until it is complete and then
 * sent with its length: an upstream that cuts it short has sent the
 * client nothing, so the next channel can still answer, and the client
 * never takes a cut body for a whole one. A reply larger than the
 * response limit is relayed as it comes after all.
 */
static size_t
proxy_hold(struct proxy_attempt *at, char *p, size_t len)
{
	if (buf_add(&at->copy, p, len) == 0)
		return (len);
	at->spilled = 1;
	if (proxy_send_head(at) != 0) {
		at->client_gone = 1;
		return (0);
	}
	at->rq->log->ttfb_ms = proxy_ms(&at->rq->t0, &at->tfirst);
	if (proxy_client_write(at, at->copy.data, at->copy.len) != 0 ||
	    proxy_client_write(at, p, len) != 0)
		return (0);
	buf_reset(&at->copy);		/* no usage from a part */
	at->copy.max = 0;
	return (len);
}

/*
 * A held reply, complete: its head with the length, then the body. A 2xx
 * that is not JSON (garbage, or cut short under a matching length) is
 * the channel's failure, like an unreadable converted reply: nothing has
 * reached the client, so the next channel can answer.
 */
static void
proxy_send_whole(struct proxy_req *rq, struct proxy_attempt *at)
{
	char		*ct = NULL, lenbuf[32];
	struct timespec	 now;
	json_error_t	 jerr;

	if (at->copy.len == 0) {
		/* Nothing a client could use: fail over, or a 502. */
		xasprintf(&at->error, "the upstream's HTTP %ld reply was empty",
		    at->status);
		at->status = 502;
		return;
	}
	if (at->copy.len <= PROXY_COPY_MAX && (at->json = json_loadb(
	    at->copy.data, at->copy.len, 0, &jerr)) == NULL) {
		xasprintf(&at->error, "the upstream reply is not JSON: %s",
		    jerr.text);
		at->status = 502;
		return;
	}

	curl_easy_getinfo(at->curl, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(lenbuf, sizeof lenbuf, "%zu", at->copy.len);
	http_head_start(&rq->wire, rq->conn, (int)at->status);
	http_head_add(&rq->wire, "Content-Type", ct != NULL ? ct :
	    "application/json");
	http_head_add(&rq->wire, "Content-Length", lenbuf);
	http_head_add(&rq->wire, "Cache-Control", "no-cache");
	http_head_add(&rq->wire, "X-Request-Id", rq->rid);
	http_head_end(&rq->wire, rq->conn);
	/* A small body goes with its head; a big one is not copied again. */
	if (at->copy.len <= PROXY_JOIN_MAX)
		buf_add(&rq->wire, at->copy.data, at->copy.len);
	clock_gettime(CLOCK_MONOTONIC, &now);
	rq->log->ttfb_ms = proxy_ms(&rq->t0, &now);
	at->committed = at->whole = 1;
	proxy_seal(rq, at);
	if (http_write(rq->conn, &rq->wire) != 0 ||
	    (at->copy.len > PROXY_JOIN_MAX && mg_write(rq->conn,
	    at->copy.data, at->copy.len) != (int)at->copy.len))
		at->client_gone = 1;
}

static size_t
proxy_curl_write(char *p, size_t size, size_t n, void *arg)
{
	struct proxy_attempt	*at = arg;
	struct err		 e = { ERR_OK, NULL };
	size_t			 len = size * n;
	char			*ct = NULL;

	clock_gettime(CLOCK_MONOTONIC, &at->tlast);
	if (!at->got_first) {
		at->got_first = 1;
		at->tfirst = at->tlast;
		curl_easy_getinfo(at->curl, CURLINFO_RESPONSE_CODE, &at->status);
		curl_easy_getinfo(at->curl, CURLINFO_CONTENT_TYPE, &ct);
		at->sse = ct != NULL && strncasecmp(ct, "text/event-stream",
		    17) == 0;
	}
	if (at->status < 200 || at->status >= 300) {
		/* Held back: another channel may still answer. */
		if (at->errbody.len < PROXY_ERRBODY_MAX)
			buf_add(&at->errbody, p, len < PROXY_ERRBODY_MAX -
			    at->errbody.len ? len : PROXY_ERRBODY_MAX -
			    at->errbody.len);
		return (len);
	}
	if (at->conv != NULL)
		return (proxy_conv_write(at, p, len));
	if (!at->sse && !at->spilled)
		return (proxy_hold(at, p, len));
	if (!at->committed) {
		if (proxy_send_head(at) != 0) {
			at->client_gone = 1;
			return (0);
		}
		at->rq->log->ttfb_ms = proxy_ms(&at->rq->t0, &at->tfirst);
	}
	if (at->sse) {
		if (sse_feed(&at->parser, p, len, proxy_event, at, &e) != 0) {
			if (!at->client_gone)
				xasprintf(&at->error, "bad event stream: %s",
				    e.msg);
			err_clear(&e);
			return (0);
		}
		return (len);
	}
	return (proxy_client_write(at, p, len) == 0 ? len : 0);
}

/*
 * A stream's head goes to the client as soon as the upstream's head is
 * complete, not at its first event: a client waiting on a model that
 * thinks before it writes sees its 200 at once. This commits the attempt
 * (no failover after it), as the first byte would. Whole replies are
 * held (proxy_hold()), so their heads wait.
 */
static void
proxy_curl_head_end(struct proxy_attempt *at)
{
	char	*ct = NULL;
	long	 status = 0;

	curl_easy_getinfo(at->curl, CURLINFO_RESPONSE_CODE, &status);
	if (!at->rq->in.stream || at->committed || status < 200 ||
	    status >= 300)
		return;
	curl_easy_getinfo(at->curl, CURLINFO_CONTENT_TYPE, &ct);
	if (ct == NULL || strncasecmp(ct, "text/event-stream", 17) != 0)
		return;
	at->status = status;
	at->sse = 1;
	if (proxy_send_head(at) != 0) {
		at->client_gone = 1;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &at->tlast);
	at->rq->log->ttfb_ms = proxy_ms(&at->rq->t0, &at->tlast);
}

/*
 * Response headers: only Retry-After is kept, for a limit's reset time
 * (router_reset_at()); everything else the proxy needs curl tells. The
 * empty line ends a head (proxy_curl_head_end()).
 */
static size_t
proxy_curl_header(char *p, size_t size, size_t n, void *arg)
{
	struct proxy_attempt	*at = arg;
	size_t			 len = size * n, k;

	if ((len == 2 && p[0] == '\r' && p[1] == '\n') ||
	    (len == 1 && p[0] == '\n')) {
		proxy_curl_head_end(at);
		/* A 0 would abort the transfer: the client is gone. */
		return (at->client_gone ? 0 : size * n);
	}
	if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		p += 12;
		len -= 12;
		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
		    p[len - 1] == ' '))
			len--;
		k = len < sizeof at->retry_after - 1 ? len :
		    sizeof at->retry_after - 1;
		memcpy(at->retry_after, p, k);
		at->retry_after[k] = '\0';
	}
	return (size * n);
}

/*
 * A hang-up shows nowhere while nothing is written to the client: before
 * the first byte (waiting for it, or holding a whole reply) and while a
 * stream's upstream is silent. Then look at the client's socket every
 * PROXY_CLIENT_CHECK_MS; a request answered sooner never looks (finding
 * the socket takes a scan of /proc/self/fd, done once).
 */
static int
proxy_client_left(struct proxy_req *rq, const struct timespec *since,
    const struct timespec *now)
{
	if (rq->cfd == -2 || proxy_ms(since, now) < PROXY_CLIENT_CHECK_MS ||
	    (rq->tcheck.tv_sec != 0 && proxy_ms(&rq->tcheck, now) <
	    PROXY_CLIENT_CHECK_MS))
		return (0);
	rq->tcheck = *now;
	if (rq->cfd == -1 && (rq->cfd = http_client_fd(rq->conn)) == -1)
		rq->cfd = -2;
	return (rq->cfd >= 0 && http_client_gone(rq->cfd));
}

/* Timeouts curl cannot express: first byte and silence between bytes. */
static int
proxy_curl_progress(void *arg, __unused curl_off_t dt, __unused curl_off_t dn,
    __unused curl_off_t ut, __unused curl_off_t un)
{
	struct proxy_attempt	*at = arg;
	const struct snap_limits *l = &at->rq->snap->limits;
	struct timespec		 now;

	if (at->client_gone)
		return (1);
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Quiet since the request came, or since the upstream's last byte. */
	if (proxy_client_left(at->rq, at->got_first ? &at->tlast :
	    &at->rq->t0, &now)) {
		at->client_gone = 1;
		return (1);
	}
	/* Per attempt: the next channel gets its own full wait. */
	if (!at->got_first && l->first_byte_sec > 0 &&
	    proxy_ms(&at->tstart, &now) > l->first_byte_sec * 1000) {
		xasprintf(&at->error, "no first byte within %ld s",
		    l->first_byte_sec);
		return (1);
	}
	if (at->got_first && l->idle_sec > 0 &&
	    proxy_ms(&at->tlast, &now) > l->idle_sec * 1000) {
		xasprintf(&at->error, "upstream silent for %ld s", l->idle_sec);
		return (1);
	}
	return (0);
}

/* Build the upstream headers: auth, content, passed client headers, site. */
static struct curl_slist *
proxy_headers(struct proxy_req *rq, const struct snap_channel *ch,
    enum relay_format up, const char *key, char **site_headers)
{
	const struct mg_request_info	*ri = mg_get_request_info(rq->conn);
	struct curl_slist		*h = NULL;
	char				*line;
	int				 i, anthropic;

	anthropic = up == RELAY_MESSAGES || up == RELAY_COUNT_TOKENS;
	line = relay_auth_line(ch->platform, up, key);
	h = curl_slist_append(h, line);
	explicit_bzero(line, strlen(line));
	free(line);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, rq->in.stream ? "Accept: text/event-stream" :
	    "Accept: application/json");
	if (anthropic && mg_get_header(rq->conn, "anthropic-version") == NULL)
		h = curl_slist_append(h, "anthropic-version: 2023-06-01");
	for (i = 0; i < ri->num_headers; i++) {
		/* A format's own headers mean nothing to another format. */
		if (!proxy_header_passes(ri->http_headers[i].name,
		    up == rq->surf->fmt ? up : RELAY_CHAT))
			continue;
		xasprintf(&line, "%s: %s", ri->http_headers[i].name,
		    ri->http_headers[i].value);
		h = curl_slist_append(h, line);
		free(line);
	}
	for (i = 0; site_headers != NULL && site_headers[i] != NULL; i++)
		h = curl_slist_append(h, site_headers[i]);
	/* curl would add "Expect: 100-continue" to large bodies. */
	h = curl_slist_append(h, "Expect:");
	return (h);
}

/*
 * Per-thread easy and multi handles: reused, so connections to sites stay
 * open (libcurl keeps them in the multi handle's pool). They go when
 * their civetweb worker thread ends (http_thread_done). The DNS cache and
 * TLS sessions are shared by every worker through one share handle; the
 * connection pool is not, as libcurl's shared pool is not safe across
 * threads (its known bug "A shared connection cache is not thread-safe").
 */
static __thread CURL	*proxy_curl_handle;
static __thread CURLM	*proxy_multi_handle;
static CURLSH		*proxy_share;
static pthread_mutex_t	 proxy_share_locks[CURL_LOCK_DATA_LAST];
static pthread_once_t	 proxy_share_once = PTHREAD_ONCE_INIT;

static void
proxy_share_lock(__unused CURL *c, curl_lock_data data,
    __unused curl_lock_access access, __unused void *arg)
{
	pthread_mutex_lock(&proxy_share_locks[data]);
}

static void
proxy_share_unlock(__unused CURL *c, curl_lock_data data, __unused void *arg)
{
	pthread_mutex_unlock(&proxy_share_locks[data]);
}

/* Made once, kept for the life of the process: every worker uses it. */
static void
proxy_share_init(void)
{
	size_t	i;

	for (i = 0; i < nitems(proxy_share_locks); i++)
		pthread_mutex_init(&proxy_share_locks[i], NULL);
	if ((proxy_share = curl_share_init()) == NULL)
		return;
	curl_share_setopt(proxy_share, CURLSHOPT_LOCKFUNC, proxy_share_lock);
	curl_share_setopt(proxy_share, CURLSHOPT_UNLOCKFUNC,
	    proxy_share_unlock);
	curl_share_setopt(proxy_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(proxy_share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION);
}

void
http_proxy_thread_done(void)
{
	if (proxy_multi_handle != NULL) {
		curl_multi_cleanup(proxy_multi_handle);
		proxy_multi_handle = NULL;
	}
	if (proxy_curl_handle != NULL) {
		curl_easy_cleanup(proxy_curl_handle);
		proxy_curl_handle = NULL;
	}
}

static CURL *
proxy_curl(void)
{
	if (proxy_curl_handle == NULL) {
		pthread_once(&proxy_share_once, proxy_share_init);
		proxy_curl_handle = curl_easy_init();
	} else
		curl_easy_reset(proxy_curl_handle);
	if (proxy_share != NULL)
		curl_easy_setopt(proxy_curl_handle, CURLOPT_SHARE, proxy_share);
	return (proxy_curl_handle);
}

/*
 * Run the transfer. curl_easy_perform() would do, but it waits on the
 * sockets for up to a second at a time and calls the progress function
 * only when it wakes: a client's hang-up before the first byte could go
 * unseen for that long. Here the wait is at most PROXY_CLIENT_CHECK_MS.
 */
static CURLcode
proxy_perform(CURL *c)
{
	CURLMsg		*msg;
	CURLcode	 rc = CURLE_FAILED_INIT;
	int		 running = 1, left;

	if (proxy_multi_handle == NULL &&
	    (proxy_multi_handle = curl_multi_init()) == NULL)
		return (curl_easy_perform(c));
	if (curl_multi_add_handle(proxy_multi_handle, c) != CURLM_OK)
		return (curl_easy_perform(c));
	while (running) {
		if (curl_multi_perform(proxy_multi_handle, &running) !=
		    CURLM_OK)
			break;
		if (running && curl_multi_poll(proxy_multi_handle, NULL, 0,
		    PROXY_CLIENT_CHECK_MS, NULL) != CURLM_OK)
			break;
	}
	while ((msg = curl_multi_info_read(proxy_multi_handle, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c)
			rc = msg->data.result;
	curl_multi_remove_handle(proxy_multi_handle, c);
	return (rc);
}

/*
 * Is a failure worth another channel? Connection trouble, timeouts, 5xx,
 * 429, and a channel's own credential or model trouble are; a client's
 * bad request is not.
 */
static int
proxy_retryable(const struct proxy_attempt *at, CURLcode rc)
{
	/* No answer, or one cut before anything reached the client. */
	if (rc != CURLE_OK && (!at->got_first || (!at->committed &&
	    at->status >= 200 && at->status < 300)))
		return (1);
	return (at->status >= 500 || at->status == 429 || at->status == 401 ||
	    at->status == 403 || at->status == 404 || at->status == 402);
}

/*
 * A Responses conversation that went through another format is kept
 * here, under the id the client saw, for its next turn.
 */
static void
proxy_conv_store(struct proxy_req *rq, const char *id,
    const struct xf_final *f)
{
	json_t		*all, *m;
	const char	*role;
	size_t		 i;

	if (rq->surf->fmt != RELAY_RESPONSES || rq->hub == NULL)
		return;
	all = json_array();
	json_array_foreach(json_object_get(rq->hub, "messages"), i, m) {
		role = json_string_value(json_object_get(m, "role"));
		/* Instructions are per request, not carried over. */
		if (role != NULL && (strcmp(role, "system") == 0 ||
		    strcmp(role, "developer") == 0))
			continue;
		json_array_append(all, m);
	}
	json_array_append_new(all, xf_chat_message(f));
	conversation_put(id, all);
	json_decref(all);
}

/*
 * The upstream finished a converted success: end the client's stream, or
 * rewrite the whole reply in the client's format. An unreadable reply is
 * the channel's failure (502), and nothing has reached the client yet.
 */
static void
proxy_conv_end(struct proxy_req *rq, struct proxy_attempt *at)
{
	struct proxy_conv	*cv = at->conv;
	struct xf_delta		 d;
	struct err		 e = { ERR_OK, NULL };
	json_t			*j = NULL, *o;
	struct timespec		 now;

	if (at->sse && !at->ended && cv->p.finished) {
		/* It said why it stopped but not that it ended: it did. */
		memset(&d, 0, sizeof d);
		d.kind = XF_D_DONE;
		proxy_conv_delta(&d, at);
	}
	if (rq->in.stream && at->sse) {
		proxy_conv_flush(at);
		if (at->ended && at->error == NULL)
			proxy_conv_store(rq, cv->w.id, &cv->w.final);
		return;
	}
	if (!at->sse) {
		if (at->error != NULL)
			goto fail;
		if ((j = json_loadb(at->copy.data, at->copy.len, 0, NULL)) ==
		    NULL || xf_parse_final(at->up, j, &cv->fin, &e) != 0) {
			xasprintf(&at->error, "the upstream reply is not a %s "
			    "reply%s%s", relay_format_name(at->up), e.msg !=
			    NULL ? ": " : "", e.msg != NULL ? e.msg : "");
			goto fail;
		}
		xf_usage_merge(&at->usage, &cv->fin.usage);
	} else if (!at->ended) {
		at->error = xstrdup("the upstream stream ended before its "
		    "last event");
		goto fail;
	}
	if (cv->fin.error != NULL) {
		xasprintf(&at->error, "upstream error: %s", cv->fin.error);
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	rq->log->ttfb_ms = proxy_ms(&rq->t0, &now);
	if (rq->in.stream) {
		/* A stream was asked for and a whole reply came. */
		if (proxy_send_head(at) != 0) {
			at->client_gone = 1;
			goto out;
		}
		xf_final_deltas(&cv->fin, proxy_conv_delta, at);
		proxy_conv_flush(at);
		if (at->error == NULL)
			proxy_conv_store(rq, cv->w.id, &cv->w.final);
		goto out;
	}
	free(cv->fin.id);
	cv->fin.id = xstrdup(cv->w.id);
	cv->fin.created = cv->w.created;
	free(cv->fin.model);
	cv->fin.model = xstrdup(rq->in.model);
	o = xf_write_final(rq->surf->fmt, &cv->fin);
	at->committed = at->whole = 1;
	proxy_seal(rq, at);
	http_send_json(rq->conn, (int)at->status, o);
	json_decref(o);
	proxy_conv_store(rq, cv->fin.id, &cv->fin);
	goto out;
fail:
	at->status = 502;
	proxy_redact_str(&at->error, at->key);	/* it may quote the site */
out:
	err_clear(&e);
	json_decref(j);
}

/* Run one attempt. 0: the client got an answer (of any kind); -1: try on. */
static int
proxy_attempt_run(struct proxy_req *rq, const struct snap_channel *ch,
    struct proxy_attempt *at, enum relay_format up, char *send)
{
	const struct snap_limits	*l = &rq->snap->limits;
	struct proxylog_attempt		*la;
	struct curl_slist		*hdrs;
	struct timespec			 t1, now;
	char				*key, *url, **site_headers;
	CURLcode			 rc;

	memset(at, 0, sizeof *at);
	at->rq = rq;
	at->ch = ch;
	at->up = up;
	at->send = send;
	buf_init(&at->errbody, PROXY_ERRBODY_MAX + 1);
	/* Whole replies are held up to the limit (proxy_hold). */
	buf_init(&at->copy, (size_t)l->max_response);
	sse_init(&at->parser, SSE_MAX_EVENT);
	if (send != NULL) {
		at->conv = xcalloc(1, sizeof *at->conv);
		xf_parser_init(&at->conv->p, up);
		xf_writer_init(&at->conv->w, rq->surf->fmt, rq->in.model,
		    rq->surf->fmt == RELAY_CHAT && !rq->in.strip_usage &&
		    json_is_true(json_object_get(json_object_get(rq->in.body,
		    "stream_options"), "include_usage")));
		/* Responses needs the whole reply at its end. */
		at->conv->w.keep = rq->surf->fmt == RELAY_RESPONSES;
		buf_init(&at->conv->out, SIZE_MAX);
		xf_final_init(&at->conv->fin);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	at->tstart = t1;
	la = &rq->log->attempts[rq->log->nattempts++];
	la->channel_id = ch->id;
	la->site_id = ch->site_id;
	la->account_id = ch->account_id;
	la->upstream_path = xstrdup(relay_path(ch->platform, up));
	la->started_at = (long long)time(NULL);

	if ((key = snapshot_channel_key(ch)) == NULL) {
		la->error = xstrdup("the channel's key does not open");
		la->retryable = 1;
		return (-1);
	}
	site_headers = snapshot_channel_headers(ch);
	hdrs = proxy_headers(rq, ch, up, key, site_headers);
	snapshot_headers_free(site_headers);
	url = relay_url(ch->url, la->upstream_path);

	at->curl = proxy_curl();
	curl_easy_setopt(at->curl, CURLOPT_URL, url);
	curl_easy_setopt(at->curl, CURLOPT_POST, 1L);
	if (send != NULL) {
		curl_easy_setopt(at->curl, CURLOPT_POSTFIELDS, send);
		curl_easy_setopt(at->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(send));
	} else {
		curl_easy_setopt(at->curl, CURLOPT_POSTFIELDS, rq->send !=
		    NULL ? rq->send : rq->raw);
		curl_easy_setopt(at->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(rq->send != NULL ? strlen(rq->send) :
		    rq->rawlen));
	}
	curl_easy_setopt(at->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(at->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(at->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(at->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(at->curl, CURLOPT_CONNECTTIMEOUT, l->connect_sec);
	curl_easy_setopt(at->curl, CURLOPT_TIMEOUT, l->total_sec);
	curl_easy_setopt(at->curl, CURLOPT_PROXY, ch->proxy != NULL ?
	    ch->proxy : "");
	curl_easy_setopt(at->curl, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(at->curl, CURLOPT_WRITEFUNCTION, proxy_curl_write);
	curl_easy_setopt(at->curl, CURLOPT_WRITEDATA, at);
	curl_easy_setopt(at->curl, CURLOPT_HEADERFUNCTION, proxy_curl_header);
	curl_easy_setopt(at->curl, CURLOPT_HEADERDATA, at);
	curl_easy_setopt(at->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(at->curl, CURLOPT_XFERINFOFUNCTION,
	    proxy_curl_progress);
	curl_easy_setopt(at->curl, CURLOPT_XFERINFODATA, at);
	at->key = key;
	rc = proxy_perform(at->curl);
	if (!at->got_first)
		curl_easy_getinfo(at->curl, CURLINFO_RESPONSE_CODE, &at->status);
	upstream_headers_free(hdrs);	/* the key line too */
	/* The client may see this body: not the key we sent, if it says it. */
	proxy_redact(&at->errbody, key);
	if (at->conv != NULL && rc == CURLE_OK && at->status >= 200 &&
	    at->status < 300 && !at->client_gone)
		proxy_conv_end(rq, at);
	else if (at->conv == NULL && !at->sse && !at->committed &&
	    rc == CURLE_OK && at->status >= 200 && at->status < 300 &&
	    !at->client_gone)
		proxy_send_whole(rq, at);
	at->key = NULL;
	vault_plain_free(key);
	free(url);

	clock_gettime(CLOCK_MONOTONIC, &now);
	la->latency_ms = proxy_ms(&t1, &now);
	la->http_status = (int)at->status;
	if (at->error == NULL && rc != CURLE_OK && !at->client_gone)
		xasprintf(&at->error, "%s", curl_easy_strerror(rc));
	if (at->error == NULL && at->committed && at->sse && !at->ended &&
	    !at->client_gone && rq->surf->fmt != RELAY_COMPLETIONS)
		at->error = xstrdup("the upstream stream ended before its last "
		    "event");
	if (at->committed || at->client_gone) {
		if (at->error != NULL)
			la->error = xstrdup(at->error);
		return (0);
	}
	if (rc == CURLE_OK && at->status >= 200 && at->status < 300 &&
	    at->conv == NULL) {
		/* An empty success: answer it as it is. */
		proxy_send_head(at);
		return (0);
	}
	if (at->error == NULL)
		proxy_status_error(at);
	la->error = xstrdup(at->error);
	la->retryable = proxy_retryable(at, rc);
	return (la->retryable ? -1 : 1);
}

/*
 * A failed status as the row's reason, with the upstream's own words
 * when it gave any (each platform puts them somewhere else): "HTTP 500:
 * 当前分组上游负载已饱和", not a bare "HTTP 500".
 */
static void
proxy_status_error(struct proxy_attempt *at)
{
	json_t	*j;
	char	*msg;

	if (at->errbody.len == 0) {
		xasprintf(&at->error, "HTTP %ld", at->status);
		return;
	}
	j = json_loadb(at->errbody.data, at->errbody.len, 0, NULL);
	msg = xf_error_message(j, at->errbody.data, at->errbody.len);
	json_decref(j);
	xasprintf(&at->error, "HTTP %ld: %.200s", at->status, msg);
	free(msg);
}

static void
proxy_attempt_free(struct proxy_attempt *at)
{
	buf_free(&at->errbody);
	buf_free(&at->copy);
	json_decref(at->json);
	sse_free(&at->parser);
	free(at->error);
	free(at->send);
	if (at->conv != NULL) {
		xf_parser_free(&at->conv->p);
		xf_writer_free(&at->conv->w);
		buf_free(&at->conv->out);
		xf_final_free(&at->conv->fin);
		free(at->conv);
	}
	memset(at, 0, sizeof *at);
}

/* The last failure, told to the client: the upstream's reply if it had one. */
static void
proxy_fail(struct proxy_req *rq, struct proxy_attempt *at)
{
	json_t	*j = NULL, *body;
	char	*msg;

	if (at->status >= 400 && at->errbody.len > 0)
		j = json_loadb(at->errbody.data, at->errbody.len, 0, NULL);
	if (at->status >= 400 && at->conv == NULL && j != NULL &&
	    proxy_error_shaped(rq->surf->fmt, j))
		http_send_json(rq->conn, (int)at->status, j);
	else if (at->status >= 400 && (at->conv != NULL || j != NULL)) {
		/*
		 * The upstream's words in the shape the client's SDK reads:
		 * a converted request's, or {"success":false,"message"},
		 * {"code","message"}, another format's shape.
		 */
		msg = at->errbody.len > 0 ? xf_error_message(j,
		    at->errbody.data, at->errbody.len) : xstrdup(at->error !=
		    NULL ? at->error : "upstream error");
		body = xf_error_body(rq->surf->fmt, (int)at->status, msg);
		http_send_json(rq->conn, (int)at->status, body);
		json_decref(body);
		free(msg);
	} else
		http_error(rq->conn, at->status >= 400 ? (int)at->status : 502,
		    "upstream_error", "upstream_error", "upstream error: %s",
		    at->error != NULL ? at->error : "no answer");
	json_decref(j);
}

/* Whether an error body is already in the client's format's shape. */
static int
proxy_error_shaped(enum relay_format fmt, const json_t *j)
{
	const json_t	*err = json_object_get(j, "error");

	if (!json_is_object(err) ||
	    !json_is_string(json_object_get(err, "message")))
		return (0);
	if (fmt == RELAY_MESSAGES || fmt == RELAY_COUNT_TOKENS)
		return (json_is_string(json_object_get(j, "type")) &&
		    strcmp(json_string_value(json_object_get(j, "type")),
		    "error") == 0);
	/* Claude's {"type":"error","error":{...}} reads as OpenAI's too. */
	return (json_object_get(j, "type") == NULL);
}

/*
 * After the first byte a failure cannot be retried: end the stream with
 * an error event in the client's format, never an invented finish.
 */
static void
proxy_stream_error(struct proxy_attempt *at)
{
	struct buf	 b;
	json_t		*o;
	char		*s;

	if (!at->sse || at->client_gone || at->error == NULL ||
	    at->upstream_error)
		return;	/* the upstream's own error event already went */
	if (at->conv != NULL) {
		xf_write_error(&at->conv->w, at->error, &at->conv->out);
		proxy_conv_flush(at);
		return;
	}
	buf_init(&b, 64 * 1024);
	if (at->rq->surf->fmt == RELAY_MESSAGES) {
		o = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
		    "type", "api_error", "message", at->error);
		s = json_dumps(o, JSON_COMPACT);
		sse_write_event(&b, "error", s);
	} else {
		o = json_pack("{s:{s:s, s:s, s:s}}", "error", "message",
		    at->error, "type", "upstream_error", "code",
		    "upstream_error");
		s = json_dumps(o, JSON_COMPACT);
		sse_write_event(&b, NULL, s);
	}
	proxy_client_write(at, b.data, b.len);
	free(s);
	json_decref(o);
	buf_free(&b);
}

/* Usage and cost of the answered attempt into the log record. */
static void
proxy_account(struct proxy_req *rq, struct proxy_attempt *at)
{
	struct proxylog_rec		*r = rq->log;
	const struct usage_price	*price;
	struct usage_price		 none;
	json_t				*j;

	if (at->accounted)
		return;
	at->accounted = 1;
	if (at->conv == NULL && !at->sse && at->json != NULL)
		usage_from_body(&at->usage, rq->surf->ufmt, at->json);
	else if (at->conv == NULL && !at->sse && at->copy.len > 0 &&
	    at->copy.len <= PROXY_COPY_MAX &&
	    (j = json_loadb(at->copy.data, at->copy.len, 0, NULL)) != NULL) {
		usage_from_body(&at->usage, rq->surf->ufmt, j);
		json_decref(j);
	}
	r->prompt_tokens = at->usage.prompt;
	r->completion_tokens = at->usage.completion;
	r->cache_read_tokens = at->usage.cache_read;
	r->cache_write_tokens = at->usage.cache_write;
	r->usage_source = usage_source_name(at->usage.source);
	price = snapshot_price(rq->snap, at->ch->site_id, at->ch->source_model,
	    at->ch->group);
	if (price == NULL) {
		memset(&none, 0, sizeof none);
		price = &none;
	}
	if (at->usage.source != USAGE_NONE)
		r->cost_usd = usage_cost(&at->usage, price);
	else if (price->has & USAGE_PRICE_CALL)
		r->cost_usd = price->per_call;	/* images: priced per call */
	else
		r->cost_usd = 0;
}

/*
 * The answered attempt's channel, model, usage and cost into the record.
 * Twice is harmless: before a whole reply's bytes (proxy_seal) and after.
 */
static void
proxy_served(struct proxy_req *rq, struct proxy_attempt *at)
{
	rq->log->channel_id = at->ch != NULL ? at->ch->id : 0;
	rq->log->site_id = at->ch != NULL ? at->ch->site_id : 0;
	rq->log->account_id = at->ch != NULL ? at->ch->account_id : 0;
	if (at->committed) {
		free(rq->log->model);
		rq->log->model = xstrdup(rq->fwd);
		proxy_account(rq, at);
	}
}

/*
 * A success's last bytes are about to go: its record, as complete as it
 * will be, goes to the request journal first, so that a daemon killed
 * right after still stores the row as it is (see src/journal.c).
 * proxy_finish() writes it again only if the outcome then changes (the
 * client gone before the last bytes).
 */
static void
proxy_seal(struct proxy_req *rq, struct proxy_attempt *at)
{
	struct timespec	now;

	if (rq->log == NULL)
		return;
	proxy_served(rq, at);
	clock_gettime(CLOCK_MONOTONIC, &now);
	rq->log->latency_ms = proxy_ms(&rq->t0, &now);
	rq->log->http_status = (int)at->status;
	rq->log->status = at->error != NULL ? "failed" : "ok";
	if (at->error != NULL && rq->log->error == NULL)
		rq->log->error = xstrdup(at->error);
	if (rq->log->nattempts > 0)
		rq->log->attempts[rq->log->nattempts - 1].http_status =
		    (int)at->status;
	logwriter_end(rq->log);
}

static void
proxy_finish(struct proxy_req *rq, int http_status, const char *status,
    const char *error)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	rq->log->latency_ms = proxy_ms(&rq->t0, &now);
	rq->log->http_status = http_status;
	rq->log->status = status;
	if (error != NULL && rq->log->error == NULL)
		rq->log->error = xstrdup(error);
	metrics_request(rq->log, rq->snap);
	logwriter_put(rq->log);
	rq->log = NULL;
}

/*
 * The request converted for an upstream speaking format up, from the
 * hub, which is made once (request_hub()).
 */
static char *
proxy_conv_body(struct proxy_req *rq, enum relay_format up, struct err *e)
{
	if (rq->hub == NULL &&
	    (rq->hub = request_hub(&rq->in, rq->history, e)) == NULL)
		return (NULL);
	return (request_convert(&rq->in, rq->hub, up, rq->fwd, e));
}

/*
 * The formats to try on a channel: relay_upstream_formats()' order, with
 * the one that worked there last moved to the front. A Responses turn
 * continuing a conversation kept elsewhere can only go to Responses.
 */
static size_t
proxy_formats(struct proxy_req *rq, const struct snap_channel *ch,
    enum relay_format *ups)
{
	enum relay_format	f;
	size_t			n, i;
	int			m;

	n = relay_upstream_formats(ch->platform, rq->surf->fmt, rq->fwd, ups);
	if (rq->prev_unknown != NULL) {
		for (i = 0; i < n && ups[i] != RELAY_RESPONSES; i++)
			;
		if (i == n)
			return (0);
		ups[0] = RELAY_RESPONSES;
		return (1);
	}
	/* A single format needs no memory: no lookup on the common path. */
	if (n < 2)
		return (n);
	m = routestate_format_get(ch->site_id, rq->fwd, (int)rq->surf->fmt,
	    routestate_now());
	for (i = 1; m > 0 && i < n; i++) {
		if ((int)ups[i] == m - 1) {
			f = ups[i];
			memmove(ups + 1, ups, i * sizeof *ups);
			ups[0] = f;
			break;
		}
	}
	return (n);
}

/*
 * Words of a site that does not have an endpoint: 404, 405, 415 and 501
 * always; other 4xx only when the body says so.
 */
static const char *const proxy_protocol_words[] = {
	"not implemented", "unsupported endpoint", "unsupported path",
	"unknown endpoint", "invalid url", "no route", "not supported",
	"unsupported api", "unsupported format",
};

static int
proxy_protocol_error(const struct proxy_attempt *at)
{
	char	*text;
	size_t	 i;
	int	 hit = 0;

	if (at->committed || at->client_gone)
		return (0);
	if (at->status == 404 || at->status == 405 || at->status == 415 ||
	    at->status == 501)
		return (1);
	if (at->status < 400 || at->status >= 500 || at->errbody.len == 0)
		return (0);
	text = xstrndup(at->errbody.data, at->errbody.len);
	for (i = 0; i < nitems(proxy_protocol_words) && !hit; i++)
		hit = strcasestr(text, proxy_protocol_words[i]) != NULL;
	free(text);
	return (hit);
}

/*
 * count_tokens with no channel that counts: an estimate from the text
 * (request_count_tokens()), said to be one in a header.
 */
static void
proxy_count_local(struct proxy_req *rq)
{
	long long	n;
	char		body[64];

	n = request_count_tokens(rq->in.body);
	snprintf(body, sizeof body, "{\"input_tokens\":%lld}", n);
	mg_printf(rq->conn, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "X-Metapi-Estimated: true\r\n"
	    "X-Request-Id: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n%s", strlen(body), rq->rid, body);
	rq->log->prompt_tokens = n;
	rq->log->usage_source = usage_source_name(USAGE_ESTIMATED);
}

/*
 * No channel could serve a request: an alert, raised here on the worker
 * and sent from the main loop. One title per model, so a burst of such
 * requests is merged into one alert by the notification cooldown.
 */
static void
proxy_alert(struct proxy_req *rq, const char *why)
{
	char	*title;

	xasprintf(&title, "no channel could serve %s", rq->in.model);
	notify_event_defer("request", "error", title, why != NULL ? why :
	    "all attempts failed");
	free(title);
}

static int
proxy_handle(struct mg_connection *conn, enum relay_format fmt)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	const struct snap_channel	*ch;
	struct proxy_route		 pr;
	struct proxy_req		 rq;
	struct proxy_attempt		 at;
	struct err			 e = { ERR_OK, NULL };
	enum relay_format		 ups[RELAY_MAX_UPSTREAM];
	const char			*why, *h;
	char				*send;
	size_t				 k, nf;
	int				 i, rv = -1, status = 0;

	memset(&pr, 0, sizeof pr);
	memset(&rq, 0, sizeof rq);
	rq.cfd = -1;
	buf_init(&rq.wire, SIZE_MAX);
	memset(&at, 0, sizeof at);
	rq.conn = conn;
	rq.surf = &proxy_surfaces[fmt];
	clock_gettime(CLOCK_MONOTONIC, &rq.t0);
	rq.snap = snapshot_get();
	rq.log = proxylog_rec_new();
	journal_rid(rq.rid);
	memcpy(rq.log->rid, rq.rid, sizeof rq.rid);
	/* Every reply of this request names it; cleared at the end. */
	mg_set_user_connection_data(conn, rq.rid);
	rq.log->time = (long long)time(NULL);
	rq.log->downstream_path = xstrdup(ri->local_uri);
	if (mg_get_header(conn, "User-Agent") != NULL)
		rq.log->client = xstrndup(mg_get_header(conn, "User-Agent"),
		    128);

	if (strcmp(ri->request_method, "POST") != 0) {
		http_error(conn, 405, "invalid_request_error",
		    "method_not_allowed", "use POST");
		status = 405;
		goto out;
	}
	if (http_auth(conn, rq.snap, &rq.key) != 0) {
		status = 401;
		goto out;
	}
	rq.log->key_id = rq.key->id;
	logwriter_begin(rq.log);	/* logged from here on, come what may */
	if (proxy_read_body(&rq, rq.snap->limits.max_body) != 0) {
		status = 413;
		goto log;
	}
	if (request_parse(&rq.in, fmt, rq.raw, rq.rawlen, &why, &e) != 0) {
		http_error(conn, 400, "invalid_request_error", why, "%s", e.msg);
		err_clear(&e);
		status = 400;
		goto log;
	}
	rq.log->model_requested = xstrdup(rq.in.model);
	rq.log->stream = rq.in.stream;
	if (!http_model_allowed(conn, rq.key, rq.in.model)) {
		status = 403;
		goto log;
	}
	/* Files the body names by id go in inline, for any upstream. */
	if ((status = http_files_inline(conn, rq.key->id, fmt, rq.in.body,
	    rq.snap->limits.max_body, &rq.raw, &rq.rawlen)) != 0)
		goto log;
	if ((rq.route = snapshot_route(rq.snap, rq.in.model, &rq.how)) == NULL) {
		http_error(conn, 404, "invalid_request_error", "model_not_found",
		    "model %s is not offered by any site", rq.in.model);
		status = 404;
		goto log;
	}
	rq.log->route_id = rq.route->id;
	/* A Responses turn after one this daemon converted. */
	if (rq.in.prev != NULL) {
		if ((rq.history = conversation_get(rq.in.prev)) != NULL)
			rq.force_convert = 1;
		else
			rq.prev_unknown = rq.in.prev;
	}
	proxy_session_key(&rq);
	if ((h = mg_get_header(conn, "X-Metapi-Channel")) != NULL &&
	    (rq.pin = strtoll(h, NULL, 10)) <= 0) {
		http_error(conn, 400, "invalid_request_error", "bad_channel",
		    "X-Metapi-Channel must be a channel id");
		status = 400;
		goto log;
	}
	proxy_route_init(&rq, &pr);
	if ((ch = proxy_candidates(&rq, &pr)) == NULL && rq.pin > 0) {
		http_error(conn, 503, "server_error", "no_channel", "channel "
		    "%lld does not serve %s in the %s format now (not in its "
		    "route, disabled, or another model)", rq.pin, rq.in.model,
		    relay_format_name(fmt));
		status = 503;
		goto log;
	}
	if (ch == NULL) {
		if (fmt == RELAY_COUNT_TOKENS) {
			proxy_count_local(&rq);
			proxy_finish(&rq, 200, "ok", NULL);
			status = 200;
			goto out;
		}
		http_error(conn, 503, "server_error", "no_channel", "no channel "
		    "serves %s in the %s format now", rq.in.model,
		    relay_format_name(fmt));
		proxy_alert(&rq, "every channel is disabled, cooling or "
		    "behind an open breaker");
		status = 503;
		goto log;
	}
	proxy_prepare_body(&rq);
	for (i = 0; ch != NULL && i < rq.snap->limits.max_attempts &&
	    rq.log->nattempts < PROXYLOG_MAX_ATTEMPTS; i++) {
		proxy_set_model(&rq, ch);
		if ((nf = proxy_formats(&rq, ch, ups)) == 0) {
			http_error(conn, 400, "invalid_request_error",
			    "previous_response_not_found", "previous response "
			    "%s is not known here", rq.prev_unknown);
			status = 400;
			goto log;
		}
		/* Each format in turn while the site says it has no such API. */
		for (k = 0; k < nf; k++) {
			send = NULL;
			if ((ups[k] != fmt || rq.force_convert) &&
			    (send = proxy_conv_body(&rq, ups[k], &e)) == NULL) {
				http_error(conn, 400, "invalid_request_error",
				    "invalid_request", "%s", e.msg);
				err_clear(&e);
				status = 400;
				goto log;
			}
			proxy_attempt_free(&at);
			rv = proxy_attempt_run(&rq, ch, &at, ups[k], send);
			if (rv == 0 || !proxy_protocol_error(&at) ||
			    rq.log->nattempts == PROXYLOG_MAX_ATTEMPTS)
				break;
		}
		/*
		 * Remembered only when the first format tried was not the one
		 * that worked: a success at the first try has nothing to teach,
		 * and every request would take the lock for it.
		 */
		if (rv == 0 && at.error == NULL && at.committed && k > 0)
			routestate_format_set(ch->site_id, rq.fwd, (int)fmt,
			    (int)at.up, routestate_now() + PROXY_FORMAT_TTL_MS);
		if (rv != 0 && !at.client_gone)
			proxy_report(&rq, &at, 0, rq.log->attempts[
			    rq.log->nattempts - 1].latency_ms, 0);
		if (rv != 0 && rq.sticky[0] != '\0')
			routestate_sticky_drop(rq.sticky);
		if (rv == 0 || rv == 1)
			break;
		ch = proxy_candidates(&rq, &pr);
	}
	proxy_served(&rq, &at);
	if (at.committed) {
		if (!at.client_gone)
			proxy_report(&rq, &at, at.error == NULL,
			    rq.log->attempts[rq.log->nattempts - 1].latency_ms,
			    rq.log->cost_usd);
		/* The conversation stays where it was served well. */
		if (rq.sticky[0] != '\0' && at.error == NULL)
			routestate_sticky_set(rq.sticky, at.ch->id,
			    routestate_now() + rq.snap->limits.sticky_ttl_sec *
			    1000);
		if (at.error != NULL)
			proxy_stream_error(&at);
		if (!at.client_gone && !at.whole) {
			proxy_seal(&rq, &at);
			(void)http_chunk(conn, &rq.wire, "", 0);
		}
		proxy_finish(&rq, (int)at.status, at.client_gone ?
		    "client_closed" : at.error != NULL ? "failed" : "ok",
		    at.error);
		status = (int)at.status;
		goto out;
	}
	if (at.client_gone) {
		proxy_finish(&rq, 499, "client_closed", "client went away");
		status = 499;
		goto out;
	}
	proxy_fail(&rq, &at);
	status = at.status >= 400 ? (int)at.status : 502;
	/* Out of channels, not a client's bad request: someone should know. */
	if (rq.log->nattempts > 0 &&
	    rq.log->attempts[rq.log->nattempts - 1].retryable)
		proxy_alert(&rq, at.error);
	proxy_finish(&rq, status, "failed", at.error);
	goto out;
log:
	proxy_finish(&rq, status, "failed", NULL);
out:
	mg_set_user_connection_data(conn, NULL);
	proxy_attempt_free(&at);
	proxy_route_free(&pr);
	proxylog_rec_free(rq.log);
	json_decref(rq.hub);
	json_decref(rq.history);
	request_free(&rq.in);
	free(rq.raw);
	free(rq.send);
	buf_free(&rq.wire);
	snapshot_put(rq.snap);
	return (status);
}

/* The civetweb handler of every relay surface; arg is its format. */
int
http_proxy(struct mg_connection *conn, void *arg)
{
	return (proxy_handle(conn, *(const enum relay_format *)arg));
}
