/*
 * The personality table: which platform the fake relay pretends to be, and
 * the constants that differ between platforms (headers, texts, paging, key
 * shapes, /api/status fingerprints). It owns the current personality, set
 * once at startup; it must not hold any mutable state beyond that.
 */
#include "config.h"

#include <string.h>

#include "fakerelay.h"

static const struct persona	*persona_current;

static void
persona_status_newapi(json_t *d)
{
	json_object_set_new(d, "quota_display_type", json_string("USD"));
	json_object_set_new(d, "usd_exchange_rate", json_real(7.3));
	json_object_set_new(d, "setup", json_true());
	json_object_set_new(d, "self_use_mode_enabled", json_false());
	json_object_set_new(d, "demo_site_enabled", json_false());
	json_object_set_new(d, "enable_drawing", json_true());
	json_object_set_new(d, "docs_link", json_string(""));
	json_object_set_new(d, "passkey_login", json_false());
	json_object_set_new(d, "checkin_enabled",
	    json_boolean(state_cfg_bool("checkin_enabled")));
}

static void
persona_status_anyrouter(json_t *d)
{
	persona_status_newapi(d);
	/* AnyRouter checks in through sign_in; it still says enabled. */
	json_object_set_new(d, "linuxdo_oauth", json_true());
	json_object_set_new(d, "github_oauth", json_true());
}

static void
persona_status_veloera(json_t *d)
{
	json_object_set_new(d, "setup", json_true());
	json_object_set_new(d, "check_in_enabled",
	    json_boolean(state_cfg_bool("checkin_enabled")));
}

static void
persona_status_oneapi(json_t *d)
{
	json_object_set_new(d, "chat_link", json_string(""));
	json_object_set_new(d, "oidc", json_false());
	json_object_set_new(d, "lark_client_id", json_string(""));
	json_object_set_new(d, "wechat_login", json_false());
}

static void
persona_status_onehub(json_t *d)
{
	json_object_set_new(d, "chat_links", json_string("[]"));
	json_object_set_new(d, "telegram_bot", json_string(""));
	json_object_set_new(d, "oidc_auth", json_false());
	json_object_set_new(d, "lark_login", json_false());
	json_object_set_new(d, "PaymentUSDRate", json_real(7.3));
	json_object_set_new(d, "PaymentMinAmount", json_integer(1));
	json_object_set_new(d, "RechargeDiscount", json_string(""));
	json_object_set_new(d, "EnableSafe", json_false());
	json_object_set_new(d, "SafeToolName", json_string(""));
	json_object_set_new(d, "SafeKeyWords", json_array());
	json_object_set_new(d, "UserInvoiceMonth", json_false());
	json_object_set_new(d, "UptimeDomain", json_string(""));
	json_object_set_new(d, "UptimePageName", json_string(""));
	json_object_set_new(d, "UptimeEnabled", json_false());
}

static void
persona_status_donehub(json_t *d)
{
	persona_status_onehub(d);
	json_object_set_new(d, "GeminiAPIEnabled", json_true());
	json_object_set_new(d, "ClaudeAPIEnabled", json_true());
	json_object_set_new(d, "linuxDo_oauth", json_false());
	json_object_set_new(d, "linuxDo_client_id", json_string(""));
	json_object_set_new(d, "invite_code_register", json_false());
	json_object_set_new(d, "user_agreement_enabled", json_false());
	json_object_set_new(d, "privacy_policy_enabled", json_false());
	json_object_set_new(d, "quota_remind_threshold", json_integer(0));
	json_object_set_new(d, "builtin_chat_enabled", json_false());
	json_object_set_new(d, "language_switch_prompt_enabled", json_false());
	json_object_set_new(d, "max_log_query_days", json_integer(30));
}

/* Order does not matter: names are matched exactly. */
const struct persona persona_table[] = {
	{ .name = "new-api", .bit = P_NEWAPI, .system_name = "Mock New API",
	  .version = "v0.9.0-mock", .user_header = "New-Api-User",
	  .error_type = "new_api_error", .checkin_done = "今日已签到",
	  .token_list = TL_ITEMS, .key_style = KEY_ALNUM48,
	  .quota_status = 403, .status_add = persona_status_newapi,
	  .help = "New API (QuantumNous): New-Api-User header, paged tokens, "
	  "check-in, 2FA, masked keys" },
	{ .name = "anyrouter", .bit = P_ANYROUTER,
	  .system_name = "Mock AnyRouter", .version = "v0.9.0-anyrouter",
	  .user_header = "New-Api-User", .error_type = "new_api_error",
	  .checkin_done = "今日已签到", .token_list = TL_ITEMS,
	  .key_style = KEY_ALNUM48, .quota_status = 403,
	  .status_add = persona_status_anyrouter,
	  .help = "AnyRouter: New API plus sign_in check-in and the Aliyun "
	  "WAF gate" },
	{ .name = "veloera", .bit = P_VELOERA, .system_name = "Veloera",
	  .version = "v0.3.0-veloera-mock", .user_header = "Veloera-User",
	  .error_type = "veloera_error", .checkin_done = "你今天已经签到过了",
	  .token_list = TL_ARRAY, .key_style = KEY_ALNUM48,
	  .quota_status = 403, .status_add = persona_status_veloera,
	  .help = "Veloera: Veloera-User header, check_in, array token list" },
	{ .name = "one-api", .bit = P_ONEAPI, .system_name = "One API",
	  .version = "v0.6.10-mock", .user_header = NULL,
	  .error_type = "one_api_error", .checkin_done = NULL,
	  .token_list = TL_FIXED10, .key_style = KEY_ALNUM48,
	  .quota_status = 403, .status_add = persona_status_oneapi,
	  .help = "One API: no user header, no check-in, no /api/pricing" },
	{ .name = "one-hub", .bit = P_ONEHUB, .system_name = "One Hub",
	  .version = "v1.0.0-onehub-mock", .user_header = NULL,
	  .error_type = "one_hub_error", .checkin_done = NULL,
	  .token_list = TL_HUB, .key_style = KEY_HUB, .quota_status = 402,
	  .status_add = persona_status_onehub,
	  .help = "One Hub: {data,page,size,total_count} tokens, "
	  "/api/available_model, /claude/v1/messages, 402" },
	{ .name = "done-hub", .bit = P_DONEHUB, .system_name = "Done Hub",
	  .version = "v1.0.0-donehub-mock", .user_header = NULL,
	  .error_type = "one_hub_error", .checkin_done = NULL,
	  .token_list = TL_HUB, .key_style = KEY_HUB, .quota_status = 402,
	  .status_add = persona_status_donehub,
	  .help = "Done Hub: One Hub plus create returning {id,key}" },
	{ .name = "sub2api", .bit = P_SUB2API, .system_name = "Sub2API",
	  .version = "v0.1.50-mock", .user_header = NULL,
	  .error_type = "api_error", .checkin_done = NULL,
	  .token_list = TL_SUB2API, .key_style = KEY_SUB2API,
	  .quota_status = 403, .status_add = NULL,
	  .help = "Sub2API: /api/v1 JWT login and refresh, {code,message,data}" },
	{ .name = "openai", .bit = P_OPENAI, .system_name = "OpenAI",
	  .version = "", .user_header = NULL,
	  .error_type = "invalid_request_error", .checkin_done = NULL,
	  .token_list = TL_ITEMS, .key_style = KEY_OPENAI,
	  .quota_status = 429, .status_add = NULL,
	  .help = "plain OpenAI API: /v1 only, Bearer key" },
	{ .name = "claude", .bit = P_CLAUDE, .system_name = "Anthropic",
	  .version = "", .user_header = NULL, .error_type = "api_error",
	  .checkin_done = NULL, .token_list = TL_ITEMS,
	  .key_style = KEY_CLAUDE, .quota_status = 400, .status_add = NULL,
	  .help = "plain Anthropic API: /v1/messages, /v1/models, x-api-key" },
};

size_t
persona_count(void)
{
	return (nitems(persona_table));
}

const struct persona *
persona_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(persona_table); i++) {
		if (strcmp(persona_table[i].name, name) == 0)
			return (&persona_table[i]);
	}
	return (NULL);
}

const struct persona *
persona_get(void)
{
	return (persona_current != NULL ? persona_current : &persona_table[0]);
}

void
persona_set(const struct persona *p)
{
	persona_current = p;
}
