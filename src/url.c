/*
 * URL validation: scheme, a host, an optional numeric port, no white space
 * or control characters. It judges the text only; it never resolves or
 * connects. A URL may carry a password ("http://user:pass@proxy:3128"), so
 * what is shown of one, errors included, goes through url_redact().
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

/*
 * A copy fit to show: "scheme://user:pass@host" becomes
 * "scheme://user:…@host", and a user part without a password (which is
 * then the secret, as in "http://TOKEN@proxy") becomes "…". The last '@'
 * ends the user part, so an unescaped '@' or '/' in a password is hidden
 * too, at the cost of hiding a little more of a URL with '@' in its path.
 */
char *
url_redact(const char *s)
{
	const char	*p, *at, *colon;
	char		*r;

	if ((p = strstr(s, "://")) != NULL)
		p += 3;
	else
		p = s;
	if ((at = strrchr(p, '@')) == NULL)
		return (xstrdup(s));
	if ((colon = memchr(p, ':', at - p)) != NULL)
		xasprintf(&r, "%.*s:…%s", (int)(colon - s), s, at);
	else
		xasprintf(&r, "%.*s…%s", (int)(p - s), s, at);
	return (r);
}

/* Is there a user part (and so perhaps a secret) in the URL? */
int
url_has_userinfo(const char *s)
{
	const char	*p;

	p = (p = strstr(s, "://")) != NULL ? p + 3 : s;
	return (strchr(p, '@') != NULL);
}

/* *cause = "bad URL "<s, redacted>": <why>". */
static void
url_bad(char **cause, const char *s, const char *why)
{
	char	*r = url_redact(s);

	xasprintf(cause, "bad URL \"%s\": %s", r, why);
	free(r);
}

int
url_check(const char *s, int kinds, char **cause)
{
	const char	*p, *host, *end;
	size_t		 i, n;
	long		 port;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			url_bad(cause, s, "contains white space or control "
			    "characters");
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
		url_bad(cause, s, (kinds & URL_PROXY) ? "must start with "
		    "http://, https:// or socks5://" : "must start with "
		    "http:// or https://");
		return (-1);
	}
	if ((p = strchr(host, '@')) != NULL && p < host + strcspn(host, "/"))
		host = p + 1;
	end = host + strcspn(host, "/?#");
	if (*host == '[') {
		if ((p = memchr(host, ']', end - host)) == NULL) {
			url_bad(cause, s, "unclosed [");
			return (-1);
		}
		p++;
	} else
		p = host + strcspn(host, ":/?#");
	if (p == host || (*host == '[' && p == host + 2)) {
		url_bad(cause, s, "no host");
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
			url_bad(cause, s, "bad port");
			return (-1);
		}
	} else if (p != end) {
		url_bad(cause, s, "bad host");
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
