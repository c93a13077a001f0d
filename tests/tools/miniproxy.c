/*
 * miniproxy: a forward proxy for the tests, on 127.0.0.1 only.
 *
 *   miniproxy --port-file PATH --log PATH
 *   miniproxy --blackhole --port-file PATH
 *
 * One port speaks both SOCKS5 (no authentication, or a user name and
 * password) and HTTP (absolute-form requests and CONNECT), told apart by
 * the first byte. Every connection it relays is logged as one line,
 * "socks5 HOST:PORT [user=U]" or "http METHOD TARGET [auth]", so that a
 * test can tell that a request went through it and how; a client that
 * opens with a TLS hello (an https:// proxy) is logged "tls hello" and
 * closed, as this proxy speaks no TLS. It connects only
 * to 127.0.0.1 or localhost; anything else is refused.
 *
 * --blackhole instead listens with a full accept queue and never accepts:
 * a client's connect then hangs until its connect timeout.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MP_HEAD_MAX	16384

static const char	*mp_log;

static int	mp_write_full(int, const void *, size_t);

static void
mp_logf(const char *line)
{
	int	fd;

	/* One write per line with O_APPEND: children never interleave. */
	if ((fd = open(mp_log, O_WRONLY | O_CREAT | O_APPEND, 0600)) == -1)
		return;
	(void)mp_write_full(fd, line, strlen(line));
	close(fd);
}

static int
mp_read_full(int fd, void *p, size_t n)
{
	size_t	got = 0;
	ssize_t	r;

	while (got < n) {
		r = read(fd, (char *)p + got, n - got);
		if (r <= 0)
			return (-1);
		got += (size_t)r;
	}
	return (0);
}

static int
mp_write_full(int fd, const void *p, size_t n)
{
	size_t	done = 0;
	ssize_t	w;

	while (done < n) {
		w = write(fd, (const char *)p + done, n - done);
		if (w <= 0)
			return (-1);
		done += (size_t)w;
	}
	return (0);
}

static void
mp_say(int fd, const char *s)
{
	(void)mp_write_full(fd, s, strlen(s));
}

/* A connection to a loopback host only; -1 otherwise. */
static int
mp_connect(const char *host, int port)
{
	struct sockaddr_in	sin;
	int			fd;

	if (strcmp(host, "127.0.0.1") != 0 && strcasecmp(host,
	    "localhost") != 0)
		return (-1);
	if (port < 1 || port > 65535)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Copy both ways until both sides are done. */
static void
mp_pipe(int a, int b)
{
	struct pollfd	pfd[2];
	char		buf[65536];
	ssize_t		n;
	int		open_a = 1, open_b = 1;

	while (open_a || open_b) {
		pfd[0].fd = open_a ? a : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = open_b ? b : -1;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, 30000) <= 0)
			return;
		if (pfd[0].revents != 0) {
			if ((n = read(a, buf, sizeof buf)) <= 0 ||
			    mp_write_full(b, buf, (size_t)n) != 0) {
				shutdown(b, SHUT_WR);
				open_a = 0;
			}
		}
		if (pfd[1].revents != 0) {
			if ((n = read(b, buf, sizeof buf)) <= 0 ||
			    mp_write_full(a, buf, (size_t)n) != 0) {
				shutdown(a, SHUT_WR);
				open_b = 0;
			}
		}
	}
}

static void
mp_socks5(int c)
{
	unsigned char	 h[4], m[256], len, port[2], ip[4];
	char		 host[256], user[256], line[600];
	int		 up, i, want_auth = 0, no_auth = 0;

	user[0] = '\0';
	if (mp_read_full(c, h, 2) != 0 || mp_read_full(c, m, h[1]) != 0)
		return;
	for (i = 0; i < h[1]; i++) {
		want_auth |= m[i] == 0x02;
		no_auth |= m[i] == 0x00;
	}
	if (want_auth) {
		/* RFC 1929: version 1, user, password. */
		mp_write_full(c, "\x05\x02", 2);
		if (mp_read_full(c, h, 1) != 0 || mp_read_full(c, &len, 1) != 0 ||
		    mp_read_full(c, user, len) != 0)
			return;
		user[len] = '\0';
		if (mp_read_full(c, &len, 1) != 0 || mp_read_full(c, m, len) != 0)
			return;
		mp_write_full(c, "\x01\x00", 2);
	} else if (no_auth)
		mp_write_full(c, "\x05\x00", 2);
	else {
		mp_write_full(c, "\x05\xff", 2);
		return;
	}
	if (mp_read_full(c, h, 4) != 0 || h[1] != 0x01)
		return;
	if (h[3] == 0x01) {
		if (mp_read_full(c, ip, 4) != 0)
			return;
		snprintf(host, sizeof host, "%u.%u.%u.%u", ip[0], ip[1], ip[2],
		    ip[3]);
	} else if (h[3] == 0x03) {
		if (mp_read_full(c, &len, 1) != 0 || mp_read_full(c, host,
		    len) != 0)
			return;
		host[len] = '\0';
	} else
		return;
	if (mp_read_full(c, port, 2) != 0)
		return;
	if ((up = mp_connect(host, port[0] << 8 | port[1])) == -1) {
		mp_write_full(c, "\x05\x02\x00\x01\0\0\0\0\0\0", 10);
		return;
	}
	snprintf(line, sizeof line, "socks5 %s:%d%s%s\n", host,
	    port[0] << 8 | port[1], user[0] != '\0' ? " user=" : "", user);
	mp_logf(line);
	mp_write_full(c, "\x05\x00\x00\x01\0\0\0\0\0\0", 10);
	mp_pipe(c, up);
	close(up);
}

/* "host:port" (after "http://" or alone) -> host, port; the rest after. */
static const char *
mp_hostport(const char *s, char *host, size_t size, int *port)
{
	size_t	 n = strcspn(s, ":/ ");
	char	*end;

	if (n == 0 || n >= size)
		return (NULL);
	memcpy(host, s, n);
	host[n] = '\0';
	s += n;
	*port = 80;
	if (*s == ':') {
		*port = (int)strtol(s + 1, &end, 10);
		s = end;
	}
	return (s);
}

static void
mp_http(int c)
{
	char		 head[MP_HEAD_MAX + 1], host[256], method[16], line[1200];
	char		*end, *p, *q, *rest;
	const char	*after;
	size_t		 len = 0, restlen;
	ssize_t		 n;
	int		 up, port, auth;

	while ((end = memmem(head, len, "\r\n\r\n", 4)) == NULL) {
		if (len >= MP_HEAD_MAX)
			return;
		if ((n = read(c, head + len, MP_HEAD_MAX - len)) <= 0)
			return;
		len += (size_t)n;
	}
	head[len] = '\0';
	rest = end + 4;
	restlen = len - (size_t)(rest - head);
	if (sscanf(head, "%15s", method) != 1)
		return;
	p = head + strlen(method) + 1;
	auth = strcasestr(head, "\r\nProxy-Authorization:") != NULL;
	if (strcmp(method, "CONNECT") == 0) {
		if ((after = mp_hostport(p, host, sizeof host, &port)) == NULL ||
		    (up = mp_connect(host, port)) == -1) {
			mp_say(c, "HTTP/1.1 403 Forbidden\r\n"
			    "Content-Length: 0\r\n\r\n");
			return;
		}
		snprintf(line, sizeof line, "http CONNECT %s:%d%s\n", host,
		    port, auth ? " auth" : "");
		mp_logf(line);
		mp_say(c, "HTTP/1.1 200 Connection established\r\n\r\n");
		if (restlen > 0)
			mp_write_full(up, rest, restlen);
		mp_pipe(c, up);
		close(up);
		return;
	}
	if (strncmp(p, "http://", 7) != 0 || (after = mp_hostport(p + 7, host,
	    sizeof host, &port)) == NULL || (up = mp_connect(host,
	    port)) == -1) {
		mp_say(c, "HTTP/1.1 403 Forbidden\r\n"
		    "Content-Length: 0\r\n\r\n");
		return;
	}
	q = strchr(p, ' ');
	snprintf(line, sizeof line, "http %s %.*s%s\n", method,
	    q != NULL ? (int)(q - p) : 0, p, auth ? " auth" : "");
	mp_logf(line);
	/* The request line in origin form; the proxy's own headers dropped. */
	mp_write_full(up, method, strlen(method));
	mp_write_full(up, " ", 1);
	mp_write_full(up, after, strcspn(after, "\r\n"));
	mp_write_full(up, "\r\n", 2);
	for (p = strstr(head, "\r\n") + 2; p < end + 2; p = q + 2) {
		q = strstr(p, "\r\n");
		if (strncasecmp(p, "Proxy-", 6) != 0)
			mp_write_full(up, p, (size_t)(q + 2 - p));
	}
	mp_write_full(up, "\r\n", 2);
	if (restlen > 0)
		mp_write_full(up, rest, restlen);
	mp_pipe(c, up);
	close(up);
}

static int
mp_listen(int backlog, const char *port_file, int *portp)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof sin;
	char			 tmp[4096];
	FILE			*f;
	int			 fd, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, backlog) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		perror("miniproxy: listen");
		exit(1);
	}
	*portp = ntohs(sin.sin_port);
	snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
	if ((f = fopen(tmp, "w")) == NULL) {
		perror(tmp);
		exit(1);
	}
	fprintf(f, "%d\n", *portp);
	fclose(f);
	rename(tmp, port_file);
	return (fd);
}

/* Fill the accept queue of a backlog-0 socket, then never accept. */
static void
mp_blackhole(const char *port_file)
{
	struct sockaddr_in	sin;
	int			port, i, fd;

	(void)mp_listen(0, port_file, &port);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 4; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) ==
		    -1)
			break;
		(void)connect(fd, (struct sockaddr *)&sin, sizeof sin);
	}
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	struct sigaction	 sa;
	const char		*port_file = NULL;
	unsigned char		 first;
	int			 i, fd, c, port, blackhole = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			port_file = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			mp_log = argv[++i];
		else if (strcmp(argv[i], "--blackhole") == 0)
			blackhole = 1;
		else
			port_file = NULL, i = argc;
	}
	if (port_file == NULL || (!blackhole && mp_log == NULL)) {
		fprintf(stderr, "usage: miniproxy --port-file PATH --log PATH\n"
		    "       miniproxy --blackhole --port-file PATH\n");
		return (2);
	}
	if (blackhole)
		mp_blackhole(port_file);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = mp_listen(64, port_file, &port);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			perror("miniproxy: accept");
			return (1);
		}
		if (fork() == 0) {
			close(fd);
			/* No child outlives a test, whatever a client does. */
			alarm(60);
			if (recv(c, &first, 1, MSG_PEEK) == 1) {
				/* A TLS hello: this proxy speaks none. */
				if (first == 0x05)
					mp_socks5(c);
				else if (first != 0x16)
					mp_http(c);
				else
					mp_logf("tls hello\n");
			}
			close(c);
			_exit(0);
		}
		close(c);
	}
}
