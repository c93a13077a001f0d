/*
 * What every adapter shares: one HTTP call to a site with its headers,
 * proxy, cookies and timeouts; turning replies into JSON or a classified
 * error (WAF pages, login pages and garbage are errors, never parsed);
 * the One-API family's {success, message, data} envelope; quota to USD;
 * and the classification of check-in replies. Pure helpers except
 * adapter_http(), the one I/O call.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter.h"
#include "buf.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "upstream.h"
#include "vault.h"
#include "xmalloc.h"

#define ADAPTER_MAX_BODY	(16 * 1024 * 1024)
#define ADAPTER_MAX_HEADERS	48

/*
 * Where adapter_http() sends requests: libcurl, or a replay of recorded
 * replies in the unit tests. Set once before any thread starts.
 */
static adapter_transport_cb	adapter_transport = upstream_do;

void
adapter_set_transport(adapter_transport_cb cb)
{
	adapter_transport = cb;
}

const struct adapter_ops *
adapter_find(const char *name)
{
	size_t	i;

	for (i = 0; adapter_table[i] != NULL; i++)
		if (strcmp(adapter_table[i]->name, name) == 0)
			return (adapter_table[i]);
	return (NULL);
}

/* "a=1; b=2" + "c=3" -> "a=1; b=2; c=3" (either may be NULL); owned. */
char *
adapter_join_cookies(const char *a, const char *b)
{
	char	*s;

	if (a == NULL || *a == '\0')
		return (b != NULL ? xstrdup(b) : NULL);
	if (b == NULL || *b == '\0')
		return (xstrdup(a));
	xasprintf(&s, "%s; %s", a, b);
	return (s);
}

/*
 * A credential, key or id a site gave that goes into a header or a path
 * of later requests (here, or in the relay's): printable ASCII without
 * blanks, as every real one is. Anything else (a line break above all)
 * is taken as no value, so that a site cannot write headers of its own.
 */
int
adapter_word_ok(const char *s)
{
	const unsigned char	*p;

	if (s == NULL || *s == '\0')
		return (0);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return (0);
	return (1);
}

/* Replace a secret field with a copy of value in secure memory. */
int
adapter_set_secret(char **field, const char *value)
{
	char	*copy = NULL;

	if (value != NULL && (copy = vault_secret_dup(value)) == NULL)
		return (-1);
	vault_secret_free(*field);
	*field = copy;
	return (0);
}

/*
 * One request to the site: path is appended to the base URL; extra is a
 * NULL-terminated list of headers (auth, user id) or NULL; body is JSON
 * or NULL. Fails only when no HTTP reply came (ERR_UPSTREAM), or when a
 * header holds a line break and nothing was sent; the caller judges the
 * status and body.
 */
int
adapter_http(struct adapter_acct *a, const char *method, const char *path,
    const char *const *extra, const char *body, struct adapter_resp *r,
    struct err *e)
{
	struct upstream_req	 req;
	struct upstream_resp	 ur;
	const char		*hdrs[ADAPTER_MAX_HEADERS + 1];
	char			*url, *cookies, *cookie_hdr = NULL, *cause;
	size_t			 n = 0, i;
	int			 rv;

	memset(r, 0, sizeof *r);
	xasprintf(&url, "%s%s", a->url, path);
	hdrs[n++] = "Accept: application/json, text/plain, */*";
	if (body != NULL)
		hdrs[n++] = "Content-Type: application/json";
	for (i = 0; extra != NULL && extra[i] != NULL &&
	    n < ADAPTER_MAX_HEADERS - 8; i++)
		hdrs[n++] = extra[i];
	cookies = adapter_join_cookies(a->cookie, a->waf_cookie);
	if (cookies != NULL) {
		xasprintf(&cookie_hdr, "Cookie: %s", cookies);
		explicit_bzero(cookies, strlen(cookies));
		free(cookies);
		hdrs[n++] = cookie_hdr;
	}
	for (i = 0; a->site_headers != NULL && a->site_headers[i] != NULL &&
	    n < ADAPTER_MAX_HEADERS; i++)
		hdrs[n++] = a->site_headers[i];
	hdrs[n] = NULL;
	/* libcurl sends a header as it is: a line break would start another. */
	for (i = 0; i < n && strpbrk(hdrs[i], "\r\n") == NULL; i++)
		;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.body = body;
	req.proxy = a->proxy;
	req.timeout_sec = a->timeout_sec > 0 ? a->timeout_sec : 30;
	req.connect_timeout_sec = a->connect_timeout_sec;
	req.max_body = ADAPTER_MAX_BODY;
	memset(&ur, 0, sizeof ur);
	if (i < n) {
		rv = -1;
		cause = xstrdup("a header of the request holds a line break; "
		    "not sent");
	} else
		rv = adapter_transport(&req, &ur, &cause);
	if (cookie_hdr != NULL) {
		explicit_bzero(cookie_hdr, strlen(cookie_hdr));
		free(cookie_hdr);
	}
	free(url);
	if (rv != 0) {
		err_set(e, ERR_UPSTREAM, "%s", cause);
		free(cause);
		upstream_resp_free(&ur);
		return (-1);
	}
	r->status = ur.status;
	r->body = ur.body;
	r->content_type = ur.content_type;
	r->set_cookie = ur.set_cookie;
	r->retry_after = ur.retry_after;
	r->cloudflare = ur.cf_mitigated || (ur.server != NULL &&
	    strcasecmp(ur.server, "cloudflare") == 0 &&
	    (ur.status == 403 || ur.status == 503) &&
	    strstr(buf_cstr(&r->body), "<html") != NULL);
	free(ur.server);
	return (0);
}

void
adapter_resp_free(struct adapter_resp *r)
{
	/* Replies carry keys, access tokens and JWTs: wiped like requests. */
	if (r->body.data != NULL)
		explicit_bzero(r->body.data, r->body.len);
	buf_free(&r->body);
	free(r->content_type);
	if (r->set_cookie != NULL) {
		explicit_bzero(r->set_cookie, strlen(r->set_cookie));
		free(r->set_cookie);
	}
	free(r->retry_after);
	jx_wipe(r->json);
	json_decref(r->json);
	memset(r, 0, sizeof *r);
}

/* Aliyun's acw_sc__v2 challenge (AnyRouter) or a Cloudflare challenge. */
int
adapter_is_waf(const struct adapter_resp *r)
{
	const char	*b = r->body.data != NULL ? r->body.data : "";

	if (r->cloudflare)
		return (1);
	return (strstr(b, "var arg1=") != NULL || strstr(b, "acw_sc__v2") !=
	    NULL);
}

/*
 * The body as JSON in r->json. A challenge page, an HTML login page or
 * garbage is an error that says so; what names the call for messages.
 */
int
adapter_json(struct adapter_resp *r, const char *what, struct err *e)
{
	const char	*b = buf_cstr(&r->body);

	if (adapter_is_waf(r)) {
		err_set(e, ERR_BLOCKED, "%s: blocked by %s challenge page", what,
		    r->cloudflare ? "a Cloudflare" : "an Aliyun WAF (acw_sc__v2)");
		return (-1);
	}
	if (r->json != NULL)
		return (0);	/* parsed before: keep pointers into it valid */
	r->json = json_loadb(b, r->body.len, 0, NULL);
	if (r->json == NULL) {
		b += strspn(b, " \t\r\n");
		err_set(e, ERR_UPSTREAM, "%s: the site answered HTTP %ld with %s",
		    what, r->status, *b == '<' ? "an HTML page, not JSON" :
		    *b == '\0' ? "an empty body" : "something that is not JSON");
		return (-1);
	}
	return (0);
}

/*
 * Words in a failed reply that mean the credential is bad rather than the
 * site: the One-API family answers these with HTTP 200 or 401.
 */
static const char *const adapter_auth_words[] = {
	"未登录", "access token 无效", "无权进行此操作", "token 无效",
	"用户名或密码错误", "用户已被封禁", "unauthorized", "invalid token",
	"token expired", "jwt expired", "not logged in",
};

/*
 * The {"success", "message", "data"} envelope: *data is borrowed from
 * r->json. success:false and HTTP errors become classified errors that
 * carry the site's message.
 */
int
adapter_envelope(struct adapter_resp *r, const char *what, json_t **data,
    struct err *e)
{
	json_t		*ok;
	const char	*msg;
	size_t		 i;

	if (adapter_json(r, what, e) != 0)
		return (-1);
	ok = json_object_get(r->json, "success");
	msg = json_string_value(json_object_get(r->json, "message"));
	if (msg == NULL || *msg == '\0')
		msg = r->status >= 400 ? "no message" : "failed";
	if (r->status == 401 || r->status == 403) {
		err_set(e, ERR_UNAUTHORIZED, "%s: %s (HTTP %ld)", what, msg,
		    r->status);
		return (-1);
	}
	if (r->status >= 400 || !json_is_true(ok)) {
		for (i = 0; i < nitems(adapter_auth_words); i++) {
			if (strcasestr(msg, adapter_auth_words[i]) != NULL) {
				err_set(e, ERR_UNAUTHORIZED, "%s: %s", what,
				    msg);
				return (-1);
			}
		}
		if (r->status >= 400)
			err_set(e, ERR_UPSTREAM, "%s: %s (HTTP %ld)", what, msg,
			    r->status);
		else
			err_set(e, ERR_UPSTREAM, "%s: %s", what, msg);
		return (-1);
	}
	*data = json_object_get(r->json, "data");
	return (0);
}

/* Quota units to USD; the One-API default is 500000 per dollar. */
double
adapter_usd(double quota, double quota_per_unit)
{
	return (quota / (quota_per_unit > 0 ? quota_per_unit : 500000.0));
}

static const char *const adapter_already_words[] = {
	"今日已签到", "今天已签到", "已经签到", "已签到", "重复签到",
	"签到过", "already checked in", "already signed", "already check",
	"checked in today", "already done",
};

static const char *const adapter_unsupported_words[] = {
	"Invalid URL", "not supported", "not enabled", "签到功能未启用",
	"未开启签到", "签到未开启", "checkin endpoint not found",
	"未启用签到",
};

static int
adapter_words(const char *msg, const char *const *words, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasestr(msg, words[i]) != NULL)
			return (1);
	return (0);
}

/*
 * A check-in reply -> outcome. Pure. "Already checked in" in any of its
 * forms (Chinese included) is not a failure; an endpoint the site lacks,
 * a disabled feature or a Turnstile requirement is skipped.
 */
enum adapter_checkin_outcome
adapter_checkin_classify(long status, int success, const char *msg)
{
	if (msg == NULL)
		msg = "";
	if (adapter_words(msg, adapter_already_words,
	    nitems(adapter_already_words)))
		return (CHECKIN_ALREADY);
	if (status == 404 || adapter_words(msg, adapter_unsupported_words,
	    nitems(adapter_unsupported_words)) ||
	    strcasestr(msg, "turnstile") != NULL)
		return (CHECKIN_SKIPPED);
	if (success && status < 400)
		return (CHECKIN_SUCCESS);
	return (CHECKIN_FAILED);
}

static const char *const adapter_checkin_names[] = {
	"success", "already", "skipped", "failed"
};

const char *
adapter_checkin_name(enum adapter_checkin_outcome o)
{
	return (adapter_checkin_names[o]);
}

void
adapter_user_free(struct adapter_user *u)
{
	free(u->username);
	free(u->user_id);
	free(u->group);
	memset(u, 0, sizeof *u);
}

void
adapter_checkin_free(struct adapter_checkin *c)
{
	free(c->message);
	memset(c, 0, sizeof *c);
}

struct adapter_token *
adapter_tokens_add(struct adapter_tokens *t)
{
	struct adapter_token	*tok;

	t->v = xreallocarray(t->v, t->n + 1, sizeof *t->v);
	tok = &t->v[t->n++];
	memset(tok, 0, sizeof *tok);
	tok->enabled = 1;
	return (tok);
}

void
adapter_tokens_free(struct adapter_tokens *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].remote_id);
		free(t->v[i].name);
		vault_secret_free(t->v[i].key);
		free(t->v[i].mask);
		free(t->v[i].group);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

struct adapter_price *
adapter_prices_add(struct adapter_prices *p)
{
	struct adapter_price	*pr;

	p->v = xreallocarray(p->v, p->n + 1, sizeof *p->v);
	pr = &p->v[p->n++];
	memset(pr, 0, sizeof *pr);
	return (pr);
}

void
adapter_prices_free(struct adapter_prices *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].model);
		free(p->v[i].group);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/*
 * Figures made from a site's numbers: whatever the arithmetic made of
 * them (a quota_per_unit of 1e-300, a ratio of 1e300 times a group's),
 * one that is not finite is no figure. These drop such values, clearing
 * their flags, so that no infinity or NaN reaches the routing weights,
 * the database or JSON (which has no such number). Every operation calls
 * the one for its result before it succeeds.
 */
static int
adapter_finite(double *v)
{
	if (isfinite(*v))
		return (1);
	*v = 0;
	return (0);
}

void
adapter_user_finite(struct adapter_user *u)
{
	if (!adapter_finite(&u->balance_usd))
		u->has &= ~ADAPTER_HAS_BALANCE;
	if (!adapter_finite(&u->used_usd))
		u->has &= ~ADAPTER_HAS_USED;
	if (!adapter_finite(&u->today_income_usd))
		u->has &= ~ADAPTER_HAS_INCOME;
}

void
adapter_checkin_finite(struct adapter_checkin *c)
{
	if (!adapter_finite(&c->reward_usd))
		c->has_reward = 0;
}

/* A remaining quota too large to be a number is no limit at all. */
void
adapter_tokens_finite(struct adapter_tokens *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		if (isinf(t->v[i].remain_usd) && t->v[i].remain_usd > 0)
			t->v[i].unlimited = 1;
		adapter_finite(&t->v[i].remain_usd);
	}
}

void
adapter_prices_finite(struct adapter_prices *p)
{
	struct adapter_price	*pr;
	size_t			 i;
	int			 in, out;

	for (i = 0; i < p->n; i++) {
		pr = &p->v[i];
		in = adapter_finite(&pr->input_per_m);
		out = adapter_finite(&pr->output_per_m);
		if (!in || !out)
			pr->has &= ~ADAPTER_PRICE_TOKENS;
		if (!adapter_finite(&pr->cache_read_per_m))
			pr->has &= ~ADAPTER_PRICE_CACHE_R;
		if (!adapter_finite(&pr->cache_write_per_m))
			pr->has &= ~ADAPTER_PRICE_CACHE_W;
		if (!adapter_finite(&pr->per_call))
			pr->has &= ~ADAPTER_PRICE_CALL;
	}
}

/* JSON forms of adapter results: for replies, events and the tests. */
json_t *
adapter_user_json(const struct adapter_user *u)
{
	json_t	*o = json_object();

	if (u->username != NULL)
		json_object_set_new(o, "username", json_string(u->username));
	if (u->user_id != NULL)
		json_object_set_new(o, "user_id", json_string(u->user_id));
	if (u->group != NULL)
		json_object_set_new(o, "group", json_string(u->group));
	if (u->has & ADAPTER_HAS_BALANCE)
		json_object_set_new(o, "balance_usd", json_real(u->balance_usd));
	if (u->has & ADAPTER_HAS_USED)
		json_object_set_new(o, "used_usd", json_real(u->used_usd));
	if (u->has & ADAPTER_HAS_INCOME)
		json_object_set_new(o, "today_income_usd",
		    json_real(u->today_income_usd));
	if (u->has & ADAPTER_HAS_REQUESTS)
		json_object_set_new(o, "request_count",
		    json_integer(u->request_count));
	return (o);
}

json_t *
adapter_checkin_json(const struct adapter_checkin *c)
{
	json_t	*o = json_object();

	json_object_set_new(o, "outcome",
	    json_string(adapter_checkin_name(c->outcome)));
	json_object_set_new(o, "reward_usd", c->has_reward ?
	    json_real(c->reward_usd) : json_null());
	json_object_set_new(o, "message", c->message != NULL ?
	    json_string(c->message) : json_null());
	return (o);
}

/* A token; with_key includes the full key (tests only: it is a secret). */
json_t *
adapter_token_json(const struct adapter_token *t, int with_key)
{
	json_t	*o = json_object();

	json_object_set_new(o, "remote_id", t->remote_id != NULL ?
	    json_string(t->remote_id) : json_null());
	json_object_set_new(o, "name", json_string(t->name != NULL ?
	    t->name : ""));
	if (with_key)
		json_object_set_new(o, "key", t->key != NULL ?
		    json_string(t->key) : json_null());
	json_object_set_new(o, "group", t->group != NULL ?
	    json_string(t->group) : json_null());
	json_object_set_new(o, "masked", json_boolean(t->masked));
	json_object_set_new(o, "enabled", json_boolean(t->enabled));
	json_object_set_new(o, "unlimited", json_boolean(t->unlimited));
	json_object_set_new(o, "remain_usd", t->unlimited ? json_null() :
	    json_real(t->remain_usd));
	json_object_set_new(o, "expires_at", t->expires_at > 0 ?
	    json_integer(t->expires_at) : json_null());
	return (o);
}

json_t *
adapter_price_json(const struct adapter_price *p)
{
	json_t	*o = json_object();

	json_object_set_new(o, "model", json_string(p->model));
	json_object_set_new(o, "group", json_string(p->group != NULL ?
	    p->group : ""));
	if (p->has & ADAPTER_PRICE_TOKENS) {
		json_object_set_new(o, "input_per_m", json_real(p->input_per_m));
		json_object_set_new(o, "output_per_m",
		    json_real(p->output_per_m));
	}
	if (p->has & ADAPTER_PRICE_CACHE_R)
		json_object_set_new(o, "cache_read_per_m",
		    json_real(p->cache_read_per_m));
	if (p->has & ADAPTER_PRICE_CACHE_W)
		json_object_set_new(o, "cache_write_per_m",
		    json_real(p->cache_write_per_m));
	if (p->has & ADAPTER_PRICE_CALL)
		json_object_set_new(o, "per_call", json_real(p->per_call));
	return (o);
}
