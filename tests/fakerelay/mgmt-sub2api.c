/*
 * Sub2API's management API under /api/v1: JWT login, refresh and logout,
 * the JWT middleware with its string error codes, the user profile
 * (balance in USD), API keys bound to one group, groups, subscriptions
 * and public settings, all in the {code,message,data} envelope. Runs
 * with the state lock held; it only buffers replies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

#define SUB2API_REFRESH_TTL	(7 * 86400)

static void
sub2api_ok(struct req *r, json_t *data)
{
	req_reply_json(r, 200, json_pack("{s:i, s:s, s:o}", "code", 0,
	    "message", "success", "data", data != NULL ? data : json_null()));
}

/* A handler error: {code:<status>, message, reason, metadata}. */
void
mgmt_sub2api_fail(struct req *r, int status, const char *reason,
    const char *message)
{
	req_reply_json(r, status, json_pack("{s:i, s:s, s:s, s:{}}", "code",
	    status, "message", message, "reason", reason, "metadata"));
}

/* A middleware error: {code:"<STRING>", message}. */
static void
sub2api_auth_fail(struct req *r, const char *code, const char *message)
{
	req_reply_json(r, 401, json_pack("{s:s, s:s}", "code", code,
	    "message", message));
}

static char *
sub2api_b64url(const char *in)
{
	static const char	 set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t			 n = strlen(in), i, o = 0;
	unsigned		 v;
	char			*out;

	if ((out = malloc(n * 4 / 3 + 4)) == NULL)
		abort();
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 |
		    (unsigned char)in[i + 2];
		out[o++] = set[v >> 18 & 63];
		out[o++] = set[v >> 12 & 63];
		out[o++] = set[v >> 6 & 63];
		out[o++] = set[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned char)in[i] << 16;
		out[o++] = set[v >> 18 & 63];
		out[o++] = set[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
		out[o++] = set[v >> 18 & 63];
		out[o++] = set[v >> 12 & 63];
		out[o++] = set[v >> 6 & 63];
	}
	out[o] = '\0';
	return (out);
}

static json_t *
sub2api_group_by_id(long long id)
{
	json_t		*g;
	const char	*name;

	json_object_foreach(state_groups(), name, g) {
		if (state_int(g, "id") == id)
			return (g);
	}
	return (NULL);
}

static const char *
sub2api_group_name(long long id)
{
	json_t		*g;
	const char	*name;

	json_object_foreach(state_groups(), name, g) {
		if (state_int(g, "id") == id)
			return (name);
	}
	return ("");
}

static json_t *
sub2api_user_json(const json_t *u)
{
	double		 qpu = (double)state_cfg_int("quota_per_unit");
	json_t		*groups = json_array(), *g;
	const char	*name;

	json_object_foreach(state_groups(), name, g)
		json_array_append_new(groups, json_integer(state_int(g, "id")));
	return (json_pack("{s:I, s:s, s:s, s:s, s:f, s:i, s:s, s:o, s:s, "
	    "s:s, s:b}",
	    "id", (json_int_t)state_int(u, "id"),
	    "email", state_str(u, "email"),
	    "username", state_str(u, "username"), "role", "user",
	    "balance", qpu > 0 ? state_int(u, "quota") / qpu : 0.0,
	    "concurrency", 3,
	    "status", state_int(u, "status") == 1 ? "active" : "disabled",
	    "allowed_groups", groups, "created_at", "2025-01-01T00:00:00Z",
	    "updated_at", "2025-01-01T00:00:00Z", "x_fake_unknown", 1));
}

/* A JWT-looking access token (header.payload.random) and its session. */
static json_t *
sub2api_issue(json_t *u)
{
	long long	 ttl = state_cfg_int("jwt_ttl"), now = state_now();
	char		 payload[512], sig[44], *h, *p, *jwt, *rt;
	json_t		*d;

	if (ttl <= 0)
		ttl = 86400;
	snprintf(payload, sizeof payload, "{\"user_id\":%lld,\"email\":\"%s\","
	    "\"role\":\"user\",\"token_version\":1,\"iat\":%lld,\"exp\":%lld}",
	    state_int(u, "id"), state_str(u, "email"), now, now + ttl);
	h = sub2api_b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
	p = sub2api_b64url(payload);
	state_random(sig, sizeof sig,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
	if (asprintf(&jwt, "%s.%s.%s", h, p, sig) == -1)
		abort();
	free(h);
	free(p);

	state_session_put(jwt, state_int(u, "id"), ttl, "jwt");
	rt = state_session_new(state_int(u, "id"), SUB2API_REFRESH_TTL,
	    "refresh");
	d = json_pack("{s:s, s:s, s:I, s:s, s:o}", "access_token", jwt,
	    "refresh_token", rt, "expires_in", (json_int_t)ttl,
	    "token_type", "Bearer", "user", sub2api_user_json(u));
	free(rt);
	free(jwt);
	return (d);
}

void
mgmt_sub2api_login(struct req *r, __unused json_t *none)
{
	const char	*email = req_body_str(r, "email");
	const char	*pass = req_body_str(r, "password");
	const char	*ts = req_body_str(r, "turnstile_token");
	json_t		*u;

	if (email == NULL || pass == NULL) {
		mgmt_sub2api_fail(r, 400, "VALIDATION_ERROR",
		    "email and password are required");
		return;
	}
	if (state_cfg_bool("turnstile") && (ts == NULL || *ts == '\0')) {
		mgmt_sub2api_fail(r, 400, "TURNSTILE_VERIFICATION_FAILED",
		    "turnstile verification failed");
		return;
	}
	u = state_user_by_name(email);
	if (u == NULL || strcmp(state_str(u, "password"), pass) != 0) {
		mgmt_sub2api_fail(r, 401, "INVALID_CREDENTIALS",
		    "invalid email or password");
		return;
	}
	if (state_int(u, "status") != 1) {
		mgmt_sub2api_fail(r, 403, "USER_NOT_ACTIVE",
		    "user is not active");
		return;
	}
	sub2api_ok(r, sub2api_issue(u));
}

void
mgmt_sub2api_refresh(struct req *r, __unused json_t *none)
{
	const char	*rt = req_body_str(r, "refresh_token");
	json_t		*s, *u;

	s = state_session_get(rt);
	if (s == NULL || strcmp(state_str(s, "kind"), "refresh") != 0 ||
	    state_int(s, "expires") < state_now() ||
	    (u = state_user_by_id(state_int(s, "user_id"))) == NULL) {
		mgmt_sub2api_fail(r, 401, "INVALID_REFRESH_TOKEN",
		    "invalid or expired refresh token");
		return;
	}
	state_session_del(rt);	/* refresh tokens rotate */
	sub2api_ok(r, sub2api_issue(u));
}

void
mgmt_sub2api_logout(struct req *r, __unused json_t *u)
{
	const char	*auth = req_header(r, "Authorization");

	if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0)
		state_session_del(auth + 7);
	sub2api_ok(r, json_pack("{s:s}", "message", "Logged out successfully"));
}

/* The JWT middleware. Returns the user or NULL after an error reply. */
json_t *
mgmt_sub2api_auth(struct req *r)
{
	const char	*auth = req_header(r, "Authorization");
	json_t		*s, *u;

	if (auth == NULL || *auth == '\0') {
		sub2api_auth_fail(r, "UNAUTHORIZED",
		    "Authorization header is required");
		return (NULL);
	}
	if (strncmp(auth, "Bearer ", 7) != 0) {
		sub2api_auth_fail(r, "INVALID_AUTH_HEADER",
		    "Authorization header format must be 'Bearer {token}'");
		return (NULL);
	}
	s = state_session_get(auth + 7);
	if (s == NULL || strcmp(state_str(s, "kind"), "jwt") != 0) {
		sub2api_auth_fail(r, "INVALID_TOKEN", "Invalid token");
		return (NULL);
	}
	if (state_int(s, "expires") < state_now()) {
		sub2api_auth_fail(r, "TOKEN_EXPIRED", "Token has expired");
		return (NULL);
	}
	u = state_user_by_id(state_int(s, "user_id"));
	if (u == NULL || state_int(u, "status") != 1) {
		sub2api_auth_fail(r, "USER_INACTIVE", "User is not active");
		return (NULL);
	}
	return (u);
}

void
mgmt_sub2api_me(struct req *r, json_t *u)
{
	sub2api_ok(r, sub2api_user_json(u));
}

static json_t *
sub2api_key_json(const json_t *t)
{
	double		 qpu = (double)state_cfg_int("quota_per_unit");
	const char	*gname = state_str(t, "group");
	json_t		*g, *j;

	if (*gname == '\0')
		gname = "default";
	g = json_object_get(state_groups(), gname);
	j = json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:[], s:[], s:f, s:f, "
	    "s:n, s:s, s:s}",
	    "id", (json_int_t)state_int(t, "id"),
	    "user_id", (json_int_t)state_int(t, "user_id"),
	    "key", state_str(t, "key"), "name", state_str(t, "name"),
	    "group_id", (json_int_t)state_int(g, "id"),
	    "status", state_int(t, "status") == 1 ? "active" : "inactive",
	    "ip_whitelist", "ip_blacklist",
	    "quota", state_bool(t, "unlimited_quota") || qpu <= 0 ? 0.0 :
	    state_int(t, "remain_quota") / qpu,
	    "quota_used", qpu > 0 ? state_int(t, "used_quota") / qpu : 0.0,
	    "expires_at", "created_at", "2025-01-01T00:00:00Z",
	    "updated_at", "2025-01-01T00:00:00Z");
	json_object_set_new(j, "group", json_pack("{s:I, s:s, s:s, s:f}",
	    "id", (json_int_t)state_int(g, "id"), "name", gname,
	    "platform", state_str(g, "platform"),
	    "rate_multiplier", state_group_ratio(gname)));
	return (j);
}

static json_t *
sub2api_key_own(struct req *r, json_t *u)
{
	json_t	*t = state_token_by_id(strtoll(r->param, NULL, 10));

	if (t == NULL || state_int(t, "user_id") != state_int(u, "id")) {
		mgmt_sub2api_fail(r, 404, "API_KEY_NOT_FOUND",
		    "api key not found");
		return (NULL);
	}
	return (t);
}

void
mgmt_sub2api_keys(struct req *r, json_t *u)
{
	json_t	*all = json_array(), *t, *d;
	size_t	 i;

	json_array_foreach(state_tokens(), i, t) {
		if (state_int(t, "user_id") == state_int(u, "id"))
			json_array_append_new(all, sub2api_key_json(t));
	}
	if ((d = mgmt_page(r, all, TL_SUB2API)) != NULL)
		sub2api_ok(r, d);
}

void
mgmt_sub2api_key_get(struct req *r, json_t *u)
{
	json_t	*t = sub2api_key_own(r, u);

	if (t != NULL)
		sub2api_ok(r, sub2api_key_json(t));
}

static int
sub2api_custom_key_ok(const char *k)
{
	size_t	i;

	if (strlen(k) < 16)
		return (0);
	for (i = 0; k[i] != '\0'; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-", k[i]) == NULL)
			return (0);
	}
	return (1);
}

void
mgmt_sub2api_key_create(struct req *r, json_t *u)
{
	const char	*name = req_body_str(r, "name");
	const char	*custom = req_body_str(r, "custom_key");
	const char	*group = state_str(u, "group");
	json_t		*t, *gid;
	char		*key;
	double		 quota;

	if (name == NULL || *name == '\0') {
		mgmt_sub2api_fail(r, 400, "VALIDATION_ERROR",
		    "name is required");
		return;
	}
	if ((gid = json_object_get(r->json, "group_id")) != NULL &&
	    !json_is_null(gid)) {
		if (sub2api_group_by_id(state_int(r->json, "group_id")) == NULL) {
			mgmt_sub2api_fail(r, 400, "GROUP_NOT_FOUND",
			    "group not found");
			return;
		}
		group = sub2api_group_name(state_int(r->json, "group_id"));
	}
	if (custom != NULL && *custom != '\0') {
		if (!sub2api_custom_key_ok(custom)) {
			mgmt_sub2api_fail(r, 400, "INVALID_CUSTOM_KEY",
			    "custom key must be at least 16 characters of "
			    "[A-Za-z0-9_-]");
			return;
		}
		if (state_token_by_key(custom) != NULL) {
			mgmt_sub2api_fail(r, 409, "API_KEY_EXISTS",
			    "api key already exists");
			return;
		}
		if ((key = strdup(custom)) == NULL)
			abort();
	} else
		key = state_key_new(KEY_SUB2API);
	quota = state_real(r->json, "quota");
	t = json_pack("{s:I, s:I, s:s, s:s, s:i, s:I, s:I, s:i, s:I, s:i, "
	    "s:b, s:b, s:s, s:s, s:s}",
	    "id", (json_int_t)state_next_id("tokens"),
	    "user_id", (json_int_t)state_int(u, "id"), "key", key,
	    "name", name, "status", 1, "created_time", (json_int_t)state_now(),
	    "accessed_time", (json_int_t)state_now(), "expired_time", -1,
	    "remain_quota", (json_int_t)(quota * state_cfg_int(
	    "quota_per_unit")), "used_quota", 0, "unlimited_quota", quota <= 0,
	    "model_limits_enabled", 0, "model_limits", "", "allow_ips", "",
	    "group", group);
	free(key);
	json_array_append_new(state_tokens(), t);
	sub2api_ok(r, sub2api_key_json(t));
}

void
mgmt_sub2api_key_update(struct req *r, json_t *u)
{
	json_t		*t = sub2api_key_own(r, u);
	const char	*s;

	if (t == NULL)
		return;
	if ((s = req_body_str(r, "name")) != NULL)
		state_set_str(t, "name", s);
	if ((s = req_body_str(r, "status")) != NULL) {
		if (strcmp(s, "active") != 0 && strcmp(s, "inactive") != 0) {
			mgmt_sub2api_fail(r, 400, "VALIDATION_ERROR",
			    "status must be active or inactive");
			return;
		}
		state_set_int(t, "status", strcmp(s, "active") == 0 ? 1 : 2);
	}
	if (json_object_get(r->json, "group_id") != NULL) {
		if (sub2api_group_by_id(state_int(r->json, "group_id")) == NULL) {
			mgmt_sub2api_fail(r, 400, "GROUP_NOT_FOUND",
			    "group not found");
			return;
		}
		state_set_str(t, "group",
		    sub2api_group_name(state_int(r->json, "group_id")));
	}
	sub2api_ok(r, sub2api_key_json(t));
}

void
mgmt_sub2api_key_delete(struct req *r, json_t *u)
{
	json_t	*t = sub2api_key_own(r, u), *o;
	size_t	 i;

	if (t == NULL)
		return;
	json_array_foreach(state_tokens(), i, o) {
		if (o == t) {
			json_array_remove(state_tokens(), i);
			break;
		}
	}
	sub2api_ok(r, json_pack("{s:s}", "message",
	    "API key deleted successfully"));
}

void
mgmt_sub2api_groups(struct req *r, __unused json_t *u)
{
	json_t		*a = json_array(), *g;
	const char	*name;

	json_object_foreach(state_groups(), name, g) {
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:f, "
		    "s:b, s:s, s:s, s:n}", "id", (json_int_t)state_int(g, "id"),
		    "name", name, "description", state_str(g, "desc"),
		    "platform", state_str(g, "platform"),
		    "rate_multiplier", state_group_ratio(name),
		    "is_exclusive", 0, "status", "active",
		    "subscription_type", "standard", "daily_limit_usd"));
	}
	sub2api_ok(r, a);
}

void
mgmt_sub2api_subs(struct req *r, json_t *u)
{
	double	qpu = (double)state_cfg_int("quota_per_unit");

	sub2api_ok(r, json_pack("{s:i, s:f, s:[]}", "active_count", 0,
	    "total_used_usd", qpu > 0 ? state_int(u, "used_quota") / qpu : 0.0,
	    "subscriptions"));
}

void
mgmt_sub2api_settings(struct req *r, __unused json_t *none)
{
	char	addr[64];

	snprintf(addr, sizeof addr, "http://127.0.0.1:%d", fakerelay_port());
	sub2api_ok(r, json_pack("{s:b, s:b, s:b, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:s, s:s}", "registration_enabled", 0,
	    "email_verify_enabled", 0, "turnstile_enabled",
	    state_cfg_bool("turnstile"), "turnstile_site_key", "",
	    "site_name", "Sub2API", "site_logo", "", "site_subtitle", "fake",
	    "api_base_url", addr, "contact_info", "", "doc_url", "",
	    "version", persona_get()->version));
}

void
mgmt_sub2api_health(struct req *r, __unused json_t *none)
{
	req_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void
mgmt_sub2api_setup(struct req *r, __unused json_t *none)
{
	sub2api_ok(r, json_pack("{s:b, s:s}", "needs_setup", 0, "step",
	    "completed"));
}
