/*
 * Usage and cost. Each tests/cases/usage/NAME.json file is one upstream
 * reply and the usage that must be read from it:
 *
 *   {"info": "...", "format": "openai-chat", "stream": false,
 *    "body": {...}                       a whole reply, or
 *    "events": [{...}, ...]              each stream event's data, or
 *    "sse": "data: ...\n\n"              the raw stream ("[DONE]" skipped),
 *    "expect": {"prompt", "completion", "cache_read", "cache_write",
 *               "reasoning": counts (absent: 0),
 *               "source": "upstream" | "none"},
 *    "price": {"input", "output", "cache_read", "cache_write",
 *              "per_call"},             optional, with
 *    "cost": USD}
 *
 * The cost rules, the estimator and the stream merging rules are tables
 * here.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"
#include "err.h"
#include "sse.h"
#include "usage.h"
#include "xmalloc.h"

#include "unit.h"

static int
usage_check_cost(const char *file, int line, double got, double want)
{
	int	ok = fabs(got - want) < 1e-12;

	if (!ok) {
		unit_ok(file, line, 0, "cost");
		printf("    cost: wanted %.12g, got %.12g\n", want, got);
		return (0);
	}
	return (unit_ok(file, line, 1, "cost"));
}

/* A stream being read: where its usage goes. */
struct usage_stream {
	struct usage		*u;
	enum usage_format	 f;
};

/*
 * usage_from_event, and the relay's prefilter: an event whose usage
 * counts must be one usage_text_may_have() lets through to the parser.
 */
static void
usage_event_checked(struct usage *u, enum usage_format f, const json_t *ev,
    const char *text, size_t len)
{
	struct usage	before = *u;
	char		*dump = NULL;

	usage_from_event(u, f, ev);
	if (memcmp(&before, u, sizeof before) == 0)
		return;
	if (text == NULL) {
		dump = json_dumps(ev, JSON_COMPACT);
		text = dump;
		len = strlen(dump);
	}
	if (!CHECK(usage_text_may_have(text, len)))
		printf("    usage missed by the prefilter: %.*s\n", (int)len,
		    text);
	free(dump);
}

/* Feed each SSE event's JSON data to usage_from_event. */
static int
usage_sse_cb(const struct sse_event *ev, void *arg, struct err *e)
{
	struct usage_stream	*st = arg;
	json_t			*data;

	if (strcmp(ev->data, "[DONE]") == 0)
		return (0);
	if ((data = json_loadb(ev->data, ev->data_len, 0, NULL)) == NULL) {
		err_set(e, ERR_UPSTREAM, "event data is not JSON: %s",
		    ev->data);
		return (-1);
	}
	usage_event_checked(st->u, st->f, data, ev->data, ev->data_len);
	json_decref(data);
	return (0);
}

static long long
usage_want(json_t *want, const char *k)
{
	return (json_integer_value(json_object_get(want, k)));
}

/* The price of a case: a flag for every key it names. */
static void
usage_case_price(json_t *j, struct usage_price *p)
{
	memset(p, 0, sizeof *p);
	if (json_object_get(j, "input") != NULL ||
	    json_object_get(j, "output") != NULL)
		p->has |= USAGE_PRICE_TOKENS;
	p->input = json_number_value(json_object_get(j, "input"));
	p->output = json_number_value(json_object_get(j, "output"));
	if (json_object_get(j, "cache_read") != NULL) {
		p->has |= USAGE_PRICE_CACHE_R;
		p->cache_read = json_number_value(json_object_get(j,
		    "cache_read"));
	}
	if (json_object_get(j, "cache_write") != NULL) {
		p->has |= USAGE_PRICE_CACHE_W;
		p->cache_write = json_number_value(json_object_get(j,
		    "cache_write"));
	}
	if (json_object_get(j, "per_call") != NULL) {
		p->has |= USAGE_PRICE_CALL;
		p->per_call = json_number_value(json_object_get(j,
		    "per_call"));
	}
}

static void
usage_case_file(const char *path, const char *name)
{
	struct usage		 u;
	struct usage_price	 price;
	struct sse_parser	 p;
	struct err		 e = { ERR_OK, NULL };
	enum usage_format	 f;
	json_error_t		 jerr;
	json_t			*c, *want, *v, *ev;
	const char		*s;
	struct usage_stream	 st;
	size_t			 i;

	unit_case("%s", name);
	if ((c = json_load_file(path, 0, &jerr)) == NULL) {
		CHECK(!"case file is valid JSON");
		printf("    %s: %s\n", path, jerr.text);
		return;
	}
	s = json_string_value(json_object_get(c, "format"));
	if (!CHECK(s != NULL && usage_format_find(s, &f) == 0))
		goto out;
	CHECK_STR(usage_format_name(f), s);
	memset(&u, 0, sizeof u);
	if ((v = json_object_get(c, "body")) != NULL) {
		CHECK(!json_is_true(json_object_get(c, "stream")));
		usage_from_body(&u, f, v);
	} else if ((v = json_object_get(c, "events")) != NULL) {
		CHECK(json_is_true(json_object_get(c, "stream")));
		json_array_foreach(v, i, ev)
			usage_event_checked(&u, f, ev, NULL, 0);
	} else if ((s = json_string_value(json_object_get(c, "sse"))) !=
	    NULL) {
		CHECK(json_is_true(json_object_get(c, "stream")));
		st.u = &u;
		st.f = f;
		sse_init(&p, 0);
		if (!CHECK(sse_feed(&p, s, strlen(s), usage_sse_cb, &st,
		    &e) == 0))
			printf("    %s\n", e.msg);
		CHECK(sse_finish(&p, &e) == 0);
		sse_free(&p);
		err_clear(&e);
	} else {
		CHECK(!"case has a body, events or sse");
		goto out;
	}

	want = json_object_get(c, "expect");
	CHECK_INT(u.prompt, usage_want(want, "prompt"));
	CHECK_INT(u.completion, usage_want(want, "completion"));
	CHECK_INT(u.cache_read, usage_want(want, "cache_read"));
	CHECK_INT(u.cache_write, usage_want(want, "cache_write"));
	CHECK_INT(u.reasoning, usage_want(want, "reasoning"));
	CHECK_STR(usage_source_name(u.source), json_string_value(
	    json_object_get(want, "source")));

	if ((v = json_object_get(c, "price")) != NULL) {
		usage_case_price(v, &price);
		usage_check_cost(__FILE__, __LINE__, usage_cost(&u, &price),
		    json_number_value(json_object_get(c, "cost")));
	}
out:
	json_decref(c);
	unit_case_end();
}

/* Cost: usage and price in, USD out. */
static const struct {
	const char		*name;
	struct usage		 u;
	struct usage_price	 p;
	int			 no_price;	/* pass NULL */
	double			 want;
} usage_cost_cases[] = {
	{ "input and output", { .prompt = 1000, .completion = 500 },
	  { .input = 3, .output = 15, .has = USAGE_PRICE_TOKENS }, 0,
	  0.0105 },
	{ "cache prices",
	  { .prompt = 10000, .cache_read = 8000, .cache_write = 1000,
	    .completion = 200 },
	  { .input = 3, .output = 15, .cache_read = 0.3, .cache_write = 3.75,
	    .has = USAGE_PRICE_TOKENS | USAGE_PRICE_CACHE_R |
	    USAGE_PRICE_CACHE_W }, 0, 0.01215 },
	{ "no cache prices: cache at the input price",
	  { .prompt = 10000, .cache_read = 8000, .cache_write = 1000,
	    .completion = 200 },
	  { .input = 3, .output = 15, .has = USAGE_PRICE_TOKENS }, 0,
	  0.033 },
	{ "cache read priced, write not",
	  { .prompt = 10000, .cache_read = 8000, .cache_write = 1000,
	    .completion = 200 },
	  { .input = 3, .output = 15, .cache_read = 0.3,
	    .has = USAGE_PRICE_TOKENS | USAGE_PRICE_CACHE_R }, 0, 0.0114 },
	{ "per call only", { .prompt = 123456, .completion = 7890 },
	  { .per_call = 0.04, .input = 99, .has = USAGE_PRICE_CALL }, 0,
	  0.04 },
	{ "per call and tokens", { .prompt = 1000000 },
	  { .per_call = 0.01, .input = 0.5,
	    .has = USAGE_PRICE_CALL | USAGE_PRICE_TOKENS }, 0, 0.51 },
	{ "per call, no usage", { .source = USAGE_NONE },
	  { .per_call = 0.02, .has = USAGE_PRICE_CALL }, 0, 0.02 },
	{ "tokens, no usage", { .source = USAGE_NONE },
	  { .input = 3, .output = 15, .has = USAGE_PRICE_TOKENS }, 0, 0 },
	{ "free model", { .prompt = 5000, .completion = 5000 },
	  { .has = USAGE_PRICE_TOKENS }, 0, 0 },
	{ "no price: 2 USD per 1M", { .prompt = 1000, .completion = 500 },
	  { .has = 0 }, 1, 0.003 },
	{ "price with nothing set: fallback",
	  { .prompt = 250000, .completion = 250000 }, { .input = 7 }, 0, 1 },
	{ "inconsistent cache counts never go negative",
	  { .prompt = 10, .cache_read = 50, .completion = 0 },
	  { .input = 1, .cache_read = 0.1,
	    .has = USAGE_PRICE_TOKENS | USAGE_PRICE_CACHE_R }, 0, 5e-6 },
};

static void
usage_cost_tests(void)
{
	struct usage_price	p = { .input = 3, .output = 15,
	    .has = USAGE_PRICE_TOKENS };
	size_t			i;

	for (i = 0; i < nitems(usage_cost_cases); i++) {
		unit_case("cost: %s", usage_cost_cases[i].name);
		usage_check_cost(__FILE__, __LINE__,
		    usage_cost(&usage_cost_cases[i].u,
		    usage_cost_cases[i].no_price ? NULL :
		    &usage_cost_cases[i].p), usage_cost_cases[i].want);
	}
	unit_case("reference cost");
	usage_check_cost(__FILE__, __LINE__, usage_reference_cost(&p), 9);
	usage_check_cost(__FILE__, __LINE__, usage_reference_cost(NULL), 2);
	unit_case_end();
}

/* The estimator: text in, tokens out. */
static const struct {
	const char	*text;
	long long	 want;
} usage_est_cases[] = {
	{ "", 0 },
	{ "a", 1 },
	{ "abcd", 1 },
	{ "abcde", 2 },
	{ "Hello, world!", 4 },
	{ "你好世界", 4 },
	{ "こんにちは", 5 },
	{ "안녕하세요", 5 },
	{ "ＡＢＣ", 3 },
	{ "，。、", 3 },
	{ "🌍🚀", 2 },
	{ "Привет", 3 },
	{ "héllo", 2 },
	{ "Hi 你好", 3 },
	{ "\xff\xfe", 2 },
	{ "\xe4\xbd", 2 },
	{ "\xe4\xbd" "a", 3 },
};

static void
usage_est_tests(void)
{
	struct usage_est	est;
	size_t			i;

	for (i = 0; i < nitems(usage_est_cases); i++) {
		unit_case("estimate %zu \"%s\"", i, usage_est_cases[i].text);
		CHECK_INT(usage_estimate_tokens(usage_est_cases[i].text),
		    usage_est_cases[i].want);
	}
	unit_case("estimate in pieces");
	CHECK_INT(usage_estimate_tokens(NULL), 0);
	/* Pieces of a stream add up before rounding: 4 quarters, 1 token. */
	memset(&est, 0, sizeof est);
	usage_est_add(&est, "a", 1);
	usage_est_add(&est, "b", 1);
	usage_est_add(&est, "c", 1);
	usage_est_add(&est, "d", 1);
	CHECK_INT(usage_est_tokens(&est), 1);
	usage_est_add(&est, "你", strlen("你"));
	CHECK_INT(usage_est_tokens(&est), 2);
	/* A length, not a NUL, ends the text. */
	usage_est_add(&est, "xyz\0zzzz", 5);
	CHECK_INT(est.quarters, 13);
	unit_case_end();
}

/* Names, and the merging rules on hand-built events. */
static void
usage_rule_tests(void)
{
	struct usage		 u;
	enum usage_format	 f;
	json_t			*j;
	size_t			 i;

	unit_case("names");
	for (i = 0; i < USAGE_FORMAT_COUNT; i++) {
		CHECK(usage_format_find(usage_format_name(i), &f) == 0);
		CHECK_INT(f, i);
	}
	CHECK_INT(usage_format_find("gemini-cli", &f), -1);
	CHECK_STR(usage_format_name(USAGE_FORMAT_COUNT), "unknown");
	CHECK_STR(usage_source_name(USAGE_NONE), "none");
	CHECK_STR(usage_source_name(USAGE_UPSTREAM), "upstream");
	CHECK_STR(usage_source_name(USAGE_ESTIMATED), "estimated");
	CHECK_STR(usage_source_name(42), "none");

	unit_case("not objects");
	memset(&u, 0, sizeof u);
	j = json_string("usage");
	CHECK_INT(usage_from_body(&u, USAGE_OPENAI_CHAT, j), 0);
	CHECK_INT(usage_from_event(&u, USAGE_ANTHROPIC, j), 0);
	CHECK_INT(usage_from_body(&u, USAGE_OPENAI_CHAT, NULL), 0);
	CHECK_INT(usage_from_body(&u, USAGE_FORMAT_COUNT, j), 0);
	json_decref(j);
	j = json_pack("{s:{s:i, s:s}}", "usage", "prompt_tokens", -5,
	    "completion_tokens", "7");
	CHECK_INT(usage_from_body(&u, USAGE_OPENAI_CHAT, j), 0);
	CHECK_INT(u.source, USAGE_NONE);
	json_decref(j);

	unit_case("real counts");
	j = json_pack("{s:{s:f, s:i}}", "usage", "prompt_tokens", 12.0,
	    "completion_tokens", 3);
	CHECK_INT(usage_from_body(&u, USAGE_OPENAI_CHAT, j), 1);
	CHECK_INT(u.prompt, 12);
	json_decref(j);

	unit_case("estimate replaced by upstream");
	memset(&u, 0, sizeof u);
	u.prompt = 100;
	u.completion = 100;
	u.source = USAGE_ESTIMATED;
	j = json_pack("{s:{s:i, s:i}}", "usage", "prompt_tokens", 0,
	    "completion_tokens", 0);
	CHECK_INT(usage_from_event(&u, USAGE_OPENAI_CHAT, j), 1);
	CHECK_INT(u.prompt, 0);
	CHECK_INT(u.source, USAGE_UPSTREAM);
	json_decref(j);

	unit_case("anthropic message_delta alone");
	memset(&u, 0, sizeof u);
	j = json_pack("{s:s, s:{s:i}}", "type", "message_delta", "usage",
	    "output_tokens", 40);
	CHECK_INT(usage_from_event(&u, USAGE_ANTHROPIC, j), 1);
	CHECK_INT(u.prompt, 0);
	CHECK_INT(u.completion, 40);
	CHECK_INT(u.source, USAGE_UPSTREAM);
	json_decref(j);

	unit_case("anthropic message_start starts over");
	j = json_pack("{s:s, s:{s:{s:i, s:i, s:i}}}", "type", "message_start",
	    "message", "usage", "input_tokens", 7, "cache_read_input_tokens",
	    3, "output_tokens", 1);
	CHECK_INT(usage_from_event(&u, USAGE_ANTHROPIC, j), 1);
	CHECK_INT(u.prompt, 10);
	CHECK_INT(u.cache_read, 3);
	CHECK_INT(u.completion, 1);
	json_decref(j);
	/* A delta with only cache reads keeps the uncached input. */
	j = json_pack("{s:s, s:{s:i, s:i}}", "type", "message_delta", "usage",
	    "cache_read_input_tokens", 5, "output_tokens", 9);
	CHECK_INT(usage_from_event(&u, USAGE_ANTHROPIC, j), 1);
	CHECK_INT(u.prompt, 12);
	CHECK_INT(u.cache_read, 5);
	CHECK_INT(usage_uncached(&u), 7);
	CHECK_INT(u.completion, 9);
	CHECK_INT(usage_total(&u), 21);
	json_decref(j);
	j = json_pack("{s:s}", "type", "message_stop");
	CHECK_INT(usage_from_event(&u, USAGE_ANTHROPIC, j), 0);
	json_decref(j);
	unit_case_end();
}

/* The relay's byte scan for events that may hold usage. */
static void
usage_prefilter_tests(void)
{
	static const struct {
		const char	*text;
		int		 want;
	} tc[] = {
		{ "{\"usage\":{\"prompt_tokens\":1}}", 1 },
		{ "{\"a\":1, \"usage\" :\n {\"x\":1}}", 1 },
		{ "{\"usageMetadata\":{\"promptTokenCount\":3}}", 1 },
		{ "{\"type\":\"message_delta\",\"usage\":\t{}}", 1 },
		{ "{\"usage\":null,\"choices\":[]}", 0 },
		{ "{\"choices\":[{\"delta\":{\"content\":\"usage\"}}]}", 0 },
		{ "{\"usage_note\":\"x\",\"usage\":{}}", 1 },
		{ "{\"usage\"", 0 },
		{ "{\"usage\":", 0 },
		{ "{\"usage", 0 },
		{ "", 0 },
	};
	size_t	i;

	for (i = 0; i < nitems(tc); i++) {
		unit_case("prefilter %zu", i);
		CHECK_INT(usage_text_may_have(tc[i].text, strlen(tc[i].text)),
		    tc[i].want);
	}
	unit_case_end();
}

void
t_usage(void)
{
	unit_case_files("usage", usage_case_file);
	usage_prefilter_tests();
	usage_cost_tests();
	usage_est_tests();
	usage_rule_tests();
}
