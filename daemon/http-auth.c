/*
 * Downstream authentication on the request path: find the client's key
 * (Authorization Bearer, x-api-key, x-goog-api-key, ?key=), look it up in
 * the snapshot, apply its policy, and answer errors in the shape the
 * client speaks: OpenAI's, or Anthropic's on the Messages surface and for
 * clients that sent x-api-key / anthropic-version.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>
#include <jansson.h>

#include "daemon.h"
#include "modelpat.h"
#include "snapshot.h"
#include "xmalloc.h"

#define HTTP_KEY_MAX	512

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
 * Anthropic: {"type": "error", "error": {"type", "message"}}.
 */
void
http_error(struct mg_connection *conn, int status, const char *type,
    const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	json_t	*o;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (http_is_claude(conn))
		o = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
		    "type", type, "message", msg);
	else
		o = json_pack("{s:{s:s, s:s, s:n, s:s?}}", "error", "message",
		    msg, "type", type, "param", "code", code);
	http_send_json(conn, status, o);
	json_decref(o);
	free(msg);
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
	char			 text[HTTP_KEY_MAX];
	const struct snap_key	*k;
	time_t			 now = time(NULL);
	int			 claude = http_is_claude(conn);

	if (http_key_text(conn, text, sizeof text) != 0 || text[0] == '\0') {
		http_error(conn, 401, claude ? "authentication_error" :
		    "invalid_request_error", "missing_api_key", "missing API "
		    "key: send Authorization: Bearer sk-...");
		return (-1);
	}
	k = snapshot_key(snap, text);
	explicit_bzero(text, sizeof text);
	if (k == NULL) {
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
