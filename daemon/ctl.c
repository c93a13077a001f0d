/*
 * The control socket: listen, accept same-uid peers, read frames, dispatch
 * requests through ctl_cmd_table[] and queue replies, and send events to
 * the clients subscribed to their topic. Runs on the main thread only. A
 * malformed frame closes that client and nothing else; a client whose
 * output queue passes its high-water mark is dropped, so a slow reader can
 * never stall the daemon.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "compat.h"
#include "daemon.h"
#include "err.h"
#include "jx.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define CTL_MAX_CLIENTS		64
#define CTL_OUT_HIGH_WATER	(8 * 1024 * 1024)
#define CTL_IN_MAX		(PROTO_HDR_LEN + PROTO_MAX_PAYLOAD)
#define CTL_EVENT_HIGH_WATER	(1024 * 1024)	/* then events coalesce */
#define CTL_EVENT_MAX_SKIPPED	10000		/* then the client goes */

struct ctl_client {
	uint64_t	 serial;	/* never reused, for late replies */
	int		 fd;
	struct buf	 in;
	struct buf	 out;
	int		 flags;
#define CTL_CLOSING	0x1		/* close once out is flushed */
#define CTL_DEAD	0x2		/* close now */
	int		 topics;	/* CTL_TOPIC_* subscribed to */
	unsigned long	 skipped;	/* events coalesced, not yet told */
};

/*
 * Event topics a client may subscribe to. first_cb runs when the first
 * client subscribes, before it is counted.
 */
static const struct {
	const char	*name;
	int		 topic;
	void		(*first_cb)(void);
} ctl_topic_table[] = {
	{ "logs", CTL_TOPIC_LOGS, ctl_log_subscribe },
};

static struct ctl_client	*ctl_clients[CTL_MAX_CLIENTS];
static int			 ctl_fd = -1;
static uint64_t			 ctl_next_serial = 1;
static char			*ctl_path;

int
ctl_client_count(void)
{
	int	i, n = 0;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl_clients[i] != NULL)
			n++;
	return (n);
}

/* Bind the socket 0600 (umask around bind) and listen. */
int
ctl_listen(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		xasprintf(cause, "socket path too long: %s", path);
		return (-1);
	}
	fd = socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		xasprintf(cause, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	if (listen(fd, 64) == -1) {
		xasprintf(cause, "listen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return (-1);
	}
	ctl_fd = fd;
	ctl_path = xstrdup(path);
	return (0);
}

static void
ctl_client_free(struct ctl_client *c)
{
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

void
ctl_close(void)
{
	int	i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (ctl_clients[i] != NULL) {
			ctl_client_free(ctl_clients[i]);
			ctl_clients[i] = NULL;
		}
	}
	if (ctl_fd != -1) {
		close(ctl_fd);
		ctl_fd = -1;
		unlink(ctl_path);
	}
	free(ctl_path);
	ctl_path = NULL;
}

static struct ctl_client *
ctl_client_find(uint64_t serial)
{
	int	i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl_clients[i] != NULL && ctl_clients[i]->serial == serial)
			return (ctl_clients[i]);
	return (NULL);
}

/* Is the client that sent a deferred request still connected? */
int
ctl_client_alive(uint64_t serial)
{
	return (ctl_client_find(serial) != NULL);
}

static void
ctl_send(struct ctl_client *c, uint16_t type, uint32_t id, json_t *obj)
{
	char	*cause = NULL;

	if (proto_encode(&c->out, type, id, 0, obj, &cause) != 0) {
		log_warnx("ctl: client %llu: %s; dropping it",
		    (unsigned long long)c->serial, cause);
		free(cause);
		c->flags |= CTL_DEAD;
	}
}

/*
 * An error reply. The message is made UTF-8 first: json_pack() refuses
 * anything else, and the client would be dropped for a NULL reply.
 */
static json_t *
ctl_error_json(struct err *e)
{
	json_t	*o;
	char	*text;

	text = e->msg != NULL ? jx_utf8_clean(e->msg, strlen(e->msg)) :
	    xstrdup(err_text(e->code));
	o = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code",
	    err_name(e->code), "message", text);
	free(text);
	return (o);
}

/*
 * Send a reply to request id of client serial, if that client is still
 * here. Takes the reply (data or error).
 */
void
ctl_reply(uint64_t serial, uint32_t id, json_t *data, struct err *e)
{
	struct ctl_client	*c;
	json_t			*msg;

	if ((c = ctl_client_find(serial)) == NULL) {
		json_decref(data);
		return;
	}
	if (e != NULL && e->code != ERR_OK)
		msg = ctl_error_json(e);
	else
		msg = json_pack("{s:b, s:o}", "ok", 1, "data",
		    data != NULL ? data : json_object());
	ctl_send(c, MSG_REPLY, id, msg);
	json_decref(msg);
}

/* How many clients are subscribed to topic. */
int
ctl_subscribers(int topic)
{
	int	i, n = 0;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl_clients[i] != NULL && (ctl_clients[i]->topics & topic))
			n++;
	return (n);
}

/*
 * Send data (borrowed) as an event of topic to every subscribed client.
 * Events go into the output queue whole and between whole replies: every
 * reply is one frame appended by ctl_send(), so no event can fall inside a
 * reply (a multi-frame reply must keep that true). A client whose queue
 * holds more than CTL_EVENT_HIGH_WATER gets no more events but a count of
 * those it missed, sent with the next one that fits ("skipped"); once it
 * has missed CTL_EVENT_MAX_SKIPPED it is dropped.
 */
void
ctl_event(int topic, json_t *data)
{
	struct ctl_client	*c;
	const char		*name = NULL;
	json_t			*msg;
	size_t			 t;
	int			 i;

	for (t = 0; t < nitems(ctl_topic_table); t++)
		if (ctl_topic_table[t].topic == topic)
			name = ctl_topic_table[t].name;
	if (name == NULL)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		c = ctl_clients[i];
		if (c == NULL || !(c->topics & topic) ||
		    (c->flags & (CTL_DEAD|CTL_CLOSING)))
			continue;
		if (c->out.len >= CTL_EVENT_HIGH_WATER) {
			if (++c->skipped >= CTL_EVENT_MAX_SKIPPED) {
				log_warnx("ctl: client %llu: too slow for its "
				    "events; dropping it",
				    (unsigned long long)c->serial);
				c->flags |= CTL_DEAD;
			}
			continue;
		}
		if (c->skipped > 0) {
			msg = json_pack("{s:s, s:n, s:I}", "topic", name,
			    "data", "skipped", (json_int_t)c->skipped);
			ctl_send(c, MSG_EVENT, 0, msg);
			json_decref(msg);
			c->skipped = 0;
		}
		msg = json_pack("{s:s, s:O}", "topic", name, "data", data);
		ctl_send(c, MSG_EVENT, 0, msg);
		json_decref(msg);
	}
}

/*
 * MSG_SUBSCRIBE and MSG_UNSUBSCRIBE: {"topics": ["logs", ...]}. Unknown
 * topics are ignored (a newer client may know more); anything else is a
 * bad frame.
 */
static int
ctl_subscribe(struct ctl_client *c, json_t *msg, int on)
{
	json_t	*topics, *v;
	size_t	 i, t;

	topics = json_object_get(msg, "topics");
	if (!json_is_array(topics))
		return (-1);
	json_array_foreach(topics, i, v) {
		if (!json_is_string(v))
			return (-1);
		for (t = 0; t < nitems(ctl_topic_table); t++) {
			if (strcmp(ctl_topic_table[t].name,
			    json_string_value(v)) != 0)
				continue;
			if (on && !(c->topics & ctl_topic_table[t].topic) &&
			    ctl_subscribers(ctl_topic_table[t].topic) == 0)
				ctl_topic_table[t].first_cb();
			if (on)
				c->topics |= ctl_topic_table[t].topic;
			else
				c->topics &= ~ctl_topic_table[t].topic;
		}
	}
	return (0);
}

static void
ctl_dispatch(struct ctl_client *c, uint32_t id, json_t *msg)
{
	struct ctl_req		 req;
	struct err		 e = { ERR_OK, NULL };
	const struct ctl_entry	*entry;
	const char		*name;
	json_t			*args, *reply = NULL;
	char			*cause = NULL;
	enum ctl_ret		 ret;

	name = jx_str(msg, "cmd");
	args = json_object_get(msg, "args");
	if (name == NULL) {
		err_set(&e, ERR_BAD_REQUEST, "request has no \"cmd\"");
		goto reply;
	}
	req.spec = cmd_find(name);
	entry = ctl_find_entry(name);
	if (req.spec == NULL || entry == NULL) {
		err_set(&e, ERR_UNKNOWN_CMD, "unknown command \"%s\"", name);
		goto reply;
	}
	if (args == NULL) {
		args = json_object();
		json_object_set_new(msg, "args", args);
	}
	if (cmd_check_args(req.spec, args, &cause) != 0) {
		err_set(&e, ERR_USAGE, "%s", cause);
		free(cause);
		goto reply;
	}
	req.client = c->serial;
	req.id = id;
	req.args = args;
	log_debug("ctl: client %llu: %s", (unsigned long long)c->serial, name);
	ret = entry->handler(&req, &reply, &e);
	if (ret == CTL_WAIT)
		return;
	if (ret == CTL_DONE && !(entry->flags & CTL_READ))
		ctl_changed();
	if (ret == CTL_ERROR && e.code == ERR_OK)
		err_set(&e, ERR_INTERNAL, "%s failed", name);
reply:
	ctl_reply(c->serial, id, reply, &e);
	err_clear(&e);
}

/* Handle every whole frame in the client's input buffer. */
static void
ctl_client_input(struct ctl_client *c)
{
	struct proto_hdr	 h;
	enum proto_status	 ps;
	json_t			*msg, *welcome;
	char			*cause = NULL;

	while ((c->flags & (CTL_DEAD|CTL_CLOSING)) == 0) {
		ps = proto_frame_check(c->in.data, c->in.len, &h, &cause);
		if (ps == PROTO_NEED_MORE)
			return;
		if (ps == PROTO_BAD_VERSION) {
			log_warnx("ctl: client %llu: %s",
			    (unsigned long long)c->serial, cause);
			welcome = json_pack("{s:i, s:s}", "version",
			    PROTO_VERSION, "error", cause);
			ctl_send(c, MSG_VERSION, h.id, welcome);
			json_decref(welcome);
			free(cause);
			c->flags |= CTL_CLOSING;
			return;
		}
		if (ps == PROTO_BAD)
			goto bad;
		msg = proto_payload_parse(c->in.data + PROTO_HDR_LEN, h.len,
		    &cause);
		buf_consume(&c->in, PROTO_HDR_LEN + h.len);
		if (msg == NULL)
			goto bad;
		switch (h.type) {
		case MSG_HELLO:
			welcome = json_pack("{s:i, s:s, s:I}", "version",
			    PROTO_VERSION, "daemon", PACKAGE_VERSION, "pid",
			    (json_int_t)getpid());
			ctl_send(c, MSG_WELCOME, h.id, welcome);
			json_decref(welcome);
			break;
		case MSG_REQUEST:
			ctl_dispatch(c, h.id, msg);
			break;
		case MSG_BYE:
			c->flags |= CTL_CLOSING;
			break;
		case MSG_CANCEL:
			break;
		case MSG_SUBSCRIBE:
		case MSG_UNSUBSCRIBE:
			if (ctl_subscribe(c, msg, h.type == MSG_SUBSCRIBE) != 0) {
				json_decref(msg);
				cause = xstrdup("bad subscription");
				goto bad;
			}
			break;
		default:
			json_decref(msg);
			cause = xstrdup("message type not accepted from a "
			    "client");
			goto bad;
		}
		json_decref(msg);
	}
	return;
bad:
	log_warnx("ctl: client %llu: %s; closing it",
	    (unsigned long long)c->serial, cause != NULL ? cause : "bad frame");
	free(cause);
	c->flags |= CTL_DEAD;
}

static void
ctl_accept(void)
{
	struct ctl_client	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof cred;
	int			 fd, i;

	fd = accept4(ctl_fd, NULL, NULL, SOCK_NONBLOCK|SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("ctl: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != getuid()) {
		log_warnx("ctl: refused a peer of another uid");
		close(fd);
		return;
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl_clients[i] == NULL)
			break;
	if (i == CTL_MAX_CLIENTS) {
		log_warnx("ctl: too many clients; refusing one");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->serial = ctl_next_serial++;
	c->fd = fd;
	buf_init(&c->in, CTL_IN_MAX);
	buf_init(&c->out, CTL_OUT_HIGH_WATER);
	ctl_clients[i] = c;
}

/* Fill pfd with the listener and clients; returns the count used. */
int
ctl_poll_fill(struct pollfd *pfd, int max)
{
	int	i, n = 0;

	if (ctl_fd != -1 && n < max) {
		pfd[n].fd = ctl_fd;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	/* The log writer's "rows committed" pipe, for the logs topic. */
	if (ctl_fd != -1 && logwriter_fd() != -1 && n < max) {
		pfd[n].fd = logwriter_fd();
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	for (i = 0; i < CTL_MAX_CLIENTS && n < max; i++) {
		if (ctl_clients[i] == NULL)
			continue;
		pfd[n].fd = ctl_clients[i]->fd;
		pfd[n].events = POLLIN;
		if (ctl_clients[i]->out.len > 0)
			pfd[n].events |= POLLOUT;
		pfd[n++].revents = 0;
	}
	return (n);
}

static void
ctl_client_io(struct ctl_client *c, short revents)
{
	char	buf[65536];
	ssize_t	n;

	if (revents & (POLLIN|POLLHUP|POLLERR)) {
		n = read(c->fd, buf, sizeof buf);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			c->flags |= CTL_DEAD;
		else if (n > 0) {
			if (buf_add(&c->in, buf, n) != 0) {
				log_warnx("ctl: client %llu: input too large",
				    (unsigned long long)c->serial);
				c->flags |= CTL_DEAD;
			} else
				ctl_client_input(c);
		}
	}
	if ((revents & POLLOUT) && c->out.len > 0) {
		n = write(c->fd, c->out.data, c->out.len);
		if (n > 0)
			buf_consume(&c->out, n);
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			c->flags |= CTL_DEAD;
	}
}

void
ctl_poll_handle(struct pollfd *pfd, int n)
{
	struct ctl_client	*c;
	int			 i, j;

	for (j = 0; j < n; j++) {
		if (pfd[j].revents == 0)
			continue;
		if (pfd[j].fd == ctl_fd) {
			ctl_accept();
			continue;
		}
		if (pfd[j].fd == logwriter_fd()) {
			ctl_log_fanout();
			continue;
		}
		for (i = 0; i < CTL_MAX_CLIENTS; i++) {
			c = ctl_clients[i];
			if (c != NULL && c->fd == pfd[j].fd) {
				ctl_client_io(c, pfd[j].revents);
				break;
			}
		}
	}
	/* Flush what handlers queued, then reap the closed. */
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		if ((c = ctl_clients[i]) == NULL)
			continue;
		if (c->out.len > 0 && !(c->flags & CTL_DEAD))
			ctl_client_io(c, POLLOUT);
		if ((c->flags & CTL_DEAD) ||
		    ((c->flags & CTL_CLOSING) && c->out.len == 0)) {
			ctl_client_free(c);
			ctl_clients[i] = NULL;
		}
	}
}
