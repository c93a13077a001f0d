/*
 * rawsock SOCKET: write standard input's bytes to a Unix socket as they
 * are, then print how many bytes came back before the peer closed or one
 * second of silence passed: "closed N" or "open N". Shell tests use it to
 * throw malformed frames at the daemon's control socket.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un	sun;
	struct pollfd		pfd;
	char			buf[65536];
	ssize_t			n;
	long			got = 0;
	int			fd, closed = 0;

	signal(SIGPIPE, SIG_IGN);
	if (argc != 2) {
		fprintf(stderr, "usage: rawsock SOCKET < bytes\n");
		return (2);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		perror("rawsock: connect");
		return (1);
	}
	while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
		if (write(fd, buf, n) != n)
			break;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 1000) > 0) {
		n = read(fd, buf, sizeof buf);
		if (n <= 0) {
			closed = 1;
			break;
		}
		got += n;
	}
	printf("%s %ld\n", closed ? "closed" : "open", got);
	close(fd);
	return (0);
}
