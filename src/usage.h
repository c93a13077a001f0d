/*
 * Token usage of one request, read from upstream replies in each API
 * format or estimated from text, and its cost. Pure.
 */
#ifndef USAGE_H
#define USAGE_H

#include <stddef.h>

#include <jansson.h>

/*
 * One convention for every format (OpenAI's):
 *   prompt      every input token, cache reads and cache writes included
 *   completion  every output token, reasoning included
 *   cache_read, cache_write  parts of prompt
 *   reasoning   part of completion
 * so the uncached input is prompt - cache_read - cache_write (see
 * usage_uncached()). OpenAI Chat, Completions, Responses, embeddings and
 * Gemini count cached tokens inside the prompt already; Anthropic's
 * input_tokens leaves out cache_read_input_tokens and
 * cache_creation_input_tokens, so they are added to it. Anthropic does
 * not report thinking tokens apart: reasoning stays 0 there. Gemini's
 * candidatesTokenCount leaves out thoughtsTokenCount: they are added.
 */
/*
 * A count above this is not a token count but a broken upstream: it is
 * ignored, and sums of counts cannot overflow.
 */
#define USAGE_MAX_COUNT	1000000000000000LL

struct usage {
	long long	 prompt;	/* all input tokens */
	long long	 completion;	/* all output tokens */
	long long	 cache_read;	/* of prompt: read from the cache */
	long long	 cache_write;	/* of prompt: written to the cache */
	long long	 reasoning;	/* of completion: thinking */
	int		 source;
#define USAGE_NONE	0	/* nothing known: all counts 0 */
#define USAGE_UPSTREAM	1	/* reported by the upstream */
#define USAGE_ESTIMATED	2	/* counted by usage_estimate_tokens */
};

/* The API formats whose usage can be read; see usage_format_table. */
enum usage_format {
	USAGE_OPENAI_CHAT,		/* /v1/chat/completions */
	USAGE_OPENAI_RESPONSES,		/* /v1/responses */
	USAGE_ANTHROPIC,		/* /v1/messages */
	USAGE_OPENAI_EMBEDDINGS,	/* /v1/embeddings */
	USAGE_OPENAI_COMPLETIONS,	/* /v1/completions */
	USAGE_GEMINI,			/* generateContent */
	USAGE_FORMAT_COUNT
};

/*
 * Prices in USD per 1M tokens, or per call, with the same meaning and
 * flag values as struct adapter_price. A cache price that is not set
 * bills those tokens at the input price.
 */
struct usage_price {
	double	 input;		/* per 1M uncached prompt tokens */
	double	 output;	/* per 1M completion tokens */
	double	 cache_read;	/* per 1M cache read tokens */
	double	 cache_write;	/* per 1M cache write tokens */
	double	 per_call;	/* per request, on top of tokens */
	int	 has;		/* USAGE_PRICE_* flags */
#define USAGE_PRICE_TOKENS	0x1
#define USAGE_PRICE_CACHE_R	0x2
#define USAGE_PRICE_CACHE_W	0x4
#define USAGE_PRICE_CALL	0x8
};

/*
 * With no price at all: USD 2 per 1M tokens of any kind, which is the
 * Node product's totalTokens / 500000 (a New API quota ratio of 1).
 */
#define USAGE_FALLBACK_PER_M	2.0

/* A streamed estimate: quarter tokens, so short pieces add up right. */
struct usage_est {
	long long	 quarters;
};

const char	*usage_format_name(enum usage_format);
int		 usage_format_find(const char *, enum usage_format *);
const char	*usage_source_name(int);

int		 usage_from_body(struct usage *, enum usage_format,
		     const json_t *);
int		 usage_text_may_have(const char *, size_t);
int		 usage_from_event(struct usage *, enum usage_format,
		     const json_t *);
long long	 usage_uncached(const struct usage *);
long long	 usage_total(const struct usage *);

double		 usage_cost(const struct usage *, const struct usage_price *);
double		 usage_reference_cost(const struct usage_price *);

long long	 usage_estimate_tokens(const char *);
void		 usage_est_add(struct usage_est *, const char *, size_t);
long long	 usage_est_tokens(const struct usage_est *);

#endif
