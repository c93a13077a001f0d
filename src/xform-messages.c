/*
 * Claude Messages (Anthropic's /v1/messages) on every side of the hub: a
 * Claude client's request turned into the hub Chat body and the hub into
 * a request for a Claude upstream; a Claude reply or stream read into the
 * normalized reply and deltas; and those written back as a Claude reply
 * or stream for a Claude client. Pure: no I/O, no globals. It knows no
 * format but Claude's and the hub's; xform.c holds the shared parts.
 *
 * What Claude asks for that Chat does not, and how it is met:
 *   - roles alternate: consecutive messages of one role are merged, tool
 *     results travel in user messages, empty turns are dropped;
 *   - max_tokens is required: XF_DEFAULT_MAX_TOKENS when the hub has none;
 *   - thinking blocks are signed: only a signature tagged
 *     XF_SIG_ANTHROPIC goes back, and reasoning without one is dropped;
 *   - a stream is a row of content blocks, one open at a time, each
 *     started before its deltas (see xf_messages_write_delta).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "relay.h"
#include "sse.h"
#include "usage.h"
#include "xform.h"
#include "xmalloc.h"

/* Roles, as flags: which block types a role takes. */
#define XF_MESSAGES_ROLE_USER		0x1
#define XF_MESSAGES_ROLE_ASSISTANT	0x2
#define XF_MESSAGES_ROLE_TOOL		0x4

/* Claude's smallest thinking budget; smaller ones are refused. */
#define XF_MESSAGES_MIN_BUDGET	1024

/* The input_schema of a tool that declares no parameters. */
#define XF_MESSAGES_EMPTY_SCHEMA "{\"type\":\"object\",\"properties\":{}}"

/* A JSON string of n bytes at s; "" when they are not UTF-8. */
static json_t *
xf_messages_jstr(const char *s, size_t n)
{
	json_t	*v = NULL;

	if (s != NULL)
		v = json_stringn(s, n);
	return (v != NULL ? v : json_string(""));
}

/* A positive integer (an integral real counts), or -1. */
static long long
xf_messages_posint(const json_t *v)
{
	double	d;

	if (json_is_integer(v))
		return (json_integer_value(v) > 0 ? json_integer_value(v) : -1);
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d >= 1 && d < 1e15 && d == (double)(long long)d)
			return ((long long)d);
	}
	return (-1);
}

/* The Claude signature in a tagged one; NULL when it is someone else's. */
static const char *
xf_messages_untag(const char *sig)
{
	size_t	n = strlen(XF_SIG_ANTHROPIC);

	if (sig == NULL || strncmp(sig, XF_SIG_ANTHROPIC, n) != 0 ||
	    sig[n] == '\0')
		return (NULL);
	return (sig + n);
}

/* Is b a content block of this type? */
static int
xf_messages_is_block(const json_t *b, const char *type)
{
	const char	*t = jx_str(b, "type");

	return (t != NULL && strcmp(t, type) == 0);
}

/* Is m a message of this role? */
static int
xf_messages_is_role(const json_t *m, const char *role)
{
	const char	*r = jx_str(m, "role");

	return (r != NULL && strcmp(r, role) == 0);
}

/* Add text to a join, sep first unless it is empty; -1 when too long. */
static int
xf_messages_join(struct buf *b, const char *sep, const char *s)
{
	if (b->len > 0 && buf_addstr(b, sep) == -1)
		return (-1);
	return (buf_addstr(b, s));
}

/*
 * Claude request to the hub.
 *
 * A turn's blocks are sorted as they are read: a user turn yields its
 * tool results first, as role "tool" messages (Chat wants them right
 * after the assistant's tool_calls), then one user message with the
 * rest; an assistant turn yields one message with its text, calls and
 * reasoning.
 */

struct xf_messages_turn {
	size_t		 at;		/* index in messages, for errors */
	int		 assistant;
	json_t		*tools;		/* user: role tool messages */
	json_t		*parts;		/* user: content parts */
	json_t		*calls;		/* assistant: tool_calls */
	struct buf	 text;		/* assistant: text */
	struct buf	 reasoning;	/* assistant: thinking texts */
	char		*signature;	/* assistant: tagged */
	int		 nthinking;	/* thinking blocks seen */
};

static int
xf_messages_in_add(struct xf_messages_turn *t, struct buf *b, const char *sep,
    const char *s, struct err *e)
{
	if (xf_messages_join(b, sep, s) == -1) {
		err_set(e, ERR_INVALID, "messages[%zu]: text too long", t->at);
		return (-1);
	}
	return (0);
}

static int
xf_messages_in_string(struct xf_messages_turn *t, const char *s,
    struct err *e)
{
	if (*s == '\0')
		return (0);
	if (t->assistant)
		return (xf_messages_in_add(t, &t->text, "", s, e));
	json_array_append_new(t->parts, json_pack("{s:s, s:s}", "type",
	    "text", "text", s));
	return (0);
}

static int
xf_messages_in_text(struct xf_messages_turn *t, const json_t *b,
    struct err *e)
{
	const char	*s = jx_str(b, "text");

	if (s == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: a text block needs "
		    "a string text", t->at);
		return (-1);
	}
	return (xf_messages_in_string(t, s, e));
}

/* An image block as a Chat image_url part: base64 as a data: URL. */
static int
xf_messages_in_image(struct xf_messages_turn *t, const json_t *b,
    struct err *e)
{
	const json_t	*src = json_object_get(b, "source");
	const char	*type = jx_str(src, "type"), *mt, *data, *url;
	char		*s;

	if (type != NULL && strcmp(type, "base64") == 0) {
		mt = jx_str(src, "media_type");
		data = jx_str(src, "data");
		if (mt == NULL || data == NULL) {
			err_set(e, ERR_INVALID, "messages[%zu]: a base64 "
			    "image needs media_type and data", t->at);
			return (-1);
		}
		xasprintf(&s, "data:%s;base64,%s", mt, data);
		json_array_append_new(t->parts, json_pack("{s:s, s:{s:s}}",
		    "type", "image_url", "image_url", "url", s));
		free(s);
		return (0);
	}
	if (type != NULL && strcmp(type, "url") == 0 &&
	    (url = jx_str(src, "url")) != NULL) {
		json_array_append_new(t->parts, json_pack("{s:s, s:{s:s}}",
		    "type", "image_url", "image_url", "url", url));
		return (0);
	}
	err_set(e, ERR_INVALID, "messages[%zu]: image sources must be base64 "
	    "or url", t->at);
	return (-1);
}

/*
 * A document block: a base64 one (a PDF) as a Chat file part, a text or
 * content one as text. Claude's url and file sources have no Chat form.
 */
static int
xf_messages_in_document(struct xf_messages_turn *t, const json_t *b,
    struct err *e)
{
	const json_t	*src = json_object_get(b, "source"), *c, *v;
	const char	*type = jx_str(src, "type"), *mt, *data, *name;
	char		*s;
	size_t		 i;

	if (type != NULL && strcmp(type, "base64") == 0 &&
	    (data = jx_str(src, "data")) != NULL) {
		if ((mt = jx_str(src, "media_type")) == NULL)
			mt = "application/pdf";
		if ((name = jx_str(b, "title")) == NULL || *name == '\0')
			name = "document.pdf";
		xasprintf(&s, "data:%s;base64,%s", mt, data);
		json_array_append_new(t->parts, json_pack("{s:s, s:{s:s, s:s}}",
		    "type", "file", "file", "filename", name, "file_data", s));
		free(s);
		return (0);
	}
	if (type != NULL && strcmp(type, "text") == 0 &&
	    (data = jx_str(src, "data")) != NULL)
		return (xf_messages_in_string(t, data, e));
	if (type != NULL && strcmp(type, "content") == 0) {
		c = json_object_get(src, "content");
		if (json_is_string(c))
			return (xf_messages_in_string(t,
			    json_string_value(c), e));
		json_array_foreach(c, i, v) {
			if (xf_messages_is_block(v, "text") &&
			    xf_messages_in_text(t, v, e) == -1)
				return (-1);
		}
		return (0);
	}
	err_set(e, ERR_INVALID, "messages[%zu]: document sources must be "
	    "base64, text or content", t->at);
	return (-1);
}

/*
 * A tool result as a role "tool" message. Its text blocks are joined;
 * its images cannot ride in a Chat tool message, so they go to the user
 * message that follows the tool messages. is_error has no Chat form: the
 * text says what went wrong.
 */
static int
xf_messages_in_tool_result(struct xf_messages_turn *t, const json_t *b,
    struct err *e)
{
	const json_t	*c = json_object_get(b, "content"), *v;
	const char	*id = jx_str(b, "tool_use_id");
	struct buf	 text;
	size_t		 i;
	int		 rv = 0;

	if (id == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: a tool_result needs "
		    "a string tool_use_id", t->at);
		return (-1);
	}
	buf_init(&text, XF_MAX_TEXT);
	if (json_is_string(c))
		rv = xf_messages_in_add(t, &text, "", json_string_value(c), e);
	else if (json_is_array(c)) {
		json_array_foreach(c, i, v) {
			if (xf_messages_is_block(v, "text") &&
			    jx_str(v, "text") != NULL)
				rv = xf_messages_in_add(t, &text, "\n",
				    jx_str(v, "text"), e);
			else if (xf_messages_is_block(v, "image"))
				rv = xf_messages_in_image(t, v, e);
			if (rv == -1)
				break;
		}
	} else if (c != NULL && !json_is_null(c)) {
		err_set(e, ERR_INVALID, "messages[%zu]: tool_result content "
		    "must be a string or an array", t->at);
		rv = -1;
	}
	if (rv == 0)
		json_array_append_new(t->tools, json_pack("{s:s, s:s, s:o}",
		    "role", "tool", "tool_call_id", id, "content",
		    xf_messages_jstr(text.data, text.len)));
	buf_free(&text);
	return (rv);
}

static int
xf_messages_in_tool_use(struct xf_messages_turn *t, const json_t *b,
    struct err *e)
{
	const json_t	*input = json_object_get(b, "input");
	const char	*id = jx_str(b, "id"), *name = jx_str(b, "name");
	char		 made[64], *args;

	if (name == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: a tool_use needs a "
		    "string name", t->at);
		return (-1);
	}
	if (id == NULL) {
		xf_make_id(made, sizeof made, "toolu_");
		id = made;
	}
	if (json_is_object(input))
		args = json_dumps(input, JSON_COMPACT);
	else
		args = NULL;
	json_array_append_new(t->calls, json_pack("{s:s, s:s, s:{s:s, s:s}}",
	    "id", id, "type", "function", "function", "name", name,
	    "arguments", args != NULL ? args : "{}"));
	free(args);
	return (0);
}

/*
 * Thinking blocks: their texts are joined. A signature signs one block's
 * text, so it is kept only when the turn has a single thinking block;
 * joined texts under one signature would be refused when sent back.
 */
static int
xf_messages_in_thinking(struct xf_messages_turn *t, const json_t *b,
    struct err *e)
{
	const char	*s = jx_str(b, "thinking");
	const char	*sig = jx_str(b, "signature");

	t->nthinking++;
	if (s != NULL && *s != '\0' &&
	    xf_messages_in_add(t, &t->reasoning, "\n", s, e) == -1)
		return (-1);
	free(t->signature);
	t->signature = NULL;
	if (t->nthinking == 1 && sig != NULL && *sig != '\0')
		xasprintf(&t->signature, "%s%s", XF_SIG_ANTHROPIC, sig);
	return (0);
}

/*
 * Block types a turn may hold. Any other (redacted_thinking, server tool
 * blocks, search results) has no Chat form and is dropped.
 */
static const struct {
	const char	*type;
	int		 roles;
	int		(*fn)(struct xf_messages_turn *, const json_t *,
			    struct err *);
} xf_messages_in_blocks[] = {
	{ "text", XF_MESSAGES_ROLE_USER | XF_MESSAGES_ROLE_ASSISTANT,
	    xf_messages_in_text },
	{ "image", XF_MESSAGES_ROLE_USER, xf_messages_in_image },
	{ "document", XF_MESSAGES_ROLE_USER, xf_messages_in_document },
	{ "tool_result", XF_MESSAGES_ROLE_USER, xf_messages_in_tool_result },
	{ "tool_use", XF_MESSAGES_ROLE_ASSISTANT, xf_messages_in_tool_use },
	{ "thinking", XF_MESSAGES_ROLE_ASSISTANT, xf_messages_in_thinking },
};

static int
xf_messages_in_block(struct xf_messages_turn *t, const json_t *b,
    struct err *e)
{
	const char	*type = jx_str(b, "type");
	int		 role;
	size_t		 i;

	if (type == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: content blocks must "
		    "be objects with a type", t->at);
		return (-1);
	}
	role = t->assistant ? XF_MESSAGES_ROLE_ASSISTANT :
	    XF_MESSAGES_ROLE_USER;
	for (i = 0; i < nitems(xf_messages_in_blocks); i++) {
		if (strcmp(xf_messages_in_blocks[i].type, type) == 0)
			break;
	}
	if (i == nitems(xf_messages_in_blocks) ||
	    (xf_messages_in_blocks[i].roles & role) == 0)
		return (0);
	return (xf_messages_in_blocks[i].fn(t, b, e));
}

/* Append the hub messages of a read turn: tools first, then the rest. */
static void
xf_messages_in_emit(struct xf_messages_turn *t, json_t *out)
{
	json_t	*m, *content, *first;
	size_t	 i;

	if (!t->assistant) {
		json_array_foreach(t->tools, i, m)
			json_array_append(out, m);
		if (json_array_size(t->parts) == 0)
			return;
		first = json_array_get(t->parts, 0);
		if (json_array_size(t->parts) == 1 &&
		    xf_messages_is_block(first, "text"))
			content = json_incref(json_object_get(first, "text"));
		else
			content = json_incref(t->parts);
		json_array_append_new(out, json_pack("{s:s, s:o}", "role",
		    "user", "content", content));
		return;
	}
	if (t->text.len == 0 && json_array_size(t->calls) == 0 &&
	    t->reasoning.len == 0 && t->signature == NULL)
		return;
	m = json_pack("{s:s, s:o}", "role", "assistant", "content",
	    t->text.len > 0 ? xf_messages_jstr(t->text.data, t->text.len) :
	    json_null());
	if (json_array_size(t->calls) > 0)
		json_object_set(m, "tool_calls", t->calls);
	if (t->reasoning.len > 0 || t->signature != NULL)
		json_object_set_new(m, "reasoning_content",
		    xf_messages_jstr(t->reasoning.data, t->reasoning.len));
	if (t->signature != NULL)
		json_object_set_new(m, "reasoning_signature",
		    json_string(t->signature));
	json_array_append_new(out, m);
}

static int
xf_messages_in_turn(const json_t *m, size_t at, json_t *out, struct err *e)
{
	struct xf_messages_turn	 t;
	const json_t		*content = json_object_get(m, "content"), *b;
	const char		*role = jx_str(m, "role");
	size_t			 i;
	int			 rv = 0;

	if (role == NULL || (strcmp(role, "user") != 0 &&
	    strcmp(role, "assistant") != 0)) {
		err_set(e, ERR_INVALID, "messages[%zu].role must be user or "
		    "assistant", at);
		return (-1);
	}
	if (content == NULL || json_is_null(content))
		return (0);
	if (!json_is_string(content) && !json_is_array(content)) {
		err_set(e, ERR_INVALID, "messages[%zu].content must be a "
		    "string or an array of content blocks", at);
		return (-1);
	}
	memset(&t, 0, sizeof t);
	t.at = at;
	t.assistant = strcmp(role, "assistant") == 0;
	t.tools = json_array();
	t.parts = json_array();
	t.calls = json_array();
	buf_init(&t.text, XF_MAX_TEXT);
	buf_init(&t.reasoning, XF_MAX_TEXT);
	if (json_is_string(content))
		rv = xf_messages_in_string(&t, json_string_value(content), e);
	else {
		json_array_foreach(content, i, b) {
			if ((rv = xf_messages_in_block(&t, b, e)) == -1)
				break;
		}
	}
	if (rv == 0)
		xf_messages_in_emit(&t, out);
	json_decref(t.tools);
	json_decref(t.parts);
	json_decref(t.calls);
	buf_free(&t.text);
	buf_free(&t.reasoning);
	free(t.signature);
	return (rv);
}

static int
xf_messages_in_model(const json_t *req, json_t *chat, struct err *e)
{
	const json_t	*v = json_object_get(req, "model");

	if (v == NULL)
		return (0);
	if (!json_is_string(v)) {
		err_set(e, ERR_INVALID, "model must be a string");
		return (-1);
	}
	json_object_set_new(chat, "model", json_copy((json_t *)v));
	return (0);
}

static int
xf_messages_in_max_tokens(const json_t *req, json_t *chat, struct err *e)
{
	long long	n = xf_messages_posint(json_object_get(req,
			    "max_tokens"));

	if (n <= 0) {
		err_set(e, ERR_INVALID, "max_tokens must be a positive "
		    "integer");
		return (-1);
	}
	json_object_set_new(chat, "max_tokens", json_integer(n));
	return (0);
}

/* system, a string or text blocks, becomes the first message. */
static int
xf_messages_in_system(const json_t *req, json_t *chat, struct err *e)
{
	const json_t	*v = json_object_get(req, "system"), *b;
	struct buf	 text;
	size_t		 i;

	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_string(v) && !json_is_array(v)) {
		err_set(e, ERR_INVALID, "system must be a string or an array "
		    "of text blocks");
		return (-1);
	}
	json_array_foreach(v, i, b) {
		if (!xf_messages_is_block(b, "text") ||
		    jx_str(b, "text") == NULL) {
			err_set(e, ERR_INVALID, "system blocks must be text "
			    "blocks");
			return (-1);
		}
	}
	buf_init(&text, XF_MAX_TEXT);
	if (json_is_string(v))
		buf_addstr(&text, json_string_value(v));
	json_array_foreach(v, i, b) {
		if (xf_messages_join(&text, "\n", jx_str(b, "text")) == -1) {
			err_set(e, ERR_INVALID, "system is too long");
			buf_free(&text);
			return (-1);
		}
	}
	if (text.len > 0)
		json_array_append_new(json_object_get(chat, "messages"),
		    json_pack("{s:s, s:o}", "role", "system", "content",
		    xf_messages_jstr(text.data, text.len)));
	buf_free(&text);
	return (0);
}

static int
xf_messages_in_messages(const json_t *req, json_t *chat, struct err *e)
{
	const json_t	*v = json_object_get(req, "messages"), *m;
	json_t		*out = json_object_get(chat, "messages");
	size_t		 i;

	if (!json_is_array(v)) {
		err_set(e, ERR_INVALID, "messages must be an array");
		return (-1);
	}
	json_array_foreach(v, i, m) {
		if (!json_is_object(m)) {
			err_set(e, ERR_INVALID, "messages[%zu] must be an "
			    "object", i);
			return (-1);
		}
		if (xf_messages_in_turn(m, i, out, e) == -1)
			return (-1);
	}
	return (0);
}

/* Fields copied as they are, once their type is checked. */
#define XF_MESSAGES_NUMBER	0
#define XF_MESSAGES_INTEGER	1
#define XF_MESSAGES_BOOL	2
static const struct {
	const char	*from;
	const char	*to;
	int		 type;
	const char	*what;
} xf_messages_in_copies[] = {
	{ "temperature", "temperature", XF_MESSAGES_NUMBER, "a number" },
	{ "top_p", "top_p", XF_MESSAGES_NUMBER, "a number" },
	{ "top_k", "top_k", XF_MESSAGES_INTEGER, "an integer" },
	{ "stream", "stream", XF_MESSAGES_BOOL, "a boolean" },
};

static int
xf_messages_in_sampling(const json_t *req, json_t *chat, struct err *e)
{
	const json_t	*v, *s;
	size_t		 i;
	int		 ok;

	for (i = 0; i < nitems(xf_messages_in_copies); i++) {
		v = json_object_get(req, xf_messages_in_copies[i].from);
		if (v == NULL || json_is_null(v))
			continue;
		switch (xf_messages_in_copies[i].type) {
		case XF_MESSAGES_NUMBER:
			ok = json_is_number(v);
			break;
		case XF_MESSAGES_INTEGER:
			ok = json_is_integer(v);
			break;
		default:
			ok = json_is_boolean(v);
			break;
		}
		if (!ok) {
			err_set(e, ERR_INVALID, "%s must be %s",
			    xf_messages_in_copies[i].from,
			    xf_messages_in_copies[i].what);
			return (-1);
		}
		json_object_set_new(chat, xf_messages_in_copies[i].to,
		    json_copy((json_t *)v));
	}
	v = json_object_get(req, "stop_sequences");
	if (v == NULL || json_is_null(v))
		return (0);
	ok = json_is_array(v);
	json_array_foreach(v, i, s)
		ok = ok && json_is_string(s);
	if (!ok) {
		err_set(e, ERR_INVALID, "stop_sequences must be an array of "
		    "strings");
		return (-1);
	}
	if (json_array_size(v) > 0)
		json_object_set_new(chat, "stop", json_deep_copy(v));
	return (0);
}

/*
 * Tools: custom ones (no type, or "custom") become functions. Server
 * tools (web_search_20250305 and kin) run at Anthropic, which a Chat
 * upstream cannot do: dropped.
 */
static int
xf_messages_in_tools(const json_t *req, json_t *chat, struct err *e)
{
	const json_t	*v = json_object_get(req, "tools"), *t, *schema;
	const char	*type, *name, *desc;
	json_t		*out, *fn;
	size_t		 i;

	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_array(v)) {
		err_set(e, ERR_INVALID, "tools must be an array");
		return (-1);
	}
	out = json_array();
	json_array_foreach(v, i, t) {
		if (!json_is_object(t)) {
			err_set(e, ERR_INVALID, "tools[%zu] must be an object",
			    i);
			json_decref(out);
			return (-1);
		}
		type = jx_str(t, "type");
		if (type != NULL && strcmp(type, "custom") != 0)
			continue;
		if ((name = jx_str(t, "name")) == NULL) {
			err_set(e, ERR_INVALID, "tools[%zu].name must be a "
			    "string", i);
			json_decref(out);
			return (-1);
		}
		fn = json_pack("{s:s}", "name", name);
		if ((desc = jx_str(t, "description")) != NULL)
			json_object_set_new(fn, "description",
			    json_string(desc));
		schema = json_object_get(t, "input_schema");
		json_object_set_new(fn, "parameters", json_is_object(schema) ?
		    json_deep_copy(schema) : json_loads(
		    XF_MESSAGES_EMPTY_SCHEMA, 0, NULL));
		json_array_append_new(out, json_pack("{s:s, s:o}", "type",
		    "function", "function", fn));
	}
	if (json_array_size(out) > 0)
		json_object_set_new(chat, "tools", out);
	else
		json_decref(out);
	return (0);
}

/* Claude's tool_choice types and the Chat strings they become. */
static const struct {
	const char	*claude;
	const char	*chat;		/* NULL: a named function */
} xf_messages_choices[] = {
	{ "auto", "auto" },
	{ "any", "required" },
	{ "none", "none" },
	{ "tool", NULL },
};

static int
xf_messages_in_tool_choice(const json_t *req, json_t *chat, struct err *e)
{
	const json_t	*v = json_object_get(req, "tool_choice");
	const char	*type = jx_str(v, "type"), *name;
	size_t		 i;

	if (v == NULL || json_is_null(v))
		return (0);
	for (i = 0; type != NULL && i < nitems(xf_messages_choices); i++) {
		if (strcmp(xf_messages_choices[i].claude, type) == 0)
			break;
	}
	if (type == NULL || i == nitems(xf_messages_choices)) {
		err_set(e, ERR_INVALID, "tool_choice.type must be auto, any, "
		    "tool or none");
		return (-1);
	}
	name = jx_str(v, "name");
	if (xf_messages_choices[i].chat == NULL && name == NULL) {
		err_set(e, ERR_INVALID, "tool_choice of type tool needs a "
		    "name");
		return (-1);
	}
	/* The tools it would choose among may all have been dropped. */
	if (json_object_get(chat, "tools") == NULL)
		return (0);
	if (xf_messages_choices[i].chat != NULL)
		json_object_set_new(chat, "tool_choice",
		    json_string(xf_messages_choices[i].chat));
	else
		json_object_set_new(chat, "tool_choice", json_pack(
		    "{s:s, s:{s:s}}", "type", "function", "function", "name",
		    name));
	if (jx_bool(v, "disable_parallel_tool_use"))
		json_object_set_new(chat, "parallel_tool_calls",
		    json_false());
	return (0);
}

/* Adaptive thinking's efforts and the reasoning_effort each becomes. */
static const struct {
	const char	*claude;
	const char	*chat;
} xf_messages_efforts[] = {
	{ "low", "low" },
	{ "medium", "medium" },
	{ "high", "high" },
	{ "max", "high" },
};

/*
 * thinking: an enabled budget is kept as reasoning_budget and read as an
 * effort by its size; adaptive thinking takes output_config.effort.
 */
static int
xf_messages_in_thinking_config(const json_t *req, json_t *chat,
    struct err *e)
{
	const json_t	*v = json_object_get(req, "thinking");
	const char	*type = jx_str(v, "type"), *effort;
	long long	 n;
	size_t		 i;

	if (v == NULL || json_is_null(v))
		return (0);
	if (type != NULL && strcmp(type, "enabled") == 0) {
		n = xf_messages_posint(json_object_get(v, "budget_tokens"));
		if (n <= 0) {
			err_set(e, ERR_INVALID, "thinking.budget_tokens must "
			    "be a positive integer");
			return (-1);
		}
		json_object_set_new(chat, "reasoning_budget", json_integer(n));
		json_object_set_new(chat, "reasoning_effort", json_string(
		    n <= 1024 ? "low" : n <= 8192 ? "medium" : "high"));
		return (0);
	}
	if (type != NULL && strcmp(type, "disabled") == 0)
		return (0);
	if (type == NULL || strcmp(type, "adaptive") != 0) {
		err_set(e, ERR_INVALID, "thinking.type must be enabled, "
		    "disabled or adaptive");
		return (-1);
	}
	effort = jx_str(json_object_get(req, "output_config"), "effort");
	if (effort == NULL)
		return (0);
	for (i = 0; i < nitems(xf_messages_efforts); i++) {
		if (strcmp(xf_messages_efforts[i].claude, effort) == 0) {
			json_object_set_new(chat, "reasoning_effort",
			    json_string(xf_messages_efforts[i].chat));
			return (0);
		}
	}
	err_set(e, ERR_INVALID, "output_config.effort must be low, medium, "
	    "high or max");
	return (-1);
}

static int
xf_messages_in_metadata(const json_t *req, json_t *chat, __unused struct err *e)
{
	const char	*user;

	user = jx_str(json_object_get(req, "metadata"), "user_id");
	if (user != NULL)
		json_object_set_new(chat, "user", json_string(user));
	return (0);
}

/* The steps of a Claude request's conversion, in order. */
static int (*const xf_messages_in_steps[])(const json_t *, json_t *,
    struct err *) = {
	xf_messages_in_model,
	xf_messages_in_max_tokens,
	xf_messages_in_system,
	xf_messages_in_messages,
	xf_messages_in_sampling,
	xf_messages_in_tools,
	xf_messages_in_tool_choice,
	xf_messages_in_thinking_config,
	xf_messages_in_metadata,
};

json_t *
xf_messages_to_chat(const json_t *req, struct err *e)
{
	json_t	*chat;
	size_t	 i;

	if (!json_is_object(req)) {
		err_set(e, ERR_INVALID, "the request must be a JSON object");
		return (NULL);
	}
	chat = json_pack("{s:[]}", "messages");
	for (i = 0; i < nitems(xf_messages_in_steps); i++) {
		if (xf_messages_in_steps[i](req, chat, e) == -1) {
			json_decref(chat);
			return (NULL);
		}
	}
	return (chat);
}

/*
 * The hub to a Claude request.
 *
 * Messages are converted one by one into Claude messages and pushed onto
 * the list: a push of the role the last message has merges into it, so
 * roles alternate, tool results (role user) and a user message after
 * them share one message, and the tool results stay first in it, which
 * Claude requires.
 */

struct xf_messages_req {
	json_t		*messages;	/* Claude messages */
	struct buf	 system;	/* joined system texts */
};

static void
xf_messages_push(json_t *messages, const char *role, json_t *blocks)
{
	json_t	*last, *content, *b;
	size_t	 n, i, at;

	if (json_array_size(blocks) == 0) {
		json_decref(blocks);
		return;
	}
	n = json_array_size(messages);
	last = n > 0 ? json_array_get(messages, n - 1) : NULL;
	if (!xf_messages_is_role(last, role)) {
		json_array_append_new(messages, json_pack("{s:s, s:o}",
		    "role", role, "content", blocks));
		return;
	}
	content = json_object_get(last, "content");
	for (at = 0; at < json_array_size(content); at++) {
		if (!xf_messages_is_block(json_array_get(content, at),
		    "tool_result"))
			break;
	}
	json_array_foreach(blocks, i, b) {
		if (xf_messages_is_block(b, "tool_result"))
			json_array_insert(content, at++, b);
		else
			json_array_append(content, b);
	}
	json_decref(blocks);
}

/*
 * Split a data: URL. 1 with *mt (owned) and *data set; 0 when url is not
 * a data: URL; -1 when it is one but not base64.
 */
static int
xf_messages_data_url(const char *url, char **mt, const char **data)
{
	const char	*comma, *semi;

	if (strncasecmp(url, "data:", 5) != 0)
		return (0);
	url += 5;
	if ((comma = strchr(url, ',')) == NULL || comma - url < 7 ||
	    strncasecmp(comma - 7, ";base64", 7) != 0)
		return (-1);
	semi = strchr(url, ';');
	*mt = xstrndup(url, semi - url);
	*data = comma + 1;
	return (1);
}

static json_t *
xf_messages_b64_block(const char *type, const char *mt, const char *data)
{
	return (json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", type, "source",
	    "type", "base64", "media_type", mt, "data", data));
}

/* An image URL as an image block: a data: URL inline, others by url. */
static json_t *
xf_messages_out_image(const char *url, size_t at, struct err *e)
{
	const char	*data;
	char		*mt;
	json_t		*b;

	switch (xf_messages_data_url(url, &mt, &data)) {
	case 0:
		return (json_pack("{s:s, s:{s:s, s:s}}", "type", "image",
		    "source", "type", "url", "url", url));
	case 1:
		b = xf_messages_b64_block("image", mt, data);
		free(mt);
		return (b);
	}
	err_set(e, ERR_INVALID, "messages[%zu]: image data URLs must be "
	    "base64", at);
	return (NULL);
}

/* Text sent as base64, decoded; NULL when it is not base64 or UTF-8. */
static json_t *
xf_messages_b64_text(const char *b64)
{
	static const int	 variants[] = { sodium_base64_VARIANT_ORIGINAL,
				    sodium_base64_VARIANT_ORIGINAL_NO_PADDING };
	size_t			 n = strlen(b64), max = n / 4 * 3 + 3, len, i;
	unsigned char		*bin = xmalloc(max);
	json_t			*v = NULL;

	for (i = 0; v == NULL && i < nitems(variants); i++) {
		if (sodium_base642bin(bin, max, b64, n, " \r\n", &len, NULL,
		    variants[i]) == 0)
			v = json_stringn((char *)bin, len);
	}
	free(bin);
	return (v);
}

/*
 * A file part. Claude takes PDFs and plain text as documents and images
 * as images, all inline; a file_id (OpenAI's Files API) means nothing to
 * it. file_data without a data: prefix is taken as a bare base64 PDF.
 */
static json_t *
xf_messages_out_file(const json_t *part, size_t at, struct err *e)
{
	const json_t	*file = json_object_get(part, "file");
	const char	*fd = jx_str(file, "file_data"), *data;
	const char	*name = jx_str(file, "filename");
	char		*mt = NULL;
	json_t		*b = NULL, *text;
	int		 r;

	if (fd == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: file parts need "
		    "file_data to go to Claude", at);
		return (NULL);
	}
	if ((r = xf_messages_data_url(fd, &mt, &data)) == -1) {
		err_set(e, ERR_INVALID, "messages[%zu]: file data URLs must "
		    "be base64", at);
		return (NULL);
	}
	if (r == 0) {
		mt = xstrdup("application/pdf");
		data = fd;
	}
	if (strncasecmp(mt, "image/", 6) == 0)
		b = xf_messages_b64_block("image", mt, data);
	else if (strcasecmp(mt, "application/pdf") == 0)
		b = xf_messages_b64_block("document", mt, data);
	else if (strncasecmp(mt, "text/", 5) == 0) {
		if ((text = xf_messages_b64_text(data)) == NULL)
			err_set(e, ERR_INVALID, "messages[%zu]: a text file "
			    "must be base64 UTF-8", at);
		else
			b = json_pack("{s:s, s:{s:s, s:s, s:o}}", "type",
			    "document", "source", "type", "text",
			    "media_type", "text/plain", "data", text);
	} else
		err_set(e, ERR_INVALID, "messages[%zu]: files of type %s "
		    "cannot be sent to Claude", at, mt);
	if (b != NULL && name != NULL && *name != '\0' &&
	    xf_messages_is_block(b, "document"))
		json_object_set_new(b, "title", json_string(name));
	free(mt);
	return (b);
}

/* How a content part becomes a block, by the role of its message. */
static json_t *
xf_messages_out_part(const json_t *part, int role, size_t at, struct err *e)
{
	const json_t	*iu;
	const char	*type = jx_str(part, "type"), *s;

	if (type == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: content parts must be "
		    "objects with a type", at);
		return (NULL);
	}
	if (strcmp(type, "text") == 0 || strcmp(type, "refusal") == 0) {
		if ((s = jx_str(part, type)) == NULL) {
			err_set(e, ERR_INVALID, "messages[%zu]: a %s part "
			    "needs a string %s", at, type, type);
			return (NULL);
		}
		return (*s != '\0' ? json_pack("{s:s, s:s}", "type", "text",
		    "text", s) : json_array());
	}
	if (role == XF_MESSAGES_ROLE_ASSISTANT)
		return (json_array());
	if (strcmp(type, "image_url") == 0) {
		iu = json_object_get(part, "image_url");
		s = json_is_string(iu) ? json_string_value(iu) :
		    jx_str(iu, "url");
		if (s == NULL) {
			err_set(e, ERR_INVALID, "messages[%zu]: an image_url "
			    "part needs a url", at);
			return (NULL);
		}
		return (xf_messages_out_image(s, at, e));
	}
	if (strcmp(type, "file") == 0 && role == XF_MESSAGES_ROLE_USER)
		return (xf_messages_out_file(part, at, e));
	if (role == XF_MESSAGES_ROLE_TOOL)
		return (json_array());
	err_set(e, ERR_INVALID, "messages[%zu]: content parts of type %s "
	    "cannot be sent to Claude", at, type);
	return (NULL);
}

/*
 * A message's content as blocks appended to blocks. Parts with nothing
 * to send come back from xf_messages_out_part as an empty array.
 */
static int
xf_messages_out_content(const json_t *c, int role, size_t at, json_t *blocks,
    struct err *e)
{
	const json_t	*part;
	json_t		*b;
	size_t		 i;

	if (c == NULL || json_is_null(c))
		return (0);
	if (json_is_string(c)) {
		if (*json_string_value(c) != '\0')
			json_array_append_new(blocks, json_pack("{s:s, s:O}",
			    "type", "text", "text", c));
		return (0);
	}
	if (!json_is_array(c)) {
		err_set(e, ERR_INVALID, "messages[%zu].content must be a "
		    "string or an array of parts", at);
		return (-1);
	}
	json_array_foreach(c, i, part) {
		if ((b = xf_messages_out_part(part, role, at, e)) == NULL)
			return (-1);
		if (json_is_object(b))
			json_array_append(blocks, b);
		json_decref(b);
	}
	return (0);
}

/* The texts of a message's content, joined. */
static int
xf_messages_out_text(const json_t *c, size_t at, struct buf *text,
    struct err *e)
{
	json_t	*blocks = json_array(), *b;
	size_t	 i;
	int	 rv;

	rv = xf_messages_out_content(c, XF_MESSAGES_ROLE_ASSISTANT, at,
	    blocks, e);
	json_array_foreach(blocks, i, b) {
		if (rv == 0 && xf_messages_join(text, "\n",
		    jx_str(b, "text")) == -1) {
			err_set(e, ERR_INVALID, "messages[%zu]: text too "
			    "long", at);
			rv = -1;
		}
	}
	json_decref(blocks);
	return (rv);
}

static int
xf_messages_out_system(struct xf_messages_req *r, const json_t *m, size_t at,
    struct err *e)
{
	struct buf	text;
	int		rv;

	buf_init(&text, XF_MAX_TEXT);
	rv = xf_messages_out_text(json_object_get(m, "content"), at, &text, e);
	if (rv == 0 && text.len > 0 &&
	    xf_messages_join(&r->system, "\n\n", text.data) == -1) {
		err_set(e, ERR_INVALID, "the system text is too long");
		rv = -1;
	}
	buf_free(&text);
	return (rv);
}

static int
xf_messages_out_user(struct xf_messages_req *r, const json_t *m, size_t at,
    struct err *e)
{
	json_t	*blocks = json_array();

	if (xf_messages_out_content(json_object_get(m, "content"),
	    XF_MESSAGES_ROLE_USER, at, blocks, e) == -1) {
		json_decref(blocks);
		return (-1);
	}
	xf_messages_push(r->messages, "user", blocks);
	return (0);
}

static int
xf_messages_out_call(const json_t *call, size_t at, json_t *blocks,
    struct err *e)
{
	const json_t	*fn = json_object_get(call, "function"), *a;
	const char	*id = jx_str(call, "id"), *name = jx_str(fn, "name");
	json_t		*input = NULL;
	char		 made[64];

	if (name == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: tool_calls need a "
		    "function name", at);
		return (-1);
	}
	if (id == NULL || *id == '\0') {
		xf_make_id(made, sizeof made, "toolu_");
		id = made;
	}
	a = json_object_get(fn, "arguments");
	if (json_is_string(a))
		input = json_loads(json_string_value(a), JSON_DECODE_ANY,
		    NULL);
	else if (json_is_object(a))
		input = json_deep_copy(a);
	if (!json_is_object(input)) {
		json_decref(input);
		input = json_object();
	}
	json_array_append_new(blocks, json_pack("{s:s, s:s, s:s, s:o}",
	    "type", "tool_use", "id", id, "name", name, "input", input));
	return (0);
}

/*
 * An assistant message: its signed reasoning first as a thinking block
 * (Claude refuses unsigned thinking, so other reasoning is dropped), its
 * text, its tool calls.
 */
static int
xf_messages_out_assistant(struct xf_messages_req *r, const json_t *m,
    size_t at, struct err *e)
{
	const json_t	*calls = json_object_get(m, "tool_calls"), *c;
	const char	*rc = jx_str(m, "reasoning_content");
	const char	*sig = xf_messages_untag(jx_str(m,
			    "reasoning_signature"));
	json_t		*blocks = json_array();
	size_t		 i;

	if (sig != NULL)
		json_array_append_new(blocks, json_pack("{s:s, s:s, s:s}",
		    "type", "thinking", "thinking", rc != NULL ? rc : "",
		    "signature", sig));
	if (xf_messages_out_content(json_object_get(m, "content"),
	    XF_MESSAGES_ROLE_ASSISTANT, at, blocks, e) == -1)
		goto fail;
	if (calls != NULL && !json_is_null(calls) && !json_is_array(calls)) {
		err_set(e, ERR_INVALID, "messages[%zu].tool_calls must be an "
		    "array", at);
		goto fail;
	}
	json_array_foreach(calls, i, c) {
		if (xf_messages_out_call(c, at, blocks, e) == -1)
			goto fail;
	}
	xf_messages_push(r->messages, "assistant", blocks);
	return (0);
fail:
	json_decref(blocks);
	return (-1);
}

/*
 * A tool message becomes a tool_result block of a user message. Its
 * content is a string, or blocks when it holds images, which Claude
 * takes in tool results; empty content is left out.
 */
static int
xf_messages_out_tool(struct xf_messages_req *r, const json_t *m, size_t at,
    struct err *e)
{
	const char	*id = jx_str(m, "tool_call_id");
	json_t		*blocks = json_array(), *b, *res;
	struct buf	 text;
	size_t		 i;
	int		 images = 0;

	if (id == NULL) {
		err_set(e, ERR_INVALID, "messages[%zu]: a tool message needs "
		    "a tool_call_id", at);
		json_decref(blocks);
		return (-1);
	}
	if (xf_messages_out_content(json_object_get(m, "content"),
	    XF_MESSAGES_ROLE_TOOL, at, blocks, e) == -1) {
		json_decref(blocks);
		return (-1);
	}
	buf_init(&text, XF_MAX_TEXT);
	json_array_foreach(blocks, i, b) {
		if (xf_messages_is_block(b, "image"))
			images = 1;
		else
			xf_messages_join(&text, "\n", jx_str(b, "text"));
	}
	res = json_pack("{s:s, s:s}", "type", "tool_result", "tool_use_id",
	    id);
	if (images)
		json_object_set(res, "content", blocks);
	else if (text.len > 0)
		json_object_set_new(res, "content",
		    xf_messages_jstr(text.data, text.len));
	buf_free(&text);
	json_decref(blocks);
	xf_messages_push(r->messages, "user", json_pack("[o]", res));
	return (0);
}

/* Hub roles and what each becomes. */
static const struct {
	const char	*role;
	int		(*fn)(struct xf_messages_req *, const json_t *, size_t,
			    struct err *);
} xf_messages_out_roles[] = {
	{ "system", xf_messages_out_system },
	{ "developer", xf_messages_out_system },
	{ "user", xf_messages_out_user },
	{ "assistant", xf_messages_out_assistant },
	{ "tool", xf_messages_out_tool },
};

static int
xf_messages_out_messages(struct xf_messages_req *r, const json_t *hub,
    struct err *e)
{
	const json_t	*v = json_object_get(hub, "messages"), *m;
	const char	*role;
	size_t		 i, k;

	if (!json_is_array(v)) {
		err_set(e, ERR_INVALID, "messages must be an array");
		return (-1);
	}
	json_array_foreach(v, i, m) {
		role = jx_str(m, "role");
		for (k = 0; role != NULL && k < nitems(xf_messages_out_roles);
		    k++) {
			if (strcmp(xf_messages_out_roles[k].role, role) == 0)
				break;
		}
		if (role == NULL || k == nitems(xf_messages_out_roles)) {
			err_set(e, ERR_INVALID, "messages[%zu].role must be "
			    "system, developer, user, assistant or tool", i);
			return (-1);
		}
		if (xf_messages_out_roles[k].fn(r, m, i, e) == -1)
			return (-1);
	}
	return (0);
}

/*
 * response_format has no Claude field: the system text asks for JSON
 * instead, with the schema when there is one.
 */
static void
xf_messages_out_format(const json_t *hub, struct xf_messages_req *r)
{
	const json_t	*rf = json_object_get(hub, "response_format");
	const json_t	*schema;
	const char	*type = jx_str(rf, "type");
	char		*s = NULL, *text;

	if (type == NULL || strcmp(type, "text") == 0)
		return;
	if (strcmp(type, "json_object") == 0)
		text = xstrdup("Respond with a single JSON object and nothing "
		    "else: no prose, no code fences.");
	else if (strcmp(type, "json_schema") == 0) {
		schema = json_object_get(json_object_get(rf, "json_schema"),
		    "schema");
		if (schema != NULL)
			s = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
		xasprintf(&text, "Respond with a single JSON value that "
		    "matches this JSON Schema, and nothing else: no prose, no "
		    "code fences.\n%s", s != NULL ? s : "{}");
		free(s);
	} else
		return;
	xf_messages_join(&r->system, "\n\n", text);
	free(text);
}

static int
xf_messages_out_tools(const json_t *hub, json_t *req, struct err *e)
{
	const json_t	*v = json_object_get(hub, "tools"), *t, *fn, *params;
	const char	*type, *name, *desc;
	json_t		*out, *o;
	size_t		 i;

	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_array(v)) {
		err_set(e, ERR_INVALID, "tools must be an array");
		return (-1);
	}
	out = json_array();
	json_array_foreach(v, i, t) {
		type = jx_str(t, "type");
		if (type != NULL && strcmp(type, "function") != 0)
			continue;
		fn = json_object_get(t, "function");
		if ((name = jx_str(fn, "name")) == NULL) {
			err_set(e, ERR_INVALID, "tools[%zu].function.name "
			    "must be a string", i);
			json_decref(out);
			return (-1);
		}
		o = json_pack("{s:s}", "name", name);
		if ((desc = jx_str(fn, "description")) != NULL)
			json_object_set_new(o, "description",
			    json_string(desc));
		params = json_object_get(fn, "parameters");
		json_object_set_new(o, "input_schema", json_is_object(params) ?
		    json_deep_copy(params) : json_loads(
		    XF_MESSAGES_EMPTY_SCHEMA, 0, NULL));
		json_array_append_new(out, o);
	}
	if (json_array_size(out) > 0)
		json_object_set_new(req, "tools", out);
	else
		json_decref(out);
	return (0);
}

/* Chat tool_choice strings and the Claude types they become. */
static const struct {
	const char	*chat;
	const char	*claude;
} xf_messages_out_choices[] = {
	{ "auto", "auto" },
	{ "required", "any" },
	{ "none", "none" },
};

/*
 * tool_choice, only with tools (Claude refuses it without). Chat's
 * parallel_tool_calls:false is Claude's disable_parallel_tool_use, which
 * lives in tool_choice; "none" takes no such flag.
 */
static int
xf_messages_out_tool_choice(const json_t *hub, json_t *req, struct err *e)
{
	const json_t	*v = json_object_get(hub, "tool_choice");
	const char	*s = json_string_value(v), *name, *type;
	json_t		*tc = NULL;
	size_t		 i;

	if (json_object_get(req, "tools") == NULL)
		return (0);
	for (i = 0; s != NULL && i < nitems(xf_messages_out_choices); i++) {
		if (strcmp(xf_messages_out_choices[i].chat, s) == 0)
			tc = json_pack("{s:s}", "type",
			    xf_messages_out_choices[i].claude);
	}
	if (tc == NULL && json_is_object(v) &&
	    (name = jx_str(json_object_get(v, "function"), "name")) != NULL)
		tc = json_pack("{s:s, s:s}", "type", "tool", "name", name);
	if (tc == NULL && v != NULL && !json_is_null(v)) {
		err_set(e, ERR_INVALID, "tool_choice must be auto, none, "
		    "required or a function");
		return (-1);
	}
	if (json_is_false(json_object_get(hub, "parallel_tool_calls"))) {
		if (tc == NULL)
			tc = json_pack("{s:s}", "type", "auto");
		type = jx_str(tc, "type");
		if (strcmp(type, "none") != 0)
			json_object_set_new(tc, "disable_parallel_tool_use",
			    json_true());
	}
	if (tc != NULL)
		json_object_set_new(req, "tool_choice", tc);
	return (0);
}

/* reasoning_effort as a thinking budget; 0: no thinking. */
static const struct {
	const char	*effort;
	long long	 budget;
} xf_messages_budgets[] = {
	{ "none", 0 },
	{ "minimal", 0 },
	{ "low", 1024 },
	{ "medium", 8192 },
	{ "high", 24576 },
};

/*
 * The thinking budget to ask for, 0 for none. Claude refuses thinking
 * with a forced tool choice, and with a conversation whose last
 * assistant turn called tools without a (signed) thinking block first:
 * then the request goes without thinking rather than fail.
 */
static long long
xf_messages_out_budget(const json_t *hub, const json_t *req)
{
	const json_t	*msgs = json_object_get(req, "messages"), *m, *c, *b;
	const char	*effort = jx_str(hub, "reasoning_effort"), *type;
	long long	 budget = 0;
	size_t		 i, n;

	if ((budget = xf_messages_posint(json_object_get(hub,
	    "reasoning_budget"))) > 0) {
		if (budget < XF_MESSAGES_MIN_BUDGET)
			budget = XF_MESSAGES_MIN_BUDGET;
	} else {
		budget = 0;
		for (i = 0; effort != NULL &&
		    i < nitems(xf_messages_budgets); i++) {
			if (strcmp(xf_messages_budgets[i].effort, effort) == 0)
				budget = xf_messages_budgets[i].budget;
		}
	}
	if (budget == 0)
		return (0);
	type = jx_str(json_object_get(req, "tool_choice"), "type");
	if (type != NULL && (strcmp(type, "any") == 0 ||
	    strcmp(type, "tool") == 0))
		return (0);
	for (n = json_array_size(msgs); n > 0; n--) {
		m = json_array_get(msgs, n - 1);
		if (!xf_messages_is_role(m, "assistant"))
			continue;
		c = json_object_get(m, "content");
		if (xf_messages_is_block(json_array_get(c, 0), "thinking"))
			break;
		json_array_foreach(c, i, b) {
			if (xf_messages_is_block(b, "tool_use"))
				return (0);
		}
		break;
	}
	return (budget);
}

/*
 * stop, a string or strings, as stop_sequences; Claude refuses empty
 * ones.
 */
static int
xf_messages_out_stop(const json_t *hub, json_t *req, struct err *e)
{
	const json_t	*v = json_object_get(hub, "stop"), *s;
	json_t		*out;
	size_t		 i;

	if (v == NULL || json_is_null(v))
		return (0);
	out = json_array();
	if (json_is_string(v))
		json_array_append(out, (json_t *)v);
	json_array_foreach(v, i, s) {
		if (!json_is_string(s))
			break;
		json_array_append(out, (json_t *)s);
	}
	if (json_array_size(out) != (json_is_array(v) ? json_array_size(v) :
	    1)) {
		json_decref(out);
		err_set(e, ERR_INVALID, "stop must be a string or an array of "
		    "strings");
		return (-1);
	}
	for (i = json_array_size(out); i > 0; i--) {
		if (*json_string_value(json_array_get(out, i - 1)) == '\0')
			json_array_remove(out, i - 1);
	}
	if (json_array_size(out) > 0)
		json_object_set_new(req, "stop_sequences", out);
	else
		json_decref(out);
	return (0);
}

/*
 * Sampling, without thinking only: Claude wants its defaults then.
 * temperature is kept within Claude's 0..1 (Chat's goes to 2), and top_p
 * goes only without it, as Anthropic advises against setting both.
 */
static void
xf_messages_out_sampling(const json_t *hub, json_t *req)
{
	const json_t	*t = json_object_get(hub, "temperature");
	const json_t	*p = json_object_get(hub, "top_p");
	long long	 k = xf_messages_posint(json_object_get(hub, "top_k"));
	double		 d;

	if (json_is_number(t)) {
		d = json_number_value(t);
		json_object_set_new(req, "temperature", json_real(d < 0 ? 0 :
		    d > 1 ? 1 : d));
	} else if (json_is_number(p))
		json_object_set_new(req, "top_p",
		    json_real(json_number_value(p)));
	if (k > 0)
		json_object_set_new(req, "top_k", json_integer(k));
}

json_t *
xf_messages_from_chat(const json_t *hub, struct err *e)
{
	struct xf_messages_req	 r;
	const json_t		*v;
	json_t			*req;
	long long		 max, budget;
	const char		*s;

	if (!json_is_object(hub)) {
		err_set(e, ERR_INVALID, "the request must be a JSON object");
		return (NULL);
	}
	r.messages = json_array();
	buf_init(&r.system, XF_MAX_TEXT);
	req = json_object();
	if (xf_messages_out_messages(&r, hub, e) == -1)
		goto fail;
	xf_messages_out_format(hub, &r);
	if ((s = jx_str(hub, "model")) != NULL)
		json_object_set_new(req, "model", json_string(s));
	json_object_set_new(req, "max_tokens", json_integer(0));
	if ((max = xf_messages_posint(json_object_get(hub,
	    "max_tokens"))) <= 0 && (max = xf_messages_posint(
	    json_object_get(hub, "max_completion_tokens"))) <= 0)
		max = XF_DEFAULT_MAX_TOKENS;
	if (r.system.len > 0)
		json_object_set_new(req, "system",
		    xf_messages_jstr(r.system.data, r.system.len));
	json_object_set(req, "messages", r.messages);
	if (xf_messages_out_stop(hub, req, e) == -1 ||
	    xf_messages_out_tools(hub, req, e) == -1 ||
	    xf_messages_out_tool_choice(hub, req, e) == -1)
		goto fail;
	if ((budget = xf_messages_out_budget(hub, req)) > 0) {
		json_object_set_new(req, "thinking", json_pack("{s:s, s:I}",
		    "type", "enabled", "budget_tokens", (json_int_t)budget));
		if (max <= budget)
			max = budget + XF_DEFAULT_MAX_TOKENS;
	} else
		xf_messages_out_sampling(hub, req);
	json_object_set_new(req, "max_tokens", json_integer(max));
	if (json_is_boolean(v = json_object_get(hub, "stream")))
		json_object_set(req, "stream", (json_t *)v);
	if ((s = jx_str(hub, "user")) != NULL)
		json_object_set_new(req, "metadata", json_pack("{s:s}",
		    "user_id", s));
	json_decref(r.messages);
	buf_free(&r.system);
	return (req);
fail:
	json_decref(req);
	json_decref(r.messages);
	buf_free(&r.system);
	return (NULL);
}

/*
 * A whole Claude reply into the normalized form. Text and calls go
 * through xf_final_add, which bounds them.
 */

static void
xf_messages_set(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xstrdup(s) : NULL;
}

static void
xf_messages_final_text(struct xf_final *f, const json_t *b)
{
	struct xf_delta	 d;
	const char	*s = jx_str(b, "text");

	memset(&d, 0, sizeof d);
	d.kind = XF_D_TEXT;
	d.text = s;
	d.len = s != NULL ? strlen(s) : 0;
	if (d.len > 0)
		xf_final_add(f, &d);
}

static void
xf_messages_final_thinking(struct xf_final *f, const json_t *b)
{
	struct xf_delta	 d;
	const char	*s = jx_str(b, "thinking"), *sig;

	memset(&d, 0, sizeof d);
	d.kind = XF_D_REASONING;
	d.text = s;
	d.len = s != NULL ? strlen(s) : 0;
	if (d.len > 0)
		xf_final_add(f, &d);
	if ((sig = jx_str(b, "signature")) != NULL && *sig != '\0') {
		free(f->signature);
		xasprintf(&f->signature, "%s%s", XF_SIG_ANTHROPIC, sig);
	}
}

static void
xf_messages_final_redacted(struct xf_final *f, const json_t *b)
{
	const char	*s = jx_str(b, "data");

	if (s != NULL)
		xf_messages_set(&f->redacted, s);
}

static void
xf_messages_final_tool(struct xf_final *f, const json_t *b)
{
	struct xf_delta	 d;
	const json_t	*input = json_object_get(b, "input");
	char		*args;

	memset(&d, 0, sizeof d);
	d.kind = XF_D_TOOL_START;
	d.index = (int)f->ncalls;
	d.id = jx_str(b, "id");
	d.name = jx_str(b, "name");
	if (xf_final_add(f, &d) == -1)
		return;
	if (!json_is_object(input) ||
	    (args = json_dumps(input, JSON_COMPACT)) == NULL)
		args = xstrdup("{}");
	d.kind = XF_D_TOOL_ARGS;
	d.text = args;
	d.len = strlen(args);
	xf_final_add(f, &d);
	free(args);
}

/* Content block types of a reply; others (server tools) are dropped. */
static const struct {
	const char	*type;
	void		(*fn)(struct xf_final *, const json_t *);
} xf_messages_final_blocks[] = {
	{ "text", xf_messages_final_text },
	{ "thinking", xf_messages_final_thinking },
	{ "redacted_thinking", xf_messages_final_redacted },
	{ "tool_use", xf_messages_final_tool },
};

int
xf_messages_parse_final(const json_t *body, struct xf_final *f,
    struct err *e)
{
	const json_t	*content = json_object_get(body, "content"), *b;
	const char	*type = jx_str(body, "type");
	size_t		 i, k;

	if (!json_is_object(body)) {
		err_set(e, ERR_UPSTREAM, "the Claude reply is not an object");
		return (-1);
	}
	if (type != NULL && strcmp(type, "error") == 0) {
		free(f->error);
		f->error = xf_error_message(body, NULL, 0);
		f->finish = XF_FINISH_ERROR;
		return (0);
	}
	if (!json_is_array(content)) {
		err_set(e, ERR_UPSTREAM, "the Claude reply has no content "
		    "array");
		return (-1);
	}
	if (jx_str(body, "id") != NULL)
		xf_messages_set(&f->id, jx_str(body, "id"));
	if (jx_str(body, "model") != NULL)
		xf_messages_set(&f->model, jx_str(body, "model"));
	json_array_foreach(content, i, b) {
		type = jx_str(b, "type");
		for (k = 0; type != NULL &&
		    k < nitems(xf_messages_final_blocks); k++) {
			if (strcmp(xf_messages_final_blocks[k].type, type) == 0)
				xf_messages_final_blocks[k].fn(f, b);
		}
	}
	f->finish = xf_finish_parse(jx_str(body, "stop_reason"));
	xf_messages_set(&f->stop_sequence, jx_str(body, "stop_sequence"));
	usage_from_body(&f->usage, USAGE_ANTHROPIC, body);
	return (0);
}

/*
 * Claude's stop_reason. Calls made with a plain stop are tool_use; a
 * tool_use stop without calls is end_turn, so a client does not wait
 * for calls it never got; a stop with a known sequence is stop_sequence.
 */
static const char *
xf_messages_stop_reason(enum xf_finish finish, int tools, const char *seq)
{
	const char	*s;

	if (tools && (finish == XF_FINISH_NONE || finish == XF_FINISH_STOP))
		return ("tool_use");
	if (!tools && finish == XF_FINISH_TOOL)
		return ("end_turn");
	if (finish == XF_FINISH_STOP && seq != NULL)
		return ("stop_sequence");
	s = xf_finish_name(RELAY_MESSAGES, finish);
	return (s != NULL ? s : "end_turn");
}

/* Claude's usage object; input_tokens leaves the cache out. */
static json_t *
xf_messages_usage(const struct usage *u, long long output)
{
	return (json_pack("{s:I, s:I, s:I, s:I}", "input_tokens",
	    (json_int_t)usage_uncached(u), "output_tokens", (json_int_t)output,
	    "cache_read_input_tokens", (json_int_t)u->cache_read,
	    "cache_creation_input_tokens", (json_int_t)u->cache_write));
}

json_t *
xf_messages_write_final(struct xf_final *f)
{
	json_t		*content = json_array(), *input;
	const char	*sig = xf_messages_untag(f->signature), *reason;
	char		 id[64];
	size_t		 i;

	if (f->reasoning.len > 0 || sig != NULL)
		json_array_append_new(content, json_pack("{s:s, s:o, s:s}",
		    "type", "thinking", "thinking", xf_messages_jstr(
		    f->reasoning.data, f->reasoning.len), "signature",
		    sig != NULL ? sig : ""));
	if (f->redacted != NULL)
		json_array_append_new(content, json_pack("{s:s, s:o}", "type",
		    "redacted_thinking", "data", xf_messages_jstr(f->redacted,
		    strlen(f->redacted))));
	if (f->text.len > 0 || (json_array_size(content) == 0 &&
	    f->ncalls == 0))
		json_array_append_new(content, json_pack("{s:s, s:o}", "type",
		    "text", "text", xf_messages_jstr(f->text.data,
		    f->text.len)));
	for (i = 0; i < f->ncalls; i++) {
		input = json_loadb(f->calls[i].args.data != NULL ?
		    f->calls[i].args.data : "", f->calls[i].args.len, 0, NULL);
		if (!json_is_object(input)) {
			json_decref(input);
			input = json_object();
		}
		if (f->calls[i].id == NULL) {
			xf_make_id(id, sizeof id, "toolu_");
			f->calls[i].id = xstrdup(id);
		}
		json_array_append_new(content, json_pack(
		    "{s:s, s:o, s:o, s:o}", "type", "tool_use", "id",
		    xf_messages_jstr(f->calls[i].id, strlen(f->calls[i].id)),
		    "name", xf_messages_jstr(f->calls[i].name,
		    f->calls[i].name != NULL ? strlen(f->calls[i].name) : 0),
		    "input", input));
	}
	if (f->id == NULL) {
		xf_make_id(id, sizeof id, "msg_");
		f->id = xstrdup(id);
	}
	reason = xf_messages_stop_reason(f->finish, f->ncalls > 0,
	    f->stop_sequence);
	return (json_pack("{s:o, s:s, s:s, s:o, s:o, s:s, s:o, s:o}",
	    "id", xf_messages_jstr(f->id, strlen(f->id)), "type", "message",
	    "role", "assistant", "model", xf_messages_jstr(f->model,
	    f->model != NULL ? strlen(f->model) : 0), "content", content,
	    "stop_reason", reason, "stop_sequence",
	    strcmp(reason, "stop_sequence") == 0 ? xf_messages_jstr(
	    f->stop_sequence, strlen(f->stop_sequence)) : json_null(),
	    "usage", xf_messages_usage(&f->usage, f->usage.completion)));
}

/*
 * A Claude stream into deltas.
 *
 * Claude numbers content blocks; deltas name their block by that
 * number. block_kind remembers each block's type and block_tool which
 * tool call a tool_use block is (tool + 1), for the first 256 blocks;
 * tool_use blocks past that are dropped, as their arguments could not be
 * told apart. A thinking block's signature arrives in pieces
 * (signature_delta) and is passed on whole when the block stops.
 */

#define XF_MESSAGES_B_TEXT	1
#define XF_MESSAGES_B_THINKING	2
#define XF_MESSAGES_B_REDACTED	3
#define XF_MESSAGES_B_TOOL	4
#define XF_MESSAGES_B_TOOL_FULL	5	/* input given whole at the start */
#define XF_MESSAGES_B_OTHER	6

struct xf_messages_sink {
	struct xf_parser	*p;
	xf_delta_cb		 cb;
	void			*arg;
};

static int
xf_messages_send(struct xf_messages_sink *k, enum xf_delta_kind kind,
    const char *text, int i)
{
	struct xf_delta	d;

	memset(&d, 0, sizeof d);
	d.kind = kind;
	d.text = text;
	d.len = text != NULL ? strlen(text) : 0;
	d.index = i;
	return (k->cb(&d, k->arg));
}

/* The event's block index, -1 when absent or past the tables. */
static int
xf_messages_index(const struct xf_parser *p, const json_t *data)
{
	const json_t	*v = json_object_get(data, "index");

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) >= (json_int_t)nitems(p->block_kind))
		return (-1);
	return ((int)json_integer_value(v));
}

static int
xf_messages_ev_message_start(struct xf_messages_sink *k, const json_t *data)
{
	const json_t	*m = json_object_get(data, "message");
	struct xf_delta	 d;

	if (k->p->started)
		return (0);
	k->p->started = 1;
	memset(&d, 0, sizeof d);
	d.kind = XF_D_START;
	d.id = jx_str(m, "id");
	d.model = jx_str(m, "model");
	return (k->cb(&d, k->arg));
}

static int
xf_messages_ev_tool_start(struct xf_messages_sink *k, const json_t *cb,
    int bi)
{
	struct xf_parser	*p = k->p;
	const json_t		*input = json_object_get(cb, "input");
	struct xf_delta		 d;
	char			*args;
	int			 rc;

	if (bi < 0 || p->ntools >= XF_MAX_CALLS)
		return (0);
	p->block_tool[bi] = ++p->ntools;
	memset(&d, 0, sizeof d);
	d.kind = XF_D_TOOL_START;
	d.index = p->ntools - 1;
	d.id = jx_str(cb, "id");
	d.name = jx_str(cb, "name");
	if ((rc = k->cb(&d, k->arg)) != 0)
		return (rc);
	/* Some relays give the input whole here, with no deltas after. */
	if (!json_is_object(input) || json_object_size(input) == 0)
		return (0);
	p->block_kind[bi] = XF_MESSAGES_B_TOOL_FULL;
	if ((args = json_dumps(input, JSON_COMPACT)) == NULL)
		return (0);
	rc = xf_messages_send(k, XF_D_TOOL_ARGS, args, d.index);
	free(args);
	return (rc);
}

/* Block types a stream may start, and the kind each is remembered as. */
static const struct {
	const char	*type;
	int		 kind;
} xf_messages_block_kinds[] = {
	{ "text", XF_MESSAGES_B_TEXT },
	{ "thinking", XF_MESSAGES_B_THINKING },
	{ "redacted_thinking", XF_MESSAGES_B_REDACTED },
	{ "tool_use", XF_MESSAGES_B_TOOL },
};

static int
xf_messages_ev_block_start(struct xf_messages_sink *k, const json_t *data)
{
	const json_t	*cb = json_object_get(data, "content_block");
	const char	*type = jx_str(cb, "type"), *s;
	int		 bi = xf_messages_index(k->p, data);
	int		 kind = XF_MESSAGES_B_OTHER;
	size_t		 i;

	for (i = 0; type != NULL && i < nitems(xf_messages_block_kinds); i++) {
		if (strcmp(xf_messages_block_kinds[i].type, type) == 0)
			kind = xf_messages_block_kinds[i].kind;
	}
	if (bi >= 0) {
		k->p->block_kind[bi] = kind;
		k->p->block_tool[bi] = 0;
	}
	switch (kind) {
	case XF_MESSAGES_B_TEXT:
		s = jx_str(cb, "text");
		if (s != NULL && *s != '\0')
			return (xf_messages_send(k, XF_D_TEXT, s, 0));
		break;
	case XF_MESSAGES_B_THINKING:
		buf_reset(&k->p->sig);
		if ((s = jx_str(cb, "signature")) != NULL)
			buf_addstr(&k->p->sig, s);
		s = jx_str(cb, "thinking");
		if (s != NULL && *s != '\0')
			return (xf_messages_send(k, XF_D_REASONING, s, 0));
		break;
	case XF_MESSAGES_B_REDACTED:
		if ((s = jx_str(cb, "data")) != NULL)
			return (xf_messages_send(k, XF_D_REDACTED, s, 0));
		break;
	case XF_MESSAGES_B_TOOL:
		return (xf_messages_ev_tool_start(k, cb, bi));
	}
	return (0);
}

static int
xf_messages_ev_block_delta(struct xf_messages_sink *k, const json_t *data)
{
	struct xf_parser	*p = k->p;
	const json_t		*delta = json_object_get(data, "delta");
	const char		*type = jx_str(delta, "type"), *s;
	int			 bi = xf_messages_index(k->p, data);

	if (type == NULL)
		return (0);
	if (strcmp(type, "text_delta") == 0) {
		if ((s = jx_str(delta, "text")) != NULL && *s != '\0')
			return (xf_messages_send(k, XF_D_TEXT, s, 0));
	} else if (strcmp(type, "thinking_delta") == 0) {
		if ((s = jx_str(delta, "thinking")) != NULL && *s != '\0')
			return (xf_messages_send(k, XF_D_REASONING, s, 0));
	} else if (strcmp(type, "signature_delta") == 0) {
		if ((s = jx_str(delta, "signature")) != NULL)
			buf_addstr(&p->sig, s);
	} else if (strcmp(type, "input_json_delta") == 0) {
		s = jx_str(delta, "partial_json");
		if (bi >= 0 && p->block_tool[bi] > 0 &&
		    p->block_kind[bi] == XF_MESSAGES_B_TOOL &&
		    s != NULL && *s != '\0')
			return (xf_messages_send(k, XF_D_TOOL_ARGS, s,
			    p->block_tool[bi] - 1));
	}
	return (0);
}

static int
xf_messages_ev_block_stop(struct xf_messages_sink *k,
    __unused const json_t *data)
{
	struct xf_parser	*p = k->p;
	char			*sig;
	int			 rc;

	if (p->sig.len == 0)
		return (0);
	xasprintf(&sig, "%s%s", XF_SIG_ANTHROPIC, p->sig.data);
	buf_reset(&p->sig);
	rc = xf_messages_send(k, XF_D_SIGNATURE, sig, 0);
	free(sig);
	return (rc);
}

static int
xf_messages_ev_message_delta(struct xf_messages_sink *k, const json_t *data)
{
	const json_t	*delta = json_object_get(data, "delta");
	const char	*reason = jx_str(delta, "stop_reason");
	struct xf_delta	 d;

	if (reason == NULL)
		return (0);
	k->p->finished = 1;
	memset(&d, 0, sizeof d);
	d.kind = XF_D_FINISH;
	d.finish = xf_finish_parse(reason);
	d.text = jx_str(delta, "stop_sequence");
	d.len = d.text != NULL ? strlen(d.text) : 0;
	return (k->cb(&d, k->arg));
}

static int
xf_messages_ev_message_stop(struct xf_messages_sink *k,
    __unused const json_t *data)
{
	if (k->p->done)
		return (0);
	k->p->done = 1;
	return (xf_messages_send(k, XF_D_DONE, NULL, 0));
}

static int
xf_messages_ev_error(struct xf_messages_sink *k, const json_t *data)
{
	char	*msg;
	int	 rc;

	msg = xf_error_message(data, NULL, 0);
	rc = xf_messages_send(k, XF_D_ERROR, msg, 0);
	free(msg);
	return (rc);
}

/* Claude stream events; others (ping, unknown ones) are ignored. */
static const struct {
	const char	*type;
	int		(*fn)(struct xf_messages_sink *, const json_t *);
} xf_messages_events[] = {
	{ "message_start", xf_messages_ev_message_start },
	{ "content_block_start", xf_messages_ev_block_start },
	{ "content_block_delta", xf_messages_ev_block_delta },
	{ "content_block_stop", xf_messages_ev_block_stop },
	{ "message_delta", xf_messages_ev_message_delta },
	{ "message_stop", xf_messages_ev_message_stop },
	{ "error", xf_messages_ev_error },
};

int
xf_messages_parse_event(struct xf_parser *p, const char *event,
    const json_t *data, const char *raw, size_t rawlen, xf_delta_cb cb,
    void *arg)
{
	struct xf_messages_sink	 k = { p, cb, arg };
	struct xf_delta		 d;
	const char		*type;
	char			*msg;
	size_t			 i;
	int			 rc = 0;

	if (!json_is_object(data)) {
		/* An error event whose data is not JSON: its text. */
		if (event == NULL || strcmp(event, "error") != 0)
			return (0);
		msg = xf_error_message(NULL, raw, rawlen);
		rc = xf_messages_send(&k, XF_D_ERROR, msg, 0);
		free(msg);
		return (rc);
	}
	if ((type = jx_str(data, "type")) == NULL && (type = event) == NULL)
		return (0);
	for (i = 0; i < nitems(xf_messages_events); i++) {
		if (strcmp(xf_messages_events[i].type, type) == 0) {
			rc = xf_messages_events[i].fn(&k, data);
			break;
		}
	}
	if (rc != 0)
		return (rc);
	if (usage_from_event(&p->usage, USAGE_ANTHROPIC, data) == 1) {
		memset(&d, 0, sizeof d);
		d.kind = XF_D_USAGE;
		d.usage = &p->usage;
		return (cb(&d, arg));
	}
	return (0);
}

/*
 * Deltas into a Claude stream for a Claude client.
 *
 * The stream is message_start, ping, then content blocks, one open at a
 * time, each content_block_start, its deltas, content_block_stop; then
 * message_delta and message_stop. Blocks open lazily, when a delta of a
 * new kind arrives, which closes the block open before.
 *
 * Tool calls. A Chat upstream may interleave its parallel calls (both
 * named first, then arguments for each in turn), but a closed block can
 * never take more. So a tool block stays open while it streams, and a
 * call that starts meanwhile is held: its arguments collect in
 * w->final's calls (fed there even when !keep) and its block is written
 * whole, start, all its arguments, stop, when the open tool block
 * closes. Arguments for a call whose block has been written are dropped
 * from the stream (still in w->final): a text or thinking delta must
 * have come between a call's own pieces for that to happen.
 *
 * tool_block[] holds, per call, 0 before it starts, -1 while it is held,
 * or its block + 1.
 */

#define XF_MESSAGES_OPEN_NONE		0
#define XF_MESSAGES_OPEN_TEXT		1
#define XF_MESSAGES_OPEN_THINKING	2
#define XF_MESSAGES_OPEN_SIGNED		3	/* thinking, signature sent */
#define XF_MESSAGES_OPEN_TOOL		4
#define XF_MESSAGES_HELD		(-1)

/* Write one event, named by its data's type; takes data. */
static int
xf_messages_event(struct buf *out, json_t *data)
{
	char	*s;
	int	 rv = -1;

	if (data == NULL)
		return (-1);
	if ((s = json_dumps(data, JSON_COMPACT)) != NULL)
		rv = sse_write_event(out, jx_str(data, "type"), s);
	free(s);
	json_decref(data);
	return (rv);
}

static int
xf_messages_w_begin(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	const char	*model = w->model;
	json_t		*msg;

	if (w->started)
		return (0);
	w->started = 1;
	if (w->id[0] == '\0')
		xf_make_id(w->id, sizeof w->id, "msg_");
	if ((model == NULL || *model == '\0') && d->kind == XF_D_START &&
	    d->model != NULL)
		model = d->model;
	msg = json_pack("{s:s, s:s, s:s, s:[], s:s, s:n, s:n, s:o}", "id",
	    w->id, "type", "message", "role", "assistant", "content",
	    "model", model != NULL ? model : "", "stop_reason",
	    "stop_sequence", "usage", xf_messages_usage(&w->final.usage, 0));
	if (xf_messages_event(out, json_pack("{s:s, s:o}", "type",
	    "message_start", "message", msg)) == -1)
		return (-1);
	return (xf_messages_event(out, json_pack("{s:s}", "type", "ping")));
}

static int
xf_messages_w_open(struct xf_writer *w, int kind, json_t *block,
    struct buf *out)
{
	w->open = kind;
	w->block = w->nblocks++;
	return (xf_messages_event(out, json_pack("{s:s, s:i, s:o}", "type",
	    "content_block_start", "index", w->block, "content_block",
	    block)));
}

static int
xf_messages_w_delta(struct xf_writer *w, json_t *delta, struct buf *out)
{
	return (xf_messages_event(out, json_pack("{s:s, s:i, s:o}", "type",
	    "content_block_delta", "index", w->block, "delta", delta)));
}

static int
xf_messages_w_stop(struct xf_writer *w, struct buf *out)
{
	if (w->open == XF_MESSAGES_OPEN_NONE)
		return (0);
	w->open = XF_MESSAGES_OPEN_NONE;
	return (xf_messages_event(out, json_pack("{s:s, s:i}", "type",
	    "content_block_stop", "index", w->block)));
}

/* Open call i's block, with the arguments collected for it so far. */
static int
xf_messages_w_tool(struct xf_writer *w, int i, struct buf *out)
{
	struct xf_call	*c = &w->final.calls[i];
	char		 id[64];

	if (c->id == NULL) {
		xf_make_id(id, sizeof id, "toolu_");
		c->id = xstrdup(id);
	}
	w->tool_block[i] = w->nblocks + 1;
	if (xf_messages_w_open(w, XF_MESSAGES_OPEN_TOOL, json_pack(
	    "{s:s, s:o, s:o, s:{}}", "type", "tool_use", "id",
	    xf_messages_jstr(c->id, strlen(c->id)), "name",
	    xf_messages_jstr(c->name, c->name != NULL ? strlen(c->name) : 0),
	    "input"), out) == -1)
		return (-1);
	if (c->args.len == 0)
		return (0);
	return (xf_messages_w_delta(w, json_pack("{s:s, s:o}", "type",
	    "input_json_delta", "partial_json", xf_messages_jstr(c->args.data,
	    c->args.len)), out));
}

/* Close the open block; after a tool block, write the calls held. */
static int
xf_messages_w_close(struct xf_writer *w, struct buf *out)
{
	int	was = w->open, i;

	if (xf_messages_w_stop(w, out) == -1)
		return (-1);
	if (was != XF_MESSAGES_OPEN_TOOL)
		return (0);
	for (i = 0; i < XF_MAX_CALLS; i++) {
		if (w->tool_block[i] != XF_MESSAGES_HELD)
			continue;
		if (xf_messages_w_tool(w, i, out) == -1 ||
		    xf_messages_w_stop(w, out) == -1)
			return (-1);
	}
	return (0);
}

/* Make sure a block of this kind is open, closing another. */
static int
xf_messages_w_ensure(struct xf_writer *w, int kind, struct buf *out)
{
	json_t	*block;

	if (w->open == kind)
		return (0);
	if (xf_messages_w_close(w, out) == -1)
		return (-1);
	if (kind == XF_MESSAGES_OPEN_TEXT)
		block = json_pack("{s:s, s:s}", "type", "text", "text", "");
	else
		block = json_pack("{s:s, s:s, s:s}", "type", "thinking",
		    "thinking", "", "signature", "");
	return (xf_messages_w_open(w, kind, block, out));
}

static int
xf_messages_w_text(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	if (d->len == 0)
		return (0);
	if (xf_messages_w_ensure(w, XF_MESSAGES_OPEN_TEXT, out) == -1)
		return (-1);
	return (xf_messages_w_delta(w, json_pack("{s:s, s:o}", "type",
	    "text_delta", "text", xf_messages_jstr(d->text, d->len)), out));
}

/* Reasoning after a signature is another thinking block upstream. */
static int
xf_messages_w_reasoning(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	if (d->len == 0)
		return (0);
	if (xf_messages_w_ensure(w, XF_MESSAGES_OPEN_THINKING, out) == -1)
		return (-1);
	return (xf_messages_w_delta(w, json_pack("{s:s, s:o}", "type",
	    "thinking_delta", "thinking", xf_messages_jstr(d->text, d->len)),
	    out));
}

/*
 * A Claude signature goes on the open thinking block, or on a thinking
 * block of its own at the start (Claude may sign empty thinking). Any
 * other is dropped: it cannot sign what a Claude client sends back.
 */
static int
xf_messages_w_signature(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	const char	*sig;
	char		*s;
	int		 rv = 0;

	if (d->text == NULL)
		return (0);
	s = xstrndup(d->text, d->len);
	if ((sig = xf_messages_untag(s)) == NULL ||
	    (w->open != XF_MESSAGES_OPEN_THINKING &&
	    (w->open != XF_MESSAGES_OPEN_NONE || w->nblocks > 0))) {
		free(s);
		return (0);
	}
	if (w->open == XF_MESSAGES_OPEN_NONE)
		rv = xf_messages_w_ensure(w, XF_MESSAGES_OPEN_THINKING, out);
	if (rv == 0)
		rv = xf_messages_w_delta(w, json_pack("{s:s, s:s}", "type",
		    "signature_delta", "signature", sig), out);
	w->open = XF_MESSAGES_OPEN_SIGNED;
	free(s);
	return (rv);
}

static int
xf_messages_w_redacted(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	if (xf_messages_w_close(w, out) == -1 ||
	    xf_messages_w_open(w, XF_MESSAGES_OPEN_THINKING, json_pack(
	    "{s:s, s:o}", "type", "redacted_thinking", "data",
	    xf_messages_jstr(d->text, d->len)), out) == -1)
		return (-1);
	return (xf_messages_w_stop(w, out));
}

static int
xf_messages_w_tool_start(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	int	i = d->index;

	if (i < 0 || i >= XF_MAX_CALLS || w->tool_block[i] != 0 ||
	    (size_t)i >= w->final.ncalls)
		return (0);
	if (w->open == XF_MESSAGES_OPEN_TOOL) {
		w->tool_block[i] = XF_MESSAGES_HELD;
		return (0);
	}
	if (xf_messages_w_close(w, out) == -1)
		return (-1);
	return (xf_messages_w_tool(w, i, out));
}

static int
xf_messages_w_tool_args(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	int	i = d->index;

	if (i < 0 || i >= XF_MAX_CALLS || d->len == 0 ||
	    w->open != XF_MESSAGES_OPEN_TOOL ||
	    w->tool_block[i] != w->block + 1)
		return (0);
	return (xf_messages_w_delta(w, json_pack("{s:s, s:o}", "type",
	    "input_json_delta", "partial_json", xf_messages_jstr(d->text,
	    d->len)), out));
}

static int
xf_messages_w_done(struct xf_writer *w, __unused const struct xf_delta *d,
    struct buf *out)
{
	const struct usage	*u = &w->final.usage;
	const char		*reason, *seq = w->final.stop_sequence;
	int			 i, tools = 0;

	if (xf_messages_w_close(w, out) == -1)
		return (-1);
	for (i = 0; i < XF_MAX_CALLS; i++) {
		if (w->tool_block[i] > 0)
			tools = 1;
	}
	reason = xf_messages_stop_reason(w->final.finish, tools, seq);
	if (strcmp(reason, "stop_sequence") != 0)
		seq = NULL;
	w->ended = 1;
	if (xf_messages_event(out, json_pack("{s:s, s:{s:s, s:o}, s:o}",
	    "type", "message_delta", "delta", "stop_reason", reason,
	    "stop_sequence", seq != NULL ? xf_messages_jstr(seq,
	    strlen(seq)) : json_null(), "usage", json_pack(
	    "{s:I, s:I, s:I, s:I}", "output_tokens",
	    (json_int_t)u->completion, "input_tokens",
	    (json_int_t)usage_uncached(u), "cache_read_input_tokens",
	    (json_int_t)u->cache_read, "cache_creation_input_tokens",
	    (json_int_t)u->cache_write))) == -1)
		return (-1);
	return (xf_messages_event(out, json_pack("{s:s}", "type",
	    "message_stop")));
}

/* What each delta writes; START, FINISH and USAGE only change state. */
static int (*const xf_messages_writers[])(struct xf_writer *,
    const struct xf_delta *, struct buf *) = {
	[XF_D_TEXT] = xf_messages_w_text,
	[XF_D_REASONING] = xf_messages_w_reasoning,
	[XF_D_SIGNATURE] = xf_messages_w_signature,
	[XF_D_REDACTED] = xf_messages_w_redacted,
	[XF_D_TOOL_START] = xf_messages_w_tool_start,
	[XF_D_TOOL_ARGS] = xf_messages_w_tool_args,
	[XF_D_DONE] = xf_messages_w_done,	/* the last kind: sizes it */
};

/*
 * The state a delta changes, before anything is written: tool calls are
 * always collected (held calls are written from there), and the finish
 * and usage that message_delta reports at the end.
 */
static void
xf_messages_w_keep(struct xf_writer *w, const struct xf_delta *d)
{
	if (w->keep || d->kind == XF_D_TOOL_START ||
	    d->kind == XF_D_TOOL_ARGS || d->kind == XF_D_FINISH)
		xf_final_add(&w->final, d);
	if (!w->keep && d->kind == XF_D_USAGE && d->usage != NULL)
		xf_usage_merge(&w->final.usage, d->usage);
}

int
xf_messages_write_delta(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	char	*msg;
	int	 rv;

	if (w->ended || (unsigned)d->kind >= nitems(xf_messages_writers))
		return (0);
	if (d->kind == XF_D_ERROR) {
		if (w->keep)
			xf_final_add(&w->final, d);
		msg = d->text != NULL ? xstrndup(d->text, d->len > 0 ? d->len :
		    strlen(d->text)) : NULL;
		rv = xf_messages_write_error(w, msg, out);
		free(msg);
		return (rv);
	}
	xf_messages_w_keep(w, d);
	if (xf_messages_w_begin(w, d, out) == -1)
		return (-1);
	if (xf_messages_writers[d->kind] == NULL)
		return (0);
	return (xf_messages_writers[d->kind](w, d, out));
}

/*
 * An error ends the stream as Claude ends one: an error event, with no
 * message_stop after it.
 */
int
xf_messages_write_error(struct xf_writer *w, const char *msg,
    struct buf *out)
{
	if (w->ended)
		return (0);
	w->ended = 1;
	if (msg == NULL)
		msg = "upstream error";
	return (xf_messages_event(out, json_pack("{s:s, s:{s:s, s:o}}",
	    "type", "error", "error", "type", "api_error", "message",
	    xf_messages_jstr(msg, strlen(msg)))));
}
