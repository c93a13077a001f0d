/* Model patterns of downstream keys: exact names, globs, re:REGEX. */
#ifndef MODELPAT_H
#define MODELPAT_H

#include <jansson.h>

#include "err.h"

struct modelpat;

struct modelpat	*modelpat_compile(const json_t *, struct err *);
int		 modelpat_match(const struct modelpat *, const char *);
void		 modelpat_free(struct modelpat *);

#endif
