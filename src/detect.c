/*
 * Platform detection for `site add --platform auto` and `site detect`:
 * which relay platform a URL runs, and the evidence for it, from public
 * GETs only (no credentials, so Turnstile and logins do not matter).
 * This file only asks and decides; it stores nothing.
 *
 * The fingerprint (upstream-apis.md section 10): the keys of the data in
 * GET /api/status name the One-API fork; a plain-text 404 there plus
 * Sub2API's /api/v1/settings/public or /health names Sub2API; the error
 * type of an unauthenticated GET /v1/models names the family when the
 * status page says nothing; the host name, system_name and the <title>
 * of "/" are hints; an OpenAI- or Anthropic-shaped /v1/models is the
 * generic fallback. Every reply is fetched at most once, when a rule
 * first needs it.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter.h"
#include "buf.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

#define DETECT_TIMEOUT	15	/* seconds per probe */

/* The public paths detection may ask for. */
enum detect_path {
	DETECT_STATUS,
	DETECT_MODELS,
	DETECT_ROOT,
	DETECT_SETTINGS,
	DETECT_HEALTH,
	DETECT_NPATHS
};

static const char *const detect_paths[DETECT_NPATHS] = {
	"/api/status",
	"/v1/models",
	"/",
	"/api/v1/settings/public",
	"/health",
};

struct detect_reply {
	int		 done;		/* asked */
	int		 ok;		/* an HTTP reply came */
	int		 waf;		/* a WAF or Cloudflare challenge */
	long		 status;
	json_t		*json;		/* the body, if it is JSON */
	char		*title;		/* <title> of an HTML body */
};

struct detect_ctx {
	struct adapter_acct	 a;
	char			 host[256];	/* lower case */
	int			 waf_tried;	/* an Aliyun page was solved */
	int			 waf_solved;	/* and the site then answered */
	struct detect_reply	 r[DETECT_NPATHS];
	json_t			*evidence;	/* of the rule being tried */
};

struct detect_rule;
typedef int (*detect_match_cb)(struct detect_ctx *,
    const struct detect_rule *);

struct detect_rule {
	const char		*platform;	/* adapter_table name */
	detect_match_cb		 match;
	const char *const	*keys;		/* any in /api/status data */
	const char		*status_name;	/* or in its system_name */
	const char		*hint;		/* host, system_name or title */
	const char		*confirm;	/* /v1/models error type/code */
};

/* Lower case without blanks, '-' and '_': "Done-Hub" -> "donehub". */
static void
detect_squash(const char *s, char *out, size_t size)
{
	size_t	n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < size; s++) {
		if (strchr(" \t-_", *s) == NULL)
			out[n++] = tolower((unsigned char)*s);
	}
	out[n] = '\0';
}

static int
detect_has(const char *s, const char *word)
{
	char	sq[512];

	detect_squash(s, sq, sizeof sq);
	return (strstr(sq, word) != NULL);
}

static void
detect_host(const char *url, char *out, size_t size)
{
	const char	*p, *at;
	size_t		 n, i;

	p = (p = strstr(url, "://")) != NULL ? p + 3 : url;
	n = strcspn(p, "/?#");
	if ((at = memchr(p, '@', n)) != NULL) {
		n -= at + 1 - p;
		p = at + 1;
	}
	n = strcspn(p, ":/?#") < n ? strcspn(p, ":/?#") : n;
	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		out[i] = tolower((unsigned char)p[i]);
	out[n] = '\0';
}

/*
 * At most max bytes of UTF-8 text s, not ending inside a character: the
 * length to print.
 */
static int
detect_cut(const char *s, size_t max)
{
	size_t	n = strlen(s);

	if (n <= max)
		return ((int)n);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return ((int)n);
}

/*
 * The text of <title>...</title>, trimmed; owned, or NULL. It goes into
 * the evidence and messages, which are JSON: what is not UTF-8 becomes
 * '?' and control characters blanks.
 */
static char *
detect_title(const char *b)
{
	const char	*p, *q;
	char		*t;
	size_t		 i;

	if ((p = strcasestr(b, "<title")) == NULL ||
	    (p = strchr(p, '>')) == NULL)
		return (NULL);
	p++;
	if ((q = strcasestr(p, "</title")) == NULL)
		return (NULL);
	p += strspn(p, " \t\r\n");
	while (q > p && strchr(" \t\r\n", q[-1]) != NULL)
		q--;
	if (q <= p)
		return (NULL);
	t = jx_utf8_clean(p, q - p);
	for (i = 0; t[i] != '\0'; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			t[i] = ' ';
	return (t);
}

/*
 * The reply for a path, fetched the first time. An unreachable site is
 * a fact like any other here; only detect_platform() decides it is
 * fatal for the first request.
 */
static struct detect_reply *
detect_get(struct detect_ctx *c, enum detect_path which, struct err *e)
{
	struct detect_reply	*d = &c->r[which];
	struct adapter_resp	 r;
	struct err		 e2 = { ERR_OK, NULL };

	if (d->done)
		return (d);
	d->done = 1;
	if (adapter_http(&c->a, "GET", detect_paths[which], NULL, NULL, &r,
	    e != NULL ? e : &e2) != 0) {
		err_clear(&e2);
		return (d);
	}
	/*
	 * An Aliyun acw_sc__v2 page is solved once, as the AnyRouter adapter
	 * does, and the request repeated; the cookie then goes with every
	 * later probe. Only public pages are asked for, so the cookie is
	 * the WAF's, not a credential.
	 */
	if (adapter_is_waf(&r) && !r.cloudflare && !c->waf_tried) {
		c->waf_tried = 1;
		if (adapter_waf_solve(&c->a, &r, &e2) == 0) {
			adapter_resp_free(&r);
			if (adapter_http(&c->a, "GET", detect_paths[which],
			    NULL, NULL, &r, &e2) != 0) {
				err_clear(&e2);
				return (d);
			}
			c->waf_solved = !adapter_is_waf(&r);
		}
		err_clear(&e2);
	}
	d->ok = 1;
	d->status = r.status;
	d->waf = adapter_is_waf(&r);
	if (!d->waf && adapter_json(&r, detect_paths[which], &e2) == 0)
		d->json = json_incref(r.json);
	else if (!d->waf)
		d->title = detect_title(buf_cstr(&r.body));
	err_clear(&e2);
	adapter_resp_free(&r);
	return (d);
}

static void
detect_say(struct detect_ctx *c, const char *fmt, const char *arg)
{
	char	*s;

	xasprintf(&s, fmt, arg);
	json_array_append_new(c->evidence, json_string(s));
	free(s);
}

/* Sub2API's codes are upper case; the One-API family's types are not. */
static void
detect_say_models(struct detect_ctx *c, const char *t)
{
	detect_say(c, isupper((unsigned char)*t) ?
	    "/v1/models error code %s" : "/v1/models error type %s", t);
}

/* data of a {success:true} /api/status, or NULL. */
static json_t *
detect_status_data(struct detect_ctx *c)
{
	struct detect_reply	*d = detect_get(c, DETECT_STATUS, NULL);
	json_t			*data;

	if (d->json == NULL || !jx_bool(d->json, "success"))
		return (NULL);
	data = json_object_get(d->json, "data");
	return (json_is_object(data) ? data : NULL);
}

/* The family an unauthenticated /v1/models names: error.type or code. */
static const char *
detect_models_type(struct detect_ctx *c)
{
	struct detect_reply	*d = detect_get(c, DETECT_MODELS, NULL);
	const char		*t;

	if (d->json == NULL)
		return (NULL);
	if ((t = jx_str(json_object_get(d->json, "error"), "type")) != NULL)
		return (t);
	return (jx_str(d->json, "code"));
}

/* The hint word in the host, /api/status system_name or the page title. */
static int
detect_hinted(struct detect_ctx *c, const char *hint)
{
	struct detect_reply	*d;
	const char		*name;

	if (detect_has(c->host, hint)) {
		detect_say(c, "host contains %s", hint);
		return (1);
	}
	name = jx_str(detect_status_data(c), "system_name");
	if (name != NULL && detect_has(name, hint)) {
		detect_say(c, "/api/status system_name is \"%s\"", name);
		return (1);
	}
	d = detect_get(c, DETECT_ROOT, NULL);
	if (d->title != NULL && detect_has(d->title, hint)) {
		detect_say(c, "page title is \"%s\"", d->title);
		return (1);
	}
	return (0);
}

/* The official endpoints, known by host alone: no request. */
static int
detect_vendor(struct detect_ctx *c, const struct detect_rule *rule)
{
	if (strcmp(c->host, rule->hint) != 0)
		return (0);
	detect_say(c, "host is %s", rule->hint);
	return (1);
}

/* An Aliyun WAF challenge on /api/status, and the host names the site. */
static int
detect_waf(struct detect_ctx *c, const struct detect_rule *rule)
{
	if (!detect_get(c, DETECT_STATUS, NULL)->waf ||
	    !detect_has(c->host, rule->hint))
		return (0);
	detect_say(c, "host contains %s", rule->hint);
	detect_say(c, "%s answers with a WAF challenge page", "/api/status");
	return (1);
}

/*
 * The status page was behind an Aliyun page that could be solved, and it
 * has New API's keys: of the platforms, only AnyRouter sits behind that
 * WAF, and only its adapter gets through it.
 */
static int
detect_waf_solved(struct detect_ctx *c, const struct detect_rule *rule)
{
	json_t	*data;
	size_t	 i;

	if ((data = detect_status_data(c)) == NULL || !c->waf_solved)
		return (0);
	for (i = 0; rule->keys[i] != NULL; i++) {
		if (json_object_get(data, rule->keys[i]) == NULL)
			continue;
		detect_say(c, "%s was behind an Aliyun WAF page (solved)",
		    "/api/status");
		detect_say(c, "/api/status has %s", rule->keys[i]);
		return (1);
	}
	return (0);
}

/* Sub2API: no /api/status (gin's text 404), but its own public routes. */
static int
detect_sub2api(struct detect_ctx *c, __unused const struct detect_rule *rule)
{
	struct detect_reply	*d = detect_get(c, DETECT_STATUS, NULL);
	json_t			*code;

	if (!d->ok || d->waf || d->json != NULL)
		return (0);
	d = detect_get(c, DETECT_SETTINGS, NULL);
	code = json_object_get(d->json, "code");
	if (json_is_integer(code) && json_integer_value(code) == 0 &&
	    json_is_object(json_object_get(d->json, "data"))) {
		detect_say(c, "%s is not JSON", "/api/status");
		detect_say(c, "%s answers {code: 0, data}",
		    "/api/v1/settings/public");
		return (1);
	}
	d = detect_get(c, DETECT_HEALTH, NULL);
	if (d->status == 200 && json_is_string(json_object_get(d->json,
	    "status")) && strcmp(jx_str(d->json, "status"), "ok") == 0) {
		detect_say(c, "%s is not JSON", "/api/status");
		detect_say(c, "%s answers {\"status\": \"ok\"}", "/health");
		return (1);
	}
	return (0);
}

/* Fingerprint keys in the data of /api/status (plus a name hint). */
static int
detect_status(struct detect_ctx *c, const struct detect_rule *rule)
{
	json_t		*data = detect_status_data(c);
	const char	*name;
	size_t		 i;

	if (data == NULL)
		return (0);
	for (i = 0; rule->keys != NULL && rule->keys[i] != NULL; i++) {
		if (json_object_get(data, rule->keys[i]) == NULL)
			continue;
		if (rule->hint != NULL && !detect_hinted(c, rule->hint))
			return (0);
		detect_say(c, "/api/status has %s", rule->keys[i]);
		return (1);
	}
	if (rule->status_name == NULL)
		return (0);
	if ((name = jx_str(data, "system_name")) != NULL &&
	    detect_has(name, rule->status_name)) {
		detect_say(c, "/api/status system_name is \"%s\"", name);
		return (1);
	}
	if ((name = jx_str(data, "version")) != NULL &&
	    detect_has(name, rule->status_name)) {
		detect_say(c, "/api/status version is \"%s\"", name);
		return (1);
	}
	return (0);
}

/* One API: chat_link and a boolean oidc, none of the forks' keys. */
static int
detect_oneapi(struct detect_ctx *c, __unused const struct detect_rule *rule)
{
	json_t	*data = detect_status_data(c);

	if (data == NULL || json_object_get(data, "chat_link") == NULL ||
	    !json_is_boolean(json_object_get(data, "oidc")))
		return (0);
	detect_say(c, "/api/status has %s", "chat_link and oidc");
	return (1);
}

/* The family's error type in an unauthenticated /v1/models. */
static int
detect_relay(struct detect_ctx *c, const struct detect_rule *rule)
{
	const char	*t = detect_models_type(c);

	if (t == NULL || strcmp(t, rule->confirm) != 0)
		return (0);
	if (rule->hint != NULL && !detect_hinted(c, rule->hint))
		return (0);
	detect_say_models(c, t);
	return (1);
}

/* Only a name: in the host, system_name or page title. */
static int
detect_name(struct detect_ctx *c, const struct detect_rule *rule)
{
	return (detect_hinted(c, rule->hint));
}

static int
detect_openai(struct detect_ctx *c, __unused const struct detect_rule *rule)
{
	json_t	*j = detect_get(c, DETECT_MODELS, NULL)->json;

	if (json_is_object(json_object_get(j, "error")) &&
	    jx_str(j, "type") == NULL) {
		detect_say(c, "%s answers with an OpenAI-style error",
		    "/v1/models");
		return (1);
	}
	if (json_is_array(json_object_get(j, "data")) &&
	    jx_str(j, "object") != NULL) {
		detect_say(c, "%s answers with an OpenAI-style list",
		    "/v1/models");
		return (1);
	}
	return (0);
}

static int
detect_claude(struct detect_ctx *c, __unused const struct detect_rule *rule)
{
	json_t		*j = detect_get(c, DETECT_MODELS, NULL)->json;
	const char	*t = jx_str(j, "type");

	if (t == NULL || strcmp(t, "error") != 0 ||
	    !json_is_object(json_object_get(j, "error")))
		return (0);
	detect_say(c, "%s answers with an Anthropic-style error",
	    "/v1/models");
	return (1);
}

static const char *const detect_veloera_keys[] = {
	"check_in_enabled", NULL
};
static const char *const detect_donehub_keys[] = {
	"GeminiAPIEnabled", "ClaudeAPIEnabled", "linuxDo_oauth",
	"max_log_query_days", NULL
};
static const char *const detect_onehub_keys[] = {
	"PaymentUSDRate", "SafeToolName", "UptimeEnabled", "oidc_auth",
	"lark_login", NULL
};
static const char *const detect_newapi_keys[] = {
	"setup", "self_use_mode_enabled", "demo_site_enabled",
	"enable_drawing", "quota_display_type", "checkin_enabled",
	"docs_link", NULL
};

/*
 * The rules, tried in order from specific to generic; the first match
 * wins. Forks before their parents (Veloera and the Hubs carry New API
 * or One Hub keys too, and Done Hub carries One Hub's), fingerprints
 * before names, names before the plain OpenAI/Anthropic fallback.
 */
static const struct detect_rule detect_rule_table[] = {
	{ .platform = "openai", .match = detect_vendor,
	    .hint = "api.openai.com" },
	{ .platform = "claude", .match = detect_vendor,
	    .hint = "api.anthropic.com" },
	{ .platform = "anyrouter", .match = detect_waf,
	    .hint = "anyrouter" },
	{ .platform = "anyrouter", .match = detect_waf_solved,
	    .keys = detect_newapi_keys,
	    .confirm = "new_api_error" },
	{ .platform = "sub2api", .match = detect_sub2api,
	    .confirm = "API_KEY_REQUIRED" },
	{ .platform = "veloera", .match = detect_status,
	    .keys = detect_veloera_keys,
	    .status_name = "veloera",
	    .confirm = "veloera_error" },
	{ .platform = "done-hub", .match = detect_status,
	    .keys = detect_donehub_keys,
	    .confirm = "one_hub_error" },
	{ .platform = "one-hub", .match = detect_status,
	    .keys = detect_onehub_keys,
	    .confirm = "one_hub_error" },
	{ .platform = "anyrouter", .match = detect_status,
	    .keys = detect_newapi_keys,
	    .hint = "anyrouter",
	    .confirm = "new_api_error" },
	{ .platform = "new-api", .match = detect_status,
	    .keys = detect_newapi_keys,
	    .confirm = "new_api_error" },
	{ .platform = "one-api", .match = detect_oneapi,
	    .confirm = "one_api_error" },
	{ .platform = "sub2api", .match = detect_relay,
	    .confirm = "API_KEY_REQUIRED" },
	{ .platform = "veloera", .match = detect_relay,
	    .confirm = "veloera_error" },
	{ .platform = "done-hub", .match = detect_relay,
	    .confirm = "one_hub_error",
	    .hint = "donehub" },
	{ .platform = "one-hub", .match = detect_relay,
	    .confirm = "one_hub_error" },
	{ .platform = "anyrouter", .match = detect_relay,
	    .confirm = "new_api_error",
	    .hint = "anyrouter" },
	{ .platform = "new-api", .match = detect_relay,
	    .confirm = "new_api_error" },
	{ .platform = "one-api", .match = detect_relay,
	    .confirm = "one_api_error" },
	{ .platform = "anyrouter", .match = detect_name,
	    .hint = "anyrouter" },
	{ .platform = "done-hub", .match = detect_name,
	    .hint = "donehub" },
	{ .platform = "one-hub", .match = detect_name,
	    .hint = "onehub" },
	{ .platform = "veloera", .match = detect_name,
	    .hint = "veloera" },
	{ .platform = "sub2api", .match = detect_name,
	    .hint = "sub2api" },
	{ .platform = "new-api", .match = detect_name,
	    .hint = "newapi" },
	{ .platform = "new-api", .match = detect_name,
	    .hint = "voapi" },
	{ .platform = "new-api", .match = detect_name,
	    .hint = "superapi" },
	{ .platform = "new-api", .match = detect_name,
	    .hint = "rixapi" },
	{ .platform = "new-api", .match = detect_name,
	    .hint = "neoapi" },
	{ .platform = "one-api", .match = detect_name,
	    .hint = "oneapi" },
	{ .platform = "openai", .match = detect_openai },
	{ .platform = "claude", .match = detect_claude },
};

/* One line on what a probed path said, for the "cannot tell" message. */
static void
detect_describe(struct detect_ctx *c, struct buf *b)
{
	struct detect_reply	*d;
	size_t			 i;

	for (i = 0; i < DETECT_NPATHS; i++) {
		d = &c->r[i];
		if (!d->done)
			continue;
		buf_printf(b, "%s%s: ", b->len > 0 ? "; " : "",
		    detect_paths[i]);
		if (!d->ok)
			buf_printf(b, "no reply");
		else if (d->waf)
			buf_printf(b, "HTTP %ld, a WAF challenge page",
			    d->status);
		else if (d->json != NULL)
			buf_printf(b, "HTTP %ld, JSON of no known platform",
			    d->status);
		else if (d->title != NULL)
			buf_printf(b, "HTTP %ld, a page titled \"%.*s\"",
			    d->status, detect_cut(d->title, 60), d->title);
		else
			buf_printf(b, "HTTP %ld, not JSON", d->status);
	}
}

/*
 * Which platform url runs: *platform is an adapter_table name (static),
 * *evidence an owned JSON array of short reasons. Fails with
 * ERR_UPSTREAM when the site does not answer or nothing is recognisable,
 * and ERR_BLOCKED when a challenge page hides it; the message then says
 * what each probe saw, and *evidence is NULL.
 */
int
detect_platform(const char *url, const char *proxy, char *const *site_headers,
    const char **platform, json_t **evidence, struct err *e)
{
	struct detect_ctx	 c;
	const struct detect_rule *rule = NULL;
	struct buf		 b;
	const char		*t;
	char			*cause;
	size_t			 i;
	int			 rv = -1;

	*platform = NULL;
	*evidence = NULL;
	memset(&c, 0, sizeof c);
	c.a.url = url;
	c.a.proxy = proxy;
	c.a.site_headers = site_headers;
	c.a.timeout_sec = DETECT_TIMEOUT;
	detect_host(url, c.host, sizeof c.host);
	c.evidence = json_array();

	/* Vendor hosts need no request; everything else needs an answer. */
	for (i = 0; i < nitems(detect_rule_table); i++) {
		if (detect_rule_table[i].match != detect_vendor)
			break;
		if (detect_vendor(&c, &detect_rule_table[i])) {
			rule = &detect_rule_table[i];
			goto found;
		}
	}
	if (!detect_get(&c, DETECT_STATUS, e)->ok) {
		cause = e->msg;
		e->msg = NULL;
		err_set(e, ERR_UPSTREAM, "cannot detect the platform of %s: "
		    "%s", url, cause != NULL ? cause : "no reply");
		free(cause);
		goto out;
	}
	for (; i < nitems(detect_rule_table); i++) {
		json_array_clear(c.evidence);
		if (detect_rule_table[i].match(&c, &detect_rule_table[i])) {
			rule = &detect_rule_table[i];
			break;
		}
	}
	if (rule == NULL) {
		buf_init(&b, 4096);
		detect_describe(&c, &b);
		err_set(e, c.r[DETECT_STATUS].waf ? ERR_BLOCKED : ERR_UPSTREAM,
		    "cannot tell which platform %s runs (%s); pass --platform",
		    url, buf_cstr(&b));
		buf_free(&b);
		goto out;
	}
	/* A decision from the status page: does /v1/models agree? */
	if (rule->confirm != NULL && rule->match != detect_relay &&
	    (t = detect_models_type(&c)) != NULL &&
	    strcmp(t, rule->confirm) == 0)
		detect_say_models(&c, t);
found:
	*platform = rule->platform;
	*evidence = c.evidence;
	c.evidence = NULL;
	rv = 0;
out:
	vault_secret_free(c.a.waf_cookie);
	json_decref(c.evidence);
	for (i = 0; i < DETECT_NPATHS; i++) {
		json_decref(c.r[i].json);
		free(c.r[i].title);
	}
	return (rv);
}
