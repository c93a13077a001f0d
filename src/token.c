/*
 * Upstream tokens: the API keys an account holds on its site, as the last
 * sync found them. This module alone owns the upstream_tokens table. Keys
 * are sealed; a key the site shows only masked is kept as
 * "masked_pending" and never routed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "adapter.h"
#include "db.h"
#include "err.h"
#include "jx.h"
#include "token.h"
#include "vault.h"
#include "xmalloc.h"

#define TOKEN_COLUMNS "t.id, t.account_id, t.remote_id, t.name, " \
	"t.token_mask, t.token_group, t.value_status, t.enabled, " \
	"t.is_default, t.remain_quota_usd, t.unlimited, t.expires_at, " \
	"t.updated_at, s.name"

static json_t *
token_row_json(struct db_stmt *st)
{
	json_t	*o = json_object();

	json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
	json_object_set_new(o, "account_id",
	    json_integer(db_col_int64(st, 1)));
	jx_set_str_or_null(o, "remote_id", db_col_text(st, 2));
	jx_set_str(o, "name", db_col_text(st, 3));
	jx_set_str(o, "key_mask", db_col_text(st, 4));
	jx_set_str_or_null(o, "group", db_col_text(st, 5));
	jx_set_str(o, "value_status", db_col_text(st, 6));
	json_object_set_new(o, "enabled", json_boolean(db_col_int(st,
	    7)));
	json_object_set_new(o, "default", json_boolean(db_col_int(st,
	    8)));
	json_object_set_new(o, "unlimited", json_boolean(db_col_int(st,
	    10)));
	json_object_set_new(o, "remain_usd", jx_opt_real(
	    db_col_type(st, 9) != DB_NULL &&
	    !db_col_int(st, 10), db_col_double(st, 9)));
	json_object_set_new(o, "expires_at", jx_time(db_col_int64(st,
	    11)));
	json_object_set_new(o, "synced_at", jx_time(db_col_int64(st,
	    12)));
	jx_set_str(o, "site", db_col_text(st, 13));
	return (o);
}

/* Tokens of one account, or all when account_id is 0. */
json_t *
token_list(struct db *db, long long account_id, struct err *e)
{
	struct db_stmt	*st;
	json_t		*items;

	st = db_prepare_err(db, "SELECT " TOKEN_COLUMNS " FROM upstream_tokens "
	    "t JOIN accounts a ON a.id = t.account_id JOIN sites s ON "
	    "s.id = a.site_id WHERE ? = 0 OR t.account_id = ? ORDER BY t.id", e);
	if (st != NULL) {
		db_bind_int64(st, 1, account_id);
		db_bind_int64(st, 2, account_id);
	}
	items = db_rows(db, st, token_row_json, e);
	return (items != NULL ? jx_items(items) : NULL);
}

json_t *
token_get(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	json_t		*o;

	st = db_prepare_err(db, "SELECT " TOKEN_COLUMNS " FROM upstream_tokens "
	    "t JOIN accounts a ON a.id = t.account_id JOIN sites s ON "
	    "s.id = a.site_id WHERE t.id = ?", e);
	if (st != NULL)
		db_bind_int64(st, 1, id);
	if (db_row(db, st, token_row_json, &o, e) == 0)
		err_set(e, ERR_NOT_FOUND, "no token %lld", id);
	return (o);
}

/* The account and the site's id of token id (for rm on the site). */
int
token_owner(struct db *db, long long id, long long *account_id,
    char **remote_id, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "SELECT account_id, remote_id FROM upstream_tokens "
	    "WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*account_id = db_col_int64(st, 0);
		*remote_id = db_col_text(st, 1) != NULL ?
		    xstrdup(db_col_text(st, 1)) : NULL;
	}
	db_finalize(st);
	if (rc != DB_ROW) {
		err_set(e, ERR_NOT_FOUND, "no token %lld", id);
		return (-1);
	}
	return (0);
}

static int
token_seal(struct db *db, long long id, const char *key, struct err *e)
{
	struct db_stmt	*st;
	uint8_t		*blob;
	size_t		 len;
	char		*ad;
	int		 rc;

	ad = vault_ad("upstream_tokens", "token", id);
	rc = vault_seal(ad, key, strlen(key), &blob, &len);
	free(ad);
	if (rc != 0) {
		err_set(e, ERR_INTERNAL, "vault is not open");
		return (-1);
	}
	st = db_prepare(db, "UPDATE upstream_tokens SET token_sealed = ? "
	    "WHERE id = ?", NULL);
	if (st == NULL) {
		free(blob);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_blob(st, 1, blob, len);
	db_bind_int64(st, 2, id);
	rc = db_step(st);
	db_finalize(st);
	free(blob);
	return (rc == DB_DONE ? 0 : -1);
}

/* Insert or update one listed token by its remote id; *id is its row. */
static int
token_upsert(struct db *db, long long account_id,
    const struct adapter_token *t, long long *id, struct err *e)
{
	struct db_stmt	*st;
	char		*mask;
	long long	 now = time(NULL);
	int		 rc;

	*id = 0;
	if (t->remote_id != NULL) {
		st = db_prepare(db, "SELECT id FROM upstream_tokens WHERE "
		    "account_id = ? AND remote_id = ?", NULL);
		if (st == NULL)
			goto storage;
		db_bind_int64(st, 1, account_id);
		db_bind_text(st, 2, t->remote_id);
		if (db_step(st) == DB_ROW)
			*id = db_col_int64(st, 0);
		db_finalize(st);
	}
	mask = t->mask != NULL ? xstrdup(t->mask) : t->key != NULL ?
	    vault_mask(t->key) : xstrdup("");
	st = db_prepare(db, *id != 0 ?
	    "UPDATE upstream_tokens SET name = ?, token_mask = ?, "
	    "token_group = ?, value_status = ?, enabled = ?, "
	    "remain_quota_usd = ?, unlimited = ?, expires_at = ?, "
	    "updated_at = ? WHERE id = ?" :
	    "INSERT INTO upstream_tokens (name, token_mask, token_group, "
	    "value_status, enabled, remain_quota_usd, unlimited, expires_at, "
	    "updated_at, account_id, remote_id, source, created_at) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sync', ?)", NULL);
	if (st == NULL) {
		free(mask);
		goto storage;
	}
	db_bind_text(st, 1, t->name != NULL ? t->name : "");
	db_bind_text(st, 2, mask);
	db_bind_text(st, 3, t->group);
	db_bind_text(st, 4, t->key != NULL ? "ready" : "masked_pending");
	db_bind_int64(st, 5, t->enabled);
	db_bind_real(st, 6, t->remain_usd, !t->unlimited);
	db_bind_int64(st, 7, t->unlimited);
	db_bind_int(st, 8, t->expires_at, t->expires_at > 0);
	db_bind_int64(st, 9, now);
	if (*id != 0)
		db_bind_int64(st, 10, *id);
	else {
		db_bind_int64(st, 10, account_id);
		db_bind_text(st, 11, t->remote_id);
		db_bind_int64(st, 12, now);
	}
	rc = db_step(st);
	db_finalize(st);
	free(mask);
	if (rc != DB_DONE)
		goto storage;
	if (*id == 0)
		*id = db_last_id(db);
	if (t->key != NULL && token_seal(db, *id, t->key, e) != 0)
		return (-1);
	return (0);
storage:
	err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
	return (-1);
}

/*
 * Make the account's tokens what the site just listed (the caller holds
 * the transaction): rows are matched by the site's id, so a token keeps
 * its id (and its channels) across syncs; tokens gone from the site go.
 * When no token is the default, the first usable one becomes it. ids (or
 * NULL) gets each listed token's row id, in list order.
 */
int
token_sync(struct db *db, long long account_id,
    const struct adapter_tokens *list, long long *ids, struct err *e)
{
	struct db_stmt	*st;
	long long	*keep, id;
	size_t		 i, j;
	int		 rc;

	keep = xcalloc(list->n + 1, sizeof *keep);
	for (i = 0; i < list->n; i++)
		if (token_upsert(db, account_id, &list->v[i], &keep[i], e) != 0)
			goto fail;
	st = db_prepare(db, "SELECT id FROM upstream_tokens WHERE "
	    "account_id = ? AND source = 'sync'", NULL);
	if (st == NULL)
		goto storage;
	db_bind_int64(st, 1, account_id);
	while ((rc = db_step(st)) == DB_ROW) {
		id = db_col_int64(st, 0);
		for (j = 0; j < list->n && keep[j] != id; j++)
			;
		if (j == list->n && token_rm(db, id, e) != 0) {
			db_finalize(st);
			goto fail;
		}
	}
	db_finalize(st);
	st = db_prepare(db, "UPDATE upstream_tokens SET is_default = 1 WHERE "
	    "id = (SELECT id FROM upstream_tokens WHERE account_id = ? AND "
	    "value_status = 'ready' AND enabled = 1 ORDER BY unlimited DESC, "
	    "id LIMIT 1) AND "
	    "NOT EXISTS (SELECT 1 FROM upstream_tokens WHERE account_id = ? "
	    "AND is_default = 1)", NULL);
	if (st == NULL)
		goto storage;
	db_bind_int64(st, 1, account_id);
	db_bind_int64(st, 2, account_id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		goto storage;
	if (ids != NULL)
		memcpy(ids, keep, list->n * sizeof *ids);
	free(keep);
	return (0);
storage:
	err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
fail:
	free(keep);
	return (-1);
}

/*
 * Delete token id with its discovered channels (its availability rows go
 * by cascade). A manual channel on it stays and falls back to the
 * account's default key (channels.token_id is ON DELETE SET NULL).
 */
int
token_rm(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "DELETE FROM channels WHERE token_id = ? AND "
	    "manual = 0", NULL);
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
	st = db_prepare(db, "DELETE FROM upstream_tokens WHERE id = ?", NULL);
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
	return (0);
}

/* Make token id its account's default (the key used for discovery). */
json_t *
token_set_default(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	long long	 account_id;
	char		*remote, *cause;
	int		 rc;

	if (token_owner(db, id, &account_id, &remote, e) != 0)
		return (NULL);
	free(remote);
	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (NULL);
	}
	st = db_prepare(db, "UPDATE upstream_tokens SET is_default = CASE "
	    "WHEN id = ? THEN 1 ELSE 0 END WHERE account_id = ?", NULL);
	if (st == NULL) {
		db_rollback(db);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, account_id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE || db_commit(db, &cause) != 0) {
		db_rollback(db);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	return (token_get(db, id, e));
}

/* The default token's key in secure memory, or NULL. */
char *
token_default_key(struct db *db, long long account_id)
{
	struct db_stmt	*st;
	char		*ad, *key = NULL, *cause = NULL;

	st = db_prepare(db, "SELECT id, token_sealed FROM upstream_tokens "
	    "WHERE account_id = ? AND value_status = 'ready' AND "
	    "token_sealed IS NOT NULL ORDER BY is_default DESC, id LIMIT 1",
	    NULL);
	if (st == NULL)
		return (NULL);
	db_bind_int64(st, 1, account_id);
	if (db_step(st) == DB_ROW) {
		ad = vault_ad("upstream_tokens", "token",
		    db_col_int64(st, 0));
		key = vault_unseal(ad, db_col_blob(st, 1),
		    db_col_bytes(st, 1), &cause);
		free(ad);
		free(cause);
	}
	db_finalize(st);
	return (key);
}

/*
 * The account's default usable token, still sealed: its id and a copy of
 * the ciphertext (for the request path to open per request). -1: none.
 */
int
token_default_sealed(struct db *db, long long account_id, long long *id,
    void **blob, size_t *len)
{
	struct db_stmt	*st;
	int		 rv = -1;

	st = db_prepare(db, "SELECT id, token_sealed FROM upstream_tokens "
	    "WHERE account_id = ? AND value_status = 'ready' AND enabled = 1 "
	    "AND token_sealed IS NOT NULL ORDER BY is_default DESC, "
	    "unlimited DESC, id LIMIT 1", NULL);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, account_id);
	if (db_step(st) == DB_ROW && db_col_bytes(st, 1) > 0) {
		*id = db_col_int64(st, 0);
		*len = db_col_bytes(st, 1);
		*blob = xmalloc(*len);
		memcpy(*blob, db_col_blob(st, 1), *len);
		rv = 0;
	}
	db_finalize(st);
	return (rv);
}

/* A caller's callback and its argument, carried through db_each(). */
struct token_each {
	token_usable_cb	 cb;
	void		*arg;
};

static int
token_usable_row(struct db_stmt *st, void *arg)
{
	struct token_each	*x = arg;
	struct token_usable	 t;

	memset(&t, 0, sizeof t);
	t.id = db_col_int64(st, 0);
	t.account_id = db_col_int64(st, 1);
	t.name = db_col_text(st, 2);
	t.group = db_col_text(st, 3);
	t.blob = db_col_blob(st, 4);
	t.len = db_col_bytes(st, 4);
	return (x->cb(&t, x->arg));
}

/*
 * Every token a request may use: enabled, its full key known and sealed,
 * not expired at now. The snapshot gives each token channel its key.
 */
int
token_usable_foreach(struct db *db, long long now, token_usable_cb cb,
    void *arg, struct err *e)
{
	struct token_each	 x = { cb, arg };
	struct db_stmt		*st;

	st = db_prepare_err(db, "SELECT id, account_id, name, token_group, "
	    "token_sealed FROM upstream_tokens WHERE " TOKEN_USABLE_SQL
	    " AND token_sealed IS NOT NULL ORDER BY id", e);
	if (st != NULL)
		db_bind_int64(st, 1, now);
	return (db_each(db, st, token_usable_row, &x, e));
}
