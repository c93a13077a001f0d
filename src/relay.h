/* The relay API formats and where each platform serves them. */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>

enum relay_format {
	RELAY_CHAT,		/* OpenAI /v1/chat/completions */
	RELAY_COMPLETIONS,	/* OpenAI /v1/completions */
	RELAY_EMBEDDINGS,	/* OpenAI /v1/embeddings */
	RELAY_IMAGES,		/* OpenAI /v1/images/generations */
	RELAY_RESPONSES,	/* OpenAI /v1/responses */
	RELAY_MESSAGES,		/* Anthropic /v1/messages */
	RELAY_COUNT_TOKENS,	/* Anthropic /v1/messages/count_tokens */
	RELAY_FORMAT_COUNT
};

/* At most the three conversational formats are tried per channel. */
#define RELAY_MAX_UPSTREAM	3

size_t		 relay_upstream_formats(const char *, enum relay_format,
		     const char *, enum relay_format *);
int		 relay_base_versioned(const char *);
char		*relay_url(const char *, const char *);
char		*relay_auth_line(const char *, enum relay_format, const char *);
const char	*relay_path(const char *, enum relay_format);
int		 relay_anthropic_auth(const char *);
const char	*relay_format_name(enum relay_format);

#endif
