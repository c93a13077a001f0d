/*
 * Small jansson conveniences shared by the daemon, the CLI and the tests.
 * Lookups return "absent" for a wrong type rather than guessing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
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

/*
 * A copy of len bytes of raw text as valid UTF-8: a broken or cut
 * sequence (or a NUL) becomes "?", so that it can go into JSON.
 */
char *
jx_utf8_clean(const char *raw, size_t len)
{
	const unsigned char	*p = (const unsigned char *)raw;
	char			*out = xmalloc(len + 1);
	size_t			 i = 0, n = 0, k, need;

	while (i < len) {
		need = p[i] < 0x80 ? 0 : (p[i] & 0xe0) == 0xc0 && p[i] >= 0xc2 ?
		    1 : (p[i] & 0xf0) == 0xe0 ? 2 : (p[i] & 0xf8) == 0xf0 &&
		    p[i] <= 0xf4 ? 3 : 4;
		for (k = 1; need < 4 && k <= need; k++)
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				break;
		/* No overlong forms, surrogates or code points past U+10FFFF. */
		if (need >= 2 && k > need &&
		    ((p[i] == 0xe0 && p[i + 1] < 0xa0) ||
		    (p[i] == 0xed && p[i + 1] > 0x9f) ||
		    (p[i] == 0xf0 && p[i + 1] < 0x90) ||
		    (p[i] == 0xf4 && p[i + 1] > 0x8f)))
			need = 4;
		if (need == 4 || k <= need || (need == 0 && p[i] == 0)) {
			out[n++] = '?';
			i++;
			continue;
		}
		memcpy(out + n, p + i, need + 1);
		n += need + 1;
		i += need + 1;
	}
	out[n] = '\0';
	return (out);
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
