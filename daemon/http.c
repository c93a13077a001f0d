/*
 * The HTTP side: civetweb set up with explicit limits and no file serving
 * (no document_root, no CGI, no forms: civetweb's CVEs live there), and
 * the route table. For now it serves /healthz and /readyz; the /v1 proxy
 * surface registers here too. This module owns the civetweb context and
 * the readiness flag that worker threads read.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <limits.h>
#include <poll.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>
#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "daemon.h"
#include "log.h"
#include "relay.h"
#include "setting.h"
#include "snapshot.h"
#include "xmalloc.h"

/*
 * How long a stop waits for requests in flight: under the 120 s that
 * `metapi stop` and the systemd unit (TimeoutStopSec) wait for the exit.
 */
#define HTTP_DRAIN_MAX_MS	(100 * 1000)

typedef int (*http_handler_cb)(struct mg_connection *, void *);

struct http_route {
	const char	*path;		/* civetweb URI pattern */
	http_handler_cb	 handler;
	const void	*arg;		/* handed to the handler */
	const char	*help;
	int		 draining;	/* still served while draining */
};

static const enum relay_format http_fmt[RELAY_FORMAT_COUNT] = {
	RELAY_CHAT, RELAY_COMPLETIONS, RELAY_EMBEDDINGS, RELAY_IMAGES,
	RELAY_RESPONSES, RELAY_MESSAGES, RELAY_COUNT_TOKENS
};

static struct mg_context	*http_ctx;
static atomic_int		 http_ready;
static atomic_llong		 http_max_body;	/* bytes; from settings */
static atomic_int		 http_stopped;	/* mg_stop() has returned */
static atomic_int		 http_busy;	/* requests inside a handler */
static char			 http_address[128];

/*
 * The X-Request-Id header line of the request a relay handler is serving
 * on conn (its id set with mg_set_user_connection_data), or "".
 */
void
http_id_header(const struct mg_connection *conn, char *out, size_t len)
{
	const char	*rid = mg_get_user_connection_data(conn);

	if (rid == NULL || *rid == '\0' ||
	    (size_t)snprintf(out, len, "X-Request-Id: %s\r\n", rid) >= len)
		*out = '\0';
}

static void
http_reply_json(struct mg_connection *conn, int status, const char *body)
{
	char	idh[64];

	http_id_header(conn, idh, sizeof idh);
	mg_printf(conn, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s"
	    "\r\n%s", status, mg_get_response_code_text(conn, status),
	    strlen(body), idh, body);
}

/*
 * Reply heads and stream chunks are built whole and leave in one
 * mg_write(): civetweb's mg_response_header_send() sends every header
 * line, and mg_send_chunk() a chunk's size, data and end, each with a
 * send(2) of its own. With TCP_NODELAY (which streams need) each send is
 * a packet the client wakes up for: nine for a small reply, three per
 * stream event, measured in the tail latency at concurrency 1.
 */
void
http_head_start(struct buf *b, const struct mg_connection *conn, int status)
{
	buf_reset(b);
	buf_printf(b, "HTTP/1.1 %d %s\r\n", status,
	    mg_get_response_code_text(conn, status));
}

void
http_head_add(struct buf *b, const char *name, const char *value)
{
	buf_addstr(b, name);
	buf_add(b, ": ", 2);
	buf_addstr(b, value);
	buf_add(b, "\r\n", 2);
}

/*
 * The head's end: Date, and Connection where the default of the client's
 * HTTP version is not what civetweb will do (it keeps an HTTP/1.0
 * connection open only when asked to, and closes one the client closes).
 */
void
http_head_end(struct buf *b, struct mg_connection *conn)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	const char			*c = mg_get_header(conn, "Connection");
	char				 date[64];
	struct tm			 tm;
	time_t				 now = time(NULL);

	if (gmtime_r(&now, &tm) != NULL && strftime(date, sizeof date,
	    "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		http_head_add(b, "Date", date);
	if (c != NULL && strcasecmp(c, "close") == 0)
		http_head_add(b, "Connection", "close");
	else if (ri->http_version != NULL &&
	    strcmp(ri->http_version, "1.0") == 0)
		http_head_add(b, "Connection", c != NULL &&
		    strcasecmp(c, "keep-alive") == 0 ? "keep-alive" : "close");
	buf_add(b, "\r\n", 2);
}

/* Send b whole: 0, or -1 when the client is gone. */
int
http_write(struct mg_connection *conn, const struct buf *b)
{
	if (b->len == 0)
		return (0);
	return (mg_write(conn, b->data, b->len) == (int)b->len ? 0 : -1);
}

/* One chunk of a chunked reply, framed in b; len 0 ends the reply. */
int
http_chunk(struct mg_connection *conn, struct buf *b, const void *p,
    size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 t[2 * sizeof len + 2], *q = t + sizeof t;
	size_t			 n = len;

	*--q = '\n';
	*--q = '\r';
	do {
		*--q = hex[n & 0xf];
	} while ((n >>= 4) != 0);
	buf_reset(b);
	buf_add(b, q, (size_t)(t + sizeof t - q));
	if (len > 0)
		buf_add(b, p, len);
	buf_add(b, "\r\n", 2);
	return (http_write(conn, b));
}

/* "host" and port of a socket address; IPv4-mapped IPv6 as IPv4. */
static int
http_addr(const struct sockaddr_storage *ss, char *host, size_t len,
    int *port)
{
	const struct sockaddr_in	*v4 = (const void *)ss;
	const struct sockaddr_in6	*v6 = (const void *)ss;
	struct in_addr			 a;

	if (ss->ss_family == AF_INET) {
		*port = ntohs(v4->sin_port);
		return (inet_ntop(AF_INET, &v4->sin_addr, host, len) != NULL ?
		    0 : -1);
	}
	if (ss->ss_family != AF_INET6)
		return (-1);
	*port = ntohs(v6->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
		memcpy(&a, &v6->sin6_addr.s6_addr[12], sizeof a);
		return (inet_ntop(AF_INET, &a, host, len) != NULL ? 0 : -1);
	}
	return (inet_ntop(AF_INET6, &v6->sin6_addr, host, len) != NULL ? 0 : -1);
}

/*
 * The socket of a client's connection, or -1. civetweb 1.15 has no
 * accessor for it, and a request waiting on a slow upstream must notice
 * a client that hung up, or the upstream goes on generating (and
 * billing) for nobody: find the descriptor whose peer is the request's
 * and whose local port is the listener's. Only requests that have
 * waited a while ask, once.
 */
int
http_client_fd(struct mg_connection *conn)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	struct sockaddr_storage		 ss;
	struct dirent			*de;
	socklen_t			 len;
	char				 host[INET6_ADDRSTRLEN];
	const char			*errstr;
	int				 fd, port, found = -1;
	DIR				*d;

	if (ri == NULL || (d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while (found == -1 && (de = readdir(d)) != NULL) {
		fd = (int)strtonum(de->d_name, 3, INT_MAX, &errstr);
		if (fd == 0 || fd == dirfd(d))	/* ".", "..", 0-2 */
			continue;
		len = sizeof ss;
		if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
		    http_addr(&ss, host, sizeof host, &port) != 0 ||
		    port != ri->remote_port || strcmp(host, ri->remote_addr) != 0)
			continue;
		len = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
		    http_addr(&ss, host, sizeof host, &port) == 0 &&
		    port == ri->server_port)
			found = fd;
	}
	closedir(d);
	return (found);
}

/* Has the peer of fd hung up? Data it sent (pipelining) is not a hang-up. */
int
http_client_gone(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLRDHUP };

	if (poll(&pfd, 1, 0) != 1)
		return (0);
	return ((pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0);
}

static int
http_healthz(struct mg_connection *conn, __unused void *arg)
{
	http_reply_json(conn, 200, "{\"status\":\"ok\"}\n");
	return (200);
}

/*
 * Ready once start-up finished and the routing snapshot is built, while
 * the database takes writes; not ready while draining at shutdown. The
 * reason goes with a 503, for the operator looking at a load balancer.
 */
static int
http_readyz(struct mg_connection *conn, __unused void *arg)
{
	struct snapshot	*snap;
	const char	*why = NULL;
	char		 body[128];

	if (!atomic_load(&http_ready))
		why = "draining";
	else if ((snap = snapshot_get()) == NULL)
		why = "routing snapshot not built";
	else {
		snapshot_put(snap);
		if (logwriter_failing())
			why = "database not writable";
	}
	if (why == NULL) {
		http_reply_json(conn, 200, "{\"status\":\"ready\"}\n");
		return (200);
	}
	if (strcmp(why, "draining") == 0)
		snprintf(body, sizeof body, "{\"status\":\"draining\"}\n");
	else
		snprintf(body, sizeof body, "{\"status\":\"not_ready\","
		    "\"reason\":\"%s\"}\n", why);
	http_reply_json(conn, 503, body);
	return (503);
}

static int
http_not_found(struct mg_connection *conn, __unused void *arg)
{
	http_reply_json(conn, 404, "{\"error\":{\"message\":\"not found\","
	    "\"type\":\"invalid_request_error\",\"code\":\"not_found\"}}\n");
	return (404);
}

/* A JSON reply; the body is compact JSON and a newline. */
void
http_send_json(struct mg_connection *conn, int status, const json_t *o)
{
	char	*s;

	s = json_dumps(o, JSON_COMPACT);
	http_reply_json(conn, status, s != NULL ? s : "{}");
	free(s);
}

/* Exact paths first; the catch-all last. */
static const struct http_route http_route_table[] = {
	{ "/v1/models$", http_models, NULL, "models the key may use (OpenAI "
	    "or Anthropic shape)", 0 },
	{ "/v1/chat/completions$", http_proxy, &http_fmt[RELAY_CHAT],
	    "OpenAI chat", 0 },
	{ "/chat/completions$", http_proxy, &http_fmt[RELAY_CHAT],
	    "OpenAI chat, without /v1", 0 },
	{ "/v1/completions$", http_proxy, &http_fmt[RELAY_COMPLETIONS],
	    "OpenAI legacy completions", 0 },
	{ "/v1/embeddings$", http_proxy, &http_fmt[RELAY_EMBEDDINGS],
	    "OpenAI embeddings", 0 },
	{ "/v1/images/generations$", http_proxy, &http_fmt[RELAY_IMAGES],
	    "OpenAI image generation", 0 },
	{ "/v1/responses$", http_proxy, &http_fmt[RELAY_RESPONSES],
	    "OpenAI Responses", 0 },
	{ "/responses$", http_proxy, &http_fmt[RELAY_RESPONSES],
	    "OpenAI Responses, without /v1", 0 },
	{ "/v1/messages$", http_proxy, &http_fmt[RELAY_MESSAGES],
	    "Anthropic Messages", 0 },
	{ "/v1/messages/count_tokens$", http_proxy,
	    &http_fmt[RELAY_COUNT_TOKENS], "Anthropic token counting", 0 },
	{ "/v1/files$", http_files, NULL, "upload (POST, multipart) and list "
	    "(GET) the key's files", 0 },
	{ "/v1/files/*/content$", http_files_content, NULL,
	    "a file's bytes", 0 },
	{ "/v1/files/*$", http_files_one, NULL, "a file (GET), or delete it "
	    "(DELETE)", 0 },
	{ "/metrics$", http_metrics, NULL, "counters and histograms in the "
	    "Prometheus text format", 0 },
	{ "/healthz$", http_healthz, NULL, "liveness: 200 while the process "
	    "runs", 1 },
	{ "/readyz$", http_readyz, NULL, "readiness: 200 when serving, 503 "
	    "when draining", 1 },
	{ "**", http_not_found, NULL, "anything else: 404 in the OpenAI error "
	    "shape", 0 },
};

/*
 * Every routed request runs through here, counted while its handler runs,
 * so that a stop can wait for the requests in flight to be answered before
 * mg_stop(), after which civetweb writes nothing more to any client. New
 * work that arrives while draining is turned away at once; the count goes
 * up before the check, so http_stop() never misses a request that passed.
 */
static int
http_dispatch(struct mg_connection *conn, void *arg)
{
	const struct http_route	*r = arg;
	int			 rc;

	atomic_fetch_add(&http_busy, 1);
	if (!atomic_load(&http_ready) && !r->draining) {
		http_reply_json(conn, 503, "{\"error\":{\"message\":\"metapi "
		    "is shutting down\",\"type\":\"server_error\","
		    "\"code\":\"shutting_down\"}}\n");
		rc = 503;
	} else
		rc = r->handler(conn, (void *)r->arg);
	atomic_fetch_sub(&http_busy, 1);
	return (rc);
}

/*
 * Every request passes here first: a declared body larger than the limit
 * is refused before anyone reads it. (Handlers that read a body without a
 * declared length stop at the same limit.) Uploads have their own limit,
 * files_max_bytes and room for the form.
 */
static int
http_begin_request(struct mg_connection *conn)
{
	const struct mg_request_info	*ri = mg_get_request_info(conn);
	long long			 max = atomic_load(&http_max_body);

	if (strcmp(ri->local_uri, "/v1/files") == 0)
		max = http_files_body_max();
	if (ri->content_length > max) {
		http_reply_json(conn, 413, "{\"error\":{\"message\":\"request "
		    "body too large\",\"type\":\"invalid_request_error\","
		    "\"code\":\"request_too_large\"}}\n");
		return (413);
	}
	return (0);
}

/* Settings that may change while running (SIGHUP, settings set). */
void
http_apply_settings(const struct settings *set)
{
	atomic_store(&http_max_body,
	    settings_int(set, "http_max_request_body_bytes"));
	http_files_apply_settings(set);
}

/* A civetweb thread ends: drop what it kept for itself. */
static void
http_exit_thread(__unused const struct mg_context *ctx, __unused int type,
    __unused void *user)
{
	http_proxy_thread_done();
}

static int
http_log_message(__unused const struct mg_connection *conn, const char *msg)
{
	log_warnx("http: %s", msg);
	return (1);
}

const char *
http_listen_address(void)
{
	return (http_address);
}

/*
 * Clients prove who they are with a metapi key, checked by the handlers.
 * Without an authorization handler of its own, civetweb looks for an
 * .htpasswd file before every request (with no document root, a stat(2)
 * of "/.htpasswd") and, were one there, would ask every client for HTTP
 * Digest credentials instead.
 */
static int
http_auth_none(__unused struct mg_connection *conn, __unused void *arg)
{
	return (1);
}

/*
 * Start civetweb on addr ("HOST:PORT", "[::1]:PORT"; port 0 picks a free
 * one). The address actually bound is kept for `metapi status`.
 */
int
http_start(const char *addr, const struct settings *set, char **cause)
{
	struct mg_callbacks	 cb;
	struct mg_server_port	 ports[4];
	char			 threads[32], hdrmax[32], tmo[32];
	const char		*opts[32];
	char			 errbuf[256];
	struct mg_init_data	 init;
	struct mg_error_data	 err;
	size_t			 i, n = 0;
	int			 np;
	const char		*colon;

	snprintf(threads, sizeof threads, "%lld",
	    settings_int(set, "http_threads"));
	snprintf(hdrmax, sizeof hdrmax, "%lld",
	    settings_int(set, "http_max_header_bytes"));
	snprintf(tmo, sizeof tmo, "%lld",
	    settings_int(set, "http_client_timeout_sec") * 1000);
	opts[n++] = "listening_ports";
	opts[n++] = addr;
	opts[n++] = "num_threads";
	opts[n++] = threads;
	opts[n++] = "max_request_size";
	opts[n++] = hdrmax;
	/*
	 * A worker thread serves one connection at a time, so a client that
	 * sends half a request head and waits (slowloris) holds a thread:
	 * at 3600 s, 64 such connections stopped the server. The timeout
	 * bounds the head and every single read or write to a client; a
	 * handler waiting on its upstream reads and writes nothing and is
	 * not cut by it, so long streams and slow models are unaffected.
	 */
	opts[n++] = "request_timeout_ms";
	opts[n++] = tmo;
	opts[n++] = "keep_alive_timeout_ms";
	opts[n++] = "60000";
	opts[n++] = "enable_keep_alive";
	opts[n++] = "yes";
	/* Replies go out in pieces (head, chunks): without this, Nagle and
	 * delayed ACKs add 40 ms to every request. */
	opts[n++] = "tcp_nodelay";
	opts[n++] = "1";
	opts[n++] = "enable_directory_listing";
	opts[n++] = "no";
	opts[n++] = "enable_auth_domain_check";
	opts[n++] = "no";
	opts[n] = NULL;

	if (http_files_init(metapid->db_path, metapid->data_dir, cause) != 0)
		return (-1);
	memset(&cb, 0, sizeof cb);
	cb.log_message = http_log_message;
	cb.begin_request = http_begin_request;
	cb.exit_thread = http_exit_thread;
	http_apply_settings(set);
	memset(&init, 0, sizeof init);
	init.callbacks = &cb;
	init.configuration_options = opts;
	memset(&err, 0, sizeof err);
	errbuf[0] = '\0';
	err.text = errbuf;
	err.text_buffer_size = sizeof errbuf;

	mg_init_library(0);
	http_ctx = mg_start2(&init, &err);
	if (http_ctx == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", addr,
		    errbuf[0] != '\0' ? errbuf : "civetweb failed to start");
		return (-1);
	}
	for (i = 0; i < nitems(http_route_table); i++)
		mg_set_request_handler(http_ctx, http_route_table[i].path,
		    http_dispatch, (void *)&http_route_table[i]);
	mg_set_auth_handler(http_ctx, "**", http_auth_none, NULL);
	np = mg_get_server_ports(http_ctx, nitems(ports), ports);
	colon = strrchr(addr, ':');
	if (np > 0 && colon != NULL)
		snprintf(http_address, sizeof http_address, "%.*s:%d",
		    (int)(colon - addr), addr, ports[0].port);
	else
		strlcpy(http_address, addr, sizeof http_address);
	atomic_store(&http_ready, 1);
	return (0);
}

/*
 * civetweb's listener sleeps in poll() for up to two seconds before it
 * notices mg_stop(). While mg_stop() waits, this thread knocks on our own
 * port so that poll() returns at once; the knock is accepted and dropped.
 */
static void *
http_waker(__unused void *arg)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	const char		*colon = strrchr(http_address, ':');
	int			 fd, i, port;

	port = colon != NULL ? (int)strtol(colon + 1, NULL, 10) : 0;
	memset(&ss, 0, sizeof ss);
	if (http_address[0] == '[') {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof *sin6;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *sin;
	}
	for (i = 0; i < 60 && !atomic_load(&http_stopped); i++) {
		usleep(50 * 1000);
		if ((fd = socket(ss.ss_family, SOCK_STREAM|SOCK_CLOEXEC, 0)) == -1)
			continue;
		(void)connect(fd, (struct sockaddr *)&ss, len);	/* a knock */
		close(fd);
	}
	return (NULL);
}

/*
 * Refuse new work (readyz 503), wait for the requests in flight to be
 * answered (streams included, up to HTTP_DRAIN_MAX_MS), then stop civetweb.
 */
void
http_stop(void)
{
	pthread_t	waker;
	int		have_waker, i, busy;

	atomic_store(&http_ready, 0);
	if (http_ctx != NULL) {
		for (i = 0; i < HTTP_DRAIN_MAX_MS / 50; i++) {
			if ((busy = atomic_load(&http_busy)) == 0)
				break;
			if (i == 0)
				log_info("waiting for %d request(s) in flight",
				    busy);
			usleep(50 * 1000);
		}
		if (atomic_load(&http_busy) != 0)
			log_warnx("stopping with %d request(s) still in flight",
			    atomic_load(&http_busy));
		atomic_store(&http_stopped, 0);
		have_waker = pthread_create(&waker, NULL, http_waker, NULL) == 0;
		mg_stop(http_ctx);
		http_ctx = NULL;
		atomic_store(&http_stopped, 1);
		if (have_waker)
			pthread_join(waker, NULL);
	}
	mg_exit_library();
}
