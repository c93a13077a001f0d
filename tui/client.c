/*
 * The client's connection to the daemon: connect to the control socket,
 * start a daemon when none answers (race-free: one starter at a time under
 * a lock file, and the daemon's own locks refuse a second instance), greet
 * it, and send requests and read their replies.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "jx.h"
#include "paths.h"
#include "proto.h"
#include "tui.h"
#include "xmalloc.h"

#define CLIENT_REPLY_TIMEOUT_MS	(15 * 60 * 1000)

static int
client_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Write all of p to the daemon's socket. MSG_NOSIGNAL: a daemon that has
 * closed the connection (it refused our uid, or it is going away) is an
 * error to report, exit 3, not a SIGPIPE that kills the command.
 */
static int
client_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= n;
	}
	return (0);
}

/*
 * Read one whole frame into *msg, and not a byte more: events may follow
 * it on the socket. timeout_ms -1 waits for ever; a signal then returns
 * -1 with *cause NULL.
 */
static int
client_read_frame(struct client *c, struct proto_hdr *h, json_t **msg,
    int timeout_ms, char **cause)
{
	struct buf		 in;
	struct pollfd		 pfd;
	char			 tmp[65536];
	ssize_t			 n;
	size_t			 want;
	enum proto_status	 ps;
	char			*why = NULL;
	int			 rv;

	buf_init(&in, PROTO_HDR_LEN + PROTO_MAX_PAYLOAD);
	for (;;) {
		ps = proto_frame_check(in.data, in.len, h, &why);
		if (ps == PROTO_FRAME)
			break;
		if (ps == PROTO_BAD_VERSION) {
			xasprintf(cause, "the daemon speaks another protocol "
			    "(%s); stop it and start it with this metapi", why);
			free(why);
			buf_free(&in);
			return (-1);
		}
		if (ps != PROTO_NEED_MORE) {
			xasprintf(cause, "bad reply from the daemon: %s", why);
			free(why);
			buf_free(&in);
			return (-1);
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if ((rv = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR &&
		    timeout_ms == -1) {
			*cause = NULL;
			buf_free(&in);
			return (-1);
		}
		if (rv <= 0) {
			*cause = xstrdup("the daemon did not answer in time");
			buf_free(&in);
			return (-1);
		}
		if (in.len < PROTO_HDR_LEN)
			want = PROTO_HDR_LEN - in.len;
		else
			want = PROTO_HDR_LEN + h->len - in.len;
		n = read(c->fd, tmp, want < sizeof tmp ? want : sizeof tmp);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || buf_add(&in, tmp, n) != 0) {
			*cause = xstrdup("the daemon closed the connection");
			buf_free(&in);
			return (-1);
		}
	}
	*msg = proto_payload_parse(in.data + PROTO_HDR_LEN, h->len, &why);
	buf_free(&in);
	if (*msg == NULL) {
		xasprintf(cause, "bad reply from the daemon: %s", why);
		free(why);
		return (-1);
	}
	return (0);
}

static int
client_send(struct client *c, uint16_t type, uint32_t id, json_t *obj,
    char **cause)
{
	struct buf	out;
	int		rv, saved;

	buf_init(&out, PROTO_HDR_LEN + PROTO_MAX_PAYLOAD);
	if (proto_encode(&out, type, id, 0, obj, cause) != 0) {
		buf_free(&out);
		return (-1);
	}
	rv = client_write_all(c->fd, out.data, out.len);
	saved = errno;
	buf_free(&out);
	if (rv != 0 && (saved == EPIPE || saved == ECONNRESET))
		*cause = xstrdup("the daemon closed the connection");
	else if (rv != 0)
		xasprintf(cause, "cannot write to the daemon: %s",
		    strerror(saved));
	return (rv);
}

static int
client_hello(struct client *c, char **cause)
{
	struct proto_hdr	 h;
	json_t			*hello, *msg;
	long long		 pid = 0;

	hello = json_pack("{s:s}", "client", "cli");
	if (client_send(c, MSG_HELLO, 0, hello, cause) != 0) {
		json_decref(hello);
		return (-1);
	}
	json_decref(hello);
	if (client_read_frame(c, &h, &msg, CLIENT_REPLY_TIMEOUT_MS,
	    cause) != 0)
		return (-1);
	if (h.type != MSG_WELCOME) {
		xasprintf(cause, "the daemon speaks another protocol version "
		    "(%s); restart it with this metapi", jx_str(msg,
		    "error") != NULL ? jx_str(msg, "error") : "no welcome");
		json_decref(msg);
		return (-1);
	}
	jx_int(msg, "pid", &pid);
	c->daemon_pid = pid;
	json_decref(msg);
	return (0);
}

/* Run `metapi daemon --detach` with our data dir and socket; wait for it. */
static int
client_spawn(const struct globals *g, char **cause)
{
	char	*argv[12], self[4096];
	int	 argc = 0, status;
	pid_t	 pid;
	ssize_t	 n;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		*cause = xstrdup("cannot find the metapi executable");
		return (-1);
	}
	self[n] = '\0';
	argv[argc++] = self;
	if (g->data_dir != NULL) {
		argv[argc++] = "-d";
		argv[argc++] = (char *)g->data_dir;
	}
	if (g->socket != NULL) {
		argv[argc++] = "-S";
		argv[argc++] = (char *)g->socket;
	}
	argv[argc++] = "daemon";
	argv[argc++] = "--detach";
	argv[argc] = NULL;
	switch ((pid = fork())) {
	case -1:
		xasprintf(cause, "fork: %s", strerror(errno));
		return (-1);
	case 0:
		execv(self, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*cause = xstrdup("could not start a daemon");
		return (-1);
	}
	return (0);
}

/*
 * Connect, starting a daemon if none answers and that is allowed. Only
 * one client starts a daemon at a time: the others wait on the start lock
 * and then find the new daemon answering.
 */
int
client_open(struct client *c, const struct globals *g, char **cause)
{
	char	*lockpath, *dir, *tmp;
	int	 lock, started = 0;

	memset(c, 0, sizeof *c);
	c->next_id = 1;
	c->socket_path = paths_socket(g->socket);
	if ((c->fd = client_connect(c->socket_path)) != -1)
		return (client_hello(c, cause));
	if (g->no_start) {
		xasprintf(cause, "no daemon answers on %s (--no-start given)",
		    c->socket_path);
		return (-1);
	}
	tmp = xstrdup(c->socket_path);
	dir = xstrdup(dirname(tmp));
	free(tmp);
	if (paths_check_private_dir(dir, cause) != 0) {
		free(dir);
		return (-1);
	}
	free(dir);
	xasprintf(&lockpath, "%s.start", c->socket_path);
	lock = open(lockpath, O_RDWR|O_CREAT|O_CLOEXEC, 0600);
	free(lockpath);
	if (lock == -1 || flock(lock, LOCK_EX) != 0) {
		xasprintf(cause, "cannot lock %s.start: %s", c->socket_path,
		    strerror(errno));
		if (lock != -1)
			close(lock);
		return (-1);
	}
	if ((c->fd = client_connect(c->socket_path)) == -1) {
		if (client_spawn(g, cause) != 0) {
			close(lock);
			return (-1);
		}
		started = 1;
		c->fd = client_connect(c->socket_path);
	}
	close(lock);
	if (c->fd == -1) {
		xasprintf(cause, "cannot connect to %s: %s", c->socket_path,
		    strerror(errno));
		return (-1);
	}
	if (client_hello(c, cause) != 0)
		return (-1);
	if (started)
		fprintf(stderr, _("metapi: started a daemon (pid %ld) on %s\n"),
		    c->daemon_pid, c->socket_path);
	return (0);
}

void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->socket_path);
	c->socket_path = NULL;
}

/* Send cmd with args (stolen); *reply is the whole reply object. */
int
client_request(struct client *c, const char *cmd, json_t *args,
    json_t **reply, char **cause)
{
	struct proto_hdr	 h;
	json_t			*req;
	uint32_t		 id = c->next_id++;
	int			 rv;

	req = json_pack("{s:s, s:o}", "cmd", cmd, "args",
	    args != NULL ? args : json_object());
	rv = client_send(c, MSG_REQUEST, id, req, cause);
	json_decref(req);
	if (rv != 0)
		return (-1);
	for (;;) {
		if (client_read_frame(c, &h, reply, CLIENT_REPLY_TIMEOUT_MS,
		    cause) != 0)
			return (-1);
		if (h.type == MSG_REPLY && h.id == id)
			return (0);
		json_decref(*reply);
	}
}

/* Subscribe to an event topic ("logs"); events come with client_event. */
int
client_subscribe(struct client *c, const char *topic, char **cause)
{
	json_t	*msg;
	int	 rv;

	msg = json_pack("{s:[s]}", "topics", topic);
	rv = client_send(c, MSG_SUBSCRIBE, 0, msg, cause);
	json_decref(msg);
	return (rv);
}

/*
 * Wait for the next event and return its payload ({"topic", "data"}) in
 * *ev; other frames are skipped. A signal returns -1 with *cause NULL.
 */
int
client_event(struct client *c, json_t **ev, char **cause)
{
	struct proto_hdr	h;

	for (;;) {
		if (client_read_frame(c, &h, ev, -1, cause) != 0)
			return (-1);
		if (h.type == MSG_EVENT)
			return (0);
		json_decref(*ev);
	}
}

/*
 * Wait until process pid has exited (a zombie counts as exited: the
 * daemon is detached and its reaper is not us). 0 when gone, -1 on
 * timeout.
 */
int
client_wait_exit(long pid, int timeout_ms)
{
	char	 path[64], stat[512], *p;
	FILE	*f;
	int	 waited = 0;

	while (waited < timeout_ms) {
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
			return (0);
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		if ((f = fopen(path, "r")) != NULL) {
			p = fgets(stat, sizeof stat, f);
			fclose(f);
			if (p != NULL && (p = strrchr(stat, ')')) != NULL &&
			    p[1] == ' ' && p[2] == 'Z')
				return (0);
		}
		usleep(20000);
		waited += 20;
	}
	return (-1);
}
