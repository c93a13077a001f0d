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
#include "log.h"
#include "proxylog.h"
#include "search.h"
#include "site.h"
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
	if (jx_has(args, "user_id") && strcmp(found, "access_token") != 0 &&
	    strcmp(found, "cookie") != 0) {
		err_set(e, ERR_USAGE, "--user-id goes with --access-token or "
		    "--cookie only");
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
	"a.last_checkin_at, a.last_refresh_at, a.created_at, a.updated_at, " \
	"a.user_group, a.request_count"

static json_t *
account_row_json(struct db_stmt *st)
{
	json_t	*o;
	int	 i;

	o = json_object();
	json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
	json_object_set_new(o, "site_id", json_integer(db_col_int64(st,
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
	    json_boolean(db_col_int(st, 10)));
	for (i = 11; i <= 13; i++) {
		json_object_set_new(o, i == 11 ? "balance_usd" : i == 12 ?
		    "used_usd" : "today_income_usd", jx_opt_real(
		    db_col_type(st, i) != DB_NULL,
		    db_col_double(st, i)));
	}
	jx_set_str(o, "health", db_col_text(st, 14));
	jx_set_str_or_null(o, "health_reason", db_col_text(st, 15));
	json_object_set_new(o, "last_checkin_at",
	    jx_time(db_col_int64(st, 16)));
	json_object_set_new(o, "last_refresh_at",
	    jx_time(db_col_int64(st, 17)));
	json_object_set_new(o, "created_at", jx_time(db_col_int64(st,
	    18)));
	json_object_set_new(o, "updated_at", jx_time(db_col_int64(st,
	    19)));
	/* What the site says of the user: its group, its requests. */
	jx_set_str_or_null(o, "group", db_col_text(st, 20));
	json_object_set_new(o, "request_count", jx_opt_int(
	    db_col_type(st, 21) != DB_NULL, db_col_int64(st, 21)));
	return (o);
}

/* All accounts, or those of one site when site_id is not 0. */
json_t *
account_list(struct db *db, long long site_id, struct err *e)
{
	struct db_stmt	*st;
	json_t		*items;

	st = db_prepare_err(db, "SELECT " ACCOUNT_COLUMNS " FROM accounts a "
	    "JOIN sites s ON s.id = a.site_id WHERE ? = 0 OR a.site_id = ? "
	    "ORDER BY a.id", e);
	if (st != NULL) {
		db_bind_int64(st, 1, site_id);
		db_bind_int64(st, 2, site_id);
	}
	items = db_rows(db, st, account_row_json, e);
	return (items != NULL ? jx_items(items) : NULL);
}

json_t *
account_get(struct db *db, long long id, struct err *e)
{
	struct db_stmt	*st;
	json_t		*o;

	st = db_prepare_err(db, "SELECT " ACCOUNT_COLUMNS " FROM accounts a "
	    "JOIN sites s ON s.id = a.site_id WHERE a.id = ?", e);
	if (st != NULL)
		db_bind_int64(st, 1, id);
	if (db_row(db, st, account_row_json, &o, e) == 0)
		err_set(e, ERR_NOT_FOUND, "no account %lld", id);
	return (o);
}

int
account_count(struct db *db)
{
	struct db_stmt	*st;
	int		 n = 0;

	st = db_prepare(db, "SELECT COUNT(*) FROM accounts", NULL);
	if (st == NULL)
		return (0);
	if (db_step(st) == DB_ROW)
		n = db_col_int(st, 0);
	db_finalize(st);
	return (n);
}

/* Seal one secret into column `col` (credential or password) of row id. */
static int
account_seal(struct db *db, long long id, const char *col, const char *secret,
    struct err *e)
{
	struct db_stmt	*st;
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
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_blob(st, 1, blob, len);
	db_bind_int64(st, 2, id);
	rc = db_step(st);
	db_finalize(st);
	free(blob);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
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
    const struct adapter_acct *session, const struct adapter_user *user,
    struct err *e)
{
	struct db_stmt	*st;
	const char	*kind, *secret;
	char		*mask, *cause;
	long long	 id, now = time(NULL);
	size_t		 i;
	int		 rc, checkin;

	if (account_check_credentials(args, &kind, e) != 0)
		return (NULL);
	for (i = 0; i < nitems(account_kinds); i++)
		if (strcmp(account_kinds[i].kind, kind) == 0)
			break;
	if (i == nitems(account_kinds)) {
		err_set(e, ERR_INTERNAL, "unknown credential kind %s", kind);
		return (NULL);
	}
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
	    "(SELECT CASE WHEN enabled <> 0 THEN 'active' ELSE 'disabled' END "
	    "FROM sites WHERE id = ?), ?, ?)", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	mask = vault_mask(secret);
	db_bind_int64(st, 1, site_id);
	db_bind_text(st, 2, jx_str(args, "label"));
	db_bind_text(st, 3, jx_str(args, "username"));
	db_bind_text(st, 4, session != NULL && session->user_id != NULL ?
	    session->user_id : jx_str(args, "user_id"));
	db_bind_text(st, 5, kind);
	db_bind_text(st, 6, mask);
	db_bind_int64(st, 7, checkin);
	db_bind_int64(st, 8, site_id);
	db_bind_int64(st, 9, now);
	db_bind_int64(st, 10, now);
	rc = db_step(st);
	db_finalize(st);
	free(mask);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		goto fail;
	}
	id = db_last_id(db);
	if (account_seal(db, id, "credential", secret, e) != 0)
		goto fail;
	if (session != NULL && account_store_session(db, id, session, e) != 0)
		goto fail;
	if (user != NULL && account_store_user(db, id, user, e) != 0)
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
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "DELETE FROM accounts WHERE id = ?", NULL);
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
	struct db_stmt	*st;
	int		 rc, site_on = 1;

	st = db_prepare(db, "SELECT s.enabled FROM accounts a JOIN sites s "
	    "ON s.id = a.site_id WHERE a.id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		site_on = db_col_int(st, 0);
	db_finalize(st);
	if (rc != DB_ROW) {
		err_set(e, ERR_NOT_FOUND, "no account %lld", id);
		return (NULL);
	}
	if (on && !site_on) {
		err_set(e, ERR_INVALID, "account %lld's site is disabled; "
		    "enable the site first", id);
		return (NULL);
	}
	/* The user's own word: the site's re-enabling does not undo it. */
	st = db_prepare(db, "UPDATE accounts SET status = ?, "
	    "status_before_site = NULL, updated_at = ? WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	db_bind_text(st, 1, on ? "active" : "disabled");
	db_bind_int64(st, 2, (long long)time(NULL));
	db_bind_int64(st, 3, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	return (account_get(db, id, e));
}

/*
 * A site was switched: carry its accounts along (inside its transaction).
 * Off: each account not already disabled is, remembering its status. On:
 * those get their status back; an account the user disabled on its own
 * stays disabled, and an expired one stays expired.
 */
int
account_cascade_site(struct db *db, long long site_id, int on, struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, on ?
	    "UPDATE accounts SET status = status_before_site, "
	    "status_before_site = NULL, updated_at = ? "
	    "WHERE site_id = ? AND status_before_site IS NOT NULL" :
	    "UPDATE accounts SET status_before_site = status, "
	    "status = 'disabled', updated_at = ? "
	    "WHERE site_id = ? AND status != 'disabled'", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_int64(st, 1, (long long)time(NULL));
	db_bind_int64(st, 2, site_id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (0);
}


/* An id list being filled by db_each(). */
struct account_idlist {
	long long	*v;
	size_t		 n;
};

static int
account_id_row(struct db_stmt *st, void *arg)
{
	struct account_idlist	*l = arg;

	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = db_col_int64(st, 0);
	return (0);
}

/* The first column of each row of st (NULL: failed, e says so). */
static int
account_id_list(struct db *db, struct db_stmt *st, long long **ids, size_t *n,
    struct err *e)
{
	struct account_idlist	l = { NULL, 0 };

	if (db_each(db, st, account_id_row, &l, e) != 0) {
		free(l.v);
		*ids = NULL;
		*n = 0;
		return (-1);
	}
	*ids = l.v;
	*n = l.n;
	return (0);
}

/* Ids of every account, in id order. */
int
account_ids(struct db *db, long long **ids, size_t *n, struct err *e)
{
	return (account_id_list(db, db_prepare_err(db, "SELECT id FROM "
	    "accounts ORDER BY id", e), ids, n, e));
}

/*
 * Password accounts whose session is older than max_age seconds (a
 * Sub2API JWT: sub2api_age), or that have none: the renew job's. Not
 * disabled ones.
 */
int
account_renew_ids(struct db *db, long long max_age, long long sub2api_age,
    long long **ids, size_t *n, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "SELECT a.id FROM accounts a JOIN sites s ON "
	    "s.id = a.site_id WHERE a.credential_kind = 'password' AND "
	    "a.status != 'disabled' AND s.enabled = 1 AND "
	    "COALESCE(a.session_updated_at, 0) < ?1 - CASE WHEN s.platform = "
	    "'sub2api' THEN ?3 ELSE ?2 END ORDER BY a.id", e);
	if (st != NULL) {
		db_bind_int64(st, 1, (long long)time(NULL));
		db_bind_int64(st, 2, max_age);
		db_bind_int64(st, 3, sub2api_age);
	}
	return (account_id_list(db, st, ids, n, e));
}

static char *
account_unseal(struct db_stmt *st, int col, long long id, const char *name,
    struct err *e)
{
	char	*ad, *plain, *cause;

	if (db_col_bytes(st, col) == 0)
		return (NULL);
	ad = vault_ad("accounts", name, id);
	plain = vault_unseal(ad, db_col_blob(st, col),
	    db_col_bytes(st, col), &cause);
	free(ad);
	if (plain == NULL) {
		err_set(e, ERR_STORAGE, "account %lld %s: %s", id, name, cause);
		free(cause);
	}
	return (plain);
}

/* Take a session field from the sealed JSON into secure memory. */
static void
account_session_field(json_t *s, const char *k, char **field)
{
	const char	*v = jx_str(s, k);

	if (v != NULL && *v != '\0')
		adapter_set_secret(field, v);
}

/*
 * Load account id for an adapter call: the site's address, the
 * credential by its kind and the latest session, unsealed into secure
 * memory. proxy is the daemon-wide fallback proxy (or NULL); each call to
 * the site may take timeout_sec.
 */
int
account_ctx_load(struct db *db, long long id, const char *proxy,
    long timeout_sec, struct account_ctx *c, struct err *e)
{
	struct db_stmt	*st;
	char		*cred = NULL, *sess = NULL;
	json_t		*sj;
	int		 rc;

	memset(c, 0, sizeof *c);
	st = db_prepare(db, "SELECT a.site_id, s.name, a.credential_kind, "
	    "a.status, a.checkin_enabled, a.username, a.user_id, "
	    "a.credential_sealed, a.session_sealed, s.quota_per_unit "
	    "FROM accounts a JOIN sites s ON s.id = a.site_id WHERE a.id = ?",
	    NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc != DB_ROW) {
		db_finalize(st);
		err_set(e, rc == DB_DONE ? ERR_NOT_FOUND : ERR_STORAGE,
		    "no account %lld", id);
		return (-1);
	}
	c->id = id;
	c->site_id = db_col_int64(st, 0);
	c->site_name = xstrdup(db_col_text(st, 1));
	c->kind = xstrdup(db_col_text(st, 2));
	c->status = xstrdup(db_col_text(st, 3));
	c->checkin_enabled = db_col_int(st, 4);
	if (db_col_text(st, 5) != NULL)
		adapter_set_secret(&c->acct.username, db_col_text(st, 5));
	if (db_col_text(st, 6) != NULL)
		adapter_set_secret(&c->acct.user_id, db_col_text(st, 6));
	c->acct.quota_per_unit = db_col_double(st, 9);
	if ((cred = account_unseal(st, 7, id, "credential", e)) == NULL &&
	    e->code != ERR_OK)
		goto fail;
	sess = account_unseal(st, 8, id, "session", e);
	if (sess == NULL && e->code != ERR_OK)
		goto fail;
	db_finalize(st);
	st = NULL;
	if (strcmp(c->kind, "password") == 0)
		c->acct.password = cred;
	else if (strcmp(c->kind, "access_token") == 0)
		c->acct.access_token = cred;
	else if (strcmp(c->kind, "cookie") == 0)
		c->acct.cookie = cred;
	else
		c->acct.api_key = cred;
	cred = NULL;
	if (sess != NULL) {
		if ((sj = json_loads(sess, 0, NULL)) != NULL) {
			account_session_field(sj, "cookie", &c->acct.cookie);
			account_session_field(sj, "access_token",
			    &c->acct.access_token);
			account_session_field(sj, "refresh_token",
			    &c->acct.refresh_token);
			account_session_field(sj, "waf_cookie",
			    &c->acct.waf_cookie);
			json_decref(sj);
		}
		vault_secret_free(sess);
	}
	if ((c->site = site_conn_get(db, c->site_id, e)) == NULL)
		goto fail;
	c->acct.url = c->site->url;
	c->acct.platform = c->site->platform;
	c->acct.proxy = c->site->proxy != NULL ? c->site->proxy :
	    (proxy != NULL && *proxy != '\0' ? proxy : NULL);
	c->acct.site_headers = c->site->headers;
	c->acct.timeout_sec = timeout_sec;
	return (0);
fail:
	if (st != NULL)
		db_finalize(st);
	vault_secret_free(cred);
	account_ctx_free(c);
	return (-1);
}

void
account_ctx_free(struct account_ctx *c)
{
	free(c->site_name);
	free(c->kind);
	free(c->status);
	site_conn_free(c->site);
	vault_secret_free(c->acct.username);
	vault_secret_free(c->acct.password);
	vault_secret_free(c->acct.access_token);
	vault_secret_free(c->acct.cookie);
	vault_secret_free(c->acct.api_key);
	vault_secret_free(c->acct.refresh_token);
	vault_secret_free(c->acct.user_id);
	vault_secret_free(c->acct.twofa);
	vault_secret_free(c->acct.waf_cookie);
	memset(c, 0, sizeof *c);
}

/*
 * Store what a login or refresh obtained: the session secrets sealed as
 * one JSON object, the site's user id, and the site's quota unit.
 */
int
account_store_session(struct db *db, long long id,
    const struct adapter_acct *a, struct err *e)
{
	struct db_stmt	*st;
	json_t		*o;
	char		*s, *ad;
	uint8_t		*blob = NULL;
	size_t		 len = 0;
	int		 rc;

	o = json_object();
	if (a->cookie != NULL)
		json_object_set_new(o, "cookie", json_string(a->cookie));
	if (a->access_token != NULL)
		json_object_set_new(o, "access_token",
		    json_string(a->access_token));
	if (a->refresh_token != NULL)
		json_object_set_new(o, "refresh_token",
		    json_string(a->refresh_token));
	if (a->waf_cookie != NULL)
		json_object_set_new(o, "waf_cookie", json_string(a->waf_cookie));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	ad = vault_ad("accounts", "session", id);
	rc = vault_seal(ad, s, strlen(s), &blob, &len);
	free(ad);
	explicit_bzero(s, strlen(s));
	free(s);
	if (rc != 0) {
		err_set(e, ERR_INTERNAL, "vault is not open");
		return (-1);
	}
	st = db_prepare(db, "UPDATE accounts SET session_sealed = ?, "
	    "session_updated_at = ?, user_id = COALESCE(?, user_id), "
	    "status = CASE WHEN status = 'expired' THEN 'active' ELSE "
	    "status END, updated_at = ? WHERE id = ?", NULL);
	if (st == NULL) {
		free(blob);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_blob(st, 1, blob, len);
	db_bind_int64(st, 2, (long long)time(NULL));
	db_bind_text(st, 3, a->user_id);
	db_bind_int64(st, 4, (long long)time(NULL));
	db_bind_int64(st, 5, id);
	rc = db_step(st);
	db_finalize(st);
	free(blob);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	if (a->quota_per_unit > 0 && (st = db_prepare(db, "SELECT site_id "
	    "FROM accounts WHERE id = ?", NULL)) != NULL) {
		db_bind_int64(st, 1, id);
		if (db_step(st) == DB_ROW)
			site_set_quota_per_unit(db, db_col_int64(st, 0),
			    a->quota_per_unit);
		db_finalize(st);
	}
	return (0);
}

/*
 * Every refresh that read a balance leaves a snapshot: income, spend and
 * net over any period come from them, also for sites that report no
 * income of their own.
 */
static int
account_snapshot(struct db *db, long long id, const struct adapter_user *u,
    struct err *e)
{
	struct db_stmt	*st;
	time_t		 now = time(NULL);
	struct tm	 tm;
	char		 day[16];

	if (!(u->has & ADAPTER_HAS_BALANCE))
		return (0);
	localtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	st = db_prepare_err(db, "INSERT INTO balance_snapshots (account_id, "
	    "time, day, balance_usd, used_usd, today_income_usd) VALUES (?, ?, "
	    "?, ?, ?, ?)", e);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, (long long)now);
	db_bind_text(st, 3, day);
	db_bind_real(st, 4, u->balance_usd, 1);
	db_bind_real(st, 5, u->used_usd, u->has & ADAPTER_HAS_USED);
	db_bind_real(st, 6, u->today_income_usd, u->has & ADAPTER_HAS_INCOME);
	return (db_step_done(db, st, e));
}

/* Snapshots older than before go with the request logs of their time. */
int
account_snapshots_prune(struct db *db, long long before, struct err *e)
{
	struct db_stmt	*st;

	st = db_prepare_err(db, "DELETE FROM balance_snapshots WHERE time < ?",
	    e);
	if (st != NULL)
		db_bind_int64(st, 1, before);
	return (db_step_done(db, st, e));
}

/*
 * Income an account received since a time, from its snapshots: between
 * two snapshots, what the balance rose by plus what the site says was
 * used meanwhile (spend by any client, not only through metapi). Top-ups
 * and check-in rewards both show here. A fall is spend, not negative
 * income.
 */
double
account_income_since(struct db *db, long long id, long long since)
{
	struct db_stmt	*st;
	double		 sum = 0, pb = 0, pu = 0, d;
	int		 first = 1, has_used = 0;

	/* The last snapshot before since is the day's starting point. */
	st = db_prepare(db, "SELECT balance_usd, used_usd FROM "
	    "balance_snapshots WHERE account_id = ?1 AND time >= COALESCE(("
	    "SELECT MAX(time) FROM balance_snapshots WHERE account_id = ?1 "
	    "AND time < ?2), ?2) ORDER BY time, id", NULL);
	if (st == NULL)
		return (0);
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, since);
	while (db_step(st) == DB_ROW) {
		if (!first) {
			d = db_col_double(st, 0) - pb;
			if (has_used && db_col_type(st, 1) !=
			    DB_NULL)
				d += db_col_double(st, 1) - pu;
			if (d > 0.000001)
				sum += d;
		}
		pb = db_col_double(st, 0);
		has_used = db_col_type(st, 1) != DB_NULL;
		pu = db_col_double(st, 1);
		first = 0;
	}
	db_finalize(st);
	return (sum);
}

/* Balance and identity from the site; the account is healthy again. */
int
account_store_user(struct db *db, long long id, const struct adapter_user *u,
    struct err *e)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "UPDATE accounts SET "
	    "balance_usd = COALESCE(?, balance_usd), "
	    "used_usd = COALESCE(?, used_usd), "
	    "today_income_usd = COALESCE(?, today_income_usd), "
	    "request_count = COALESCE(?, request_count), "
	    "user_group = COALESCE(?, user_group), "
	    "user_id = COALESCE(user_id, ?), "
	    "status = CASE WHEN status = 'expired' THEN 'active' ELSE status END,"
	    " health_state = 'healthy', health_reason = NULL, "
	    "health_source = 'balance', health_checked_at = ?, "
	    "last_refresh_at = ?, updated_at = ? WHERE id = ?", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	db_bind_real(st, 1, u->balance_usd, u->has & ADAPTER_HAS_BALANCE);
	db_bind_real(st, 2, u->used_usd, u->has & ADAPTER_HAS_USED);
	db_bind_real(st, 3, u->today_income_usd, u->has & ADAPTER_HAS_INCOME);
	db_bind_int(st, 4, u->request_count, u->has & ADAPTER_HAS_REQUESTS);
	db_bind_text(st, 5, u->group);
	db_bind_text(st, 6, u->user_id);
	db_bind_int64(st, 7, (long long)time(NULL));
	db_bind_int64(st, 8, (long long)time(NULL));
	db_bind_int64(st, 9, (long long)time(NULL));
	db_bind_int64(st, 10, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (-1);
	}
	return (account_snapshot(db, id, u, e));
}

/*
 * Record how the last contact with the site went. An unauthorized reply
 * marks the account expired (it stops routing until a refresh works).
 */
int
account_set_health(struct db *db, long long id, const char *state,
    const char *reason, const char *source)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "UPDATE accounts SET health_state = ?, "
	    "health_reason = ?, health_source = ?, health_checked_at = ?, "
	    "status = CASE WHEN ? = 'expired' AND status = 'active' THEN "
	    "'expired' ELSE status END WHERE id = ?", NULL);
	if (st == NULL)
		return (-1);
	db_bind_text(st, 1, strcmp(state, "expired") == 0 ? "unhealthy" :
	    state);
	db_bind_text(st, 2, reason);
	db_bind_text(st, 3, source);
	db_bind_int64(st, 4, (long long)time(NULL));
	db_bind_text(st, 5, state);
	db_bind_int64(st, 6, id);
	rc = db_step(st);
	db_finalize(st);
	return (rc == DB_DONE ? 0 : -1);
}

int
account_mark_checkin(struct db *db, long long id, long long when)
{
	struct db_stmt	*st;
	int		 rc;

	st = db_prepare(db, "UPDATE accounts SET last_checkin_at = ? "
	    "WHERE id = ?", NULL);
	if (st == NULL)
		return (-1);
	db_bind_int64(st, 1, when);
	db_bind_int64(st, 2, id);
	rc = db_step(st);
	db_finalize(st);
	return (rc == DB_DONE ? 0 : -1);
}

/* Local midnight today, as a Unix time: "today" for income and spend. */
long long
account_today_start(void)
{
	time_t		now = time(NULL);
	struct tm	tm;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return ((long long)mktime(&tm));
}

/*
 * An account's balance for the report, into o: as the site last told it
 * ("reported"); never told ("not_reported": null); or, when the last
 * refresh failed, the last one told minus what metapi logged as spent
 * through it since ("refresh_failed", estimated). Returns the figure
 * that goes into the total.
 */
static double
account_balance_now(struct db *db, struct db_stmt *st, json_t *o)
{
	const char	*health = db_col_text(st, 6);
	double		 b = db_col_double(st, 2);
	long long	 at = db_col_int64(st, 5);
	int		 failed;

	if (db_col_type(st, 2) == DB_NULL) {
		json_object_set_new(o, "balance_usd", json_null());
		jx_set_str(o, "balance_state", "not_reported");
		json_object_set_new(o, "estimated", json_false());
		return (0);
	}
	failed = health != NULL && (strcmp(health, "unhealthy") == 0 ||
	    strcmp(health, "expired") == 0);
	if (failed)
		b -= proxylog_spend_since(db, db_col_int64(st, 0), at);
	json_object_set_new(o, "balance_usd", json_real(b));
	jx_set_str(o, "balance_state", failed ? "refresh_failed" : "reported");
	json_object_set_new(o, "estimated", json_boolean(failed));
	return (b);
}

/*
 * The balance report (CLI.md's shape): each account's last known balance,
 * lifetime spend, today's income and today's spend through metapi, and
 * the totals. "estimated" marks accounts never refreshed from their site.
 */
json_t *
account_balances(struct db *db, struct err *e)
{
	struct db_stmt	*st;
	json_t		*items, *o;
	double		 tb = 0, tu = 0, ti = 0, ts = 0, spend, bal, income;
	long long	 today = account_today_start(), id;
	int		 rc;

	st = db_prepare(db, "SELECT a.id, s.name, a.balance_usd, a.used_usd, "
	    "a.today_income_usd, a.last_refresh_at, a.health_state FROM "
	    "accounts a JOIN sites s ON s.id = a.site_id ORDER BY a.id", NULL);
	if (st == NULL) {
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	items = json_array();
	while ((rc = db_step(st)) == DB_ROW) {
		id = db_col_int64(st, 0);
		spend = proxylog_spend_since(db, id, today);
		o = json_object();
		json_object_set_new(o, "id", json_integer(id));
		jx_set_str(o, "site", db_col_text(st, 1));
		bal = account_balance_now(db, st, o);
		json_object_set_new(o, "used_usd", jx_opt_real(
		    db_col_type(st, 3) != DB_NULL,
		    db_col_double(st, 3)));
		/* The site's own figure when it gives one, else snapshots'. */
		if (db_col_type(st, 4) != DB_NULL &&
		    db_col_int64(st, 5) >= today) {
			income = db_col_double(st, 4);
			jx_set_str(o, "income_source", "site");
		} else {
			income = account_income_since(db, id, today);
			jx_set_str(o, "income_source", "snapshots");
		}
		json_object_set_new(o, "today_income_usd", json_real(income));
		json_object_set_new(o, "today_spend_usd", json_real(spend));
		json_object_set_new(o, "today_net_usd", json_real(income -
		    spend));
		json_object_set_new(o, "refreshed_at",
		    jx_time(db_col_int64(st, 5)));
		json_array_append_new(items, o);
		tb += bal;
		tu += db_col_double(st, 3);
		ti += income;
		ts += spend;
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		json_decref(items);
		err_set(e, ERR_STORAGE, "%s", db_errmsg(db));
		return (NULL);
	}
	return (json_pack("{s:o, s:{s:f, s:f, s:f, s:f}}", "accounts", items,
	    "total", "balance_usd", tb, "used_usd", tu, "today_income_usd", ti,
	    "today_spend_usd", ts));
}

/* A caller's callback and its argument, carried through db_each(). */
struct account_each {
	account_channel_cb	 cb;
	void			*arg;
};

static int
account_channel_each(struct db_stmt *st, void *arg)
{
	struct account_each	*x = arg;
	struct account_channel	 c;
	struct err		 e = { ERR_OK, NULL };
	char			*proxy;
	int			 rv;

	memset(&c, 0, sizeof c);
	c.account_id = db_col_int64(st, 0);
	c.site_id = db_col_int64(st, 1);
	c.site_name = db_col_text(st, 2);
	c.url = db_col_text(st, 3);
	c.platform = db_col_text(st, 4);
	c.proxy = db_col_text(st, 5);
	c.weight = db_col_double(st, 6);
	c.headers_blob = db_col_blob(st, 7);
	c.headers_len = db_col_bytes(st, 7);
	c.kind = db_col_text(st, 8);
	c.cred_blob = db_col_blob(st, 9);
	c.cred_len = db_col_bytes(st, 9);
	c.name = db_col_text(st, 10);
	c.balance = db_col_double(st, 11);
	c.probe = db_col_int(st, 12);
	if (site_proxy_open(c.site_id, db_col_text(st, 5),
	    db_col_blob(st, 13), db_col_bytes(st, 13), &proxy,
	    &e) != 0) {
		/* Leave the site's accounts out rather than go direct. */
		log_warnx("account %lld: %s", c.account_id, e.msg);
		err_clear(&e);
		return (0);
	}
	c.proxy = proxy;
	rv = x->cb(&c, x->arg);
	site_proxy_free(proxy);
	return (rv);
}

/* Every active account of an enabled site, for the request path. */
int
account_channels(struct db *db, account_channel_cb cb, void *arg,
    struct err *e)
{
	struct account_each	x = { cb, arg };

	return (db_each(db, db_prepare_err(db, "SELECT a.id, s.id, s.name, "
	    "s.url, s.platform, s.proxy_url, s.weight, s.headers_sealed, "
	    "a.credential_kind, a.credential_sealed, COALESCE(a.label, "
	    "a.username), COALESCE(a.balance_usd, 0), s.probe, s.proxy_sealed "
	    "FROM accounts a "
	    "JOIN sites s ON s.id = a.site_id WHERE a.status = 'active' AND "
	    "s.enabled = 1 ORDER BY a.id", e), account_channel_each, &x, e));
}

static int
account_search_row(struct db_stmt *st, void *arg)
{
	struct search_ctx	*c = arg;
	struct search_field	 f[] = {
		{ "label", db_col_text(st, 2) },
		{ "username", db_col_text(st, 3) },
		{ "site", db_col_text(st, 1) },
		{ "group", db_col_text(st, 4) },
	};
	long long		 id = db_col_int64(st, 0);
	const char		*title, *group = db_col_text(st, 4);
	char			*detail, *fallback = NULL;

	if ((title = f[0].value) == NULL && (title = f[1].value) == NULL) {
		xasprintf(&fallback, "%s %lld", db_col_text(st, 6), id);
		title = fallback;
	}
	xasprintf(&detail, "on %s  %s%s%s", db_col_text(st, 1),
	    db_col_text(st, 5), group != NULL ? "  group " : "",
	    group != NULL ? group : "");
	search_hit(c->hits, c->q, "account", id, json_integer(id), title,
	    detail, f, nitems(f));
	free(detail);
	free(fallback);
	return (0);
}

/*
 * Accounts whose label, login name, site or group holds the query
 * (search.run). Credentials are never read here.
 */
int
account_search(struct db *db, const struct search_query *q, json_t *hits,
    struct err *e)
{
	struct search_ctx	 c = { q, hits };
	struct db_stmt		*st;

	st = db_prepare_err(db, "SELECT a.id, s.name, a.label, a.username, "
	    "a.user_group, a.status, a.credential_kind FROM accounts a JOIN "
	    "sites s ON s.id = a.site_id WHERE a.id = ?2 OR a.label LIKE ?1 "
	    "ESCAPE '\\' OR a.username LIKE ?1 ESCAPE '\\' OR s.name LIKE ?1 "
	    "ESCAPE '\\' OR a.user_group LIKE ?1 ESCAPE '\\' ORDER BY a.id "
	    "LIMIT ?3", e);
	if (st != NULL) {
		db_bind_text(st, 1, q->like);
		db_bind_int64(st, 2, q->id);
		db_bind_int64(st, 3, SEARCH_CANDIDATES_MAX);
	}
	return (db_each(db, st, account_search_row, &c, e));
}
