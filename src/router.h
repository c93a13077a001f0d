/*
 * Route selection: eligibility, cooldowns, runtime and historical health,
 * the weighted value formula, round robin and stable first, and the
 * explanation of a decision. Pure: every input is a plain struct filled by
 * the caller and every time is passed in. See router.c for the rules.
 *
 * Times are MILLISECONDS since the epoch (the database keeps seconds:
 * multiply by 1000 on the way in, divide on the way out); 0 means "never"
 * or "none" everywhere.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

#include <jansson.h>

#define ROUTER_SEC		1000LL
#define ROUTER_MIN		(60 * ROUTER_SEC)
#define ROUTER_HOUR		(60 * ROUTER_MIN)
#define ROUTER_DAY		(24 * ROUTER_HOUR)

enum router_strategy {
	ROUTER_WEIGHTED,
	ROUTER_ROUND_ROBIN,
	ROUTER_STABLE_FIRST,
	ROUTER_STRATEGY_COUNT
};

/* Where a candidate's cost signal came from, best first. */
enum router_cost_tier {
	ROUTER_COST_OBSERVED,		/* total_cost / success_count */
	ROUTER_COST_CONFIGURED,		/* the account's unit cost */
	ROUTER_COST_CATALOG,		/* site price of a 500k+500k call */
	ROUTER_COST_FALLBACK,		/* settings fallback_unit_cost */
	ROUTER_COST_TIER_COUNT
};

/*
 * Why a candidate is where it is. The first block makes a candidate
 * ineligible, in the order they are checked; the second keeps an eligible
 * one out of the pool the pick draws from; ROUTER_R_POOL is in it.
 */
enum router_reason {
	ROUTER_R_POOL,
	ROUTER_R_MODEL,			/* source model does not serve it */
	ROUTER_R_DISABLED,		/* channel disabled */
	ROUTER_R_ACCOUNT,		/* account not usable */
	ROUTER_R_SITE,			/* site disabled */
	ROUTER_R_KEY,			/* excluded by the downstream key */
	ROUTER_R_TRIED,			/* already tried in this request */
	ROUTER_R_CREDENTIAL,		/* no usable credential */
	ROUTER_R_COOLING,		/* cooldown_until > now */
	ROUTER_R_BREAKER,		/* site/model breaker open: avoided */
	ROUTER_R_RECENT_FAIL,		/* failed recently, avoided */
	ROUTER_R_LAYER,			/* a lower priority layer */
	ROUTER_R_ZERO,			/* contribution 0 */
	ROUTER_R_OBSERVE,		/* stable_first: other pool this time */
	ROUTER_R_ROTATION,		/* deterministic: another one's turn */
	ROUTER_R_COUNT
};

/* Failure kinds, each with its runtime health penalty (router.c). */
enum router_fail_kind {
	ROUTER_FAIL_USAGE_LIMIT,	/* 429 with usage/quota/limit text */
	ROUTER_FAIL_TRANSIENT,		/* >= 500 or transient text */
	ROUTER_FAIL_RATE_LIMIT,		/* other 429 */
	ROUTER_FAIL_AUTH,		/* 401, 403 */
	ROUTER_FAIL_PROTOCOL,		/* protocol or endpoint text */
	ROUTER_FAIL_MODEL,		/* model not supported text */
	ROUTER_FAIL_VALIDATION,		/* request validation text */
	ROUTER_FAIL_CLIENT,		/* other 4xx */
	ROUTER_FAIL_OTHER,		/* no status (network), the rest */
	ROUTER_FAIL_COUNT
};

enum router_breaker {
	ROUTER_BREAKER_CLOSED,		/* level 0 */
	ROUTER_BREAKER_OPEN,		/* now < breaker_until: avoided */
	ROUTER_BREAKER_HALF_OPEN	/* level > 0, window over: on trial */
};

/*
 * Runtime health of one site, or of one model on one site. A zeroed
 * struct is a fresh, healthy state.
 */
struct router_health {
	double		 penalty;	/* as of updated_at; half-life 10 min */
	double		 recent_ok;	/* decayed counts, half-life 30 min */
	double		 recent_fail;
	long long	 updated_at;	/* when penalty and counts were set */
	double		 latency_ema;	/* ms, EMA alpha 0.3 */
	int		 has_latency;	/* latency_ema is set */
	int		 streak;	/* transient failures in a row */
	long long	 streak_at;	/* the last of them */
	int		 breaker_level;	/* 0-3 */
	long long	 breaker_until;	/* open while now < this */
};

/* A channel's failure counters and cooldown, as the channels row has. */
struct router_chan_state {
	int		 fail_count;	/* lifetime, drives Fibonacci */
	int		 consecutive;	/* round robin: failures in a row */
	int		 level;		/* round robin cooldown level 0-3 */
	long long	 cooldown_until;
	long long	 last_fail_at;
};

/* Global settings; router_settings_default gives the defaults. */
struct router_settings {
	double		 cost_weight;		/* 0.4 */
	double		 balance_weight;	/* 0.3 */
	double		 usage_weight;		/* 0.3 */
	double		 base_factor;		/* 0.5 */
	double		 value_factor;		/* 0.5 */
	double		 fallback_unit_cost;	/* 1 */
	long long	 cooldown_cap;		/* ms, 30 days (also the max) */
};

/* One selection: the route's strategy and the moment. */
struct router_request {
	enum router_strategy	 strategy;
	long long		 now;
	long long		 since_observe;	/* stable_first: primary picks
						   since the last observation */
};

/*
 * One candidate channel. router_candidate_init sets the defaults (enabled,
 * usable, weight 10, site weight and key multiplier 1); the caller fills
 * the rest. Names are borrowed, for explanations only.
 */
struct router_candidate {
	long long	 channel_id;
	long long	 site_id;
	long long	 account_id;
	long long	 credential_id;	/* equal = shares the credential */
	const char	*site_name;
	const char	*account_name;
	const char	*token_name;	/* NULL: the account's own key */
	const char	*model;		/* the upstream model, or NULL */

	int		 priority;	/* lower is preferred */
	int		 weight;	/* default 10 */

	int		 enabled;	/* channel enabled */
	int		 account_usable;
	int		 site_usable;
	int		 model_mismatch; /* source model does not serve */
	int		 key_excluded;
	int		 tried;
	int		 no_credential;

	struct router_chan_state st;	/* cooldown and failure counters */
	long long	 last_selected_at;
	long long	 last_used_at;
	long long	 success_count;
	long long	 total_latency;	/* ms over successes */
	double		 total_cost;	/* USD over successes */

	double		 unit_cost;	/* account's configured; 0: none */
	double		 catalog_cost;	/* usage_reference_cost; 0: none */
	double		 balance;	/* account balance, USD */
	double		 site_weight;	/* site global weight, default 1 */
	double		 key_mult;	/* key's site multiplier, default 1 */

	struct router_health site_health;
	struct router_health model_health;

	int		 sess_limit;	/* 0: not session-scoped */
	int		 sess_active;
	int		 sess_waiting;

	long long	 site_observed_at;	/* stable_first */
};

/* Every factor of one candidate; 0 where it was not computed. */
struct router_factors {
	enum router_cost_tier	 cost_tier;
	double			 unit_cost;
	double			 value;		/* v */
	double			 norm;		/* n, min-max normalised v */
	double			 base;		/* b */
	int			 site_channels;	/* pool members on the site */
	double			 site_weight;
	double			 key_mult;
	double			 health_site;
	double			 health_model;
	double			 health;	/* runtime, combined */
	enum router_breaker	 breaker;	/* worse of site and model */
	double			 history;	/* historical, of the site */
	long long		 history_calls;
	double			 history_rate;	/* -1: no calls */
	double			 session_load;
	double			 cost_penalty;	/* 1/max(1,c) for fallback */
	double			 stable_rate;	/* stable_first site rate */
	int			 recently_failed;
	long long		 cooldown_left;	/* ms */
	double			 contribution;	/* w */
};

struct router_result {
	int			 eligible;
	enum router_reason	 reason;
	int			 pooled;	/* the pick may choose it */
	double			 probability;	/* percent */
	struct router_factors	 f;
	char			 text[384];	/* human reason (explain) */
};

struct router_plan {
	enum router_strategy	 strategy;
	struct router_result	*results;	/* one per candidate */
	size_t			 n;
	int			 has_layer;
	int			 layer;		/* chosen layer's priority */
	int			 observation;	/* stable_first: observing */
	long			 chosen;	/* deterministic pick, or -1 */
	double			 total;		/* sum of contributions */
	long long		 now;		/* the request's time */
};

/* Usage-limit cooling of one channel. */
struct router_cool {
	long long	 channel_id;
	long long	 until;
};

const char	*router_strategy_name(enum router_strategy);
int		 router_strategy_find(const char *, enum router_strategy *);
const char	*router_reason_code(enum router_reason);
const char	*router_cost_tier_name(enum router_cost_tier);
const char	*router_fail_kind_name(enum router_fail_kind);
const char	*router_breaker_name(enum router_breaker);

void		 router_settings_default(struct router_settings *);
void		 router_candidate_init(struct router_candidate *);

struct router_plan *router_plan_new(const struct router_candidate *, size_t,
		     const struct router_settings *,
		     const struct router_request *);
void		 router_plan_explain(struct router_plan *,
		     const struct router_candidate *);
void		 router_plan_free(struct router_plan *);
long		 router_pick(const struct router_plan *, double);

enum router_fail_kind router_classify(int, const char *);
double		 router_fail_penalty(enum router_fail_kind);
int		 router_fail_transient(enum router_fail_kind);

void		 router_health_decay(struct router_health *, long long);
void		 router_health_fail(struct router_health *,
		     enum router_fail_kind, long long);
void		 router_health_ok(struct router_health *, long long,
		     long long);
double		 router_health_multiplier(const struct router_health *,
		     long long);
enum router_breaker router_health_breaker(const struct router_health *,
		     long long);
double		 router_session_load(int, int, int);

long long	 router_fib_cooldown(int, long long);
long long	 router_rr_cooldown(int);
void		 router_chan_fail(struct router_chan_state *,
		     enum router_strategy, const struct router_settings *,
		     long long);
void		 router_chan_ok(struct router_chan_state *);
int		 router_recently_failed(const struct router_chan_state *,
		     const struct router_settings *, long long);
long long	 router_reset_at(const char *, const char *, long long);
size_t		 router_usage_limit(const struct router_candidate *, size_t,
		     size_t, long long, long long, struct router_cool *);

json_t		*router_candidate_to_json(const struct router_candidate *,
		     const struct router_result *);
json_t		*router_plan_to_json(const struct router_plan *,
		     const struct router_candidate *);

#endif
