/*
 * Server-Sent Events, as the WHATWG HTML standard ("Server-sent events",
 * the event stream interpretation) defines them. The parser takes bytes in
 * chunks of any size, split anywhere, and calls back once per complete
 * event; the writer formats one event into a bounded buffer. Both are
 * pure: this module does no I/O and holds no state outside its structs.
 *
 * How the parser works. Bytes are appended to a bounded raw buffer until
 * a blank line ends the event; only line ends are tracked while bytes
 * arrive. The complete event is then split into lines and fields in one
 * pass and handed to the callback with the raw bytes, so a relay can
 * forward exactly what upstream sent. Memory is bounded by the maximum
 * event size: the raw buffer stops at it, and the decoded buffers (data,
 * event type, id) are never larger than the raw one.
 *
 * Choices where the standard leaves room or a relay needs more:
 *   - Bytes are passed through as they are. The standard decodes UTF-8
 *     with replacement characters; here invalid sequences reach the
 *     callback unchanged (the JSON parser after us rejects them). Since
 *     only ASCII \r, \n and ':' are looked at, a chunk split inside a
 *     UTF-8 sequence needs no care.
 *   - An event larger than the maximum is an error, and a sticky one:
 *     part of an event cannot be forwarded or skipped safely (a dropped
 *     delta corrupts the answer), so the stream is to be abandoned.
 *   - At the end of the stream an event without its blank line is NOT
 *     dispatched: the standard says "If the file ends in the middle of an
 *     event, before the final empty line, the incomplete event is not
 *     dispatched." sse_finish discards it, and says so with an error, as
 *     a stream that stops mid-event was cut short.
 *   - Blocks with no data: line (comments alone, an event: alone) are not
 *     dispatched, as the standard says; their id: and retry: still count.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "sse.h"

static const char sse_bom[] = "\xef\xbb\xbf";

/* Prepare a parser; max bounds one event (0: SSE_MAX_EVENT). */
void
sse_init(struct sse_parser *p, size_t max)
{
	if (max == 0)
		max = SSE_MAX_EVENT;
	memset(p, 0, sizeof *p);
	p->max = max;
	buf_init(&p->raw, max);
	buf_init(&p->data, max);
	buf_init(&p->type, max);
	buf_init(&p->id, max);
	buf_init(&p->last_id, max);
	p->retry = -1;
	p->flags = SSE_BOL;
}

void
sse_free(struct sse_parser *p)
{
	if (p == NULL)
		return;
	buf_free(&p->raw);
	buf_free(&p->data);
	buf_free(&p->type);
	buf_free(&p->id);
	buf_free(&p->last_id);
}

/*
 * The stream's last event ID, NULL if never set: the standard's "last
 * event ID string", taken from an id: field when its event's blank line
 * arrives (even if that event has no data), kept across events.
 */
const char *
sse_last_id(const struct sse_parser *p)
{
	return (p->last_id.data);
}

/* Is f (n bytes) the field name want? */
static int
sse_field_is(const char *f, size_t n, const char *want)
{
	return (strlen(want) == n && memcmp(f, want, n) == 0);
}

/* retry: only ASCII digits; -1 otherwise or on overflow. */
static long long
sse_parse_retry(const char *v, size_t n)
{
	long long	r = 0;
	size_t		i;

	if (n == 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return (-1);
		if (r > (LLONG_MAX - (v[i] - '0')) / 10)
			return (-1);
		r = r * 10 + (v[i] - '0');
	}
	return (r);
}

/*
 * Apply one line of a complete event. The decoded buffers hold at most
 * the raw event's bytes, whose bound they share, so adding cannot fail.
 */
static void
sse_line(struct sse_parser *p, const char *s, size_t n, int *has_id,
    long long *retry)
{
	const char	*colon, *v;
	size_t		 fn, vn;
	long long	 r;

	if (n == 0 || s[0] == ':')
		return;
	if ((colon = memchr(s, ':', n)) != NULL) {
		fn = colon - s;
		v = colon + 1;
		vn = n - fn - 1;
		if (vn > 0 && *v == ' ') {
			v++;
			vn--;
		}
	} else {
		fn = n;
		v = s + n;
		vn = 0;
	}
	if (sse_field_is(s, fn, "data")) {
		buf_add(&p->data, v, vn);
		buf_add(&p->data, "\n", 1);
	} else if (sse_field_is(s, fn, "event")) {
		buf_reset(&p->type);
		buf_add(&p->type, v, vn);
	} else if (sse_field_is(s, fn, "id")) {
		/* An id holding NUL is ignored, as the standard says. */
		if (memchr(v, '\0', vn) != NULL)
			return;
		buf_reset(&p->id);
		buf_add(&p->id, v, vn);
		buf_reset(&p->last_id);
		buf_add(&p->last_id, v, vn);
		*has_id = 1;
	} else if (sse_field_is(s, fn, "retry")) {
		if ((r = sse_parse_retry(v, vn)) >= 0) {
			*retry = r;
			p->retry = r;
		}
	}
}

/*
 * The raw buffer holds one complete event ending with a blank line:
 * decode its fields and call back if it has data.
 */
static int
sse_dispatch(struct sse_parser *p, sse_event_cb cb, void *arg,
    struct err *e)
{
	struct sse_event	 ev;
	const char		*s = p->raw.data;
	size_t			 len = p->raw.len, i = 0, j;
	int			 has_id = 0, rv = 0;
	long long		 retry = -1;

	buf_reset(&p->data);
	buf_reset(&p->type);
	buf_reset(&p->id);
	while (i < len) {
		for (j = i; j < len && s[j] != '\r' && s[j] != '\n'; j++)
			/* nothing */;
		if (j == i)
			break;
		sse_line(p, s + i, j - i, &has_id, &retry);
		i = j + 1;
		if (j + 1 < len && s[j] == '\r' && s[j + 1] == '\n')
			i++;
	}
	if (p->data.len != 0) {
		/* Drop the \n after the last data line. */
		p->data.len--;
		p->data.data[p->data.len] = '\0';
		memset(&ev, 0, sizeof ev);
		ev.event = p->type.len != 0 ? buf_cstr(&p->type) : NULL;
		ev.data = p->data.data;
		ev.data_len = p->data.len;
		ev.id = has_id ? buf_cstr(&p->id) : NULL;
		ev.retry = retry;
		ev.raw = s;
		ev.raw_len = len;
		ev.raw_off = p->raw_off;
		if (cb(&ev, arg, e) != 0) {
			if (e->code == ERR_OK)
				err_set(e, ERR_INTERNAL,
				    "SSE event callback failed");
			p->flags |= SSE_FAILED;
			rv = -1;
		}
	}
	buf_reset(&p->raw);
	return (rv);
}

/* Append to the event being received; an oversized event is an error. */
static int
sse_append(struct sse_parser *p, const char *s, size_t n,
    unsigned long long off, struct err *e)
{
	if (n == 0)
		return (0);
	if (p->raw.len == 0)
		p->raw_off = off;
	if (buf_add(&p->raw, s, n) != 0) {
		err_set(e, ERR_UPSTREAM, "SSE event larger than %zu bytes",
		    p->max);
		p->flags |= SSE_FAILED;
		return (-1);
	}
	return (0);
}

/*
 * Take n bytes of the stream (after the BOM check). Runs of ordinary
 * bytes are appended in one go; \r and \n end lines, and a line end at
 * the beginning of a line is the blank line that completes an event.
 */
static int
sse_scan(struct sse_parser *p, const char *s, size_t n, sse_event_cb cb,
    void *arg, struct err *e)
{
	size_t	i = 0, j;

	while (i < n) {
		if (p->flags & SSE_CR) {
			p->flags &= ~SSE_CR;
			if (s[i] == '\n') {
				/*
				 * The \n of a \r\n: part of the current event,
				 * or dropped if the \r already completed one.
				 */
				if (p->raw.len != 0 &&
				    sse_append(p, s + i, 1, p->off + i, e) != 0)
					return (-1);
				i++;
				continue;
			}
		}
		for (j = i; j < n && s[j] != '\r' && s[j] != '\n'; j++)
			/* nothing */;
		if (j > i) {
			if (sse_append(p, s + i, j - i, p->off + i, e) != 0)
				return (-1);
			p->flags &= ~SSE_BOL;
			i = j;
			continue;
		}
		/* s[i] ends a line. */
		if (sse_append(p, s + i, 1, p->off + i, e) != 0)
			return (-1);
		if (s[i] == '\r') {
			if (i + 1 < n && s[i + 1] == '\n') {
				if (sse_append(p, s + i + 1, 1, p->off + i + 1,
				    e) != 0)
					return (-1);
				i++;
			} else if (i + 1 == n)
				p->flags |= SSE_CR;
		}
		i++;
		if (p->flags & SSE_BOL) {
			if (sse_dispatch(p, cb, arg, e) != 0) {
				p->off += i;
				return (-1);
			}
		} else
			p->flags |= SSE_BOL;
	}
	p->off += n;
	return (0);
}

/*
 * Feed a chunk of the stream; cb is called for every event it completes.
 * -1 when an event passes the maximum or the callback stopped; the parser
 * then stays failed. Events completed before the failure were delivered.
 */
int
sse_feed(struct sse_parser *p, const void *data, size_t len, sse_event_cb cb,
    void *arg, struct err *e)
{
	const char	*s = data;
	size_t		 k;

	if (p->flags & SSE_FAILED) {
		err_set(e, ERR_INTERNAL, "SSE stream already failed");
		return (-1);
	}
	/* One leading BOM is skipped; a partial match is ordinary data. */
	while (p->bom < 3 && len > 0) {
		if ((unsigned char)*s == (unsigned char)sse_bom[p->bom]) {
			p->bom++;
			p->off++;
			s++;
			len--;
			continue;
		}
		k = p->bom;
		p->bom = 3;
		if (k > 0) {
			p->off -= k;
			if (sse_scan(p, sse_bom, k, cb, arg, e) != 0)
				return (-1);
		}
	}
	if (len == 0)
		return (0);
	return (sse_scan(p, s, len, cb, arg, e));
}

/*
 * The stream has ended. An unfinished event is discarded, as the standard
 * says; if it had anything but comments the stream was cut short and -1
 * reports that. The parser is then ready for a new stream; like an
 * EventSource reconnecting, it keeps the last event ID and retry.
 */
int
sse_finish(struct sse_parser *p, struct err *e)
{
	const char	*s = p->raw.data;
	size_t		 len = p->raw.len, i = 0, j;
	int		 rv = 0;

	if (p->flags & SSE_FAILED) {
		err_set(e, ERR_INTERNAL, "SSE stream already failed");
		rv = -1;
	} else if (p->bom > 0 && p->bom < 3) {
		err_set(e, ERR_UPSTREAM, "SSE stream ended inside an event");
		rv = -1;
	}
	while (rv == 0 && i < len) {
		for (j = i; j < len && s[j] != '\r' && s[j] != '\n'; j++)
			/* nothing */;
		if (j > i && s[i] != ':') {
			err_set(e, ERR_UPSTREAM, "SSE stream ended inside an "
			    "event (%zu bytes discarded)", len);
			rv = -1;
		}
		i = j + 1;
	}
	buf_reset(&p->raw);
	p->off = p->raw_off = 0;
	p->bom = 0;
	p->flags = SSE_BOL;
	return (rv);
}

/* Add the lines of text, each after prefix and ending with \n. */
static int
sse_write_lines(struct buf *b, const char *prefix, const char *text)
{
	const char	*s = text;
	size_t		 n;

	for (;;) {
		n = strcspn(s, "\r\n");
		if (buf_addstr(b, prefix) != 0 || buf_add(b, s, n) != 0 ||
		    buf_add(b, "\n", 1) != 0)
			return (-1);
		s += n;
		if (*s == '\0')
			return (0);
		if (s[0] == '\r' && s[1] == '\n')
			s++;
		s++;
	}
}

/*
 * Append one event: "event: NAME" when event is not NULL, then one
 * "data: " line per line of data (\n, \r\n or \r separate them; NULL
 * counts as ""), then the blank line. -1 if the name holds a line break
 * or the buffer's maximum would be passed; the buffer is then unchanged.
 */
int
sse_write_event(struct buf *b, const char *event, const char *data)
{
	size_t	old = b->len;

	if (event != NULL && event[strcspn(event, "\r\n")] != '\0')
		return (-1);
	if (event != NULL && sse_write_lines(b, "event: ", event) != 0)
		goto fail;
	if (sse_write_lines(b, "data: ", data != NULL ? data : "") != 0 ||
	    buf_add(b, "\n", 1) != 0)
		goto fail;
	return (0);
fail:
	b->len = old;
	if (b->data != NULL)
		b->data[old] = '\0';
	return (-1);
}

/*
 * Append a comment (": text"), which clients ignore: keep-alives. Each
 * line of text becomes its own comment line; no blank line follows.
 */
int
sse_write_comment(struct buf *b, const char *text)
{
	size_t	old = b->len;

	if (sse_write_lines(b, ": ", text != NULL ? text : "") != 0) {
		b->len = old;
		if (b->data != NULL)
			b->data[old] = '\0';
		return (-1);
	}
	return (0);
}
