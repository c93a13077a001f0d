/*
 * Reply generators for the relay endpoints: Chat Completions, legacy
 * Completions, Anthropic Messages, Responses and Embeddings, each as one
 * JSON body or as SSE frames, with the variants of upstream-apis.md 12.4
 * and 12.5 (reasoning, tool calls, thinking, tool_use, failed,
 * incomplete, a trailing [DONE]). It only formats what struct gen holds:
 * no state, no auth, no billing. A generator returns 0 when the reply
 * went out whole (the caller bills), non-zero otherwise.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

#define GEN_THINK	"Thinking about the request first."
#define GEN_SIGNATURE	"ZmFrZS1zaWduYXR1cmU="
#define GEN_TOOL_ARGS1	"{\"a\":"
#define GEN_TOOL_ARGS2	"1}"

static int
gen_space(char c)
{
	return (c == ' ' || c == '\n' || c == '\t' || c == '\r');
}

long long
gen_words(const char *s)
{
	long long	n = 0;
	int		in = 0;

	if (s == NULL)
		return (0);
	for (; *s != '\0'; s++) {
		if (gen_space(*s))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return (n);
}

/* Is name in the comma-separated variant list? */
int
gen_has(const struct gen *g, const char *name)
{
	const char	*p = g->variant;
	size_t		 n = strlen(name);

	while (*p != '\0') {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return (1);
		p = strchr(p, ',');
		if (p == NULL)
			break;
		p++;
	}
	return (0);
}

/*
 * The next stream piece of text from *off: one word and the blanks after
 * it, so pieces split on ASCII blanks and stay valid UTF-8.
 */
static json_t *
gen_piece(const char *text, size_t *off)
{
	size_t	start = *off, i = *off;

	if (text[i] == '\0')
		return (NULL);
	while (text[i] != '\0' && gen_space(text[i]))
		i++;
	while (text[i] != '\0' && !gen_space(text[i]))
		i++;
	while (text[i] != '\0' && gen_space(text[i]))
		i++;
	*off = i;
	return (json_stringn(text + start, i - start));
}

static json_t *
gen_str(const char *s)
{
	json_t	*j = json_string(s);

	return (j != NULL ? j : json_string("?"));
}

/* Chat Completions. */

static json_t *
gen_chat_chunk(const struct gen *g, const char *id, json_t *delta,
    const char *finish)
{
	return (json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:s?}]}",
	    "id", id, "object", "chat.completion.chunk",
	    "created", (json_int_t)g->created, "model", g->model,
	    "choices", "index", 0, "delta", delta, "finish_reason", finish));
}

static json_t *
gen_chat_usage(const struct gen *g, long long reasoning, int details)
{
	json_t	*u;

	u = json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)g->prompt,
	    "completion_tokens", (json_int_t)g->completion,
	    "total_tokens", (json_int_t)(g->prompt + g->completion));
	if (details) {
		json_object_set_new(u, "prompt_tokens_details",
		    json_pack("{s:i}", "cached_tokens", 0));
		json_object_set_new(u, "completion_tokens_details",
		    json_pack("{s:I}", "reasoning_tokens",
		    (json_int_t)reasoning));
	}
	return (u);
}

static json_t *
gen_tool_call(int full)
{
	return (json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", "call_1", "type",
	    "function", "function", "name", "f", "arguments",
	    full ? GEN_TOOL_ARGS1 GEN_TOOL_ARGS2 : ""));
}

int
gen_chat(struct req *r, struct gen *g)
{
	char		 id[64];
	int		 tools = gen_has(g, "tool_calls");
	int		 reasoning = gen_has(g, "reasoning");
	const char	*finish;
	long long	 rtok = reasoning ? gen_words(GEN_THINK) : 0;
	json_t		*msg, *piece, *j;
	size_t		 off = 0;

	snprintf(id, sizeof id, "chatcmpl-fake%lld", g->seq);
	finish = tools ? "tool_calls" : g->truncated ? "length" : "stop";
	g->completion += rtok;

	if (!g->stream) {
		msg = json_pack("{s:s, s:o}", "role", "assistant", "content",
		    tools ? json_null() : gen_str(g->text));
		if (reasoning)
			json_object_set_new(msg, "reasoning_content",
			    json_string(GEN_THINK));
		if (tools)
			json_object_set_new(msg, "tool_calls",
			    json_pack("[o]", gen_tool_call(1)));
		j = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n, s:s}], "
		    "s:o, s:s}", "id", id, "object", "chat.completion",
		    "created", (json_int_t)g->created, "model", g->model,
		    "choices", "index", 0, "message", msg, "logprobs",
		    "finish_reason", finish, "usage", gen_chat_usage(g, rtok, 1),
		    "system_fingerprint", "fp_fake");
		req_reply_json(r, 200, j);
		return (0);
	}

	if (req_stream_start(r, "text/event-stream") != 0)
		return (-1);
	if (req_sse(r, NULL, gen_chat_chunk(g, id, json_pack("{s:s, s:s}",
	    "role", "assistant", "content", ""), NULL)) != 0)
		return (-1);
	while (reasoning && (piece = gen_piece(GEN_THINK, &off)) != NULL) {
		if (req_sse(r, NULL, gen_chat_chunk(g, id, json_pack("{s:o}",
		    "reasoning_content", piece), NULL)) != 0)
			return (-1);
	}
	if (tools) {
		json_t	*first = gen_tool_call(0);

		if (req_sse(r, NULL, gen_chat_chunk(g, id, json_pack(
		    "{s:[o]}", "tool_calls", json_pack("{s:i, s:O, s:s, s:O}",
		    "index", 0, "id", json_object_get(first, "id"), "type",
		    "function", "function", json_object_get(first,
		    "function"))), NULL)) != 0) {
			json_decref(first);
			return (-1);
		}
		json_decref(first);
		if (req_sse(r, NULL, gen_chat_chunk(g, id, json_pack(
		    "{s:[{s:i, s:{s:s}}]}", "tool_calls", "index", 0,
		    "function", "arguments", GEN_TOOL_ARGS1), NULL)) != 0 ||
		    req_sse(r, NULL, gen_chat_chunk(g, id, json_pack(
		    "{s:[{s:i, s:{s:s}}]}", "tool_calls", "index", 0,
		    "function", "arguments", GEN_TOOL_ARGS2), NULL)) != 0)
			return (-1);
	} else {
		off = 0;
		while ((piece = gen_piece(g->text, &off)) != NULL) {
			if (req_sse(r, NULL, gen_chat_chunk(g, id,
			    json_pack("{s:o}", "content", piece), NULL)) != 0)
				return (-1);
		}
	}
	if (req_sse(r, NULL, gen_chat_chunk(g, id, json_object(),
	    finish)) != 0)
		return (-1);
	if (g->include_usage) {
		j = json_pack("{s:s, s:s, s:I, s:s, s:[], s:o}", "id", id,
		    "object", "chat.completion.chunk",
		    "created", (json_int_t)g->created, "model", g->model,
		    "choices", "usage", gen_chat_usage(g, rtok, 0));
		if (req_sse(r, NULL, j) != 0)
			return (-1);
	}
	return (req_sse_raw(r, "data: [DONE]\n\n"));
}

/* Legacy Completions. */

int
gen_completion(struct req *r, struct gen *g)
{
	char		 id[64];
	const char	*finish = g->truncated ? "length" : "stop";
	json_t		*piece, *j;
	size_t		 off = 0;

	snprintf(id, sizeof id, "cmpl-fake%lld", g->seq);
	if (!g->stream) {
		j = json_pack("{s:s, s:s, s:I, s:s, s:[{s:o, s:i, s:n, s:s}], "
		    "s:o}", "id", id, "object", "text_completion",
		    "created", (json_int_t)g->created, "model", g->model,
		    "choices", "text", gen_str(g->text), "index", 0,
		    "logprobs", "finish_reason", finish,
		    "usage", gen_chat_usage(g, 0, 0));
		req_reply_json(r, 200, j);
		return (0);
	}
	if (req_stream_start(r, "text/event-stream") != 0)
		return (-1);
	while ((piece = gen_piece(g->text, &off)) != NULL) {
		j = json_pack("{s:s, s:s, s:I, s:s, s:[{s:o, s:i, s:n, s:n}]}",
		    "id", id, "object", "text_completion",
		    "created", (json_int_t)g->created, "model", g->model,
		    "choices", "text", piece, "index", 0, "logprobs",
		    "finish_reason");
		if (req_sse(r, NULL, j) != 0)
			return (-1);
	}
	j = json_pack("{s:s, s:s, s:I, s:s, s:[{s:s, s:i, s:n, s:s}]}",
	    "id", id, "object", "text_completion",
	    "created", (json_int_t)g->created, "model", g->model,
	    "choices", "text", "", "index", 0, "logprobs",
	    "finish_reason", finish);
	if (g->include_usage)
		json_object_set_new(j, "usage", gen_chat_usage(g, 0, 0));
	if (req_sse(r, NULL, j) != 0)
		return (-1);
	return (req_sse_raw(r, "data: [DONE]\n\n"));
}

/* Anthropic Messages. */

static json_t *
gen_msg_usage(long long in, long long out)
{
	return (json_pack("{s:I, s:I, s:i, s:i}", "input_tokens",
	    (json_int_t)in, "output_tokens", (json_int_t)out,
	    "cache_creation_input_tokens", 0, "cache_read_input_tokens", 0));
}

/* A frame body with "type" (and sequence_number, if >= 0) first. */
static json_t *
gen_typed(const char *type, int seq, json_t *body)
{
	json_t	*o = json_pack("{s:s}", "type", type);

	if (seq >= 0)
		json_object_set_new(o, "sequence_number", json_integer(seq));
	json_object_update(o, body);
	json_decref(body);
	return (o);
}

static int
gen_msg_event(struct req *r, const char *type, json_t *body)
{
	return (req_sse(r, type, gen_typed(type, -1, body)));
}

int
gen_messages(struct req *r, struct gen *g)
{
	char		 id[64];
	int		 thinking = gen_has(g, "thinking");
	int		 tool = gen_has(g, "tool_use");
	const char	*stop;
	json_t		*content, *piece, *j;
	size_t		 off = 0;
	int		 idx = 0;

	snprintf(id, sizeof id, "msg_fake%lld", g->seq);
	stop = tool ? "tool_use" : g->truncated ? "max_tokens" : "end_turn";
	if (thinking)
		g->completion += gen_words(GEN_THINK);

	if (!g->stream) {
		content = json_array();
		if (thinking)
			json_array_append_new(content, json_pack("{s:s, s:s, "
			    "s:s}", "type", "thinking", "thinking", GEN_THINK,
			    "signature", GEN_SIGNATURE));
		if (tool)
			json_array_append_new(content, json_pack("{s:s, s:s, "
			    "s:s, s:{s:i}}", "type", "tool_use", "id",
			    "toolu_fake1", "name", "f", "input", "a", 1));
		else
			json_array_append_new(content, json_pack("{s:s, s:o}",
			    "type", "text", "text", gen_str(g->text)));
		j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:n, s:o}",
		    "id", id, "type", "message", "role", "assistant",
		    "model", g->model, "content", content, "stop_reason", stop,
		    "stop_sequence", "usage",
		    gen_msg_usage(g->prompt, g->completion));
		req_reply_json(r, 200, j);
		return (0);
	}

	if (req_stream_start(r, "text/event-stream") != 0)
		return (-1);
	j = json_pack("{s:{s:s, s:s, s:s, s:s, s:[], s:n, s:n, s:o}}",
	    "message", "id", id, "type", "message", "role", "assistant",
	    "model", g->model, "content", "stop_reason", "stop_sequence",
	    "usage", gen_msg_usage(g->prompt, 1));
	if (gen_msg_event(r, "message_start", j) != 0)
		return (-1);
	if (thinking) {
		if (gen_msg_event(r, "content_block_start", json_pack(
		    "{s:i, s:{s:s, s:s}}", "index", idx, "content_block",
		    "type", "thinking", "thinking", "")) != 0 ||
		    gen_msg_event(r, "ping", json_object()) != 0)
			return (-1);
		while ((piece = gen_piece(GEN_THINK, &off)) != NULL) {
			if (gen_msg_event(r, "content_block_delta", json_pack(
			    "{s:i, s:{s:s, s:o}}", "index", idx, "delta",
			    "type", "thinking_delta", "thinking", piece)) != 0)
				return (-1);
		}
		if (gen_msg_event(r, "content_block_delta", json_pack(
		    "{s:i, s:{s:s, s:s}}", "index", idx, "delta", "type",
		    "signature_delta", "signature", GEN_SIGNATURE)) != 0 ||
		    gen_msg_event(r, "content_block_stop", json_pack("{s:i}",
		    "index", idx)) != 0)
			return (-1);
		idx++;
	}
	if (tool) {
		if (gen_msg_event(r, "content_block_start", json_pack(
		    "{s:i, s:{s:s, s:s, s:s, s:{}}}", "index", idx,
		    "content_block", "type", "tool_use", "id", "toolu_fake1",
		    "name", "f", "input")) != 0)
			return (-1);
		if (!thinking && gen_msg_event(r, "ping", json_object()) != 0)
			return (-1);
		if (gen_msg_event(r, "content_block_delta", json_pack(
		    "{s:i, s:{s:s, s:s}}", "index", idx, "delta", "type",
		    "input_json_delta", "partial_json", GEN_TOOL_ARGS1)) != 0 ||
		    gen_msg_event(r, "content_block_delta", json_pack(
		    "{s:i, s:{s:s, s:s}}", "index", idx, "delta", "type",
		    "input_json_delta", "partial_json", GEN_TOOL_ARGS2)) != 0)
			return (-1);
	} else {
		if (gen_msg_event(r, "content_block_start", json_pack(
		    "{s:i, s:{s:s, s:s}}", "index", idx, "content_block",
		    "type", "text", "text", "")) != 0)
			return (-1);
		if (!thinking && gen_msg_event(r, "ping", json_object()) != 0)
			return (-1);
		off = 0;
		while ((piece = gen_piece(g->text, &off)) != NULL) {
			if (gen_msg_event(r, "content_block_delta", json_pack(
			    "{s:i, s:{s:s, s:o}}", "index", idx, "delta",
			    "type", "text_delta", "text", piece)) != 0)
				return (-1);
		}
	}
	if (gen_msg_event(r, "content_block_stop", json_pack("{s:i}", "index",
	    idx)) != 0)
		return (-1);
	if (gen_msg_event(r, "message_delta", json_pack("{s:{s:s, s:n}, "
	    "s:{s:I}}", "delta", "stop_reason", stop, "stop_sequence",
	    "usage", "output_tokens", (json_int_t)g->completion)) != 0)
		return (-1);
	return (gen_msg_event(r, "message_stop", json_object()));
}

/* Responses. */

struct gen_resp {
	struct req	*r;
	struct gen	*g;
	int		 seq;		/* sequence_number */
	char		 id[64];
	char		 msg_id[64];
};

static int
gen_resp_event(struct gen_resp *s, const char *type, json_t *body)
{
	return (req_sse(s->r, type, gen_typed(type, s->seq++, body)));
}

static json_t *
gen_resp_usage(const struct gen *g, long long reasoning)
{
	return (json_pack("{s:I, s:{s:i}, s:I, s:{s:I}, s:I}",
	    "input_tokens", (json_int_t)g->prompt,
	    "input_tokens_details", "cached_tokens", 0,
	    "output_tokens", (json_int_t)g->completion,
	    "output_tokens_details", "reasoning_tokens", (json_int_t)reasoning,
	    "total_tokens", (json_int_t)(g->prompt + g->completion)));
}

static json_t *
gen_resp_object(struct gen_resp *s, const char *status, json_t *output,
    json_t *usage)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:n}",
	    "id", s->id, "object", "response",
	    "created_at", (json_int_t)s->g->created, "status", status,
	    "model", s->g->model, "output", output != NULL ? output :
	    json_array(), "usage", usage != NULL ? usage : json_null(),
	    "error");
	if (strcmp(status, "incomplete") == 0)
		json_object_set_new(o, "incomplete_details", json_pack("{s:s}",
		    "reason", "max_output_tokens"));
	else
		json_object_set_new(o, "incomplete_details", json_null());
	if (strcmp(status, "failed") == 0)
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code",
		    "server_error", "message", "fake failure"));
	return (o);
}

static json_t *
gen_resp_message(struct gen_resp *s, const char *status, int done)
{
	json_t	*content = json_array();

	if (done)
		json_array_append_new(content, json_pack("{s:s, s:o, s:[]}",
		    "type", "output_text", "text", gen_str(s->g->text),
		    "annotations"));
	return (json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", s->msg_id,
	    "type", "message", "status", status, "role", "assistant",
	    "content", content));
}

static json_t *
gen_resp_reasoning(int done)
{
	json_t	*summary = json_array();

	if (done)
		json_array_append_new(summary, json_pack("{s:s, s:s}", "type",
		    "summary_text", "text", GEN_THINK));
	return (json_pack("{s:s, s:s, s:o}", "id", "rs_fake1", "type",
	    "reasoning", "summary", summary));
}

static json_t *
gen_resp_call(int done)
{
	return (json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", "fc_fake1",
	    "type", "function_call", "status", done ? "completed" :
	    "in_progress", "call_id", "call_1", "name", "f", "arguments",
	    done ? GEN_TOOL_ARGS1 GEN_TOOL_ARGS2 : ""));
}

/* The finished output array. */
static json_t *
gen_resp_output(struct gen_resp *s, int reasoning, int call)
{
	json_t	*out = json_array();

	if (reasoning)
		json_array_append_new(out, gen_resp_reasoning(1));
	if (call)
		json_array_append_new(out, gen_resp_call(1));
	else
		json_array_append_new(out, gen_resp_message(s, "completed", 1));
	return (out);
}

static int
gen_resp_reasoning_events(struct gen_resp *s, int oi)
{
	json_t	*piece;
	size_t	 off = 0;

	if (gen_resp_event(s, "response.output_item.added", json_pack(
	    "{s:i, s:o}", "output_index", oi, "item", gen_resp_reasoning(0))) ||
	    gen_resp_event(s, "response.reasoning_summary_part.added",
	    json_pack("{s:s, s:i, s:i, s:{s:s, s:s}}", "item_id", "rs_fake1",
	    "output_index", oi, "summary_index", 0, "part", "type",
	    "summary_text", "text", "")))
		return (-1);
	while ((piece = gen_piece(GEN_THINK, &off)) != NULL) {
		if (gen_resp_event(s, "response.reasoning_summary_text.delta",
		    json_pack("{s:s, s:i, s:i, s:o}", "item_id", "rs_fake1",
		    "output_index", oi, "summary_index", 0, "delta", piece)))
			return (-1);
	}
	return (gen_resp_event(s, "response.reasoning_summary_text.done",
	    json_pack("{s:s, s:i, s:i, s:s}", "item_id", "rs_fake1",
	    "output_index", oi, "summary_index", 0, "text", GEN_THINK)) ||
	    gen_resp_event(s, "response.reasoning_summary_part.done",
	    json_pack("{s:s, s:i, s:i, s:{s:s, s:s}}", "item_id", "rs_fake1",
	    "output_index", oi, "summary_index", 0, "part", "type",
	    "summary_text", "text", GEN_THINK)) ||
	    gen_resp_event(s, "response.output_item.done", json_pack(
	    "{s:i, s:o}", "output_index", oi, "item", gen_resp_reasoning(1))));
}

static int
gen_resp_call_events(struct gen_resp *s, int oi)
{
	return (gen_resp_event(s, "response.output_item.added", json_pack(
	    "{s:i, s:o}", "output_index", oi, "item", gen_resp_call(0))) ||
	    gen_resp_event(s, "response.function_call_arguments.delta",
	    json_pack("{s:s, s:i, s:s}", "item_id", "fc_fake1",
	    "output_index", oi, "delta", GEN_TOOL_ARGS1)) ||
	    gen_resp_event(s, "response.function_call_arguments.delta",
	    json_pack("{s:s, s:i, s:s}", "item_id", "fc_fake1",
	    "output_index", oi, "delta", GEN_TOOL_ARGS2)) ||
	    gen_resp_event(s, "response.function_call_arguments.done",
	    json_pack("{s:s, s:i, s:s}", "item_id", "fc_fake1",
	    "output_index", oi, "arguments", GEN_TOOL_ARGS1 GEN_TOOL_ARGS2)) ||
	    gen_resp_event(s, "response.output_item.done", json_pack(
	    "{s:i, s:o}", "output_index", oi, "item", gen_resp_call(1))));
}

static int
gen_resp_text_events(struct gen_resp *s, int oi)
{
	json_t	*piece;
	size_t	 off = 0;

	if (gen_resp_event(s, "response.output_item.added", json_pack(
	    "{s:i, s:o}", "output_index", oi, "item",
	    gen_resp_message(s, "in_progress", 0))) ||
	    gen_resp_event(s, "response.content_part.added", json_pack(
	    "{s:s, s:i, s:i, s:{s:s, s:s, s:[]}}", "item_id", s->msg_id,
	    "output_index", oi, "content_index", 0, "part", "type",
	    "output_text", "text", "", "annotations")))
		return (-1);
	while ((piece = gen_piece(s->g->text, &off)) != NULL) {
		if (gen_resp_event(s, "response.output_text.delta", json_pack(
		    "{s:s, s:i, s:i, s:o}", "item_id", s->msg_id,
		    "output_index", oi, "content_index", 0, "delta", piece)))
			return (-1);
	}
	return (gen_resp_event(s, "response.output_text.done", json_pack(
	    "{s:s, s:i, s:i, s:o}", "item_id", s->msg_id, "output_index", oi,
	    "content_index", 0, "text", gen_str(s->g->text))) ||
	    gen_resp_event(s, "response.content_part.done", json_pack(
	    "{s:s, s:i, s:i, s:{s:s, s:o, s:[]}}", "item_id", s->msg_id,
	    "output_index", oi, "content_index", 0, "part", "type",
	    "output_text", "text", gen_str(s->g->text), "annotations")) ||
	    gen_resp_event(s, "response.output_item.done", json_pack(
	    "{s:i, s:o}", "output_index", oi, "item",
	    gen_resp_message(s, "completed", 1))));
}

int
gen_responses(struct req *r, struct gen *g)
{
	struct gen_resp	 s;
	int		 reasoning = gen_has(g, "reasoning");
	int		 call = gen_has(g, "function_call");
	int		 failed = gen_has(g, "failed");
	int		 incomplete = gen_has(g, "incomplete") || g->truncated;
	long long	 rtok = reasoning ? gen_words(GEN_THINK) : 0;
	const char	*status;
	int		 oi = 0;

	memset(&s, 0, sizeof s);
	s.r = r;
	s.g = g;
	snprintf(s.id, sizeof s.id, "resp_fake%lld", g->seq);
	snprintf(s.msg_id, sizeof s.msg_id, "msg_fake%lld", g->seq);
	g->completion += rtok;
	status = failed ? "failed" : incomplete ? "incomplete" : "completed";

	if (!g->stream) {
		req_reply_json(r, 200, gen_resp_object(&s, status, failed ?
		    NULL : gen_resp_output(&s, reasoning, call),
		    failed ? NULL : gen_resp_usage(g, rtok)));
		return (failed);
	}

	if (req_stream_start(r, "text/event-stream") != 0)
		return (-1);
	if (gen_resp_event(&s, "response.created", json_pack("{s:o}",
	    "response", gen_resp_object(&s, "in_progress", NULL, NULL))) ||
	    gen_resp_event(&s, "response.in_progress", json_pack("{s:o}",
	    "response", gen_resp_object(&s, "in_progress", NULL, NULL))))
		return (-1);
	if (failed) {
		if (gen_resp_event(&s, "response.failed", json_pack("{s:o}",
		    "response", gen_resp_object(&s, "failed", NULL, NULL))))
			return (-1);
		if (gen_has(g, "done"))
			req_sse_raw(r, "data: [DONE]\n\n");
		return (1);
	}
	if (reasoning && gen_resp_reasoning_events(&s, oi++))
		return (-1);
	if (call ? gen_resp_call_events(&s, oi) : gen_resp_text_events(&s, oi))
		return (-1);
	if (gen_resp_event(&s, incomplete ? "response.incomplete" :
	    "response.completed", json_pack("{s:o}", "response",
	    gen_resp_object(&s, status, gen_resp_output(&s, reasoning, call),
	    gen_resp_usage(g, rtok)))))
		return (-1);
	if (gen_has(g, "done"))
		return (req_sse_raw(r, "data: [DONE]\n\n"));
	return (0);
}

/* Embeddings: deterministic vectors from a hash of each input. */

static json_t *
gen_vector(const char *text, int dims)
{
	json_t		*v = json_array();
	unsigned long	 h = 5381;
	int		 i;

	for (; *text != '\0'; text++)
		h = h * 33 + (unsigned char)*text;
	for (i = 0; i < dims; i++) {
		h = h * 6364136223846793005UL + 1442695040888963407UL;
		json_array_append_new(v, json_real(
		    (double)((h >> 33) % 2000) / 1000.0 - 1.0));
	}
	return (v);
}

int
gen_embeddings(struct req *r, struct gen *g)
{
	json_t	*data = json_array(), *in, *item;
	size_t	 i;
	int	 dims = g->dims > 0 && g->dims <= 4096 ? g->dims : 8;
	char	*s;

	g->completion = 0;
	if (json_is_array(g->input))
		in = json_incref(g->input);
	else if (g->input != NULL)
		in = json_pack("[O]", g->input);
	else
		in = json_pack("[s]", "");
	json_array_foreach(in, i, item) {
		s = json_is_string(item) ? strdup(json_string_value(item)) :
		    req_dump(item);
		json_array_append_new(data, json_pack("{s:s, s:I, s:o}",
		    "object", "embedding", "index", (json_int_t)i,
		    "embedding", gen_vector(s, dims)));
		free(s);
	}
	json_decref(in);
	req_reply_json(r, 200, json_pack("{s:s, s:o, s:s, s:{s:I, s:I}}",
	    "object", "list", "data", data, "model", g->model, "usage",
	    "prompt_tokens", (json_int_t)g->prompt, "total_tokens",
	    (json_int_t)g->prompt));
	return (0);
}
