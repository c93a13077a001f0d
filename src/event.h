/* The event log: notable happenings with a level and a time (events). */
#ifndef EVENT_H
#define EVENT_H

#include <jansson.h>

#include "db.h"
#include "err.h"

long long	 event_add(struct db *, const char *, const char *,
		     const char *, const char *, const char *, long long,
		     struct err *);
json_t		*event_list(struct db *, long long, long long, struct err *);
int		 event_prune(struct db *, long long, struct err *);
int		 event_level_ok(const char *);

#endif
