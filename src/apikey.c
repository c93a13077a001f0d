/*
 * Downstream keys issued by metapi. This module alone owns the api_keys
 * table. A key is stored three ways: a keyed BLAKE2b hash to find it by
 * (compared in constant time), a sealed copy for `key reveal`, and a mask
 * for display. The full key leaves only through add, rotate and reveal.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "apikey.h"
#include "compat.h"
#include "db.h"
#include "err.h"
#include "jx.h"
#include "modelpat.h"
#include "search.h"
#include "vault.h"
#include "xmalloc.h"

#define APIKEY_NAME_MAX		64
#define APIKEY_MAX_PATTERNS	64

/*
 * "a,b*,re:^gpt-4" -> ["a","b*","re:^gpt-4"]. Regexes are compiled here
 * once so that a bad one is refused when the key is made, not when a
 * request arrives.
 */
int
apikey_check_models(const char *spec, json_t **out, struct err *e)
{
	json_t		*list;
	const char	*p = spec;
	char		*pat;
	size_t		 len;
	struct modelpat	*mp;

	list = json_array();
	for (;;) {
		len = strcspn(p, ",");
		pat = xstrndup(p, len);
		if (*pat == '\0' || strpbrk(pat, " \t\r\n") != NULL) {
			err_set(e, ERR_INVALID, "--models: empty pattern or "
			    "white space in \"%s\"", spec);
			goto fail;
		}
		json_array_append_new(list, json_string(pat));
		free(pat);
		pat = NULL;
		if (json_array_size(list) > APIKEY_MAX_PATTERNS) {
			err_set(e, ERR_INVALID, "--models: at most %d patterns",
			    APIKEY_MAX_PATTERNS);
			goto fail;
		}
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	if ((mp = modelpat_compile(list, e)) == NULL) {
		err_set(e, ERR_INVALID, "--models: bad regular expression in "
		    "\"%s\" (back-references are not allowed)", spec);
		goto fail;
	}
	modelpat_free(mp);
	*out = list;
	return (0);
fail:
	free(pat);
	json_decref(list);
	return (-1);
}

/* YYYY-MM-DD -> the last second of that day, UTC. */
int
apikey_parse_date(const char *s, long long *out)
{
	struct tm	tm, check;
	char		*end;
	time_t		t;

	memset(&tm, 0, sizeof tm);
	if (strlen(s) != 10 || (end = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    *end != '\0')
		return (-1);
	check = tm;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	t = timegm(&tm);
	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_mday != check.tm_mday || tm.tm_mon != check.tm_mon)
		return (-1);
	*out = t;
	return (0);
}

#define APIKEY_COLUMNS "id, name, key_mask, models, expires_at, " \
	"max_cost_usd, max_requests, used_cost_usd, used_requests, enabled, " \
	"last_used_at, created_at, updated_at"

static json_t *
apikey_row_json(struct db_stmt *st)
{
	json_t		*o, *models;
	char		 day[16];
	time_t		 t;
	struct tm	 tm;

	o = json_object();
	json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
	jx_set_str(o, "name", db_col_text(st, 1));
	jx_set_str(o, "key_mask", db_col_text(st, 2));
	models = json_loads(db_col_text(st, 3), 0, NULL);
	json_object_set_new(o, "models", models != NULL ? models :
	    json_array());
	if (db_col_type(st, 4) != DB_NULL) {
		t = db_col_int64(st, 4);
		gmtime_r(&t, &tm);
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
		jx_set_str(o, "expires", day);
		json_object_set_new(o, "expired", json_boolean(t < time(NULL)));
	} else {
		json_object_set_new(o, "expires", json_null());
		json_object_set_new(o, "expired", json_false());
	}
	json_object_set_new(o, "max_cost_usd", jx_opt_real(
	    db_col_type(st, 5) != DB_NULL,
	    db_col_double(st, 5)));
	json_object_set_new(o, "max_requests", jx_opt_int(
	    db_col_type(st, 6) != DB_NULL,
	    db_col_int64(st, 6)));
	json_object_set_new(o, "used_cost_usd",
	    json_real(db_col_double(st, 7)));
	json_object_set_new(o, "used_requests",
	    json_integer(db_col_int64(st, 8)));
	json_object_set_new(o, "enabled", json_boolean(db_col_int(st,
	    9)));
	json_object_set_new(o, "last_used_at",
	    jx_time(db_col_int64(st, 10)));
	json_object_set_new(o, "created_at", jx_time(db_col_int64(st,
	    11)));
	json_object_set_new(o, "updated_at", jx_time(db_col_int64(st,
	    12)));
	return (o);
}

json_t *
apikey_list(struct db *db, struct err *e)
{
	json_t	*items;

	items = db_rows(db, db_prepare_err(db, "SELECT " APIKEY_COLUMNS
	    " FROM api_keys ORDER BY id", e), apikey_row_json, e);
	return (items != NULL ? jx_items(items) : NULL);
}

json_t *
apikey_get(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	json_t		*o;

	st = db_prepare_err(db, "SELECT " APIKEY_COLUMNS " FROM api_keys "
	    "WHERE id = ?", e);
	if (st != NULL)
		db_bind_int64(st, 1, id);
	if (db_row(db, st, apikey_row_json, &o, e) == 0)
		err_set(e, ERR_NOT_FOUND, "no key %lld", id);
	return (o);
}

int
apikey_count(struct db *db)
{
	struct db_stmt	*st;
	int		 n = 0;

	st = db_prepare(db, "SELECT COUNT(*) FROM api_keys", NULL);
	if (st == NULL)
		return (0);
	if (db_step(st) == DB_ROW)
		n = db_col_int(st, 0);
	db_finalize(st);
	return (n);
}

/* Give row id the secret key: hash, sealed copy and mask together. */
static int
apikey_store_secret(struct db *db, long long id, const char *key,
    struct err *e)
{
	struct db_stmt	*st;
	uint8_t		 hash[VAULT_HASH_LEN], *blob = NULL;
	size_t		 len;
	char		*ad, *mask;
	int		 rc;

	vault_hash(key, hash);
	ad = vault_ad("api_keys", "key", id);
	if (vault_seal(ad, key, strlen(key), &blob, &len) != 0) {
		free(ad);
		err_set(e, ERR_INTERNAL, "vault is not open");
		return (-1);
	}
	free(ad);
	mask = vault_mask(key);
	st = db_prepare(db, "UPDATE api_keys SET key_hash = ?, key_sealed = ?, "
	    "key_mask = ?, updated_at = ? WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	db_bind_blob(st, 1, hash, sizeof hash);
	db_bind_blob(st, 2, blob, len);
	db_bind_text(st, 3, mask);
	db_bind_int64(st, 4, (long long)time(NULL));
	db_bind_int64(st, 5, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	if (db_changes(db) == 0) {
		err_set(e, ERR_NOT_FOUND, "no key %lld", id);
		goto fail;
	}
	free(blob);
	free(mask);
	return (0);
fail:
	free(blob);
	free(mask);
	return (-1);
}

/* Wipe and free a key in ordinary memory (NULL is fine). */
static void
apikey_wipe(char *key)
{
	if (key == NULL)
		return;
	explicit_bzero(key, strlen(key));
	free(key);
}

/* The key's row with the full secret, for add, rotate and reveal only. */
static json_t *
apikey_with_secret(struct db *db, long long id, char *key, struct err *e)
{
	json_t	*o;

	if ((o = apikey_get(db, id, e)) != NULL)
		json_object_set_new(o, "key", json_string(key));
	apikey_wipe(key);
	return (o);
}

json_t *
apikey_add(struct db *db, const json_t *args, struct err *e)
{
	struct db_stmt	*st;
	const char	*name = jx_str(args, "name"), *s;
	json_t		*models = NULL;
	char		*models_s = NULL, *key = NULL, *cause;
	long long	 id, expires = 0, maxreq = 0, now = time(NULL);
	double		 maxcost = 0;
	int		 rc, has_cost, has_req;
	uint8_t		 hash[VAULT_HASH_LEN];

	if (*name == '\0' || strlen(name) > APIKEY_NAME_MAX ||
	    strpbrk(name, "\r\n\t") != NULL) {
		err_set(e, ERR_INVALID, "key name must be 1 to %d bytes on one "
		    "line", APIKEY_NAME_MAX);
		return (NULL);
	}
	if (apikey_check_models((s = jx_str(args, "models")) != NULL ? s : "*",
	    &models, e) != 0)
		return (NULL);
	if ((s = jx_str(args, "expires")) != NULL &&
	    apikey_parse_date(s, &expires) != 0) {
		err_set(e, ERR_INVALID, "--expires: \"%s\" is not a date "
		    "(YYYY-MM-DD)", s);
		goto out;
	}
	has_cost = jx_real(args, "max_cost", &maxcost) == 0;
	if (has_cost && !(maxcost >= 0 && maxcost <= 1e9)) {
		err_set(e, ERR_INVALID, "--max-cost must be from 0 to 1e9");
		goto out;
	}
	has_req = jx_int(args, "max_requests", &maxreq) == 0;
	if (has_req && maxreq < 0) {
		err_set(e, ERR_INVALID, "--max-requests must not be negative");
		goto out;
	}
	models_s = json_dumps(models, JSON_COMPACT);
	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		goto out;
	}
	key = vault_new_api_key();
	vault_hash(key, hash);
	st = db_prepare(db, "INSERT INTO api_keys (name, key_hash, key_mask, "
	    "models, expires_at, max_cost_usd, max_requests, created_at, "
	    "updated_at) SELECT ?, ?, '', ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
	    "(SELECT 1 FROM api_keys WHERE name = ?)", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	db_bind_text(st, 1, name);
	db_bind_blob(st, 2, hash, sizeof hash);
	db_bind_text(st, 3, models_s);
	db_bind_int(st, 4, expires, expires != 0);
	db_bind_real(st, 5, maxcost, has_cost);
	db_bind_int(st, 6, maxreq, has_req);
	db_bind_int64(st, 7, now);
	db_bind_int64(st, 8, now);
	db_bind_text(st, 9, name);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	if (db_changes(db) == 0) {
		err_set(e, ERR_CONFLICT, "a key named \"%s\" already exists",
		    name);
		goto fail;
	}
	id = db_last_id(db);
	if (apikey_store_secret(db, id, key, e) != 0)
		goto fail;
	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		apikey_wipe(key);
		goto out;
	}
	json_decref(models);
	free(models_s);
	return (apikey_with_secret(db, id, key, e));
fail:
	db_rollback(db);
	apikey_wipe(key);
out:
	json_decref(models);
	free(models_s);
	return (NULL);
}

json_t *
apikey_rotate(struct db *db, long long id, struct err *e)
{
	char	*key, *cause;

	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (NULL);
	}
	key = vault_new_api_key();
	if (apikey_store_secret(db, id, key, e) != 0) {
		db_rollback(db);
		apikey_wipe(key);
		return (NULL);
	}
	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		apikey_wipe(key);
		return (NULL);
	}
	return (apikey_with_secret(db, id, key, e));
}

json_t *
apikey_reveal(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	char		*ad, *plain, *cause, *key;
	int		 rc;

	st = db_prepare(db, "SELECT key_sealed FROM api_keys WHERE id = ?",
	    NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc != DB_ROW) {
		db_finalize(st);
		err_set(e, ERR_NOT_FOUND, "no key %lld", id);
		return (NULL);
	}
	ad = vault_ad("api_keys", "key", id);
	plain = vault_unseal(ad, db_col_blob(st, 0),
	    db_col_bytes(st, 0), &cause);
	free(ad);
	db_finalize(st);
	if (plain == NULL) {
		err_set(e, ERR_STORAGE, "key %lld: %s", id, cause);
		free(cause);
		return (NULL);
	}
	key = xstrdup(plain);
	vault_secret_free(plain);
	return (apikey_with_secret(db, id, key, e));
}

int
apikey_rm(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "DELETE FROM api_keys WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	if (db_changes(db) == 0) {
		err_set(e, ERR_NOT_FOUND, "no key %lld", id);
		return (-1);
	}
	return (0);
}

json_t *
apikey_set_enabled(struct db *db, long long id, int on, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "UPDATE api_keys SET enabled = ?, updated_at = ? "
	    "WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	db_bind_int64(st, 1, on);
	db_bind_int64(st, 2, (long long)time(NULL));
	db_bind_int64(st, 3, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	if (db_changes(db) == 0) {
		err_set(e, ERR_NOT_FOUND, "no key %lld", id);
		return (NULL);
	}
	return (apikey_get(db, id, e));
}

/* A caller's callback and its argument, carried through db_each(). */
struct apikey_each {
	apikey_row_cb	 cb;
	void		*arg;
};

static int
apikey_row_each(struct db_stmt *st, void *arg)
{
	struct apikey_each	*x = arg;
	struct apikey_row	 r;
	int			 rv;

	if (db_col_bytes(st, 1) != VAULT_HASH_LEN)
		return (0);
	memset(&r, 0, sizeof r);
	r.id = db_col_int64(st, 0);
	r.hash = db_col_blob(st, 1);
	r.enabled = db_col_int(st, 2);
	r.expires_at = db_col_int64(st, 3);
	r.has_max_cost = db_col_type(st, 4) != DB_NULL;
	r.max_cost = db_col_double(st, 4);
	r.used_cost = db_col_double(st, 5);
	r.has_max_requests = db_col_type(st, 6) != DB_NULL;
	r.max_requests = db_col_int64(st, 6);
	r.used_requests = db_col_int64(st, 7);
	r.models = json_loads(db_col_text(st, 8), 0, NULL);
	rv = x->cb(&r, x->arg);
	json_decref(r.models);
	return (rv);
}

/* Every key for the request path's snapshot. */
int
apikey_foreach(struct db *db, apikey_row_cb cb, void *arg, struct err *e)
{
	struct apikey_each	x = { cb, arg };

	return (db_each(db, db_prepare_err(db, "SELECT id, key_hash, enabled, "
	    "expires_at, max_cost_usd, used_cost_usd, max_requests, "
	    "used_requests, models FROM api_keys", e), apikey_row_each, &x, e));
}

/*
 * Count a key's use: requests and cost added, the last use set. The log
 * writer calls it inside its batch transaction, once per key and batch.
 * A key removed since the request changes nothing.
 */
int
apikey_add_usage(struct db *db, long long key_id, long long requests,
    double cost_usd, long long last_used_at, struct err *e)
{
	struct db_stmt	*st;

	st = db_cached(db, "UPDATE api_keys SET used_requests = "
	    "used_requests + ?, used_cost_usd = used_cost_usd + ?, "
	    "last_used_at = CASE WHEN last_used_at > ?3 THEN last_used_at "
	    "ELSE ?3 END WHERE id = ?4", e);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, requests);
	db_bind_double(st, 2, cost_usd);
	db_bind_int64(st, 3, last_used_at);
	db_bind_int64(st, 4, key_id);
	return (db_cached_step(db, st, e));
}

static int
apikey_search_row(struct db_stmt *st, void *arg)
{
	struct search_ctx	*c = arg;
	struct search_field	 f[] = {
		{ "name", db_col_text(st, 1) },
	};
	long long		 id = db_col_int64(st, 0);
	char			*detail;

	xasprintf(&detail, "models %s  %s", db_col_text(st, 2),
	    db_col_int(st, 3) ? "enabled" : "disabled");
	search_hit(c->hits, c->q, "key", id, json_integer(id),
	    db_col_text(st, 1), detail, f, nitems(f));
	free(detail);
	return (0);
}

/*
 * Downstream keys by name or id (search.run). The secret, its hash and
 * even its mask are neither read nor matched: a search must not be a
 * way to probe for a key.
 */
int
apikey_search(struct db *db, const struct search_query *q, json_t *hits,
    struct err *e)
{
	struct search_ctx	 c = { q, hits };
	struct db_stmt		*st;

	st = db_prepare_err(db, "SELECT id, name, models, enabled FROM "
	    "api_keys WHERE id = ?2 OR name LIKE ?1 ESCAPE '\\' ORDER BY name "
	    "LIMIT ?3", e);
	if (st != NULL) {
		db_bind_text(st, 1, q->like);
		db_bind_int64(st, 2, q->id);
		db_bind_int64(st, 3, SEARCH_CANDIDATES_MAX);
	}
	return (db_each(db, st, apikey_search_row, &c, e));
}
