/*
 * The relay API (/v1/...): relay_table[] of routes per personality, key
 * extraction and checks, model and quota checks, each platform's error
 * shapes (relay_errs[]), /v1/models, the key-only billing endpoints, and
 * billing after a call finishes. Turning a request into reply text and
 * wire frames is relay-gen.c's job. Holds the state lock only around
 * state access, never while writing to the client.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

struct relay_route {
	int		 personas;	/* P_* mask */
	const char	*method;
	const char	*path;
	int		 flags;
#define RELAY_ANTHROPIC	0x1		/* Anthropic error shape, x-api-key */
#define RELAY_MODELS	0x2		/* x-api-key accepted */
	void		(*handler)(struct req *);
	const char	*help;
};

/*
 * Relay errors by kind. status 0 means the platform's "out of quota"
 * status. msg is the One-API family text ({model} and {group} expand),
 * plain the OpenAI/Anthropic/Sub2API text, s2code Sub2API's string code
 * for errors its auth middleware raises.
 */
struct relay_err {
	const char	*kind;
	int		 status;
	const char	*code;
	const char	*msg;
	const char	*plain;
	const char	*s2code;
};

static const struct relay_err relay_errs[] = {
	{ "missing_key", 401, NULL, "未提供令牌",
	  "You didn't provide an API key.", "API_KEY_REQUIRED" },
	{ "invalid_key", 401, NULL, "无效的令牌",
	  "Incorrect API key provided.", "INVALID_API_KEY" },
	{ "key_disabled", 401, NULL, "该令牌状态不可用",
	  "API key is disabled.", "API_KEY_DISABLED" },
	{ "key_expired", 401, NULL, "该令牌已过期",
	  "API key has expired.", "API_KEY_EXPIRED" },
	{ "key_exhausted", 401, NULL, "该令牌额度已用尽",
	  "API key quota exhausted.", "API_KEY_QUOTA_EXHAUSTED" },
	{ "user_banned", 403, NULL, "用户已被封禁",
	  "User is not active.", "USER_INACTIVE" },
	{ "no_quota", 0, "insufficient_user_quota", "user quota is not enough",
	  "You exceeded your current quota, please check your plan and "
	  "billing details.", "INSUFFICIENT_BALANCE" },
	{ "model_forbidden", 403, NULL, "该令牌无权访问模型 {model}",
	  "The API key may not use this model.", NULL },
	{ "no_channel", 503, "model_not_found",
	  "当前分组 {group} 下对于模型 {model} 无可用渠道",
	  "The model does not exist or you do not have access to it.", NULL },
	{ "rate_limited", 429, NULL, "当前分组上游负载已饱和，请稍后再试",
	  "Rate limit reached for requests.", NULL },
	{ "upstream_500", 500, "bad_response_status_code", "请求上游地址失败",
	  "The server had an error while processing your request.", NULL },
	{ "upstream_502", 502, "bad_response_status_code", "请求上游地址失败",
	  "Bad gateway.", NULL },
	{ "upstream_503", 503, "bad_response_status_code", "请求上游地址失败",
	  "Service unavailable.", NULL },
	{ "anthropic_overloaded", 529, NULL, "Overloaded", "Overloaded", NULL },
	{ "session_expired", 401, NULL,
	  "无权进行此操作，未登录且未提供 access token",
	  "Token has expired", "TOKEN_EXPIRED" },
};

/* Anthropic error "type" by HTTP status (Claude and Sub2API). */
static const struct {
	int		 status;
	const char	*type;
} relay_anthropic_types[] = {
	{ 400, "invalid_request_error" }, { 401, "authentication_error" },
	{ 402, "billing_error" }, { 403, "permission_error" },
	{ 404, "not_found_error" }, { 413, "request_too_large" },
	{ 429, "rate_limit_error" }, { 500, "api_error" },
	{ 502, "upstream_error" }, { 503, "overloaded_error" },
	{ 529, "overloaded_error" },
};

static int
relay_anthropic_shape(struct req *r)
{
	return ((r->p->bit & (P_SUB2API|P_CLAUDE)) ||
	    strstr(r->path, "/messages") != NULL);
}

static const char *
relay_anthropic_type(int status)
{
	size_t	i;

	for (i = 0; i < nitems(relay_anthropic_types); i++) {
		if (relay_anthropic_types[i].status == status)
			return (relay_anthropic_types[i].type);
	}
	return (status >= 500 ? "api_error" : "invalid_request_error");
}

/* Buffer an error in the platform's shape; code may be NULL. */
void
relay_error(struct req *r, int status, const char *code, const char *msg)
{
	char		 full[1024], id[32];
	const char	*type;

	snprintf(id, sizeof id, "fake-%lld", r->seq);
	if (r->p->bit & P_ONEFAM)
		snprintf(full, sizeof full, "%s (request id: %s)", msg, id);
	else
		snprintf(full, sizeof full, "%s", msg);

	if (relay_anthropic_shape(r)) {
		type = (r->p->bit & P_ONEFAM) ? r->p->error_type :
		    relay_anthropic_type(status);
		if (status == 529 || (code != NULL &&
		    strcmp(code, "overloaded_error") == 0))
			type = "overloaded_error";
		req_reply_json(r, status, json_pack("{s:s, s:{s:s, s:s}}",
		    "type", "error", "error", "type", type, "message", full));
		return;
	}
	type = r->p->error_type;
	if (r->p->bit & P_OPENAI)
		type = status >= 500 ? "server_error" : "invalid_request_error";
	req_reply_json(r, status, json_pack("{s:{s:s, s:s, s:s, s:s?}}",
	    "error", "message", full, "type", type, "param", "",
	    "code", code));
}

static const struct relay_err *
relay_err_find(const char *kind)
{
	size_t	i;

	for (i = 0; i < nitems(relay_errs); i++) {
		if (strcmp(relay_errs[i].kind, kind) == 0)
			return (&relay_errs[i]);
	}
	return (NULL);
}

/* Expand {model} and {group} in a message template. */
static void
relay_subst(char *out, size_t len, const char *tmpl, const char *model,
    const char *group)
{
	size_t		 o = 0, n;
	const char	*v;

	while (*tmpl != '\0' && o + 1 < len) {
		v = NULL;
		if (strncmp(tmpl, "{model}", 7) == 0) {
			v = model;
			tmpl += 7;
		} else if (strncmp(tmpl, "{group}", 7) == 0) {
			v = group;
			tmpl += 7;
		}
		if (v == NULL) {
			out[o++] = *tmpl++;
			continue;
		}
		n = strlen(v);
		if (n > len - o - 1)
			n = len - o - 1;
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
}

/* Buffer the platform's reply for an error kind of relay_errs[]. */
void
relay_error_kind(struct req *r, const char *kind)
{
	const struct relay_err	*e = relay_err_find(kind);
	char			 msg[512];
	int			 status;
	const char		*model = *r->model != '\0' ? r->model : "unknown";
	const char		*group = *r->group != '\0' ? r->group : "default";

	if (e == NULL)
		e = relay_err_find("upstream_500");
	status = e->status != 0 ? e->status : r->p->quota_status;

	if (strcmp(e->kind, "session_expired") == 0 &&
	    !(r->p->bit & P_SUB2API)) {
		req_reply_json(r, 401, json_pack("{s:b, s:s}", "success", 0,
		    "message", e->msg));
		return;
	}
	if (strcmp(e->kind, "anthropic_overloaded") == 0) {
		req_reply_json(r, (r->p->bit & P_SUB2API) ? 503 : 529,
		    json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
		    "type", "overloaded_error", "message", "Overloaded"));
		return;
	}
	if ((r->p->bit & P_SUB2API) && e->s2code != NULL) {
		req_reply_json(r, strcmp(e->kind, "no_quota") == 0 ? 403 : status,
		    json_pack("{s:s, s:s}", "code", e->s2code, "message",
		    e->plain));
		return;
	}
	if ((r->p->bit & P_SUB2API) && status >= 500)
		status = 502;
	if (r->p->bit & P_ONEFAM) {
		if (strcmp(e->kind, "rate_limited") == 0 && (r->p->bit & P_HUB))
			snprintf(msg, sizeof msg, "%s",
			    "重试超时，上游负载已饱和，请稍后再试");
		else if (strcmp(e->kind, "model_forbidden") == 0 &&
		    (r->p->bit & P_ONEAPI))
			snprintf(msg, sizeof msg, "该令牌无权使用模型：%s", model);
		else
			relay_subst(msg, sizeof msg, e->msg, model, group);
	} else
		relay_subst(msg, sizeof msg, e->plain, model, group);
	relay_error(r, status, e->code, msg);
}

/* The key from the headers the platform accepts, normalised. */
static void
relay_key(struct req *r, int flags, char *buf, size_t len)
{
	const char	*k = req_header(r, "Authorization");
	char		 q[256];
	size_t		 n;

	buf[0] = '\0';
	if (k != NULL && *k != '\0') {
		if (strncmp(k, "Bearer ", 7) == 0)
			k += 7;
	} else if ((flags & (RELAY_ANTHROPIC|RELAY_MODELS)) ||
	    (r->p->bit & (P_CLAUDE|P_SUB2API)))
		k = req_header(r, "x-api-key");
	if (k == NULL || *k == '\0')
		k = req_header(r, "x-goog-api-key");
	if ((k == NULL || *k == '\0') &&
	    (req_query(r, "key", q, sizeof q) > 0 ||
	    ((r->p->bit & P_SUB2API) &&
	    req_query(r, "api_key", q, sizeof q) > 0)))
		k = q;
	if (k == NULL)
		return;
	snprintf(buf, len, "%s", k);
	if (!(r->p->bit & P_ONEFAM))
		return;
	if (strncmp(buf, "sk-", 3) == 0)
		memmove(buf, buf + 3, strlen(buf + 3) + 1);
	/* Channel selectors: "-<id>" (New API, One API), "#<id>" (Hub). */
	n = strcspn(buf, (r->p->bit & P_HUB) ? "#" : "-");
	buf[n] = '\0';
}

/*
 * Check the key and its user. Returns the token, or NULL after an error
 * reply. Caller holds the state lock.
 */
static json_t *
relay_auth(struct req *r, int flags)
{
	char		 key[512];
	json_t		*t, *u;
	long long	 exp;

	relay_key(r, flags, key, sizeof key);
	if (*key == '\0') {
		relay_error_kind(r, (r->p->bit & P_HUB) ? "invalid_key" :
		    "missing_key");
		return (NULL);
	}
	t = state_token_by_key(key);
	if (t == NULL || ((r->p->bit & P_HUB) && strlen(key) < 48)) {
		relay_error_kind(r, "invalid_key");
		return (NULL);
	}
	exp = state_int(t, "expired_time");
	if (state_int(t, "status") == 2) {
		relay_error_kind(r, "key_disabled");
		return (NULL);
	}
	if (state_int(t, "status") == 3 || (exp > 0 && exp < state_now())) {
		relay_error_kind(r, "key_expired");
		return (NULL);
	}
	if (state_int(t, "status") == 4 || (!state_bool(t, "unlimited_quota") &&
	    state_int(t, "remain_quota") <= 0)) {
		relay_error_kind(r, "key_exhausted");
		return (NULL);
	}
	u = state_user_by_id(state_int(t, "user_id"));
	if (u == NULL || state_int(u, "status") != 1) {
		relay_error_kind(r, "user_banned");
		return (NULL);
	}
	snprintf(r->group, sizeof r->group, "%s",
	    *state_str(t, "group") != '\0' && strcmp(state_str(t, "group"),
	    "auto") != 0 ? state_str(t, "group") : state_str(u, "group"));
	return (t);
}

static int
relay_model_usable(struct req *r, const json_t *m, __unused const json_t *t)
{
	json_t		*gs;
	size_t		 i;
	json_t		*g;
	int		 ok = 0;

	if (!(r->p->bit & P_ONEFAM))
		return (1);
	gs = json_object_get(m, "enable_groups");
	if (!json_is_array(gs) || json_array_size(gs) == 0)
		ok = 1;
	json_array_foreach(gs, i, g) {
		if (json_is_string(g) &&
		    strcmp(json_string_value(g), r->group) == 0)
			ok = 1;
	}
	return (ok);
}

static int
relay_model_allowed(const json_t *t, const char *model)
{
	char	 buf[2048], *p, *save = NULL;

	if (!state_bool(t, "model_limits_enabled"))
		return (1);
	snprintf(buf, sizeof buf, "%s", state_str(t, "model_limits"));
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (strcmp(p, model) == 0)
			return (1);
	}
	return (0);
}

static json_t *
relay_models_openai(struct req *r, const json_t *t, const char *owner)
{
	json_t	*data = json_array(), *m, *o;
	size_t	 i;

	json_array_foreach(state_models(), i, m) {
		if (!relay_model_usable(r, m, t) ||
		    !relay_model_allowed(t, state_str(m, "id")))
			continue;
		if (owner != NULL && strcmp(state_str(m, "owned_by"), owner) != 0)
			continue;
		o = json_pack("{s:s, s:s, s:i, s:s}", "id", state_str(m, "id"),
		    "object", "model", "created", 1626777600,
		    "owned_by", state_str(m, "owned_by"));
		if (r->p->bit & P_NEWFAM)
			json_object_set(o, "supported_endpoint_types",
			    json_object_get(m, "supported_endpoint_types"));
		json_array_append_new(data, o);
	}
	return (data);
}

static json_t *
relay_models_anthropic(__unused struct req *r, const json_t *t)
{
	json_t		*data = json_array(), *m;
	size_t		 i;
	const char	*first = NULL, *last = NULL;

	json_array_foreach(state_models(), i, m) {
		if (strcmp(state_str(m, "owned_by"), "anthropic") != 0 ||
		    !relay_model_allowed(t, state_str(m, "id")))
			continue;
		json_array_append_new(data, json_pack("{s:s, s:s, s:s, s:s}",
		    "type", "model", "id", state_str(m, "id"),
		    "display_name", state_str(m, "id"),
		    "created_at", "2024-10-22T00:00:00Z"));
		if (first == NULL)
			first = state_str(m, "id");
		last = state_str(m, "id");
	}
	return (json_pack("{s:o, s:b, s:s?, s:s?}", "data", data, "has_more",
	    0, "first_id", first, "last_id", last));
}

static void
relay_models(struct req *r)
{
	json_t		*t, *j;
	int		 flags = RELAY_MODELS;
	const char	*platform;

	state_lock();
	if ((t = relay_auth(r, flags)) == NULL)
		goto out;
	if ((r->p->bit & (P_CLAUDE|P_HUB|P_SUB2API)) &&
	    strstr(r->path, "claude") != NULL) {
		req_reply_json(r, 200, relay_models_anthropic(r, t));
		goto out;
	}
	if (r->p->bit & P_CLAUDE) {
		req_reply_json(r, 200, relay_models_anthropic(r, t));
		goto out;
	}
	if (r->p->bit & P_SUB2API) {
		platform = state_str(json_object_get(state_groups(), r->group),
		    "platform");
		if (strcmp(platform, "openai") != 0) {
			req_reply_json(r, 200, relay_models_anthropic(r, t));
			goto out;
		}
		j = json_pack("{s:s, s:o}", "object", "list", "data",
		    relay_models_openai(r, t, "openai"));
		req_reply_json(r, 200, j);
		goto out;
	}
	j = json_pack("{s:s, s:o}", "object", "list", "data",
	    relay_models_openai(r, t, NULL));
	if (r->p->bit & P_NEWFAM)
		json_object_set_new(j, "success", json_true());
	req_reply_json(r, 200, j);
out:
	state_unlock();
}

static void
relay_billing_subscription(struct req *r)
{
	json_t		*t;
	double		 qpu, limit;

	state_lock();
	if ((t = relay_auth(r, 0)) != NULL) {
		qpu = (double)state_cfg_int("quota_per_unit");
		if (qpu <= 0)
			qpu = 500000;
		limit = state_bool(t, "unlimited_quota") ? 100000000.0 :
		    (state_int(t, "remain_quota") +
		    state_int(t, "used_quota")) / qpu;
		req_reply_json(r, 200, json_pack("{s:s, s:b, s:f, s:f, s:f, "
		    "s:I}", "object", "billing_subscription",
		    "has_payment_method", 1, "soft_limit_usd", limit,
		    "hard_limit_usd", limit, "system_hard_limit_usd", limit,
		    "access_until", (json_int_t)(state_int(t,
		    "expired_time") > 0 ? state_int(t, "expired_time") : 0)));
	}
	state_unlock();
}

static void
relay_billing_usage(struct req *r)
{
	json_t	*t;
	double	 qpu;

	state_lock();
	if ((t = relay_auth(r, 0)) != NULL) {
		qpu = (double)state_cfg_int("quota_per_unit");
		if (qpu <= 0)
			qpu = 500000;
		req_reply_json(r, 200, json_pack("{s:s, s:f}", "object", "list",
		    "total_usage", state_int(t, "used_quota") / qpu * 100));
	}
	state_unlock();
}

static void
relay_sub2api_usage(struct req *r)
{
	json_t	*t, *u;
	double	 qpu;

	state_lock();
	if ((t = relay_auth(r, 0)) != NULL) {
		u = state_user_by_id(state_int(t, "user_id"));
		qpu = (double)state_cfg_int("quota_per_unit");
		if (qpu <= 0)
			qpu = 500000;
		req_reply_json(r, 200, json_pack("{s:b, s:s, s:f, s:s}",
		    "isValid", 1, "planName", "wallet", "remaining",
		    state_int(u, "quota") / qpu, "unit", "USD"));
	}
	state_unlock();
}

/* Text of a content value: a string, or an array of text parts. */
static void
relay_text_of(json_t *c, char **acc)
{
	size_t		 i;
	json_t		*part;
	const char	*s = NULL;
	char		*n;

	if (json_is_string(c))
		s = json_string_value(c);
	else if (json_is_array(c)) {
		json_array_foreach(c, i, part) {
			if (json_is_string(part))
				relay_text_of(part, acc);
			else if (json_is_string(json_object_get(part, "text")))
				relay_text_of(json_object_get(part, "text"),
				    acc);
			else if (json_object_get(part, "content") != NULL)
				relay_text_of(json_object_get(part,
				    "content"), acc);
		}
		return;
	}
	if (s == NULL)
		return;
	if (asprintf(&n, "%s%s%s", *acc != NULL ? *acc : "",
	    *acc != NULL && **acc != '\0' ? " " : "", s) == -1)
		abort();
	free(*acc);
	*acc = n;
}

/*
 * Collect the prompt text (all of it, for token counting) and the last
 * user text (for the echo) from whichever fields the endpoint uses.
 */
static void
relay_prompt(struct req *r, char **all, char **last)
{
	static const char *lists[] = { "messages", "input" };
	static const char *singles[] = { "system", "instructions", "prompt" };
	json_t		*b = r->json, *list, *m;
	size_t		 i, j;
	const char	*role;

	*all = *last = NULL;
	for (i = 0; i < nitems(singles); i++)
		relay_text_of(json_object_get(b, singles[i]), all);
	for (i = 0; i < nitems(lists); i++) {
		list = json_object_get(b, lists[i]);
		if (json_is_string(list)) {
			relay_text_of(list, all);
			free(*last);
			*last = strdup(json_string_value(list));
			continue;
		}
		json_array_foreach(list, j, m) {
			char	*one = NULL;

			if (json_is_string(m))
				relay_text_of(m, &one);
			else
				relay_text_of(json_object_get(m, "content"),
				    &one);
			if (one == NULL)
				continue;
			relay_text_of(json_object_get(m, "content") != NULL ?
			    json_object_get(m, "content") : m, all);
			role = state_str(m, "role");
			if (json_is_string(m) || *role == '\0' ||
			    strcmp(role, "user") == 0) {
				free(*last);
				*last = one;
			} else
				free(one);
		}
	}
	if (json_is_string(json_object_get(b, "prompt")) ||
	    json_is_array(json_object_get(b, "prompt"))) {
		char	*p = NULL;

		relay_text_of(json_object_get(b, "prompt"), &p);
		if (p != NULL) {
			free(*last);
			*last = p;
		}
	}
}

static long long
relay_cost(const json_t *m, long long prompt, long long completion,
    const char *group)
{
	double	gr = state_group_ratio(group), q;

	if (state_int(m, "quota_type") == 1)
		q = state_real(m, "model_price") *
		    state_cfg_int("quota_per_unit") * gr;
	else
		q = (prompt + completion * state_real(m, "completion_ratio")) *
		    state_real(m, "model_ratio") * gr;
	return ((long long)ceil(q - 1e-9));
}

static void
relay_bill(struct req *r, long long tid, const char *model, long long prompt,
    long long completion)
{
	json_t		*t, *u, *m;
	long long	 cost;

	state_lock();
	t = state_token_by_id(tid);
	m = state_model(model);
	u = t != NULL ? state_user_by_id(state_int(t, "user_id")) : NULL;
	if (t == NULL || u == NULL || m == NULL) {
		state_unlock();
		return;
	}
	cost = relay_cost(m, prompt, completion, r->group);
	state_set_int(u, "quota", state_int(u, "quota") - cost);
	state_set_int(u, "used_quota", state_int(u, "used_quota") + cost);
	state_set_int(u, "request_count", state_int(u, "request_count") + 1);
	state_set_int(t, "used_quota", state_int(t, "used_quota") + cost);
	state_set_int(t, "accessed_time", state_now());
	if (!state_bool(t, "unlimited_quota"))
		state_set_int(t, "remain_quota",
		    state_int(t, "remain_quota") - cost);
	state_log_add(state_int(u, "id"), 2, cost, "", model, prompt,
	    completion, state_str(t, "name"));
	state_unlock();
	r->billed = cost;
}

/*
 * Make s valid UTF-8 in place: a reply cut at 4000 bytes or a raw
 * X-Fake-Reply header may hold broken sequences, which jansson refuses.
 */
static void
relay_utf8_fix(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else {
			*p++ = '?';
			continue;
		}
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
		}
		if (i <= n) {
			*p++ = '?';
			continue;
		}
		p += n + 1;
	}
}

static int
relay_words_cap(const char *text, long long max, char **out)
{
	const char	*p = text;
	long long	 n = 0;
	int		 in = 0;

	for (; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
			in = 0;
			continue;
		}
		if (!in && ++n > max)
			break;
		in = 1;
	}
	if (*p == '\0') {
		*out = strdup(text);
		return (0);
	}
	while (p > text && (p[-1] == ' ' || p[-1] == '\n'))
		p--;
	*out = strndup(text, p - text);
	return (1);
}

/*
 * The common path of every generating endpoint: auth, model, quota,
 * reply text and token counts under the lock; then the generator writes
 * without it; then billing if the reply went out whole.
 */
static void
relay_generate(struct req *r, int flags, int (*gen)(struct req *,
    struct gen *))
{
	struct gen	 g;
	json_t		*t, *m, *u;
	const char	*model = req_body_str(r, "model"), *reply, *v;
	char		*all = NULL, *last = NULL, *text = NULL;
	long long	 tid, max;
	int		 rc;

	memset(&g, 0, sizeof g);
	state_lock();
	if ((t = relay_auth(r, flags)) == NULL)
		goto fail;
	if (r->json_bad || !json_is_object(r->json)) {
		relay_error(r, 400, NULL, "invalid JSON body");
		goto fail;
	}
	if (model == NULL || *model == '\0') {
		relay_error(r, 400, NULL, "model is required");
		goto fail;
	}
	snprintf(r->model, sizeof r->model, "%s", model);
	m = state_model(model);
	if (m == NULL || !relay_model_usable(r, m, t)) {
		relay_error_kind(r, "no_channel");
		goto fail;
	}
	if (!relay_model_allowed(t, model)) {
		relay_error_kind(r, "model_forbidden");
		goto fail;
	}
	u = state_user_by_id(state_int(t, "user_id"));
	if (state_int(u, "quota") <= 0) {
		relay_error_kind(r, "no_quota");
		goto fail;
	}
	tid = state_int(t, "id");

	relay_prompt(r, &all, &last);
	reply = req_header(r, "X-Fake-Reply");
	if (reply == NULL || *reply == '\0')
		reply = state_cfg_str("reply");
	if (reply != NULL && *reply != '\0')
		text = strdup(reply);
	else if (last != NULL && *last != '\0') {
		if (asprintf(&text, "echo: %.4000s", last) == -1)
			abort();
	} else
		text = strdup("Hello!");
	max = state_int(r->json, "max_tokens");
	if (max <= 0)
		max = state_int(r->json, "max_completion_tokens");
	if (max <= 0)
		max = state_int(r->json, "max_output_tokens");
	if (max > 0) {
		char	*cut;

		g.truncated = relay_words_cap(text, max, &cut);
		free(text);
		text = cut;
	}
	relay_utf8_fix(text);
	g.text = text;
	g.model = r->model;
	g.prompt = gen_words(all);
	if (g.prompt < 1)
		g.prompt = 1;
	g.completion = gen_words(text);
	g.stream = state_bool(r->json, "stream");
	g.include_usage = state_bool(json_object_get(r->json,
	    "stream_options"), "include_usage");
	g.created = state_now();
	g.seq = r->seq;
	g.input = json_deep_copy(json_object_get(r->json, "input"));
	g.dims = (int)state_int(r->json, "dimensions");
	v = req_header(r, "X-Fake-Variant");
	snprintf(g.variant, sizeof g.variant, "%s,%s", v != NULL ? v : "",
	    state_cfg_str("variant"));
	if (state_cfg_bool("responses_done"))
		strncat(g.variant, ",done", sizeof g.variant -
		    strlen(g.variant) - 1);
	state_unlock();

	rc = gen(r, &g);
	if (rc == 0 && !r->cut)
		relay_bill(r, tid, r->model, g.prompt, g.completion);
	free(all);
	free(last);
	free(g.text);
	json_decref(g.input);
	return;
fail:
	state_unlock();
	free(all);
	free(last);
}

static void
relay_chat(struct req *r)
{
	relay_generate(r, 0, gen_chat);
}

static void
relay_completions(struct req *r)
{
	relay_generate(r, 0, gen_completion);
}

static void
relay_messages(struct req *r)
{
	r->sse_kind = SSE_ANTHROPIC;
	relay_generate(r, RELAY_ANTHROPIC, gen_messages);
}

static void
relay_responses(struct req *r)
{
	r->sse_kind = SSE_RESPONSES;
	relay_generate(r, 0, gen_responses);
}

static void
relay_embeddings(struct req *r)
{
	relay_generate(r, 0, gen_embeddings);
}

static void
relay_count_tokens(struct req *r)
{
	char	*all = NULL, *last = NULL;
	json_t	*t;

	state_lock();
	t = relay_auth(r, RELAY_ANTHROPIC);
	state_unlock();
	if (t == NULL)
		return;
	relay_prompt(r, &all, &last);
	req_reply_json(r, 200, json_pack("{s:I}", "input_tokens",
	    (json_int_t)(gen_words(all) > 0 ? gen_words(all) : 1)));
	free(all);
	free(last);
}

/* First hit wins; paths are exact, so order only groups by platform. */
static const struct relay_route relay_table[] = {
	{ P_ALL, "GET", "/v1/models", RELAY_MODELS, relay_models,
	  "models for the key (OpenAI list; Anthropic list for claude, and "
	  "for sub2api keys in non-openai groups)" },
	{ P_HUB, "GET", "/claude/v1/models", RELAY_MODELS, relay_models,
	  "One/Done Hub: Anthropic model list" },
	{ P_ALL & ~P_CLAUDE, "POST", "/v1/chat/completions", 0, relay_chat,
	  "chat completions, stream or not" },
	{ P_ONEFAM|P_OPENAI, "POST", "/v1/completions", 0, relay_completions,
	  "legacy text completions" },
	{ P_ONEFAM|P_OPENAI, "POST", "/v1/embeddings", 0, relay_embeddings,
	  "embeddings (8 dimensions unless \"dimensions\")" },
	{ P_NEWFAM|P_SUB2API|P_CLAUDE, "POST", "/v1/messages",
	  RELAY_ANTHROPIC, relay_messages, "Anthropic Messages" },
	{ P_HUB, "POST", "/claude/v1/messages", RELAY_ANTHROPIC,
	  relay_messages, "One/Done Hub: Anthropic Messages" },
	{ P_SUB2API|P_CLAUDE, "POST", "/v1/messages/count_tokens",
	  RELAY_ANTHROPIC, relay_count_tokens, "Anthropic token count" },
	{ P_NEWFAM|P_HUB|P_SUB2API|P_OPENAI, "POST", "/v1/responses", 0,
	  relay_responses, "OpenAI Responses" },
	{ P_SUB2API, "POST", "/responses", 0, relay_responses,
	  "Sub2API alias of /v1/responses" },
	{ P_DONEHUB, "POST", "/v1/responses/compact", 0, relay_responses,
	  "Done Hub: same as /v1/responses" },
	{ P_ONEFAM, "GET", "/v1/dashboard/billing/subscription", 0,
	  relay_billing_subscription, "key-only balance: hard_limit_usd" },
	{ P_ONEFAM, "GET", "/v1/dashboard/billing/usage", 0,
	  relay_billing_usage, "key-only usage: total_usage (USD x 100)" },
	{ P_SUB2API, "GET", "/v1/usage", 0, relay_sub2api_usage,
	  "Sub2API: remaining USD" },
};

/* Returns 1 if a relay route answered (or buffered an answer). */
int
relay_dispatch(struct req *r)
{
	size_t	i;

	for (i = 0; i < nitems(relay_table); i++) {
		if (!(relay_table[i].personas & r->p->bit) ||
		    strcmp(relay_table[i].method, r->method) != 0 ||
		    strcmp(relay_table[i].path, r->path) != 0)
			continue;
		if (r->p->bit & P_ONEFAM) {
			char	id[32];

			snprintf(id, sizeof id, "fake-%lld", r->seq);
			req_add_header(r, "X-Oneapi-Request-Id", id);
		}
		relay_table[i].handler(r);
		return (1);
	}
	return (0);
}

/* For --routes: print the relay table. */
void
relay_print_routes(FILE *f, int bit)
{
	size_t	i;

	for (i = 0; i < nitems(relay_table); i++) {
		if (relay_table[i].personas & bit)
			fprintf(f, "  %-6s %-40s %s\n", relay_table[i].method,
			    relay_table[i].path, relay_table[i].help);
	}
}
