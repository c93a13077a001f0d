/* The configuration's revision (config_revision), shared by daemons. */
#ifndef REVISION_H
#define REVISION_H

#include "db.h"
#include "err.h"

long long	 revision_bump(struct db *, struct err *);
long long	 revision_get(struct db *, struct err *);

#endif
