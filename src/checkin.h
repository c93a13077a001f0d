/* Check-in history. */
#ifndef CHECKIN_H
#define CHECKIN_H

#include <jansson.h>

#include "adapter.h"
#include "db.h"
#include "err.h"

int	 checkin_log_add(struct db *, long long, const struct adapter_checkin *,
	     struct err *);
json_t	*checkin_log_list(struct db *, long long, long long, struct err *);
json_t	*checkin_outcomes_since(struct db *, long long, struct err *);
int	 checkin_claim(struct db *, long long, const char *, struct err *);
int	 checkin_unclaim(struct db *, long long, const char *);
void	 checkin_today(char *, size_t);

#endif
