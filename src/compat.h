/*
 * Prototypes for the libc functions that src/compat/ supplies where the
 * system lacks them (glibc before 2.38 has no strlcpy, none has strtonum).
 */
#ifndef COMPAT_H
#define COMPAT_H

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	 strlcpy(char *, const char *, size_t);
#endif
#ifndef HAVE_STRLCAT
size_t	 strlcat(char *, const char *, size_t);
#endif
#ifndef HAVE_STRTONUM
long long strtonum(const char *, long long, long long, const char **);
#endif
#ifndef HAVE_REALLOCARRAY
void	*reallocarray(void *, size_t, size_t);
#endif

#ifndef nitems
#define nitems(_a) (sizeof((_a)) / sizeof((_a)[0]))
#endif

/*
 * A parameter a callback's signature requires but this callback does not
 * use (tmux, OpenBSD). The BSD <sys/cdefs.h> already defines it.
 */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

#endif
