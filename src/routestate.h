/*
 * Runtime routing state: per-channel cooldowns and counters, per-site and
 * per-(site, model) health. Saved to the database now and then and at
 * shutdown (routestate_save()), read back at start (routestate_load()).
 */
#ifndef ROUTESTATE_H
#define ROUTESTATE_H

#include <stddef.h>

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "router.h"
#include "snapshot.h"

long long	 routestate_now(void);
size_t		 routestate_candidates(const struct snapshot *,
		     const struct snap_route *, enum snap_match, const char *,
		     int, long long, struct router_candidate *,
		     const struct snap_channel **);
void		 routestate_selected(long long, long long);
void		 routestate_report(const struct snapshot *,
		     const struct snap_channel *, const char *,
		     enum router_strategy, int, int, const char *, long long,
		     long long, double, long long);
int		 routestate_cooldown_clear(long long);
size_t		 routestate_cooling(long long, long long *, size_t);
void		 routestate_clear(void);
int		 routestate_save(struct db *, struct err *);
long long	 routestate_sticky_get(const char *, long long);
void		 routestate_sticky_set(const char *, long long, long long);
void		 routestate_sticky_drop(const char *);
int		 routestate_format_get(long long, const char *, int, long long);
void		 routestate_format_set(long long, const char *, int, int,
		     long long);
int		 routestate_load(struct db *, struct err *);

#endif
