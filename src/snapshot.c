/*
 * The routing snapshot's owner. A snapshot is built whole from the
 * database on the main thread, then swapped in under snapshot_mtx; HTTP
 * workers take a reference for the length of one request and never see a
 * half-built one. The old snapshot is freed when its last reader puts it
 * back. This module owns snapshot_mtx and the current pointer.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "apikey.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "model.h"
#include "modelpat.h"
#include "route.h"
#include "router.h"
#include "snapshot.h"
#include "token.h"
#include "vault.h"
#include "xmalloc.h"

static pthread_mutex_t	 snapshot_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot	*snapshot_current;
static unsigned long long snapshot_generation;

static void
snapshot_chans_free(struct snap_channel *c, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(c[i].source_model);
		free(c[i].site_name);
		free(c[i].url);
		free(c[i].platform);
		free(c[i].group);
		free(c[i].proxy);
		free(c[i].key_blob);
		free(c[i].key_ad);
		free(c[i].headers_blob);
	}
	free(c);
}

static void
snapshot_free(struct snapshot *s)
{
	size_t	i;

	for (i = 0; i < s->nkeys; i++)
		modelpat_free(s->keys[i].models);
	for (i = 0; i < s->nmodels; i++) {
		free(s->models[i].name);
		free(s->models[i].owned_by);
	}
	for (i = 0; i < s->nroutes; i++) {
		free(s->routes[i].pattern);
		free(s->routes[i].alias);
		json_decref(s->routes[i].model_map);
		json_decref(s->routes[i].members);
		modelpat_free(s->routes[i].pat);
		free(s->routes[i].chans);
	}
	free(s->routes);
	snapshot_chans_free(s->channels, s->nchannels);
	free(s->keys);
	for (i = 0; i < s->nprices; i++)
		free(s->prices[i].model);
	for (i = 0; i < s->ngprices; i++) {
		free(s->gprices[i].model);
		free(s->gprices[i].group);
	}
	free(s->models);
	free(s->prices);
	free(s->gprices);
	free(s);
}

static int
snapshot_add_key(const struct apikey_row *r, void *arg)
{
	struct snapshot	*s = arg;
	struct snap_key	*k;
	struct err	 e = { ERR_OK, NULL };

	s->keys = xreallocarray(s->keys, s->nkeys + 1, sizeof *s->keys);
	k = &s->keys[s->nkeys];
	memset(k, 0, sizeof *k);
	k->models = modelpat_compile(r->models, &e);
	if (k->models == NULL) {
		/* A key whose patterns no longer compile allows nothing. */
		log_warnx("snapshot: key %lld: %s", r->id, e.msg);
		err_clear(&e);
		k->models = modelpat_compile(NULL, &e);
	}
	k->id = r->id;
	memcpy(k->hash, r->hash, VAULT_HASH_LEN);
	k->enabled = r->enabled;
	k->expires_at = r->expires_at;
	k->has_max_cost = r->has_max_cost;
	k->max_cost = r->max_cost;
	k->used_cost = r->used_cost;
	k->has_max_requests = r->has_max_requests;
	k->max_requests = r->max_requests;
	k->used_requests = r->used_requests;
	s->nkeys++;
	return (0);
}

static int
snapshot_key_cmp(const void *a, const void *b)
{
	return (memcmp(((const struct snap_key *)a)->hash,
	    ((const struct snap_key *)b)->hash, VAULT_HASH_LEN));
}

static uint8_t *
snapshot_copy(const void *p, size_t len)
{
	uint8_t	*c;

	if (p == NULL || len == 0)
		return (NULL);
	c = xmalloc(len);
	memcpy(c, p, len);
	return (c);
}

/* A usable upstream token, its key still sealed. */
struct snapshot_token {
	long long	 id;
	long long	 account_id;
	char		 name[32];
	char		*group;
	uint8_t		*blob;
	size_t		 len;
};

struct snapshot_build {
	struct snapshot		*s;
	struct db		*db;
	const char		*system_proxy;
	struct snap_channel	*accts;		/* one per usable account */
	size_t			 naccts;
	struct snapshot_token	*toks;		/* every usable token */
	size_t			 ntoks;
};

static int
snapshot_add_token(const struct token_usable *t, void *arg)
{
	struct snapshot_build	*b = arg;
	struct snapshot_token	*k;

	if (t->blob == NULL || t->len == 0)
		return (0);
	b->toks = xreallocarray(b->toks, b->ntoks + 1, sizeof *b->toks);
	k = &b->toks[b->ntoks++];
	memset(k, 0, sizeof *k);
	k->id = t->id;
	k->account_id = t->account_id;
	if (t->name != NULL && *t->name != '\0')
		snprintf(k->name, sizeof k->name, "%s", t->name);
	else
		snprintf(k->name, sizeof k->name, "#%lld", t->id);
	k->group = t->group != NULL && *t->group != '\0' ?
	    xstrdup(t->group) : NULL;
	k->blob = snapshot_copy(t->blob, t->len);
	k->len = t->len;
	return (0);
}

static void
snapshot_toks_free(struct snapshot_token *t, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(t[i].group);
		free(t[i].blob);
	}
	free(t);
}

static const struct snapshot_token *
snapshot_find_token(const struct snapshot_build *b, long long id)
{
	size_t	i;

	for (i = 0; i < b->ntoks; i++)
		if (b->toks[i].id == id)
			return (&b->toks[i]);
	return (NULL);
}

/*
 * An account's credential: its own API key, or the default token of a
 * logged-in account. An account with neither cannot serve requests.
 * Channels copy it; a token channel then takes its own token's key.
 */
static int
snapshot_add_channel(const struct account_channel *a, void *arg)
{
	struct snapshot_build	*b = arg;
	struct snap_channel	*c;
	const struct snapshot_token *t;
	void			*blob = NULL;
	size_t			 len = 0;
	long long		 token_id = 0;

	if (strcmp(a->kind, "api_key") == 0 && a->cred_len > 0) {
		blob = snapshot_copy(a->cred_blob, a->cred_len);
		len = a->cred_len;
	} else if (token_default_sealed(b->db, a->account_id, &token_id, &blob,
	    &len) != 0)
		return (0);
	b->accts = xreallocarray(b->accts, b->naccts + 1, sizeof *b->accts);
	c = &b->accts[b->naccts++];
	memset(c, 0, sizeof *c);
	c->account_id = a->account_id;
	if (a->name != NULL && *a->name != '\0')
		snprintf(c->account, sizeof c->account, "%s", a->name);
	else
		snprintf(c->account, sizeof c->account, "#%lld", a->account_id);
	c->balance = a->balance;
	c->site_id = a->site_id;
	c->token_id = token_id;
	if (token_id != 0 && (t = snapshot_find_token(b, token_id)) != NULL &&
	    t->group != NULL)
		c->group = xstrdup(t->group);
	c->site_name = xstrdup(a->site_name);
	c->url = xstrdup(a->url);
	c->platform = xstrdup(a->platform);
	if (a->proxy != NULL)
		c->proxy = xstrdup(a->proxy);
	else if (b->system_proxy != NULL && *b->system_proxy != '\0')
		c->proxy = xstrdup(b->system_proxy);
	c->weight = a->weight;
	c->probe = a->probe;
	c->key_blob = blob;
	c->key_len = len;
	c->key_ad = token_id != 0 ? vault_ad("upstream_tokens", "token",
	    token_id) : vault_ad("accounts", "credential", a->account_id);
	c->headers_blob = snapshot_copy(a->headers_blob, a->headers_len);
	c->headers_len = a->headers_blob != NULL ? a->headers_len : 0;
	return (0);
}

static int
snapshot_model_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct snap_model *)a)->name,
	    ((const struct snap_model *)b)->name));
}

const struct snap_model *
snapshot_model(const struct snapshot *s, const char *name)
{
	struct snap_model	want;

	if (s == NULL || s->nmodels == 0)
		return (NULL);
	memset(&want, 0, sizeof want);
	want.name = (char *)name;
	return (bsearch(&want, s->models, s->nmodels, sizeof *s->models,
	    snapshot_model_cmp));
}

static int
snapshot_add_route(const struct route_row *r, void *arg)
{
	struct snapshot		*s = arg;
	struct snap_route	*sr;
	struct err		 e = { ERR_OK, NULL };
	json_t			*pats;

	if (!r->enabled)
		return (0);
	s->routes = xreallocarray(s->routes, s->nroutes + 1,
	    sizeof *s->routes);
	sr = &s->routes[s->nroutes];
	memset(sr, 0, sizeof *sr);
	sr->exact = route_is_exact(r->pattern);
	if (!sr->exact) {
		pats = json_pack("[s]", r->pattern);
		sr->pat = modelpat_compile(pats, &e);
		json_decref(pats);
		if (sr->pat == NULL) {
			log_warnx("snapshot: route %lld: %s", r->id, e.msg);
			err_clear(&e);
			return (0);
		}
	}
	s->nroutes++;
	sr->id = r->id;
	sr->pattern = xstrdup(r->pattern);
	sr->alias = r->alias != NULL && *r->alias != '\0' ?
	    xstrdup(r->alias) : NULL;
	if (router_strategy_find(r->strategy, &sr->strategy) != 0)
		sr->strategy = ROUTER_WEIGHTED;
	sr->model_map = json_loads(r->model_map != NULL ? r->model_map : "{}",
	    0, NULL);
	sr->members = r->members != NULL ? json_loads(r->members, 0, NULL) :
	    NULL;
	if (!json_is_object(sr->model_map)) {
		json_decref(sr->model_map);
		sr->model_map = json_object();
	}
	return (0);
}

/*
 * A channels row, with its account's credential and site copied in; a
 * token channel uses its token's key instead, and is left out while the
 * token is not usable (disabled, expired, its key unknown).
 */
static int
snapshot_add_route_channel(const struct route_chan_row *r, void *arg)
{
	struct snapshot_build	*b = arg;
	struct snapshot		*s = b->s;
	struct snap_route	*sr = NULL;
	const struct snap_channel *a = NULL;
	const struct snapshot_token *t = NULL;
	struct snap_channel	*c;
	size_t			 i;

	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].id == r->route_id)
			sr = &s->routes[i];
	for (i = 0; i < b->naccts; i++)
		if (b->accts[i].account_id == r->account_id)
			a = &b->accts[i];
	if (sr == NULL || a == NULL)
		return (0);
	if (r->token_id != 0 && ((t = snapshot_find_token(b, r->token_id)) ==
	    NULL || t->account_id != r->account_id))
		return (0);
	s->channels = xreallocarray(s->channels, s->nchannels + 1,
	    sizeof *s->channels);
	c = &s->channels[s->nchannels];
	*c = *a;
	c->id = r->id;
	c->route_id = r->route_id;
	c->source_model = xstrdup(r->source_model != NULL ? r->source_model :
	    sr->pattern);
	c->priority = r->priority;
	c->chan_weight = r->weight;
	c->enabled = r->enabled;
	c->site_name = xstrdup(a->site_name);
	c->url = xstrdup(a->url);
	c->platform = xstrdup(a->platform);
	c->proxy = a->proxy != NULL ? xstrdup(a->proxy) : NULL;
	c->headers_blob = snapshot_copy(a->headers_blob, a->headers_len);
	if (t != NULL) {
		c->token_id = t->id;
		snprintf(c->token, sizeof c->token, "%s", t->name);
		c->group = t->group != NULL ? xstrdup(t->group) : NULL;
		c->key_blob = snapshot_copy(t->blob, t->len);
		c->key_len = t->len;
		c->key_ad = vault_ad("upstream_tokens", "token", t->id);
	} else {
		c->group = a->group != NULL ? xstrdup(a->group) : NULL;
		c->key_blob = snapshot_copy(a->key_blob, a->key_len);
		c->key_ad = xstrdup(a->key_ad);
	}
	sr->chans = xreallocarray(sr->chans, sr->nchans + 1,
	    sizeof *sr->chans);
	sr->chans[sr->nchans++] = s->nchannels++;
	return (0);
}

/*
 * The route serving a requested model: an exact pattern first, then an
 * alias, then glob and re: patterns in route order.
 */
const struct snap_route *
snapshot_route(const struct snapshot *s, const char *model,
    enum snap_match *how)
{
	size_t	i;

	if (s == NULL || model == NULL)
		return (NULL);
	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].exact &&
		    strcmp(s->routes[i].pattern, model) == 0) {
			*how = SNAP_MATCH_EXACT;
			return (&s->routes[i]);
		}
	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].alias != NULL &&
		    strcmp(s->routes[i].alias, model) == 0) {
			*how = SNAP_MATCH_ALIAS;
			return (&s->routes[i]);
		}
	for (i = 0; i < s->nroutes; i++)
		if (s->routes[i].pat != NULL &&
		    modelpat_match(s->routes[i].pat, model)) {
			*how = SNAP_MATCH_PATTERN;
			return (&s->routes[i]);
		}
	return (NULL);
}

/*
 * Does channel c serve a request for model on route r? A pattern match
 * needs the channel's own model (after the map); exact and alias matches
 * take every channel of the route.
 */
int
snapshot_channel_serves(const struct snap_route *r, enum snap_match how,
    const char *model, const struct snap_channel *c)
{
	const char	*to;

	if (how != SNAP_MATCH_PATTERN)
		return (1);
	to = json_string_value(json_object_get(r->model_map, model));
	return (strcmp(c->source_model, to != NULL ? to : model) == 0);
}

/* The model name sent upstream: the route's map, else the channel's. */
const char *
snapshot_forward_model(const struct snap_route *r, enum snap_match how,
    const char *model, const struct snap_channel *c)
{
	const char	*to;

	if ((to = json_string_value(json_object_get(r->model_map, model))) !=
	    NULL)
		return (to);
	return (how == SNAP_MATCH_PATTERN ? model : c->source_model);
}

static int
snapshot_price_cmp(const void *a, const void *b)
{
	const struct snap_price	*pa = a, *pb = b;
	int			 c;

	if ((c = strcmp(pa->model, pb->model)) != 0)
		return (c);
	return (pa->site_id < pb->site_id ? -1 : pa->site_id > pb->site_id);
}

static int
snapshot_gprice_cmp(const void *a, const void *b)
{
	const struct snap_price	*pa = a, *pb = b;
	int			 c;

	if ((c = snapshot_price_cmp(a, b)) != 0)
		return (c);
	return (strcmp(pa->group, pb->group));
}

static void
snapshot_price_set(struct snap_price *p, const struct model_price_row *r)
{
	p->price.input = r->price.input_per_m;
	p->price.output = r->price.output_per_m;
	p->price.cache_read = r->price.cache_read_per_m;
	p->price.cache_write = r->price.cache_write_per_m;
	p->price.per_call = r->price.per_call;
	p->price.has = r->price.has;	/* ADAPTER_PRICE_* == USAGE_PRICE_* */
}

/*
 * Every named group's price as listed (for channels whose token is in
 * that group), and one price per (site, model) for the others: the
 * site's default group ("" or "default") when listed, else its cheapest.
 */
static int
snapshot_add_price(const struct model_price_row *r, void *arg)
{
	struct snapshot		*s = arg;
	struct snap_price	*p = NULL;
	int			 preferred;
	size_t			 i;

	preferred = r->group == NULL || *r->group == '\0' ||
	    strcmp(r->group, "default") == 0;
	if (r->group != NULL && *r->group != '\0') {
		s->gprices = xreallocarray(s->gprices, s->ngprices + 1,
		    sizeof *s->gprices);
		p = &s->gprices[s->ngprices++];
		memset(p, 0, sizeof *p);
		p->model = xstrdup(r->model);
		p->site_id = r->site_id;
		p->group = xstrdup(r->group);
		snapshot_price_set(p, r);
		p = NULL;
	}
	for (i = 0; i < s->nprices; i++)
		if (s->prices[i].site_id == r->site_id &&
		    strcmp(s->prices[i].model, r->model) == 0)
			p = &s->prices[i];
	/* Keep a default-group price; among others, keep the cheapest. */
	if (p != NULL && (p->preferred || (!preferred &&
	    p->price.input <= r->price.input_per_m)))
		return (0);
	if (p == NULL) {
		s->prices = xreallocarray(s->prices, s->nprices + 1,
		    sizeof *s->prices);
		p = &s->prices[s->nprices++];
		memset(p, 0, sizeof *p);
		p->model = xstrdup(r->model);
		p->site_id = r->site_id;
	}
	p->preferred = preferred;
	snapshot_price_set(p, r);
	return (0);
}

/*
 * The price of model on a site for a key in group (NULL: the account's
 * own): that group's where the site lists prices per group, else the
 * site's default one.
 */
const struct usage_price *
snapshot_price(const struct snapshot *s, long long site_id, const char *model,
    const char *group)
{
	struct snap_price	 want;
	const struct snap_price	*p = NULL;

	memset(&want, 0, sizeof want);
	want.model = (char *)model;
	want.site_id = site_id;
	want.group = (char *)group;
	if (group != NULL && s->ngprices > 0)
		p = bsearch(&want, s->gprices, s->ngprices, sizeof *s->gprices,
		    snapshot_gprice_cmp);
	if (p == NULL && s->nprices > 0)
		p = bsearch(&want, s->prices, s->nprices, sizeof *s->prices,
		    snapshot_price_cmp);
	return (p != NULL ? &p->price : NULL);
}

static void
snapshot_limits(struct snap_limits *l, const struct settings *set)
{
	l->connect_sec = settings_int(set, "proxy_connect_timeout_sec");
	l->first_byte_sec = settings_int(set, "proxy_first_byte_timeout_sec");
	l->idle_sec = settings_int(set, "proxy_idle_timeout_sec");
	l->total_sec = settings_int(set, "proxy_total_timeout_sec");
	l->max_attempts = settings_int(set, "proxy_max_channel_attempts");
	l->max_body = settings_int(set, "http_max_request_body_bytes");
	l->max_response = settings_int(set, "proxy_max_response_bytes");
	l->sticky = settings_bool(set, "sticky_session_enabled");
	l->sticky_ttl_sec = settings_int(set, "sticky_session_ttl_sec");
	l->auth_fail_limit = (int)settings_int(set, "auth_fail_limit");
}

static void
snapshot_rset(struct router_settings *r, const struct settings *set)
{
	router_settings_default(r);
	r->cost_weight = settings_real(set, "routing_cost_weight");
	r->balance_weight = settings_real(set, "routing_balance_weight");
	r->usage_weight = settings_real(set, "routing_usage_weight");
	r->base_factor = settings_real(set, "routing_base_weight_factor");
	r->value_factor = settings_real(set, "routing_value_score_factor");
	r->fallback_unit_cost = settings_real(set,
	    "routing_fallback_unit_cost");
	if (settings_int(set, "failure_cooldown_max_sec") > 0)
		r->cooldown_cap = settings_int(set, "failure_cooldown_max_sec") *
		    ROUTER_SEC;
}

/* Build a new snapshot from the database and make it current. */
int
snapshot_rebuild(struct db *db, const struct settings *set, struct err *e)
{
	struct snapshot		*s, *old;
	struct snapshot_build	 b;
	json_t			*models, *m;
	size_t			 i;

	s = xcalloc(1, sizeof *s);
	s->refs = 1;
	snapshot_limits(&s->limits, set);
	b.s = s;
	b.db = db;
	b.system_proxy = settings_str(set, "system_proxy_url");
	b.accts = NULL;
	b.naccts = 0;
	b.toks = NULL;
	b.ntoks = 0;
	snapshot_rset(&s->rset, set);
	if (apikey_foreach(db, snapshot_add_key, s, e) != 0 ||
	    token_usable_foreach(db, (long long)time(NULL), snapshot_add_token,
	    &b, e) != 0 ||
	    account_channels(db, snapshot_add_channel, &b, e) != 0 ||
	    route_foreach(db, snapshot_add_route, s, e) != 0 ||
	    route_channels(db, snapshot_add_route_channel, &b, e) != 0 ||
	    model_price_rows(db, snapshot_add_price, s, e) != 0 ||
	    (models = model_served(db, e)) == NULL) {
		snapshot_chans_free(b.accts, b.naccts);
		snapshot_toks_free(b.toks, b.ntoks);
		snapshot_free(s);
		return (-1);
	}
	snapshot_chans_free(b.accts, b.naccts);
	snapshot_toks_free(b.toks, b.ntoks);
	if (s->nprices > 0)
		qsort(s->prices, s->nprices, sizeof *s->prices,
		    snapshot_price_cmp);
	if (s->ngprices > 0)
		qsort(s->gprices, s->ngprices, sizeof *s->gprices,
		    snapshot_gprice_cmp);
	if (s->nkeys > 0)
		qsort(s->keys, s->nkeys, sizeof *s->keys, snapshot_key_cmp);
	s->models = xcalloc(json_array_size(models) + 1, sizeof *s->models);
	json_array_foreach(models, i, m) {
		s->models[i].name = xstrdup(json_string_value(json_object_get(m,
		    "model")));
		s->models[i].owned_by = xstrdup(json_string_value(
		    json_object_get(m, "owned_by")));
		s->models[i].created = json_integer_value(json_object_get(m,
		    "created"));
	}
	s->nmodels = json_array_size(models);
	json_decref(models);

	pthread_mutex_lock(&snapshot_mtx);
	s->generation = ++snapshot_generation;
	old = snapshot_current;
	snapshot_current = s;
	if (old != NULL && --old->refs > 0)
		old = NULL;
	pthread_mutex_unlock(&snapshot_mtx);
	if (old != NULL)
		snapshot_free(old);
	return (0);
}

/* A reference to the current snapshot (NULL before the first build). */
struct snapshot *
snapshot_get(void)
{
	struct snapshot	*s;

	pthread_mutex_lock(&snapshot_mtx);
	if ((s = snapshot_current) != NULL)
		s->refs++;
	pthread_mutex_unlock(&snapshot_mtx);
	return (s);
}

void
snapshot_put(struct snapshot *s)
{
	int	last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&snapshot_mtx);
	last = --s->refs == 0;
	pthread_mutex_unlock(&snapshot_mtx);
	if (last)
		snapshot_free(s);
}

/* At shutdown, after the HTTP workers are gone. */
void
snapshot_clear(void)
{
	struct snapshot	*s;

	pthread_mutex_lock(&snapshot_mtx);
	s = snapshot_current;
	snapshot_current = NULL;
	pthread_mutex_unlock(&snapshot_mtx);
	snapshot_put(s);
}

/*
 * The key whose keyed hash matches secret, or NULL. The search is by hash
 * (which says nothing of the key); the final comparison is constant-time.
 */
const struct snap_key *
snapshot_key(const struct snapshot *s, const char *secret)
{
	struct snap_key		 want;
	const struct snap_key	*k;

	if (s == NULL || s->nkeys == 0 || secret == NULL || *secret == '\0')
		return (NULL);
	memset(&want, 0, sizeof want);
	vault_hash(secret, want.hash);
	k = bsearch(&want, s->keys, s->nkeys, sizeof *s->keys,
	    snapshot_key_cmp);
	if (k == NULL || !vault_equal(k->hash, want.hash, VAULT_HASH_LEN))
		return (NULL);
	return (k);
}

/*
 * The channel's upstream key, opened (free it with vault_plain_free());
 * NULL if broken.
 */
char *
snapshot_channel_key(const struct snap_channel *c)
{
	char	*key, *cause = NULL;

	key = vault_unseal_plain(c->key_ad, c->key_blob, c->key_len, &cause);
	if (key == NULL) {
		log_warnx("channel of account %lld: %s", c->account_id, cause);
		free(cause);
	}
	return (key);
}

/* The site's extra headers, opened: a NULL-terminated array, or NULL. */
char **
snapshot_channel_headers(const struct snap_channel *c)
{
	char	*ad, *plain, *cause = NULL, **out;
	json_t	*list, *h;
	size_t	 i, n = 0;

	if (c->headers_blob == NULL)
		return (NULL);
	ad = vault_ad("sites", "headers", c->site_id);
	plain = vault_unseal_plain(ad, c->headers_blob, c->headers_len, &cause);
	free(ad);
	if (plain == NULL) {
		log_warnx("site %lld headers: %s", c->site_id, cause);
		free(cause);
		return (NULL);
	}
	list = json_loads(plain, 0, NULL);
	vault_plain_free(plain);
	out = xcalloc(json_array_size(list) + 1, sizeof *out);
	json_array_foreach(list, i, h)
		if (json_is_string(h))
			out[n++] = xstrdup(json_string_value(h));
	json_decref(list);
	return (out);
}

void
snapshot_headers_free(char **h)
{
	size_t	i;

	for (i = 0; h != NULL && h[i] != NULL; i++) {
		explicit_bzero(h[i], strlen(h[i]));
		free(h[i]);
	}
	free(h);
}

/* Does any key of the current snapshot have a cost or request limit? */
int
snapshot_key_limits(void)
{
	struct snapshot	*s = snapshot_get();
	size_t		 i;
	int		 any = 0;

	for (i = 0; s != NULL && i < s->nkeys && !any; i++)
		any = s->keys[i].has_max_cost || s->keys[i].has_max_requests;
	snapshot_put(s);
	return (any);
}
