/*
 * Token usage and cost. Reads the usage an upstream reports, in a whole
 * reply or in one stream event, for each API format, and brings it to the
 * one convention of usage.h; prices it; estimates it from text when the
 * upstream reports nothing. Pure: it takes parsed JSON and numbers and
 * does no I/O, no allocation, no logging.
 *
 * Reading streams. Most formats report usage once, complete, near the
 * end (OpenAI Chat's usage-only chunk with stream_options.include_usage,
 * Responses' response.completed); some relays repeat it on every chunk
 * with running totals. A later report therefore replaces an earlier one,
 * except that an all-zero report (relays that pad every chunk with
 * zeros) never replaces a real one. Anthropic splits it: message_start
 * carries the input side, message_delta the output side, and the counts
 * in message_delta are cumulative (Anthropic's documentation), so the
 * two are merged field by field, each field taking its latest value;
 * adding them would count output twice.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"
#include "usage.h"

struct usage_format_entry {
	const char	*name;
	int		(*body)(struct usage *, const json_t *);
	int		(*event)(struct usage *, const json_t *);
};

static int	usage_openai_body(struct usage *, const json_t *);
static int	usage_responses_body(struct usage *, const json_t *);
static int	usage_responses_event(struct usage *, const json_t *);
static int	usage_anthropic_body(struct usage *, const json_t *);
static int	usage_anthropic_event(struct usage *, const json_t *);
static int	usage_gemini_body(struct usage *, const json_t *);

/*
 * Formats by enum usage_format. Chat, Completions and embeddings share
 * one reader: a stream chunk has the same "usage" object as a body.
 */
static const struct usage_format_entry usage_format_table[] = {
	[USAGE_OPENAI_CHAT] = { .name = "openai-chat",
	    .body = usage_openai_body, .event = usage_openai_body },
	[USAGE_OPENAI_RESPONSES] = { .name = "openai-responses",
	    .body = usage_responses_body, .event = usage_responses_event },
	[USAGE_ANTHROPIC] = { .name = "anthropic",
	    .body = usage_anthropic_body, .event = usage_anthropic_event },
	[USAGE_OPENAI_EMBEDDINGS] = { .name = "openai-embeddings",
	    .body = usage_openai_body, .event = usage_openai_body },
	[USAGE_OPENAI_COMPLETIONS] = { .name = "openai-completions",
	    .body = usage_openai_body, .event = usage_openai_body },
	[USAGE_GEMINI] = { .name = "gemini",
	    .body = usage_gemini_body, .event = usage_gemini_body },
};

/* By USAGE_NONE, USAGE_UPSTREAM, USAGE_ESTIMATED: proxy_logs.usage_source. */
static const char *const usage_source_table[] = {
	"none", "upstream", "estimated"
};

const char *
usage_format_name(enum usage_format f)
{
	if ((unsigned)f >= USAGE_FORMAT_COUNT)
		return ("unknown");
	return (usage_format_table[f].name);
}

int
usage_format_find(const char *name, enum usage_format *f)
{
	size_t	i;

	for (i = 0; i < USAGE_FORMAT_COUNT; i++) {
		if (strcmp(usage_format_table[i].name, name) == 0) {
			*f = i;
			return (0);
		}
	}
	return (-1);
}

const char *
usage_source_name(int source)
{
	if (source < 0 || source > USAGE_ESTIMATED)
		return ("none");
	return (usage_source_table[source]);
}

/* A non-negative count at o.k; 0 when absent or not one. */
static int
usage_num(const json_t *o, const char *k, long long *v)
{
	const json_t	*x = json_object_get(o, k);
	double		 d;

	if (json_is_integer(x)) {
		if (json_integer_value(x) < 0 ||
		    json_integer_value(x) > USAGE_MAX_COUNT)
			return (0);
		*v = json_integer_value(x);
		return (1);
	}
	if (json_is_real(x)) {
		d = json_real_value(x);
		if (!(d >= 0 && d <= USAGE_MAX_COUNT))
			return (0);
		*v = (long long)d;
		return (1);
	}
	return (0);
}

/* The object at o.k, NULL when there is none. */
static const json_t *
usage_obj(const json_t *o, const char *k)
{
	const json_t	*x = json_object_get(o, k);

	return (json_is_object(x) ? x : NULL);
}

/*
 * Take a complete report n. An all-zero one does not replace counts
 * already read from upstream.
 */
static int
usage_replace(struct usage *u, const struct usage *n)
{
	if (n->prompt == 0 && n->completion == 0 &&
	    u->source == USAGE_UPSTREAM && usage_total(u) != 0)
		return (0);
	*u = *n;
	u->source = USAGE_UPSTREAM;
	return (1);
}

/*
 * Cache counts larger than the prompt mean this upstream left them out of
 * it (a relay passing Anthropic counts on in an OpenAI shape): add them.
 */
static void
usage_repair(struct usage *n)
{
	if (n->prompt < n->cache_read + n->cache_write)
		n->prompt += n->cache_read + n->cache_write;
	if (n->completion < n->reasoning)
		n->completion += n->reasoning;
}

/*
 * OpenAI Chat, Completions and embeddings: "usage" with prompt_tokens
 * (cached included), completion_tokens (reasoning included),
 * prompt_tokens_details.cached_tokens and
 * completion_tokens_details.reasoning_tokens. Also taken: DeepSeek's
 * prompt_cache_hit_tokens, and cache_read_input_tokens /
 * cache_creation_input_tokens that relays copy from Anthropic. Embeddings
 * may report only total_tokens, which is then the prompt.
 */
static int
usage_openai_body(struct usage *u, const json_t *body)
{
	const json_t	*o = usage_obj(body, "usage"), *d;
	struct usage	 n;
	int		 found = 0;

	if (o == NULL)
		return (0);
	memset(&n, 0, sizeof n);
	found |= usage_num(o, "prompt_tokens", &n.prompt);
	found |= usage_num(o, "completion_tokens", &n.completion);
	if (!found)
		found = usage_num(o, "total_tokens", &n.prompt);
	if (!found)
		return (0);
	d = usage_obj(o, "prompt_tokens_details");
	if (!usage_num(d, "cached_tokens", &n.cache_read) &&
	    !usage_num(o, "prompt_cache_hit_tokens", &n.cache_read))
		usage_num(o, "cache_read_input_tokens", &n.cache_read);
	usage_num(o, "cache_creation_input_tokens", &n.cache_write);
	d = usage_obj(o, "completion_tokens_details");
	usage_num(d, "reasoning_tokens", &n.reasoning);
	usage_repair(&n);
	return (usage_replace(u, &n));
}

/*
 * OpenAI Responses: "usage" with input_tokens (cached included),
 * output_tokens (reasoning included), input_tokens_details.cached_tokens
 * and output_tokens_details.reasoning_tokens.
 */
static int
usage_responses_usage(struct usage *u, const json_t *o)
{
	const json_t	*d;
	struct usage	 n;
	int		 found = 0;

	if (o == NULL)
		return (0);
	memset(&n, 0, sizeof n);
	found |= usage_num(o, "input_tokens", &n.prompt);
	found |= usage_num(o, "output_tokens", &n.completion);
	if (!found)
		return (0);
	d = usage_obj(o, "input_tokens_details");
	usage_num(d, "cached_tokens", &n.cache_read);
	d = usage_obj(o, "output_tokens_details");
	usage_num(d, "reasoning_tokens", &n.reasoning);
	usage_repair(&n);
	return (usage_replace(u, &n));
}

/* A response object; or one wrapped as {"response": {...}}. */
static int
usage_responses_body(struct usage *u, const json_t *body)
{
	const json_t	*r;

	if (usage_responses_usage(u, usage_obj(body, "usage")))
		return (1);
	r = usage_obj(body, "response");
	return (usage_responses_usage(u, usage_obj(r, "usage")));
}

/*
 * Stream events carry the response object in "response":
 * response.completed, response.incomplete and response.failed have its
 * final usage, response.created and response.in_progress none yet.
 */
static int
usage_responses_event(struct usage *u, const json_t *data)
{
	const json_t	*r = usage_obj(data, "response");

	return (usage_responses_usage(u, usage_obj(r, "usage")));
}

/*
 * Anthropic "usage": input_tokens (cache left out), output_tokens,
 * cache_read_input_tokens, cache_creation_input_tokens (or, without it,
 * the sum of cache_creation.ephemeral_5m/1h_input_tokens). Fields present
 * replace the ones in u; absent ones stay, unless fresh (a new message).
 */
static int
usage_anthropic_merge(struct usage *u, const json_t *o, int fresh)
{
	const json_t	*cc;
	long long	 in, v, v5 = 0, v1 = 0;
	int		 found = 0, has5, has1;

	if (o == NULL)
		return (0);
	if (fresh || u->source != USAGE_UPSTREAM) {
		memset(u, 0, sizeof *u);
		in = 0;
	} else {
		in = u->prompt - u->cache_read - u->cache_write;
		if (in < 0)
			in = 0;
	}
	if (usage_num(o, "input_tokens", &v)) {
		in = v;
		found = 1;
	}
	if (usage_num(o, "output_tokens", &v)) {
		u->completion = v;
		found = 1;
	}
	if (usage_num(o, "cache_read_input_tokens", &v)) {
		u->cache_read = v;
		found = 1;
	}
	if (usage_num(o, "cache_creation_input_tokens", &v)) {
		u->cache_write = v;
		found = 1;
	} else if ((cc = usage_obj(o, "cache_creation")) != NULL) {
		has5 = usage_num(cc, "ephemeral_5m_input_tokens", &v5);
		has1 = usage_num(cc, "ephemeral_1h_input_tokens", &v1);
		if (has5 || has1) {
			u->cache_write = v5 + v1;
			found = 1;
		}
	}
	if (!found)
		return (0);
	u->prompt = in + u->cache_read + u->cache_write;
	u->source = USAGE_UPSTREAM;
	return (1);
}

static int
usage_anthropic_body(struct usage *u, const json_t *body)
{
	struct usage	n;

	memset(&n, 0, sizeof n);
	if (!usage_anthropic_merge(&n, usage_obj(body, "usage"), 1))
		return (0);
	return (usage_replace(u, &n));
}

/* message_start opens a message with its input usage; message_delta adds. */
static int
usage_anthropic_event(struct usage *u, const json_t *data)
{
	const char	*type;

	type = json_string_value(json_object_get(data, "type"));
	if (type == NULL)
		return (0);
	if (strcmp(type, "message_start") == 0)
		return (usage_anthropic_merge(u, usage_obj(usage_obj(data,
		    "message"), "usage"), 1));
	if (strcmp(type, "message_delta") == 0)
		return (usage_anthropic_merge(u, usage_obj(data, "usage"), 0));
	return (0);
}

/*
 * Gemini "usageMetadata": promptTokenCount (cached content included),
 * toolUsePromptTokenCount (more input), candidatesTokenCount (thoughts
 * left out), thoughtsTokenCount, cachedContentTokenCount. Stream chunks
 * repeat it with running totals. The Gemini CLI envelope wraps the reply
 * in {"response": {...}}.
 */
static int
usage_gemini_body(struct usage *u, const json_t *body)
{
	const json_t	*o;
	struct usage	 n;
	long long	 v;
	int		 found = 0;

	if ((o = usage_obj(body, "usageMetadata")) == NULL &&
	    (o = usage_obj(usage_obj(body, "response"), "usageMetadata")) ==
	    NULL)
		return (0);
	memset(&n, 0, sizeof n);
	found |= usage_num(o, "promptTokenCount", &n.prompt);
	found |= usage_num(o, "candidatesTokenCount", &n.completion);
	found |= usage_num(o, "thoughtsTokenCount", &n.reasoning);
	if (!found)
		return (0);
	if (usage_num(o, "toolUsePromptTokenCount", &v))
		n.prompt += v;
	n.completion += n.reasoning;
	usage_num(o, "cachedContentTokenCount", &n.cache_read);
	usage_repair(&n);
	return (usage_replace(u, &n));
}

/*
 * Read the usage in a whole (non-stream) reply body. 1 when it had some
 * and u now holds it (source USAGE_UPSTREAM), 0 when not (u unchanged).
 */
int
usage_from_body(struct usage *u, enum usage_format f, const json_t *body)
{
	if ((unsigned)f >= USAGE_FORMAT_COUNT || !json_is_object(body))
		return (0);
	return (usage_format_table[f].body(u, body));
}

/*
 * Could this event data hold usage: a key starting "usage" ("usage",
 * "usageMetadata") whose value is an object? A byte scan, so that the
 * relay parses only such events (and errors) of a stream it passes
 * through, not each of its thousands of text deltas. False positives
 * (the words in a text) only cost a parse.
 */
int
usage_text_may_have(const char *data, size_t len)
{
	const char	*p = data, *end = data + len, *q;

	while ((q = memmem(p, (size_t)(end - p), "\"usage", 6)) != NULL) {
		p = q + 6;
		while (p < end && ((*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || *p == '_'))
			p++;
		if (p >= end || *p++ != '"')
			continue;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (p >= end || *p++ != ':')
			continue;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (p < end && *p == '{')
			return (1);
	}
	return (0);
}

/*
 * Read the usage in one stream event's data, merging it into what earlier
 * events of the same stream left in u (start from a zeroed struct). 1
 * when this event changed u, 0 when not.
 */
int
usage_from_event(struct usage *u, enum usage_format f, const json_t *data)
{
	if ((unsigned)f >= USAGE_FORMAT_COUNT || !json_is_object(data))
		return (0);
	return (usage_format_table[f].event(u, data));
}

/* Prompt tokens read neither from nor into the cache. */
long long
usage_uncached(const struct usage *u)
{
	long long	n;

	n = u->prompt - u->cache_read - u->cache_write;
	return (n > 0 ? n : 0);
}

long long
usage_total(const struct usage *u)
{
	return (u->prompt + u->completion);
}

/*
 * The cost in USD. Tokens: uncached prompt at the input price, cache
 * reads and writes at theirs (the input price when not set), completion
 * (reasoning included) at the output price; plus the per-call price.
 * With no price (NULL, or nothing set) every token costs
 * USAGE_FALLBACK_PER_M; a platform with another fallback (Veloera's
 * quota unit makes it 1.0) passes that as a price instead.
 */
double
usage_cost(const struct usage *u, const struct usage_price *p)
{
	double	cost = 0, cr, cw;

	if (p == NULL || (p->has & (USAGE_PRICE_TOKENS |
	    USAGE_PRICE_CALL)) == 0)
		return ((double)usage_total(u) * USAGE_FALLBACK_PER_M / 1e6);
	if (p->has & USAGE_PRICE_CALL)
		cost += p->per_call;
	if (p->has & USAGE_PRICE_TOKENS) {
		cr = (p->has & USAGE_PRICE_CACHE_R) ? p->cache_read : p->input;
		cw = (p->has & USAGE_PRICE_CACHE_W) ? p->cache_write :
		    p->input;
		cost += ((double)usage_uncached(u) * p->input +
		    (double)u->cache_read * cr +
		    (double)u->cache_write * cw +
		    (double)u->completion * p->output) / 1e6;
	}
	return (cost);
}

/*
 * The cost of a reference call of 500000 prompt and 500000 completion
 * tokens: the "catalog" tier of the router's unit cost (reference section
 * 2.5, tier 3). The router's other tiers (observed, configured, fallback)
 * come from statistics and settings, not from here.
 */
double
usage_reference_cost(const struct usage_price *p)
{
	struct usage	u;

	memset(&u, 0, sizeof u);
	u.prompt = 500000;
	u.completion = 500000;
	return (usage_cost(&u, p));
}

/*
 * The length of the UTF-8 sequence at s (at most n bytes) and its code
 * point; 0 when s does not start a well-formed sequence. Overlong forms
 * and surrogates are not refused: this only estimates.
 */
static size_t
usage_utf8(const unsigned char *s, size_t n, unsigned int *cp)
{
	size_t	len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		*cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		*cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		*cp = s[0] & 0x07;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return (len);
}

/* Scripts that tokenizers spend about one token per character on. */
static const struct {
	unsigned int	lo, hi;
} usage_wide_table[] = {
	{ 0x1100, 0x11ff },	/* Hangul Jamo */
	{ 0x2e80, 0x9fff },	/* CJK radicals, punctuation, kana, Han */
	{ 0xa960, 0xa97f },	/* Hangul Jamo Extended-A */
	{ 0xac00, 0xd7ff },	/* Hangul syllables */
	{ 0xf900, 0xfaff },	/* CJK compatibility ideographs */
	{ 0xfe30, 0xfe4f },	/* CJK compatibility forms */
	{ 0xff00, 0xffef },	/* half- and fullwidth forms */
	{ 0x10000, 0x10ffff },	/* emoji, Han extensions B and on */
};

/*
 * Count text into an estimate, in quarter tokens:
 *   ASCII                                 1 (about 4 characters a token)
 *   CJK, kana, Hangul, fullwidth, emoji   4 (about 1 token a character)
 *   other non-ASCII (accents, Cyrillic)   2 (about 2 characters a token)
 *   a byte that is not valid UTF-8        4 (a byte-fallback token)
 * Feed whole characters (decoded JSON strings always are).
 */
void
usage_est_add(struct usage_est *est, const char *text, size_t n)
{
	const unsigned char	*s = (const unsigned char *)text;
	unsigned int		 cp;
	size_t			 i = 0, len, k;
	int			 q;

	while (i < n) {
		if ((len = usage_utf8(s + i, n - i, &cp)) == 0) {
			est->quarters += 4;
			i++;
			continue;
		}
		if (cp < 0x80)
			q = 1;
		else {
			q = 2;
			for (k = 0; k < nitems(usage_wide_table); k++) {
				if (cp >= usage_wide_table[k].lo &&
				    cp <= usage_wide_table[k].hi) {
					q = 4;
					break;
				}
			}
		}
		est->quarters += q;
		i += len;
	}
}

/* Tokens in an estimate, rounded up. */
long long
usage_est_tokens(const struct usage_est *est)
{
	return ((est->quarters + 3) / 4);
}

/* A rough token count of text; see usage_est_add. */
long long
usage_estimate_tokens(const char *text)
{
	struct usage_est	est = { 0 };

	if (text == NULL)
		return (0);
	usage_est_add(&est, text, strlen(text));
	return (usage_est_tokens(&est));
}
