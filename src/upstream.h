/* HTTP requests to upstream sites, through libcurl. */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>

#include "buf.h"

struct upstream_req {
	const char	*method;	/* "GET" or "POST" */
	const char	*url;
	const char	*const *headers; /* "Name: value", NULL-terminated */
	const char	*body;		/* or NULL */
	const char	*proxy;		/* or NULL: direct */
	long		 connect_timeout_sec;
	long		 timeout_sec;
	size_t		 max_body;	/* response bytes kept at most */
};

struct upstream_resp {
	long		 status;	/* HTTP status, 0 when none */
	struct buf	 body;
	char		*content_type;
	char		*set_cookie;	/* "a=1; b=2" from Set-Cookie lines */
	char		*retry_after;
	char		*server;
	int		 cf_mitigated;	/* cf-mitigated: challenge */
	long long	 date;		/* Date: as unix time, 0: none */
};

struct curl_slist;

int	 upstream_global_init(void);
int	 upstream_do(const struct upstream_req *, struct upstream_resp *,
	     char **);
void	 upstream_resp_free(struct upstream_resp *);
void	 upstream_headers_free(struct curl_slist *);

#endif
