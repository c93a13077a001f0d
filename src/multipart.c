/*
 * A multipart/form-data parser that works as the body streams in, so
 * that an upload goes to disk piece by piece and is never held whole.
 * It knows the framing only (boundaries, each part's headers); what a
 * part means and where its bytes go is the caller's, through two
 * callbacks. Pure: no I/O. Memory is bounded by the largest piece fed
 * plus one part's headers (MULTIPART_HEADER_MAX).
 *
 * The delimiter is CRLF "--" boundary; the body is taken as if a CRLF
 * came before it, so the first boundary line needs no special case.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "multipart.h"
#include "xmalloc.h"

/* Room for the pieces fed (the caller reads 16 KiB at a time) and more. */
#define MULTIPART_IN_MAX	(4 * 1024 * 1024)

enum multipart_state {
	MULTIPART_PREAMBLE,	/* before the first boundary */
	MULTIPART_DELIM,	/* just after a boundary */
	MULTIPART_HEADERS,	/* a part's header block */
	MULTIPART_BODY,		/* a part's body */
	MULTIPART_EPILOGUE	/* after the closing boundary */
};

/* One step of a state: 1 progress, 0 wants more bytes, -1 failed. */
typedef int	(*multipart_step_cb)(struct multipart *, char **);

/*
 * The boundary parameter of a Content-Type, into out: 0, or -1 when the
 * type is not multipart/form-data or has no usable boundary (1 to 70
 * characters, RFC 2046).
 */
int
multipart_boundary(const char *ctype, char *out, size_t len)
{
	const char	*p;
	size_t		 n = 0;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return (-1);
	for (p = ctype + 19; (p = strchr(p, ';')) != NULL; ) {
		p += 1 + strspn(p + 1, " \t");
		if (strncasecmp(p, "boundary=", 9) != 0)
			continue;
		p += 9;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"' && n + 1 < len; p++)
				out[n++] = *p;
			if (*p != '"')
				return (-1);
		} else {
			for (; *p != '\0' && *p != ';' && *p != ' ' &&
			    *p != '\t' && n + 1 < len; p++)
				out[n++] = *p;
		}
		out[n] = '\0';
		return (n >= 1 && n <= 70 ? 0 : -1);
	}
	return (-1);
}

int
multipart_init(struct multipart *mp, const char *ctype,
    multipart_part_cb part_cb, multipart_data_cb data_cb, void *arg,
    char **cause)
{
	char	b[72];

	memset(mp, 0, sizeof *mp);
	if (multipart_boundary(ctype, b, sizeof b) != 0) {
		xasprintf(cause, "the body must be multipart/form-data with a "
		    "boundary");
		return (-1);
	}
	mp->dlen = (size_t)snprintf(mp->delim, sizeof mp->delim, "\r\n--%s",
	    b);
	mp->state = MULTIPART_PREAMBLE;
	mp->part_cb = part_cb;
	mp->data_cb = data_cb;
	mp->arg = arg;
	buf_init(&mp->in, MULTIPART_IN_MAX);
	buf_add(&mp->in, "\r\n", 2);
	return (0);
}

void
multipart_free(struct multipart *mp)
{
	if (mp != NULL)
		buf_free(&mp->in);
}

static const char *
multipart_find(const struct multipart *mp)
{
	return (memmem(mp->in.data, mp->in.len, mp->delim, mp->dlen));
}

/* Bytes that cannot be the start of a delimiter cut by the feed. */
static size_t
multipart_safe(const struct multipart *mp)
{
	return (mp->in.len >= mp->dlen ? mp->in.len - (mp->dlen - 1) : 0);
}

static int
multipart_preamble(struct multipart *mp, __unused char **cause)
{
	const char	*d;

	if ((d = multipart_find(mp)) == NULL) {
		buf_consume(&mp->in, multipart_safe(mp));
		return (0);
	}
	buf_consume(&mp->in, (size_t)(d - mp->in.data) + mp->dlen);
	mp->state = MULTIPART_DELIM;
	return (1);
}

/* After a boundary: "--" ends the body, else padding and a CRLF. */
static int
multipart_delim(struct multipart *mp, char **cause)
{
	size_t	n;

	if (mp->in.len < 2)
		return (0);
	if (memcmp(mp->in.data, "--", 2) == 0) {
		buf_consume(&mp->in, 2);
		mp->state = MULTIPART_EPILOGUE;
		return (1);
	}
	for (n = 0; n < mp->in.len && (mp->in.data[n] == ' ' ||
	    mp->in.data[n] == '\t'); n++)
		;
	if (mp->in.len - n < 2)
		return (0);
	if (memcmp(mp->in.data + n, "\r\n", 2) != 0) {
		xasprintf(cause, "malformed multipart boundary line");
		return (-1);
	}
	buf_consume(&mp->in, n + 2);
	memset(&mp->part, 0, sizeof mp->part);
	mp->state = MULTIPART_HEADERS;
	return (1);
}

static int
multipart_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower((unsigned char)c);
	return (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
}

/*
 * A parameter's value in a header (name="v"; quoted strings unescaped),
 * into out, cut to fit: 1 found, 0 not.
 */
static int
multipart_param(const char *h, const char *name, char *out, size_t len)
{
	const char	*p = h;
	size_t		 nlen = strlen(name), n = 0;

	while ((p = strchr(p, ';')) != NULL) {
		p += 1 + strspn(p + 1, " \t");
		if (strncasecmp(p, name, nlen) != 0 || p[nlen] != '=')
			continue;
		p += nlen + 1;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (n + 1 < len)
					out[n++] = *p;
			}
		} else {
			for (; *p != '\0' && *p != ';' && *p != ' ' &&
			    *p != '\t'; p++)
				if (n + 1 < len)
					out[n++] = *p;
		}
		out[n] = '\0';
		return (1);
	}
	return (0);
}

/* filename*=UTF-8''percent%20encoded (RFC 5987), decoded: 1, or 0. */
static int
multipart_ext_name(const char *h, char *out, size_t len)
{
	char		 raw[768];
	const char	*p;
	size_t		 n = 0;
	int		 hi, lo;

	if (!multipart_param(h, "filename*", raw, sizeof raw) ||
	    strncasecmp(raw, "utf-8'", 6) != 0 ||
	    (p = strchr(raw + 6, '\'')) == NULL)
		return (0);
	for (p++; *p != '\0' && n + 1 < len; p++) {
		if (*p == '%' && (hi = multipart_hex(p[1])) >= 0 &&
		    (lo = multipart_hex(p[2])) >= 0) {
			out[n++] = (char)(hi << 4 | lo);
			p += 2;
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	return (1);
}

/* One header line (NUL-terminated, no CRLF) into the part. */
static void
multipart_header(struct multipart_part *pt, const char *line)
{
	const char	*v;
	size_t		 n;

	if ((v = strchr(line, ':')) == NULL)
		return;
	n = (size_t)(v - line);
	v += 1 + strspn(v + 1, " \t");
	if (n == 19 && strncasecmp(line, "Content-Disposition", n) == 0) {
		multipart_param(v, "name", pt->name, sizeof pt->name);
		if (multipart_ext_name(v, pt->filename, sizeof pt->filename) ||
		    multipart_param(v, "filename", pt->filename,
		    sizeof pt->filename))
			pt->has_filename = 1;
	} else if (n == 12 && strncasecmp(line, "Content-Type", n) == 0) {
		n = strcspn(v, "; \t");
		if (n >= sizeof pt->type)
			n = sizeof pt->type - 1;
		memcpy(pt->type, v, n);
		pt->type[n] = '\0';
	}
}

static int
multipart_headers(struct multipart *mp, char **cause)
{
	const char	*end;
	char		*block, *line, *next;
	size_t		 n;

	if (mp->in.len < 2)
		return (0);
	if (memcmp(mp->in.data, "\r\n", 2) == 0)
		n = 0;
	else if ((end = memmem(mp->in.data, mp->in.len, "\r\n\r\n", 4)) !=
	    NULL)
		n = (size_t)(end - mp->in.data) + 2;
	else if (mp->in.len > MULTIPART_HEADER_MAX) {
		xasprintf(cause, "a multipart part's headers are longer than "
		    "%d bytes", MULTIPART_HEADER_MAX);
		return (-1);
	} else
		return (0);
	if (n > MULTIPART_HEADER_MAX) {
		xasprintf(cause, "a multipart part's headers are longer than "
		    "%d bytes", MULTIPART_HEADER_MAX);
		return (-1);
	}
	block = xstrndup(mp->in.data, n);
	for (line = block; line != NULL && *line != '\0'; line = next) {
		if ((next = strstr(line, "\r\n")) != NULL) {
			*next = '\0';
			next += 2;
		}
		multipart_header(&mp->part, line);
	}
	free(block);
	buf_consume(&mp->in, n + 2);
	mp->state = MULTIPART_BODY;
	if (mp->part_cb(&mp->part, mp->arg) != 0)
		return (-1);
	return (1);
}

static int
multipart_body(struct multipart *mp, __unused char **cause)
{
	const char	*d;
	size_t		 n;

	if ((d = multipart_find(mp)) != NULL) {
		n = (size_t)(d - mp->in.data);
		if (n > 0 && mp->data_cb(mp->in.data, n, mp->arg) != 0)
			return (-1);
		buf_consume(&mp->in, n + mp->dlen);
		mp->state = MULTIPART_DELIM;
		return (1);
	}
	if ((n = multipart_safe(mp)) > 0) {
		if (mp->data_cb(mp->in.data, n, mp->arg) != 0)
			return (-1);
		buf_consume(&mp->in, n);
	}
	return (0);
}

static int
multipart_epilogue(struct multipart *mp, __unused char **cause)
{
	buf_reset(&mp->in);
	return (0);
}

/* Indexed by enum multipart_state. */
static const multipart_step_cb multipart_steps[] = {
	[MULTIPART_PREAMBLE] = multipart_preamble,
	[MULTIPART_DELIM] = multipart_delim,
	[MULTIPART_HEADERS] = multipart_headers,
	[MULTIPART_BODY] = multipart_body,
	[MULTIPART_EPILOGUE] = multipart_epilogue,
};

/* The next len bytes of the body: 0, or -1 (see multipart_part_cb). */
int
multipart_feed(struct multipart *mp, const void *p, size_t len, char **cause)
{
	int	r;

	*cause = NULL;
	if (buf_add(&mp->in, p, len) != 0) {
		xasprintf(cause, "multipart body fed in too large pieces");
		return (-1);
	}
	while ((r = multipart_steps[mp->state](mp, cause)) == 1)
		;
	return (r);
}

/* The body ended: it must have ended with the closing boundary. */
int
multipart_finish(struct multipart *mp, char **cause)
{
	if (mp->state != MULTIPART_EPILOGUE) {
		xasprintf(cause, "the multipart body ends before its closing "
		    "boundary");
		return (-1);
	}
	return (0);
}
