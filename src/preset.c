/*
 * Site presets. This module owns the embedded data/presets.json (built
 * into preset_data[] by src/gen-presets.sh) and lookups in it by id or
 * alias; it does not add sites (ctl-site.c does, through site.c). The
 * text is parsed on each call: it is small and used rarely, and so no
 * shared state needs a lock.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf.h"
#include "jx.h"
#include "log.h"
#include "preset.h"
#include "xmalloc.h"

static json_t *
preset_load(void)
{
	json_error_t	 jerr;
	json_t		*a;

	/* A broken file is a build bug; the unit test catches it first. */
	if ((a = json_loads(preset_data, 0, &jerr)) == NULL ||
	    !json_is_array(a))
		fatalx("data/presets.json: line %d: %s", jerr.line, jerr.text);
	return (a);
}

/* Every preset: {"items": [...], "next": null}, as list commands give. */
json_t *
preset_list(void)
{
	return (jx_items(preset_load()));
}

static int
preset_matches(json_t *p, const char *name)
{
	json_t	*alias;
	size_t	 i;

	if (jx_str(p, "id") != NULL && strcasecmp(jx_str(p, "id"), name) == 0)
		return (1);
	json_array_foreach(json_object_get(p, "aliases"), i, alias)
		if (json_is_string(alias) &&
		    strcasecmp(json_string_value(alias), name) == 0)
			return (1);
	return (0);
}

/* The preset whose id or alias is name (any case); owned, or NULL. */
json_t *
preset_find(const char *name)
{
	json_t	*all, *p, *found = NULL;
	size_t	 i;

	all = preset_load();
	json_array_foreach(all, i, p) {
		if (preset_matches(p, name)) {
			found = json_incref(p);
			break;
		}
	}
	json_decref(all);
	return (found);
}

/* "deepseek, moonshot, ..." for messages; owned. */
char *
preset_names(void)
{
	struct buf	 b;
	json_t		*all, *p;
	size_t		 i;
	char		*s;

	buf_init(&b, 64 * 1024);
	all = preset_load();
	json_array_foreach(all, i, p) {
		if (i > 0)
			buf_addstr(&b, ", ");
		buf_addstr(&b, jx_str(p, "id") != NULL ? jx_str(p, "id") : "?");
	}
	json_decref(all);
	s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return (s);
}
