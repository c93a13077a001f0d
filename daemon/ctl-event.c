/* event.list: the event log, newest first, paged by id. */
#include "config.h"

#include <jansson.h>

#include "daemon.h"
#include "err.h"
#include "event.h"
#include "jx.h"

enum ctl_ret
ctl_event_list(struct ctl_req *req, json_t **reply, struct err *e)
{
	long long	limit = 50, before = 0;

	if (jx_int(req->args, "limit", &limit) == 0 && (limit < 1 ||
	    limit > 1000)) {
		err_set(e, ERR_INVALID, "--limit must be from 1 to 1000");
		return (CTL_ERROR);
	}
	jx_int(req->args, "before", &before);
	*reply = event_list(metapid->db, limit, before, e);
	return (*reply != NULL ? CTL_DONE : CTL_ERROR);
}
