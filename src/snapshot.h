/*
 * The request path's immutable view of the configuration: downstream keys
 * (by keyed hash, with their policies), the models that can be served and
 * the channels serving each, prices, and the proxy's limits. Built on the
 * main thread, swapped atomically, read by HTTP workers.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "modelpat.h"
#include "router.h"
#include "setting.h"
#include "usage.h"
#include "vault.h"

struct snap_key {
	long long	 id;
	uint8_t		 hash[VAULT_HASH_LEN];
	int		 enabled;
	long long	 expires_at;	/* 0: never */
	int		 has_max_cost;
	double		 max_cost;
	double		 used_cost;
	int		 has_max_requests;
	long long	 max_requests;
	long long	 used_requests;
	struct modelpat	*models;
};

/*
 * A channel (channels row) whose account is active with a usable key on an
 * enabled site. Secrets stay sealed.
 */
struct snap_channel {
	long long	 id;		/* channels.id */
	long long	 route_id;
	char		*source_model;	/* the model it serves */
	int		 priority;	/* lower first */
	int		 chan_weight;	/* the channel's, default 10 */
	int		 enabled;
	long long	 account_id;
	char		 account[32];	/* its name in explanations */
	long long	 site_id;
	long long	 token_id;	/* the key's token; 0: the account's */
	char		 token[32];	/* a token channel's token, or "" */
	char		*group;		/* the key's token's group, or NULL */
	char		*site_name;
	char		*url;
	char		*platform;
	char		*proxy;		/* the site's, else the system's */
	double		 weight;	/* the site's */
	double		 balance;	/* the account's, USD */
	int		 probe;		/* the site allows recovery probes */
	uint8_t		*key_blob;	/* sealed upstream key */
	size_t		 key_len;
	char		*key_ad;	/* its associated data */
	uint8_t		*headers_blob;	/* sealed site headers, or NULL */
	size_t		 headers_len;
};

struct snap_model {
	char		*name;
	char		*owned_by;
	long long	 created;
};

/* A route: a model pattern or alias, its strategy, map and channels. */
struct snap_route {
	long long		 id;
	char			*pattern;
	char			*alias;		/* or NULL */
	enum router_strategy	 strategy;
	json_t			*model_map;	/* {"FROM": "TO"} */
	json_t			*members;	/* group route: [MODEL...] */
	int			 exact;		/* pattern is a model name */
	struct modelpat		*pat;		/* glob / re:, else NULL */
	size_t			*chans;		/* indexes into channels */
	size_t			 nchans;
};

/* How a requested model found its route. */
enum snap_match {
	SNAP_MATCH_EXACT,
	SNAP_MATCH_ALIAS,
	SNAP_MATCH_PATTERN
};

struct snap_price {
	char			*model;
	long long		 site_id;
	char			*group;		/* NULL in the per-site list */
	int			 preferred;	/* the site's default group */
	struct usage_price	 price;
};

struct snap_limits {
	long		 connect_sec;
	long		 first_byte_sec;	/* 0: none */
	long		 idle_sec;		/* 0: none */
	long		 total_sec;		/* 0: none */
	int		 max_attempts;
	long long	 max_body;
	long long	 max_response;
	int		 sticky;		/* sticky sessions on */
	long long	 sticky_ttl_sec;
	int		 auth_fail_limit;	/* bad keys per address and
						 * minute; 0: no limit */
};

struct snapshot {
	int			 refs;		/* under snapshot_mtx */
	unsigned long long	 generation;
	struct snap_key		*keys;		/* sorted by hash */
	size_t			 nkeys;
	struct snap_model	*models;	/* sorted by name */
	size_t			 nmodels;
	struct snap_channel	*channels;
	size_t			 nchannels;
	struct snap_route	*routes;
	size_t			 nroutes;
	struct router_settings	 rset;
	struct snap_price	*prices;	/* sorted by model, site */
	size_t			 nprices;
	struct snap_price	*gprices;	/* by model, site, group */
	size_t			 ngprices;
	struct snap_limits	 limits;
};

int		 snapshot_rebuild(struct db *, const struct settings *,
		     struct err *);
struct snapshot	*snapshot_get(void);
int		 snapshot_key_limits(void);
void		 snapshot_put(struct snapshot *);
void		 snapshot_clear(void);
const struct snap_key	*snapshot_key(const struct snapshot *, const char *);
const struct snap_model	*snapshot_model(const struct snapshot *, const char *);
const struct snap_route	*snapshot_route(const struct snapshot *, const char *,
			     enum snap_match *);
const char	*snapshot_forward_model(const struct snap_route *,
		     enum snap_match, const char *, const struct snap_channel *);
int		 snapshot_channel_serves(const struct snap_route *,
		     enum snap_match, const char *,
		     const struct snap_channel *);
const struct usage_price *snapshot_price(const struct snapshot *, long long,
			     const char *, const char *);
char		*snapshot_channel_key(const struct snap_channel *);
char		**snapshot_channel_headers(const struct snap_channel *);
void		 snapshot_headers_free(char **);

#endif
