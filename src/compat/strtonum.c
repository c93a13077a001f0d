/*
 * strtonum: parse a whole decimal number within [min, max]; on error return 0
 * and set *errstr to "invalid", "too small" or "too large".
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "compat.h"

long long
strtonum(const char *s, long long min, long long max, const char **errstr)
{
	long long	 v;
	char		*end;

	*errstr = NULL;
	if (min > max) {
		*errstr = "invalid";
		return (0);
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (s == end || *end != '\0') {
		*errstr = "invalid";
		return (0);
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return (0);
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return (0);
	}
	return (v);
}
