/*
 * The pure router: probabilities of crafted candidate sets against values
 * worked out by hand (each setup function shows its arithmetic), the
 * cooldown sequences, runtime health and the breaker over time, failure
 * classification, each strategy, usage-limit sibling cooling, the
 * explanation JSON, and a statistical check of the pick.
 *
 * Defaults throughout: cost 0.4, balance 0.3, usage 0.3, base 0.5, value
 * 0.5, fallback unit cost 1, weight 10. A fresh channel (no calls, no
 * price, no balance) therefore has c = 1 (fallback), v = 0.4/1 + 0 +
 * 0.3/1 = 0.7 and, when every candidate has the same v, n = 1 and
 * b = (10 + 10) * (0.5 + 1 * 0.5) = 20.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"
#include "router.h"

#include "unit.h"

#define RT_NOW	1700000000000LL
#define RT_MAX	6

/* Equal within tol; prints both when not. */
static int
rt_near(double got, double want, double tol)
{
	if (fabs(got - want) <= tol)
		return (1);
	printf("    wanted %.9f, got %.9f\n", want, got);
	return (0);
}

static void
rt_cand(struct router_candidate *c, long long id, long long site)
{
	router_candidate_init(c);
	c->channel_id = id;
	c->site_id = site;
	c->account_id = id;
	c->credential_id = id;
}

/*
 * Three channels on three sites, all fresh: b = 20 each, w = 20 each,
 * p = 20/60 = 33.333...% each.
 */
static void
rt_setup_equal(struct router_candidate *c, __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	rt_cand(&c[1], 2, 2);
	rt_cand(&c[2], 3, 3);
}

/*
 * Catalog prices (the price of a 500k + 500k call): A USD 2, B USD 8.
 *   v_A = 0.4/2 + 0.3/1 = 0.5     v_B = 0.4/8 + 0.3/1 = 0.35
 *   maxV = 0.5, minV = 0, range = 0.5: n_A = 1, n_B = 0.7
 *   b_A = 20 * (0.5 + 0.5) = 20   b_B = 20 * (0.5 + 0.35) = 17
 *   p_A = 20/37 = 54.054054%      p_B = 17/37 = 45.945946%
 */
static void
rt_setup_cheap(struct router_candidate *c, __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].catalog_cost = 2;
	rt_cand(&c[1], 2, 2);
	c[1].catalog_cost = 8;
}

/*
 * Site 1 has channels 1 and 2, site 2 has channel 3; all fresh, b = 20.
 *   w_1 = w_2 = 20/2 = 10, w_3 = 20/1 = 20: p = 25%, 25%, 50%.
 */
static void
rt_setup_per_site(struct router_candidate *c,
    __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	rt_cand(&c[1], 2, 1);
	rt_cand(&c[2], 3, 2);
}

/*
 * Site weight 2 on A, the key's multiplier 0.5 on B's site; b = 20.
 *   w_A = 20 * 2 = 40, w_B = 20 * 0.5 = 10: p = 80%, 20%.
 */
static void
rt_setup_site_key(struct router_candidate *c,
    __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].site_weight = 2;
	rt_cand(&c[1], 2, 2);
	c[1].key_mult = 0.5;
}

/*
 * Fallback unit cost set to 4. A has no price (fallback tier, c = 4), B
 * a configured unit cost of 4: same c, so v_A = v_B = 0.4/4 + 0.3 = 0.4,
 * n = 1, b = 20 for both. Only the fallback tier is divided by
 * max(1, c): w_A = 20/4 = 5, w_B = 20. p = 5/25 = 20%, 80%.
 */
static void
rt_setup_fallback(struct router_candidate *c, struct router_settings *s)
{
	s->fallback_unit_cost = 4;
	rt_cand(&c[0], 1, 1);
	rt_cand(&c[1], 2, 2);
	c[1].unit_cost = 4;
}

/*
 * Observed cost, balance, usage and history. A: 9 successes, 1 failure,
 * USD 0.9 spent (observed c = 0.1), balance 10, no latency recorded.
 * B: no calls, configured c = 0.5, balance 0.
 *   v_A = 0.4/0.1 + 0.3*10 + 0.3/10 = 4 + 3 + 0.03 = 7.03
 *   v_B = 0.4/0.5 + 0 + 0.3/1 = 1.1
 *   n_A = 1, n_B = 1.1/7.03
 *   b_A = 20, b_B = 20 * (0.5 + 0.5*1.1/7.03) = 10 + 11/7.03
 *   history A: 10 calls, sample 10/24, success 0.9,
 *     factor 1 - 0.1*0.55*10/24 = 1 - 0.55/24; B: no calls, 1
 *   w_A = 20 * (1 - 0.55/24), w_B = 10 + 11/7.03
 */
static void
rt_setup_observed(struct router_candidate *c,
    __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].success_count = 9;
	c[0].st.fail_count = 1;
	c[0].total_cost = 0.9;
	c[0].balance = 10;
	rt_cand(&c[1], 2, 2);
	c[1].unit_cost = 0.5;
}
#define RT_OBS_A	(20 * (1 - 0.55 / 24))
#define RT_OBS_B	(10 + 11 / 7.03)

/*
 * Runtime health. A's site: penalty 1 set now (1/(1+1) = 0.5); A's
 * model: latency EMA 17.5 s, ratio (17500-2500)/30000 = 0.5, factor
 * 1 - 0.35*0.5 = 0.825. Combined 0.5 * 0.825 = 0.4125.
 *   w_A = 20 * 0.4125 = 8.25, w_B = 20: p_A = 8.25/28.25.
 */
static void
rt_setup_health(struct router_candidate *c, __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].site_health.penalty = 1;
	c[0].site_health.updated_at = RT_NOW;
	c[0].model_health.latency_ema = 17500;
	c[0].model_health.has_latency = 1;
	rt_cand(&c[1], 2, 2);
}

/*
 * Decay: penalty 3 set 20 min ago (two half-lives) is 0.75 now:
 *   health 1/1.75; session load of B with limit 2, 1 active, 1 waiting:
 *   1 - 0.28*0.5 - 0.32*0.5 = 0.7.
 *   w_A = 20/1.75, w_B = 20 * 0.7 = 14.
 */
static void
rt_setup_decay(struct router_candidate *c, __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].site_health.penalty = 3;
	c[0].site_health.updated_at = RT_NOW - 20 * ROUTER_MIN;
	rt_cand(&c[1], 2, 2);
	c[1].sess_limit = 2;
	c[1].sess_active = 1;
	c[1].sess_waiting = 1;
}

/* Priority 0 beats priority 1 outright. */
static void
rt_setup_layers(struct router_candidate *c, __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].priority = 1;
	rt_cand(&c[1], 2, 2);
	rt_cand(&c[2], 3, 3);
}

/* The preferred layer cools down: the next layer takes over. */
static void
rt_setup_layer_cooling(struct router_candidate *c,
    __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].st.cooldown_until = RT_NOW + 1;
	rt_cand(&c[1], 2, 2);
	c[1].priority = 5;
}

/* The preferred layer weighs 0 (site weight 0): the next one is used. */
static void
rt_setup_layer_zero(struct router_candidate *c,
    __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].site_weight = 0;
	rt_cand(&c[1], 2, 2);
	c[1].priority = 1;
}

/* A failed 5 s ago (count 1: window 15 s), its cooldown cleared. */
static void
rt_setup_recent(struct router_candidate *c, __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].st.fail_count = 1;
	c[0].st.last_fail_at = RT_NOW - 5 * ROUTER_SEC;
	rt_cand(&c[1], 2, 2);
}

/* Alone in its layer it is not avoided: the layer would be empty. */
static void
rt_setup_recent_alone(struct router_candidate *c, struct router_settings *s)
{
	rt_setup_recent(c, s);
	c[1].priority = 1;
}

/* A's site breaker is open: avoided. */
static void
rt_setup_breaker(struct router_candidate *c, __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].site_health.breaker_level = 1;
	c[0].site_health.breaker_until = RT_NOW + ROUTER_MIN;
	rt_cand(&c[1], 2, 2);
}

/* Both open (one site, one model): both kept, health 0.08 each, 50/50. */
static void
rt_setup_breaker_all(struct router_candidate *c, struct router_settings *s)
{
	rt_setup_breaker(c, s);
	c[1].model_health.breaker_level = 2;
	c[1].model_health.breaker_until = RT_NOW + 5 * ROUTER_MIN;
}

/* Ineligible ones: disabled, tried, account, site, key, credential. */
static void
rt_setup_ineligible(struct router_candidate *c,
    __unused struct router_settings *s)
{
	rt_cand(&c[0], 1, 1);
	c[0].enabled = 0;
	rt_cand(&c[1], 2, 2);
	c[1].tried = 1;
	rt_cand(&c[2], 3, 3);
	c[2].account_usable = 0;
	rt_cand(&c[3], 4, 4);
	c[3].no_credential = 1;
	rt_cand(&c[4], 5, 5);
	c[4].key_excluded = 1;
	rt_cand(&c[5], 6, 6);
}

static const struct rt_prob_case {
	const char	*name;
	size_t		 n;
	void		(*setup)(struct router_candidate *,
			    struct router_settings *);
	double		 want[RT_MAX];	/* percent */
	const char	*code[RT_MAX];	/* reason codes, NULL: "ok" */
} rt_prob_cases[] = {
	{ "equal", 3, rt_setup_equal, { 100.0 / 3, 100.0 / 3, 100.0 / 3 },
	    { NULL } },
	{ "cheap vs expensive", 2, rt_setup_cheap,
	    { 100.0 * 20 / 37, 100.0 * 17 / 37 }, { NULL } },
	{ "two on a site vs one", 3, rt_setup_per_site, { 25, 25, 50 },
	    { NULL } },
	{ "site weight and key multiplier", 2, rt_setup_site_key,
	    { 80, 20 }, { NULL } },
	{ "fallback cost penalty", 2, rt_setup_fallback, { 20, 80 }, { NULL } },
	{ "observed cost, balance, usage, history", 2, rt_setup_observed,
	    { 100 * RT_OBS_A / (RT_OBS_A + RT_OBS_B),
	      100 * RT_OBS_B / (RT_OBS_A + RT_OBS_B) }, { NULL } },
	{ "runtime health and latency", 2, rt_setup_health,
	    { 100 * 8.25 / 28.25, 100 * 20 / 28.25 }, { NULL } },
	{ "penalty decay and session load", 2, rt_setup_decay,
	    { 100 * (20 / 1.75) / (20 / 1.75 + 14),
	      100 * 14 / (20 / 1.75 + 14) }, { NULL } },
	{ "priority layers", 3, rt_setup_layers, { 0, 50, 50 },
	    { "lower_priority" } },
	{ "cooling layer skipped", 2, rt_setup_layer_cooling, { 0, 100 },
	    { "cooling" } },
	{ "zero layer skipped", 2, rt_setup_layer_zero, { 0, 100 },
	    { "zero_weight" } },
	{ "recently failed avoided", 2, rt_setup_recent, { 0, 100 },
	    { "recently_failed" } },
	{ "recently failed alone kept", 2, rt_setup_recent_alone, { 100, 0 },
	    { NULL, "lower_priority" } },
	{ "breaker open avoided", 2, rt_setup_breaker, { 0, 100 },
	    { "breaker_open" } },
	{ "all breakers open kept", 2, rt_setup_breaker_all, { 50, 50 },
	    { NULL } },
	{ "ineligible", 6, rt_setup_ineligible, { 0, 0, 0, 0, 0, 100 },
	    { "channel_disabled", "already_tried", "account_unusable",
	      "no_credential", "key_excluded" } },
};

static void
rt_probabilities(void)
{
	const struct rt_prob_case	*tc;
	struct router_candidate		 c[RT_MAX];
	struct router_settings		 s;
	struct router_request		 rq = { ROUTER_WEIGHTED, RT_NOW, 0 };
	struct router_plan		*p;
	const char			*want;
	double				 sum;
	size_t				 i, k;

	for (k = 0; k < nitems(rt_prob_cases); k++) {
		tc = &rt_prob_cases[k];
		unit_case("%s", tc->name);
		router_settings_default(&s);
		tc->setup(c, &s);
		p = router_plan_new(c, tc->n, &s, &rq);
		sum = 0;
		for (i = 0; i < tc->n; i++) {
			CHECK(rt_near(p->results[i].probability, tc->want[i],
			    1e-6));
			want = tc->code[i] != NULL ? tc->code[i] : "ok";
			if (tc->want[i] == 0 && tc->code[i] == NULL)
				continue;
			CHECK_STR(router_reason_code(p->results[i].reason),
			    want);
			if (p->results[i].eligible)
				sum += p->results[i].probability;
		}
		CHECK(rt_near(sum, 100, 1e-9));
		router_plan_free(p);
	}
	unit_case_end();
}

/* Factors and the pick boundaries of the equal and cheap cases. */
static void
rt_factors(void)
{
	struct router_candidate	 c[RT_MAX];
	struct router_settings	 s;
	struct router_request	 rq = { ROUTER_WEIGHTED, RT_NOW, 0 };
	struct router_plan	*p;

	router_settings_default(&s);
	rt_setup_cheap(c, &s);
	p = router_plan_new(c, 2, &s, &rq);
	CHECK(p->results[0].f.cost_tier == ROUTER_COST_CATALOG);
	CHECK(rt_near(p->results[0].f.value, 0.5, 1e-12));
	CHECK(rt_near(p->results[1].f.value, 0.35, 1e-12));
	CHECK(rt_near(p->results[1].f.norm, 0.7, 1e-12));
	CHECK(rt_near(p->results[1].f.base, 17, 1e-12));
	CHECK(rt_near(p->results[1].f.contribution, 17, 1e-12));
	CHECK_INT(p->has_layer, 1);
	CHECK_INT(router_pick(p, 0), 0);
	CHECK_INT(router_pick(p, 19.99 / 37), 0);
	CHECK_INT(router_pick(p, 20.01 / 37), 1);
	CHECK_INT(router_pick(p, 0.999999), 1);
	CHECK_STR(p->results[0].text, "");	/* only explain formats it */
	router_plan_explain(p, c);
	CHECK_SUB(p->results[0].text, "cost catalog 2");
	CHECK_SUB(p->results[0].text, "probability 54.05%");
	router_plan_free(p);

	rt_setup_observed(c, &s);
	p = router_plan_new(c, 2, &s, &rq);
	CHECK(p->results[0].f.cost_tier == ROUTER_COST_OBSERVED);
	CHECK(rt_near(p->results[0].f.unit_cost, 0.1, 1e-12));
	CHECK(p->results[1].f.cost_tier == ROUTER_COST_CONFIGURED);
	CHECK(rt_near(p->results[0].f.history, 1 - 0.55 / 24, 1e-12));
	router_plan_free(p);

	/* Nothing eligible: nothing to pick. */
	rt_cand(&c[0], 1, 1);
	c[0].enabled = 0;
	p = router_plan_new(c, 1, &s, &rq);
	CHECK_INT(router_pick(p, 0.5), -1);
	CHECK_INT(p->has_layer, 0);
	router_plan_free(p);
	p = router_plan_new(c, 0, &s, &rq);
	CHECK_INT(router_pick(p, 0.5), -1);
	router_plan_free(p);
}

/* 15 s x Fib(n), the cap, and what router_chan_fail does with it. */
static void
rt_cooldown_fib(void)
{
	static const long long	 want[] = { 15, 15, 30, 45, 75, 120, 195,
				     315, 510, 825 };
	struct router_settings	 s;
	struct router_chan_state st;
	size_t			 i;

	router_settings_default(&s);
	memset(&st, 0, sizeof st);
	for (i = 0; i < nitems(want); i++) {
		unit_case("fail %zu", i + 1);
		CHECK_INT(router_fib_cooldown(i + 1, s.cooldown_cap),
		    want[i] * ROUTER_SEC);
		router_chan_fail(&st, ROUTER_WEIGHTED, &s, RT_NOW);
		CHECK_INT(st.fail_count, (long long)i + 1);
		CHECK_INT(st.cooldown_until, RT_NOW + want[i] * ROUTER_SEC);
		CHECK_INT(st.last_fail_at, RT_NOW);
	}
	unit_case_end();
	CHECK_INT(router_fib_cooldown(0, s.cooldown_cap), 15 * ROUTER_SEC);
	CHECK_INT(router_fib_cooldown(5, 60 * ROUTER_SEC), 60 * ROUTER_SEC);
	CHECK_INT(router_fib_cooldown(4, 60 * ROUTER_SEC), 45 * ROUTER_SEC);
	CHECK_INT(router_fib_cooldown(1000, 0), 30 * ROUTER_DAY);
	CHECK_INT(router_fib_cooldown(1000, 90 * ROUTER_DAY), 30 * ROUTER_DAY);

	/* Recently failed uses the same window; success clears cooldowns. */
	CHECK(router_recently_failed(&st, &s, RT_NOW + 824 * ROUTER_SEC));
	CHECK(!router_recently_failed(&st, &s, RT_NOW + 825 * ROUTER_SEC));
	router_chan_ok(&st);
	CHECK_INT(st.cooldown_until, 0);
	CHECK_INT(st.last_fail_at, 0);
	CHECK_INT(st.fail_count, 10);
	CHECK(!router_recently_failed(&st, &s, RT_NOW));
}

/* Round robin: nothing for 2 failures, the 3rd cools 10 min, 1 h, 24 h. */
static void
rt_cooldown_rr(void)
{
	static const long long	 want[] = { 10 * ROUTER_MIN, ROUTER_HOUR,
				     ROUTER_DAY, ROUTER_DAY };
	struct router_settings	 s;
	struct router_chan_state st;
	long long		 now = RT_NOW;
	size_t			 i;

	router_settings_default(&s);
	memset(&st, 0, sizeof st);
	for (i = 0; i < nitems(want); i++) {
		unit_case("stage %zu", i + 1);
		router_chan_fail(&st, ROUTER_ROUND_ROBIN, &s, now);
		router_chan_fail(&st, ROUTER_ROUND_ROBIN, &s, now + 1);
		CHECK_INT(st.cooldown_until, i == 0 ? 0 : now + want[i - 1]);
		router_chan_fail(&st, ROUTER_ROUND_ROBIN, &s, now + 2);
		CHECK_INT(st.cooldown_until, now + 2 + want[i]);
		CHECK_INT(st.level, i < 3 ? (long long)i + 1 : 3);
		CHECK_INT(st.consecutive, 0);
		now += 2;
	}
	unit_case_end();
	CHECK_INT(st.fail_count, 12);
	CHECK_INT(router_rr_cooldown(0), 0);
	CHECK_INT(router_rr_cooldown(9), ROUTER_DAY);
	router_chan_ok(&st);
	CHECK_INT(st.level, 0);
	CHECK_INT(st.cooldown_until, 0);
	router_chan_fail(&st, ROUTER_ROUND_ROBIN, &s, now);
	CHECK_INT(st.cooldown_until, 0);
}

static const struct rt_classify_case {
	int			 status;
	const char		*text;
	enum router_fail_kind	 want;
} rt_classify_cases[] = {
	{ 429, "You have hit your usage limit, try later",
	    ROUTER_FAIL_USAGE_LIMIT },
	{ 429, "{\"error\":{\"type\":\"usage_limit_reached\"}}",
	    ROUTER_FAIL_USAGE_LIMIT },
	{ 429, "Rate   Limit exceeded", ROUTER_FAIL_USAGE_LIMIT },
	{ 429, "Quota exceeded", ROUTER_FAIL_USAGE_LIMIT },
	{ 429, "Too many requests", ROUTER_FAIL_RATE_LIMIT },
	{ 429, "sublimited", ROUTER_FAIL_RATE_LIMIT },
	{ 400, "limit reached", ROUTER_FAIL_CLIENT },
	{ 503, "", ROUTER_FAIL_TRANSIENT },
	{ 500, NULL, ROUTER_FAIL_TRANSIENT },
	{ 0, "read ECONNRESET", ROUTER_FAIL_TRANSIENT },
	{ 0, "Gateway Time-out", ROUTER_FAIL_TRANSIENT },
	{ 403, "upstream timed out", ROUTER_FAIL_TRANSIENT },
	{ 0, NULL, ROUTER_FAIL_OTHER },
	{ 0, "something odd", ROUTER_FAIL_OTHER },
	{ 401, "invalid api key", ROUTER_FAIL_AUTH },
	{ 403, "forbidden", ROUTER_FAIL_AUTH },
	{ 404, "Unsupported endpoint /v1/responses", ROUTER_FAIL_PROTOCOL },
	{ 400, "please use /v1/messages", ROUTER_FAIL_PROTOCOL },
	{ 400, "The model `x` does not exist", ROUTER_FAIL_MODEL },
	{ 400, "Validation failed: unsupported model",
	    ROUTER_FAIL_MODEL },
	{ 400, "\xe5\xbd\x93\xe5\x89\x8d api \xe4\xb8\x8d\xe6\x94\xaf\xe6\x8c"
	    "\x81\xe6\x89\x80\xe9\x80\x89\xe6\xa8\xa1\xe5\x9e\x8b",
	    ROUTER_FAIL_MODEL },
	{ 400, "invalid JSON in body", ROUTER_FAIL_VALIDATION },
	{ 422, "Missing required field", ROUTER_FAIL_VALIDATION },
	{ 404, "not found", ROUTER_FAIL_CLIENT },
	{ 200, "", ROUTER_FAIL_OTHER },
};

static void
rt_classify(void)
{
	static const double	 penalty[ROUTER_FAIL_COUNT] = {
		[ROUTER_FAIL_USAGE_LIMIT] = 0.4,
		[ROUTER_FAIL_TRANSIENT] = 2.5,
		[ROUTER_FAIL_RATE_LIMIT] = 2.2,
		[ROUTER_FAIL_AUTH] = 1.8,
		[ROUTER_FAIL_PROTOCOL] = 0.6,
		[ROUTER_FAIL_MODEL] = 0.9,
		[ROUTER_FAIL_VALIDATION] = 0.25,
		[ROUTER_FAIL_CLIENT] = 0.9,
		[ROUTER_FAIL_OTHER] = 1.2,
	};
	const struct rt_classify_case	*tc;
	size_t				 i;

	for (i = 0; i < nitems(rt_classify_cases); i++) {
		tc = &rt_classify_cases[i];
		unit_case("%d %s", tc->status, tc->text ? tc->text : "NULL");
		CHECK_STR(router_fail_kind_name(router_classify(tc->status,
		    tc->text)), router_fail_kind_name(tc->want));
	}
	for (i = 0; i < ROUTER_FAIL_COUNT; i++) {
		unit_case("penalty %s", router_fail_kind_name(i));
		CHECK(rt_near(router_fail_penalty(i), penalty[i], 1e-12));
	}
	unit_case_end();
}

/* Penalty decay, success, latency EMA; the breaker over time. */
static void
rt_health(void)
{
	struct router_health	h;
	long long		t = RT_NOW;
	int			i;

	memset(&h, 0, sizeof h);
	router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t);
	CHECK(rt_near(h.penalty, 2.5, 1e-12));
	CHECK(rt_near(router_health_multiplier(&h, t), 1 / 3.5, 1e-12));
	/* One half-life later: 1.25. */
	CHECK(rt_near(router_health_multiplier(&h, t + 10 * ROUTER_MIN),
	    1 / 2.25, 1e-12));
	/* Success then: 1.25 * 0.2 - 0.3 < 0, so 0; EMA starts at 1000. */
	router_health_ok(&h, 1000, t + 10 * ROUTER_MIN);
	CHECK(rt_near(h.penalty, 0, 1e-12));
	CHECK(rt_near(h.latency_ema, 1000, 1e-12));
	router_health_ok(&h, 2000, t + 10 * ROUTER_MIN);
	CHECK(rt_near(h.latency_ema, 1300, 1e-12));
	/* Penalty 3 -> 3*0.2 - 0.3 = 0.3 on success. */
	memset(&h, 0, sizeof h);
	h.penalty = 3;
	h.updated_at = t;
	router_health_ok(&h, 0, t);
	CHECK(rt_near(h.penalty, 0.3, 1e-12));

	/* Three transient failures within 5 min of each other: level 1. */
	memset(&h, 0, sizeof h);
	router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t);
	router_health_fail(&h, ROUTER_FAIL_RATE_LIMIT, t + ROUTER_MIN);
	CHECK_INT(router_health_breaker(&h, t + ROUTER_MIN),
	    ROUTER_BREAKER_CLOSED);
	router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t + 2 * ROUTER_MIN);
	CHECK_INT(h.breaker_level, 1);
	CHECK_INT(router_health_breaker(&h, t + 2 * ROUTER_MIN + 59999),
	    ROUTER_BREAKER_OPEN);
	CHECK(rt_near(router_health_multiplier(&h, t + 2 * ROUTER_MIN),
	    0.08, 1e-12));
	/* The window over: half open, normal multiplier again. */
	CHECK_INT(router_health_breaker(&h, t + 3 * ROUTER_MIN),
	    ROUTER_BREAKER_HALF_OPEN);
	CHECK(router_health_multiplier(&h, t + 3 * ROUTER_MIN) > 0.08);
	/* Three more: level 2, 5 min; three more: 3, 30 min; then stays. */
	t += 3 * ROUTER_MIN;
	for (i = 0; i < 3; i++)
		router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t + i);
	CHECK_INT(h.breaker_level, 2);
	CHECK_INT(h.breaker_until, t + 2 + 5 * ROUTER_MIN);
	for (i = 0; i < 3; i++)
		router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t + 10 + i);
	CHECK_INT(h.breaker_level, 3);
	CHECK_INT(h.breaker_until, t + 12 + 30 * ROUTER_MIN);
	for (i = 0; i < 3; i++)
		router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t + 20 + i);
	CHECK_INT(h.breaker_level, 3);
	CHECK_INT(h.breaker_until, t + 22 + 30 * ROUTER_MIN);
	/* A success closes it at once. */
	router_health_ok(&h, 100, t + 30);
	CHECK_INT(router_health_breaker(&h, t + 30), ROUTER_BREAKER_CLOSED);
	CHECK_INT(h.breaker_level, 0);

	/* Gaps over 5 min, or a non-transient failure, break the streak. */
	memset(&h, 0, sizeof h);
	router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t);
	router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t + 6 * ROUTER_MIN);
	router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t + 7 * ROUTER_MIN);
	CHECK_INT(h.breaker_level, 0);
	router_health_fail(&h, ROUTER_FAIL_AUTH, t + 8 * ROUTER_MIN);
	router_health_fail(&h, ROUTER_FAIL_TRANSIENT, t + 9 * ROUTER_MIN);
	CHECK_INT(h.breaker_level, 0);
	router_health_fail(&h, ROUTER_FAIL_USAGE_LIMIT, t + 10 * ROUTER_MIN);
	CHECK_INT(h.streak, 0);

	/* Floors: heavy penalty 0.08; combined site x model 0.0064. */
	memset(&h, 0, sizeof h);
	h.penalty = 1000;
	h.updated_at = t;
	CHECK(rt_near(router_health_multiplier(&h, t), 0.08, 1e-12));

	/* Session load: saturated and queued, floored at 0.18. */
	CHECK(rt_near(router_session_load(0, 5, 5), 1, 1e-12));
	CHECK(rt_near(router_session_load(2, 2, 0), 1 - 0.28 - 0.12, 1e-12));
	CHECK(rt_near(router_session_load(2, 4, 8), 0.18, 1e-12));
}

/* A usage limit cools every channel sharing the credential. */
static void
rt_usage_limit(void)
{
	struct router_candidate	c[4];
	struct router_cool	out[4];
	size_t			n;

	rt_cand(&c[0], 11, 1);
	c[0].credential_id = 7;
	rt_cand(&c[1], 12, 1);
	c[1].credential_id = 7;
	rt_cand(&c[2], 13, 2);
	c[2].credential_id = 8;
	rt_cand(&c[3], 14, 3);
	c[3].credential_id = 7;

	n = router_usage_limit(c, 4, 1, 0, RT_NOW, out);
	CHECK_INT(n, 3);
	CHECK_INT(out[0].channel_id, 11);
	CHECK_INT(out[1].channel_id, 12);
	CHECK_INT(out[2].channel_id, 14);
	CHECK_INT(out[2].until, RT_NOW + 5 * ROUTER_MIN);
	n = router_usage_limit(c, 4, 0, RT_NOW + ROUTER_HOUR, RT_NOW, out);
	CHECK_INT(n, 3);
	CHECK_INT(out[1].until, RT_NOW + ROUTER_HOUR);
	n = router_usage_limit(c, 4, 2, RT_NOW - 1, RT_NOW, out);
	CHECK_INT(n, 1);
	CHECK_INT(out[0].channel_id, 13);
	CHECK_INT(out[0].until, RT_NOW + 5 * ROUTER_MIN);
	CHECK_INT(router_usage_limit(c, 4, 4, 0, RT_NOW, out), 0);
}

/* Round robin: least recently selected first, whatever the draw. */
static void
rt_round_robin(void)
{
	static const long long	 order[] = { 2, 3, 1, 2, 3, 1 };
	struct router_candidate	 c[4];
	struct router_settings	 s;
	struct router_request	 rq = { ROUTER_ROUND_ROBIN, RT_NOW, 0 };
	struct router_plan	*p;
	long			 k;
	size_t			 i;

	router_settings_default(&s);
	rt_cand(&c[0], 1, 1);
	c[0].last_selected_at = 300;
	c[0].priority = -5;
	rt_cand(&c[1], 2, 1);
	rt_cand(&c[2], 3, 2);
	c[2].priority = 9;
	c[2].last_used_at = 50;
	rt_cand(&c[3], 4, 3);
	c[3].site_health.breaker_until = RT_NOW + ROUTER_MIN;
	c[3].site_health.breaker_level = 1;
	for (i = 0; i < nitems(order); i++) {
		unit_case("turn %zu", i);
		p = router_plan_new(c, 4, &s, &rq);
		k = router_pick(p, 0.99);
		CHECK_INT(router_pick(p, 0), k);
		if (!CHECK(k >= 0)) {
			router_plan_free(p);
			break;
		}
		CHECK_INT(c[k].channel_id, order[i]);
		CHECK(rt_near(p->results[k].probability, 100, 0));
		CHECK_STR(router_reason_code(p->results[3].reason),
		    "breaker_open");
		c[k].last_selected_at = RT_NOW + i;
		router_plan_free(p);
	}
	unit_case_end();
}

/*
 * stable_first. Site 1: 20 ok, 0 failed (rate 21/22, trusted); site 2:
 * 10 ok, 10 failed (11/22, trusted); site 3: no data (0.5, untrusted).
 * Primary: trusted within 92 % of 21/22 = site 1 alone.
 */
static void
rt_stable_first(void)
{
	struct router_candidate	 c[4];
	struct router_settings	 s;
	struct router_request	 rq = { ROUTER_STABLE_FIRST, RT_NOW, 0 };
	struct router_plan	*p;

	router_settings_default(&s);
	rt_cand(&c[0], 1, 1);
	c[0].success_count = 20;
	c[0].last_selected_at = 100;
	rt_cand(&c[1], 2, 2);
	c[1].success_count = 10;
	c[1].st.fail_count = 10;
	rt_cand(&c[2], 3, 3);

	p = router_plan_new(c, 3, &s, &rq);
	CHECK_INT(router_pick(p, 0.5), 0);
	CHECK(rt_near(p->results[0].f.stable_rate, 21.0 / 22, 1e-12));
	CHECK(rt_near(p->results[1].f.stable_rate, 0.5, 1e-12));
	CHECK_STR(router_reason_code(p->results[1].reason), "other_pool");
	CHECK_INT(p->observation, 0);
	router_plan_free(p);

	/* 24 primary picks since the last observation: sites 2 and 3. */
	rq.since_observe = 24;
	p = router_plan_new(c, 3, &s, &rq);
	CHECK_INT(p->observation, 1);
	CHECK_INT(router_pick(p, 0.5), 1);
	CHECK_STR(router_reason_code(p->results[0].reason), "other_pool");
	CHECK_STR(router_reason_code(p->results[2].reason), "not_its_turn");
	router_plan_free(p);

	/* Both observed 10 min ago: no observation yet. */
	c[1].site_observed_at = RT_NOW - 10 * ROUTER_MIN;
	c[2].site_observed_at = RT_NOW - 10 * ROUTER_MIN;
	p = router_plan_new(c, 3, &s, &rq);
	CHECK_INT(p->observation, 0);
	CHECK_INT(router_pick(p, 0.5), 0);
	router_plan_free(p);

	/* A second site as good as site 1 rotates in by last selection. */
	rq.since_observe = 0;
	rt_cand(&c[3], 4, 4);
	c[3].success_count = 20;
	p = router_plan_new(c, 4, &s, &rq);
	CHECK_INT(router_pick(p, 0.5), 3);
	router_plan_free(p);
	c[3].last_selected_at = 200;
	p = router_plan_new(c, 4, &s, &rq);
	CHECK_INT(router_pick(p, 0.5), 0);
	router_plan_free(p);
	/* Priority orders the rotation before last selection. */
	c[3].priority = -1;
	p = router_plan_new(c, 4, &s, &rq);
	CHECK_INT(router_pick(p, 0.5), 3);
	router_plan_free(p);
}

/* The explanation JSON has the CLI.md candidate shape. */
static void
rt_json(void)
{
	static const char	*keys[] = { "channel_id", "site", "account",
				    "token", "priority", "weight", "eligible",
				    "probability", "reason", "factors" };
	static const char	*fkeys[] = { "cost_tier", "unit_cost",
				    "value_score", "normalized", "base",
				    "site_channels", "site_weight",
				    "key_multiplier", "runtime_health",
				    "historical_health", "session_load",
				    "contribution", "breaker",
				    "cooldown_remaining_sec" };
	struct router_candidate	 c[2];
	struct router_settings	 s;
	struct router_request	 rq = { ROUTER_WEIGHTED, RT_NOW, 0 };
	struct router_plan	*p;
	json_t			*o, *a, *x, *f;
	size_t			 i;

	router_settings_default(&s);
	rt_cand(&c[0], 1, 1);
	c[0].site_name = "alpha";
	c[0].account_name = "me";
	c[0].token_name = "default";
	rt_cand(&c[1], 2, 2);
	c[1].site_name = "beta";
	c[1].account_name = "you";
	c[1].st.cooldown_until = RT_NOW + 44500;
	p = router_plan_new(c, 2, &s, &rq);
	router_plan_explain(p, c);
	o = router_plan_to_json(p, c);
	CHECK_STR(json_string_value(json_object_get(o, "strategy")),
	    "weighted");
	CHECK_INT(json_integer_value(json_object_get(o, "layer")), 0);
	a = json_object_get(o, "candidates");
	CHECK_INT(json_array_size(a), 2);
	x = json_array_get(a, 0);
	for (i = 0; i < nitems(keys); i++) {
		unit_case("key %s", keys[i]);
		CHECK(json_object_get(x, keys[i]) != NULL);
	}
	f = json_object_get(x, "factors");
	for (i = 0; i < nitems(fkeys); i++) {
		unit_case("factor %s", fkeys[i]);
		CHECK(json_object_get(f, fkeys[i]) != NULL);
	}
	unit_case_end();
	CHECK_STR(json_string_value(json_object_get(x, "site")), "alpha");
	CHECK(json_is_true(json_object_get(x, "eligible")));
	CHECK(rt_near(json_real_value(json_object_get(x, "probability")), 100,
	    1e-9));
	x = json_array_get(a, 1);
	CHECK(json_is_null(json_object_get(x, "token")));
	CHECK(json_is_false(json_object_get(x, "eligible")));
	CHECK_STR(json_string_value(json_object_get(x, "reason_code")),
	    "cooling");
	CHECK_SUB(json_string_value(json_object_get(x, "reason")),
	    "cooling down (45 s left)");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(x,
	    "factors"), "cooldown_remaining_sec")), 45);
	json_decref(o);
	router_plan_free(p);
}

/* xorshift64*, seeded: the same draws on every run. */
static double
rt_rand(unsigned long long *st)
{
	unsigned long long	x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return ((double)((x * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0);
}

/*
 * 10 000 seeded draws over four candidates with unequal probabilities:
 * each share is within 2 percentage points of its probability (about
 * 4.5 standard deviations at p = 0.5, so a failure means a real bug).
 */
static void
rt_statistics(void)
{
	struct router_candidate	 c[4];
	struct router_settings	 s;
	struct router_request	 rq = { ROUTER_WEIGHTED, RT_NOW, 0 };
	struct router_plan	*p;
	unsigned long long	 seed = 0x9e3779b97f4a7c15ULL;
	int			 count[4] = { 0 };
	long			 k;
	size_t			 i;

	router_settings_default(&s);
	rt_cand(&c[0], 1, 1);
	rt_cand(&c[1], 2, 1);
	rt_cand(&c[2], 3, 2);
	c[2].weight = 30;
	c[2].catalog_cost = 3;
	rt_cand(&c[3], 4, 3);
	c[3].key_mult = 0.3;
	p = router_plan_new(c, 4, &s, &rq);
	for (i = 0; i < 10000; i++) {
		k = router_pick(p, rt_rand(&seed));
		if (k < 0 || k >= 4)
			break;
		count[k]++;
	}
	CHECK_INT(i, 10000);
	for (i = 0; i < 4; i++) {
		unit_case("candidate %zu: %.2f%% wanted, %.2f%% drawn", i,
		    p->results[i].probability, count[i] / 100.0);
		CHECK(p->results[i].probability > 5);
		CHECK(fabs(count[i] / 100.0 - p->results[i].probability) <
		    2.0);
	}
	unit_case_end();
	router_plan_free(p);
}

static void
rt_names(void)
{
	enum router_strategy	s;

	CHECK_INT(router_strategy_find("round_robin", &s), 0);
	CHECK_INT(s, ROUTER_ROUND_ROBIN);
	CHECK_INT(router_strategy_find("stable_first", &s), 0);
	CHECK_INT(s, ROUTER_STABLE_FIRST);
	CHECK_INT(router_strategy_find("fastest", &s), -1);
	CHECK_STR(router_strategy_name(ROUTER_WEIGHTED), "weighted");
	CHECK_STR(router_cost_tier_name(ROUTER_COST_FALLBACK), "fallback");
	CHECK_STR(router_breaker_name(ROUTER_BREAKER_HALF_OPEN), "half_open");
}

/* When a provider's limit resets, from Retry-After or the error body. */
static void
rt_reset_at(void)
{
	static const struct {
		const char	*retry_after;
		const char	*body;
		long long	 want_sec;	/* from now; -1: 0 expected */
	} cases[] = {
		{ "120", NULL, 120 },
		{ "30 s", NULL, -1 },			/* not all digits */
		{ NULL, "{\"error\":{\"type\":\"usage_limit_reached\","
		  "\"resets_in_seconds\":900}}", 900 },
		{ NULL, "{\"resets_in_seconds\":60}", 60 },
		{ NULL, "{\"error\":{\"reset_at\":2000000600}}", 600 },
		{ NULL, "{\"error\":{\"reset_at\":2000000600000}}", 600 },
		{ NULL, "{\"error\":{\"resets_at\":\"2033-05-18T03:43:20Z\"}}",
		  0 },
		{ NULL, "{\"error\":{\"reset_at\":1}}", -1 },	/* past */
		{ "99999999", NULL, -1 },		/* beyond a week */
		{ NULL, "usage limit reached", -1 },	/* not JSON */
		{ NULL, NULL, -1 },
	};
	/* 2033-05-18T03:33:20Z: reset_at above is 10 minutes later. */
	long long	now = 2000000000LL * 1000, got;
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("reset %zu", i);
		got = router_reset_at(cases[i].retry_after, cases[i].body,
		    now);
		if (cases[i].want_sec < 0)
			CHECK_INT(got, 0);
		else if (cases[i].want_sec == 0)	/* the ISO case */
			CHECK_INT(got, 2000000600LL * 1000);
		else
			CHECK_INT(got, now + cases[i].want_sec * 1000);
		unit_case_end();
	}
	unit_case("reset: HTTP date");
	CHECK_INT(router_reset_at("Wed, 18 May 2033 03:38:20 GMT", NULL, now),
	    2000000300LL * 1000);
	unit_case_end();
}

void
t_router(void)
{
	rt_names();
	rt_probabilities();
	rt_factors();
	rt_cooldown_fib();
	rt_cooldown_rr();
	rt_classify();
	rt_health();
	rt_usage_limit();
	rt_reset_at();
	rt_round_robin();
	rt_stable_first();
	rt_json();
	rt_statistics();
}
