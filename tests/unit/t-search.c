/*
 * The pure half of global search: the LIKE pattern (% _ \ escaped), the
 * rank of a value against the query, clipping, and a hit's shape.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"
#include "search.h"
#include "unit.h"

static const struct {
	const char	*value;
	const char	*text;
	enum search_rank want;
} t_search_ranks[] = {
	{ "alpha", "alpha", SEARCH_EXACT },
	{ "Alpha", "ALPHA", SEARCH_EXACT },
	{ "Alpha-Relay", "alpha", SEARCH_PREFIX },
	{ "my-alpha", "ALP", SEARCH_SUBSTRING },
	{ "alpha", "alphas", SEARCH_NONE },
	{ "beta", "alpha", SEARCH_NONE },
	{ NULL, "alpha", SEARCH_NONE },
	{ "alpha", "", SEARCH_NONE },
	{ "50%off", "%", SEARCH_SUBSTRING },
	{ "站点甲", "站点", SEARCH_PREFIX },
	{ "ÄBC", "äbc", SEARCH_NONE },	/* ASCII folding only, as LIKE */
};

static const struct {
	const char	*text;
	const char	*like;
} t_search_likes[] = {
	{ "abc", "%abc%" },
	{ "50%", "%50\\%%" },
	{ "a_b", "%a\\_b%" },
	{ "c:\\x", "%c:\\\\x%" },
};

void
t_search(void)
{
	struct search_query	 q;
	struct search_field	 f[] = { { "name", "Alpha" }, { "url", NULL } };
	struct err		 e = { ERR_OK, NULL };
	json_t			*hits;
	char			*s, big[600];
	size_t			 i;

	for (i = 0; i < nitems(t_search_ranks); i++) {
		unit_case("rank %s %s", t_search_ranks[i].value != NULL ?
		    t_search_ranks[i].value : "NULL", t_search_ranks[i].text);
		CHECK_INT(search_rank(t_search_ranks[i].value,
		    t_search_ranks[i].text), t_search_ranks[i].want);
	}
	unit_case_end();
	for (i = 0; i < nitems(t_search_likes); i++) {
		s = search_like(t_search_likes[i].text);
		CHECK_STR(s, t_search_likes[i].like);
		free(s);
	}

	/* Clipped on a character boundary. */
	memset(big, 0, sizeof big);
	for (i = 0; i + 3 < sizeof big - 1; i += 3)
		memcpy(big + i, "甲", 3);
	s = search_clip(big);
	CHECK(strlen(s) <= SEARCH_TEXT_MAX);
	CHECK((strlen(s) - 3) % 3 == 0);
	CHECK_SUB(s, "...");
	free(s);

	/* Bad queries. */
	CHECK_INT(search_query_init(&q, "", 0, &e), -1);
	err_clear(&e);
	CHECK_INT(search_query_init(&q, "a", 101, &e), -1);
	err_clear(&e);

	/* A hit: the best field, and an id equal to the query is exact. */
	if (!CHECK_INT(search_query_init(&q, "alp", 0, &e), 0))
		return;
	CHECK_INT(q.limit, SEARCH_LIMIT_DEFAULT);
	CHECK_INT(q.id, -1);
	hits = json_array();
	CHECK_INT(search_hit(hits, &q, "site", 3, json_integer(3), "Alpha",
	    "d", f, nitems(f)), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(hits, 0),
	    "id")), "site:3");
	CHECK_STR(json_string_value(json_object_get(json_array_get(hits, 0),
	    "rank")), "prefix");
	CHECK_INT(search_hit(hits, &q, "site", 4, json_integer(4), "Beta",
	    "d", f + 1, 1), 0);
	search_query_clear(&q);
	if (!CHECK_INT(search_query_init(&q, "7", 5, &e), 0))
		goto out;
	CHECK_INT(q.id, 7);
	CHECK_INT(search_hit(hits, &q, "key", 7, json_integer(7), "ci", "d",
	    f + 1, 1), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(hits, 1),
	    "match")), "id");
	/* Sorted: the exact id hit first, the prefix after. */
	search_sort(hits);
	CHECK_STR(json_string_value(json_object_get(json_array_get(hits, 0),
	    "id")), "key:7");
	search_query_clear(&q);
out:
	json_decref(hits);
}
