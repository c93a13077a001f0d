/*
 * Downstream authentication on the request path: find the client's key
 * (Authorization Bearer, x-api-key, x-goog-api-key, ?key=), look it up in
 * the snapshot, apply its policy, and answer errors in the shape the
 * client speaks: OpenAI's, or Anthropic's on the Messages surface and for
 * clients that sent x-api-key / anthropic-version.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>
#include <jansson.h>

#include "compat.h"
#include "daemon.h"
#include "jx.h"
#include "modelpat.h"
#include "snapshot.h"
#include "xmalloc.h"

#define HTTP_KEY_MAX	512
#define HTTP_FAIL_SLOTS	1024		/* addresses remembered */
#define HTTP_FAIL_WINDOW 60		/* seconds */

/*
 * Addresses that sent invalid keys: a guesser gets auth_fail_limit tries
 * a minute, then every request from its address is refused (429) until
 * the minute is over, a right key included, or the guessing would go on
 * at full speed. A fixed table: an address whose slot another takes
 * starts again, which only ever lets a guesser through sooner.
 */
static struct http_fail {
	char	addr[48];
	time_t	since;		/* the window's start */
	int	count;
} http_fails[HTTP_FAIL_SLOTS];
static pthread_mutex_t http_fail_mtx = PTHREAD_MUTEX_INITIALIZER;

static struct http_fail *
http_fail_slot(const char *addr)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	for (; *addr != '\0'; addr++)
		h = (h ^ (unsigned char)*addr) * 16777619u;
	return (&http_fails[h % HTTP_FAIL_SLOTS]);
}

/* Seconds the address must wait before its next try, or 0. */
static long
http_fail_wait(const char *addr, int limit, time_t now)
{
	struct http_fail	*f;
	long			 wait = 0;

	if (limit <= 0)
		return (0);
	pthread_mutex_lock(&http_fail_mtx);
	f = http_fail_slot(addr);
	if (strcmp(f->addr, addr) == 0 && now - f->since < HTTP_FAIL_WINDOW &&
	    f->count >= limit)
		wait = HTTP_FAIL_WINDOW - (long)(now - f->since);
	pthread_mutex_unlock(&http_fail_mtx);
	return (wait);
}

static void
http_fail_count(const char *addr, time_t now)
{
	struct http_fail	*f;

	pthread_mutex_lock(&http_fail_mtx);
	f = http_fail_slot(addr);
	if (strcmp(f->addr, addr) != 0 || now - f->since >= HTTP_FAIL_WINDOW) {
		strlcpy(f->addr, addr, sizeof f->addr);
		f->since = now;
		f->count = 0;
	}
	f->count++;
	pthread_mutex_unlock(&http_fail_mtx);
}

/* Does the client speak Anthropic's dialect? */
int
http_is_claude(struct mg_connection *conn)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);

	return (mg_get_header(conn, "anthropic-version") != NULL ||
	    mg_get_header(conn, "x-api-key") != NULL ||
	    strncmp(ri->local_uri, "/v1/messages", 12) == 0);
}

/*
 * An error reply. OpenAI: {"error": {"message", "type", "param", "code"}};
 * Anthropic: {"type": "error", "error": {"type", "message"}}. The message
 * is made UTF-8 first: json_pack() refuses anything else, and there
 * would be no body at all.
 */
static char *
http_error_body(struct mg_connection *conn, const char *type,
    const char *code, const char *msg)
{
	json_t	*o;
	char	*s, *text;

	text = jx_utf8_clean(msg, strlen(msg));
	if (http_is_claude(conn))
		o = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
		    "type", type, "message", text);
	else
		o = json_pack("{s:{s:s, s:s, s:n, s:s?}}", "error", "message",
		    text, "type", type, "param", "code", code);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(text);
	return (s);
}

void
http_error(struct mg_connection *conn, int status, const char *type,
    const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *body, idh[64];

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	body = http_error_body(conn, type, code, msg);
	http_id_header(conn, idh, sizeof idh);
	mg_printf(conn, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s"
	    "\r\n%s", status, mg_get_response_code_text(conn, status),
	    strlen(body), idh, body);
	free(body);
	free(msg);
}

/* 429 with Retry-After for an address that guessed too many keys. */
static void
http_error_guessing(struct mg_connection *conn, long wait)
{
	char	*body;

	body = http_error_body(conn, http_is_claude(conn) ?
	    "rate_limit_error" : "invalid_request_error", "too_many_bad_keys",
	    "too many invalid API keys from this address; try again later");
	mg_printf(conn, "HTTP/1.1 429 Too Many Requests\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Retry-After: %ld\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n%s", strlen(body), wait, body);
	free(body);
}

/* The key as the client sent it, in the order the reference product uses. */
static int
http_key_text(struct mg_connection *conn, char *out, size_t len)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	const char			*h;

	if ((h = mg_get_header(conn, "Authorization")) != NULL) {
		if (strncasecmp(h, "Bearer ", 7) == 0)
			h += 7;
		h += strspn(h, " ");
	} else if ((h = mg_get_header(conn, "x-api-key")) == NULL)
		h = mg_get_header(conn, "x-goog-api-key");
	if (h != NULL) {
		if (strlen(h) >= len)
			return (-1);
		memcpy(out, h, strlen(h) + 1);
		return (0);
	}
	if (ri->query_string != NULL &&
	    mg_get_var(ri->query_string, strlen(ri->query_string), "key", out,
	    len) > 0)
		return (0);
	return (-1);
}

/*
 * Authenticate the request against the snapshot. On success *key points
 * into snap (valid while the caller holds it); on failure the error reply
 * has been sent and -1 is returned.
 */
int
http_auth(struct mg_connection *conn, const struct snapshot *snap,
    const struct snap_key **key)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	char			 text[HTTP_KEY_MAX];
	const struct snap_key	*k;
	time_t			 now = time(NULL);
	int			 claude = http_is_claude(conn);
	long			 wait;

	if ((wait = http_fail_wait(ri->remote_addr,
	    snap->limits.auth_fail_limit, now)) > 0) {
		http_error_guessing(conn, wait);
		return (-1);
	}
	if (http_key_text(conn, text, sizeof text) != 0 || text[0] == '\0') {
		http_error(conn, 401, claude ? "authentication_error" :
		    "invalid_request_error", "missing_api_key", "missing API "
		    "key: send Authorization: Bearer sk-...");
		return (-1);
	}
	k = snapshot_key(snap, text);
	explicit_bzero(text, sizeof text);
	if (k == NULL) {
		if (snap->limits.auth_fail_limit > 0)
			http_fail_count(ri->remote_addr, now);
		http_error(conn, 401, claude ? "authentication_error" :
		    "invalid_request_error", "invalid_api_key",
		    "invalid API key");
		return (-1);
	}
	if (!k->enabled) {
		http_error(conn, 403, claude ? "permission_error" :
		    "invalid_request_error", "api_key_disabled",
		    "this API key is disabled");
		return (-1);
	}
	if (k->expires_at != 0 && k->expires_at < now) {
		http_error(conn, 403, claude ? "permission_error" :
		    "invalid_request_error", "api_key_expired",
		    "this API key has expired");
		return (-1);
	}
	if ((k->has_max_cost && k->used_cost >= k->max_cost) ||
	    (k->has_max_requests && k->used_requests >= k->max_requests)) {
		http_error(conn, 429, claude ? "rate_limit_error" :
		    "insufficient_quota", "api_key_quota_exceeded",
		    "this API key has used up its %s limit",
		    k->has_max_cost && k->used_cost >= k->max_cost ? "cost" :
		    "request");
		return (-1);
	}
	*key = k;
	return (0);
}

/* 403 unless the key's patterns allow model; the reply is sent here. */
int
http_model_allowed(struct mg_connection *conn, const struct snap_key *k,
    const char *model)
{
	if (modelpat_match(k->models, model))
		return (1);
	http_error(conn, 403, "permission_error", "model_not_allowed",
	    "model not allowed for this API key: %s", model);
	return (0);
}
