/*
 * fakerelay: a fake upstream relay for metapi's tests. This file owns
 * main(): options, the civetweb server (127.0.0.1 only), the port file,
 * signal handling, and the one request handler that runs every request
 * through the pipeline: bounded body -> control API, or record -> fault
 * -> WAF gate -> management route -> relay route -> platform 404. It
 * must not know any platform's wire format itself.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fakerelay.h"

static volatile sig_atomic_t	 fakerelay_quit;
static atomic_int		 fakerelay_listen_port;
/* --keep-alive: whole replies leave the connection open (streams not). */
int				 fakerelay_keep_alive;

int
fakerelay_port(void)
{
	return (atomic_load(&fakerelay_listen_port));
}

static void
fakerelay_signal(__unused int sig)
{
	fakerelay_quit = 1;
}

static void
fakerelay_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: fakerelay [--port N] [--personality NAME] "
	    "[--state FILE.json]\n"
	    "                 [--port-file PATH] [--threads N] [--keep-alive]\n"
	    "                 [--routes]\n"
	    "personalities:\n");
	for (i = 0; i < persona_count(); i++)
		fprintf(f, "  %-10s %s\n", persona_table[i].name,
		    persona_table[i].help);
}

static void
fakerelay_routes(const struct persona *p)
{
	size_t	i;

	printf("management (%s):\n", p->name);
	for (i = 0; i < mgmt_table_size(); i++) {
		if (mgmt_table[i].personas & p->bit)
			printf("  %-6s %-40s %s%s\n", mgmt_table[i].method,
			    mgmt_table[i].pattern, mgmt_table[i].flags ?
			    "[auth] " : "", mgmt_table[i].help);
	}
	printf("relay (%s):\n", p->name);
	relay_print_routes(stdout, p->bit);
	printf("control:\n");
	ctl_print_routes(stdout);
}

/* The personality's answer for a path nobody serves. */
static void
fakerelay_not_found(struct req *r)
{
	char	msg[1200], *page;

	if (strcmp(r->path, "/") == 0 && !(r->p->bit & (P_OPENAI|P_CLAUDE))) {
		const char	*name = r->p->system_name;

		state_lock();
		if (*state_cfg_str("system_name") != '\0')
			name = state_cfg_str("system_name");
		if (asprintf(&page, "<!doctype html><html><head><meta "
		    "charset=\"utf-8\"><title>%s</title></head><body><div "
		    "id=\"root\"></div></body></html>\n", name) == -1)
			abort();
		state_unlock();
		req_reply_text(r, 200, "text/html; charset=utf-8", page);
		free(page);
		return;
	}
	if (r->p->bit & P_ONEFAM) {
		mgmt_invalid_url(r);
		return;
	}
	if (r->p->bit & P_SUB2API) {
		req_reply_text(r, 404, "text/plain", "404 page not found");
		return;
	}
	if (r->p->bit & P_CLAUDE) {
		req_reply_json(r, 404, json_pack("{s:s, s:{s:s, s:s}}", "type",
		    "error", "error", "type", "not_found_error", "message",
		    "Not Found"));
		return;
	}
	snprintf(msg, sizeof msg, "Invalid URL (%s %s)", r->method, r->path);
	req_reply_json(r, 404, json_pack("{s:{s:s, s:s, s:n, s:n}}", "error",
	    "message", msg, "type", "invalid_request_error", "param", "code"));
}

static int
fakerelay_handle(struct mg_connection *conn, __unused void *arg)
{
	struct req	r;
	long long	max;
	int		status;

	state_lock();
	max = state_cfg_int("max_body");
	state_unlock();
	if (max <= 0 || max > 64LL * 1024 * 1024)
		max = REQ_MAX_BODY;
	if (req_init(&r, conn, (size_t)max) != 0) {
		req_reply_json(&r, 413, json_pack("{s:{s:s, s:s}}", "error",
		    "message", "request body too large", "type",
		    "invalid_request_error"));
		req_flush(&r);
		req_free(&r);
		return (413);
	}
	if (strncmp(r.path, "/__fake/", 8) == 0) {
		ctl_dispatch(&r);
		req_flush(&r);
		status = r.status;
		req_free(&r);
		return (status);
	}

	r.seq = reqlog_add(&r);
	r.fault = fault_take(&r);
	if (!fault_before(&r) && !waf_gate(&r) && !mgmt_dispatch(&r) &&
	    !relay_dispatch(&r))
		fakerelay_not_found(&r);
	fault_after(&r);
	req_flush(&r);
	reqlog_finish(r.seq, r.status, r.billed);
	status = r.status;
	req_free(&r);
	return (status > 0 ? status : 1);
}

static int
fakerelay_log(__unused const struct mg_connection *conn, const char *msg)
{
	fprintf(stderr, "fakerelay: civetweb: %s\n", msg);
	return (1);
}

static atomic_int			 fakerelay_stopped;

static void *
fakerelay_stopper(void *arg)
{
	mg_stop(arg);
	atomic_store(&fakerelay_stopped, 1);
	return (NULL);
}

/*
 * civetweb's listener polls with a 2 s timeout before it sees the stop
 * flag; poke it with connections so tests do not wait for that.
 */
static void
fakerelay_stop(struct mg_context *ctx)
{
	pthread_t		 t;
	struct sockaddr_in	 sin;
	struct timespec		 ts = { 0, 20 * 1000000 };
	int			 s, i;

	if (pthread_create(&t, NULL, fakerelay_stopper, ctx) != 0) {
		mg_stop(ctx);
		return;
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(fakerelay_port());
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 200 && !atomic_load(&fakerelay_stopped); i++) {
		nanosleep(&ts, NULL);
		if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			continue;
		(void)connect(s, (struct sockaddr *)&sin, sizeof sin);
		close(s);
	}
	pthread_join(t, NULL);
}

/* Write the port atomically: a temp name, then rename(2). */
static int
fakerelay_write_port(const char *path, int port)
{
	char	tmp[4096];
	FILE	*f;

	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL)
		return (-1);
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return (-1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "personality", required_argument, NULL, 'P' },
		{ "state", required_argument, NULL, 's' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 't' },
		{ "routes", no_argument, NULL, 'r' },
		{ "keep-alive", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct persona	*p = persona_find("new-api");
	const char		*state_file = NULL, *port_file = NULL;
	const char		*options[16];
	char			 listen[64], threads[16] = "32", *end;
	char			*cause = NULL;
	struct mg_callbacks	 cb;
	struct mg_context	*ctx;
	struct mg_server_port	 ports[4];
	struct sigaction	 sa;
	struct timespec		 ts = { 0, 50 * 1000000 };
	long			 port = 0, n;
	int			 ch, routes = 0, i = 0;

	while ((ch = getopt_long(argc, argv, "p:P:s:f:t:rkh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 0 || port > 65535) {
				fprintf(stderr, "fakerelay: bad port: %s\n",
				    optarg);
				return (2);
			}
			break;
		case 'P':
			if ((p = persona_find(optarg)) == NULL) {
				fprintf(stderr, "fakerelay: unknown "
				    "personality: %s\n", optarg);
				fakerelay_usage(stderr);
				return (2);
			}
			break;
		case 's':
			state_file = optarg;
			break;
		case 'f':
			port_file = optarg;
			break;
		case 't':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 2 || n > 256) {
				fprintf(stderr, "fakerelay: bad threads: %s\n",
				    optarg);
				return (2);
			}
			snprintf(threads, sizeof threads, "%ld", n);
			break;
		case 'r':
			routes = 1;
			break;
		case 'k':
			fakerelay_keep_alive = 1;
			break;
		case 'h':
			fakerelay_usage(stdout);
			return (0);
		default:
			fakerelay_usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		fakerelay_usage(stderr);
		return (2);
	}
	persona_set(p);
	if (routes) {
		fakerelay_routes(p);
		return (0);
	}

	state_init();
	if (state_file != NULL && state_load(state_file, &cause) != 0) {
		fprintf(stderr, "fakerelay: %s\n", cause != NULL ? cause :
		    "bad state file");
		free(cause);
		return (1);
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fakerelay_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Loopback only: the fake must never be reachable from outside. */
	snprintf(listen, sizeof listen, "127.0.0.1:%ld", port);
	options[i++] = "listening_ports";
	options[i++] = listen;
	options[i++] = "num_threads";
	options[i++] = threads;
	options[i++] = "enable_keep_alive";
	options[i++] = fakerelay_keep_alive ? "yes" : "no";
	options[i++] = "request_timeout_ms";
	options[i++] = "120000";
	/*
	 * A reply sent in pieces reaches the client in those pieces; and a
	 * head and its body go in separate writes, so over a kept-alive
	 * connection Nagle held the body until the client's delayed ACK, 40
	 * ms a reply (closing the connection flushed it at once).
	 */
	options[i++] = "tcp_nodelay";
	options[i++] = "1";
	options[i++] = NULL;

	memset(&cb, 0, sizeof cb);
	cb.log_message = fakerelay_log;
	mg_init_library(0);
	if ((ctx = mg_start(&cb, NULL, options)) == NULL) {
		fprintf(stderr, "fakerelay: cannot listen on %s\n", listen);
		return (1);
	}
	mg_set_request_handler(ctx, "/", fakerelay_handle, NULL);
	memset(ports, 0, sizeof ports);
	if (mg_get_server_ports(ctx, (int)nitems(ports), ports) < 1) {
		fprintf(stderr, "fakerelay: no listening port\n");
		mg_stop(ctx);
		return (1);
	}
	atomic_store(&fakerelay_listen_port, ports[0].port);
	if (port_file != NULL &&
	    fakerelay_write_port(port_file, fakerelay_port()) != 0) {
		fprintf(stderr, "fakerelay: %s: %s\n", port_file,
		    strerror(errno));
		mg_stop(ctx);
		return (1);
	}
	printf("%d\n", fakerelay_port());
	fflush(stdout);

	while (!fakerelay_quit && !ctl_shutdown_requested())
		nanosleep(&ts, NULL);

	fakerelay_stop(ctx);
	mg_exit_library();
	if (port_file != NULL)
		unlink(port_file);
	return (0);
}
