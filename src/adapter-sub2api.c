/*
 * Sub2API (Wei-Shaw/sub2api): JWT logins under /api/v1, balances already
 * in USD, "sk-" + 64 hex keys used verbatim. Not a One-API fork: replies
 * are {code, message, data} with real HTTP statuses, and the JWT
 * middleware answers {code: "TOKEN_EXPIRED", message} with a string code.
 * No check-in and no price catalogue. This file parses replies and calls
 * adapter_http(); it never touches the database.
 *
 * JWTs live 24 hours by default. A call that gets TOKEN_EXPIRED while a
 * refresh token is stored refreshes once with POST /api/v1/auth/refresh
 * {"refresh_token"} and retries. That route is not in the Dec-2025
 * source snapshot of upstream-apis.md section 7; it is what metapi's
 * sub2api.ts uses against newer builds ({code:0, data:{access_token,
 * refresh_token, expires_in}}) and what tests/fakerelay serves. A site
 * without it answers 404, and the call fails as unauthorized so that the
 * caller logs in again with the stored password.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "adapter.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

#define SUB2API_PAGE_SIZE	100	/* the server's maximum */
#define SUB2API_MAX_PAGES	100

/*
 * Error codes (the middleware's string "code" or a handler's "reason")
 * and what they mean to metapi. Matched as prefixes, in order.
 */
static const struct sub2api_code {
	const char	*code;
	enum err_code	 err;
} sub2api_code_table[] = {
	{ "TOKEN_EXPIRED",		ERR_UNAUTHORIZED },
	{ "INVALID_TOKEN",		ERR_UNAUTHORIZED },
	{ "INVALID_AUTH_HEADER",	ERR_UNAUTHORIZED },
	{ "INVALID_CREDENTIALS",	ERR_UNAUTHORIZED },
	{ "INVALID_REFRESH_TOKEN",	ERR_UNAUTHORIZED },
	{ "INVALID_API_KEY",		ERR_UNAUTHORIZED },
	{ "API_KEY_REQUIRED",		ERR_UNAUTHORIZED },
	{ "API_KEY_DISABLED",		ERR_UNAUTHORIZED },
	{ "USER_INACTIVE",		ERR_UNAUTHORIZED },
	{ "UNAUTHORIZED",		ERR_UNAUTHORIZED },
	{ "TURNSTILE",			ERR_NEEDS_LOGIN },
	{ "API_KEY_NOT_FOUND",		ERR_NOT_FOUND },
	{ "GROUP_NOT_FOUND",		ERR_INVALID },
	{ "VALIDATION_ERROR",		ERR_INVALID },
	{ "INVALID_CUSTOM_KEY",		ERR_INVALID },
};

/* Where the key routes live: the real one, then the handler comments'. */
static const char *const sub2api_key_bases[] = {
	"/api/v1/keys",
	"/api/v1/api-keys",
};

static void
sub2api_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * The error code of a reply: a string "code", else "reason", else the
 * type of a gateway-style {"type":"error","error":{type, message}}.
 */
static const char *
sub2api_reply_code(const json_t *o)
{
	const char	*c;

	if ((c = jx_str(o, "code")) != NULL)
		return (c);
	if ((c = jx_str(o, "reason")) != NULL)
		return (c);
	return (jx_str(json_object_get(o, "error"), "type"));
}

/*
 * The {code, message, data} envelope: code 0 is success and *data is
 * borrowed from r->json. Errors are classified by their code (see the
 * table), else by HTTP status.
 */
static int
sub2api_envelope(struct adapter_resp *r, const char *what, json_t **data,
    struct err *e)
{
	json_t		*code;
	const char	*msg, *c;
	size_t		 i;
	enum err_code	 ec;

	if (adapter_json(r, what, e) != 0)
		return (-1);
	code = json_object_get(r->json, "code");
	if (json_is_integer(code) && json_integer_value(code) == 0 &&
	    r->status < 400) {
		*data = json_object_get(r->json, "data");
		return (0);
	}
	if ((msg = jx_str(r->json, "message")) == NULL)
		msg = jx_str(json_object_get(r->json, "error"), "message");
	if (msg == NULL || *msg == '\0')
		msg = "no message";
	c = sub2api_reply_code(r->json);
	ec = r->status == 401 || r->status == 403 ? ERR_UNAUTHORIZED :
	    ERR_UPSTREAM;
	for (i = 0; c != NULL && i < nitems(sub2api_code_table); i++) {
		if (strncmp(c, sub2api_code_table[i].code,
		    strlen(sub2api_code_table[i].code)) == 0) {
			ec = sub2api_code_table[i].err;
			break;
		}
	}
	if (ec == ERR_NEEDS_LOGIN)
		err_set(e, ec, "%s: needs manual login: the site asks for a "
		    "Turnstile check (%s)", what, msg);
	else if (c != NULL)
		err_set(e, ec, "%s: %s (%s, HTTP %ld)", what, msg, c,
		    r->status);
	else
		err_set(e, ec, "%s: %s (HTTP %ld)", what, msg, r->status);
	return (-1);
}

/* Is this reply the JWT middleware saying the access token expired? */
static int
sub2api_expired(struct adapter_resp *r)
{
	struct err	 e2 = { ERR_OK, NULL };
	const char	*c;
	int		 expired;

	if (r->status != 401 || adapter_json(r, "", &e2) != 0) {
		err_clear(&e2);
		return (0);
	}
	c = jx_str(r->json, "code");
	expired = c != NULL && strcmp(c, "TOKEN_EXPIRED") == 0;
	return (expired);
}

/* Store a fresh {access_token, refresh_token} pair from login/refresh. */
static int
sub2api_keep_session(struct adapter_acct *a, json_t *data, const char *what,
    struct err *e)
{
	const char	*at = jx_str(data, "access_token");
	const char	*rt = jx_str(data, "refresh_token");

	/* A token that could not go into a header is none. */
	if (!adapter_word_ok(at)) {
		err_set(e, ERR_UPSTREAM, "%s: the reply has no access token",
		    what);
		return (-1);
	}
	if (adapter_set_secret(&a->access_token, at) != 0 ||
	    (adapter_word_ok(rt) &&
	    adapter_set_secret(&a->refresh_token, rt) != 0)) {
		err_set(e, ERR_INTERNAL, "out of secure memory");
		return (-1);
	}
	a->changed |= ADAPTER_CHANGED_SESSION;
	return (0);
}

/* A POST of a JSON body without credentials (login, refresh). */
static int
sub2api_post_json(struct adapter_acct *a, const char *path, json_t *body,
    struct adapter_resp *r, const char *what, json_t **data, struct err *e)
{
	char	*s;
	int	 rv;

	s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	rv = adapter_http(a, "POST", path, NULL, s, r, e);
	sub2api_wipe(s);
	if (rv != 0)
		return (-1);
	return (sub2api_envelope(r, what, data, e));
}

/* POST /api/v1/auth/refresh {refresh_token}: a new JWT and refresh token. */
static int
sub2api_refresh(struct adapter_acct *a, struct err *e)
{
	struct adapter_resp	 r;
	json_t			*body, *data;
	char			*m;
	int			 rv = -1;

	body = json_pack("{s:s}", "refresh_token", a->refresh_token);
	if (sub2api_post_json(a, "/api/v1/auth/refresh", body, &r,
	    "session refresh", &data, e) != 0) {
		if (r.status == 404 && r.json == NULL)
			err_set(e, ERR_UNAUTHORIZED, "the session expired and "
			    "this site cannot refresh it: log in again");
		else if (e->code == ERR_UNAUTHORIZED) {
			m = e->msg;
			e->msg = NULL;
			err_set(e, ERR_UNAUTHORIZED, "%s; log in again", m);
			free(m);
		}
		goto out;
	}
	rv = sub2api_keep_session(a, data, "session refresh", e);
out:
	jx_wipe(body);
	json_decref(body);
	adapter_resp_free(&r);
	return (rv);
}

/*
 * One call with the JWT. TOKEN_EXPIRED with a refresh token in hand:
 * refresh and retry once. On success *data is borrowed from r->json; the
 * caller frees r either way.
 */
static int
sub2api_call(struct adapter_acct *a, const char *method, const char *path,
    const char *body, struct adapter_resp *r, const char *what,
    json_t **data, struct err *e)
{
	const char	*hdrs[2] = { NULL, NULL };
	char		*bearer;
	int		 tries, rv;

	memset(r, 0, sizeof *r);
	if (a->access_token == NULL && a->refresh_token != NULL &&
	    sub2api_refresh(a, e) != 0)
		return (-1);
	if (a->access_token == NULL) {
		err_set(e, ERR_UNAUTHORIZED, "%s: no session (log in first)",
		    what);
		return (-1);
	}
	for (tries = 0; tries < 2; tries++) {
		xasprintf(&bearer, "Authorization: Bearer %s", a->access_token);
		hdrs[0] = bearer;
		rv = adapter_http(a, method, path, hdrs, body, r, e);
		sub2api_wipe(bearer);
		if (rv != 0)
			return (-1);
		if (tries > 0 || a->refresh_token == NULL ||
		    !sub2api_expired(r))
			break;
		adapter_resp_free(r);
		if (sub2api_refresh(a, e) != 0)
			return (-1);
	}
	return (sub2api_envelope(r, what, data, e));
}

/*
 * The same call against each key route in turn: a route this build lacks
 * answers gin's plain-text 404, never JSON.
 */
static int
sub2api_keys_call(struct adapter_acct *a, const char *method,
    const char *suffix, const char *body, struct adapter_resp *r,
    const char *what, json_t **data, struct err *e)
{
	char	*path;
	size_t	 i;
	int	 rv = -1;

	for (i = 0; i < nitems(sub2api_key_bases); i++) {
		if (i > 0) {
			adapter_resp_free(r);
			err_clear(e);
		}
		xasprintf(&path, "%s%s", sub2api_key_bases[i], suffix);
		rv = sub2api_call(a, method, path, body, r, what, data, e);
		free(path);
		if (rv == 0 || r->status != 404 || r->json != NULL)
			break;
	}
	return (rv);
}

/*
 * POST /api/v1/auth/login {email, password}; the account's username is
 * the login e-mail. The JWT goes to access_token, the refresh token
 * (newer builds) to refresh_token. With Turnstile on, only a browser can
 * log in.
 */
static int
sub2api_login(struct adapter_acct *a, struct err *e)
{
	struct adapter_resp	 r;
	json_t			*body, *data;
	char			 id[32];
	long long		 uid;
	int			 rv = -1;

	if (a->username == NULL || a->password == NULL) {
		err_set(e, ERR_INVALID, "logging in needs the account's e-mail "
		    "and password");
		return (-1);
	}
	body = json_pack("{s:s, s:s}", "email", a->username, "password",
	    a->password);
	rv = sub2api_post_json(a, "/api/v1/auth/login", body, &r, "login",
	    &data, e);
	jx_wipe(body);
	json_decref(body);
	if (rv != 0)
		goto out;
	rv = -1;
	if (sub2api_keep_session(a, data, "login", e) != 0)
		goto out;
	if (jx_int(json_object_get(data, "user"), "id", &uid) == 0) {
		snprintf(id, sizeof id, "%lld", uid);
		if (adapter_set_secret(&a->user_id, id) != 0) {
			err_set(e, ERR_INTERNAL, "out of secure memory");
			goto out;
		}
		a->changed |= ADAPTER_CHANGED_USER_ID;
	}
	rv = 0;
out:
	adapter_resp_free(&r);
	return (rv);
}

/* GET /api/v1/auth/me: balance is already USD; there is no spend figure. */
static int
sub2api_user(struct adapter_acct *a, struct adapter_user *u, struct err *e)
{
	struct adapter_resp	 r;
	json_t			*me;
	const char		*s;
	char			 id[32];
	long long		 n;
	int			 rv = -1;

	memset(u, 0, sizeof *u);
	if (sub2api_call(a, "GET", "/api/v1/auth/me", NULL, &r, "user info",
	    &me, e) != 0)
		goto out;
	if (!json_is_object(me)) {
		err_set(e, ERR_UPSTREAM, "user info: the reply has no user");
		goto out;
	}
	if ((s = jx_str(me, "username")) == NULL || *s == '\0')
		s = jx_str(me, "email");
	if (s != NULL)
		u->username = xstrdup(s);
	if (jx_int(me, "id", &n) == 0) {
		snprintf(id, sizeof id, "%lld", n);
		u->user_id = xstrdup(id);
	}
	if (jx_real(me, "balance", &u->balance_usd) == 0)
		u->has |= ADAPTER_HAS_BALANCE;
	adapter_user_finite(u);
	rv = 0;
out:
	adapter_resp_free(&r);
	if (rv != 0)
		adapter_user_free(u);
	return (rv);
}

static int
sub2api_checkin(__unused struct adapter_acct *a, struct adapter_checkin *c,
    __unused struct err *e)
{
	memset(c, 0, sizeof *c);
	c->outcome = CHECKIN_SKIPPED;
	c->message = xstrdup("Sub2API has no check-in");
	return (0);
}

/* "2026-01-02T03:04:05[.frac](Z|+hh:mm)" -> unix seconds; 0 if not. */
/* Two decimal digits at p as a number, or -1. */
static int
sub2api_2digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return (-1);
	return ((p[0] - '0') * 10 + (p[1] - '0'));
}

static long long
sub2api_time(const char *s)
{
	struct tm	 tm;
	const char	*p;
	int		 sign, hh, mm;
	long long	 t;

	if (s == NULL)
		return (0);
	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return (0);
	t = (long long)timegm(&tm);
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	if ((*p == '+' || *p == '-') && (hh = sub2api_2digits(p + 1)) >= 0 &&
	    p[3] == ':' && (mm = sub2api_2digits(p + 4)) >= 0) {
		sign = *p == '+' ? 1 : -1;
		t -= sign * (hh * 3600LL + mm * 60LL);
	}
	return (t > 0 ? t : 0);
}

/*
 * One APIKey. The key is stored and compared with its "sk-" prefix: keep
 * it verbatim. quota (newer builds) is a USD cap, 0 for none.
 */
static int
sub2api_token(struct adapter_tokens *t, json_t *o, struct err *e)
{
	struct adapter_token	*tok;
	json_t			*grp;
	const char		*s;
	char			 buf[32];
	long long		 n;
	double			 quota = 0, used = 0;

	if (!json_is_object(o))
		return (0);
	tok = adapter_tokens_add(t);
	if (jx_int(o, "id", &n) == 0) {
		snprintf(buf, sizeof buf, "%lld", n);
		tok->remote_id = xstrdup(buf);
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
			if ((tok->key = vault_secret_dup(s)) == NULL) {
				err_set(e, ERR_INTERNAL, "out of secure "
				    "memory");
				return (-1);
			}
			tok->mask = vault_mask(s);
		}
	}
	grp = json_object_get(o, "group");
	if ((s = jx_str(grp, "name")) != NULL)
		tok->group = xstrdup(s);
	else if (jx_int(o, "group_id", &n) == 0) {
		snprintf(buf, sizeof buf, "%lld", n);
		tok->group = xstrdup(buf);
	}
	s = jx_str(o, "status");
	tok->enabled = s == NULL || strcmp(s, "active") == 0;
	if (jx_real(o, "quota", &quota) != 0 || quota <= 0)
		tok->unlimited = 1;
	else {
		if (jx_real(o, "quota_used", &used) != 0)
			used = 0;
		tok->remain_usd = quota > used ? quota - used : 0;
	}
	tok->expires_at = sub2api_time(jx_str(o, "expires_at"));
	return (0);
}

/*
 * GET /api/v1/keys?page=N&page_size=100 (1-based) ->
 * {items, total, page, page_size, pages}; every page.
 */
static int
sub2api_tokens(struct adapter_acct *a, struct adapter_tokens *t,
    struct err *e)
{
	struct adapter_resp	 r;
	json_t			*data, *items, *o;
	char			 q[64];
	long long		 pages;
	size_t			 i;
	int			 page, rv = -1, last;

	memset(t, 0, sizeof *t);
	memset(&r, 0, sizeof r);
	for (page = 1; page <= SUB2API_MAX_PAGES; page++) {
		snprintf(q, sizeof q, "?page=%d&page_size=%d", page,
		    SUB2API_PAGE_SIZE);
		if (sub2api_keys_call(a, "GET", q, NULL, &r, "key list", &data,
		    e) != 0)
			goto out;
		items = json_object_get(data, "items");
		if (!json_is_array(items) && !json_is_null(items)) {
			err_set(e, ERR_UPSTREAM, "key list: the reply has no "
			    "\"items\" list");
			goto out;
		}
		json_array_foreach(items, i, o) {
			if (sub2api_token(t, o, e) != 0)
				goto out;
		}
		last = json_array_size(items) == 0 ||
		    (jx_int(data, "pages", &pages) == 0 ? page >= pages :
		    json_array_size(items) < SUB2API_PAGE_SIZE);
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
 * A group by name or number -> its id, through GET /api/v1/groups/available
 * for a name. A key is bound to one group, whose platform decides which
 * relay protocols the key speaks.
 */
static int
sub2api_group_id(struct adapter_acct *a, const char *group, long long *id,
    struct err *e)
{
	struct adapter_resp	 r;
	json_t			*data, *g;
	const char		*errstr, *name;
	size_t			 i;
	int			 rv = -1;

	*id = strtonum(group, 1, 1LL << 53, &errstr);
	if (errstr == NULL)
		return (0);
	if (sub2api_call(a, "GET", "/api/v1/groups/available", NULL, &r,
	    "group list", &data, e) != 0)
		goto out;
	json_array_foreach(data, i, g) {
		name = jx_str(g, "name");
		if (name != NULL && strcmp(name, group) == 0 &&
		    jx_int(g, "id", id) == 0) {
			rv = 0;
			goto out;
		}
	}
	err_set(e, ERR_INVALID, "no group \"%s\" is available to this "
	    "account", group);
out:
	adapter_resp_free(&r);
	return (rv);
}

/*
 * POST /api/v1/keys {name[, group_id]}; the reply is the new key, in
 * full (the interface has no way to hand it back: the caller lists).
 */
static int
sub2api_token_create(struct adapter_acct *a, const char *name,
    const char *group, struct err *e)
{
	struct adapter_resp	 r;
	json_t			*body, *data;
	char			*s;
	long long		 gid;
	int			 rv;

	body = json_pack("{s:s}", "name", name != NULL && *name != '\0' ?
	    name : "metapi");
	if (group != NULL && *group != '\0') {
		if (sub2api_group_id(a, group, &gid, e) != 0) {
			json_decref(body);
			return (-1);
		}
		json_object_set_new(body, "group_id", json_integer(gid));
	}
	s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	rv = sub2api_keys_call(a, "POST", "", s, &r, "key create", &data, e);
	free(s);
	if (rv == 0 && jx_str(data, "key") == NULL) {
		err_set(e, ERR_UPSTREAM, "key create: the reply has no key");
		rv = -1;
	}
	adapter_resp_free(&r);
	return (rv);
}

/* DELETE /api/v1/keys/:id. */
static int
sub2api_token_delete(struct adapter_acct *a, const char *remote_id,
    struct err *e)
{
	struct adapter_resp	 r;
	json_t			*data;
	char			*suffix;
	int			 rv;

	if (remote_id == NULL || *remote_id == '\0' || strlen(remote_id) > 19 ||
	    strspn(remote_id, "0123456789") != strlen(remote_id)) {
		err_set(e, ERR_INVALID, "key id must be a number");
		return (-1);
	}
	xasprintf(&suffix, "/%s", remote_id);
	rv = sub2api_keys_call(a, "DELETE", suffix, NULL, &r, "key delete",
	    &data, e);
	free(suffix);
	adapter_resp_free(&r);
	return (rv);
}

/*
 * GET /v1/models with a key. The list is built in and chosen by the key's
 * group platform: Anthropic-style {data:[{type:"model", id}]} or
 * OpenAI-style {object:"list", data:[{id}]}; data[].id either way.
 * Without a key: the account's stored key, else its first enabled key.
 */
static int
sub2api_models(struct adapter_acct *a, const char *key, json_t **out,
    struct err *e)
{
	struct adapter_resp	 r;
	struct adapter_tokens	 t;
	struct err		 e2 = { ERR_OK, NULL };
	const char		*hdrs[2] = { NULL, NULL }, *code;
	char			*auth = NULL;
	json_t			*data, *m, *list;
	size_t			 i;
	int			 rv = -1;

	*out = NULL;
	memset(&r, 0, sizeof r);
	memset(&t, 0, sizeof t);
	if (key == NULL)
		key = a->api_key;
	if (key == NULL) {
		if (sub2api_tokens(a, &t, e) != 0)
			goto out;
		for (i = 0; i < t.n && key == NULL; i++) {
			if (t.v[i].enabled && t.v[i].key != NULL)
				key = t.v[i].key;
		}
		if (key == NULL) {
			err_set(e, ERR_NOT_FOUND, "model list: the account has "
			    "no enabled API key");
			goto out;
		}
	}
	xasprintf(&auth, "Authorization: Bearer %s", key);
	hdrs[0] = auth;
	rv = adapter_http(a, "GET", "/v1/models", hdrs, NULL, &r, e);
	sub2api_wipe(auth);
	if (rv != 0)
		goto out;
	rv = -1;
	if (r.status == 401 || r.status == 403) {
		if (adapter_json(&r, "model list", &e2) != 0 ||
		    (code = sub2api_reply_code(r.json)) == NULL)
			code = "no reason given";
		err_clear(&e2);
		err_set(e, ERR_UNAUTHORIZED, "the site rejected the API key: "
		    "%s (HTTP %ld)", code, r.status);
		goto out;
	}
	if (adapter_json(&r, "model list", e) != 0)
		goto out;
	data = json_object_get(r.json, "data");
	if (r.status != 200 || !json_is_array(data)) {
		err_set(e, ERR_UPSTREAM, "model list: HTTP %ld without a "
		    "\"data\" list", r.status);
		goto out;
	}
	list = json_array();
	json_array_foreach(data, i, m) {
		if (json_is_string(json_object_get(m, "id")))
			json_array_append(list, json_object_get(m, "id"));
	}
	*out = list;
	rv = 0;
out:
	adapter_resp_free(&r);
	adapter_tokens_free(&t);
	return (rv);
}

const struct adapter_ops adapter_sub2api_ops = {
	.name = "sub2api",
	.label = "Sub2API",
	.flags = ADAPTER_MANAGED | ADAPTER_ANTHROPIC | ADAPTER_NOCOOKIE,
	.login = sub2api_login,
	.user = sub2api_user,
	.checkin = sub2api_checkin,
	.tokens = sub2api_tokens,
	.token_create = sub2api_token_create,
	.token_delete = sub2api_token_delete,
	.models = sub2api_models,
};
