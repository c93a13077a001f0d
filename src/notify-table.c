/*
 * notify_table[]: the kinds of notification channel. Each kind checks the
 * arguments of `notify add` (config), builds the one request an alert
 * becomes (build) and says in a line where it goes (summary). Everything
 * here is pure: no I/O, no database, time passed in. notify-deliver.c
 * sends what build made; notify.c stores channels.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "jx.h"
#include "notify.h"
#include "url.h"
#include "xmalloc.h"

#define NOTIFY_WECOM_MAX	1900	/* characters WeCom takes */
#define NOTIFY_TEXT_MAX		3900	/* Feishu, Telegram */
#define NOTIFY_SECRET_MAX	1024
#define NOTIFY_ADDR_MAX		254
#define NOTIFY_CA_MAX		(64 * 1024)	/* as CMD_FILE_MAX */
#define NOTIFY_TELEGRAM_API	"https://api.telegram.org"
#define NOTIFY_SERVERCHAN_API	"https://sctapi.ftqq.com"

static int	notify_webhook_config(const json_t *, json_t *, char **,
		    struct err *);
static int	notify_webhook_build(const json_t *, const char *,
		    const struct notify_text *, struct notify_msg *, char **);
static char	*notify_webhook_summary(const json_t *);
static int	notify_bark_config(const json_t *, json_t *, char **,
		    struct err *);
static int	notify_bark_build(const json_t *, const char *,
		    const struct notify_text *, struct notify_msg *, char **);
static char	*notify_bark_summary(const json_t *);
static int	notify_serverchan_config(const json_t *, json_t *, char **,
		    struct err *);
static int	notify_serverchan_build(const json_t *, const char *,
		    const struct notify_text *, struct notify_msg *, char **);
static char	*notify_serverchan_summary(const json_t *);
static int	notify_telegram_config(const json_t *, json_t *, char **,
		    struct err *);
static int	notify_telegram_build(const json_t *, const char *,
		    const struct notify_text *, struct notify_msg *, char **);
static char	*notify_telegram_summary(const json_t *);
static int	notify_smtp_config(const json_t *, json_t *, char **,
		    struct err *);
static int	notify_smtp_build(const json_t *, const char *,
		    const struct notify_text *, struct notify_msg *, char **);
static char	*notify_smtp_summary(const json_t *);

const struct notify_entry notify_table[] = {
	{ "webhook", "target", notify_webhook_config, notify_webhook_build,
	  notify_webhook_summary, 0,
	  "POST JSON to a URL; WeCom and Feishu/Lark bot URLs get their "
	  "bots' shapes" },
	{ "bark", "target", notify_bark_config, notify_bark_build,
	  notify_bark_summary, 0,
	  "GET a Bark push URL (https://api.day.app/KEY)" },
	{ "serverchan", "target api_base", notify_serverchan_config,
	  notify_serverchan_build, notify_serverchan_summary, 0,
	  "ServerChan (Server酱) by SENDKEY" },
	{ "telegram", "target chat_id thread api_base", notify_telegram_config,
	  notify_telegram_build, notify_telegram_summary, NOTIFY_PROXY,
	  "a Telegram bot writing to a chat (or a topic of it)" },
	{ "smtp", "host port from to user password tls ca", notify_smtp_config,
	  notify_smtp_build, notify_smtp_summary, 0,
	  "e-mail through an SMTP server" },
};
const size_t notify_table_count = nitems(notify_table);

/*
 * Webhook bots whose JSON differs from the generic one, matched by host
 * or by path (so a receiver on another host, a test's on 127.0.0.1 among
 * them, gets the shape of the path it serves). Specific to generic: the
 * first match wins, and no match means the generic shape.
 */
static const struct {
	const char	*shape;
	const char	*host;
	const char	*path;		/* prefix */
} notify_webhook_shapes[] = {
	{ "wecom", "qyapi.weixin.qq.com", "/cgi-bin/webhook/send" },
	{ "feishu", "open.feishu.cn", "/open-apis/bot/v2/hook/" },
	{ "feishu", "open.larksuite.com", "/open-apis/bot/v2/hook/" },
};

const struct notify_entry *
notify_find(const char *kind)
{
	size_t	i;

	for (i = 0; i < notify_table_count; i++)
		if (strcmp(notify_table[i].kind, kind) == 0)
			return (&notify_table[i]);
	return (NULL);
}

void
notify_msg_free(struct notify_msg *m)
{
	if (m == NULL)
		return;
	if (m->url != NULL)
		explicit_bzero(m->url, strlen(m->url));
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	if (m->body != NULL)
		explicit_bzero(m->body, strlen(m->body));
	free(m->url);
	free(m->password);
	free(m->body);
	free(m->content_type);
	free(m->host);
	free(m->mail_from);
	free(m->rcpt);
	free(m->user);
	free(m->proxy);
	free(m->ca_pem);
	memset(m, 0, sizeof *m);
}

/* "host[:port]" of an http(s) or smtp URL; owned. */
static char *
notify_url_host(const char *url)
{
	const char	*p, *at, *end;

	if ((p = strstr(url, "://")) == NULL)
		return (xstrdup("?"));
	p += 3;
	end = p + strcspn(p, "/?#");
	if ((at = memchr(p, '@', end - p)) != NULL)
		p = at + 1;
	return (xstrndup(p, end - p));
}

/* The path of a URL ("/" when it has none); borrowed. */
static const char *
notify_url_path(const char *url)
{
	const char	*p;

	if ((p = strstr(url, "://")) == NULL)
		return ("/");
	p += 3;
	p += strcspn(p, "/?#");
	return (*p == '/' ? p : "/");
}

/* The host name alone, without port or brackets, lower case; owned. */
static char *
notify_url_hostname(const char *url)
{
	char	*h = notify_url_host(url), *p;

	if (*h == '[') {
		if ((p = strchr(h, ']')) != NULL)
			*p = '\0';
		memmove(h, h + 1, strlen(h));
	} else if ((p = strchr(h, ':')) != NULL)
		*p = '\0';
	for (p = h; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	return (h);
}

const char *
notify_webhook_shape(const char *url)
{
	const char	*path = notify_url_path(url);
	char		*host = notify_url_hostname(url);
	size_t		 i;

	for (i = 0; i < nitems(notify_webhook_shapes); i++) {
		if (strcmp(host, notify_webhook_shapes[i].host) == 0 ||
		    strncmp(path, notify_webhook_shapes[i].path,
		    strlen(notify_webhook_shapes[i].path)) == 0) {
			free(host);
			return (notify_webhook_shapes[i].shape);
		}
	}
	free(host);
	return ("generic");
}

/*
 * Check a URL; the message names what it is for and why it is wrong, but
 * never repeats the URL, which may hold a token.
 */
static int
notify_url_ok(const char *url, const char *what, struct err *e)
{
	char	*cause = NULL;
	char	*why;

	if (strlen(url) > NOTIFY_SECRET_MAX) {
		err_set(e, ERR_INVALID, "%s is too long", what);
		return (0);
	}
	if (url_check(url, URL_HTTP, &cause) == 0)
		return (1);
	why = strstr(cause, "\": ");
	err_set(e, ERR_INVALID, "bad %s: %s", what, why != NULL ? why + 3 :
	    "not a URL");
	free(cause);
	return (0);
}

static const char *
notify_level_upper(const char *level)
{
	if (strcmp(level, "error") == 0)
		return ("ERROR");
	if (strcmp(level, "warning") == 0)
		return ("WARNING");
	return ("INFO");
}

/* "[metapi][ERROR] title"; owned. */
static char *
notify_headline(const struct notify_text *t)
{
	char	*s;

	xasprintf(&s, "[metapi][%s] %s", notify_level_upper(t->level),
	    t->title);
	return (s);
}

/* "Time: 2025-01-02 10:00:00 CST (UTC 2025-01-02 02:00:00)"; owned. */
static char *
notify_footer(time_t t)
{
	struct tm	tm;
	char		local[64], utc[32], *s;

	localtime_r(&t, &tm);
	strftime(local, sizeof local, "%Y-%m-%d %H:%M:%S %Z", &tm);
	gmtime_r(&t, &tm);
	strftime(utc, sizeof utc, "%Y-%m-%d %H:%M:%S", &tm);
	xasprintf(&s, "Time: %s (UTC %s)", local, utc);
	return (s);
}

/* The whole alert as plain text: headline, message, footer; owned. */
static char *
notify_full_text(const struct notify_text *t)
{
	char	*head = notify_headline(t), *foot = notify_footer(t->time), *s;

	xasprintf(&s, "%s\n\n%s\n\n%s", head, t->message, foot);
	free(head);
	free(foot);
	return (s);
}

/* The message with the level and the time under it; owned. */
static char *
notify_body_text(const struct notify_text *t)
{
	char	*foot = notify_footer(t->time), *s;

	xasprintf(&s, "%s\n\nLevel: %s\n%s", t->message,
	    notify_level_upper(t->level), foot);
	free(foot);
	return (s);
}

/* Cut s to max characters (not bytes), marking the cut; in place. */
static char *
notify_trunc(char *s, size_t max)
{
	static const char	 mark[] = "...(truncated)";
	size_t			 n = 0, i;
	char			*t;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++n > max)
			break;
	}
	if (s[i] == '\0')
		return (s);
	xasprintf(&t, "%.*s%s", (int)i, s, mark);
	free(s);
	return (t);
}

/* Percent-encode everything but RFC 3986's unreserved characters; owned. */
static char *
notify_urlenc(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *o;
	unsigned char		 c;

	out = o = xmalloc(strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		c = *s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			*o++ = c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return (out);
}

char *
notify_b64(const char *s, size_t n)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	uint32_t		 v;
	size_t			 i;

	out = o = xmalloc((n + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < n; i += 3) {
		v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0);
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (out);
}

/* Is s plain printable ASCII, with no "=?" that would look encoded? */
static int
notify_plain_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20 ||
		    (s[0] == '=' && s[1] == '?'))
			return (0);
	return (1);
}

/*
 * A Subject header's value (RFC 2047): plain ASCII as is; otherwise
 * "=?UTF-8?B?...?=" words of at most 39 bytes of text each (a 64-column
 * word), split between characters and folded onto new lines. Control
 * characters become spaces, so a title cannot add a header. Owned.
 */
char *
notify_subject(const char *subject)
{
	struct buf	 b;
	char		*clean, *w, *p, *s;
	size_t		 n, len;

	clean = xstrdup(subject);
	for (p = clean; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (notify_plain_ascii(clean))
		return (clean);
	buf_init(&b, 64 * 1024);
	for (p = clean; *p != '\0'; p += n) {
		len = strlen(p);
		n = len < 39 ? len : 39;
		while (n < len && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
		if (n == 0)
			n = len < 39 ? len : 39;
		w = notify_b64(p, n);
		if (p != clean)
			buf_addstr(&b, "\r\n ");
		buf_addstr(&b, "=?UTF-8?B?");
		buf_addstr(&b, w);
		buf_addstr(&b, "?=");
		free(w);
	}
	s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	free(clean);
	return (s);
}

/* A JSON body, compact, owned. Steals o. */
static char *
notify_dump(json_t *o)
{
	char	*s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return (s);
}

/*
 * Judge a JSON reply by one field: number key must equal want, or (when
 * optional) be absent. what names the service; msgkey its explanation.
 */
static int
notify_check_field(const char *body, size_t len, const char *key,
    long long want, int optional, const char *what, const char *msgkey,
    char **cause)
{
	json_t		*o, *v;
	const char	*m;
	int		 rv = -1;

	if ((o = json_loadb(body, len, 0, NULL)) == NULL ||
	    !json_is_object(o)) {
		json_decref(o);
		if (optional)
			return (0);
		xasprintf(cause, "%s replied with something that is not JSON",
		    what);
		return (-1);
	}
	v = json_object_get(o, key);
	if ((v == NULL && optional) || (json_is_integer(v) &&
	    json_integer_value(v) == want) || (json_is_boolean(v) &&
	    json_is_true(v) == (want != 0)))
		rv = 0;
	else {
		m = jx_str(o, msgkey);
		xasprintf(cause, "%s refused it: %s", what, m != NULL ? m :
		    "no reason given");
	}
	json_decref(o);
	return (rv);
}

static int
notify_check_wecom(const char *body, size_t len, char **cause)
{
	return (notify_check_field(body, len, "errcode", 0, 0, "WeCom",
	    "errmsg", cause));
}

static int
notify_check_feishu(const char *body, size_t len, char **cause)
{
	json_t	*o;
	int	 old;

	/* Older Feishu hooks answer {"StatusCode": 0}. */
	o = json_loadb(body, len, 0, NULL);
	old = o != NULL && json_object_get(o, "code") == NULL &&
	    json_object_get(o, "StatusCode") != NULL;
	json_decref(o);
	return (notify_check_field(body, len, old ? "StatusCode" : "code", 0,
	    0, "Feishu", old ? "StatusMessage" : "msg", cause));
}

static int
notify_check_telegram(const char *body, size_t len, char **cause)
{
	return (notify_check_field(body, len, "ok", 1, 0, "Telegram",
	    "description", cause));
}

static int
notify_check_serverchan(const char *body, size_t len, char **cause)
{
	return (notify_check_field(body, len, "code", 0, 1, "ServerChan",
	    "message", cause));
}

static int
notify_check_bark(const char *body, size_t len, char **cause)
{
	return (notify_check_field(body, len, "code", 200, 1, "Bark",
	    "message", cause));
}

/* The positional TARGET, required: what it is called for this kind. */
static const char *
notify_target(const json_t *args, const char *kind, const char *meta,
    struct err *e)
{
	const char	*s = jx_str(args, "target");

	if (s == NULL || *s == '\0') {
		err_set(e, ERR_INVALID, "notify add %s: missing %s", kind,
		    meta);
		return (NULL);
	}
	return (s);
}

/* webhook URL: the URL is the secret (bots embed their key in it). */
static int
notify_webhook_config(const json_t *args, json_t *config, char **secret,
    struct err *e)
{
	const char	*url;
	char		*host;

	if ((url = notify_target(args, "webhook", "URL", e)) == NULL ||
	    !notify_url_ok(url, "webhook URL", e))
		return (-1);
	host = notify_url_host(url);
	json_object_set_new(config, "host", json_string(host));
	free(host);
	json_object_set_new(config, "shape",
	    json_string(notify_webhook_shape(url)));
	*secret = xstrdup(url);
	return (0);
}

static int
notify_webhook_build(__unused const json_t *config, const char *url,
    const struct notify_text *t, struct notify_msg *m, char **cause)
{
	const char	*shape = notify_webhook_shape(url);
	char		*text, *iso;
	struct tm	 tm;

	m->url = xstrdup(url);
	m->method = "POST";
	m->content_type = xstrdup("application/json");
	if (strcmp(shape, "wecom") == 0) {
		text = notify_trunc(notify_full_text(t), NOTIFY_WECOM_MAX);
		m->body = notify_dump(json_pack("{s:s, s:{s:s}}", "msgtype",
		    "text", "text", "content", text));
		m->check = notify_check_wecom;
		free(text);
	} else if (strcmp(shape, "feishu") == 0) {
		text = notify_trunc(notify_full_text(t), NOTIFY_TEXT_MAX);
		m->body = notify_dump(json_pack("{s:s, s:{s:s}}", "msg_type",
		    "text", "content", "text", text));
		m->check = notify_check_feishu;
		free(text);
	} else {
		iso = xmalloc(32);
		gmtime_r(&t->time, &tm);
		strftime(iso, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
		m->body = notify_dump(json_pack("{s:s, s:s, s:s, s:s, s:s}",
		    "title", t->title, "message", t->message, "level",
		    t->level, "type", t->type, "time", iso));
		free(iso);
	}
	if (m->body == NULL) {
		*cause = xstrdup("the alert is not valid UTF-8");
		return (-1);
	}
	return (0);
}

static char *
notify_webhook_summary(const json_t *config)
{
	char	*s;

	xasprintf(&s, "%s webhook on %s", jx_str(config, "shape") != NULL ?
	    jx_str(config, "shape") : "generic", jx_str(config, "host") !=
	    NULL ? jx_str(config, "host") : "?");
	return (s);
}

/* bark URL: https://api.day.app/KEY, the key in the path. */
static int
notify_bark_config(const json_t *args, json_t *config, char **secret,
    struct err *e)
{
	const char	*url;
	char		*u, *host;

	if ((url = notify_target(args, "bark", "URL", e)) == NULL ||
	    !notify_url_ok(url, "Bark URL", e))
		return (-1);
	if (strpbrk(url, "?#") != NULL) {
		err_set(e, ERR_INVALID, "bad Bark URL: it takes no query "
		    "(https://api.day.app/KEY)");
		return (-1);
	}
	u = url_normalize(url);
	if (strcmp(notify_url_path(u), "/") == 0) {
		err_set(e, ERR_INVALID, "bad Bark URL: no key in its path "
		    "(https://api.day.app/KEY)");
		free(u);
		return (-1);
	}
	host = notify_url_host(u);
	json_object_set_new(config, "host", json_string(host));
	free(host);
	*secret = u;
	return (0);
}

/* Bark's levels: active, timeSensitive (breaks through focus), passive. */
static const char *
notify_bark_level(const char *level)
{
	if (strcmp(level, "info") == 0)
		return ("active");
	return ("timeSensitive");
}

static int
notify_bark_build(__unused const json_t *config, const char *url,
    const struct notify_text *t, struct notify_msg *m, __unused char **cause)
{
	char	*title, *body, *text;

	text = notify_body_text(t);
	title = notify_urlenc(t->title);
	body = notify_urlenc(text);
	xasprintf(&m->url, "%s/%s/%s?group=metapi&level=%s", url, title, body,
	    notify_bark_level(t->level));
	m->method = "GET";
	m->check = notify_check_bark;
	free(title);
	free(body);
	free(text);
	return (0);
}

static char *
notify_bark_summary(const json_t *config)
{
	char	*s;

	xasprintf(&s, "bark on %s", jx_str(config, "host") != NULL ?
	    jx_str(config, "host") : "?");
	return (s);
}

/* Letters, digits, '-' and '_' only, 1 to max bytes. */
static int
notify_token_chars(const char *s, size_t max)
{
	size_t	n = strlen(s);

	if (n == 0 || n > max)
		return (0);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return (0);
	return (1);
}

/* An optional --api-base URL, kept without trailing slashes. */
static int
notify_api_base(const json_t *args, json_t *config, struct err *e)
{
	const char	*s = jx_str(args, "api_base");
	char		*u;

	if (s == NULL)
		return (0);
	if (!notify_url_ok(s, "--api-base URL", e))
		return (-1);
	u = url_normalize(s);
	json_object_set_new(config, "api_base", json_string(u));
	free(u);
	return (0);
}

/* serverchan SENDKEY [--api-base URL] */
static int
notify_serverchan_config(const json_t *args, json_t *config, char **secret,
    struct err *e)
{
	const char	*key;

	if ((key = notify_target(args, "serverchan", "SENDKEY", e)) == NULL)
		return (-1);
	if (!notify_token_chars(key, 128) || strlen(key) < 8) {
		err_set(e, ERR_INVALID, "bad SENDKEY: 8 to 128 letters, digits, "
		    "'-' or '_'");
		return (-1);
	}
	if (notify_api_base(args, config, e) != 0)
		return (-1);
	*secret = xstrdup(key);
	return (0);
}

/*
 * POST {api}/{key}.send, form fields title and desp. ServerChan³ keys
 * ("sctp<uid>t...") have their own host per user.
 */
static int
notify_serverchan_build(const json_t *config, const char *key,
    const struct notify_text *t, struct notify_msg *m, __unused char **cause)
{
	const char	*base = jx_str(config, "api_base");
	char		*head, *desp, *et, *ed;
	size_t		 n;

	n = strspn(key + (strncmp(key, "sctp", 4) == 0 ? 4 : 0), "0123456789");
	if (base == NULL && strncmp(key, "sctp", 4) == 0 && n > 0 &&
	    key[4 + n] == 't')
		xasprintf(&m->url, "https://%.*s.push.ft07.com/send/%s.send",
		    (int)n, key + 4, key);
	else
		xasprintf(&m->url, "%s/%s.send", base != NULL ? base :
		    NOTIFY_SERVERCHAN_API, key);
	head = notify_headline(t);
	desp = notify_body_text(t);
	et = notify_urlenc(head);
	ed = notify_urlenc(desp);
	xasprintf(&m->body, "title=%s&desp=%s", et, ed);
	m->method = "POST";
	m->content_type = xstrdup("application/x-www-form-urlencoded");
	m->check = notify_check_serverchan;
	free(head);
	free(desp);
	free(et);
	free(ed);
	return (0);
}

static char *
notify_serverchan_summary(const json_t *config)
{
	char	*s;

	if (jx_str(config, "api_base") != NULL)
		xasprintf(&s, "serverchan via %s", jx_str(config, "api_base"));
	else
		s = xstrdup("serverchan");
	return (s);
}

/* telegram BOT_TOKEN CHAT_ID [--thread ID] [--api-base URL] */
static int
notify_telegram_config(const json_t *args, json_t *config, char **secret,
    struct err *e)
{
	const char	*token, *chat, *colon;
	long long	 thread;
	size_t		 i;

	if ((token = notify_target(args, "telegram", "BOT_TOKEN", e)) == NULL)
		return (-1);
	colon = strchr(token, ':');
	if (colon == NULL || colon == token || strspn(token, "0123456789") !=
	    (size_t)(colon - token) || !notify_token_chars(colon + 1, 256) ||
	    strlen(colon + 1) < 20) {
		err_set(e, ERR_INVALID, "bad BOT_TOKEN: it looks like "
		    "123456789:AA... (from @BotFather)");
		return (-1);
	}
	if ((chat = jx_str(args, "chat_id")) == NULL || *chat == '\0') {
		err_set(e, ERR_INVALID, "notify add telegram: missing CHAT_ID");
		return (-1);
	}
	i = chat[0] == '-' ? 1 : 0;
	if (!(chat[0] == '@' && notify_token_chars(chat + 1, 64)) &&
	    !(chat[i] != '\0' && strspn(chat + i, "0123456789") ==
	    strlen(chat + i) && strlen(chat + i) <= 18)) {
		err_set(e, ERR_INVALID, "bad CHAT_ID: a number (-100... for "
		    "groups) or @channelname");
		return (-1);
	}
	json_object_set_new(config, "chat_id", json_string(chat));
	if (jx_int(args, "thread", &thread) == 0) {
		if (thread < 1) {
			err_set(e, ERR_INVALID, "--thread must be a topic's "
			    "id, 1 or more");
			return (-1);
		}
		json_object_set_new(config, "thread", json_integer(thread));
	}
	if (notify_api_base(args, config, e) != 0)
		return (-1);
	*secret = xstrdup(token);
	return (0);
}

static int
notify_telegram_build(const json_t *config, const char *token,
    const struct notify_text *t, struct notify_msg *m, char **cause)
{
	const char	*base = jx_str(config, "api_base");
	const char	*chat = jx_str(config, "chat_id"), *errstr;
	long long	 thread, id;
	json_t		*o;
	char		*text;

	if (chat == NULL) {
		*cause = xstrdup("the channel has no chat id");
		return (-1);
	}
	xasprintf(&m->url, "%s/bot%s/sendMessage", base != NULL ? base :
	    NOTIFY_TELEGRAM_API, token);
	text = notify_trunc(notify_full_text(t), NOTIFY_TEXT_MAX);
	o = json_pack("{s:s, s:b}", "text", text, "disable_web_page_preview",
	    1);
	free(text);
	if (o == NULL) {
		*cause = xstrdup("the alert is not valid UTF-8");
		return (-1);
	}
	id = strtonum(chat, -1000000000000000000LL, 1000000000000000000LL,
	    &errstr);
	json_object_set_new(o, "chat_id", errstr == NULL ? json_integer(id) :
	    json_string(chat));
	if (jx_int(config, "thread", &thread) == 0)
		json_object_set_new(o, "message_thread_id",
		    json_integer(thread));
	m->body = notify_dump(o);
	m->method = "POST";
	m->content_type = xstrdup("application/json");
	m->check = notify_check_telegram;
	return (0);
}

static char *
notify_telegram_summary(const json_t *config)
{
	long long	 thread;
	char		*s;

	if (jx_int(config, "thread", &thread) == 0)
		xasprintf(&s, "chat %s, topic %lld", jx_str(config, "chat_id"),
		    thread);
	else
		xasprintf(&s, "chat %s", jx_str(config, "chat_id"));
	return (s);
}

/* One address, or several separated by commas: user@host, no names. */
static int
notify_addr_ok(const char *list, const char *what, struct err *e)
{
	const char	*p = list, *at;
	size_t		 n, i;

	for (;;) {
		n = strcspn(p, ",");
		at = memchr(p, '@', n);
		if (n == 0 || n > NOTIFY_ADDR_MAX || at == NULL || at == p ||
		    at == p + n - 1)
			goto bad;
		for (i = 0; i < n; i++)
			if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f ||
			    strchr("<>()[]\\;:\"", p[i]) != NULL)
				goto bad;
		if (p[n] == '\0')
			return (1);
		p += n + 1;
	}
bad:
	err_set(e, ERR_INVALID, "bad %s address \"%s\": user@example.com "
	    "(several separated by commas)", what, list);
	return (0);
}

/*
 * Is s one or more PEM certificates, as --ca-file must be? Text around
 * the blocks is let be (bundles carry "subject=" lines and comments, and
 * OpenSSL skips them); any other block is refused, a private key above
 * all, which would be a mistake to store. Each body must be base64 of a
 * DER SEQUENCE, which always starts "M". Returns how many, 0 with e set.
 */
int
notify_pem_ok(const char *s, struct err *e)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/=";
	const char		*p = s, *label, *end, *body;
	char			 name[41], close[64];
	size_t			 llen;
	int			 n = 0;

	if (strlen(s) > NOTIFY_CA_MAX) {
		err_set(e, ERR_INVALID, "--ca-file is larger than %d KiB",
		    NOTIFY_CA_MAX / 1024);
		return (0);
	}
	while ((p = strstr(p, "-----BEGIN ")) != NULL) {
		label = p + 11;
		if ((end = strstr(label, "-----")) == NULL ||
		    (llen = end - label) == 0 || llen >= sizeof name ||
		    memchr(label, '\n', llen) != NULL) {
			err_set(e, ERR_INVALID, "--ca-file has a broken PEM "
			    "header");
			return (0);
		}
		memcpy(name, label, llen);
		name[llen] = '\0';
		if (strcmp(name, "CERTIFICATE") != 0) {
			err_set(e, ERR_INVALID, "--ca-file holds a PEM \"%s\" "
			    "block; it takes CA certificates only%s", name,
			    strstr(name, "PRIVATE KEY") != NULL ?
			    " (never a private key)" : "");
			return (0);
		}
		body = end + 5;
		snprintf(close, sizeof close, "-----END %s-----", name);
		if ((p = strstr(body, close)) == NULL) {
			err_set(e, ERR_INVALID, "--ca-file has a certificate "
			    "without its END line");
			return (0);
		}
		body += strspn(body, " \t\r\n");
		if (*body != 'M') {
			err_set(e, ERR_INVALID, "--ca-file has a certificate "
			    "that is not base64 DER");
			return (0);
		}
		for (; body < p; body++)
			if (strchr(b64, *body) == NULL &&
			    strchr(" \t\r\n", *body) == NULL) {
				err_set(e, ERR_INVALID, "--ca-file has a "
				    "certificate that is not base64 DER");
				return (0);
			}
		p += strlen(close);
		n++;
	}
	if (n == 0)
		err_set(e, ERR_INVALID, "--ca-file is not a PEM certificate "
		    "(no \"-----BEGIN CERTIFICATE-----\" line)");
	return (n);
}

/*
 * smtp --host H [--port P] --from A --to A [--user U --password P]
 *      [--tls T] [--ca-file FILE]
 */
static int
notify_smtp_config(const json_t *args, json_t *config, char **secret,
    struct err *e)
{
	const char	*host = jx_str(args, "host"), *tls = jx_str(args, "tls");
	const char	*from = jx_str(args, "from"), *to = jx_str(args, "to");
	const char	*user = jx_str(args, "user");
	const char	*pass = jx_str(args, "password");
	const char	*ca = jx_str(args, "ca");
	long long	 port;
	size_t		 i;

	if (host == NULL || from == NULL || to == NULL) {
		err_set(e, ERR_INVALID, "notify add smtp: missing %s",
		    host == NULL ? "--host" : from == NULL ? "--from" : "--to");
		return (-1);
	}
	for (i = 0; host[i] != '\0'; i++)
		if (!isalnum((unsigned char)host[i]) &&
		    strchr(".-_:[]", host[i]) == NULL)
			break;
	if (host[i] != '\0' || i == 0 || i > 253) {
		err_set(e, ERR_INVALID, "bad --host \"%s\": a host name or "
		    "address", host);
		return (-1);
	}
	if (tls == NULL)
		tls = "starttls";
	if (strcmp(tls, "starttls") != 0 && strcmp(tls, "implicit") != 0 &&
	    strcmp(tls, "none") != 0) {
		err_set(e, ERR_INVALID, "--tls must be starttls, implicit or "
		    "none");
		return (-1);
	}
	if (ca != NULL && strcmp(tls, "none") == 0) {
		err_set(e, ERR_INVALID, "--ca-file needs --tls starttls or "
		    "implicit");
		return (-1);
	}
	if (ca != NULL && notify_pem_ok(ca, e) == 0)
		return (-1);
	if (jx_int(args, "port", &port) != 0)
		port = strcmp(tls, "implicit") == 0 ? 465 :
		    strcmp(tls, "none") == 0 ? 25 : 587;
	if (port < 1 || port > 65535) {
		err_set(e, ERR_INVALID, "--port must be from 1 to 65535");
		return (-1);
	}
	if (!notify_addr_ok(from, "--from", e) || !notify_addr_ok(to, "--to",
	    e))
		return (-1);
	if (strchr(from, ',') != NULL) {
		err_set(e, ERR_INVALID, "--from takes one address");
		return (-1);
	}
	if ((user == NULL) != (pass == NULL)) {
		err_set(e, ERR_INVALID, "--user and --password go together");
		return (-1);
	}
	if (user != NULL && (*user == '\0' || strpbrk(user, "\r\n") != NULL)) {
		err_set(e, ERR_INVALID, "bad --user");
		return (-1);
	}
	if (pass != NULL && strlen(pass) > NOTIFY_SECRET_MAX) {
		err_set(e, ERR_INVALID, "--password is too long");
		return (-1);
	}
	/*
	 * A password in clear text over the network is given away; to a
	 * relay on this machine (a local postfix) it goes nowhere.
	 */
	if (pass != NULL && strcmp(tls, "none") == 0 &&
	    strcmp(host, "localhost") != 0 && strncmp(host, "127.", 4) != 0 &&
	    strcmp(host, "::1") != 0 && strcmp(host, "[::1]") != 0) {
		err_set(e, ERR_INVALID, "refusing to send the SMTP password "
		    "unencrypted to %s: use --tls starttls or implicit (--tls "
		    "none with a password only for a relay on this machine)",
		    host);
		return (-1);
	}
	json_object_set_new(config, "host", json_string(host));
	json_object_set_new(config, "port", json_integer(port));
	json_object_set_new(config, "from", json_string(from));
	json_object_set_new(config, "to", json_string(to));
	if (user != NULL)
		json_object_set_new(config, "user", json_string(user));
	json_object_set_new(config, "tls", json_string(tls));
	/* Public certificates: config, not a secret. */
	if (ca != NULL)
		json_object_set_new(config, "ca", json_string(ca));
	*secret = pass != NULL ? xstrdup(pass) : NULL;
	return (0);
}

/* An RFC 5322 date, in English whatever the locale: "Thu, 02 Jan 2025 10:00:00 +0800". */
static void
notify_mail_date(time_t t, char *s, size_t len)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;
	long		off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(s, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
}

/* Text with CRLF line ends, as a mail body wants; owned. */
static char *
notify_crlf(const char *s)
{
	struct buf	 b;
	char		*out;

	buf_init(&b, 1024 * 1024);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			buf_addstr(&b, "\r\n");
		else if (*s != '\r')
			buf_add(&b, s, 1);
	}
	out = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return (out);
}

/* Does any line run over 900 bytes, or any byte leave ASCII? */
static int
notify_needs_b64(const char *s)
{
	size_t	line = 0;

	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return (1);
		line = *s == '\n' ? 0 : line + 1;
		if (line > 900)
			return (1);
	}
	return (0);
}

static int
notify_smtp_build(const json_t *config, const char *password,
    const struct notify_text *t, struct notify_msg *m, char **cause)
{
	const char	*host = jx_str(config, "host"), *tls = jx_str(config,
			    "tls"), *from = jx_str(config, "from");
	const char	*to = jx_str(config, "to"), *user = jx_str(config,
			    "user"), *ca = jx_str(config, "ca"), *domain;
	long long	 port = 25;
	struct buf	 b;
	char		 date[64], *head, *subject, *text, *body, *enc;
	size_t		 i, n;
	unsigned int	 h = 2166136261U;

	if (host == NULL || from == NULL || to == NULL || tls == NULL) {
		*cause = xstrdup("the channel's SMTP settings are incomplete");
		return (-1);
	}
	jx_int(config, "port", &port);
	xasprintf(&m->url, "%s://%s:%lld", strcmp(tls, "implicit") == 0 ?
	    "smtps" : "smtp", host, port);
	m->method = "SMTP";
	m->starttls = strcmp(tls, "starttls") == 0;
	m->ca_pem = ca != NULL ? xstrdup(ca) : NULL;
	m->mail_from = xstrdup(from);
	m->rcpt = xstrdup(to);
	if (user != NULL) {
		m->user = xstrdup(user);
		m->password = xstrdup(password != NULL ? password : "");
	}
	head = notify_headline(t);
	subject = notify_subject(head);
	text = notify_body_text(t);
	for (i = 0; text[i] != '\0'; i++)
		h = (h ^ (unsigned char)text[i]) * 16777619U;
	domain = strrchr(from, '@') + 1;
	notify_mail_date(t->time, date, sizeof date);
	buf_init(&b, 1024 * 1024);
	buf_printf(&b, "Date: %s\r\nFrom: %s\r\nTo: ", date, from);
	for (i = 0; to[i] != '\0'; i++) {
		if (to[i] == ',')
			buf_addstr(&b, ", ");
		else
			buf_add(&b, &to[i], 1);
	}
	buf_printf(&b, "\r\nSubject: %s\r\nMessage-ID: <%lld.%08x@%s>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	    "X-Mailer: metapi\r\n", subject, (long long)t->time, h, domain);
	if (notify_needs_b64(text)) {
		buf_addstr(&b, "Content-Transfer-Encoding: base64\r\n\r\n");
		enc = notify_b64(text, strlen(text));
		for (i = 0, n = strlen(enc); i < n; i += 76) {
			buf_add(&b, enc + i, n - i < 76 ? n - i : 76);
			buf_addstr(&b, "\r\n");
		}
		free(enc);
	} else {
		buf_addstr(&b, "Content-Transfer-Encoding: 7bit\r\n\r\n");
		body = notify_crlf(text);
		buf_addstr(&b, body);
		buf_addstr(&b, "\r\n");
		free(body);
	}
	m->body = xstrdup(buf_cstr(&b));
	buf_free(&b);
	free(head);
	free(subject);
	free(text);
	return (0);
}

static char *
notify_smtp_summary(const json_t *config)
{
	long long	 port = 0;
	char		*s;

	jx_int(config, "port", &port);
	xasprintf(&s, "%s -> %s via %s:%lld (%s%s)", jx_str(config, "from"),
	    jx_str(config, "to"), jx_str(config, "host"), port,
	    jx_str(config, "tls"), jx_str(config, "ca") != NULL ?
	    ", custom CA" : "");
	return (s);
}

/* Build the request channel kind sends for alert t. */
int
notify_build(const char *kind, const json_t *config, const char *secret,
    const struct notify_text *t, struct notify_msg *m, char **cause)
{
	const struct notify_entry	*ne;

	memset(m, 0, sizeof *m);
	if ((ne = notify_find(kind)) == NULL) {
		xasprintf(cause, "unknown channel kind \"%s\"", kind);
		return (-1);
	}
	if (secret == NULL && strcmp(kind, "smtp") != 0) {
		xasprintf(cause, "the channel has no secret stored");
		return (-1);
	}
	if (ne->build(config, secret, t, m, cause) != 0) {
		notify_msg_free(m);
		return (-1);
	}
	m->host = notify_url_host(m->url);
	return (0);
}
