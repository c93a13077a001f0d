/*
 * Fuzz harness for the SSE parser and writer (src/sse.c), for libFuzzer
 * (fuzz-sse) or the corpus replay of make check (replay-sse).
 *
 * Input layout:
 *   byte 0  bits 0-4: P, how the stream is cut: 0 feeds it whole in the
 *           second pass too; otherwise it goes in pieces of 1 to P bytes
 *           bits 5-7: M, the bound on one event: 16 << M bytes (32 to
 *           2048), or SSE_MAX_EVENT when M is 0
 *   byte 1  seeds the sequence of piece sizes
 *   the rest is the stream.
 * An input shorter than two bytes is fed whole with the default bound.
 *
 * One parser takes the stream twice: whole, then (after sse_finish, which
 * readies it for a new stream) in pieces. Every event must hold what
 * sse.h promises (the checks in fs_event), both passes must give the
 * same events and the same end, and every event written back with
 * sse_write_event must parse to the same event. An event of type "stop"
 * makes the callback fail with an error, "halt" without one.
 *
 * The one difference between the passes that sse.h allows: a piece that
 * ends between the "\r" and "\n" of the blank line ending an event
 * dispatches it at the "\r" and drops the "\n", so that event's raw is
 * one byte shorter, and an event one byte over the bound may then fit.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "sse.h"
#include "xmalloc.h"

#include "fuzz.h"

/* One event as seen: flattened for comparing passes, type and data. */
struct fs_seen {
	char	*s;
	size_t	 len;
	char	*type;		/* NULL: none */
	char	*data;		/* up to a NUL */
};

/* One pass over the stream. */
struct fs_pass {
	const struct sse_parser	*p;
	const uint8_t		*in;		/* the stream */
	size_t			 len;
	size_t			 max;		/* the bound on one event */
	unsigned long long	 next;		/* end of the last event */
	struct fs_seen		*ev;
	size_t			 nev;
	int			 failed;	/* a feed returned -1 */
	int			 finish;	/* what sse_finish returned */
};

/* Does s (n bytes) end with a line end? Its length if so, else 0. */
static size_t
fs_eol(const char *s, size_t n)
{
	if (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n')
		return (2);
	if (n >= 1 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		return (1);
	return (0);
}

/* Add a field to a flattened event: its length, then its bytes. */
static void
fs_field(struct buf *b, const char *s, size_t n)
{
	if (s == NULL)
		buf_addstr(b, "-|");
	else {
		buf_printf(b, "%zu:", n);
		buf_add(b, s, n);
	}
}

/* The checks on one event, and the record of it. */
static int
fs_event(const struct sse_event *ev, void *arg, struct err *e)
{
	struct fs_pass	*ps = arg;
	struct buf	 b;
	const char	*last;
	size_t		 n, raw_len;

	/* data: NUL-terminated, lines joined with \n, within raw. */
	FUZZ_CHECK(ev->data != NULL);
	FUZZ_CHECK(ev->data[ev->data_len] == '\0');
	FUZZ_CHECK(ev->data_len <= ev->raw_len);
	FUZZ_CHECK(memchr(ev->data, '\r', ev->data_len) == NULL);
	/*
	 * event: one line. (It is NULL when empty, but "event: " and a
	 * NUL byte gives "" as a C string: not checked.)
	 */
	if (ev->event != NULL)
		FUZZ_CHECK(ev->event[strcspn(ev->event, "\r\n")] == '\0');
	/* id: one line, and the stream's last ID from now on. */
	last = sse_last_id(ps->p);
	if (ev->id != NULL) {
		FUZZ_CHECK(ev->id[strcspn(ev->id, "\r\n")] == '\0');
		FUZZ_CHECK(last != NULL && strcmp(last, ev->id) == 0);
	}
	if (last != NULL)
		FUZZ_CHECK(last[strcspn(last, "\r\n")] == '\0');
	FUZZ_CHECK(ev->retry >= -1);
	/*
	 * raw: the stream's bytes at raw_off, after the last event, within
	 * the bound, ending with a blank line.
	 */
	FUZZ_CHECK(ev->raw != NULL && ev->raw_len > 0);
	FUZZ_CHECK(ev->raw_len <= ps->max);
	FUZZ_CHECK(ev->raw_off >= ps->next);
	FUZZ_CHECK(ev->raw_off <= ps->len && ev->raw_len <= ps->len -
	    ev->raw_off);
	FUZZ_CHECK(memcmp(ev->raw, ps->in + ev->raw_off, ev->raw_len) == 0);
	n = fs_eol(ev->raw, ev->raw_len);
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(fs_eol(ev->raw, ev->raw_len - n) > 0);
	ps->next = ev->raw_off + ev->raw_len;

	/* The record; a \n dropped after the final \r is no difference. */
	raw_len = ev->raw_len;
	if (fs_eol(ev->raw, raw_len) == 2)
		raw_len--;
	buf_init(&b, SIZE_MAX / 2);
	fs_field(&b, ev->event, ev->event != NULL ? strlen(ev->event) : 0);
	fs_field(&b, ev->id, ev->id != NULL ? strlen(ev->id) : 0);
	buf_printf(&b, "%lld|%llu|", ev->retry, ev->raw_off);
	fs_field(&b, ev->data, ev->data_len);
	fs_field(&b, ev->raw, raw_len);
	ps->ev = xreallocarray(ps->ev, ps->nev + 1, sizeof *ps->ev);
	ps->ev[ps->nev].s = b.data;
	ps->ev[ps->nev].len = b.len;
	ps->ev[ps->nev].type = ev->event != NULL && ev->event[0] != '\0' ?
	    xstrdup(ev->event) : NULL;
	ps->ev[ps->nev].data = xstrndup(ev->data, ev->data_len);
	ps->nev++;

	if (ev->event != NULL && strcmp(ev->event, "stop") == 0) {
		err_set(e, ERR_INVALID, "stopped by the callback");
		return (-1);
	}
	if (ev->event != NULL && strcmp(ev->event, "halt") == 0)
		return (-1);
	return (0);
}

/* After a failed feed: the error is told, and it sticks. */
static void
fs_failed(struct sse_parser *p, struct fs_pass *ps, struct err *e)
{
	FUZZ_CHECK(e->code != ERR_OK && e->msg != NULL);
	err_clear(e);
	ps->failed = 1;
	FUZZ_CHECK(sse_feed(p, "data: x\n\n", 9, fs_event, ps, e) == -1);
	FUZZ_CHECK(e->code != ERR_OK);
	err_clear(e);
}

/* Feed the stream whole (P 0) or in pieces of 1 to P bytes. */
static void
fs_run(struct sse_parser *p, struct fs_pass *ps, unsigned int pmax,
    uint32_t seed)
{
	struct err	 e = { ERR_OK, NULL };
	size_t		 off = 0, n;

	if (pmax == 0) {
		if (sse_feed(p, ps->in, ps->len, fs_event, ps, &e) != 0)
			fs_failed(p, ps, &e);
	} else {
		seed |= 1;
		while (off < ps->len && !ps->failed) {
			/* xorshift32 */
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			n = 1 + seed % pmax;
			if (n > ps->len - off)
				n = ps->len - off;
			if (sse_feed(p, ps->in + off, n, fs_event, ps,
			    &e) != 0)
				fs_failed(p, ps, &e);
			off += n;
		}
	}
	ps->finish = sse_finish(p, &e);
	FUZZ_CHECK(ps->finish == 0 || e.msg != NULL);
	err_clear(&e);
}

static int
fs_same(const struct fs_seen *a, const struct fs_seen *b)
{
	return (a->len == b->len && memcmp(a->s, b->s, a->len) == 0);
}

/*
 * Both passes give the same events. Where one failed (an event over the
 * bound, or the callback stopped) the one with fewer events must have
 * failed and its events must begin the other's; only the pieces may
 * avoid a failure of the whole (the dropped "\n"), never cause one.
 */
static void
fs_compare(const struct fs_pass *w, const struct fs_pass *c)
{
	const struct fs_pass	*fewer;
	size_t			 i, n;

	if (!w->failed)
		FUZZ_CHECK(!c->failed);
	if (!w->failed && !c->failed) {
		FUZZ_CHECK(w->nev == c->nev);
		FUZZ_CHECK(w->finish == c->finish);
	}
	fewer = w->nev <= c->nev ? w : c;
	n = fewer->nev;
	if (w->nev != c->nev)
		FUZZ_CHECK(fewer->failed);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(fs_same(&w->ev[i], &c->ev[i]));
}

/* Count events and check the one of a written event. */
struct fs_back {
	const char	*event;
	const char	*data;
	size_t		 n;
};

static int
fs_back_event(const struct sse_event *ev, void *arg, __unused struct err *e)
{
	struct fs_back	*bk = arg;

	bk->n++;
	if (bk->event == NULL)
		FUZZ_CHECK(ev->event == NULL);
	else
		FUZZ_CHECK(ev->event != NULL &&
		    strcmp(ev->event, bk->event) == 0);
	FUZZ_CHECK(ev->data_len == strlen(bk->data));
	FUZZ_CHECK(memcmp(ev->data, bk->data, ev->data_len) == 0);
	return (0);
}

/*
 * Write an event back with sse_write_event: it must parse to the same
 * type and data (up to a NUL, where the writer's strings end). The
 * same data as a comment must parse to nothing.
 */
static void
fs_write_back(const char *type, const char *data)
{
	struct sse_parser	 p;
	struct fs_back		 bk;
	struct err		 e = { ERR_OK, NULL };
	struct buf		 b;

	memset(&bk, 0, sizeof bk);
	bk.event = type;
	bk.data = data;
	buf_init(&b, 8 * strlen(data) + 8 * (type != NULL ? strlen(type) :
	    0) + 64);
	FUZZ_CHECK(sse_write_event(&b, type, data) == 0);
	sse_init(&p, b.len);
	FUZZ_CHECK(sse_feed(&p, b.data, b.len, fs_back_event, &bk, &e) == 0);
	FUZZ_CHECK(sse_finish(&p, &e) == 0);
	FUZZ_CHECK(bk.n == 1);
	sse_free(&p);

	buf_reset(&b);
	bk.n = 0;
	FUZZ_CHECK(sse_write_comment(&b, data) == 0);
	sse_init(&p, b.len);
	FUZZ_CHECK(sse_feed(&p, b.data, b.len, fs_back_event, &bk, &e) == 0);
	FUZZ_CHECK(sse_finish(&p, &e) == 0);
	FUZZ_CHECK(bk.n == 0);
	sse_free(&p);
	buf_free(&b);
	err_clear(&e);
}

/* Write back each event of a pass. */
static void
fs_write_all(const struct fs_pass *ps)
{
	size_t	i;

	for (i = 0; i < ps->nev; i++)
		fs_write_back(ps->ev[i].type, ps->ev[i].data);
}

static void
fs_pass_free(struct fs_pass *ps)
{
	size_t	i;

	for (i = 0; i < ps->nev; i++) {
		free(ps->ev[i].s);
		free(ps->ev[i].type);
		free(ps->ev[i].data);
	}
	free(ps->ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sse_parser	 p;
	struct fs_pass		 whole, cut;
	unsigned int		 pmax = 0, m = 0;
	uint32_t		 seed = 0;

	if (size >= 2) {
		pmax = data[0] & 0x1f;
		m = data[0] >> 5;
		seed = data[1] * 0x01000193u;
		data += 2;
		size -= 2;
	}
	memset(&whole, 0, sizeof whole);
	whole.p = &p;
	whole.in = data;
	whole.len = size;
	whole.max = m == 0 ? SSE_MAX_EVENT : (size_t)16 << m;
	cut = whole;

	sse_init(&p, whole.max);
	fs_run(&p, &whole, 0, seed);
	fs_run(&p, &cut, pmax, seed);
	sse_free(&p);
	fs_compare(&whole, &cut);
	fs_write_all(&whole);
	fs_pass_free(&whole);
	fs_pass_free(&cut);
	return (0);
}
