/*
 * Matching a model name against a key's patterns: an exact name, a glob
 * ("gpt-4o*", "claude-?-*") or "re:REGEX" (POSIX extended, anchored as
 * written). Back-references are refused: they are the one part of POSIX
 * regexes whose matching time can explode. Pure; compiled once per
 * snapshot, matched from any thread.
 */
#include "config.h"

#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "modelpat.h"
#include "xmalloc.h"

struct modelpat_one {
	char	*text;		/* the pattern as given */
	int	 kind;
#define MODELPAT_EXACT	0
#define MODELPAT_GLOB	1
#define MODELPAT_RE	2
	regex_t	 re;
};

struct modelpat {
	struct modelpat_one	*v;
	size_t			 n;
};

static int
modelpat_has_backref(const char *re)
{
	const char	*p;

	for (p = re; *p != '\0'; p++) {
		if (*p == '\\' && p[1] >= '1' && p[1] <= '9')
			return (1);
		if (*p == '\\' && p[1] != '\0')
			p++;
	}
	return (0);
}

struct modelpat *
modelpat_compile(const json_t *patterns, struct err *e)
{
	struct modelpat		*mp;
	struct modelpat_one	*o;
	const char		*s;
	json_t			*v;
	size_t			 i;

	mp = xcalloc(1, sizeof *mp);
	mp->v = xcalloc(json_array_size(patterns) + 1, sizeof *mp->v);
	/* NULL patterns: an empty set, which matches nothing. */
	json_array_foreach(patterns, i, v) {
		if ((s = json_string_value(v)) == NULL)
			continue;
		o = &mp->v[mp->n];
		o->text = xstrdup(s);
		if (strncmp(s, "re:", 3) == 0) {
			if (modelpat_has_backref(s + 3) ||
			    regcomp(&o->re, s + 3, REG_EXTENDED|REG_NOSUB) != 0) {
				err_set(e, ERR_INVALID, "bad model pattern %s",
				    s);
				free(o->text);
				modelpat_free(mp);
				return (NULL);
			}
			o->kind = MODELPAT_RE;
		} else if (strpbrk(s, "*?[") != NULL)
			o->kind = MODELPAT_GLOB;
		else
			o->kind = MODELPAT_EXACT;
		mp->n++;
	}
	return (mp);
}

int
modelpat_match(const struct modelpat *mp, const char *model)
{
	const struct modelpat_one	*o;
	size_t				 i;

	for (i = 0; i < mp->n; i++) {
		o = &mp->v[i];
		if ((o->kind == MODELPAT_EXACT && strcmp(o->text, model) == 0) ||
		    (o->kind == MODELPAT_GLOB &&
		    fnmatch(o->text, model, 0) == 0) ||
		    (o->kind == MODELPAT_RE &&
		    regexec(&o->re, model, 0, NULL, 0) == 0))
			return (1);
	}
	return (0);
}

void
modelpat_free(struct modelpat *mp)
{
	size_t	i;

	if (mp == NULL)
		return;
	for (i = 0; i < mp->n; i++) {
		if (mp->v[i].kind == MODELPAT_RE)
			regfree(&mp->v[i].re);
		free(mp->v[i].text);
	}
	free(mp->v);
	free(mp);
}
