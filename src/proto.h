/*
 * The control-socket wire contract between the daemon and its clients (the
 * CLI and the TUI). Every frame is a 16-byte header in network byte order
 * followed by exactly `len` bytes holding one UTF-8 JSON object.
 *
 * BUMP PROTO_VERSION WHEN ANY OF THIS CHANGES: the header layout, the
 * message type numbers, or the meaning of a flag.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

#define PROTO_VERSION		1
#define PROTO_HDR_LEN		16
#define PROTO_MAX_PAYLOAD	(1024 * 1024)

/* Blocks are numbered once and never renumbered. */
enum msgtype {
	MSG_HELLO = 100,	/* client -> daemon: {"client": "cli"|"tui"} */
	MSG_WELCOME = 101,	/* daemon -> client: {"version", "daemon", "pid"} */
	MSG_VERSION = 102,	/* daemon -> client: version mismatch, then close */
	MSG_BYE = 103,		/* either side: closing */

	MSG_REQUEST = 200,	/* {"cmd": "noun.verb", "args": {...}} */
	MSG_REPLY = 201,	/* {"ok": true, "data": ...} or {"ok": false, "error"} */
	MSG_CANCEL = 202,	/* cancel request `id` */

	MSG_SUBSCRIBE = 300,	/* {"topics": [...]} */
	MSG_UNSUBSCRIBE = 301,
	MSG_EVENT = 302		/* {"topic", "data"}; id is 0 */
};

struct proto_hdr {
	uint32_t	len;		/* payload bytes */
	uint16_t	type;		/* enum msgtype */
	uint16_t	version;	/* PROTO_VERSION of the sender */
	uint32_t	id;		/* request id, echoed by the reply */
	uint32_t	flags;
#define PROTO_MORE	0x1		/* more frames of this reply follow */
};

enum proto_status {
	PROTO_NEED_MORE = 0,	/* not a whole frame yet */
	PROTO_FRAME = 1,	/* one whole frame */
	PROTO_BAD = -1,		/* malformed: close the peer */
	PROTO_BAD_VERSION = -2	/* well-formed header of another version */
};

void			 proto_hdr_pack(const struct proto_hdr *, uint8_t *);
void			 proto_hdr_unpack(const uint8_t *, struct proto_hdr *);
enum proto_status	 proto_frame_check(const void *, size_t,
			     struct proto_hdr *, char **);
int			 proto_encode(struct buf *, uint16_t, uint32_t,
			     uint32_t, const json_t *, char **);
json_t			*proto_payload_parse(const void *, size_t, char **);
const char		*proto_type_name(uint16_t);

#endif
