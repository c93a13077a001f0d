/*
 * Frame encoding and decoding for the control protocol. Pure functions over
 * memory: no sockets, no allocation beyond the JSON they return. A frame
 * that is short, too long, of an unknown type or not a JSON object is
 * reported, never trusted.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"
#include "proto.h"
#include "xmalloc.h"

static const struct {
	uint16_t	 type;
	const char	*name;
} proto_type_table[] = {
	{ MSG_HELLO, "hello" },
	{ MSG_WELCOME, "welcome" },
	{ MSG_VERSION, "version" },
	{ MSG_BYE, "bye" },
	{ MSG_REQUEST, "request" },
	{ MSG_REPLY, "reply" },
	{ MSG_CANCEL, "cancel" },
	{ MSG_SUBSCRIBE, "subscribe" },
	{ MSG_UNSUBSCRIBE, "unsubscribe" },
	{ MSG_EVENT, "event" },
};

const char *
proto_type_name(uint16_t type)
{
	size_t	i;

	for (i = 0; i < nitems(proto_type_table); i++)
		if (proto_type_table[i].type == type)
			return (proto_type_table[i].name);
	return (NULL);
}

void
proto_hdr_pack(const struct proto_hdr *h, uint8_t *p)
{
	uint32_t	u32;
	uint16_t	u16;

	u32 = htonl(h->len);
	memcpy(p, &u32, 4);
	u16 = htons(h->type);
	memcpy(p + 4, &u16, 2);
	u16 = htons(h->version);
	memcpy(p + 6, &u16, 2);
	u32 = htonl(h->id);
	memcpy(p + 8, &u32, 4);
	u32 = htonl(h->flags);
	memcpy(p + 12, &u32, 4);
}

void
proto_hdr_unpack(const uint8_t *p, struct proto_hdr *h)
{
	uint32_t	u32;
	uint16_t	u16;

	memcpy(&u32, p, 4);
	h->len = ntohl(u32);
	memcpy(&u16, p + 4, 2);
	h->type = ntohs(u16);
	memcpy(&u16, p + 6, 2);
	h->version = ntohs(u16);
	memcpy(&u32, p + 8, 4);
	h->id = ntohl(u32);
	memcpy(&u32, p + 12, 4);
	h->flags = ntohl(u32);
}

static void __attribute__((format(printf, 2, 3)))
proto_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(cause, fmt, ap);
	va_end(ap);
}

/*
 * Look at the bytes received so far. The version is checked before the
 * length and type, so a peer of another version is told so rather than
 * treated as garbage.
 */
enum proto_status
proto_frame_check(const void *data, size_t avail, struct proto_hdr *h,
    char **cause)
{
	if (avail < PROTO_HDR_LEN)
		return (PROTO_NEED_MORE);
	proto_hdr_unpack(data, h);
	if (h->version != PROTO_VERSION) {
		proto_cause(cause, "protocol version %u, expected %u",
		    (unsigned)h->version, (unsigned)PROTO_VERSION);
		return (PROTO_BAD_VERSION);
	}
	if (h->len > PROTO_MAX_PAYLOAD) {
		proto_cause(cause, "frame of %lu bytes exceeds the %d limit",
		    (unsigned long)h->len, PROTO_MAX_PAYLOAD);
		return (PROTO_BAD);
	}
	if (proto_type_name(h->type) == NULL) {
		proto_cause(cause, "unknown message type %u", (unsigned)h->type);
		return (PROTO_BAD);
	}
	if (avail - PROTO_HDR_LEN < h->len)
		return (PROTO_NEED_MORE);
	return (PROTO_FRAME);
}

/* Append one frame holding obj (NULL: an empty object) to out. */
int
proto_encode(struct buf *out, uint16_t type, uint32_t id, uint32_t flags,
    const json_t *obj, char **cause)
{
	struct proto_hdr	 h;
	uint8_t			 hdr[PROTO_HDR_LEN];
	char			*s;
	size_t			 n;
	int			 rv = -1;

	if (obj != NULL)
		s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	else
		s = xstrdup("{}");
	if (s == NULL) {
		proto_cause(cause, "cannot encode message");
		return (-1);
	}
	n = strlen(s);
	if (n > PROTO_MAX_PAYLOAD) {
		proto_cause(cause, "message of %zu bytes exceeds the %d limit",
		    n, PROTO_MAX_PAYLOAD);
		goto out;
	}
	h.len = n;
	h.type = type;
	h.version = PROTO_VERSION;
	h.id = id;
	h.flags = flags;
	proto_hdr_pack(&h, hdr);
	/* The whole frame or nothing: a lone header corrupts the stream. */
	if (out->len > out->max || out->max - out->len < sizeof hdr + n ||
	    buf_add(out, hdr, sizeof hdr) != 0 || buf_add(out, s, n) != 0) {
		proto_cause(cause, "output queue full");
		goto out;
	}
	rv = 0;
out:
	free(s);
	return (rv);
}

/* Parse a payload: it must be exactly one JSON object. */
json_t *
proto_payload_parse(const void *p, size_t len, char **cause)
{
	json_error_t	 jerr;
	json_t		*o;

	if (len == 0)
		return (json_object());
	o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		if (cause != NULL)
			xasprintf(cause, "bad JSON payload: %s", jerr.text);
		return (NULL);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		if (cause != NULL)
			*cause = xstrdup("payload is not a JSON object");
		return (NULL);
	}
	return (o);
}
