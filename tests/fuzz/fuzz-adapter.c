/*
 * Fuzz harness for what the adapters make of a site's replies (src/
 * adapter*.c) and for platform detection (src/detect.c), for libFuzzer
 * (fuzz-adapter) or the corpus replay of make check (replay-adapter).
 * The real adapter code runs; only adapter_http()'s transport is
 * replaced, as in tests/unit/t-adapter.c, by one that answers each
 * request with the next reply from the input.
 *
 * Input layout:
 *   byte 0  the adapter: adapter_table[byte % (N + 1)], N meaning
 *           detect_platform() instead
 *   byte 1  bits 0-3: the operation (fa_ops[], modulo its size): login,
 *           user, checkin, tokens, token_create, token_delete, models
 *           with the session, models with a key, pricing
 *           bit 4: the account knows its user id
 *           bit 5: the account knows quota_per_unit (500000)
 *           bits 6-7: its credential: 0 an access token and a refresh
 *           token, 1 a session cookie, 2 a username and password (and
 *           a 2FA code), 3 an API key only
 *           detect: bits 0-2 pick the base URL (fa_urls[])
 *   the rest: the replies, in the order the requests come, separated by
 *           a line "%%". A reply is a status line (the HTTP status in
 *           digits; anything else is a connection that failed), header
 *           lines "Name: value" (Set-Cookie, any number of them, Server,
 *           cf-mitigated, Retry-After; others are ignored, and each is
 *           kept as upstream_do() keeps it) up to an empty line, then
 *           the body. A request after the last reply fails as a
 *           connection would.
 *
 * So "\x04\x12" followed by "200\n\n{...}" asks New API (adapter_table
 * index 4) for the user info of an account with an access token and a
 * user id, and gives the reply.
 *
 * Besides what ASan, UBSan and LeakSanitizer catch, these abort: an
 * operation that fails without an error or succeeds with one; an error
 * message that holds one of the account's secrets (unless the replies
 * held it) or that is not UTF-8; a request whose URL leaves the site or holds a blank or
 * control character, a header with a line break in it, a body that is
 * not JSON; an adapter that goes on asking after the site stopped
 * answering, or asks more than the replies can explain; a detection
 * that asks anything but a GET or the same path twice; a result that
 * breaks adapter.h: a number that is not finite, a token that is both
 * masked and has a key, or has a key with no mask, an outcome out of
 * range, a model list that is not a list of strings; a secret kept in
 * the account (it goes into a header next time) with a line break; a
 * detection that names no adapter, or gives evidence that is not a
 * non-empty list of strings, or fails with evidence or another code.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter.h"
#include "buf.h"
#include "err.h"
#include "upstream.h"
#include "vault.h"
#include "xmalloc.h"

#include "fuzz.h"

#define FA_URL		"https://relay.test"
#define FA_SEP		"\n%%\n"
#define FA_LATE_MAX	3	/* requests after the replies ran out */
#define FA_DETECT_MAX	6	/* the paths detection may ask, once each,
				 * and one again after solving a WAF page */

/* Values no reply is likely to hold by chance. */
#define FA_PASSWORD	"pw-Qx7Lm2Vr9"
#define FA_TOKEN	"at-Hn4Kc8Tz1"
#define FA_REFRESH	"rt-Wb6Jd3Ys5"
#define FA_COOKIE	"session=ck-Pf2Gx9Nq4"
#define FA_API_KEY	"sk-ak-Rm5Tv8Lc3"

enum fa_op {
	FA_LOGIN,
	FA_USER,
	FA_CHECKIN,
	FA_TOKENS,
	FA_TOKEN_CREATE,
	FA_TOKEN_DELETE,
	FA_MODELS,
	FA_MODELS_KEY,
	FA_PRICING,
	FA_NOPS
};

static const char *const fa_urls[8] = {
	"https://relay.test", "https://anyrouter.test", "https://api.openai.com",
	"https://my-donehub.test", "https://api.anthropic.com",
	"https://relay.test/v1", "http://user@veloera.test:3000/",
	"https://sub2api.test",
};

/* The script of replies and what the requests did with it. */
static struct {
	const char	*in;
	size_t		 len;
	size_t		 off;		/* next reply */
	int		 done;		/* no more replies */
	size_t		 asked;
	size_t		 late;		/* requests after the end */
	size_t		 nreplies;
	const char	*base;
	char		*urls[FA_DETECT_MAX];	/* detection: asked so far */
	int		 repeated;	/* detection: a path asked again */
	int		 detect;
} fa;

/* The next reply's text, or NULL when none is left. */
static const char *
fa_next(size_t *len)
{
	const char	*p, *sep;

	if (fa.done)
		return (NULL);
	p = fa.in + fa.off;
	sep = memmem(p, fa.len - fa.off, FA_SEP, strlen(FA_SEP));
	if (sep == NULL) {
		*len = fa.len - fa.off;
		fa.done = 1;
	} else {
		*len = sep - p;
		fa.off = sep - fa.in + strlen(FA_SEP);
	}
	return (p);
}

static size_t
fa_count_replies(const char *in, size_t len)
{
	const char	*p = in, *sep;
	size_t		 n = 1;

	while ((sep = memmem(p, len - (p - in), FA_SEP,
	    strlen(FA_SEP))) != NULL) {
		n++;
		p = sep + strlen(FA_SEP);
	}
	return (n);
}

static int
fa_has_waf_cookie(const char *const *h)
{
	for (; h != NULL && *h != NULL; h++)
		if (strncasecmp(*h, "Cookie:", 7) == 0 &&
		    strstr(*h, "acw_sc__v2=") != NULL)
			return (1);
	return (0);
}

/* What every request must be, whatever the site said before. */
static void
fa_check_req(const struct upstream_req *req)
{
	const unsigned char	*u;
	const char *const	*h;
	json_t			*j;

	size_t			 i;

	FUZZ_CHECK(req->method != NULL && req->url != NULL);
	FUZZ_CHECK(strncmp(req->url, fa.base, strlen(fa.base)) == 0);
	if (fa.detect) {
		/*
		 * Every probe is a GET, of a path not asked before, except
		 * the one repeat after a solved WAF page: then it is the
		 * path just asked, and it carries the WAF's cookie.
		 */
		FUZZ_CHECK(strcmp(req->method, "GET") == 0);
		FUZZ_CHECK(req->body == NULL);
		FUZZ_CHECK(fa.asked < FA_DETECT_MAX);
		for (i = 0; i < fa.asked; i++) {
			if (strcmp(fa.urls[i], req->url) != 0)
				continue;
			FUZZ_CHECK(!fa.repeated && i + 1 == fa.asked);
			FUZZ_CHECK(fa_has_waf_cookie(req->headers));
			fa.repeated = 1;
		}
		fa.urls[fa.asked] = xstrdup(req->url);
	}
	for (u = (const unsigned char *)req->url; *u != '\0'; u++)
		FUZZ_CHECK(*u > 0x20 && *u < 0x7f);
	for (h = req->headers; h != NULL && *h != NULL; h++) {
		FUZZ_CHECK(strchr(*h, ':') != NULL);
		FUZZ_CHECK(strpbrk(*h, "\r\n") == NULL);
	}
	if (req->body != NULL) {
		j = json_loads(req->body, 0, NULL);
		FUZZ_CHECK(j != NULL);
		json_decref(j);
	}
}

/* The bytes of p (n of them, no NUL needed) before one of reject. */
static size_t
fa_span(const char *p, size_t n, const char *reject)
{
	size_t	i;

	for (i = 0; i < n && strchr(reject, p[i]) == NULL; i++)
		;
	return (i);
}

/*
 * One header line, kept as upstream_do() keeps it: the value without
 * its line end; of a Set-Cookie only "name=value", accumulated as
 * "a=1; b=2".
 */
static void
fa_header(struct upstream_resp *resp, const char *line, size_t n)
{
	const char	*colon, *v;
	char		*old;
	size_t		 nl, vl;

	if ((colon = memchr(line, ':', n)) == NULL)
		return;
	nl = colon - line;
	for (v = colon + 1; v < line + n && (*v == ' ' || *v == '\t'); v++)
		;
	vl = line + n - v;
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
		vl--;
	if (nl == 10 && strncasecmp(line, "set-cookie", nl) == 0) {
		vl = fa_span(v, vl, ";\r\n");
		if (resp->set_cookie == NULL)
			resp->set_cookie = xstrndup(v, vl);
		else if (strlen(resp->set_cookie) < 8192) {
			old = resp->set_cookie;
			xasprintf(&resp->set_cookie, "%s; %.*s", old, (int)vl, v);
			free(old);
		}
	} else if (nl == 6 && strncasecmp(line, "server", nl) == 0) {
		free(resp->server);
		resp->server = xstrndup(v, vl);
	} else if (nl == 12 && strncasecmp(line, "cf-mitigated", nl) == 0)
		resp->cf_mitigated = 1;
	else if (nl == 11 && strncasecmp(line, "retry-after", nl) == 0) {
		free(resp->retry_after);
		resp->retry_after = xstrndup(v, vl);
	}
}

static int
fa_transport(const struct upstream_req *req, struct upstream_resp *resp,
    char **cause)
{
	const char	*r, *p, *end, *nl;
	size_t		 len, n;
	long		 status = 0;

	fa_check_req(req);
	fa.asked++;
	memset(resp, 0, sizeof *resp);
	if ((r = fa_next(&len)) == NULL) {
		fa.late++;
		*cause = xstrdup("Connection refused");
		return (-1);
	}
	end = r + len;
	for (p = r; p < end && *p >= '0' && *p <= '9' && status < 1000; p++)
		status = status * 10 + (*p - '0');
	if (p == r || status < 100 || status > 999) {
		*cause = xstrdup("Connection reset by peer");
		return (-1);
	}
	resp->status = status;
	/* The rest of the status line, then header lines to a blank one. */
	p = (nl = memchr(p, '\n', end - p)) != NULL ? nl + 1 : end;
	while (p < end && *p != '\n') {
		nl = memchr(p, '\n', end - p);
		n = (nl != NULL ? nl : end) - p;
		fa_header(resp, p, n);
		p += n + (nl != NULL);
	}
	if (p < end)
		p++;
	buf_init(&resp->body, req->max_body);
	if (buf_add(&resp->body, p, end - p) != 0)
		FUZZ_CHECK(!"a reply beyond max_body");
	return (0);
}

/*
 * A message goes to the client as JSON: it must be UTF-8. No secret of
 * the account is in it, unless a reply held it.
 */
static void
fa_check_msg(const char *msg)
{
	static const char *const secrets[] = {
		FA_PASSWORD, FA_TOKEN, FA_REFRESH, FA_COOKIE, FA_API_KEY
	};
	json_t	*j;
	size_t	 i;

	if (msg == NULL)
		return;
	j = json_string(msg);
	FUZZ_CHECK(j != NULL);
	json_decref(j);
	for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		if (memmem(fa.in, fa.len, secrets[i], strlen(secrets[i])) ==
		    NULL)
			FUZZ_CHECK(strstr(msg, secrets[i]) == NULL);
}

/* What the account keeps goes into a header of the next request. */
static void
fa_check_kept(const char *s)
{
	if (s != NULL)
		FUZZ_CHECK(strpbrk(s, "\r\n") == NULL);
}

static void
fa_check_num(double v)
{
	FUZZ_CHECK(isfinite(v));
}

/* A result as JSON: it must be there and json_dumps must write it. */
static void
fa_check_json(json_t *j)
{
	char	*s;

	FUZZ_CHECK(j != NULL);
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	FUZZ_CHECK(s != NULL);
	free(s);
	json_decref(j);
}

static void
fa_check_user(const struct adapter_user *u)
{
	fa_check_num(u->balance_usd);
	fa_check_num(u->used_usd);
	fa_check_num(u->today_income_usd);
	fa_check_json(adapter_user_json(u));
}

static void
fa_check_checkin(const struct adapter_checkin *c)
{
	FUZZ_CHECK(c->outcome >= CHECKIN_SUCCESS &&
	    c->outcome <= CHECKIN_FAILED);
	FUZZ_CHECK(adapter_checkin_name(c->outcome) != NULL);
	fa_check_num(c->reward_usd);
	if (c->has_reward)
		FUZZ_CHECK(c->outcome == CHECKIN_SUCCESS);
	fa_check_json(adapter_checkin_json(c));
}

static void
fa_check_tokens(const struct adapter_tokens *t)
{
	const struct adapter_token	*tok;
	size_t				 i;

	for (i = 0; i < t->n; i++) {
		tok = &t->v[i];
		FUZZ_CHECK(tok->name != NULL);
		if (tok->key != NULL) {
			FUZZ_CHECK(!tok->masked);
			FUZZ_CHECK(tok->mask != NULL);
			fa_check_kept(tok->key);
		}
		if (tok->masked)
			FUZZ_CHECK(tok->key == NULL);
		fa_check_num(tok->remain_usd);
		FUZZ_CHECK(tok->expires_at >= 0);
		fa_check_json(adapter_token_json(tok, 1));
	}
}

static void
fa_check_prices(const struct adapter_prices *p)
{
	const struct adapter_price	*pr;
	size_t				 i;

	for (i = 0; i < p->n; i++) {
		pr = &p->v[i];
		FUZZ_CHECK(pr->model != NULL);
		fa_check_num(pr->input_per_m);
		fa_check_num(pr->output_per_m);
		fa_check_num(pr->cache_read_per_m);
		fa_check_num(pr->cache_write_per_m);
		fa_check_num(pr->per_call);
		fa_check_json(adapter_price_json(pr));
	}
}

static void
fa_check_models(json_t *list)
{
	json_t	*v;
	size_t	 i;

	FUZZ_CHECK(json_is_array(list));
	json_array_foreach(list, i, v)
		FUZZ_CHECK(json_is_string(v));
	fa_check_json(list);
}

/* Run one operation; its result is checked here, its error by the caller. */
static int
fa_run(const struct adapter_ops *ops, enum fa_op op, struct adapter_acct *a,
    struct err *e)
{
	struct adapter_user	 u;
	struct adapter_checkin	 c;
	struct adapter_tokens	 t;
	struct adapter_prices	 p;
	json_t			*list = NULL;
	int			 rv = 0;

	memset(&u, 0, sizeof u);
	memset(&c, 0, sizeof c);
	memset(&t, 0, sizeof t);
	memset(&p, 0, sizeof p);
	switch (op) {
	case FA_LOGIN:
		if (ops->login != NULL)
			rv = ops->login(a, e);
		break;
	case FA_USER:
		if (ops->user != NULL && (rv = ops->user(a, &u, e)) == 0)
			fa_check_user(&u);
		adapter_user_free(&u);
		break;
	case FA_CHECKIN:
		if (ops->checkin != NULL &&
		    (rv = ops->checkin(a, &c, e)) == 0)
			fa_check_checkin(&c);
		adapter_checkin_free(&c);
		break;
	case FA_TOKENS:
		if (ops->tokens != NULL && (rv = ops->tokens(a, &t, e)) == 0)
			fa_check_tokens(&t);
		adapter_tokens_free(&t);
		break;
	case FA_TOKEN_CREATE:
		if (ops->token_create != NULL)
			rv = ops->token_create(a, "metapi", "default", e);
		break;
	case FA_TOKEN_DELETE:
		if (ops->token_delete != NULL)
			rv = ops->token_delete(a, "12", e);
		break;
	case FA_MODELS:
	case FA_MODELS_KEY:
		if (ops->models == NULL)
			break;
		rv = ops->models(a, op == FA_MODELS_KEY ? FA_API_KEY : NULL,
		    &list, e);
		if (rv == 0)
			fa_check_models(list);
		else
			FUZZ_CHECK(list == NULL);
		break;
	case FA_PRICING:
		if (ops->pricing != NULL &&
		    (rv = ops->pricing(a, &p, e)) == 0)
			fa_check_prices(&p);
		adapter_prices_free(&p);
		break;
	default:
		FUZZ_CHECK(!"no such operation");
	}
	return (rv);
}

static char *
fa_secret(const char *s)
{
	char	*p;

	p = vault_secret_dup(s);
	FUZZ_CHECK(p != NULL);
	return (p);
}

static void
fa_adapter(const struct adapter_ops *ops, int sel)
{
	struct adapter_acct	 a;
	struct err		 e = { ERR_OK, NULL };
	int			 rv;

	memset(&a, 0, sizeof a);
	a.url = FA_URL;
	a.platform = ops->name;
	a.timeout_sec = 5;
	if (sel & 0x10)
		a.user_id = fa_secret("7");
	if (sel & 0x20)
		a.quota_per_unit = 500000;
	switch ((sel >> 6) & 3) {
	case 0:
		a.access_token = fa_secret(FA_TOKEN);
		a.refresh_token = fa_secret(FA_REFRESH);
		break;
	case 1:
		a.cookie = fa_secret(FA_COOKIE);
		break;
	case 2:
		a.username = fa_secret("alice");
		a.password = fa_secret(FA_PASSWORD);
		a.twofa = fa_secret("123456");
		break;
	default:
		a.api_key = fa_secret(FA_API_KEY);
		break;
	}
	fa.base = a.url;
	rv = fa_run(ops, (enum fa_op)((sel & 0x0f) % FA_NOPS), &a, &e);
	if (rv == 0)
		FUZZ_CHECK(e.code == ERR_OK && e.msg == NULL);
	else {
		FUZZ_CHECK(rv == -1);
		FUZZ_CHECK(e.code != ERR_OK && e.msg != NULL);
	}
	fa_check_msg(e.msg);
	FUZZ_CHECK(isfinite(a.quota_per_unit) && a.quota_per_unit >= 0);
	fa_check_kept(a.access_token);
	fa_check_kept(a.refresh_token);
	fa_check_kept(a.cookie);
	fa_check_kept(a.user_id);
	fa_check_kept(a.waf_cookie);
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
}

static void
fa_detect(int sel)
{
	struct err	 e = { ERR_OK, NULL };
	const char	*platform;
	json_t		*evidence, *v;
	size_t		 i;

	fa.base = fa_urls[sel & 7];
	fa.detect = 1;
	if (detect_platform(fa.base, NULL, NULL, &platform, &evidence,
	    &e) == 0) {
		FUZZ_CHECK(e.code == ERR_OK && e.msg == NULL);
		FUZZ_CHECK(platform != NULL && adapter_find(platform) != NULL);
		FUZZ_CHECK(json_is_array(evidence) &&
		    json_array_size(evidence) > 0);
		json_array_foreach(evidence, i, v)
			FUZZ_CHECK(json_is_string(v));
		fa_check_json(evidence);
	} else {
		FUZZ_CHECK(e.code == ERR_UPSTREAM || e.code == ERR_BLOCKED);
		FUZZ_CHECK(e.msg != NULL && evidence == NULL);
	}
	err_clear(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	ready;
	size_t		nadapters, i;

	if (!ready) {
		FUZZ_CHECK(vault_init() == 0);
		adapter_set_transport(fa_transport);
		ready = 1;
	}
	if (size < 2)
		return (0);
	for (nadapters = 0; adapter_table[nadapters] != NULL; nadapters++)
		;
	memset(&fa, 0, sizeof fa);
	fa.in = (const char *)data + 2;
	fa.len = size - 2;
	fa.nreplies = fa_count_replies(fa.in, fa.len);
	if (data[0] % (nadapters + 1) == nadapters) {
		fa_detect(data[1]);
		for (i = 0; i < FA_DETECT_MAX; i++)
			free(fa.urls[i]);
		return (0);
	}
	fa_adapter(adapter_table[data[0] % (nadapters + 1)], data[1]);
	/* A site that stopped answering is not asked on and on. */
	FUZZ_CHECK(fa.late <= FA_LATE_MAX);
	FUZZ_CHECK(fa.asked <= fa.nreplies + FA_LATE_MAX);
	return (0);
}
