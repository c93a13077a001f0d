/*
 * Fuzz the reading of foreign backup files (a user imports whatever file
 * they have): the input is parsed as JSON, its format recognised
 * (backup_detect) and, for the Node metapi's and ALL-API-Hub's formats,
 * converted into a metapi backup document (backup_convert). Invariants:
 * a conversion gives a metapi-backup document whose sections are lists
 * of objects and whose settings are an object, and every warning is a
 * string; what could not be converted is a warning, never a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backup.h"
#include "err.h"
#include "jx.h"

#include "fuzz.h"

static const char *const fb_sections[] = { "sites", "accounts", "tokens",
    "models", "routes", "channels", "keys", "notify" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct err	 e = { ERR_OK, NULL };
	json_t		*raw, *doc, *warnings, *items, *v;
	const char	*fmt;
	size_t		 i, j;

	if ((raw = json_loadb((const char *)data, len, JSON_DECODE_ANY,
	    NULL)) == NULL)
		return (0);
	if ((fmt = backup_detect(raw)) == NULL || strcmp(fmt, "metapi") == 0) {
		json_decref(raw);
		return (0);
	}
	warnings = json_array();
	doc = backup_convert(raw, fmt, warnings, &e);
	FUZZ_CHECK(doc != NULL);
	FUZZ_CHECK(strcmp(jx_str(doc, "format"), BACKUP_FORMAT) == 0);
	for (i = 0; i < sizeof fb_sections / sizeof fb_sections[0]; i++) {
		items = json_object_get(doc, fb_sections[i]);
		FUZZ_CHECK(json_is_array(items));
		json_array_foreach(items, j, v)
			FUZZ_CHECK(json_is_object(v));
	}
	FUZZ_CHECK(json_is_object(json_object_get(doc, "settings")));
	json_array_foreach(warnings, j, v)
		FUZZ_CHECK(json_is_string(v));
	backup_wipe(doc);
	json_decref(doc);
	json_decref(warnings);
	json_decref(raw);
	err_clear(&e);
	return (0);
}
