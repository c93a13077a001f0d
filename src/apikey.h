/* Downstream API keys: what clients present to metapi. */
#ifndef APIKEY_H
#define APIKEY_H

#include <jansson.h>

#include "db.h"
#include "err.h"

json_t	*apikey_list(struct db *, struct err *);
json_t	*apikey_get(struct db *, long long, struct err *);
json_t	*apikey_reveal(struct db *, long long, struct err *);
json_t	*apikey_add(struct db *, const json_t *, struct err *);
json_t	*apikey_rotate(struct db *, long long, struct err *);
int	 apikey_rm(struct db *, long long, struct err *);
json_t	*apikey_set_enabled(struct db *, long long, int, struct err *);
int	 apikey_count(struct db *);
struct search_query;
int	 apikey_search(struct db *, const struct search_query *, json_t *,
	     struct err *);
int	 apikey_check_models(const char *, json_t **, struct err *);
int	 apikey_parse_date(const char *, long long *);
int	 apikey_add_usage(struct db *, long long, long long, double,
	     long long, struct err *);

/* One key as the request path needs it (no secret: the hash only). */
struct apikey_row {
	long long	 id;
	const void	*hash;		/* VAULT_HASH_LEN bytes */
	int		 enabled;
	long long	 expires_at;	/* 0: never */
	int		 has_max_cost;
	double		 max_cost;
	double		 used_cost;
	int		 has_max_requests;
	long long	 max_requests;
	long long	 used_requests;
	json_t		*models;	/* borrowed pattern list */
};
typedef int (*apikey_row_cb)(const struct apikey_row *, void *);
int	 apikey_foreach(struct db *, apikey_row_cb, void *, struct err *);

#endif
