/*
 * Backups of other products, converted into an open metapi backup
 * document: the Node metapi's (format 2.x, plaintext secrets) and the
 * ALL-API-Hub browser extension's exports (v1 and v2). Pure: JSON in,
 * JSON out, with a warning for everything that could not be carried over.
 * What the converter keeps is checked again when the document is applied.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backup.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof ((a)[0]))
#endif

/* Platform names the other products use, and ours. */
static const struct {
	const char	*theirs;
	const char	*ours;
} backup_platforms[] = {
	{ "new-api", "new-api" }, { "newapi", "new-api" },
	{ "new_api", "new-api" }, { "wong-gongyi", "new-api" },
	{ "one-api", "one-api" }, { "oneapi", "one-api" },
	{ "one-hub", "one-hub" }, { "onehub", "one-hub" },
	{ "done-hub", "done-hub" }, { "donehub", "done-hub" },
	{ "veloera", "veloera" }, { "anyrouter", "anyrouter" },
	{ "sub2api", "sub2api" }, { "openai", "openai" },
	{ "openai-compatible", "openai" }, { "claude", "claude" },
	{ "anthropic", "claude" },
};

/* Node settings with a metapi equivalent. */
static const struct {
	const char	*node;
	const char	*ours;
} backup_node_settings[] = {
	{ "checkin_cron", "checkin_cron" },
	{ "checkin_schedule_mode", "checkin_schedule_mode" },
	{ "checkin_interval_hours", "checkin_interval_hours" },
	{ "balance_refresh_cron", "balance_refresh_cron" },
	{ "daily_summary_cron", "daily_summary_cron" },
	{ "log_cleanup_cron", "log_cleanup_cron" },
	{ "log_cleanup_retention_days", "log_retention_days" },
	{ "routing_fallback_unit_cost", "routing_fallback_unit_cost" },
	{ "proxy_first_byte_timeout_sec", "proxy_first_byte_timeout_sec" },
	{ "token_router_failure_cooldown_max_sec", "failure_cooldown_max_sec" },
	{ "system_proxy_url", "system_proxy_url" },
	{ "notify_cooldown_sec", "notify_cooldown_sec" },
};

/* The five routing factors of Node's routing_weights object. */
static const struct {
	const char	*node;
	const char	*ours;
} backup_node_weights[] = {
	{ "baseWeightFactor", "routing_base_weight_factor" },
	{ "valueScoreFactor", "routing_value_score_factor" },
	{ "costWeight", "routing_cost_weight" },
	{ "balanceWeight", "routing_balance_weight" },
	{ "usageWeight", "routing_usage_weight" },
};

/* Settings a Node backup carries that are notification channels here. */
static const char *const backup_node_notify_keys[] = {
	"webhook_", "bark_", "serverchan_", "telegram_", "smtp_",
};

/* Node keys never carried over: its admin login and database. */
static const char *const backup_node_ignored[] = {
	"auth_token", "db_type", "db_url", "db_ssl",
};

struct conv {
	json_t	*doc;
	json_t	*warnings;
	json_t	*site_names;	/* names given so far, to keep them unique */
};

static void
conv_warn(struct conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conv_warn(struct conv *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	json_array_append_new(c->warnings, json_string(s));
	free(s);
}

static void
conv_add(struct conv *c, const char *section, json_t *item)
{
	json_array_append_new(json_object_get(c->doc, section), item);
}

/* A trimmed string field, or NULL when absent or empty. */
static const char *
conv_str(const json_t *o, const char *key)
{
	const char	*s = jx_str(o, key);

	if (s == NULL)
		return (NULL);
	while (*s == ' ' || *s == '\t')
		s++;
	return (*s != '\0' ? s : NULL);
}

static int
conv_bool(const json_t *o, const char *key, int def)
{
	json_t	*v = json_object_get(o, key);

	if (json_is_boolean(v))
		return (json_is_true(v));
	if (json_is_integer(v))
		return (json_integer_value(v) != 0);
	return (def);
}

static double
conv_num(const json_t *o, const char *key, double def)
{
	json_t		*v = json_object_get(o, key);
	const char	*s;
	char		*end;
	double		 d;

	if (json_is_number(v))
		return (json_number_value(v));
	if ((s = json_string_value(v)) != NULL) {
		d = strtod(s, &end);
		if (end != s && *end == '\0')
			return (d);
	}
	return (def);
}

/* A field that is JSON either as itself or as a string holding JSON. */
static json_t *
conv_json(const json_t *o, const char *key)
{
	json_t		*v = json_object_get(o, key);

	if (json_is_string(v))
		return (json_loads(json_string_value(v), JSON_DECODE_ANY,
		    NULL));
	return (v != NULL && !json_is_null(v) ? json_incref(v) : NULL);
}

static const char *
conv_platform(const char *theirs)
{
	size_t	i;

	if (theirs == NULL)
		return (NULL);
	for (i = 0; i < nitems(backup_platforms); i++)
		if (strcasecmp(backup_platforms[i].theirs, theirs) == 0)
			return (backup_platforms[i].ours);
	return (NULL);
}

static int
conv_is_direct(const char *platform)
{
	return (strcmp(platform, "openai") == 0 ||
	    strcmp(platform, "claude") == 0);
}

/* "https://host/path/" -> "https://host": the site is its origin. */
static char *
conv_origin(const char *url)
{
	const char	*p;

	if (url == NULL || (p = strstr(url, "://")) == NULL)
		return (NULL);
	return (xstrndup(url, (p + 3 - url) + strcspn(p + 3, "/?#")));
}

/* A site name not yet used in this conversion. */
static char *
conv_site_name(struct conv *c, const char *want)
{
	char	*name;
	int	 n = 1;

	name = xstrndup(want, 60);
	while (json_object_get(c->site_names, name) != NULL ||
	    strspn(name, "0123456789") == strlen(name)) {
		free(name);
		xasprintf(&name, "%.56s-%d", want, ++n);
	}
	json_object_set_new(c->site_names, name, json_true());
	return (name);
}

/* Node keeps custom headers as a JSON object {"Name": "value"}. */
static void
conv_headers(json_t *site, json_t *hdrs)
{
	json_t		*full, *names, *v;
	const char	*k;
	char		*line, *mask, *s;

	if (!json_is_object(hdrs) || json_object_size(hdrs) == 0)
		return;
	full = json_array();
	names = json_array();
	json_object_foreach(hdrs, k, v) {
		if (!json_is_string(v))
			continue;
		xasprintf(&line, "%s: %s", k, json_string_value(v));
		json_array_append_new(full, json_string(line));
		free(line);
		mask = vault_mask(json_string_value(v));
		xasprintf(&line, "%s: %s", k, mask);
		json_array_append_new(names, json_string(line));
		free(line);
		free(mask);
	}
	s = json_dumps(full, JSON_COMPACT);
	json_object_set_new(site, "headers", json_string(s));
	json_object_set_new(site, "header_names", names);
	free(s);
	json_decref(full);
}

/* A Sub2API refresh token, as the sealed session JSON keeps it. */
static void
conv_session(json_t *acct, const char *refresh)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:s}", "refresh_token", refresh);
	s = json_dumps(o, JSON_COMPACT);
	jx_set_str(acct, "session", s);
	explicit_bzero(s, strlen(s));
	free(s);
	json_decref(o);
}

/* --- Detection --------------------------------------------------------- */

static int
conv_node_section_ok(const json_t *s)
{
	return (json_is_object(s) &&
	    json_is_array(json_object_get(s, "sites")) &&
	    json_is_array(json_object_get(s, "accounts")));
}

static const json_t *
conv_node_section(const json_t *raw)
{
	const json_t	*s;

	if (conv_node_section_ok(raw))
		return (raw);
	if (conv_node_section_ok(s = json_object_get(raw, "accounts")))
		return (s);
	if (conv_node_section_ok(s = json_object_get(json_object_get(raw,
	    "data"), "accounts")))
		return (s);
	return (NULL);
}

static int
conv_is_aah(const json_t *raw)
{
	json_t	*rows, *r;
	size_t	 i;

	rows = json_object_get(json_object_get(raw, "accounts"), "accounts");
	if (!json_is_array(rows))
		return (json_is_object(json_object_get(raw,
		    "apiCredentialProfiles")));
	json_array_foreach(rows, i, r)
		if (json_object_get(r, "site_url") != NULL ||
		    json_object_get(r, "site_type") != NULL ||
		    json_object_get(r, "account_info") != NULL)
			return (1);
	return (0);
}

/* "metapi", "metapi-node", "all-api-hub-v1", "all-api-hub-v2" or NULL. */
const char *
backup_detect(const json_t *raw)
{
	const json_t	*acc;
	const char	*v;

	if (!json_is_object(raw))
		return (NULL);
	if ((v = jx_str(raw, "format")) != NULL)
		return (strcmp(v, BACKUP_FORMAT) == 0 ? "metapi" : NULL);
	if (conv_is_aah(raw)) {
		acc = json_object_get(raw, "accounts");
		v = jx_str(raw, "version");
		if ((v != NULL && v[0] == '2') ||
		    json_object_get(acc, "last_updated") != NULL ||
		    json_object_get(acc, "bookmarks") != NULL ||
		    json_object_get(acc, "pinnedAccountIds") != NULL ||
		    json_object_get(raw, "apiCredentialProfiles") != NULL)
			return ("all-api-hub-v2");
		return ("all-api-hub-v1");
	}
	if (conv_node_section(raw) != NULL || json_is_array(json_object_get(
	    json_object_get(raw, "preferences"), "settings")))
		return ("metapi-node");
	return (NULL);
}

/* --- The Node metapi --------------------------------------------------- */

static void
conv_node_sites(struct conv *c, const json_t *sec)
{
	json_t		*rows = json_object_get(sec, "sites"), *r, *site, *h;
	const char	*platform, *url, *name;
	long long	 id;
	char		*nm;
	size_t		 i;

	json_array_foreach(rows, i, r) {
		if (jx_int(r, "id", &id) != 0 ||
		    (url = conv_str(r, "url")) == NULL) {
			conv_warn(c, "sites[%zu] skipped: no id or url", i);
			continue;
		}
		name = conv_str(r, "name") != NULL ? conv_str(r, "name") : url;
		if ((platform = conv_platform(conv_str(r, "platform"))) ==
		    NULL) {
			conv_warn(c, "site %s skipped: platform \"%s\" is not "
			    "supported", name, conv_str(r, "platform") != NULL ?
			    conv_str(r, "platform") : "");
			continue;
		}
		nm = conv_site_name(c, name);
		site = json_pack("{s:I, s:s, s:s, s:s, s:b}", "ref",
		    (json_int_t)id, "name", nm, "url", url, "platform",
		    platform, "enabled", jx_str(r, "status") == NULL ||
		    strcmp(jx_str(r, "status"), "disabled") != 0);
		free(nm);
		if (conv_str(r, "proxyUrl") != NULL)
			jx_set_str(site, "proxy_url", conv_str(r, "proxyUrl"));
		if (conv_num(r, "globalWeight", 0) > 0)
			json_object_set_new(site, "weight",
			    json_real(conv_num(r, "globalWeight", 1)));
		if ((h = conv_json(r, "customHeaders")) != NULL) {
			conv_headers(site, h);
			json_decref(h);
		}
		conv_add(c, "sites", site);
		/* A key on the site itself is an API-key account here. */
		if (conv_str(r, "apiKey") != NULL)
			conv_add(c, "accounts", json_pack("{s:I, s:I, s:s, "
			    "s:s, s:s, s:b}", "ref", (json_int_t)-id, "site",
			    (json_int_t)id, "kind", "api_key", "credential",
			    conv_str(r, "apiKey"), "label", "site key",
			    "checkin_enabled", 0));
	}
}

static const char *
conv_site_platform(struct conv *c, long long site)
{
	json_t	*s;
	size_t	 i;

	json_array_foreach(json_object_get(c->doc, "sites"), i, s) {
		long long ref;

		if (jx_int(s, "ref", &ref) == 0 && ref == site)
			return (jx_str(s, "platform"));
	}
	return (NULL);
}

static int
conv_node_has_default(const json_t *sec, long long acct)
{
	json_t		*r;
	long long	 a;
	size_t		 i;

	json_array_foreach(json_object_get(sec, "accountTokens"), i, r)
		if (jx_int(r, "accountId", &a) == 0 && a == acct &&
		    conv_bool(r, "isDefault", 0))
			return (1);
	return (0);
}

static void
conv_node_accounts(struct conv *c, const json_t *sec)
{
	json_t		*rows = json_object_get(sec, "accounts"), *r, *a, *x;
	const char	*platform, *access, *api, *mode, *user, *kind, *cred;
	const char	*status, *refresh;
	long long	 id, site, uid;
	char		*s;
	size_t		 i;

	json_array_foreach(rows, i, r) {
		if (jx_int(r, "id", &id) != 0 || jx_int(r, "siteId", &site) !=
		    0) {
			conv_warn(c, "accounts[%zu] skipped: no id or siteId",
			    i);
			continue;
		}
		user = conv_str(r, "username");
		if ((platform = conv_site_platform(c, site)) == NULL) {
			conv_warn(c, "account %lld skipped: its site was not "
			    "imported", id);
			continue;
		}
		if (conv_str(r, "oauthProvider") != NULL) {
			conv_warn(c, "account %lld skipped: OAuth accounts are "
			    "not supported", id);
			continue;
		}
		x = conv_json(r, "extraConfig");
		access = conv_str(r, "accessToken");
		api = conv_str(r, "apiToken");
		mode = conv_str(x, "credentialMode");
		if (conv_is_direct(platform) || (mode != NULL &&
		    strcmp(mode, "apikey") == 0) || access == NULL) {
			kind = "api_key";
			cred = api != NULL ? api : access;
		} else {
			/* A session cookie has name=value; a token has not. */
			kind = strchr(access, '=') != NULL ? "cookie" :
			    "access_token";
			cred = access;
		}
		if (cred == NULL) {
			conv_warn(c, "account %lld skipped: no credential", id);
			json_decref(x);
			continue;
		}
		status = jx_str(r, "status");
		a = json_pack("{s:I, s:I, s:s, s:s, s:s, s:b}", "ref",
		    (json_int_t)id, "site", (json_int_t)site, "kind", kind,
		    "credential", cred, "status", status != NULL &&
		    (strcmp(status, "disabled") == 0 || strcmp(status,
		    "expired") == 0) ? status : "active", "checkin_enabled",
		    strcmp(kind, "api_key") != 0 &&
		    conv_bool(r, "checkinEnabled", 1));
		if (user != NULL)
			jx_set_str(a, "label", user);
		uid = (long long)conv_num(x, "platformUserId", 0);
		if (uid > 0 && strcmp(kind, "api_key") != 0) {
			xasprintf(&s, "%lld", uid);
			jx_set_str(a, "user_id", s);
			free(s);
		}
		refresh = conv_str(json_object_get(x, "sub2apiAuth"),
		    "refreshToken");
		if (refresh != NULL) {
			conv_session(a, refresh);
		}
		if (conv_num(r, "balance", -1) >= 0)
			json_object_set_new(a, "balance_usd",
			    json_real(conv_num(r, "balance", 0)));
		conv_add(c, "accounts", a);
		/* A session account's own API key becomes a token, the
		 * default unless the account marks another one. */
		if (strcmp(kind, "api_key") != 0 && api != NULL)
			conv_add(c, "tokens", json_pack("{s:I, s:I, s:s, s:s, "
			    "s:s, s:b, s:b}", "ref", (json_int_t)-id, "account",
			    (json_int_t)id, "name", "default", "token", api,
			    "source", "legacy", "enabled", 1, "is_default",
			    !conv_node_has_default(sec, id)));
		json_decref(x);
	}
}

static void
conv_node_tokens(struct conv *c, const json_t *sec)
{
	json_t		*r, *t;
	const char	*tok, *src;
	long long	 id, acct;
	size_t		 i;

	json_array_foreach(json_object_get(sec, "accountTokens"), i, r) {
		if (jx_int(r, "id", &id) != 0 || jx_int(r, "accountId",
		    &acct) != 0) {
			conv_warn(c, "accountTokens[%zu] skipped: no id or "
			    "accountId", i);
			continue;
		}
		if ((tok = conv_str(r, "token")) == NULL ||
		    strchr(tok, '*') != NULL) {
			conv_warn(c, "token %lld skipped: its value is masked "
			    "(run `metapi token sync` after the import)", id);
			continue;
		}
		src = conv_str(r, "source");
		t = json_pack("{s:I, s:I, s:s, s:s, s:s, s:b, s:b}", "ref",
		    (json_int_t)id, "account", (json_int_t)acct, "name",
		    conv_str(r, "name") != NULL ? conv_str(r, "name") : "",
		    "token", tok, "source", src != NULL && (strcmp(src,
		    "manual") == 0 || strcmp(src, "legacy") == 0) ? src :
		    "sync", "enabled", conv_bool(r, "enabled", 1),
		    "is_default", conv_bool(r, "isDefault", 0));
		if (conv_str(r, "tokenGroup") != NULL)
			jx_set_str(t, "group", conv_str(r, "tokenGroup"));
		conv_add(c, "tokens", t);
	}
}

static void
conv_node_routes(struct conv *c, const json_t *sec)
{
	json_t		*r, *rt, *map, *ch, *routes;
	const char	*pat, *strat, *alias;
	long long	 id, route, acct, tok, n;
	size_t		 i, j;
	int		 manual;

	routes = json_object_get(sec, "tokenRoutes");
	json_array_foreach(routes, i, r) {
		if (jx_int(r, "id", &id) != 0 ||
		    (pat = conv_str(r, "modelPattern")) == NULL) {
			conv_warn(c, "tokenRoutes[%zu] skipped: no id or "
			    "modelPattern", i);
			continue;
		}
		if (jx_str(r, "routeMode") != NULL &&
		    strcmp(jx_str(r, "routeMode"), "group") == 0) {
			conv_warn(c, "route %s skipped: group routes are not "
			    "supported", pat);
			continue;
		}
		strat = conv_str(r, "routingStrategy");
		if (strat == NULL || (strcmp(strat, "round_robin") != 0 &&
		    strcmp(strat, "stable_first") != 0))
			strat = "weighted";
		alias = conv_str(r, "displayName");
		map = conv_json(r, "modelMapping");
		if (!json_is_object(map)) {
			json_decref(map);
			map = json_object();
		}
		/* Node marks nothing; what a user made is what rebuilds lose. */
		manual = strncmp(pat, "re:", 3) == 0 || strpbrk(pat, "*?[") !=
		    NULL || alias != NULL || json_object_size(map) > 0;
		json_array_foreach(json_object_get(sec, "routeChannels"), j,
		    ch)
			if (jx_int(ch, "routeId", &route) == 0 && route == id &&
			    conv_bool(ch, "manualOverride", 0))
				manual = 1;
		rt = json_pack("{s:I, s:s, s:s, s:o, s:b, s:b}", "ref",
		    (json_int_t)id, "pattern", pat, "strategy", strat,
		    "model_map", map, "enabled", conv_bool(r, "enabled", 1),
		    "manual", manual);
		if (alias != NULL && strcmp(alias, pat) != 0)
			jx_set_str(rt, "alias", alias);
		conv_add(c, "routes", rt);
	}
	json_array_foreach(json_object_get(sec, "routeChannels"), i, r) {
		if (jx_int(r, "routeId", &route) != 0 || jx_int(r,
		    "accountId", &acct) != 0) {
			conv_warn(c, "routeChannels[%zu] skipped: no routeId "
			    "or accountId", i);
			continue;
		}
		ch = json_pack("{s:I, s:I, s:b, s:b}", "route",
		    (json_int_t)route, "account", (json_int_t)acct, "enabled",
		    conv_bool(r, "enabled", 1), "manual",
		    conv_bool(r, "manualOverride", 0));
		if (jx_int(r, "tokenId", &tok) == 0)
			json_object_set_new(ch, "token", json_integer(tok));
		if (conv_str(r, "sourceModel") != NULL)
			jx_set_str(ch, "source_model",
			    conv_str(r, "sourceModel"));
		if (jx_int(r, "priority", &n) == 0)
			json_object_set_new(ch, "priority", json_integer(n));
		if (jx_int(r, "weight", &n) == 0)
			json_object_set_new(ch, "weight", json_integer(n));
		conv_add(c, "channels", ch);
	}
	if (json_array_size(json_object_get(sec, "routeGroupSources")) > 0)
		conv_warn(c, "routeGroupSources skipped: group routes are not "
		    "supported");
	if (json_array_size(json_object_get(sec, "siteDisabledModels")) > 0)
		conv_warn(c, "siteDisabledModels skipped: use key model "
		    "patterns or route edits instead");
	json_array_foreach(json_object_get(sec, "manualModels"), i, r)
		if (jx_int(r, "accountId", &acct) == 0 &&
		    conv_str(r, "modelName") != NULL)
			conv_add(c, "models", json_pack("{s:I, s:s, s:b}",
			    "account", (json_int_t)acct, "model",
			    conv_str(r, "modelName"), "manual", 1));
}

/* An ISO 8601 UTC time or epoch milliseconds as epoch seconds; 0: none. */
static long long
conv_time(const json_t *v)
{
	struct tm	 tm;
	const char	*s;

	if (json_is_number(v))
		return ((long long)(json_number_value(v) / 1000));
	if ((s = json_string_value(v)) == NULL)
		return (0);
	memset(&tm, 0, sizeof tm);
	if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL &&
	    strptime(s, "%Y-%m-%d", &tm) == NULL)
		return (0);
	return ((long long)timegm(&tm));
}

static void
conv_node_keys(struct conv *c, const json_t *sec)
{
	json_t		*r, *k, *models;
	const char	*key, *name;
	long long	 n;
	char		*nm;
	size_t		 i;

	json_array_foreach(json_object_get(sec, "downstreamApiKeys"), i, r) {
		if ((key = conv_str(r, "key")) == NULL) {
			conv_warn(c, "downstreamApiKeys[%zu] skipped: no key",
			    i);
			continue;
		}
		if ((name = conv_str(r, "name")) != NULL)
			nm = xstrdup(name);
		else
			xasprintf(&nm, "node-key-%zu", i + 1);
		k = json_pack("{s:s, s:s, s:b}", "name", nm, "key", key,
		    "enabled", conv_bool(r, "enabled", 1));
		free(nm);
		if ((n = conv_time(json_object_get(r, "expiresAt"))) > 0)
			json_object_set_new(k, "expires_at", json_integer(n));
		if (conv_num(r, "maxCost", -1) > 0)
			json_object_set_new(k, "max_cost_usd",
			    json_real(conv_num(r, "maxCost", 0)));
		if (conv_num(r, "maxRequests", -1) > 0)
			json_object_set_new(k, "max_requests", json_integer(
			    (json_int_t)conv_num(r, "maxRequests", 0)));
		if (conv_num(r, "usedCost", -1) >= 0)
			json_object_set_new(k, "used_cost_usd",
			    json_real(conv_num(r, "usedCost", 0)));
		if (conv_num(r, "usedRequests", -1) >= 0)
			json_object_set_new(k, "used_requests", json_integer(
			    (json_int_t)conv_num(r, "usedRequests", 0)));
		models = conv_json(r, "supportedModels");
		if (json_is_array(models) && json_array_size(models) > 0)
			json_object_set(k, "models", models);
		json_decref(models);
		models = conv_json(r, "allowedRouteIds");
		if (json_array_size(models) > 0 || json_array_size(
		    json_object_get(r, "excludedSiteIds")) > 0)
			conv_warn(c, "key %s: its route and site restrictions "
			    "were not carried over", jx_str(k, "name"));
		json_decref(models);
		conv_add(c, "keys", k);
	}
}

static const char *
conv_setting_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return (json_string_value(v));
	if (json_is_boolean(v))
		return (json_is_true(v) ? "true" : "false");
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.17g", json_real_value(v));
	else
		return (NULL);
	return (buf);
}

/* Node's notification settings, as the channels they describe. */
static void
conv_node_notify(struct conv *c, const json_t *set)
{
	static const struct {
		const char	*kind;
		const char	*target;	/* the setting with the URL/key */
	} kinds[] = {
		{ "webhook", "webhook_url" }, { "bark", "bark_url" },
		{ "serverchan", "serverchan_key" },
		{ "telegram", "telegram_bot_token" }, { "smtp", "smtp_host" },
	};
	json_t		*args;
	const char	*t;
	char		 buf[64], key[64];
	size_t		 i;
	long long	 n;

	for (i = 0; i < nitems(kinds); i++) {
		if ((t = conv_str(set, kinds[i].target)) == NULL)
			continue;
		args = json_pack("{s:s}", "kind", kinds[i].kind);
		if (strcmp(kinds[i].kind, "smtp") == 0) {
			jx_set_str(args, "host", t);
			if (jx_int(set, "smtp_port", &n) == 0)
				json_object_set_new(args, "port",
				    json_integer(n));
			if (conv_str(set, "smtp_from") != NULL)
				jx_set_str(args, "from",
				    conv_str(set, "smtp_from"));
			if (conv_str(set, "smtp_to") != NULL)
				jx_set_str(args, "to", conv_str(set, "smtp_to"));
			if (conv_str(set, "smtp_user") != NULL)
				jx_set_str(args, "user",
				    conv_str(set, "smtp_user"));
			if (conv_str(set, "smtp_pass") != NULL)
				jx_set_str(args, "password",
				    conv_str(set, "smtp_pass"));
			jx_set_str(args, "tls", conv_bool(set, "smtp_secure",
			    0) ? "implicit" : "starttls");
		} else {
			jx_set_str(args, "target", t);
			if (strcmp(kinds[i].kind, "telegram") == 0) {
				if (conv_setting_text(json_object_get(set,
				    "telegram_chat_id"), buf, sizeof buf) !=
				    NULL)
					jx_set_str(args, "chat_id",
					    conv_setting_text(json_object_get(
					    set, "telegram_chat_id"), buf,
					    sizeof buf));
				if (jx_int(set, "telegram_message_thread_id",
				    &n) == 0 && n > 0)
					json_object_set_new(args, "thread",
					    json_integer(n));
				if (conv_str(set, "telegram_api_base_url") !=
				    NULL)
					jx_set_str(args, "api_base", conv_str(
					    set, "telegram_api_base_url"));
			}
		}
		snprintf(key, sizeof key, "%s_enabled", kinds[i].kind);
		conv_add(c, "notify", json_pack("{s:s, s:o, s:b}", "kind",
		    kinds[i].kind, "args", args, "enabled",
		    conv_bool(set, key, 1)));
	}
}

static void
conv_node_settings(struct conv *c, const json_t *list)
{
	json_t		*set, *r, *v, *settings = json_object_get(c->doc,
			    "settings");
	const char	*k, *t;
	char		 buf[64], *left = NULL, *s;
	size_t		 i, j;
	int		 known;

	/* [{key, value}] -> {key: value}, the later entry winning. */
	set = json_object();
	json_array_foreach(list, i, r)
		if ((k = jx_str(r, "key")) != NULL &&
		    (v = json_object_get(r, "value")) != NULL)
			json_object_set(set, k, v);
	json_object_foreach(set, k, v) {
		known = 0;
		for (j = 0; j < nitems(backup_node_settings); j++)
			if (strcmp(backup_node_settings[j].node, k) == 0 &&
			    (t = conv_setting_text(v, buf, sizeof buf)) !=
			    NULL) {
				jx_set_str(settings,
				    backup_node_settings[j].ours, t);
				known = 1;
			}
		if (strcmp(k, "routing_weights") == 0) {
			for (j = 0; j < nitems(backup_node_weights); j++)
				if ((t = conv_setting_text(json_object_get(v,
				    backup_node_weights[j].node), buf,
				    sizeof buf)) != NULL)
					jx_set_str(settings,
					    backup_node_weights[j].ours, t);
			known = 1;
		}
		/* Node's one global client token keeps working here. */
		if (strcmp(k, "proxy_token") == 0 && json_is_string(v) &&
		    json_string_length(v) > 0) {
			conv_add(c, "keys", json_pack("{s:s, s:O}", "name",
			    "node-proxy-token", "key", v));
			known = 1;
		}
		for (j = 0; j < nitems(backup_node_notify_keys); j++)
			if (strncmp(k, backup_node_notify_keys[j],
			    strlen(backup_node_notify_keys[j])) == 0)
				known = 1;
		for (j = 0; j < nitems(backup_node_ignored); j++)
			if (strcmp(k, backup_node_ignored[j]) == 0)
				known = 1;
		if (!known) {
			xasprintf(&s, "%s%s%s", left != NULL ? left : "",
			    left != NULL ? ", " : "", k);
			free(left);
			left = s;
		}
	}
	conv_node_notify(c, set);
	if (left != NULL)
		conv_warn(c, "Node settings without an equivalent here, not "
		    "carried over: %s", left);
	free(left);
	json_decref(set);
}

static void
conv_node(struct conv *c, const json_t *raw)
{
	const json_t	*sec = conv_node_section(raw), *prefs;

	if (sec != NULL) {
		conv_node_sites(c, sec);
		conv_node_accounts(c, sec);
		conv_node_tokens(c, sec);
		conv_node_routes(c, sec);
		conv_node_keys(c, sec);
	}
	prefs = json_object_get(raw, "preferences");
	if (!json_is_array(json_object_get(prefs, "settings")))
		prefs = json_object_get(json_object_get(raw, "data"),
		    "preferences");
	conv_node_settings(c, json_object_get(prefs, "settings"));
}

/* --- ALL-API-Hub --------------------------------------------------------- */

/* The site of url and platform, added on first sight; its ref. */
static long long
conv_aah_site(struct conv *c, const char *url, const char *platform,
    const char *name)
{
	json_t		*s;
	size_t		 i;
	char		*nm;

	json_array_foreach(json_object_get(c->doc, "sites"), i, s)
		if (strcmp(jx_str(s, "url"), url) == 0 &&
		    strcmp(jx_str(s, "platform"), platform) == 0)
			return ((long long)i + 1);
	if (name == NULL)
		name = strstr(url, "://") + 3;
	nm = conv_site_name(c, name);
	conv_add(c, "sites", json_pack("{s:I, s:s, s:s, s:s}", "ref",
	    (json_int_t)json_array_size(json_object_get(c->doc, "sites")) + 1,
	    "name", nm, "url", url, "platform", platform));
	free(nm);
	return ((long long)json_array_size(json_object_get(c->doc, "sites")));
}

/* The extension keeps New API quota in raw units: 500 000 per USD. */
static double
conv_aah_usd(const json_t *info, const char *key)
{
	double	q = conv_num(info, key, 0);

	return (q >= 10000 ? q / 500000 : q > 0 ? q : 0);
}

static void
conv_aah_accounts(struct conv *c, const json_t *raw)
{
	json_t		*rows, *r, *info, *a;
	const char	*type, *platform, *auth, *kind, *cred, *label, *refresh;
	long long	 site, uid, ref = 0;
	char		*url, *s;
	size_t		 i;

	rows = json_object_get(json_object_get(raw, "accounts"), "accounts");
	json_array_foreach(rows, i, r) {
		info = json_object_get(r, "account_info");
		label = conv_str(info, "username") != NULL ?
		    conv_str(info, "username") : conv_str(r, "username");
		if ((url = conv_origin(conv_str(r, "site_url"))) == NULL) {
			conv_warn(c, "accounts[%zu] skipped: no site_url", i);
			continue;
		}
		type = conv_str(r, "site_type");
		if ((platform = conv_platform(type)) == NULL) {
			platform = "new-api";
			conv_warn(c, "accounts[%zu]: site type \"%s\" is not "
			    "known; taken as new-api", i, type != NULL ? type :
			    "");
		}
		auth = conv_str(r, "authType") != NULL ?
		    conv_str(r, "authType") : "access_token";
		cred = NULL;
		kind = NULL;
		if (strcmp(auth, "cookie") == 0) {
			kind = "cookie";
			cred = conv_str(json_object_get(r, "cookieAuth"),
			    "sessionCookie");
		} else if (strcmp(auth, "access_token") == 0 ||
		    strcmp(auth, "api_key") == 0) {
			kind = strcmp(auth, "api_key") == 0 ||
			    conv_is_direct(platform) ? "api_key" :
			    "access_token";
			cred = conv_str(info, "access_token") != NULL ?
			    conv_str(info, "access_token") :
			    conv_str(r, "access_token");
		}
		if (kind == NULL || cred == NULL) {
			conv_warn(c, "accounts[%zu] (%s) skipped: %s", i, url,
			    kind == NULL ? "this sign-in kind cannot be "
			    "moved without logging in again" :
			    "its credential is missing");
			free(url);
			continue;
		}
		site = conv_aah_site(c, url, platform, conv_str(r,
		    "site_name"));
		free(url);
		a = json_pack("{s:I, s:I, s:s, s:s, s:s, s:b}", "ref",
		    (json_int_t)++ref, "site", (json_int_t)site, "kind", kind,
		    "credential", cred, "status", conv_bool(r, "disabled", 0) ?
		    "disabled" : "active", "checkin_enabled",
		    strcmp(kind, "api_key") != 0 && conv_bool(json_object_get(
		    r, "checkIn"), "autoCheckInEnabled", 1));
		if (label != NULL)
			jx_set_str(a, "label", label);
		uid = (long long)conv_num(info, "id", 0);
		if (uid > 0 && strcmp(kind, "api_key") != 0) {
			xasprintf(&s, "%lld", uid);
			jx_set_str(a, "user_id", s);
			free(s);
		}
		refresh = conv_str(json_object_get(r, "sub2apiAuth"),
		    "refreshToken");
		if (refresh != NULL) {
			conv_session(a, refresh);
		}
		if (conv_aah_usd(info, "quota") > 0)
			json_object_set_new(a, "balance_usd",
			    json_real(conv_aah_usd(info, "quota")));
		conv_add(c, "accounts", a);
	}
}

/* v2's stored API credentials: each an API-key account on its site. */
static void
conv_aah_profiles(struct conv *c, const json_t *raw)
{
	json_t		*r;
	const char	*type, *platform, *key, *name;
	long long	 site;
	char		*url;
	size_t		 i, ref;

	ref = json_array_size(json_object_get(c->doc, "accounts"));
	json_array_foreach(json_object_get(json_object_get(raw,
	    "apiCredentialProfiles"), "profiles"), i, r) {
		url = conv_origin(conv_str(r, "baseUrl"));
		key = conv_str(r, "apiKey");
		type = conv_str(r, "apiType");
		platform = type == NULL ? "openai" : conv_platform(type);
		if (url == NULL || key == NULL || platform == NULL) {
			conv_warn(c, "apiCredentialProfiles[%zu] skipped: %s",
			    i, platform == NULL ? "its API type is not "
			    "supported" : "no baseUrl or apiKey");
			free(url);
			continue;
		}
		name = conv_str(r, "name");
		site = conv_aah_site(c, url, platform, NULL);
		free(url);
		conv_add(c, "accounts", json_pack("{s:I, s:I, s:s, s:s, s:s, "
		    "s:b}", "ref", (json_int_t)++ref, "site", (json_int_t)site,
		    "kind", "api_key", "credential", key, "label", name != NULL ?
		    name : "profile", "checkin_enabled", 0));
	}
}

static void
conv_aah(struct conv *c, const json_t *raw)
{
	static const char *const ignored[] = { "bookmarks", "channelConfigs",
	    "tagStore", "preferences" };
	size_t	 i;

	conv_aah_accounts(c, raw);
	conv_aah_profiles(c, raw);
	for (i = 0; i < nitems(ignored); i++)
		if (json_object_get(raw, ignored[i]) != NULL ||
		    json_array_size(json_object_get(json_object_get(raw,
		    "accounts"), ignored[i])) > 0)
			conv_warn(c, "%s not carried over: metapi has no "
			    "equivalent", ignored[i]);
}

/* --- Entry --------------------------------------------------------------- */

json_t *
backup_convert(const json_t *raw, const char *format, json_t *warnings,
    struct err *e)
{
	struct conv	 c;

	c.doc = json_pack("{s:s, s:i, s:s, s:[], s:[], s:[], s:[], s:[], "
	    "s:[], s:[], s:[], s:{}}", "format", BACKUP_FORMAT, "version",
	    BACKUP_VERSION, "converted_from", format, "sites", "accounts",
	    "tokens", "models", "routes", "channels", "keys", "notify",
	    "settings");
	c.warnings = warnings;
	c.site_names = json_object();
	if (strcmp(format, "metapi-node") == 0)
		conv_node(&c, raw);
	else if (strncmp(format, "all-api-hub", 11) == 0)
		conv_aah(&c, raw);
	else {
		err_set(e, ERR_INVALID, "cannot convert a \"%s\" file", format);
		json_decref(c.doc);
		c.doc = NULL;
	}
	json_decref(c.site_names);
	return (c.doc);
}
