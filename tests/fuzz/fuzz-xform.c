/*
 * Fuzz harness for the format converters (src/xform*.c), for libFuzzer
 * (fuzz-xform) or the corpus replay of make check (replay-xform).
 *
 * Input layout: byte 0 is the selector, the rest is the input.
 *
 *   bits 0-1  the operation
 *             0 request: hub = xf_to_chat(FROM, input), then
 *               xf_from_chat(TO, hub); FROM 3 gives the input to
 *               xf_from_chat as the hub itself
 *             1 reply: xf_parse_final(FROM, input), then
 *               xf_write_final(TO, the reply)
 *             2 stream: the input is an upstream event stream in FROM,
 *               fed through the SSE parser; each event's data (JSON or
 *               not) goes to xf_parse_event and each delta to
 *               xf_write_delta of a TO writer; a stream that did not end
 *               the writer ends with xf_write_error
 *             3 error: xf_error_message(input as JSON, input as text),
 *               then xf_error_body(TO, status, message) and
 *               xf_write_error of a TO writer
 *   bits 2-3  FROM: 0 chat, 1 messages, 2 responses, 3 completions, a
 *             format with no converter that the dispatch must refuse
 *             (request: 3 is the hub, as said above)
 *             error: the status, 400, 429, 503 or 529
 *   bits 4-5  TO, the same way
 *   bit 6     stream: the Chat client asked for usage (include_usage)
 *             error: no text given, only the JSON
 *   bit 7     stream: byte 1 is an option byte, and the input starts
 *             after it: bits 0-5 N, fed in pieces of N bytes (0: whole),
 *             bit 6 the writer keeps the whole reply (keep), bit 7 end
 *             with xf_write_error even after a proper end; a stream fed
 *             in pieces is fed whole as well, and the parser must hand
 *             on the same deltas both times
 *             error: no JSON given, only the text
 *
 * So 0x00 is a Chat request to Chat, 0x05 a Messages reply written as
 * Chat, 0x1a a Responses stream written as Messages, 0xa2 (with an
 * option byte) a Chat stream written as Responses, 0x13 an upstream
 * error given to a Claude client with status 400.
 *
 * Input JSON is read with json_loadb(..., 0), as the daemon reads bodies.
 * Besides what ASan, UBSan and LeakSanitizer catch, these abort: a failed
 * conversion that sets no error; a result that is not a JSON object or
 * that json_dumps cannot write; a converter that changes its const input;
 * a reply in a converted format that xf_write_final makes nothing of; a
 * delta breaking xform.h's rules (one XF_D_START, tool indexes 0, 1, ...
 * in start order, a NULL text with a length); client stream output that
 * is not whole SSE events whose data is JSON or "[DONE]"; and a stream
 * that gives other deltas cut in pieces than whole.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "relay.h"
#include "sse.h"
#include "xform.h"

#include "fuzz.h"

/* Fixed id and time for the client side, as in t-xform.c. */
#define FX_ID		"fx_fuzz"
#define FX_CREATED	1700000000LL
#define FX_MODEL	"fuzz-model"
#define FX_OUT_MAX	(16 * 1024 * 1024)

static const enum relay_format fx_formats[4] = {
	RELAY_CHAT, RELAY_MESSAGES, RELAY_RESPONSES, RELAY_COMPLETIONS
};
static const int fx_statuses[4] = { 400, 429, 503, 529 };

/* A stream being converted: upstream parser, client writer, output. */
struct fx_stream {
	struct xf_parser	 p;
	struct xf_writer	 w;
	struct buf		 out;
	int			 started;	/* XF_D_START seen */
	int			 ntools;	/* XF_D_TOOL_START seen */
	struct buf		 trace;		/* every delta, flattened */
};

/* Read every byte of a borrowed text, for ASan to see its length. */
static void
fx_touch(const char *s, size_t n)
{
	volatile unsigned char	sum = 0;
	size_t			i;

	for (i = 0; i < n; i++)
		sum += (unsigned char)s[i];
	(void)sum;
}

/* The text of a JSON value, checking that it can be written. */
static char *
fx_dump(const json_t *j)
{
	char	*s;

	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	FUZZ_CHECK(s != NULL);
	return (s);
}

/* A converter's result: NULL with an error, or an object that dumps. */
static void
fx_result(const json_t *out, struct err *e)
{
	char	*s;

	if (out == NULL) {
		FUZZ_CHECK(e->code != ERR_OK && e->msg != NULL);
		return;
	}
	FUZZ_CHECK(json_is_object(out));
	s = fx_dump(out);
	free(s);
}

/* The input is unchanged: compare with its text from before. */
static void
fx_unchanged(const json_t *j, const char *before)
{
	char	*s;

	if (j == NULL)
		return;
	s = fx_dump(j);
	FUZZ_CHECK(strcmp(s, before) == 0);
	free(s);
}

static void
fx_request(const json_t *j, int from, enum relay_format to)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*hub, *out;
	char		*before, *hub_before;

	if (j == NULL)
		return;
	before = fx_dump(j);
	if (from == 3)
		hub = json_incref((json_t *)j);
	else {
		hub = xf_to_chat(fx_formats[from], j, &e);
		fx_unchanged(j, before);
		fx_result(hub, &e);
		err_clear(&e);
	}
	if (hub != NULL) {
		hub_before = fx_dump(hub);
		out = xf_from_chat(to, hub, &e);
		fx_unchanged(hub, hub_before);
		fx_result(out, &e);
		if (!xf_converts(to))
			FUZZ_CHECK(out == NULL);
		json_decref(out);
		err_clear(&e);
		free(hub_before);
	}
	fx_unchanged(j, before);
	json_decref(hub);
	free(before);
}

static void
fx_reply(const json_t *j, enum relay_format from, enum relay_format to)
{
	struct err	 e = { ERR_OK, NULL };
	struct xf_final	 f;
	json_t		*out;
	char		*before = NULL, *s;

	if (j != NULL)
		before = fx_dump(j);
	xf_final_init(&f);
	if (xf_parse_final(from, j, &f, &e) != 0) {
		FUZZ_CHECK(e.code != ERR_OK && e.msg != NULL);
	} else {
		FUZZ_CHECK(xf_converts(from));
		FUZZ_CHECK(f.ncalls <= XF_MAX_CALLS);
		out = xf_write_final(to, &f);
		if (xf_converts(to)) {
			FUZZ_CHECK(out != NULL && json_is_object(out));
			s = fx_dump(out);
			free(s);
		} else
			FUZZ_CHECK(out == NULL);
		json_decref(out);
	}
	fx_unchanged(j, before);
	xf_final_free(&f);
	err_clear(&e);
	free(before);
}

/* A text of a delta in the trace: its length and bytes, or "-". */
static void
fx_trace_text(struct buf *b, const char *s, size_t n)
{
	if (s == NULL)
		buf_addstr(b, "-|");
	else {
		buf_printf(b, "%zu:", n);
		buf_add(b, s, n);
	}
}

/* A delta as bytes, for comparing the deltas of two passes. */
static void
fx_trace(struct buf *b, const struct xf_delta *d)
{
	const struct usage	*u = d->usage;

	buf_printf(b, "%d|%d|%d|", (int)d->kind, d->index, (int)d->finish);
	fx_trace_text(b, d->text, d->len);
	fx_trace_text(b, d->id, d->id != NULL ? strlen(d->id) : 0);
	fx_trace_text(b, d->name, d->name != NULL ? strlen(d->name) : 0);
	fx_trace_text(b, d->model, d->model != NULL ? strlen(d->model) : 0);
	if (u != NULL)
		buf_printf(b, "%lld,%lld,%lld,%lld,%lld,%d|", u->prompt,
		    u->completion, u->cache_read, u->cache_write, u->reasoning,
		    u->source);
	buf_addstr(b, "\n");
}

/* The client's side: check what the parser hands on, then write it. */
static int
fx_delta(const struct xf_delta *d, void *arg)
{
	struct fx_stream	*st = arg;

	FUZZ_CHECK(d->kind >= XF_D_START && d->kind <= XF_D_DONE);
	if (d->text != NULL)
		fx_touch(d->text, d->len);
	else
		FUZZ_CHECK(d->len == 0);
	if (d->id != NULL)
		fx_touch(d->id, strlen(d->id));
	if (d->name != NULL)
		fx_touch(d->name, strlen(d->name));
	fx_trace(&st->trace, d);
	switch (d->kind) {
	case XF_D_START:
		FUZZ_CHECK(!st->started);
		st->started = 1;
		break;
	case XF_D_TOOL_START:
		FUZZ_CHECK(d->index == st->ntools);
		FUZZ_CHECK(d->index < XF_MAX_CALLS);
		st->ntools++;
		break;
	case XF_D_TOOL_ARGS:
		FUZZ_CHECK(d->index >= 0 && d->index < st->ntools);
		break;
	default:
		break;
	}
	return (xf_write_delta(&st->w, d, &st->out));
}

static int
fx_event(const struct sse_event *ev, void *arg, __unused struct err *e)
{
	struct fx_stream	*st = arg;
	json_t			*j;

	j = json_loadb(ev->data, ev->data_len, 0, NULL);
	xf_parse_event(&st->p, ev->event, j, ev->data, ev->data_len,
	    fx_delta, st);
	json_decref(j);
	return (0);
}

/* Each event the client gets: data that is JSON or "[DONE]". */
static int
fx_out_event(const struct sse_event *ev, __unused void *arg,
    __unused struct err *e)
{
	json_t	*j;

	if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0)
		return (0);
	j = json_loadb(ev->data, ev->data_len, 0, NULL);
	FUZZ_CHECK(j != NULL);
	json_decref(j);
	return (0);
}

/* The client's stream: whole events only. */
static void
fx_check_out(struct buf *out)
{
	struct sse_parser	 p;
	struct err		 e = { ERR_OK, NULL };

	sse_init(&p, FX_OUT_MAX);
	FUZZ_CHECK(sse_feed(&p, out->data != NULL ? out->data : "", out->len,
	    fx_out_event, NULL, &e) == 0);
	FUZZ_CHECK(sse_finish(&p, &e) == 0);
	sse_free(&p);
	err_clear(&e);
}

static void
fx_writer(struct fx_stream *st, enum relay_format to, int include_usage)
{
	xf_writer_init(&st->w, to, FX_MODEL, include_usage);
	strlcpy(st->w.id, FX_ID, sizeof st->w.id);
	st->w.created = FX_CREATED;
	buf_init(&st->out, FX_OUT_MAX);
}

/*
 * One pass over a stream, in pieces of step bytes (0: whole). The deltas
 * go into trace, which the caller frees; -1 when the SSE parser refused
 * the stream (an event over its bound).
 */
static int
fx_stream_pass(const uint8_t *in, size_t len, enum relay_format from,
    enum relay_format to, int include_usage, int opts, size_t step,
    struct buf *trace)
{
	struct fx_stream	 st;
	struct sse_parser	 sp;
	struct err		 e = { ERR_OK, NULL };
	size_t			 off, n, done;
	int			 rv = 0;

	memset(&st, 0, sizeof st);
	xf_parser_init(&st.p, from);
	fx_writer(&st, to, include_usage);
	st.w.keep = (opts & 0x40) != 0;
	buf_init(&st.trace, SIZE_MAX);
	sse_init(&sp, SSE_MAX_EVENT);
	if (step == 0)
		step = len > 0 ? len : 1;
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		if (sse_feed(&sp, in + off, n, fx_event, &st, &e) != 0) {
			rv = -1;
			break;
		}
	}
	if (sse_finish(&sp, &e) != 0)
		rv = -1;
	err_clear(&e);
	sse_free(&sp);
	/* Once the writer has ended, more writes are ignored. */
	done = st.w.ended ? st.out.len : SIZE_MAX;
	if (!st.w.ended || (opts & 0x80))
		xf_write_error(&st.w, "the upstream stream was cut short",
		    &st.out);
	FUZZ_CHECK(done == SIZE_MAX || st.out.len == done);
	fx_check_out(&st.out);
	xf_parser_free(&st.p);
	xf_writer_free(&st.w);
	buf_free(&st.out);
	*trace = st.trace;
	return (rv);
}

/*
 * A stream as the option byte says, and, when that was in pieces, whole
 * too: where the pieces end must make no difference to the deltas.
 */
static void
fx_stream(const uint8_t *in, size_t len, enum relay_format from,
    enum relay_format to, int include_usage, int opts)
{
	struct buf	cut, whole;
	size_t		step = opts & 0x3f;
	int		rc, rw;

	rc = fx_stream_pass(in, len, from, to, include_usage, opts, step,
	    &cut);
	if (step != 0 && step < len) {
		rw = fx_stream_pass(in, len, from, to, include_usage, opts, 0,
		    &whole);
		if (rc == 0 && rw == 0)
			FUZZ_CHECK(cut.len == whole.len && (cut.len == 0 ||
			    memcmp(cut.data, whole.data, cut.len) == 0));
		buf_free(&whole);
	}
	buf_free(&cut);
}

static void
fx_error(const uint8_t *in, size_t len, int status, enum relay_format to,
    int text, int json)
{
	struct fx_stream	 st;
	json_t			*j = NULL, *body;
	char			*msg, *raw = NULL, *s;

	if (json)
		j = json_loadb((const char *)in, len, 0, NULL);
	if (text) {
		/* A copy of its own, for ASan to see its end. */
		raw = malloc(len > 0 ? len : 1);
		FUZZ_CHECK(raw != NULL);
		memcpy(raw, in, len);
	}
	msg = xf_error_message(j, raw, raw != NULL ? len : 0);
	FUZZ_CHECK(msg != NULL);
	body = xf_error_body(to, status, msg);
	FUZZ_CHECK(body != NULL && json_is_object(body));
	s = fx_dump(body);
	free(s);
	json_decref(body);

	memset(&st, 0, sizeof st);
	fx_writer(&st, to, 0);
	xf_write_error(&st.w, msg, &st.out);
	fx_check_out(&st.out);
	xf_writer_free(&st.w);
	buf_free(&st.out);

	free(msg);
	free(raw);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	json_t			*j;
	int			 sel, op, from, to, opts = 0;

	if (!ready) {
		FUZZ_CHECK(sodium_init() >= 0);
		ready = 1;
	}
	if (size < 1)
		return (0);
	sel = data[0];
	data++;
	size--;
	op = sel & 3;
	from = (sel >> 2) & 3;
	to = (sel >> 4) & 3;
	switch (op) {
	case 0:
	case 1:
		j = json_loadb((const char *)data, size, 0, NULL);
		if (op == 0)
			fx_request(j, from, fx_formats[to]);
		else
			fx_reply(j, fx_formats[from], fx_formats[to]);
		json_decref(j);
		break;
	case 2:
		if (sel & 0x80) {
			if (size < 1)
				return (0);
			opts = data[0];
			data++;
			size--;
		}
		fx_stream(data, size, fx_formats[from], fx_formats[to],
		    (sel & 0x40) != 0, opts);
		break;
	default:
		fx_error(data, size, fx_statuses[from], fx_formats[to],
		    !(sel & 0x40), !(sel & 0x80));
		break;
	}
	return (0);
}
