/*
 * Sites: the upstream relay stations. This module alone owns the sites
 * table's SQL, the validation of a site's fields and its JSON form. Extra
 * request headers may carry credentials, so they are sealed in the vault
 * and shown by name with masked values.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "compat.h"
#include "db.h"
#include "err.h"
#include "jx.h"
#include "search.h"
#include "site.h"
#include "url.h"
#include "vault.h"
#include "xmalloc.h"

#define SITE_NAME_MAX		64
#define SITE_MAX_HEADERS	32

/* Platforms a site may be: specific forks first, generic endpoints last. */
static const char *const site_platforms[] = {
	"new-api", "one-api", "one-hub", "done-hub", "veloera", "anyrouter",
	"sub2api", "openai", "claude",
};

int
site_platform_ok(const char *p)
{
	size_t	i;

	for (i = 0; i < nitems(site_platforms); i++)
		if (strcmp(site_platforms[i], p) == 0)
			return (1);
	return (0);
}

static int
site_name_ok(const char *name, struct err *e)
{
	const char	*p;
	int		 digits = 1;

	if (*name == '\0' || strlen(name) > SITE_NAME_MAX) {
		err_set(e, ERR_INVALID, "site name must be 1 to %d bytes",
		    SITE_NAME_MAX);
		return (0);
	}
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			err_set(e, ERR_INVALID, "site name has control "
			    "characters");
			return (0);
		}
		if (!isdigit((unsigned char)*p))
			digits = 0;
	}
	if (digits) {
		err_set(e, ERR_INVALID, "site name \"%s\" is all digits and "
		    "would read as an id", name);
		return (0);
	}
	return (1);
}

/* "Name: value" with a token name and no CR or LF anywhere. */
static int
site_header_ok(const char *h, struct err *e)
{
	const char	*p;

	for (p = h; *p != '\0' && *p != ':'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~",
		    *p) == NULL)
			break;
	}
	if (p == h || *p != ':' || strpbrk(h, "\r\n") != NULL) {
		err_set(e, ERR_INVALID, "bad header \"%s\": use 'Name: value'",
		    h);
		return (0);
	}
	return (1);
}

static void
site_platform_error(const char *p, struct err *e)
{
	if (strcmp(p, "auto") == 0)
		err_set(e, ERR_INVALID, "--platform auto works with site add "
		    "only; run `metapi site detect URL` and pass the platform "
		    "it names");
	else
		err_set(e, ERR_INVALID, "unknown platform \"%s\" (use new-api, "
		    "one-api, one-hub, done-hub, veloera, anyrouter, sub2api, "
		    "openai or claude)", p);
}

int
site_resolve(struct db *db, const char *ref, long long *id, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "SELECT id FROM sites WHERE name = ? OR "
	    "CAST(id AS TEXT) = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_text(st, 1, ref);
	db_bind_text(st, 2, ref);
	rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int64(st, 0);
	db_finalize(st);
	if (rc != DB_ROW) {
		err_set(e, ERR_NOT_FOUND, "no site \"%s\"", ref);
		return (-1);
	}
	return (0);
}

#define SITE_COLUMNS "s.id, s.name, s.url, s.platform, s.proxy_url, " \
	"s.weight, s.header_names, s.enabled, s.created_at, s.updated_at, " \
	"(SELECT COUNT(*) FROM accounts a WHERE a.site_id = s.id), s.probe"

static json_t *
site_row_json(struct db_stmt *st)
{
	json_t		*o, *names;
	json_error_t	 jerr;

	o = json_object();
	json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
	jx_set_str(o, "name", db_col_text(st, 1));
	jx_set_str(o, "url", db_col_text(st, 2));
	jx_set_str(o, "platform", db_col_text(st, 3));
	jx_set_str_or_null(o, "proxy", db_col_text(st, 4));
	json_object_set_new(o, "weight", json_real(db_col_double(st,
	    5)));
	names = json_loads(db_col_text(st, 6), 0, &jerr);
	json_object_set_new(o, "headers", names != NULL ? names :
	    json_array());
	json_object_set_new(o, "enabled", json_boolean(db_col_int(st,
	    7)));
	jx_set_str(o, "status", db_col_int(st, 7) ? "enabled" :
	    "disabled");
	json_object_set_new(o, "accounts", json_integer(db_col_int(st,
	    10)));
	json_object_set_new(o, "probe", json_boolean(db_col_int(st,
	    11)));
	json_object_set_new(o, "created_at", jx_time(db_col_int64(st,
	    8)));
	json_object_set_new(o, "updated_at", jx_time(db_col_int64(st,
	    9)));
	return (o);
}

json_t *
site_list(struct db *db, struct err *e)
{
	json_t	*items;

	items = db_rows(db, db_prepare_err(db, "SELECT " SITE_COLUMNS
	    " FROM sites s ORDER BY s.id", e), site_row_json, e);
	return (items != NULL ? jx_items(items) : NULL);
}

json_t *
site_get(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	json_t		*o;

	st = db_prepare_err(db, "SELECT " SITE_COLUMNS " FROM sites s WHERE "
	    "s.id = ?", e);
	if (st != NULL)
		db_bind_int64(st, 1, id);
	if (db_row(db, st, site_row_json, &o, e) == 0)
		err_set(e, ERR_NOT_FOUND, "no site %lld", id);
	return (o);
}

int
site_count(struct db *db)
{
	struct db_stmt	*st;
	int		 n = 0;

	if ((st = db_prepare(db, "SELECT COUNT(*) FROM sites", NULL)) == NULL)
		return (0);
	if (db_step(st) == DB_ROW)
		n = db_col_int(st, 0);
	db_finalize(st);
	return (n);
}

static int
site_name_taken(struct db *db, const char *name, long long except)
{
	struct db_stmt	*st;
	int		 taken;

	st = db_prepare(db, "SELECT 1 FROM sites WHERE name = ? AND id != ?",
	    NULL);
	if (st == NULL)
		return (0);
	db_bind_text(st, 1, name);
	db_bind_int64(st, 2, except);
	taken = db_step(st) == DB_ROW;
	db_finalize(st);
	return (taken);
}

/* Validate the fields present in args; shared by add and edit. */
static int
site_check(struct db *db, const json_t *args, long long self, struct err *e)
{
	const char	*s, *p;
	double		 w;
	char		*cause;
	json_t		*hdrs, *h;
	size_t		 i;

	if ((s = jx_str(args, "name")) != NULL) {
		if (!site_name_ok(s, e))
			return (-1);
		if (site_name_taken(db, s, self)) {
			err_set(e, ERR_CONFLICT, "a site named \"%s\" already "
			    "exists", s);
			return (-1);
		}
	}
	if ((s = jx_str(args, "url")) != NULL &&
	    url_check(s, URL_HTTP, &cause) != 0) {
		err_set(e, ERR_INVALID, "%s", cause);
		free(cause);
		return (-1);
	}
	if ((s = jx_str(args, "platform")) != NULL && !site_platform_ok(s)) {
		site_platform_error(s, e);
		return (-1);
	}
	if ((s = jx_str(args, "proxy")) != NULL && strcmp(s, "none") != 0 &&
	    url_check(s, URL_HTTP|URL_PROXY, &cause) != 0) {
		err_set(e, ERR_INVALID, "proxy: %s", cause);
		free(cause);
		return (-1);
	}
	if ((p = jx_str(args, "probe")) != NULL && strcmp(p, "on") != 0 &&
	    strcmp(p, "off") != 0) {
		err_set(e, ERR_INVALID, "--probe must be on or off");
		return (-1);
	}
	if (jx_real(args, "weight", &w) == 0 && (w < 0 || w > 1000)) {
		err_set(e, ERR_INVALID, "weight must be from 0 to 1000");
		return (-1);
	}
	if ((hdrs = json_object_get(args, "header")) != NULL) {
		if (json_array_size(hdrs) > SITE_MAX_HEADERS) {
			err_set(e, ERR_INVALID, "at most %d headers",
			    SITE_MAX_HEADERS);
			return (-1);
		}
		json_array_foreach(hdrs, i, h) {
			s = json_string_value(h);
			if (strcmp(s, "none") == 0 && json_array_size(hdrs) == 1)
				continue;
			if (!site_header_ok(s, e))
				return (-1);
		}
	}
	return (0);
}

/*
 * Store the headers of site id: sealed in full, and their names with
 * masked values for display. "none" alone clears them.
 */
static int
site_store_headers(struct db *db, long long id, const json_t *hdrs,
    struct err *e)
{
	struct db_stmt	*st;
	json_t		*names, *h;
	char		*full, *ad, *names_s, *mask, *shown;
	const char	*s, *colon;
	uint8_t		*blob = NULL;
	size_t		 i, bloblen = 0;
	int		 rc;

	names = json_array();
	if (!(json_array_size(hdrs) == 1 &&
	    strcmp(json_string_value(json_array_get(hdrs, 0)), "none") == 0)) {
		json_array_foreach(hdrs, i, h) {
			s = json_string_value(h);
			colon = strchr(s, ':');
			for (colon++; *colon == ' '; colon++)
				;
			mask = vault_mask(colon);
			xasprintf(&shown, "%.*s: %s", (int)(strchr(s, ':') - s),
			    s, mask);
			json_array_append_new(names, json_string(shown));
			free(shown);
			free(mask);
		}
	}
	if (json_array_size(names) > 0) {
		full = json_dumps(hdrs, JSON_COMPACT);
		ad = vault_ad("sites", "headers", id);
		rc = vault_seal(ad, full, strlen(full), &blob, &bloblen);
		free(ad);
		explicit_bzero(full, strlen(full));
		free(full);
		if (rc != 0) {
			json_decref(names);
			err_set(e, ERR_INTERNAL, "vault is not open");
			return (-1);
		}
	}
	names_s = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	st = db_prepare(db, "UPDATE sites SET headers_sealed = ?, "
	    "header_names = ? WHERE id = ?", NULL);
	if (st == NULL) {
		free(names_s);
		free(blob);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_blob(st, 1, blob, bloblen);
	db_bind_text(st, 2, names_s);
	db_bind_int64(st, 3, id);
	rc = db_step(st);
	db_finalize(st);
	free(names_s);
	free(blob);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (0);
}

/*
 * Store the proxy of site id; NULL or "none" clears it. A proxy with a user
 * part may hold a password: it is sealed, and proxy_url keeps it redacted
 * for display and search.
 */
static int
site_store_proxy(struct db *db, long long id, const char *proxy,
    struct err *e)
{
	struct db_stmt	*st;
	uint8_t		*blob = NULL;
	size_t		 bloblen = 0;
	char		*ad, *shown = NULL;
	int		 rc;

	if (proxy != NULL && strcmp(proxy, "none") == 0)
		proxy = NULL;
	if (proxy != NULL && url_has_userinfo(proxy)) {
		ad = vault_ad("sites", "proxy", id);
		rc = vault_seal(ad, proxy, strlen(proxy), &blob, &bloblen);
		free(ad);
		if (rc != 0) {
			err_set(e, ERR_INTERNAL, "vault is not open");
			return (-1);
		}
		shown = url_redact(proxy);
	} else if (proxy != NULL)
		shown = xstrdup(proxy);
	st = db_prepare_err(db, "UPDATE sites SET proxy_url = ?, "
	    "proxy_sealed = ? WHERE id = ?", e);
	if (st != NULL) {
		db_bind_text(st, 1, shown);
		db_bind_blob(st, 2, blob, bloblen);
		db_bind_int64(st, 3, id);
	}
	free(shown);
	free(blob);
	return (db_step_done(db, st, e));
}

/*
 * Seal the proxies with a password that are still in clear: rows from
 * before proxy_sealed existed. Run once the vault is open (daemon start).
 */
int
site_seal_proxies(struct db *db, struct err *e)
{
	struct db_stmt	*st;
	long long	*ids = NULL;
	char		**urls = NULL;
	size_t		 i, n = 0;
	int		 rc = 0;

	st = db_prepare_err(db, "SELECT id, proxy_url FROM sites WHERE "
	    "proxy_sealed IS NULL AND proxy_url LIKE '%@%'", e);
	if (st == NULL)
		return (-1);
	while (db_step(st) == DB_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof *ids);
		urls = xreallocarray(urls, n + 1, sizeof *urls);
		ids[n] = db_col_int64(st, 0);
		urls[n++] = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	for (i = 0; i < n; i++) {
		if (rc == 0 && site_store_proxy(db, ids[i], urls[i], e) != 0)
			rc = -1;
		explicit_bzero(urls[i], strlen(urls[i]));
		free(urls[i]);
	}
	free(urls);
	free(ids);
	return (rc);
}

/* Would site_add accept these args? (Before a slow detection.) */
int
site_validate(struct db *db, const json_t *args, struct err *e)
{
	return (site_check(db, args, 0, e));
}

static int
site_begin(struct db *db, struct err *e)
{
	char	*cause;

	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

static int
site_commit(struct db *db, struct err *e)
{
	char	*cause;

	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

json_t *
site_add(struct db *db, const json_t *args, struct err *e)
{
	struct db_stmt	*st;
	const char	*platform = jx_str(args, "platform"), *proxy;
	char		*url;
	double		 weight = 1;
	long long	 id, now = time(NULL);
	json_t		*hdrs;
	int		 rc;

	if (platform == NULL)
		platform = "auto";	/* detection is the caller's job */
	if (site_begin(db, e) != 0)
		return (NULL);
	if (site_check(db, args, 0, e) != 0)
		goto fail;
	if (!site_platform_ok(platform)) {
		site_platform_error(platform, e);
		goto fail;
	}
	jx_real(args, "weight", &weight);
	proxy = jx_str(args, "proxy");
	url = url_normalize(jx_str(args, "url"));
	st = db_prepare(db, "INSERT INTO sites (name, url, platform, "
	    "weight, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", NULL);
	if (st == NULL) {
		free(url);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	db_bind_text(st, 1, jx_str(args, "name"));
	db_bind_text(st, 2, url);
	db_bind_text(st, 3, platform);
	db_bind_double(st, 4, weight);
	db_bind_int64(st, 5, now);
	db_bind_int64(st, 6, now);
	rc = db_step(st);
	db_finalize(st);
	free(url);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	id = db_last_id(db);
	if (proxy != NULL && site_store_proxy(db, id, proxy, e) != 0)
		goto fail;
	if ((hdrs = json_object_get(args, "header")) != NULL &&
	    site_store_headers(db, id, hdrs, e) != 0)
		goto fail;
	if (site_commit(db, e) != 0)
		return (NULL);
	return (site_get(db, id, e));
fail:
	db_rollback(db);
	return (NULL);
}

json_t *
site_edit(struct db *db, long long id, const json_t *args, struct err *e)
{
	static const char *const cols[] = { "name", "url", "platform",
	    "proxy", "weight", "probe" };
	/* The proxy's value is written by site_store_proxy() after. */
	static const char *const sql[] = {
	    "UPDATE sites SET name = ?, updated_at = ? WHERE id = ?",
	    "UPDATE sites SET url = ?, updated_at = ? WHERE id = ?",
	    "UPDATE sites SET platform = ?, updated_at = ? WHERE id = ?",
	    "UPDATE sites SET proxy_url = NULL, updated_at = ? WHERE id = ?",
	    "UPDATE sites SET weight = ?, updated_at = ? WHERE id = ?",
	    "UPDATE sites SET probe = ?, updated_at = ? WHERE id = ?" };
	struct db_stmt	*st;
	json_t		*v, *hdrs;
	const char	*s;
	char		*norm;
	size_t		 i;
	int		 rc, n, changed = 0;

	if (site_begin(db, e) != 0)
		return (NULL);
	if ((v = site_get(db, id, e)) == NULL)
		goto fail;
	json_decref(v);
	if (site_check(db, args, id, e) != 0)
		goto fail;
	for (i = 0; i < nitems(cols); i++) {
		if ((v = json_object_get(args, cols[i])) == NULL)
			continue;
		if ((st = db_prepare(db, sql[i], NULL)) == NULL) {
			err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
			goto fail;
		}
		s = json_string_value(v);
		n = 1;
		if (json_is_number(v))
			db_bind_double(st, n++, json_number_value(v));
		else if (strcmp(cols[i], "probe") == 0)
			db_bind_int64(st, n++, strcmp(s, "on") == 0);
		else if (strcmp(cols[i], "url") == 0) {
			norm = url_normalize(s);
			db_bind_text(st, n++, norm);
			free(norm);
		} else if (strcmp(cols[i], "proxy") != 0)
			db_bind_text(st, n++, s);
		db_bind_int64(st, n++, (long long)time(NULL));
		db_bind_int64(st, n, id);
		rc = db_step(st);
		db_finalize(st);
		if (rc != DB_DONE) {
			err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
			goto fail;
		}
		if (strcmp(cols[i], "proxy") == 0 &&
		    site_store_proxy(db, id, s, e) != 0)
			goto fail;
		changed++;
	}
	if ((hdrs = json_object_get(args, "header")) != NULL) {
		if (site_store_headers(db, id, hdrs, e) != 0)
			goto fail;
		changed++;
	}
	if (changed == 0) {
		err_set(e, ERR_USAGE, "nothing to change: give --name, --url, "
		    "--platform, --proxy, --weight, --probe or --header");
		goto fail;
	}
	if (site_commit(db, e) != 0)
		return (NULL);
	return (site_get(db, id, e));
fail:
	db_rollback(db);
	return (NULL);
}

int
site_rm(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "DELETE FROM sites WHERE id = ?", NULL);
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
		err_set(e, ERR_NOT_FOUND, "no site %lld", id);
		return (-1);
	}
	return (0);
}

/*
 * Enable or disable a site. Disabling cascades to its active accounts;
 * enabling brings back the accounts the cascade disabled (and, as in the
 * reference product, any disabled by hand).
 */
json_t *
site_set_enabled(struct db *db, long long id, int on, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	if (site_begin(db, e) != 0)
		return (NULL);
	st = db_prepare(db, "UPDATE sites SET enabled = ?, updated_at = ? "
	    "WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	db_bind_int64(st, 1, on);
	db_bind_int64(st, 2, (long long)time(NULL));
	db_bind_int64(st, 3, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	if (db_changes(db) == 0) {
		err_set(e, ERR_NOT_FOUND, "no site %lld", id);
		goto fail;
	}
	if (account_cascade_site(db, id, on, e) != 0)
		goto fail;
	if (site_commit(db, e) != 0)
		return (NULL);
	return (site_get(db, id, e));
fail:
	db_rollback(db);
	return (NULL);
}

/*
 * The proxy a site's calls go through, into *out (NULL for none): the
 * sealed one if there is one, else proxy_url as it is. Owned; wipe it with
 * site_proxy_free().
 */
int
site_proxy_open(long long id, const char *shown, const void *blob,
    size_t len, char **out, struct err *e)
{
	char	*ad, *plain, *cause;

	*out = NULL;
	if (blob == NULL || len == 0) {
		if (shown != NULL)
			*out = xstrdup(shown);
		return (0);
	}
	ad = vault_ad("sites", "proxy", id);
	plain = vault_unseal_plain(ad, blob, len, &cause);
	free(ad);
	if (plain == NULL) {
		err_set(e, ERR_STORAGE, "site %lld proxy: %s", id, cause);
		free(cause);
		return (-1);
	}
	*out = plain;
	return (0);
}

void
site_proxy_free(char *proxy)
{
	vault_plain_free(proxy);
}

/* What an upstream call needs to reach the site; headers unsealed. */
struct site_conn *
site_conn_get(struct db *db, long long id, struct err *e)
{
	struct site_conn	*sc;
	struct db_stmt		*st;
	json_t			*hdrs, *h;
	char			*ad, *plain, *cause;
	size_t			 i;

	st = db_prepare(db, "SELECT url, platform, proxy_url, headers_sealed, "
	    "enabled, proxy_sealed FROM sites WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	db_bind_int64(st, 1, id);
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		err_set(e, ERR_NOT_FOUND, "no site %lld", id);
		return (NULL);
	}
	sc = xcalloc(1, sizeof *sc);
	sc->id = id;
	sc->url = xstrdup(db_col_text(st, 0));
	sc->platform = xstrdup(db_col_text(st, 1));
	sc->enabled = db_col_int(st, 4);
	if (site_proxy_open(id, db_col_text(st, 2), db_col_blob(st, 5),
	    db_col_bytes(st, 5), &sc->proxy, e) != 0) {
		db_finalize(st);
		site_conn_free(sc);
		return (NULL);
	}
	sc->headers = xcalloc(SITE_MAX_HEADERS + 1, sizeof *sc->headers);
	if (db_col_bytes(st, 3) > 0) {
		ad = vault_ad("sites", "headers", id);
		plain = vault_unseal(ad, db_col_blob(st, 3),
		    db_col_bytes(st, 3), &cause);
		free(ad);
		if (plain == NULL) {
			err_set(e, ERR_STORAGE, "site %lld headers: %s", id,
			    cause);
			free(cause);
			db_finalize(st);
			site_conn_free(sc);
			return (NULL);
		}
		hdrs = json_loads(plain, 0, NULL);
		vault_secret_free(plain);
		json_array_foreach(hdrs, i, h) {
			if (i < SITE_MAX_HEADERS && json_is_string(h))
				sc->headers[i] = xstrdup(json_string_value(h));
		}
		json_decref(hdrs);
	}
	db_finalize(st);
	return (sc);
}

void
site_conn_free(struct site_conn *sc)
{
	char	**h;

	if (sc == NULL)
		return;
	free(sc->url);
	free(sc->platform);
	site_proxy_free(sc->proxy);
	for (h = sc->headers; h != NULL && *h != NULL; h++) {
		memset(*h, 0, strlen(*h));
		free(*h);
	}
	free(sc->headers);
	free(sc);
}

/* Remember a site's quota unit (quota per USD) as its adapter found it. */
int
site_set_quota_per_unit(struct db *db, long long site_id, double qpu)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "UPDATE sites SET quota_per_unit = ? WHERE id = ?",
	    NULL);
	if (st == NULL)
		return (-1);
	db_bind_double(st, 1, qpu);
	db_bind_int64(st, 2, site_id);
	rc = db_step(st);
	db_finalize(st);
	return (rc == DB_DONE ? 0 : -1);
}

static int
site_search_row(struct db_stmt *st, void *arg)
{
	struct search_ctx	*c = arg;
	struct search_field	 f[] = {
		{ "name", db_col_text(st, 1) },
		{ "url", db_col_text(st, 2) },
		{ "platform", db_col_text(st, 3) },
	};
	long long		 id = db_col_int64(st, 0);
	char			*detail;

	xasprintf(&detail, "%s  %s%s", db_col_text(st, 3), db_col_text(st, 2),
	    db_col_int(st, 4) ? "" : "  disabled");
	search_hit(c->hits, c->q, "site", id, json_integer(id),
	    db_col_text(st, 1), detail, f, nitems(f));
	free(detail);
	return (0);
}

/* Sites whose name, URL or platform holds the query (search.run). */
int
site_search(struct db *db, const struct search_query *q, json_t *hits,
    struct err *e)
{
	struct search_ctx	 c = { q, hits };
	struct db_stmt		*st;

	st = db_prepare_err(db, "SELECT id, name, url, platform, enabled "
	    "FROM sites WHERE id = ?2 OR name LIKE ?1 ESCAPE '\\' OR url LIKE "
	    "?1 ESCAPE '\\' OR platform LIKE ?1 ESCAPE '\\' ORDER BY name "
	    "LIMIT ?3", e);
	if (st != NULL) {
		db_bind_text(st, 1, q->like);
		db_bind_int64(st, 2, q->id);
		db_bind_int64(st, 3, SEARCH_CANDIDATES_MAX);
	}
	return (db_each(db, st, site_search_row, &c, e));
}
