/* Upstream API tokens: keys an account holds on its site. */
#ifndef TOKEN_H
#define TOKEN_H

#include <jansson.h>

#include "adapter.h"
#include "db.h"
#include "err.h"

json_t	*token_list(struct db *, long long, struct err *);
int	 token_sync(struct db *, long long, const struct adapter_tokens *,
	     struct err *);
int	 token_owner(struct db *, long long, long long *, char **,
	     struct err *);
int	 token_rm(struct db *, long long, struct err *);
json_t	*token_set_default(struct db *, long long, struct err *);
char	*token_default_key(struct db *, long long);
int	 token_default_sealed(struct db *, long long, long long *, void **,
	     size_t *);
json_t	*token_get(struct db *, long long, struct err *);

#endif
