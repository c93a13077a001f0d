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
#include "compat.h"
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

/* The failures of a TLS handshake or of asking for one. */
static int
notify_deliver_tls_error(CURLcode rc)
{
	static const CURLcode	tls[] = { CURLE_SSL_CONNECT_ERROR,
				    CURLE_PEER_FAILED_VERIFICATION,
				    CURLE_SSL_CACERT_BADFILE,
				    CURLE_SSL_CERTPROBLEM, CURLE_USE_SSL_FAILED };
	size_t			i;

	for (i = 0; i < nitems(tls); i++)
		if (rc == tls[i])
			return (1);
	return (0);
}

int
notify_deliver(const struct notify_msg *m, char **cause)
{
	CURL			*c;
	struct curl_slist	*hdrs = NULL, *rcpt = NULL;
	struct notify_upload	 up;
	struct buf		 reply;
	struct curl_blob	 ca;
	char			*h, *from = NULL, errbuf[CURL_ERROR_SIZE];
	long			 status = 0;
	CURLcode		 rc;
	int			 rv = -1;

	if ((c = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot start a request");
		return (-1);
	}
	buf_init(&reply, NOTIFY_REPLY_MAX + 1);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
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
		/*
		 * A self-hosted server's private CA, trusted by this
		 * handle only: the system store still applies, and other
		 * channels never see it.
		 */
		if (m->ca_pem != NULL) {
			ca.data = m->ca_pem;
			ca.len = strlen(m->ca_pem);
			ca.flags = CURL_BLOB_NOCOPY;
			if (curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca) !=
			    CURLE_OK) {
				xasprintf(cause, "%s: this libcurl cannot "
				    "take a CA from memory", m->host);
				goto out;
			}
		}
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
		/*
		 * curl's own words say which certificate problem, or that
		 * the server offers no STARTTLS. They name no URL, so no
		 * token; still, only TLS failures and mail get them.
		 */
		if (errbuf[0] != '\0' && (notify_deliver_tls_error(rc) ||
		    strcmp(m->method, "SMTP") == 0))
			xasprintf(cause, "%s: %s (%s)%s", m->host,
			    curl_easy_strerror(rc), errbuf,
			    rc == CURLE_PEER_FAILED_VERIFICATION &&
			    strcmp(m->method, "SMTP") == 0 && m->ca_pem == NULL ?
			    "; a server with a private CA needs --ca-file" :
			    "");
		else
			xasprintf(cause, "%s: %s", m->host,
			    curl_easy_strerror(rc));
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
