/* site.* commands: thin wrappers over src/site.c. */
#include "config.h"

#include <jansson.h>

#include "daemon.h"
#include "jx.h"
#include "site.h"

static int
ctl_site_id(struct ctl_req *req, long long *id, struct err *e)
{
	return (site_resolve(metapid->db, jx_str(req->args, "site"), id, e));
}

enum ctl_ret
ctl_site_add(struct ctl_req *req, json_t **reply, struct err *e)
{
	*reply = site_add(metapid->db, req->args, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_list(struct ctl_req *req, json_t **reply, struct err *e)
{
	*reply = site_list(metapid->db, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_show(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id;

	if (ctl_site_id(req, &id, e) != 0)
		return (CTL_ERROR);
	*reply = site_get(metapid->db, id, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_edit(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id;
	json_t		*changes;

	if (ctl_site_id(req, &id, e) != 0)
		return (CTL_ERROR);
	changes = json_deep_copy(req->args);
	json_object_del(changes, "site");
	*reply = site_edit(metapid->db, id, changes, e);
	json_decref(changes);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_rm(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	id;

	if (ctl_site_id(req, &id, e) != 0 ||
	    (*reply = site_get(metapid->db, id, e)) == NULL)
		return (CTL_ERROR);
	if (site_rm(metapid->db, id, e) != 0) {
		json_decref(*reply);
		*reply = NULL;
		return (CTL_ERROR);
	}
	json_object_set_new(*reply, "removed", json_true());
	return (CTL_DONE);
}

static enum ctl_ret
ctl_site_switch(struct ctl_req *req, json_t **reply, struct err *e, int on)
{
	long long	id;

	if (ctl_site_id(req, &id, e) != 0)
		return (CTL_ERROR);
	*reply = site_set_enabled(metapid->db, id, on, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}

enum ctl_ret
ctl_site_enable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_site_switch(req, reply, e, 1));
}

enum ctl_ret
ctl_site_disable(struct ctl_req *req, json_t **reply, struct err *e)
{
	return (ctl_site_switch(req, reply, e, 0));
}
