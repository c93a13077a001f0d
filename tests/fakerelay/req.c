/*
 * One HTTP request and its reply. It owns reading the (bounded) body,
 * header, query and cookie access, the buffered reply that faults may
 * still rewrite, and the SSE writer that applies stream faults (slow
 * frames, a cut after two frames, an in-band error). It must not touch
 * the state: callers pass in whatever the reply needs.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakerelay.h"

static int
req_read_body(struct req *r, size_t max)
{
	long long	 want = r->ri->content_length;
	size_t		 cap, len = 0;
	char		*buf;
	int		 n;

	if (want > (long long)max)
		return (-1);
	cap = want > 0 ? (size_t)want + 1 : 4096;
	if ((buf = malloc(cap)) == NULL)
		abort();
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1) {
				free(buf);
				return (-1);
			}
			cap *= 2;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		n = mg_read(r->conn, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
		if (len > max) {
			free(buf);
			return (-1);
		}
	}
	buf[len] = '\0';
	r->body = buf;
	r->bodylen = len;
	return (0);
}

/*
 * Fill r from the connection. Returns -1 if the body is larger than max:
 * the caller answers 413 and stops.
 */
int
req_init(struct req *r, struct mg_connection *conn, size_t max)
{
	json_error_t	 err;
	const char	*p;
	size_t		 i;

	memset(r, 0, sizeof *r);
	r->conn = conn;
	r->ri = mg_get_request_info(conn);
	r->p = persona_get();
	r->status = 200;
	snprintf(r->method, sizeof r->method, "%s",
	    r->ri->request_method != NULL ? r->ri->request_method : "GET");
	p = r->ri->local_uri != NULL ? r->ri->local_uri : "/";
	snprintf(r->path, sizeof r->path, "%s", p);
	r->query = r->ri->query_string != NULL ? r->ri->query_string : "";
	if (req_read_body(r, max) != 0)
		return (-1);
	for (i = 0; i < r->bodylen; i++) {
		if (r->body[i] != ' ' && r->body[i] != '\n' &&
		    r->body[i] != '\r' && r->body[i] != '\t')
			break;
	}
	if (i < r->bodylen) {
		r->json = json_loadb(r->body, r->bodylen, 0, &err);
		if (r->json == NULL)
			r->json_bad = 1;
	}
	return (0);
}

void
req_free(struct req *r)
{
	free(r->body);
	json_decref(r->json);
	json_decref(r->fault);
	free(r->ctype);
	free(r->hdrs);
	free(r->out);
}

const char *
req_header(struct req *r, const char *name)
{
	return (mg_get_header(r->conn, name));
}

/* Copy a query parameter into buf; returns its length or -1 if absent. */
int
req_query(struct req *r, const char *name, char *buf, size_t len)
{
	int	n;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	n = mg_get_var(r->query, strlen(r->query), name, buf, len);
	if (n < 0) {
		buf[0] = '\0';
		return (-1);
	}
	return (n);
}

long long
req_query_int(struct req *r, const char *name, long long dflt)
{
	char	 buf[32], *end;
	long long v;

	if (req_query(r, name, buf, sizeof buf) <= 0)
		return (dflt);
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return (dflt);
	return (v);
}

int
req_cookie(struct req *r, const char *name, char *buf, size_t len)
{
	const char	*h = req_header(r, "Cookie");

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	if (h == NULL)
		return (-1);
	if (mg_get_cookie(h, name, buf, len) < 0) {
		buf[0] = '\0';
		return (-1);
	}
	return (0);
}

/* A string field of the JSON body, or NULL. */
const char *
req_body_str(struct req *r, const char *key)
{
	json_t	*v = json_object_get(r->json, key);

	return (json_is_string(v) ? json_string_value(v) : NULL);
}

void
req_add_header(struct req *r, const char *name, const char *value)
{
	char	*n;

	if (asprintf(&n, "%s%s: %s\r\n", r->hdrs != NULL ? r->hdrs : "",
	    name, value) == -1)
		abort();
	free(r->hdrs);
	r->hdrs = n;
}

void
req_reply(struct req *r, int status, const char *ctype, const char *body,
    size_t len)
{
	free(r->out);
	free(r->ctype);
	if ((r->out = malloc(len + 1)) == NULL)
		abort();
	memcpy(r->out, body, len);
	r->out[len] = '\0';
	r->outlen = r->sendlen = len;
	if ((r->ctype = strdup(ctype)) == NULL)
		abort();
	r->status = status;
	r->replied = 1;
}

char *
req_dump(const json_t *j)
{
	char	*s;

	if (j == NULL)
		s = strdup("null");
	else
		s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_REAL_PRECISION(15));
	if (s == NULL)
		abort();
	return (s);
}

/* Buffer a JSON reply; steals j. */
void
req_reply_json(struct req *r, int status, json_t *j)
{
	char	*s = req_dump(j);

	req_reply(r, status, "application/json; charset=utf-8", s, strlen(s));
	free(s);
	json_decref(j);
}

void
req_reply_text(struct req *r, int status, const char *ctype,
    const char *text)
{
	req_reply(r, status, ctype, text, strlen(text));
}

/*
 * Our own Date header: civetweb's fallback uses gmtime(3), which is not
 * thread-safe. It follows the fake clock (POST /__fake/clock), so a test
 * can show metapi a site whose clock differs from ours.
 */
static void
req_date(struct req *r)
{
	char		buf[64];
	time_t		t = (time_t)state_now();
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	mg_response_header_add(r->conn, "Date", buf, -1);
}

/* Put the buffered reply on the wire. sendlen < outlen cuts the body. */
void
req_flush(struct req *r)
{
	char	len[32];
	size_t	off, n;

	if (r->streaming || !r->replied)
		return;
	mg_response_header_start(r->conn, r->status);
	mg_response_header_add(r->conn, "Content-Type", r->ctype, -1);
	snprintf(len, sizeof len, "%zu", r->outlen);
	mg_response_header_add(r->conn, "Content-Length", len, -1);
	if (r->hdrs != NULL)
		mg_response_header_add_lines(r->conn, r->hdrs);
	/* A cut or trickled reply ends with the connection, as ever. */
	if (!fakerelay_keep_alive || r->sendlen != r->outlen ||
	    r->trickle_ms > 0)
		mg_response_header_add(r->conn, "Connection", "close", -1);
	req_date(r);
	mg_response_header_send(r->conn);
	if (r->trickle_ms > 0 && strcmp(r->method, "HEAD") != 0) {
		/* The "trickle" fault: 8 bytes at a time; stops if cut off. */
		for (off = 0; off < r->sendlen; off += n) {
			n = r->sendlen - off < 8 ? r->sendlen - off : 8;
			if (mg_write(r->conn, r->out + off, n) != (int)n)
				break;
			req_sleep_ms(r->trickle_ms);
		}
	} else if (r->sendlen > 0 && strcmp(r->method, "HEAD") != 0)
		mg_write(r->conn, r->out, r->sendlen);
	r->streaming = 1;
}

/*
 * Write a reply exactly as given, in pieces: the body is cut at each
 * offset of cuts (ascending), with ms between the pieces. Each piece is
 * its own send(2), and the listener has TCP_NODELAY, so the peer reads
 * them apart. The headers are the caller's (r->hdrs) and a Date; a
 * Content-Length only for a body that is not an event stream and when
 * the caller gave none; the connection closes after it.
 */
void
req_send_pieces(struct req *r, int status, const char *body, size_t len,
    const size_t *cuts, size_t ncuts, long long ms)
{
	char	lenbuf[32];
	size_t	off = 0, end, i;

	r->status = status;
	r->replied = 0;
	r->streaming = 1;	/* req_flush() has nothing more to do */
	mg_response_header_start(r->conn, status);
	if (r->hdrs != NULL)
		mg_response_header_add_lines(r->conn, r->hdrs);
	if ((r->hdrs == NULL || strcasestr(r->hdrs, "Content-Length:") ==
	    NULL) && (r->hdrs == NULL || strcasestr(r->hdrs,
	    "text/event-stream") == NULL)) {
		snprintf(lenbuf, sizeof lenbuf, "%zu", len);
		mg_response_header_add(r->conn, "Content-Length", lenbuf, -1);
	}
	mg_response_header_add(r->conn, "Connection", "close", -1);
	req_date(r);
	if (mg_response_header_send(r->conn) != 0)
		return;
	for (i = 0; i <= ncuts; i++) {
		end = i < ncuts && cuts[i] < len ? cuts[i] : len;
		if (end > off && mg_write(r->conn, body + off, end - off) !=
		    (int)(end - off)) {
			r->cut = 1;
			return;
		}
		off = end;
		if (i < ncuts)
			req_sleep_ms(ms);
	}
}

void
req_sleep_ms(long long ms)
{
	struct timespec	ts;

	if (ms <= 0)
		return;
	if (ms > 600000)
		ms = 600000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Send SSE headers; the body then ends when the connection closes. */
int
req_stream_start(struct req *r, const char *ctype)
{
	r->status = 200;
	mg_response_header_start(r->conn, 200);
	mg_response_header_add(r->conn, "Content-Type", ctype, -1);
	mg_response_header_add(r->conn, "Cache-Control", "no-cache", -1);
	mg_response_header_add(r->conn, "X-Accel-Buffering", "no", -1);
	if (r->hdrs != NULL)
		mg_response_header_add_lines(r->conn, r->hdrs);
	mg_response_header_add(r->conn, "Connection", "close", -1);
	req_date(r);
	if (mg_response_header_send(r->conn) != 0)
		return (-1);
	r->streaming = 1;
	return (0);
}

static int
req_write(struct req *r, const char *s, size_t len)
{
	if (mg_write(r->conn, s, len) != (int)len) {
		r->cut = 1;
		return (-1);
	}
	return (0);
}

/* The in-band error a stream ends with under the "error_event" fault. */
static void
req_sse_error(struct req *r)
{
	static const char *frames[] = {
		[SSE_OPENAI] = "data: {\"error\":{\"message\":\"upstream stream "
		    "error\",\"type\":\"server_error\",\"param\":null,"
		    "\"code\":\"stream_error\"}}\n\n",
		[SSE_ANTHROPIC] = "event: error\ndata: {\"type\":\"error\","
		    "\"error\":{\"type\":\"overloaded_error\",\"message\":"
		    "\"Overloaded\"}}\n\n",
		[SSE_RESPONSES] = "event: error\ndata: {\"type\":\"error\","
		    "\"code\":\"server_error\",\"message\":\"upstream stream "
		    "error\",\"param\":null,\"sequence_number\":99}\n\n",
	};

	const char	*msg;
	json_t		*d;
	char		*s, *frame;

	msg = json_string_value(json_object_get(r->fault, "message"));
	if (msg == NULL) {
		req_write(r, frames[r->sse_kind], strlen(frames[r->sse_kind]));
		return;
	}
	/* The same shapes with the fault's own words (an echoed key...). */
	if (r->sse_kind == SSE_ANTHROPIC)
		d = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
		    "type", "overloaded_error", "message", msg);
	else if (r->sse_kind == SSE_RESPONSES)
		d = json_pack("{s:s, s:s, s:s, s:n, s:i}", "type", "error",
		    "code", "server_error", "message", msg, "param",
		    "sequence_number", 99);
	else
		d = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message",
		    msg, "type", "server_error", "param", "code",
		    "stream_error");
	s = req_dump(d);
	json_decref(d);
	if (asprintf(&frame, "%sdata: %s\n\n", r->sse_kind == SSE_OPENAI ?
	    "" : "event: error\n", s) == -1)
		abort();
	req_write(r, frame, strlen(frame));
	free(frame);
	free(s);
}

/*
 * The frame with "x_sent_us" first in its JSON: the monotonic clock, in
 * microseconds, when it is written. The benchmark's client subtracts it
 * from the arrival time: the delivery delay of each event, free of the
 * pacing jitter that gaps between events carry. NULL for a frame without
 * a JSON object (the [DONE]), which goes as it is.
 */
static char *
req_sse_stamp(const char *frame)
{
	struct timespec	 ts;
	const char	*brace;
	char		*out;

	if ((brace = strstr(frame, "data: {")) == NULL)
		return (NULL);
	brace += strlen("data: {");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (asprintf(&out, "%.*s\"x_sent_us\":%lld%s%s", (int)(brace - frame),
	    frame, (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
	    *brace == '}' ? "" : ",", brace) == -1)
		abort();
	return (out);
}

/*
 * Write one frame, applying stream faults first. Returns -1 once the
 * stream is over (cut by a fault or a dead client): the generator stops
 * and does not bill.
 */
int
req_sse_raw(struct req *r, const char *frame)
{
	const char	*kind;
	char		*stamped = NULL;
	int		 rc;

	if (r->cut)
		return (-1);
	if (r->fault != NULL) {
		kind = json_string_value(json_object_get(r->fault, "kind"));
		if (kind != NULL && strcmp(kind, "slow_stream") == 0)
			req_sleep_ms(json_integer_value(json_object_get(
			    r->fault, "delay_ms")));
		if (kind != NULL && r->chunks >= 2 &&
		    (strcmp(kind, "reset") == 0 ||
		    strcmp(kind, "stream_abort") == 0)) {
			r->cut = 1;
			return (-1);
		}
		if (kind != NULL && r->chunks >= 2 &&
		    strcmp(kind, "endless") == 0) {
			/* This frame again and again, until the peer goes. */
			while (req_write(r, frame, strlen(frame)) == 0)
				req_sleep_ms(json_integer_value(json_object_get(
				    r->fault, "delay_ms")));
			return (-1);
		}
		if (kind != NULL && r->chunks >= 2 &&
		    strcmp(kind, "error_event") == 0) {
			req_sse_error(r);
			r->cut = 1;
			return (-1);
		}
	}
	if (r->fault != NULL && json_is_true(json_object_get(r->fault, "stamp")) &&
	    (stamped = req_sse_stamp(frame)) != NULL)
		frame = stamped;
	rc = req_write(r, frame, strlen(frame));
	free(stamped);
	if (rc != 0)
		return (-1);
	r->chunks++;
	return (0);
}

/* One "event: x\ndata: {...}\n\n" frame (no event line if ev is NULL). */
int
req_sse(struct req *r, const char *ev, json_t *data)
{
	char	*s, *frame;
	int	 rc;

	s = req_dump(data);
	json_decref(data);
	if (ev != NULL)
		rc = asprintf(&frame, "event: %s\ndata: %s\n\n", ev, s);
	else
		rc = asprintf(&frame, "data: %s\n\n", s);
	free(s);
	if (rc == -1)
		abort();
	rc = req_sse_raw(r, frame);
	free(frame);
	return (rc);
}
