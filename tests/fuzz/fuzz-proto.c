/*
 * Fuzz the control protocol's reading side the way the daemon reads a
 * client: frames are cut from the input one after another
 * (proto_frame_check), each payload is parsed (proto_payload_parse) and,
 * when it is a request, checked against the command table
 * (cmd_find, cmd_check_args), as ctl.c does before any handler runs.
 * Invariants: a whole frame is never larger than what is there; an
 * accepted payload is a JSON object that encodes back into a frame that
 * reads as the same type and id.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "proto.h"
#include "xmalloc.h"

#include "fuzz.h"

static void
fp_request(json_t *msg)
{
	const struct cmd_spec	*c;
	const char		*name;
	json_t			*args;
	char			*cause = NULL;

	if ((name = json_string_value(json_object_get(msg, "cmd"))) == NULL ||
	    (c = cmd_find(name)) == NULL)
		return;
	if ((args = json_object_get(msg, "args")) == NULL)
		return;
	if (cmd_check_args(c, args, &cause) != 0)
		FUZZ_CHECK(cause != NULL);
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct proto_hdr	 h, h2;
	struct buf		 out;
	enum proto_status	 st;
	json_t			*msg;
	char			*cause;
	size_t			 off = 0;

	for (;;) {
		cause = NULL;
		st = proto_frame_check(data + off, len - off, &h, &cause);
		free(cause);
		if (st != PROTO_FRAME)
			break;
		FUZZ_CHECK(PROTO_HDR_LEN + (size_t)h.len <= len - off);
		cause = NULL;
		msg = proto_payload_parse(data + off + PROTO_HDR_LEN, h.len,
		    &cause);
		if (msg == NULL)
			FUZZ_CHECK(cause != NULL);
		else {
			FUZZ_CHECK(json_is_object(msg));
			if (h.type == MSG_REQUEST)
				fp_request(msg);
			buf_init(&out, PROTO_HDR_LEN + PROTO_MAX_PAYLOAD);
			if (proto_encode(&out, h.type, h.id, h.flags, msg,
			    NULL) == 0) {
				FUZZ_CHECK(proto_frame_check(out.data, out.len,
				    &h2, NULL) == PROTO_FRAME);
				FUZZ_CHECK(h2.type == h.type && h2.id == h.id);
			}
			buf_free(&out);
			json_decref(msg);
		}
		free(cause);
		off += PROTO_HDR_LEN + h.len;
	}
	return (0);
}
