/*
 * sink: a receiver for notification tests, on 127.0.0.1 only. An HTTP
 * server that records every request and answers 200 (or what a --route
 * says), and an SMTP server that speaks just enough (EHLO/HELO, AUTH
 * PLAIN and LOGIN accepting anything, MAIL, RCPT, DATA, RSET, NOOP, QUIT,
 * and STARTTLS when given a certificate) and records each message. One
 * connection at a time.
 *
 *   sink --dir DIR [--port N] [--smtp-port N] [--port-file F]
 *        [--smtp-port-file F] [--route PREFIX=STATUS:BODY]...
 *        [--tls-cert F --tls-key F [--smtps-port N] [--smtps-port-file F]]
 *   sink --has-tls
 *
 * With --tls-cert and --tls-key (PEM) the SMTP port offers STARTTLS, and
 * --smtps-port or --smtps-port-file opens a port that is TLS from the
 * first byte (implicit TLS, "smtps"). TLS needs the sink built with
 * OpenSSL (SINK_TLS); `sink --has-tls` exits 0 when it was, so a test
 * can skip what it cannot check. The product never links OpenSSL.
 *
 * Each request or message is written to DIR/N.json (N = 1, 2, ..., on
 * from the highest N already there):
 *   {"proto":"http","method","path","query","headers":{lower-case name:
 *    value},"body"}
 *   {"proto":"smtp","tls":false,"helo","auth_user","auth_pass",
 *    "mail_from","rcpt":[],"data"}
 * "tls" says whether the message came over TLS. A session that sent AUTH
 * or MAIL but no message is written too, with "incomplete": true, so a
 * test can see a password that went out without a mail after it. The
 * first --route whose PREFIX starts the path gives the reply's status and
 * body; without one the reply is 200 {"ok":true,"errcode":0,"code":0}.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#ifdef SINK_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#define SINK_MAX	(4 * 1024 * 1024)
#define SINK_ROUTES	16

static const char	*sink_dir;
static int		 sink_seq;
static struct {
	char	*prefix;
	int	 status;
	char	*body;
} sink_routes[SINK_ROUTES];
static int		 sink_nroutes;

/* An SMTP connection: plain until STARTTLS, or TLS from the start. */
struct sink_conn {
	int	 fd;
#ifdef SINK_TLS
	SSL	*ssl;		/* NULL while plain */
#endif
};
#ifdef SINK_TLS
static SSL_CTX		*sink_tls;	/* NULL: no certificate, no TLS */
#endif

static int
sink_listen(int port, const char *port_file)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd, one = 1;
	FILE			*f;
	char			 tmp[4096];

	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 16) != 0) {
		perror("sink: bind");
		exit(1);
	}
	getsockname(fd, (struct sockaddr *)&sin, &len);
	if (port_file != NULL) {
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		if ((f = fopen(tmp, "w")) == NULL) {
			perror(tmp);
			exit(1);
		}
		fprintf(f, "%d\n", ntohs(sin.sin_port));
		fclose(f);
		rename(tmp, port_file);
	}
	return (fd);
}

static void
sink_record(json_t *o)
{
	char	path[4096], tmp[4200];

	snprintf(path, sizeof path, "%s/%d.json", sink_dir, ++sink_seq);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	json_dump_file(o, tmp, JSON_INDENT(1));
	rename(tmp, path);
	json_decref(o);
}

/* Read until the buffer holds "\r\n\r\n" plus Content-Length bytes. */
static void
sink_http(int fd)
{
	char		*buf, *hend, *line, *next, *colon, *q, *reply;
	const char	*rbody = "{\"ok\":true,\"errcode\":0,\"code\":0}";
	size_t		 len = 0, clen = 0, i;
	ssize_t		 n;
	json_t		*o, *hdrs;
	int		 status = 200;
	char		 method[16], target[8192];

	buf = malloc(SINK_MAX + 1);
	for (;;) {
		buf[len] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")) != NULL) {
			q = strcasestr(buf, "\r\ncontent-length:");
			if (q != NULL && q < hend)
				clen = strtoul(q + 17, NULL, 10);
			if (len >= (size_t)(hend + 4 - buf) + clen)
				break;
		}
		if (len == SINK_MAX ||
		    (n = read(fd, buf + len, SINK_MAX - len)) <= 0) {
			free(buf);
			return;
		}
		len += n;
	}
	if (sscanf(buf, "%15s %8191s", method, target) != 2) {
		free(buf);
		return;
	}
	o = json_object();
	hdrs = json_object();
	json_object_set_new(o, "proto", json_string("http"));
	json_object_set_new(o, "method", json_string(method));
	if ((q = strchr(target, '?')) != NULL) {
		*q++ = '\0';
		json_object_set_new(o, "query", json_string(q));
	}
	json_object_set_new(o, "path", json_string(target));
	*hend = '\0';
	line = strstr(buf, "\r\n") + 2;
	for (; line != NULL && *line != '\0'; line = next) {
		if ((next = strstr(line, "\r\n")) != NULL) {
			*next = '\0';
			next += 2;
		}
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		for (i = 0; line[i] != '\0'; i++)
			line[i] = tolower((unsigned char)line[i]);
		json_object_set_new(hdrs, line, json_string(colon));
	}
	json_object_set_new(o, "headers", hdrs);
	json_object_set_new(o, "body", json_stringn(hend + 4, clen));
	sink_record(o);
	for (i = 0; i < (size_t)sink_nroutes; i++) {
		if (strncmp(target, sink_routes[i].prefix,
		    strlen(sink_routes[i].prefix)) == 0) {
			status = sink_routes[i].status;
			rbody = sink_routes[i].body;
			break;
		}
	}
	if (asprintf(&reply, "HTTP/1.1 %d Sink\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s", status, strlen(rbody), rbody) > 0) {
		if (write(fd, reply, strlen(reply)) < 0)
			perror("sink: write");
		free(reply);
	}
	free(buf);
}

static ssize_t
sink_read(struct sink_conn *c, void *p, size_t n)
{
#ifdef SINK_TLS
	if (c->ssl != NULL)
		return (SSL_read(c->ssl, p, (int)n));
#endif
	return (read(c->fd, p, n));
}

/*
 * One line, without CRLF; NULL at EOF. Byte by byte: it is a test, and
 * nothing read ahead of a STARTTLS can leak into the TLS side.
 */
static char *
sink_line(struct sink_conn *c)
{
	static char	line[65536];
	size_t		n = 0;
	char		ch;

	while (n < sizeof line - 1) {
		if (sink_read(c, &ch, 1) != 1)
			return (n > 0 ? (line[n] = '\0', line) : NULL);
		if (ch == '\n')
			break;
		line[n++] = ch;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return (line);
}

static void
sink_say(struct sink_conn *c, const char *s)
{
#ifdef SINK_TLS
	if (c->ssl != NULL) {
		if (SSL_write(c->ssl, s, (int)strlen(s)) <= 0)
			fprintf(stderr, "sink: TLS write failed\n");
		return;
	}
#endif
	if (write(c->fd, s, strlen(s)) < 0)
		perror("sink: write");
}

/* Turn c to TLS (server side); -1 when the handshake failed. */
static int
sink_starttls(struct sink_conn *c)
{
#ifdef SINK_TLS
	if ((c->ssl = SSL_new(sink_tls)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 || SSL_accept(c->ssl) != 1) {
		fprintf(stderr, "sink: TLS handshake failed\n");
		ERR_print_errors_fp(stderr);
		SSL_free(c->ssl);
		c->ssl = NULL;
		return (-1);
	}
	return (0);
#else
	return (-1);
#endif
}

static int
sink_is_tls(struct sink_conn *c)
{
#ifdef SINK_TLS
	return (c->ssl != NULL);
#else
	return (0);
#endif
}

static int
sink_offers_tls(void)
{
#ifdef SINK_TLS
	return (sink_tls != NULL);
#else
	return (0);
#endif
}

static void
sink_conn_close(struct sink_conn *c)
{
#ifdef SINK_TLS
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
#endif
	close(c->fd);
}

/* Decode base64 (no checks: it is a test); owned. */
static char *
sink_unb64(const char *s)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*out = calloc(1, strlen(s) + 1), *p;
	unsigned int		 v = 0;
	int			 bits = 0;
	size_t			 n = 0;

	for (; *s != '\0' && *s != '='; s++) {
		if ((p = strchr(tab, *s)) == NULL)
			continue;
		v = v << 6 | (unsigned int)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (v >> bits) & 0xff;
		}
	}
	/* PLAIN is "authzid\0user\0pass": make the NULs visible. */
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = '|';
	return (out);
}

/* What a session knew before STARTTLS is forgotten (RFC 3207, 4.2). */
static void
sink_smtp_forget(json_t *o)
{
	static const char *const keys[] = { "helo", "auth", "auth_plain",
	    "auth_user", "auth_pass", "mail_from" };
	size_t			 i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		json_object_del(o, keys[i]);
	json_array_clear(json_object_get(o, "rcpt"));
}

static void
sink_smtp_record(json_t *o, struct sink_conn *c)
{
	json_object_set_new(o, "tls", json_boolean(sink_is_tls(c)));
	sink_record(json_deep_copy(o));
}

static void
sink_smtp(struct sink_conn *c)
{
	json_t		*o = json_object(), *rcpt = json_array();
	char		*l, *d;
	size_t		 dlen = 0;
	char		*data = malloc(SINK_MAX + 1);
	int		 pending = 0;	/* AUTH or MAIL seen, no message yet */

	json_object_set_new(o, "proto", json_string("smtp"));
	json_object_set_new(o, "rcpt", rcpt);
	sink_say(c, "220 sink ESMTP\r\n");
	while ((l = sink_line(c)) != NULL) {
		if (strncasecmp(l, "EHLO", 4) == 0) {
			json_object_set_new(o, "helo", json_string(l + 5));
			sink_say(c, "250-sink\r\n250-AUTH PLAIN LOGIN\r\n");
			if (sink_offers_tls() && !sink_is_tls(c))
				sink_say(c, "250-STARTTLS\r\n");
			sink_say(c, "250-8BITMIME\r\n250 SIZE 10000000\r\n");
		} else if (strncasecmp(l, "HELO", 4) == 0) {
			json_object_set_new(o, "helo", json_string(l + 5));
			sink_say(c, "250 sink\r\n");
		} else if (strncasecmp(l, "STARTTLS", 8) == 0 &&
		    sink_offers_tls() && !sink_is_tls(c)) {
			/* What went out in the clear is kept on record. */
			if (pending) {
				json_object_set_new(o, "incomplete",
				    json_true());
				sink_smtp_record(o, c);
				json_object_del(o, "incomplete");
				pending = 0;
			}
			sink_say(c, "220 ready to start TLS\r\n");
			if (sink_starttls(c) != 0)
				break;
			sink_smtp_forget(o);
		} else if (strncasecmp(l, "AUTH PLAIN", 10) == 0) {
			pending = 1;
			if (l[10] == ' ')
				d = sink_unb64(l + 11);
			else {
				sink_say(c, "334 \r\n");
				d = sink_unb64((l = sink_line(c)) != NULL ?
				    l : "");
			}
			json_object_set_new(o, "auth", json_string("PLAIN"));
			json_object_set_new(o, "auth_plain", json_string(d));
			free(d);
			sink_say(c, "235 ok\r\n");
		} else if (strncasecmp(l, "AUTH LOGIN", 10) == 0) {
			pending = 1;
			json_object_set_new(o, "auth", json_string("LOGIN"));
			if (l[10] == ' ')
				d = sink_unb64(l + 11);
			else {
				sink_say(c, "334 VXNlcm5hbWU6\r\n");
				d = sink_unb64((l = sink_line(c)) != NULL ?
				    l : "");
			}
			json_object_set_new(o, "auth_user", json_string(d));
			free(d);
			sink_say(c, "334 UGFzc3dvcmQ6\r\n");
			d = sink_unb64((l = sink_line(c)) != NULL ? l : "");
			json_object_set_new(o, "auth_pass", json_string(d));
			free(d);
			sink_say(c, "235 ok\r\n");
		} else if (strncasecmp(l, "MAIL FROM:", 10) == 0) {
			pending = 1;
			json_object_set_new(o, "mail_from",
			    json_string(l + 10));
			sink_say(c, "250 ok\r\n");
		} else if (strncasecmp(l, "RCPT TO:", 8) == 0) {
			json_array_append_new(rcpt, json_string(l + 8));
			sink_say(c, "250 ok\r\n");
		} else if (strncasecmp(l, "DATA", 4) == 0) {
			sink_say(c, "354 go on\r\n");
			dlen = 0;
			while ((l = sink_line(c)) != NULL &&
			    strcmp(l, ".") != 0) {
				if (l[0] == '.')
					l++;
				if (dlen + strlen(l) + 2 > SINK_MAX)
					break;
				memcpy(data + dlen, l, strlen(l));
				dlen += strlen(l);
				memcpy(data + dlen, "\r\n", 2);
				dlen += 2;
			}
			json_object_set_new(o, "data", json_stringn(data,
			    dlen));
			sink_smtp_record(o, c);
			pending = 0;
			sink_say(c, "250 queued\r\n");
		} else if (strncasecmp(l, "QUIT", 4) == 0) {
			sink_say(c, "221 bye\r\n");
			break;
		} else if (strncasecmp(l, "RSET", 4) == 0 ||
		    strncasecmp(l, "NOOP", 4) == 0)
			sink_say(c, "250 ok\r\n");
		else
			sink_say(c, "502 not here\r\n");
	}
	if (pending) {
		json_object_set_new(o, "incomplete", json_true());
		sink_smtp_record(o, c);
	}
	json_decref(o);
	free(data);
}

#ifdef SINK_TLS
static void
sink_tls_init(const char *cert, const char *key)
{
	if ((sink_tls = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate_chain_file(sink_tls, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(sink_tls, key, SSL_FILETYPE_PEM) !=
	    1 || SSL_CTX_check_private_key(sink_tls) != 1) {
		fprintf(stderr, "sink: cannot use %s and %s\n", cert, key);
		ERR_print_errors_fp(stderr);
		exit(1);
	}
}
#endif

int
main(int argc, char **argv)
{
	struct pollfd	 pfd[3];
	struct timeval	 tv = { 5, 0 };
	struct sink_conn c;
	const char	*port_file = NULL, *smtp_port_file = NULL;
	const char	*smtps_port_file = NULL, *cert = NULL, *key = NULL;
	char		*eq, *colon;
	int		 i, port = 0, smtp_port = 0, smtps_port = -1, fd, n;
	DIR		*d;
	struct dirent	*de;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && strcmp(argv[1], "--has-tls") == 0) {
#ifdef SINK_TLS
		return (0);
#else
		fprintf(stderr, "sink: built without OpenSSL: no TLS\n");
		return (1);
#endif
	}
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--dir") == 0)
			sink_dir = argv[++i];
		else if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--smtp-port") == 0)
			smtp_port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--smtps-port") == 0)
			smtps_port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--port-file") == 0)
			port_file = argv[++i];
		else if (strcmp(argv[i], "--smtp-port-file") == 0)
			smtp_port_file = argv[++i];
		else if (strcmp(argv[i], "--smtps-port-file") == 0)
			smtps_port_file = argv[++i];
		else if (strcmp(argv[i], "--tls-cert") == 0)
			cert = argv[++i];
		else if (strcmp(argv[i], "--tls-key") == 0)
			key = argv[++i];
		else if (strcmp(argv[i], "--route") == 0 &&
		    sink_nroutes < SINK_ROUTES) {
			eq = strchr(argv[++i], '=');
			colon = eq != NULL ? strchr(eq, ':') : NULL;
			if (colon == NULL)
				goto usage;
			sink_routes[sink_nroutes].prefix = strndup(argv[i],
			    eq - argv[i]);
			sink_routes[sink_nroutes].status = atoi(eq + 1);
			sink_routes[sink_nroutes].body = colon + 1;
			sink_nroutes++;
		} else
			goto usage;
	}
	if (smtps_port_file != NULL && smtps_port == -1)
		smtps_port = 0;
	if (sink_dir == NULL || (cert == NULL) != (key == NULL) ||
	    (smtps_port != -1 && cert == NULL))
		goto usage;
	if (cert != NULL) {
#ifdef SINK_TLS
		sink_tls_init(cert, key);
#else
		fprintf(stderr, "sink: built without OpenSSL: no TLS\n");
		return (2);
#endif
	}
	/* A restarted sink numbers on from the requests already there. */
	if ((d = opendir(sink_dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (atoi(de->d_name) > sink_seq)
				sink_seq = atoi(de->d_name);
		closedir(d);
	}
	pfd[0].fd = sink_listen(port, port_file);
	pfd[1].fd = sink_listen(smtp_port, smtp_port_file);
	n = 2;
	if (smtps_port != -1)
		pfd[n++].fd = sink_listen(smtps_port, smtps_port_file);
	for (i = 0; i < n; i++)
		pfd[i].events = POLLIN;
	for (;;) {
		if (poll(pfd, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			perror("sink: poll");
			return (1);
		}
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if ((fd = accept(pfd[i].fd, NULL, NULL)) == -1)
				continue;
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			memset(&c, 0, sizeof c);
			c.fd = fd;
			if (i == 0)
				sink_http(fd);
			else if (i == 1 || sink_starttls(&c) == 0)
				sink_smtp(&c);
			sink_conn_close(&c);
		}
	}
usage:
	fprintf(stderr, "usage: sink --dir DIR [--port N] [--smtp-port N] "
	    "[--port-file F] [--smtp-port-file F] "
	    "[--route PREFIX=STATUS:BODY]... [--tls-cert F --tls-key F "
	    "[--smtps-port N] [--smtps-port-file F]]\n"
	    "       sink --has-tls\n");
	return (2);
}
