/*
 * Management API of the One-API family (New API, AnyRouter, Veloera, One
 * API, One Hub, Done Hub): route dispatch over mgmt_table[], the user
 * auth middleware (session cookie or access token, plus the user-id
 * header), the {success,message,data} envelope, paging shapes, and the
 * user, status, pricing, check-in and log handlers. Token handlers are in
 * mgmt-token.c, Sub2API in mgmt-sub2api.c. Handlers run with the state
 * lock held and only buffer a reply.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

void
mgmt_reply(struct req *r, int ok, const char *message, json_t *data)
{
	json_t	*j;

	j = json_pack("{s:b, s:s}", "success", ok, "message",
	    message != NULL ? message : "");
	if (data != NULL)
		json_object_set_new(j, "data", data);
	req_reply_json(r, 200, j);
}

void
mgmt_fail(struct req *r, const char *message)
{
	mgmt_reply(r, 0, message, NULL);
}

static void
mgmt_fail_status(struct req *r, int status, const char *message)
{
	req_reply_json(r, status, json_pack("{s:b, s:s}", "success", 0,
	    "message", message));
}

/* The One-API family's 404 for an unknown /api or /v1 path. */
void
mgmt_invalid_url(struct req *r)
{
	char	msg[1200];

	snprintf(msg, sizeof msg, "Invalid URL (%s %s)", r->method, r->path);
	req_reply_json(r, 404, json_pack("{s:{s:s, s:s, s:s, s:s}}", "error",
	    "message", msg, "type", "invalid_request_error", "param", "",
	    "code", ""));
}

/* Match "/api/token/:id" against a path; ":id" fills param. */
int
mgmt_match(const char *pattern, const char *path, char *param, size_t len)
{
	const char	*p = pattern, *s = path, *end;
	size_t		 plen, slen;

	plen = strlen(p);
	slen = strlen(s);
	/* gin redirects between "/x" and "/x/": treat them as one. */
	if (plen > 1 && p[plen - 1] == '/')
		plen--;
	if (slen > 1 && s[slen - 1] == '/')
		slen--;
	while (plen > 0 && slen > 0) {
		if (*p == ':') {
			while (plen > 0 && *p != '/') {
				p++;
				plen--;
			}
			end = memchr(s, '/', slen);
			if (end == NULL)
				end = s + slen;
			if (end == s)
				return (0);
			snprintf(param, len, "%.*s", (int)(end - s), s);
			slen -= end - s;
			s = end;
			continue;
		}
		if (*p != *s)
			return (0);
		p++;
		s++;
		plen--;
		slen--;
	}
	return (plen == 0 && slen == 0);
}

/*
 * Run the route for this request, if the personality has one. Returns 0
 * when no route matched so the caller can try the relay routes.
 */
int
mgmt_dispatch(struct req *r)
{
	const struct mgmt_route	*rt;
	size_t			 i, n = mgmt_table_size();
	json_t			*user = NULL;

	for (i = 0; i < n; i++) {
		rt = &mgmt_table[i];
		if ((rt->personas & r->p->bit) == 0)
			continue;
		if (strcmp(rt->method, r->method) != 0)
			continue;
		if (mgmt_match(rt->pattern, r->path, r->param,
		    sizeof r->param))
			break;
	}
	if (i == n)
		return (0);

	state_lock();
	if (rt->flags & MGMT_AUTH)
		user = mgmt_auth(r);
	else if (rt->flags & MGMT_JWT)
		user = mgmt_sub2api_auth(r);
	if (!(rt->flags & (MGMT_AUTH|MGMT_JWT)) || user != NULL)
		rt->handler(r, user);
	state_unlock();
	return (1);
}

static const char *
mgmt_user_header(struct req *r)
{
	const char	*h = state_cfg_str("user_header");

	if (!state_cfg_bool("require_user_header"))
		return (NULL);
	if (*h != '\0')
		return (h);
	return (r->p->user_header);
}

/*
 * The user middleware: a "session" cookie first, then the access token
 * in Authorization (one "Bearer " stripped), then the user-id header
 * check where the platform has one. Returns the user, or NULL after
 * buffering the platform's error.
 */
json_t *
mgmt_auth(struct req *r)
{
	char		 cookie[128], msg[256], *end;
	const char	*auth, *hname, *h;
	json_t		*s, *user = NULL;
	long long	 id;

	if (req_cookie(r, "session", cookie, sizeof cookie) == 0 &&
	    (s = state_session_get(cookie)) != NULL &&
	    strcmp(state_str(s, "kind"), "session") == 0) {
		user = state_user_by_id(state_int(s, "user_id"));
		r->auth_session = 1;
	}
	if (user == NULL && (auth = req_header(r, "Authorization")) != NULL &&
	    *auth != '\0') {
		if (strncmp(auth, "Bearer ", 7) == 0)
			auth += 7;
		if ((user = state_user_by_access(auth)) == NULL) {
			mgmt_fail(r, "无权进行此操作，access token 无效");
			return (NULL);
		}
	}
	if (user == NULL) {
		mgmt_fail_status(r, 401,
		    "无权进行此操作，未登录且未提供 access token");
		return (NULL);
	}
	if (state_int(user, "status") != 1) {
		mgmt_fail_status(r, 403, "用户已被封禁");
		return (NULL);
	}
	if ((hname = mgmt_user_header(r)) == NULL)
		return (user);
	if ((h = req_header(r, hname)) == NULL || *h == '\0') {
		snprintf(msg, sizeof msg, "无权进行此操作，未提供 %s", hname);
		mgmt_fail_status(r, 401, msg);
		return (NULL);
	}
	id = strtoll(h, &end, 10);
	if (*end != '\0') {
		snprintf(msg, sizeof msg, "无权进行此操作，%s 格式错误", hname);
		mgmt_fail_status(r, 401, msg);
		return (NULL);
	}
	if (id != state_int(user, "id")) {
		snprintf(msg, sizeof msg, "无权进行此操作，%s 与登录用户不匹配",
		    hname);
		mgmt_fail_status(r, 401, msg);
		return (NULL);
	}
	return (user);
}

static int
mgmt_clamp(long long v, long long lo, long long hi)
{
	if (v < lo)
		return ((int)lo);
	if (v > hi)
		return ((int)hi);
	return ((int)v);
}

static json_t *
mgmt_slice(json_t *all, long long off, long long size)
{
	json_t	*out = json_array();
	size_t	 i;

	for (i = off < 0 ? 0 : (size_t)off; i < json_array_size(all) &&
	    (long long)json_array_size(out) < size; i++)
		json_array_append(out, json_array_get(all, i));
	return (out);
}

/*
 * Page a list the way the platform does; steals all. Returns NULL after
 * buffering an error (One Hub rejects size > 100).
 */
json_t *
mgmt_page(struct req *r, json_t *all, enum token_list style)
{
	long long	 p, size, total = json_array_size(all);
	json_t		*out = NULL;

	switch (style) {
	case TL_ITEMS:
		p = req_query_int(r, "p", 1);
		size = req_query_int(r, "page_size",
		    req_query_int(r, "size", req_query_int(r, "ps", 10)));
		p = p <= 0 ? 1 : p;
		size = mgmt_clamp(size <= 0 ? 10 : size, 1, 100);
		out = json_pack("{s:I, s:I, s:I, s:o}", "page", (json_int_t)p,
		    "page_size", (json_int_t)size, "total", (json_int_t)total,
		    "items", mgmt_slice(all, (p - 1) * size, size));
		break;
	case TL_ARRAY:
	case TL_FIXED10:
		p = req_query_int(r, "p", 0);
		size = style == TL_FIXED10 ? 10 : req_query_int(r, "size", 10);
		size = mgmt_clamp(size <= 0 ? 10 : size, 1, 100);
		out = mgmt_slice(all, (p < 0 ? 0 : p) * size, size);
		break;
	case TL_HUB:
		p = req_query_int(r, "page", 1);
		size = req_query_int(r, "size", 10);
		if (size > 100) {
			mgmt_fail(r, "size 参数不能超过 100");
			break;
		}
		p = p <= 0 ? 1 : p;
		size = size <= 0 ? 10 : size;
		out = json_pack("{s:o, s:I, s:I, s:I}", "data",
		    mgmt_slice(all, (p - 1) * size, size), "page",
		    (json_int_t)p, "size", (json_int_t)size, "total_count",
		    (json_int_t)total);
		break;
	case TL_SUB2API:
		p = req_query_int(r, "page", 1);
		size = req_query_int(r, "page_size",
		    req_query_int(r, "limit", 20));
		p = p <= 0 ? 1 : p;
		size = mgmt_clamp(size <= 0 ? 20 : size, 1, 100);
		out = json_pack("{s:o, s:I, s:I, s:I, s:I}", "items",
		    mgmt_slice(all, (p - 1) * size, size), "total",
		    (json_int_t)total, "page", (json_int_t)p, "page_size",
		    (json_int_t)size, "pages",
		    (json_int_t)((total + size - 1) / size));
		break;
	}
	json_decref(all);
	return (out);
}

void
mgmt_status(struct req *r, __unused json_t *user)
{
	json_t		*d;
	const char	*name = state_cfg_str("system_name");
	char		 addr[64];

	snprintf(addr, sizeof addr, "http://127.0.0.1:%d", fakerelay_port());
	d = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:b, s:b, s:s, "
	    "s:b, s:b, s:s}",
	    "version", r->p->version, "start_time", (json_int_t)1716000000,
	    "system_name", *name != '\0' ? name : r->p->system_name,
	    "logo", "", "footer_html", "", "server_address", addr,
	    "quota_per_unit", (json_int_t)state_cfg_int("quota_per_unit"),
	    "display_in_currency", 1,
	    "turnstile_check", state_cfg_bool("turnstile"),
	    "turnstile_site_key", "", "email_verification", 0,
	    "github_oauth", 0, "x_fake_unknown_field", "ignore me");
	if (r->p->status_add != NULL)
		r->p->status_add(d);
	mgmt_reply(r, 1, "", d);
}

void
mgmt_notice(struct req *r, __unused json_t *user)
{
	mgmt_reply(r, 1, "", json_string(state_cfg_str("notice")));
}

static json_t *
mgmt_login_data(const json_t *u)
{
	return (json_pack("{s:I, s:s, s:s, s:I, s:I, s:s}",
	    "id", (json_int_t)state_int(u, "id"),
	    "username", state_str(u, "username"),
	    "display_name", state_str(u, "display_name"),
	    "role", (json_int_t)state_int(u, "role"),
	    "status", (json_int_t)state_int(u, "status"),
	    "group", state_str(u, "group")));
}

static void
mgmt_set_session(struct req *r, const char *id)
{
	char	cookie[256];

	snprintf(cookie, sizeof cookie, "session=%s; Path=/; Max-Age=2592000; "
	    "HttpOnly; SameSite=Strict", id);
	req_add_header(r, "Set-Cookie", cookie);
}

/* Turnstile applies to New API and its forks only. */
static int
mgmt_turnstile_missing(struct req *r)
{
	char	t[256];

	if (!(r->p->bit & P_NEWFAM) || !state_cfg_bool("turnstile"))
		return (0);
	return (req_query(r, "turnstile", t, sizeof t) <= 0);
}

void
mgmt_login(struct req *r, __unused json_t *none)
{
	const char	*name = req_body_str(r, "username");
	const char	*pass = req_body_str(r, "password");
	json_t		*u;
	char		*sid;
	int		 twofa;

	if (name == NULL || pass == NULL || *name == '\0' || *pass == '\0') {
		mgmt_fail(r, "无效的参数");
		return;
	}
	if (mgmt_turnstile_missing(r)) {
		mgmt_fail(r, "Turnstile token 为空");
		return;
	}
	u = state_user_by_name(name);
	if (u == NULL || strcmp(state_str(u, "password"), pass) != 0 ||
	    state_int(u, "status") != 1) {
		mgmt_fail(r, "用户名或密码错误，或用户已被封禁");
		return;
	}
	twofa = *state_str(u, "twofa_code") != '\0' &&
	    (r->p->bit & (P_NEWAPI|P_ANYROUTER));
	sid = state_session_new(state_int(u, "id"), 2592000,
	    twofa ? "pending" : "session");
	mgmt_set_session(r, sid);
	free(sid);
	if (twofa)
		mgmt_reply(r, 1, "请输入两步验证码",
		    json_pack("{s:b}", "require_2fa", 1));
	else
		mgmt_reply(r, 1, "", mgmt_login_data(u));
}

void
mgmt_login_2fa(struct req *r, __unused json_t *none)
{
	char		 cookie[128];
	const char	*code = req_body_str(r, "code");
	json_t		*s, *u;

	if (req_cookie(r, "session", cookie, sizeof cookie) != 0 ||
	    (s = state_session_get(cookie)) == NULL ||
	    strcmp(state_str(s, "kind"), "pending") != 0 ||
	    (u = state_user_by_id(state_int(s, "user_id"))) == NULL) {
		mgmt_fail(r, "会话已过期，请重新登录");
		return;
	}
	if (code == NULL || strcmp(code, state_str(u, "twofa_code")) != 0) {
		mgmt_fail(r, "验证码错误或已被使用");
		return;
	}
	state_set_str(s, "kind", "session");
	mgmt_reply(r, 1, "", mgmt_login_data(u));
}

void
mgmt_logout(struct req *r, __unused json_t *none)
{
	char	cookie[128];

	if (req_cookie(r, "session", cookie, sizeof cookie) == 0)
		state_session_del(cookie);
	mgmt_reply(r, 1, "", NULL);
}

void
mgmt_self(struct req *r, json_t *u)
{
	json_t	*d;

	d = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:I, s:I, "
	    "s:s, s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:b}",
	    "id", (json_int_t)state_int(u, "id"),
	    "username", state_str(u, "username"),
	    "display_name", state_str(u, "display_name"),
	    "role", (json_int_t)state_int(u, "role"),
	    "status", (json_int_t)state_int(u, "status"),
	    "email", state_str(u, "email"), "group", state_str(u, "group"),
	    "quota", (json_int_t)state_int(u, "quota"),
	    "used_quota", (json_int_t)state_int(u, "used_quota"),
	    "request_count", (json_int_t)state_int(u, "request_count"),
	    "aff_code", state_str(u, "aff_code"), "aff_count", 0,
	    "aff_quota", 0, "aff_history_quota", 0, "inviter_id", 0,
	    "setting", "{}", "linux_do_id", "", "github_id", "",
	    "x_fake_unknown_flag", 1);
	if (r->p->bit & P_HUB) {
		state_set_str(d, "access_token", state_str(u, "access_token"));
		state_set_int(d, "last_login_time", state_now());
		state_set_int(d, "created_time", 1716000000);
	}
	if (r->p->bit & P_DONEHUB) {
		json_object_set_new(d, "need_agree_user_agreement",
		    json_boolean(state_bool(u, "need_agree")));
		json_object_set_new(d, "need_agree_privacy_policy",
		    json_boolean(state_bool(u, "need_agree")));
	}
	mgmt_reply(r, 1, "", d);
}

void
mgmt_access_token(struct req *r, json_t *u)
{
	char	tok[33];

	state_random(tok, sizeof tok, (r->p->bit & P_NEWFAM) ?
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" :
	    "0123456789abcdef");
	state_set_str(u, "access_token", tok);
	mgmt_reply(r, 1, "", json_string(tok));
}

void
mgmt_self_groups(struct req *r, __unused json_t *u)
{
	json_t		*d = json_object(), *g;
	const char	*name;

	json_object_foreach(state_groups(), name, g) {
		json_object_set_new(d, name, json_pack("{s:f, s:s}", "ratio",
		    state_group_ratio(name), "desc", state_str(g, "desc")));
	}
	mgmt_reply(r, 1, "", d);
}

static int
mgmt_model_in_group(const json_t *m, const char *group)
{
	json_t	*gs = json_object_get(m, "enable_groups"), *g;
	size_t	 i;

	if (!json_is_array(gs) || json_array_size(gs) == 0)
		return (1);
	json_array_foreach(gs, i, g) {
		if (json_is_string(g) && strcmp(json_string_value(g), group) == 0)
			return (1);
	}
	return (0);
}

void
mgmt_user_models(struct req *r, json_t *u)
{
	json_t	*d = json_array(), *m;
	size_t	 i;

	json_array_foreach(state_models(), i, m) {
		if (mgmt_model_in_group(m, state_str(u, "group")))
			json_array_append_new(d, json_string(state_str(m, "id")));
	}
	mgmt_reply(r, 1, "", d);
}

void
mgmt_pricing(struct req *r, __unused json_t *user)
{
	json_t		*d = json_array(), *m, *gr, *ug, *g, *j;
	const char	*name;
	size_t		 i;

	json_array_foreach(state_models(), i, m) {
		json_array_append_new(d, json_pack("{s:s, s:I, s:f, s:f, s:f, "
		    "s:s, s:O, s:O, s:f, s:s}",
		    "model_name", state_str(m, "id"),
		    "quota_type", (json_int_t)state_int(m, "quota_type"),
		    "model_ratio", state_real(m, "model_ratio"),
		    "completion_ratio", state_real(m, "completion_ratio"),
		    "model_price", state_real(m, "model_price"),
		    "owner_by", state_str(m, "owned_by"),
		    "enable_groups", json_object_get(m, "enable_groups"),
		    "supported_endpoint_types",
		    json_object_get(m, "supported_endpoint_types"),
		    "cache_ratio", state_real(m, "cache_ratio"),
		    "description", ""));
	}
	gr = json_object();
	ug = json_object();
	json_object_foreach(state_groups(), name, g) {
		json_object_set_new(gr, name, json_real(state_group_ratio(name)));
		json_object_set_new(ug, name, json_string(state_str(g, "desc")));
	}
	j = json_pack("{s:b, s:s, s:o, s:o, s:o, s:s}", "success", 1,
	    "message", "", "data", d, "group_ratio", gr, "usable_group", ug,
	    "pricing_version", "fake-1");
	req_reply_json(r, 200, j);
}

/* The reward for uid today: fixed, or spread over [min, max] by day. */
static long long
mgmt_checkin_reward(long long uid, const char *today)
{
	long long	 lo = state_cfg_int("checkin_min");
	long long	 hi = state_cfg_int("checkin_max");
	unsigned long	 h = 5381;
	const char	*p;

	if (hi <= lo)
		return (lo);
	for (p = today; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	h += (unsigned long)uid * 2654435761UL;
	return (lo + (long long)(h % (unsigned long)(hi - lo + 1)));
}

/*
 * The shared check-in rule: disabled, already today, or award the
 * reward. Returns the reward, or -1 after buffering the failure.
 */
long long
mgmt_checkin_do(struct req *r, json_t *u)
{
	char		 today[16];
	long long	 reward;

	if (!state_cfg_bool("checkin_enabled")) {
		mgmt_fail(r, "签到功能未启用");
		return (-1);
	}
	state_today(today, sizeof today);
	if (strcmp(state_str(u, "last_checkin"), today) == 0) {
		mgmt_fail(r, r->p->checkin_done != NULL ? r->p->checkin_done :
		    "今日已签到");
		return (-1);
	}
	reward = mgmt_checkin_reward(state_int(u, "id"), today);
	state_set_int(u, "quota", state_int(u, "quota") + reward);
	state_set_str(u, "last_checkin", today);
	if (!json_is_array(json_object_get(u, "checkins")))
		json_object_set_new(u, "checkins", json_array());
	json_array_append_new(json_object_get(u, "checkins"),
	    json_pack("{s:s, s:I}", "checkin_date", today, "quota_awarded",
	    (json_int_t)reward));
	state_log_add(state_int(u, "id"), 4, reward, "签到奖励", "", 0, 0, "");
	return (reward);
}

void
mgmt_checkin(struct req *r, json_t *u)
{
	long long	reward;
	char		today[16];

	if (mgmt_turnstile_missing(r) && !r->auth_session) {
		mgmt_fail(r, "Turnstile token 为空");
		return;
	}
	if ((reward = mgmt_checkin_do(r, u)) < 0)
		return;
	state_today(today, sizeof today);
	mgmt_reply(r, 1, "签到成功", json_pack("{s:I, s:s}", "quota_awarded",
	    (json_int_t)reward, "checkin_date", today));
}

void
mgmt_checkin_status(struct req *r, json_t *u)
{
	char		 month[16], today[16];
	json_t		*recs = json_array(), *c;
	size_t		 i;
	long long	 total = 0, count = 0;

	state_today(today, sizeof today);
	if (req_query(r, "month", month, sizeof month) <= 0)
		snprintf(month, sizeof month, "%.7s", today);
	json_array_foreach(json_object_get(u, "checkins"), i, c) {
		total += state_int(c, "quota_awarded");
		if (strncmp(state_str(c, "checkin_date"), month,
		    strlen(month)) == 0) {
			json_array_append(recs, c);
			count++;
		}
	}
	mgmt_reply(r, 1, "", json_pack("{s:b, s:I, s:I, s:{s:I, s:I, s:I, "
	    "s:b, s:o}}", "enabled", state_cfg_bool("checkin_enabled"),
	    "min_quota", (json_int_t)state_cfg_int("checkin_min"),
	    "max_quota", (json_int_t)state_cfg_int("checkin_max"),
	    "stats", "total_quota", (json_int_t)total,
	    "total_checkins", (json_int_t)json_array_size(
	    json_object_get(u, "checkins")),
	    "checkin_count", (json_int_t)count,
	    "checked_in_today", strcmp(state_str(u, "last_checkin"), today) == 0,
	    "records", recs));
}

void
mgmt_check_in(struct req *r, json_t *u)
{
	long long	reward;

	if ((reward = mgmt_checkin_do(r, u)) < 0)
		return;
	mgmt_reply(r, 1, "签到成功", json_pack("{s:I}", "quota",
	    (json_int_t)reward));
}

void
mgmt_check_in_status(struct req *r, json_t *u)
{
	char	today[16];

	state_today(today, sizeof today);
	mgmt_reply(r, 1, "", json_pack("{s:b}", "can_check_in",
	    state_cfg_bool("checkin_enabled") &&
	    strcmp(state_str(u, "last_checkin"), today) != 0));
}

/*
 * AnyRouter's sign_in. Config "sign_in_style" "ret" answers the
 * {"ret":1,"msg":…} way some deployments do.
 */
void
mgmt_sign_in(struct req *r, json_t *u)
{
	long long	 reward;
	int		 ret = strcmp(state_cfg_str("sign_in_style"), "ret") == 0;
	json_t		*j;

	reward = mgmt_checkin_do(r, u);
	if (!ret) {
		if (reward >= 0)
			mgmt_reply(r, 1, "签到成功", NULL);
		return;
	}
	if (reward < 0) {
		j = json_pack("{s:i, s:s}", "ret", 0, "msg",
		    state_cfg_bool("checkin_enabled") ? r->p->checkin_done :
		    "签到功能未启用");
	} else
		j = json_pack("{s:i, s:s, s:I}", "ret", 1, "msg", "签到成功",
		    "reward", (json_int_t)reward);
	req_reply_json(r, 200, j);
}

void
mgmt_log_self(struct req *r, json_t *u)
{
	json_t		*all = state_log_user(state_int(u, "id")), *e, *out;
	long long	 type = req_query_int(r, "type", 0);
	size_t		 i;
	enum token_list	 style = r->p->token_list;

	out = json_array();
	json_array_foreach(all, i, e) {
		if (type == 0 || state_int(e, "type") == type)
			json_array_append(out, e);
	}
	json_decref(all);
	if (style == TL_FIXED10)
		style = TL_ARRAY;
	if ((out = mgmt_page(r, out, style)) != NULL)
		mgmt_reply(r, 1, "", out);
}

void
mgmt_available_model(struct req *r, __unused json_t *user)
{
	json_t	*d = json_object(), *m;
	size_t	 i;
	int	 times;
	double	 per_call = state_cfg_int("quota_per_unit") / 1000.0;

	json_array_foreach(state_models(), i, m) {
		times = state_int(m, "quota_type") == 1;
		json_object_set_new(d, state_str(m, "id"), json_pack(
		    "{s:O, s:s, s:{s:s, s:s, s:i, s:f, s:f}}",
		    "groups", json_object_get(m, "enable_groups"),
		    "owned_by", state_str(m, "owned_by"),
		    "price", "model", state_str(m, "id"),
		    "type", times ? "times" : "tokens", "channel_type", 1,
		    "input", times ? state_real(m, "model_price") * per_call :
		    state_real(m, "model_ratio"),
		    "output", times ? state_real(m, "model_price") * per_call :
		    state_real(m, "model_ratio") *
		    state_real(m, "completion_ratio")));
	}
	mgmt_reply(r, 1, "", d);
}

void
mgmt_user_group_map(struct req *r, __unused json_t *user)
{
	json_t		*d = json_object(), *g;
	const char	*name;

	json_object_foreach(state_groups(), name, g) {
		json_object_set_new(d, name, json_pack("{s:I, s:s, s:s, s:f, "
		    "s:i, s:b}", "id", (json_int_t)state_int(g, "id"),
		    "symbol", name, "name", state_str(g, "desc"),
		    "ratio", state_group_ratio(name), "api_rate", 600,
		    "public", 1));
	}
	mgmt_reply(r, 1, "", d);
}

void
mgmt_agree_terms(struct req *r, json_t *u)
{
	json_object_set_new(u, "need_agree", json_false());
	mgmt_reply(r, 1, "", NULL);
}
