/*
 * OpenAI Chat Completions, the hub format: requests need only tidying on
 * the way in (legacy fields to their current names) and out (metapi's
 * extensions removed); replies and streams are parsed into the
 * normalized form and written from it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "sse.h"
#include "usage.h"
#include "xform.h"
#include "xmalloc.h"

/* Requests. */

/*
 * A client's Chat request as a hub: max_completion_tokens becomes
 * max_tokens, the legacy functions / function_call become tools /
 * tool_choice, a single stop string becomes an array.
 */
json_t *
xf_chat_to_chat(const json_t *req, struct err *e)
{
	json_t		*h, *v, *tools, *f;
	size_t		 i;

	if (!json_is_array(json_object_get(req, "messages"))) {
		err_set(e, ERR_INVALID, "\"messages\" must be an array");
		return (NULL);
	}
	h = json_deep_copy(req);
	if ((v = json_object_get(h, "max_completion_tokens")) != NULL) {
		if (json_object_get(h, "max_tokens") == NULL)
			json_object_set(h, "max_tokens", v);
		json_object_del(h, "max_completion_tokens");
	}
	if (json_is_array(v = json_object_get(h, "functions")) &&
	    json_object_get(h, "tools") == NULL) {
		tools = json_array();
		json_array_foreach(v, i, f)
			json_array_append_new(tools, json_pack("{s:s, s:O}",
			    "type", "function", "function", f));
		json_object_set_new(h, "tools", tools);
	}
	json_object_del(h, "functions");
	if ((v = json_object_get(h, "function_call")) != NULL) {
		if (json_object_get(h, "tool_choice") == NULL) {
			if (json_is_string(v))
				json_object_set(h, "tool_choice", v);
			else if (json_is_object(v))
				json_object_set_new(h, "tool_choice",
				    json_pack("{s:s, s:O}", "type", "function",
				    "function", v));
		}
		json_object_del(h, "function_call");
	}
	if (json_is_string(v = json_object_get(h, "stop")))
		json_object_set_new(h, "stop", json_pack("[O]", v));
	return (h);
}

/* A reasoning budget as an effort, for formats that only have efforts. */
static const char *
xf_chat_effort(long long budget)
{
	return (budget <= 1024 ? "low" : budget <= 8192 ? "medium" : "high");
}

/*
 * The hub as a Chat request for an upstream: metapi's extensions go (a
 * thinking budget becomes an effort), and so do reasoning texts and
 * signatures of earlier turns, which Chat upstreams do not take back.
 */
json_t *
xf_chat_from_chat(const json_t *hub, struct err *e)
{
	json_t		*r, *msgs, *m, *b;
	size_t		 i;

	if (!json_is_array(json_object_get(hub, "messages"))) {
		err_set(e, ERR_INVALID, "\"messages\" must be an array");
		return (NULL);
	}
	r = json_deep_copy(hub);
	b = json_object_get(r, "reasoning_budget");
	if (json_is_integer(b) && json_object_get(r, "reasoning_effort") ==
	    NULL && json_integer_value(b) > 0)
		json_object_set_new(r, "reasoning_effort", json_string(
		    xf_chat_effort(json_integer_value(b))));
	json_object_del(r, "reasoning_budget");
	json_object_del(r, "top_k");
	msgs = json_object_get(r, "messages");
	json_array_foreach(msgs, i, m) {
		json_object_del(m, "reasoning_content");
		json_object_del(m, "reasoning_signature");
	}
	return (r);
}

/* Whole replies. */

/* Text of a content that is a string or an array of text parts. */
static void
xf_chat_content(const json_t *c, struct buf *out)
{
	const json_t	*p;
	const char	*s;
	size_t		 i;

	if (json_is_string(c)) {
		buf_add(out, json_string_value(c), json_string_length(c));
		return;
	}
	json_array_foreach(c, i, p) {
		if ((s = json_string_value(json_object_get(p, "text"))) != NULL)
			buf_addstr(out, s);
	}
}

/*
 * Some models put their thinking inline, "<think>...</think>" at the
 * start of the content: it is reasoning, not text.
 */
static void
xf_chat_think_tags(struct xf_final *f)
{
	char	*s, *end;
	size_t	 skip;

	if (f->text.len < 7 || f->reasoning.len > 0)
		return;
	s = buf_cstr(&f->text);
	skip = strspn(s, " \t\r\n");
	if (strncmp(s + skip, "<think>", 7) != 0 ||
	    (end = strstr(s + skip + 7, "</think>")) == NULL)
		return;
	buf_add(&f->reasoning, s + skip + 7, end - (s + skip + 7));
	end += 8;
	end += strspn(end, " \t\r\n");
	skip = end - s;
	buf_consume(&f->text, skip);
}

static void
xf_chat_set(char **dst, const json_t *v)
{
	if (json_is_string(v)) {
		free(*dst);
		*dst = xstrdup(json_string_value(v));
	}
}

int
xf_chat_parse_final(const json_t *body, struct xf_final *f, struct err *e)
{
	const json_t	*choice, *msg, *calls, *c, *fn, *v;
	struct xf_call	*call;
	size_t		 i;

	if (json_object_get(body, "error") != NULL &&
	    json_object_get(body, "choices") == NULL) {
		f->error = xf_error_message(body, NULL, 0);
		f->finish = XF_FINISH_ERROR;
		return (0);
	}
	choice = json_array_get(json_object_get(body, "choices"), 0);
	msg = json_object_get(choice, "message");
	if (!json_is_object(msg)) {
		err_set(e, ERR_UPSTREAM, "the chat reply has no "
		    "choices[0].message");
		return (-1);
	}
	xf_chat_set(&f->id, json_object_get(body, "id"));
	xf_chat_set(&f->model, json_object_get(body, "model"));
	if (json_is_integer(v = json_object_get(body, "created")))
		f->created = json_integer_value(v);
	xf_chat_content(json_object_get(msg, "content"), &f->text);
	if (json_is_string(v = json_object_get(msg, "reasoning_content")) ||
	    json_is_string(v = json_object_get(msg, "reasoning")))
		buf_add(&f->reasoning, json_string_value(v),
		    json_string_length(v));
	xf_chat_think_tags(f);
	calls = json_object_get(msg, "tool_calls");
	json_array_foreach(calls, i, c) {
		if (f->ncalls == XF_MAX_CALLS)
			break;
		fn = json_object_get(c, "function");
		if (!json_is_object(fn))
			continue;
		call = &f->calls[f->ncalls++];
		xf_chat_set(&call->id, json_object_get(c, "id"));
		xf_chat_set(&call->name, json_object_get(fn, "name"));
		if (json_is_string(v = json_object_get(fn, "arguments")))
			buf_add(&call->args, json_string_value(v),
			    json_string_length(v));
	}
	f->finish = xf_finish_parse(json_string_value(json_object_get(choice,
	    "finish_reason")));
	if (f->finish == XF_FINISH_NONE)
		f->finish = f->ncalls > 0 ? XF_FINISH_TOOL : XF_FINISH_STOP;
	usage_from_body(&f->usage, USAGE_OPENAI_CHAT, body);
	return (0);
}

/* The usage object of a Chat reply or usage chunk. */
static json_t *
xf_chat_usage(const struct usage *u)
{
	return (json_pack("{s:I, s:I, s:I, s:{s:I}, s:{s:I}}",
	    "prompt_tokens", (json_int_t)u->prompt,
	    "completion_tokens", (json_int_t)u->completion,
	    "total_tokens", (json_int_t)(u->prompt + u->completion),
	    "prompt_tokens_details", "cached_tokens",
	    (json_int_t)u->cache_read,
	    "completion_tokens_details", "reasoning_tokens",
	    (json_int_t)u->reasoning));
}

static json_t *
xf_chat_calls(struct xf_final *f)
{
	json_t	*a = json_array();
	char	 id[64];
	size_t	 i;

	for (i = 0; i < f->ncalls; i++) {
		if (f->calls[i].id == NULL) {
			xf_make_id(id, sizeof id, "call_");
			f->calls[i].id = xstrdup(id);
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:{s:s, s:s%}}",
		    "id", f->calls[i].id, "type", "function", "function",
		    "name", f->calls[i].name != NULL ? f->calls[i].name : "",
		    "arguments", f->calls[i].args.len > 0 ?
		    f->calls[i].args.data : "{}", f->calls[i].args.len > 0 ?
		    f->calls[i].args.len : 2));
	}
	return (a);
}

static enum xf_finish
xf_chat_finish(const struct xf_final *f)
{
	if (f->ncalls > 0 && (f->finish == XF_FINISH_NONE ||
	    f->finish == XF_FINISH_STOP))
		return (XF_FINISH_TOOL);
	return (f->finish == XF_FINISH_NONE ? XF_FINISH_STOP : f->finish);
}

json_t *
xf_chat_write_final(struct xf_final *f)
{
	json_t	*msg, *o;
	char	 id[64];

	if (f->id == NULL) {
		xf_make_id(id, sizeof id, "chatcmpl-");
		f->id = xstrdup(id);
	}
	msg = json_pack("{s:s}", "role", "assistant");
	if (f->text.len > 0 || f->ncalls == 0)
		json_object_set_new(msg, "content", json_stringn(f->text.data !=
		    NULL ? f->text.data : "", f->text.len));
	else
		json_object_set_new(msg, "content", json_null());
	if (f->reasoning.len > 0)
		json_object_set_new(msg, "reasoning_content", json_stringn(
		    f->reasoning.data, f->reasoning.len));
	if (f->ncalls > 0)
		json_object_set_new(msg, "tool_calls", xf_chat_calls(f));
	o = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n, s:s}]}",
	    "id", f->id, "object", "chat.completion", "created",
	    (json_int_t)(f->created > 0 ? f->created : (long long)time(NULL)),
	    "model", f->model != NULL ? f->model : "", "choices", "index", 0,
	    "message", msg, "logprobs", "finish_reason",
	    xf_finish_name(RELAY_CHAT, xf_chat_finish(f)));
	json_object_set_new(o, "usage", xf_chat_usage(&f->usage));
	return (o);
}

/*
 * A reply as the assistant message of a hub conversation, to be sent
 * back on the next turn.
 */
json_t *
xf_chat_message(const struct xf_final *f)
{
	json_t	*m, *calls;
	size_t	 i;

	m = json_pack("{s:s}", "role", "assistant");
	json_object_set_new(m, "content", f->text.len > 0 ? json_stringn(
	    f->text.data, f->text.len) : json_null());
	if (f->reasoning.len > 0)
		json_object_set_new(m, "reasoning_content", json_stringn(
		    f->reasoning.data, f->reasoning.len));
	if (f->signature != NULL)
		json_object_set_new(m, "reasoning_signature",
		    json_string(f->signature));
	if (f->ncalls == 0)
		return (m);
	calls = json_array();
	for (i = 0; i < f->ncalls; i++)
		json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s, "
		    "s:s%}}", "id", f->calls[i].id != NULL ? f->calls[i].id :
		    "", "type", "function", "function", "name",
		    f->calls[i].name != NULL ? f->calls[i].name : "",
		    "arguments", f->calls[i].args.len > 0 ?
		    f->calls[i].args.data : "{}", f->calls[i].args.len > 0 ?
		    f->calls[i].args.len : 2));
	json_object_set_new(m, "tool_calls", calls);
	return (m);
}

/* Streams: parsing chunks. */

static int
xf_chat_emit(xf_delta_cb cb, void *arg, enum xf_delta_kind kind,
    const char *text, size_t len)
{
	struct xf_delta	d;

	memset(&d, 0, sizeof d);
	d.kind = kind;
	d.text = text;
	d.len = len;
	return (cb(&d, arg));
}

/* One tool_calls element of a chunk's delta. */
static int
xf_chat_parse_tool(struct xf_parser *p, const json_t *tc, xf_delta_cb cb,
    void *arg)
{
	const json_t	*fn = json_object_get(tc, "function");
	const json_t	*v = json_object_get(tc, "index");
	const char	*id, *name, *args;
	struct xf_delta	 d;
	long long	 up;
	int		 rc;

	up = json_is_integer(v) ? json_integer_value(v) : 0;
	if (up < 0 || up >= (long long)nitems(p->block_tool))
		return (0);
	id = json_string_value(json_object_get(tc, "id"));
	name = json_string_value(json_object_get(fn, "name"));
	args = json_string_value(json_object_get(fn, "arguments"));
	memset(&d, 0, sizeof d);
	if (p->block_tool[up] == 0) {
		if (p->ntools == XF_MAX_CALLS)
			return (0);
		p->block_tool[up] = ++p->ntools;
		d.kind = XF_D_TOOL_START;
		d.index = p->block_tool[up] - 1;
		d.id = id;
		d.name = name;
		if ((rc = cb(&d, arg)) != 0)
			return (rc);
	}
	if (args == NULL || *args == '\0')
		return (0);
	d.kind = XF_D_TOOL_ARGS;
	d.index = p->block_tool[up] - 1;
	d.id = d.name = NULL;
	d.text = args;
	d.len = strlen(args);
	return (cb(&d, arg));
}

/*
 * Inline thinking in a stream: content that starts with "<think>" is
 * reasoning up to "</think>", however the chunks split the tags. A piece
 * that might be the start of a tag is held (in pend, a few bytes) until
 * the next piece says what it is.
 */
enum { XF_THINK_START, XF_THINK_IN, XF_THINK_OUT };

static const char	xf_think_open[] = "<think>";
static const char	xf_think_close[] = "</think>";

/* How many bytes at the end of s[0..len) begin tag (a proper prefix). */
static size_t
xf_chat_tag_tail(const char *s, size_t len, const char *tag)
{
	size_t	n, tl = strlen(tag);

	for (n = tl - 1 < len ? tl - 1 : len; n > 0; n--)
		if (memcmp(s + len - n, tag, n) == 0)
			return (n);
	return (0);
}

static int
xf_chat_think(struct xf_parser *p, const char *s, size_t len, xf_delta_cb cb,
    void *arg)
{
	struct buf	*b = &p->pend;
	const char	*t, *end;
	size_t		 skip, keep, n;
	int		 rc;

	if (p->think == XF_THINK_OUT)
		return (xf_chat_emit(cb, arg, XF_D_TEXT, s, len));
	if (buf_add(b, s, len) != 0) {
		/* Over XF_MAX_TEXT held: no thinking is that long. */
		p->think = XF_THINK_OUT;
		return (xf_chat_emit(cb, arg, XF_D_TEXT, s, len));
	}
	if (p->think == XF_THINK_START) {
		skip = 0;
		while (skip < b->len && strchr(" \t\r\n", b->data[skip]) != NULL)
			skip++;
		n = b->len - skip;
		if (n < sizeof xf_think_open - 1 &&
		    memcmp(b->data + skip, xf_think_open, n) == 0)
			return (0);	/* maybe the tag: wait */
		if (n < sizeof xf_think_open - 1 || memcmp(b->data + skip,
		    xf_think_open, sizeof xf_think_open - 1) != 0) {
			p->think = XF_THINK_OUT;
			rc = xf_chat_emit(cb, arg, XF_D_TEXT, b->data, b->len);
			buf_reset(b);
			return (rc);
		}
		buf_consume(b, skip + sizeof xf_think_open - 1);
		p->think = XF_THINK_IN;
	}
	t = b->data;
	end = b->len > 0 ? memmem(t, b->len, xf_think_close,
	    sizeof xf_think_close - 1) : NULL;
	if (end == NULL) {
		keep = xf_chat_tag_tail(t, b->len, xf_think_close);
		rc = b->len > keep ? xf_chat_emit(cb, arg, XF_D_REASONING, t,
		    b->len - keep) : 0;
		buf_consume(b, b->len - keep);
		return (rc);
	}
	if (end > t && (rc = xf_chat_emit(cb, arg, XF_D_REASONING, t,
	    end - t)) != 0)
		return (rc);
	buf_consume(b, (end - t) + sizeof xf_think_close - 1);
	p->think = XF_THINK_OUT;
	/* The answer after the thinking starts at its first non-blank. */
	skip = 0;
	while (skip < b->len && strchr(" \t\r\n", b->data[skip]) != NULL)
		skip++;
	rc = b->len > skip ? xf_chat_emit(cb, arg, XF_D_TEXT, b->data + skip,
	    b->len - skip) : 0;
	buf_reset(b);
	return (rc);
}

/* Text held at a possible tag when the stream says it is finishing. */
static int
xf_chat_think_flush(struct xf_parser *p, xf_delta_cb cb, void *arg)
{
	int	rc = 0;

	if (p->pend.len > 0)
		rc = xf_chat_emit(cb, arg, p->think == XF_THINK_IN ?
		    XF_D_REASONING : XF_D_TEXT, p->pend.data, p->pend.len);
	buf_reset(&p->pend);
	p->think = XF_THINK_OUT;
	return (rc);
}

/* The delta of a chunk's first choice. */
static int
xf_chat_parse_delta(struct xf_parser *p, const json_t *delta, xf_delta_cb cb,
    void *arg)
{
	const json_t	*v, *tc;
	size_t		 i;
	int		 rc;

	if (json_is_string(v = json_object_get(delta, "reasoning_content")) ||
	    json_is_string(v = json_object_get(delta, "reasoning"))) {
		if (json_string_length(v) > 0 && (rc = xf_chat_emit(cb, arg,
		    XF_D_REASONING, json_string_value(v),
		    json_string_length(v))) != 0)
			return (rc);
	}
	if (json_is_string(v = json_object_get(delta, "content")) &&
	    json_string_length(v) > 0 && (rc = xf_chat_think(p,
	    json_string_value(v), json_string_length(v), cb, arg)) != 0)
		return (rc);
	json_array_foreach(json_object_get(delta, "tool_calls"), i, tc) {
		if ((rc = xf_chat_parse_tool(p, tc, cb, arg)) != 0)
			return (rc);
	}
	return (0);
}

int
xf_chat_parse_event(struct xf_parser *p, __unused const char *event,
    const json_t *j, const char *raw, size_t len, xf_delta_cb cb, void *arg)
{
	const json_t	*choice;
	struct xf_delta	 d;
	const char	*finish;
	char		*msg;
	int		 rc;

	memset(&d, 0, sizeof d);
	if (raw != NULL && len == 6 && memcmp(raw, "[DONE]", 6) == 0) {
		if (p->done)
			return (0);
		if ((rc = xf_chat_think_flush(p, cb, arg)) != 0)
			return (rc);
		p->done = 1;
		d.kind = XF_D_DONE;
		return (cb(&d, arg));
	}
	if (!json_is_object(j))
		return (0);
	if (json_object_get(j, "error") != NULL &&
	    json_object_get(j, "choices") == NULL) {
		msg = xf_error_message(j, raw, len);
		rc = xf_chat_emit(cb, arg, XF_D_ERROR, msg, strlen(msg));
		free(msg);
		return (rc);
	}
	if (!p->started) {
		p->started = 1;
		d.kind = XF_D_START;
		d.id = json_string_value(json_object_get(j, "id"));
		d.model = json_string_value(json_object_get(j, "model"));
		if ((rc = cb(&d, arg)) != 0)
			return (rc);
	}
	choice = json_array_get(json_object_get(j, "choices"), 0);
	if ((rc = xf_chat_parse_delta(p, json_object_get(choice, "delta"), cb,
	    arg)) != 0)
		return (rc);
	finish = json_string_value(json_object_get(choice, "finish_reason"));
	if (finish != NULL && !p->finished) {
		if ((rc = xf_chat_think_flush(p, cb, arg)) != 0)
			return (rc);
		p->finished = 1;
		memset(&d, 0, sizeof d);
		d.kind = XF_D_FINISH;
		d.finish = xf_finish_parse(finish);
		if ((rc = cb(&d, arg)) != 0)
			return (rc);
	}
	if (usage_from_event(&p->usage, USAGE_OPENAI_CHAT, j)) {
		memset(&d, 0, sizeof d);
		d.kind = XF_D_USAGE;
		d.usage = &p->usage;
		return (cb(&d, arg));
	}
	return (0);
}

/* Streams: writing chunks. */

static void
xf_chat_chunk(struct xf_writer *w, json_t *delta, const char *finish,
    struct buf *out)
{
	json_t	*o;
	char	*s;

	if (delta == NULL)	/* a string jansson refused */
		delta = json_object();
	o = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n, s:s?}]}",
	    "id", w->id, "object", "chat.completion.chunk", "created",
	    (json_int_t)w->created, "model", w->model, "choices", "index", 0,
	    "delta", delta, "logprobs", "finish_reason", finish);
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
		sse_write_event(out, NULL, s);
		free(s);
	}
	json_decref(o);
}

/* The end: the finish chunk if none went yet, usage if asked, [DONE]. */
static void
xf_chat_end(struct xf_writer *w, struct buf *out)
{
	json_t	*o;
	char	*s;

	if (!w->open)	/* here: the finish chunk went */
		xf_chat_chunk(w, json_object(), xf_finish_name(RELAY_CHAT,
		    xf_chat_finish(&w->final)), out);
	if (w->include_usage) {
		o = json_pack("{s:s, s:s, s:I, s:s, s:[], s:o}", "id", w->id,
		    "object", "chat.completion.chunk", "created",
		    (json_int_t)w->created, "model", w->model, "choices",
		    "usage", xf_chat_usage(&w->final.usage));
		s = json_dumps(o, JSON_COMPACT);
		sse_write_event(out, NULL, s);
		free(s);
		json_decref(o);
	}
	sse_write_event(out, NULL, "[DONE]");
	w->ended = 1;
}

/*
 * A chunk per delta. The finish chunk goes when the upstream says why it
 * stopped; usage, which comes later in some formats, waits for the end.
 * Here w->open says the finish chunk went.
 */
int
xf_chat_write_delta(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	/*
	 * The end needs the usage and whether calls were made; texts are
	 * kept only when asked, so that memory stays flat.
	 */
	if (w->keep || (d->kind != XF_D_TEXT && d->kind != XF_D_REASONING &&
	    d->kind != XF_D_TOOL_ARGS))
		xf_final_add(&w->final, d);
	if (!w->started) {
		w->started = 1;
		xf_chat_chunk(w, json_pack("{s:s, s:s}", "role", "assistant",
		    "content", ""), NULL, out);
	}
	switch (d->kind) {
	case XF_D_TEXT:
		xf_chat_chunk(w, json_pack("{s:s%}", "content", d->text,
		    d->len), NULL, out);
		break;
	case XF_D_REASONING:
		xf_chat_chunk(w, json_pack("{s:s%}", "reasoning_content",
		    d->text, d->len), NULL, out);
		break;
	case XF_D_TOOL_START:
		xf_chat_chunk(w, json_pack("{s:[{s:i, s:s, s:s, s:{s:s, s:s%}}]}",
		    "tool_calls", "index", d->index, "id", d->id != NULL ?
		    d->id : "", "type", "function", "function", "name",
		    d->name != NULL ? d->name : "", "arguments",
		    d->text != NULL ? d->text : "", d->text != NULL ? d->len :
		    0), NULL, out);
		break;
	case XF_D_TOOL_ARGS:
		xf_chat_chunk(w, json_pack("{s:[{s:i, s:{s:s%}}]}",
		    "tool_calls", "index", d->index, "function", "arguments",
		    d->text, d->len), NULL, out);
		break;
	case XF_D_FINISH:
		if (!w->open) {
			w->open = 1;
			xf_chat_chunk(w, json_object(), xf_finish_name(
			    RELAY_CHAT, xf_chat_finish(&w->final)), out);
		}
		break;
	case XF_D_ERROR:
		return (xf_chat_write_error(w, w->final.error, out));
	case XF_D_DONE:
		xf_chat_end(w, out);
		break;
	default:
		break;
	}
	return (0);
}

int
xf_chat_write_error(struct xf_writer *w, const char *msg, struct buf *out)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:{s:s, s:s, s:s}}", "error", "message", msg != NULL ?
	    msg : "upstream error", "type", "upstream_error", "code",
	    "upstream_error");
	if (o == NULL)	/* msg was not UTF-8 */
		o = json_pack("{s:{s:s, s:s, s:s}}", "error", "message",
		    "upstream error", "type", "upstream_error", "code",
		    "upstream_error");
	s = json_dumps(o, JSON_COMPACT);
	sse_write_event(out, NULL, s);
	free(s);
	json_decref(o);
	w->ended = 1;
	return (0);
}
