/*
 * slowhttp: a misbehaving HTTP client for the tests, on 127.0.0.1 only.
 *
 *   slowhttp PORT N SECONDS [trickle|garbage]
 *
 * Opens N connections and sends each half a request head. With trickle
 * it then sends one more header line per connection every second
 * (slowloris); with garbage it sends a whole request followed by bytes
 * that are no HTTP at all (pipelined garbage). It holds the connections
 * for SECONDS and prints how many it opened and how many the server
 * closed ("opened N closed M").
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOW_MAX	1024

static const char slow_head[] = "POST /v1/chat/completions HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\n";
static const char slow_line[] = "X-Slow: 1\r\n";
static const char slow_garbage[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    "\x16\x03\x01\xff\xfe garbage \r\n\r\n\x00\x01 GET / HTTP/9.9\r\n\r\n";

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	int			 fd[SLOW_MAX], n, i, opened = 0, closed = 0;
	int			 trickle, garbage;
	time_t			 end;
	char			 buf[4096];

	if (argc < 4 || (n = atoi(argv[2])) < 1 || n > SLOW_MAX) {
		fprintf(stderr, "usage: slowhttp PORT N SECONDS "
		    "[trickle|garbage]\n");
		return (2);
	}
	trickle = argc > 4 && strcmp(argv[4], "trickle") == 0;
	garbage = argc > 4 && strcmp(argv[4], "garbage") == 0;
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < n; i++) {
		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fd[i] == -1 || connect(fd[i], (struct sockaddr *)&sin,
		    sizeof sin) == -1) {
			if (fd[i] != -1)
				close(fd[i]);
			fd[i] = -1;
			continue;
		}
		opened++;
		if (garbage)
			(void)!write(fd[i], slow_garbage, sizeof slow_garbage - 1);
		else
			(void)!write(fd[i], slow_head, sizeof slow_head - 1);
	}
	printf("opened %d\n", opened);
	fflush(stdout);
	end = time(NULL) + atoi(argv[3]);
	while (time(NULL) < end) {
		sleep(1);
		for (i = 0; i < n; i++) {
			if (fd[i] == -1)
				continue;
			/* Drain what the server says; EOF means it closed us. */
			while (recv(fd[i], buf, sizeof buf, MSG_DONTWAIT) > 0)
				;
			if (recv(fd[i], buf, 1, MSG_DONTWAIT | MSG_PEEK) == 0 ||
			    (trickle && write(fd[i], slow_line,
			    sizeof slow_line - 1) == -1 && errno != EAGAIN)) {
				close(fd[i]);
				fd[i] = -1;
				closed++;
			}
		}
	}
	printf("opened %d closed %d\n", opened, closed);
	return (0);
}
