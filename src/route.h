/* Routes (model pattern -> channels) and their channels: the tables. */
#ifndef ROUTE_H
#define ROUTE_H

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "router.h"

/* One channels row joined with its route, as the snapshot needs it. */
struct route_chan_row {
	long long	 id;
	long long	 route_id;
	long long	 account_id;
	long long	 token_id;	/* 0: none */
	const char	*source_model;
	int		 priority;
	int		 weight;
	int		 enabled;
};
typedef int (*route_chan_cb)(const struct route_chan_row *, void *);

struct route_row {
	long long	 id;
	const char	*pattern;
	const char	*alias;		/* or NULL */
	const char	*strategy;
	const char	*model_map;	/* JSON object text */
	const char	*members;	/* group: JSON array text, else NULL */
	int		 enabled;
	int		 manual;
};
typedef int (*route_row_cb)(const struct route_row *, void *);

int	 route_is_exact(const char *);
int	 route_rebuild(struct db *, struct err *);
int	 route_foreach(struct db *, route_row_cb, void *, struct err *);
int	 route_channels(struct db *, route_chan_cb, void *, struct err *);
json_t	*route_list(struct db *, struct err *);
json_t	*route_get(struct db *, const char *, struct err *);
long long route_find(struct db *, const char *, struct err *);
json_t	*route_add(struct db *, const char *, const char *, const char *,
	     const char *, struct err *);
json_t	*route_edit(struct db *, const char *, const json_t *, struct err *);
int	 route_rm(struct db *, const char *, struct err *);
json_t	*route_channel_set(struct db *, long long, const json_t *,
	     struct err *);
int	 route_channel_exists(struct db *, long long);
int	 route_count(struct db *);
struct search_query;
int	 route_search(struct db *, const struct search_query *, json_t *,
	     struct err *);

/* A channel's runtime routing state as stored (times in Unix ms). */
struct route_runtime {
	long long	 id;
	long long	 success;
	long long	 fail;
	long long	 consecutive;
	long long	 level;
	long long	 cooldown_until;
	long long	 last_fail_at;
	long long	 last_used_at;
	long long	 total_latency;
	double		 total_cost;
};
typedef int (*route_runtime_cb)(const struct route_runtime *, void *);

/* A site's health (model NULL) or a (site, model)'s, as site_health has. */
struct route_health {
	long long		 site_id;
	const char		*model;
	struct router_health	 h;
};
typedef int (*route_health_cb)(const struct route_health *, void *);
int	 route_health_save(struct db *, const struct route_health *, size_t,
	     struct err *);
int	 route_health_load(struct db *, route_health_cb, void *,
	     struct err *);
int	 route_runtime_save(struct db *, const struct route_runtime *, size_t,
	     struct err *);
int	 route_runtime_load(struct db *, route_runtime_cb, void *,
	     struct err *);

#endif
