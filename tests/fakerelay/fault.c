/*
 * Fault injection. It owns the list of fault rules added through
 * POST /__fake/fault, the per-request "X-Mock-Fail" header, and the
 * fault_kinds[] table that says what each kind does: answer in place of
 * the handler (terminal kinds), delay, or damage the reply the handler
 * built (truncate, cut mid-body, cut a stream). Platform-shaped error
 * bodies come from relay.c; challenge pages from waf.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

#define FAULT_MAX		64
#define FAULT_MAX_OVERSIZE	(64LL * 1024 * 1024)

struct fault_kind {
	const char	*name;
	const char	*alias;		/* the name in upstream-apis.md 12.6 */
	int		 terminal;	/* answers instead of the handler */
	void		(*reply)(struct req *, json_t *);
	const char	*help;
};

static json_t		*fault_rules;
static long long	 fault_next_id = 1;

static void
fault_status(struct req *r, json_t *f)
{
	long long	 status = state_int(f, "status");
	const char	*body = state_str(f, "body");
	const char	*ctype = state_str(f, "content_type");
	char		 buf[32];

	if (status < 100 || status > 999)
		status = 500;
	if (*ctype == '\0')
		ctype = "application/json; charset=utf-8";
	if (json_object_get(f, "body") != NULL)
		req_reply_text(r, (int)status, ctype, body);
	else if (strncmp(r->path, "/api/", 5) == 0 && r->p->bit != P_SUB2API)
		req_reply_json(r, (int)status, json_pack("{s:b, s:s}",
		    "success", 0, "message", "fake fault"));
	else {
		relay_error_kind(r, "upstream_500");
		r->status = (int)status;
	}
	if (state_int(f, "retry_after") > 0) {
		snprintf(buf, sizeof buf, "%lld", state_int(f, "retry_after"));
		req_add_header(r, "Retry-After", buf);
	}
	/* A redirect, for the client's redirect limit and what it resends. */
	if (*state_str(f, "location") != '\0')
		req_add_header(r, "Location", state_str(f, "location"));
}

static void
fault_rate_limit(struct req *r, json_t *f)
{
	char		buf[32];
	long long	after = state_int(f, "retry_after");

	relay_error_kind(r, "rate_limited");
	snprintf(buf, sizeof buf, "%lld", after > 0 ? after : 1);
	req_add_header(r, "Retry-After", buf);
}

static void
fault_platform(struct req *r, json_t *f)
{
	relay_error_kind(r, state_str(f, "kind"));
}

static void
fault_garbage(struct req *r, __unused json_t *f)
{
	req_reply_text(r, 200, "application/json",
	    "}{\"success\":tru\x7f <<garbage>> ]]");
}

static void
fault_html(struct req *r, __unused json_t *f)
{
	req_reply_text(r, 200, "text/html; charset=utf-8",
	    "<!DOCTYPE html><html><head><title>Welcome</title></head>"
	    "<body><h1>It works!</h1><p>This is not an API.</p></body>"
	    "</html>\n");
}

/* A valid JSON envelope of about "bytes" bytes (default 8 MiB). */
static void
fault_oversized(struct req *r, json_t *f)
{
	long long	 n = state_int(f, "bytes");
	const char	*head = "{\"success\":true,\"message\":\"\",\"data\":\"";
	const char	*tail = "\"}";
	size_t		 hl = strlen(head), tl = strlen(tail), len;
	char		*buf;

	if (n <= 0)
		n = 8LL * 1024 * 1024;
	if (n > FAULT_MAX_OVERSIZE)
		n = FAULT_MAX_OVERSIZE;
	len = (size_t)n < hl + tl ? hl + tl : (size_t)n;
	if ((buf = malloc(len)) == NULL)
		abort();
	memcpy(buf, head, hl);
	memset(buf + hl, 'x', len - hl - tl);
	memcpy(buf + len - tl, tail, tl);
	req_reply(r, 200, "application/json", buf, len);
	free(buf);
}

static void
fault_waf(struct req *r, __unused json_t *f)
{
	waf_aliyun_page(r);
}

static void
fault_cloudflare(struct req *r, __unused json_t *f)
{
	waf_cloudflare_page(r);
}

/* Standard base64 (RFC 4648), padding optional; -1 on a bad character. */
static int
fault_b64(const char *in, char **out, size_t *outlen)
{
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p;
	char			*buf;
	unsigned int		 acc = 0;
	int			 bits = 0;
	size_t			 n = 0;

	if ((buf = malloc(strlen(in) * 3 / 4 + 3)) == NULL)
		abort();
	for (; *in != '\0' && *in != '='; in++) {
		if ((p = strchr(abc, *in)) == NULL) {
			free(buf);
			return (-1);
		}
		acc = (acc << 6) | (unsigned int)(p - abc);
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	*out = buf;
	*outlen = n;
	return (0);
}

/*
 * The "reply" kind: exactly the "status", "headers" and "body" (or
 * "body_b64") of the rule, written in pieces cut at the byte offsets of
 * "cuts", "delay_ms" apart, so a client really gets a stream split
 * mid-line or mid-character. Validated by fault_add().
 */
static void
fault_reply(struct req *r, json_t *f)
{
	const char	*name;
	json_t		*v, *hdrs = json_object_get(f, "headers");
	size_t		*cuts, ncuts, len, i;
	char		*body;
	long long	 status = state_int(f, "status");

	if (status < 100 || status > 999)
		status = 200;
	if (json_is_string(json_object_get(f, "body_b64"))) {
		if (fault_b64(state_str(f, "body_b64"), &body, &len) != 0)
			abort();	/* fault_add() checked it */
	} else {
		len = json_string_length(json_object_get(f, "body"));
		if ((body = malloc(len + 1)) == NULL)
			abort();
		memcpy(body, state_str(f, "body"), len);
	}
	ncuts = json_array_size(json_object_get(f, "cuts"));
	if ((cuts = calloc(ncuts + 1, sizeof *cuts)) == NULL)
		abort();
	for (i = 0; i < ncuts; i++) {
		cuts[i] = (size_t)json_integer_value(json_array_get(
		    json_object_get(f, "cuts"), i));
	}
	json_object_foreach(hdrs, name, v)
		req_add_header(r, name, json_string_value(v));
	req_send_pieces(r, (int)status, body, len, cuts, ncuts,
	    state_int(f, "delay_ms"));
	free(cuts);
	free(body);
}

/* A "reply" rule's fields, checked once so the reply cannot fail. */
static int
fault_reply_check(json_t *f, char **cause)
{
	const char	*name, *what = NULL;
	json_t		*v, *cuts = json_object_get(f, "cuts");
	json_int_t	 last = 0;
	size_t		 i, len;
	char		*body;

	if (json_object_get(f, "headers") != NULL &&
	    !json_is_object(json_object_get(f, "headers")))
		what = "headers must be an object of strings";
	json_object_foreach(json_object_get(f, "headers"), name, v) {
		if (!json_is_string(v) || strpbrk(name, "\r\n:") != NULL ||
		    strpbrk(json_string_value(v), "\r\n") != NULL)
			what = "headers must be an object of strings";
	}
	if (json_object_get(f, "body") != NULL &&
	    !json_is_string(json_object_get(f, "body")))
		what = "body must be a string";
	len = json_string_length(json_object_get(f, "body"));
	if ((v = json_object_get(f, "body_b64")) != NULL) {
		if (!json_is_string(v) || fault_b64(json_string_value(v),
		    &body, &len) != 0)
			what = "body_b64 must be base64";
		else
			free(body);
	}
	if (cuts != NULL && !json_is_array(cuts))
		what = "cuts must be an array of byte offsets";
	json_array_foreach(cuts, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= last ||
		    (size_t)json_integer_value(v) >= len)
			what = "cuts must ascend, each inside the body";
		else
			last = json_integer_value(v);
	}
	if (what != NULL) {
		*cause = strdup(what);
		return (-1);
	}
	if (json_object_get(f, "delay_ms") == NULL)
		state_set_int(f, "delay_ms", 20);
	return (0);
}

static void
fault_close(struct req *r, __unused json_t *f)
{
	r->replied = 0;
	r->streaming = 1;	/* nothing is written: the peer sees EOF */
}

/* Specific names before their generic aliases; looked up by either. */
static const struct fault_kind fault_kinds[] = {
	{ "status", NULL, 1, fault_status,
	  "reply with \"status\" (default 500), \"body\" (default: a "
	  "platform-shaped error), optional \"retry_after\" and "
	  "\"location\"" },
	{ "slow", "slow_first_byte", 0, NULL,
	  "sleep \"delay_ms\" before the first byte, then answer normally" },
	{ "slow_stream", NULL, 0, NULL,
	  "sleep \"delay_ms\" before every SSE frame; with \"stamp\": true "
	  "each JSON frame carries \"x_sent_us\", the fake's CLOCK_MONOTONIC "
	  "in microseconds as it writes the frame (bench/streamclient)" },
	{ "reset", "stream_abort", 0, NULL,
	  "cut the connection mid-body: half the body under a full "
	  "Content-Length, or after two SSE frames" },
	{ "endless", NULL, 0, NULL,
	  "after two SSE frames repeat the third every \"delay_ms\" "
	  "(default 50) for ever, until the client goes" },
	{ "trickle", NULL, 0, NULL,
	  "send a whole reply 8 bytes at a time, \"delay_ms\" (default "
	  "50) apart" },
	{ "error_event", "stream_error_event", 0, NULL,
	  "after two SSE frames send an in-band error (its text the "
	  "optional \"message\") and end the stream" },
	{ "truncated", "bad_json", 0, NULL,
	  "send the first half of the JSON body (Content-Length matches)" },
	{ "garbage", NULL, 1, fault_garbage,
	  "200 application/json whose body is not JSON" },
	{ "oversized", NULL, 1, fault_oversized,
	  "200 with a valid JSON body of \"bytes\" bytes (default 8 MiB)" },
	{ "waf", NULL, 1, fault_waf,
	  "the AnyRouter/Aliyun acw_sc__v2 challenge page" },
	{ "cloudflare", NULL, 1, fault_cloudflare,
	  "a Cloudflare \"Just a moment...\" challenge (403)" },
	{ "html", "html_200", 1, fault_html,
	  "200 text/html (a misconfigured site)" },
	{ "rate_limit", "rate_limited", 1, fault_rate_limit,
	  "429 with Retry-After (\"retry_after\", default 1)" },
	{ "reply", NULL, 1, fault_reply,
	  "exactly \"status\" (default 200), \"headers\" and \"body\" "
	  "(or \"body_b64\"), written in pieces cut at the byte offsets "
	  "\"cuts\", \"delay_ms\" (default 20) apart" },
	{ "close", NULL, 1, fault_close,
	  "close the connection without any reply" },
	{ "invalid_key", NULL, 1, fault_platform, "401 invalid key" },
	{ "key_exhausted", NULL, 1, fault_platform, "401 key quota used up" },
	{ "no_quota", NULL, 1, fault_platform,
	  "user quota exhausted (403; 402 on One/Done Hub)" },
	{ "model_forbidden", NULL, 1, fault_platform,
	  "403 key may not use the model" },
	{ "no_channel", NULL, 1, fault_platform,
	  "503 no channel for the model" },
	{ "upstream_500", NULL, 1, fault_platform, "500 upstream failure" },
	{ "upstream_502", NULL, 1, fault_platform, "502 upstream failure" },
	{ "upstream_503", NULL, 1, fault_platform, "503 upstream failure" },
	{ "anthropic_overloaded", NULL, 1, fault_platform,
	  "529 Anthropic overloaded_error" },
	{ "session_expired", NULL, 1, fault_platform,
	  "management 401: not logged in" },
};

static const struct fault_kind *
fault_kind_find(const char *name)
{
	size_t	i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < nitems(fault_kinds); i++) {
		if (strcmp(fault_kinds[i].name, name) == 0 ||
		    (fault_kinds[i].alias != NULL &&
		    strcmp(fault_kinds[i].alias, name) == 0))
			return (&fault_kinds[i]);
	}
	return (NULL);
}

/* The kinds as JSON, for GET /__fake/faults. */
static json_t *
fault_kinds_json(void)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < nitems(fault_kinds); i++) {
		json_array_append_new(a, json_pack("{s:s, s:s?, s:s}",
		    "kind", fault_kinds[i].name, "alias", fault_kinds[i].alias,
		    "help", fault_kinds[i].help));
	}
	return (a);
}

/*
 * Validate and store a rule. Fields: path ("*" or a "prefix*" allowed;
 * default "*"), method, key (substring of the Authorization, x-api-key or
 * Cookie header), kind (default "status"), status, times (default 1, -1
 * for ever), percent (of the matching requests, default all), delay_ms,
 * bytes, retry_after, body, content_type; for "reply" also headers,
 * body_b64 and cuts; for "slow_stream" also stamp.
 */
int
fault_add(json_t *doc, char **cause)
{
	const struct fault_kind	*k;
	const char		*kind;
	json_t			*f;
	long long		 id;

	if (!json_is_object(doc)) {
		*cause = strdup("fault must be a JSON object");
		return (-1);
	}
	kind = json_string_value(json_object_get(doc, "kind"));
	if (kind == NULL)
		kind = "status";
	if ((k = fault_kind_find(kind)) == NULL) {
		if (asprintf(cause, "unknown fault kind: %s", kind) == -1)
			*cause = NULL;
		return (-1);
	}
	f = json_deep_copy(doc);
	json_object_set_new(f, "kind", json_string(k->name));
	if (strcmp(k->name, "reply") == 0 && fault_reply_check(f, cause) != 0) {
		json_decref(f);
		return (-1);
	}
	if (json_object_get(f, "path") == NULL)
		json_object_set_new(f, "path", json_string("*"));
	if (!json_is_string(json_object_get(f, "path"))) {
		json_decref(f);
		*cause = strdup("path must be a string");
		return (-1);
	}
	if (json_object_get(f, "times") == NULL)
		state_set_int(f, "times", 1);
	state_set_int(f, "times", state_int(f, "times"));
	state_set_int(f, "delay_ms", state_int(f, "delay_ms"));
	if (state_int(f, "delay_ms") <= 0 && strcmp(k->name, "slow") == 0)
		state_set_int(f, "delay_ms", 2000);
	if (state_int(f, "delay_ms") <= 0 &&
	    strcmp(k->name, "slow_stream") == 0)
		state_set_int(f, "delay_ms", 200);
	if (state_int(f, "delay_ms") <= 0 && (strcmp(k->name, "endless") == 0 ||
	    strcmp(k->name, "trickle") == 0))
		state_set_int(f, "delay_ms", 50);
	if (json_object_get(f, "status") != NULL)
		state_set_int(f, "status", state_int(f, "status"));

	state_lock();
	if (fault_rules == NULL)
		fault_rules = json_array();
	if (json_array_size(fault_rules) >= FAULT_MAX) {
		state_unlock();
		json_decref(f);
		*cause = strdup("too many fault rules");
		return (-1);
	}
	id = fault_next_id++;
	state_set_int(f, "id", id);
	json_array_append_new(fault_rules, f);
	state_unlock();
	return ((int)id);
}

json_t *
fault_list(void)
{
	json_t	*out;

	state_lock();
	out = json_pack("{s:o, s:o}", "faults", fault_rules != NULL ?
	    json_deep_copy(fault_rules) : json_array(), "kinds",
	    fault_kinds_json());
	state_unlock();
	return (out);
}

void
fault_clear(void)
{
	state_lock();
	if (fault_rules != NULL)
		json_array_clear(fault_rules);
	state_unlock();
}

static int
fault_match(struct req *r, json_t *f)
{
	const char	*path = state_str(f, "path");
	const char	*method = state_str(f, "method");
	const char	*key = state_str(f, "key");
	const char	*hdrs[] = { "Authorization", "x-api-key", "Cookie" };
	size_t		 len = strlen(path), i;
	const char	*h;

	if (*method != '\0' && strcasecmp(method, r->method) != 0)
		return (0);
	if (len > 0 && path[len - 1] == '*') {
		if (strncmp(r->path, path, len - 1) != 0)
			return (0);
	} else if (strcmp(r->path, path) != 0)
		return (0);
	if (*key == '\0')
		return (1);
	for (i = 0; i < nitems(hdrs); i++) {
		if ((h = req_header(r, hdrs[i])) != NULL && strstr(h, key))
			return (1);
	}
	return (0);
}

/*
 * A rule with "percent": P hits P of every 100 matching requests, spread
 * evenly and the same on every run (the n-th request is hit when
 * floor(n * P / 100) steps up), so tests can count on the share.
 */
static int
fault_share(json_t *f)
{
	long long	p, seen;

	if (json_object_get(f, "percent") == NULL)
		return (1);
	p = state_int(f, "percent");
	seen = state_int(f, "seen");
	state_set_int(f, "seen", seen + 1);
	return ((seen + 1) * p / 100 > seen * p / 100);
}

/*
 * The fault for this request, consumed: the X-Mock-Fail header (with
 * X-Mock-Delay for the delay kinds, default 2000 ms), else the first
 * matching rule, whose "times" goes down by one. Caller owns the copy.
 */
json_t *
fault_take(struct req *r)
{
	const char	*hdr = req_header(r, "X-Mock-Fail");
	const char	*delay = req_header(r, "X-Mock-Delay");
	const struct fault_kind	*k;
	json_t		*f, *out = NULL;
	size_t		 i;
	long long	 times, ms;

	if (hdr != NULL && (k = fault_kind_find(hdr)) != NULL) {
		ms = delay != NULL ? strtoll(delay, NULL, 10) : 0;
		if (ms <= 0 && (strcmp(k->name, "slow") == 0 ||
		    strcmp(k->name, "slow_stream") == 0))
			ms = strcmp(k->name, "slow") == 0 ? 2000 : 200;
		if (ms <= 0 && (strcmp(k->name, "endless") == 0 ||
		    strcmp(k->name, "trickle") == 0))
			ms = 50;
		return (json_pack("{s:s, s:I}", "kind", k->name,
		    "delay_ms", (json_int_t)ms));
	}

	state_lock();
	json_array_foreach(fault_rules, i, f) {
		if (!fault_match(r, f) || !fault_share(f))
			continue;
		out = json_deep_copy(f);
		times = state_int(f, "times");
		if (times > 0) {
			state_set_int(f, "times", --times);
			if (times == 0)
				json_array_remove(fault_rules, i);
		}
		break;
	}
	state_unlock();
	return (out);
}

/*
 * Before the handler: sleep for the delay kinds, and answer in place of
 * the handler for the terminal kinds. Returns 1 if the reply is done.
 */
int
fault_before(struct req *r)
{
	const struct fault_kind	*k;

	if (r->fault == NULL)
		return (0);
	k = fault_kind_find(state_str(r->fault, "kind"));
	if (k == NULL)
		return (0);
	/* Their delay is between frames or pieces, not before the first. */
	if (strcmp(k->name, "slow_stream") != 0 &&
	    strcmp(k->name, "reply") != 0)
		req_sleep_ms(state_int(r->fault, "delay_ms"));
	if (!k->terminal)
		return (0);
	k->reply(r, r->fault);
	return (1);
}

/* After the handler: damage the buffered reply. */
void
fault_after(struct req *r)
{
	const char	*kind;

	if (r->fault == NULL || r->streaming || !r->replied)
		return;
	kind = state_str(r->fault, "kind");
	if (strcmp(kind, "truncated") == 0) {
		r->outlen /= 2;
		r->sendlen = r->outlen;
	} else if (strcmp(kind, "reset") == 0)
		r->sendlen = r->outlen / 2;
	else if (strcmp(kind, "trickle") == 0)
		r->trickle_ms = state_int(r->fault, "delay_ms");
}
