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

#include "apikey.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "model.h"
#include "modelpat.h"
#include "snapshot.h"
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
	}
	free(s->keys);
	free(s->models);
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

/* Build a new snapshot from the database and make it current. */
int
snapshot_rebuild(struct db *db, struct err *e)
{
	struct snapshot	*s, *old;
	json_t		*models, *m;
	size_t		 i;

	s = xcalloc(1, sizeof *s);
	s->refs = 1;
	if (apikey_foreach(db, snapshot_add_key, s, e) != 0 ||
	    (models = model_served(db, e)) == NULL) {
		snapshot_free(s);
		return (-1);
	}
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
	vault_hash(secret, want.hash);
	k = bsearch(&want, s->keys, s->nkeys, sizeof *s->keys,
	    snapshot_key_cmp);
	if (k == NULL || !vault_equal(k->hash, want.hash, VAULT_HASH_LEN))
		return (NULL);
	return (k);
}
