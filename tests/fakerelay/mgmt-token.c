/*
 * API token (key) management of the One-API family under /api/token/:
 * list, search, get, reveal, create, update, delete, and each platform's
 * token JSON (New API's model_limits, One API's models/subnet, One Hub's
 * setting block) with New API's key masking. Runs with the state lock
 * held; it only buffers replies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

static int
mgmt_token_masks(void)
{
	return (state_cfg_bool("mask_keys") &&
	    (persona_get()->bit & (P_NEWAPI|P_ANYROUTER)));
}

/* The platform's JSON for token t; reveal skips masking. */
json_t *
mgmt_token_json(const json_t *t, int reveal)
{
	const struct persona	*p = persona_get();
	const char		*key = state_str(t, "key");
	char			 masked[64];
	json_t			*j;

	if (!reveal && mgmt_token_masks() && strlen(key) > 8) {
		snprintf(masked, sizeof masked, "%.4s**********%s", key,
		    key + strlen(key) - 4);
		key = masked;
	}
	j = json_pack("{s:I, s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:b, "
	    "s:I}",
	    "id", (json_int_t)state_int(t, "id"),
	    "user_id", (json_int_t)state_int(t, "user_id"),
	    "key", key, "status", (json_int_t)state_int(t, "status"),
	    "name", state_str(t, "name"),
	    "created_time", (json_int_t)state_int(t, "created_time"),
	    "accessed_time", (json_int_t)state_int(t, "accessed_time"),
	    "expired_time", (json_int_t)state_int(t, "expired_time"),
	    "remain_quota", (json_int_t)state_int(t, "remain_quota"),
	    "unlimited_quota", state_bool(t, "unlimited_quota"),
	    "used_quota", (json_int_t)state_int(t, "used_quota"));
	if (p->bit & P_NEWFAM) {
		json_object_set_new(j, "model_limits_enabled",
		    json_boolean(state_bool(t, "model_limits_enabled")));
		state_set_str(j, "model_limits", state_str(t, "model_limits"));
		state_set_str(j, "allow_ips", state_str(t, "allow_ips"));
		state_set_str(j, "group", state_str(t, "group"));
		json_object_set_new(j, "cross_group_retry", json_false());
	} else if (p->bit & P_ONEAPI) {
		if (state_bool(t, "model_limits_enabled"))
			state_set_str(j, "models",
			    state_str(t, "model_limits"));
		else
			json_object_set_new(j, "models", json_null());
		state_set_str(j, "subnet", state_str(t, "allow_ips"));
	} else if (p->bit & P_HUB) {
		json_t	*models = json_array();
		char	 buf[1024], *m, *save = NULL;

		snprintf(buf, sizeof buf, "%s", state_str(t, "model_limits"));
		for (m = strtok_r(buf, ",", &save); m != NULL;
		    m = strtok_r(NULL, ",", &save))
			json_array_append_new(models, json_string(m));
		state_set_str(j, "group", state_str(t, "group"));
		state_set_str(j, "backup_group", "");
		json_object_set_new(j, "setting", json_pack("{s:{s:b, s:i}, "
		    "s:{s:{s:b, s:o}, s:{s:b, s:[]}}}",
		    "heartbeat", "enabled", 0, "timeout_seconds", 30,
		    "limits", "limit_model_setting", "enabled",
		    state_bool(t, "model_limits_enabled"), "models", models,
		    "limits_ip_setting", "enabled", 0, "whitelist"));
	}
	return (j);
}

static json_t *
mgmt_token_own(__unused struct req *r, json_t *u, long long id)
{
	json_t	*t = state_token_by_id(id);

	if (t == NULL || state_int(t, "user_id") != state_int(u, "id"))
		return (NULL);
	return (t);
}

/* The user's tokens, newest first, filtered by keyword and key. */
static json_t *
mgmt_token_collect(json_t *u, const char *keyword, const char *key)
{
	json_t	*out = json_array(), *t;
	size_t	 i;

	for (i = json_array_size(state_tokens()); i > 0; i--) {
		t = json_array_get(state_tokens(), i - 1);
		if (state_int(t, "user_id") != state_int(u, "id"))
			continue;
		if (keyword != NULL && *keyword != '\0' &&
		    strstr(state_str(t, "name"), keyword) == NULL)
			continue;
		if (key != NULL && *key != '\0' &&
		    strstr(state_str(t, "key"), key) == NULL)
			continue;
		json_array_append_new(out, mgmt_token_json(t, 0));
	}
	return (out);
}

static void
mgmt_token_reply_list(struct req *r, json_t *all)
{
	enum token_list	style = r->p->token_list;
	json_t		*d;

	if (style == TL_ITEMS && !state_cfg_bool("paged_tokens"))
		style = TL_ARRAY;
	if ((d = mgmt_page(r, all, style)) != NULL)
		mgmt_reply(r, 1, "", d);
}

void
mgmt_token_list(struct req *r, json_t *u)
{
	char	keyword[128];

	req_query(r, "keyword", keyword, sizeof keyword);
	mgmt_token_reply_list(r, mgmt_token_collect(u, keyword, NULL));
}

void
mgmt_token_search(struct req *r, json_t *u)
{
	char	keyword[128], key[128];
	char	*k = key;

	req_query(r, "keyword", keyword, sizeof keyword);
	req_query(r, "token", key, sizeof key);
	if (strncmp(k, "sk-", 3) == 0 && (r->p->bit & P_ONEFAM))
		k += 3;
	mgmt_token_reply_list(r, mgmt_token_collect(u, keyword, k));
}

void
mgmt_token_get(struct req *r, json_t *u)
{
	json_t	*t = mgmt_token_own(r, u, strtoll(r->param, NULL, 10));

	if (t == NULL) {
		mgmt_fail(r, "record not found");
		return;
	}
	mgmt_reply(r, 1, "", mgmt_token_json(t, 0));
}

void
mgmt_token_key(struct req *r, json_t *u)
{
	json_t	*t = mgmt_token_own(r, u, strtoll(r->param, NULL, 10));

	if (t == NULL) {
		mgmt_fail(r, "record not found");
		return;
	}
	mgmt_reply(r, 1, "", json_pack("{s:s}", "key", state_str(t, "key")));
}

static int
mgmt_token_count(json_t *u)
{
	json_t	*t;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(state_tokens(), i, t) {
		if (state_int(t, "user_id") == state_int(u, "id"))
			n++;
	}
	return (n);
}

/* Copy the fields a client may set from the request body into t. */
static int
mgmt_token_apply(struct req *r, json_t *t)
{
	json_t		*b = r->json, *v, *lim;
	static const char *ints[] = { "remain_quota", "expired_time", "status" };
	static const char *strs[] = { "name", "model_limits", "allow_ips",
	    "group" };
	size_t		 i;
	const char	*g;

	for (i = 0; i < nitems(ints); i++) {
		if ((v = json_object_get(b, ints[i])) != NULL &&
		    json_is_number(v))
			state_set_int(t, ints[i], state_int(b, ints[i]));
	}
	for (i = 0; i < nitems(strs); i++) {
		if ((v = json_object_get(b, strs[i])) != NULL &&
		    json_is_string(v))
			json_object_set(t, strs[i], v);
	}
	if ((v = json_object_get(b, "unlimited_quota")) != NULL)
		json_object_set_new(t, "unlimited_quota",
		    json_boolean(json_is_true(v)));
	if ((v = json_object_get(b, "model_limits_enabled")) != NULL)
		json_object_set_new(t, "model_limits_enabled",
		    json_boolean(json_is_true(v)));
	/* One API: "models" and "subnet". */
	if ((v = json_object_get(b, "models")) != NULL && json_is_string(v)) {
		json_object_set(t, "model_limits", v);
		json_object_set_new(t, "model_limits_enabled",
		    json_boolean(*json_string_value(v) != '\0'));
	}
	if ((v = json_object_get(b, "subnet")) != NULL && json_is_string(v))
		json_object_set(t, "allow_ips", v);
	/* One Hub: setting.limits.limit_model_setting. */
	lim = json_object_get(json_object_get(json_object_get(b, "setting"),
	    "limits"), "limit_model_setting");
	if (json_is_object(lim)) {
		char	buf[1024] = "";
		size_t	off = 0;

		json_array_foreach(json_object_get(lim, "models"), i, v) {
			if (json_is_string(v) && off < sizeof buf)
				off += snprintf(buf + off, sizeof buf - off,
				    "%s%s", off > 0 ? "," : "",
				    json_string_value(v));
		}
		state_set_str(t, "model_limits", buf);
		json_object_set_new(t, "model_limits_enabled",
		    json_boolean(json_is_true(json_object_get(lim, "enabled"))));
	}
	g = state_str(t, "group");
	if (*g != '\0' && strcmp(g, "auto") != 0 &&
	    json_object_get(state_groups(), g) == NULL) {
		mgmt_fail(r, "无效的分组");
		return (-1);
	}
	return (0);
}

void
mgmt_token_create(struct req *r, json_t *u)
{
	const char	*name = req_body_str(r, "name");
	size_t		 maxname = (r->p->bit & P_ONEAPI) ? 30 : 50;
	long long	 cap = state_cfg_int("max_tokens_per_user"), id;
	json_t		*t;
	char		*key, msg[128];

	if (!json_is_object(r->json)) {
		mgmt_fail(r, "无效的参数");
		return;
	}
	if (name == NULL)
		name = "";
	if (strlen(name) > maxname) {
		mgmt_fail(r, "令牌名称过长");
		return;
	}
	if (cap > 0 && mgmt_token_count(u) >= cap) {
		snprintf(msg, sizeof msg, "已达到最大令牌数量限制 (%lld)", cap);
		mgmt_fail(r, msg);
		return;
	}
	id = state_next_id("tokens");
	key = state_key_new(r->p->key_style);
	t = json_pack("{s:I, s:I, s:s, s:s, s:i, s:I, s:I, s:i, s:i, s:i, "
	    "s:b, s:b, s:s, s:s, s:s}",
	    "id", (json_int_t)id, "user_id", (json_int_t)state_int(u, "id"),
	    "key", key, "name", name, "status", 1,
	    "created_time", (json_int_t)state_now(),
	    "accessed_time", (json_int_t)state_now(), "expired_time", -1,
	    "remain_quota", 0, "used_quota", 0, "unlimited_quota", 0,
	    "model_limits_enabled", 0, "model_limits", "", "allow_ips", "",
	    "group", "");
	free(key);
	if (mgmt_token_apply(r, t) != 0) {
		json_decref(t);
		return;
	}
	state_set_int(t, "status", 1);
	json_array_append_new(state_tokens(), t);
	if (r->p->bit & P_ONEAPI)
		mgmt_reply(r, 1, "", mgmt_token_json(t, 1));
	else if (r->p->bit & P_DONEHUB)
		mgmt_reply(r, 1, "", json_pack("{s:I, s:s}", "id",
		    (json_int_t)id, "key", state_str(t, "key")));
	else
		mgmt_reply(r, 1, "", NULL);
}

void
mgmt_token_update(struct req *r, json_t *u)
{
	json_t		*t, *copy;
	char		 only[8];

	if (!json_is_object(r->json)) {
		mgmt_fail(r, "无效的参数");
		return;
	}
	t = mgmt_token_own(r, u, state_int(r->json, "id"));
	if (t == NULL) {
		mgmt_fail(r, "record not found");
		return;
	}
	if (req_query(r, "status_only", only, sizeof only) > 0) {
		if (json_object_get(r->json, "status") != NULL)
			state_set_int(t, "status", state_int(r->json, "status"));
		mgmt_reply(r, 1, "", mgmt_token_json(t, 0));
		return;
	}
	copy = json_deep_copy(t);
	if (mgmt_token_apply(r, copy) != 0) {
		json_decref(copy);
		return;
	}
	json_object_update(t, copy);
	json_decref(copy);
	mgmt_reply(r, 1, "", mgmt_token_json(t, 0));
}

void
mgmt_token_delete(struct req *r, json_t *u)
{
	json_t	*t = mgmt_token_own(r, u, strtoll(r->param, NULL, 10)), *o;
	size_t	 i;

	if (t == NULL) {
		mgmt_fail(r, "record not found");
		return;
	}
	json_array_foreach(state_tokens(), i, o) {
		if (o == t) {
			json_array_remove(state_tokens(), i);
			break;
		}
	}
	mgmt_reply(r, 1, "", NULL);
}
