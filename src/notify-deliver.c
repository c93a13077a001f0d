/*
 * Send one notification request built by notify_table[]: HTTP(S) for the
 * bots and push services, SMTP for mail, through libcurl with a 10 second
 * limit. It runs on a worker thread and touches nothing shared. Its
 * messages name the host, never the URL, which may hold a token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "notify.h"
#include "xmalloc.h"

#define NOTIFY_TIMEOUT_SEC	10L
#define NOTIFY_REPLY_MAX	(64 * 1024)

struct notify_upload {
	const char	*p;
	size_t		 left;
};

static size_t
notify_deliver_write(char *p, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;
	size_t		 len = size * n;

	/* Only the start of a reply matters; drop the rest quietly. */
	if (b->len + len <= NOTIFY_REPLY_MAX)
		buf_add(b, p, len);
	return (len);
}

static size_t
notify_deliver_read(char *p, size_t size, size_t n, void *arg)
{
	struct notify_upload	*u = arg;
	size_t			 len = size * n;

	if (len > u->left)
		len = u->left;
	memcpy(p, u->p, len);
	u->p += len;
	u->left -= len;
	return (len);
}

/* "a@x,b@y" -> a list of "<a@x>", "<b@y>". */
static struct curl_slist *
notify_deliver_rcpt(const char *list)
{
	struct curl_slist	*l = NULL;
	const char		*p = list;
	char			*one;
	size_t			 n;

	for (;;) {
		n = strcspn(p, ",");
		xasprintf(&one, "<%.*s>", (int)n, p);
		l = curl_slist_append(l, one);
		free(one);
		if (p[n] == '\0')
			return (l);
		p += n + 1;
	}
}

int
notify_deliver(const struct notify_msg *m, char **cause)
{
	CURL			*c;
	struct curl_slist	*hdrs = NULL, *rcpt = NULL;
	struct notify_upload	 up;
	struct buf		 reply;
	char			*h, *from = NULL;
	long			 status = 0;
	CURLcode		 rc;
	int			 rv = -1;

	if ((c = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot start a request");
		return (-1);
	}
	buf_init(&reply, NOTIFY_REPLY_MAX + 1);
	curl_easy_setopt(c, CURLOPT_URL, m->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, NOTIFY_TIMEOUT_SEC);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, NOTIFY_TIMEOUT_SEC);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_PROXY, m->proxy != NULL ? m->proxy : "");
	if (strcmp(m->method, "SMTP") == 0) {
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		xasprintf(&from, "<%s>", m->mail_from);
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
		rcpt = notify_deliver_rcpt(m->rcpt);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
		if (m->user != NULL) {
			curl_easy_setopt(c, CURLOPT_USERNAME, m->user);
			curl_easy_setopt(c, CURLOPT_PASSWORD, m->password);
		}
		curl_easy_setopt(c, CURLOPT_USE_SSL, m->starttls ?
		    (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
		up.p = m->body;
		up.left = strlen(m->body);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, notify_deliver_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)up.left);
	} else {
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_USERAGENT,
		    PACKAGE_NAME "/" PACKAGE_VERSION);
		if (m->content_type != NULL) {
			xasprintf(&h, "Content-Type: %s", m->content_type);
			hdrs = curl_slist_append(hdrs, h);
			free(h);
		}
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		if (m->body != NULL) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
			    (long)strlen(m->body));
		} else
			curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
		    notify_deliver_write);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		xasprintf(cause, "%s: %s", m->host, curl_easy_strerror(rc));
		goto out;
	}
	if (strcmp(m->method, "SMTP") != 0) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status > 299) {
			xasprintf(cause, "%s answered HTTP %ld", m->host,
			    status);
			goto out;
		}
		if (m->check != NULL && m->check(buf_cstr(&reply), reply.len,
		    cause) != 0)
			goto out;
	}
	rv = 0;
out:
	curl_slist_free_all(hdrs);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	buf_free(&reply);
	free(from);
	return (rv);
}
