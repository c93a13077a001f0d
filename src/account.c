/*
 * Accounts: one login of the user on one site. This module alone owns the
 * accounts table's SQL and JSON form. The credential (and, for password
 * logins, the password kept for re-login) is sealed by the vault with the
 * row's identity; replies show only its mask. Talking to the site is not
 * done here: the caller verifies a credential before account_add().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "compat.h"
#include "db.h"
#include "err.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

#define ACCOUNT_SECRET_MAX	16384
#define ACCOUNT_LABEL_MAX	128

/* The credential kinds, each with the argument that carries it. */
static const struct {
	const char	*kind;
	const char	*arg;
	const char	*flag;
} account_kinds[] = {
	{ "password", "password", "--username/--password" },
	{ "access_token", "access_token", "--access-token" },
	{ "cookie", "cookie", "--cookie" },
	{ "api_key", "api_key", "--api-key" },
};

/*
 * Exactly one credential kind, with the options that belong to it. On
 * success *kind names it.
 */
int
account_check_credentials(const json_t *args, const char **kind,
    struct err *e)
{
	const char	*s, *found = NULL;
	size_t		 i;
	int		 n = 0;

	for (i = 0; i < nitems(account_kinds); i++) {
		if (jx_has(args, account_kinds[i].arg)) {
			found = account_kinds[i].kind;
			n++;
		}
	}
	if (n == 0 && jx_has(args, "username")) {
		err_set(e, ERR_USAGE, "--username needs --password");
		return (-1);
	}
	if (n != 1) {
		err_set(e, ERR_USAGE, "give exactly one credential: "
		    "--username and --password, --access-token, --cookie or "
		    "--api-key");
		return (-1);
	}
	if (strcmp(found, "password") == 0 && !jx_has(args, "username")) {
		err_set(e, ERR_USAGE, "--password needs --username");
		return (-1);
	}
	if (strcmp(found, "password") != 0 && jx_has(args, "username")) {
		err_set(e, ERR_USAGE, "--username goes with --password only");
		return (-1);
	}
	if (jx_has(args, "user_id") && strcmp(found, "access_token") != 0) {
		err_set(e, ERR_USAGE, "--user-id goes with --access-token only");
		return (-1);
	}
	for (i = 0; i < nitems(account_kinds); i++) {
		if (strcmp(account_kinds[i].kind, found) != 0)
			continue;
		s = jx_str(args, account_kinds[i].arg);
		if (*s == '\0' || strlen(s) > ACCOUNT_SECRET_MAX ||
		    strpbrk(s, "\r\n") != NULL) {
			err_set(e, ERR_INVALID, "%s: empty, too long or has a "
			    "line break", account_kinds[i].flag);
			return (-1);
		}
	}
	if ((s = jx_str(args, "label")) != NULL &&
	    strlen(s) > ACCOUNT_LABEL_MAX) {
		err_set(e, ERR_INVALID, "label is longer than %d bytes",
		    ACCOUNT_LABEL_MAX);
		return (-1);
	}
	*kind = found;
	return (0);
}

#define ACCOUNT_COLUMNS "a.id, a.site_id, s.name, s.platform, a.label, " \
	"a.username, a.user_id, a.credential_kind, a.credential_mask, " \
	"a.status, a.checkin_enabled, a.balance_usd, a.used_usd, " \
	"a.today_income_usd, a.health_state, a.health_reason, " \
	"a.last_checkin_at, a.last_refresh_at, a.created_at, a.updated_at"

static json_t *
account_row_json(sqlite3_stmt *st)
{
	json_t	*o;
	int	 i;

	o = json_object();
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
	json_object_set_new(o, "site_id", json_integer(sqlite3_column_int64(st,
	    1)));
	jx_set_str(o, "site", db_col_text(st, 2));
	jx_set_str(o, "platform", db_col_text(st, 3));
	jx_set_str_or_null(o, "label", db_col_text(st, 4));
	jx_set_str_or_null(o, "username", db_col_text(st, 5));
	jx_set_str_or_null(o, "user_id", db_col_text(st, 6));
	jx_set_str(o, "credential_kind", db_col_text(st, 7));
	jx_set_str(o, "credential", db_col_text(st, 8));
	jx_set_str(o, "status", db_col_text(st, 9));
	json_object_set_new(o, "checkin_enabled",
	    json_boolean(sqlite3_column_int(st, 10)));
	for (i = 11; i <= 13; i++) {
		json_object_set_new(o, i == 11 ? "balance_usd" : i == 12 ?
		    "used_usd" : "today_income_usd", jx_opt_real(
		    sqlite3_column_type(st, i) != SQLITE_NULL,
		    sqlite3_column_double(st, i)));
	}
	jx_set_str(o, "health", db_col_text(st, 14));
	jx_set_str_or_null(o, "health_reason", db_col_text(st, 15));
	json_object_set_new(o, "last_checkin_at",
	    jx_time(sqlite3_column_int64(st, 16)));
	json_object_set_new(o, "last_refresh_at",
	    jx_time(sqlite3_column_int64(st, 17)));
	json_object_set_new(o, "created_at", jx_time(sqlite3_column_int64(st,
	    18)));
	json_object_set_new(o, "updated_at", jx_time(sqlite3_column_int64(st,
	    19)));
	return (o);
}

/* All accounts, or those of one site when site_id is not 0. */
json_t *
account_list(struct db *db, long long site_id, struct err *e)
{
	sqlite3_stmt	*st;
	json_t		*items;
	int		 rc;

	st = db_prepare(db, "SELECT " ACCOUNT_COLUMNS " FROM accounts a "
	    "JOIN sites s ON s.id = a.site_id WHERE ? = 0 OR a.site_id = ? "
	    "ORDER BY a.id", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (NULL);
	}
	sqlite3_bind_int64(st, 1, site_id);
	sqlite3_bind_int64(st, 2, site_id);
	items = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(items, account_row_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		json_decref(items);
		return (NULL);
	}
	return (jx_items(items));
}

json_t *
account_get(struct db *db, long long id, struct err *e)
{
	sqlite3_stmt	*st;
	json_t		*o = NULL;
	int		 rc;

	st = db_prepare(db, "SELECT " ACCOUNT_COLUMNS " FROM accounts a "
	    "JOIN sites s ON s.id = a.site_id WHERE a.id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (NULL);
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		o = account_row_json(st);
	else if (rc == SQLITE_DONE)
		err_set(e, ERR_NOT_FOUND, "no account %lld", id);
	else
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
	sqlite3_finalize(st);
	return (o);
}

int
account_count(struct db *db)
{
	sqlite3_stmt	*st;
	int		 n = 0;

	st = db_prepare(db, "SELECT COUNT(*) FROM accounts", NULL);
	if (st == NULL)
		return (0);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (n);
}

/* Seal one secret into column `col` (credential or password) of row id. */
static int
account_seal(struct db *db, long long id, const char *col, const char *secret,
    struct err *e)
{
	sqlite3_stmt	*st;
	uint8_t		*blob;
	size_t		 len;
	char		*ad, *sql;
	int		 rc;

	ad = vault_ad("accounts", col, id);
	rc = vault_seal(ad, secret, strlen(secret), &blob, &len);
	free(ad);
	if (rc != 0) {
		err_set(e, ERR_INTERNAL, "vault is not open");
		return (-1);
	}
	xasprintf(&sql, "UPDATE accounts SET %s_sealed = ? WHERE id = ?", col);
	st = db_prepare(db, sql, NULL);
	free(sql);
	if (st == NULL) {
		free(blob);
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (-1);
	}
	db_bind_blob(st, 1, blob, len);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(blob);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (-1);
	}
	return (0);
}

/*
 * Insert an account whose credential the caller has verified. The row and
 * its sealed secrets are written in one transaction: the row first (its id
 * is part of the sealing), then the ciphertext.
 */
json_t *
account_add(struct db *db, long long site_id, const json_t *args,
    struct err *e)
{
	sqlite3_stmt	*st;
	const char	*kind, *secret, *s;
	char		*mask, *cause;
	long long	 id, now = time(NULL);
	size_t		 i;
	int		 rc, checkin;

	if (account_check_credentials(args, &kind, e) != 0)
		return (NULL);
	for (i = 0; i < nitems(account_kinds); i++)
		if (strcmp(account_kinds[i].kind, kind) == 0)
			break;
	secret = jx_str(args, account_kinds[i].arg);
	checkin = strcmp(kind, "api_key") != 0 && !jx_bool(args, "no_checkin");
	if (db_begin(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (NULL);
	}
	st = db_prepare(db, "INSERT INTO accounts (site_id, label, username, "
	    "user_id, credential_kind, credential_mask, checkin_enabled, "
	    "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "(SELECT CASE WHEN enabled THEN 'active' ELSE 'disabled' END "
	    "FROM sites WHERE id = ?), ?, ?)", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		goto fail;
	}
	mask = vault_mask(secret);
	sqlite3_bind_int64(st, 1, site_id);
	db_bind_text(st, 2, jx_str(args, "label"));
	db_bind_text(st, 3, jx_str(args, "username"));
	db_bind_text(st, 4, jx_str(args, "user_id"));
	db_bind_text(st, 5, kind);
	db_bind_text(st, 6, mask);
	sqlite3_bind_int(st, 7, checkin);
	sqlite3_bind_int64(st, 8, site_id);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(mask);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		goto fail;
	}
	id = sqlite3_last_insert_rowid(db->h);
	if (account_seal(db, id, "credential", secret, e) != 0)
		goto fail;
	if (strcmp(kind, "password") == 0 &&
	    (s = jx_str(args, "password")) != NULL &&
	    account_seal(db, id, "password", s, e) != 0)
		goto fail;
	if (db_commit(db, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (NULL);
	}
	return (account_get(db, id, e));
fail:
	db_rollback(db);
	return (NULL);
}

int
account_rm(struct db *db, long long id, struct err *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(db, "DELETE FROM accounts WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (-1);
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (-1);
	}
	if (sqlite3_changes(db->h) == 0) {
		err_set(e, ERR_NOT_FOUND, "no account %lld", id);
		return (-1);
	}
	return (0);
}

/*
 * Enabling an account of a disabled site is refused: the site's switch
 * wins, so the two cannot disagree.
 */
json_t *
account_set_enabled(struct db *db, long long id, int on, struct err *e)
{
	sqlite3_stmt	*st;
	int		 rc, site_on = 1;

	st = db_prepare(db, "SELECT s.enabled FROM accounts a JOIN sites s "
	    "ON s.id = a.site_id WHERE a.id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (NULL);
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		site_on = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		err_set(e, ERR_NOT_FOUND, "no account %lld", id);
		return (NULL);
	}
	if (on && !site_on) {
		err_set(e, ERR_INVALID, "account %lld's site is disabled; "
		    "enable the site first", id);
		return (NULL);
	}
	st = db_prepare(db, "UPDATE accounts SET status = ?, updated_at = ? "
	    "WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (NULL);
	}
	db_bind_text(st, 1, on ? "active" : "disabled");
	sqlite3_bind_int64(st, 2, (long long)time(NULL));
	sqlite3_bind_int64(st, 3, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (NULL);
	}
	return (account_get(db, id, e));
}

/* A site was switched: carry its accounts along (inside its transaction). */
int
account_cascade_site(struct db *db, long long site_id, int on, struct err *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(db, on ?
	    "UPDATE accounts SET status = 'active', updated_at = ? "
	    "WHERE site_id = ? AND status = 'disabled'" :
	    "UPDATE accounts SET status = 'disabled', updated_at = ? "
	    "WHERE site_id = ? AND status != 'disabled'", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (-1);
	}
	sqlite3_bind_int64(st, 1, (long long)time(NULL));
	sqlite3_bind_int64(st, 2, site_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err_set(e, ERR_STORAGE, "%s", sqlite3_errmsg(db->h));
		return (-1);
	}
	return (0);
}
