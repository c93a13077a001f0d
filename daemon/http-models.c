/*
 * GET /v1/models: the models that can be served now and that the key's
 * patterns allow, in OpenAI's shape, or Anthropic's when the client sent
 * anthropic-version or x-api-key.
 */
#include "config.h"

#include <time.h>

#include <civetweb.h>
#include <jansson.h>

#include "daemon.h"
#include "modelpat.h"
#include "snapshot.h"

int
http_models(struct mg_connection *conn, __unused void *arg)
{
	struct snapshot		*snap = snapshot_get();
	const struct snap_key	*k;
	const struct snap_model	*m;
	json_t			*data, *o;
	char			 stamp[32];
	time_t			 t;
	struct tm		 tm;
	size_t			 i;
	int			 claude = http_is_claude(conn);

	if (http_auth(conn, snap, &k) != 0) {
		snapshot_put(snap);
		return (401);
	}
	data = json_array();
	for (i = 0; i < snap->nmodels; i++) {
		m = &snap->models[i];
		if (!modelpat_match(k->models, m->name))
			continue;
		if (claude) {
			t = (time_t)m->created;
			gmtime_r(&t, &tm);
			strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_array_append_new(data, json_pack("{s:s, s:s, s:s, "
			    "s:s}", "id", m->name, "type", "model",
			    "display_name", m->name, "created_at", stamp));
		} else
			json_array_append_new(data, json_pack("{s:s, s:s, s:I, "
			    "s:s}", "id", m->name, "object", "model", "created",
			    (json_int_t)m->created, "owned_by", m->owned_by));
	}
	if (claude)
		o = json_pack("{s:o, s:b, s:O?, s:O?}", "data", data,
		    "has_more", 0, "first_id", json_object_get(
		    json_array_get(data, 0), "id"), "last_id",
		    json_object_get(json_array_get(data,
		    json_array_size(data) - 1), "id"));
	else
		o = json_pack("{s:s, s:o}", "object", "list", "data", data);
	snapshot_put(snap);
	http_send_json(conn, 200, o);
	json_decref(o);
	return (200);
}
