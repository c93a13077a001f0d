/*
 * Notification channels. This module alone owns the notify_channels
 * table: a channel's kind, its config (JSON, nothing secret), its secret
 * (the webhook or Bark URL, the SENDKEY, the bot token, the SMTP
 * password) sealed under "notify_channels.secret:ID" with a mask for
 * display, its enable flag and its last delivery. It sends nothing:
 * notify_table[] builds requests and notify_deliver() sends them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "jx.h"
#include "notify.h"
#include "vault.h"
#include "xmalloc.h"

#define NOTIFY_COLUMNS "id, kind, config, secret_mask, enabled, " \
	"last_sent_at, last_error, created_at, updated_at"

/* "https://host/…abcd": scheme and host are no secret, the rest is. */
char *
notify_url_mask(const char *url)
{
	const char	*p, *end;
	size_t		 n = strlen(url);
	char		*m;

	if ((p = strstr(url, "://")) == NULL)
		return (vault_mask(url));
	p += 3;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', end - p) != NULL || (size_t)(end - url) + 8 > n)
		return (vault_mask(url));
	xasprintf(&m, "%.*s/…%s", (int)(end - url), url, url + n - 4);
	return (m);
}

static char *
notify_summary(const char *kind, const json_t *config)
{
	const struct notify_entry	*ne = notify_find(kind);

	return (ne != NULL ? ne->summary(config) : xstrdup(kind));
}

static json_t *
notify_row_json(sqlite3_stmt *st)
{
	json_t	*o, *config;
	char	*target;

	o = json_object();
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
	jx_set_str(o, "kind", db_col_text(st, 1));
	config = json_loads(db_col_text(st, 2) != NULL ? db_col_text(st, 2) :
	    "{}", 0, NULL);
	if (config == NULL)
		config = json_object();
	target = notify_summary(db_col_text(st, 1), config);
	jx_set_str(o, "target", target);
	free(target);
	json_object_set_new(o, "config", config);
	jx_set_str_or_null(o, "secret_mask", db_col_text(st, 3));
	json_object_set_new(o, "enabled", json_boolean(sqlite3_column_int(st,
	    4)));
	json_object_set_new(o, "last_sent_at", jx_time(sqlite3_column_int64(st,
	    5)));
	jx_set_str_or_null(o, "last_error", db_col_text(st, 6));
	json_object_set_new(o, "created_at", jx_time(sqlite3_column_int64(st,
	    7)));
	json_object_set_new(o, "updated_at", jx_time(sqlite3_column_int64(st,
	    8)));
	return (o);
}

json_t *
notify_list(struct db *db, struct err *e)
{
	json_t	*items;

	items = db_rows(db, db_prepare_err(db, "SELECT " NOTIFY_COLUMNS
	    " FROM notify_channels ORDER BY id", e), notify_row_json, e);
	return (items != NULL ? jx_items(items) : NULL);
}

json_t *
notify_get(struct db *db, long long id, struct err *e)
{
	sqlite3_stmt	*st;
	json_t		*o;

	st = db_prepare_err(db, "SELECT " NOTIFY_COLUMNS " FROM "
	    "notify_channels WHERE id = ?", e);
	if (st != NULL)
		sqlite3_bind_int64(st, 1, id);
	if (db_row(db, st, notify_row_json, &o, e) == 0)
		err_set(e, ERR_NOT_FOUND, "no notification channel %lld", id);
	return (o);
}

/* Refuse arguments that mean nothing to this kind: they are mistakes. */
static int
notify_args_fit(const struct notify_entry *ne, const json_t *args,
    struct err *e)
{
	const char	*key, *p;
	json_t		*v;
	size_t		 n;

	json_object_foreach((json_t *)args, key, v) {
		if (strcmp(key, "kind") == 0)
			continue;
		n = strlen(key);
		for (p = ne->args; (p = strstr(p, key)) != NULL; p += n)
			if ((p == ne->args || p[-1] == ' ') &&
			    (p[n] == ' ' || p[n] == '\0'))
				break;
		if (p == NULL) {
			err_set(e, ERR_INVALID, "notify add %s does not take "
			    "\"%s\"", ne->kind, key);
			return (-1);
		}
	}
	return (0);
}

static void
notify_wipe(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * Add a channel: the kind checks its arguments and splits them into
 * config and secret; the row goes in first, then its sealed secret, in
 * one transaction.
 */
json_t *
notify_add(struct db *db, const json_t *args, struct err *e)
{
	const struct notify_entry	*ne;
	const char			*kind = jx_str(args, "kind");
	sqlite3_stmt			*st;
	json_t				*config;
	char				*secret = NULL, *config_s = NULL;
	char				*cause, *ad, *mask = NULL;
	uint8_t				*blob = NULL;
	size_t				 len = 0;
	long long			 id, now = time(NULL);

	if (kind == NULL || (ne = notify_find(kind)) == NULL) {
		err_set(e, ERR_INVALID, "unknown channel kind \"%s\": webhook, "
		    "bark, serverchan, telegram or smtp", kind != NULL ? kind :
		    "");
		return (NULL);
	}
	if (notify_args_fit(ne, args, e) != 0)
		return (NULL);
	config = json_object();
	if (ne->config(args, config, &secret, e) != 0) {
		json_decref(config);
		notify_wipe(secret);
		return (NULL);
	}
	config_s = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(config);
	if (secret != NULL)
		mask = strncmp(secret, "http", 4) == 0 ?
		    notify_url_mask(secret) : vault_mask(secret);
	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		goto out;
	}
	st = db_prepare_err(db, "INSERT INTO notify_channels (kind, config, "
	    "secret_mask, enabled, created_at, updated_at) VALUES "
	    "(?, ?, ?, 1, ?, ?)", e);
	if (st != NULL) {
		db_bind_text(st, 1, kind);
		db_bind_text(st, 2, config_s);
		db_bind_text(st, 3, mask != NULL ? mask : "");
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, now);
	}
	if (db_step_done(db, st, e) != 0)
		goto fail;
	id = sqlite3_last_insert_rowid(db->h);
	if (secret != NULL) {
		ad = vault_ad("notify_channels", "secret", id);
		if (vault_seal(ad, secret, strlen(secret), &blob, &len) != 0) {
			free(ad);
			err_set(e, ERR_INTERNAL, "vault is not open");
			goto fail;
		}
		free(ad);
		st = db_prepare_err(db, "UPDATE notify_channels SET "
		    "secret_sealed = ? WHERE id = ?", e);
		if (st != NULL) {
			db_bind_blob(st, 1, blob, len);
			sqlite3_bind_int64(st, 2, id);
		}
		if (db_step_done(db, st, e) != 0)
			goto fail;
	}
	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		goto out;
	}
	notify_wipe(secret);
	free(config_s);
	free(mask);
	free(blob);
	return (notify_get(db, id, e));
fail:
	db_rollback(db);
out:
	notify_wipe(secret);
	free(config_s);
	free(mask);
	free(blob);
	return (NULL);
}

int
notify_rm(struct db *db, long long id, struct err *e)
{
	sqlite3_stmt	*st;

	st = db_prepare_err(db, "DELETE FROM notify_channels WHERE id = ?", e);
	if (st != NULL)
		sqlite3_bind_int64(st, 1, id);
	if (db_step_done(db, st, e) != 0)
		return (-1);
	if (sqlite3_changes(db->h) == 0) {
		err_set(e, ERR_NOT_FOUND, "no notification channel %lld", id);
		return (-1);
	}
	return (0);
}

json_t *
notify_set_enabled(struct db *db, long long id, int on, struct err *e)
{
	sqlite3_stmt	*st;

	st = db_prepare_err(db, "UPDATE notify_channels SET enabled = ?, "
	    "updated_at = ? WHERE id = ?", e);
	if (st != NULL) {
		sqlite3_bind_int(st, 1, on != 0);
		sqlite3_bind_int64(st, 2, (long long)time(NULL));
		sqlite3_bind_int64(st, 3, id);
	}
	if (db_step_done(db, st, e) != 0)
		return (NULL);
	return (notify_get(db, id, e));
}

/* Every channel's id (enabled only, or all), in order. */
int
notify_ids(struct db *db, int enabled_only, long long **ids, size_t *n,
    struct err *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	*ids = NULL;
	*n = 0;
	st = db_prepare_err(db, enabled_only ? "SELECT id FROM "
	    "notify_channels WHERE enabled = 1 ORDER BY id" : "SELECT id FROM "
	    "notify_channels ORDER BY id", e);
	if (st == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		free(*ids);
		*ids = NULL;
		*n = 0;
		return (-1);
	}
	return (0);
}

/* A channel with its secret opened (vault memory), to send through. */
int
notify_load(struct db *db, long long id, struct notify_chan *ch,
    struct err *e)
{
	sqlite3_stmt	*st;
	char		*ad, *cause;
	int		 rc;

	memset(ch, 0, sizeof *ch);
	st = db_prepare_err(db, "SELECT kind, config, secret_sealed, enabled "
	    "FROM notify_channels WHERE id = ?", e);
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			err_set(e, ERR_NOT_FOUND, "no notification channel "
			    "%lld", id);
		else
			err_set(e, ERR_STORAGE, "%s", db_strerror(db));
		sqlite3_finalize(st);
		return (-1);
	}
	ch->id = id;
	ch->kind = xstrdup(db_col_text(st, 0));
	ch->config = json_loads(db_col_text(st, 1) != NULL ?
	    db_col_text(st, 1) : "{}", 0, NULL);
	if (ch->config == NULL)
		ch->config = json_object();
	ch->enabled = sqlite3_column_int(st, 3);
	ch->target = notify_summary(ch->kind, ch->config);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		ad = vault_ad("notify_channels", "secret", id);
		ch->secret = vault_unseal(ad, sqlite3_column_blob(st, 2),
		    sqlite3_column_bytes(st, 2), &cause);
		free(ad);
		if (ch->secret == NULL) {
			err_set(e, ERR_STORAGE, "notification channel %lld: "
			    "%s", id, cause);
			free(cause);
			sqlite3_finalize(st);
			notify_chan_free(ch);
			return (-1);
		}
	}
	sqlite3_finalize(st);
	return (0);
}

void
notify_chan_free(struct notify_chan *ch)
{
	if (ch == NULL)
		return;
	free(ch->kind);
	json_decref(ch->config);
	vault_secret_free(ch->secret);
	free(ch->target);
	memset(ch, 0, sizeof *ch);
}

/* A delivery's outcome: error NULL records a success at time when. */
int
notify_record(struct db *db, long long id, time_t when, const char *error)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(db, error == NULL ? "UPDATE notify_channels SET "
	    "last_sent_at = ?, last_error = NULL WHERE id = ?" :
	    "UPDATE notify_channels SET last_error = ? WHERE id = ?", NULL);
	if (st == NULL)
		return (-1);
	if (error == NULL)
		sqlite3_bind_int64(st, 1, (long long)when);
	else
		db_bind_text(st, 1, error);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}
