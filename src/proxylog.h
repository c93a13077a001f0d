/* Request logs: one row per downstream request. */
#ifndef PROXYLOG_H
#define PROXYLOG_H

#include "db.h"

double	 proxylog_spend_since(struct db *, long long, long long);

#endif
