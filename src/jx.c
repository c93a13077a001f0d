/*
 * Small jansson conveniences shared by the daemon, the CLI and the tests.
 * Lookups return "absent" for a wrong type rather than guessing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
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
 * The length of the valid UTF-8 sequence at p (at most left bytes), or 0
 * for a broken or cut one: no overlong forms, surrogates or code points
 * past U+10FFFF.
 */
static size_t
jx_utf8_len(const unsigned char *p, size_t left)
{
	size_t	need, k;

	if (p[0] < 0x80)
		return (1);
	need = (p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2 ? 1 :
	    (p[0] & 0xf0) == 0xe0 ? 2 :
	    (p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4 ? 3 : 0;
	if (need == 0 || need >= left)
		return (0);
	for (k = 1; k <= need; k++)
		if ((p[k] & 0xc0) != 0x80)
			return (0);
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return (0);
	return (need + 1);
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
	size_t			 i = 0, n = 0, k;

	while (i < len) {
		if (p[i] == 0 || (k = jx_utf8_len(p + i, len - i)) == 0) {
			out[n++] = '?';
			i++;
			continue;
		}
		memcpy(out + n, p + i, k);
		n += k;
		i += k;
	}
	out[n] = '\0';
	return (out);
}

/*
 * s as a JSON string literal, appended to b: what jansson would write,
 * without building a value first (the request path writes a journal line
 * per request). A broken UTF-8 sequence becomes U+FFFD.
 */
void
jx_buf_str(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, run, k;
	char			 esc[7];

	buf_add(b, "\"", 1);
	while (i < len) {
		/* Copy the run that needs no escape in one go. */
		for (run = i; run < len && p[run] >= 0x20 && p[run] < 0x80 &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		buf_add(b, s + i, run - i);
		if ((i = run) >= len)
			break;
		if (p[i] >= 0x80) {
			if ((k = jx_utf8_len(p + i, len - i)) == 0) {
				buf_add(b, "\\ufffd", 6);
				k = 1;
			} else
				buf_add(b, s + i, k);
			i += k;
			continue;
		}
		esc[0] = '\\';
		switch (p[i]) {
		case '"':	esc[1] = '"'; k = 2; break;
		case '\\':	esc[1] = '\\'; k = 2; break;
		case '\n':	esc[1] = 'n'; k = 2; break;
		case '\r':	esc[1] = 'r'; k = 2; break;
		case '\t':	esc[1] = 't'; k = 2; break;
		default:
			esc[1] = 'u';
			esc[2] = esc[3] = '0';
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 0xf];
			k = 6;
			break;
		}
		buf_add(b, esc, k);
		i++;
	}
	buf_add(b, "\"", 1);
}

/* A JSON integer, appended to b without printf. */
void
jx_buf_int(struct buf *b, long long v)
{
	char			 t[24], *p = t + sizeof t;
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
	} while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(t + sizeof t - p));
}

/*
 * Wipe the string values of a tree that holds secrets (a login body, a
 * reply with tokens and keys) before it is freed: jansson frees its
 * copies unwiped. Only what this reference alone holds is touched: a
 * node someone else also holds (refcount above 1) is left as it is, with
 * all below it. Object keys are not wiped; secrets are values.
 */
void
jx_wipe(json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (j == NULL || j->refcount != 1)
		return;
	if (json_is_string(j))
		explicit_bzero((char *)json_string_value(j),
		    json_string_length(j));
	else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			jx_wipe(v);
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			jx_wipe(v);
	}
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
