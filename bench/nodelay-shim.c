/*
 * nodelay-shim: LD_PRELOAD library for a diagnostic run only (bench/run.sh
 * with BENCH_DIAG_NODELAY=1). It sets TCP_NODELAY on every accepted socket,
 * to show what metapi's latency would be if its HTTP server did so.
 * Build: cc -shared -fPIC -O2 -o nodelay.so nodelay-shim.c -ldl
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <stddef.h>

static int
nodelay(int fd)
{
	int	one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return (fd);
}

int
accept(int s, struct sockaddr *a, socklen_t *l)
{
	static int	(*real)(int, struct sockaddr *, socklen_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "accept");
	return (nodelay(real(s, a, l)));
}

int
accept4(int s, struct sockaddr *a, socklen_t *l, int flags)
{
	static int	(*real)(int, struct sockaddr *, socklen_t *, int);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "accept4");
	return (nodelay(real(s, a, l, flags)));
}
