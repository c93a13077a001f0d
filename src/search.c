/*
 * The pure half of global search: the query's LIKE pattern, ranking a
 * value against the text, and the hit objects search.run replies with.
 * No SQL here: each noun module selects its own candidates with the
 * LIKE pattern (so its tables' SQL stays its own) and hands each row's
 * fields to search_hit(), which ranks them and builds the hit.
 *
 * Matching folds ASCII case only, as SQLite's LIKE does, so the rows
 * LIKE lets through and the ranks given here agree on every byte.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "compat.h"
#include "err.h"
#include "search.h"
#include "xmalloc.h"

/* The wire names of the ranks, in enum search_rank's order. */
static const char *const search_rank_names[] = {
	"exact", "prefix", "substring"
};

static int
search_fold(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* Does s start with p, ASCII case folded? */
static int
search_starts(const char *s, const char *p)
{
	for (; *p != '\0'; s++, p++)
		if (search_fold((unsigned char)*s) !=
		    search_fold((unsigned char)*p))
			return (0);
	return (1);
}

/* How value matches text: exactly, as a prefix, inside, or not at all. */
enum search_rank
search_rank(const char *value, const char *text)
{
	const char	*s;

	if (value == NULL || *text == '\0')
		return (SEARCH_NONE);
	if (search_starts(value, text))
		return (strlen(value) == strlen(text) ? SEARCH_EXACT :
		    SEARCH_PREFIX);
	for (s = value + 1; *s != '\0'; s++)
		if (search_starts(s, text))
			return (SEARCH_SUBSTRING);
	return (SEARCH_NONE);
}

/*
 * "%text%" for LIKE ... ESCAPE '\': the user's %, _ and \ are taken
 * literally, so "50%" finds "50%" and not "500".
 */
char *
search_like(const char *text)
{
	struct buf	 b;
	const char	*p;
	char		*s;

	buf_init(&b, 2 * strlen(text) + 3);
	buf_add(&b, "%", 1);
	for (p = text; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_add(&b, "\\", 1);
		buf_add(&b, p, 1);
	}
	buf_add(&b, "%", 1);
	s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return (s);
}

/* s cut to SEARCH_TEXT_MAX bytes on a character boundary; owned. */
char *
search_clip(const char *s)
{
	size_t	n;
	char	*out;

	if (s == NULL)
		return (xstrdup(""));
	if ((n = strlen(s)) <= SEARCH_TEXT_MAX)
		return (xstrdup(s));
	n = SEARCH_TEXT_MAX - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	out = xmalloc(n + 4);
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return (out);
}

int
search_query_init(struct search_query *q, const char *text, long long limit,
    struct err *e)
{
	const char	*errstr = NULL;

	memset(q, 0, sizeof *q);
	q->id = -1;
	if (text == NULL || *text == '\0') {
		err_set(e, ERR_INVALID, "QUERY must not be empty");
		return (-1);
	}
	if (strlen(text) > SEARCH_QUERY_MAX) {
		err_set(e, ERR_INVALID, "QUERY is longer than %d bytes",
		    SEARCH_QUERY_MAX);
		return (-1);
	}
	if (limit == 0)
		limit = SEARCH_LIMIT_DEFAULT;
	if (limit < 1 || limit > SEARCH_LIMIT_MAX) {
		err_set(e, ERR_INVALID, "--limit must be from 1 to %d",
		    SEARCH_LIMIT_MAX);
		return (-1);
	}
	q->text = xstrdup(text);
	q->like = search_like(text);
	q->limit = limit;
	if (*text != '+' && *text != '-') {
		q->id = strtonum(text, 1, LLONG_MAX, &errstr);
		if (errstr != NULL)
			q->id = -1;
	}
	return (0);
}

void
search_query_clear(struct search_query *q)
{
	free(q->text);
	free(q->like);
	q->text = q->like = NULL;
}

/*
 * Rank a candidate row and append its hit to hits: the object of this
 * kind with id (-1: it has no number) and ref (stolen: what the object
 * is asked for by, its id or its name). The best of its fields is the
 * rank; an id equal to the query is exact. 1 when it matched, else 0.
 */
int
search_hit(json_t *hits, const struct search_query *q, const char *kind,
    long long id, json_t *ref, const char *title, const char *detail,
    const struct search_field *fields, size_t n)
{
	enum search_rank	 best = SEARCH_NONE, r;
	const char		*match = NULL;
	char			*sid, *t, *d;
	size_t			 i;

	if (id >= 0 && id == q->id) {
		best = SEARCH_EXACT;
		match = "id";
	}
	for (i = 0; i < n && best != SEARCH_EXACT; i++) {
		r = search_rank(fields[i].value, q->text);
		if (r < best) {
			best = r;
			match = fields[i].name;
		}
	}
	if (best == SEARCH_NONE) {
		json_decref(ref);
		return (0);
	}
	if (json_is_integer(ref))
		xasprintf(&sid, "%s:%lld", kind,
		    (long long)json_integer_value(ref));
	else
		xasprintf(&sid, "%s:%s", kind, json_string_value(ref));
	t = search_clip(title);
	d = search_clip(detail);
	json_array_append_new(hits, json_pack("{s:s, s:s, s:o, s:s, s:s, "
	    "s:s, s:s}", "id", sid, "kind", kind, "ref", ref, "title", t,
	    "detail", d, "match", match, "rank", search_rank_names[best]));
	free(sid);
	free(t);
	free(d);
	return (1);
}

static enum search_rank
search_rank_of(json_t *hit)
{
	const char	*s = json_string_value(json_object_get(hit, "rank"));
	size_t		 i;

	for (i = 0; s != NULL && i < nitems(search_rank_names); i++)
		if (strcmp(s, search_rank_names[i]) == 0)
			return ((enum search_rank)i);
	return (SEARCH_NONE);
}

/* Hits best rank first; within a rank they keep their order. */
void
search_sort(json_t *hits)
{
	json_t	*sorted, *h;
	size_t	 i;
	int	 r;

	sorted = json_array();
	for (r = SEARCH_EXACT; r <= SEARCH_NONE; r++)
		json_array_foreach(hits, i, h)
			if (search_rank_of(h) == (enum search_rank)r)
				json_array_append(sorted, h);
	json_array_clear(hits);
	json_array_extend(hits, sorted);
	json_decref(sorted);
}
