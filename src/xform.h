/*
 * Format conversion between OpenAI Chat, Claude Messages and OpenAI
 * Responses: requests, whole replies, streams and errors. Pure: no I/O,
 * no threads, no globals.
 *
 * Requests go through a hub, an OpenAI Chat body: a client's request is
 * turned into Chat (xf_to_chat) and from Chat into the upstream's format
 * (xf_from_chat), so six directions need four converters. Replies go
 * through a normalized form: an upstream reply is parsed into struct
 * xf_final, a stream's events into struct xf_delta values, and those are
 * written in the client's format. One module per format holds that
 * format's four sides (xform-chat.c, xform-messages.c,
 * xform-responses.c); xform.c holds the tables and the shared parts.
 */
/*
 * The hub: an OpenAI Chat Completions request body, with these rules so
 * that every converter reads and writes the same thing.
 *
 *   model, stream (bool), max_tokens (never max_completion_tokens: the
 *   Chat writer for a Chat upstream keeps what the client sent),
 *   temperature, top_p, stop (array of strings), n, user, seed,
 *   response_format ({type: text | json_object | json_schema,
 *   json_schema: {name, schema, strict, description}}), tools ([{type:
 *   "function", function: {name, description, parameters, strict}}]),
 *   tool_choice ("auto" | "none" | "required" | {type: "function",
 *   function: {name}}), parallel_tool_calls (bool), reasoning_effort
 *   ("minimal" | "low" | "medium" | "high"), metadata (object),
 *   stream_options.
 *   Extensions, metapi's own, never sent to an upstream as they are:
 *   reasoning_budget (int: a thinking budget in tokens, from Claude's
 *   thinking.budget_tokens), top_k (Claude's).
 *
 *   messages: [{role: system | developer | user | assistant | tool, ...}]
 *   content is a string or an array of parts:
 *     {type: "text", text}
 *     {type: "image_url", image_url: {url, detail}}  url may be a data:
 *       URL (data:image/png;base64,...)
 *     {type: "file", file: {file_data (a data: URL), filename, file_id}}
 *   assistant: content (string or null), tool_calls ([{id, type:
 *   "function", function: {name, arguments (JSON text)}}]),
 *   reasoning_content (string), reasoning_signature (a tagged
 *   signature, see below).
 *   tool: tool_call_id, content (string or text parts).
 *
 * Reasoning signatures are opaque to every format but their own, so in
 * the hub they carry a tag saying whose they are: "metapi:anthropic:"
 * before a Claude thinking signature, "metapi:openai:" before a
 * Responses reasoning item's encrypted_content. A converter writes only
 * signatures with its own tag (tag removed) and drops others with the
 * reasoning they sign where the format needs a signature.
 */
#ifndef XFORM_H
#define XFORM_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "relay.h"
#include "usage.h"

#define XF_SIG_ANTHROPIC	"metapi:anthropic:"
#define XF_SIG_OPENAI		"metapi:openai:"

/* Anthropic's max_tokens is required; a Chat request may leave it out. */
#define XF_DEFAULT_MAX_TOKENS	4096

/* Normalized finish reasons. */
enum xf_finish {
	XF_FINISH_NONE,		/* not known (yet) */
	XF_FINISH_STOP,		/* end_turn, stop, stop_sequence, completed */
	XF_FINISH_LENGTH,	/* max_tokens, length, max_output_tokens */
	XF_FINISH_TOOL,		/* tool_use, tool_calls, function_call */
	XF_FINISH_FILTER,	/* content_filter, refusal */
	XF_FINISH_ERROR		/* failed, error */
};

/* One tool call of a reply. */
struct xf_call {
	char		*id;		/* call id: call_..., toolu_... */
	char		*name;
	struct buf	 args;		/* JSON text of the arguments */
};

/*
 * A whole reply, whatever format it came in. Strings are owned (NULL when
 * absent); text and reasoning are bounded by XF_MAX_TEXT each.
 */
#define XF_MAX_TEXT	(8 * 1024 * 1024)
#define XF_MAX_CALLS	128
struct xf_final {
	char		*id;		/* upstream id, NULL: make one */
	char		*model;
	long long	 created;	/* unix seconds, 0: now */
	struct buf	 text;		/* assistant text */
	struct buf	 reasoning;	/* thinking / reasoning text */
	char		*signature;	/* thinking signature, tagged */
	char		*redacted;	/* redacted_thinking data */
	struct xf_call	 calls[XF_MAX_CALLS];
	size_t		 ncalls;
	enum xf_finish	 finish;
	char		*stop_sequence;	/* the one that matched, if told */
	struct usage	 usage;		/* source USAGE_NONE: not told */
	char		*error;		/* a failed reply's message */
};

/*
 * One step of a stream, normalized. Pointers are borrowed for the call.
 * index numbers tool calls 0, 1, ... in the order they start, whatever
 * the upstream's own block or item numbering.
 */
enum xf_delta_kind {
	XF_D_START,		/* id, model (either may be NULL); once */
	XF_D_TEXT,		/* text/len: assistant text */
	XF_D_REASONING,		/* text/len: reasoning text */
	XF_D_SIGNATURE,		/* text/len: thinking signature (whole) */
	XF_D_REDACTED,		/* text/len: redacted thinking data */
	XF_D_TOOL_START,	/* index, id, name */
	XF_D_TOOL_ARGS,		/* index, text/len: arguments piece */
	XF_D_FINISH,		/* finish (and text: stop sequence) */
	XF_D_USAGE,		/* usage: counts so far, merged in */
	XF_D_ERROR,		/* text: the upstream's error message */
	XF_D_DONE		/* the upstream stream ended properly */
};

struct xf_delta {
	enum xf_delta_kind	 kind;
	const char		*text;
	size_t			 len;
	int			 index;
	const char		*id;
	const char		*name;
	const char		*model;
	enum xf_finish		 finish;
	const struct usage	*usage;
};

/* Where a stream parser hands each delta. Nonzero stops the parse. */
typedef int (*xf_delta_cb)(const struct xf_delta *, void *);

/*
 * Stream parser state: one per upstream stream, zeroed by
 * xf_parser_init. Fields are private to the format's module.
 */
struct xf_parser {
	enum relay_format	 fmt;
	int			 started;	/* XF_D_START sent */
	int			 ntools;	/* tool calls started */
	int			 block_tool[256]; /* block/item -> tool+1 */
	int			 block_kind[256]; /* per upstream block */
	int			 finished;	/* XF_D_FINISH sent */
	int			 done;		/* XF_D_DONE sent */
	struct usage		 usage;		/* merged so far */
	struct buf		 sig;		/* signature being received */
	int			 think;		/* Chat: <think> tag state */
	struct buf		 pend;		/* Chat: text held at a tag */
};

/*
 * Stream writer state: one per client stream. It writes complete SSE
 * events into the caller's buf. Fields are private to the format's
 * module; final collects the whole reply where the format needs it at
 * the end (Responses' response.completed, the conversation store).
 */
struct xf_writer {
	enum relay_format	 fmt;
	char			 id[64];	/* the id the client sees */
	char			*model;
	long long		 created;
	int			 started;
	int			 open;		/* kind of the open block */
	int			 block;		/* index of the open block */
	int			 nblocks;	/* blocks / items opened */
	int			 tool_block[XF_MAX_CALLS]; /* tool -> block */
	int			 include_usage;	/* chat: client asked */
	int			 ended;		/* last event written */
	int			 seq;		/* Responses sequence_number */
	struct xf_final		 final;		/* the reply so far */
	int			 keep;		/* fill final */
};

/* xform.c: the shared parts. */
const char	*xf_finish_name(enum relay_format, enum xf_finish);
enum xf_finish	 xf_finish_parse(const char *);
void		 xf_final_init(struct xf_final *);
void		 xf_final_free(struct xf_final *);
int		 xf_final_add(struct xf_final *, const struct xf_delta *);
void		 xf_usage_merge(struct usage *, const struct usage *);
void		 xf_make_id(char *, size_t, const char *);
char		*xf_error_message(const json_t *, const char *, size_t);
json_t		*xf_error_body(enum relay_format, int, const char *);
int		 xf_converts(enum relay_format);
int		 xf_final_deltas(const struct xf_final *, xf_delta_cb, void *);

/*
 * The dispatch, by format. A request: to_chat turns a client request into
 * the hub; from_chat turns the hub into an upstream request (stream says
 * whether to ask for a stream). A reply: parse_final reads an upstream
 * reply; write_final makes the client's reply. A stream: parse_event
 * reads one upstream event (its event: name, NULL for none, and data,
 * NULL when not JSON, with raw data in raw/rawlen); write_delta writes
 * one normalized delta for the client; write_end closes the client's
 * stream when the upstream ended without saying so.
 */
json_t	*xf_to_chat(enum relay_format, const json_t *, struct err *);
json_t	*xf_from_chat(enum relay_format, const json_t *, struct err *);
int	 xf_parse_final(enum relay_format, const json_t *, struct xf_final *,
	     struct err *);
json_t	*xf_write_final(enum relay_format, struct xf_final *);
void	 xf_parser_init(struct xf_parser *, enum relay_format);
void	 xf_parser_free(struct xf_parser *);
int	 xf_parse_event(struct xf_parser *, const char *, const json_t *,
	     const char *, size_t, xf_delta_cb, void *);
void	 xf_writer_init(struct xf_writer *, enum relay_format, const char *,
	     int);
void	 xf_writer_free(struct xf_writer *);
int	 xf_write_delta(struct xf_writer *, const struct xf_delta *,
	     struct buf *);
int	 xf_write_error(struct xf_writer *, const char *, struct buf *);

/* Per format, called through the dispatch above. */
json_t	*xf_chat_to_chat(const json_t *, struct err *);
json_t	*xf_chat_from_chat(const json_t *, struct err *);
json_t	*xf_chat_message(const struct xf_final *);
int	 xf_chat_parse_final(const json_t *, struct xf_final *, struct err *);
json_t	*xf_chat_write_final(struct xf_final *);
int	 xf_chat_parse_event(struct xf_parser *, const char *, const json_t *,
	     const char *, size_t, xf_delta_cb, void *);
int	 xf_chat_write_delta(struct xf_writer *, const struct xf_delta *,
	     struct buf *);
int	 xf_chat_write_error(struct xf_writer *, const char *, struct buf *);

json_t	*xf_messages_to_chat(const json_t *, struct err *);
json_t	*xf_messages_from_chat(const json_t *, struct err *);
int	 xf_messages_parse_final(const json_t *, struct xf_final *,
	     struct err *);
json_t	*xf_messages_write_final(struct xf_final *);
int	 xf_messages_parse_event(struct xf_parser *, const char *,
	     const json_t *, const char *, size_t, xf_delta_cb, void *);
int	 xf_messages_write_delta(struct xf_writer *, const struct xf_delta *,
	     struct buf *);
int	 xf_messages_write_error(struct xf_writer *, const char *,
	     struct buf *);

json_t	*xf_responses_to_chat(const json_t *, struct err *);
json_t	*xf_responses_from_chat(const json_t *, struct err *);
int	 xf_responses_parse_final(const json_t *, struct xf_final *,
	     struct err *);
json_t	*xf_responses_write_final(struct xf_final *);
int	 xf_responses_parse_event(struct xf_parser *, const char *,
	     const json_t *, const char *, size_t, xf_delta_cb, void *);
int	 xf_responses_write_delta(struct xf_writer *, const struct xf_delta *,
	     struct buf *);
int	 xf_responses_write_error(struct xf_writer *, const char *,
	     struct buf *);

#endif
