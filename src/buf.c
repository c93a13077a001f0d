/*
 * Bounded byte buffers. Every buffer has a maximum: adding past it fails
 * and leaves the buffer unchanged, so callers turn "too big" into an error
 * instead of growing without bound (curl's dynbuf).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

/* Append n bytes; -1 when that would pass the maximum. Keeps a NUL after. */
int
buf_add(struct buf *b, const void *p, size_t n)
{
	size_t	need, cap;

	if (n > b->max || b->len > b->max - n)
		return (-1);
	need = b->len + n + 1;
	if (need > b->cap) {
		cap = b->cap != 0 ? b->cap : 256;
		while (cap < need)
			cap *= 2;
		b->data = xreallocarray(b->data, 1, cap);
		b->cap = cap;
	}
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return (0);
}

int
buf_addstr(struct buf *b, const char *s)
{
	return (buf_add(b, s, strlen(s)));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 rv;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	rv = buf_addstr(b, s);
	free(s);
	return (rv);
}

/* Drop the first n bytes. */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		if (b->data != NULL)
			b->data[0] = '\0';
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* The contents as a C string (empty string for an unused buffer). */
char *
buf_cstr(struct buf *b)
{
	if (b->data == NULL)
		buf_add(b, "", 0);
	return (b->data);
}
