/*
 * settings.* commands. A change is validated, stored, and then the
 * daemon's loaded settings are replaced, so it takes effect at once
 * (except settings marked restart).
 */
#include "config.h"

#include <stdlib.h>

#include <jansson.h>

#include "daemon.h"
#include "jx.h"
#include "setting.h"

enum ctl_ret
ctl_settings_list(__unused struct ctl_req *req, json_t **reply,
    __unused struct err *e)
{
	json_t	*items;
	size_t	 i;

	items = json_array();
	for (i = 0; i < setting_table_count; i++)
		json_array_append_new(items, setting_entry_json(
		    &setting_table[i], metapid->settings->values[i]));
	*reply = jx_items(items);
	return (CTL_DONE);
}

enum ctl_ret
ctl_settings_get(struct ctl_req *req, json_t **reply, struct err *e)
{
	const struct setting_entry	*s;
	const char			*key = jx_str(req->args, "key");

	if ((s = setting_find(key)) == NULL) {
		err_set(e, ERR_NOT_FOUND, "unknown setting \"%s\" (see metapi "
		    "settings list)", key);
		return (CTL_ERROR);
	}
	*reply = setting_entry_json(s, settings_str(metapid->settings, key));
	return (CTL_DONE);
}

enum ctl_ret
ctl_settings_set(struct ctl_req *req, json_t **reply, struct err *e)
{
	const struct setting_entry	*s;
	const char			*key = jx_str(req->args, "key");
	char				*norm, *cause;

	if ((s = setting_find(key)) == NULL) {
		err_set(e, ERR_NOT_FOUND, "unknown setting \"%s\" (see metapi "
		    "settings list)", key);
		return (CTL_ERROR);
	}
	if (setting_validate(s, jx_str(req->args, "value"), &norm,
	    &cause) != 0) {
		err_set(e, ERR_INVALID, "%s", cause);
		free(cause);
		return (CTL_ERROR);
	}
	if (setting_store(metapid->db, s, norm, &cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		free(norm);
		return (CTL_ERROR);
	}
	free(norm);
	if (metapid_reload(&cause) != 0) {
		err_set(e, ERR_STORAGE, "%s", cause);
		free(cause);
		return (CTL_ERROR);
	}
	*reply = setting_entry_json(s, settings_str(metapid->settings, key));
	return (CTL_DONE);
}
