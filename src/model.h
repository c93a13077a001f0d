/* Models: which account can serve which model, and at what price. */
#ifndef MODEL_H
#define MODEL_H

#include <jansson.h>

#include "adapter.h"
#include "db.h"
#include "err.h"

int	 model_set_available(struct db *, long long, long long, json_t *,
	     struct err *);
int	 model_set_prices(struct db *, long long, const struct adapter_prices *,
	     struct err *);
json_t	*model_market(struct db *, struct err *);
const char	*model_brand(const char *);
int	 model_count(struct db *, long long);
json_t	*model_served(struct db *, struct err *);
struct search_query;
int	 model_search(struct db *, const struct search_query *, json_t *,
	     struct err *);
typedef int (*model_pair_cb)(long long, const char *, void *);
struct model_price_row {
	long long		 site_id;
	const char		*model;
	const char		*group;
	struct adapter_price	 price;		/* model and group unset */
};
typedef int (*model_price_cb)(const struct model_price_row *, void *);
int	 model_price_rows(struct db *, model_price_cb, void *, struct err *);
int	 model_pairs(struct db *, model_pair_cb, void *, struct err *);

#endif
