/*
 * mgmt_table[]: every management route of every personality, with the
 * platforms that serve it, its auth and its help text. It owns nothing
 * else; README's endpoint list follows this table (fakerelay --routes
 * prints it).
 *
 * Matching is first hit, so literal paths come before ":id" patterns that
 * would also match them (/api/token/search before /api/token/:id).
 */
#include "config.h"

#include "fakerelay.h"

const struct mgmt_route mgmt_table[] = {
	/* One-API family, public. */
	{ P_ONEFAM, "GET", "/api/status", 0, mgmt_status,
	  "site status: quota_per_unit, system_name, platform fingerprints" },
	{ P_ONEFAM, "GET", "/api/notice", 0, mgmt_notice,
	  "announcement text (config \"notice\")" },
	{ P_NEWFAM, "GET", "/api/pricing", 0, mgmt_pricing,
	  "model ratios, group_ratio, usable_group" },
	{ P_NEWFAM, "GET", "/api/user/groups", 0, mgmt_self_groups,
	  "groups with ratios (public)" },
	{ P_HUB, "GET", "/api/available_model", 0, mgmt_available_model,
	  "One Hub model map with prices" },
	{ P_HUB, "GET", "/api/user_group_map", 0, mgmt_user_group_map,
	  "One Hub group map" },
	{ P_ONEFAM, "POST", "/api/user/login", 0, mgmt_login,
	  "password login: sets the session cookie; 2FA users get "
	  "require_2fa (New API, AnyRouter)" },
	{ P_NEWAPI|P_ANYROUTER, "POST", "/api/user/login/2fa", 0,
	  mgmt_login_2fa, "second login step: {code} with the pending cookie" },
	{ P_ONEFAM, "GET", "/api/user/logout", 0, mgmt_logout,
	  "drop the session" },

	/* One-API family, user auth. */
	{ P_ONEFAM, "GET", "/api/user/self", MGMT_AUTH, mgmt_self,
	  "the user: quota, used_quota, request_count, group" },
	{ P_ONEFAM, "GET", "/api/user/token", MGMT_AUTH, mgmt_access_token,
	  "rotate and return the system access token" },
	{ P_NEWFAM, "GET", "/api/user/self/groups", MGMT_AUTH,
	  mgmt_self_groups, "groups the user may pick" },
	{ P_NEWFAM, "GET", "/api/user/models", MGMT_AUTH, mgmt_user_models,
	  "model names usable by the user" },
	{ P_ONEAPI, "GET", "/api/user/available_models", MGMT_AUTH,
	  mgmt_user_models, "One API: model names usable by the user" },
	{ P_NEWAPI, "GET", "/api/user/checkin", MGMT_AUTH,
	  mgmt_checkin_status, "check-in status for ?month=YYYY-MM" },
	{ P_NEWAPI, "POST", "/api/user/checkin", MGMT_AUTH, mgmt_checkin,
	  "check in: quota_awarded, or 今日已签到" },
	{ P_VELOERA, "POST", "/api/user/check_in", MGMT_AUTH, mgmt_check_in,
	  "Veloera check-in: data.quota, or 你今天已经签到过了" },
	{ P_VELOERA, "GET", "/api/user/check_in_status", MGMT_AUTH,
	  mgmt_check_in_status, "Veloera: can_check_in" },
	{ P_ANYROUTER, "POST", "/api/user/sign_in", MGMT_AUTH, mgmt_sign_in,
	  "AnyRouter check-in (config sign_in_style: success|ret)" },
	{ P_ONEFAM, "GET", "/api/log/self", MGMT_AUTH, mgmt_log_self,
	  "usage log: type 2 consume, 4 check-in" },
	{ P_DONEHUB, "POST", "/api/user/agree_terms", MGMT_AUTH,
	  mgmt_agree_terms, "Done Hub: accept the user agreement" },
	{ P_ONEFAM, "GET", "/api/token/search", MGMT_AUTH, mgmt_token_search,
	  "tokens by ?keyword= (name) and ?token= (key)" },
	{ P_ONEFAM, "GET", "/api/token/", MGMT_AUTH, mgmt_token_list,
	  "token list in the platform's paging shape" },
	{ P_ONEFAM, "GET", "/api/token/:id", MGMT_AUTH, mgmt_token_get,
	  "one token (key masked if config mask_keys)" },
	{ P_NEWAPI|P_ANYROUTER, "POST", "/api/token/:id/key", MGMT_AUTH,
	  mgmt_token_key, "reveal the full key: data.key" },
	{ P_ONEFAM, "POST", "/api/token/", MGMT_AUTH, mgmt_token_create,
	  "create: no key (New API, One Hub), token (One API), {id,key} "
	  "(Done Hub)" },
	{ P_ONEFAM, "PUT", "/api/token/", MGMT_AUTH, mgmt_token_update,
	  "update by body id; ?status_only=1 changes status only" },
	{ P_ONEFAM, "DELETE", "/api/token/:id", MGMT_AUTH, mgmt_token_delete,
	  "delete; unknown id: record not found" },

	/* Sub2API. */
	{ P_SUB2API, "POST", "/api/v1/auth/login", 0, mgmt_sub2api_login,
	  "{email,password} -> access_token (JWT), refresh_token, user" },
	{ P_SUB2API, "POST", "/api/v1/auth/refresh", 0, mgmt_sub2api_refresh,
	  "{refresh_token} -> a new pair (the old refresh token dies)" },
	{ P_SUB2API, "POST", "/api/v1/auth/logout", MGMT_JWT,
	  mgmt_sub2api_logout, "drop the JWT" },
	{ P_SUB2API, "GET", "/api/v1/auth/me", MGMT_JWT, mgmt_sub2api_me,
	  "the user: balance in USD" },
	{ P_SUB2API, "GET", "/api/v1/user/profile", MGMT_JWT, mgmt_sub2api_me,
	  "same as /api/v1/auth/me" },
	{ P_SUB2API, "GET", "/api/v1/keys", MGMT_JWT, mgmt_sub2api_keys,
	  "keys: {items,total,page,page_size,pages}" },
	{ P_SUB2API, "POST", "/api/v1/keys", MGMT_JWT, mgmt_sub2api_key_create,
	  "create {name,group_id,custom_key,quota}: returns the full key" },
	{ P_SUB2API, "GET", "/api/v1/keys/:id", MGMT_JWT, mgmt_sub2api_key_get,
	  "one key" },
	{ P_SUB2API, "PUT", "/api/v1/keys/:id", MGMT_JWT,
	  mgmt_sub2api_key_update, "update name, group_id, status" },
	{ P_SUB2API, "DELETE", "/api/v1/keys/:id", MGMT_JWT,
	  mgmt_sub2api_key_delete, "delete a key" },
	{ P_SUB2API, "GET", "/api/v1/groups/available", MGMT_JWT,
	  mgmt_sub2api_groups, "groups with platform and rate_multiplier" },
	{ P_SUB2API, "GET", "/api/v1/subscriptions/summary", MGMT_JWT,
	  mgmt_sub2api_subs, "subscription summary (none active)" },
	{ P_SUB2API, "GET", "/api/v1/settings/public", 0,
	  mgmt_sub2api_settings, "public settings" },
	{ P_SUB2API, "GET", "/health", 0, mgmt_sub2api_health,
	  "{\"status\":\"ok\"}" },
	{ P_SUB2API, "GET", "/setup/status", 0, mgmt_sub2api_setup,
	  "needs_setup false" },
};

size_t
mgmt_table_size(void)
{
	return (nitems(mgmt_table));
}
