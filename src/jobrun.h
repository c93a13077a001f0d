/* The record of scheduled job runs. */
#ifndef JOBRUN_H
#define JOBRUN_H

#include <jansson.h>

#include "db.h"
#include "err.h"

long long	 jobrun_start(struct db *, const char *, struct err *);
int		 jobrun_finish(struct db *, long long, const char *,
		     const char *, struct err *);
json_t		*jobrun_last(struct db *, const char *);
int		 jobrun_abandon(struct db *, const char *);
int		 jobrun_started_since(struct db *, const char *, long long);
long long	 jobrun_last_start(struct db *, const char *);

#endif
