/*
 * One Hub (MartialBE/one-hub) and its fork Done Hub (deanxv/done-hub):
 * session login, the user row (which carries the access token), token
 * lists paged by page/size, models and the per-model price catalogue.
 * Both platforms share every operation; onehub_variant_table[] holds the
 * few ways they differ. Neither has a check-in. This file parses replies
 * and makes HTTP calls through adapter_http(); it never touches the
 * database.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

#define ONEHUB_PAGE_SIZE	100	/* the server refuses more */
#define ONEHUB_MAX_PAGES	100	/* 10000 tokens: a runaway guard */

/* What differs between One Hub and Done Hub. */
struct onehub_variant {
	const char	*name;		/* adapter_table name */
	const char	*label;
	int		 create_returns_key; /* POST /api/token/ -> {id,key} */
};

static const struct onehub_variant onehub_variant_table[] = {
	{ .name = "one-hub", .label = "One Hub", .create_returns_key = 0 },
	{ .name = "done-hub", .label = "Done Hub", .create_returns_key = 1 },
};

static const struct onehub_variant *
onehub_variant(const struct adapter_acct *a)
{
	size_t	i;

	for (i = 0; i < nitems(onehub_variant_table); i++) {
		if (a->platform != NULL &&
		    strcmp(a->platform, onehub_variant_table[i].name) == 0)
			return (&onehub_variant_table[i]);
	}
	return (&onehub_variant_table[0]);
}

static void
onehub_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * One management call. The session cookie (if any) goes with every
 * request from adapter_http(); the access token, when known, goes as
 * Authorization as well: the server tries the session first and falls
 * back to the token. auth says the call needs one of them. On success
 * *data is borrowed from r->json; the caller frees r either way.
 */
static int
onehub_call(struct adapter_acct *a, const char *method, const char *path,
    const char *body, int auth, struct adapter_resp *r, const char *what,
    json_t **data, struct err *e)
{
	const char	*hdrs[2] = { NULL, NULL };
	char		*bearer = NULL;
	int		 rv;

	memset(r, 0, sizeof *r);
	if (auth && a->access_token == NULL && a->cookie == NULL) {
		err_set(e, ERR_UNAUTHORIZED, "%s: no session or access token "
		    "(log in first)", what);
		return (-1);
	}
	if (auth && a->access_token != NULL) {
		xasprintf(&bearer, "Authorization: Bearer %s", a->access_token);
		hdrs[0] = bearer;
	}
	rv = adapter_http(a, method, path, hdrs, body, r, e);
	onehub_wipe(bearer);
	if (rv != 0)
		return (-1);
	return (adapter_envelope(r, what, data, e));
}

/*
 * quota_per_unit from the public /api/status, cached in the account. A
 * status page that is not JSON leaves it unknown, and adapter_usd() then
 * uses the build default of 500000; only an unreachable site fails.
 */
static int
onehub_qpu(struct adapter_acct *a, struct err *e)
{
	struct adapter_resp	 r;
	struct err		 e2 = { ERR_OK, NULL };
	json_t			*data;
	double			 v;

	if (a->quota_per_unit > 0)
		return (0);
	if (adapter_http(a, "GET", "/api/status", NULL, NULL, &r, e) != 0)
		return (-1);
	if (adapter_envelope(&r, "site status", &data, &e2) == 0 &&
	    jx_real(data, "quota_per_unit", &v) == 0 && v > 0)
		a->quota_per_unit = v;
	err_clear(&e2);
	adapter_resp_free(&r);
	return (0);
}

static double
onehub_unit(const struct adapter_acct *a)
{
	return (a->quota_per_unit > 0 ? a->quota_per_unit : 500000.0);
}

/* Keep the access token /api/user/self shows (One Hub serialises it). */
static int
onehub_keep_token(struct adapter_acct *a, json_t *self, struct err *e)
{
	const char	*tok = jx_str(self, "access_token");

	/* One that could not go into a header is none. */
	if (!adapter_word_ok(tok))
		return (0);
	if (a->access_token != NULL && strcmp(a->access_token, tok) == 0)
		return (0);
	if (adapter_set_secret(&a->access_token, tok) != 0) {
		err_set(e, ERR_INTERNAL, "out of secure memory");
		return (-1);
	}
	a->changed |= ADAPTER_CHANGED_SESSION;
	return (0);
}

/*
 * POST /api/user/login {username, password}: the credential is the
 * "session" cookie it sets. Then /api/user/self, with that cookie, gives
 * the access token, which outlives the 30-day cookie. There is no 2FA
 * and no Turnstile on One Hub's login.
 */
static int
onehub_login(struct adapter_acct *a, struct err *e)
{
	struct adapter_resp	 r;
	json_t			*body, *data, *self;
	char			*s, id[32];
	long long		 uid;
	int			 rv = -1;

	memset(&r, 0, sizeof r);
	if (a->username == NULL || a->password == NULL) {
		err_set(e, ERR_INVALID, "logging in needs a username and a "
		    "password");
		return (-1);
	}
	body = json_pack("{s:s, s:s}", "username", a->username, "password",
	    a->password);
	s = json_dumps(body, JSON_COMPACT);
	jx_wipe(body);
	json_decref(body);
	rv = adapter_http(a, "POST", "/api/user/login", NULL, s, &r, e);
	onehub_wipe(s);
	if (rv != 0)
		return (-1);
	rv = -1;
	if (adapter_envelope(&r, "login", &data, e) != 0)
		goto out;
	if (r.set_cookie == NULL || strstr(r.set_cookie, "session=") == NULL) {
		err_set(e, ERR_UPSTREAM, "login: the site accepted the "
		    "password but set no session cookie");
		goto out;
	}
	if (adapter_set_secret(&a->cookie, r.set_cookie) != 0) {
		err_set(e, ERR_INTERNAL, "out of secure memory");
		goto out;
	}
	a->changed |= ADAPTER_CHANGED_SESSION;
	if (jx_int(data, "id", &uid) == 0) {
		snprintf(id, sizeof id, "%lld", uid);
		if (adapter_set_secret(&a->user_id, id) != 0) {
			err_set(e, ERR_INTERNAL, "out of secure memory");
			goto out;
		}
		a->changed |= ADAPTER_CHANGED_USER_ID;
	}
	adapter_resp_free(&r);

	if (onehub_call(a, "GET", "/api/user/self", NULL, 1, &r, "user info",
	    &self, e) != 0)
		goto out;
	rv = onehub_keep_token(a, self, e);
out:
	adapter_resp_free(&r);
	return (rv);
}

/*
 * GET /api/user/self: quota is the remaining balance and used_quota the
 * lifetime spend, both in quota units (USD = quota / quota_per_unit).
 */
static int
onehub_user(struct adapter_acct *a, struct adapter_user *u, struct err *e)
{
	struct adapter_resp	 r;
	json_t			*self;
	const char		*s;
	char			 id[32];
	long long		 n;
	double			 q;
	int			 rv = -1;

	memset(u, 0, sizeof *u);
	if (onehub_call(a, "GET", "/api/user/self", NULL, 1, &r, "user info",
	    &self, e) != 0)
		goto out;
	if (!json_is_object(self)) {
		err_set(e, ERR_UPSTREAM, "user info: the reply has no user");
		goto out;
	}
	if (onehub_keep_token(a, self, e) != 0 || onehub_qpu(a, e) != 0)
		goto out;
	if ((s = jx_str(self, "username")) != NULL)
		u->username = xstrdup(s);
	if (jx_int(self, "id", &n) == 0) {
		snprintf(id, sizeof id, "%lld", n);
		u->user_id = xstrdup(id);
	}
	if ((s = jx_str(self, "group")) != NULL)
		u->group = xstrdup(s);
	if (jx_real(self, "quota", &q) == 0) {
		u->balance_usd = adapter_usd(q, a->quota_per_unit);
		u->has |= ADAPTER_HAS_BALANCE;
	}
	if (jx_real(self, "used_quota", &q) == 0) {
		u->used_usd = adapter_usd(q, a->quota_per_unit);
		u->has |= ADAPTER_HAS_USED;
	}
	if (jx_int(self, "request_count", &n) == 0) {
		u->request_count = n;
		u->has |= ADAPTER_HAS_REQUESTS;
	}
	adapter_user_finite(u);
	rv = 0;
out:
	adapter_resp_free(&r);
	if (rv != 0)
		adapter_user_free(u);
	return (rv);
}

/* Neither One Hub nor Done Hub has a check-in: skip it, ask nothing. */
static int
onehub_checkin(struct adapter_acct *a, struct adapter_checkin *c,
    __unused struct err *e)
{
	memset(c, 0, sizeof *c);
	c->outcome = CHECKIN_SKIPPED;
	xasprintf(&c->message, "%s has no check-in", onehub_variant(a)->label);
	return (0);
}

/*
 * One token row. The key is stored without "sk-" (hashids + "_" + HMAC,
 * at least 48 characters); like the rest of the One-API family it gets
 * "sk-" once, as the site's UI shows it (the relay strips it). A key
 * with '*' in it is a masked display form, which One Hub cannot reveal.
 */
static int
onehub_token(struct adapter_tokens *t, json_t *o, double unit,
    struct err *e)
{
	struct adapter_token	*tok;
	const char		*s;
	char			 id[32], *full;
	long long		 n;
	double			 q;

	if (!json_is_object(o))
		return (0);
	tok = adapter_tokens_add(t);
	if (jx_int(o, "id", &n) == 0) {
		snprintf(id, sizeof id, "%lld", n);
		tok->remote_id = xstrdup(id);
	}
	tok->name = xstrdup((s = jx_str(o, "name")) != NULL ? s : "");
	if ((s = jx_str(o, "key")) != NULL && *s != '\0') {
		if (strchr(s, '*') != NULL) {
			tok->masked = 1;
			tok->mask = xstrdup(s);
		} else if (!adapter_word_ok(s)) {
			/* One that could not go into a header is none. */
			tok->masked = 1;
		} else {
			xasprintf(&full, "%s%s", strncmp(s, "sk-", 3) == 0 ?
			    "" : "sk-", s);
			tok->key = vault_secret_dup(full);
			tok->mask = vault_mask(full);
			onehub_wipe(full);
			if (tok->key == NULL) {
				err_set(e, ERR_INTERNAL, "out of secure "
				    "memory");
				return (-1);
			}
		}
	}
	if ((s = jx_str(o, "group")) != NULL && *s != '\0')
		tok->group = xstrdup(s);
	tok->enabled = jx_int(o, "status", &n) != 0 || n == 1;
	tok->unlimited = jx_bool(o, "unlimited_quota");
	if (jx_real(o, "remain_quota", &q) == 0)
		tok->remain_usd = q / unit;
	if (jx_int(o, "expired_time", &n) == 0 && n > 0)
		tok->expires_at = n;
	return (0);
}

/*
 * GET /api/token/?page=N&size=100, 1-based. One Hub reads page and size
 * (it ignores the p the rest of the family uses) and answers
 * {data: [...], page, size, total_count}. Read pages until total_count
 * rows came or a page comes back short.
 */
static int
onehub_tokens(struct adapter_acct *a, struct adapter_tokens *t,
    struct err *e)
{
	struct adapter_resp	 r;
	json_t			*data, *list, *o;
	char			 path[64];
	long long		 total;
	size_t			 i, got = 0;
	int			 page, rv = -1, last;

	memset(t, 0, sizeof *t);
	memset(&r, 0, sizeof r);
	for (page = 1; page <= ONEHUB_MAX_PAGES; page++) {
		snprintf(path, sizeof path, "/api/token/?page=%d&size=%d",
		    page, ONEHUB_PAGE_SIZE);
		if (onehub_call(a, "GET", path, NULL, 1, &r, "token list",
		    &data, e) != 0)
			goto out;
		if (page == 1 && onehub_qpu(a, e) != 0)
			goto out;
		/* An empty page may carry "data": null. */
		list = json_is_array(data) ? data : json_object_get(data,
		    "data");
		if (!json_is_array(list) && !json_is_null(list) &&
		    !(json_is_object(data) && list == NULL)) {
			err_set(e, ERR_UPSTREAM, "token list: the reply has no "
			    "token list");
			goto out;
		}
		json_array_foreach(list, i, o) {
			if (onehub_token(t, o, onehub_unit(a), e) != 0)
				goto out;
		}
		got += json_array_size(list);
		last = json_is_array(data) ||
		    json_array_size(list) < ONEHUB_PAGE_SIZE ||
		    (jx_int(data, "total_count", &total) == 0 &&
		    (long long)got >= total);
		adapter_resp_free(&r);
		if (last)
			break;
	}
	adapter_tokens_finite(t);
	rv = 0;
out:
	adapter_resp_free(&r);
	if (rv != 0)
		adapter_tokens_free(t);
	return (rv);
}

/*
 * POST /api/token/ with One Hub's body (limits off, never expires,
 * unlimited). One Hub answers without the token, Done Hub with {id, key};
 * either way the caller lists the tokens again to learn the new key.
 */
static int
onehub_token_create(struct adapter_acct *a, const char *name,
    const char *group, struct err *e)
{
	const struct onehub_variant	*v = onehub_variant(a);
	struct adapter_resp		 r;
	json_t				*body, *data;
	char				*s;
	int				 rv;

	body = json_pack("{s:s, s:i, s:b, s:i, s:s, s:s, s:{s:{s:b, s:i},"
	    " s:{s:{s:b, s:[]}, s:{s:b, s:[]}}}}",
	    "name", name != NULL && *name != '\0' ? name : "metapi",
	    "remain_quota", 0, "unlimited_quota", 1, "expired_time", -1,
	    "group", group != NULL ? group : "", "backup_group", "",
	    "setting",
	    "heartbeat", "enabled", 0, "timeout_seconds", 30,
	    "limits",
	    "limit_model_setting", "enabled", 0, "models",
	    "limits_ip_setting", "enabled", 0, "whitelist");
	s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	rv = onehub_call(a, "POST", "/api/token/", s, 1, &r, "token create",
	    &data, e);
	free(s);
	if (rv == 0 && v->create_returns_key &&
	    jx_str(data, "key") == NULL) {
		err_set(e, ERR_UPSTREAM, "token create: %s did not return "
		    "the new key", v->label);
		rv = -1;
	}
	adapter_resp_free(&r);
	return (rv);
}

/* A remote id goes into a path: digits only. */
static int
onehub_check_id(const char *id, struct err *e)
{
	if (id == NULL || *id == '\0' || strspn(id, "0123456789") !=
	    strlen(id) || strlen(id) > 19) {
		err_set(e, ERR_INVALID, "token id must be a number");
		return (-1);
	}
	return (0);
}

/* DELETE /api/token/:id. */
static int
onehub_token_delete(struct adapter_acct *a, const char *remote_id,
    struct err *e)
{
	struct adapter_resp	 r;
	json_t			*data;
	char			*path;
	int			 rv;

	if (onehub_check_id(remote_id, e) != 0)
		return (-1);
	xasprintf(&path, "/api/token/%s", remote_id);
	rv = onehub_call(a, "DELETE", path, NULL, 1, &r, "token delete",
	    &data, e);
	free(path);
	adapter_resp_free(&r);
	return (rv);
}

/* Model ids from a relay list: data[].id, OpenAI- or Anthropic-style. */
static int
onehub_model_ids(struct adapter_resp *r, json_t **out, struct err *e)
{
	json_t	*data, *m, *list;
	size_t	 i;

	data = json_object_get(r->json, "data");
	if (!json_is_array(data)) {
		err_set(e, ERR_UPSTREAM, "model list: the reply has no "
		    "\"data\" list");
		return (-1);
	}
	list = json_array();
	json_array_foreach(data, i, m) {
		if (json_is_string(json_object_get(m, "id")))
			json_array_append(list, json_object_get(m, "id"));
	}
	*out = list;
	return (0);
}

/*
 * With a key: GET /v1/models (Bearer). Without one: the public
 * /api/available_model with the session, whose keys are the model names
 * (the session adds the user's own group to the public ones).
 */
static int
onehub_models(struct adapter_acct *a, const char *key, json_t **out,
    struct err *e)
{
	struct adapter_resp	 r;
	const char		*hdrs[2] = { NULL, NULL }, *k;
	char			*auth;
	json_t			*data, *v, *list;
	int			 rv = -1;

	*out = NULL;
	memset(&r, 0, sizeof r);
	if (key == NULL) {
		if (onehub_call(a, "GET", "/api/available_model", NULL, 0, &r,
		    "available models", &data, e) != 0)
			goto out;
		if (!json_is_object(data)) {
			err_set(e, ERR_UPSTREAM, "available models: the reply "
			    "has no model map");
			goto out;
		}
		list = json_array();
		json_object_foreach(data, k, v)
			json_array_append_new(list, json_string(k));
		*out = list;
		rv = 0;
		goto out;
	}
	xasprintf(&auth, "Authorization: Bearer %s", key);
	hdrs[0] = auth;
	rv = adapter_http(a, "GET", "/v1/models", hdrs, NULL, &r, e);
	onehub_wipe(auth);
	if (rv != 0)
		goto out;
	rv = -1;
	if (r.status == 401 || r.status == 403) {
		err_set(e, ERR_UNAUTHORIZED, "the site rejected the API key "
		    "(HTTP %ld)", r.status);
		goto out;
	}
	if (adapter_json(&r, "model list", e) != 0)
		goto out;
	if (r.status != 200) {
		err_set(e, ERR_UPSTREAM, "model list: HTTP %ld", r.status);
		goto out;
	}
	rv = onehub_model_ids(&r, out, e);
out:
	adapter_resp_free(&r);
	return (rv);
}

/*
 * One price entry from an available_model price object and a group
 * ratio. price.input and price.output are quota ratios on the original
 * $0.002 per 1K tokens scale, each on its own (output is not a multiple
 * of input): USD per 1M = ratio x G x 1e6 / QPU. A "times" model costs
 * 1000 x input x G quota a call: USD = input x G x 1000 / QPU. Example at
 * QPU 500000: input 1.25, output 5, G 1 gives $2.50 and $10 per 1M.
 */
static void
onehub_price(struct adapter_prices *p, const char *model, const char *group,
    json_t *price, double g, double unit)
{
	struct adapter_price	*pr;
	const char		*type = jx_str(price, "type");
	double			 in = 0, out = 0;

	if (jx_real(price, "input", &in) != 0)
		in = 0;
	if (jx_real(price, "output", &out) != 0)
		out = in;
	pr = adapter_prices_add(p);
	pr->model = xstrdup(model);
	pr->group = xstrdup(group);
	if (type != NULL && strcmp(type, "times") == 0) {
		pr->per_call = in * g * 1000.0 / unit;
		pr->has = ADAPTER_PRICE_CALL;
	} else {
		pr->input_per_m = in * g * 1e6 / unit;
		pr->output_per_m = out * g * 1e6 / unit;
		pr->has = ADAPTER_PRICE_TOKENS;
	}
}

/*
 * GET /api/available_model and /api/user_group_map (public; the session
 * cookie adds the user's group, an access token does nothing here). One
 * entry per model and group the user can see, with that group's ratio;
 * a model that names no visible group is priced at ratio 1 under "".
 */
static int
onehub_pricing(struct adapter_acct *a, struct adapter_prices *p,
    struct err *e)
{
	struct adapter_resp	 rm, rg;
	json_t			*models, *groups, *m, *price, *gl, *gn, *grp;
	const char		*model;
	size_t			 i, before;
	double			 g, unit;
	int			 rv = -1;

	memset(p, 0, sizeof *p);
	memset(&rg, 0, sizeof rg);
	if (onehub_call(a, "GET", "/api/available_model", NULL, 0, &rm,
	    "available models", &models, e) != 0)
		goto out;
	if (onehub_call(a, "GET", "/api/user_group_map", NULL, 0, &rg,
	    "group map", &groups, e) != 0)
		goto out;
	if (!json_is_object(models)) {
		err_set(e, ERR_UPSTREAM, "available models: the reply has no "
		    "model map");
		goto out;
	}
	if (onehub_qpu(a, e) != 0)
		goto out;
	unit = onehub_unit(a);
	json_object_foreach(models, model, m) {
		price = json_object_get(m, "price");
		if (!json_is_object(price))
			continue;
		before = p->n;
		gl = json_object_get(m, "groups");
		json_array_foreach(gl, i, gn) {
			if (!json_is_string(gn))
				continue;
			grp = json_object_get(groups, json_string_value(gn));
			if (jx_real(grp, "ratio", &g) != 0)
				continue;
			onehub_price(p, model, json_string_value(gn), price, g,
			    unit);
		}
		if (p->n == before)
			onehub_price(p, model, "", price, 1.0, unit);
	}
	adapter_prices_finite(p);
	rv = 0;
out:
	adapter_resp_free(&rm);
	adapter_resp_free(&rg);
	if (rv != 0)
		adapter_prices_free(p);
	return (rv);
}

const struct adapter_ops adapter_onehub_ops = {
	.name = "one-hub",
	.label = "One Hub",
	.flags = ADAPTER_MANAGED,
	.login = onehub_login,
	.user = onehub_user,
	.checkin = onehub_checkin,
	.tokens = onehub_tokens,
	.token_create = onehub_token_create,
	.token_delete = onehub_token_delete,
	.models = onehub_models,
	.pricing = onehub_pricing,
};

const struct adapter_ops adapter_donehub_ops = {
	.name = "done-hub",
	.label = "Done Hub",
	.flags = ADAPTER_MANAGED,
	.login = onehub_login,
	.user = onehub_user,
	.checkin = onehub_checkin,
	.tokens = onehub_tokens,
	.token_create = onehub_token_create,
	.token_delete = onehub_token_delete,
	.models = onehub_models,
	.pricing = onehub_pricing,
};
