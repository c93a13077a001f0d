/*
 * Server-Sent Events: an incremental parser fed arbitrary byte chunks, and
 * a writer. Pure: no I/O, no threads, no globals.
 */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Default bound on one event, as received: 1 MiB. */
#define SSE_MAX_EVENT	(1024 * 1024)

/*
 * One complete event, borrowed for the callback's duration only.
 *
 * data is the event's data: lines joined with "\n" (no trailing "\n"),
 * NUL-terminated, data_len bytes long (it may hold NUL bytes). event is
 * the event: field, NULL when absent or empty (the spec's "message"). id
 * is the id: field of this event, NULL when it has none; the stream's
 * persistent "last event ID" is sse_last_id(). retry is this event's
 * retry: value in milliseconds, -1 when absent or not all digits.
 *
 * raw/raw_len are the event exactly as received, from the byte after the
 * previous blank line through its own terminating blank line, comments
 * included; raw_off is the stream offset of raw[0] (a leading BOM counts
 * in offsets but never appears in raw). Writing raw to a client forwards
 * the event unchanged. One exception: when a chunk ends between the "\r"
 * and the "\n" of the terminating blank line, the event is dispatched at
 * the "\r" and the "\n" is dropped; raw still ends with a complete blank
 * line, so what it says is the same.
 */
struct sse_event {
	const char	*event;		/* event type, NULL for default */
	const char	*data;		/* data lines joined with \n */
	size_t		 data_len;
	const char	*id;		/* id of this event, NULL when none */
	long long	 retry;		/* ms, -1 when none */
	const char	*raw;		/* the event's bytes as received */
	size_t		 raw_len;
	unsigned long long raw_off;	/* stream offset of raw[0] */
};

/*
 * Called once per complete event. Return 0 to go on; -1 stops the parse:
 * sse_feed returns -1 with the err the callback set (or a generic one).
 */
typedef int (*sse_event_cb)(const struct sse_event *, void *, struct err *);

/* Parser state; fields are private to sse.c. */
struct sse_parser {
	struct buf	 raw;		/* the event being received */
	struct buf	 data;		/* its data lines, built at dispatch */
	struct buf	 type;		/* its event: field */
	struct buf	 id;		/* its id: field */
	struct buf	 last_id;	/* the stream's last event ID */
	long long	 retry;		/* last valid retry:, -1 when none */
	unsigned long long off;		/* stream bytes seen, BOM included */
	unsigned long long raw_off;	/* stream offset of raw's first byte */
	size_t		 max;		/* bound on one event's raw bytes */
	int		 bom;		/* BOM bytes matched, 3 once past it */
	int		 flags;
#define SSE_BOL		0x1	/* at the beginning of a line */
#define SSE_CR		0x2	/* last byte was \r: a \n pairs with it */
#define SSE_FAILED	0x4	/* oversized event or stopped by callback */
};

void	 sse_init(struct sse_parser *, size_t);
void	 sse_free(struct sse_parser *);
int	 sse_feed(struct sse_parser *, const void *, size_t, sse_event_cb,
	     void *, struct err *);
int	 sse_finish(struct sse_parser *, struct err *);
const char *sse_last_id(const struct sse_parser *);

int	 sse_write_event(struct buf *, const char *, const char *);
int	 sse_write_comment(struct buf *, const char *);

#endif
