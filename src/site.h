/* Upstream relay sites: the sites table and its JSON form. */
#ifndef SITE_H
#define SITE_H

#include <jansson.h>

#include "db.h"
#include "err.h"

struct site_conn {
	long long	 id;
	char		*url;		/* base URL, no trailing slash */
	char		*platform;
	char		*proxy;		/* or NULL */
	char		**headers;	/* "Name: value", NULL-terminated; secret */
	int		 enabled;
};

int	 site_platform_ok(const char *);
int	 site_validate(struct db *, const json_t *, struct err *);
int	 site_resolve(struct db *, const char *, long long *, struct err *);
json_t	*site_list(struct db *, struct err *);
json_t	*site_get(struct db *, long long, struct err *);
json_t	*site_add(struct db *, const json_t *, struct err *);
json_t	*site_edit(struct db *, long long, const json_t *, struct err *);
int	 site_rm(struct db *, long long, struct err *);
json_t	*site_set_enabled(struct db *, long long, int, struct err *);
int	 site_count(struct db *);
struct site_conn *site_conn_get(struct db *, long long, struct err *);
void	 site_conn_free(struct site_conn *);
int	 site_proxy_open(long long, const char *, const void *, size_t,
	     char **, struct err *);
void	 site_proxy_free(char *);
int	 site_seal_proxies(struct db *, struct err *);
int	 site_set_quota_per_unit(struct db *, long long, double);
struct search_query;
int	 site_search(struct db *, const struct search_query *, json_t *,
	     struct err *);

#endif
