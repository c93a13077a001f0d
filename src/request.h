/*
 * A client's request body on a relay surface, and what the proxy does
 * with it before forwarding: pure functions of the body, so that the
 * fuzz harness (tests/fuzz/fuzz-request.c) can feed them hostile bodies.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "relay.h"

struct request {
	enum relay_format	 fmt;
	json_t			*body;		/* owned; a JSON object */
	char			*model;		/* owned: outlives body edits */
	int			 stream;	/* the client asked for SSE */
	int			 strip_usage;	/* we asked for include_usage */
	const char		*prev;		/* Responses previous_response_id,
						 * in body, or NULL */
};

int		 request_streams(enum relay_format);
int		 request_parse(struct request *, enum relay_format,
		     const char *, size_t, const char **, struct err *);
void		 request_free(struct request *);
int		 request_ask_usage(struct request *);
int		 request_set_model(struct request *, const char *);
const char	*request_session(const struct request *);
long long	 request_count_tokens(const json_t *);
json_t		*request_hub(const struct request *, const json_t *,
		     struct err *);
char		*request_convert(const struct request *, json_t *,
		     enum relay_format, const char *, struct err *);

#endif
