/*
 * Frame encoding and decoding (src/proto.c): round trips, every truncation,
 * header limits and versions, and which payloads are accepted.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "proto.h"
#include "unit.h"
#include "xmalloc.h"

#define T_PROTO_OUT_MAX	(PROTO_HDR_LEN + PROTO_MAX_PAYLOAD)

static const struct {
	uint16_t	 type;
	uint32_t	 id;
	uint32_t	 flags;
	const char	*json;		/* NULL: encode a NULL object */
} t_proto_frames[] = {
	{ MSG_HELLO, 1, 0, "{\"client\":\"cli\"}" },
	{ MSG_WELCOME, 1, 0, "{\"version\":1,\"pid\":4242}" },
	{ MSG_REQUEST, 7, 0, "{\"cmd\":\"site.add\",\"args\":{\"name\":\"x\","
	    "\"weight\":2.5,\"header\":[\"A: 1\",\"B: 2\"]}}" },
	{ MSG_REPLY, 0xffffffffU, PROTO_MORE,
	  "{\"ok\":true,\"data\":[1,2,3]}" },
	{ MSG_REPLY, 8, 0,
	  "{\"ok\":false,\"error\":{\"code\":\"not_found\"}}" },
	{ MSG_EVENT, 0, 0, "{\"topic\":\"log\",\"data\":\"\xe6\xb5\x8b\xe8\xaf"
	    "\x95 \xf0\x9f\x98\x80\"}" },
	{ MSG_BYE, 3, 0, NULL },
	{ MSG_SUBSCRIBE, 2, 0, "{}" },
};

/* Header pack/unpack: network byte order, field by field. */
static void
t_proto_header(void)
{
	static const uint8_t	 want[PROTO_HDR_LEN] = {
		0x01, 0x02, 0x03, 0x04,	/* len */
		0x00, 0xc8,		/* type 200 */
		0x00, 0x01,		/* version */
		0xa1, 0xb2, 0xc3, 0xd4,	/* id */
		0x00, 0x00, 0x00, 0x01	/* flags */
	};
	struct proto_hdr	 h, back;
	uint8_t			 p[PROTO_HDR_LEN];

	h.len = 0x01020304;
	h.type = MSG_REQUEST;
	h.version = 1;
	h.id = 0xa1b2c3d4;
	h.flags = PROTO_MORE;
	proto_hdr_pack(&h, p);
	CHECK(memcmp(p, want, sizeof want) == 0);
	memset(&back, 0, sizeof back);
	proto_hdr_unpack(want, &back);
	CHECK_INT(back.len, 0x01020304);
	CHECK_INT(back.type, MSG_REQUEST);
	CHECK_INT(back.version, 1);
	CHECK_INT(back.id, 0xa1b2c3d4);
	CHECK_INT(back.flags, PROTO_MORE);
}

static void
t_proto_type_names(void)
{
	static const uint16_t	known[] = { MSG_HELLO, MSG_WELCOME,
	    MSG_VERSION, MSG_BYE, MSG_REQUEST, MSG_REPLY, MSG_CANCEL,
	    MSG_SUBSCRIBE, MSG_UNSUBSCRIBE, MSG_EVENT };
	static const uint16_t	unknown[] = { 0, 1, 99, 104, 199, 203, 299,
	    303, 0xffff };
	size_t			i;

	for (i = 0; i < nitems(known); i++) {
		unit_case("type %u", known[i]);
		CHECK(proto_type_name(known[i]) != NULL);
	}
	for (i = 0; i < nitems(unknown); i++) {
		unit_case("type %u", unknown[i]);
		CHECK(proto_type_name(unknown[i]) == NULL);
	}
	unit_case_end();
	CHECK_STR(proto_type_name(MSG_REQUEST), "request");
}

/* Encode, check the header, decode the payload, compare. */
static void
t_proto_roundtrip(void)
{
	struct buf		 b;
	struct proto_hdr	 h;
	json_t			*obj, *back;
	char			*cause;
	size_t			 i, n;
	enum proto_status	 st;

	for (i = 0; i < nitems(t_proto_frames); i++) {
		unit_case("frame %zu", i);
		buf_init(&b, T_PROTO_OUT_MAX);
		obj = NULL;
		if (t_proto_frames[i].json != NULL) {
			obj = json_loads(t_proto_frames[i].json, 0, NULL);
			if (!CHECK(obj != NULL))
				goto next;
		}
		cause = NULL;
		CHECK_INT(proto_encode(&b, t_proto_frames[i].type,
		    t_proto_frames[i].id, t_proto_frames[i].flags, obj,
		    &cause), 0);
		CHECK_STR(cause, NULL);
		if (!CHECK(b.len > PROTO_HDR_LEN))
			goto next;
		memset(&h, 0, sizeof h);
		st = proto_frame_check(b.data, b.len, &h, &cause);
		CHECK_INT(st, PROTO_FRAME);
		CHECK_STR(cause, NULL);
		CHECK_INT(h.len, b.len - PROTO_HDR_LEN);
		CHECK_INT(h.type, t_proto_frames[i].type);
		CHECK_INT(h.version, PROTO_VERSION);
		CHECK_INT(h.id, t_proto_frames[i].id);
		CHECK_INT(h.flags, t_proto_frames[i].flags);
		/* JSON_ENSURE_ASCII: the payload itself is plain ASCII. */
		for (n = PROTO_HDR_LEN; n < b.len; n++)
			if ((unsigned char)b.data[n] >= 0x80)
				break;
		CHECK_INT(n, b.len);
		back = proto_payload_parse(b.data + PROTO_HDR_LEN, h.len,
		    &cause);
		if (CHECK(back != NULL)) {
			if (obj != NULL)
				CHECK(json_equal(obj, back));
			else
				CHECK_INT(json_object_size(back), 0);
		}
		free(cause);
		json_decref(back);

		/* Every strict prefix of the frame is "need more". */
		for (n = 0; n < b.len; n++) {
			unit_case("frame %zu cut to %zu of %zu bytes", i, n,
			    b.len);
			CHECK_INT(proto_frame_check(b.data, n, &h, NULL),
			    PROTO_NEED_MORE);
		}
next:
		json_decref(obj);
		buf_free(&b);
	}
	unit_case_end();
}

/* Two frames back to back are read one at a time. */
static void
t_proto_stream(void)
{
	struct buf		 b;
	struct proto_hdr	 h;
	json_t			*o;

	buf_init(&b, T_PROTO_OUT_MAX);
	o = json_pack("{s:s}", "cmd", "site.list");
	CHECK_INT(proto_encode(&b, MSG_REQUEST, 1, 0, o, NULL), 0);
	CHECK_INT(proto_encode(&b, MSG_CANCEL, 2, 0, NULL, NULL), 0);
	CHECK_INT(proto_frame_check(b.data, b.len, &h, NULL), PROTO_FRAME);
	CHECK_INT(h.id, 1);
	buf_consume(&b, PROTO_HDR_LEN + h.len);
	CHECK_INT(proto_frame_check(b.data, b.len, &h, NULL), PROTO_FRAME);
	CHECK_INT(h.id, 2);
	CHECK_INT(h.type, MSG_CANCEL);
	CHECK_INT(h.len, 2);
	CHECK_INT(b.len, PROTO_HDR_LEN + 2);
	json_decref(o);
	buf_free(&b);
}

/* Hand-made headers: limits on length, version and type. */
static void
t_proto_bad_headers(void)
{
	static const struct {
		const char		*what;
		uint32_t		 len;
		uint16_t		 type;
		uint16_t		 version;
		enum proto_status	 want;
		const char		*cause;	/* part of the message */
	} cases[] = {
		{ "max payload", PROTO_MAX_PAYLOAD, MSG_REQUEST, PROTO_VERSION,
		  PROTO_NEED_MORE, NULL },
		{ "max payload + 1", PROTO_MAX_PAYLOAD + 1, MSG_REQUEST,
		  PROTO_VERSION, PROTO_BAD, "exceeds" },
		{ "len 0xffffffff", 0xffffffffU, MSG_REPLY, PROTO_VERSION,
		  PROTO_BAD, "exceeds" },
		{ "version 0", 2, MSG_REQUEST, 0, PROTO_BAD_VERSION,
		  "version" },
		{ "version + 1", 2, MSG_REQUEST, PROTO_VERSION + 1,
		  PROTO_BAD_VERSION, "version" },
		{ "version 0xffff", 2, MSG_HELLO, 0xffff, PROTO_BAD_VERSION,
		  "version" },
		{ "version before len", 0xffffffffU, 0, PROTO_VERSION + 1,
		  PROTO_BAD_VERSION, "version" },
		{ "type 0", 2, 0, PROTO_VERSION, PROTO_BAD, "unknown" },
		{ "type 99", 2, 99, PROTO_VERSION, PROTO_BAD, "unknown" },
		{ "type 104", 2, 104, PROTO_VERSION, PROTO_BAD, "unknown" },
		{ "type 0xffff", 2, 0xffff, PROTO_VERSION, PROTO_BAD,
		  "unknown" },
		{ "empty payload", 0, MSG_BYE, PROTO_VERSION, PROTO_FRAME,
		  NULL },
	};
	struct proto_hdr	 h, got;
	uint8_t			 p[PROTO_HDR_LEN];
	char			*cause;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("%s", cases[i].what);
		memset(&h, 0, sizeof h);
		h.len = cases[i].len;
		h.type = cases[i].type;
		h.version = cases[i].version;
		h.id = 5;
		proto_hdr_pack(&h, p);
		cause = NULL;
		CHECK_INT(proto_frame_check(p, sizeof p, &got, &cause),
		    cases[i].want);
		if (cases[i].cause != NULL)
			CHECK_SUB(cause, cases[i].cause);
		else
			CHECK_STR(cause, NULL);
		free(cause);
	}
	unit_case_end();
}

static void
t_proto_payloads(void)
{
	static const struct {
		const char	*what;
		const char	*text;
		int		 ok;
	} cases[] = {
		{ "empty", "", 1 },
		{ "empty object", "{}", 1 },
		{ "object", "{\"a\":1,\"b\":[true,null]}", 1 },
		{ "spaces", " { \"a\" : \"b\" } ", 1 },
		{ "utf-8", "{\"a\":\"\xe6\xb5\x8b\"}", 1 },
		{ "not json", "hello", 0 },
		{ "truncated", "{\"a\":", 0 },
		{ "array", "[1,2]", 0 },
		{ "empty array", "[]", 0 },
		{ "string", "\"str\"", 0 },
		{ "number", "42", 0 },
		{ "null", "null", 0 },
		{ "two objects", "{}{}", 0 },
		{ "trailing junk", "{} x", 0 },
		{ "duplicate key", "{\"a\":1,\"a\":2}", 0 },
		{ "bad byte", "{\"a\":\"\xff\"}", 0 },
		{ "overlong", "{\"a\":\"\xc0\xaf\"}", 0 },
		{ "cut sequence", "{\"a\":\"\xe6\xb5\"}", 0 },
		{ "surrogate", "{\"a\":\"\xed\xa0\x80\"}", 0 },
		{ "bad key", "{\"\xfe\":1}", 0 },
	};
	json_t	*o;
	char	*cause;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("%s", cases[i].what);
		cause = NULL;
		o = proto_payload_parse(cases[i].text, strlen(cases[i].text),
		    &cause);
		if (cases[i].ok) {
			CHECK(json_is_object(o));
			CHECK_STR(cause, NULL);
		} else {
			CHECK(o == NULL);
			CHECK(cause != NULL);
		}
		json_decref(o);
		free(cause);
	}
	unit_case("empty payload");
	o = proto_payload_parse("", 0, NULL);
	if (CHECK(json_is_object(o)))
		CHECK_INT(json_object_size(o), 0);
	json_decref(o);
	unit_case("length, not NUL, ends the payload");
	o = proto_payload_parse("{}garbage", 2, NULL);
	CHECK(json_is_object(o));
	json_decref(o);
	unit_case_end();
}

/* A full output buffer refuses a frame and keeps what it held. */
static void
t_proto_limits(void)
{
	struct buf	 b;
	json_t		*o;
	char		*big, *cause = NULL;
	size_t		 n;

	n = 1000;
	big = xcalloc(1, n + 1);
	memset(big, 'x', n);
	o = json_pack("{s:s}", "data", big);

	buf_init(&b, 64);
	CHECK_INT(proto_encode(&b, MSG_REPLY, 1, 0, o, &cause), -1);
	CHECK_SUB(cause, "full");
	CHECK_INT(b.len, 0);
	free(cause);
	cause = NULL;
	CHECK_INT(proto_encode(&b, MSG_REPLY, 2, 0, NULL, &cause), 0);
	CHECK_INT(b.len, PROTO_HDR_LEN + 2);
	CHECK_INT(proto_encode(&b, MSG_REPLY, 3, 0, o, &cause), -1);
	free(cause);
	cause = NULL;
	unit_case("a refused frame leaves no partial header behind");
	CHECK_INT(b.len, PROTO_HDR_LEN + 2);
	buf_free(&b);
	json_decref(o);
	free(big);
	unit_case_end();

	/* One byte past the payload limit is refused whatever the buffer. */
	n = PROTO_MAX_PAYLOAD;
	big = xmalloc(n + 1);
	memset(big, 'y', n);
	big[n] = '\0';
	o = json_pack("{s:s}", "d", big);
	buf_init(&b, 4 * T_PROTO_OUT_MAX);
	CHECK_INT(proto_encode(&b, MSG_REPLY, 1, 0, o, &cause), -1);
	CHECK_SUB(cause, "exceeds");
	CHECK_INT(b.len, 0);
	free(cause);
	buf_free(&b);
	json_decref(o);
	free(big);
}

void
t_proto(void)
{
	t_proto_header();
	t_proto_type_names();
	t_proto_roundtrip();
	t_proto_stream();
	t_proto_bad_headers();
	t_proto_payloads();
	t_proto_limits();
}
