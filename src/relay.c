/*
 * Which relay formats each platform serves, and at which path: one table,
 * from upstream-apis.md's relay sections. NULL means the platform does not
 * speak that format (the request then needs another channel, or a format
 * conversion). Pure.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "relay.h"
#include "xmalloc.h"

static const struct {
	const char	*platform;
	const char	*path[RELAY_FORMAT_COUNT];
	int		 anthropic_auth;	/* x-api-key, not Bearer */
} relay_table[] = {
	{ "new-api", { "/v1/chat/completions", "/v1/completions",
	    "/v1/embeddings", "/v1/images/generations", "/v1/responses",
	    "/v1/messages", "/v1/messages/count_tokens" }, 0 },
	{ "anyrouter", { "/v1/chat/completions", "/v1/completions",
	    "/v1/embeddings", "/v1/images/generations", "/v1/responses",
	    "/v1/messages", "/v1/messages/count_tokens" }, 0 },
	{ "veloera", { "/v1/chat/completions", "/v1/completions",
	    "/v1/embeddings", "/v1/images/generations", "/v1/responses",
	    "/v1/messages", NULL }, 0 },
	{ "one-api", { "/v1/chat/completions", "/v1/completions",
	    "/v1/embeddings", "/v1/images/generations", NULL, NULL, NULL }, 0 },
	{ "one-hub", { "/v1/chat/completions", "/v1/completions",
	    "/v1/embeddings", "/v1/images/generations", "/v1/responses",
	    "/claude/v1/messages", NULL }, 0 },
	{ "done-hub", { "/v1/chat/completions", "/v1/completions",
	    "/v1/embeddings", "/v1/images/generations", "/v1/responses",
	    "/claude/v1/messages", NULL }, 0 },
	{ "sub2api", { "/v1/chat/completions", NULL, NULL, NULL,
	    "/v1/responses", "/v1/messages", "/v1/messages/count_tokens" }, 1 },
	{ "openai", { "/v1/chat/completions", "/v1/completions",
	    "/v1/embeddings", "/v1/images/generations", "/v1/responses", NULL,
	    NULL }, 0 },
	{ "claude", { NULL, NULL, NULL, NULL, NULL, "/v1/messages",
	    "/v1/messages/count_tokens" }, 1 },
};

static const char *const relay_format_names[] = {
	"chat", "completions", "embeddings", "images", "responses",
	"messages", "count_tokens"
};

const char *
relay_format_name(enum relay_format f)
{
	return (relay_format_names[f]);
}

const char *
relay_path(const char *platform, enum relay_format f)
{
	size_t	i;

	for (i = 0; i < nitems(relay_table); i++)
		if (strcmp(relay_table[i].platform, platform) == 0)
			return (relay_table[i].path[f]);
	return (NULL);
}

/*
 * The header that carries key for a request in format f to a site of
 * this platform: Anthropic's x-api-key where the platform wants it for
 * Messages, else a Bearer token. Owned; the caller wipes it.
 */
char *
relay_auth_line(const char *platform, enum relay_format f, const char *key)
{
	char	*line;

	if ((f == RELAY_MESSAGES || f == RELAY_COUNT_TOKENS) &&
	    relay_anthropic_auth(platform))
		xasprintf(&line, "x-api-key: %s", key);
	else
		xasprintf(&line, "Authorization: Bearer %s", key);
	return (line);
}

/* Does the platform want Anthropic's x-api-key rather than a Bearer key? */
int
relay_anthropic_auth(const char *platform)
{
	size_t	i;

	for (i = 0; i < nitems(relay_table); i++)
		if (strcmp(relay_table[i].platform, platform) == 0)
			return (relay_table[i].anthropic_auth);
	return (0);
}

/*
 * Conversational formats in the order a platform prefers them when the
 * client's own is not spoken (metapi-node.md 3.2): Anthropic's own API
 * and AnyRouter (a Claude relay) lead with Messages, OpenAI's with
 * Responses, the aggregators with Chat.
 */
static const struct {
	const char		*platform;
	enum relay_format	 order[3];
} relay_prefer[] = {
	{ "claude", { RELAY_MESSAGES, RELAY_CHAT, RELAY_RESPONSES } },
	{ "anyrouter", { RELAY_MESSAGES, RELAY_CHAT, RELAY_RESPONSES } },
	{ "openai", { RELAY_RESPONSES, RELAY_CHAT, RELAY_MESSAGES } },
};
static const enum relay_format relay_prefer_default[3] = {
	RELAY_CHAT, RELAY_MESSAGES, RELAY_RESPONSES
};

static int
relay_conversational(enum relay_format f)
{
	return (f == RELAY_CHAT || f == RELAY_MESSAGES || f == RELAY_RESPONSES);
}

static size_t
relay_add(enum relay_format *out, size_t n, const char *platform,
    enum relay_format f)
{
	size_t	i;

	if (relay_path(platform, f) == NULL)
		return (n);
	for (i = 0; i < n; i++)
		if (out[i] == f)
			return (n);
	out[n] = f;
	return (n + 1);
}

/*
 * The formats to try, in order, for a client request in format client
 * on a site of this platform: the client's own first when the site
 * speaks it (no conversion at all), then a Claude model's own Messages,
 * then the platform's preference. Formats other than the three
 * conversational ones are never converted. out has room for
 * RELAY_MAX_UPSTREAM. Returns how many (0: the
 * site cannot serve this request).
 */
size_t
relay_upstream_formats(const char *platform, enum relay_format client,
    const char *model, enum relay_format *out)
{
	const enum relay_format	*order = relay_prefer_default;
	size_t			 i, n = 0;

	n = relay_add(out, n, platform, client);
	if (!relay_conversational(client))
		return (n);
	if (model != NULL && strcasestr(model, "claude") != NULL)
		n = relay_add(out, n, platform, RELAY_MESSAGES);
	for (i = 0; i < nitems(relay_prefer); i++)
		if (strcmp(relay_prefer[i].platform, platform) == 0)
			order = relay_prefer[i].order;
	for (i = 0; i < 3; i++)
		n = relay_add(out, n, platform, order[i]);
	return (n);
}

/*
 * Does the base URL end in an API version segment (/v1, or Zhipu's
 * /api/paas/v4, Ark's /api/v3)? Such a base takes the platform's paths
 * without their own /v1.
 */
int
relay_base_versioned(const char *base)
{
	size_t	n = strlen(base), d = 0;

	while (d < n && base[n - 1 - d] >= '0' && base[n - 1 - d] <= '9')
		d++;
	return (d > 0 && n >= d + 2 && base[n - d - 1] == 'v' &&
	    base[n - d - 2] == '/');
}

/*
 * An upstream URL: the site's base URL and a platform path. A base that
 * already ends in a version (/v1, /v4) does not get /v1 on top.
 */
char *
relay_url(const char *base, const char *path)
{
	char	*url;

	if (relay_base_versioned(base) && strncmp(path, "/v1/", 4) == 0)
		path += 3;
	xasprintf(&url, "%s%s", base, path);
	return (url);
}
