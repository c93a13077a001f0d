/*
 * The New API family: New API, and its relatives AnyRouter, Veloera and
 * the original One API, which differ in headers, paths and quirks. One
 * set of operations serves all four; newapi_platforms[] holds what
 * differs (user id header, check-in steps, token paging, the key reveal
 * endpoint, pricing, the Aliyun WAF). It speaks only through
 * adapter_http(), keeps secrets in vault memory and never puts one in an
 * error message or a log line.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "vault.h"
#include "xmalloc.h"

#define NEWAPI_QPU_DEFAULT	500000.0
#define NEWAPI_MAX_PAGES	50	/* token list pages read at most */
#define NEWAPI_PAGE_SIZE	100	/* the largest page New API allows */
#define NEWAPI_MAX_HEADERS	8

/* One way to check in: tried in order until one is not a 404. */
struct newapi_checkin_step {
	const char	*path;
	const char	*body;		/* JSON, or NULL for none */
	int		 xhr;		/* X-Requested-With: XMLHttpRequest */
	const char	*reward[3];	/* keys holding the reward (quota) */
};

struct newapi_platform {
	const char	*name;		/* adapter_table name */
	const char	*label;
	const char	*uid_header;	/* user id header, or NULL */
	struct newapi_checkin_step checkin[3]; /* path NULL ends */
	const char	*no_checkin;	/* message when there is none */
	int		 tok_first_page; /* p of the first token page */
	int		 tok_size_honoured; /* a short page is the last */
	int		 reveal;	/* POST /api/token/:id/key exists */
	int		 create_newapi;	/* create body has New API fields */
	int		 self_token;	/* /api/user/self may hold the token */
	int		 waf;		/* solve the Aliyun acw_sc__v2 page */
	const char	*session_models; /* model list with the session */
};

/*
 * The table. The first token page is p=0 except on AnyRouter: the older
 * array lists are 0-based, and the newer {items} lists treat p<=0 as page
 * 1, so p=0 is right for both; the shape of the reply then says how to go
 * on (section 8 of upstream-apis.md). Veloera checks in at check_in
 * (underscore) and answers the reward as data.quota in quota units; the
 * Node product's /api/user/checkin and 1e6 divisor are wrong for it.
 * AnyRouter checks in with sign_in and falls back to New API's checkin.
 */
static const struct newapi_platform newapi_platforms[] = {
	{ .name = "new-api", .label = "New API",
	  .uid_header = "New-Api-User",
	  .checkin = {
		{ "/api/user/checkin", NULL, 0,
		  { "quota_awarded", "reward", NULL } } },
	  .tok_first_page = 0, .tok_size_honoured = 1, .reveal = 1,
	  .create_newapi = 1, .self_token = 1, .waf = 0,
	  .session_models = "/api/user/models" },
	{ .name = "anyrouter", .label = "AnyRouter",
	  .uid_header = "New-Api-User",
	  .checkin = {
		{ "/api/user/sign_in", "{}", 1,
		  { "quota_awarded", "reward", NULL } },
		{ "/api/user/checkin", NULL, 0,
		  { "quota_awarded", "reward", NULL } } },
	  .tok_first_page = 1, .tok_size_honoured = 1, .reveal = 1,
	  .create_newapi = 1, .self_token = 1, .waf = 1,
	  .session_models = "/api/user/models" },
	{ .name = "veloera", .label = "Veloera",
	  .uid_header = "Veloera-User",
	  .checkin = {
		{ "/api/user/check_in", NULL, 0,
		  { "quota", "reward", NULL } } },
	  .tok_first_page = 0, .tok_size_honoured = 1, .reveal = 0,
	  .create_newapi = 1, .self_token = 1, .waf = 0,
	  .session_models = "/api/user/models" },
	{ .name = "one-api", .label = "One API",
	  .uid_header = NULL,
	  .no_checkin = "One API has no check-in",
	  .tok_first_page = 0, .tok_size_honoured = 0, .reveal = 0,
	  .create_newapi = 0, .self_token = 0, .waf = 0,
	  .session_models = "/api/user/available_models" },
};

/* nx_http() flags. */
#define NEWAPI_AUTH	0x1	/* access token and user id header */
#define NEWAPI_NOUID	0x2	/* but no user id header */

/* The built-in acw_sc__v2 constants, used when the page lacks them. */
static const int newapi_waf_pos[40] = {
	15, 35, 29, 24, 33, 16, 1, 38, 10, 9, 19, 31, 40, 27, 22, 23, 25, 13,
	6, 11, 39, 18, 20, 8, 14, 21, 32, 26, 2, 30, 7, 4, 17, 5, 3, 28, 34,
	37, 12, 36
};
static const char newapi_waf_xor[] =
    "3000176000856006061501533003690027800375";

static int	newapi_login(struct adapter_acct *, struct err *);

/*
 * The platform of an account: by adapter name; anything else (an alias
 * of New API) gets New API's rules.
 */
static const struct newapi_platform *
newapi_platform(const struct adapter_acct *a)
{
	size_t	i;

	for (i = 0; i < nitems(newapi_platforms); i++) {
		if (a->platform != NULL &&
		    strcmp(a->platform, newapi_platforms[i].name) == 0)
			return (&newapi_platforms[i]);
	}
	return (&newapi_platforms[0]);
}

static void
newapi_wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * An id that arrives as a number or as text -> owned text, or NULL. Ids
 * are numbers: they go into paths (/api/token/:id/key) and the user id
 * header, so text that is not one is no id.
 */
static char *
newapi_id(json_t *v)
{
	const char	*t;
	char		*s;

	if (json_is_integer(v)) {
		xasprintf(&s, "%lld", (long long)json_integer_value(v));
		return (s);
	}
	if ((t = json_string_value(v)) != NULL && *t != '\0' &&
	    strlen(t) <= 20 && t[strspn(t, "0123456789")] == '\0')
		return (xstrdup(t));
	return (NULL);
}

static double
newapi_num(json_t *o, const char *key, int *has)
{
	double	v = 0;

	if (jx_real(o, key, &v) == 0) {
		if (has != NULL)
			*has = 1;
		return (v);
	}
	if (has != NULL)
		*has = 0;
	return (0);
}

/*
 * "name=value" for one cookie out of "a=1; b=2" (adapter_resp.set_cookie),
 * owned and to be wiped, or NULL.
 */
static char *
newapi_cookie_get(const char *jar, const char *name)
{
	size_t		 n = strlen(name), len;
	const char	*p = jar;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " ;");
		len = strcspn(p, ";");
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			while (len > 0 && p[len - 1] == ' ')
				len--;
			if (len == n + 1)
				return (NULL);
			return (xstrndup(p, len));
		}
		p += len;
	}
	return (NULL);
}

static int
newapi_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* Does s start with 40 hex digits followed by a quote? */
static int
newapi_hex40(const char *s, char quote)
{
	int	i;

	for (i = 0; i < 40; i++)
		if (newapi_hex((unsigned char)s[i]) < 0)
			return (0);
	return (s[40] == quote);
}

/* arg1 from "var arg1='<40 hex>'" into out[41]. */
static int
newapi_waf_arg1(const char *page, char *out)
{
	const char	*p;

	if ((p = strstr(page, "arg1=")) == NULL)
		return (-1);
	p += 5;
	p += strspn(p, " ");
	if ((*p != '\'' && *p != '"') || !newapi_hex40(p + 1, *p))
		return (-1);
	memcpy(out, p + 1, 40);
	out[40] = '\0';
	return (0);
}

/*
 * The position table from "for(var m=[0xf,0x23,...]" when the page has
 * one that is a permutation of 1..40; else the built-in table.
 */
static void
newapi_waf_table(const char *page, int *pos)
{
	const char	*p;
	char		*end;
	int		 seen[41], i;
	long		 v;

	memcpy(pos, newapi_waf_pos, sizeof newapi_waf_pos);
	if ((p = strstr(page, "for(var m=[")) == NULL)
		return;
	p += strlen("for(var m=[");
	memset(seen, 0, sizeof seen);
	for (i = 0; i < 40; i++) {
		v = strtol(p, &end, 0);
		if (end == p || v < 1 || v > 40 || seen[v])
			goto builtin;
		seen[v] = 1;
		pos[i] = (int)v;
		p = end + strspn(end, " ");
		if (*p != (i == 39 ? ']' : ','))
			goto builtin;
		p++;
	}
	return;
builtin:
	memcpy(pos, newapi_waf_pos, sizeof newapi_waf_pos);
}

/* The XOR key: the page's other 40-hex string literal, else built in. */
static void
newapi_waf_findkey(const char *page, const char *arg1, char *key)
{
	const char	*p;

	for (p = page; *p != '\0'; p++) {
		if ((*p == '\'' || *p == '"') && newapi_hex40(p + 1, *p) &&
		    strncasecmp(p + 1, arg1, 40) != 0) {
			memcpy(key, p + 1, 40);
			key[40] = '\0';
			return;
		}
	}
	memcpy(key, newapi_waf_xor, 41);
}

/*
 * Solve Aliyun's acw_sc__v2 challenge without running the page: character
 * i of arg1 goes to the output position j where pos[j] == i + 1, and the
 * result is XORed with the key one hex byte at a time. The cookie kept in
 * a->waf_cookie is the WAF's own cookies from Set-Cookie (acw_tc,
 * cdn_sec_tc) plus acw_sc__v2.
 */
int
adapter_waf_solve(struct adapter_acct *a, const struct adapter_resp *r,
    struct err *e)
{
	const char	*page = r->body.data != NULL ? r->body.data : "";
	char		 arg1[41], key[41], perm[41], val[41], *tc, *sec, *c1;
	char		*c2, *ck;
	int		 pos[40], i, j, rv;

	if (newapi_waf_arg1(page, arg1) != 0) {
		err_set(e, ERR_BLOCKED, "an Aliyun WAF page without arg1: "
		    "cannot solve it");
		return (-1);
	}
	newapi_waf_table(page, pos);
	newapi_waf_findkey(page, arg1, key);
	for (j = 0; j < 40; j++)
		perm[j] = arg1[pos[j] - 1];
	for (i = 0; i < 40; i += 2) {
		snprintf(val + i, 3, "%02x",
		    (newapi_hex(perm[i]) << 4 | newapi_hex(perm[i + 1])) ^
		    (newapi_hex(key[i]) << 4 | newapi_hex(key[i + 1])));
	}
	val[40] = '\0';

	tc = newapi_cookie_get(r->set_cookie, "acw_tc");
	sec = newapi_cookie_get(r->set_cookie, "cdn_sec_tc");
	c1 = adapter_join_cookies(tc, sec);
	xasprintf(&ck, "acw_sc__v2=%s", val);
	c2 = adapter_join_cookies(c1, ck);
	rv = adapter_set_secret(&a->waf_cookie, c2);
	newapi_wipe_free(tc);
	newapi_wipe_free(sec);
	newapi_wipe_free(c1);
	newapi_wipe_free(c2);
	newapi_wipe_free(ck);
	if (rv != 0) {
		err_set(e, ERR_INTERNAL, "cannot keep the WAF cookie");
		return (-1);
	}
	return (0);
}

/*
 * One call to the site: the session cookie goes with every call (by
 * adapter_http()); with NEWAPI_AUTH also "Authorization: Bearer <access
 * token>" and the platform's user id header. A Cloudflare challenge is
 * ERR_BLOCKED here. An Aliyun WAF page is solved once and the request
 * repeated on platforms that have one; a second page (or one on another
 * platform) is left for adapter_json() to report as blocked.
 */
static int
newapi_http(const struct newapi_platform *p, struct adapter_acct *a,
    const char *method, const char *path, int flags, const char *extra,
    const char *body, struct adapter_resp *r, struct err *e)
{
	const char	*hdrs[NEWAPI_MAX_HEADERS];
	char		*auth = NULL, *uid = NULL;
	size_t		 n = 0;
	int		 attempt, rv = -1;

	if ((flags & NEWAPI_AUTH) && a->access_token != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", a->access_token);
		hdrs[n++] = auth;
	}
	if ((flags & NEWAPI_AUTH) && !(flags & NEWAPI_NOUID) &&
	    p->uid_header != NULL && a->user_id != NULL) {
		xasprintf(&uid, "%s: %s", p->uid_header, a->user_id);
		hdrs[n++] = uid;
	}
	if (extra != NULL)
		hdrs[n++] = extra;
	hdrs[n] = NULL;

	for (attempt = 0;; attempt++) {
		if (adapter_http(a, method, path, hdrs, body, r, e) != 0)
			goto out;
		if (r->cloudflare) {
			err_set(e, ERR_BLOCKED, "%s %s: blocked by a "
			    "Cloudflare challenge page (HTTP %ld); add the "
			    "account with --cookie from a browser", method,
			    path, r->status);
			adapter_resp_free(r);
			goto out;
		}
		if (!p->waf || attempt > 0 || !adapter_is_waf(r))
			break;
		if (adapter_waf_solve(a, r, e) != 0) {
			adapter_resp_free(r);
			goto out;
		}
		adapter_resp_free(r);
	}
	rv = 0;
out:
	newapi_wipe_free(auth);
	free(uid);
	return (rv);
}

/*
 * Quota units per USD: a->quota_per_unit, else data.quota_per_unit from
 * GET /api/status, kept in a->quota_per_unit for the caller to persist. A
 * status without the field means the build default, 500000, which is kept
 * too; a failed status call gives 500000 for this time only, so a later
 * call asks again.
 */
static double
newapi_qpu(const struct newapi_platform *p, struct adapter_acct *a)
{
	struct adapter_resp	 r;
	struct err		 e = { ERR_OK, NULL };
	json_t			*data;
	double			 q;

	if (a->quota_per_unit > 0)
		return (a->quota_per_unit);
	if (newapi_http(p, a, "GET", "/api/status", 0, NULL, NULL, &r,
	    &e) != 0) {
		err_clear(&e);
		return (NEWAPI_QPU_DEFAULT);
	}
	if (adapter_envelope(&r, "status", &data, &e) != 0) {
		err_clear(&e);
		adapter_resp_free(&r);
		return (NEWAPI_QPU_DEFAULT);
	}
	if (jx_real(data, "quota_per_unit", &q) != 0 || q <= 0)
		q = NEWAPI_QPU_DEFAULT;
	a->quota_per_unit = q;
	adapter_resp_free(&r);
	return (q);
}

/*
 * Make sure there is something to authenticate with: a cookie, an access
 * token, or a password to log in with now.
 */
static int
newapi_session(struct adapter_acct *a, struct err *e)
{
	if (a->cookie != NULL || a->access_token != NULL)
		return (0);
	if (a->username != NULL && a->password != NULL)
		return (newapi_login(a, e));
	err_set(e, ERR_INVALID, "the account has no session cookie, access "
	    "token or password");
	return (-1);
}

/* Does a failed reply complain about the user id header? */
static int
newapi_uid_complaint(const struct newapi_platform *p, const struct err *e)
{
	return (p->uid_header != NULL && e->msg != NULL &&
	    strcasestr(e->msg, p->uid_header) != NULL);
}

/*
 * Learn the user id when the platform wants it in a header and the account
 * does not know it (an access token or cookie added by hand). GET
 * /api/user/self without the header works on forks that skip the check
 * and gives data.id. Where the site insists on the header, a password
 * login yields the id; without a password the user has to supply it.
 * (The Node product also decodes the gob in the session cookie and probes
 * likely ids; we do neither.) With self non-NULL, a successful reply to
 * the probe is handed back so that the caller need not ask again.
 */
static int
newapi_uid(const struct newapi_platform *p, struct adapter_acct *a,
    struct adapter_resp *self, struct err *e)
{
	struct adapter_resp	 r;
	json_t			*data;
	char			*id;

	if (self != NULL)
		memset(self, 0, sizeof *self);
	if (p->uid_header == NULL || a->user_id != NULL)
		return (0);
	if (newapi_http(p, a, "GET", "/api/user/self",
	    NEWAPI_AUTH | NEWAPI_NOUID, NULL, NULL, &r, e) != 0)
		return (-1);
	if (adapter_envelope(&r, "user info", &data, e) == 0) {
		if ((id = newapi_id(json_object_get(data, "id"))) == NULL) {
			err_set(e, ERR_UPSTREAM, "user info: the reply has no "
			    "user id");
			goto fail;
		}
		adapter_set_secret(&a->user_id, id);
		free(id);
		a->changed |= ADAPTER_CHANGED_USER_ID;
		if (self != NULL)
			*self = r;
		else
			adapter_resp_free(&r);
		return (0);
	}
	if (!newapi_uid_complaint(p, e))
		goto fail;
	adapter_resp_free(&r);
	if (a->username != NULL && a->password != NULL) {
		err_clear(e);
		return (newapi_login(a, e));
	}
	err_clear(e);
	err_set(e, ERR_NEEDS_LOGIN, "needs manual login: the site wants the "
	    "account's user id (%s header), which is not known; log in with a "
	    "password or set the user id", p->uid_header);
	return (-1);
fail:
	adapter_resp_free(&r);
	return (-1);
}

/* Session and user id, as every authenticated operation needs them. */
static int
newapi_ready(const struct newapi_platform *p, struct adapter_acct *a,
    struct adapter_resp *self, struct err *e)
{
	if (self != NULL)
		memset(self, 0, sizeof *self);
	if (newapi_session(a, e) != 0)
		return (-1);
	return (newapi_uid(p, a, self, e));
}

/*
 * After a password login: an access token, where getting one rotates
 * nobody's. Older builds put the user's access_token in /api/user/self;
 * a non-empty one is taken as it is. GET /api/user/token REPLACES the
 * user's token and breaks any other tool that holds the old one, so it is
 * called only when /api/user/self says outright that the user has none
 * (access_token present and empty or null). Newer builds omit the field;
 * then nobody can tell, so no token is minted and the session cookie
 * (30 days, renewed by logging in again) stays the credential. Failures
 * here are ignored: the login itself succeeded.
 */
static void
newapi_login_token(const struct newapi_platform *p, struct adapter_acct *a)
{
	struct adapter_resp	 r;
	struct err		 e = { ERR_OK, NULL };
	json_t			*data, *v;
	const char		*tok;

	if (!p->self_token || a->access_token != NULL)
		return;
	if (newapi_http(p, a, "GET", "/api/user/self", NEWAPI_AUTH, NULL, NULL,
	    &r, &e) != 0)
		goto out;
	if (adapter_envelope(&r, "user info", &data, &e) != 0)
		goto out;
	v = json_object_get(data, "access_token");
	if (v == NULL)
		goto out;
	if (json_is_string(v) && *json_string_value(v) != '\0') {
		if (adapter_word_ok(json_string_value(v)) &&
		    adapter_set_secret(&a->access_token,
		    json_string_value(v)) == 0)
			a->changed |= ADAPTER_CHANGED_SESSION;
		goto out;
	}
	if (!json_is_null(v) && !json_is_string(v))
		goto out;
	adapter_resp_free(&r);
	if (newapi_http(p, a, "GET", "/api/user/token", NEWAPI_AUTH, NULL, NULL,
	    &r, &e) != 0)
		goto out;
	if (adapter_envelope(&r, "access token", &data, &e) != 0)
		goto out;
	if ((tok = json_string_value(data)) != NULL && adapter_word_ok(tok) &&
	    adapter_set_secret(&a->access_token, tok) == 0)
		a->changed |= ADAPTER_CHANGED_SESSION;
out:
	err_clear(&e);
	adapter_resp_free(&r);
}

/* Login replies that mean a human has to act. */
static const char *const newapi_manual_words[] = {
	"turnstile", "关闭了密码登录", "password login is disabled",
};

static int
newapi_login_manual(const char *msg, struct err *e)
{
	size_t	i;

	if (msg == NULL)
		return (0);
	for (i = 0; i < nitems(newapi_manual_words); i++) {
		if (strcasestr(msg, newapi_manual_words[i]) == NULL)
			continue;
		if (i == 0)
			err_set(e, ERR_NEEDS_LOGIN, "needs manual login: the "
			    "site requires a Turnstile check; add the account "
			    "with --cookie or --access-token");
		else
			err_set(e, ERR_NEEDS_LOGIN, "needs manual login: "
			    "password login is disabled on the site (%s); add "
			    "the account with --cookie or --access-token", msg);
		return (1);
	}
	return (0);
}

/* POST a JSON body holding secrets; the dumped text is wiped. */
static int
newapi_post_secret(const struct newapi_platform *p, struct adapter_acct *a,
    const char *path, json_t *body, struct adapter_resp *r, struct err *e)
{
	char	*s;
	int	 rv;

	s = json_dumps(body, JSON_COMPACT);
	jx_wipe(body);
	json_decref(body);
	if (s == NULL) {
		err_set(e, ERR_INTERNAL, "cannot encode the request");
		return (-1);
	}
	rv = newapi_http(p, a, "POST", path, 0, NULL, s, r, e);
	newapi_wipe_free(s);
	return (rv);
}

/*
 * POST /api/user/login {username, password}. The credential is the
 * "session" cookie from Set-Cookie; the user id is data.id. With TOTP on,
 * the reply is data.require_2fa and a half-way session, with which POST
 * /api/user/login/2fa {code} finishes. The old cookie is not sent and is
 * put back if the login fails.
 */
static int
newapi_login(struct adapter_acct *a, struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	struct adapter_resp		 r;
	json_t				*data;
	char				*old = a->cookie, *session = NULL;
	char				*nsess, *id = NULL;
	const char			*msg;

	memset(&r, 0, sizeof r);
	if (a->username == NULL || a->password == NULL) {
		err_set(e, ERR_INVALID, "logging in needs a username and a "
		    "password");
		return (-1);
	}
	a->cookie = NULL;
	if (newapi_post_secret(p, a, "/api/user/login", json_pack("{s:s, s:s}",
	    "username", a->username, "password", a->password), &r, e) != 0)
		goto fail;
	if (adapter_json(&r, "login", e) != 0)
		goto fail;
	msg = jx_str(r.json, "message");
	if (!jx_bool(r.json, "success") && newapi_login_manual(msg, e))
		goto fail;
	if (adapter_envelope(&r, "login", &data, e) != 0)
		goto fail;
	session = newapi_cookie_get(r.set_cookie, "session");

	if (jx_bool(data, "require_2fa")) {
		if (a->twofa == NULL) {
			err_set(e, ERR_NEEDS_LOGIN, "needs manual login: "
			    "two-factor code required (pass --2fa CODE)");
			goto fail;
		}
		if (session == NULL) {
			err_set(e, ERR_UPSTREAM, "login: the site asked for a "
			    "two-factor code but set no session cookie");
			goto fail;
		}
		if (adapter_set_secret(&a->cookie, session) != 0) {
			err_set(e, ERR_INTERNAL, "cannot keep the session");
			goto fail;
		}
		adapter_resp_free(&r);
		if (newapi_post_secret(p, a, "/api/user/login/2fa",
		    json_pack("{s:s}", "code", a->twofa), &r, e) != 0)
			goto fail;
		if (adapter_json(&r, "two-factor login", e) != 0)
			goto fail;
		if (!jx_bool(r.json, "success") && r.status < 400) {
			msg = jx_str(r.json, "message");
			err_set(e, ERR_UNAUTHORIZED, "two-factor login: %s",
			    msg != NULL && *msg != '\0' ? msg :
			    "the code was rejected");
			goto fail;
		}
		if (adapter_envelope(&r, "two-factor login", &data, e) != 0)
			goto fail;
		if ((nsess = newapi_cookie_get(r.set_cookie, "session")) !=
		    NULL) {
			newapi_wipe_free(session);
			session = nsess;
		}
	}
	if (session == NULL) {
		err_set(e, ERR_UPSTREAM, "login: the site set no session "
		    "cookie");
		goto fail;
	}
	if ((id = newapi_id(json_object_get(data, "id"))) == NULL) {
		err_set(e, ERR_UPSTREAM, "login: the reply has no user id");
		goto fail;
	}
	vault_secret_free(a->cookie);
	a->cookie = NULL;
	if (adapter_set_secret(&a->cookie, session) != 0 ||
	    adapter_set_secret(&a->user_id, id) != 0) {
		err_set(e, ERR_INTERNAL, "cannot keep the session");
		goto fail;
	}
	a->changed |= ADAPTER_CHANGED_SESSION | ADAPTER_CHANGED_USER_ID;
	vault_secret_free(old);
	newapi_wipe_free(session);
	free(id);
	adapter_resp_free(&r);
	newapi_login_token(p, a);
	return (0);
fail:
	vault_secret_free(a->cookie);
	a->cookie = old;
	newapi_wipe_free(session);
	free(id);
	adapter_resp_free(&r);
	return (-1);
}

/*
 * GET /api/user/self: quota is the REMAINING balance (never quota minus
 * used_quota); both are quota units, divided by quota_per_unit.
 */
static int
newapi_user(struct adapter_acct *a, struct adapter_user *u, struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	struct adapter_resp		 r;
	json_t				*data;
	double				 qpu, v;
	long long			 n;
	const char			*s;
	int				 has;

	memset(u, 0, sizeof *u);
	if (newapi_ready(p, a, &r, e) != 0)
		return (-1);
	if (r.json == NULL) {
		if (newapi_http(p, a, "GET", "/api/user/self", NEWAPI_AUTH,
		    NULL, NULL, &r, e) != 0)
			return (-1);
	}
	if (adapter_envelope(&r, "user info", &data, e) != 0)
		goto fail;
	if (!json_is_object(data)) {
		err_set(e, ERR_UPSTREAM, "user info: the reply has no user");
		goto fail;
	}
	qpu = newapi_qpu(p, a);
	u->user_id = newapi_id(json_object_get(data, "id"));
	if (u->user_id != NULL && a->user_id == NULL &&
	    adapter_set_secret(&a->user_id, u->user_id) == 0)
		a->changed |= ADAPTER_CHANGED_USER_ID;
	if ((s = jx_str(data, "username")) != NULL)
		u->username = xstrdup(s);
	if ((s = jx_str(data, "group")) != NULL)
		u->group = xstrdup(s);
	v = newapi_num(data, "quota", &has);
	if (has) {
		u->balance_usd = adapter_usd(v, qpu);
		u->has |= ADAPTER_HAS_BALANCE;
	}
	v = newapi_num(data, "used_quota", &has);
	if (has) {
		u->used_usd = adapter_usd(v, qpu);
		u->has |= ADAPTER_HAS_USED;
	}
	v = newapi_num(data, "today_income", &has);
	if (has) {
		u->today_income_usd = adapter_usd(v, qpu);
		u->has |= ADAPTER_HAS_INCOME;
	}
	if (jx_int(data, "request_count", &n) == 0) {
		u->request_count = n;
		u->has |= ADAPTER_HAS_REQUESTS;
	}
	adapter_user_finite(u);
	adapter_resp_free(&r);
	return (0);
fail:
	adapter_user_free(u);
	adapter_resp_free(&r);
	return (-1);
}

/* The reward of a successful check-in, in quota units, if the reply has one. */
static int
newapi_checkin_reward(const struct newapi_checkin_step *st, json_t *top,
    double *q)
{
	json_t	*data = json_object_get(top, "data");
	size_t	 i;

	for (i = 0; i < nitems(st->reward) && st->reward[i] != NULL; i++) {
		if (jx_real(data, st->reward[i], q) == 0 ||
		    jx_real(top, st->reward[i], q) == 0)
			return (1);
	}
	return (0);
}

/*
 * Check in. The steps of the platform are tried in order; a 404 (or, for
 * a step with a fallback, an HTML page) moves to the next. A reply counts
 * as success with success:true, or AnyRouter's ret:1 or code:0, and its
 * message is "message" or "msg". adapter_checkin_classify() sorts the
 * rest; a failure that is really a rejected credential is an error.
 */
static int
newapi_checkin(struct adapter_acct *a, struct adapter_checkin *c,
    struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	const struct newapi_checkin_step *st = &p->checkin[0];
	struct adapter_resp		 r;
	json_t				*top, *data;
	const char			*msg, *b;
	long long			 n;
	double				 q;
	size_t				 i;
	int				 ok, last;

	memset(c, 0, sizeof *c);
	memset(&r, 0, sizeof r);
	if (p->checkin[0].path == NULL) {
		c->outcome = CHECKIN_SKIPPED;
		c->message = xstrdup(p->no_checkin);
		return (0);
	}
	if (newapi_ready(p, a, NULL, e) != 0)
		return (-1);
	for (i = 0; i < nitems(p->checkin) && p->checkin[i].path != NULL;
	    i++) {
		st = &p->checkin[i];
		last = i + 1 == nitems(p->checkin) ||
		    p->checkin[i + 1].path == NULL;
		adapter_resp_free(&r);
		if (newapi_http(p, a, "POST", st->path, NEWAPI_AUTH, st->xhr ?
		    "X-Requested-With: XMLHttpRequest" : NULL, st->body, &r,
		    e) != 0)
			goto blocked;
		if (r.status == 404 && !last)
			continue;
		b = buf_cstr(&r.body);
		b += strspn(b, " \t\r\n");
		if (!last && *b == '<' && !adapter_is_waf(&r))
			continue;
		break;
	}
	if (adapter_json(&r, "check-in", e) != 0) {
		if (r.status != 404 || adapter_is_waf(&r))
			goto blocked;
		err_clear(e);
		c->outcome = CHECKIN_SKIPPED;
		c->message = xstrdup("the site has no check-in (HTTP 404)");
		adapter_resp_free(&r);
		return (0);
	}
	top = r.json;
	ok = jx_bool(top, "success") ||
	    (jx_int(top, "ret", &n) == 0 && n == 1) ||
	    (jx_int(top, "code", &n) == 0 && n == 0);
	if ((msg = jx_str(top, "message")) == NULL || *msg == '\0')
		msg = jx_str(top, "msg");
	if (msg == NULL && jx_str(json_object_get(top, "error"),
	    "message") != NULL)
		msg = jx_str(json_object_get(top, "error"), "message");
	c->outcome = adapter_checkin_classify(r.status, ok, msg);
	if (msg != NULL && *msg != '\0')
		c->message = xstrdup(msg);
	/* adapter_envelope() parses the body again: top and msg go stale. */
	if (c->outcome == CHECKIN_FAILED &&
	    (r.status == 401 || r.status == 403 || !ok) &&
	    adapter_envelope(&r, "check-in", &data, e) != 0) {
		if (e->code == ERR_UNAUTHORIZED || e->code == ERR_BLOCKED)
			goto fail;
		err_clear(e);
	}
	if (c->outcome == CHECKIN_SUCCESS &&
	    newapi_checkin_reward(st, r.json, &q)) {
		c->reward_usd = adapter_usd(q, newapi_qpu(p, a));
		c->has_reward = 1;
	}
	adapter_checkin_finite(c);
	adapter_resp_free(&r);
	return (0);
blocked:
	/* A challenge page skips the check-in (adapter.h); not other errors. */
	if (e->code == ERR_BLOCKED) {
		c->outcome = CHECKIN_SKIPPED;
		c->message = e->msg;
		e->msg = NULL;
		err_clear(e);
		adapter_resp_free(&r);
		return (0);
	}
fail:
	adapter_checkin_free(c);
	adapter_resp_free(&r);
	return (-1);
}

static int
newapi_masked(const char *k)
{
	return (strchr(k, '*') != NULL || strstr(k, "\xe2\x80\xa2") != NULL);
}

/*
 * A key as the relay takes it. Sites store keys without "sk-" and show
 * them with it; the relay strips one leading "sk-", so both work. We keep
 * the "sk-" form, as the UI shows it and clients expect, and never double
 * it. Returned in vault memory.
 */
static char *
newapi_full_key(const char *raw)
{
	char	*s, *k;

	if (strncmp(raw, "sk-", 3) == 0)
		return (vault_secret_dup(raw));
	xasprintf(&s, "sk-%s", raw);
	k = vault_secret_dup(s);
	newapi_wipe_free(s);
	return (k);
}

/* Has the list got a token with this id already? */
static int
newapi_token_seen(const struct adapter_tokens *t, const char *id)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].remote_id != NULL && strcmp(t->v[i].remote_id,
		    id) == 0)
			return (1);
	return (0);
}

static void
newapi_token_fill(struct adapter_token *t, json_t *o, char *id, double qpu)
{
	const char	*s;
	long long	 n;
	double		 v;

	t->remote_id = id;
	t->name = xstrdup((s = jx_str(o, "name")) != NULL ? s : "");
	if ((s = jx_str(o, "group")) != NULL && *s != '\0')
		t->group = xstrdup(s);
	t->enabled = jx_int(o, "status", &n) == 0 ? n == 1 : 1;
	t->unlimited = jx_bool(o, "unlimited_quota");
	if (jx_real(o, "remain_quota", &v) == 0)
		t->remain_usd = adapter_usd(v, qpu);
	if (jx_int(o, "expired_time", &n) == 0 && n > 0)
		t->expires_at = n;
	if ((s = jx_str(o, "key")) == NULL || *s == '\0') {
		t->masked = 1;
		return;
	}
	if (newapi_masked(s)) {
		t->masked = 1;
		if (strncmp(s, "sk-", 3) == 0)
			t->mask = xstrdup(s);
		else
			xasprintf(&t->mask, "sk-%s", s);
		return;
	}
	/* A key that could not go into a header is no key. */
	if (!adapter_word_ok(s)) {
		t->masked = 1;
		return;
	}
	t->key = newapi_full_key(s);
	t->mask = vault_mask(t->key);
}

/*
 * POST /api/token/:id/key -> data.key, the clear key of a masked one.
 * Returns 0 when revealed, -1 when the site cannot (or would not).
 */
static int
newapi_reveal(const struct newapi_platform *p, struct adapter_acct *a,
    struct adapter_token *t)
{
	struct adapter_resp	 r;
	struct err		 e = { ERR_OK, NULL };
	json_t			*data;
	const char		*k;
	char			*path;
	int			 rv = -1;

	xasprintf(&path, "/api/token/%s/key", t->remote_id);
	if (newapi_http(p, a, "POST", path, NEWAPI_AUTH, NULL, NULL, &r,
	    &e) != 0)
		goto out;
	if (adapter_envelope(&r, "token key", &data, &e) != 0)
		goto out;
	k = jx_str(data, "key");
	if (k == NULL && json_is_string(data))
		k = json_string_value(data);
	if (!adapter_word_ok(k) || newapi_masked(k))
		goto out;
	t->key = newapi_full_key(k);
	free(t->mask);
	t->mask = vault_mask(t->key);
	t->masked = 0;
	rv = 0;
out:
	err_clear(&e);
	adapter_resp_free(&r);
	free(path);
	return (rv);
}

/*
 * GET /api/token/?p=N&size=100, every page. Two shapes: newer builds
 * answer {page, page_size, total, items} with 1-based pages; older ones
 * (and Veloera, One API) a plain array with 0-based pages (One API's page
 * size is fixed by the server). The first page is asked for as p=0 (see
 * the table); the reply's shape then decides the next p. A page that adds
 * no new token ends the walk, so a server that ignores p cannot loop us.
 * Masked keys are revealed afterwards where the platform can; if it
 * cannot, the token stays masked with no key.
 */
static int
newapi_tokens(struct adapter_acct *a, struct adapter_tokens *t, struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	struct adapter_resp		 r;
	json_t				*data, *items, *o;
	char				 path[64], *id;
	double				 qpu;
	long long			 total = -1, page = p->tok_first_page;
	size_t				 i, added, got;
	int				 pages, paged, can_reveal = p->reveal;

	memset(t, 0, sizeof *t);
	memset(&r, 0, sizeof r);
	if (newapi_ready(p, a, NULL, e) != 0)
		return (-1);
	qpu = newapi_qpu(p, a);
	for (pages = 0; pages < NEWAPI_MAX_PAGES; pages++) {
		snprintf(path, sizeof path, "/api/token/?p=%lld&size=%d", page,
		    NEWAPI_PAGE_SIZE);
		if (newapi_http(p, a, "GET", path, NEWAPI_AUTH, NULL, NULL, &r,
		    e) != 0)
			goto fail;
		if (adapter_envelope(&r, "token list", &data, e) != 0)
			goto fail;
		paged = 0;
		if (json_is_array(data))
			items = data;
		else if (json_is_object(data) && json_is_array(items =
		    json_object_get(data, "items"))) {
			paged = 1;
			if (jx_int(data, "total", &total) != 0)
				total = -1;
		} else if (json_is_null(data))
			items = NULL;
		else {
			err_set(e, ERR_UPSTREAM, "token list: the reply is "
			    "neither a list nor {items}");
			goto fail;
		}
		got = json_array_size(items);
		added = 0;
		json_array_foreach(items, i, o) {
			if ((id = newapi_id(json_object_get(o, "id"))) == NULL)
				continue;
			if (newapi_token_seen(t, id)) {
				free(id);
				continue;
			}
			newapi_token_fill(adapter_tokens_add(t), o, id, qpu);
			added++;
		}
		adapter_resp_free(&r);
		if (got == 0 || added == 0)
			break;
		if (paged) {
			if (total >= 0 && (long long)t->n >= total)
				break;
			page = (page < 1 ? 1 : page) + 1;
		} else {
			if (p->tok_size_honoured && got < NEWAPI_PAGE_SIZE)
				break;
			page++;
		}
	}
	for (i = 0; i < t->n && can_reveal; i++) {
		if (t->v[i].masked && t->v[i].mask != NULL &&
		    newapi_reveal(p, a, &t->v[i]) != 0)
			can_reveal = 0;
	}
	adapter_tokens_finite(t);
	return (0);
fail:
	adapter_resp_free(&r);
	adapter_tokens_free(t);
	return (-1);
}

/*
 * POST /api/token/ with an unlimited, never-expiring key. New API and its
 * forks take the fields below; One API's token has no group, model limits
 * or IP list. The reply carries no key on New API: list again for it.
 */
static int
newapi_token_create(struct adapter_acct *a, const char *name,
    const char *group, struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	struct adapter_resp		 r;
	json_t				*body, *data;
	char				*s;
	int				 rv = -1;

	if (name == NULL || *name == '\0')
		name = "metapi";
	if (group == NULL)
		group = "";
	if (newapi_ready(p, a, NULL, e) != 0)
		return (-1);
	if (p->create_newapi)
		body = json_pack("{s:s, s:i, s:b, s:i, s:b, s:s, s:s, s:s}",
		    "name", name, "remain_quota", 0, "unlimited_quota", 1,
		    "expired_time", -1, "model_limits_enabled", 0,
		    "model_limits", "", "allow_ips", "", "group", group);
	else
		body = json_pack("{s:s, s:i, s:b, s:i}", "name", name,
		    "remain_quota", 0, "unlimited_quota", 1, "expired_time",
		    -1);
	if (body == NULL) {
		err_set(e, ERR_INVALID, "the token name or group is not text");
		return (-1);
	}
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (newapi_http(p, a, "POST", "/api/token/", NEWAPI_AUTH, NULL, s, &r,
	    e) != 0)
		goto out;
	if (adapter_envelope(&r, "token create", &data, e) == 0)
		rv = 0;
	adapter_resp_free(&r);
out:
	free(s);
	return (rv);
}

/* DELETE /api/token/:id; ids are numbers, nothing else goes in the path. */
static int
newapi_token_delete(struct adapter_acct *a, const char *id, struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	struct adapter_resp		 r;
	json_t				*data;
	char				*path;
	int				 rv = -1;

	if (id == NULL || *id == '\0' || id[strspn(id, "0123456789")] !=
	    '\0' || strlen(id) > 20) {
		err_set(e, ERR_INVALID, "a token id is a number");
		return (-1);
	}
	if (newapi_ready(p, a, NULL, e) != 0)
		return (-1);
	xasprintf(&path, "/api/token/%s", id);
	if (newapi_http(p, a, "DELETE", path, NEWAPI_AUTH, NULL, NULL, &r,
	    e) != 0)
		goto out;
	if (adapter_envelope(&r, "token delete", &data, e) == 0)
		rv = 0;
	adapter_resp_free(&r);
out:
	free(path);
	return (rv);
}

/* data[].id of an OpenAI model list, or the strings of a plain list. */
static json_t *
newapi_model_list(json_t *data)
{
	json_t	*list = json_array(), *m;
	size_t	 i;

	json_array_foreach(data, i, m) {
		if (json_is_string(m))
			json_array_append(list, m);
		else if (json_is_string(json_object_get(m, "id")))
			json_array_append(list, json_object_get(m, "id"));
	}
	return (list);
}

/*
 * With a key: GET /v1/models with "Authorization: Bearer <key>" (the
 * models the key's group and limits allow). Without: the union over the
 * user's groups from the session model list.
 */
static int
newapi_models(struct adapter_acct *a, const char *key, json_t **out,
    struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	struct adapter_resp		 r;
	json_t				*data;
	char				*auth;
	int				 rv;

	*out = NULL;
	if (key == NULL && a->cookie == NULL && a->access_token == NULL &&
	    a->password == NULL)
		key = a->api_key;
	if (key != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", key);
		rv = newapi_http(p, a, "GET", "/v1/models", 0, auth, NULL, &r,
		    e);
		newapi_wipe_free(auth);
		if (rv != 0)
			return (-1);
		if (r.status == 401 || r.status == 403) {
			err_set(e, ERR_UNAUTHORIZED, "the site rejected the "
			    "API key (HTTP %ld)", r.status);
			goto fail;
		}
		if (adapter_json(&r, "model list", e) != 0)
			goto fail;
		data = json_object_get(r.json, "data");
		if (r.status != 200 || !json_is_array(data)) {
			err_set(e, ERR_UPSTREAM, "model list: HTTP %ld without "
			    "a \"data\" list", r.status);
			goto fail;
		}
	} else {
		if (newapi_ready(p, a, NULL, e) != 0)
			return (-1);
		if (newapi_http(p, a, "GET", p->session_models, NEWAPI_AUTH,
		    NULL, NULL, &r, e) != 0)
			return (-1);
		if (adapter_envelope(&r, "model list", &data, e) != 0)
			goto fail;
		if (!json_is_array(data)) {
			err_set(e, ERR_UPSTREAM, "model list: the reply has no "
			    "list");
			goto fail;
		}
	}
	*out = newapi_model_list(data);
	adapter_resp_free(&r);
	return (0);
fail:
	adapter_resp_free(&r);
	return (-1);
}

/* Is group g allowed by a model's enable_groups (absent: every group)? */
static int
newapi_group_ok(json_t *enable, const char *g)
{
	json_t	*v;
	size_t	 i;

	if (!json_is_array(enable) || json_array_size(enable) == 0)
		return (1);
	json_array_foreach(enable, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), g) == 0)
			return (1);
	}
	return (0);
}

static void
newapi_price_add(struct adapter_prices *ps, json_t *m, const char *model,
    const char *group, double g, double qpu)
{
	struct adapter_price	*pr;
	double			 ratio, compl, price, v;
	long long		 type = -1;
	int			 has_compl;

	ratio = newapi_num(m, "model_ratio", NULL);
	price = newapi_num(m, "model_price", NULL);
	compl = newapi_num(m, "completion_ratio", &has_compl);
	if (jx_int(m, "quota_type", &type) != 0)
		type = ratio <= 0 && price > 0 ? 1 : 0;
	pr = adapter_prices_add(ps);
	pr->model = xstrdup(model);
	pr->group = xstrdup(group);
	if (type == 1) {
		pr->per_call = price * g;
		pr->has = ADAPTER_PRICE_CALL;
		return;
	}
	pr->input_per_m = ratio * g * 1000000.0 / qpu;
	pr->output_per_m = pr->input_per_m * (has_compl ? compl : 1.0);
	pr->has = ADAPTER_PRICE_TOKENS;
	if (jx_real(m, "cache_ratio", &v) == 0 && v > 0) {
		pr->cache_read_per_m = pr->input_per_m * v;
		pr->has |= ADAPTER_PRICE_CACHE_R;
	}
	if ((jx_real(m, "create_cache_ratio", &v) == 0 ||
	    jx_real(m, "cache_creation_ratio", &v) == 0) && v > 0) {
		pr->cache_write_per_m = pr->input_per_m * v;
		pr->has |= ADAPTER_PRICE_CACHE_W;
	}
}

/*
 * GET /api/pricing -> USD per 1M tokens (quota_type 0) or per call
 * (quota_type 1), for every group in group_ratio that the model allows,
 * the group's name in price.group: input = model_ratio x G x 1e6 / QPU,
 * output = input x completion_ratio, cache = input x cache ratios; per
 * call = model_price x G. Without group_ratio (older Veloera and New API
 * builds) one price with group "" and G = 1. Older builds may also lack
 * quota_type; a model_price without a model_ratio then means per call.
 */
static int
newapi_pricing(struct adapter_acct *a, struct adapter_prices *ps,
    struct err *e)
{
	const struct newapi_platform	*p = newapi_platform(a);
	struct adapter_resp		 r;
	json_t				*data, *list, *groups, *m, *gv;
	const char			*model, *g;
	double				 qpu, ratio;
	size_t				 i;

	memset(ps, 0, sizeof *ps);
	if (newapi_http(p, a, "GET", "/api/pricing", NEWAPI_AUTH, NULL, NULL,
	    &r, e) != 0)
		return (-1);
	if (adapter_envelope(&r, "pricing", &data, e) != 0)
		goto fail;
	list = data;
	groups = json_object_get(r.json, "group_ratio");
	if (json_is_object(data)) {
		if ((list = json_object_get(data, "items")) == NULL)
			list = json_object_get(data, "data");
		if (groups == NULL)
			groups = json_object_get(data, "group_ratio");
	}
	if (!json_is_array(list)) {
		err_set(e, ERR_UPSTREAM, "pricing: the reply has no model "
		    "list");
		goto fail;
	}
	if (json_is_object(groups) && json_object_size(groups) == 0)
		groups = NULL;
	qpu = newapi_qpu(p, a);
	json_array_foreach(list, i, m) {
		if ((model = jx_str(m, "model_name")) == NULL)
			continue;
		if (!json_is_object(groups)) {
			newapi_price_add(ps, m, model, "", 1.0, qpu);
			continue;
		}
		json_object_foreach(groups, g, gv) {
			if (!json_is_number(gv) || !newapi_group_ok(
			    json_object_get(m, "enable_groups"), g))
				continue;
			ratio = json_number_value(gv);
			newapi_price_add(ps, m, model, g, ratio, qpu);
		}
	}
	adapter_prices_finite(ps);
	adapter_resp_free(&r);
	return (0);
fail:
	adapter_resp_free(&r);
	adapter_prices_free(ps);
	return (-1);
}

const struct adapter_ops adapter_newapi_ops = {
	.name = "new-api", .label = "New API", .flags = ADAPTER_MANAGED,
	.login = newapi_login,
	.user = newapi_user,
	.checkin = newapi_checkin,
	.tokens = newapi_tokens,
	.token_create = newapi_token_create,
	.token_delete = newapi_token_delete,
	.models = newapi_models,
	.pricing = newapi_pricing,
};
const struct adapter_ops adapter_anyrouter_ops = {
	.name = "anyrouter", .label = "AnyRouter", .flags = ADAPTER_MANAGED,
	.login = newapi_login,
	.user = newapi_user,
	.checkin = newapi_checkin,
	.tokens = newapi_tokens,
	.token_create = newapi_token_create,
	.token_delete = newapi_token_delete,
	.models = newapi_models,
	.pricing = newapi_pricing,
};
const struct adapter_ops adapter_veloera_ops = {
	.name = "veloera", .label = "Veloera", .flags = ADAPTER_MANAGED,
	.login = newapi_login,
	.user = newapi_user,
	.checkin = newapi_checkin,
	.tokens = newapi_tokens,
	.token_create = newapi_token_create,
	.token_delete = newapi_token_delete,
	.models = newapi_models,
	.pricing = newapi_pricing,
};
const struct adapter_ops adapter_oneapi_ops = {
	.name = "one-api", .label = "One API", .flags = ADAPTER_MANAGED,
	.login = newapi_login,
	.user = newapi_user,
	.checkin = newapi_checkin,
	.tokens = newapi_tokens,
	.token_create = newapi_token_create,
	.token_delete = newapi_token_delete,
	.models = newapi_models,
};
