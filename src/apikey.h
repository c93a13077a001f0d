/* Downstream API keys: what clients present to metapi. */
#ifndef APIKEY_H
#define APIKEY_H

#include <jansson.h>

#include "db.h"
#include "err.h"

json_t	*apikey_list(struct db *, struct err *);
json_t	*apikey_get(struct db *, long long, struct err *);
json_t	*apikey_reveal(struct db *, long long, struct err *);
json_t	*apikey_add(struct db *, const json_t *, struct err *);
json_t	*apikey_rotate(struct db *, long long, struct err *);
int	 apikey_rm(struct db *, long long, struct err *);
json_t	*apikey_set_enabled(struct db *, long long, int, struct err *);
int	 apikey_count(struct db *);
int	 apikey_check_models(const char *, json_t **, struct err *);
int	 apikey_parse_date(const char *, long long *);

#endif
