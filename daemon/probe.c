/*
 * Recovery probes: every channel_probe_sec the cooling channels whose
 * cooldown ends last (a few at a time) are asked a one-token question in
 * a format their site speaks. One that answers has recovered: the answer
 * is reported as a success, which ends its cooldown and raises its
 * health, so traffic comes back before its backoff runs out. One that
 * does not stays as it is: a probe never makes a cooldown longer. Sites
 * that forbid or bill such traffic opt out (site edit --probe off). The
 * requests run on a worker thread; the state here is the main thread's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "daemon.h"
#include "log.h"
#include "relay.h"
#include "routestate.h"
#include "setting.h"
#include "snapshot.h"
#include "upstream.h"
#include "vault.h"
#include "xform.h"
#include "xmalloc.h"

#define PROBE_MAX		4	/* channels per round */
#define PROBE_TIMEOUT_SEC	20
#define PROBE_HEADERS		16

struct probe_item {
	long long	 channel;
	char		*url;
	char		*body;
	char		*proxy;
	char		*headers[PROBE_HEADERS + 1];
	long		 status;
	long long	 latency;	/* ms */
	char		*error;
};

struct probe_round {
	struct probe_item	 v[PROBE_MAX];
	size_t			 n;
};

static time_t	probe_last;	/* the last round, for the interval */
static int	probe_running;

static const struct snap_channel *
probe_channel(const struct snapshot *s, long long id)
{
	size_t	i;

	for (i = 0; i < s->nchannels; i++)
		if (s->channels[i].id == id)
			return (&s->channels[i]);
	return (NULL);
}

/*
 * The question: "ping" with one token to answer it, in the first format
 * the site speaks for a Chat client, made by the converters.
 */
static int
probe_build(const struct snap_channel *ch, struct probe_item *it)
{
	enum relay_format	 ups[RELAY_MAX_UPSTREAM];
	struct err		 e = { ERR_OK, NULL };
	json_t			*hub, *body;
	char			*key, **site;
	size_t			 i, h = 0;

	if (relay_upstream_formats(ch->platform, RELAY_CHAT, ch->source_model,
	    ups) == 0)
		return (-1);
	hub = json_pack("{s:s, s:i, s:b, s:[{s:s, s:s}]}", "model",
	    ch->source_model, "max_tokens", 1, "stream", 0, "messages",
	    "role", "user", "content", "ping");
	body = xf_from_chat(ups[0], hub, &e);
	json_decref(hub);
	err_clear(&e);
	if (body == NULL || (key = snapshot_channel_key(ch)) == NULL) {
		json_decref(body);
		return (-1);
	}
	it->channel = ch->id;
	it->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	it->url = relay_url(ch->url, relay_path(ch->platform, ups[0]));
	it->proxy = ch->proxy != NULL ? xstrdup(ch->proxy) : NULL;
	it->headers[h++] = relay_auth_line(ch->platform, ups[0], key);
	vault_plain_free(key);
	it->headers[h++] = xstrdup("Content-Type: application/json");
	if (ups[0] == RELAY_MESSAGES)
		it->headers[h++] = xstrdup("anthropic-version: 2023-06-01");
	site = snapshot_channel_headers(ch);
	for (i = 0; site != NULL && site[i] != NULL && h < PROBE_HEADERS; i++)
		it->headers[h++] = xstrdup(site[i]);
	snapshot_headers_free(site);
	return (0);
}

static void
probe_item_free(struct probe_item *it)
{
	size_t	i;

	for (i = 0; it->headers[i] != NULL; i++) {
		/* The first holds the key. */
		explicit_bzero(it->headers[i], strlen(it->headers[i]));
		free(it->headers[i]);
	}
	free(it->url);
	free(it->body);
	free(it->proxy);
	free(it->error);
}

/* Worker thread: ask each channel, one after another. */
static void
probe_work(void *arg)
{
	struct probe_round	*r = arg;
	struct upstream_req	 req;
	struct upstream_resp	 resp;
	struct timespec		 t0, t1;
	size_t			 i;

	for (i = 0; i < r->n; i++) {
		memset(&req, 0, sizeof req);
		memset(&resp, 0, sizeof resp);
		req.method = "POST";
		req.url = r->v[i].url;
		req.headers = (const char *const *)r->v[i].headers;
		req.body = r->v[i].body;
		req.proxy = r->v[i].proxy;
		req.connect_timeout_sec = 10;
		req.timeout_sec = PROBE_TIMEOUT_SEC;
		req.max_body = 64 * 1024;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (upstream_do(&req, &resp, &r->v[i].error) == 0)
			r->v[i].status = resp.status;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		r->v[i].latency = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		upstream_resp_free(&resp);
	}
}

/* Main thread: a channel that answered has recovered. */
static enum ctl_ret
probe_done(void *arg, __unused int alive, __unused json_t **reply,
    __unused struct err *e)
{
	struct probe_round	*r = arg;
	struct snapshot		*s = snapshot_get();
	const struct snap_channel *ch;
	const struct snap_route	*rt;
	size_t			 i, k;

	for (i = 0; i < r->n; i++) {
		if (r->v[i].status < 200 || r->v[i].status >= 300 ||
		    (ch = probe_channel(s, r->v[i].channel)) == NULL) {
			log_debug("probe: channel %lld still failing: %s",
			    r->v[i].channel, r->v[i].error != NULL ?
			    r->v[i].error : "HTTP error");
			continue;
		}
		for (k = 0, rt = NULL; k < s->nroutes && rt == NULL; k++)
			if (s->routes[k].id == ch->route_id)
				rt = &s->routes[k];
		routestate_report(s, ch, ch->source_model, rt != NULL ?
		    rt->strategy : ROUTER_WEIGHTED, 1, (int)r->v[i].status, "",
		    0, r->v[i].latency, 0, routestate_now());
		log_info("probe: channel %lld on %s answered: cooldown ended",
		    ch->id, ch->site_name);
	}
	snapshot_put(s);
	for (i = 0; i < r->n; i++)
		probe_item_free(&r->v[i]);
	free(r);
	probe_running = 0;
	return (CTL_DONE);
}

/* Every turn of the main loop: start a round when one is due. */
void
probe_tick(void)
{
	struct ctl_req		 req;
	struct probe_round	*r;
	struct snapshot		*s;
	const struct snap_channel *ch;
	long long		 sec, ids[PROBE_MAX * 4];
	time_t			 now = time(NULL);
	size_t			 n, i;

	/* Read each time: a changed interval applies to the next round. */
	sec = settings_int(metapid->settings, "channel_probe_sec");
	if (sec <= 0 || probe_running || now < probe_last + sec)
		return;
	probe_last = now;
	n = routestate_cooling(routestate_now(), ids, nitems(ids));
	if (n == 0)
		return;
	r = xcalloc(1, sizeof *r);
	s = snapshot_get();
	for (i = 0; i < n && r->n < PROBE_MAX; i++) {
		ch = probe_channel(s, ids[i]);
		if (ch == NULL || !ch->enabled || !ch->probe)
			continue;
		if (probe_build(ch, &r->v[r->n]) == 0)
			r->n++;
		else {
			probe_item_free(&r->v[r->n]);
			memset(&r->v[r->n], 0, sizeof r->v[r->n]);
		}
	}
	snapshot_put(s);
	if (r->n == 0) {
		free(r);
		return;
	}
	memset(&req, 0, sizeof req);	/* client 0: the daemon's own */
	probe_running = 1;
	async_run(&req, probe_work, probe_done, r);
}
