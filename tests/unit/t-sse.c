/*
 * SSE parser and writer. Every input in the table is fed whole, split at
 * every byte position, split at every pair of positions, and one byte at
 * a time; each way must give the same events, the same errors and the
 * same last event ID. Every event's raw bytes must be the input's bytes
 * at its offset, and end with a blank line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "sse.h"
#include "xmalloc.h"

#include "unit.h"

struct sse_case {
	const char	*name;
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	size_t		 max;		/* 0: SSE_MAX_EVENT */
	int		 stop;		/* callback fails at event N (from 1) */
	const char	*want;		/* events, errors, last ID, rendered */
	const char	*raws;		/* raw bytes of each event, fed whole */
};

/*
 * Rendering: one line per event "E=event I=id R=retry D=data", with "-"
 * for NULL and \n, \r and other control bytes escaped; "!feed CODE" when
 * a feed failed; then "finish=RV" and "last=ID".
 */
static const struct sse_case sse_cases[] = {
	{ "one event", "data: hello\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=hello\nfinish=0\nlast=-\n", "data: hello\\n\\n|" },
	{ "empty input", "", 0, 0, 0, "finish=0\nlast=-\n", "" },
	{ "multi-line data", "data: a\ndata: b\ndata\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=a\\nb\\n\nfinish=0\nlast=-\n", NULL },
	{ "two events", "event: a\ndata: 1\n\nevent: b\ndata: 2\n\n", 0, 0, 0,
	  "E=a I=- R=-1 D=1\nE=b I=- R=-1 D=2\nfinish=0\nlast=-\n",
	  "event: a\\ndata: 1\\n\\n|event: b\\ndata: 2\\n\\n|" },
	{ "crlf", "event: ping\r\ndata: x\r\n\r\ndata: y\r\n\r\n", 0, 0, 0,
	  "E=ping I=- R=-1 D=x\nE=- I=- R=-1 D=y\nfinish=0\nlast=-\n",
	  "event: ping\\r\\ndata: x\\r\\n\\r\\n|data: y\\r\\n\\r\\n|" },
	{ "cr only", "data: x\rdata: y\r\rdata: z\r\r", 0, 0, 0,
	  "E=- I=- R=-1 D=x\\ny\nE=- I=- R=-1 D=z\nfinish=0\nlast=-\n",
	  NULL },
	{ "mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\ndata: d\n\r",
	  0, 0, 0,
	  "E=- I=- R=-1 D=a\\nb\\nc\nE=- I=- R=-1 D=d\nfinish=0\nlast=-\n",
	  NULL },
	{ "lf after cr is one line end", "data: a\r\n\ndata: b\n\r\n", 0, 0, 0,
	  "E=- I=- R=-1 D=a\nE=- I=- R=-1 D=b\nfinish=0\nlast=-\n", NULL },
	{ "comments",
	  ": keep-alive\n\n: OPENROUTER PROCESSING\ndata: x\n\n:\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n",
	  ": OPENROUTER PROCESSING\\ndata: x\\n\\n|" },
	{ "no space after colon", "event:delta\ndata:{\"a\":1}\n\n", 0, 0, 0,
	  "E=delta I=- R=-1 D={\"a\":1}\nfinish=0\nlast=-\n", NULL },
	{ "only one space stripped", "data:  two\ndata:\tx\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D= two\\n\\tx\nfinish=0\nlast=-\n", NULL },
	{ "colon in value", "data: a: b:c\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=a: b:c\nfinish=0\nlast=-\n", NULL },
	{ "field without colon", "data\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=\nfinish=0\nlast=-\n", NULL },
	{ "empty data line", "data:\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=\nfinish=0\nlast=-\n", NULL },
	{ "no data, no event", "event: x\nid: 4\nretry: 9\n\ndata: y\n\n", 0,
	  0, 0, "E=- I=- R=-1 D=y\nfinish=0\nlast=4\n", NULL },
	{ "empty event name", "event:\ndata: x\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n", NULL },
	{ "last event field wins", "event: a\nevent: b\ndata: x\n\n", 0, 0, 0,
	  "E=b I=- R=-1 D=x\nfinish=0\nlast=-\n", NULL },
	{ "event type resets", "event: a\ndata: 1\n\ndata: 2\n\n", 0, 0, 0,
	  "E=a I=- R=-1 D=1\nE=- I=- R=-1 D=2\nfinish=0\nlast=-\n", NULL },
	{ "id and retry", "id: 7\nretry: 1500\ndata: x\n\ndata: y\n\n", 0, 0,
	  0, "E=- I=7 R=1500 D=x\nE=- I=- R=-1 D=y\nfinish=0\nlast=7\n",
	  NULL },
	{ "bad retry", "retry: 15x\ndata: a\n\nretry:\ndata: b\n\n"
	  "retry: 99999999999999999999\ndata: c\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=a\nE=- I=- R=-1 D=b\nE=- I=- R=-1 D=c\n"
	  "finish=0\nlast=-\n", NULL },
	{ "empty id", "id: 1\ndata: a\n\nid\ndata: b\n\n", 0, 0, 0,
	  "E=- I=1 R=-1 D=a\nE=- I= R=-1 D=b\nfinish=0\nlast=\n", NULL },
	{ "id with NUL ignored", "id: 1\ndata: a\n\nid: 2\0002\ndata: b\n\n",
	  32, 0, 0,
	  "E=- I=1 R=-1 D=a\nE=- I=- R=-1 D=b\nfinish=0\nlast=1\n", NULL },
	{ "NUL in data", "data: a\000b\n\n", 11, 0, 0,
	  "E=- I=- R=-1 D=a\\x00b\nfinish=0\nlast=-\n", NULL },
	{ "unknown and miscased fields", "foo: bar\nData: no\ndata: x\n\n"
	  "DATA: y\n\n", 0, 0, 0, "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n",
	  NULL },
	{ "leading blank lines", "\n\r\n\rdata: x\n\n\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n", "data: x\\n\\n|" },
	{ "bom", "\xef\xbb\xbf" "data: x\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n", "data: x\\n\\n|" },
	{ "bom then comment", "\xef\xbb\xbf: hi\ndata: x\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n", NULL },
	{ "only one bom", "\xef\xbb\xbf\xef\xbb\xbf" "data: x\n\ndata: y\n\n",
	  0, 0, 0, "E=- I=- R=-1 D=y\nfinish=0\nlast=-\n", NULL },
	{ "partial bom is data", "\xef\xbb" "data: x\n\ndata: y\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=y\nfinish=0\nlast=-\n", NULL },
	{ "bom bytes inside data", "data: \xef\xbb\xbfx\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D=\\xef\\xbb\\xbfx\nfinish=0\nlast=-\n", NULL },
	{ "utf-8 data", "event: 增量\ndata: {\"t\":\"你好，世界 🌍\"}\n\n", 0, 0,
	  0, "E=\\xe5\\xa2\\x9e\\xe9\\x87\\x8f I=- R=-1 "
	  "D={\"t\":\"\\xe4\\xbd\\xa0\\xe5\\xa5\\xbd\\xef\\xbc\\x8c\\xe4\\xb8"
	  "\\x96\\xe7\\x95\\x8c \\xf0\\x9f\\x8c\\x8d\"}\nfinish=0\nlast=-\n",
	  NULL },
	{ "openai chat stream",
	  "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"
	  "\n\n"
	  "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":3}}"
	  "\n\n"
	  "data: [DONE]\n\n", 0, 0, 0,
	  "E=- I=- R=-1 D={\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":"
	  "\"Hi\"}}]}\n"
	  "E=- I=- R=-1 D={\"id\":\"c1\",\"choices\":[],\"usage\":"
	  "{\"prompt_tokens\":3}}\n"
	  "E=- I=- R=-1 D=[DONE]\nfinish=0\nlast=-\n", NULL },
	{ "anthropic stream",
	  "event: message_start\r\n"
	  "data: {\"type\":\"message_start\"}\r\n\r\n"
	  "event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
	  "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
	  0, 0, 0,
	  "E=message_start I=- R=-1 D={\"type\":\"message_start\"}\n"
	  "E=ping I=- R=-1 D={\"type\": \"ping\"}\n"
	  "E=message_stop I=- R=-1 D={\"type\":\"message_stop\"}\n"
	  "finish=0\nlast=-\n", NULL },
	{ "truncated event", "data: x\n\ndata: y", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=-1 upstream\nlast=-\n", NULL },
	{ "truncated after a line", "data: x\n\nevent: e\ndata: y\n", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=-1 upstream\nlast=-\n", NULL },
	{ "truncated comment is clean", "data: x\n\n: ping", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n", NULL },
	{ "truncated partial bom", "\xef\xbb", 0, 0, 0,
	  "finish=-1 upstream\nlast=-\n", NULL },
	{ "ends with cr of blank line", "data: x\r\n\r", 0, 0, 0,
	  "E=- I=- R=-1 D=x\nfinish=0\nlast=-\n", "data: x\\r\\n\\r|" },
	{ "event at the maximum", "data: 12345678\n\ndata: 1\r\n\r\n", 0, 16,
	  0, "E=- I=- R=-1 D=12345678\nE=- I=- R=-1 D=1\nfinish=0\nlast=-\n",
	  NULL },
	{ "event past the maximum", "data: 1\n\ndata: 123456789\n\ndata: 2\n\n",
	  0, 16, 0, "E=- I=- R=-1 D=1\n!feed upstream\nfinish=-1 internal\n"
	  "last=-\n", NULL },
	{ "endless line", "data: 1\n\ndata: 0123456789abcdef0123456789", 0,
	  24, 0, "E=- I=- R=-1 D=1\n!feed upstream\nfinish=-1 internal\n"
	  "last=-\n", NULL },
	{ "endless comments", ": 0123456789\n: 0123456789\n: 0123456789\n",
	  0, 32, 0, "!feed upstream\nfinish=-1 internal\nlast=-\n", NULL },
	{ "callback stops", "data: 1\n\ndata: 2\n\ndata: 3\n\n", 0, 0, 2,
	  "E=- I=- R=-1 D=1\nE=- I=- R=-1 D=2\n!feed busy\n"
	  "finish=-1 internal\nlast=-\n", NULL },
};

/* What one run of a case produced. */
struct sse_run {
	const struct sse_case	*c;
	const char		*in;
	size_t			 len;
	struct buf		 out;	/* rendering */
	struct buf		 raws;	/* raw bytes of each event */
	int			 events;
	int			 bad_raw;	/* raw not the input's bytes */
};

static void
sse_escape(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			buf_addstr(b, "\\n");
		else if (p[i] == '\r')
			buf_addstr(b, "\\r");
		else if (p[i] == '\t')
			buf_addstr(b, "\\t");
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			buf_printf(b, "\\x%02x", p[i]);
		else
			buf_add(b, &p[i], 1);
	}
}

static void
sse_escape_str(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_addstr(b, "-");
	else
		sse_escape(b, s, strlen(s));
}

static int
sse_test_cb(const struct sse_event *ev, void *arg, struct err *e)
{
	struct sse_run	*r = arg;
	char		 last;

	r->events++;
	buf_addstr(&r->out, "E=");
	sse_escape_str(&r->out, ev->event);
	buf_addstr(&r->out, " I=");
	sse_escape_str(&r->out, ev->id);
	buf_printf(&r->out, " R=%lld D=", ev->retry);
	sse_escape(&r->out, ev->data, ev->data_len);
	buf_addstr(&r->out, "\n");
	if (ev->data[ev->data_len] != '\0')
		r->bad_raw = 1;

	sse_escape(&r->raws, ev->raw, ev->raw_len);
	buf_addstr(&r->raws, "|");
	if (ev->raw_len < 2 || ev->raw_off + ev->raw_len > r->len ||
	    memcmp(r->in + ev->raw_off, ev->raw, ev->raw_len) != 0)
		r->bad_raw = 1;
	else {
		last = ev->raw[ev->raw_len - 1];
		if (last != '\n' && last != '\r')
			r->bad_raw = 1;
	}
	if (r->c->stop != 0 && r->events == r->c->stop) {
		err_set(e, ERR_BUSY, "stop here");
		return (-1);
	}
	return (0);
}

/*
 * Run a case with the input cut at the given positions (ascending);
 * after a failed feed the rest is not fed, as a caller would stop.
 */
static void
sse_run(struct sse_run *r, const struct sse_case *c, const size_t *cuts,
    size_t ncuts)
{
	struct sse_parser	 p;
	struct err		 e = { ERR_OK, NULL };
	size_t			 at = 0, i, to;
	int			 rv;

	memset(r, 0, sizeof *r);
	r->c = c;
	r->in = c->in;
	r->len = c->len != 0 ? c->len : strlen(c->in);
	buf_init(&r->out, 1 << 20);
	buf_init(&r->raws, 1 << 20);
	sse_init(&p, c->max);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : r->len;
		if (sse_feed(&p, r->in + at, to - at, sse_test_cb, r,
		    &e) != 0) {
			buf_printf(&r->out, "!feed %s\n", err_name(e.code));
			break;
		}
		at = to;
	}
	err_clear(&e);
	e.code = ERR_OK;
	rv = sse_finish(&p, &e);
	buf_printf(&r->out, "finish=%d", rv);
	if (rv != 0)
		buf_printf(&r->out, " %s", err_name(e.code));
	buf_addstr(&r->out, "\nlast=");
	sse_escape_str(&r->out, sse_last_id(&p));
	buf_addstr(&r->out, "\n");
	err_clear(&e);
	sse_free(&p);
}

static void
sse_run_free(struct sse_run *r)
{
	buf_free(&r->out);
	buf_free(&r->raws);
}

/* Count a split run that differs from the whole one; print the first. */
static void
sse_compare(struct sse_run *r, const char *want, const char *how,
    int *bad)
{
	const char	*got = buf_cstr(&r->out);

	if (strcmp(got, want) == 0 && !r->bad_raw)
		return;
	if ((*bad)++ == 0) {
		printf("    %s: %s\n", r->c->name, how);
		printf("    got:  %s\n", got);
		printf("    want: %s\n", want);
		if (r->bad_raw)
			printf("    raw bytes not those of the input\n");
	}
}

static void
sse_case_run(const struct sse_case *c)
{
	struct sse_run	 r;
	size_t		 len, i, j, *cuts;
	char		 how[64];
	int		 bad = 0;

	unit_case("%s", c->name);
	len = c->len != 0 ? c->len : strlen(c->in);

	sse_run(&r, c, NULL, 0);
	CHECK_STR(buf_cstr(&r.out), c->want);
	CHECK(!r.bad_raw);
	if (c->raws != NULL)
		CHECK_STR(buf_cstr(&r.raws), c->raws);
	sse_run_free(&r);

	/* Every single cut and every pair of cuts. */
	for (i = 0; i <= len; i++) {
		for (j = i; j <= len; j++) {
			size_t	two[2] = { i, j };

			snprintf(how, sizeof how, "cut at %zu and %zu", i, j);
			sse_run(&r, c, two, 2);
			sse_compare(&r, c->want, how, &bad);
			sse_run_free(&r);
		}
	}
	/* One byte at a time. */
	if (len > 1) {
		cuts = xreallocarray(NULL, len - 1, sizeof *cuts);
		for (i = 0; i < len - 1; i++)
			cuts[i] = i + 1;
		sse_run(&r, c, cuts, len - 1);
		sse_compare(&r, c->want, "one byte at a time", &bad);
		sse_run_free(&r);
		free(cuts);
	}
	CHECK_INT(bad, 0);
	unit_case_end();
}

/* The writer: exact bytes, and what it writes parses back the same. */
static const struct {
	const char	*event;
	const char	*data;
	const char	*want;		/* NULL: refused */
} sse_write_cases[] = {
	{ NULL, "hello", "data: hello\n\n" },
	{ "message_start", "{\"type\":\"message_start\"}",
	  "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" },
	{ NULL, "a\nb\r\nc\rd", "data: a\ndata: b\ndata: c\ndata: d\n\n" },
	{ NULL, "", "data: \n\n" },
	{ NULL, NULL, "data: \n\n" },
	{ NULL, "\n", "data: \ndata: \n\n" },
	{ NULL, " lead", "data:  lead\n\n" },
	{ "error", "{\"error\":{\"message\":\"上游错误\"}}",
	  "event: error\ndata: {\"error\":{\"message\":\"上游错误\"}}\n\n" },
	{ "bad\nname", "x", NULL },
	{ "bad\rname", "x", NULL },
};

struct sse_one {
	int		 n;
	char		*event;
	char		*data;
};

static int
sse_one_cb(const struct sse_event *ev, void *arg, __unused struct err *e)
{
	struct sse_one	*o = arg;

	if (o->n++ == 0) {
		o->event = ev->event != NULL ? xstrdup(ev->event) : NULL;
		o->data = xstrndup(ev->data, ev->data_len);
	}
	return (0);
}

static void
sse_write_tests(void)
{
	struct buf	 b;
	struct sse_parser p;
	struct sse_one	 o;
	struct err	 e = { ERR_OK, NULL };
	const char	*want_data;
	size_t		 i;

	for (i = 0; i < nitems(sse_write_cases); i++) {
		unit_case("write %zu", i);
		buf_init(&b, 4096);
		buf_addstr(&b, "x");
		if (sse_write_cases[i].want == NULL) {
			CHECK_INT(sse_write_event(&b, sse_write_cases[i].event,
			    sse_write_cases[i].data), -1);
			CHECK_STR(buf_cstr(&b), "x");
			buf_free(&b);
			continue;
		}
		buf_reset(&b);
		CHECK_INT(sse_write_event(&b, sse_write_cases[i].event,
		    sse_write_cases[i].data), 0);
		CHECK_STR(buf_cstr(&b), sse_write_cases[i].want);

		/* Round trip (line breaks come back as \n). */
		memset(&o, 0, sizeof o);
		sse_init(&p, 0);
		CHECK_INT(sse_feed(&p, b.data, b.len, sse_one_cb, &o, &e), 0);
		CHECK_INT(sse_finish(&p, &e), 0);
		CHECK_INT(o.n, 1);
		CHECK_STR(o.event, sse_write_cases[i].event);
		want_data = sse_write_cases[i].data;
		if (want_data == NULL)
			want_data = "";
		if (strchr(want_data, '\r') == NULL)
			CHECK_STR(o.data, want_data);
		free(o.event);
		free(o.data);
		sse_free(&p);
		buf_free(&b);
	}
	unit_case_end();

	/* A full buffer refuses the event and keeps what it had. */
	buf_init(&b, 16);
	CHECK_INT(sse_write_event(&b, NULL, "0123456"), 0);
	CHECK_INT(b.len, 15);
	CHECK_INT(sse_write_event(&b, "e", "x"), -1);
	CHECK_INT(b.len, 15);
	CHECK_STR(buf_cstr(&b), "data: 0123456\n\n");
	buf_free(&b);

	buf_init(&b, 4096);
	CHECK_INT(sse_write_comment(&b, "keep-alive"), 0);
	CHECK_INT(sse_write_comment(&b, "a\nb"), 0);
	CHECK_INT(sse_write_event(&b, NULL, "z"), 0);
	CHECK_STR(buf_cstr(&b), ": keep-alive\n: a\n: b\ndata: z\n\n");
	memset(&o, 0, sizeof o);
	sse_init(&p, 0);
	CHECK_INT(sse_feed(&p, b.data, b.len, sse_one_cb, &o, &e), 0);
	CHECK_INT(o.n, 1);
	CHECK_STR(o.data, "z");
	free(o.event);
	free(o.data);
	sse_free(&p);
	buf_free(&b);
	err_clear(&e);
}

/* Offsets run across chunks and count the BOM. */
static void
sse_offset_tests(void)
{
	struct sse_run	 r;
	struct sse_case	 c;
	size_t		 cuts[] = { 2, 9, 20 };

	memset(&c, 0, sizeof c);
	c.name = "offsets";
	c.in = "\xef\xbb\xbf: c\n\ndata: a\n\nid: 9\ndata: b\n\n";
	sse_run(&r, &c, cuts, nitems(cuts));
	CHECK_STR(buf_cstr(&r.out),
	    "E=- I=- R=-1 D=a\nE=- I=9 R=-1 D=b\nfinish=0\nlast=9\n");
	CHECK_STR(buf_cstr(&r.raws), "data: a\\n\\n|id: 9\\ndata: b\\n\\n|");
	CHECK(!r.bad_raw);
	sse_run_free(&r);
}

/* After sse_finish the parser takes a new stream, BOM and all. */
static void
sse_restart_tests(void)
{
	struct sse_parser	 p;
	struct sse_one		 o;
	struct err		 e = { ERR_OK, NULL };

	memset(&o, 0, sizeof o);
	sse_init(&p, 0);
	CHECK_INT(sse_feed(&p, "id: 5\ndata: 1\n", 14, sse_one_cb, &o, &e), 0);
	CHECK_INT(sse_finish(&p, &e), -1);
	CHECK_SUB(e.msg, "ended inside an event");
	CHECK_INT(o.n, 0);
	CHECK_INT(sse_feed(&p, "\xef\xbb\xbf" "data: 2\n\n", 12, sse_one_cb,
	    &o, &e), 0);
	CHECK_INT(sse_finish(&p, &e), 0);
	CHECK_INT(o.n, 1);
	CHECK_STR(o.data, "2");
	/* The id of an event never completed is not the last event ID. */
	CHECK_STR(sse_last_id(&p), NULL);
	free(o.event);
	free(o.data);
	sse_free(&p);
	sse_free(NULL);
	err_clear(&e);
}

void
t_sse(void)
{
	size_t	i;

	for (i = 0; i < nitems(sse_cases); i++)
		sse_case_run(&sse_cases[i]);
	sse_write_tests();
	sse_offset_tests();
	sse_restart_tests();
}
