/*
 * Global search (`metapi search`, the TUI's /): the query every noun
 * module's *_search() is given, how a hit is ranked and what it looks
 * like. The SQL stays in the noun modules; this is pure.
 */
#ifndef SEARCH_H
#define SEARCH_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

#define SEARCH_LIMIT_DEFAULT	20	/* hits per kind */
#define SEARCH_LIMIT_MAX	100
#define SEARCH_QUERY_MAX	256	/* bytes */
#define SEARCH_CANDIDATES_MAX	5000	/* rows of a kind ranked at most */
#define SEARCH_LOG_WINDOW	100000	/* newest request logs looked at */
#define SEARCH_TEXT_MAX		200	/* bytes of a hit's title or detail */

/* Best first: a hit's rank is that of its best field. */
enum search_rank {
	SEARCH_EXACT,
	SEARCH_PREFIX,
	SEARCH_SUBSTRING,
	SEARCH_NONE
};

struct search_query {
	char		*text;		/* as given */
	char		*like;		/* "%text%", ESCAPE '\' */
	long long	 id;		/* text as a whole number; -1: not one */
	long long	 limit;		/* hits per kind */
};

/* A field a hit may match on, in the order they are preferred. */
struct search_field {
	const char	*name;		/* what "match" says: "name", "url" */
	const char	*value;		/* or NULL */
};

/* What a module's row callback gets: the query and the hits to add to. */
struct search_ctx {
	const struct search_query	*q;
	json_t				*hits;
};

int		 search_query_init(struct search_query *, const char *,
		     long long, struct err *);
void		 search_query_clear(struct search_query *);
char		*search_like(const char *);
enum search_rank search_rank(const char *, const char *);
int		 search_hit(json_t *, const struct search_query *,
		     const char *, long long, json_t *, const char *,
		     const char *, const struct search_field *, size_t);
void		 search_sort(json_t *);
char		*search_clip(const char *);

#endif
