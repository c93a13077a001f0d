/*
 * account.* commands. Talking to sites goes through account jobs
 * (acctjob.c): a worker thread calls the platform adapter, the main
 * thread stores what came back. `account add` verifies the credential
 * before anything is stored: a rejected credential stores nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "account.h"
#include "compat.h"
#include "adapter.h"
#include "daemon.h"
#include "event.h"
#include "route.h"
#include "err.h"
#include "jx.h"
#include "model.h"
#include "setting.h"
#include "site.h"
#include "token.h"
#include "vault.h"
#include "xmalloc.h"

static enum ctl_ret
ctl_account_done(json_t **reply, json_t *o)
{
	*reply = o;
	return (o != NULL ? CTL_DONE : CTL_ERROR);
}

/* The key of the first usable token just listed (unlimited first). */
static const char *
ctl_account_token_key(struct acctjob_item *it)
{
	const char	*key = NULL;
	size_t		 i;

	for (i = 0; i < it->tokens.n; i++) {
		if (it->tokens.v[i].key == NULL || !it->tokens.v[i].enabled)
			continue;
		if (key == NULL || it->tokens.v[i].unlimited)
			key = it->tokens.v[i].key;
		if (it->tokens.v[i].unlimited)
			break;
	}
	return (key);
}

/*
 * Per-token discovery: a relay account's tokens often sit in different
 * groups with different model limits, so each usable token (enabled,
 * full key, not expired) lists its own models with GET /v1/models. At
 * most ACCT_TOKEN_PROBES tokens per account, and none started after
 * ACCT_TOKEN_PROBE_SEC: a refresh of an account with hundreds of tokens
 * must not hold the job for minutes. it->token_models gets one entry per
 * listed token: the names, [] for a token requests cannot use (its rows
 * go), or null where it was not asked or the call failed (its rows from
 * the last refresh stay).
 */
#define ACCT_TOKEN_PROBES	16
#define ACCT_TOKEN_PROBE_SEC	60

static void
ctl_account_token_models(struct acctjob_item *it)
{
	const struct adapter_token	*t;
	struct err			 w = { ERR_OK, NULL };
	json_t				*names;
	time_t				 start = time(NULL);
	size_t				 i, asked = 0;

	it->token_models = json_array();
	for (i = 0; i < it->tokens.n; i++) {
		t = &it->tokens.v[i];
		names = NULL;
		if (t->key == NULL || !t->enabled || (t->expires_at > 0 &&
		    t->expires_at <= (long long)start))
			names = json_array();
		else if (asked < ACCT_TOKEN_PROBES &&
		    time(NULL) - start < ACCT_TOKEN_PROBE_SEC) {
			asked++;
			if (it->ops->models(&it->ctx.acct, t->key, &names,
			    &w) != 0) {
				names = NULL;
				if (it->warn == NULL)
					xasprintf(&it->warn, "models of token "
					    "%s: %s", t->name != NULL ?
					    t->name : "?", w.msg);
				err_clear(&w);
			}
		}
		json_array_append_new(it->token_models, names != NULL ? names :
		    json_null());
	}
}

/*
 * Refresh one account against its site: who it is and its balance, its
 * tokens, the models it can use and the site's prices. The identity call
 * decides success; a later step that fails leaves a warning.
 */
void
ctl_account_refresh_work(__unused struct acctjob *j, struct acctjob_item *it)
{
	const struct adapter_ops	*ops = it->ops;
	struct adapter_acct		*a = &it->ctx.acct;
	struct err			 w = { ERR_OK, NULL };
	const char			*key;

	if (it->ctx.status != NULL && strcmp(it->ctx.status, "disabled") == 0) {
		it->preset = 1;		/* nothing to ask a disabled account */
		return;
	}
	if (acctjob_session(it) != 0)
		return;
	/* An API-key account is proxy-only: its key is all there is. */
	if (ops->user != NULL && a->api_key == NULL) {
		if (ops->user(a, &it->user, &it->err) != 0 &&
		    (acctjob_relogin(it) != 0 ||
		    ops->user(a, &it->user, &it->err) != 0))
			return;
		it->has_user = 1;
	}
	if (ops->tokens != NULL && a->api_key == NULL) {
		if (ops->tokens(a, &it->tokens, &w) == 0)
			it->has_tokens = 1;
		else if (it->warn == NULL)
			xasprintf(&it->warn, "tokens: %s", w.msg);
		err_clear(&w);
	}
	/*
	 * Models: an API-key account asks with its key; a logged-in account
	 * asks with its session (every group it may use), falling back to
	 * its default token's key where the site has no such list.
	 */
	if (ops->models != NULL) {
		key = a->api_key;
		if (key == NULL && ops->models(a, NULL, &it->models, &w) != 0) {
			it->models = NULL;
			err_clear(&w);
			key = it->key != NULL ? it->key : ctl_account_token_key(it);
			if (key == NULL)
				err_set(&w, ERR_UPSTREAM, "no key to ask with");
		}
		if (key != NULL && ops->models(a, key, &it->models, &w) != 0)
			it->models = NULL;
		if (it->models == NULL && !it->has_user)
			/* Nothing else proves the credential: this is it. */
			err_set(&it->err, w.code, "%s", w.msg);
		else if (it->models == NULL && it->warn == NULL)
			xasprintf(&it->warn, "models: %s", w.msg);
		err_clear(&w);
		if (it->err.code == ERR_OK && it->has_tokens)
			ctl_account_token_models(it);
	}
	if (ops->pricing != NULL) {
		if (ops->pricing(a, &it->prices, &w) == 0)
			it->has_prices = 1;
		else if (it->warn == NULL)
			xasprintf(&it->warn, "pricing: %s", w.msg);
		err_clear(&w);
	}
}

/* Each listed token's models (see ctl_account_token_models). */
static int
ctl_account_token_save(struct acctjob_item *it, long long id,
    const long long *ids, struct err *e)
{
	json_t	*names;
	size_t	 i;

	for (i = 0; i < it->tokens.n; i++) {
		names = json_array_get(it->token_models, i);
		if (json_is_array(names) && model_set_available(metapid->db,
		    id, ids[i], names, e) != 0)
			return (-1);
	}
	return (0);
}

/* Write what a refresh found for account id; the caller holds a transaction. */
static int
ctl_account_refresh_save(struct acctjob_item *it, long long id, struct err *e)
{
	long long	*ids;
	int		 rc;

	if ((it->ctx.acct.changed || it->logged_in) &&
	    account_store_session(metapid->db, id, &it->ctx.acct, e) != 0)
		return (-1);
	if (it->has_user && account_store_user(metapid->db, id, &it->user,
	    e) != 0)
		return (-1);
	if (it->has_tokens) {
		ids = xcalloc(it->tokens.n + 1, sizeof *ids);
		rc = token_sync(metapid->db, id, &it->tokens, ids, e);
		if (rc == 0)
			rc = ctl_account_token_save(it, id, ids, e);
		free(ids);
		if (rc != 0)
			return (-1);
	}
	if (it->models != NULL && model_set_available(metapid->db, id, 0,
	    it->models, e) != 0)
		return (-1);
	if ((it->models != NULL || it->has_tokens) &&
	    route_rebuild(metapid->db, e) != 0)
		return (-1);
	if (it->has_prices && model_set_prices(metapid->db, it->ctx.site_id,
	    &it->prices, e) != 0)
		return (-1);
	return (0);
}

static json_t *
ctl_account_refresh_result(struct acctjob_item *it)
{
	json_t	*o = acctjob_item_json(it);

	if (it->has_user) {
		json_object_set_new(o, "balance_usd", (it->user.has &
		    ADAPTER_HAS_BALANCE) ? json_real(it->user.balance_usd) :
		    json_null());
		json_object_set_new(o, "used_usd", (it->user.has &
		    ADAPTER_HAS_USED) ? json_real(it->user.used_usd) :
		    json_null());
	}
	if (it->has_tokens)
		json_object_set_new(o, "tokens", json_integer(it->tokens.n));
	if (it->models != NULL)
		json_object_set_new(o, "models",
		    json_integer(json_array_size(it->models)));
	if (it->has_prices)
		json_object_set_new(o, "prices", json_integer(it->prices.n));
	if (it->warn != NULL)
		jx_set_str(o, "warning", it->warn);
	return (o);
}

/* The health stored for an account, owned; NULL when unknown. */
static char *
ctl_account_stored_health(long long id)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*a;
	char		*h = NULL;

	if ((a = account_get(metapid->db, id, &e)) != NULL &&
	    jx_str(a, "health") != NULL)
		h = xstrdup(jx_str(a, "health"));
	err_clear(&e);
	json_decref(a);
	return (h);
}

/* Health after a contact with the site. */
static void
ctl_account_health(struct acctjob_item *it, const char *source)
{
	if (it->err.code == ERR_OK)
		account_set_health(metapid->db, it->ctx.id, it->warn != NULL ?
		    "degraded" : "healthy", it->warn, source);
	else
		account_set_health(metapid->db, it->ctx.id,
		    it->err.code == ERR_UNAUTHORIZED ? "expired" : "unhealthy",
		    it->err.msg, source);
}

/*
 * Accounts told to be low on balance, so that an hourly refresh of a
 * balance that stays low says nothing new; one that rises above the line
 * leaves the list and is told again next time it falls. Main thread
 * only; a restart tells once more.
 */
#define CTL_LOW_MAX	1024
static long long	ctl_low_ids[CTL_LOW_MAX];
static size_t		ctl_low_n;

static int
ctl_low_find(long long id)
{
	size_t	i;

	for (i = 0; i < ctl_low_n; i++)
		if (ctl_low_ids[i] == id)
			return ((int)i);
	return (-1);
}

/* Alert when a balance is below low_balance_usd (0: never). */
static void
ctl_account_low_balance(struct acctjob_item *it)
{
	double	 low = settings_real(metapid->settings, "low_balance_usd");
	double	 now = it->user.balance_usd;
	char	*title, *msg;
	int	 at = ctl_low_find(it->ctx.id);

	if (!(it->user.has & ADAPTER_HAS_BALANCE))
		return;
	if (low <= 0 || now >= low) {
		if (at >= 0)
			ctl_low_ids[at] = ctl_low_ids[--ctl_low_n];
		return;
	}
	if (at >= 0)
		return;
	if (ctl_low_n < CTL_LOW_MAX)
		ctl_low_ids[ctl_low_n++] = it->ctx.id;
	xasprintf(&title, "account %lld on %s: balance low", it->ctx.id,
	    it->ctx.site_name);
	xasprintf(&msg, "balance USD %.2f is below low_balance_usd %.2f",
	    now, low);
	notify_event("balance", "warning", title, msg);
	free(title);
	free(msg);
}

/*
 * The balances of all accounts together, below low_balance_total_usd
 * (0: never): told once, until the total is above the line again. Run
 * after the balance job has refreshed every account.
 */
void
ctl_account_low_total(void)
{
	static int	 told;
	struct err	 e = { ERR_OK, NULL };
	json_t		*b;
	double		 low, total;
	char		*msg;

	low = settings_real(metapid->settings, "low_balance_total_usd");
	if ((b = account_balances(metapid->db, &e)) == NULL) {
		err_clear(&e);
		return;
	}
	total = json_number_value(json_object_get(json_object_get(b,
	    "total"), "balance_usd"));
	json_decref(b);
	if (low <= 0 || total >= low) {
		told = 0;
		return;
	}
	if (told)
		return;
	told = 1;
	xasprintf(&msg, "all accounts together hold USD %.2f, below "
	    "low_balance_total_usd %.2f", total, low);
	notify_event("balance", "warning", "total balance low", msg);
	free(msg);
}

/*
 * Site tokens that expire within CTL_TOKEN_WARN (or have): told once per
 * token while the daemon runs, so that the user renews or replaces it
 * before requests through it start failing.
 */
#define CTL_TOKEN_WARN		(3 * 86400)
#define CTL_TOKEN_TOLD_MAX	256
static char	ctl_token_told[CTL_TOKEN_TOLD_MAX][96];
static size_t	ctl_token_ntold;

static void
ctl_account_token_expiry(struct acctjob_item *it)
{
	const struct adapter_token	*t;
	long long			 now = (long long)time(NULL), left;
	char				 key[96], *title, *msg;
	size_t				 i, k;

	for (i = 0; i < it->tokens.n; i++) {
		t = &it->tokens.v[i];
		if (t->expires_at <= 0 || !t->enabled ||
		    (left = t->expires_at - now) > CTL_TOKEN_WARN)
			continue;
		snprintf(key, sizeof key, "%lld|%s", it->ctx.id,
		    t->remote_id != NULL ? t->remote_id : "");
		for (k = 0; k < ctl_token_ntold; k++)
			if (strcmp(ctl_token_told[k], key) == 0)
				break;
		if (k < ctl_token_ntold)
			continue;
		if (ctl_token_ntold < CTL_TOKEN_TOLD_MAX)
			strlcpy(ctl_token_told[ctl_token_ntold++], key,
			    sizeof ctl_token_told[0]);
		xasprintf(&title, "token %s of account %lld on %s %s",
		    t->name != NULL ? t->name : "?", it->ctx.id,
		    it->ctx.site_name, left > 0 ? "expires soon" : "expired");
		if (left > 0)
			xasprintf(&msg, "it expires in %lld h", left / 3600);
		else
			xasprintf(&msg, "it expired %lld h ago", -left / 3600);
		notify_event("token", "warning", title, msg);
		free(title);
		free(msg);
	}
}

/*
 * Events (not alerts) for what a refresh changed: the account logged in
 * again, or its health came back (turning bad is an alert already).
 */
static void
ctl_account_events(struct acctjob_item *it, const char *before)
{
	struct err	 e = { ERR_OK, NULL };
	const char	*now;
	char		*title = NULL;

	if (it->ctx.site_name == NULL || it->err.code != ERR_OK)
		return;
	if (it->logged_in) {
		xasprintf(&title, "account %lld on %s logged in again",
		    it->ctx.id, it->ctx.site_name);
		if (event_add(metapid->db, "account", "info", title, NULL,
		    "account", it->ctx.id, &e) < 0)
			err_clear(&e);
		free(title);
	}
	now = it->warn != NULL ? "degraded" : "healthy";
	if (before == NULL || strcmp(before, now) == 0 ||
	    strcmp(before, "unknown") == 0)
		return;
	xasprintf(&title, "account %lld on %s is %s", it->ctx.id,
	    it->ctx.site_name, now);
	if (event_add(metapid->db, "account", strcmp(now, "healthy") == 0 ?
	    "info" : "warning", title, it->warn, "account", it->ctx.id,
	    &e) < 0)
		err_clear(&e);
	free(title);
}

json_t *
ctl_account_refresh_store(__unused struct acctjob *j, struct acctjob_item *it)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*o;
	const char	*state;
	char		*cause, *title, *before;

	if (it->preset) {
		o = acctjob_item_json(it);
		json_object_set_new(o, "skipped", json_true());
		jx_set_str(o, "warning", "account is disabled");
		return (o);
	}
	if (it->err.code == ERR_OK) {
		if (db_begin(metapid->db, &cause) != 0) {
			err_set(&it->err, ERR_STORAGE, "%s", cause);
			free(cause);
		} else if (ctl_account_refresh_save(it, it->ctx.id, &e) != 0) {
			db_rollback(metapid->db);
			err_set(&it->err, e.code, "%s", e.msg);
		} else if (db_commit(metapid->db, &cause) != 0) {
			err_set(&it->err, ERR_STORAGE, "%s", cause);
			free(cause);
		} else if (it->ctx.site_name != NULL) {
			if (it->has_user)
				ctl_account_low_balance(it);
			if (it->has_tokens)
				ctl_account_token_expiry(it);
		}
		err_clear(&e);
	}
	before = it->ctx.site_name != NULL ? ctl_account_stored_health(
	    it->ctx.id) : NULL;
	if (it->ctx.site_name != NULL)
		ctl_account_health(it, "refresh");
	/*
	 * Told when an account turns expired or unhealthy, not at every
	 * hourly refresh that finds it still so.
	 */
	state = it->err.code == ERR_UNAUTHORIZED ? "expired" : "unhealthy";
	if (it->ctx.site_name != NULL && it->err.code != ERR_OK &&
	    (before == NULL || strcmp(before, state) != 0)) {
		/* A WAF or challenge page is the site's, not the account's. */
		if (it->err.code == ERR_BLOCKED) {
			xasprintf(&title, "%s answered with a WAF or challenge "
			    "page (account %lld)", it->ctx.site_name,
			    it->ctx.id);
			notify_event("waf", "error", title, it->err.msg);
		} else {
			xasprintf(&title, "account %lld on %s is %s",
			    it->ctx.id, it->ctx.site_name, state);
			notify_event("account", "error", title, it->err.msg);
		}
		free(title);
	}
	ctl_account_events(it, before);
	free(before);
	return (ctl_account_refresh_result(it));
}

/* A refresh of an account loads its default token's key for discovery. */
static void
ctl_account_load_keys(struct acctjob *j)
{
	size_t	i;

	for (i = 0; i < j->n; i++)
		if (j->v[i].err.code == ERR_OK)
			j->v[i].key = token_default_key(metapid->db,
			    j->v[i].ctx.id);
}

/* Refresh accounts ids; finish (or NULL) makes the reply. */
enum ctl_ret
ctl_account_refresh_start(struct ctl_req *req, const long long *ids,
    size_t n, acctjob_finish_cb finish, void *finish_arg, struct err *e)
{
	struct acctjob	*j;

	j = acctjob_new(req, ctl_account_refresh_work,
	    ctl_account_refresh_store, 0, n);
	j->finish = finish;
	j->finish_arg = finish_arg;
	if (acctjob_load(j, ids, e) != 0) {
		acctjob_discard(j);
		return (CTL_ERROR);
	}
	ctl_account_load_keys(j);
	return (acctjob_run(req, j));
}

enum ctl_ret
ctl_account_refresh(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	long long	*ids;
	size_t		 n;
	enum ctl_ret	 ret;

	if (acctjob_ids(req, "account refresh", &ids, &n, e) != 0)
		return (CTL_ERROR);
	ret = ctl_account_refresh_start(req, ids, n, NULL, NULL, e);
	free(ids);
	return (ret);
}

/* account login: log in again with the stored password. */
static void
ctl_account_login_work(struct acctjob *j, struct acctjob_item *it)
{
	const char	*code = jx_str(j->args, "twofa");

	if (it->ctx.acct.password == NULL) {
		err_set(&it->err, ERR_INVALID, "account %lld has no stored "
		    "password (it was added with --%s)", it->ctx.id,
		    strcmp(it->ctx.kind, "access_token") == 0 ? "access-token" :
		    strcmp(it->ctx.kind, "api_key") == 0 ? "api-key" :
		    it->ctx.kind);
		return;
	}
	if (it->ops->login == NULL) {
		err_set(&it->err, ERR_INVALID, "%s sites have no password "
		    "login", it->ops->label);
		return;
	}
	if (code != NULL)
		adapter_set_secret(&it->ctx.acct.twofa, code);
	vault_secret_free(it->ctx.acct.cookie);
	vault_secret_free(it->ctx.acct.access_token);
	it->ctx.acct.cookie = it->ctx.acct.access_token = NULL;
	it->logged_in = 1;
	it->ops->login(&it->ctx.acct, &it->err);
}

static json_t *
ctl_account_login_store(__unused struct acctjob *j, struct acctjob_item *it)
{
	struct err	e = { ERR_OK, NULL };

	if (it->err.code == ERR_OK && account_store_session(metapid->db,
	    it->ctx.id, &it->ctx.acct, &e) != 0) {
		err_set(&it->err, e.code, "%s", e.msg);
		err_clear(&e);
	}
	ctl_account_health(it, "auth");
	return (acctjob_item_json(it));
}

/*
 * The renew job: log in again, ahead of expiry, the password accounts
 * whose session is getting old, so a session never runs out between two
 * uses (a check-in at 08:00 on a cookie that expired at night).
 */
enum ctl_ret
ctl_account_renew_start(struct ctl_req *req, const long long *ids, size_t n,
    acctjob_finish_cb finish, void *finish_arg, struct err *e)
{
	struct acctjob	*j;

	j = acctjob_new(req, ctl_account_login_work, ctl_account_login_store,
	    0, n);
	j->finish = finish;
	j->finish_arg = finish_arg;
	if (acctjob_load(j, ids, e) != 0) {
		acctjob_discard(j);
		return (CTL_ERROR);
	}
	return (acctjob_run(req, j));
}

enum ctl_ret
ctl_account_login(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	return (acctjob_start(req, &id, 1, ctl_account_login_work,
	    ctl_account_login_store, 1, e));
}

/*
 * account add: build the account in memory, verify it on a worker (log in,
 * read the user, discover tokens and models), and insert it only then.
 */
static void
ctl_account_add_work(struct acctjob *j, struct acctjob_item *it)
{
	ctl_account_refresh_work(j, it);
	if (it->err.code == ERR_OK && !it->has_user && it->models == NULL)
		err_set(&it->err, ERR_UPSTREAM, "nothing on %s confirmed the "
		    "credential", it->ctx.site_name);
}

static json_t *
ctl_account_add_store(struct acctjob *j, struct acctjob_item *it)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*o;
	char		*cause;
	long long	 id;

	if (it->err.code != ERR_OK)
		return (acctjob_item_json(it));
	o = account_add(metapid->db, it->ctx.site_id, j->args, &it->ctx.acct,
	    it->has_user ? &it->user : NULL, &e);
	if (o == NULL) {
		err_set(&it->err, e.code, "%s", e.msg);
		err_clear(&e);
		return (acctjob_item_json(it));
	}
	jx_int(o, "id", &id);
	it->ctx.id = id;
	if (db_begin(metapid->db, &cause) == 0) {
		if (ctl_account_refresh_save(it, id, &e) != 0)
			db_rollback(metapid->db);
		else
			db_commit(metapid->db, NULL);
	} else
		free(cause);
	err_clear(&e);
	json_decref(o);
	if ((o = account_get(metapid->db, id, &e)) == NULL)
		return (acctjob_item_json(it));
	if (it->has_tokens)
		json_object_set_new(o, "tokens", json_integer(it->tokens.n));
	json_object_set_new(o, "models", json_integer(it->models != NULL ?
	    json_array_size(it->models) : 0));
	if (it->warn != NULL)
		jx_set_str(o, "warning", it->warn);
	return (o);
}

enum ctl_ret
ctl_account_add(struct ctl_req *req, __unused json_t **reply, struct err *e)
{
	struct acctjob		*j;
	struct acctjob_item	*it;
	struct adapter_acct	*a;
	const struct adapter_ops *ops;
	const char		*kind, *proxy, *s;
	long long		 site_id;
	json_t			*site;

	if (site_resolve(metapid->db, jx_str(req->args, "site"), &site_id,
	    e) != 0)
		return (CTL_ERROR);
	if (account_check_credentials(req->args, &kind, e) != 0)
		return (CTL_ERROR);
	j = acctjob_new(req, ctl_account_add_work, ctl_account_add_store, 1, 1);
	j->need_client = 1;
	it = &j->v[0];
	if ((it->ctx.site = site_conn_get(metapid->db, site_id, e)) == NULL ||
	    (site = site_get(metapid->db, site_id, e)) == NULL) {
		acctjob_discard(j);
		return (CTL_ERROR);
	}
	it->ctx.site_id = site_id;
	it->ctx.site_name = xstrdup(jx_str(site, "name"));
	json_decref(site);
	it->ctx.kind = xstrdup(kind);
	a = &it->ctx.acct;
	a->url = it->ctx.site->url;
	a->platform = it->ctx.site->platform;
	proxy = settings_str(metapid->settings, "system_proxy_url");
	a->proxy = it->ctx.site->proxy != NULL ? it->ctx.site->proxy :
	    (*proxy != '\0' ? proxy : NULL);
	a->site_headers = it->ctx.site->headers;
	a->timeout_sec = settings_int(metapid->settings, "site_timeout_sec");
	a->connect_timeout_sec = settings_int(metapid->settings,
	    "proxy_connect_timeout_sec");
	if ((ops = adapter_find(a->platform)) == NULL) {
		acctjob_discard(j);
		err_set(e, ERR_INVALID, "unknown platform %s", a->platform);
		return (CTL_ERROR);
	}
	it->ops = ops;
	if (strcmp(kind, "api_key") != 0 && !(ops->flags & ADAPTER_MANAGED)) {
		acctjob_discard(j);
		err_set(e, ERR_INVALID, "%s sites take an --api-key only",
		    ops->label);
		return (CTL_ERROR);
	}
	/* Said here: the site would only answer "log in first". */
	if (strcmp(kind, "cookie") == 0 && (ops->flags & ADAPTER_NOCOOKIE)) {
		acctjob_discard(j);
		err_set(e, ERR_INVALID, "%s sites take no --cookie: use "
		    "--username and --password, --access-token or --api-key",
		    ops->label);
		return (CTL_ERROR);
	}
	if ((s = jx_str(req->args, "username")) != NULL)
		adapter_set_secret(&a->username, s);
	if ((s = jx_str(req->args, "password")) != NULL)
		adapter_set_secret(&a->password, s);
	if ((s = jx_str(req->args, "access_token")) != NULL)
		adapter_set_secret(&a->access_token, s);
	if ((s = jx_str(req->args, "cookie")) != NULL)
		adapter_set_secret(&a->cookie, s);
	if ((s = jx_str(req->args, "api_key")) != NULL)
		adapter_set_secret(&a->api_key, s);
	if ((s = jx_str(req->args, "user_id")) != NULL)
		adapter_set_secret(&a->user_id, s);
	if ((s = jx_str(req->args, "twofa")) != NULL)
		adapter_set_secret(&a->twofa, s);
	if (strcmp(kind, "password") == 0 && ops->login == NULL) {
		acctjob_discard(j);
		err_set(e, ERR_INVALID, "%s sites have no password login",
		    ops->label);
		return (CTL_ERROR);
	}
	return (acctjob_run(req, j));
}

enum ctl_ret
ctl_account_list(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	 site_id = 0;
	const char	*site = jx_str(req->args, "site");

	if (site != NULL && site_resolve(metapid->db, site, &site_id, e) != 0)
		return (CTL_ERROR);
	return (ctl_account_done(reply, account_list(metapid->db, site_id,
	    e)));
}

static long long
ctl_account_id(struct ctl_req *req)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	return (id);
}

enum ctl_ret
ctl_account_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_account_done(reply, account_get(metapid->db,
	    ctl_account_id(req), e)));
}

enum ctl_ret
ctl_account_rm(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	 id = ctl_account_id(req);
	json_t		*o;

	if ((o = account_get(metapid->db, id, e)) == NULL)
		return (CTL_ERROR);
	if (account_rm(metapid->db, id, e) != 0) {
		json_decref(o);
		return (CTL_ERROR);
	}
	json_object_set_new(o, "removed", json_true());
	return (ctl_account_done(reply, o));
}

enum ctl_ret
ctl_account_enable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_account_done(reply, account_set_enabled(metapid->db,
	    ctl_account_id(req), 1, e)));
}

enum ctl_ret
ctl_account_disable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_account_done(reply, account_set_enabled(metapid->db,
	    ctl_account_id(req), 0, e)));
}
