/* Upstream API tokens: keys an account holds on its site. */
#ifndef TOKEN_H
#define TOKEN_H

#include <jansson.h>

#include "adapter.h"
#include "db.h"
#include "err.h"

json_t	*token_list(struct db *, long long, struct err *);
int	 token_sync(struct db *, long long, const struct adapter_tokens *,
	     long long *, struct err *);
int	 token_owner(struct db *, long long, long long *, char **,
	     struct err *);
int	 token_rm(struct db *, long long, struct err *);
json_t	*token_set_default(struct db *, long long, struct err *);
char	*token_default_key(struct db *, long long);
int	 token_default_sealed(struct db *, long long, long long *, void **,
	     size_t *);
json_t	*token_get(struct db *, long long, struct err *);

/*
 * A token requests may use, as SQL over upstream_tokens (no alias; ?1 is
 * now): enabled, its full key known, not expired.
 */
#define TOKEN_USABLE_SQL "enabled = 1 AND value_status = 'ready' AND " \
	"(expires_at IS NULL OR expires_at <= 0 OR expires_at > ?1)"
struct token_usable {
	long long	 id;
	long long	 account_id;
	const char	*name;
	const char	*group;		/* or NULL: the account's own */
	const void	*blob;		/* sealed key */
	size_t		 len;
};
typedef int (*token_usable_cb)(const struct token_usable *, void *);
int	 token_usable_foreach(struct db *, long long, token_usable_cb, void *,
	     struct err *);

#endif
