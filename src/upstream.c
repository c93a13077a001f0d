/*
 * One place that sends HTTP requests to upstream sites: libcurl with
 * TLS verification on, bounded redirects, connect and total timeouts, an
 * optional proxy and a cap on the response body. It knows nothing of any
 * platform; adapters build the request and parse the response.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "compat.h"
#include "upstream.h"
#include "xmalloc.h"

#define UPSTREAM_MAX_REDIRS	5

int
upstream_global_init(void)
{
	return (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1);
}

struct upstream_sink {
	struct buf	*body;
	int		 overflow;
};

/* The bytes of p (n of them, no NUL needed) before one of reject. */
static size_t
upstream_span(const char *p, size_t n, const char *reject)
{
	size_t	i;

	for (i = 0; i < n && strchr(reject, p[i]) == NULL; i++)
		;
	return (i);
}

/*
 * Response headers: keep the few that callers act on. A redirect chain
 * sends several header blocks; cookies accumulate, the rest is the last.
 * libcurl does not promise a NUL after a header line: every scan stops
 * at its length.
 */
static size_t
upstream_header(char *p, size_t size, size_t n, void *arg)
{
	struct upstream_resp	*resp = arg;
	size_t			 len = size * n, nl, vl;
	const char		*v;
	char			*old, date[64];
	time_t			 t;

	nl = upstream_span(p, len, ":");
	if (nl >= len)
		return (len);
	for (v = p + nl + 1; v < p + len && (*v == ' ' || *v == '\t'); v++)
		;
	vl = p + len - v;
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
		vl--;
	if (nl == 10 && strncasecmp(p, "set-cookie", 10) == 0) {
		vl = upstream_span(v, vl, ";\r\n");
		if (resp->set_cookie == NULL)
			resp->set_cookie = xstrndup(v, vl);
		else if (strlen(resp->set_cookie) < 8192) {
			old = resp->set_cookie;
			xasprintf(&resp->set_cookie, "%s; %.*s", old, (int)vl, v);
			free(old);
		}
	} else if (nl == 11 && strncasecmp(p, "retry-after", 11) == 0) {
		free(resp->retry_after);
		resp->retry_after = xstrndup(v, vl);
	} else if (nl == 6 && strncasecmp(p, "server", 6) == 0) {
		free(resp->server);
		resp->server = xstrndup(v, vl);
	} else if (nl == 12 && strncasecmp(p, "cf-mitigated", 12) == 0)
		resp->cf_mitigated = 1;
	else if (nl == 4 && strncasecmp(p, "date", 4) == 0 && vl < 64) {
		/* The site's clock, for `metapi doctor`. */
		memcpy(date, v, vl);
		date[vl] = '\0';
		if ((t = curl_getdate(date, NULL)) > 0)
			resp->date = t;
	}
	return (len);
}

static size_t
upstream_write(char *p, size_t size, size_t n, void *arg)
{
	struct upstream_sink	*sink = arg;

	if (buf_add(sink->body, p, size * n) != 0) {
		sink->overflow = 1;
		return (0);
	}
	return (size * n);
}

/*
 * What went wrong, for the failures where "cannot reach" would mislead:
 * the site was reached and then misbehaved. Formats take the URL and
 * libcurl's words.
 */
static const struct {
	CURLcode	 code;
	const char	*fmt;
} upstream_causes[] = {
	{ CURLE_PARTIAL_FILE, "the reply from %s was cut short: %s" },
	{ CURLE_RECV_ERROR, "the connection to %s broke mid-reply: %s" },
	{ CURLE_TOO_MANY_REDIRECTS, "%s redirects too often: %s" },
	{ CURLE_OPERATION_TIMEDOUT, "%s did not answer in time: %s" },
	{ CURLE_PEER_FAILED_VERIFICATION, "cannot trust %s: %s" },
};

static const char *
upstream_cause(CURLcode rc)
{
	size_t	i;

	for (i = 0; i < nitems(upstream_causes); i++)
		if (upstream_causes[i].code == rc)
			return (upstream_causes[i].fmt);
	return ("cannot reach %s: %s");
}

int
upstream_do(const struct upstream_req *req, struct upstream_resp *resp,
    char **cause)
{
	CURL			*c;
	struct curl_slist	*hdrs = NULL;
	struct upstream_sink	 sink;
	const char *const	*h;
	char			*ct = NULL, errbuf[CURL_ERROR_SIZE];
	CURLcode		 rc;
	int			 rv = -1;

	memset(resp, 0, sizeof *resp);
	buf_init(&resp->body, req->max_body != 0 ? req->max_body :
	    4 * 1024 * 1024);
	sink.body = &resp->body;
	sink.overflow = 0;
	if ((c = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot start an HTTP request");
		return (-1);
	}
	for (h = req->headers; h != NULL && *h != NULL; h++)
		hdrs = curl_slist_append(hdrs, *h);
	/* libcurl's own words are specific ("Connection timed out after
	 * 1001 milliseconds"); its code's text is generic. */
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
	} else if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)UPSTREAM_MAX_REDIRS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, req->connect_timeout_sec > 0 ?
	    req->connect_timeout_sec : 15L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, req->timeout_sec > 0 ?
	    req->timeout_sec : 30L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_PROXY, req->proxy != NULL ? req->proxy : "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, upstream_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, upstream_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);

	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		resp->content_type = xstrdup(ct);
	if (sink.overflow) {
		xasprintf(cause, "response from %s is larger than %zu bytes",
		    req->url, resp->body.max);
		goto out;
	}
	if (rc != CURLE_OK) {
		xasprintf(cause, upstream_cause(rc), req->url, errbuf[0] !=
		    '\0' ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	rv = 0;
out:
	upstream_headers_free(hdrs);
	curl_easy_cleanup(c);
	return (rv);
}

/*
 * Free request headers, wiping them first: curl_slist_append() copies
 * each line, and the auth and cookie lines hold credentials that must
 * not outlive the call in freed memory.
 */
void
upstream_headers_free(struct curl_slist *hdrs)
{
	struct curl_slist	*h;

	for (h = hdrs; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(hdrs);
}

void
upstream_resp_free(struct upstream_resp *resp)
{
	/* Replies carry keys, tokens and sessions too. */
	if (resp->body.data != NULL)
		explicit_bzero(resp->body.data, resp->body.len);
	buf_free(&resp->body);
	free(resp->content_type);
	free(resp->set_cookie);
	free(resp->retry_after);
	free(resp->server);
	resp->content_type = resp->set_cookie = NULL;
	resp->retry_after = resp->server = NULL;
}
