/*
 * Format conversion. Each tests/cases/xform/NAME.json file is one case:
 *
 *   {"info": "...",
 *    "kind": "request" | "hub" | "reply" | "stream" | "error",
 *    "from", "to": "chat" | "messages" | "responses" ("hub" for kind hub)
 *    "input": {...}         the request or reply body in format from;
 *                           error: {"status": N, "body": ...}
 *    "sse": "..."           stream: the upstream stream as received
 *    "include_usage": bool  stream to chat: the client asked for usage
 *    "model": "..."         the model the writer names (test-model)
 *    "expect": {...}        the result, matched as a subset
 *    "absent": ["a.0.b"]    paths that must not be in the result
 *    "expect_error": "..."  the conversion fails saying this
 *    "events": [{"event", "data"}]  stream: the client's events}
 *
 * request is xf_from_chat(to, xf_to_chat(from, input)), hub
 * xf_to_chat(from, input), reply xf_write_final(to, xf_parse_final(from,
 * input)). A stream is fed whole and then split at every byte, and each
 * split must give the same bytes. Ids and times are fixed: "xf_test"
 * ("resp_xf_test" for Responses) and 1700000000.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "sse.h"
#include "xform.h"
#include "xmalloc.h"

#include "unit.h"

#define XT_CREATED	1700000000LL

static const struct {
	const char		*name;
	enum relay_format	 f;
} xt_formats[] = {
	{ "chat", RELAY_CHAT },
	{ "messages", RELAY_MESSAGES },
	{ "responses", RELAY_RESPONSES },
};

static int
xt_format(const char *name, enum relay_format *f)
{
	size_t	i;

	for (i = 0; name != NULL && i < nitems(xt_formats); i++) {
		if (strcmp(name, xt_formats[i].name) == 0) {
			*f = xt_formats[i].f;
			return (0);
		}
	}
	return (-1);
}

static const char *
xt_id(enum relay_format f)
{
	return (f == RELAY_RESPONSES ? "resp_xf_test" : "xf_test");
}

/*
 * Is want a subset of got? On a mismatch *where names the first path
 * that differs.
 */
static int
xt_match(const json_t *want, const json_t *got, char *where, size_t size)
{
	const char	*k;
	json_t		*v;
	size_t		 i, n;

	if (json_is_object(want)) {
		if (!json_is_object(got))
			return (0);
		json_object_foreach((json_t *)want, k, v) {
			n = strlen(where);
			snprintf(where + n, size - n, ".%s", k);
			if (!xt_match(v, json_object_get(got, k), where, size))
				return (0);
			where[n] = '\0';
		}
		return (1);
	}
	if (json_is_array(want)) {
		if (!json_is_array(got) ||
		    json_array_size(got) != json_array_size(want)) {
			n = strlen(where);
			snprintf(where + n, size - n, " (length %zu, wanted %zu)",
			    json_array_size(got), json_array_size(want));
			return (0);
		}
		json_array_foreach((json_t *)want, i, v) {
			n = strlen(where);
			snprintf(where + n, size - n, ".%zu", i);
			if (!xt_match(v, json_array_get(got, i), where, size))
				return (0);
			where[n] = '\0';
		}
		return (1);
	}
	if (json_is_number(want) && json_is_number(got))
		return (fabs(json_number_value(want) -
		    json_number_value(got)) < 1e-9);
	return (got != NULL && json_equal(want, got));
}

/* The value at a dotted path (numbers index arrays), or NULL. */
static json_t *
xt_path(json_t *j, const char *path)
{
	char	*copy = xstrdup(path), *p = copy, *dot, *end;
	long	 i;

	while (j != NULL && p != NULL) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		if (json_is_array(j)) {
			i = strtol(p, &end, 10);
			j = *end == '\0' ? json_array_get(j, i) : NULL;
		} else
			j = json_object_get(j, p);
		p = dot;
	}
	free(copy);
	return (j);
}

static void
xt_check_json(const char *what, const json_t *c, json_t *got)
{
	char	 where[512] = "$";
	char	*s;
	json_t	*v;
	size_t	 i;

	if (!CHECK(got != NULL))
		return;
	if (!unit_ok(__FILE__, __LINE__, xt_match(json_object_get(c,
	    "expect"), got, where, sizeof where), what)) {
		s = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		printf("    differs at %s\n    got: %.3000s\n", where, s);
		free(s);
	}
	json_array_foreach(json_object_get(c, "absent"), i, v) {
		if (!unit_ok(__FILE__, __LINE__, xt_path(got,
		    json_string_value(v)) == NULL, "absent"))
			printf("    present: %s\n", json_string_value(v));
	}
}

static void
xt_check_error(const json_t *c, json_t *got, struct err *e)
{
	const char	*want = json_string_value(json_object_get(c,
			    "expect_error"));

	if (!unit_ok(__FILE__, __LINE__, got == NULL, "conversion fails")) {
		json_decref(got);
		return;
	}
	CHECK_SUB(e->msg, want);
}

static void
xt_request(const json_t *c, enum relay_format from, const char *to)
{
	struct err		 e = { ERR_OK, NULL };
	enum relay_format	 tf;
	json_t			*hub, *out = NULL;

	hub = xf_to_chat(from, json_object_get(c, "input"), &e);
	if (strcmp(to, "hub") == 0)
		out = hub;
	else if (xt_format(to, &tf) != 0)
		CHECK(!"a known \"to\" format");
	else if (hub != NULL) {
		out = xf_from_chat(tf, hub, &e);
		json_decref(hub);
	}
	if (json_object_get(c, "expect_error") != NULL)
		xt_check_error(c, out, &e);
	else {
		if (out == NULL)
			printf("    error: %s\n", e.msg);
		xt_check_json("request", c, out);
		json_decref(out);
	}
	err_clear(&e);
}

static void
xt_reply(const json_t *c, enum relay_format from, enum relay_format to)
{
	struct err	 e = { ERR_OK, NULL };
	struct xf_final	 f;
	json_t		*out = NULL;

	xf_final_init(&f);
	if (xf_parse_final(from, json_object_get(c, "input"), &f, &e) == 0) {
		free(f.id);
		f.id = xstrdup(xt_id(to));
		f.created = XT_CREATED;
		out = xf_write_final(to, &f);
	}
	if (json_object_get(c, "expect_error") != NULL)
		xt_check_error(c, out, &e);
	else {
		if (out == NULL)
			printf("    error: %s\n", e.msg);
		xt_check_json("reply", c, out);
		json_decref(out);
	}
	xf_final_free(&f);
	err_clear(&e);
}

/* A stream being converted: upstream parser, client writer, output. */
struct xt_stream {
	struct xf_parser	 p;
	struct xf_writer	 w;
	struct buf		 out;
};

static int
xt_delta(const struct xf_delta *d, void *arg)
{
	struct xt_stream	*st = arg;

	return (xf_write_delta(&st->w, d, &st->out));
}

static int
xt_event(const struct sse_event *ev, void *arg, __unused struct err *e)
{
	struct xt_stream	*st = arg;
	json_t			*j;

	j = json_loadb(ev->data, ev->data_len, 0, NULL);
	xf_parse_event(&st->p, ev->event, j, ev->data, ev->data_len,
	    xt_delta, st);
	json_decref(j);
	return (0);
}

/* Convert the stream fed in pieces of step bytes (0: whole). */
static char *
xt_convert(const json_t *c, enum relay_format from, enum relay_format to,
    size_t step)
{
	struct xt_stream	 st;
	struct sse_parser	 sp;
	struct err		 e = { ERR_OK, NULL };
	const char		*sse = json_string_value(json_object_get(c,
				    "sse"));
	const char		*model = json_string_value(json_object_get(c,
				    "model"));
	size_t			 len = strlen(sse), off, n;
	char			*s;

	xf_parser_init(&st.p, from);
	xf_writer_init(&st.w, to, model != NULL ? model : "test-model",
	    json_is_true(json_object_get(c, "include_usage")));
	strlcpy(st.w.id, xt_id(to), sizeof st.w.id);
	st.w.created = XT_CREATED;
	buf_init(&st.out, 16 * 1024 * 1024);
	sse_init(&sp, SSE_MAX_EVENT);
	if (step == 0)
		step = len > 0 ? len : 1;
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		sse_feed(&sp, sse + off, n, xt_event, &st, &e);
	}
	sse_finish(&sp, &e);
	err_clear(&e);
	sse_free(&sp);
	xf_parser_free(&st.p);
	xf_writer_free(&st.w);
	s = buf_cstr(&st.out);
	s = xstrdup(s != NULL ? s : "");
	buf_free(&st.out);
	return (s);
}

static int
xt_collect(const struct sse_event *ev, void *arg, __unused struct err *e)
{
	json_t	*events = arg, *o, *d;

	o = json_object();
	if (ev->event != NULL)
		json_object_set_new(o, "event", json_string(ev->event));
	d = json_loadb(ev->data, ev->data_len, 0, NULL);
	json_object_set_new(o, "data", d != NULL ? d :
	    json_stringn(ev->data, ev->data_len));
	json_array_append_new(events, o);
	return (0);
}

static void
xt_stream(const json_t *c, enum relay_format from, enum relay_format to)
{
	struct sse_parser	 sp;
	struct err		 e = { ERR_OK, NULL };
	char			*whole, *part, where[512] = "$";
	json_t			*events, *want = json_object_get(c, "events");
	size_t			 step, len, i, bad = 0;

	if (!CHECK(json_is_string(json_object_get(c, "sse"))))
		return;
	whole = xt_convert(c, from, to, 0);
	len = strlen(json_string_value(json_object_get(c, "sse")));
	for (step = 1; step < len && bad == 0; step++) {
		part = xt_convert(c, from, to, step);
		if (strcmp(part, whole) != 0)
			bad = step;
		free(part);
	}
	if (!unit_ok(__FILE__, __LINE__, bad == 0, "split streams agree"))
		printf("    fed %zu bytes at a time, the output differs\n", bad);
	events = json_array();
	sse_init(&sp, SSE_MAX_EVENT);
	sse_feed(&sp, whole, strlen(whole), xt_collect, events, &e);
	sse_free(&sp);
	err_clear(&e);
	if (!unit_ok(__FILE__, __LINE__, xt_match(want, events, where,
	    sizeof where), "stream events")) {
		printf("    differs at %s\n", where);
		json_array_foreach(events, i, want) {
			char *s = json_dumps(want, JSON_COMPACT |
			    JSON_SORT_KEYS);
			printf("    %zu: %.600s\n", i, s);
			free(s);
		}
	}
	json_decref(events);
	free(whole);
}

static void
xt_error(const json_t *c, enum relay_format to)
{
	const json_t	*in = json_object_get(c, "input"), *body;
	json_t		*out;
	char		*msg, *raw = NULL;

	body = json_object_get(in, "body");
	if (json_is_string(body))
		raw = xstrdup(json_string_value(body));
	msg = xf_error_message(json_is_object(body) ? body : NULL, raw,
	    raw != NULL ? strlen(raw) : 0);
	out = xf_error_body(to, (int)json_integer_value(json_object_get(in,
	    "status")), msg);
	xt_check_json("error", c, out);
	json_decref(out);
	free(msg);
	free(raw);
}

static void
xt_case(const char *path, const char *name)
{
	json_error_t		 jerr;
	json_t			*c;
	const char		*kind, *from, *to;
	enum relay_format	 ff = RELAY_CHAT, tf = RELAY_CHAT;

	unit_case("%s", name);
	c = json_load_file(path, 0, &jerr);
	if (!unit_ok(__FILE__, __LINE__, c != NULL, "case file is JSON")) {
		printf("    %s:%d: %s\n", name, jerr.line, jerr.text);
		unit_case_end();
		return;
	}
	kind = json_string_value(json_object_get(c, "kind"));
	from = json_string_value(json_object_get(c, "from"));
	to = json_string_value(json_object_get(c, "to"));
	if (kind == NULL || to == NULL || (strcmp(kind, "error") != 0 &&
	    xt_format(from, &ff) != 0) || (strcmp(kind, "hub") != 0 &&
	    strcmp(kind, "request") != 0 && xt_format(to, &tf) != 0)) {
		CHECK(!"kind, from and to are known");
	} else if (strcmp(kind, "request") == 0 || strcmp(kind, "hub") == 0)
		xt_request(c, ff, strcmp(kind, "hub") == 0 ? "hub" : to);
	else if (strcmp(kind, "reply") == 0)
		xt_reply(c, ff, tf);
	else if (strcmp(kind, "stream") == 0)
		xt_stream(c, ff, tf);
	else if (strcmp(kind, "error") == 0)
		xt_error(c, tf);
	else
		CHECK(!"a known kind");
	json_decref(c);
	unit_case_end();
}

/* Finish reasons in every format's words. */
static void
xt_finish(void)
{
	static const struct {
		const char	*word;
		enum xf_finish	 want;
	} cases[] = {
		{ "end_turn", XF_FINISH_STOP }, { "stop", XF_FINISH_STOP },
		{ "stop_sequence", XF_FINISH_STOP },
		{ "completed", XF_FINISH_STOP },
		{ "max_tokens", XF_FINISH_LENGTH },
		{ "length", XF_FINISH_LENGTH },
		{ "max_output_tokens", XF_FINISH_LENGTH },
		{ "tool_use", XF_FINISH_TOOL },
		{ "tool_calls", XF_FINISH_TOOL },
		{ "function_call", XF_FINISH_TOOL },
		{ "content_filter", XF_FINISH_FILTER },
		{ "refusal", XF_FINISH_FILTER },
		{ "failed", XF_FINISH_ERROR },
		{ "MAX_TOKENS", XF_FINISH_LENGTH },
		{ "over_max_context", XF_FINISH_LENGTH },
		{ "server_tool_use_done", XF_FINISH_TOOL },
		{ "whatever", XF_FINISH_STOP },
		{ "", XF_FINISH_NONE }, { NULL, XF_FINISH_NONE },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("finish %s", cases[i].word != NULL ? cases[i].word :
		    "NULL");
		CHECK_INT(xf_finish_parse(cases[i].word), cases[i].want);
		unit_case_end();
	}
	CHECK_STR(xf_finish_name(RELAY_MESSAGES, XF_FINISH_TOOL), "tool_use");
	CHECK_STR(xf_finish_name(RELAY_CHAT, XF_FINISH_LENGTH), "length");
	CHECK_STR(xf_finish_name(RELAY_RESPONSES, XF_FINISH_LENGTH),
	    "incomplete");
}

/* Bad input of every type to each converter: an error, never a crash. */
static void
xt_bad_types(void)
{
	static const char *const bodies[] = {
		"{}", "{\"messages\": 1}", "{\"messages\": [1, null, \"x\"]}",
		"{\"messages\": [{\"role\": 5, \"content\": {}}]}",
		"{\"input\": 7}", "{\"input\": [3, {\"type\": 4}]}",
		"{\"messages\": [{\"role\": \"user\", \"content\": [1, "
		"{\"type\": \"image\", \"source\": 3}]}], \"max_tokens\": 5}",
		"{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": "
		"[1, {\"function\": 2}]}], \"tools\": [1, {\"function\": 3}]}",
		"{\"system\": [1], \"messages\": [], \"max_tokens\": 1}",
		"{\"tools\": 1, \"tool_choice\": 2, \"stop\": 3, "
		"\"messages\": []}",
	};
	struct err	 e = { ERR_OK, NULL };
	json_t		*j, *hub, *out;
	size_t		 i, f, t;

	for (i = 0; i < nitems(bodies); i++) {
		j = json_loads(bodies[i], 0, NULL);
		for (f = 0; f < nitems(xt_formats); f++) {
			unit_case("bad body %zu from %s", i, xt_formats[f].name);
			hub = xf_to_chat(xt_formats[f].f, j, &e);
			CHECK(hub != NULL || e.msg != NULL);
			err_clear(&e);
			for (t = 0; hub != NULL && t < nitems(xt_formats);
			    t++) {
				out = xf_from_chat(xt_formats[t].f, hub, &e);
				json_decref(out);
				err_clear(&e);
			}
			json_decref(hub);
			/* The same body as a hub, straight out. */
			for (t = 0; t < nitems(xt_formats); t++) {
				out = xf_from_chat(xt_formats[t].f, j, &e);
				json_decref(out);
				err_clear(&e);
			}
			unit_case_end();
		}
		json_decref(j);
	}
}

void
t_xform(void)
{
	xt_finish();
	xt_bad_types();
	unit_case_files("xform", xt_case);
}
