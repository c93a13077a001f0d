/*
 * The routing snapshot's owner. A snapshot is built whole from the
 * database on the main thread, then swapped in under snapshot_mtx; HTTP
 * workers take a reference for the length of one request and never see a
 * half-built one. The old snapshot is freed when its last reader puts it
 * back. This module owns snapshot_mtx and the current pointer.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "apikey.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "model.h"
#include "modelpat.h"
#include "snapshot.h"
#include "token.h"
#include "vault.h"
#include "xmalloc.h"

static pthread_mutex_t	 snapshot_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot	*snapshot_current;
static unsigned long long snapshot_generation;

static void
snapshot_free(struct snapshot *s)
{
	size_t	i;

	for (i = 0; i < s->nkeys; i++)
		modelpat_free(s->keys[i].models);
	for (i = 0; i < s->nmodels; i++) {
		free(s->models[i].name);
		free(s->models[i].owned_by);
		free(s->models[i].chans);
	}
	for (i = 0; i < s->nchannels; i++) {
		free(s->channels[i].site_name);
		free(s->channels[i].url);
		free(s->channels[i].platform);
		free(s->channels[i].proxy);
		free(s->channels[i].key_blob);
		free(s->channels[i].key_ad);
		free(s->channels[i].headers_blob);
	}
	for (i = 0; i < s->nprices; i++)
		free(s->prices[i].model);
	free(s->keys);
	free(s->models);
	free(s->channels);
	free(s->prices);
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

struct snapshot_build {
	struct snapshot	*s;
	struct db	*db;
	const char	*system_proxy;
};

/*
 * A channel per active account: its own API key, or the default token of
 * a logged-in account. An account with neither cannot serve requests.
 */
static int
snapshot_add_channel(const struct account_channel *a, void *arg)
{
	struct snapshot_build	*b = arg;
	struct snapshot		*s = b->s;
	struct snap_channel	*c;
	void			*blob = NULL;
	size_t			 len = 0;
	long long		 token_id = 0;

	if (strcmp(a->kind, "api_key") == 0 && a->cred_len > 0) {
		blob = snapshot_copy(a->cred_blob, a->cred_len);
		len = a->cred_len;
	} else if (token_default_sealed(b->db, a->account_id, &token_id, &blob,
	    &len) != 0)
		return (0);
	s->channels = xreallocarray(s->channels, s->nchannels + 1,
	    sizeof *s->channels);
	c = &s->channels[s->nchannels++];
	memset(c, 0, sizeof *c);
	c->account_id = a->account_id;
	c->site_id = a->site_id;
	c->token_id = token_id;
	c->site_name = xstrdup(a->site_name);
	c->url = xstrdup(a->url);
	c->platform = xstrdup(a->platform);
	if (a->proxy != NULL)
		c->proxy = xstrdup(a->proxy);
	else if (b->system_proxy != NULL && *b->system_proxy != '\0')
		c->proxy = xstrdup(b->system_proxy);
	c->weight = a->weight;
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
	want.name = (char *)name;
	return (bsearch(&want, s->models, s->nmodels, sizeof *s->models,
	    snapshot_model_cmp));
}

/* Give each model the channels of the accounts that list it. */
static int
snapshot_add_pair(long long account_id, const char *model, void *arg)
{
	struct snapshot		*s = arg;
	struct snap_model	*m;
	size_t			 i;

	if ((m = (struct snap_model *)snapshot_model(s, model)) == NULL)
		return (0);
	for (i = 0; i < s->nchannels; i++) {
		if (s->channels[i].account_id != account_id)
			continue;
		m->chans = xreallocarray(m->chans, m->nchans + 1,
		    sizeof *m->chans);
		m->chans[m->nchans++] = i;
	}
	return (0);
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

/*
 * One price per (site, model): the site's default group ("" or
 * "default") when listed, else its cheapest group.
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
		p->model = xstrdup(r->model);
		p->site_id = r->site_id;
	}
	p->preferred = preferred;
	p->price.input = r->price.input_per_m;
	p->price.output = r->price.output_per_m;
	p->price.cache_read = r->price.cache_read_per_m;
	p->price.cache_write = r->price.cache_write_per_m;
	p->price.per_call = r->price.per_call;
	p->price.has = r->price.has;	/* ADAPTER_PRICE_* == USAGE_PRICE_* */
	return (0);
}

const struct usage_price *
snapshot_price(const struct snapshot *s, long long site_id, const char *model)
{
	struct snap_price	 want;
	const struct snap_price	*p;

	if (s->nprices == 0)
		return (NULL);
	want.model = (char *)model;
	want.site_id = site_id;
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
	if (apikey_foreach(db, snapshot_add_key, s, e) != 0 ||
	    account_channels(db, snapshot_add_channel, &b, e) != 0 ||
	    model_price_rows(db, snapshot_add_price, s, e) != 0 ||
	    (models = model_served(db, e)) == NULL) {
		snapshot_free(s);
		return (-1);
	}
	if (s->nprices > 0)
		qsort(s->prices, s->nprices, sizeof *s->prices,
		    snapshot_price_cmp);
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
	/* model_served() sorts by name: snapshot_model() can search now. */
	if (model_pairs(db, snapshot_add_pair, s, e) != 0) {
		snapshot_free(s);
		return (-1);
	}

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
	vault_hash(secret, want.hash);
	k = bsearch(&want, s->keys, s->nkeys, sizeof *s->keys,
	    snapshot_key_cmp);
	if (k == NULL || !vault_equal(k->hash, want.hash, VAULT_HASH_LEN))
		return (NULL);
	return (k);
}

/* The channel's upstream key, opened into secure memory; NULL if broken. */
char *
snapshot_channel_key(const struct snap_channel *c)
{
	char	*key, *cause = NULL;

	key = vault_unseal(c->key_ad, c->key_blob, c->key_len, &cause);
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
	plain = vault_unseal(ad, c->headers_blob, c->headers_len, &cause);
	free(ad);
	if (plain == NULL) {
		log_warnx("site %lld headers: %s", c->site_id, cause);
		free(cause);
		return (NULL);
	}
	list = json_loads(plain, 0, NULL);
	vault_secret_free(plain);
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
