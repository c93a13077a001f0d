/*
 * Adapter cases: each tests/cases/adapter/NAME.json file records the HTTP
 * exchanges of one adapter operation against one platform, and what the
 * operation must make of them. The real adapter code runs; only its
 * transport is replaced by a replay of the recorded replies, which also
 * checks that the adapter asked for exactly what the case expects.
 *
 * Case file:
 *   {"info": "...", "platform": "new-api", "op": "user",
 *    "account": {"username", "password", "access_token", "cookie",
 *                "api_key", "user_id", "twofa", "quota_per_unit"},
 *    "args": {"name", "group", "remote_id", "key"},
 *    "exchanges": [{"method": "GET", "path": "/api/user/self",
 *                   "expect_headers": {"New-Api-User": "7"},
 *                   "expect_body": {...},
 *                   "status": 200, "body": {...} or "raw text",
 *                   "set_cookie": "session=abc",
 *                   "headers": {"server": "cloudflare"}}],
 *    "expect": {...}  or  "expect_error": {"code": "unauthorized",
 *                                          "message": "substring"}}
 * "op": "detect" has no "platform": it runs detect_platform() on the base
 * URL and its result is {"platform": "...", "evidence": ["..."]}. The
 * base URL is CASE_BASE_URL unless the case gives "url" (host hints).
 * "expect" is matched as a subset: every key it names must be equal
 * (numbers within 1e-9); arrays must have the same length.
 */
#include "config.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "adapter.h"
#include "buf.h"
#include "err.h"
#include "jx.h"
#include "upstream.h"
#include "vault.h"
#include "xmalloc.h"

#include "unit.h"

#define CASE_BASE_URL	"https://relay.test"

/* The case being replayed: touched by the transport below. */
static json_t	*replay_exchanges;
static size_t	 replay_next;
static int	 replay_bad;
static size_t	 replay_base_len;	/* of the case's base URL */

static const char *
replay_header(const char *const *hdrs, const char *name)
{
	size_t	n = strlen(name);

	for (; hdrs != NULL && *hdrs != NULL; hdrs++)
		if (strncasecmp(*hdrs, name, n) == 0 && (*hdrs)[n] == ':')
			return (*hdrs + n + 1 + strspn(*hdrs + n + 1, " "));
	return (NULL);
}

static int
replay_transport(const struct upstream_req *req, struct upstream_resp *resp,
    char **cause)
{
	json_t		*x, *v, *body;
	const char	*path, *k, *got;
	char		*s;

	memset(resp, 0, sizeof *resp);
	buf_init(&resp->body, req->max_body);
	path = req->url + replay_base_len;
	x = json_array_get(replay_exchanges, replay_next++);
	if (x == NULL) {
		unit_case_end();
		CHECK(!"request beyond the recorded exchanges");
		printf("    unexpected: %s %s\n", req->method, path);
		replay_bad = 1;
		*cause = xstrdup("no recorded exchange");
		return (-1);
	}
	if (!CHECK_STR(req->method, json_string_value(json_object_get(x,
	    "method"))) || !CHECK_STR(path, json_string_value(
	    json_object_get(x, "path")))) {
		replay_bad = 1;
		*cause = xstrdup("request does not match the recording");
		return (-1);
	}
	json_object_foreach(json_object_get(x, "expect_headers"), k, v) {
		got = replay_header(req->headers, k);
		if (json_is_null(v))
			CHECK(got == NULL);
		else
			CHECK_STR(got, json_string_value(v));
	}
	if ((v = json_object_get(x, "expect_body")) != NULL) {
		body = req->body != NULL ? json_loads(req->body, 0, NULL) : NULL;
		CHECK(body != NULL && json_equal(body, v));
		json_decref(body);
	}
	if ((v = json_object_get(x, "close")) != NULL && json_is_true(v)) {
		*cause = xstrdup("connection closed");
		return (-1);
	}
	resp->status = json_integer_value(json_object_get(x, "status"));
	if (resp->status == 0)
		resp->status = 200;
	v = json_object_get(x, "body");
	if (json_is_string(v))
		buf_addstr(&resp->body, json_string_value(v));
	else if (v != NULL) {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_addstr(&resp->body, s);
		free(s);
		resp->content_type = xstrdup("application/json");
	}
	if ((got = json_string_value(json_object_get(x, "set_cookie"))) != NULL)
		resp->set_cookie = xstrdup(got);
	json_object_foreach(json_object_get(x, "headers"), k, v) {
		if (strcasecmp(k, "server") == 0)
			resp->server = xstrdup(json_string_value(v));
		else if (strcasecmp(k, "cf-mitigated") == 0)
			resp->cf_mitigated = 1;
		else if (strcasecmp(k, "retry-after") == 0)
			resp->retry_after = xstrdup(json_string_value(v));
	}
	return (0);
}

/* Does got hold everything want says (subset match)? */
static int
case_match(json_t *want, json_t *got, const char *where)
{
	const char	*k;
	json_t		*v;
	size_t		 i;
	char		 sub[256], *ws, *gs;

	if (json_is_object(want)) {
		if (!json_is_object(got)) {
			printf("    %s: not an object\n", where);
			return (0);
		}
		json_object_foreach(want, k, v) {
			snprintf(sub, sizeof sub, "%s.%s", where, k);
			if (!case_match(v, json_object_get(got, k), sub))
				return (0);
		}
		return (1);
	}
	if (json_is_array(want)) {
		if (!json_is_array(got) ||
		    json_array_size(got) != json_array_size(want)) {
			printf("    %s: array of %zu wanted, got %zu\n", where,
			    json_array_size(want), json_array_size(got));
			return (0);
		}
		json_array_foreach(want, i, v) {
			snprintf(sub, sizeof sub, "%s[%zu]", where, i);
			if (!case_match(v, json_array_get(got, i), sub))
				return (0);
		}
		return (1);
	}
	if (json_is_number(want) && json_is_number(got) &&
	    fabs(json_number_value(want) - json_number_value(got)) < 1e-9)
		return (1);
	if (json_equal(want, got))
		return (1);
	ws = json_dumps(want, JSON_ENCODE_ANY);
	gs = got != NULL ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
	printf("    %s: wanted %s, got %s\n", where, ws, gs != NULL ? gs :
	    "nothing");
	free(ws);
	free(gs);
	return (0);
}

static char *
case_secret(json_t *acct, const char *k)
{
	const char	*v = json_string_value(json_object_get(acct, k));

	return (v != NULL ? vault_secret_dup(v) : NULL);
}

/* Run the case's operation; *out is its result as JSON. */
static int
case_run(const struct adapter_ops *ops, const char *op, struct adapter_acct *a,
    json_t *args, json_t **out, struct err *e)
{
	struct adapter_user	 u;
	struct adapter_checkin	 c;
	struct adapter_tokens	 t;
	struct adapter_prices	 p;
	json_t			*list;
	const char		*key;
	size_t			 i;
	int			 rv = -1;

	memset(&u, 0, sizeof u);
	memset(&c, 0, sizeof c);
	memset(&t, 0, sizeof t);
	memset(&p, 0, sizeof p);
	*out = NULL;
	if (strcmp(op, "detect") == 0) {
		if ((rv = detect_platform(a->url, NULL, NULL, &key,
		    &list, e)) == 0)
			*out = json_pack("{s:s, s:o}", "platform", key,
			    "evidence", list);
	} else if (strcmp(op, "login") == 0 && ops->login != NULL) {
		if ((rv = ops->login(a, e)) == 0)
			*out = json_pack("{s:s?, s:s?, s:s?, s:b}",
			    "access_token", a->access_token, "cookie", a->cookie,
			    "user_id", a->user_id, "changed", a->changed != 0);
	} else if (strcmp(op, "user") == 0 && ops->user != NULL) {
		if ((rv = ops->user(a, &u, e)) == 0)
			*out = adapter_user_json(&u);
		adapter_user_free(&u);
	} else if (strcmp(op, "checkin") == 0 && ops->checkin != NULL) {
		if ((rv = ops->checkin(a, &c, e)) == 0)
			*out = adapter_checkin_json(&c);
		adapter_checkin_free(&c);
	} else if (strcmp(op, "tokens") == 0 && ops->tokens != NULL) {
		if ((rv = ops->tokens(a, &t, e)) == 0) {
			list = json_array();
			for (i = 0; i < t.n; i++)
				json_array_append_new(list,
				    adapter_token_json(&t.v[i], 1));
			*out = json_pack("{s:o}", "tokens", list);
		}
		adapter_tokens_free(&t);
	} else if (strcmp(op, "token_create") == 0 &&
	    ops->token_create != NULL) {
		if ((rv = ops->token_create(a, json_string_value(
		    json_object_get(args, "name")), json_string_value(
		    json_object_get(args, "group")), e)) == 0)
			*out = json_object();
	} else if (strcmp(op, "token_delete") == 0 &&
	    ops->token_delete != NULL) {
		if ((rv = ops->token_delete(a, json_string_value(
		    json_object_get(args, "remote_id")), e)) == 0)
			*out = json_object();
	} else if (strcmp(op, "models") == 0 && ops->models != NULL) {
		key = json_string_value(json_object_get(args, "key"));
		rv = ops->models(a, key, out, e);
	} else if (strcmp(op, "pricing") == 0 && ops->pricing != NULL) {
		if ((rv = ops->pricing(a, &p, e)) == 0) {
			list = json_array();
			for (i = 0; i < p.n; i++)
				json_array_append_new(list,
				    adapter_price_json(&p.v[i]));
			*out = json_pack("{s:o}", "prices", list);
		}
		adapter_prices_free(&p);
	} else
		err_set(e, ERR_INTERNAL, "%s has no operation %s", ops->name,
		    op);
	return (rv);
}

static void
case_file(const char *path, const char *name)
{
	const struct adapter_ops	*ops;
	struct adapter_acct		 a;
	struct err			 e = { ERR_OK, NULL };
	json_error_t			 jerr;
	json_t				*c, *acct, *result = NULL, *want;
	const char			*op;
	int				 rv;
	double				 qpu = 0;

	unit_case("%s", name);
	if ((c = json_load_file(path, 0, &jerr)) == NULL) {
		CHECK(!"case file is valid JSON");
		printf("    %s: %s\n", path, jerr.text);
		return;
	}
	op = json_string_value(json_object_get(c, "op"));
	if (!CHECK(op != NULL))
		goto out;
	/* Detection has no platform: it finds one. */
	ops = NULL;
	if (strcmp(op, "detect") != 0 && !CHECK((ops = adapter_find(
	    json_string_value(json_object_get(c, "platform")))) != NULL))
		goto out;
	acct = json_object_get(c, "account");
	memset(&a, 0, sizeof a);
	/* A case about host names gives its own base URL. */
	if ((a.url = json_string_value(json_object_get(c, "url"))) == NULL)
		a.url = CASE_BASE_URL;
	replay_base_len = strlen(a.url);
	a.platform = ops != NULL ? ops->name : NULL;
	a.username = case_secret(acct, "username");
	a.password = case_secret(acct, "password");
	a.access_token = case_secret(acct, "access_token");
	a.cookie = case_secret(acct, "cookie");
	a.api_key = case_secret(acct, "api_key");
	a.refresh_token = case_secret(acct, "refresh_token");
	a.user_id = case_secret(acct, "user_id");
	a.twofa = case_secret(acct, "twofa");
	if (json_is_number(json_object_get(acct, "quota_per_unit")))
		qpu = json_number_value(json_object_get(acct,
		    "quota_per_unit"));
	a.quota_per_unit = qpu;

	replay_exchanges = json_object_get(c, "exchanges");
	replay_next = 0;
	replay_bad = 0;
	rv = case_run(ops, op, &a, json_object_get(c, "args"), &result, &e);
	if ((want = json_object_get(c, "expect_error")) != NULL) {
		if (CHECK(rv != 0)) {
			CHECK_STR(err_name(e.code), json_string_value(
			    json_object_get(want, "code")));
			if (json_object_get(want, "message") != NULL)
				CHECK_SUB(e.msg, json_string_value(
				    json_object_get(want, "message")));
		}
	} else if (!replay_bad) {
		if (!CHECK(rv == 0))
			printf("    error: %s: %s\n", err_name(e.code), e.msg);
		else if ((want = json_object_get(c, "expect")) != NULL)
			CHECK(case_match(want, result, "result"));
	}
	if (!replay_bad && !json_is_true(json_object_get(c, "partial")))
		CHECK_INT(replay_next, json_array_size(replay_exchanges));
	json_decref(result);
	err_clear(&e);
	vault_secret_free(a.username);
	vault_secret_free(a.password);
	vault_secret_free(a.access_token);
	vault_secret_free(a.cookie);
	vault_secret_free(a.api_key);
	vault_secret_free(a.refresh_token);
	vault_secret_free(a.user_id);
	vault_secret_free(a.twofa);
	vault_secret_free(a.waf_cookie);
out:
	json_decref(c);
	unit_case_end();
}

/*
 * Request headers hold credentials (Authorization, Cookie) and libcurl
 * copies each line: upstream_headers_free() must wipe the copies before
 * they go back to the allocator. libcurl's allocator is hooked to count
 * blocks that still hold the secret when freed; plain curl_slist_free_all()
 * shows that the hook sees them.
 */
static const char	 wipe_secret[] = "Wipe-Canary-7f3a9c";
static int		 wipe_seen;

static void
wipe_free(void *p)
{
	if (p != NULL && memmem(p, malloc_usable_size(p), wipe_secret,
	    sizeof wipe_secret - 1) != NULL)
		wipe_seen++;
	free(p);
}

static struct curl_slist *
wipe_headers(void)
{
	struct curl_slist	*h = NULL;

	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Authorization: Bearer Wipe-Canary-7f3a9c");
	h = curl_slist_append(h, "Cookie: session=Wipe-Canary-7f3a9c");
	return (h);
}

static void
upstream_wipe(void)
{
	unit_case("upstream_headers_free wipes");
	/* Only the first global init of the process picks the allocator. */
	if (!CHECK(curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc,
	    wipe_free, realloc, strdup, calloc) == CURLE_OK))
		goto out;
	wipe_seen = 0;
	curl_slist_free_all(wipe_headers());
	CHECK(wipe_seen == 2);		/* the hook sees what is left */
	wipe_seen = 0;
	upstream_headers_free(wipe_headers());
	CHECK_INT(wipe_seen, 0);
	curl_global_cleanup();
out:
	unit_case_end();
}

/*
 * jx_wipe(): the string values of a login body or a reply are zeroed
 * before jansson frees them, except what another reference still holds.
 */
static void
jx_wipe_check(void)
{
	json_t		*o, *shared;
	const char	*pw, *key, *nested;

	unit_case("jx_wipe");
	shared = json_string("shared-value");
	o = json_pack("{s:s, s:[s], s:{s:s}, s:O, s:b, s:i}", "password",
	    "hunter2", "keys", "sk-key-1", "data", "access_token", "tok-1",
	    "other", shared, "flag", 1, "n", 7);
	if (!CHECK(o != NULL))
		goto out;
	pw = json_string_value(json_object_get(o, "password"));
	key = json_string_value(json_array_get(json_object_get(o, "keys"), 0));
	nested = jx_str(json_object_get(o, "data"), "access_token");
	json_incref(o);
	jx_wipe(o);			/* held twice: nothing happens */
	CHECK_STR(pw, "hunter2");
	json_decref(o);
	jx_wipe(o);
	CHECK(memcmp(pw, "\0\0\0\0\0\0\0", 7) == 0);
	CHECK(memcmp(key, "\0\0\0\0\0\0\0\0", 8) == 0);
	CHECK(memcmp(nested, "\0\0\0\0\0", 5) == 0);
	CHECK_STR(json_string_value(shared), "shared-value");
	CHECK_INT(json_integer_value(json_object_get(o, "n")), 7);
	json_decref(o);
out:
	json_decref(shared);
	unit_case_end();
}

void
t_adapter(void)
{
	upstream_wipe();
	jx_wipe_check();
	vault_init();
	adapter_set_transport(replay_transport);
	unit_case_files("adapter", case_file);
	adapter_set_transport(upstream_do);
}
