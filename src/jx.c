/*
 * Small jansson conveniences shared by the daemon, the CLI and the tests.
 * Lookups return "absent" for a wrong type rather than guessing.
 */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "jx.h"
#include "xmalloc.h"

const char *
jx_str(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_string(v) ? json_string_value(v) : NULL);
}

/* 0 and *out set when key holds an integer; -1 otherwise. */
int
jx_int(const json_t *o, const char *key, long long *out)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v))
		return (-1);
	*out = json_integer_value(v);
	return (0);
}

int
jx_real(const json_t *o, const char *key, double *out)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_number(v))
		return (-1);
	*out = json_number_value(v);
	return (0);
}

int
jx_bool(const json_t *o, const char *key)
{
	return (json_is_true(json_object_get(o, key)));
}

int
jx_has(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (v != NULL && !json_is_null(v));
}

void
jx_set_str(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, json_string(s != NULL ? s : ""));
}

void
jx_set_str_or_null(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, s != NULL ? json_string(s) : json_null());
}

/* Wrap an array as the list reply shape {"items": [...], "next": null}. */
json_t *
jx_items(json_t *array)
{
	return (json_pack("{s:o, s:n}", "items", array, "next"));
}

char *
jx_dump(const json_t *o)
{
	char	*s;

	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
	if (s == NULL)
		s = xstrdup("null");
	return (s);
}

/* A Unix time as an ISO 8601 UTC string; 0 or less is null. */
json_t *
jx_time(long long t)
{
	char		s[32];
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return (json_null());
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (json_string(s));
}

json_t *
jx_opt_real(int present, double v)
{
	return (present ? json_real(v) : json_null());
}

json_t *
jx_opt_int(int present, long long v)
{
	return (present ? json_integer(v) : json_null());
}
