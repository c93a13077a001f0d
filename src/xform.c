/*
 * Format conversion, the shared parts: the dispatch by format, finish
 * reasons, the normalized reply and its accumulation, ids and error
 * bodies. Each format's own four sides live in xform-<format>.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "relay.h"
#include "usage.h"
#include "xform.h"
#include "xmalloc.h"

/* Each conversational format's converters; other formats have none. */
static const struct {
	json_t	*(*to_chat)(const json_t *, struct err *);
	json_t	*(*from_chat)(const json_t *, struct err *);
	int	 (*parse_final)(const json_t *, struct xf_final *,
		     struct err *);
	json_t	*(*write_final)(struct xf_final *);
	int	 (*parse_event)(struct xf_parser *, const char *,
		     const json_t *, const char *, size_t, xf_delta_cb, void *);
	int	 (*write_delta)(struct xf_writer *, const struct xf_delta *,
		     struct buf *);
	int	 (*write_error)(struct xf_writer *, const char *, struct buf *);
} xf_table[RELAY_FORMAT_COUNT] = {
	[RELAY_CHAT] = { xf_chat_to_chat, xf_chat_from_chat,
	    xf_chat_parse_final, xf_chat_write_final, xf_chat_parse_event,
	    xf_chat_write_delta, xf_chat_write_error },
	[RELAY_MESSAGES] = { xf_messages_to_chat, xf_messages_from_chat,
	    xf_messages_parse_final, xf_messages_write_final,
	    xf_messages_parse_event, xf_messages_write_delta,
	    xf_messages_write_error },
	[RELAY_RESPONSES] = { xf_responses_to_chat, xf_responses_from_chat,
	    xf_responses_parse_final, xf_responses_write_final,
	    xf_responses_parse_event, xf_responses_write_delta,
	    xf_responses_write_error },
};

/* Can requests in this format be converted to and from the others? */
int
xf_converts(enum relay_format f)
{
	return ((unsigned)f < RELAY_FORMAT_COUNT && xf_table[f].to_chat != NULL);
}

/* The finish reason each format writes; indexed by enum xf_finish. */
static const struct {
	const char	*chat;
	const char	*messages;
	const char	*responses;	/* the response's status */
} xf_finish_names[] = {
	[XF_FINISH_NONE] = { NULL, NULL, NULL },
	[XF_FINISH_STOP] = { "stop", "end_turn", "completed" },
	[XF_FINISH_LENGTH] = { "length", "max_tokens", "incomplete" },
	[XF_FINISH_TOOL] = { "tool_calls", "tool_use", "completed" },
	[XF_FINISH_FILTER] = { "content_filter", "refusal", "incomplete" },
	[XF_FINISH_ERROR] = { "stop", "end_turn", "failed" },
};

const char *
xf_finish_name(enum relay_format f, enum xf_finish r)
{
	if ((unsigned)r >= nitems(xf_finish_names))
		r = XF_FINISH_STOP;
	switch (f) {
	case RELAY_MESSAGES:
		return (xf_finish_names[r].messages);
	case RELAY_RESPONSES:
		return (xf_finish_names[r].responses);
	default:
		return (xf_finish_names[r].chat);
	}
}

/* Every format's words for why a reply ended. */
static const struct {
	const char	*word;
	enum xf_finish	 r;
} xf_finish_words[] = {
	{ "stop", XF_FINISH_STOP },
	{ "end_turn", XF_FINISH_STOP },
	{ "stop_sequence", XF_FINISH_STOP },
	{ "pause_turn", XF_FINISH_STOP },
	{ "completed", XF_FINISH_STOP },
	{ "end", XF_FINISH_STOP },
	{ "eos", XF_FINISH_STOP },
	{ "finished", XF_FINISH_STOP },
	{ "length", XF_FINISH_LENGTH },
	{ "max_tokens", XF_FINISH_LENGTH },
	{ "max_output_tokens", XF_FINISH_LENGTH },
	{ "incomplete", XF_FINISH_LENGTH },
	{ "model_context_window_exceeded", XF_FINISH_LENGTH },
	{ "tool_calls", XF_FINISH_TOOL },
	{ "tool_use", XF_FINISH_TOOL },
	{ "function_call", XF_FINISH_TOOL },
	{ "content_filter", XF_FINISH_FILTER },
	{ "refusal", XF_FINISH_FILTER },
	{ "safety", XF_FINISH_FILTER },
	{ "failed", XF_FINISH_ERROR },
	{ "error", XF_FINISH_ERROR },
};

/*
 * A finish reason in any format's words. Unknown words go by what they
 * mention (a "max" is a length limit, a "tool" a tool call), else stop.
 */
enum xf_finish
xf_finish_parse(const char *s)
{
	size_t	i;

	if (s == NULL || *s == '\0')
		return (XF_FINISH_NONE);
	for (i = 0; i < nitems(xf_finish_words); i++)
		if (strcasecmp(s, xf_finish_words[i].word) == 0)
			return (xf_finish_words[i].r);
	if (strstr(s, "max") != NULL)
		return (XF_FINISH_LENGTH);
	if (strstr(s, "tool") != NULL)
		return (XF_FINISH_TOOL);
	return (XF_FINISH_STOP);
}

void
xf_final_init(struct xf_final *f)
{
	size_t	i;

	memset(f, 0, sizeof *f);
	buf_init(&f->text, XF_MAX_TEXT);
	buf_init(&f->reasoning, XF_MAX_TEXT);
	for (i = 0; i < XF_MAX_CALLS; i++)
		buf_init(&f->calls[i].args, XF_MAX_TEXT);
}

void
xf_final_free(struct xf_final *f)
{
	size_t	i;

	free(f->id);
	free(f->model);
	buf_free(&f->text);
	buf_free(&f->reasoning);
	free(f->signature);
	free(f->redacted);
	for (i = 0; i < XF_MAX_CALLS; i++) {
		free(f->calls[i].id);
		free(f->calls[i].name);
		buf_free(&f->calls[i].args);
	}
	free(f->stop_sequence);
	free(f->error);
	xf_final_init(f);
}

static void
xf_replace(char **dst, const char *s, size_t len)
{
	free(*dst);
	*dst = s != NULL ? xstrndup(s, len) : NULL;
}

/*
 * Apply one stream delta to a reply being collected. Text beyond
 * XF_MAX_TEXT and calls beyond XF_MAX_CALLS are dropped: -1 says so.
 */
int
xf_final_add(struct xf_final *f, const struct xf_delta *d)
{
	struct xf_call	*c;
	int		 rv = 0;

	switch (d->kind) {
	case XF_D_START:
		if (d->id != NULL && f->id == NULL)
			f->id = xstrdup(d->id);
		if (d->model != NULL && f->model == NULL)
			f->model = xstrdup(d->model);
		break;
	case XF_D_TEXT:
		rv = buf_add(&f->text, d->text, d->len);
		break;
	case XF_D_REASONING:
		rv = buf_add(&f->reasoning, d->text, d->len);
		break;
	case XF_D_SIGNATURE:
		xf_replace(&f->signature, d->text, d->len);
		break;
	case XF_D_REDACTED:
		xf_replace(&f->redacted, d->text, d->len);
		break;
	case XF_D_TOOL_START:
		if (d->index < 0 || d->index >= XF_MAX_CALLS)
			return (-1);
		c = &f->calls[d->index];
		if (d->id != NULL)
			xf_replace(&c->id, d->id, strlen(d->id));
		if (d->name != NULL)
			xf_replace(&c->name, d->name, strlen(d->name));
		if ((size_t)d->index >= f->ncalls)
			f->ncalls = d->index + 1;
		if (d->text != NULL)
			rv = buf_add(&c->args, d->text, d->len);
		break;
	case XF_D_TOOL_ARGS:
		if (d->index < 0 || (size_t)d->index >= f->ncalls)
			return (-1);
		rv = buf_add(&f->calls[d->index].args, d->text, d->len);
		break;
	case XF_D_FINISH:
		f->finish = d->finish;
		if (d->text != NULL)
			xf_replace(&f->stop_sequence, d->text, d->len);
		break;
	case XF_D_USAGE:
		if (d->usage != NULL)
			xf_usage_merge(&f->usage, d->usage);
		break;
	case XF_D_ERROR:
		xf_replace(&f->error, d->text, d->len);
		f->finish = XF_FINISH_ERROR;
		break;
	case XF_D_DONE:
		break;
	}
	return (rv);
}

/*
 * Stream usage arrives in pieces (Anthropic: input at the start, output
 * at the end): a count that is told replaces the one known.
 */
void
xf_usage_merge(struct usage *dst, const struct usage *src)
{
	if (src->source == USAGE_NONE)
		return;
	if (src->prompt != 0)
		dst->prompt = src->prompt;
	if (src->completion != 0)
		dst->completion = src->completion;
	if (src->cache_read != 0)
		dst->cache_read = src->cache_read;
	if (src->cache_write != 0)
		dst->cache_write = src->cache_write;
	if (src->reasoning != 0)
		dst->reasoning = src->reasoning;
	if (src->source > dst->source)
		dst->source = src->source;
}

/* An id the client sees: prefix and 24 random letters and digits. */
void
xf_make_id(char *out, size_t size, const char *prefix)
{
	static const char	 digits[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t			 i, n;

	n = strlcpy(out, prefix, size);
	for (i = 0; i < 24 && n + 1 < size; i++)
		out[n++] = digits[randombytes_uniform(sizeof digits - 1)];
	if (n < size)
		out[n] = '\0';
}

/*
 * The words of an upstream error, whatever its shape: {"error":
 * {"message"}}, {"error": "..."}, {"message"}, {"detail"}, or the raw
 * text when it is not JSON. Never NULL.
 */
char *
xf_error_message(const json_t *j, const char *raw, size_t len)
{
	static const char *const keys[] = { "message", "detail", "msg" };
	const json_t	*err = json_object_get(j, "error");
	const char	*s = NULL;
	size_t		 i;

	if (json_is_string(err))
		s = json_string_value(err);
	for (i = 0; s == NULL && i < nitems(keys); i++)
		s = json_string_value(json_object_get(err, keys[i]));
	for (i = 0; s == NULL && i < nitems(keys); i++)
		s = json_string_value(json_object_get(j, keys[i]));
	if (s != NULL)
		return (xstrdup(s));
	if (raw != NULL && len > 0)
		return (jx_utf8_clean(raw, len < 512 ? len : 512));
	return (xstrdup("upstream error"));
}

/* Error types by HTTP status, in OpenAI's words and Anthropic's. */
static const struct {
	int		 status;
	const char	*openai;
	const char	*anthropic;
} xf_error_types[] = {
	{ 400, "invalid_request_error", "invalid_request_error" },
	{ 401, "authentication_error", "authentication_error" },
	{ 402, "insufficient_quota", "billing_error" },
	{ 403, "permission_error", "permission_error" },
	{ 404, "not_found_error", "not_found_error" },
	{ 413, "invalid_request_error", "request_too_large" },
	{ 429, "rate_limit_error", "rate_limit_error" },
	{ 529, "server_error", "overloaded_error" },
};

/* An error reply body in the client's format. */
json_t *
xf_error_body(enum relay_format f, int status, const char *message)
{
	const char	*oa = status >= 500 ? "server_error" :
			    "invalid_request_error";
	const char	*an = status >= 500 ? "api_error" :
			    "invalid_request_error";
	json_t		*probe;
	size_t		 i;

	for (i = 0; i < nitems(xf_error_types); i++) {
		if (xf_error_types[i].status == status) {
			oa = xf_error_types[i].openai;
			an = xf_error_types[i].anthropic;
		}
	}
	/* Text that is not UTF-8 cannot be said in JSON. */
	probe = message != NULL ? json_string(message) : NULL;
	if (probe == NULL)
		message = "upstream error";
	json_decref(probe);
	if (f == RELAY_MESSAGES || f == RELAY_COUNT_TOKENS)
		return (json_pack("{s:s, s:{s:s, s:s}}", "type", "error",
		    "error", "type", an, "message", message));
	return (json_pack("{s:{s:s, s:s, s:n, s:n}}", "error", "message",
	    message, "type", oa, "param", "code"));
}

/*
 * A whole reply as the stream that would have carried it, for a client
 * that asked for a stream from an upstream that answered whole.
 */
int
xf_final_deltas(const struct xf_final *f, xf_delta_cb cb, void *arg)
{
	struct xf_delta	d;
	size_t		i;
	int		rc;

#define XF_EMIT(...) do {						\
	memset(&d, 0, sizeof d);					\
	d = (struct xf_delta){ __VA_ARGS__ };				\
	if ((rc = cb(&d, arg)) != 0)					\
		return (rc);						\
} while (0)
	XF_EMIT(.kind = XF_D_START, .id = f->id, .model = f->model);
	if (f->reasoning.len > 0)
		XF_EMIT(.kind = XF_D_REASONING, .text = f->reasoning.data,
		    .len = f->reasoning.len);
	if (f->signature != NULL)
		XF_EMIT(.kind = XF_D_SIGNATURE, .text = f->signature,
		    .len = strlen(f->signature));
	if (f->redacted != NULL)
		XF_EMIT(.kind = XF_D_REDACTED, .text = f->redacted,
		    .len = strlen(f->redacted));
	if (f->text.len > 0)
		XF_EMIT(.kind = XF_D_TEXT, .text = f->text.data,
		    .len = f->text.len);
	for (i = 0; i < f->ncalls; i++) {
		XF_EMIT(.kind = XF_D_TOOL_START, .index = (int)i,
		    .id = f->calls[i].id, .name = f->calls[i].name);
		if (f->calls[i].args.len > 0)
			XF_EMIT(.kind = XF_D_TOOL_ARGS, .index = (int)i,
			    .text = f->calls[i].args.data,
			    .len = f->calls[i].args.len);
	}
	if (f->error != NULL) {
		XF_EMIT(.kind = XF_D_ERROR, .text = f->error,
		    .len = strlen(f->error));
		return (0);
	}
	XF_EMIT(.kind = XF_D_FINISH, .finish = f->finish,
	    .text = f->stop_sequence, .len = f->stop_sequence != NULL ?
	    strlen(f->stop_sequence) : 0);
	if (f->usage.source != USAGE_NONE)
		XF_EMIT(.kind = XF_D_USAGE, .usage = &f->usage);
	XF_EMIT(.kind = XF_D_DONE);
#undef XF_EMIT
	return (0);
}

/* The dispatch. */

json_t *
xf_to_chat(enum relay_format f, const json_t *req, struct err *e)
{
	if (!xf_converts(f)) {
		err_set(e, ERR_INVALID, "the %s format is not converted",
		    relay_format_name(f));
		return (NULL);
	}
	if (!json_is_object(req)) {
		err_set(e, ERR_INVALID, "the request is not a JSON object");
		return (NULL);
	}
	return (xf_table[f].to_chat(req, e));
}

/*
 * Tool results whose call is not in an earlier assistant turn: every
 * format refuses them, and a Responses client sends them for calls made
 * in a turn it names by id, so they are only orphans once that history
 * is in. Returns a copy without them.
 */
static json_t *
xf_drop_orphans(const json_t *hub)
{
	json_t		*h = json_deep_copy(hub), *msgs, *m, *c, *seen;
	const char	*role, *id;
	size_t		 i, j;

	msgs = json_object_get(h, "messages");
	seen = json_object();
	for (i = 0; i < json_array_size(msgs); ) {
		m = json_array_get(msgs, i);
		role = json_string_value(json_object_get(m, "role"));
		json_array_foreach(json_object_get(m, "tool_calls"), j, c)
			if ((id = json_string_value(json_object_get(c,
			    "id"))) != NULL)
				json_object_set_new(seen, id, json_true());
		id = json_string_value(json_object_get(m, "tool_call_id"));
		if (role != NULL && strcmp(role, "tool") == 0 &&
		    (id == NULL || json_object_get(seen, id) == NULL))
			json_array_remove(msgs, i);
		else
			i++;
	}
	json_decref(seen);
	return (h);
}

json_t *
xf_from_chat(enum relay_format f, const json_t *hub, struct err *e)
{
	json_t	*h, *r;

	if (!xf_converts(f)) {
		err_set(e, ERR_INVALID, "the %s format is not converted",
		    relay_format_name(f));
		return (NULL);
	}
	if (!json_is_object(hub)) {
		err_set(e, ERR_INVALID, "the request is not a JSON object");
		return (NULL);
	}
	h = xf_drop_orphans(hub);
	r = xf_table[f].from_chat(h, e);
	json_decref(h);
	return (r);
}

int
xf_parse_final(enum relay_format f, const json_t *body, struct xf_final *out,
    struct err *e)
{
	if (!xf_converts(f) || !json_is_object(body)) {
		err_set(e, ERR_UPSTREAM, "the upstream reply is not a %s reply",
		    relay_format_name(f));
		return (-1);
	}
	return (xf_table[f].parse_final(body, out, e));
}

json_t *
xf_write_final(enum relay_format f, struct xf_final *fin)
{
	if (!xf_converts(f))
		return (NULL);
	return (xf_table[f].write_final(fin));
}

void
xf_parser_init(struct xf_parser *p, enum relay_format f)
{
	memset(p, 0, sizeof *p);
	p->fmt = f;
	buf_init(&p->sig, 64 * 1024);
	buf_init(&p->pend, XF_MAX_TEXT);
}

void
xf_parser_free(struct xf_parser *p)
{
	buf_free(&p->sig);
	buf_free(&p->pend);
}

int
xf_parse_event(struct xf_parser *p, const char *event, const json_t *data,
    const char *raw, size_t len, xf_delta_cb cb, void *arg)
{
	if (!xf_converts(p->fmt))
		return (0);
	return (xf_table[p->fmt].parse_event(p, event, data, raw, len, cb,
	    arg));
}

void
xf_writer_init(struct xf_writer *w, enum relay_format f, const char *model,
    int include_usage)
{
	static const char *const prefixes[RELAY_FORMAT_COUNT] = {
		[RELAY_CHAT] = "chatcmpl-", [RELAY_MESSAGES] = "msg_",
		[RELAY_RESPONSES] = "resp_",
	};

	memset(w, 0, sizeof *w);
	w->fmt = f;
	xf_make_id(w->id, sizeof w->id, prefixes[f] != NULL ? prefixes[f] :
	    "id-");
	w->model = xstrdup(model != NULL ? model : "");
	w->created = (long long)time(NULL);
	w->include_usage = include_usage;
	w->block = -1;
	xf_final_init(&w->final);
}

void
xf_writer_free(struct xf_writer *w)
{
	free(w->model);
	w->model = NULL;
	xf_final_free(&w->final);
}

int
xf_write_delta(struct xf_writer *w, const struct xf_delta *d, struct buf *out)
{
	if (!xf_converts(w->fmt) || w->ended)
		return (0);
	return (xf_table[w->fmt].write_delta(w, d, out));
}

int
xf_write_error(struct xf_writer *w, const char *msg, struct buf *out)
{
	if (!xf_converts(w->fmt) || w->ended)
		return (0);
	return (xf_table[w->fmt].write_error(w, msg, out));
}
