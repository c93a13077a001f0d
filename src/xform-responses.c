/*
 * OpenAI Responses (/v1/responses), the four sides of xform.h for it: a
 * client's request to the hub and the hub to an upstream request; an
 * upstream reply and stream read into struct xf_final and deltas; a
 * reply, a stream and an error written for a client. Pure: no I/O, no
 * globals; a stream keeps its state in struct xf_parser and struct
 * xf_writer only.
 *
 * What does not survive the trip. previous_response_id, store, include,
 * prompt_cache_key and truncation stay out of the hub (the caller deals
 * with previous_response_id by prepending the stored conversation).
 * Hosted tools (web search, file search, computer use, MCP) have no hub
 * form and are dropped, as are input items other than messages, function
 * calls, their outputs and reasoning. Tool outputs keep their text only.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "sse.h"
#include "usage.h"
#include "xform.h"
#include "xmalloc.h"

/*
 * Top-level fields that both sides carry unchanged but for their name,
 * and the JSON type each must have. A null counts as absent.
 */
enum resp_type {
	RT_STRING,
	RT_INT,
	RT_NUMBER,
	RT_BOOL,
	RT_OBJECT
};

static const struct resp_field {
	const char	*resp;		/* the Responses name */
	const char	*chat;		/* the hub name */
	enum resp_type	 type;
} resp_field_table[] = {
	{ "model",		 "model",		RT_STRING },
	{ "max_output_tokens",	 "max_tokens",		RT_INT },
	{ "temperature",	 "temperature",		RT_NUMBER },
	{ "top_p",		 "top_p",		RT_NUMBER },
	{ "user",		 "user",		RT_STRING },
	{ "metadata",		 "metadata",		RT_OBJECT },
	{ "parallel_tool_calls", "parallel_tool_calls",	RT_BOOL },
	{ "stream",		 "stream",		RT_BOOL },
};

static const char *const resp_type_names[] = {
	[RT_STRING] = "a string",
	[RT_INT] = "an integer",
	[RT_NUMBER] = "a number",
	[RT_BOOL] = "a boolean",
	[RT_OBJECT] = "an object",
};

/* A reasoning budget in tokens as an effort: the first bound it fits. */
static const struct {
	long long	 max;
	const char	*effort;
} resp_budget_table[] = {
	{ 1024,		"low" },
	{ 8192,		"medium" },
	{ LLONG_MAX,	"high" },
};

/* Why a response is incomplete, and how that ends the reply. */
static const struct {
	const char	*reason;
	enum xf_finish	 finish;
} resp_incomplete_table[] = {
	{ "max_output_tokens",	XF_FINISH_LENGTH },
	{ "content_filter",	XF_FINISH_FILTER },
};

/*
 * Between two reasoning summaries (each opens with its own bold title),
 * so that joined they stay paragraphs.
 */
#define RESP_REASONING_SEP	"\n\n"

/*
 * A JSON string of s (len bytes). Bytes that are not UTF-8, which
 * jansson refuses, become U+FFFD, so a bad byte costs a character and
 * not the whole string.
 */
static json_t *
resp_str(const char *s, size_t len)
{
	struct buf	 b;
	json_t		*j;
	size_t		 i, n;
	unsigned char	 c;

	if (s == NULL)
		return (json_string(""));
	if ((j = json_stringn(s, len)) != NULL)
		return (j);
	buf_init(&b, len * 3 + 1);
	for (i = 0; i < len; i += n) {
		c = (unsigned char)s[i];
		if (c < 0x80)
			n = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			n = 0;
		if (n == 0 || n > len - i ||
		    (j = json_stringn(s + i, n)) == NULL) {
			buf_addstr(&b, "\xef\xbf\xbd");
			n = 1;
			continue;
		}
		json_decref(j);
		buf_add(&b, s + i, n);
	}
	j = json_stringn(buf_cstr(&b), b.len);
	buf_free(&b);
	return (j != NULL ? j : json_string(""));
}

static json_t *
resp_cstr(const char *s)
{
	return (resp_str(s, s != NULL ? strlen(s) : 0));
}

/* Is s NULL, empty or only white space? */
static int
resp_blank(const char *s, size_t len)
{
	size_t	i;

	if (s == NULL)
		return (1);
	for (i = 0; i < len; i++) {
		if (strchr(" \t\r\n", s[i]) == NULL || s[i] == '\0')
			return (0);
	}
	return (1);
}

/* o.k when it is present and not null. */
static json_t *
resp_get(const json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);

	return (json_is_null(v) ? NULL : v);
}

/* Copy o.k to n.k when present. */
static void
resp_copy(json_t *n, const char *nk, const json_t *o, const char *k)
{
	json_t	*v;

	if ((v = resp_get(o, k)) != NULL)
		json_object_set(n, nk, v);
}

static int
resp_type_ok(const json_t *v, enum resp_type t)
{
	switch (t) {
	case RT_STRING:
		return (json_is_string(v));
	case RT_INT:
		return (json_is_integer(v));
	case RT_NUMBER:
		return (json_is_number(v));
	case RT_BOOL:
		return (json_is_boolean(v));
	case RT_OBJECT:
		return (json_is_object(v));
	}
	return (0);
}

/*
 * Copy the fields of resp_field_table from o to n, by their Responses
 * names when to_chat, else by their hub names; a wrong type is the
 * client's error.
 */
static int
resp_copy_fields(json_t *n, const json_t *o, int to_chat, struct err *e)
{
	const struct resp_field	*f;
	const char		*from, *to;
	json_t			*v;
	size_t			 i;

	for (i = 0; i < nitems(resp_field_table); i++) {
		f = &resp_field_table[i];
		from = to_chat ? f->resp : f->chat;
		to = to_chat ? f->chat : f->resp;
		if ((v = resp_get(o, from)) == NULL)
			continue;
		if (!resp_type_ok(v, f->type)) {
			err_set(e, ERR_INVALID, "%s must be %s", from,
			    resp_type_names[f->type]);
			return (-1);
		}
		json_object_set(n, to, v);
	}
	return (0);
}

/* A part's text: its text, or a refusal's; NULL when it has none. */
static const json_t *
resp_part_text(const json_t *part)
{
	const json_t	*t;

	if (json_is_string(t = json_object_get(part, "text")))
		return (t);
	if (json_is_string(t = json_object_get(part, "refusal")))
		return (t);
	return (NULL);
}

/* The text of a string, or of the text parts of an array, joined. */
static void
resp_text_of(struct buf *b, const json_t *content, const char *sep)
{
	const json_t	*part, *t;
	size_t		 i;
	int		 first = 1;

	if (json_is_string(content)) {
		buf_add(b, json_string_value(content),
		    json_string_length(content));
		return;
	}
	json_array_foreach(content, i, part) {
		if ((t = resp_part_text(part)) == NULL)
			continue;
		if (!first && sep != NULL)
			buf_addstr(b, sep);
		buf_add(b, json_string_value(t), json_string_length(t));
		first = 0;
	}
}

/*
 * A reasoning item's text: its summaries, then its full reasoning text
 * (open models send that), each set apart from the one before.
 */
static void
resp_reasoning_of(struct buf *b, const json_t *item)
{
	static const char *const lists[] = { "summary", "content" };
	const json_t	*p, *t;
	size_t		 i, k;

	for (k = 0; k < nitems(lists); k++) {
		json_array_foreach(json_object_get(item, lists[k]), i, p) {
			t = json_object_get(p, "text");
			if (json_string_length(t) == 0)
				continue;
			if (b->len != 0)
				buf_addstr(b, RESP_REASONING_SEP);
			buf_add(b, json_string_value(t),
			    json_string_length(t));
		}
	}
}

/* As resp_text_of, into a new JSON string. */
static json_t *
resp_text_json(const json_t *content, const char *sep)
{
	struct buf	 b;
	json_t		*j;

	buf_init(&b, SIZE_MAX / 2);
	resp_text_of(&b, content, sep);
	j = resp_str(b.data, b.len);
	buf_free(&b);
	return (j);
}

/* Arguments as JSON text: a string kept, an object dumped, blank "{}". */
static json_t *
resp_args(const json_t *v)
{
	char	*s;
	json_t	*j;

	if (json_is_string(v) && !resp_blank(json_string_value(v),
	    json_string_length(v)))
		return (json_copy((json_t *)v));
	if (json_is_object(v) || json_is_array(v)) {
		s = json_dumps(v, JSON_COMPACT);
		j = json_string(s != NULL ? s : "{}");
		free(s);
		return (j);
	}
	return (json_string("{}"));
}

/*
 * Requests: Responses to the hub.
 *
 * Input items arrive in conversation order and become hub messages one
 * by one, with two pieces of state: the call ids seen so far (a tool
 * output for a call that was never made is dropped: upstreams refuse
 * it), and the reasoning waiting for the assistant message it belongs
 * to (Responses sends reasoning as an item of its own before the message
 * or call it led to; the hub carries it on that assistant message). Any
 * other message in between drops the waiting reasoning: it belonged to
 * no answer.
 */
struct resp_in {
	json_t		*msgs;		/* hub messages */
	struct buf	 reasoning;	/* waiting reasoning text */
	char		*signature;	/* its tagged encrypted_content */
	int		 pending;	/* reasoning is waiting */
	const char	*what;		/* input or instructions */
	struct err	*e;
};

static int	resp_in_message(struct resp_in *, const json_t *, size_t);
static int	resp_in_call(struct resp_in *, const json_t *, size_t);
static int	resp_in_output(struct resp_in *, const json_t *, size_t);
static int	resp_in_reasoning(struct resp_in *, const json_t *, size_t);

/* Input items by type; others (hosted tool calls, references) are left. */
static const struct {
	const char	*type;
	int		(*fn)(struct resp_in *, const json_t *, size_t);
} resp_item_table[] = {
	{ "message",		  resp_in_message },
	{ "function_call",	  resp_in_call },
	{ "function_call_output", resp_in_output },
	{ "reasoning",		  resp_in_reasoning },
};

static void
resp_in_drop_reasoning(struct resp_in *in)
{
	buf_reset(&in->reasoning);
	free(in->signature);
	in->signature = NULL;
	in->pending = 0;
}

/*
 * Put the waiting reasoning on assistant message m. Should m have some
 * already (two reasoning items for one message), the texts are joined
 * and the first signature stays: a message carries one.
 */
static void
resp_in_take_reasoning(struct resp_in *in, json_t *m)
{
	const char	*old;
	char		*s;

	if (!in->pending)
		return;
	if ((old = jx_str(m, "reasoning_content")) != NULL && *old != '\0') {
		if (in->reasoning.len != 0) {
			xasprintf(&s, "%s" RESP_REASONING_SEP "%s", old,
			    buf_cstr(&in->reasoning));
			json_object_set_new(m, "reasoning_content",
			    resp_cstr(s));
			free(s);
		}
	} else
		json_object_set_new(m, "reasoning_content",
		    resp_str(buf_cstr(&in->reasoning), in->reasoning.len));
	if (in->signature != NULL &&
	    jx_str(m, "reasoning_signature") == NULL)
		jx_set_str(m, "reasoning_signature", in->signature);
	resp_in_drop_reasoning(in);
}

/*
 * A user message's content part as a hub part, or NULL for a part the
 * hub has no form for; -1 for one that is wrong.
 */
static int
resp_in_part(struct resp_in *in, const json_t *p, size_t i, size_t k,
    json_t **out)
{
	const char	*type, *url;
	json_t		*o;

	*out = NULL;
	if (!json_is_object(p)) {
		err_set(in->e, ERR_INVALID, "%s[%zu].content[%zu] must be an "
		    "object", in->what, i, k);
		return (-1);
	}
	if ((type = jx_str(p, "type")) == NULL)
		type = "input_text";
	if (strcmp(type, "input_text") == 0 ||
	    strcmp(type, "output_text") == 0 || strcmp(type, "text") == 0) {
		if (jx_str(p, "text") == NULL) {
			err_set(in->e, ERR_INVALID, "%s[%zu].content[%zu].text "
			    "must be a string", in->what, i, k);
			return (-1);
		}
		*out = json_pack("{s:s, s:O}", "type", "text", "text",
		    json_object_get(p, "text"));
	} else if (strcmp(type, "input_image") == 0) {
		/* Some clients send Chat's {url} object: take it too. */
		if ((url = jx_str(p, "image_url")) == NULL)
			url = jx_str(json_object_get(p, "image_url"), "url");
		if (url != NULL) {
			o = json_pack("{s:s}", "url", url);
			resp_copy(o, "detail", p, "detail");
			*out = json_pack("{s:s, s:o}", "type", "image_url",
			    "image_url", o);
		} else if (jx_str(p, "file_id") != NULL) {
			/* An uploaded image: the hub's file part holds ids. */
			*out = json_pack("{s:s, s:{s:O}}", "type", "file",
			    "file", "file_id", json_object_get(p, "file_id"));
		}
	} else if (strcmp(type, "input_file") == 0) {
		o = json_object();
		resp_copy(o, "file_data", p, "file_data");
		resp_copy(o, "filename", p, "filename");
		resp_copy(o, "file_id", p, "file_id");
		if (json_object_size(o) != 0)
			*out = json_pack("{s:s, s:O}", "type", "file", "file",
			    o);
		json_decref(o);
	}
	return (0);
}

static int
resp_in_message(struct resp_in *in, const json_t *item, size_t i)
{
	const json_t	*content = resp_get(item, "content");
	const json_t	*p;
	const char	*role;
	json_t		*m, *parts, *n;
	size_t		 k;

	role = jx_str(item, "role");
	if (role == NULL || (strcmp(role, "user") != 0 &&
	    strcmp(role, "assistant") != 0 && strcmp(role, "system") != 0 &&
	    strcmp(role, "developer") != 0)) {
		err_set(in->e, ERR_INVALID, "%s[%zu].role must be user, "
		    "assistant, system or developer", in->what, i);
		return (-1);
	}
	if (content != NULL && !json_is_string(content) &&
	    !json_is_array(content)) {
		err_set(in->e, ERR_INVALID, "%s[%zu].content must be a "
		    "string or an array", in->what, i);
		return (-1);
	}
	m = json_pack("{s:s}", "role", role);
	if (strcmp(role, "user") != 0) {
		/* Assistant, system and developer content is text. */
		json_array_foreach(content, k, p) {
			if (!json_is_object(p)) {
				err_set(in->e, ERR_INVALID, "%s[%zu]."
				    "content[%zu] must be an object",
				    in->what, i, k);
				json_decref(m);
				return (-1);
			}
		}
		json_object_set_new(m, "content", resp_text_json(content,
		    strcmp(role, "assistant") == 0 ? NULL : "\n"));
	} else if (json_is_array(content)) {
		parts = json_array();
		json_array_foreach(content, k, p) {
			if (resp_in_part(in, p, i, k, &n) != 0) {
				json_decref(parts);
				json_decref(m);
				return (-1);
			}
			if (n != NULL)
				json_array_append_new(parts, n);
		}
		json_object_set_new(m, "content", parts);
	} else
		json_object_set_new(m, "content", content != NULL ?
		    json_copy((json_t *)content) : json_string(""));
	if (strcmp(role, "assistant") == 0)
		resp_in_take_reasoning(in, m);
	else
		resp_in_drop_reasoning(in);
	json_array_append_new(in->msgs, m);
	return (0);
}

/*
 * A function call joins the assistant message just before it, whether
 * that holds text or other calls: Chat puts a turn's calls on one
 * message.
 */
static int
resp_in_call(struct resp_in *in, const json_t *item, size_t i)
{
	const char	*id, *name;
	json_t		*last, *calls;

	if ((name = jx_str(item, "name")) == NULL) {
		err_set(in->e, ERR_INVALID, "%s[%zu].name must be a "
		    "string", in->what, i);
		return (-1);
	}
	if ((id = jx_str(item, "call_id")) == NULL &&
	    (id = jx_str(item, "id")) == NULL) {
		err_set(in->e, ERR_INVALID, "%s[%zu].call_id must be a "
		    "string", in->what, i);
		return (-1);
	}
	last = json_array_get(in->msgs, json_array_size(in->msgs) - 1);
	if (last == NULL || strcmp(jx_str(last, "role"), "assistant") != 0) {
		last = json_pack("{s:s, s:n}", "role", "assistant",
		    "content");
		json_array_append_new(in->msgs, last);
	}
	resp_in_take_reasoning(in, last);
	if (!json_is_array(calls = json_object_get(last, "tool_calls"))) {
		calls = json_array();
		json_object_set_new(last, "tool_calls", calls);
	}
	json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s, s:o}}",
	    "id", id, "type", "function", "function", "name", name,
	    "arguments", resp_args(json_object_get(item, "arguments"))));
	return (0);
}

static int
resp_in_output(struct resp_in *in, const json_t *item, size_t i)
{
	const json_t	*out = resp_get(item, "output");
	const char	*id;
	json_t		*content;
	char		*s;

	if ((id = jx_str(item, "call_id")) == NULL) {
		err_set(in->e, ERR_INVALID, "%s[%zu].call_id must be a "
		    "string", in->what, i);
		return (-1);
	}
	resp_in_drop_reasoning(in);
	/*
	 * An output whose call is not here may answer a call of the turn
	 * that previous_response_id names: it stays, and xf_from_chat()
	 * drops it if that history does not hold the call either.
	 */
	if (out == NULL || json_is_string(out) || json_is_array(out))
		content = resp_text_json(out, NULL);
	else {
		s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		content = resp_cstr(s);
		free(s);
	}
	json_array_append_new(in->msgs, json_pack("{s:s, s:s, s:o}", "role",
	    "tool", "tool_call_id", id, "content", content));
	return (0);
}

static int
resp_in_reasoning(struct resp_in *in, const json_t *item, __unused size_t i)
{
	const char	*enc;

	resp_reasoning_of(&in->reasoning, item);
	if ((enc = jx_str(item, "encrypted_content")) != NULL) {
		free(in->signature);
		xasprintf(&in->signature, "%s%s", XF_SIG_OPENAI, enc);
	}
	in->pending = 1;
	return (0);
}

static int
resp_in_items(struct resp_in *in, const json_t *items, const char *what)
{
	const json_t	*item;
	const char	*type;
	size_t		 i, k;

	in->what = what;
	json_array_foreach(items, i, item) {
		if (!json_is_object(item)) {
			err_set(in->e, ERR_INVALID, "%s[%zu] must be an "
			    "object", what, i);
			return (-1);
		}
		if (resp_get(item, "type") == NULL)
			type = "message";
		else if ((type = jx_str(item, "type")) == NULL) {
			err_set(in->e, ERR_INVALID, "%s[%zu].type must be a "
			    "string", what, i);
			return (-1);
		}
		for (k = 0; k < nitems(resp_item_table); k++) {
			if (strcmp(resp_item_table[k].type, type) != 0)
				continue;
			if (resp_item_table[k].fn(in, item, i) != 0)
				return (-1);
			break;
		}
	}
	return (0);
}

/* tools: function tools only, in the hub's nested form. */
static int
resp_in_tools(json_t *hub, const json_t *tools, struct err *e)
{
	const json_t	*t;
	json_t		*out, *f;
	size_t		 i;

	if (!json_is_array(tools)) {
		err_set(e, ERR_INVALID, "tools must be an array");
		return (-1);
	}
	out = json_array();
	json_array_foreach(tools, i, t) {
		if (!json_is_object(t)) {
			err_set(e, ERR_INVALID, "tools[%zu] must be an "
			    "object", i);
			json_decref(out);
			return (-1);
		}
		if (jx_str(t, "type") == NULL ||
		    strcmp(jx_str(t, "type"), "function") != 0)
			continue;
		if (jx_str(t, "name") == NULL) {
			err_set(e, ERR_INVALID, "tools[%zu].name must be a "
			    "string", i);
			json_decref(out);
			return (-1);
		}
		f = json_object();
		resp_copy(f, "name", t, "name");
		resp_copy(f, "description", t, "description");
		resp_copy(f, "parameters", t, "parameters");
		resp_copy(f, "strict", t, "strict");
		json_array_append_new(out, json_pack("{s:s, s:o}", "type",
		    "function", "function", f));
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		return (0);
	}
	json_object_set_new(hub, "tools", out);
	return (0);
}

/*
 * tool_choice: the three modes, or one function. Choices of hosted tools
 * name nothing the hub has; they are left out. So is any choice when no
 * tool is left, which Chat upstreams refuse.
 */
static int
resp_in_tool_choice(json_t *hub, const json_t *tc, struct err *e)
{
	const char	*s;

	if ((s = json_string_value(tc)) != NULL) {
		if (strcmp(s, "auto") != 0 && strcmp(s, "none") != 0 &&
		    strcmp(s, "required") != 0) {
			err_set(e, ERR_INVALID, "tool_choice must be auto, "
			    "none, required or an object");
			return (-1);
		}
		if (json_object_get(hub, "tools") != NULL)
			json_object_set(hub, "tool_choice", (json_t *)tc);
		return (0);
	}
	if (!json_is_object(tc)) {
		err_set(e, ERR_INVALID, "tool_choice must be a string or an "
		    "object");
		return (-1);
	}
	if (jx_str(tc, "type") == NULL ||
	    strcmp(jx_str(tc, "type"), "function") != 0 ||
	    json_object_get(hub, "tools") == NULL)
		return (0);
	if (jx_str(tc, "name") == NULL) {
		err_set(e, ERR_INVALID, "tool_choice.name must be a string");
		return (-1);
	}
	json_object_set_new(hub, "tool_choice", json_pack("{s:s, s:{s:s}}",
	    "type", "function", "function", "name", jx_str(tc, "name")));
	return (0);
}

/* text.format to response_format; plain text is the default, left out. */
static int
resp_in_format(json_t *hub, const json_t *text, struct err *e)
{
	const json_t	*f;
	const char	*type;
	json_t		*js;

	if (!json_is_object(text)) {
		err_set(e, ERR_INVALID, "text must be an object");
		return (-1);
	}
	if ((f = resp_get(text, "format")) == NULL)
		return (0);
	if (!json_is_object(f) || (type = jx_str(f, "type")) == NULL) {
		err_set(e, ERR_INVALID, "text.format must be an object with "
		    "a type");
		return (-1);
	}
	if (strcmp(type, "json_object") == 0)
		json_object_set_new(hub, "response_format",
		    json_pack("{s:s}", "type", "json_object"));
	else if (strcmp(type, "json_schema") == 0) {
		js = json_object();
		resp_copy(js, "name", f, "name");
		resp_copy(js, "schema", f, "schema");
		resp_copy(js, "strict", f, "strict");
		resp_copy(js, "description", f, "description");
		json_object_set_new(hub, "response_format",
		    json_pack("{s:s, s:o}", "type", "json_schema",
		    "json_schema", js));
	}
	return (0);
}

json_t *
xf_responses_to_chat(const json_t *req, struct err *e)
{
	struct resp_in	 in;
	const json_t	*v;
	json_t		*hub;

	if (!json_is_object(req)) {
		err_set(e, ERR_INVALID, "the request must be a JSON object");
		return (NULL);
	}
	hub = json_object();
	if (resp_copy_fields(hub, req, 1, e) != 0) {
		json_decref(hub);
		return (NULL);
	}
	memset(&in, 0, sizeof in);
	in.msgs = json_array();
	in.e = e;
	buf_init(&in.reasoning, SIZE_MAX / 2);

	v = resp_get(req, "instructions");
	if (json_is_string(v))
		json_array_append_new(in.msgs, json_pack("{s:s, s:O}",
		    "role", "system", "content", v));
	else if (json_is_array(v)) {
		if (resp_in_items(&in, v, "instructions") != 0)
			goto fail;
	} else if (v != NULL) {
		err_set(e, ERR_INVALID, "instructions must be a string");
		goto fail;
	}
	v = resp_get(req, "input");
	if (json_is_string(v))
		json_array_append_new(in.msgs, json_pack("{s:s, s:O}",
		    "role", "user", "content", v));
	else if (json_is_array(v)) {
		if (resp_in_items(&in, v, "input") != 0)
			goto fail;
	} else if (v != NULL) {
		err_set(e, ERR_INVALID, "input must be a string or an array");
		goto fail;
	}
	json_object_set(hub, "messages", in.msgs);

	if ((v = resp_get(req, "tools")) != NULL &&
	    resp_in_tools(hub, v, e) != 0)
		goto fail;
	if ((v = resp_get(req, "tool_choice")) != NULL &&
	    resp_in_tool_choice(hub, v, e) != 0)
		goto fail;
	if ((v = resp_get(req, "text")) != NULL &&
	    resp_in_format(hub, v, e) != 0)
		goto fail;
	if ((v = resp_get(req, "reasoning")) != NULL) {
		if (!json_is_object(v)) {
			err_set(e, ERR_INVALID, "reasoning must be an object");
			goto fail;
		}
		resp_copy(hub, "reasoning_effort", v, "effort");
	}
	resp_in_drop_reasoning(&in);
	buf_free(&in.reasoning);
	json_decref(in.msgs);
	return (hub);

fail:
	resp_in_drop_reasoning(&in);
	buf_free(&in.reasoning);
	json_decref(in.msgs);
	json_decref(hub);
	return (NULL);
}

/*
 * Requests: the hub to Responses. System and developer messages become
 * the instructions; the rest become input items.
 */

/* A user part as an input part; NULL for one Responses cannot take. */
static json_t *
resp_out_part(const json_t *p)
{
	const char	*type = jx_str(p, "type");
	const json_t	*o;
	json_t		*n;

	if (type == NULL)
		return (NULL);
	if (strcmp(type, "text") == 0 && jx_str(p, "text") != NULL)
		return (json_pack("{s:s, s:O}", "type", "input_text", "text",
		    json_object_get(p, "text")));
	if (strcmp(type, "image_url") == 0) {
		o = json_object_get(p, "image_url");
		if (json_is_string(o))
			return (json_pack("{s:s, s:O, s:s}", "type",
			    "input_image", "image_url", o, "detail", "auto"));
		if (jx_str(o, "url") == NULL)
			return (NULL);
		return (json_pack("{s:s, s:O, s:s}", "type", "input_image",
		    "image_url", json_object_get(o, "url"), "detail",
		    jx_str(o, "detail") != NULL ? jx_str(o, "detail") :
		    "auto"));
	}
	if (strcmp(type, "file") == 0 &&
	    json_is_object(o = json_object_get(p, "file"))) {
		n = json_pack("{s:s}", "type", "input_file");
		resp_copy(n, "file_data", o, "file_data");
		resp_copy(n, "filename", o, "filename");
		resp_copy(n, "file_id", o, "file_id");
		return (n);
	}
	return (NULL);
}

static void
resp_out_user(json_t *input, const json_t *m)
{
	const json_t	*content = json_object_get(m, "content"), *p;
	json_t		*parts, *n;
	size_t		 i;

	parts = json_array();
	if (json_is_string(content))
		json_array_append_new(parts, json_pack("{s:s, s:O}", "type",
		    "input_text", "text", content));
	json_array_foreach(content, i, p) {
		if ((n = resp_out_part(p)) != NULL)
			json_array_append_new(parts, n);
	}
	json_array_append_new(input, json_pack("{s:s, s:s, s:o}", "type",
	    "message", "role", "user", "content", parts));
}

/*
 * An assistant turn: its reasoning item when the signature is ours
 * (other reasoning cannot be replayed), its text, its calls.
 */
static void
resp_out_assistant(json_t *input, const json_t *m)
{
	const json_t	*c, *f;
	const char	*sig;
	json_t		*text, *summary, *item;
	size_t		 i;

	sig = jx_str(m, "reasoning_signature");
	if (sig != NULL && strncmp(sig, XF_SIG_OPENAI,
	    strlen(XF_SIG_OPENAI)) == 0) {
		summary = json_array();
		if (jx_str(m, "reasoning_content") != NULL &&
		    *jx_str(m, "reasoning_content") != '\0')
			json_array_append_new(summary, json_pack("{s:s, s:O}",
			    "type", "summary_text", "text",
			    json_object_get(m, "reasoning_content")));
		json_array_append_new(input, json_pack("{s:s, s:o, s:s}",
		    "type", "reasoning", "summary", summary,
		    "encrypted_content", sig + strlen(XF_SIG_OPENAI)));
	}
	text = resp_text_json(json_object_get(m, "content"), NULL);
	if (json_string_length(text) != 0)
		json_array_append_new(input, json_pack("{s:s, s:s, "
		    "s:[{s:s, s:o}]}", "type", "message", "role", "assistant",
		    "content", "type", "output_text", "text", text));
	else
		json_decref(text);
	json_array_foreach(json_object_get(m, "tool_calls"), i, c) {
		f = json_object_get(c, "function");
		if (jx_str(f, "name") == NULL)
			continue;
		item = json_pack("{s:s, s:O, s:O, s:o}", "type",
		    "function_call", "call_id", jx_str(c, "id") != NULL ?
		    json_object_get(c, "id") : json_object_get(f, "name"),
		    "name", json_object_get(f, "name"), "arguments",
		    resp_args(json_object_get(f, "arguments")));
		json_array_append_new(input, item);
	}
}

static void
resp_out_tool(json_t *input, const json_t *m)
{
	json_t	*out;

	if (jx_str(m, "tool_call_id") == NULL)
		return;
	out = resp_text_json(json_object_get(m, "content"), NULL);
	json_array_append_new(input, json_pack("{s:s, s:O, s:o}", "type",
	    "function_call_output", "call_id",
	    json_object_get(m, "tool_call_id"), "output", out));
}

static void
resp_out_tools(json_t *req, const json_t *hub)
{
	const json_t	*t, *f;
	json_t		*out, *n;
	size_t		 i;

	out = json_array();
	json_array_foreach(json_object_get(hub, "tools"), i, t) {
		f = json_object_get(t, "function");
		if (jx_str(t, "type") == NULL ||
		    strcmp(jx_str(t, "type"), "function") != 0 ||
		    jx_str(f, "name") == NULL)
			continue;
		n = json_pack("{s:s}", "type", "function");
		resp_copy(n, "name", f, "name");
		resp_copy(n, "description", f, "description");
		resp_copy(n, "parameters", f, "parameters");
		resp_copy(n, "strict", f, "strict");
		json_array_append_new(out, n);
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		return;
	}
	json_object_set_new(req, "tools", out);
	t = resp_get(hub, "tool_choice");
	if (json_is_string(t))
		json_object_set(req, "tool_choice", (json_t *)t);
	else if (jx_str(json_object_get(t, "function"), "name") != NULL)
		json_object_set_new(req, "tool_choice", json_pack("{s:s, s:O}",
		    "type", "function", "name",
		    json_object_get(json_object_get(t, "function"), "name")));
}

static void
resp_out_format(json_t *req, const json_t *rf)
{
	const json_t	*js;
	const char	*type = jx_str(rf, "type");
	json_t		*f;

	if (type == NULL)
		return;
	if (strcmp(type, "json_schema") == 0) {
		js = json_object_get(rf, "json_schema");
		f = json_pack("{s:s}", "type", "json_schema");
		resp_copy(f, "name", js, "name");
		resp_copy(f, "schema", js, "schema");
		resp_copy(f, "strict", js, "strict");
		resp_copy(f, "description", js, "description");
	} else if (strcmp(type, "json_object") == 0 ||
	    strcmp(type, "text") == 0)
		f = json_pack("{s:s}", "type", type);
	else
		return;
	json_object_set_new(req, "text", json_pack("{s:o}", "format", f));
}

/* reasoning_effort, or else an effort for Claude's reasoning_budget. */
static void
resp_out_reasoning(json_t *req, const json_t *hub)
{
	const char	*effort;
	long long	 budget;
	size_t		 i;

	if ((effort = jx_str(hub, "reasoning_effort")) == NULL) {
		if (jx_int(hub, "reasoning_budget", &budget) != 0 ||
		    budget <= 0)
			return;
		for (i = 0; budget > resp_budget_table[i].max; i++)
			/* nothing */;
		effort = resp_budget_table[i].effort;
	}
	json_object_set_new(req, "reasoning", json_pack("{s:s}", "effort",
	    effort));
}

json_t *
xf_responses_from_chat(const json_t *hub, struct err *e)
{
	const json_t	*msgs, *m, *v;
	const char	*role;
	struct buf	 instr;
	json_t		*req, *input;
	size_t		 i;

	if (!json_is_object(hub)) {
		err_set(e, ERR_INVALID, "the request must be a JSON object");
		return (NULL);
	}
	if (!json_is_array(msgs = json_object_get(hub, "messages"))) {
		err_set(e, ERR_INVALID, "messages must be an array");
		return (NULL);
	}
	req = json_object();
	if (resp_copy_fields(req, hub, 0, e) != 0) {
		json_decref(req);
		return (NULL);
	}
	if (resp_get(hub, "max_tokens") == NULL &&
	    json_is_integer(v = json_object_get(hub, "max_completion_tokens")))
		json_object_set(req, "max_output_tokens", (json_t *)v);

	buf_init(&instr, SIZE_MAX / 2);
	input = json_array();
	json_array_foreach(msgs, i, m) {
		if ((role = jx_str(m, "role")) == NULL) {
			err_set(e, ERR_INVALID, "messages[%zu].role must be "
			    "a string", i);
			buf_free(&instr);
			json_decref(input);
			json_decref(req);
			return (NULL);
		}
		if (strcmp(role, "system") == 0 ||
		    strcmp(role, "developer") == 0) {
			if (instr.len != 0)
				buf_addstr(&instr, "\n\n");
			resp_text_of(&instr, json_object_get(m, "content"),
			    NULL);
		} else if (strcmp(role, "user") == 0)
			resp_out_user(input, m);
		else if (strcmp(role, "assistant") == 0)
			resp_out_assistant(input, m);
		else if (strcmp(role, "tool") == 0)
			resp_out_tool(input, m);
	}
	if (instr.len != 0)
		json_object_set_new(req, "instructions",
		    resp_str(instr.data, instr.len));
	buf_free(&instr);
	json_object_set_new(req, "input", input);
	resp_out_tools(req, hub);
	resp_out_format(req, json_object_get(hub, "response_format"));
	resp_out_reasoning(req, hub);
	return (req);
}

/*
 * Replies. Both the parser of a whole reply and the stream parser hand
 * their content to xf_final_add as deltas, so one place applies the
 * bounds of struct xf_final.
 */

/* The finish of an incomplete response, by incomplete_details.reason. */
static enum xf_finish
resp_incomplete_finish(const json_t *resp)
{
	const char	*reason;
	size_t		 i;

	reason = jx_str(json_object_get(resp, "incomplete_details"),
	    "reason");
	if (reason == NULL)
		return (XF_FINISH_STOP);
	for (i = 0; i < nitems(resp_incomplete_table); i++) {
		if (strcmp(resp_incomplete_table[i].reason, reason) == 0)
			return (resp_incomplete_table[i].finish);
	}
	return (XF_FINISH_STOP);
}

/* An error's message, wherever this sender put it; NULL when none. */
static const char *
resp_error_text(const json_t *o)
{
	const json_t	*err = json_object_get(o, "error");
	const char	*s;

	if ((s = jx_str(err, "message")) != NULL)
		return (s);
	if ((s = json_string_value(err)) != NULL)
		return (s);
	if ((s = jx_str(o, "message")) != NULL)
		return (s);
	return (jx_str(json_object_get(json_object_get(o, "response"),
	    "error"), "message"));
}

static int
resp_final_text(struct xf_final *f, enum xf_delta_kind kind,
    const char *text, size_t len)
{
	struct xf_delta	d;

	if (len == 0)
		return (0);
	memset(&d, 0, sizeof d);
	d.kind = kind;
	d.text = text;
	d.len = len;
	return (xf_final_add(f, &d) < 0 ? -1 : 0);
}

static int
resp_final_message(struct xf_final *f, const json_t *item)
{
	const json_t	*p, *t;
	size_t		 i;

	json_array_foreach(json_object_get(item, "content"), i, p) {
		if ((t = resp_part_text(p)) == NULL)
			continue;
		if (resp_final_text(f, XF_D_TEXT, json_string_value(t),
		    json_string_length(t)) != 0)
			return (-1);
	}
	return (0);
}

static int
resp_final_reasoning(struct xf_final *f, const json_t *item)
{
	struct buf	 t;
	const char	*enc;
	char		*sig;
	int		 rv = 0;

	buf_init(&t, XF_MAX_TEXT);
	resp_reasoning_of(&t, item);
	if (t.len != 0 && f->reasoning.len != 0)
		rv = resp_final_text(f, XF_D_REASONING, RESP_REASONING_SEP,
		    strlen(RESP_REASONING_SEP));
	if (rv == 0)
		rv = resp_final_text(f, XF_D_REASONING, t.data, t.len);
	buf_free(&t);
	if (rv != 0 || (enc = jx_str(item, "encrypted_content")) == NULL)
		return (rv);
	xasprintf(&sig, "%s%s", XF_SIG_OPENAI, enc);
	rv = resp_final_text(f, XF_D_SIGNATURE, sig, strlen(sig));
	free(sig);
	return (rv);
}

static int
resp_final_call(struct xf_final *f, const json_t *item)
{
	struct xf_delta	 d;
	json_t		*args;
	int		 rv;

	if (jx_str(item, "name") == NULL || f->ncalls >= XF_MAX_CALLS)
		return (0);
	memset(&d, 0, sizeof d);
	d.kind = XF_D_TOOL_START;
	d.index = f->ncalls;
	if ((d.id = jx_str(item, "call_id")) == NULL)
		d.id = jx_str(item, "id");
	d.name = jx_str(item, "name");
	if (xf_final_add(f, &d) < 0)
		return (-1);
	args = resp_args(json_object_get(item, "arguments"));
	d.kind = XF_D_TOOL_ARGS;
	d.text = json_string_value(args);
	d.len = json_string_length(args);
	rv = xf_final_add(f, &d) < 0 ? -1 : 0;
	json_decref(args);
	return (rv);
}

/* Output items by type; others (hosted tool calls) are left. */
static const struct {
	const char	*type;
	int		(*fn)(struct xf_final *, const json_t *);
} resp_output_table[] = {
	{ "message",		resp_final_message },
	{ "reasoning",		resp_final_reasoning },
	{ "function_call",	resp_final_call },
};

static void
resp_set_str(char **dst, const char *s)
{
	if (s == NULL)
		return;
	free(*dst);
	*dst = xstrdup(s);
}

int
xf_responses_parse_final(const json_t *body, struct xf_final *f,
    struct err *e)
{
	const json_t	*r = body, *out, *item;
	const char	*status, *type, *msg;
	json_t		*v;
	size_t		 i, k;

	/* Some relays wrap it as a stream's last event does. */
	if (json_object_get(r, "output") == NULL &&
	    json_is_object(json_object_get(r, "response")))
		r = json_object_get(r, "response");
	if (!json_is_object(r)) {
		err_set(e, ERR_UPSTREAM, "the reply is not a JSON object");
		return (-1);
	}
	out = resp_get(r, "output");
	status = jx_str(r, "status");
	if (!json_is_array(out) && (out != NULL || status == NULL ||
	    strcmp(status, "failed") != 0)) {
		err_set(e, ERR_UPSTREAM, "the reply has no output array");
		return (-1);
	}
	resp_set_str(&f->id, jx_str(r, "id"));
	resp_set_str(&f->model, jx_str(r, "model"));
	if (json_is_number(v = json_object_get(r, "created_at")))
		f->created = (long long)json_number_value(v);
	json_array_foreach(out, i, item) {
		if ((type = jx_str(item, "type")) == NULL)
			continue;
		for (k = 0; k < nitems(resp_output_table); k++) {
			if (strcmp(resp_output_table[k].type, type) != 0)
				continue;
			if (resp_output_table[k].fn(f, item) != 0) {
				err_set(e, ERR_UPSTREAM, "the reply is too "
				    "large");
				return (-1);
			}
			break;
		}
	}
	if (status != NULL && strcmp(status, "failed") == 0) {
		f->finish = XF_FINISH_ERROR;
		msg = resp_error_text(r);
		resp_set_str(&f->error, msg != NULL ? msg :
		    "the upstream response failed");
	} else if (status != NULL && strcmp(status, "incomplete") == 0)
		f->finish = resp_incomplete_finish(r);
	else
		f->finish = f->ncalls != 0 ? XF_FINISH_TOOL : XF_FINISH_STOP;
	usage_from_body(&f->usage, USAGE_OPENAI_RESPONSES, r);
	return (0);
}

/*
 * Writing a reply. Item ids come from the response id (what follows
 * "resp_"), so the same reply always gets the same ones: rs_X, msg_X,
 * fc_X_N for call N. A call without an id gets call_X_N.
 */
static const char *
resp_suffix(const char *id)
{
	if (strncmp(id, "resp_", 5) == 0 && id[5] != '\0')
		return (id + 5);
	return (id);
}

static void
resp_item_id(char *buf, size_t size, const char *prefix, const char *id,
    int n)
{
	if (n < 0)
		snprintf(buf, size, "%s_%s", prefix, resp_suffix(id));
	else
		snprintf(buf, size, "%s_%s_%d", prefix, resp_suffix(id), n);
}

static int
resp_signed(const struct xf_final *f)
{
	return (f->signature != NULL && strncmp(f->signature, XF_SIG_OPENAI,
	    strlen(XF_SIG_OPENAI)) == 0);
}

static json_t *
resp_reasoning_item(const struct xf_final *f, const char *id,
    const char *text, size_t len)
{
	json_t	*item;

	item = json_pack("{s:s, s:s, s:[{s:s, s:o}]}", "id", id, "type",
	    "reasoning", "summary", "type", "summary_text", "text",
	    resp_str(text, len));
	if (resp_signed(f))
		json_object_set_new(item, "encrypted_content",
		    resp_cstr(f->signature + strlen(XF_SIG_OPENAI)));
	return (item);
}

static json_t *
resp_message_item(const char *id, const char *status, const char *text,
    size_t len)
{
	json_t	*item;

	item = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "id", id, "type",
	    "message", "status", status, "role", "assistant", "content");
	if (text != NULL)
		json_array_append_new(json_object_get(item, "content"),
		    json_pack("{s:s, s:o, s:[]}", "type", "output_text",
		    "text", resp_str(text, len), "annotations"));
	return (item);
}

/*
 * A function_call item for call n: its call id and name as given, else
 * as f has them; its arguments those f has, "{}" for none.
 */
static json_t *
resp_call_item(const struct xf_final *f, const char *rid, int n,
    const char *status, const char *call_id, const char *name,
    int started)
{
	const struct xf_call	*c = NULL;
	char			 id[96], cid[96];
	json_t			*args;

	if (n >= 0 && (size_t)n < f->ncalls)
		c = &f->calls[n];
	resp_item_id(id, sizeof id, "fc", rid, n);
	resp_item_id(cid, sizeof cid, "call", rid, n);
	if (call_id == NULL)
		call_id = c != NULL && c->id != NULL ? c->id : cid;
	if (name == NULL)
		name = c != NULL ? c->name : NULL;
	if (started)
		args = json_string("");
	else if (c == NULL || resp_blank(c->args.data, c->args.len))
		args = json_string("{}");
	else
		args = resp_str(c->args.data, c->args.len);
	return (json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", id, "type",
	    "function_call", "status", status, "call_id", resp_cstr(call_id),
	    "name", resp_cstr(name), "arguments", args));
}

/* A response's status and incomplete_details.reason by finish. */
static const struct {
	const char	*status;
	const char	*reason;
} resp_status_table[] = {
	[XF_FINISH_LENGTH] = { "incomplete",	"max_output_tokens" },
	[XF_FINISH_FILTER] = { "incomplete",	"content_filter" },
	[XF_FINISH_ERROR] = { "failed",		NULL },
};

/* The fields every response object has, with an empty output. */
static json_t *
resp_shell(const char *id, long long created, const char *model,
    const char *status)
{
	if (created == 0)
		created = time(NULL);
	return (json_pack("{s:s, s:s, s:I, s:s, s:n, s:n, s:o, s:[], "
	    "s:b, s:s, s:[], s:{s:{s:s}}, s:n}", "id", id, "object",
	    "response", "created_at", (json_int_t)created, "status", status,
	    "error", "incomplete_details", "model", resp_cstr(model),
	    "output", "parallel_tool_calls", 1, "tool_choice", "auto",
	    "tools", "text", "format", "type", "text", "usage"));
}

static json_t *
resp_usage(const struct usage *u)
{
	return (json_pack("{s:I, s:{s:I}, s:I, s:{s:I}, s:I}",
	    "input_tokens", (json_int_t)u->prompt, "input_tokens_details",
	    "cached_tokens", (json_int_t)u->cache_read, "output_tokens",
	    (json_int_t)u->completion, "output_tokens_details",
	    "reasoning_tokens", (json_int_t)u->reasoning, "total_tokens",
	    (json_int_t)(u->prompt + u->completion)));
}

/*
 * The whole response for f under id: reasoning, text and calls as one
 * item each (calls one each), status from the finish.
 */
static json_t *
resp_response(struct xf_final *f, const char *id, long long created,
    const char *model)
{
	const char	*status = "completed", *reason = NULL;
	json_t		*r, *out;
	char		 iid[96];
	size_t		 i;

	if ((size_t)f->finish < nitems(resp_status_table) &&
	    resp_status_table[f->finish].status != NULL) {
		status = resp_status_table[f->finish].status;
		reason = resp_status_table[f->finish].reason;
	}
	r = resp_shell(id, created, model, status);
	if (reason != NULL)
		json_object_set_new(r, "incomplete_details",
		    json_pack("{s:s}", "reason", reason));
	if (f->finish == XF_FINISH_ERROR)
		json_object_set_new(r, "error", json_pack("{s:s, s:o}",
		    "code", "upstream_error", "message", resp_cstr(f->error !=
		    NULL ? f->error : "the upstream failed")));
	out = json_object_get(r, "output");
	if (f->reasoning.len != 0 || resp_signed(f)) {
		resp_item_id(iid, sizeof iid, "rs", id, -1);
		json_array_append_new(out, resp_reasoning_item(f, iid,
		    f->reasoning.data, f->reasoning.len));
	}
	if (f->text.len != 0 || (json_array_size(out) == 0 &&
	    f->ncalls == 0 && f->finish != XF_FINISH_ERROR)) {
		resp_item_id(iid, sizeof iid, "msg", id, -1);
		json_array_append_new(out, resp_message_item(iid, "completed",
		    f->text.data != NULL ? f->text.data : "", f->text.len));
	}
	for (i = 0; i < f->ncalls && i < XF_MAX_CALLS; i++)
		json_array_append_new(out, resp_call_item(f, id, i,
		    "completed", NULL, NULL, 0));
	json_object_set_new(r, "usage", resp_usage(&f->usage));
	return (r);
}

json_t *
xf_responses_write_final(struct xf_final *f)
{
	char	id[64];

	if (f->id == NULL) {
		xf_make_id(id, sizeof id, "resp_");
		f->id = xstrdup(id);
	}
	return (resp_response(f, f->id, f->created, f->model));
}

/*
 * Reading a stream. An upstream numbers its output items (output_index);
 * block_tool maps an item to its tool call + 1, block_kind keeps what
 * has been passed on of each item, so that an item whose content comes
 * only whole, in its output_item.done or in response.completed (sparse
 * relays, non-stream replies turned into one event), is passed on once.
 */
#define RESP_NBLOCKS	((int)nitems(((struct xf_parser *)0)->block_tool))
#define RESP_BK_TEXT	0x1	/* text passed on */
#define RESP_BK_REASON	0x2	/* reasoning passed on */
#define RESP_BK_ARGS	0x4	/* call arguments passed on */
#define RESP_BK_SIG	0x8	/* encrypted_content passed on */

struct resp_ctx {
	struct xf_parser	*p;
	const json_t		*data;
	xf_delta_cb		 cb;
	void			*arg;
	int			 rv;	/* the callback's nonzero */
};

static int
resp_emit(struct resp_ctx *c, struct xf_delta *d)
{
	if (c->rv == 0)
		c->rv = c->cb(d, c->arg);
	return (c->rv);
}

static int
resp_emit_text(struct resp_ctx *c, enum xf_delta_kind kind, int index,
    const char *text, size_t len)
{
	struct xf_delta	d;

	if (text == NULL || len == 0)
		return (c->rv);
	memset(&d, 0, sizeof d);
	d.kind = kind;
	d.index = index;
	d.text = text;
	d.len = len;
	return (resp_emit(c, &d));
}

/* START once, before anything else, whether or not created came. */
static int
resp_start(struct resp_ctx *c)
{
	const json_t	*r = json_object_get(c->data, "response");
	struct xf_delta	 d;

	if (c->p->started)
		return (c->rv);
	c->p->started = 1;
	memset(&d, 0, sizeof d);
	d.kind = XF_D_START;
	d.id = jx_str(r, "id");
	d.model = jx_str(r, "model");
	return (resp_emit(c, &d));
}

/* The output_index of the event, -1 when there is none we can track. */
static int
resp_block(const json_t *data)
{
	json_int_t	n;

	n = json_integer_value(json_object_get(data, "output_index"));
	if (!json_is_integer(json_object_get(data, "output_index")) ||
	    n < 0 || n >= RESP_NBLOCKS)
		return (-1);
	return ((int)n);
}

static void
resp_mark(struct xf_parser *p, int b, int flag)
{
	if (b >= 0)
		p->block_kind[b] |= flag;
}

/*
 * Reasoning from one block. Pieces of one summary are glued; a new
 * summary part or a new item is set apart from the reasoning before it.
 */
static int
resp_reasoning(struct resp_ctx *c, int b, const char *text, size_t len)
{
	struct xf_parser	*p = c->p;
	int			 i, before = 0;

	if (text == NULL || len == 0)
		return (c->rv);
	if (b >= 0 && !(p->block_kind[b] & RESP_BK_REASON)) {
		for (i = 0; i < RESP_NBLOCKS; i++)
			before |= p->block_kind[i] & RESP_BK_REASON;
		if (before && resp_emit_text(c, XF_D_REASONING, 0,
		    RESP_REASONING_SEP, strlen(RESP_REASONING_SEP)) != 0)
			return (c->rv);
	}
	resp_mark(p, b, RESP_BK_REASON);
	return (resp_emit_text(c, XF_D_REASONING, 0, text, len));
}

static int
resp_tool_start(struct resp_ctx *c, int b, const json_t *item)
{
	struct xf_parser	*p = c->p;
	struct xf_delta		 d;
	const char		*args;

	if (p->ntools >= XF_MAX_CALLS)
		return (c->rv);
	memset(&d, 0, sizeof d);
	d.kind = XF_D_TOOL_START;
	d.index = p->ntools++;
	if ((d.id = jx_str(item, "call_id")) == NULL)
		d.id = jx_str(item, "id");
	d.name = jx_str(item, "name");
	if (b >= 0)
		p->block_tool[b] = d.index + 1;
	if (resp_emit(c, &d) != 0)
		return (c->rv);
	if ((args = jx_str(item, "arguments")) != NULL && *args != '\0') {
		resp_mark(p, b, RESP_BK_ARGS);
		return (resp_emit_text(c, XF_D_TOOL_ARGS, d.index, args,
		    json_string_length(json_object_get(item, "arguments"))));
	}
	return (c->rv);
}

/*
 * The tool call of block b. Without a usable output_index, a call's
 * pieces go to the call started last, where sequential streams put them.
 */
static int
resp_tool_of(struct xf_parser *p, int b)
{
	if (b >= 0)
		return (p->block_tool[b] - 1);
	return (p->ntools - 1);
}

/* Pass on what item b holds and was not passed on in pieces. */
static int
resp_backfill(struct resp_ctx *c, int b, const json_t *item)
{
	struct xf_parser	*p = c->p;
	const char		*type = jx_str(item, "type"), *s;
	const json_t		*v;
	struct buf		 t;
	char			*sig;
	int			 tool;

	if (type == NULL)
		return (c->rv);
	if (strcmp(type, "reasoning") == 0) {
		if ((s = jx_str(item, "encrypted_content")) != NULL &&
		    (b < 0 || !(p->block_kind[b] & RESP_BK_SIG))) {
			resp_mark(p, b, RESP_BK_SIG);
			xasprintf(&sig, "%s%s", XF_SIG_OPENAI, s);
			resp_emit_text(c, XF_D_SIGNATURE, 0, sig, strlen(sig));
			free(sig);
		}
		if (b < 0 || (p->block_kind[b] & RESP_BK_REASON))
			return (c->rv);
		buf_init(&t, XF_MAX_TEXT);
		resp_reasoning_of(&t, item);
		resp_reasoning(c, b, t.data, t.len);
		buf_free(&t);
		return (c->rv);
	}
	if (b < 0)
		return (c->rv);
	if (strcmp(type, "message") == 0) {
		if (p->block_kind[b] & RESP_BK_TEXT)
			return (c->rv);
		resp_mark(p, b, RESP_BK_TEXT);
		buf_init(&t, XF_MAX_TEXT);
		resp_text_of(&t, json_object_get(item, "content"), NULL);
		resp_emit_text(c, XF_D_TEXT, 0, t.data, t.len);
		buf_free(&t);
		return (c->rv);
	}
	if (strcmp(type, "function_call") != 0 || jx_str(item, "name") ==
	    NULL)
		return (c->rv);
	if ((tool = resp_tool_of(p, b)) < 0)
		return (resp_tool_start(c, b, item));
	v = json_object_get(item, "arguments");
	if ((p->block_kind[b] & RESP_BK_ARGS) || !json_is_string(v))
		return (c->rv);
	resp_mark(p, b, RESP_BK_ARGS);
	return (resp_emit_text(c, XF_D_TOOL_ARGS, tool, json_string_value(v),
	    json_string_length(v)));
}

/* The end: usage, finish, DONE; or the error that ended it. */
static int
resp_end(struct resp_ctx *c, enum xf_finish finish, const char *error)
{
	struct xf_parser	*p = c->p;
	const json_t		*r = json_object_get(c->data, "response");
	const json_t		*item;
	struct xf_delta		 d;
	size_t			 i;

	json_array_foreach(json_object_get(r, "output"), i, item) {
		if (i >= (size_t)RESP_NBLOCKS ||
		    resp_backfill(c, (int)i, item) != 0)
			break;
	}
	memset(&d, 0, sizeof d);
	if (usage_from_event(&p->usage, USAGE_OPENAI_RESPONSES, c->data)) {
		d.kind = XF_D_USAGE;
		d.usage = &p->usage;
		if (resp_emit(c, &d) != 0)
			return (c->rv);
	}
	p->finished = p->done = 1;
	if (finish == XF_FINISH_ERROR) {
		d.kind = XF_D_ERROR;
		d.text = error != NULL ? error : "the upstream failed";
		d.len = strlen(d.text);
		return (resp_emit(c, &d));
	}
	if (finish == XF_FINISH_STOP && p->ntools != 0)
		finish = XF_FINISH_TOOL;
	d.kind = XF_D_FINISH;
	d.finish = finish;
	d.usage = NULL;
	if (resp_emit(c, &d) != 0)
		return (c->rv);
	memset(&d, 0, sizeof d);
	d.kind = XF_D_DONE;
	return (resp_emit(c, &d));
}

static int
resp_ev_added(struct resp_ctx *c)
{
	const json_t	*item = json_object_get(c->data, "item");
	int		 b = resp_block(c->data);

	if (jx_str(item, "type") == NULL ||
	    strcmp(jx_str(item, "type"), "function_call") != 0 ||
	    (b >= 0 && c->p->block_tool[b] != 0))
		return (c->rv);
	return (resp_tool_start(c, b, item));
}

static int
resp_ev_item_done(struct resp_ctx *c)
{
	return (resp_backfill(c, resp_block(c->data),
	    json_object_get(c->data, "item")));
}

static int
resp_ev_text(struct resp_ctx *c)
{
	const json_t	*v = json_object_get(c->data, "delta");

	resp_mark(c->p, resp_block(c->data), RESP_BK_TEXT);
	return (resp_emit_text(c, XF_D_TEXT, 0, json_string_value(v),
	    json_string_length(v)));
}

static int
resp_ev_reasoning(struct resp_ctx *c)
{
	const json_t	*v = json_object_get(c->data, "delta");

	return (resp_reasoning(c, resp_block(c->data), json_string_value(v),
	    json_string_length(v)));
}

/* A second summary of one item is set apart from the first. */
static int
resp_ev_summary_part(struct resp_ctx *c)
{
	json_int_t	n;
	int		b = resp_block(c->data);

	n = json_integer_value(json_object_get(c->data, "summary_index"));
	if (n <= 0 || b < 0 || !(c->p->block_kind[b] & RESP_BK_REASON))
		return (c->rv);
	return (resp_emit_text(c, XF_D_REASONING, 0, RESP_REASONING_SEP,
	    strlen(RESP_REASONING_SEP)));
}

static int
resp_ev_args(struct resp_ctx *c)
{
	const json_t	*v = json_object_get(c->data, "delta");
	int		 b = resp_block(c->data), tool;

	if ((tool = resp_tool_of(c->p, b)) < 0)
		return (c->rv);
	resp_mark(c->p, b, RESP_BK_ARGS);
	return (resp_emit_text(c, XF_D_TOOL_ARGS, tool, json_string_value(v),
	    json_string_length(v)));
}

/* Arguments that came only whole, in .done. */
static int
resp_ev_args_done(struct resp_ctx *c)
{
	const json_t	*v = json_object_get(c->data, "arguments");
	int		 b = resp_block(c->data), tool;

	if (b < 0 || (c->p->block_kind[b] & RESP_BK_ARGS) ||
	    (tool = resp_tool_of(c->p, b)) < 0)
		return (c->rv);
	resp_mark(c->p, b, RESP_BK_ARGS);
	return (resp_emit_text(c, XF_D_TOOL_ARGS, tool, json_string_value(v),
	    json_string_length(v)));
}

static int
resp_ev_completed(struct resp_ctx *c)
{
	return (resp_end(c, XF_FINISH_STOP, NULL));
}

static int
resp_ev_incomplete(struct resp_ctx *c)
{
	return (resp_end(c, resp_incomplete_finish(json_object_get(c->data,
	    "response")), NULL));
}

static int
resp_ev_failed(struct resp_ctx *c)
{
	return (resp_end(c, XF_FINISH_ERROR, resp_error_text(c->data)));
}

/* Stream events by type; the rest carry nothing new. */
static const struct {
	const char	*type;
	int		(*fn)(struct resp_ctx *);
} resp_event_table[] = {
	{ "response.output_item.added",		   resp_ev_added },
	{ "response.output_item.done",		   resp_ev_item_done },
	{ "response.output_text.delta",		   resp_ev_text },
	{ "response.refusal.delta",		   resp_ev_text },
	{ "response.reasoning_summary_text.delta", resp_ev_reasoning },
	{ "response.reasoning_text.delta",	   resp_ev_reasoning },
	{ "response.reasoning_summary_part.added", resp_ev_summary_part },
	{ "response.function_call_arguments.delta", resp_ev_args },
	{ "response.function_call_arguments.done", resp_ev_args_done },
	{ "response.completed",			   resp_ev_completed },
	{ "response.incomplete",		   resp_ev_incomplete },
	{ "response.failed",			   resp_ev_failed },
	{ "error",				   resp_ev_failed },
};

/*
 * One upstream event. The official API ends with response.completed (or
 * incomplete, or failed) and no [DONE]; some relays add one, and a
 * [DONE] with no end before it ends the stream as completed.
 */
int
xf_responses_parse_event(struct xf_parser *p, const char *event,
    const json_t *data, const char *raw, size_t rawlen, xf_delta_cb cb,
    void *arg)
{
	struct resp_ctx	 c;
	const char	*type;
	size_t		 i;

	if (p->done)
		return (0);
	memset(&c, 0, sizeof c);
	c.p = p;
	c.data = data;
	c.cb = cb;
	c.arg = arg;
	if (data == NULL) {
		if (raw != NULL && rawlen == 6 && memcmp(raw, "[DONE]", 6) ==
		    0 && resp_start(&c) == 0)
			resp_end(&c, XF_FINISH_STOP, NULL);
		return (c.rv);
	}
	if ((type = jx_str(data, "type")) == NULL &&
	    (type = event) == NULL) {
		/* A relay's in-band error has neither. */
		if (json_object_get(data, "error") != NULL &&
		    resp_start(&c) == 0)
			resp_end(&c, XF_FINISH_ERROR, resp_error_text(data));
		return (c.rv);
	}
	if (resp_start(&c) != 0)
		return (c.rv);
	for (i = 0; i < nitems(resp_event_table); i++) {
		if (strcmp(resp_event_table[i].type, type) == 0)
			return (resp_event_table[i].fn(&c));
	}
	return (0);
}

/*
 * Writing a stream. Items are opened as their first delta comes and
 * closed, with their done events, when a delta of another kind comes or
 * the stream ends; the done events carry the item's whole text, read
 * back from w->final, which every delta goes into.
 *
 * The writer's fields, here: open is the kind of item open (RESP_W_*);
 * nblocks counts the items opened, so the open reasoning or message item
 * is nblocks - 1; block is where that item's text starts in
 * final.reasoning or final.text (0 for the first, which has the plain
 * id, rs_X or msg_X, the ids of xf_responses_write_final), or for calls
 * the output_index of the first of the open calls; tool_block maps a
 * call to its output_index + 1.
 *
 * Calls from a Chat upstream may come interleaved (call 0 starts, call 1
 * starts, then arguments for 0): all calls started in a row stay open
 * together and close together, so each piece goes to its own item. A
 * piece for a call already closed (text came in between) is not sent as
 * an event: it is in final, and so in the output of response.completed,
 * which clients take as the answer.
 */
enum {
	RESP_W_NONE,
	RESP_W_REASONING,
	RESP_W_MESSAGE,
	RESP_W_CALLS
};

static int
resp_w_event(struct xf_writer *w, struct buf *out, const char *type,
    json_t *fields)
{
	json_t	*o;
	char	*s;
	int	 rv;

	o = json_pack("{s:s, s:i}", "type", type, "sequence_number",
	    w->seq++);
	json_object_update(o, fields);
	json_decref(fields);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rv = s != NULL ? sse_write_event(out, type, s) : -1;
	free(s);
	return (rv);
}

static const char *
resp_w_model(const struct xf_writer *w)
{
	if (w->model != NULL && *w->model != '\0')
		return (w->model);
	return (w->final.model);
}

static int
resp_w_start(struct xf_writer *w, struct buf *out)
{
	static const char *const events[] = {
		"response.created", "response.in_progress"
	};
	size_t	i;
	int	rv = 0;

	if (w->started)
		return (0);
	w->started = 1;
	if (w->created == 0)
		w->created = time(NULL);
	for (i = 0; i < nitems(events); i++)
		rv |= resp_w_event(w, out, events[i], json_pack("{s:o}",
		    "response", resp_shell(w->id, w->created, resp_w_model(w),
		    "in_progress")));
	return (rv);
}

/* The id of the open reasoning or message item. */
static void
resp_w_item_id(const struct xf_writer *w, char *buf, size_t size,
    const char *prefix)
{
	resp_item_id(buf, size, prefix, w->id, w->block == 0 ? -1 :
	    w->nblocks - 1);
}

static int
resp_w_close_reasoning(struct xf_writer *w, struct buf *out)
{
	const struct xf_final	*f = &w->final;
	const char		*text = "";
	size_t			 len = 0;
	char			 id[96];
	int			 n = w->nblocks - 1, rv = 0;

	if (f->reasoning.data != NULL && f->reasoning.len >= (size_t)w->block) {
		text = f->reasoning.data + w->block;
		len = f->reasoning.len - w->block;
	}

	resp_w_item_id(w, id, sizeof id, "rs");
	rv |= resp_w_event(w, out, "response.reasoning_summary_text.done",
	    json_pack("{s:s, s:i, s:i, s:o}", "item_id", id, "output_index",
	    n, "summary_index", 0, "text", resp_str(text, len)));
	rv |= resp_w_event(w, out, "response.reasoning_summary_part.done",
	    json_pack("{s:s, s:i, s:i, s:{s:s, s:o}}", "item_id", id,
	    "output_index", n, "summary_index", 0, "part", "type",
	    "summary_text", "text", resp_str(text, len)));
	rv |= resp_w_event(w, out, "response.output_item.done",
	    json_pack("{s:i, s:o}", "output_index", n, "item",
	    resp_reasoning_item(f, id, text, len)));
	return (rv);
}

static int
resp_w_close_message(struct xf_writer *w, struct buf *out)
{
	const struct xf_final	*f = &w->final;
	const char		*text = "";
	size_t			 len = 0;
	char			 id[96];
	int			 n = w->nblocks - 1, rv = 0;

	if (f->text.data != NULL && f->text.len >= (size_t)w->block) {
		text = f->text.data + w->block;
		len = f->text.len - w->block;
	}

	resp_w_item_id(w, id, sizeof id, "msg");
	rv |= resp_w_event(w, out, "response.output_text.done",
	    json_pack("{s:s, s:i, s:i, s:o, s:[]}", "item_id", id,
	    "output_index", n, "content_index", 0, "text",
	    resp_str(text, len), "logprobs"));
	rv |= resp_w_event(w, out, "response.content_part.done",
	    json_pack("{s:s, s:i, s:i, s:{s:s, s:o, s:[]}}", "item_id", id,
	    "output_index", n, "content_index", 0, "part", "type",
	    "output_text", "text", resp_str(text, len), "annotations"));
	rv |= resp_w_event(w, out, "response.output_item.done",
	    json_pack("{s:i, s:o}", "output_index", n, "item",
	    resp_message_item(id, "completed", text, len)));
	return (rv);
}

static int
resp_w_close_calls(struct xf_writer *w, struct buf *out)
{
	json_t	*item;
	int	 i, n, rv = 0;

	for (i = 0; i < XF_MAX_CALLS; i++) {
		if ((n = w->tool_block[i] - 1) < w->block)
			continue;
		item = resp_call_item(&w->final, w->id, i, "completed",
		    NULL, NULL, 0);
		rv |= resp_w_event(w, out,
		    "response.function_call_arguments.done",
		    json_pack("{s:O, s:i, s:O, s:O}", "item_id",
		    json_object_get(item, "id"), "output_index", n, "name",
		    json_object_get(item, "name"), "arguments",
		    json_object_get(item, "arguments")));
		rv |= resp_w_event(w, out, "response.output_item.done",
		    json_pack("{s:i, s:o}", "output_index", n, "item", item));
	}
	return (rv);
}

/* How each kind of item closes. */
static int (*const resp_w_close_table[])(struct xf_writer *, struct buf *) = {
	[RESP_W_REASONING] = resp_w_close_reasoning,
	[RESP_W_MESSAGE] = resp_w_close_message,
	[RESP_W_CALLS] = resp_w_close_calls,
};

static int
resp_w_close(struct xf_writer *w, struct buf *out)
{
	int	rv = 0;

	if (w->open > RESP_W_NONE && (size_t)w->open <
	    nitems(resp_w_close_table))
		rv = resp_w_close_table[w->open](w, out);
	w->open = RESP_W_NONE;
	return (rv);
}

/* Reasoning or text: open its item unless open, then the delta. */
static int
resp_w_text(struct xf_writer *w, const struct xf_delta *d, size_t before,
    struct buf *out)
{
	int	 reasoning = d->kind == XF_D_REASONING, rv = 0;
	char	 id[96];

	if (d->len == 0)
		return (0);
	if (w->open != (reasoning ? RESP_W_REASONING : RESP_W_MESSAGE)) {
		rv |= resp_w_close(w, out);
		w->open = reasoning ? RESP_W_REASONING : RESP_W_MESSAGE;
		w->block = (int)before;
		w->nblocks++;
		resp_w_item_id(w, id, sizeof id, reasoning ? "rs" : "msg");
		if (reasoning) {
			rv |= resp_w_event(w, out, "response.output_item.added",
			    json_pack("{s:i, s:{s:s, s:s, s:[]}}",
			    "output_index", w->nblocks - 1, "item", "id", id,
			    "type", "reasoning", "summary"));
			rv |= resp_w_event(w, out,
			    "response.reasoning_summary_part.added",
			    json_pack("{s:s, s:i, s:i, s:{s:s, s:s}}",
			    "item_id", id, "output_index", w->nblocks - 1,
			    "summary_index", 0, "part", "type", "summary_text",
			    "text", ""));
		} else {
			rv |= resp_w_event(w, out, "response.output_item.added",
			    json_pack("{s:i, s:o}", "output_index",
			    w->nblocks - 1, "item", resp_message_item(id,
			    "in_progress", NULL, 0)));
			rv |= resp_w_event(w, out,
			    "response.content_part.added",
			    json_pack("{s:s, s:i, s:i, s:{s:s, s:s, s:[]}}",
			    "item_id", id, "output_index", w->nblocks - 1,
			    "content_index", 0, "part", "type", "output_text",
			    "text", "", "annotations"));
		}
	}
	resp_w_item_id(w, id, sizeof id, reasoning ? "rs" : "msg");
	if (reasoning)
		rv |= resp_w_event(w, out,
		    "response.reasoning_summary_text.delta",
		    json_pack("{s:s, s:i, s:i, s:o}", "item_id", id,
		    "output_index", w->nblocks - 1, "summary_index", 0,
		    "delta", resp_str(d->text, d->len)));
	else
		rv |= resp_w_event(w, out, "response.output_text.delta",
		    json_pack("{s:s, s:i, s:i, s:o, s:[]}", "item_id", id,
		    "output_index", w->nblocks - 1, "content_index", 0,
		    "delta", resp_str(d->text, d->len), "logprobs"));
	return (rv);
}

static int	resp_w_tool_args(struct xf_writer *, const struct xf_delta *,
		    struct buf *);

static int
resp_w_tool_start(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	json_t	*item;
	int	 rv = 0;

	if (d->index < 0 || d->index >= XF_MAX_CALLS ||
	    w->tool_block[d->index] != 0)
		return (0);
	if (w->open != RESP_W_CALLS) {
		rv |= resp_w_close(w, out);
		w->open = RESP_W_CALLS;
		w->block = w->nblocks;
	}
	w->tool_block[d->index] = ++w->nblocks;
	item = resp_call_item(&w->final, w->id, d->index, "in_progress",
	    d->id, d->name, 1);
	rv |= resp_w_event(w, out, "response.output_item.added",
	    json_pack("{s:i, s:o}", "output_index", w->nblocks - 1, "item",
	    item));
	/* Arguments may come with the start. */
	if (d->text != NULL && d->len != 0)
		rv |= resp_w_tool_args(w, d, out);
	return (rv);
}

static int
resp_w_tool_args(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	char	id[96];
	int	n;

	if (d->len == 0 || d->index < 0 || d->index >= XF_MAX_CALLS ||
	    w->open != RESP_W_CALLS ||
	    (n = w->tool_block[d->index] - 1) < w->block)
		return (0);
	resp_item_id(id, sizeof id, "fc", w->id, d->index);
	return (resp_w_event(w, out, "response.function_call_arguments.delta",
	    json_pack("{s:s, s:i, s:o}", "item_id", id, "output_index", n,
	    "delta", resp_str(d->text, d->len))));
}

/* The last event: the whole response, named after its status. */
static int
resp_w_end(struct xf_writer *w, struct buf *out)
{
	json_t		*r;
	char		*type;
	int		 rv;

	rv = resp_w_close(w, out);
	r = resp_response(&w->final, w->id, w->created, resp_w_model(w));
	xasprintf(&type, "response.%s", jx_str(r, "status"));
	rv |= resp_w_event(w, out, type, json_pack("{s:o}", "response", r));
	free(type);
	w->ended = 1;
	return (rv);
}

int
xf_responses_write_delta(struct xf_writer *w, const struct xf_delta *d,
    struct buf *out)
{
	size_t	text = w->final.text.len, reasoning = w->final.reasoning.len;
	int	rv, added;

	if (w->ended)
		return (0);
	if (d->kind == XF_D_ERROR)
		return (xf_responses_write_error(w, d->text, out));
	added = xf_final_add(&w->final, d);
	rv = resp_w_start(w, out);
	if (added < 0 && (d->kind == XF_D_TEXT ||
	    d->kind == XF_D_REASONING)) {
		xf_responses_write_error(w, "the reply passes metapi's size "
		    "limit", out);
		return (-1);
	}
	switch (d->kind) {
	case XF_D_TEXT:
		rv |= resp_w_text(w, d, text, out);
		break;
	case XF_D_REASONING:
		rv |= resp_w_text(w, d, reasoning, out);
		break;
	case XF_D_TOOL_START:
		rv |= resp_w_tool_start(w, d, out);
		break;
	case XF_D_TOOL_ARGS:
		rv |= resp_w_tool_args(w, d, out);
		break;
	case XF_D_DONE:
		rv |= resp_w_end(w, out);
		break;
	default:
		/* START, FINISH, USAGE, SIGNATURE: final has them. */
		break;
	}
	return (rv != 0 ? -1 : 0);
}

/*
 * The stream failed: close what is open and end with response.failed,
 * holding what the reply had so far.
 */
int
xf_responses_write_error(struct xf_writer *w, const char *msg,
    struct buf *out)
{
	int	rv;

	if (w->ended)
		return (0);
	rv = resp_w_start(w, out);
	w->final.finish = XF_FINISH_ERROR;
	free(w->final.error);
	w->final.error = xstrdup(msg != NULL ? msg : "the upstream failed");
	rv |= resp_w_end(w, out);
	return (rv != 0 ? -1 : 0);
}
