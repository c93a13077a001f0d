/* Accounts: a user's logins on sites, with sealed credentials. */
#ifndef ACCOUNT_H
#define ACCOUNT_H

#include <jansson.h>

#include "adapter.h"
#include "db.h"
#include "err.h"
#include "site.h"

int	 account_check_credentials(const json_t *, const char **,
	     struct err *);
json_t	*account_list(struct db *, long long, struct err *);
json_t	*account_get(struct db *, long long, struct err *);
json_t	*account_add(struct db *, long long, const json_t *,
	     const struct adapter_acct *, const struct adapter_user *,
	     struct err *);
int	 account_rm(struct db *, long long, struct err *);
json_t	*account_set_enabled(struct db *, long long, int, struct err *);
int	 account_cascade_site(struct db *, long long, int, struct err *);
int	 account_count(struct db *);
struct search_query;
int	 account_search(struct db *, const struct search_query *, json_t *,
	     struct err *);

/* Everything an adapter needs for one account, credentials unsealed. */
struct account_ctx {
	long long		 id;
	long long		 site_id;
	char			*site_name;
	char			*kind;		/* credential kind */
	char			*status;	/* active, disabled, expired */
	int			 checkin_enabled;
	struct site_conn	*site;
	struct adapter_acct	 acct;
};

int	 account_ctx_load(struct db *, long long, const char *, long,
	     struct account_ctx *, struct err *);
void	 account_ctx_free(struct account_ctx *);
int	 account_ids(struct db *, long long **, size_t *, struct err *);
int	 account_store_session(struct db *, long long,
	     const struct adapter_acct *, struct err *);
int	 account_store_user(struct db *, long long, const struct adapter_user *,
	     struct err *);
int	 account_set_health(struct db *, long long, const char *,
	     const char *, const char *);
int	 account_mark_checkin(struct db *, long long, long long);
json_t	*account_balances(struct db *, struct err *);
long long account_today_start(void);
double	 account_income_since(struct db *, long long, long long);
int	 account_snapshots_prune(struct db *, long long, struct err *);
int	 account_renew_ids(struct db *, long long, long long, long long **,
	     size_t *, struct err *);

/* An active account on an enabled site, as the request path needs it. */
struct account_channel {
	long long	 account_id;
	long long	 site_id;
	const char	*site_name;
	const char	*url;
	const char	*platform;
	const char	*proxy;		/* or NULL */
	double		 weight;	/* the site's */
	const void	*headers_blob;	/* sealed site headers, or NULL */
	size_t		 headers_len;
	const char	*kind;		/* credential kind */
	const void	*cred_blob;	/* sealed credential (API keys) */
	size_t		 cred_len;
	const char	*name;		/* label, else username, or NULL */
	double		 balance;	/* USD, last known; 0 if never */
	int		 probe;		/* the site allows recovery probes */
};
typedef int (*account_channel_cb)(const struct account_channel *, void *);
int	 account_channels(struct db *, account_channel_cb, void *,
	     struct err *);

#endif
