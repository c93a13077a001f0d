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

/* An account with a usable key on an enabled site. Secrets stay sealed. */
struct snap_channel {
	long long	 account_id;
	long long	 site_id;
	long long	 token_id;	/* 0: the account's own API key */
	char		*site_name;
	char		*url;
	char		*platform;
	char		*proxy;		/* the site's, else the system's */
	double		 weight;	/* the site's */
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
	size_t		*chans;		/* indexes into channels */
	size_t		 nchans;
};

struct snap_price {
	char			*model;
	long long		 site_id;
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
	struct snap_price	*prices;	/* sorted by model, site */
	size_t			 nprices;
	struct snap_limits	 limits;
};

int		 snapshot_rebuild(struct db *, const struct settings *,
		     struct err *);
struct snapshot	*snapshot_get(void);
void		 snapshot_put(struct snapshot *);
void		 snapshot_clear(void);
const struct snap_key	*snapshot_key(const struct snapshot *, const char *);
const struct snap_model	*snapshot_model(const struct snapshot *, const char *);
const struct usage_price *snapshot_price(const struct snapshot *, long long,
			     const char *);
char		*snapshot_channel_key(const struct snap_channel *);
char		**snapshot_channel_headers(const struct snap_channel *);
void		 snapshot_headers_free(char **);

#endif
