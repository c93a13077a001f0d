/*
 * The request path's immutable view of the configuration: downstream keys
 * (by keyed hash, with their policies) and the models that can be served.
 * Built on the main thread, swapped atomically, read by HTTP workers.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "modelpat.h"
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

struct snap_model {
	char		*name;
	char		*owned_by;
	long long	 created;
};

struct snapshot {
	int			 refs;		/* under snapshot_mtx */
	unsigned long long	 generation;
	struct snap_key		*keys;		/* sorted by hash */
	size_t			 nkeys;
	struct snap_model	*models;	/* sorted by name */
	size_t			 nmodels;
};

int		 snapshot_rebuild(struct db *, struct err *);
struct snapshot	*snapshot_get(void);
void		 snapshot_put(struct snapshot *);
void		 snapshot_clear(void);
const struct snap_key *snapshot_key(const struct snapshot *, const char *);

#endif
