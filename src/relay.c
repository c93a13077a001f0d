/*
 * Which relay formats each platform serves, and at which path: one table,
 * from upstream-apis.md's relay sections. NULL means the platform does not
 * speak that format (the request then needs another channel, or a format
 * conversion). Pure.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "compat.h"
#include "relay.h"

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
