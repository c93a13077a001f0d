/*
 * Route selection math, and nothing else: which candidate channels are
 * eligible, how likely each one is to be picked, which one a given uniform
 * draw picks, and how runtime health, failure counters and cooldowns move
 * after a success or a failure. Pure: no I/O, no clock, no globals other
 * than const tables; the caller passes every input (times in ms) and keeps
 * every state. Matching a route, loading rows and persisting state belong
 * to the caller (snapshot, http-proxy).
 *
 * The rules are the Node product's (reference metapi-node.md 2.4-2.6):
 *
 * weighted    eligible channels are grouped by priority, lowest first. In
 *             a layer, breaker-open candidates (site or site+model) are
 *             dropped unless that empties the layer, then recently failed
 *             ones likewise. Each remaining candidate i gets
 *               c  cost: observed > configured > catalog > fallback
 *               v  = cost_w/c + balance_w*balance + usage_w/max(calls,1)
 *               n  = (v - minV)/range, maxV = max(v..,0.001),
 *                    minV = min(v..,0), range = maxV - minV or 1
 *               b  = (weight + 10) * (base_f + n*value_f)
 *               w  = b / channels of the site in the pool
 *                    * site weight * key multiplier * runtime health
 *                    * historical health(site) * session load
 *                    * (1/max(1,c) for the fallback tier only)
 *             and probability w/sum(w). A layer whose sum is 0 is skipped
 *             for the next one.
 * round_robin priority ignored; breaker-open dropped unless that empties
 *             the pool; the least recently selected (then used, then
 *             lowest id) wins outright.
 * stable_first see router_plan_stable.
 *
 * Choices where the reference is vague:
 *   - Historical health is computed per site over the pool the weights
 *     are computed over (the layer after avoidance).
 *   - A breaker is "half open" once its window is over and its level is
 *     still above 0: traffic flows again at the normal multiplier, three
 *     more transient failures within 5 min reopen it one level higher, a
 *     success closes it (level 0).
 *   - The deterministic strategies give the winner 100 % and every other
 *     eligible candidate 0 %, so the percentages still sum to 100.
 *   - Error text is matched as lower-case substrings with runs of white
 *     space folded to one space, standing in for the Node regexes.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat.h"
#include "jx.h"
#include "router.h"
#include "xmalloc.h"

#define ROUTER_MIN_UNIT_COST	1e-6
#define ROUTER_FIB_BASE		(15 * ROUTER_SEC)
#define ROUTER_COOLDOWN_MAX	(30 * ROUTER_DAY)
#define ROUTER_LIMIT_COOL	(5 * ROUTER_MIN)
#define ROUTER_RR_THRESHOLD	3
#define ROUTER_PENALTY_HALF	(10 * ROUTER_MIN)
#define ROUTER_RECENT_HALF	(30 * ROUTER_MIN)
#define ROUTER_HEALTH_MIN	0.08
#define ROUTER_LAT_BASE		2500.0
#define ROUTER_LAT_WINDOW	30000.0
#define ROUTER_LAT_MAX_PENALTY	0.35
#define ROUTER_LAT_ALPHA	0.3
#define ROUTER_STREAK_TRIP	3
#define ROUTER_STREAK_WINDOW	(5 * ROUTER_MIN)
#define ROUTER_HIST_MIN		0.45
#define ROUTER_HIST_SAMPLE	24.0
#define ROUTER_HIST_LAT_BASE	2000.0
#define ROUTER_HIST_LAT_WINDOW	20000.0
#define ROUTER_HIST_LAT_PENALTY	0.18
#define ROUTER_STABLE_CONF	12.0
#define ROUTER_STABLE_TRUST	8
#define ROUTER_STABLE_BAND	0.92
#define ROUTER_OBSERVE_EVERY	24
#define ROUTER_OBSERVE_GAP	(30 * ROUTER_MIN)

static const long long router_rr_levels[] = {
	0, 10 * ROUTER_MIN, ROUTER_HOUR, ROUTER_DAY
};
static const long long router_breaker_levels[] = {
	0, ROUTER_MIN, 5 * ROUTER_MIN, 30 * ROUTER_MIN
};

static const char *router_strategy_names[] = {
	[ROUTER_WEIGHTED] = "weighted",
	[ROUTER_ROUND_ROBIN] = "round_robin",
	[ROUTER_STABLE_FIRST] = "stable_first",
};

static const char *router_cost_tier_names[] = {
	[ROUTER_COST_OBSERVED] = "observed",
	[ROUTER_COST_CONFIGURED] = "configured",
	[ROUTER_COST_CATALOG] = "catalog",
	[ROUTER_COST_FALLBACK] = "fallback",
};

static const char *router_breaker_names[] = {
	[ROUTER_BREAKER_CLOSED] = "closed",
	[ROUTER_BREAKER_OPEN] = "open",
	[ROUTER_BREAKER_HALF_OPEN] = "half_open",
};

/* Extra text after a reason: the numbers behind it. */
typedef void (*router_detail_cb)(char *, size_t, const struct router_plan *,
    const struct router_candidate *, const struct router_result *,
    long long);

static void	router_detail_cooling(char *, size_t,
		    const struct router_plan *, const struct router_candidate *,
		    const struct router_result *, long long);
static void	router_detail_breaker(char *, size_t,
		    const struct router_plan *, const struct router_candidate *,
		    const struct router_result *, long long);
static void	router_detail_recent(char *, size_t,
		    const struct router_plan *, const struct router_candidate *,
		    const struct router_result *, long long);
static void	router_detail_layer(char *, size_t,
		    const struct router_plan *, const struct router_candidate *,
		    const struct router_result *, long long);
static void	router_detail_factors(char *, size_t,
		    const struct router_plan *, const struct router_candidate *,
		    const struct router_result *, long long);

/* Machine code, human text and details of each reason. */
static const struct router_reason_entry {
	const char		*code;
	const char		*text;	/* NULL: only the details */
	router_detail_cb	 detail;
} router_reason_table[] = {
	[ROUTER_R_POOL] = { "ok", NULL, router_detail_factors },
	[ROUTER_R_MODEL] = { "model_mismatch",
	    "the channel's source model does not serve this model", NULL },
	[ROUTER_R_DISABLED] = { "channel_disabled", "channel disabled",
	    NULL },
	[ROUTER_R_ACCOUNT] = { "account_unusable", "account not active",
	    NULL },
	[ROUTER_R_SITE] = { "site_disabled", "site disabled", NULL },
	[ROUTER_R_KEY] = { "key_excluded", "excluded by the API key", NULL },
	[ROUTER_R_TRIED] = { "already_tried",
	    "already tried in this request", NULL },
	[ROUTER_R_CREDENTIAL] = { "no_credential", "no usable credential",
	    NULL },
	[ROUTER_R_COOLING] = { "cooling", "cooling down",
	    router_detail_cooling },
	[ROUTER_R_BREAKER] = { "breaker_open",
	    "breaker open, avoided while others are available",
	    router_detail_breaker },
	[ROUTER_R_RECENT_FAIL] = { "recently_failed",
	    "failed recently, avoided while others are available",
	    router_detail_recent },
	[ROUTER_R_LAYER] = { "lower_priority",
	    "a higher priority layer has channels", router_detail_layer },
	[ROUTER_R_ZERO] = { "zero_weight", "contribution is 0",
	    router_detail_factors },
	[ROUTER_R_OBSERVE] = { "other_pool",
	    "stable_first: not in the pool used this time",
	    router_detail_factors },
	[ROUTER_R_ROTATION] = { "not_its_turn", "another channel's turn",
	    router_detail_factors },
};

/* Penalty and breaker effect of each failure kind. */
static const struct router_fail_entry {
	const char	*name;
	double		 penalty;
	int		 transient;	/* counts towards the breaker */
} router_fail_table[] = {
	[ROUTER_FAIL_USAGE_LIMIT] = { "usage_limit", 0.4, 0 },
	[ROUTER_FAIL_TRANSIENT] = { "transient", 2.5, 1 },
	[ROUTER_FAIL_RATE_LIMIT] = { "rate_limit", 2.2, 1 },
	[ROUTER_FAIL_AUTH] = { "auth", 1.8, 0 },
	[ROUTER_FAIL_PROTOCOL] = { "protocol", 0.6, 0 },
	[ROUTER_FAIL_MODEL] = { "model_unsupported", 0.9, 0 },
	[ROUTER_FAIL_VALIDATION] = { "validation", 0.25, 0 },
	[ROUTER_FAIL_CLIENT] = { "client", 0.9, 0 },
	[ROUTER_FAIL_OTHER] = { "other", 1.2, 0 },
};

/*
 * Error text patterns, matched against the folded text (lower case, one
 * space for any run of white space). "a*b" is a then later b; word means
 * the match must not touch letters, digits or '_' on either side.
 */
static const struct router_pattern {
	enum router_fail_kind	 kind;
	const char		*text;
	int			 word;
} router_pattern_table[] = {
	{ ROUTER_FAIL_USAGE_LIMIT, "usage_limit_reached", 0 },
	{ ROUTER_FAIL_USAGE_LIMIT, "usage limit has been reached", 0 },
	{ ROUTER_FAIL_USAGE_LIMIT, "quota exceeded", 0 },
	{ ROUTER_FAIL_USAGE_LIMIT, "rate limit", 0 },
	{ ROUTER_FAIL_USAGE_LIMIT, "limit", 1 },

	{ ROUTER_FAIL_TRANSIENT, "bad gateway", 0 },
	{ ROUTER_FAIL_TRANSIENT, "gateway timeout", 0 },
	{ ROUTER_FAIL_TRANSIENT, "gateway time-out", 0 },
	{ ROUTER_FAIL_TRANSIENT, "timeout", 0 },
	{ ROUTER_FAIL_TRANSIENT, "timed out", 0 },
	{ ROUTER_FAIL_TRANSIENT, "service unavailable", 0 },
	{ ROUTER_FAIL_TRANSIENT, "temporarily unavailable", 0 },
	{ ROUTER_FAIL_TRANSIENT, "temporary unavailable", 0 },
	{ ROUTER_FAIL_TRANSIENT, "overloaded", 0 },
	{ ROUTER_FAIL_TRANSIENT, "connection reset", 0 },
	{ ROUTER_FAIL_TRANSIENT, "connection refused", 0 },
	{ ROUTER_FAIL_TRANSIENT, "econnreset", 0 },
	{ ROUTER_FAIL_TRANSIENT, "econnrefused", 0 },

	{ ROUTER_FAIL_PROTOCOL, "unsupported legacy protocol", 0 },
	{ ROUTER_FAIL_PROTOCOL, "please use /v1/responses", 0 },
	{ ROUTER_FAIL_PROTOCOL, "please use /v1/messages", 0 },
	{ ROUTER_FAIL_PROTOCOL, "please use /v1/chat/completions", 0 },
	{ ROUTER_FAIL_PROTOCOL, "does not allow /v1/*dispatch", 0 },
	{ ROUTER_FAIL_PROTOCOL, "unsupported endpoint", 0 },
	{ ROUTER_FAIL_PROTOCOL, "unsupported path", 0 },
	{ ROUTER_FAIL_PROTOCOL, "unknown endpoint", 0 },
	{ ROUTER_FAIL_PROTOCOL, "unrecognized request url", 0 },
	{ ROUTER_FAIL_PROTOCOL, "no route matched", 0 },

	{ ROUTER_FAIL_MODEL, "unsupported model", 0 },
	{ ROUTER_FAIL_MODEL, "model not supported", 0 },
	{ ROUTER_FAIL_MODEL, "does not support model", 0 },
	{ ROUTER_FAIL_MODEL, "does not support the model", 0 },
	{ ROUTER_FAIL_MODEL, "no such model", 0 },
	{ ROUTER_FAIL_MODEL, "unknown model", 0 },
	{ ROUTER_FAIL_MODEL, "invalid model", 0 },
	{ ROUTER_FAIL_MODEL, "model*does not exist", 0 },
	/* "不支持所选模型" (the selected model is not supported) */
	{ ROUTER_FAIL_MODEL, "\xe4\xb8\x8d\xe6\x94\xaf\xe6\x8c\x81\xe6\x89\x80"
	    "\xe9\x80\x89\xe6\xa8\xa1\xe5\x9e\x8b", 0 },

	{ ROUTER_FAIL_VALIDATION, "invalid request body", 0 },
	{ ROUTER_FAIL_VALIDATION, "validation", 0 },
	{ ROUTER_FAIL_VALIDATION, "missing required", 0 },
	{ ROUTER_FAIL_VALIDATION, "required parameter", 0 },
	{ ROUTER_FAIL_VALIDATION, "unknown parameter", 0 },
	{ ROUTER_FAIL_VALIDATION, "unrecognized field", 0 },
	{ ROUTER_FAIL_VALIDATION, "unrecognized key", 0 },
	{ ROUTER_FAIL_VALIDATION, "unrecognized parameter", 0 },
	{ ROUTER_FAIL_VALIDATION, "malformed", 0 },
	{ ROUTER_FAIL_VALIDATION, "invalid json", 0 },
	{ ROUTER_FAIL_VALIDATION, "cannot parse", 0 },
	{ ROUTER_FAIL_VALIDATION, "unsupported media type", 0 },
};

/* A strategy: fills in pool, probabilities and the choice. */
typedef void (*router_strategy_cb)(struct router_plan *,
    const struct router_candidate *, const struct router_settings *,
    const struct router_request *);

static void	router_plan_weighted(struct router_plan *,
		    const struct router_candidate *,
		    const struct router_settings *,
		    const struct router_request *);
static void	router_plan_rr(struct router_plan *,
		    const struct router_candidate *,
		    const struct router_settings *,
		    const struct router_request *);
static void	router_plan_stable(struct router_plan *,
		    const struct router_candidate *,
		    const struct router_settings *,
		    const struct router_request *);

static const router_strategy_cb router_strategy_table[] = {
	[ROUTER_WEIGHTED] = router_plan_weighted,
	[ROUTER_ROUND_ROBIN] = router_plan_rr,
	[ROUTER_STABLE_FIRST] = router_plan_stable,
};

static double
router_clamp(double v, double lo, double hi)
{
	if (v < lo)
		return (lo);
	if (v > hi)
		return (hi);
	return (v);
}

const char *
router_strategy_name(enum router_strategy s)
{
	if ((unsigned)s >= ROUTER_STRATEGY_COUNT)
		return ("unknown");
	return (router_strategy_names[s]);
}

int
router_strategy_find(const char *name, enum router_strategy *out)
{
	size_t	i;

	for (i = 0; i < nitems(router_strategy_names); i++) {
		if (strcmp(name, router_strategy_names[i]) == 0) {
			*out = i;
			return (0);
		}
	}
	return (-1);
}

const char *
router_reason_code(enum router_reason r)
{
	if ((unsigned)r >= ROUTER_R_COUNT)
		return ("unknown");
	return (router_reason_table[r].code);
}

const char *
router_cost_tier_name(enum router_cost_tier t)
{
	if ((unsigned)t >= ROUTER_COST_TIER_COUNT)
		return ("unknown");
	return (router_cost_tier_names[t]);
}

const char *
router_fail_kind_name(enum router_fail_kind k)
{
	if ((unsigned)k >= ROUTER_FAIL_COUNT)
		return ("unknown");
	return (router_fail_table[k].name);
}

const char *
router_breaker_name(enum router_breaker b)
{
	if ((unsigned)b >= nitems(router_breaker_names))
		return ("unknown");
	return (router_breaker_names[b]);
}

void
router_settings_default(struct router_settings *s)
{
	memset(s, 0, sizeof *s);
	s->cost_weight = 0.4;
	s->balance_weight = 0.3;
	s->usage_weight = 0.3;
	s->base_factor = 0.5;
	s->value_factor = 0.5;
	s->fallback_unit_cost = 1;
	s->cooldown_cap = ROUTER_COOLDOWN_MAX;
}

void
router_candidate_init(struct router_candidate *c)
{
	memset(c, 0, sizeof *c);
	c->weight = 10;
	c->enabled = 1;
	c->account_usable = 1;
	c->site_usable = 1;
	c->site_weight = 1;
	c->key_mult = 1;
}

/* Error text matching. */

static int
router_is_word(int ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '_' || (ch >= 'A' && ch <= 'Z'));
}

/* Lower-case ASCII, fold white space runs to one space; owned result. */
static char *
router_fold(const char *s)
{
	char	*out, *o;
	int	 space = 0;

	o = out = xmalloc(strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = 1;
			continue;
		}
		if (space && o != out)
			*o++ = ' ';
		space = 0;
		if (*s >= 'A' && *s <= 'Z')
			*o++ = *s - 'A' + 'a';
		else
			*o++ = *s;
	}
	*o = '\0';
	return (out);
}

/* Where pat (length len) occurs in s as a whole word, or NULL. */
static const char *
router_find(const char *s, const char *pat, size_t len, int word)
{
	const char	*start = s, *p;
	char		 needle[128];

	if (len >= sizeof needle)
		return (NULL);
	memcpy(needle, pat, len);
	needle[len] = '\0';
	for (p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle)) {
		if (!word)
			return (p);
		if ((p == start || !router_is_word((unsigned char)p[-1])) &&
		    !router_is_word((unsigned char)p[len]))
			return (p);
	}
	return (NULL);
}

static int
router_pattern_match(const char *folded, const struct router_pattern *rp)
{
	const char	*star, *p;

	star = strchr(rp->text, '*');
	if (star == NULL)
		return (router_find(folded, rp->text, strlen(rp->text),
		    rp->word) != NULL);
	p = router_find(folded, rp->text, star - rp->text, rp->word);
	if (p == NULL)
		return (0);
	p += star - rp->text;
	return (router_find(p, star + 1, strlen(star + 1), rp->word) != NULL);
}

static int
router_text_is(const char *folded, enum router_fail_kind kind)
{
	size_t	i;

	for (i = 0; i < nitems(router_pattern_table); i++) {
		if (router_pattern_table[i].kind == kind &&
		    router_pattern_match(folded, &router_pattern_table[i]))
			return (1);
	}
	return (0);
}

/*
 * Classify one failed attempt from its HTTP status (0: none, a network
 * error) and error text (may be NULL). The order is the Node product's
 * resolveSiteRuntimeFailurePenalty: usage limit, transient, other 429,
 * 401/403, protocol, model, validation, other 4xx, anything else.
 */
enum router_fail_kind
router_classify(int status, const char *text)
{
	char			*f;
	enum router_fail_kind	 k;

	f = router_fold(text != NULL ? text : "");
	if (status == 429 && router_text_is(f, ROUTER_FAIL_USAGE_LIMIT))
		k = ROUTER_FAIL_USAGE_LIMIT;
	else if (status >= 500 || router_text_is(f, ROUTER_FAIL_TRANSIENT))
		k = ROUTER_FAIL_TRANSIENT;
	else if (status == 429)
		k = ROUTER_FAIL_RATE_LIMIT;
	else if (status == 401 || status == 403)
		k = ROUTER_FAIL_AUTH;
	else if (router_text_is(f, ROUTER_FAIL_PROTOCOL))
		k = ROUTER_FAIL_PROTOCOL;
	else if (router_text_is(f, ROUTER_FAIL_MODEL))
		k = ROUTER_FAIL_MODEL;
	else if (router_text_is(f, ROUTER_FAIL_VALIDATION))
		k = ROUTER_FAIL_VALIDATION;
	else if (status >= 400 && status < 500)
		k = ROUTER_FAIL_CLIENT;
	else
		k = ROUTER_FAIL_OTHER;
	free(f);
	return (k);
}

double
router_fail_penalty(enum router_fail_kind k)
{
	if ((unsigned)k >= ROUTER_FAIL_COUNT)
		k = ROUTER_FAIL_OTHER;
	return (router_fail_table[k].penalty);
}

int
router_fail_transient(enum router_fail_kind k)
{
	if ((unsigned)k >= ROUTER_FAIL_COUNT)
		return (0);
	return (router_fail_table[k].transient);
}

/* Runtime health. */

/* Bring penalty and recent counts forward to now (half-life decay). */
void
router_health_decay(struct router_health *h, long long now)
{
	double	dt;

	if (h->updated_at != 0 && now > h->updated_at) {
		dt = (double)(now - h->updated_at);
		h->penalty *= pow(0.5, dt / ROUTER_PENALTY_HALF);
		h->recent_ok *= pow(0.5, dt / ROUTER_RECENT_HALF);
		h->recent_fail *= pow(0.5, dt / ROUTER_RECENT_HALF);
	}
	if (now > h->updated_at)
		h->updated_at = now;
}

/*
 * A failure: decay, add the kind's penalty, and count transient failures.
 * Three transient failures each within 5 min of the previous one trip the
 * breaker one level (1 min, 5 min, 30 min; level 3 stays 30 min) and start
 * a new streak; any other failure ends the streak.
 */
void
router_health_fail(struct router_health *h, enum router_fail_kind k,
    long long now)
{
	router_health_decay(h, now);
	h->penalty += router_fail_penalty(k);
	h->recent_fail += 1;
	if (!router_fail_transient(k)) {
		h->streak = 0;
		h->streak_at = 0;
		return;
	}
	if (h->streak_at != 0 && now - h->streak_at <= ROUTER_STREAK_WINDOW)
		h->streak++;
	else
		h->streak = 1;
	h->streak_at = now;
	if (h->streak >= ROUTER_STREAK_TRIP) {
		if (h->breaker_level < (int)nitems(router_breaker_levels) - 1)
			h->breaker_level++;
		h->breaker_until = now +
		    router_breaker_levels[h->breaker_level];
		h->streak = 0;
	}
}

/* A success: shrink the penalty, close the breaker, update latency EMA. */
void
router_health_ok(struct router_health *h, long long latency, long long now)
{
	router_health_decay(h, now);
	h->penalty = h->penalty * 0.2 - 0.3;
	if (h->penalty < 0)
		h->penalty = 0;
	h->recent_ok += 1;
	h->streak = 0;
	h->streak_at = 0;
	h->breaker_level = 0;
	h->breaker_until = 0;
	if (latency < 0)
		latency = 0;
	if (!h->has_latency)
		h->latency_ema = (double)latency;
	else
		h->latency_ema = h->latency_ema * (1 - ROUTER_LAT_ALPHA) +
		    (double)latency * ROUTER_LAT_ALPHA;
	h->has_latency = 1;
}

enum router_breaker
router_health_breaker(const struct router_health *h, long long now)
{
	if (h->breaker_until > now)
		return (ROUTER_BREAKER_OPEN);
	if (h->breaker_level > 0)
		return (ROUTER_BREAKER_HALF_OPEN);
	return (ROUTER_BREAKER_CLOSED);
}

/*
 * 0.08 while the breaker is open; else 1/(1 + decayed penalty) times a
 * latency factor losing up to 35 % between 2.5 s and 32.5 s of EMA,
 * clamped to [0.08, 1].
 */
double
router_health_multiplier(const struct router_health *h, long long now)
{
	struct router_health	d = *h;
	double			ratio = 0;

	if (router_health_breaker(h, now) == ROUTER_BREAKER_OPEN)
		return (ROUTER_HEALTH_MIN);
	router_health_decay(&d, now);
	if (d.has_latency)
		ratio = router_clamp((d.latency_ema - ROUTER_LAT_BASE) /
		    ROUTER_LAT_WINDOW, 0, 1);
	return (router_clamp(1 / (1 + d.penalty) *
	    (1 - ROUTER_LAT_MAX_PENALTY * ratio), ROUTER_HEALTH_MIN, 1));
}

/* Session-scoped channels only (limit > 0); 1 otherwise. */
double
router_session_load(int limit, int active, int waiting)
{
	double	l;

	if (limit <= 0)
		return (1);
	l = 1 - 0.28 * fmin((double)active / limit, 1.5) -
	    0.32 * fmin((double)waiting / limit, 3);
	if (active >= limit)
		l -= 0.12;
	return (router_clamp(l, 0.18, 1));
}

/* Cooldowns. */

static long long
router_cap(long long cap)
{
	if (cap <= 0 || cap > ROUTER_COOLDOWN_MAX)
		return (ROUTER_COOLDOWN_MAX);
	return (cap);
}

/* 15 s x Fib(fail_count) (1, 1, 2, 3, 5, ...), at most cap. */
long long
router_fib_cooldown(int fail_count, long long cap)
{
	long long	a = 1, b = 1, t;
	int		i;

	cap = router_cap(cap);
	for (i = 3; i <= fail_count; i++) {
		t = a + b;
		a = b;
		b = t;
		if (b * ROUTER_FIB_BASE >= cap)
			return (cap);
	}
	if (b * ROUTER_FIB_BASE >= cap)
		return (cap);
	return (b * ROUTER_FIB_BASE);
}

/* Round robin cooldown of a level: 0, 10 min, 1 h, 24 h. */
long long
router_rr_cooldown(int level)
{
	if (level < 0)
		level = 0;
	if (level >= (int)nitems(router_rr_levels))
		level = nitems(router_rr_levels) - 1;
	return (router_rr_levels[level]);
}

/*
 * A failed attempt on a channel. weighted and stable_first: the lifetime
 * fail count grows and the channel cools 15 s x Fib(count), capped.
 * round_robin: nothing cools until 3 failures in a row, then the level
 * goes up (10 min, 1 h, 24 h) and the streak starts over.
 */
void
router_chan_fail(struct router_chan_state *st, enum router_strategy s,
    const struct router_settings *set, long long now)
{
	st->fail_count++;
	st->consecutive++;
	st->last_fail_at = now;
	if (s != ROUTER_ROUND_ROBIN) {
		st->cooldown_until = now +
		    router_fib_cooldown(st->fail_count, set->cooldown_cap);
		return;
	}
	if (st->consecutive < ROUTER_RR_THRESHOLD)
		return;
	if (st->level < (int)nitems(router_rr_levels) - 1)
		st->level++;
	st->cooldown_until = now + router_rr_cooldown(st->level);
	st->consecutive = 0;
}

/* A success: cooldown state cleared; the lifetime fail count stays. */
void
router_chan_ok(struct router_chan_state *st)
{
	st->consecutive = 0;
	st->level = 0;
	st->cooldown_until = 0;
	st->last_fail_at = 0;
}

/* Failed within its own Fibonacci window. */
int
router_recently_failed(const struct router_chan_state *st,
    const struct router_settings *set, long long now)
{
	if (st->fail_count <= 0 || st->last_fail_at == 0)
		return (0);
	return (now - st->last_fail_at <
	    router_fib_cooldown(st->fail_count, set->cooldown_cap));
}

/* Body fields that say when a limit resets: seconds from now, or a time. */
static const struct {
	const char	*key;
	int		 absolute;	/* epoch seconds or ISO time */
} router_reset_keys[] = {
	{ "resets_in_seconds", 0 }, { "reset_after_seconds", 0 },
	{ "retry_after", 0 }, { "retry_after_seconds", 0 },
	{ "resets_at", 1 }, { "reset_at", 1 }, { "reset_time", 1 },
};

/* Seconds since the epoch of an ISO 8601 UTC time, 0 when it is none. */
static long long
router_iso_time(const char *s)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof tm);
	if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return (0);
	return ((long long)timegm(&tm));
}

/* A reset field in o or, one level down, in o.error. */
static long long
router_reset_field(const json_t *o, long long now_sec)
{
	const json_t	*v;
	size_t		 i;
	long long	 t;

	for (i = 0; i < nitems(router_reset_keys); i++) {
		v = json_object_get(o, router_reset_keys[i].key);
		if (json_is_number(v) && json_number_value(v) > 0) {
			t = (long long)json_number_value(v);
			if (!router_reset_keys[i].absolute)
				return (now_sec + t);
			/* Milliseconds, by their size. */
			return (t > 100000000000LL ? t / 1000 : t);
		}
		if (json_is_string(v) && router_reset_keys[i].absolute &&
		    (t = router_iso_time(json_string_value(v))) > 0)
			return (t);
	}
	return (0);
}

/*
 * When a provider says its limit resets, in ms since the epoch (0: it
 * does not say): a Retry-After header (seconds, or an HTTP date), else a
 * field of the error body (resets_in_seconds, reset_at, ...). A time in
 * the past or more than a week ahead is not believed.
 */
long long
router_reset_at(const char *retry_after, const char *body, long long now)
{
	struct tm	 tm;
	json_t		*j;
	long long	 t = 0, now_sec = now / 1000;
	char		*end;

	if (retry_after != NULL && *retry_after != '\0') {
		t = strtoll(retry_after, &end, 10);
		if (*end == '\0' && end != retry_after)
			t += now_sec;
		else {
			memset(&tm, 0, sizeof tm);
			t = strptime(retry_after, "%a, %d %b %Y %H:%M:%S",
			    &tm) != NULL ? (long long)timegm(&tm) : 0;
		}
	}
	if (t == 0 && body != NULL && (j = json_loads(body, 0, NULL)) != NULL) {
		if ((t = router_reset_field(j, now_sec)) == 0)
			t = router_reset_field(json_object_get(j, "error"),
			    now_sec);
		json_decref(j);
	}
	if (t <= now_sec || t > now_sec + 7 * 86400)
		return (0);
	return (t * 1000);
}

/*
 * A usage-limit 429 on candidate failed: every candidate sharing its
 * credential_id (itself included) cools until reset_at, or for 5 min when
 * reset_at is not in the future. Fills out (room for n) and returns the
 * count; the caller applies it to each channel with cooldown_until = until
 * and fail_count = 0. Pass every channel that may share the credential,
 * not only one route's.
 */
size_t
router_usage_limit(const struct router_candidate *c, size_t n, size_t failed,
    long long reset_at, long long now, struct router_cool *out)
{
	long long	until;
	size_t		i, k = 0;

	if (failed >= n)
		return (0);
	until = reset_at > now ? reset_at : now + ROUTER_LIMIT_COOL;
	for (i = 0; i < n; i++) {
		if (i != failed &&
		    c[i].credential_id != c[failed].credential_id)
			continue;
		out[k].channel_id = c[i].channel_id;
		out[k].until = until;
		k++;
	}
	return (k);
}

/* Selection. */

static void
router_cost(const struct router_candidate *c, const struct router_settings *s,
    struct router_factors *f)
{
	if (c->success_count > 0 && c->total_cost > 0) {
		f->cost_tier = ROUTER_COST_OBSERVED;
		f->unit_cost = c->total_cost / c->success_count;
	} else if (c->unit_cost > 0) {
		f->cost_tier = ROUTER_COST_CONFIGURED;
		f->unit_cost = c->unit_cost;
	} else if (c->catalog_cost > 0) {
		f->cost_tier = ROUTER_COST_CATALOG;
		f->unit_cost = c->catalog_cost;
	} else {
		f->cost_tier = ROUTER_COST_FALLBACK;
		f->unit_cost = s->fallback_unit_cost > 0 ?
		    s->fallback_unit_cost : 1;
	}
	if (f->unit_cost < ROUTER_MIN_UNIT_COST)
		f->unit_cost = ROUTER_MIN_UNIT_COST;
	f->cost_penalty = 1;
	if (f->cost_tier == ROUTER_COST_FALLBACK)
		f->cost_penalty = 1 / fmax(1, f->unit_cost);
}

/* The first reason that makes a candidate ineligible, or ROUTER_R_POOL. */
static enum router_reason
router_eligible(const struct router_candidate *c, long long now)
{
	if (c->model_mismatch)
		return (ROUTER_R_MODEL);
	if (!c->enabled)
		return (ROUTER_R_DISABLED);
	if (!c->account_usable)
		return (ROUTER_R_ACCOUNT);
	if (!c->site_usable)
		return (ROUTER_R_SITE);
	if (c->key_excluded)
		return (ROUTER_R_KEY);
	if (c->tried)
		return (ROUTER_R_TRIED);
	if (c->no_credential)
		return (ROUTER_R_CREDENTIAL);
	if (c->st.cooldown_until > now)
		return (ROUTER_R_COOLING);
	return (ROUTER_R_POOL);
}

/* Factors that depend on the candidate alone. */
static void
router_own_factors(const struct router_candidate *c,
    const struct router_settings *s, long long now, struct router_factors *f)
{
	enum router_breaker	bs, bm;

	router_cost(c, s, f);
	f->site_weight = c->site_weight;
	f->key_mult = c->key_mult;
	f->health_site = router_health_multiplier(&c->site_health, now);
	f->health_model = router_health_multiplier(&c->model_health, now);
	f->health = router_clamp(f->health_site * f->health_model,
	    ROUTER_HEALTH_MIN * ROUTER_HEALTH_MIN, 1);
	bs = router_health_breaker(&c->site_health, now);
	bm = router_health_breaker(&c->model_health, now);
	if (bs == ROUTER_BREAKER_OPEN || bm == ROUTER_BREAKER_OPEN)
		f->breaker = ROUTER_BREAKER_OPEN;
	else if (bs == ROUTER_BREAKER_HALF_OPEN ||
	    bm == ROUTER_BREAKER_HALF_OPEN)
		f->breaker = ROUTER_BREAKER_HALF_OPEN;
	else
		f->breaker = ROUTER_BREAKER_CLOSED;
	f->session_load = router_session_load(c->sess_limit, c->sess_active,
	    c->sess_waiting);
	f->recently_failed = router_recently_failed(&c->st, s, now);
	if (c->st.cooldown_until > now)
		f->cooldown_left = c->st.cooldown_until - now;
	f->history_rate = -1;
}

/*
 * Drop pool members (idx, *np) for which avoid is true, unless that
 * would drop them all; those dropped get reason r.
 */
static void
router_avoid(struct router_plan *p, size_t *idx, size_t *np, int breaker,
    enum router_reason r)
{
	size_t	i, k = 0, keep = 0;
	int	bad;

	for (i = 0; i < *np; i++) {
		if (breaker)
			bad = p->results[idx[i]].f.breaker ==
			    ROUTER_BREAKER_OPEN;
		else
			bad = p->results[idx[i]].f.recently_failed;
		if (!bad)
			keep++;
	}
	if (keep == 0 || keep == *np)
		return;
	for (i = 0; i < *np; i++) {
		if (breaker)
			bad = p->results[idx[i]].f.breaker ==
			    ROUTER_BREAKER_OPEN;
		else
			bad = p->results[idx[i]].f.recently_failed;
		if (bad)
			p->results[idx[i]].reason = r;
		else
			idx[k++] = idx[i];
	}
	*np = k;
}

/* Channels of each pool member's site in the pool, and historical health. */
static void
router_site_factors(struct router_plan *p, const struct router_candidate *c,
    const size_t *idx, size_t np)
{
	struct router_factors	*f;
	long long		 ok, fail, lat, latn, calls;
	double			 sample, rate, sf, lf, avg;
	size_t			 i, j;
	int			 nsite;

	for (i = 0; i < np; i++) {
		nsite = 0;
		ok = fail = lat = latn = 0;
		for (j = 0; j < np; j++) {
			if (c[idx[j]].site_id != c[idx[i]].site_id)
				continue;
			nsite++;
			if (c[idx[j]].success_count > 0) {
				ok += c[idx[j]].success_count;
				lat += c[idx[j]].total_latency;
				latn += c[idx[j]].success_count;
			}
			if (c[idx[j]].st.fail_count > 0)
				fail += c[idx[j]].st.fail_count;
		}
		f = &p->results[idx[i]].f;
		f->site_channels = nsite;
		calls = ok + fail;
		f->history_calls = calls;
		f->history = 1;
		f->history_rate = -1;
		if (calls <= 0)
			continue;
		sample = router_clamp(calls / ROUTER_HIST_SAMPLE, 0, 1);
		rate = (double)ok / calls;
		sf = 1 - (1 - rate) * 0.55 * sample;
		lf = 1;
		if (latn > 0) {
			avg = floor((double)lat / latn + 0.5);
			lf = 1 - ROUTER_HIST_LAT_PENALTY * router_clamp(
			    (avg - ROUTER_HIST_LAT_BASE) /
			    ROUTER_HIST_LAT_WINDOW, 0, 1) * sample;
		}
		f->history_rate = rate;
		f->history = router_clamp(sf * lf, ROUTER_HIST_MIN, 1);
	}
}

/* The weighted formula over one pool; returns the sum of contributions. */
static double
router_weigh(struct router_plan *p, const struct router_candidate *c,
    const struct router_settings *s, const size_t *idx, size_t np)
{
	struct router_factors	*f;
	double			 maxv = 0.001, minv = 0, range, w, total = 0;
	long long		 calls;
	size_t			 i;

	for (i = 0; i < np; i++) {
		f = &p->results[idx[i]].f;
		calls = c[idx[i]].success_count + c[idx[i]].st.fail_count;
		if (calls < 1)
			calls = 1;
		f->value = s->cost_weight / f->unit_cost +
		    s->balance_weight * c[idx[i]].balance +
		    s->usage_weight / (double)calls;
		maxv = fmax(maxv, f->value);
		minv = fmin(minv, f->value);
	}
	range = maxv - minv;
	if (range == 0)
		range = 1;
	router_site_factors(p, c, idx, np);
	for (i = 0; i < np; i++) {
		f = &p->results[idx[i]].f;
		f->norm = (f->value - minv) / range;
		f->base = (c[idx[i]].weight + 10) *
		    (s->base_factor + f->norm * s->value_factor);
		w = f->base / f->site_channels * f->site_weight * f->key_mult *
		    f->health * f->history * f->session_load * f->cost_penalty;
		if (!(w > 0))
			w = 0;
		f->contribution = w;
		total += w;
	}
	return (total);
}

static int
router_cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return ((x > y) - (x < y));
}

static void
router_plan_weighted(struct router_plan *p, const struct router_candidate *c,
    const struct router_settings *s, __unused const struct router_request *rq)
{
	size_t	*idx, np, i, nl = 0, l;
	int	*layers, done = 0;
	double	 total;

	idx = xcalloc(p->n, sizeof *idx);
	layers = xcalloc(p->n, sizeof *layers);
	for (i = 0; i < p->n; i++) {
		if (p->results[i].eligible)
			layers[nl++] = c[i].priority;
	}
	qsort(layers, nl, sizeof *layers, router_cmp_int);
	for (l = 0; l < nl; l++) {
		if (l > 0 && layers[l] == layers[l - 1])
			continue;
		np = 0;
		for (i = 0; i < p->n; i++) {
			if (!p->results[i].eligible ||
			    c[i].priority != layers[l])
				continue;
			if (done) {
				p->results[i].reason = ROUTER_R_LAYER;
				continue;
			}
			idx[np++] = i;
		}
		if (done)
			continue;
		router_avoid(p, idx, &np, 1, ROUTER_R_BREAKER);
		router_avoid(p, idx, &np, 0, ROUTER_R_RECENT_FAIL);
		total = router_weigh(p, c, s, idx, np);
		for (i = 0; i < np; i++) {
			if (total > 0 &&
			    p->results[idx[i]].f.contribution > 0) {
				p->results[idx[i]].pooled = 1;
				p->results[idx[i]].probability = 100 *
				    p->results[idx[i]].f.contribution / total;
			} else
				p->results[idx[i]].reason = ROUTER_R_ZERO;
		}
		if (total > 0) {
			done = 1;
			p->has_layer = 1;
			p->layer = layers[l];
			p->total = total;
		}
	}
	free(layers);
	free(idx);
}

/*
 * Rotation order: (priority first when prio is set,) least recently
 * selected, then least recently used, then lowest id. 0 is "never" and
 * comes first.
 */
static int
router_before(const struct router_candidate *a,
    const struct router_candidate *b, int prio)
{
	if (prio && a->priority != b->priority)
		return (a->priority < b->priority);
	if (a->last_selected_at != b->last_selected_at)
		return (a->last_selected_at < b->last_selected_at);
	if (a->last_used_at != b->last_used_at)
		return (a->last_used_at < b->last_used_at);
	return (a->channel_id < b->channel_id);
}

/* Give the whole probability to one pool member, the rest wait a turn. */
static void
router_choose(struct router_plan *p, const size_t *idx, size_t np,
    size_t win)
{
	size_t	i;

	for (i = 0; i < np; i++) {
		if (idx[i] == win) {
			p->results[win].pooled = 1;
			p->results[win].probability = 100;
		} else
			p->results[idx[i]].reason = ROUTER_R_ROTATION;
	}
	p->chosen = (long)win;
	p->total = 1;
}

static void
router_plan_rr(struct router_plan *p, const struct router_candidate *c,
    __unused const struct router_settings *s,
    __unused const struct router_request *rq)
{
	size_t	*idx, np = 0, i, win;

	idx = xcalloc(p->n, sizeof *idx);
	for (i = 0; i < p->n; i++) {
		if (p->results[i].eligible)
			idx[np++] = i;
	}
	router_avoid(p, idx, &np, 1, ROUTER_R_BREAKER);
	router_site_factors(p, c, idx, np);
	if (np > 0) {
		win = idx[0];
		for (i = 1; i < np; i++) {
			if (router_before(&c[idx[i]], &c[win], 0))
				win = idx[i];
		}
		router_choose(p, idx, np, win);
	}
	free(idx);
}

/*
 * stable_first, kept simple where the reference is vague:
 *   - Priority layers are not used to split the pool; priority only orders
 *     the final rotation. Breaker-open and recently failed candidates are
 *     avoided as in weighted.
 *   - Each site's rate = recent*conf + historical*(1 - conf), where
 *     recent = (ok + 1)/(ok + fail + 2) from the site runtime health's
 *     decayed counts, historical = (succ + 1)/(calls + 2) over the site's
 *     channels' lifetime counters, conf = min(recent samples/12, 1). The
 *     Laplace prior makes no data 0.5.
 *   - Trusted: conf >= 0.5 or >= 8 historical calls. Primary pool: trusted
 *     sites within 92 % of the best trusted rate (every site when none is
 *     trusted). The rest is the observation pool: when since_observe has
 *     reached 24 and some observation site was last observed 30 min ago
 *     or more (or never), this pick is from those sites and
 *     plan->observation is set (the caller resets its counter and stamps
 *     site_observed_at); otherwise from the primary pool.
 *   - Contribution = rate^2 x runtime health x session load / channels of
 *     the site in the pool. Of those within 92 % of the best, the first in
 *     rotation order (priority, least recently selected, used, id) wins;
 *     the caller stamps last_selected_at, which turns the rotation (this
 *     replaces the Node rotation cache).
 */
static void
router_plan_stable(struct router_plan *p, const struct router_candidate *c,
    __unused const struct router_settings *s, const struct router_request *rq)
{
	struct router_health	 h;
	struct router_factors	*f;
	size_t			*idx, np = 0, i, j, k, win;
	double			*rate, recent, hist, conf, best = -1, max;
	int			*trusted, *primary, anytrust = 0, observe = 0;
	long long		 ok, calls;

	idx = xcalloc(p->n, sizeof *idx);
	rate = xcalloc(p->n, sizeof *rate);
	trusted = xcalloc(p->n, sizeof *trusted);
	primary = xcalloc(p->n, sizeof *primary);
	for (i = 0; i < p->n; i++) {
		if (p->results[i].eligible)
			idx[np++] = i;
	}
	router_avoid(p, idx, &np, 1, ROUTER_R_BREAKER);
	router_avoid(p, idx, &np, 0, ROUTER_R_RECENT_FAIL);
	router_site_factors(p, c, idx, np);
	for (i = 0; i < np; i++) {
		h = c[idx[i]].site_health;
		router_health_decay(&h, rq->now);
		recent = (h.recent_ok + 1) / (h.recent_ok + h.recent_fail + 2);
		conf = fmin((h.recent_ok + h.recent_fail) / ROUTER_STABLE_CONF,
		    1);
		ok = calls = 0;
		for (j = 0; j < np; j++) {
			if (c[idx[j]].site_id != c[idx[i]].site_id)
				continue;
			ok += c[idx[j]].success_count;
			calls += c[idx[j]].success_count +
			    c[idx[j]].st.fail_count;
		}
		hist = (ok + 1.0) / (calls + 2.0);
		rate[i] = recent * conf + hist * (1 - conf);
		trusted[i] = conf >= 0.5 || calls >= ROUTER_STABLE_TRUST;
		p->results[idx[i]].f.stable_rate = rate[i];
		if (trusted[i]) {
			anytrust = 1;
			best = fmax(best, rate[i]);
		}
	}
	for (i = 0; i < np; i++) {
		primary[i] = !anytrust ||
		    (trusted[i] && rate[i] >= ROUTER_STABLE_BAND * best);
		if (!primary[i] && rq->since_observe >= ROUTER_OBSERVE_EVERY &&
		    (c[idx[i]].site_observed_at == 0 ||
		    rq->now - c[idx[i]].site_observed_at >= ROUTER_OBSERVE_GAP))
			observe = 1;
	}
	/* Keep the pool of this pick; the others are the other pool. */
	for (i = k = 0; i < np; i++) {
		if (observe ? (!primary[i] && (c[idx[i]].site_observed_at ==
		    0 || rq->now - c[idx[i]].site_observed_at >=
		    ROUTER_OBSERVE_GAP)) : primary[i]) {
			rate[k] = rate[i];
			idx[k++] = idx[i];
		} else
			p->results[idx[i]].reason = ROUTER_R_OBSERVE;
	}
	np = k;
	p->observation = observe;
	router_site_factors(p, c, idx, np);
	max = 0;
	for (i = 0; i < np; i++) {
		f = &p->results[idx[i]].f;
		f->contribution = rate[i] * rate[i] * f->health *
		    f->session_load / f->site_channels;
		max = fmax(max, f->contribution);
	}
	win = p->n;
	for (i = 0; i < np; i++) {
		if (p->results[idx[i]].f.contribution <
		    ROUTER_STABLE_BAND * max)
			continue;
		if (win == p->n || router_before(&c[idx[i]], &c[win], 1))
			win = idx[i];
	}
	if (win != p->n)
		router_choose(p, idx, np, win);
	free(primary);
	free(trusted);
	free(rate);
	free(idx);
}

/* Human reason text. */

static void
router_addf(char *buf, size_t size, const char *fmt, ...)
{
	size_t	len = strlen(buf);
	va_list	ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static void
router_detail_cooling(char *t, size_t sz, __unused const struct router_plan *p,
    __unused const struct router_candidate *c, const struct router_result *r,
    __unused long long now)
{
	router_addf(t, sz, " (%lld s left)",
	    (r->f.cooldown_left + ROUTER_SEC - 1) / ROUTER_SEC);
}

static void
router_detail_breaker(char *t, size_t sz, __unused const struct router_plan *p,
    const struct router_candidate *c, __unused const struct router_result *r,
    __unused long long now)
{
	router_addf(t, sz, " (site level %d, model level %d)",
	    c->site_health.breaker_level, c->model_health.breaker_level);
}

static void
router_detail_recent(char *t, size_t sz, __unused const struct router_plan *p,
    const struct router_candidate *c, __unused const struct router_result *r,
    long long now)
{
	router_addf(t, sz, " (%lld s ago, fail count %d)",
	    (now - c->st.last_fail_at) / ROUTER_SEC, c->st.fail_count);
}

static void
router_detail_layer(char *t, size_t sz, const struct router_plan *p,
    const struct router_candidate *c, __unused const struct router_result *r,
    __unused long long now)
{
	router_addf(t, sz, " (priority %d, chosen layer %d)", c->priority,
	    p->layer);
}

/* Every factor that went into the candidate's probability. */
static void
router_detail_factors(char *t, size_t sz, const struct router_plan *p,
    const struct router_candidate *c, const struct router_result *r,
    __unused long long now)
{
	const struct router_factors	*f = &r->f;

	if (t[0] != '\0')
		router_addf(t, sz, "; ");
	router_addf(t, sz, "weight %d, cost %s %.6g", c->weight,
	    router_cost_tier_name(f->cost_tier), f->unit_cost);
	if (p->strategy == ROUTER_WEIGHTED)
		router_addf(t, sz, ", value %.4f (normalised %.4f), base %.4f",
		    f->value, f->norm, f->base);
	if (p->strategy == ROUTER_STABLE_FIRST)
		router_addf(t, sz, ", success rate %.4f", f->stable_rate);
	router_addf(t, sz, ", %d channel(s) on site, site weight %.4g x key "
	    "%.4g, runtime health %.4f (site %.4f, model %.4f, breaker %s)",
	    f->site_channels, f->site_weight, f->key_mult, f->health,
	    f->health_site, f->health_model, router_breaker_name(f->breaker));
	if (f->history_rate >= 0)
		router_addf(t, sz, ", history %.4f (%lld calls, %.1f%% ok)",
		    f->history, f->history_calls, 100 * f->history_rate);
	else
		router_addf(t, sz, ", history %.4f (no calls)", f->history);
	router_addf(t, sz, ", session load %.4f", f->session_load);
	if (f->cost_tier == ROUTER_COST_FALLBACK && f->cost_penalty < 1)
		router_addf(t, sz, ", fallback cost penalty %.4g",
		    f->cost_penalty);
	router_addf(t, sz, ", probability %.2f%%", r->probability);
}

static void
router_text(const struct router_plan *p, const struct router_candidate *c,
    struct router_result *r, long long now)
{
	const struct router_reason_entry	*e;

	e = &router_reason_table[r->reason];
	r->text[0] = '\0';
	if (e->text != NULL)
		router_addf(r->text, sizeof r->text, "%s", e->text);
	if (e->detail != NULL)
		e->detail(r->text, sizeof r->text, p, c, r, now);
}

/*
 * Evaluate candidates c[0..n) for one request. Every candidate gets a
 * result (eligible or not, why, its factors, its probability in percent);
 * the strategy fills the pool the pick draws from. Free with
 * router_plan_free.
 */
struct router_plan *
router_plan_new(const struct router_candidate *c, size_t n,
    const struct router_settings *s, const struct router_request *rq)
{
	struct router_plan	*p;
	enum router_strategy	 st = rq->strategy;
	size_t			 i;

	if ((unsigned)st >= ROUTER_STRATEGY_COUNT)
		st = ROUTER_WEIGHTED;
	p = xcalloc(1, sizeof *p);
	p->strategy = st;
	p->n = n;
	p->chosen = -1;
	p->now = rq->now;
	if (n == 0)
		return (p);
	p->results = xcalloc(n, sizeof *p->results);
	for (i = 0; i < n; i++) {
		p->results[i].reason = router_eligible(&c[i], rq->now);
		p->results[i].eligible = p->results[i].reason == ROUTER_R_POOL;
		router_own_factors(&c[i], s, rq->now, &p->results[i].f);
		p->results[i].f.history = 1;
	}
	router_strategy_table[st](p, c, s, rq);
	return (p);
}

/*
 * Each result's human reason, for route explain. Not done for requests:
 * formatting a dozen figures per candidate was a tenth of a request's
 * instructions, for text nobody reads there.
 */
void
router_plan_explain(struct router_plan *p, const struct router_candidate *c)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		router_text(p, &c[i], &p->results[i], p->now);
}

void
router_plan_free(struct router_plan *p)
{
	if (p == NULL)
		return;
	free(p->results);
	free(p);
}

/*
 * The candidate a uniform draw u in [0, 1) picks: the deterministic
 * winner, or the first pool member whose cumulative contribution exceeds
 * u x total. -1 when nothing can be picked.
 */
long
router_pick(const struct router_plan *p, double u)
{
	double	target, sum = 0;
	long	last = -1;
	size_t	i;

	if (p->chosen >= 0)
		return (p->chosen);
	if (!(p->total > 0))
		return (-1);
	u = router_clamp(u, 0, 1);
	target = u * p->total;
	for (i = 0; i < p->n; i++) {
		if (!p->results[i].pooled)
			continue;
		sum += p->results[i].f.contribution;
		last = (long)i;
		if (sum > target)
			return (last);
	}
	return (last);
}

/* Explanations. */

/* One route explain candidate, in the shape CLI.md gives. */
json_t *
router_candidate_to_json(const struct router_candidate *c,
    const struct router_result *r)
{
	const struct router_factors	*f = &r->f;
	json_t				*o, *fo;

	o = json_object();
	json_object_set_new(o, "channel_id", json_integer(c->channel_id));
	jx_set_str_or_null(o, "site", c->site_name);
	jx_set_str_or_null(o, "account", c->account_name);
	jx_set_str_or_null(o, "token", c->token_name);
	jx_set_str_or_null(o, "model", c->model);
	json_object_set_new(o, "priority", json_integer(c->priority));
	json_object_set_new(o, "weight", json_integer(c->weight));
	json_object_set_new(o, "eligible", json_boolean(r->eligible));
	json_object_set_new(o, "probability", json_real(r->probability));
	json_object_set_new(o, "reason", json_string(r->text));
	json_object_set_new(o, "reason_code",
	    json_string(router_reason_code(r->reason)));

	fo = json_object();
	json_object_set_new(fo, "cost_tier",
	    json_string(router_cost_tier_name(f->cost_tier)));
	json_object_set_new(fo, "unit_cost", json_real(f->unit_cost));
	json_object_set_new(fo, "balance", json_real(c->balance));
	json_object_set_new(fo, "calls",
	    json_integer(c->success_count + c->st.fail_count));
	json_object_set_new(fo, "value_score", json_real(f->value));
	json_object_set_new(fo, "normalized", json_real(f->norm));
	json_object_set_new(fo, "base", json_real(f->base));
	json_object_set_new(fo, "site_channels",
	    json_integer(f->site_channels));
	json_object_set_new(fo, "site_weight", json_real(f->site_weight));
	json_object_set_new(fo, "key_multiplier", json_real(f->key_mult));
	json_object_set_new(fo, "runtime_health", json_real(f->health));
	json_object_set_new(fo, "runtime_health_site",
	    json_real(f->health_site));
	json_object_set_new(fo, "runtime_health_model",
	    json_real(f->health_model));
	json_object_set_new(fo, "breaker",
	    json_string(router_breaker_name(f->breaker)));
	json_object_set_new(fo, "historical_health", json_real(f->history));
	json_object_set_new(fo, "history_calls",
	    json_integer(f->history_calls));
	json_object_set_new(fo, "history_success_rate",
	    f->history_rate >= 0 ? json_real(f->history_rate) : json_null());
	json_object_set_new(fo, "session_load", json_real(f->session_load));
	json_object_set_new(fo, "cost_penalty", json_real(f->cost_penalty));
	json_object_set_new(fo, "stable_rate", json_real(f->stable_rate));
	json_object_set_new(fo, "recently_failed",
	    json_boolean(f->recently_failed));
	json_object_set_new(fo, "cooldown_remaining_sec",
	    json_integer((f->cooldown_left + ROUTER_SEC - 1) / ROUTER_SEC));
	json_object_set_new(fo, "contribution", json_real(f->contribution));
	json_object_set_new(o, "factors", fo);
	return (o);
}

/*
 * {"strategy", "layer", "observation", "candidates": [...]}; the reasons
 * are router_plan_explain()'s.
 */
json_t *
router_plan_to_json(const struct router_plan *p,
    const struct router_candidate *c)
{
	json_t	*o, *a;
	size_t	 i;

	o = json_object();
	json_object_set_new(o, "strategy",
	    json_string(router_strategy_name(p->strategy)));
	json_object_set_new(o, "layer",
	    p->has_layer ? json_integer(p->layer) : json_null());
	json_object_set_new(o, "observation", json_boolean(p->observation));
	a = json_array();
	for (i = 0; i < p->n; i++)
		json_array_append_new(a, router_candidate_to_json(&c[i],
		    &p->results[i]));
	json_object_set_new(o, "candidates", a);
	return (o);
}
