/*
 * URL validation: scheme, a host, an optional numeric port, no white space
 * or control characters. It judges the text only; it never resolves or
 * connects.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "url.h"
#include "xmalloc.h"

static const struct {
	const char	*scheme;
	int		 kind;
} url_schemes[] = {
	{ "http://", URL_HTTP },
	{ "https://", URL_HTTP },
	{ "socks5://", URL_PROXY },
	{ "socks5h://", URL_PROXY },
	{ "socks4://", URL_PROXY },
};

int
url_check(const char *s, int kinds, char **cause)
{
	const char	*p, *host, *end;
	size_t		 i, n;
	long		 port;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			xasprintf(cause, "bad URL \"%s\": contains white space "
			    "or control characters", s);
			return (-1);
		}
	}
	host = NULL;
	for (i = 0; i < nitems(url_schemes); i++) {
		n = strlen(url_schemes[i].scheme);
		if ((url_schemes[i].kind & kinds) != 0 &&
		    strncasecmp(s, url_schemes[i].scheme, n) == 0) {
			host = s + n;
			break;
		}
	}
	if (host == NULL) {
		xasprintf(cause, "bad URL \"%s\": must start with %s", s,
		    (kinds & URL_PROXY) ? "http://, https:// or socks5://" :
		    "http:// or https://");
		return (-1);
	}
	if ((p = strchr(host, '@')) != NULL && p < host + strcspn(host, "/"))
		host = p + 1;
	end = host + strcspn(host, "/?#");
	if (*host == '[') {
		if ((p = memchr(host, ']', end - host)) == NULL) {
			xasprintf(cause, "bad URL \"%s\": unclosed [", s);
			return (-1);
		}
		p++;
	} else
		p = host + strcspn(host, ":/?#");
	if (p == host || (*host == '[' && p == host + 2)) {
		xasprintf(cause, "bad URL \"%s\": no host", s);
		return (-1);
	}
	if (p < end && *p == ':') {
		port = 0;
		for (p++; p < end; p++) {
			if (!isdigit((unsigned char)*p) || port > 65535)
				break;
			port = port * 10 + (*p - '0');
		}
		if (p != end || port < 1 || port > 65535) {
			xasprintf(cause, "bad URL \"%s\": bad port", s);
			return (-1);
		}
	} else if (p != end) {
		xasprintf(cause, "bad URL \"%s\": bad host", s);
		return (-1);
	}
	return (0);
}

/* A copy without trailing slashes, so "https://x/" and "https://x" agree. */
char *
url_normalize(const char *s)
{
	char	*c = xstrdup(s);
	size_t	 n = strlen(c);

	while (n > 0 && c[n - 1] == '/')
		c[--n] = '\0';
	return (c);
}
