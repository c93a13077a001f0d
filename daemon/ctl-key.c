/* key.* commands: downstream keys, over src/apikey.c. */
#include "config.h"

#include <jansson.h>

#include "apikey.h"
#include "daemon.h"
#include "jx.h"

static long long
ctl_key_id(struct ctl_req *req)
{
	long long	id = 0;

	jx_int(req->args, "id", &id);
	return (id);
}

static enum ctl_ret
ctl_key_done(json_t **reply, json_t *o)
{
	*reply = o;
	return (o != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_key_add(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_key_done(reply, apikey_add(metapid->db, req->args, e)));
}

enum ctl_ret
ctl_key_list(__unused struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_key_done(reply, apikey_list(metapid->db, e)));
}

enum ctl_ret
ctl_key_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_key_done(reply, apikey_get(metapid->db, ctl_key_id(req),
	    e)));
}

enum ctl_ret
ctl_key_reveal(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_key_done(reply, apikey_reveal(metapid->db,
	    ctl_key_id(req), e)));
}

enum ctl_ret
ctl_key_rm(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	 id = ctl_key_id(req);
	json_t		*o;

	if ((o = apikey_get(metapid->db, id, e)) == NULL)
		return (CTL_ERROR);
	if (apikey_rm(metapid->db, id, e) != 0) {
		json_decref(o);
		return (CTL_ERROR);
	}
	json_object_set_new(o, "removed", json_true());
	return (ctl_key_done(reply, o));
}

enum ctl_ret
ctl_key_enable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_key_done(reply, apikey_set_enabled(metapid->db,
	    ctl_key_id(req), 1, e)));
}

enum ctl_ret
ctl_key_disable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_key_done(reply, apikey_set_enabled(metapid->db,
	    ctl_key_id(req), 0, e)));
}

enum ctl_ret
ctl_key_rotate(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_key_done(reply, apikey_rotate(metapid->db,
	    ctl_key_id(req), e)));
}
