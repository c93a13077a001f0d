/*
 * The request log: what clients sent, so tests can assert on it. It owns
 * the bounded list of recorded requests (method, path, query, lowercased
 * headers, body) and their outcome (status, quota billed). It runs under
 * the state lock and never changes how a request is answered.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

#define REQLOG_MAX		1000
#define REQLOG_MAX_BODY		(64 * 1024)

static json_t		*reqlog_list;
static long long	 reqlog_seq;

static json_t *
reqlog_body(const char *body, size_t len)
{
	json_t	*s;

	if (len > REQLOG_MAX_BODY)
		len = REQLOG_MAX_BODY;
	s = json_stringn(body != NULL ? body : "", len);
	if (s == NULL)
		s = json_string("<binary body>");
	return (s);
}

long long
reqlog_add(struct req *r)
{
	json_t		*e, *hdrs;
	char		 name[128];
	size_t		 i, j;
	long long	 seq;

	hdrs = json_object();
	for (i = 0; i < (size_t)r->ri->num_headers; i++) {
		const struct mg_header	*h = &r->ri->http_headers[i];
		json_t			*v;

		if (h->name == NULL || h->value == NULL)
			continue;
		for (j = 0; h->name[j] != '\0' && j < sizeof name - 1; j++)
			name[j] = tolower((unsigned char)h->name[j]);
		name[j] = '\0';
		if ((v = json_string(h->value)) != NULL)
			json_object_set_new(hdrs, name, v);
	}

	state_lock();
	if (reqlog_list == NULL)
		reqlog_list = json_array();
	while (json_array_size(reqlog_list) >= REQLOG_MAX)
		json_array_remove(reqlog_list, 0);
	seq = ++reqlog_seq;
	/* The client's port tells its connections apart (keep-alive). */
	e = json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:i, s:i, s:i}",
	    "seq", (json_int_t)seq, "time", (json_int_t)state_now(),
	    "method", r->method, "path", r->path, "query", r->query,
	    "headers", hdrs, "body", reqlog_body(r->body, r->bodylen),
	    "status", 0, "billed", 0, "remote_port", r->ri->remote_port);
	if (e != NULL) {
		if (r->json != NULL)
			json_object_set_new(e, "json", json_deep_copy(r->json));
		json_array_append_new(reqlog_list, e);
	}
	state_unlock();
	return (seq);
}

void
reqlog_finish(long long seq, int status, long long billed)
{
	json_t	*e;
	size_t	 i;

	state_lock();
	for (i = json_array_size(reqlog_list); i > 0; i--) {
		e = json_array_get(reqlog_list, i - 1);
		if (state_int(e, "seq") == seq) {
			state_set_int(e, "status", status);
			state_set_int(e, "billed", billed);
			break;
		}
	}
	state_unlock();
}

/*
 * GET /__fake/requests[?path=P][&method=M][&since=SEQ][&limit=N]: matching
 * requests, oldest first. A path ending in "*" matches by prefix.
 */
json_t *
reqlog_query(struct req *r)
{
	char		 path[512], method[16];
	long long	 since, limit, last;
	json_t		*out, *e;
	size_t		 i, plen;
	int		 prefix = 0;

	req_query(r, "path", path, sizeof path);
	req_query(r, "method", method, sizeof method);
	since = req_query_int(r, "since", 0);
	limit = req_query_int(r, "limit", REQLOG_MAX);
	plen = strlen(path);
	if (plen > 0 && path[plen - 1] == '*') {
		prefix = 1;
		path[--plen] = '\0';
	}

	out = json_array();
	state_lock();
	json_array_foreach(reqlog_list, i, e) {
		if (state_int(e, "seq") <= since)
			continue;
		if (*method != '\0' &&
		    strcasecmp(state_str(e, "method"), method) != 0)
			continue;
		if (plen > 0 && (prefix ?
		    strncmp(state_str(e, "path"), path, plen) != 0 :
		    strcmp(state_str(e, "path"), path) != 0))
			continue;
		json_array_append_new(out, json_deep_copy(e));
	}
	last = reqlog_seq;
	state_unlock();
	while ((long long)json_array_size(out) > limit && limit >= 0)
		json_array_remove(out, 0);
	return (json_pack("{s:I, s:I, s:o}", "count",
	    (json_int_t)json_array_size(out), "last_seq",
	    (json_int_t)last, "requests", out));
}

void
reqlog_clear(void)
{
	state_lock();
	json_array_clear(reqlog_list);
	state_unlock();
}
