/*
 * The owner of runtime routing state, under routestate_mtx: each
 * channel's cooldown and counters and each site's and (site, model)'s
 * health. HTTP workers report attempts here and read it to build router
 * candidates; ctl reads it for explanations. Channels' counters and
 * cooldowns are saved to the channels table (src/route.c) by the main
 * thread once a minute and at shutdown, and loaded at start-up; site
 * health lives in memory only. It makes no choice itself (router.c).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "relay.h"
#include "route.h"
#include "router.h"
#include "routestate.h"
#include "snapshot.h"
#include "usage.h"
#include "xmalloc.h"

struct routestate_chan {
	long long		 id;
	struct router_chan_state st;
	long long		 success;
	long long		 total_latency;	/* ms */
	double			 total_cost;	/* USD */
	long long		 last_used_at;
	long long		 last_selected_at;
};

struct routestate_health {
	long long		 site_id;
	char			*model;		/* NULL: the site's */
	struct router_health	 h;
};

static pthread_mutex_t		 routestate_mtx = PTHREAD_MUTEX_INITIALIZER;
#define ROUTESTATE_STICKY_MAX	4096
#define ROUTESTATE_STICKY_KEY	192

struct routestate_sticky {
	char		key[ROUTESTATE_STICKY_KEY];
	long long	channel;
	long long	until;		/* ms */
};
static struct routestate_sticky	*routestate_stickies;
static size_t			 routestate_nstickies;

static struct routestate_chan	*routestate_chans;
static size_t			 routestate_nchans;
static struct routestate_health	*routestate_healths;
static size_t			 routestate_nhealths;

long long
routestate_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Under the lock: the channel's state, created when create is set. */
static struct routestate_chan *
routestate_chan(long long id, int create)
{
	size_t	i;

	for (i = 0; i < routestate_nchans; i++)
		if (routestate_chans[i].id == id)
			return (&routestate_chans[i]);
	if (!create)
		return (NULL);
	routestate_chans = xreallocarray(routestate_chans,
	    routestate_nchans + 1, sizeof *routestate_chans);
	memset(&routestate_chans[routestate_nchans], 0,
	    sizeof *routestate_chans);
	routestate_chans[routestate_nchans].id = id;
	return (&routestate_chans[routestate_nchans++]);
}

static struct router_health *
routestate_health(long long site_id, const char *model, int create)
{
	struct routestate_health	*h;
	size_t				 i;

	for (i = 0; i < routestate_nhealths; i++) {
		h = &routestate_healths[i];
		if (h->site_id != site_id)
			continue;
		if ((model == NULL && h->model == NULL) || (model != NULL &&
		    h->model != NULL && strcmp(model, h->model) == 0))
			return (&h->h);
	}
	if (!create)
		return (NULL);
	routestate_healths = xreallocarray(routestate_healths,
	    routestate_nhealths + 1, sizeof *routestate_healths);
	h = &routestate_healths[routestate_nhealths++];
	memset(h, 0, sizeof *h);
	h->site_id = site_id;
	h->model = model != NULL ? xstrdup(model) : NULL;
	return (&h->h);
}

/*
 * Which key a channel sends: channels with equal values share it (a
 * usage limit is the key's). A token's id, else minus the account's (an
 * account's own API key), so that the two never collide.
 */
static long long
routestate_credential(const struct snap_channel *c)
{
	return (c->token_id != 0 ? c->token_id : -c->account_id);
}

/*
 * Router candidates for every channel of route r (out and chs have room
 * for r->nchans). fmt is a relay_format, or -1 for any: a channel whose
 * platform can serve it neither natively nor by conversion is marked
 * ineligible (as a model mismatch).
 */
size_t
routestate_candidates(const struct snapshot *s, const struct snap_route *r,
    enum snap_match how, const char *model, int fmt, __unused long long now,
    struct router_candidate *out, const struct snap_channel **chs)
{
	const struct snap_channel	*c;
	const struct usage_price	*p;
	struct router_candidate		*rc;
	struct routestate_chan		*st;
	struct router_health		*h;
	enum relay_format		 ups[RELAY_MAX_UPSTREAM];
	size_t				 i;

	pthread_mutex_lock(&routestate_mtx);
	for (i = 0; i < r->nchans; i++) {
		c = chs[i] = &s->channels[r->chans[i]];
		rc = &out[i];
		router_candidate_init(rc);
		rc->channel_id = c->id;
		rc->site_id = c->site_id;
		rc->account_id = c->account_id;
		rc->credential_id = routestate_credential(c);
		rc->site_name = c->site_name;
		rc->account_name = c->account;
		rc->token_name = c->token[0] != '\0' ? c->token : NULL;
		rc->model = c->source_model;
		rc->priority = c->priority;
		rc->weight = c->chan_weight;
		rc->enabled = c->enabled;
		rc->model_mismatch = !snapshot_channel_serves(r, how, model, c);
		if (fmt >= 0 && relay_upstream_formats(c->platform, fmt, model,
		    ups) == 0)
			rc->model_mismatch = 1;
		rc->no_credential = c->key_blob == NULL;
		rc->site_weight = c->weight >= 0 ? c->weight : 1;
		rc->balance = c->balance;
		p = snapshot_price(s, c->site_id, c->source_model, c->group);
		if (p != NULL)
			rc->catalog_cost = (p->input + p->output) / 2;
		if ((st = routestate_chan(c->id, 0)) != NULL) {
			rc->st = st->st;
			rc->success_count = st->success;
			rc->total_latency = st->total_latency;
			rc->total_cost = st->total_cost;
			rc->last_used_at = st->last_used_at;
			rc->last_selected_at = st->last_selected_at;
		}
		if ((h = routestate_health(c->site_id, NULL, 0)) != NULL)
			rc->site_health = *h;
		if ((h = routestate_health(c->site_id, c->source_model, 0)) !=
		    NULL)
			rc->model_health = *h;
	}
	pthread_mutex_unlock(&routestate_mtx);
	return (r->nchans);
}

void
routestate_selected(long long id, long long now)
{
	pthread_mutex_lock(&routestate_mtx);
	routestate_chan(id, 1)->last_selected_at = now;
	pthread_mutex_unlock(&routestate_mtx);
}

/*
 * One attempt's outcome on channel c: ok, or the upstream's HTTP status
 * (0: none) and error text. Client errors are not the channel's fault and
 * are not counted. A usage-limit 429 cools every channel sharing the
 * credential (the same upstream key: a token, or the account's own) for
 * 5 minutes.
 */
void
routestate_report(const struct snapshot *s, const struct snap_channel *c,
    const char *model, enum router_strategy strategy, int ok, int status,
    const char *text, long long reset_at, long long latency, double cost,
    long long now)
{
	struct routestate_chan		*st;
	struct router_candidate		*cands;
	struct router_cool		*cools;
	enum router_fail_kind		 kind;
	size_t				 i, n = 0, failed = 0, k;

	pthread_mutex_lock(&routestate_mtx);
	st = routestate_chan(c->id, 1);
	st->last_used_at = now;
	if (ok) {
		router_chan_ok(&st->st);
		st->success++;
		st->total_latency += latency;
		st->total_cost += cost;
		router_health_ok(routestate_health(c->site_id, NULL, 1),
		    latency, now);
		router_health_ok(routestate_health(c->site_id, model, 1),
		    latency, now);
		goto out;
	}
	kind = router_classify(status, text);
	if (kind == ROUTER_FAIL_CLIENT || kind == ROUTER_FAIL_VALIDATION)
		goto out;
	router_health_fail(routestate_health(c->site_id, NULL, 1), kind, now);
	router_health_fail(routestate_health(c->site_id, model, 1), kind, now);
	if (kind != ROUTER_FAIL_USAGE_LIMIT) {
		router_chan_fail(&st->st, strategy, &s->rset, now);
		goto out;
	}
	cands = xcalloc(s->nchannels, sizeof *cands);
	cools = xcalloc(s->nchannels, sizeof *cools);
	for (i = 0; i < s->nchannels; i++) {
		if (routestate_credential(&s->channels[i]) !=
		    routestate_credential(c))
			continue;
		if (s->channels[i].id == c->id)
			failed = n;
		cands[n].channel_id = s->channels[i].id;
		cands[n++].credential_id = routestate_credential(c);
	}
	k = router_usage_limit(cands, n, failed, reset_at, now, cools);
	for (i = 0; i < k; i++) {
		st = routestate_chan(cools[i].channel_id, 1);
		st->st.cooldown_until = cools[i].until;
		st->st.fail_count = 0;
		st->st.last_fail_at = now;
	}
	free(cands);
	free(cools);
out:
	pthread_mutex_unlock(&routestate_mtx);
}

/* 0, or -1 when the channel has no runtime state to clear. */
int
routestate_cooldown_clear(long long id)
{
	struct routestate_chan	*st;

	pthread_mutex_lock(&routestate_mtx);
	/* The admin's clear forgets the failures too (metapi-node 2.6). */
	if ((st = routestate_chan(id, 0)) != NULL)
		memset(&st->st, 0, sizeof st->st);
	pthread_mutex_unlock(&routestate_mtx);
	return (st != NULL ? 0 : -1);
}

struct routestate_cool {
	long long	id;
	long long	until;
};

static int
routestate_cool_cmp(const void *a, const void *b)
{
	const struct routestate_cool	*x = a, *y = b;

	return (x->until < y->until ? 1 : x->until > y->until ? -1 : 0);
}

/*
 * The channels cooling at now, those whose cooldown ends last first (the
 * ones a recovery probe helps most); at most max ids. Returns how many.
 */
size_t
routestate_cooling(long long now, long long *ids, size_t max)
{
	struct routestate_cool	*v;
	size_t			 i, n = 0;

	pthread_mutex_lock(&routestate_mtx);
	v = xcalloc(routestate_nchans + 1, sizeof *v);
	for (i = 0; i < routestate_nchans; i++) {
		if (routestate_chans[i].st.cooldown_until <= now)
			continue;
		v[n].id = routestate_chans[i].id;
		v[n++].until = routestate_chans[i].st.cooldown_until;
	}
	pthread_mutex_unlock(&routestate_mtx);
	qsort(v, n, sizeof *v, routestate_cool_cmp);
	for (i = 0; i < n && i < max; i++)
		ids[i] = v[i].id;
	free(v);
	return (i);
}

/* At shutdown, after the HTTP workers are gone. */
void
routestate_clear(void)
{
	size_t	i;

	pthread_mutex_lock(&routestate_mtx);
	for (i = 0; i < routestate_nhealths; i++)
		free(routestate_healths[i].model);
	free(routestate_healths);
	free(routestate_chans);
	free(routestate_stickies);
	routestate_healths = NULL;
	routestate_chans = NULL;
	routestate_stickies = NULL;
	routestate_nhealths = routestate_nchans = routestate_nstickies = 0;
	pthread_mutex_unlock(&routestate_mtx);
}

/* The sites' health, as route_health_save() keeps it. */
static int
routestate_health_save(struct db *db, struct err *e)
{
	struct route_health	*v;
	size_t			 i, n;
	int			 rv;

	pthread_mutex_lock(&routestate_mtx);
	n = routestate_nhealths;
	v = xcalloc(n > 0 ? n : 1, sizeof *v);
	for (i = 0; i < n; i++) {
		v[i].site_id = routestate_healths[i].site_id;
		v[i].model = routestate_healths[i].model != NULL ?
		    xstrdup(routestate_healths[i].model) : NULL;
		v[i].h = routestate_healths[i].h;
	}
	pthread_mutex_unlock(&routestate_mtx);
	rv = route_health_save(db, v, n, e);
	for (i = 0; i < n; i++)
		free((char *)v[i].model);
	free(v);
	return (rv);
}

/*
 * Save the channels' counters and cooldowns (main thread): a copy is
 * taken under the lock, the database is written outside it.
 */
int
routestate_save(struct db *db, struct err *e)
{
	struct route_runtime	*v;
	struct routestate_chan	*c;
	size_t			 i, n;
	int			 rv;

	pthread_mutex_lock(&routestate_mtx);
	n = routestate_nchans;
	v = xcalloc(n > 0 ? n : 1, sizeof *v);
	for (i = 0; i < n; i++) {
		c = &routestate_chans[i];
		v[i].id = c->id;
		v[i].success = c->success;
		v[i].fail = c->st.fail_count;
		v[i].consecutive = c->st.consecutive;
		v[i].level = c->st.level;
		v[i].cooldown_until = c->st.cooldown_until;
		v[i].last_fail_at = c->st.last_fail_at;
		v[i].last_used_at = c->last_used_at;
		v[i].total_latency = c->total_latency;
		v[i].total_cost = c->total_cost;
	}
	pthread_mutex_unlock(&routestate_mtx);
	rv = n > 0 ? route_runtime_save(db, v, n, e) : 0;
	free(v);
	if (rv == 0)
		rv = routestate_health_save(db, e);
	return (rv);
}

static int
routestate_health_one(const struct route_health *r, __unused void *arg)
{
	*routestate_health(r->site_id, r->model, 1) = r->h;
	return (0);
}

static int
routestate_load_one(const struct route_runtime *r, __unused void *arg)
{
	struct routestate_chan	*c;

	c = routestate_chan(r->id, 1);
	c->success = r->success;
	c->st.fail_count = (int)r->fail;
	c->st.consecutive = (int)r->consecutive;
	c->st.level = (int)r->level;
	c->st.cooldown_until = r->cooldown_until;
	c->st.last_fail_at = r->last_fail_at;
	c->last_used_at = r->last_used_at;
	c->total_latency = r->total_latency;
	c->total_cost = r->total_cost;
	return (0);
}

/* At start-up, before requests: what the last daemon learnt. */
int
routestate_load(struct db *db, struct err *e)
{
	int	rv;

	pthread_mutex_lock(&routestate_mtx);
	rv = route_runtime_load(db, routestate_load_one, NULL, e);
	if (rv == 0)
		rv = route_health_load(db, routestate_health_one, NULL, e);
	pthread_mutex_unlock(&routestate_mtx);
	return (rv);
}

/*
 * Sticky sessions: one client conversation ("key|model|session") stays on
 * the channel that served it, so the upstream's prompt cache is reused.
 * A bounded table: when it is full, the binding closest to expiry goes.
 */

static struct routestate_sticky *
routestate_sticky_find(const char *key)
{
	size_t	i;

	for (i = 0; i < routestate_nstickies; i++)
		if (strcmp(routestate_stickies[i].key, key) == 0)
			return (&routestate_stickies[i]);
	return (NULL);
}

/* The channel bound to a session, 0 when none (or it expired). */
long long
routestate_sticky_get(const char *key, long long now)
{
	struct routestate_sticky	*s;
	long long			 ch = 0;

	pthread_mutex_lock(&routestate_mtx);
	if ((s = routestate_sticky_find(key)) != NULL && s->until > now)
		ch = s->channel;
	pthread_mutex_unlock(&routestate_mtx);
	return (ch);
}

void
routestate_sticky_set(const char *key, long long channel, long long until)
{
	struct routestate_sticky	*s;
	size_t				 i, old = 0;

	pthread_mutex_lock(&routestate_mtx);
	if ((s = routestate_sticky_find(key)) == NULL) {
		if (routestate_nstickies < ROUTESTATE_STICKY_MAX) {
			routestate_stickies = xreallocarray(routestate_stickies,
			    routestate_nstickies + 1,
			    sizeof *routestate_stickies);
			s = &routestate_stickies[routestate_nstickies++];
		} else {
			for (i = 1; i < routestate_nstickies; i++)
				if (routestate_stickies[i].until <
				    routestate_stickies[old].until)
					old = i;
			s = &routestate_stickies[old];
		}
		snprintf(s->key, sizeof s->key, "%s", key);
	}
	s->channel = channel;
	s->until = until;
	pthread_mutex_unlock(&routestate_mtx);
}

/* The bound channel failed: the session is free to move. */
void
routestate_sticky_drop(const char *key)
{
	struct routestate_sticky	*s;

	pthread_mutex_lock(&routestate_mtx);
	if ((s = routestate_sticky_find(key)) != NULL)
		s->until = 0;
	pthread_mutex_unlock(&routestate_mtx);
}

/*
 * Which upstream format worked for a client format on a site and model:
 * kept in the sticky table under a "fmt|" key, so it shares its bound
 * and its expiry. 0 when nothing is remembered, else format + 1.
 */
static void
routestate_format_key(char *key, size_t size, long long site, const char *model,
    int client)
{
	snprintf(key, size, "fmt|%lld|%d|%s", site, client, model);
}

int
routestate_format_get(long long site, const char *model, int client,
    long long now)
{
	char	key[ROUTESTATE_STICKY_KEY];

	routestate_format_key(key, sizeof key, site, model, client);
	return ((int)routestate_sticky_get(key, now));
}

void
routestate_format_set(long long site, const char *model, int client,
    int upstream, long long until)
{
	char	key[ROUTESTATE_STICKY_KEY];

	routestate_format_key(key, sizeof key, site, model, client);
	routestate_sticky_set(key, upstream + 1, until);
}
