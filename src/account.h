/* Accounts: a user's logins on sites, with sealed credentials. */
#ifndef ACCOUNT_H
#define ACCOUNT_H

#include <jansson.h>

#include "db.h"
#include "err.h"

int	 account_check_credentials(const json_t *, const char **,
	     struct err *);
json_t	*account_list(struct db *, long long, struct err *);
json_t	*account_get(struct db *, long long, struct err *);
json_t	*account_add(struct db *, long long, const json_t *, struct err *);
int	 account_rm(struct db *, long long, struct err *);
json_t	*account_set_enabled(struct db *, long long, int, struct err *);
int	 account_cascade_site(struct db *, long long, int, struct err *);
int	 account_count(struct db *);

#endif
