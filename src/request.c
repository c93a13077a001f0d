/*
 * What the proxy does with a client's request body before it forwards
 * it: read it (a JSON object naming a model, and the stream flag where
 * the surface streams), ask a Chat stream for its usage chunk, put the
 * channel's model in, find the conversation it belongs to, count the
 * tokens of a count_tokens request locally, and build the body converted
 * for an upstream speaking another format. Pure functions of the body:
 * daemon/http-proxy.c does the I/O around them, and the fuzz harness
 * tests/fuzz/fuzz-request.c feeds them hostile bodies.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"
#include "err.h"
#include "jx.h"
#include "relay.h"
#include "request.h"
#include "usage.h"
#include "xform.h"
#include "xmalloc.h"

/* Tokens counted for an image or a document: about a full-size image. */
#define REQUEST_IMAGE_TOKENS	1600

/* The surfaces that may answer with SSE, indexed by relay_format. */
static const int request_streaming[RELAY_FORMAT_COUNT] = {
	[RELAY_CHAT] = 1,
	[RELAY_COMPLETIONS] = 1,
	[RELAY_RESPONSES] = 1,
	[RELAY_MESSAGES] = 1,
};

int
request_streams(enum relay_format fmt)
{
	return ((unsigned)fmt < RELAY_FORMAT_COUNT && request_streaming[fmt]);
}

/*
 * Read a body: 0 with rq filled in, or -1 with e set and *why the error
 * code of the 400 reply ("invalid_json", "missing_model"). A key given
 * twice in an object is refused: the body usually goes upstream as it
 * came, and a site whose parser keeps the first "model" where jansson
 * keeps the last would serve another model than the one the key was
 * allowed and the route chosen for.
 */
int
request_parse(struct request *rq, enum relay_format fmt, const char *raw,
    size_t len, const char **why, struct err *e)
{
	json_error_t	 jerr;
	const char	*model;
	char		*where;

	memset(rq, 0, sizeof *rq);
	rq->fmt = fmt;
	rq->body = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(rq->body)) {
		/*
		 * jansson's text quotes the token it choked on and may cut
		 * a UTF-8 character: the message goes into a JSON reply.
		 */
		*why = "invalid_json";
		where = jx_utf8_clean(jerr.text, strlen(jerr.text));
		err_set(e, ERR_INVALID, "the body is not a JSON object: %s",
		    rq->body == NULL ? where : "wrong type");
		free(where);
		goto fail;
	}
	model = json_string_value(json_object_get(rq->body, "model"));
	if (model == NULL || *model == '\0') {
		*why = "missing_model";
		err_set(e, ERR_INVALID, "\"model\" is required");
		goto fail;
	}
	rq->model = xstrdup(model);
	rq->stream = request_streams(fmt) &&
	    json_is_true(json_object_get(rq->body, "stream"));
	if (fmt == RELAY_RESPONSES)
		rq->prev = json_string_value(json_object_get(rq->body,
		    "previous_response_id"));
	return (0);
fail:
	request_free(rq);
	return (-1);
}

void
request_free(struct request *rq)
{
	if (rq == NULL)
		return;
	json_decref(rq->body);
	free(rq->model);
	memset(rq, 0, sizeof *rq);
}

/*
 * Chat streams: ask for the usage chunk so the request can be billed, and
 * remember to hide it from a client that did not ask for it. 1 when the
 * body changed.
 */
int
request_ask_usage(struct request *rq)
{
	json_t	*opts;

	if (rq->fmt != RELAY_CHAT || !rq->stream)
		return (0);
	opts = json_object_get(rq->body, "stream_options");
	if (json_is_true(json_object_get(opts, "include_usage")))
		return (0);
	if (!json_is_object(opts)) {
		opts = json_object();
		json_object_set_new(rq->body, "stream_options", opts);
	}
	json_object_set_new(opts, "include_usage", json_true());
	rq->strip_usage = 1;
	return (1);
}

/* Put the model sent upstream into the body: 1 when the body changed. */
int
request_set_model(struct request *rq, const char *model)
{
	const char	*cur;

	cur = json_string_value(json_object_get(rq->body, "model"));
	if (cur != NULL && strcmp(cur, model) == 0)
		return (0);
	json_object_set_new(rq->body, "model", json_string(model));
	return (1);
}

/*
 * Claude Code's metadata.user_id names its session: the conversation key
 * for sticky sessions when no session header says it. Borrowed, or NULL.
 */
const char *
request_session(const struct request *rq)
{
	const char	*sid;

	sid = json_string_value(json_object_get(json_object_get(rq->body,
	    "metadata"), "user_id"));
	if (sid != NULL && strstr(sid, "session") == NULL)
		return (NULL);
	return (sid);
}

/* Add the text of every string in j to est, but not ids or images. */
static void
request_count_walk(const json_t *j, struct usage_est *est, long long *images)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (json_is_string(j)) {
		usage_est_add(est, json_string_value(j), json_string_length(j));
		return;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			request_count_walk(v, est, images);
		return;
	}
	json_object_foreach((json_t *)j, k, v) {
		if (strcmp(k, "type") == 0 && json_is_string(v) &&
		    (strcmp(json_string_value(v), "image") == 0 ||
		    strcmp(json_string_value(v), "document") == 0))
			(*images)++;
		if (strcmp(k, "source") == 0 || strcmp(k, "id") == 0 ||
		    strcmp(k, "tool_use_id") == 0 || strcmp(k, "type") == 0 ||
		    strcmp(k, "signature") == 0 || strcmp(k, "model") == 0)
			continue;
		request_count_walk(v, est, images);
	}
}

/*
 * count_tokens with no channel that counts: an estimate from the text of
 * a Messages body, and a flat REQUEST_IMAGE_TOKENS per image or
 * document. At least 1.
 */
long long
request_count_tokens(const json_t *body)
{
	static const char *const parts[] = { "system", "messages", "tools" };
	struct usage_est	 est;
	long long		 images = 0, n;
	size_t			 i;

	memset(&est, 0, sizeof est);
	for (i = 0; i < nitems(parts); i++)
		request_count_walk(json_object_get(body, parts[i]), &est,
		    &images);
	n = usage_est_tokens(&est) + images * REQUEST_IMAGE_TOKENS;
	return (n < 1 ? 1 : n);
}

/*
 * The request as the hub (Chat), with the kept turns of a Responses
 * conversation (history, or NULL) put after its instructions. Owned, or
 * NULL with e set.
 */
json_t *
request_hub(const struct request *rq, const json_t *history, struct err *e)
{
	json_t		*hub, *all, *m;
	const char	*role;
	size_t		 i;
	int		 pass;

	if ((hub = xf_to_chat(rq->fmt, rq->body, e)) == NULL)
		return (NULL);
	if (history == NULL)
		return (hub);
	all = json_array();
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			json_array_extend(all, (json_t *)history);
		json_array_foreach(json_object_get(hub, "messages"), i, m) {
			role = json_string_value(json_object_get(m, "role"));
			if ((role != NULL && (strcmp(role, "system") == 0 ||
			    strcmp(role, "developer") == 0)) == (pass == 0))
				json_array_append(all, m);
		}
	}
	json_object_set_new(hub, "messages", all);
	return (hub);
}

/*
 * The body for an upstream speaking format up, from the hub: the model
 * sent upstream and the stream flag go into the hub first. Owned text,
 * or NULL with e set.
 */
char *
request_convert(const struct request *rq, json_t *hub, enum relay_format up,
    const char *model, struct err *e)
{
	json_t	*b;
	char	*s;

	json_object_set_new(hub, "model", json_string(model));
	json_object_set_new(hub, "stream", json_boolean(rq->stream));
	if ((b = xf_from_chat(up, hub, e)) == NULL)
		return (NULL);
	if (up == RELAY_CHAT && rq->stream)
		json_object_set_new(b, "stream_options", json_pack("{s:b}",
		    "include_usage", 1));
	s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	if (s == NULL)
		err_set(e, ERR_INVALID, "the converted request has text "
		    "that is not UTF-8");
	return (s);
}
